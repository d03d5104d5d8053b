/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What store.c (environment, transactions, map growth, compaction),
 * store-rec.c (records and writes) and store-read.c (reads, snapshots)
 * share.  Nothing outside
 * store*.c includes this: MDB_* types and codes stay here.
 */
#ifndef RCPT_SRC_STORE_INT_H
#define RCPT_SRC_STORE_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "err.h"
#include "jcs.h"
#include "store.h"

/* The named databases, in the order compaction copies them. */
enum {
	STORE_DB_META,
	STORE_DB_CHAINS,
	STORE_DB_RECEIPTS,
	STORE_DB_LEAVES,
	STORE_DB_CHECKPOINTS,
	STORE_DB_KEYS,
	STORE_DB_N_
};

extern const char *const rcpt_store_db_names[STORE_DB_N_];

#define STORE_FORMAT     "receiptd-store/1" /* meta "format" value */
#define STORE_FORMAT_KEY "format"
/* chain name, 0x00, be64: the key of receipts, leaves and checkpoints */
#define STORE_SEQKEY_MAX (RCPT_CHAIN_MAX + 1 + 8)

struct rcpt_store {
	MDB_env *env; /* NULL after a failed compaction */
	MDB_dbi dbi[STORE_DB_N_];
	pthread_rwlock_t lock; /* shared: any open txn; exclusive: remap */
	char *path;            /* owned: the directory */
	size_t map_size;       /* configured initial map size */
	size_t map_max;        /* growth stops here */
	int read_only;
	int have_lock; /* lock initialised */
};

struct rcpt_store_txn {
	struct rcpt_store *s;
	MDB_txn *txn;    /* NULL once failed */
	size_t map_seen; /* map size when it began */
	int failed;      /* the RCPT_E_* that ended it, or RCPT_OK */
};

struct rcpt_store_snap {
	struct rcpt_store *s;
	MDB_txn *txn;
	MDB_cursor *leaves;
	uint64_t last;  /* index the leaves cursor sits on */
	int positioned; /* 1 when last is valid */
	char chain[RCPT_CHAIN_MAX + 1];
	struct rcpt_buf line; /* rcpt_store_snap_receipt's copy */
};

/** Maps an LMDB or errno code to RCPT_E_*, noting mdb_strerror in @p d. */
int rcpt_store_mdb_err(struct rcpt_diag *d, int rc, const char *what);

/**
 * Begins an LMDB transaction holding s->lock shared; handles
 * MDB_MAP_RESIZED once.  End it with rcpt_store_end().
 */
int rcpt_store_begin(struct rcpt_store *s, unsigned flags, MDB_txn **out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Aborts @p txn (may be NULL) and drops the shared lock. */
void rcpt_store_end(struct rcpt_store *s, MDB_txn *txn);

/**
 * Records that an LMDB call inside write transaction @p t failed with
 * @p rc.  MDB_KEYEXIST and MDB_NOTFOUND leave @p t usable; anything
 * else ends it (and grows the map on MDB_MAP_FULL).
 */
int rcpt_store_txn_fail(struct rcpt_store_txn *t, int rc, const char *what,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** RCPT_OK while @p t can take more work, else why not. */
int rcpt_store_txn_usable(
    const struct rcpt_store_txn *t, struct rcpt_diag *diag) RCPT_MUST_CHECK;

#define STORE_NAME_RULE "does not match ^[a-z0-9][a-z0-9._-]{0,63}$"

static inline void
store_val(MDB_val *v, const void *p, size_t n)
{
	v->mv_data = (void *)p;
	v->mv_size = n;
}

/* Shape checks (store-rec.c): 1 when acceptable. */
int rcpt_store_name_ok(const char *name);
int rcpt_store_kid_ok(const char *kid);
int rcpt_store_line_ok(const void *p, size_t len);
int rcpt_store_note_ok(const void *p, size_t len);

/** Parses and checks the record stored under chain @p name. */
int rcpt_store_decode_chain(const MDB_val *v, const char *name,
    struct rcpt_store_chain *c, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Parses and checks the record stored under LMDB key @p kid. */
int rcpt_store_decode_key(const MDB_val *v, const char *kid, size_t kid_len,
    struct rcpt_store_key *k, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/*
 * Read one record in @p txn.  An LMDB failure other than MDB_NOTFOUND
 * is left in *mdb_rc for the caller to translate (its txn kind decides
 * how); otherwise *mdb_rc is 0.
 */
int rcpt_store_read_chain(MDB_txn *txn, MDB_dbi dbi, const char *name,
    struct rcpt_store_chain *out, int *mdb_rc,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;
int rcpt_store_read_key(MDB_txn *txn, MDB_dbi dbi, const char *kid,
    struct rcpt_store_key *out, int *mdb_rc,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Builds name 0x00 be64(n) into @p key (STORE_SEQKEY_MAX bytes). */
size_t rcpt_store_seqkey(
    const char *name, uint64_t n, uint8_t key[STORE_SEQKEY_MAX]);

#endif
