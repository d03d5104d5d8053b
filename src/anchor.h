/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The anti-rollback anchor (SPEC 5): for each chain, one small data
 * object in the token recording the tree size and root of the latest
 * checkpoint.  Before signing a checkpoint, and at start, the appliance
 * proves with an RFC 9162 consistency proof, built from the store's own
 * leaves, that the store extends the anchor.  A store restored from an
 * older copy, truncated or edited fails that proof and is refused with
 * RCPT_E_ANCHOR (RPC -32006), naming both sizes.
 *
 * The token object is named "receiptd-anchor.<chain>" when that fits the
 * provider's 64-byte limit (chains of up to 48 characters), else
 * "receiptd-anchor:<first 24 bytes of SHA-256(chain), hex>"; ':' cannot
 * occur in a chain name, so the forms never meet.  Its value, version 1:
 *
 *   offset  bytes  field
 *   0       7      magic "RCPTANC"
 *   7       1      version, 0x01
 *   8       1      L, length of the chain name, 1 to 64
 *   9       L      chain name (ASCII, as in receipts)
 *   9+L     8      tree size, unsigned big-endian, at least 1
 *   17+L    32     root hash (raw)
 *
 * 49 + L bytes in all, nothing after.  The chain name inside guards
 * against an object renamed from another chain.
 *
 * Order makes it crash-safe: a checkpoint is signed over a read snapshot
 * of committed (hence durable) receipts, stored in a durable transaction,
 * and only then written to the token.  The anchor therefore never runs
 * ahead of the durable store: a crash before the token write leaves an
 * older anchor, which the store still extends, and the next checkpoint
 * moves it on.  The reverse order could leave an anchor describing a
 * checkpoint the store never kept.
 *
 * The proof covers only the anchored prefix, so every check also runs
 * the offline verifier over all stored receipts and ties the store's
 * leaves, record and key to them (rcpt_anchor_verify): a leaf or receipt
 * edited after the anchor, or a key slipped into the registry, is
 * refused too.  This module does not decide when to checkpoint.
 * Calls for one chain must not run concurrently (the daemon serialises
 * them): two checkpoints racing could write the anchor out of order.
 */
#ifndef RCPT_SRC_ANCHOR_H
#define RCPT_SRC_ANCHOR_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "keystore/keystore.h"
#include "merkle.h"
#include "receipt.h"
#include "signer.h"
#include "store.h"
#include "verify.h"

#define RCPT_ANCHOR_VERSION  1
#define RCPT_ANCHOR_NAME_MAX 64 /* bytes of a token data object name */
#define RCPT_ANCHOR_LEN_MAX  (49 + RCPT_CHAIN_MAX)

/** One anchor record. */
struct rcpt_anchor {
	char chain[RCPT_CHAIN_MAX + 1];
	uint64_t size;               /* tree size, >= 1 */
	uint8_t root[RCPT_HASH_LEN]; /* root of the first size leaves */
};

/** What rcpt_anchor_check() found. */
struct rcpt_anchor_state {
	/*
	 * 1: the token holds no anchor.  rcpt_anchor_check() never returns
	 * RCPT_OK with it set (a stored chain without an anchor is
	 * refused); kept for callers written against the older contract.
	 */
	int fresh;
	uint64_t anchor_size;              /* 0 when fresh */
	uint64_t store_size;               /* receipts in the store */
	uint8_t store_root[RCPT_HASH_LEN]; /* root of those receipts */
	char origin[RCPT_ORIGIN_MAX + 1];  /* the verified genesis origin */
	char active_kid[RCPT_KID_LEN + 1]; /* as the verified receipts say */
	uint8_t active_pub[RCPT_ED25519_PUB_LEN]; /* that key, ditto */
};

/** What the verified receipts of a stored chain establish. */
struct rcpt_anchor_verified {
	uint64_t size;                    /* receipts verified */
	uint8_t root[RCPT_HASH_LEN];      /* of their leaves (= the store's) */
	char origin[RCPT_ORIGIN_MAX + 1]; /* genesis data.origin */
	char active_kid[RCPT_KID_LEN +
	                1]; /* tip rotation's new_kid, or tip kid */
	uint8_t active_pub[RCPT_ED25519_PUB_LEN]; /* from the receipts */
};

/* The record and its token object */

/**
 * The token object name of @p chain's anchor.
 * @return RCPT_OK, RCPT_E_INVAL (not a chain name).
 */
int rcpt_anchor_name(
    const char *chain, char out[RCPT_ANCHOR_NAME_MAX + 1]) RCPT_MUST_CHECK;

/**
 * Writes @p a in the version 1 format into @p buf.
 * @return RCPT_OK, RCPT_E_INVAL (bad chain, size 0, @p cap too small).
 */
int rcpt_anchor_encode(const struct rcpt_anchor *a, uint8_t *buf, size_t cap,
    size_t *len_out) RCPT_MUST_CHECK;

/**
 * Reads a record strictly (length, magic, version, chain, size >= 1).
 * @return RCPT_OK, RCPT_E_CORRUPT with @p diag naming the field.
 */
int rcpt_anchor_decode(const uint8_t *buf, size_t len, struct rcpt_anchor *out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Reads @p chain's anchor from the token.
 * @return RCPT_OK; RCPT_E_NOT_FOUND (no anchor: a fresh chain);
 * RCPT_E_CORRUPT (malformed, or names another chain); the provider's
 * error (RCPT_E_KEY_UNAVAILABLE, ...).
 */
int rcpt_anchor_read(struct rcpt_ks_provider *ks, const char *chain,
    struct rcpt_anchor *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Replaces @p a->chain's anchor in the token (atomic in the provider).
 * @return RCPT_OK, RCPT_E_INVAL, the provider's error.
 */
int rcpt_anchor_write(struct rcpt_ks_provider *ks, const struct rcpt_anchor *a,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/* Checking and checkpointing */

/**
 * Verifies the whole chain @p rec of @p snap with the offline verifier
 * (SPEC 8, no --trust: keys come from its genesis and rotations only)
 * and ties the store to it: every receipt from seq 0 to rec->size - 1
 * must verify CLEAN, the last must be the record's tip (tip_hash), the
 * root of the store's leaves must equal the root of the receipts'
 * entry hashes (so no leaf differs from its receipt), and the record's
 * origin must be the genesis data.origin.  The record's active_kid is
 * NOT compared: callers decide (rcpt_anchor_check refuses a mismatch,
 * opening a chain may roll a rotation forward).
 *
 * O(n) in the chain's receipts, with signature checks on 2 threads: it
 * runs before every checkpoint and ceremony of receiptctl.  The daemon
 * (SPEC 1.2) calls it once at start and then tracks its own tips.
 * @param[in] err the code for a store that fails: RCPT_E_ANCHOR or
 * RCPT_E_CORRUPT.
 * @return RCPT_OK; @p err ("chain C: store receipt at seq N fails
 * verification: <reason>", or naming the record field or the leaves);
 * the store's error; RCPT_E_NOMEM.
 */
int rcpt_anchor_verify(struct rcpt_store_snap *snap,
    const struct rcpt_store_chain *rec, int err,
    struct rcpt_anchor_verified *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Proves that the store's chain extends the token's anchor: with anchor
 * size M and store size N, refuses N < M, and otherwise checks the
 * consistency path from M to N, built from the store's leaves, against
 * the anchor's root and the store's root.  Then verifies every stored
 * receipt with rcpt_anchor_verify() (O(n), see there) and requires the
 * record's active kid to be the one the verified receipts make active.
 * Since chain-create always checkpoints, a stored chain without an
 * anchor is refused.  Every failure of the store is RCPT_E_ANCHOR,
 * whether it was rolled back or edited: either way it is not what the
 * token vouched for.
 * @param[out] st may be NULL; filled on RCPT_OK.
 * @return RCPT_OK; RCPT_E_ANCHOR ("store has N receipts but the token's
 * anchor records M: ...", "store of size N does not extend the anchor
 * of size M", "chain C has N receipts but the token holds no anchor for
 * it", "store receipt at seq N fails verification: ...", or naming the
 * record field); RCPT_E_NOT_FOUND (no such chain and no anchor);
 * RCPT_E_CORRUPT (a bad anchor, or leaves missing); the provider's or
 * the store's error; RCPT_E_NOMEM.
 */
int rcpt_anchor_check(struct rcpt_store *s, struct rcpt_ks_provider *ks,
    const char *chain, struct rcpt_anchor_state *st,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Checks as rcpt_anchor_check(), then signs a checkpoint of the store's
 * current size with @p signer (the chain's active key), stores it in a
 * durable transaction, and only then moves the anchor to it.  The one
 * difference to rcpt_anchor_check(): a chain of exactly its genesis and
 * no anchor is accepted, the state chain-create leaves if it stops
 * between its commit and its first anchor.  That genesis must still
 * verify and be signed by @p signer's key, which the token holds, so a
 * store writer cannot use it; any anchored chain has an anchor.
 * @param[in] signer borrowed; must sign with the chain's active kid, with
 * the public key the verified receipts name, and offer sign_msg.
 * @param[out] note_out caller frees with free(); NULL on failure.
 * @return as rcpt_anchor_check(); RCPT_E_INVAL (signer is not the active
 * key); the signer's error (RCPT_E_KEY_UNAVAILABLE); the store's error;
 * the provider's error when writing the anchor (the checkpoint is then
 * stored but not handed out).
 */
int rcpt_anchor_checkpoint(struct rcpt_store *s, struct rcpt_ks_provider *ks,
    const struct rcpt_signer *signer, const char *chain, char **note_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * The daemon's checkpoint (SPEC 1.2: while running it links only to tips
 * it sealed itself, so it does not re-verify the whole history): reads
 * the token's anchor, which must equal @p known (the anchor this process
 * last read or wrote; size 0 means "none yet", then the token must hold
 * none), proves with the store's leaves that the store's current tree
 * extends it, signs a checkpoint of the current size with @p signer,
 * stores it durably and moves the anchor, updating @p known.  No
 * receipt is re-verified.  Without @p frontier every leaf is read for
 * the root and the proof (O(n)).  With it (the caller's, zeroed at
 * first) the first call does that and then keeps in @p frontier the
 * Merkle frontier of the store's leaves; later calls read only the
 * leaves added since (O(k log n)): the tree then extends the anchor by
 * construction, and old leaves are not read again, so an edit of them
 * shows at the next start-up check rather than here.  A store smaller
 * than the frontier is refused as rolled back.
 * When the store has not grown, a fresh checkpoint of the same size is
 * signed and stored; its root must be @p known's, and the token is not
 * written again.  A token write reported as failed is read back and
 * counts as done if it landed.  On failure @p known is unchanged.
 * @param[in] signer borrowed; the record's active key, with sign_msg.
 * @param[in] origin the chain's origin (from its verified genesis); the
 * record must name the same.
 * @param[in,out] known borrowed; the anchor of @p chain, or size 0.
 * @param[in,out] frontier may be NULL; updated only on success.
 * @param[out] note_out caller frees with free(); NULL on failure.
 * @param[out] size_out may be NULL; the checkpoint's tree size.
 * @return RCPT_OK; RCPT_E_ANCHOR (the token's anchor is not @p known, or
 * the store does not extend it: rolled back, truncated or edited);
 * RCPT_E_INVAL (an argument; @p signer is not the record's active key);
 * RCPT_E_CORRUPT (the token's anchor is malformed, leaves are missing,
 * the record names another origin); RCPT_E_NOT_FOUND (no such chain and
 * none known); the signer's or the store's error; the provider's
 * error (when writing the anchor fails, the checkpoint stays stored
 * and the anchor where it was); RCPT_E_NOMEM.
 */
int rcpt_anchor_advance(struct rcpt_store *s, struct rcpt_ks_provider *ks,
    const struct rcpt_signer *signer, const char *chain, const char *origin,
    struct rcpt_anchor *known, struct rcpt_merkle_acc *frontier,
    char **note_out, uint64_t *size_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

#endif
