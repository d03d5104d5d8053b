/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pruning a chain (SPEC 6): client receipts older than a cut-off lose
 * their data and gain pruned_at, in one durable transaction, and the
 * store is then compacted so that the data's bytes leave data.mdb.
 * Every other member is kept, so entry_hash, the leaves, checkpoints
 * and signatures stay valid, and the writer's state does not change;
 * each pruned line is checked to hash to the entry_hash it had.
 * Genesis, rotation and revocation receipts are never pruned.  It does
 * not decide the cut-off (retention is configuration).
 *
 * The store has one writer lock for all chains, so the O(n) search for
 * what is due runs before the write transaction, over short snapshots;
 * the transaction then only visits the window it found, typically the
 * receipts that aged past the cut-off since the last prune.
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ceremony-int.h"
#include "ceremony.h"
#include "json.h"
#include "mem.h"

#define SCAN_CHUNK 4096 /* receipts read under one snapshot */

/* What is to be done with one receipt. */
enum verdict {
	KEEP, /* reserved type, or pruned already */
	DUE,  /* to be pruned */
	STOP  /* at or after the cut-off: so is every later one */
};

/* Reads receipt @p seq of @p line; the view borrows @p line. */
static int
judge(const struct rcpt_ceremony *c, uint64_t seq, const char *line, size_t len,
    const char *before, enum verdict *v, struct rcpt_diag *diag)
{
	struct rcpt_receipt_view vw;
	struct rcpt_diag tmp;
	int r;

	*v = KEEP;
	rcpt_diag_clear(&tmp);
	if ((r = rcpt_receipt_scan(
	         line, len, RCPT_JSON_DEPTH_MAX, &vw, &tmp)) != RCPT_OK)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: receipts: seq %" PRIu64 " does not parse: %s",
		    c->chain.name, seq, rcpt_diag_msg(&tmp, r));
	if (vw.seq_num != seq)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: receipts: seq %" PRIu64
		    " is stored under another seq",
		    c->chain.name, seq);
	/* Spans keep their quotes; a TS is fixed-width, so bytes compare. */
	if (vw.ts.len != RCPT_TS_LEN + 2)
		return RCPT_E_INTERNAL; /* rcpt_receipt_scan checked it */
	if (memcmp(vw.ts.p + 1, before, RCPT_TS_LEN) >= 0)
		*v = STOP;
	else if (vw.has_data &&
	         !(vw.type.len >= 11 &&
	             strncasecmp(vw.type.p + 1, "receiptd.", 9) == 0))
		*v = DUE;
	return RCPT_OK;
}

/*
 * Finds the window [*first_out, *end_out) holding every receipt that is
 * due, reading committed receipts under snapshots of SCAN_CHUNK
 * receipts each, so that none holds off the map's growth for long.
 */
static int
find_window(const struct rcpt_ceremony *c, const char *before,
    uint64_t *first_out, uint64_t *end_out, struct rcpt_diag *diag)
{
	struct rcpt_store_snap *snap = NULL;
	enum verdict v = KEEP;
	const char *line;
	size_t len;
	uint64_t seq, first = UINT64_MAX;
	int r = RCPT_OK;

	for (seq = 0; seq < c->chain.next_seq; seq++) {
		if (seq % SCAN_CHUNK == 0) {
			rcpt_store_snap_end(snap);
			snap = NULL;
			if ((r = rcpt_store_snap_begin(c->store, c->chain.name,
			         &snap, diag)) != RCPT_OK)
				break;
		}
		if ((r = rcpt_store_snap_receipt(snap, seq, &line, &len)) !=
		    RCPT_OK) {
			r = rcpt_diag(diag,
			    r == RCPT_E_NOT_FOUND ? RCPT_E_CORRUPT : r,
			    "chain %s: receipts: seq %" PRIu64 " unreadable",
			    c->chain.name, seq);
			break;
		}
		if ((r = judge(c, seq, line, len, before, &v, diag)) !=
		        RCPT_OK ||
		    v == STOP)
			break;
		if (v == DUE && first == UINT64_MAX)
			first = seq;
	}
	rcpt_store_snap_end(snap);
	*first_out = first == UINT64_MAX ? seq : first;
	*end_out = seq;
	return r;
}

/* The stored line @p line of seq @p seq, made pruned with @p now. */
static int
pruned_form(const struct rcpt_ceremony *c, uint64_t seq, const char *line,
    size_t len, const char *now, char **out, size_t *len_out,
    struct rcpt_diag *diag)
{
	struct rcpt_receipt rc;
	struct rcpt_diag tmp;
	uint8_t h[RCPT_HASH_LEN];
	int r = RCPT_E_INTERNAL;

	*out = NULL;
	rcpt_receipt_init(&rc);
	rcpt_diag_clear(&tmp);
	/* Big integers in data parse (RCPT_JSON_BIG_INTS); data goes anyway. */
	if ((r = rcpt_receipt_parse(
	         line, len, RCPT_JSON_DEPTH_MAX, &rc, &tmp)) != RCPT_OK) {
		r = r == RCPT_E_NOMEM
		        ? r
		        : rcpt_diag(diag, RCPT_E_CORRUPT,
		              "chain %s: receipts: seq %" PRIu64
		              " does not parse: %s",
		              c->chain.name, seq, rcpt_diag_msg(&tmp, r));
		goto out;
	}
	json_object_put(rc.data);
	rc.data = NULL;
	rc.has_data = false;
	memcpy(rc.pruned_at, now, RCPT_TS_LEN + 1);
	/* The signed view must not move: it is what the signature seals. */
	if ((r = rcpt_receipt_entry_hash(&rc, h)) != RCPT_OK)
		goto out;
	if (strcmp(rc.chain, c->chain.name) != 0 ||
	    memcmp(h, rc.entry_hash, RCPT_HASH_LEN) != 0) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: receipts: seq %" PRIu64
		    " does not hash to its entry_hash; not pruned",
		    c->chain.name, seq);
		goto out;
	}
	r = rcpt_receipt_serialize(&rc, out, len_out);
out:
	rcpt_receipt_clear(&rc);
	return r;
}

/*
 * Prunes receipt @p seq in @p t when it is due.  The line is read
 * committed, outside @p t: only this handle writes the chain and @p t
 * has not touched that seq yet, so both agree, and no snapshot stays
 * open while @p t may need the map grown.
 */
static int
prune_one(const struct rcpt_ceremony *c, struct rcpt_store_txn *t, uint64_t seq,
    const char *before, const char *now, enum verdict *v,
    struct rcpt_diag *diag)
{
	struct rcpt_diag tmp;
	char *line = NULL, *nl = NULL;
	size_t len = 0, nlen = 0;
	int r = RCPT_E_INTERNAL;

	*v = KEEP;
	rcpt_diag_clear(&tmp);
	r = rcpt_store_get_receipt(
	    c->store, c->chain.name, seq, &line, &len, &tmp);
	if (r != RCPT_OK) {
		r = rcpt_diag(diag, r == RCPT_E_NOT_FOUND ? RCPT_E_CORRUPT : r,
		    "chain %s: receipts: seq %" PRIu64 " unreadable: %s",
		    c->chain.name, seq, rcpt_diag_msg(&tmp, r));
		goto out;
	}
	if ((r = judge(c, seq, line, len, before, v, diag)) != RCPT_OK ||
	    *v != DUE)
		goto out;
	if ((r = pruned_form(c, seq, line, len, now, &nl, &nlen, diag)) !=
	        RCPT_OK ||
	    (r = rcpt_store_replace_receipt(
	         t, c->chain.name, seq, nl, nlen, diag)) != RCPT_OK)
		goto out;
out:
	free(nl);
	/* The copy held the data being removed: leave none on the heap. */
	if (line != NULL)
		rcpt_freezero(line, len);
	return r;
}

/* One transaction over [first, end); *n_out receipts pruned. */
static int
prune_txn(const struct rcpt_ceremony *c, uint64_t first, uint64_t end,
    const char *before, const char *now, uint64_t *n_out,
    struct rcpt_diag *diag)
{
	struct rcpt_store_txn *t = NULL;
	struct rcpt_store_chain rec;
	enum verdict v = KEEP;
	uint64_t seq, n = 0;
	int r = RCPT_E_INTERNAL;

	*n_out = 0;
	if ((r = rcpt_store_txn_begin(c->store, &t, diag)) != RCPT_OK)
		return r;
	if ((r = rcpt_store_txn_get_chain(t, c->chain.name, &rec, diag)) !=
	    RCPT_OK)
		goto out;
	if (rec.size != c->chain.next_seq ||
	    memcmp(rec.tip_hash, c->chain.prev_hash, RCPT_HASH_LEN) != 0) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: the stored tip is not the one this handle "
		    "links to",
		    c->chain.name);
		goto out;
	}
	for (seq = first; seq < end && v != STOP; seq++) {
		if ((r = prune_one(c, t, seq, before, now, &v, diag)) !=
		    RCPT_OK)
			goto out;
		if (v == DUE)
			n++;
	}
	if (n == 0) {
		r = RCPT_OK; /* nothing to commit */
		goto out;
	}
	r = rcpt_store_txn_commit(t, diag);
	t = NULL; /* gone either way */
	if (r == RCPT_OK)
		*n_out = n;
out:
	rcpt_store_txn_abort(t);
	return r;
}

int
rcpt_ceremony_prune(struct rcpt_ceremony *c, const char *before,
    const char *now, uint64_t *n_out, struct rcpt_diag *diag)
{
	struct rcpt_diag tmp;
	uint64_t n = 0, first = 0, end = 0;
	int r = RCPT_E_INTERNAL, attempt;

	if (n_out != NULL)
		*n_out = 0;
	if ((r = rcpt_ceremony_usable(c, diag)) != RCPT_OK)
		return r;
	if (before == NULL || !rcpt_ts_is_valid(before, strlen(before)))
		return rcpt_diag(diag, RCPT_E_INVAL, "before: must be a TS");
	if (now == NULL || !rcpt_ts_is_valid(now, strlen(now)))
		return rcpt_diag(diag, RCPT_E_INVAL, "now: must be a TS");
	if ((r = find_window(c, before, &first, &end, diag)) != RCPT_OK)
		return r;
	if (first == end)
		return RCPT_OK;
	/* A full map is grown by the store; the transaction runs again. */
	for (attempt = 0; attempt < 2; attempt++) {
		rcpt_diag_clear(&tmp);
		if ((r = prune_txn(c, first, end, before, now, &n, &tmp)) !=
		    RCPT_E_STORAGE_FULL)
			break;
	}
	if (r != RCPT_OK)
		return rcpt_ceremony_pass(diag, r, &tmp);
	if (n_out != NULL)
		*n_out = n;
	if (n == 0)
		return RCPT_OK;
	/* Replaced lines linger in free pages until the file is rewritten. */
	return rcpt_store_compact(c->store, diag);
}
