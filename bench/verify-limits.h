/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/verify in two files.  verify.c builds the chain, runs our
 * verifier, JCS and the report; verify-limits.c measures what our
 * verifier is held against on the same machine in the same run: bare
 * Ed25519 verify loops on libsodium (the limit) and OpenSSL (context),
 * and the naive Python peer (bench/peer-naive.py, run as a child).
 * Benchmark code only: it never touches a real key or a real store.
 */
#ifndef RCPT_BENCH_VERIFY_LIMITS_H
#define RCPT_BENCH_VERIFY_LIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "src/ed25519.h"

/* Exactly 32 characters: the array holds no NUL. */
#define RCPT_BENCH_VERIFY_SEED "receiptd bench/verify fixed seed"

/** The library a bare verify loop runs on. */
enum rcpt_bench_raw_lib {
	RCPT_BENCH_RAW_OPENSSL, /* EVP_DigestVerifyInit + EVP_DigestVerify */
	RCPT_BENCH_RAW_SODIUM   /* crypto_sign_ed25519_verify_detached */
};

/**
 * Bare Ed25519 verifications of 32-byte messages per second on
 * @p nthreads threads (1 to 8) side by side, for @p seconds each, and
 * per CPU second of those threads into @p cpu_rate_out when not NULL.
 * @return RCPT_OK, RCPT_E_INVAL, RCPT_E_NOMEM, RCPT_E_INTERNAL (a
 * library failed, or a signature did not verify).
 */
int rcpt_bench_raw_verify(enum rcpt_bench_raw_lib lib, double seconds,
    int nthreads, double *rate_out, double *cpu_rate_out);

/** The naive peer's verification of the same number of receipts. */
struct rcpt_bench_vpeer {
	bool measured;  /* false: see why */
	double rate;    /* rows verified per second, its own figure */
	uint64_t rows;  /* rows it verified */
	double build_s; /* its untimed build, wall seconds */
	char why[200];  /* when not measured: the reason */
};

/**
 * Runs bench/peer-naive.py build and then verify with @p n rows in
 * @p dir, which must exist.  Never fails the run: a missing python3 or
 * python3-nacl, or any other failure, leaves @p p not measured with the
 * reason in p->why.
 */
void rcpt_bench_vpeer_run(
    const char *dir, uint64_t n, struct rcpt_bench_vpeer *p);

#endif
