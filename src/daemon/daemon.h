/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What receiptd's parts share.  The daemon has three kinds of thread:
 *
 *   - the I/O thread (server.c, conn.c): epoll over the listening
 *     socket, every connection and an eventfd.  It reads frames, parses
 *     requests (rpc.c), checks who may do what, and queues jobs.  It
 *     never touches the store or the token, so a slow disk or token
 *     cannot stall a client's reads or writes.
 *   - one writer per chain (writer.c): the only code that grows its
 *     chain.  It takes the appends queued so far (up to the configured
 *     batch), hashes them in queue order, has them signed on the sign
 *     pool (signpool.c), commits them in one durable transaction and
 *     only then completes their calls.  Checkpoints, proofs, exports,
 *     rotations, revocations and pruning run on it too, between
 *     batches, so they see a tip no append is changing.
 *   - readers (methods.c): a small pool that answers get, range, tip,
 *     keys and status from LMDB read transactions.
 *
 * A job finishes by filling its call's answer and handing the call back
 * to the I/O thread through d_complete(), which writes answers out in
 * request order.  A call whose connection closed meanwhile is still
 * carried out in full (an append stays durable) and its answer dropped.
 */
#ifndef RCPT_DAEMON_DAEMON_H
#define RCPT_DAEMON_DAEMON_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "anchor.h"
#include "ceremony.h"
#include "err.h"
#include "jcs.h"
#include "keystore/keystore.h"
#include "settings.h"
#include "store.h"

#define D_FRAME_MAX     (2 * 1024 * 1024) /* SPEC 9: request line cap */
#define D_ANSWER_MAX    (2 * 1024 * 1024) /* range answers stop near this */
#define D_CONN_CALLS    1024 /* calls one connection may have open */
#define D_CONN_OUT_HIGH (8 * 1024 * 1024) /* stop reading above this */
#define D_RANGE_MAX     1000              /* SPEC 9 */
#define D_UNKNOWN_MAX   64 /* open connections of unknown callers */

struct daemon;
struct d_conn;

/** Methods (SPEC 9). */
enum d_method {
	D_APPEND,
	D_GET,
	D_RANGE,
	D_TIP,
	D_CHECKPOINT,
	D_PROVE_INCLUSION,
	D_PROVE_CONSISTENCY,
	D_KEYS,
	D_STATUS,
	D_ROTATE,
	D_REVOKE,
	D_PRUNE,
	D_EXPORT,
	D_METHODS_
};

/** One request, from parsing to its answer. */
struct d_call {
	struct d_conn *conn;  /* NULL once the connection closed */
	struct d_call *next;  /* in the connection's list, or a queue */
	struct d_call *qnext; /* in a writer, reader or done queue */
	enum d_method method;
	int principal;         /* index into cfg->principals */
	const char *who;       /* that principal's name (kept across reloads) */
	char *id;              /* JCS of the id; NULL for a notification */
	json_object *params;   /* owned; the params object */
	struct d_chain *chain; /* the chain named by params.chain, or NULL */
	int barrier;           /* waits for earlier calls, holds later ones */
	int batch;             /* 0, or the RPC batch it belongs to (>0) */
	int batch_end;         /* last element of its batch */
	int state;             /* D_PENDING, D_RUNNING, D_DONE */
	char *answer;          /* the response line without "\n", or NULL */
	size_t answer_len;
	int answer_static; /* answer is a constant, not freed */
	int64_t queued_us; /* when a writer queued it (monotonic) */
};

enum { D_PENDING = 0, D_RUNNING = 1, D_DONE = 2 };

/** One client connection; the I/O thread's alone. */
struct d_conn {
	struct daemon *d;
	int fd;
	int principal; /* -1: not a known caller */
	uid_t uid;     /* the peer's credentials, for reloads and logs */
	gid_t gid;
	gid_t *groups; /* owned; supplementary groups */
	size_t n_groups;
	pid_t pid;
	struct d_conn *prev, *next; /* in d->conns */
	char *in;                   /* bytes read, not yet framed */
	size_t in_len, in_cap;
	struct d_call *head, *tail; /* calls in request order */
	size_t n_calls;
	int batch_seq;       /* numbers RPC batches */
	struct rcpt_buf out; /* answers not yet written */
	size_t held;         /* bytes of answers not yet in out */
	size_t out_off;      /* bytes of out already written */
	int closing;         /* close once out is written */
	int eof;             /* the client sent all it will */
	int reading;         /* EPOLLIN is armed */
	int writing;         /* EPOLLOUT is armed */
};

/** One configured chain at run time. */
struct d_chain {
	struct daemon *d;
	const struct rcpt_cfg_chain *cfg;
	struct rcpt_ceremony *cer; /* the writer's; others never touch it */
	char origin[RCPT_ORIGIN_MAX + 1];
	struct rcpt_anchor anchor; /* last anchor read or written */
	/* Merkle frontier of the stored leaves, for O(k) checkpoints. */
	struct rcpt_merkle_acc frontier;
	pthread_t thread;
	int started;
	pthread_mutex_t mu; /* guards the queue and stop */
	pthread_cond_t cv;
	struct d_call *qhead, *qtail;
	size_t qlen; /* calls queued */
	int stop;
	/*
	 * The pipeline (committer.c), guarded by mu: one batch made and
	 * waiting, one being stored, and finished ones waiting for the
	 * writer to end them.
	 */
	struct d_flight *next;      /* made, waiting for the committer */
	int storing;                /* the committer is storing one */
	struct d_flight *done_head; /* finished and answered, oldest first */
	struct d_flight *done_tail;
	int broken; /* a store failed: batches after it fail with it */
	int broken_r;
	struct rcpt_diag broken_why;
	pthread_cond_t fcv; /* wakes the committer */
	pthread_t committer;
	int committer_started;
	int committer_stop; /* set once the writer has ended */
	/* The writer's own bookkeeping. */
	uint64_t cp_size;   /* size of the last checkpoint */
	int64_t cp_ms;      /* when it was made */
	int64_t prune_ms;   /* when retention last ran */
	int64_t release_ms; /* when store pages were last given back */
};

/** The daemon. */
struct daemon {
	/*
	 * The configuration in force: the I/O thread's alone (SIGHUP swaps
	 * it).  Other threads read only @p fixed, the start-up one, whose
	 * values a reload may not change.
	 */
	struct rcpt_cfg *cfg;
	const struct rcpt_cfg *fixed;
	struct rcpt_cfg **old_cfgs; /* replaced ones, freed at exit */
	size_t n_old_cfgs;
	struct rcpt_store *store;
	struct rcpt_ks_provider *ks;
	struct d_chain *chains; /* cfg->n_chains of them */
	size_t n_chains;
	struct d_signpool *pool;
	/* Readers */
	pthread_t readers[2];
	int n_readers;
	pthread_mutex_t rmu;
	pthread_cond_t rcv;
	struct d_call *rhead, *rtail;
	int rstop;
	/* Completions back to the I/O thread */
	pthread_mutex_t done_mu;
	struct d_call *done_head, *done_tail;
	int wake_fd; /* eventfd */
	/* I/O */
	int epfd;
	int listen_fd;
	int signal_fd;
	size_t n_conns;
	size_t n_unknown;     /* of them, callers with no principal */
	size_t inflight;      /* calls started and not yet handed back */
	struct d_conn *conns; /* every open connection */
	int stopping;
};

/* Logging (main.c): to stderr, one line, "receiptd: <level>: ...". */
void d_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum { D_ERR = 3, D_WARN = 4, D_INFO = 6 };

/* Answers (rpc.c) */
/** Sets @p c's answer to a result whose JCS text is @p text. */
int d_answer_raw(struct d_call *c, const char *text, size_t len);
/** Sets @p c's answer to the JCS of @p v (taken; NULL is null). */
int d_answer_json(struct d_call *c, json_object *v);
/** Sets @p c's answer to a JSON-RPC error; @p msg is copied. */
void d_answer_error(struct d_call *c, int code, const char *msg);
/** Sets @p c's answer to the error for RCPT_E_* @p r with @p diag. */
void d_answer_err(struct d_call *c, int r, const struct rcpt_diag *diag);

/* Completion (server.c): hands a finished call to the I/O thread. */
void d_complete(struct daemon *d, struct d_call *c);

/* The I/O thread (server.c, conn.c) */
/**
 * Creates the socket (its mode from the umask, no chmod race) and the
 * epoll set; main.c hardens the process between this and d_serve().
 */
int d_listen(struct daemon *d, struct rcpt_diag *diag) RCPT_MUST_CHECK;
/** Serves until SIGTERM or SIGINT, then drains. */
int d_serve(struct daemon *d, struct rcpt_diag *diag);
/** Takes a new connection; closes @p fd when it cannot. */
void d_conn_accept(struct daemon *d, int fd);
/** Handles epoll events @p ev on @p conn. */
void d_conn_event(struct d_conn *conn, uint32_t ev);
/** A call of @p conn finished (on the I/O thread). */
void d_conn_done(struct d_conn *conn, struct d_call *c);
/** Closes @p conn now: running calls are orphaned, the rest freed. */
void d_conn_close(struct d_conn *conn);
/** Stops reading new requests (shutdown). */
void d_conn_quiesce(struct d_conn *conn);
/** Calls of @p conn still running. */
size_t d_conn_running(const struct d_conn *conn);

/* SIGHUP (reload.c), on the I/O thread */
/** Reloads principals and rights, or logs why not and changes nothing. */
void d_reload(struct daemon *d);
/** Frees the configurations replaced by reloads. */
void d_reload_free(struct daemon *d);

/* Readers (methods.c) */
int d_readers_start(struct daemon *d, struct rcpt_diag *diag);
void d_readers_stop(struct daemon *d);
void d_readers_queue(struct daemon *d, struct d_call *c);

/* Writers (writer.c) */
/**
 * Opens or creates every configured chain (verifying stored ones
 * against the token's anchor) and starts its writer.
 */
int d_writers_start(struct daemon *d, struct rcpt_diag *diag);
/** Asks every writer to finish its queue, and joins them. */
void d_writers_stop(struct daemon *d);
void d_writer_queue(struct d_chain *ch, struct d_call *c);

/*
 * committer.c: one thread per chain stores the batch the writer made,
 * answers its calls, and lets the writer make the next batch meanwhile.
 */

/** A made batch on its way to the store, with its calls. */
struct d_flight {
	struct rcpt_ceremony_batch *b;
	struct rcpt_ceremony_item *items; /* one per call, in call order */
	struct d_call *calls;             /* linked by qnext */
	size_t n;
	int result; /* of rcpt_ceremony_batch_store */
	struct rcpt_diag diag;
	struct d_flight *link; /* in the done list */
};

/** Starts @p ch's committer. */
int d_committer_start(struct d_chain *ch) RCPT_MUST_CHECK;
/** Drains the pipeline, then stops the committer. */
void d_committer_stop(struct d_chain *ch);
/**
 * Hands @p f to the committer, waiting while another made batch still
 * waits for it.  When a store failed meanwhile, @p f linked to what was
 * never stored: it is failed with that error, answered, ended and
 * freed, and the pipeline drained.  @p f is not the caller's after.
 */
void d_committer_hand(struct d_chain *ch, struct d_flight *f);
/** Ends the batches stored by now, without waiting; drains on failure. */
void d_committer_collect(struct d_chain *ch);
/**
 * Waits until every handed batch is stored or failed, then ends them:
 * after a failure the writer's handle is back at the tip before the
 * first failed batch.  Jobs that read the store run only after it.
 */
void d_committer_drain(struct d_chain *ch);
/** Answers each call of @p f from its item (the caller still frees). */
void d_flight_answer(struct d_chain *ch, struct d_flight *f);
void d_flight_free(struct d_flight *f);

/* Admin and proof methods, run on the chain's writer (methods-admin.c) */
void d_run_checkpoint(struct d_chain *ch, struct d_call *c);
void d_run_prove_inclusion(struct d_chain *ch, struct d_call *c);
void d_run_prove_consistency(struct d_chain *ch, struct d_call *c);
void d_run_rotate(struct d_chain *ch, struct d_call *c);
void d_run_revoke(struct d_chain *ch, struct d_call *c);
void d_run_prune(struct d_chain *ch, struct d_call *c);
void d_run_export(struct d_chain *ch, struct d_call *c);
/**
 * Makes a checkpoint of the current size (rcpt_anchor_advance) and
 * records it; what cadence, `checkpoint` and proofs use.
 */
int d_checkpoint_now(struct d_chain *ch, char **note_out, uint64_t *size_out,
    struct rcpt_diag *diag);
/** Runs the configured retention on @p ch; logs what it did. */
void d_retention(struct d_chain *ch);

/* The sign pool (signpool.c) */
struct d_signpool;
int d_signpool_new(
    unsigned threads, struct d_signpool **out, struct rcpt_diag *diag);
void d_signpool_free(struct d_signpool *p);
/** An rcpt_ceremony_sign_many_fn; ctx is the pool. */
int d_sign_many(void *ctx, const struct rcpt_signer *s,
    const uint8_t (*msgs)[32], uint8_t (*sigs)[RCPT_ED25519_SIG_LEN], size_t n);

/* Parameters (rpc.c), for method code: diag names "params.<name>". */
int d_param_u64(const struct d_call *c, const char *name, int required,
    uint64_t *out, struct rcpt_diag *diag);
const char *d_param_str(const struct d_call *c, const char *name);

/** Now as a TS; never fails for a sane clock. */
int d_now(char out[RCPT_TS_LEN + 1]);

#endif
