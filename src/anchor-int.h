/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What anchor.c (checking the store against the token, checkpointing
 * after a full verification) and anchor-advance.c (the daemon's
 * checkpoint against the anchor it knows) share: the store's root, the
 * consistency proof against an anchor, and signing and storing a
 * checkpoint.  Not for other modules.
 */
#ifndef RCPT_SRC_ANCHOR_INT_H
#define RCPT_SRC_ANCHOR_INT_H

#include "anchor.h"

/**
 * Root of the first @p n leaves of @p snap.
 * @return RCPT_OK; RCPT_E_CORRUPT when a leaf below @p n is missing;
 * the store's error.
 */
int rcpt_anchor_store_root(struct rcpt_store_snap *snap, uint64_t n,
    uint8_t root[RCPT_HASH_LEN], struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Proves with the leaves of @p snap that its tree of @p n leaves, of
 * root @p root, extends anchor @p a (a->size <= n; equal sizes need
 * equal roots).
 * @return RCPT_OK; RCPT_E_ANCHOR ("store of size N does not extend the
 * anchor of size M"); RCPT_E_CORRUPT (leaves missing); RCPT_E_INVAL.
 */
int rcpt_anchor_prove_extends(struct rcpt_store_snap *snap,
    const struct rcpt_anchor *a, uint64_t n, const uint8_t root[RCPT_HASH_LEN],
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Signs the checkpoint of @p a (tree size and root of chain a->chain)
 * for @p origin with @p signer and stores it in a durable transaction,
 * run once more when the map had to grow.  It does not touch the
 * token: callers write the anchor only after this returned RCPT_OK.
 * @param[out] note_out the note; caller frees with free().
 * @return RCPT_OK, the signer's error, the store's error.
 */
int rcpt_anchor_sign_store(struct rcpt_store *s,
    const struct rcpt_signer *signer, const char *origin,
    const struct rcpt_anchor *a, char **note_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

#endif
