/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for reading evidence bundles (SPEC 7, 8): the input
 * is a bundle file, verified as `receiptctl verify-bundle` verifies it,
 * once without and once with a fixed --trust set.  Whatever the bytes,
 * the verdict is CLEAN, BROKEN or ERROR with a terminated reason, and
 * nothing may crash or leak.  rcpt_bundle_verify reads a path, so each
 * input is written to one temporary file, made once (in $TMPDIR or
 * /tmp) and removed at exit.
 *
 * Most byte flips land in a tar header and only reach libarchive's
 * checksum test, so the mutator usually edits the contents of one entry
 * and writes the tar around it again with sizes and checksums that
 * hold, for the verifier behind libarchive to see.  Run with --enable-fuzzing
 * (`make fuzz-run`).  A test harness, so a broken promise traps instead of
 * returning an error.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "fuzz-trust.h"
#include "jwk.h"
#include "verify.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(
    uint8_t *data, size_t size, size_t max_size, unsigned int seed);

#define BLOCK       512 /* ustar header and data block */
#define ENTRIES_MAX 8   /* a bundle holds at most six */

static struct rcpt_jwks *trust;
static char path[4096];
static int fd = -1;

static void
remove_file(void)
{
	if (fd != -1) {
		(void)close(fd);
		(void)unlink(path);
		fd = -1;
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("TMPDIR");
	int n;

	(void)argc;
	(void)argv;
	if (rcpt_jwks_parse(trust_text, sizeof(trust_text) - 1, &trust, NULL) !=
	    RCPT_OK)
		__builtin_trap();
	if (dir == NULL || dir[0] == '\0')
		dir = "/tmp";
	n = snprintf(path, sizeof(path), "%s/fuzz-bundle-XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof(path) || (fd = mkstemp(path)) == -1 ||
	    atexit(remove_file) != 0)
		__builtin_trap();
	return 0;
}

static void
verify(const struct rcpt_jwks *keys)
{
	struct rcpt_verify_result res;
	char line[1024];

	memset(&res, 0xa5, sizeof(res));
	rcpt_bundle_verify(path, keys, 0, &res);
	if ((res.status != RCPT_VERIFY_CLEAN &&
	        res.status != RCPT_VERIFY_BROKEN &&
	        res.status != RCPT_VERIFY_ERROR) ||
	    memchr(res.reason, '\0', sizeof(res.reason)) == NULL ||
	    memchr(res.chain, '\0', sizeof(res.chain)) == NULL ||
	    memchr(res.origin, '\0', sizeof(res.origin)) == NULL ||
	    (res.status == RCPT_VERIFY_CLEAN && res.count == 0))
		__builtin_trap();
	rcpt_verify_format(&res, line, sizeof(line));
	if (memchr(line, '\0', sizeof(line)) == NULL)
		__builtin_trap();
}

/* Where one tar entry lies in a fuzz input. */
struct entry {
	size_t hdr; /* offset of its header */
	size_t off; /* offset of its data */
	size_t len; /* bytes of data */
};

/* Splits @p data into ustar entries; 0 when it is not a ustar file. */
static size_t
split_tar(const uint8_t *data, size_t size, struct entry *e)
{
	size_t n = 0, off = 0;
	unsigned long len;
	char field[13], *end;

	while (n < ENTRIES_MAX && off + BLOCK <= size && data[off] != 0) {
		if (memcmp(data + off + 257, "ustar", 5) != 0)
			return 0;
		memcpy(field, data + off + 124, 12);
		field[12] = '\0';
		len = strtoul(field, &end, 8);
		if (end == field || len > size - off - BLOCK)
			return 0;
		e[n].hdr = off;
		e[n].off = off + BLOCK;
		e[n].len = len;
		n++;
		off += BLOCK + (len + BLOCK - 1) / BLOCK * BLOCK;
	}
	return n;
}

/* Sets the size field of header @p h to @p len and its checksum. */
static void
seal_header(uint8_t *h, size_t len)
{
	char f[16];
	unsigned sum = 0;
	size_t i;

	(void)snprintf(f, sizeof(f), "%011lo ", (unsigned long)len);
	memcpy(h + 124, f, 12);
	memset(h + 148, ' ', 8);
	for (i = 0; i < BLOCK; i++)
		sum += h[i];
	(void)snprintf(f, sizeof(f), "%06o", sum & 0777777);
	memcpy(h + 148, f, 7);
}

size_t
LLVMFuzzerCustomMutator(
    uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	struct entry e[ENTRIES_MAX];
	size_t n = split_tar(data, size, e), k, i, other = 2 * BLOCK, cap, len,
	       mlen, out = 0;
	uint8_t *copy, *buf;

	/* Now and then the raw bytes, so headers and the end change too. */
	if (n == 0 || seed % 4 == 0)
		return LLVMFuzzerMutate(data, size, max_size);
	k = (seed / 4) % n;
	for (i = 0; i < n; i++)
		if (i != k)
			other += BLOCK + (e[i].len + BLOCK - 1) / BLOCK * BLOCK;
	if (e[k].len == 0 || max_size < other + 2 * BLOCK)
		return LLVMFuzzerMutate(data, size, max_size);
	/* Let the entry grow, but not by leaps that slow every run. */
	cap = (max_size - other - BLOCK) / BLOCK * BLOCK;
	if (cap > (2 * e[k].len + 2 * BLOCK) / BLOCK * BLOCK)
		cap = (2 * e[k].len + 2 * BLOCK) / BLOCK * BLOCK;
	if (cap < e[k].len)
		return LLVMFuzzerMutate(data, size, max_size);
	if ((copy = malloc(size)) == NULL || (buf = malloc(cap)) == NULL)
		__builtin_trap();
	memcpy(copy, data, size);
	memcpy(buf, copy + e[k].off, e[k].len);
	mlen = LLVMFuzzerMutate(buf, e[k].len, cap);
	for (i = 0; i < n; i++) {
		memcpy(data + out, copy + e[i].hdr, BLOCK);
		if (i == k) {
			len = mlen;
			seal_header(data + out, len);
			memcpy(data + out + BLOCK, buf, len);
		} else {
			len = e[i].len;
			memcpy(data + out + BLOCK, copy + e[i].off, len);
		}
		out += BLOCK + len;
		memset(data + out, 0, (BLOCK - len % BLOCK) % BLOCK);
		out += (BLOCK - len % BLOCK) % BLOCK;
	}
	memset(data + out, 0, 2 * BLOCK);
	free(buf);
	free(copy);
	return out + 2 * BLOCK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	ssize_t n;

	if (ftruncate(fd, 0) != 0)
		__builtin_trap();
	while (off < size) {
		n = pwrite(fd, data + off, size - off, (off_t)off);
		if (n <= 0)
			__builtin_trap();
		off += (size_t)n;
	}
	verify(NULL);
	verify(trust);
	return 0;
}
