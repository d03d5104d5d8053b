/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built-in "software" provider: Ed25519 seeds in files (src/softkey),
 * for development and tests.  The config string is either a directory,
 * holding one file <kid>.key per key, or the path of a single key file.
 * A key's handle is its file path.  Every key is opened at open() and
 * kept in locked memory until close(), so signing touches no file.
 *
 * Data objects (the anchor) are files <name>.anchor in the key
 * directory, or beside the single key file, replaced atomically: a
 * temporary dot file is written and fsynced, renamed over the old one,
 * and the directory fsynced.  A crash leaves the old or the new file and
 * at worst a stray dot file, which nothing reads.
 *
 * It is compiled into libkeystore rather than built as a plugin, so that
 * a development setup needs nothing installed; the keystore refuses it
 * when production = true.  It does not delete, rename or import keys.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keystore/keystore.h"
#include "keystore/provider-util.h"
#include "src/mem.h"
#include "src/softkey.h"

#define SUFFIX      ".key"
#define SUFFIX_LEN  (sizeof(SUFFIX) - 1)
#define TRIES       8 /* temporary names tried before generate gives up */
#define DATA_SUFFIX ".anchor"

struct soft_key {
	char *path;             /* owned; the handle */
	struct rcpt_softkey *k; /* owned */
};

struct soft {
	char *dir;            /* owned; NULL when config names one file */
	char *data_dir;       /* owned; dir, or the key file's directory */
	pthread_mutex_t lock; /* guards keys, n, cap and counter */
	struct soft_key *keys;
	size_t n, cap;
	unsigned counter; /* for temporary names in generate */
};

/* Maps a receiptd code from src/softkey to the provider vocabulary. */
static int
prov_code(int r)
{
	if (rcpt_provider_code_kept(r))
		return r;
	switch (r) {
	case RCPT_E_PARSE:
	case RCPT_E_TOO_LARGE:
		return RCPT_PROVIDER_E_CONFIG; /* a malformed key file */
	default:
		return RCPT_PROVIDER_E_INTERNAL;
	}
}

/* Passes on result @p r of a receiptd call, with @p d's message. */
static int
from_diag(struct rcpt_provider_msg *m, int r, const struct rcpt_diag *d)
{
	if (r == RCPT_OK)
		return RCPT_PROVIDER_OK;
	return rcpt_provider_say(m, prov_code(r), "%s", rcpt_diag_msg(d, r));
}

/* Adds an opened key; takes @p path and @p k, even on failure. */
static int
add_key(struct soft *s, char *path, struct rcpt_softkey *k)
{
	struct soft_key *grown = NULL;
	size_t cap;

	if (s->n == s->cap) {
		cap = s->cap == 0 ? 8 : s->cap * 2;
		if (s->n < RCPT_KS_KEYS_MAX)
			grown = rcpt_reallocarray(s->keys, cap, sizeof(*grown));
		if (grown == NULL) {
			free(path);
			rcpt_softkey_close(k);
			if (s->n >= RCPT_KS_KEYS_MAX)
				return RCPT_PROVIDER_E_INVAL;
			return RCPT_PROVIDER_E_NOMEM;
		}
		s->keys = grown;
		s->cap = cap;
	}
	s->keys[s->n].path = path;
	s->keys[s->n].k = k;
	s->n++;
	return RCPT_PROVIDER_OK;
}

static char *
join(const char *dir, const char *name, const char *suffix)
{
	size_t n = strlen(dir) + 1 + strlen(name) + strlen(suffix) + 1;
	char *p = rcpt_malloc(n);

	if (p != NULL)
		(void)snprintf(p, n, "%s/%s%s", dir, name, suffix);
	return p;
}

/* Opens one file of the directory; its name must be <kid>.key. */
static int
open_entry(struct soft *s, const char *name, struct rcpt_provider_msg *m)
{
	struct rcpt_softkey *k = NULL;
	struct rcpt_diag d;
	char *path;
	size_t len = strlen(name);
	int r;

	if ((path = join(s->dir, name, "")) == NULL)
		return rcpt_provider_say(
		    m, RCPT_PROVIDER_E_NOMEM, "out of memory");
	rcpt_diag_clear(&d);
	if ((r = rcpt_softkey_open(path, &k, &d)) != RCPT_OK) {
		free(path);
		return from_diag(m, r, &d);
	}
	if (len - SUFFIX_LEN != strlen(rcpt_softkey_kid(k)) ||
	    strncmp(name, rcpt_softkey_kid(k), len - SUFFIX_LEN) != 0) {
		rcpt_softkey_close(k);
		free(path);
		return rcpt_provider_say(m, RCPT_PROVIDER_E_CONFIG,
		    "key file %s: its name is not <kid>.key for the key it "
		    "holds",
		    name);
	}
	if ((r = add_key(s, path, k)) != RCPT_PROVIDER_OK)
		return rcpt_provider_say(
		    m, r, "too many keys or out of memory");
	return RCPT_PROVIDER_OK;
}

static int
load_dir(struct soft *s, struct rcpt_provider_msg *m)
{
	struct dirent *e;
	DIR *dp;
	int r = RCPT_PROVIDER_OK;

	if ((dp = opendir(s->dir)) == NULL)
		return rcpt_provider_say(m, RCPT_PROVIDER_E_IO,
		    "config: cannot read directory: %s", strerror(errno));
	while (r == RCPT_PROVIDER_OK && (errno = 0, e = readdir(dp)) != NULL) {
		size_t len = strlen(e->d_name);

		/* Dot files include our own unfinished temporary keys. */
		if (e->d_name[0] == '.' || len <= SUFFIX_LEN ||
		    strcmp(e->d_name + len - SUFFIX_LEN, SUFFIX) != 0)
			continue;
		r = open_entry(s, e->d_name, m);
	}
	if (r == RCPT_PROVIDER_OK && errno != 0)
		r = rcpt_provider_say(m, RCPT_PROVIDER_E_IO,
		    "config: cannot read directory: %s", strerror(errno));
	(void)closedir(dp);
	return r;
}

static void
soft_close(void *ctx)
{
	struct soft *s = ctx;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		rcpt_softkey_close(s->keys[i].k);
		free(s->keys[i].path);
	}
	free(s->keys);
	free(s->dir);
	free(s->data_dir);
	(void)pthread_mutex_destroy(&s->lock);
	free(s);
}

/* @p path itself when it is a directory, else the directory holding it. */
static char *
parent_dir(const char *path, int is_dir)
{
	const char *slash = strrchr(path, '/');
	char *d;

	if (is_dir)
		return rcpt_strdup(path);
	if (slash == NULL)
		return rcpt_strdup(".");
	if (slash == path)
		return rcpt_strdup("/");
	if ((d = rcpt_malloc((size_t)(slash - path) + 1)) != NULL) {
		memcpy(d, path, (size_t)(slash - path));
		d[slash - path] = '\0';
	}
	return d;
}

static int
soft_open(const char *config, void **ctx_out, struct rcpt_provider_msg *m)
{
	struct rcpt_softkey *k = NULL;
	struct soft *s = NULL;
	struct rcpt_diag d;
	struct stat st;
	char *path = NULL;
	int r = RCPT_PROVIDER_E_INTERNAL;

	*ctx_out = NULL;
	if (config == NULL || config[0] == '\0')
		return rcpt_provider_say(m, RCPT_PROVIDER_E_CONFIG,
		    "config: must name a key directory or a key file");
	if (stat(config, &st) != 0) {
		r = errno == ENOENT ? RCPT_PROVIDER_E_NOT_FOUND
		                    : RCPT_PROVIDER_E_IO;
		return rcpt_provider_say(m, r, "config: %s", strerror(errno));
	}
	if ((s = rcpt_calloc(1, sizeof(*s))) == NULL)
		return rcpt_provider_say(
		    m, RCPT_PROVIDER_E_NOMEM, "out of memory");
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		return rcpt_provider_say(
		    m, RCPT_PROVIDER_E_INTERNAL, "cannot make a mutex");
	}
	if (S_ISDIR(st.st_mode)) {
		if ((s->dir = rcpt_strdup(config)) == NULL) {
			r = rcpt_provider_say(
			    m, RCPT_PROVIDER_E_NOMEM, "out of memory");
			goto out;
		}
		if ((r = load_dir(s, m)) != RCPT_PROVIDER_OK)
			goto out;
	} else if (S_ISREG(st.st_mode)) {
		rcpt_diag_clear(&d);
		if ((r = rcpt_softkey_open(config, &k, &d)) != RCPT_OK) {
			r = from_diag(m, r, &d);
			goto out;
		}
		if ((path = rcpt_strdup(config)) == NULL) {
			rcpt_softkey_close(k);
			r = rcpt_provider_say(
			    m, RCPT_PROVIDER_E_NOMEM, "out of memory");
			goto out;
		}
		if ((r = add_key(s, path, k)) != RCPT_PROVIDER_OK) {
			r = rcpt_provider_say(m, r, "out of memory");
			goto out;
		}
	} else {
		r = rcpt_provider_say(m, RCPT_PROVIDER_E_CONFIG,
		    "config: not a directory or a regular file");
		goto out;
	}
	if ((s->data_dir = parent_dir(config, S_ISDIR(st.st_mode))) == NULL) {
		r = rcpt_provider_say(
		    m, RCPT_PROVIDER_E_NOMEM, "out of memory");
		goto out;
	}
	*ctx_out = s;
	s = NULL;
	r = RCPT_PROVIDER_OK;
out:
	soft_close(s);
	return r;
}

/* Finds the key of @p handle; the key itself never moves or goes away. */
static struct rcpt_softkey *
find(struct soft *s, const char *handle)
{
	struct rcpt_softkey *k = NULL;
	size_t i;

	if (handle == NULL)
		return NULL;
	(void)pthread_mutex_lock(&s->lock);
	for (i = 0; i < s->n; i++)
		if (strcmp(s->keys[i].path, handle) == 0) {
			k = s->keys[i].k;
			break;
		}
	(void)pthread_mutex_unlock(&s->lock);
	return k;
}

static int
soft_list(void *ctx, struct rcpt_provider_key **keys_out, size_t *n_out,
    struct rcpt_provider_msg *m)
{
	struct soft *s = ctx;
	struct rcpt_provider_key *keys = NULL;
	size_t i, n;
	int r = RCPT_PROVIDER_OK;

	*keys_out = NULL;
	*n_out = 0;
	(void)pthread_mutex_lock(&s->lock);
	n = s->n;
	if (n > 0 && (keys = rcpt_calloc(n, sizeof(*keys))) == NULL)
		r = RCPT_PROVIDER_E_NOMEM;
	for (i = 0; r == RCPT_PROVIDER_OK && i < n; i++) {
		memcpy(keys[i].pub, rcpt_softkey_public(s->keys[i].k),
		    sizeof(keys[i].pub));
		if ((keys[i].handle = rcpt_strdup(s->keys[i].path)) == NULL)
			r = RCPT_PROVIDER_E_NOMEM;
	}
	(void)pthread_mutex_unlock(&s->lock);
	if (r != RCPT_PROVIDER_OK) {
		for (i = 0; keys != NULL && i < n; i++)
			free(keys[i].handle);
		free(keys);
		return rcpt_provider_say(m, r, "out of memory");
	}
	*keys_out = keys;
	*n_out = n;
	return RCPT_PROVIDER_OK;
}

static int
sync_dir(const char *dir)
{
	int fd, r = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	if (fsync(fd) != 0)
		r = -1;
	(void)close(fd);
	return r;
}

/* Makes a key under a temporary dot name; the name is in *tmp_out. */
static int
make_temp(struct soft *s, char **tmp_out, struct rcpt_provider_msg *m)
{
	struct rcpt_diag d;
	char name[64];
	int i, r = RCPT_E_EXISTS;

	*tmp_out = NULL;
	for (i = 0; i < TRIES && r == RCPT_E_EXISTS; i++) {
		unsigned c;

		(void)pthread_mutex_lock(&s->lock);
		c = s->counter++;
		(void)pthread_mutex_unlock(&s->lock);
		(void)snprintf(
		    name, sizeof(name), ".new-%ld-%u.tmp", (long)getpid(), c);
		free(*tmp_out);
		if ((*tmp_out = join(s->dir, name, "")) == NULL)
			return rcpt_provider_say(
			    m, RCPT_PROVIDER_E_NOMEM, "out of memory");
		rcpt_diag_clear(&d);
		r = rcpt_softkey_generate(*tmp_out, &d);
	}
	if (r != RCPT_OK) {
		free(*tmp_out);
		*tmp_out = NULL;
		return from_diag(m, r, &d);
	}
	return RCPT_PROVIDER_OK;
}

/*
 * The kid is known only once the key exists, so the key is made under a
 * temporary name and then linked to <kid>.key: link() never replaces a
 * file, unlike rename().
 */
static int
soft_generate(void *ctx, const char *label, char **handle_out,
    uint8_t pub_out[32], struct rcpt_provider_msg *m)
{
	struct soft *s = ctx;
	struct rcpt_softkey *k = NULL;
	struct rcpt_diag d;
	char *tmp = NULL, *path = NULL, *h = NULL;
	int r = RCPT_PROVIDER_E_INTERNAL;

	(void)label; /* a software key is named by its kid */
	*handle_out = NULL;
	if (s->dir == NULL)
		return rcpt_provider_say(m, RCPT_PROVIDER_E_INVAL,
		    "generate: config names a single key file; generating "
		    "needs a key directory");
	if ((r = make_temp(s, &tmp, m)) != RCPT_PROVIDER_OK)
		return r;
	rcpt_diag_clear(&d);
	if ((r = rcpt_softkey_open(tmp, &k, &d)) != RCPT_OK) {
		r = from_diag(m, r, &d);
		goto out;
	}
	if ((path = join(s->dir, rcpt_softkey_kid(k), SUFFIX)) == NULL ||
	    (h = rcpt_strdup(path)) == NULL) {
		r = rcpt_provider_say(
		    m, RCPT_PROVIDER_E_NOMEM, "out of memory");
		goto out;
	}
	if (link(tmp, path) != 0) {
		r = errno == EEXIST ? RCPT_PROVIDER_E_EXISTS
		                    : RCPT_PROVIDER_E_IO;
		r = rcpt_provider_say(m, r,
		    "generate: cannot name the key file: %s", strerror(errno));
		goto out;
	}
	if (unlink(tmp) != 0 || sync_dir(s->dir) != 0) {
		r = rcpt_provider_say(m, RCPT_PROVIDER_E_IO,
		    "generate: cannot make the key file durable: %s",
		    strerror(errno));
		(void)unlink(path);
		goto out;
	}
	memcpy(pub_out, rcpt_softkey_public(k), 32);
	(void)pthread_mutex_lock(&s->lock);
	r = add_key(s, path, k); /* takes path and k */
	(void)pthread_mutex_unlock(&s->lock);
	path = NULL;
	k = NULL;
	if (r != RCPT_PROVIDER_OK) {
		r = rcpt_provider_say(
		    m, r, "generate: key made but cannot be kept open");
		goto out;
	}
	*handle_out = h;
	h = NULL;
	r = RCPT_PROVIDER_OK;
out:
	if (tmp != NULL)
		(void)unlink(tmp);
	free(h);
	free(path);
	rcpt_softkey_close(k);
	free(tmp);
	return r;
}

static int
soft_public_key(void *ctx, const char *handle, uint8_t pub_out[32],
    struct rcpt_provider_msg *m)
{
	struct rcpt_softkey *k = find(ctx, handle);

	if (k == NULL)
		return rcpt_provider_say(
		    m, RCPT_PROVIDER_E_NOT_FOUND, "handle: no such key");
	memcpy(pub_out, rcpt_softkey_public(k), 32);
	return RCPT_PROVIDER_OK;
}

static int
soft_sign(void *ctx, const char *handle, const uint8_t *msg_in, size_t len,
    uint8_t sig_out[64], struct rcpt_provider_msg *m)
{
	struct rcpt_softkey *k = find(ctx, handle);
	int r;

	if (k == NULL)
		return rcpt_provider_say(
		    m, RCPT_PROVIDER_E_NOT_FOUND, "handle: no such key");
	r = rcpt_softkey_sign_msg(k, rcpt_softkey_kid(k), msg_in, len, sig_out);
	if (r != RCPT_OK)
		return rcpt_provider_say(
		    m, prov_code(r), "sign: %s", rcpt_strerror(r));
	return RCPT_PROVIDER_OK;
}

static int
soft_health(void *ctx, struct rcpt_provider_msg *m)
{
	struct soft *s = ctx;
	struct stat st;

	if (s->dir != NULL && (stat(s->dir, &st) != 0 || !S_ISDIR(st.st_mode)))
		return rcpt_provider_say(m, RCPT_PROVIDER_E_UNAVAILABLE,
		    "health: key directory is gone");
	return RCPT_PROVIDER_OK;
}

/* Reads all of @p fd, which holds @p n bytes, into @p buf. */
static int
read_all(int fd, uint8_t *buf, size_t n)
{
	size_t got = 0;
	ssize_t k;
	uint8_t extra;

	while (got < n) {
		if ((k = read(fd, buf + got, n - got)) < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		got += (size_t)k;
	}
	/* The file was replaced, never changed in place: nothing follows. */
	return read(fd, &extra, 1) == 0 ? 0 : -1;
}

static int
soft_data_read(void *ctx, const char *name, uint8_t *buf, size_t cap,
    size_t *len_out, struct rcpt_provider_msg *m)
{
	struct soft *s = ctx;
	struct stat st;
	char *path;
	int fd, r = RCPT_PROVIDER_E_INTERNAL;

	*len_out = 0;
	if ((path = join(s->data_dir, name, DATA_SUFFIX)) == NULL)
		return rcpt_provider_say(
		    m, RCPT_PROVIDER_E_NOMEM, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	free(path);
	if (fd < 0)
		return rcpt_provider_say(m,
		    errno == ENOENT ? RCPT_PROVIDER_E_NOT_FOUND
		                    : RCPT_PROVIDER_E_IO,
		    "data %s: cannot open: %s", name, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = rcpt_provider_say(
		    m, RCPT_PROVIDER_E_IO, "data %s: not a regular file", name);
	} else if ((uintmax_t)st.st_size > cap) {
		*len_out = (size_t)st.st_size;
		r = rcpt_provider_say(m, RCPT_PROVIDER_E_TOO_LARGE,
		    "data %s: value of %jd bytes exceeds the buffer", name,
		    (intmax_t)st.st_size);
	} else if (read_all(fd, buf, (size_t)st.st_size) != 0) {
		r = rcpt_provider_say(
		    m, RCPT_PROVIDER_E_IO, "data %s: short read", name);
	} else {
		*len_out = (size_t)st.st_size;
		r = RCPT_PROVIDER_OK;
	}
	(void)close(fd);
	return r;
}

/* Writes @p len bytes to the new file @p path (0600) and fsyncs it. */
static int
write_new(const char *path, const uint8_t *buf, size_t len)
{
	size_t done = 0;
	ssize_t k;
	int fd, e;

	fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	while (done < len) {
		if ((k = write(fd, buf + done, len - done)) < 0 &&
		    errno == EINTR)
			continue;
		if (k <= 0)
			break;
		done += (size_t)k;
	}
	if (done == len && fsync(fd) == 0)
		return close(fd);
	e = errno;
	(void)close(fd);
	errno = e != 0 ? e : EIO;
	return -1;
}

static int
soft_data_write(void *ctx, const char *name, const uint8_t *buf, size_t len,
    struct rcpt_provider_msg *m)
{
	struct soft *s = ctx;
	char tmpname[128], *tmp = NULL, *path = NULL;
	unsigned c;
	int r = RCPT_PROVIDER_E_INTERNAL;

	if (len > RCPT_KS_DATA_MAX)
		return rcpt_provider_say(m, RCPT_PROVIDER_E_TOO_LARGE,
		    "data %s: value longer than %d bytes", name,
		    RCPT_KS_DATA_MAX);
	(void)pthread_mutex_lock(&s->lock);
	c = s->counter++;
	(void)pthread_mutex_unlock(&s->lock);
	/* A dot name, so a directory scan for keys never sees it. */
	(void)snprintf(
	    tmpname, sizeof(tmpname), ".%s-%ld-%u", name, (long)getpid(), c);
	if ((tmp = join(s->data_dir, tmpname, ".tmp")) == NULL ||
	    (path = join(s->data_dir, name, DATA_SUFFIX)) == NULL) {
		r = rcpt_provider_say(
		    m, RCPT_PROVIDER_E_NOMEM, "out of memory");
		goto out;
	}
	if (write_new(tmp, buf, len) != 0) {
		r = rcpt_provider_say(m, RCPT_PROVIDER_E_IO,
		    "data %s: cannot write: %s", name, strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		r = rcpt_provider_say(m, RCPT_PROVIDER_E_IO,
		    "data %s: cannot rename: %s", name, strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	if (sync_dir(s->data_dir) != 0) {
		r = rcpt_provider_say(m, RCPT_PROVIDER_E_IO,
		    "data %s: cannot sync the directory: %s", name,
		    strerror(errno));
		goto out;
	}
	r = RCPT_PROVIDER_OK;
out:
	free(path);
	free(tmp);
	return r;
}

static void
soft_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static const struct rcpt_provider soft_table = {
    .abi_major = RCPT_PROVIDER_ABI_MAJOR,
    .abi_minor = RCPT_PROVIDER_ABI_MINOR,
    .struct_size = sizeof(struct rcpt_provider),
    .name = RCPT_KS_SOFTWARE,
    .open = soft_open,
    .close = soft_close,
    .list_keys = soft_list,
    .generate = soft_generate,
    .public_key = soft_public_key,
    .sign = soft_sign,
    .health = soft_health,
    .free = soft_free,
    .data_read = soft_data_read,
    .data_write = soft_data_write,
};

const struct rcpt_provider *
rcpt_ks_soft_table(void)
{
	return &soft_table;
}
