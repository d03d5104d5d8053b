/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The methods that run on a chain's writer, between commit batches:
 * checkpoints, proofs, export, and the administrators' rotate, revoke
 * and prune.  Running them there means each sees a tip that no append
 * is moving, and that a checkpoint never races another for the anchor.
 *
 * Proofs and exports use a stored checkpoint when one covers what was
 * asked (every checkpoint the daemon makes is stored), and otherwise
 * make a fresh one of the current size.  A `tree_size` or `old_size`
 * for which no checkpoint was ever made is -32005: a client proves
 * against checkpoints it holds, which all came from here.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "bundle.h"
#include "daemon/daemon.h"
#include "daemon/rpc.h"
#include "json.h"
#include "mem.h"
#include "proof.h"
#include "receipt.h"

int
d_checkpoint_now(struct d_chain *ch, char **note_out, uint64_t *size_out,
    struct rcpt_diag *diag)
{
	struct daemon *d = ch->d;
	uint64_t size = 0;
	int r;

	r = rcpt_anchor_advance(d->store, d->ks, rcpt_ceremony_signer(ch->cer),
	    ch->cfg->name, ch->origin, &ch->anchor, &ch->frontier, note_out,
	    &size, diag);
	if (r != RCPT_OK)
		return r;
	ch->cp_size = size;
	ch->cp_ms = rcpt_ts_now_ms();
	if (size_out != NULL)
		*size_out = size;
	return RCPT_OK;
}

static void
answer_string(struct d_call *c, const char *s)
{
	json_object *v = json_object_new_string(s);

	if (v == NULL)
		d_answer_error(c, -32603, "out of memory");
	else
		d_answer_json(c, v);
}

void
d_run_checkpoint(struct d_chain *ch, struct d_call *c)
{
	struct rcpt_diag diag = {0};
	char *note = NULL;
	int r = d_checkpoint_now(ch, &note, NULL, &diag);

	if (r != RCPT_OK)
		d_answer_err(c, r, &diag);
	else
		answer_string(c, note);
	free(note);
}

static uint64_t
tip_size(const struct d_chain *ch)
{
	uint64_t size;
	uint8_t h[RCPT_HASH_LEN];

	rcpt_ceremony_tip(ch->cer, &size, h);
	return size;
}

/*
 * A checkpoint of exactly @p size when @p exact, else of at least
 * @p size: stored when there is one, otherwise a fresh one when the
 * current size qualifies.
 */
static int
note_for(struct d_chain *ch, uint64_t size, int exact, const char *param,
    char **note, uint64_t *got, struct rcpt_diag *diag)
{
	struct daemon *d = ch->d;
	uint64_t cur = tip_size(ch), have = 0;
	int r;

	*note = NULL;
	if (exact) {
		r = rcpt_store_get_checkpoint(
		    d->store, ch->cfg->name, size, note, NULL);
		if (r == RCPT_OK) {
			*got = size;
			return RCPT_OK;
		}
		if (r != RCPT_E_NOT_FOUND || size != cur)
			return rcpt_diag(diag, RCPT_E_NOT_FOUND,
			    "params.%s: no checkpoint of chain %s was made at "
			    "size %llu",
			    param, ch->cfg->name, (unsigned long long)size);
	} else {
		r = rcpt_store_latest_checkpoint(
		    d->store, ch->cfg->name, note, &have, NULL);
		if (r == RCPT_OK && have >= size) {
			*got = have;
			return RCPT_OK;
		}
		free(*note);
		*note = NULL;
	}
	return d_checkpoint_now(ch, note, got, diag);
}

/* The entry_hash of receipt @p seq. */
static int
entry_hash_of(struct d_chain *ch, uint64_t seq, uint8_t out[RCPT_HASH_LEN],
    int *signed_out, struct rcpt_diag *diag)
{
	struct rcpt_receipt_view vw;
	char *line = NULL;
	size_t len = 0;
	int r;

	if ((r = rcpt_store_get_receipt(ch->d->store, ch->cfg->name, seq, &line,
	         &len, diag)) != RCPT_OK)
		return r;
	r = rcpt_receipt_scan(line, len, RCPT_JSON_DEPTH_MAX, &vw, diag);
	if (r == RCPT_OK) {
		memcpy(out, vw.entry_hash_raw, RCPT_HASH_LEN);
		if (signed_out != NULL)
			*signed_out = vw.has_signature;
	} else
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: stored receipt %llu is damaged", ch->cfg->name,
		    (unsigned long long)seq);
	free(line);
	return r;
}

/* Builds the inclusion proof of @p seq in @p note as JCS text. */
static int
inclusion_text(struct d_chain *ch, uint64_t seq, const char *note, char **out,
    size_t *len, struct rcpt_diag *diag)
{
	struct rcpt_inclusion_proof p;
	struct rcpt_store_snap *snap = NULL;
	uint8_t eh[RCPT_HASH_LEN];
	int r;

	memset(&p, 0, sizeof(p));
	if ((r = entry_hash_of(ch, seq, eh, NULL, diag)) != RCPT_OK ||
	    (r = rcpt_store_snap_begin(
	         ch->d->store, ch->cfg->name, &snap, diag)) != RCPT_OK)
		return r;
	r = rcpt_proof_inclusion_build(
	    rcpt_store_leaf, snap, ch->cfg->name, seq, eh, note, &p, diag);
	rcpt_store_snap_end(snap);
	if (r == RCPT_OK)
		r = rcpt_proof_inclusion_serialize(&p, out, len, diag);
	rcpt_proof_inclusion_clear(&p);
	return r;
}

void
d_run_prove_inclusion(struct d_chain *ch, struct d_call *c)
{
	struct rcpt_diag diag = {0};
	uint64_t seq, ts = 0, got = 0, cur = tip_size(ch);
	char *note = NULL, *text = NULL;
	size_t len = 0;
	int r, has_ts;

	if ((r = d_param_u64(c, "seq", 1, &seq, &diag)) != RCPT_OK)
		goto out;
	has_ts = d_param_u64(c, "tree_size", 0, &ts, &diag) == RCPT_OK;
	if (seq >= cur) {
		r = rcpt_diag(&diag, RCPT_E_NOT_FOUND,
		    "params.seq: chain %s has %llu receipts", ch->cfg->name,
		    (unsigned long long)cur);
		goto out;
	}
	if (has_ts && (ts <= seq || ts > cur)) {
		r = rcpt_diag(&diag, RCPT_E_INVAL,
		    "params.tree_size: must be above seq and at most the "
		    "chain's size %llu",
		    (unsigned long long)cur);
		goto out;
	}
	if ((r = note_for(ch, has_ts ? ts : seq + 1, has_ts, "tree_size", &note,
	         &got, &diag)) != RCPT_OK ||
	    (r = inclusion_text(ch, seq, note, &text, &len, &diag)) != RCPT_OK)
		goto out;
	d_answer_raw(c, text, len);
out:
	if (r != RCPT_OK)
		d_answer_err(c, r, &diag);
	free(note);
	free(text);
}

void
d_run_prove_consistency(struct d_chain *ch, struct d_call *c)
{
	struct rcpt_consistency_proof p;
	struct rcpt_store_snap *snap = NULL;
	struct rcpt_diag diag = {0};
	uint64_t old_size, new_size = 0, got = 0, cur = tip_size(ch);
	char *old_note = NULL, *new_note = NULL, *text = NULL;
	size_t len = 0;
	int r, has_new;

	memset(&p, 0, sizeof(p));
	if ((r = d_param_u64(c, "old_size", 1, &old_size, &diag)) != RCPT_OK)
		goto out;
	has_new = d_param_u64(c, "new_size", 0, &new_size, &diag) == RCPT_OK;
	if (old_size > cur ||
	    (has_new && (new_size < old_size || new_size > cur))) {
		r = rcpt_diag(&diag, RCPT_E_INVAL,
		    "params.%s: sizes must satisfy 1 <= old_size <= new_size "
		    "<= %llu (the chain's size)",
		    old_size > cur ? "old_size" : "new_size",
		    (unsigned long long)cur);
		goto out;
	}
	if ((r = note_for(ch, old_size, 1, "old_size", &old_note, &got,
	         &diag)) != RCPT_OK ||
	    (r = note_for(ch, has_new ? new_size : old_size, has_new,
	         "new_size", &new_note, &got, &diag)) != RCPT_OK ||
	    (r = rcpt_store_snap_begin(
	         ch->d->store, ch->cfg->name, &snap, &diag)) != RCPT_OK)
		goto out;
	r = rcpt_proof_consistency_build(rcpt_store_leaf, snap, ch->cfg->name,
	    old_note, new_note, &p, &diag);
	rcpt_store_snap_end(snap);
	if (r == RCPT_OK && (r = rcpt_proof_consistency_serialize(
	                         &p, &text, &len, &diag)) == RCPT_OK)
		d_answer_raw(c, text, len);
out:
	if (r != RCPT_OK)
		d_answer_err(c, r, &diag);
	rcpt_proof_consistency_clear(&p);
	free(old_note);
	free(new_note);
	free(text);
}

/* After a key change, a checkpoint under the new key; logged only. */
static void
checkpoint_after(struct d_chain *ch, const char *what)
{
	struct rcpt_diag diag = {0};
	char *note = NULL;
	int r = d_checkpoint_now(ch, &note, NULL, &diag);

	if (r != RCPT_OK)
		d_log(D_WARN, "chain %s: checkpoint after %s failed: %s",
		    ch->cfg->name, what, rcpt_diag_msg(&diag, r));
	free(note);
}

void
d_run_rotate(struct d_chain *ch, struct d_call *c)
{
	const char *wit[RCPT_CEREMONY_WITNESSES_MAX];
	struct rcpt_ceremony_record rec = {0};
	struct rcpt_diag diag = {0};
	json_object *cer = NULL, *v;
	char ts[RCPT_TS_LEN + 1], *line = NULL;
	size_t len = 0, i;
	int r, have = 0;

	if (json_object_object_get_ex(c->params, "ceremony", &cer)) {
		have = 1;
		if (json_object_object_get_ex(cer, "operator", &v))
			rec.operator_name = json_object_get_string(v);
		if (json_object_object_get_ex(cer, "token_serial", &v))
			rec.token_serial = json_object_get_string(v);
		if (json_object_object_get_ex(cer, "witnesses", &v)) {
			rec.n_witnesses = json_object_array_length(v);
			for (i = 0; i < rec.n_witnesses; i++)
				wit[i] = json_object_get_string(
				    json_object_array_get_idx(v, i));
			rec.witnesses = wit;
		}
	}
	if ((r = d_now(ts)) != RCPT_OK ||
	    (r = rcpt_ceremony_rotate(ch->cer, ts, c->who,
	         d_param_str(c, "reason"), have ? &rec : NULL, &line, &len,
	         &diag)) != RCPT_OK) {
		d_answer_err(c, r, &diag);
		return;
	}
	d_log(D_INFO, "chain %s: rotated to key %s by %s", ch->cfg->name,
	    rcpt_ceremony_active_kid(ch->cer), c->who);
	d_answer_raw(c, line, len);
	free(line);
	checkpoint_after(ch, "rotation");
}

void
d_run_revoke(struct d_chain *ch, struct d_call *c)
{
	struct rcpt_diag diag = {0};
	char ts[RCPT_TS_LEN + 1], *line = NULL;
	size_t len = 0;
	int r;

	if ((r = d_now(ts)) != RCPT_OK ||
	    (r = rcpt_ceremony_revoke(ch->cer, ts, c->who,
	         d_param_str(c, "kid"), d_param_str(c, "reason"),
	         d_param_str(c, "effective"), &line, &len, &diag)) != RCPT_OK) {
		d_answer_err(c, r, &diag);
		return;
	}
	d_log(D_INFO, "chain %s: key %s revoked by %s", ch->cfg->name,
	    d_param_str(c, "kid"), c->who);
	d_answer_raw(c, line, len);
	free(line);
	checkpoint_after(ch, "revocation");
}

static int
prune_before(
    struct d_chain *ch, const char *before, uint64_t *n, struct rcpt_diag *diag)
{
	char now[RCPT_TS_LEN + 1];
	int r;

	if ((r = d_now(now)) != RCPT_OK)
		return rcpt_diag(diag, r, "clock: unusable");
	return rcpt_ceremony_prune(ch->cer, before, now, n, diag);
}

void
d_run_prune(struct d_chain *ch, struct d_call *c)
{
	struct rcpt_diag diag = {0};
	json_object *o;
	uint64_t n = 0;
	int r = prune_before(ch, d_param_str(c, "before"), &n, &diag);

	if (r != RCPT_OK) {
		d_answer_err(c, r, &diag);
		return;
	}
	d_log(D_INFO, "chain %s: %llu receipts pruned by %s", ch->cfg->name,
	    (unsigned long long)n, c->who);
	o = json_object_new_object();
	if (o == NULL || rcpt_json_add(o, "pruned",
	                     json_object_new_double((double)n)) != RCPT_OK) {
		json_object_put(o);
		d_answer_error(c, -32603, "out of memory");
		return;
	}
	d_answer_json(c, o);
}

void
d_retention(struct d_chain *ch)
{
	struct rcpt_diag diag = {0};
	char cut[RCPT_TS_LEN + 1];
	uint64_t n = 0;
	int r;

	if (rcpt_cfg_retention_cutoff(ch->cfg, rcpt_ts_now_ms(), cut) !=
	        RCPT_OK ||
	    cut[0] == '\0')
		return;
	r = prune_before(ch, cut, &n, &diag);
	if (r != RCPT_OK)
		d_log(D_ERR, "chain %s: retention: %s", ch->cfg->name,
		    rcpt_diag_msg(&diag, r));
	else if (n > 0)
		d_log(D_INFO,
		    "chain %s: retention pruned %llu receipts before %s",
		    ch->cfg->name, (unsigned long long)n, cut);
}

/* SHA-256 of receipts.jsonl for @p from..@p to, streamed. */
static int
hash_range(struct d_chain *ch, uint64_t from, uint64_t to,
    uint8_t out[RCPT_HASH_LEN], struct rcpt_diag *diag)
{
	struct rcpt_store_snap *snap = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	const char *line;
	size_t len;
	uint64_t seq;
	int r = RCPT_OK;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return rcpt_diag(diag, RCPT_E_NOMEM, "sha256: cannot start");
	}
	if ((r = rcpt_store_snap_begin(
	         ch->d->store, ch->cfg->name, &snap, diag)) != RCPT_OK)
		goto out;
	for (seq = from; seq <= to; seq++) {
		if ((r = rcpt_store_snap_receipt(snap, seq, &line, &len)) !=
		    RCPT_OK) {
			rcpt_diag(diag, r, "chain %s: receipt %llu unreadable",
			    ch->cfg->name, (unsigned long long)seq);
			goto out;
		}
		if (EVP_DigestUpdate(md, line, len) != 1 ||
		    EVP_DigestUpdate(md, "\n", 1) != 1) {
			r = rcpt_diag(diag, RCPT_E_INTERNAL, "sha256 failed");
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(md, out, NULL) != 1)
		r = rcpt_diag(diag, RCPT_E_INTERNAL, "sha256 failed");
out:
	rcpt_store_snap_end(snap);
	EVP_MD_CTX_free(md);
	return r;
}

/* {"checkpoint","keys","manifest","manifest_sig","proofs"} */
static int
export_answer(struct d_call *c, const char *manifest, size_t mlen,
    const char *sig, const char *keys, const char *note, const char *proofs)
{
	json_object *o = json_object_new_object(), *m = NULL;
	char hex[129];
	int bad;

	memcpy(hex, sig, 128);
	hex[128] = '\0';
	bad = o == NULL || rcpt_json_parse(manifest, mlen, 8, "manifest", &m,
	                       NULL) != RCPT_OK;
	bad = bad || rcpt_json_add(o, "manifest", m) ||
	      rcpt_json_add(o, "manifest_sig", json_object_new_string(hex)) ||
	      rcpt_json_add(o, "keys", json_object_new_string(keys)) ||
	      rcpt_json_add(o, "checkpoint", json_object_new_string(note)) ||
	      (proofs != NULL ? rcpt_json_add(
	                            o, "proofs", json_object_new_string(proofs))
	                      : json_object_object_add(o, "proofs", NULL));
	if (bad) {
		json_object_put(o);
		return RCPT_E_NOMEM;
	}
	return d_answer_json(c, o);
}

void
d_run_export(struct d_chain *ch, struct d_call *c)
{
	struct rcpt_bundle_parts parts = {0};
	struct rcpt_diag diag = {0};
	uint64_t from, to, got = 0, cur = tip_size(ch);
	uint8_t sum[RCPT_HASH_LEN], eh[RCPT_HASH_LEN];
	char created[RCPT_TS_LEN + 1], sig[RCPT_BUNDLE_SIG_TEXT_LEN + 1];
	char *note = NULL, *keys = NULL, *proof = NULL, *man = NULL, *pl;
	size_t klen = 0, plen = 0, mlen = 0;
	int r, sealed = 0;

	if ((r = d_param_u64(c, "from", 1, &from, &diag)) != RCPT_OK ||
	    (r = d_param_u64(c, "to", 1, &to, &diag)) != RCPT_OK)
		goto out;
	if (to >= cur) {
		r = rcpt_diag(&diag, RCPT_E_NOT_FOUND,
		    "params.to: chain %s has %llu receipts", ch->cfg->name,
		    (unsigned long long)cur);
		goto out;
	}
	if ((r = entry_hash_of(ch, to, eh, &sealed, &diag)) != RCPT_OK)
		goto out;
	if (!sealed) {
		r = rcpt_diag(&diag, RCPT_E_INVAL,
		    "params.to: receipt %llu carries no signature (a batch "
		    "chain seals the last receipt of each batch); end the "
		    "export at a sealed receipt",
		    (unsigned long long)to);
		goto out;
	}
	if ((r = note_for(ch, to + 1, 0, "to", &note, &got, &diag)) !=
	        RCPT_OK ||
	    (r = hash_range(ch, from, to, sum, &diag)) != RCPT_OK ||
	    (r = rcpt_store_jwks(ch->d->store, &keys, &klen, &diag)) !=
	        RCPT_OK ||
	    (r = d_now(created)) != RCPT_OK)
		goto out;
	if (rcpt_bundle_needs_proofs(from, to, got)) {
		if ((r = inclusion_text(ch, to, note, &proof, &plen, &diag)) !=
		    RCPT_OK)
			goto out;
		if ((pl = rcpt_realloc(proof, plen + 2)) == NULL) {
			r = RCPT_E_NOMEM;
			goto out;
		}
		proof = pl;
		proof[plen++] = '\n';
		proof[plen] = '\0';
	}
	parts.chain = ch->cfg->name;
	parts.first_seq = from;
	parts.last_seq = to;
	parts.created = created;
	parts.receipts_sha256 = sum;
	parts.keys = keys;
	parts.keys_len = klen;
	parts.checkpoint = note;
	parts.checkpoint_len = strlen(note);
	parts.proofs = proof;
	parts.proofs_len = plen;
	if ((r = rcpt_bundle_manifest(&parts, rcpt_ceremony_signer(ch->cer),
	         &man, &mlen, sig, &diag)) != RCPT_OK)
		goto out;
	r = export_answer(c, man, mlen, sig, keys, note, proof);
	if (r != RCPT_OK)
		rcpt_diag(&diag, r, "export: answer not built");
out:
	if (r != RCPT_OK)
		d_answer_err(c, r, &diag);
	free(note);
	free(keys);
	free(proof);
	free(man);
}
