/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The offline verifier (SPEC 8).  One pass, in chain order, over lines
 * scanned without a JSON tree (rcpt_receipt_scan): per receipt the
 * checks of SPEC 8 run in its order 1 to 6 and the first failure wins.
 *
 * With threads >= 2 the signature checks (step 5) go to worker threads
 * through a bounded queue while this thread goes on with the next
 * receipts.  Every failure is ranked by (seq, step), and the lowest one
 * is reported; a revocation, which judges receipts already passed, first
 * waits for the checks queued before it.  So the answer does not depend
 * on thread timing.  Memory is bounded: nothing per receipt is kept,
 * only per key.
 *
 * This file holds the verifier's lifecycle, the feeding of lines (steps
 * 1, 2, 3, 5 and 6), the workers, the end-of-chain and checkpoint rules,
 * the stream reader and the result line.  It deliberately leaves key
 * state and the reserved receipts (step 4) to verify-keys.c, and the
 * syntax of a receipt line to receipt-scan.c.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "checkpoint.h"
#include "ed25519.h"
#include "mem.h"
#include "receipt.h"
#include "ts.h"
#include "verify-int.h"
#include "verify.h"

bool
rcpt_verify_ranks_before(
    const struct rcpt_verify_failure *a, const struct rcpt_verify_failure *b)
{
	if (!b->set)
		return a->set;
	if (!a->set)
		return false;
	if (a->seq != b->seq)
		return a->seq < b->seq;
	return a->step < b->step;
}

/* Keeps the failure if it ranks before the one held; stops feeding. */
static void record(struct rcpt_verifier *v, enum rcpt_verify_status st,
    bool has_seq, uint64_t seq, int step, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

static void
record(struct rcpt_verifier *v, enum rcpt_verify_status st, bool has_seq,
    uint64_t seq, int step, const char *fmt, va_list ap)
{
	struct rcpt_verify_failure n;

	memset(&n, 0, sizeof(n));
	n.set = true;
	n.status = st;
	n.has_seq = has_seq;
	n.seq = seq;
	n.step = step;
	vsnprintf(n.reason, sizeof(n.reason), fmt, ap);
	if (rcpt_verify_ranks_before(&n, &v->fail))
		v->fail = n;
	v->stopped = true;
}

/* Records a failure of receipt @p seq at @p step. */
static int fail_at(struct rcpt_verifier *v, uint64_t seq, int step,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
fail_at(struct rcpt_verifier *v, uint64_t seq, int step, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(v, RCPT_VERIFY_BROKEN, true, seq, step, fmt, ap);
	va_end(ap);
	return RCPT_E_CORRUPT;
}

int
rcpt_verify_fail_key(
    struct rcpt_verifier *v, uint64_t seq, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(v, RCPT_VERIFY_BROKEN, true, seq, S_KEY, fmt, ap);
	va_end(ap);
	return RCPT_E_CORRUPT;
}

/* A failure of the chain as a whole (no single receipt). */
static int fail_global(struct rcpt_verifier *v, enum rcpt_verify_status st,
    uint64_t rank, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
fail_global(struct rcpt_verifier *v, enum rcpt_verify_status st, uint64_t rank,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record(v, st, false, rank, S_GLOBAL, fmt, ap);
	va_end(ap);
	return st == RCPT_VERIFY_ERROR ? RCPT_E_INTERNAL : RCPT_E_CORRUPT;
}

int
rcpt_verifier_new(
    const struct rcpt_verify_opts *opts, struct rcpt_verifier **out)
{
	struct rcpt_verifier *v = NULL;
	int r = RCPT_E_INTERNAL, i;

	*out = NULL;
	if (opts == NULL || opts->first_seq > (UINT64_C(1) << 53))
		return RCPT_E_INVAL;
	if ((v = rcpt_calloc(1, sizeof(*v))) == NULL)
		return RCPT_E_NOMEM;
	v->o = *opts;
	if (v->o.max_depth <= 0 || v->o.max_depth > 256)
		v->o.max_depth = 256;
	/* Fetched once: a lookup per hash would cost more than the hash. */
	if ((v->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL) {
		ERR_clear_error();
		goto out;
	}
	if ((v->sha_ctx = EVP_MD_CTX_new()) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	v->active = -1;
	v->sealing = -1;
	v->pending_key = -1;
	v->tip_key = -1;
	if (opts->checkpoint != NULL && opts->checkpoint->size == 0) {
		rcpt_merkle_empty_root(v->snap_root);
		v->snap_taken = true;
	}
	if (opts->threads >= 2) {
		v->nthreads = opts->threads > 64 ? 64 : opts->threads;
		v->tids = rcpt_calloc((size_t)v->nthreads, sizeof(*v->tids));
		v->q = rcpt_calloc(QUEUE_CAP, sizeof(*v->q));
		if (v->tids == NULL || v->q == NULL) {
			r = RCPT_E_NOMEM;
			goto out;
		}
		if ((r = rcpt_verify_pool_init(v)) != RCPT_OK)
			goto out;
		v->room = QUEUE_CAP;
		for (i = 0; i < v->nthreads; i++) {
			if (pthread_create(&v->tids[i], NULL,
			        rcpt_verify_pool_worker, v) != 0) {
				r = RCPT_E_INTERNAL;
				goto out;
			}
			v->started++;
		}
	}
	*out = v;
	v = NULL;
	r = RCPT_OK;
out:
	rcpt_verifier_free(v);
	return r;
}

void
rcpt_verifier_free(struct rcpt_verifier *v)
{
	size_t i;

	if (v == NULL)
		return;
	rcpt_verify_pool_stop(v);
	if (v->sync_ok) {
		pthread_cond_destroy(&v->drained);
		pthread_cond_destroy(&v->can_push);
		pthread_cond_destroy(&v->can_pop);
		pthread_mutex_destroy(&v->mu);
	}
	for (i = 0; i < v->nkeys; i++)
		rcpt_ed25519_vctx_free(v->keys[i].vctx);
	free(v->keys);
	free(v->q);
	free(v->tids);
	rcpt_buf_clear(&v->sv);
	EVP_MD_CTX_free(v->sha_ctx);
	EVP_MD_free(v->sha256);
	free(v);
}

/*
 * SHA-256 on the verifier's own context.  OpenSSL 3's one-shot SHA256()
 * looks the algorithm up, under a lock, and allocates a context on
 * every call, which costs more than hashing a receipt.
 */
static int
sha256(struct rcpt_verifier *v, const void *p, size_t n,
    uint8_t out[RCPT_HASH_LEN])
{
	if (EVP_DigestInit_ex2(v->sha_ctx, v->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(v->sha_ctx, p, n) != 1 ||
	    EVP_DigestFinal_ex(v->sha_ctx, out, NULL) != 1) {
		ERR_clear_error();
		return RCPT_E_INTERNAL;
	}
	return RCPT_OK;
}

/* Stages one signature job; published by the batch. */
static void
enqueue(struct rcpt_verifier *v, const struct rcpt_receipt_view *vw,
    const struct rcpt_verify_key *k)
{
	struct rcpt_verify_job *j;

	if (v->room == 0)
		rcpt_verify_pool_publish(v, true);
	j = &v->q[v->qtail];
	j->seq = vw->seq_num;
	memcpy(j->pub, k->pub, sizeof(j->pub));
	memcpy(j->msg, vw->entry_hash_raw, sizeof(j->msg));
	memcpy(j->sig, vw->signature_raw, sizeof(j->sig));
	memcpy(j->kid, k->kid, sizeof(j->kid));
	v->qtail = (v->qtail + 1) % QUEUE_CAP;
	v->room--;
	if (++v->staged == BATCH)
		rcpt_verify_pool_publish(v, false);
}

/* Step 5: the signature, or in a batch chain a later seal. */
static int
check_signature(struct rcpt_verifier *v, const struct rcpt_receipt_view *vw,
    int ki, bool reserved)
{
	struct rcpt_verify_key *k = &v->keys[ki];
	int r;

	if (!vw->has_signature) {
		if (reserved)
			return fail_at(v, vw->seq_num, S_SIG,
			    "%.*s receipt carries no signature",
			    (int)vw->type.len - 2, vw->type.p + 1);
		if (v->sealing == 0)
			return fail_at(v, vw->seq_num, S_SIG,
			    "unsealed receipt: the chain's sealing is \"each\" "
			    "and it carries no signature");
		if (v->pending && v->pending_key != ki)
			return fail_at(v, v->pending_seq, S_SIG,
			    "unsealed receipt: no later signature of kid %s "
			    "seals it",
			    v->keys[v->pending_key].kid);
		if (!v->pending) {
			v->pending = true;
			v->pending_seq = vw->seq_num;
			v->pending_key = ki;
		}
		return RCPT_OK;
	}
	if (v->pending && v->pending_key != ki)
		return fail_at(v, v->pending_seq, S_SIG,
		    "unsealed receipt: no later signature of kid %s seals it",
		    v->keys[v->pending_key].kid);
	v->pending = false;
	if (v->started > 0) {
		enqueue(v, vw, k);
		return RCPT_OK;
	}
	if (k->vctx == NULL &&
	    (r = rcpt_ed25519_vctx_new(k->pub, &k->vctx)) != RCPT_OK)
		return fail_global(v, RCPT_VERIFY_ERROR, vw->seq_num,
		    "signature check could not run: %s", rcpt_strerror(r));
	r = rcpt_ed25519_vctx_verify(
	    k->vctx, vw->entry_hash_raw, RCPT_HASH_LEN, vw->signature_raw);
	if (r == RCPT_E_BAD_SIGNATURE)
		return fail_at(v, vw->seq_num, S_SIG,
		    "signature does not verify under kid %s", k->kid);
	if (r != RCPT_OK)
		return fail_global(v, RCPT_VERIFY_ERROR, vw->seq_num,
		    "signature check could not run: %s", rcpt_strerror(r));
	return RCPT_OK;
}

static int
feed_one(struct rcpt_verifier *v, const char *line, size_t len)
{
	struct rcpt_receipt_view vw;
	struct rcpt_diag d = {0};
	struct rcpt_verify_change ch;
	uint8_t h[RCPT_HASH_LEN];
	uint64_t seq = v->o.first_seq + v->count;
	const char *chain;
	size_t clen;
	struct rcpt_verify_key *k;
	int r, ki = -1;
	bool reserved;

	if (v->stopped || v->finished)
		return RCPT_E_CORRUPT;
	if (v->started > 0 && __atomic_load_n(&v->wfailed, __ATOMIC_RELAXED)) {
		v->stopped = true;
		return RCPT_E_CORRUPT;
	}
	/* 1. Members and types, v, the chain name. */
	r = rcpt_receipt_scan(line, len, v->o.max_depth, &vw, &d);
	if (r == RCPT_E_INTERNAL)
		return fail_global(
		    v, RCPT_VERIFY_ERROR, seq, "%s", rcpt_diag_msg(&d, r));
	if (r != RCPT_OK)
		return fail_at(v, seq, S_MEMBERS, "%s", rcpt_diag_msg(&d, r));
	chain = vw.chain.p + 1;
	clen = vw.chain.len - 2;
	if (v->chain[0] == '\0') {
		memcpy(v->chain, chain, clen);
		v->chain[clen] = '\0';
		if ((r = rcpt_verify_load_trust(v)) != RCPT_OK)
			return r;
		if (v->o.first_seq > 0 && v->o.trust == NULL)
			return fail_global(v, RCPT_VERIFY_BROKEN, seq,
			    "the receipts start at seq %llu, after genesis: "
			    "--trust is needed to know their keys",
			    (unsigned long long)seq);
	} else if (strlen(v->chain) != clen ||
	           memcmp(v->chain, chain, clen) != 0) {
		return fail_at(v, seq, S_MEMBERS,
		    "chain name differs from the first receipt's");
	}
	/* 2. seq contiguity, prev_hash linkage, ts order. */
	if (vw.seq_num != seq)
		return fail_at(v, seq, S_LINKS, "seq %llu expected, found %llu",
		    (unsigned long long)seq, (unsigned long long)vw.seq_num);
	if (v->count == 0 && seq == 0) {
		memset(h, 0, sizeof(h));
		if (memcmp(vw.prev_hash_raw, h, sizeof(h)) != 0)
			return fail_at(v, seq, S_LINKS,
			    "prev_hash of seq 0 must be 64 zeros");
	} else if (v->count > 0 &&
	           memcmp(vw.prev_hash_raw, v->prev_hash, RCPT_HASH_LEN) != 0) {
		return fail_at(v, seq, S_LINKS,
		    "prev_hash does not match entry_hash of seq %llu",
		    (unsigned long long)(seq - 1));
	}
	if (v->count > 0 && memcmp(vw.ts.p + 1, v->prev_ts, RCPT_TS_LEN) < 0)
		return fail_at(v, seq, S_LINKS,
		    "ts is earlier than the ts of seq %llu",
		    (unsigned long long)(seq - 1));
	/* 3. entry_hash = SHA-256(JCS(signed view)). */
	rcpt_buf_reset(&v->sv);
	if ((r = rcpt_receipt_view_signed(&vw, &v->sv)) != RCPT_OK)
		return r;
	if ((r = sha256(v, v->sv.p, v->sv.len, h)) != RCPT_OK)
		return fail_global(
		    v, RCPT_VERIFY_ERROR, seq, "SHA-256 could not run");
	if (memcmp(h, vw.entry_hash_raw, RCPT_HASH_LEN) != 0)
		return fail_at(v, seq, S_HASH,
		    "entry_hash does not match the signed view");
	/* 4. The key allowed at this point, and reserved-type rules. */
	memset(&ch, 0, sizeof(ch));
	if ((r = rcpt_verify_check_key(v, &vw, &ch, &ki)) != RCPT_OK)
		return r;
	/* 5. Signature, or a later seal. */
	reserved = rcpt_receipt_type_is_defined_reserved(
	    vw.type.p + 1, vw.type.len - 2);
	if (ch.kind == RCPT_VERIFY_GENESIS)
		v->sealing = ch.sealing;
	if ((r = check_signature(v, &vw, ki, reserved)) != RCPT_OK)
		return r;
	/* 6. data_hash when data is present. */
	if (vw.has_data) {
		if ((r = sha256(v, vw.data.p, vw.data.len, h)) != RCPT_OK)
			return fail_global(
			    v, RCPT_VERIFY_ERROR, seq, "SHA-256 could not run");
		if (memcmp(h, vw.data_hash_raw, RCPT_HASH_LEN) != 0)
			return fail_at(
			    v, seq, S_DATA, "data_hash does not match data");
	} else {
		v->pruned++;
	}
	/* Passed: remember what later receipts are checked against. */
	k = &v->keys[ki];
	if (!k->used) {
		k->used = true;
		k->first_seq = seq;
		memcpy(k->first_ts, vw.ts.p + 1, RCPT_TS_LEN);
	}
	if (ch.kind != RCPT_VERIFY_ROTATION) {
		k->has_plain = true;
		k->last_plain_seq = seq;
		memcpy(k->last_plain_ts, vw.ts.p + 1, RCPT_TS_LEN);
	}
	memcpy(v->prev_hash, vw.entry_hash_raw, RCPT_HASH_LEN);
	memcpy(v->prev_ts, vw.ts.p + 1, RCPT_TS_LEN);
	v->count++;
	v->tip_key = ki;
	rcpt_merkle_leaf_hash(vw.entry_hash_raw, h);
	rcpt_merkle_acc_push(&v->acc, h);
	if (v->o.first_seq == 0 && v->o.checkpoint != NULL &&
	    v->acc.size == v->o.checkpoint->size) {
		rcpt_merkle_acc_root(&v->acc, v->snap_root);
		v->snap_taken = true;
	}
	if (ch.kind == RCPT_VERIFY_REVOCATION && v->started > 0) {
		/*
		 * One thread would have stopped at a bad signature before
		 * this receipt; so must we, before judging older receipts.
		 */
		rcpt_verify_pool_drain(v);
		if (__atomic_load_n(&v->wfailed, __ATOMIC_RELAXED)) {
			v->stopped = true;
			return RCPT_E_CORRUPT;
		}
	}
	return rcpt_verify_apply_change(v, &ch, seq);
}

/* The checkpoint rules of SPEC 8, after a clean chain. */
static void
check_checkpoint(struct rcpt_verifier *v, const struct rcpt_checkpoint *cp)
{
	struct rcpt_diag d = {0};
	uint8_t root[RCPT_HASH_LEN];
	uint64_t rank = v->o.first_seq + v->count;

	if (strcmp(cp->chain, v->chain) != 0) {
		fail_global(v, RCPT_VERIFY_BROKEN, rank,
		    "checkpoint names another chain than the receipts");
		return;
	}
	if (v->o.first_seq == 0) {
		if (cp->size > v->count) {
			fail_global(v, RCPT_VERIFY_BROKEN, rank,
			    "truncated: checkpoint has %llu receipts, file has "
			    "%llu",
			    (unsigned long long)cp->size,
			    (unsigned long long)v->count);
			return;
		}
		if (cp->size == v->count) {
			rcpt_merkle_acc_root(&v->acc, root);
		} else if (v->snap_taken && v->o.checkpoint != NULL &&
		           v->o.checkpoint->size == cp->size) {
			memcpy(root, v->snap_root, sizeof(root));
		} else {
			fail_global(v, RCPT_VERIFY_ERROR, rank,
			    "the checkpoint's size was not given before the "
			    "receipts, so its root cannot be checked");
			return;
		}
		if (memcmp(root, cp->root, sizeof(root)) != 0) {
			fail_global(v, RCPT_VERIFY_BROKEN, rank,
			    "checkpoint root does not match the first %llu "
			    "receipts",
			    (unsigned long long)cp->size);
			return;
		}
	}
	if (rcpt_verifier_checkpoint_signed(v, cp, &d) != RCPT_OK)
		fail_global(v, RCPT_VERIFY_BROKEN, rank, "%s",
		    rcpt_diag_msg(&d, RCPT_E_BAD_SIGNATURE));
}

void
rcpt_verifier_finish(struct rcpt_verifier *v, const struct rcpt_checkpoint *cp,
    struct rcpt_verify_result *res)
{
	struct rcpt_verify_failure *f = &v->fail;

	memset(res, 0, sizeof(*res));
	rcpt_verify_pool_stop(v);
	if (v->sync_ok && rcpt_verify_ranks_before(&v->wfail, &v->fail))
		v->fail = v->wfail;
	if (!v->finished) {
		v->finished = true;
		if (!f->set && v->pending)
			fail_at(v, v->pending_seq, S_SIG,
			    "unsealed receipt: no later signature of kid %s "
			    "seals it",
			    v->keys[v->pending_key].kid);
		if (!f->set && v->count == 0)
			fail_global(v, RCPT_VERIFY_BROKEN, v->o.first_seq,
			    "no receipts");
		if (!f->set && cp != NULL)
			check_checkpoint(v, cp);
	}
	res->pinned = v->o.trust != NULL;
	memcpy(res->chain, v->chain, sizeof(res->chain));
	memcpy(res->origin, v->origin, sizeof(res->origin));
	memcpy(res->tip_hash, v->prev_hash, RCPT_HASH_LEN);
	if (v->tip_key >= 0)
		memcpy(res->tip_kid, v->keys[v->tip_key].kid,
		    sizeof(res->tip_kid));
	res->acc = v->acc;
	res->count = v->count;
	res->pruned = v->pruned;
	if (!f->set) {
		res->status = RCPT_VERIFY_CLEAN;
		return;
	}
	res->status = f->status;
	res->has_seq = f->has_seq;
	res->seq = f->has_seq ? f->seq : 0;
	if (f->has_seq && f->seq >= v->o.first_seq &&
	    f->seq - v->o.first_seq < res->count)
		res->count = f->seq - v->o.first_seq;
	snprintf(res->reason, sizeof(res->reason), "%s", f->reason);
}

/* Writes @p n with "," between groups of three digits. */
static void
group(uint64_t n, char out[32])
{
	char digits[24];
	int len, i, o = 0;

	len = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
	for (i = 0; i < len; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

void
rcpt_verify_format(const struct rcpt_verify_result *res, char *buf, size_t size)
{
	char count[32], pruned[32];

	if (size == 0)
		return;
	switch (res->status) {
	case RCPT_VERIFY_CLEAN:
		group(res->count, count);
		group(res->pruned, pruned);
		snprintf(buf, size,
		    "Chain integrity: CLEAN (%s events, 0 gaps)%s%s%s%s\n",
		    count, res->pruned > 0 ? ", " : "",
		    res->pruned > 0 ? pruned : "",
		    res->pruned > 0 ? " pruned" : "",
		    res->pinned ? "" : ", keys not pinned");
		break;
	case RCPT_VERIFY_BROKEN:
		if (res->has_seq)
			snprintf(buf, size,
			    "Chain integrity: BROKEN at seq %llu: %s\n",
			    (unsigned long long)res->seq, res->reason);
		else
			snprintf(buf, size, "Chain integrity: BROKEN: %s\n",
			    res->reason);
		break;
	default:
		snprintf(
		    buf, size, "Chain integrity: ERROR: %s\n", res->reason);
		break;
	}
}

int
rcpt_verifier_feed(struct rcpt_verifier *v, const char *line, size_t len)
{
	int r;

	if ((r = feed_one(v, line, len)) == RCPT_E_NOMEM)
		fail_global(v, RCPT_VERIFY_ERROR, 0, "out of memory");
	return r;
}

/* A bounded line reader: lines never grow past RCPT_VERIFY_LINE_MAX. */
struct reader {
	FILE *in;
	char *buf;
	size_t cap;
	size_t start; /* first unread byte */
	size_t end;   /* bytes held */
	bool eof;
};

enum { RD_LINE, RD_EOF, RD_TOO_LONG, RD_NO_NEWLINE, RD_IO, RD_NOMEM };

static int
read_line(struct reader *rd, const char **line, size_t *len)
{
	char *nl, *nb;
	size_t n, scanned = 0, ncap;

	for (;;) {
		nl = memchr(rd->buf + rd->start + scanned, '\n',
		    rd->end - rd->start - scanned);
		if (nl != NULL) {
			*line = rd->buf + rd->start;
			*len = (size_t)(nl - *line);
			rd->start += *len + 1;
			return *len > RCPT_VERIFY_LINE_MAX ? RD_TOO_LONG
			                                   : RD_LINE;
		}
		scanned = rd->end - rd->start;
		if (scanned > RCPT_VERIFY_LINE_MAX)
			return RD_TOO_LONG;
		if (rd->eof) {
			if (scanned == 0)
				return RD_EOF;
			*line = rd->buf + rd->start;
			*len = scanned;
			rd->start = rd->end;
			return RD_NO_NEWLINE;
		}
		if (rd->start > 0) {
			memmove(rd->buf, rd->buf + rd->start, scanned);
			rd->end = scanned;
			rd->start = 0;
		}
		if (rd->end == rd->cap) {
			ncap = rd->cap * 2;
			if (ncap > RCPT_VERIFY_LINE_MAX + 2)
				ncap = RCPT_VERIFY_LINE_MAX + 2;
			if ((nb = rcpt_realloc(rd->buf, ncap)) == NULL)
				return RD_NOMEM;
			rd->buf = nb;
			rd->cap = ncap;
		}
		n = fread(rd->buf + rd->end, 1, rd->cap - rd->end, rd->in);
		rd->end += n;
		if (n == 0) {
			if (ferror(rd->in))
				return RD_IO;
			rd->eof = true;
		}
	}
}

void
rcpt_verify_stream(FILE *in, const struct rcpt_verify_opts *opts,
    const struct rcpt_checkpoint *cp, struct rcpt_verify_result *res)
{
	struct rcpt_verify_opts o = *opts;
	struct rcpt_verifier *v = NULL;
	struct reader rd;
	const char *line;
	size_t len;
	uint64_t seq;
	int r, k;

	memset(res, 0, sizeof(*res));
	memset(&rd, 0, sizeof(rd));
	o.checkpoint = cp != NULL ? cp : opts->checkpoint;
	rd.in = in;
	rd.cap = 1 << 16;
	if ((rd.buf = rcpt_malloc(rd.cap)) == NULL ||
	    (r = rcpt_verifier_new(&o, &v)) != RCPT_OK) {
		res->status = RCPT_VERIFY_ERROR;
		snprintf(res->reason, sizeof(res->reason), "%s",
		    rcpt_strerror(RCPT_E_NOMEM));
		goto out;
	}
	for (seq = o.first_seq;; seq++) {
		k = read_line(&rd, &line, &len);
		if (k == RD_EOF)
			break;
		if (k == RD_IO || k == RD_NOMEM) {
			rcpt_verifier_finish(v, NULL, res);
			res->status = RCPT_VERIFY_ERROR;
			res->has_seq = false;
			snprintf(res->reason, sizeof(res->reason), "%s",
			    k == RD_IO ? "read error" : "out of memory");
			goto out;
		}
		if (k == RD_TOO_LONG)
			fail_at(v, seq, S_MEMBERS, "line longer than %d bytes",
			    RCPT_VERIFY_LINE_MAX);
		else if ((r = rcpt_verifier_feed(v, line, len)) == RCPT_OK &&
		         k == RD_NO_NEWLINE)
			fail_at(v, seq, S_END,
			    "the last line has no terminating newline");
		if (v->stopped)
			break;
	}
	rcpt_verifier_finish(v, cp, res);
out:
	rcpt_verifier_free(v);
	free(rd.buf);
}
