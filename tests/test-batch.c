/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the daemon's side of libappliance: group commit
 * (rcpt_ceremony_append_batch, and its two halves the writer pipelines)
 * in each and batch chains, with events
 * refused on their own, a failing signer and a full store; pruning
 * (rcpt_ceremony_prune), down to the bytes of data.mdb; and the
 * daemon's checkpoint (rcpt_anchor_advance) against the anchor it
 * knows, a store rolled back and a store edited.  Every chain is
 * checked by the real verifier.  Keys live in the software provider,
 * except one suite that signs a batch on two threads through the
 * PKCS#11 plugin on a throw-away SoftHSM token; when SoftHSM is missing
 * the rest runs and the program exits 77 (SKIP).
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "anchor.h"
#include "ceremony.h"
#include "checkpoint.h"
#include "keystore/keystore.h"
#include "mem.h"
#include "receipt.h"
#include "softhsm.h"
#include "store.h"
#include "testlib.h"
#include "verify.h"

#define PKCS11_SO PROVIDERS_BUILDDIR "/provider-pkcs11.so"
#define ORIGIN    "receiptd.test/batch"
#define KIB       ((size_t)1024)
#define EVS_MAX   32

static char *tmp;                  /* per-suite scratch directory */
static struct rcpt_test_token tok; /* the SoftHSM token, if any */
static int tok_status = -1;        /* rcpt_test_token_new() result */

/* A store and a provider in their own directories. */
struct env {
	char dir[4000], db[4096], keys[4096];
	struct rcpt_store *s;
	struct rcpt_ks_provider *ks;
};

/* Events of one batch; the items borrow type, ts and data from here. */
struct evs {
	struct rcpt_ceremony_item it[EVS_MAX];
	json_object *data[EVS_MAX];
	char ts[EVS_MAX][RCPT_TS_LEN + 1];
	size_t n;
};

static int
setup(void)
{
	return (tmp = rcpt_test_mkdtemp()) == NULL;
}

static int
teardown(void)
{
	rcpt_test_rmdir(tmp);
	free(tmp);
	tmp = NULL;
	return 0;
}

static void
quiet(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static int
contains(const struct rcpt_diag *d, const char *s)
{
	return d->set && strstr(d->msg, s) != NULL;
}

/* TS number @p i, one second apart. */
static void
ts_at(int i, char out[RCPT_TS_LEN + 1])
{
	unsigned u = (unsigned)i % 3600;

	(void)snprintf(out, RCPT_TS_LEN + 1, "2025-03-01T10:%02u:%02u.000Z",
	    u / 60, u % 60);
}

static void
store_open(struct env *e, size_t map, size_t max)
{
	struct rcpt_store_opts o = {
	    .path = e->db, .map_size = map, .map_max = max};
	struct rcpt_diag d;

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL_FATAL(rcpt_store_open(&o, &e->s, &d), RCPT_OK);
}

static void
store_close(struct env *e)
{
	rcpt_store_close(e->s);
	e->s = NULL;
}

static void
env_new(struct env *e, size_t map, size_t max)
{
	static unsigned seq;
	struct rcpt_ks_opts o = {.log = quiet};

	memset(e, 0, sizeof(*e));
	(void)snprintf(e->dir, sizeof(e->dir), "%s/env-%u", tmp, seq++);
	(void)snprintf(e->db, sizeof(e->db), "%s/db", e->dir);
	(void)snprintf(e->keys, sizeof(e->keys), "%s/keys", e->dir);
	CU_ASSERT_FATAL(mkdir(e->dir, 0700) == 0 && mkdir(e->keys, 0700) == 0);
	store_open(e, map, max);
	CU_ASSERT_FATAL(rcpt_ks_adopt(rcpt_ks_soft_table(), "software", &e->ks,
	                    NULL) == RCPT_OK);
	CU_ASSERT_FATAL(rcpt_ks_open(e->ks, e->keys, 0, &o, NULL) == RCPT_OK);
}

static void
env_free(struct env *e)
{
	store_close(e);
	rcpt_ks_unload(e->ks);
	rcpt_test_rmdir(e->dir);
	memset(e, 0, sizeof(*e));
}

/* A new chain, anchored at its genesis as chain-create does. */
static struct rcpt_ceremony *
create(struct env *e, const char *chain, enum rcpt_sealing sealing,
    size_t data_max)
{
	struct rcpt_ceremony_opts o = {.data_max = data_max};
	struct rcpt_ceremony_genesis g = {
	    .chain = chain, .origin = ORIGIN, .sealing = sealing};
	struct rcpt_ceremony *c = NULL;
	struct rcpt_diag d;
	char t0[RCPT_TS_LEN + 1], *note = NULL;

	ts_at(0, t0);
	g.ts = t0;
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_create(e->s, e->ks, &g, &o, &c, NULL, NULL, &d),
	    RCPT_OK);
	if (d.set)
		fprintf(stderr, "create: %s\n", d.msg);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL_FATAL(rcpt_anchor_checkpoint(e->s, e->ks,
	                          rcpt_ceremony_signer(c), chain, &note, NULL),
	    RCPT_OK);
	free(note);
	return c;
}

static struct rcpt_ceremony *
reopen(struct env *e, const char *chain)
{
	struct rcpt_ceremony *c = NULL;
	struct rcpt_diag d;

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_open(e->s, e->ks, chain, NULL, &c, &d), RCPT_OK);
	if (d.set)
		fprintf(stderr, "open: %s\n", d.msg);
	CU_ASSERT_FATAL(c != NULL);
	return c;
}

/* Adds an event of @p type at time @p t whose data is @p text or @p t. */
static void
evs_add(struct evs *v, const char *type, int t, const char *text)
{
	size_t i = v->n++;

	CU_ASSERT_FATAL(i < EVS_MAX);
	ts_at(t, v->ts[i]);
	v->data[i] = text != NULL ? json_object_new_string(text)
	                          : json_object_new_int(t);
	CU_ASSERT_FATAL(v->data[i] != NULL);
	memset(&v->it[i], 0, sizeof(v->it[i]));
	v->it[i].ev.type = type;
	v->it[i].ev.submitter = "shop";
	v->it[i].ev.ts = v->ts[i];
	v->it[i].ev.data = v->data[i];
}

static void
evs_clear(struct evs *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		free(v->it[i].line);
		json_object_put(v->data[i]);
	}
	memset(v, 0, sizeof(*v));
}

static int
run(struct rcpt_ceremony *c, struct evs *v, rcpt_ceremony_sign_many_fn fn,
    void *ctx, size_t *n_ok, struct rcpt_diag *d)
{
	rcpt_diag_clear(d);
	return rcpt_ceremony_append_batch(c, v->it, v->n, fn, ctx, n_ok, d);
}

/* Parses item @p i's stored line; the caller clears @p rc. */
static void
item_receipt(const struct evs *v, size_t i, struct rcpt_receipt *rc)
{
	rcpt_receipt_init(rc);
	CU_ASSERT_FATAL(v->it[i].line != NULL);
	CU_ASSERT_FATAL(rcpt_receipt_parse(v->it[i].line, v->it[i].len, 256, rc,
	                    NULL) == RCPT_OK);
}

/* Receipt @p seq of @p chain from the store; the caller clears it. */
static void
stored_receipt(struct rcpt_store *s, const char *chain, uint64_t seq,
    struct rcpt_receipt *rc)
{
	char *line = NULL;
	size_t len = 0;

	rcpt_receipt_init(rc);
	CU_ASSERT_FATAL(rcpt_store_get_receipt(
	                    s, chain, seq, &line, &len, NULL) == RCPT_OK);
	CU_ASSERT_FATAL(
	    rcpt_receipt_parse(line, len, 256, rc, NULL) == RCPT_OK);
	free(line);
}

/* Feeds every stored receipt of @p chain to the verifier. */
static void
verify_store(
    struct rcpt_store *s, const char *chain, struct rcpt_verify_result *res)
{
	struct rcpt_verify_opts o = {.threads = 2};
	struct rcpt_store_chain rec;
	struct rcpt_verifier *v = NULL;
	char *line;
	size_t len;
	uint64_t seq;

	CU_ASSERT_FATAL(rcpt_store_get_chain(s, chain, &rec, NULL) == RCPT_OK);
	CU_ASSERT_FATAL(rcpt_verifier_new(&o, &v) == RCPT_OK);
	for (seq = 0; seq < rec.size; seq++) {
		CU_ASSERT_FATAL(rcpt_store_get_receipt(s, chain, seq, &line,
		                    &len, NULL) == RCPT_OK);
		CU_ASSERT(rcpt_verifier_feed(v, line, len) == RCPT_OK);
		free(line);
	}
	rcpt_verifier_finish(v, NULL, res);
	rcpt_verifier_free(v);
	if (res->status != RCPT_VERIFY_CLEAN)
		fprintf(stderr, "verify: %s\n", res->reason);
}

/* Verifies @p chain CLEAN, with the anchor check too; returns count. */
static uint64_t
expect_clean(struct env *e, const char *chain)
{
	struct rcpt_verify_result res;
	struct rcpt_diag d;

	verify_store(e->s, chain, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_anchor_check(e->s, e->ks, chain, NULL, &d), RCPT_OK);
	if (d.set)
		fprintf(stderr, "anchor check: %s\n", d.msg);
	return res.count;
}

/* LMDB's last committed transaction id; the store must be closed. */
static uint64_t
last_txnid(const char *db)
{
	MDB_env *env = NULL;
	MDB_envinfo info;

	CU_ASSERT_FATAL(mdb_env_create(&env) == 0);
	CU_ASSERT_FATAL(mdb_env_set_maxdbs(env, 16) == 0);
	CU_ASSERT_FATAL(mdb_env_open(env, db, MDB_RDONLY, 0600) == 0);
	CU_ASSERT_FATAL(mdb_env_info(env, &info) == 0);
	mdb_env_close(env);
	return (uint64_t)info.me_last_txnid;
}

/* sign_many on two threads; counts its calls and messages in ctx. */
struct sign_count {
	int calls;
	size_t msgs;
};

struct half {
	const struct rcpt_signer *s;
	const uint8_t (*msgs)[32];
	uint8_t (*sigs)[RCPT_ED25519_SIG_LEN];
	size_t from, to;
	int r;
};

static void *
sign_half(void *arg)
{
	struct half *h = arg;
	size_t i;

	h->r = RCPT_OK;
	for (i = h->from; i < h->to && h->r == RCPT_OK; i++)
		h->r = h->s->sign(h->s->ctx, h->s->kid, h->msgs[i], h->sigs[i]);
	return NULL;
}

static int
sign_two_threads(void *ctx, const struct rcpt_signer *s,
    const uint8_t (*msgs)[32], uint8_t (*sigs)[RCPT_ED25519_SIG_LEN], size_t n)
{
	struct sign_count *k = ctx;
	struct half h[2] = {{s, msgs, sigs, 0, n / 2, RCPT_E_INTERNAL},
	    {s, msgs, sigs, n / 2, n, RCPT_E_INTERNAL}};
	pthread_t th;

	k->calls++;
	k->msgs += n;
	if (pthread_create(&th, NULL, sign_half, &h[0]) != 0)
		return RCPT_E_INTERNAL;
	sign_half(&h[1]);
	if (pthread_join(th, NULL) != 0)
		return RCPT_E_INTERNAL;
	return h[0].r != RCPT_OK ? h[0].r : h[1].r;
}

static int
sign_fails(void *ctx, const struct rcpt_signer *s, const uint8_t (*msgs)[32],
    uint8_t (*sigs)[RCPT_ED25519_SIG_LEN], size_t n)
{
	(void)ctx;
	(void)s;
	(void)msgs;
	if (n > 0) /* as a token that signed the first one, then died */
		memset(sigs[0], 0x5a, RCPT_ED25519_SIG_LEN);
	return RCPT_E_KEY_UNAVAILABLE;
}

static int
sign_nothing(void *ctx, const struct rcpt_signer *s, const uint8_t (*msgs)[32],
    uint8_t (*sigs)[RCPT_ED25519_SIG_LEN], size_t n)
{
	(void)ctx;
	(void)s;
	(void)msgs;
	(void)sigs;
	(void)n;
	return RCPT_OK;
}

/* Checks that the store and the handle are where @p size and @p tip say. */
static void
expect_tip(struct env *e, struct rcpt_ceremony *c, const char *chain,
    uint64_t size, const uint8_t tip[RCPT_HASH_LEN])
{
	struct rcpt_store_chain rec;
	uint8_t h[RCPT_HASH_LEN];
	uint64_t n = 0;
	char *line = NULL;

	CU_ASSERT_FATAL(
	    rcpt_store_get_chain(e->s, chain, &rec, NULL) == RCPT_OK);
	rcpt_ceremony_tip(c, &n, h);
	CU_ASSERT_EQUAL(rec.size, size);
	CU_ASSERT_EQUAL(n, size);
	CU_ASSERT_EQUAL(rcpt_ceremony_size(c), size);
	CU_ASSERT_EQUAL(memcmp(rec.tip_hash, tip, RCPT_HASH_LEN), 0);
	CU_ASSERT_EQUAL(memcmp(h, tip, RCPT_HASH_LEN), 0);
	CU_ASSERT_EQUAL(
	    rcpt_store_get_receipt(e->s, chain, size, &line, NULL, NULL),
	    RCPT_E_NOT_FOUND);
	free(line);
}

/* Group commit */

static void
test_each_batch_one_commit(void)
{
	struct env e;
	struct evs v = {0};
	struct rcpt_ceremony *c;
	struct rcpt_receipt rc;
	struct rcpt_diag d;
	uint64_t before, opened, after;
	size_t i, n_ok = 0;

	env_new(&e, 0, 0);
	c = create(&e, "each", RCPT_SEALING_EACH, 0);
	rcpt_ceremony_close(c);
	/* What opening a chain alone costs in transactions (none, so far). */
	store_close(&e);
	before = last_txnid(e.db);
	store_open(&e, 0, 0);
	rcpt_ceremony_close(reopen(&e, "each"));
	store_close(&e);
	opened = last_txnid(e.db);
	store_open(&e, 0, 0);
	c = reopen(&e, "each");
	for (i = 0; i < 8; i++)
		evs_add(&v, "order.placed", 1 + (int)i, NULL);
	CU_ASSERT_EQUAL(run(c, &v, NULL, NULL, &n_ok, &d), RCPT_OK);
	CU_ASSERT_EQUAL(n_ok, 8);
	for (i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL(v.it[i].result, RCPT_OK);
		CU_ASSERT_FALSE(v.it[i].diag.set);
		item_receipt(&v, i, &rc);
		CU_ASSERT_EQUAL(rc.seq, 1 + i);
		CU_ASSERT_TRUE(rc.has_signature);
		CU_ASSERT_STRING_EQUAL(rc.ts, v.ts[i]);
		if (i == 7)
			expect_tip(&e, c, "each", 9, rc.entry_hash);
		rcpt_receipt_clear(&rc);
	}
	rcpt_ceremony_close(c);
	store_close(&e);
	after = last_txnid(e.db);
	CU_ASSERT_EQUAL(after - opened, 1 + (opened - before));
	store_open(&e, 0, 0);
	CU_ASSERT_EQUAL(expect_clean(&e, "each"), 9);
	/* Nothing to do is not an error. */
	c = reopen(&e, "each");
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_append_batch(c, NULL, 0, NULL, NULL, &n_ok, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(n_ok, 0);
	rcpt_ceremony_close(c);
	evs_clear(&v);
	env_free(&e);
}

static void
test_batch_chain_seals_last(void)
{
	struct env e;
	struct evs v = {0};
	struct rcpt_ceremony *c;
	struct rcpt_receipt rc;
	struct rcpt_diag d;
	size_t i, n_ok = 0;

	env_new(&e, 0, 0);
	c = create(&e, "sealed", RCPT_SEALING_BATCH, 0);
	for (i = 0; i < 5; i++)
		evs_add(&v, "order.placed", 1 + (int)i, NULL);
	v.it[4].ev.seal = false; /* ignored: the batch decides */
	v.it[1].ev.seal = true;
	CU_ASSERT_EQUAL(run(c, &v, NULL, NULL, &n_ok, &d), RCPT_OK);
	CU_ASSERT_EQUAL(n_ok, 5);
	for (i = 0; i < 5; i++) {
		item_receipt(&v, i, &rc);
		CU_ASSERT_EQUAL(rc.seq, 1 + i);
		CU_ASSERT_EQUAL(rc.has_signature, i == 4);
		rcpt_receipt_clear(&rc);
	}
	evs_clear(&v);
	/* The seal goes on the last receipt made, not the last item. */
	evs_add(&v, "order.placed", 6, NULL);
	evs_add(&v, "order.placed", 7, NULL);
	evs_add(&v, "receiptd.genesis", 8, NULL);
	CU_ASSERT_EQUAL(run(c, &v, NULL, NULL, &n_ok, &d), RCPT_OK);
	CU_ASSERT_EQUAL(n_ok, 2);
	CU_ASSERT_EQUAL(v.it[2].result, RCPT_E_INVAL);
	item_receipt(&v, 1, &rc);
	CU_ASSERT_EQUAL(rc.seq, 7);
	CU_ASSERT_TRUE(rc.has_signature);
	expect_tip(&e, c, "sealed", 8, rc.entry_hash);
	rcpt_receipt_clear(&rc);
	item_receipt(&v, 0, &rc);
	CU_ASSERT_FALSE(rc.has_signature);
	rcpt_receipt_clear(&rc);
	CU_ASSERT_EQUAL(expect_clean(&e, "sealed"), 8);
	rcpt_ceremony_close(c);
	evs_clear(&v);
	env_free(&e);
}

static void
test_refused_items_take_no_seq(void)
{
	static const int want[] = {RCPT_OK, RCPT_E_INVAL, RCPT_OK,
	    RCPT_E_TOO_LARGE, RCPT_E_INVAL, RCPT_OK};
	char big[1000];
	struct env e;
	struct evs v = {0};
	struct rcpt_ceremony *c;
	struct rcpt_receipt rc;
	struct rcpt_diag d;
	size_t i, n_ok = 0;
	uint64_t seq = 1;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	env_new(&e, 0, 0);
	c = create(&e, "refusals", RCPT_SEALING_EACH, 512);
	evs_add(&v, "order.placed", 1, NULL);
	evs_add(&v, "Receiptd.Key_Rotation", 2, NULL);
	evs_add(&v, "order.placed", 3, NULL);
	evs_add(&v, "order.placed", 4, big);
	evs_add(&v, "order.placed", 5, NULL);
	v.it[4].ev.ts = "yesterday";
	evs_add(&v, "order.placed", 6, NULL);
	CU_ASSERT_EQUAL(run(c, &v, NULL, NULL, &n_ok, &d), RCPT_OK);
	CU_ASSERT_EQUAL(n_ok, 3);
	for (i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(v.it[i].result, want[i]);
		CU_ASSERT_EQUAL(v.it[i].diag.set, want[i] != RCPT_OK);
		if (want[i] != RCPT_OK) {
			CU_ASSERT_PTR_NULL(v.it[i].line);
			continue;
		}
		item_receipt(&v, i, &rc);
		CU_ASSERT_EQUAL(rc.seq, seq++);
		rcpt_receipt_clear(&rc);
	}
	CU_ASSERT(contains(&v.it[1].diag, "reserved"));
	CU_ASSERT(contains(&v.it[3].diag, "data"));
	CU_ASSERT(contains(&v.it[4].diag, "ts"));
	CU_ASSERT_EQUAL(rcpt_ceremony_size(c), 4);
	evs_clear(&v);
	/* A batch of refusals only stores nothing, and is no error. */
	evs_add(&v, "receiptd.x", 7, NULL);
	CU_ASSERT_EQUAL(run(c, &v, NULL, NULL, &n_ok, &d), RCPT_OK);
	CU_ASSERT_EQUAL(n_ok, 0);
	CU_ASSERT_EQUAL(v.it[0].result, RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_ceremony_size(c), 4);
	CU_ASSERT_EQUAL(expect_clean(&e, "refusals"), 4);
	rcpt_ceremony_close(c);
	evs_clear(&v);
	env_free(&e);
}

static void
test_signer_failure_stores_nothing(void)
{
	struct env e;
	struct evs v = {0};
	struct rcpt_ceremony *c;
	struct rcpt_chain_event ev = {
	    .type = "order.placed", .submitter = "shop"};
	struct rcpt_receipt rc;
	struct rcpt_diag d;
	uint8_t tip[RCPT_HASH_LEN];
	char t9[RCPT_TS_LEN + 1], *line = NULL;
	size_t i, n_ok = 7, len = 0;
	uint64_t size;

	env_new(&e, 0, 0);
	c = create(&e, "fails", RCPT_SEALING_EACH, 0);
	rcpt_ceremony_tip(c, &size, tip);
	CU_ASSERT_EQUAL(size, 1);
	evs_add(&v, "order.placed", 1, NULL);
	evs_add(&v, "receiptd.x", 2, NULL);
	evs_add(&v, "order.placed", 3, NULL);
	CU_ASSERT_EQUAL(
	    run(c, &v, sign_fails, NULL, &n_ok, &d), RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT(contains(&d, "signature"));
	CU_ASSERT_EQUAL(n_ok, 0);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(v.it[i].result,
		    i == 1 ? RCPT_E_INVAL : RCPT_E_KEY_UNAVAILABLE);
		CU_ASSERT_PTR_NULL(v.it[i].line);
		CU_ASSERT_TRUE(v.it[i].diag.set);
	}
	CU_ASSERT(contains(&v.it[0].diag, "batch: signature"));
	CU_ASSERT(contains(&v.it[1].diag, "reserved"));
	expect_tip(&e, c, "fails", 1, tip);
	/* A sign_many that claims success without signing is caught. */
	CU_ASSERT_EQUAL(
	    run(c, &v, sign_nothing, NULL, &n_ok, &d), RCPT_E_INTERNAL);
	CU_ASSERT(contains(&d, "unmade"));
	CU_ASSERT_EQUAL(v.it[2].result, RCPT_E_INTERNAL);
	expect_tip(&e, c, "fails", 1, tip);
	/* The handle goes on from the same seq. */
	ts_at(9, t9);
	ev.ts = t9;
	rcpt_receipt_init(&rc);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_append(c, &ev, &line, &len, NULL), RCPT_OK);
	CU_ASSERT_FATAL(line != NULL);
	CU_ASSERT_FATAL(
	    rcpt_receipt_parse(line, len, 256, &rc, NULL) == RCPT_OK);
	CU_ASSERT_EQUAL(rc.seq, 1);
	CU_ASSERT_EQUAL(memcmp(rc.prev_hash, tip, RCPT_HASH_LEN), 0);
	rcpt_receipt_clear(&rc);
	free(line);
	CU_ASSERT_EQUAL(expect_clean(&e, "fails"), 2);
	rcpt_ceremony_close(c);
	evs_clear(&v);
	env_free(&e);
}

/* Appends @p n events at @p t0 on with sign_two_threads (each chain). */
static void
batch_two_threads(struct rcpt_ceremony *c, size_t n, int t0)
{
	struct sign_count k = {0};
	struct evs v = {0};
	struct rcpt_diag d;
	size_t i, n_ok = 0;

	for (i = 0; i < n; i++)
		evs_add(&v, "order.placed", t0 + (int)i, NULL);
	CU_ASSERT_EQUAL(run(c, &v, sign_two_threads, &k, &n_ok, &d), RCPT_OK);
	if (d.set)
		fprintf(stderr, "batch: %s\n", d.msg);
	CU_ASSERT_EQUAL(n_ok, n);
	CU_ASSERT_EQUAL(k.calls, 1);
	CU_ASSERT_EQUAL(k.msgs, n);
	evs_clear(&v);
}

static void
test_two_threads_sign(void)
{
	struct env e;
	struct rcpt_ceremony *c;

	env_new(&e, 0, 0);
	c = create(&e, "threads", RCPT_SEALING_EACH, 0);
	batch_two_threads(c, 16, 1);
	batch_two_threads(c, 3, 20);
	CU_ASSERT_EQUAL(expect_clean(&e, "threads"), 20);
	rcpt_ceremony_close(c);
	env_free(&e);
}

/* Events of about 90 KiB each, with @p t0 as the first time. */
static void
big_events(struct evs *v, size_t n, int t0, char *buf, size_t size)
{
	size_t i;

	memset(buf, 'p', size - 1);
	buf[size - 1] = '\0';
	for (i = 0; i < n; i++)
		evs_add(v, "bulk.upload", t0 + (int)i, buf);
}

static void
test_storage_full(void)
{
	static char buf[90 * 1024];
	struct env e;
	struct evs v = {0};
	struct rcpt_ceremony *c;
	struct rcpt_receipt rc;
	struct rcpt_diag d;
	uint8_t tip[RCPT_HASH_LEN];
	size_t i, n_ok = 0, used = 0, map = 0;
	uint64_t size;

	/* At the maximum: the batch fails whole, reads go on. */
	env_new(&e, 512 * KIB, 512 * KIB);
	c = create(&e, "full", RCPT_SEALING_EACH, 0);
	rcpt_ceremony_tip(c, &size, tip);
	big_events(&v, 8, 1, buf, sizeof(buf));
	CU_ASSERT_EQUAL(run(c, &v, NULL, NULL, &n_ok, &d), RCPT_E_STORAGE_FULL);
	CU_ASSERT(contains(&d, "map at its maximum"));
	CU_ASSERT_EQUAL(n_ok, 0);
	for (i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL(v.it[i].result, RCPT_E_STORAGE_FULL);
		CU_ASSERT_PTR_NULL(v.it[i].line);
	}
	expect_tip(&e, c, "full", size, tip);
	stored_receipt(e.s, "full", 0, &rc);
	CU_ASSERT_STRING_EQUAL(rc.type, RCPT_GENESIS_TYPE);
	rcpt_receipt_clear(&rc);
	evs_clear(&v);
	evs_add(&v, "order.placed", 9, NULL);
	CU_ASSERT_EQUAL(run(c, &v, NULL, NULL, &n_ok, &d), RCPT_OK);
	CU_ASSERT_EQUAL(expect_clean(&e, "full"), 2);
	rcpt_ceremony_close(c);
	evs_clear(&v);
	env_free(&e);

	/* Below the maximum: the map grows and the batch runs again. */
	env_new(&e, 512 * KIB, 4096 * KIB);
	c = create(&e, "grows", RCPT_SEALING_EACH, 0);
	big_events(&v, 8, 1, buf, sizeof(buf));
	CU_ASSERT_EQUAL(run(c, &v, NULL, NULL, &n_ok, &d), RCPT_OK);
	if (d.set)
		fprintf(stderr, "grow: %s\n", d.msg);
	CU_ASSERT_EQUAL(n_ok, 8);
	CU_ASSERT_EQUAL(rcpt_store_usage(e.s, &used, &map), RCPT_OK);
	CU_ASSERT(map > 512 * KIB);
	CU_ASSERT_EQUAL(expect_clean(&e, "grows"), 9);
	rcpt_ceremony_close(c);
	evs_clear(&v);
	env_free(&e);
}

/* Pruning */

/* 1 when @p what occurs anywhere in the store's data.mdb. */
static int
in_data_mdb(const struct env *e, const char *what)
{
	char path[4200];
	char *text;
	size_t len = 0;
	int found;

	(void)snprintf(path, sizeof(path), "%s/data.mdb", e->db);
	text = rcpt_test_read_file(path, &len);
	CU_ASSERT_FATAL(text != NULL);
	found = memmem(text, len, what, strlen(what)) != NULL;
	free(text);
	return found;
}

static void
test_prune(void)
{
	struct env e;
	struct evs v = {0};
	struct rcpt_ceremony *c;
	struct rcpt_receipt rc;
	struct rcpt_verify_result res;
	struct rcpt_diag d;
	uint8_t hashes[8][RCPT_HASH_LEN];
	char marks[8][48], t[3][RCPT_TS_LEN + 1], *note = NULL;
	size_t n_ok = 0;
	uint64_t n = 99, seq;
	int i;

	env_new(&e, 0, 0);
	c = create(&e, "pr", RCPT_SEALING_EACH, 0);
	for (i = 0; i < 8; i++)
		(void)snprintf(marks[i], sizeof(marks[i]), "MARK-%ld-%d-zq",
		    (long)getpid(), i);
	/* seq 1, 2; rotation at 3; 4, 5 before the cut-off; 6, 7 after. */
	evs_add(&v, "order.placed", 1, marks[1]);
	evs_add(&v, "order.placed", 2, marks[2]);
	CU_ASSERT_EQUAL(run(c, &v, NULL, NULL, &n_ok, &d), RCPT_OK);
	evs_clear(&v);
	ts_at(3, t[0]);
	CU_ASSERT_EQUAL(rcpt_ceremony_rotate(c, t[0], "admin:alice", "yearly",
	                    NULL, NULL, NULL, NULL),
	    RCPT_OK);
	for (i = 4; i < 8; i++)
		evs_add(&v, "order.placed", i, marks[i]);
	CU_ASSERT_EQUAL(run(c, &v, NULL, NULL, &n_ok, &d), RCPT_OK);
	CU_ASSERT_EQUAL(n_ok, 4);
	evs_clear(&v);
	for (seq = 0; seq < 8; seq++) {
		stored_receipt(e.s, "pr", seq, &rc);
		memcpy(hashes[seq], rc.entry_hash, RCPT_HASH_LEN);
		rcpt_receipt_clear(&rc);
	}
	CU_ASSERT_TRUE(in_data_mdb(&e, marks[1]));

	ts_at(6, t[1]);
	ts_at(30, t[2]);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_prune(c, "2025-03-01", t[2], &n, &d), RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "before"));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_prune(c, t[1], t[2], &n, &d), RCPT_OK);
	if (d.set)
		fprintf(stderr, "prune: %s\n", d.msg);
	CU_ASSERT_EQUAL(n, 4);
	for (seq = 0; seq < 8; seq++) {
		int gone = seq == 1 || seq == 2 || seq == 4 || seq == 5;

		stored_receipt(e.s, "pr", seq, &rc);
		CU_ASSERT_EQUAL(rc.has_data, !gone);
		CU_ASSERT_STRING_EQUAL(rc.pruned_at, gone ? t[2] : "");
		CU_ASSERT_EQUAL(
		    memcmp(rc.entry_hash, hashes[seq], RCPT_HASH_LEN), 0);
		rcpt_receipt_clear(&rc);
		if (seq > 0 && seq != 3)
			CU_ASSERT_EQUAL(in_data_mdb(&e, marks[seq]), !gone);
	}
	verify_store(e.s, "pr", &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	CU_ASSERT_EQUAL(res.pruned, 4);
	CU_ASSERT_EQUAL(expect_clean(&e, "pr"), 8);

	/* Again: nothing left; then a later cut-off takes one more. */
	CU_ASSERT_EQUAL(rcpt_ceremony_prune(c, t[1], t[2], &n, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(n, 0);
	ts_at(7, t[1]);
	CU_ASSERT_EQUAL(rcpt_ceremony_prune(c, t[1], t[2], &n, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_FALSE(in_data_mdb(&e, marks[6]));
	CU_ASSERT_TRUE(in_data_mdb(&e, marks[7]));
	verify_store(e.s, "pr", &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	CU_ASSERT_EQUAL(res.pruned, 5);
	/* The handle and a reopened one go on. */
	evs_add(&v, "order.placed", 31, NULL);
	CU_ASSERT_EQUAL(run(c, &v, NULL, NULL, &n_ok, &d), RCPT_OK);
	CU_ASSERT_EQUAL(n_ok, 1);
	rcpt_ceremony_close(c);
	c = reopen(&e, "pr");
	CU_ASSERT_EQUAL(rcpt_ceremony_size(c), 9);
	CU_ASSERT_EQUAL(rcpt_anchor_checkpoint(e.s, e.ks,
	                    rcpt_ceremony_signer(c), "pr", &note, NULL),
	    RCPT_OK);
	free(note);
	rcpt_ceremony_close(c);
	evs_clear(&v);
	env_free(&e);
}

/* The daemon's checkpoint */

/* Appends @p n small events from time @p t0. */
static void
grow(struct rcpt_ceremony *c, size_t n, int t0)
{
	struct evs v = {0};
	struct rcpt_diag d;
	size_t i, n_ok = 0;

	for (i = 0; i < n; i++)
		evs_add(&v, "order.placed", t0 + (int)i, NULL);
	CU_ASSERT_EQUAL(run(c, &v, NULL, NULL, &n_ok, &d), RCPT_OK);
	CU_ASSERT_EQUAL(n_ok, n);
	evs_clear(&v);
}

/* The frontier, when a test passes one, matches what it advanced to. */
static void
check_frontier(const struct rcpt_merkle_acc *fr, const struct rcpt_anchor *a)
{
	uint8_t root[RCPT_HASH_LEN];

	rcpt_merkle_acc_root(fr, root);
	CU_ASSERT_EQUAL(fr->size, a->size);
	CU_ASSERT_EQUAL(memcmp(root, a->root, RCPT_HASH_LEN), 0);
}

static int
advance_fr(struct env *e, struct rcpt_ceremony *c, const char *chain,
    struct rcpt_anchor *known, struct rcpt_merkle_acc *fr, uint64_t *size,
    struct rcpt_diag *d)
{
	char *note = NULL;
	int r;

	rcpt_diag_clear(d);
	r = rcpt_anchor_advance(e->s, e->ks, rcpt_ceremony_signer(c), chain,
	    ORIGIN, known, fr, &note, size, d);
	CU_ASSERT_EQUAL(note == NULL, r != RCPT_OK);
	if (r == RCPT_OK && fr != NULL)
		check_frontier(fr, known);
	if (note != NULL) {
		struct rcpt_checkpoint cp;
		char *stored = NULL;
		uint64_t n = 0;

		memset(&cp, 0, sizeof(cp));
		CU_ASSERT_FATAL(rcpt_checkpoint_parse(
		                    note, strlen(note), &cp, NULL) == RCPT_OK);
		CU_ASSERT_EQUAL(cp.size, known->size);
		CU_ASSERT_EQUAL(memcmp(cp.root, known->root, RCPT_HASH_LEN), 0);
		CU_ASSERT_EQUAL(
		    rcpt_checkpoint_verify(&cp, rcpt_ceremony_signer(c)->pub),
		    RCPT_OK);
		CU_ASSERT_EQUAL(rcpt_store_latest_checkpoint(
		                    e->s, chain, &stored, &n, NULL),
		    RCPT_OK);
		CU_ASSERT_EQUAL(n, cp.size);
		CU_ASSERT_STRING_EQUAL(stored, note);
		rcpt_checkpoint_clear(&cp);
		free(stored);
	}
	free(note);
	return r;
}

static int
advance(struct env *e, struct rcpt_ceremony *c, const char *chain,
    struct rcpt_anchor *known, uint64_t *size, struct rcpt_diag *d)
{
	return advance_fr(e, c, chain, known, NULL, size, d);
}

static uint64_t
token_size(struct env *e, const char *chain)
{
	struct rcpt_anchor a;

	CU_ASSERT_FATAL(rcpt_anchor_read(e->ks, chain, &a, NULL) == RCPT_OK);
	return a.size;
}

static void
test_advance(void)
{
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_anchor known, bad, was, tok_a;
	struct rcpt_diag d;
	char *note = NULL;
	uint64_t size = 0;

	env_new(&e, 0, 0);
	c = create(&e, "adv", RCPT_SEALING_BATCH, 0);
	CU_ASSERT_FATAL(rcpt_anchor_read(e.ks, "adv", &known, NULL) == RCPT_OK);
	CU_ASSERT_EQUAL(known.size, 1);
	grow(c, 3, 1);
	CU_ASSERT_EQUAL(advance(&e, c, "adv", &known, &size, &d), RCPT_OK);
	CU_ASSERT_EQUAL(size, 4);
	CU_ASSERT_EQUAL(known.size, 4);
	CU_ASSERT_FATAL(rcpt_anchor_read(e.ks, "adv", &tok_a, NULL) == RCPT_OK);
	CU_ASSERT_STRING_EQUAL(tok_a.chain, "adv");
	CU_ASSERT_EQUAL(tok_a.size, known.size);
	CU_ASSERT_EQUAL(memcmp(tok_a.root, known.root, RCPT_HASH_LEN), 0);
	grow(c, 2, 4);
	CU_ASSERT_EQUAL(advance(&e, c, "adv", &known, &size, &d), RCPT_OK);
	CU_ASSERT_EQUAL(known.size, 6);
	/* Nothing new: a fresh checkpoint of the same tree. */
	CU_ASSERT_EQUAL(advance(&e, c, "adv", &known, &size, &d), RCPT_OK);
	CU_ASSERT_EQUAL(size, 6);
	CU_ASSERT_EQUAL(expect_clean(&e, "adv"), 6);

	/* The token's anchor must be the one this process knows. */
	grow(c, 1, 6);
	bad = known;
	bad.root[5] ^= 0x10;
	was = bad;
	CU_ASSERT_EQUAL(advance(&e, c, "adv", &bad, &size, &d), RCPT_E_ANCHOR);
	CU_ASSERT(contains(&d, "not the one this process last read or wrote"));
	/* A failure leaves what the caller knows alone. */
	CU_ASSERT_EQUAL(bad.size, was.size);
	CU_ASSERT_EQUAL(memcmp(bad.root, was.root, RCPT_HASH_LEN), 0);
	bad = known;
	bad.size = 5;
	CU_ASSERT_EQUAL(advance(&e, c, "adv", &bad, &size, &d), RCPT_E_ANCHOR);
	memset(&bad, 0, sizeof(bad));
	CU_ASSERT_EQUAL(advance(&e, c, "adv", &bad, &size, &d), RCPT_E_ANCHOR);
	CU_ASSERT(contains(&d, "did not expect"));
	CU_ASSERT_EQUAL(size, 0);
	CU_ASSERT_EQUAL(token_size(&e, "adv"), 6);
	/* Arguments the record contradicts. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_anchor_advance(e.s, e.ks, rcpt_ceremony_signer(c), "adv",
	        "other.example/log", &known, NULL, &note, NULL, &d),
	    RCPT_E_CORRUPT);
	CU_ASSERT(contains(&d, "origin"));
	CU_ASSERT_PTR_NULL(note);
	CU_ASSERT_EQUAL(token_size(&e, "adv"), 6);
	CU_ASSERT_EQUAL(advance(&e, c, "adv", &known, &size, &d), RCPT_OK);
	CU_ASSERT_EQUAL(size, 7);
	rcpt_ceremony_close(c);
	env_free(&e);
}

/*
 * With a frontier: the first advance reads every leaf, later ones only
 * the new ones, and every root is the one a full read gives.
 */
static void
test_advance_frontier(void)
{
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_anchor known, full;
	struct rcpt_merkle_acc fr, was;
	struct rcpt_diag d;
	uint64_t size = 0;
	int i, t = 1;

	env_new(&e, 0, 0);
	c = create(&e, "fr", RCPT_SEALING_EACH, 0);
	CU_ASSERT_FATAL(rcpt_anchor_read(e.ks, "fr", &known, NULL) == RCPT_OK);
	memset(&fr, 0, sizeof(fr));
	for (i = 1; i <= 9; i++) {
		grow(c, (size_t)i, t);
		t += i;
		CU_ASSERT_EQUAL(
		    advance_fr(&e, c, "fr", &known, &fr, &size, &d), RCPT_OK);
		CU_ASSERT_EQUAL(size, (uint64_t)t);
		/* The same tree read in full, by a second process's view. */
		full = known;
		CU_ASSERT_EQUAL(
		    advance(&e, c, "fr", &full, &size, &d), RCPT_OK);
		CU_ASSERT_EQUAL(
		    memcmp(full.root, known.root, RCPT_HASH_LEN), 0);
		known = full;
	}
	CU_ASSERT_EQUAL(expect_clean(&e, "fr"), (uint64_t)t);
	/* A frontier ahead of the store: rolled back; nothing changes. */
	was = fr;
	fr.size++;
	CU_ASSERT_EQUAL(
	    advance_fr(&e, c, "fr", &known, &fr, &size, &d), RCPT_E_ANCHOR);
	CU_ASSERT(contains(&d, "but this process stored"));
	CU_ASSERT_EQUAL(fr.size, was.size + 1);
	CU_ASSERT_EQUAL(token_size(&e, "fr"), (uint64_t)t);
	rcpt_ceremony_close(c);
	env_free(&e);
}

/* Flips one bit of the leaf of @p seq with a raw LMDB write. */
static void
flip_leaf(const char *db, const char *chain, uint64_t seq)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val k, v, nv;
	uint8_t key[80], leaf[RCPT_HASH_LEN];
	size_t n = strlen(chain), i;

	memcpy(key, chain, n);
	key[n] = 0;
	for (i = 0; i < 8; i++)
		key[n + 1 + i] = (uint8_t)(seq >> (56 - 8 * i));
	k.mv_data = key;
	k.mv_size = n + 9;
	CU_ASSERT_FATAL(mdb_env_create(&env) == 0);
	CU_ASSERT_FATAL(mdb_env_set_maxdbs(env, 16) == 0);
	CU_ASSERT_FATAL(mdb_env_open(env, db, 0, 0600) == 0);
	CU_ASSERT_FATAL(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	CU_ASSERT_FATAL(mdb_dbi_open(txn, "leaves", 0, &dbi) == 0);
	CU_ASSERT_FATAL(mdb_get(txn, dbi, &k, &v) == 0);
	CU_ASSERT_FATAL(v.mv_size == RCPT_HASH_LEN);
	memcpy(leaf, v.mv_data, RCPT_HASH_LEN);
	leaf[0] ^= 1;
	nv.mv_data = leaf;
	nv.mv_size = RCPT_HASH_LEN;
	CU_ASSERT_FATAL(mdb_put(txn, dbi, &k, &nv, 0) == 0);
	CU_ASSERT_FATAL(mdb_txn_commit(txn) == 0);
	mdb_env_close(env);
}

static void
test_advance_refuses_rolled_or_edited_store(void)
{
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_anchor known;
	struct rcpt_diag d;
	char mdb[4200], saved[4200];
	uint64_t size = 0;

	env_new(&e, 0, 0);
	c = create(&e, "rb", RCPT_SEALING_EACH, 0);
	CU_ASSERT_FATAL(rcpt_anchor_read(e.ks, "rb", &known, NULL) == RCPT_OK);
	grow(c, 2, 1);
	rcpt_ceremony_close(c);
	store_close(&e);
	(void)snprintf(mdb, sizeof(mdb), "%s/data.mdb", e.db);
	(void)snprintf(saved, sizeof(saved), "%s/saved.mdb", e.dir);
	CU_ASSERT_FATAL(rcpt_test_copy_file(mdb, saved, 0600) == 0);
	store_open(&e, 0, 0);
	c = reopen(&e, "rb");
	grow(c, 3, 3);
	CU_ASSERT_EQUAL(advance(&e, c, "rb", &known, &size, &d), RCPT_OK);
	CU_ASSERT_EQUAL(size, 6);
	rcpt_ceremony_close(c);

	/* The older copy, restored: the token's anchor is ahead of it. */
	store_close(&e);
	CU_ASSERT_FATAL(rcpt_test_copy_file(saved, mdb, 0600) == 0);
	store_open(&e, 0, 0);
	c = reopen(&e, "rb");
	CU_ASSERT_EQUAL(advance(&e, c, "rb", &known, &size, &d), RCPT_E_ANCHOR);
	CU_ASSERT(contains(&d, "store has 3 receipts"));
	CU_ASSERT(contains(&d, "anchor records 6"));
	/* Grown past the anchor again, it still does not extend it. */
	grow(c, 4, 10);
	CU_ASSERT_EQUAL(advance(&e, c, "rb", &known, &size, &d), RCPT_E_ANCHOR);
	CU_ASSERT(contains(&d, "store of size 7 does not extend the anchor of "
	                       "size 6"));
	CU_ASSERT_EQUAL(token_size(&e, "rb"), 6);
	rcpt_ceremony_close(c);
	env_free(&e);

	/* A leaf below the anchor, edited. */
	env_new(&e, 0, 0);
	c = create(&e, "ed", RCPT_SEALING_EACH, 0);
	CU_ASSERT_FATAL(rcpt_anchor_read(e.ks, "ed", &known, NULL) == RCPT_OK);
	grow(c, 3, 1);
	CU_ASSERT_EQUAL(advance(&e, c, "ed", &known, &size, &d), RCPT_OK);
	grow(c, 1, 5);
	rcpt_ceremony_close(c);
	store_close(&e);
	flip_leaf(e.db, "ed", 2);
	store_open(&e, 0, 0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_open(e.s, e.ks, "ed", NULL, &c, &d), RCPT_E_CORRUPT);
	/* The daemon's handle, as it was before the edit. */
	CU_ASSERT_PTR_NULL(c);
	{
		struct rcpt_store_key *keys = NULL;
		struct rcpt_signer sg;
		size_t n = 0, i;
		char *note = (char *)"x";

		CU_ASSERT_FATAL(rcpt_store_list_keys(
		                    e.s, "ed", &keys, &n, NULL) == RCPT_OK);
		for (i = 0; i < n; i++)
			if (keys[i].status == RCPT_KEY_ACTIVE)
				CU_ASSERT_FATAL(
				    rcpt_ks_signer(e.ks, keys[i].handle, &sg,
				        NULL) == RCPT_OK);
		free(keys);
		rcpt_diag_clear(&d);
		CU_ASSERT_EQUAL(rcpt_anchor_advance(e.s, e.ks, &sg, "ed",
		                    ORIGIN, &known, NULL, &note, &size, &d),
		    RCPT_E_ANCHOR);
		CU_ASSERT_PTR_NULL(note);
		CU_ASSERT(contains(&d, "store of size 5 does not extend the "
		                       "anchor of size 4"));
	}
	CU_ASSERT_EQUAL(token_size(&e, "ed"), 4);
	env_free(&e);
}

/* Out of memory */

/*
 * Runs a batch and then an advance with the n-th allocation failing,
 * n = 0, 1, ... until both pass: every failing run returns
 * RCPT_E_NOMEM and leaves store, handle and anchor as they were.
 */
static void
test_out_of_memory(void)
{
	struct env e;
	struct evs v = {0};
	struct rcpt_ceremony *c;
	struct rcpt_anchor known;
	struct rcpt_diag d;
	uint8_t tip[RCPT_HASH_LEN];
	char *note = NULL;
	size_t n_ok = 0;
	uint64_t size = 0;
	long n;
	int r = RCPT_E_INTERNAL;

	env_new(&e, 0, 0);
	c = create(&e, "oom", RCPT_SEALING_EACH, 0);
	CU_ASSERT_FATAL(rcpt_anchor_read(e.ks, "oom", &known, NULL) == RCPT_OK);
	rcpt_ceremony_tip(c, &size, tip);
	evs_add(&v, "order.placed", 1, "x");
	evs_add(&v, "receiptd.x", 2, NULL);
	evs_add(&v, "order.placed", 3, NULL);
	for (n = 0; n < 10000 && r != RCPT_OK; n++) {
		rcpt_mem_fail_after(n);
		r = run(c, &v, NULL, NULL, &n_ok, &d);
		rcpt_mem_fail_after(-1);
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL(r, RCPT_E_NOMEM);
		if (r != RCPT_E_NOMEM)
			fprintf(stderr, "batch at %ld: %s\n", n, d.msg);
		CU_ASSERT_EQUAL(v.it[0].result, r);
		CU_ASSERT_PTR_NULL(v.it[0].line);
		expect_tip(&e, c, "oom", size, tip);
	}
	CU_ASSERT_EQUAL(r, RCPT_OK);
	CU_ASSERT_EQUAL(n_ok, 2);
	for (n = 0, r = RCPT_E_INTERNAL; n < 10000 && r != RCPT_OK; n++) {
		rcpt_diag_clear(&d);
		rcpt_mem_fail_after(n);
		r = rcpt_anchor_advance(e.s, e.ks, rcpt_ceremony_signer(c),
		    "oom", ORIGIN, &known, NULL, &note, &size, &d);
		rcpt_mem_fail_after(-1);
		CU_ASSERT_EQUAL(note == NULL, r != RCPT_OK);
		free(note);
		note = NULL;
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL(r, RCPT_E_NOMEM);
		if (r != RCPT_E_NOMEM)
			fprintf(stderr, "advance at %ld: %s\n", n, d.msg);
		CU_ASSERT_EQUAL(known.size, 1);
		CU_ASSERT_EQUAL(token_size(&e, "oom"), 1);
	}
	CU_ASSERT_EQUAL(r, RCPT_OK);
	CU_ASSERT_EQUAL(known.size, 3);
	CU_ASSERT_EQUAL(expect_clean(&e, "oom"), 3);
	rcpt_ceremony_close(c);
	evs_clear(&v);
	env_free(&e);
}

/* PKCS#11 on SoftHSM */

static void
test_p11_two_threads(void)
{
	struct rcpt_ks_opts o = {.log = quiet};
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_anchor known;
	struct rcpt_diag d;
	char prov[4200], config[8192];
	uint64_t size = 0;

	CU_ASSERT_FATAL(tok_status == 0);
	env_new(&e, 0, 0);
	rcpt_ks_unload(e.ks);
	e.ks = NULL;
	(void)snprintf(prov, sizeof(prov), "%s/providers", e.dir);
	CU_ASSERT_FATAL(mkdir(prov, 0700) == 0);
	CU_ASSERT_FATAL(rcpt_test_plugin_copy(PKCS11_SO, prov) == 0);
	CU_ASSERT_FATAL(
	    rcpt_ks_load("pkcs11", prov, 0, &e.ks, NULL) == RCPT_OK);
	(void)snprintf(config, sizeof(config),
	    "module=%s;token=%s;pin-file=%s;sessions=2",
	    rcpt_test_softhsm_module(), tok.uri, tok.user_pin_file);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_open(e.ks, config, 1, &o, &d), RCPT_OK);
	if (d.set)
		fprintf(stderr, "open: %s\n", d.msg);

	c = create(&e, "hsm.batch", RCPT_SEALING_EACH, 0);
	CU_ASSERT_FATAL(
	    rcpt_anchor_read(e.ks, "hsm.batch", &known, NULL) == RCPT_OK);
	batch_two_threads(c, 12, 1);
	batch_two_threads(c, 5, 20);
	CU_ASSERT_EQUAL(expect_clean(&e, "hsm.batch"), 18);
	/* The anchor on the token moves with the daemon's checkpoint. */
	CU_ASSERT_EQUAL(
	    advance(&e, c, "hsm.batch", &known, &size, &d), RCPT_OK);
	CU_ASSERT_EQUAL(size, 18);
	CU_ASSERT_EQUAL(token_size(&e, "hsm.batch"), 18);
	rcpt_ceremony_close(c);
	env_free(&e);
}

/*
 * The writer's pipeline: a batch is made on top of one not yet stored;
 * batches are stored in order; one given up takes those on top with it.
 */
static void
test_pipeline(void)
{
	struct env e;
	struct evs a = {0}, b = {0}, x = {0};
	struct rcpt_ceremony_batch *ba = NULL, *bb = NULL;
	struct rcpt_ceremony *c;
	struct rcpt_diag d, why;
	uint64_t size;
	size_t n_ok = 0;
	int t = 1;

	env_new(&e, 0, 0);
	c = create(&e, "pipe", RCPT_SEALING_BATCH, 0);
	/* Made, made on top, stored in order. */
	evs_add(&a, "order.placed", t++, NULL);
	evs_add(&a, "order.placed", t++, NULL);
	evs_add(&b, "order.placed", t++, NULL);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_batch_make(c, a.it, a.n, NULL, NULL, &ba, &d),
	    RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_batch_make(c, b.it, b.n, NULL, NULL, &bb, &d),
	    RCPT_OK);
	CU_ASSERT_FATAL(ba != NULL && bb != NULL);
	rcpt_ceremony_tip(c, &size, NULL);
	CU_ASSERT_EQUAL(size, 4);
	CU_ASSERT_EQUAL(rcpt_ceremony_batch_store(ba, &d), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_ceremony_batch_store(bb, &d), RCPT_OK);
	rcpt_ceremony_batch_end(c, bb, 1, RCPT_OK, NULL);
	rcpt_ceremony_batch_end(c, ba, 1, RCPT_OK, NULL);
	CU_ASSERT_EQUAL(a.it[1].result, RCPT_OK);
	CU_ASSERT_EQUAL(b.it[0].result, RCPT_OK);
	CU_ASSERT_EQUAL(expect_clean(&e, "pipe"), 4);
	evs_clear(&a);
	evs_clear(&b);

	/* Out of order: refused, nothing stored; then in order. */
	evs_add(&a, "order.placed", t++, NULL);
	evs_add(&b, "order.placed", t++, NULL);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_batch_make(c, a.it, a.n, NULL, NULL, &ba, &d),
	    RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_batch_make(c, b.it, b.n, NULL, NULL, &bb, &d),
	    RCPT_OK);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_batch_store(bb, &d), RCPT_E_CORRUPT);
	CU_ASSERT_TRUE(contains(&d, "stored tip is not the one"));
	CU_ASSERT_EQUAL(b.it[0].result, RCPT_E_CORRUPT);
	CU_ASSERT_EQUAL(expect_clean(&e, "pipe"), 4);
	CU_ASSERT_EQUAL(rcpt_ceremony_batch_store(ba, &d), RCPT_OK);
	rcpt_ceremony_batch_end(c, bb, 0, RCPT_E_CORRUPT, &d);
	rcpt_ceremony_batch_end(c, ba, 1, RCPT_OK, NULL);
	rcpt_ceremony_tip(c, &size, NULL);
	CU_ASSERT_EQUAL(size, 5);
	CU_ASSERT_EQUAL(expect_clean(&e, "pipe"), 5);
	evs_clear(&a);
	evs_clear(&b);

	/* Given up, newest first: the handle is back where it was. */
	evs_add(&a, "order.placed", t++, NULL);
	evs_add(&b, "order.placed", t++, NULL);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_batch_make(c, a.it, a.n, NULL, NULL, &ba, &d),
	    RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_batch_make(c, b.it, b.n, NULL, NULL, &bb, &d),
	    RCPT_OK);
	rcpt_diag_clear(&why);
	(void)rcpt_diag(&why, RCPT_E_IO, "test: the disk went away");
	rcpt_ceremony_batch_end(c, bb, 0, RCPT_E_IO, &why);
	rcpt_ceremony_batch_end(c, ba, 0, RCPT_E_IO, &why);
	CU_ASSERT_EQUAL(a.it[0].result, RCPT_E_IO);
	CU_ASSERT_TRUE(contains(&a.it[0].diag, "batch: test: the disk went"));
	CU_ASSERT_EQUAL(b.it[0].result, RCPT_E_IO);
	rcpt_ceremony_tip(c, &size, NULL);
	CU_ASSERT_EQUAL(size, 5);
	evs_add(&x, "order.placed", t++, NULL);
	CU_ASSERT_EQUAL(run(c, &x, NULL, NULL, &n_ok, &d), RCPT_OK);
	CU_ASSERT_EQUAL(n_ok, 1);
	CU_ASSERT_EQUAL(expect_clean(&e, "pipe"), 6);
	/* Only refusals: nothing to store, no batch. */
	evs_clear(&x);
	evs_add(&x, "receiptd.genesis", t++, NULL);
	ba = (struct rcpt_ceremony_batch *)&x; /* must be reset */
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_batch_make(c, x.it, x.n, NULL, NULL, &ba, &d),
	    RCPT_OK);
	CU_ASSERT_PTR_NULL(ba);
	CU_ASSERT_EQUAL(x.it[0].result, RCPT_E_INVAL);
	rcpt_ceremony_tip(c, &size, NULL);
	CU_ASSERT_EQUAL(size, 6);
	rcpt_ceremony_close(c);
	evs_clear(&a);
	evs_clear(&b);
	evs_clear(&x);
	env_free(&e);
}

static CU_TestInfo batch_tests[] = {
    {"each chain: contiguous seqs in one commit", test_each_batch_one_commit},
    {"batch chain: only the last receipt is signed",
        test_batch_chain_seals_last},
    {"refused items take no seq", test_refused_items_take_no_seq},
    {"a failing signer stores nothing", test_signer_failure_stores_nothing},
    {"signing on two threads", test_two_threads_sign},
    {"full store: nothing stored; growth reruns", test_storage_full},
    {"pipeline: made on top, stored in order, given up", test_pipeline},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo prune_tests[] = {
    {"prunes old client receipts out of data.mdb", test_prune},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo advance_tests[] = {
    {"advances against the known anchor", test_advance},
    {"advances from a Merkle frontier", test_advance_frontier},
    {"refuses a rolled back or edited store",
        test_advance_refuses_rolled_or_edited_store},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo oom_tests[] = {
    {"out of memory: batch and advance", test_out_of_memory},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo p11_tests[] = {
    {"two threads sign a batch on a SoftHSM token", test_p11_two_threads},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "group commit",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = batch_tests},
    {.pName = "prune",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = prune_tests},
    {.pName = "advance",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = advance_tests},
    {.pName = "out of memory",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = oom_tests},
    {.pName = "pkcs11",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = p11_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return rcpt_test_token_main(
	    suites, 3, "receiptd-bat", &tok, &tok_status);
}
