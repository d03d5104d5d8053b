/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The development key file: creation without overwriting, the mode,
 * type and content rules on opening, and signing through the signer
 * interface with its kid check.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "ed25519.h"
#include "encode.h"
#include "jwk.h"
#include "mem.h"
#include "softkey.h"
#include "testlib.h"

/* RFC 8032 7.1 TEST 1. */
static const char *seed1_hex =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char *kid1 = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";

static char *dir;

static int
setup(void)
{
	return (dir = rcpt_test_mkdtemp()) == NULL ? -1 : 0;
}

static int
teardown(void)
{
	rcpt_test_rmdir(dir);
	free(dir);
	return 0;
}

static char *
path_of(const char *name)
{
	char *p = strdup(rcpt_test_path(dir, name));

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	return p;
}

static void
check_diag(const struct rcpt_diag *d, const char *needle)
{
	CU_ASSERT_PTR_NOT_NULL(strstr(d->msg, needle));
	if (strstr(d->msg, needle) == NULL)
		fprintf(stderr, "diag \"%s\" lacks \"%s\"\n", d->msg, needle);
}

static void
test_generate_and_open(void)
{
	char *p = path_of("gen.key");
	struct rcpt_softkey *k = NULL;
	struct rcpt_diag d;
	struct stat st;
	char *text;
	size_t len = 0;
	uint8_t seed[32], pub[32];
	char kid[RCPT_KID_LEN + 1];

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL_FATAL(rcpt_softkey_generate(p, &d), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(stat(p, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	text = rcpt_test_read_file(p, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	CU_ASSERT_EQUAL(len, 64);
	CU_ASSERT_EQUAL(strncmp(text, "receiptd-softkey-v1 ", 20), 0);
	CU_ASSERT_EQUAL(text[63], '\n');
	CU_ASSERT_EQUAL(rcpt_b64url_decode(text + 20, 43, seed, 32), RCPT_OK);

	CU_ASSERT_EQUAL_FATAL(rcpt_softkey_open(p, &k, &d), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_ed25519_public(seed, pub), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(rcpt_softkey_public(k), pub, 32), 0);
	CU_ASSERT_EQUAL(rcpt_jwk_kid(pub, kid), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(rcpt_softkey_kid(k), kid);
	rcpt_softkey_close(k);
	rcpt_softkey_close(NULL);
	free(text);
	free(p);
}

static void
test_generate_refuses_overwrite(void)
{
	char *p = path_of("exists.key"), *before, *after;
	struct rcpt_diag d;
	size_t n1 = 0, n2 = 0;

	CU_ASSERT_EQUAL_FATAL(rcpt_softkey_generate(p, NULL), RCPT_OK);
	before = rcpt_test_read_file(p, &n1);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_softkey_generate(p, &d), RCPT_E_EXISTS);
	check_diag(&d, p);
	after = rcpt_test_read_file(p, &n2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(before);
	CU_ASSERT_PTR_NOT_NULL_FATAL(after);
	CU_ASSERT_EQUAL(n1, n2);
	CU_ASSERT_EQUAL(memcmp(before, after, n1), 0);
	free(before);
	free(after);
	free(p);
}

static void
test_generate_refuses_symlink(void)
{
	char *p = path_of("link.key"), *target = path_of("target.key");
	struct stat st;

	/* A dangling link must not lead to a file being made elsewhere. */
	CU_ASSERT_EQUAL_FATAL(symlink(target, p), 0);
	CU_ASSERT_EQUAL(rcpt_softkey_generate(p, NULL), RCPT_E_EXISTS);
	CU_ASSERT_NOT_EQUAL(stat(target, &st), 0);
	free(target);
	free(p);
}

static void
test_generate_bad_dir(void)
{
	char *p = path_of("no/such/dir.key");
	struct rcpt_diag d;

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_softkey_generate(p, &d), RCPT_E_IO);
	check_diag(&d, p);
	CU_ASSERT_EQUAL(rcpt_softkey_generate("", NULL), RCPT_E_INVAL);
	free(p);
}

static void
test_mode_rules(void)
{
	char *p = path_of("mode.key");
	struct rcpt_softkey *k = (struct rcpt_softkey *)&k;
	struct rcpt_diag d;
	static const mode_t bad[] = {0644, 0640, 0604, 0660, 0601, 0610};
	size_t i;

	CU_ASSERT_EQUAL_FATAL(rcpt_softkey_generate(p, NULL), RCPT_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL_FATAL(chmod(p, bad[i]), 0);
		rcpt_diag_clear(&d);
		CU_ASSERT_EQUAL(rcpt_softkey_open(p, &k, &d), RCPT_E_DENIED);
		CU_ASSERT_PTR_NULL(k);
		check_diag(&d, p);
		check_diag(&d, "must be mode 0600 or 0400");
	}
	CU_ASSERT_EQUAL_FATAL(chmod(p, 0400), 0);
	CU_ASSERT_EQUAL(rcpt_softkey_open(p, &k, NULL), RCPT_OK);
	rcpt_softkey_close(k);
	free(p);
}

static void
test_symlink_refused(void)
{
	char *p = path_of("real.key"), *l = path_of("alias.key");
	struct rcpt_softkey *k = NULL;
	struct rcpt_diag d;

	CU_ASSERT_EQUAL_FATAL(rcpt_softkey_generate(p, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(symlink(p, l), 0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_softkey_open(l, &k, &d), RCPT_E_DENIED);
	CU_ASSERT_PTR_NULL(k);
	check_diag(&d, "symbolic link");
	free(l);
	free(p);
}

static void
test_not_regular_refused(void)
{
	char *p = path_of("adir");
	char *f = path_of("fifo");
	struct rcpt_softkey *k = NULL;
	struct rcpt_diag d;

	CU_ASSERT_EQUAL_FATAL(mkdir(p, 0700), 0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_softkey_open(p, &k, &d), RCPT_E_DENIED);
	check_diag(&d, "regular file");
	/* A FIFO must be refused, not waited on. */
	CU_ASSERT_EQUAL_FATAL(mkfifo(f, 0600), 0);
	CU_ASSERT_EQUAL(rcpt_softkey_open(f, &k, NULL), RCPT_E_DENIED);
	CU_ASSERT_PTR_NULL(k);
	free(f);
	free(p);
}

static void
test_missing_refused(void)
{
	char *p = path_of("missing.key");
	struct rcpt_softkey *k = NULL;
	struct rcpt_diag d;

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_softkey_open(p, &k, &d), RCPT_E_NOT_FOUND);
	check_diag(&d, p);
	CU_ASSERT_EQUAL(rcpt_softkey_open("", &k, NULL), RCPT_E_INVAL);
	free(p);
}

/* Writes @p text as a 0600 file and expects RCPT_E_PARSE. */
static void
check_garbage(const char *text)
{
	char *p = path_of("garbage.key");
	struct rcpt_softkey *k = NULL;
	struct rcpt_diag d;

	(void)unlink(p);
	CU_ASSERT_EQUAL_FATAL(rcpt_test_write_file(p, text, strlen(text)), 0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_softkey_open(p, &k, &d), RCPT_E_PARSE);
	CU_ASSERT_PTR_NULL(k);
	check_diag(&d, p);
	/* The message never quotes the file. */
	CU_ASSERT_PTR_NULL(strstr(d.msg, "nWGxne"));
	rcpt_softkey_close(k);
	free(p);
}

static void
test_garbage_refused(void)
{
	const char *good = "receiptd-softkey-v1 "
	                   "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\n";
	char *p = path_of("good.key");
	struct rcpt_softkey *k = NULL;

	/* First the well-formed text, so the refusals below mean something. */
	CU_ASSERT_EQUAL_FATAL(rcpt_test_write_file(p, good, strlen(good)), 0);
	CU_ASSERT_EQUAL(rcpt_softkey_open(p, &k, NULL), RCPT_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	CU_ASSERT_STRING_EQUAL(rcpt_softkey_kid(k), kid1);
	rcpt_softkey_close(k);
	free(p);

	check_garbage("");
	check_garbage("hello\n");
	check_garbage("receiptd-softkey-v1 "
	              "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A");
	check_garbage("receiptd-softkey-v1 "
	              "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\n\n");
	check_garbage("receiptd-softkey-v1 "
	              "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\r\n");
	check_garbage("receiptd-softkey-v2 "
	              "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\n");
	check_garbage("receiptd-softkey-v1  "
	              "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\n");
	/* Unused low bits set: not canonical. */
	check_garbage("receiptd-softkey-v1 "
	              "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2B\n");
	check_garbage("receiptd-softkey-v1 "
	              "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A\n");
}

static void
test_sign_verify_round_trip(void)
{
	char *p = path_of("rt.key");
	struct rcpt_softkey *k = NULL;
	struct rcpt_signer s;
	uint8_t msg[32], sig[64];

	memset(msg, 0xa5, sizeof(msg));
	CU_ASSERT_EQUAL_FATAL(rcpt_softkey_generate(p, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_softkey_open(p, &k, NULL), RCPT_OK);
	rcpt_softkey_signer(k, &s);
	CU_ASSERT_STRING_EQUAL(s.kid, rcpt_softkey_kid(k));
	CU_ASSERT_EQUAL(memcmp(s.pub, rcpt_softkey_public(k), 32), 0);
	CU_ASSERT_PTR_NOT_NULL(s.sign_msg);
	CU_ASSERT_EQUAL(s.sign(s.ctx, s.kid, msg, sig), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_ed25519_verify(s.pub, msg, 32, sig), RCPT_OK);
	msg[0] ^= 1;
	CU_ASSERT_EQUAL(
	    rcpt_ed25519_verify(s.pub, msg, 32, sig), RCPT_E_BAD_SIGNATURE);
	rcpt_softkey_close(k);
	free(p);
}

static void
test_from_seed_deterministic(void)
{
	uint8_t seed[32], msg[32] = {1, 2, 3}, sig1[64], sig2[64];
	struct rcpt_softkey *a = NULL, *b = NULL;
	struct rcpt_signer sa, sb;

	CU_ASSERT_FATAL(rcpt_hex_decode(seed1_hex, 64, seed, 32) == RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_softkey_from_seed(seed, &a), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_softkey_from_seed(seed, &b), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(rcpt_softkey_kid(a), kid1);
	rcpt_softkey_signer(a, &sa);
	rcpt_softkey_signer(b, &sb);
	CU_ASSERT_EQUAL(sa.sign(sa.ctx, kid1, msg, sig1), RCPT_OK);
	CU_ASSERT_EQUAL(sb.sign(sb.ctx, kid1, msg, sig2), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(sig1, sig2, 64), 0);
	CU_ASSERT_EQUAL(rcpt_ed25519_sign(seed, msg, 32, sig2), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(sig1, sig2, 64), 0);
	/* Messages of any length through the checkpoint-shaped call. */
	CU_ASSERT_EQUAL(
	    rcpt_softkey_sign_msg(a, kid1, (const uint8_t *)"body\n", 5, sig1),
	    RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_ed25519_verify(sa.pub, (const uint8_t *)"body\n", 5, sig1),
	    RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_softkey_from_seed(NULL, &b), RCPT_E_INVAL);
	CU_ASSERT_PTR_NULL(b);
	rcpt_softkey_close(a);
	rcpt_softkey_close(sb.ctx);
}

static void
test_signer_refuses_other_kid(void)
{
	uint8_t seed[32], msg[32] = {0}, sig[64];
	struct rcpt_softkey *k = NULL;
	struct rcpt_signer s;
	char other[RCPT_KID_LEN + 1];

	CU_ASSERT_FATAL(rcpt_hex_decode(seed1_hex, 64, seed, 32) == RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_softkey_from_seed(seed, &k), RCPT_OK);
	rcpt_softkey_signer(k, &s);
	memcpy(other, kid1, sizeof(other));
	other[0] = 'A';
	memset(sig, 0x55, sizeof(sig));
	CU_ASSERT_EQUAL(s.sign(s.ctx, other, msg, sig), RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT_EQUAL(sig[0], 0);
	CU_ASSERT_EQUAL(s.sign(s.ctx, "", msg, sig), RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT_EQUAL(s.sign(s.ctx, NULL, msg, sig), RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT_EQUAL(rcpt_softkey_sign_msg(k, other, msg, 32, sig),
	    RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT_EQUAL(s.sign(s.ctx, kid1, msg, sig), RCPT_OK);
	rcpt_softkey_close(k);
}

static void
test_out_of_memory(void)
{
	uint8_t seed[32];
	struct rcpt_softkey *k = NULL;
	char *p = path_of("oom.key");
	long n;
	int r;

	CU_ASSERT_FATAL(rcpt_hex_decode(seed1_hex, 64, seed, 32) == RCPT_OK);
	for (n = 0; n < 100; n++) {
		rcpt_mem_fail_after(n);
		r = rcpt_softkey_from_seed(seed, &k);
		rcpt_mem_fail_after(-1);
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL(r, RCPT_E_NOMEM);
		CU_ASSERT_PTR_NULL(k);
	}
	CU_ASSERT_EQUAL(r, RCPT_OK);
	rcpt_softkey_close(k);
	k = NULL;
	CU_ASSERT_EQUAL_FATAL(rcpt_softkey_generate(p, NULL), RCPT_OK);
	for (n = 0; n < 100; n++) {
		rcpt_mem_fail_after(n);
		r = rcpt_softkey_open(p, &k, NULL);
		rcpt_mem_fail_after(-1);
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL(r, RCPT_E_NOMEM);
		CU_ASSERT_PTR_NULL(k);
	}
	CU_ASSERT_EQUAL(r, RCPT_OK);
	rcpt_softkey_close(k);
	free(p);
}

static CU_TestInfo softkey_tests[] = {
    {"generate then open", test_generate_and_open},
    {"generate refuses to overwrite", test_generate_refuses_overwrite},
    {"generate refuses a dangling link", test_generate_refuses_symlink},
    {"generate in a missing directory", test_generate_bad_dir},
    {"group or other access refused", test_mode_rules},
    {"symbolic link refused", test_symlink_refused},
    {"directory and FIFO refused", test_not_regular_refused},
    {"missing file", test_missing_refused},
    {"garbage refused", test_garbage_refused},
    {"sign and verify round trip", test_sign_verify_round_trip},
    {"from_seed is deterministic", test_from_seed_deterministic},
    {"signer refuses another kid", test_signer_refuses_other_kid},
    {"allocation failures", test_out_of_memory},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "softkey",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = softkey_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return rcpt_test_run(suites);
}
