/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The offline chain writer: the state of one chain (name, origin,
 * sealing, next seq, previous entry_hash, last ts, active key) and the
 * four ways it grows: genesis, a client event, a key rotation and a key
 * revocation (SPEC 1, 4).  Used by tests, by receiptctl's development
 * commands and by the daemon, which stores what it returns.
 *
 * It keeps no receipts and does no I/O: each call returns the new
 * receipt and advances the state only when it succeeds, so a failed
 * call leaves the chain as it was.  Time is passed in by the caller
 * (an injectable clock).  It does not decide who may append: that is
 * the caller's configuration.
 */
#ifndef RCPT_SRC_CHAIN_H
#define RCPT_SRC_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"
#include "jwk.h"
#include "merkle.h"
#include "receipt.h"
#include "signer.h"
#include "ts.h"

#define RCPT_ORIGIN_MAX 200 /* bytes (SPEC 5) */

enum rcpt_sealing {
	RCPT_SEALING_EACH = 0, /* every receipt signed */
	RCPT_SEALING_BATCH = 1 /* the last receipt of each batch signed */
};

/** One chain's writer state; _init, then rcpt_chain_genesis(). */
struct rcpt_chain {
	char name[RCPT_CHAIN_MAX + 1];
	char origin[RCPT_ORIGIN_MAX + 1];
	enum rcpt_sealing sealing;
	bool started; /* genesis made */
	uint64_t next_seq;
	uint8_t prev_hash[RCPT_HASH_LEN];    /* entry_hash of next_seq - 1 */
	char last_ts[RCPT_TS_LEN + 1];       /* "" before genesis */
	char kid[RCPT_KID_LEN + 1];          /* the active key */
	char (*used_kids)[RCPT_KID_LEN + 1]; /* owned: every kid so far */
	size_t n_used;                       /* used_kids[n_used - 1] is kid */
	size_t cap_kids;                     /* room in used_kids */
	size_t data_max;                     /* 0: RCPT_DATA_MAX_DEFAULT */
};

/** Zeroes @p c. */
void rcpt_chain_init(struct rcpt_chain *c);
/** Releases what @p c owns and zeroes it. */
void rcpt_chain_clear(struct rcpt_chain *c);

/** Parses "each" or "batch". @return RCPT_OK or RCPT_E_INVAL. */
int rcpt_chain_sealing_parse(
    const char *s, enum rcpt_sealing *out) RCPT_MUST_CHECK;
/** "each" or "batch". */
const char *rcpt_chain_sealing_name(enum rcpt_sealing s);

/**
 * Makes the seq-0 receipt, type receiptd.genesis, submitter "receiptd",
 * data {"chain","origin","key","sealing"}, signed by @p s, whose key
 * becomes the active one.
 * @param[in] s borrowed for the call.
 * @param[out] out initialised receipt; the caller clears it.
 * @return RCPT_OK; RCPT_E_INVAL (bad name, origin or ts; genesis made
 * already) with @p diag; the signer's error; RCPT_E_NOMEM.
 */
int rcpt_chain_genesis(struct rcpt_chain *c, const char *name,
    const char *origin, enum rcpt_sealing sealing, const char *ts,
    const struct rcpt_signer *s, struct rcpt_receipt *out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** A client event; every pointer borrowed for the call. */
struct rcpt_chain_event {
	const char *type;
	const json_object *tags; /* array of strings, or NULL for [] */
	const char *submitter;   /* the authenticated principal */
	const json_object *data; /* NULL is JSON null */
	const char *ts;          /* now; the last ts is used if earlier */
	bool seal;               /* batch chains: sign, ending the batch */
};

/**
 * Appends a client event.  Types starting with "receiptd." in any case
 * are refused.  Each chains sign every receipt; batch chains sign only
 * when @p ev->seal is set.
 * @param[in] s signer of the active key (may be NULL for an unsealed
 * batch receipt).
 * @return RCPT_OK; RCPT_E_INVAL (no genesis, reserved type, a field
 * rule; @p diag names it); RCPT_E_TOO_LARGE (data); the signer's error;
 * RCPT_E_NOMEM.
 */
int rcpt_chain_append(struct rcpt_chain *c, const struct rcpt_chain_event *ev,
    const struct rcpt_signer *s, struct rcpt_receipt *out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Restores the writer state of a chain that was started elsewhere (the
 * daemon keeps it in its store), so that it grows from its tip.  Only
 * shapes are checked: the caller vouches that the values describe a tip
 * it has checked.  @p kid becomes the active key; @p used_kids are the
 * other kids the chain has used (duplicates and @p kid itself ignored),
 * so that rotation keeps refusing a kid that returns.  On failure @p c
 * is left as it was.
 * @param[in] used_kids array of @p n_used kids, may be NULL when 0; copied.
 * @return RCPT_OK, RCPT_E_INVAL (diag names the argument), RCPT_E_NOMEM.
 */
int rcpt_chain_resume(struct rcpt_chain *c, const char *name,
    const char *origin, enum rcpt_sealing sealing, uint64_t next_seq,
    const uint8_t prev_hash[RCPT_HASH_LEN], const char *last_ts,
    const char *kid, const char (*used_kids)[RCPT_KID_LEN + 1], size_t n_used,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Rotates to the key of @p new_s: a receiptd.key_rotation receipt with
 * data {"new_kid","new_key","reason"} and "ceremony" when given, signed
 * by @p old_s (the active key).  The state's kid then becomes the new
 * one.  A kid used before in this chain is refused.
 * @param[in] ceremony object or NULL; copied.
 * @return RCPT_OK, RCPT_E_INVAL (diag), the signer's error, NOMEM.
 */
int rcpt_chain_rotate(struct rcpt_chain *c, const char *ts,
    const char *submitter, const char *reason, const json_object *ceremony,
    const struct rcpt_signer *old_s, const struct rcpt_signer *new_s,
    struct rcpt_receipt *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Revokes @p kid, which must be a key this chain rotated away from: a
 * receiptd.key_revocation receipt {"kid","reason","effective"} signed
 * by the active key @p s.
 * @return RCPT_OK, RCPT_E_INVAL (diag), the signer's error, NOMEM.
 */
int rcpt_chain_revoke(struct rcpt_chain *c, const char *ts,
    const char *submitter, const char *kid, const char *reason,
    const char *effective, const struct rcpt_signer *s,
    struct rcpt_receipt *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

#endif
