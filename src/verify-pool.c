/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The verifier's signature workers (verify.c feeds them): a bounded
 * ring of jobs, published and taken in batches, and the lowest-ranked
 * failure the workers found.  What it promises: every job published is
 * checked or, once a failure at a lower seq is known, skipped as unable
 * to change the verdict; rcpt_verify_pool_drain() returns only when no
 * job is queued or running, so the caller then reads the final failure.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ed25519.h"
#include "verify-int.h"

/* The result of one signature job, or none when it passed. */
static void
job_failure(
    const struct rcpt_verify_job *j, int r, struct rcpt_verify_failure *f)
{
	memset(f, 0, sizeof(*f));
	if (r == RCPT_OK)
		return;
	f->set = true;
	f->has_seq = true;
	f->seq = j->seq;
	f->step = S_SIG;
	if (r == RCPT_E_BAD_SIGNATURE) {
		f->status = RCPT_VERIFY_BROKEN;
		snprintf(f->reason, sizeof(f->reason),
		    "signature does not verify under kid %s", j->kid);
	} else {
		f->status = RCPT_VERIFY_ERROR;
		snprintf(f->reason, sizeof(f->reason),
		    "signature check could not run: %s", rcpt_strerror(r));
	}
}

/* Checks @p n jobs in seq order; the first failure ends the batch. */
static void
check_batch(const struct rcpt_verify_job *jobs, size_t n, uint64_t skip_after,
    struct rcpt_ed25519_vctx **ctx, uint8_t ctx_pub[RCPT_ED25519_PUB_LEN],
    struct rcpt_verify_failure *f)
{
	const struct rcpt_verify_job *j;
	size_t i;
	int r;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < n; i++) {
		j = &jobs[i];
		/* A lower failure is known: this one cannot be reported. */
		if (j->seq > skip_after)
			return;
		r = RCPT_OK;
		if (*ctx == NULL ||
		    memcmp(ctx_pub, j->pub, RCPT_ED25519_PUB_LEN) != 0) {
			rcpt_ed25519_vctx_free(*ctx);
			*ctx = NULL;
			r = rcpt_ed25519_vctx_new(j->pub, ctx);
			memcpy(ctx_pub, j->pub, RCPT_ED25519_PUB_LEN);
		}
		if (r == RCPT_OK)
			r = rcpt_ed25519_vctx_verify(
			    *ctx, j->msg, sizeof(j->msg), j->sig);
		if (r != RCPT_OK) {
			job_failure(j, r, f);
			return;
		}
	}
}

/* Copies up to BATCH jobs off the queue's head into @p out; under mu. */
static size_t
take_batch(struct rcpt_verifier *v, struct rcpt_verify_job *out)
{
	size_t n = v->qlen < BATCH ? v->qlen : BATCH, first;

	first = QUEUE_CAP - v->qhead < n ? QUEUE_CAP - v->qhead : n;
	memcpy(out, &v->q[v->qhead], first * sizeof(*out));
	memcpy(out + first, v->q, (n - first) * sizeof(*out));
	v->qhead = (v->qhead + n) % QUEUE_CAP;
	v->qlen -= n;
	if (v->push_waiting && v->qlen <= QUEUE_CAP / 2)
		pthread_cond_signal(&v->can_push);
	return n;
}

/*
 * Jobs count as busy from the moment they leave the queue until the
 * worker takes the lock again, so that rcpt_verify_pool_drain() knows when
 * every check it waits for has been judged.
 */
void *
rcpt_verify_pool_worker(void *arg)
{
	struct rcpt_verifier *v = arg;
	struct rcpt_ed25519_vctx *ctx = NULL;
	uint8_t ctx_pub[RCPT_ED25519_PUB_LEN];
	struct rcpt_verify_failure f;
	struct rcpt_verify_job jobs[BATCH];
	uint64_t skip_after;
	size_t n = 0;

	memset(&f, 0, sizeof(f));
	pthread_mutex_lock(&v->mu);
	for (;;) {
		if (n > 0) {
			if (f.set && rcpt_verify_ranks_before(&f, &v->wfail)) {
				v->wfail = f;
				__atomic_store_n(
				    &v->wfailed, 1, __ATOMIC_RELAXED);
			}
			v->busy -= (int)n;
			if (v->busy == 0 && v->qlen == 0)
				pthread_cond_broadcast(&v->drained);
			n = 0;
		}
		while (v->qlen == 0 && !v->closing) {
			v->idle++;
			pthread_cond_wait(&v->can_pop, &v->mu);
			v->idle--;
		}
		if (v->qlen == 0)
			break;
		n = take_batch(v, jobs);
		v->busy += (int)n;
		skip_after = v->wfail.set ? v->wfail.seq : UINT64_MAX;
		pthread_mutex_unlock(&v->mu);
		check_batch(jobs, n, skip_after, &ctx, ctx_pub, &f);
		pthread_mutex_lock(&v->mu);
	}
	pthread_mutex_unlock(&v->mu);
	rcpt_ed25519_vctx_free(ctx);
	return NULL;
}

/*
 * Hands the staged jobs to the workers.  The feeding thread writes jobs
 * into free slots without the lock (only it writes there), and they
 * become the workers' only here, under it.  When @p room_needed, waits
 * until half the queue is free.
 */
void
rcpt_verify_pool_publish(struct rcpt_verifier *v, bool room_needed)
{
	pthread_mutex_lock(&v->mu);
	v->qlen += v->staged;
	v->staged = 0;
	if (v->idle > 0)
		pthread_cond_signal(&v->can_pop);
	while (room_needed && v->qlen > QUEUE_CAP / 2) {
		v->push_waiting = true;
		pthread_cond_wait(&v->can_push, &v->mu);
	}
	v->push_waiting = false;
	v->room = QUEUE_CAP - v->qlen;
	pthread_mutex_unlock(&v->mu);
}

/*
 * Waits until every signature job queued so far has been judged.  A
 * revocation judges receipts already passed (SPEC 4), so it may only be
 * applied once the checks before it are known: otherwise its verdict,
 * at a lower seq, could win or lose against a pending bad signature
 * depending on thread timing, and differ from the one-thread answer.
 */
void
rcpt_verify_pool_drain(struct rcpt_verifier *v)
{
	if (v->started == 0)
		return;
	rcpt_verify_pool_publish(v, false);
	pthread_mutex_lock(&v->mu);
	while (v->qlen > 0 || v->busy > 0)
		pthread_cond_wait(&v->drained, &v->mu);
	pthread_mutex_unlock(&v->mu);
}

void
rcpt_verify_pool_stop(struct rcpt_verifier *v)
{
	int i;

	if (!v->sync_ok)
		return;
	/* Staged jobs may hold a lower failure than the one that stopped. */
	pthread_mutex_lock(&v->mu);
	v->qlen += v->staged;
	v->staged = 0;
	v->closing = true;
	pthread_cond_broadcast(&v->can_pop);
	pthread_mutex_unlock(&v->mu);
	for (i = 0; i < v->started; i++)
		pthread_join(v->tids[i], NULL);
	v->started = 0;
}

/* The lock and conditions the workers share; none is left on failure. */
int
rcpt_verify_pool_init(struct rcpt_verifier *v)
{
	pthread_cond_t *conds[] = {&v->can_pop, &v->can_push, &v->drained};
	size_t i, n, all = sizeof(conds) / sizeof(conds[0]);

	if (pthread_mutex_init(&v->mu, NULL) != 0)
		return RCPT_E_INTERNAL;
	for (n = 0; n < all; n++)
		if (pthread_cond_init(conds[n], NULL) != 0)
			break;
	if (n == all) {
		v->sync_ok = true;
		return RCPT_OK;
	}
	for (i = 0; i < n; i++)
		pthread_cond_destroy(conds[i]);
	pthread_mutex_destroy(&v->mu);
	return RCPT_E_INTERNAL;
}
