/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Verification benchmark: builds a chain of N receipts with the offline
 * chain writer and a fixed software key, then measures in one run the
 * raw OpenSSL Ed25519 verify rate (the physical limit), our verifier on
 * one and two threads, JCS throughput and the peak memory of
 * verification alone.  It prints human-readable figures, whether each
 * target was met, and ends with one JSON line for scripts.
 *
 * It is a measurement, not a test: a missed target is reported but does
 * not fail the run.  Only errors and a verification that is not CLEAN
 * give a non-zero exit.  It never touches a real key or a real store.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "chain.h"
#include "err.h"
#include "jcs.h"
#include "json.h"
#include "mem.h"
#include "receipt.h"
#include "softkey.h"
#include "ts.h"
#include "verify.h"

#include "common.h"

#define N_DEFAULT       1000000
#define N_QUICK         20000
#define SECONDS_DEFAULT 3.0
#define SECONDS_QUICK   1.0
#define RAW_SIGS        256               /* distinct pre-made signatures */
#define BLOCK_BYTES     (8 * 1024 * 1024) /* lines read per JCS round */
#define BLOCK_LINES     65536
#define SERIALIZE_TREES 4096 /* pre-parsed trees for serialize-only */
#define TARGET_RATIO_1T 0.90
#define TARGET_RATIO_2T 1.7
#define TARGET_RSS_MIB  64.0

/*
 * The one fixed seed, so that every run signs the same chain.  Exactly
 * 32 characters: the array holds no NUL.
 */
static const uint8_t bench_seed[RCPT_ED25519_SEED_LEN] =
    "receiptd bench/verify fixed seed";

struct opts {
	uint64_t n;     /* events appended after genesis */
	double seconds; /* wall time of each timed measurement */
};

/* What a child process sends back through its pipe. */
struct child_report {
	int err;          /* RCPT_OK or what failed */
	int status;       /* enum rcpt_verify_status */
	uint64_t count;   /* receipts written or checked */
	double elapsed;   /* seconds of the measured part */
	double cpu;       /* CPU seconds of the process in that part */
	char reason[600]; /* failure text for people */
};

struct verify_fig {
	double rate;     /* receipts per second */
	double rss_mib;  /* ru_maxrss of the child */
	double cpu_rate; /* receipts per CPU second */
	uint64_t count;
	double elapsed;
};

struct raw_job {
	EVP_PKEY *pkey;            /* borrowed; shared read-only */
	const uint8_t (*msgs)[32]; /* RAW_SIGS messages */
	const uint8_t (*sigs)[64]; /* their signatures */
	double seconds;
	struct rcpt_bench_gate *start; /* NULL when alone */
	uint64_t count;                /* out: verifications done */
	double elapsed;                /* out: seconds */
	double cpu;                    /* out: CPU seconds of this thread */
	int err;                       /* out */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: verify [--n N | --quick] [--seconds S]\n"
	    "  --n N        events in the chain (default %d)\n"
	    "  --quick      %d events and %.0f s per measurement (smoke run)\n"
	    "  --seconds S  wall time of each timed measurement (default "
	    "%.0f)\n",
	    N_DEFAULT, N_QUICK, SECONDS_QUICK, SECONDS_DEFAULT);
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	struct rcpt_bench_opts bo = {.prog = "verify",
	    .usage = usage,
	    .count_opt = "n",
	    .count_max = 100000000,
	    .count = N_DEFAULT,
	    .seconds = SECONDS_DEFAULT};

	if (rcpt_bench_parse_args(argc, argv, &bo) != RCPT_OK)
		return RCPT_E_INVAL;
	if (bo.quick && !bo.have_count)
		bo.count = N_QUICK;
	if (bo.quick && !bo.have_seconds)
		bo.seconds = SECONDS_QUICK;
	o->n = bo.count;
	o->seconds = bo.seconds;
	return RCPT_OK;
}

/* ---- child processes ----------------------------------------------- */

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return RCPT_E_IO;
		c += w;
		n -= (size_t)w;
	}
	return RCPT_OK;
}

static int
read_all(int fd, void *p, size_t n)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return RCPT_E_IO;
		c += r;
		n -= (size_t)r;
	}
	return RCPT_OK;
}

typedef void (*child_fn)(const void *arg, struct child_report *rep);

/*
 * Runs @p fn in a forked child and returns its report and peak RSS.
 * The chain build and every verification run in children so that each
 * ru_maxrss counts that work alone; a forked child still starts with the
 * parent's resident pages, which is why the parent stays small.
 */
static int
run_child(
    child_fn fn, const void *arg, struct child_report *rep, double *rss_mib_out)
{
	struct rusage ru;
	int fds[2], st, r;
	pid_t pid;

	memset(rep, 0, sizeof(*rep));
	*rss_mib_out = 0;
	if (pipe(fds) != 0)
		return RCPT_E_IO;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return RCPT_E_IO;
	}
	if (pid == 0) {
		struct child_report mine;

		close(fds[0]);
		memset(&mine, 0, sizeof(mine));
		if (fn != NULL)
			fn(arg, &mine);
		r = write_all(fds[1], &mine, sizeof(mine));
		_exit(r == RCPT_OK ? 0 : 1);
	}
	close(fds[1]);
	r = read_all(fds[0], rep, sizeof(*rep));
	close(fds[0]);
	while (wait4(pid, &st, 0, &ru) < 0) {
		if (errno != EINTR)
			return RCPT_E_IO;
	}
	if (r != RCPT_OK || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (WIFSIGNALED(st))
			snprintf(rep->reason, sizeof(rep->reason),
			    "child killed by signal %d", WTERMSIG(st));
		else
			snprintf(rep->reason, sizeof(rep->reason),
			    "child process failed");
		return RCPT_E_INTERNAL;
	}
	/* Linux reports ru_maxrss in KiB. */
	*rss_mib_out = (double)ru.ru_maxrss / 1024.0;
	return RCPT_OK;
}

/* ---- raw OpenSSL Ed25519 --------------------------------------------- */

static void *
raw_loop(void *arg)
{
	struct raw_job *j = arg;
	EVP_MD_CTX *ctx;
	uint64_t count = 0;
	double t0, t, c0;
	size_t i;

	j->err = RCPT_E_INTERNAL;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		j->err = RCPT_E_NOMEM;
		return NULL;
	}
	if (j->start != NULL && !rcpt_bench_gate_wait(j->start))
		goto out;
	c0 = rcpt_bench_cpu(CLOCK_THREAD_CPUTIME_ID);
	t0 = rcpt_bench_now();
	do {
		for (i = 0; i < RAW_SIGS; i++) {
			if (EVP_DigestVerifyInit(
			        ctx, NULL, NULL, NULL, j->pkey) != 1 ||
			    EVP_DigestVerify(
			        ctx, j->sigs[i], 64, j->msgs[i], 32) != 1)
				goto out;
		}
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
raw_setup(EVP_PKEY **pkey_out, uint8_t msgs[][32], uint8_t sigs[][64])
{
	EVP_PKEY *priv = NULL, *pub = NULL;
	EVP_MD_CTX *ctx = NULL;
	uint8_t pubraw[32];
	size_t len, i, k;
	int r = RCPT_E_INTERNAL;

	*pkey_out = NULL;
	priv = EVP_PKEY_new_raw_private_key(
	    EVP_PKEY_ED25519, NULL, bench_seed, sizeof(bench_seed));
	if (priv == NULL || (ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
	len = sizeof(pubraw);
	if (EVP_PKEY_get_raw_public_key(priv, pubraw, &len) != 1)
		goto out;
	pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pubraw, len);
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

/*
 * Verifications per second on @p nthreads threads (1 or 2), and per
 * CPU second of those threads into @p cpu_rate_out when not NULL.
 */
static int
bench_raw(double seconds, int nthreads, double *rate_out, double *cpu_rate_out)
{
	static uint8_t msgs[RAW_SIGS][32], sigs[RAW_SIGS][64];
	struct raw_job jobs[2];
	void *args[2];
	struct rcpt_bench_gate start = RCPT_BENCH_GATE_INIT;
	EVP_PKEY *pkey = NULL;
	double count = 0, cpu = 0;
	int i, r;

	*rate_out = 0;
	if (cpu_rate_out != NULL)
		*cpu_rate_out = 0;
	if (nthreads < 1 || nthreads > 2)
		return RCPT_E_INVAL;
	if ((r = raw_setup(&pkey, msgs, sigs)) != RCPT_OK)
		return r;
	for (i = 0; i < nthreads; i++) {
		jobs[i] = (struct raw_job){.pkey = pkey,
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

/* ---- building the chain ---------------------------------------------- */

struct build_arg {
	const char *path; /* receipts.jsonl in a fresh directory */
	uint64_t n;
};

#define BENCH_T0_MS 1767225600000LL /* 2026-01-01T00:00:00.000Z */

/* A small order event: six members of the usual JSON kinds. */
static int
make_data(uint64_t i, json_object **out)
{
	static const char *const status[] = {"paid", "pending", "shipped"};
	json_object *o, *m;
	char buf[32];

	*out = NULL;
	if ((o = json_object_new_object()) == NULL)
		return RCPT_E_NOMEM;
	snprintf(buf, sizeof(buf), "ord-%08" PRIu64, i);
	/* json_object_object_add steals m in each call below. */
	if ((m = json_object_new_string(buf)) == NULL ||
	    json_object_object_add(o, "order", m) != 0)
		goto nomem;
	snprintf(buf, sizeof(buf), "cust-%05" PRIu64, (i * 7919) % 50000);
	if ((m = json_object_new_string(buf)) == NULL ||
	    json_object_object_add(o, "customer", m) != 0)
		goto nomem;
	m = json_object_new_double((double)((i * 104729) % 1000000) / 100.0);
	if (m == NULL || json_object_object_add(o, "amount", m) != 0)
		goto nomem;
	if ((m = json_object_new_string(i % 3 == 0 ? "USD" : "EUR")) == NULL ||
	    json_object_object_add(o, "currency", m) != 0)
		goto nomem;
	if ((m = json_object_new_int64((int64_t)(i % 9) + 1)) == NULL ||
	    json_object_object_add(o, "items", m) != 0)
		goto nomem;
	if ((m = json_object_new_string(status[i % 3])) == NULL ||
	    json_object_object_add(o, "status", m) != 0)
		goto nomem;
	*out = o;
	return RCPT_OK;
nomem:
	/* A failed add leaves m with us; put(NULL) is harmless. */
	json_object_put(m);
	json_object_put(o);
	return RCPT_E_NOMEM;
}

/* Tag arrays ["bench"] and ["bench","eu"], shared by every event. */
static int
make_tags(json_object *tags_out[2])
{
	const char *names[] = {"bench", "eu"};
	json_object *s;
	int i, k;

	tags_out[0] = tags_out[1] = NULL;
	for (i = 0; i < 2; i++) {
		if ((tags_out[i] = json_object_new_array()) == NULL)
			goto nomem;
		for (k = 0; k <= i; k++) {
			/* json_object_array_add steals s. */
			if ((s = json_object_new_string(names[k])) == NULL)
				goto nomem;
			if (json_object_array_add(tags_out[i], s) != 0) {
				json_object_put(s);
				goto nomem;
			}
		}
	}
	return RCPT_OK;
nomem:
	json_object_put(tags_out[0]);
	json_object_put(tags_out[1]);
	tags_out[0] = tags_out[1] = NULL;
	return RCPT_E_NOMEM;
}

/* Writes @p r as one JCS line; clears @p r in every case. */
static int
write_receipt(FILE *f, struct rcpt_receipt *r)
{
	char *line = NULL;
	size_t len;
	int rv;

	rv = rcpt_receipt_serialize(r, &line, &len);
	rcpt_receipt_clear(r);
	if (rv != RCPT_OK)
		return rv;
	if (fwrite(line, 1, len, f) != len || putc('\n', f) == EOF)
		rv = RCPT_E_IO;
	free(line);
	return rv;
}

static void
child_build(const void *arg, struct child_report *rep)
{
	const struct build_arg *a = arg;
	struct rcpt_softkey *key = NULL;
	struct rcpt_signer signer;
	struct rcpt_chain chain;
	struct rcpt_chain_event ev;
	struct rcpt_receipt rcp;
	struct rcpt_diag diag;
	json_object *tags[2] = {NULL, NULL}, *data = NULL;
	char ts[RCPT_TS_LEN + 1];
	double t0;
	uint64_t i;
	FILE *f = NULL;
	int r = RCPT_E_INTERNAL;

	rcpt_chain_init(&chain);
	rcpt_receipt_init(&rcp);
	rcpt_diag_clear(&diag);
	t0 = rcpt_bench_now();
	if ((f = fopen(a->path, "wx")) == NULL) {
		r = RCPT_E_IO;
		rcpt_diag(&diag, r, "receipts.jsonl: cannot create");
		goto out;
	}
	/* A full buffer is flushed at once; a large one saves syscalls. */
	setvbuf(f, NULL, _IOFBF, 1 << 20);
	if ((r = rcpt_softkey_from_seed(bench_seed, &key)) != RCPT_OK)
		goto out;
	rcpt_softkey_signer(key, &signer);
	if ((r = make_tags(tags)) != RCPT_OK ||
	    (r = rcpt_ts_format(BENCH_T0_MS, ts)) != RCPT_OK)
		goto out;
	if ((r = rcpt_chain_genesis(&chain, "bench", "bench.example/receiptd",
	         RCPT_SEALING_EACH, ts, &signer, &rcp, &diag)) != RCPT_OK ||
	    (r = write_receipt(f, &rcp)) != RCPT_OK)
		goto out;
	rep->count = 1;
	for (i = 1; i <= a->n; i++) {
		if ((r = rcpt_ts_format(BENCH_T0_MS + (int64_t)i * 10, ts)) !=
		        RCPT_OK ||
		    (r = make_data(i, &data)) != RCPT_OK)
			goto out;
		ev = (struct rcpt_chain_event){.type = "order.created",
		    .tags = tags[i % 2],
		    .submitter = "bench-client",
		    .data = data,
		    .ts = ts,
		    .seal = true};
		r = rcpt_chain_append(&chain, &ev, &signer, &rcp, &diag);
		json_object_put(data);
		data = NULL;
		if (r != RCPT_OK || (r = write_receipt(f, &rcp)) != RCPT_OK)
			goto out;
		rep->count++;
	}
	if (fclose(f) != 0) {
		f = NULL;
		r = RCPT_E_IO;
		rcpt_diag(&diag, r, "receipts.jsonl: write failed");
		goto out;
	}
	f = NULL;
	rep->elapsed = rcpt_bench_now() - t0;
	r = RCPT_OK;
out:
	if (f != NULL)
		fclose(f);
	json_object_put(data);
	json_object_put(tags[0]);
	json_object_put(tags[1]);
	rcpt_receipt_clear(&rcp);
	rcpt_chain_clear(&chain);
	rcpt_softkey_close(key);
	rep->err = r;
	if (r != RCPT_OK)
		snprintf(rep->reason, sizeof(rep->reason), "%s",
		    rcpt_diag_msg(&diag, r));
}

/* ---- our verifier -------------------------------------------------- */

struct verify_arg {
	const char *path;
	int threads;
};

static void
child_verify(const void *arg, struct child_report *rep)
{
	const struct verify_arg *a = arg;
	struct rcpt_verify_opts vo;
	struct rcpt_verify_result res;
	double t0, c0;
	FILE *f;

	memset(&vo, 0, sizeof(vo));
	vo.threads = a->threads;
	if ((f = fopen(a->path, "r")) == NULL) {
		rep->err = RCPT_E_IO;
		snprintf(rep->reason, sizeof(rep->reason), "open: %s",
		    strerror(errno));
		return;
	}
	c0 = rcpt_bench_cpu(CLOCK_PROCESS_CPUTIME_ID);
	t0 = rcpt_bench_now();
	rcpt_verify_stream(f, &vo, NULL, &res);
	rep->elapsed = rcpt_bench_now() - t0;
	rep->cpu = rcpt_bench_cpu(CLOCK_PROCESS_CPUTIME_ID) - c0;
	fclose(f);
	rep->err = RCPT_OK;
	rep->status = (int)res.status;
	rep->count = res.count;
	snprintf(rep->reason, sizeof(rep->reason), "%s", res.reason);
}

static int
bench_ours(const char *path, int threads, uint64_t want, struct verify_fig *fig)
{
	struct verify_arg a = {.path = path, .threads = threads};
	struct child_report rep;
	int r;

	memset(fig, 0, sizeof(*fig));
	r = run_child(child_verify, &a, &rep, &fig->rss_mib);
	if (r == RCPT_OK)
		r = rep.err;
	if (r != RCPT_OK) {
		fprintf(stderr, "verify: threads=%d: %s: %s\n", threads,
		    rcpt_strerror(r), rep.reason);
		return r;
	}
	if (rep.status != RCPT_VERIFY_CLEAN) {
		fprintf(stderr, "verify: threads=%d: not CLEAN (%d): %s\n",
		    threads, rep.status, rep.reason);
		return RCPT_E_CORRUPT;
	}
	if (rep.count != want) {
		fprintf(stderr,
		    "verify: threads=%d: checked %" PRIu64
		    " receipts, wrote %" PRIu64 "\n",
		    threads, rep.count, want);
		return RCPT_E_CORRUPT;
	}
	if (rep.elapsed <= 0 || rep.cpu <= 0)
		return RCPT_E_INTERNAL;
	fig->count = rep.count;
	fig->elapsed = rep.elapsed;
	fig->rate = (double)rep.count / rep.elapsed;
	fig->cpu_rate = (double)rep.count / rep.cpu;
	return RCPT_OK;
}

/* ---- JCS ----------------------------------------------------------- */

/* A block of whole lines read from the receipts file. */
struct block {
	char *buf;               /* BLOCK_BYTES */
	size_t off[BLOCK_LINES]; /* start of each line */
	size_t len[BLOCK_LINES]; /* without the \n */
	size_t nlines;
	size_t bytes; /* sum of len */
};

/*
 * Fills @p b with the next whole lines of @p f, rewinding at the end so
 * that a short file can still fill a timed run.  @p line holds a line
 * that did not fit in the previous block.
 */
static int
fill_block(FILE *f, struct block *b, char **line, size_t *cap, ssize_t *pending)
{
	size_t used = 0;
	bool rewound = false;
	ssize_t n;

	b->nlines = 0;
	b->bytes = 0;
	for (;;) {
		if (*pending > 0) {
			n = *pending;
			*pending = 0;
		} else if ((n = getline(line, cap, f)) < 0) {
			if (ferror(f))
				return RCPT_E_IO;
			if (b->nlines > 0)
				break;
			if (rewound)
				return RCPT_E_CORRUPT; /* empty file */
			rewind(f);
			rewound = true;
			continue;
		}
		if (n > 0 && (*line)[n - 1] == '\n')
			n--;
		if ((size_t)n > BLOCK_BYTES)
			return RCPT_E_TOO_LARGE;
		if (used + (size_t)n > BLOCK_BYTES ||
		    b->nlines == BLOCK_LINES) {
			/* Keep it for the next block. */
			(*line)[n] = '\n';
			*pending = n + 1;
			break;
		}
		memcpy(b->buf + used, *line, (size_t)n);
		b->off[b->nlines] = used;
		b->len[b->nlines] = (size_t)n;
		b->nlines++;
		b->bytes += (size_t)n;
		used += (size_t)n;
	}
	return RCPT_OK;
}

/*
 * Parse plus canonicalize, input bytes per second.  Each output must
 * equal its line, since stored receipts are JCS already.
 */
static int
bench_canon(const char *path, double seconds, struct block *b, double *mbps_out)
{
	struct rcpt_diag diag;
	double spent = 0, t0, bytes = 0;
	char *line = NULL, *out;
	size_t cap = 0, olen, i;
	ssize_t pending = 0;
	FILE *f;
	int r = RCPT_OK;

	*mbps_out = 0;
	if ((f = fopen(path, "r")) == NULL)
		return RCPT_E_IO;
	while (spent < seconds) {
		if ((r = fill_block(f, b, &line, &cap, &pending)) != RCPT_OK)
			break;
		t0 = rcpt_bench_now();
		for (i = 0; i < b->nlines; i++) {
			rcpt_diag_clear(&diag);
			r = rcpt_jcs_canon(b->buf + b->off[i], b->len[i],
			    RCPT_JSON_DEPTH_MAX, &out, &olen, &diag);
			if (r != RCPT_OK) {
				fprintf(stderr, "verify: canon: %s\n",
				    rcpt_diag_msg(&diag, r));
				goto out;
			}
			if (olen != b->len[i] ||
			    memcmp(out, b->buf + b->off[i], olen) != 0) {
				free(out);
				fprintf(
				    stderr, "verify: canon: line is not JCS\n");
				r = RCPT_E_CORRUPT;
				goto out;
			}
			free(out);
		}
		spent += rcpt_bench_now() - t0;
		bytes += (double)b->bytes;
	}
	if (r == RCPT_OK && spent > 0)
		*mbps_out = bytes / spent / 1e6;
out:
	free(line);
	fclose(f);
	return r;
}

/* Serialization of trees parsed beforehand, output bytes per second. */
static int
bench_serialize(
    const char *path, double seconds, struct block *b, double *mbps_out)
{
	json_object **trees = NULL;
	struct rcpt_diag diag;
	double spent = 0, t0, bytes = 0;
	char *line = NULL, *out;
	size_t cap = 0, olen, i, ntrees = 0;
	ssize_t pending = 0;
	FILE *f;
	int r;

	*mbps_out = 0;
	if ((f = fopen(path, "r")) == NULL)
		return RCPT_E_IO;
	r = fill_block(f, b, &line, &cap, &pending);
	free(line);
	fclose(f);
	if (r != RCPT_OK)
		return r;
	ntrees = b->nlines < SERIALIZE_TREES ? b->nlines : SERIALIZE_TREES;
	if ((trees = rcpt_calloc(ntrees, sizeof(*trees))) == NULL)
		return RCPT_E_NOMEM;
	for (i = 0; i < ntrees; i++) {
		rcpt_diag_clear(&diag);
		r = rcpt_json_parse(b->buf + b->off[i], b->len[i],
		    RCPT_JSON_DEPTH_MAX, NULL, &trees[i], &diag);
		if (r != RCPT_OK) {
			fprintf(stderr, "verify: parse: %s\n",
			    rcpt_diag_msg(&diag, r));
			goto out;
		}
	}
	while (spent < seconds) {
		t0 = rcpt_bench_now();
		for (i = 0; i < ntrees; i++) {
			r = rcpt_jcs_serialize(trees[i], &out, &olen, &diag);
			if (r != RCPT_OK) {
				fprintf(stderr, "verify: serialize: %s\n",
				    rcpt_diag_msg(&diag, r));
				goto out;
			}
			free(out);
			bytes += (double)olen;
		}
		spent += rcpt_bench_now() - t0;
	}
	*mbps_out = bytes / spent / 1e6;
	r = RCPT_OK;
out:
	for (i = 0; i < ntrees; i++)
		json_object_put(trees[i]);
	free(trees);
	return r;
}

static int
bench_jcs(const char *path, double seconds, double *canon_out, double *ser_out)
{
	struct block *b;
	int r;

	*canon_out = 0;
	*ser_out = 0;
	if ((b = rcpt_calloc(1, sizeof(*b))) == NULL)
		return RCPT_E_NOMEM;
	if ((b->buf = rcpt_malloc(BLOCK_BYTES)) == NULL) {
		free(b);
		return RCPT_E_NOMEM;
	}
	r = bench_canon(path, seconds, b, canon_out);
	if (r == RCPT_OK)
		r = bench_serialize(path, seconds, b, ser_out);
	free(b->buf);
	free(b);
	return r;
}

/* ---- report -------------------------------------------------------- */

/* Every figure of one run. */
struct figs {
	uint64_t n, lines;
	struct rcpt_bench_machine m;
	double seconds; /* per timed measurement */
	double build_s;
	double raw1[2], raw2[2]; /* before and after our verifier */
	double cpu1[2];          /* raw 1 thread, per CPU second */
	double raw1_best, raw2_best, cpu1_best;
	struct verify_fig v1, v2;
	double base_rss;
	double canon, ser;
	double ratio1, ratio2, ratio1_cpu;
	bool ok1, ok2, okm1, okm2;
};

static void
judge(struct figs *f)
{
	f->raw1_best = rcpt_bench_max(f->raw1[0], f->raw1[1]);
	f->raw2_best = rcpt_bench_max(f->raw2[0], f->raw2[1]);
	f->cpu1_best = rcpt_bench_max(f->cpu1[0], f->cpu1[1]);
	f->ratio1 = f->v1.rate / f->raw1_best;
	f->ratio2 = f->v2.rate / f->raw1_best;
	f->ratio1_cpu = f->v1.cpu_rate / f->cpu1_best;
	f->ok1 = f->ratio1 >= TARGET_RATIO_1T;
	f->ok2 = f->ratio2 >= TARGET_RATIO_2T;
	f->okm1 = f->v1.rss_mib <= TARGET_RSS_MIB;
	f->okm2 = f->v2.rss_mib <= TARGET_RSS_MIB;
}

static void
print_text(const struct figs *f)
{
	printf("\nraw OpenSSL Ed25519 verify (EVP_DigestVerifyInit + "
	       "EVP_DigestVerify, 32-byte\nmessages; best of a run before "
	       "and one after ours):\n");
	printf("  1 thread   %10.0f verifies/s   (runs %.0f, %.0f; the "
	       "physical limit)\n",
	    f->raw1_best, f->raw1[0], f->raw1[1]);
	printf("  2 threads  %10.0f verifies/s   (runs %.0f, %.0f; %.2fx "
	       "of 1 thread)\n",
	    f->raw2_best, f->raw2[0], f->raw2[1], f->raw2_best / f->raw1_best);

	printf("\nour verifier (rcpt_verify_stream over receipts.jsonl, "
	       "CLEAN):\n");
	printf("  threads=1  %10.0f receipts/s   (%" PRIu64 " in %.2f s)\n",
	    f->v1.rate, f->v1.count, f->v1.elapsed);
	printf("  threads=2  %10.0f receipts/s   (%" PRIu64 " in %.2f s)\n",
	    f->v2.rate, f->v2.count, f->v2.elapsed);
	printf("  ours_1t / raw_1t = %.3f   target >= %.2f   %s\n", f->ratio1,
	    TARGET_RATIO_1T, rcpt_bench_verdict(f->ok1));
	printf("  ours_2t / raw_1t = %.3f   target >= %.2f   %s\n", f->ratio2,
	    TARGET_RATIO_2T, rcpt_bench_verdict(f->ok2));
	printf("  per CPU second, 1 thread: ours %.0f, raw %.0f, ratio %.3f "
	       "(context: less\n  sensitive to other load)\n",
	    f->v1.cpu_rate, f->cpu1_best, f->ratio1_cpu);

	printf("\npeak RSS of verification (ru_maxrss of the child; an "
	       "idle child shows %.1f MiB):\n",
	    f->base_rss);
	printf("  threads=1  %6.1f MiB   target <= %.0f MiB   %s\n",
	    f->v1.rss_mib, TARGET_RSS_MIB, rcpt_bench_verdict(f->okm1));
	printf("  threads=2  %6.1f MiB   target <= %.0f MiB   %s\n",
	    f->v2.rss_mib, TARGET_RSS_MIB, rcpt_bench_verdict(f->okm2));

	printf("\nJCS over receipt lines (1 MB = 10^6 bytes):\n");
	printf("  parse + canonicalize  %8.1f MB/s in\n", f->canon);
	printf("  serialize only        %8.1f MB/s out\n", f->ser);
}

/* The last line: one JSON object for scripts. */
static void
print_json(const struct figs *f)
{
	bool all = f->ok1 && f->ok2 && f->okm1 && f->okm2;

	printf("\ntargets: %s\n", all ? "all met" : "some MISSED");
	printf("{\"bench\":\"verify\",\"n\":%" PRIu64 ",\"receipts\":%" PRIu64
	       ",\"nproc\":%ld,\"openssl\":\"%s\",\"load\":%.2f,"
	       "\"seconds\":%.1f,",
	    f->n, f->lines, f->m.nproc, OpenSSL_version(OPENSSL_VERSION_STRING),
	    f->m.load, f->seconds);
	printf("\"raw_verify_1t\":%.0f,\"raw_verify_2t\":%.0f,"
	       "\"raw_verify_1t_worst\":%.0f,\"raw_verify_2t_worst\":%.0f,",
	    f->raw1_best, f->raw2_best, rcpt_bench_min(f->raw1[0], f->raw1[1]),
	    rcpt_bench_min(f->raw2[0], f->raw2[1]));
	printf("\"ours_1t\":%.0f,\"ours_2t\":%.0f,"
	       "\"ratio_1t\":%.3f,\"ratio_2t\":%.3f,\"ratio_1t_cpu\":%.3f,",
	    f->v1.rate, f->v2.rate, f->ratio1, f->ratio2, f->ratio1_cpu);
	printf("\"jcs_canon_mb_s\":%.1f,\"jcs_serialize_mb_s\":%.1f,"
	       "\"peak_rss_mib_1t\":%.1f,\"peak_rss_mib_2t\":%.1f,"
	       "\"baseline_rss_mib\":%.1f,\"build_s\":%.2f,"
	       "\"targets_met\":%s}\n",
	    f->canon, f->ser, f->v1.rss_mib, f->v2.rss_mib, f->base_rss,
	    f->build_s, all ? "true" : "false");
}

/* Builds the chain in a child; fills n, lines and build_s. */
static int
build(const char *path, struct figs *f)
{
	struct build_arg ba = {.path = path, .n = f->n};
	struct child_report rep;
	double rss;
	int r;

	if ((r = run_child(child_build, &ba, &rep, &rss)) == RCPT_OK)
		r = rep.err;
	if (r != RCPT_OK) {
		fprintf(stderr, "verify: build: %s: %s\n", rcpt_strerror(r),
		    rep.reason);
		return r;
	}
	f->lines = rep.count;
	f->build_s = rep.elapsed;
	printf("\nbuild: %" PRIu64 " receipts (genesis + %" PRIu64
	       " events, sealing each) in %.2f s, %.0f receipts/s\n",
	    f->lines, f->n, f->build_s, (double)f->lines / f->build_s);
	return RCPT_OK;
}

/*
 * Raw OpenSSL is measured before and after our verifier (@p i 0 and 1)
 * and the better run is taken as the limit: one short window hit by
 * other load would otherwise flatter the ratios.
 */
static int
measure_raw(double seconds, int i, struct figs *f)
{
	int r;

	if ((r = bench_raw(seconds, 1, &f->raw1[i], &f->cpu1[i])) != RCPT_OK ||
	    (r = bench_raw(seconds, 2, &f->raw2[i], NULL)) != RCPT_OK)
		fprintf(stderr, "verify: raw OpenSSL verify failed: %s\n",
		    rcpt_strerror(r));
	return r;
}

static int
measure(const struct opts *o, const char *path, struct figs *f)
{
	struct child_report rep;
	int r;

	if ((r = build(path, f)) != RCPT_OK ||
	    (r = measure_raw(o->seconds, 0, f)) != RCPT_OK)
		return r;
	/* Each verification runs alone in a child; this one idles. */
	if ((r = run_child(NULL, NULL, &rep, &f->base_rss)) != RCPT_OK) {
		fprintf(stderr, "verify: baseline child failed\n");
		return r;
	}
	if ((r = bench_ours(path, 1, f->lines, &f->v1)) != RCPT_OK ||
	    (r = bench_ours(path, 2, f->lines, &f->v2)) != RCPT_OK ||
	    (r = measure_raw(o->seconds, 1, f)) != RCPT_OK)
		return r;
	if ((r = bench_jcs(path, o->seconds, &f->canon, &f->ser)) != RCPT_OK)
		fprintf(
		    stderr, "verify: JCS bench failed: %s\n", rcpt_strerror(r));
	return r;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct figs f;
	char dir[PATH_MAX], path[PATH_MAX + 32];
	int r;

	if (parse_args(argc, argv, &o) != RCPT_OK)
		return 2;
	memset(&f, 0, sizeof(f));
	f.n = o.n;
	f.seconds = o.seconds;
	printf("bench/verify: %" PRIu64 " events, %.1f s per timed "
	       "measurement\n",
	    o.n, o.seconds);
	rcpt_bench_machine(&f.m);

	if (rcpt_bench_mkdtemp("verify", dir, sizeof(dir)) != RCPT_OK)
		return 1;
	snprintf(path, sizeof(path), "%s/receipts.jsonl", dir);
	r = measure(&o, path, &f);
	rcpt_bench_remove_tree("verify", dir);
	if (r != RCPT_OK)
		return 1;
	judge(&f);
	print_text(&f);
	print_json(&f);
	return 0;
}
