/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration tests of receiptd (issue 4): a real daemon, started from
 * the built binary on a temporary socket, signing with a throw-away
 * SoftHSM2 token, spoken to over its socket with raw SPEC 9 lines and
 * with the client library.  What it stores is checked with the offline
 * verifier, never with the daemon's own opinion.
 *
 * Suites share one daemon ("main") in order, as a deployment would:
 * the sizes asserted later depend on what earlier tests appended.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/sha.h>

#include "bundle.h"
#include "client.h"
#include "daemonlib.h"
#include "jcs.h"
#include "jwk.h"
#include "proof.h"
#include "receipt.h"
#include "softhsm.h"
#include "testlib.h"
#include "verify.h"

#define OTHER_UID  65533 /* no principal maps it */
#define NOBODY_UID 65534 /* principal "auditor" */
#define THREADS    16
#define PER_THREAD 1000

static struct rcpt_test_token tok;
static int tok_status = -1;
static struct td dm; /* the shared daemon */

static const char body_fmt[] = "[limits]\n"
                               "connections = 2000\n"
                               "batch = 128\n"
                               "\n[principals]\n"
                               "me = uid:%u\n"
                               "auditor = uid:%u\n"
                               "\n[chain main]\n"
                               "append = me\n"
                               "read = me, auditor\n"
                               "admin = me\n"
                               "checkpoint_every = 5000\n"
                               "\n[chain batchy]\n"
                               "sealing = batch\n"
                               "append = me\n"
                               "read = me\n"
                               "admin = me\n"
                               "\n[chain readonly]\n"
                               "append = auditor\n"
                               "read = me, auditor\n";

/* Helpers */

static json_object *
parse(const char *line)
{
	return line != NULL ? json_tokener_parse(line) : NULL;
}

/* The error code of an answer line, or 0 when it is a result. */
static int
err_code(json_object *a)
{
	json_object *e, *c;

	if (a == NULL || !json_object_object_get_ex(a, "error", &e) ||
	    !json_object_object_get_ex(e, "code", &c))
		return 0;
	return json_object_get_int(c);
}

static const char *
err_msg(json_object *a)
{
	json_object *e, *m;

	if (a == NULL || !json_object_object_get_ex(a, "error", &e) ||
	    !json_object_object_get_ex(e, "message", &m))
		return "";
	return json_object_get_string(m);
}

static json_object *
result(json_object *a)
{
	json_object *r = NULL;

	if (a != NULL)
		json_object_object_get_ex(a, "result", &r);
	return r;
}

/* Sends @p line on @p fd and returns the parsed answer. */
static json_object *
call(int fd, const char *line)
{
	char *ans = td_rpc(fd, line);
	json_object *a = parse(ans);

	if (a == NULL)
		fprintf(stderr, "no answer to %.200s: %.300s\n", line,
		    ans != NULL ? ans : "(eof)");
	free(ans);
	return a;
}

static int64_t
member_i(json_object *o, const char *name)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, name, &v))
		return -1;
	return json_object_get_int64(v);
}

static const char *
member_s(json_object *o, const char *name)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The chain's size, by `tip` on a new connection. */
static int64_t
tip_size(const char *chain)
{
	char line[256];
	int fd = td_connect(&dm);
	json_object *a;
	int64_t n;

	snprintf(line, sizeof(line),
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tip\",\"params\":"
	    "{\"chain\":\"%s\"}}",
	    chain);
	a = call(fd, line);
	n = member_i(result(a), "size");
	json_object_put(a);
	close(fd);
	return n;
}

/*
 * Fetches the whole chain with the client library and runs the offline
 * verifier over it.  @return the verifier's result (CLEAN, BROKEN...)
 * and the count and pruned numbers.
 */
static int
verify_chain(const char *chain, uint64_t *count, uint64_t *pruned)
{
	struct rcpt_client *cl = NULL;
	struct rcpt_verify_opts vo = {0};
	struct rcpt_verify_result res;
	struct rcpt_diag d = {0};
	char *lines = NULL;
	size_t len = 0;
	uint64_t from = 0, n = 0;
	char *all = NULL, *grown;
	size_t all_len = 0;
	FILE *f;
	int r;

	memset(&res, 0, sizeof(res));
	if (rcpt_client_connect(dm.sock, &cl, &d) != RCPT_OK)
		return -100;
	for (;;) {
		r = rcpt_client_range(
		    cl, chain, from, 1000, &lines, &len, &n, &d);
		if (r == RCPT_E_NOT_FOUND)
			break; /* past the tip */
		if (r != RCPT_OK) {
			fprintf(stderr, "range: %s\n", rcpt_diag_msg(&d, r));
			rcpt_client_close(cl);
			free(all);
			return -101;
		}
		if ((grown = realloc(all, all_len + len + 1)) == NULL) {
			free(lines);
			free(all);
			rcpt_client_close(cl);
			return -103;
		}
		all = grown;
		memcpy(all + all_len, lines, len);
		all_len += len;
		free(lines);
		lines = NULL;
		from += n;
		if (n == 0)
			break;
	}
	rcpt_client_close(cl);
	f = fmemopen(all, all_len, "r");
	vo.threads = 2;
	rcpt_verify_stream(f, &vo, NULL, &res);
	fclose(f);
	free(all);
	if (res.status != RCPT_VERIFY_CLEAN)
		fprintf(stderr, "verify %s: %s\n", chain, res.reason);
	else if (strcmp(res.chain, chain) != 0)
		return -102;
	*count = res.count;
	*pruned = res.pruned;
	return res.status;
}

/* Start and stop */

static int
suite_init(void)
{
	char body[2048];

	if (tok_status != 0)
		return -1;
	snprintf(body, sizeof(body), body_fmt, (unsigned)getuid(),
	    (unsigned)NOBODY_UID);
	if (td_init(&dm, &tok, 0, 0, body) != 0 || td_start(&dm) != 0)
		return -1;
	return 0;
}

static int
suite_clean(void)
{
	int st = td_stop(&dm);

	td_free(&dm);
	return st == 0 ? 0 : -1;
}

/* Appending */

static const char append_fmt[] =
    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"append\",\"params\":"
    "{\"chain\":\"%s\",\"type\":\"%s\",\"data\":%s%s}}";

static void
test_append_one(void)
{
	char line[1024];
	int fd = td_connect(&dm);
	json_object *a, *r;
	int64_t before = tip_size("main");

	CU_ASSERT_FATAL(fd >= 0);
	snprintf(line, sizeof(line), append_fmt, 7, "main", "ai.inference",
	    "{\"input_sha256\":\"9f2c\",\"decision\":\"decline\"}",
	    ",\"tags\":[\"credit\",\"model:v7\"]");
	a = call(fd, line);
	r = result(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	CU_ASSERT_EQUAL(member_i(a, "id"), 7);
	CU_ASSERT_EQUAL(member_i(r, "seq"), before);
	CU_ASSERT_STRING_EQUAL(member_s(r, "submitter"), "me");
	CU_ASSERT_STRING_EQUAL(member_s(r, "type"), "ai.inference");
	CU_ASSERT_PTR_NOT_NULL(member_s(r, "signature"));
	json_object_put(a);
	CU_ASSERT_EQUAL(tip_size("main"), before + 1);
	close(fd);
}

struct worker {
	int id;
	const char *chain;
	int n; /* appends to make, at most PER_THREAD */
	int failures;
	int unsigned_n; /* receipts acknowledged without signature */
	uint64_t seqs[PER_THREAD];
};

static void *
append_worker(void *arg)
{
	struct worker *w = arg;
	struct rcpt_client *cl = NULL;
	struct rcpt_client_event ev = {0};
	struct rcpt_diag d = {0};
	const char *tags[] = {"load"};
	char data[128], *rec = NULL;
	size_t len;
	json_object *o;
	int i;

	if (rcpt_client_connect(dm.sock, &cl, &d) != RCPT_OK) {
		w->failures = w->n;
		return NULL;
	}
	ev.chain = w->chain;
	ev.type = "soc2.access";
	ev.tags = tags;
	ev.n_tags = 1;
	for (i = 0; i < w->n; i++) {
		snprintf(data, sizeof(data),
		    "{\"worker\":%d,\"i\":%d,\"action\":\"read\"}", w->id, i);
		ev.data = data;
		if (rcpt_client_append(cl, &ev, &rec, &len, &d) != RCPT_OK) {
			if (w->failures++ == 0)
				fprintf(stderr, "append: %s\n", d.msg);
			continue;
		}
		o = json_tokener_parse(rec);
		w->seqs[i] = (uint64_t)member_i(o, "seq");
		w->unsigned_n += member_s(o, "signature") == NULL;
		json_object_put(o);
		free(rec);
		rec = NULL;
	}
	rcpt_client_close(cl);
	return NULL;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * @p clients clients append @p per events each to @p chain at once:
 * each client's seqs grow, all of them are contiguous from the tip
 * before, and the tip grew by as many.  @return receipts acknowledged
 * without signature.
 */
static int
append_crowd(const char *chain, int clients, int per)
{
	static struct worker w[THREADS];
	static uint64_t all[THREADS * PER_THREAD];
	pthread_t th[THREADS];
	int64_t before = tip_size(chain);
	size_t i, j, k = 0;
	int unsigned_n = 0;

	CU_ASSERT_FATAL(before > 0 && clients <= THREADS && per <= PER_THREAD);
	for (i = 0; i < (size_t)clients; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = (int)i;
		w[i].chain = chain;
		w[i].n = per;
		CU_ASSERT_FATAL(
		    pthread_create(&th[i], NULL, append_worker, &w[i]) == 0);
	}
	for (i = 0; i < (size_t)clients; i++)
		pthread_join(th[i], NULL);
	for (i = 0; i < (size_t)clients; i++) {
		CU_ASSERT_EQUAL(w[i].failures, 0);
		unsigned_n += w[i].unsigned_n;
		for (j = 0; j < (size_t)per; j++) {
			/* One client's appends keep their order. */
			if (j > 0)
				CU_ASSERT(w[i].seqs[j] > w[i].seqs[j - 1]);
			all[k++] = w[i].seqs[j];
		}
	}
	qsort(all, k, sizeof(all[0]), cmp_u64);
	for (i = 0; i < k; i++)
		if (all[i] != (uint64_t)before + i) {
			CU_FAIL("acknowledged seqs are not contiguous");
			break;
		}
	CU_ASSERT_EQUAL(tip_size(chain), before + (int64_t)k);
	return unsigned_n;
}

/* 16 clients x 1,000 appends: contiguous seqs, chain CLEAN. */
static void
test_concurrency(void)
{
	int64_t before = tip_size("main");
	uint64_t count = 0, pruned = 0;

	CU_ASSERT_EQUAL(append_crowd("main", THREADS, PER_THREAD), 0);
	CU_ASSERT_EQUAL(
	    verify_chain("main", &count, &pruned), RCPT_VERIFY_CLEAN);
	CU_ASSERT_EQUAL((int64_t)count, before + THREADS * PER_THREAD);
}

/* 200 appends sent before reading any answer, then a read. */
static void
test_pipelining(void)
{
	enum { N = 200 };
	static char buf[N * 256 + 256];
	size_t off = 0;
	int fd = td_connect(&dm), i;
	int64_t before = tip_size("main");
	json_object *a;
	char *ans;

	CU_ASSERT_FATAL(fd >= 0);
	for (i = 0; i < N; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"append\","
		    "\"params\":{\"chain\":\"main\",\"type\":\"agent.tool_"
		    "call\","
		    "\"data\":{\"step\":%d}}}\n",
		    i, i);
	/* A read after them must see them all (requests run in order). */
	off += (size_t)snprintf(buf + off, sizeof(buf) - off,
	    "{\"jsonrpc\":\"2.0\",\"id\":\"last\",\"method\":\"tip\","
	    "\"params\":{\"chain\":\"main\"}}\n");
	CU_ASSERT_FATAL(td_send(fd, buf, off) == 0);
	for (i = 0; i < N; i++) {
		ans = td_recv(fd);
		a = parse(ans);
		free(ans);
		CU_ASSERT_EQUAL(member_i(a, "id"), i);
		CU_ASSERT_EQUAL(member_i(result(a), "seq"), before + i);
		json_object_put(a);
	}
	ans = td_recv(fd);
	a = parse(ans);
	free(ans);
	CU_ASSERT_STRING_EQUAL(member_s(a, "id"), "last");
	CU_ASSERT_EQUAL(member_i(result(a), "size"), before + N);
	json_object_put(a);
	close(fd);
}

/* An RPC batch: one array answer, in order, notifications unanswered. */
static void
test_batch(void)
{
	int fd = td_connect(&dm);
	int64_t before = tip_size("main");
	json_object *a, *e;
	char *ans;

	CU_ASSERT_FATAL(fd >= 0);
	ans = td_rpc(fd,
	    "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"append\",\"params\":"
	    "{\"chain\":\"main\",\"type\":\"t.one\",\"data\":1}},"
	    "{\"jsonrpc\":\"2.0\",\"method\":\"append\",\"params\":"
	    "{\"chain\":\"main\",\"type\":\"t.two\",\"data\":2}},"
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"get\",\"params\":"
	    "{\"chain\":\"main\",\"seq\":0}},"
	    "5,"
	    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tip\",\"params\":"
	    "{\"chain\":\"main\"}}]");
	a = parse(ans);
	free(ans);
	CU_ASSERT_FATAL(a != NULL && json_object_is_type(a, json_type_array));
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(a), 4);
	e = json_object_array_get_idx(a, 0);
	CU_ASSERT_EQUAL(member_i(e, "id"), 1);
	CU_ASSERT_EQUAL(member_i(result(e), "seq"), before);
	e = json_object_array_get_idx(a, 1);
	CU_ASSERT_EQUAL(member_i(e, "id"), 3);
	CU_ASSERT_STRING_EQUAL(member_s(result(e), "type"), "receiptd.genesis");
	e = json_object_array_get_idx(a, 2);
	CU_ASSERT_EQUAL(err_code(e), -32600);
	e = json_object_array_get_idx(a, 3);
	CU_ASSERT_EQUAL(member_i(e, "id"), 4);
	/* The notification ran too, after the first append. */
	CU_ASSERT_EQUAL(member_i(result(e), "size"), before + 2);
	json_object_put(a);
	a = call(fd, "[]");
	CU_ASSERT_EQUAL(err_code(a), -32600);
	json_object_put(a);
	close(fd);
}

/*
 * A batch chain seals the last receipt of each commit: pipelined
 * appends share commits, so some come back unsigned, and the chain
 * still verifies (each is sealed by a later signature).
 */
static void
test_batch_sealing(void)
{
	enum { N = 60 };
	static char buf[N * 200];
	uint64_t count = 0, pruned = 0;
	size_t off = 0;
	int fd = td_connect(&dm), i, unsigned_n = 0;
	int64_t before = tip_size("batchy");
	json_object *a, *last = NULL;
	char *ans;

	CU_ASSERT_FATAL(fd >= 0 && before == 1);
	for (i = 0; i < N; i++) {
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    append_fmt, i, "batchy", "agent.decision", "{\"n\":1}", "");
		buf[off++] = '\n';
	}
	CU_ASSERT_FATAL(td_send(fd, buf, off) == 0);
	for (i = 0; i < N; i++) {
		ans = td_recv(fd);
		a = parse(ans);
		free(ans);
		CU_ASSERT_EQUAL(member_i(result(a), "seq"), before + i);
		unsigned_n += member_s(result(a), "signature") == NULL;
		json_object_put(last);
		last = a;
	}
	/* The tip always carries a signature (SPEC 1.2). */
	CU_ASSERT_PTR_NOT_NULL(member_s(result(last), "signature"));
	json_object_put(last);
	fprintf(stderr, "(%d of %d unsigned) ", unsigned_n, N);
	CU_ASSERT_EQUAL(
	    verify_chain("batchy", &count, &pruned), RCPT_VERIFY_CLEAN);
	CU_ASSERT_EQUAL(count, 1 + N);
	close(fd);
}

/* Runs receiptctl with @p args in the daemon's directory. */
static void
run_cli(struct rcpt_test_proc *p, const char *const *args)
{
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_test_spawn(p, RECEIPTCTL, dm.dir, NULL, args), 0);
}

/* Writes the daemon's JWK Set (`receiptctl keys`) to dir/keys.jwks. */
static char *
keys_file(void)
{
	const char *args[] = {"keys", "--socket", dm.sock, NULL};
	char *path = rcpt_test_join(dm.dir, "keys.jwks");
	struct rcpt_test_proc p;

	CU_ASSERT_PTR_NOT_NULL_FATAL(path);
	run_cli(&p, args);
	CU_ASSERT_EQUAL(p.status, 0);
	CU_ASSERT_EQUAL(rcpt_test_write_file(path, p.out, p.out_len), 0);
	rcpt_test_proc_clear(&p);
	return path;
}

/*
 * A batch chain under 8 concurrent clients (issue 6): commits are
 * shared, so receipts come back unsigned, and `receiptctl verify
 * --chain` finds the chain CLEAN on 1 and 2 threads, pinned or not.
 */
static void
test_batch_concurrency(void)
{
	const char *args[] = {"verify", "--socket", dm.sock, "--chain",
	    "batchy", "--threads", "1", NULL, NULL, NULL};
	struct rcpt_verify_result want = {.status = RCPT_VERIFY_CLEAN};
	struct rcpt_test_proc p;
	char line[256], *keys = keys_file();
	int unsigned_n = append_crowd("batchy", 8, 250), i;

	fprintf(stderr, "(%d of 2000 unsigned) ", unsigned_n);
	CU_ASSERT(unsigned_n > 0);
	want.count = (uint64_t)tip_size("batchy");
	for (i = 0; i < 3; i++) {
		args[6] = i == 0 ? "1" : "2";
		args[7] = i == 2 ? "--trust" : NULL;
		args[8] = i == 2 ? keys : NULL;
		want.pinned = i == 2;
		rcpt_verify_format(&want, line, sizeof(line));
		run_cli(&p, args);
		CU_ASSERT_EQUAL(p.status, 0);
		CU_ASSERT_STRING_EQUAL(p.out, line);
		if (p.status != 0)
			fprintf(stderr, "\n%s%s", p.out, p.err);
		rcpt_test_proc_clear(&p);
	}
	free(keys);
}

/*
 * Writes the inclusion proof @p text to dir/@p name, changed by @p how:
 * 0 not at all, 1 the entry_hash of another receipt (@p other), 2 a
 * byte of a path hash, 3 a character of the note's signature.
 */
static char *
proof_variant(const char *text, int how, const char *name,
    const uint8_t other[RCPT_HASH_LEN])
{
	struct rcpt_inclusion_proof p = {0};
	char *path = rcpt_test_join(dm.dir, name), *out = NULL, *sig;
	size_t len = 0;

	CU_ASSERT_FATAL(path != NULL && rcpt_proof_inclusion_parse(text,
	                                    strlen(text), &p, NULL) == RCPT_OK);
	if (how == 1) /* another receipt's entry_hash */
		memcpy(p.entry_hash, other, RCPT_HASH_LEN);
	else if (how == 2) /* a hash on the path */
		p.path[0][7] ^= 0x10;
	else if (how == 3) { /* a character of the note's signature */
		sig = strrchr(p.checkpoint, ' ');
		CU_ASSERT_FATAL(sig != NULL && strlen(sig) > 40);
		sig[30] = sig[30] == 'A' ? 'B' : 'A';
	}
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_proof_inclusion_serialize(&p, &out, &len, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_test_write_file(path, out, len), 0);
	free(out);
	rcpt_proof_inclusion_clear(&p);
	return path;
}

/* The receipt @p seq of batchy, its entry_hash recomputed from its bytes. */
static char *
get_checked(uint64_t seq, uint8_t eh[RCPT_HASH_LEN], int *is_signed)
{
	struct rcpt_client *cl = NULL;
	struct rcpt_receipt_view vw;
	struct rcpt_buf sv = {0};
	struct rcpt_diag d = {0};
	char *rec = NULL;
	size_t len = 0;

	CU_ASSERT_EQUAL_FATAL(rcpt_client_connect(dm.sock, &cl, &d), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_client_get(cl, "batchy", seq, &rec, &len, &d), RCPT_OK);
	rcpt_client_close(cl);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_receipt_scan(rec, len, 256, &vw, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_view_signed(&vw, &sv), RCPT_OK);
	SHA256((const unsigned char *)sv.p, sv.len, eh);
	rcpt_buf_clear(&sv);
	CU_ASSERT_EQUAL(memcmp(eh, vw.entry_hash_raw, RCPT_HASH_LEN), 0);
	*is_signed = vw.has_signature;
	return rec;
}

/*
 * `verify-proof --receipt`: the receipt's bytes are tied to the proof.
 * The receipt after it, or the receipt with one byte of its data
 * changed, is refused, naming --receipt and the rule.
 */
static void
check_receipt_file(
    const char *keys, const char *proof, const char *rec, uint64_t seq)
{
	const char *check[] = {
	    "verify-proof", "--keys", keys, "--receipt", NULL, NULL, NULL};
	struct rcpt_test_proc p;
	uint8_t eh[RCPT_HASH_LEN];
	char *ppath = rcpt_test_join(dm.dir, "proof.json");
	char *rpath = rcpt_test_join(dm.dir, "receipt.jsonl");
	char *other, *edited, *at, want[160];
	int is_signed = 0, how;

	CU_ASSERT_FATAL(ppath != NULL && rpath != NULL);
	CU_ASSERT_EQUAL(rcpt_test_write_file(ppath, proof, strlen(proof)), 0);
	other = get_checked(seq + 1, eh, &is_signed);
	edited = strdup(rec);
	CU_ASSERT_FATAL(edited != NULL);
	at = strstr(edited, "\"data\":");
	CU_ASSERT_FATAL(at != NULL);
	at += strlen("\"data\":");
	/* A digit of the data, changed into another: still canonical. */
	while (*at != '\0' && !(*at >= '0' && *at <= '8'))
		at++;
	CU_ASSERT_FATAL(*at != '\0');
	(*at)++;
	check[4] = rpath;
	check[5] = ppath;
	for (how = 0; how < 3; how++) {
		const char *line = how == 0 ? rec : how == 1 ? other : edited;

		CU_ASSERT_EQUAL(
		    rcpt_test_write_file(rpath, line, strlen(line)), 0);
		run_cli(&p, check);
		if (how == 0) {
			CU_ASSERT_EQUAL(p.status, 0);
			snprintf(want, sizeof(want),
			    "Receipt: MATCHES (%s is the receipt the proof "
			    "includes)\n",
			    rpath);
			CU_ASSERT_PTR_NOT_NULL(strstr(p.out, "Proof: VALID"));
			CU_ASSERT_PTR_NOT_NULL(strstr(p.out, want));
		} else {
			CU_ASSERT_EQUAL(p.status, 1);
			snprintf(want, sizeof(want),
			    "Proof: INVALID: --receipt %s: ", rpath);
			CU_ASSERT_PTR_NOT_NULL(strstr(p.out, want));
			CU_ASSERT_PTR_NOT_NULL(strstr(
			    p.out, how == 1 ? "is not the proof's seq"
			                    : "data_hash does not match"));
		}
		if (p.status != (how == 0 ? 0 : 1))
			fprintf(
			    stderr, "\n--receipt %d: %s%s", how, p.out, p.err);
		rcpt_test_proc_clear(&p);
	}
	free(other);
	free(edited);
	free(ppath);
	free(rpath);
}

/*
 * An unsigned receipt of a batch chain proven to a third party (SPEC
 * 1.2, 5): `prove --seq` gives an inclusion proof against a fresh
 * checkpoint; `verify-proof` with the chain's keys accepts it; the
 * proof's entry_hash is that of the receipt's bytes.  A proof for
 * another receipt, with a changed path or a forged note is refused.
 */
static void
test_batch_prove(void)
{
	const char *prove[] = {"prove", "--socket", dm.sock, "--chain",
	    "batchy", "--seq", NULL, NULL};
	const char *check[] = {"verify-proof", "--keys", NULL, NULL, NULL};
	struct rcpt_inclusion_proof ip = {0};
	struct rcpt_test_proc p;
	uint8_t eh[RCPT_HASH_LEN], next[RCPT_HASH_LEN];
	char seqs[32], want[128], *keys = keys_file(), *rec, *path, *text;
	int is_signed = 1, how;
	uint64_t seq;

	/* The first unsigned receipt after genesis. */
	for (seq = 1, rec = NULL; is_signed && seq < 200; seq++) {
		free(rec);
		rec = get_checked(seq, eh, &is_signed);
	}
	CU_ASSERT_FATAL(!is_signed);
	seq--;
	free(get_checked(seq + 1, next, &is_signed));
	snprintf(seqs, sizeof(seqs), "%llu", (unsigned long long)seq);
	prove[6] = seqs;
	run_cli(&p, prove);
	CU_ASSERT_EQUAL(p.status, 0);
	snprintf(want, sizeof(want), "proof VALID: inclusion of seq %s ", seqs);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.err, want));
	/* What the third party is handed: the receipt, the proof, keys. */
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_proof_inclusion_parse(p.out, p.out_len, &ip, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(ip.seq, seq);
	CU_ASSERT_EQUAL(memcmp(ip.entry_hash, eh, RCPT_HASH_LEN), 0);
	text = strndup(p.out, p.out_len);
	rcpt_test_proc_clear(&p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	check[2] = keys;
	for (how = 0; how <= 3; how++) {
		path = proof_variant(text, how, "proof.json", next);
		check[3] = path;
		run_cli(&p, check);
		if (how == 0) {
			snprintf(want, sizeof(want),
			    "Proof: VALID (inclusion of seq %s in tree of "
			    "size %llu)\n",
			    seqs, (unsigned long long)ip.tree_size);
			CU_ASSERT_EQUAL(p.status, 0);
			CU_ASSERT_STRING_EQUAL(p.out, want);
		} else {
			CU_ASSERT_EQUAL(p.status, 1);
			CU_ASSERT_PTR_NOT_NULL(strstr(p.out,
			    how < 3 ? "Proof: INVALID: path: does not lead"
			            : "Proof: INVALID: checkpoint: no valid "
			              "signature"));
		}
		if (p.status != (how == 0 ? 0 : 1))
			fprintf(
			    stderr, "\nvariant %d: %s%s", how, p.out, p.err);
		rcpt_test_proc_clear(&p);
		free(path);
	}
	check_receipt_file(keys, text, rec, seq);
	rcpt_proof_inclusion_clear(&ip);
	free(text);
	free(rec);
	free(keys);
}

/* Bad input over the socket: exact code, named field, same connection */

struct bad {
	const char *line;
	int code;
	const char *says; /* in the message */
};

static void
test_bad_input(void)
{
	static const char quiet[] =
	    "{\"jsonrpc\":\"2.0\",\"method\":\"append\",\"params\":"
	    "{\"chain\":\"main\",\"type\":\"t\",\"data\":"
	    "{\"a\":1,\"a\":2}}}\n";
	static char deep[4096];
	static const struct bad cases[] = {
	    {"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":", -32700, "parse"},
	    {"not json", -32700, "parse"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"append\",\"params\":"
	     "{\"chain\":\"main\",\"type\":\"t\",\"data\":{\"a\":1,\"a\":2}}}",
	        -32602, "params.data.a: duplicate member name"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"append\",\"params\":"
	     "{\"chain\":\"main\",\"type\":\"t\",\"data\":{\"n\":"
	     "9007199254740993}}}",
	        -32602, "params.data.n: integer beyond 2^53"},
	    {NULL, -32602, "params.data: nesting deeper than the limit of 64"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"append\",\"params\":"
	     "{\"chain\":\"main\",\"type\":\"receiptd.genesis\",\"data\":1}}",
	        -32602, "params.type: types starting with \"receiptd.\""},
	    {"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"append\",\"params\":"
	     "{\"chain\":\"ReceiptD.X\",\"type\":\"RECEIPTD.x\",\"data\":1}}",
	        -32602, "params.chain: must be a string matching"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"append\",\"params\":"
	     "{\"chain\":\"main\",\"type\":\"RECEIPTD.x\",\"data\":1}}",
	        -32602, "params.type: types starting with"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"append\",\"params\":"
	     "{\"chain\":\"main\",\"type\":\"t\",\"data\":1,\"tags\":["
	     "\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\","
	     "\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",\"17\",\"18\",\"19\","
	     "\"20\",\"21\",\"22\",\"23\",\"24\",\"25\",\"26\",\"27\",\"28\","
	     "\"29\",\"30\",\"31\",\"32\",\"33\"]}}",
	        -32602, "params.tags: more than 32 items"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"append\",\"params\":"
	     "{\"chain\":\"main\",\"type\":\"t\",\"data\":1,"
	     "\"submitter\":\"root\"}}",
	        -32602, "params.submitter: not accepted"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":10,\"method\":\"append\",\"params\":"
	     "{\"chain\":\"main\",\"type\":\"t\",\"data\":1,"
	     "\"tags\":[\"\\u0007\"]}}",
	        -32602, "params.tags[0]"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":11,\"method\":\"nope\"}", -32601,
	        "method"},
	    {"{\"jsonrpc\":\"1.0\",\"id\":12,\"method\":\"tip\"}", -32600,
	        "jsonrpc"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":13,\"method\":\"get\",\"params\":"
	     "{\"chain\":\"nosuch\",\"seq\":0}}",
	        -32005, "params.chain: no such chain"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":14,\"method\":\"get\",\"params\":"
	     "{\"chain\":\"main\",\"seq\":99999999}}",
	        -32005, "params.seq"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":15,\"method\":\"range\",\"params\":"
	     "{\"chain\":\"main\",\"from\":0,\"count\":1001}}",
	        -32602, "params.count"},
	    {"{\"jsonrpc\":\"2.0\",\"id\":16,\"method\":\"get\",\"params\":"
	     "[\"main\",0]}",
	        -32602, "params: must be an object"},
	};
	int fd = td_connect(&dm), i;
	size_t k, off = 0;
	int64_t before = tip_size("main");
	json_object *a;

	CU_ASSERT_FATAL(fd >= 0);
	/* A notification is never answered, even when it breaks a rule. */
	CU_ASSERT(td_send(fd, quiet, strlen(quiet)) == 0);
	a = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":\"after\",\"method\":"
	             "\"tip\",\"params\":{\"chain\":\"main\"}}");
	CU_ASSERT_STRING_EQUAL(member_s(a, "id"), "after");
	json_object_put(a);
	/* A batch of more than 1024 requests is refused whole. */
	off = 0;
	deep[off++] = '[';
	for (i = 0; i < 1025; i++)
		off += (size_t)snprintf(
		    deep + off, sizeof(deep) - off, "%s1", i > 0 ? "," : "");
	memcpy(deep + off, "]", 2);
	a = call(fd, deep);
	CU_ASSERT_EQUAL(err_code(a), -32600);
	CU_ASSERT_PTR_NOT_NULL(strstr(err_msg(a), "more than 1024"));
	json_object_put(a);
	off = (size_t)snprintf(deep, sizeof(deep),
	    "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"append\",\"params\":"
	    "{\"chain\":\"main\",\"type\":\"t\",\"data\":");
	for (i = 0; i < 1000; i++)
		deep[off++] = '[';
	for (i = 0; i < 1000; i++)
		deep[off++] = ']';
	memcpy(deep + off, "}}", 3);
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		a = call(fd, cases[k].line != NULL ? cases[k].line : deep);
		CU_ASSERT_PTR_NOT_NULL_FATAL(a);
		if (err_code(a) != cases[k].code ||
		    strstr(err_msg(a), cases[k].says) == NULL) {
			fprintf(stderr, "\ncase %zu: got %d \"%s\"\n", k,
			    err_code(a), err_msg(a));
			CU_FAIL("wrong error");
		}
		json_object_put(a);
		/* The same connection goes on serving. */
		a = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"tip\","
		             "\"params\":{\"chain\":\"main\"}}");
		CU_ASSERT_EQUAL(member_i(result(a), "size"), before);
		json_object_put(a);
	}
	close(fd);
}

static const char tip_line[] =
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tip\",\"params\":"
    "{\"chain\":\"main\"}}\n";

/* A line over 2 MiB: -32002, then the connection is closed. */
static void
test_frame_cap(void)
{
	/* Exactly one byte over, with no newline: nothing is left unread. */
	size_t n = 2 * 1024 * 1024 + 1;
	char *big = malloc(n + 1), *ans;
	int fd = td_connect(&dm);
	json_object *a;

	CU_ASSERT_FATAL(big != NULL && fd >= 0);
	/* An answer still due comes first, then -32002. */
	CU_ASSERT(td_send(fd, tip_line, strlen(tip_line)) == 0);
	memset(big, ' ', n);
	memcpy(big, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tip\"", 39);
	big[n] = '\0';
	CU_ASSERT_FATAL(td_send(fd, big, n) == 0);
	ans = td_recv(fd);
	a = parse(ans);
	CU_ASSERT(member_i(result(a), "size") > 0);
	json_object_put(a);
	free(ans);
	ans = td_recv(fd);
	a = parse(ans);
	CU_ASSERT_EQUAL(err_code(a), -32002);
	json_object_put(a);
	free(ans);
	CU_ASSERT_PTR_NULL(td_recv(fd)); /* closed */
	close(fd);
	free(big);
	/* Others are unaffected. */
	CU_ASSERT(tip_size("main") > 0);
}

/* Access control */

/*
 * Runs @p line on a new connection as uid/gid @p uid in a child (we
 * are root in CI) and returns: the answer's error code, 1 for a
 * result, or a negative number when the child could not ask.
 */
static int
as_uid(uid_t uid, const char *line, const char *want_msg)
{
	int pfd[2], code = -99, st;
	pid_t pid;
	ssize_t got;

	if (pipe(pfd) != 0)
		return -98;
	if ((pid = fork()) < 0)
		return -97;
	if (pid == 0) {
		int fd, c = -96;
		json_object *a;

		close(pfd[0]);
		if (setgroups(0, NULL) == 0 && setresgid(uid, uid, uid) == 0 &&
		    setresuid(uid, uid, uid) == 0 &&
		    (fd = td_connect(&dm)) >= 0) {
			a = call(fd, line);
			c = a == NULL           ? -95
			    : result(a) != NULL ? 1
			                        : err_code(a);
			if (want_msg != NULL &&
			    strstr(err_msg(a), want_msg) == NULL) {
				fprintf(stderr, "as uid %u: %s\n",
				    (unsigned)uid, err_msg(a));
				c = -94;
			}
			/* An unknown caller gets nothing more: closed. */
			if (c == -32001 && uid == OTHER_UID &&
			    td_recv(fd) != NULL)
				c = -93;
		}
		if (write(pfd[1], &c, sizeof(c)) != (ssize_t)sizeof(c))
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	got = read(pfd[0], &code, sizeof(code));
	close(pfd[0]);
	waitpid(pid, &st, 0);
	return got == (ssize_t)sizeof(code) ? code : -92;
}

/*
 * The same refusal through receiptctl run by setpriv(1) as an unmapped
 * uid: exit 1 and the daemon's "not authorized".  The binary is copied
 * where that uid may run it (the build tree may be private).
 */
static void
setpriv_cli(void)
{
	struct rcpt_test_proc p;
	char *cli = rcpt_test_join(dm.dir, "receiptctl-copy");
	const char *args[] = {"--reuid=65533", "--regid=65533",
	    "--clear-groups", NULL, "tip", "--chain", "main", "--socket", NULL,
	    NULL};

	if (access("/usr/bin/setpriv", X_OK) != 0) {
		fprintf(stderr, "\nsetpriv missing: receiptctl case not run\n");
		free(cli);
		return;
	}
	CU_ASSERT_FATAL(
	    cli != NULL && rcpt_test_copy_file(RECEIPTCTL, cli, 0755) == 0);
	args[3] = cli;
	args[8] = dm.sock;
	CU_ASSERT_FATAL(
	    rcpt_test_spawn(&p, "/usr/bin/setpriv", dm.dir, NULL, args) == 0);
	CU_ASSERT_EQUAL(p.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(p.err, "not authorized"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p.err, "32001"));
	rcpt_test_proc_clear(&p);
	free(cli);
}

static const char tip_main[] =
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tip\",\"params\":"
    "{\"chain\":\"main\"}}";

static void
test_acl(void)
{
	char line[512];
	int fd;
	json_object *a;

	if (geteuid() != 0) {
		/* Said aloud: this case needs root to switch uid. */
		fprintf(
		    stderr, "\nnot root: uid-switching ACL cases not run\n");
	} else {
		CU_ASSERT_EQUAL(
		    as_uid(OTHER_UID, tip_main, "not authorized"), -32001);
		/* The auditor reads main but may not append or administer. */
		CU_ASSERT_EQUAL(as_uid(NOBODY_UID, tip_main, NULL), 1);
		snprintf(
		    line, sizeof(line), append_fmt, 2, "main", "t", "1", "");
		CU_ASSERT_EQUAL(as_uid(NOBODY_UID, line,
		                    "principal auditor may not append to chain "
		                    "main"),
		    -32001);
		CU_ASSERT_EQUAL(as_uid(NOBODY_UID,
		                    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
		                    "\"rotate\",\"params\":{\"chain\":\"main\","
		                    "\"reason\":\"x\"}}",
		                    "may not administer"),
		    -32001);
		CU_ASSERT_EQUAL(as_uid(NOBODY_UID,
		                    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
		                    "\"prune\",\"params\":{\"chain\":\"main\","
		                    "\"before\":\"2000-01-01T00:00:00.000Z\"}}",
		                    "may not administer"),
		    -32001);
		setpriv_cli();
		/* And may append where it is listed. */
		snprintf(line, sizeof(line), append_fmt, 4, "readonly", "t",
		    "1", "");
		CU_ASSERT_EQUAL(as_uid(NOBODY_UID, line, NULL), 1);
	}
	/* "me" may only read chain readonly. */
	fd = td_connect(&dm);
	CU_ASSERT_FATAL(fd >= 0);
	snprintf(line, sizeof(line), append_fmt, 5, "readonly", "t", "1", "");
	a = call(fd, line);
	CU_ASSERT_EQUAL(err_code(a), -32001);
	CU_ASSERT_PTR_NOT_NULL(strstr(err_msg(a), "may not append"));
	json_object_put(a);
	a = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"rotate\","
	             "\"params\":{\"chain\":\"readonly\",\"reason\":\"x\"}}");
	CU_ASSERT_EQUAL(err_code(a), -32001);
	json_object_put(a);
	close(fd);
}

/* Reads, keys, status, proofs, rotation, export */

static void
test_keys_status(void)
{
	int fd = td_connect(&dm);
	json_object *a, *r, *keys;

	CU_ASSERT_FATAL(fd >= 0);
	a = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"keys\"}");
	r = result(a);
	CU_ASSERT_FATAL(
	    r != NULL && json_object_object_get_ex(r, "keys", &keys));
	CU_ASSERT(json_object_array_length(keys) >= 3); /* one per chain */
	json_object_put(a);
	a = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"status\"}");
	r = result(a);
	CU_ASSERT_FATAL(r != NULL);
	CU_ASSERT_TRUE(json_object_get_boolean(
	    json_object_object_get(r, "token_reachable")));
	CU_ASSERT(member_i(r, "map_free") > 0);
	CU_ASSERT_EQUAL(
	    json_object_array_length(json_object_object_get(r, "chains")), 3);
	json_object_put(a);
	close(fd);
}

static struct rcpt_jwks *
fetch_keys(int fd)
{
	struct rcpt_jwks *ks = NULL;
	json_object *a = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":"
	                          "\"keys\"}");
	const char *text = json_object_to_json_string_ext(
	    result(a), JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (rcpt_jwks_parse(text, strlen(text), &ks, NULL) != RCPT_OK)
		ks = NULL;
	json_object_put(a);
	return ks;
}

static void
test_proofs(void)
{
	int fd = td_connect(&dm);
	struct rcpt_jwks *ks;
	struct rcpt_diag d = {0};
	json_object *a, *r;
	const char *t;
	int kind = 0;

	CU_ASSERT_FATAL(fd >= 0);
	ks = fetch_keys(fd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	a = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"checkpoint\","
	             "\"params\":{\"chain\":\"main\"}}");
	CU_ASSERT_PTR_NOT_NULL(strstr(
	    json_object_get_string(result(a)), "example.org/receiptd/main\n"));
	json_object_put(a);
	a = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":"
	             "\"prove_inclusion\",\"params\":{\"chain\":\"main\","
	             "\"seq\":3}}");
	r = result(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	t = json_object_to_json_string_ext(
	    r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	CU_ASSERT_EQUAL(
	    rcpt_proof_verify_text(t, strlen(t), ks, &kind, &d), RCPT_OK);
	json_object_put(a);
	a = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":"
	             "\"prove_consistency\",\"params\":{\"chain\":\"main\","
	             "\"old_size\":1}}");
	r = result(a);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	t = json_object_to_json_string_ext(
	    r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	CU_ASSERT_EQUAL(
	    rcpt_proof_verify_text(t, strlen(t), ks, &kind, &d), RCPT_OK);
	json_object_put(a);
	/* A size no checkpoint was made at. */
	a = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":"
	             "\"prove_consistency\",\"params\":{\"chain\":\"main\","
	             "\"old_size\":2}}");
	CU_ASSERT_EQUAL(err_code(a), -32005);
	json_object_put(a);
	rcpt_jwks_free(ks);
	close(fd);
}

static void
test_rotate_export(void)
{
	int fd = td_connect(&dm);
	struct rcpt_client *cl = NULL;
	struct rcpt_verify_result res;
	struct rcpt_diag d = {0};
	char *path = rcpt_test_join(dm.dir, "main.bundle"), line[512];
	const char *kid0, *kid1;
	json_object *a, *b;
	int64_t size;

	CU_ASSERT_FATAL(fd >= 0 && path != NULL);
	a = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"get\","
	             "\"params\":{\"chain\":\"main\",\"seq\":0}}");
	kid0 = member_s(result(a), "kid");
	b = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"rotate\","
	             "\"params\":{\"chain\":\"main\",\"reason\":\"yearly\","
	             "\"ceremony\":{\"operator\":\"alice\",\"witnesses\":"
	             "[\"bob\"]}}}");
	CU_ASSERT_STRING_EQUAL(
	    member_s(result(b), "type"), "receiptd.key_rotation");
	CU_ASSERT_STRING_EQUAL(member_s(result(b), "submitter"), "me");
	CU_ASSERT_STRING_EQUAL(member_s(result(b), "kid"), kid0);
	json_object_put(b);
	snprintf(line, sizeof(line), append_fmt, 3, "main", "after.rotation",
	    "null", "");
	b = call(fd, line);
	kid1 = member_s(result(b), "kid");
	CU_ASSERT_PTR_NOT_NULL_FATAL(kid1);
	CU_ASSERT_STRING_NOT_EQUAL(kid1, kid0);
	json_object_put(b);
	json_object_put(a);
	size = tip_size("main");
	/* Export the whole chain and verify it offline. */
	CU_ASSERT_EQUAL_FATAL(rcpt_client_connect(dm.sock, &cl, &d), RCPT_OK);
	if (rcpt_client_export(cl, "main", 0, (uint64_t)size - 1, path, &d) !=
	    RCPT_OK) {
		fprintf(stderr, "\nexport: %s\n", d.msg);
		CU_FAIL("export failed");
	}
	rcpt_bundle_verify(path, NULL, 2, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	if (res.status != RCPT_VERIFY_CLEAN)
		fprintf(stderr, "bundle: %s\n", res.reason);
	CU_ASSERT_EQUAL((int64_t)res.count, size);
	rcpt_client_close(cl);
	free(path);
	close(fd);
}

/* Pruning: the receipt still verifies; its bytes are gone from disk. */

static int
file_has(const char *path, const char *needle)
{
	size_t len = 0;
	char *p = rcpt_test_read_file(path, &len);
	int has = p != NULL && memmem(p, len, needle, strlen(needle)) != NULL;

	free(p);
	return has;
}

static void
test_prune(void)
{
	int fd = td_connect(&dm);
	char marker[64], data[128], line[512], *mdb;
	json_object *a;
	int64_t seq;
	uint64_t count = 0, pruned = 0;

	CU_ASSERT_FATAL(fd >= 0);
	snprintf(marker, sizeof(marker), "PRUNE-ME-%ld-%d", (long)time(NULL),
	    (int)getpid());
	snprintf(data, sizeof(data), "{\"patient_note\":\"%s\"}", marker);
	snprintf(line, sizeof(line), append_fmt, 1, "main", "clinical.note",
	    data, "");
	a = call(fd, line);
	seq = member_i(result(a), "seq");
	CU_ASSERT_FATAL(seq > 0);
	json_object_put(a);
	mdb = rcpt_test_join(dm.store, "data.mdb");
	CU_ASSERT_TRUE(file_has(mdb, marker));
	/* Everything up to now: the marker, the load, all but reserved. */
	sleep(1);
	a = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"prune\","
	             "\"params\":{\"chain\":\"main\",\"before\":"
	             "\"2999-01-01T00:00:00.000Z\"}}");
	CU_ASSERT(member_i(result(a), "pruned") >= THREADS * PER_THREAD);
	json_object_put(a);
	snprintf(line, sizeof(line),
	    "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"get\",\"params\":"
	    "{\"chain\":\"main\",\"seq\":%lld}}",
	    (long long)seq);
	a = call(fd, line);
	CU_ASSERT_PTR_NULL(json_object_object_get(result(a), "data"));
	CU_ASSERT_PTR_NOT_NULL(member_s(result(a), "pruned_at"));
	json_object_put(a);
	/* Genesis keeps its data. */
	a = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"get\","
	             "\"params\":{\"chain\":\"main\",\"seq\":0}}");
	CU_ASSERT_PTR_NOT_NULL(json_object_object_get(result(a), "data"));
	json_object_put(a);
	CU_ASSERT_FALSE(file_has(mdb, marker));
	CU_ASSERT_EQUAL(
	    verify_chain("main", &count, &pruned), RCPT_VERIFY_CLEAN);
	CU_ASSERT(pruned >= THREADS * PER_THREAD);
	free(mdb);
	close(fd);
}

/* 1,000 connections at once, each answered; a stalled one holds none. */
static void
test_many_connections(void)
{
	enum { N = 1000 };
	static int fds[N];
	struct rlimit rl;
	int stalled = td_connect(&dm), i, ok = 0;
	json_object *a;
	char *ans;

	CU_ASSERT_FATAL(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	if (rl.rlim_cur < N + 64) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		CU_ASSERT_FATAL(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	}
	CU_ASSERT_FATAL(stalled >= 0);
	/* Half a request, never finished. */
	CU_ASSERT(td_send(stalled, "{\"jsonrpc\":\"2.0\",", 17) == 0);
	for (i = 0; i < N; i++) {
		fds[i] = td_connect(&dm);
		CU_ASSERT_FATAL(fds[i] >= 0);
	}
	for (i = 0; i < N; i++)
		CU_ASSERT(td_send(fds[i], tip_main, strlen(tip_main)) == 0 &&
		          td_send(fds[i], "\n", 1) == 0);
	for (i = 0; i < N; i++) {
		ans = td_recv(fds[i]);
		a = parse(ans);
		ok += member_i(result(a), "size") > 0;
		json_object_put(a);
		free(ans);
		close(fds[i]);
	}
	CU_ASSERT_EQUAL(ok, N);
	close(stalled);
}

/* A client that leaves mid-request: no gap, no fork, all durable. */
static void
test_disconnect(void)
{
	char buf[64 * 256];
	size_t off = 0;
	uint64_t count = 0, pruned = 0;
	int64_t before = tip_size("main"), after;
	int fd = td_connect(&dm), i;

	CU_ASSERT_FATAL(fd >= 0);
	for (i = 0; i < 50; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    append_fmt, i, "main", "gone.soon", "{\"i\":1}", "");
	for (i = 0; i < 50; i++)
		buf[off++] = '\n'; /* blank lines between are parse errors */
	CU_ASSERT(td_send(fd, buf, off) == 0);
	close(fd); /* without reading a single answer */
	usleep(500000);
	after = tip_size("main");
	CU_ASSERT(after >= before && after <= before + 50);
	CU_ASSERT_EQUAL(
	    verify_chain("main", &count, &pruned), RCPT_VERIFY_CLEAN);
	CU_ASSERT_EQUAL((int64_t)count, after);
}

/* After a restart the chain goes on at the right seq. */
static void
test_restart(void)
{
	enum { N = 100 };
	static char buf[N * 256];
	int64_t before = tip_size("main"), acked = 0;
	char line[512], *ans;
	size_t off = 0;
	int fd, i, stopping = 0;
	json_object *a;

	/*
	 * SIGTERM with appends in flight: each is answered, either stored
	 * (then durable) or refused as "stopping" (then not done).
	 */
	fd = td_connect(&dm);
	CU_ASSERT_FATAL(fd >= 0);
	for (i = 0; i < N; i++) {
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    append_fmt, i, "main", "before.stop", "{\"i\":1}", "");
		buf[off++] = '\n';
	}
	CU_ASSERT_FATAL(td_send(fd, buf, off) == 0);
	CU_ASSERT_EQUAL_FATAL(td_stop(&dm), 0);
	for (i = 0; i < N; i++) {
		ans = td_recv(fd);
		a = parse(ans);
		free(ans);
		if (result(a) != NULL) {
			CU_ASSERT_EQUAL(
			    member_i(result(a), "seq"), before + acked);
			acked++;
		} else if (err_code(a) == -32603 &&
		           strstr(err_msg(a), "stopping") != NULL)
			stopping++;
		else {
			CU_FAIL("an append in flight at SIGTERM got no clear "
			        "answer");
		}
		json_object_put(a);
	}
	close(fd);
	fprintf(
	    stderr, "(%lld stored, %d refused) ", (long long)acked, stopping);
	before += acked;
	CU_ASSERT_TRUE(td_log_has(&dm, "SIGTERM"));
	CU_ASSERT_EQUAL_FATAL(td_start(&dm), 0);
	CU_ASSERT_EQUAL(tip_size("main"), before);
	CU_ASSERT_TRUE(td_log_has(&dm, "receipts verified"));
	fd = td_connect(&dm);
	CU_ASSERT_FATAL(fd >= 0);
	snprintf(line, sizeof(line), append_fmt, 1, "main", "after.restart",
	    "true", "");
	a = call(fd, line);
	CU_ASSERT_EQUAL(member_i(result(a), "seq"), before);
	json_object_put(a);
	close(fd);
}

/* SIGHUP: rights reload without dropping connections; bad files refused. */

static int
log_count(const char *needle)
{
	size_t len = 0;
	char *text = rcpt_test_read_file(dm.log, &len), *p;
	int n = 0;

	for (p = text; p != NULL && (p = strstr(p, needle)) != NULL; p++)
		n++;
	free(text);
	return n;
}

/* Writes @p conf, sends SIGHUP and waits until the log says @p needle. */
static int
hup(const char *conf, const char *needle)
{
	int before = log_count(needle), i;

	if (rcpt_test_write_file(dm.conf, conf, strlen(conf)) != 0 ||
	    chmod(dm.conf, 0600) != 0 || kill(dm.pid, SIGHUP) != 0)
		return -1;
	for (i = 0; i < 500; i++) {
		if (log_count(needle) > before)
			return 0;
		usleep(10000);
	}
	return -1;
}

static char *
replaced(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
	char *out = at != NULL ? malloc(n) : NULL;

	if (out != NULL)
		snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to,
		    at + strlen(from));
	return out;
}

static void
test_sighup(void)
{
	static const char reloaded[] = "principals and rights reloaded";
	size_t len = 0;
	char *orig = rcpt_test_read_file(dm.conf, &len), *conf, line[512];
	int fd = td_connect(&dm);
	json_object *a;

	CU_ASSERT_FATAL(orig != NULL && fd >= 0);
	snprintf(line, sizeof(line), append_fmt, 1, "main", "t", "1", "");
	/* "me" loses append on main; its open connection stays. */
	conf = replaced(orig, "[chain main]\nappend = me\n",
	    "[chain main]\nappend = auditor\n");
	CU_ASSERT_FATAL(conf != NULL);
	CU_ASSERT_EQUAL_FATAL(hup(conf, reloaded), 0);
	free(conf);
	a = call(fd, line);
	CU_ASSERT_EQUAL(err_code(a), -32001);
	json_object_put(a);
	if (geteuid() == 0)
		CU_ASSERT_EQUAL(as_uid(NOBODY_UID, line, NULL), 1);
	/* A file that does not load changes nothing. */
	conf = replaced(orig, "[limits]\n", "[limits]\nbogus = 1\n");
	CU_ASSERT_EQUAL(hup(conf, "keeping the current configuration"), 0);
	free(conf);
	a = call(fd, line);
	CU_ASSERT_EQUAL(err_code(a), -32001);
	json_object_put(a);
	/* Nor does one that changes what needs a restart. */
	conf = replaced(orig, "batch = 128\n", "batch = 7\n");
	CU_ASSERT_FATAL(conf != NULL);
	CU_ASSERT_EQUAL(
	    hup(conf, "[limits] changed, which needs a restart"), 0);
	free(conf);
	a = call(fd, line);
	CU_ASSERT_EQUAL(err_code(a), -32001);
	json_object_put(a);
	/* Back to the original: the same connection appends again. */
	CU_ASSERT_EQUAL(hup(orig, reloaded), 0);
	a = call(fd, line);
	CU_ASSERT_PTR_NOT_NULL(result(a));
	json_object_put(a);
	free(orig);
	close(fd);
}

/* Map full: appends get -32004, reads go on. */
static void
test_map_full(void)
{
	static const char body[] =
	    "[principals]\nme = uid:%u\n\n[chain small]\nappend = me\n"
	    "read = me\nadmin = me\n";
	struct td t;
	char conf[512], *big, *ans;
	size_t n = 300 * 1024, off;
	int fd, i, code = 0;
	json_object *a;

	snprintf(conf, sizeof(conf), body, (unsigned)getuid());
	CU_ASSERT_FATAL(td_init(&t, &tok, 1 << 20, 1 << 20, conf) == 0);
	CU_ASSERT_FATAL(td_start(&t) == 0);
	fd = td_connect(&t);
	big = malloc(n + 256);
	CU_ASSERT_FATAL(fd >= 0 && big != NULL);
	off = (size_t)snprintf(big, 256,
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"append\",\"params\":"
	    "{\"chain\":\"small\",\"type\":\"bulk\",\"data\":\"");
	memset(big + off, 'x', n);
	memcpy(big + off + n, "\"}}", 4);
	for (i = 0; i < 10 && code == 0; i++) {
		ans = td_rpc(fd, big);
		a = parse(ans);
		code = err_code(a);
		if (code != 0)
			CU_ASSERT_PTR_NOT_NULL(strstr(err_msg(a), "full"));
		json_object_put(a);
		free(ans);
	}
	CU_ASSERT_EQUAL(code, -32004);
	/* Reads still work, on the same connection. */
	a = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"get\","
	             "\"params\":{\"chain\":\"small\",\"seq\":0}}");
	CU_ASSERT_STRING_EQUAL(member_s(result(a), "type"), "receiptd.genesis");
	json_object_put(a);
	a = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"status\"}");
	CU_ASSERT_PTR_NOT_NULL(result(a));
	json_object_put(a);
	/* And a small append is refused the same way, cleanly. */
	a = call(fd, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tip\","
	             "\"params\":{\"chain\":\"small\"}}");
	CU_ASSERT_EQUAL(member_i(result(a), "size"), i);
	json_object_put(a);
	close(fd);
	free(big);
	CU_ASSERT_EQUAL(td_stop(&t), 0);
	td_free(&t);
}

/*
 * [limits] batch_wait: appends from eight connections, sent one after
 * another, are held for one batch: in a batch chain, one signature
 * seals all eight, on the last of them.
 */
static void
test_batch_wait(void)
{
	static const char body[] =
	    "[limits]\nbatch_wait = 500 ms\n\n[principals]\nme = uid:%u\n\n"
	    "[chain w]\nsealing = batch\nappend = me\nread = me\n";
	static const char req[] =
	    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"append\",\"params\":"
	    "{\"chain\":\"w\",\"type\":\"t\",\"data\":1}}\n";
	struct td t;
	char conf[512], *ans;
	int fd[8], i, n_signed = 0;
	int64_t seq, lo = INT64_MAX, hi = -1, signed_seq = -1;
	json_object *a, *sig;

	snprintf(conf, sizeof(conf), body, (unsigned)getuid());
	CU_ASSERT_FATAL(td_init(&t, &tok, 0, 0, conf) == 0);
	CU_ASSERT_FATAL(td_start(&t) == 0);
	for (i = 0; i < 8; i++) {
		fd[i] = td_connect(&t);
		CU_ASSERT_FATAL(fd[i] >= 0);
	}
	for (i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(td_send(fd[i], req, strlen(req)), 0);
	for (i = 0; i < 8; i++) {
		ans = td_recv(fd[i]);
		a = parse(ans);
		seq = member_i(result(a), "seq");
		lo = seq < lo ? seq : lo;
		hi = seq > hi ? seq : hi;
		if (json_object_object_get_ex(result(a), "signature", &sig)) {
			n_signed++;
			signed_seq = seq;
		}
		json_object_put(a);
		free(ans);
		close(fd[i]);
	}
	CU_ASSERT_EQUAL(lo, 1);
	CU_ASSERT_EQUAL(hi, 8);
	CU_ASSERT_EQUAL(n_signed, 1);
	CU_ASSERT_EQUAL(signed_seq, 8);
	CU_ASSERT_EQUAL(td_stop(&t), 0);
	td_free(&t);
}

static CU_TestInfo daemon_tests[] = {
    {"append one event", test_append_one},
    {"pipelined appends and a read", test_pipelining},
    {"RPC batches", test_batch},
    {"batch sealing", test_batch_sealing},
    {"batch chain: 8 clients, receiptctl verify --chain",
        test_batch_concurrency},
    {"batch chain: unsigned receipt proven to a third party", test_batch_prove},
    {"bad input over the socket", test_bad_input},
    {"frame over 2 MiB", test_frame_cap},
    {"access control", test_acl},
    {"keys and status", test_keys_status},
    {"proofs", test_proofs},
    {"16 clients x 1000 appends", test_concurrency},
    {"rotate, then export a bundle", test_rotate_export},
    {"1000 connections, one stalled", test_many_connections},
    {"client leaves mid-request", test_disconnect},
    {"restart", test_restart},
    {"SIGHUP reloads rights", test_sighup},
    {"prune", test_prune},
    {"map full", test_map_full},
    {"batch_wait holds appends for one batch", test_batch_wait},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"receiptd", suite_init, suite_clean, NULL, NULL, daemon_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (rcpt_test_sanitizer_env() != 0)
		return 1;
	return rcpt_test_token_main(
	    suites, 0, "receiptd-daemon", &tok, &tok_status);
}
