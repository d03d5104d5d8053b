/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Proof documents (SPEC 5): build, write, parse and verify inclusion
 * and consistency proofs over a small tree with checkpoints signed by a
 * software key, and every refusal with its exact code and the member
 * the diag names.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "checkpoint.h"
#include "encode.h"
#include "jwk.h"
#include "mem.h"
#include "merkle.h"
#include "proof.h"
#include "softkey.h"
#include "testlib.h"

#define NLEAVES 10
#define ORIGIN  "receipts.example.org/log"
#define CHAIN   "demo"

struct fixture {
	uint8_t entries[NLEAVES][RCPT_HASH_LEN];
	uint8_t leaves[NLEAVES][RCPT_HASH_LEN];
	struct rcpt_softkey *key;     /* trusted */
	struct rcpt_softkey *unknown; /* not in the key set */
	struct rcpt_signer signer;
	struct rcpt_signer stranger;
	struct rcpt_jwks_key jk;
	struct rcpt_jwks keys;    /* one entry: jk */
	char *notes[NLEAVES + 1]; /* notes[n]: checkpoint of size n */
};

static struct fixture fx;

static int
get_leaf(void *ctx, uint64_t index, uint8_t out[RCPT_HASH_LEN])
{
	struct fixture *f = ctx;

	if (index >= NLEAVES)
		return RCPT_E_NOT_FOUND;
	memcpy(out, f->leaves[index], RCPT_HASH_LEN);
	return RCPT_OK;
}

static char *
make_note(uint64_t size, const char *chain, const struct rcpt_signer *s)
{
	uint8_t root[RCPT_HASH_LEN];
	char *note = NULL;

	CU_ASSERT_FATAL(rcpt_merkle_root(get_leaf, &fx, size, root) == RCPT_OK);
	CU_ASSERT_FATAL(rcpt_checkpoint_sign(
	                    ORIGIN, chain, size, root, s, &note) == RCPT_OK);
	return note;
}

static int
suite_init(void)
{
	uint8_t seed[RCPT_ED25519_SEED_LEN];
	size_t i, j;

	memset(&fx, 0, sizeof(fx));
	for (i = 0; i < NLEAVES; i++) {
		for (j = 0; j < RCPT_HASH_LEN; j++)
			fx.entries[i][j] = (uint8_t)(i * 13 + j);
		rcpt_merkle_leaf_hash(fx.entries[i], fx.leaves[i]);
	}
	memset(seed, 0x42, sizeof(seed));
	if (rcpt_softkey_from_seed(seed, &fx.key) != RCPT_OK)
		return 1;
	memset(seed, 0x17, sizeof(seed));
	if (rcpt_softkey_from_seed(seed, &fx.unknown) != RCPT_OK)
		return 1;
	rcpt_softkey_signer(fx.key, &fx.signer);
	rcpt_softkey_signer(fx.unknown, &fx.stranger);
	memcpy(fx.jk.kid, fx.signer.kid, sizeof(fx.jk.kid));
	memcpy(fx.jk.pub, fx.signer.pub, sizeof(fx.jk.pub));
	strcpy(fx.jk.chain, CHAIN);
	fx.jk.status = RCPT_KEY_ACTIVE;
	strcpy(fx.jk.created, "2026-01-01T00:00:00.000Z");
	fx.keys.keys = &fx.jk;
	fx.keys.n = 1;
	for (i = 1; i <= NLEAVES; i++) {
		char *note = NULL;
		uint8_t root[RCPT_HASH_LEN];

		if (rcpt_merkle_root(get_leaf, &fx, i, root) != RCPT_OK ||
		    rcpt_checkpoint_sign(
		        ORIGIN, CHAIN, i, root, &fx.signer, &note) != RCPT_OK)
			return 1;
		fx.notes[i] = note;
	}
	return 0;
}

static int
suite_clean(void)
{
	size_t i;

	for (i = 0; i <= NLEAVES; i++)
		free(fx.notes[i]);
	rcpt_softkey_close(fx.unknown);
	rcpt_softkey_close(fx.key);
	memset(&fx, 0, sizeof(fx));
	return 0;
}

/* The diag names @p field; with no field, no diag was set. */
static int
names(const struct rcpt_diag *d, const char *field)
{
	if (*field == '\0')
		return !d->set;
	return d->set && strstr(d->msg, field) != NULL;
}

static void
build_inclusion(uint64_t seq, uint64_t size, struct rcpt_inclusion_proof *p)
{
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_proof_inclusion_build(get_leaf, &fx, CHAIN, seq,
	        fx.entries[seq], fx.notes[size], p, NULL),
	    RCPT_OK);
}

static void
build_consistency(uint64_t m, uint64_t n, struct rcpt_consistency_proof *p)
{
	CU_ASSERT_EQUAL_FATAL(rcpt_proof_consistency_build(get_leaf, &fx, CHAIN,
	                          fx.notes[m], fx.notes[n], p, NULL),
	    RCPT_OK);
}

/* Round trips */

static void
test_inclusion_round_trip(void)
{
	struct rcpt_inclusion_proof p = {0}, q = {0};
	char *text, *again;
	size_t len, len2;
	uint64_t seq, size;
	int kind, bad = 0, count = 0;

	for (size = 1; size <= NLEAVES; size++) {
		for (seq = 0; seq < size; seq++) {
			build_inclusion(seq, size, &p);
			CU_ASSERT_EQUAL(p.tree_size, size);
			if (rcpt_proof_verify_inclusion(&p, &fx.keys, NULL) !=
			    RCPT_OK)
				bad++;
			CU_ASSERT_EQUAL_FATAL(rcpt_proof_inclusion_serialize(
			                          &p, &text, &len, NULL),
			    RCPT_OK);
			CU_ASSERT_EQUAL_FATAL(
			    rcpt_proof_inclusion_parse(text, len, &q, NULL),
			    RCPT_OK);
			CU_ASSERT_EQUAL(rcpt_proof_inclusion_serialize(
			                    &q, &again, &len2, NULL),
			    RCPT_OK);
			/* JCS is stable: writing the parse gives the text. */
			CU_ASSERT(len == len2 && memcmp(text, again, len) == 0);
			if (rcpt_proof_verify_inclusion(&q, &fx.keys, NULL) !=
			    RCPT_OK)
				bad++;
			kind = -1;
			if (rcpt_proof_verify_text(
			        text, len, &fx.keys, &kind, NULL) != RCPT_OK ||
			    kind != RCPT_PROOF_INCLUSION)
				bad++;
			count++;
			free(again);
			free(text);
			rcpt_proof_inclusion_clear(&q);
			rcpt_proof_inclusion_clear(&p);
		}
	}
	CU_ASSERT_EQUAL(count, NLEAVES * (NLEAVES + 1) / 2);
	CU_ASSERT_EQUAL(bad, 0);
}

static void
test_inclusion_text_shape(void)
{
	struct rcpt_inclusion_proof p = {0};
	char *text, hex[2 * RCPT_HASH_LEN + 1], want[100];
	size_t len;

	build_inclusion(2, 5, &p);
	rcpt_hex_encode(fx.entries[2], RCPT_HASH_LEN, hex);
	snprintf(want, sizeof(want), "\"entry_hash\":\"%s\"", hex);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_proof_inclusion_serialize(&p, &text, &len, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(strlen(text), len);
	/* Members in JCS order, numbers bare, hex lowercase. */
	CU_ASSERT_EQUAL(
	    strncmp(text, "{\"chain\":\"demo\",\"checkpoint\":\"", 30), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, ",\"seq\":2,\"tree_size\":5}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\"path\":[\""));
	free(text);
	rcpt_proof_inclusion_clear(&p);
}

static void
test_consistency_round_trip(void)
{
	struct rcpt_consistency_proof p = {0}, q = {0};
	char *text, *again;
	size_t len, len2;
	uint64_t m, n;
	int kind, bad = 0, count = 0;

	for (n = 1; n <= NLEAVES; n++) {
		for (m = 1; m <= n; m++) {
			build_consistency(m, n, &p);
			CU_ASSERT(m != n || p.path_len == 0);
			if (rcpt_proof_verify_consistency(&p, &fx.keys, NULL) !=
			    RCPT_OK)
				bad++;
			CU_ASSERT_EQUAL_FATAL(rcpt_proof_consistency_serialize(
			                          &p, &text, &len, NULL),
			    RCPT_OK);
			CU_ASSERT_EQUAL_FATAL(
			    rcpt_proof_consistency_parse(text, len, &q, NULL),
			    RCPT_OK);
			CU_ASSERT_EQUAL(rcpt_proof_consistency_serialize(
			                    &q, &again, &len2, NULL),
			    RCPT_OK);
			CU_ASSERT(len == len2 && memcmp(text, again, len) == 0);
			kind = -1;
			if (rcpt_proof_verify_text(
			        text, len, &fx.keys, &kind, NULL) != RCPT_OK ||
			    kind != RCPT_PROOF_CONSISTENCY)
				bad++;
			count++;
			free(again);
			free(text);
			rcpt_proof_consistency_clear(&q);
			rcpt_proof_consistency_clear(&p);
		}
	}
	CU_ASSERT_EQUAL(count, NLEAVES * (NLEAVES + 1) / 2);
	CU_ASSERT_EQUAL(bad, 0);
}

/* Verification refusals */

static void
expect_inclusion(const struct rcpt_inclusion_proof *p,
    const struct rcpt_jwks *keys, int want, const char *field)
{
	struct rcpt_diag d;

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_proof_verify_inclusion(p, keys, &d), want);
	CU_ASSERT(names(&d, field));
}

static void
test_inclusion_refusals(void)
{
	struct rcpt_inclusion_proof p = {0};
	struct rcpt_jwks_key k2[2];
	struct rcpt_jwks keys2 = {.keys = k2, .n = 2};
	char *other;

	build_inclusion(3, 7, &p);
	expect_inclusion(&p, &fx.keys, RCPT_OK, "");

	/* Wrong chain: the checkpoint names "demo". */
	strcpy(p.chain, "other");
	expect_inclusion(&p, &fx.keys, RCPT_E_INVAL, "checkpoint");
	strcpy(p.chain, "Demo");
	expect_inclusion(&p, &fx.keys, RCPT_E_INVAL, "chain");
	strcpy(p.chain, CHAIN);

	/* Wrong size: tree_size is not the checkpoint's. */
	p.tree_size = 8;
	expect_inclusion(&p, &fx.keys, RCPT_E_INVAL, "checkpoint");
	p.tree_size = 3;
	expect_inclusion(&p, &fx.keys, RCPT_E_INVAL, "seq");
	p.tree_size = 7;

	/* Tampered path and entry_hash. */
	p.path[1][5] ^= 0x20;
	expect_inclusion(&p, &fx.keys, RCPT_E_PROOF, "path");
	p.path[1][5] ^= 0x20;
	p.entry_hash[0] ^= 1;
	expect_inclusion(&p, &fx.keys, RCPT_E_PROOF, "path");
	p.entry_hash[0] ^= 1;
	p.path_len--;
	expect_inclusion(&p, &fx.keys, RCPT_E_PROOF, "path");
	p.path_len++;
	p.seq = 2;
	expect_inclusion(&p, &fx.keys, RCPT_E_PROOF, "path");
	p.seq = 3;
	expect_inclusion(&p, &fx.keys, RCPT_OK, "");

	/* Revoked key, key of another chain, no keys at all. */
	fx.jk.status = RCPT_KEY_REVOKED;
	expect_inclusion(&p, &fx.keys, RCPT_E_BAD_SIGNATURE, "checkpoint");
	fx.jk.status = RCPT_KEY_RETIRED;
	expect_inclusion(&p, &fx.keys, RCPT_OK, "");
	fx.jk.status = RCPT_KEY_ACTIVE;
	strcpy(fx.jk.chain, "other");
	expect_inclusion(&p, &fx.keys, RCPT_E_BAD_SIGNATURE, "checkpoint");
	strcpy(fx.jk.chain, CHAIN);
	keys2.n = 0;
	expect_inclusion(&p, &keys2, RCPT_E_BAD_SIGNATURE, "checkpoint");
	expect_inclusion(&p, NULL, RCPT_E_INVAL, "keys");

	/* Checkpoint signed by a key the set does not hold. */
	other = make_note(7, CHAIN, &fx.stranger);
	free(p.checkpoint);
	p.checkpoint = other;
	expect_inclusion(&p, &fx.keys, RCPT_E_BAD_SIGNATURE, "checkpoint");
	/* ... which passes once that key is trusted too. */
	k2[0] = fx.jk;
	k2[1] = fx.jk;
	memcpy(k2[1].pub, fx.stranger.pub, sizeof(k2[1].pub));
	memcpy(k2[1].kid, fx.stranger.kid, sizeof(k2[1].kid));
	keys2.n = 2;
	expect_inclusion(&p, &keys2, RCPT_OK, "");

	/* A note that is not a checkpoint. */
	free(p.checkpoint);
	p.checkpoint = strdup("not a checkpoint\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p.checkpoint);
	{
		struct rcpt_diag d;
		int r;

		rcpt_diag_clear(&d);
		r = rcpt_proof_verify_inclusion(&p, &fx.keys, &d);
		CU_ASSERT(r == RCPT_E_PARSE || r == RCPT_E_INVAL);
		CU_ASSERT(names(&d, "checkpoint"));
	}
	rcpt_proof_inclusion_clear(&p);
}

static void
expect_consistency(
    const struct rcpt_consistency_proof *p, int want, const char *field)
{
	struct rcpt_diag d;

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_proof_verify_consistency(p, &fx.keys, &d), want);
	CU_ASSERT(names(&d, field));
}

static void
test_consistency_refusals(void)
{
	struct rcpt_consistency_proof p = {0};
	char *note, *saved;

	build_consistency(3, 9, &p);
	expect_consistency(&p, RCPT_OK, "");
	p.old_size = 0;
	expect_consistency(&p, RCPT_E_INVAL, "old_size");
	p.old_size = 10;
	expect_consistency(&p, RCPT_E_INVAL, "old_size");
	p.old_size = 4;
	expect_consistency(&p, RCPT_E_INVAL, "old_checkpoint");
	p.old_size = 3;
	p.new_size = 10;
	expect_consistency(&p, RCPT_E_INVAL, "new_checkpoint");
	p.new_size = 9;
	strcpy(p.chain, "other");
	expect_consistency(&p, RCPT_E_INVAL, "old_checkpoint");
	strcpy(p.chain, CHAIN);

	p.path[0][31] ^= 0x80;
	expect_consistency(&p, RCPT_E_PROOF, "path");
	p.path[0][31] ^= 0x80;
	p.path_len--;
	expect_consistency(&p, RCPT_E_PROOF, "path");
	p.path_len++;
	expect_consistency(&p, RCPT_OK, "");

	/* The new checkpoint signed by an unknown key. */
	note = make_note(9, CHAIN, &fx.stranger);
	saved = p.new_checkpoint;
	p.new_checkpoint = note;
	expect_consistency(&p, RCPT_E_BAD_SIGNATURE, "new_checkpoint");
	p.new_checkpoint = saved;
	free(note);
	fx.jk.status = RCPT_KEY_REVOKED;
	expect_consistency(&p, RCPT_E_BAD_SIGNATURE, "old_checkpoint");
	fx.jk.status = RCPT_KEY_ACTIVE;
	rcpt_proof_consistency_clear(&p);

	/* Equal sizes: empty path and equal roots only. */
	build_consistency(5, 5, &p);
	expect_consistency(&p, RCPT_OK, "");
	p.path_len = 1;
	expect_consistency(&p, RCPT_E_PROOF, "path");
	rcpt_proof_consistency_clear(&p);
}

/* Parse refusals */

/* The JSON text of @p o, malloc'd. */
static char *
text_of(json_object *o)
{
	const char *s = json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *t = strdup(s);

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	return t;
}

/* A valid inclusion proof text (seq 4 of 6) as a json-c tree to mutate. */
static json_object *
inclusion_doc(void)
{
	struct rcpt_inclusion_proof p = {0};
	json_object *o;
	char *text;
	size_t len;

	build_inclusion(4, 6, &p);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_proof_inclusion_serialize(&p, &text, &len, NULL), RCPT_OK);
	o = json_tokener_parse(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	free(text);
	rcpt_proof_inclusion_clear(&p);
	return o;
}

static json_object *
consistency_doc(void)
{
	struct rcpt_consistency_proof p = {0};
	json_object *o;
	char *text;
	size_t len;

	build_consistency(3, 6, &p);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_proof_consistency_serialize(&p, &text, &len, NULL), RCPT_OK);
	o = json_tokener_parse(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(o);
	free(text);
	rcpt_proof_consistency_clear(&p);
	return o;
}

/* Parses @p o as @p kind; checks the code, the field, and the kind. */
static void
expect_parse(json_object *o, int kind, int want, const char *field)
{
	struct rcpt_inclusion_proof ip = {0};
	struct rcpt_consistency_proof cp = {0};
	struct rcpt_diag d;
	char *t = text_of(o);
	int r, k;

	rcpt_diag_clear(&d);
	if (kind == RCPT_PROOF_INCLUSION)
		r = rcpt_proof_inclusion_parse(t, strlen(t), &ip, &d);
	else
		r = rcpt_proof_consistency_parse(t, strlen(t), &cp, &d);
	CU_ASSERT_EQUAL(r, want);
	CU_ASSERT(want == RCPT_OK || names(&d, field));
	/* The generic entry point gives the same answer. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_proof_verify_text(t, strlen(t), &fx.keys, &k, &d), want);
	CU_ASSERT(want == RCPT_OK || names(&d, field));
	rcpt_proof_inclusion_clear(&ip);
	rcpt_proof_consistency_clear(&cp);
	free(t);
	json_object_put(o);
}

static void
set(json_object *o, const char *name, json_object *v)
{
	/* json_object_object_add steals v. */
	CU_ASSERT_EQUAL_FATAL(json_object_object_add(o, name, v), 0);
}

static json_object *
upper(json_object *s)
{
	char *t = strdup(json_object_get_string(s));
	json_object *v;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (i = 0; t[i] != '\0'; i++)
		t[i] = (char)toupper((unsigned char)t[i]);
	v = json_object_new_string(t);
	free(t);
	return v;
}

static void
test_inclusion_parse_refusals(void)
{
	const int inc = RCPT_PROOF_INCLUSION;
	json_object *o, *v;

	expect_parse(inclusion_doc(), inc, RCPT_OK, "");

	o = inclusion_doc();
	json_object_object_get_ex(o, "entry_hash", &v);
	set(o, "entry_hash", upper(v));
	expect_parse(o, inc, RCPT_E_INVAL, "entry_hash");

	o = inclusion_doc();
	json_object_object_get_ex(o, "path", &v);
	CU_ASSERT_EQUAL_FATAL(json_object_array_put_idx(
	                          v, 0, upper(json_object_array_get_idx(v, 0))),
	    0);
	expect_parse(o, inc, RCPT_E_INVAL, "path[0]");

	o = inclusion_doc();
	json_object_object_del(o, "seq");
	expect_parse(o, inc, RCPT_E_INVAL, "seq");
	o = inclusion_doc();
	json_object_object_del(o, "path");
	expect_parse(o, inc, RCPT_E_INVAL, "path");
	o = inclusion_doc();
	set(o, "extra", json_object_new_int(1));
	expect_parse(o, inc, RCPT_E_INVAL, "member");

	o = inclusion_doc();
	set(o, "seq", json_object_new_int(6));
	expect_parse(o, inc, RCPT_E_INVAL, "seq");
	o = inclusion_doc();
	set(o, "seq", json_object_new_int(7));
	expect_parse(o, inc, RCPT_E_INVAL, "seq");
	o = inclusion_doc();
	set(o, "seq", json_object_new_string("4"));
	expect_parse(o, inc, RCPT_E_INVAL, "seq");
	o = inclusion_doc();
	set(o, "seq", json_object_new_double(4.5));
	expect_parse(o, inc, RCPT_E_INVAL, "seq");
	o = inclusion_doc();
	set(o, "tree_size", json_object_new_int(-6));
	expect_parse(o, inc, RCPT_E_INVAL, "tree_size");
	o = inclusion_doc();
	set(o, "chain", json_object_new_string("-demo"));
	expect_parse(o, inc, RCPT_E_INVAL, "chain");
	o = inclusion_doc();
	set(o, "chain", json_object_new_int(1));
	expect_parse(o, inc, RCPT_E_INVAL, "chain");
	o = inclusion_doc();
	set(o, "entry_hash", json_object_new_string("00"));
	expect_parse(o, inc, RCPT_E_INVAL, "entry_hash");
	o = inclusion_doc();
	set(o, "path", json_object_new_string(""));
	expect_parse(o, inc, RCPT_E_INVAL, "path");
	o = inclusion_doc();
	set(o, "checkpoint", json_object_new_string(""));
	expect_parse(o, inc, RCPT_E_INVAL, "checkpoint");
	o = inclusion_doc();
	set(o, "checkpoint", json_object_new_string_len("a\0b", 3));
	expect_parse(o, inc, RCPT_E_INVAL, "checkpoint");
}

static void
test_path_length_limit(void)
{
	const int inc = RCPT_PROOF_INCLUSION;
	json_object *o, *a;
	int i;

	o = inclusion_doc();
	a = json_object_new_array();
	for (i = 0; i <= RCPT_MERKLE_MAX_PATH; i++)
		json_object_array_add(a,
		    json_object_new_string("00000000000000000000000000000000"
		                           "00000000000000000000000000000000"));
	set(o, "path", a);
	expect_parse(o, inc, RCPT_E_INVAL, "path");
}

static void
test_consistency_parse_refusals(void)
{
	const int con = RCPT_PROOF_CONSISTENCY;
	json_object *o;

	expect_parse(consistency_doc(), con, RCPT_OK, "");
	o = consistency_doc();
	set(o, "old_size", json_object_new_int(0));
	expect_parse(o, con, RCPT_E_INVAL, "old_size");
	o = consistency_doc();
	set(o, "old_size", json_object_new_int(7));
	expect_parse(o, con, RCPT_E_INVAL, "old_size");
	o = consistency_doc();
	json_object_object_del(o, "new_size");
	expect_parse(o, con, RCPT_E_INVAL, "new_size");
	o = consistency_doc();
	set(o, "seq", json_object_new_int(1));
	expect_parse(o, con, RCPT_E_INVAL, "member");
	o = consistency_doc();
	set(o, "new_checkpoint", json_object_new_int(1));
	expect_parse(o, con, RCPT_E_INVAL, "new_checkpoint");
}

static void
test_kind_and_syntax(void)
{
	struct rcpt_inclusion_proof p = {0};
	struct rcpt_diag d;
	json_object *o;
	char *t;
	int k;

	rcpt_diag_clear(&d);
	k = -1;
	CU_ASSERT_EQUAL(
	    rcpt_proof_verify_text("{\"chain\":", 9, &fx.keys, &k, &d),
	    RCPT_E_PARSE);
	CU_ASSERT_EQUAL(k, RCPT_PROOF_NONE);
	CU_ASSERT_EQUAL(
	    rcpt_proof_inclusion_parse("[1]", 3, &p, NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(
	    rcpt_proof_inclusion_parse("null", 4, &p, NULL), RCPT_E_INVAL);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_proof_verify_text("{}", 2, &fx.keys, &k, &d), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(k, RCPT_PROOF_NONE);
	CU_ASSERT(names(&d, "$"));

	/* Members of both kinds: no kind can be told. */
	o = inclusion_doc();
	set(o, "old_checkpoint", json_object_new_string("x"));
	t = text_of(o);
	CU_ASSERT_EQUAL(rcpt_proof_detect(o), RCPT_PROOF_NONE);
	CU_ASSERT_EQUAL(
	    rcpt_proof_verify_text(t, strlen(t), &fx.keys, &k, NULL),
	    RCPT_E_INVAL);
	free(t);
	json_object_put(o);
	o = consistency_doc();
	CU_ASSERT_EQUAL(rcpt_proof_detect(o), RCPT_PROOF_CONSISTENCY);
	json_object_put(o);
	CU_ASSERT_EQUAL(rcpt_proof_detect(NULL), RCPT_PROOF_NONE);
}

/* Building refusals and allocation failures */

static void
test_build_refusals(void)
{
	struct rcpt_inclusion_proof p = {0};
	struct rcpt_consistency_proof c = {0};
	struct rcpt_diag d;
	uint8_t wrong[RCPT_HASH_LEN];

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_proof_inclusion_build(get_leaf, &fx, CHAIN, 5,
	                    fx.entries[5], fx.notes[5], &p, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(names(&d, "seq"));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_proof_inclusion_build(get_leaf, &fx, "other", 1,
	                    fx.entries[1], fx.notes[5], &p, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(names(&d, "checkpoint"));
	memcpy(wrong, fx.entries[1], sizeof(wrong));
	wrong[3] ^= 4;
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_proof_inclusion_build(get_leaf, &fx, CHAIN, 1,
	                    wrong, fx.notes[5], &p, &d),
	    RCPT_E_PROOF);
	CU_ASSERT(names(&d, "path"));
	CU_ASSERT_PTR_NULL(p.checkpoint);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_proof_consistency_build(get_leaf, &fx, CHAIN,
	                    fx.notes[6], fx.notes[5], &c, &d),
	    RCPT_E_INVAL);
	CU_ASSERT(names(&d, "old_size"));
	CU_ASSERT_PTR_NULL(c.old_checkpoint);
}

static void
test_nomem_paths(void)
{
	struct rcpt_inclusion_proof p = {0};
	char *text = NULL;
	size_t len;
	long n;
	int r = RCPT_E_NOMEM, nomem = 0;

	for (n = 0; n < 200 && r != RCPT_OK; n++) {
		rcpt_mem_fail_after(n);
		r = rcpt_proof_inclusion_build(get_leaf, &fx, CHAIN, 2,
		    fx.entries[2], fx.notes[8], &p, NULL);
		if (r == RCPT_OK)
			r = rcpt_proof_inclusion_serialize(
			    &p, &text, &len, NULL);
		if (r == RCPT_OK)
			r = rcpt_proof_verify_text(
			    text, len, &fx.keys, NULL, NULL);
		rcpt_mem_fail_after(-1);
		if (r == RCPT_E_NOMEM)
			nomem++;
		else
			CU_ASSERT_EQUAL(r, RCPT_OK);
		free(text);
		text = NULL;
		rcpt_proof_inclusion_clear(&p);
	}
	CU_ASSERT_EQUAL(r, RCPT_OK);
	CU_ASSERT(nomem > 0);
}

static CU_TestInfo round_trip_tests[] = {
    {"inclusion: build, write, parse, verify", test_inclusion_round_trip},
    {"inclusion: JCS text shape", test_inclusion_text_shape},
    {"consistency: build, write, parse, verify", test_consistency_round_trip},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo refusal_tests[] = {
    {"inclusion: chain, size, path, keys", test_inclusion_refusals},
    {"consistency: sizes, path, keys", test_consistency_refusals},
    {"inclusion: strict members and types", test_inclusion_parse_refusals},
    {"path longer than the maximum", test_path_length_limit},
    {"consistency: strict members and sizes", test_consistency_parse_refusals},
    {"kind detection and JSON syntax", test_kind_and_syntax},
    {"builders refuse inconsistent input", test_build_refusals},
    {"allocation failures return NOMEM", test_nomem_paths},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "round trips",
        .pInitFunc = suite_init,
        .pCleanupFunc = suite_clean,
        .pTests = round_trip_tests},
    {.pName = "refusals",
        .pInitFunc = suite_init,
        .pCleanupFunc = suite_clean,
        .pTests = refusal_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return rcpt_test_run(suites);
}
