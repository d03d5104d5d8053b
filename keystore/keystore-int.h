/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside libkeystore: the loaded-provider struct and the helpers that
 * keystore.c (loading, opening, key and data operations) shares with
 * keystore-signer.c (the struct rcpt_signer adapter).  Nothing outside
 * keystore/ includes it; plugins see only provider.h.
 */
#ifndef RCPT_KEYSTORE_KEYSTORE_INT_H
#define RCPT_KEYSTORE_KEYSTORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "keystore/keystore.h"

#define RCPT_KS_WHAT_MAX 128 /* bytes of the name used in messages */

/* Ties one handle to a provider; a struct rcpt_signer's ctx points here. */
struct rcpt_ks_binding {
	struct rcpt_ks_provider *p;        /* the owner */
	char *handle;                      /* owned */
	char kid[RCPT_KID_LEN + 1];        /* the only kid it signs for */
	uint8_t pub[RCPT_ED25519_PUB_LEN]; /* every signature is checked */
};

struct rcpt_ks_provider {
	const struct rcpt_provider *t;  /* borrowed: plugin or built-in */
	void *dl;                       /* dlopen handle; NULL if built-in */
	char what[RCPT_KS_WHAT_MAX];    /* name for messages */
	int is_soft;                    /* the built-in software provider */
	void *ctx;                      /* from t->open; NULL when closed */
	struct rcpt_ks_opts opts;       /* logging, from rcpt_ks_open */
	struct rcpt_ks_binding **binds; /* each owned; stable addresses */
	size_t nbinds;
};

/* keystore.c */

/** Logs @p msg through the rcpt_ks_open() options, else to stderr. */
void rcpt_ks_log(const struct rcpt_ks_provider *p, int level, const char *msg);

/** RCPT_OK when @p p is loaded and open, else RCPT_E_INVAL. */
int rcpt_ks_need_open(
    const struct rcpt_ks_provider *p, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Checks a public key a provider returned from @p op and derives its kid.
 * @return RCPT_OK, RCPT_E_INTERNAL (not an acceptable Ed25519 key).
 */
int rcpt_ks_key_kid(const struct rcpt_ks_provider *p, const char *op,
    const uint8_t pub[RCPT_ED25519_PUB_LEN], char kid_out[RCPT_KID_LEN + 1],
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/* keystore-signer.c */

/** Frees every signer binding of @p p (signers made from it go stale). */
void rcpt_ks_signers_free(struct rcpt_ks_provider *p);

#endif
