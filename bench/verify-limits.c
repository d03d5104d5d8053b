/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What bench/verify holds our verifier against (see verify-limits.h): bare
 * Ed25519 verify loops, on libsodium and on OpenSSL, and the naive
 * Python peer.  The loops verify RAW_SIGS distinct signatures made
 * once with the bench's fixed seed, so they measure the library and
 * nothing of ours; the peer is a separate process whose own figure is
 * taken from its last line.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "src/err.h"

#include "common.h"
#include "verify-limits.h"

#define RAW_SIGS       256 /* distinct pre-made signatures */
#define RAW_THREADS    8   /* what rcpt_bench_threads() allows */
#define PYTHON         "/usr/bin/python3"
#define PEER_ROWS_MAX  10000000 /* peer-naive.py's own limit */
#define PEER_WAIT_SECS 7200.0

struct raw_job {
	enum rcpt_bench_raw_lib lib;
	EVP_PKEY *pkey;            /* OpenSSL: borrowed, shared read-only */
	const uint8_t *pub;        /* libsodium: the raw public key */
	const uint8_t (*msgs)[32]; /* RAW_SIGS messages */
	const uint8_t (*sigs)[64]; /* their signatures */
	double seconds;
	struct rcpt_bench_gate *start; /* NULL when alone */
	uint64_t count;                /* out: verifications done */
	double elapsed;                /* out: seconds */
	double cpu;                    /* out: CPU seconds of this thread */
	int err;                       /* out */
};

/* One pass over the signatures; false when one did not verify. */
static bool
raw_pass(struct raw_job *j, EVP_MD_CTX *ctx)
{
	size_t i;

	for (i = 0; i < RAW_SIGS; i++) {
		if (j->lib == RCPT_BENCH_RAW_SODIUM) {
			if (crypto_sign_ed25519_verify_detached(
			        j->sigs[i], j->msgs[i], 32, j->pub) != 0)
				return false;
		} else if (EVP_DigestVerifyInit(
		               ctx, NULL, NULL, NULL, j->pkey) != 1 ||
		           EVP_DigestVerify(
		               ctx, j->sigs[i], 64, j->msgs[i], 32) != 1) {
			return false;
		}
	}
	return true;
}

static void *
raw_loop(void *arg)
{
	struct raw_job *j = arg;
	EVP_MD_CTX *ctx = NULL;
	uint64_t count = 0;
	double t0, t, c0;

	j->err = RCPT_E_INTERNAL;
	if (j->lib == RCPT_BENCH_RAW_OPENSSL &&
	    (ctx = EVP_MD_CTX_new()) == NULL) {
		j->err = RCPT_E_NOMEM;
		return NULL;
	}
	if (j->start != NULL && !rcpt_bench_gate_wait(j->start))
		goto out;
	c0 = rcpt_bench_cpu(CLOCK_THREAD_CPUTIME_ID);
	t0 = rcpt_bench_now();
	do {
		if (!raw_pass(j, ctx))
			goto out;
		count += RAW_SIGS;
		t = rcpt_bench_now();
	} while (t - t0 < j->seconds);
	j->count = count;
	j->elapsed = t - t0;
	j->cpu = rcpt_bench_cpu(CLOCK_THREAD_CPUTIME_ID) - c0;
	j->err = RCPT_OK;
out:
	EVP_MD_CTX_free(ctx);
	return NULL;
}

/* Makes RAW_SIGS distinct 32-byte messages and their signatures. */
static int
raw_setup(EVP_PKEY **pkey_out, uint8_t pub_out[32], uint8_t msgs[][32],
    uint8_t sigs[][64])
{
	static const uint8_t seed[32] = RCPT_BENCH_VERIFY_SEED;
	EVP_PKEY *priv = NULL, *pub = NULL;
	EVP_MD_CTX *ctx = NULL;
	size_t len, i, k;
	int r = RCPT_E_INTERNAL;

	*pkey_out = NULL;
	priv = EVP_PKEY_new_raw_private_key(
	    EVP_PKEY_ED25519, NULL, seed, sizeof(seed));
	if (priv == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	len = 32;
	if (EVP_PKEY_get_raw_public_key(priv, pub_out, &len) != 1)
		goto out;
	pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub_out, len);
	if (pub == NULL)
		goto out;
	for (i = 0; i < RAW_SIGS; i++) {
		for (k = 0; k < 32; k++)
			msgs[i][k] = (uint8_t)(i * 31 + k * 7 + 1);
		len = 64;
		if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, priv) != 1 ||
		    EVP_DigestSign(ctx, sigs[i], &len, msgs[i], 32) != 1 ||
		    len != 64)
			goto out;
	}
	*pkey_out = pub;
	pub = NULL;
	r = RCPT_OK;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(priv);
	return r;
}

int
rcpt_bench_raw_verify(enum rcpt_bench_raw_lib lib, double seconds, int nthreads,
    double *rate_out, double *cpu_rate_out)
{
	static uint8_t msgs[RAW_SIGS][32], sigs[RAW_SIGS][64];
	struct raw_job jobs[RAW_THREADS];
	void *args[RAW_THREADS];
	struct rcpt_bench_gate start = RCPT_BENCH_GATE_INIT;
	EVP_PKEY *pkey = NULL;
	uint8_t pub[32];
	double count = 0, cpu = 0;
	int i, r;

	*rate_out = 0;
	if (cpu_rate_out != NULL)
		*cpu_rate_out = 0;
	if (nthreads < 1 || nthreads > RAW_THREADS)
		return RCPT_E_INVAL;
	if (lib == RCPT_BENCH_RAW_SODIUM && sodium_init() < 0)
		return RCPT_E_INTERNAL;
	if ((r = raw_setup(&pkey, pub, msgs, sigs)) != RCPT_OK)
		return r;
	for (i = 0; i < nthreads; i++) {
		jobs[i] = (struct raw_job){.lib = lib,
		    .pkey = pkey,
		    .pub = pub,
		    .msgs = (const uint8_t(*)[32])msgs,
		    .sigs = (const uint8_t(*)[64])sigs,
		    .seconds = seconds,
		    .start = nthreads > 1 ? &start : NULL};
		args[i] = &jobs[i];
	}
	r = RCPT_OK;
	if (nthreads == 1)
		raw_loop(&jobs[0]);
	else
		r = rcpt_bench_threads(raw_loop, args, nthreads, &start);
	EVP_PKEY_free(pkey);
	if (r != RCPT_OK)
		return r;
	for (i = 0; i < nthreads; i++) {
		if (jobs[i].err != RCPT_OK)
			return jobs[i].err;
		if (jobs[i].elapsed <= 0 || jobs[i].cpu <= 0)
			return RCPT_E_INTERNAL;
		*rate_out += (double)jobs[i].count / jobs[i].elapsed;
		count += (double)jobs[i].count;
		cpu += jobs[i].cpu;
	}
	if (cpu_rate_out != NULL)
		*cpu_rate_out = count / cpu;
	return RCPT_OK;
}

/* ---- the naive peer ------------------------------------------------ */

/*
 * Runs peer-naive.py @p cmd with its output appended to @p log.
 * @return its exit status, or -1 when it could not be run or waited for.
 */
static int
peer_cmd(const char *cmd, const char *dir, const char *n, const char *log)
{
	char *argv[] = {"python3", PEER_NAIVE, (char *)cmd, "--dir",
	    (char *)dir, NULL, NULL, NULL};
	pid_t pid;
	int st;

	if (n != NULL) {
		argv[5] = "--n";
		argv[6] = (char *)n;
	}
	if ((pid = rcpt_bench_spawn("verify", PYTHON, argv, log)) < 0)
		return -1;
	if ((st = rcpt_bench_child_wait(pid, PEER_WAIT_SECS)) < 0) {
		/* Our own child, stuck: end it and reap it. */
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	return st;
}

/* The last line of @p log that starts with '{', parsed; NULL if none. */
static json_object *
peer_last_json(const char *log)
{
	char line[4096], last[4096] = "";
	FILE *f;

	if ((f = fopen(log, "r")) == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL)
		if (line[0] == '{')
			memcpy(last, line, sizeof(last));
	fclose(f);
	return last[0] == '{' ? json_tokener_parse(last) : NULL;
}

/* Takes the figures of the verify run's JSON line into @p p. */
static void
peer_take(json_object *o, uint64_t n, struct rcpt_bench_vpeer *p)
{
	json_object *rate, *rows, *clean;

	if (o == NULL || !json_object_object_get_ex(o, "verify_per_s", &rate) ||
	    !json_object_object_get_ex(o, "rows", &rows) ||
	    !json_object_object_get_ex(o, "clean", &clean)) {
		snprintf(p->why, sizeof(p->why),
		    "peer-naive.py verify printed no result line");
		return;
	}
	if (!json_object_get_boolean(clean) ||
	    (uint64_t)json_object_get_int64(rows) != n) {
		snprintf(p->why, sizeof(p->why),
		    "peer-naive.py verify did not verify all %" PRIu64
		    " rows cleanly",
		    n);
		return;
	}
	p->rows = n;
	p->rate = json_object_get_double(rate);
	p->measured = p->rate > 0;
	if (!p->measured)
		snprintf(p->why, sizeof(p->why),
		    "peer-naive.py verify gave no rate");
}

void
rcpt_bench_vpeer_run(const char *dir, uint64_t n, struct rcpt_bench_vpeer *p)
{
	char log[4200], nstr[24];
	json_object *o;
	double t0;
	int st;

	memset(p, 0, sizeof(*p));
	if (access(PYTHON, X_OK) != 0 || access(PEER_NAIVE, R_OK) != 0) {
		snprintf(p->why, sizeof(p->why), "%s or %s is missing", PYTHON,
		    PEER_NAIVE);
		return;
	}
	if (n > PEER_ROWS_MAX) {
		snprintf(p->why, sizeof(p->why),
		    "peer-naive.py takes at most %d rows", PEER_ROWS_MAX);
		return;
	}
	snprintf(log, sizeof(log), "%s/peer.log", dir);
	snprintf(nstr, sizeof(nstr), "%" PRIu64, n);
	t0 = rcpt_bench_now();
	st = peer_cmd("build", dir, nstr, log);
	p->build_s = rcpt_bench_now() - t0;
	if (st == 0)
		st = peer_cmd("verify", dir, NULL, log);
	if (st == 2) {
		/* peer-naive.py's exit status for a missing python3-nacl. */
		snprintf(p->why, sizeof(p->why),
		    "peer-naive.py exited 2: python3-nacl missing or bad "
		    "usage");
		rcpt_bench_show_file(log);
		return;
	}
	if (st != 0) {
		snprintf(p->why, sizeof(p->why),
		    "peer-naive.py failed (status %d)", st);
		rcpt_bench_show_file(log);
		return;
	}
	o = peer_last_json(log);
	peer_take(o, n, p);
	json_object_put(o);
}
