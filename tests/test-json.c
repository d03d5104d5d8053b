/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict JSON input (SPEC 1.1): every accept and refuse rule, with the
 * exact error code and the path and rule named in the message.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "testlib.h"

static json_object *
accept_n(const char *in, size_t len, int depth)
{
	struct rcpt_diag d;
	json_object *v = NULL;
	int r;

	rcpt_diag_clear(&d);
	r = rcpt_json_parse(in, len, depth, NULL, &v, &d);
	CU_ASSERT_EQUAL(r, RCPT_OK);
	if (r != RCPT_OK)
		fprintf(stderr, "\nrefused: %s\n", d.msg);
	return v;
}

static json_object *
accept(const char *in)
{
	return accept_n(in, strlen(in), RCPT_JSON_DEPTH_DEFAULT);
}

/* Checks the code and that the message is exactly @p msg. */
static void
refuse_full(const char *in, size_t len, int depth, const char *path, int err,
    const char *msg)
{
	struct rcpt_diag d;
	json_object *v = (json_object *)&d; /* must be reset to NULL */
	int r;

	rcpt_diag_clear(&d);
	r = rcpt_json_parse(in, len, depth, path, &v, &d);
	CU_ASSERT_EQUAL(r, err);
	CU_ASSERT_PTR_NULL(v);
	CU_ASSERT_EQUAL(d.set, 1);
	CU_ASSERT_STRING_EQUAL(d.msg, msg);
	if (r != err || strcmp(d.msg, msg) != 0)
		fprintf(stderr, "\ngot %d \"%s\", want %d \"%s\"\n", r, d.msg,
		    err, msg);
}

static void
refuse(const char *in, int err, const char *msg)
{
	refuse_full(in, strlen(in), RCPT_JSON_DEPTH_DEFAULT, NULL, err, msg);
}

static void
check_string(const char *in, const char *want, size_t want_len)
{
	json_object *v = accept(in);

	CU_ASSERT(json_object_is_type(v, json_type_string));
	CU_ASSERT_EQUAL((size_t)json_object_get_string_len(v), want_len);
	CU_ASSERT(memcmp(json_object_get_string(v), want, want_len) == 0);
	json_object_put(v);
}

static double
number_of(const char *in)
{
	json_object *v = accept(in);
	double d;

	CU_ASSERT_FATAL(json_object_is_type(v, json_type_double));
	d = json_object_get_double(v);
	json_object_put(v);
	return d;
}

static void
test_accepts_values(void)
{
	json_object *v, *m;

	v = accept(" \t\r\n{\"a\" : [1, true, false, null, \"x\", {}, []] ,"
	           "\"b\":{\"c\":-2.5}}\n");
	CU_ASSERT_FATAL(json_object_is_type(v, json_type_object));
	CU_ASSERT(json_object_object_get_ex(v, "a", &m));
	CU_ASSERT_EQUAL(json_object_array_length(m), 7);
	CU_ASSERT(json_object_is_type(
	    json_object_array_get_idx(m, 0), json_type_double));
	CU_ASSERT(json_object_get_boolean(json_object_array_get_idx(m, 1)));
	CU_ASSERT(json_object_is_type(
	    json_object_array_get_idx(m, 2), json_type_boolean));
	CU_ASSERT_PTR_NULL(json_object_array_get_idx(m, 3));
	json_object_put(v);

	/* null alone is RCPT_OK with a NULL tree. */
	v = (json_object *)&m;
	CU_ASSERT_EQUAL(rcpt_json_parse("null", 4, 1, NULL, &v, NULL), RCPT_OK);
	CU_ASSERT_PTR_NULL(v);
	/* The buffer need not be NUL-terminated. */
	v = accept_n("123456", 3, 1);
	CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(v), 123, 0);
	json_object_put(v);
}

static void
test_strings(void)
{
	check_string("\"\"", "", 0);
	check_string("\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "a\"\\/\b\f\n\r\t", 9);
	check_string("\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6);
	check_string("\"\\u0000x\"", "\0x", 2);
	check_string("\"\\ud83d\\ude02\"", "\xf0\x9f\x98\x82", 4);
	check_string("\"\xf0\x9f\x98\x82\"", "\xf0\x9f\x98\x82", 4);
	/* Just outside the noncharacter ranges. */
	check_string("\"\\ufdcf\\ufdf0\\ufffd\"",
	    "\xef\xb7\x8f\xef\xb7\xb0\xef\xbf\xbd", 9);
	refuse("\"\t\"", RCPT_E_PARSE,
	    "$: control character in a string must be escaped at byte 1");
	refuse("\"\\x\"", RCPT_E_PARSE, "$: unknown escape at byte 1");
	refuse("\"\\u12G4\"", RCPT_E_PARSE, "$: bad \\u escape at byte 3");
	refuse("\"\\u12\"", RCPT_E_PARSE, "$: bad \\u escape at byte 3");
	refuse("\"abc", RCPT_E_PARSE, "$: unterminated string at end of input");
	refuse(
	    "\"abc\\", RCPT_E_PARSE, "$: unterminated string at end of input");
}

static void
test_invalid_utf8(void)
{
	refuse("\"\xff\"", RCPT_E_PARSE, "$: invalid UTF-8 at byte 1");
	/* Overlong "/" and overlong NUL. */
	refuse("\"\xc0\xaf\"", RCPT_E_PARSE, "$: invalid UTF-8 at byte 1");
	refuse("[\"\xe0\x80\x80\"]", RCPT_E_PARSE,
	    "$[0]: invalid UTF-8 at byte 2");
	refuse(
	    "\"\xf4\x90\x80\x80\"", RCPT_E_PARSE, "$: invalid UTF-8 at byte 1");
	refuse("\"\xe2\x82\"", RCPT_E_PARSE, "$: invalid UTF-8 at byte 1");
	refuse("{\"\x80\":1}", RCPT_E_PARSE, "$: invalid UTF-8 at byte 2");
	refuse("[\xc3\xa9]", RCPT_E_PARSE, "$[0]: expected a value at byte 1");
}

static void
test_surrogates(void)
{
	refuse("\"\\ud800\"", RCPT_E_INVAL, "$: lone surrogate escape");
	refuse("\"\\uDBFF\"", RCPT_E_INVAL, "$: lone surrogate escape");
	refuse("\"\\udc00\"", RCPT_E_INVAL, "$: lone surrogate escape");
	refuse("\"\\ude02\\ud83d\"", RCPT_E_INVAL, "$: lone surrogate escape");
	refuse("\"\\ud83d\\u0041\"", RCPT_E_INVAL, "$: lone surrogate escape");
	refuse("\"\\ud83d\\ud83d\"", RCPT_E_INVAL, "$: lone surrogate escape");
	refuse("\"\\ud83dx\"", RCPT_E_INVAL, "$: lone surrogate escape");
	refuse("{\"\\ud800\":1}", RCPT_E_INVAL,
	    "$: member name: lone surrogate escape");
	/* Raw surrogates (CESU-8), alone and as a "pair". */
	refuse("\"\xed\xa0\x80\"", RCPT_E_INVAL, "$: surrogate code point");
	refuse("[\"\xed\xa0\xbd\xed\xb8\x82\"]", RCPT_E_INVAL,
	    "$[0]: surrogate code point");
	refuse("{\"\xed\xbf\xbf\":1}", RCPT_E_INVAL,
	    "$: member name: surrogate code point");
}

static void
test_noncharacters(void)
{
	/* U+FFFE, U+1FFFF, U+FDD0, U+FDEF, U+10FFFF raw and escaped. */
	refuse("\"\xef\xbf\xbe\"", RCPT_E_INVAL, "$: noncharacter code point");
	refuse(
	    "\"\xf0\x9f\xbf\xbf\"", RCPT_E_INVAL, "$: noncharacter code point");
	refuse("\"\xef\xb7\x90\"", RCPT_E_INVAL, "$: noncharacter code point");
	refuse("\"\xef\xb7\xaf\"", RCPT_E_INVAL, "$: noncharacter code point");
	refuse(
	    "\"\xf4\x8f\xbf\xbf\"", RCPT_E_INVAL, "$: noncharacter code point");
	refuse("\"\\ufffe\"", RCPT_E_INVAL, "$: noncharacter code point");
	refuse("\"\\uFFFF\"", RCPT_E_INVAL, "$: noncharacter code point");
	refuse(
	    "\"\\ud83f\\udfff\"", RCPT_E_INVAL, "$: noncharacter code point");
	refuse("\"\\ufdd0\"", RCPT_E_INVAL, "$: noncharacter code point");
	refuse(
	    "\"\\udbff\\udfff\"", RCPT_E_INVAL, "$: noncharacter code point");
	refuse("{\"k\\ufffe\":1}", RCPT_E_INVAL,
	    "$: member name: noncharacter code point");
}

static void
test_duplicates(void)
{
	json_object *v;

	refuse("{\"a\":1,\"a\":2}", RCPT_E_INVAL, "$.a: duplicate member name");
	refuse("{\"a\":1,\"\\u0061\":2}", RCPT_E_INVAL,
	    "$.a: duplicate member name");
	refuse("{\"\\u00e9\":1,\"\xc3\xa9\":2}", RCPT_E_INVAL,
	    "$[\"\xc3\xa9\"]: duplicate member name");
	refuse_full("{\"x\":[{\"a\":{},\"b\":0,\"a\":null}]}", 31, 8, "data",
	    RCPT_E_INVAL, "data.x[0].a: duplicate member name");
	/* Same name in different objects is fine; so is "a" vs "A". */
	v = accept("{\"a\":{\"a\":1},\"b\":{\"a\":2},\"A\":3}");
	CU_ASSERT_EQUAL(json_object_object_length(v), 3);
	json_object_put(v);
}

static void
test_nul_in_name(void)
{
	refuse("{\"a\\u0000b\":1}", RCPT_E_INVAL,
	    "$[\"a\\u0000b\"]: member name contains U+0000, which json-c "
	    "cannot store");
}

/* Makes @p n nested arrays around 1 in a malloc'd string. */
static char *
nested(int n)
{
	char *s = malloc((size_t)n * 2 + 2);
	int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (i = 0; i < n; i++)
		s[i] = '[';
	s[n] = '1';
	for (i = 0; i < n; i++)
		s[n + 1 + i] = ']';
	s[2 * n + 1] = '\0';
	return s;
}

static void
test_depth(void)
{
	struct rcpt_diag d;
	json_object *v;
	char *s;

	json_object_put(accept_n("1", 1, 1));
	json_object_put(accept_n("[[1]]", 5, 2));
	refuse_full("[[1]]", 5, 1, NULL, RCPT_E_TOO_LARGE,
	    "$[0]: nesting deeper than 1");
	json_object_put(accept_n("{\"a\":[{}]}", 10, 3));
	refuse_full("{\"a\":[{}]}", 10, 2, "data", RCPT_E_TOO_LARGE,
	    "data.a[0]: nesting deeper than 2");

	s = nested(RCPT_JSON_DEPTH_DEFAULT);
	json_object_put(accept(s));
	free(s);
	s = nested(RCPT_JSON_DEPTH_DEFAULT + 1);
	rcpt_diag_clear(&d);
	v = NULL;
	CU_ASSERT_EQUAL(rcpt_json_parse(s, strlen(s), RCPT_JSON_DEPTH_DEFAULT,
	                    NULL, &v, &d),
	    RCPT_E_TOO_LARGE);
	CU_ASSERT(strstr(d.msg, ": nesting deeper than 64") != NULL);
	CU_ASSERT(strncmp(d.msg, "$[0][0][0]", 10) == 0);
	free(s);

	s = nested(RCPT_JSON_DEPTH_MAX);
	json_object_put(accept_n(s, strlen(s), RCPT_JSON_DEPTH_MAX));
	free(s);
	s = nested(RCPT_JSON_DEPTH_MAX + 1);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_json_parse(s, strlen(s), RCPT_JSON_DEPTH_MAX, NULL, &v, &d),
	    RCPT_E_TOO_LARGE);
	/* A path too long for the message loses its middle. */
	CU_ASSERT(strncmp(d.msg, "$...[0]", 7) == 0);
	CU_ASSERT(strstr(d.msg, "[0]: nesting deeper than 256") != NULL);
	free(s);

	refuse_full(
	    "1", 1, 0, NULL, RCPT_E_INVAL, "$: depth limit must be 1 to 260");
	refuse_full("1", 1, RCPT_JSON_DEPTH_MAX + RCPT_JSON_DEPTH_ENVELOPE + 1,
	    NULL, RCPT_E_INVAL, "$: depth limit must be 1 to 260");
}

static void
test_integers(void)
{
	json_object *v;

	CU_ASSERT_DOUBLE_EQUAL(
	    number_of("9007199254740992"), 9007199254740992.0, 0);
	CU_ASSERT_DOUBLE_EQUAL(
	    number_of("-9007199254740992"), -9007199254740992.0, 0);
	CU_ASSERT_DOUBLE_EQUAL(
	    number_of("9007199254740991"), 9007199254740991.0, 0);
	CU_ASSERT_DOUBLE_EQUAL(number_of("0"), 0, 0);
	CU_ASSERT(signbit(number_of("-0")));
	refuse("9007199254740993", RCPT_E_INVAL,
	    "$: integer beyond 2^53; send it as a string");
	refuse("-9007199254740993", RCPT_E_INVAL,
	    "$: integer beyond 2^53; send it as a string");
	refuse("[12345678901234567890]", RCPT_E_INVAL,
	    "$[0]: integer beyond 2^53; send it as a string");
	refuse_full("{\"items\":[0,1,2,{\"id\":9007199254740993}]}", 41, 64,
	    "data", RCPT_E_INVAL,
	    "data.items[3].id: integer beyond 2^53; send it as a string");
	/* Canonical text that holds them reads back with the flag. */
	v = NULL;
	CU_ASSERT_EQUAL(rcpt_json_parse_ex("[100000000000000000000,"
	                                   "-9007199254740993]",
	                    41, 2, NULL, RCPT_JSON_BIG_INTS, &v, NULL),
	    RCPT_OK);
	CU_ASSERT_DOUBLE_EQUAL(
	    json_object_get_double(json_object_array_get_idx(v, 0)), 1e20, 0);
	CU_ASSERT_DOUBLE_EQUAL(
	    json_object_get_double(json_object_array_get_idx(v, 1)),
	    -9007199254740992.0, 0);
	json_object_put(v);
	/* Not integer literals: rounded as doubles, as JCS requires. */
	CU_ASSERT_DOUBLE_EQUAL(
	    number_of("9007199254740993.0"), 9007199254740992.0, 0);
	CU_ASSERT_DOUBLE_EQUAL(number_of("1e16"), 1e16, 0);
}

static void
test_doubles(void)
{
	CU_ASSERT_DOUBLE_EQUAL(number_of("1.5e3"), 1500, 0);
	CU_ASSERT_DOUBLE_EQUAL(number_of("-0.25"), -0.25, 0);
	CU_ASSERT_DOUBLE_EQUAL(number_of("12.5E-1"), 1.25, 0);
	CU_ASSERT_DOUBLE_EQUAL(number_of("0.1"), 0.1, 0);
	CU_ASSERT_DOUBLE_EQUAL(
	    number_of("1.7976931348623157e308"), 1.7976931348623157e308, 0);
	CU_ASSERT_DOUBLE_EQUAL(number_of("5e-324"), 5e-324, 0);
	CU_ASSERT_DOUBLE_EQUAL(number_of("0.000001e6"), 1, 0);
	/* Underflow becomes zero; huge exponents saturate. */
	CU_ASSERT_DOUBLE_EQUAL(number_of("1e-400"), 0, 0);
	CU_ASSERT(signbit(number_of("-1e-400")));
	CU_ASSERT_DOUBLE_EQUAL(number_of("0e99999999999999999999"), 0, 0);
	CU_ASSERT_DOUBLE_EQUAL(number_of("1e-99999999999999999999"), 0, 0);
	refuse("1e400", RCPT_E_INVAL, "$: number overflows a double");
	refuse("-1e400", RCPT_E_INVAL, "$: number overflows a double");
	refuse("1.8e308", RCPT_E_INVAL, "$: number overflows a double");
	refuse("{\"a b\":{\"x\\\"y\":1e99999999999999999999}}", RCPT_E_INVAL,
	    "$[\"a b\"][\"x\\\"y\"]: number overflows a double");
}

static void
test_grammar(void)
{
	refuse("", RCPT_E_PARSE, "$: empty input");
	refuse(" \n\t\r", RCPT_E_PARSE, "$: empty input");
	refuse("\xef\xbb\xbf{}", RCPT_E_PARSE,
	    "$: byte order mark before the value at byte 0");
	refuse("1 2", RCPT_E_PARSE,
	    "$: trailing garbage after the value at byte 2");
	refuse("{} x", RCPT_E_PARSE,
	    "$: trailing garbage after the value at byte 3");
	refuse("01", RCPT_E_PARSE,
	    "$: trailing garbage after the value at byte 1");
	refuse_full("[1]\0", 4, 4, NULL, RCPT_E_PARSE,
	    "$: trailing garbage after the value at byte 3");
	refuse("[1,]", RCPT_E_PARSE, "$[1]: expected a value at byte 3");
	refuse("[1 2]", RCPT_E_PARSE, "$: expected ',' or ']' at byte 3");
	refuse("[1", RCPT_E_PARSE, "$: unterminated array at end of input");
	refuse("{\"a\" 1}", RCPT_E_PARSE, "$.a: expected ':' at byte 5");
	refuse("{,}", RCPT_E_PARSE, "$: expected a member name at byte 1");
	refuse(
	    "{\"a\":1,}", RCPT_E_PARSE, "$: expected a member name at byte 7");
	refuse("{\"a\":1 \"b\":2}", RCPT_E_PARSE,
	    "$: expected ',' or '}' at byte 7");
	refuse(
	    "{\"a\":1", RCPT_E_PARSE, "$: unterminated object at end of input");
	refuse("{'a':1}", RCPT_E_PARSE, "$: expected a member name at byte 1");
	refuse("tru", RCPT_E_PARSE, "$: expected a value at byte 0");
	refuse("nul", RCPT_E_PARSE, "$: expected a value at byte 0");
	refuse("True", RCPT_E_PARSE, "$: expected a value at byte 0");
	refuse(
	    "-", RCPT_E_PARSE, "$: digit expected in number at end of input");
	refuse("+1", RCPT_E_PARSE, "$: expected a value at byte 0");
	refuse(".5", RCPT_E_PARSE, "$: expected a value at byte 0");
	refuse("1.", RCPT_E_PARSE,
	    "$: digit expected after the decimal point at end of input");
	refuse("1.e5", RCPT_E_PARSE,
	    "$: digit expected after the decimal point at byte 2");
	refuse("1e", RCPT_E_PARSE,
	    "$: digit expected in the exponent at end of input");
	refuse("1e+", RCPT_E_PARSE,
	    "$: digit expected in the exponent at end of input");
	/* Only space, tab, CR and LF are white space. */
	refuse("\f1", RCPT_E_PARSE, "$: expected a value at byte 0");
	refuse("\xc2\xa0"
	       "1",
	    RCPT_E_PARSE, "$: expected a value at byte 0");
	refuse("[1]\v", RCPT_E_PARSE,
	    "$: trailing garbage after the value at byte 3");
}

static void
test_path_format(void)
{
	char name[200], in[300], want[300];

	/* Long names are cut to 40 characters. */
	memset(name, 'n', 60);
	name[60] = '\0';
	snprintf(in, sizeof(in), "{\"%s\":1e400}", name);
	snprintf(want, sizeof(want),
	    "$[\"%.40s...\"]: number overflows a double", name);
	refuse(in, RCPT_E_INVAL, want);
	/* Simple names up to 40 characters keep the dot form. */
	snprintf(in, sizeof(in), "{\"_%.39s\":1e400}", name);
	snprintf(
	    want, sizeof(want), "$._%.39s: number overflows a double", name);
	refuse(in, RCPT_E_INVAL, want);
	refuse("{\"1a\":{\"\":{\"\\n\\u0001\":1e400}}}", RCPT_E_INVAL,
	    "$[\"1a\"][\"\"][\"\\u000a\\u0001\"]: number overflows a double");
	/* Escapes count against the limit too (found by the fuzzer). */
	memset(name, '\\', 120);
	snprintf(in, sizeof(in), "{\"%.120s\" 1}", name);
	memset(want, 0, sizeof(want));
	snprintf(want, sizeof(want),
	    "$[\"%.40s...\"]: expected ':' at byte 124", name);
	refuse(in, RCPT_E_PARSE, want);
	refuse_full("[1e400]", 7, 2, "", RCPT_E_INVAL,
	    "$[0]: number overflows a double");
}

static void
test_get_u64(void)
{
	json_object *v;
	uint64_t u = 99;

	v = accept("[0, 9007199254740992, 1.5, -1, 9007199254740993.0, \"1\","
	           " 1e300]");
	CU_ASSERT_EQUAL(
	    rcpt_json_get_u64(json_object_array_get_idx(v, 0), &u), RCPT_OK);
	CU_ASSERT_EQUAL(u, 0);
	CU_ASSERT_EQUAL(
	    rcpt_json_get_u64(json_object_array_get_idx(v, 1), &u), RCPT_OK);
	CU_ASSERT_EQUAL(u, UINT64_C(9007199254740992));
	CU_ASSERT_EQUAL(rcpt_json_get_u64(json_object_array_get_idx(v, 2), &u),
	    RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_json_get_u64(json_object_array_get_idx(v, 3), &u),
	    RCPT_E_INVAL);
	/* Rounds to 2^53 as a double, so it is allowed. */
	CU_ASSERT_EQUAL(
	    rcpt_json_get_u64(json_object_array_get_idx(v, 4), &u), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_json_get_u64(json_object_array_get_idx(v, 5), &u),
	    RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_json_get_u64(json_object_array_get_idx(v, 6), &u),
	    RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_json_get_u64(NULL, &u), RCPT_E_INVAL);
	json_object_put(v);

	v = json_object_new_int64(42);
	CU_ASSERT_EQUAL(rcpt_json_get_u64(v, &u), RCPT_OK);
	CU_ASSERT_EQUAL(u, 42);
	json_object_put(v);
	v = json_object_new_int64(((int64_t)1 << 53) + 1);
	CU_ASSERT_EQUAL(rcpt_json_get_u64(v, &u), RCPT_E_INVAL);
	json_object_put(v);
	v = json_object_new_int64(-1);
	CU_ASSERT_EQUAL(rcpt_json_get_u64(v, &u), RCPT_E_INVAL);
	json_object_put(v);
}

static void
test_out_of_memory(void)
{
	char in[4000];
	json_object *v = NULL;
	size_t o = 0;
	long n;
	int i, r = RCPT_E_INTERNAL;

	/* Longer than the on-stack arena, so the parser allocates. */
	o += (size_t)snprintf(in + o, sizeof(in) - o, "{");
	for (i = 0; i < 80; i++)
		o += (size_t)snprintf(in + o, sizeof(in) - o,
		    "%s\"m%03d\":[\"\\u00e9 %d\",%d.5]", i == 0 ? "" : ",", i,
		    i, i);
	snprintf(in + o, sizeof(in) - o, "}");
	CU_ASSERT(strlen(in) > 1024);
	for (n = 0; n < 50; n++) {
		rcpt_mem_fail_after(n);
		r = rcpt_json_parse(in, strlen(in), 4, NULL, &v, NULL);
		rcpt_mem_fail_after(-1);
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL(r, RCPT_E_NOMEM);
		CU_ASSERT_PTR_NULL(v);
	}
	CU_ASSERT_EQUAL(r, RCPT_OK);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(json_object_object_length(v), 80);
	json_object_put(v);
}

static CU_TestInfo accept_tests[] = {
    {"accepts JSON values", test_accepts_values},
    {"decodes strings and escapes", test_strings},
    {"integers up to 2^53", test_integers},
    {"doubles, overflow and underflow", test_doubles},
    {"reads non-negative integers", test_get_u64},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo refuse_tests[] = {
    {"rejects invalid UTF-8", test_invalid_utf8},
    {"rejects surrogates, escaped and raw", test_surrogates},
    {"rejects noncharacters, escaped and raw", test_noncharacters},
    {"rejects duplicate member names", test_duplicates},
    {"rejects U+0000 in member names", test_nul_in_name},
    {"depth limit exact", test_depth},
    {"grammar, BOM, trailing garbage", test_grammar},
    {"path formatting in messages", test_path_format},
    {"out of memory", test_out_of_memory},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "json accept", .pTests = accept_tests},
    {.pName = "json refuse", .pTests = refuse_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return rcpt_test_run(suites);
}
