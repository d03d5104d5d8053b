/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The development software key: a 32-byte Ed25519 seed in a file of mode
 * 0600, for demos and tests only.  Production keys live in a PKCS#11
 * token.  The file format is one line "receiptd-softkey-v1 <b64url seed>".
 * Files are created with O_EXCL and never overwritten; a file readable by
 * group or others, or not a regular file, is refused.  The seed is held
 * in locked memory and wiped on close.
 */
#ifndef RCPT_SRC_SOFTKEY_H
#define RCPT_SRC_SOFTKEY_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "signer.h"

struct rcpt_softkey;

/**
 * Creates a new key file at @p path from fresh random bytes, mode 0600,
 * synced with its directory.  A file that could not be completed is
 * removed again.
 * @return RCPT_OK, RCPT_E_EXISTS when @p path exists (even as a dangling
 * symbolic link), RCPT_E_IO, RCPT_E_INVAL (empty path), RCPT_E_NOMEM,
 * RCPT_E_INTERNAL (no randomness).
 */
int rcpt_softkey_generate(
    const char *path, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Opens the key at @p path.
 * @param[out] out caller closes with rcpt_softkey_close().
 * @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_IO, RCPT_E_DENIED (mode or
 * type wrong, a symbolic link, no permission), RCPT_E_PARSE (bad
 * contents), RCPT_E_INVAL (empty path), RCPT_E_NOMEM.
 */
int rcpt_softkey_open(const char *path, struct rcpt_softkey **out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Same as opening a file holding @p seed; for golden tests.  The caller
 * wipes its @p seed.
 * @param[out] out caller closes with rcpt_softkey_close().
 * @return RCPT_OK, RCPT_E_INVAL (NULL seed), RCPT_E_NOMEM,
 * RCPT_E_INTERNAL.
 */
int rcpt_softkey_from_seed(const uint8_t seed[RCPT_ED25519_SEED_LEN],
    struct rcpt_softkey **out) RCPT_MUST_CHECK;

/**
 * Fills @p s so that it signs with this key.  @p s borrows @p k, which
 * must outlive it.
 */
void rcpt_softkey_signer(struct rcpt_softkey *k, struct rcpt_signer *s);

/**
 * Signs @p len bytes at @p msg with the key @p ctx (a struct
 * rcpt_softkey *) if @p kid is its kid.  Has the shape of
 * rcpt_checkpoint_sign_fn, for messages that are not 32 bytes (a
 * checkpoint body).
 * @return RCPT_OK, RCPT_E_KEY_UNAVAILABLE (another kid), RCPT_E_INTERNAL.
 */
int rcpt_softkey_sign_msg(void *ctx, const char *kid, const uint8_t *msg,
    size_t len, uint8_t sig_out[RCPT_ED25519_SIG_LEN]) RCPT_MUST_CHECK;

/** The key's kid; borrowed, valid until rcpt_softkey_close(). */
const char *rcpt_softkey_kid(const struct rcpt_softkey *k);

/** The key's 32-byte public key; borrowed like rcpt_softkey_kid(). */
const uint8_t *rcpt_softkey_public(const struct rcpt_softkey *k);

/** Wipes and frees; accepts NULL. */
void rcpt_softkey_close(struct rcpt_softkey *k);

#endif
