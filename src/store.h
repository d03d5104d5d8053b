/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The chain store: one LMDB environment holding, per chain, its metadata
 * and tip, every stored receipt (the JCS bytes, SPEC 1), the Merkle leaf
 * hash of each receipt (SPEC 5), the checkpoints made, and the key
 * registry (SPEC 3).  Named databases:
 *
 *   chains       name                 -> chain record (tip, active kid)
 *   receipts     name 0x00 be64(seq)  -> stored receipt, JCS bytes
 *   leaves       name 0x00 be64(seq)  -> SHA-256(0x00 || entry_hash)
 *   checkpoints  name 0x00 be64(size) -> checkpoint note
 *   keys         kid                  -> key record
 *
 * Writes happen in a write transaction that becomes durable (synced) when
 * rcpt_store_txn_commit returns RCPT_OK; nothing of a transaction that was
 * aborted or failed is visible, ever.  MDB_NOSYNC and MDB_NOMETASYNC are
 * never used.  When the map is full the store grows it, up to the
 * configured maximum; after that writes fail with RCPT_E_STORAGE_FULL and
 * reads keep working.  The tip of a chain is read from its record, never
 * by scanning.
 *
 * The store checks shapes (lengths, keys), not meaning: hashing, linking
 * and signing belong to chain.c and the verifier.  MDB_* codes never
 * leave store*.c.  Records read back are checked as strictly as on the
 * way in; a damaged one is RCPT_E_CORRUPT naming the chain or kid.
 *
 * Threads: one rcpt_store may be used from many threads (MDB_NOTLS).  A
 * write transaction belongs to the thread that began it (LMDB's writer
 * lock is owned by that thread) and only one is open at a time; a
 * snapshot may move between threads but serves one at a time.  Every
 * open transaction and snapshot holds the store's lock shared; growing
 * the map and compaction take it exclusive, waiting at most 10 s, so
 * keep snapshots short.  The lock prefers readers, so nested reads in
 * one thread never deadlock, but growth needs a moment with no read
 * open: a thread that writes while it holds a snapshot, or a constant
 * stream of overlapping reads, makes growth give up after 10 s
 * (RCPT_E_STORAGE_FULL, "not grown").  At most 126 transactions and
 * snapshots may be open at once (LMDB's reader slots); beyond that
 * reads fail with RCPT_E_IO.
 *
 * Map growth: when a put or a commit finds the map full, the whole
 * transaction is aborted at once, the map is doubled (at most to
 * map_max) and RCPT_E_STORAGE_FULL is returned, so the caller may run
 * the transaction again once; any later call on that transaction fails
 * with the same code until it is aborted.  At map_max the message is
 * "store full: map at its maximum of N bytes"; reads keep working.  A
 * map grown by another process is followed (MDB_MAP_RESIZED).
 *
 * Pruning (SPEC 6) is two steps: rcpt_store_replace_receipt in a
 * committed transaction, then rcpt_store_compact.  See both.
 */
#ifndef RCPT_SRC_STORE_H
#define RCPT_SRC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "chain.h"
#include "err.h"
#include "jwk.h"
#include "merkle.h"

struct rcpt_store;
struct rcpt_store_txn;

#define RCPT_STORE_LINE_MAX (8 * 1024 * 1024) /* bytes of a stored receipt */
#define RCPT_STORE_NOTE_MAX (64 * 1024)       /* bytes of a checkpoint note */

struct rcpt_store_opts {
	const char *path; /* directory holding data.mdb; created 0700 */
	size_t map_size;  /* initial map size in bytes (0: 64 MiB) */
	size_t map_max;   /* largest map size it may grow to (0: map_size) */
	int read_only;    /* open for reading (verification, tools) */
};

/**
 * Opens (and, unless read-only, creates) the store at @p o->path: the
 * directory is made 0700 if missing, data.mdb is created 0600, and a new
 * store gets the format marker "receiptd-store/1", which an existing one
 * must carry.  An existing store keeps a map it grew beyond map_size.
 * @param[out] out caller closes with rcpt_store_close().
 * @return RCPT_OK, RCPT_E_IO, RCPT_E_CORRUPT (marker missing or
 * different, a database missing, LMDB finds it damaged), RCPT_E_INVAL
 * (path, map_max < map_size), RCPT_E_NOT_FOUND (read-only and no store
 * there), RCPT_E_NOMEM.
 */
int rcpt_store_open(const struct rcpt_store_opts *o, struct rcpt_store **out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Closes; no transaction may be open.  Accepts NULL. */
void rcpt_store_close(struct rcpt_store *s);

/** What the store knows of a chain without reading its receipts. */
struct rcpt_store_chain {
	char name[RCPT_CHAIN_MAX + 1];
	char origin[RCPT_ORIGIN_MAX + 1];
	enum rcpt_sealing sealing;
	uint64_t size;                   /* receipts stored: seq 0..size-1 */
	uint8_t tip_hash[RCPT_HASH_LEN]; /* entry_hash of seq size-1 */
	char tip_ts[RCPT_TS_LEN + 1];    /* ts of seq size-1 */
	char active_kid[RCPT_KID_LEN + 1];
};

/** A key in the registry (SPEC 3 JWK Set entry plus where it lives). */
struct rcpt_store_key {
	char kid[RCPT_KID_LEN + 1];
	uint8_t pub[RCPT_ED25519_PUB_LEN];
	char chain[RCPT_CHAIN_MAX + 1];
	char provider[33]; /* provider name, e.g. "pkcs11" */
	char handle[512];  /* provider handle or PKCS#11 URI */
	enum rcpt_key_status status;
	char created[RCPT_TS_LEN + 1];
	char retired[RCPT_TS_LEN + 1]; /* "" unless retired or revoked */
	char revoked[RCPT_TS_LEN + 1]; /* "" unless revoked */
};

/* Write transactions */

/**
 * Begins the one write transaction (LMDB serialises writers: this
 * waits while another is open).
 * @param[out] out committed or aborted by the caller, in this thread.
 * @return RCPT_OK, RCPT_E_DENIED (store opened read-only), RCPT_E_IO,
 * RCPT_E_NOMEM.
 */
int rcpt_store_txn_begin(struct rcpt_store *s, struct rcpt_store_txn **out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Commits and syncs; @p t is gone whatever it returns.  On any failure
 * nothing was written.  On MDB_MAP_FULL the whole transaction fails with
 * RCPT_E_STORAGE_FULL after the map was grown (when it could be), so the
 * caller may retry it once.  If an earlier call on @p t ended it, that
 * call's code is returned.
 * @return RCPT_OK, RCPT_E_STORAGE_FULL (map or disk), RCPT_E_IO.
 */
int rcpt_store_txn_commit(
    struct rcpt_store_txn *t, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Discards everything written in @p t; accepts NULL. */
void rcpt_store_txn_abort(struct rcpt_store_txn *t);

/**
 * Creates or replaces the record of @p c->name.  Checks: name, origin
 * (SPEC 5), sealing, tip_ts (a TS, "" exactly when size is 0),
 * active_kid (43 characters of canonical base64url).
 * @return RCPT_OK, RCPT_E_INVAL (diag names the member),
 * RCPT_E_STORAGE_FULL, RCPT_E_IO.
 */
int rcpt_store_put_chain(struct rcpt_store_txn *t,
    const struct rcpt_store_chain *c, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Stores receipt @p seq of @p chain: its JCS @p line (1 to
 * RCPT_STORE_LINE_MAX bytes, no NUL) and its leaf hash
 * SHA-256(0x00 || entry_hash).  Refuses (RCPT_E_EXISTS) to overwrite a
 * receipt; see rcpt_store_replace_receipt for pruning.
 * @return RCPT_OK, RCPT_E_EXISTS, RCPT_E_STORAGE_FULL, RCPT_E_INVAL,
 * RCPT_E_TOO_LARGE (line), RCPT_E_IO.
 */
int rcpt_store_put_receipt(struct rcpt_store_txn *t, const char *chain,
    uint64_t seq, const char *line, size_t len,
    const uint8_t entry_hash[RCPT_HASH_LEN],
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Replaces the stored line of an existing receipt, for pruning (SPEC 6);
 * its leaf is kept.  Once committed, no read returns the old line.
 *
 * This alone does NOT remove the old bytes from data.mdb: LMDB copies
 * pages on write, so the page that held the old line becomes a free page
 * that keeps its bytes until reused (and the previous meta root still
 * points at it), and stale fragments can also remain in the unused part
 * of live pages.  rcpt_store_compact() is what removes them; the prune
 * procedure is replace, commit, compact.
 * @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_INVAL, RCPT_E_TOO_LARGE,
 * RCPT_E_STORAGE_FULL, RCPT_E_IO.
 */
int rcpt_store_replace_receipt(struct rcpt_store_txn *t, const char *chain,
    uint64_t seq, const char *line, size_t len,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Stores a checkpoint note (1 to RCPT_STORE_NOTE_MAX bytes) for tree size
 * @p size of @p chain, replacing an earlier note for that size.
 * @return RCPT_OK, RCPT_E_INVAL, RCPT_E_TOO_LARGE, RCPT_E_STORAGE_FULL,
 * RCPT_E_IO.
 */
int rcpt_store_put_checkpoint(struct rcpt_store_txn *t, const char *chain,
    uint64_t size, const char *note, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Creates or replaces the registry entry of @p k->kid.  Checks: kid is
 * the RFC 7638 thumbprint of pub, chain name, provider (1 to 32 of
 * [A-Za-z0-9._-]), handle (at most 511 bytes, no control characters),
 * status, created (TS), retired and revoked (TS or "", as status
 * requires: as rcpt_jwks_serialize does).
 * @return RCPT_OK, RCPT_E_INVAL (diag names the member),
 * RCPT_E_STORAGE_FULL, RCPT_E_IO.
 */
int rcpt_store_put_key(struct rcpt_store_txn *t, const struct rcpt_store_key *k,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Reads inside a write transaction (sees its own writes).
 * @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_CORRUPT, RCPT_E_INVAL.
 */
int rcpt_store_txn_get_chain(struct rcpt_store_txn *t, const char *name,
    struct rcpt_store_chain *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;
int rcpt_store_txn_get_key(struct rcpt_store_txn *t, const char *kid,
    struct rcpt_store_key *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/* Reads: each call runs in its own read transaction and copies out. */

/** @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_CORRUPT, RCPT_E_INVAL. */
int rcpt_store_get_chain(struct rcpt_store *s, const char *name,
    struct rcpt_store_chain *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Every chain, in name order.
 * @param[out] out caller frees with free(); NULL when @p n_out is 0.
 * @return RCPT_OK, RCPT_E_CORRUPT, RCPT_E_NOMEM.
 */
int rcpt_store_list_chains(struct rcpt_store *s, struct rcpt_store_chain **out,
    size_t *n_out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Copies receipt @p seq of @p chain.
 * @param[out] line_out NUL-terminated; caller frees with free().
 * @param[out] len_out may be NULL.
 * @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_CORRUPT, RCPT_E_NOMEM.
 */
int rcpt_store_get_receipt(struct rcpt_store *s, const char *chain,
    uint64_t seq, char **line_out, size_t *len_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_CORRUPT, RCPT_E_INVAL. */
int rcpt_store_get_key(struct rcpt_store *s, const char *kid,
    struct rcpt_store_key *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Every key, or those of @p chain when not NULL, in kid order.
 * @param[out] out caller frees with free(); NULL when @p n_out is 0.
 * @return RCPT_OK, RCPT_E_CORRUPT, RCPT_E_NOMEM, RCPT_E_INVAL.
 */
int rcpt_store_list_keys(struct rcpt_store *s, const char *chain,
    struct rcpt_store_key **out, size_t *n_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * The JWK Set of SPEC 3 built from the registry (every key, retired and
 * revoked ones included), as JCS, in kid order.
 * @param[out] out caller frees with free().
 * @return RCPT_OK, RCPT_E_CORRUPT, RCPT_E_NOMEM, RCPT_E_INVAL (an entry
 * rcpt_jwks_serialize refuses).
 */
int rcpt_store_jwks(struct rcpt_store *s, char **out, size_t *len_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * The newest (largest size) checkpoint of @p chain.
 * @param[out] note_out NUL-terminated; caller frees with free().
 * @param[out] size_out may be NULL.
 * @return RCPT_OK, RCPT_E_NOT_FOUND when none was made.
 */
int rcpt_store_latest_checkpoint(struct rcpt_store *s, const char *chain,
    char **note_out, uint64_t *size_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * The checkpoint of @p chain made at tree size @p size.
 * @param[out] note_out NUL-terminated; caller frees with free().
 * @return RCPT_OK, RCPT_E_NOT_FOUND when none was made at that size,
 * RCPT_E_CORRUPT, RCPT_E_INVAL, RCPT_E_NOMEM.
 */
int rcpt_store_get_checkpoint(struct rcpt_store *s, const char *chain,
    uint64_t size, char **note_out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/*
 * A read snapshot for work that reads many records consistently, such
 * as Merkle roots and proofs (rcpt_store_leaf is an rcpt_merkle_leaf_fn
 * with the snapshot as ctx) and start-up verification.
 */
struct rcpt_store_snap;

/**
 * Begins a snapshot of @p chain (which need not exist yet).
 * @param[out] out released with rcpt_store_snap_end().
 * @return RCPT_OK, RCPT_E_INVAL, RCPT_E_NOMEM, RCPT_E_IO.
 */
int rcpt_store_snap_begin(struct rcpt_store *s, const char *chain,
    struct rcpt_store_snap **out, struct rcpt_diag *diag) RCPT_MUST_CHECK;
/**
 * The chain record as of the snapshot, consistent with its leaves.
 * @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_CORRUPT.
 */
int rcpt_store_snap_chain(struct rcpt_store_snap *snap,
    struct rcpt_store_chain *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;
/**
 * Leaf hash SHA-256(0x00 || entry_hash) of receipt @p index of the
 * snapshot's chain; fastest when called with consecutive indexes.
 * @return RCPT_OK, RCPT_E_NOT_FOUND (past the end), RCPT_E_CORRUPT,
 * RCPT_E_INVAL.
 */
int rcpt_store_leaf(void *snap, uint64_t index, uint8_t out[RCPT_HASH_LEN]);
/**
 * Receipt @p seq of the snapshot's chain, NUL-terminated, borrowed until
 * the next call on @p snap or its end.
 * @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_CORRUPT, RCPT_E_NOMEM.
 */
int rcpt_store_snap_receipt(struct rcpt_store_snap *snap, uint64_t seq,
    const char **line_out, size_t *len_out) RCPT_MUST_CHECK;
/** Accepts NULL. */
void rcpt_store_snap_end(struct rcpt_store_snap *snap);

/**
 * Bytes used (up to the last page in use) and bytes of map, for
 * `status`.
 * @return RCPT_OK, RCPT_E_INVAL, RCPT_E_IO.
 */
int rcpt_store_usage(
    struct rcpt_store *s, size_t *used_out, size_t *map_out) RCPT_MUST_CHECK;

/**
 * Gives back this process's mappings of the store's pages; they stay in
 * the kernel's page cache.  Every page LMDB reads through its map counts
 * in the process's RSS from then on, and a writer reads new ones at each
 * commit (copy-on-write moves the tree's right edge), so a long-running
 * daemon calls this now and then to keep its RSS from growing with the
 * store.  Safe while reads run: they map the pages again.
 * @return RCPT_OK, RCPT_E_INVAL, RCPT_E_IO.
 */
int rcpt_store_release(struct rcpt_store *s);

/**
 * Rewrites data.mdb with only the live records, the last step of
 * pruning.  The records are copied one by one through mdb_put into a
 * new environment (data.mdb.compact, 0600), synced, and renamed over
 * data.mdb.  Guarantee: after it returns RCPT_OK, data.mdb contains
 * LMDB's own structure and the keys and values live at that moment,
 * and no byte of a value replaced or deleted before the call: free
 * pages, the previous meta root's pages and unused page space are
 * not carried over.  (Copies the OS or the disk may keep elsewhere,
 * such as the old file's blocks, swap or SSD remapping, are outside
 * what a file-level store can reach.)
 *
 * It waits (up to 10 s) until no transaction or snapshot of @p s is
 * open and blocks them while it runs.  No other process may have the
 * store open: that is checked with a lock on lock.mdb, and a store
 * changed by another process during the copy is not swapped either.
 * On a refusal or failure data.mdb is untouched.  If reopening after
 * the swap fails, @p s is unusable (every call returns RCPT_E_IO) and
 * only rcpt_store_close() remains.
 * @return RCPT_OK, RCPT_E_DENIED (read-only, or another process has the
 * store open), RCPT_E_STORAGE_FULL, RCPT_E_IO, RCPT_E_NOMEM.
 */
int rcpt_store_compact(
    struct rcpt_store *s, struct rcpt_diag *diag) RCPT_MUST_CHECK;

#endif
