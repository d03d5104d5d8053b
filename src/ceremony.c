/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Key ceremonies of the appliance (SPEC 3, 4) over the store and a
 * keystore provider.  chain.c makes each receipt; this file decides what
 * the store must say along with it, writes receipt, chain record and key
 * registry in one transaction, and keeps the writer state in step with
 * what is durable.  Why a rotation survives a crash at any step is
 * argued in ceremony.h.  It does not checkpoint (anchor.c) and does not
 * authorise callers.
 */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "anchor.h"
#include "ceremony-int.h"
#include "ceremony.h"
#include "checkpoint.h"
#include "ed25519.h"
#include "encode.h"
#include "json.h"
#include "mem.h"
#include "utf8.h"

#define GENERATE_TRIES 4 /* fresh labels tried when one is taken */

/*
 * What a failed operation restores.  chain.c only appends to used_kids,
 * so the count is enough to undo a rotation's push.
 */
struct mark {
	uint64_t next_seq;
	uint8_t prev_hash[RCPT_HASH_LEN];
	char last_ts[RCPT_TS_LEN + 1];
	char kid[RCPT_KID_LEN + 1];
	size_t n_used;
};

static void
mark_save(const struct rcpt_chain *ch, struct mark *m)
{
	m->next_seq = ch->next_seq;
	memcpy(m->prev_hash, ch->prev_hash, sizeof(m->prev_hash));
	memcpy(m->last_ts, ch->last_ts, sizeof(m->last_ts));
	memcpy(m->kid, ch->kid, sizeof(m->kid));
	m->n_used = ch->n_used;
}

static void
mark_restore(struct rcpt_chain *ch, const struct mark *m)
{
	ch->next_seq = m->next_seq;
	memcpy(ch->prev_hash, m->prev_hash, sizeof(m->prev_hash));
	memcpy(ch->last_ts, m->last_ts, sizeof(m->last_ts));
	memcpy(ch->kid, m->kid, sizeof(m->kid));
	ch->n_used = m->n_used;
}

int
rcpt_ceremony_pass(struct rcpt_diag *diag, int r, const struct rcpt_diag *tmp)
{
	return rcpt_diag(diag, r, "%s", rcpt_diag_msg(tmp, r));
}

int
rcpt_ceremony_usable(const struct rcpt_ceremony *c, struct rcpt_diag *diag)
{
	if (c == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "chain: no handle");
	if (c->stopped)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "chain %s: a rotation was stopped here; reopen the chain",
		    c->chain.name);
	return RCPT_OK;
}

/* Calls the test hook; 1 when it stops the rotation at @p step. */
static int
stop_at(struct rcpt_ceremony *c, int step)
{
	if (c->o.fail_at == NULL || c->o.fail_at(c->o.fail_ctx, step) == 0)
		return 0;
	c->stopped = 1;
	return 1;
}

/* Checks a ceremony name: 1-128 code points, no C0 or C1 controls. */
static int
check_name(const char *s, const char *what, struct rcpt_diag *diag)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t len, n, i, k;
	uint32_t cp;

	if (s == NULL || !rcpt_utf8_check(s, (len = strlen(s)), &n) || n == 0 ||
	    n > RCPT_CEREMONY_TEXT_MAX)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "%s: must be 1 to %d characters of I-JSON text", what,
		    RCPT_CEREMONY_TEXT_MAX);
	for (i = 0; i < len; i += k) {
		if ((k = rcpt_utf8_decode(p + i, len - i, &cp)) == 0)
			return RCPT_E_INTERNAL; /* rcpt_utf8_check passed */
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "%s: control characters are not allowed", what);
	}
	return RCPT_OK;
}

/* The "ceremony" object of a rotation, or NULL when nothing is given. */
static int
build_record(const struct rcpt_ceremony_record *rec, json_object **out,
    struct rcpt_diag *diag)
{
	json_object *o = NULL, *w = NULL, *v;
	char what[48];
	size_t i;
	int r = RCPT_E_INTERNAL;

	*out = NULL;
	if (rec == NULL ||
	    (rec->operator_name == NULL && rec->n_witnesses == 0 &&
	        rec->token_serial == NULL))
		return RCPT_OK;
	if (rec->n_witnesses > RCPT_CEREMONY_WITNESSES_MAX ||
	    (rec->n_witnesses > 0 && rec->witnesses == NULL))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "ceremony.witnesses: at most %d names",
		    RCPT_CEREMONY_WITNESSES_MAX);
	if (rec->operator_name != NULL &&
	    (r = check_name(rec->operator_name, "ceremony.operator", diag)) !=
	        RCPT_OK)
		return r;
	for (i = 0; i < rec->n_witnesses; i++) {
		(void)snprintf(
		    what, sizeof(what), "ceremony.witnesses[%zu]", i);
		if ((r = check_name(rec->witnesses[i], what, diag)) != RCPT_OK)
			return r;
	}
	if (rec->token_serial != NULL &&
	    (r = check_name(
	         rec->token_serial, "ceremony.token_serial", diag)) != RCPT_OK)
		return r;
	if ((o = json_object_new_object()) == NULL)
		return RCPT_E_NOMEM;
	r = RCPT_OK;
	if (rec->operator_name != NULL)
		r = rcpt_json_add(
		    o, "operator", json_object_new_string(rec->operator_name));
	if (r == RCPT_OK && rec->n_witnesses > 0) {
		if ((w = json_object_new_array()) == NULL)
			r = RCPT_E_NOMEM;
		for (i = 0; r == RCPT_OK && i < rec->n_witnesses; i++) {
			v = json_object_new_string(rec->witnesses[i]);
			if (v == NULL || json_object_array_add(w, v) != 0) {
				json_object_put(v);
				r = RCPT_E_NOMEM;
			}
		}
		if (r == RCPT_OK) {
			r = rcpt_json_add(
			    o, "witnesses", w); /* takes w either way */
			w = NULL;
		}
	}
	if (r == RCPT_OK && rec->token_serial != NULL)
		r = rcpt_json_add(o, "token_serial",
		    json_object_new_string(rec->token_serial));
	json_object_put(w);
	if (r != RCPT_OK) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return RCPT_OK;
}

/*
 * A provider label for a new key of @p chain: "rk-", the chain name
 * with '.' made '_' (labels allow [A-Za-z0-9_-]), and 16 random hex
 * digits, so that a retry after a crash never meets its orphan.
 */
static int
make_label(const char *chain, char out[65])
{
	uint8_t rnd[8];
	size_t i, n = 3;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return RCPT_E_INTERNAL;
	memcpy(out, "rk-", 3);
	for (i = 0; i < 40 && chain[i] != '\0'; i++)
		out[n++] = chain[i] == '.' ? '_' : chain[i];
	out[n++] = '-';
	rcpt_hex_encode(rnd, sizeof(rnd), out + n);
	return RCPT_OK;
}

/* Generates a key for @p chain and binds a signer to it. */
static int
new_key(struct rcpt_ks_provider *ks, const char *chain, char **handle_out,
    struct rcpt_signer *s_out, struct rcpt_diag *diag)
{
	struct rcpt_diag tmp;
	uint8_t pub[RCPT_ED25519_PUB_LEN];
	char label[65], kid[RCPT_KID_LEN + 1];
	char *handle = NULL;
	int r = RCPT_E_INTERNAL, i;

	*handle_out = NULL;
	for (i = 0; i < GENERATE_TRIES; i++) {
		if ((r = make_label(chain, label)) != RCPT_OK)
			return rcpt_diag(
			    diag, r, "key: no randomness for a label");
		rcpt_diag_clear(&tmp);
		r = rcpt_ks_generate(ks, label, &handle, pub, kid, &tmp);
		if (r != RCPT_E_EXISTS)
			break;
	}
	if (r != RCPT_OK)
		return rcpt_ceremony_pass(diag, r, &tmp);
	if ((r = rcpt_ks_signer(ks, handle, s_out, diag)) != RCPT_OK) {
		free(handle);
		return r;
	}
	if (strcmp(s_out->kid, kid) != 0) {
		free(handle);
		return rcpt_diag(diag, RCPT_E_KEY_UNAVAILABLE,
		    "key: the provider gave another key than it generated");
	}
	*handle_out = handle;
	return RCPT_OK;
}

/* A registry entry for the active key @p s of @p chain. */
static int
key_entry(struct rcpt_store_key *k, const struct rcpt_signer *s,
    const char *chain, const char *provider, const char *handle,
    const char *created, struct rcpt_diag *diag)
{
	memset(k, 0, sizeof(*k));
	if (strlen(handle) >= sizeof(k->handle))
		return rcpt_diag(diag, RCPT_E_TOO_LARGE,
		    "key: handle: longer than %zu bytes",
		    sizeof(k->handle) - 1);
	if (strlen(provider) >= sizeof(k->provider))
		return rcpt_diag(diag, RCPT_E_TOO_LARGE,
		    "key: provider: name longer than %zu bytes",
		    sizeof(k->provider) - 1);
	memcpy(k->kid, s->kid, sizeof(k->kid));
	memcpy(k->pub, s->pub, sizeof(k->pub));
	memcpy(k->chain, chain, strlen(chain) + 1);
	memcpy(k->provider, provider, strlen(provider) + 1);
	memcpy(k->handle, handle, strlen(handle) + 1);
	k->status = RCPT_KEY_ACTIVE;
	memcpy(k->created, created, sizeof(k->created));
	return RCPT_OK;
}

/*
 * Writes receipt @p rc in @p t as the chain's new tip, with the chain
 * record naming @p active_kid, after checking that the stored tip is
 * the one @p rc links to (the handle is the chain's only writer).
 */
static int
put_tip(struct rcpt_store_txn *t, const struct rcpt_receipt *rc,
    const char *line, size_t len, const char *active_kid,
    struct rcpt_diag *diag)
{
	struct rcpt_store_chain rec;
	int r;

	if ((r = rcpt_store_txn_get_chain(t, rc->chain, &rec, diag)) != RCPT_OK)
		return r;
	if (rec.size != rc->seq ||
	    memcmp(rec.tip_hash, rc->prev_hash, RCPT_HASH_LEN) != 0)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: the stored tip is not the one this handle "
		    "links to",
		    rc->chain);
	if ((r = rcpt_store_put_receipt(t, rc->chain, rc->seq, line, len,
	         rc->entry_hash, diag)) != RCPT_OK)
		return r;
	rec.size = rc->seq + 1;
	memcpy(rec.tip_hash, rc->entry_hash, RCPT_HASH_LEN);
	memcpy(rec.tip_ts, rc->ts, sizeof(rec.tip_ts));
	memcpy(rec.active_kid, active_kid, sizeof(rec.active_kid));
	return rcpt_store_put_chain(t, &rec, diag);
}

/*
 * One durable transaction: the new tip and up to two registry entries.
 * A full map is grown by the store; the transaction is then tried once
 * more.  @p step, when not 0, is the test hook's point before commit.
 */
static int
write_tip(struct rcpt_ceremony *c, const struct rcpt_receipt *rc,
    const char *line, size_t len, const char *active_kid,
    const struct rcpt_store_key *k1, const struct rcpt_store_key *k2, int step,
    struct rcpt_diag *diag)
{
	struct rcpt_store_txn *t = NULL;
	struct rcpt_diag tmp;
	int r = RCPT_E_INTERNAL, attempt;

	for (attempt = 0; attempt < 2; attempt++) {
		rcpt_diag_clear(&tmp);
		if ((r = rcpt_store_txn_begin(c->store, &t, &tmp)) != RCPT_OK)
			break;
		r = put_tip(t, rc, line, len, active_kid, &tmp);
		if (r == RCPT_OK && k1 != NULL)
			r = rcpt_store_put_key(t, k1, &tmp);
		if (r == RCPT_OK && k2 != NULL)
			r = rcpt_store_put_key(t, k2, &tmp);
		if (r != RCPT_OK) {
			rcpt_store_txn_abort(t);
			/* A full map was grown: run the transaction again. */
			if (r == RCPT_E_STORAGE_FULL)
				continue;
			break;
		}
		if (step != 0 && stop_at(c, step)) {
			/* A crash loses an uncommitted transaction. */
			rcpt_store_txn_abort(t);
			return rcpt_diag(diag, RCPT_E_INTERNAL,
			    "rotation: stopped by the test hook after step %d",
			    step);
		}
		r = rcpt_store_txn_commit(t, &tmp);
		if (r != RCPT_E_STORAGE_FULL)
			break;
	}
	return r == RCPT_OK ? RCPT_OK : rcpt_ceremony_pass(diag, r, &tmp);
}

/* Hands @p line out when asked for, else frees it. */
static int
give_line(char *line, size_t len, char **line_out, size_t *len_out)
{
	if (line_out != NULL)
		*line_out = line;
	else
		free(line);
	if (len_out != NULL)
		*len_out = len;
	return RCPT_OK;
}

static void
zero_outs(char **line_out, size_t *len_out)
{
	if (line_out != NULL)
		*line_out = NULL;
	if (len_out != NULL)
		*len_out = 0;
}

struct rcpt_ceremony *
rcpt_ceremony_alloc(struct rcpt_store *s, struct rcpt_ks_provider *ks,
    const struct rcpt_ceremony_opts *o)
{
	struct rcpt_ceremony *c;

	if ((c = rcpt_calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->store = s;
	c->ks = ks;
	if (o != NULL)
		c->o = *o;
	rcpt_chain_init(&c->chain);
	c->chain.data_max = c->o.data_max;
	return c;
}

void
rcpt_ceremony_close(struct rcpt_ceremony *c)
{
	if (c == NULL)
		return;
	rcpt_chain_clear(&c->chain);
	rcpt_memzero(c, sizeof(*c));
	free(c);
}

/* Refuses a chain that the token or the store already knows. */
static int
check_new_chain(struct rcpt_store *s, struct rcpt_ks_provider *ks,
    const char *chain, struct rcpt_diag *diag)
{
	struct rcpt_store_chain rec;
	struct rcpt_anchor a;
	struct rcpt_diag tmp;
	int r;

	rcpt_diag_clear(&tmp);
	r = rcpt_store_get_chain(s, chain, &rec, &tmp);
	if (r == RCPT_OK)
		return rcpt_diag(
		    diag, RCPT_E_EXISTS, "chain %s: exists already", chain);
	if (r != RCPT_E_NOT_FOUND)
		return rcpt_ceremony_pass(diag, r, &tmp);
	rcpt_diag_clear(&tmp);
	r = rcpt_anchor_read(ks, chain, &a, &tmp);
	if (r == RCPT_OK)
		return rcpt_diag(diag, RCPT_E_ANCHOR,
		    "chain %s: store has 0 receipts but the token's anchor "
		    "records %" PRIu64 ": refusing to start the chain again",
		    chain, a.size);
	if (r != RCPT_E_NOT_FOUND)
		return rcpt_ceremony_pass(diag, r, &tmp);
	return RCPT_OK;
}

int
rcpt_ceremony_create(struct rcpt_store *s, struct rcpt_ks_provider *ks,
    const struct rcpt_ceremony_genesis *g, const struct rcpt_ceremony_opts *o,
    struct rcpt_ceremony **out, char **line_out, size_t *len_out,
    struct rcpt_diag *diag)
{
	struct rcpt_ceremony *c = NULL;
	struct rcpt_receipt rc;
	struct rcpt_store_key key, old;
	struct rcpt_diag tmp;
	struct rcpt_store_txn *t = NULL;
	struct rcpt_store_chain rec, seen;
	char *handle = NULL, *line = NULL;
	size_t len = 0;
	int r = RCPT_E_INTERNAL;

	rcpt_receipt_init(&rc);
	if (out != NULL)
		*out = NULL;
	zero_outs(line_out, len_out);
	if (s == NULL || ks == NULL || g == NULL || out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "chain: missing argument");
	/* Checked here too, so that bad input leaves no key behind. */
	if (g->chain == NULL || !rcpt_receipt_chain_is_valid(g->chain))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "chain: must match ^[a-z0-9][a-z0-9._-]{0,63}$");
	if (g->origin == NULL || !rcpt_checkpoint_origin_is_valid(g->origin))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "origin: must be 1 to 200 bytes of [A-Za-z0-9._~:/-]");
	if (g->ts == NULL || !rcpt_ts_is_valid(g->ts, strlen(g->ts)))
		return rcpt_diag(diag, RCPT_E_INVAL, "ts: must be a TS");
	if ((r = check_new_chain(s, ks, g->chain, diag)) != RCPT_OK)
		return r;
	if ((c = rcpt_ceremony_alloc(s, ks, o)) == NULL)
		return RCPT_E_NOMEM;
	if (g->handle != NULL) {
		if ((handle = rcpt_strdup(g->handle)) == NULL) {
			r = RCPT_E_NOMEM;
			goto out;
		}
		r = rcpt_ks_signer(ks, handle, &c->signer, diag);
	} else
		r = new_key(ks, g->chain, &handle, &c->signer, diag);
	if (r != RCPT_OK)
		goto out;
	/* SPEC 3: each key serves one chain. */
	rcpt_diag_clear(&tmp);
	r = rcpt_store_get_key(s, c->signer.kid, &old, &tmp);
	if (r == RCPT_OK) {
		r = rcpt_diag(diag, RCPT_E_EXISTS,
		    "key: kid %s serves a chain already", c->signer.kid);
		goto out;
	}
	if (r != RCPT_E_NOT_FOUND) {
		r = rcpt_ceremony_pass(diag, r, &tmp);
		goto out;
	}
	if ((r = rcpt_chain_genesis(&c->chain, g->chain, g->origin, g->sealing,
	         g->ts, &c->signer, &rc, diag)) != RCPT_OK ||
	    (r = rcpt_receipt_serialize(&rc, &line, &len)) != RCPT_OK ||
	    (r = key_entry(&key, &c->signer, g->chain, rcpt_ks_name(ks), handle,
	         rc.ts, diag)) != RCPT_OK)
		goto out;
	memset(&rec, 0, sizeof(rec));
	memcpy(rec.name, g->chain, strlen(g->chain) + 1);
	memcpy(rec.origin, g->origin, strlen(g->origin) + 1);
	rec.sealing = g->sealing;
	rec.size = 1;
	memcpy(rec.tip_hash, rc.entry_hash, RCPT_HASH_LEN);
	memcpy(rec.tip_ts, rc.ts, sizeof(rec.tip_ts));
	memcpy(rec.active_kid, c->signer.kid, sizeof(rec.active_kid));
	if ((r = rcpt_store_txn_begin(s, &t, diag)) != RCPT_OK)
		goto out;
	/* Within the transaction, so that two creators cannot both win. */
	rcpt_diag_clear(&tmp);
	if (rcpt_store_txn_get_chain(t, g->chain, &seen, &tmp) == RCPT_OK) {
		r = rcpt_diag(
		    diag, RCPT_E_EXISTS, "chain %s: exists already", g->chain);
		goto out;
	}
	if ((r = rcpt_store_put_receipt(
	         t, g->chain, 0, line, len, rc.entry_hash, diag)) != RCPT_OK ||
	    (r = rcpt_store_put_chain(t, &rec, diag)) != RCPT_OK ||
	    (r = rcpt_store_put_key(t, &key, diag)) != RCPT_OK)
		goto out;
	r = rcpt_store_txn_commit(t, diag);
	t = NULL; /* gone either way */
	if (r != RCPT_OK)
		goto out;
	*out = c;
	c = NULL;
	r = give_line(line, len, line_out, len_out);
	line = NULL;
out:
	rcpt_store_txn_abort(t);
	rcpt_receipt_clear(&rc);
	free(line);
	free(handle);
	rcpt_ceremony_close(c);
	return r;
}

const char *
rcpt_ceremony_chain(const struct rcpt_ceremony *c)
{
	return c->chain.name;
}

const char *
rcpt_ceremony_active_kid(const struct rcpt_ceremony *c)
{
	return c->signer.kid;
}

uint64_t
rcpt_ceremony_size(const struct rcpt_ceremony *c)
{
	return c->chain.next_seq;
}

const struct rcpt_signer *
rcpt_ceremony_signer(const struct rcpt_ceremony *c)
{
	return &c->signer;
}

int
rcpt_ceremony_append(struct rcpt_ceremony *c, const struct rcpt_chain_event *ev,
    char **line_out, size_t *len_out, struct rcpt_diag *diag)
{
	struct rcpt_chain_event e;
	struct rcpt_receipt rc;
	struct mark m;
	char *line = NULL;
	size_t len = 0;
	int r = RCPT_E_INTERNAL;

	zero_outs(line_out, len_out);
	if ((r = rcpt_ceremony_usable(c, diag)) != RCPT_OK)
		return r;
	if (ev == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "event: missing");
	rcpt_receipt_init(&rc);
	/* Each commit ends a batch, and a batch ends with its seal. */
	e = *ev;
	e.seal = true;
	mark_save(&c->chain, &m);
	if ((r = rcpt_chain_append(&c->chain, &e, &c->signer, &rc, diag)) !=
	    RCPT_OK)
		goto out;
	if ((r = rcpt_receipt_serialize(&rc, &line, &len)) != RCPT_OK ||
	    (r = write_tip(c, &rc, line, len, c->chain.kid, NULL, NULL, 0,
	         diag)) != RCPT_OK) {
		mark_restore(&c->chain, &m);
		goto out;
	}
	r = give_line(line, len, line_out, len_out);
	line = NULL;
out:
	free(line);
	rcpt_receipt_clear(&rc);
	return r;
}

int
rcpt_ceremony_rotate(struct rcpt_ceremony *c, const char *ts,
    const char *submitter, const char *reason,
    const struct rcpt_ceremony_record *rec, char **line_out, size_t *len_out,
    struct rcpt_diag *diag)
{
	struct rcpt_store_key oldk, newk;
	struct rcpt_signer ns;
	struct rcpt_receipt rc;
	struct rcpt_diag tmp;
	struct mark m;
	json_object *cer = NULL;
	char *handle = NULL, *line = NULL;
	size_t len = 0, n;
	int r = RCPT_E_INTERNAL, advanced = 0;

	zero_outs(line_out, len_out);
	if ((r = rcpt_ceremony_usable(c, diag)) != RCPT_OK)
		return r;
	rcpt_receipt_init(&rc);
	/* Input checks first, so that bad input leaves no orphan key. */
	if (ts == NULL || !rcpt_ts_is_valid(ts, strlen(ts)))
		return rcpt_diag(diag, RCPT_E_INVAL, "ts: must be a TS");
	if (submitter == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "submitter: missing");
	if (reason == NULL || !rcpt_utf8_check(reason, strlen(reason), &n) ||
	    n == 0)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "reason: must be non-empty I-JSON text");
	if ((r = build_record(rec, &cer, diag)) != RCPT_OK)
		return r;
	rcpt_diag_clear(&tmp);
	if ((r = rcpt_store_get_key(c->store, c->signer.kid, &oldk, &tmp)) !=
	    RCPT_OK) {
		r = rcpt_ceremony_pass(
		    diag, r == RCPT_E_NOT_FOUND ? RCPT_E_CORRUPT : r, &tmp);
		goto out;
	}
	if (oldk.status != RCPT_KEY_ACTIVE ||
	    strcmp(oldk.chain, c->chain.name) != 0 ||
	    memcmp(oldk.pub, c->signer.pub, RCPT_ED25519_PUB_LEN) != 0) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "chain %s: keys: the registry must list the outgoing key "
		    "as this chain's active one",
		    c->chain.name);
		goto out;
	}

	/*
	 * A key introduced and retired in one millisecond cannot be told
	 * from a kid that returns, so pinned verifiers refuse it (SPEC 4).
	 */
	if (strcmp(ts, c->chain.last_ts) <= 0 &&
	    strcmp(c->chain.last_ts, oldk.created) == 0) {
		r = rcpt_diag(diag, RCPT_E_INVAL,
		    "ts: the active key was introduced at this time; rotate "
		    "again in a later millisecond");
		goto out;
	}

	/* Step 1: the new key, known only to the provider so far. */
	if ((r = new_key(c->ks, c->chain.name, &handle, &ns, diag)) != RCPT_OK)
		goto out;
	rcpt_diag_clear(&tmp);
	r = rcpt_store_get_key(c->store, ns.kid, &newk, &tmp);
	if (r != RCPT_E_NOT_FOUND) {
		r = r == RCPT_OK
		        ? rcpt_diag(diag, RCPT_E_EXISTS,
		              "new key: kid %s is registered already", ns.kid)
		        : rcpt_ceremony_pass(diag, r, &tmp);
		goto out;
	}
	if (stop_at(c, RCPT_CEREMONY_GENERATED)) {
		r = rcpt_diag(diag, RCPT_E_INTERNAL,
		    "rotation: stopped by the test hook after step 1");
		goto out;
	}

	/* Step 2: the rotation receipt, signed by the outgoing key. */
	mark_save(&c->chain, &m);
	if ((r = rcpt_chain_rotate(&c->chain, ts, submitter, reason, cer,
	         &c->signer, &ns, &rc, diag)) != RCPT_OK)
		goto out;
	advanced = 1;
	if ((r = rcpt_receipt_serialize(&rc, &line, &len)) != RCPT_OK ||
	    (r = key_entry(&newk, &ns, c->chain.name, rcpt_ks_name(c->ks),
	         handle, rc.ts, diag)) != RCPT_OK)
		goto out;
	if (stop_at(c, RCPT_CEREMONY_SIGNED)) {
		r = rcpt_diag(diag, RCPT_E_INTERNAL,
		    "rotation: stopped by the test hook after step 2");
		goto out;
	}

	/* Step 3: receipt, record and registry in one durable commit. */
	oldk.status = RCPT_KEY_RETIRED;
	memcpy(oldk.retired, rc.ts, sizeof(oldk.retired));
	if ((r = write_tip(c, &rc, line, len, ns.kid, &oldk, &newk,
	         RCPT_CEREMONY_WRITTEN, diag)) != RCPT_OK)
		goto out;
	advanced = 0;
	if (stop_at(c, RCPT_CEREMONY_COMMITTED)) {
		r = rcpt_diag(diag, RCPT_E_INTERNAL,
		    "rotation: stopped by the test hook after step 4");
		goto out;
	}
	/* Durable: only now does the new key sign. */
	c->signer = ns;
	r = give_line(line, len, line_out, len_out);
	line = NULL;
out:
	if (r != RCPT_OK && advanced && !c->stopped)
		mark_restore(&c->chain, &m);
	json_object_put(cer);
	free(line);
	free(handle);
	rcpt_receipt_clear(&rc);
	return r;
}

int
rcpt_ceremony_revoke(struct rcpt_ceremony *c, const char *ts,
    const char *submitter, const char *kid, const char *reason,
    const char *effective, char **line_out, size_t *len_out,
    struct rcpt_diag *diag)
{
	struct rcpt_store_key k;
	struct rcpt_receipt rc;
	struct rcpt_diag tmp;
	struct mark m;
	char *line = NULL;
	size_t len = 0;
	int r = RCPT_E_INTERNAL;

	zero_outs(line_out, len_out);
	if ((r = rcpt_ceremony_usable(c, diag)) != RCPT_OK)
		return r;
	if (kid == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "kid: missing");
	rcpt_diag_clear(&tmp);
	r = rcpt_store_get_key(c->store, kid, &k, &tmp);
	if (r != RCPT_OK && r != RCPT_E_NOT_FOUND)
		return rcpt_ceremony_pass(diag, r, &tmp);
	if (r == RCPT_E_NOT_FOUND || strcmp(k.chain, c->chain.name) != 0)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "kid: must be a key this chain rotated away from (SPEC 4)");
	if (k.status == RCPT_KEY_ACTIVE)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "kid: must be a key this chain rotated away from, not its "
		    "active key");
	if (k.status == RCPT_KEY_REVOKED)
		return rcpt_diag(diag, RCPT_E_INVAL, "kid: revoked already");
	if (effective == NULL ||
	    !rcpt_ts_is_valid(effective, strlen(effective)))
		return rcpt_diag(diag, RCPT_E_INVAL, "effective: must be a TS");
	rcpt_receipt_init(&rc);
	mark_save(&c->chain, &m);
	if ((r = rcpt_chain_revoke(&c->chain, ts, submitter, kid, reason,
	         effective, &c->signer, &rc, diag)) != RCPT_OK)
		goto out;
	/* SPEC 3 "revoked": from when its receipts are invalid (SPEC 8). */
	k.status = RCPT_KEY_REVOKED;
	memcpy(k.revoked, effective, sizeof(k.revoked));
	if ((r = rcpt_receipt_serialize(&rc, &line, &len)) != RCPT_OK ||
	    (r = write_tip(c, &rc, line, len, c->chain.kid, &k, NULL, 0,
	         diag)) != RCPT_OK) {
		mark_restore(&c->chain, &m);
		goto out;
	}
	r = give_line(line, len, line_out, len_out);
	line = NULL;
out:
	free(line);
	rcpt_receipt_clear(&rc);
	return r;
}
