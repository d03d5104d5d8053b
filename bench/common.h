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
#include <sys/types.h>
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

#define RCPT_BENCH_THREADS_MANY 1024

/**
 * As rcpt_bench_threads(), for up to RCPT_BENCH_THREADS_MANY threads
 * (load generators need more than the eight a measurement uses).
 * @return RCPT_OK, RCPT_E_INVAL for a bad @p n, RCPT_E_NOMEM,
 * RCPT_E_INTERNAL when a thread could not be made.
 */
int rcpt_bench_threads_many(
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

/**
 * Copies the file @p from to @p dir (same base name) with mode @p mode,
 * which chmod sets whatever the umask.
 * @return RCPT_OK, RCPT_E_NOT_FOUND (no @p from), RCPT_E_IO; the reason
 * goes to stderr, prefixed with @p prog.
 */
int rcpt_bench_copy_file(
    const char *prog, const char *from, const char *dir, unsigned mode);

/**
 * The @p p quantile (0 to 1) of the @p n values in @p sorted (ascending),
 * by nearest rank; 0 when @p n is 0.
 */
double rcpt_bench_quantile(const double *sorted, size_t n, double p);

/* A growing sample of values, such as latencies; zero it to start. */
struct rcpt_bench_sample {
	double *v; /* owned */
	size_t n, cap;
};

/** Adds @p x to @p s. @return false when out of memory. */
bool rcpt_bench_sample_add(struct rcpt_bench_sample *s, double x);

/**
 * Moves every value of @p from to the end of @p to and empties @p from.
 * @return false when out of memory (both are then unchanged).
 */
bool rcpt_bench_sample_take(
    struct rcpt_bench_sample *to, struct rcpt_bench_sample *from);

/** Sorts @p s ascending, for rcpt_bench_quantile(s->v, s->n, p). */
void rcpt_bench_sample_sort(struct rcpt_bench_sample *s);

/** Frees the values of @p s and zeroes it. */
void rcpt_bench_sample_free(struct rcpt_bench_sample *s);

/* Child processes: a program under test, such as the daemon. */

/**
 * Starts @p path with @p argv, its stdout and stderr appended to the
 * file @p log (made 0600).
 * @return its pid, or -1 after saying why on stderr.
 */
pid_t rcpt_bench_spawn(
    const char *prog, const char *path, char *const argv[], const char *log);

/**
 * Waits up to @p seconds (0: only looks) for child @p pid to end.
 * @return its exit status, 128 + the signal that ended it, or -1 while
 * it still runs (or is not our child).
 */
int rcpt_bench_child_wait(pid_t pid, double seconds);

/**
 * The value of @p field ("VmHWM:", "VmRSS:", ...) in /proc/PID/status,
 * in KiB; -1 when unknown.
 */
long rcpt_bench_proc_kib(pid_t pid, const char *field);

/** User plus system CPU seconds of process @p pid so far; -1 if unknown. */
double rcpt_bench_proc_cpu(pid_t pid);

/**
 * The name of the file system @p path is on ("ext4", "tmpfs", ...;
 * "other" or "unknown"), so that a reader can tell what a sync costs.
 */
const char *rcpt_bench_fs_type(const char *path);

/** Copies the file @p path to stderr between two marker lines. */
void rcpt_bench_show_file(const char *path);

/* A measurement in a forked child. */

/** Work done in a child; it fills the report @p rep. */
typedef void (*rcpt_bench_child_fn)(const void *arg, void *rep);

/**
 * Runs @p fn(@p arg, @p rep) in a forked child (NULL: a child that only
 * exits), copies the child's @p size bytes of @p rep back through a pipe
 * and gives the child's peak RSS (ru_maxrss) in MiB, so that the figure
 * counts that work alone.  A forked child starts with the parent's
 * resident pages: keep the parent small.
 * @param[out] why when the child failed, what happened.
 * @return RCPT_OK, RCPT_E_IO (no pipe, fork or wait), RCPT_E_INTERNAL
 * when the child died or could not send its report.
 */
int rcpt_bench_in_child(rcpt_bench_child_fn fn, const void *arg, void *rep,
    size_t size, double *rss_mib_out, char *why, size_t why_size);

/** "met" or "MISSED". */
const char *rcpt_bench_verdict(bool met);

/** The larger of @p a and @p b. */
double rcpt_bench_max(double a, double b);

/** The smaller of @p a and @p b. */
double rcpt_bench_min(double a, double b);

#endif
