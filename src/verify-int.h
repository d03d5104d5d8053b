/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the verifier, shared by verify.c (lifecycle, feeding,
 * finishing), verify-pool.c (the signature workers) and verify-keys.c
 * (key state and the reserved receipts that change it).  Nothing
 * outside those files includes this header; the public interface is
 * verify.h.
 */
#ifndef RCPT_SRC_VERIFY_INT_H
#define RCPT_SRC_VERIFY_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "chain.h"
#include "checkpoint.h"
#include "ed25519.h"
#include "jcs.h"
#include "jwk.h"
#include "merkle.h"
#include "receipt.h"
#include "ts.h"
#include "verify.h"

/*
 * Signature jobs travel in batches: the feeding thread publishes BATCH
 * jobs under one lock and a worker takes up to BATCH at once, so the
 * lock, and a wake-up, cost little per receipt.  A full queue makes the
 * feeding thread sleep until half of it is free, so it wakes once per
 * QUEUE_CAP / 2 jobs instead of once per job.
 */
#define QUEUE_CAP 1024 /* signature jobs in flight */
#define BATCH     32   /* jobs published or taken at once */

struct rcpt_verify_job {
	uint64_t seq;
	uint8_t pub[RCPT_ED25519_PUB_LEN];
	uint8_t msg[RCPT_HASH_LEN];
	uint8_t sig[RCPT_ED25519_SIG_LEN];
	char kid[RCPT_KID_LEN + 1];
};

/* The steps of SPEC 8 a failure belongs to, in their order. */
enum step {
	S_GLOBAL = 0,
	S_MEMBERS = 1,
	S_LINKS = 2,
	S_HASH = 3,
	S_KEY = 4,
	S_SIG = 5,
	S_DATA = 6,
	S_END = 7
};

/** What a checked reserved receipt changes once it has passed. */
enum rcpt_verify_change_kind {
	RCPT_VERIFY_NO_CHANGE = 0,
	RCPT_VERIFY_GENESIS,
	RCPT_VERIFY_ROTATION,
	RCPT_VERIFY_REVOCATION
};

/** What the verifier knows of one key. */
struct rcpt_verify_key {
	char kid[RCPT_KID_LEN + 1];
	uint8_t pub[RCPT_ED25519_PUB_LEN];
	bool in_chain;        /* from the genesis or a checked rotation */
	bool trusted;         /* in --trust for this chain */
	bool retired;         /* a checked rotation moved away from it */
	uint64_t retired_seq; /* seq of that rotation, when retired */
	bool trust_retired;   /* --trust says "retired" (or gives "retired") */
	char retired_ts[RCPT_TS_LEN + 1]; /* per --trust; "" from the start */
	bool revoked; /* by --trust or a checked revocation */
	char effective[RCPT_TS_LEN + 1]; /* revoked from; "" always */
	bool used;                       /* signed a receipt in view */
	uint64_t first_seq;
	char first_ts[RCPT_TS_LEN + 1];
	bool has_plain; /* signed one that is not its rotation */
	uint64_t last_plain_seq;
	char last_plain_ts[RCPT_TS_LEN + 1];
	struct rcpt_ed25519_vctx *vctx; /* inline checks, this thread */
};

/** A failure, ranked by (seq, step) so the lowest one is reported. */
struct rcpt_verify_failure {
	bool set;
	enum rcpt_verify_status status;
	bool has_seq;
	uint64_t seq;
	int step;
	char reason[400];
};

/** A key change a reserved receipt makes once it has passed. */
struct rcpt_verify_change {
	enum rcpt_verify_change_kind kind;
	char kid[RCPT_KID_LEN + 1];
	uint8_t pub[RCPT_ED25519_PUB_LEN];
	char effective[RCPT_TS_LEN + 1];
	char origin[RCPT_ORIGIN_MAX + 1];
	int sealing;
};

/** The verifier; opaque outside verify.c and verify-keys.c. */
struct rcpt_verifier {
	struct rcpt_verify_opts o;
	struct rcpt_verify_key *keys;
	size_t nkeys;
	int active; /* index into keys, -1 before the first */
	char chain[RCPT_CHAIN_MAX + 1]; /* "" before the first receipt */
	char origin[RCPT_ORIGIN_MAX + 1];
	bool genesis_seen;
	int sealing;    /* -1 unknown, 0 each, 1 batch */
	uint64_t count; /* receipts passed */
	uint64_t pruned;
	uint8_t prev_hash[RCPT_HASH_LEN];
	char prev_ts[RCPT_TS_LEN + 1];
	bool pending; /* an unsealed receipt waits for its seal */
	uint64_t pending_seq;
	int pending_key;
	int tip_key; /* key of the last receipt passed */
	struct rcpt_merkle_acc acc;
	bool snap_taken;
	uint8_t snap_root[RCPT_HASH_LEN];
	struct rcpt_buf sv;              /* signed view scratch, reused */
	EVP_MD *sha256;                  /* fetched once: no lookup per hash */
	EVP_MD_CTX *sha_ctx;             /* the feeding thread's, reused */
	struct rcpt_verify_failure fail; /* this thread's failure */
	bool stopped;
	bool finished;
	/* Workers. */
	int nthreads;
	pthread_t *tids;
	int started;
	bool sync_ok; /* mu and conds initialised */
	pthread_mutex_t mu;
	pthread_cond_t can_pop;
	pthread_cond_t can_push;
	pthread_cond_t drained;    /* qlen and busy both reached 0 */
	struct rcpt_verify_job *q; /* ring of QUEUE_CAP jobs */
	size_t qhead;              /* first published job, under mu */
	size_t qlen;               /* published jobs, under mu */
	size_t qtail;              /* next slot to write; feeding thread only */
	size_t staged; /* written after the published ones; feeding thread */
	size_t room;   /* slots the feeding thread may still write */
	int idle;      /* workers waiting on can_pop */
	int busy;      /* jobs taken off the queue and not yet done */
	bool push_waiting; /* the feeding thread waits on can_push */
	bool closing;
	struct rcpt_verify_failure wfail; /* lowest worker failure, under mu */
	int wfailed;                      /* read without mu to stop early */
};

/*
 * verify.c
 */

/**
 * Records that receipt @p seq breaks a key rule (SPEC 8 step 4) and
 * stops feeding.
 * @return RCPT_E_CORRUPT.
 */
int rcpt_verify_fail_key(struct rcpt_verifier *v, uint64_t seq, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/*
 * verify-keys.c
 */

/**
 * Takes the --trust entries for v->chain, which must be set.
 * @return RCPT_OK or RCPT_E_NOMEM.
 */
int rcpt_verify_load_trust(struct rcpt_verifier *v) RCPT_MUST_CHECK;

/**
 * SPEC 8 step 4: reserved-type rules and whether the receipt's kid may
 * sign at this point.  The first receipt fixes the active key (the
 * genesis key, or a --trust key when the receipts start later); any
 * other change the receipt makes comes back in @p ch, to be applied
 * with rcpt_verify_apply_change() once the receipt has passed.
 * @param[out] ch zeroed by the caller; filled for a reserved receipt.
 * @param[out] key_out index into v->keys of the key that must sign it.
 * @return RCPT_OK, RCPT_E_CORRUPT (failure recorded), RCPT_E_NOMEM.
 */
int rcpt_verify_check_key(struct rcpt_verifier *v,
    const struct rcpt_receipt_view *vw, struct rcpt_verify_change *ch,
    int *key_out) RCPT_MUST_CHECK;

/**
 * Applies @p ch once receipt @p seq has passed every step.  A
 * revocation may show that receipts already passed were invalid.
 * @return RCPT_OK, RCPT_E_CORRUPT (failure recorded), RCPT_E_NOMEM.
 */
int rcpt_verify_apply_change(struct rcpt_verifier *v,
    const struct rcpt_verify_change *ch, uint64_t seq) RCPT_MUST_CHECK;

/**
 * 1 when failure @p a is reported before @p b: set before unset, then
 * by seq, then by step (the first failure in chain order wins).
 */
bool rcpt_verify_ranks_before(
    const struct rcpt_verify_failure *a, const struct rcpt_verify_failure *b);

/* verify-pool.c */

/** The workers' lock and conditions; none is left on failure. */
int rcpt_verify_pool_init(struct rcpt_verifier *v) RCPT_MUST_CHECK;
/** A worker thread's body (pthread_create). */
void *rcpt_verify_pool_worker(void *arg);
/**
 * Publishes the jobs staged by the feeding thread; with @p room_needed,
 * first waits until the queue is at most half full.
 */
void rcpt_verify_pool_publish(struct rcpt_verifier *v, bool room_needed);
/**
 * Publishes what is staged and waits until every job is judged: a
 * revocation judges receipts already passed (SPEC 4), so it is applied
 * only once the checks before it are known, as with one thread.
 */
void rcpt_verify_pool_drain(struct rcpt_verifier *v);
/** Stops and joins the workers; accepts a verifier that started none. */
void rcpt_verify_pool_stop(struct rcpt_verifier *v);

#endif
