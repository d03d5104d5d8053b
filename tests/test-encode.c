/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hex, base64url and base64 codecs, TS checking and formatting, UTF-8
 * rules and the allocation hooks: the small shared pieces of libreceipt.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "mem.h"
#include "testlib.h"
#include "ts.h"
#include "utf8.h"

static void
test_hex_round_trip(void)
{
	const uint8_t in[] = {0x00, 0x01, 0xab, 0xff};
	uint8_t out[4];
	char text[9];

	rcpt_hex_encode(in, sizeof(in), text);
	CU_ASSERT_STRING_EQUAL(text, "0001abff");
	CU_ASSERT_EQUAL(rcpt_hex_decode(text, 8, out, 4), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(in, out, 4), 0);
}

static void
test_hex_refusals(void)
{
	uint8_t out[2];

	CU_ASSERT_EQUAL(rcpt_hex_decode("00AB", 4, out, 2), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_hex_decode("00a", 3, out, 2), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_hex_decode("00abcd", 6, out, 2), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_hex_decode("0g00", 4, out, 2), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_hex_decode("00 0", 4, out, 2), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_hex_decode("00\0000", 4, out, 2), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_hex_decode("00\xff"
	                                "0",
	                    4, out, 2),
	    RCPT_E_INVAL);
}

static void
test_b64url(void)
{
	/* RFC 4648 section 10 vectors, in the url alphabet, unpadded. */
	static const char *const plain[] = {
	    "", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const enc[] = {
	    "", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
	char text[16];
	uint8_t out[8];
	size_t i;

	for (i = 0; i < 7; i++) {
		size_t n = strlen(plain[i]);

		rcpt_b64url_encode((const uint8_t *)plain[i], n, text);
		CU_ASSERT_STRING_EQUAL(text, enc[i]);
		CU_ASSERT_EQUAL(RCPT_B64URL_LEN(n), strlen(enc[i]));
		CU_ASSERT_EQUAL(
		    rcpt_b64url_decode(enc[i], strlen(enc[i]), out, n),
		    RCPT_OK);
		CU_ASSERT_EQUAL(memcmp(out, plain[i], n), 0);
	}
	/* 0xfb 0xff uses both url-only characters. */
	rcpt_b64url_encode((const uint8_t *)"\xfb\xff", 2, text);
	CU_ASSERT_STRING_EQUAL(text, "-_8");
}

static void
test_b64url_refusals(void)
{
	uint8_t out[2];

	/* Padding, the standard alphabet and non-zero spare bits. */
	CU_ASSERT_EQUAL(rcpt_b64url_decode("Zg==", 4, out, 1), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_b64url_decode("+/8", 3, out, 2), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_b64url_decode("Zh", 2, out, 1), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_b64url_decode("Zm8", 3, out, 1), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_b64url_decode("Z", 1, out, 1), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_b64url_decode("Z\0", 2, out, 1), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_b64url_decode("Z\x80", 2, out, 1), RCPT_E_INVAL);
}

static void
test_b64_std(void)
{
	uint8_t out[8];
	char text[16];
	size_t n = 99;

	rcpt_b64_encode((const uint8_t *)"fooba", 5, text);
	CU_ASSERT_STRING_EQUAL(text, "Zm9vYmE=");
	CU_ASSERT_EQUAL(
	    rcpt_b64_decode(text, 8, out, sizeof(out), &n), RCPT_OK);
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_EQUAL(memcmp(out, "fooba", 5), 0);
	CU_ASSERT_EQUAL(rcpt_b64_decode("", 0, out, sizeof(out), &n), RCPT_OK);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(
	    rcpt_b64_decode("Zm9vYmE", 7, out, sizeof(out), &n), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(
	    rcpt_b64_decode("Zm9vYmF=", 8, out, sizeof(out), &n), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(
	    rcpt_b64_decode("Zm9v=mE=", 8, out, sizeof(out), &n), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(
	    rcpt_b64_decode("Zg=a", 4, out, sizeof(out), &n), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(
	    rcpt_b64_decode("Zm9vYmFy", 8, out, 5, &n), RCPT_E_TOO_LARGE);
}

static void
test_ts_valid(void)
{
	CU_ASSERT_TRUE(rcpt_ts_is_valid("2026-11-21T21:24:36.000Z", 24));
	CU_ASSERT_TRUE(rcpt_ts_is_valid("2024-02-29T23:59:59.999Z", 24));
	CU_ASSERT_TRUE(rcpt_ts_is_valid("2000-02-29T00:00:00.000Z", 24));
	CU_ASSERT_FALSE(rcpt_ts_is_valid("2023-02-29T00:00:00.000Z", 24));
	CU_ASSERT_FALSE(rcpt_ts_is_valid("1900-02-29T00:00:00.000Z", 24));
	CU_ASSERT_FALSE(rcpt_ts_is_valid("2026-04-31T00:00:00.000Z", 24));
	CU_ASSERT_FALSE(rcpt_ts_is_valid("2026-11-21T23:59:60.000Z", 24));
	CU_ASSERT_FALSE(rcpt_ts_is_valid("2026-11-21T24:00:00.000Z", 24));
	CU_ASSERT_FALSE(rcpt_ts_is_valid("2026-13-21T00:00:00.000Z", 24));
	CU_ASSERT_FALSE(rcpt_ts_is_valid("2026-11-21T21:24:36Z", 20));
	CU_ASSERT_FALSE(rcpt_ts_is_valid("2026-11-21t21:24:36.000Z", 24));
	CU_ASSERT_FALSE(rcpt_ts_is_valid("2026-11-21T21:24:36.000z", 24));
	CU_ASSERT_FALSE(rcpt_ts_is_valid("2026-11-21T21:24:36.000+", 24));
	CU_ASSERT_FALSE(rcpt_ts_is_valid("2026-11-21T21:24:36.0000", 24));
	CU_ASSERT_FALSE(rcpt_ts_is_valid("+026-11-21T21:24:36.000Z", 24));
	CU_ASSERT_FALSE(rcpt_ts_is_valid(NULL, 24));
}

static void
test_ts_format(void)
{
	char ts[RCPT_TS_LEN + 1];

	CU_ASSERT_EQUAL(rcpt_ts_format(0, ts), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(ts, "1970-01-01T00:00:00.000Z");
	CU_ASSERT_EQUAL(rcpt_ts_format(951782400123LL, ts), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(ts, "2000-02-29T00:00:00.123Z");
	CU_ASSERT_EQUAL(rcpt_ts_format(-1, ts), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(ts, "1969-12-31T23:59:59.999Z");
	CU_ASSERT_EQUAL(rcpt_ts_format(253402300799999LL, ts), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(ts, "9999-12-31T23:59:59.999Z");
	CU_ASSERT_EQUAL(rcpt_ts_format(253402300800000LL, ts), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_ts_format(-62167219200001LL, ts), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_ts_format(rcpt_ts_now_ms(), ts), RCPT_OK);
	CU_ASSERT_TRUE(rcpt_ts_is_valid(ts, strlen(ts)));
}

static void
test_ts_format_agrees_with_validator(void)
{
	char ts[RCPT_TS_LEN + 1];
	int64_t ms;

	/* A day and a bit at a time across four centuries. */
	for (ms = -2208988800000LL; ms < 10413792000000LL; ms += 90061001LL) {
		CU_ASSERT_EQUAL_FATAL(rcpt_ts_format(ms, ts), RCPT_OK);
		CU_ASSERT_TRUE_FATAL(rcpt_ts_is_valid(ts, RCPT_TS_LEN));
	}
}

static void
test_utf8_rules(void)
{
	size_t n = 0;
	uint32_t cp;
	char buf[4];

	CU_ASSERT_TRUE(
	    rcpt_utf8_check("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x82", 10, &n));
	CU_ASSERT_EQUAL(n, 4);
	/* Overlong, surrogate, beyond U+10FFFF, truncated, stray. */
	CU_ASSERT_FALSE(rcpt_utf8_check("\xc0\xaf", 2, NULL));
	CU_ASSERT_FALSE(rcpt_utf8_check("\xe0\x80\xaf", 3, NULL));
	CU_ASSERT_FALSE(rcpt_utf8_check("\xed\xa0\x80", 3, NULL));
	CU_ASSERT_FALSE(rcpt_utf8_check("\xf4\x90\x80\x80", 4, NULL));
	CU_ASSERT_FALSE(rcpt_utf8_check("\xe2\x82", 2, NULL));
	CU_ASSERT_FALSE(rcpt_utf8_check("\x80", 1, NULL));
	/* Noncharacters U+FFFE, U+FDD0 and U+1FFFF. */
	CU_ASSERT_FALSE(rcpt_utf8_check("\xef\xbf\xbe", 3, NULL));
	CU_ASSERT_FALSE(rcpt_utf8_check("\xef\xb7\x90", 3, NULL));
	CU_ASSERT_FALSE(rcpt_utf8_check("\xf0\x9f\xbf\xbf", 4, NULL));
	CU_ASSERT_TRUE(rcpt_utf8_is_nonchar(0x10FFFF));
	CU_ASSERT_FALSE(rcpt_utf8_is_nonchar(0xFDEF + 1));
	CU_ASSERT_EQUAL(rcpt_utf8_encode(0x1F602, buf), 4);
	CU_ASSERT_EQUAL(rcpt_utf8_decode((uint8_t *)buf, 4, &cp), 4);
	CU_ASSERT_EQUAL(cp, 0x1F602);
}

static void
test_mem_fail_after(void)
{
	void *p;
	char *s;

	rcpt_mem_fail_after(1);
	p = rcpt_malloc(8);
	CU_ASSERT_PTR_NOT_NULL(p);
	CU_ASSERT_PTR_NULL(rcpt_malloc(8));
	CU_ASSERT_PTR_NULL(rcpt_strdup("x"));
	rcpt_mem_fail_after(-1);
	s = rcpt_strdup("secret");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	rcpt_freezero(s, 7);
	free(p);
	CU_ASSERT_PTR_NULL(rcpt_reallocarray(NULL, SIZE_MAX / 2, 4));
	CU_ASSERT_EQUAL(rcpt_memeq_ct("abc", "abc", 3), 0);
	CU_ASSERT_NOT_EQUAL(rcpt_memeq_ct("abc", "abd", 3), 0);
}

static CU_TestInfo encode_tests[] = {
    {"hex round trip", test_hex_round_trip},
    {"hex refuses uppercase and bad lengths", test_hex_refusals},
    {"base64url RFC 4648 vectors", test_b64url},
    {"base64url refuses non-canonical text", test_b64url_refusals},
    {"standard base64 with padding", test_b64_std},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo ts_tests[] = {
    {"accepts real dates, refuses others", test_ts_valid},
    {"formats epoch milliseconds", test_ts_format},
    {"formatted values always validate", test_ts_format_agrees_with_validator},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo misc_tests[] = {
    {"UTF-8 and I-JSON string rules", test_utf8_rules},
    {"allocation failure injection", test_mem_fail_after},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "encode", .pTests = encode_tests},
    {.pName = "ts", .pTests = ts_tests},
    {.pName = "utf8 and mem", .pTests = misc_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return rcpt_test_run(suites);
}
