/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OKP JWKs, RFC 7638 key ids and JWK Sets (SPEC 3).
 *
 * Every value this module writes is ASCII that JCS leaves unescaped
 * (base64url, chain names, TS, fixed words), so canonical text is put
 * together directly in JCS member order instead of going through a
 * json-c tree.  Parsing is strict: each member is required, typed and
 * checked, unknown members are refused, and every kid is recomputed.
 * The module does not decide whether a key may be trusted: status
 * members are reported as read (SPEC 8).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "encode.h"
#include "json.h"
#include "jwk.h"
#include "mem.h"
#include "receipt.h"

#define X_LEN RCPT_B64URL_LEN(RCPT_ED25519_PUB_LEN) /* 43 */

/* Members of a JWK Set entry, in JCS order. */
static const char *const entry_members[] = {"alg", "chain", "created", "crv",
    "kid", "kty", "retired", "revoked", "status", "use", "x"};

static const char *const status_names[] = {
    [RCPT_KEY_ACTIVE] = "active",
    [RCPT_KEY_RETIRED] = "retired",
    [RCPT_KEY_REVOKED] = "revoked",
};

int
rcpt_jwk_kid(
    const uint8_t pub[RCPT_ED25519_PUB_LEN], char kid_out[RCPT_KID_LEN + 1])
{
	/* JCS of {"crv","kty","x"} is fixed apart from x. */
	char text[sizeof("{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"\"}") +
	          X_LEN];
	char x[X_LEN + 1];
	uint8_t digest[SHA256_DIGEST_LENGTH];
	int n;

	rcpt_b64url_encode(pub, RCPT_ED25519_PUB_LEN, x);
	n = snprintf(text, sizeof(text),
	    "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
	if (n < 0 || (size_t)n >= sizeof(text)) {
		kid_out[0] = '\0';
		return RCPT_E_INTERNAL;
	}
	SHA256((const unsigned char *)text, (size_t)n, digest);
	rcpt_b64url_encode(digest, sizeof(digest), kid_out);
	return RCPT_OK;
}

int
rcpt_jwk_from_public(const uint8_t pub[RCPT_ED25519_PUB_LEN], json_object **out)
{
	json_object *o = NULL;
	char x[X_LEN + 1];
	int r = RCPT_E_NOMEM;

	*out = NULL;
	rcpt_b64url_encode(pub, RCPT_ED25519_PUB_LEN, x);
	if ((o = json_object_new_object()) == NULL ||
	    (r = rcpt_json_add(o, "crv", json_object_new_string("Ed25519"))) !=
	        RCPT_OK ||
	    (r = rcpt_json_add(o, "kty", json_object_new_string("OKP"))) !=
	        RCPT_OK ||
	    (r = rcpt_json_add(o, "x", json_object_new_string(x))) != RCPT_OK)
		goto out;
	*out = o;
	o = NULL;
	r = RCPT_OK;
out:
	json_object_put(o);
	return r;
}

/*
 * A member name fit to quote in a message: short and plain.  Anything
 * else is described rather than echoed.
 */
static const char *
printable_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 32)
		return "(unnamed)";
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return "(unprintable name)";
	}
	return name;
}

/* Returns the string member @p name of @p o, or NULL with a diag. */
static const char *
get_string(const json_object *o, const char *path, const char *name,
    size_t *len_out, struct rcpt_diag *diag)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, name, &v)) {
		rcpt_diag(
		    diag, RCPT_E_INVAL, "%s.%s: member missing", path, name);
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		rcpt_diag(
		    diag, RCPT_E_INVAL, "%s.%s: must be a string", path, name);
		return NULL;
	}
	*len_out = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

static int
expect_string(const json_object *o, const char *path, const char *name,
    const char *want, struct rcpt_diag *diag)
{
	const char *s;
	size_t len;

	if ((s = get_string(o, path, name, &len, diag)) == NULL)
		return RCPT_E_INVAL;
	if (len != strlen(want) || memcmp(s, want, len) != 0)
		return rcpt_diag(diag, RCPT_E_INVAL, "%s.%s: must be \"%s\"",
		    path, name, want);
	return RCPT_OK;
}

/* Reads crv, kty and x, which a JWK and a JWK Set entry share. */
static int
parse_okp(const json_object *o, const char *path,
    uint8_t pub_out[RCPT_ED25519_PUB_LEN], struct rcpt_diag *diag)
{
	const char *x;
	size_t len;
	int r;

	if ((r = expect_string(o, path, "crv", "Ed25519", diag)) != RCPT_OK ||
	    (r = expect_string(o, path, "kty", "OKP", diag)) != RCPT_OK)
		return r;
	if ((x = get_string(o, path, "x", &len, diag)) == NULL)
		return RCPT_E_INVAL;
	if (rcpt_b64url_decode(x, len, pub_out, RCPT_ED25519_PUB_LEN) !=
	    RCPT_OK)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "%s.x: must be canonical base64url of 32 bytes", path);
	if (!rcpt_ed25519_pub_is_acceptable(pub_out))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "%s.x: not an acceptable Ed25519 public key", path);
	return RCPT_OK;
}

/* Refuses members of @p o not in @p allowed (@p n names). */
static int
check_members(const json_object *o, const char *path,
    const char *const *allowed, size_t n, struct rcpt_diag *diag)
{
	size_t i;

	json_object_object_foreach((json_object *)o, name, val)
	{
		(void)val;
		for (i = 0; i < n; i++)
			if (strcmp(name, allowed[i]) == 0)
				break;
		if (i == n)
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "%s.%s: member not allowed", path,
			    printable_name(name));
	}
	return RCPT_OK;
}

int
rcpt_jwk_parse_strict(const json_object *jwk, const char *path,
    uint8_t pub_out[RCPT_ED25519_PUB_LEN], struct rcpt_diag *diag)
{
	static const char *const allowed[] = {"crv", "kty", "x"};
	int r;

	memset(pub_out, 0, RCPT_ED25519_PUB_LEN);
	if (path == NULL || *path == '\0')
		path = "$";
	if (jwk == NULL || !json_object_is_type(jwk, json_type_object))
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "%s: must be an object", path);
	if ((r = check_members(jwk, path, allowed, 3, diag)) != RCPT_OK ||
	    (r = parse_okp(jwk, path, pub_out, diag)) != RCPT_OK) {
		memset(pub_out, 0, RCPT_ED25519_PUB_LEN);
		return r;
	}
	return RCPT_OK;
}

/* Copies an optional TS member into @p dst ("" when absent). */
static int
get_ts(const json_object *o, const char *path, const char *name, int required,
    char dst[RCPT_TS_LEN + 1], struct rcpt_diag *diag)
{
	const char *s;
	size_t len;

	dst[0] = '\0';
	if (!required && !json_object_object_get_ex(o, name, NULL))
		return RCPT_OK;
	if ((s = get_string(o, path, name, &len, diag)) == NULL)
		return RCPT_E_INVAL;
	if (len != RCPT_TS_LEN || !rcpt_ts_is_valid(s, len))
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "%s.%s: not a valid TS", path, name);
	memcpy(dst, s, RCPT_TS_LEN + 1);
	return RCPT_OK;
}

static int
parse_status(const json_object *o, const char *path, enum rcpt_key_status *out,
    struct rcpt_diag *diag)
{
	const char *s;
	size_t len, i;

	if ((s = get_string(o, path, "status", &len, diag)) == NULL)
		return RCPT_E_INVAL;
	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		if (len == strlen(status_names[i]) &&
		    memcmp(s, status_names[i], len) == 0) {
			*out = (enum rcpt_key_status)i;
			return RCPT_OK;
		}
	}
	return rcpt_diag(diag, RCPT_E_INVAL,
	    "%s.status: must be \"active\", \"retired\" or \"revoked\"", path);
}

/* A retired key says when; a revoked one says when; an active neither. */
static int
check_status_times(
    const struct rcpt_jwks_key *k, const char *path, struct rcpt_diag *diag)
{
	switch (k->status) {
	case RCPT_KEY_ACTIVE:
		if (k->retired[0] != '\0')
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "%s.retired: not allowed for an active key", path);
		if (k->revoked[0] != '\0')
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "%s.revoked: not allowed for an active key", path);
		break;
	case RCPT_KEY_RETIRED:
		if (k->retired[0] == '\0')
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "%s.retired: required for a retired key", path);
		if (k->revoked[0] != '\0')
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "%s.revoked: not allowed for a retired key", path);
		break;
	case RCPT_KEY_REVOKED:
		if (k->revoked[0] == '\0')
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "%s.revoked: required for a revoked key", path);
		break;
	}
	return RCPT_OK;
}

static int
parse_entry(const json_object *o, const char *path, struct rcpt_jwks_key *k,
    struct rcpt_diag *diag)
{
	char kid[RCPT_KID_LEN + 1];
	const char *s;
	size_t len;
	int r;

	memset(k, 0, sizeof(*k));
	if (!json_object_is_type(o, json_type_object))
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "%s: must be an object", path);
	if ((r = check_members(o, path, entry_members,
	         sizeof(entry_members) / sizeof(entry_members[0]), diag)) !=
	    RCPT_OK)
		return r;
	if ((r = parse_okp(o, path, k->pub, diag)) != RCPT_OK ||
	    (r = expect_string(o, path, "use", "sig", diag)) != RCPT_OK ||
	    (r = expect_string(o, path, "alg", "EdDSA", diag)) != RCPT_OK)
		return r;
	if ((s = get_string(o, path, "kid", &len, diag)) == NULL)
		return RCPT_E_INVAL;
	if ((r = rcpt_jwk_kid(k->pub, kid)) != RCPT_OK)
		return r;
	if (len != RCPT_KID_LEN || memcmp(s, kid, RCPT_KID_LEN) != 0)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "%s.kid: does not match the thumbprint of x", path);
	memcpy(k->kid, kid, sizeof(kid));
	if ((s = get_string(o, path, "chain", &len, diag)) == NULL)
		return RCPT_E_INVAL;
	if (!rcpt_receipt_chain_is_valid_len(s, len))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "%s.chain: must match ^[a-z0-9][a-z0-9._-]{0,63}$", path);
	memcpy(k->chain, s, len + 1);
	if ((r = parse_status(o, path, &k->status, diag)) != RCPT_OK ||
	    (r = get_ts(o, path, "created", 1, k->created, diag)) != RCPT_OK ||
	    (r = get_ts(o, path, "retired", 0, k->retired, diag)) != RCPT_OK ||
	    (r = get_ts(o, path, "revoked", 0, k->revoked, diag)) != RCPT_OK)
		return r;
	return check_status_times(k, path, diag);
}

/* Refuses a kid seen before and a second active key for one chain. */
static int
check_unique(
    const struct rcpt_jwks *set, const char *path, struct rcpt_diag *diag)
{
	const struct rcpt_jwks_key *k = &set->keys[set->n];
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (strcmp(set->keys[i].kid, k->kid) == 0)
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "%s.kid: duplicate of keys[%zu].kid", path, i);
		if (k->status == RCPT_KEY_ACTIVE &&
		    set->keys[i].status == RCPT_KEY_ACTIVE &&
		    strcmp(set->keys[i].chain, k->chain) == 0)
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "%s.status: second active key for its chain "
			    "(keys[%zu])",
			    path, i);
	}
	return RCPT_OK;
}

int
rcpt_jwks_parse(const char *text, size_t len, struct rcpt_jwks **out,
    struct rcpt_diag *diag)
{
	static const char *const top[] = {"keys"};
	json_object *root = NULL, *keys = NULL;
	struct rcpt_jwks *set = NULL;
	char path[32];
	size_t i, n;
	int r;

	*out = NULL;
	if (text == NULL)
		return RCPT_E_INVAL;
	if ((r = rcpt_json_parse(text, len, RCPT_JSON_DEPTH_DEFAULT, NULL,
	         &root, diag)) != RCPT_OK)
		goto out;
	r = RCPT_E_INVAL;
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		rcpt_diag(diag, r, "$: a JWK Set must be an object");
		goto out;
	}
	if ((r = check_members(root, "$", top, 1, diag)) != RCPT_OK)
		goto out;
	r = RCPT_E_INVAL;
	if (!json_object_object_get_ex(root, "keys", &keys)) {
		rcpt_diag(diag, r, "$.keys: member missing");
		goto out;
	}
	if (!json_object_is_type(keys, json_type_array)) {
		rcpt_diag(diag, r, "$.keys: must be an array");
		goto out;
	}
	n = json_object_array_length(keys);
	r = RCPT_E_NOMEM;
	if ((set = rcpt_calloc(1, sizeof(*set))) == NULL ||
	    (set->keys = rcpt_calloc(n, sizeof(*set->keys))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "keys[%zu]", i);
		if ((r = parse_entry(json_object_array_get_idx(keys, i), path,
		         &set->keys[i], diag)) != RCPT_OK ||
		    (r = check_unique(set, path, diag)) != RCPT_OK)
			goto out;
		set->n++;
	}
	*out = set;
	set = NULL;
	r = RCPT_OK;
out:
	rcpt_jwks_free(set);
	json_object_put(root);
	return r;
}

const struct rcpt_jwks_key *
rcpt_jwks_find(const struct rcpt_jwks *set, const char *kid)
{
	size_t i;

	if (set == NULL || kid == NULL)
		return NULL;
	for (i = 0; i < set->n; i++)
		if (strcmp(set->keys[i].kid, kid) == 0)
			return &set->keys[i];
	return NULL;
}

/* Longest JCS of one entry, with both optional TS members. */
#define ENTRY_MAX 400

/* Appends the JCS of @p k at @p p; returns the length or -1. */
static int
format_entry(const struct rcpt_jwks_key *k, char *p, size_t cap)
{
	char x[X_LEN + 1], kid[RCPT_KID_LEN + 1];
	char retired[sizeof(",\"retired\":\"\"") + RCPT_TS_LEN] = "";
	char revoked[sizeof(",\"revoked\":\"\"") + RCPT_TS_LEN] = "";
	size_t clen = strnlen(k->chain, sizeof(k->chain));
	int n;

	if ((unsigned)k->status > RCPT_KEY_REVOKED ||
	    !rcpt_receipt_chain_is_valid_len(k->chain, clen) ||
	    clen == sizeof(k->chain) ||
	    !rcpt_ts_is_valid(k->created, strnlen(k->created, RCPT_TS_LEN + 1)))
		return -1;
	if (rcpt_jwk_kid(k->pub, kid) != RCPT_OK ||
	    strncmp(kid, k->kid, sizeof(kid)) != 0 ||
	    check_status_times(k, "", NULL) != RCPT_OK)
		return -1;
	if (k->retired[0] != '\0') {
		if (!rcpt_ts_is_valid(
		        k->retired, strnlen(k->retired, RCPT_TS_LEN + 1)))
			return -1;
		snprintf(retired, sizeof(retired), ",\"retired\":\"%s\"",
		    k->retired);
	}
	if (k->revoked[0] != '\0') {
		if (!rcpt_ts_is_valid(
		        k->revoked, strnlen(k->revoked, RCPT_TS_LEN + 1)))
			return -1;
		snprintf(revoked, sizeof(revoked), ",\"revoked\":\"%s\"",
		    k->revoked);
	}
	rcpt_b64url_encode(k->pub, RCPT_ED25519_PUB_LEN, x);
	n = snprintf(p, cap,
	    "{\"alg\":\"EdDSA\",\"chain\":\"%s\",\"created\":\"%s\","
	    "\"crv\":\"Ed25519\",\"kid\":\"%s\",\"kty\":\"OKP\"%s%s,"
	    "\"status\":\"%s\",\"use\":\"sig\",\"x\":\"%s\"}",
	    k->chain, k->created, kid, retired, revoked,
	    status_names[k->status], x);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	return n;
}

int
rcpt_jwks_serialize(const struct rcpt_jwks *set, char **out, size_t *len_out)
{
	char *buf = NULL;
	size_t cap, len, i;
	int n, r = RCPT_E_INVAL;

	*out = NULL;
	*len_out = 0;
	if (set == NULL || (set->n > 0 && set->keys == NULL))
		return RCPT_E_INVAL;
	if (set->n > (SIZE_MAX - 16) / (ENTRY_MAX + 1))
		return RCPT_E_TOO_LARGE;
	cap = set->n * (ENTRY_MAX + 1) + 16;
	if ((buf = rcpt_malloc(cap)) == NULL)
		return RCPT_E_NOMEM;
	len = (size_t)snprintf(buf, cap, "{\"keys\":[");
	for (i = 0; i < set->n; i++) {
		if (i > 0)
			buf[len++] = ',';
		if ((n = format_entry(&set->keys[i], buf + len, cap - len)) < 0)
			goto out;
		len += (size_t)n;
	}
	memcpy(buf + len, "]}", 3);
	len += 2;
	*out = buf;
	*len_out = len;
	buf = NULL;
	r = RCPT_OK;
out:
	free(buf);
	return r;
}

void
rcpt_jwks_free(struct rcpt_jwks *set)
{
	if (set == NULL)
		return;
	free(set->keys);
	free(set);
}
