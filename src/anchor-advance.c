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
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "anchor-int.h"
#include "anchor.h"
#include "checkpoint.h"

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

/*
 * Reads the record and the root of the store's current tree from one
 * snapshot and proves that it extends @p known; the snapshot is over
 * before anything is written.
 */
static int
measure(struct rcpt_store *s, const char *chain,
    const struct rcpt_anchor *known, struct rcpt_store_chain *rec,
    struct rcpt_anchor *next, struct rcpt_diag *diag)
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
	if ((r = rcpt_anchor_store_root(snap, rec->size, next->root, diag)) !=
	    RCPT_OK)
		goto out;
	if (known->size > 0 && (r = rcpt_anchor_prove_extends(snap, known,
	                            rec->size, next->root, diag)) != RCPT_OK)
		goto out;
	r = RCPT_OK;
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

int
rcpt_anchor_advance(struct rcpt_store *s, struct rcpt_ks_provider *ks,
    const struct rcpt_signer *signer, const char *chain, const char *origin,
    struct rcpt_anchor *known, char **note_out, uint64_t *size_out,
    struct rcpt_diag *diag)
{
	struct rcpt_store_chain rec;
	struct rcpt_anchor next;
	char *note = NULL;
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

	if ((r = token_is_known(ks, chain, known, diag)) != RCPT_OK ||
	    (r = measure(s, chain, known, &rec, &next, diag)) != RCPT_OK)
		return r;
	if (strcmp(signer->kid, rec.active_kid) != 0)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "signer: a checkpoint is signed by the chain's active key");
	/* The record's origin was tied to the genesis when it was checked. */
	if (strcmp(origin, rec.origin) != 0)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: record: origin is not the chain's origin",
		    chain);
	/* Store first: the anchor must never describe what is not durable. */
	if ((r = rcpt_anchor_sign_store(
	         s, signer, origin, &next, &note, diag)) != RCPT_OK)
		return r;
	/* The token holds @p known; the same anchor again needs no write. */
	if (!same_anchor(known, &next) &&
	    (r = move_anchor(ks, &next, diag)) != RCPT_OK) {
		free(note);
		return r;
	}
	*known = next;
	*note_out = note;
	if (size_out != NULL)
		*size_out = next.size;
	return RCPT_OK;
}
