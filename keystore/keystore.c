/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The keystore loader and the provider operations in receiptd's terms
 * (keys, and the small data objects that hold the anchor).  The signer
 * adapter is in keystore-signer.c.
 *
 * A plugin is trusted code once loaded, so the checks happen before
 * dlopen runs its constructors: where the file may come from, who owns
 * it and who may write it.  Then the table is checked in the order that
 * keeps the loader from reading a layout it does not know: abi_major,
 * then struct_size, then the members.  Everything a provider returns
 * is still validated (lengths, NULs, public keys) because a confused
 * provider must not corrupt a receipt.
 *
 * Not here: which key is active, rotation, key status (the daemon).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keystore/keystore-int.h"
#include "keystore/keystore.h"
#include "src/mem.h"

#ifndef PROVIDERS_DIR
#define PROVIDERS_DIR "/usr/local/lib/receiptd/providers"
#endif

/* The part of struct rcpt_provider this loader reads (ABI 1.0). */
#define TABLE_MIN_SIZE                                \
	(offsetof(struct rcpt_provider, data_write) + \
	    sizeof(((struct rcpt_provider *)NULL)->data_write))

#define DATA_NAME_MAX 64 /* bytes of a data object name */

void
rcpt_ks_log(const struct rcpt_ks_provider *p, int level, const char *msg)
{
	if (p->opts.log != NULL) {
		p->opts.log(p->opts.log_ctx, level, msg);
		return;
	}
	(void)fprintf(stderr, "receiptd: %s: %s\n",
	    level <= RCPT_KS_LOG_ERR ? "error" : "warning", msg);
}

static int
name_is_valid(const char *s, size_t max, int upper_ok)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (i >= max)
			return 0;
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '_' || c == '-')
			continue;
		if (upper_ok && c >= 'A' && c <= 'Z')
			continue;
		return 0;
	}
	return i > 0;
}

/* Maps a provider's result to ours; codes it may not use are bugs. */
static int
map_code(int rc)
{
	switch (rc) {
	case RCPT_PROVIDER_OK:
		return RCPT_OK;
	case RCPT_PROVIDER_E_INTERNAL:
		return RCPT_E_INTERNAL;
	case RCPT_PROVIDER_E_NOMEM:
		return RCPT_E_NOMEM;
	case RCPT_PROVIDER_E_INVAL:
		return RCPT_E_INVAL;
	case RCPT_PROVIDER_E_TOO_LARGE:
		return RCPT_E_TOO_LARGE;
	case RCPT_PROVIDER_E_NOT_FOUND:
		return RCPT_E_NOT_FOUND;
	case RCPT_PROVIDER_E_DENIED:
		return RCPT_E_DENIED;
	case RCPT_PROVIDER_E_UNAVAILABLE:
		return RCPT_E_KEY_UNAVAILABLE;
	case RCPT_PROVIDER_E_IO:
		return RCPT_E_IO;
	case RCPT_PROVIDER_E_CONFIG:
		return RCPT_E_CONFIG;
	case RCPT_PROVIDER_E_EXISTS:
		return RCPT_E_EXISTS;
	default:
		return RCPT_E_INTERNAL;
	}
}

/* Copies the provider's sentence, bounded and without control bytes. */
static void
msg_text(const struct rcpt_provider_msg *m, char *out, size_t cap)
{
	size_t i;

	for (i = 0; i + 1 < cap && i + 1 < sizeof(m->text); i++) {
		unsigned char c = (unsigned char)m->text[i];

		if (c == '\0')
			break;
		out[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	out[i] = '\0';
}

/* Turns a provider result into ours, explaining it in @p diag. */
static int
translate(const struct rcpt_ks_provider *p, const char *op, int rc,
    const struct rcpt_provider_msg *m, struct rcpt_diag *diag)
{
	char text[RCPT_PROVIDER_MSG_MAX];
	int r = map_code(rc);

	if (rc == RCPT_PROVIDER_OK)
		return RCPT_OK;
	msg_text(m, text, sizeof(text));
	if (r == RCPT_E_INTERNAL && rc != RCPT_PROVIDER_E_INTERNAL)
		return rcpt_diag(diag, r,
		    "provider %s: %s: returned unknown code %d%s%s", p->what,
		    op, rc, text[0] != '\0' ? ": " : "", text);
	return rcpt_diag(diag, r, "provider %s: %s: %s", p->what, op,
	    text[0] != '\0' ? text : rcpt_strerror(r));
}

static int
check_table(
    const struct rcpt_provider *t, const char *what, struct rcpt_diag *diag)
{
	static const struct {
		const char *name;
		size_t off;
	} ops[] = {
	    {"open", offsetof(struct rcpt_provider, open)},
	    {"close", offsetof(struct rcpt_provider, close)},
	    {"list_keys", offsetof(struct rcpt_provider, list_keys)},
	    {"generate", offsetof(struct rcpt_provider, generate)},
	    {"public_key", offsetof(struct rcpt_provider, public_key)},
	    {"sign", offsetof(struct rcpt_provider, sign)},
	    {"health", offsetof(struct rcpt_provider, health)},
	    {"free", offsetof(struct rcpt_provider, free)},
	    {"data_read", offsetof(struct rcpt_provider, data_read)},
	    {"data_write", offsetof(struct rcpt_provider, data_write)},
	};
	size_t i;

	if (t == NULL)
		return rcpt_diag(diag, RCPT_E_PLUGIN_ABI,
		    "provider %s: entry point returned no table", what);
	/* Nothing else may be read before the major is known to match. */
	if (t->abi_major != RCPT_PROVIDER_ABI_MAJOR)
		return rcpt_diag(diag, RCPT_E_PLUGIN_ABI,
		    "provider %s: ABI major %u, receiptd needs %u", what,
		    (unsigned)t->abi_major, (unsigned)RCPT_PROVIDER_ABI_MAJOR);
	if (t->struct_size < TABLE_MIN_SIZE)
		return rcpt_diag(diag, RCPT_E_PLUGIN_ABI,
		    "provider %s: struct_size %u is smaller than the %zu bytes "
		    "of ABI %u.0",
		    what, (unsigned)t->struct_size, TABLE_MIN_SIZE,
		    (unsigned)RCPT_PROVIDER_ABI_MAJOR);
	if (t->name == NULL || !name_is_valid(t->name, RCPT_KS_NAME_MAX, 0))
		return rcpt_diag(diag, RCPT_E_PLUGIN_ABI,
		    "provider %s: name: must match ^[a-z0-9_-]{1,32}$", what);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		void (*fn)(void);

		/* Function pointers have one size and representation here. */
		memcpy(&fn, (const char *)t + ops[i].off, sizeof(fn));
		if (fn == NULL)
			return rcpt_diag(diag, RCPT_E_PLUGIN_ABI,
			    "provider %s: operation %s is missing", what,
			    ops[i].name);
	}
	return RCPT_OK;
}

int
rcpt_ks_adopt(const struct rcpt_provider *table, const char *what,
    struct rcpt_ks_provider **out, struct rcpt_diag *diag)
{
	struct rcpt_ks_provider *p;
	int r;

	if (out == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "provider: no out pointer");
	*out = NULL;
	if (what == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "provider: no name");
	if ((r = check_table(table, what, diag)) != RCPT_OK)
		return r;
	if ((p = rcpt_calloc(1, sizeof(*p))) == NULL)
		return rcpt_diag(
		    diag, RCPT_E_NOMEM, "provider %s: out of memory", what);
	p->t = table;
	(void)snprintf(p->what, sizeof(p->what), "%s", what);
	p->is_soft = table == rcpt_ks_soft_table();
	*out = p;
	return RCPT_OK;
}

/* Who may own a plugin or its directory, and who may write it. */
static int
check_owner(const struct stat *st, const char *what, const char *obj,
    struct rcpt_diag *diag)
{
	if (st->st_uid != 0 && st->st_uid != geteuid())
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "provider %s: %s: must be owned by root or the running "
		    "user",
		    what, obj);
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "provider %s: %s: must not be writable by group or others",
		    what, obj);
	return RCPT_OK;
}

static int
errno_code(int e)
{
	if (e == ENOENT || e == ENOTDIR)
		return RCPT_E_NOT_FOUND;
	if (e == EACCES || e == EPERM || e == ELOOP)
		return RCPT_E_DENIED;
	if (e == ENOMEM)
		return RCPT_E_NOMEM;
	return RCPT_E_IO;
}

/*
 * Checks the plugin file and its directory through descriptors, so that
 * every check is made on one object, and hands back the open file so
 * the caller loads what was checked.  A symbolic link is refused: its
 * checks would be made on whatever it points at, wherever that lives.
 *
 * dlopen() takes a path, not a descriptor.  Where /proc is mounted,
 * rcpt_ks_load() gives it "/proc/self/fd/N", which names the checked
 * file itself.  Without /proc it falls back to the path and compares
 * device and inode after dlopen() with the ones checked here, which
 * still leaves a swap-and-swap-back; pulling that off needs write
 * access to the directory, which check_owner() refuses for anyone but
 * root and us (directories above it are not walked).  Libraries the
 * plugin depends on are found by the dynamic linker and are not checked.
 */
static int
check_file(const char *path, const char *what, struct stat *st_out, int *fd_out,
    struct rcpt_diag *diag)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	struct stat st;
	int fd = -1, r = RCPT_E_INTERNAL;
	size_t dlen;

	*fd_out = -1;
	if (slash == NULL)
		return rcpt_diag(diag, RCPT_E_INTERNAL,
		    "provider %s: path is not absolute", what);
	dlen = slash == path ? 1 : (size_t)(slash - path);
	if (dlen >= sizeof(dir))
		return rcpt_diag(
		    diag, RCPT_E_CONFIG, "provider %s: path is too long", what);
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fstat(fd, &st) != 0) {
		r = rcpt_diag(diag, errno_code(errno),
		    "provider %s: directory: cannot open: %s", what,
		    strerror(errno));
		goto out;
	}
	if ((r = check_owner(&st, what, "directory", diag)) != RCPT_OK)
		goto out;
	(void)close(fd);

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ELOOP) {
		r = rcpt_diag(diag, RCPT_E_CONFIG,
		    "provider %s: file: must not be a symbolic link", what);
		goto out;
	}
	if (fd < 0 || fstat(fd, &st) != 0) {
		r = rcpt_diag(diag, errno_code(errno),
		    "provider %s: file: cannot open: %s", what,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = rcpt_diag(diag, RCPT_E_DENIED,
		    "provider %s: file: not a regular file", what);
		goto out;
	}
	if ((r = check_owner(&st, what, "file", diag)) != RCPT_OK)
		goto out;
	*st_out = st;
	*fd_out = fd;
	fd = -1;
	r = RCPT_OK;
out:
	if (fd >= 0)
		(void)close(fd);
	return r;
}

#define FD_NAME_TRIES 8 /* descriptor numbers tried for a fresh name */

/*
 * Sets @p out to "/proc/self/fd/N" when that names the checked file,
 * else to @p path (the caller then re-checks the path after dlopen).
 * The dynamic linker matches names of loaded objects before it opens
 * anything, and descriptor numbers are reused: while an object loaded
 * earlier answers to "/proc/self/fd/N" (one that was never unmapped),
 * the file is duplicated onto a higher number and that is tried.
 * @param[out] dup_out a duplicate to close after dlopen, or -1.
 * @return 1 when @p out names the descriptor.
 */
static int
load_name(int fd, const struct stat *checked, const char *path, char *out,
    size_t cap, int *dup_out)
{
	struct stat st;
	void *old;
	int i, n, cur = fd, next;

	*dup_out = -1;
	for (i = 0; i < FD_NAME_TRIES; i++) {
		n = snprintf(out, cap, "/proc/self/fd/%d", cur);
		if (n <= 0 || (size_t)n >= cap || stat(out, &st) != 0 ||
		    st.st_dev != checked->st_dev ||
		    st.st_ino != checked->st_ino)
			break;
		if ((old = dlopen(out, RTLD_NOW | RTLD_NOLOAD)) == NULL)
			return 1;
		(void)dlclose(old);
		if ((next = fcntl(fd, F_DUPFD_CLOEXEC, cur + 1)) < 0)
			break;
		if (*dup_out >= 0)
			(void)close(*dup_out);
		*dup_out = cur = next;
	}
	if (*dup_out >= 0)
		(void)close(*dup_out);
	*dup_out = -1;
	(void)snprintf(out, cap, "%s", path);
	return 0;
}

/* Turns @p name_or_path into a plugin path, or refuses it. */
static int
plugin_path(const char *name_or_path, const char *dir, int allow_absolute,
    char *path, size_t cap, struct rcpt_diag *diag)
{
	int n;

	if (name_or_path[0] == '/') {
		if (!allow_absolute)
			return rcpt_diag(diag, RCPT_E_CONFIG,
			    "provider: an absolute path is accepted only from "
			    "root-owned configuration");
		n = snprintf(path, cap, "%s", name_or_path);
	} else if (strchr(name_or_path, '/') != NULL) {
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "provider: a relative path is not allowed; give a bare "
		    "name or an absolute path");
	} else if (!name_is_valid(name_or_path, RCPT_KS_NAME_MAX, 0)) {
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "provider: name must match ^[a-z0-9_-]{1,32}$");
	} else {
		if (dir == NULL)
			dir = PROVIDERS_DIR;
		if (dir[0] != '/')
			return rcpt_diag(diag, RCPT_E_CONFIG,
			    "provider: providers directory must be absolute");
		n = snprintf(path, cap, "%s/provider-%s.so", dir, name_or_path);
	}
	if (n < 0 || (size_t)n >= cap)
		return rcpt_diag(
		    diag, RCPT_E_CONFIG, "provider: path too long");
	return RCPT_OK;
}

int
rcpt_ks_load(const char *name_or_path, const char *providers_dir,
    int allow_absolute, struct rcpt_ks_provider **out, struct rcpt_diag *diag)
{
	char path[PATH_MAX], name[PATH_MAX];
	struct rcpt_ks_provider *p = NULL;
	rcpt_provider_entry_fn entry;
	struct stat before = {0}, after;
	void *dl = NULL, *sym;
	int fd = -1, fd2 = -1, by_fd, r = RCPT_E_INTERNAL;

	if (out == NULL || name_or_path == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "provider: missing argument");
	*out = NULL;
	if (strcmp(name_or_path, RCPT_KS_SOFTWARE) == 0)
		return rcpt_ks_adopt(
		    rcpt_ks_soft_table(), RCPT_KS_SOFTWARE, out, diag);

	if ((r = plugin_path(name_or_path, providers_dir, allow_absolute, path,
	         sizeof(path), diag)) != RCPT_OK)
		goto out;
	if ((r = check_file(path, name_or_path, &before, &fd, diag)) != RCPT_OK)
		goto out;
	by_fd = load_name(fd, &before, path, name, sizeof(name), &fd2);
	if ((dl = dlopen(name, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		const char *e = dlerror();

		r = rcpt_diag(diag, RCPT_E_PLUGIN_ABI,
		    "provider %s: cannot load: %s", name_or_path,
		    e != NULL ? e : "dlopen failed");
		goto out;
	}
	if (!by_fd &&
	    (stat(path, &after) != 0 || after.st_dev != before.st_dev ||
	        after.st_ino != before.st_ino)) {
		r = rcpt_diag(diag, RCPT_E_DENIED,
		    "provider %s: file: replaced while loading", name_or_path);
		goto out;
	}
	(void)dlerror();
	if ((sym = dlsym(dl, RCPT_PROVIDER_ENTRY_SYMBOL)) == NULL) {
		r = rcpt_diag(diag, RCPT_E_PLUGIN_ABI,
		    "provider %s: no symbol " RCPT_PROVIDER_ENTRY_SYMBOL,
		    name_or_path);
		goto out;
	}
	/* POSIX guarantees this conversion for dlsym() results. */
	memcpy(&entry, &sym, sizeof(entry));
	if ((r = rcpt_ks_adopt(entry(), name_or_path, &p, diag)) != RCPT_OK)
		goto out;
	p->dl = dl;
	dl = NULL;
	*out = p;
	p = NULL;
	r = RCPT_OK;
out:
	if (dl != NULL)
		(void)dlclose(dl);
	if (fd2 >= 0)
		(void)close(fd2);
	if (fd >= 0)
		(void)close(fd);
	return r;
}

void
rcpt_ks_unload(struct rcpt_ks_provider *p)
{
	if (p == NULL)
		return;
	rcpt_ks_close(p);
	rcpt_ks_signers_free(p);
	if (p->dl != NULL)
		(void)dlclose(p->dl);
	free(p);
}

const char *
rcpt_ks_name(const struct rcpt_ks_provider *p)
{
	return p->t->name;
}

int
rcpt_ks_open(struct rcpt_ks_provider *p, const char *config, int production,
    const struct rcpt_ks_opts *opts, struct rcpt_diag *diag)
{
	struct rcpt_provider_msg m;
	void *ctx = NULL;
	int rc;

	if (p == NULL || config == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "provider: missing argument");
	if (p->ctx != NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "provider %s: already open", p->what);
	if (p->is_soft && production)
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "provider: the software provider is for development only; "
		    "production = true forbids it");
	if (opts != NULL)
		p->opts = *opts;
	else
		memset(&p->opts, 0, sizeof(p->opts));

	memset(&m, 0, sizeof(m));
	rc = p->t->open(config, &ctx, &m);
	if (rc != RCPT_PROVIDER_OK)
		return translate(p, "open", rc, &m, diag);
	if (ctx == NULL)
		return rcpt_diag(diag, RCPT_E_INTERNAL,
		    "provider %s: open: returned no context", p->what);
	p->ctx = ctx;
	if (p->is_soft)
		rcpt_ks_log(p, RCPT_KS_LOG_WARNING,
		    "provider software: signing keys are plain files on disk; "
		    "for development only, never use it in production");
	return RCPT_OK;
}

void
rcpt_ks_close(struct rcpt_ks_provider *p)
{
	if (p == NULL || p->ctx == NULL)
		return;
	p->t->close(p->ctx);
	p->ctx = NULL;
}

int
rcpt_ks_need_open(const struct rcpt_ks_provider *p, struct rcpt_diag *diag)
{
	if (p == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "provider: missing");
	if (p->ctx == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "provider %s: not open", p->what);
	return RCPT_OK;
}

/* A handle from a provider: present, NUL-terminated, not too long. */
static int
handle_is_valid(const char *h)
{
	return h != NULL && h[0] != '\0' &&
	       strnlen(h, RCPT_KS_HANDLE_MAX + 1) <= RCPT_KS_HANDLE_MAX;
}

int
rcpt_ks_key_kid(const struct rcpt_ks_provider *p, const char *op,
    const uint8_t pub[RCPT_ED25519_PUB_LEN], char kid_out[RCPT_KID_LEN + 1],
    struct rcpt_diag *diag)
{
	int r;

	if (!rcpt_ed25519_pub_is_acceptable(pub))
		return rcpt_diag(diag, RCPT_E_INTERNAL,
		    "provider %s: %s: public key is not an acceptable Ed25519 "
		    "key",
		    p->what, op);
	if ((r = rcpt_jwk_kid(pub, kid_out)) != RCPT_OK)
		return rcpt_diag(diag, r, "provider %s: %s: cannot compute kid",
		    p->what, op);
	return RCPT_OK;
}

void
rcpt_ks_keys_free(struct rcpt_ks_key *keys, size_t n)
{
	size_t i;

	if (keys == NULL)
		return;
	for (i = 0; i < n; i++)
		free(keys[i].handle);
	free(keys);
}

static void
free_provider_keys(
    struct rcpt_ks_provider *p, struct rcpt_provider_key *pk, size_t n)
{
	size_t i;

	if (pk == NULL)
		return;
	for (i = 0; i < n; i++)
		p->t->free(p->ctx, pk[i].handle);
	p->t->free(p->ctx, pk);
}

int
rcpt_ks_list(struct rcpt_ks_provider *p, struct rcpt_ks_key **keys_out,
    size_t *n_out, struct rcpt_diag *diag)
{
	struct rcpt_provider_msg m;
	struct rcpt_provider_key *pk = NULL;
	struct rcpt_ks_key *keys = NULL;
	size_t n = 0, i;
	int r = RCPT_E_INTERNAL;

	if (keys_out == NULL || n_out == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "provider: missing argument");
	*keys_out = NULL;
	*n_out = 0;
	if ((r = rcpt_ks_need_open(p, diag)) != RCPT_OK)
		return r;
	memset(&m, 0, sizeof(m));
	if ((r = translate(p, "list", p->t->list_keys(p->ctx, &pk, &n, &m), &m,
	         diag)) != RCPT_OK)
		return r;
	if (n > RCPT_KS_KEYS_MAX || (n > 0 && pk == NULL)) {
		r = rcpt_diag(diag, RCPT_E_INTERNAL,
		    "provider %s: list: malformed key array", p->what);
		goto out;
	}
	if (n > 0 && (keys = rcpt_calloc(n, sizeof(*keys))) == NULL) {
		r = rcpt_diag(diag, RCPT_E_NOMEM,
		    "provider %s: list: out of memory", p->what);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!handle_is_valid(pk[i].handle)) {
			r = rcpt_diag(diag, RCPT_E_INTERNAL,
			    "provider %s: list: key %zu: malformed handle",
			    p->what, i);
			goto out;
		}
		memcpy(keys[i].pub, pk[i].pub, sizeof(keys[i].pub));
		if ((r = rcpt_ks_key_kid(
		         p, "list", keys[i].pub, keys[i].kid, diag)) != RCPT_OK)
			goto out;
		if ((keys[i].handle = rcpt_strdup(pk[i].handle)) == NULL) {
			r = rcpt_diag(diag, RCPT_E_NOMEM,
			    "provider %s: list: out of memory", p->what);
			goto out;
		}
	}
	*keys_out = keys;
	*n_out = n;
	keys = NULL;
	r = RCPT_OK;
out:
	rcpt_ks_keys_free(keys, n);
	free_provider_keys(p, pk, n);
	return r;
}

int
rcpt_ks_generate(struct rcpt_ks_provider *p, const char *label,
    char **handle_out, uint8_t pub_out[RCPT_ED25519_PUB_LEN],
    char kid_out[RCPT_KID_LEN + 1], struct rcpt_diag *diag)
{
	struct rcpt_provider_msg m;
	uint8_t pub[RCPT_ED25519_PUB_LEN];
	char kid[RCPT_KID_LEN + 1];
	char *ph = NULL, *h = NULL;
	int r = RCPT_E_INTERNAL;

	if (handle_out == NULL || pub_out == NULL || kid_out == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "provider: missing argument");
	*handle_out = NULL;
	if ((r = rcpt_ks_need_open(p, diag)) != RCPT_OK)
		return r;
	if (label == NULL || !name_is_valid(label, 64, 1))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "label: must match ^[A-Za-z0-9_-]{1,64}$");
	memset(&m, 0, sizeof(m));
	if ((r = translate(p, "generate",
	         p->t->generate(p->ctx, label, &ph, pub, &m), &m, diag)) !=
	    RCPT_OK)
		return r;
	if (!handle_is_valid(ph)) {
		r = rcpt_diag(diag, RCPT_E_INTERNAL,
		    "provider %s: generate: malformed handle", p->what);
		goto out;
	}
	if ((r = rcpt_ks_key_kid(p, "generate", pub, kid, diag)) != RCPT_OK)
		goto out;
	if ((h = rcpt_strdup(ph)) == NULL) {
		r = rcpt_diag(diag, RCPT_E_NOMEM,
		    "provider %s: generate: out of memory", p->what);
		goto out;
	}
	memcpy(pub_out, pub, sizeof(pub));
	memcpy(kid_out, kid, sizeof(kid));
	*handle_out = h;
	r = RCPT_OK;
out:
	p->t->free(p->ctx, ph);
	return r;
}

int
rcpt_ks_public_key(struct rcpt_ks_provider *p, const char *handle,
    uint8_t pub_out[RCPT_ED25519_PUB_LEN], struct rcpt_diag *diag)
{
	struct rcpt_provider_msg m;
	uint8_t pub[RCPT_ED25519_PUB_LEN];
	char kid[RCPT_KID_LEN + 1];
	int r;

	if (pub_out == NULL || handle == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "provider: missing argument");
	if ((r = rcpt_ks_need_open(p, diag)) != RCPT_OK)
		return r;
	memset(&m, 0, sizeof(m));
	if ((r = translate(p, "public_key",
	         p->t->public_key(p->ctx, handle, pub, &m), &m, diag)) !=
	    RCPT_OK)
		return r;
	if ((r = rcpt_ks_key_kid(p, "public_key", pub, kid, diag)) != RCPT_OK)
		return r;
	memcpy(pub_out, pub, sizeof(pub));
	return RCPT_OK;
}

int
rcpt_ks_sign(struct rcpt_ks_provider *p, const char *handle, const uint8_t *msg,
    size_t len, uint8_t sig_out[RCPT_ED25519_SIG_LEN], struct rcpt_diag *diag)
{
	struct rcpt_provider_msg m;
	int r;

	if (sig_out == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "provider: missing argument");
	memset(sig_out, 0, RCPT_ED25519_SIG_LEN);
	if (handle == NULL || (msg == NULL && len > 0))
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "provider: missing argument");
	if ((r = rcpt_ks_need_open(p, diag)) != RCPT_OK)
		return r;
	memset(&m, 0, sizeof(m));
	r = translate(p, "sign",
	    p->t->sign(p->ctx, handle, msg, len, sig_out, &m), &m, diag);
	if (r != RCPT_OK)
		memset(sig_out, 0, RCPT_ED25519_SIG_LEN);
	return r;
}

int
rcpt_ks_health(struct rcpt_ks_provider *p, struct rcpt_diag *diag)
{
	struct rcpt_provider_msg m;
	int r;

	if ((r = rcpt_ks_need_open(p, diag)) != RCPT_OK)
		return r;
	memset(&m, 0, sizeof(m));
	return translate(p, "health", p->t->health(p->ctx, &m), &m, diag);
}

/* A data object name: 1-64 bytes of [A-Za-z0-9._:-]. */
static int
check_data_name(const char *name, struct rcpt_diag *diag)
{
	size_t i;

	if (name == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "name: missing");
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (i >= DATA_NAME_MAX)
			break;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		    c == ':' || c == '-')
			continue;
		break;
	}
	if (i == 0 || name[i] != '\0')
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "name: must be 1 to %d bytes of [A-Za-z0-9._:-]",
		    DATA_NAME_MAX);
	return RCPT_OK;
}

int
rcpt_ks_data_read(struct rcpt_ks_provider *p, const char *name, uint8_t *buf,
    size_t cap, size_t *len_out, struct rcpt_diag *diag)
{
	struct rcpt_provider_msg m;
	size_t len = 0;
	int r;

	if (len_out == NULL || (buf == NULL && cap > 0))
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "provider: missing argument");
	*len_out = 0;
	if ((r = rcpt_ks_need_open(p, diag)) != RCPT_OK ||
	    (r = check_data_name(name, diag)) != RCPT_OK)
		return r;
	memset(&m, 0, sizeof(m));
	r = p->t->data_read(p->ctx, name, buf, cap, &len, &m);
	if (r == RCPT_PROVIDER_E_TOO_LARGE)
		*len_out = len > cap ? len : 0;
	if ((r = translate(p, "data_read", r, &m, diag)) != RCPT_OK)
		return r;
	if (len > cap)
		return rcpt_diag(diag, RCPT_E_INTERNAL,
		    "provider %s: data_read: length exceeds the buffer",
		    p->what);
	*len_out = len;
	return RCPT_OK;
}

int
rcpt_ks_data_write(struct rcpt_ks_provider *p, const char *name,
    const uint8_t *buf, size_t len, struct rcpt_diag *diag)
{
	struct rcpt_provider_msg m;
	int r;

	if (buf == NULL && len > 0)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "provider: missing argument");
	if ((r = rcpt_ks_need_open(p, diag)) != RCPT_OK ||
	    (r = check_data_name(name, diag)) != RCPT_OK)
		return r;
	if (len > RCPT_KS_DATA_MAX)
		return rcpt_diag(diag, RCPT_E_TOO_LARGE,
		    "data: value longer than %d bytes", RCPT_KS_DATA_MAX);
	memset(&m, 0, sizeof(m));
	return translate(p, "data_write",
	    p->t->data_write(p->ctx, name, buf, len, &m), &m, diag);
}
