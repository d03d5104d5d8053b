/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of libreceiptclient (client.h) and of receiptctl's online
 * commands against a fake daemon: a thread that accepts on a temporary
 * Unix socket, reads request lines and answers them as each test says.
 * The chain it serves is real, signed with a software key, so exports
 * and fetched chains are checked with the offline verifier.
 *
 * The fake daemon allocates only with malloc and json-c, never through
 * mem.h, so that the out-of-memory test can fail the client's own
 * allocations while the server keeps working.  receiptctl is run from
 * the build tree (make check runs tests from the top build directory).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bundle.h"
#include "checkpoint.h"
#include "client.h"
#include "encode.h"
#include "jcs.h"
#include "jwk.h"
#include "mem.h"
#include "merkle.h"
#include "proof.h"
#include "receipt.h"
#include "softkey.h"
#include "testlib.h"
#include "verify.h"

#ifndef RECEIPTCTL
#define RECEIPTCTL "src/receiptctl"
#endif

#define NREC      1201 /* two range pages */
#define CHAIN     "demo"
#define ORIGIN    "example.org/log"
#define BIG_SEQ   7 /* its data holds 1e20, which JCS prints as digits */
#define LINE_MAX_ RCPT_CLIENT_LINE_MAX

/* The chain the fake daemon serves; built once, read-only afterwards. */
static struct {
	struct rcpt_softkey *key;
	struct rcpt_signer s;
	char *lines[NREC]; /* JCS, no "\n" */
	uint8_t eh[NREC][RCPT_HASH_LEN];
	char ts[NREC][RCPT_TS_LEN + 1];
	char *keys; /* keys.jwks.json */
	size_t keys_len;
	struct rcpt_jwks_key trust_key;
	struct rcpt_jwks trust;
	char *note; /* checkpoint of all NREC */
} fx;

/* Checkpoint of the first @p n receipts; caller frees. */
static char *
note_of(uint64_t n)
{
	struct rcpt_merkle_acc acc = {0};
	uint8_t leaf[RCPT_HASH_LEN], root[RCPT_HASH_LEN];
	char *note = NULL;

	for (uint64_t i = 0; i < n; i++) {
		rcpt_merkle_leaf_hash(fx.eh[i], leaf);
		rcpt_merkle_acc_push(&acc, leaf);
	}
	rcpt_merkle_acc_root(&acc, root);
	if (rcpt_checkpoint_sign(ORIGIN, CHAIN, n, root, &fx.s, &note) !=
	    RCPT_OK)
		return NULL;
	return note;
}

static json_object *
event_data(int i)
{
	json_object *d = json_object_new_object(), *jwk = NULL;

	if (i > 0) {
		json_object_object_add(d, "i", json_object_new_int(i));
		if (i == BIG_SEQ) /* adds take their values */
			json_object_object_add(
			    d, "big", json_object_new_double(1e20));
		return d;
	}
	if (rcpt_jwk_from_public(fx.s.pub, &jwk) != RCPT_OK)
		return NULL;
	json_object_object_add(d, "chain", json_object_new_string(CHAIN));
	json_object_object_add(d, "origin", json_object_new_string(ORIGIN));
	json_object_object_add(d, "key", jwk);
	json_object_object_add(d, "sealing", json_object_new_string("each"));
	return d;
}

static int
fx_build(void)
{
	uint8_t seed[RCPT_ED25519_SEED_LEN];
	struct rcpt_receipt_fields rf;
	struct rcpt_receipt r;
	struct rcpt_diag d = {0};
	json_object *data;
	size_t len;
	int i, ok = 1;

	memset(seed, 0x42, sizeof(seed));
	if (rcpt_softkey_from_seed(seed, &fx.key) != RCPT_OK)
		return -1;
	rcpt_softkey_signer(fx.key, &fx.s);
	for (i = 0; ok && i < NREC; i++) {
		/* Two receipts a second: equal ts values for --since. */
		snprintf(fx.ts[i], sizeof(fx.ts[i]),
		    "2024-05-06T07:%02d:%02d.000Z", i / 2 / 60, i / 2 % 60);
		memset(&rf, 0, sizeof(rf));
		rf.chain = CHAIN;
		rf.seq = (uint64_t)i;
		rf.ts = fx.ts[i];
		rf.type = i == 0 ? "receiptd.genesis" : "test.event";
		rf.submitter = i == 0 ? "receiptd" : "alice";
		rf.prev_hash = i == 0 ? NULL : fx.eh[i - 1];
		rf.kid = fx.s.kid;
		data = event_data(i);
		rf.data = data;
		rcpt_receipt_init(&r);
		ok = data != NULL &&
		     rcpt_receipt_build(&rf, &r, &d) == RCPT_OK &&
		     rcpt_receipt_sign(&r, &fx.s) == RCPT_OK &&
		     rcpt_receipt_serialize(&r, &fx.lines[i], &len) == RCPT_OK;
		memcpy(fx.eh[i], r.entry_hash, RCPT_HASH_LEN);
		rcpt_receipt_clear(&r);
		json_object_put(data);
	}
	memcpy(fx.trust_key.kid, fx.s.kid, sizeof(fx.trust_key.kid));
	memcpy(fx.trust_key.pub, fx.s.pub, sizeof(fx.trust_key.pub));
	snprintf(fx.trust_key.chain, sizeof(fx.trust_key.chain), CHAIN);
	fx.trust_key.status = RCPT_KEY_ACTIVE;
	snprintf(
	    fx.trust_key.created, sizeof(fx.trust_key.created), "%s", fx.ts[0]);
	fx.trust.keys = &fx.trust_key;
	fx.trust.n = 1;
	if (!ok ||
	    rcpt_jwks_serialize(&fx.trust, &fx.keys, &fx.keys_len) != RCPT_OK ||
	    (fx.note = note_of(NREC)) == NULL)
		return -1;
	return 0;
}

static void
fx_free(void)
{
	for (int i = 0; i < NREC; i++)
		free(fx.lines[i]);
	free(fx.keys);
	free(fx.note);
	rcpt_softkey_close(fx.key);
}

/* Text helpers for the fake daemon: malloc only (see above). */

struct sbuf {
	char *p;
	size_t len, cap;
};

static void
sb_add(struct sbuf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *q = realloc(b->p, cap);

		if (q == NULL)
			abort(); /* the test harness, not the library */
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_fmt(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_fmt(struct sbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(b, tmp,
		    (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* @p s as a JSON string literal. */
static void
sb_json_str(struct sbuf *b, const char *s)
{
	json_object *o = json_object_new_string(s);

	sb_str(b, json_object_to_json_string_ext(o,
	              JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* The fake daemon */

struct fake;

/* Answers one request; returns 0 to go on, 1 to close the connection. */
typedef int (*fake_fn)(
    struct fake *f, int fd, json_object *req, const char *line);

struct fake {
	char *dir;
	char path[108];
	int lfd;
	pthread_t th;
	pthread_mutex_t mu;
	bool stop;
	fake_fn fn;
	/* Knobs, set before a client connects. */
	const char *deny;    /* method answered -32001 */
	int tamper_seq;      /* range serves this receipt changed; -1 none */
	uint64_t split_over; /* range answers -32002 above this count */
	const char *keys;    /* export answers these keys instead */
	bool bad_proof;      /* proofs come with a broken path */
	const char *script;  /* fake_script: the answer, %lld for the id */
	const char *raw;     /* fake_raw: sent as is */
	bool raw_close;      /* fake_raw: then close the connection */
	/* Records, under mu. */
	int requests;
	char *last; /* the last request line */
	int nranges;
	uint64_t rfrom[64], rcount[64];
};

static int
put(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static long long
req_id(json_object *req)
{
	json_object *v;

	return json_object_object_get_ex(req, "id", &v)
	           ? (long long)json_object_get_int64(v)
	           : -1;
}

static const char *
req_method(json_object *req)
{
	json_object *v;

	return json_object_object_get_ex(req, "method", &v)
	           ? json_object_get_string(v)
	           : "";
}

static bool
param_u64(json_object *req, const char *name, uint64_t *out)
{
	json_object *p, *v;

	if (!json_object_object_get_ex(req, "params", &p) ||
	    !json_object_object_get_ex(p, name, &v))
		return false;
	*out = (uint64_t)json_object_get_int64(v);
	return true;
}

/* Sends {"id","jsonrpc","result":RESULT} and a newline. */
static int
answer(int fd, json_object *req, const char *result)
{
	struct sbuf b = {0};
	int r;

	sb_fmt(&b, "{\"id\":%lld,\"jsonrpc\":\"2.0\",\"result\":", req_id(req));
	sb_str(&b, result);
	sb_str(&b, "}\n");
	r = put(fd, b.p, b.len);
	free(b.p);
	return r == 0 ? 0 : 1;
}

static int
answer_error(int fd, json_object *req, int code, const char *msg)
{
	struct sbuf b = {0};
	int r;

	sb_fmt(&b, "{\"error\":{\"code\":%d,\"message\":", code);
	sb_json_str(&b, msg);
	sb_fmt(&b, "},\"id\":%lld,\"jsonrpc\":\"2.0\"}\n", req_id(req));
	r = put(fd, b.p, b.len);
	free(b.p);
	return r == 0 ? 0 : 1;
}

static void
fake_conn(struct fake *f, int fd)
{
	struct sbuf in = {0};
	char buf[65536], *nl, *line;
	json_object *req;
	size_t off = 0;
	ssize_t n;
	int done = 0;

	while (!done) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sb_add(&in, buf, (size_t)n);
		while (!done &&
		       (nl = memchr(in.p + off, '\n', in.len - off)) != NULL) {
			*nl = '\0';
			line = in.p + off;
			off = (size_t)(nl - in.p) + 1;
			req = json_tokener_parse(line);
			pthread_mutex_lock(&f->mu);
			f->requests++;
			free(f->last);
			f->last = strdup(line);
			pthread_mutex_unlock(&f->mu);
			done = f->fn(f, fd, req, line);
			json_object_put(req);
		}
	}
	free(in.p);
}

static bool
stopping(struct fake *f)
{
	bool stop;

	pthread_mutex_lock(&f->mu);
	stop = f->stop;
	pthread_mutex_unlock(&f->mu);
	return stop;
}

static void *
fake_main(void *arg)
{
	struct fake *f = arg;
	int fd;

	for (;;) {
		fd = accept(f->lfd, NULL, NULL);
		if (fd == -1 && errno == EINTR)
			continue;
		if (fd == -1)
			break;
		if (stopping(f)) {
			close(fd);
			break;
		}
		fake_conn(f, fd);
		close(fd);
	}
	return NULL;
}

static void
fake_start(struct fake *f, fake_fn fn)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(f, 0, sizeof(*f));
	f->fn = fn;
	f->tamper_seq = -1;
	CU_ASSERT_FATAL((f->dir = rcpt_test_mkdtemp()) != NULL);
	CU_ASSERT_FATAL(strlen(f->dir) + 12 < sizeof(f->path));
	snprintf(f->path, sizeof(f->path), "%s/fake.sock", f->dir);
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	CU_ASSERT_FATAL(pthread_mutex_init(&f->mu, NULL) == 0);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT_FATAL(f->lfd != -1);
	CU_ASSERT_FATAL(bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CU_ASSERT_FATAL(listen(f->lfd, 8) == 0);
	CU_ASSERT_FATAL(pthread_create(&f->th, NULL, fake_main, f) == 0);
}

/* Stops the server (a connection wakes its accept) and cleans up. */
static void
fake_stop(struct fake *f)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_mutex_unlock(&f->mu);
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CU_ASSERT(
	    fd != -1 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CU_ASSERT(pthread_join(f->th, NULL) == 0);
	if (fd != -1)
		close(fd);
	close(f->lfd);
	pthread_mutex_destroy(&f->mu);
	free(f->last);
	rcpt_test_rmdir(f->dir);
	free(f->dir);
}

static int
requests(struct fake *f)
{
	int n;

	pthread_mutex_lock(&f->mu);
	n = f->requests;
	pthread_mutex_unlock(&f->mu);
	return n;
}

/* 1 when the last request line holds @p s. */
static int
last_has(struct fake *f, const char *s)
{
	int has;

	pthread_mutex_lock(&f->mu);
	has = f->last != NULL && strstr(f->last, s) != NULL;
	if (!has)
		fprintf(stderr, "\nlast request %s lacks %s\n",
		    f->last != NULL ? f->last : "(none)", s);
	pthread_mutex_unlock(&f->mu);
	return has;
}

/* Handlers */

/* Answers every request with f->script, its %lld the request id. */
static int
fake_script(struct fake *f, int fd, json_object *req, const char *line)
{
	struct sbuf b = {0};
	int r;

	(void)line;
	/* The scripts are the test's own formats. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	sb_fmt(&b, f->script, req_id(req));
#pragma GCC diagnostic pop
	sb_str(&b, "\n");
	r = put(fd, b.p, b.len);
	free(b.p);
	return r == 0 ? 0 : 1;
}

/* Sends f->raw as it is, then closes if f->raw_close says so. */
static int
fake_raw(struct fake *f, int fd, json_object *req, const char *line)
{
	(void)req;
	(void)line;
	if (put(fd, f->raw, strlen(f->raw)) != 0)
		return 1;
	return f->raw_close ? 1 : 0;
}

/* Receipts @p from to @p from + @p n - 1 as a JSON array. */
static void
sb_receipts(struct fake *f, struct sbuf *b, uint64_t from, uint64_t n)
{
	sb_str(b, "[");
	for (uint64_t i = from; i < from + n; i++) {
		if (i > from)
			sb_str(b, ",");
		if ((int)i == f->tamper_seq) {
			/* Same shape, other data: still JSON, wrong hash. */
			const char *p = strstr(fx.lines[i], "\"i\":");

			sb_add(b, fx.lines[i], (size_t)(p - fx.lines[i]));
			sb_str(b, "\"i\":-1");
			sb_str(b, strchr(p, '}'));
		} else
			sb_str(b, fx.lines[i]);
	}
	sb_str(b, "]");
}

static int
serve_range(struct fake *f, int fd, json_object *req)
{
	struct sbuf b = {0};
	uint64_t from = 0, count = 0;
	int r;

	(void)param_u64(req, "from", &from);
	(void)param_u64(req, "count", &count);
	pthread_mutex_lock(&f->mu);
	if (f->nranges < 64) {
		f->rfrom[f->nranges] = from;
		f->rcount[f->nranges++] = count;
	}
	pthread_mutex_unlock(&f->mu);
	if (from >= NREC)
		return answer_error(fd, req, -32005, "range: no such seq");
	if (f->split_over > 0 && count > f->split_over)
		return answer_error(fd, req, -32002, "range: answer too large");
	if (count > NREC - from)
		count = NREC - from;
	sb_receipts(f, &b, from, count);
	r = answer(fd, req, b.p);
	free(b.p);
	return r;
}

static int
leaf(void *ctx, uint64_t index, uint8_t out[RCPT_HASH_LEN])
{
	(void)ctx;
	if (index >= NREC)
		return RCPT_E_INVAL;
	rcpt_merkle_leaf_hash(fx.eh[index], out);
	return RCPT_OK;
}

/* The inclusion proof of @p seq in the tree of @p n; caller frees. */
static char *
inclusion(uint64_t seq, uint64_t n, bool flip)
{
	struct rcpt_inclusion_proof p = {0};
	char *note = note_of(n), *text = NULL;
	size_t len = 0;

	if (note != NULL && rcpt_proof_inclusion_build(leaf, NULL, CHAIN, seq,
	                        fx.eh[seq], note, &p, NULL) == RCPT_OK) {
		if (flip)
			p.path[0][0] ^= 1;
		if (rcpt_proof_inclusion_serialize(&p, &text, &len, NULL) !=
		    RCPT_OK)
			text = NULL;
	}
	rcpt_proof_inclusion_clear(&p);
	free(note);
	return text;
}

static char *
consistency(uint64_t m, uint64_t n)
{
	struct rcpt_consistency_proof p = {0};
	char *old = note_of(m), *cur = note_of(n), *text = NULL;
	size_t len = 0;

	if (old != NULL && cur != NULL &&
	    rcpt_proof_consistency_build(
	        leaf, NULL, CHAIN, old, cur, &p, NULL) == RCPT_OK &&
	    rcpt_proof_consistency_serialize(&p, &text, &len, NULL) != RCPT_OK)
		text = NULL;
	rcpt_proof_consistency_clear(&p);
	free(old);
	free(cur);
	return text;
}

/* What the daemon's export answers for receipts @p a to @p b. */
static int
serve_export(struct fake *f, int fd, json_object *req)
{
	struct rcpt_bundle_parts parts = {0};
	struct sbuf rec = {0}, b = {0};
	char sig[RCPT_BUNDLE_SIG_TEXT_LEN + 1], *manifest = NULL;
	char *proof = NULL;
	size_t len = 0;
	uint64_t a = 0, z = 0;
	int r;

	(void)param_u64(req, "from", &a);
	(void)param_u64(req, "to", &z);
	if (a > z || z >= NREC)
		return answer_error(fd, req, -32602, "to: out of range");
	for (uint64_t i = a; i <= z; i++) {
		sb_str(&rec, fx.lines[i]);
		sb_str(&rec, "\n");
	}
	if (rcpt_bundle_needs_proofs(a, z, NREC)) {
		char *one = inclusion(z, NREC, false);
		struct sbuf pb = {0};

		if (one != NULL) {
			sb_str(&pb, one);
			sb_str(&pb, "\n");
			proof = pb.p;
		}
		free(one);
	}
	parts.chain = CHAIN;
	parts.first_seq = a;
	parts.last_seq = z;
	parts.created = "2024-06-01T00:00:00.000Z";
	parts.receipts = rec.p;
	parts.receipts_len = rec.len;
	parts.keys = fx.keys;
	parts.keys_len = fx.keys_len;
	parts.checkpoint = fx.note;
	parts.checkpoint_len = strlen(fx.note);
	parts.proofs = proof;
	parts.proofs_len = proof != NULL ? strlen(proof) : 0;
	if (rcpt_bundle_manifest(&parts, &fx.s, &manifest, &len, sig, NULL) !=
	    RCPT_OK) {
		r = answer_error(fd, req, -32603, "manifest failed");
		goto out;
	}
	sig[RCPT_BUNDLE_SIG_TEXT_LEN - 1] = '\0';
	sb_str(&b, "{\"checkpoint\":");
	sb_json_str(&b, fx.note);
	sb_str(&b, ",\"keys\":");
	sb_json_str(&b, f->keys != NULL ? f->keys : fx.keys);
	sb_str(&b, ",\"manifest\":");
	sb_str(&b, manifest);
	sb_fmt(&b, ",\"manifest_sig\":\"%s\",\"proofs\":", sig);
	if (proof != NULL)
		sb_json_str(&b, proof);
	else
		sb_str(&b, "null");
	sb_str(&b, "}");
	r = answer(fd, req, b.p);
out:
	free(manifest);
	free(proof);
	free(rec.p);
	free(b.p);
	return r;
}

static int
serve_proof(struct fake *f, int fd, json_object *req, bool incl)
{
	uint64_t a = 0, n = NREC;
	char *text;
	int r;

	if (incl) {
		(void)param_u64(req, "seq", &a);
		(void)param_u64(req, "tree_size", &n);
		text =
		    a < n && n <= NREC ? inclusion(a, n, f->bad_proof) : NULL;
	} else {
		(void)param_u64(req, "old_size", &a);
		(void)param_u64(req, "new_size", &n);
		text = a >= 1 && a <= n && n <= NREC ? consistency(a, n) : NULL;
	}
	if (text == NULL)
		return answer_error(fd, req, -32602, "size: out of range");
	r = answer(fd, req, text);
	free(text);
	return r;
}

/* A daemon serving fx, with the knobs of struct fake. */
static int
fake_chain(struct fake *f, int fd, json_object *req, const char *line)
{
	const char *m = req_method(req);
	struct sbuf b = {0};
	char hex[2 * RCPT_HASH_LEN + 1];
	uint64_t seq = 0;
	int r;

	(void)line;
	if (f->deny != NULL && strcmp(m, f->deny) == 0)
		return answer_error(fd, req, -32001,
		    "principal bob may not use " CHAIN "\n\x1b[2J");
	if (strcmp(m, "range") == 0)
		return serve_range(f, fd, req);
	if (strcmp(m, "export") == 0)
		return serve_export(f, fd, req);
	if (strcmp(m, "prove_inclusion") == 0)
		return serve_proof(f, fd, req, true);
	if (strcmp(m, "prove_consistency") == 0)
		return serve_proof(f, fd, req, false);
	if (strcmp(m, "get") == 0) {
		if (!param_u64(req, "seq", &seq) || seq >= NREC)
			return answer_error(
			    fd, req, -32005, "get: no such seq");
		return answer(fd, req, fx.lines[seq]);
	}
	if (strcmp(m, "append") == 0)
		return answer(fd, req, fx.lines[3]);
	if (strcmp(m, "rotate") == 0 || strcmp(m, "revoke") == 0)
		return answer(fd, req, fx.lines[5]);
	if (strcmp(m, "prune") == 0)
		return answer(fd, req, "{\"pruned\":3}");
	if (strcmp(m, "keys") == 0)
		return answer(fd, req, fx.keys);
	/* Not JCS on purpose: the client hands out JCS. */
	if (strcmp(m, "status") == 0)
		return answer(fd, req,
		    "{\"token\":\"ok\",\"chains\":{\"demo\":"
		    "{\"size\":1201}}}");
	if (strcmp(m, "tip") == 0) {
		rcpt_hex_encode(fx.eh[NREC - 1], RCPT_HASH_LEN, hex);
		sb_fmt(&b, "{\"entry_hash\":\"%s\",\"size\":%d}", hex, NREC);
	} else if (strcmp(m, "checkpoint") == 0)
		sb_json_str(&b, fx.note);
	else
		return answer_error(fd, req, -32601, "unknown method");
	r = answer(fd, req, b.p);
	free(b.p);
	return r;
}

/* Library tests */

static struct rcpt_client *
connect_to(struct fake *f)
{
	struct rcpt_client *c = NULL;
	struct rcpt_diag d = {0};

	CU_ASSERT_FATAL(rcpt_client_connect(f->path, &c, &d) == RCPT_OK);
	return c;
}

static char *
lines_of(uint64_t from, uint64_t n)
{
	struct sbuf b = {0};

	for (uint64_t i = from; i < from + n; i++) {
		sb_str(&b, fx.lines[i]);
		sb_str(&b, "\n");
	}
	return b.p;
}

static void
test_connect(void)
{
	struct rcpt_client *c = NULL;
	struct rcpt_diag d = {0};
	struct fake f;
	char *missing, longp[200];

	fake_start(&f, fake_chain);
	missing = rcpt_test_join(f.dir, "nosuch.sock");
	CU_ASSERT_FATAL(missing != NULL);
	CU_ASSERT_EQUAL(rcpt_client_connect(missing, &c, &d), RCPT_E_IO);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "cannot connect"));
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	CU_ASSERT_EQUAL(rcpt_client_connect(longp, &c, NULL), RCPT_E_INVAL);
	/* NULL: $RECEIPTD_SOCKET. */
	CU_ASSERT_FATAL(setenv("RECEIPTD_SOCKET", missing, 1) == 0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_client_connect(NULL, &c, &d), RCPT_E_IO);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "nosuch.sock"));
	CU_ASSERT_FATAL(setenv("RECEIPTD_SOCKET", f.path, 1) == 0);
	CU_ASSERT_EQUAL(rcpt_client_connect(NULL, &c, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(unsetenv("RECEIPTD_SOCKET"), 0);
	CU_ASSERT_EQUAL(rcpt_client_pending(c), 0);
	CU_ASSERT_EQUAL(rcpt_client_last_rpc_code(c), 0);
	rcpt_client_close(c);
	rcpt_client_close(NULL);
	free(missing);
	fake_stop(&f);
}

static void
test_append_sync(void)
{
	static const char *const tags[] = {"x", "y"};
	struct rcpt_client_event ev = {
	    .chain = CHAIN,
	    .type = "t.x",
	    .data = "{\"b\": 1.0, \"a\": [1e2]}",
	    .tags = tags,
	    .n_tags = 2,
	};
	struct rcpt_diag d = {0};
	struct rcpt_client *c;
	struct fake f;
	char *text = NULL;
	size_t len = 0;

	fake_start(&f, fake_chain);
	c = connect_to(&f);
	CU_ASSERT_EQUAL(rcpt_client_append(c, &ev, &text, &len, &d), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(text, fx.lines[3]);
	CU_ASSERT_EQUAL(len, strlen(fx.lines[3]));
	free(text);
	/* The request itself is JCS, data canonicalized. */
	CU_ASSERT(last_has(&f,
	    "{\"id\":1,\"jsonrpc\":\"2.0\",\"method\":\"append\",\"params\":"
	    "{\"chain\":\"demo\",\"data\":{\"a\":[100],\"b\":1},"
	    "\"tags\":[\"x\",\"y\"],\"type\":\"t.x\"}}"));
	ev.data = NULL;
	ev.tags = NULL;
	ev.n_tags = 0;
	CU_ASSERT_EQUAL(rcpt_client_append(c, &ev, &text, NULL, &d), RCPT_OK);
	free(text);
	CU_ASSERT(last_has(&f, "\"id\":2,"));
	CU_ASSERT(last_has(&f, "{\"chain\":\"demo\",\"data\":null,\"type\":"
	                       "\"t.x\"}"));
	/* Any method: the result comes back as JCS. */
	CU_ASSERT_EQUAL(
	    rcpt_client_call(c, "status", NULL, &text, &len, &d), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(
	    text, "{\"chains\":{\"demo\":{\"size\":1201}},\"token\":\"ok\"}");
	free(text);
	CU_ASSERT(last_has(&f, "\"method\":\"status\"}"));
	CU_ASSERT_EQUAL(rcpt_client_last_rpc_code(c), 0);
	rcpt_client_close(c);
	fake_stop(&f);
}

static void
test_rpc_error(void)
{
	struct rcpt_client_event ev = {
	    .chain = CHAIN, .type = "t", .data = "1"};
	struct rcpt_diag d = {0};
	struct rcpt_client *c;
	struct fake f;
	char *text = (char *)"x";

	fake_start(&f, fake_chain);
	f.deny = "append";
	c = connect_to(&f);
	CU_ASSERT_EQUAL(
	    rcpt_client_append(c, &ev, &text, NULL, &d), RCPT_E_DENIED);
	CU_ASSERT_PTR_NULL(text);
	/* The daemon's message, its control characters defused. */
	CU_ASSERT_STRING_EQUAL(d.msg, "principal bob may not use demo??[2J");
	CU_ASSERT_EQUAL(rcpt_client_last_rpc_code(c), -32001);
	/* The connection stays usable. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_client_get(c, CHAIN, 2, &text, NULL, &d), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(text, fx.lines[2]);
	free(text);
	CU_ASSERT_EQUAL(rcpt_client_last_rpc_code(c), 0);
	CU_ASSERT_EQUAL(
	    rcpt_client_get(c, CHAIN, 5000, &text, NULL, &d), RCPT_E_NOT_FOUND);
	CU_ASSERT_EQUAL(rcpt_client_last_rpc_code(c), -32005);
	CU_ASSERT_EQUAL(
	    rcpt_client_call(c, "frob", NULL, &text, NULL, NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_client_last_rpc_code(c), -32601);
	rcpt_client_close(c);
	fake_stop(&f);
}

static void
test_pipelined(void)
{
	struct rcpt_client_event ev = {
	    .chain = CHAIN, .type = "t", .data = "1"};
	struct rcpt_diag d = {0};
	struct rcpt_client *c;
	struct fake f;
	uint64_t ids[4], id = 0;
	char *text = NULL;
	int r;

	fake_start(&f, fake_chain);
	f.deny = "keys";
	c = connect_to(&f);
	CU_ASSERT_EQUAL(rcpt_client_append_send(c, &ev, &ids[0], &d), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_client_append_send(c, &ev, &ids[1], &d), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_client_send(c, "keys", NULL, &ids[2], &d), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_client_send(c, "get",
	                    "{\"chain\":\"demo\",\"seq\":2}", &ids[3], &d),
	    RCPT_OK);
	CU_ASSERT_EQUAL(ids[0], 1);
	CU_ASSERT_EQUAL(ids[3], 4);
	CU_ASSERT_EQUAL(rcpt_client_pending(c), 4);
	/* No synchronous call while answers are outstanding. */
	CU_ASSERT_EQUAL(rcpt_client_call(c, "status", NULL, &text, NULL, NULL),
	    RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_client_pending(c), 4);
	for (int i = 0; i < 4; i++) {
		rcpt_diag_clear(&d);
		r = rcpt_client_recv(c, &id, &text, NULL, &d);
		CU_ASSERT_EQUAL(id, ids[i]);
		if (i == 2) {
			CU_ASSERT_EQUAL(r, RCPT_E_DENIED);
			CU_ASSERT_PTR_NULL(text);
			CU_ASSERT_EQUAL(rcpt_client_last_rpc_code(c), -32001);
			continue;
		}
		CU_ASSERT_EQUAL(r, RCPT_OK);
		CU_ASSERT_STRING_EQUAL(text, fx.lines[i == 3 ? 2 : 3]);
		free(text);
	}
	CU_ASSERT_EQUAL(rcpt_client_pending(c), 0);
	CU_ASSERT_EQUAL(requests(&f), 4);
	CU_ASSERT_EQUAL(
	    rcpt_client_recv(c, &id, &text, NULL, NULL), RCPT_E_INVAL);
	rcpt_client_close(c);
	fake_stop(&f);
}

static void
test_range(void)
{
	struct rcpt_diag d = {0};
	struct rcpt_client *c;
	struct fake f;
	char *text = NULL, *want;
	size_t len = 0;
	uint64_t n = 0, size = 0;
	char hash[65], hex[65];

	fake_start(&f, fake_chain);
	c = connect_to(&f);
	/* BIG_SEQ's 1e20 comes back as the same digits. */
	CU_ASSERT_EQUAL(
	    rcpt_client_range(c, CHAIN, 0, 10, &text, &len, &n, &d), RCPT_OK);
	want = lines_of(0, 10);
	CU_ASSERT_STRING_EQUAL(text, want);
	CU_ASSERT_EQUAL(len, strlen(want));
	CU_ASSERT_EQUAL(n, 10);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "100000000000000000000"));
	free(want);
	free(text);
	/* Fewer at the tip. */
	CU_ASSERT_EQUAL(
	    rcpt_client_range(c, CHAIN, NREC - 2, 10, &text, &len, &n, &d),
	    RCPT_OK);
	want = lines_of(NREC - 2, 2);
	CU_ASSERT_STRING_EQUAL(text, want);
	CU_ASSERT_EQUAL(n, 2);
	free(want);
	free(text);
	/* count is checked before anything is sent. */
	CU_ASSERT_EQUAL(rcpt_client_range(c, CHAIN, 0, 0, &text, &len, &n, &d),
	    RCPT_E_INVAL);
	CU_ASSERT_EQUAL(
	    rcpt_client_range(c, CHAIN, 0, 1001, &text, &len, &n, &d),
	    RCPT_E_INVAL);
	CU_ASSERT_EQUAL(requests(&f), 2);
	CU_ASSERT_EQUAL(
	    rcpt_client_range(c, CHAIN, NREC, 1, &text, NULL, NULL, NULL),
	    RCPT_E_NOT_FOUND);
	CU_ASSERT_EQUAL(rcpt_client_tip(c, CHAIN, &size, hash, &d), RCPT_OK);
	rcpt_hex_encode(fx.eh[NREC - 1], RCPT_HASH_LEN, hex);
	CU_ASSERT_EQUAL(size, NREC);
	CU_ASSERT_STRING_EQUAL(hash, hex);
	CU_ASSERT_EQUAL(
	    rcpt_client_checkpoint(c, CHAIN, &text, &len, &d), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(text, fx.note);
	free(text);
	rcpt_client_close(c);
	fake_stop(&f);
}

/* -32002 for a large range: the client asks for halves instead. */
static void
test_range_split(void)
{
	struct rcpt_client *c;
	struct fake f;
	char *text = NULL, *want;
	uint64_t n = 0;

	fake_start(&f, fake_chain);
	f.split_over = 100;
	c = connect_to(&f);
	CU_ASSERT_EQUAL(
	    rcpt_client_range(c, CHAIN, 0, 1000, &text, NULL, &n, NULL),
	    RCPT_OK);
	want = lines_of(0, 1000);
	CU_ASSERT_STRING_EQUAL(text, want);
	CU_ASSERT_EQUAL(n, 1000);
	CU_ASSERT_EQUAL(rcpt_client_last_rpc_code(c), 0);
	/* 1000 -> 500 -> 250 -> 125 -> 62 + 63: refused four times. */
	CU_ASSERT_EQUAL(f.rcount[0], 1000);
	CU_ASSERT_EQUAL(f.rcount[4], 62);
	CU_ASSERT_EQUAL(f.rfrom[5], 62);
	free(want);
	free(text);
	rcpt_client_close(c);
	fake_stop(&f);
}

/* Answers that are not JSON-RPC: RCPT_E_PARSE, then the client is done. */
static void
test_bad_answers(void)
{
	static const char *const bad[] = {
	    "not json",
	    "[1]",
	    "{\"id\":%lld,\"result\":1}",
	    "{\"id\":99,\"jsonrpc\":\"2.0\",\"result\":1}",
	    "{\"id\":%lld,\"jsonrpc\":\"2.0\"}",
	    "{\"error\":{\"code\":-32001,\"message\":\"m\"},\"id\":%lld,"
	    "\"jsonrpc\":\"2.0\",\"result\":1}",
	    "{\"error\":{\"code\":\"x\",\"message\":\"m\"},\"id\":%lld,"
	    "\"jsonrpc\":\"2.0\"}",
	    "{\"error\":{\"code\":0,\"message\":\"m\"},\"id\":%lld,"
	    "\"jsonrpc\":\"2.0\"}",
	    "{\"id\":%lld,\"jsonrpc\":\"2.0\",\"result\":{\"a\":1,\"a\":2}}",
	};
	struct rcpt_diag d = {0};
	struct rcpt_client *c;
	struct fake f;
	char *text = NULL;

	fake_start(&f, fake_script);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f.script = bad[i];
		c = connect_to(&f);
		rcpt_diag_clear(&d);
		CU_ASSERT_EQUAL(
		    rcpt_client_call(c, "status", NULL, &text, NULL, &d),
		    RCPT_E_PARSE);
		CU_ASSERT_PTR_NULL(text);
		CU_ASSERT(d.set);
		CU_ASSERT_EQUAL(
		    rcpt_client_call(c, "status", NULL, &text, NULL, &d),
		    RCPT_E_IO);
		rcpt_client_close(c);
	}
	/* An error with id null still answers the oldest request. */
	f.script = "{\"error\":{\"code\":-32002,\"message\":\"too long\"},"
	           "\"id\":null,\"jsonrpc\":\"2.0\"}";
	c = connect_to(&f);
	CU_ASSERT_EQUAL(rcpt_client_call(c, "status", NULL, &text, NULL, &d),
	    RCPT_E_TOO_LARGE);
	rcpt_client_close(c);
	/* A result of the wrong shape: refused, the connection still fine. */
	f.script = "{\"id\":%lld,\"jsonrpc\":\"2.0\",\"result\":\"x\"}";
	c = connect_to(&f);
	CU_ASSERT_EQUAL(
	    rcpt_client_tip(c, CHAIN, NULL, NULL, NULL), RCPT_E_PARSE);
	CU_ASSERT_EQUAL(
	    rcpt_client_range(c, CHAIN, 0, 1, &text, NULL, NULL, NULL),
	    RCPT_E_PARSE);
	CU_ASSERT_EQUAL(
	    rcpt_client_call(c, "status", NULL, &text, NULL, NULL), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(text, "\"x\"");
	free(text);
	rcpt_client_close(c);
	fake_stop(&f);
}

/* A line of exactly @p n bytes answering request 1, plus "\n". */
static char *
line_of(size_t n)
{
	static const char head[] =
	    "{\"id\":1,\"jsonrpc\":\"2.0\",\"result\":\"";
	char *p = malloc(n + 2);

	CU_ASSERT_FATAL(p != NULL);
	memset(p, 'a', n);
	memcpy(p, head, sizeof(head) - 1);
	memcpy(p + n - 2, "\"}\n", 4);
	return p;
}

static void
test_line_cap(void)
{
	struct rcpt_diag d = {0};
	struct rcpt_client *c;
	struct fake f;
	char *text = NULL, *raw;
	size_t len = 0;

	fake_start(&f, fake_raw);
	/* Exactly the cap is fine. */
	raw = line_of(LINE_MAX_);
	f.raw = raw;
	c = connect_to(&f);
	CU_ASSERT_EQUAL(
	    rcpt_client_call(c, "status", NULL, &text, &len, &d), RCPT_OK);
	/* The result: the string, without the 33 bytes before it and "}". */
	CU_ASSERT_EQUAL(len, LINE_MAX_ - 34);
	free(text);
	rcpt_client_close(c);
	free(raw);
	/* One byte more is not. */
	raw = line_of(LINE_MAX_ + 1);
	f.raw = raw;
	c = connect_to(&f);
	CU_ASSERT_EQUAL(rcpt_client_call(c, "status", NULL, &text, &len, &d),
	    RCPT_E_TOO_LARGE);
	CU_ASSERT_EQUAL(
	    rcpt_client_call(c, "status", NULL, &text, &len, &d), RCPT_E_IO);
	rcpt_client_close(c);
	/* Nor a flood without any newline, while the daemon keeps quiet. */
	raw[LINE_MAX_ + 1] = 'a';
	raw[LINE_MAX_ + 2] = '\0';
	f.raw = raw;
	c = connect_to(&f);
	CU_ASSERT_EQUAL(rcpt_client_call(c, "status", NULL, &text, &len, &d),
	    RCPT_E_TOO_LARGE);
	rcpt_client_close(c);
	free(raw);
	fake_stop(&f);
}

static void
test_closed(void)
{
	struct rcpt_diag d = {0};
	struct rcpt_client *c;
	struct fake f;
	char *text = NULL;

	fake_start(&f, fake_raw);
	f.raw_close = true;
	f.raw = "{\"id\":1,\"jsonrpc\":\"2.";
	c = connect_to(&f);
	CU_ASSERT_EQUAL(
	    rcpt_client_call(c, "status", NULL, &text, NULL, &d), RCPT_E_IO);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "in the middle of an answer"));
	rcpt_client_close(c);
	f.raw = "";
	c = connect_to(&f);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_client_call(c, "status", NULL, &text, NULL, &d), RCPT_E_IO);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "closed the connection"));
	rcpt_client_close(c);
	fake_stop(&f);
}

/* What the client refuses before it sends anything. */
static void
test_refused_before_sending(void)
{
	static const char *const not_ijson[] = {"{bad", "", "1e400",
	    "9007199254740993", "{\"a\":1,\"a\":2}", "\"\\ud800\"", "1 2"};
	struct rcpt_client_event ev = {.chain = CHAIN, .type = "t"};
	struct rcpt_diag d = {0};
	struct rcpt_client *c;
	struct fake f;
	char deep[600], *text = NULL;

	fake_start(&f, fake_chain);
	c = connect_to(&f);
	for (size_t i = 0; i < sizeof(not_ijson) / sizeof(not_ijson[0]); i++) {
		ev.data = not_ijson[i];
		rcpt_diag_clear(&d);
		CU_ASSERT_EQUAL(
		    rcpt_client_append(c, &ev, &text, NULL, &d), RCPT_E_INVAL);
		CU_ASSERT(strncmp(d.msg, "data", 4) == 0);
		CU_ASSERT_EQUAL(
		    rcpt_client_append_send(c, &ev, NULL, NULL), RCPT_E_INVAL);
	}
	memset(deep, '[', 257);
	memset(deep + 257, ']', 257);
	deep[514] = '\0';
	ev.data = deep;
	CU_ASSERT_EQUAL(
	    rcpt_client_append(c, &ev, &text, NULL, NULL), RCPT_E_TOO_LARGE);
	ev.data = "1";
	ev.type = NULL;
	CU_ASSERT_EQUAL(
	    rcpt_client_append(c, &ev, &text, NULL, NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(
	    rcpt_client_call(c, "get", "[1]", &text, NULL, NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(
	    rcpt_client_call(c, "get", "{", &text, NULL, NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(
	    rcpt_client_call(c, "", NULL, &text, NULL, NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(
	    rcpt_client_get(c, CHAIN, 1ULL << 53, &text, NULL, NULL),
	    RCPT_E_INVAL);
	CU_ASSERT_EQUAL(requests(&f), 0);
	CU_ASSERT_EQUAL(rcpt_client_pending(c), 0);
	/* None of that spoilt the connection. */
	ev.type = "t";
	CU_ASSERT_EQUAL(rcpt_client_append(c, &ev, &text, NULL, NULL), RCPT_OK);
	free(text);
	rcpt_client_close(c);
	fake_stop(&f);
}

/* 1 when @p dir holds no entry but "." and "..". */
static int
dir_is_empty(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	int empty = 1;

	if (dp == NULL)
		return 0;
	while ((e = readdir(dp)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(dp);
	return empty;
}

static char *
out_dir(struct fake *f)
{
	char *dir = rcpt_test_join(f->dir, "out");

	CU_ASSERT_FATAL(dir != NULL && mkdir(dir, 0700) == 0);
	return dir;
}

static void
test_export(void)
{
	struct rcpt_verify_result res;
	struct rcpt_diag d = {0};
	struct rcpt_client *c;
	struct stat st;
	struct fake f;
	char *dir, *path;
	int before;

	fake_start(&f, fake_chain);
	dir = out_dir(&f);
	path = rcpt_test_join(dir, "whole.tar");
	c = connect_to(&f);
	CU_ASSERT_EQUAL(
	    rcpt_client_export(c, CHAIN, 0, NREC - 1, path, &d), RCPT_OK);
	if (d.set)
		fprintf(stderr, "\nexport: %s\n", d.msg);
	/* A page of 1000, then the rest. */
	CU_ASSERT_EQUAL(f.nranges, 2);
	CU_ASSERT_EQUAL(f.rcount[0], 1000);
	CU_ASSERT_EQUAL(f.rfrom[1], 1000);
	CU_ASSERT_EQUAL(f.rcount[1], NREC - 1000);
	CU_ASSERT(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	memset(&res, 0, sizeof(res));
	rcpt_bundle_verify(path, NULL, 1, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	CU_ASSERT_EQUAL(res.count, NREC);
	/* An existing file: refused before the daemon is asked. */
	before = requests(&f);
	CU_ASSERT_EQUAL(
	    rcpt_client_export(c, CHAIN, 0, 3, path, NULL), RCPT_E_EXISTS);
	CU_ASSERT_EQUAL(requests(&f), before);
	CU_ASSERT_EQUAL(
	    rcpt_client_export(c, CHAIN, 4, 3, path, NULL), RCPT_E_INVAL);
	free(path);
	/* Part of the chain, with its proof: needs --trust. */
	path = rcpt_test_join(dir, "part.tar");
	CU_ASSERT_EQUAL(rcpt_client_export(c, CHAIN, 2, 4, path, &d), RCPT_OK);
	memset(&res, 0, sizeof(res));
	rcpt_bundle_verify(path, &fx.trust, 1, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	CU_ASSERT_EQUAL(res.count, 3);
	free(path);
	rcpt_client_close(c);
	rcpt_test_rmdir(dir);
	free(dir);
	fake_stop(&f);
}

/* The daemon's answers disagree with each other: no file is left. */
static void
test_export_refused(void)
{
	struct rcpt_diag d = {0};
	struct rcpt_client *c;
	struct fake f;
	char *dir, *path;

	fake_start(&f, fake_chain);
	dir = out_dir(&f);
	path = rcpt_test_join(dir, "b.tar");
	f.tamper_seq = 3;
	c = connect_to(&f);
	CU_ASSERT_EQUAL(
	    rcpt_client_export(c, CHAIN, 0, 10, path, &d), RCPT_E_CORRUPT);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "receipts.jsonl"));
	CU_ASSERT(dir_is_empty(dir));
	f.tamper_seq = -1;
	/* keys.jwks.json is not what the manifest hashed. */
	f.keys = "{\"keys\":[]}";
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_client_export(c, CHAIN, 0, 10, path, &d), RCPT_E_CORRUPT);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "manifest.json"));
	CU_ASSERT(dir_is_empty(dir));
	/* A refusal by the daemon. */
	f.keys = NULL;
	f.deny = "export";
	CU_ASSERT_EQUAL(
	    rcpt_client_export(c, CHAIN, 0, 10, path, NULL), RCPT_E_DENIED);
	CU_ASSERT(dir_is_empty(dir));
	rcpt_client_close(c);
	free(path);
	rcpt_test_rmdir(dir);
	free(dir);
	fake_stop(&f);
}

/* Each allocation of connect, append and range fails once, cleanly. */
static void
test_out_of_memory(void)
{
	struct rcpt_client_event ev = {
	    .chain = CHAIN, .type = "t", .data = "{\"a\":[1,2]}"};
	struct rcpt_client *c;
	struct fake f;
	char *text;
	long n;
	int r = RCPT_E_NOMEM;

	fake_start(&f, fake_chain);
	for (n = 0; n < 10000 && r == RCPT_E_NOMEM; n++) {
		c = NULL;
		text = NULL;
		rcpt_mem_fail_after(n);
		r = rcpt_client_connect(f.path, &c, NULL);
		if (r == RCPT_OK)
			r = rcpt_client_append(c, &ev, &text, NULL, NULL);
		free(text);
		text = NULL;
		if (r == RCPT_OK)
			r = rcpt_client_range(
			    c, CHAIN, 0, 20, &text, NULL, NULL, NULL);
		rcpt_mem_fail_after(-1);
		free(text);
		rcpt_client_close(c);
		CU_ASSERT(r == RCPT_OK || r == RCPT_E_NOMEM);
	}
	CU_ASSERT_EQUAL(r, RCPT_OK);
	CU_ASSERT(n > 3);
	fake_stop(&f);
}

/* receiptctl's online commands */

/* Runs receiptctl with @p args, stdin holding @p in_text (NULL: none). */
static void
cli(struct rcpt_test_proc *r, struct fake *f, const char *in_text,
    const char *const *args)
{
	char *in = NULL;

	if (in_text != NULL) {
		in = rcpt_test_join(f->dir, ".stdin");
		CU_ASSERT_FATAL(in != NULL && rcpt_test_write_file(in, in_text,
		                                  strlen(in_text)) == 0);
	}
	errno = 0;
	if (rcpt_test_spawn(r, RECEIPTCTL, f->dir, in, args) != 0) {
		fprintf(stderr, "\n%s %s: cannot run: %s\n", RECEIPTCTL,
		    args[0], strerror(errno));
		CU_FAIL_FATAL("receiptctl could not be run");
	}
	if (strstr(r->err, "Sanitizer") != NULL ||
	    strstr(r->err, "runtime error:") != NULL) {
		fprintf(stderr, "\n%s: %s\n", args[0], r->err);
		CU_FAIL("receiptctl reported a sanitizer error");
	}
	free(in);
}

/* Asserts exit @p status, stdout @p out (NULL: any) and stderr holding @p err.
 */
static void
expect(struct rcpt_test_proc *r, int status, const char *out, const char *err)
{
	CU_ASSERT_EQUAL(r->status, status);
	if (out != NULL)
		CU_ASSERT_STRING_EQUAL(r->out, out);
	if (err != NULL)
		CU_ASSERT_PTR_NOT_NULL(strstr(r->err, err));
	if (r->status != status || (out != NULL && strcmp(r->out, out) != 0) ||
	    (err != NULL && strstr(r->err, err) == NULL))
		fprintf(stderr, "\nwanted %d, got %d\nout: %.300s\nerr: %s\n",
		    status, r->status, r->out, r->err);
	rcpt_test_proc_clear(r);
}

static char *
with_newline(const char *s)
{
	struct sbuf b = {0};

	sb_str(&b, s);
	sb_str(&b, "\n");
	return b.p;
}

static int
suite_init(void)
{
	if (access(RECEIPTCTL, X_OK) != 0) {
		fprintf(stderr, "%s: not built (make src/receiptctl)\n",
		    RECEIPTCTL);
		return -1;
	}
	return 0;
}

static void
test_cli_append(void)
{
	struct rcpt_test_proc r;
	struct fake f;
	char *want = with_newline(fx.lines[3]), *missing;

	fake_start(&f, fake_chain);
	cli(&r, &f, NULL,
	    (const char *const[]){"append", "--socket", f.path, "--chain",
	        CHAIN, "--type", "t.x", "--tag", "a", "{\"k\": 1.0}", NULL});
	expect(&r, 0, want, NULL);
	CU_ASSERT(last_has(&f, "\"params\":{\"chain\":\"demo\",\"data\":"
	                       "{\"k\":1},\"tags\":[\"a\"],\"type\":\"t.x\"}"));
	/* Neither DATA nor --data-file: stdin. */
	cli(&r, &f, "[1, 2]\n",
	    (const char *const[]){"append", "--socket", f.path, "--chain",
	        CHAIN, "--type", "t.x", NULL});
	expect(&r, 0, want, NULL);
	CU_ASSERT(last_has(&f, "\"data\":[1,2]"));
	/* The daemon's refusal: its message and code, exit 1. */
	f.deny = "append";
	cli(&r, &f, NULL,
	    (const char *const[]){"append", "--socket", f.path, "--chain",
	        CHAIN, "--type", "t.x", "1", NULL});
	expect(&r, 1, "",
	    "receiptctl append: principal bob may not use demo??[2J "
	    "(code -32001)\n");
	/* Refused here: nothing reaches the daemon. */
	f.deny = NULL;
	cli(&r, &f, NULL,
	    (const char *const[]){"append", "--socket", f.path, "--chain",
	        CHAIN, "--type", "Receiptd.x", "1", NULL});
	expect(&r, 1, "", "reserved");
	cli(&r, &f, NULL,
	    (const char *const[]){"append", "--socket", f.path, "--chain",
	        CHAIN, "--type", "t", "{bad", NULL});
	expect(&r, 1, "", "receiptctl append: data");
	cli(&r, &f, NULL,
	    (const char *const[]){"append", "--socket", f.path, "--chain",
	        CHAIN, "--type", "t", "--submitter", "x", "1", NULL});
	expect(&r, 2, "", "--submitter: only with --store DIR");
	cli(&r, &f, NULL,
	    (const char *const[]){
	        "append", "--socket", f.path, "--chain", CHAIN, "1", NULL});
	expect(&r, 2, "", "--type is required");
	CU_ASSERT_EQUAL(requests(&f), 3);
	/* No daemon: exit 2, and the offline form is named. */
	missing = rcpt_test_join(f.dir, "nosuch.sock");
	CU_ASSERT_FATAL(setenv("RECEIPTD_SOCKET", missing, 1) == 0);
	cli(&r, &f, NULL,
	    (const char *const[]){"checkpoint", "--chain", CHAIN, NULL});
	expect(&r, 2, "", "receiptctl checkpoint: --store DIR is required");
	CU_ASSERT_EQUAL(unsetenv("RECEIPTD_SOCKET"), 0);
	cli(&r, &f, NULL,
	    (const char *const[]){
	        "tip", "--socket", missing, "--chain", CHAIN, NULL});
	expect(&r, 2, "", "cannot connect");
	/* --store still means the offline form. */
	cli(&r, &f, NULL,
	    (const char *const[]){"keys", "--store", missing, NULL});
	expect(&r, 2, "", "receiptctl keys: --store: no store in");
	free(missing);
	free(want);
	fake_stop(&f);
}

static void
test_cli_read(void)
{
	struct rcpt_test_proc r;
	struct fake f;
	char *want, hex[65], tip[128];

	fake_start(&f, fake_chain);
	want = with_newline(fx.lines[BIG_SEQ]);
	cli(&r, &f, NULL,
	    (const char *const[]){"get", "--socket", f.path, "--chain", CHAIN,
	        "--seq", "7", NULL});
	expect(&r, 0, want, NULL);
	free(want);
	cli(&r, &f, NULL,
	    (const char *const[]){"get", "--socket", f.path, "--chain", CHAIN,
	        "--seq", "9999", NULL});
	expect(&r, 1, "", "get: no such seq (code -32005)");
	cli(&r, &f, NULL,
	    (const char *const[]){"get", "--socket", f.path, "--chain", CHAIN,
	        "--seq", "-1", NULL});
	expect(&r, 2, "", "--seq: must be an integer");
	/* Any count, a page of 1000 at a time, fewer at the tip. */
	want = lines_of(0, NREC);
	cli(&r, &f, NULL,
	    (const char *const[]){"range", "--socket", f.path, "--chain", CHAIN,
	        "--from", "0", "--count", "5000", NULL});
	expect(&r, 0, want, NULL);
	free(want);
	CU_ASSERT_EQUAL(f.nranges, 2);
	CU_ASSERT_EQUAL(f.rcount[1], 1000);
	want = lines_of(NREC - 3, 3);
	cli(&r, &f, NULL,
	    (const char *const[]){
	        "tail", "--socket", f.path, "--chain", CHAIN, "-n", "3", NULL});
	expect(&r, 0, want, NULL);
	free(want);
	want = lines_of(NREC - 10, 10);
	cli(&r, &f, NULL,
	    (const char *const[]){
	        "tail", "--socket", f.path, "--chain", CHAIN, NULL});
	expect(&r, 0, want, NULL);
	free(want);
	rcpt_hex_encode(fx.eh[NREC - 1], RCPT_HASH_LEN, hex);
	snprintf(tip, sizeof(tip), "{\"entry_hash\":\"%s\",\"size\":%d}\n", hex,
	    NREC);
	cli(&r, &f, NULL,
	    (const char *const[]){
	        "tip", "--socket", f.path, "--chain", CHAIN, NULL});
	expect(&r, 0, tip, NULL);
	cli(&r, &f, NULL,
	    (const char *const[]){
	        "checkpoint", "--socket", f.path, "--chain", CHAIN, NULL});
	expect(&r, 0, fx.note, NULL);
	want = with_newline(fx.keys);
	cli(&r, &f, NULL,
	    (const char *const[]){"keys", "--socket", f.path, NULL});
	expect(&r, 0, want, NULL);
	free(want);
	cli(&r, &f, NULL,
	    (const char *const[]){"status", "--socket", f.path, NULL});
	expect(&r, 0,
	    "{\"chains\":{\"demo\":{\"size\":1201}},\"token\":\"ok\"}\n", NULL);
	fake_stop(&f);
}

static void
test_cli_verify(void)
{
	struct rcpt_test_proc r;
	struct fake f;
	char *trust;

	fake_start(&f, fake_chain);
	trust = rcpt_test_join(f.dir, "trust.jwks");
	CU_ASSERT_FATAL(trust != NULL &&
	                rcpt_test_write_file(trust, fx.keys, fx.keys_len) == 0);
	cli(&r, &f, NULL,
	    (const char *const[]){
	        "verify", "--socket", f.path, "--chain", CHAIN, NULL});
	expect(&r, 0,
	    "Chain integrity: CLEAN (1,201 events, 0 gaps), keys not pinned\n",
	    NULL);
	CU_ASSERT(last_has(&f, "\"method\":\"range\""));
	cli(&r, &f, NULL,
	    (const char *const[]){"verify", "--socket", f.path, "--chain",
	        CHAIN, "--trust", trust, "--threads", "2", NULL});
	expect(&r, 0, "Chain integrity: CLEAN (1,201 events, 0 gaps)\n", NULL);
	cli(&r, &f, NULL,
	    (const char *const[]){"verify", "--socket", f.path, "--chain",
	        CHAIN, "--no-checkpoint", NULL});
	expect(&r, 0,
	    "Chain integrity: CLEAN (1,201 events, 0 gaps), keys not pinned\n",
	    NULL);
	/* A damaged --trust is malformed input (SPEC 8). */
	CU_ASSERT_FATAL(rcpt_test_write_file(trust, "{bad", 4) == 0);
	cli(&r, &f, NULL,
	    (const char *const[]){"verify", "--socket", f.path, "--chain",
	        CHAIN, "--trust", trust, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(strncmp(r.out, "Chain integrity: BROKEN: --trust ", 33) == 0);
	rcpt_test_proc_clear(&r);
	/* The verdict is this tool's, not the daemon's. */
	f.tamper_seq = 1100;
	cli(&r, &f, NULL,
	    (const char *const[]){
	        "verify", "--socket", f.path, "--chain", CHAIN, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(
	    strncmp(r.out, "Chain integrity: BROKEN at seq 1100: ", 37) == 0);
	rcpt_test_proc_clear(&r);
	f.tamper_seq = -1;
	/* Not read whole: no verdict. */
	f.deny = "range";
	cli(&r, &f, NULL,
	    (const char *const[]){
	        "verify", "--socket", f.path, "--chain", CHAIN, NULL});
	expect(&r, 2, "", "(code -32001)");
	free(trust);
	fake_stop(&f);
}

static void
test_cli_prove(void)
{
	struct rcpt_test_proc r;
	struct fake f;
	char *want, *trust, *text;

	fake_start(&f, fake_chain);
	text = inclusion(5, NREC, false);
	want = with_newline(text);
	free(text);
	cli(&r, &f, NULL,
	    (const char *const[]){"prove", "--socket", f.path, "--chain", CHAIN,
	        "--seq", "5", NULL});
	expect(&r, 0, want,
	    "receiptctl prove: proof VALID: inclusion of seq 5 in tree of "
	    "size 1201; keys from the daemon, not pinned\n");
	free(want);
	CU_ASSERT(last_has(&f, "\"method\":\"keys\""));
	trust = rcpt_test_join(f.dir, "trust.jwks");
	CU_ASSERT_FATAL(trust != NULL &&
	                rcpt_test_write_file(trust, fx.keys, fx.keys_len) == 0);
	cli(&r, &f, NULL,
	    (const char *const[]){"prove", "--socket", f.path, "--chain", CHAIN,
	        "--old-size", "10", "--trust", trust, NULL});
	expect(&r, 0, NULL,
	    "receiptctl prove: proof VALID: consistency from 10 to 1201\n");
	cli(&r, &f, NULL,
	    (const char *const[]){"prove", "--socket", f.path, "--chain", CHAIN,
	        "--seq", "5", "--tree-size", "9", NULL});
	expect(&r, 0, NULL, "inclusion of seq 5 in tree of size 9;");
	CU_ASSERT(last_has(&f, "\"method\":\"keys\""));
	f.bad_proof = true;
	cli(&r, &f, NULL,
	    (const char *const[]){"prove", "--socket", f.path, "--chain", CHAIN,
	        "--seq", "5", NULL});
	expect(&r, 1, NULL, "receiptctl prove: proof INVALID: ");
	cli(&r, &f, NULL,
	    (const char *const[]){
	        "prove", "--socket", f.path, "--chain", CHAIN, NULL});
	expect(&r, 2, "", "needs --seq N");
	cli(&r, &f, NULL,
	    (const char *const[]){"prove", "--socket", f.path, "--chain", CHAIN,
	        "--seq", "1", "--new-size", "4", NULL});
	expect(&r, 2, "", "--tree-size goes with --seq");
	free(trust);
	fake_stop(&f);
}

static void
test_cli_admin(void)
{
	struct rcpt_test_proc r;
	struct fake f;
	char *want = with_newline(fx.lines[5]);
	int before;

	fake_start(&f, fake_chain);
	cli(&r, &f, NULL,
	    (const char *const[]){"rotate", "--socket", f.path, "--chain",
	        CHAIN, "--reason", "yearly", "--operator", "op", "--witness",
	        "w1", "--witness", "w2", "--token-serial", "s1", NULL});
	expect(&r, 0, want, NULL);
	CU_ASSERT(last_has(&f, "\"params\":{\"ceremony\":{\"operator\":\"op\","
	                       "\"token_serial\":\"s1\",\"witnesses\":[\"w1\","
	                       "\"w2\"]},\"chain\":\"demo\",\"reason\":"
	                       "\"yearly\"}"));
	cli(&r, &f, NULL,
	    (const char *const[]){"rotate", "--socket", f.path, "--chain",
	        CHAIN, "--reason", "r", NULL});
	expect(&r, 0, want, NULL);
	CU_ASSERT(last_has(&f, "{\"chain\":\"demo\",\"reason\":\"r\"}"));
	cli(&r, &f, NULL,
	    (const char *const[]){"rotate", "--socket", f.path, "--chain",
	        CHAIN, "--reason", "r", "--admin", "x", NULL});
	expect(&r, 2, "", "--admin: only with --store DIR");
	cli(&r, &f, NULL,
	    (const char *const[]){"revoke", "--socket", f.path, "--chain",
	        CHAIN, "--kid", fx.s.kid, "--reason", "lost", "--effective",
	        "2024-05-06T07:00:00.000Z", NULL});
	expect(&r, 0, want, NULL);
	CU_ASSERT(last_has(&f, "\"effective\":\"2024-05-06T07:00:00.000Z\""));
	before = requests(&f);
	cli(&r, &f, NULL,
	    (const char *const[]){"revoke", "--socket", f.path, "--chain",
	        CHAIN, "--kid", fx.s.kid, "--reason", "lost", "--effective",
	        "yesterday", NULL});
	expect(&r, 1, "", "--effective: must be a TS");
	CU_ASSERT_EQUAL(requests(&f), before);
	cli(&r, &f, NULL,
	    (const char *const[]){"prune", "--socket", f.path, "--chain", CHAIN,
	        "--before", "2024-05-06T07:00:01.000Z", NULL});
	expect(&r, 0, "{\"pruned\":3}\n", NULL);
	CU_ASSERT(last_has(&f, "{\"before\":\"2024-05-06T07:00:01.000Z\","
	                       "\"chain\":\"demo\"}"));
	f.deny = "prune";
	cli(&r, &f, NULL,
	    (const char *const[]){"prune", "--socket", f.path, "--chain", CHAIN,
	        "--before", "2024-05-06T07:00:01.000Z", NULL});
	expect(&r, 1, "", "(code -32001)");
	free(want);
	fake_stop(&f);
}

static void
test_cli_export(void)
{
	struct rcpt_verify_result res;
	struct rcpt_test_proc r;
	struct fake f;
	char *dir, *whole, *part, want[256];

	fake_start(&f, fake_chain);
	dir = out_dir(&f);
	whole = rcpt_test_join(dir, "whole.tar");
	part = rcpt_test_join(dir, "part.tar");
	cli(&r, &f, NULL,
	    (const char *const[]){"export", "--socket", f.path, "--chain",
	        CHAIN, "--out", whole, NULL});
	snprintf(want, sizeof(want),
	    "exported receipts 0 to 1200 of chain demo to %s\n", whole);
	expect(&r, 0, want, NULL);
	memset(&res, 0, sizeof(res));
	rcpt_bundle_verify(whole, NULL, 1, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	cli(&r, &f, NULL,
	    (const char *const[]){"export", "--socket", f.path, "--chain",
	        CHAIN, "--out", whole, NULL});
	expect(&r, 1, "", "exists");
	/* Seqs 10 and 11 share a ts: --since finds the first. */
	cli(&r, &f, NULL,
	    (const char *const[]){"export", "--socket", f.path, "--chain",
	        CHAIN, "--since", fx.ts[11], "--until", fx.ts[20], "--out",
	        part, NULL});
	snprintf(want, sizeof(want),
	    "exported receipts 10 to 19 of chain demo to %s\n", part);
	expect(&r, 0, want, NULL);
	memset(&res, 0, sizeof(res));
	rcpt_bundle_verify(part, &fx.trust, 1, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	CU_ASSERT_EQUAL(res.count, 10);
	cli(&r, &f, NULL,
	    (const char *const[]){"export", "--socket", f.path, "--chain",
	        CHAIN, "--since", "2030-01-01T00:00:00.000Z", "--out", part,
	        NULL});
	expect(&r, 1, "", "no receipts with ts in");
	cli(&r, &f, NULL,
	    (const char *const[]){"export", "--socket", f.path, "--chain",
	        CHAIN, "--from", "3", "--since", fx.ts[1], "--out", part,
	        NULL});
	expect(&r, 2, "", "exclude each other");
	cli(&r, &f, NULL,
	    (const char *const[]){"export", "--socket", f.path, "--chain",
	        CHAIN, "--from", "5", "--to", "2", "--out", part, NULL});
	expect(&r, 1, "", "--to: must be at least --from");
	f.tamper_seq = 4;
	unlink(part);
	cli(&r, &f, NULL,
	    (const char *const[]){"export", "--socket", f.path, "--chain",
	        CHAIN, "--from", "0", "--to", "9", "--out", part, NULL});
	expect(&r, 1, "", "do not hash to the manifest");
	CU_ASSERT_NOT_EQUAL(access(part, F_OK), 0);
	free(part);
	free(whole);
	rcpt_test_rmdir(dir);
	free(dir);
	fake_stop(&f);
}

static void
test_cli_help(void)
{
	static const char *const cmds[] = {"append", "get", "range", "tail",
	    "tip", "checkpoint", "prove", "keys", "status", "verify", "rotate",
	    "revoke", "prune", "export"};
	struct rcpt_test_proc r;
	struct fake f;
	char want[64];

	fake_start(&f, fake_chain);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(want, sizeof(want), "usage: receiptctl %s ", cmds[i]);
		cli(&r, &f, NULL,
		    (const char *const[]){cmds[i], "--help", NULL});
		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT(strncmp(r.out, want, strlen(want)) == 0);
		CU_ASSERT_STRING_EQUAL(r.err, "");
		rcpt_test_proc_clear(&r);
	}
	cli(&r, &f, NULL,
	    (const char *const[]){"verify", "--chain", CHAIN, "--help", NULL});
	expect(&r, 0, NULL, NULL);
	CU_ASSERT_EQUAL(requests(&f), 0);
	fake_stop(&f);
}

static int
fixture_init(void)
{
	return fx_build();
}

static CU_TestInfo client_tests[] = {
    {"connect: missing socket, long path, $RECEIPTD_SOCKET", test_connect},
    {"append and call return JCS", test_append_sync},
    {"daemon errors map to RCPT_E_*", test_rpc_error},
    {"pipelined answers come in order", test_pipelined},
    {"range, tip and checkpoint", test_range},
    {"range asks for halves after -32002", test_range_split},
    {"answers that are not JSON-RPC", test_bad_answers},
    {"answer lines are capped at 2 MiB", test_line_cap},
    {"daemon closing mid-answer", test_closed},
    {"bad data refused before sending", test_refused_before_sending},
    {"export writes a bundle that verifies", test_export},
    {"export refuses disagreeing answers", test_export_refused},
    {"out of memory at every allocation", test_out_of_memory},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo cli_tests[] = {
    {"append, and choosing online or offline", test_cli_append},
    {"get, range, tail, tip, checkpoint, keys, status", test_cli_read},
    {"verify --chain judges for itself", test_cli_verify},
    {"prove prints and checks the proof", test_cli_prove},
    {"rotate, revoke, prune", test_cli_admin},
    {"export by seqs and by times", test_cli_export},
    {"every online command has --help", test_cli_help},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "client", .pInitFunc = fixture_init, .pTests = client_tests},
    {.pName = "receiptctl online",
        .pInitFunc = suite_init,
        .pTests = cli_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	int r = rcpt_test_run(suites);

	fx_free();
	return r;
}
