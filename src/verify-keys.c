/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verifier's key state (SPEC 4, 8 step 4): which keys a chain has,
 * where each came from (genesis, a checked rotation, --trust), which are
 * retired or revoked, and whether a receipt's kid may sign at its point
 * in the chain.  It checks the data of the three reserved receipt types
 * and applies what they change, and answers key look-ups and checkpoint
 * signatures once the chain is read.
 *
 * It deliberately does not scan lines, link receipts, verify receipt
 * signatures or run workers (verify.c does), and keeps nothing per
 * receipt: only per key, so memory does not grow with the chain.
 *
 * Strings read from reserved data are compared with their length,
 * never as C strings: I-JSON lets a string hold U+0000, and "batch"
 * followed by U+0000 is not "batch".
 */
#include "config.h"

#include <string.h>

#include "checkpoint.h"
#include "json.h"
#include "jwk.h"
#include "mem.h"
#include "receipt.h"
#include "ts.h"
#include "verify-int.h"

static int
find_key(const struct rcpt_verifier *v, const char *kid)
{
	size_t i;

	for (i = 0; i < v->nkeys; i++)
		if (strcmp(v->keys[i].kid, kid) == 0)
			return (int)i;
	return -1;
}

/* Index of the record for @p kid, made if new. -1 when out of memory. */
static int
add_key(struct rcpt_verifier *v, const char *kid,
    const uint8_t pub[RCPT_ED25519_PUB_LEN])
{
	struct rcpt_verify_key *k;
	int i;

	if ((i = find_key(v, kid)) >= 0)
		return i;
	k = rcpt_reallocarray(v->keys, v->nkeys + 1, sizeof(*k));
	if (k == NULL)
		return -1;
	v->keys = k;
	k = &v->keys[v->nkeys];
	memset(k, 0, sizeof(*k));
	memcpy(k->kid, kid, RCPT_KID_LEN + 1);
	memcpy(k->pub, pub, RCPT_ED25519_PUB_LEN);
	return (int)v->nkeys++;
}

int
rcpt_verify_load_trust(struct rcpt_verifier *v)
{
	const struct rcpt_jwks *t = v->o.trust;
	const struct rcpt_jwks_key *e;
	size_t i;
	int k;

	for (i = 0; t != NULL && i < t->n; i++) {
		e = &t->keys[i];
		if (strcmp(e->chain, v->chain) != 0)
			continue;
		if ((k = add_key(v, e->kid, e->pub)) < 0)
			return RCPT_E_NOMEM;
		v->keys[k].trusted = true;
		/* A retired entry without its TS is retired from the start. */
		if (e->status == RCPT_KEY_RETIRED || e->retired[0] != '\0') {
			v->keys[k].trust_retired = true;
			memcpy(v->keys[k].retired_ts, e->retired,
			    sizeof(v->keys[k].retired_ts));
		}
		if (e->status == RCPT_KEY_REVOKED) {
			v->keys[k].revoked = true;
			memcpy(v->keys[k].effective, e->revoked,
			    sizeof(v->keys[k].effective));
		}
	}
	return RCPT_OK;
}

/*
 * The string member @p name of object @p o and its length in bytes, or
 * NULL.  The string may hold U+0000: compare it only with str_is().
 */
static const char *
get_str(json_object *o, const char *name, size_t *len)
{
	json_object *m;

	if (!json_object_object_get_ex(o, name, &m) ||
	    !json_object_is_type(m, json_type_string))
		return NULL;
	*len = (size_t)json_object_get_string_len(m);
	return json_object_get_string(m);
}

/* Whether the @p len bytes at @p s are exactly the C string @p want. */
static bool
str_is(const char *s, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(s, want, len) == 0;
}

/* Reads the data of a reserved receipt into a tree. */
static int
reserved_data(struct rcpt_verifier *v, const struct rcpt_receipt_view *vw,
    const char *what, json_object **out)
{
	struct rcpt_diag d = {0};
	int r;

	*out = NULL;
	if (!vw->has_data)
		return rcpt_verify_fail_key(v, vw->seq_num,
		    "%s receipt has no data (reserved receipts are never "
		    "pruned)",
		    what);
	r = rcpt_json_parse_ex(vw->data.p, vw->data.len, RCPT_JSON_DEPTH_MAX,
	    "data", RCPT_JSON_BIG_INTS, out, &d);
	if (r == RCPT_E_NOMEM)
		return r;
	/* The scanner accepted the data, so say what this parser refuses. */
	if (r != RCPT_OK)
		return rcpt_verify_fail_key(
		    v, vw->seq_num, "%s %s", what, rcpt_diag_msg(&d, r));
	if (!json_object_is_type(*out, json_type_object)) {
		json_object_put(*out);
		*out = NULL;
		return rcpt_verify_fail_key(
		    v, vw->seq_num, "%s data must be an object", what);
	}
	return RCPT_OK;
}

static int
check_genesis(struct rcpt_verifier *v, const struct rcpt_receipt_view *vw,
    struct rcpt_verify_change *ch)
{
	struct rcpt_diag d = {0};
	const char *chain, *origin, *sealing, *w = "receiptd.genesis";
	json_object *data = NULL, *key;
	size_t cl, ol, sl;
	int r;

	if ((r = reserved_data(v, vw, w, &data)) != RCPT_OK)
		return r;
	chain = get_str(data, "chain", &cl);
	origin = get_str(data, "origin", &ol);
	sealing = get_str(data, "sealing", &sl);
	if (json_object_object_length(data) != 4 || chain == NULL ||
	    origin == NULL || sealing == NULL ||
	    !json_object_object_get_ex(data, "key", &key)) {
		r = rcpt_verify_fail_key(v, vw->seq_num,
		    "receiptd.genesis data must be exactly {chain, origin, "
		    "key, sealing}");
		goto out;
	}
	if (!str_is(chain, cl, v->chain)) {
		r = rcpt_verify_fail_key(v, vw->seq_num,
		    "genesis data.chain does not match the receipt's chain");
		goto out;
	}
	if (ol > RCPT_ORIGIN_MAX || memchr(origin, '\0', ol) != NULL ||
	    !rcpt_checkpoint_origin_is_valid(origin)) {
		r = rcpt_verify_fail_key(v, vw->seq_num,
		    "genesis data.origin: must be 1 to 200 bytes of "
		    "[A-Za-z0-9._~:/-]");
		goto out;
	}
	if (!str_is(sealing, sl, "each") && !str_is(sealing, sl, "batch")) {
		r = rcpt_verify_fail_key(v, vw->seq_num,
		    "genesis data.sealing: must be \"each\" or \"batch\"");
		goto out;
	}
	if (rcpt_jwk_parse_strict(key, "data.key", ch->pub, &d) != RCPT_OK) {
		r = rcpt_verify_fail_key(v, vw->seq_num, "genesis %s",
		    rcpt_diag_msg(&d, RCPT_E_INVAL));
		goto out;
	}
	if ((r = rcpt_jwk_kid(ch->pub, ch->kid)) != RCPT_OK)
		goto out;
	if (!rcpt_receipt_span_is(&vw->kid, ch->kid)) {
		r = rcpt_verify_fail_key(v, vw->seq_num,
		    "kid does not match the genesis key (data.key)");
		goto out;
	}
	if (!rcpt_receipt_span_is(&vw->submitter, "receiptd")) {
		r = rcpt_verify_fail_key(v, vw->seq_num,
		    "the genesis submitter must be \"receiptd\"");
		goto out;
	}
	ch->kind = RCPT_VERIFY_GENESIS;
	ch->sealing = str_is(sealing, sl, "batch");
	memcpy(ch->origin, origin, ol + 1);
	r = RCPT_OK;
out:
	json_object_put(data);
	return r;
}

static int
check_rotation(struct rcpt_verifier *v, const struct rcpt_receipt_view *vw,
    struct rcpt_verify_change *ch)
{
	struct rcpt_diag d = {0};
	json_object *data = NULL, *key, *cer;
	const char *new_kid, *reason;
	size_t kl, rl;
	int r, n, k;

	if ((r = reserved_data(v, vw, RCPT_ROTATION_TYPE, &data)) != RCPT_OK)
		return r;
	new_kid = get_str(data, "new_kid", &kl);
	reason = get_str(data, "reason", &rl);
	n = json_object_object_get_ex(data, "ceremony", &cer) ? 4 : 3;
	if (json_object_object_length(data) != n || new_kid == NULL ||
	    reason == NULL ||
	    !json_object_object_get_ex(data, "new_key", &key) ||
	    (n == 4 && !json_object_is_type(cer, json_type_object))) {
		r = rcpt_verify_fail_key(v, vw->seq_num,
		    "receiptd.key_rotation data must be {new_kid, new_key, "
		    "reason} and optionally a ceremony object");
		goto out;
	}
	if (rcpt_jwk_parse_strict(key, "data.new_key", ch->pub, &d) !=
	    RCPT_OK) {
		r = rcpt_verify_fail_key(v, vw->seq_num, "key rotation %s",
		    rcpt_diag_msg(&d, RCPT_E_INVAL));
		goto out;
	}
	if ((r = rcpt_jwk_kid(ch->pub, ch->kid)) != RCPT_OK)
		goto out;
	if (!str_is(new_kid, kl, ch->kid)) {
		r = rcpt_verify_fail_key(
		    v, vw->seq_num, "new_kid is not the kid of new_key");
		goto out;
	}
	/*
	 * SPEC 4 and 8: a kid never returns once rotated away.  When the
	 * receipts start after genesis, --trust may know of rotations
	 * before them: a kid it lists as retired at or before this
	 * rotation's ts is refused, as is the key that signed the first
	 * receipt in view.  A kid retired after this ts is being introduced
	 * here, as in any chain verified with its full key set.  Equal TS
	 * are refused because they cannot be told from a return; the
	 * appliance never introduces and retires a key in one millisecond
	 * (rcpt_ceremony_rotate).  A kid listed as retired or revoked without a
	 * retirement TS cannot be placed and is refused.
	 */
	k = find_key(v, ch->kid);
	if (k >= 0 && (k == v->active || v->keys[k].in_chain ||
	                  v->keys[k].used || v->keys[k].retired)) {
		r = rcpt_verify_fail_key(v, vw->seq_num,
		    "new_kid %s was used before in this chain", ch->kid);
		goto out;
	}
	if (k >= 0 && (v->keys[k].trust_retired || v->keys[k].revoked) &&
	    (v->keys[k].retired_ts[0] == '\0' ||
	        strncmp(v->keys[k].retired_ts, vw->ts.p + 1, RCPT_TS_LEN) <=
	            0)) {
		r = rcpt_verify_fail_key(v, vw->seq_num,
		    "new_kid %s is %s per --trust; a kid never returns once "
		    "rotated away",
		    ch->kid, v->keys[k].revoked ? "revoked" : "retired");
		goto out;
	}
	ch->kind = RCPT_VERIFY_ROTATION;
	r = RCPT_OK;
out:
	json_object_put(data);
	return r;
}

static int
check_revocation(struct rcpt_verifier *v, const struct rcpt_receipt_view *vw,
    struct rcpt_verify_change *ch)
{
	json_object *data = NULL;
	const char *kid, *reason, *eff;
	size_t kl, rl, el;
	int r, k;

	if ((r = reserved_data(v, vw, RCPT_REVOCATION_TYPE, &data)) != RCPT_OK)
		return r;
	kid = get_str(data, "kid", &kl);
	reason = get_str(data, "reason", &rl);
	eff = get_str(data, "effective", &el);
	if (json_object_object_length(data) != 3 || kid == NULL ||
	    reason == NULL || eff == NULL) {
		r = rcpt_verify_fail_key(v, vw->seq_num,
		    "receiptd.key_revocation data must be exactly {kid, "
		    "reason, effective}");
		goto out;
	}
	if (!rcpt_ts_is_valid(eff, el)) {
		r = rcpt_verify_fail_key(
		    v, vw->seq_num, "revocation data.effective: must be a TS");
		goto out;
	}
	k = kl == RCPT_KID_LEN && memchr(kid, '\0', kl) == NULL
	        ? find_key(v, kid)
	        : -1;
	/*
	 * The key must have been rotated away from.  Without the genesis in
	 * view, a trusted key that is not the active one is accepted: its
	 * rotation may lie before the first receipt.
	 */
	if (k < 0 || k == v->active ||
	    !(v->keys[k].retired ||
	        (v->o.first_seq > 0 && v->keys[k].trusted))) {
		r = rcpt_verify_fail_key(v, vw->seq_num,
		    "revocation data.kid is not a key this chain has rotated "
		    "away from");
		goto out;
	}
	ch->kind = RCPT_VERIFY_REVOCATION;
	memcpy(ch->kid, kid, RCPT_KID_LEN + 1);
	memcpy(ch->effective, eff, RCPT_TS_LEN + 1);
	r = RCPT_OK;
out:
	json_object_put(data);
	return r;
}

int
rcpt_verify_check_key(struct rcpt_verifier *v,
    const struct rcpt_receipt_view *vw, struct rcpt_verify_change *ch,
    int *key_out)
{
	const char *ts = vw->ts.p + 1;
	size_t tlen = vw->type.len - 2; /* at most RCPT_TYPE_MAX: scanned */
	char kid[RCPT_KID_LEN + 1], type[RCPT_TYPE_MAX + 1];
	bool rotation = false;
	struct rcpt_verify_key *k;
	int r, i;

	memcpy(kid, vw->kid.p + 1, RCPT_KID_LEN);
	kid[RCPT_KID_LEN] = '\0';
	memcpy(type, vw->type.p + 1, tlen);
	type[tlen] = '\0';
	if (rcpt_receipt_type_is_reserved(type) &&
	    !rcpt_receipt_type_is_defined_reserved(type, tlen))
		return rcpt_verify_fail_key(v, vw->seq_num,
		    "type %s is reserved (receiptd.) but not defined by SPEC 4",
		    type);
	if (rcpt_receipt_span_is(&vw->type, RCPT_GENESIS_TYPE)) {
		if (vw->seq_num != 0)
			return rcpt_verify_fail_key(v, vw->seq_num,
			    "receiptd.genesis at seq %llu (only seq 0 may be "
			    "genesis)",
			    (unsigned long long)vw->seq_num);
		if ((r = check_genesis(v, vw, ch)) != RCPT_OK)
			return r;
		if (v->o.trust != NULL &&
		    ((i = find_key(v, ch->kid)) < 0 || !v->keys[i].trusted))
			return rcpt_verify_fail_key(v, 0,
			    "genesis key %s is not pinned by --trust for chain "
			    "%s",
			    ch->kid, v->chain);
		if ((i = add_key(v, ch->kid, ch->pub)) < 0)
			return RCPT_E_NOMEM;
		v->keys[i].in_chain = true;
		v->active = i;
	} else if (vw->seq_num == 0) {
		return rcpt_verify_fail_key(
		    v, 0, "seq 0 must be a receiptd.genesis receipt");
	} else if (v->active < 0) {
		/* The receipts start after genesis: --trust names the key. */
		i = find_key(v, kid);
		if (i < 0 || !v->keys[i].trusted)
			return rcpt_verify_fail_key(v, vw->seq_num,
			    "kid %s is not pinned by --trust for chain %s (the "
			    "receipts start after genesis)",
			    kid, v->chain);
		v->active = i;
	}
	k = &v->keys[v->active];
	if (strcmp(kid, k->kid) != 0) {
		i = find_key(v, kid);
		if (i >= 0 && v->keys[i].revoked)
			return rcpt_verify_fail_key(v, vw->seq_num,
			    "kid %s is revoked; seq %llu must be signed by kid "
			    "%s",
			    kid, (unsigned long long)vw->seq_num, k->kid);
		if (i >= 0 && v->keys[i].retired)
			return rcpt_verify_fail_key(v, vw->seq_num,
			    "kid %s was rotated away from; seq %llu must be "
			    "signed by kid %s",
			    kid, (unsigned long long)vw->seq_num, k->kid);
		return rcpt_verify_fail_key(v, vw->seq_num,
		    "kid %s is not the key allowed at this point (kid %s)", kid,
		    k->kid);
	}
	if (rcpt_receipt_span_is(&vw->type, RCPT_ROTATION_TYPE)) {
		if ((r = check_rotation(v, vw, ch)) != RCPT_OK)
			return r;
		rotation = true;
	} else if (rcpt_receipt_span_is(&vw->type, RCPT_REVOCATION_TYPE)) {
		if ((r = check_revocation(v, vw, ch)) != RCPT_OK)
			return r;
	}
	/* SPEC 4: the rotation that retired a revoked key stays valid. */
	if (k->revoked && !rotation &&
	    strncmp(ts, k->effective, RCPT_TS_LEN) >= 0)
		return rcpt_verify_fail_key(v, vw->seq_num,
		    "kid %s is revoked from %s and may not sign this receipt",
		    k->kid,
		    k->effective[0] != '\0' ? k->effective : "the start");
	/*
	 * SPEC 3, 4: a retired key signs nothing after its retirement but
	 * the rotation that retired it.  Receipts at the retirement TS may
	 * precede that rotation (ts never goes back), so only later ones
	 * are refused.
	 */
	if (k->trust_retired && !rotation &&
	    strncmp(ts, k->retired_ts, RCPT_TS_LEN) > 0)
		return rcpt_verify_fail_key(v, vw->seq_num,
		    "kid %s is retired per --trust from %s and may not sign "
		    "this receipt",
		    k->kid,
		    k->retired_ts[0] != '\0' ? k->retired_ts : "the start");
	*key_out = v->active;
	return RCPT_OK;
}

int
rcpt_verify_apply_change(
    struct rcpt_verifier *v, const struct rcpt_verify_change *ch, uint64_t seq)
{
	struct rcpt_verify_key *k;
	int i;

	switch (ch->kind) {
	case RCPT_VERIFY_GENESIS:
		v->genesis_seen = true;
		v->sealing = ch->sealing;
		memcpy(v->origin, ch->origin, sizeof(v->origin));
		return RCPT_OK;
	case RCPT_VERIFY_ROTATION:
		if ((i = add_key(v, ch->kid, ch->pub)) < 0)
			return RCPT_E_NOMEM;
		v->keys[v->active].retired = true;
		v->keys[v->active].retired_seq = seq;
		v->keys[i].in_chain = true;
		v->active = i;
		return RCPT_OK;
	case RCPT_VERIFY_REVOCATION:
		k = &v->keys[find_key(v, ch->kid)];
		if (!k->revoked || strcmp(ch->effective, k->effective) < 0)
			memcpy(
			    k->effective, ch->effective, sizeof(k->effective));
		k->revoked = true;
		/* Receipts it signed from "effective" on are now invalid. */
		if (k->has_plain && strcmp(k->last_plain_ts, k->effective) >= 0)
			return rcpt_verify_fail_key(v,
			    strcmp(k->first_ts, k->effective) >= 0
			        ? k->first_seq
			        : k->last_plain_seq,
			    "kid %s signed this receipt at or after its "
			    "revocation took effect (%s, revoked at seq %llu)",
			    k->kid, k->effective, (unsigned long long)seq);
		return RCPT_OK;
	default:
		return RCPT_OK;
	}
}

/*
 * Whether key @p k may have signed a checkpoint of @p size leaves or a
 * manifest (SPEC 3, 4, 5, 8).  A checkpoint is signed by the key active
 * when it is made, so a key retired by a rotation in view signs none
 * that extends past that rotation.  A key retired only per --trust (the
 * rotation is not in view) signs none once the receipts in view go on
 * past its retirement TS.  A revoked key signs none at all.
 */
static bool
may_sign(const struct rcpt_verifier *v, const struct rcpt_verify_key *k,
    uint64_t size)
{
	if (k->revoked || !(k->in_chain || k->trusted))
		return false;
	if (k->retired)
		return size <= k->retired_seq + 1;
	if (k->trust_retired && v->count > 0 &&
	    strncmp(v->prev_ts, k->retired_ts, RCPT_TS_LEN) > 0)
		return false;
	return true;
}

int
rcpt_verifier_key(const struct rcpt_verifier *v, const char *kid,
    uint8_t pub_out[RCPT_ED25519_PUB_LEN])
{
	const struct rcpt_verify_key *k;
	int i;

	if (v == NULL || kid == NULL || (i = find_key(v, kid)) < 0)
		return RCPT_E_NOT_FOUND;
	k = &v->keys[i];
	if (!k->in_chain && !k->trusted)
		return RCPT_E_NOT_FOUND;
	/* A manifest covers exactly the receipts in view. */
	if (!may_sign(v, k, v->o.first_seq + v->count))
		return RCPT_E_DENIED;
	memcpy(pub_out, k->pub, RCPT_ED25519_PUB_LEN);
	return RCPT_OK;
}

/*
 * The chain and origin come from the checkpoint parser and from checked
 * receipts, which refuse U+0000 in them, so they compare as C strings.
 */
int
rcpt_verifier_checkpoint_signed(const struct rcpt_verifier *v,
    const struct rcpt_checkpoint *cp, struct rcpt_diag *diag)
{
	size_t i;

	if (strcmp(cp->chain, v->chain) != 0)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "checkpoint names another chain than the receipts");
	if (v->genesis_seen && strcmp(cp->origin, v->origin) != 0)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "checkpoint origin does not match the genesis origin");
	for (i = 0; i < v->nkeys; i++) {
		const struct rcpt_verify_key *k = &v->keys[i];

		if (!may_sign(v, k, cp->size))
			continue;
		if (rcpt_checkpoint_verify(cp, k->pub) == RCPT_OK)
			return RCPT_OK;
	}
	return rcpt_diag(diag, RCPT_E_BAD_SIGNATURE,
	    "checkpoint signature does not verify under any key of the chain "
	    "that may sign it (not revoked, not retired before its size)");
}
