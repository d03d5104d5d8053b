/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checkpoints (SPEC 5): byte-exact notes for a fixed key, strict
 * parsing, and verification that ignores foreign signature lines.
 *
 * The golden notes below were computed outside this project from the
 * C2SP signed-note definition with an independent Ed25519
 * implementation (Python "cryptography"), key = RFC 8032 TEST 1.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "checkpoint.h"
#include "encode.h"
#include "mem.h"
#include "softkey.h"
#include "testlib.h"

static const char *seed1_hex =
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
static const char *seed2_hex =
    "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb";

static const char *golden1 =
    "example.com/log/main\n"
    "1\n"
    "aZys20w52OC7EiM1J2Wn96zcUd7GaU97VMPQpH8MxAk=\n"
    "\n"
    "\xe2\x80\x94 example.com/log/main "
    "vYCkmr8zg8fzi6rmTw1JoURPcOT7ZGg1qZGuasGBhCNMcgKL7TnJG1bwPEWufWPUEjCl"
    "tKIw3I8B4XcoB09pDqUYMwQ=\n";

static const char *golden0 =
    "example.com/log/main\n"
    "0\n"
    "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
    "\n"
    "\xe2\x80\x94 example.com/log/main "
    "vYCkmu8glPFusv/MMjZWLoVgooopOSGa2KtHCUlshKo2+IFKcki5RCb6lVVsVNv2cZaq"
    "Bx6ke/RLU8zYj4elHiRetQ0=\n";

static struct rcpt_softkey *
key_of(const char *hex)
{
	uint8_t seed[32];
	struct rcpt_softkey *k = NULL;

	CU_ASSERT_FATAL(rcpt_hex_decode(hex, 64, seed, 32) == RCPT_OK);
	CU_ASSERT_FATAL(rcpt_softkey_from_seed(seed, &k) == RCPT_OK);
	return k;
}

/* Root of the one-leaf tree whose entry hash is 00 01 ... 1f. */
static void
one_leaf_root(uint8_t root[32])
{
	uint8_t buf[33];
	int i;

	buf[0] = 0x00;
	for (i = 0; i < 32; i++)
		buf[1 + i] = (uint8_t)i;
	SHA256(buf, sizeof(buf), root);
}

static void
test_golden_sign(void)
{
	struct rcpt_softkey *k = key_of(seed1_hex);
	struct rcpt_signer s;
	uint8_t root[32], kh[4];
	char *note = NULL;

	rcpt_softkey_signer(k, &s);
	one_leaf_root(root);
	CU_ASSERT_EQUAL(
	    rcpt_checkpoint_keyhash("example.com/log", "main", s.pub, kh),
	    RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(kh, "\xbd\x80\xa4\x9a", 4), 0);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_checkpoint_sign("example.com/log", "main", 1, root, &s, &note),
	    RCPT_OK);
	CU_ASSERT_STRING_EQUAL(note, golden1);
	free(note);
	note = NULL;
	/* Size 0: the empty tree's root is SHA-256 of nothing. */
	SHA256((const uint8_t *)"", 0, root);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_checkpoint_sign("example.com/log", "main", 0, root, &s, &note),
	    RCPT_OK);
	CU_ASSERT_STRING_EQUAL(note, golden0);
	free(note);
	rcpt_softkey_close(k);
}

static void
test_golden_parse_verify(void)
{
	struct rcpt_softkey *k = key_of(seed1_hex), *k2 = key_of(seed2_hex);
	struct rcpt_checkpoint cp = {0};
	struct rcpt_diag d;
	uint8_t root[32];

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_checkpoint_parse(golden1, strlen(golden1), &cp, &d), RCPT_OK);
	one_leaf_root(root);
	CU_ASSERT_STRING_EQUAL(cp.origin, "example.com/log");
	CU_ASSERT_STRING_EQUAL(cp.chain, "main");
	CU_ASSERT_EQUAL(cp.size, 1);
	CU_ASSERT_EQUAL(memcmp(cp.root, root, 32), 0);
	CU_ASSERT_EQUAL(
	    cp.body_len, strlen(golden1) - strlen(strstr(golden1, "\n\n")) + 1);
	CU_ASSERT_EQUAL(strncmp(cp.body, golden1, cp.body_len), 0);
	CU_ASSERT_EQUAL(cp.nsigs, 1);
	CU_ASSERT_STRING_EQUAL(cp.sigs[0].name, "example.com/log/main");
	CU_ASSERT_EQUAL(cp.sigs[0].is_ed25519, 1);
	CU_ASSERT_EQUAL(
	    rcpt_checkpoint_verify(&cp, rcpt_softkey_public(k)), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_checkpoint_verify(&cp, rcpt_softkey_public(k2)),
	    RCPT_E_BAD_SIGNATURE);
	rcpt_checkpoint_clear(&cp);

	CU_ASSERT_EQUAL_FATAL(
	    rcpt_checkpoint_parse(golden0, strlen(golden0), &cp, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(cp.size, 0);
	CU_ASSERT_EQUAL(
	    rcpt_checkpoint_verify(&cp, rcpt_softkey_public(k)), RCPT_OK);
	rcpt_checkpoint_clear(&cp);
	rcpt_checkpoint_clear(&cp);
	CU_ASSERT_EQUAL(
	    rcpt_checkpoint_verify(&cp, rcpt_softkey_public(k)), RCPT_E_INVAL);
	rcpt_softkey_close(k2);
	rcpt_softkey_close(k);
}

/* Replaces the first @p from in @p text by @p to into a new string. */
static char *
replace(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t n = strlen(text) - strlen(from) + strlen(to);
	char *out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	out = malloc(n + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	memcpy(out, text, (size_t)(at - text));
	strcpy(out + (at - text), to);
	strcat(out, at + strlen(from));
	return out;
}

/* Parses @p text (taking ownership) and verifies under key 1. */
static int
parse_verify(char *text, int *parse_r)
{
	struct rcpt_softkey *k = key_of(seed1_hex);
	struct rcpt_checkpoint cp = {0};
	int r = -1000;

	*parse_r = rcpt_checkpoint_parse(text, strlen(text), &cp, NULL);
	if (*parse_r == RCPT_OK)
		r = rcpt_checkpoint_verify(&cp, rcpt_softkey_public(k));
	rcpt_checkpoint_clear(&cp);
	rcpt_softkey_close(k);
	free(text);
	return r;
}

static void
test_tampering(void)
{
	int pr;

	/* Body: the size. */
	CU_ASSERT_EQUAL(parse_verify(replace(golden1, "\n1\n", "\n2\n"), &pr),
	    RCPT_E_BAD_SIGNATURE);
	CU_ASSERT_EQUAL(pr, RCPT_OK);
	/* Body: the root. */
	CU_ASSERT_EQUAL(parse_verify(replace(golden1, "aZys", "aZyt"), &pr),
	    RCPT_E_BAD_SIGNATURE);
	/* Signature bytes. */
	CU_ASSERT_EQUAL(parse_verify(replace(golden1, "EjCl", "EjDl"), &pr),
	    RCPT_E_BAD_SIGNATURE);
	CU_ASSERT_EQUAL(pr, RCPT_OK);
	/* Key hash: the line is no longer for this key. */
	CU_ASSERT_EQUAL(parse_verify(replace(golden1, " vYCk", " vYDk"), &pr),
	    RCPT_E_BAD_SIGNATURE);
	CU_ASSERT_EQUAL(pr, RCPT_OK);
	/* Origin in the body (and so the key name) changed. */
	CU_ASSERT_EQUAL(parse_verify(replace(golden1, "example.com/log/main\n1",
	                                 "example.com/lag/main\n1"),
	                    &pr),
	    RCPT_E_BAD_SIGNATURE);
	CU_ASSERT_EQUAL(pr, RCPT_OK);
}

static void
test_wrong_name_ignored(void)
{
	int pr;

	/* Right key hash and signature, but the line names another key. */
	CU_ASSERT_EQUAL(
	    parse_verify(replace(golden1, "\xe2\x80\x94 example.com/log/main",
	                     "\xe2\x80\x94 example.com/log/other"),
	        &pr),
	    RCPT_E_BAD_SIGNATURE);
	CU_ASSERT_EQUAL(pr, RCPT_OK);
}

/* Expects @p text (owned) to be refused with @p want naming @p needle. */
static void
check_refused(char *text, int want, const char *needle)
{
	struct rcpt_checkpoint cp = {0};
	struct rcpt_diag d;
	int r;

	rcpt_diag_clear(&d);
	r = rcpt_checkpoint_parse(text, strlen(text), &cp, &d);
	CU_ASSERT_EQUAL(r, want);
	if (r != want)
		fprintf(stderr, "checkpoint: got %d (%s)\n", r,
		    rcpt_diag_msg(&d, r));
	CU_ASSERT_PTR_NULL(cp.body);
	CU_ASSERT_EQUAL(cp.nsigs, 0);
	if (needle != NULL) {
		CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, needle));
		if (strstr(d.msg, needle) == NULL)
			fprintf(stderr, "diag \"%s\" lacks \"%s\"\n", d.msg,
			    needle);
	}
	rcpt_checkpoint_clear(&cp);
	free(text);
}

static void
test_extension_line_refused(void)
{
	const char *root = "aZys20w52OC7EiM1J2Wn96zcUd7GaU97VMPQpH8MxAk=\n";
	char with[128];

	snprintf(with, sizeof(with), "%sext\n", root);
	check_refused(replace(golden1, root, with), RCPT_E_PARSE, "extension");
}

static void
test_size_rules(void)
{
	int pr;

	check_refused(replace(golden1, "\n1\n", "\n01\n"), RCPT_E_PARSE,
	    "checkpoint.size");
	check_refused(replace(golden0, "\n0\n", "\n00\n"), RCPT_E_PARSE,
	    "checkpoint.size");
	check_refused(replace(golden1, "\n1\n", "\n+1\n"), RCPT_E_PARSE,
	    "checkpoint.size");
	check_refused(replace(golden1, "\n1\n", "\n-1\n"), RCPT_E_PARSE,
	    "checkpoint.size");
	check_refused(replace(golden1, "\n1\n", "\n1a\n"), RCPT_E_PARSE,
	    "checkpoint.size");
	check_refused(
	    replace(golden1, "\n1\n", "\n\n"), RCPT_E_PARSE, "checkpoint.size");
	check_refused(replace(golden1, "\n1\n", "\n 1\n"), RCPT_E_PARSE,
	    "checkpoint.size");
	check_refused(replace(golden1, "\n1\n", "\n18446744073709551616\n"),
	    RCPT_E_PARSE, "checkpoint.size");
	/* The largest size parses (and then fails its signature). */
	CU_ASSERT_EQUAL(
	    parse_verify(
	        replace(golden1, "\n1\n", "\n18446744073709551615\n"), &pr),
	    RCPT_E_BAD_SIGNATURE);
	CU_ASSERT_EQUAL(pr, RCPT_OK);
}

static void
test_root_rules(void)
{
	check_refused(
	    replace(golden1, "MxAk=", "MxAk"), RCPT_E_PARSE, "checkpoint.root");
	check_refused(replace(golden1, "MxAk=", "MxAl="), RCPT_E_PARSE,
	    "checkpoint.root");
	check_refused(replace(golden1, "aZys20", "aZys2_"), RCPT_E_PARSE,
	    "checkpoint.root");
	/* 34 bytes. */
	check_refused(replace(golden1, "MxAk=", "MxAkAA=="), RCPT_E_PARSE,
	    "checkpoint.root");
}

static void
test_name_rules(void)
{
	check_refused(replace(golden1, "example.com/log/main\n1",
	                  "example com/log/main\n1"),
	    RCPT_E_INVAL, "checkpoint.origin");
	check_refused(replace(golden1, "example.com/log/main\n1", "main\n1"),
	    RCPT_E_INVAL, "checkpoint.origin");
	check_refused(replace(golden1, "example.com/log/main\n1",
	                  "example.com/log/Main\n1"),
	    RCPT_E_INVAL, "checkpoint.chain");
	check_refused(
	    replace(golden1, "example.com/log/main\n1", "example.com/log/\n1"),
	    RCPT_E_INVAL, "checkpoint.chain");
	CU_ASSERT_EQUAL(rcpt_checkpoint_origin_is_valid(""), 0);
	CU_ASSERT_EQUAL(rcpt_checkpoint_origin_is_valid("a~b:c/d-e_f.g"), 1);
	CU_ASSERT_EQUAL(rcpt_checkpoint_origin_is_valid("a b"), 0);
	CU_ASSERT_EQUAL(rcpt_checkpoint_origin_is_valid("a+b"), 0);
	CU_ASSERT_EQUAL(rcpt_checkpoint_origin_is_valid(NULL), 0);
}

static void
test_origin_length(void)
{
	char o[202];

	memset(o, 'a', 200);
	o[200] = '\0';
	CU_ASSERT_EQUAL(rcpt_checkpoint_origin_is_valid(o), 1);
	o[200] = 'a';
	o[201] = '\0';
	CU_ASSERT_EQUAL(rcpt_checkpoint_origin_is_valid(o), 0);
}

static void
test_em_dash_required(void)
{
	check_refused(
	    replace(golden1, "\xe2\x80\x94 ", "- "), RCPT_E_PARSE, "U+2014");
	check_refused(
	    replace(golden1, "\xe2\x80\x94 ", "-- "), RCPT_E_PARSE, "U+2014");
	/* U+2013, the en dash. */
	check_refused(replace(golden1, "\xe2\x80\x94 ", "\xe2\x80\x93 "),
	    RCPT_E_PARSE, "U+2014");
	check_refused(replace(golden1, "\xe2\x80\x94 ", "\xe2\x80\x94"),
	    RCPT_E_PARSE, "signatures[0]");
}

static void
test_signature_line_rules(void)
{
	const char *body = "example.com/log/main\n1\n"
	                   "aZys20w52OC7EiM1J2Wn96zcUd7GaU97VMPQpH8MxAk=\n";
	char text[512];

	/* No blank line, no signature. */
	check_refused(strdup(body), RCPT_E_PARSE, "blank line");
	snprintf(text, sizeof(text), "%s\n", body);
	check_refused(strdup(text), RCPT_E_PARSE, "at least one");
	/* Not terminated. */
	check_refused(replace(golden1, "YMwQ=\n", "YMwQ="), RCPT_E_PARSE,
	    "not terminated");
	check_refused(replace(golden1, "YMwQ=\n", "YMwQ=\n\n"), RCPT_E_PARSE,
	    "signatures[1]");
	check_refused(replace(golden1, "log/main vYCk", "log+main vYCk"),
	    RCPT_E_PARSE, "signatures[0]");
	check_refused(replace(golden1, "log/main vYCk", "log/main\tvYCk"),
	    RCPT_E_PARSE, "signatures[0]");
	check_refused(replace(golden1, "\xe2\x80\x94 example.com/log/main ",
	                  "\xe2\x80\x94  "),
	    RCPT_E_PARSE, "signatures[0]");
	/* Four or three bytes of blob are not enough. */
	snprintf(text, sizeof(text), "%s\n\xe2\x80\x94 x AAAAAA==\n", body);
	check_refused(strdup(text), RCPT_E_PARSE, "5 bytes");
	snprintf(text, sizeof(text), "%s\n\xe2\x80\x94 x AAAA\n", body);
	check_refused(strdup(text), RCPT_E_PARSE, "5 bytes");
	snprintf(text, sizeof(text), "%s\n\xe2\x80\x94 x AAAAAA=\n", body);
	check_refused(strdup(text), RCPT_E_PARSE, "5 bytes");
	/* Five bytes are, though no key will match. */
	snprintf(text, sizeof(text), "%s\n\xe2\x80\x94 x AAAAAAA=\n", body);
	{
		int pr;

		CU_ASSERT_EQUAL(
		    parse_verify(strdup(text), &pr), RCPT_E_BAD_SIGNATURE);
		CU_ASSERT_EQUAL(pr, RCPT_OK);
	}
}

static void
test_limits(void)
{
	char *big, *text;
	size_t i, n;

	/* A NUL inside the length. */
	text = strdup(golden1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	{
		struct rcpt_checkpoint cp = {0};

		text[5] = '\0';
		CU_ASSERT_EQUAL(
		    rcpt_checkpoint_parse(text, strlen(golden1), &cp, NULL),
		    RCPT_E_PARSE);
		CU_ASSERT_EQUAL(rcpt_checkpoint_parse(golden1,
		                    RCPT_CHECKPOINT_MAX_BYTES + 1, &cp, NULL),
		    RCPT_E_TOO_LARGE);
	}
	free(text);
	/* RCPT_CHECKPOINT_MAX_SIGS + 1 lines. */
	n = strlen(golden1) + (RCPT_CHECKPOINT_MAX_SIGS + 1) * 16 + 1;
	big = malloc(n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	strcpy(big, golden1);
	for (i = 0; i < RCPT_CHECKPOINT_MAX_SIGS; i++)
		strcat(big, "\xe2\x80\x94 x AAAAAAA=\n");
	check_refused(big, RCPT_E_TOO_LARGE, "signature lines");
}

static void
test_seventeen_lines(void)
{
	struct rcpt_softkey *k = key_of(seed1_hex);
	struct rcpt_checkpoint cp = {0};
	const char *good = strstr(golden1, "\xe2\x80\x94");
	char *text, line[200];
	uint8_t blob[68];
	char b64[RCPT_B64_LEN(68) + 1];
	size_t cap = 8192;
	int i;

	text = malloc(cap);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	memcpy(text, golden1, (size_t)(good - golden1));
	text[good - golden1] = '\0';
	for (i = 0; i < 16; i++) {
		memset(blob, 0x40 + i, sizeof(blob));
		if (i == 2)
			/* Right name and key hash, wrong signature. */
			memcpy(blob, "\xbd\x80\xa4\x9a", 4);
		rcpt_b64_encode(blob, i % 2 == 0 ? 68 : 36, b64);
		snprintf(line, sizeof(line), "\xe2\x80\x94 %s %s\n",
		    i == 2 ? "example.com/log/main" : "witness.example/w", b64);
		strcat(text, line);
	}
	strcat(text, good);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_checkpoint_parse(text, strlen(text), &cp, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(cp.nsigs, 17);
	CU_ASSERT_EQUAL(cp.sigs[0].is_ed25519, 1);
	CU_ASSERT_EQUAL(cp.sigs[1].is_ed25519, 0);
	CU_ASSERT_STRING_EQUAL(cp.sigs[1].name, "witness.example/w");
	CU_ASSERT_EQUAL(cp.sigs[16].is_ed25519, 1);
	CU_ASSERT_EQUAL(
	    rcpt_checkpoint_verify(&cp, rcpt_softkey_public(k)), RCPT_OK);
	rcpt_checkpoint_clear(&cp);
	/* Without the good line last, nothing verifies. */
	*strstr(text, good) = '\0';
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_checkpoint_parse(text, strlen(text), &cp, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(cp.nsigs, 16);
	CU_ASSERT_EQUAL(rcpt_checkpoint_verify(&cp, rcpt_softkey_public(k)),
	    RCPT_E_BAD_SIGNATURE);
	rcpt_checkpoint_clear(&cp);
	free(text);
	rcpt_softkey_close(k);
}

/* A signer callback that signs with a key other than the one claimed. */
static int
sign_other(void *ctx, const char *kid, const uint8_t *msg, size_t len,
    uint8_t sig_out[64])
{
	struct rcpt_softkey *other = ctx;

	(void)kid;
	return rcpt_softkey_sign_msg(
	    other, rcpt_softkey_kid(other), msg, len, sig_out);
}

static void
test_sign_refusals(void)
{
	struct rcpt_softkey *k = key_of(seed1_hex), *k2 = key_of(seed2_hex);
	struct rcpt_signer s, fake;
	uint8_t root[32] = {0};
	char *note = (char *)&note;

	rcpt_softkey_signer(k, &s);
	CU_ASSERT_EQUAL(
	    rcpt_checkpoint_sign("bad origin", "main", 1, root, &s, &note),
	    RCPT_E_INVAL);
	CU_ASSERT_PTR_NULL(note);
	CU_ASSERT_EQUAL(
	    rcpt_checkpoint_sign("", "main", 1, root, &s, &note), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_checkpoint_sign("o", "Main", 1, root, &s, &note),
	    RCPT_E_INVAL);
	CU_ASSERT_EQUAL(
	    rcpt_checkpoint_sign("o", "", 1, root, &s, &note), RCPT_E_INVAL);
	/* The signer refuses a kid other than its own. */
	s.kid[0] ^= 1;
	CU_ASSERT_EQUAL(rcpt_checkpoint_sign("o", "main", 1, root, &s, &note),
	    RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT_PTR_NULL(note);
	/* A signer whose key is not the public key it claims. */
	CU_ASSERT_EQUAL(
	    rcpt_checkpoint_sign_with("o", "main", 1, root, sign_other, k2,
	        rcpt_softkey_kid(k), rcpt_softkey_public(k), &note),
	    RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT_PTR_NULL(note);
	/* A signer without a call for long messages is a caller's bug. */
	memset(&fake, 0, sizeof(fake));
	CU_ASSERT_EQUAL(
	    rcpt_checkpoint_sign("o", "main", 1, root, &fake, &note),
	    RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_checkpoint_sign("o", "main", 1, root, NULL, &note),
	    RCPT_E_INVAL);
	/* A long origin and chain fit. */
	{
		char o[201], c[65];

		rcpt_softkey_signer(k, &s);
		memset(o, 'o', 200);
		o[200] = '\0';
		memset(c, 'c', 64);
		c[64] = '\0';
		CU_ASSERT_EQUAL_FATAL(
		    rcpt_checkpoint_sign(o, c, UINT64_MAX, root, &s, &note),
		    RCPT_OK);
		{
			struct rcpt_checkpoint cp = {0};

			CU_ASSERT_EQUAL_FATAL(rcpt_checkpoint_parse(note,
			                          strlen(note), &cp, NULL),
			    RCPT_OK);
			CU_ASSERT_STRING_EQUAL(cp.origin, o);
			CU_ASSERT_STRING_EQUAL(cp.chain, c);
			CU_ASSERT_EQUAL(cp.size, UINT64_MAX);
			CU_ASSERT_EQUAL(
			    rcpt_checkpoint_verify(&cp, rcpt_softkey_public(k)),
			    RCPT_OK);
			rcpt_checkpoint_clear(&cp);
		}
		free(note);
	}
	rcpt_softkey_close(k2);
	rcpt_softkey_close(k);
}

static void
test_out_of_memory(void)
{
	struct rcpt_softkey *k = key_of(seed1_hex);
	struct rcpt_signer s;
	struct rcpt_checkpoint cp = {0};
	uint8_t root[32];
	char *note = NULL;
	long n;
	int r;

	rcpt_softkey_signer(k, &s);
	one_leaf_root(root);
	for (n = 0; n < 100; n++) {
		rcpt_mem_fail_after(n);
		r = rcpt_checkpoint_sign(
		    "example.com/log", "main", 1, root, &s, &note);
		rcpt_mem_fail_after(-1);
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL(r, RCPT_E_NOMEM);
		CU_ASSERT_PTR_NULL(note);
	}
	CU_ASSERT_EQUAL_FATAL(r, RCPT_OK);
	CU_ASSERT_STRING_EQUAL(note, golden1);
	free(note);
	for (n = 0; n < 100; n++) {
		rcpt_mem_fail_after(n);
		r = rcpt_checkpoint_parse(golden1, strlen(golden1), &cp, NULL);
		rcpt_mem_fail_after(-1);
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL(r, RCPT_E_NOMEM);
		CU_ASSERT_PTR_NULL(cp.body);
	}
	CU_ASSERT_EQUAL(r, RCPT_OK);
	rcpt_checkpoint_clear(&cp);
	rcpt_softkey_close(k);
}

static CU_TestInfo checkpoint_tests[] = {
    {"golden notes for a fixed key", test_golden_sign},
    {"golden notes parse and verify", test_golden_parse_verify},
    {"tampered body, signature or key hash", test_tampering},
    {"line with another name ignored", test_wrong_name_ignored},
    {"extension line refused", test_extension_line_refused},
    {"size: decimal, no leading zeros", test_size_rules},
    {"root: padded base64 of 32 bytes", test_root_rules},
    {"origin and chain rules", test_name_rules},
    {"origin up to 200 bytes", test_origin_length},
    {"em dash must be U+2014", test_em_dash_required},
    {"signature line rules", test_signature_line_rules},
    {"size and line limits", test_limits},
    {"17 lines, the good one last", test_seventeen_lines},
    {"sign refusals", test_sign_refusals},
    {"allocation failures", test_out_of_memory},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "checkpoint", .pTests = checkpoint_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return rcpt_test_run(suites);
}
