/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The offline verifier (SPEC 8).  Receipts are fed one line at a time,
 * so memory does not grow with the chain; signature checks may run on
 * worker threads while linkage is checked in order.  The first failure
 * stops verification and is reported with its seq and a reason a person
 * understands.  Keys come only from checked genesis and rotation
 * receipts and from the --trust set.
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
	RCPT_VERIFY_CLEAN = 0,	/* exit 0 */
	RCPT_VERIFY_BROKEN = 1, /* exit 1 */
	RCPT_VERIFY_ERROR = 2	/* exit 2: usage or I/O */
};

struct rcpt_verify_opts {
	const struct rcpt_jwks *trust; /* borrowed; NULL: keys not pinned */
	int threads;		       /* signature workers; 0 or 1: inline */
	int max_depth;		       /* 0: RCPT_JSON_DEPTH_MAX */
	/*
	 * Where the chain starts.  0 expects a genesis receipt; a larger
	 * value (bundles) takes prev_hash of the first receipt as given and
	 * needs @p trust to resolve its kid.
	 */
	uint64_t first_seq;
};

struct rcpt_verify_result {
	enum rcpt_verify_status status;
	bool has_seq;	       /* the failure belongs to receipt @p seq */
	uint64_t seq;
	char reason[512];      /* on BROKEN or ERROR */
	uint64_t count;	       /* receipts checked */
	uint64_t pruned;       /* receipts found without data */
	bool pinned;	       /* --trust was given */
	char chain[65];	       /* chain name seen, "" if none */
	char origin[201];      /* genesis origin, "" unless seen */
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
int rcpt_verifier_feed(struct rcpt_verifier *v, const char *line,
    size_t len) RCPT_MUST_CHECK;

/**
 * Finishes: waits for pending signature checks, applies the
 * end-of-chain rules (unsealed tail), then, with @p cp, checks the
 * checkpoint: the root over the first N leaves, or truncation when
 * fewer than N receipts from seq 0 were seen.
 * @param[out] res filled in all cases.
 */
void rcpt_verifier_finish(struct rcpt_verifier *v,
    const struct rcpt_checkpoint *cp, struct rcpt_verify_result *res);

/**
 * Public key for @p kid as the verifier knows it at the end (from the
 * chain or the trust set), for checking manifests and checkpoints.
 * @return RCPT_OK, RCPT_E_NOT_FOUND, or RCPT_E_DENIED when revoked.
 */
int rcpt_verifier_key(const struct rcpt_verifier *v, const char *kid,
    uint8_t pub_out[RCPT_ED25519_PUB_LEN]) RCPT_MUST_CHECK;

/** Accepts NULL. */
void rcpt_verifier_free(struct rcpt_verifier *v);

/**
 * Streams @p in line by line through a verifier: what `receiptctl verify`
 * does.  Over-long lines or read errors give RCPT_VERIFY_ERROR.
 */
void rcpt_verify_stream(FILE *in, const struct rcpt_verify_opts *opts,
    const struct rcpt_checkpoint *cp, struct rcpt_verify_result *res);

/**
 * Writes the one line SPEC 8 prescribes ("Chain integrity: ...") with a
 * trailing newline into @p buf.
 */
void rcpt_verify_format(const struct rcpt_verify_result *res, char *buf,
    size_t size);

#endif
