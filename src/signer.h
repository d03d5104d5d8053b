/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The small interface through which receipts, checkpoints and manifests
 * are signed.  The format code never sees a private key: it hands a kid
 * and 32 bytes to whatever implements this (the development software
 * key here, the keystore and its PKCS#11 provider in the daemon).
 */
#ifndef RCPT_SRC_SIGNER_H
#define RCPT_SRC_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "ed25519.h"
#include "jwk.h"

struct rcpt_signer {
	void *ctx; /* borrowed by the signer's owner */
	/** Signs 32 bytes with the key @p kid; RCPT_E_KEY_UNAVAILABLE etc. */
	int (*sign)(void *ctx, const char *kid, const uint8_t msg[32],
	    uint8_t sig_out[RCPT_ED25519_SIG_LEN]);
	/**
	 * Signs a message of any length (checkpoint notes sign their body
	 * text, C2SP signed-note); same errors as @p sign.
	 */
	int (*sign_msg)(void *ctx, const char *kid, const uint8_t *msg,
	    size_t len, uint8_t sig_out[RCPT_ED25519_SIG_LEN]);
	char kid[RCPT_KID_LEN + 1];        /* the key it signs with now */
	uint8_t pub[RCPT_ED25519_PUB_LEN]; /* that key's public half */
};

#endif
