/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 8785 canonicalization: the cyberphone vectors byte for byte, the
 * 20,000 ECMAScript number vectors, string escaping, UTF-16 member
 * order, refusals of trees built in code, and idempotence.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jcs.h"
#include "json.h"
#include "mem.h"
#include "testlib.h"

/* Canonicalizes @p in; returns the result (caller frees) or NULL. */
static char *
canon(const char *in, int *r_out, struct rcpt_diag *d)
{
	char *out = NULL;
	size_t len = 0;

	*r_out = rcpt_jcs_canon(
	    in, strlen(in), RCPT_JSON_DEPTH_DEFAULT, &out, &len, d);
	if (*r_out == RCPT_OK)
		CU_ASSERT_EQUAL(strlen(out), len);
	return out;
}

static void
check_canon(const char *in, const char *want)
{
	struct rcpt_diag d;
	char *out;
	int r;

	rcpt_diag_clear(&d);
	out = canon(in, &r, &d);
	CU_ASSERT_EQUAL(r, RCPT_OK);
	if (r != RCPT_OK)
		fprintf(stderr, "\n%s: %s\n", in, d.msg);
	if (out != NULL) {
		CU_ASSERT_STRING_EQUAL(out, want);
		if (strcmp(out, want) != 0)
			fprintf(stderr, "\n%s -> %s, want %s\n", in, out, want);
	}
	free(out);
}

static void
test_vector_files(void)
{
	char dir[4096], rel[512];
	struct dirent *e;
	DIR *dp;
	int seen = 0;

	snprintf(dir, sizeof(dir), "%s/jcs/input", rcpt_test_vectors_dir());
	dp = opendir(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dp);
	while ((e = readdir(dp)) != NULL) {
		char *in, *want, *out = NULL, *again = NULL;
		size_t in_len, want_len, out_len = 0, again_len = 0;

		if (e->d_name[0] == '.')
			continue;
		snprintf(rel, sizeof(rel), "jcs/input/%s", e->d_name);
		in = rcpt_test_read_vector(rel, &in_len);
		snprintf(rel, sizeof(rel), "jcs/output/%s", e->d_name);
		want = rcpt_test_read_vector(rel, &want_len);
		CU_ASSERT_PTR_NOT_NULL_FATAL(in);
		CU_ASSERT_PTR_NOT_NULL_FATAL(want);
		CU_ASSERT_EQUAL(
		    rcpt_jcs_canon(in, in_len, RCPT_JSON_DEPTH_DEFAULT, &out,
		        &out_len, NULL),
		    RCPT_OK);
		CU_ASSERT_EQUAL(out_len, want_len);
		CU_ASSERT(out != NULL && memcmp(out, want, want_len) == 0);
		/* Idempotence: the canonical form is its own canon. */
		CU_ASSERT_EQUAL(
		    rcpt_jcs_canon(out, out_len, RCPT_JSON_DEPTH_DEFAULT,
		        &again, &again_len, NULL),
		    RCPT_OK);
		CU_ASSERT(
		    again_len == out_len && memcmp(again, out, out_len) == 0);
		free(again);
		free(out);
		free(want);
		free(in);
		seen++;
	}
	closedir(dp);
	CU_ASSERT_EQUAL(seen, 6);
}

static double
from_bits(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static void
test_es6_numbers(void)
{
	char *text, *line, *next, got[RCPT_JCS_NUMBER_MAX];
	size_t len;
	int lines = 0, bad = 0;

	text = rcpt_test_read_vector("jcs/es6-numbers.txt", &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	for (line = text; *line != '\0'; line = next) {
		char *comma, *want;
		uint64_t bits;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (line[0] == '\0')
			continue;
		comma = strchr(line, ',');
		CU_ASSERT_PTR_NOT_NULL_FATAL(comma);
		*comma = '\0';
		want = comma + 1;
		bits = strtoull(line, NULL, 16);
		if (rcpt_jcs_number(from_bits(bits), got) != RCPT_OK ||
		    strcmp(got, want) != 0) {
			if (bad++ < 10)
				fprintf(stderr, "\n%s: got %s want %s", line,
				    got, want);
		}
		lines++;
	}
	CU_ASSERT_EQUAL(lines, 20000);
	CU_ASSERT_EQUAL(bad, 0);
	free(text);
}

static void
test_number_forms(void)
{
	char got[RCPT_JCS_NUMBER_MAX];

	CU_ASSERT_EQUAL(rcpt_jcs_number(-0.0, got), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(got, "0");
	CU_ASSERT_EQUAL(rcpt_jcs_number(1e21, got), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(got, "1e+21");
	CU_ASSERT_EQUAL(rcpt_jcs_number(1e-7, got), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(got, "1e-7");
	CU_ASSERT_EQUAL(rcpt_jcs_number(-1.5e-7, got), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(got, "-1.5e-7");
	CU_ASSERT_EQUAL(rcpt_jcs_number(1e-6, got), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(got, "0.000001");
	CU_ASSERT_EQUAL(rcpt_jcs_number(-9007199254740992.0, got), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(got, "-9007199254740992");
	CU_ASSERT_EQUAL(rcpt_jcs_number(123.456, got), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(got, "123.456");
	CU_ASSERT_EQUAL(rcpt_jcs_number(-1.7976931348623157e308, got), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(got, "-1.7976931348623157e+308");
	CU_ASSERT_EQUAL(rcpt_jcs_number(NAN, got), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_jcs_number(INFINITY, got), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_jcs_number(-INFINITY, got), RCPT_E_INVAL);
	check_canon("[-0, -0.0, 0e5, 1.0, 1e2, 1E+2, 0.1e1, 100e-2]",
	    "[0,0,0,1,100,100,1,1]");
	check_canon("[1e-400, -1e-400]", "[0,0]");
}

/*
 * JCS writes doubles below 1e21 in full, so canonical text can hold
 * integer literals beyond 2^53: strict input refuses them, stored text
 * (RCPT_JSON_BIG_INTS) reads them back to the same canonical form.
 */
static void
test_big_doubles_round_trip(void)
{
	const char *in = "[1e20,1152921504606846976e0,-9.007199254740993e15]";
	const char *want = "[100000000000000000000,1152921504606847000,"
	                   "-9007199254740992]";
	json_object *v = NULL;
	char *out = NULL;
	size_t len = 0;
	int r;

	check_canon(in, want);
	CU_ASSERT_EQUAL(rcpt_jcs_canon(want, strlen(want), 4, &out, &len, NULL),
	    RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_json_parse_ex(want, strlen(want), 4, NULL,
	                    RCPT_JSON_BIG_INTS, &v, NULL),
	    RCPT_OK);
	r = rcpt_jcs_serialize(v, &out, &len, NULL);
	CU_ASSERT_EQUAL(r, RCPT_OK);
	if (r == RCPT_OK)
		CU_ASSERT_STRING_EQUAL(out, want);
	free(out);
	json_object_put(v);
}

static void
test_string_escapes(void)
{
	check_canon("\"\\u0000\\u0001\\u0007\\b\\t\\n\\u000b\\f\\r\\u001f\"",
	    "\"\\u0000\\u0001\\u0007\\b\\t\\n\\u000b\\f\\r\\u001f\"");
	check_canon("\"\\u001A\\u001B\"", "\"\\u001a\\u001b\"");
	check_canon("\"\\\" \\\\ \\/ /\"", "\"\\\" \\\\ / /\"");
	check_canon("\"\\u007f\\u0080\\u2028\\u2029\"",
	    "\"\x7f\xc2\x80\xe2\x80\xa8\xe2\x80\xa9\"");
	check_canon("\"\\ud83d\\ude02 \\u20AC \\u00e9\"",
	    "\"\xf0\x9f\x98\x82 \xe2\x82\xac \xc3\xa9\"");
	check_canon("\"<\\/script>'&\"", "\"</script>'&\"");
	check_canon("{\"\\t\":\"\\u0041\"}", "{\"\\t\":\"A\"}");
}

static void
test_utf16_order(void)
{
	/* U+10000 is D800 DC00 in UTF-16: before U+E000 and U+FFFD. */
	check_canon("{\"\\ue000\":1,\"\\ufffd\":2,\"\\ud800\\udc00\":3,"
	            "\"\\ud7ff\":4,\"z\":5,\"\":6}",
	    "{\"\":6,\"z\":5,\"\xed\x9f\xbf\":4,\"\xf0\x90\x80\x80\":3,"
	    "\"\xee\x80\x80\":1,\"\xef\xbf\xbd\":2}");
	/* Prefixes first; then code unit by code unit. */
	check_canon("{\"ab\":1,\"a\":2,\"b\":3,\"aB\":4,\"\\u00e9\":5,"
	            "\"\\u0100\":6}",
	    "{\"a\":2,\"aB\":4,\"ab\":1,\"b\":3,\"\xc3\xa9\":5,"
	    "\"\xc4\x80\":6}");
	/* Two astral names: ordered as their surrogate pairs. */
	check_canon("{\"\\ud83d\\ude02\":1,\"\\ud83c\\udf00\":2,"
	            "\"\\udbff\\udffd\":3}",
	    "{\"\xf0\x9f\x8c\x80\":2,\"\xf0\x9f\x98\x82\":1,"
	    "\"\xf4\x8f\xbf\xbd\":3}");
}

static void
test_many_members_sorted(void)
{
	char in[4096], want[4096];
	size_t o = 0, w = 0;
	int i;

	/* 40 members: more than the stack sort handles. */
	o += (size_t)snprintf(in + o, sizeof(in) - o, "{");
	for (i = 39; i >= 0; i--)
		o += (size_t)snprintf(in + o, sizeof(in) - o, "%s\"k%02d\":%d",
		    i == 39 ? "" : ",", i, i);
	snprintf(in + o, sizeof(in) - o, "}");
	w += (size_t)snprintf(want + w, sizeof(want) - w, "{");
	for (i = 0; i < 40; i++)
		w += (size_t)snprintf(want + w, sizeof(want) - w,
		    "%s\"k%02d\":%d", i == 0 ? "" : ",", i, i);
	snprintf(want + w, sizeof(want) - w, "}");
	check_canon(in, want);
}

static void
test_built_in_code(void)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	struct rcpt_diag d;
	char *out = NULL;
	size_t len = 0;

	CU_ASSERT_EQUAL(json_object_object_add(
	                    o, "n", json_object_new_int64((int64_t)1 << 53)),
	    0); /* add steals the value */
	CU_ASSERT_EQUAL(json_object_object_add(
	                    o, "m", json_object_new_int64(-((int64_t)1 << 53))),
	    0);
	CU_ASSERT_EQUAL(
	    json_object_object_add(o, "b", json_object_new_boolean(1)), 0);
	CU_ASSERT_EQUAL(json_object_object_add(o, "z", NULL), 0);
	CU_ASSERT_EQUAL(
	    json_object_array_add(a, json_object_new_double(0.5)), 0);
	CU_ASSERT_EQUAL(json_object_object_add(o, "a", a), 0);
	CU_ASSERT_EQUAL(rcpt_jcs_serialize(o, &out, &len, NULL), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(out,
	    "{\"a\":[0.5],\"b\":true,\"m\":-9007199254740992,"
	    "\"n\":9007199254740992,\"z\":null}");
	free(out);
	out = NULL;

	/* One past 2^53, built in code, is refused with its path. */
	CU_ASSERT_EQUAL(json_object_array_add(
	                    a, json_object_new_int64(((int64_t)1 << 53) + 1)),
	    0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_jcs_serialize(o, &out, &len, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_STRING_EQUAL(d.msg, "$.a[1]: integer beyond 2^53");
	CU_ASSERT_EQUAL(json_object_array_put_idx(a, 1,
	                    json_object_new_int64(-((int64_t)1 << 53) - 1)),
	    0);
	CU_ASSERT_EQUAL(rcpt_jcs_serialize(o, &out, &len, NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(
	    json_object_array_put_idx(a, 1, json_object_new_double(NAN)), 0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_jcs_serialize(o, &out, &len, &d), RCPT_E_INVAL);
	CU_ASSERT_STRING_EQUAL(d.msg, "$.a[1]: number is not finite");
	CU_ASSERT_EQUAL(
	    json_object_array_put_idx(a, 1, json_object_new_double(-INFINITY)),
	    0);
	CU_ASSERT_EQUAL(rcpt_jcs_serialize(o, &out, &len, NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(json_object_array_put_idx(a, 1,
	                    json_object_new_string_len("\xed\xa0\x80", 3)),
	    0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_jcs_serialize(o, &out, &len, &d), RCPT_E_INVAL);
	CU_ASSERT_STRING_EQUAL(d.msg, "$.a[1]: invalid UTF-8");
	CU_ASSERT_EQUAL(json_object_array_put_idx(
	                    a, 1, json_object_new_string("\xef\xbf\xbe")),
	    0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_jcs_serialize(o, &out, &len, &d), RCPT_E_INVAL);
	CU_ASSERT_STRING_EQUAL(d.msg, "$.a[1]: noncharacter code point");
	CU_ASSERT_EQUAL(json_object_array_put_idx(
	                    a, 1, json_object_new_string_len("a\0b", 3)),
	    0);
	CU_ASSERT_EQUAL(rcpt_jcs_serialize(o, &out, &len, NULL), RCPT_OK);
	CU_ASSERT(out != NULL && strstr(out, "\"a\\u0000b\"") != NULL);
	free(out);
	out = NULL;
	CU_ASSERT_EQUAL(json_object_object_add(o, "\xff", NULL), 0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_jcs_serialize(o, &out, &len, &d), RCPT_E_INVAL);
	CU_ASSERT_STRING_EQUAL(d.msg, "$[\"?\"]: member name: invalid UTF-8");
	json_object_put(o);

	/* Null alone, and the buffer API. */
	CU_ASSERT_EQUAL(rcpt_jcs_serialize(NULL, &out, &len, NULL), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(out, "null");
	CU_ASSERT_EQUAL(len, 4);
	free(out);
}

static void
test_buffer_api(void)
{
	struct rcpt_buf b = {0};
	json_object *v = json_object_new_array();
	int i;

	CU_ASSERT_EQUAL(rcpt_buf_append(&b, "x=", 2), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_jcs_append(&b, v, NULL), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(b.p, "x=[]");
	rcpt_buf_reset(&b);
	CU_ASSERT_EQUAL(b.len, 0);
	CU_ASSERT_STRING_EQUAL(b.p, "");
	for (i = 0; i < 1000; i++)
		CU_ASSERT_EQUAL_FATAL(
		    rcpt_buf_append(&b, "0123456789", 10), RCPT_OK);
	CU_ASSERT_EQUAL(b.len, 10000);
	CU_ASSERT(b.cap > b.len);
	CU_ASSERT_EQUAL(b.p[b.len], '\0');
	rcpt_buf_clear(&b);
	CU_ASSERT_PTR_NULL(b.p);
	rcpt_buf_clear(&b);
	json_object_put(v);
}

static void
test_deep_tree_refused(void)
{
	json_object *root = json_object_new_array(), *cur = root, *n;
	struct rcpt_diag d;
	char *out = NULL;
	size_t len;
	int i;

	for (i = 1; i < RCPT_JCS_DEPTH_MAX; i++) {
		n = json_object_new_array();
		CU_ASSERT_EQUAL_FATAL(json_object_array_add(cur, n), 0);
		cur = n;
	}
	CU_ASSERT_EQUAL(rcpt_jcs_serialize(root, &out, &len, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(len, 2 * RCPT_JCS_DEPTH_MAX);
	free(out);
	out = NULL;
	CU_ASSERT_EQUAL(json_object_array_add(cur, json_object_new_array()), 0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_jcs_serialize(root, &out, &len, &d), RCPT_E_TOO_LARGE);
	CU_ASSERT(strstr(d.msg, "nesting deeper than") != NULL);
	CU_ASSERT(strncmp(d.msg, "$...", 4) == 0);
	json_object_put(root);
}

static void
test_canon_refusals(void)
{
	struct rcpt_diag d;
	char *out;
	int r;

	rcpt_diag_clear(&d);
	out = canon("{\"a\":1,\"a\":2}", &r, &d);
	CU_ASSERT_EQUAL(r, RCPT_E_INVAL);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_STRING_EQUAL(d.msg, "$.a: duplicate member name");
	rcpt_diag_clear(&d);
	out = canon("[1] x", &r, &d);
	CU_ASSERT_EQUAL(r, RCPT_E_PARSE);
	CU_ASSERT_PTR_NULL(out);
}

static void
test_out_of_memory(void)
{
	char in[3000], *out = NULL;
	size_t o = 0, len = 0;
	long n;
	int i, r = RCPT_E_INTERNAL;

	/* Big enough for a heap arena, a growing buffer and a sort array. */
	o += (size_t)snprintf(in + o, sizeof(in) - o, "{");
	for (i = 0; i < 60; i++)
		o += (size_t)snprintf(in + o, sizeof(in) - o,
		    "%s\"member-%03d\":\"value-%03d-xxxxxxxxxxxxxxxx\"",
		    i == 0 ? "" : ",", 59 - i, i);
	snprintf(in + o, sizeof(in) - o, "}");
	for (n = 0; n < 100; n++) {
		rcpt_mem_fail_after(n);
		r = rcpt_jcs_canon(in, strlen(in), 8, &out, &len, NULL);
		rcpt_mem_fail_after(-1);
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL(r, RCPT_E_NOMEM);
		CU_ASSERT_PTR_NULL(out);
	}
	CU_ASSERT_EQUAL(r, RCPT_OK);
	CU_ASSERT(n >= 3);
	free(out);
}

static CU_TestInfo vector_tests[] = {
    {"cyberphone vectors byte for byte, idempotent", test_vector_files},
    {"20000 ES6 number vectors", test_es6_numbers},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo rule_tests[] = {
    {"number forms, -0, non-finite refused", test_number_forms},
    {"string escaping table", test_string_escapes},
    {"big doubles read back from stored text", test_big_doubles_round_trip},
    {"members in UTF-16 code unit order", test_utf16_order},
    {"large objects sort too", test_many_members_sorted},
    {"trees built in code", test_built_in_code},
    {"buffer helpers", test_buffer_api},
    {"deep trees refused", test_deep_tree_refused},
    {"parser refusals pass through", test_canon_refusals},
    {"out of memory at every allocation", test_out_of_memory},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "jcs vectors", .pTests = vector_tests},
    {.pName = "jcs rules", .pTests = rule_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return rcpt_test_run(suites);
}
