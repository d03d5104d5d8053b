/* SPDX-License-Identifier: Apache-2.0 */
/* Every error code has a message and the JSON-RPC code SPEC 9 gives it. */
#include "config.h"

#include <string.h>

#include "err.h"
#include "testlib.h"

static void
test_every_code_has_message(void)
{
	int e;

	for (e = RCPT_OK; e > RCPT_E_LAST_; e--) {
		const char *m = rcpt_strerror(e);

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		CU_ASSERT_STRING_NOT_EQUAL(m, "unknown error");
		CU_ASSERT(m[0] >= 'a' && m[0] <= 'z');
		CU_ASSERT(m[strlen(m) - 1] != '.');
	}
}

static void
test_unknown_codes(void)
{
	CU_ASSERT_STRING_EQUAL(rcpt_strerror(RCPT_E_LAST_), "unknown error");
	CU_ASSERT_STRING_EQUAL(rcpt_strerror(1), "unknown error");
	CU_ASSERT_STRING_EQUAL(rcpt_strerror(-1000), "unknown error");
}

static void
test_rpc_mapping(void)
{
	CU_ASSERT_EQUAL(rcpt_err_rpc_code(RCPT_OK), 0);
	CU_ASSERT_EQUAL(rcpt_err_rpc_code(RCPT_E_PARSE), -32700);
	CU_ASSERT_EQUAL(rcpt_err_rpc_code(RCPT_E_INVAL), -32602);
	CU_ASSERT_EQUAL(rcpt_err_rpc_code(RCPT_E_DENIED), -32001);
	CU_ASSERT_EQUAL(rcpt_err_rpc_code(RCPT_E_TOO_LARGE), -32002);
	CU_ASSERT_EQUAL(rcpt_err_rpc_code(RCPT_E_KEY_UNAVAILABLE), -32003);
	CU_ASSERT_EQUAL(rcpt_err_rpc_code(RCPT_E_STORAGE_FULL), -32004);
	CU_ASSERT_EQUAL(rcpt_err_rpc_code(RCPT_E_NOT_FOUND), -32005);
	CU_ASSERT_EQUAL(rcpt_err_rpc_code(RCPT_E_ANCHOR), -32006);
	CU_ASSERT_EQUAL(rcpt_err_rpc_code(RCPT_E_CORRUPT), -32006);
	CU_ASSERT_EQUAL(rcpt_err_rpc_code(RCPT_E_INTERNAL), -32603);
	CU_ASSERT_EQUAL(rcpt_err_rpc_code(RCPT_E_NOMEM), -32603);
	CU_ASSERT_EQUAL(rcpt_err_rpc_code(RCPT_E_IO), -32603);
}

/* What a client makes of the codes a daemon sends (SPEC 9). */
static void
test_rpc_mapping_back(void)
{
	static const struct {
		int code, err;
	} map[] = {
	    {-32700, RCPT_E_PARSE},
	    {-32600, RCPT_E_INVAL},
	    {-32601, RCPT_E_INVAL},
	    {-32602, RCPT_E_INVAL},
	    {-32603, RCPT_E_INTERNAL},
	    {-32001, RCPT_E_DENIED},
	    {-32002, RCPT_E_TOO_LARGE},
	    {-32003, RCPT_E_KEY_UNAVAILABLE},
	    {-32004, RCPT_E_STORAGE_FULL},
	    {-32005, RCPT_E_NOT_FOUND},
	    {-32006, RCPT_E_ANCHOR},
	    {-32007, RCPT_E_INTERNAL},
	    {-32000, RCPT_E_INTERNAL},
	    {0, RCPT_E_INTERNAL},
	    {1, RCPT_E_INTERNAL},
	    {-1, RCPT_E_INTERNAL},
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		CU_ASSERT_EQUAL(
		    rcpt_err_from_rpc_code(map[i].code), map[i].err);
	/*
	 * Round trip: an error sent as a code comes back as one that sends
	 * the same code (RCPT_E_CORRUPT and RCPT_E_ANCHOR share -32006).
	 */
	for (int e = RCPT_E_INTERNAL; e > RCPT_E_LAST_; e--) {
		int back = rcpt_err_from_rpc_code(rcpt_err_rpc_code(e));

		CU_ASSERT_EQUAL(rcpt_err_rpc_code(back), rcpt_err_rpc_code(e));
	}
}

static void
test_diag_first_wins(void)
{
	struct rcpt_diag d;

	rcpt_diag_clear(&d);
	CU_ASSERT_STRING_EQUAL(
	    rcpt_diag_msg(&d, RCPT_E_INVAL), "invalid argument");
	CU_ASSERT_EQUAL(
	    rcpt_diag(&d, RCPT_E_INVAL, "tags[%d]: too long", 3), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_diag(&d, RCPT_E_PARSE, "later"), RCPT_E_PARSE);
	CU_ASSERT_STRING_EQUAL(
	    rcpt_diag_msg(&d, RCPT_E_INVAL), "tags[3]: too long");
	CU_ASSERT_EQUAL(rcpt_diag(NULL, RCPT_E_IO, "ignored"), RCPT_E_IO);
}

static CU_TestInfo err_tests[] = {
    {"every code has a message", test_every_code_has_message},
    {"unknown codes", test_unknown_codes},
    {"json-rpc mapping", test_rpc_mapping},
    {"json-rpc codes back to errors", test_rpc_mapping_back},
    {"first diag message wins", test_diag_first_wins},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "err", .pTests = err_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return rcpt_test_run(suites);
}
