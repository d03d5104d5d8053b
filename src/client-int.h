/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internal to client*.c: the request and answer plumbing of client.c
 * that the typed calls (client-calls.c) build on.  Not installed and
 * not exported from libreceiptclient (-fvisibility=hidden); other
 * modules use client.h.
 */
#ifndef RCPT_SRC_CLIENT_INT_H
#define RCPT_SRC_CLIENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "client.h"
#include "err.h"

/**
 * Sends one request without waiting; @p params (an object, or NULL for
 * none) stays the caller's.  As rcpt_client_send().
 */
int rcpt_client_send_obj(struct rcpt_client *c, const char *method,
    json_object *params, uint64_t *id_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * One request and its answer, with nothing else outstanding.
 * @param[out] doc_out the whole answer; the caller puts it, on failure
 * too (it is NULL then).
 * @param[out] result_out its result, borrowed from *@p doc_out; NULL
 * for JSON null.
 * @return as rcpt_client_call().
 */
int rcpt_client_exchange(struct rcpt_client *c, const char *method,
    json_object *params, json_object **doc_out, json_object **result_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * JCS of @p v into @p out (caller frees), when @p out is not NULL;
 * @p len_out may be NULL.
 */
int rcpt_client_result_text(const json_object *v, char **out, size_t *len_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

#endif
