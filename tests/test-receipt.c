/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Receipts (SPEC 1): golden receipts from a fixed key compared byte for
 * byte, hashes recomputed here from literal signed-view text, and the
 * parser's refusals, each with its exact code and the member named.
 * Set RCPT_WRITE_GOLDEN=dir to (re)write the golden file once.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/sha.h>

#include "chain.h"
#include "encode.h"
#include "json.h"
#include "mem.h"
#include "receipt.h"
#include "softkey.h"
#include "testlib.h"

#define GOLDEN "golden/receipts.jsonl"

/* The golden key: seed bytes 0x01 to 0x20. */
static void
golden_seed(uint8_t seed[RCPT_ED25519_SEED_LEN])
{
	int i;

	for (i = 0; i < RCPT_ED25519_SEED_LEN; i++)
		seed[i] = (uint8_t)(i + 1);
}

static json_object *
parse_json(const char *text)
{
	json_object *o = NULL;

	CU_ASSERT_EQUAL_FATAL(
	    rcpt_json_parse(text, strlen(text), 64, "data", &o, NULL), RCPT_OK);
	return o;
}

/* Appends r's stored JCS and "\n" to @p all. */
static void
append_line(struct rcpt_buf *all, const struct rcpt_receipt *r)
{
	char *s = NULL;
	size_t n = 0;

	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_serialize(r, &s, &n), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_buf_append(all, s, n), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_buf_append(all, "\n", 1), RCPT_OK);
	free(s);
}

/*
 * The golden chain "golden": genesis and three events; the third event's
 * clock reads earlier than the second's, so its ts is the second's.
 */
static void
golden_chain(struct rcpt_buf *all)
{
	static const char *const data[] = {
	    ("{\"id\":42,\"amount\":12.50,\"note\":\"caf\\u00e9 \\u2615\","
	     "\"ok\":true,\"nil\":null,\"list\":[1,\"two\",3e-7]}"),
	    "\"shipped\"",
	    "{\"b\":1,\"a\":[],\"\\ufb01\":{},\"\\ud83d\\ude00\":0}",
	};
	static const char *const types[] = {
	    "order.created", "order.shipped", "audit:note"};
	static const char *const tags[] = {
	    "[\"eu\",\"priority\"]", "[]", "[\"q\\\"t\\\\\"]"};
	static const char *const ts[] = {"2025-01-01T00:00:01.000Z",
	    "2025-01-01T00:00:02.000Z", "2025-01-01T00:00:01.500Z"};
	uint8_t seed[RCPT_ED25519_SEED_LEN];
	struct rcpt_softkey *k = NULL;
	struct rcpt_signer s;
	struct rcpt_chain c;
	struct rcpt_receipt r;
	struct rcpt_chain_event ev;
	struct rcpt_diag d = {0};
	json_object *dj, *tj;
	int i;

	golden_seed(seed);
	CU_ASSERT_EQUAL_FATAL(rcpt_softkey_from_seed(seed, &k), RCPT_OK);
	rcpt_softkey_signer(k, &s);
	rcpt_chain_init(&c);
	rcpt_receipt_init(&r);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_chain_genesis(&c, "golden", "log.example.org",
	        RCPT_SEALING_EACH, "2025-01-01T00:00:00.000Z", &s, &r, &d),
	    RCPT_OK);
	append_line(all, &r);
	for (i = 0; i < 3; i++) {
		dj = parse_json(data[i]);
		tj = parse_json(tags[i]);
		memset(&ev, 0, sizeof(ev));
		ev.type = types[i];
		ev.tags = tj;
		ev.submitter = i == 1 ? "bob" : "alice";
		ev.data = dj;
		ev.ts = ts[i];
		CU_ASSERT_EQUAL(
		    rcpt_chain_append(&c, &ev, &s, &r, &d), RCPT_OK);
		if (d.set)
			fprintf(stderr, "\n  append: %s\n", d.msg);
		append_line(all, &r);
		json_object_put(dj);
		json_object_put(tj);
	}
	rcpt_receipt_clear(&r);
	rcpt_chain_clear(&c);
	rcpt_softkey_close(k);
}

static void
test_golden_bytes(void)
{
	struct rcpt_buf all = {0};
	const char *dir = getenv("RCPT_WRITE_GOLDEN");
	char *want;
	size_t wlen = 0;

	golden_chain(&all);
	if (dir != NULL && *dir != '\0') {
		char path[4096];

		snprintf(path, sizeof(path), "%s/receipts.jsonl", dir);
		CU_ASSERT_EQUAL(rcpt_test_write_file(path, all.p, all.len), 0);
	}
	want = rcpt_test_read_vector(GOLDEN, &wlen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	CU_ASSERT_EQUAL(wlen, all.len);
	CU_ASSERT(wlen == all.len && memcmp(want, all.p, wlen) == 0);
	free(want);
	rcpt_buf_clear(&all);
}

/* Line @p n (0-based) of the golden file, malloc'd. */
static char *
golden_line(int n)
{
	char *all, *p, *nl, *out;

	all = rcpt_test_read_vector(GOLDEN, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(all);
	for (p = all; n > 0; n--) {
		p = strchr(p, '\n');
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		p++;
	}
	nl = strchr(p, '\n');
	CU_ASSERT_PTR_NOT_NULL_FATAL(nl);
	out = rcpt_strndup(p, (size_t)(nl - p));
	free(all);
	return out;
}

static void
sha256_hex(const char *text, char out[65])
{
	uint8_t h[32];

	SHA256((const unsigned char *)text, strlen(text), h);
	rcpt_hex_encode(h, 32, out);
}

/*
 * The hashes of the first event, recomputed from text written here by
 * hand from SPEC 1: the signed view holds the ten members in JCS order.
 */
static void
test_golden_hashes_by_hand(void)
{
	static const char data_jcs[] =
	    "{\"amount\":12.5,\"id\":42,\"list\":[1,\"two\",3e-7],"
	    "\"nil\":null,\"note\":\"caf\xc3\xa9 \xe2\x98\x95\",\"ok\":true}";
	char dh[65], eh[65], view[1024], *line;
	struct rcpt_receipt r;
	char *sv = NULL;
	size_t n;
	char kid[44], prev[65];

	line = golden_line(1);
	rcpt_receipt_init(&r);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_receipt_parse(line, strlen(line), 256, &r, NULL), RCPT_OK);
	/* data_hash = SHA-256(JCS(data)). */
	sha256_hex(data_jcs, dh);
	CU_ASSERT_PTR_NOT_NULL(strstr(line, dh));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, data_jcs));
	memcpy(kid, r.kid, sizeof(kid));
	rcpt_hex_encode(r.prev_hash, 32, prev);
	snprintf(view, sizeof(view),
	    "{\"chain\":\"golden\",\"data_hash\":\"%s\",\"kid\":\"%s\","
	    "\"prev_hash\":\"%s\",\"seq\":1,\"submitter\":\"alice\","
	    "\"tags\":[\"eu\",\"priority\"],\"ts\":\"2025-01-01T00:00:01."
	    "000Z\","
	    "\"type\":\"order.created\",\"v\":1}",
	    dh, kid, prev);
	sha256_hex(view, eh);
	CU_ASSERT_PTR_NOT_NULL(strstr(line, eh));
	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_signed_view(&r, &sv, &n), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(sv, view);
	free(sv);
	rcpt_receipt_clear(&r);
	free(line);
}

/* Genesis: data exactly {chain, key, origin, sealing}, seq 0, zeros. */
static void
test_golden_genesis_shape(void)
{
	static const char head[] =
	    "{\"chain\":\"golden\",\"data\":{\"chain\":\"golden\","
	    "\"key\":{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"";
	char *line = golden_line(0);

	CU_ASSERT_EQUAL(strncmp(line, head, strlen(head)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(
	    line, "\"origin\":\"log.example.org\",\"sealing\":\"each\"},"));
	CU_ASSERT_PTR_NOT_NULL(strstr(line,
	    "\"prev_hash\":\"00000000000000000000000000000000000000000000000"
	    "00000000000000000\",\"seq\":0,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(line,
	    ",\"submitter\":\"receiptd\",\"tags\":[],\"ts\":\"2025-01-01T00:"
	    "00:00.000Z\",\"type\":\"receiptd.genesis\",\"v\":1}"));
	free(line);
}

/* The clock read earlier: the previous ts is reused (SPEC 1). */
static void
test_golden_ts_never_decreases(void)
{
	char *line = golden_line(3);

	CU_ASSERT_PTR_NOT_NULL(
	    strstr(line, "\"ts\":\"2025-01-01T00:00:02.000Z\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "\"tags\":[\"q\\\"t\\\\\"]"));
	free(line);
}

static void
test_parse_roundtrip(void)
{
	struct rcpt_receipt r;
	char *line, *out = NULL;
	size_t n;
	int i;

	rcpt_receipt_init(&r);
	for (i = 0; i < 4; i++) {
		line = golden_line(i);
		CU_ASSERT_EQUAL_FATAL(
		    rcpt_receipt_parse(line, strlen(line), 256, &r, NULL),
		    RCPT_OK);
		CU_ASSERT_EQUAL(r.seq, (uint64_t)i);
		CU_ASSERT(r.has_signature);
		CU_ASSERT(r.has_data);
		CU_ASSERT_EQUAL_FATAL(
		    rcpt_receipt_serialize(&r, &out, &n), RCPT_OK);
		CU_ASSERT_STRING_EQUAL(out, line);
		free(out);
		free(line);
	}
	rcpt_receipt_clear(&r);
}

/* Replaces the first @p from in golden line @p n by @p to. */
static char *
mutate(int n, const char *from, const char *to)
{
	char *line = golden_line(n), *p, *out;
	size_t fl = strlen(from), tl = strlen(to), ll = strlen(line);

	p = strstr(line, from);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	out = malloc(ll - fl + tl + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	memcpy(out, line, (size_t)(p - line));
	memcpy(out + (p - line), to, tl);
	memcpy(out + (p - line) + tl, p + fl, ll - (size_t)(p - line) - fl + 1);
	free(line);
	return out;
}

/* Parses @p line expecting @p code and a diag containing @p word. */
static void
expect(char *line, int code, const char *word)
{
	struct rcpt_receipt r;
	struct rcpt_diag d = {0};
	int e;

	rcpt_receipt_init(&r);
	e = rcpt_receipt_parse(line, strlen(line), 256, &r, &d);
	CU_ASSERT_EQUAL(e, code);
	if (word != NULL) {
		CU_ASSERT_PTR_NOT_NULL(strstr(rcpt_diag_msg(&d, e), word));
		if (strstr(rcpt_diag_msg(&d, e), word) == NULL)
			fprintf(stderr, "\n  diag \"%s\" lacks \"%s\"\n",
			    rcpt_diag_msg(&d, e), word);
	}
	rcpt_receipt_clear(&r);
	free(line);
}

/* Replaces the value of top-level string member @p key by @p val. */
static char *
set_value(int n, const char *key, const char *val)
{
	char *line = golden_line(n), *p, *e, *out;
	char k[64];

	snprintf(k, sizeof(k), "\"%s\":\"", key);
	p = strstr(line, k);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p += strlen(k) - 1;
	e = strchr(p + 1, '"') + 1;
	out = malloc(strlen(line) + strlen(val) + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	memcpy(out, line, (size_t)(p - line));
	strcpy(out + (p - line), val);
	strcat(out, e);
	free(line);
	return out;
}

/* Inserts @p text just before the first @p at in golden line @p n. */
static char *
insert_before(char *line, const char *at, const char *text)
{
	char *p = strstr(line, at), *out;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	out = malloc(strlen(line) + strlen(text) + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	memcpy(out, line, (size_t)(p - line));
	strcpy(out + (p - line), text);
	strcat(out, p);
	free(line);
	return out;
}

static void
test_refuses_unknown_member(void)
{
	expect(mutate(1, ",\"kid\":", ",\"extra\":1,\"kid\":"), RCPT_E_INVAL,
	    "unknown member \"extra\"");
	expect(mutate(1, "{\"chain\"", "{\"A\":[],\"chain\""), RCPT_E_INVAL,
	    "\"A\"");
}

static void
test_refuses_wrong_types(void)
{
	expect(mutate(1, "\"chain\":\"golden\"", "\"chain\":1"), RCPT_E_INVAL,
	    "chain");
	expect(mutate(1, "\"seq\":1", "\"seq\":\"1\""), RCPT_E_INVAL, "seq");
	expect(mutate(1, "\"seq\":1", "\"seq\":-1"), RCPT_E_INVAL, "seq");
	expect(mutate(1, "\"seq\":1", "\"seq\":1.5"), RCPT_E_INVAL, "seq");
	expect(set_value(1, "ts", "[]"), RCPT_E_INVAL, "ts");
	expect(mutate(1, "\"type\":\"order.created\"", "\"type\":true"),
	    RCPT_E_INVAL, "type");
	expect(mutate(1, "\"tags\":[\"eu\",\"priority\"]", "\"tags\":\"eu\""),
	    RCPT_E_INVAL, "tags");
	expect(mutate(1, "\"tags\":[\"eu\",", "\"tags\":[1,"), RCPT_E_INVAL,
	    "tags[0]");
	expect(mutate(1, "\"submitter\":\"alice\"", "\"submitter\":null"),
	    RCPT_E_INVAL, "submitter");
	expect(mutate(1, "\"submitter\":\"alice\"", "\"submitter\":\"\""),
	    RCPT_E_INVAL, "submitter");
	expect(set_value(1, "data_hash", "{}"), RCPT_E_INVAL, "data_hash");
	expect(set_value(1, "prev_hash", "0"), RCPT_E_INVAL, "prev_hash");
	expect(set_value(1, "entry_hash", "null"), RCPT_E_INVAL, "entry_hash");
	expect(set_value(1, "kid", "false"), RCPT_E_INVAL, "kid");
	expect(
	    set_value(1, "signature", "[\"00\"]"), RCPT_E_INVAL, "signature");
	expect(set_value(1, "chain", "{\"a\":1}"), RCPT_E_INVAL, "chain");
	expect(mutate(1, "\"v\":1", "\"v\":\"1\""), RCPT_E_INVAL, "v:");
	expect(mutate(1, "\"v\":1", "\"v\":2"), RCPT_E_INVAL, "v:");
}

/* Replaces the 64 hex digits after @p key with @p hex. */
static char *
with_hash(int n, const char *key, const char *hex)
{
	char *line = golden_line(n), *p, *out;

	p = strstr(line, key);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p += strlen(key);
	out = malloc(strlen(line) + strlen(hex) + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	memcpy(out, line, (size_t)(p - line));
	strcpy(out + (p - line), hex);
	strcat(out, p + 64);
	free(line);
	return out;
}

static void
test_refuses_bad_hex(void)
{
	static const char upper[] =
	    "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
	static const char short_[] =
	    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef01234567";

	expect(
	    with_hash(1, "\"data_hash\":\"", upper), RCPT_E_INVAL, "data_hash");
	expect(with_hash(1, "\"entry_hash\":\"", short_), RCPT_E_INVAL,
	    "entry_hash");
	expect(
	    with_hash(1, "\"prev_hash\":\"", upper), RCPT_E_INVAL, "prev_hash");
	expect(mutate(1, "\"kid\":\"", "\"kid\":\"A"), RCPT_E_INVAL, "kid");
	expect(mutate(1, "\"signature\":\"", "\"signature\":\"00"),
	    RCPT_E_INVAL, "signature");
}

static void
test_refuses_bad_ts(void)
{
	expect(mutate(1, "\"ts\":\"2025-01-01T00:00:01.000Z\"",
	           "\"ts\":\"2025-02-30T00:00:01.000Z\""),
	    RCPT_E_INVAL, "ts");
	expect(mutate(1, "\"ts\":\"2025-01-01T00:00:01.000Z\"",
	           "\"ts\":\"2025-01-01T00:00:60.000Z\""),
	    RCPT_E_INVAL, "ts");
	expect(mutate(1, "\"ts\":\"2025-01-01T00:00:01.000Z\"",
	           "\"ts\":\"2025-01-01T00:00:01Z\""),
	    RCPT_E_INVAL, "ts");
}

static void
test_refuses_bad_chain_and_type(void)
{
	expect(mutate(1, "\"chain\":\"golden\"", "\"chain\":\"Golden\""),
	    RCPT_E_INVAL, "chain");
	expect(mutate(1, "\"chain\":\"golden\"", "\"chain\":\"-golden\""),
	    RCPT_E_INVAL, "chain");
	expect(mutate(1, "\"type\":\"order.created\"",
	           "\"type\":\"order created\""),
	    RCPT_E_INVAL, "type");
	expect(mutate(1, "\"type\":\"order.created\"", "\"type\":\"\""),
	    RCPT_E_INVAL, "type");
	expect(mutate(1, "\"type\":\"order.created\"",
	           "\"type\":\"order/created\""),
	    RCPT_E_INVAL, "type");
}

static char *
tags_of(const char *tags)
{
	return mutate(1, "\"tags\":[\"eu\",\"priority\"]", tags);
}

static void
test_tag_rules(void)
{
	char t[2048], *p;
	int i;

	/* 128 code points (each 2 bytes) pass; 129 do not. */
	p = t + sprintf(t, "\"tags\":[\"");
	for (i = 0; i < 128; i++)
		p += sprintf(p, "\xc3\xa9");
	strcpy(p, "\"]");
	expect(tags_of(t), RCPT_OK, NULL);
	strcpy(p, "\xc3\xa9\"]");
	expect(tags_of(t), RCPT_E_INVAL, "tags[0]");
	/* U+0085 (NEL) is a C1 control, U+007F too. */
	expect(tags_of("\"tags\":[\"a\xc2\x85\"]"), RCPT_E_INVAL, "tags[0]");
	expect(tags_of("\"tags\":[\"ok\",\"\x7f\"]"), RCPT_E_INVAL, "tags[1]");
	expect(tags_of("\"tags\":[\"\"]"), RCPT_E_INVAL, "tags[0]");
	/* 32 items pass, 33 do not. */
	p = t + sprintf(t, "\"tags\":[");
	for (i = 0; i < 32; i++)
		p += sprintf(p, "%s\"t\"", i > 0 ? "," : "");
	strcpy(p, "]");
	expect(tags_of(t), RCPT_OK, NULL);
	strcpy(p, ",\"t\"]");
	expect(tags_of(t), RCPT_E_INVAL, "tags");
	/* A noncharacter is not I-JSON. */
	expect(tags_of("\"tags\":[\"\xef\xbf\xbf\"]"), RCPT_E_INVAL, "tags");
}

static void
test_refuses_non_canonical(void)
{
	expect(mutate(1, "\"chain\":\"golden\"", "\"chain\": \"golden\""),
	    RCPT_E_PARSE, "line is not canonical JSON (JCS)");
	expect(
	    mutate(1, "\"v\":1}", "\"v\":1.0}"), RCPT_E_PARSE, "not canonical");
	expect(
	    mutate(1, "\"v\":1}", "\"v\":1}\n"), RCPT_E_PARSE, "not canonical");
	expect(mutate(1, "\"amount\":12.5", "\"amount\":12.50"), RCPT_E_PARSE,
	    "not canonical");
	expect(mutate(1, "\"list\":[1,\"two\",3e-7]",
	           "\"list\":[1,\"two\","
	           "3E-7]"),
	    RCPT_E_PARSE, "not canonical");
	expect(mutate(1, "caf\xc3\xa9", "caf\\u00e9"), RCPT_E_PARSE,
	    "not canonical");
	expect(mutate(3, "\"q\\\"t", "\"q\\u0022t"), RCPT_E_PARSE,
	    "not canonical");
	expect(mutate(3, "\"q\\\"t", "\"q\\/t"), RCPT_E_PARSE, "not canonical");
	/* Members out of order: "amount" moved after "id". */
	expect(mutate(1, "{\"amount\":12.5,\"id\":42,",
	           "{\"id\":42,\"amount\""
	           ":12.5,"),
	    RCPT_E_PARSE, "not canonical");
	/* Top-level members out of order: v first. */
	expect(mutate(1, "{\"chain\":\"golden\",",
	           "{\"v\":1,\"chain\":"
	           "\"golden\","),
	    RCPT_E_PARSE, "not canonical");
	/* Duplicate member. */
	expect(mutate(1, "\"chain\":\"golden\",",
	           "\"chain\":\"golden\","
	           "\"chain\":\"golden\","),
	    RCPT_E_PARSE, "not canonical");
	expect(mutate(1, "{", "\xef\xbb\xbf{"), RCPT_E_PARSE, "not canonical");
	/* Non-canonical wins over a member rule earlier in the line. */
	expect(
	    mutate(1, "\"v\":1}", "\"v\":2 }"), RCPT_E_PARSE, "not canonical");
}

static void
test_data_and_pruned_at(void)
{
	static const char pa[] = ",\"pruned_at\":\"2025-06-01T00:00:00.000Z\"";
	struct rcpt_receipt r;
	char *q, *out = NULL;
	size_t n;

	/* Pruned form: data removed, pruned_at added. */
	q = insert_before(
	    mutate(2, "\"data\":\"shipped\",", ""), ",\"seq\":", pa);
	rcpt_receipt_init(&r);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_receipt_parse(q, strlen(q), 256, &r, NULL), RCPT_OK);
	CU_ASSERT(!r.has_data);
	CU_ASSERT_STRING_EQUAL(r.pruned_at, "2025-06-01T00:00:00.000Z");
	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_serialize(&r, &out, &n), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(out, q);
	free(out);
	rcpt_receipt_clear(&r);
	free(q);
	/* Both present. */
	expect(insert_before(golden_line(2), ",\"seq\":", pa), RCPT_E_INVAL,
	    "pruned_at");
	/* Both absent. */
	expect(mutate(2, "\"data\":\"shipped\",", ""), RCPT_E_INVAL, "data");
	/* Bad pruned_at. */
	expect(insert_before(mutate(2, "\"data\":\"shipped\",", ""),
	           ",\"seq\":", ",\"pruned_at\":\"2025-06-31T00:00:00.000Z\""),
	    RCPT_E_INVAL, "pruned_at");
}

static void
test_missing_members_and_unsigned(void)
{
	struct rcpt_receipt r;
	char *p, *q;

	expect(mutate(1, "\"submitter\":\"alice\",", ""), RCPT_E_INVAL,
	    "submitter: missing");
	/* Without signature it parses (SPEC 1.2 decides elsewhere). */
	p = golden_line(1);
	q = strstr(p, ",\"signature\":\"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	memmove(q, q + 14 + 128 + 1, strlen(q + 14 + 128 + 1) + 1);
	rcpt_receipt_init(&r);
	CU_ASSERT_EQUAL(
	    rcpt_receipt_parse(p, strlen(p), 256, &r, NULL), RCPT_OK);
	CU_ASSERT(!r.has_signature);
	rcpt_receipt_clear(&r);
	free(p);
}

static void
test_data_depth(void)
{
	char d[700], *p = d;
	int i;

	for (i = 0; i < 3; i++)
		*p++ = '[';
	for (i = 0; i < 3; i++)
		*p++ = ']';
	*p = '\0';
	{
		struct rcpt_receipt r;
		struct rcpt_diag dg = {0};
		char *line =
		    mutate(2, "\"data\":\"shipped\"", "\"data\":[[[]]]");

		rcpt_receipt_init(&r);
		CU_ASSERT_EQUAL(
		    rcpt_receipt_parse(line, strlen(line), 2, &r, &dg),
		    RCPT_E_TOO_LARGE);
		CU_ASSERT_PTR_NOT_NULL(strstr(dg.msg, "data"));
		CU_ASSERT_EQUAL(
		    rcpt_receipt_parse(line, strlen(line), 3, &r, NULL),
		    RCPT_OK);
		rcpt_receipt_clear(&r);
		free(line);
	}
}

/* Fields every build test starts from: a valid receipt with null data. */
static void
base_fields(struct rcpt_receipt_fields *f)
{
	memset(f, 0, sizeof(*f));
	f->chain = "c";
	f->ts = "2025-01-01T00:00:00.000Z";
	f->type = "t";
	f->submitter = "s";
	f->kid = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
}

/* Parses @p line, which must pass, and checks it serializes back. */
static void
roundtrip(char *line, struct rcpt_receipt *r)
{
	char *out = NULL;
	size_t n = 0;

	CU_ASSERT_EQUAL_FATAL(
	    rcpt_receipt_parse(line, strlen(line), 256, r, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_serialize(r, &out, &n), RCPT_OK);
	CU_ASSERT_EQUAL(n, strlen(line));
	CU_ASSERT_STRING_EQUAL(out, line);
	free(out);
	free(line);
}

static void
test_parse_reads_values(void)
{
	struct rcpt_receipt_view vw;
	struct rcpt_receipt r;
	json_object *v;
	char *line;

	rcpt_receipt_init(&r);
	/* Escaped submitter text comes back unescaped, and is escaped again. */
	roundtrip(mutate(1, "\"submitter\":\"alice\"",
	              "\"submitter\":\"a\\u0001\\n\\\"\\\\\xc3\xa9\""),
	    &r);
	CU_ASSERT_STRING_EQUAL(r.submitter, "a\x01\n\"\\\xc3\xa9");
	/* JCS writes 1e20 as an integer beyond 2^53; it reads back. */
	roundtrip(mutate(2, "\"data\":\"shipped\"",
	              "\"data\":{\"n\":100000000000000000000}"),
	    &r);
	CU_ASSERT_FATAL(json_object_object_get_ex(r.data, "n", &v));
	CU_ASSERT(json_object_is_type(v, json_type_double));
	CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(v), 1e20, 0.0);
	/* Tags keep their order and escapes. */
	roundtrip(tags_of("\"tags\":[\"b\",\"a\\\\\"]"), &r);
	CU_ASSERT_EQUAL(json_object_array_length(r.tags), 2);
	CU_ASSERT_STRING_EQUAL(
	    json_object_get_string(json_object_array_get_idx(r.tags, 1)),
	    "a\\");
	rcpt_receipt_clear(&r);
	/* U+0000 is canonical JSON but cannot live in a C string or key. */
	line =
	    mutate(1, "\"submitter\":\"alice\"", "\"submitter\":\"a\\u0000\"");
	CU_ASSERT_EQUAL(
	    rcpt_receipt_scan(line, strlen(line), 256, &vw, NULL), RCPT_OK);
	expect(line, RCPT_E_INVAL, "submitter");
	line = mutate(2, "\"data\":\"shipped\"", "\"data\":{\"\\u0000\":1}");
	CU_ASSERT_EQUAL(
	    rcpt_receipt_scan(line, strlen(line), 256, &vw, NULL), RCPT_OK);
	expect(line, RCPT_E_INVAL, "data");
}

static void
test_build_big_number(void)
{
	struct rcpt_receipt_fields f;
	struct rcpt_receipt r;
	json_object *data = parse_json("{\"n\":1e20}"), *v;
	char *out = NULL;
	size_t n = 0;

	base_fields(&f);
	f.submitter = "s\"\\\x01";
	f.data = data;
	rcpt_receipt_init(&r);
	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_build(&f, &r, NULL), RCPT_OK);
	CU_ASSERT_FATAL(json_object_object_get_ex(r.data, "n", &v));
	CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(v), 1e20, 0.0);
	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_serialize(&r, &out, &n), RCPT_OK);
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(out, "\"data\":{\"n\":100000000000000000000}"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(out, "\"submitter\":\"s\\\"\\\\\\u0001\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"tags\":[]"));
	rcpt_receipt_clear(&r);
	CU_ASSERT_EQUAL(rcpt_receipt_parse(out, n, 256, &r, NULL), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(r.submitter, "s\"\\\x01");
	rcpt_receipt_clear(&r);
	free(out);
	json_object_put(data);
}

static void
test_build_refusals(void)
{
	struct rcpt_receipt_fields f;
	struct rcpt_receipt r;
	struct rcpt_diag d;
	char big[300];

	base_fields(&f);
	rcpt_receipt_init(&r);
	CU_ASSERT_EQUAL(rcpt_receipt_build(&f, &r, NULL), RCPT_OK);
	f.type = "receiptd.anything"; /* build does not judge reserved */
	CU_ASSERT_EQUAL(rcpt_receipt_build(&f, &r, NULL), RCPT_OK);
	f.type = "bad type";
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_receipt_build(&f, &r, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "type"));
	f.type = "t";
	memset(big, 'a', 257);
	big[257] = '\0';
	f.submitter = big;
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_receipt_build(&f, &r, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "submitter"));
	big[256] = '\0';
	CU_ASSERT_EQUAL(rcpt_receipt_build(&f, &r, NULL), RCPT_OK);
	f.submitter = "s";
	f.kid = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4l"; /* bits */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_receipt_build(&f, &r, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "kid"));
	rcpt_receipt_clear(&r);
}

static void
test_build_data_limit(void)
{
	struct rcpt_receipt_fields f;
	struct rcpt_receipt r;
	struct rcpt_diag d = {0};
	json_object *s = json_object_new_string("0123456789");

	base_fields(&f);
	f.data = s;
	f.data_max = 12;
	rcpt_receipt_init(&r);
	CU_ASSERT_EQUAL(rcpt_receipt_build(&f, &r, NULL), RCPT_OK);
	f.data_max = 11;
	CU_ASSERT_EQUAL(rcpt_receipt_build(&f, &r, &d), RCPT_E_TOO_LARGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "data"));
	rcpt_receipt_clear(&r);
	json_object_put(s);
}

static void
test_reserved_type_helpers(void)
{
	CU_ASSERT(rcpt_receipt_type_is_reserved("receiptd.x"));
	CU_ASSERT(rcpt_receipt_type_is_reserved("ReceiptD.genesis"));
	CU_ASSERT(!rcpt_receipt_type_is_reserved("receiptd"));
	CU_ASSERT(!rcpt_receipt_type_is_reserved("xreceiptd.genesis"));
	CU_ASSERT(rcpt_receipt_chain_is_valid("a"));
	CU_ASSERT(
	    rcpt_receipt_chain_is_valid("a1234567890123456789012345678901234567"
	                                "89012345678901234567890123"));
	CU_ASSERT(
	    !rcpt_receipt_chain_is_valid("a123456789012345678901234567890123456"
	                                 "7890123456789012345678901234"));
	CU_ASSERT(!rcpt_receipt_chain_is_valid(""));
	CU_ASSERT(!rcpt_receipt_chain_is_valid("_a"));
	/* The _len forms read only @p len bytes and need no NUL. */
	CU_ASSERT(rcpt_receipt_chain_is_valid_len("abcX", 3));
	CU_ASSERT(!rcpt_receipt_chain_is_valid_len("abcX", 4));
	CU_ASSERT(!rcpt_receipt_chain_is_valid_len("abc", 0));
	CU_ASSERT(!rcpt_receipt_chain_is_valid_len("a\0b", 3));
	CU_ASSERT(rcpt_receipt_type_is_valid_len("order.created ", 13));
	CU_ASSERT(!rcpt_receipt_type_is_valid_len("order.created ", 14));
	CU_ASSERT(!rcpt_receipt_type_is_valid_len("t", 0));
	CU_ASSERT(!rcpt_receipt_type_is_valid_len("a\0b", 3));
	{
		char t[130];

		memset(t, 'x', sizeof(t));
		CU_ASSERT(rcpt_receipt_type_is_valid_len(t, 128));
		CU_ASSERT(!rcpt_receipt_type_is_valid_len(t, 129));
	}
	CU_ASSERT(
	    rcpt_receipt_type_is_defined_reserved("receiptd.genesis", 16));
	CU_ASSERT(
	    !rcpt_receipt_type_is_defined_reserved("receiptd.genesis", 15));
	CU_ASSERT(
	    !rcpt_receipt_type_is_defined_reserved("Receiptd.genesis", 16));
}

/* Spans compare by length: U+0000 or a longer text never matches. */
static void
test_span_is(void)
{
	struct rcpt_receipt_span sp;

	sp.p = "\"receiptd\"";
	sp.len = strlen(sp.p);
	CU_ASSERT(rcpt_receipt_span_is(&sp, "receiptd"));
	CU_ASSERT(!rcpt_receipt_span_is(&sp, "receipt"));
	CU_ASSERT(!rcpt_receipt_span_is(&sp, "receiptd2"));
	sp.p = "\"receiptd\\u0000\"";
	sp.len = strlen(sp.p);
	CU_ASSERT(!rcpt_receipt_span_is(&sp, "receiptd"));
	/* Only the bytes of the span count, not what follows it. */
	sp.p = "\"ab\"cd";
	sp.len = 4;
	CU_ASSERT(rcpt_receipt_span_is(&sp, "ab"));
	CU_ASSERT(!rcpt_receipt_span_is(&sp, "ab\"cd"));
	/* A number is no string, whatever its bytes. */
	sp.p = "12";
	sp.len = 2;
	CU_ASSERT(!rcpt_receipt_span_is(&sp, ""));
}

static void
test_build_out_of_memory(void)
{
	struct rcpt_buf all = {0};
	struct rcpt_receipt_fields f;
	struct rcpt_receipt r;
	json_object *data = parse_json("{\"a\":[1,2,{\"b\":\"c\"}]}");
	json_object *tags = parse_json("[\"x\",\"y\"]");
	char *line = golden_line(1);
	long n;
	int e;

	base_fields(&f);
	f.data = data;
	f.tags = tags;
	rcpt_receipt_init(&r);
	for (n = 0; n < 1000; n++) {
		rcpt_mem_fail_after(n);
		e = rcpt_receipt_build(&f, &r, NULL);
		rcpt_mem_fail_after(-1);
		if (e == RCPT_OK)
			break;
		CU_ASSERT_EQUAL(e, RCPT_E_NOMEM);
	}
	CU_ASSERT_EQUAL(e, RCPT_OK);
	CU_ASSERT(n > 0);
	for (n = 0; n < 1000; n++) {
		rcpt_mem_fail_after(n);
		e = rcpt_receipt_parse(line, strlen(line), 256, &r, NULL);
		rcpt_mem_fail_after(-1);
		if (e == RCPT_OK)
			break;
		CU_ASSERT_EQUAL(e, RCPT_E_NOMEM);
	}
	CU_ASSERT_EQUAL(e, RCPT_OK);
	rcpt_receipt_clear(&r);
	rcpt_buf_clear(&all);
	json_object_put(data);
	json_object_put(tags);
	free(line);
}

static CU_TestInfo golden_tests[] = {
    {"golden receipts match byte for byte", test_golden_bytes},
    {"hashes match literal signed view", test_golden_hashes_by_hand},
    {"genesis has the SPEC 4 shape", test_golden_genesis_shape},
    {"ts never decreases", test_golden_ts_never_decreases},
    {"parse then serialize gives the line", test_parse_roundtrip},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo parse_tests[] = {
    {"refuses unknown member", test_refuses_unknown_member},
    {"refuses wrong types", test_refuses_wrong_types},
    {"refuses bad hex", test_refuses_bad_hex},
    {"refuses bad TS", test_refuses_bad_ts},
    {"refuses bad chain and type", test_refuses_bad_chain_and_type},
    {"tag rules", test_tag_rules},
    {"refuses non-canonical lines", test_refuses_non_canonical},
    {"data exactly when not pruned", test_data_and_pruned_at},
    {"missing members, unsigned", test_missing_members_and_unsigned},
    {"data depth limit", test_data_depth},
    {"parse reads escapes, big numbers, U+0000", test_parse_reads_values},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo build_tests[] = {
    {"build refusals", test_build_refusals},
    {"data size limit", test_build_data_limit},
    {"build keeps big numbers and escapes", test_build_big_number},
    {"reserved type and chain helpers", test_reserved_type_helpers},
    {"span comparison is length-exact", test_span_is},
    {"out of memory on build and parse", test_build_out_of_memory},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "golden", .pTests = golden_tests},
    {.pName = "parse", .pTests = parse_tests},
    {.pName = "build", .pTests = build_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return rcpt_test_run(suites);
}
