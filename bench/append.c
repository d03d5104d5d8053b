/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Append benchmark: starts the real receiptd on a throw-away SoftHSM2
 * token in a temp dir, with two chains, one sealed each and one sealed
 * batch (SPEC 1.2), and drives it over its socket with 1, 16 and 64
 * clients (one connection and one thread each, synchronous appends of
 * 400-byte events) for a fixed time per chain, printing durable appends
 * per second, p50/p99/p99.9 latency, the mean batch, the daemon's CPU
 * and its peak RSS.  In the same run, on the same token and disk, it
 * measures the limits it is held against (append-limits.c) in rounds
 * interleaved with ours: raw C_Sign with as many sessions as the daemon
 * signs with, and the naive C sign-then-commit design; then raw C_Sign
 * on one session and raw LMDB durable commits; and before and after
 * our rounds the naive Python peer (append-report.c).  Options add a
 * daemon per [limits] batch_wait value, a million receipts, and a run
 * with the daemon's defaults.  The report and the last line, one JSON
 * object, come from append-report.c.
 *
 * It is a measurement, not a test: a missed target is reported but does
 * not fail the run.  Errors (setup, a failed append, an acknowledged
 * append missing from the chain, a daemon that does not exit 0 on
 * SIGTERM) give exit 1.  The daemons are configured, never changed.
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

#define EVENT_TYPE "bench.append"
/* Every daemon gets chains of its own names: the token anchors each. */
#define CHAIN_DEFAULTS "bench-defaults-" /* + the mode */
#define CHAIN_WAIT     "bench-wait"      /* + the value's index */
#define CHAIN_LEN      32
#define TOKEN_LABEL    "rcpt-bench-append"
#define START_WAIT     60.0 /* seconds for the socket to answer */
#define STOP_WAIT      60.0 /* seconds for SIGTERM to end it */
#define ROUNDS         RCPT_BENCH_ROUNDS
#define SIGN_THREADS   RCPT_BENCH_SIGN_THREADS
#define EVENT_LEN      RCPT_BENCH_EVENT_LEN
#define EACH           RCPT_BENCH_EACH
#define BATCH          RCPT_BENCH_BATCH
#define MODES          RCPT_BENCH_MODES

/* How a daemon is configured. */
struct dconf {
	const char *name;         /* of its files under the temp root */
	const char *chain[MODES]; /* its chain of each sealing, or NULL */
	bool bench;       /* sign_threads and checkpoints fixed, or defaults */
	int batch_max;    /* [limits] batch; 0: the default */
	const char *wait; /* [limits] batch_wait; NULL or "": the default */
};

/* One receiptd and what talks to it. */
struct dproc {
	char conf[PATH_MAX], store[PATH_MAX], sock[PATH_MAX], log[PATH_MAX];
	char chain[MODES][CHAIN_LEN]; /* "" when it has no such chain */
	pid_t pid;                    /* 0 when not running */
	struct rcpt_client *ctl;      /* owned; for tips */
};

struct env {
	char root[PATH_MAX];   /* mkdtemp; removed at the end */
	char tokdir[PATH_MAX]; /* root/token: softhsm2.conf, PINs, tokens */
	char provdir[PATH_MAX];
	char pin[PATH_MAX];
	char peerdir[PATH_MAX]; /* root/peer: the Python peer's database */
	bool made_root;
	struct dproc main, other; /* the bench's; a defaults or wait run */
	struct rcpt_bench_p11 p11;
};

/* ---- events ------------------------------------------------------------ */

/*
 * An event of exactly RCPT_BENCH_EVENT_LEN bytes of JCS (sorted keys, no
 * blanks, plain ASCII strings), different for each client and count.
 */
static void
make_event(char out[RCPT_BENCH_EVENT_LEN + 1], int client, uint64_t n)
{
	int len, pad;

	len = snprintf(out, RCPT_BENCH_EVENT_LEN + 1,
	    "{\"event\":\"c%04d-%012" PRIu64 "\",\"pad\":\"", client,
	    n % UINT64_C(1000000000000));
	pad = RCPT_BENCH_EVENT_LEN - len - 2;
	memset(out + len, 'x', (size_t)pad);
	memcpy(out + len + pad, "\"}", 3);
}

static int
check_event(void)
{
	char ev[RCPT_BENCH_EVENT_LEN + 1], *canon = NULL;
	struct rcpt_diag d;
	size_t len = 0;
	int r;

	make_event(ev, RCPT_BENCH_CLIENTS_MAX, 0);
	rcpt_diag_clear(&d);
	r = rcpt_jcs_canon(ev, strlen(ev), 8, &canon, &len, &d);
	if (r == RCPT_OK &&
	    (len != RCPT_BENCH_EVENT_LEN || strcmp(canon, ev) != 0))
		r = rcpt_diag(&d, RCPT_E_INTERNAL, "not its own JCS");
	if (r != RCPT_OK)
		fprintf(stderr,
		    "append: the event is not %d bytes of JCS: %s\n",
		    RCPT_BENCH_EVENT_LEN, rcpt_diag_msg(&d, r));
	free(canon);
	return r;
}

/* ---- the daemon --------------------------------------------------------- */

static int
dproc_path(char *out, size_t size, const struct env *e, const char *name,
    const char *suffix)
{
	if ((size_t)snprintf(out, size, "%s/%s%s", e->root, name, suffix) >=
	    size) {
		fprintf(stderr, "append: %s: path too long\n", e->root);
		return RCPT_E_CONFIG;
	}
	return RCPT_OK;
}

/* The [limits] section, when the bench sets anything in it. */
static void
write_limits(FILE *f, const struct dconf *c)
{
	if (c->batch_max == 0 && (c->wait == NULL || c->wait[0] == '\0'))
		return;
	fprintf(f, "[limits]\n");
	if (c->batch_max != 0)
		fprintf(f, "batch = %d\n", c->batch_max);
	if (c->wait != NULL && c->wait[0] != '\0')
		fprintf(f, "batch_wait = %s\n", c->wait);
	fprintf(f, "\n");
}

/*
 * Writes the configuration of daemon @p c: with c->bench, sign_threads
 * and checkpoints fixed as the README says; otherwise those left out,
 * so that the daemon's defaults apply.  The map sizes are the bench's
 * in both, or a long run would fill the default 64 MiB map.
 */
static int
dproc_init(struct env *e, struct dproc *dm, const struct dconf *c)
{
	FILE *f;
	int m, r;

	if ((r = dproc_path(dm->conf, sizeof(dm->conf), e, c->name, ".conf")) !=
	        RCPT_OK ||
	    (r = dproc_path(dm->store, sizeof(dm->store), e, c->name,
	         "-store")) != RCPT_OK ||
	    (r = dproc_path(dm->sock, sizeof(dm->sock), e, c->name, ".sock")) !=
	        RCPT_OK ||
	    (r = dproc_path(dm->log, sizeof(dm->log), e, c->name, ".log")) !=
	        RCPT_OK)
		return r;
	/* A socket path fits in sun_path, 108 bytes with its NUL. */
	if (strlen(dm->sock) >= 108) {
		fprintf(stderr,
		    "append: %s: too long for a socket; set a shorter TMPDIR\n",
		    dm->sock);
		return RCPT_E_CONFIG;
	}
	if ((f = fopen(dm->conf, "w")) == NULL) {
		fprintf(stderr, "append: %s: %s\n", dm->conf, strerror(errno));
		return RCPT_E_IO;
	}
	fprintf(f,
	    "[daemon]\nsocket = %s\nsocket_mode = 0600\nstore = %s\n"
	    "origin = bench.example/receiptd\nmap_size = 256M\n"
	    "map_max = 16G\n",
	    dm->sock, dm->store);
	if (c->bench)
		fprintf(f, "sign_threads = %d\n", SIGN_THREADS);
	fprintf(f,
	    "\n[provider]\nname = pkcs11\n"
	    "config = module=%s;token=pkcs11:token=" TOKEN_LABEL
	    ";pin-file=%s\nproviders_dir = %s\n\n"
	    "[principals]\nbench = uid:%lu\n\n",
	    SOFTHSM_MODULE, e->pin, e->provdir, (unsigned long)getuid());
	write_limits(f, c);
	for (m = 0; m < MODES; m++) {
		dm->chain[m][0] = '\0';
		if (c->chain[m] == NULL)
			continue;
		snprintf(dm->chain[m], sizeof(dm->chain[m]), "%s", c->chain[m]);
		fprintf(f,
		    "[chain %s]\nappend = bench\nread = bench\nadmin = bench\n"
		    "sealing = %s\n%s\n",
		    dm->chain[m], rcpt_bench_mode_name(m),
		    c->bench ? "checkpoint_every = 0\ncheckpoint_interval = 0\n"
		             : "");
	}
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
tip_size(struct dproc *dm, const char *chain, uint64_t *size_out)
{
	struct rcpt_diag d;
	int r;

	rcpt_diag_clear(&d);
	if ((r = rcpt_client_tip(dm->ctl, chain, size_out, NULL, &d)) !=
	    RCPT_OK)
		fprintf(stderr, "append: tip of %s: %s\n", chain,
		    rcpt_diag_msg(&d, r));
	return r;
}

/* One append, to learn how long a stored receipt of our events is. */
static int
probe(struct dproc *dm, const char *chain, size_t *len_out)
{
	char data[EVENT_LEN + 1], *rec = NULL;
	struct rcpt_client_event ev = {
	    .chain = chain, .type = EVENT_TYPE, .data = data};
	struct rcpt_diag d;
	int r;

	make_event(data, 0, 0);
	rcpt_diag_clear(&d);
	if ((r = rcpt_client_append(dm->ctl, &ev, &rec, len_out, &d)) !=
	    RCPT_OK)
		fprintf(stderr, "append: first append to %s: %s\n", chain,
		    rcpt_diag_msg(&d, r));
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
	char data[RCPT_BENCH_EVENT_LEN + 1], *rec;
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
gather(struct client *cl, int n, const struct load *L, struct rcpt_bench_run *x)
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

/* Counts the daemon's commits from outside; 0 when it cannot. */
static uint64_t
txnid(const struct dproc *dm)
{
	uint64_t id = 0;

	return rcpt_bench_lmdb_txnid(dm->store, &id) == RCPT_OK ? id : 0;
}

/*
 * One slice of x->clients clients on their own connections, appending
 * to @p chain
 * for @p warm + @p seconds (or @p limit appends in all), added to @p x;
 * every acknowledged append must then be in the chain.
 */
static int
clients_run(struct dproc *dm, const char *chain, double warm, double seconds,
    uint64_t limit, struct rcpt_bench_run *x)
{
	struct load L = {.chain = chain,
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
	if ((r = tip_size(dm, chain, &tip0)) != RCPT_OK)
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
	if ((r = tip_size(dm, chain, &tip1)) != RCPT_OK ||
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

/* ---- setting up ------------------------------------------------------- */

/* The temp root, the token and the plugin copy. */
static int
setup(struct env *e, struct rcpt_bench_figs *f)
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
	snprintf(e->peerdir, sizeof(e->peerdir), "%.*s/peer", PATH_MAX - 64,
	    e->root);
	f->fs = rcpt_bench_fs_type(e->root);
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

/* ---- the measurements --------------------------------------------------- */

/* The slices of a round; odd rounds run them in reverse. */
static const enum rcpt_bench_slice order[RCPT_BENCH_SLICES] = {
    RCPT_BENCH_SLICE_EACH, RCPT_BENCH_SLICE_BATCH, RCPT_BENCH_SLICE_RAW,
    RCPT_BENCH_SLICE_NAIVE};

static double
load1(void)
{
	double load[1];

	return getloadavg(load, 1) == 1 ? load[0] : -1;
}

/* Adds one raw C_Sign slice to @p c and to the run's spread. */
static int
slice_raw(
    struct env *e, struct rcpt_bench_figs *f, struct rcpt_bench_count *c, int k)
{
	struct rcpt_bench_rate rate;
	int r;

	if ((r = rcpt_bench_csign(
	         &e->p11, SIGN_THREADS, f->limit / ROUNDS, &rate)) != RCPT_OK)
		return r;
	c->raw_sum += rate.ops;
	c->nraw++;
	c->round[k][RCPT_BENCH_SLICE_RAW] = rate.ops;
	f->raw_ms += rate.ops;
	f->raw_ms_lo =
	    f->nraw == 0 ? rate.ops : rcpt_bench_min(f->raw_ms_lo, rate.ops);
	f->raw_ms_hi = rcpt_bench_max(f->raw_ms_hi, rate.ops);
	f->nraw++;
	return RCPT_OK;
}

/* Runs slice @p what of round @p k for count @p c. */
static int
run_slice(struct env *e, struct rcpt_bench_figs *f, struct rcpt_bench_count *c,
    enum rcpt_bench_slice what, int k)
{
	struct rcpt_bench_rate rate;
	struct rcpt_bench_run *x;
	enum rcpt_bench_mode m;
	uint64_t before;
	int r;

	switch (what) {
	case RCPT_BENCH_SLICE_EACH:
	case RCPT_BENCH_SLICE_BATCH:
		m = what == RCPT_BENCH_SLICE_EACH ? EACH : BATCH;
		if (e->main.chain[m][0] == '\0')
			return RCPT_OK;
		x = &c->ours[m];
		before = x->window;
		if ((r = clients_run(&e->main, e->main.chain[m], f->warmup,
		         f->slice, 0, x)) != RCPT_OK)
			return r;
		c->round[k][what] = (double)(x->window - before) / f->slice;
		return RCPT_OK;
	case RCPT_BENCH_SLICE_RAW:
		return slice_raw(e, f, c, k);
	case RCPT_BENCH_SLICE_NAIVE:
		if ((r = rcpt_bench_naive(&e->p11, e->root, c->clients,
		         EVENT_LEN, f->receipt_len, f->limit / ROUNDS,
		         &rate)) != RCPT_OK)
			return r;
		c->naive_sum += rate.ops;
		c->nnaive++;
		c->round[k][what] = rate.ops;
		return RCPT_OK;
	case RCPT_BENCH_SLICES:
		break;
	}
	return RCPT_E_INTERNAL;
}

/* Sums up count @p c once its rounds are in, and prints it. */
static int
finish_count(const struct rcpt_bench_append_opts *o, struct rcpt_bench_count *c)
{
	int m, k, j, r;

	for (m = 0; m < MODES; m++) {
		if (!o->mode[m])
			continue;
		if ((r = rcpt_bench_run_finish(&c->ours[m])) != RCPT_OK)
			return r;
		rcpt_bench_run_print(&c->ours[m], rcpt_bench_mode_name(m));
	}
	c->raw_ms = c->nraw > 0 ? c->raw_sum / c->nraw : 0;
	c->naive = c->nnaive > 0 ? c->naive_sum / c->nnaive : 0;
	/* Little's law: n clients, one call each, at most raw_ms/s. */
	c->floor = c->raw_ms > 0 ? 1000.0 * c->clients / c->raw_ms : 0;
	c->load = load1();
	printf("         rounds (each/batch/raw_ms/naive per s):");
	for (k = 0; k < ROUNDS; k++)
		for (j = 0; j < RCPT_BENCH_SLICES; j++)
			if (j < MODES && !o->mode[j])
				printf("%s-", j == 0 ? " " : "/");
			else
				printf("%s%.0f", j == 0 ? " " : "/",
				    c->round[k][j]);
	printf("; load %.2f\n", c->load);
	fflush(stdout);
	return RCPT_OK;
}

/*
 * Each client count in ROUNDS rounds of up to four slices: ours on the
 * each chain, ours on the batch chain, raw C_Sign with the daemon's
 * sessions and the naive C design, the order reversed in odd rounds.
 * Load from other programs, and a disk whose syncs slow down and speed
 * up over seconds, then fall on both modes and on the limits they are
 * divided by alike.
 */
static int
measure_runs(struct env *e, const struct rcpt_bench_append_opts *o,
    struct rcpt_bench_figs *f)
{
	struct rcpt_bench_count *c;
	int i, k, j, r;

	printf("\nclient runs: %d rounds per client count, each of %.2f s "
	       "ours per sealing (after\na %.2f s warm-up), %.2f s raw C_Sign "
	       "with %d sessions and %.2f s naive C design\n(order reversed in "
	       "odd rounds):\n",
	    ROUNDS, f->slice, f->warmup, f->limit / ROUNDS, SIGN_THREADS,
	    f->limit / ROUNDS);
	for (i = 0; i < o->ncounts; i++) {
		c = &f->counts[i];
		c->clients = o->counts[i];
		c->ours[EACH].clients = c->ours[BATCH].clients = c->clients;
		for (k = 0; k < ROUNDS; k++)
			for (j = 0; j < RCPT_BENCH_SLICES; j++)
				if ((r = run_slice(e, f, c,
				         order[k % 2 == 0
				                   ? j
				                   : RCPT_BENCH_SLICES - 1 - j],
				         k)) != RCPT_OK)
					return r;
		if ((r = finish_count(o, c)) != RCPT_OK)
			return r;
	}
	f->raw_ms /= f->nraw;
	return RCPT_OK;
}

/* Raw C_Sign on one session and raw LMDB commits. */
static int
measure_limits(struct env *e, const struct rcpt_bench_append_opts *o,
    struct rcpt_bench_figs *f)
{
	const struct rcpt_bench_count *c = &f->counts[o->top];
	struct rcpt_bench_limits_in in = {.w = &e->p11,
	    .dir = e->root,
	    .batch = c->ours[o->mode[EACH] ? EACH : BATCH].batch,
	    .value_len = f->receipt_len,
	    .seconds = f->limit};

	return rcpt_bench_limits(&in, &f->lim);
}

/* A million more receipts: to the each chain, for issue 5's RSS target. */
static int
measure_million(struct env *e, const struct rcpt_bench_append_opts *o,
    struct rcpt_bench_figs *f)
{
	const char *chain;
	int r;

	f->mil_mode = o->mode[EACH] ? EACH : BATCH;
	chain = e->main.chain[f->mil_mode];
	printf("\nmillion: %d clients append %d receipts to chain %s of the "
	       "same daemon...\n",
	    o->counts[o->top], RCPT_BENCH_MILLION, chain);
	fflush(stdout);
	f->mil.clients = o->counts[o->top];
	if ((r = clients_run(&e->main, chain, 0, 0, RCPT_BENCH_MILLION,
	         &f->mil)) != RCPT_OK ||
	    (r = rcpt_bench_run_finish(&f->mil)) != RCPT_OK)
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

/* Stops e->other, which must exit 0. */
static int
stop_other(struct env *e)
{
	int st;

	if ((st = dproc_stop(&e->other)) != 0) {
		fprintf(stderr, "append: receiptd exited %d on SIGTERM\n", st);
		return RCPT_E_INTERNAL;
	}
	printf("  SIGTERM: exit 0\n");
	return RCPT_OK;
}

/* A second daemon, fresh store, signing and checkpoints by default. */
static int
measure_defaults(struct env *e, const struct rcpt_bench_append_opts *o,
    struct rcpt_bench_figs *f)
{
	struct dconf c = {.name = "defaults",
	    .chain = {o->mode[EACH] ? CHAIN_DEFAULTS "each" : NULL,
	        o->mode[BATCH] ? CHAIN_DEFAULTS "batch" : NULL}};
	int m, r;

	printf("\ndefaults run: a second daemon on a fresh store, "
	       "sign_threads, [limits],\ncheckpoint_every (1000) and "
	       "checkpoint_interval (60 s) left at their defaults:\n");
	if ((r = dproc_init(e, &e->other, &c)) != RCPT_OK ||
	    (r = dproc_start(&e->other)) != RCPT_OK)
		return r;
	for (m = 0; m < MODES; m++) {
		if (!o->mode[m])
			continue;
		f->dflt[m].clients = o->counts[o->top];
		if ((r = clients_run(&e->other, e->other.chain[m],
		         rcpt_bench_min(1.0, o->seconds / 5), o->seconds, 0,
		         &f->dflt[m])) != RCPT_OK ||
		    (r = rcpt_bench_run_finish(&f->dflt[m])) != RCPT_OK)
			return r;
		rcpt_bench_run_print(&f->dflt[m], rcpt_bench_mode_name(m));
	}
	if ((r = stop_other(e)) != RCPT_OK)
		return r;
	f->have_dflt = true;
	return RCPT_OK;
}

/*
 * --batch-wait: a daemon per value, on a fresh store with one batch
 * chain, every client count for S seconds after a warm-up.  Not
 * interleaved (that would take a daemon start per slice): read the
 * table with the load average beside it.
 */
static int
measure_waits(struct env *e, const struct rcpt_bench_append_opts *o,
    struct rcpt_bench_figs *f)
{
	char name[CHAIN_LEN];
	struct dconf c = {
	    .name = "wait", .bench = true, .batch_max = o->batch_max};
	struct rcpt_bench_run *x;
	int w, i, r;

	for (w = 0; w < o->nwaits; w++) {
		snprintf(name, sizeof(name), CHAIN_WAIT "%d", w);
		c.chain[BATCH] = name;
		c.wait = o->wait[w];
		printf("\nbatch_wait = %s: a daemon on a fresh store, chain %s "
		       "sealed batch:\n",
		    o->wait[w][0] != '\0' ? o->wait[w] : "(default)", name);
		if ((r = dproc_init(e, &e->other, &c)) != RCPT_OK ||
		    (r = dproc_start(&e->other)) != RCPT_OK)
			return r;
		for (i = 0; i < o->ncounts; i++) {
			x = &f->waits[w].runs[i];
			x->clients = o->counts[i];
			if ((r = clients_run(&e->other, name, f->warmup,
			         o->seconds, 0, x)) != RCPT_OK ||
			    (r = rcpt_bench_run_finish(x)) != RCPT_OK)
				return r;
			rcpt_bench_run_print(x, "batch");
		}
		printf("  load %.2f\n", load1());
		if ((r = stop_other(e)) != RCPT_OK)
			return r;
		f->nwaits_done = w + 1;
	}
	return RCPT_OK;
}

/* The main daemon, the token instance of our own, and what is fixed. */
static int
start_main(struct env *e, const struct rcpt_bench_append_opts *o,
    struct rcpt_bench_figs *f)
{
	struct dconf c = {.name = "main",
	    .chain = {o->mode[EACH] ? RCPT_BENCH_CHAIN "each" : NULL,
	        o->mode[BATCH] ? RCPT_BENCH_CHAIN "batch" : NULL},
	    .bench = true,
	    .batch_max = o->batch_max};
	int m, r, nsess = (int)rcpt_bench_max(o->counts[o->top], SIGN_THREADS);

	if ((r = dproc_init(e, &e->main, &c)) != RCPT_OK ||
	    (r = dproc_start(&e->main)) != RCPT_OK)
		return r;
	for (m = 0; m < MODES; m++)
		if (o->mode[m] && (r = probe(&e->main, e->main.chain[m],
		                       &f->receipt_len)) != RCPT_OK)
			return r;
	if ((r = rcpt_bench_p11_open(&e->p11, TOKEN_LABEL, e->pin, nsess)) !=
	    RCPT_OK)
		return r;
	printf("daemon: %s, pid %ld:\n  sign_threads = %d, chains", RECEIPTD,
	    (long)e->main.pid, SIGN_THREADS);
	for (m = 0; m < MODES; m++)
		if (o->mode[m])
			printf(" %s (sealing = %s)", e->main.chain[m],
			    rcpt_bench_mode_name(m));
	printf(",\n  checkpoint_every = 0 and checkpoint_interval = 0 "
	       "(checkpoints off, so that\n  they do not distort the figures), "
	       "map_size 256M, map_max 16G,\n  [limits] batch ");
	if (o->batch_max > 0)
		printf("= %d", o->batch_max);
	else
		printf("the default");
	printf(", batch_wait the default\n");
	printf("token: %s; the limits sign with the daemon's Ed25519 key "
	       "(%d on the token)\n  through our own p11-kit instance of "
	       "the module\n",
	    e->p11.version, e->p11.nkeys);
	printf("events: data of %d bytes of JCS, type " EVENT_TYPE
	       ", no tags; a stored receipt is\n  %zu bytes\n",
	    EVENT_LEN, f->receipt_len);
	return RCPT_OK;
}

/* Stops the main daemon after noting its memory and chains. */
static int
stop_main(struct env *e, const struct rcpt_bench_append_opts *o,
    struct rcpt_bench_figs *f)
{
	int m, r, st;

	for (m = 0; m < MODES; m++)
		if (o->mode[m] && (r = tip_size(&e->main, e->main.chain[m],
		                       &f->receipts[m])) != RCPT_OK)
			return r;
	f->rss_kib = rcpt_bench_proc_kib(e->main.pid, "VmHWM:");
	f->anon_kib = rcpt_bench_proc_kib(e->main.pid, "RssAnon:");
	f->file_kib = rcpt_bench_proc_kib(e->main.pid, "RssFile:");
	if ((st = dproc_stop(&e->main)) != 0) {
		fprintf(stderr, "append: receiptd exited %d on SIGTERM\n", st);
		return RCPT_E_INTERNAL;
	}
	printf("\nmain daemon: peak RSS (VmHWM) %.1f MiB with %" PRIu64
	       " + %" PRIu64 " receipts in its chains\n  (now %.1f MiB "
	       "anonymous, %.1f MiB file pages: the LMDB map and libraries);"
	       "\n  SIGTERM: exit 0\n",
	    f->rss_kib / 1024.0, f->receipts[EACH], f->receipts[BATCH],
	    f->anon_kib / 1024.0, f->file_kib / 1024.0);
	return RCPT_OK;
}

static int
run(struct env *e, const struct rcpt_bench_append_opts *o,
    struct rcpt_bench_figs *f)
{
	int r;

	if ((r = check_event()) != RCPT_OK || (r = setup(e, f)) != RCPT_OK)
		return r;
	printf("disk: %s (%s)%s\n", e->root, f->fs,
	    strcmp(f->fs, "tmpfs") == 0
	        ? "; WARNING: syncs cost nothing there, set TMPDIR to a disk"
	        : "");
	if ((r = start_main(e, o, f)) != RCPT_OK)
		return r;
	printf("\n");
	rcpt_bench_peer_run(e->peerdir, f->limit, &f->peer);
	if ((r = measure_runs(e, o, f)) != RCPT_OK)
		return r;
	printf("\n");
	rcpt_bench_peer_run(e->peerdir, f->limit, &f->peer);
	rcpt_bench_peer_finish(&f->peer);
	if ((r = measure_limits(e, o, f)) != RCPT_OK ||
	    (o->million && (r = measure_million(e, o, f)) != RCPT_OK) ||
	    (r = stop_main(e, o, f)) != RCPT_OK)
		return r;
	/* The other daemons' new keys must not meet our open instance. */
	snprintf(f->softhsm, sizeof(f->softhsm), "%s", e->p11.version);
	rcpt_bench_p11_close(&e->p11);
	if ((o->defaults && (r = measure_defaults(e, o, f)) != RCPT_OK) ||
	    (r = measure_waits(e, o, f)) != RCPT_OK)
		return r;
	f->load_end = load1();
	return RCPT_OK;
}

/* Stops what still runs and removes the temp dir. */
static void
teardown(struct env *e)
{
	if (e->main.pid != 0 || e->main.ctl != NULL)
		(void)dproc_stop(&e->main);
	if (e->other.pid != 0 || e->other.ctl != NULL)
		(void)dproc_stop(&e->other);
	rcpt_bench_p11_close(&e->p11);
	if (e->made_root)
		rcpt_bench_remove_tree("append", e->root);
}

static void
free_figs(struct rcpt_bench_figs *f)
{
	int i, m, w;

	for (i = 0; i < RCPT_BENCH_COUNTS_MAX; i++)
		for (m = 0; m < MODES; m++)
			rcpt_bench_sample_free(&f->counts[i].ours[m].lat);
	for (w = 0; w < RCPT_BENCH_WAITS_MAX; w++)
		for (i = 0; i < RCPT_BENCH_COUNTS_MAX; i++)
			rcpt_bench_sample_free(&f->waits[w].runs[i].lat);
	for (m = 0; m < MODES; m++)
		rcpt_bench_sample_free(&f->dflt[m].lat);
	rcpt_bench_sample_free(&f->mil.lat);
	free(f);
}

int
main(int argc, char **argv)
{
	struct rcpt_bench_append_opts o;
	struct rcpt_bench_figs *f = NULL;
	struct env *e = NULL;
	int i, m, r = RCPT_E_NOMEM;

	if (rcpt_bench_append_args(argc, argv, &o) != RCPT_OK)
		return 2;
	if ((e = rcpt_calloc(1, sizeof(*e))) == NULL ||
	    (f = rcpt_calloc(1, sizeof(*f))) == NULL) {
		fprintf(stderr, "append: out of memory\n");
		goto out;
	}
	f->slice = o.seconds / ROUNDS;
	f->warmup = rcpt_bench_min(0.5, f->slice / 2);
	f->limit = rcpt_bench_min(rcpt_bench_max(o.seconds / 2, 0.5), 5);
	printf("bench/append: sealing");
	for (m = 0, i = 0; m < MODES; m++)
		if (o.mode[m])
			printf("%s%s", i++ > 0 ? " and " : " ",
			    rcpt_bench_mode_name(m));
	printf(", clients");
	for (i = 0; i < o.ncounts; i++)
		printf("%s%d", i > 0 ? "," : " ", o.counts[i]);
	printf(", %.1f s each, %d-byte events,\n  synchronous appends\n",
	    o.seconds, EVENT_LEN);
	rcpt_bench_machine(&f->m);
	fflush(stdout);
	r = run(e, &o, f);
	teardown(e);
	if (r == RCPT_OK) {
		rcpt_bench_append_judge(&o, f);
		rcpt_bench_append_text(&o, f);
		rcpt_bench_append_json(&o, f);
	}
out:
	if (f != NULL)
		free_figs(f);
	free(e);
	return r == RCPT_OK ? 0 : 1;
}
