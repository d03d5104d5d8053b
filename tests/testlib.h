/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared test scaffolding: running CUnit suites with a verdict CI can
 * read, finding the test vectors, temporary directories and small file
 * helpers.  Test code only; never linked into the daemon or library.
 */
#ifndef RCPT_TESTS_TESTLIB_H
#define RCPT_TESTS_TESTLIB_H

#include <stddef.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

/** Exit status automake reads as SKIP. */
#define RCPT_TEST_SKIP 77

/**
 * Registers @p suites, runs them verbosely and returns the exit status:
 * 0 when all passed, 1 when any failed or CUnit broke.
 */
int rcpt_test_run(CU_SuiteInfo *suites);

/** Directory of the test vectors ($VECTORS_DIR or the built-in path). */
const char *rcpt_test_vectors_dir(void);

/**
 * Reads a whole file.  Returns a NUL-terminated malloc'd buffer the
 * caller frees, or NULL; @p len_out may be NULL.
 */
char *rcpt_test_read_file(const char *path, size_t *len_out);

/** Reads a file below the vectors dir, as rcpt_test_read_file(). */
char *rcpt_test_read_vector(const char *rel, size_t *len_out);

/** Writes @p len bytes to @p path (mode 0600). Returns 0 on success. */
int rcpt_test_write_file(const char *path, const void *p, size_t len);

/**
 * Makes a fresh directory under $TMPDIR (or /tmp).  Returns a malloc'd
 * path the caller passes to rcpt_test_rmdir() and then frees.
 */
char *rcpt_test_mkdtemp(void);

/** Removes @p dir and everything under it. */
void rcpt_test_rmdir(const char *dir);

/** Joins @p dir and @p name into a static buffer (one at a time). */
const char *rcpt_test_path(const char *dir, const char *name);

#endif
