/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one error vocabulary of receiptd.  Every fallible function returns
 * RCPT_OK or a negative RCPT_E_* code; details for people travel in an
 * optional struct rcpt_diag supplied by the caller.  Codes are never
 * renumbered: add new ones just before RCPT_E_LAST_.
 */
#ifndef RCPT_SRC_ERR_H
#define RCPT_SRC_ERR_H

#include <stddef.h>

#define RCPT_MUST_CHECK __attribute__((warn_unused_result))
/* Exported from the installed libreceiptclient despite -fvisibility. */
#define RCPT_ERR_PUBLIC __attribute__((visibility("default")))

enum rcpt_err {
	RCPT_OK = 0,
	RCPT_E_INTERNAL = -1,        /* a bug: an invariant did not hold */
	RCPT_E_NOMEM = -2,           /* out of memory */
	RCPT_E_INVAL = -3,           /* input breaks a rule (diag names it) */
	RCPT_E_PARSE = -4,           /* input is not well-formed */
	RCPT_E_TOO_LARGE = -5,       /* input exceeds a size or depth limit */
	RCPT_E_NOT_FOUND = -6,       /* no such chain, seq, key or file */
	RCPT_E_DENIED = -7,          /* caller not authorised */
	RCPT_E_KEY_UNAVAILABLE = -8, /* signing key or token unusable */
	RCPT_E_STORAGE_FULL = -9,    /* store or disk full */
	RCPT_E_IO = -10,             /* read, write or sync failed */
	RCPT_E_CORRUPT = -11,        /* stored data fails its own checks */
	RCPT_E_BAD_SIGNATURE = -12,  /* signature does not verify */
	RCPT_E_PLUGIN_ABI = -13,     /* provider plugin ABI mismatch */
	RCPT_E_CONFIG = -14,         /* configuration is invalid */
	RCPT_E_EXISTS = -15,         /* refusing to overwrite */
	RCPT_E_PROOF = -16,          /* Merkle proof does not verify */
	RCPT_E_ANCHOR = -17,         /* store inconsistent with anchor */
	RCPT_E_LAST_ = -18
};

/** Returns a static lowercase message for @p err, never NULL. */
RCPT_ERR_PUBLIC const char *rcpt_strerror(int err);

/**
 * Maps an error to its JSON-RPC code (SPEC section 9).  This is the only
 * place those numbers are written.
 */
RCPT_ERR_PUBLIC int rcpt_err_rpc_code(int err);

/**
 * Maps a JSON-RPC error code a daemon sent back to an RCPT_E_* code, for
 * clients: -32700 parse error to RCPT_E_PARSE; -32600 invalid request,
 * -32601 unknown method and -32602 invalid params to RCPT_E_INVAL (an
 * unknown method means the request cannot be served as sent, usually
 * by an older daemon: a refusal of the request, not a missing chain or
 * seq); -32001 to -32006 to RCPT_E_DENIED, RCPT_E_TOO_LARGE,
 * RCPT_E_KEY_UNAVAILABLE, RCPT_E_STORAGE_FULL, RCPT_E_NOT_FOUND and
 * RCPT_E_ANCHOR; anything else, -32603 and 0 included, to
 * RCPT_E_INTERNAL.  Never returns RCPT_OK.
 */
RCPT_ERR_PUBLIC int rcpt_err_from_rpc_code(int code);

/*
 * Details of a failure for a person: the field and the rule it broke.
 * The first message set wins, so a low-level cause is not overwritten by
 * a vaguer one further up.  Never put a rejected value in it.
 */
struct rcpt_diag {
	int set;       /* 1 once msg holds a message */
	char msg[512]; /* "data.items[3].id: integer beyond 2^53; ..." */
};

/** Clears @p d (may be NULL). */
void rcpt_diag_clear(struct rcpt_diag *d);

/**
 * Sets the message of @p d unless one is already set; @p d may be NULL.
 * @return @p err unchanged, so callers can write `return rcpt_diag(...)`.
 */
int rcpt_diag(struct rcpt_diag *d, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Message of @p d if set, else rcpt_strerror(@p err). */
const char *rcpt_diag_msg(const struct rcpt_diag *d, int err);

#endif
