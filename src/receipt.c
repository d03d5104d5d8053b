/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Receipts (SPEC 1): the field rules, building a receipt from its
 * fields, hashing and signing it, writing the signed view and the stored
 * form as JCS, and parsing a stored line into struct rcpt_receipt.
 *
 * Parsing checks the line with the strict scanner (receipt-scan.c) and
 * then reads submitter, tags and data with the project's JSON parser
 * (json.c); strings and numbers are escaped and printed by jcs.c.  This
 * file deliberately has no JSON reader or writer of its own, and knows
 * nothing of chains: seq order, links and keys are verify.c's business.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/sha.h>

#include "encode.h"
#include "jcs.h"
#include "json.h"
#include "mem.h"
#include "receipt.h"
#include "utf8.h"

int
rcpt_receipt_chain_is_valid_len(const char *c, size_t n)
{
	size_t i;

	if (n < 1 || n > RCPT_CHAIN_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		int ok = (c[i] >= 'a' && c[i] <= 'z') ||
		         (c[i] >= '0' && c[i] <= '9') ||
		         (i > 0 && (c[i] == '.' || c[i] == '_' || c[i] == '-'));
		if (!ok)
			return 0;
	}
	return 1;
}

int
rcpt_receipt_type_is_valid_len(const char *t, size_t n)
{
	size_t i;

	if (n < 1 || n > RCPT_TYPE_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = t[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		        c == ':' || c == '-'))
			return 0;
	}
	return 1;
}

int
rcpt_receipt_chain_is_valid(const char *chain)
{
	return chain != NULL &&
	       rcpt_receipt_chain_is_valid_len(chain, strlen(chain));
}

int
rcpt_receipt_type_is_valid(const char *type)
{
	return type != NULL &&
	       rcpt_receipt_type_is_valid_len(type, strlen(type));
}

int
rcpt_receipt_type_is_reserved(const char *type)
{
	return type != NULL && strncasecmp(type, "receiptd.", 9) == 0;
}

int
rcpt_receipt_type_is_defined_reserved(const char *type, size_t len)
{
	static const char *const t[] = {
	    RCPT_GENESIS_TYPE, RCPT_ROTATION_TYPE, RCPT_REVOCATION_TYPE};
	size_t i;

	for (i = 0; i < 3; i++)
		if (len == strlen(t[i]) && memcmp(type, t[i], len) == 0)
			return 1;
	return 0;
}

void
rcpt_receipt_init(struct rcpt_receipt *r)
{
	memset(r, 0, sizeof(*r));
}

void
rcpt_receipt_clear(struct rcpt_receipt *r)
{
	json_object_put(r->tags);
	json_object_put(r->data);
	free(r->submitter);
	memset(r, 0, sizeof(*r));
}

/*
 * Appends C string @p s as a JCS string.  It goes through jcs.c so that
 * the escaping rules live in one place; the short-lived json-c string
 * costs one allocation on the write path, which signing dwarfs.
 */
static int
append_string(struct rcpt_buf *b, const char *s)
{
	json_object *o;
	int r;

	if ((o = json_object_new_string(s)) == NULL)
		return RCPT_E_NOMEM;
	r = rcpt_jcs_append(b, o, NULL);
	json_object_put(o);
	return r;
}

static int
append_member(
    struct rcpt_buf *b, const char *name, const char *text, size_t n, int quote)
{
	int r;

	if ((r = rcpt_buf_append(b, b->len > 1 ? ",\"" : "\"",
	         b->len > 1 ? 2 : 1)) != RCPT_OK ||
	    (r = rcpt_buf_append(b, name, strlen(name))) != RCPT_OK ||
	    (r = rcpt_buf_append(b, quote ? "\":\"" : "\":", quote ? 3 : 2)) !=
	        RCPT_OK ||
	    (r = rcpt_buf_append(b, text, n)) != RCPT_OK)
		return r;
	return quote ? rcpt_buf_append(b, "\"", 1) : RCPT_OK;
}

/* Writes the signed view (@p stored 0) or the stored receipt. */
static int
write_receipt(const struct rcpt_receipt *rc, int stored, struct rcpt_buf *b)
{
	char hex[2 * RCPT_ED25519_SIG_LEN + 1], num[24];
	int r, n;

	if ((r = rcpt_buf_append(b, "{", 1)) != RCPT_OK ||
	    (r = append_member(b, "chain", rc->chain, strlen(rc->chain), 1)) !=
	        RCPT_OK)
		return r;
	if (stored && rc->has_data) {
		if ((r = rcpt_buf_append(b, ",\"data\":", 8)) != RCPT_OK ||
		    (r = rcpt_jcs_append(b, rc->data, NULL)) != RCPT_OK)
			return r;
	}
	rcpt_hex_encode(rc->data_hash, RCPT_HASH_LEN, hex);
	if ((r = append_member(b, "data_hash", hex, 64, 1)) != RCPT_OK)
		return r;
	if (stored) {
		rcpt_hex_encode(rc->entry_hash, RCPT_HASH_LEN, hex);
		if ((r = append_member(b, "entry_hash", hex, 64, 1)) != RCPT_OK)
			return r;
	}
	rcpt_hex_encode(rc->prev_hash, RCPT_HASH_LEN, hex);
	if ((r = append_member(b, "kid", rc->kid, strlen(rc->kid), 1)) !=
	        RCPT_OK ||
	    (r = append_member(b, "prev_hash", hex, 64, 1)) != RCPT_OK)
		return r;
	if (stored && !rc->has_data &&
	    (r = append_member(b, "pruned_at", rc->pruned_at,
	         strlen(rc->pruned_at), 1)) != RCPT_OK)
		return r;
	n = snprintf(num, sizeof(num), "%llu", (unsigned long long)rc->seq);
	if ((r = append_member(b, "seq", num, (size_t)n, 0)) != RCPT_OK)
		return r;
	if (stored && rc->has_signature) {
		rcpt_hex_encode(rc->signature, RCPT_ED25519_SIG_LEN, hex);
		if ((r = append_member(b, "signature", hex, 128, 1)) != RCPT_OK)
			return r;
	}
	if ((r = rcpt_buf_append(b, ",\"submitter\":", 13)) != RCPT_OK ||
	    (r = append_string(b, rc->submitter)) != RCPT_OK ||
	    (r = rcpt_buf_append(b, ",\"tags\":", 8)) != RCPT_OK ||
	    (r = rc->tags == NULL
	             ? rcpt_buf_append(b, "[]", 2)
	             : rcpt_jcs_append(b, rc->tags, NULL)) != RCPT_OK ||
	    (r = append_member(b, "ts", rc->ts, strlen(rc->ts), 1)) !=
	        RCPT_OK ||
	    (r = append_member(b, "type", rc->type, strlen(rc->type), 1)) !=
	        RCPT_OK)
		return r;
	return rcpt_buf_append(b, ",\"v\":1}", 7);
}

/* write_receipt() into a new buffer that the caller frees. */
static int
write_new(const struct rcpt_receipt *r, int stored, char **out, size_t *len_out)
{
	struct rcpt_buf b = {0};
	int e;

	*out = NULL;
	if ((e = write_receipt(r, stored, &b)) != RCPT_OK) {
		rcpt_buf_clear(&b);
		return e;
	}
	*out = b.p;
	if (len_out != NULL)
		*len_out = b.len;
	return RCPT_OK;
}

int
rcpt_receipt_signed_view(
    const struct rcpt_receipt *r, char **out, size_t *len_out)
{
	return write_new(r, 0, out, len_out);
}

int
rcpt_receipt_serialize(
    const struct rcpt_receipt *r, char **out, size_t *len_out)
{
	return write_new(r, 1, out, len_out);
}

int
rcpt_receipt_entry_hash(
    const struct rcpt_receipt *r, uint8_t out[RCPT_HASH_LEN])
{
	struct rcpt_buf b = {0};
	int e;

	if ((e = write_receipt(r, 0, &b)) == RCPT_OK)
		SHA256((const unsigned char *)b.p, b.len, out);
	rcpt_buf_clear(&b);
	return e;
}

int
rcpt_receipt_sign(struct rcpt_receipt *r, const struct rcpt_signer *s)
{
	int e;

	if (s == NULL || s->sign == NULL || strcmp(s->kid, r->kid) != 0)
		return RCPT_E_INVAL;
	if ((e = s->sign(s->ctx, r->kid, r->entry_hash, r->signature)) !=
	    RCPT_OK)
		return e;
	r->has_signature = true;
	return RCPT_OK;
}

/*
 * Builds a json-c tree from text that is already canonical: JCS output
 * or a span of a scanned line.  JCS prints doubles such as 1e20 as
 * integers beyond 2^53, so those are allowed here (RCPT_JSON_BIG_INTS).
 */
static int
read_canonical(const char *text, size_t len, const char *path,
    json_object **out, struct rcpt_diag *diag)
{
	return rcpt_json_parse_ex(text, len, RCPT_JSON_DEPTH_MAX, path,
	    RCPT_JSON_BIG_INTS, out, diag);
}

/* 1 when UTF-8 text @p p holds U+0000-001F or U+007F-009F. */
static int
has_control(const char *p, size_t n)
{
	const uint8_t *u = (const uint8_t *)p;
	size_t i;

	for (i = 0; i < n; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return 1;
		if (u[i] == 0xc2 && i + 1 < n && u[i + 1] <= 0x9f)
			return 1;
	}
	return 0;
}

/* Makes a fresh array of fresh strings from @p tags after checking it. */
static int
copy_tags(const json_object *tags, json_object **out, struct rcpt_diag *d)
{
	json_object *a, *t, *c;
	size_t i, n, ncp;
	const char *p;
	int len;

	*out = NULL;
	if (tags != NULL && !json_object_is_type(tags, json_type_array))
		return rcpt_diag(d, RCPT_E_INVAL, "tags: must be an array");
	n = tags == NULL ? 0 : json_object_array_length(tags);
	if (n > RCPT_TAGS_MAX)
		return rcpt_diag(d, RCPT_E_INVAL, "tags: more than 32 items");
	if ((a = json_object_new_array()) == NULL)
		return RCPT_E_NOMEM;
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(tags, i);
		if (!json_object_is_type(t, json_type_string)) {
			json_object_put(a);
			return rcpt_diag(
			    d, RCPT_E_INVAL, "tags[%zu]: must be a string", i);
		}
		p = json_object_get_string(t);
		len = json_object_get_string_len(t);
		if (!rcpt_utf8_check(p, (size_t)len, &ncp) || ncp < 1 ||
		    ncp > RCPT_TAG_MAX || has_control(p, (size_t)len)) {
			json_object_put(a);
			return rcpt_diag(d, RCPT_E_INVAL,
			    "tags[%zu]: must be 1 to 128 code points of I-JSON "
			    "text without control characters",
			    i);
		}
		if ((c = json_object_new_string_len(p, len)) == NULL) {
			json_object_put(a);
			return RCPT_E_NOMEM;
		}
		if (json_object_array_add(a, c) != 0) { /* steals c if 0 */
			json_object_put(c);
			json_object_put(a);
			return RCPT_E_NOMEM;
		}
	}
	*out = a;
	return RCPT_OK;
}

static int
check_fields(const struct rcpt_receipt_fields *f, struct rcpt_diag *d)
{
	uint8_t raw[RCPT_HASH_LEN];
	size_t ncp;

	if (!rcpt_receipt_chain_is_valid(f->chain))
		return rcpt_diag(d, RCPT_E_INVAL,
		    "chain: must match ^[a-z0-9][a-z0-9._-]{0,63}$");
	if (f->seq > (UINT64_C(1) << 53))
		return rcpt_diag(d, RCPT_E_INVAL, "seq: above 2^53");
	if (f->ts == NULL || !rcpt_ts_is_valid(f->ts, strlen(f->ts)))
		return rcpt_diag(d, RCPT_E_INVAL, "ts: must be a TS");
	if (!rcpt_receipt_type_is_valid(f->type))
		return rcpt_diag(d, RCPT_E_INVAL,
		    "type: must be 1 to 128 characters of [A-Za-z0-9._:-]");
	if (f->submitter == NULL ||
	    !rcpt_utf8_check(f->submitter, strlen(f->submitter), &ncp) ||
	    ncp < 1 || ncp > RCPT_SUBMITTER_MAX)
		return rcpt_diag(d, RCPT_E_INVAL,
		    "submitter: must be 1 to %d code points of I-JSON text",
		    RCPT_SUBMITTER_MAX);
	if (f->kid == NULL || strlen(f->kid) != RCPT_KID_LEN ||
	    rcpt_b64url_decode(f->kid, RCPT_KID_LEN, raw, sizeof(raw)) !=
	        RCPT_OK)
		return rcpt_diag(d, RCPT_E_INVAL,
		    "kid: must be 43 characters of canonical base64url");
	return RCPT_OK;
}

int
rcpt_receipt_build(const struct rcpt_receipt_fields *f,
    struct rcpt_receipt *out, struct rcpt_diag *diag)
{
	size_t max = f->data_max == 0 ? RCPT_DATA_MAX_DEFAULT : f->data_max;
	char *jcs = NULL;
	size_t jlen = 0;
	int r = RCPT_E_INTERNAL;

	rcpt_receipt_clear(out);
	if ((r = check_fields(f, diag)) != RCPT_OK)
		goto out;
	if ((r = copy_tags(f->tags, &out->tags, diag)) != RCPT_OK)
		goto out;
	if ((r = rcpt_jcs_serialize(f->data, &jcs, &jlen, diag)) != RCPT_OK)
		goto out;
	if (jlen > max) {
		r = rcpt_diag(diag, RCPT_E_TOO_LARGE,
		    "data: JCS form longer than %zu bytes", max);
		goto out;
	}
	/* An own copy of data that also proves it is I-JSON. */
	if ((r = read_canonical(jcs, jlen, "data", &out->data, diag)) !=
	    RCPT_OK)
		goto out;
	if ((out->submitter = rcpt_strdup(f->submitter)) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	memcpy(out->chain, f->chain, strlen(f->chain) + 1);
	out->seq = f->seq;
	memcpy(out->ts, f->ts, RCPT_TS_LEN + 1);
	memcpy(out->type, f->type, strlen(f->type) + 1);
	memcpy(out->kid, f->kid, RCPT_KID_LEN + 1);
	if (f->prev_hash != NULL)
		memcpy(out->prev_hash, f->prev_hash, RCPT_HASH_LEN);
	out->has_data = true;
	SHA256((const unsigned char *)jcs, jlen, out->data_hash);
	r = rcpt_receipt_entry_hash(out, out->entry_hash);
out:
	free(jcs);
	if (r != RCPT_OK)
		rcpt_receipt_clear(out);
	return r;
}

static void
copy_inner(char *dst, const struct rcpt_receipt_span *sp)
{
	memcpy(dst, sp->p + 1, sp->len - 2);
	dst[sp->len - 2] = '\0';
}

/* Reads the submitter span as a C string. */
static int
copy_submitter(
    const struct rcpt_receipt_span *sp, char **out, struct rcpt_diag *diag)
{
	json_object *o = NULL;
	int r;

	*out = NULL;
	if ((r = read_canonical(sp->p, sp->len, "submitter", &o, diag)) !=
	    RCPT_OK)
		return r;
	if (strlen(json_object_get_string(o)) !=
	    (size_t)json_object_get_string_len(o))
		r = rcpt_diag(diag, RCPT_E_INVAL,
		    "submitter: holds U+0000, which this parser cannot keep");
	else if ((*out = rcpt_strdup(json_object_get_string(o))) == NULL)
		r = RCPT_E_NOMEM;
	json_object_put(o);
	return r;
}

int
rcpt_receipt_parse(const char *line, size_t len, int max_depth,
    struct rcpt_receipt *out, struct rcpt_diag *diag)
{
	struct rcpt_receipt_view vw;
	int r = RCPT_E_INTERNAL;

	rcpt_receipt_clear(out);
	if ((r = rcpt_receipt_scan(line, len, max_depth, &vw, diag)) != RCPT_OK)
		return r;
	copy_inner(out->chain, &vw.chain);
	copy_inner(out->ts, &vw.ts);
	copy_inner(out->type, &vw.type);
	copy_inner(out->kid, &vw.kid);
	out->seq = vw.seq_num;
	memcpy(out->data_hash, vw.data_hash_raw, RCPT_HASH_LEN);
	memcpy(out->prev_hash, vw.prev_hash_raw, RCPT_HASH_LEN);
	memcpy(out->entry_hash, vw.entry_hash_raw, RCPT_HASH_LEN);
	memcpy(out->signature, vw.signature_raw, RCPT_ED25519_SIG_LEN);
	out->has_signature = vw.has_signature;
	out->has_data = vw.has_data;
	if (vw.has_pruned_at)
		copy_inner(out->pruned_at, &vw.pruned_at);
	if ((r = copy_submitter(&vw.submitter, &out->submitter, diag)) !=
	        RCPT_OK ||
	    (r = read_canonical(
	         vw.tags.p, vw.tags.len, "tags", &out->tags, diag)) != RCPT_OK)
		goto out;
	if (vw.has_data && (r = read_canonical(vw.data.p, vw.data.len, "data",
	                        &out->data, diag)) != RCPT_OK)
		goto out;
	r = RCPT_OK;
out:
	if (r != RCPT_OK)
		rcpt_receipt_clear(out);
	return r;
}
