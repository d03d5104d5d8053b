/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Receipts (SPEC 1, 3, 4): building the signed view, computing data_hash,
 * entry_hash and the signature, writing the stored form as JCS, and
 * parsing a stored receipt strictly (unknown members, wrong types,
 * uppercase hex, wrong lengths and non-canonical lines are refused).
 * receipt.c holds the field rules, building, writing and parsing into a
 * struct; receipt-scan.c the non-allocating scanner and its view.
 * Linkage between receipts and key rules belong to verify.c.
 */
#ifndef RCPT_SRC_RECEIPT_H
#define RCPT_SRC_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"
#include "jcs.h"
#include "jwk.h"
#include "merkle.h"
#include "signer.h"
#include "ts.h"

#define RCPT_CHAIN_MAX        64
#define RCPT_TYPE_MAX         128
#define RCPT_TAGS_MAX         32
#define RCPT_TAG_MAX          128           /* code points */
#define RCPT_DATA_MAX_DEFAULT (1024 * 1024) /* bytes of JCS(data) */
/*
 * SPEC 1 sets no upper bound on submitter.  The builder refuses more than
 * this many code points (principals come from configuration and are
 * short); parsing accepts any length so that a verifier never calls a
 * SPEC-conforming receipt broken.
 */
#define RCPT_SUBMITTER_MAX   256 /* code points */
#define RCPT_GENESIS_TYPE    "receiptd.genesis"
#define RCPT_ROTATION_TYPE   "receiptd.key_rotation"
#define RCPT_REVOCATION_TYPE "receiptd.key_revocation"

/** A receipt in memory; init with rcpt_receipt_init(). */
struct rcpt_receipt {
	char chain[RCPT_CHAIN_MAX + 1];
	uint64_t seq;
	char ts[RCPT_TS_LEN + 1];
	char type[RCPT_TYPE_MAX + 1];
	json_object *tags; /* owned; array of strings, never NULL once set */
	char *submitter;   /* owned */
	uint8_t data_hash[RCPT_HASH_LEN];
	uint8_t prev_hash[RCPT_HASH_LEN];
	char kid[RCPT_KID_LEN + 1];
	bool has_data;     /* false once pruned */
	json_object *data; /* owned; NULL is JSON null when has_data */
	char pruned_at[RCPT_TS_LEN + 1]; /* "" unless pruned */
	uint8_t entry_hash[RCPT_HASH_LEN];
	bool has_signature;
	uint8_t signature[RCPT_ED25519_SIG_LEN];
};

/** Zeroes @p r so that it can be filled or cleared. */
void rcpt_receipt_init(struct rcpt_receipt *r);
/** Releases what @p r owns and zeroes it; accepts an initialised struct. */
void rcpt_receipt_clear(struct rcpt_receipt *r);

/** 1 when @p chain matches ^[a-z0-9][a-z0-9._-]{0,63}$. */
int rcpt_receipt_chain_is_valid(const char *chain);
/** rcpt_receipt_chain_is_valid() over @p len bytes, no NUL needed. */
int rcpt_receipt_chain_is_valid_len(const char *chain, size_t len);
/** 1 when @p type is 1-128 characters of [A-Za-z0-9._:-]. */
int rcpt_receipt_type_is_valid(const char *type);
/** rcpt_receipt_type_is_valid() over @p len bytes, no NUL needed. */
int rcpt_receipt_type_is_valid_len(const char *type, size_t len);
/** 1 when @p type starts with "receiptd." in any letter case. */
int rcpt_receipt_type_is_reserved(const char *type);

/** What a new receipt is made of; every pointer borrowed. */
struct rcpt_receipt_fields {
	const char *chain;
	uint64_t seq;
	const char *ts;
	const char *type;
	const json_object *tags; /* array of strings, or NULL for [] */
	const char *submitter;
	const json_object *data;  /* NULL is JSON null */
	const uint8_t *prev_hash; /* 32 bytes; NULL means all zero (seq 0) */
	const char *kid;
	size_t data_max; /* 0 means RCPT_DATA_MAX_DEFAULT */
};

/**
 * Builds a receipt from @p f: checks every field against SPEC 1 and 1.1,
 * copies them, and computes data_hash and entry_hash.  It does not sign
 * (see rcpt_receipt_sign) and does not judge reserved types.
 * @param[out] out an initialised receipt; cleared on failure.
 * @return RCPT_OK, RCPT_E_INVAL (diag names the field and rule),
 * RCPT_E_TOO_LARGE (data over data_max), RCPT_E_NOMEM.
 */
int rcpt_receipt_build(const struct rcpt_receipt_fields *f,
    struct rcpt_receipt *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Signs entry_hash with @p s, which must sign with r->kid.
 * @return RCPT_OK, RCPT_E_INVAL (kid differs), or the signer's error.
 */
int rcpt_receipt_sign(
    struct rcpt_receipt *r, const struct rcpt_signer *s) RCPT_MUST_CHECK;

/**
 * JCS of the signed view (SPEC 1).
 * @param[out] out caller frees with free().
 */
int rcpt_receipt_signed_view(
    const struct rcpt_receipt *r, char **out, size_t *len_out) RCPT_MUST_CHECK;

/** SHA-256 of the signed view, into @p out. */
int rcpt_receipt_entry_hash(
    const struct rcpt_receipt *r, uint8_t out[RCPT_HASH_LEN]) RCPT_MUST_CHECK;

/**
 * JCS of the stored receipt, no newline.
 * @param[out] out caller frees with free().
 */
int rcpt_receipt_serialize(
    const struct rcpt_receipt *r, char **out, size_t *len_out) RCPT_MUST_CHECK;

/**
 * Parses one stored receipt strictly: the text must be the JCS of its
 * own parse, have exactly the members SPEC 1 allows with the right
 * types, lowercase hex of the right lengths, valid TS values, a valid
 * chain, type and tags.  Hashes and signatures are not checked here.
 * A submitter holding U+0000 is refused (RCPT_E_INVAL) because the
 * struct keeps it as a C string; rcpt_receipt_scan accepts it.
 * @param[in] max_depth nesting allowed inside data (verifiers: 256).
 * @param[out] out an initialised receipt, cleared first.
 * @return RCPT_OK, RCPT_E_PARSE, RCPT_E_INVAL or RCPT_E_TOO_LARGE with
 * @p diag naming the member and rule, RCPT_E_NOMEM.
 */
int rcpt_receipt_parse(const char *line, size_t len, int max_depth,
    struct rcpt_receipt *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/*
 * Zero-copy parsing for the verifier.  A view holds, for each member, the
 * member's value exactly as it appears in the line.  Because the line was
 * checked to be JCS, that text is the JCS of the value (strings keep
 * their quotes), so the signed view and JCS(data) are built by copying
 * spans, with no JSON tree.
 */

/** A run of bytes inside the line given to rcpt_receipt_scan; borrowed. */
struct rcpt_receipt_span {
	const char *p;
	size_t len;
};

/** A scanned stored receipt; every span borrows the scanned line. */
struct rcpt_receipt_view {
	struct rcpt_receipt_span chain, data, data_hash, entry_hash, kid,
	    prev_hash, pruned_at, seq, signature, submitter, tags, ts, type, v;
	uint64_t seq_num;
	bool has_data;
	bool has_pruned_at;
	bool has_signature;
	uint8_t data_hash_raw[RCPT_HASH_LEN];
	uint8_t prev_hash_raw[RCPT_HASH_LEN];
	uint8_t entry_hash_raw[RCPT_HASH_LEN];
	uint8_t signature_raw[RCPT_ED25519_SIG_LEN];
};

/**
 * Checks @p line exactly as rcpt_receipt_parse does, without allocating.
 * Non-canonical text wins over member rules, which win over missing
 * members, so the message names the first thing SPEC 8 would check.
 * @param[in] line borrowed; must outlive @p out.
 * @return RCPT_OK; RCPT_E_PARSE when the line is not its own JCS
 * ("line is not canonical JSON (JCS): ..."); RCPT_E_INVAL with @p diag
 * naming the member and rule; RCPT_E_TOO_LARGE when data nests deeper
 * than @p max_depth; RCPT_E_INTERNAL if no C locale can be made.
 */
int rcpt_receipt_scan(const char *line, size_t len, int max_depth,
    struct rcpt_receipt_view *out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Appends JCS(signed view) of @p vw to @p b.
 * @return RCPT_OK or RCPT_E_NOMEM.
 */
int rcpt_receipt_view_signed(
    const struct rcpt_receipt_view *vw, struct rcpt_buf *b) RCPT_MUST_CHECK;

/**
 * 1 when span @p sp is the JSON string whose value is @p s, compared
 * by length and bytes.  @p s must be text JCS writes unescaped
 * (printable ASCII but '"' and '\\'), such as a chain name or kid.
 */
int rcpt_receipt_span_is(const struct rcpt_receipt_span *sp, const char *s);

/** 1 when @p type is one of the three types SPEC 4 defines. */
int rcpt_receipt_type_is_defined_reserved(const char *type, size_t len);

#endif
