/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the benchmark programs share: clocks, a start gate for worker
 * threads, option parsing, the machine header, the temporary directory
 * and verdict words.  Benchmark code only; it never measures anything
 * itself and knows nothing of what is measured.
 */
#ifndef RCPT_BENCH_COMMON_H
#define RCPT_BENCH_COMMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/** Seconds on the monotonic clock. */
double rcpt_bench_now(void);

/** CPU seconds of clock @p which (CLOCK_THREAD_CPUTIME_ID, ...). */
double rcpt_bench_cpu(clockid_t which);

/* Holds worker threads until all exist, so they run side by side. */
struct rcpt_bench_gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int go; /* 0 wait, 1 run, -1 give up */
};

#define RCPT_BENCH_GATE_INIT                                           \
	{                                                              \
		PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 \
	}

/** Blocks until the gate opens; true when the thread is to run. */
bool rcpt_bench_gate_wait(struct rcpt_bench_gate *g);

/** Opens @p g: @p go 1 lets the threads run, -1 sends them home. */
void rcpt_bench_gate_open(struct rcpt_bench_gate *g, int go);

/**
 * Runs @p fn on each of the @p n pointers in @p args (n at most 8), one
 * thread each, then opens @p g (which every job waits on) and joins
 * them.  When a thread cannot be made the gate opens with -1 and the
 * started ones are joined.
 * @return RCPT_OK, RCPT_E_INVAL for a bad @p n, RCPT_E_INTERNAL when a
 * thread could not be made.
 */
int rcpt_bench_threads(
    void *(*fn)(void *), void *const *args, int n, struct rcpt_bench_gate *g);

/* Options every benchmark takes; the caller fills the "in" fields. */
struct rcpt_bench_opts {
	const char *prog;      /* in: "sign", for messages */
	void (*usage)(FILE *); /* in: prints the usage text */
	const char *count_opt; /* in: a numeric option ("n"), or NULL */
	uint64_t count_max;    /* in: its largest value (smallest is 1) */
	uint64_t count;        /* in: its default; out: its value */
	double seconds;        /* in: the default; out: --seconds */
	bool quick;            /* out: --quick given */
	bool have_count;       /* out: the count option given */
	bool have_seconds;     /* out: --seconds given */
};

/**
 * Parses --quick, --seconds S (0.1 to 600), --help (usage on stdout,
 * exit 0) and the count option into @p o.  The caller applies --quick.
 * @return RCPT_OK, or RCPT_E_INVAL after printing why on stderr.
 */
int rcpt_bench_parse_args(int argc, char **argv, struct rcpt_bench_opts *o);

/* The machine a run was made on. */
struct rcpt_bench_machine {
	long nproc;
	double load; /* 1-minute load average, -1 when unknown */
};

/**
 * Fills @p m and prints the "machine:" line: other load skews every
 * figure, so it stands next to them.
 */
void rcpt_bench_machine(struct rcpt_bench_machine *m);

/**
 * Makes a fresh directory "$TMPDIR/rcpt-bench-<prog>-XXXXXX" and writes
 * its real path to @p out (size @p size; at least 32 bytes are left
 * free for names below it).
 * @return RCPT_OK, RCPT_E_CONFIG when the path is too long, RCPT_E_IO.
 */
int rcpt_bench_mkdtemp(const char *prog, char *out, size_t size);

/** Removes @p dir and everything below it, saying on stderr what not. */
void rcpt_bench_remove_tree(const char *prog, const char *dir);

/** "met" or "MISSED". */
const char *rcpt_bench_verdict(bool met);

/** The larger of @p a and @p b. */
double rcpt_bench_max(double a, double b);

/** The smaller of @p a and @p b. */
double rcpt_bench_min(double a, double b);

#endif
