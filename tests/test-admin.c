/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of receiptctl's offline administration commands (cli-admin.c),
 * run as a program: each test spawns the built binary (RECEIPTCTL) on a
 * store in a temporary directory, first with the software provider
 * (fast), then with the pkcs11 provider on a throw-away SoftHSM token.
 * What they write is checked with receiptctl's own `verify`, which
 * knows nothing of the store.  The tests of one suite run in order and
 * share its store, as an operator's commands would.
 */
#include "config.h"

#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "keystore/keystore.h"
#include "receipt.h"
#include "softhsm.h"
#include "testlib.h"

#define PKCS11_SO PROVIDERS_BUILDDIR "/provider-pkcs11.so"
#define ORIGIN    "example.org/receiptd"
#define FUTURE    "2999-01-01T00:00:00.000Z"
#define ARGS_MAX  RCPT_TEST_ARGS_MAX
#define SOFT_WARN "provider software: signing keys are plain files"

static char *tmp;                  /* per-suite scratch directory */
static struct rcpt_test_token tok; /* the SoftHSM token, if any */
static int tok_status = -1;        /* rcpt_test_token_new() result */

/* The provider and store the admin() helper passes. */
static struct {
	const char *store;
	const char *provider;
	char config[8192];
	char pdir[4096]; /* "" for the built-in software provider */
} cur;

/* The four events of conf/sample-events.jsonl. */
static const struct sample {
	const char *type, *tag1, *tag2, *data;
} samples[] = {
    {"ai.inference", "credit-scoring", "model:risk-v7",
        "{\"model\":\"risk-v7\",\"model_version\":\"7.2.1\","
        "\"input_sha256\":\"9f2c4e1a7b3d5f60812e4a9c0b7d3e5f1a2c4b6d8e0f1"
        "a3c5b7d9e1f3a5c7b9d\",\"decision\":\"decline\",\"score\":0.183,"
        "\"explanation_ref\":\"xai/2026/11/21/8841\"}"},
    {"soc2.access", "soc2", "CC6.1",
        "{\"actor\":\"alice@example.com\",\"action\":\"read\","
        "\"resource\":\"s3://prod-customer-exports/2026-11.csv\","
        "\"result\":\"allowed\",\"mfa\":true,\"source_ip\":\"203.0.113.7\"}"},
    {"agent.decision", "agent:procure-bot", "tool-call",
        "{\"agent\":\"procure-bot\",\"run_id\":\"run-5c1f\",\"step\":4,"
        "\"tool\":\"purchase_order.create\",\"arguments\":{\"vendor\":"
        "\"ACME GmbH\",\"amount_eur\":1250.5},\"approved_by\":null,"
        "\"policy\":\"auto-approve-under-2000\"}"},
    {"clinical.decision", "triage", "ward:ED",
        "{\"system\":\"triage-assist\",\"version\":\"3.0.4\","
        "\"patient_data_sha256\":\"4b1d3c7e9a2f60815e3d7c9b1a0f2e4d6c8b0a1"
        "f3e5d7c9b2a4f6e8d0c1b3a5f\",\"recommendation\":\"ESI-2\","
        "\"clinician_override\":false,\"salt_note\":\"patient data hashed "
        "with a per-record salt kept in the EHR\"}"},
};

#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

/* Shared by the software suite's tests, which run in order. */
static char kid0[RCPT_KID_LEN + 1], kid1[RCPT_KID_LEN + 1];

/* Spawning receiptctl */

/* A path below the scratch directory, or NULL; caller frees. */
static char *
join(const char *name)
{
	return rcpt_test_join(tmp, name);
}

/* join(), inside a test. */
static char *
tpath(const char *name)
{
	char *p = join(name);

	CU_ASSERT_FATAL(p != NULL);
	return p;
}

/* Runs receiptctl with @p args (NULL-terminated), stdin @p in_text. */
static void
run_cli(struct rcpt_test_proc *r, const char *in_text, const char *const *args)
{
	char *in = tpath(".stdin");

	CU_ASSERT_FATAL(rcpt_test_write_file(in, in_text ? in_text : "",
	                    in_text ? strlen(in_text) : 0) == 0);
	CU_ASSERT_FATAL(rcpt_test_spawn(r, RECEIPTCTL, tmp, in, args) == 0);
	/* A sanitizer's exit status could pass for a refusal: look. */
	if (strstr(r->err, "Sanitizer") != NULL ||
	    strstr(r->err, "runtime error:") != NULL) {
		fprintf(stderr, "\n%s: %s\n", args[0], r->err);
		CU_FAIL("receiptctl reported a sanitizer error");
	}
	free(in);
}

/*
 * Runs `receiptctl CMD --store S --provider P --provider-config C
 * [--providers-dir D] ARGS...` (ARGS NULL-terminated) on `cur`.
 */
static void
admin(struct rcpt_test_proc *r, const char *in_text, const char *cmd, ...)
{
	const char *args[ARGS_MAX + 1];
	const char *s;
	size_t n = 0;
	va_list ap;

	args[n++] = cmd;
	args[n++] = "--store";
	args[n++] = cur.store;
	args[n++] = "--provider";
	args[n++] = cur.provider;
	args[n++] = "--provider-config";
	args[n++] = cur.config;
	if (cur.pdir[0] != '\0') {
		args[n++] = "--providers-dir";
		args[n++] = cur.pdir;
	}
	va_start(ap, cmd);
	while ((s = va_arg(ap, const char *)) != NULL && n < ARGS_MAX)
		args[n++] = s;
	va_end(ap);
	args[n] = NULL;
	run_cli(r, in_text, args);
}

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Asserts exit @p status and that stderr holds @p what; clears @p r. */
static void
expect_fail(struct rcpt_test_proc *r, int status, const char *what)
{
	CU_ASSERT_EQUAL(r->status, status);
	CU_ASSERT_PTR_NOT_NULL(strstr(r->err, what));
	if (r->status != status || strstr(r->err, what) == NULL)
		fprintf(stderr, "\nwanted %d \"%s\", got %d: %s\n", status,
		    what, r->status, r->err);
	rcpt_test_proc_clear(r);
}

/* Parsing output */

/* Line @p i (from 0) of @p text as JSON; NULL if missing or not JSON. */
static json_object *
line_json(const char *text, size_t i)
{
	const char *p = text, *nl;
	json_object *o;
	char *line;

	for (; i > 0 && p != NULL; i--)
		p = (nl = strchr(p, '\n')) != NULL ? nl + 1 : NULL;
	if (p == NULL || *p == '\0')
		return NULL;
	nl = strchr(p, '\n');
	line = strndup(p, nl != NULL ? (size_t)(nl - p) : strlen(p));
	CU_ASSERT_FATAL(line != NULL);
	o = json_tokener_parse(line);
	free(line);
	return o;
}

/* Member @p key of @p o as a string, or "" when absent. */
static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

static int64_t
jint(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return -1;
	return json_object_get_int64(v);
}

static json_object *
jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

/* The login name the commands default to. */
static const char *
login_name(void)
{
	struct passwd *pw = getpwuid(geteuid());

	CU_ASSERT_FATAL(pw != NULL);
	return pw->pw_name;
}

/* Appends sample @p i to @p chain; checks and returns the receipt. */
static json_object *
append_sample(const char *chain, size_t i, int64_t seq)
{
	const struct sample *s = &samples[i];
	json_object *rec, *want = json_tokener_parse(s->data);
	char *file = NULL;
	struct rcpt_test_proc r;

	CU_ASSERT_FATAL(want != NULL);
	/* Each way in: DATA, --data-file and stdin. */
	if (i % 3 == 0) {
		admin(&r, NULL, "append", "--chain", chain, "--type", s->type,
		    "--tag", s->tag1, "--tag", s->tag2, "--submitter",
		    "svc-risk", s->data, (char *)NULL);
	} else if (i % 3 == 1) {
		file = tpath("data.json");
		CU_ASSERT_FATAL(
		    rcpt_test_write_file(file, s->data, strlen(s->data)) == 0);
		admin(&r, NULL, "append", "--chain", chain, "--type", s->type,
		    "--tag", s->tag1, "--tag", s->tag2, "--data-file", file,
		    (char *)NULL);
	} else {
		admin(&r, s->data, "append", "--chain", chain, "--type",
		    s->type, "--tag", s->tag1, "--tag", s->tag2, "-",
		    (char *)NULL);
	}
	CU_ASSERT_EQUAL(r.status, 0);
	if (r.status != 0)
		fprintf(stderr, "\nappend: %s\n", r.err);
	rec = line_json(r.out, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(line_json(r.out, 1));
	CU_ASSERT_EQUAL(jint(rec, "seq"), seq);
	CU_ASSERT_STRING_EQUAL(jstr(rec, "type"), s->type);
	CU_ASSERT_STRING_EQUAL(
	    jstr(rec, "submitter"), i % 3 == 0 ? "svc-risk" : login_name());
	CU_ASSERT(json_object_equal(jget(rec, "data"), want));
	CU_ASSERT_EQUAL(json_object_array_length(jget(rec, "tags")), 2);
	CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(
	                           jget(rec, "tags"), 1)),
	    s->tag2);
	json_object_put(want);
	rcpt_test_proc_clear(&r);
	free(file);
	return rec;
}

/* Runs `receiptctl verify [--trust KEYS] FILE`; returns its stdout. */
static char *
verify(const char *file, const char *keys, int want_status)
{
	const char *with[] = {"verify", "--trust", keys, file, NULL};
	const char *without[] = {"verify", file, NULL};
	struct rcpt_test_proc r;
	char *out;

	run_cli(&r, NULL, keys != NULL ? with : without);
	CU_ASSERT_EQUAL(r.status, want_status);
	if (r.status != want_status)
		fprintf(stderr, "\nverify: %s%s\n", r.out, r.err);
	out = r.out;
	r.out = NULL;
	rcpt_test_proc_clear(&r);
	return out;
}

/* Writes `keys` and `export-chain` output for @p chain to files. */
static void export(const char *chain, const char *keys_file, const char *jsonl)
{
	struct rcpt_test_proc r;

	run_cli(&r, NULL,
	    (const char *const[]){"keys", "--store", cur.store, NULL});
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	CU_ASSERT_FATAL(rcpt_test_write_file(keys_file, r.out, r.out_len) == 0);
	rcpt_test_proc_clear(&r);
	unlink(jsonl);
	run_cli(&r, NULL,
	    (const char *const[]){"export-chain", "--chain", chain, "--store",
	        cur.store, "--out", jsonl, NULL});
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	rcpt_test_proc_clear(&r);
}

/* Suites */

static int
soft_init(void)
{
	char *keys;

	if (access(RECEIPTCTL, X_OK) != 0) {
		fprintf(stderr, "%s: not built\n", RECEIPTCTL);
		return -1;
	}
	if ((tmp = rcpt_test_mkdtemp()) == NULL)
		return -1;
	if ((keys = join("keys")) == NULL || mkdir(keys, 0700) != 0 ||
	    (cur.store = join("store")) == NULL) {
		free(keys);
		return -1;
	}
	cur.provider = "software";
	(void)snprintf(cur.config, sizeof(cur.config), "%s", keys);
	cur.pdir[0] = '\0';
	free(keys);
	return 0;
}

static int
suite_clean(void)
{
	free((char *)cur.store);
	memset(&cur, 0, sizeof(cur));
	if (tmp != NULL)
		rcpt_test_rmdir(tmp);
	free(tmp);
	tmp = NULL;
	return 0;
}

/* Software provider: the life of one chain */

static void
test_chain_create(void)
{
	char line2[64];
	json_object *g;
	struct rcpt_test_proc r;

	admin(&r, NULL, "chain-create", "--chain", "demo", "--origin", ORIGIN,
	    (char *)NULL);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	g = line_json(r.out, 0);
	CU_ASSERT_STRING_EQUAL(jstr(g, "type"), "receiptd.genesis");
	CU_ASSERT_EQUAL(jint(g, "seq"), 0);
	CU_ASSERT_STRING_EQUAL(jstr(g, "submitter"), "receiptd");
	CU_ASSERT_STRING_EQUAL(jstr(jget(g, "data"), "origin"), ORIGIN);
	CU_ASSERT_STRING_EQUAL(jstr(jget(g, "data"), "sealing"), "each");
	/* Then the kid alone on the second line. */
	(void)snprintf(kid0, sizeof(kid0), "%s", jstr(g, "kid"));
	CU_ASSERT_EQUAL(strlen(kid0), RCPT_KID_LEN);
	(void)snprintf(line2, sizeof(line2), "}\n%s\n", kid0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, line2));
	CU_ASSERT_EQUAL(
	    r.out_len, strstr(r.out, line2) - r.out + strlen(line2));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, SOFT_WARN));
	json_object_put(g);
	rcpt_test_proc_clear(&r);

	/* The first checkpoint made the anchor. */
	admin(&r, NULL, "anchor-check", "--chain", "demo", (char *)NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "anchor: store of size 1 extends the "
	                              "token's anchor of size 1\n");
	rcpt_test_proc_clear(&r);

	admin(&r, NULL, "chain-create", "--chain", "demo", "--origin", ORIGIN,
	    (char *)NULL);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	expect_fail(&r, 1, "receiptctl chain-create: chain demo: exists");
}

static void
test_append_samples(void)
{
	for (size_t i = 0; i < NSAMPLES; i++) {
		json_object *rec = append_sample("demo", i, (int64_t)i + 1);

		CU_ASSERT_STRING_EQUAL(jstr(rec, "kid"), kid0);
		json_object_put(rec);
	}
}

static void
test_append_refusals(void)
{
	char deep[200] = "", *big, *file = tpath("big.json");
	size_t n = RCPT_DATA_MAX_DEFAULT + 16;
	struct rcpt_test_proc r;

	admin(&r, NULL, "append", "--chain", "demo", "--type", "receiptd.x",
	    "{}", (char *)NULL);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	expect_fail(&r, 1, "receiptctl append: --type: names starting with");
	admin(&r, NULL, "append", "--chain", "demo", "--type",
	    "ReceiptD.genesis", (char *)NULL);
	expect_fail(&r, 1, "reserved");
	admin(&r, NULL, "append", "--chain", "demo", "--type", "bad type",
	    (char *)NULL);
	expect_fail(&r, 1, "type");

	/* I-JSON: duplicate names, grammar, depth, size. */
	admin(&r, NULL, "append", "--chain", "demo", "--type", "t",
	    "{\"a\":1,\"a\":2}", (char *)NULL);
	expect_fail(&r, 1, "receiptctl append: data");
	admin(&r, NULL, "append", "--chain", "demo", "--type", "t", "[1,",
	    (char *)NULL);
	expect_fail(&r, 1, "receiptctl append: data");
	admin(&r, NULL, "append", "--chain", "demo", "--type", "t",
	    "9007199254740993", (char *)NULL);
	expect_fail(&r, 1, "receiptctl append: data");
	for (size_t i = 0; i < 65; i++)
		strcat(deep, "[");
	for (size_t i = 0; i < 65; i++)
		strcat(deep, "]");
	admin(&r, NULL, "append", "--chain", "demo", "--type", "t", deep,
	    (char *)NULL);
	expect_fail(&r, 1, "receiptctl append: data");
	big = malloc(n + 1);
	CU_ASSERT_FATAL(big != NULL);
	memset(big, 'x', n);
	big[0] = big[n - 1] = '"';
	CU_ASSERT_FATAL(rcpt_test_write_file(file, big, n) == 0);
	admin(&r, NULL, "append", "--chain", "demo", "--type", "t",
	    "--data-file", file, (char *)NULL);
	expect_fail(&r, 1, "data");
	free(big);

	/* Tags are checked as receipts require (SPEC 1). */
	admin(&r, NULL, "append", "--chain", "demo", "--type", "t", "--tag", "",
	    (char *)NULL);
	expect_fail(&r, 1, "tags[0]");

	/* Usage. */
	admin(&r, NULL, "append", "--chain", "demo", "--type", "t",
	    "--data-file", file, "{}", (char *)NULL);
	expect_fail(&r, 2, "DATA and --data-file exclude each other");
	admin(&r, NULL, "append", "--chain", "demo", "--type", "t", "1", "2",
	    (char *)NULL);
	expect_fail(&r, 2, "takes one DATA operand at most");
	admin(&r, NULL, "append", "--chain", "demo", (char *)NULL);
	expect_fail(&r, 2, "--type is required");
	admin(&r, NULL, "append", "--chain", "nosuch", "--type", "t",
	    (char *)NULL);
	expect_fail(&r, 2, "receiptctl append: ");
	free(file);
}

static void
test_rotate_with_ceremony(void)
{
	json_object *rec, *want, *next;
	const char *w17[ARGS_MAX];
	struct rcpt_test_proc r;
	size_t n = 0;

	admin(&r, NULL, "rotate", "--chain", "demo", "--reason",
	    "scheduled rotation", "--operator", "alice", "--witness", "bob",
	    "--witness", "carol", "--token-serial", "SN-0042", "--admin",
	    "ops-admin", (char *)NULL);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	rec = line_json(r.out, 0);
	CU_ASSERT_PTR_NULL(line_json(r.out, 1));
	CU_ASSERT_STRING_EQUAL(jstr(rec, "type"), "receiptd.key_rotation");
	CU_ASSERT_EQUAL(jint(rec, "seq"), 5);
	CU_ASSERT_STRING_EQUAL(jstr(rec, "kid"), kid0);
	CU_ASSERT_STRING_EQUAL(jstr(rec, "submitter"), "ops-admin");
	CU_ASSERT_STRING_EQUAL(
	    jstr(jget(rec, "data"), "reason"), "scheduled rotation");
	want = json_tokener_parse("{\"operator\":\"alice\",\"witnesses\":"
	                          "[\"bob\",\"carol\"],\"token_serial\":"
	                          "\"SN-0042\"}");
	CU_ASSERT(json_object_equal(jget(jget(rec, "data"), "ceremony"), want));
	(void)snprintf(
	    kid1, sizeof(kid1), "%s", jstr(jget(rec, "data"), "new_kid"));
	CU_ASSERT_EQUAL(strlen(kid1), RCPT_KID_LEN);
	CU_ASSERT_STRING_NOT_EQUAL(kid1, kid0);
	json_object_put(want);
	json_object_put(rec);
	rcpt_test_proc_clear(&r);

	/* The new key signs from now on. */
	next = append_sample("demo", 0, 6);
	CU_ASSERT_STRING_EQUAL(jstr(next, "kid"), kid1);
	json_object_put(next);

	/* Refusals: nothing is rotated. */
	admin(&r, NULL, "rotate", "--chain", "demo", (char *)NULL);
	expect_fail(&r, 2, "receiptctl rotate: --reason is required");
	admin(&r, NULL, "rotate", "--chain", "demo", "--reason", "x",
	    "--witness", "a\001b", (char *)NULL);
	expect_fail(&r, 1, "receiptctl rotate: ceremony.witnesses[0]: control");
	admin(&r, NULL, "rotate", "--chain", "demo", "--reason", "x",
	    "--operator", "", (char *)NULL);
	expect_fail(&r, 1, "ceremony.operator: must be 1 to 128");
	w17[n++] = "rotate";
	w17[n++] = "--store";
	w17[n++] = cur.store;
	w17[n++] = "--provider";
	w17[n++] = "software";
	w17[n++] = "--provider-config";
	w17[n++] = cur.config;
	w17[n++] = "--chain=demo";
	w17[n++] = "--reason=x";
	for (int i = 0; i < 17; i++)
		w17[n++] = "--witness=w";
	w17[n] = NULL;
	run_cli(&r, NULL, w17);
	expect_fail(&r, 1, "receiptctl rotate: --witness: given at most 16");
}

static void
test_revoke_future(void)
{
	json_object *rec, *next;
	struct rcpt_test_proc r;

	admin(&r, NULL, "revoke", "--chain", "demo", "--kid", kid1, "--reason",
	    "x", "--effective", FUTURE, (char *)NULL);
	expect_fail(&r, 1,
	    "receiptctl revoke: kid: must be a key this chain "
	    "rotated away from, not its active key");
	admin(&r, NULL, "revoke", "--chain", "demo", "--kid",
	    "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "--reason", "x",
	    "--effective", FUTURE, (char *)NULL);
	expect_fail(&r, 1, "receiptctl revoke: kid: must be a key this chain");
	admin(&r, NULL, "revoke", "--chain", "demo", "--kid", kid0, "--reason",
	    "x", "--effective", "2999-01-01", (char *)NULL);
	expect_fail(&r, 1, "receiptctl revoke: --effective: must be a TS");
	admin(&r, NULL, "revoke", "--chain", "demo", "--kid", kid0, "--reason",
	    "x", (char *)NULL);
	expect_fail(&r, 2, "--effective is required");

	admin(&r, NULL, "revoke", "--chain", "demo", "--kid", kid0, "--reason",
	    "token retired", "--effective", FUTURE, (char *)NULL);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	rec = line_json(r.out, 0);
	CU_ASSERT_STRING_EQUAL(jstr(rec, "type"), "receiptd.key_revocation");
	CU_ASSERT_EQUAL(jint(rec, "seq"), 7);
	CU_ASSERT_STRING_EQUAL(jstr(rec, "kid"), kid1);
	CU_ASSERT_STRING_EQUAL(jstr(rec, "submitter"), login_name());
	CU_ASSERT_STRING_EQUAL(jstr(jget(rec, "data"), "kid"), kid0);
	CU_ASSERT_STRING_EQUAL(jstr(jget(rec, "data"), "effective"), FUTURE);
	json_object_put(rec);
	rcpt_test_proc_clear(&r);

	admin(&r, NULL, "revoke", "--chain", "demo", "--kid", kid0, "--reason",
	    "x", "--effective", FUTURE, (char *)NULL);
	expect_fail(&r, 1, "kid: revoked already");

	next = append_sample("demo", 1, 8);
	CU_ASSERT_STRING_EQUAL(jstr(next, "kid"), kid1);
	json_object_put(next);
}

static void
test_keys_jwks(void)
{
	json_object *set, *keys, *k;
	int seen = 0;
	struct rcpt_test_proc r;

	/* Read-only: no provider is needed to print keys. */
	run_cli(&r, NULL,
	    (const char *const[]){"keys", "--store", cur.store, NULL});
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	set = line_json(r.out, 0);
	keys = jget(set, "keys");
	CU_ASSERT_FATAL(keys != NULL && json_object_array_length(keys) == 2);
	for (size_t i = 0; i < 2; i++) {
		k = json_object_array_get_idx(keys, i);
		CU_ASSERT_STRING_EQUAL(jstr(k, "chain"), "demo");
		CU_ASSERT_STRING_EQUAL(jstr(k, "alg"), "EdDSA");
		if (strcmp(jstr(k, "kid"), kid0) == 0) {
			CU_ASSERT_STRING_EQUAL(jstr(k, "status"), "revoked");
			CU_ASSERT_STRING_EQUAL(jstr(k, "revoked"), FUTURE);
			seen |= 1;
		} else if (strcmp(jstr(k, "kid"), kid1) == 0) {
			CU_ASSERT_STRING_EQUAL(jstr(k, "status"), "active");
			CU_ASSERT_STRING_EQUAL(jstr(k, "revoked"), "");
			seen |= 2;
		}
	}
	CU_ASSERT_EQUAL(seen, 3);
	CU_ASSERT_EQUAL(r.out[r.out_len - 1], '\n');
	json_object_put(set);
	rcpt_test_proc_clear(&r);
}

static void
test_export_verify_clean(void)
{
	char *keys = tpath("keys.jwks.json"), *jsonl = tpath("r.jsonl");
	char *file, *out;
	size_t len = 0;
	struct rcpt_test_proc r;

	export("demo", keys, jsonl);
	out = verify(jsonl, keys, 0);
	CU_ASSERT_STRING_EQUAL(
	    out, "Chain integrity: CLEAN (9 events, 0 gaps)\n");
	free(out);
	out = verify(jsonl, NULL, 0);
	CU_ASSERT_STRING_EQUAL(out,
	    "Chain integrity: CLEAN (9 events, 0 gaps), keys not pinned\n");
	free(out);

	/* To stdout, the same bytes. */
	file = rcpt_test_read_file(jsonl, &len);
	CU_ASSERT_FATAL(file != NULL);
	run_cli(&r, NULL,
	    (const char *const[]){
	        "export-chain", "--chain", "demo", "--store", cur.store, NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(r.out_len, len);
	CU_ASSERT_STRING_EQUAL(r.out, file);
	rcpt_test_proc_clear(&r);

	/* Never overwritten. */
	run_cli(&r, NULL,
	    (const char *const[]){"export-chain", "--chain", "demo", "--store",
	        cur.store, "--out", keys, NULL});
	expect_fail(&r, 1, "exists; refusing to overwrite");
	run_cli(&r, NULL,
	    (const char *const[]){"export-chain", "--chain", "nosuch",
	        "--store", cur.store, NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	rcpt_test_proc_clear(&r);
	free(file);
	free(jsonl);
	free(keys);
}

static void
test_checkpoint(void)
{
	char *keys = tpath("keys.jwks.json"), *jsonl = tpath("r.jsonl");
	char *note = tpath("checkpoint.txt");
	struct rcpt_test_proc r;

	admin(&r, NULL, "checkpoint", "--chain", "demo", (char *)NULL);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	CU_ASSERT(starts_with(r.out, ORIGIN "/demo\n9\n"));
	CU_ASSERT_PTR_NOT_NULL(
	    strstr(r.out, "\n\n\xe2\x80\x94 " ORIGIN "/demo "));
	CU_ASSERT_FATAL(rcpt_test_write_file(note, r.out, r.out_len) == 0);
	rcpt_test_proc_clear(&r);
	run_cli(&r, NULL,
	    (const char *const[]){
	        "verify", "--checkpoint", note, "--trust", keys, jsonl, NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(
	    r.out, "Chain integrity: CLEAN (9 events, 0 gaps)\n");
	rcpt_test_proc_clear(&r);

	admin(&r, NULL, "anchor-check", "--chain", "demo", (char *)NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "anchor: store of size 9 extends the "
	                              "token's anchor of size 9\n");
	rcpt_test_proc_clear(&r);
	free(note);
	free(jsonl);
	free(keys);
}

/*
 * A revocation effective in the past: the old key's receipts from that
 * time on are invalid (SPEC 4), so the export no longer verifies.
 */
static void
test_revoke_past_breaks(void)
{
	char *keys = tpath("past.jwks.json"), *jsonl = tpath("past.jsonl");
	char ts[NSAMPLES + 1][RCPT_TS_LEN + 1], old[RCPT_KID_LEN + 1];
	char want[128], *out;
	json_object *rec;
	struct rcpt_test_proc r;
	size_t i, broken;

	admin(&r, NULL, "chain-create", "--chain", "past", "--origin", ORIGIN,
	    "--sealing", "batch", (char *)NULL);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	rec = line_json(r.out, 0);
	(void)snprintf(old, sizeof(old), "%s", jstr(rec, "kid"));
	(void)snprintf(ts[0], sizeof(ts[0]), "%s", jstr(rec, "ts"));
	CU_ASSERT_STRING_EQUAL(jstr(jget(rec, "data"), "sealing"), "batch");
	json_object_put(rec);
	rcpt_test_proc_clear(&r);
	for (i = 0; i < NSAMPLES; i++) {
		rec = append_sample("past", i, (int64_t)i + 1);
		(void)snprintf(ts[i + 1], sizeof(ts[0]), "%s", jstr(rec, "ts"));
		/* Offline appends end their batch: each is sealed. */
		CU_ASSERT_EQUAL(strlen(jstr(rec, "signature")), 128);
		json_object_put(rec);
	}
	admin(&r, NULL, "rotate", "--chain", "past", "--reason", "compromise",
	    (char *)NULL);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	rcpt_test_proc_clear(&r);
	admin(&r, NULL, "revoke", "--chain", "past", "--kid", old, "--reason",
	    "key leaked", "--effective", ts[2], (char *)NULL);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	rcpt_test_proc_clear(&r);

	/* The first receipt of the old key at or after "effective". */
	for (broken = 0; strcmp(ts[broken], ts[2]) < 0; broken++)
		;
	export("past", keys, jsonl);
	out = verify(jsonl, keys, 1);
	(void)snprintf(want, sizeof(want),
	    "Chain integrity: BROKEN at seq %zu: kid %s is revoked", broken,
	    old);
	CU_ASSERT(starts_with(out, want));
	if (!starts_with(out, want))
		fprintf(stderr, "\nwanted %s\ngot    %s", want, out);
	free(out);
	/* Without --trust the revocation receipt itself tells. */
	out = verify(jsonl, NULL, 1);
	CU_ASSERT(starts_with(out, "Chain integrity: BROKEN at seq "));
	free(out);
	free(jsonl);
	free(keys);
}

/* Copies data.mdb and lock.mdb of store @p from into @p to. */
static void
copy_store(const char *from, const char *to)
{
	static const char *const files[] = {"data.mdb", "lock.mdb"};
	char src[4096], dst[4096], *buf;
	size_t len = 0;

	(void)mkdir(to, 0700);
	for (size_t i = 0; i < 2; i++) {
		(void)snprintf(src, sizeof(src), "%s/%s", from, files[i]);
		(void)snprintf(dst, sizeof(dst), "%s/%s", to, files[i]);
		buf = rcpt_test_read_file(src, &len);
		CU_ASSERT_FATAL(buf != NULL);
		CU_ASSERT_FATAL(rcpt_test_write_file(dst, buf, len) == 0);
		free(buf);
	}
}

static void
test_anchor_refuses_rollback(void)
{
	const char *main_store = cur.store;
	char *store = tpath("rb-store"), *saved = tpath("rb-saved");
	char *fresh = tpath("rb-fresh");
	const char *msg = "chain rb: store has 2 receipts but the token's "
	                  "anchor records 3";
	json_object *rec;
	struct rcpt_test_proc r;

	cur.store = store;
	admin(&r, NULL, "chain-create", "--chain", "rb", "--origin", ORIGIN,
	    (char *)NULL);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	rcpt_test_proc_clear(&r);
	rec = append_sample("rb", 0, 1);
	json_object_put(rec);
	admin(&r, NULL, "checkpoint", "--chain", "rb", (char *)NULL);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	rcpt_test_proc_clear(&r);
	copy_store(store, saved);

	rec = append_sample("rb", 1, 2);
	json_object_put(rec);
	admin(&r, NULL, "checkpoint", "--chain", "rb", (char *)NULL);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	rcpt_test_proc_clear(&r);

	/* The old copy comes back; the token's anchor does not. */
	copy_store(saved, store);
	admin(&r, NULL, "checkpoint", "--chain", "rb", (char *)NULL);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	expect_fail(&r, 1, msg);
	admin(
	    &r, NULL, "rotate", "--chain", "rb", "--reason", "x", (char *)NULL);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	expect_fail(&r, 1, msg);
	admin(&r, NULL, "anchor-check", "--chain", "rb", (char *)NULL);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	expect_fail(&r, 1, msg);
	admin(&r, NULL, "append", "--chain", "rb", "--type", "t", (char *)NULL);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	expect_fail(&r, 1, msg);
	/* Nor may the chain start again in an empty store. */
	cur.store = fresh;
	admin(&r, NULL, "chain-create", "--chain", "rb", "--origin", ORIGIN,
	    (char *)NULL);
	expect_fail(&r, 1,
	    "anchor records 3: refusing to start the chain "
	    "again");
	cur.store = main_store;
	free(fresh);
	free(saved);
	free(store);
}

static void
test_refusals(void)
{
	char *fresh = tpath("fresh-store");
	const char *store = cur.store;
	struct rcpt_test_proc r;

	admin(&r, NULL, "append", "--chain", "Bad_Name", "--type", "t",
	    (char *)NULL);
	expect_fail(&r, 1, "receiptctl append: --chain: must match");
	cur.store = fresh;
	admin(&r, NULL, "chain-create", "--chain", "-x", "--origin", ORIGIN,
	    (char *)NULL);
	expect_fail(&r, 1, "--chain: must match");
	admin(&r, NULL, "chain-create", "--chain", "x", "--origin", "a b",
	    (char *)NULL);
	expect_fail(&r, 1, "--origin: must be 1 to 200 bytes");
	admin(&r, NULL, "chain-create", "--chain", "x", "--origin", ORIGIN,
	    "--production", (char *)NULL);
	expect_fail(&r, 1,
	    "receiptctl chain-create: provider: the software "
	    "provider is for development only");
	/* Nothing refused made a store. */
	CU_ASSERT_NOT_EQUAL(access(fresh, F_OK), 0);
	admin(
	    &r, NULL, "append", "--chain", "demo", "--type", "t", (char *)NULL);
	expect_fail(&r, 2, "receiptctl append: --store: no store in");
	CU_ASSERT_NOT_EQUAL(access(fresh, F_OK), 0);
	cur.store = store;

	admin(&r, NULL, "checkpoint", "--chain", "demo", "--production",
	    (char *)NULL);
	expect_fail(&r, 1, "production");
	run_cli(&r, NULL,
	    (const char *const[]){"checkpoint", "--chain", "demo", NULL});
	expect_fail(&r, 2, "receiptctl checkpoint: --store DIR is required");
	run_cli(&r, NULL,
	    (const char *const[]){
	        "checkpoint", "--chain", "demo", "--store", store, NULL});
	expect_fail(&r, 2, "--provider-config is required");
	admin(&r, NULL, "checkpoint", "--chain", "demo", "--providers-dir",
	    "rel", (char *)NULL);
	expect_fail(&r, 2, "--providers-dir: must be an absolute path");
	admin(&r, NULL, "checkpoint", (char *)NULL);
	expect_fail(&r, 2, "--chain is required");
	admin(&r, NULL, "checkpoint", "--chain", "demo", "--kid", "x",
	    (char *)NULL);
	expect_fail(&r, 2, "receiptctl checkpoint: --kid: unknown option");
	admin(&r, NULL, "checkpoint", "--chain", "demo", "extra", (char *)NULL);
	expect_fail(&r, 2, "takes no operands");
	admin(&r, NULL, "chain-create", "--chain", "x", "--origin", ORIGIN,
	    "--sealing", "some", (char *)NULL);
	expect_fail(&r, 2, "--sealing: must be each or batch");
	run_cli(
	    &r, NULL, (const char *const[]){"keys", "--store", fresh, NULL});
	expect_fail(&r, 2, "receiptctl keys: --store: no store in");
	free(fresh);
}

static void
test_help(void)
{
	static const char *const cmds[] = {"chain-create", "append", "rotate",
	    "revoke", "checkpoint", "keys", "export-chain", "anchor-check"};
	char want[64];
	struct rcpt_test_proc r;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		(void)snprintf(
		    want, sizeof(want), "usage: receiptctl %s ", cmds[i]);
		run_cli(
		    &r, NULL, (const char *const[]){cmds[i], "--help", NULL});
		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT(starts_with(r.out, want));
		CU_ASSERT_STRING_EQUAL(r.err, "");
		rcpt_test_proc_clear(&r);
		run_cli(&r, NULL, (const char *const[]){"--help", NULL});
		CU_ASSERT_PTR_NOT_NULL(strstr(r.out, cmds[i]));
		rcpt_test_proc_clear(&r);
	}
}

/* append --events: a chain of its own, "evts", in the same store */

/* conf/sample-events.jsonl, byte for byte. */
static const char sample_events[] =
    "{\"type\":\"ai.inference\",\"tags\":[\"credit-scoring\","
    "\"model:risk-v7\"],\"data\":{\"model\":\"risk-v7\","
    "\"model_version\":\"7.2.1\","
    "\"input_sha256\":\"9f2c4e1a7b3d5f60812e4a9c0b7d3e5f"
    "1a2c4b6d8e0f1a3c5b7d9e1f3a5c7b9d\","
    "\"decision\":\"decline\",\"score\":0.183,"
    "\"explanation_ref\":\"xai/2026/11/21/8841\"}}\n"
    "{\"type\":\"soc2.access\",\"tags\":[\"soc2\",\"CC6.1\"],"
    "\"data\":{\"actor\":\"alice@example.com\",\"action\":\"read\","
    "\"resource\":\"s3://prod-customer-exports/2026-11.csv\","
    "\"result\":\"allowed\",\"mfa\":true,"
    "\"source_ip\":\"203.0.113.7\"}}\n"
    "{\"type\":\"agent.decision\",\"tags\":[\"agent:procure-bot\","
    "\"tool-call\"],\"data\":{\"agent\":\"procure-bot\","
    "\"run_id\":\"run-5c1f\",\"step\":4,"
    "\"tool\":\"purchase_order.create\","
    "\"arguments\":{\"vendor\":\"ACME GmbH\",\"amount_eur\":1250.5},"
    "\"approved_by\":null,\"policy\":\"auto-approve-under-2000\"}}\n"
    "{\"type\":\"clinical.decision\",\"tags\":[\"triage\","
    "\"ward:ED\"],\"data\":{\"system\":\"triage-assist\","
    "\"version\":\"3.0.4\","
    "\"patient_data_sha256\":\"4b1d3c7e9a2f60815e3d7c9b1a0f2e4d"
    "6c8b0a1f3e5d7c9b2a4f6e8d0c1b3a5f\","
    "\"recommendation\":\"ESI-2\",\"clinician_override\":false,"
    "\"salt_note\":\"patient data hashed with a per-record salt "
    "kept in the EHR\"}}\n";

/* Writes @p text to the scratch file @p name; caller frees the path. */
static char *
events_file(const char *name, const char *text)
{
	char *file = tpath(name);

	CU_ASSERT_FATAL(rcpt_test_write_file(file, text, strlen(text)) == 0);
	return file;
}

/* Exports chain evts and checks that it verifies CLEAN with @p n events. */
static void
expect_evts_clean(size_t n)
{
	char *keys = tpath("evts.jwks.json"), *jsonl = tpath("evts.jsonl");
	char want[128], *out;

	export("evts", keys, jsonl);
	(void)snprintf(want, sizeof(want),
	    "Chain integrity: CLEAN (%zu events, 0 gaps)\n", n);
	out = verify(jsonl, keys, 0);
	CU_ASSERT_STRING_EQUAL(out, want);
	free(out);
	free(jsonl);
	free(keys);
}

static void
test_append_events(void)
{
	char *file = events_file("samples.jsonl", sample_events);
	json_object *rec, *want;
	struct rcpt_test_proc r;

	admin(&r, NULL, "chain-create", "--chain", "evts", "--origin", ORIGIN,
	    (char *)NULL);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	rcpt_test_proc_clear(&r);

	admin(&r, NULL, "append", "--chain", "evts", "--events", file,
	    "--submitter", "svc-batch", (char *)NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	if (r.status != 0)
		fprintf(stderr, "\nappend --events: %s\n", r.err);
	CU_ASSERT_PTR_NULL(strstr(r.err, "stopped"));
	/* One receipt a line, in the file's order. */
	for (size_t i = 0; i < NSAMPLES; i++) {
		rec = line_json(r.out, i);
		want = json_tokener_parse(samples[i].data);
		CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
		CU_ASSERT_PTR_NOT_NULL_FATAL(want);
		CU_ASSERT_EQUAL(jint(rec, "seq"), (int64_t)i + 1);
		CU_ASSERT_STRING_EQUAL(jstr(rec, "chain"), "evts");
		CU_ASSERT_STRING_EQUAL(jstr(rec, "type"), samples[i].type);
		CU_ASSERT_STRING_EQUAL(jstr(rec, "submitter"), "svc-batch");
		CU_ASSERT(json_object_equal(jget(rec, "data"), want));
		CU_ASSERT_EQUAL(json_object_array_length(jget(rec, "tags")), 2);
		CU_ASSERT_STRING_EQUAL(
		    json_object_get_string(
		        json_object_array_get_idx(jget(rec, "tags"), 0)),
		    samples[i].tag1);
		json_object_put(want);
		json_object_put(rec);
	}
	CU_ASSERT_PTR_NULL(line_json(r.out, NSAMPLES));
	rcpt_test_proc_clear(&r);
	expect_evts_clean(1 + NSAMPLES);
	free(file);
}

static void
test_append_events_bad_line(void)
{
	char want[4200];
	char *file = events_file("bad3.jsonl",
	    "{\"type\":\"a.one\",\"data\":1}\n"
	    "{\"type\":\"a.two\",\"data\":[2],\"tags\":[\"t\"]}\n"
	    "{\"type\":\"a.three\"}\n"
	    "{\"type\":\"a.four\",\"data\":4}\n");
	json_object *rec;
	struct rcpt_test_proc r;

	admin(&r, NULL, "append", "--chain", "evts", "--events", file,
	    (char *)NULL);
	CU_ASSERT_EQUAL(r.status, 1);
	(void)snprintf(want, sizeof(want),
	    "receiptctl append: %s line 3: event.data: missing\n", file);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, want));
	(void)snprintf(want, sizeof(want),
	    "receiptctl append: %s: stopped after appending 2 events; "
	    "receipts already appended stay in the chain\n",
	    file);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, want));
	/* Lines 1 and 2 were stored and printed; line 4 was not tried. */
	rec = line_json(r.out, 0);
	CU_ASSERT_STRING_EQUAL(jstr(rec, "type"), "a.one");
	CU_ASSERT_EQUAL(jint(rec, "seq"), 1 + NSAMPLES);
	json_object_put(rec);
	rec = line_json(r.out, 1);
	CU_ASSERT_STRING_EQUAL(jstr(rec, "type"), "a.two");
	CU_ASSERT_EQUAL(jint(rec, "seq"), 2 + NSAMPLES);
	json_object_put(rec);
	CU_ASSERT_PTR_NULL(line_json(r.out, 2));
	rcpt_test_proc_clear(&r);
	expect_evts_clean(3 + NSAMPLES);
	free(file);
}

static void
test_append_events_refusals(void)
{
	/* Each rule of an event line, refused on line 1. */
	static const struct {
		const char *line, *msg;
		int status;
	} bad[] = {
	    {"[1]", "event: must be an object", 1},
	    {"{\"type\":\"t\",\"data\":1,\"kid\":\"k\"}",
	        "event: only type, data and tags are allowed", 1},
	    {"{\"data\":1}", "event.type: must be a string", 1},
	    {"{\"type\":7,\"data\":1}", "event.type: must be a string", 1},
	    {"{\"type\":\"t\",\"tags\":[]}", "event.data: missing", 1},
	    {"{\"type\":\"t\",\"data\":1,\"tags\":\"x\"}",
	        "event.tags: must be an array of strings", 1},
	    {"{\"type\":\"ReceiptD.genesis\",\"data\":1}",
	        "type: names starting with \"receiptd.\" are reserved "
	        "(SPEC 4)",
	        1},
	    {"{\"type\":\"t\",\"data\":{\"a\":1,\"a\":2}}",
	        "event.data.a: ", 1},
	    {"{\"type\":\"t\",\"data\":1,\"tags\":[\"\"]}", "tags[0]", 1},
	    {"{\"type\":", "event", 1},
	    {"\n", "event", 1},
	};
	char want[4200], *file;
	struct rcpt_test_proc r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		file = events_file("bad1.jsonl", bad[i].line);
		admin(&r, NULL, "append", "--chain", "evts", "--events", file,
		    (char *)NULL);
		(void)snprintf(want, sizeof(want),
		    "receiptctl append: %s line 1: %s", file, bad[i].msg);
		CU_ASSERT_STRING_EQUAL(r.out, "");
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(r.err, "stopped after appending 0 events"));
		expect_fail(&r, bad[i].status, want);
		free(file);
	}

	/* An empty file appends nothing; stdin may lack a final newline. */
	file = events_file("empty.jsonl", "");
	admin(&r, NULL, "append", "--chain", "evts", "--events", file,
	    (char *)NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	rcpt_test_proc_clear(&r);
	admin(&r, "{\"type\":\"a.five\",\"data\":null}", "append", "--chain",
	    "evts", "--events", "-", (char *)NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\"type\":\"a.five\""));
	CU_ASSERT_PTR_NULL(line_json(r.out, 1));
	rcpt_test_proc_clear(&r);
	admin(&r, "{\"type\":\"t\"}", "append", "--chain", "evts", "--events",
	    "-", (char *)NULL);
	expect_fail(&r, 1, "receiptctl append: stdin line 1: event.data: ");

	/* Usage: --events alone says what the events are. */
	admin(&r, NULL, "append", "--chain", "evts", "--events", file, "--type",
	    "t", (char *)NULL);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	expect_fail(&r, 2,
	    "receiptctl append: --events excludes --type, --tag, DATA and "
	    "--data-file");
	admin(&r, NULL, "append", "--chain", "evts", "--events", file, "--tag",
	    "t", (char *)NULL);
	expect_fail(&r, 2, "--events excludes");
	admin(&r, NULL, "append", "--chain", "evts", "--events", file, "{}",
	    (char *)NULL);
	expect_fail(&r, 2, "--events excludes");
	admin(&r, NULL, "append", "--chain", "evts", "--events", file,
	    "--data-file", file, (char *)NULL);
	expect_fail(&r, 2, "--events excludes");
	free(file);
	file = tpath("no-such-events.jsonl");
	admin(&r, NULL, "append", "--chain", "evts", "--events", file,
	    (char *)NULL);
	expect_fail(&r, 2, "receiptctl append: ");
	admin(&r, NULL, "chain-create", "--chain", "x", "--origin", ORIGIN,
	    "--events", file, (char *)NULL);
	expect_fail(&r, 2, "--events: unknown option");
	free(file);

	/* Only a.five was added by all this. */
	expect_evts_clean(4 + NSAMPLES);
}

/* PKCS#11 on SoftHSM */

static int
p11_init(void)
{
	char *prov;

	if (soft_init() != 0)
		return -1;
	/* Loaded by bare name from a private copy (see testlib.h). */
	prov = join("providers");
	if (prov == NULL || mkdir(prov, 0700) != 0 ||
	    rcpt_test_plugin_copy(PKCS11_SO, prov) != 0) {
		free(prov);
		return -1;
	}
	cur.provider = "pkcs11";
	(void)snprintf(cur.pdir, sizeof(cur.pdir), "%s", prov);
	(void)snprintf(cur.config, sizeof(cur.config),
	    "module=%s;token=%s;pin-file=%s", rcpt_test_softhsm_module(),
	    tok.uri, tok.user_pin_file);
	free(prov);
	return 0;
}

/* The kids of the token's keys, read in this process. */
static void
check_token_labels(json_object *keys)
{
	struct rcpt_ks_provider *p = NULL;
	struct rcpt_ks_key *list = NULL;
	struct rcpt_diag d = {0};
	char want[128];
	size_t n = 0, found = 0;

	CU_ASSERT_EQUAL_FATAL(rcpt_ks_load("pkcs11", cur.pdir, 0, &p, &d), 0);
	CU_ASSERT_EQUAL_FATAL(rcpt_ks_open(p, cur.config, 1, NULL, &d), 0);
	CU_ASSERT_EQUAL_FATAL(rcpt_ks_list(p, &list, &n, &d), 0);
	for (size_t i = 0; i < json_object_array_length(keys); i++) {
		const char *kid =
		    jstr(json_object_array_get_idx(keys, i), "kid");

		/* The provider labels each key with its kid. */
		(void)snprintf(want, sizeof(want), "object=%s;", kid);
		for (size_t j = 0; j < n; j++)
			if (strcmp(list[j].kid, kid) == 0 &&
			    strstr(list[j].handle, want) != NULL)
				found++;
	}
	CU_ASSERT_EQUAL(found, json_object_array_length(keys));
	rcpt_ks_keys_free(list, n);
	rcpt_ks_unload(p);
}

static void
test_p11_life_cycle(void)
{
	char *keys = tpath("p11.jwks.json"), *jsonl = tpath("p11.jsonl");
	char *text, *out, k0[RCPT_KID_LEN + 1];
	json_object *rec, *set;
	struct rcpt_test_proc r;

	admin(&r, NULL, "chain-create", "--chain", "hsm", "--origin", ORIGIN,
	    "--production", (char *)NULL);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	rec = line_json(r.out, 0);
	(void)snprintf(k0, sizeof(k0), "%s", jstr(rec, "kid"));
	json_object_put(rec);
	rcpt_test_proc_clear(&r);
	for (size_t i = 0; i < 2; i++) {
		rec = append_sample("hsm", i, (int64_t)i + 1);
		CU_ASSERT_STRING_EQUAL(jstr(rec, "kid"), k0);
		json_object_put(rec);
	}
	/* No --token-serial: the record leaves the serial out. */
	admin(&r, NULL, "rotate", "--chain", "hsm", "--reason", "annual",
	    "--operator", "alice", "--witness", "bob", "--production",
	    (char *)NULL);
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	rec = line_json(r.out, 0);
	CU_ASSERT_STRING_EQUAL(jstr(rec, "type"), "receiptd.key_rotation");
	CU_ASSERT_PTR_NULL(
	    jget(jget(jget(rec, "data"), "ceremony"), "token_serial"));
	CU_ASSERT_STRING_EQUAL(
	    jstr(jget(jget(rec, "data"), "ceremony"), "operator"), "alice");
	json_object_put(rec);
	rcpt_test_proc_clear(&r);
	rec = append_sample("hsm", 2, 4);
	CU_ASSERT_STRING_NOT_EQUAL(jstr(rec, "kid"), k0);
	json_object_put(rec);

	export("hsm", keys, jsonl);
	out = verify(jsonl, keys, 0);
	CU_ASSERT_STRING_EQUAL(
	    out, "Chain integrity: CLEAN (5 events, 0 gaps)\n");
	free(out);
	admin(&r, NULL, "anchor-check", "--chain", "hsm", (char *)NULL);
	CU_ASSERT_EQUAL(r.status, 0);
	/* The rotation was checkpointed; the append after it was not. */
	CU_ASSERT_STRING_EQUAL(r.out, "anchor: store of size 5 extends the "
	                              "token's anchor of size 4\n");
	rcpt_test_proc_clear(&r);

	text = rcpt_test_read_file(keys, NULL);
	set = text != NULL ? json_tokener_parse(text) : NULL;
	CU_ASSERT_FATAL(set != NULL);
	CU_ASSERT_EQUAL_FATAL(json_object_array_length(jget(set, "keys")), 2);
	for (size_t i = 0; i < 2; i++) {
		json_object *k =
		    json_object_array_get_idx(jget(set, "keys"), i);

		CU_ASSERT_STRING_EQUAL(jstr(k, "status"),
		    strcmp(jstr(k, "kid"), k0) == 0 ? "retired" : "active");
	}
	check_token_labels(jget(set, "keys"));
	json_object_put(set);
	free(text);
	free(jsonl);
	free(keys);
}

static CU_TestInfo soft_tests[] = {
    {"chain-create writes genesis, kid and anchor", test_chain_create},
    {"append stores the sample events", test_append_samples},
    {"append refuses reserved types and bad data", test_append_refusals},
    {"rotate records operator and witnesses", test_rotate_with_ceremony},
    {"revoke effective in the future", test_revoke_future},
    {"keys lists active and revoked keys", test_keys_jwks},
    {"export-chain verifies CLEAN under --trust", test_export_verify_clean},
    {"checkpoint signs the whole chain", test_checkpoint},
    {"revoke effective in the past breaks verify", test_revoke_past_breaks},
    {"a restored store copy is refused", test_anchor_refuses_rollback},
    {"usage and provider refusals", test_refusals},
    {"every command has help", test_help},
    {"append --events stores a file of events", test_append_events},
    {"append --events stops at a bad line", test_append_events_bad_line},
    {"append --events refuses bad lines and usage",
        test_append_events_refusals},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo p11_tests[] = {
    {"life cycle on a SoftHSM token", test_p11_life_cycle},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "admin, software provider",
        .pInitFunc = soft_init,
        .pCleanupFunc = suite_clean,
        .pTests = soft_tests},
    {.pName = "admin, pkcs11 provider",
        .pInitFunc = p11_init,
        .pCleanupFunc = suite_clean,
        .pTests = p11_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	if (rcpt_test_sanitizer_env() != 0)
		return 1;
	return rcpt_test_token_main(
	    suites, 1, "receiptd-adm", &tok, &tok_status);
}
