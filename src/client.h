/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libreceiptclient: talking to receiptd over its Unix socket (SPEC 9).
 * Installed as <receipt/client.h>; link with `pkg-config --libs
 * receipt-client`.
 *
 * Every function returns RCPT_OK (0) or a negative RCPT_E_* code from
 * <receipt/err.h>, and explains a failure in the optional struct
 * rcpt_diag.  When the daemon answered with a JSON-RPC error, the code
 * is the matching RCPT_E_* (-32001 -> RCPT_E_DENIED, -32004 ->
 * RCPT_E_STORAGE_FULL, ...; rcpt_err_from_rpc_code), the diag holds
 * the daemon's message, and rcpt_client_last_rpc_code() the number.
 * A transport failure (RCPT_E_IO; RCPT_E_PARSE for an answer that is
 * not JSON-RPC; RCPT_E_TOO_LARGE for an answer line over
 * RCPT_CLIENT_LINE_MAX; RCPT_E_NOMEM while receiving) leaves the
 * connection unusable: every later call returns RCPT_E_IO, so close it
 * and connect again.  An answer that is JSON-RPC but whose result has
 * the wrong shape also gives RCPT_E_PARSE, with the connection still
 * usable.
 *
 * JSON goes in and out as text.  Receipts come back as the JCS line of
 * the stored receipt (the daemon sends JCS; the client parses it and
 * writes it out again as JCS), NUL-terminated, which the caller frees
 * with free().  Answers nested deeper than 256 levels are refused
 * (RCPT_E_TOO_LARGE), which leaves a receipt's data 254 levels inside
 * a `get` answer and 253 inside a `range` answer.
 *
 * Threads: a struct rcpt_client is NOT thread-safe; use one per thread
 * (connections are cheap), or serialise calls on one with a lock.
 * Different clients never share state.  SIGPIPE is not raised: sends
 * use MSG_NOSIGNAL.
 *
 * Pipelining: rcpt_client_send() queues a request and returns its id
 * at once; rcpt_client_recv() returns answers in the order the
 * requests were sent (SPEC 9 answers in request order).  Synchronous
 * calls may be mixed in only when no answer is outstanding.  The
 * client does not read while it sends: a caller that pipelines more
 * than the socket buffers hold without receiving can block both ends.
 */
#ifndef RCPT_SRC_CLIENT_H
#define RCPT_SRC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RCPT_CLIENT_PUBLIC __attribute__((visibility("default")))

/** Where the daemon listens unless told otherwise. */
#define RCPT_CLIENT_SOCKET_DEFAULT "/run/receiptd/receiptd.sock"
#define RCPT_CLIENT_LINE_MAX       (2 * 1024 * 1024) /* SPEC 9 frame cap */
#define RCPT_CLIENT_RANGE_MAX      1000 /* receipts one `range` returns */

struct rcpt_client;

/**
 * Connects to the daemon at @p path (NULL: $RECEIPTD_SOCKET, else
 * RCPT_CLIENT_SOCKET_DEFAULT).
 * @param[out] out caller frees with rcpt_client_close().
 * @return RCPT_OK, RCPT_E_INVAL (path too long), RCPT_E_IO (diag says
 * why: no such socket, refused, permission), RCPT_E_NOMEM.
 */
RCPT_CLIENT_PUBLIC int rcpt_client_connect(const char *path,
    struct rcpt_client **out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Closes the connection and frees @p c; accepts NULL. */
RCPT_CLIENT_PUBLIC void rcpt_client_close(struct rcpt_client *c);

/**
 * The JSON-RPC error code of the last answer read, or 0 when that answer
 * was a result or no answer could be read (a transport failure, or
 * nothing asked yet).  After a call fails, non-zero means the daemon
 * refused it.
 */
RCPT_CLIENT_PUBLIC int rcpt_client_last_rpc_code(const struct rcpt_client *c);

/* Any method */

/**
 * Calls @p method with @p params (a JSON object as text, or NULL for
 * none) and waits for the answer.
 * @param[out] result_out the "result" member as JCS text; free() it.
 * @param[out] len_out may be NULL.
 * @return RCPT_OK; the daemon's error mapped to RCPT_E_*; RCPT_E_INVAL
 * (params not a JSON object, answers outstanding); RCPT_E_IO;
 * RCPT_E_PARSE; RCPT_E_NOMEM.
 */
RCPT_CLIENT_PUBLIC int rcpt_client_call(struct rcpt_client *c,
    const char *method, const char *params, char **result_out, size_t *len_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/* Appending */

/** One event to append; every pointer borrowed for the call. */
struct rcpt_client_event {
	const char *chain;
	const char *type;
	const char *data;        /* JSON text of any value; NULL: null */
	const char *const *tags; /* n_tags strings, or NULL */
	size_t n_tags;
};

/**
 * Appends @p ev and waits until the daemon says it is durable.
 * @param[out] receipt_out the stored receipt (JCS line); free() it.
 * @return as rcpt_client_call(); RCPT_E_INVAL when @p ev->data is not
 * I-JSON, RCPT_E_TOO_LARGE when it is nested deeper than 256 (both
 * checked here, before anything is sent; the daemon applies its own,
 * usually lower, limits).
 */
RCPT_CLIENT_PUBLIC int rcpt_client_append(struct rcpt_client *c,
    const struct rcpt_client_event *ev, char **receipt_out, size_t *len_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Sends an append without waiting (pipelining).  The answer comes from
 * rcpt_client_recv(), in send order.
 * @param[out] id_out may be NULL; the request id.
 * @return RCPT_OK, RCPT_E_INVAL, RCPT_E_IO, RCPT_E_NOMEM.
 */
RCPT_CLIENT_PUBLIC int rcpt_client_append_send(struct rcpt_client *c,
    const struct rcpt_client_event *ev, uint64_t *id_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Sends any request without waiting; as rcpt_client_append_send().
 */
RCPT_CLIENT_PUBLIC int rcpt_client_send(struct rcpt_client *c,
    const char *method, const char *params, uint64_t *id_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Waits for the oldest outstanding answer.
 * @param[out] id_out may be NULL; the id it answers.
 * @param[out] result_out its result (JCS text), NULL on an RPC error.
 * @return RCPT_OK; the RPC error mapped (the connection stays usable);
 * RCPT_E_INVAL (nothing outstanding); RCPT_E_IO; RCPT_E_PARSE.
 */
RCPT_CLIENT_PUBLIC int rcpt_client_recv(struct rcpt_client *c, uint64_t *id_out,
    char **result_out, size_t *len_out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Answers not yet received. */
RCPT_CLIENT_PUBLIC size_t rcpt_client_pending(const struct rcpt_client *c);

/* Reading */

/** Receipt @p seq of @p chain (JCS line); free() it. */
RCPT_CLIENT_PUBLIC int rcpt_client_get(struct rcpt_client *c, const char *chain,
    uint64_t seq, char **receipt_out, size_t *len_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Receipts @p from to @p from + @p count - 1 (count 1 to 1000; fewer at
 * the tip) as JCS lines, each followed by "\n", in one buffer: what a
 * receipts.jsonl holds.  When the daemon answers -32002 (the answer
 * would not fit a line), the range is fetched in halves, so the result
 * is the same.  The receipts are not checked: use verify.h.
 * @param[out] lines_out NUL-terminated, "" when none; free() it.
 * @param[out] len_out may be NULL.
 * @param[out] n_out may be NULL; receipts returned.
 * @return as rcpt_client_call(); RCPT_E_INVAL for @p count out of range.
 */
RCPT_CLIENT_PUBLIC int rcpt_client_range(struct rcpt_client *c,
    const char *chain, uint64_t from, uint64_t count, char **lines_out,
    size_t *len_out, uint64_t *n_out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * The tip: receipts in the chain and the last entry_hash (hex).
 * @param[out] size_out may be NULL.
 * @param[out] hash_out may be NULL; 64 lowercase hex digits and a NUL.
 */
RCPT_CLIENT_PUBLIC int rcpt_client_tip(struct rcpt_client *c, const char *chain,
    uint64_t *size_out, char hash_out[65],
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Exports receipts @p from to @p to of @p chain as an evidence bundle
 * (SPEC 7) written to @p path: the daemon signs the manifest over the
 * range, this function fetches the receipts with `range`, checks that
 * they hash to the manifest's value, and writes the ustar through a
 * temporary file that is synced and linked into place (an existing
 * @p path is never replaced; mode 0600).
 * Receipts are fetched after the export call, so the manifest pins
 * them; a prune between the two calls shows up as RCPT_E_CORRUPT, and
 * trying again helps.  The manifest's signature is not checked here
 * (rcpt_bundle_verify() in libreceipt does that, given trusted keys).
 * @return as rcpt_client_call(); RCPT_E_EXISTS (@p path exists);
 * RCPT_E_CORRUPT (the receipts do not match the manifest, or the
 * manifest does not describe the other files); RCPT_E_INVAL (@p to
 * below @p from, or an answer that makes no SPEC 7 bundle); RCPT_E_IO.
 * On failure nothing is left at @p path.
 */
RCPT_CLIENT_PUBLIC int rcpt_client_export(struct rcpt_client *c,
    const char *chain, uint64_t from, uint64_t to, const char *path,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Asks the daemon for a fresh checkpoint of @p chain (SPEC 5): the
 * signed note, "\n"-terminated.  Its signature is not checked here.
 * @param[out] note_out NUL-terminated; free() it.
 * @param[out] len_out may be NULL.
 */
RCPT_CLIENT_PUBLIC int rcpt_client_checkpoint(struct rcpt_client *c,
    const char *chain, char **note_out, size_t *len_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

#endif
