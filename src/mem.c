/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Thin wrappers over the C allocator.  The failure counter is the only
 * process-wide state in the library, and only tests ever set it.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static long fail_countdown = -1;

static int
should_fail(void)
{
	if (fail_countdown < 0)
		return 0;
	if (fail_countdown == 0)
		return 1;
	fail_countdown--;
	return 0;
}

void
rcpt_mem_fail_after(long n)
{
	fail_countdown = n;
}

void *
rcpt_malloc(size_t n)
{
	if (should_fail())
		return NULL;
	return malloc(n == 0 ? 1 : n);
}

void *
rcpt_calloc(size_t nmemb, size_t size)
{
	if (should_fail())
		return NULL;
	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	return calloc(nmemb, size);
}

void *
rcpt_realloc(void *p, size_t n)
{
	if (should_fail())
		return NULL;
	return realloc(p, n == 0 ? 1 : n);
}

void *
rcpt_reallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		return NULL;
	return rcpt_realloc(p, nmemb * size);
}

char *
rcpt_strndup(const char *s, size_t n)
{
	char *d;

	if ((d = rcpt_malloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *
rcpt_strdup(const char *s)
{
	return rcpt_strndup(s, strlen(s));
}

void
rcpt_memzero(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

void
rcpt_freezero(void *p, size_t n)
{
	if (p == NULL)
		return;
	rcpt_memzero(p, n);
	free(p);
}

int
rcpt_memeq_ct(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= x[i] ^ y[i];
	return d != 0;
}
