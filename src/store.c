/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LMDB environment behind the chain store: opening it (directory
 * 0700, data file 0600, format marker), transactions, translating MDB_*
 * codes, growing the map, usage, and compaction, the step that makes
 * pruned bytes really leave the file.  Records are in store-rec.c.
 *
 * mdb_env_set_mapsize may only run while this process has no
 * transaction open, so every transaction holds s->lock shared and a
 * remap (growth, adopting another process's growth, compaction) takes
 * it exclusive.  That wait is bounded: a thread that holds a snapshot
 * while it writes cannot deadlock the store, its growth just fails.
 * It does not sync less than LMDB's default: no MDB_NOSYNC,
 * MDB_NOMETASYNC or MDB_MAPASYNC, ever.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "store-int.h"

#define MAP_SIZE_DEFAULT ((size_t)64 * 1024 * 1024)
#define EXCL_WAIT_S      10    /* longest wait for exclusive use */
#define COMPACT_BATCH    10000 /* records per compaction commit */
#define MAX_DBS          8
#define FULL_SLACK       ((uint64_t)1024 * 1024) /* "full" below this */

const char *const rcpt_store_db_names[STORE_DB_N_] = {
    [STORE_DB_META] = "meta",
    [STORE_DB_CHAINS] = "chains",
    [STORE_DB_RECEIPTS] = "receipts",
    [STORE_DB_LEAVES] = "leaves",
    [STORE_DB_CHECKPOINTS] = "checkpoints",
    [STORE_DB_KEYS] = "keys",
};

int
rcpt_store_mdb_err(struct rcpt_diag *d, int rc, const char *what)
{
	int r;

	switch (rc) {
	case MDB_NOTFOUND:
	case ENOENT:
		r = RCPT_E_NOT_FOUND;
		break;
	case MDB_MAP_FULL:
	case ENOSPC:
		r = RCPT_E_STORAGE_FULL;
		break;
	case MDB_KEYEXIST:
		r = RCPT_E_EXISTS;
		break;
	case MDB_CORRUPTED:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_PAGE_NOTFOUND:
	case MDB_INCOMPATIBLE:
		r = RCPT_E_CORRUPT;
		break;
	case MDB_TXN_FULL:
		r = RCPT_E_TOO_LARGE;
		break;
	case ENOMEM:
		r = RCPT_E_NOMEM;
		break;
	default:
		r = RCPT_E_IO;
		break;
	}
	return rcpt_diag(d, r, "store: %s: %s", what, mdb_strerror(rc));
}

static int
path_join(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

	return n > 0 && n < PATH_MAX ? 0 : -1;
}

static int
lock_excl(struct rcpt_store *s)
{
	struct timespec until;

	if (clock_gettime(CLOCK_REALTIME, &until) != 0)
		return -1;
	until.tv_sec += EXCL_WAIT_S;
	return pthread_rwlock_timedwrlock(&s->lock, &until) == 0 ? 0 : -1;
}

/* Another process grew the map: take over its size. */
static int
adopt_map(struct rcpt_store *s, struct rcpt_diag *diag)
{
	int rc = 0;

	if (lock_excl(s) != 0)
		return rcpt_diag(diag, RCPT_E_IO,
		    "store: map resized by another process; no exclusive use "
		    "within %d s to follow it",
		    EXCL_WAIT_S);
	if (s->env != NULL)
		rc = mdb_env_set_mapsize(s->env, 0);
	pthread_rwlock_unlock(&s->lock);
	return rc == 0 ? RCPT_OK
	               : rcpt_store_mdb_err(diag, rc, "following a resize");
}

/* Doubles the map (at most to map_max) unless someone already grew it. */
static int
grow_map(
    struct rcpt_store *s, size_t seen, const char *what, struct rcpt_diag *diag)
{
	MDB_envinfo info;
	size_t next;
	int rc;

	if (lock_excl(s) != 0)
		return rcpt_diag(diag, RCPT_E_STORAGE_FULL,
		    "store: %s: map full; not grown, no exclusive use within "
		    "%d s",
		    what, EXCL_WAIT_S);
	if (mdb_env_info(s->env, &info) != 0)
		info.me_mapsize = seen;
	if (info.me_mapsize > seen) {
		pthread_rwlock_unlock(&s->lock);
		return rcpt_diag(diag, RCPT_E_STORAGE_FULL,
		    "store: %s: map full; since grown to %zu bytes, retry",
		    what, info.me_mapsize);
	}
	if (info.me_mapsize >= s->map_max) {
		pthread_rwlock_unlock(&s->lock);
		return rcpt_diag(diag, RCPT_E_STORAGE_FULL,
		    "store full: map at its maximum of %zu bytes",
		    info.me_mapsize);
	}
	next =
	    info.me_mapsize > s->map_max / 2 ? s->map_max : info.me_mapsize * 2;
	rc = mdb_env_set_mapsize(s->env, next);
	pthread_rwlock_unlock(&s->lock);
	if (rc != 0)
		return rcpt_store_mdb_err(diag, rc, "growing the map");
	return rcpt_diag(diag, RCPT_E_STORAGE_FULL,
	    "store: %s: map full; grown to %zu bytes, retry the transaction",
	    what, next);
}

/* Opens the named databases; creates them and the marker in a new env. */
static int
open_dbs(struct rcpt_store *s, struct rcpt_diag *diag)
{
	MDB_txn *txn = NULL;
	MDB_dbi main_dbi;
	MDB_stat st;
	MDB_val k, v;
	int fresh, i, rc, r = RCPT_E_INTERNAL;

	rc = mdb_txn_begin(s->env, NULL, s->read_only ? MDB_RDONLY : 0, &txn);
	if (rc != 0 || (rc = mdb_dbi_open(txn, NULL, 0, &main_dbi)) != 0 ||
	    (rc = mdb_stat(txn, main_dbi, &st)) != 0) {
		r = rcpt_store_mdb_err(diag, rc, "opening");
		goto out;
	}
	fresh = st.ms_entries == 0;
	if (fresh && s->read_only) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "store: format marker missing (empty or not a receiptd "
		    "store)");
		goto out;
	}
	for (i = 0; i < STORE_DB_N_; i++) {
		rc = mdb_dbi_open(txn, rcpt_store_db_names[i],
		    fresh ? MDB_CREATE : 0, &s->dbi[i]);
		if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
			r = rcpt_diag(diag, RCPT_E_CORRUPT,
			    i == STORE_DB_META
			        ? "store: format marker missing (not a "
			          "receiptd store)"
			        : "store: database \"%s\" missing",
			    rcpt_store_db_names[i]);
			goto out;
		}
		if (rc != 0) {
			r = rcpt_store_mdb_err(diag, rc, "opening a database");
			goto out;
		}
	}
	k.mv_data = (void *)STORE_FORMAT_KEY;
	k.mv_size = strlen(STORE_FORMAT_KEY);
	if (fresh) {
		v.mv_data = (void *)STORE_FORMAT;
		v.mv_size = strlen(STORE_FORMAT);
		rc = mdb_put(txn, s->dbi[STORE_DB_META], &k, &v, 0);
	} else {
		rc = mdb_get(txn, s->dbi[STORE_DB_META], &k, &v);
	}
	if (rc == MDB_NOTFOUND) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "store: format marker missing (not a receiptd store)");
		goto out;
	}
	if (rc != 0) {
		r = rcpt_store_mdb_err(diag, rc, "format marker");
		goto out;
	}
	if (!fresh && (v.mv_size != strlen(STORE_FORMAT) ||
	                  memcmp(v.mv_data, STORE_FORMAT, v.mv_size) != 0)) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "store: format marker is not " STORE_FORMAT);
		goto out;
	}
	/* Commit even a read txn: that keeps the handles for the env. */
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0) {
		r = rcpt_store_mdb_err(diag, rc, "creating");
		goto out;
	}
	r = RCPT_OK;
out:
	if (txn != NULL)
		mdb_txn_abort(txn);
	return r;
}

static int
env_open(struct rcpt_store *s, struct rcpt_diag *diag)
{
	char data[PATH_MAX];
	MDB_env *env = NULL;
	MDB_envinfo info;
	MDB_stat ms;
	struct stat st;
	unsigned flags = MDB_NOTLS | (s->read_only ? MDB_RDONLY : 0);
	int existing, rc, r = RCPT_E_INTERNAL;

	if (path_join(data, s->path, "data.mdb") != 0)
		return rcpt_diag(diag, RCPT_E_INVAL, "path: too long");
	existing = stat(data, &st) == 0 && st.st_size > 0;
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(env, MAX_DBS)) != 0 ||
	    (!existing && (rc = mdb_env_set_mapsize(env, s->map_size)) != 0)) {
		r = rcpt_store_mdb_err(diag, rc, "setting up");
		goto out;
	}
	/* An existing env keeps the size it grew to, if above map_size. */
	if ((rc = mdb_env_open(env, s->path, flags, 0600)) != 0) {
		r = rcpt_store_mdb_err(diag, rc, "opening the environment");
		goto out;
	}
	if (existing && !s->read_only && mdb_env_info(env, &info) == 0 &&
	    info.me_mapsize < s->map_size &&
	    (rc = mdb_env_set_mapsize(env, s->map_size)) != 0) {
		r = rcpt_store_mdb_err(diag, rc, "setting the map size");
		goto out;
	}
	/*
	 * Pages past the end of the file would raise SIGBUS when read
	 * through the map: refuse a file shorter than its last page.
	 */
	if (mdb_env_info(env, &info) == 0 && stat(data, &st) == 0 &&
	    mdb_env_stat(env, &ms) == 0 &&
	    (uint64_t)st.st_size <
	        ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "store: data.mdb is %lld bytes but its pages end at %llu: "
		    "the file was truncated",
		    (long long)st.st_size,
		    (unsigned long long)(info.me_last_pgno + 1) * ms.ms_psize);
		goto out;
	}
	s->env = env;
	env = NULL;
	if ((r = open_dbs(s, diag)) != RCPT_OK) {
		mdb_env_close(s->env);
		s->env = NULL;
		goto out;
	}
	r = RCPT_OK;
out:
	if (env != NULL)
		mdb_env_close(env);
	return r;
}

static void
store_free(struct rcpt_store *s)
{
	if (s == NULL)
		return;
	if (s->env != NULL)
		mdb_env_close(s->env);
	if (s->have_lock)
		pthread_rwlock_destroy(&s->lock);
	free(s->path);
	free(s);
}

int
rcpt_store_open(const struct rcpt_store_opts *o, struct rcpt_store **out,
    struct rcpt_diag *diag)
{
	struct rcpt_store *s = NULL;
	struct stat st;
	int r = RCPT_E_INTERNAL;

	if (out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "store: out: required");
	*out = NULL;
	if (o == NULL || o->path == NULL || o->path[0] == '\0')
		return rcpt_diag(diag, RCPT_E_INVAL, "path: required");
	if (strlen(o->path) > PATH_MAX - 32)
		return rcpt_diag(diag, RCPT_E_INVAL, "path: too long");
	if (o->map_max != 0 &&
	    o->map_max < (o->map_size ? o->map_size : MAP_SIZE_DEFAULT))
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "map_max: smaller than map_size");
	if (!o->read_only && mkdir(o->path, 0700) != 0 && errno != EEXIST)
		return rcpt_diag(diag, RCPT_E_IO, "path: cannot create: %s",
		    strerror(errno));
	if (stat(o->path, &st) != 0)
		return rcpt_diag(diag,
		    errno == ENOENT ? RCPT_E_NOT_FOUND : RCPT_E_IO, "path: %s",
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return rcpt_diag(diag, RCPT_E_INVAL, "path: not a directory");

	if ((s = rcpt_calloc(1, sizeof(*s))) == NULL ||
	    (s->path = rcpt_strdup(o->path)) == NULL) {
		r = rcpt_diag(diag, RCPT_E_NOMEM, "store: out of memory");
		goto out;
	}
	if (pthread_rwlock_init(&s->lock, NULL) != 0) {
		r = rcpt_diag(diag, RCPT_E_NOMEM, "store: no lock");
		goto out;
	}
	s->have_lock = 1;
	s->map_size = o->map_size ? o->map_size : MAP_SIZE_DEFAULT;
	s->map_max = o->map_max ? o->map_max : s->map_size;
	s->read_only = o->read_only != 0;
	if ((r = env_open(s, diag)) != RCPT_OK)
		goto out;
	*out = s;
	s = NULL;
	r = RCPT_OK;
out:
	store_free(s);
	return r;
}

void
rcpt_store_close(struct rcpt_store *s)
{
	store_free(s);
}

int
rcpt_store_begin(
    struct rcpt_store *s, unsigned flags, MDB_txn **out, struct rcpt_diag *diag)
{
	int attempt, rc, r;

	*out = NULL;
	for (attempt = 0;; attempt++) {
		if (pthread_rwlock_rdlock(&s->lock) != 0)
			return rcpt_diag(diag, RCPT_E_INTERNAL,
			    "store: cannot take the store lock");
		if (s->env == NULL) {
			pthread_rwlock_unlock(&s->lock);
			return rcpt_diag(diag, RCPT_E_IO,
			    "store: unusable since a failed compaction");
		}
		rc = mdb_txn_begin(s->env, NULL, flags, out);
		if (rc == 0)
			return RCPT_OK;
		*out = NULL;
		pthread_rwlock_unlock(&s->lock);
		if (rc != MDB_MAP_RESIZED || attempt > 0)
			return rcpt_store_mdb_err(
			    diag, rc, "beginning a transaction");
		if ((r = adopt_map(s, diag)) != RCPT_OK)
			return r;
	}
}

void
rcpt_store_end(struct rcpt_store *s, MDB_txn *txn)
{
	if (txn != NULL)
		mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->lock);
}

int
rcpt_store_txn_begin(
    struct rcpt_store *s, struct rcpt_store_txn **out, struct rcpt_diag *diag)
{
	struct rcpt_store_txn *t = NULL;
	MDB_envinfo info;
	int r;

	if (out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "store: out: required");
	*out = NULL;
	if (s == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "store: required");
	if (s->read_only)
		return rcpt_diag(
		    diag, RCPT_E_DENIED, "store: opened read-only");
	if ((t = rcpt_calloc(1, sizeof(*t))) == NULL)
		return rcpt_diag(diag, RCPT_E_NOMEM, "store: out of memory");
	if ((r = rcpt_store_begin(s, 0, &t->txn, diag)) != RCPT_OK) {
		free(t);
		return r;
	}
	t->s = s;
	t->map_seen = mdb_env_info(s->env, &info) == 0 ? info.me_mapsize : 0;
	*out = t;
	return RCPT_OK;
}

int
rcpt_store_txn_usable(const struct rcpt_store_txn *t, struct rcpt_diag *diag)
{
	if (t == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "store: txn: required");
	if (t->txn == NULL)
		return rcpt_diag(diag,
		    t->failed != RCPT_OK ? t->failed : RCPT_E_INTERNAL,
		    "store: transaction failed earlier; abort it");
	return RCPT_OK;
}

int
rcpt_store_txn_fail(
    struct rcpt_store_txn *t, int rc, const char *what, struct rcpt_diag *diag)
{
	int r;

	if (rc == MDB_KEYEXIST || rc == MDB_NOTFOUND)
		return rcpt_store_mdb_err(diag, rc, what);
	/* LMDB refuses further work in this txn: end it here. */
	rcpt_store_end(t->s, t->txn);
	t->txn = NULL;
	if (rc == MDB_MAP_FULL)
		r = grow_map(t->s, t->map_seen, what, diag);
	else
		r = rcpt_store_mdb_err(diag, rc, what);
	t->failed = r;
	return r;
}

/* LMDB reports a write cut short by a full disk as EIO. */
static int
disk_full(const struct rcpt_store *s)
{
	struct statvfs v;

	return statvfs(s->path, &v) == 0 &&
	       (uint64_t)v.f_bavail * v.f_frsize < FULL_SLACK;
}

int
rcpt_store_txn_commit(struct rcpt_store_txn *t, struct rcpt_diag *diag)
{
	int rc, r;

	if ((r = rcpt_store_txn_usable(t, diag)) != RCPT_OK) {
		free(t);
		return r;
	}
	/* mdb_txn_commit frees the txn whatever it returns. */
	rc = mdb_txn_commit(t->txn);
	t->txn = NULL;
	pthread_rwlock_unlock(&t->s->lock);
	if (rc == MDB_MAP_FULL)
		r = grow_map(t->s, t->map_seen, "commit", diag);
	else if (rc == EIO && disk_full(t->s))
		r = rcpt_diag(diag, RCPT_E_STORAGE_FULL,
		    "store: commit: the disk is full");
	else if (rc != 0)
		r = rcpt_store_mdb_err(diag, rc, "commit");
	else
		r = RCPT_OK;
	free(t);
	return r;
}

void
rcpt_store_txn_abort(struct rcpt_store_txn *t)
{
	if (t == NULL)
		return;
	if (t->txn != NULL)
		rcpt_store_end(t->s, t->txn);
	free(t);
}

int
rcpt_store_usage(struct rcpt_store *s, size_t *used_out, size_t *map_out)
{
	MDB_envinfo info;
	MDB_stat st;
	int r = RCPT_OK;

	if (s == NULL || used_out == NULL || map_out == NULL)
		return RCPT_E_INVAL;
	*used_out = *map_out = 0;
	if (pthread_rwlock_rdlock(&s->lock) != 0)
		return RCPT_E_INTERNAL;
	if (s->env == NULL || mdb_env_info(s->env, &info) != 0 ||
	    mdb_env_stat(s->env, &st) != 0) {
		r = RCPT_E_IO;
	} else {
		*used_out = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
		*map_out = info.me_mapsize;
	}
	pthread_rwlock_unlock(&s->lock);
	return r;
}

/*
 * The address range of the mapping holding @p p, from /proc/self/maps:
 * LMDB tells where its map is only with MDB_FIXEDMAP, which it does not
 * recommend, but any value it returns points into it.
 */
static int
map_range(const void *p, uintptr_t *lo, uintptr_t *hi)
{
	char line[512];
	unsigned long a, b;
	uintptr_t at = (uintptr_t)p;
	FILE *f;
	int found = 0;

	if ((f = fopen("/proc/self/maps", "re")) == NULL)
		return -1;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && at >= a && at < b) {
			*lo = a;
			*hi = b;
			found = 1;
		}
	fclose(f);
	return found ? 0 : -1;
}

int
rcpt_store_release(struct rcpt_store *s)
{
	MDB_txn *txn = NULL;
	MDB_val k, v;
	uintptr_t lo = 0, hi = 0;
	int r = RCPT_E_IO;

	if (s == NULL)
		return RCPT_E_INVAL;
	if (rcpt_store_begin(s, MDB_RDONLY, &txn, NULL) != RCPT_OK)
		return RCPT_E_IO;
	k.mv_data = (void *)STORE_FORMAT_KEY;
	k.mv_size = strlen(STORE_FORMAT_KEY);
	/*
	 * The map is read-only and shared (no MDB_WRITEMAP), so it never
	 * holds anything the file does not: dropping the pages only unmaps
	 * them, and a later read maps them again from the page cache, even
	 * in a reader running now.  The read txn keeps the map in place.
	 */
	if (mdb_get(txn, s->dbi[STORE_DB_META], &k, &v) == 0 &&
	    map_range(v.mv_data, &lo, &hi) == 0 &&
	    madvise((void *)lo, hi - lo, MADV_DONTNEED) == 0)
		r = RCPT_OK;
	rcpt_store_end(s, txn);
	return r;
}

/*
 * Copies every live record of @p s into a new environment at @p tmp.
 * Records go in through mdb_put only, so the new file holds LMDB's
 * structure and the live keys and values, nothing from free pages.
 */
static int
rebuild(struct rcpt_store *s, const char *tmp, struct rcpt_diag *diag)
{
	MDB_env *dst = NULL;
	MDB_txn *rtx = NULL, *wtx = NULL;
	MDB_cursor *cur = NULL;
	MDB_envinfo info;
	MDB_dbi dbi;
	MDB_val k, v;
	size_t batch = 0;
	int i, rc, r = RCPT_E_INTERNAL;

	if (unlink(tmp) != 0 && errno != ENOENT)
		return rcpt_diag(
		    diag, RCPT_E_IO, "compact: %s", strerror(errno));
	if ((rc = mdb_env_info(s->env, &info)) != 0 ||
	    (rc = mdb_env_create(&dst)) != 0 ||
	    (rc = mdb_env_set_maxdbs(dst, MAX_DBS)) != 0 ||
	    (rc = mdb_env_set_mapsize(dst, info.me_mapsize)) != 0 ||
	    (rc = mdb_env_open(dst, tmp, MDB_NOSUBDIR | MDB_NOLOCK, 0600)) !=
	        0 ||
	    (rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &rtx)) != 0 ||
	    (rc = mdb_txn_begin(dst, NULL, 0, &wtx)) != 0)
		goto fail;
	for (i = 0; i < STORE_DB_N_; i++) {
		if ((rc = mdb_dbi_open(
		         wtx, rcpt_store_db_names[i], MDB_CREATE, &dbi)) != 0 ||
		    (rc = mdb_cursor_open(rtx, s->dbi[i], &cur)) != 0)
			goto fail;
		while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
			if ((rc = mdb_put(wtx, dbi, &k, &v, MDB_APPEND)) != 0)
				goto fail;
			if (++batch < COMPACT_BATCH)
				continue;
			batch = 0;
			rc = mdb_txn_commit(wtx);
			wtx = NULL;
			if (rc != 0 ||
			    (rc = mdb_txn_begin(dst, NULL, 0, &wtx)) != 0)
				goto fail;
		}
		if (rc != MDB_NOTFOUND)
			goto fail;
		mdb_cursor_close(cur);
		cur = NULL;
	}
	rc = mdb_txn_commit(wtx);
	wtx = NULL;
	if (rc != 0)
		goto fail;
	r = RCPT_OK;
	goto out;
fail:
	r = rcpt_store_mdb_err(diag, rc, "compact");
out:
	if (cur != NULL)
		mdb_cursor_close(cur);
	if (wtx != NULL)
		mdb_txn_abort(wtx);
	if (rtx != NULL)
		mdb_txn_abort(rtx);
	if (dst != NULL)
		mdb_env_close(dst);
	return r;
}

/*
 * Every process that has an LMDB env open holds a lock on byte 0 of
 * lock.mdb.  An open-file-description lock conflicts with those, so
 * getting it proves nobody else has the store open; it is released
 * when @p fd is closed.
 */
static int
nobody_else(int fd)
{
#ifdef F_OFD_SETLK
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 1;
	return fcntl(fd, F_OFD_SETLK, &fl) == 0;
#else
	(void)fd;
	return 0;
#endif
}

static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static int
sync_dir(const char *dir)
{
	int fd, ok;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	ok = fsync(fd) == 0;
	close(fd);
	return ok ? 0 : -1;
}

int
rcpt_store_compact(struct rcpt_store *s, struct rcpt_diag *diag)
{
	char data[PATH_MAX], tmp[PATH_MAX], lockf[PATH_MAX];
	struct stat before, after;
	int lfd = -1, r2, r = RCPT_E_INTERNAL;

	if (s == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "store: required");
	if (s->read_only)
		return rcpt_diag(
		    diag, RCPT_E_DENIED, "store: opened read-only");
	if (path_join(data, s->path, "data.mdb") != 0 ||
	    path_join(tmp, s->path, "data.mdb.compact") != 0 ||
	    path_join(lockf, s->path, "lock.mdb") != 0)
		return rcpt_diag(diag, RCPT_E_INVAL, "path: too long");
	if (lock_excl(s) != 0)
		return rcpt_diag(diag, RCPT_E_IO,
		    "compact: no exclusive use within %d s", EXCL_WAIT_S);
	if (s->env == NULL) {
		r = rcpt_diag(diag, RCPT_E_IO,
		    "store: unusable since a failed compaction");
		goto out;
	}
	if (stat(data, &before) != 0) {
		r = rcpt_diag(diag, RCPT_E_IO, "compact: %s", strerror(errno));
		goto out;
	}
	if ((r = rebuild(s, tmp, diag)) != RCPT_OK) {
		unlink(tmp);
		goto out;
	}
	mdb_env_close(s->env);
	s->env = NULL;
	lfd = open(lockf, O_RDWR | O_CLOEXEC);
	if (lfd < 0 || !nobody_else(lfd)) {
		r = rcpt_diag(diag, RCPT_E_DENIED,
		    "compact: store open in another process; not compacted");
		unlink(tmp);
	} else if (stat(data, &after) != 0 || !same_file(&before, &after)) {
		r = rcpt_diag(diag, RCPT_E_DENIED,
		    "compact: store changed by another process; not "
		    "compacted");
		unlink(tmp);
	} else if (rename(tmp, data) != 0) {
		r = rcpt_diag(diag, RCPT_E_IO, "compact: %s", strerror(errno));
		unlink(tmp);
	} else if (sync_dir(s->path) != 0) {
		r = rcpt_diag(
		    diag, RCPT_E_IO, "compact: syncing the directory");
	} else {
		r = RCPT_OK;
	}
	/* Our lock would block LMDB's own open below: drop it first. */
	if (lfd >= 0)
		close(lfd);
	if ((r2 = env_open(s, diag)) != RCPT_OK && r == RCPT_OK)
		r = r2;
out:
	pthread_rwlock_unlock(&s->lock);
	return r;
}
