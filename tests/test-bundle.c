/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests for evidence bundles (SPEC 7): writing reproducible ustar files,
 * the export manifest, and verification that accepts good bundles and
 * refuses each way a bundle can be malformed or tampered with.  Broken
 * tars are made with libarchive directly from a good bundle's entries.
 */
#include "config.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "bundle.h"
#include "checkpoint.h"
#include "encode.h"
#include "jcs.h"
#include "jwk.h"
#include "mem.h"
#include "merkle.h"
#include "proof.h"
#include "receipt.h"
#include "softkey.h"
#include "testlib.h"
#include "verify.h"

#define NREC    6
#define CHAIN   "demo"
#define ORIGIN  "example.org/log"
#define CREATED "2024-05-06T07:08:09.123Z"

/* A chain of NREC receipts signed by one software key. */
struct fx {
	struct rcpt_softkey *key;
	struct rcpt_signer s;
	char *lines[NREC]; /* JCS lines, no \n */
	uint8_t eh[NREC][RCPT_HASH_LEN];
	char *keys; /* keys.jwks.json */
	size_t keys_len;
	struct rcpt_jwks_key trust_key;
	struct rcpt_jwks trust; /* the key as a --trust set */
	char *dir;
};

static void
fx_key(const uint8_t fill, struct rcpt_softkey **k, struct rcpt_signer *s)
{
	uint8_t seed[RCPT_ED25519_SEED_LEN];

	memset(seed, fill, sizeof(seed));
	CU_ASSERT_FATAL(rcpt_softkey_from_seed(seed, k) == RCPT_OK);
	rcpt_softkey_signer(*k, s);
}

static json_object *
genesis_data(const struct rcpt_signer *s)
{
	json_object *d = json_object_new_object(), *jwk = NULL;

	CU_ASSERT_FATAL(rcpt_jwk_from_public(s->pub, &jwk) == RCPT_OK);
	json_object_object_add(d, "chain", json_object_new_string(CHAIN));
	json_object_object_add(d, "origin", json_object_new_string(ORIGIN));
	json_object_object_add(d, "key", jwk); /* steals jwk */
	json_object_object_add(d, "sealing", json_object_new_string("each"));
	return d;
}

/* Builds the chain; the last receipt stays unsigned if asked. */
static void
fx_init(struct fx *f, int unsigned_last)
{
	struct rcpt_receipt_fields rf;
	struct rcpt_receipt r;
	struct rcpt_diag d = {0};
	json_object *data;
	char ts[RCPT_TS_LEN + 1];
	size_t len;
	int i;

	memset(f, 0, sizeof(*f));
	fx_key(0x42, &f->key, &f->s);
	for (i = 0; i < NREC; i++) {
		memset(&rf, 0, sizeof(rf));
		snprintf(ts, sizeof(ts), "2024-05-06T07:00:0%d.000Z", i);
		rf.chain = CHAIN;
		rf.seq = (uint64_t)i;
		rf.ts = ts;
		rf.type = i == 0 ? "receiptd.genesis" : "test.event";
		rf.submitter = i == 0 ? "receiptd" : "alice";
		rf.prev_hash = i == 0 ? NULL : f->eh[i - 1];
		rf.kid = f->s.kid;
		if (i == 0)
			data = genesis_data(&f->s);
		else {
			data = json_object_new_object();
			json_object_object_add(data, "i",
			    json_object_new_int(i)); /* steals the int */
		}
		rf.data = data;
		rcpt_receipt_init(&r);
		CU_ASSERT_FATAL(rcpt_receipt_build(&rf, &r, &d) == RCPT_OK);
		json_object_put(data);
		if (!(unsigned_last && i == NREC - 1))
			CU_ASSERT_FATAL(
			    rcpt_receipt_sign(&r, &f->s) == RCPT_OK);
		memcpy(f->eh[i], r.entry_hash, RCPT_HASH_LEN);
		CU_ASSERT_FATAL(
		    rcpt_receipt_serialize(&r, &f->lines[i], &len) == RCPT_OK);
		rcpt_receipt_clear(&r);
	}
	memcpy(f->trust_key.kid, f->s.kid, sizeof(f->trust_key.kid));
	memcpy(f->trust_key.pub, f->s.pub, sizeof(f->trust_key.pub));
	snprintf(f->trust_key.chain, sizeof(f->trust_key.chain), CHAIN);
	f->trust_key.status = RCPT_KEY_ACTIVE;
	snprintf(f->trust_key.created, sizeof(f->trust_key.created),
	    "2024-05-06T07:00:00.000Z");
	f->trust.keys = &f->trust_key;
	f->trust.n = 1;
	CU_ASSERT_FATAL(
	    rcpt_jwks_serialize(&f->trust, &f->keys, &f->keys_len) == RCPT_OK);
	CU_ASSERT_FATAL((f->dir = rcpt_test_mkdtemp()) != NULL);
}

static void
fx_clear(struct fx *f)
{
	int i;

	for (i = 0; i < NREC; i++)
		free(f->lines[i]);
	free(f->keys);
	rcpt_softkey_close(f->key);
	rcpt_test_rmdir(f->dir);
	free(f->dir);
}

/* Receipts a..b as receipts.jsonl; caller frees. */
static char *
fx_receipts(const struct fx *f, int a, int b, size_t *len_out)
{
	struct rcpt_buf buf = {0};
	int i;

	for (i = a; i <= b; i++) {
		CU_ASSERT_FATAL(rcpt_buf_append(&buf, f->lines[i],
		                    strlen(f->lines[i])) == RCPT_OK);
		CU_ASSERT_FATAL(rcpt_buf_append(&buf, "\n", 1) == RCPT_OK);
	}
	*len_out = buf.len;
	return buf.p;
}

/* Checkpoint of the first @p n receipts signed by @p s; caller frees. */
static char *
fx_checkpoint(const struct fx *f, uint64_t n, const struct rcpt_signer *s)
{
	struct rcpt_merkle_acc acc = {0};
	uint8_t leaf[RCPT_HASH_LEN], root[RCPT_HASH_LEN];
	char *note = NULL;
	uint64_t i;

	for (i = 0; i < n; i++) {
		rcpt_merkle_leaf_hash(f->eh[i], leaf);
		rcpt_merkle_acc_push(&acc, leaf);
	}
	rcpt_merkle_acc_root(&acc, root);
	CU_ASSERT_FATAL(
	    rcpt_checkpoint_sign(ORIGIN, CHAIN, n, root, s, &note) == RCPT_OK);
	return note;
}

static int
fx_leaf(void *ctx, uint64_t index, uint8_t out[RCPT_HASH_LEN])
{
	const struct fx *f = ctx;

	if (index >= NREC)
		return RCPT_E_INVAL;
	rcpt_merkle_leaf_hash(f->eh[index], out);
	return RCPT_OK;
}

/* proofs.jsonl for receipt @p seq in @p note; @p flip breaks the path. */
static char *
fx_proof(
    struct fx *f, uint64_t seq, const char *note, int flip, size_t *len_out)
{
	struct rcpt_inclusion_proof p = {0};
	struct rcpt_diag d = {0};
	char *text = NULL, *line;
	size_t len = 0;

	CU_ASSERT_FATAL(rcpt_proof_inclusion_build(fx_leaf, f, CHAIN, seq,
	                    f->eh[seq], note, &p, &d) == RCPT_OK);
	if (flip)
		p.path[0][0] ^= 1;
	CU_ASSERT_FATAL(
	    rcpt_proof_inclusion_serialize(&p, &text, &len, &d) == RCPT_OK);
	rcpt_proof_inclusion_clear(&p);
	line = malloc(len + 2);
	CU_ASSERT_FATAL(line != NULL);
	memcpy(line, text, len);
	memcpy(line + len, "\n", 2);
	free(text);
	*len_out = len + 1;
	return line;
}

/*
 * What a test bundle holds: receipts a..b, a checkpoint of size n, and
 * when needed the proof of receipt b (or of proof_seq, to break it).
 */
struct opts {
	int a, b;
	uint64_t n;
	const struct rcpt_signer *manifest_signer; /* NULL: the chain key */
	const struct rcpt_signer *cp_signer;       /* NULL: the chain key */
	int proof_seq;                             /* -1: receipt b */
	int flip_proof;
	int no_proof;
};

/* The parts of a bundle and the buffers they point into. */
struct parts {
	struct rcpt_bundle_parts p;
	char *rec, *cp, *proof;
};

static void
fx_parts(struct fx *f, const struct opts *o, struct parts *b)
{
	struct rcpt_bundle_parts *p = &b->p;
	size_t rec_len, proof_len = 0;

	memset(b, 0, sizeof(*b));
	b->rec = fx_receipts(f, o->a, o->b, &rec_len);
	b->cp = fx_checkpoint(f, o->n, o->cp_signer ? o->cp_signer : &f->s);
	if (!o->no_proof && (uint64_t)o->b < o->n &&
	    rcpt_bundle_needs_proofs((uint64_t)o->a, (uint64_t)o->b, o->n))
		b->proof = fx_proof(f,
		    (uint64_t)(o->proof_seq < 0 ? o->b : o->proof_seq), b->cp,
		    o->flip_proof, &proof_len);
	p->chain = CHAIN;
	p->first_seq = (uint64_t)o->a;
	p->last_seq = (uint64_t)o->b;
	p->created = CREATED;
	p->receipts = b->rec;
	p->receipts_len = rec_len;
	p->keys = f->keys;
	p->keys_len = f->keys_len;
	p->checkpoint = b->cp;
	p->checkpoint_len = strlen(b->cp);
	p->proofs = b->proof;
	p->proofs_len = proof_len;
}

static void
parts_free(struct parts *b)
{
	free(b->proof);
	free(b->cp);
	free(b->rec);
}

static int
fx_write(
    struct fx *f, const char *name, const struct opts *o, struct rcpt_diag *d)
{
	struct parts b;
	int r;

	fx_parts(f, o, &b);
	r = rcpt_bundle_write(rcpt_test_path(f->dir, name), &b.p,
	    o->manifest_signer ? o->manifest_signer : &f->s, d);
	parts_free(&b);
	return r;
}

static const struct opts whole = {
    .a = 0, .b = NREC - 1, .n = NREC, .proof_seq = -1};
static const struct opts range = {.a = 2, .b = 4, .n = NREC, .proof_seq = -1};

static void
verify(struct fx *f, const char *name, const struct rcpt_jwks *trust,
    struct rcpt_verify_result *res)
{
	rcpt_bundle_verify(rcpt_test_path(f->dir, name), trust, 1, res);
}

/* Asserts a BROKEN result with no seq whose reason holds @p needle. */
static void
assert_broken(const struct rcpt_verify_result *res, const char *needle)
{
	CU_ASSERT_EQUAL(res->status, RCPT_VERIFY_BROKEN);
	CU_ASSERT_FALSE(res->has_seq);
	CU_ASSERT_PTR_NOT_NULL(strstr(res->reason, needle));
	if (strstr(res->reason, needle) == NULL)
		fprintf(stderr, "\n  reason: %s\n  wanted: %s\n", res->reason,
		    needle);
}

/* Tar surgery: entries of a bundle read back and written out again. */
struct tentry {
	char name[64];
	char *data;
	size_t len;
	int symlink;  /* write as a symlink instead of a file */
	int hardlink; /* write as a hard link to manifest.json */
	int pax;      /* force a pax extended header on this entry */
};

struct tar {
	struct tentry e[8];
	size_t n;
};

static void
tar_read(const char *path, struct tar *t)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	la_ssize_t n;

	memset(t, 0, sizeof(*t));
	archive_read_support_format_tar(a);
	CU_ASSERT_FATAL(
	    archive_read_open_filename(a, path, 10240) == ARCHIVE_OK);
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		struct tentry *x = &t->e[t->n++];

		CU_ASSERT_FATAL(t->n < 8);
		snprintf(
		    x->name, sizeof(x->name), "%s", archive_entry_pathname(e));
		x->len = (size_t)archive_entry_size(e);
		x->data = malloc(x->len + 1);
		CU_ASSERT_FATAL(x->data != NULL);
		n = archive_read_data(a, x->data, x->len);
		CU_ASSERT_FATAL(n == (la_ssize_t)x->len);
		x->data[x->len] = '\0';
	}
	archive_read_free(a);
}

static void
tar_write(const char *path, const struct tar *t, int format)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e;
	size_t i;

	CU_ASSERT_FATAL(archive_write_set_format(a, format) == ARCHIVE_OK);
	CU_ASSERT_FATAL(archive_write_open_filename(a, path) == ARCHIVE_OK);
	for (i = 0; i < t->n; i++) {
		const struct tentry *x = &t->e[i];

		e = archive_entry_new();
		archive_entry_set_pathname(e, x->name);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_mtime(e, 1000, x->pax ? 123456 : 0);
		if (x->symlink) {
			archive_entry_set_filetype(e, AE_IFLNK);
			archive_entry_set_symlink(e, "manifest.json");
			archive_entry_set_size(e, 0);
		} else if (x->hardlink) {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_hardlink(e, "manifest.json");
			archive_entry_set_size(e, 0);
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_size(e, (la_int64_t)x->len);
		}
		CU_ASSERT_FATAL(archive_write_header(a, e) == ARCHIVE_OK);
		if (!x->symlink && !x->hardlink)
			CU_ASSERT_FATAL(archive_write_data(a, x->data,
			                    x->len) == (la_ssize_t)x->len);
		archive_entry_free(e);
	}
	CU_ASSERT_FATAL(archive_write_close(a) == ARCHIVE_OK);
	archive_write_free(a);
}

static void
tar_clear(struct tar *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->e[i].data);
	memset(t, 0, sizeof(*t));
}

static struct tentry *
tar_find(struct tar *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->e[i].name, name) == 0)
			return &t->e[i];
	CU_FAIL_FATAL("entry not found");
	return NULL;
}

static void
tar_remove(struct tar *t, const char *name)
{
	struct tentry *x = tar_find(t, name);
	size_t i = (size_t)(x - t->e);

	free(x->data);
	memmove(&t->e[i], &t->e[i + 1], (t->n - i - 1) * sizeof(t->e[0]));
	t->n--;
}

static void
tar_add(struct tar *t, const char *name, const char *data)
{
	struct tentry *x = &t->e[t->n++];

	memset(x, 0, sizeof(*x));
	snprintf(x->name, sizeof(x->name), "%s", name);
	x->data = strdup(data);
	x->len = strlen(data);
}

/*
 * Writes the whole-chain bundle (or the range one), reads it back into
 * @p t for surgery; the caller writes the result with tar_write to
 * "bad.tar".
 */
static void
fx_surgery(struct fx *f, const struct opts *o, struct tar *t)
{
	struct rcpt_diag d = {0};
	char *good = strdup(rcpt_test_path(f->dir, "good.tar"));

	(void)unlink(good);
	CU_ASSERT_FATAL(fx_write(f, "good.tar", o, &d) == RCPT_OK);
	tar_read(good, t);
	free(good);
}

static void
test_whole_chain_is_clean(void)
{
	struct rcpt_verify_result res;
	struct rcpt_diag d = {0};
	struct tar t;
	char line[256];
	struct fx f;
	static const char *const names[] = {"manifest.json", "manifest.sig",
	    "receipts.jsonl", "keys.jwks.json", "checkpoint.txt"};
	static const char prefix[] =
	    "{\"chain\":\"demo\",\"created\":\"" CREATED "\",\"files\":{";
	size_t i;

	fx_init(&f, 0);
	CU_ASSERT_EQUAL_FATAL(fx_write(&f, "b.tar", &whole, &d), RCPT_OK);
	verify(&f, "b.tar", NULL, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	CU_ASSERT_EQUAL(res.count, NREC);
	CU_ASSERT_FALSE(res.pinned);
	rcpt_verify_format(&res, line, sizeof(line));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "Chain integrity: CLEAN (6"));
	rcpt_bundle_verify(rcpt_test_path(f.dir, "b.tar"), NULL, 4, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	CU_ASSERT_EQUAL(res.count, NREC);
	/* Same result when the keys are pinned. */
	verify(&f, "b.tar", &f.trust, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	CU_ASSERT_TRUE(res.pinned);
	/* SPEC 7 order, no proofs.jsonl since A = 0 and N = B + 1. */
	tar_read(rcpt_test_path(f.dir, "b.tar"), &t);
	CU_ASSERT_EQUAL(t.n, 5);
	for (i = 0; i < t.n && i < 5; i++)
		CU_ASSERT_STRING_EQUAL(t.e[i].name, names[i]);
	CU_ASSERT_EQUAL(t.e[1].len, RCPT_BUNDLE_SIG_TEXT_LEN);
	CU_ASSERT_EQUAL(t.e[1].data[128], '\n');
	CU_ASSERT_EQUAL(strncmp(t.e[0].data, prefix, strlen(prefix)), 0);
	tar_clear(&t);
	fx_clear(&f);
}

static void
test_range_with_trust_is_clean(void)
{
	struct rcpt_verify_result res;
	struct rcpt_diag d = {0};
	struct tar t;
	struct fx f;

	fx_init(&f, 0);
	CU_ASSERT_EQUAL_FATAL(fx_write(&f, "b.tar", &range, &d), RCPT_OK);
	verify(&f, "b.tar", &f.trust, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	CU_ASSERT_EQUAL(res.count, 3);
	tar_read(rcpt_test_path(f.dir, "b.tar"), &t);
	CU_ASSERT_EQUAL(t.n, 6);
	CU_ASSERT_STRING_EQUAL(t.e[5].name, "proofs.jsonl");
	tar_clear(&t);
	fx_clear(&f);
}

static void
test_prefix_with_larger_checkpoint_is_clean(void)
{
	struct opts o = {.a = 0, .b = 3, .n = NREC, .proof_seq = -1};
	struct rcpt_verify_result res;
	struct rcpt_diag d = {0};
	struct fx f;

	fx_init(&f, 0);
	CU_ASSERT_EQUAL_FATAL(fx_write(&f, "b.tar", &o, &d), RCPT_OK);
	verify(&f, "b.tar", NULL, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	CU_ASSERT_EQUAL(res.count, 4);
	fx_clear(&f);
}

static void
test_write_is_reproducible(void)
{
	struct rcpt_diag d = {0};
	char *a, *b;
	size_t alen, blen;
	struct fx f;

	fx_init(&f, 0);
	CU_ASSERT_EQUAL_FATAL(fx_write(&f, "1.tar", &range, &d), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(fx_write(&f, "2.tar", &range, &d), RCPT_OK);
	a = rcpt_test_read_file(rcpt_test_path(f.dir, "1.tar"), &alen);
	b = rcpt_test_read_file(rcpt_test_path(f.dir, "2.tar"), &blen);
	CU_ASSERT_FATAL(a != NULL && b != NULL);
	CU_ASSERT_EQUAL(alen, blen);
	CU_ASSERT_EQUAL(alen % 512, 0);
	CU_ASSERT(memcmp(a, b, alen) == 0);
	/* ustar magic, mode 0644, uid 0, mtime = created (1714979289). */
	CU_ASSERT(memcmp(a + 257,
	              "ustar\0"
	              "00",
	              8) == 0);
	CU_ASSERT(memcmp(a + 100, "000644 ", 7) == 0);
	CU_ASSERT(memcmp(a + 108, "000000 ", 7) == 0);
	CU_ASSERT(strtoll(a + 136, NULL, 8) == 1714979289LL);
	free(a);
	free(b);
	fx_clear(&f);
}

static int
count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
test_write_refuses_existing_path(void)
{
	struct rcpt_diag d = {0};
	char *text;
	struct fx f;

	fx_init(&f, 0);
	CU_ASSERT_FATAL(rcpt_test_write_file(
	                    rcpt_test_path(f.dir, "b.tar"), "keep", 4) == 0);
	CU_ASSERT_EQUAL(fx_write(&f, "b.tar", &whole, &d), RCPT_E_EXISTS);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "bundle: output exists"));
	text = rcpt_test_read_file(rcpt_test_path(f.dir, "b.tar"), NULL);
	CU_ASSERT_STRING_EQUAL(text, "keep");
	free(text);
	/* No temporary file left behind. */
	CU_ASSERT_EQUAL(count_dir(f.dir), 1);
	fx_clear(&f);
}

static void
test_write_refuses_bad_parts(void)
{
	struct opts o = whole;
	struct rcpt_diag d = {0};
	struct fx f;

	fx_init(&f, 0);
	/* Range 2..4 needs proofs.jsonl. */
	o = range;
	o.no_proof = 1;
	CU_ASSERT_EQUAL(fx_write(&f, "b.tar", &o, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "proofs.jsonl:"));
	/* Checkpoint smaller than last_seq + 1. */
	rcpt_diag_clear(&d);
	o = whole;
	o.n = NREC - 2;
	CU_ASSERT_EQUAL(fx_write(&f, "b.tar", &o, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "checkpoint.txt:"));
	CU_ASSERT_EQUAL(count_dir(f.dir), 0);
	fx_clear(&f);
}

static void
test_manifest_for_export(void)
{
	struct rcpt_bundle_parts p = {0};
	struct rcpt_diag d = {0};
	char sig[RCPT_BUNDLE_SIG_TEXT_LEN + 1];
	uint8_t h[RCPT_HASH_LEN];
	char *rec, *cp, *m = NULL, *m2 = NULL;
	size_t rec_len, mlen = 0, m2len = 0;
	struct tar t;
	struct fx f;

	fx_init(&f, 0);
	rec = fx_receipts(&f, 0, NREC - 1, &rec_len);
	cp = fx_checkpoint(&f, NREC, &f.s);
	CU_ASSERT_FATAL(
	    EVP_Digest(rec, rec_len, h, NULL, EVP_sha256(), NULL) == 1);
	p.chain = CHAIN;
	p.first_seq = 0;
	p.last_seq = NREC - 1;
	p.created = CREATED;
	p.receipts_sha256 = h; /* the export shape: no receipts bytes */
	p.keys = f.keys;
	p.keys_len = f.keys_len;
	p.checkpoint = cp;
	p.checkpoint_len = strlen(cp);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_bundle_manifest(&p, &f.s, &m, &mlen, sig, &d), RCPT_OK);
	CU_ASSERT_EQUAL(strlen(sig), RCPT_BUNDLE_SIG_TEXT_LEN);
	CU_ASSERT_EQUAL(sig[128], '\n');
	/* Same bytes as the manifest of a written bundle. */
	CU_ASSERT_EQUAL_FATAL(fx_write(&f, "b.tar", &whole, &d), RCPT_OK);
	tar_read(rcpt_test_path(f.dir, "b.tar"), &t);
	CU_ASSERT_EQUAL(t.e[0].len, mlen);
	CU_ASSERT_STRING_EQUAL(t.e[0].data, m);
	CU_ASSERT_STRING_EQUAL(t.e[1].data, sig);
	/* The receipts bytes, when given, win over the hash. */
	p.receipts = rec;
	p.receipts_len = rec_len;
	CU_ASSERT_EQUAL(
	    rcpt_bundle_manifest(&p, &f.s, &m2, &m2len, sig, &d), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(m2, m);
	free(m2);
	/* Refusals name the part. */
	p.created = "2024-05-06 07:08:09Z";
	CU_ASSERT_EQUAL(
	    rcpt_bundle_manifest(&p, &f.s, &m2, &m2len, sig, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NULL(m2);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "created:"));
	rcpt_diag_clear(&d);
	p.created = CREATED;
	p.chain = "Demo";
	CU_ASSERT_EQUAL(
	    rcpt_bundle_manifest(&p, &f.s, &m2, &m2len, sig, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "chain:"));
	rcpt_diag_clear(&d);
	p.chain = CHAIN;
	p.first_seq = 4;
	p.last_seq = 3;
	CU_ASSERT_EQUAL(
	    rcpt_bundle_manifest(&p, &f.s, &m2, &m2len, sig, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "last_seq:"));
	tar_clear(&t);
	free(m);
	free(cp);
	free(rec);
	fx_clear(&f);
}

static void
test_refuses_extra_entry(void)
{
	struct rcpt_verify_result res;
	struct tar t;
	struct fx f;

	fx_init(&f, 0);
	fx_surgery(&f, &whole, &t);
	tar_add(&t, "notes.txt", "hello\n");
	tar_write(
	    rcpt_test_path(f.dir, "bad.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "bad.tar", NULL, &res);
	assert_broken(&res, "bundle: entry 6: not a file a bundle may hold");
	tar_clear(&t);
	/* A seventh entry after a complete bundle. */
	fx_surgery(&f, &range, &t);
	tar_add(&t, "manifest.json", "{}");
	tar_write(
	    rcpt_test_path(f.dir, "bad2.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "bad2.tar", &f.trust, &res);
	assert_broken(&res, "entry 7: more entries than a bundle holds");
	tar_clear(&t);
	fx_clear(&f);
}

static void
test_refuses_symlink_entry(void)
{
	struct rcpt_verify_result res;
	struct tar t;
	struct fx f;

	fx_init(&f, 0);
	fx_surgery(&f, &whole, &t);
	tar_find(&t, "keys.jwks.json")->symlink = 1;
	tar_write(
	    rcpt_test_path(f.dir, "bad.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "bad.tar", NULL, &res);
	assert_broken(&res, "bundle: entry 4: not a regular file");
	tar_find(&t, "keys.jwks.json")->symlink = 0;
	tar_find(&t, "keys.jwks.json")->hardlink = 1;
	tar_write(
	    rcpt_test_path(f.dir, "bad2.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "bad2.tar", NULL, &res);
	assert_broken(&res, "bundle: entry 4: not a regular file");
	tar_clear(&t);
	fx_clear(&f);
}

static void
test_refuses_pax_and_gnu(void)
{
	struct rcpt_verify_result res;
	struct tar t;
	struct fx f;

	fx_init(&f, 0);
	fx_surgery(&f, &whole, &t);
	tar_find(&t, "receipts.jsonl")->pax = 1;
	tar_write(rcpt_test_path(f.dir, "pax.tar"), &t,
	    ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE);
	verify(&f, "pax.tar", NULL, &res);
	assert_broken(&res, "bundle: entry 3: pax, GNU or other tar "
	                    "extension");
	tar_write(
	    rcpt_test_path(f.dir, "gnu.tar"), &t, ARCHIVE_FORMAT_TAR_GNUTAR);
	verify(&f, "gnu.tar", NULL, &res);
	assert_broken(&res, "bundle: entry 1: pax, GNU or other tar "
	                    "extension");
	tar_clear(&t);
	fx_clear(&f);
}

static void
test_refuses_bad_order_duplicates_missing(void)
{
	struct rcpt_verify_result res;
	struct tentry x;
	struct tar t;
	struct fx f;

	fx_init(&f, 0);
	fx_surgery(&f, &whole, &t);
	x = t.e[2];
	t.e[2] = t.e[3];
	t.e[3] = x;
	tar_write(
	    rcpt_test_path(f.dir, "order.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "order.tar", NULL, &res);
	assert_broken(&res,
	    "bundle: keys.jwks.json: out of order or receipts.jsonl missing");
	tar_clear(&t);

	fx_surgery(&f, &whole, &t);
	tar_remove(&t, "checkpoint.txt");
	tar_write(
	    rcpt_test_path(f.dir, "missing.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "missing.tar", NULL, &res);
	assert_broken(&res, "bundle: checkpoint.txt: missing");
	tar_add(&t, "keys.jwks.json", "{}");
	tar_write(
	    rcpt_test_path(f.dir, "dup.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "dup.tar", NULL, &res);
	assert_broken(&res, "bundle: keys.jwks.json: appears twice");
	tar_clear(&t);
	fx_clear(&f);
}

static void
test_refuses_trailing_data(void)
{
	struct rcpt_verify_result res;
	const char *path;
	FILE *fp;
	struct fx f;
	struct rcpt_diag d = {0};

	fx_init(&f, 0);
	CU_ASSERT_EQUAL_FATAL(fx_write(&f, "b.tar", &whole, &d), RCPT_OK);
	path = rcpt_test_path(f.dir, "b.tar");
	/* Zero padding after the end marker is fine... */
	fp = fopen(path, "ab");
	CU_ASSERT_FATAL(fp != NULL);
	fwrite("\0\0\0\0", 1, 4, fp);
	fclose(fp);
	verify(&f, "b.tar", NULL, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	/* ...anything else is not. */
	fp = fopen(rcpt_test_path(f.dir, "b.tar"), "ab");
	CU_ASSERT_FATAL(fp != NULL);
	fwrite("x", 1, 1, fp);
	fclose(fp);
	verify(&f, "b.tar", NULL, &res);
	assert_broken(&res, "bundle: data after the end-of-archive marker");
	/* A file that is no tar at all. */
	CU_ASSERT_FATAL(rcpt_test_write_file(rcpt_test_path(f.dir, "x.tar"),
	                    "not a tar file", 14) == 0);
	verify(&f, "x.tar", NULL, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_BROKEN);
	/* And one that does not exist: an I/O error. */
	verify(&f, "nothing.tar", NULL, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.reason, "bundle: cannot read"));
	fx_clear(&f);
}

static void
test_tampered_receipt_broken_at_seq(void)
{
	struct rcpt_verify_result res;
	struct tentry *x;
	struct tar t;
	struct fx f;
	char *p;

	fx_init(&f, 0);
	fx_surgery(&f, &whole, &t);
	x = tar_find(&t, "receipts.jsonl");
	CU_ASSERT_FATAL((p = strstr(x->data, "\"data\":{\"i\":3}")) != NULL);
	p[strlen("\"data\":{\"i\":")] = '7';
	tar_write(
	    rcpt_test_path(f.dir, "bad.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "bad.tar", NULL, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_BROKEN);
	CU_ASSERT_TRUE(res.has_seq);
	CU_ASSERT_EQUAL(res.seq, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.reason, "data_hash"));
	/* The same with signature workers. */
	rcpt_bundle_verify(rcpt_test_path(f.dir, "bad.tar"), NULL, 4, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_BROKEN);
	CU_ASSERT_TRUE(res.has_seq);
	CU_ASSERT_EQUAL(res.seq, 3);
	tar_clear(&t);
	fx_clear(&f);
}

static void
test_tampered_manifest_signature_fails(void)
{
	struct rcpt_verify_result res;
	struct tentry *x;
	struct tar t;
	struct fx f;
	char *p;

	fx_init(&f, 0);
	fx_surgery(&f, &whole, &t);
	x = tar_find(&t, "manifest.json");
	CU_ASSERT_FATAL((p = strstr(x->data, "2024-05-06")) != NULL);
	p[3] = '5'; /* still a valid TS and still JCS */
	tar_write(
	    rcpt_test_path(f.dir, "bad.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "bad.tar", NULL, &res);
	assert_broken(&res, "manifest.sig: signature does not verify under "
	                    "kid ");
	/* A manifest that is not canonical. */
	x->data[x->len - 1] = ' ';
	x->data = realloc(x->data, x->len + 2);
	memcpy(x->data + x->len, "}", 2);
	x->len++;
	tar_write(
	    rcpt_test_path(f.dir, "bad2.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "bad2.tar", NULL, &res);
	assert_broken(&res, "manifest.json: not in canonical JSON (JCS) form");
	/* A malformed manifest.sig. */
	tar_clear(&t);
	fx_surgery(&f, &whole, &t);
	tar_find(&t, "manifest.sig")->data[0] = 'A';
	tar_write(
	    rcpt_test_path(f.dir, "bad3.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "bad3.tar", NULL, &res);
	assert_broken(&res, "manifest.sig: must be 128 lowercase hex digits");
	tar_clear(&t);
	fx_clear(&f);
}

static void
test_refuses_keys_hash_mismatch(void)
{
	struct rcpt_verify_result res;
	struct tentry *x;
	struct tar t;
	struct fx f;

	fx_init(&f, 0);
	fx_surgery(&f, &whole, &t);
	x = tar_find(&t, "keys.jwks.json");
	free(x->data);
	x->data = strdup("{\"keys\":[]}");
	x->len = strlen(x->data);
	tar_write(
	    rcpt_test_path(f.dir, "bad.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "bad.tar", NULL, &res);
	assert_broken(&res, "manifest.json: files.keys.jwks.json: SHA-256 "
	                    "does not match the file");
	tar_clear(&t);
	fx_clear(&f);
}

static void
test_refuses_missing_or_extra_proofs(void)
{
	struct rcpt_verify_result res;
	struct tar t;
	struct fx f;

	fx_init(&f, 0);
	fx_surgery(&f, &range, &t);
	tar_remove(&t, "proofs.jsonl");
	tar_write(
	    rcpt_test_path(f.dir, "bad.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "bad.tar", &f.trust, &res);
	assert_broken(&res, "proofs.jsonl: missing");
	tar_clear(&t);
	/* proofs.jsonl where A = 0 and N = B + 1. */
	fx_surgery(&f, &whole, &t);
	tar_add(&t, "proofs.jsonl", "{}\n");
	tar_write(
	    rcpt_test_path(f.dir, "bad2.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "bad2.tar", NULL, &res);
	assert_broken(&res, "proofs.jsonl: present although");
	tar_clear(&t);
	fx_clear(&f);
}

static void
test_refuses_wrong_proof(void)
{
	struct rcpt_verify_result res;
	struct rcpt_diag d = {0};
	struct opts o = range;
	struct fx f;

	fx_init(&f, 0);
	o.proof_seq = 3; /* the proof of another receipt */
	CU_ASSERT_EQUAL_FATAL(fx_write(&f, "seq.tar", &o, &d), RCPT_OK);
	verify(&f, "seq.tar", &f.trust, &res);
	assert_broken(&res, "proofs.jsonl: not the proof of receipt last_seq");
	o.proof_seq = -1;
	o.flip_proof = 1;
	CU_ASSERT_EQUAL_FATAL(fx_write(&f, "path.tar", &o, &d), RCPT_OK);
	verify(&f, "path.tar", &f.trust, &res);
	assert_broken(&res, "proofs.jsonl: inclusion proof does not lead");
	fx_clear(&f);
}

static void
test_refuses_foreign_keys(void)
{
	struct rcpt_verify_result res;
	struct rcpt_diag d = {0};
	struct rcpt_softkey *k2;
	struct rcpt_signer s2;
	struct opts o = whole;
	struct fx f;

	fx_init(&f, 0);
	fx_key(0x17, &k2, &s2);
	o.manifest_signer = &s2;
	CU_ASSERT_EQUAL_FATAL(fx_write(&f, "m.tar", &o, &d), RCPT_OK);
	verify(&f, "m.tar", NULL, &res);
	assert_broken(&res, "manifest.json: kid: not a key of this chain");
	o = range;
	o.cp_signer = &s2;
	CU_ASSERT_EQUAL_FATAL(fx_write(&f, "c.tar", &o, &d), RCPT_OK);
	verify(&f, "c.tar", &f.trust, &res);
	assert_broken(
	    &res, "checkpoint.txt: checkpoint signature does not verify");
	rcpt_softkey_close(k2);
	fx_clear(&f);
}

static void
test_range_needs_trust(void)
{
	struct rcpt_verify_result res;
	struct rcpt_diag d = {0};
	struct fx f;

	fx_init(&f, 0);
	CU_ASSERT_EQUAL_FATAL(fx_write(&f, "b.tar", &range, &d), RCPT_OK);
	verify(&f, "b.tar", NULL, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_ERROR);
	CU_ASSERT_FALSE(res.has_seq);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.reason,
	    "a bundle that does not start at seq 0 can only be verified with "
	    "--trust"));
	fx_clear(&f);
}

static void
test_refuses_unsigned_last_receipt(void)
{
	struct rcpt_verify_result res;
	struct rcpt_diag d = {0};
	struct tentry *x;
	struct tar t;
	struct fx f;
	char *p;

	/* The writer refuses to pack it... */
	fx_init(&f, 1);
	CU_ASSERT_EQUAL(fx_write(&f, "b.tar", &whole, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(
	    d.msg, "receipts.jsonl: the last receipt carries no signature"));
	fx_clear(&f);
	/* ...and the verifier refuses one made by hand. */
	fx_init(&f, 0);
	fx_surgery(&f, &whole, &t);
	x = tar_find(&t, "receipts.jsonl");
	x->data[x->len - 1] = '\0'; /* to find the start of the last line */
	p = strrchr(x->data, '\n');
	x->data[x->len - 1] = '\n';
	CU_ASSERT_FATAL(p != NULL);
	/* Cut ,"signature":"<128 hex>" (143 bytes) out of it. */
	CU_ASSERT_FATAL((p = strstr(p, ",\"signature\":\"")) != NULL);
	memmove(p, p + 143, x->len - (size_t)(p + 143 - x->data) + 1);
	x->len -= 143;
	tar_write(
	    rcpt_test_path(f.dir, "bad.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "bad.tar", NULL, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_BROKEN);
	CU_ASSERT_TRUE(res.has_seq);
	CU_ASSERT_EQUAL(res.seq, NREC - 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.reason, "unsealed"));
	tar_clear(&t);
	fx_clear(&f);
}

static void
test_out_of_memory(void)
{
	struct rcpt_verify_result res;
	struct rcpt_diag d;
	struct parts b;
	char name[32];
	struct fx f;
	long n;
	int r;

	fx_init(&f, 0);
	fx_parts(&f, &range, &b);
	for (n = 0;; n++) {
		snprintf(name, sizeof(name), "oom%ld.tar", n);
		rcpt_diag_clear(&d);
		rcpt_mem_fail_after(n);
		r = rcpt_bundle_write(
		    rcpt_test_path(f.dir, name), &b.p, &f.s, &d);
		rcpt_mem_fail_after(-1);
		if (r == RCPT_OK)
			break;
		CU_ASSERT_EQUAL_FATAL(r, RCPT_E_NOMEM);
		CU_ASSERT_FATAL(n < 10000);
	}
	/* Failed runs left no temporary file behind. */
	CU_ASSERT_EQUAL(count_dir(f.dir), 1);
	for (n = 0;; n++) {
		rcpt_mem_fail_after(n);
		rcpt_bundle_verify(
		    rcpt_test_path(f.dir, name), &f.trust, 1, &res);
		rcpt_mem_fail_after(-1);
		if (res.status == RCPT_VERIFY_CLEAN)
			break;
		CU_ASSERT_EQUAL_FATAL(res.status, RCPT_VERIFY_ERROR);
		CU_ASSERT_FATAL(n < 100000);
	}
	parts_free(&b);
	fx_clear(&f);
}

static void
test_refuses_unterminated_last_line(void)
{
	struct rcpt_verify_result res;
	struct tentry *x;
	struct tar t;
	struct fx f;

	fx_init(&f, 0);
	fx_surgery(&f, &whole, &t);
	x = tar_find(&t, "receipts.jsonl");
	x->data[--x->len] = '\0';
	tar_write(
	    rcpt_test_path(f.dir, "bad.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "bad.tar", NULL, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_BROKEN);
	CU_ASSERT_TRUE(res.has_seq);
	CU_ASSERT_EQUAL(res.seq, NREC - 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(
	    res.reason, "receipts.jsonl: last line does not end in \\n"));
	tar_clear(&t);
	fx_clear(&f);
}

static void
test_refuses_range_mismatch(void)
{
	struct opts o = {.a = 0, .b = 4, .n = NREC, .proof_seq = -1};
	struct rcpt_verify_result res;
	struct rcpt_diag d = {0};
	struct tentry *x;
	struct parts b;
	struct tar t;
	struct fx f;

	fx_init(&f, 0);
	/* The writer checks the range against the lines... */
	fx_parts(&f, &o, &b);
	b.p.last_seq = 3;
	CU_ASSERT_EQUAL(
	    rcpt_bundle_write(rcpt_test_path(f.dir, "b.tar"), &b.p, &f.s, &d),
	    RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "receipts.jsonl: must hold"));
	parts_free(&b);
	/* ...so a manifest for 0..4 over receipts 0..5 is made by hand. */
	fx_surgery(&f, &o, &t);
	x = tar_find(&t, "receipts.jsonl");
	free(x->data);
	x->data = fx_receipts(&f, 0, NREC - 1, &x->len);
	tar_write(
	    rcpt_test_path(f.dir, "bad.tar"), &t, ARCHIVE_FORMAT_TAR_USTAR);
	verify(&f, "bad.tar", NULL, &res);
	assert_broken(
	    &res, "manifest.json: last_seq: does not match the last receipt");
	tar_clear(&t);
	fx_clear(&f);
}

/* Writes the hex of @p n bytes over the value of string span @p sp. */
static void
put_hex(
    char *line, const struct rcpt_receipt_span *sp, const uint8_t *b, size_t n)
{
	char hex[2 * RCPT_ED25519_SIG_LEN + 1];

	CU_ASSERT_FATAL(sp->len == 2 * n + 2);
	rcpt_hex_encode(b, n, hex);
	memcpy(line + (sp->p - line) + 1, hex, 2 * n);
}

/*
 * Replaces @p from by @p to in the last receipt, then recomputes its
 * data_hash, entry_hash and signature as the appliance would have.
 */
static void
fx_reseal_last(struct fx *f, const char *from, const char *to)
{
	struct rcpt_receipt_view vw;
	struct rcpt_buf sv = {0};
	uint8_t h[RCPT_HASH_LEN], sig[RCPT_ED25519_SIG_LEN];
	char **line = &f->lines[NREC - 1], *at, *n;
	size_t len;

	CU_ASSERT_FATAL((at = strstr(*line, from)) != NULL);
	len = strlen(*line) - strlen(from) + strlen(to);
	CU_ASSERT_FATAL((n = malloc(len + 1)) != NULL);
	snprintf(n, len + 1, "%.*s%s%s", (int)(at - *line), *line, to,
	    at + strlen(from));
	free(*line);
	*line = n;
	CU_ASSERT_FATAL(rcpt_receipt_scan(n, len, 256, &vw, NULL) == RCPT_OK);
	SHA256((const unsigned char *)vw.data.p, vw.data.len, h);
	put_hex(n, &vw.data_hash, h, sizeof(h));
	CU_ASSERT_FATAL(rcpt_receipt_scan(n, len, 256, &vw, NULL) == RCPT_OK);
	CU_ASSERT_FATAL(rcpt_receipt_view_signed(&vw, &sv) == RCPT_OK);
	SHA256((const unsigned char *)sv.p, sv.len, h);
	rcpt_buf_clear(&sv);
	put_hex(n, &vw.entry_hash, h, sizeof(h));
	CU_ASSERT_FATAL(f->s.sign(f->s.ctx, f->s.kid, h, sig) == RCPT_OK);
	put_hex(n, &vw.signature, sig, sizeof(sig));
	memcpy(f->eh[NREC - 1], h, RCPT_HASH_LEN);
}

/*
 * Writes a bundle without the writer's own checks on the receipts: the
 * manifest is made from their hash and the tar from the parts.
 */
static void
fx_write_raw(struct fx *f, const char *name, const struct opts *o)
{
	char sig[RCPT_BUNDLE_SIG_TEXT_LEN + 1], *m = NULL;
	uint8_t h[RCPT_HASH_LEN];
	struct rcpt_diag d = {0};
	struct parts b;
	struct tar t;
	size_t mlen = 0;

	fx_parts(f, o, &b);
	SHA256((const unsigned char *)b.rec, b.p.receipts_len, h);
	b.p.receipts = NULL;
	b.p.receipts_sha256 = h;
	CU_ASSERT_FATAL(
	    rcpt_bundle_manifest(&b.p, &f->s, &m, &mlen, sig, &d) == RCPT_OK);
	memset(&t, 0, sizeof(t));
	tar_add(&t, "manifest.json", m);
	tar_add(&t, "manifest.sig", sig);
	tar_add(&t, "receipts.jsonl", b.rec);
	tar_add(&t, "keys.jwks.json", f->keys);
	tar_add(&t, "checkpoint.txt", b.cp);
	if (b.proof != NULL)
		tar_add(&t, "proofs.jsonl", b.proof);
	tar_write(rcpt_test_path(f->dir, name), &t, ARCHIVE_FORMAT_TAR_USTAR);
	tar_clear(&t);
	free(m);
	parts_free(&b);
}

/*
 * U+0000 in a submitter or a data member name is valid I-JSON that the
 * verifier accepts; the bundle checks that read the last line again
 * must accept it too.
 */
static void
test_nul_in_last_receipt_is_clean(void)
{
	static const struct opts tail = {
	    .a = 2, .b = NREC - 1, .n = NREC, .proof_seq = -1};
	static const char *const cases[][2] = {
	    {"\"submitter\":\"alice\"", "\"submitter\":\"a\\u0000\""},
	    {"\"data\":{\"i\":5}", "\"data\":{\"\\u0000\":5}"},
	};
	struct rcpt_verify_result res;
	struct fx f;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fx_init(&f, 0);
		fx_reseal_last(&f, cases[i][0], cases[i][1]);
		fx_write_raw(&f, "b.tar", &whole);
		verify(&f, "b.tar", NULL, &res);
		CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
		CU_ASSERT_EQUAL(res.count, NREC);
		if (res.status != RCPT_VERIFY_CLEAN)
			fprintf(stderr, "\n  reason: %s\n", res.reason);
		/* A range ending there, with its proof. */
		fx_write_raw(&f, "r.tar", &tail);
		verify(&f, "r.tar", &f.trust, &res);
		CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
		CU_ASSERT_EQUAL(res.count, NREC - 2);
		fx_clear(&f);
	}
}

/* The chain's key and a second one, as --trust for CHAIN. */
static void
two_key_trust(const struct fx *f, const struct rcpt_signer *s2,
    struct rcpt_jwks_key k[2], struct rcpt_jwks *set)
{
	k[0] = f->trust_key;
	memset(&k[1], 0, sizeof(k[1]));
	memcpy(k[1].kid, s2->kid, sizeof(k[1].kid));
	memcpy(k[1].pub, s2->pub, sizeof(k[1].pub));
	snprintf(k[1].chain, sizeof(k[1].chain), CHAIN);
	k[1].status = RCPT_KEY_ACTIVE;
	snprintf(k[1].created, sizeof(k[1].created), "%s", CREATED);
	set->keys = k;
	set->n = 2;
}

/*
 * A key --trust lists as retired at T cannot make receipts, a manifest
 * or a checkpoint for receipts after T (SPEC 3, 4, 8).
 */
static void
test_refuses_key_retired_per_trust(void)
{
	struct rcpt_verify_result res;
	struct rcpt_diag d = {0};
	struct rcpt_jwks_key k[2];
	struct rcpt_jwks set;
	struct rcpt_softkey *k2;
	struct rcpt_signer s2;
	struct opts o;
	struct fx f;

	fx_init(&f, 0);
	fx_key(0x17, &k2, &s2);
	two_key_trust(&f, &s2, k, &set);
	/* Receipts 2..4 (ts :02 to :04) by the chain's key, retired :02. */
	k[0].status = RCPT_KEY_RETIRED;
	snprintf(
	    k[0].retired, sizeof(k[0].retired), "2024-05-06T07:00:02.000Z");
	CU_ASSERT_EQUAL_FATAL(fx_write(&f, "b.tar", &range, &d), RCPT_OK);
	verify(&f, "b.tar", &set, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_BROKEN);
	CU_ASSERT_TRUE(res.has_seq);
	CU_ASSERT_EQUAL(res.seq, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.reason,
	    "is retired per --trust from 2024-05-06T07:00:02.000Z"));
	/* Retired at :04, it made them all: clean. */
	snprintf(
	    k[0].retired, sizeof(k[0].retired), "2024-05-06T07:00:04.000Z");
	verify(&f, "b.tar", &set, &res);
	CU_ASSERT_EQUAL(res.status, RCPT_VERIFY_CLEAN);
	CU_ASSERT_EQUAL(res.count, 3);
	/* A manifest or checkpoint by a key retired before the receipts. */
	two_key_trust(&f, &s2, k, &set);
	k[1].status = RCPT_KEY_RETIRED;
	snprintf(
	    k[1].retired, sizeof(k[1].retired), "2024-05-06T07:00:01.000Z");
	o = whole;
	o.manifest_signer = &s2;
	CU_ASSERT_EQUAL_FATAL(fx_write(&f, "m.tar", &o, &d), RCPT_OK);
	verify(&f, "m.tar", &set, &res);
	assert_broken(&res, "manifest.json: kid: the key is revoked, or was "
	                    "retired before last_seq");
	o = range;
	o.cp_signer = &s2;
	CU_ASSERT_EQUAL_FATAL(fx_write(&f, "c.tar", &o, &d), RCPT_OK);
	verify(&f, "c.tar", &set, &res);
	assert_broken(
	    &res, "checkpoint.txt: checkpoint signature does not verify");
	rcpt_softkey_close(k2);
	fx_clear(&f);
}

static CU_TestInfo write_tests[] = {
    {"whole chain, no proofs, is clean", test_whole_chain_is_clean},
    {"range with proof and trust is clean", test_range_with_trust_is_clean},
    {"prefix under a larger checkpoint is clean",
        test_prefix_with_larger_checkpoint_is_clean},
    {"writes the same bytes twice", test_write_is_reproducible},
    {"refuses to overwrite an existing path", test_write_refuses_existing_path},
    {"refuses parts that break SPEC 7", test_write_refuses_bad_parts},
    {"export manifest matches the written one", test_manifest_for_export},
    {"out of memory at every allocation", test_out_of_memory},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo tar_tests[] = {
    {"refuses an extra entry", test_refuses_extra_entry},
    {"refuses symlink and hard link entries", test_refuses_symlink_entry},
    {"refuses pax and GNU headers", test_refuses_pax_and_gnu},
    {"refuses bad order, duplicates, missing files",
        test_refuses_bad_order_duplicates_missing},
    {"refuses data after the end marker", test_refuses_trailing_data},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo content_tests[] = {
    {"tampered receipt is broken at its seq",
        test_tampered_receipt_broken_at_seq},
    {"tampered manifest fails its signature",
        test_tampered_manifest_signature_fails},
    {"refuses a keys file whose hash differs", test_refuses_keys_hash_mismatch},
    {"refuses missing or needless proofs",
        test_refuses_missing_or_extra_proofs},
    {"refuses a wrong proof", test_refuses_wrong_proof},
    {"refuses manifest and checkpoint by foreign keys",
        test_refuses_foreign_keys},
    {"range without trust is an error", test_range_needs_trust},
    {"refuses an unsigned last receipt", test_refuses_unsigned_last_receipt},
    {"refuses a last line without newline",
        test_refuses_unterminated_last_line},
    {"refuses a manifest range that differs", test_refuses_range_mismatch},
    {"U+0000 in the last receipt is clean", test_nul_in_last_receipt_is_clean},
    {"refuses a key retired per --trust", test_refuses_key_retired_per_trust},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "bundle write", .pTests = write_tests},
    {.pName = "bundle tar", .pTests = tar_tests},
    {.pName = "bundle content", .pTests = content_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return rcpt_test_run(suites);
}
