/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Group commit (SPEC 1.2): the daemon's events of one commit batch are
 * linked in order, signed together (each receipt of an `each` chain,
 * the last one of a `batch` chain), and stored with the chain record in
 * one durable transaction, so that a batch costs one sync and its
 * signatures may be made on several threads or token sessions.
 *
 * What it promises: the batch is stored whole or not at all, and when
 * it is not, the handle is as before (no seq used up, nothing to fork
 * from).  An event that breaks a rule on its own is refused alone and
 * takes no seq.  It does not decide how events are grouped, and runs no
 * threads itself: the caller's sign_many does.
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ceremony-int.h"
#include "ceremony.h"
#include "mem.h"

/* One item's receipt while the batch is made. */
struct slot {
	struct rcpt_receipt rc;
	char *line; /* owned: the stored form, once signed */
	size_t len;
	int built;   /* rc holds its receipt, linked into the batch */
	int refused; /* the item broke a rule of its own */
};

/* The writer state before the batch; appends move nothing else. */
struct start {
	uint64_t next_seq;
	uint8_t prev_hash[RCPT_HASH_LEN];
	char last_ts[RCPT_TS_LEN + 1];
};

/*
 * Signs nothing, so that chain.c builds an each chain's receipts
 * without signing them one by one; sign_slots() signs them after.  The
 * zeros it leaves are overwritten there, or the batch fails.
 */
static int
defer_sign(void *ctx, const char *kid, const uint8_t msg[32],
    uint8_t sig_out[RCPT_ED25519_SIG_LEN])
{
	(void)ctx;
	(void)kid;
	(void)msg;
	memset(sig_out, 0, RCPT_ED25519_SIG_LEN);
	return RCPT_OK;
}

/* An error of the event itself rather than of the batch. */
static int
is_own_error(int r)
{
	return r == RCPT_E_INVAL || r == RCPT_E_TOO_LARGE || r == RCPT_E_PARSE;
}

static int
is_zero(const uint8_t *p, size_t n)
{
	size_t i;
	uint8_t acc = 0;

	for (i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* Builds and links every item; refused ones keep their error. */
static int
build_slots(struct rcpt_ceremony *c, struct rcpt_ceremony_item *items,
    struct slot *sl, size_t n, struct rcpt_diag *diag)
{
	struct rcpt_chain_event e;
	struct rcpt_signer defer;
	size_t i;
	int r;

	defer = c->signer;
	defer.ctx = NULL;
	defer.sign = defer_sign;
	defer.sign_msg = NULL;
	for (i = 0; i < n; i++) {
		/* The batch, not the caller, decides where the seal goes. */
		e = items[i].ev;
		e.seal = false;
		r = rcpt_chain_append(
		    &c->chain, &e, &defer, &sl[i].rc, &items[i].diag);
		if (r == RCPT_OK) {
			sl[i].built = 1;
			continue;
		}
		if (!is_own_error(r))
			return rcpt_diag(diag, r, "event %zu: %s", i,
			    rcpt_diag_msg(&items[i].diag, r));
		sl[i].refused = 1;
		items[i].result = r;
	}
	return RCPT_OK;
}

/* Makes the signatures the sealing asks for, all in one call. */
static int
sign_slots(struct rcpt_ceremony *c, struct slot *sl, size_t n,
    rcpt_ceremony_sign_many_fn sign_many, void *sign_ctx,
    struct rcpt_diag *diag)
{
	uint8_t(*msgs)[RCPT_HASH_LEN] = NULL;
	uint8_t(*sigs)[RCPT_ED25519_SIG_LEN] = NULL;
	size_t *who = NULL, k = 0, i, last = n;
	int r = RCPT_E_INTERNAL;

	for (i = 0; i < n; i++)
		if (sl[i].built)
			last = i;
	if (last == n)
		return RCPT_OK; /* every item was refused */
	if ((msgs = rcpt_calloc(n, sizeof(*msgs))) == NULL ||
	    (sigs = rcpt_calloc(n, sizeof(*sigs))) == NULL ||
	    (who = rcpt_calloc(n, sizeof(*who))) == NULL) {
		r = rcpt_diag(diag, RCPT_E_NOMEM, "out of memory");
		goto out;
	}
	/* SPEC 1.2: a batch chain seals the batch with its last receipt. */
	for (i = 0; i <= last; i++) {
		if (!sl[i].built ||
		    (c->chain.sealing == RCPT_SEALING_BATCH && i != last))
			continue;
		memcpy(msgs[k], sl[i].rc.entry_hash, RCPT_HASH_LEN);
		who[k++] = i;
	}
	if (sign_many != NULL)
		r = sign_many(sign_ctx, &c->signer,
		    (const uint8_t(*)[RCPT_HASH_LEN])msgs, sigs, k);
	else
		for (i = 0, r = RCPT_OK; i < k && r == RCPT_OK; i++)
			r = c->signer.sign(
			    c->signer.ctx, c->signer.kid, msgs[i], sigs[i]);
	if (r != RCPT_OK) {
		if (r > RCPT_OK || r <= RCPT_E_LAST_)
			r = RCPT_E_INTERNAL; /* not one of ours */
		r = rcpt_diag(diag, r,
		    "signature: the signer failed for this batch (%s)",
		    rcpt_strerror(r));
		goto out;
	}
	for (i = 0; i < k; i++) {
		/* No real Ed25519 signature is all zero: one was not made. */
		if (is_zero(sigs[i], RCPT_ED25519_SIG_LEN)) {
			r = rcpt_diag(diag, RCPT_E_INTERNAL,
			    "signature: sign_many reported success but left "
			    "signature %zu unmade",
			    i);
			goto out;
		}
		memcpy(sl[who[i]].rc.signature, sigs[i], RCPT_ED25519_SIG_LEN);
		sl[who[i]].rc.has_signature = true;
	}
	r = RCPT_OK;
out:
	free(who);
	free(sigs);
	free(msgs);
	return r;
}

/* A batch between rcpt_ceremony_batch_make() and _end(). */
struct rcpt_ceremony_batch {
	struct rcpt_store *store; /* borrowed from the handle */
	char chain[RCPT_CHAIN_MAX + 1];
	char kid[RCPT_KID_LEN + 1];       /* the active key when it was made */
	struct start st;                  /* the handle's tip before it */
	struct rcpt_ceremony_item *items; /* borrowed */
	struct slot *sl;
	size_t n;
	int failed; /* _store() gave its items the error already */
};

/*
 * Writes every built receipt and the record with the last one as tip,
 * after checking that the stored tip is the one the batch links to
 * (the handle is the chain's only writer).
 */
static int
put_batch(struct rcpt_store_txn *t, const struct rcpt_ceremony_batch *b,
    struct rcpt_diag *diag)
{
	struct rcpt_store_chain rec;
	const struct rcpt_receipt *tip = NULL;
	size_t i;
	int r;

	if ((r = rcpt_store_txn_get_chain(t, b->chain, &rec, diag)) != RCPT_OK)
		return r;
	if (rec.size != b->st.next_seq ||
	    memcmp(rec.tip_hash, b->st.prev_hash, RCPT_HASH_LEN) != 0)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: the stored tip is not the one this handle "
		    "links to",
		    b->chain);
	for (i = 0; i < b->n; i++) {
		if (!b->sl[i].built)
			continue;
		tip = &b->sl[i].rc;
		if ((r = rcpt_store_put_receipt(t, tip->chain, tip->seq,
		         b->sl[i].line, b->sl[i].len, tip->entry_hash, diag)) !=
		    RCPT_OK)
			return r;
	}
	if (tip == NULL)
		return RCPT_E_INTERNAL; /* callers store only built batches */
	rec.size = tip->seq + 1;
	memcpy(rec.tip_hash, tip->entry_hash, RCPT_HASH_LEN);
	memcpy(rec.tip_ts, tip->ts, sizeof(rec.tip_ts));
	memcpy(rec.active_kid, b->kid, sizeof(rec.active_kid));
	return rcpt_store_put_chain(t, &rec, diag);
}

/*
 * One durable transaction for the batch.  A full map is grown by the
 * store, which then fails the whole transaction (at a put or at the
 * commit): it is run once more.
 */
static int
write_batch(const struct rcpt_ceremony_batch *b, struct rcpt_diag *diag)
{
	struct rcpt_store_txn *t = NULL;
	struct rcpt_diag tmp;
	int r = RCPT_E_INTERNAL, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		rcpt_diag_clear(&tmp);
		if ((r = rcpt_store_txn_begin(b->store, &t, &tmp)) != RCPT_OK)
			break;
		if ((r = put_batch(t, b, &tmp)) == RCPT_OK)
			r = rcpt_store_txn_commit(t, &tmp);
		else
			rcpt_store_txn_abort(t);
		t = NULL; /* gone either way */
		if (r != RCPT_E_STORAGE_FULL)
			break;
	}
	return r == RCPT_OK ? RCPT_OK : rcpt_ceremony_pass(diag, r, &tmp);
}

/* Gives every item not refused on its own the batch's error. */
static void
fail_items(struct rcpt_ceremony_item *items, const struct slot *sl, size_t n,
    int r, const struct rcpt_diag *why)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (sl != NULL && sl[i].refused)
			continue;
		items[i].result = r;
		rcpt_diag_clear(&items[i].diag);
		(void)rcpt_diag(
		    &items[i].diag, r, "batch: %s", rcpt_diag_msg(why, r));
	}
}

static void
free_slots(struct slot *sl, size_t n)
{
	size_t i;

	if (sl == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(sl[i].line);
		rcpt_receipt_clear(&sl[i].rc);
	}
	free(sl);
}

/* The handle back at @p st: what a batch that is not stored leaves. */
static void
rewind_to(struct rcpt_ceremony *c, const struct start *st)
{
	c->chain.next_seq = st->next_seq;
	memcpy(c->chain.prev_hash, st->prev_hash, RCPT_HASH_LEN);
	memcpy(c->chain.last_ts, st->last_ts, sizeof(st->last_ts));
}

/* Serializes every built receipt; @return how many, or -1 (see @p r). */
static int
serialize_slots(struct slot *sl, size_t n, size_t *n_ok, struct rcpt_diag *why)
{
	size_t i;
	int r;

	*n_ok = 0;
	for (i = 0; i < n; i++) {
		if (!sl[i].built)
			continue;
		if ((r = rcpt_receipt_serialize(
		         &sl[i].rc, &sl[i].line, &sl[i].len)) != RCPT_OK)
			return rcpt_diag(why, r,
			    "seq %" PRIu64 ": the receipt cannot be written",
			    sl[i].rc.seq);
		(*n_ok)++;
	}
	return RCPT_OK;
}

int
rcpt_ceremony_batch_make(struct rcpt_ceremony *c,
    struct rcpt_ceremony_item *items, size_t n,
    rcpt_ceremony_sign_many_fn sign_many, void *sign_ctx,
    struct rcpt_ceremony_batch **out, struct rcpt_diag *diag)
{
	struct rcpt_ceremony_batch *b = NULL;
	struct rcpt_diag why;
	size_t i, n_ok = 0;
	int r;

	if (out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "out: required");
	*out = NULL;
	if (items == NULL && n > 0)
		return rcpt_diag(diag, RCPT_E_INVAL, "items: missing");
	for (i = 0; i < n; i++) {
		items[i].result = RCPT_E_INTERNAL;
		rcpt_diag_clear(&items[i].diag);
		items[i].line = NULL;
		items[i].len = 0;
	}
	rcpt_diag_clear(&why);
	if ((r = rcpt_ceremony_usable(c, &why)) != RCPT_OK) {
		fail_items(items, NULL, n, r, &why);
		return rcpt_ceremony_pass(diag, r, &why);
	}
	if (n == 0)
		return RCPT_OK;
	if ((b = rcpt_calloc(1, sizeof(*b))) == NULL ||
	    (b->sl = rcpt_calloc(n, sizeof(*b->sl))) == NULL) {
		free(b);
		r = rcpt_diag(&why, RCPT_E_NOMEM, "out of memory");
		fail_items(items, NULL, n, r, &why);
		return rcpt_ceremony_pass(diag, r, &why);
	}
	b->store = c->store;
	b->items = items;
	b->n = n;
	memcpy(b->chain, c->chain.name, sizeof(b->chain));
	memcpy(b->kid, c->chain.kid, sizeof(b->kid));
	b->st.next_seq = c->chain.next_seq;
	memcpy(b->st.prev_hash, c->chain.prev_hash, RCPT_HASH_LEN);
	memcpy(b->st.last_ts, c->chain.last_ts, sizeof(b->st.last_ts));

	if ((r = build_slots(c, items, b->sl, n, &why)) != RCPT_OK ||
	    (r = sign_slots(c, b->sl, n, sign_many, sign_ctx, &why)) !=
	        RCPT_OK ||
	    (r = serialize_slots(b->sl, n, &n_ok, &why)) != RCPT_OK) {
		/* Nothing was stored: the handle goes back to its tip. */
		rewind_to(c, &b->st);
		fail_items(items, b->sl, n, r, &why);
		free_slots(b->sl, n);
		free(b);
		return rcpt_ceremony_pass(diag, r, &why);
	}
	if (n_ok == 0) {
		free_slots(b->sl, n);
		free(b);
		return RCPT_OK;
	}
	*out = b;
	return RCPT_OK;
}

int
rcpt_ceremony_batch_store(struct rcpt_ceremony_batch *b, struct rcpt_diag *diag)
{
	struct rcpt_diag why;
	size_t i;
	int r;

	if (b == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "batch: required");
	rcpt_diag_clear(&why);
	if ((r = write_batch(b, &why)) != RCPT_OK) {
		fail_items(b->items, b->sl, b->n, r, &why);
		b->failed = 1;
		return rcpt_ceremony_pass(diag, r, &why);
	}
	for (i = 0; i < b->n; i++) {
		if (!b->sl[i].built)
			continue;
		b->items[i].result = RCPT_OK;
		b->items[i].line = b->sl[i].line;
		b->items[i].len = b->sl[i].len;
		b->sl[i].line = NULL;
	}
	return RCPT_OK;
}

void
rcpt_ceremony_batch_fail(
    struct rcpt_ceremony_batch *b, int r, const struct rcpt_diag *why)
{
	if (b == NULL || b->failed)
		return;
	fail_items(
	    b->items, b->sl, b->n, r == RCPT_OK ? RCPT_E_INTERNAL : r, why);
	b->failed = 1;
}

void
rcpt_ceremony_batch_end(struct rcpt_ceremony *c, struct rcpt_ceremony_batch *b,
    int stored, int r, const struct rcpt_diag *why)
{
	if (b == NULL)
		return;
	if (!stored) {
		rewind_to(c, &b->st);
		if (!b->failed)
			fail_items(b->items, b->sl, b->n,
			    r == RCPT_OK ? RCPT_E_INTERNAL : r, why);
	}
	free_slots(b->sl, b->n);
	free(b);
}

int
rcpt_ceremony_append_batch(struct rcpt_ceremony *c,
    struct rcpt_ceremony_item *items, size_t n,
    rcpt_ceremony_sign_many_fn sign_many, void *sign_ctx, size_t *n_ok_out,
    struct rcpt_diag *diag)
{
	struct rcpt_ceremony_batch *b = NULL;
	size_t i, n_ok = 0;
	int r;

	if (n_ok_out != NULL)
		*n_ok_out = 0;
	if ((r = rcpt_ceremony_batch_make(
	         c, items, n, sign_many, sign_ctx, &b, diag)) != RCPT_OK)
		return r;
	if (b == NULL)
		return RCPT_OK; /* nothing to store */
	r = rcpt_ceremony_batch_store(b, diag);
	rcpt_ceremony_batch_end(c, b, r == RCPT_OK, r, NULL);
	if (r != RCPT_OK)
		return r;
	for (i = 0; i < n; i++)
		if (items[i].result == RCPT_OK)
			n_ok++;
	if (n_ok_out != NULL)
		*n_ok_out = n_ok;
	return RCPT_OK;
}

void
rcpt_ceremony_tip(const struct rcpt_ceremony *c, uint64_t *size_out,
    uint8_t hash_out[RCPT_HASH_LEN])
{
	if (size_out != NULL)
		*size_out = c->chain.next_seq;
	if (hash_out != NULL)
		memcpy(hash_out, c->chain.prev_hash, RCPT_HASH_LEN);
}
