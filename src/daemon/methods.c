/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The read methods (get, range, tip, keys, status), answered by a small
 * pool of reader threads from LMDB read transactions, so that reads go
 * on while a writer commits, and while the map is full.
 *
 * `range` answers up to `count` receipts but stops early, after at
 * least one, once the answer would pass D_ANSWER_MAX bytes: clients
 * page on from the last seq they got, as they do at the tip.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "daemon/rpc.h"
#include "encode.h"
#include "json.h"
#include "mem.h"

#define READERS 2

void
d_readers_queue(struct daemon *d, struct d_call *c)
{
	pthread_mutex_lock(&d->rmu);
	c->qnext = NULL;
	if (d->rtail != NULL)
		d->rtail->qnext = c;
	else
		d->rhead = c;
	d->rtail = c;
	pthread_cond_signal(&d->rcv);
	pthread_mutex_unlock(&d->rmu);
}

/* The chain's record; -32005 names the chain when it has none. */
static int
chain_rec(struct daemon *d, struct d_call *c, struct rcpt_store_chain *rec)
{
	struct rcpt_diag diag = {0};
	int r = rcpt_store_get_chain(d->store, c->chain->cfg->name, rec, &diag);

	if (r != RCPT_OK)
		d_answer_err(c, r, &diag);
	return r;
}

static void
do_get(struct daemon *d, struct d_call *c)
{
	struct rcpt_store_chain rec;
	struct rcpt_diag diag = {0};
	uint64_t seq;
	char *line = NULL, msg[128];
	size_t len = 0;
	int r;

	if (d_param_u64(c, "seq", 1, &seq, &diag) != RCPT_OK ||
	    chain_rec(d, c, &rec) != RCPT_OK)
		return;
	if (seq >= rec.size) {
		snprintf(msg, sizeof(msg),
		    "params.seq: chain %s has %llu receipts", rec.name,
		    (unsigned long long)rec.size);
		d_answer_error(c, -32005, msg);
		return;
	}
	r = rcpt_store_get_receipt(d->store, rec.name, seq, &line, &len, &diag);
	if (r != RCPT_OK)
		d_answer_err(c, r, &diag);
	else
		d_answer_raw(c, line, len);
	free(line);
}

static void
do_range(struct daemon *d, struct d_call *c)
{
	struct rcpt_store_chain rec;
	struct rcpt_store_snap *snap = NULL;
	struct rcpt_diag diag = {0};
	struct rcpt_buf b = {0};
	uint64_t from, count, seq;
	const char *line;
	char msg[128];
	size_t len;
	int r = RCPT_OK;

	if (d_param_u64(c, "from", 1, &from, &diag) != RCPT_OK ||
	    d_param_u64(c, "count", 1, &count, &diag) != RCPT_OK)
		return;
	if ((r = rcpt_store_snap_begin(
	         d->store, c->chain->cfg->name, &snap, &diag)) != RCPT_OK ||
	    (r = rcpt_store_snap_chain(snap, &rec, &diag)) != RCPT_OK)
		goto out;
	if (from >= rec.size) {
		snprintf(msg, sizeof(msg),
		    "params.from: chain %s has %llu receipts", rec.name,
		    (unsigned long long)rec.size);
		rcpt_store_snap_end(snap);
		d_answer_error(c, -32005, msg);
		return;
	}
	r = rcpt_buf_append(&b, "[", 1);
	for (seq = from; r == RCPT_OK && seq < rec.size && seq - from < count;
	     seq++) {
		if ((r = rcpt_store_snap_receipt(snap, seq, &line, &len)) !=
		    RCPT_OK) {
			rcpt_diag(&diag, r, "chain %s: receipt %llu unreadable",
			    rec.name, (unsigned long long)seq);
			break;
		}
		if (seq > from && b.len + len + 2 > D_ANSWER_MAX)
			break;
		if ((seq > from &&
		        (r = rcpt_buf_append(&b, ",", 1)) != RCPT_OK) ||
		    (r = rcpt_buf_append(&b, line, len)) != RCPT_OK)
			break;
	}
	if (r == RCPT_OK)
		r = rcpt_buf_append(&b, "]", 1);
out:
	rcpt_store_snap_end(snap);
	if (r != RCPT_OK)
		d_answer_err(c, r, &diag);
	else
		d_answer_raw(c, b.p, b.len);
	rcpt_buf_clear(&b);
}

static void
do_tip(struct daemon *d, struct d_call *c)
{
	struct rcpt_store_chain rec;
	json_object *o;
	char hex[2 * RCPT_HASH_LEN + 1];

	if (chain_rec(d, c, &rec) != RCPT_OK)
		return;
	rcpt_hex_encode(rec.tip_hash, RCPT_HASH_LEN, hex);
	o = json_object_new_object();
	if (o == NULL ||
	    rcpt_json_add(o, "size",
	        json_object_new_double((double)rec.size)) != RCPT_OK ||
	    rcpt_json_add(o, "entry_hash", json_object_new_string(hex)) !=
	        RCPT_OK) {
		json_object_put(o);
		d_answer_error(c, -32603, "out of memory");
		return;
	}
	d_answer_json(c, o);
}

static void
do_keys(struct daemon *d, struct d_call *c)
{
	struct rcpt_diag diag = {0};
	char *text = NULL;
	size_t len = 0;
	int r = rcpt_store_jwks(d->store, &text, &len, &diag);

	if (r != RCPT_OK)
		d_answer_err(c, r, &diag);
	else
		d_answer_raw(c, text, len);
	free(text);
}

/* status: token, map and, per chain, size, key and last checkpoint. */
static void
do_status(struct daemon *d, struct d_call *c)
{
	json_object *o = json_object_new_object(), *chains, *e;
	struct rcpt_store_chain rec;
	struct rcpt_diag diag = {0};
	size_t used = 0, map = 0, i;
	uint64_t cp;
	char *note = NULL;
	int r, token, bad = 0;

	token = rcpt_ks_health(d->ks, &diag) == RCPT_OK;
	if (rcpt_store_usage(d->store, &used, &map) != RCPT_OK)
		used = map = 0;
	chains = json_object_new_array();
	if (o == NULL || chains == NULL)
		bad = 1;
	for (i = 0; !bad && i < d->n_chains; i++) {
		if ((r = rcpt_store_get_chain(d->store, d->chains[i].cfg->name,
		         &rec, NULL)) != RCPT_OK)
			continue;
		cp = 0;
		if (rcpt_store_latest_checkpoint(
		        d->store, rec.name, &note, &cp, NULL) == RCPT_OK)
			free(note);
		note = NULL;
		e = json_object_new_object();
		bad |= e == NULL ||
		       rcpt_json_add(
		           e, "chain", json_object_new_string(rec.name)) ||
		       rcpt_json_add(e, "size",
		           json_object_new_double((double)rec.size)) ||
		       rcpt_json_add(e, "sealing",
		           json_object_new_string(
		               rcpt_chain_sealing_name(rec.sealing))) ||
		       rcpt_json_add(
		           e, "kid", json_object_new_string(rec.active_kid)) ||
		       rcpt_json_add(
		           e, "last_ts", json_object_new_string(rec.tip_ts)) ||
		       rcpt_json_add(e, "checkpoint_size",
		           json_object_new_double((double)cp)) ||
		       json_object_array_add(chains, e);
	}
	bad =
	    bad ||
	    rcpt_json_add(
	        o, "token_reachable", json_object_new_boolean(token)) ||
	    rcpt_json_add(o, "chains", json_object_get(chains)) ||
	    rcpt_json_add(
	        o, "map_used", json_object_new_double((double)used)) ||
	    rcpt_json_add(o, "map_size", json_object_new_double((double)map)) ||
	    rcpt_json_add(o, "map_max",
	        json_object_new_double((double)d->fixed->map_max)) ||
	    rcpt_json_add(o, "map_free",
	        json_object_new_double(
	            (double)(d->fixed->map_max > used ? d->fixed->map_max - used
	                                              : 0))) ||
	    rcpt_json_add(
	        o, "connections", json_object_new_double((double)d->n_conns));
	json_object_put(chains);
	if (bad) {
		json_object_put(o);
		d_answer_error(c, -32603, "out of memory");
		return;
	}
	d_answer_json(c, o);
}

static void *
reader_main(void *arg)
{
	struct daemon *d = arg;
	struct d_call *c;

	pthread_mutex_lock(&d->rmu);
	for (;;) {
		while (d->rhead == NULL && !d->rstop)
			pthread_cond_wait(&d->rcv, &d->rmu);
		if (d->rhead == NULL)
			break;
		c = d->rhead;
		d->rhead = c->qnext;
		if (d->rhead == NULL)
			d->rtail = NULL;
		pthread_mutex_unlock(&d->rmu);
		switch (c->method) {
		case D_GET:
			do_get(d, c);
			break;
		case D_RANGE:
			do_range(d, c);
			break;
		case D_TIP:
			do_tip(d, c);
			break;
		case D_KEYS:
			do_keys(d, c);
			break;
		case D_STATUS:
			do_status(d, c);
			break;
		default:
			d_answer_error(c, -32603, "internal error: not a read");
		}
		d_complete(d, c);
		pthread_mutex_lock(&d->rmu);
	}
	pthread_mutex_unlock(&d->rmu);
	return NULL;
}

int
d_readers_start(struct daemon *d, struct rcpt_diag *diag)
{
	int i;

	pthread_mutex_init(&d->rmu, NULL);
	pthread_cond_init(&d->rcv, NULL);
	for (i = 0; i < READERS; i++) {
		if (pthread_create(&d->readers[i], NULL, reader_main, d) != 0)
			return rcpt_diag(
			    diag, RCPT_E_NOMEM, "cannot start a reader thread");
		d->n_readers++;
	}
	return RCPT_OK;
}

void
d_readers_stop(struct daemon *d)
{
	int i;

	pthread_mutex_lock(&d->rmu);
	d->rstop = 1;
	pthread_cond_broadcast(&d->rcv);
	pthread_mutex_unlock(&d->rmu);
	for (i = 0; i < d->n_readers; i++)
		pthread_join(d->readers[i], NULL);
	d->n_readers = 0;
}
