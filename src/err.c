/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Messages and JSON-RPC mapping for enum rcpt_err.  The tables are indexed
 * by -err so that adding a code without a message fails to compile.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "err.h"

static const char *const messages[] = {
    [-RCPT_OK] = "success",
    [-RCPT_E_INTERNAL] = "internal error",
    [-RCPT_E_NOMEM] = "out of memory",
    [-RCPT_E_INVAL] = "invalid argument",
    [-RCPT_E_PARSE] = "malformed input",
    [-RCPT_E_TOO_LARGE] = "input too large",
    [-RCPT_E_NOT_FOUND] = "not found",
    [-RCPT_E_DENIED] = "not authorized",
    [-RCPT_E_KEY_UNAVAILABLE] = "signing key unavailable",
    [-RCPT_E_STORAGE_FULL] = "storage full",
    [-RCPT_E_IO] = "input/output error",
    [-RCPT_E_CORRUPT] = "data corrupt",
    [-RCPT_E_BAD_SIGNATURE] = "signature does not verify",
    [-RCPT_E_PLUGIN_ABI] = "provider plugin ABI mismatch",
    [-RCPT_E_CONFIG] = "invalid configuration",
    [-RCPT_E_EXISTS] = "already exists",
    [-RCPT_E_PROOF] = "proof does not verify",
    [-RCPT_E_ANCHOR] = "store inconsistent with the token's anchor",
};

_Static_assert(sizeof(messages) / sizeof(messages[0]) == -RCPT_E_LAST_,
    "every error code needs a message");

const char *
rcpt_strerror(int err)
{
	if (err > 0 || err <= RCPT_E_LAST_ || messages[-err] == NULL)
		return "unknown error";
	return messages[-err];
}

int
rcpt_err_rpc_code(int err)
{
	switch (err) {
	case RCPT_OK:
		return 0;
	case RCPT_E_PARSE:
		return -32700;
	case RCPT_E_INVAL:
		return -32602;
	case RCPT_E_NOT_FOUND:
		return -32005;
	case RCPT_E_DENIED:
		return -32001;
	case RCPT_E_TOO_LARGE:
		return -32002;
	case RCPT_E_KEY_UNAVAILABLE:
		return -32003;
	case RCPT_E_STORAGE_FULL:
		return -32004;
	case RCPT_E_ANCHOR:
	case RCPT_E_CORRUPT:
		return -32006;
	default:
		return -32603;
	}
}

int
rcpt_err_from_rpc_code(int code)
{
	switch (code) {
	case -32700:
		return RCPT_E_PARSE;
	case -32600:
	case -32601:
	case -32602:
		return RCPT_E_INVAL;
	case -32001:
		return RCPT_E_DENIED;
	case -32002:
		return RCPT_E_TOO_LARGE;
	case -32003:
		return RCPT_E_KEY_UNAVAILABLE;
	case -32004:
		return RCPT_E_STORAGE_FULL;
	case -32005:
		return RCPT_E_NOT_FOUND;
	case -32006:
		return RCPT_E_ANCHOR;
	default:
		return RCPT_E_INTERNAL;
	}
}

void
rcpt_diag_clear(struct rcpt_diag *d)
{
	if (d == NULL)
		return;
	d->set = 0;
	d->msg[0] = '\0';
}

int
rcpt_diag(struct rcpt_diag *d, int err, const char *fmt, ...)
{
	va_list ap;

	if (d == NULL || d->set)
		return err;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	d->set = 1;
	return err;
}

const char *
rcpt_diag_msg(const struct rcpt_diag *d, int err)
{
	if (d != NULL && d->set)
		return d->msg;
	return rcpt_strerror(err);
}
