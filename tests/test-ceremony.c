/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/ceremony and src/anchor: chains created, grown, rotated
 * and revoked in an LMDB store with keys in the software provider, each
 * exported as receipts.jsonl and checked by the real verifier, from its
 * genesis alone and pinned with the store's JWK Set; crashes injected
 * between the steps of a rotation; and the anti-rollback anchor refusing
 * a store restored from an older copy, edited, or replaced.  One suite
 * repeats the life cycle on a throw-away SoftHSM token through the
 * PKCS#11 plugin; when SoftHSM is missing the rest runs and the program
 * exits 77 (SKIP).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "anchor.h"
#include "ceremony.h"
#include "checkpoint.h"
#include "json.h"
#include "keystore/keystore.h"
#include "mem.h"
#include "receipt.h"
#include "softhsm.h"
#include "store.h"
#include "testlib.h"
#include "verify.h"

#define PKCS11_SO PROVIDERS_BUILDDIR "/provider-pkcs11.so"
#define ORIGIN    "receiptd.test/appliance"
#define ADMIN     "admin:alice"

static char *tmp;                  /* per-suite scratch directory */
static struct rcpt_test_token tok; /* the SoftHSM token, if any */
static int tok_status = -1;        /* rcpt_test_token_new() result */

/* A store and a provider in their own directories. */
struct env {
	char *dir;  /* owned: holds db/ and keys/ */
	char *db;   /* owned: the store's directory */
	char *keys; /* owned: the software provider's directory */
	struct rcpt_store *s;
	struct rcpt_ks_provider *ks;
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

/* A fresh private subdirectory of tmp; caller frees. */
static char *
subdir(const char *parent, const char *name)
{
	static unsigned seq;
	char path[4096];
	char *d;

	(void)snprintf(path, sizeof(path), "%s/%s-%u", parent, name, seq++);
	CU_ASSERT_FATAL(mkdir(path, 0700) == 0);
	d = rcpt_strdup(path);
	CU_ASSERT_FATAL(d != NULL);
	return d;
}

static void
store_open(struct env *e)
{
	struct rcpt_store_opts o = {.path = e->db};
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

static struct rcpt_ks_provider *
soft_provider(const char *keys)
{
	struct rcpt_ks_opts o = {.log = quiet};
	struct rcpt_ks_provider *p = NULL;

	CU_ASSERT_FATAL(rcpt_ks_adopt(rcpt_ks_soft_table(), "software", &p,
	                    NULL) == RCPT_OK);
	CU_ASSERT_FATAL(rcpt_ks_open(p, keys, 0, &o, NULL) == RCPT_OK);
	return p;
}

static void
env_new(struct env *e)
{
	char path[4096];

	memset(e, 0, sizeof(*e));
	e->dir = subdir(tmp, "env");
	(void)snprintf(path, sizeof(path), "%s/db", e->dir);
	e->db = rcpt_strdup(path);
	(void)snprintf(path, sizeof(path), "%s/keys", e->dir);
	e->keys = rcpt_strdup(path);
	CU_ASSERT_FATAL(e->db != NULL && e->keys != NULL);
	CU_ASSERT_FATAL(mkdir(e->keys, 0700) == 0);
	store_open(e);
	e->ks = soft_provider(e->keys);
}

static void
env_free(struct env *e)
{
	store_close(e);
	rcpt_ks_unload(e->ks);
	rcpt_test_rmdir(e->dir);
	free(e->dir);
	free(e->db);
	free(e->keys);
	memset(e, 0, sizeof(*e));
}

/* TS number @p i, one second apart. */
static const char *
ts(int i)
{
	static char buf[8][RCPT_TS_LEN + 1];
	static int next;
	char *b = buf[next++ % 8];

	(void)snprintf(
	    b, RCPT_TS_LEN + 1, "2025-03-01T10:%02d:%02d.000Z", i / 60, i % 60);
	return b;
}

static struct rcpt_ceremony *
create(struct env *e, const char *chain, enum rcpt_sealing sealing,
    const struct rcpt_ceremony_opts *o)
{
	struct rcpt_ceremony_genesis g = {
	    .chain = chain, .origin = ORIGIN, .sealing = sealing, .ts = ts(0)};
	struct rcpt_ceremony *c = NULL;
	struct rcpt_diag d;
	char *note = NULL;

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_create(e->s, e->ks, &g, o, &c, NULL, NULL, &d),
	    RCPT_OK);
	if (d.set)
		fprintf(stderr, "create: %s\n", d.msg);
	CU_ASSERT_FATAL(c != NULL);
	/* As chain-create does: the genesis is anchored at once. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_anchor_checkpoint(e->s, e->ks,
	                    rcpt_ceremony_signer(c), chain, &note, &d),
	    RCPT_OK);
	if (d.set)
		fprintf(stderr, "create: checkpoint: %s\n", d.msg);
	free(note);
	return c;
}

static void
append(struct rcpt_ceremony *c, int t)
{
	struct rcpt_chain_event ev = {
	    .type = "order.placed", .submitter = "shop", .ts = ts(t)};
	json_object *data = json_object_new_int(t);
	struct rcpt_diag d;

	ev.data = data;
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_append(c, &ev, NULL, NULL, &d), RCPT_OK);
	if (d.set)
		fprintf(stderr, "append: %s\n", d.msg);
	json_object_put(data);
}

static void
rotate(struct rcpt_ceremony *c, int t)
{
	struct rcpt_diag d;

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_rotate(
	                    c, ts(t), ADMIN, "scheduled", NULL, NULL, NULL, &d),
	    RCPT_OK);
	if (d.set)
		fprintf(stderr, "rotate: %s\n", d.msg);
}

/* receipts.jsonl of @p chain from the store; caller frees. */
static char *export(struct rcpt_store *s, const char *chain, size_t *len_out)
{
	struct rcpt_store_chain rec;
	char *out = NULL, *line, *grown;
	size_t len = 0, n;
	uint64_t seq;

	CU_ASSERT_FATAL(rcpt_store_get_chain(s, chain, &rec, NULL) == RCPT_OK);
	for (seq = 0; seq < rec.size; seq++) {
		CU_ASSERT_FATAL(rcpt_store_get_receipt(
		                    s, chain, seq, &line, &n, NULL) == RCPT_OK);
		grown = realloc(out, len + n + 2);
		CU_ASSERT_FATAL(grown != NULL);
		out = grown;
		memcpy(out + len, line, n);
		len += n;
		out[len++] = '\n';
		out[len] = '\0';
		free(line);
	}
	*len_out = len;
	return out;
}

/* Runs the verifier over @p text, pinned with @p trust when not NULL. */
static void
verify_text(const char *text, size_t len, const struct rcpt_jwks *trust,
    struct rcpt_verify_result *res)
{
	struct rcpt_verify_opts o = {.trust = trust};
	struct rcpt_verifier *v = NULL;
	const char *p = text, *nl;

	CU_ASSERT_FATAL(rcpt_verifier_new(&o, &v) == RCPT_OK);
	while (p < text + len && (nl = memchr(p, '\n', len - (p - text)))) {
		if (rcpt_verifier_feed(v, p, (size_t)(nl - p)) != RCPT_OK)
			break;
		p = nl + 1;
	}
	rcpt_verifier_finish(v, NULL, res);
	rcpt_verifier_free(v);
}

/* The store's JWK Set, parsed; caller frees with rcpt_jwks_free(). */
static struct rcpt_jwks *
store_trust(struct rcpt_store *s)
{
	struct rcpt_jwks *set = NULL;
	struct rcpt_diag d;
	char *text = NULL;
	size_t len = 0;

	rcpt_diag_clear(&d);
	CU_ASSERT_FATAL(rcpt_store_jwks(s, &text, &len, &d) == RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_jwks_parse(text, len, &set, &d), RCPT_OK);
	if (d.set)
		fprintf(stderr, "jwks: %s\n", d.msg);
	free(text);
	CU_ASSERT_FATAL(set != NULL);
	return set;
}

/* Checks @p chain CLEAN from genesis alone and pinned; returns count. */
static uint64_t
expect_clean(struct rcpt_store *s, const char *chain)
{
	struct rcpt_verify_result res;
	struct rcpt_jwks *trust = store_trust(s);
	size_t len = 0;
	char *text = export(s, chain, &len);

	verify_text(text, len, NULL, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	if (res.status != RCPT_VERIFY_CLEAN)
		fprintf(stderr, "verify: %s\n", res.reason);
	CU_ASSERT_FALSE(res.pinned);
	verify_text(text, len, trust, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	if (res.status != RCPT_VERIFY_CLEAN)
		fprintf(stderr, "verify --trust: %s\n", res.reason);
	CU_ASSERT_TRUE(res.pinned);
	rcpt_jwks_free(trust);
	free(text);
	return res.count;
}

/* Receipt @p seq of @p chain, parsed; caller clears. */
static void
get_receipt(struct rcpt_store *s, const char *chain, uint64_t seq,
    struct rcpt_receipt *out)
{
	char *line = NULL;
	size_t len = 0;

	rcpt_receipt_init(out);
	CU_ASSERT_FATAL(rcpt_store_get_receipt(
	                    s, chain, seq, &line, &len, NULL) == RCPT_OK);
	CU_ASSERT_FATAL(
	    rcpt_receipt_parse(line, len, 256, out, NULL) == RCPT_OK);
	free(line);
}

/*
 * Checks that chain record, registry and last receipt agree on the
 * active kid, and returns it in @p kid_out.
 */
static void
check_agree(
    struct rcpt_store *s, const char *chain, char kid_out[RCPT_KID_LEN + 1])
{
	struct rcpt_store_chain rec;
	struct rcpt_store_key *keys = NULL;
	struct rcpt_receipt tip;
	json_object *v;
	const char *want;
	size_t n = 0, i, active = 0;

	CU_ASSERT_FATAL(rcpt_store_get_chain(s, chain, &rec, NULL) == RCPT_OK);
	get_receipt(s, chain, rec.size - 1, &tip);
	want = tip.kid;
	if (strcmp(tip.type, RCPT_ROTATION_TYPE) == 0) {
		CU_ASSERT_FATAL(
		    json_object_object_get_ex(tip.data, "new_kid", &v));
		want = json_object_get_string(v);
	}
	CU_ASSERT_STRING_EQUAL(rec.active_kid, want);
	CU_ASSERT_FATAL(
	    rcpt_store_list_keys(s, chain, &keys, &n, NULL) == RCPT_OK);
	for (i = 0; i < n; i++)
		if (keys[i].status == RCPT_KEY_ACTIVE) {
			active++;
			CU_ASSERT_STRING_EQUAL(keys[i].kid, want);
		}
	CU_ASSERT_EQUAL(active, 1);
	(void)snprintf(kid_out, RCPT_KID_LEN + 1, "%s", want);
	free(keys);
	rcpt_receipt_clear(&tip);
}

static const struct rcpt_store_key *
find(const struct rcpt_store_key *keys, size_t n, const char *kid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(keys[i].kid, kid) == 0)
			return &keys[i];
	return NULL;
}

static size_t
provider_keys(struct rcpt_ks_provider *ks)
{
	struct rcpt_ks_key *keys = NULL;
	size_t n = 0;

	CU_ASSERT_FATAL(rcpt_ks_list(ks, &keys, &n, NULL) == RCPT_OK);
	rcpt_ks_keys_free(keys, n);
	return n;
}

/* Life cycle */

static void
test_rotated_chain_verifies(void)
{
	static const char *const witnesses[] = {"bob", "carol"};
	struct rcpt_ceremony_record rec = {.operator_name = "alice",
	    .witnesses = witnesses,
	    .n_witnesses = 2,
	    .token_serial = "0123456789abcdef"};
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_store_key *keys = NULL;
	const struct rcpt_store_key *k;
	struct rcpt_diag d;
	char k1[RCPT_KID_LEN + 1], k2[RCPT_KID_LEN + 1], k3[44];
	char *line = NULL;
	size_t n = 0, len = 0;

	env_new(&e);
	c = create(&e, "orders", RCPT_SEALING_EACH, NULL);
	(void)snprintf(k1, sizeof(k1), "%s", rcpt_ceremony_active_kid(c));
	append(c, 1);
	append(c, 2);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_rotate(
	                    c, ts(3), ADMIN, "annual", &rec, &line, &len, &d),
	    RCPT_OK);
	CU_ASSERT_FATAL(line != NULL);
	CU_ASSERT_EQUAL(strlen(line), len);
	CU_ASSERT_PTR_NOT_NULL(strstr(line,
	    "\"ceremony\":{\"operator\":\"alice\",\"token_serial\":"
	    "\"0123456789abcdef\",\"witnesses\":[\"bob\",\"carol\"]}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"submitter\":\"" ADMIN "\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, RCPT_ROTATION_TYPE));
	free(line);
	(void)snprintf(k2, sizeof(k2), "%s", rcpt_ceremony_active_kid(c));
	CU_ASSERT_STRING_NOT_EQUAL(k1, k2);
	append(c, 4);
	rotate(c, 5);
	(void)snprintf(k3, sizeof(k3), "%s", rcpt_ceremony_active_kid(c));
	append(c, 6);
	CU_ASSERT_EQUAL(rcpt_ceremony_size(c), 7);
	CU_ASSERT_EQUAL(expect_clean(e.s, "orders"), 7);

	/* The registry tells the history. */
	CU_ASSERT_FATAL(
	    rcpt_store_list_keys(e.s, "orders", &keys, &n, NULL) == RCPT_OK);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_FATAL((k = find(keys, n, k1)) != NULL);
	CU_ASSERT_EQUAL(k->status, RCPT_KEY_RETIRED);
	CU_ASSERT_STRING_EQUAL(k->created, ts(0));
	CU_ASSERT_STRING_EQUAL(k->retired, ts(3));
	CU_ASSERT_STRING_EQUAL(k->provider, "software");
	CU_ASSERT_FATAL((k = find(keys, n, k2)) != NULL);
	CU_ASSERT_EQUAL(k->status, RCPT_KEY_RETIRED);
	CU_ASSERT_STRING_EQUAL(k->created, ts(3));
	CU_ASSERT_STRING_EQUAL(k->retired, ts(5));
	CU_ASSERT_FATAL((k = find(keys, n, k3)) != NULL);
	CU_ASSERT_EQUAL(k->status, RCPT_KEY_ACTIVE);
	CU_ASSERT_STRING_EQUAL(k->retired, "");
	free(keys);
	rcpt_ceremony_close(c);
	env_free(&e);
}

static void
test_reopen_resumes(void)
{
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_diag d;
	char kid[RCPT_KID_LEN + 1];

	env_new(&e);
	c = create(&e, "resume.me", RCPT_SEALING_EACH, NULL);
	append(c, 1);
	rotate(c, 2);
	(void)snprintf(kid, sizeof(kid), "%s", rcpt_ceremony_active_kid(c));
	rcpt_ceremony_close(c);
	store_close(&e);
	store_open(&e);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_ceremony_open(e.s, e.ks, "resume.me", NULL, &c, &d), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(rcpt_ceremony_chain(c), "resume.me");
	CU_ASSERT_STRING_EQUAL(rcpt_ceremony_active_kid(c), kid);
	CU_ASSERT_EQUAL(rcpt_ceremony_size(c), 3);
	/* An earlier clock reuses the last ts (SPEC 1). */
	append(c, 1);
	append(c, 4);
	rotate(c, 5);
	CU_ASSERT_EQUAL(expect_clean(e.s, "resume.me"), 6);
	rcpt_ceremony_close(c);

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_open(e.s, e.ks, "absent", NULL, &c, &d),
	    RCPT_E_NOT_FOUND);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT(contains(&d, "chain absent: no such chain"));
	env_free(&e);
}

static void
test_batch_chain_seals_each_commit(void)
{
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_receipt r;

	env_new(&e);
	c = create(&e, "batched", RCPT_SEALING_BATCH, NULL);
	append(c, 1);
	append(c, 2);
	rotate(c, 3);
	append(c, 4);
	get_receipt(e.s, "batched", 1, &r);
	CU_ASSERT_TRUE(r.has_signature);
	rcpt_receipt_clear(&r);
	CU_ASSERT_EQUAL(expect_clean(e.s, "batched"), 5);
	rcpt_ceremony_close(c);
	env_free(&e);
}

static void
test_create_refusals(void)
{
	struct rcpt_ceremony_genesis g = {
	    .chain = "dup", .origin = ORIGIN, .ts = ts(0)};
	struct env e;
	struct rcpt_ceremony *c, *c2 = NULL;
	struct rcpt_store_key key;
	struct rcpt_diag d;
	char *handle = NULL;
	size_t before;

	env_new(&e);
	c = create(&e, "dup", RCPT_SEALING_EACH, NULL);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_create(e.s, e.ks, &g, NULL, &c2, NULL, NULL, &d),
	    RCPT_E_EXISTS);
	CU_ASSERT(contains(&d, "chain dup: exists already"));
	CU_ASSERT_PTR_NULL(c2);

	/* A key serves one chain (SPEC 3). */
	CU_ASSERT_FATAL(rcpt_store_get_key(e.s, rcpt_ceremony_active_kid(c),
	                    &key, NULL) == RCPT_OK);
	g.chain = "other";
	g.handle = key.handle;
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_create(e.s, e.ks, &g, NULL, &c2, NULL, NULL, &d),
	    RCPT_E_EXISTS);
	CU_ASSERT(contains(&d, "serves a chain already"));

	/* Bad input is refused before any key is made. */
	before = provider_keys(e.ks);
	g.handle = NULL;
	g.chain = "Bad";
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_create(e.s, e.ks, &g, NULL, &c2, NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "chain: must match"));
	g.chain = "good";
	g.origin = "bad origin";
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_create(e.s, e.ks, &g, NULL, &c2, NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "origin: "));
	g.origin = ORIGIN;
	g.ts = "2025-03-01 10:00:00";
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_create(e.s, e.ks, &g, NULL, &c2, NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "ts: must be a TS"));
	CU_ASSERT_EQUAL(provider_keys(e.ks), before);

	/* The given key is used when it is free. */
	CU_ASSERT_FATAL(rcpt_ks_generate(e.ks, "spare", &handle, key.pub,
	                    key.kid, NULL) == RCPT_OK);
	g.handle = handle;
	g.ts = ts(1);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_create(e.s, e.ks, &g, NULL, &c2, NULL, NULL, &d),
	    RCPT_OK);
	CU_ASSERT_FATAL(c2 != NULL);
	CU_ASSERT_STRING_EQUAL(rcpt_ceremony_active_kid(c2), key.kid);
	CU_ASSERT_EQUAL(expect_clean(e.s, "good"), 1);
	free(handle);
	rcpt_ceremony_close(c2);
	rcpt_ceremony_close(c);
	env_free(&e);
}

static void
test_ceremony_record_rules(void)
{
	const char *many[RCPT_CEREMONY_WITNESSES_MAX + 1];
	static const char *const bad[] = {"bob", "car\x01ol"};
	struct rcpt_ceremony_record rec = {.witnesses = bad, .n_witnesses = 2};
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_diag d;
	size_t before, i;

	env_new(&e);
	c = create(&e, "rules", RCPT_SEALING_EACH, NULL);
	before = provider_keys(e.ks);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_rotate(c, ts(1), ADMIN, "why", &rec, NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "ceremony.witnesses[1]: control characters"));
	for (i = 0; i < RCPT_CEREMONY_WITNESSES_MAX + 1; i++)
		many[i] = "w";
	rec.witnesses = many;
	rec.n_witnesses = RCPT_CEREMONY_WITNESSES_MAX + 1;
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_rotate(c, ts(1), ADMIN, "why", &rec, NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "ceremony.witnesses: at most 16"));
	rec.n_witnesses = 0;
	rec.operator_name = "";
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_rotate(c, ts(1), ADMIN, "why", &rec, NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "ceremony.operator: must be 1 to 128"));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_rotate(c, ts(1), ADMIN, "", NULL, NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "reason: "));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_rotate(
	                    c, "yesterday", ADMIN, "why", NULL, NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "ts: must be a TS"));
	/* No orphan for bad input, and the chain is untouched. */
	CU_ASSERT_EQUAL(provider_keys(e.ks), before);
	CU_ASSERT_EQUAL(rcpt_ceremony_size(c), 1);
	rotate(c, 2);
	CU_ASSERT_EQUAL(expect_clean(e.s, "rules"), 2);
	rcpt_ceremony_close(c);
	env_free(&e);
}

static void
test_rotation_needs_a_new_millisecond(void)
{
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_diag d;
	size_t before;

	env_new(&e);
	c = create(&e, "fast", RCPT_SEALING_EACH, NULL);
	rotate(c, 3);
	before = provider_keys(e.ks);
	/* The same millisecond, or a clock that reads earlier. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_rotate(
	                    c, ts(3), ADMIN, "again", NULL, NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "ts: the active key was introduced"));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_rotate(
	                    c, ts(2), ADMIN, "again", NULL, NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT_EQUAL(provider_keys(e.ks), before);
	rotate(c, 4);
	CU_ASSERT_EQUAL(expect_clean(e.s, "fast"), 3);
	rcpt_ceremony_close(c);
	env_free(&e);
}

/* Revocation */

static void
test_revoke_refusals(void)
{
	struct env e;
	struct rcpt_ceremony *c, *o;
	struct rcpt_diag d;
	char k1[RCPT_KID_LEN + 1], k2[RCPT_KID_LEN + 1];
	char other[RCPT_KID_LEN + 1];
	char *line = NULL;

	env_new(&e);
	c = create(&e, "revx", RCPT_SEALING_EACH, NULL);
	(void)snprintf(k1, sizeof(k1), "%s", rcpt_ceremony_active_kid(c));
	rotate(c, 1);
	(void)snprintf(k2, sizeof(k2), "%s", rcpt_ceremony_active_kid(c));
	o = create(&e, "other", RCPT_SEALING_EACH, NULL);
	(void)snprintf(other, sizeof(other), "%s", rcpt_ceremony_active_kid(o));
	rotate(o, 1);

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_revoke(
	                    c, ts(2), ADMIN, k2, "lost", ts(2), NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "kid: must be a key this chain rotated away "
	                       "from, not its active key"));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_revoke(c, ts(2), ADMIN,
	                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	                    "lost", ts(2), NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "kid: must be a key this chain rotated away"));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_revoke(c, ts(2), ADMIN, other, "lost",
	                    ts(2), NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "kid: must be a key this chain rotated away"));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_revoke(c, ts(2), ADMIN, k1, "lost",
	                    "soon", NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "effective: must be a TS"));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_revoke(
	                    c, ts(2), ADMIN, k1, "", ts(2), NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "reason: "));
	CU_ASSERT_EQUAL(rcpt_ceremony_size(c), 2);

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_revoke(c, ts(3), ADMIN, k1, "lost", ts(3),
	                    &line, NULL, &d),
	    RCPT_OK);
	CU_ASSERT_FATAL(line != NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(line, RCPT_REVOCATION_TYPE));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"submitter\":\"" ADMIN "\""));
	free(line);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_revoke(c, ts(4), ADMIN, k1, "again",
	                    ts(1), NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "kid: revoked already"));
	append(c, 5);
	CU_ASSERT_EQUAL(expect_clean(e.s, "revx"), 4);
	rcpt_ceremony_close(o);
	rcpt_ceremony_close(c);
	env_free(&e);
}

static void
test_revocation_breaks_later_receipts(void)
{
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_verify_result res;
	struct rcpt_jwks *trust;
	char k1[RCPT_KID_LEN + 1], *text;
	size_t len = 0;

	env_new(&e);
	c = create(&e, "leak", RCPT_SEALING_EACH, NULL);
	(void)snprintf(k1, sizeof(k1), "%s", rcpt_ceremony_active_kid(c));
	append(c, 1);
	append(c, 2);
	rotate(c, 3);
	/* The key leaked at ts(2): seq 2 carries it at its effective time. */
	CU_ASSERT_EQUAL(rcpt_ceremony_revoke(c, ts(4), ADMIN, k1, "leaked",
	                    ts(2), NULL, NULL, NULL),
	    RCPT_OK);
	text = export(e.s, "leak", &len);
	verify_text(text, len, NULL, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_BROKEN);
	CU_ASSERT_TRUE(res.has_seq);
	CU_ASSERT_EQUAL(res.seq, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.reason, "revocation took effect"));
	trust = store_trust(e.s);
	verify_text(text, len, trust, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_BROKEN);
	CU_ASSERT_EQUAL(res.seq, 2);
	rcpt_jwks_free(trust);
	free(text);
	rcpt_ceremony_close(c);
	env_free(&e);
}

/*
 * A fork that goes on with the revoked key after the rotation point:
 * receipts 0..1 of the real chain plus one made with chain.h on a copy
 * of the state at seq 1, signed by the revoked key at @p t.
 */
static char *
forged(struct env *e, const char *k1, int t, size_t *len_out)
{
	struct rcpt_chain copy;
	struct rcpt_chain_event ev = {
	    .type = "order.placed", .submitter = "mallory", .ts = ts(t)};
	struct rcpt_receipt r1, out;
	struct rcpt_store_key key;
	struct rcpt_signer s1;
	char *text, *line = NULL, *all;
	size_t len = 0, n = 0;
	char *nl;

	get_receipt(e->s, "fork", 1, &r1);
	CU_ASSERT_FATAL(rcpt_store_get_key(e->s, k1, &key, NULL) == RCPT_OK);
	CU_ASSERT_FATAL(
	    rcpt_ks_signer(e->ks, key.handle, &s1, NULL) == RCPT_OK);
	rcpt_chain_init(&copy);
	CU_ASSERT_FATAL(
	    rcpt_chain_resume(&copy, "fork", ORIGIN, RCPT_SEALING_EACH, 2,
	        r1.entry_hash, r1.ts, k1, NULL, 0, NULL) == RCPT_OK);
	rcpt_receipt_init(&out);
	CU_ASSERT_FATAL(
	    rcpt_chain_append(&copy, &ev, &s1, &out, NULL) == RCPT_OK);
	CU_ASSERT_FATAL(rcpt_receipt_serialize(&out, &line, &n) == RCPT_OK);
	text = export(e->s, "fork", &len);
	/* Keep the first two lines. */
	nl = strchr(strchr(text, '\n') + 1, '\n');
	len = (size_t)(nl + 1 - text);
	all = rcpt_malloc(len + n + 2);
	CU_ASSERT_FATAL(all != NULL);
	memcpy(all, text, len);
	memcpy(all + len, line, n);
	all[len + n] = '\n';
	all[len + n + 1] = '\0';
	*len_out = len + n + 1;
	free(line);
	free(text);
	rcpt_receipt_clear(&out);
	rcpt_receipt_clear(&r1);
	rcpt_chain_clear(&copy);
	return all;
}

static void
test_revoked_kid_after_effective_fails(void)
{
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_verify_result res;
	struct rcpt_jwks *trust;
	const struct rcpt_jwks_key *jk;
	char k1[RCPT_KID_LEN + 1], *text;
	size_t len = 0;

	env_new(&e);
	c = create(&e, "fork", RCPT_SEALING_EACH, NULL);
	(void)snprintf(k1, sizeof(k1), "%s", rcpt_ceremony_active_kid(c));
	append(c, 1);
	rotate(c, 2);
	CU_ASSERT_EQUAL(rcpt_ceremony_revoke(c, ts(3), ADMIN, k1, "stolen",
	                    ts(4), NULL, NULL, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(expect_clean(e.s, "fork"), 4);
	trust = store_trust(e.s);
	CU_ASSERT_FATAL((jk = rcpt_jwks_find(trust, k1)) != NULL);
	CU_ASSERT_EQUAL(jk->status, RCPT_KEY_REVOKED);
	CU_ASSERT_STRING_EQUAL(jk->revoked, ts(4));

	/* After the effective time, the stolen key's receipt fails. */
	text = forged(&e, k1, 5, &len);
	verify_text(text, len, trust, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_BROKEN);
	CU_ASSERT_TRUE(res.has_seq);
	CU_ASSERT_EQUAL(res.seq, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.reason, "is revoked from"));
	free(text);

	/* The same receipt before its rotation's time is not refused. */
	text = forged(&e, k1, 1, &len);
	verify_text(text, len, trust, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	free(text);
	rcpt_jwks_free(trust);
	rcpt_ceremony_close(c);
	env_free(&e);
}

static void
test_jwks_export(void)
{
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_jwks *set;
	const struct rcpt_jwks_key *k;
	char kid[3][RCPT_KID_LEN + 1], *text = NULL;
	size_t len = 0;

	env_new(&e);
	c = create(&e, "jw", RCPT_SEALING_EACH, NULL);
	(void)snprintf(
	    kid[0], sizeof(kid[0]), "%s", rcpt_ceremony_active_kid(c));
	rotate(c, 1);
	(void)snprintf(
	    kid[1], sizeof(kid[1]), "%s", rcpt_ceremony_active_kid(c));
	rotate(c, 2);
	(void)snprintf(
	    kid[2], sizeof(kid[2]), "%s", rcpt_ceremony_active_kid(c));
	CU_ASSERT_EQUAL(rcpt_ceremony_revoke(c, ts(3), ADMIN, kid[0], "old",
	                    ts(3), NULL, NULL, NULL),
	    RCPT_OK);
	CU_ASSERT_FATAL(rcpt_store_jwks(e.s, &text, &len, NULL) == RCPT_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"alg\":\"EdDSA\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"use\":\"sig\""));
	CU_ASSERT_FATAL(rcpt_jwks_parse(text, len, &set, NULL) == RCPT_OK);
	CU_ASSERT_EQUAL(set->n, 3);
	CU_ASSERT_FATAL((k = rcpt_jwks_find(set, kid[0])) != NULL);
	CU_ASSERT_EQUAL(k->status, RCPT_KEY_REVOKED);
	CU_ASSERT_STRING_EQUAL(k->chain, "jw");
	CU_ASSERT_STRING_EQUAL(k->created, ts(0));
	CU_ASSERT_STRING_EQUAL(k->retired, ts(1));
	CU_ASSERT_STRING_EQUAL(k->revoked, ts(3));
	CU_ASSERT_FATAL((k = rcpt_jwks_find(set, kid[1])) != NULL);
	CU_ASSERT_EQUAL(k->status, RCPT_KEY_RETIRED);
	CU_ASSERT_STRING_EQUAL(k->created, ts(1));
	CU_ASSERT_STRING_EQUAL(k->retired, ts(2));
	CU_ASSERT_STRING_EQUAL(k->revoked, "");
	CU_ASSERT_FATAL((k = rcpt_jwks_find(set, kid[2])) != NULL);
	CU_ASSERT_EQUAL(k->status, RCPT_KEY_ACTIVE);
	CU_ASSERT_STRING_EQUAL(k->created, ts(2));
	CU_ASSERT_STRING_EQUAL(k->retired, "");
	rcpt_jwks_free(set);
	free(text);
	CU_ASSERT_EQUAL(expect_clean(e.s, "jw"), 4);
	rcpt_ceremony_close(c);
	env_free(&e);
}

/* Crashes during a rotation */

struct crash {
	int at;    /* step at which to stop */
	int calls; /* hook calls seen */
};

static int
crash_at(void *ctx, int step)
{
	struct crash *cr = ctx;

	cr->calls++;
	return step == cr->at;
}

static void
crash_rotation(int step)
{
	struct crash cr = {.at = step};
	struct rcpt_ceremony_opts o = {.fail_at = crash_at, .fail_ctx = &cr};
	struct rcpt_store_key *keys = NULL;
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_diag d;
	char old[RCPT_KID_LEN + 1], now[RCPT_KID_LEN + 1];
	size_t n = 0;

	env_new(&e);
	c = create(&e, "crash", RCPT_SEALING_EACH, &o);
	(void)snprintf(old, sizeof(old), "%s", rcpt_ceremony_active_kid(c));
	append(c, 1);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_rotate(c, ts(2), ADMIN, "crash test",
	                    NULL, NULL, NULL, &d),
	    RCPT_E_INTERNAL);
	CU_ASSERT(contains(&d, "stopped by the test hook"));
	CU_ASSERT_EQUAL(cr.calls, step);
	/* The stopped handle is dead, as the process would be. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_rotate(
	                    c, ts(3), ADMIN, "again", NULL, NULL, NULL, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "reopen the chain"));
	rcpt_ceremony_close(c);

	/* Restart: a new store handle, the chain reopened. */
	store_close(&e);
	store_open(&e);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_ceremony_open(e.s, e.ks, "crash", NULL, &c, &d), RCPT_OK);
	check_agree(e.s, "crash", now);
	CU_ASSERT_STRING_EQUAL(rcpt_ceremony_active_kid(c), now);
	if (step < RCPT_CEREMONY_COMMITTED) {
		/* Old key active; the new one an orphan in the provider. */
		CU_ASSERT_STRING_EQUAL(now, old);
		CU_ASSERT_EQUAL(rcpt_ceremony_size(c), 2);
		CU_ASSERT_FATAL(rcpt_store_list_keys(
		                    e.s, NULL, &keys, &n, NULL) == RCPT_OK);
		CU_ASSERT_EQUAL(provider_keys(e.ks), n + 1);
		free(keys);
	} else {
		CU_ASSERT_STRING_NOT_EQUAL(now, old);
		CU_ASSERT_EQUAL(rcpt_ceremony_size(c), 3);
	}
	CU_ASSERT_EQUAL(expect_clean(e.s, "crash"), rcpt_ceremony_size(c));

	/* A second rotation then succeeds. */
	rotate(c, 4);
	append(c, 5);
	check_agree(e.s, "crash", now);
	CU_ASSERT_STRING_EQUAL(rcpt_ceremony_active_kid(c), now);
	CU_ASSERT_STRING_NOT_EQUAL(now, old);
	CU_ASSERT_EQUAL(expect_clean(e.s, "crash"), rcpt_ceremony_size(c));
	rcpt_ceremony_close(c);
	env_free(&e);
}

static void
test_crash_after_generate(void)
{
	crash_rotation(RCPT_CEREMONY_GENERATED);
}

static void
test_crash_after_sign(void)
{
	crash_rotation(RCPT_CEREMONY_SIGNED);
}

static void
test_crash_before_commit(void)
{
	crash_rotation(RCPT_CEREMONY_WRITTEN);
}

static void
test_crash_after_commit(void)
{
	crash_rotation(RCPT_CEREMONY_COMMITTED);
}

/* Recovery at open */

static void
put_state(struct rcpt_store *s, const struct rcpt_store_chain *rec,
    const struct rcpt_store_key *k1, const struct rcpt_store_key *k2)
{
	struct rcpt_store_txn *t = NULL;

	CU_ASSERT_FATAL(rcpt_store_txn_begin(s, &t, NULL) == RCPT_OK);
	CU_ASSERT_FATAL(rcpt_store_put_chain(t, rec, NULL) == RCPT_OK);
	if (k1 != NULL)
		CU_ASSERT_FATAL(rcpt_store_put_key(t, k1, NULL) == RCPT_OK);
	if (k2 != NULL)
		CU_ASSERT_FATAL(rcpt_store_put_key(t, k2, NULL) == RCPT_OK);
	CU_ASSERT_FATAL(rcpt_store_txn_commit(t, NULL) == RCPT_OK);
}

static void
test_open_rolls_rotation_forward(void)
{
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_store_chain rec;
	struct rcpt_store_key k1, k2;
	struct rcpt_diag d;
	char old[RCPT_KID_LEN + 1], now[RCPT_KID_LEN + 1];

	env_new(&e);
	c = create(&e, "roll", RCPT_SEALING_EACH, NULL);
	(void)snprintf(old, sizeof(old), "%s", rcpt_ceremony_active_kid(c));
	append(c, 1);
	rotate(c, 2);
	(void)snprintf(now, sizeof(now), "%s", rcpt_ceremony_active_kid(c));
	rcpt_ceremony_close(c);
	/* An older writer committed the receipt but not the switch. */
	CU_ASSERT_FATAL(rcpt_store_get_chain(e.s, "roll", &rec, NULL) == 0);
	CU_ASSERT_FATAL(rcpt_store_get_key(e.s, old, &k1, NULL) == 0);
	CU_ASSERT_FATAL(rcpt_store_get_key(e.s, now, &k2, NULL) == 0);
	memcpy(rec.active_kid, old, sizeof(old));
	k1.status = RCPT_KEY_ACTIVE;
	k1.retired[0] = '\0';
	k2.status = RCPT_KEY_RETIRED;
	memcpy(k2.retired, ts(2), sizeof(k2.retired));
	put_state(e.s, &rec, &k1, &k2);

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_ceremony_open(e.s, e.ks, "roll", NULL, &c, &d), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(rcpt_ceremony_active_kid(c), now);
	check_agree(e.s, "roll", now);
	CU_ASSERT_FATAL(rcpt_store_get_key(e.s, old, &k1, NULL) == 0);
	CU_ASSERT_EQUAL(k1.status, RCPT_KEY_RETIRED);
	CU_ASSERT_STRING_EQUAL(k1.retired, ts(2));
	append(c, 3);
	CU_ASSERT_EQUAL(expect_clean(e.s, "roll"), 4);
	rcpt_ceremony_close(c);
	env_free(&e);
}

static void
test_open_refuses_disagreement(void)
{
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_store_chain rec, bad;
	struct rcpt_store_key k;
	struct rcpt_receipt r0;
	struct rcpt_diag d;
	char kid[RCPT_KID_LEN + 1];

	env_new(&e);
	c = create(&e, "odd", RCPT_SEALING_EACH, NULL);
	append(c, 1);
	(void)snprintf(kid, sizeof(kid), "%s", rcpt_ceremony_active_kid(c));
	rcpt_ceremony_close(c);
	CU_ASSERT_FATAL(rcpt_store_get_chain(e.s, "odd", &rec, NULL) == 0);

	/* A tip hash that is not the last receipt's. */
	bad = rec;
	bad.tip_hash[0] ^= 1;
	put_state(e.s, &bad, NULL, NULL);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_open(e.s, e.ks, "odd", NULL, &c, &d), RCPT_E_CORRUPT);
	CU_ASSERT(contains(&d, "record: tip_hash and tip_ts"));

	/* A record shorter than the receipts stored. */
	get_receipt(e.s, "odd", 0, &r0);
	bad = rec;
	bad.size = 1;
	memcpy(bad.tip_hash, r0.entry_hash, RCPT_HASH_LEN);
	memcpy(bad.tip_ts, r0.ts, sizeof(bad.tip_ts));
	rcpt_receipt_clear(&r0);
	put_state(e.s, &bad, NULL, NULL);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_open(e.s, e.ks, "odd", NULL, &c, &d), RCPT_E_CORRUPT);
	CU_ASSERT(contains(&d, "one follows the recorded tip"));

	/* A registry that lost the active key's status. */
	put_state(e.s, &rec, NULL, NULL);
	CU_ASSERT_FATAL(rcpt_store_get_key(e.s, kid, &k, NULL) == 0);
	k.status = RCPT_KEY_RETIRED;
	memcpy(k.retired, ts(1), sizeof(k.retired));
	put_state(e.s, &rec, &k, NULL);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_open(e.s, e.ks, "odd", NULL, &c, &d), RCPT_E_CORRUPT);
	CU_ASSERT(contains(&d, "must name one active key"));

	/* The key in another provider. */
	k.status = RCPT_KEY_ACTIVE;
	k.retired[0] = '\0';
	(void)snprintf(k.provider, sizeof(k.provider), "pkcs11");
	put_state(e.s, &rec, &k, NULL);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_open(e.s, e.ks, "odd", NULL, &c, &d), RCPT_E_CONFIG);
	CU_ASSERT(contains(&d, "lives in provider \"pkcs11\""));
	CU_ASSERT_PTR_NULL(c);
	env_free(&e);
}

/* Anchor */

static void
test_anchor_format(void)
{
	static const char long_chain[] =
	    "a123456789b123456789c123456789d123456789e123456789f12345678";
	struct rcpt_anchor a, b;
	struct rcpt_diag d;
	uint8_t buf[RCPT_ANCHOR_LEN_MAX];
	char name[RCPT_ANCHOR_NAME_MAX + 1];
	size_t len = 0;

	CU_ASSERT_EQUAL(rcpt_anchor_name("orders.eu", name), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(name, "receiptd-anchor.orders.eu");
	CU_ASSERT_EQUAL(rcpt_anchor_name(long_chain, name), RCPT_OK);
	CU_ASSERT_EQUAL(strlen(name), RCPT_ANCHOR_NAME_MAX);
	CU_ASSERT_EQUAL(strncmp(name, "receiptd-anchor:", 16), 0);
	CU_ASSERT_EQUAL(rcpt_anchor_name("Orders", name), RCPT_E_INVAL);

	memset(&a, 0, sizeof(a));
	(void)snprintf(a.chain, sizeof(a.chain), "orders");
	a.size = 0x0102030405060708ULL;
	memset(a.root, 0xab, sizeof(a.root));
	CU_ASSERT_EQUAL(
	    rcpt_anchor_encode(&a, buf, sizeof(buf), &len), RCPT_OK);
	CU_ASSERT_EQUAL(len, 49 + 6);
	CU_ASSERT_EQUAL(memcmp(buf, "RCPTANC\x01\x06orders", 15), 0);
	CU_ASSERT_EQUAL(buf[15], 0x01);
	CU_ASSERT_EQUAL(buf[22], 0x08);
	CU_ASSERT_EQUAL(rcpt_anchor_decode(buf, len, &b, NULL), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(b.chain, "orders");
	CU_ASSERT_EQUAL(b.size, a.size);
	CU_ASSERT_EQUAL(memcmp(b.root, a.root, RCPT_HASH_LEN), 0);
	CU_ASSERT_EQUAL(rcpt_anchor_encode(&a, buf, 10, &len), RCPT_E_INVAL);

	/* Each refusal names its field. */
	CU_ASSERT_EQUAL(
	    rcpt_anchor_encode(&a, buf, sizeof(buf), &len), RCPT_OK);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_anchor_decode(buf, len - 1, &b, &d), RCPT_E_CORRUPT);
	CU_ASSERT(contains(&d, "anchor: length"));
	buf[7] = 2;
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_anchor_decode(buf, len, &b, &d), RCPT_E_CORRUPT);
	CU_ASSERT(contains(&d, "anchor: version"));
	buf[7] = 1;
	buf[0] = 'X';
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_anchor_decode(buf, len, &b, &d), RCPT_E_CORRUPT);
	CU_ASSERT(contains(&d, "not a receiptd anchor"));
	buf[0] = 'R';
	buf[9] = 'O';
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_anchor_decode(buf, len, &b, &d), RCPT_E_CORRUPT);
	CU_ASSERT(contains(&d, "anchor: chain"));
	buf[9] = 'o';
	memset(buf + 15, 0, 8);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_anchor_decode(buf, len, &b, &d), RCPT_E_CORRUPT);
	CU_ASSERT(contains(&d, "anchor: size"));
	a.size = 0;
	CU_ASSERT_EQUAL(
	    rcpt_anchor_encode(&a, buf, sizeof(buf), &len), RCPT_E_INVAL);
}

static char *
checkpoint(struct env *e, struct rcpt_ceremony *c, const char *chain)
{
	struct rcpt_diag d;
	char *note = NULL;

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_anchor_checkpoint(e->s, e->ks,
	                    rcpt_ceremony_signer(c), chain, &note, &d),
	    RCPT_OK);
	if (d.set)
		fprintf(stderr, "checkpoint: %s\n", d.msg);
	CU_ASSERT_FATAL(note != NULL);
	return note;
}

static void
test_anchor_checkpoints(void)
{
	struct rcpt_anchor_state st;
	struct rcpt_checkpoint cp;
	struct rcpt_anchor a;
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_diag d;
	char *note, *stored = NULL;
	uint64_t size = 0;

	env_new(&e);
	c = create(&e, "cp", RCPT_SEALING_EACH, NULL);
	append(c, 1);
	/* create() anchored the genesis, as chain-create does. */
	CU_ASSERT_EQUAL(rcpt_anchor_read(e.ks, "cp", &a, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(a.size, 1);
	CU_ASSERT_EQUAL(rcpt_anchor_check(e.s, e.ks, "cp", &st, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(st.fresh, 0);
	CU_ASSERT_EQUAL(st.anchor_size, 1);
	CU_ASSERT_EQUAL(st.store_size, 2);
	CU_ASSERT_STRING_EQUAL(st.origin, ORIGIN);
	CU_ASSERT_STRING_EQUAL(st.active_kid, rcpt_ceremony_active_kid(c));
	CU_ASSERT_EQUAL(memcmp(st.active_pub, rcpt_ceremony_signer(c)->pub,
	                    RCPT_ED25519_PUB_LEN),
	    0);

	note = checkpoint(&e, c, "cp");
	memset(&cp, 0, sizeof(cp));
	CU_ASSERT_FATAL(
	    rcpt_checkpoint_parse(note, strlen(note), &cp, NULL) == RCPT_OK);
	CU_ASSERT_EQUAL(cp.size, 2);
	CU_ASSERT_STRING_EQUAL(cp.origin, ORIGIN);
	CU_ASSERT_EQUAL(
	    rcpt_checkpoint_verify(&cp, rcpt_ceremony_signer(c)->pub), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_anchor_read(e.ks, "cp", &a, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(a.size, 2);
	CU_ASSERT_EQUAL(memcmp(a.root, cp.root, RCPT_HASH_LEN), 0);
	CU_ASSERT_EQUAL(
	    rcpt_store_latest_checkpoint(e.s, "cp", &stored, &size, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(size, 2);
	CU_ASSERT_STRING_EQUAL(stored, note);
	rcpt_checkpoint_clear(&cp);
	free(stored);
	free(note);

	/* The store grows past the anchor, which then follows it. */
	append(c, 2);
	rotate(c, 3);
	CU_ASSERT_EQUAL(rcpt_anchor_check(e.s, e.ks, "cp", &st, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(st.fresh, 0);
	CU_ASSERT_EQUAL(st.anchor_size, 2);
	CU_ASSERT_EQUAL(st.store_size, 4);
	note = checkpoint(&e, c, "cp");
	CU_ASSERT_EQUAL(rcpt_anchor_read(e.ks, "cp", &a, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(a.size, 4);
	free(note);
	/* Same size again: allowed, and consistent. */
	note = checkpoint(&e, c, "cp");
	free(note);

	/* Only the active key signs checkpoints. */
	{
		struct rcpt_store_key k;
		struct rcpt_store_key *keys = NULL;
		struct rcpt_signer old;
		size_t n = 0, i;

		CU_ASSERT_FATAL(rcpt_store_list_keys(
		                    e.s, "cp", &keys, &n, NULL) == RCPT_OK);
		for (i = 0; i < n; i++)
			if (keys[i].status == RCPT_KEY_RETIRED)
				k = keys[i];
		free(keys);
		CU_ASSERT_FATAL(
		    rcpt_ks_signer(e.ks, k.handle, &old, NULL) == RCPT_OK);
		note = NULL;
		rcpt_diag_clear(&d);
		CU_ASSERT_EQUAL(
		    rcpt_anchor_checkpoint(e.s, e.ks, &old, "cp", &note, &d),
		    RCPT_E_INVAL);
		CU_ASSERT(contains(&d, "signer: "));
		CU_ASSERT_PTR_NULL(note);
	}
	rcpt_ceremony_close(c);
	env_free(&e);
}

/* Copies file @p from to @p to. */
static void
copy(const char *from, const char *to)
{
	CU_ASSERT_FATAL(rcpt_test_copy_file(from, to, 0600) == 0);
}

static void
expect_refused_by(struct env *e, const struct rcpt_signer *sg,
    const char *chain, const char *words1, const char *words2)
{
	struct rcpt_diag d;
	char *note = (char *)"x";

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_anchor_check(e->s, e->ks, chain, NULL, &d), RCPT_E_ANCHOR);
	if (!contains(&d, words1) || !contains(&d, words2))
		fprintf(stderr, "anchor: %s\n", d.msg);
	CU_ASSERT(contains(&d, words1));
	CU_ASSERT(contains(&d, words2));
	if (sg == NULL)
		return;
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_anchor_checkpoint(e->s, e->ks, sg, chain, &note, &d),
	    RCPT_E_ANCHOR);
	CU_ASSERT_PTR_NULL(note);
	CU_ASSERT(contains(&d, words1));
	CU_ASSERT(contains(&d, words2));
}

static void
expect_refused(struct env *e, struct rcpt_ceremony *c, const char *chain,
    const char *words1, const char *words2)
{
	expect_refused_by(e, c == NULL ? NULL : rcpt_ceremony_signer(c), chain,
	    words1, words2);
}

/* The anchor's size in the token. */
static uint64_t
anchor_size(struct env *e, const char *chain)
{
	struct rcpt_anchor a;

	CU_ASSERT_FATAL(rcpt_anchor_read(e->ks, chain, &a, NULL) == RCPT_OK);
	return a.size;
}

/* A signer for the registry's active key of @p chain, from the token. */
static void
active_signer(struct env *e, const char *chain, struct rcpt_signer *out)
{
	struct rcpt_store_key *keys = NULL;
	size_t n = 0, i;
	int found = 0;

	CU_ASSERT_FATAL(
	    rcpt_store_list_keys(e->s, chain, &keys, &n, NULL) == RCPT_OK);
	for (i = 0; i < n; i++)
		if (keys[i].status == RCPT_KEY_ACTIVE) {
			CU_ASSERT_FATAL(rcpt_ks_signer(e->ks, keys[i].handle,
			                    out, NULL) == RCPT_OK);
			found = 1;
		}
	free(keys);
	CU_ASSERT_FATAL(found);
}

static void
test_anchor_refuses_restored_copy(void)
{
	struct env e;
	struct rcpt_ceremony *c;
	char mdb[4096], saved[4096];
	char *note;

	env_new(&e);
	c = create(&e, "rb", RCPT_SEALING_EACH, NULL);
	append(c, 1);
	append(c, 2);
	append(c, 3);
	note = checkpoint(&e, c, "rb");
	free(note);
	rcpt_ceremony_close(c);
	/* The copy, taken while the store is closed. */
	store_close(&e);
	(void)snprintf(mdb, sizeof(mdb), "%s/data.mdb", e.db);
	(void)snprintf(saved, sizeof(saved), "%s/saved.mdb", e.dir);
	copy(mdb, saved);
	store_open(&e);
	CU_ASSERT_FATAL(
	    rcpt_ceremony_open(e.s, e.ks, "rb", NULL, &c, NULL) == RCPT_OK);
	append(c, 4);
	append(c, 5);
	append(c, 6);
	note = checkpoint(&e, c, "rb");
	free(note);
	rcpt_ceremony_close(c);
	store_close(&e);
	/* Restore the older copy over the store. */
	copy(saved, mdb);
	store_open(&e);
	CU_ASSERT_FATAL(
	    rcpt_ceremony_open(e.s, e.ks, "rb", NULL, &c, NULL) == RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_ceremony_size(c), 4);
	expect_refused(&e, c, "rb", "store has 4 receipts",
	    "the token's anchor records 7");
	/* Extending the old copy past the anchor does not help. */
	append(c, 7);
	append(c, 8);
	append(c, 9);
	append(c, 10);
	expect_refused(&e, c, "rb", "store of size 8",
	    "does not extend the anchor of size 7");
	rcpt_ceremony_close(c);
	env_free(&e);
}

/*
 * Edits record @p seq of @p chain in database @p dbname with a raw LMDB
 * write, as someone with the store's file would: a leaf gets one bit
 * flipped, a receipt its submitter "shop" turned into "shoq".
 */
static void
raw_edit(const char *db, const char *dbname, const char *chain, uint64_t seq)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val k, v, nv;
	uint8_t key[80], leaf[RCPT_HASH_LEN];
	char line[4096], *p;
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
	CU_ASSERT_FATAL(mdb_dbi_open(txn, dbname, 0, &dbi) == 0);
	CU_ASSERT_FATAL(mdb_get(txn, dbi, &k, &v) == 0);
	if (strcmp(dbname, "leaves") == 0) {
		CU_ASSERT_FATAL(v.mv_size == RCPT_HASH_LEN);
		memcpy(leaf, v.mv_data, RCPT_HASH_LEN);
		leaf[0] ^= 1;
		nv.mv_data = leaf;
		nv.mv_size = RCPT_HASH_LEN;
	} else {
		CU_ASSERT_FATAL(v.mv_size < sizeof(line));
		memcpy(line, v.mv_data, v.mv_size);
		line[v.mv_size] = '\0';
		CU_ASSERT_FATAL((p = strstr(line, "\"shop\"")) != NULL);
		p[4] = 'q';
		nv.mv_data = line;
		nv.mv_size = v.mv_size;
	}
	CU_ASSERT_FATAL(mdb_put(txn, dbi, &k, &nv, 0) == 0);
	CU_ASSERT_FATAL(mdb_txn_commit(txn) == 0);
	mdb_env_close(env);
}

static void
test_anchor_refuses_edited_store(void)
{
	struct rcpt_signer sg;
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_diag d;
	char *note;

	env_new(&e);
	c = create(&e, "ed", RCPT_SEALING_EACH, NULL);
	append(c, 1);
	append(c, 2);
	note = checkpoint(&e, c, "ed");
	free(note);
	append(c, 3);
	rcpt_ceremony_close(c);
	store_close(&e);
	raw_edit(e.db, "leaves", "ed", 1);
	store_open(&e);
	active_signer(&e, "ed", &sg);
	expect_refused_by(&e, &sg, "ed", "store of size 4",
	    "does not extend the anchor of size 3");
	/* Opening verifies every receipt against its leaf too. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_open(e.s, e.ks, "ed", NULL, &c, &d), RCPT_E_CORRUPT);
	CU_ASSERT(contains(&d, "leaves: do not match"));
	CU_ASSERT_PTR_NULL(c);
	env_free(&e);
}

/*
 * Edits after the anchor, which the consistency proof alone does not
 * cover: a forged leaf, or a receipt edited under its leaf.  The anchor
 * stays where it was.
 */
static void
edited_after_anchor(const char *dbname, const char *chain, const char *words)
{
	struct rcpt_signer sg;
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_diag d;

	env_new(&e);
	c = create(&e, chain, RCPT_SEALING_EACH, NULL); /* anchor size 1 */
	append(c, 1);
	append(c, 2);
	append(c, 3);
	rcpt_ceremony_close(c);
	store_close(&e);
	raw_edit(e.db, dbname, chain, 2);
	store_open(&e);
	active_signer(&e, chain, &sg);
	expect_refused_by(&e, &sg, chain, words, "");
	CU_ASSERT_EQUAL(anchor_size(&e, chain), 1);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_open(e.s, e.ks, chain, NULL, &c, &d), RCPT_E_CORRUPT);
	CU_ASSERT(contains(&d, words));
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_EQUAL(anchor_size(&e, chain), 1);
	env_free(&e);
}

static void
test_anchor_refuses_leaf_after_anchor(void)
{
	edited_after_anchor(
	    "leaves", "lf", "chain lf: leaves: do not match the verified");
}

static void
test_anchor_refuses_receipt_after_anchor(void)
{
	edited_after_anchor("receipts", "rc",
	    "chain rc: store receipt at seq 2 fails verification: ");
}

/*
 * A store writer makes another key of the token this chain's active one:
 * record and registry agree, the receipts do not.
 */
static void
test_anchor_refuses_foreign_key(void)
{
	struct rcpt_store_chain rec;
	struct rcpt_store_key mine, other;
	struct rcpt_signer sg;
	struct env e;
	struct rcpt_ceremony *c, *o, *held;
	struct rcpt_diag d;
	char *note = (char *)"x";

	env_new(&e);
	c = create(&e, "fk", RCPT_SEALING_EACH, NULL);
	o = create(&e, "fk.other", RCPT_SEALING_EACH, NULL);
	append(c, 1);
	sg = *rcpt_ceremony_signer(o);
	CU_ASSERT_FATAL(rcpt_store_get_chain(e.s, "fk", &rec, NULL) == 0);
	CU_ASSERT_FATAL(rcpt_store_get_key(e.s, rcpt_ceremony_active_kid(c),
	                    &mine, NULL) == 0);
	CU_ASSERT_FATAL(rcpt_store_get_key(e.s, rcpt_ceremony_active_kid(o),
	                    &other, NULL) == 0);
	CU_ASSERT_FATAL(
	    rcpt_ceremony_open(e.s, e.ks, "fk", NULL, &held, NULL) == RCPT_OK);
	rcpt_ceremony_close(c);
	mine.status = RCPT_KEY_RETIRED;
	memcpy(mine.retired, ts(1), sizeof(mine.retired));
	memcpy(other.chain, "fk", sizeof("fk"));
	memcpy(rec.active_kid, other.kid, sizeof(rec.active_kid));
	put_state(e.s, &rec, &mine, &other);

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_open(e.s, e.ks, "fk", NULL, &c, &d), RCPT_E_CORRUPT);
	CU_ASSERT(contains(&d, "must name one active key"));
	CU_ASSERT_PTR_NULL(c);
	expect_refused(&e, NULL, "fk", "chain fk: record: active_kid", "");
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_anchor_checkpoint(e.s, e.ks, &sg, "fk", &note, &d),
	    RCPT_E_ANCHOR);
	CU_ASSERT_PTR_NULL(note);
	CU_ASSERT(contains(&d, "record: active_kid"));
	/* A handle opened before does not rotate on the registry's word. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_rotate(held, ts(2), ADMIN, "scheduled",
	                    NULL, NULL, NULL, &d),
	    RCPT_E_CORRUPT);
	CU_ASSERT(contains(&d, "keys: the registry must list"));
	CU_ASSERT_EQUAL(anchor_size(&e, "fk"), 1);

	/* Same kid with the record left alone: the signer is refused. */
	memcpy(rec.active_kid, mine.kid, sizeof(rec.active_kid));
	mine.status = RCPT_KEY_ACTIVE;
	mine.retired[0] = '\0';
	memcpy(other.chain, "fk.other", sizeof("fk.other"));
	put_state(e.s, &rec, &mine, &other);
	memcpy(sg.kid, mine.kid, sizeof(sg.kid));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_anchor_checkpoint(e.s, e.ks, &sg, "fk", &note, &d),
	    RCPT_E_ANCHOR);
	CU_ASSERT_PTR_NULL(note);
	CU_ASSERT(contains(&d, "signer: its public key is not the one"));
	CU_ASSERT_EQUAL(anchor_size(&e, "fk"), 1);
	rcpt_ceremony_close(held);
	rcpt_ceremony_close(o);
	env_free(&e);
}

/* A store chain the token never anchored is not one it vouches for. */
static void
test_anchor_refuses_missing_anchor(void)
{
	struct rcpt_ks_provider *mine;
	struct rcpt_anchor_state st;
	struct env e, other;
	struct rcpt_ceremony *c;
	struct rcpt_diag d;
	char *note = (char *)"x";

	env_new(&e);
	env_new(&other);
	c = create(&e, "na", RCPT_SEALING_EACH, NULL);
	append(c, 1);
	append(c, 2);
	/* Held against a token without this chain's anchor. */
	mine = e.ks;
	e.ks = other.ks;
	expect_refused(&e, NULL, "na", "chain na has 3 receipts",
	    "the token holds no anchor for it");
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_anchor_checkpoint(e.s, e.ks,
	                    rcpt_ceremony_signer(c), "na", &note, &d),
	    RCPT_E_ANCHOR);
	CU_ASSERT(contains(&d, "chain na has 3 receipts but the token holds "
	                       "no anchor for it"));
	CU_ASSERT_PTR_NULL(note);
	e.ks = mine;
	rcpt_ceremony_close(c);

	/*
	 * A genesis alone: chain-create stopped before its first anchor.
	 * Checking refuses it; its checkpoint by the genesis key is made.
	 */
	{
		struct rcpt_ceremony_genesis g = {
		    .chain = "solo", .origin = ORIGIN, .ts = ts(0)};

		CU_ASSERT_FATAL(rcpt_ceremony_create(e.s, e.ks, &g, NULL, &c,
		                    NULL, NULL, NULL) == RCPT_OK);
	}
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_anchor_check(e.s, e.ks, "solo", &st, &d), RCPT_E_ANCHOR);
	CU_ASSERT(contains(&d, "chain solo has 1 receipts but the token "
	                       "holds no anchor for it"));
	note = NULL;
	CU_ASSERT_EQUAL(rcpt_anchor_checkpoint(e.s, e.ks,
	                    rcpt_ceremony_signer(c), "solo", &note, NULL),
	    RCPT_OK);
	free(note);
	CU_ASSERT_EQUAL(anchor_size(&e, "solo"), 1);
	CU_ASSERT_EQUAL(
	    rcpt_anchor_check(e.s, e.ks, "solo", &st, NULL), RCPT_OK);
	rcpt_ceremony_close(c);
	env_free(&other);
	env_free(&e);
}

/* The origin checkpoints carry is the verified genesis origin. */
static void
test_anchor_refuses_changed_origin(void)
{
	struct rcpt_store_chain rec, bad;
	struct rcpt_anchor_state st;
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_diag d;

	env_new(&e);
	c = create(&e, "og", RCPT_SEALING_EACH, NULL);
	append(c, 1);
	CU_ASSERT_FATAL(rcpt_store_get_chain(e.s, "og", &rec, NULL) == 0);
	bad = rec;
	(void)snprintf(bad.origin, sizeof(bad.origin), "evil.example/log");
	put_state(e.s, &bad, NULL, NULL);
	expect_refused(&e, c, "og", "chain og: record: origin",
	    "genesis receipt's data.origin");
	CU_ASSERT_EQUAL(anchor_size(&e, "og"), 1);
	rcpt_ceremony_close(c);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_open(e.s, e.ks, "og", NULL, &c, &d), RCPT_E_CORRUPT);
	CU_ASSERT(contains(&d, "record: origin"));
	CU_ASSERT_PTR_NULL(c);
	/* Put back, it is accepted and names the genesis origin. */
	put_state(e.s, &rec, NULL, NULL);
	CU_ASSERT_EQUAL(rcpt_anchor_check(e.s, e.ks, "og", &st, NULL), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(st.origin, ORIGIN);
	env_free(&e);
}

static void
test_anchor_refuses_replaced_store(void)
{
	struct env a, b;
	struct rcpt_ceremony *ca, *cb;
	struct rcpt_ceremony_genesis g = {
	    .chain = "same", .origin = ORIGIN, .ts = ts(0)};
	struct rcpt_diag d;
	char *note;

	env_new(&a);
	env_new(&b);
	ca = create(&a, "same", RCPT_SEALING_EACH, NULL);
	append(ca, 1);
	note = checkpoint(&a, ca, "same");
	free(note);
	/* Another store of the same size, held against a's token. */
	cb = create(&b, "same", RCPT_SEALING_EACH, NULL);
	append(cb, 1);
	store_close(&a);
	a.s = b.s;
	expect_refused(&a, NULL, "same", "store of size 2",
	    "does not extend the anchor of size 2");
	a.s = NULL;
	rcpt_ceremony_close(cb);
	rcpt_ceremony_close(ca);

	/* A wiped store cannot restart a chain the token anchors. */
	rcpt_test_rmdir(a.db);
	store_open(&a);
	expect_refused(
	    &a, NULL, "same", "store has 0 receipts", "anchor records 2");
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ceremony_create(a.s, a.ks, &g, NULL, &ca, NULL, NULL, &d),
	    RCPT_E_ANCHOR);
	CU_ASSERT(contains(&d, "anchor records 2"));
	CU_ASSERT_PTR_NULL(ca);
	env_free(&b);
	env_free(&a);
}

/* PKCS#11 on SoftHSM */

static struct rcpt_ks_provider *
pkcs11_provider(const char *dir)
{
	struct rcpt_ks_opts o = {.log = quiet};
	struct rcpt_ks_provider *p = NULL;
	struct rcpt_diag d;
	char *prov = subdir(dir, "providers");
	char config[8192];

	/* Loaded by bare name from a private copy (see testlib.h). */
	CU_ASSERT_FATAL(rcpt_test_plugin_copy(PKCS11_SO, prov) == 0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_load("pkcs11", prov, 0, &p, &d), RCPT_OK);
	if (d.set)
		fprintf(stderr, "load: %s\n", d.msg);
	CU_ASSERT_FATAL(p != NULL);
	(void)snprintf(config, sizeof(config),
	    "module=%s;token=%s;pin-file=%s;sessions=2",
	    rcpt_test_softhsm_module(), tok.uri, tok.user_pin_file);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_open(p, config, 1, &o, &d), RCPT_OK);
	if (d.set)
		fprintf(stderr, "open: %s\n", d.msg);
	free(prov);
	return p;
}

static void
test_p11_life_cycle(void)
{
	static const char *const witnesses[] = {"bob"};
	struct rcpt_ceremony_record rec = {.operator_name = "alice",
	    .witnesses = witnesses,
	    .n_witnesses = 1,
	    .token_serial = "softhsm"};
	struct crash cr = {.at = RCPT_CEREMONY_SIGNED};
	struct rcpt_ceremony_opts crash_opts = {
	    .fail_at = crash_at, .fail_ctx = &cr};
	struct rcpt_anchor a;
	struct rcpt_store_key k;
	struct env e;
	struct rcpt_ceremony *c;
	struct rcpt_diag d;
	char k1[RCPT_KID_LEN + 1], now[RCPT_KID_LEN + 1];
	char *note, mdb[4096], saved[4096];

	CU_ASSERT_FATAL(tok_status == 0);
	env_new(&e);
	rcpt_ks_unload(e.ks);
	e.ks = pkcs11_provider(e.dir);

	c = create(&e, "hsm.chain", RCPT_SEALING_EACH, NULL);
	(void)snprintf(k1, sizeof(k1), "%s", rcpt_ceremony_active_kid(c));
	CU_ASSERT_FATAL(rcpt_store_get_key(e.s, k1, &k, NULL) == RCPT_OK);
	CU_ASSERT_STRING_EQUAL(k.provider, "pkcs11");
	CU_ASSERT_EQUAL(strncmp(k.handle, "pkcs11:", 7), 0);
	append(c, 1);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ceremony_rotate(
	                    c, ts(2), ADMIN, "annual", &rec, NULL, NULL, &d),
	    RCPT_OK);
	append(c, 3);
	CU_ASSERT_EQUAL(rcpt_ceremony_revoke(c, ts(4), ADMIN, k1, "retired",
	                    ts(4), NULL, NULL, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(expect_clean(e.s, "hsm.chain"), 5);

	/* The anchor lives in a CKO_DATA object on the token. */
	note = checkpoint(&e, c, "hsm.chain");
	free(note);
	CU_ASSERT_EQUAL(rcpt_anchor_read(e.ks, "hsm.chain", &a, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(a.size, 5);
	rcpt_ceremony_close(c);

	/* A crash mid-rotation, then a restart. */
	CU_ASSERT_FATAL(rcpt_ceremony_open(e.s, e.ks, "hsm.chain", &crash_opts,
	                    &c, NULL) == RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_ceremony_rotate(
	                    c, ts(5), ADMIN, "crash", NULL, NULL, NULL, NULL),
	    RCPT_E_INTERNAL);
	rcpt_ceremony_close(c);
	store_close(&e);
	(void)snprintf(mdb, sizeof(mdb), "%s/data.mdb", e.db);
	(void)snprintf(saved, sizeof(saved), "%s/saved.mdb", e.dir);
	copy(mdb, saved);
	store_open(&e);
	CU_ASSERT_FATAL(rcpt_ceremony_open(
	                    e.s, e.ks, "hsm.chain", NULL, &c, NULL) == RCPT_OK);
	check_agree(e.s, "hsm.chain", now);
	CU_ASSERT_STRING_EQUAL(rcpt_ceremony_active_kid(c), now);
	rotate(c, 6);
	append(c, 7);
	CU_ASSERT_EQUAL(expect_clean(e.s, "hsm.chain"), 7);
	note = checkpoint(&e, c, "hsm.chain");
	free(note);
	rcpt_ceremony_close(c);

	/* Rolling the store back is refused against the token's anchor. */
	store_close(&e);
	copy(saved, mdb);
	store_open(&e);
	expect_refused(&e, NULL, "hsm.chain", "store has 5 receipts",
	    "the token's anchor records 7");
	env_free(&e);
}

static CU_TestInfo life_tests[] = {
    {"rotated chain verifies from genesis and pinned",
        test_rotated_chain_verifies},
    {"reopened chain resumes at its tip", test_reopen_resumes},
    {"batch chain seals every commit", test_batch_chain_seals_each_commit},
    {"create refuses existing chain, shared key, bad input",
        test_create_refusals},
    {"ceremony record rules, no orphan for bad input",
        test_ceremony_record_rules},
    {"jwk set lists active, retired and revoked keys", test_jwks_export},
    {"rotation waits for a new millisecond",
        test_rotation_needs_a_new_millisecond},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo revoke_tests[] = {
    {"refuses active, unknown, foreign, revoked kids", test_revoke_refusals},
    {"revocation breaks receipts from effective time",
        test_revocation_breaks_later_receipts},
    {"revoked kid after effective time fails with --trust",
        test_revoked_kid_after_effective_fails},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo crash_tests[] = {
    {"crash after generating the key", test_crash_after_generate},
    {"crash after signing the rotation", test_crash_after_sign},
    {"crash before the commit", test_crash_before_commit},
    {"crash after the commit", test_crash_after_commit},
    {"open rolls a committed rotation forward",
        test_open_rolls_rotation_forward},
    {"open refuses record, tip and registry disagreeing",
        test_open_refuses_disagreement},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo anchor_tests[] = {
    {"record format and object names", test_anchor_format},
    {"checkpoints move the anchor", test_anchor_checkpoints},
    {"refuses a store restored from a copy", test_anchor_refuses_restored_copy},
    {"refuses an edited leaf", test_anchor_refuses_edited_store},
    {"refuses a leaf forged after the anchor",
        test_anchor_refuses_leaf_after_anchor},
    {"refuses a receipt edited after the anchor",
        test_anchor_refuses_receipt_after_anchor},
    {"refuses a foreign key in record and registry",
        test_anchor_refuses_foreign_key},
    {"refuses a stored chain without anchor",
        test_anchor_refuses_missing_anchor},
    {"refuses an origin changed in the record",
        test_anchor_refuses_changed_origin},
    {"refuses a replaced or wiped store", test_anchor_refuses_replaced_store},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo p11_tests[] = {
    {"life cycle on a SoftHSM token", test_p11_life_cycle},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "life cycle",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = life_tests},
    {.pName = "revocation",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = revoke_tests},
    {.pName = "crash",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = crash_tests},
    {.pName = "anchor",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = anchor_tests},
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
	    suites, 4, "receiptd-cer", &tok, &tok_status);
}
