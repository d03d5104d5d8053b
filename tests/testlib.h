/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Shared test scaffolding: running CUnit suites with a verdict CI can
 * read, finding the test vectors, temporary directories and small file
 * helpers.  Test code only; never linked into the daemon or library.
 */
#ifndef RCPT_TESTS_TESTLIB_H
#define RCPT_TESTS_TESTLIB_H

#include <stddef.h>
#include <sys/types.h>

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

/**
 * Joins @p dir and @p name with a slash.  Returns a malloc'd string the
 * caller frees, or NULL when out of memory.
 */
char *rcpt_test_join(const char *dir, const char *name);

/**
 * Copies file @p from to @p to (created or truncated) and sets its mode
 * to @p mode.  The keystore loader refuses plugins that are group or
 * other writable, and a build tree's modes follow the umask, so tests
 * load plugins from such a copy.  Returns 0, or -1 on any failure.
 */
int rcpt_test_copy_file(const char *from, const char *to, mode_t mode);

/**
 * Copies the plugin @p so into the directory @p dir under its own base
 * name, mode 0755, with rcpt_test_copy_file().  Returns 0 or -1.
 */
int rcpt_test_plugin_copy(const char *so, const char *dir);

/** Most arguments rcpt_test_spawn() passes, argv[0] not counted. */
#define RCPT_TEST_ARGS_MAX 64

/* What a program run by rcpt_test_spawn() did. */
struct rcpt_test_proc {
	int status;     /* exit status, or 128 + signal */
	char *out;      /* stdout, NUL-terminated, malloc'd */
	size_t out_len; /* bytes in out, which may hold NULs */
	char *err;      /* stderr, NUL-terminated, malloc'd */
};

/**
 * Runs the program @p prog with @p args (NULL-terminated, without
 * argv[0], at most RCPT_TEST_ARGS_MAX) and this process's environment,
 * waits for it and captures its output.  Its stdin is read from
 * @p in_path (NULL: /dev/null); its stdout and stderr go to the files
 * .stdout and .stderr in @p dir, which are overwritten.
 * @param[out] p zeroed first, then filled in; release with
 * rcpt_test_proc_clear() whatever the result.
 * @return 0, or -1 when the program could not be run, too many
 * arguments were given or the output could not be read back.
 */
int rcpt_test_spawn(struct rcpt_test_proc *p, const char *prog, const char *dir,
    const char *in_path, const char *const *args);

/** Frees the output of @p p and zeroes it. */
void rcpt_test_proc_clear(struct rcpt_test_proc *p);

/**
 * Sets ASAN_OPTIONS (full stacks, so LSan suppressions match frames in
 * libraries) and, unless already set, LSAN_OPTIONS with the project's
 * suppressions, so that programs the tests spawn (receiptd, receiptctl)
 * run under the same sanitizer settings.  Returns 0 or -1.
 */
int rcpt_test_sanitizer_env(void);

/* Receipt lines, to tamper with (test-tamper.c) */

struct rcpt_receipt;
struct rcpt_signer;

/** Most lines a struct rcpt_test_lines holds. */
#define RCPT_TEST_LINES_MAX 64

/* Stored receipts as JCS lines without "\n"; init with {0}. */
struct rcpt_test_lines {
	char *l[RCPT_TEST_LINES_MAX]; /* owned, NUL-terminated */
	size_t n;
};

/*
 * The helpers below assert with CUnit (fatally on a broken fixture), so
 * they run only inside a test.
 */

/** Appends the JCS of @p r to @p L. */
void rcpt_test_lines_keep(
    struct rcpt_test_lines *L, const struct rcpt_receipt *r);

/** Frees the lines of @p L and empties it. */
void rcpt_test_lines_free(struct rcpt_test_lines *L);

/** Makes @p L a copy of lines [0, @p to) of @p from (all when 0). */
void rcpt_test_lines_copy(
    struct rcpt_test_lines *L, const struct rcpt_test_lines *from, size_t to);

/** The lines each followed by "\n"; the caller frees the string. */
char *rcpt_test_lines_join(const struct rcpt_test_lines *L);

/** Removes line @p i. */
void rcpt_test_lines_drop(struct rcpt_test_lines *L, size_t i);

/** Replaces the first @p from in line @p i by @p to. */
void rcpt_test_line_replace(
    struct rcpt_test_lines *L, size_t i, const char *from, const char *to);

/** Removes the signature member of line @p i, which must have one. */
void rcpt_test_line_unsign(struct rcpt_test_lines *L, size_t i);

/**
 * Makes line @p i consistent again after an edit, as a forger would:
 * data_hash and entry_hash recomputed; prev_hash set to the entry_hash
 * of line i - 1 when @p link; the signature, when there is one, made
 * by @p s, or left as it was (now stale) when @p s is NULL.
 * @param[in] s borrowed for the call; NULL: the forger lacks the key.
 */
void rcpt_test_line_reseal(
    struct rcpt_test_lines *L, size_t i, int link, const struct rcpt_signer *s);

#endif
