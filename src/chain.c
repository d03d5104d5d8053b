/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The offline chain writer (SPEC 1, 1.2, 4).  Every receipt goes through
 * emit(), which applies the ts rule (never earlier than the previous
 * receipt), links it, builds it, signs it when the sealing asks for it,
 * and only then advances the state.  It stores nothing and does no I/O.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "chain.h"
#include "checkpoint.h"
#include "json.h"
#include "jwk.h"
#include "mem.h"
#include "receipt.h"
#include "utf8.h"

void
rcpt_chain_init(struct rcpt_chain *c)
{
	memset(c, 0, sizeof(*c));
}

void
rcpt_chain_clear(struct rcpt_chain *c)
{
	free(c->used_kids);
	memset(c, 0, sizeof(*c));
}

int
rcpt_chain_sealing_parse(const char *s, enum rcpt_sealing *out)
{
	if (s != NULL && strcmp(s, "each") == 0)
		*out = RCPT_SEALING_EACH;
	else if (s != NULL && strcmp(s, "batch") == 0)
		*out = RCPT_SEALING_BATCH;
	else
		return RCPT_E_INVAL;
	return RCPT_OK;
}

const char *
rcpt_chain_sealing_name(enum rcpt_sealing s)
{
	return s == RCPT_SEALING_BATCH ? "batch" : "each";
}

static int
kid_used(const struct rcpt_chain *c, const char *kid)
{
	size_t i;

	for (i = 0; i < c->n_used; i++)
		if (strcmp(c->used_kids[i], kid) == 0)
			return 1;
	return 0;
}

/* Makes room for one more kid, so that push_kid() cannot fail. */
static int
reserve_kid(struct rcpt_chain *c)
{
	char(*k)[RCPT_KID_LEN + 1];
	size_t cap;

	if (c->n_used < c->cap_kids)
		return RCPT_OK;
	cap = c->cap_kids == 0 ? 4 : c->cap_kids * 2;
	if ((k = rcpt_reallocarray(c->used_kids, cap, sizeof(*k))) == NULL)
		return RCPT_E_NOMEM;
	c->used_kids = k;
	c->cap_kids = cap;
	return RCPT_OK;
}

/* Records @p kid as the active key; reserve_kid() came first. */
static void
push_kid(struct rcpt_chain *c, const char *kid)
{
	memcpy(c->used_kids[c->n_used++], kid, RCPT_KID_LEN + 1);
	memcpy(c->kid, kid, RCPT_KID_LEN + 1);
}

/* Checks that @p s holds the key it claims: its kid is its pub's. */
static int
check_signer(const struct rcpt_signer *s, const char *what, struct rcpt_diag *d)
{
	char kid[RCPT_KID_LEN + 1];
	int r;

	if (s == NULL || s->sign == NULL)
		return rcpt_diag(d, RCPT_E_INVAL, "%s: no signer", what);
	if ((r = rcpt_jwk_kid(s->pub, kid)) != RCPT_OK)
		return r;
	if (strcmp(kid, s->kid) != 0)
		return rcpt_diag(d, RCPT_E_INVAL,
		    "%s: kid is not the thumbprint of its public key", what);
	return RCPT_OK;
}

static int
check_text(const char *s, const char *what, struct rcpt_diag *d)
{
	size_t n;

	if (s == NULL || !rcpt_utf8_check(s, strlen(s), &n) || n == 0)
		return rcpt_diag(
		    d, RCPT_E_INVAL, "%s: must be non-empty I-JSON text", what);
	return RCPT_OK;
}

struct emit_args {
	const char *type;
	const char *submitter;
	const json_object *tags;
	const json_object *data;
	const char *ts;
	const struct rcpt_signer *s; /* NULL: leave unsigned */
};

/* Builds, links and (maybe) signs the next receipt; advances on success. */
static int
emit(struct rcpt_chain *c, const struct emit_args *a, struct rcpt_receipt *out,
    struct rcpt_diag *d)
{
	struct rcpt_receipt_fields f;
	const char *ts = a->ts;
	int r;

	if (ts == NULL || !rcpt_ts_is_valid(ts, strlen(ts)))
		return rcpt_diag(d, RCPT_E_INVAL, "ts: must be a TS");
	/* SPEC 1: a clock reading earlier than the last ts reuses it. */
	if (c->last_ts[0] != '\0' && strcmp(ts, c->last_ts) < 0)
		ts = c->last_ts;
	memset(&f, 0, sizeof(f));
	f.chain = c->name;
	f.seq = c->next_seq;
	f.ts = ts;
	f.type = a->type;
	f.tags = a->tags;
	f.submitter = a->submitter;
	f.data = a->data;
	f.prev_hash = c->prev_hash;
	f.kid = c->kid;
	f.data_max = c->data_max;
	if ((r = rcpt_receipt_build(&f, out, d)) != RCPT_OK)
		return r;
	if (a->s != NULL && (r = rcpt_receipt_sign(out, a->s)) != RCPT_OK) {
		rcpt_receipt_clear(out);
		return rcpt_diag(d, r, "signature: the signer failed");
	}
	c->next_seq++;
	memcpy(c->prev_hash, out->entry_hash, RCPT_HASH_LEN);
	memcpy(c->last_ts, out->ts, RCPT_TS_LEN + 1);
	return RCPT_OK;
}

/* The genesis fields a new or resumed chain is given. */
static int
check_head(const char *name, const char *origin, enum rcpt_sealing sealing,
    struct rcpt_diag *diag)
{
	if (!rcpt_receipt_chain_is_valid(name))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "chain: must match ^[a-z0-9][a-z0-9._-]{0,63}$");
	if (origin == NULL || !rcpt_checkpoint_origin_is_valid(origin))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "origin: must be 1 to 200 bytes of [A-Za-z0-9._~:/-]");
	if (sealing != RCPT_SEALING_EACH && sealing != RCPT_SEALING_BATCH)
		return rcpt_diag(diag, RCPT_E_INVAL, "sealing: each or batch");
	return RCPT_OK;
}

int
rcpt_chain_genesis(struct rcpt_chain *c, const char *name, const char *origin,
    enum rcpt_sealing sealing, const char *ts, const struct rcpt_signer *s,
    struct rcpt_receipt *out, struct rcpt_diag *diag)
{
	struct rcpt_chain next;
	struct emit_args a;
	json_object *data = NULL, *jwk = NULL;
	int r = RCPT_E_INTERNAL;

	rcpt_chain_init(&next);
	if (c->started) {
		r = rcpt_diag(
		    diag, RCPT_E_INVAL, "chain: genesis made already");
		goto out;
	}
	if ((r = check_head(name, origin, sealing, diag)) != RCPT_OK)
		goto out;
	if ((r = check_signer(s, "genesis key", diag)) != RCPT_OK)
		goto out;
	if ((r = rcpt_jwk_from_public(s->pub, &jwk)) != RCPT_OK)
		goto out;
	if ((data = json_object_new_object()) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	if ((r = rcpt_json_add(data, "chain", json_object_new_string(name))) !=
	        RCPT_OK ||
	    (r = rcpt_json_add(
	         data, "origin", json_object_new_string(origin))) != RCPT_OK)
		goto out;
	r = rcpt_json_add(data, "key", jwk); /* takes jwk either way */
	jwk = NULL;
	if (r != RCPT_OK)
		goto out;
	if ((r = rcpt_json_add(data, "sealing",
	         json_object_new_string(rcpt_chain_sealing_name(sealing)))) !=
	    RCPT_OK)
		goto out;
	memcpy(next.name, name, strlen(name) + 1);
	memcpy(next.origin, origin, strlen(origin) + 1);
	next.sealing = sealing;
	next.data_max = c->data_max;
	if ((r = reserve_kid(&next)) != RCPT_OK)
		goto out;
	push_kid(&next, s->kid);
	a = (struct emit_args){.type = RCPT_GENESIS_TYPE,
	    .submitter = "receiptd",
	    .data = data,
	    .ts = ts,
	    .s = s};
	if ((r = emit(&next, &a, out, diag)) != RCPT_OK)
		goto out;
	next.started = true;
	rcpt_chain_clear(c);
	*c = next;
	rcpt_chain_init(&next);
	r = RCPT_OK;
out:
	json_object_put(jwk);
	json_object_put(data);
	rcpt_chain_clear(&next);
	return r;
}

int
rcpt_chain_append(struct rcpt_chain *c, const struct rcpt_chain_event *ev,
    const struct rcpt_signer *s, struct rcpt_receipt *out,
    struct rcpt_diag *diag)
{
	struct emit_args a;
	bool sign;

	if (!c->started)
		return rcpt_diag(diag, RCPT_E_INVAL, "chain: no genesis yet");
	if (ev == NULL || ev->type == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "type: missing");
	if (rcpt_receipt_type_is_reserved(ev->type))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "type: names starting with \"receiptd.\" are reserved");
	sign = c->sealing == RCPT_SEALING_EACH || ev->seal;
	if (sign && (s == NULL || strcmp(s->kid, c->kid) != 0))
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "signer: not the chain's active key");
	a = (struct emit_args){.type = ev->type,
	    .submitter = ev->submitter,
	    .tags = ev->tags,
	    .data = ev->data,
	    .ts = ev->ts,
	    .s = sign ? s : NULL};
	return emit(c, &a, out, diag);
}

/* 1 when @p kid has the shape of a kid (43 base64url characters). */
static int
kid_is_shaped(const char *kid)
{
	size_t i;

	if (kid == NULL || strlen(kid) != RCPT_KID_LEN)
		return 0;
	for (i = 0; i < RCPT_KID_LEN; i++) {
		char ch = kid[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		        (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return 0;
	}
	return 1;
}

int
rcpt_chain_resume(struct rcpt_chain *c, const char *name, const char *origin,
    enum rcpt_sealing sealing, uint64_t next_seq,
    const uint8_t prev_hash[RCPT_HASH_LEN], const char *last_ts,
    const char *kid, const char (*used_kids)[RCPT_KID_LEN + 1], size_t n_used,
    struct rcpt_diag *diag)
{
	struct rcpt_chain next;
	size_t i;
	int r = RCPT_E_INTERNAL;

	rcpt_chain_init(&next);
	if ((r = check_head(name, origin, sealing, diag)) != RCPT_OK)
		goto out;
	if (next_seq == 0 || prev_hash == NULL) {
		r = rcpt_diag(diag, RCPT_E_INVAL,
		    "next_seq: a resumed chain has its genesis");
		goto out;
	}
	if (last_ts == NULL || !rcpt_ts_is_valid(last_ts, strlen(last_ts))) {
		r = rcpt_diag(diag, RCPT_E_INVAL, "last_ts: must be a TS");
		goto out;
	}
	if (!kid_is_shaped(kid)) {
		r = rcpt_diag(diag, RCPT_E_INVAL, "kid: must be a kid");
		goto out;
	}
	if (n_used > 0 && used_kids == NULL) {
		r = rcpt_diag(diag, RCPT_E_INVAL, "used_kids: missing");
		goto out;
	}
	for (i = 0; i < n_used; i++) {
		if (!kid_is_shaped(used_kids[i])) {
			r = rcpt_diag(diag, RCPT_E_INVAL,
			    "used_kids[%zu]: must be a kid", i);
			goto out;
		}
		if (strcmp(used_kids[i], kid) == 0 ||
		    kid_used(&next, used_kids[i]))
			continue;
		if ((r = reserve_kid(&next)) != RCPT_OK)
			goto out;
		push_kid(&next, used_kids[i]);
	}
	if ((r = reserve_kid(&next)) != RCPT_OK)
		goto out;
	push_kid(&next, kid); /* last, as the active key always is */
	memcpy(next.name, name, strlen(name) + 1);
	memcpy(next.origin, origin, strlen(origin) + 1);
	next.sealing = sealing;
	next.started = true;
	next.next_seq = next_seq;
	memcpy(next.prev_hash, prev_hash, RCPT_HASH_LEN);
	memcpy(next.last_ts, last_ts, RCPT_TS_LEN + 1);
	next.data_max = c->data_max;
	rcpt_chain_clear(c);
	*c = next;
	rcpt_chain_init(&next);
	r = RCPT_OK;
out:
	rcpt_chain_clear(&next);
	return r;
}

int
rcpt_chain_rotate(struct rcpt_chain *c, const char *ts, const char *submitter,
    const char *reason, const json_object *ceremony,
    const struct rcpt_signer *old_s, const struct rcpt_signer *new_s,
    struct rcpt_receipt *out, struct rcpt_diag *diag)
{
	struct emit_args a;
	json_object *data = NULL, *jwk = NULL, *cer = NULL;
	int r = RCPT_E_INTERNAL;

	if (!c->started)
		return rcpt_diag(diag, RCPT_E_INVAL, "chain: no genesis yet");
	if (old_s == NULL || strcmp(old_s->kid, c->kid) != 0)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "signer: not the chain's active key");
	if ((r = check_signer(new_s, "new_key", diag)) != RCPT_OK ||
	    (r = check_text(reason, "reason", diag)) != RCPT_OK)
		return r;
	if (kid_used(c, new_s->kid))
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "new_kid: used before in this chain");
	if (ceremony != NULL &&
	    !json_object_is_type(ceremony, json_type_object))
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "ceremony: must be an object");
	/* Room first, so that nothing can fail after the receipt. */
	if ((r = reserve_kid(c)) != RCPT_OK)
		return r;
	if ((r = rcpt_jwk_from_public(new_s->pub, &jwk)) != RCPT_OK)
		goto out;
	if ((data = json_object_new_object()) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	r = rcpt_json_add(data, "new_kid", json_object_new_string(new_s->kid));
	if (r == RCPT_OK) {
		r = rcpt_json_add(
		    data, "new_key", jwk); /* takes jwk either way */
		jwk = NULL;
	}
	if (r == RCPT_OK)
		r = rcpt_json_add(
		    data, "reason", json_object_new_string(reason));
	if (r == RCPT_OK && ceremony != NULL) {
		/* The copy is ours; the caller's object stays untouched. */
		if (json_object_deep_copy(
		        (json_object *)ceremony, &cer, NULL) != 0) {
			r = RCPT_E_NOMEM;
			goto out;
		}
		r = rcpt_json_add(data, "ceremony", cer);
	}
	if (r != RCPT_OK)
		goto out;
	a = (struct emit_args){.type = RCPT_ROTATION_TYPE,
	    .submitter = submitter,
	    .data = data,
	    .ts = ts,
	    .s = old_s};
	if ((r = emit(c, &a, out, diag)) != RCPT_OK)
		goto out;
	push_kid(c, new_s->kid);
	r = RCPT_OK;
out:
	json_object_put(jwk);
	json_object_put(data);
	return r;
}

int
rcpt_chain_revoke(struct rcpt_chain *c, const char *ts, const char *submitter,
    const char *kid, const char *reason, const char *effective,
    const struct rcpt_signer *s, struct rcpt_receipt *out,
    struct rcpt_diag *diag)
{
	struct emit_args a;
	json_object *data = NULL;
	int r = RCPT_E_INTERNAL;

	if (!c->started)
		return rcpt_diag(diag, RCPT_E_INVAL, "chain: no genesis yet");
	if (s == NULL || strcmp(s->kid, c->kid) != 0)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "signer: not the chain's active key");
	if (kid == NULL || !kid_used(c, kid) || strcmp(kid, c->kid) == 0)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "kid: not a key this chain rotated away from");
	if (effective == NULL ||
	    !rcpt_ts_is_valid(effective, strlen(effective)))
		return rcpt_diag(diag, RCPT_E_INVAL, "effective: must be a TS");
	if ((r = check_text(reason, "reason", diag)) != RCPT_OK)
		return r;
	if ((data = json_object_new_object()) == NULL)
		return RCPT_E_NOMEM;
	if ((r = rcpt_json_add(data, "kid", json_object_new_string(kid))) !=
	        RCPT_OK ||
	    (r = rcpt_json_add(
	         data, "reason", json_object_new_string(reason))) != RCPT_OK ||
	    (r = rcpt_json_add(data, "effective",
	         json_object_new_string(effective))) != RCPT_OK)
		goto out;
	a = (struct emit_args){.type = RCPT_REVOCATION_TYPE,
	    .submitter = submitter,
	    .data = data,
	    .ts = ts,
	    .s = s};
	r = emit(c, &a, out, diag);
out:
	json_object_put(data);
	return r;
}
