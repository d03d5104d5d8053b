/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What ceremony.c (creating and growing chains) and ceremony-open.c
 * (opening a chain from the store, with its checks and recovery) share.
 * Not for other modules.
 */
#ifndef RCPT_SRC_CEREMONY_INT_H
#define RCPT_SRC_CEREMONY_INT_H

#include "ceremony.h"

struct rcpt_ceremony {
	struct rcpt_store *store;    /* borrowed */
	struct rcpt_ks_provider *ks; /* borrowed */
	struct rcpt_ceremony_opts o; /* copied */
	struct rcpt_chain chain;     /* writer state at the durable tip */
	struct rcpt_signer signer;   /* the active key; borrows ks */
	int stopped;                 /* a test hook stopped a rotation */
};

/** Passes on error @p r with the message a scratch diag @p tmp holds. */
int rcpt_ceremony_pass(
    struct rcpt_diag *diag, int r, const struct rcpt_diag *tmp) RCPT_MUST_CHECK;

/**
 * RCPT_OK when @p c may be used: not NULL, and not stopped by a
 * rotation's test hook; else RCPT_E_INVAL saying so.
 */
int rcpt_ceremony_usable(
    const struct rcpt_ceremony *c, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** A zeroed handle over @p s and @p ks; NULL when out of memory. */
struct rcpt_ceremony *rcpt_ceremony_alloc(struct rcpt_store *s,
    struct rcpt_ks_provider *ks, const struct rcpt_ceremony_opts *o);

#endif
