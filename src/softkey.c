/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The development software key: a seed in a 0600 file, for demos and
 * tests.  Creation never replaces a file (O_EXCL) and is made durable
 * (fsync of the file and of its directory); opening refuses symbolic
 * links, anything but a regular file, and any group or other permission
 * bit, and parses the one line strictly.
 *
 * The seed lives on a page of its own so that it can be locked in memory
 * and left out of core dumps; both are best effort.  Every temporary
 * copy (file text, decoded bytes) is wiped on every path.  Messages name
 * the path and the rule, never key material.  This module is not a
 * keystore: no rotation, no passphrase, no second key per file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "encode.h"
#include "mem.h"
#include "softkey.h"

#define MAGIC     "receiptd-softkey-v1 "
#define MAGIC_LEN (sizeof(MAGIC) - 1)
#define SEED_B64  RCPT_B64URL_LEN(RCPT_ED25519_SEED_LEN) /* 43 */
#define FILE_LEN  (MAGIC_LEN + SEED_B64 + 1)             /* with the \n */

struct rcpt_softkey {
	void *mem;     /* rcpt_malloc'd block holding the seed page */
	size_t page;   /* page size */
	uint8_t *seed; /* page-aligned inside mem */
	int locked;    /* 1 when mlock succeeded */
	uint8_t pub[RCPT_ED25519_PUB_LEN];
	char kid[RCPT_KID_LEN + 1];
};

/* Allocates the key with its seed on a page nothing else shares. */
static struct rcpt_softkey *
key_new(void)
{
	struct rcpt_softkey *k;
	long ps = sysconf(_SC_PAGESIZE);
	uintptr_t p;

	if ((k = rcpt_calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->page = ps > 0 ? (size_t)ps : 4096;
	if ((k->mem = rcpt_malloc(2 * k->page)) == NULL) {
		free(k);
		return NULL;
	}
	p = ((uintptr_t)k->mem + k->page - 1) & ~(uintptr_t)(k->page - 1);
	k->seed = (uint8_t *)p;
	/* Both are hardening only: a small RLIMIT_MEMLOCK is common. */
	k->locked = mlock(k->seed, k->page) == 0;
#ifdef MADV_DONTDUMP
	(void)madvise(k->seed, k->page, MADV_DONTDUMP);
#endif
	return k;
}

void
rcpt_softkey_close(struct rcpt_softkey *k)
{
	if (k == NULL)
		return;
	rcpt_memzero(k->seed, RCPT_ED25519_SEED_LEN);
#ifdef MADV_DODUMP
	/* The page goes back to malloc, which may hand it to anyone. */
	(void)madvise(k->seed, k->page, MADV_DODUMP);
#endif
	if (k->locked)
		(void)munlock(k->seed, k->page);
	free(k->mem);
	rcpt_freezero(k, sizeof(*k));
}

/* Derives pub and kid from the seed already in @p k. */
static int
key_finish(struct rcpt_softkey *k)
{
	int r;

	if ((r = rcpt_ed25519_public(k->seed, k->pub)) != RCPT_OK)
		return r;
	return rcpt_jwk_kid(k->pub, k->kid);
}

int
rcpt_softkey_from_seed(
    const uint8_t seed[RCPT_ED25519_SEED_LEN], struct rcpt_softkey **out)
{
	struct rcpt_softkey *k;
	int r;

	*out = NULL;
	if (seed == NULL)
		return RCPT_E_INVAL;
	if ((k = key_new()) == NULL)
		return RCPT_E_NOMEM;
	memcpy(k->seed, seed, RCPT_ED25519_SEED_LEN);
	if ((r = key_finish(k)) != RCPT_OK) {
		rcpt_softkey_close(k);
		return r;
	}
	*out = k;
	return RCPT_OK;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Makes the new directory entry of @p path durable. */
static int
sync_parent(const char *path)
{
	char *dir;
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		dir = rcpt_strdup(".");
	else if (slash == path)
		dir = rcpt_strdup("/");
	else
		dir = rcpt_strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return RCPT_E_NOMEM;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return RCPT_E_IO;
	rc = fsync(fd);
	(void)close(fd);
	return rc == 0 ? RCPT_OK : RCPT_E_IO;
}

int
rcpt_softkey_generate(const char *path, struct rcpt_diag *diag)
{
	uint8_t seed[RCPT_ED25519_SEED_LEN];
	char line[FILE_LEN + 1];
	int fd = -1, created = 0, r = RCPT_E_INTERNAL;

	if (path == NULL || *path == '\0')
		return rcpt_diag(diag, RCPT_E_INVAL, "key file: path is empty");
	if (RAND_priv_bytes(seed, sizeof(seed)) != 1) {
		r = rcpt_diag(diag, RCPT_E_INTERNAL,
		    "%s: no random bytes from OpenSSL", path);
		goto out;
	}
	memcpy(line, MAGIC, MAGIC_LEN);
	rcpt_b64url_encode(seed, sizeof(seed), line + MAGIC_LEN);
	line[FILE_LEN - 1] = '\n';
	line[FILE_LEN] = '\0';
	fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			r = rcpt_diag(diag, RCPT_E_EXISTS,
			    "%s: exists; a key file is never overwritten",
			    path);
		else
			r = rcpt_diag(diag, RCPT_E_IO, "%s: cannot create: %s",
			    path, strerror(errno));
		goto out;
	}
	created = 1;
	if (write_all(fd, line, FILE_LEN) != 0 || fsync(fd) != 0) {
		r = rcpt_diag(diag, RCPT_E_IO, "%s: write failed: %s", path,
		    strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = rcpt_diag(diag, RCPT_E_IO, "%s: close failed", path);
		goto out;
	}
	fd = -1;
	if ((r = sync_parent(path)) != RCPT_OK) {
		rcpt_diag(diag, r, "%s: cannot sync its directory", path);
		goto out;
	}
	created = 0;
	r = RCPT_OK;
out:
	if (fd >= 0)
		(void)close(fd);
	/* A half-written file would block the next attempt. */
	if (created)
		(void)unlink(path);
	rcpt_memzero(line, sizeof(line));
	rcpt_memzero(seed, sizeof(seed));
	return r;
}

/* Reads the whole file into @p buf; *n_out > cap - 1 means too long. */
static int
read_key_file(int fd, char *buf, size_t cap, size_t *n_out)
{
	size_t n = 0;
	ssize_t got;

	while (n < cap) {
		if ((got = read(fd, buf + n, cap - n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*n_out = n;
	return 0;
}

static int
open_checked(const char *path, struct rcpt_diag *diag)
{
	struct stat st;
	int fd;

	/* O_NONBLOCK: a FIFO put in the key's place must not hang us. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		switch (errno) {
		case ENOENT:
			return rcpt_diag(diag, RCPT_E_NOT_FOUND,
			    "%s: no such key file", path);
		case ELOOP:
			return rcpt_diag(diag, RCPT_E_DENIED,
			    "%s: must be a regular file, not a symbolic link",
			    path);
		case EACCES:
		case EPERM:
			return rcpt_diag(
			    diag, RCPT_E_DENIED, "%s: permission denied", path);
		default:
			return rcpt_diag(diag, RCPT_E_IO, "%s: cannot open: %s",
			    path, strerror(errno));
		}
	}
	if (fstat(fd, &st) != 0) {
		(void)close(fd);
		return rcpt_diag(diag, RCPT_E_IO, "%s: cannot stat", path);
	}
	if (!S_ISREG(st.st_mode)) {
		(void)close(fd);
		return rcpt_diag(
		    diag, RCPT_E_DENIED, "%s: must be a regular file", path);
	}
	if ((st.st_mode & 077) != 0) {
		(void)close(fd);
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "%s: must be mode 0600 or 0400 (no group or other access)",
		    path);
	}
	return fd;
}

int
rcpt_softkey_open(
    const char *path, struct rcpt_softkey **out, struct rcpt_diag *diag)
{
	struct rcpt_softkey *k = NULL;
	char buf[FILE_LEN + 1];
	size_t n = 0;
	int fd = -1, r = RCPT_E_INTERNAL;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return rcpt_diag(diag, RCPT_E_INVAL, "key file: path is empty");
	if ((fd = open_checked(path, diag)) < 0)
		return fd;
	if (read_key_file(fd, buf, sizeof(buf), &n) != 0) {
		r = rcpt_diag(diag, RCPT_E_IO, "%s: read failed", path);
		goto out;
	}
	if ((k = key_new()) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	if (n != FILE_LEN || memcmp(buf, MAGIC, MAGIC_LEN) != 0 ||
	    buf[FILE_LEN - 1] != '\n' ||
	    rcpt_b64url_decode(buf + MAGIC_LEN, SEED_B64, k->seed,
	        RCPT_ED25519_SEED_LEN) != RCPT_OK) {
		r = rcpt_diag(diag, RCPT_E_PARSE,
		    "%s: must be one line \"receiptd-softkey-v1 <base64url "
		    "32-byte seed>\"",
		    path);
		goto out;
	}
	if ((r = key_finish(k)) != RCPT_OK)
		goto out;
	*out = k;
	k = NULL;
	r = RCPT_OK;
out:
	rcpt_memzero(buf, sizeof(buf));
	rcpt_softkey_close(k);
	if (fd >= 0)
		(void)close(fd);
	return r;
}

static int
sign32(void *ctx, const char *kid, const uint8_t msg[32],
    uint8_t sig_out[RCPT_ED25519_SIG_LEN])
{
	return rcpt_softkey_sign_msg(ctx, kid, msg, 32, sig_out);
}

int
rcpt_softkey_sign_msg(void *ctx, const char *kid, const uint8_t *msg,
    size_t len, uint8_t sig_out[RCPT_ED25519_SIG_LEN])
{
	struct rcpt_softkey *k = ctx;

	if (k == NULL || kid == NULL || strcmp(kid, k->kid) != 0) {
		memset(sig_out, 0, RCPT_ED25519_SIG_LEN);
		return RCPT_E_KEY_UNAVAILABLE;
	}
	return rcpt_ed25519_sign(k->seed, msg, len, sig_out);
}

void
rcpt_softkey_signer(struct rcpt_softkey *k, struct rcpt_signer *s)
{
	memset(s, 0, sizeof(*s));
	s->ctx = k;
	s->sign = sign32;
	s->sign_msg = rcpt_softkey_sign_msg;
	memcpy(s->kid, k->kid, sizeof(s->kid));
	memcpy(s->pub, k->pub, sizeof(s->pub));
}

const char *
rcpt_softkey_kid(const struct rcpt_softkey *k)
{
	return k->kid;
}

const uint8_t *
rcpt_softkey_public(const struct rcpt_softkey *k)
{
	return k->pub;
}
