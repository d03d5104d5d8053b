/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Proof documents (SPEC 5): an inclusion proof ties one receipt's
 * entry_hash to a signed checkpoint, a consistency proof ties two
 * checkpoints of one chain together.  This module parses them strictly,
 * writes them as JCS, builds them from a leaf callback and a checkpoint
 * note, and verifies them against a set of trusted keys.
 *
 * It does not decide which keys deserve trust: the caller hands in the
 * keys (SPEC 8's sources); this module only skips revoked ones and keys
 * of other chains.
 */
#ifndef RCPT_SRC_PROOF_H
#define RCPT_SRC_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "jwk.h"
#include "merkle.h"

#define RCPT_PROOF_MAX_BYTES 262144 /* longest proof text accepted */

enum rcpt_proof_kind {
	RCPT_PROOF_NONE = 0,
	RCPT_PROOF_INCLUSION = 1,
	RCPT_PROOF_CONSISTENCY = 2
};

/** An inclusion proof; init with {0}, release with _clear(). */
struct rcpt_inclusion_proof {
	char chain[65];
	uint64_t seq;
	uint64_t tree_size;
	uint8_t entry_hash[RCPT_HASH_LEN];
	uint8_t path[RCPT_MERKLE_MAX_PATH][RCPT_HASH_LEN]; /* leaf upwards */
	size_t path_len;
	char *checkpoint; /* owned note text, NUL-terminated */
};

/** A consistency proof; init with {0}, release with _clear(). */
struct rcpt_consistency_proof {
	char chain[65];
	uint64_t old_size;
	uint64_t new_size;
	uint8_t path[RCPT_MERKLE_MAX_PATH][RCPT_HASH_LEN];
	size_t path_len;
	char *old_checkpoint; /* owned note text */
	char *new_checkpoint; /* owned note text */
};

/* Lifecycle */

/** Frees what @p p owns and zeroes it; accepts NULL and zeroed structs. */
void rcpt_proof_inclusion_clear(struct rcpt_inclusion_proof *p);
/** Frees what @p p owns and zeroes it; accepts NULL and zeroed structs. */
void rcpt_proof_consistency_clear(struct rcpt_consistency_proof *p);

/* Parsing and writing */

/**
 * Tells the kind of a parsed proof document by its note members:
 * "checkpoint" for inclusion, "old_checkpoint"/"new_checkpoint" for
 * consistency.  The strict parsers then check everything else.
 * @param[in] doc borrowed.
 * @return RCPT_PROOF_NONE when neither or both kinds' members appear,
 * or @p doc is not an object.
 */
enum rcpt_proof_kind rcpt_proof_detect(const json_object *doc);

/**
 * Parses an inclusion proof: exactly its six members, chain name rule,
 * integers up to 2^53 with seq < tree_size, lowercase 64-hex hashes, at
 * most RCPT_MERKLE_MAX_PATH path items, notes without NUL.
 * @param[out] out overwritten (pass a zeroed or cleared struct); on
 * success the caller clears it with rcpt_proof_inclusion_clear().
 * @return RCPT_OK; RCPT_E_PARSE (not JSON); RCPT_E_INVAL (a rule broken,
 * diag names the member); RCPT_E_TOO_LARGE; RCPT_E_NOMEM.
 */
int rcpt_proof_inclusion_parse(const char *text, size_t len,
    struct rcpt_inclusion_proof *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Parses a consistency proof: exactly its six members, 1 <= old_size <=
 * new_size, otherwise as rcpt_proof_inclusion_parse().
 */
int rcpt_proof_consistency_parse(const char *text, size_t len,
    struct rcpt_consistency_proof *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Writes @p p as JCS (no trailing newline).
 * @param[out] out NUL-terminated; caller frees with free().
 * @return RCPT_OK, RCPT_E_INVAL (@p p breaks a parse rule), RCPT_E_NOMEM.
 */
int rcpt_proof_inclusion_serialize(const struct rcpt_inclusion_proof *p,
    char **out, size_t *len_out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Writes @p p as JCS; as rcpt_proof_inclusion_serialize(). */
int rcpt_proof_consistency_serialize(const struct rcpt_consistency_proof *p,
    char **out, size_t *len_out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/* Building */

/**
 * Builds the inclusion proof of receipt @p seq of @p chain in the
 * checkpoint @p note, whose size becomes tree_size.  @p fn serves the
 * chain's leaf hashes (about tree_size calls, see merkle.h).  The
 * result is checked against the note's root before it is handed out;
 * the note's signature is not checked.
 * @param[in] note borrowed; copied into @p out.
 * @param[out] out overwritten; caller clears it on success.
 * @return RCPT_OK; RCPT_E_INVAL (bad chain, seq not below the note's
 * size, chain differs from the note's); the note's parse error;
 * RCPT_E_PROOF when leaves, entry_hash and note do not agree; @p fn's
 * error; RCPT_E_NOMEM.
 */
int rcpt_proof_inclusion_build(rcpt_merkle_leaf_fn fn, void *ctx,
    const char *chain, uint64_t seq, const uint8_t entry_hash[RCPT_HASH_LEN],
    const char *note, struct rcpt_inclusion_proof *out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Builds the consistency proof between checkpoint notes @p old_note and
 * @p new_note of @p chain (sizes taken from the notes), checked against
 * both roots before it is handed out.
 * @return as rcpt_proof_inclusion_build(); RCPT_E_INVAL also when the
 * old size is 0 or above the new one.
 */
int rcpt_proof_consistency_build(rcpt_merkle_leaf_fn fn, void *ctx,
    const char *chain, const char *old_note, const char *new_note,
    struct rcpt_consistency_proof *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/* Verifying */

/**
 * Verifies @p p: its checkpoint must parse, name the proof's chain and
 * tree_size, and carry a valid signature by a key of @p keys that
 * serves that chain and is not revoked; then the path must lead from
 * SHA-256(0x00 || entry_hash) to the checkpoint's root.
 * @param[in] keys borrowed; the caller decides where they come from.
 * @return RCPT_OK; RCPT_E_INVAL / RCPT_E_PARSE (malformed proof or note,
 * or proof and note disagree); RCPT_E_BAD_SIGNATURE (no trusted
 * signature); RCPT_E_PROOF (path fails); RCPT_E_NOMEM.  @p diag says
 * which member.
 */
int rcpt_proof_verify_inclusion(const struct rcpt_inclusion_proof *p,
    const struct rcpt_jwks *keys, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Verifies @p p: both checkpoints as in rcpt_proof_verify_inclusion()
 * (same origin, sizes old_size and new_size, each signed by a trusted
 * key), then the RFC 9162 2.1.4.2 path between their roots.
 * @return as rcpt_proof_verify_inclusion().
 */
int rcpt_proof_verify_consistency(const struct rcpt_consistency_proof *p,
    const struct rcpt_jwks *keys, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Parses a proof text of either kind and verifies it (what
 * `receiptctl verify-proof` does).
 * @param[out] kind_out optional: the kind found, RCPT_PROOF_NONE when
 * none could be told.
 * @return as the parsers and verifiers; RCPT_E_INVAL when the kind
 * cannot be told.
 */
int rcpt_proof_verify_text(const char *text, size_t len,
    const struct rcpt_jwks *keys, int *kind_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

#endif
