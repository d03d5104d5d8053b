/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The anti-rollback anchor (SPEC 5): the token object holding the size
 * and root of a chain's latest checkpoint, its byte format, and the
 * consistency proof that the store extends it.  See anchor.h for the
 * format and for why the token is written after the store.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "anchor-int.h"
#include "anchor.h"
#include "checkpoint.h"
#include "encode.h"
#include "json.h"
#include "mem.h"

#define MAGIC     "RCPTANC"
#define MAGIC_LEN 7
#define PREFIX    "receiptd-anchor"
#define HASH_HEX  48 /* hex characters of the hashed name form */

int
rcpt_anchor_name(const char *chain, char out[RCPT_ANCHOR_NAME_MAX + 1])
{
	uint8_t h[RCPT_HASH_LEN];
	size_t len;

	if (chain == NULL || !rcpt_receipt_chain_is_valid(chain))
		return RCPT_E_INVAL;
	len = strlen(chain);
	if (sizeof(PREFIX) + len <= RCPT_ANCHOR_NAME_MAX) {
		(void)snprintf(
		    out, RCPT_ANCHOR_NAME_MAX + 1, "%s.%s", PREFIX, chain);
		return RCPT_OK;
	}
	/* Too long for the provider: a name from the chain's hash. */
	if (EVP_Digest(chain, len, h, NULL, EVP_sha256(), NULL) != 1)
		return RCPT_E_INTERNAL;
	memcpy(out, PREFIX ":", sizeof(PREFIX));
	rcpt_hex_encode(h, HASH_HEX / 2, out + sizeof(PREFIX));
	return RCPT_OK;
}

int
rcpt_anchor_encode(
    const struct rcpt_anchor *a, uint8_t *buf, size_t cap, size_t *len_out)
{
	size_t len, i;

	*len_out = 0;
	if (a == NULL || !rcpt_receipt_chain_is_valid(a->chain) || a->size == 0)
		return RCPT_E_INVAL;
	len = strlen(a->chain);
	if (buf == NULL || cap < 49 + len)
		return RCPT_E_INVAL;
	memcpy(buf, MAGIC, MAGIC_LEN);
	buf[7] = RCPT_ANCHOR_VERSION;
	buf[8] = (uint8_t)len;
	memcpy(buf + 9, a->chain, len);
	for (i = 0; i < 8; i++)
		buf[9 + len + i] = (uint8_t)(a->size >> (56 - 8 * i));
	memcpy(buf + 17 + len, a->root, RCPT_HASH_LEN);
	*len_out = 49 + len;
	return RCPT_OK;
}

int
rcpt_anchor_decode(const uint8_t *buf, size_t len, struct rcpt_anchor *out,
    struct rcpt_diag *diag)
{
	size_t n, i;

	memset(out, 0, sizeof(*out));
	if (buf == NULL || len < 9 || memcmp(buf, MAGIC, MAGIC_LEN) != 0)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "anchor: not a receiptd anchor record");
	if (buf[7] != RCPT_ANCHOR_VERSION)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "anchor: version: only version %d is known",
		    RCPT_ANCHOR_VERSION);
	n = buf[8];
	if (n == 0 || n > RCPT_CHAIN_MAX || len != 49 + n)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "anchor: length: must be 49 bytes plus the chain name");
	memcpy(out->chain, buf + 9, n);
	out->chain[n] = '\0';
	if (!rcpt_receipt_chain_is_valid_len((const char *)buf + 9, n)) {
		memset(out, 0, sizeof(*out));
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "anchor: chain: must be a chain name");
	}
	for (i = 0; i < 8; i++)
		out->size = out->size << 8 | buf[9 + n + i];
	if (out->size == 0) {
		memset(out, 0, sizeof(*out));
		return rcpt_diag(
		    diag, RCPT_E_CORRUPT, "anchor: size: must be at least 1");
	}
	memcpy(out->root, buf + 17 + n, RCPT_HASH_LEN);
	return RCPT_OK;
}

int
rcpt_anchor_read(struct rcpt_ks_provider *ks, const char *chain,
    struct rcpt_anchor *out, struct rcpt_diag *diag)
{
	uint8_t buf[RCPT_ANCHOR_LEN_MAX];
	char name[RCPT_ANCHOR_NAME_MAX + 1];
	size_t len = 0;
	int r;

	memset(out, 0, sizeof(*out));
	if (rcpt_anchor_name(chain, name) != RCPT_OK)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "chain: must match ^[a-z0-9][a-z0-9._-]{0,63}$");
	r = rcpt_ks_data_read(ks, name, buf, sizeof(buf), &len, diag);
	if (r == RCPT_E_TOO_LARGE)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "anchor: length: larger than any version 1 record");
	if (r != RCPT_OK)
		return r;
	if ((r = rcpt_anchor_decode(buf, len, out, diag)) != RCPT_OK)
		return r;
	if (strcmp(out->chain, chain) != 0) {
		memset(out, 0, sizeof(*out));
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "anchor: chain: the token object names another chain");
	}
	return RCPT_OK;
}

int
rcpt_anchor_write(struct rcpt_ks_provider *ks, const struct rcpt_anchor *a,
    struct rcpt_diag *diag)
{
	uint8_t buf[RCPT_ANCHOR_LEN_MAX];
	char name[RCPT_ANCHOR_NAME_MAX + 1];
	size_t len;

	if (a == NULL || rcpt_anchor_name(a->chain, name) != RCPT_OK ||
	    rcpt_anchor_encode(a, buf, sizeof(buf), &len) != RCPT_OK)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "anchor: needs a chain name and a size of at least 1");
	return rcpt_ks_data_write(ks, name, buf, len, diag);
}

/* Leaves of a snapshot, with a missing one reported as corruption. */
int
rcpt_anchor_store_root(struct rcpt_store_snap *snap, uint64_t n,
    uint8_t root[RCPT_HASH_LEN], struct rcpt_diag *diag)
{
	int r;

	r = rcpt_merkle_root(rcpt_store_leaf, snap, n, root);
	if (r == RCPT_E_NOT_FOUND)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "leaves: the store lacks leaves below its recorded size");
	return r;
}

/* The consistency proof from the anchor @p a to the store's @p n leaves. */
int
rcpt_anchor_prove_extends(struct rcpt_store_snap *snap,
    const struct rcpt_anchor *a, uint64_t n, const uint8_t root[RCPT_HASH_LEN],
    struct rcpt_diag *diag)
{
	uint8_t path[RCPT_MERKLE_MAX_PATH][RCPT_HASH_LEN];
	size_t np = 0;
	int r;

	r = rcpt_merkle_consistency_path(
	    rcpt_store_leaf, snap, a->size, n, path, &np);
	if (r == RCPT_E_NOT_FOUND)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "leaves: the store lacks leaves below its recorded size");
	if (r != RCPT_OK)
		return r;
	r = rcpt_merkle_verify_consistency(a->size, n, a->root, root,
	    (const uint8_t(*)[RCPT_HASH_LEN])path, np);
	if (r == RCPT_E_PROOF)
		return rcpt_diag(diag, RCPT_E_ANCHOR,
		    "chain %s: store of size %" PRIu64
		    " does not extend the anchor of size %" PRIu64
		    ": the store was replaced or edited",
		    a->chain, n, a->size);
	return r;
}

/* Receipt @p seq of @p snap, parsed (copies out of the snapshot). */
static int
parse_at(struct rcpt_store_snap *snap, uint64_t seq, struct rcpt_receipt *out)
{
	const char *line = NULL;
	size_t len = 0;
	int r;

	if ((r = rcpt_store_snap_receipt(snap, seq, &line, &len)) != RCPT_OK)
		return r;
	return rcpt_receipt_parse(line, len, RCPT_JSON_DEPTH_MAX, out, NULL);
}

/* The kid a receipt leaves active: a rotation's new_kid, else its own. */
static int
active_after(const struct rcpt_receipt *rc, char out[RCPT_KID_LEN + 1])
{
	json_object *v;

	if (strcmp(rc->type, RCPT_ROTATION_TYPE) != 0) {
		memcpy(out, rc->kid, RCPT_KID_LEN + 1);
		return RCPT_OK;
	}
	if (!rc->has_data || rc->data == NULL ||
	    !json_object_object_get_ex(rc->data, "new_kid", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) != RCPT_KID_LEN)
		return RCPT_E_CORRUPT;
	memcpy(out, json_object_get_string(v), RCPT_KID_LEN + 1);
	return RCPT_OK;
}

/*
 * Verification in segments.  SPEC 8 makes a revocation invalidate the
 * revoked key's receipts from "effective" on, so a chain that revoked a
 * key retroactively is BROKEN for a verifier, by design, yet its store
 * is intact and the appliance must go on.  The store check therefore
 * starts a new segment at each revocation receipt: the verifier of the
 * next one starts there (first_seq) trusting exactly the key active
 * before it and the revoked kid as retired from the start, so nothing
 * is judged again against the revocation.  Across the seam this file
 * checks prev_hash and ts itself.  What is lost at a seam: the kids used
 * before it, which the next segment cannot see coming back (keys are
 * generated by the token, so that needs the token's help anyway).
 */
struct seg {
	struct rcpt_verifier *v;
	struct rcpt_merkle_acc acc; /* the store's leaves of the segment */
	struct rcpt_jwks trust;
	struct rcpt_jwks_key keys[2];
	uint64_t first;
};

/* Signature workers for the check: one per CPU, as receiptctl verify. */
static int
cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

static int
seg_start(struct seg *g, uint64_t first, struct rcpt_diag *diag)
{
	struct rcpt_verify_opts o;

	memset(&o, 0, sizeof(o));
	o.threads = cpus();
	o.first_seq = first;
	o.trust = first > 0 ? &g->trust : NULL;
	g->first = first;
	memset(&g->acc, 0, sizeof(g->acc));
	if (rcpt_verifier_new(&o, &g->v) != RCPT_OK)
		return rcpt_diag(diag, RCPT_E_NOMEM, "anchor: out of memory");
	return RCPT_OK;
}

/* Finishes the segment and ties it to the store's leaves. */
static int
seg_finish(struct seg *g, const struct rcpt_store_chain *rec, uint64_t end,
    int err, struct rcpt_verify_result *res, struct rcpt_diag *diag)
{
	uint8_t a[RCPT_HASH_LEN], b[RCPT_HASH_LEN];

	rcpt_verifier_finish(g->v, NULL, res);
	if (res->status != RCPT_VERIFY_CLEAN) {
		if (res->has_seq)
			return rcpt_diag(diag, err,
			    "chain %s: store receipt at seq %" PRIu64
			    " fails verification: %s",
			    rec->name, res->seq, res->reason);
		return rcpt_diag(diag, err,
		    "chain %s: the stored receipts fail verification: %s",
		    rec->name, res->reason);
	}
	if (res->count != end - g->first || strcmp(res->chain, rec->name) != 0)
		return rcpt_diag(diag, err,
		    "chain %s: record: size must be the number of verified "
		    "receipts",
		    rec->name);
	/* Same size and root: every leaf is its receipt's. */
	rcpt_merkle_acc_root(&res->acc, a);
	rcpt_merkle_acc_root(&g->acc, b);
	if (res->acc.size != g->acc.size || memcmp(a, b, RCPT_HASH_LEN) != 0)
		return rcpt_diag(diag, err,
		    "chain %s: leaves: do not match the verified receipts' "
		    "entry hashes",
		    rec->name);
	return RCPT_OK;
}

/*
 * Ends the segment before revocation @p rv (at seq @p seq) and starts
 * the next one at it, checking the seam.
 */
static int
seam(struct seg *g, struct rcpt_store_snap *snap,
    const struct rcpt_store_chain *rec, uint64_t seq,
    const struct rcpt_receipt *rv, int err, struct rcpt_verify_result *res,
    char origin[RCPT_ORIGIN_MAX + 1], struct rcpt_diag *diag)
{
	struct rcpt_receipt prev;
	json_object *x;
	uint8_t pub[RCPT_ED25519_PUB_LEN];
	int r;

	rcpt_receipt_init(&prev);
	if ((r = seg_finish(g, rec, seq, err, res, diag)) != RCPT_OK)
		return r;
	if (g->first == 0)
		memcpy(origin, res->origin, RCPT_ORIGIN_MAX + 1);
	memset(g->keys, 0, sizeof(g->keys));
	if (parse_at(snap, seq - 1, &prev) != RCPT_OK ||
	    memcmp(rv->prev_hash, res->tip_hash, RCPT_HASH_LEN) != 0 ||
	    strcmp(rv->ts, prev.ts) < 0 ||
	    active_after(&prev, g->keys[0].kid) != RCPT_OK ||
	    rcpt_verifier_key(g->v, g->keys[0].kid, pub) != RCPT_OK)
		goto out;
	/*
	 * The revoked kid must be a key this segment knows other than the
	 * active one: one it saw rotated away (retired).  Its public key is
	 * not needed: retired from the start, it signs nothing after.
	 */
	if (!rv->has_data || rv->data == NULL ||
	    !json_object_object_get_ex(rv->data, "kid", &x) ||
	    !json_object_is_type(x, json_type_string) ||
	    json_object_get_string_len(x) != RCPT_KID_LEN ||
	    strcmp(json_object_get_string(x), g->keys[0].kid) == 0)
		goto out;
	switch (rcpt_verifier_key(
	    g->v, json_object_get_string(x), g->keys[1].pub)) {
	case RCPT_OK:
	case RCPT_E_DENIED:
		break;
	default:
		goto out;
	}
	memcpy(g->keys[0].pub, pub, sizeof(pub));
	memcpy(g->keys[0].chain, rec->name, strlen(rec->name) + 1);
	g->keys[0].status = RCPT_KEY_ACTIVE;
	/* Retired from the start: it signs nothing in the next segment. */
	memcpy(g->keys[1].kid, json_object_get_string(x), RCPT_KID_LEN + 1);
	memcpy(g->keys[1].chain, rec->name, strlen(rec->name) + 1);
	g->keys[1].status = RCPT_KEY_RETIRED;
	g->trust.keys = g->keys;
	g->trust.n = 2;
	rcpt_verifier_free(g->v);
	g->v = NULL;
	r = seg_start(g, seq, diag);
	goto done;
out:
	r = rcpt_diag(diag, err,
	    "chain %s: store receipt at seq %" PRIu64
	    " fails verification: the revocation does not follow the "
	    "receipt before it",
	    rec->name, seq);
done:
	rcpt_receipt_clear(&prev);
	return r;
}

/* 1 when @p line is a revocation receipt, parsed into @p out. */
static int
is_revocation(struct rcpt_store_snap *snap, uint64_t seq, const char *line,
    struct rcpt_receipt *out)
{
	if (strstr(line, "\"type\":\"" RCPT_REVOCATION_TYPE "\"") == NULL)
		return 0;
	rcpt_receipt_clear(out);
	return parse_at(snap, seq, out) == RCPT_OK &&
	       strcmp(out->type, RCPT_REVOCATION_TYPE) == 0;
}

int
rcpt_anchor_verify(struct rcpt_store_snap *snap,
    const struct rcpt_store_chain *rec, int err,
    struct rcpt_anchor_verified *out, struct rcpt_diag *diag)
{
	struct seg g;
	struct rcpt_verify_result *res = NULL;
	struct rcpt_receipt rc;
	char origin[RCPT_ORIGIN_MAX + 1] = "";
	const char *line;
	uint8_t leaf[RCPT_HASH_LEN];
	size_t len;
	uint64_t seq;
	int r = RCPT_E_INTERNAL, fed = 1;

	memset(out, 0, sizeof(*out));
	memset(&g, 0, sizeof(g));
	rcpt_receipt_init(&rc);
	if (snap == NULL || rec == NULL || rec->size == 0 ||
	    (err != RCPT_E_ANCHOR && err != RCPT_E_CORRUPT))
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "anchor: missing argument");
	if ((res = rcpt_malloc(sizeof(*res))) == NULL)
		return RCPT_E_NOMEM;
	if ((r = seg_start(&g, 0, diag)) != RCPT_OK)
		goto out;
	for (seq = 0; seq < rec->size && fed; seq++) {
		r = rcpt_store_snap_receipt(snap, seq, &line, &len);
		if (r == RCPT_OK && seq > g.first &&
		    is_revocation(snap, seq, line, &rc)) {
			if ((r = seam(&g, snap, rec, seq, &rc, err, res, origin,
			         diag)) != RCPT_OK)
				goto out;
			r = rcpt_store_snap_receipt(snap, seq, &line, &len);
		}
		if (r == RCPT_E_NOT_FOUND) {
			r = rcpt_diag(diag, err,
			    "chain %s: store receipt at seq %" PRIu64
			    " is missing below the recorded size %" PRIu64,
			    rec->name, seq, rec->size);
			goto out;
		}
		if (r != RCPT_OK) {
			r = rcpt_diag(diag, r,
			    "chain %s: receipts: seq %" PRIu64 " unreadable",
			    rec->name, seq);
			goto out;
		}
		r = rcpt_verifier_feed(g.v, line, len);
		if (r == RCPT_E_CORRUPT)
			fed = 0; /* finishing says where and why */
		else if (r != RCPT_OK)
			goto out;
		if ((r = rcpt_store_leaf(snap, seq, leaf)) != RCPT_OK) {
			r = rcpt_anchor_store_root(
			    snap, rec->size, out->root, diag);
			r = r == RCPT_OK ? RCPT_E_CORRUPT : r;
			goto out;
		}
		rcpt_merkle_acc_push(&g.acc, leaf);
	}
	if ((r = seg_finish(&g, rec, rec->size, err, res, diag)) != RCPT_OK)
		goto out;
	if (g.first == 0)
		memcpy(origin, res->origin, sizeof(origin));
	r = err;
	if (memcmp(res->tip_hash, rec->tip_hash, RCPT_HASH_LEN) != 0) {
		(void)rcpt_diag(diag, err,
		    "chain %s: record: tip_hash must be the last verified "
		    "receipt's",
		    rec->name);
		goto out;
	}
	if (strcmp(origin, rec->origin) != 0) {
		(void)rcpt_diag(diag, err,
		    "chain %s: record: origin must be the genesis receipt's "
		    "data.origin",
		    rec->name);
		goto out;
	}
	if ((r = rcpt_anchor_store_root(snap, rec->size, out->root, diag)) !=
	    RCPT_OK)
		goto out;
	rcpt_receipt_clear(&rc);
	if ((r = parse_at(snap, rec->size - 1, &rc)) != RCPT_OK ||
	    (r = active_after(&rc, out->active_kid)) != RCPT_OK ||
	    (r = rcpt_verifier_key(g.v, out->active_kid, out->active_pub)) !=
	        RCPT_OK) {
		r = r == RCPT_E_NOMEM
		        ? r
		        : rcpt_diag(diag, err,
		              "chain %s: the verified receipts name no usable "
		              "active key",
		              rec->name);
		goto out;
	}
	out->size = rec->size;
	memcpy(out->origin, origin, sizeof(out->origin));
	r = RCPT_OK;
out:
	if (r != RCPT_OK)
		memset(out, 0, sizeof(*out));
	rcpt_receipt_clear(&rc);
	rcpt_verifier_free(g.v);
	free(res);
	return r;
}

/*
 * rcpt_anchor_check, and for the checkpoint of a chain-create that
 * stopped before its anchor (@p genesis_ok), a chain of only its genesis
 * without one.
 */
static int
check(struct rcpt_store *s, struct rcpt_ks_provider *ks, const char *chain,
    int genesis_ok, struct rcpt_anchor_state *st, struct rcpt_diag *diag)
{
	struct rcpt_anchor a;
	struct rcpt_store_chain rec;
	struct rcpt_store_snap *snap = NULL;
	struct rcpt_anchor_state mine;
	struct rcpt_anchor_verified ver;
	struct rcpt_diag tmp;
	int r = RCPT_E_INTERNAL, fresh;

	memset(&mine, 0, sizeof(mine));
	if (st != NULL)
		memset(st, 0, sizeof(*st));
	if (s == NULL || ks == NULL || chain == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "anchor: missing argument");
	rcpt_diag_clear(&tmp);
	r = rcpt_anchor_read(ks, chain, &a, &tmp);
	if (r != RCPT_OK && r != RCPT_E_NOT_FOUND)
		return rcpt_diag(diag, r, "%s", rcpt_diag_msg(&tmp, r));
	fresh = r == RCPT_E_NOT_FOUND;
	/* One snapshot: record, leaves and receipts agree with each other. */
	if ((r = rcpt_store_snap_begin(s, chain, &snap, diag)) != RCPT_OK)
		goto out;
	rcpt_diag_clear(&tmp);
	r = rcpt_store_snap_chain(snap, &rec, &tmp);
	if (r == RCPT_E_NOT_FOUND && !fresh) {
		r = rcpt_diag(diag, RCPT_E_ANCHOR,
		    "chain %s: store has 0 receipts but the token's anchor "
		    "records %" PRIu64
		    ": the store was rolled back or truncated",
		    chain, a.size);
		goto out;
	}
	if (r != RCPT_OK) {
		r = rcpt_diag(diag, r, "%s", rcpt_diag_msg(&tmp, r));
		goto out;
	}
	if (fresh && !(genesis_ok && rec.size == 1)) {
		r = rcpt_diag(diag, RCPT_E_ANCHOR,
		    "chain %s has %" PRIu64
		    " receipts but the token holds no anchor for it: the "
		    "store is not one this token vouched for",
		    chain, rec.size);
		goto out;
	}
	if (!fresh && rec.size < a.size) {
		r = rcpt_diag(diag, RCPT_E_ANCHOR,
		    "chain %s: store has %" PRIu64
		    " receipts but the token's anchor records %" PRIu64
		    ": the store was rolled back or truncated",
		    chain, rec.size, a.size);
		goto out;
	}
	if ((r = rcpt_anchor_store_root(
	         snap, rec.size, mine.store_root, diag)) != RCPT_OK)
		goto out;
	if (!fresh && (r = rcpt_anchor_prove_extends(snap, &a, rec.size,
	                   mine.store_root, diag)) != RCPT_OK)
		goto out;
	/* The proof covers the anchored prefix; this covers every receipt. */
	if ((r = rcpt_anchor_verify(snap, &rec, RCPT_E_ANCHOR, &ver, diag)) !=
	    RCPT_OK)
		goto out;
	if (strcmp(rec.active_kid, ver.active_kid) != 0) {
		r = rcpt_diag(diag, RCPT_E_ANCHOR,
		    "chain %s: record: active_kid must be the key the "
		    "verified receipts make active",
		    chain);
		goto out;
	}
	mine.fresh = fresh;
	mine.anchor_size = fresh ? 0 : a.size;
	mine.store_size = rec.size;
	memcpy(mine.origin, ver.origin, sizeof(mine.origin));
	memcpy(mine.active_kid, ver.active_kid, sizeof(mine.active_kid));
	memcpy(mine.active_pub, ver.active_pub, sizeof(mine.active_pub));
	if (st != NULL)
		*st = mine;
	r = RCPT_OK;
out:
	rcpt_store_snap_end(snap);
	return r;
}

int
rcpt_anchor_check(struct rcpt_store *s, struct rcpt_ks_provider *ks,
    const char *chain, struct rcpt_anchor_state *st, struct rcpt_diag *diag)
{
	return check(s, ks, chain, 0, st, diag);
}

int
rcpt_anchor_sign_store(struct rcpt_store *s, const struct rcpt_signer *signer,
    const char *origin, const struct rcpt_anchor *a, char **note_out,
    struct rcpt_diag *diag)
{
	struct rcpt_store_txn *t = NULL;
	struct rcpt_diag tmp;
	char *note = NULL;
	int r = RCPT_E_INTERNAL, attempt;

	*note_out = NULL;
	r = rcpt_checkpoint_sign(
	    origin, a->chain, a->size, a->root, signer, &note);
	if (r != RCPT_OK)
		return rcpt_diag(diag, r, "checkpoint: signing failed");
	/* A full map is grown by the store; the transaction runs again. */
	for (attempt = 0; attempt < 2; attempt++) {
		rcpt_diag_clear(&tmp);
		if ((r = rcpt_store_txn_begin(s, &t, &tmp)) != RCPT_OK)
			break;
		r = rcpt_store_put_checkpoint(t, a->chain, a->size, note, &tmp);
		if (r == RCPT_OK)
			r = rcpt_store_txn_commit(t, &tmp);
		else
			rcpt_store_txn_abort(t);
		t = NULL; /* gone either way */
		if (r != RCPT_E_STORAGE_FULL)
			break;
	}
	if (r != RCPT_OK) {
		free(note);
		return rcpt_diag(diag, r, "%s", rcpt_diag_msg(&tmp, r));
	}
	*note_out = note;
	return RCPT_OK;
}

int
rcpt_anchor_checkpoint(struct rcpt_store *s, struct rcpt_ks_provider *ks,
    const struct rcpt_signer *signer, const char *chain, char **note_out,
    struct rcpt_diag *diag)
{
	struct rcpt_anchor_state st;
	struct rcpt_anchor a;
	char *note = NULL;
	int r = RCPT_E_INTERNAL;

	if (note_out == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "anchor: missing argument");
	*note_out = NULL;
	if (signer == NULL || signer->sign_msg == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "signer: missing");
	if ((r = check(s, ks, chain, 1, &st, diag)) != RCPT_OK)
		return r;
	if (strcmp(signer->kid, st.active_kid) != 0)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "signer: a checkpoint is signed by the chain's active key");
	/* The key the verified receipts name, not one a registry names. */
	if (memcmp(signer->pub, st.active_pub, RCPT_ED25519_PUB_LEN) != 0)
		return rcpt_diag(diag, RCPT_E_ANCHOR,
		    "chain %s: signer: its public key is not the one the "
		    "verified receipts name for kid %s",
		    chain, st.active_kid);
	memset(&a, 0, sizeof(a));
	memcpy(a.chain, chain, strlen(chain) + 1);
	a.size = st.store_size;
	memcpy(a.root, st.store_root, RCPT_HASH_LEN);
	/* Store first: the anchor must never describe what is not durable. */
	if ((r = rcpt_anchor_sign_store(
	         s, signer, st.origin, &a, &note, diag)) != RCPT_OK ||
	    (r = rcpt_anchor_write(ks, &a, diag)) != RCPT_OK)
		goto out;
	*note_out = note;
	note = NULL;
	r = RCPT_OK;
out:
	free(note);
	return r;
}
