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

#define RCPT_CHECKPOINT_MAX_SIGS  64  /* lines accepted; SPEC asks >= 16 */
#define RCPT_CHECKPOINT_MAX_BYTES 16384

struct rcpt_checkpoint_sig {
	char name[266];	   /* key name on the line */
	uint8_t keyhash[4];
	uint8_t sig[RCPT_ED25519_SIG_LEN];
	int is_ed25519;	   /* 1 when the blob is 4 + 64 bytes */
};

/** A parsed checkpoint; init with {0}, release with _clear(). */
struct rcpt_checkpoint {
	char origin[201];
	char chain[65];
	uint64_t size;
	uint8_t root[RCPT_HASH_LEN];
	char *body;	 /* signed text: first three lines and their \n */
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
 * Makes and signs a checkpoint with @p s.
 * @param[out] note_out NUL-terminated; caller frees with free().
 * @return RCPT_OK, RCPT_E_INVAL (bad origin or chain), the signer's
 * error, RCPT_E_NOMEM.
 */
int rcpt_checkpoint_sign(const char *origin, const char *chain, uint64_t size,
    const uint8_t root[RCPT_HASH_LEN], const struct rcpt_signer *s,
    char **note_out) RCPT_MUST_CHECK;

/**
 * Parses @p note strictly: no extension lines, decimal size without
 * leading zeros, 32-byte root, well-formed signature lines.
 * @return RCPT_OK, RCPT_E_PARSE / RCPT_E_INVAL with @p diag,
 * RCPT_E_TOO_LARGE, RCPT_E_NOMEM.
 */
int rcpt_checkpoint_parse(const char *note, size_t len,
    struct rcpt_checkpoint *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Checks that some signature line of @p cp verifies under @p pub.
 * @return RCPT_OK, or RCPT_E_BAD_SIGNATURE when none does.
 */
int rcpt_checkpoint_verify(const struct rcpt_checkpoint *cp,
    const uint8_t pub[RCPT_ED25519_PUB_LEN]) RCPT_MUST_CHECK;

/** Releases what @p cp owns; accepts a zeroed struct. */
void rcpt_checkpoint_clear(struct rcpt_checkpoint *cp);

#endif
