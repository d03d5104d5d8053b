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
 *
 * Numbers are converted with strtod(3) on a text that has no decimal
 * point (the fraction is folded into the exponent), so the result does
 * not depend on LC_NUMERIC.
 *
 * For output, rcpt_json_add() is the one helper for building a tree by
 * hand; jcs.c writes it.
 */
#ifndef RCPT_SRC_JSON_H
#define RCPT_SRC_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "err.h"

#define RCPT_JSON_DEPTH_DEFAULT 64  /* SPEC 1.1 */
#define RCPT_JSON_DEPTH_MAX     256 /* verifiers accept up to this */
/* Levels a carrier (an RPC request around params.data) may add. */
#define RCPT_JSON_DEPTH_ENVELOPE 4
#define RCPT_JSON_MAX_SAFE       9007199254740992.0 /* 2^53 */

/**
 * Parses one JSON text.
 * @param[in] buf text, need not be NUL-terminated; borrowed.
 * @param[in] max_depth 1 to RCPT_JSON_DEPTH_MAX + RCPT_JSON_DEPTH_ENVELOPE;
 * a scalar has depth 0.
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
    const char *path, json_object **out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/*
 * Locations inside a JSON text, for error messages.  A path is a chain
 * of steps from the innermost value outwards; NULL is the root.  The
 * steps live on the caller's stack, so building one costs nothing until
 * a message needs it.
 */
#define RCPT_JSON_PATH_MAX 200 /* longest path text, NUL included */

/** One step of a JSON path. */
struct rcpt_json_path {
	const struct rcpt_json_path *up; /* enclosing step, NULL at the root */
	const char *name;                /* member name (borrowed), or NULL */
	size_t name_len;                 /* bytes in name */
	size_t index;                    /* array index when name is NULL */
};

/**
 * Writes @p at as text such as `data.items[3]["a b"]` into @p out.
 * Names matching [A-Za-z_][A-Za-z0-9_]* appear as `.name`, others as
 * `["..."]` JSON-escaped and cut after 40 bytes or so; a path too
 * long for @p cap loses its middle steps to "...".
 * @param[in] root name of the root value; NULL or "" means "$".
 * @param[out] out always NUL-terminated when @p cap > 0.
 */
void rcpt_json_path_format(
    const struct rcpt_json_path *at, const char *root, char *out, size_t cap);

/*
 * JCS writes every double below 1e21 without an exponent, so the
 * canonical text of 1e20 is an integer literal beyond 2^53.  Client
 * input must still be refused (SPEC 1.1), but text that is already
 * canonical (stored receipts, bundles) must read back.
 */
#define RCPT_JSON_BIG_INTS 0x1u /* accept integer literals beyond 2^53 */

/**
 * rcpt_json_parse() with @p flags (0 or RCPT_JSON_BIG_INTS, with which
 * integer literals beyond 2^53 round to the nearest double like any
 * other number instead of being refused).
 */
int rcpt_json_parse_ex(const char *buf, size_t len, int max_depth,
    const char *path, unsigned flags, json_object **out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Reads a non-negative integer no larger than 2^53 from @p v, which
 * must be a number with no fractional part (double or int).
 * @return RCPT_OK or RCPT_E_INVAL.
 */
int rcpt_json_get_u64(const json_object *v, uint64_t *out) RCPT_MUST_CHECK;

/**
 * Adds member @p name with value @p v to the object @p o, for building
 * trees to serialize.  Takes @p v in all cases (json-c's own add keeps
 * it on failure), so a failed constructor can be passed straight in.
 * @param[in] v new reference, or NULL when its constructor failed.
 * @return RCPT_OK or RCPT_E_NOMEM (also for @p v NULL).
 */
int rcpt_json_add(
    json_object *o, const char *name, json_object *v) RCPT_MUST_CHECK;

#endif
