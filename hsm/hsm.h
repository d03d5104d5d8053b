/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PKCS#11 access for receiptd: loads a module through p11-kit (by path or
 * by p11-kit module name), finds the token by RFC 7512 URI, logs in with
 * a PIN read from a pin-source file, and generates, finds and signs with
 * Ed25519 keys that never leave the token (CKM_EC_EDWARDS_KEY_PAIR_GEN,
 * CKM_EDDSA; CKA_SENSITIVE, not extractable).  It also keeps small
 * CKO_DATA objects (the anti-rollback anchor, SPEC 5).
 *
 * Sessions come from a pool, one per worker, and object handles are
 * cached.  When the token goes away (CKR_SESSION_HANDLE_INVALID,
 * CKR_TOKEN_NOT_PRESENT, CKR_DEVICE_REMOVED, ...) the failing call returns
 * RCPT_E_KEY_UNAVAILABLE with the CKR name and slot in the diag, and the
 * next call reopens lazily: no crash, no retry loop.
 *
 * This module knows nothing of receipts.  CK_RV values never leave it.
 */
#ifndef RCPT_HSM_HSM_H
#define RCPT_HSM_HSM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "src/err.h"

#define RCPT_HSM_PUB_LEN      32
#define RCPT_HSM_SIG_LEN      64
#define RCPT_HSM_LABEL_MAX    64 /* bytes of CKA_LABEL we use (a kid is 43) */
#define RCPT_HSM_SESSIONS_MAX 64
#define RCPT_HSM_DATA_MAX     4096 /* bytes of a CKO_DATA value */

struct rcpt_hsm;

struct rcpt_hsm_config {
	const char *module; /* absolute .so path, or p11-kit name "softhsm2" */
	const char *token_uri; /* RFC 7512, e.g. "pkcs11:token=receiptd" */
	const char *pin_file; /* pin-source file: mode 0400/0600, owner below */
	uid_t pin_owner;      /* required owner of pin_file */
	int sessions;         /* pool size, 1..RCPT_HSM_SESSIONS_MAX */
};

/**
 * Loads the module, finds the token, opens the session pool and logs in.
 * The PIN is read into one fixed buffer and wiped right after C_Login.
 * It comes from cfg->pin_file or, when that is NULL, from the URI's
 * pin-source (an absolute path or a file: URI); cfg->pin_file wins when
 * both are given.  A URI pin-value and unknown URI attributes are
 * refused.  The PIN file is read again whenever the pool is reopened.
 * @param[out] out caller closes with rcpt_hsm_close().
 * @return RCPT_OK; RCPT_E_CONFIG (bad URI, module not found, pin file
 * wrong owner or mode); RCPT_E_NOT_FOUND (no token matches);
 * RCPT_E_DENIED (wrong PIN, locked); RCPT_E_KEY_UNAVAILABLE (other token
 * failure, CKR name in @p diag); RCPT_E_NOMEM.
 */
int rcpt_hsm_open(const struct rcpt_hsm_config *cfg, struct rcpt_hsm **out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Logs out, closes sessions, finalizes the module; accepts NULL. */
void rcpt_hsm_close(struct rcpt_hsm *h);

/**
 * Generates an Ed25519 key pair on the token with CKA_LABEL @p label and
 * CKA_ID the bytes of @p label.  Private key: CKA_TOKEN, CKA_PRIVATE,
 * CKA_SENSITIVE, CKA_SIGN true; CKA_EXTRACTABLE false.
 * @return RCPT_OK, RCPT_E_EXISTS (label taken), RCPT_E_INVAL,
 * RCPT_E_KEY_UNAVAILABLE.
 */
int rcpt_hsm_generate(struct rcpt_hsm *h, const char *label,
    uint8_t pub_out[RCPT_HSM_PUB_LEN], struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Renames the key pair labelled @p old_label: sets CKA_LABEL and CKA_ID
 * (the bytes of @p new_label) on its public, then its private key.  A
 * key's name can be its kid only once the key exists, so callers
 * generate under a temporary label and rename.  Not atomic: after a
 * crash in between, the halves carry different labels and neither
 * label names a usable pair (rcpt_hsm_list() skips such a key); when
 * the second change fails, the first is undone if the token allows.
 * Serialised with rcpt_hsm_generate(); cached handles of both labels
 * are forgotten.
 * @return RCPT_OK; RCPT_E_INVAL (bad label); RCPT_E_NOT_FOUND (no pair
 * labelled @p old_label); RCPT_E_EXISTS (a key labelled @p new_label
 * exists); RCPT_E_CORRUPT (several keys labelled @p old_label);
 * RCPT_E_KEY_UNAVAILABLE.
 */
int rcpt_hsm_relabel(struct rcpt_hsm *h, const char *old_label,
    const char *new_label, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Reads the public key of the pair labelled @p label from CKA_EC_POINT
 * (raw 32 bytes or DER OCTET STRING wrapped).
 * @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_KEY_UNAVAILABLE.
 */
int rcpt_hsm_public_key(struct rcpt_hsm *h, const char *label,
    uint8_t pub_out[RCPT_HSM_PUB_LEN], struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Signs @p msg with CKM_EDDSA under the private key labelled @p label.
 * Thread-safe: each call borrows a pooled session.
 * @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_KEY_UNAVAILABLE.
 */
int rcpt_hsm_sign(struct rcpt_hsm *h, const char *label, const uint8_t *msg,
    size_t len, uint8_t sig_out[RCPT_HSM_SIG_LEN],
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** One key pair on the token. */
struct rcpt_hsm_key {
	char label[RCPT_HSM_LABEL_MAX + 1];
	uint8_t pub[RCPT_HSM_PUB_LEN];
};

/**
 * Lists the Ed25519 key pairs on the token.
 * @param[out] keys_out caller frees with free().
 */
int rcpt_hsm_list(struct rcpt_hsm *h, struct rcpt_hsm_key **keys_out,
    size_t *n_out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** RCPT_OK when the token answers C_GetTokenInfo and a session works. */
int rcpt_hsm_health(struct rcpt_hsm *h, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Token serial number (CK_TOKEN_INFO.serialNumber, trimmed). */
int rcpt_hsm_token_serial(
    struct rcpt_hsm *h, char out[17], struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Reads the CKO_DATA object labelled @p label (private, token object).
 * @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_TOO_LARGE (over @p cap;
 * *len_out is then the size needed), RCPT_E_KEY_UNAVAILABLE.
 */
int rcpt_hsm_data_read(struct rcpt_hsm *h, const char *label, uint8_t *buf,
    size_t cap, size_t *len_out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Creates or replaces the CKO_DATA object labelled @p label so that a
 * crash leaves either the old or the new value readable: the new value
 * is created as "<label>~new", the old object destroyed, then the new
 * one renamed (readers fall back to "<label>~new"; see data.c).
 * @return RCPT_OK, RCPT_E_TOO_LARGE, RCPT_E_KEY_UNAVAILABLE.
 */
int rcpt_hsm_data_write(struct rcpt_hsm *h, const char *label,
    const uint8_t *buf, size_t len, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/* Development and test tokens */

/**
 * Creates a SoftHSM2 token for development and tests in @p dir (created
 * 0700, or an existing empty directory): dir/softhsm2.conf (tokens in
 * dir/tokens, file backend, log level ERROR), dir/so.pin and
 * dir/user.pin (0600, 32 random letters and digits, then a newline),
 * and a token labelled @p label initialised through PKCS#11 itself
 * (C_InitToken, then C_Login as SO and C_InitPIN).  PINs never appear in
 * argv.  Loads the p11-kit module named "softhsm2".
 *
 * Not for production: it sets SOFTHSM2_CONF in this process's
 * environment to dir/softhsm2.conf, and SoftHSM reads that variable only
 * when it is first initialised, so no other user of SoftHSM may be open
 * in the process at the time.
 * @param[in] dir absolute path, created 0700 when missing.
 * @param[in] label 1 to 32 bytes.
 * @return RCPT_OK; RCPT_E_EXISTS (dir exists and is not an empty
 * directory); RCPT_E_INVAL; RCPT_E_IO; RCPT_E_CONFIG (module not
 * found, or an existing dir not owned by the effective user or open to
 * group or others); RCPT_E_NOT_FOUND (no free slot);
 * RCPT_E_KEY_UNAVAILABLE.
 */
int rcpt_hsm_softhsm_init(
    const char *dir, const char *label, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * As rcpt_hsm_softhsm_init(), loading @p module (absolute path or p11-kit
 * name; NULL means "softhsm2").
 */
int rcpt_hsm_softhsm_init_module(const char *module, const char *dir,
    const char *label, struct rcpt_diag *diag) RCPT_MUST_CHECK;

#endif
