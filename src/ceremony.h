/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The appliance's key life cycle (SPEC 3, 4) over the chain store and a
 * keystore provider: creating a chain with its first key, appending,
 * rotating to a new key and revoking a retired one.  Each operation
 * writes its receipt, the chain record and the key registry in ONE store
 * transaction, so the store never shows a receipt without the key
 * status it implies.  Opening a chain checks that record, registry and
 * tip agree, and rolls a rotation forward if they ever do not.
 *
 * A rotation runs in three steps, and a crash between any two of them
 * leaves either the old key active or the rotation complete:
 *   1. generate the new key in the provider;
 *   2. build the receiptd.key_rotation receipt, signed by the outgoing
 *      key (in memory only);
 *   3. in one transaction: the receipt and its leaf, the chain record
 *      (tip, active kid), old key -> retired and new key -> active;
 *      commit, which is durable when it returns.
 * Before the commit of step 3 the store holds nothing of the rotation:
 * the old key is active, and the new key is an orphan in the provider
 * (no registry entry names it; it never signed anything, so it is
 * harmless and may be deleted by an operator).  The commit is atomic: it
 * writes the whole rotation or none of it.  After it, the rotation is
 * complete in the store, and the new key is used from then on, even if
 * the process dies before its memory switched to the new signer:
 * rcpt_ceremony_open() reads the active kid from the store.  Only then
 * does this module sign with the new key, so the active kid switches
 * only once its receipt is durable.
 *
 * It does not decide who may ask (configuration), does not group
 * commits into batches (the daemon), and does not delete keys.  One
 * struct rcpt_ceremony is used by one thread at a time, and only one
 * may be open per chain.
 */
#ifndef RCPT_SRC_CEREMONY_H
#define RCPT_SRC_CEREMONY_H

#include <stddef.h>
#include <stdint.h>

#include "chain.h"
#include "err.h"
#include "keystore/keystore.h"
#include "store.h"

#define RCPT_CEREMONY_WITNESSES_MAX 16  /* witnesses in one record */
#define RCPT_CEREMONY_TEXT_MAX      128 /* code points of each name */

struct rcpt_anchor_verified; /* anchor.h */

/** An open chain of the appliance; opaque. */
struct rcpt_ceremony;

/** Where rotation's test hook is called, in order. */
enum rcpt_ceremony_step {
	RCPT_CEREMONY_GENERATED = 1, /* new key in the provider */
	RCPT_CEREMONY_SIGNED = 2,    /* rotation receipt signed, in memory */
	RCPT_CEREMONY_WRITTEN = 3, /* written in the transaction, uncommitted */
	RCPT_CEREMONY_COMMITTED = 4 /* durable; old signer still in memory */
};

/** Options; a zeroed struct is valid. */
struct rcpt_ceremony_opts {
	size_t data_max; /* bytes of JCS(data); 0: RCPT_DATA_MAX_DEFAULT */
	/*
	 * Test hook, called after each step of a rotation.  When it returns
	 * non-zero the rotation stops as if the process died there: nothing
	 * after that point happens and nothing is undone (an uncommitted
	 * transaction is aborted, as a crash would lose it).  The handle is
	 * then stopped: every call but _close fails, and the test reopens.
	 */
	int (*fail_at)(void *ctx, int step);
	void *fail_ctx; /* passed to fail_at; borrowed */
	/*
	 * rcpt_ceremony_open() only: what the caller's own
	 * rcpt_anchor_check() of this store established moments before
	 * (nothing may write in between).  When it covers the stored size,
	 * opening does not verify the whole history a second time.
	 * Borrowed for the call; NULL: verify.
	 */
	const struct rcpt_anchor_verified *verified;
};

/** A new chain; every pointer borrowed for the call. */
struct rcpt_ceremony_genesis {
	const char *chain;
	const char *origin;
	enum rcpt_sealing sealing;
	const char *ts;     /* genesis time (the injectable clock) */
	const char *handle; /* key to use; NULL: generate one */
};

/**
 * Who ran a rotation (SPEC 4 "ceremony"), all optional; every pointer
 * borrowed.  Each name is 1 to 128 code points without control
 * characters.  Written as {"operator","witnesses":[...],"token_serial"}
 * with only the members given, and left out when none is.
 */
struct rcpt_ceremony_record {
	const char *operator_name;    /* the person who ran it, or NULL */
	const char *const *witnesses; /* n_witnesses names */
	size_t n_witnesses;           /* at most RCPT_CEREMONY_WITNESSES_MAX */
	const char *token_serial;     /* the token's serial, or NULL */
};

/* Opening and closing */

/**
 * Creates chain @p g->chain: uses or generates its first key in @p ks,
 * and writes the genesis receipt, the chain record and the key's
 * registry entry (active, created at the genesis ts) in one durable
 * transaction.  Refuses when the token already holds an anchor for this
 * chain name (a store that lost the chain must not silently restart it).
 * @param[in] s, ks borrowed; must outlive the result.
 * @param[in] o may be NULL; copied.
 * @param[out] out caller frees with rcpt_ceremony_close().
 * @param[out] line_out may be NULL; the genesis receipt (JCS), caller
 * frees with free().
 * @return RCPT_OK; RCPT_E_INVAL (diag names the field); RCPT_E_EXISTS
 * (chain exists, or the key serves a chain already); RCPT_E_ANCHOR
 * (an anchor exists); RCPT_E_TOO_LARGE (handle); the provider's or the
 * store's error; RCPT_E_NOMEM.
 */
int rcpt_ceremony_create(struct rcpt_store *s, struct rcpt_ks_provider *ks,
    const struct rcpt_ceremony_genesis *g, const struct rcpt_ceremony_opts *o,
    struct rcpt_ceremony **out, char **line_out, size_t *len_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Opens chain @p chain from the store: checks that the chain record's
 * tip is its last receipt, that nothing follows it, verifies every
 * stored receipt with rcpt_anchor_verify() (O(n); leaves, tip and origin
 * tied to them), takes the active kid and its public key from those
 * verified receipts (the tip's kid, or a tip rotation's new_kid), and
 * checks that the registry has exactly that key active for this chain
 * with that public key, and that @p ks holds it.  The registry says only
 * where the key lives; it never introduces one.  A rotation that is the
 * tip while the record or registry still name the old key is rolled
 * forward in one transaction (this cannot happen with single-transaction
 * rotations; it is a defence against older or foreign writers).
 * @param[out] out caller frees with rcpt_ceremony_close().
 * @return RCPT_OK; RCPT_E_NOT_FOUND (no such chain); RCPT_E_CORRUPT
 * (record, receipts and registry disagree, or a stored receipt fails
 * verification; diag says which, naming the seq when it can);
 * RCPT_E_CONFIG (the key lives in another provider); the provider's or
 * store's error; RCPT_E_NOMEM.
 */
int rcpt_ceremony_open(struct rcpt_store *s, struct rcpt_ks_provider *ks,
    const char *chain, const struct rcpt_ceremony_opts *o,
    struct rcpt_ceremony **out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Frees @p c (the store and provider stay open); accepts NULL. */
void rcpt_ceremony_close(struct rcpt_ceremony *c);

/* State */

/** The chain's name; borrowed from @p c. */
const char *rcpt_ceremony_chain(const struct rcpt_ceremony *c);
/** The active kid; borrowed from @p c, valid until its next call. */
const char *rcpt_ceremony_active_kid(const struct rcpt_ceremony *c);
/** Receipts in the chain. */
uint64_t rcpt_ceremony_size(const struct rcpt_ceremony *c);
/**
 * Signer of the active key, for checkpoints (anchor.c); borrowed from
 * @p c, valid until its next rotation or close.
 */
const struct rcpt_signer *rcpt_ceremony_signer(const struct rcpt_ceremony *c);

/* Growing the chain: one receipt, one durable transaction each */

/**
 * Appends a client event and commits it.  In a batch chain the receipt
 * is signed (sealed) anyway, since it ends its commit batch (SPEC 1.2).
 * On failure nothing is stored and @p c is as before.
 * @param[out] line_out may be NULL; the stored receipt, freed with free().
 * @return RCPT_OK; RCPT_E_INVAL (diag); RCPT_E_TOO_LARGE; the signer's
 * error (RCPT_E_KEY_UNAVAILABLE); RCPT_E_STORAGE_FULL; RCPT_E_IO;
 * RCPT_E_CORRUPT (the store moved under this handle); RCPT_E_NOMEM.
 */
int rcpt_ceremony_append(struct rcpt_ceremony *c,
    const struct rcpt_chain_event *ev, char **line_out, size_t *len_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Rotates the chain to a new key generated in the provider, in the three
 * steps described above.  The receipt names @p submitter, the
 * administrator who asked.  On failure before the commit the old key
 * stays active (a generated key may remain as a harmless orphan).
 * @param[in] rec may be NULL.
 * @param[out] line_out may be NULL; the rotation receipt.
 * @return as rcpt_ceremony_append(), plus the provider's error from
 * generating; RCPT_E_INTERNAL when the test hook stopped it.
 */
int rcpt_ceremony_rotate(struct rcpt_ceremony *c, const char *ts,
    const char *submitter, const char *reason,
    const struct rcpt_ceremony_record *rec, char **line_out, size_t *len_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Revokes @p kid from @p effective on (SPEC 4): @p kid must be a key this
 * chain rotated away from and not revoked yet (registry status
 * "retired", same chain).  The receipt is signed by the active key and
 * names @p submitter; the registry entry becomes "revoked" with
 * "revoked" = @p effective, the time from which its receipts are
 * invalid (what SPEC 8 verifiers read from a --trust set).
 * @param[out] line_out may be NULL; the revocation receipt.
 * @return as rcpt_ceremony_append(); RCPT_E_INVAL names the rule when
 * @p kid is unknown, of another chain, active, or revoked already.
 */
int rcpt_ceremony_revoke(struct rcpt_ceremony *c, const char *ts,
    const char *submitter, const char *kid, const char *reason,
    const char *effective, char **line_out, size_t *len_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/* Group commit (the daemon) */

/**
 * Signs @p n independent 32-byte messages with @p s, perhaps on several
 * threads or token sessions at once; sigs[i] is the signature of
 * msgs[i].  Returns RCPT_OK only when every one was made, else an
 * RCPT_E_* code (any other value is taken as RCPT_E_INTERNAL).  @p s,
 * @p msgs and @p sigs are borrowed for the call; @p sigs arrives
 * zeroed, and a signature still all zero after RCPT_OK counts as not
 * made.
 */
typedef int (*rcpt_ceremony_sign_many_fn)(void *ctx,
    const struct rcpt_signer *s, const uint8_t (*msgs)[32],
    uint8_t (*sigs)[RCPT_ED25519_SIG_LEN], size_t n);

/** One event of a commit batch and, afterwards, its outcome. */
struct rcpt_ceremony_item {
	struct rcpt_chain_event ev; /* in: borrowed pointers; ev.seal ignored */
	int result;                 /* out: RCPT_OK or the item's error */
	struct rcpt_diag diag;      /* out: why, when result is not RCPT_OK */
	char *line;                 /* out: stored receipt (JCS), free() it */
	size_t len;                 /* out: bytes in line */
};

/**
 * Appends the events of @p items, in order, as one commit batch: each
 * is built and linked to the one before (an item that breaks a rule,
 * such as a reserved type, gets its own error and is skipped without
 * taking a seq), the signatures are made with @p sign_many (or one by
 * one with the active signer when NULL), and every receipt, the chain
 * record and its tip go into ONE store transaction, committed and
 * synced once.  Each chain signs every receipt; a batch chain signs
 * only the last receipt of the batch (SPEC 1.2).  A full map is grown
 * and the transaction run once more.
 *
 * When the batch as a whole fails (signing, storage full, I/O), every
 * item that was not refused on its own gets that error, nothing is
 * stored, and @p c is as before: no seq is used up, no fork is made.
 * @param[in,out] items borrowed; the outputs of each are reset first.
 * An item's own errors are RCPT_E_INVAL and RCPT_E_TOO_LARGE, its
 * diag naming the field.
 * @param[in] sign_ctx passed to @p sign_many.
 * @param[out] n_ok_out may be NULL; items stored.
 * @return RCPT_OK when the batch was committed (some items may still
 * carry their own error; a batch of refusals only commits nothing),
 * else the batch's error (also in @p diag): the signer's error
 * (RCPT_E_KEY_UNAVAILABLE); RCPT_E_STORAGE_FULL; RCPT_E_IO;
 * RCPT_E_CORRUPT (the store moved under this handle); RCPT_E_NOMEM;
 * RCPT_E_INVAL (a stopped handle).
 */
int rcpt_ceremony_append_batch(struct rcpt_ceremony *c,
    struct rcpt_ceremony_item *items, size_t n,
    rcpt_ceremony_sign_many_fn sign_many, void *sign_ctx, size_t *n_ok_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/*
 * The same in two steps, so that a batch can be made (built, signed)
 * while the one before it is being stored: the writer's pipeline.
 */

/** A commit batch made but not yet stored or given up. */
struct rcpt_ceremony_batch;

/**
 * The first half of rcpt_ceremony_append_batch(): builds, links, signs
 * and serializes the batch, and moves the handle's tip past it, so that
 * the next batch can be made on top before this one is stored.  Until
 * rcpt_ceremony_batch_end() the handle has no other use than making
 * further batches.  On failure nothing changes: every item not refused
 * on its own gets the error and @p out is NULL; also NULL (with
 * RCPT_OK) when every item was refused on its own.
 * @param[in,out] items borrowed until rcpt_ceremony_batch_end().
 * @return as rcpt_ceremony_append_batch(), without the storage errors.
 */
int rcpt_ceremony_batch_make(struct rcpt_ceremony *c,
    struct rcpt_ceremony_item *items, size_t n,
    rcpt_ceremony_sign_many_fn sign_many, void *sign_ctx,
    struct rcpt_ceremony_batch **out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * The second half: ONE durable transaction holding every receipt of
 * @p b and the chain record.  It reads nothing of the handle, so it
 * may run on another thread while the next batch is made; batches must
 * be stored in the order they were made, each only after the one before
 * it was stored.  On success each built item gets RCPT_OK and its line;
 * on failure each item not refused on its own gets the error.
 * @return RCPT_OK, or as rcpt_ceremony_append_batch().
 */
int rcpt_ceremony_batch_store(
    struct rcpt_ceremony_batch *b, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Gives every item of @p b not refused on its own the error @p r with
 * @p why, as a batch that will not be stored; touches only @p b, so it
 * may run beside the next batch being made.  rcpt_ceremony_batch_end()
 * with @p stored 0 still follows.
 */
void rcpt_ceremony_batch_fail(
    struct rcpt_ceremony_batch *b, int r, const struct rcpt_diag *why);

/**
 * Ends @p b (accepts NULL).  When @p stored is 0 the batch was not
 * stored: its items not refused on their own get @p r with @p why
 * (unless rcpt_ceremony_batch_store() already failed them), and the
 * handle goes back to the tip before @p b, dropping any batch made on
 * top of it: end those first, newest first, also with @p stored 0.
 */
void rcpt_ceremony_batch_end(struct rcpt_ceremony *c,
    struct rcpt_ceremony_batch *b, int stored, int r,
    const struct rcpt_diag *why);

/**
 * The tip as the handle knows it (what it last committed): size and
 * entry_hash of seq size - 1.  Either output may be NULL.
 */
void rcpt_ceremony_tip(const struct rcpt_ceremony *c, uint64_t *size_out,
    uint8_t hash_out[RCPT_HASH_LEN]);

/* Pruning (SPEC 6) */

/**
 * Prunes every receipt of the chain with ts before @p before that still
 * has its data, except genesis, rotation and revocation receipts: data
 * is removed and pruned_at = @p now added, in one durable transaction;
 * then the store is compacted (rcpt_store_compact), so that the removed
 * bytes are in no page of data.mdb.  Receipts are ts-ordered, so the
 * scan stops at the first receipt at or after @p before.
 * Pruning keeps every signed member, so entry hashes, leaves,
 * checkpoints and the handle's state are unchanged; each pruned line is
 * checked to hash to its entry_hash before it replaces the stored one.
 * Compaction waits (at most 10 s) until no read of the store is open.
 * @param[out] n_out may be NULL; receipts pruned now, also when the
 * compaction then fails (0 is not an error; the store is then not
 * compacted, so after a failed compaction call rcpt_store_compact()
 * to finish).
 * @return RCPT_OK; RCPT_E_INVAL (a TS is malformed); RCPT_E_CORRUPT (a
 * stored receipt does not parse or hash to its entry_hash, or the store
 * moved under this handle; nothing is pruned); the store's error
 * (RCPT_E_DENIED when another process holds the store, during the
 * compaction: the receipts are pruned but their bytes may remain until
 * the next successful compaction); RCPT_E_NOMEM.
 */
int rcpt_ceremony_prune(struct rcpt_ceremony *c, const char *before,
    const char *now, uint64_t *n_out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

#endif
