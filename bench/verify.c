/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Verification benchmark: builds a chain of N receipts with the offline
 * chain writer and a fixed software key, then measures in one run the
 * bare libsodium Ed25519 verify rate (the physical limit: our verifier
 * checks signatures with it), the bare OpenSSL rate (context), our
 * verifier on one and two threads, the naive Python peer on as many
 * receipts, JCS throughput and the peak memory of verification alone.
 * It prints human-readable figures, whether each target was met, and
 * ends with one JSON line for scripts.  verify-limits.c holds the bare
 * loops and the peer.
 *
 * It is a measurement, not a test: a missed target is reported but does
 * not fail the run.  Only errors and a verification that is not CLEAN
 * give a non-zero exit.  It never touches a real key or a real store.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <sodium.h>

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
#include "verify-limits.h"

#define N_DEFAULT         1000000
#define N_QUICK           20000
#define SECONDS_DEFAULT   3.0
#define SECONDS_QUICK     1.0
#define BLOCK_BYTES       (8 * 1024 * 1024) /* lines read per JCS round */
#define BLOCK_LINES       65536
#define SERIALIZE_TREES   4096 /* pre-parsed trees for serialize-only */
#define TARGET_RATIO_CORE 0.85 /* of raw libsodium 1 thread x nproc */
#define TARGET_RATIO_PEER 2.0
#define TARGET_RSS_MIB    64.0

/* The one fixed seed, so that every run signs the same chain. */
static const uint8_t bench_seed[RCPT_ED25519_SEED_LEN] = RCPT_BENCH_VERIFY_SEED;

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
child_build(const void *arg, void *out)
{
	struct child_report *rep = out;
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
child_verify(const void *arg, void *out)
{
	struct child_report *rep = out;
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
	r = rcpt_bench_in_child(child_verify, &a, &rep, sizeof(rep),
	    &fig->rss_mib, rep.reason, sizeof(rep.reason));
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

enum verdict { V_MISSED, V_MET, V_UNMEASURED };

static const char *
verdict_word(enum verdict v)
{
	return v == V_UNMEASURED ? "not measured"
	                         : rcpt_bench_verdict(v == V_MET);
}

/* A bare loop's runs before [0] and after [1] our verifier. */
struct raw_fig {
	double r1[2], r2[2]; /* 1 and 2 threads */
	double cpu1[2];      /* 1 thread, per CPU second */
	double r1_best, r2_best, cpu1_best;
};

/* Every figure of one run. */
struct figs {
	uint64_t n, lines;
	struct rcpt_bench_machine m;
	double load_end; /* 1-minute load average at the end */
	double seconds;  /* per timed measurement */
	double build_s;
	struct raw_fig sod, ossl;
	struct verify_fig v1, v2;
	struct rcpt_bench_vpeer peer;
	double base_rss;
	double canon, ser;
	double limit;      /* raw libsodium 1 thread x nproc */
	double ratio_core; /* ours_2t / limit: the headline */
	double ratio_peer; /* ours_2t / peer, when measured */
	double ratio1;     /* ours_1t / raw libsodium 1 thread */
	double ratio1_cpu; /* the same per CPU second */
	double ratio_ossl; /* ours_2t / (raw OpenSSL 1 thread x nproc) */
	enum verdict ok_core, ok_peer, okm1, okm2;
};

static void
raw_best(struct raw_fig *r)
{
	r->r1_best = rcpt_bench_max(r->r1[0], r->r1[1]);
	r->r2_best = rcpt_bench_max(r->r2[0], r->r2[1]);
	r->cpu1_best = rcpt_bench_max(r->cpu1[0], r->cpu1[1]);
}

static enum verdict
at_least(double x, double target)
{
	return x >= target ? V_MET : V_MISSED;
}

static void
judge(struct figs *f)
{
	raw_best(&f->sod);
	raw_best(&f->ossl);
	f->limit = f->sod.r1_best * (double)f->m.nproc;
	f->ratio_core = f->v2.rate / f->limit;
	f->ratio1 = f->v1.rate / f->sod.r1_best;
	f->ratio1_cpu = f->v1.cpu_rate / f->sod.cpu1_best;
	f->ratio_ossl = f->v2.rate / (f->ossl.r1_best * (double)f->m.nproc);
	f->ok_core = at_least(f->ratio_core, TARGET_RATIO_CORE);
	f->ok_peer = V_UNMEASURED;
	if (f->peer.measured) {
		f->ratio_peer = f->v2.rate / f->peer.rate;
		f->ok_peer = at_least(f->ratio_peer, TARGET_RATIO_PEER);
	}
	f->okm1 = at_least(TARGET_RSS_MIB, f->v1.rss_mib);
	f->okm2 = at_least(TARGET_RSS_MIB, f->v2.rss_mib);
}

static void
print_raw(const char *what, const struct raw_fig *r)
{
	printf("\nraw %s,\n32-byte messages; best of a run before and one "
	       "after ours:\n",
	    what);
	printf("  1 thread   %10.0f verifies/s   (runs %.0f, %.0f)\n",
	    r->r1_best, r->r1[0], r->r1[1]);
	printf("  2 threads  %10.0f verifies/s   (runs %.0f, %.0f; %.2fx "
	       "of 1 thread)\n",
	    r->r2_best, r->r2[0], r->r2[1], r->r2_best / r->r1_best);
}

static void
print_text(const struct figs *f)
{
	print_raw("libsodium crypto_sign_ed25519_verify_detached (the limit)",
	    &f->sod);
	print_raw("OpenSSL EVP_DigestVerify (context)", &f->ossl);

	printf("\nour verifier (rcpt_verify_stream over receipts.jsonl, "
	       "CLEAN):\n");
	printf("  threads=1  %10.0f receipts/s   (%" PRIu64 " in %.2f s)\n",
	    f->v1.rate, f->v1.count, f->v1.elapsed);
	printf("  threads=2  %10.0f receipts/s   (%" PRIu64 " in %.2f s)\n",
	    f->v2.rate, f->v2.count, f->v2.elapsed);
	printf("  ours_2t / (raw_sodium_1t x %ld cores = %.0f) = %.3f   "
	       "target >= %.2f   %s\n",
	    f->m.nproc, f->limit, f->ratio_core, TARGET_RATIO_CORE,
	    verdict_word(f->ok_core));
	if (f->peer.measured)
		printf("  ours_2t / naive peer (%.0f receipts/s) = %.2f   "
		       "target >= %.1f   %s\n",
		    f->peer.rate, f->ratio_peer, TARGET_RATIO_PEER,
		    verdict_word(f->ok_peer));
	else
		printf("  ours_2t / naive peer: the peer was not measured "
		       "(%s)   target >= %.1f   %s\n",
		    f->peer.why, TARGET_RATIO_PEER, verdict_word(f->ok_peer));
	printf("  context: ours_1t / raw_sodium_1t = %.3f (per CPU second "
	       "%.3f);\n  ours_2t / (raw_openssl_1t x %ld) = %.3f\n",
	    f->ratio1, f->ratio1_cpu, f->m.nproc, f->ratio_ossl);

	printf("\npeak RSS of verification (ru_maxrss of the child; an "
	       "idle child shows %.1f MiB):\n",
	    f->base_rss);
	printf("  threads=1  %6.1f MiB   target <= %.0f MiB   %s\n",
	    f->v1.rss_mib, TARGET_RSS_MIB, verdict_word(f->okm1));
	printf("  threads=2  %6.1f MiB   target <= %.0f MiB   %s\n",
	    f->v2.rss_mib, TARGET_RSS_MIB, verdict_word(f->okm2));

	printf("\nJCS over receipt lines (1 MB = 10^6 bytes):\n");
	printf("  parse + canonicalize  %8.1f MB/s in\n", f->canon);
	printf("  serialize only        %8.1f MB/s out\n", f->ser);
	printf("\nload average: %.2f at the start, %.2f at the end\n",
	    f->m.load, f->load_end);
}

/* ,"key":x with @p decimals, or null when not measured. */
static void
print_peer_num(const char *key, bool measured, double x, int decimals)
{
	if (measured)
		printf(",\"%s\":%.*f", key, decimals, x);
	else
		printf(",\"%s\":null", key);
}

/* The last line: one JSON object for scripts. */
static void
print_json(const struct figs *f)
{
	bool all = f->ok_core == V_MET && f->ok_peer == V_MET &&
	           f->okm1 == V_MET && f->okm2 == V_MET;

	printf(
	    "\ntargets: %s\n", all ? "all met" : "some MISSED or not measured");
	printf("{\"bench\":\"verify\",\"n\":%" PRIu64 ",\"receipts\":%" PRIu64
	       ",\"nproc\":%ld,\"openssl\":\"%s\",\"libsodium\":\"%s\","
	       "\"load\":%.2f,\"load_end\":%.2f,\"seconds\":%.1f,",
	    f->n, f->lines, f->m.nproc, OpenSSL_version(OPENSSL_VERSION_STRING),
	    sodium_version_string(), f->m.load, f->load_end, f->seconds);
	printf("\"raw_sodium_1t\":%.0f,\"raw_sodium_2t\":%.0f,"
	       "\"raw_sodium_1t_worst\":%.0f,\"raw_sodium_2t_worst\":%.0f,"
	       "\"raw_openssl_1t\":%.0f,\"raw_openssl_2t\":%.0f,",
	    f->sod.r1_best, f->sod.r2_best,
	    rcpt_bench_min(f->sod.r1[0], f->sod.r1[1]),
	    rcpt_bench_min(f->sod.r2[0], f->sod.r2[1]), f->ossl.r1_best,
	    f->ossl.r2_best);
	printf("\"ours_1t\":%.0f,\"ours_2t\":%.0f,\"limit\":%.0f,"
	       "\"ratio_2t\":%.3f,\"ratio_1t\":%.3f,\"ratio_1t_cpu\":%.3f,"
	       "\"ratio_2t_openssl\":%.3f",
	    f->v1.rate, f->v2.rate, f->limit, f->ratio_core, f->ratio1,
	    f->ratio1_cpu, f->ratio_ossl);
	print_peer_num("peer_verify", f->peer.measured, f->peer.rate, 0);
	print_peer_num("ratio_peer", f->peer.measured, f->ratio_peer, 3);
	printf(",\"jcs_canon_mb_s\":%.1f,\"jcs_serialize_mb_s\":%.1f,"
	       "\"peak_rss_mib_1t\":%.1f,\"peak_rss_mib_2t\":%.1f,"
	       "\"baseline_rss_mib\":%.1f,\"build_s\":%.2f,"
	       "\"peer_build_s\":%.2f,",
	    f->canon, f->ser, f->v1.rss_mib, f->v2.rss_mib, f->base_rss,
	    f->build_s, f->peer.build_s);
	printf("\"target_ratio_2t\":\"%s\",\"target_peer\":\"%s\","
	       "\"target_rss\":\"%s\",\"targets_met\":%s}\n",
	    verdict_word(f->ok_core), verdict_word(f->ok_peer),
	    verdict_word(
	        f->okm1 == V_MET && f->okm2 == V_MET ? V_MET : V_MISSED),
	    all ? "true" : "false");
}

/* Builds the chain in a child; fills n, lines and build_s. */
static int
build(const char *path, struct figs *f)
{
	struct build_arg ba = {.path = path, .n = f->n};
	struct child_report rep;
	double rss;
	int r;

	if ((r = rcpt_bench_in_child(child_build, &ba, &rep, sizeof(rep), &rss,
	         rep.reason, sizeof(rep.reason))) == RCPT_OK)
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
 * The bare loops run before and after our verifier (@p i 0 and 1) and
 * the better run is taken as the limit: one short window hit by other
 * load would otherwise flatter the ratios.
 */
static int
measure_raw(double seconds, int i, struct figs *f)
{
	int r;

	if ((r = rcpt_bench_raw_verify(RCPT_BENCH_RAW_SODIUM, seconds, 1,
	         &f->sod.r1[i], &f->sod.cpu1[i])) != RCPT_OK ||
	    (r = rcpt_bench_raw_verify(RCPT_BENCH_RAW_SODIUM, seconds, 2,
	         &f->sod.r2[i], NULL)) != RCPT_OK ||
	    (r = rcpt_bench_raw_verify(RCPT_BENCH_RAW_OPENSSL, seconds, 1,
	         &f->ossl.r1[i], &f->ossl.cpu1[i])) != RCPT_OK ||
	    (r = rcpt_bench_raw_verify(RCPT_BENCH_RAW_OPENSSL, seconds, 2,
	         &f->ossl.r2[i], NULL)) != RCPT_OK)
		fprintf(stderr, "verify: raw verify loop failed: %s\n",
		    rcpt_strerror(r));
	return r;
}

static int
measure(const struct opts *o, const char *dir, const char *path, struct figs *f)
{
	struct child_report rep;
	int r;

	if ((r = build(path, f)) != RCPT_OK ||
	    (r = measure_raw(o->seconds, 0, f)) != RCPT_OK)
		return r;
	/* Each verification runs alone in a child; this one idles. */
	if ((r = rcpt_bench_in_child(NULL, NULL, &rep, sizeof(rep),
	         &f->base_rss, rep.reason, sizeof(rep.reason))) != RCPT_OK) {
		fprintf(stderr, "verify: baseline child failed\n");
		return r;
	}
	if ((r = bench_ours(path, 1, f->lines, &f->v1)) != RCPT_OK ||
	    (r = bench_ours(path, 2, f->lines, &f->v2)) != RCPT_OK ||
	    (r = measure_raw(o->seconds, 1, f)) != RCPT_OK)
		return r;
	printf("\nnaive peer: building and verifying %" PRIu64 " rows ...\n",
	    f->lines);
	fflush(stdout);
	rcpt_bench_vpeer_run(dir, f->lines, &f->peer);
	if (f->peer.measured)
		printf("naive peer: %.0f rows/s (its build took %.1f s, "
		       "untimed)\n",
		    f->peer.rate, f->peer.build_s);
	else
		printf("naive peer: not measured: %s\n", f->peer.why);
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
	r = measure(&o, dir, path, &f);
	f.load_end = -1;
	if (getloadavg(&f.load_end, 1) != 1)
		f.load_end = -1;
	rcpt_bench_remove_tree("verify", dir);
	if (r != RCPT_OK)
		return 1;
	judge(&f);
	print_text(&f);
	print_json(&f);
	return 0;
}
