/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opening a chain of the appliance from the store (SPEC 1.2, 3, 4): the
 * chain record, the tip receipt and the key registry must agree on the
 * active key, the tip must carry a valid signature, and the provider
 * must hold that key.  Every stored receipt is verified first, and the
 * active key and its public half are taken from those receipts: the
 * registry only says where the key lives.  A rotation that is durable as
 * the tip while the record still names the outgoing key is rolled
 * forward.  It never rewrites receipts.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anchor.h"
#include "ceremony-int.h"
#include "ceremony.h"
#include "ed25519.h"
#include "json.h"
#include "mem.h"

static const struct rcpt_store_key *
find_key(const struct rcpt_store_key *keys, size_t n, const char *kid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(keys[i].kid, kid) == 0)
			return &keys[i];
	return NULL;
}

/* The kid a tip leaves active: a rotation's new_kid, else its own. */
static int
tip_active_kid(const struct rcpt_receipt *tip, char out[RCPT_KID_LEN + 1],
    int *is_rotation, struct rcpt_diag *diag)
{
	json_object *v;

	*is_rotation = strcmp(tip->type, RCPT_ROTATION_TYPE) == 0;
	if (!*is_rotation) {
		memcpy(out, tip->kid, RCPT_KID_LEN + 1);
		return RCPT_OK;
	}
	if (!tip->has_data || tip->data == NULL ||
	    !json_object_object_get_ex(tip->data, "new_kid", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) != RCPT_KID_LEN)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: the tip rotation (seq %" PRIu64
		    ") has no new_kid",
		    tip->chain, tip->seq);
	memcpy(out, json_object_get_string(v), RCPT_KID_LEN + 1);
	return RCPT_OK;
}

/* Reads the recorded tip and checks it against the chain record. */
static int
read_tip(struct rcpt_store *s, const struct rcpt_store_chain *rec,
    struct rcpt_receipt *tip, struct rcpt_diag *diag)
{
	struct rcpt_diag tmp;
	uint8_t h[RCPT_HASH_LEN];
	char *line = NULL, *next = NULL;
	size_t len = 0;
	uint64_t seq;
	int r = RCPT_E_INTERNAL;

	if (rec->size == 0)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: record: size 0 (no genesis)", rec->name);
	seq = rec->size - 1;
	rcpt_diag_clear(&tmp);
	r = rcpt_store_get_receipt(s, rec->name, seq, &line, &len, &tmp);
	if (r == RCPT_E_NOT_FOUND)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: receipts: the recorded tip (seq %" PRIu64
		    ") is missing",
		    rec->name, seq);
	if (r != RCPT_OK)
		return rcpt_ceremony_pass(diag, r, &tmp);
	rcpt_diag_clear(&tmp);
	if ((r = rcpt_receipt_parse(
	         line, len, RCPT_JSON_DEPTH_MAX, tip, &tmp)) != RCPT_OK) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: receipts: the tip (seq %" PRIu64
		    ") does not parse: %s",
		    rec->name, seq, rcpt_diag_msg(&tmp, r));
		goto out;
	}
	if ((r = rcpt_receipt_entry_hash(tip, h)) != RCPT_OK)
		goto out;
	if (tip->seq != seq || strcmp(tip->chain, rec->name) != 0 ||
	    memcmp(h, tip->entry_hash, RCPT_HASH_LEN) != 0 ||
	    memcmp(h, rec->tip_hash, RCPT_HASH_LEN) != 0 ||
	    strcmp(tip->ts, rec->tip_ts) != 0) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: record: tip_hash and tip_ts must be those of "
		    "receipt seq %" PRIu64,
		    rec->name, seq);
		goto out;
	}
	rcpt_diag_clear(&tmp);
	r = rcpt_store_get_receipt(s, rec->name, rec->size, &next, &len, &tmp);
	if (r == RCPT_OK)
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: receipts: one follows the recorded tip (seq "
		    "%" PRIu64 ")",
		    rec->name, seq);
	else if (r == RCPT_E_NOT_FOUND)
		r = RCPT_OK;
	else
		r = rcpt_ceremony_pass(diag, r, &tmp);
out:
	free(next);
	free(line);
	return r;
}

/*
 * Completes a rotation that is durable as the tip receipt while the
 * chain record still names the outgoing key.  One transaction cannot
 * leave this state; an older or foreign writer might, and the receipt,
 * signed and linked, is what counts.
 */
static int
roll_forward(struct rcpt_ceremony *c, const struct rcpt_store_chain *rec,
    const struct rcpt_receipt *tip, const char *new_kid,
    const uint8_t new_pub[RCPT_ED25519_PUB_LEN],
    const struct rcpt_store_key *keys, size_t n, struct rcpt_diag *diag)
{
	struct rcpt_store_chain next = *rec;
	struct rcpt_store_key oldk, newk;
	const struct rcpt_store_key *k;
	struct rcpt_ks_key *pk = NULL;
	struct rcpt_store_txn *t = NULL;
	size_t np = 0, i;
	int r = RCPT_E_INTERNAL;

	if ((k = find_key(keys, n, tip->kid)) == NULL)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: keys: the registry lacks the kid of the tip",
		    rec->name);
	oldk = *k;
	if (oldk.status == RCPT_KEY_ACTIVE) {
		oldk.status = RCPT_KEY_RETIRED;
		memcpy(oldk.retired, tip->ts, sizeof(oldk.retired));
	}
	if ((k = find_key(keys, n, new_kid)) != NULL) {
		newk = *k;
	} else {
		/* Step 3 never ran: find the generated key by its kid. */
		if ((r = rcpt_ks_list(c->ks, &pk, &np, diag)) != RCPT_OK)
			return r;
		for (i = 0; i < np; i++)
			if (strcmp(pk[i].kid, new_kid) == 0)
				break;
		if (i == np) {
			r = rcpt_diag(diag, RCPT_E_KEY_UNAVAILABLE,
			    "chain %s: keys: the provider does not hold the "
			    "new key of the tip rotation",
			    rec->name);
			goto out;
		}
		memset(&newk, 0, sizeof(newk));
		if (strlen(pk[i].handle) >= sizeof(newk.handle)) {
			r = rcpt_diag(diag, RCPT_E_TOO_LARGE,
			    "key: handle: longer than %zu bytes",
			    sizeof(newk.handle) - 1);
			goto out;
		}
		memcpy(newk.kid, new_kid, sizeof(newk.kid));
		memcpy(newk.pub, pk[i].pub, sizeof(newk.pub));
		memcpy(newk.chain, rec->name, sizeof(newk.chain));
		(void)snprintf(newk.provider, sizeof(newk.provider), "%s",
		    rcpt_ks_name(c->ks));
		memcpy(newk.handle, pk[i].handle, strlen(pk[i].handle) + 1);
	}
	/* The key the verified rotation brought in, whoever registered it. */
	if (memcmp(newk.pub, new_pub, RCPT_ED25519_PUB_LEN) != 0 ||
	    strcmp(newk.chain, rec->name) != 0) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: keys: the new key of the tip rotation is not "
		    "the one its verified receipt names",
		    rec->name);
		goto out;
	}
	newk.status = RCPT_KEY_ACTIVE;
	memcpy(newk.created, tip->ts, sizeof(newk.created));
	newk.retired[0] = newk.revoked[0] = '\0';
	memcpy(next.active_kid, new_kid, sizeof(next.active_kid));
	if ((r = rcpt_store_txn_begin(c->store, &t, diag)) != RCPT_OK ||
	    (r = rcpt_store_put_chain(t, &next, diag)) != RCPT_OK ||
	    (r = rcpt_store_put_key(t, &oldk, diag)) != RCPT_OK ||
	    (r = rcpt_store_put_key(t, &newk, diag)) != RCPT_OK)
		goto out;
	r = rcpt_store_txn_commit(t, diag);
	t = NULL;
out:
	rcpt_store_txn_abort(t);
	rcpt_ks_keys_free(pk, np);
	return r;
}

/*
 * Verifies every stored receipt (O(n); see rcpt_anchor_verify) so that
 * the active kid and its public key come from verified receipts.
 */
static int
verify_all(struct rcpt_store *s, const struct rcpt_store_chain *rec,
    struct rcpt_anchor_verified *ver, struct rcpt_diag *diag)
{
	struct rcpt_store_snap *snap = NULL;
	int r;

	if ((r = rcpt_store_snap_begin(s, rec->name, &snap, diag)) == RCPT_OK)
		r = rcpt_anchor_verify(snap, rec, RCPT_E_CORRUPT, ver, diag);
	rcpt_store_snap_end(snap);
	return r;
}

/* Checks record, tip and registry, then fills the writer state. */
static int
load(struct rcpt_ceremony *c, const char *chain, int may_roll,
    struct rcpt_diag *diag)
{
	struct rcpt_store_chain rec;
	struct rcpt_anchor_verified ver;
	struct rcpt_store_key *keys = NULL;
	const struct rcpt_store_key *act, *by;
	struct rcpt_receipt tip;
	struct rcpt_diag tmp;
	char(*used)[RCPT_KID_LEN + 1] = NULL;
	char want[RCPT_KID_LEN + 1];
	size_t n = 0, i, n_active = 0;
	int r = RCPT_E_INTERNAL, rot;

	rcpt_receipt_init(&tip);
	rcpt_diag_clear(&tmp);
	if ((r = rcpt_store_get_chain(c->store, chain, &rec, &tmp)) !=
	    RCPT_OK) {
		r = r == RCPT_E_NOT_FOUND
		        ? rcpt_diag(diag, r, "chain %s: no such chain", chain)
		        : rcpt_ceremony_pass(diag, r, &tmp);
		goto out;
	}
	if ((r = read_tip(c->store, &rec, &tip, diag)) != RCPT_OK)
		goto out;
	if (c->o.verified != NULL && c->o.verified->size == rec.size)
		ver = *c->o.verified; /* the caller just checked it all */
	else if ((r = verify_all(c->store, &rec, &ver, diag)) != RCPT_OK)
		goto out;
	if ((r = rcpt_store_list_keys(c->store, chain, &keys, &n, diag)) !=
	        RCPT_OK ||
	    (r = tip_active_kid(&tip, want, &rot, diag)) != RCPT_OK)
		goto out;
	if (strcmp(want, ver.active_kid) != 0) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: the tip (seq %" PRIu64
		    ") is not the verified one",
		    chain, tip.seq);
		goto out;
	}
	for (i = 0; i < n; i++)
		n_active += keys[i].status == RCPT_KEY_ACTIVE;
	act = find_key(keys, n, want);
	/* SPEC 1.2: keys come from verified receipts, never the registry. */
	if (act != NULL &&
	    memcmp(act->pub, ver.active_pub, RCPT_ED25519_PUB_LEN) != 0) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: keys: the registry's key for kid %s is not "
		    "the one the verified receipts name",
		    chain, want);
		goto out;
	}
	if (strcmp(rec.active_kid, want) != 0 || act == NULL ||
	    act->status != RCPT_KEY_ACTIVE || n_active != 1) {
		if (may_roll && rot && strcmp(rec.active_kid, tip.kid) == 0) {
			r = roll_forward(
			    c, &rec, &tip, want, ver.active_pub, keys, n, diag);
			if (r == RCPT_OK)
				r = load(c, chain, 0, diag);
			goto out;
		}
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: the chain record, the key registry and the "
		    "tip (seq %" PRIu64 ") must name one active key",
		    chain, tip.seq);
		goto out;
	}
	/*
	 * SPEC 1.2: the tip carries a valid signature.  verify_all checked
	 * it with the key the receipts introduced; this also wants the
	 * registry to name the same key for the tip's kid.
	 */
	by = find_key(keys, n, tip.kid);
	if (by == NULL || !tip.has_signature ||
	    rcpt_ed25519_verify(by->pub, tip.entry_hash, RCPT_HASH_LEN,
	        tip.signature) != RCPT_OK) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: the tip (seq %" PRIu64
		    ") must carry a valid signature by a registered key",
		    chain, tip.seq);
		goto out;
	}
	if (strcmp(act->provider, rcpt_ks_name(c->ks)) != 0) {
		r = rcpt_diag(diag, RCPT_E_CONFIG,
		    "chain %s: its active key lives in provider \"%s\", not "
		    "\"%s\"",
		    chain, act->provider, rcpt_ks_name(c->ks));
		goto out;
	}
	if ((r = rcpt_ks_signer(c->ks, act->handle, &c->signer, diag)) !=
	    RCPT_OK)
		goto out;
	if (strcmp(c->signer.kid, want) != 0 ||
	    memcmp(c->signer.pub, ver.active_pub, RCPT_ED25519_PUB_LEN) != 0) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: keys: the provider's key at the registered "
		    "handle is not the active kid",
		    chain);
		goto out;
	}
	if (n > 0 && (used = rcpt_calloc(n, sizeof(*used))) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		memcpy(used[i], keys[i].kid, sizeof(used[i]));
	r = rcpt_chain_resume(&c->chain, rec.name, rec.origin, rec.sealing,
	    rec.size, rec.tip_hash, rec.tip_ts, want,
	    (const char(*)[RCPT_KID_LEN + 1]) used, n, diag);
out:
	free(used);
	free(keys);
	rcpt_receipt_clear(&tip);
	return r;
}

int
rcpt_ceremony_open(struct rcpt_store *s, struct rcpt_ks_provider *ks,
    const char *chain, const struct rcpt_ceremony_opts *o,
    struct rcpt_ceremony **out, struct rcpt_diag *diag)
{
	struct rcpt_ceremony *c;
	int r;

	if (out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "chain: missing argument");
	*out = NULL;
	if (s == NULL || ks == NULL || chain == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "chain: missing argument");
	if (!rcpt_receipt_chain_is_valid(chain))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "chain: must match ^[a-z0-9][a-z0-9._-]{0,63}$");
	if ((c = rcpt_ceremony_alloc(s, ks, o)) == NULL)
		return RCPT_E_NOMEM;
	if ((r = load(c, chain, 1, diag)) != RCPT_OK) {
		rcpt_ceremony_close(c);
		return r;
	}
	*out = c;
	return RCPT_OK;
}
