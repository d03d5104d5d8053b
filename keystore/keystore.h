/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The keystore: loads a key provider (the built-in "software" one, or a
 * plugin through dlopen), checks its ABI before using anything else it
 * exports, and offers its operations with receiptd's error codes and
 * diagnostics.  It also adapts a provider key to struct rcpt_signer, so
 * receipts, checkpoints and bundles sign through any provider.
 *
 * Plugins come only from the providers directory by bare name, or from an
 * absolute path when the caller vouches that the path came from
 * root-owned configuration.  The software provider keeps seeds in files
 * and is for development: it is refused in production and announced with
 * a warning otherwise.
 *
 * This module does not decide which key is active, rotate keys or keep
 * key status; that is the daemon's business.  It keeps no global state.
 */
#ifndef RCPT_KEYSTORE_KEYSTORE_H
#define RCPT_KEYSTORE_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "keystore/provider.h"
#include "src/err.h"
#include "src/jwk.h"
#include "src/signer.h"

#define RCPT_KS_SOFTWARE    "software"
#define RCPT_KS_NAME_MAX    32   /* bare plugin names: ^[a-z0-9_-]{1,32}$ */
#define RCPT_KS_HANDLE_MAX  1024 /* longest handle accepted from a provider */
#define RCPT_KS_KEYS_MAX    4096 /* most keys accepted from one list call */
#define RCPT_KS_SIGNERS_MAX 256  /* signer bindings per loaded provider */
#define RCPT_KS_DATA_MAX    4096 /* bytes of one data object's value */

/** A loaded provider, opened or not; opaque. */
struct rcpt_ks_provider;

/* Logging */

enum rcpt_ks_log_level {
	RCPT_KS_LOG_ERR = 3, /* syslog numbers, for the daemon's convenience */
	RCPT_KS_LOG_WARNING = 4,
	RCPT_KS_LOG_INFO = 6
};

/** Receives one message (no newline); must not keep @p msg. */
typedef void (*rcpt_ks_log_fn)(void *ctx, int level, const char *msg);

/** Options for rcpt_ks_open(); a zeroed struct is valid. */
struct rcpt_ks_opts {
	rcpt_ks_log_fn log; /* NULL: messages go to stderr */
	void *log_ctx;      /* passed to log; borrowed */
};

/* Loading */

/**
 * Loads the provider @p name_or_path: "software" is the built-in one; a
 * name matching ^[a-z0-9_-]{1,32}$ is the plugin
 * @p providers_dir/provider-<name>.so (@p providers_dir NULL means
 * PROVIDERS_DIR); an absolute path is accepted only when
 * @p allow_absolute is set, which the daemon does only for paths from
 * root-owned configuration.  A plugin file must be a regular file owned
 * by root or the running user and not writable by group or others.  It
 * is opened with RTLD_NOW | RTLD_LOCAL, and its table is checked as
 * rcpt_ks_adopt() does.
 * @param[out] out caller frees with rcpt_ks_unload().
 * @return RCPT_OK; RCPT_E_CONFIG (bad name, relative path, absolute path
 * not allowed, plugin file is a symbolic link); RCPT_E_NOT_FOUND (no such
 * file); RCPT_E_DENIED (owner,
 * mode or file type wrong); RCPT_E_PLUGIN_ABI (dlopen failed, entry
 * symbol missing, ABI major differs, table too small, operation
 * missing); RCPT_E_NOMEM.
 */
int rcpt_ks_load(const char *name_or_path, const char *providers_dir,
    int allow_absolute, struct rcpt_ks_provider **out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Checks @p table as the loader checks a plugin's (abi_major first, then
 * struct_size, name and every operation) and wraps it.  Used by
 * rcpt_ks_load() itself, for the built-in provider, and by tests.
 * @param[in] table borrowed; must outlive the result.
 * @param[in] what how messages name the provider ("provider <what>: ...").
 * @param[out] out caller frees with rcpt_ks_unload().
 * @return RCPT_OK, RCPT_E_PLUGIN_ABI, RCPT_E_INVAL (NULL argument),
 * RCPT_E_NOMEM.
 */
int rcpt_ks_adopt(const struct rcpt_provider *table, const char *what,
    struct rcpt_ks_provider **out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Closes @p p if open, frees its signer bindings, dlcloses; NULL ok. */
void rcpt_ks_unload(struct rcpt_ks_provider *p);

/** The provider's own name ("software", "pkcs11"); borrowed from @p p. */
const char *rcpt_ks_name(const struct rcpt_ks_provider *p);

/** The table of the built-in software provider (provider-soft.c). */
const struct rcpt_provider *rcpt_ks_soft_table(void);

/* Opening */

/**
 * Opens @p p with its provider-specific @p config.  With @p production
 * set the software provider is refused; without it, opening the software
 * provider logs a warning through @p opts.
 * @param[in] opts may be NULL; copied.
 * @return RCPT_OK; RCPT_E_CONFIG (software provider in production, or
 * the provider refused @p config); RCPT_E_INVAL (already open, NULL
 * argument); or the provider's error (RCPT_E_DENIED for a wrong PIN,
 * RCPT_E_NOT_FOUND, RCPT_E_KEY_UNAVAILABLE, ...), explained in @p diag.
 */
int rcpt_ks_open(struct rcpt_ks_provider *p, const char *config, int production,
    const struct rcpt_ks_opts *opts, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Closes what rcpt_ks_open() opened; @p p stays loaded and may be opened
 * again.  Signers made from @p p fail with RCPT_E_KEY_UNAVAILABLE until
 * then.  Accepts NULL and a provider that is not open.
 */
void rcpt_ks_close(struct rcpt_ks_provider *p);

/* Keys.  Each call needs an open provider, else RCPT_E_INVAL. */

/** One key a provider holds, as rcpt_ks_list() returns it. */
struct rcpt_ks_key {
	char *handle;                      /* owned by the array */
	uint8_t pub[RCPT_ED25519_PUB_LEN]; /* raw Ed25519 public key */
	char kid[RCPT_KID_LEN + 1];        /* RFC 7638 thumbprint of pub */
};

/**
 * Lists the provider's keys with their kids.
 * @param[out] keys_out caller frees with rcpt_ks_keys_free(); NULL when
 * there are none.
 * @return RCPT_OK, RCPT_E_NOMEM, RCPT_E_INTERNAL (the provider returned
 * something malformed), or the provider's error.
 */
int rcpt_ks_list(struct rcpt_ks_provider *p, struct rcpt_ks_key **keys_out,
    size_t *n_out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Frees what rcpt_ks_list() returned; accepts NULL. */
void rcpt_ks_keys_free(struct rcpt_ks_key *keys, size_t n);

/**
 * Generates a key pair.
 * @param[in] label suggested name, ^[A-Za-z0-9_-]{1,64}$ (see provider.h).
 * @param[out] handle_out caller frees with free().
 * @param[out] kid_out the new key's kid.
 * @return RCPT_OK, RCPT_E_INVAL (bad label), RCPT_E_EXISTS (label taken),
 * RCPT_E_NOMEM, or the provider's error.
 */
int rcpt_ks_generate(struct rcpt_ks_provider *p, const char *label,
    char **handle_out, uint8_t pub_out[RCPT_ED25519_PUB_LEN],
    char kid_out[RCPT_KID_LEN + 1], struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * The public key of @p handle.
 * @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_INTERNAL (the provider gave
 * a key that is not an acceptable Ed25519 point), or the provider's
 * error.
 */
int rcpt_ks_public_key(struct rcpt_ks_provider *p, const char *handle,
    uint8_t pub_out[RCPT_ED25519_PUB_LEN],
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Signs @p len bytes with @p handle (pure Ed25519).  Thread-safe.
 * @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_KEY_UNAVAILABLE, or the
 * provider's error; @p sig_out is zeroed on failure.
 */
int rcpt_ks_sign(struct rcpt_ks_provider *p, const char *handle,
    const uint8_t *msg, size_t len, uint8_t sig_out[RCPT_ED25519_SIG_LEN],
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Asks the provider whether its token or service answers.
 * @return RCPT_OK, RCPT_E_KEY_UNAVAILABLE, or the provider's error.
 */
int rcpt_ks_health(
    struct rcpt_ks_provider *p, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/* Signing for the format code */

/**
 * Reads the provider's data object @p name (the anchor, SPEC 5).
 * @param[out] len_out bytes copied; on RCPT_E_TOO_LARGE, bytes needed.
 * @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_TOO_LARGE,
 * RCPT_E_KEY_UNAVAILABLE, RCPT_E_INVAL.
 */
int rcpt_ks_data_read(struct rcpt_ks_provider *p, const char *name,
    uint8_t *buf, size_t cap, size_t *len_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Creates or replaces data object @p name atomically (old or new value
 * survives a crash).  Names are 1-64 bytes of [A-Za-z0-9._:-]; values
 * at most RCPT_KS_DATA_MAX bytes.
 * @return RCPT_OK, RCPT_E_TOO_LARGE, RCPT_E_KEY_UNAVAILABLE, RCPT_E_INVAL.
 */
int rcpt_ks_data_write(struct rcpt_ks_provider *p, const char *name,
    const uint8_t *buf, size_t len, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Fills @p out so that it signs with @p handle: kid and pub come from the
 * provider's public key, and each signature is checked under pub before
 * it is handed out.  The signer refuses any kid but its own with
 * RCPT_E_KEY_UNAVAILABLE; provider failures are logged through the
 * rcpt_ks_open() options and also return RCPT_E_KEY_UNAVAILABLE.
 * Making a signer is not thread-safe; signing is.
 * @param[out] out borrows @p p: valid until rcpt_ks_unload(@p p).
 * @return RCPT_OK, RCPT_E_INVAL (not open), RCPT_E_TOO_LARGE (too many
 * bindings), RCPT_E_NOMEM, or as rcpt_ks_public_key().
 */
int rcpt_ks_signer(struct rcpt_ks_provider *p, const char *handle,
    struct rcpt_signer *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

#endif
