/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 8785 JSON Canonicalization Scheme over json-c trees (SPEC 2):
 * members ordered by UTF-16 code units, strings escaped exactly as the
 * RFC says, numbers as ECMAScript Number#toString.  The output is the
 * byte string every hash and signature in receiptd is computed over.
 *
 * It accepts trees from rcpt_json_parse and trees built in code.
 * json_type_int values must lie within +-2^53 and doubles must be
 * finite; strings and member names must be valid UTF-8 without
 * noncharacters (what rcpt_json_parse accepts, so every output parses
 * again).  Anything else is refused, never approximated.
 */
#ifndef RCPT_SRC_JCS_H
#define RCPT_SRC_JCS_H

#include <stddef.h>

#include <json-c/json.h>

#include "err.h"

#define RCPT_JCS_NUMBER_MAX 32  /* longest ES6 number text plus NUL */
#define RCPT_JCS_DEPTH_MAX  272 /* nesting of trees built in code */

/** A growable byte buffer; init with {0}, free with rcpt_buf_clear(). */
struct rcpt_buf {
	char *p;    /* NUL-terminated when len > 0 or after any append */
	size_t len; /* bytes used, without the NUL */
	size_t cap; /* bytes allocated */
};

/** Releases @p b's memory and zeroes it; accepts an empty buffer. */
void rcpt_buf_clear(struct rcpt_buf *b);
/** Empties @p b but keeps its memory for reuse. */
void rcpt_buf_reset(struct rcpt_buf *b);
/**
 * Makes room for @p n more bytes and a NUL after b->len, so that the
 * caller may write them at b->p + b->len and then move b->len.
 * @return RCPT_OK or RCPT_E_NOMEM.
 */
int rcpt_buf_reserve(struct rcpt_buf *b, size_t n) RCPT_MUST_CHECK;
/** Appends @p n bytes. @return RCPT_OK or RCPT_E_NOMEM. */
int rcpt_buf_append(
    struct rcpt_buf *b, const void *p, size_t n) RCPT_MUST_CHECK;

/**
 * Formats @p d as ECMAScript Number#toString does (shortest round-trip
 * digits; exponent form below 1e-6 and from 1e21; -0 gives "0").
 * @return RCPT_OK, or RCPT_E_INVAL for NaN and infinities.
 */
int rcpt_jcs_number(double d, char out[RCPT_JCS_NUMBER_MAX]) RCPT_MUST_CHECK;

/**
 * Appends JCS(@p v) to @p b (NULL means JSON null).  On failure @p b
 * may hold a partial value after its old contents.
 * @return RCPT_OK, RCPT_E_INVAL (see above; diag names the path from
 * "$"), RCPT_E_TOO_LARGE for nesting beyond RCPT_JCS_DEPTH_MAX,
 * RCPT_E_NOMEM.
 */
int rcpt_jcs_append(struct rcpt_buf *b, const json_object *v,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Serializes @p v into a new buffer.
 * @param[out] out NUL-terminated; caller frees with free().
 * @param[out] len_out length without the NUL.
 * @return as rcpt_jcs_append().
 */
int rcpt_jcs_serialize(const json_object *v, char **out, size_t *len_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Parses @p buf strictly (rcpt_json_parse) and canonicalizes it: what
 * `receiptctl canon` does.  Same errors as both.
 */
int rcpt_jcs_canon(const char *buf, size_t len, int max_depth, char **out,
    size_t *len_out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

#endif
