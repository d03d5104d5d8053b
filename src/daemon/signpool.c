/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sign pool: signatures of one commit batch made on several threads
 * at once, so that a token with several sessions (the PKCS#11 provider
 * keeps a pool of them) signs in parallel.  The receipts' hashes are
 * fixed before signing starts (an entry_hash does not cover its own
 * signature), so the order in which signatures finish does not matter.
 *
 * The calling writer signs one share itself and waits for the others;
 * all writers share the pool.  The signer checks every signature under
 * the public key before handing it out (keystore.h), so a share that
 * fails fails the whole batch.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "mem.h"

#define MIN_SHARE 4 /* fewer signatures are not worth a hand-off */

struct share {
	const struct rcpt_signer *s;
	const uint8_t (*msgs)[32];
	uint8_t (*sigs)[RCPT_ED25519_SIG_LEN];
	size_t n;
	int result;
	struct job *job;
	struct share *next;
};

struct job {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t left;
};

struct d_signpool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct share *head;
	int stop;
	unsigned n_threads;
	pthread_t *threads;
};

static int
sign_share(struct share *sh)
{
	size_t i;
	int r;

	for (i = 0; i < sh->n; i++)
		if ((r = sh->s->sign(sh->s->ctx, sh->s->kid, sh->msgs[i],
		         sh->sigs[i])) != RCPT_OK)
			return r;
	return RCPT_OK;
}

static void *
pool_main(void *arg)
{
	struct d_signpool *p = arg;
	struct share *sh;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->head == NULL && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->head == NULL)
			break;
		sh = p->head;
		p->head = sh->next;
		pthread_mutex_unlock(&p->mu);
		sh->result = sign_share(sh);
		pthread_mutex_lock(&sh->job->mu);
		if (--sh->job->left == 0)
			pthread_cond_signal(&sh->job->cv);
		pthread_mutex_unlock(&sh->job->mu);
		pthread_mutex_lock(&p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
d_signpool_new(
    unsigned threads, struct d_signpool **out, struct rcpt_diag *diag)
{
	struct d_signpool *p;
	unsigned i;

	*out = NULL;
	if ((p = rcpt_calloc(1, sizeof(*p))) == NULL)
		return rcpt_diag(diag, RCPT_E_NOMEM, "out of memory");
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	/* The writer signs a share itself: threads - 1 helpers. */
	if (threads > 1 && (p->threads = rcpt_calloc(
	                        threads - 1, sizeof(pthread_t))) == NULL) {
		d_signpool_free(p);
		return rcpt_diag(diag, RCPT_E_NOMEM, "out of memory");
	}
	for (i = 0; i + 1 < threads; i++) {
		if (pthread_create(&p->threads[i], NULL, pool_main, p) != 0) {
			d_signpool_free(p);
			return rcpt_diag(
			    diag, RCPT_E_NOMEM, "cannot start signing threads");
		}
		p->n_threads++;
	}
	*out = p;
	return RCPT_OK;
}

void
d_signpool_free(struct d_signpool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->threads);
	free(p);
}

int
d_sign_many(void *ctx, const struct rcpt_signer *s, const uint8_t (*msgs)[32],
    uint8_t (*sigs)[RCPT_ED25519_SIG_LEN], size_t n)
{
	struct d_signpool *p = ctx;
	struct share shares[65], *own;
	struct job job;
	size_t k, i, per, at = 0;
	int r = RCPT_OK;

	k = p == NULL ? 1 : (size_t)p->n_threads + 1;
	if (k > n / MIN_SHARE)
		k = n / MIN_SHARE;
	if (k > 65)
		k = 65;
	if (k <= 1) {
		struct share sh = {.s = s, .msgs = msgs, .sigs = sigs, .n = n};

		return sign_share(&sh);
	}
	pthread_mutex_init(&job.mu, NULL);
	pthread_cond_init(&job.cv, NULL);
	job.left = k - 1;
	per = n / k;
	for (i = 0; i < k; i++) {
		shares[i] = (struct share){.s = s,
		    .msgs = msgs + at,
		    .sigs = sigs + at,
		    .n = i + 1 == k ? n - at : per,
		    .job = &job};
		at += shares[i].n;
	}
	own = &shares[k - 1];
	pthread_mutex_lock(&p->mu);
	for (i = 0; i + 1 < k; i++) {
		shares[i].next = p->head;
		p->head = &shares[i];
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	own->result = sign_share(own);
	pthread_mutex_lock(&job.mu);
	while (job.left > 0)
		pthread_cond_wait(&job.cv, &job.mu);
	pthread_mutex_unlock(&job.mu);
	for (i = 0; i < k; i++)
		if (shares[i].result != RCPT_OK && r == RCPT_OK)
			r = shares[i].result;
	pthread_mutex_destroy(&job.mu);
	pthread_cond_destroy(&job.cv);
	return r;
}
