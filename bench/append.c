/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Append benchmark: starts the real receiptd on a throw-away SoftHSM2
 * token in a temp dir and drives it over its socket with 1, 16 and 64
 * clients (one connection and one thread each, synchronous appends of
 * 400-byte events) for a fixed time, printing durable appends per
 * second, p50/p99/p99.9 latency and the daemon's peak RSS.  In the same
 * run and on the same token and disk it measures the physical limits
 * (append-limits.c): raw C_Sign with as many sessions as the daemon
 * signs with and the naive sign-then-commit design in rounds
 * interleaved with ours, then raw C_Sign on one session and raw LMDB
 * durable commits; and it prints our figures as shares of them.  The
 * last line of its output is one JSON object.
 *
 * It is a measurement, not a test: a missed target is reported but does
 * not fail the run.  Errors (setup, a failed append, an acknowledged
 * append missing from the chain, a daemon that does not exit 0 on
 * SIGTERM) give exit 1.  The daemon is configured, never changed.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "hsm/hsm.h"
#include "src/client.h"
#include "src/err.h"
#include "src/jcs.h"
#include "src/mem.h"

#include "append.h"
#include "common.h"

#ifndef SOFTHSM_MODULE
#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#endif
#ifndef PROVIDERS_BUILDDIR
#define PROVIDERS_BUILDDIR "keystore/.libs"
#endif
#ifndef RECEIPTD
#define RECEIPTD "src/receiptd"
#endif

#define SECONDS_DEFAULT 5.0
#define COUNTS_MAX      8
#define CLIENTS_MAX     1000
#define EVENT_LEN       400
#define EVENT_TYPE      "bench.append"
#define CHAIN           "bench"          /* the main daemon's chain */
#define CHAIN_DEFAULTS  "bench-defaults" /* the token anchors each name */
#define SIGN_THREADS    2 /* the daemon's default, set explicitly */
#define MILLION         1000000
#define TOKEN_LABEL     "rcpt-bench-append"
#define START_WAIT      60.0 /* seconds for the socket to answer */
#define STOP_WAIT       60.0 /* seconds for SIGTERM to end it */
#define ROUNDS          3
#define TARGET_RATIO    0.80
#define TARGET_P99_MS   10.0
#define TARGET_RSS_KIB  (64L * 1024)

/* The chain's sealing, "each" or "batch" (SPEC 1.2; --sealing). */
static const char *sealing = "each";

struct opts {
	double seconds;
	int counts[COUNTS_MAX]; /* client counts, in the order given */
	int ncounts;
	int top; /* index of the largest count: the one judged */
	bool million, defaults;
};

/* One receiptd and what talks to it. */
struct dproc {
	char conf[PATH_MAX], store[PATH_MAX], sock[PATH_MAX], log[PATH_MAX];
	const char *chain;       /* its one chain */
	pid_t pid;               /* 0 when not running */
	struct rcpt_client *ctl; /* owned; for tips */
};

struct env {
	char root[PATH_MAX];   /* mkdtemp; removed at the end */
	char tokdir[PATH_MAX]; /* root/token: softhsm2.conf, PINs, tokens */
	char provdir[PATH_MAX];
	char pin[PATH_MAX];
	const char *fs; /* file system of root: static */
	bool made_root;
	struct dproc main, dflt; /* bench settings; defaults */
	struct rcpt_bench_p11 p11;
	size_t receipt_len; /* a stored receipt of our events */
};

/*
 * The figures of one client count, gathered over its slices (one for
 * --million and the defaults run) and then summed up by finish_run().
 */
struct run {
	int clients;
	struct rcpt_bench_sample lat; /* ms of each measured append */
	uint64_t window;              /* appends started in measured time */
	double measured;              /* s of measured time */
	double wall, cpu_d, cpu_c;    /* s: in all; daemon and client CPU */
	double raw_sum, naive_sum;    /* rates of the limit slices, summed */
	int nraw, nnaive;             /* slices of each */
	double round[ROUNDS][3];      /* per round: ours, raw, naive per s */
	double rate;                  /* durable appends per second */
	double p50, p99, p999, pmax;  /* ms */
	uint64_t total;               /* appends acknowledged, warm-up too */
	uint64_t commits;             /* the daemon's LMDB commits meanwhile */
	double batch;                 /* total / commits */
	double daemon_cores, client_cores;
	long hwm_kib;   /* the daemon's VmHWM after the run */
	double raw_ms;  /* raw C_Sign, SIGN_THREADS sessions, interleaved */
	double ratio;   /* rate / raw_ms */
	double floor;   /* ms: clients / raw_ms, the least mean latency */
	double naive;   /* naive design, as many threads, interleaved */
	double speedup; /* rate / naive */
};

struct figs {
	struct rcpt_bench_machine m;
	double warmup, limit; /* seconds */
	struct run runs[COUNTS_MAX], dflt, mil;
	bool have_dflt, have_mil;
	double slice;                        /* s of one ours slice */
	double raw_ms, raw_ms_lo, raw_ms_hi; /* over all raw slices */
	int nraw;
	struct rcpt_bench_limits lim;
	long rss_kib, mil_rss_kib; /* VmHWM at the end; VmRSS after --million */
	long anon_kib, file_kib;   /* the main daemon's RSS at the end, split */
	uint64_t receipts;         /* in the main daemon's chain at the end */
	char softhsm[64];          /* the module's C_GetInfo */
	bool ok_ratio, ok_p99, ok_rss;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: append [--seconds S] [--clients LIST] [--million] "
	    "[--no-defaults]\n"
	    "              [--sealing each|batch]\n"
	    "  --seconds S     measured seconds of the daemon per client "
	    "count, in %d\n"
	    "                  rounds (0.5 to 600, default %.0f)\n"
	    "  --clients LIST  up to %d client counts of 1 to %d, "
	    "comma-separated\n"
	    "                  (default 1,16,64)\n"
	    "  --million       also append 1,000,000 receipts with the "
	    "largest count\n"
	    "                  and report the daemon's RSS after (minutes)\n"
	    "  --no-defaults   skip the run with the daemon's default "
	    "sign_threads\n"
	    "                  and checkpoint settings\n"
	    "  --sealing MODE  the chains' sealing: each (default) or batch,\n"
	    "                  which signs once per commit (SPEC 1.2)\n",
	    ROUNDS, SECONDS_DEFAULT, COUNTS_MAX, CLIENTS_MAX);
}

static int
parse_clients(const char *s, struct opts *o)
{
	char *end;
	long v;

	for (o->ncounts = 0;; s = end + 1) {
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno != 0 || end == s || v < 1 || v > CLIENTS_MAX ||
		    o->ncounts == COUNTS_MAX || (*end != ',' && *end != '\0'))
			return RCPT_E_INVAL;
		o->counts[o->ncounts++] = (int)v;
		if (*end == '\0')
			return RCPT_OK;
	}
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	char *end;
	int i;

	*o = (struct opts){.seconds = SECONDS_DEFAULT,
	    .counts = {1, 16, 64},
	    .ncounts = 3,
	    .defaults = true};
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(argv[i], "--million") == 0) {
			o->million = true;
		} else if (strcmp(argv[i], "--no-defaults") == 0) {
			o->defaults = false;
		} else if (strcmp(argv[i], "--sealing") == 0 && i + 1 < argc) {
			sealing = argv[++i];
			if (strcmp(sealing, "each") != 0 &&
			    strcmp(sealing, "batch") != 0) {
				fprintf(stderr,
				    "append: --sealing: want each or batch\n");
				return RCPT_E_INVAL;
			}
		} else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			errno = 0;
			o->seconds = strtod(argv[++i], &end);
			if (errno != 0 || *end != '\0' ||
			    !(o->seconds >= 0.5 && o->seconds <= 600)) {
				fprintf(stderr, "append: --seconds: want 0.5 "
				                "to 600\n");
				return RCPT_E_INVAL;
			}
		} else if (strcmp(argv[i], "--clients") == 0 && i + 1 < argc) {
			if (parse_clients(argv[++i], o) != RCPT_OK) {
				fprintf(stderr,
				    "append: --clients: want up to %d counts "
				    "of 1 to %d, comma-separated\n",
				    COUNTS_MAX, CLIENTS_MAX);
				return RCPT_E_INVAL;
			}
		} else {
			usage(stderr);
			return RCPT_E_INVAL;
		}
	}
	for (i = 0; i < o->ncounts; i++)
		if (o->counts[i] > o->counts[o->top])
			o->top = i;
	return RCPT_OK;
}

/* ---- events ------------------------------------------------------------ */

/*
 * An event of exactly EVENT_LEN bytes of JCS (sorted keys, no blanks,
 * plain ASCII strings), different for each client and count.
 */
static void
make_event(char out[EVENT_LEN + 1], int client, uint64_t n)
{
	int len, pad;

	len = snprintf(out, EVENT_LEN + 1,
	    "{\"event\":\"c%04d-%012" PRIu64 "\",\"pad\":\"", client,
	    n % UINT64_C(1000000000000));
	pad = EVENT_LEN - len - 2;
	memset(out + len, 'x', (size_t)pad);
	memcpy(out + len + pad, "\"}", 3);
}

static int
check_event(void)
{
	char ev[EVENT_LEN + 1], *canon = NULL;
	struct rcpt_diag d;
	size_t len = 0;
	int r;

	make_event(ev, CLIENTS_MAX, 0);
	rcpt_diag_clear(&d);
	r = rcpt_jcs_canon(ev, strlen(ev), 8, &canon, &len, &d);
	if (r == RCPT_OK && (len != EVENT_LEN || strcmp(canon, ev) != 0))
		r = rcpt_diag(&d, RCPT_E_INTERNAL, "not its own JCS");
	if (r != RCPT_OK)
		fprintf(stderr,
		    "append: the event is not %d bytes of JCS: %s\n", EVENT_LEN,
		    rcpt_diag_msg(&d, r));
	free(canon);
	return r;
}

/* ---- the daemon --------------------------------------------------------- */

/*
 * The configuration of daemon @p name: with @p bench, sign_threads and
 * checkpoints fixed as the README says; otherwise those left out, so
 * that the daemon's defaults apply.  The map sizes are the bench's in
 * both, or a long run would fill the default 64 MiB map.
 */
static int
dproc_init(struct env *e, struct dproc *dm, const char *name, bool bench)
{
	char threads[32] = "";
	FILE *f;

	dm->chain = bench ? CHAIN : CHAIN_DEFAULTS;
	snprintf(dm->conf, sizeof(dm->conf), "%.*s/%s.conf", PATH_MAX - 64,
	    e->root, name);
	snprintf(dm->store, sizeof(dm->store), "%.*s/%s-store", PATH_MAX - 64,
	    e->root, name);
	snprintf(dm->sock, sizeof(dm->sock), "%.*s/%s.sock", PATH_MAX - 64,
	    e->root, name);
	snprintf(dm->log, sizeof(dm->log), "%.*s/%s.log", PATH_MAX - 64,
	    e->root, name);
	/* A socket path fits in sun_path, 108 bytes with its NUL. */
	if (strlen(dm->sock) >= 108) {
		fprintf(stderr,
		    "append: %s: too long for a socket; set a "
		    "shorter TMPDIR\n",
		    dm->sock);
		return RCPT_E_CONFIG;
	}
	if (bench)
		snprintf(threads, sizeof(threads), "sign_threads = %d\n",
		    SIGN_THREADS);
	if ((f = fopen(dm->conf, "w")) == NULL) {
		fprintf(stderr, "append: %s: %s\n", dm->conf, strerror(errno));
		return RCPT_E_IO;
	}
	fprintf(f,
	    "[daemon]\nsocket = %s\nsocket_mode = 0600\nstore = %s\n"
	    "origin = bench.example/receiptd\nmap_size = 256M\n"
	    "map_max = 16G\n%s\n"
	    "[provider]\nname = pkcs11\n"
	    "config = module=%s;token=pkcs11:token=" TOKEN_LABEL
	    ";pin-file=%s\nproviders_dir = %s\n\n"
	    "[principals]\nbench = uid:%lu\n\n"
	    "[chain %s]\nappend = bench\nread = bench\nadmin = bench\n"
	    "sealing = %s\n%s",
	    dm->sock, dm->store, threads, SOFTHSM_MODULE, e->pin, e->provdir,
	    (unsigned long)getuid(), dm->chain, sealing,
	    bench ? "checkpoint_every = 0\ncheckpoint_interval = 0\n" : "");
	/* It grants access to chains: the daemon wants it private. */
	if (fclose(f) != 0 || chmod(dm->conf, 0600) != 0) {
		fprintf(stderr, "append: %s: %s\n", dm->conf, strerror(errno));
		return RCPT_E_IO;
	}
	return RCPT_OK;
}

/* Starts the daemon and waits until its socket answers. */
static int
dproc_start(struct dproc *dm)
{
	char *argv[] = {"receiptd", "-c", dm->conf, NULL};
	double until = rcpt_bench_now() + START_WAIT;
	struct rcpt_diag d;
	int st;

	if ((dm->pid = rcpt_bench_spawn("append", RECEIPTD, argv, dm->log)) <
	    0) {
		dm->pid = 0;
		return RCPT_E_IO;
	}
	while (rcpt_bench_now() < until) {
		rcpt_diag_clear(&d);
		if (rcpt_client_connect(dm->sock, &dm->ctl, &d) == RCPT_OK)
			return RCPT_OK;
		if ((st = rcpt_bench_child_wait(dm->pid, 0.02)) >= 0) {
			fprintf(stderr, "append: receiptd exited %d at start\n",
			    st);
			dm->pid = 0;
			rcpt_bench_show_file(dm->log);
			return RCPT_E_IO;
		}
	}
	fprintf(stderr, "append: receiptd's socket never answered\n");
	rcpt_bench_show_file(dm->log);
	return RCPT_E_IO;
}

/* SIGTERM, as systemd stops it; its exit status, or -1. */
static int
dproc_stop(struct dproc *dm)
{
	int st;

	rcpt_client_close(dm->ctl);
	dm->ctl = NULL;
	if (dm->pid == 0)
		return -1;
	kill(dm->pid, SIGTERM);
	if ((st = rcpt_bench_child_wait(dm->pid, STOP_WAIT)) < 0) {
		fprintf(stderr, "append: receiptd ignored SIGTERM for %.0f s\n",
		    STOP_WAIT);
		kill(dm->pid, SIGKILL);
		(void)rcpt_bench_child_wait(dm->pid, STOP_WAIT);
	}
	dm->pid = 0;
	if (st != 0)
		rcpt_bench_show_file(dm->log);
	return st;
}

static int
tip_size(struct dproc *dm, uint64_t *size_out)
{
	struct rcpt_diag d;
	int r;

	rcpt_diag_clear(&d);
	if ((r = rcpt_client_tip(dm->ctl, dm->chain, size_out, NULL, &d)) !=
	    RCPT_OK)
		fprintf(stderr, "append: tip: %s\n", rcpt_diag_msg(&d, r));
	return r;
}

/* One append, to learn how long a stored receipt of our events is. */
static int
probe(struct env *e, struct dproc *dm)
{
	char data[EVENT_LEN + 1], *rec = NULL;
	struct rcpt_client_event ev = {
	    .chain = dm->chain, .type = EVENT_TYPE, .data = data};
	struct rcpt_diag d;
	int r;

	make_event(data, 0, 0);
	rcpt_diag_clear(&d);
	if ((r = rcpt_client_append(dm->ctl, &ev, &rec, &e->receipt_len, &d)) !=
	    RCPT_OK)
		fprintf(
		    stderr, "append: first append: %s\n", rcpt_diag_msg(&d, r));
	free(rec);
	return r;
}

/* ---- clients ------------------------------------------------------------ */

/* What the client threads of one run share. */
struct load {
	const char *chain;
	struct rcpt_bench_gate gate;
	pthread_mutex_t mu;
	double t0; /* when the first thread passed the gate; 0 before */
	double warm, seconds;
	uint64_t limit; /* appends in all; 0: run for warm + seconds */
	atomic_uint_fast64_t tickets;
};

struct client {
	struct load *L;
	struct rcpt_client *c; /* owned */
	int idx;
	struct rcpt_bench_sample lat; /* ms of each measured append */
	uint64_t window; /* appends started in the measured window */
	uint64_t total;  /* appends acknowledged */
	double last;     /* when the last one was acknowledged */
	int err;
	char reason[300];
};

static double
load_t0(struct load *L)
{
	double t;

	pthread_mutex_lock(&L->mu);
	if (L->t0 == 0)
		L->t0 = rcpt_bench_now();
	t = L->t0;
	pthread_mutex_unlock(&L->mu);
	return t;
}

static void *
client_loop(void *arg)
{
	struct client *k = arg;
	struct load *L = k->L;
	char data[EVENT_LEN + 1], *rec;
	struct rcpt_client_event ev = {
	    .chain = L->chain, .type = EVENT_TYPE, .data = data};
	struct rcpt_diag d;
	double t0, t_meas, t_end, a, b;
	size_t len;
	int r;

	k->err = RCPT_E_INTERNAL;
	if (!rcpt_bench_gate_wait(&L->gate))
		return NULL;
	t0 = load_t0(L);
	t_meas = t0 + L->warm;
	t_end = t_meas + L->seconds;
	for (;;) {
		a = rcpt_bench_now();
		if (L->limit == 0
		        ? a >= t_end
		        : atomic_fetch_add(&L->tickets, 1) >= L->limit)
			break;
		make_event(data, k->idx, k->total);
		rcpt_diag_clear(&d);
		r = rcpt_client_append(k->c, &ev, &rec, &len, &d);
		b = rcpt_bench_now();
		if (r != RCPT_OK) {
			snprintf(k->reason, sizeof(k->reason), "%s",
			    rcpt_diag_msg(&d, r));
			k->err = r;
			return NULL;
		}
		free(rec);
		k->total++;
		k->last = b;
		/* Counted by start: the window's rate, by Little's law. */
		if (a >= t_meas) {
			if (!rcpt_bench_sample_add(&k->lat, (b - a) * 1000)) {
				k->err = RCPT_E_NOMEM;
				return NULL;
			}
			k->window++;
		}
	}
	k->err = RCPT_OK;
	return NULL;
}

/* Adds the clients' latencies and counts to @p x. */
static int
gather(struct client *cl, int n, const struct load *L, struct run *x)
{
	double last = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (!rcpt_bench_sample_take(&x->lat, &cl[i].lat))
			return RCPT_E_NOMEM;
		x->window += cl[i].window;
		x->total += cl[i].total;
		last = rcpt_bench_max(last, cl[i].last);
	}
	/* With a limit, all the time counts: there is no warm-up. */
	x->measured += L->limit != 0 ? last - L->t0 : L->seconds;
	return RCPT_OK;
}

/* Percentiles, rates and ratios of @p x once its slices are in. */
static int
finish_run(struct run *x)
{
	if (x->lat.n == 0 || x->measured <= 0 || x->wall <= 0) {
		fprintf(stderr, "append: no appends measured\n");
		return RCPT_E_INTERNAL;
	}
	rcpt_bench_sample_sort(&x->lat);
	x->p50 = rcpt_bench_quantile(x->lat.v, x->lat.n, 0.50);
	x->p99 = rcpt_bench_quantile(x->lat.v, x->lat.n, 0.99);
	x->p999 = rcpt_bench_quantile(x->lat.v, x->lat.n, 0.999);
	x->pmax = x->lat.v[x->lat.n - 1];
	rcpt_bench_sample_free(&x->lat);
	x->rate = (double)x->window / x->measured;
	x->batch = x->commits != 0 ? (double)x->total / (double)x->commits : 0;
	x->daemon_cores = x->cpu_d / x->wall;
	x->client_cores = x->cpu_c / x->wall;
	if (x->nraw > 0) {
		x->raw_ms = x->raw_sum / x->nraw;
		x->ratio = x->rate / x->raw_ms;
		/* Little's law: n clients, one call each, at most raw_ms/s. */
		x->floor = 1000.0 * x->clients / x->raw_ms;
	}
	if (x->nnaive > 0) {
		x->naive = x->naive_sum / x->nnaive;
		x->speedup = x->rate / x->naive;
	}
	return RCPT_OK;
}

/* Counts the daemon's commits from outside; 0 when it cannot. */
static uint64_t
txnid(const struct dproc *dm)
{
	uint64_t id = 0;

	return rcpt_bench_lmdb_txnid(dm->store, &id) == RCPT_OK ? id : 0;
}

/*
 * One slice of x->clients clients on their own connections, appending
 * for @p warm + @p seconds (or @p limit appends in all), added to @p x;
 * every acknowledged append must then be in the chain.
 */
static int
clients_run(struct dproc *dm, double warm, double seconds, uint64_t limit,
    struct run *x)
{
	struct load L = {.chain = dm->chain,
	    .gate = RCPT_BENCH_GATE_INIT,
	    .warm = warm,
	    .seconds = seconds,
	    .limit = limit};
	struct client *cl;
	void **args;
	struct rcpt_diag d;
	uint64_t tip0 = 0, tip1 = 0, tx0, tx1;
	double t_a, cpu_d, cpu_c;
	int i, n = x->clients, r = RCPT_E_NOMEM;
	uint64_t before = x->total;

	pthread_mutex_init(&L.mu, NULL);
	atomic_init(&L.tickets, 0);
	cl = rcpt_calloc((size_t)n, sizeof(*cl));
	args = rcpt_calloc((size_t)n, sizeof(*args));
	if (cl == NULL || args == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		cl[i].L = &L;
		cl[i].idx = i;
		args[i] = &cl[i];
		rcpt_diag_clear(&d);
		if ((r = rcpt_client_connect(dm->sock, &cl[i].c, &d)) !=
		    RCPT_OK) {
			fprintf(stderr, "append: connect %d: %s\n", i,
			    rcpt_diag_msg(&d, r));
			goto out;
		}
	}
	if ((r = tip_size(dm, &tip0)) != RCPT_OK)
		goto out;
	tx0 = txnid(dm);
	cpu_d = rcpt_bench_proc_cpu(dm->pid);
	cpu_c = rcpt_bench_cpu(CLOCK_PROCESS_CPUTIME_ID);
	t_a = rcpt_bench_now();
	if ((r = rcpt_bench_threads_many(client_loop, args, n, &L.gate)) !=
	    RCPT_OK) {
		fprintf(stderr, "append: cannot start %d client threads\n", n);
		goto out;
	}
	x->wall += rcpt_bench_now() - t_a;
	x->cpu_d += rcpt_bench_proc_cpu(dm->pid) - cpu_d;
	x->cpu_c += rcpt_bench_cpu(CLOCK_PROCESS_CPUTIME_ID) - cpu_c;
	tx1 = txnid(dm);
	for (i = 0; i < n; i++)
		if (cl[i].err != RCPT_OK) {
			fprintf(stderr, "append: client %d: %s: %s\n", i,
			    rcpt_strerror(cl[i].err), cl[i].reason);
			rcpt_bench_show_file(dm->log);
			r = cl[i].err;
			goto out;
		}
	if ((r = tip_size(dm, &tip1)) != RCPT_OK ||
	    (r = gather(cl, n, &L, x)) != RCPT_OK)
		goto out;
	if (tip1 - tip0 != x->total - before) {
		fprintf(stderr,
		    "append: %" PRIu64 " appends acknowledged, but the chain "
		    "grew by %" PRIu64 "\n",
		    x->total - before, tip1 - tip0);
		r = RCPT_E_CORRUPT;
		goto out;
	}
	x->commits += tx0 != 0 && tx1 > tx0 ? tx1 - tx0 : 0;
	x->hwm_kib = rcpt_bench_proc_kib(dm->pid, "VmHWM:");
	r = RCPT_OK;
out:
	for (i = 0; cl != NULL && i < n; i++) {
		rcpt_client_close(cl[i].c);
		rcpt_bench_sample_free(&cl[i].lat);
	}
	free(args);
	free(cl);
	pthread_mutex_destroy(&L.mu);
	return r;
}

static void
print_run(const struct run *x)
{
	printf("  %3d client%s %7.0f appends/s   p50 %6.2f  p99 %6.2f  "
	       "p99.9 %6.2f  max %6.2f ms\n",
	    x->clients, x->clients > 1 ? "s:" : ": ", x->rate, x->p50, x->p99,
	    x->p999, x->pmax);
	printf("               mean batch %.1f (%" PRIu64
	       " commits for %" PRIu64
	       " appends), daemon CPU %.2f cores,\n               clients "
	       "%.2f cores, daemon peak RSS %.1f MiB\n",
	    x->batch, x->commits, x->total, x->daemon_cores, x->client_cores,
	    x->hwm_kib / 1024.0);
	fflush(stdout);
}

/* ---- the measurements --------------------------------------------------- */

/* The temp root, the token and the plugin copy. */
static int
setup(struct env *e)
{
	struct rcpt_diag d;
	int r;

	if ((r = rcpt_bench_mkdtemp("append", e->root, sizeof(e->root))) !=
	    RCPT_OK)
		return r;
	e->made_root = true;
	/* The provider's config string is split at ';'. */
	if (strchr(e->root, ';') != NULL) {
		fprintf(stderr, "append: TMPDIR must not contain ';'\n");
		return RCPT_E_CONFIG;
	}
	snprintf(
	    e->tokdir, sizeof(e->tokdir), "%.*s/token", PATH_MAX - 64, e->root);
	snprintf(e->provdir, sizeof(e->provdir), "%.*s/providers",
	    PATH_MAX - 64, e->root);
	snprintf(
	    e->pin, sizeof(e->pin), "%.*s/user.pin", PATH_MAX - 64, e->tokdir);
	e->fs = rcpt_bench_fs_type(e->root);
	rcpt_diag_clear(&d);
	/* Sets SOFTHSM2_CONF in our environment; the daemon inherits it. */
	r = rcpt_hsm_softhsm_init_module(
	    SOFTHSM_MODULE, e->tokdir, TOKEN_LABEL, &d);
	if (r != RCPT_OK) {
		fprintf(stderr, "append: token: %s\n", rcpt_diag_msg(&d, r));
		return r;
	}
	/* The loader refuses plugins in group- or other-writable places. */
	if (mkdir(e->provdir, 0755) != 0 || chmod(e->provdir, 0755) != 0) {
		fprintf(stderr, "append: mkdir %s: %s\n", e->provdir,
		    strerror(errno));
		return RCPT_E_IO;
	}
	return rcpt_bench_copy_file("append",
	    PROVIDERS_BUILDDIR "/provider-pkcs11.so", e->provdir, 0755);
}

/* What one slice of a round runs. */
enum slice { SLICE_OURS, SLICE_RAW, SLICE_NAIVE };

/* Runs one slice of round @p i for @p x; adds to @p x and @p f. */
static int
run_slice(struct env *e, struct figs *f, struct run *x, enum slice what, int i)
{
	struct rcpt_bench_rate rate;
	uint64_t before = x->window;
	int r;

	switch (what) {
	case SLICE_OURS:
		if ((r = clients_run(&e->main, f->warmup, f->slice, 0, x)) !=
		    RCPT_OK)
			return r;
		x->round[i][0] = (double)(x->window - before) / f->slice;
		return RCPT_OK;
	case SLICE_RAW:
		if ((r = rcpt_bench_csign(&e->p11, SIGN_THREADS,
		         f->limit / ROUNDS, &rate)) != RCPT_OK)
			return r;
		x->raw_sum += rate.ops;
		x->nraw++;
		x->round[i][1] = rate.ops;
		f->raw_ms += rate.ops;
		f->raw_ms_lo = f->nraw == 0
		                   ? rate.ops
		                   : rcpt_bench_min(f->raw_ms_lo, rate.ops);
		f->raw_ms_hi = rcpt_bench_max(f->raw_ms_hi, rate.ops);
		f->nraw++;
		return RCPT_OK;
	case SLICE_NAIVE:
		if ((r = rcpt_bench_naive(&e->p11, e->root, x->clients,
		         EVENT_LEN, e->receipt_len, f->limit / ROUNDS,
		         &rate)) != RCPT_OK)
			return r;
		x->naive_sum += rate.ops;
		x->nnaive++;
		x->round[i][2] = rate.ops;
		return RCPT_OK;
	}
	return RCPT_E_INTERNAL;
}

/*
 * Each client count in ROUNDS rounds of three slices: ours, raw C_Sign
 * with the daemon's sessions and the naive design, the order reversed
 * in odd rounds.  Load from other programs, and a disk whose syncs
 * slow down and speed up over seconds, then fall on a run and on the
 * limits it is divided by alike.
 */
static int
measure_runs(struct env *e, const struct opts *o, struct figs *f)
{
	static const enum slice order[2][3] = {
	    {SLICE_OURS, SLICE_RAW, SLICE_NAIVE},
	    {SLICE_NAIVE, SLICE_RAW, SLICE_OURS}};
	struct run *x;
	int i, k, j, r;

	printf("\nclient runs: %d rounds per client count, each of %.2f s "
	       "ours (after a\n%.2f s warm-up), %.2f s raw C_Sign with %d "
	       "sessions and %.2f s naive design\n(order reversed in odd "
	       "rounds); per round: ours/s, raw_ms/s, naive/s\n",
	    ROUNDS, f->slice, f->warmup, f->limit / ROUNDS, SIGN_THREADS,
	    f->limit / ROUNDS);
	for (i = 0; i < o->ncounts; i++) {
		x = &f->runs[i];
		x->clients = o->counts[i];
		for (k = 0; k < ROUNDS; k++)
			for (j = 0; j < 3; j++)
				if ((r = run_slice(e, f, x, order[k % 2][j],
				         k)) != RCPT_OK)
					return r;
		if ((r = finish_run(x)) != RCPT_OK)
			return r;
		print_run(x);
		printf("               rounds:");
		for (k = 0; k < ROUNDS; k++)
			printf(" %.0f/%.0f/%.0f", x->round[k][0],
			    x->round[k][1], x->round[k][2]);
		printf("\n");
	}
	f->raw_ms /= f->nraw;
	return RCPT_OK;
}

/* Raw C_Sign on one session and raw LMDB commits. */
static int
measure_limits(struct env *e, const struct opts *o, struct figs *f)
{
	struct rcpt_bench_limits_in in = {.w = &e->p11,
	    .dir = e->root,
	    .batch = f->runs[o->top].batch,
	    .value_len = e->receipt_len,
	    .seconds = f->limit};

	return rcpt_bench_limits(&in, &f->lim);
}

static int
measure_million(struct env *e, const struct opts *o, struct figs *f)
{
	int r;

	printf("\nmillion: %d clients append %d receipts to the same "
	       "daemon...\n",
	    o->counts[o->top], MILLION);
	fflush(stdout);
	f->mil.clients = o->counts[o->top];
	if ((r = clients_run(&e->main, 0, 0, MILLION, &f->mil)) != RCPT_OK ||
	    (r = finish_run(&f->mil)) != RCPT_OK)
		return r;
	f->mil_rss_kib = rcpt_bench_proc_kib(e->main.pid, "VmRSS:");
	f->have_mil = true;
	printf("  took %.0f s (%.0f appends/s, p50 %.2f ms, p99 %.2f ms, "
	       "p99.9 %.2f ms);\n  daemon RSS after: %.1f MiB now, %.1f MiB "
	       "peak\n",
	    f->mil.wall, f->mil.rate, f->mil.p50, f->mil.p99, f->mil.p999,
	    f->mil_rss_kib / 1024.0, f->mil.hwm_kib / 1024.0);
	return RCPT_OK;
}

/* A second daemon, fresh store, signing and checkpoints by default. */
static int
measure_defaults(struct env *e, const struct opts *o, struct figs *f)
{
	int r, st;

	printf("\ndefaults run: a second daemon on a fresh store, "
	       "sign_threads, checkpoint_every\n(1000) and "
	       "checkpoint_interval (60 s) left at their defaults:\n");
	f->dflt.clients = o->counts[o->top];
	if ((r = dproc_init(e, &e->dflt, "defaults", false)) != RCPT_OK ||
	    (r = dproc_start(&e->dflt)) != RCPT_OK ||
	    (r = clients_run(&e->dflt, rcpt_bench_min(1.0, o->seconds / 5),
	         o->seconds, 0, &f->dflt)) != RCPT_OK ||
	    (r = finish_run(&f->dflt)) != RCPT_OK)
		return r;
	print_run(&f->dflt);
	if ((st = dproc_stop(&e->dflt)) != 0) {
		fprintf(stderr, "append: receiptd exited %d on SIGTERM\n", st);
		return RCPT_E_INTERNAL;
	}
	printf("  SIGTERM: exit 0\n");
	f->have_dflt = true;
	return RCPT_OK;
}

static int
run(struct env *e, const struct opts *o, struct figs *f)
{
	int r, st, nsess = rcpt_bench_max(o->counts[o->top], SIGN_THREADS);

	if ((r = check_event()) != RCPT_OK || (r = setup(e)) != RCPT_OK)
		return r;
	printf("disk: %s (%s)%s\n", e->root, e->fs,
	    strcmp(e->fs, "tmpfs") == 0
	        ? "; WARNING: syncs cost nothing there, set TMPDIR to a disk"
	        : "");
	if ((r = dproc_init(e, &e->main, "main", true)) != RCPT_OK ||
	    (r = dproc_start(&e->main)) != RCPT_OK ||
	    (r = probe(e, &e->main)) != RCPT_OK ||
	    (r = rcpt_bench_p11_open(&e->p11, TOKEN_LABEL, e->pin, nsess)) !=
	        RCPT_OK)
		return r;
	printf("daemon: %s, pid %ld: sign_threads = %d, chain %s"
	       " sealing = %s,\n  checkpoint_every = 0 and "
	       "checkpoint_interval = 0 (checkpoints off, so that\n  they do "
	       "not distort the figures), map_size 256M, map_max 16G\n",
	    RECEIPTD, (long)e->main.pid, SIGN_THREADS, e->main.chain, sealing);
	printf("token: %s; the limits sign with the daemon's Ed25519 key "
	       "(%d on the token)\n  through our own p11-kit instance of "
	       "the module\n",
	    e->p11.version, e->p11.nkeys);
	printf("events: data of %d bytes of JCS, type " EVENT_TYPE
	       ", no tags; a stored receipt is\n  %zu bytes\n",
	    EVENT_LEN, e->receipt_len);
	if ((r = measure_runs(e, o, f)) != RCPT_OK ||
	    (r = measure_limits(e, o, f)) != RCPT_OK ||
	    (o->million && (r = measure_million(e, o, f)) != RCPT_OK) ||
	    (r = tip_size(&e->main, &f->receipts)) != RCPT_OK)
		return r;
	f->rss_kib = rcpt_bench_proc_kib(e->main.pid, "VmHWM:");
	f->anon_kib = rcpt_bench_proc_kib(e->main.pid, "RssAnon:");
	f->file_kib = rcpt_bench_proc_kib(e->main.pid, "RssFile:");
	if ((st = dproc_stop(&e->main)) != 0) {
		fprintf(stderr, "append: receiptd exited %d on SIGTERM\n", st);
		return RCPT_E_INTERNAL;
	}
	printf("\nmain daemon: peak RSS (VmHWM) %.1f MiB with %" PRIu64
	       " receipts in its chain (now\n  %.1f MiB anonymous, %.1f MiB "
	       "file pages: the LMDB map and libraries);\n  SIGTERM: exit 0\n",
	    f->rss_kib / 1024.0, f->receipts, f->anon_kib / 1024.0,
	    f->file_kib / 1024.0);
	/* The second daemon's new key must not meet our open instance. */
	snprintf(f->softhsm, sizeof(f->softhsm), "%s", e->p11.version);
	rcpt_bench_p11_close(&e->p11);
	if (o->defaults && (r = measure_defaults(e, o, f)) != RCPT_OK)
		return r;
	return RCPT_OK;
}

/* ---- report -------------------------------------------------------------- */

static void
judge(const struct opts *o, struct figs *f)
{
	const struct run *t = &f->runs[o->top];

	f->ok_ratio = t->ratio >= TARGET_RATIO;
	f->ok_p99 = t->p99 < TARGET_P99_MS;
	f->ok_rss = f->rss_kib >= 0 && f->rss_kib < TARGET_RSS_KIB;
}

static void
print_text(const struct opts *o, const struct figs *f)
{
	const struct run *t = &f->runs[o->top];
	int i;

	printf("\nsummary (ours: durable appends/s; raw_ms: raw C_Sign with "
	       "%d sessions; naive:\nthe naive design on as many threads; "
	       "both the means of their slices\ninterleaved with ours):\n",
	    SIGN_THREADS);
	printf("  clients   ours/s   p99 ms  floor ms   raw_ms/s  ours/raw_ms"
	       "   naive/s  speed-up\n");
	for (i = 0; i < o->ncounts; i++)
		printf("  %7d %8.0f %8.2f %9.2f %10.0f %12.3f %9.0f %8.2fx\n",
		    f->runs[i].clients, f->runs[i].rate, f->runs[i].p99,
		    f->runs[i].floor, f->runs[i].raw_ms, f->runs[i].ratio,
		    f->runs[i].naive, f->runs[i].speedup);
	printf("  floor: clients / raw_ms, the least mean latency n "
	       "synchronous clients can\n  see when every append needs one "
	       "signature (Little's law)\n");
	printf("  raw C_Sign: 1 session %.0f/s, %d sessions %.0f/s (slices "
	       "%.0f to %.0f), %.2fx\n",
	    f->lim.raw_1s, SIGN_THREADS, f->raw_ms, f->raw_ms_lo, f->raw_ms_hi,
	    f->raw_ms / f->lim.raw_1s);
	printf("\ntargets, at %d clients:\n", t->clients);
	printf("  ours / raw C_Sign (%d sessions) = %.3f   target >= %.2f   "
	       "%s\n",
	    SIGN_THREADS, t->ratio, TARGET_RATIO,
	    rcpt_bench_verdict(f->ok_ratio));
	printf("  p99 = %.2f ms   target < %.0f ms   %s   (mean latency "
	       "floor %.2f ms)\n",
	    t->p99, TARGET_P99_MS, rcpt_bench_verdict(f->ok_p99), t->floor);
	printf("  daemon peak RSS = %.1f MiB with %" PRIu64
	       " receipts   target < 64 MiB after\n  1,000,000 receipts   "
	       "%s%s\n",
	    f->rss_kib / 1024.0, f->receipts, rcpt_bench_verdict(f->ok_rss),
	    f->have_mil ? "" : " (provisional: --million not run)");
	printf("  speed-up over the naive design = %.2fx   (no target)\n",
	    t->speedup);
}

static void
json_run(const struct run *x)
{
	printf("{\"clients\":%d,\"appends_per_s\":%.0f,\"p50_ms\":%.3f,"
	       "\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,"
	       "\"mean_batch\":%.2f,\"daemon_cores\":%.2f,"
	       "\"client_cores\":%.2f,\"rss_kib\":%ld",
	    x->clients, x->rate, x->p50, x->p99, x->p999, x->pmax, x->batch,
	    x->daemon_cores, x->client_cores, x->hwm_kib);
}

/* The last line: one JSON object for scripts. */
static void
print_json(const struct opts *o, const struct env *e, const struct figs *f)
{
	const struct run *t = &f->runs[o->top];
	bool all = f->ok_ratio && f->ok_p99 && f->ok_rss;
	int i;

	printf("{\"bench\":\"append\",\"sealing\":\"%s\",\"seconds\":%.1f,"
	       "\"rounds\":%d,"
	       "\"warmup\":%.2f,\"limit_seconds\":%.1f,\"nproc\":%ld,\"load\":%"
	       ".2f,"
	       "\"openssl\":\"%s\",\"softhsm\":\"%s\",\"fs\":\"%s\","
	       "\"event_bytes\":%d,\"receipt_bytes\":%zu,\"sign_threads\":%d,"
	       "\"checkpoints\":\"off\",\"results\":[",
	    sealing, o->seconds, ROUNDS, f->warmup, f->limit, f->m.nproc,
	    f->m.load, OpenSSL_version(OPENSSL_VERSION_STRING), f->softhsm,
	    e->fs, EVENT_LEN, e->receipt_len, SIGN_THREADS);
	for (i = 0; i < o->ncounts; i++) {
		printf(i > 0 ? "," : "");
		json_run(&f->runs[i]);
		printf(",\"raw_sign_ms\":%.0f,\"ratio_vs_raw_sign_ms\":%.3f,"
		       "\"latency_floor_ms\":%.3f,\"naive_per_s\":%.0f,"
		       "\"speedup_vs_naive\":%.2f}",
		    f->runs[i].raw_ms, f->runs[i].ratio, f->runs[i].floor,
		    f->runs[i].naive, f->runs[i].speedup);
	}
	printf("],\"rss_kib\":%ld,\"rss_anon_kib\":%ld,\"rss_file_kib\":%ld,"
	       "\"receipts\":%" PRIu64 ",\"raw_sign_1s\":%.0f,"
	       "\"raw_sign_ms\":%.0f,\"raw_sign_ms_min\":%.0f,"
	       "\"raw_sign_ms_max\":%.0f,\"lmdb_commits_per_s\":{",
	    f->rss_kib, f->anon_kib, f->file_kib, f->receipts, f->lim.raw_1s,
	    f->raw_ms, f->raw_ms_lo, f->raw_ms_hi);
	for (i = 0; i < f->lim.nk; i++)
		printf("%s\"%d\":%.0f", i > 0 ? "," : "", f->lim.k[i],
		    f->lim.commits[i]);
	printf("},\"lmdb_puts_per_s\":{");
	for (i = 0; i < f->lim.nk; i++)
		printf("%s\"%d\":%.0f", i > 0 ? "," : "", f->lim.k[i],
		    f->lim.puts[i]);
	printf("},\"daemon_mean_batch\":%.2f,\"clients_judged\":%d,"
	       "\"naive_per_s\":%.0f,\"ratio_vs_raw_sign_ms\":%.3f,"
	       "\"speedup_vs_naive\":%.2f,\"p99_ms\":%.3f,\"defaults\":",
	    t->batch, t->clients, t->naive, t->ratio, t->speedup, t->p99);
	if (f->have_dflt) {
		json_run(&f->dflt);
		printf("}");
	} else {
		printf("null");
	}
	printf(",\"million\":");
	if (f->have_mil)
		printf("{\"seconds\":%.1f,\"appends_per_s\":%.0f,"
		       "\"p99_ms\":%.3f,\"rss_kib\":%ld,\"peak_rss_kib\":%ld}",
		    f->mil.wall, f->mil.rate, f->mil.p99, f->mil_rss_kib,
		    f->mil.hwm_kib);
	else
		printf("null");
	printf(",\"targets\":{\"ratio\":%s,\"p99\":%s,\"rss\":%s,"
	       "\"rss_after_million\":%s},\"targets_met\":%s}\n",
	    f->ok_ratio ? "true" : "false", f->ok_p99 ? "true" : "false",
	    f->ok_rss ? "true" : "false",
	    f->have_mil ? (f->ok_rss ? "true" : "false") : "null",
	    all ? "true" : "false");
}

/* Stops what still runs and removes the temp dir. */
static void
teardown(struct env *e)
{
	if (e->main.pid != 0 || e->main.ctl != NULL)
		(void)dproc_stop(&e->main);
	if (e->dflt.pid != 0 || e->dflt.ctl != NULL)
		(void)dproc_stop(&e->dflt);
	rcpt_bench_p11_close(&e->p11);
	if (e->made_root)
		rcpt_bench_remove_tree("append", e->root);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct figs *f = NULL;
	struct env *e = NULL;
	int i, r = RCPT_E_NOMEM;

	if (parse_args(argc, argv, &o) != RCPT_OK)
		return 2;
	if ((e = rcpt_calloc(1, sizeof(*e))) == NULL ||
	    (f = rcpt_calloc(1, sizeof(*f))) == NULL) {
		fprintf(stderr, "append: out of memory\n");
		goto out;
	}
	f->slice = o.seconds / ROUNDS;
	f->warmup = rcpt_bench_min(0.5, f->slice / 2);
	f->limit = rcpt_bench_min(rcpt_bench_max(o.seconds / 2, 0.5), 5);
	printf("bench/append: clients");
	for (i = 0; i < o.ncounts; i++)
		printf("%s%d", i > 0 ? "," : " ", o.counts[i]);
	printf(", %.1f s each, %d-byte events, synchronous appends\n",
	    o.seconds, EVENT_LEN);
	rcpt_bench_machine(&f->m);
	fflush(stdout);
	r = run(e, &o, f);
	teardown(e);
	if (r == RCPT_OK) {
		judge(&o, f);
		print_text(&o, f);
		print_json(&o, e, f);
	}
out:
	for (i = 0; f != NULL && i < COUNTS_MAX; i++)
		rcpt_bench_sample_free(&f->runs[i].lat);
	if (f != NULL) {
		rcpt_bench_sample_free(&f->dflt.lat);
		rcpt_bench_sample_free(&f->mil.lat);
	}
	free(f);
	free(e);
	return r == RCPT_OK ? 0 : 1;
}
