/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The records of the chain store and the calls that write them: chain
 * and key records in a small versioned binary form, receipts, leaves
 * and checkpoints under name 0x00 be64 keys.  Every record read back is
 * parsed strictly and checked as on the way in, so a damaged one is
 * RCPT_E_CORRUPT naming the chain or kid.  Reads are in store-read.c.  It
 * checks shapes, not meaning: hashing, linking and signing are chain.c's and
 * the verifier's.
 *
 * Chain record, version 1 (str8 is a length byte, then the bytes):
 *   u8 1, u8 sealing, str8 name, str8 origin, be64 size,
 *   tip_hash[32], str8 tip_ts, str8 active_kid
 * Key record, version 1 (the key is the kid):
 *   u8 1, u8 status, pub[32], str8 chain, str8 provider,
 *   be16 length + handle, str8 created, str8 retired, str8 revoked
 */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "encode.h"
#include "mem.h"
#include "receipt.h"
#include "store-int.h"
#include "ts.h"

#define REC_VERSION 1
#define CHAIN_REC_MAX                                                       \
	(2 + 1 + RCPT_CHAIN_MAX + 1 + RCPT_ORIGIN_MAX + 8 + RCPT_HASH_LEN + \
	    1 + RCPT_TS_LEN + 1 + RCPT_KID_LEN)
#define KEY_REC_MAX                                                         \
	(2 + RCPT_ED25519_PUB_LEN + 1 + RCPT_CHAIN_MAX + 1 + 32 + 2 + 511 + \
	    3 * (1 + RCPT_TS_LEN))

/* Appends to a fixed buffer sized for the largest record. */
struct enc {
	uint8_t *p;
	size_t len, cap;
};

/* Reads a record; any overrun or bad length sets bad. */
struct dec {
	const uint8_t *p;
	size_t len, off;
	int bad;
};

static void
enc_bytes(struct enc *e, const void *p, size_t n)
{
	/* Our invariant: callers validate, and buffers fit the maximum. */
	assert(n <= e->cap - e->len);
	memcpy(e->p + e->len, p, n);
	e->len += n;
}

static void
enc_u8(struct enc *e, unsigned v)
{
	uint8_t b = (uint8_t)v;

	enc_bytes(e, &b, 1);
}

static void
enc_str8(struct enc *e, const char *s)
{
	size_t n = strlen(s);

	enc_u8(e, (unsigned)n);
	enc_bytes(e, s, n);
}

static void
enc_be(struct enc *e, uint64_t v, size_t n)
{
	uint8_t b[8];
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	enc_bytes(e, b, n);
}

static void
dec_bytes(struct dec *d, void *out, size_t n)
{
	if (d->bad || n > d->len - d->off) {
		d->bad = 1;
		memset(out, 0, n);
		return;
	}
	memcpy(out, d->p + d->off, n);
	d->off += n;
}

static unsigned
dec_u8(struct dec *d)
{
	uint8_t b;

	dec_bytes(d, &b, 1);
	return b;
}

static uint64_t
dec_be(struct dec *d, size_t n)
{
	uint8_t b[8];
	uint64_t v = 0;
	size_t i;

	dec_bytes(d, b, n);
	for (i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

/* Reads @p n bytes into a C string of @p cap bytes; NUL inside is bad. */
static void
dec_str(struct dec *d, char *out, size_t cap, size_t n)
{
	out[0] = '\0';
	if (n >= cap) {
		d->bad = 1;
		return;
	}
	dec_bytes(d, out, n);
	out[d->bad ? 0 : n] = '\0';
	if (memchr(out, '\0', n) != NULL)
		d->bad = 1;
}

/* 1 when the C string @p s ends within @p cap bytes. */
static int
fits(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

int
rcpt_store_kid_ok(const char *kid)
{
	uint8_t raw[32];

	return kid != NULL && strnlen(kid, RCPT_KID_LEN + 1) == RCPT_KID_LEN &&
	       rcpt_b64url_decode(kid, RCPT_KID_LEN, raw, sizeof(raw)) ==
	           RCPT_OK;
}

int
rcpt_store_name_ok(const char *name)
{
	return name != NULL && fits(name, RCPT_CHAIN_MAX + 1) &&
	       rcpt_receipt_chain_is_valid(name);
}

static int
ts_ok(const char *ts, size_t cap)
{
	return fits(ts, cap) && rcpt_ts_is_valid(ts, strlen(ts));
}

/* What is wrong with @p c, as "member: rule", or NULL. */
static const char *
chain_problem(const struct rcpt_store_chain *c)
{
	if (!rcpt_store_name_ok(c->name))
		return "name: " STORE_NAME_RULE;
	if (!fits(c->origin, sizeof(c->origin)) ||
	    !rcpt_checkpoint_origin_is_valid(c->origin))
		return "origin: must be 1 to 200 bytes of [A-Za-z0-9._~:/-]";
	if (c->sealing != RCPT_SEALING_EACH && c->sealing != RCPT_SEALING_BATCH)
		return "sealing: must be each or batch";
	if (c->size == 0 &&
	    (!fits(c->tip_ts, sizeof(c->tip_ts)) || c->tip_ts[0] != '\0'))
		return "tip_ts: must be empty for an empty chain";
	if (c->size > 0 && !ts_ok(c->tip_ts, sizeof(c->tip_ts)))
		return "tip_ts: not a TS";
	if (!rcpt_store_kid_ok(c->active_kid))
		return "active_kid: not a key id";
	return NULL;
}

static int
provider_ok(const char *p)
{
	size_t i, n;

	if (!fits(p, 33) || (n = strlen(p)) == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
		        p[i]) == NULL)
			return 0;
	}
	return 1;
}

static int
handle_ok(const char *h, size_t cap)
{
	const unsigned char *u = (const unsigned char *)h;

	if (!fits(h, cap))
		return 0;
	for (; *u != '\0'; u++) {
		if (*u < 0x20 || *u == 0x7f)
			return 0;
	}
	return 1;
}

static const char *
key_problem(const struct rcpt_store_key *k)
{
	char kid[RCPT_KID_LEN + 1];

	if (!rcpt_store_kid_ok(k->kid))
		return "kid: not a key id (43 characters of base64url)";
	if (rcpt_jwk_kid(k->pub, kid) != RCPT_OK || strcmp(kid, k->kid) != 0)
		return "kid: not the thumbprint of pub";
	if (!rcpt_store_name_ok(k->chain))
		return "chain: " STORE_NAME_RULE;
	if (!provider_ok(k->provider))
		return "provider: must be 1 to 32 of [A-Za-z0-9._-]";
	if (!handle_ok(k->handle, sizeof(k->handle)))
		return "handle: longer than 511 bytes or control characters";
	if (k->status != RCPT_KEY_ACTIVE && k->status != RCPT_KEY_RETIRED &&
	    k->status != RCPT_KEY_REVOKED)
		return "status: must be active, retired or revoked";
	if (!ts_ok(k->created, sizeof(k->created)))
		return "created: not a TS";
	if (!fits(k->retired, sizeof(k->retired)) ||
	    (k->retired[0] != '\0' && !ts_ok(k->retired, sizeof(k->retired))))
		return "retired: not a TS";
	if (!fits(k->revoked, sizeof(k->revoked)) ||
	    (k->revoked[0] != '\0' && !ts_ok(k->revoked, sizeof(k->revoked))))
		return "revoked: not a TS";
	switch (k->status) {
	case RCPT_KEY_ACTIVE:
		if (k->retired[0] != '\0' || k->revoked[0] != '\0')
			return "retired: not allowed for an active key";
		break;
	case RCPT_KEY_RETIRED:
		if (k->retired[0] == '\0')
			return "retired: required for a retired key";
		if (k->revoked[0] != '\0')
			return "revoked: not allowed for a retired key";
		break;
	case RCPT_KEY_REVOKED:
		if (k->revoked[0] == '\0')
			return "revoked: required for a revoked key";
		break;
	}
	return NULL;
}

static size_t
encode_chain(const struct rcpt_store_chain *c, uint8_t buf[CHAIN_REC_MAX])
{
	struct enc e = {buf, 0, CHAIN_REC_MAX};

	enc_u8(&e, REC_VERSION);
	enc_u8(&e, (unsigned)c->sealing);
	enc_str8(&e, c->name);
	enc_str8(&e, c->origin);
	enc_be(&e, c->size, 8);
	enc_bytes(&e, c->tip_hash, RCPT_HASH_LEN);
	enc_str8(&e, c->tip_ts);
	enc_str8(&e, c->active_kid);
	return e.len;
}

/* Parses and checks the record stored under chain @p name. */
int
rcpt_store_decode_chain(const MDB_val *v, const char *name,
    struct rcpt_store_chain *c, struct rcpt_diag *diag)
{
	struct dec d = {v->mv_data, v->mv_size, 0, 0};
	const char *why = NULL;

	memset(c, 0, sizeof(*c));
	if (dec_u8(&d) != REC_VERSION) {
		why = "unknown record version";
	} else {
		c->sealing = (enum rcpt_sealing)dec_u8(&d);
		dec_str(&d, c->name, sizeof(c->name), dec_u8(&d));
		dec_str(&d, c->origin, sizeof(c->origin), dec_u8(&d));
		c->size = dec_be(&d, 8);
		dec_bytes(&d, c->tip_hash, RCPT_HASH_LEN);
		dec_str(&d, c->tip_ts, sizeof(c->tip_ts), dec_u8(&d));
		dec_str(&d, c->active_kid, sizeof(c->active_kid), dec_u8(&d));
		if (d.bad || d.off != d.len)
			why = "bad length";
		else if (strcmp(c->name, name) != 0)
			why = "name differs from its key";
		else
			why = chain_problem(c);
	}
	if (why == NULL)
		return RCPT_OK;
	memset(c, 0, sizeof(*c));
	return rcpt_diag(diag, RCPT_E_CORRUPT,
	    "chains: record of chain %s is damaged (%s)", name, why);
}

static size_t
encode_key(const struct rcpt_store_key *k, uint8_t buf[KEY_REC_MAX])
{
	struct enc e = {buf, 0, KEY_REC_MAX};
	size_t hl = strlen(k->handle);

	enc_u8(&e, REC_VERSION);
	enc_u8(&e, (unsigned)k->status);
	enc_bytes(&e, k->pub, RCPT_ED25519_PUB_LEN);
	enc_str8(&e, k->chain);
	enc_str8(&e, k->provider);
	enc_be(&e, hl, 2);
	enc_bytes(&e, k->handle, hl);
	enc_str8(&e, k->created);
	enc_str8(&e, k->retired);
	enc_str8(&e, k->revoked);
	return e.len;
}

/* @p kid is the record's LMDB key, @p kid_len its length. */
int
rcpt_store_decode_key(const MDB_val *v, const char *kid, size_t kid_len,
    struct rcpt_store_key *k, struct rcpt_diag *diag)
{
	struct dec d = {v->mv_data, v->mv_size, 0, 0};
	const char *why = NULL;
	size_t hl;
	int r;

	memset(k, 0, sizeof(*k));
	if (kid_len == RCPT_KID_LEN)
		memcpy(k->kid, kid, RCPT_KID_LEN);
	if (!rcpt_store_kid_ok(k->kid)) {
		why = "key is not a kid";
		memcpy(k->kid, "(bad key)", sizeof("(bad key)"));
	} else if (dec_u8(&d) != REC_VERSION) {
		why = "unknown record version";
	} else {
		k->status = (enum rcpt_key_status)dec_u8(&d);
		dec_bytes(&d, k->pub, RCPT_ED25519_PUB_LEN);
		dec_str(&d, k->chain, sizeof(k->chain), dec_u8(&d));
		dec_str(&d, k->provider, sizeof(k->provider), dec_u8(&d));
		hl = (size_t)dec_be(&d, 2);
		dec_str(&d, k->handle, sizeof(k->handle), hl);
		dec_str(&d, k->created, sizeof(k->created), dec_u8(&d));
		dec_str(&d, k->retired, sizeof(k->retired), dec_u8(&d));
		dec_str(&d, k->revoked, sizeof(k->revoked), dec_u8(&d));
		why = d.bad || d.off != d.len ? "bad length" : key_problem(k);
	}
	if (why == NULL)
		return RCPT_OK;
	r = rcpt_diag(diag, RCPT_E_CORRUPT,
	    "keys: record of kid %s is damaged (%s)", k->kid, why);
	memset(k, 0, sizeof(*k));
	return r;
}

size_t
rcpt_store_seqkey(const char *name, uint64_t n, uint8_t key[STORE_SEQKEY_MAX])
{
	size_t len = strlen(name), i;

	memcpy(key, name, len);
	key[len] = 0x00;
	for (i = 0; i < 8; i++)
		key[len + 1 + i] = (uint8_t)(n >> (56 - 8 * i));
	return len + 9;
}

/* A stored receipt line: not empty, within the cap, no NUL. */
int
rcpt_store_line_ok(const void *p, size_t len)
{
	return len > 0 && len <= RCPT_STORE_LINE_MAX &&
	       memchr(p, '\0', len) == NULL;
}

int
rcpt_store_note_ok(const void *p, size_t len)
{
	return len > 0 && len <= RCPT_STORE_NOTE_MAX &&
	       memchr(p, '\0', len) == NULL;
}

/* Write transactions */

int
rcpt_store_put_chain(struct rcpt_store_txn *t, const struct rcpt_store_chain *c,
    struct rcpt_diag *diag)
{
	uint8_t buf[CHAIN_REC_MAX];
	const char *why;
	MDB_val k, v;
	int r, rc;

	if ((r = rcpt_store_txn_usable(t, diag)) != RCPT_OK)
		return r;
	if (c == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "chain: required");
	if ((why = chain_problem(c)) != NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "chain.%s", why);
	store_val(&k, c->name, strlen(c->name));
	store_val(&v, buf, encode_chain(c, buf));
	if ((rc = mdb_put(t->txn, t->s->dbi[STORE_DB_CHAINS], &k, &v, 0)) != 0)
		return rcpt_store_txn_fail(t, rc, "chains: put", diag);
	return RCPT_OK;
}

static int
check_receipt_args(
    const char *chain, const char *line, size_t len, struct rcpt_diag *diag)
{
	if (!rcpt_store_name_ok(chain))
		return rcpt_diag(diag, RCPT_E_INVAL, "chain: " STORE_NAME_RULE);
	if (line == NULL || len == 0)
		return rcpt_diag(diag, RCPT_E_INVAL, "line: required");
	if (len > RCPT_STORE_LINE_MAX)
		return rcpt_diag(diag, RCPT_E_TOO_LARGE,
		    "line: longer than %d bytes", RCPT_STORE_LINE_MAX);
	if (memchr(line, '\0', len) != NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "line: contains NUL");
	return RCPT_OK;
}

int
rcpt_store_put_receipt(struct rcpt_store_txn *t, const char *chain,
    uint64_t seq, const char *line, size_t len,
    const uint8_t entry_hash[RCPT_HASH_LEN], struct rcpt_diag *diag)
{
	uint8_t key[STORE_SEQKEY_MAX], leaf[RCPT_HASH_LEN];
	MDB_val k, v;
	int r, rc;

	if ((r = rcpt_store_txn_usable(t, diag)) != RCPT_OK ||
	    (r = check_receipt_args(chain, line, len, diag)) != RCPT_OK)
		return r;
	if (entry_hash == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "entry_hash: required");
	store_val(&k, key, rcpt_store_seqkey(chain, seq, key));
	store_val(&v, line, len);
	rc = mdb_put(
	    t->txn, t->s->dbi[STORE_DB_RECEIPTS], &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return rcpt_diag(diag, RCPT_E_EXISTS,
		    "receipts: chain %s seq %llu exists", chain,
		    (unsigned long long)seq);
	if (rc != 0)
		return rcpt_store_txn_fail(t, rc, "receipts: put", diag);
	rcpt_merkle_leaf_hash(entry_hash, leaf);
	store_val(&v, leaf, sizeof(leaf));
	rc = mdb_put(
	    t->txn, t->s->dbi[STORE_DB_LEAVES], &k, &v, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST) {
		/* Take the receipt back so that the txn stays whole. */
		if ((rc = mdb_del(
		         t->txn, t->s->dbi[STORE_DB_RECEIPTS], &k, NULL)) != 0)
			return rcpt_store_txn_fail(
			    t, rc, "receipts: del", diag);
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "leaves: chain %s seq %llu has a leaf but no receipt",
		    chain, (unsigned long long)seq);
	}
	if (rc != 0)
		return rcpt_store_txn_fail(t, rc, "leaves: put", diag);
	return RCPT_OK;
}

int
rcpt_store_replace_receipt(struct rcpt_store_txn *t, const char *chain,
    uint64_t seq, const char *line, size_t len, struct rcpt_diag *diag)
{
	uint8_t key[STORE_SEQKEY_MAX];
	MDB_val k, v;
	int r, rc;

	if ((r = rcpt_store_txn_usable(t, diag)) != RCPT_OK ||
	    (r = check_receipt_args(chain, line, len, diag)) != RCPT_OK)
		return r;
	store_val(&k, key, rcpt_store_seqkey(chain, seq, key));
	rc = mdb_get(t->txn, t->s->dbi[STORE_DB_RECEIPTS], &k, &v);
	if (rc == MDB_NOTFOUND)
		return rcpt_diag(diag, RCPT_E_NOT_FOUND,
		    "receipts: chain %s seq %llu not found", chain,
		    (unsigned long long)seq);
	if (rc != 0)
		return rcpt_store_txn_fail(t, rc, "receipts: get", diag);
	store_val(&v, line, len);
	if ((rc = mdb_put(t->txn, t->s->dbi[STORE_DB_RECEIPTS], &k, &v, 0)) !=
	    0)
		return rcpt_store_txn_fail(t, rc, "receipts: replace", diag);
	return RCPT_OK;
}

int
rcpt_store_put_checkpoint(struct rcpt_store_txn *t, const char *chain,
    uint64_t size, const char *note, struct rcpt_diag *diag)
{
	uint8_t key[STORE_SEQKEY_MAX];
	MDB_val k, v;
	size_t len;
	int r, rc;

	if ((r = rcpt_store_txn_usable(t, diag)) != RCPT_OK)
		return r;
	if (!rcpt_store_name_ok(chain))
		return rcpt_diag(diag, RCPT_E_INVAL, "chain: " STORE_NAME_RULE);
	if (note == NULL || (len = strnlen(note, RCPT_STORE_NOTE_MAX + 1)) == 0)
		return rcpt_diag(diag, RCPT_E_INVAL, "note: required");
	if (len > RCPT_STORE_NOTE_MAX)
		return rcpt_diag(diag, RCPT_E_TOO_LARGE,
		    "note: longer than %d bytes", RCPT_STORE_NOTE_MAX);
	store_val(&k, key, rcpt_store_seqkey(chain, size, key));
	store_val(&v, note, len);
	rc = mdb_put(t->txn, t->s->dbi[STORE_DB_CHECKPOINTS], &k, &v, 0);
	if (rc != 0)
		return rcpt_store_txn_fail(t, rc, "checkpoints: put", diag);
	return RCPT_OK;
}

int
rcpt_store_put_key(struct rcpt_store_txn *t, const struct rcpt_store_key *k,
    struct rcpt_diag *diag)
{
	uint8_t buf[KEY_REC_MAX];
	const char *why;
	MDB_val key, v;
	int r, rc;

	if ((r = rcpt_store_txn_usable(t, diag)) != RCPT_OK)
		return r;
	if (k == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "key: required");
	if ((why = key_problem(k)) != NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "key.%s", why);
	store_val(&key, k->kid, RCPT_KID_LEN);
	store_val(&v, buf, encode_key(k, buf));
	if ((rc = mdb_put(t->txn, t->s->dbi[STORE_DB_KEYS], &key, &v, 0)) != 0)
		return rcpt_store_txn_fail(t, rc, "keys: put", diag);
	return RCPT_OK;
}

/* Reads shared by write txns, one-shot reads and snapshots */

int
rcpt_store_read_chain(MDB_txn *txn, MDB_dbi dbi, const char *name,
    struct rcpt_store_chain *out, int *mdb_rc, struct rcpt_diag *diag)
{
	MDB_val k, v;
	int rc;

	*mdb_rc = 0;
	store_val(&k, name, strlen(name));
	if ((rc = mdb_get(txn, dbi, &k, &v)) == MDB_NOTFOUND)
		return rcpt_diag(
		    diag, RCPT_E_NOT_FOUND, "chains: chain %s not found", name);
	if (rc != 0) {
		*mdb_rc = rc;
		return RCPT_E_IO;
	}
	return rcpt_store_decode_chain(&v, name, out, diag);
}

int
rcpt_store_read_key(MDB_txn *txn, MDB_dbi dbi, const char *kid,
    struct rcpt_store_key *out, int *mdb_rc, struct rcpt_diag *diag)
{
	MDB_val k, v;
	int rc;

	*mdb_rc = 0;
	store_val(&k, kid, RCPT_KID_LEN);
	if ((rc = mdb_get(txn, dbi, &k, &v)) == MDB_NOTFOUND)
		return rcpt_diag(
		    diag, RCPT_E_NOT_FOUND, "keys: kid %s not found", kid);
	if (rc != 0) {
		*mdb_rc = rc;
		return RCPT_E_IO;
	}
	return rcpt_store_decode_key(&v, kid, RCPT_KID_LEN, out, diag);
}

int
rcpt_store_txn_get_chain(struct rcpt_store_txn *t, const char *name,
    struct rcpt_store_chain *out, struct rcpt_diag *diag)
{
	int r, rc;

	if (out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "store: out: required");
	memset(out, 0, sizeof(*out));
	if ((r = rcpt_store_txn_usable(t, diag)) != RCPT_OK)
		return r;
	if (!rcpt_store_name_ok(name))
		return rcpt_diag(diag, RCPT_E_INVAL, "name: " STORE_NAME_RULE);
	r = rcpt_store_read_chain(
	    t->txn, t->s->dbi[STORE_DB_CHAINS], name, out, &rc, diag);
	return rc != 0 ? rcpt_store_txn_fail(t, rc, "chains: get", diag) : r;
}

int
rcpt_store_txn_get_key(struct rcpt_store_txn *t, const char *kid,
    struct rcpt_store_key *out, struct rcpt_diag *diag)
{
	int r, rc;

	if (out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "store: out: required");
	memset(out, 0, sizeof(*out));
	if ((r = rcpt_store_txn_usable(t, diag)) != RCPT_OK)
		return r;
	if (!rcpt_store_kid_ok(kid))
		return rcpt_diag(diag, RCPT_E_INVAL, "kid: not a key id");
	r = rcpt_store_read_key(
	    t->txn, t->s->dbi[STORE_DB_KEYS], kid, out, &rc, diag);
	return rc != 0 ? rcpt_store_txn_fail(t, rc, "keys: get", diag) : r;
}
