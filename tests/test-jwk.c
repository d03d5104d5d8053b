/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JWKs, key ids and JWK Sets (SPEC 3): the SPEC's example kid, strict
 * JWK refusals naming the member, JWK Set rules, and a byte-exact
 * parse/serialize round trip.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "jcs.h"
#include "json.h"
#include "jwk.h"
#include "mem.h"
#include "testlib.h"

/* RFC 8032 7.1 TEST 1 and TEST 2 public keys. */
static const char *pub1_hex =
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char *pub2_hex =
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c";
static const char *x1 = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
static const char *kid1 = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

static void
pub_of(const char *hex, uint8_t pub[32])
{
	CU_ASSERT_FATAL(rcpt_hex_decode(hex, 64, pub, 32) == RCPT_OK);
}

static void
test_spec_example_kid(void)
{
	uint8_t pub[32];
	char kid[RCPT_KID_LEN + 1], x[44];

	pub_of(pub1_hex, pub);
	rcpt_b64url_encode(pub, 32, x);
	CU_ASSERT_STRING_EQUAL(x, x1);
	CU_ASSERT_EQUAL(rcpt_jwk_kid(pub, kid), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(kid, kid1);
	CU_ASSERT_EQUAL(strlen(kid), RCPT_KID_LEN);
}

static void
test_from_public_round_trip(void)
{
	uint8_t pub[32], back[32];
	json_object *jwk = NULL;
	char want[128];

	pub_of(pub1_hex, pub);
	CU_ASSERT_EQUAL_FATAL(rcpt_jwk_from_public(pub, &jwk), RCPT_OK);
	snprintf(want, sizeof(want),
	    "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x1);
	CU_ASSERT_STRING_EQUAL(
	    json_object_to_json_string_ext(jwk, JSON_C_TO_STRING_PLAIN), want);
	CU_ASSERT_EQUAL(
	    rcpt_jwk_parse_strict(jwk, "receipt.data.jwk", back, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(pub, back, 32), 0);
	json_object_put(jwk);
}

/* Parses @p text and expects rcpt_jwk_parse_strict to give @p want. */
static void
check_jwk(const char *text, int want, const char *needle)
{
	json_object *o = NULL;
	struct rcpt_diag d;
	uint8_t pub[32];
	int r;

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_json_parse(text, strlen(text), 64, NULL, &o, NULL), RCPT_OK);
	r = rcpt_jwk_parse_strict(o, "data.jwk", pub, &d);
	CU_ASSERT_EQUAL(r, want);
	if (r != want)
		fprintf(stderr, "jwk %s: got %d (%s)\n", text, r,
		    rcpt_diag_msg(&d, r));
	if (needle != NULL) {
		CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, needle));
		if (strstr(d.msg, needle) == NULL)
			fprintf(stderr, "diag \"%s\" lacks \"%s\"\n", d.msg,
			    needle);
	}
	json_object_put(o);
}

static void
test_strict_jwk_refusals(void)
{
	check_jwk("{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
	          "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
	    RCPT_OK, NULL);
	/* A fourth member, even a legitimate JWK one. */
	check_jwk("{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"use\":\"sig\","
	          "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
	    RCPT_E_INVAL, "data.jwk.use");
	check_jwk("{\"crv\":\"Ed25519\",\"kty\":\"OKP\"}", RCPT_E_INVAL,
	    "data.jwk.x");
	check_jwk("{\"kty\":\"OKP\","
	          "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
	    RCPT_E_INVAL, "data.jwk.crv");
	check_jwk("{\"crv\":\"X25519\",\"kty\":\"OKP\","
	          "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
	    RCPT_E_INVAL, "data.jwk.crv");
	check_jwk("{\"crv\":\"Ed25519\",\"kty\":\"EC\","
	          "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
	    RCPT_E_INVAL, "data.jwk.kty");
	check_jwk("{\"crv\":\"Ed25519\",\"kty\":1,"
	          "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
	    RCPT_E_INVAL, "data.jwk.kty");
	check_jwk("{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":7}", RCPT_E_INVAL,
	    "data.jwk.x");
	/* Padding, unused bits set, standard alphabet, short. */
	check_jwk("{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
	          "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo=\"}",
	    RCPT_E_INVAL, "data.jwk.x");
	check_jwk("{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
	          "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURp\"}",
	    RCPT_E_INVAL, "data.jwk.x");
	check_jwk("{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
	          "\"x\":\"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
	    RCPT_E_INVAL, "data.jwk.x");
	check_jwk("{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
	          "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHU\"}",
	    RCPT_E_INVAL, "data.jwk.x");
	/* The identity point: well encoded, but of small order. */
	check_jwk("{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
	          "\"x\":\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
	    RCPT_E_INVAL, "data.jwk.x");
	check_jwk("[1]", RCPT_E_INVAL, "data.jwk");
}

static void
test_strict_jwk_null(void)
{
	uint8_t pub[32];
	struct rcpt_diag d;

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_jwk_parse_strict(NULL, NULL, pub, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "$"));
}

/*
 * Builds one canonical entry for the key @p hex.  @p kid NULL means the
 * right kid; @p retired / @p revoked NULL leave the member out.
 */
static void
entry(char *out, size_t cap, const char *hex, const char *kid,
    const char *chain, const char *status, const char *retired,
    const char *revoked)
{
	uint8_t pub[32];
	char x[44], k[RCPT_KID_LEN + 1], rt[64] = "", rv[64] = "";

	pub_of(hex, pub);
	rcpt_b64url_encode(pub, 32, x);
	CU_ASSERT_FATAL(rcpt_jwk_kid(pub, k) == RCPT_OK);
	if (retired != NULL)
		snprintf(rt, sizeof(rt), ",\"retired\":\"%s\"", retired);
	if (revoked != NULL)
		snprintf(rv, sizeof(rv), ",\"revoked\":\"%s\"", revoked);
	snprintf(out, cap,
	    "{\"alg\":\"EdDSA\",\"chain\":\"%s\","
	    "\"created\":\"2025-01-02T03:04:05.678Z\",\"crv\":\"Ed25519\","
	    "\"kid\":\"%s\",\"kty\":\"OKP\"%s%s,\"status\":\"%s\","
	    "\"use\":\"sig\",\"x\":\"%s\"}",
	    chain, kid != NULL ? kid : k, rt, rv, status, x);
}

static void
test_jwks_round_trip(void)
{
	char e1[512], e2[512], e3[512], text[2048];
	struct rcpt_jwks *set = NULL, *again = NULL;
	const struct rcpt_jwks_key *k;
	struct rcpt_diag d;
	char *ser = NULL, *ser2 = NULL;
	size_t len = 0, len2 = 0;
	uint8_t pub[32];

	entry(e1, sizeof(e1), pub1_hex, NULL, "main", "retired",
	    "2025-02-01T00:00:00.000Z", NULL);
	entry(e2, sizeof(e2), pub2_hex, NULL, "main", "active", NULL, NULL);
	entry(e3, sizeof(e3),
	    "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
	    NULL, "audit.v2", "revoked", "2025-03-01T00:00:00.000Z",
	    "2025-04-01T00:00:00.000Z");
	snprintf(text, sizeof(text), "{\"keys\":[%s,%s,%s]}", e1, e2, e3);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_jwks_parse(text, strlen(text), &set, &d), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(set->n, 3);
	k = rcpt_jwks_find(set, kid1);
	CU_ASSERT_PTR_EQUAL(k, &set->keys[0]);
	pub_of(pub1_hex, pub);
	CU_ASSERT_EQUAL(memcmp(set->keys[0].pub, pub, 32), 0);
	CU_ASSERT_STRING_EQUAL(set->keys[0].chain, "main");
	CU_ASSERT_EQUAL(set->keys[0].status, RCPT_KEY_RETIRED);
	CU_ASSERT_STRING_EQUAL(
	    set->keys[0].created, "2025-01-02T03:04:05.678Z");
	CU_ASSERT_STRING_EQUAL(
	    set->keys[0].retired, "2025-02-01T00:00:00.000Z");
	CU_ASSERT_STRING_EQUAL(set->keys[0].revoked, "");
	CU_ASSERT_EQUAL(set->keys[1].status, RCPT_KEY_ACTIVE);
	CU_ASSERT_EQUAL(set->keys[2].status, RCPT_KEY_REVOKED);
	CU_ASSERT_STRING_EQUAL(set->keys[2].chain, "audit.v2");
	CU_ASSERT_STRING_EQUAL(
	    set->keys[2].revoked, "2025-04-01T00:00:00.000Z");
	CU_ASSERT_PTR_NULL(rcpt_jwks_find(set, "nope"));
	CU_ASSERT_PTR_NULL(rcpt_jwks_find(NULL, kid1));

	CU_ASSERT_EQUAL_FATAL(rcpt_jwks_serialize(set, &ser, &len), RCPT_OK);
	CU_ASSERT_EQUAL(len, strlen(text));
	CU_ASSERT_STRING_EQUAL(ser, text);
	/* The general canonicalizer agrees that the text is JCS. */
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_jcs_canon(ser, len, 64, &ser2, &len2, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(len2, len);
	CU_ASSERT_STRING_EQUAL(ser2, ser);
	free(ser2);
	ser2 = NULL;
	CU_ASSERT_EQUAL(rcpt_jwks_parse(ser, len, &again, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_jwks_serialize(again, &ser2, &len2), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(ser2, text);
	free(ser);
	free(ser2);
	rcpt_jwks_free(again);
	rcpt_jwks_free(set);
	rcpt_jwks_free(NULL);
}

static void
test_jwks_canonicalizes(void)
{
	uint8_t pub[32];
	char kid[RCPT_KID_LEN + 1], x[44], text[1024], want[1024];
	struct rcpt_jwks *set = NULL;
	char *ser = NULL;
	size_t len;

	pub_of(pub2_hex, pub);
	CU_ASSERT_FATAL(rcpt_jwk_kid(pub, kid) == RCPT_OK);
	rcpt_b64url_encode(pub, 32, x);
	/* Members out of order, with white space. */
	snprintf(text, sizeof(text),
	    " { \"keys\" : [ { \"x\" : \"%s\", \"use\":\"sig\", "
	    "\"status\":\"active\", \"kty\":\"OKP\", \"kid\":\"%s\", "
	    "\"crv\":\"Ed25519\", \"created\":\"2024-12-31T23:59:59.999Z\", "
	    "\"chain\":\"a\", \"alg\":\"EdDSA\" } ] }\n",
	    x, kid);
	entry(want, sizeof(want), pub2_hex, NULL, "a", "active", NULL, NULL);
	/* entry() fixes created; patch the expected text to match. */
	memcpy(strstr(want, "2025-01-02T03:04:05.678Z"),
	    "2024-12-31T23:59:59.999Z", 24);
	memmove(want + 9, want, strlen(want) + 1);
	memcpy(want, "{\"keys\":[", 9);
	strcat(want, "]}");
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_jwks_parse(text, strlen(text), &set, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_jwks_serialize(set, &ser, &len), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(ser, want);
	free(ser);
	rcpt_jwks_free(set);
}

static void
test_jwks_empty(void)
{
	struct rcpt_jwks *set = NULL;
	char *ser = NULL;
	size_t len;

	CU_ASSERT_EQUAL_FATAL(
	    rcpt_jwks_parse("{\"keys\":[]}", 11, &set, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(set->n, 0);
	CU_ASSERT_EQUAL_FATAL(rcpt_jwks_serialize(set, &ser, &len), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(ser, "{\"keys\":[]}");
	CU_ASSERT_EQUAL(len, 11);
	free(ser);
	rcpt_jwks_free(set);
}

/* Expects @p text to be refused with @p want and @p needle in the diag. */
static void
check_jwks(const char *text, int want, const char *needle)
{
	struct rcpt_jwks *set = (struct rcpt_jwks *)&set;
	struct rcpt_diag d;
	int r;

	rcpt_diag_clear(&d);
	r = rcpt_jwks_parse(text, strlen(text), &set, &d);
	CU_ASSERT_EQUAL(r, want);
	CU_ASSERT(r == RCPT_OK ? set != NULL : set == NULL);
	if (r != want)
		fprintf(stderr, "jwks: got %d (%s) for %s\n", r,
		    rcpt_diag_msg(&d, r), text);
	if (needle != NULL) {
		CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, needle));
		if (strstr(d.msg, needle) == NULL)
			fprintf(stderr, "diag \"%s\" lacks \"%s\"\n", d.msg,
			    needle);
	}
	if (r == RCPT_OK)
		rcpt_jwks_free(set);
}

/* One-entry set from entry() with @p extra spliced before the final }. */
static void
check_one(const char *chain, const char *status, const char *retired,
    const char *revoked, const char *kid, const char *extra, int want,
    const char *needle)
{
	char e[1024], text[1200];
	size_t n;

	entry(e, sizeof(e), pub1_hex, kid, chain, status, retired, revoked);
	if (extra != NULL) {
		n = strlen(e);
		snprintf(e + n - 1, sizeof(e) - n + 1, ",%s}", extra);
	}
	snprintf(text, sizeof(text), "{\"keys\":[%s]}", e);
	check_jwks(text, want, needle);
}

static void
test_jwks_entry_refusals(void)
{
	const char *t = "2025-02-01T00:00:00.000Z";

	check_one("main", "active", NULL, NULL, NULL, NULL, RCPT_OK, NULL);
	check_one("main", "active", NULL, NULL, NULL, "\"foo\":1", RCPT_E_INVAL,
	    "keys[0].foo");
	check_one("main", "active", NULL, NULL, NULL, "\"d\":\"secret\"",
	    RCPT_E_INVAL, "keys[0].d");
	/* Kid of another key. */
	check_one("main", "active", NULL, NULL,
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL, RCPT_E_INVAL,
	    "keys[0].kid");
	check_one("main", "active", NULL, NULL, "short", NULL, RCPT_E_INVAL,
	    "keys[0].kid");
	check_one("Main", "active", NULL, NULL, NULL, NULL, RCPT_E_INVAL,
	    "keys[0].chain");
	check_one("-main", "active", NULL, NULL, NULL, NULL, RCPT_E_INVAL,
	    "keys[0].chain");
	check_one("", "active", NULL, NULL, NULL, NULL, RCPT_E_INVAL,
	    "keys[0].chain");
	check_one(
	    "a234567890123456789012345678901234567890123456789012345678901"
	    "234",
	    "active", NULL, NULL, NULL, NULL, RCPT_OK, NULL);
	check_one(
	    "a234567890123456789012345678901234567890123456789012345678901"
	    "2345",
	    "active", NULL, NULL, NULL, NULL, RCPT_E_INVAL, "keys[0].chain");
	check_one("main", "expired", NULL, NULL, NULL, NULL, RCPT_E_INVAL,
	    "keys[0].status");
	check_one("main", "retired", NULL, NULL, NULL, NULL, RCPT_E_INVAL,
	    "keys[0].retired");
	check_one("main", "retired", t, t, NULL, NULL, RCPT_E_INVAL,
	    "keys[0].revoked");
	check_one("main", "revoked", NULL, NULL, NULL, NULL, RCPT_E_INVAL,
	    "keys[0].revoked");
	check_one("main", "revoked", NULL, t, NULL, NULL, RCPT_OK, NULL);
	check_one("main", "active", t, NULL, NULL, NULL, RCPT_E_INVAL,
	    "keys[0].retired");
	check_one("main", "active", NULL, t, NULL, NULL, RCPT_E_INVAL,
	    "keys[0].revoked");
	check_one("main", "retired", "2025-02-30T00:00:00.000Z", NULL, NULL,
	    NULL, RCPT_E_INVAL, "keys[0].retired");
	check_one("main", "revoked", NULL, "2025-02-01T00:00:00Z", NULL, NULL,
	    RCPT_E_INVAL, "keys[0].revoked");
	check_jwks("{\"keys\":[{\"alg\":\"EdDSA\",\"chain\":\"main\","
	           "\"created\":\"yesterday\",\"crv\":\"Ed25519\","
	           "\"kid\":\"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k\","
	           "\"kty\":\"OKP\",\"status\":\"active\",\"use\":\"sig\","
	           "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
	    RCPT_E_INVAL, "keys[0].created");
	check_jwks(
	    "{\"keys\":[{\"alg\":\"EdDSA\",\"chain\":\"main\","
	    "\"created\":\"2025-01-02T03:04:05.678Z\",\"crv\":\"Ed25519\","
	    "\"kid\":\"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k\","
	    "\"kty\":\"OKP\",\"status\":\"active\",\"use\":\"enc\","
	    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
	    RCPT_E_INVAL, "keys[0].use");
	check_jwks(
	    "{\"keys\":[{\"alg\":\"ES256\",\"chain\":\"main\","
	    "\"created\":\"2025-01-02T03:04:05.678Z\",\"crv\":\"Ed25519\","
	    "\"kid\":\"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k\","
	    "\"kty\":\"OKP\",\"status\":\"active\",\"use\":\"sig\","
	    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
	    RCPT_E_INVAL, "keys[0].alg");
	/* Missing use. */
	check_jwks(
	    "{\"keys\":[{\"alg\":\"EdDSA\",\"chain\":\"main\","
	    "\"created\":\"2025-01-02T03:04:05.678Z\",\"crv\":\"Ed25519\","
	    "\"kid\":\"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k\","
	    "\"kty\":\"OKP\",\"status\":\"active\","
	    "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
	    RCPT_E_INVAL, "keys[0].use");
}

static void
test_jwks_set_refusals(void)
{
	char e1[512], e2[512], text[1200];

	entry(e1, sizeof(e1), pub1_hex, NULL, "main", "retired",
	    "2025-02-01T00:00:00.000Z", NULL);
	snprintf(text, sizeof(text), "{\"keys\":[%s,%s]}", e1, e1);
	check_jwks(text, RCPT_E_INVAL, "keys[1].kid");
	entry(e1, sizeof(e1), pub1_hex, NULL, "main", "active", NULL, NULL);
	entry(e2, sizeof(e2), pub2_hex, NULL, "main", "active", NULL, NULL);
	snprintf(text, sizeof(text), "{\"keys\":[%s,%s]}", e1, e2);
	check_jwks(text, RCPT_E_INVAL, "keys[1].status");
	entry(e2, sizeof(e2), pub2_hex, NULL, "other", "active", NULL, NULL);
	snprintf(text, sizeof(text), "{\"keys\":[%s,%s]}", e1, e2);
	check_jwks(text, RCPT_OK, NULL);

	check_jwks("not json", RCPT_E_PARSE, NULL);
	check_jwks("{\"keys\":[],\"keys\":[]}", RCPT_E_INVAL, NULL);
	check_jwks("[]", RCPT_E_INVAL, "$");
	check_jwks("null", RCPT_E_INVAL, "$");
	check_jwks("{}", RCPT_E_INVAL, "$.keys");
	check_jwks("{\"keys\":{}}", RCPT_E_INVAL, "$.keys");
	check_jwks("{\"keys\":[],\"other\":1}", RCPT_E_INVAL, "$.other");
	check_jwks("{\"keys\":[1]}", RCPT_E_INVAL, "keys[0]");
}

static void
test_jwks_serialize_refusals(void)
{
	char e1[512], text[700];
	struct rcpt_jwks *set = NULL;
	char *ser = (char *)&ser;
	size_t len = 1;

	entry(e1, sizeof(e1), pub1_hex, NULL, "main", "active", NULL, NULL);
	snprintf(text, sizeof(text), "{\"keys\":[%s]}", e1);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_jwks_parse(text, strlen(text), &set, NULL), RCPT_OK);
	set->keys[0].kid[0] ^= 1;
	CU_ASSERT_EQUAL(rcpt_jwks_serialize(set, &ser, &len), RCPT_E_INVAL);
	CU_ASSERT_PTR_NULL(ser);
	CU_ASSERT_EQUAL(len, 0);
	set->keys[0].kid[0] ^= 1;
	strcpy(set->keys[0].chain, "a\"b");
	CU_ASSERT_EQUAL(rcpt_jwks_serialize(set, &ser, &len), RCPT_E_INVAL);
	strcpy(set->keys[0].chain, "main");
	strcpy(set->keys[0].created, "now");
	CU_ASSERT_EQUAL(rcpt_jwks_serialize(set, &ser, &len), RCPT_E_INVAL);
	strcpy(set->keys[0].created, "2025-01-02T03:04:05.678Z");
	set->keys[0].status = RCPT_KEY_RETIRED;
	CU_ASSERT_EQUAL(rcpt_jwks_serialize(set, &ser, &len), RCPT_E_INVAL);
	set->keys[0].status = RCPT_KEY_ACTIVE;
	CU_ASSERT_EQUAL(rcpt_jwks_serialize(set, &ser, &len), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(ser, text);
	free(ser);
	CU_ASSERT_EQUAL(rcpt_jwks_serialize(NULL, &ser, &len), RCPT_E_INVAL);
	rcpt_jwks_free(set);
}

static void
test_jwks_out_of_memory(void)
{
	char e1[512], e2[512], text[1200];
	struct rcpt_jwks *set = NULL;
	char *ser = NULL;
	size_t len;
	long n;
	int r;

	entry(e1, sizeof(e1), pub1_hex, NULL, "main", "active", NULL, NULL);
	entry(e2, sizeof(e2), pub2_hex, NULL, "b", "active", NULL, NULL);
	snprintf(text, sizeof(text), "{\"keys\":[%s,%s]}", e1, e2);
	for (n = 0; n < 10000; n++) {
		rcpt_mem_fail_after(n);
		r = rcpt_jwks_parse(text, strlen(text), &set, NULL);
		rcpt_mem_fail_after(-1);
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL_FATAL(r, RCPT_E_NOMEM);
		CU_ASSERT_PTR_NULL(set);
	}
	CU_ASSERT_EQUAL_FATAL(r, RCPT_OK);
	rcpt_mem_fail_after(0);
	CU_ASSERT_EQUAL(rcpt_jwks_serialize(set, &ser, &len), RCPT_E_NOMEM);
	rcpt_mem_fail_after(-1);
	rcpt_jwks_free(set);
}

static CU_TestInfo jwk_tests[] = {
    {"SPEC 3 example kid", test_spec_example_kid},
    {"JWK from public key and back", test_from_public_round_trip},
    {"strict JWK refusals name the member", test_strict_jwk_refusals},
    {"strict JWK refuses NULL", test_strict_jwk_null},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo jwks_tests[] = {
    {"parse and serialize round trip", test_jwks_round_trip},
    {"serialize gives JCS", test_jwks_canonicalizes},
    {"empty set", test_jwks_empty},
    {"entry refusals", test_jwks_entry_refusals},
    {"set refusals: duplicate kid, two active keys, shape",
        test_jwks_set_refusals},
    {"serialize refuses bad entries", test_jwks_serialize_refusals},
    {"allocation failures", test_jwks_out_of_memory},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "jwk", .pTests = jwk_tests},
    {.pName = "jwks", .pTests = jwks_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return rcpt_test_run(suites);
}
