/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pure Ed25519 (RFC 8032).  Signing and key derivation go through
 * OpenSSL EVP, verification through libsodium.  Verification is strict
 * (SPEC 3): S >= L, non-canonical encodings and small-order A or R are
 * refused on the encodings before libsodium is asked, so every
 * Wycheproof "invalid" case fails whatever the libsodium version.  This
 * module does not hash receipts (OpenSSL's SHA-256 does, elsewhere).
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
 * Initialises libsodium once per process (pthread_once); later calls
 * return the first call's result.  Verification calls it itself, so
 * only a program that must do it at a chosen time needs it: the daemon,
 * before its seccomp filter forbids what libsodium opens at start.
 * Thread-safe.
 * @return RCPT_OK, RCPT_E_INTERNAL when sodium_init() failed.
 */
int rcpt_ed25519_init(void) RCPT_MUST_CHECK;

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
 * RCPT_E_INTERNAL when libsodium could not be initialised.
 */
int rcpt_ed25519_verify(const uint8_t pub[RCPT_ED25519_PUB_LEN],
    const uint8_t *msg, size_t len,
    const uint8_t sig[RCPT_ED25519_SIG_LEN]) RCPT_MUST_CHECK;

/** 1 when @p pub is a canonical encoding of a point not of small order. */
int rcpt_ed25519_pub_is_acceptable(const uint8_t pub[RCPT_ED25519_PUB_LEN]);

/**
 * A verification context: one public key, judged acceptable or not once,
 * so repeated checks under it skip that.  Not shared between threads.
 */
struct rcpt_ed25519_vctx;

/**
 * Makes a context for @p pub.  A key that rcpt_ed25519_pub_is_acceptable()
 * refuses still gives a context, whose every check then fails.
 * @param[out] out caller frees with rcpt_ed25519_vctx_free().
 * @return RCPT_OK, RCPT_E_NOMEM, RCPT_E_INTERNAL when libsodium could
 * not be initialised.
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
