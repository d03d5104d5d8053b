/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key-provider plugin ABI: the only header a provider plugin sees.
 *
 * A provider is a shared object exporting one symbol,
 * RCPT_PROVIDER_ENTRY_SYMBOL, a function returning a pointer to a static
 * const struct rcpt_provider.  The loader calls it, checks abi_major
 * before touching anything else, and refuses a mismatch.  A newer minor
 * version may only append members; the loader reads none past the size
 * the provider declares in struct_size.
 *
 * Every operation returns RCPT_PROVIDER_OK or one of the negative codes
 * below (numerically equal to receiptd's enum rcpt_err) and may put a
 * sentence for the operator in @p msg (never a secret).  A provider owns
 * what it allocates; the daemon hands such memory back through free().
 * Keys are named by an opaque handle string chosen by the provider (for
 * PKCS#11, a URI); public keys are raw 32-byte Ed25519 keys.
 *
 * The loader calls open() once and close() once after a successful
 * open(); every other operation gets the ctx open() returned.  sign() and
 * public_key() may be called from several threads at once; generate(),
 * list_keys() and health() may run concurrently with sign().
 */
#ifndef RCPT_KEYSTORE_PROVIDER_H
#define RCPT_KEYSTORE_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#define RCPT_PROVIDER_ABI_MAJOR    1
#define RCPT_PROVIDER_ABI_MINOR    0
#define RCPT_PROVIDER_ENTRY_SYMBOL "rcpt_provider_entry"

/* Result codes: the same numbers as enum rcpt_err in src/err.h. */
#define RCPT_PROVIDER_OK            0
#define RCPT_PROVIDER_E_INTERNAL    -1
#define RCPT_PROVIDER_E_NOMEM       -2
#define RCPT_PROVIDER_E_INVAL       -3
#define RCPT_PROVIDER_E_TOO_LARGE   -5 /* a value exceeds a buffer or cap */
#define RCPT_PROVIDER_E_NOT_FOUND   -6
#define RCPT_PROVIDER_E_DENIED      -7
#define RCPT_PROVIDER_E_UNAVAILABLE -8 /* token or service unusable */
#define RCPT_PROVIDER_E_IO          -10
#define RCPT_PROVIDER_E_CONFIG      -14
#define RCPT_PROVIDER_E_EXISTS      -15

#define RCPT_PROVIDER_MSG_MAX 256

/*
 * Builds use -fvisibility=hidden, so the entry point must say that it is
 * exported.  A plugin defines exactly this one public symbol.
 */
#define RCPT_PROVIDER_EXPORT __attribute__((visibility("default")))

/**
 * Where a provider explains a failure; first message wins.  The loader
 * hands it an empty (all-zero) one and reads at most MSG_MAX - 1 bytes,
 * replacing control characters, so a missing NUL does no harm.
 */
struct rcpt_provider_msg {
	char text[RCPT_PROVIDER_MSG_MAX];
};

/** One key a provider holds. */
struct rcpt_provider_key {
	char *handle;    /* provider-owned; freed with free() of the table */
	uint8_t pub[32]; /* raw Ed25519 public key */
};

struct rcpt_provider {
	uint32_t abi_major;   /* RCPT_PROVIDER_ABI_MAJOR */
	uint32_t abi_minor;   /* RCPT_PROVIDER_ABI_MINOR */
	uint32_t struct_size; /* sizeof(struct rcpt_provider) when built */
	const char *name;     /* "pkcs11", "software", ... */

	/** Opens with a provider-specific config string; *ctx_out owned. */
	int (*open)(
	    const char *config, void **ctx_out, struct rcpt_provider_msg *msg);
	/** Releases everything; accepts NULL. */
	void (*close)(void *ctx);
	/** Lists keys; the array and each handle are freed with free(). */
	int (*list_keys)(void *ctx, struct rcpt_provider_key **keys_out,
	    size_t *n_out, struct rcpt_provider_msg *msg);
	/**
	 * Generates a key pair.  @p label ([A-Za-z0-9_-], 1-64 characters)
	 * is a suggestion; the providers of receiptd ignore it and name each
	 * key by its kid (a file <kid>.key; a PKCS#11 pair with CKA_LABEL
	 * and CKA_ID the kid).  *handle_out is freed with free() of the
	 * table; RCPT_PROVIDER_E_EXISTS if the name is taken.
	 */
	int (*generate)(void *ctx, const char *label, char **handle_out,
	    uint8_t pub_out[32], struct rcpt_provider_msg *msg);
	/** Public key of @p handle. */
	int (*public_key)(void *ctx, const char *handle, uint8_t pub_out[32],
	    struct rcpt_provider_msg *msg);
	/** Signs @p len bytes (pure Ed25519); thread-safe. */
	int (*sign)(void *ctx, const char *handle, const uint8_t *msg_in,
	    size_t len, uint8_t sig_out[64], struct rcpt_provider_msg *msg);
	/** RCPT_PROVIDER_OK when the backing token or service answers. */
	int (*health)(void *ctx, struct rcpt_provider_msg *msg);
	/** Frees memory this provider returned (handles, key arrays); NULL ok.
	 */
	void (*free)(void *ctx, void *p);

	/*
	 * Small named data objects kept in the token (for PKCS#11, private
	 * CKO_DATA objects): the anti-rollback anchor of SPEC 5.  A write
	 * replaces the value so that a crash leaves the old or the new one
	 * readable, never neither.  Names are 1-64 bytes of [A-Za-z0-9._:-].
	 */
	/**
	 * Copies the value of @p name into @p buf; NOT_FOUND when absent,
	 * TOO_LARGE (with *len_out the size needed) when over @p cap.
	 */
	int (*data_read)(void *ctx, const char *name, uint8_t *buf, size_t cap,
	    size_t *len_out, struct rcpt_provider_msg *msg);
	/**
	 * Creates or replaces the value of @p name; TOO_LARGE when the
	 * provider cannot hold @p len bytes.
	 */
	int (*data_write)(void *ctx, const char *name, const uint8_t *buf,
	    size_t len, struct rcpt_provider_msg *msg);
};

/** The type of the entry symbol. */
typedef const struct rcpt_provider *(*rcpt_provider_entry_fn)(void);

/** What each plugin defines: returns its static const table. */
RCPT_PROVIDER_EXPORT const struct rcpt_provider *rcpt_provider_entry(void);

#endif
