/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checkpoints (SPEC 5): C2SP tlog-checkpoint signed notes,
 *
 *   <origin>/<chain>\n<size>\n<base64 root>\n\n
 *   \u2014 <origin>/<chain> <base64(keyhash[4] || sig[64])>\n
 *
 * with Ed25519 (algorithm byte 0x01) and key hash
 * SHA-256(name || 0x0A || 0x01 || pub)[0:4].  Parsing keeps every
 * signature line; verification tries each one whose name and key hash
 * match the offered key, and ignores the rest.
 */
#ifndef RCPT_SRC_CHECKPOINT_H
#define RCPT_SRC_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "merkle.h"
#include "signer.h"

#define RCPT_CHECKPOINT_MAX_SIGS  64 /* lines accepted; SPEC asks >= 16 */
#define RCPT_CHECKPOINT_MAX_BYTES 16384

struct rcpt_checkpoint_sig {
	char name[266]; /* key name on the line */
	uint8_t keyhash[4];
	uint8_t sig[RCPT_ED25519_SIG_LEN];
	int is_ed25519; /* 1 when the blob is 4 + 64 bytes */
};

/** A parsed checkpoint; init with {0}, release with _clear(). */
struct rcpt_checkpoint {
	char origin[201];
	char chain[65];
	uint64_t size;
	uint8_t root[RCPT_HASH_LEN];
	char *body; /* signed text: first three lines and their \n */
	size_t body_len;
	struct rcpt_checkpoint_sig sigs[RCPT_CHECKPOINT_MAX_SIGS];
	size_t nsigs;
};

/** 1 when @p origin is 1-200 bytes of [A-Za-z0-9._~:/-]. */
int rcpt_checkpoint_origin_is_valid(const char *origin);

/** The 4-byte key hash of @p pub for key name "<origin>/<chain>". */
int rcpt_checkpoint_keyhash(const char *origin, const char *chain,
    const uint8_t pub[RCPT_ED25519_PUB_LEN], uint8_t out[4]) RCPT_MUST_CHECK;

/**
 * Signs @p len bytes at @p msg under @p kid.  A note's signature covers
 * its whole body, which is longer than the 32 bytes struct rcpt_signer
 * signs, so checkpoints need this wider call.
 */
typedef int (*rcpt_checkpoint_sign_fn)(void *ctx, const char *kid,
    const uint8_t *msg, size_t len, uint8_t sig_out[RCPT_ED25519_SIG_LEN]);

/**
 * Makes a checkpoint and signs it with @p fn (@p ctx and @p kid are
 * passed through), then checks the signature under @p pub before
 * handing the note out.
 * @param[out] note_out NUL-terminated; caller frees with free().
 * @return RCPT_OK, RCPT_E_INVAL (bad origin or chain, NULL argument),
 * the signer's error, RCPT_E_KEY_UNAVAILABLE (the signature does not
 * verify under @p pub), RCPT_E_NOMEM.
 */
int rcpt_checkpoint_sign_with(const char *origin, const char *chain,
    uint64_t size, const uint8_t root[RCPT_HASH_LEN],
    rcpt_checkpoint_sign_fn fn, void *ctx, const char *kid,
    const uint8_t pub[RCPT_ED25519_PUB_LEN], char **note_out) RCPT_MUST_CHECK;

/**
 * Makes and signs a checkpoint with @p s through its sign_msg call.
 * @param[out] note_out NUL-terminated; caller frees with free().
 * @return as rcpt_checkpoint_sign_with(), or RCPT_E_INVAL when @p s
 * has no sign_msg.
 */
int rcpt_checkpoint_sign(const char *origin, const char *chain, uint64_t size,
    const uint8_t root[RCPT_HASH_LEN], const struct rcpt_signer *s,
    char **note_out) RCPT_MUST_CHECK;

/**
 * Parses @p note strictly: no extension lines, decimal size without
 * leading zeros, 32-byte root, 1 to RCPT_CHECKPOINT_MAX_SIGS well-formed
 * signature lines ("\u2014 <name> <base64 of >= 5 bytes>"), nothing
 * after the last one.  Overwrites *@p out without freeing it.
 * @param[out] out caller releases with rcpt_checkpoint_clear(); cleared
 * on failure.
 * @return RCPT_OK; RCPT_E_PARSE (note grammar) or RCPT_E_INVAL (origin
 * or chain name rule) with @p diag; RCPT_E_TOO_LARGE (bytes or lines);
 * RCPT_E_NOMEM.
 */
int rcpt_checkpoint_parse(const char *note, size_t len,
    struct rcpt_checkpoint *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Checks that some signature line of @p cp whose name is the key name
 * and whose key hash is that of @p pub verifies under @p pub.
 * @return RCPT_OK, RCPT_E_BAD_SIGNATURE when none does, RCPT_E_INVAL
 * for a NULL or unparsed @p cp.
 */
int rcpt_checkpoint_verify(const struct rcpt_checkpoint *cp,
    const uint8_t pub[RCPT_ED25519_PUB_LEN]) RCPT_MUST_CHECK;

/** Releases what @p cp owns; accepts a zeroed struct. */
void rcpt_checkpoint_clear(struct rcpt_checkpoint *cp);

#endif
