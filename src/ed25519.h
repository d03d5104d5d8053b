/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pure Ed25519 (RFC 8032) through OpenSSL EVP.  Verification is strict
 * (SPEC 3): S >= L, non-canonical encodings and small-order A or R are
 * refused, so every Wycheproof "invalid" case fails.  OpenSSL 3 checks
 * S and canonical R itself; the small-order and non-canonical A checks
 * are done here before OpenSSL is asked.
 */
#ifndef RCPT_SRC_ED25519_H
#define RCPT_SRC_ED25519_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RCPT_ED25519_PUB_LEN  32
#define RCPT_ED25519_SEED_LEN 32
#define RCPT_ED25519_SIG_LEN  64

/**
 * Derives the public key of a 32-byte seed.
 * @return RCPT_OK, RCPT_E_INTERNAL if OpenSSL fails.
 */
int rcpt_ed25519_public(const uint8_t seed[RCPT_ED25519_SEED_LEN],
    uint8_t pub_out[RCPT_ED25519_PUB_LEN]) RCPT_MUST_CHECK;

/**
 * Signs @p msg with the key whose seed is @p seed.  The caller wipes
 * @p seed.
 * @return RCPT_OK, RCPT_E_INTERNAL.
 */
int rcpt_ed25519_sign(const uint8_t seed[RCPT_ED25519_SEED_LEN],
    const uint8_t *msg, size_t len,
    uint8_t sig_out[RCPT_ED25519_SIG_LEN]) RCPT_MUST_CHECK;

/**
 * Verifies @p sig over @p msg under @p pub, strictly.  Thread-safe.
 * @return RCPT_OK, RCPT_E_BAD_SIGNATURE (including a bad key), or
 * RCPT_E_NOMEM / RCPT_E_INTERNAL when OpenSSL could not run.
 */
int rcpt_ed25519_verify(const uint8_t pub[RCPT_ED25519_PUB_LEN],
    const uint8_t *msg, size_t len,
    const uint8_t sig[RCPT_ED25519_SIG_LEN]) RCPT_MUST_CHECK;

/** 1 when @p pub is a canonical encoding of a point not of small order. */
int rcpt_ed25519_pub_is_acceptable(const uint8_t pub[RCPT_ED25519_PUB_LEN]);

/**
 * A verification context that keeps the parsed OpenSSL key so repeated
 * checks under one key skip the decoding.  Not shared between threads.
 */
struct rcpt_ed25519_vctx;

/**
 * Makes a context for @p pub.  A key that rcpt_ed25519_pub_is_acceptable()
 * refuses still gives a context, whose every check then fails.
 * @param[out] out caller frees with rcpt_ed25519_vctx_free().
 * @return RCPT_OK, RCPT_E_NOMEM.
 */
int rcpt_ed25519_vctx_new(const uint8_t pub[RCPT_ED25519_PUB_LEN],
    struct rcpt_ed25519_vctx **out) RCPT_MUST_CHECK;
/**
 * Same result as rcpt_ed25519_verify under the context's key; allocates
 * nothing of its own.  RCPT_E_INVAL when @p c is NULL.
 */
int rcpt_ed25519_vctx_verify(struct rcpt_ed25519_vctx *c, const uint8_t *msg,
    size_t len, const uint8_t sig[RCPT_ED25519_SIG_LEN]) RCPT_MUST_CHECK;
/** Accepts NULL. */
void rcpt_ed25519_vctx_free(struct rcpt_ed25519_vctx *c);

#endif
