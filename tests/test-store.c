/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The chain store: persistence, records and their refusals, leaves
 * against Merkle roots, prefix isolation of chain keys, checkpoints,
 * keys and the JWK Set, map growth up to its maximum, read-only
 * stores, damaged records and markers, pruning that really removes the
 * bytes (grep of data.mdb), allocation failures, other processes and
 * concurrent snapshots.  Damage is made with raw LMDB calls.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>

#include "ed25519.h"
#include "jwk.h"
#include "mem.h"
#include "merkle.h"
#include "store.h"
#include "testlib.h"

#define TS1     "2024-05-01T10:00:00.000Z"
#define TS2     "2024-06-01T10:00:00.000Z"
#define KID_RFC "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
#define MIB     ((size_t)1024 * 1024)

static char *dir;

static int
setup(void)
{
	dir = rcpt_test_mkdtemp();
	return dir == NULL;
}

static int
teardown(void)
{
	if (dir != NULL)
		rcpt_test_rmdir(dir);
	free(dir);
	dir = NULL;
	return 0;
}

/* A fresh store directory below the suite's temp dir. */
static const char *
fresh(const char *name)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static struct rcpt_store *
open_at(const char *path, size_t map, size_t max, int ro)
{
	struct rcpt_store_opts o = {path, map, max, ro};
	struct rcpt_store *s = NULL;
	struct rcpt_diag d = {0};

	CU_ASSERT_EQUAL_FATAL(rcpt_store_open(&o, &s, &d), RCPT_OK);
	return s;
}

static void
fill_chain(struct rcpt_store_chain *c, const char *name, uint64_t size)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->origin, sizeof(c->origin), "example.org/receipts");
	c->sealing = RCPT_SEALING_EACH;
	c->size = size;
	memset(c->tip_hash, 0xab, sizeof(c->tip_hash));
	if (size > 0)
		snprintf(c->tip_ts, sizeof(c->tip_ts), TS1);
	snprintf(c->active_kid, sizeof(c->active_kid), KID_RFC);
}

static void
fill_key(struct rcpt_store_key *k, unsigned char seed_byte, const char *chain,
    enum rcpt_key_status status)
{
	uint8_t seed[RCPT_ED25519_SEED_LEN];

	memset(k, 0, sizeof(*k));
	memset(seed, seed_byte, sizeof(seed));
	CU_ASSERT_EQUAL_FATAL(rcpt_ed25519_public(seed, k->pub), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_jwk_kid(k->pub, k->kid), RCPT_OK);
	snprintf(k->chain, sizeof(k->chain), "%s", chain);
	snprintf(k->provider, sizeof(k->provider), "pkcs11");
	snprintf(k->handle, sizeof(k->handle), "pkcs11:token=t;object=k%u",
	    seed_byte);
	k->status = status;
	snprintf(k->created, sizeof(k->created), TS1);
	if (status == RCPT_KEY_RETIRED)
		snprintf(k->retired, sizeof(k->retired), TS2);
	if (status == RCPT_KEY_REVOKED)
		snprintf(k->revoked, sizeof(k->revoked), TS2);
}

static void
entry_for(const char *chain, uint64_t seq, uint8_t out[RCPT_HASH_LEN])
{
	size_t j;

	for (j = 0; j < RCPT_HASH_LEN; j++)
		out[j] = (uint8_t)(seq * 7 + j + (uint8_t)chain[0] +
		                   strlen(chain) * 13);
}

/* Commits receipt @p seq of @p chain with @p line in its own txn. */
static int
put_one(struct rcpt_store *s, const char *chain, uint64_t seq, const char *line,
    size_t len, struct rcpt_diag *d)
{
	struct rcpt_store_txn *t = NULL;
	uint8_t eh[RCPT_HASH_LEN];
	int r;

	entry_for(chain, seq, eh);
	if ((r = rcpt_store_txn_begin(s, &t, d)) != RCPT_OK)
		return r;
	if ((r = rcpt_store_put_receipt(t, chain, seq, line, len, eh, d)) !=
	    RCPT_OK) {
		rcpt_store_txn_abort(t);
		return r;
	}
	return rcpt_store_txn_commit(t, d);
}

static void
put_line(struct rcpt_store *s, const char *chain, uint64_t seq)
{
	char line[64];

	snprintf(line, sizeof(line), "{\"chain\":\"%s\",\"seq\":%llu}", chain,
	    (unsigned long long)seq);
	CU_ASSERT_EQUAL(
	    put_one(s, chain, seq, line, strlen(line), NULL), RCPT_OK);
}

/* Writes with raw LMDB into a closed store: @p val NULL deletes. */
static void
raw_put(const char *path, const char *db, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};

	CU_ASSERT_EQUAL_FATAL(mdb_env_create(&env), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_env_set_maxdbs(env, 8), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_env_open(env, path, 0, 0600), 0);
	CU_ASSERT_EQUAL_FATAL(mdb_txn_begin(env, NULL, 0, &txn), 0);
	CU_ASSERT_EQUAL_FATAL(
	    mdb_dbi_open(txn, db, db == NULL ? 0 : MDB_CREATE, &dbi), 0);
	if (val != NULL) {
		CU_ASSERT_EQUAL(mdb_put(txn, dbi, &k, &v, 0), 0);
	} else {
		CU_ASSERT_EQUAL(mdb_del(txn, dbi, &k, NULL), 0);
	}
	CU_ASSERT_EQUAL(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static int
file_has(const char *path, const char *needle)
{
	size_t len, n = strlen(needle), i;
	char *p = rcpt_test_read_file(path, &len);
	int found = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	for (i = 0; i + n <= len && !found; i++)
		found = memcmp(p + i, needle, n) == 0;
	free(p);
	return found;
}

static void
test_open_reopen(void)
{
	const char *path = fresh("basic");
	struct rcpt_store_chain c, got;
	struct rcpt_store_txn *t = NULL;
	struct rcpt_store *s;
	struct stat st;
	char *line = NULL;
	size_t len = 0, used, map;

	s = open_at(path, 0, 0, 0);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0700);
	CU_ASSERT_EQUAL(stat(rcpt_test_path(path, "data.mdb"), &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	fill_chain(&c, "alpha", 1);
	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_store_put_chain(t, &c, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_store_txn_commit(t, NULL), RCPT_OK);
	put_line(s, "alpha", 0);
	CU_ASSERT_EQUAL(rcpt_store_usage(s, &used, &map), RCPT_OK);
	CU_ASSERT(used > 0 && used <= map);
	CU_ASSERT_EQUAL(map, 64 * MIB);
	rcpt_store_close(s);

	s = open_at(path, 0, 0, 0);
	CU_ASSERT_EQUAL(rcpt_store_get_chain(s, "alpha", &got, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(&got, &c, sizeof(c)), 0);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_receipt(s, "alpha", 0, &line, &len, NULL), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(line, "{\"chain\":\"alpha\",\"seq\":0}");
	CU_ASSERT_EQUAL(len, strlen(line));
	free(line);
	rcpt_store_close(s);
	rcpt_store_close(NULL);
}

static void
test_open_refusals(void)
{
	struct rcpt_store_opts o = {NULL, 0, 0, 0};
	struct rcpt_store *s = NULL;
	struct rcpt_diag d = {0};

	CU_ASSERT_EQUAL(rcpt_store_open(&o, &s, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "path"));
	CU_ASSERT_EQUAL(rcpt_store_open(NULL, &s, NULL), RCPT_E_INVAL);
	o.path = fresh("refuse");
	o.map_size = 4 * MIB;
	o.map_max = 2 * MIB;
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_open(&o, &s, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "map_max"));
	CU_ASSERT_PTR_NULL(s);

	/* A plain file where the directory should be. */
	CU_ASSERT_EQUAL_FATAL(rcpt_test_write_file(fresh("afile"), "x", 1), 0);
	o.path = fresh("afile");
	o.map_max = 0;
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_open(&o, &s, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "path"));

	/* Read-only never creates. */
	o.path = fresh("nothing-here");
	o.read_only = 1;
	CU_ASSERT_EQUAL(rcpt_store_open(&o, &s, NULL), RCPT_E_NOT_FOUND);
	CU_ASSERT_EQUAL(mkdir(o.path, 0700), 0);
	CU_ASSERT_EQUAL(rcpt_store_open(&o, &s, NULL), RCPT_E_NOT_FOUND);
}

static void
test_chains(void)
{
	struct rcpt_store_chain c, got, *list = NULL;
	struct rcpt_store_txn *t = NULL;
	struct rcpt_store *s = open_at(fresh("chains"), 0, 0, 0);
	struct rcpt_diag d = {0};
	size_t n = 0;

	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	fill_chain(&c, "zeta", 3);
	CU_ASSERT_EQUAL(rcpt_store_put_chain(t, &c, NULL), RCPT_OK);
	fill_chain(&c, "beta", 0);
	c.sealing = RCPT_SEALING_BATCH;
	CU_ASSERT_EQUAL(rcpt_store_put_chain(t, &c, NULL), RCPT_OK);
	/* The txn sees its own writes; others do not until commit. */
	CU_ASSERT_EQUAL(
	    rcpt_store_txn_get_chain(t, "beta", &got, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(got.sealing, RCPT_SEALING_BATCH);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_chain(s, "beta", &got, NULL), RCPT_E_NOT_FOUND);

	/* Refusals name the member. */
	fill_chain(&c, "Bad", 1);
	CU_ASSERT_EQUAL(rcpt_store_put_chain(t, &c, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "chain.name"));
	fill_chain(&c, "ok", 1);
	snprintf(c.origin, sizeof(c.origin), "bad origin");
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_put_chain(t, &c, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "chain.origin"));
	fill_chain(&c, "ok", 1);
	c.tip_ts[0] = '\0';
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_put_chain(t, &c, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "chain.tip_ts"));
	fill_chain(&c, "ok", 1);
	c.active_kid[42] = 'l'; /* non-zero unused bits */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_put_chain(t, &c, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "chain.active_kid"));
	fill_chain(&c, "ok", 1);
	c.sealing = (enum rcpt_sealing)7;
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_put_chain(t, &c, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "chain.sealing"));
	CU_ASSERT_EQUAL(rcpt_store_put_chain(t, NULL, NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_store_txn_commit(t, NULL), RCPT_OK);

	CU_ASSERT_EQUAL(rcpt_store_list_chains(s, &list, &n, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(list[0].name, "beta");
	CU_ASSERT_STRING_EQUAL(list[1].name, "zeta");
	CU_ASSERT_EQUAL(list[1].size, 3);
	free(list);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_chain(s, "nope", &got, NULL), RCPT_E_NOT_FOUND);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_get_chain(s, "No", &got, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "name"));
	rcpt_store_close(s);
}

static void
test_receipts(void)
{
	struct rcpt_store *s = open_at(fresh("receipts"), 0, 0, 0);
	struct rcpt_store_txn *t = NULL;
	struct rcpt_diag d = {0};
	uint8_t eh[RCPT_HASH_LEN] = {0};
	char *line = NULL, *big;

	put_line(s, "r", 0);
	put_line(s, "r", 1);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_receipt(s, "r", 1, &line, NULL, NULL), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(line, "{\"chain\":\"r\",\"seq\":1}");
	free(line);
	CU_ASSERT_EQUAL(rcpt_store_get_receipt(s, "r", 2, &line, NULL, &d),
	    RCPT_E_NOT_FOUND);
	CU_ASSERT_PTR_NULL(line);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "receipts"));

	/* A second put of a seq is refused and the txn goes on. */
	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_store_put_receipt(t, "r", 1, "x", 1, eh, &d), RCPT_E_EXISTS);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "receipts"));
	CU_ASSERT_EQUAL(
	    rcpt_store_put_receipt(t, "r", 2, "y", 1, eh, NULL), RCPT_OK);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_store_put_receipt(t, "r", 3, "", 0, eh, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "line"));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_store_put_receipt(t, "r", 3, "a\0b", 3, eh, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "line"));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_store_put_receipt(t, "R", 3, "x", 1, eh, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "chain"));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_store_put_receipt(t, "r", 3, "x", 1, NULL, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "entry_hash"));
	big = malloc(RCPT_STORE_LINE_MAX + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'a', RCPT_STORE_LINE_MAX + 1);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_put_receipt(
	                    t, "r", 3, big, RCPT_STORE_LINE_MAX + 1, eh, &d),
	    RCPT_E_TOO_LARGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "line"));
	free(big);
	CU_ASSERT_EQUAL(rcpt_store_txn_commit(t, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_receipt(s, "r", 2, &line, NULL, NULL), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(line, "y");
	free(line);

	/* Replacing needs an existing receipt. */
	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_store_replace_receipt(t, "r", 9, "z", 1, NULL),
	    RCPT_E_NOT_FOUND);
	CU_ASSERT_EQUAL(
	    rcpt_store_replace_receipt(t, "r", 2, "z", 1, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_store_txn_commit(t, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_receipt(s, "r", 2, &line, NULL, NULL), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(line, "z");
	free(line);
	rcpt_store_close(s);
}

static void
test_abort(void)
{
	struct rcpt_store *s = open_at(fresh("abort"), 0, 0, 0);
	struct rcpt_store_txn *t = NULL;
	struct rcpt_store_chain c, got;
	struct rcpt_store_key k, gk;
	uint8_t eh[RCPT_HASH_LEN] = {1};
	char *line = NULL;
	uint64_t size;

	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	fill_chain(&c, "gone", 1);
	fill_key(&k, 1, "gone", RCPT_KEY_ACTIVE);
	CU_ASSERT_EQUAL(rcpt_store_put_chain(t, &c, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_store_put_receipt(t, "gone", 0, "x", 1, eh, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_store_put_checkpoint(t, "gone", 1, "note\n", NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_store_put_key(t, &k, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_store_txn_get_key(t, k.kid, &gk, NULL), RCPT_OK);
	rcpt_store_txn_abort(t);
	rcpt_store_txn_abort(NULL);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_chain(s, "gone", &got, NULL), RCPT_E_NOT_FOUND);
	CU_ASSERT_EQUAL(rcpt_store_get_receipt(s, "gone", 0, &line, NULL, NULL),
	    RCPT_E_NOT_FOUND);
	CU_ASSERT_EQUAL(
	    rcpt_store_latest_checkpoint(s, "gone", &line, &size, NULL),
	    RCPT_E_NOT_FOUND);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_key(s, k.kid, &gk, NULL), RCPT_E_NOT_FOUND);
	rcpt_store_close(s);
}

static void
test_leaves_root(void)
{
	struct rcpt_store *s = open_at(fresh("leaves"), 0, 0, 0);
	struct rcpt_store_txn *t = NULL;
	struct rcpt_store_snap *sn = NULL;
	struct rcpt_store_chain c, got;
	struct rcpt_merkle_acc acc = {0};
	uint8_t eh[RCPT_HASH_LEN], lh[RCPT_HASH_LEN], want[RCPT_HASH_LEN],
	    root[RCPT_HASH_LEN];
	const char *line;
	size_t len;
	uint64_t i;

	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	for (i = 0; i < 100; i++) {
		entry_for("m", i, eh);
		CU_ASSERT_EQUAL(
		    rcpt_store_put_receipt(t, "m", i, "{}", 2, eh, NULL),
		    RCPT_OK);
		rcpt_merkle_leaf_hash(eh, lh);
		rcpt_merkle_acc_push(&acc, lh);
	}
	fill_chain(&c, "m", 100);
	CU_ASSERT_EQUAL(rcpt_store_put_chain(t, &c, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_commit(t, NULL), RCPT_OK);
	rcpt_merkle_acc_root(&acc, want);

	CU_ASSERT_EQUAL_FATAL(
	    rcpt_store_snap_begin(s, "m", &sn, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_merkle_root(rcpt_store_leaf, sn, 100, root), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(root, want, sizeof(root)), 0);
	/* Random access, and the end. */
	entry_for("m", 37, eh);
	rcpt_merkle_leaf_hash(eh, want);
	CU_ASSERT_EQUAL(rcpt_store_leaf(sn, 37, lh), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(lh, want, sizeof(lh)), 0);
	CU_ASSERT_EQUAL(rcpt_store_leaf(sn, 100, lh), RCPT_E_NOT_FOUND);
	CU_ASSERT_EQUAL(rcpt_store_leaf(NULL, 1, lh), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_store_snap_chain(sn, &got, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(got.size, 100);

	/* A write after the snapshot began stays invisible to it. */
	put_line(s, "m", 100);
	CU_ASSERT_EQUAL(rcpt_store_leaf(sn, 100, lh), RCPT_E_NOT_FOUND);
	CU_ASSERT_EQUAL(
	    rcpt_store_snap_receipt(sn, 100, &line, &len), RCPT_E_NOT_FOUND);
	CU_ASSERT_EQUAL(rcpt_store_snap_receipt(sn, 99, &line, &len), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(line, "{}");
	CU_ASSERT_EQUAL(len, 2);
	rcpt_store_snap_end(sn);
	rcpt_store_snap_end(NULL);

	CU_ASSERT_EQUAL_FATAL(
	    rcpt_store_snap_begin(s, "m", &sn, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_store_leaf(sn, 100, lh), RCPT_OK);
	rcpt_store_snap_end(sn);
	CU_ASSERT_EQUAL(rcpt_store_snap_begin(s, "M", &sn, NULL), RCPT_E_INVAL);
	rcpt_store_close(s);
}

static void
test_prefix_isolation(void)
{
	struct rcpt_store *s = open_at(fresh("prefix"), 0, 0, 0);
	static const char *const names[] = {"a", "a-b", "a.b", "a0", "b", "0"};
	struct rcpt_store_txn *t = NULL;
	struct rcpt_store_snap *sn = NULL;
	uint8_t lh[RCPT_HASH_LEN], eh[RCPT_HASH_LEN], want[RCPT_HASH_LEN];
	char *note = NULL;
	uint64_t size = 0, i;
	size_t j;

	/* "a" has 3 receipts, the others 5; checkpoints only for "a-b". */
	for (j = 0; j < sizeof(names) / sizeof(names[0]); j++) {
		for (i = 0; i < (j == 0 ? 3 : 5); i++)
			put_line(s, names[j], i);
	}
	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_store_put_checkpoint(t, "a-b", 4, "ab4\n", NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_store_txn_commit(t, NULL), RCPT_OK);

	CU_ASSERT_EQUAL_FATAL(
	    rcpt_store_snap_begin(s, "a", &sn, NULL), RCPT_OK);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(rcpt_store_leaf(sn, i, lh), RCPT_OK);
		entry_for("a", i, eh);
		rcpt_merkle_leaf_hash(eh, want);
		CU_ASSERT_EQUAL(memcmp(lh, want, sizeof(lh)), 0);
	}
	CU_ASSERT_EQUAL(rcpt_store_leaf(sn, 3, lh), RCPT_E_NOT_FOUND);
	rcpt_store_snap_end(sn);

	CU_ASSERT_EQUAL(
	    rcpt_store_latest_checkpoint(s, "a", &note, &size, NULL),
	    RCPT_E_NOT_FOUND);
	CU_ASSERT_EQUAL(
	    rcpt_store_latest_checkpoint(s, "a0", &note, &size, NULL),
	    RCPT_E_NOT_FOUND);
	CU_ASSERT_EQUAL(
	    rcpt_store_latest_checkpoint(s, "a-b", &note, &size, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(size, 4);
	free(note);
	note = NULL;

	/* Now "a" has a larger checkpoint than "a-b": still its own. */
	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_store_put_checkpoint(t, "a", 2, "a2\n", NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_store_txn_commit(t, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_store_latest_checkpoint(s, "a", &note, &size, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(size, 2);
	CU_ASSERT_STRING_EQUAL(note, "a2\n");
	free(note);
	rcpt_store_close(s);
}

static void
test_checkpoints(void)
{
	struct rcpt_store *s = open_at(fresh("checkpoints"), 0, 0, 0);
	struct rcpt_store_txn *t = NULL;
	struct rcpt_diag d = {0};
	char *note = NULL, *big;
	uint64_t size = 0;

	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_store_put_checkpoint(t, "c", 1, "n1\n", NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_store_put_checkpoint(t, "c", 300, "n300\n", NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_store_put_checkpoint(t, "c", 5, "n5\n", NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_store_put_checkpoint(t, "c", 6, "", &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "note"));
	big = malloc(RCPT_STORE_NOTE_MAX + 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'n', RCPT_STORE_NOTE_MAX + 1);
	big[RCPT_STORE_NOTE_MAX + 1] = '\0';
	CU_ASSERT_EQUAL(
	    rcpt_store_put_checkpoint(t, "c", 6, big, NULL), RCPT_E_TOO_LARGE);
	free(big);
	CU_ASSERT_EQUAL(rcpt_store_txn_commit(t, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_store_latest_checkpoint(s, "c", &note, &size, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(size, 300);
	CU_ASSERT_STRING_EQUAL(note, "n300\n");
	free(note);

	/* A note for the same size replaces the earlier one. */
	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_store_put_checkpoint(t, "c", 300, "again\n", NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_store_txn_commit(t, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_store_latest_checkpoint(s, "c", &note, NULL, NULL), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(note, "again\n");
	free(note);
	rcpt_store_close(s);
}

static void
put_keys(struct rcpt_store *s, struct rcpt_store_key k[4])
{
	struct rcpt_store_txn *t = NULL;
	int i;

	fill_key(&k[0], 1, "one", RCPT_KEY_RETIRED);
	fill_key(&k[1], 2, "one", RCPT_KEY_REVOKED);
	fill_key(&k[2], 3, "one", RCPT_KEY_ACTIVE);
	fill_key(&k[3], 4, "two", RCPT_KEY_ACTIVE);
	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(rcpt_store_put_key(t, &k[i], NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_store_txn_commit(t, NULL), RCPT_OK);
}

static void
test_keys(void)
{
	struct rcpt_store *s = open_at(fresh("keys"), 0, 0, 0);
	struct rcpt_store_key k[4], got, *list = NULL, bad;
	struct rcpt_store_txn *t = NULL;
	struct rcpt_diag d = {0};
	size_t n = 0, i;

	put_keys(s, k);
	for (i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(
		    rcpt_store_get_key(s, k[i].kid, &got, NULL), RCPT_OK);
		CU_ASSERT_EQUAL(memcmp(&got, &k[i], sizeof(got)), 0);
	}
	CU_ASSERT_EQUAL(
	    rcpt_store_list_keys(s, "one", &list, &n, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(n, 3);
	for (i = 0; i < n; i++)
		CU_ASSERT_STRING_EQUAL(list[i].chain, "one");
	free(list);
	CU_ASSERT_EQUAL(
	    rcpt_store_list_keys(s, NULL, &list, &n, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(n, 4);
	for (i = 1; i < n; i++)
		CU_ASSERT(strcmp(list[i - 1].kid, list[i].kid) < 0);
	free(list);
	CU_ASSERT_EQUAL(
	    rcpt_store_list_keys(s, "none", &list, &n, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_PTR_NULL(list);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_key(s, KID_RFC, &got, NULL), RCPT_E_NOT_FOUND);
	CU_ASSERT_EQUAL(rcpt_store_get_key(s, "short", &got, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "kid"));

	/* Refusals, each naming its member. */
	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	bad = k[2];
	memcpy(bad.kid, KID_RFC, sizeof(bad.kid));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_put_key(t, &bad, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "key.kid"));
	bad = k[0];
	bad.retired[0] = '\0';
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_put_key(t, &bad, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "key.retired"));
	bad = k[2];
	snprintf(bad.revoked, sizeof(bad.revoked), TS2);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_put_key(t, &bad, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "key.retired"));
	bad = k[2];
	snprintf(bad.provider, sizeof(bad.provider), "pk cs");
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_put_key(t, &bad, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "key.provider"));
	bad = k[2];
	bad.handle[3] = '\n';
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_put_key(t, &bad, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "key.handle"));
	bad = k[2];
	memset(bad.handle, 'h', sizeof(bad.handle));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_put_key(t, &bad, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "key.handle"));
	bad = k[2];
	snprintf(bad.created, sizeof(bad.created), "2024-02-30T00:00:00.000Z");
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_put_key(t, &bad, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "key.created"));
	bad = k[2];
	bad.status = (enum rcpt_key_status)9;
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_put_key(t, &bad, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "key.status"));
	bad = k[2];
	snprintf(bad.chain, sizeof(bad.chain), "-x");
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_put_key(t, &bad, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "key.chain"));
	rcpt_store_txn_abort(t);
	rcpt_store_close(s);
}

static void
test_jwks(void)
{
	struct rcpt_store *s = open_at(fresh("jwks"), 0, 0, 0);
	struct rcpt_store_key k[4];
	struct rcpt_jwks *set = NULL;
	const struct rcpt_jwks_key *e;
	char *text = NULL, *again = NULL;
	size_t len = 0, len2 = 0, i;

	CU_ASSERT_EQUAL(rcpt_store_jwks(s, &text, &len, NULL), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(text, "{\"keys\":[]}");
	free(text);
	put_keys(s, k);
	CU_ASSERT_EQUAL_FATAL(rcpt_store_jwks(s, &text, &len, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(strlen(text), len);
	CU_ASSERT_EQUAL_FATAL(rcpt_jwks_parse(text, len, &set, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(set->n, 4);
	for (i = 0; i < 4; i++) {
		e = rcpt_jwks_find(set, k[i].kid);
		CU_ASSERT_PTR_NOT_NULL_FATAL(e);
		CU_ASSERT_EQUAL(memcmp(e->pub, k[i].pub, sizeof(e->pub)), 0);
		CU_ASSERT_STRING_EQUAL(e->chain, k[i].chain);
		CU_ASSERT_EQUAL(e->status, k[i].status);
		CU_ASSERT_STRING_EQUAL(e->created, k[i].created);
		CU_ASSERT_STRING_EQUAL(e->retired, k[i].retired);
		CU_ASSERT_STRING_EQUAL(e->revoked, k[i].revoked);
	}
	CU_ASSERT_EQUAL(rcpt_jwks_serialize(set, &again, &len2), RCPT_OK);
	CU_ASSERT_EQUAL(len2, len);
	CU_ASSERT_STRING_EQUAL(again, text);
	free(again);
	rcpt_jwks_free(set);
	free(text);
	rcpt_store_close(s);
}

/* Appends 60000-byte receipts until the map at its maximum is full. */
static void
test_map_full(void)
{
	const char *path = fresh("full");
	struct rcpt_store *s = open_at(path, MIB, 2 * MIB, 0);
	struct rcpt_store_txn *t = NULL;
	struct rcpt_diag d = {0};
	uint8_t eh[RCPT_HASH_LEN] = {0};
	size_t used, map;
	char *line, *got = NULL;
	int r = RCPT_OK, grew = 0, retried;
	uint64_t seq;

	line = malloc(60000);
	CU_ASSERT_PTR_NOT_NULL_FATAL(line);
	memset(line, 'q', 60000);
	for (seq = 0; seq < 100; seq++) {
		retried = 0;
again:
		rcpt_diag_clear(&d);
		r = put_one(s, "full", seq, line, 60000, &d);
		if (r == RCPT_OK)
			continue;
		CU_ASSERT_EQUAL_FATAL(r, RCPT_E_STORAGE_FULL);
		if (strstr(d.msg, "grown to 2097152") != NULL)
			grew = 1;
		if (!retried) {
			retried = 1;
			goto again;
		}
		break;
	}
	CU_ASSERT(grew);
	CU_ASSERT(seq > 10 && seq < 100);
	CU_ASSERT_STRING_EQUAL(
	    d.msg, "store full: map at its maximum of 2097152 bytes");
	CU_ASSERT_EQUAL(rcpt_store_usage(s, &used, &map), RCPT_OK);
	CU_ASSERT_EQUAL(map, 2 * MIB);

	/* A txn that hit the wall stays failed until aborted. */
	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_store_put_receipt(t, "full", seq, line, 60000, eh, NULL),
	    RCPT_E_STORAGE_FULL);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_put_receipt(t, "full", seq, "x", 1, eh, &d),
	    RCPT_E_STORAGE_FULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "failed earlier"));
	CU_ASSERT_EQUAL(rcpt_store_txn_commit(t, NULL), RCPT_E_STORAGE_FULL);

	/* Reads keep working; small writes may still fit. */
	CU_ASSERT_EQUAL(
	    rcpt_store_get_receipt(s, "full", 0, &got, NULL, NULL), RCPT_OK);
	free(got);
	got = NULL;
	rcpt_store_close(s);
	free(line);

	/* Reopened with the smaller map_size, the grown map is kept. */
	s = open_at(path, MIB, 2 * MIB, 0);
	CU_ASSERT_EQUAL(rcpt_store_usage(s, &used, &map), RCPT_OK);
	CU_ASSERT_EQUAL(map, 2 * MIB);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_receipt(s, "full", seq - 1, &got, NULL, NULL),
	    RCPT_OK);
	free(got);
	rcpt_store_close(s);
}

static void
test_read_only(void)
{
	const char *path = fresh("ro");
	struct rcpt_store *s = open_at(path, 0, 0, 0);
	struct rcpt_store_txn *t = NULL;
	struct rcpt_diag d = {0};
	char *line = NULL;

	put_line(s, "ro", 0);
	rcpt_store_close(s);
	s = open_at(path, 0, 0, 1);
	CU_ASSERT_EQUAL(rcpt_store_txn_begin(s, &t, &d), RCPT_E_DENIED);
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "read-only"));
	CU_ASSERT_EQUAL(rcpt_store_compact(s, NULL), RCPT_E_DENIED);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_receipt(s, "ro", 0, &line, NULL, NULL), RCPT_OK);
	free(line);
	rcpt_store_close(s);
}

static void
test_corrupt_records(void)
{
	const char *path = fresh("corrupt");
	struct rcpt_store *s = open_at(path, 0, 0, 0);
	struct rcpt_store_txn *t = NULL;
	struct rcpt_store_chain c, *cl = NULL;
	struct rcpt_store_key k[4], got, *kl = NULL;
	struct rcpt_store_snap *sn = NULL;
	struct rcpt_diag d = {0};
	uint8_t key[16], lh[RCPT_HASH_LEN], eh[RCPT_HASH_LEN] = {0};
	char *line = NULL;
	size_t n;
	static const uint8_t junk[] = {1, 0, 5, 'x'};

	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	fill_chain(&c, "x", 1);
	CU_ASSERT_EQUAL(rcpt_store_put_chain(t, &c, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_store_txn_commit(t, NULL), RCPT_OK);
	put_keys(s, k);
	put_line(s, "x", 0);
	rcpt_store_close(s);

	raw_put(path, "chains", "x", 1, junk, sizeof(junk));
	raw_put(path, "keys", k[1].kid, RCPT_KID_LEN, junk, 1);
	memcpy(key, "x\0\0\0\0\0\0\0\0\0", 10);
	raw_put(path, "receipts", key, 10, "", 0);
	raw_put(path, "leaves", key, 10, "short", 5);

	s = open_at(path, 0, 0, 0);
	CU_ASSERT_EQUAL(rcpt_store_get_chain(s, "x", &c, &d), RCPT_E_CORRUPT);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "chain x"));
	CU_ASSERT_EQUAL(
	    rcpt_store_list_chains(s, &cl, &n, NULL), RCPT_E_CORRUPT);
	CU_ASSERT_PTR_NULL(cl);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_key(s, k[1].kid, &got, &d), RCPT_E_CORRUPT);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, k[1].kid));
	CU_ASSERT_EQUAL(rcpt_store_get_key(s, k[0].kid, &got, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_store_list_keys(s, NULL, &kl, &n, NULL), RCPT_E_CORRUPT);
	CU_ASSERT_PTR_NULL(kl);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_receipt(s, "x", 0, &line, NULL, &d), RCPT_E_CORRUPT);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "chain x seq 0"));
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_store_snap_begin(s, "x", &sn, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_store_leaf(sn, 0, lh), RCPT_E_CORRUPT);
	rcpt_store_snap_end(sn);

	/* A leaf without its receipt: the receipt put is taken back. */
	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	memcpy(key, "x\0\0\0\0\0\0\0\0\1", 10);
	rcpt_store_txn_abort(t);
	rcpt_store_close(s);
	raw_put(path, "leaves", key, 10, lh, sizeof(lh));
	s = open_at(path, 0, 0, 0);
	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_store_put_receipt(t, "x", 1, "y", 1, eh, &d), RCPT_E_CORRUPT);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "leaves"));
	CU_ASSERT_EQUAL(rcpt_store_txn_commit(t, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_store_get_receipt(s, "x", 1, &line, NULL, NULL),
	    RCPT_E_NOT_FOUND);
	rcpt_store_close(s);
}

static void
test_format_marker(void)
{
	const char *path = fresh("marker");
	struct rcpt_store_opts o = {path, 0, 0, 0};
	struct rcpt_store *s = open_at(path, 0, 0, 0);
	struct rcpt_diag d = {0};

	rcpt_store_close(s);
	raw_put(path, "meta", "format", 6, "receiptd-store/2", 16);
	s = NULL;
	CU_ASSERT_EQUAL(rcpt_store_open(&o, &s, &d), RCPT_E_CORRUPT);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "format marker"));
	raw_put(path, "meta", "format", 6, NULL, 0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_open(&o, &s, &d), RCPT_E_CORRUPT);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "format marker missing"));
	o.read_only = 1;
	CU_ASSERT_EQUAL(rcpt_store_open(&o, &s, NULL), RCPT_E_CORRUPT);

	/* Some other LMDB environment. */
	o.path = fresh("foreign");
	o.read_only = 0;
	CU_ASSERT_EQUAL_FATAL(mkdir(o.path, 0700), 0);
	raw_put(o.path, NULL, "k", 1, "v", 1);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_store_open(&o, &s, &d), RCPT_E_CORRUPT);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "format marker missing"));
	CU_ASSERT_PTR_NULL(s);
}

/* One line per size class: in a leaf page, one overflow page, many. */
static char *
marked_line(size_t len, int i, const char *mark)
{
	char *p = malloc(len + 1);
	size_t m = strlen(mark), at;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memset(p, 'd', len);
	p[len] = '\0';
	/* The marker at the start, the middle and the end of the data. */
	for (at = 0; at + m <= len; at += len / 3) {
		memcpy(p + at, mark, m);
		p[at + m - 1] = (char)('0' + i);
		if (len / 3 == 0)
			break;
	}
	memcpy(p + len - m, mark, m);
	p[len - 1] = (char)('0' + i);
	return p;
}

static void
test_prune_removes_bytes(void)
{
	static const size_t sizes[] = {300, 2500, 3900, 20000};
	const char *path = fresh("prune");
	const char *mark = "SECRET-MARKER-7f3a9c-"; /* last char: a digit */
	char want[64];
	struct rcpt_store *s = open_at(path, 0, 0, 0);
	struct rcpt_store_txn *t = NULL;
	struct stat st;
	char *line, *got = NULL;
	size_t i, n = sizeof(sizes) / sizeof(sizes[0]);

	put_line(s, "p", 0);
	for (i = 0; i < n; i++) {
		line = marked_line(sizes[i], (int)i, mark);
		CU_ASSERT_EQUAL(
		    put_one(s, "p", i + 1, line, sizes[i], NULL), RCPT_OK);
		free(line);
	}
	put_line(s, "p", n + 1);
	/* The grep sees every marker before pruning. */
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "MARKER-7f3a9c%d", (int)i);
		CU_ASSERT_FATAL(
		    file_has(rcpt_test_path(path, "data.mdb"), want));
	}

	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	for (i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(rcpt_store_replace_receipt(
		                    t, "p", i + 1, "{\"pruned\":1}", 12, NULL),
		    RCPT_OK);
	}
	CU_ASSERT_EQUAL(rcpt_store_txn_commit(t, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_store_compact(s, NULL), RCPT_OK);

	/* The handle still works after the swap. */
	CU_ASSERT_EQUAL(
	    rcpt_store_get_receipt(s, "p", n + 1, &got, NULL, NULL), RCPT_OK);
	free(got);
	got = NULL;
	put_line(s, "p", n + 2);
	rcpt_store_close(s);

	CU_ASSERT_EQUAL(stat(rcpt_test_path(path, "data.mdb"), &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT_EQUAL(
	    stat(rcpt_test_path(path, "data.mdb.compact"), &st), -1);
	CU_ASSERT_FALSE(file_has(rcpt_test_path(path, "data.mdb"), "7f3a9c"));
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "MARKER-7f3a9c%d", (int)i);
		CU_ASSERT_FALSE(
		    file_has(rcpt_test_path(path, "data.mdb"), want));
	}
	CU_ASSERT_FALSE(file_has(rcpt_test_path(path, "lock.mdb"), "7f3a9c"));

	s = open_at(path, 0, 0, 0);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_receipt(s, "p", 2, &got, NULL, NULL), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(got, "{\"pruned\":1}");
	free(got);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_receipt(s, "p", n + 2, &got, NULL, NULL), RCPT_OK);
	free(got);
	rcpt_store_close(s);
}

/* Another process holding the store open blocks compaction. */
static void
test_compact_other_process(void)
{
	const char *path = fresh("shared");
	struct rcpt_store *s = open_at(path, 0, 0, 0);
	struct rcpt_diag d = {0};
	int up[2], down[2], status = -1;
	char c = 0, *got = NULL;
	pid_t pid;

	put_line(s, "sh", 0);
	CU_ASSERT_EQUAL_FATAL(pipe(up), 0);
	CU_ASSERT_EQUAL_FATAL(pipe(down), 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct rcpt_store_opts o = {path, 0, 0, 1};
		struct rcpt_store *cs = NULL;
		int ok = rcpt_store_open(&o, &cs, NULL) == RCPT_OK;

		if (write(up[1], ok ? "1" : "0", 1) != 1 ||
		    read(down[0], &c, 1) != 1)
			ok = 0;
		rcpt_store_close(cs);
		_exit(ok ? 0 : 1);
	}
	CU_ASSERT_EQUAL(read(up[0], &c, 1), 1);
	CU_ASSERT_EQUAL(c, '1');
	CU_ASSERT_EQUAL(rcpt_store_compact(s, &d), RCPT_E_DENIED);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "another process"));
	CU_ASSERT_EQUAL(
	    rcpt_store_get_receipt(s, "sh", 0, &got, NULL, NULL), RCPT_OK);
	free(got);
	CU_ASSERT_EQUAL(write(down[1], "x", 1), 1);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT_EQUAL(rcpt_store_compact(s, NULL), RCPT_OK);
	put_line(s, "sh", 1);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	rcpt_store_close(s);
}

/* Another process grows the map beyond ours: we follow it. */
static void
test_map_resized_elsewhere(void)
{
	const char *path = fresh("resized");
	struct rcpt_store *s = open_at(path, MIB, 4 * MIB, 0);
	char *got = NULL;
	int status = -1;
	pid_t pid;

	put_line(s, "rs", 0);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct rcpt_store_opts o = {path, MIB, 4 * MIB, 0};
		struct rcpt_store *cs = NULL;
		char *line = malloc(100000);
		uint64_t seq;
		int r = RCPT_E_INTERNAL;

		if (line == NULL || rcpt_store_open(&o, &cs, NULL) != RCPT_OK)
			_exit(2);
		memset(line, 'g', 100000);
		for (seq = 1; seq < 20; seq++) {
			if ((r = put_one(cs, "rs", seq, line, 100000, NULL)) ==
			    RCPT_E_STORAGE_FULL)
				r = put_one(cs, "rs", seq, line, 100000, NULL);
			if (r != RCPT_OK)
				break;
		}
		rcpt_store_close(cs);
		free(line);
		_exit(r == RCPT_OK ? 0 : 1);
	}
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT_FATAL(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_receipt(s, "rs", 19, &got, NULL, NULL), RCPT_OK);
	free(got);
	put_line(s, "rs", 20);
	rcpt_store_close(s);
}

static void
test_mem_failures(void)
{
	const char *path = fresh("mem");
	struct rcpt_store_opts o = {path, 0, 0, 0};
	struct rcpt_store *s = NULL;
	struct rcpt_store_key k[4], *kl;
	struct rcpt_store_chain *cl;
	struct rcpt_store_snap *sn;
	const char *l;
	char *line, *text;
	size_t n, len;
	long i;
	int r;

	for (i = 0;; i++) {
		rcpt_mem_fail_after(i);
		r = rcpt_store_open(&o, &s, NULL);
		rcpt_mem_fail_after(-1);
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL_FATAL(r, RCPT_E_NOMEM);
		CU_ASSERT_PTR_NULL(s);
	}
	CU_ASSERT(i > 0);
	put_keys(s, k);
	for (i = 0;; i++) {
		rcpt_mem_fail_after(i);
		r = put_one(s, "mem", 0, "line", 4, NULL);
		rcpt_mem_fail_after(-1);
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL_FATAL(r, RCPT_E_NOMEM);
		CU_ASSERT_EQUAL(
		    rcpt_store_get_receipt(s, "mem", 0, &line, NULL, NULL),
		    RCPT_E_NOT_FOUND);
	}
	CU_ASSERT(i > 0);
	for (i = 0;; i++) {
		rcpt_mem_fail_after(i);
		line = NULL;
		r = rcpt_store_get_receipt(s, "mem", 0, &line, &n, NULL);
		rcpt_mem_fail_after(-1);
		free(line);
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL_FATAL(r, RCPT_E_NOMEM);
	}
	for (i = 0;; i++) {
		rcpt_mem_fail_after(i);
		r = rcpt_store_list_keys(s, NULL, &kl, &n, NULL);
		rcpt_mem_fail_after(-1);
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL_FATAL(r, RCPT_E_NOMEM);
	}
	CU_ASSERT_EQUAL(n, 4);
	free(kl);
	for (i = 0;; i++) {
		rcpt_mem_fail_after(i);
		r = rcpt_store_list_chains(s, &cl, &n, NULL);
		rcpt_mem_fail_after(-1);
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL_FATAL(r, RCPT_E_NOMEM);
	}
	free(cl);
	for (i = 0;; i++) {
		rcpt_mem_fail_after(i);
		r = rcpt_store_jwks(s, &text, &len, NULL);
		rcpt_mem_fail_after(-1);
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL_FATAL(r, RCPT_E_NOMEM);
	}
	CU_ASSERT(i > 1);
	free(text);
	for (i = 0;; i++) {
		rcpt_mem_fail_after(i);
		sn = NULL;
		if ((r = rcpt_store_snap_begin(s, "mem", &sn, NULL)) == RCPT_OK)
			r = rcpt_store_snap_receipt(sn, 0, &l, &len);
		rcpt_mem_fail_after(-1);
		rcpt_store_snap_end(sn);
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL_FATAL(r, RCPT_E_NOMEM);
	}
	rcpt_store_close(s);
}

/* Four readers take snapshots while one writer appends. */
#define CC_N 150

struct cc {
	struct rcpt_store *s;
	uint8_t roots[CC_N + 1][RCPT_HASH_LEN];
	volatile int done;
	int bad;   /* written by readers under mu */
	int reads; /* snapshots checked */
	pthread_mutex_t mu;
};

static void *
cc_reader(void *arg)
{
	struct cc *cc = arg;
	struct rcpt_store_snap *sn;
	struct rcpt_store_chain c;
	uint8_t root[RCPT_HASH_LEN];
	int bad = 0, reads = 0, r;

	while (!__atomic_load_n(&cc->done, __ATOMIC_ACQUIRE) || reads == 0) {
		if (rcpt_store_snap_begin(cc->s, "cc", &sn, NULL) != RCPT_OK) {
			bad++;
			break;
		}
		r = rcpt_store_snap_chain(sn, &c, NULL);
		if (r == RCPT_OK) {
			if (c.size > CC_N ||
			    rcpt_merkle_root(
			        rcpt_store_leaf, sn, c.size, root) != RCPT_OK ||
			    memcmp(root, cc->roots[c.size], sizeof(root)) !=
			        0 ||
			    rcpt_store_leaf(sn, c.size, root) !=
			        RCPT_E_NOT_FOUND)
				bad++;
			reads++;
		} else if (r != RCPT_E_NOT_FOUND) {
			bad++;
		}
		rcpt_store_snap_end(sn);
	}
	pthread_mutex_lock(&cc->mu);
	cc->bad += bad;
	cc->reads += reads;
	pthread_mutex_unlock(&cc->mu);
	return NULL;
}

static void
test_concurrent_snapshots(void)
{
	static struct cc cc;
	struct rcpt_merkle_acc acc = {0};
	struct rcpt_store_chain c;
	struct rcpt_store_txn *t;
	pthread_t th[4];
	uint8_t eh[RCPT_HASH_LEN], lh[RCPT_HASH_LEN];
	uint64_t i;
	int j, wbad = 0;

	memset(&cc, 0, sizeof(cc));
	pthread_mutex_init(&cc.mu, NULL);
	cc.s = open_at(fresh("threads"), 0, 0, 0);
	rcpt_merkle_acc_root(&acc, cc.roots[0]);
	for (i = 0; i < CC_N; i++) {
		entry_for("cc", i, eh);
		rcpt_merkle_leaf_hash(eh, lh);
		rcpt_merkle_acc_push(&acc, lh);
		rcpt_merkle_acc_root(&acc, cc.roots[i + 1]);
	}
	for (j = 0; j < 4; j++)
		CU_ASSERT_EQUAL_FATAL(
		    pthread_create(&th[j], NULL, cc_reader, &cc), 0);
	for (i = 0; i < CC_N; i++) {
		entry_for("cc", i, eh);
		fill_chain(&c, "cc", i + 1);
		if (rcpt_store_txn_begin(cc.s, &t, NULL) != RCPT_OK) {
			wbad++;
			break;
		}
		if (rcpt_store_put_receipt(t, "cc", i, "{}", 2, eh, NULL) !=
		        RCPT_OK ||
		    rcpt_store_put_chain(t, &c, NULL) != RCPT_OK) {
			rcpt_store_txn_abort(t);
			wbad++;
			break;
		}
		if (rcpt_store_txn_commit(t, NULL) != RCPT_OK)
			wbad++;
	}
	__atomic_store_n(&cc.done, 1, __ATOMIC_RELEASE);
	for (j = 0; j < 4; j++)
		pthread_join(th[j], NULL);
	CU_ASSERT_EQUAL(wbad, 0);
	CU_ASSERT_EQUAL(cc.bad, 0);
	CU_ASSERT(cc.reads >= 4);
	rcpt_store_close(cc.s);
	pthread_mutex_destroy(&cc.mu);
}

/* Resident KiB of this process's mappings of @p file (smaps). */
static long
mapped_kib(const char *file)
{
	char line[1024];
	unsigned long lo, hi;
	long kib = 0, n;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "re");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			in =
			    strstr(line, file) != NULL; /* a mapping's header */
		else if (in && sscanf(line, "Rss: %ld kB", &n) == 1)
			kib += n;
	}
	fclose(f);
	return kib;
}

/* Pages read through the map are given back, and read again after. */
static void
test_release(void)
{
	const char *path = fresh("release");
	struct rcpt_store *s = open_at(path, 0, 0, 0);
	struct rcpt_store_txn *t = NULL;
	char line[2048], *got = NULL, file[1100];
	uint8_t eh[RCPT_HASH_LEN];
	size_t len = 0;
	long before, after;
	uint64_t i, n = 2000;

	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_begin(s, &t, NULL), RCPT_OK);
	for (i = 0; i < n; i++) {
		memset(line, 'a' + (int)(i % 26), sizeof(line));
		entry_for("m", i, eh);
		CU_ASSERT_EQUAL_FATAL(rcpt_store_put_receipt(t, "m", i, line,
		                          sizeof(line), eh, NULL),
		    RCPT_OK);
	}
	CU_ASSERT_EQUAL_FATAL(rcpt_store_txn_commit(t, NULL), RCPT_OK);
	for (i = 0; i < n; i++) {
		CU_ASSERT_EQUAL(
		    rcpt_store_get_receipt(s, "m", i, &got, &len, NULL),
		    RCPT_OK);
		free(got);
	}
	snprintf(file, sizeof(file), "%s/data.mdb", path);
	before = mapped_kib(file);
	/* 2000 lines of 2 KiB were read: at least 4 MB of pages. */
	CU_ASSERT(before >= 4000);
	CU_ASSERT_EQUAL(rcpt_store_release(s), RCPT_OK);
	after = mapped_kib(file);
	CU_ASSERT(after < before / 4);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_receipt(s, "m", 1234, &got, &len, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(len, sizeof(line));
	CU_ASSERT(got != NULL && got[0] == 'a' + 1234 % 26 &&
	          got[len - 1] == 'a' + 1234 % 26);
	free(got);
	CU_ASSERT_EQUAL(rcpt_store_release(NULL), RCPT_E_INVAL);
	rcpt_store_close(s);
}

static CU_TestInfo basic_tests[] = {
    {"creates, closes and reopens with its data", test_open_reopen},
    {"refuses bad options and missing stores", test_open_refusals},
    {"stores, lists and refuses chain records", test_chains},
    {"stores receipts once and checks lines", test_receipts},
    {"an aborted transaction leaves nothing", test_abort},
    {"snapshot leaves give the Merkle root", test_leaves_root},
    {"chain \"a\" never reads into \"a-b\"", test_prefix_isolation},
    {"latest checkpoint is the largest size", test_checkpoints},
    {"stores, lists and refuses keys", test_keys},
    {"JWK Set parses and round-trips", test_jwks},
    {"mapped pages are given back and read again", test_release},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo failure_tests[] = {
    {"map grows, then fails at its maximum", test_map_full},
    {"read-only store refuses writes", test_read_only},
    {"damaged records are corrupt", test_corrupt_records},
    {"wrong or missing format marker is corrupt", test_format_marker},
    {"allocation failures return NOMEM", test_mem_failures},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo prune_tests[] = {
    {"replace and compact remove the bytes", test_prune_removes_bytes},
    {"compaction refuses while another process has it",
        test_compact_other_process},
    {"follows a map grown by another process", test_map_resized_elsewhere},
    {"four snapshot readers beside a writer", test_concurrent_snapshots},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "store",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = basic_tests},
    {.pName = "store failures",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = failure_tests},
    {.pName = "store pruning and sharing",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = prune_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return rcpt_test_run(suites);
}
