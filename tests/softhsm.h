/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: a throw-away SoftHSM2 token in its own temporary
 * directory, with its own softhsm2.conf and random SO and user PINs in
 * 0600 files.  SOFTHSM2_CONF is set to that conf for the whole process,
 * so a test never touches a system token.  Test code only.
 *
 * SoftHSM reads SOFTHSM2_CONF when the module is initialised and keeps
 * one global state per process: close every rcpt_hsm handle (and any
 * other user of the module) before creating the next token, and use one
 * token at a time.
 *
 * In AddressSanitizer builds, linking this fixture sets ASan's default
 * options to fast_unwind_on_malloc=0 (see softhsm.c), so that leaks
 * inside SoftHSM are attributed to it and matched by tests/lsan.supp.
 */
#ifndef RCPT_TESTS_SOFTHSM_H
#define RCPT_TESTS_SOFTHSM_H

#include <stddef.h>

#include "testlib.h"

/* Every string is malloc'd and owned by the struct. */
struct rcpt_test_token {
	char *dir;           /* temporary directory holding everything below */
	char *conf;          /* dir/softhsm2.conf, also in $SOFTHSM2_CONF */
	char *user_pin_file; /* dir/user.pin, 0600, owned by us */
	char *so_pin_file;   /* dir/so.pin, 0600, owned by us */
	char *label;         /* token label */
	char *uri;           /* "pkcs11:token=<label>" (label is escaped) */
};

/**
 * Creates a fresh token labelled @p label (at most 32 bytes) in a new
 * temporary directory and points SOFTHSM2_CONF at its conf.
 * @param[out] t filled in; release with rcpt_test_token_free() whatever
 * the result.
 * @return 0; RCPT_TEST_SKIP (77) when SoftHSM is not installed (the
 * test program should then exit 77); a negative RCPT_E_* code, printed on
 * stderr, when creating the token failed.
 */
int rcpt_test_token_new(struct rcpt_test_token *t, const char *label);

/** Removes the directory and frees the strings; @p t may be zeroed. */
void rcpt_test_token_free(struct rcpt_test_token *t);

/** Path of libsofthsm2.so used by the fixture (SOFTHSM_MODULE). */
const char *rcpt_test_softhsm_module(void);

/**
 * The main() of a test program whose suite @p p11_suite needs a token:
 * creates one labelled @p label into @p t and its result into
 * @p status_out (both the tests' own, as they read them), drops that
 * suite when SoftHSM is not installed, runs @p suites and frees the
 * token.  Returns the exit status: rcpt_test_run()'s, or RCPT_TEST_SKIP
 * when all that ran passed but SoftHSM was missing.
 */
int rcpt_test_token_main(CU_SuiteInfo *suites, size_t p11_suite,
    const char *label, struct rcpt_test_token *t, int *status_out);

#endif
