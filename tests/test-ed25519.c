/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ed25519: RFC 8032 section 7.1 vectors byte for byte, every Wycheproof
 * case by its expected result (each of the file's cases is counted, and
 * every "invalid" one must be refused), the strictness checks made on
 * the encodings before libsodium is asked (small-order and unreduced
 * keys and R, S >= L), and the one-time libsodium initialisation.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ed25519.h"
#include "encode.h"
#include "mem.h"
#include "testlib.h"

struct rfc_vec {
	uint8_t seed[32];
	uint8_t pub[32];
	uint8_t msg[64];
	size_t msg_len;
	uint8_t sig[64];
};

static int
load_rfc(struct rfc_vec v[3])
{
	char *text, *line, *save = NULL;
	int n = 0;

	text = rcpt_test_read_vector("ed25519/rfc8032-7.1.txt", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char sk[65], pk[65], msg[129], sig[129];

		if (line[0] == '#')
			continue;
		CU_ASSERT_FATAL(n < 3);
		CU_ASSERT_FATAL(sscanf(line, "%64s %64s %128s %128s", sk, pk,
		                    msg, sig) == 4);
		CU_ASSERT_FATAL(
		    rcpt_hex_decode(sk, 64, v[n].seed, 32) == RCPT_OK);
		CU_ASSERT_FATAL(
		    rcpt_hex_decode(pk, 64, v[n].pub, 32) == RCPT_OK);
		CU_ASSERT_FATAL(
		    rcpt_hex_decode(sig, 128, v[n].sig, 64) == RCPT_OK);
		v[n].msg_len = strcmp(msg, "-") == 0 ? 0 : strlen(msg) / 2;
		CU_ASSERT_FATAL(rcpt_hex_decode(msg, 2 * v[n].msg_len, v[n].msg,
		                    v[n].msg_len) == RCPT_OK);
		n++;
	}
	free(text);
	return n;
}

static void
test_rfc8032_public(void)
{
	struct rfc_vec v[3];
	uint8_t pub[32];
	int i;

	CU_ASSERT_EQUAL_FATAL(load_rfc(v), 3);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(rcpt_ed25519_public(v[i].seed, pub), RCPT_OK);
		CU_ASSERT_EQUAL(memcmp(pub, v[i].pub, 32), 0);
		CU_ASSERT_EQUAL(rcpt_ed25519_pub_is_acceptable(pub), 1);
	}
}

static void
test_rfc8032_sign_verify(void)
{
	struct rfc_vec v[3];
	uint8_t sig[64];
	int i;

	CU_ASSERT_EQUAL_FATAL(load_rfc(v), 3);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL(
		    rcpt_ed25519_sign(v[i].seed, v[i].msg, v[i].msg_len, sig),
		    RCPT_OK);
		CU_ASSERT_EQUAL(memcmp(sig, v[i].sig, 64), 0);
		CU_ASSERT_EQUAL(
		    rcpt_ed25519_verify(v[i].pub, v[i].msg, v[i].msg_len, sig),
		    RCPT_OK);
		sig[10] ^= 0x01;
		CU_ASSERT_EQUAL(
		    rcpt_ed25519_verify(v[i].pub, v[i].msg, v[i].msg_len, sig),
		    RCPT_E_BAD_SIGNATURE);
	}
	/* Another message under a right signature. */
	CU_ASSERT_EQUAL(
	    rcpt_ed25519_verify(v[1].pub, (const uint8_t *)"s", 1, v[1].sig),
	    RCPT_E_BAD_SIGNATURE);
}

static int
hex_alloc(const char *hex, uint8_t **out, size_t *len_out)
{
	size_t n = strlen(hex) / 2;

	*out = malloc(n + 1);
	*len_out = n;
	if (*out == NULL || strlen(hex) % 2 != 0)
		return -1;
	return rcpt_hex_decode(hex, 2 * n, *out, n) == RCPT_OK ? 0 : -1;
}

static json_object *
get(json_object *o, const char *name)
{
	json_object *v = NULL;

	CU_ASSERT_FATAL(json_object_object_get_ex(o, name, &v));
	return v;
}

/* Checks one Wycheproof case both ways; 1 when it was refused. */
static int
wycheproof_case(json_object *tc, const uint8_t pub[32],
    struct rcpt_ed25519_vctx *c, int want)
{
	uint8_t *msg = NULL, *sig = NULL;
	size_t msg_len, sig_len;
	int got, got_ctx;

	CU_ASSERT_FATAL(hex_alloc(json_object_get_string(get(tc, "msg")), &msg,
	                    &msg_len) == 0);
	CU_ASSERT_FATAL(hex_alloc(json_object_get_string(get(tc, "sig")), &sig,
	                    &sig_len) == 0);
	if (sig_len != 64) {
		/* The API takes 64 bytes; no other length is a signature. */
		got = got_ctx = RCPT_E_BAD_SIGNATURE;
	} else {
		got = rcpt_ed25519_verify(pub, msg, msg_len, sig);
		got_ctx = rcpt_ed25519_vctx_verify(c, msg, msg_len, sig);
	}
	if (got != want || got_ctx != want)
		fprintf(stderr, "wycheproof tcId %d: got %d and %d, want %d\n",
		    json_object_get_int(get(tc, "tcId")), got, got_ctx, want);
	CU_ASSERT_EQUAL(got, want);
	CU_ASSERT_EQUAL(got_ctx, want);
	free(msg);
	free(sig);
	return got == RCPT_E_BAD_SIGNATURE && got_ctx == RCPT_E_BAD_SIGNATURE;
}

static void
test_wycheproof_all_cases(void)
{
	json_object *root, *groups;
	char *text;
	size_t g, t, ncases = 0, nvalid = 0, ninvalid = 0, refused = 0;
	size_t valid_refused = 0;
	int declared;

	text =
	    rcpt_test_read_vector("ed25519/wycheproof_ed25519_test.json", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	root = json_tokener_parse(text);
	free(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	declared = json_object_get_int(get(root, "numberOfTests"));
	groups = get(root, "testGroups");
	for (g = 0; g < json_object_array_length(groups); g++) {
		json_object *grp = json_object_array_get_idx(groups, g);
		json_object *tests = get(grp, "tests");
		const char *pkhex;
		uint8_t pub[32];
		struct rcpt_ed25519_vctx *c = NULL;

		pkhex =
		    json_object_get_string(get(get(grp, "publicKey"), "pk"));
		CU_ASSERT_FATAL(rcpt_hex_decode(pkhex, 64, pub, 32) == RCPT_OK);
		CU_ASSERT_FATAL(rcpt_ed25519_vctx_new(pub, &c) == RCPT_OK);
		for (t = 0; t < json_object_array_length(tests); t++) {
			json_object *tc = json_object_array_get_idx(tests, t);
			const char *res;
			int want, no;

			res = json_object_get_string(get(tc, "result"));
			CU_ASSERT_FATAL(strcmp(res, "valid") == 0 ||
			                strcmp(res, "invalid") == 0);
			want = strcmp(res, "valid") == 0 ? RCPT_OK
			                                 : RCPT_E_BAD_SIGNATURE;
			no = wycheproof_case(tc, pub, c, want);
			ncases++;
			if (want == RCPT_OK) {
				nvalid++;
				valid_refused += (size_t)no;
			} else {
				ninvalid++;
				refused += (size_t)no;
			}
		}
		rcpt_ed25519_vctx_free(c);
	}
	json_object_put(root);
	/* Every case the file declares was run, and each judged right. */
	CU_ASSERT(declared >= 150);
	CU_ASSERT_EQUAL(ncases, (size_t)declared);
	CU_ASSERT(nvalid > 0);
	CU_ASSERT(ninvalid > 0);
	CU_ASSERT_EQUAL(refused, ninvalid);
	CU_ASSERT_EQUAL(valid_refused, 0);
}

/* Encodings of every point of order 1, 2, 4 and 8, and unreduced forms. */
static const char *small_order_hex[] = {
    "0100000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000080",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
};

static void
test_small_order_keys_refused(void)
{
	uint8_t pub[32], sig[64] = {0};
	struct rcpt_ed25519_vctx *c = NULL;
	size_t i;

	for (i = 0; i < sizeof(small_order_hex) / sizeof(small_order_hex[0]);
	     i++) {
		CU_ASSERT_FATAL(rcpt_hex_decode(small_order_hex[i], 64, pub,
		                    32) == RCPT_OK);
		CU_ASSERT_EQUAL(rcpt_ed25519_pub_is_acceptable(pub), 0);
		/* R = the key itself, S = 0: OpenSSL 3.0 alone accepts
		 * this for the identity key. */
		memcpy(sig, pub, 32);
		CU_ASSERT_EQUAL(
		    rcpt_ed25519_verify(pub, (const uint8_t *)"hi", 2, sig),
		    RCPT_E_BAD_SIGNATURE);
		CU_ASSERT_EQUAL_FATAL(rcpt_ed25519_vctx_new(pub, &c), RCPT_OK);
		CU_ASSERT_EQUAL(
		    rcpt_ed25519_vctx_verify(c, (const uint8_t *)"hi", 2, sig),
		    RCPT_E_BAD_SIGNATURE);
		rcpt_ed25519_vctx_free(c);
		c = NULL;
	}
}

static void
test_identity_key_zero_sig(void)
{
	uint8_t pub[32] = {0x01}, sig[64] = {0x01};

	/* R = identity, S = 0 satisfies the equation for A = identity. */
	CU_ASSERT_EQUAL(
	    rcpt_ed25519_verify(pub, (const uint8_t *)"any", 3, sig),
	    RCPT_E_BAD_SIGNATURE);
	/* The same with the identity written as y = p + 1. */
	memset(pub, 0xff, 32);
	pub[0] = 0xee;
	pub[31] = 0x7f;
	CU_ASSERT_EQUAL(
	    rcpt_ed25519_verify(pub, (const uint8_t *)"any", 3, sig),
	    RCPT_E_BAD_SIGNATURE);
}

static void
test_unreduced_key_refused(void)
{
	uint8_t pub[32];
	int i;

	/* y = p + 2 ... 2^255 - 1: all unreduced, none acceptable. */
	for (i = 0xef; i <= 0xff; i++) {
		memset(pub, 0xff, 32);
		pub[0] = (uint8_t)i;
		pub[31] = 0x7f;
		CU_ASSERT_EQUAL(rcpt_ed25519_pub_is_acceptable(pub), 0);
		pub[31] = 0xff;
		CU_ASSERT_EQUAL(rcpt_ed25519_pub_is_acceptable(pub), 0);
	}
	/* y = p - 2 is reduced. */
	memset(pub, 0xff, 32);
	pub[0] = 0xeb;
	pub[31] = 0x7f;
	CU_ASSERT_EQUAL(rcpt_ed25519_pub_is_acceptable(pub), 1);
}

static void
test_sig_r_and_s_rules(void)
{
	struct rfc_vec v[3];
	uint8_t sig[64];
	static const uint8_t l[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12,
	    0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, [31] = 0x10};
	unsigned int carry = 0;
	int i;

	CU_ASSERT_EQUAL_FATAL(load_rfc(v), 3);
	/* S + L is the same scalar mod L: malleability, refused. */
	memcpy(sig, v[0].sig, 64);
	for (i = 0; i < 32; i++) {
		carry += (unsigned int)sig[32 + i] + l[i];
		sig[32 + i] = (uint8_t)carry;
		carry >>= 8;
	}
	CU_ASSERT_EQUAL(
	    rcpt_ed25519_verify(v[0].pub, v[0].msg, v[0].msg_len, sig),
	    RCPT_E_BAD_SIGNATURE);
	/* S = L exactly. */
	memcpy(sig, v[0].sig, 32);
	memcpy(sig + 32, l, 32);
	CU_ASSERT_EQUAL(
	    rcpt_ed25519_verify(v[0].pub, v[0].msg, v[0].msg_len, sig),
	    RCPT_E_BAD_SIGNATURE);
	/* Small-order R. */
	memcpy(sig, v[0].sig, 64);
	memset(sig, 0, 32);
	sig[0] = 0x01;
	CU_ASSERT_EQUAL(
	    rcpt_ed25519_verify(v[0].pub, v[0].msg, v[0].msg_len, sig),
	    RCPT_E_BAD_SIGNATURE);
	/* Unreduced R. */
	memcpy(sig, v[0].sig, 64);
	memset(sig, 0xff, 32);
	sig[31] = 0x7f;
	CU_ASSERT_EQUAL(
	    rcpt_ed25519_verify(v[0].pub, v[0].msg, v[0].msg_len, sig),
	    RCPT_E_BAD_SIGNATURE);
}

static void
test_vctx_matches_plain(void)
{
	struct rfc_vec v[3];
	struct rcpt_ed25519_vctx *c = NULL;
	uint8_t sig[64];
	int i, k;

	CU_ASSERT_EQUAL_FATAL(load_rfc(v), 3);
	for (i = 0; i < 3; i++) {
		CU_ASSERT_EQUAL_FATAL(
		    rcpt_ed25519_vctx_new(v[i].pub, &c), RCPT_OK);
		/* Repeated use of one context, good and bad in turn. */
		for (k = 0; k < 4; k++) {
			memcpy(sig, v[i].sig, 64);
			if (k % 2 == 1)
				sig[40] ^= 0x80;
			CU_ASSERT_EQUAL(rcpt_ed25519_vctx_verify(
			                    c, v[i].msg, v[i].msg_len, sig),
			    k % 2 == 0 ? RCPT_OK : RCPT_E_BAD_SIGNATURE);
			CU_ASSERT_EQUAL(rcpt_ed25519_vctx_verify(
			                    c, v[i].msg, v[i].msg_len, sig),
			    rcpt_ed25519_verify(
			        v[i].pub, v[i].msg, v[i].msg_len, sig));
		}
		/* Someone else's signature. */
		CU_ASSERT_EQUAL(rcpt_ed25519_vctx_verify(c, v[(i + 1) % 3].msg,
		                    v[(i + 1) % 3].msg_len, v[(i + 1) % 3].sig),
		    RCPT_E_BAD_SIGNATURE);
		rcpt_ed25519_vctx_free(c);
		c = NULL;
	}
	CU_ASSERT_EQUAL(rcpt_ed25519_vctx_verify(NULL, v[0].msg, 0, v[0].sig),
	    RCPT_E_INVAL);
	rcpt_ed25519_vctx_free(NULL);
}

static void
test_vctx_out_of_memory(void)
{
	struct rfc_vec v[3];
	struct rcpt_ed25519_vctx *c = (struct rcpt_ed25519_vctx *)&c;

	CU_ASSERT_EQUAL_FATAL(load_rfc(v), 3);
	rcpt_mem_fail_after(0);
	CU_ASSERT_EQUAL(rcpt_ed25519_vctx_new(v[0].pub, &c), RCPT_E_NOMEM);
	rcpt_mem_fail_after(-1);
	CU_ASSERT_PTR_NULL(c);
}

struct init_job {
	const struct rfc_vec *v;
	int init;   /* out: rcpt_ed25519_init() */
	int verify; /* out: a good signature's check */
};

static void *
init_and_verify(void *arg)
{
	struct init_job *j = arg;

	j->init = rcpt_ed25519_init();
	j->verify =
	    rcpt_ed25519_verify(j->v->pub, j->v->msg, j->v->msg_len, j->v->sig);
	return NULL;
}

/* Runs first, so the threads race for the one initialisation. */
static void
test_init_once(void)
{
	struct rfc_vec v[3];
	struct init_job jobs[4];
	pthread_t tids[4];
	int i;

	CU_ASSERT_EQUAL_FATAL(load_rfc(v), 3);
	for (i = 0; i < 4; i++) {
		jobs[i] = (struct init_job){.v = &v[i % 3], .init = -1};
		CU_ASSERT_EQUAL_FATAL(
		    pthread_create(&tids[i], NULL, init_and_verify, &jobs[i]),
		    0);
	}
	for (i = 0; i < 4; i++) {
		CU_ASSERT_EQUAL(pthread_join(tids[i], NULL), 0);
		CU_ASSERT_EQUAL(jobs[i].init, RCPT_OK);
		CU_ASSERT_EQUAL(jobs[i].verify, RCPT_OK);
	}
	CU_ASSERT_EQUAL(rcpt_ed25519_init(), RCPT_OK);
}

static CU_TestInfo ed25519_tests[] = {
    {"libsodium initialised once", test_init_once},
    {"RFC 8032 7.1 public keys", test_rfc8032_public},
    {"RFC 8032 7.1 signatures byte for byte", test_rfc8032_sign_verify},
    {"every Wycheproof case by result", test_wycheproof_all_cases},
    {"small-order keys refused", test_small_order_keys_refused},
    {"identity key with zero signature refused", test_identity_key_zero_sig},
    {"unreduced keys refused", test_unreduced_key_refused},
    {"S >= L, small-order or unreduced R refused", test_sig_r_and_s_rules},
    {"context verify equals plain verify", test_vctx_matches_plain},
    {"context allocation failure", test_vctx_out_of_memory},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "ed25519", .pTests = ed25519_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return rcpt_test_run(suites);
}
