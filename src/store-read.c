/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reads of the chain store: one-shot reads that copy out (the
 * rcpt_store_get pattern: copy the LMDB bytes, end the read txn, hand
 * the copy over), lists, the JWK Set, the latest checkpoint, and read
 * snapshots for Merkle work.  Records are parsed in store-rec.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "store-int.h"

/* One-shot reads */

int
rcpt_store_get_chain(struct rcpt_store *s, const char *name,
    struct rcpt_store_chain *out, struct rcpt_diag *diag)
{
	MDB_txn *txn;
	int r, rc;

	if (out == NULL || s == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "store: out: required");
	memset(out, 0, sizeof(*out));
	if (!rcpt_store_name_ok(name))
		return rcpt_diag(diag, RCPT_E_INVAL, "name: " STORE_NAME_RULE);
	if ((r = rcpt_store_begin(s, MDB_RDONLY, &txn, diag)) != RCPT_OK)
		return r;
	r = rcpt_store_read_chain(
	    txn, s->dbi[STORE_DB_CHAINS], name, out, &rc, diag);
	if (rc != 0)
		r = rcpt_store_mdb_err(diag, rc, "chains: get");
	rcpt_store_end(s, txn);
	return r;
}

int
rcpt_store_get_key(struct rcpt_store *s, const char *kid,
    struct rcpt_store_key *out, struct rcpt_diag *diag)
{
	MDB_txn *txn;
	int r, rc;

	if (out == NULL || s == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "store: out: required");
	memset(out, 0, sizeof(*out));
	if (!rcpt_store_kid_ok(kid))
		return rcpt_diag(diag, RCPT_E_INVAL, "kid: not a key id");
	if ((r = rcpt_store_begin(s, MDB_RDONLY, &txn, diag)) != RCPT_OK)
		return r;
	r = rcpt_store_read_key(
	    txn, s->dbi[STORE_DB_KEYS], kid, out, &rc, diag);
	if (rc != 0)
		r = rcpt_store_mdb_err(diag, rc, "keys: get");
	rcpt_store_end(s, txn);
	return r;
}

/* Copies value @p v into a new NUL-terminated buffer. */
static int
copy_out(const MDB_val *v, char **out, size_t *len_out)
{
	char *p;

	if ((p = rcpt_malloc(v->mv_size + 1)) == NULL)
		return RCPT_E_NOMEM;
	memcpy(p, v->mv_data, v->mv_size);
	p[v->mv_size] = '\0';
	*out = p;
	if (len_out != NULL)
		*len_out = v->mv_size;
	return RCPT_OK;
}

/*
 * One value of a database keyed by chain and number: a receipt by seq,
 * a checkpoint by tree size.  @p what names the database, @p num the
 * number, in messages.
 */
static int
get_numbered(struct rcpt_store *s, int db, const char *what, const char *num,
    int (*ok)(const void *, size_t), const char *chain, uint64_t n, char **out,
    size_t *len_out, struct rcpt_diag *diag)
{
	uint8_t key[STORE_SEQKEY_MAX];
	MDB_txn *txn = NULL;
	MDB_val k, v;
	int r, rc;

	if (out == NULL || s == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "store: out: required");
	*out = NULL;
	if (len_out != NULL)
		*len_out = 0;
	if (!rcpt_store_name_ok(chain))
		return rcpt_diag(diag, RCPT_E_INVAL, "chain: " STORE_NAME_RULE);
	if ((r = rcpt_store_begin(s, MDB_RDONLY, &txn, diag)) != RCPT_OK)
		return r;
	store_val(&k, key, rcpt_store_seqkey(chain, n, key));
	rc = mdb_get(txn, s->dbi[db], &k, &v);
	if (rc == MDB_NOTFOUND)
		r = rcpt_diag(diag, RCPT_E_NOT_FOUND,
		    "%s: chain %s %s %llu not found", what, chain, num,
		    (unsigned long long)n);
	else if (rc != 0)
		r = rcpt_store_mdb_err(diag, rc, what);
	else if (!ok(v.mv_data, v.mv_size))
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "%s: chain %s %s %llu is damaged", what, chain, num,
		    (unsigned long long)n);
	else if ((r = copy_out(&v, out, len_out)) != RCPT_OK)
		r = rcpt_diag(diag, r, "store: out of memory");
	rcpt_store_end(s, txn);
	return r;
}

int
rcpt_store_get_receipt(struct rcpt_store *s, const char *chain, uint64_t seq,
    char **line_out, size_t *len_out, struct rcpt_diag *diag)
{
	return get_numbered(s, STORE_DB_RECEIPTS, "receipts", "seq",
	    rcpt_store_line_ok, chain, seq, line_out, len_out, diag);
}

/* Grows *arr (of elements @p size) to hold one more; NULL on NOMEM. */
static void *
room_for_one(void **arr, size_t n, size_t *cap, size_t size)
{
	void *p;
	size_t want;

	if (n < *cap)
		return (char *)*arr + n * size;
	want = *cap ? *cap * 2 : 8;
	if ((p = rcpt_reallocarray(*arr, want, size)) == NULL)
		return NULL;
	*arr = p;
	*cap = want;
	return (char *)p + n * size;
}

int
rcpt_store_list_chains(struct rcpt_store *s, struct rcpt_store_chain **out,
    size_t *n_out, struct rcpt_diag *diag)
{
	char name[RCPT_CHAIN_MAX + 1];
	struct rcpt_store_chain *c;
	void *arr = NULL;
	size_t n = 0, cap = 0;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc, r = RCPT_E_INTERNAL;

	if (out == NULL || n_out == NULL || s == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "store: out: required");
	*out = NULL;
	*n_out = 0;
	if ((r = rcpt_store_begin(s, MDB_RDONLY, &txn, diag)) != RCPT_OK)
		return r;
	if ((rc = mdb_cursor_open(txn, s->dbi[STORE_DB_CHAINS], &cur)) != 0) {
		r = rcpt_store_mdb_err(diag, rc, "chains: list");
		goto out;
	}
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		if (k.mv_size > RCPT_CHAIN_MAX)
			k.mv_size = 0;
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if (!rcpt_store_name_ok(name)) {
			r = rcpt_diag(diag, RCPT_E_CORRUPT,
			    "chains: a key is not a chain name");
			goto out;
		}
		if ((c = room_for_one(&arr, n, &cap, sizeof(*c))) == NULL) {
			r = rcpt_diag(
			    diag, RCPT_E_NOMEM, "store: out of memory");
			goto out;
		}
		if ((r = rcpt_store_decode_chain(&v, name, c, diag)) != RCPT_OK)
			goto out;
		n++;
	}
	if (rc != MDB_NOTFOUND) {
		r = rcpt_store_mdb_err(diag, rc, "chains: list");
		goto out;
	}
	*out = arr;
	*n_out = n;
	arr = NULL;
	r = RCPT_OK;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	rcpt_store_end(s, txn);
	free(arr);
	return r;
}

int
rcpt_store_list_keys(struct rcpt_store *s, const char *chain,
    struct rcpt_store_key **out, size_t *n_out, struct rcpt_diag *diag)
{
	struct rcpt_store_key *k;
	void *arr = NULL;
	size_t n = 0, cap = 0;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val key, v;
	int rc, r = RCPT_E_INTERNAL;

	if (out == NULL || n_out == NULL || s == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "store: out: required");
	*out = NULL;
	*n_out = 0;
	if (chain != NULL && !rcpt_store_name_ok(chain))
		return rcpt_diag(diag, RCPT_E_INVAL, "chain: " STORE_NAME_RULE);
	if ((r = rcpt_store_begin(s, MDB_RDONLY, &txn, diag)) != RCPT_OK)
		return r;
	if ((rc = mdb_cursor_open(txn, s->dbi[STORE_DB_KEYS], &cur)) != 0) {
		r = rcpt_store_mdb_err(diag, rc, "keys: list");
		goto out;
	}
	while ((rc = mdb_cursor_get(cur, &key, &v, MDB_NEXT)) == 0) {
		if ((k = room_for_one(&arr, n, &cap, sizeof(*k))) == NULL) {
			r = rcpt_diag(
			    diag, RCPT_E_NOMEM, "store: out of memory");
			goto out;
		}
		if ((r = rcpt_store_decode_key(
		         &v, key.mv_data, key.mv_size, k, diag)) != RCPT_OK)
			goto out;
		if (chain == NULL || strcmp(k->chain, chain) == 0)
			n++;
	}
	if (rc != MDB_NOTFOUND) {
		r = rcpt_store_mdb_err(diag, rc, "keys: list");
		goto out;
	}
	if (n > 0) {
		*out = arr;
		arr = NULL;
	}
	*n_out = n;
	r = RCPT_OK;
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	rcpt_store_end(s, txn);
	free(arr);
	return r;
}

int
rcpt_store_jwks(
    struct rcpt_store *s, char **out, size_t *len_out, struct rcpt_diag *diag)
{
	struct rcpt_store_key *keys = NULL;
	struct rcpt_jwks set = {NULL, 0};
	size_t i, n = 0;
	int r = RCPT_E_INTERNAL;

	if (out == NULL || len_out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "store: out: required");
	*out = NULL;
	*len_out = 0;
	if ((r = rcpt_store_list_keys(s, NULL, &keys, &n, diag)) != RCPT_OK)
		return r;
	if (n > 0 && (set.keys = rcpt_calloc(n, sizeof(*set.keys))) == NULL) {
		r = rcpt_diag(diag, RCPT_E_NOMEM, "store: out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		struct rcpt_jwks_key *j = &set.keys[i];

		memcpy(j->kid, keys[i].kid, sizeof(j->kid));
		memcpy(j->pub, keys[i].pub, sizeof(j->pub));
		memcpy(j->chain, keys[i].chain, sizeof(j->chain));
		j->status = keys[i].status;
		memcpy(j->created, keys[i].created, sizeof(j->created));
		memcpy(j->retired, keys[i].retired, sizeof(j->retired));
		memcpy(j->revoked, keys[i].revoked, sizeof(j->revoked));
	}
	set.n = n;
	if ((r = rcpt_jwks_serialize(&set, out, len_out)) != RCPT_OK)
		r = rcpt_diag(diag, r, "keys: cannot make the JWK Set");
out:
	free(set.keys);
	free(keys);
	return r;
}

int
rcpt_store_latest_checkpoint(struct rcpt_store *s, const char *chain,
    char **note_out, uint64_t *size_out, struct rcpt_diag *diag)
{
	uint8_t key[STORE_SEQKEY_MAX];
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	size_t klen;
	uint64_t size = 0;
	int i, rc, r = RCPT_E_INTERNAL;

	if (note_out == NULL || s == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "store: out: required");
	*note_out = NULL;
	if (size_out != NULL)
		*size_out = 0;
	if (!rcpt_store_name_ok(chain))
		return rcpt_diag(diag, RCPT_E_INVAL, "chain: " STORE_NAME_RULE);
	if ((r = rcpt_store_begin(s, MDB_RDONLY, &txn, diag)) != RCPT_OK)
		return r;
	if ((rc = mdb_cursor_open(txn, s->dbi[STORE_DB_CHECKPOINTS], &cur)) !=
	    0)
		goto fail;
	/* Seek past the last possible size, then step back into the chain. */
	klen = rcpt_store_seqkey(chain, UINT64_MAX, key);
	store_val(&k, key, klen);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	else if (rc == 0 && (k.mv_size != klen || memcmp(k.mv_data, key, klen)))
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto fail;
	if (rc == MDB_NOTFOUND || k.mv_size != klen ||
	    memcmp(k.mv_data, key, klen - 8) != 0) {
		r = rcpt_diag(diag, RCPT_E_NOT_FOUND,
		    "checkpoints: chain %s has none", chain);
		goto out;
	}
	for (i = 0; i < 8; i++)
		size = size << 8 | ((const uint8_t *)k.mv_data)[klen - 8 + i];
	if (!rcpt_store_note_ok(v.mv_data, v.mv_size)) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "checkpoints: chain %s size %llu is damaged", chain,
		    (unsigned long long)size);
		goto out;
	}
	if ((r = copy_out(&v, note_out, NULL)) != RCPT_OK) {
		r = rcpt_diag(diag, r, "store: out of memory");
		goto out;
	}
	if (size_out != NULL)
		*size_out = size;
	r = RCPT_OK;
	goto out;
fail:
	r = rcpt_store_mdb_err(diag, rc, "checkpoints: get");
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	rcpt_store_end(s, txn);
	return r;
}

/* Snapshots */

int
rcpt_store_snap_begin(struct rcpt_store *s, const char *chain,
    struct rcpt_store_snap **out, struct rcpt_diag *diag)
{
	struct rcpt_store_snap *sn = NULL;
	int rc, r = RCPT_E_INTERNAL;

	if (out == NULL || s == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "store: out: required");
	*out = NULL;
	if (!rcpt_store_name_ok(chain))
		return rcpt_diag(diag, RCPT_E_INVAL, "chain: " STORE_NAME_RULE);
	if ((sn = rcpt_calloc(1, sizeof(*sn))) == NULL)
		return rcpt_diag(diag, RCPT_E_NOMEM, "store: out of memory");
	sn->s = s;
	memcpy(sn->chain, chain, strlen(chain) + 1);
	if ((r = rcpt_store_begin(s, MDB_RDONLY, &sn->txn, diag)) != RCPT_OK) {
		free(sn);
		return r;
	}
	if ((rc = mdb_cursor_open(
	         sn->txn, s->dbi[STORE_DB_LEAVES], &sn->leaves)) != 0) {
		r = rcpt_store_mdb_err(diag, rc, "leaves: cursor");
		rcpt_store_snap_end(sn);
		return r;
	}
	*out = sn;
	return RCPT_OK;
}

int
rcpt_store_snap_chain(struct rcpt_store_snap *sn, struct rcpt_store_chain *out,
    struct rcpt_diag *diag)
{
	int r, rc;

	if (sn == NULL || out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "store: out: required");
	r = rcpt_store_read_chain(
	    sn->txn, sn->s->dbi[STORE_DB_CHAINS], sn->chain, out, &rc, diag);
	return rc != 0 ? rcpt_store_mdb_err(diag, rc, "chains: get") : r;
}

int
rcpt_store_leaf(void *snap, uint64_t index, uint8_t out[RCPT_HASH_LEN])
{
	struct rcpt_store_snap *sn = snap;
	uint8_t key[STORE_SEQKEY_MAX];
	MDB_val k, v;
	size_t klen;
	int rc = MDB_NOTFOUND;

	if (sn == NULL || out == NULL)
		return RCPT_E_INVAL;
	klen = rcpt_store_seqkey(sn->chain, index, key);
	/* Roots and proofs walk leaves in order: try the next one first. */
	if (sn->positioned && index == sn->last + 1) {
		rc = mdb_cursor_get(sn->leaves, &k, &v, MDB_NEXT);
		if (rc == 0 &&
		    (k.mv_size != klen || memcmp(k.mv_data, key, klen) != 0))
			rc = MDB_NOTFOUND;
	}
	if (rc != 0) {
		store_val(&k, key, klen);
		rc = mdb_cursor_get(sn->leaves, &k, &v, MDB_SET_KEY);
	}
	if (rc != 0) {
		sn->positioned = 0;
		return rc == MDB_NOTFOUND
		           ? RCPT_E_NOT_FOUND
		           : rcpt_store_mdb_err(NULL, rc, "leaf");
	}
	sn->last = index;
	sn->positioned = 1;
	if (v.mv_size != RCPT_HASH_LEN)
		return RCPT_E_CORRUPT;
	memcpy(out, v.mv_data, RCPT_HASH_LEN);
	return RCPT_OK;
}

int
rcpt_store_snap_receipt(struct rcpt_store_snap *sn, uint64_t seq,
    const char **line_out, size_t *len_out)
{
	uint8_t key[STORE_SEQKEY_MAX];
	MDB_val k, v;
	int rc;

	if (sn == NULL || line_out == NULL || len_out == NULL)
		return RCPT_E_INVAL;
	*line_out = NULL;
	*len_out = 0;
	store_val(&k, key, rcpt_store_seqkey(sn->chain, seq, key));
	rc = mdb_get(sn->txn, sn->s->dbi[STORE_DB_RECEIPTS], &k, &v);
	if (rc == MDB_NOTFOUND)
		return RCPT_E_NOT_FOUND;
	if (rc != 0)
		return rcpt_store_mdb_err(NULL, rc, "receipt");
	if (!rcpt_store_line_ok(v.mv_data, v.mv_size))
		return RCPT_E_CORRUPT;
	rcpt_buf_reset(&sn->line);
	if (rcpt_buf_append(&sn->line, v.mv_data, v.mv_size) != RCPT_OK)
		return RCPT_E_NOMEM;
	*line_out = sn->line.p;
	*len_out = sn->line.len;
	return RCPT_OK;
}

void
rcpt_store_snap_end(struct rcpt_store_snap *sn)
{
	if (sn == NULL)
		return;
	if (sn->leaves != NULL)
		mdb_cursor_close(sn->leaves);
	rcpt_store_end(sn->s, sn->txn);
	rcpt_buf_clear(&sn->line);
	free(sn);
}

int
rcpt_store_get_checkpoint(struct rcpt_store *s, const char *chain,
    uint64_t size, char **note_out, struct rcpt_diag *diag)
{
	return get_numbered(s, STORE_DB_CHECKPOINTS, "checkpoints", "size",
	    rcpt_store_note_ok, chain, size, note_out, NULL, diag);
}
