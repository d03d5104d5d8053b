/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON-RPC 2.0 framing of SPEC 9: one request line becomes one call, or
 * one call per element of a batch.  Parsing is strict (the project's
 * I-JSON parser): text that is not JSON is -32700; JSON that breaks an
 * I-JSON rule, a member the method does not take, or a value of the
 * wrong shape is -32602 (inside params) or -32600 (in the envelope),
 * and the message names the member and the rule.  Where the strict
 * parse fails, a lenient one recovers the id when it can, so that the
 * caller can still match the answer.  A `submitter` in params is
 * refused by name: the submitter is always the authenticated caller.
 *
 * Only shapes and rights are checked here; chains, seqs and keys are
 * the methods' business.  A call that fails here is returned already
 * answered (state D_DONE).
 */
#ifndef RCPT_DAEMON_RPC_H
#define RCPT_DAEMON_RPC_H

#include <stddef.h>

#include "daemon.h"

/** What each method needs. */
struct d_method_spec {
	const char *name;
	unsigned rights; /* RCPT_RIGHT_* on params.chain; 0: any caller */
	int barrier;     /* runs alone in its connection's order */
	int on_writer;   /* runs on the chain's writer, else a reader */
	const char *const *params;   /* allowed names, NULL-terminated */
	const char *const *required; /* required names, NULL-terminated */
};

/** The spec of @p m. */
const struct d_method_spec *d_method_spec(enum d_method m);

/**
 * Turns one request line (without its "\n") from a caller that
 * authenticated as @p principal into calls appended to the list at head and
 * tail: one for a single request, one per element for a batch (numbered
 * @p batch_no, the last marked batch_end); an empty batch yields one
 * answered call with -32600.
 * @return RCPT_OK, or RCPT_E_NOMEM (nothing appended).
 */
int d_rpc_parse(struct daemon *d, int principal, const char *line, size_t len,
    int batch_no, struct d_call **head, struct d_call **tail);

/**
 * Checks the shapes of @p c's params for its method (rpc-params.c).
 * @return RCPT_OK; RCPT_E_INVAL or RCPT_E_TOO_LARGE with @p diag
 * naming "params.<name>" and the rule.
 */
int d_rpc_check_params(
    const struct daemon *d, const struct d_call *c, struct rcpt_diag *diag);

/** Frees a call that no one holds any more; accepts NULL. */
void d_call_free(struct d_call *c);

/**
 * The JSON-RPC error line for a caller with no principal, or for a frame
 * over the cap: {"error":{...},"id":null,"jsonrpc":"2.0"}.  Static text.
 */
const char *d_rpc_unauthorized(void);
const char *d_rpc_too_large(void);

#endif
