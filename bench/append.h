/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/append in three files.  append.c starts the daemon, drives it
 * and measures; append-limits.c measures the physical limits it is held
 * against, in the bench's own process on the daemon's own token and
 * disk: a bare PKCS#11 C_Sign loop, a bare LMDB durable-commit loop,
 * the naive C design (one C_Sign and one durable commit per event), and
 * the naive Python peer (bench/peer-naive.py, run as a child);
 * append-report.c is the bench's face: its command line and the text
 * and JSON report with the targets' verdicts.  Benchmark code only: it never
 * touches a system token, and reads the daemon's store only for its
 * count of commits, read-only.
 */
#ifndef RCPT_BENCH_APPEND_H
#define RCPT_BENCH_APPEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <p11-kit/p11-kit.h>

#include "common.h"

#define RCPT_BENCH_P11_SESSIONS_MAX 1024

/* The SoftHSM module loaded a second time, directly through p11-kit. */
struct rcpt_bench_p11 {
	CK_FUNCTION_LIST *fn;    /* managed by p11-kit; owned */
	int initialized;         /* 1 after p11_kit_module_initialize */
	CK_SESSION_HANDLE *sess; /* owned; one per signing thread */
	int nsess;
	CK_OBJECT_HANDLE key; /* the daemon's Ed25519 private key */
	int nkeys;            /* Ed25519 private keys on the token */
	char version[64];     /* "SoftHSM 2.6" from C_GetInfo */
};

/* A rate measured over a fixed wall time, summed over its threads. */
struct rcpt_bench_rate {
	double ops;     /* operations per second */
	double count;   /* operations made */
	double elapsed; /* seconds of the longest thread */
};

/**
 * Loads SOFTHSM_MODULE through p11-kit (managed, so that its
 * C_Initialize is our own), finds the token labelled @p label, opens
 * @p nsess sessions, logs in with the PIN in @p pin_file and finds the
 * Ed25519 private key the daemon generated there (the first, when
 * there are several; nkeys says how many).
 * @param[out] w release with rcpt_bench_p11_close() whatever the result.
 * @return RCPT_OK, RCPT_E_INVAL, RCPT_E_NOMEM, RCPT_E_CONFIG,
 * RCPT_E_NOT_FOUND, RCPT_E_IO, RCPT_E_KEY_UNAVAILABLE; the reason goes
 * to stderr.
 */
int rcpt_bench_p11_open(struct rcpt_bench_p11 *w, const char *label,
    const char *pin_file, int nsess);

/** Closes the sessions and finalizes our instance; no C_Logout. */
void rcpt_bench_p11_close(struct rcpt_bench_p11 *w);

/**
 * Raw C_SignInit(CKM_EDDSA) + C_Sign over 32-byte messages on
 * @p nthreads threads, each on its own session, for @p seconds.
 * @return RCPT_OK, RCPT_E_INVAL, RCPT_E_INTERNAL, RCPT_E_KEY_UNAVAILABLE.
 */
int rcpt_bench_csign(struct rcpt_bench_p11 *w, int nthreads, double seconds,
    struct rcpt_bench_rate *out);

/**
 * Durable LMDB commits in a fresh environment under @p dir (removed
 * after): each transaction puts @p k values of @p value_len bytes under
 * increasing keys and commits with the default sync, for @p seconds.
 * @param[out] commits_out commits per second; ops is puts per second.
 * @return RCPT_OK, RCPT_E_INVAL, RCPT_E_NOMEM, RCPT_E_IO.
 */
int rcpt_bench_lmdb(const char *dir, int k, size_t value_len, double seconds,
    struct rcpt_bench_rate *puts_out, double *commits_out);

/**
 * The design a user would write instead of the daemon: for each event,
 * C_Sign of its @p event_len bytes on the thread's own session, then
 * one LMDB transaction putting a @p value_len byte record and a durable
 * commit.  @p nthreads threads (at most w->nsess) share one fresh
 * environment under @p dir (removed after); LMDB serializes their
 * writes.
 * @return as rcpt_bench_csign() and rcpt_bench_lmdb().
 */
int rcpt_bench_naive(struct rcpt_bench_p11 *w, const char *dir, int nthreads,
    size_t event_len, size_t value_len, double seconds,
    struct rcpt_bench_rate *out);

/**
 * The id of the last committed write transaction of the LMDB
 * environment at @p path (another process's; opened read-only and
 * closed again), so that commits can be counted from outside.
 * @return RCPT_OK or RCPT_E_IO.
 */
int rcpt_bench_lmdb_txnid(const char *path, uint64_t *txnid_out);

#define RCPT_BENCH_LIMITS_KS 4 /* LMDB batch sizes measured */

/* What rcpt_bench_limits() measures with; every pointer borrowed. */
struct rcpt_bench_limits_in {
	struct rcpt_bench_p11 *w; /* open */
	const char *dir;          /* beside the daemon's store */
	double batch;     /* the daemon's mean batch, also measured; or 0 */
	size_t value_len; /* bytes of a stored receipt */
	double seconds;   /* of each loop */
};

/* The limits, in operations per second. */
struct rcpt_bench_limits {
	double raw_1s; /* raw C_Sign, one session */
	/*
	 * Bytes of anonymous memory this process gained per signature in
	 * that loop: the token module's own growth (SoftHSM 2.6.1 leaks in
	 * C_SignInit for EdDSA keys), which the daemon carries too.
	 */
	double token_growth_b;
	int k[RCPT_BENCH_LIMITS_KS]; /* puts per LMDB commit */
	int nk;
	int k_daemon;                         /* the batch rounded, or 0 */
	double commits[RCPT_BENCH_LIMITS_KS]; /* LMDB commits, per k */
	double puts[RCPT_BENCH_LIMITS_KS];    /* LMDB puts, per k */
};

/**
 * Measures and prints, one after another, raw C_Sign on one session and
 * LMDB commits of 1, 16 and 64 puts (and of the daemon's mean batch).
 * @return as the loops.
 */
int rcpt_bench_limits(
    const struct rcpt_bench_limits_in *in, struct rcpt_bench_limits *out);

/* ---- the bench's figures: append.c fills them, append-report.c prints */

#define RCPT_BENCH_ROUNDS       3    /* rounds of interleaved slices */
#define RCPT_BENCH_COUNTS_MAX   8    /* --clients */
#define RCPT_BENCH_CLIENTS_MAX  1000 /* clients in one count */
#define RCPT_BENCH_WAITS_MAX    8    /* --batch-wait */
#define RCPT_BENCH_SIGN_THREADS 2    /* the daemon's default, set explicitly */
#define RCPT_BENCH_EVENT_LEN    400  /* bytes of JCS in an event's data */
#define RCPT_BENCH_MILLION      1000000
#define RCPT_BENCH_CHAIN        "bench-" /* + the mode: the main chains */

/* The sealing modes (SPEC 1.2): one chain of the main daemon each. */
enum rcpt_bench_mode { RCPT_BENCH_EACH, RCPT_BENCH_BATCH, RCPT_BENCH_MODES };

/* What a round's slices measure, as indices of rcpt_bench_count.round. */
enum rcpt_bench_slice {
	RCPT_BENCH_SLICE_EACH,  /* ours, the each chain */
	RCPT_BENCH_SLICE_BATCH, /* ours, the batch chain */
	RCPT_BENCH_SLICE_RAW,   /* raw C_Sign, SIGN_THREADS sessions */
	RCPT_BENCH_SLICE_NAIVE, /* the naive C design */
	RCPT_BENCH_SLICES
};

/* A verdict on a target: met, missed, or not measured in this run. */
enum rcpt_bench_verdict {
	RCPT_BENCH_UNMEASURED,
	RCPT_BENCH_MISSED,
	RCPT_BENCH_MET
};

/* The command line. */
struct rcpt_bench_append_opts {
	double seconds;                    /* ours, per mode and count */
	int counts[RCPT_BENCH_COUNTS_MAX]; /* client counts, as given */
	int ncounts;
	int top;                     /* index of the largest count */
	bool mode[RCPT_BENCH_MODES]; /* --sealing keeps one */
	bool million, defaults;
	char wait[RCPT_BENCH_WAITS_MAX][16]; /* --batch-wait: config values */
	int nwaits;                          /* 0: no --batch-wait sweep */
	int batch_max;                       /* --batch-max; 0: default */
};

/*
 * The figures of one mode at one client count (or of the --million,
 * defaults or --batch-wait runs), gathered over its slices and then
 * summed up by rcpt_bench_run_finish().
 */
struct rcpt_bench_run {
	int clients;
	struct rcpt_bench_sample lat; /* ms of each measured append */
	uint64_t window;              /* appends started in measured time */
	double measured;              /* s of measured time */
	double wall, cpu_d, cpu_c;    /* s: in all; daemon and client CPU */
	double rate;                  /* durable appends per second */
	double p50, p99, p999, pmax;  /* ms */
	uint64_t total;               /* appends acknowledged, warm-up too */
	uint64_t commits;             /* the daemon's LMDB commits meanwhile */
	double batch;                 /* total / commits */
	double daemon_cores, client_cores;
	long hwm_kib; /* the daemon's VmHWM after the run */
};

/* One client count: both modes and the limit slices between them. */
struct rcpt_bench_count {
	int clients;
	struct rcpt_bench_run ours[RCPT_BENCH_MODES];
	double round[RCPT_BENCH_ROUNDS][RCPT_BENCH_SLICES]; /* per second */
	double raw_sum, naive_sum; /* rates of the limit slices, summed */
	int nraw, nnaive;          /* slices of each */
	double raw_ms;             /* raw C_Sign, SIGN_THREADS sessions */
	double naive;              /* the naive C design, as many threads */
	double floor;              /* ms: clients / raw_ms */
	double load;               /* 1-minute load average after it */
};

/* One run of bench/peer-naive.py append. */
struct rcpt_bench_peer_try {
	bool ok;
	double rate, p50, p99; /* appends/s; ms */
};

/* The naive Python peer: two runs, the better one counts. */
struct rcpt_bench_peer {
	struct rcpt_bench_peer_try tries[2]; /* before and after our slices */
	int ntries;
	bool measured;    /* at least one run gave figures */
	double rate, p99; /* of the better run */
	char why[160];    /* when not measured: the reason */
	char python[32], sqlite[32];
};

/* One --batch-wait value: its own daemon, the batch chain, each count. */
struct rcpt_bench_wait {
	struct rcpt_bench_run runs[RCPT_BENCH_COUNTS_MAX];
};

/* The targets (issue 6 part 4, issue 5 part 5), at the largest count. */
struct rcpt_bench_targets {
	enum rcpt_bench_verdict batch_vs_each, batch_vs_peer, batch_p99;
	enum rcpt_bench_verdict each_vs_raw, each_p99, rss;
	bool all; /* every one met */
};

/* Everything a run measured, for the report. */
struct rcpt_bench_figs {
	struct rcpt_bench_machine m;
	double load_end;             /* 1-minute load average at the end */
	double warmup, slice, limit; /* seconds */
	struct rcpt_bench_count counts[RCPT_BENCH_COUNTS_MAX];
	struct rcpt_bench_run dflt[RCPT_BENCH_MODES], mil;
	bool have_dflt, have_mil;
	enum rcpt_bench_mode mil_mode; /* the chain --million appended to */
	struct rcpt_bench_wait waits[RCPT_BENCH_WAITS_MAX];
	int nwaits_done;
	struct rcpt_bench_peer peer;
	double raw_ms, raw_ms_lo, raw_ms_hi; /* over all raw slices */
	int nraw;
	struct rcpt_bench_limits lim;
	long rss_kib, mil_rss_kib; /* VmHWM at the end; VmRSS after --million */
	long anon_kib, file_kib;   /* the main daemon's RSS at the end, split */
	uint64_t receipts[RCPT_BENCH_MODES]; /* in each chain at the end */
	char softhsm[64];                    /* the module's C_GetInfo */
	const char *fs;                      /* of the temp dir; static */
	size_t receipt_len;                  /* a stored receipt of ours */
	struct rcpt_bench_targets t;
};

/* append-report.c: the command line and a run's figures. */

/** The sealing's name: "each" or "batch". */
const char *rcpt_bench_mode_name(enum rcpt_bench_mode m);

/**
 * Parses the command line into @p o; --help prints the usage and exits 0.
 * @return RCPT_OK, or RCPT_E_INVAL after saying why on stderr.
 */
int rcpt_bench_append_args(
    int argc, char **argv, struct rcpt_bench_append_opts *o);

/**
 * Percentiles, rate, mean batch and cores of @p x once its slices are
 * in; frees its latencies.
 * @return RCPT_OK, or RCPT_E_INTERNAL when nothing was measured.
 */
int rcpt_bench_run_finish(struct rcpt_bench_run *x);

/** Prints the figures of @p x, indented, under the label @p what. */
void rcpt_bench_run_print(const struct rcpt_bench_run *x, const char *what);

/* append-limits.c: the naive Python peer. */

/**
 * Runs bench/peer-naive.py append for @p seconds in @p dir (made if
 * missing) and adds what it printed to @p p as its next try (at most
 * two), printing its text; a missing python3 or python3-nacl, or a
 * failed run, leaves the try without figures and its reason in p->why.
 * Not an error: the peer's targets are then not measured.
 */
void rcpt_bench_peer_run(
    const char *dir, double seconds, struct rcpt_bench_peer *p);

/** Picks the better try of @p p and says which, or why none. */
void rcpt_bench_peer_finish(struct rcpt_bench_peer *p);

/* append-report.c: the report. */

/** Gives every target of @p f its verdict. */
void rcpt_bench_append_judge(
    const struct rcpt_bench_append_opts *o, struct rcpt_bench_figs *f);

/** The summary, the --batch-wait table and the verdicts, as text. */
void rcpt_bench_append_text(
    const struct rcpt_bench_append_opts *o, const struct rcpt_bench_figs *f);

/** The last line of the output: one JSON object with every figure. */
void rcpt_bench_append_json(
    const struct rcpt_bench_append_opts *o, const struct rcpt_bench_figs *f);

#endif
