/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The second stage of a chain's group commit.
 *
 * Signing a batch (one token signature per receipt of an each chain,
 * or one per batch) and syncing the one before it are the two slow
 * steps, and they need different things: the token, and the disk.  So
 * the writer makes batch N+1 on top of batch N while this thread
 * stores N, and answers N's callers the moment N is durable.
 *
 * What it promises: batches are stored in the order they were made,
 * one at a time, each only after the one it links to; a call is
 * answered with its receipt only once the transaction holding it is
 * committed and synced.  When a store fails, its callers get the error
 * here, and the writer (d_committer_reap) rewinds its handle and fails
 * any batch it made on top, so nothing later links to what was never
 * stored.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "daemon/rpc.h"

/* The message of an item's own refusal, as a params error. */
static void
answer_item(struct d_call *c, struct rcpt_ceremony_item *it)
{
	char msg[sizeof(it->diag.msg) + 16];
	const char *m = rcpt_diag_msg(&it->diag, it->result);

	if (it->result == RCPT_E_INVAL || it->result == RCPT_E_TOO_LARGE) {
		snprintf(msg, sizeof(msg), "params.%s", m);
		d_answer_error(c, rcpt_err_rpc_code(it->result), msg);
	} else
		d_answer_err(c, it->result, &it->diag);
}

void
d_flight_answer(struct d_chain *ch, struct d_flight *f)
{
	struct d_call *c, *next;
	size_t i;

	for (c = f->calls, i = 0; c != NULL; c = next, i++) {
		next = c->qnext;
		if (f->items[i].result == RCPT_OK)
			d_answer_raw(c, f->items[i].line, f->items[i].len);
		else
			answer_item(c, &f->items[i]);
		free(f->items[i].line);
		f->items[i].line = NULL;
		d_complete(ch->d, c);
	}
	f->calls = NULL;
}

void
d_flight_free(struct d_flight *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n; i++)
		free(f->items[i].line);
	free(f->items);
	free(f);
}

static void *
committer_main(void *arg)
{
	struct d_chain *ch = arg;
	struct d_flight *f;

	pthread_mutex_lock(&ch->mu);
	for (;;) {
		while ((ch->flight == NULL || ch->flight_done) &&
		       !ch->committer_stop)
			pthread_cond_wait(&ch->fcv, &ch->mu);
		if (ch->flight == NULL || ch->flight_done)
			break; /* stopping, nothing left to store */
		f = ch->flight;
		pthread_mutex_unlock(&ch->mu);

		rcpt_diag_clear(&f->diag);
		f->result = rcpt_ceremony_batch_store(f->b, &f->diag);
		if (f->result != RCPT_OK)
			d_log(D_ERR, "chain %s: batch of %zu not stored: %s",
			    ch->cfg->name, f->n,
			    rcpt_diag_msg(&f->diag, f->result));
		d_flight_answer(ch, f);

		pthread_mutex_lock(&ch->mu);
		ch->flight_done = 1;
		pthread_cond_broadcast(&ch->cv);
	}
	pthread_mutex_unlock(&ch->mu);
	return NULL;
}

int
d_committer_start(struct d_chain *ch)
{
	if (pthread_create(&ch->committer, NULL, committer_main, ch) != 0)
		return RCPT_E_NOMEM;
	ch->committer_started = 1;
	return RCPT_OK;
}

void
d_committer_stop(struct d_chain *ch)
{
	struct rcpt_diag why;

	if (!ch->committer_started)
		return;
	(void)d_committer_reap(ch, &why);
	pthread_mutex_lock(&ch->mu);
	ch->committer_stop = 1;
	pthread_cond_broadcast(&ch->fcv);
	pthread_mutex_unlock(&ch->mu);
	pthread_join(ch->committer, NULL);
	ch->committer_started = 0;
}

void
d_committer_hand(struct d_chain *ch, struct d_flight *f)
{
	pthread_mutex_lock(&ch->mu);
	ch->flight = f;
	ch->flight_done = 0;
	pthread_cond_signal(&ch->fcv);
	pthread_mutex_unlock(&ch->mu);
}

int
d_committer_ready(struct d_chain *ch)
{
	int ready;

	pthread_mutex_lock(&ch->mu);
	ready = ch->flight != NULL && ch->flight_done;
	pthread_mutex_unlock(&ch->mu);
	return ready;
}

struct d_flight *
d_committer_take(struct d_chain *ch)
{
	struct d_flight *f;

	pthread_mutex_lock(&ch->mu);
	while (ch->flight != NULL && !ch->flight_done)
		pthread_cond_wait(&ch->cv, &ch->mu);
	f = ch->flight;
	ch->flight = NULL;
	ch->flight_done = 0;
	pthread_mutex_unlock(&ch->mu);
	return f;
}

int
d_committer_reap(struct d_chain *ch, struct rcpt_diag *why)
{
	struct d_flight *f = d_committer_take(ch);
	int r;

	if (f == NULL)
		return RCPT_OK;
	r = f->result;
	if (r != RCPT_OK && why != NULL)
		*why = f->diag;
	rcpt_ceremony_batch_end(ch->cer, f->b, r == RCPT_OK, r, &f->diag);
	d_flight_free(f);
	return r;
}
