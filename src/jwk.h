/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Public keys as OKP JWKs, key ids and JWK Sets (SPEC 3).  The kid is
 * the RFC 7638 thumbprint: B64URL(SHA-256(JCS({"crv","kty","x"}))).
 * Status members in a JWK Set are informative only; callers decide
 * whether to believe them (SPEC 8).
 */
#ifndef RCPT_SRC_JWK_H
#define RCPT_SRC_JWK_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "ed25519.h"
#include "err.h"
#include "ts.h"

#define RCPT_KID_LEN 43 /* characters, without the NUL */

/** Computes the kid of @p pub into @p kid_out (RCPT_KID_LEN + 1 bytes). */
int rcpt_jwk_kid(const uint8_t pub[RCPT_ED25519_PUB_LEN],
    char kid_out[RCPT_KID_LEN + 1]) RCPT_MUST_CHECK;

/**
 * Builds {"crv":"Ed25519","kty":"OKP","x":...}.
 * @param[out] out new reference; caller json_object_put()s it.
 */
int rcpt_jwk_from_public(
    const uint8_t pub[RCPT_ED25519_PUB_LEN], json_object **out) RCPT_MUST_CHECK;

/**
 * Reads a JWK that must have exactly crv, kty and x (as in receipts).
 * Refuses other members, wrong values, non-canonical base64url, and
 * keys rcpt_ed25519_pub_is_acceptable() rejects.
 * @return RCPT_OK or RCPT_E_INVAL with @p diag naming the member.
 */
int rcpt_jwk_parse_strict(const json_object *jwk, const char *path,
    uint8_t pub_out[RCPT_ED25519_PUB_LEN],
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

enum rcpt_key_status {
	RCPT_KEY_ACTIVE = 0,
	RCPT_KEY_RETIRED = 1,
	RCPT_KEY_REVOKED = 2
};

/** One entry of a JWK Set. */
struct rcpt_jwks_key {
	char kid[RCPT_KID_LEN + 1];
	uint8_t pub[RCPT_ED25519_PUB_LEN];
	char chain[65];
	enum rcpt_key_status status;
	char created[RCPT_TS_LEN + 1];
	char retired[RCPT_TS_LEN + 1]; /* "" when absent */
	char revoked[RCPT_TS_LEN + 1]; /* "" when absent */
};

/** A parsed JWK Set; free with rcpt_jwks_free(). */
struct rcpt_jwks {
	struct rcpt_jwks_key *keys;
	size_t n;
};

/**
 * Parses a JWK Set text (SPEC 3): every member of every entry checked,
 * each kid recomputed, duplicate kids and a second active key for one
 * chain refused.  The top level must be exactly {"keys":[...]}; an empty
 * array is accepted.
 * @param[out] out caller frees with rcpt_jwks_free().
 * @return RCPT_OK, RCPT_E_PARSE, RCPT_E_INVAL (diag names the entry and
 * member), RCPT_E_NOMEM.
 */
int rcpt_jwks_parse(const char *text, size_t len, struct rcpt_jwks **out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Finds @p kid; NULL when absent.  Borrowed from @p set. */
const struct rcpt_jwks_key *rcpt_jwks_find(
    const struct rcpt_jwks *set, const char *kid);

/**
 * Serializes @p set as JCS {"keys":[...]} (SPEC 3), entries in order.
 * Each entry must pass the checks rcpt_jwks_parse() makes on one entry
 * (its kid is recomputed from pub); duplicates are not looked for.
 * @param[out] out NUL-terminated; caller frees with free().
 * @return RCPT_OK, RCPT_E_INVAL (an entry breaks a rule), RCPT_E_NOMEM,
 * RCPT_E_TOO_LARGE.
 */
int rcpt_jwks_serialize(
    const struct rcpt_jwks *set, char **out, size_t *len_out) RCPT_MUST_CHECK;

/** Accepts NULL. */
void rcpt_jwks_free(struct rcpt_jwks *set);

#endif
