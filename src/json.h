/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict JSON input (I-JSON, RFC 7493, SPEC 1.1) into json-c trees.
 *
 * json-c's own tokener keeps the last of duplicate members, clamps
 * out-of-range integers and cannot tell a caller where a value sat, so
 * this module parses the text itself and builds the json-c tree as it
 * goes.  It refuses, naming the JSON path and the rule: invalid UTF-8,
 * surrogate or noncharacter code points (escaped or raw), duplicate
 * member names, nesting deeper than the limit, integer literals beyond
 * 2^53, numbers that overflow a double, and anything after the value
 * but white space.  Every number becomes a json_type_double holding the
 * IEEE 754 value JCS will print (an underflow becomes 0).
 *
 * Limitation: json-c stores member names as C strings, so a member
 * name containing U+0000 is refused (RCPT_E_INVAL) rather than cut.
 */
#ifndef RCPT_SRC_JSON_H
#define RCPT_SRC_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"

#define RCPT_JSON_DEPTH_DEFAULT 64  /* SPEC 1.1 */
#define RCPT_JSON_DEPTH_MAX	256 /* verifiers accept up to this */
#define RCPT_JSON_MAX_SAFE	9007199254740992.0 /* 2^53 */

/**
 * Parses one JSON text.
 * @param[in] buf text, need not be NUL-terminated; borrowed.
 * @param[in] max_depth 1 to RCPT_JSON_DEPTH_MAX; a scalar has depth 0.
 * @param[in] path prefix for error messages ("data"), or NULL/"" for
 * the root, which is then called "$".
 * @param[out] out new reference the caller releases with
 * json_object_put(); JSON null comes back as NULL with RCPT_OK.
 * @param[out] diag optional: path and rule on failure.
 * @return RCPT_OK; RCPT_E_PARSE for text that is not JSON (grammar,
 * invalid UTF-8, trailing garbage); RCPT_E_INVAL for JSON that breaks an
 * I-JSON rule (duplicate name, surrogate, noncharacter, integer beyond
 * 2^53, overflow, U+0000 in a name); RCPT_E_TOO_LARGE for depth;
 * RCPT_E_NOMEM.
 */
int rcpt_json_parse(const char *buf, size_t len, int max_depth,
    const char *path, json_object **out, struct rcpt_diag *diag)
    RCPT_MUST_CHECK;

/**
 * Reads a non-negative integer no larger than 2^53 from @p v, which
 * must be a number with no fractional part (double or int).
 * @return RCPT_OK or RCPT_E_INVAL.
 */
int rcpt_json_get_u64(const json_object *v, uint64_t *out) RCPT_MUST_CHECK;

#endif
