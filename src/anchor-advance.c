/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The daemon's checkpoint (SPEC 1.2, 5).  A running daemon links only
 * to tips it sealed itself, so instead of verifying every stored
 * receipt again (rcpt_anchor_checkpoint) it holds the anchor it last
 * read or wrote and requires the token to still hold exactly that: no
 * other writer moved it.  The store's leaves must then extend it (an
 * RFC 9162 consistency proof), and the checkpoint is signed over a
 * snapshot, stored durably, and only then written to the token, in the
 * order anchor.h argues for.  It does not decide when to checkpoint.
 *
 * A caller that keeps the Merkle frontier of what it stored (the roots
 * of the perfect subtrees, 64 hashes at most) makes a checkpoint read
 * only the leaves added since: O(k log n) rather than O(n), which on a
 * chain of millions, checkpointed every thousand receipts, is the
 * difference between a steady rate and one that falls as the chain
 * grows.  The frontier is built once from every leaf, after the store
 * was proven to extend the anchor; from then on the tree is extended
 * from it, so it extends the anchor by construction.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "anchor-int.h"
#include "anchor.h"
#include "checkpoint.h"
#include "mem.h"

/* 1 when @p a and @p b encode to the same bytes. */
static int
same_anchor(const struct rcpt_anchor *a, const struct rcpt_anchor *b)
{
	uint8_t x[RCPT_ANCHOR_LEN_MAX], y[RCPT_ANCHOR_LEN_MAX];
	size_t nx = 0, ny = 0;

	return rcpt_anchor_encode(a, x, sizeof(x), &nx) == RCPT_OK &&
	       rcpt_anchor_encode(b, y, sizeof(y), &ny) == RCPT_OK &&
	       nx == ny && memcmp(x, y, nx) == 0;
}

/* Requires the token's anchor of @p chain to be @p known. */
static int
token_is_known(struct rcpt_ks_provider *ks, const char *chain,
    const struct rcpt_anchor *known, struct rcpt_diag *diag)
{
	struct rcpt_anchor tok;
	struct rcpt_diag tmp;
	int r;

	rcpt_diag_clear(&tmp);
	r = rcpt_anchor_read(ks, chain, &tok, &tmp);
	if (r == RCPT_E_NOT_FOUND && known->size == 0)
		return RCPT_OK;
	if (r == RCPT_E_NOT_FOUND)
		return rcpt_diag(diag, RCPT_E_ANCHOR,
		    "chain %s: the token holds no anchor, but this process "
		    "last saw one of size %" PRIu64,
		    chain, known->size);
	if (r != RCPT_OK)
		return rcpt_diag(diag, r, "%s", rcpt_diag_msg(&tmp, r));
	if (known->size == 0)
		return rcpt_diag(diag, RCPT_E_ANCHOR,
		    "chain %s: the token holds an anchor of size %" PRIu64
		    " that this process did not expect: another writer made "
		    "it",
		    chain, tok.size);
	if (!same_anchor(&tok, known))
		return rcpt_diag(diag, RCPT_E_ANCHOR,
		    "chain %s: the token's anchor (size %" PRIu64
		    ") is not the one this process last read or wrote (size "
		    "%" PRIu64 "): another writer moved it",
		    chain, tok.size, known->size);
	return RCPT_OK;
}

/* Pushes leaves f->size .. n - 1 of @p snap onto @p f. */
static int
extend(struct rcpt_store_snap *snap, struct rcpt_merkle_acc *f, uint64_t n,
    struct rcpt_diag *diag)
{
	uint8_t leaf[RCPT_HASH_LEN];
	int r;

	while (f->size < n) {
		r = rcpt_store_leaf(snap, f->size, leaf);
		if (r == RCPT_E_NOT_FOUND)
			return rcpt_diag(diag, RCPT_E_CORRUPT,
			    "leaves: the store lacks leaf %" PRIu64
			    " below its recorded size %" PRIu64,
			    f->size, n);
		if (r != RCPT_OK)
			return rcpt_diag(
			    diag, r, "leaves: %s", rcpt_strerror(r));
		rcpt_merkle_acc_push(f, leaf);
	}
	return RCPT_OK;
}

/*
 * The root of the store's @p n leaves and a proof that they extend
 * @p known: from the frontier @p fr when it is usable (built, at least
 * as large as @p known, not larger than the store), else from every
 * leaf, building @p fr when asked.  @p fr is updated in place; the
 * caller keeps its old value until the checkpoint is done.
 */
static int
root_of(struct rcpt_store_snap *snap, const char *chain,
    const struct rcpt_anchor *known, uint64_t n, struct rcpt_merkle_acc *fr,
    uint8_t root[RCPT_HASH_LEN], struct rcpt_diag *diag)
{
	uint8_t check[RCPT_HASH_LEN];
	int r;

	if (fr != NULL && fr->size > n)
		return rcpt_diag(diag, RCPT_E_ANCHOR,
		    "chain %s: store has %" PRIu64
		    " receipts but this process stored %" PRIu64
		    ": the store was rolled back or truncated",
		    chain, n, fr->size);
	if (fr != NULL && fr->size > 0 && fr->size >= known->size) {
		if ((r = extend(snap, fr, n, diag)) != RCPT_OK)
			return r;
		rcpt_merkle_acc_root(fr, root);
		return RCPT_OK;
	}
	if ((r = rcpt_anchor_store_root(snap, n, root, diag)) != RCPT_OK)
		return r;
	if (known->size > 0 && (r = rcpt_anchor_prove_extends(
	                            snap, known, n, root, diag)) != RCPT_OK)
		return r;
	if (fr == NULL)
		return RCPT_OK;
	memset(fr, 0, sizeof(*fr));
	if ((r = extend(snap, fr, n, diag)) != RCPT_OK)
		return r;
	rcpt_merkle_acc_root(fr, check);
	if (memcmp(check, root, RCPT_HASH_LEN) != 0)
		return rcpt_diag(diag, RCPT_E_INTERNAL,
		    "leaves: the frontier's root is not the tree's");
	return RCPT_OK;
}

/*
 * Reads the record and the root of the store's current tree from one
 * snapshot and proves that it extends @p known; the snapshot is over
 * before anything is written.
 */
static int
measure(struct rcpt_store *s, const char *chain,
    const struct rcpt_anchor *known, struct rcpt_merkle_acc *fr,
    struct rcpt_store_chain *rec, struct rcpt_anchor *next,
    struct rcpt_diag *diag)
{
	struct rcpt_store_snap *snap = NULL;
	struct rcpt_diag tmp;
	int r = RCPT_E_INTERNAL;

	memset(next, 0, sizeof(*next));
	if ((r = rcpt_store_snap_begin(s, chain, &snap, diag)) != RCPT_OK)
		return r;
	rcpt_diag_clear(&tmp);
	r = rcpt_store_snap_chain(snap, rec, &tmp);
	if (r == RCPT_E_NOT_FOUND && known->size > 0) {
		r = rcpt_diag(diag, RCPT_E_ANCHOR,
		    "chain %s: store has 0 receipts but the token's anchor "
		    "records %" PRIu64
		    ": the store was rolled back or truncated",
		    chain, known->size);
		goto out;
	}
	if (r != RCPT_OK) {
		r = rcpt_diag(diag, r, "%s", rcpt_diag_msg(&tmp, r));
		goto out;
	}
	if (rec->size < known->size) {
		r = rcpt_diag(diag, RCPT_E_ANCHOR,
		    "chain %s: store has %" PRIu64
		    " receipts but the token's anchor records %" PRIu64
		    ": the store was rolled back or truncated",
		    chain, rec->size, known->size);
		goto out;
	}
	if (rec->size == 0) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: record: size 0 (no genesis)", chain);
		goto out;
	}
	memcpy(next->chain, chain, strlen(chain) + 1);
	next->size = rec->size;
	r = root_of(snap, chain, known, rec->size, fr, next->root, diag);
out:
	rcpt_store_snap_end(snap);
	return r;
}

/*
 * Writes @p next to the token.  A write reported as failed may still
 * have landed (a reply lost on the way back); reading it back then
 * tells, since keeping the older anchor as known would refuse every
 * later checkpoint.
 */
static int
move_anchor(struct rcpt_ks_provider *ks, const struct rcpt_anchor *next,
    struct rcpt_diag *diag)
{
	struct rcpt_anchor back;
	struct rcpt_diag tmp;
	int r;

	rcpt_diag_clear(&tmp);
	if ((r = rcpt_anchor_write(ks, next, &tmp)) == RCPT_OK)
		return RCPT_OK;
	if (rcpt_anchor_read(ks, next->chain, &back, NULL) == RCPT_OK &&
	    same_anchor(&back, next))
		return RCPT_OK;
	return rcpt_diag(diag, r, "%s", rcpt_diag_msg(&tmp, r));
}

/* Signs and stores the checkpoint of @p next, then moves the anchor. */
static int
finish(struct rcpt_store *s, struct rcpt_ks_provider *ks,
    const struct rcpt_signer *signer, const char *chain, const char *origin,
    struct rcpt_anchor *known, const struct rcpt_store_chain *rec,
    const struct rcpt_anchor *next, char **note_out, struct rcpt_diag *diag)
{
	char *note = NULL;
	int r;

	if (strcmp(signer->kid, rec->active_kid) != 0)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "signer: a checkpoint is signed by the chain's active key");
	/* The record's origin was tied to the genesis when it was checked. */
	if (strcmp(origin, rec->origin) != 0)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: record: origin is not the chain's origin",
		    chain);
	/* Store first: the anchor must never describe what is not durable. */
	if ((r = rcpt_anchor_sign_store(
	         s, signer, origin, next, &note, diag)) != RCPT_OK)
		return r;
	/* The token holds @p known; the same anchor again needs no write. */
	if (!same_anchor(known, next) &&
	    (r = move_anchor(ks, next, diag)) != RCPT_OK) {
		free(note);
		return r;
	}
	*known = *next;
	*note_out = note;
	return RCPT_OK;
}

int
rcpt_anchor_advance(struct rcpt_store *s, struct rcpt_ks_provider *ks,
    const struct rcpt_signer *signer, const char *chain, const char *origin,
    struct rcpt_anchor *known, struct rcpt_merkle_acc *frontier,
    char **note_out, uint64_t *size_out, struct rcpt_diag *diag)
{
	struct rcpt_store_chain rec;
	struct rcpt_anchor next;
	struct rcpt_merkle_acc *fr = NULL;
	int r = RCPT_E_INTERNAL;

	if (note_out == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "anchor: missing argument");
	*note_out = NULL;
	if (size_out != NULL)
		*size_out = 0;
	if (s == NULL || ks == NULL || known == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "anchor: missing argument");
	if (chain == NULL || !rcpt_receipt_chain_is_valid(chain))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "chain: must match ^[a-z0-9][a-z0-9._-]{0,63}$");
	if (origin == NULL || !rcpt_checkpoint_origin_is_valid(origin))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "origin: must be 1 to 200 bytes of [A-Za-z0-9._~:/-]");
	if (signer == NULL || signer->sign_msg == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "signer: missing");
	if (known->size > 0 && strcmp(known->chain, chain) != 0)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "known: the anchor of another chain than %s", chain);

	if (frontier != NULL) {
		if ((fr = rcpt_malloc(sizeof(*fr))) == NULL)
			return rcpt_diag(diag, RCPT_E_NOMEM, "out of memory");
		*fr = *frontier;
	}
	r = token_is_known(ks, chain, known, diag);
	if (r == RCPT_OK)
		r = measure(s, chain, known, fr, &rec, &next, diag);
	if (r != RCPT_OK) {
		free(fr);
		return r;
	}
	r = finish(
	    s, ks, signer, chain, origin, known, &rec, &next, note_out, diag);
	if (r == RCPT_OK && fr != NULL)
		*frontier = *fr;
	free(fr);
	if (r == RCPT_OK && size_out != NULL)
		*size_out = next.size;
	return r;
}
