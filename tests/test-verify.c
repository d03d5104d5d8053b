/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verifier (SPEC 8): the tamper matrix, each case BROKEN at the
 * exact seq with the right reason and the same answer on one thread and
 * on two; key rotation, revocation and --trust; batch sealing; pruned
 * receipts; checkpoints; and the exact one-line output.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/sha.h>

#include "chain.h"
#include "checkpoint.h"
#include "encode.h"
#include "json.h"
#include "jwk.h"
#include "mem.h"
#include "merkle.h"
#include "receipt.h"
#include "softkey.h"
#include "testlib.h"
#include "verify.h"

#define MAX_LINES 64

struct lines {
	char *l[MAX_LINES];
	size_t n;
};

static struct rcpt_softkey *keys[3];
static struct rcpt_signer signers[3];

static int
setup(void)
{
	uint8_t seed[RCPT_ED25519_SEED_LEN];
	int i, j;

	for (i = 0; i < 3; i++) {
		for (j = 0; j < RCPT_ED25519_SEED_LEN; j++)
			seed[j] = (uint8_t)(i * 32 + j + 1);
		if (rcpt_softkey_from_seed(seed, &keys[i]) != RCPT_OK)
			return 1;
		rcpt_softkey_signer(keys[i], &signers[i]);
	}
	return 0;
}

static int
teardown(void)
{
	int i;

	for (i = 0; i < 3; i++)
		rcpt_softkey_close(keys[i]);
	return 0;
}

static void
lines_free(struct lines *L)
{
	size_t i;

	for (i = 0; i < L->n; i++)
		free(L->l[i]);
	L->n = 0;
}

static void
keep(struct lines *L, const struct rcpt_receipt *r)
{
	char *s = NULL;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_serialize(r, &s, &n), RCPT_OK);
	CU_ASSERT_FATAL(L->n < MAX_LINES);
	L->l[L->n++] = s;
}

static void
ts_at(int i, char out[RCPT_TS_LEN + 1])
{
	memcpy(out, "2025-01-01T00:00:00.000Z", RCPT_TS_LEN + 1);
	out[14] = (char)('0' + i / 600 % 6);
	out[15] = (char)('0' + i / 60 % 10);
	out[17] = (char)('0' + i % 60 / 10);
	out[18] = (char)('0' + i % 10);
}

static void
genesis(
    struct rcpt_chain *c, struct lines *L, enum rcpt_sealing sealing, int key)
{
	struct rcpt_receipt r;
	struct rcpt_diag d = {0};
	char ts[RCPT_TS_LEN + 1];

	rcpt_chain_init(c);
	rcpt_receipt_init(&r);
	ts_at(0, ts);
	CU_ASSERT_EQUAL_FATAL(rcpt_chain_genesis(c, "orders", "log.example.org",
	                          sealing, ts, &signers[key], &r, &d),
	    RCPT_OK);
	keep(L, &r);
	rcpt_receipt_clear(&r);
}

/* Appends event number @p i (ts i seconds after genesis). */
static void
event(struct rcpt_chain *c, struct lines *L, int key, int i, bool seal)
{
	struct rcpt_chain_event ev;
	struct rcpt_receipt r;
	struct rcpt_diag d = {0};
	char ts[RCPT_TS_LEN + 1], text[128];
	json_object *data = NULL, *tags = NULL;

	snprintf(text, sizeof(text),
	    "{\"i\":%d,\"amount\":12.5,\"who\":\"user-%d\"}", i, i);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_json_parse(text, strlen(text), 64, "data", &data, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_json_parse("[\"eu\"]", 6, 64, "tags", &tags, NULL), RCPT_OK);
	ts_at(i, ts);
	memset(&ev, 0, sizeof(ev));
	ev.type = "order.created";
	ev.tags = tags;
	ev.submitter = "alice";
	ev.data = data;
	ev.ts = ts;
	ev.seal = seal;
	rcpt_receipt_init(&r);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_chain_append(c, &ev, &signers[key], &r, &d), RCPT_OK);
	keep(L, &r);
	rcpt_receipt_clear(&r);
	json_object_put(data);
	json_object_put(tags);
}

static void
rotate(struct rcpt_chain *c, struct lines *L, int from, int to, int i)
{
	struct rcpt_receipt r;
	struct rcpt_diag d = {0};
	char ts[RCPT_TS_LEN + 1];

	ts_at(i, ts);
	rcpt_receipt_init(&r);
	CU_ASSERT_EQUAL_FATAL(rcpt_chain_rotate(c, ts, "admin", "scheduled",
	                          NULL, &signers[from], &signers[to], &r, &d),
	    RCPT_OK);
	keep(L, &r);
	rcpt_receipt_clear(&r);
}

static void
revoke(struct rcpt_chain *c, struct lines *L, int signer, int victim, int i,
    const char *effective)
{
	struct rcpt_receipt r;
	struct rcpt_diag d = {0};
	char ts[RCPT_TS_LEN + 1];

	ts_at(i, ts);
	rcpt_receipt_init(&r);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_chain_revoke(c, ts, "admin", signers[victim].kid,
	        "compromised", effective, &signers[signer], &r, &d),
	    RCPT_OK);
	keep(L, &r);
	rcpt_receipt_clear(&r);
}

/* Genesis and events 1..@p n, sealing each, key 0. */
static void
plain_chain(struct lines *L, int n)
{
	struct rcpt_chain c;
	int i;

	genesis(&c, L, RCPT_SEALING_EACH, 0);
	for (i = 1; i <= n; i++)
		event(&c, L, 0, i, true);
	rcpt_chain_clear(&c);
}

/* Joins lines [from, to) with "\n" after each (none after the last if
 * @p no_final_nl). */
static char *
join(const struct lines *L, size_t from, size_t to, bool no_final_nl)
{
	struct rcpt_buf b = {0};
	size_t i;

	for (i = from; i < to; i++) {
		CU_ASSERT_EQUAL_FATAL(
		    rcpt_buf_append(&b, L->l[i], strlen(L->l[i])), RCPT_OK);
		if (!(no_final_nl && i + 1 == to))
			CU_ASSERT_EQUAL_FATAL(
			    rcpt_buf_append(&b, "\n", 1), RCPT_OK);
	}
	CU_ASSERT_EQUAL_FATAL(rcpt_buf_append(&b, "", 0), RCPT_OK);
	return b.p;
}

struct run {
	const struct rcpt_jwks *trust;
	uint64_t first_seq;
	const struct rcpt_checkpoint *cp;
	size_t from, to;
	bool no_final_nl;
};

static void
run_text(const char *text, const struct run *rn, int threads,
    struct rcpt_verify_result *res)
{
	struct rcpt_verify_opts o;
	FILE *f;
	size_t len = strlen(text);

	memset(&o, 0, sizeof(o));
	o.trust = rn->trust;
	o.threads = threads;
	o.first_seq = rn->first_seq;
	f = len > 0 ? fmemopen((void *)text, len, "r")
	            : fopen("/dev/null", "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	rcpt_verify_stream(f, &o, rn->cp, res);
	fclose(f);
}

/* Runs on 1 and on 2 threads, checks both agree; @p res gets the first. */
static void
run(const struct lines *L, const struct run *rn, struct rcpt_verify_result *res)
{
	struct rcpt_verify_result r2;
	size_t to = rn->to == 0 ? L->n : rn->to;
	char *text = join(L, rn->from, to, rn->no_final_nl);

	run_text(text, rn, 1, res);
	run_text(text, rn, 2, &r2);
	CU_ASSERT_EQUAL(res->status, r2.status);
	CU_ASSERT_EQUAL(res->has_seq, r2.has_seq);
	CU_ASSERT_EQUAL(res->seq, r2.seq);
	CU_ASSERT_STRING_EQUAL(res->reason, r2.reason);
	if (res->status == RCPT_VERIFY_CLEAN)
		CU_ASSERT_EQUAL(res->count, r2.count);
	free(text);
}

static void
expect_broken(
    const struct lines *L, const struct run *rn, long seq, const char *why)
{
	static const struct run dflt;
	struct rcpt_verify_result res;

	run(L, rn != NULL ? rn : &dflt, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_BROKEN);
	CU_ASSERT_EQUAL(res.has_seq, seq >= 0);
	if (seq >= 0)
		CU_ASSERT_EQUAL(res.seq, (uint64_t)seq);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.reason, why));
	if (res.status != RCPT_VERIFY_BROKEN ||
	    strstr(res.reason, why) == NULL ||
	    (seq >= 0 && res.seq != (uint64_t)seq))
		fprintf(stderr,
		    "\n  got status %d seq %llu: %s (want %ld: %s)\n",
		    res.status, (unsigned long long)res.seq, res.reason, seq,
		    why);
}

static void
expect_clean(const struct lines *L, const struct run *rn, const char *line)
{
	static const struct run dflt;
	struct rcpt_verify_result res;
	char buf[256];

	run(L, rn != NULL ? rn : &dflt, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	rcpt_verify_format(&res, buf, sizeof(buf));
	if (line != NULL)
		CU_ASSERT_STRING_EQUAL(buf, line);
	if (res.status != RCPT_VERIFY_CLEAN)
		fprintf(stderr, "\n  not clean: seq %llu: %s\n",
		    (unsigned long long)res.seq, res.reason);
}

/* Replaces the first @p from in line @p i by @p to. */
static void
tamper(struct lines *L, size_t i, const char *from, const char *to)
{
	char *p = strstr(L->l[i], from), *n;
	size_t fl = strlen(from), tl = strlen(to), ll = strlen(L->l[i]);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	n = malloc(ll - fl + tl + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	memcpy(n, L->l[i], (size_t)(p - L->l[i]));
	memcpy(n + (p - L->l[i]), to, tl);
	strcpy(n + (p - L->l[i]) + tl, p + fl);
	free(L->l[i]);
	L->l[i] = n;
}

/* Removes the signature member of line @p i. */
static void
unsign(struct lines *L, size_t i)
{
	char *p = strstr(L->l[i], ",\"signature\":\"");

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memmove(p, p + 14 + 128 + 1, strlen(p + 14 + 128 + 1) + 1);
}

/* Prunes line @p i: data removed, pruned_at added. */
static void
prune(struct lines *L, size_t i)
{
	char *p = strstr(L->l[i], "\"data\":"),
	     *q = strstr(L->l[i], ",\"data_hash\":");
	char *n;

	CU_ASSERT_FATAL(p != NULL && q != NULL);
	memmove(p, q + 1, strlen(q + 1) + 1);
	n = strstr(L->l[i], ",\"seq\":");
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	{
		static const char pa[] =
		    ",\"pruned_at\":\"2025-06-01T00:00:00.000Z\"";
		char *m = malloc(strlen(L->l[i]) + sizeof(pa));

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		memcpy(m, L->l[i], (size_t)(n - L->l[i]));
		strcpy(m + (n - L->l[i]), pa);
		strcat(m, n);
		free(L->l[i]);
		L->l[i] = m;
	}
}

/* Writes the hex of @p n bytes over the value of string span @p sp. */
static void
put_hex(
    char *line, const struct rcpt_receipt_span *sp, const uint8_t *b, size_t n)
{
	char hex[2 * RCPT_ED25519_SIG_LEN + 1];

	CU_ASSERT_FATAL(sp->len == 2 * n + 2);
	rcpt_hex_encode(b, n, hex);
	memcpy(line + (sp->p - line) + 1, hex, 2 * n);
}

/*
 * Line @p i was edited by hand: recomputes its data_hash, entry_hash
 * and signature (by key @p key, when it has one), as an appliance that
 * wrote those bytes would have.  @p eh_out gets the new entry_hash, for
 * the next receipt's prev_hash.
 */
static void
reseal(struct lines *L, size_t i, int key, uint8_t eh_out[RCPT_HASH_LEN])
{
	struct rcpt_receipt_view vw;
	struct rcpt_buf sv = {0};
	uint8_t h[RCPT_HASH_LEN], sig[RCPT_ED25519_SIG_LEN];
	char *line = L->l[i];
	size_t len = strlen(line);

	CU_ASSERT_EQUAL_FATAL(
	    rcpt_receipt_scan(line, len, 256, &vw, NULL), RCPT_OK);
	if (vw.has_data) {
		SHA256((const unsigned char *)vw.data.p, vw.data.len, h);
		put_hex(line, &vw.data_hash, h, sizeof(h));
		CU_ASSERT_EQUAL_FATAL(
		    rcpt_receipt_scan(line, len, 256, &vw, NULL), RCPT_OK);
	}
	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_view_signed(&vw, &sv), RCPT_OK);
	SHA256((const unsigned char *)sv.p, sv.len, h);
	rcpt_buf_clear(&sv);
	put_hex(line, &vw.entry_hash, h, sizeof(h));
	if (vw.has_signature) {
		CU_ASSERT_EQUAL_FATAL(signers[key].sign(signers[key].ctx,
		                          signers[key].kid, h, sig),
		    RCPT_OK);
		put_hex(line, &vw.signature, sig, sizeof(sig));
	}
	memcpy(eh_out, h, RCPT_HASH_LEN);
}

static void
test_clean_chain_line(void)
{
	struct lines L = {0};

	plain_chain(&L, 9);
	expect_clean(&L, NULL,
	    "Chain integrity: CLEAN (10 events, 0 gaps), keys not pinned\n");
	lines_free(&L);
}

static void
test_format_grouping(void)
{
	struct rcpt_verify_result res;
	char buf[256];

	memset(&res, 0, sizeof(res));
	res.status = RCPT_VERIFY_CLEAN;
	res.count = 1234567;
	res.pinned = true;
	rcpt_verify_format(&res, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(
	    buf, "Chain integrity: CLEAN (1,234,567 events, 0 gaps)\n");
	res.count = 8441;
	res.pruned = 1000;
	res.pinned = false;
	rcpt_verify_format(&res, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "Chain integrity: CLEAN (8,441 events, 0 "
	                            "gaps), 1,000 pruned, keys not pinned\n");
	res.count = 999;
	res.pruned = 0;
	res.pinned = true;
	rcpt_verify_format(&res, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(
	    buf, "Chain integrity: CLEAN (999 events, 0 gaps)\n");
	res.status = RCPT_VERIFY_BROKEN;
	res.has_seq = true;
	res.seq = 4711;
	snprintf(res.reason, sizeof(res.reason), "signature does not verify");
	rcpt_verify_format(&res, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "Chain integrity: BROKEN at seq 4711: "
	                            "signature does not verify\n");
	res.has_seq = false;
	rcpt_verify_format(&res, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(
	    buf, "Chain integrity: BROKEN: signature does not verify\n");
}

static void
test_tamper_data(void)
{
	struct lines L = {0};

	plain_chain(&L, 9);
	tamper(&L, 3, "\"amount\":12.5", "\"amount\":13.5");
	expect_broken(&L, NULL, 3, "data_hash does not match data");
	lines_free(&L);
}

static void
test_tamper_ts_tags_kid(void)
{
	struct lines L = {0};

	plain_chain(&L, 9);
	tamper(&L, 3, "00:00:03.000Z", "00:00:03.001Z");
	expect_broken(&L, NULL, 3, "entry_hash does not match");
	lines_free(&L);
	plain_chain(&L, 9);
	tamper(&L, 4, "\"tags\":[\"eu\"]", "\"tags\":[\"us\"]");
	expect_broken(&L, NULL, 4, "entry_hash does not match");
	lines_free(&L);
	plain_chain(&L, 9);
	tamper(&L, 5, signers[0].kid, signers[1].kid);
	expect_broken(&L, NULL, 5, "entry_hash does not match");
	lines_free(&L);
}

static void
test_tamper_signature(void)
{
	struct lines L = {0};
	char *p;

	plain_chain(&L, 9);
	p = strstr(L.l[6], "\"signature\":\"") + 13;
	*p = *p == '0' ? '1' : '0';
	expect_broken(&L, NULL, 6, "signature does not verify under kid ");
	lines_free(&L);
	/* Two bad signatures: the lower seq is reported, on any thread. */
	plain_chain(&L, 20);
	p = strstr(L.l[17], "\"signature\":\"") + 13;
	*p = *p == '0' ? '1' : '0';
	p = strstr(L.l[9], "\"signature\":\"") + 13;
	*p = *p == '0' ? '1' : '0';
	expect_broken(&L, NULL, 9, "signature does not verify");
	lines_free(&L);
}

static void
test_deleted_swapped_duplicated(void)
{
	struct lines L = {0};
	char *t;

	plain_chain(&L, 9);
	free(L.l[4]);
	memmove(&L.l[4], &L.l[5], (L.n - 5) * sizeof(L.l[0]));
	L.n--;
	expect_broken(&L, NULL, 4, "seq 4 expected, found 5");
	lines_free(&L);
	plain_chain(&L, 9);
	t = L.l[4];
	L.l[4] = L.l[5];
	L.l[5] = t;
	expect_broken(&L, NULL, 4, "seq 4 expected, found 5");
	lines_free(&L);
	plain_chain(&L, 9);
	memmove(&L.l[5], &L.l[4], (L.n - 4) * sizeof(L.l[0]));
	L.l[5] = strdup(L.l[4]);
	L.n++;
	expect_broken(&L, NULL, 5, "seq 5 expected, found 4");
	lines_free(&L);
}

static void
test_unknown_member_and_non_canonical(void)
{
	struct lines L = {0};

	plain_chain(&L, 9);
	tamper(&L, 3, ",\"kid\":", ",\"extra\":\"x\",\"kid\":");
	expect_broken(&L, NULL, 3, "unknown member \"extra\"");
	lines_free(&L);
	plain_chain(&L, 9);
	tamper(&L, 3, "\"seq\":3,", "\"seq\": 3,");
	expect_broken(&L, NULL, 3, "line is not canonical JSON (JCS)");
	lines_free(&L);
	plain_chain(&L, 9);
	tamper(&L, 2, "\"amount\":12.5", "\"amount\":12.50");
	expect_broken(&L, NULL, 2, "not canonical");
	lines_free(&L);
}

static void
test_malformed_lines(void)
{
	struct lines L = {0};
	struct run rn = {0};

	plain_chain(&L, 4);
	rn.no_final_nl = true;
	expect_broken(&L, &rn, 4, "no terminating newline");
	tamper(&L, 2, "{", "\n{");
	expect_broken(&L, NULL, 2, "not canonical");
	lines_free(&L);
	/* No receipts at all. */
	plain_chain(&L, 1);
	rn = (struct run){.from = 0, .to = 0};
	{
		struct rcpt_verify_result res;

		run_text("", &rn, 1, &res);
		CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_BROKEN);
		CU_ASSERT(!res.has_seq);
	}
	lines_free(&L);
}

/* A checkpoint over the first @p size lines of @p L, signed by @p key. */
static void
make_checkpoint(const struct lines *L, uint64_t size, int key,
    const uint8_t *bad_root, struct rcpt_checkpoint *cp)
{
	struct rcpt_merkle_acc acc;
	struct rcpt_receipt r;
	uint8_t leaf[RCPT_HASH_LEN], root[RCPT_HASH_LEN];
	char *note = NULL;
	uint64_t i;

	memset(&acc, 0, sizeof(acc));
	rcpt_receipt_init(&r);
	for (i = 0; i < size; i++) {
		CU_ASSERT_EQUAL_FATAL(
		    rcpt_receipt_parse(L->l[i], strlen(L->l[i]), 256, &r, NULL),
		    RCPT_OK);
		rcpt_merkle_leaf_hash(r.entry_hash, leaf);
		rcpt_merkle_acc_push(&acc, leaf);
	}
	rcpt_receipt_clear(&r);
	rcpt_merkle_acc_root(&acc, root);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_checkpoint_sign("log.example.org", "orders", size,
	        bad_root != NULL ? bad_root : root, &signers[key], &note),
	    RCPT_OK);
	memset(cp, 0, sizeof(*cp));
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_checkpoint_parse(note, strlen(note), cp, NULL), RCPT_OK);
	free(note);
}

static void
test_checkpoint(void)
{
	struct lines L = {0};
	struct rcpt_checkpoint cp;
	struct run rn = {0};
	uint8_t zero[RCPT_HASH_LEN] = {0};

	plain_chain(&L, 9);
	/* Tail truncated. */
	make_checkpoint(&L, 10, 0, NULL, &cp);
	rn.cp = &cp;
	rn.to = 7;
	expect_broken(&L, &rn, -1,
	    "truncated: checkpoint has 10 receipts, "
	    "file has 7");
	rn.to = 0;
	expect_clean(&L, &rn, NULL);
	rcpt_checkpoint_clear(&cp);
	/* A checkpoint older than the file. */
	make_checkpoint(&L, 6, 0, NULL, &cp);
	expect_clean(&L, &rn, NULL);
	rcpt_checkpoint_clear(&cp);
	/* Wrong root. */
	make_checkpoint(&L, 6, 0, zero, &cp);
	expect_broken(&L, &rn, -1, "checkpoint root does not match");
	rcpt_checkpoint_clear(&cp);
	/* Signed by a key the chain never introduced. */
	make_checkpoint(&L, 10, 1, NULL, &cp);
	expect_broken(&L, &rn, -1, "checkpoint signature does not verify");
	rcpt_checkpoint_clear(&cp);
	lines_free(&L);
}

/*
 * A trust set holding keys @p which for "orders", each "active" or, when
 * @p revoked gives a TS, revoked from it.
 */
static void
trust_of(struct rcpt_jwks *set, struct rcpt_jwks_key *k, int n,
    const int *which, const char *const *revoked)
{
	int i;

	memset(k, 0, sizeof(*k) * (size_t)n);
	for (i = 0; i < n; i++) {
		memcpy(k[i].kid, signers[which[i]].kid, sizeof(k[i].kid));
		memcpy(k[i].pub, signers[which[i]].pub, sizeof(k[i].pub));
		snprintf(k[i].chain, sizeof(k[i].chain), "orders");
		snprintf(k[i].created, sizeof(k[i].created),
		    "2025-01-01T00:00:00.000Z");
		k[i].status = RCPT_KEY_ACTIVE;
		if (revoked != NULL && revoked[i] != NULL) {
			k[i].status = RCPT_KEY_REVOKED;
			snprintf(k[i].revoked, sizeof(k[i].revoked), "%s",
			    revoked[i]);
		}
	}
	set->keys = k;
	set->n = (size_t)n;
}

/* Marks trust entry @p k as retired at @p ts. */
static void
trust_retire(struct rcpt_jwks_key *k, const char *ts)
{
	k->status = RCPT_KEY_RETIRED;
	snprintf(k->retired, sizeof(k->retired), "%s", ts);
}

static void
test_foreign_keys(void)
{
	struct lines L = {0};
	struct rcpt_chain c;
	struct rcpt_jwks set;
	struct rcpt_jwks_key k[2];
	struct run rn = {0};
	int i, which0 = 0;

	/* A fully consistent chain made under key 1, nobody's key. */
	genesis(&c, &L, RCPT_SEALING_EACH, 1);
	for (i = 1; i <= 5; i++)
		event(&c, &L, 1, i, true);
	rcpt_chain_clear(&c);
	expect_clean(&L, NULL, NULL);
	trust_of(&set, k, 1, &which0, NULL);
	rn.trust = &set;
	expect_broken(&L, &rn, 0, "not pinned by --trust");
	lines_free(&L);
	/* Mid-chain receipts re-signed and re-linked with a foreign key. */
	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	for (i = 1; i <= 4; i++)
		event(&c, &L, 0, i, true);
	memcpy(c.kid, signers[1].kid, sizeof(c.kid));
	for (i = 5; i <= 8; i++)
		event(&c, &L, 1, i, true);
	rcpt_chain_clear(&c);
	expect_broken(&L, NULL, 5, "is not the key allowed at this point");
	expect_broken(&L, &rn, 5, "is not the key allowed at this point");
	lines_free(&L);
}

static void
test_rotation_followed(void)
{
	struct lines L = {0};
	struct rcpt_chain c;
	struct rcpt_jwks set;
	struct rcpt_jwks_key k[2];
	struct run rn = {0};
	int w0 = 0, w1 = 1;

	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	event(&c, &L, 0, 1, true);
	event(&c, &L, 0, 2, true);
	rotate(&c, &L, 0, 1, 3);
	event(&c, &L, 1, 4, true);
	event(&c, &L, 1, 5, true);
	expect_clean(&L, NULL,
	    "Chain integrity: CLEAN (6 events, 0 gaps), keys not pinned\n");
	trust_of(&set, k, 1, &w0, NULL);
	rn.trust = &set;
	expect_clean(&L, &rn, "Chain integrity: CLEAN (6 events, 0 gaps)\n");
	/* Trusting only the new key does not pin the genesis key. */
	trust_of(&set, k, 1, &w1, NULL);
	expect_broken(&L, &rn, 0, "not pinned by --trust");
	/* From seq 3 on (a bundle's view): needs --trust, pinned by key 0. */
	rn = (struct run){.first_seq = 3, .from = 3};
	expect_broken(&L, &rn, -1, "--trust is needed");
	trust_of(&set, k, 1, &w0, NULL);
	rn.trust = &set;
	expect_clean(&L, &rn, "Chain integrity: CLEAN (3 events, 0 gaps)\n");
	/* From seq 4: signed by key 1, which the trust set must hold. */
	rn.first_seq = 4;
	rn.from = 4;
	expect_broken(&L, &rn, 4, "not pinned by --trust");
	rcpt_chain_clear(&c);
	lines_free(&L);
	/* Old key keeps signing after the rotation. */
	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	rotate(&c, &L, 0, 1, 1);
	memcpy(c.kid, signers[0].kid, sizeof(c.kid));
	event(&c, &L, 0, 2, true);
	expect_broken(&L, NULL, 2, "was rotated away from");
	rcpt_chain_clear(&c);
	lines_free(&L);
}

/*
 * JCS writes the double 1e20 as 21 digits, an integer literal beyond
 * 2^53; the verifier must read such reserved data back, not refuse it.
 */
static void
test_rotation_ceremony_big_number(void)
{
	struct lines L = {0};
	struct rcpt_chain c;
	struct rcpt_receipt r;
	struct rcpt_diag d = {0};
	char ts[RCPT_TS_LEN + 1];
	json_object *cer = json_object_new_object();
	json_object *n = json_object_new_double(1e20);

	CU_ASSERT_PTR_NOT_NULL_FATAL(cer);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	/* Steals n on success. */
	CU_ASSERT_EQUAL_FATAL(json_object_object_add(cer, "n", n), 0);
	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	ts_at(1, ts);
	rcpt_receipt_init(&r);
	CU_ASSERT_EQUAL_FATAL(rcpt_chain_rotate(&c, ts, "admin", "scheduled",
	                          cer, &signers[0], &signers[1], &r, &d),
	    RCPT_OK);
	keep(&L, &r);
	rcpt_receipt_clear(&r);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(L.l[1], "\"ceremony\":{\"n\":100000000000000000000}"));
	event(&c, &L, 1, 2, true);
	expect_clean(&L, NULL,
	    "Chain integrity: CLEAN (3 events, 0 gaps), keys not pinned\n");
	/* The same receipt with a non-canonical number is refused. */
	tamper(&L, 1, "100000000000000000000", "1e20");
	expect_broken(&L, NULL, 1, "not canonical");
	rcpt_chain_clear(&c);
	lines_free(&L);
	json_object_put(cer);
}

static void
test_reserved_rules(void)
{
	struct lines L = {0};
	struct rcpt_chain c;

	/* Pruned genesis or rotation. */
	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	event(&c, &L, 0, 1, true);
	rotate(&c, &L, 0, 1, 2);
	event(&c, &L, 1, 3, true);
	rcpt_chain_clear(&c);
	prune(&L, 2);
	expect_broken(&L, NULL, 2, "never pruned");
	lines_free(&L);
	plain_chain(&L, 2);
	prune(&L, 0);
	expect_broken(&L, NULL, 0, "never pruned");
	lines_free(&L);
	/* Rotation back to a kid used before. */
	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	rotate(&c, &L, 0, 1, 1);
	c.n_used = 1; /* forget key 0 so the writer allows it */
	memcpy(c.used_kids[0], signers[1].kid, sizeof(c.used_kids[0]));
	rotate(&c, &L, 1, 0, 2);
	rcpt_chain_clear(&c);
	expect_broken(&L, NULL, 2, "was used before");
	lines_free(&L);
}

static void
test_pruned_counting(void)
{
	struct lines L = {0};

	plain_chain(&L, 9);
	prune(&L, 2);
	prune(&L, 3);
	expect_clean(&L, NULL,
	    "Chain integrity: CLEAN (10 events, 0 gaps), "
	    "2 pruned, keys not pinned\n");
	lines_free(&L);
}

static void
test_revocation(void)
{
	struct lines L = {0};
	struct rcpt_chain c;
	struct rcpt_jwks set;
	struct rcpt_jwks_key k[2];
	struct run rn = {0};
	char ts[RCPT_TS_LEN + 1];
	int w[2] = {0, 1};
	const char *rev[2] = {NULL, NULL};

	/* Effective at the rotation's ts: only the rotation is at or after,
	 * and it stays valid. */
	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	event(&c, &L, 0, 1, true);
	event(&c, &L, 0, 2, true);
	rotate(&c, &L, 0, 1, 3);
	event(&c, &L, 1, 4, true);
	ts_at(3, ts);
	revoke(&c, &L, 1, 0, 5, ts);
	event(&c, &L, 1, 6, true);
	expect_clean(&L, NULL, NULL);
	/* A receipt signed by the revoked key afterwards. */
	memcpy(c.kid, signers[0].kid, sizeof(c.kid));
	event(&c, &L, 0, 7, true);
	expect_broken(&L, NULL, 7, "is revoked");
	rcpt_chain_clear(&c);
	lines_free(&L);
	/* Effective before the last receipts of the old key. */
	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	event(&c, &L, 0, 1, true);
	event(&c, &L, 0, 2, true);
	rotate(&c, &L, 0, 1, 3);
	ts_at(2, ts);
	revoke(&c, &L, 1, 0, 4, ts);
	expect_broken(&L, NULL, 2, "revocation took effect");
	rcpt_chain_clear(&c);
	lines_free(&L);
	/* Revoking the active key or one never rotated away is refused. */
	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	event(&c, &L, 0, 1, true);
	{
		struct rcpt_receipt r;
		struct rcpt_diag d = {0};

		rcpt_receipt_init(&r);
		ts_at(2, ts);
		CU_ASSERT_EQUAL(
		    rcpt_chain_revoke(&c, ts, "admin", signers[0].kid, "x", ts,
		        &signers[0], &r, &d),
		    RCPT_E_INVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "kid"));
		rcpt_receipt_clear(&r);
	}
	rcpt_chain_clear(&c);
	lines_free(&L);
	/* --trust says key 0 is revoked from ts 2. */
	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	event(&c, &L, 0, 1, true);
	event(&c, &L, 0, 2, true);
	rotate(&c, &L, 0, 1, 3);
	event(&c, &L, 1, 4, true);
	rcpt_chain_clear(&c);
	ts_at(2, ts);
	rev[0] = ts;
	trust_of(&set, k, 2, w, rev);
	rn.trust = &set;
	expect_broken(&L, &rn, 2, "is revoked from");
	/* Revoked from the rotation's ts: the rotation stays valid. */
	ts_at(3, ts);
	trust_of(&set, k, 2, w, rev);
	expect_clean(&L, &rn, "Chain integrity: CLEAN (5 events, 0 gaps)\n");
	lines_free(&L);
}

static void
test_batch(void)
{
	struct lines L = {0};
	struct rcpt_chain c;
	int i;

	genesis(&c, &L, RCPT_SEALING_BATCH, 0);
	for (i = 1; i <= 9; i++)
		event(&c, &L, 0, i, i % 3 == 0);
	expect_clean(&L, NULL, NULL);
	CU_ASSERT_PTR_NULL(strstr(L.l[4], "\"signature\""));
	/* Tampering inside a batch: found at the receipt or its seal. */
	tamper(&L, 4, "\"amount\":12.5", "\"amount\":13.5");
	expect_broken(&L, NULL, 4, "data_hash does not match");
	lines_free(&L);
	rcpt_chain_clear(&c);
	/* Unsealed tail. */
	genesis(&c, &L, RCPT_SEALING_BATCH, 0);
	for (i = 1; i <= 9; i++)
		event(&c, &L, 0, i, i == 3);
	expect_broken(&L, NULL, 4, "unsealed receipt");
	rcpt_chain_clear(&c);
	lines_free(&L);
	/* A missing signature in an each chain. */
	plain_chain(&L, 5);
	unsign(&L, 3);
	expect_broken(&L, NULL, 3, "unsealed receipt");
	lines_free(&L);
	/* A reserved receipt must be signed even in a batch chain. */
	genesis(&c, &L, RCPT_SEALING_BATCH, 0);
	event(&c, &L, 0, 1, true);
	rcpt_chain_clear(&c);
	unsign(&L, 0);
	expect_broken(&L, NULL, 0, "carries no signature");
	lines_free(&L);
}

static void
test_writer_refuses_reserved_types(void)
{
	struct lines L = {0};
	struct rcpt_chain c;
	struct rcpt_chain_event ev;
	struct rcpt_receipt r;
	struct rcpt_diag d = {0};

	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	memset(&ev, 0, sizeof(ev));
	ev.type = "ReceiptD.genesis";
	ev.submitter = "alice";
	ev.ts = "2025-01-01T00:00:01.000Z";
	rcpt_receipt_init(&r);
	CU_ASSERT_EQUAL(
	    rcpt_chain_append(&c, &ev, &signers[0], &r, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "type"));
	CU_ASSERT_EQUAL(c.next_seq, 1);
	rcpt_chain_clear(&c);
	lines_free(&L);
}

static void
test_unknown_reserved_type_in_chain(void)
{
	struct lines L = {0};
	struct rcpt_chain c;
	struct rcpt_receipt r;
	struct rcpt_receipt_fields f;
	char ts[RCPT_TS_LEN + 1];

	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	ts_at(1, ts);
	memset(&f, 0, sizeof(f));
	f.chain = "orders";
	f.seq = 1;
	f.ts = ts;
	f.type = "receiptd.key_rotations";
	f.submitter = "admin";
	f.prev_hash = c.prev_hash;
	f.kid = c.kid;
	rcpt_receipt_init(&r);
	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_build(&f, &r, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_sign(&r, &signers[0]), RCPT_OK);
	keep(&L, &r);
	expect_broken(&L, NULL, 1, "not defined by SPEC 4");
	/* A second genesis. */
	lines_free(&L);
	rcpt_chain_clear(&c);
	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	f.type = RCPT_GENESIS_TYPE;
	f.prev_hash = c.prev_hash;
	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_build(&f, &r, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_sign(&r, &signers[0]), RCPT_OK);
	keep(&L, &r);
	expect_broken(&L, NULL, 1, "only seq 0 may be genesis");
	rcpt_receipt_clear(&r);
	rcpt_chain_clear(&c);
	lines_free(&L);
}

static void
test_feed_api_and_keys(void)
{
	struct lines L = {0};
	struct rcpt_verify_opts o;
	struct rcpt_verify_result res;
	struct rcpt_verifier *v = NULL;
	uint8_t pub[RCPT_ED25519_PUB_LEN];
	size_t i;

	plain_chain(&L, 3);
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL_FATAL(rcpt_verifier_new(&o, &v), RCPT_OK);
	for (i = 0; i < L.n; i++)
		CU_ASSERT_EQUAL(
		    rcpt_verifier_feed(v, L.l[i], strlen(L.l[i])), RCPT_OK);
	rcpt_verifier_finish(v, NULL, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	CU_ASSERT_EQUAL(res.count, 4);
	CU_ASSERT_STRING_EQUAL(res.chain, "orders");
	CU_ASSERT_STRING_EQUAL(res.origin, "log.example.org");
	CU_ASSERT_STRING_EQUAL(res.tip_kid, signers[0].kid);
	CU_ASSERT_EQUAL(rcpt_verifier_key(v, signers[0].kid, pub), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(pub, signers[0].pub, sizeof(pub)), 0);
	CU_ASSERT_EQUAL(
	    rcpt_verifier_key(v, signers[1].kid, pub), RCPT_E_NOT_FOUND);
	rcpt_verifier_free(v);
	/* After a failure, feeding does nothing more. */
	CU_ASSERT_EQUAL_FATAL(rcpt_verifier_new(&o, &v), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_verifier_feed(v, L.l[1], strlen(L.l[1])), RCPT_E_CORRUPT);
	CU_ASSERT_EQUAL(
	    rcpt_verifier_feed(v, L.l[0], strlen(L.l[0])), RCPT_E_CORRUPT);
	rcpt_verifier_finish(v, NULL, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_BROKEN);
	CU_ASSERT_EQUAL(res.seq, 0);
	rcpt_verifier_free(v);
	lines_free(&L);
}

static void
test_out_of_memory(void)
{
	struct lines L = {0};
	struct rcpt_verify_result res;
	struct rcpt_chain c;
	struct rcpt_receipt r;
	struct run rn = {0};
	char *text, ts[RCPT_TS_LEN + 1];
	long n;
	int e = RCPT_E_INTERNAL;

	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	event(&c, &L, 0, 1, true);
	rotate(&c, &L, 0, 1, 2);
	event(&c, &L, 1, 3, true);
	rcpt_chain_clear(&c);
	text = join(&L, 0, L.n, false);
	for (n = 0; n < 10000; n++) {
		rcpt_mem_fail_after(n);
		run_text(text, &rn, 1, &res);
		rcpt_mem_fail_after(-1);
		if (res.status == RCPT_VERIFY_CLEAN)
			break;
		CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_ERROR);
	}
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	CU_ASSERT(n > 0);
	free(text);
	/* The writer: each failing run leaves the chain unchanged. */
	ts_at(0, ts);
	rcpt_receipt_init(&r);
	for (n = 0; n < 10000; n++) {
		rcpt_chain_init(&c);
		rcpt_mem_fail_after(n);
		e = rcpt_chain_genesis(&c, "orders", "log.example.org",
		    RCPT_SEALING_EACH, ts, &signers[0], &r, NULL);
		if (e == RCPT_OK)
			e = rcpt_chain_rotate(&c, ts, "admin", "why", NULL,
			    &signers[0], &signers[1], &r, NULL);
		rcpt_mem_fail_after(-1);
		if (e != RCPT_OK) {
			CU_ASSERT_EQUAL(e, RCPT_E_NOMEM);
			CU_ASSERT(c.next_seq <= 1);
			CU_ASSERT(c.next_seq == 0 ||
			          strcmp(c.kid, signers[0].kid) == 0);
		}
		rcpt_chain_clear(&c);
		if (e == RCPT_OK)
			break;
	}
	CU_ASSERT_EQUAL(e, RCPT_OK);
	rcpt_receipt_clear(&r);
	lines_free(&L);
}

/*
 * Genesis strings are compared with their length: I-JSON lets them hold
 * U+0000, and "batch" followed by U+0000 is no sealing at all.
 */
static void
test_genesis_strings_hold_nul(void)
{
	static const struct {
		enum rcpt_sealing sealing;
		const char *from, *to, *why;
	} cases[] = {
	    {RCPT_SEALING_BATCH, "\"sealing\":\"batch\"",
	        "\"sealing\":\"batch\\u0000\"",
	        "genesis data.sealing: must be \"each\" or \"batch\""},
	    {RCPT_SEALING_EACH, "\"sealing\":\"each\"",
	        "\"sealing\":\"each\\u0000\"",
	        "genesis data.sealing: must be \"each\" or \"batch\""},
	    {RCPT_SEALING_EACH, "\"origin\":\"log.example.org\"",
	        "\"origin\":\"log.example.org\\u0000\"",
	        "genesis data.origin: must be 1 to 200 bytes"},
	    {RCPT_SEALING_EACH, "\"data\":{\"chain\":\"orders\"",
	        "\"data\":{\"chain\":\"orders\\u0000\"",
	        "genesis data.chain does not match the receipt's chain"},
	};
	struct lines L = {0};
	struct rcpt_chain c;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		genesis(&c, &L, cases[i].sealing, 0);
		tamper(&L, 0, cases[i].from, cases[i].to);
		reseal(&L, 0, 0, c.prev_hash);
		/* In a batch chain an unsealed receipt, then its seal. */
		event(&c, &L, 0, 1, false);
		event(&c, &L, 0, 2, true);
		expect_broken(&L, NULL, 0, cases[i].why);
		rcpt_chain_clear(&c);
		lines_free(&L);
	}
}

/* Reserved data this verifier cannot hold gets json.c's own reason. */
static void
test_rotation_ceremony_nul_name(void)
{
	struct lines L = {0};
	struct rcpt_chain c;
	struct rcpt_receipt r;
	struct rcpt_diag d = {0};
	char ts[RCPT_TS_LEN + 1];
	json_object *cer = NULL;

	CU_ASSERT_EQUAL_FATAL(
	    rcpt_json_parse("{\"a\":1}", 7, 64, "ceremony", &cer, NULL),
	    RCPT_OK);
	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	ts_at(1, ts);
	rcpt_receipt_init(&r);
	CU_ASSERT_EQUAL_FATAL(rcpt_chain_rotate(&c, ts, "admin", "scheduled",
	                          cer, &signers[0], &signers[1], &r, &d),
	    RCPT_OK);
	keep(&L, &r);
	rcpt_receipt_clear(&r);
	tamper(&L, 1, "\"ceremony\":{\"a\":1}", "\"ceremony\":{\"\\u0000\":1}");
	reseal(&L, 1, 0, c.prev_hash);
	expect_broken(&L, NULL, 1,
	    "receiptd.key_rotation data.ceremony[\"\\u0000\"]: member name "
	    "contains U+0000");
	rcpt_chain_clear(&c);
	lines_free(&L);
	json_object_put(cer);
}

/*
 * SPEC 4, 8: a kid never returns.  Seen from after genesis, --trust may
 * list it as retired, or the chain in view may have used it first.
 */
static void
test_kid_never_returns_after_genesis(void)
{
	struct lines L = {0};
	struct rcpt_chain c;
	struct rcpt_jwks set;
	struct rcpt_jwks_key k[2];
	struct run rn = {0};
	int w[2] = {0, 1}, w1 = 1;

	/* 0 -> 1 -> 0, seen from seq 2 with 0 retired per --trust. */
	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	rotate(&c, &L, 0, 1, 1);
	event(&c, &L, 1, 2, true);
	c.n_used = 1; /* forget key 0 so the writer allows it */
	memcpy(c.used_kids[0], signers[1].kid, sizeof(c.used_kids[0]));
	rotate(&c, &L, 1, 0, 3);
	event(&c, &L, 0, 4, true);
	rcpt_chain_clear(&c);
	trust_of(&set, k, 2, w, NULL);
	trust_retire(&k[0], "2025-01-01T00:00:01.000Z");
	rn.trust = &set;
	rn.first_seq = 2;
	rn.from = 2;
	expect_broken(&L, &rn, 3,
	    "is retired per --trust; a kid never returns once rotated away");
	/* The whole chain shows the reuse itself. */
	rn = (struct run){.trust = &set};
	expect_broken(&L, &rn, 3, "was used before in this chain");
	lines_free(&L);
	/* 1 -> 2 -> 1, seen from seq 2 where key 1 signs first. */
	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	rotate(&c, &L, 0, 1, 1);
	event(&c, &L, 1, 2, true);
	rotate(&c, &L, 1, 2, 3);
	c.n_used = 1;
	memcpy(c.used_kids[0], signers[2].kid, sizeof(c.used_kids[0]));
	rotate(&c, &L, 2, 1, 4);
	event(&c, &L, 1, 5, true);
	rcpt_chain_clear(&c);
	trust_of(&set, k, 1, &w1, NULL);
	rn = (struct run){.trust = &set, .first_seq = 2, .from = 2};
	expect_broken(&L, &rn, 4, "was used before in this chain");
	lines_free(&L);
}

/* A key --trust lists as retired at T signs nothing after T. */
static void
test_trust_retired_receipts(void)
{
	struct lines L = {0};
	struct rcpt_chain c;
	struct rcpt_jwks set;
	struct rcpt_jwks_key k[2];
	struct run rn = {0};
	char ts[RCPT_TS_LEN + 1];
	int w[2] = {0, 1};

	plain_chain(&L, 5);
	trust_of(&set, k, 1, w, NULL);
	ts_at(3, ts);
	trust_retire(&k[0], ts);
	rn.trust = &set;
	expect_broken(&L, &rn, 4,
	    "is retired per --trust from 2025-01-01T00:00:03.000Z and may "
	    "not sign this receipt");
	/* A bundle's view, starting after genesis. */
	rn.first_seq = 2;
	rn.from = 2;
	expect_broken(&L, &rn, 4, "is retired per --trust from");
	/* Receipts up to and at the retirement TS stay valid. */
	ts_at(5, ts);
	trust_retire(&k[0], ts);
	expect_clean(&L, &rn, "Chain integrity: CLEAN (4 events, 0 gaps)\n");
	lines_free(&L);
	/* The rotation that retired it is the one exception. */
	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	event(&c, &L, 0, 1, true);
	event(&c, &L, 0, 2, true);
	rotate(&c, &L, 0, 1, 5);
	event(&c, &L, 1, 6, true);
	rcpt_chain_clear(&c);
	trust_of(&set, k, 2, w, NULL);
	ts_at(3, ts);
	trust_retire(&k[0], ts);
	rn = (struct run){.trust = &set};
	expect_clean(&L, &rn, "Chain integrity: CLEAN (5 events, 0 gaps)\n");
	lines_free(&L);
}

/*
 * SPEC 5: a checkpoint is signed by the key active when it is made, so
 * a retired key signs none past its retirement; a manifest neither.
 */
static void
test_checkpoint_by_retired_key(void)
{
	struct lines L = {0};
	struct rcpt_chain c;
	struct rcpt_checkpoint cp;
	struct rcpt_jwks set;
	struct rcpt_jwks_key k[2];
	struct rcpt_verify_opts o;
	struct rcpt_verify_result res;
	struct rcpt_verifier *v = NULL;
	uint8_t pub[RCPT_ED25519_PUB_LEN];
	struct run rn = {0};
	char ts[RCPT_TS_LEN + 1];
	int w[2] = {0, 1};
	size_t i;

	/* Key 0 retired by the rotation at seq 3. */
	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	event(&c, &L, 0, 1, true);
	event(&c, &L, 0, 2, true);
	rotate(&c, &L, 0, 1, 3);
	event(&c, &L, 1, 4, true);
	event(&c, &L, 1, 5, true);
	rcpt_chain_clear(&c);
	rn.cp = &cp;
	make_checkpoint(&L, 4, 0, NULL, &cp);
	expect_clean(&L, &rn, NULL);
	rcpt_checkpoint_clear(&cp);
	make_checkpoint(&L, 5, 0, NULL, &cp);
	expect_broken(&L, &rn, -1,
	    "checkpoint signature does not verify under any key of the chain "
	    "that may sign it");
	rcpt_checkpoint_clear(&cp);
	make_checkpoint(&L, 6, 1, NULL, &cp);
	expect_clean(&L, &rn, NULL);
	rcpt_checkpoint_clear(&cp);
	/* The rotation out of view: --trust gives the retirement TS. */
	trust_of(&set, k, 2, w, NULL);
	ts_at(3, ts);
	trust_retire(&k[0], ts);
	rn = (struct run){.trust = &set, .first_seq = 4, .from = 4, .cp = &cp};
	make_checkpoint(&L, 6, 0, NULL, &cp);
	expect_broken(&L, &rn, -1, "checkpoint signature does not verify");
	rcpt_checkpoint_clear(&cp);
	make_checkpoint(&L, 6, 1, NULL, &cp);
	expect_clean(&L, &rn, NULL);
	rcpt_checkpoint_clear(&cp);
	/* Receipts in view all before T: the retired key may have signed. */
	rn = (struct run){
	    .trust = &set, .first_seq = 1, .from = 1, .to = 3, .cp = &cp};
	make_checkpoint(&L, 6, 0, NULL, &cp);
	expect_clean(&L, &rn, NULL);
	rcpt_checkpoint_clear(&cp);
	/* Manifests: the key must not be retired before the last receipt. */
	memset(&o, 0, sizeof(o));
	CU_ASSERT_EQUAL_FATAL(rcpt_verifier_new(&o, &v), RCPT_OK);
	for (i = 0; i < L.n; i++)
		CU_ASSERT_EQUAL(
		    rcpt_verifier_feed(v, L.l[i], strlen(L.l[i])), RCPT_OK);
	rcpt_verifier_finish(v, NULL, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	CU_ASSERT_EQUAL(
	    rcpt_verifier_key(v, signers[0].kid, pub), RCPT_E_DENIED);
	CU_ASSERT_EQUAL(rcpt_verifier_key(v, signers[1].kid, pub), RCPT_OK);
	rcpt_verifier_free(v);
	CU_ASSERT_EQUAL_FATAL(rcpt_verifier_new(&o, &v), RCPT_OK);
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(
		    rcpt_verifier_feed(v, L.l[i], strlen(L.l[i])), RCPT_OK);
	rcpt_verifier_finish(v, NULL, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	CU_ASSERT_EQUAL(rcpt_verifier_key(v, signers[0].kid, pub), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(pub, signers[0].pub, sizeof(pub)), 0);
	rcpt_verifier_free(v);
	lines_free(&L);
}

/*
 * A revocation that invalidates seq 0 while the signature of seq 2,
 * which is bad, may still be waiting on a worker: the answer must be
 * the one-thread answer (seq 2) on any number of threads, every time.
 */
static void
test_revocation_with_workers_is_deterministic(void)
{
	static const int threads[] = {1, 2, 8};
	struct lines L = {0};
	struct rcpt_chain c;
	struct rcpt_verify_result res;
	struct run rn = {0};
	char ts[RCPT_TS_LEN + 1], *text, *p;
	size_t t;
	int i, bad = 0;

	genesis(&c, &L, RCPT_SEALING_EACH, 0);
	event(&c, &L, 0, 1, true);
	event(&c, &L, 0, 2, true);
	rotate(&c, &L, 0, 1, 3);
	ts_at(0, ts);
	revoke(&c, &L, 1, 0, 4, ts);
	rcpt_chain_clear(&c);
	p = strstr(L.l[2], "\"signature\":\"") + 13;
	*p = *p == '0' ? '1' : '0';
	text = join(&L, 0, L.n, false);
	for (t = 0; t < sizeof(threads) / sizeof(threads[0]); t++) {
		for (i = 0; i < 20; i++) {
			run_text(text, &rn, threads[t], &res);
			if (res.status != RCPT_VERIFY_BROKEN || !res.has_seq ||
			    res.seq != 2 ||
			    strstr(res.reason,
			        "signature does not verify under kid ") ==
			        NULL) {
				if (bad++ == 0)
					fprintf(stderr,
					    "\n  threads %d: seq %llu: %s\n",
					    threads[t],
					    (unsigned long long)res.seq,
					    res.reason);
			}
		}
	}
	CU_ASSERT_EQUAL(bad, 0);
	free(text);
	lines_free(&L);
}

static CU_TestInfo tamper_tests[] = {
    {"changed data byte", test_tamper_data},
    {"changed ts, tags, kid", test_tamper_ts_tags_kid},
    {"changed signature, lowest seq wins", test_tamper_signature},
    {"deleted, swapped, duplicated", test_deleted_swapped_duplicated},
    {"unknown member, non-canonical", test_unknown_member_and_non_canonical},
    {"malformed lines", test_malformed_lines},
    {"checkpoint: truncation, root, key", test_checkpoint},
    {"keys nobody introduced", test_foreign_keys},
    {"unknown reserved type, second genesis",
        test_unknown_reserved_type_in_chain},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo key_tests[] = {
    {"rotation followed", test_rotation_followed},
    {"rotation ceremony with a big number", test_rotation_ceremony_big_number},
    {"reserved receipt rules", test_reserved_rules},
    {"revocation", test_revocation},
    {"writer refuses reserved types", test_writer_refuses_reserved_types},
    {"genesis strings holding U+0000", test_genesis_strings_hold_nul},
    {"rotation ceremony with a U+0000 name", test_rotation_ceremony_nul_name},
    {"kid never returns, seen after genesis",
        test_kid_never_returns_after_genesis},
    {"key retired per --trust signs nothing later",
        test_trust_retired_receipts},
    {"checkpoint and manifest by a retired key",
        test_checkpoint_by_retired_key},
    {"revocation with workers is deterministic",
        test_revocation_with_workers_is_deterministic},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo output_tests[] = {
    {"clean chain line", test_clean_chain_line},
    {"count grouping", test_format_grouping},
    {"pruned counting", test_pruned_counting},
    {"batch sealing", test_batch},
    {"feed API and keys", test_feed_api_and_keys},
    {"out of memory: ERROR, never BROKEN", test_out_of_memory},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "tamper",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = tamper_tests},
    {.pName = "keys",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = key_tests},
    {.pName = "output",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = output_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return rcpt_test_run(suites);
}
