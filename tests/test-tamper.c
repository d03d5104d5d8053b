/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The tamper matrix of batch sealing (SPEC 1.2, 4, 8; issue 6): one
 * batch chain with a rotation and a revocation, and one each chain, are
 * hurt in every way a batch opens up (stripped seals, edited, deleted,
 * reordered, duplicated and truncated unsigned receipts, unsigned
 * reserved receipts, seals and batches under a kid that may not sign
 * them).  Each case must be CLEAN or BROKEN at the exact seq with the
 * exact reason, and give that same verdict through rcpt_verify_stream,
 * through the rcpt_verifier_* calls and through `receiptctl verify`, on
 * 1, 2 and 8 threads.
 *
 * It does not test the verifier's other rules (test-verify.c does) or
 * what the daemon writes (test-daemon.c, test-faults.c).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "chain.h"
#include "json.h"
#include "receipt.h"
#include "softkey.h"
#include "testlib.h"
#include "verify.h"

static const int threads[] = {1, 2, 8};
#define N_THREADS (sizeof(threads) / sizeof(threads[0]))
#define REPEATS   3 /* library runs per thread count: timing varies */

static struct rcpt_softkey *keys[3];
static struct rcpt_signer signers[3];
static struct rcpt_test_lines batch_base; /* see build_batch() */
static struct rcpt_test_lines each_base;  /* genesis and 1..6, all signed */
static char *tmp;                         /* receiptctl's input and output */

/* Building the chains */

static void
ts_at(int i, char out[RCPT_TS_LEN + 1])
{
	snprintf(out, RCPT_TS_LEN + 1, "2025-01-01T00:00:%02u.000Z",
	    (unsigned)i % 60);
}

static void
genesis(
    struct rcpt_chain *c, struct rcpt_test_lines *L, enum rcpt_sealing sealing)
{
	struct rcpt_receipt r;
	struct rcpt_diag d = {0};
	char ts[RCPT_TS_LEN + 1];

	rcpt_chain_init(c);
	rcpt_receipt_init(&r);
	ts_at(0, ts);
	CU_ASSERT_EQUAL_FATAL(rcpt_chain_genesis(c, "orders", "log.example.org",
	                          sealing, ts, &signers[0], &r, &d),
	    RCPT_OK);
	rcpt_test_lines_keep(L, &r);
	rcpt_receipt_clear(&r);
}

/* Event @p i, signed by @p key when @p seal (always in an each chain). */
static void
event(
    struct rcpt_chain *c, struct rcpt_test_lines *L, int key, int i, bool seal)
{
	struct rcpt_chain_event ev = {0};
	struct rcpt_receipt r;
	struct rcpt_diag d = {0};
	char ts[RCPT_TS_LEN + 1], text[128];
	json_object *data = NULL, *tags = NULL;

	snprintf(text, sizeof(text),
	    "{\"amount\":12.5,\"i\":%d,\"who\":\"user-%d\"}", i, i);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_json_parse(text, strlen(text), 64, "data", &data, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_json_parse("[\"eu\"]", 6, 64, "tags", &tags, NULL), RCPT_OK);
	ts_at(i, ts);
	ev.type = "order.created";
	ev.tags = tags;
	ev.submitter = "alice";
	ev.data = data;
	ev.ts = ts;
	ev.seal = seal;
	rcpt_receipt_init(&r);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_chain_append(c, &ev, &signers[key], &r, &d), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(
	    r.has_signature, seal || c->sealing == RCPT_SEALING_EACH);
	rcpt_test_lines_keep(L, &r);
	rcpt_receipt_clear(&r);
	json_object_put(data);
	json_object_put(tags);
}

/*
 * The batch chain every case starts from ("u" unsigned, "S" signed):
 *
 *   0 genesis S | 1 u  2 u  3 S | 4 u  5 u  6 u  7 S | 8 u  9 rotation
 *   0->1 S | 10 u  11 S | 12 revocation of key 0 S | 13 u  14 u  15 S
 *
 * Seqs 0-9 are kid 0's, 10-15 kid 1's; key 2 never belongs to it.
 */
static void
build_batch(struct rcpt_test_lines *L)
{
	struct rcpt_chain c;
	struct rcpt_receipt r;
	struct rcpt_diag d = {0};
	char ts[RCPT_TS_LEN + 1], eff[RCPT_TS_LEN + 1];
	int i;

	genesis(&c, L, RCPT_SEALING_BATCH);
	for (i = 1; i <= 15; i++) {
		ts_at(i, ts);
		rcpt_receipt_init(&r);
		if (i == 9) {
			CU_ASSERT_EQUAL_FATAL(
			    rcpt_chain_rotate(&c, ts, "admin", "scheduled",
			        NULL, &signers[0], &signers[1], &r, &d),
			    RCPT_OK);
			rcpt_test_lines_keep(L, &r);
		} else if (i == 12) {
			/* From the rotation on: nothing before is hurt. */
			ts_at(9, eff);
			CU_ASSERT_EQUAL_FATAL(
			    rcpt_chain_revoke(&c, ts, "admin", signers[0].kid,
			        "compromised", eff, &signers[1], &r, &d),
			    RCPT_OK);
			rcpt_test_lines_keep(L, &r);
		} else {
			event(&c, L, i < 9 ? 0 : 1, i,
			    i == 3 || i == 7 || i == 11 || i == 15);
		}
		rcpt_receipt_clear(&r);
	}
	rcpt_chain_clear(&c);
}

static void
build_each(struct rcpt_test_lines *L)
{
	struct rcpt_chain c;
	int i;

	genesis(&c, L, RCPT_SEALING_EACH);
	for (i = 1; i <= 6; i++)
		event(&c, L, 0, i, true);
	rcpt_chain_clear(&c);
}

/*
 * A private copy of lines [0, @p to) of @p from (all when 0).  The
 * fixture chains are made on first use, inside a test, where CUnit's
 * assertions may run.
 */
static void
lines_copy(
    struct rcpt_test_lines *L, const struct rcpt_test_lines *from, size_t to)
{
	if (batch_base.n == 0) {
		build_batch(&batch_base);
		build_each(&each_base);
		CU_ASSERT_FATAL(batch_base.n == 16 && each_base.n == 7);
	}
	rcpt_test_lines_copy(L, from, to);
}

/* Tampering */

/* Changes the kid of line @p i from key @p from's to key @p to's. */
static void
rekid(struct rcpt_test_lines *L, size_t i, int from, int to)
{
	char a[64], b[64];

	snprintf(a, sizeof(a), "\"kid\":\"%s\"", signers[from].kid);
	snprintf(b, sizeof(b), "\"kid\":\"%s\"", signers[to].kid);
	rcpt_test_line_replace(L, i, a, b);
}

/* Line @p i made consistent again; see rcpt_test_line_reseal(). */
static void
reseal(struct rcpt_test_lines *L, size_t i, bool link, int key)
{
	rcpt_test_line_reseal(L, i, link, key >= 0 ? &signers[key] : NULL);
}

/* Relinks lines [@p from, @p to) to their edited predecessors. */
static void
relink(struct rcpt_test_lines *L, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
		reseal(L, i, true, -1);
}

/* Edits the data of event line @p i ("amount" 12.5 becomes 13.5). */
static void
edit_data(struct rcpt_test_lines *L, size_t i)
{
	rcpt_test_line_replace(L, i, "\"amount\":12.5", "\"amount\":13.5");
}

/* Judging */

static void
run_stream(const char *text, int n, struct rcpt_verify_result *res)
{
	struct rcpt_verify_opts o = {.threads = n};
	FILE *f = fmemopen((void *)text, strlen(text), "r");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	rcpt_verify_stream(f, &o, NULL, res);
	fclose(f);
}

/* The same through the feed calls; a feed gives RCPT_OK or CORRUPT. */
static void
run_feed(const struct rcpt_test_lines *L, int n, struct rcpt_verify_result *res)
{
	struct rcpt_verify_opts o = {.threads = n};
	struct rcpt_verifier *v = NULL;
	size_t i;
	int r, bad = 0;

	CU_ASSERT_EQUAL_FATAL(rcpt_verifier_new(&o, &v), RCPT_OK);
	for (i = 0; i < L->n; i++) {
		r = rcpt_verifier_feed(v, L->l[i], strlen(L->l[i]));
		bad += r != RCPT_OK && r != RCPT_E_CORRUPT;
	}
	rcpt_verifier_finish(v, NULL, res);
	rcpt_verifier_free(v);
	CU_ASSERT_EQUAL(bad, 0);
}

/* 1 when @p a and @p b are the same verdict. */
static int
same_verdict(
    const struct rcpt_verify_result *a, const struct rcpt_verify_result *b)
{
	return a->status == b->status && a->has_seq == b->has_seq &&
	       a->seq == b->seq && strcmp(a->reason, b->reason) == 0 &&
	       (a->status != RCPT_VERIFY_CLEAN ||
	           (a->count == b->count && a->pruned == b->pruned));
}

/* `receiptctl verify --threads N` must print @p line and exit @p st. */
static void
run_cli(const char *path, int n, int st, const char *line, const char *name)
{
	struct rcpt_test_proc p;
	char nt[16];
	const char *args[] = {"verify", "--threads", nt, path, NULL};

	snprintf(nt, sizeof(nt), "%d", n);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_test_spawn(&p, RECEIPTCTL, tmp, NULL, args), 0);
	CU_ASSERT_EQUAL(p.status, st);
	CU_ASSERT_STRING_EQUAL(p.out, line);
	CU_ASSERT_STRING_EQUAL(p.err, "");
	if (p.status != st || strcmp(p.out, line) != 0)
		fprintf(stderr, "\n  %s: receiptctl --threads %d: %d %s", name,
		    n, p.status, p.out);
	rcpt_test_proc_clear(&p);
}

/*
 * Judges @p L every way on every thread count, asserts all verdicts
 * are the one-thread stream's, and returns that one in @p res.
 */
static void
judge(const struct rcpt_test_lines *L, const char *name,
    struct rcpt_verify_result *res)
{
	struct rcpt_verify_result r;
	char *text = rcpt_test_lines_join(L),
	     *path = rcpt_test_join(tmp, "case.jsonl");
	char line[1024];
	size_t t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	run_stream(text, 1, res);
	for (t = 0; t < N_THREADS * REPEATS; t++) {
		run_stream(text, threads[t % N_THREADS], &r);
		CU_ASSERT(same_verdict(res, &r));
		if (!same_verdict(res, &r))
			fprintf(stderr, "\n  %s: stream, %d threads: %s", name,
			    threads[t % N_THREADS], r.reason);
		run_feed(L, threads[t % N_THREADS], &r);
		CU_ASSERT(same_verdict(res, &r));
		if (!same_verdict(res, &r))
			fprintf(stderr, "\n  %s: feed, %d threads: %s", name,
			    threads[t % N_THREADS], r.reason);
	}
	rcpt_verify_format(res, line, sizeof(line));
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_test_write_file(path, text, strlen(text)), 0);
	for (t = 0; t < N_THREADS; t++)
		run_cli(path, threads[t],
		    res->status == RCPT_VERIFY_CLEAN ? 0 : 1, line, name);
	free(path);
	free(text);
}

/*
 * Writes @p tmpl into @p out with "$1" and "$2" replaced by the kids of
 * keys @p k1 and @p k2: the verifier's reasons name kids.
 */
static void
with_kids(const char *tmpl, int k1, int k2, char *out, size_t size)
{
	size_t o = 0;
	const char *p, *kid;

	for (p = tmpl; *p != '\0' && o + 1 < size; p++) {
		if (p[0] == '$' && (p[1] == '1' || p[1] == '2')) {
			kid = signers[p[1] == '1' ? k1 : k2].kid;
			CU_ASSERT_FATAL(o + strlen(kid) < size);
			memcpy(out + o, kid, strlen(kid));
			o += strlen(kid);
			p++;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

/* BROKEN at @p seq with reason @p tmpl naming the kids of @p k1, @p k2. */
static void
expect_broken(const struct rcpt_test_lines *L, const char *name, uint64_t seq,
    const char *tmpl, int k1, int k2)
{
	struct rcpt_verify_result res;
	char why[512];

	with_kids(tmpl, k1, k2, why, sizeof(why));
	judge(L, name, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_BROKEN);
	CU_ASSERT(res.has_seq);
	CU_ASSERT_EQUAL(res.seq, seq);
	CU_ASSERT_STRING_EQUAL(res.reason, why);
	if (res.status != RCPT_VERIFY_BROKEN || !res.has_seq ||
	    res.seq != seq || strcmp(res.reason, why) != 0)
		fprintf(stderr,
		    "\n  %s: got %d at seq %llu: %s\n  want seq "
		    "%llu: %s\n",
		    name, res.status, (unsigned long long)res.seq, res.reason,
		    (unsigned long long)seq, why);
}

/* CLEAN, printing exactly @p line. */
static void
expect_clean(
    const struct rcpt_test_lines *L, const char *name, const char *line)
{
	struct rcpt_verify_result res;
	char buf[256];

	judge(L, name, &res);
	rcpt_verify_format(&res, buf, sizeof(buf));
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	CU_ASSERT_STRING_EQUAL(buf, line);
	if (res.status != RCPT_VERIFY_CLEAN)
		fprintf(stderr, "\n  %s: not clean: %s", name, buf);
}

#define CLEAN16  "Chain integrity: CLEAN (16 events, 0 gaps), keys not pinned\n"
#define UNSEALED "unsealed receipt: no later signature of kid $1 seals it"
#define BAD_SIG  "signature does not verify under kid $1"
#define NOT_KEY  "kid $1 is not the key allowed at this point (kid $2)"

/* The cases */

static void
test_clean(void)
{
	struct rcpt_test_lines L = {0};
	struct rcpt_receipt_view vw;
	size_t i;
	int n = 0;

	lines_copy(&L, &batch_base, 0);
	/* The fixture is what it claims: 9 unsigned receipts. */
	for (i = 0; i < L.n; i++) {
		CU_ASSERT_EQUAL_FATAL(
		    rcpt_receipt_scan(L.l[i], strlen(L.l[i]), 256, &vw, NULL),
		    RCPT_OK);
		n += !vw.has_signature;
	}
	CU_ASSERT_EQUAL(n, 9);
	expect_clean(&L, "batch chain", CLEAN16);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &each_base, 0);
	expect_clean(&L, "each chain",
	    "Chain integrity: CLEAN (7 events, 0 gaps), keys not pinned\n");
	rcpt_test_lines_free(&L);
	/* Pruning an unsigned receipt leaves its entry_hash, so its seal. */
	lines_copy(&L, &batch_base, 0);
	rcpt_test_line_replace(&L, 5,
	    "\"data\":{\"amount\":12.5,\"i\":5,\"who\":\"user-5\"},", "");
	rcpt_test_line_replace(&L, 5, ",\"seq\":",
	    ",\"pruned_at\":\"2025-06-01T00:00:00.000Z\",\"seq\":");
	expect_clean(&L, "pruned unsigned receipt",
	    "Chain integrity: CLEAN (16 events, 0 gaps), 1 pruned, keys not "
	    "pinned\n");
	rcpt_test_lines_free(&L);
}

static void
test_stripped_final_seal(void)
{
	struct rcpt_test_lines L = {0};

	lines_copy(&L, &batch_base, 0);
	rcpt_test_line_unsign(&L, 15);
	expect_broken(&L, "final seal stripped", 13, UNSEALED, 1, -1);
	rcpt_test_lines_free(&L);
	/* A shorter chain whose tip closes a batch of two. */
	lines_copy(&L, &batch_base, 12);
	rcpt_test_line_unsign(&L, 11);
	expect_broken(
	    &L, "seal of 10-11 stripped at the tip", 10, UNSEALED, 1, -1);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &batch_base, 4);
	rcpt_test_line_unsign(&L, 3);
	expect_broken(
	    &L, "seal of 1-3 stripped at the tip", 1, UNSEALED, 0, -1);
	rcpt_test_lines_free(&L);
}

/*
 * SPEC 1.2 accepts a receipt without signature when a later signature
 * of the same kid seals it through unbroken links; where batches ended
 * is not part of the signed data.  So a seal stripped in the middle
 * leaves the chain CLEAN: the next signature seals both batches.
 */
static void
test_stripped_middle_seal(void)
{
	struct rcpt_test_lines L = {0};

	lines_copy(&L, &batch_base, 0);
	rcpt_test_line_unsign(&L, 3);
	expect_clean(&L, "seal 3 stripped, 7 seals 1-7", CLEAN16);
	rcpt_test_line_unsign(&L, 7);
	expect_clean(&L, "seals 3 and 7 stripped, the rotation seals", CLEAN16);
	rcpt_test_line_unsign(&L, 11);
	expect_clean(&L, "seal 11 stripped, the revocation seals", CLEAN16);
	/* A longer batch moves the report of an edit later. */
	edit_data(&L, 2);
	reseal(&L, 2, false, -1);
	relink(&L, 3, 10);
	expect_broken(
	    &L, "edit of 2 relinked through merged 1-9", 9, BAD_SIG, 0, -1);
	rcpt_test_lines_free(&L);
}

static void
test_edited_unsigned(void)
{
	struct rcpt_test_lines L = {0};

	lines_copy(&L, &batch_base, 0);
	edit_data(&L, 5);
	expect_broken(
	    &L, "5's data edited", 5, "data_hash does not match data", -1, -1);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &batch_base, 0);
	rcpt_test_line_replace(&L, 5, "\"tags\":[\"eu\"]", "\"tags\":[\"us\"]");
	expect_broken(&L, "5's tags edited", 5,
	    "entry_hash does not match the signed view", -1, -1);
	rcpt_test_lines_free(&L);
	/* Rehashed: the receipt holds, its successor's link does not. */
	lines_copy(&L, &batch_base, 0);
	edit_data(&L, 5);
	reseal(&L, 5, false, -1);
	expect_broken(&L, "5 edited, rehashed", 6,
	    "prev_hash does not match entry_hash of seq 5", -1, -1);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &batch_base, 0);
	edit_data(&L, 6);
	reseal(&L, 6, false, -1);
	expect_broken(&L, "6 edited, rehashed: at the seal's link", 7,
	    "prev_hash does not match entry_hash of seq 6", -1, -1);
	rcpt_test_lines_free(&L);
	/* Rehashed and relinked up to the seal: the seal fails. */
	lines_copy(&L, &batch_base, 0);
	edit_data(&L, 5);
	reseal(&L, 5, false, -1);
	relink(&L, 6, 8);
	expect_broken(&L, "5 edited, relinked to the seal", 7, BAD_SIG, 0, -1);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &batch_base, 0);
	edit_data(&L, 8);
	reseal(&L, 8, false, -1);
	relink(&L, 9, 10);
	expect_broken(
	    &L, "8 edited, relinked to the rotation", 9, BAD_SIG, 0, -1);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &batch_base, 0);
	edit_data(&L, 13);
	reseal(&L, 13, false, -1);
	relink(&L, 14, 16);
	expect_broken(&L, "13 edited, relinked to the tip", 15, BAD_SIG, 1, -1);
	rcpt_test_lines_free(&L);
	/* ...and the seal dropped too: nothing seals the batch. */
	lines_copy(&L, &batch_base, 8);
	edit_data(&L, 5);
	reseal(&L, 5, false, -1);
	rcpt_test_line_unsign(&L, 7);
	relink(&L, 6, 8);
	expect_broken(
	    &L, "5 edited, relinked, seal stripped", 4, UNSEALED, 0, -1);
	rcpt_test_lines_free(&L);
}

static void
test_deleted_unsigned(void)
{
	struct rcpt_test_lines L = {0};
	char from[32], to[32];
	size_t i;

	lines_copy(&L, &batch_base, 0);
	rcpt_test_lines_drop(&L, 5);
	expect_broken(&L, "5 deleted", 5, "seq 5 expected, found 6", -1, -1);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &batch_base, 0);
	rcpt_test_lines_drop(&L, 13);
	expect_broken(
	    &L, "13 deleted", 13, "seq 13 expected, found 14", -1, -1);
	rcpt_test_lines_free(&L);
	/* Renumbered and relinked: the seal of the batch fails. */
	lines_copy(&L, &batch_base, 0);
	rcpt_test_lines_drop(&L, 5);
	for (i = 5; i < L.n; i++) {
		snprintf(from, sizeof(from), "\"seq\":%zu,", i + 1);
		snprintf(to, sizeof(to), "\"seq\":%zu,", i);
		rcpt_test_line_replace(&L, i, from, to);
	}
	reseal(&L, 5, true, -1);
	relink(&L, 6, L.n);
	expect_broken(&L, "5 deleted, renumbered, relinked", 6, BAD_SIG, 0, -1);
	rcpt_test_lines_free(&L);
}

static void
test_unsigned_reserved(void)
{
	struct rcpt_test_lines L = {0};

	lines_copy(&L, &batch_base, 0);
	rcpt_test_line_unsign(&L, 0);
	expect_broken(&L, "genesis unsigned", 0,
	    "receiptd.genesis receipt carries no signature", -1, -1);
	rcpt_test_lines_free(&L);
	/* 8 would be sealed by the rotation: the rotation fails first. */
	lines_copy(&L, &batch_base, 0);
	rcpt_test_line_unsign(&L, 9);
	expect_broken(&L, "rotation unsigned", 9,
	    "receiptd.key_rotation receipt carries no signature", -1, -1);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &batch_base, 0);
	rcpt_test_line_unsign(&L, 12);
	expect_broken(&L, "revocation unsigned", 12,
	    "receiptd.key_revocation receipt carries no signature", -1, -1);
	rcpt_test_lines_free(&L);
	/* The tip as a rotation, unsigned: nothing after it could seal. */
	lines_copy(&L, &batch_base, 10);
	rcpt_test_line_unsign(&L, 9);
	expect_broken(&L, "rotation unsigned at the tip", 9,
	    "receiptd.key_rotation receipt carries no signature", -1, -1);
	rcpt_test_lines_free(&L);
}

static void
test_each_chain(void)
{
	static const char each[] = "unsealed receipt: the chain's sealing is "
	                           "\"each\" and it carries no signature";
	struct rcpt_test_lines L = {0};

	lines_copy(&L, &each_base, 0);
	rcpt_test_line_unsign(&L, 3);
	expect_broken(&L, "each: 3 unsigned", 3, each, -1, -1);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &each_base, 0);
	rcpt_test_line_unsign(&L, 6);
	expect_broken(&L, "each: tip unsigned", 6, each, -1, -1);
	rcpt_test_lines_free(&L);
	/* Declaring the chain batch: data_hash, then the signature, fail. */
	lines_copy(&L, &each_base, 0);
	rcpt_test_line_replace(
	    &L, 0, "\"sealing\":\"each\"", "\"sealing\":\"batch\"");
	rcpt_test_line_unsign(&L, 3);
	expect_broken(&L, "each: genesis says batch", 0,
	    "data_hash does not match data", -1, -1);
	reseal(&L, 0, false, -1);
	relink(&L, 1, L.n);
	expect_broken(
	    &L, "each: genesis says batch, rehashed", 0, BAD_SIG, 0, -1);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &batch_base, 0);
	rcpt_test_line_replace(
	    &L, 0, "\"sealing\":\"batch\"", "\"sealing\":\"each\"");
	expect_broken(&L, "batch: genesis says each", 0,
	    "data_hash does not match data", -1, -1);
	rcpt_test_lines_free(&L);
}

/*
 * A seal under another kid.  The verifier's step 4 pins every receipt
 * to the active key, and the only key change, a rotation, is itself
 * signed by the old key, so no well-formed chain has unsigned receipts
 * of one kid followed by a seal of another: each forgery fails at the
 * first receipt whose kid or signature is wrong.
 */
static void
test_foreign_kid(void)
{
	struct rcpt_test_lines L = {0};

	lines_copy(&L, &batch_base, 0);
	reseal(&L, 7, false, 2);
	expect_broken(&L, "seal 7 signed by key 2", 7, BAD_SIG, 0, -1);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &batch_base, 0);
	rekid(&L, 7, 0, 2);
	reseal(&L, 7, false, 2);
	relink(&L, 8, 10);
	expect_broken(&L, "seal 7 under kid 2", 7, NOT_KEY, 2, 0);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &batch_base, 0);
	rekid(&L, 4, 0, 2);
	reseal(&L, 4, false, -1);
	rekid(&L, 5, 0, 2);
	rekid(&L, 6, 0, 2);
	rekid(&L, 7, 0, 2);
	relink(&L, 5, 7);
	reseal(&L, 7, true, 2);
	relink(&L, 8, 10);
	expect_broken(&L, "batch 4-7 under kid 2", 4, NOT_KEY, 2, 0);
	rcpt_test_lines_free(&L);
	/* The next key before its rotation, the old one after it. */
	lines_copy(&L, &batch_base, 0);
	rekid(&L, 8, 0, 1);
	reseal(&L, 8, false, -1);
	relink(&L, 9, 10);
	expect_broken(&L, "8 under the next kid", 8, NOT_KEY, 1, 0);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &batch_base, 0);
	rekid(&L, 10, 1, 0);
	reseal(&L, 10, false, -1);
	relink(&L, 11, 12);
	expect_broken(&L, "10 under the retired kid", 10,
	    "kid $1 was rotated away from; seq 10 must be signed by kid $2", 0,
	    1);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &batch_base, 0);
	rekid(&L, 13, 1, 0);
	reseal(&L, 13, false, -1);
	relink(&L, 14, 16);
	expect_broken(&L, "13 under the revoked kid", 13,
	    "kid $1 is revoked; seq 13 must be signed by kid $2", 0, 1);
	rcpt_test_lines_free(&L);
}

static void
test_reordered_duplicated_truncated(void)
{
	struct rcpt_test_lines L = {0};
	char *t;

	lines_copy(&L, &batch_base, 0);
	t = L.l[4];
	L.l[4] = L.l[5];
	L.l[5] = t;
	expect_broken(
	    &L, "4 and 5 swapped", 4, "seq 4 expected, found 5", -1, -1);
	/* Renumbered and relinked: ts order gives it away. */
	rcpt_test_line_replace(&L, 4, "\"seq\":5,", "\"seq\":4,");
	rcpt_test_line_replace(&L, 5, "\"seq\":4,", "\"seq\":5,");
	reseal(&L, 4, true, -1);
	relink(&L, 5, 8);
	expect_broken(&L, "4 and 5 swapped, renumbered", 5,
	    "ts is earlier than the ts of seq 4", -1, -1);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &batch_base, 0);
	t = strdup(L.l[5]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	memmove(&L.l[6], &L.l[5], (L.n - 5) * sizeof(L.l[0]));
	L.l[6] = t;
	L.n++;
	expect_broken(&L, "5 duplicated", 6, "seq 6 expected, found 5", -1, -1);
	rcpt_test_lines_free(&L);
	/* Truncated right after an unsigned receipt. */
	lines_copy(&L, &batch_base, 6);
	expect_broken(&L, "truncated after 5", 4, UNSEALED, 0, -1);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &batch_base, 9);
	expect_broken(&L, "truncated after 8", 8, UNSEALED, 0, -1);
	rcpt_test_lines_free(&L);
	lines_copy(&L, &batch_base, 14);
	expect_broken(&L, "truncated after 13", 13, UNSEALED, 1, -1);
	rcpt_test_lines_free(&L);
}

/* Fixture */

static int
setup(void)
{
	uint8_t seed[RCPT_ED25519_SEED_LEN];
	int i, j;

	if (access(RECEIPTCTL, X_OK) != 0) {
		fprintf(stderr, "%s: not built\n", RECEIPTCTL);
		return 1;
	}
	for (i = 0; i < 3; i++) {
		for (j = 0; j < RCPT_ED25519_SEED_LEN; j++)
			seed[j] = (uint8_t)(i * 32 + j + 7);
		if (rcpt_softkey_from_seed(seed, &keys[i]) != RCPT_OK)
			return 1;
		rcpt_softkey_signer(keys[i], &signers[i]);
	}
	return (tmp = rcpt_test_mkdtemp()) == NULL;
}

static int
teardown(void)
{
	int i;

	rcpt_test_lines_free(&batch_base);
	rcpt_test_lines_free(&each_base);
	for (i = 0; i < 3; i++)
		rcpt_softkey_close(keys[i]);
	if (tmp != NULL)
		rcpt_test_rmdir(tmp);
	free(tmp);
	return 0;
}

static CU_TestInfo tamper_tests[] = {
    {"clean chains, pruned unsigned receipt", test_clean},
    {"stripped final seal", test_stripped_final_seal},
    {"stripped middle seal is CLEAN (SPEC 1.2)", test_stripped_middle_seal},
    {"edited unsigned receipt, with and without rehash", test_edited_unsigned},
    {"deleted unsigned receipt", test_deleted_unsigned},
    {"unsigned reserved receipts", test_unsigned_reserved},
    {"unsigned receipt in an each chain", test_each_chain},
    {"seal or batch under a foreign kid", test_foreign_kid},
    {"reordered, duplicated, truncated", test_reordered_duplicated_truncated},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "batch tamper matrix",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = tamper_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	if (rcpt_test_sanitizer_env() != 0)
		return 1;
	return rcpt_test_run(suites);
}
