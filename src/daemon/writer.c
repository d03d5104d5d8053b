/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One writer thread per chain: the group commit.
 *
 * The writer is the only code that grows its chain, so the tip it links
 * to is always one it sealed itself (SPEC 1.2): hashing happens in one
 * thread, in queue order, and no two batches ever race for a seq.  Each
 * round takes every append queued so far (up to [limits] batch), hands
 * them to rcpt_ceremony_append_batch (built in order, signed on the
 * sign pool, one transaction, one sync) and only then completes their
 * calls.  A batch that fails fails each of its calls and stores nothing.
 *
 * Any other job (checkpoint, proofs, export, rotate, revoke, prune) is
 * run alone between batches.  Checkpoints are also made when the
 * configured count or interval has passed, and retention runs hourly.
 *
 * At start every stored chain is checked against the token's anchor
 * and verified in full (rcpt_anchor_check); a chain that fails stops
 * the daemon with -32006's reason.  A configured chain missing from the
 * store is created: genesis, then its first checkpoint and anchor.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/daemon.h"
#include "daemon/rpc.h"
#include "json.h"
#include "mem.h"
#include "ts.h"

#define RETENTION_EVERY_MS (3600 * 1000)
/*
 * How often the writer gives back its mappings of store pages
 * (rcpt_store_release), so that RSS does not grow with the store.
 */
#define RELEASE_EVERY_MS 1000

static int64_t
mono_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

/* Now plus @p us as an absolute time for pthread_cond_timedwait. */
static void
deadline(struct timespec *until, int64_t us)
{
	clock_gettime(CLOCK_REALTIME, until);
	until->tv_sec += us / 1000000;
	until->tv_nsec += (us % 1000000) * 1000;
	if (until->tv_nsec >= 1000000000) {
		until->tv_sec++;
		until->tv_nsec -= 1000000000;
	}
}

int
d_now(char out[RCPT_TS_LEN + 1])
{
	return rcpt_ts_format(rcpt_ts_now_ms(), out);
}

void
d_writer_queue(struct d_chain *ch, struct d_call *c)
{
	c->queued_us = mono_us();
	pthread_mutex_lock(&ch->mu);
	c->qnext = NULL;
	if (ch->qtail != NULL)
		ch->qtail->qnext = c;
	else
		ch->qhead = c;
	ch->qtail = c;
	ch->qlen++;
	pthread_cond_signal(&ch->cv);
	pthread_mutex_unlock(&ch->mu);
}

/*
 * [limits] batch_wait: with appends queued but fewer than a full batch,
 * waits until the batch is full or the oldest has waited that long.
 * Called with ch->mu held.
 */
static void
gather(struct d_chain *ch, size_t max, int64_t wait_us)
{
	struct timespec until;
	int64_t left;

	while (!ch->stop && ch->qlen < max && ch->qhead != NULL) {
		left = ch->qhead->queued_us + wait_us - mono_us();
		if (left <= 0)
			break;
		deadline(&until, left);
		if (pthread_cond_timedwait(&ch->cv, &ch->mu, &until) ==
		    ETIMEDOUT)
			break;
	}
}

/* Takes the head job, or up to @p max consecutive appends. */
static struct d_call *
take(struct d_chain *ch, size_t max, size_t *n_out)
{
	struct d_call *h = ch->qhead, *c = h, *last = h;
	size_t n = 1;

	if (h->method == D_APPEND)
		while (n < max && c->qnext != NULL &&
		       c->qnext->method == D_APPEND) {
			c = c->qnext;
			last = c;
			n++;
		}
	ch->qhead = last->qnext;
	if (ch->qhead == NULL)
		ch->qtail = NULL;
	last->qnext = NULL;
	ch->qlen -= n;
	*n_out = n;
	return h;
}

static void
finish(struct d_chain *ch, struct d_call *c)
{
	d_complete(ch->d, c);
}

/* Fails each of the calls from @p h on when no batch could be made. */
static void
fail_calls(struct d_chain *ch, struct d_call *h, const char *msg)
{
	struct d_call *c, *next;

	for (c = h; c != NULL; c = next) {
		next = c->qnext;
		d_answer_error(c, -32603, msg);
		finish(ch, c);
	}
}

/*
 * Makes the batch of the @p n appends from @p h on while the committer
 * stores the one before, and hands it over.
 */
static void
run_appends(struct d_chain *ch, struct d_call *h, size_t n)
{
	struct d_flight *f;
	struct d_call *c;
	struct rcpt_diag diag = {0};
	json_object *data;
	char ts[RCPT_TS_LEN + 1];
	size_t i;
	int r;

	if ((f = rcpt_calloc(1, sizeof(*f))) == NULL ||
	    (f->items = rcpt_calloc(n, sizeof(*f->items))) == NULL ||
	    d_now(ts) != RCPT_OK) {
		free(f);
		fail_calls(ch, h, "out of memory");
		return;
	}
	f->calls = h;
	f->n = n;
	for (c = h, i = 0; c != NULL; c = c->qnext, i++) {
		json_object_object_get_ex(
		    c->params, "tags", (json_object **)&f->items[i].ev.tags);
		data = NULL;
		json_object_object_get_ex(c->params, "data", &data);
		f->items[i].ev.type = d_param_str(c, "type");
		f->items[i].ev.data = data;
		f->items[i].ev.submitter = c->who;
		f->items[i].ev.ts = ts;
	}
	r = rcpt_ceremony_batch_make(
	    ch->cer, f->items, n, d_sign_many, ch->d->pool, &f->b, &diag);
	if (r != RCPT_OK)
		d_log(D_ERR, "chain %s: batch of %zu not made: %s",
		    ch->cfg->name, n, rcpt_diag_msg(&diag, r));
	if (f->b == NULL) {
		/* Nothing to store: refusals, or the failure, go back now. */
		d_flight_answer(ch, f);
		d_flight_free(f);
		return;
	}
	d_committer_hand(ch, f);
	d_committer_collect(ch);
}

static void
run_job(struct d_chain *ch, struct d_call *c)
{
	/* Jobs read the store: what was made must be stored first. */
	d_committer_drain(ch);
	switch (c->method) {
	case D_CHECKPOINT:
		d_run_checkpoint(ch, c);
		break;
	case D_PROVE_INCLUSION:
		d_run_prove_inclusion(ch, c);
		break;
	case D_PROVE_CONSISTENCY:
		d_run_prove_consistency(ch, c);
		break;
	case D_ROTATE:
		d_run_rotate(ch, c);
		break;
	case D_REVOKE:
		d_run_revoke(ch, c);
		break;
	case D_PRUNE:
		d_run_prune(ch, c);
		break;
	case D_EXPORT:
		d_run_export(ch, c);
		break;
	default:
		d_answer_error(c, -32603, "internal error: not a writer job");
		break;
	}
	finish(ch, c);
}

static int64_t
now_ms(void)
{
	return rcpt_ts_now_ms();
}

/* Checkpoints when the configured count or time has passed. */
static void
cadence(struct d_chain *ch)
{
	const struct rcpt_cfg_chain *cc = ch->cfg;
	uint64_t size;
	uint8_t tip[RCPT_HASH_LEN];
	struct rcpt_diag diag = {0};
	char *note = NULL;
	int due = 0, r;

	rcpt_ceremony_tip(ch->cer, &size, tip);
	if (size == ch->cp_size)
		return;
	if (cc->checkpoint_every != 0 &&
	    size - ch->cp_size >= cc->checkpoint_every)
		due = 1;
	if (cc->checkpoint_interval_ms != 0 &&
	    now_ms() - ch->cp_ms >= cc->checkpoint_interval_ms)
		due = 1;
	if (!due)
		return;
	/* The checkpoint covers what is stored: store what is made. */
	d_committer_drain(ch);
	if ((r = d_checkpoint_now(ch, &note, NULL, &diag)) != RCPT_OK) {
		d_log(D_ERR, "chain %s: scheduled checkpoint failed: %s",
		    cc->name, rcpt_diag_msg(&diag, r));
		ch->cp_ms = now_ms(); /* retry at the next interval */
	}
	free(note);
}

/* Milliseconds until the next timed duty, or -1 for none. */
static int64_t
next_duty(const struct d_chain *ch)
{
	int64_t t = -1, n = now_ms(), left;
	uint64_t size;
	uint8_t tip[RCPT_HASH_LEN];

	/* An idle chain needs no checkpoint; the next append wakes us. */
	rcpt_ceremony_tip(ch->cer, &size, tip);
	if (ch->cfg->checkpoint_interval_ms != 0 && size != ch->cp_size) {
		left = ch->cp_ms + ch->cfg->checkpoint_interval_ms - n;
		t = left < 0 ? 0 : left;
	}
	if (ch->cfg->retention_unit != 0) {
		left = ch->prune_ms + RETENTION_EVERY_MS - n;
		left = left < 0 ? 0 : left;
		t = t < 0 || left < t ? left : t;
	}
	return t;
}

static void *
writer_main(void *arg)
{
	struct d_chain *ch = arg;
	const struct rcpt_cfg *fx = ch->d->fixed;
	struct d_call *h;
	struct timespec until;
	int64_t wait;
	size_t n = 0;

	pthread_mutex_lock(&ch->mu);
	for (;;) {
		/* Also wake to end a batch stored meanwhile (or failed). */
		while (
		    ch->qhead == NULL && !ch->stop && ch->done_head == NULL) {
			wait = next_duty(ch);
			if (wait == 0)
				break;
			if (wait < 0) {
				pthread_cond_wait(&ch->cv, &ch->mu);
				continue;
			}
			deadline(&until, wait * 1000);
			if (pthread_cond_timedwait(&ch->cv, &ch->mu, &until) ==
			    ETIMEDOUT)
				break;
		}
		if (ch->qhead == NULL && ch->stop)
			break;
		if (ch->qhead != NULL && ch->qhead->method == D_APPEND &&
		    fx->batch_wait_us > 0)
			gather(ch, fx->batch_max, fx->batch_wait_us);
		h = ch->qhead != NULL ? take(ch, fx->batch_max, &n) : NULL;
		pthread_mutex_unlock(&ch->mu);
		if (h == NULL)
			d_committer_collect(ch);
		else if (h->method == D_APPEND)
			run_appends(ch, h, n);
		else
			run_job(ch, h);
		cadence(ch);
		if (now_ms() - ch->release_ms >= RELEASE_EVERY_MS) {
			ch->release_ms = now_ms();
			rcpt_store_release(ch->d->store);
		}
		if (ch->cfg->retention_unit != 0 &&
		    now_ms() - ch->prune_ms >= RETENTION_EVERY_MS) {
			d_committer_drain(ch);
			ch->prune_ms = now_ms();
			d_retention(ch);
		}
		pthread_mutex_lock(&ch->mu);
	}
	pthread_mutex_unlock(&ch->mu);
	/* Nothing made is left behind unstored when the writer ends. */
	d_committer_drain(ch);
	return NULL;
}

/* Opens a stored chain after checking it, or creates a new one. */
static int
open_chain(struct daemon *d, struct d_chain *ch, struct rcpt_diag *diag)
{
	const struct rcpt_cfg_chain *cc = ch->cfg;
	struct rcpt_ceremony_genesis g = {0};
	struct rcpt_ceremony_opts o = {.data_max = d->fixed->data_max};
	struct rcpt_anchor_state st;
	struct rcpt_anchor_verified ver;
	struct rcpt_store_chain rec;
	char ts[RCPT_TS_LEN + 1], *note = NULL;
	int r;

	r = rcpt_store_get_chain(d->store, cc->name, &rec, diag);
	if (r == RCPT_E_NOT_FOUND) {
		rcpt_diag_clear(diag);
		if ((r = d_now(ts)) != RCPT_OK)
			return rcpt_diag(diag, r, "clock: unusable");
		g.chain = cc->name;
		g.origin = d->fixed->origin;
		g.sealing = cc->sealing;
		g.ts = ts;
		if ((r = rcpt_ceremony_create(d->store, d->ks, &g, &o, &ch->cer,
		         NULL, NULL, diag)) != RCPT_OK)
			return r;
		d_log(D_INFO, "chain %s: created (%s sealing), key %s",
		    cc->name, rcpt_chain_sealing_name(cc->sealing),
		    rcpt_ceremony_active_kid(ch->cer));
		if ((r = rcpt_anchor_checkpoint(d->store, d->ks,
		         rcpt_ceremony_signer(ch->cer), cc->name, &note,
		         diag)) != RCPT_OK)
			return r;
		free(note);
	} else if (r != RCPT_OK)
		return r;
	else {
		if (rec.sealing != cc->sealing)
			return rcpt_diag(diag, RCPT_E_CONFIG,
			    "chain %s: configured sealing %s but the chain "
			    "was created with %s, which cannot change",
			    cc->name, rcpt_chain_sealing_name(cc->sealing),
			    rcpt_chain_sealing_name(rec.sealing));
		if ((r = rcpt_anchor_check(
		         d->store, d->ks, cc->name, &st, diag)) != RCPT_OK)
			return r;
		/* Verified just now: opening need not do it again. */
		ver.size = st.store_size;
		memcpy(ver.root, st.store_root, sizeof(ver.root));
		memcpy(ver.origin, st.origin, sizeof(ver.origin));
		memcpy(ver.active_kid, st.active_kid, sizeof(ver.active_kid));
		memcpy(ver.active_pub, st.active_pub, sizeof(ver.active_pub));
		o.verified = &ver;
		if ((r = rcpt_ceremony_open(d->store, d->ks, cc->name, &o,
		         &ch->cer, diag)) != RCPT_OK)
			return r;
		d_log(D_INFO, "chain %s: %llu receipts verified, key %s",
		    cc->name, (unsigned long long)st.store_size,
		    rcpt_ceremony_active_kid(ch->cer));
	}
	if ((r = rcpt_store_get_chain(d->store, cc->name, &rec, diag)) !=
	        RCPT_OK ||
	    (r = rcpt_anchor_read(d->ks, cc->name, &ch->anchor, diag)) !=
	        RCPT_OK)
		return r;
	memcpy(ch->origin, rec.origin, sizeof(ch->origin));
	/* The start-up check read every page; none is needed now. */
	rcpt_store_release(d->store);
	ch->release_ms = now_ms();
	ch->cp_size = ch->anchor.size;
	ch->cp_ms = now_ms();
	ch->prune_ms = 0; /* retention runs once soon after start */
	return RCPT_OK;
}

int
d_writers_start(struct daemon *d, struct rcpt_diag *diag)
{
	struct d_chain *ch;
	size_t i;
	int r;

	if ((d->chains = rcpt_calloc(d->fixed->n_chains, sizeof(*d->chains))) ==
	    NULL)
		return rcpt_diag(diag, RCPT_E_NOMEM, "out of memory");
	d->n_chains = d->fixed->n_chains;
	for (i = 0; i < d->n_chains; i++) {
		ch = &d->chains[i];
		ch->d = d;
		ch->cfg = &d->fixed->chains[i];
		pthread_mutex_init(&ch->mu, NULL);
		pthread_cond_init(&ch->cv, NULL);
		pthread_cond_init(&ch->fcv, NULL);
	}
	for (i = 0; i < d->n_chains; i++) {
		ch = &d->chains[i];
		if ((r = open_chain(d, ch, diag)) != RCPT_OK)
			return r;
		if (d_committer_start(ch) != RCPT_OK)
			return rcpt_diag(diag, RCPT_E_NOMEM,
			    "chain %s: cannot start its committer",
			    ch->cfg->name);
		if (pthread_create(&ch->thread, NULL, writer_main, ch) != 0)
			return rcpt_diag(diag, RCPT_E_NOMEM,
			    "chain %s: cannot start its writer", ch->cfg->name);
		ch->started = 1;
	}
	return RCPT_OK;
}

void
d_writers_stop(struct daemon *d)
{
	struct d_chain *ch;
	size_t i;

	for (i = 0; i < d->n_chains; i++) {
		ch = &d->chains[i];
		pthread_mutex_lock(&ch->mu);
		ch->stop = 1;
		pthread_cond_signal(&ch->cv);
		pthread_mutex_unlock(&ch->mu);
	}
	for (i = 0; i < d->n_chains; i++) {
		ch = &d->chains[i];
		if (ch->started)
			pthread_join(ch->thread, NULL);
		d_committer_stop(ch);
		rcpt_ceremony_close(ch->cer);
		ch->cer = NULL;
		pthread_mutex_destroy(&ch->mu);
		pthread_cond_destroy(&ch->cv);
		pthread_cond_destroy(&ch->fcv);
	}
	free(d->chains);
	d->chains = NULL;
	d->n_chains = 0;
}
