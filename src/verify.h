/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The offline verifier (SPEC 8).  Receipts are fed one line at a time,
 * so memory does not grow with the chain; signature checks may run on
 * worker threads while linkage is checked in order.  The first failure
 * stops verification and is reported with its seq and a reason a person
 * understands.  Keys come only from checked genesis and rotation
 * receipts and from the --trust set.
 *
 * Decisions where SPEC 8 leaves room (each is the stricter reading):
 * - With --trust, the chain's root key must be in it for this chain:
 *   the genesis key, or for receipts starting after genesis the first
 *   receipt's kid; otherwise BROKEN ("not pinned by --trust").  Keys
 *   brought in by checked rotation receipts are trusted through the
 *   chain.  Trust entries for other chains are ignored.  A trust entry
 *   with status "revoked" makes that kid's receipts with ts at or after
 *   its "revoked" TS (always, when it has none) invalid, except the
 *   rotation receipt that retired it; such a kid signs no checkpoint.
 * - Retired keys (SPEC 3 "a kid never returns", SPEC 4, SPEC 5 "signed
 *   by the key active when it is made", SPEC 8 "reused new_kid"):
 *   a. A rotation may not bring in a kid that --trust lists as retired
 *      or revoked, nor one the receipts in view have used (the key of
 *      the first receipt included, when it came from --trust).
 *   b. A kid --trust lists as "retired" at T (from the start when it
 *      gives no TS) signs no receipt with ts after T, except the
 *      rotation that retired it.  Receipts at T itself may precede
 *      that rotation, since ts never goes back.
 *   c. A checkpoint or manifest signed by a kid that a rotation in view
 *      retired at seq R is accepted only when it covers no receipt
 *      after R (tree size or last_seq + 1 at most R + 1).  When that
 *      rotation is not in view but --trust lists the kid as retired at
 *      T, it is accepted only while every receipt in view has ts at or
 *      before T.  Receipts beyond the view (a checkpoint larger than
 *      the bundle) cannot be judged: only a revocation stops a retired
 *      key that was compromised from vouching for older history.
 * - Strings in reserved data are compared with their length: I-JSON
 *   allows U+0000 inside them, and "batch" followed by U+0000 is no
 *   sealing.  Reserved data that the JSON tree cannot hold (a member
 *   name with U+0000) is BROKEN with the parser's reason.
 * - A revocation receipt invalidates receipts already seen.  Memory
 *   stays bounded, so the failure names the first receipt of that kid
 *   when even that one is at or after "effective", else the last
 *   receipt that kid signed before its rotation.  With workers, the
 *   signature checks queued before it are awaited first, so the answer
 *   is the one-thread answer whatever the timing.
 * - Without a genesis in view (first_seq > 0) the sealing is unknown, so
 *   a receipt without signature is treated as in a batch chain: a later
 *   signature of the same kid must seal it.
 * - A line longer than RCPT_VERIFY_LINE_MAX, an empty line and a last
 *   line without its "\n" are malformed input: BROKEN at that seq.
 *   Only read errors give RCPT_VERIFY_ERROR.
 */
#ifndef RCPT_SRC_VERIFY_H
#define RCPT_SRC_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "checkpoint.h"
#include "err.h"
#include "jwk.h"
#include "merkle.h"

enum rcpt_verify_status {
	RCPT_VERIFY_CLEAN = 0,  /* exit 0 */
	RCPT_VERIFY_BROKEN = 1, /* exit 1 */
	RCPT_VERIFY_ERROR = 2   /* exit 2: usage or I/O */
};

#define RCPT_VERIFY_LINE_MAX (8 * 1024 * 1024) /* bytes, without "\n" */

struct rcpt_verify_opts {
	const struct rcpt_jwks *trust; /* borrowed; NULL: keys not pinned */
	int threads;                   /* signature workers; 0 or 1: inline */
	int max_depth;                 /* 0: RCPT_JSON_DEPTH_MAX */
	/*
	 * Where the chain starts.  0 expects a genesis receipt; a larger
	 * value (bundles) takes prev_hash of the first receipt as given and
	 * needs @p trust to resolve its kid.
	 */
	uint64_t first_seq;
	/*
	 * Borrowed, may be NULL: a checkpoint whose root the verifier will
	 * need.  Only its size is read while streaming, to keep the root of
	 * the first N leaves; rcpt_verify_stream sets it from its @p cp.
	 */
	const struct rcpt_checkpoint *checkpoint;
};

struct rcpt_verify_result {
	enum rcpt_verify_status status;
	bool has_seq; /* the failure belongs to receipt @p seq */
	uint64_t seq;
	char reason[512]; /* on BROKEN or ERROR */
	uint64_t count;   /* receipts checked */
	uint64_t pruned;  /* receipts found without data */
	bool pinned;      /* --trust was given */
	char chain[65];   /* chain name seen, "" if none */
	char origin[201]; /* genesis origin, "" unless seen */
	uint8_t tip_hash[RCPT_HASH_LEN];
	char tip_kid[RCPT_KID_LEN + 1];
	struct rcpt_merkle_acc acc; /* leaves of the receipts checked */
};

struct rcpt_verifier;

/**
 * @param[in] opts copied; what it points to stays borrowed.
 * @param[out] out caller frees with rcpt_verifier_free().
 */
int rcpt_verifier_new(const struct rcpt_verify_opts *opts,
    struct rcpt_verifier **out) RCPT_MUST_CHECK;

/**
 * Checks the next line (without its \n).  After the first failure it
 * does nothing more.
 * @return RCPT_OK while the chain is clean so far, RCPT_E_CORRUPT once
 * it is broken, RCPT_E_NOMEM.
 */
int rcpt_verifier_feed(
    struct rcpt_verifier *v, const char *line, size_t len) RCPT_MUST_CHECK;

/**
 * Finishes: waits for pending signature checks, applies the
 * end-of-chain rules (unsealed tail), then, with @p cp, checks the
 * checkpoint: chain and origin, the root over the first N leaves (N at
 * most the receipts seen, and N equal to them or announced through
 * opts.checkpoint), truncation when fewer than N receipts from seq 0
 * were seen, and a signature by a non-revoked key it holds.  When
 * first_seq > 0 the root is not checked: the caller verifies an
 * inclusion proof instead (SPEC 7, 8).
 * @param[out] res filled in all cases.
 */
void rcpt_verifier_finish(struct rcpt_verifier *v,
    const struct rcpt_checkpoint *cp, struct rcpt_verify_result *res);

/**
 * Public key for @p kid as the verifier knows it at the end (from the
 * chain or the trust set), for checking a manifest of exactly the
 * receipts fed (rule c above).
 * @return RCPT_OK, RCPT_E_NOT_FOUND, or RCPT_E_DENIED when revoked or
 * retired before the last receipt fed.
 */
int rcpt_verifier_key(const struct rcpt_verifier *v, const char *kid,
    uint8_t pub_out[RCPT_ED25519_PUB_LEN]) RCPT_MUST_CHECK;

/**
 * Checks that @p cp names this chain (and the genesis origin, when
 * seen) and carries a valid signature by a key of this chain that the
 * verifier may trust (SPEC 5, 8): not revoked, and not retired before
 * the checkpoint's size (rule c above).  The root is not looked at.
 * Call it after rcpt_verifier_finish().
 * @return RCPT_OK; RCPT_E_INVAL (other chain or origin) or
 * RCPT_E_BAD_SIGNATURE, with @p diag saying which.
 */
int rcpt_verifier_checkpoint_signed(const struct rcpt_verifier *v,
    const struct rcpt_checkpoint *cp, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Accepts NULL. */
void rcpt_verifier_free(struct rcpt_verifier *v);

/**
 * Streams @p in line by line through a verifier: what `receiptctl verify`
 * does.  Over-long lines and a missing final newline are BROKEN; read
 * errors give RCPT_VERIFY_ERROR.
 */
void rcpt_verify_stream(FILE *in, const struct rcpt_verify_opts *opts,
    const struct rcpt_checkpoint *cp, struct rcpt_verify_result *res);

/**
 * Writes the one line SPEC 8 prescribes ("Chain integrity: ...") with a
 * trailing newline into @p buf: counts grouped by "," whatever the
 * locale, seq numbers not grouped.  An ERROR result gives
 * "Chain integrity: ERROR: <reason>".
 */
void rcpt_verify_format(
    const struct rcpt_verify_result *res, char *buf, size_t size);

#endif
