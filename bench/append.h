/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The physical limits bench/append holds the daemon against, measured in
 * the bench's own process on the daemon's own token and disk: a bare
 * PKCS#11 C_Sign loop, a bare LMDB durable-commit loop, and the naive
 * design (one C_Sign and one durable commit per event).  append.c drives
 * the daemon and reports; append-limits.c measures these.  Benchmark
 * code only: it never touches a system token, and reads the daemon's
 * store only for its count of commits, read-only.
 */
#ifndef RCPT_BENCH_APPEND_H
#define RCPT_BENCH_APPEND_H

#include <stddef.h>
#include <stdint.h>

#include <p11-kit/p11-kit.h>

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
	double raw_1s;               /* raw C_Sign, one session */
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

#endif
