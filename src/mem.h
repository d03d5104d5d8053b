/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Allocation and wiping.  Every allocation of ours goes through these so
 * that tests can make the n-th one fail (rcpt_mem_fail_after) and check
 * that each failure path returns RCPT_E_NOMEM and leaks nothing.  Memory
 * allocated inside json-c or OpenSSL is not counted.
 */
#ifndef RCPT_SRC_MEM_H
#define RCPT_SRC_MEM_H

#include <stddef.h>

/** Like malloc(3); NULL on failure or injected failure. Free with free(). */
void *rcpt_malloc(size_t n);
/** Like calloc(3), with overflow check. */
void *rcpt_calloc(size_t nmemb, size_t size);
/** Like realloc(3); on failure @p p is untouched. */
void *rcpt_realloc(void *p, size_t n);
/** Like reallocarray(3). */
void *rcpt_reallocarray(void *p, size_t nmemb, size_t size);
/** Copies @p s; caller frees with free(). */
char *rcpt_strdup(const char *s);
/** Copies @p n bytes of @p s and a NUL; caller frees with free(). */
char *rcpt_strndup(const char *s, size_t n);

/** Wipes @p n bytes at @p p in a way the compiler keeps. */
void rcpt_memzero(void *p, size_t n);
/** Wipes @p n bytes at @p p, then frees it; accepts NULL. */
void rcpt_freezero(void *p, size_t n);
/** Compares in time independent of the contents; 0 when equal. */
int rcpt_memeq_ct(const void *a, const void *b, size_t n);

/**
 * Test hook: after @p n more successful allocations, every allocation
 * fails until rcpt_mem_fail_after(-1) is called.  Not thread-safe; for
 * single-threaded tests only.
 */
void rcpt_mem_fail_after(long n);

#endif
