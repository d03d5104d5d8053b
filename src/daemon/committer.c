/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The second stage of a chain's group commit.
 *
 * Signing a batch (one token signature per receipt of an each chain,
 * or one per batch) and syncing the one before it are the two slow
 * steps, and they need different things: the token, and the disk.  So
 * the writer makes batch N+1 on top of batch N while this thread
 * stores N, and the callers of N are answered the moment N is durable.
 * A made batch waits in one slot; the committer takes it as soon as it
 * is done with the one before, without waiting for the writer, and the
 * writer makes no further batch until the slot is free again, so that
 * appends arriving meanwhile join one larger batch rather than many
 * small ones.
 *
 * What it promises: batches are stored in the order they were made,
 * one at a time, each only after the one it links to; a call is
 * answered with its receipt only once the transaction holding it is
 * committed and synced.  Once a store fails the pipeline is broken:
 * every batch made after it fails with it, since it links to receipts
 * that were never stored, until the writer drains the pipeline and
 * rewinds its handle to the tip before the first failed batch.
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

/* Answers @p calls from @p items, then frees the items. */
static void
answer_calls(
    struct d_chain *ch, struct d_call *calls, struct rcpt_ceremony_item *items)
{
	struct d_call *c, *next;
	size_t i;

	for (c = calls, i = 0; c != NULL; c = next, i++) {
		next = c->qnext;
		if (items[i].result == RCPT_OK)
			d_answer_raw(c, items[i].line, items[i].len);
		else
			answer_item(c, &items[i]);
		free(items[i].line);
		items[i].line = NULL;
		d_complete(ch->d, c);
	}
}

void
d_flight_answer(struct d_chain *ch, struct d_flight *f)
{
	answer_calls(ch, f->calls, f->items);
	f->calls = NULL;
}

void
d_flight_free(struct d_flight *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; f->items != NULL && i < f->n; i++)
		free(f->items[i].line);
	free(f->items);
	free(f);
}

/* Stores @p f, or fails it when the pipeline broke before it. */
static void
store_one(struct d_chain *ch, struct d_flight *f, int broken_r,
    const struct rcpt_diag *broken_why)
{
	rcpt_diag_clear(&f->diag);
	if (broken_r != RCPT_OK) {
		f->result = rcpt_diag(&f->diag, broken_r,
		    "the batch before it was not stored (%s)",
		    rcpt_diag_msg(broken_why, broken_r));
		rcpt_ceremony_batch_fail(f->b, f->result, &f->diag);
		return;
	}
	f->result = rcpt_ceremony_batch_store(f->b, &f->diag);
	if (f->result != RCPT_OK)
		d_log(D_ERR, "chain %s: batch of %zu not stored: %s",
		    ch->cfg->name, f->n, rcpt_diag_msg(&f->diag, f->result));
}

static void *
committer_main(void *arg)
{
	struct d_chain *ch = arg;
	struct d_flight *f;
	struct d_call *calls;
	struct rcpt_ceremony_item *items;
	struct rcpt_diag why;
	int broken_r;

	pthread_mutex_lock(&ch->mu);
	for (;;) {
		while (ch->next == NULL && !ch->committer_stop)
			pthread_cond_wait(&ch->fcv, &ch->mu);
		if (ch->next == NULL)
			break; /* stopping, nothing left to store */
		f = ch->next;
		ch->next = NULL;
		ch->storing = 1;
		broken_r = ch->broken ? ch->broken_r : RCPT_OK;
		why = ch->broken_why;
		pthread_cond_broadcast(&ch->cv); /* the slot is free */
		pthread_mutex_unlock(&ch->mu);

		store_one(ch, f, broken_r, &why);
		/* The writer ends the batch; its callers are ours to answer. */
		calls = f->calls;
		items = f->items;
		f->calls = NULL;
		f->items = NULL;

		pthread_mutex_lock(&ch->mu);
		if (f->result != RCPT_OK && !ch->broken) {
			ch->broken = 1;
			ch->broken_r = f->result;
			ch->broken_why = f->diag;
		}
		f->link = NULL;
		if (ch->done_tail != NULL)
			ch->done_tail->link = f;
		else
			ch->done_head = f;
		ch->done_tail = f;
		ch->storing = 0;
		pthread_cond_broadcast(&ch->cv);
		pthread_mutex_unlock(&ch->mu);

		answer_calls(ch, calls, items);
		free(items);
		pthread_mutex_lock(&ch->mu);
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
	if (!ch->committer_started)
		return;
	d_committer_drain(ch);
	pthread_mutex_lock(&ch->mu);
	ch->committer_stop = 1;
	pthread_cond_broadcast(&ch->fcv);
	pthread_mutex_unlock(&ch->mu);
	pthread_join(ch->committer, NULL);
	ch->committer_started = 0;
}

/*
 * Ends the finished batches taken from the done list (oldest first),
 * newest first: a failed batch rewinds the handle to its start, so the
 * handle ends at the tip before the oldest failed one.
 */
static void
end_all(struct d_chain *ch, struct d_flight *oldest)
{
	struct d_flight *f, *rev = NULL, *next;

	for (f = oldest; f != NULL; f = next) {
		next = f->link;
		f->link = rev;
		rev = f;
	}
	for (f = rev; f != NULL; f = next) {
		next = f->link;
		rcpt_ceremony_batch_end(
		    ch->cer, f->b, f->result == RCPT_OK, f->result, &f->diag);
		d_flight_free(f);
	}
}

void
d_committer_drain(struct d_chain *ch)
{
	struct d_flight *done;

	pthread_mutex_lock(&ch->mu);
	while (ch->next != NULL || ch->storing)
		pthread_cond_wait(&ch->cv, &ch->mu);
	done = ch->done_head;
	ch->done_head = ch->done_tail = NULL;
	ch->broken = 0;
	pthread_mutex_unlock(&ch->mu);
	end_all(ch, done);
}

void
d_committer_collect(struct d_chain *ch)
{
	struct d_flight *done;
	int broken;

	pthread_mutex_lock(&ch->mu);
	broken = ch->broken;
	done = broken ? NULL : ch->done_head;
	if (!broken)
		ch->done_head = ch->done_tail = NULL;
	pthread_mutex_unlock(&ch->mu);
	if (broken)
		d_committer_drain(ch); /* all made so far fail: end them */
	else
		end_all(ch, done); /* stored, each of them */
}

void
d_committer_hand(struct d_chain *ch, struct d_flight *f)
{
	struct rcpt_diag why;
	int r;

	pthread_mutex_lock(&ch->mu);
	while (ch->next != NULL && !ch->broken)
		pthread_cond_wait(&ch->cv, &ch->mu);
	if (!ch->broken) {
		ch->next = f;
		pthread_cond_signal(&ch->fcv);
		pthread_mutex_unlock(&ch->mu);
		return;
	}
	r = ch->broken_r;
	rcpt_diag_clear(&why);
	(void)rcpt_diag(&why, r, "the batch before it was not stored (%s)",
	    rcpt_diag_msg(&ch->broken_why, r));
	pthread_mutex_unlock(&ch->mu);
	/* Made on top of what was never stored: newest first, it goes. */
	rcpt_ceremony_batch_fail(f->b, r, &why);
	d_flight_answer(ch, f);
	rcpt_ceremony_batch_end(ch->cer, f->b, 0, r, &why);
	d_flight_free(f);
	d_committer_drain(ch);
}
