/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evidence bundles (SPEC 7 and 8), reading side: opens a bundle file
 * through libarchive restricted to plain ustar, decides which entries
 * are acceptable, streams receipts.jsonl line by line through the
 * verifier of verify.h, and checks the manifest, its signature, the
 * file hashes, the checkpoint and the proof.  The tar format itself is
 * libarchive's business; receipts are judged by verify.c, the
 * checkpoint by checkpoint.c and the proof by proof.c and merkle.c.
 * Building and writing bundles is bundle.c's job.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>

#include "bundle.h"
#include "checkpoint.h"
#include "ed25519.h"
#include "encode.h"
#include "jcs.h"
#include "json.h"
#include "mem.h"
#include "merkle.h"
#include "proof.h"
#include "receipt.h"
#include "ts.h"

/* Largest size accepted per file; receipts.jsonl is streamed instead. */
static const int64_t file_caps[RCPT_BUNDLE_F_COUNT] = {
    [RCPT_BUNDLE_F_MANIFEST] = RCPT_BUNDLE_MANIFEST_MAX,
    [RCPT_BUNDLE_F_SIG] = RCPT_BUNDLE_SIG_TEXT_LEN,
    [RCPT_BUNDLE_F_RECEIPTS] = INT64_MAX,
    [RCPT_BUNDLE_F_KEYS] = RCPT_BUNDLE_KEYS_MAX,
    [RCPT_BUNDLE_F_CHECKPOINT] = RCPT_CHECKPOINT_MAX_BYTES,
    [RCPT_BUNDLE_F_PROOFS] = RCPT_BUNDLE_PROOFS_MAX,
};

#define CHUNK 65536 /* bytes read from the file at a time */

static int
file_index(const char *name)
{
	int i;

	for (i = 0; i < RCPT_BUNDLE_F_COUNT; i++)
		if (name != NULL &&
		    strcmp(name, rcpt_bundle_file_names[i]) == 0)
			return i;
	return -1;
}

/* Verification of one bundle file. */
struct vstate {
	const struct rcpt_jwks *trust; /* borrowed */
	int threads;
	struct rcpt_verify_result *res; /* borrowed; the failure goes here */
	int failed;                     /* res holds a failure */
	char *chunk;                    /* CHUNK bytes of read buffer */
	EVP_MD_CTX *md;
	int present[RCPT_BUNDLE_F_COUNT];
	uint8_t hash[RCPT_BUNDLE_F_COUNT][RCPT_HASH_LEN];
	struct rcpt_buf
	    file[RCPT_BUNDLE_F_COUNT]; /* contents, but receipts.jsonl */
	int64_t data_end;              /* offset after the last entry's data */
	/* from manifest.json and manifest.sig */
	char chain[RCPT_CHAIN_MAX + 1];
	uint64_t first_seq, last_seq;
	char kid[RCPT_KID_LEN + 1];
	int listed[RCPT_BUNDLE_F_COUNT];
	uint8_t listed_hash[RCPT_BUNDLE_F_COUNT][RCPT_HASH_LEN];
	uint8_t sig[RCPT_ED25519_SIG_LEN];
	/* receipts.jsonl, streamed */
	struct rcpt_verifier *v;
	int v_broken;                      /* the verifier has seen a failure */
	struct rcpt_buf line, first, last; /* current, first, last line */
	uint64_t nlines;
	const char *line_fail; /* a line the verifier never saw */
	uint64_t line_fail_seq;
	/* checkpoint.txt */
	struct rcpt_checkpoint cp;
	int cp_ok;
	struct rcpt_diag cp_diag;
	struct rcpt_jwks *keys; /* parsed keys.jwks.json */
};

static void vresult(struct rcpt_verify_result *res,
    enum rcpt_verify_status status, bool has_seq, uint64_t seq, const char *fmt,
    va_list ap) __attribute__((format(printf, 5, 0)));

static void
vresult(struct rcpt_verify_result *res, enum rcpt_verify_status status,
    bool has_seq, uint64_t seq, const char *fmt, va_list ap)
{
	res->status = status;
	res->has_seq = has_seq;
	res->seq = has_seq ? seq : 0;
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
}

static int fail(struct vstate *st, enum rcpt_verify_status status,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(struct vstate *st, uint64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first failure; returns RCPT_E_CORRUPT to stop the caller. */
static int
fail(struct vstate *st, enum rcpt_verify_status status, const char *fmt, ...)
{
	va_list ap;

	if (!st->failed) {
		va_start(ap, fmt);
		vresult(st->res, status, false, 0, fmt, ap);
		va_end(ap);
		st->failed = 1;
	}
	return RCPT_E_CORRUPT;
}

static int
fail_at(struct vstate *st, uint64_t seq, const char *fmt, ...)
{
	va_list ap;

	if (!st->failed) {
		va_start(ap, fmt);
		vresult(st->res, RCPT_VERIFY_BROKEN, true, seq, fmt, ap);
		va_end(ap);
		st->failed = 1;
	}
	return RCPT_E_CORRUPT;
}

static int
fail_err(struct vstate *st, int err)
{
	return fail(st, RCPT_VERIFY_ERROR, "bundle: %s", rcpt_strerror(err));
}

static const char *
member_string(const json_object *m, const char *name)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(m, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	/* A string with U+0000 inside is never a valid value here. */
	if ((size_t)json_object_get_string_len(v) != strlen(s))
		return NULL;
	return s;
}

static int
check_files(struct vstate *st, const json_object *files)
{
	const char *hex;
	int idx;

	if (!json_object_is_type(files, json_type_object))
		return fail(st, RCPT_VERIFY_BROKEN,
		    "manifest.json: files: must be an object");
	json_object_object_foreach((json_object *)files, name, val)
	{
		idx = file_index(name);
		if (idx < RCPT_BUNDLE_F_RECEIPTS)
			return fail(st, RCPT_VERIFY_BROKEN,
			    "manifest.json: files: names a file that is not "
			    "a hashed bundle file");
		hex = json_object_is_type(val, json_type_string)
		          ? json_object_get_string(val)
		          : NULL;
		if (hex == NULL ||
		    rcpt_hex_decode(hex,
		        (size_t)json_object_get_string_len(val),
		        st->listed_hash[idx], RCPT_HASH_LEN) != RCPT_OK)
			return fail(st, RCPT_VERIFY_BROKEN,
			    "manifest.json: files.%s: must be 64 lowercase hex "
			    "digits",
			    rcpt_bundle_file_names[idx]);
		st->listed[idx] = 1;
	}
	return RCPT_OK;
}

static int
check_manifest_members(struct vstate *st, const json_object *m)
{
	uint8_t raw[RCPT_ED25519_PUB_LEN];
	json_object *v;
	const char *s;

	if (json_object_object_length(m) != 7)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "manifest.json: must have exactly the members format, "
		    "chain, first_seq, last_seq, created, kid and files");
	if ((s = member_string(m, "format")) == NULL ||
	    strcmp(s, RCPT_BUNDLE_FORMAT) != 0)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "manifest.json: format: must be \"" RCPT_BUNDLE_FORMAT
		    "\"");
	if ((s = member_string(m, "chain")) == NULL ||
	    !rcpt_receipt_chain_is_valid(s))
		return fail(st, RCPT_VERIFY_BROKEN,
		    "manifest.json: chain: not a valid chain name");
	snprintf(st->chain, sizeof(st->chain), "%s", s);
	if (!json_object_object_get_ex(m, "first_seq", &v) ||
	    rcpt_json_get_u64(v, &st->first_seq) != RCPT_OK)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "manifest.json: first_seq: must be an integer >= 0");
	if (!json_object_object_get_ex(m, "last_seq", &v) ||
	    rcpt_json_get_u64(v, &st->last_seq) != RCPT_OK ||
	    st->last_seq < st->first_seq || st->last_seq >= RCPT_BUNDLE_SEQ_MAX)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "manifest.json: last_seq: must be an integer >= first_seq");
	if ((s = member_string(m, "created")) == NULL ||
	    !rcpt_ts_is_valid(s, strlen(s)))
		return fail(st, RCPT_VERIFY_BROKEN,
		    "manifest.json: created: not a valid TS");
	if ((s = member_string(m, "kid")) == NULL ||
	    rcpt_b64url_decode(s, strlen(s), raw, sizeof(raw)) != RCPT_OK)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "manifest.json: kid: not a key id (43 base64url "
		    "characters)");
	snprintf(st->kid, sizeof(st->kid), "%s", s);
	if (!json_object_object_get_ex(m, "files", &v))
		return fail(
		    st, RCPT_VERIFY_BROKEN, "manifest.json: files: missing");
	return check_files(st, v);
}

static int
check_manifest(struct vstate *st)
{
	const struct rcpt_buf *b = &st->file[RCPT_BUNDLE_F_MANIFEST];
	struct rcpt_diag d = {0};
	json_object *m = NULL;
	char *canon = NULL;
	size_t canon_len = 0;
	int r;

	r = rcpt_json_parse(
	    b->len > 0 ? b->p : "", b->len, 3, "manifest.json", &m, &d);
	if (r == RCPT_E_NOMEM) {
		r = fail_err(st, r);
		goto out;
	}
	if (r != RCPT_OK || !json_object_is_type(m, json_type_object)) {
		r = fail(st, RCPT_VERIFY_BROKEN, "manifest.json: %s",
		    r != RCPT_OK ? rcpt_diag_msg(&d, r) : "must be an object");
		goto out;
	}
	if ((r = rcpt_jcs_serialize(m, &canon, &canon_len, NULL)) != RCPT_OK) {
		r = fail_err(st, r);
		goto out;
	}
	if (canon_len != b->len || memcmp(canon, b->p, canon_len) != 0) {
		r = fail(st, RCPT_VERIFY_BROKEN,
		    "manifest.json: not in canonical JSON (JCS) form");
		goto out;
	}
	if ((r = check_manifest_members(st, m)) != RCPT_OK)
		goto out;
	if (st->first_seq > 0 && st->trust == NULL)
		r = fail(st, RCPT_VERIFY_ERROR,
		    "a bundle that does not start at seq 0 can only be "
		    "verified with --trust");
out:
	free(canon);
	json_object_put(m);
	return r;
}

static int
check_sig_text(struct vstate *st)
{
	const struct rcpt_buf *b = &st->file[RCPT_BUNDLE_F_SIG];

	if (b->len != RCPT_BUNDLE_SIG_TEXT_LEN || b->p[b->len - 1] != '\n' ||
	    rcpt_hex_decode(b->p, b->len - 1, st->sig, sizeof(st->sig)) !=
	        RCPT_OK)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "manifest.sig: must be 128 lowercase hex digits and \\n");
	return RCPT_OK;
}

static int
start_receipts(struct vstate *st)
{
	struct rcpt_verify_opts o = {0};
	int r;

	o.trust = st->trust;
	o.threads = st->threads;
	o.first_seq = st->first_seq;
	if ((r = rcpt_verifier_new(&o, &st->v)) != RCPT_OK)
		return fail_err(st, r);
	return RCPT_OK;
}

static int
feed_line(struct vstate *st)
{
	struct rcpt_buf t;
	const char *p = st->line.len > 0 ? st->line.p : "";
	int r;

	if (st->nlines == 0 &&
	    (r = rcpt_buf_append(&st->first, p, st->line.len)) != RCPT_OK)
		return fail_err(st, r);
	r = rcpt_verifier_feed(st->v, p, st->line.len);
	if (r == RCPT_E_CORRUPT)
		st->v_broken = 1;
	else if (r != RCPT_OK)
		return fail_err(st, r);
	st->nlines++;
	/* Keep this line as the last one; reuse the older buffer. */
	t = st->last;
	st->last = st->line;
	st->line = t;
	rcpt_buf_reset(&st->line);
	return RCPT_OK;
}

static void
line_failed(struct vstate *st, const char *why)
{
	st->line_fail = why;
	st->line_fail_seq = st->first_seq + st->nlines;
}

/* Splits receipts.jsonl into lines for the verifier, chunk by chunk. */
static int
receipts_chunk(struct vstate *st, const char *p, size_t n)
{
	const char *nl;
	size_t take;
	int r;

	while (n > 0 && !st->v_broken && st->line_fail == NULL) {
		nl = memchr(p, '\n', n);
		take = nl != NULL ? (size_t)(nl - p) : n;
		if (take > RCPT_VERIFY_LINE_MAX - st->line.len) {
			line_failed(st, "receipts.jsonl: line over the length "
			                "limit");
			break;
		}
		if ((r = rcpt_buf_append(&st->line, p, take)) != RCPT_OK)
			return fail_err(st, r);
		if (nl == NULL)
			break;
		if ((r = feed_line(st)) != RCPT_OK)
			return r;
		p += take + 1;
		n -= take + 1;
	}
	return RCPT_OK;
}

static int
read_data(struct vstate *st, struct archive *a, int idx)
{
	la_ssize_t n;
	int r;

	if (EVP_DigestInit_ex(st->md, EVP_sha256(), NULL) != 1)
		return fail_err(st, RCPT_E_INTERNAL);
	for (;;) {
		if ((n = archive_read_data(a, st->chunk, CHUNK)) == 0)
			break;
		if (n < 0)
			return fail(st, RCPT_VERIFY_BROKEN,
			    "bundle: %s: truncated or damaged",
			    rcpt_bundle_file_names[idx]);
		if (EVP_DigestUpdate(st->md, st->chunk, (size_t)n) != 1)
			return fail_err(st, RCPT_E_INTERNAL);
		r = idx == RCPT_BUNDLE_F_RECEIPTS
		        ? receipts_chunk(st, st->chunk, (size_t)n)
		        : rcpt_buf_append(&st->file[idx], st->chunk, (size_t)n);
		if (r == RCPT_E_NOMEM)
			return fail_err(st, r);
		if (r != RCPT_OK)
			return r;
	}
	if (EVP_DigestFinal_ex(st->md, st->hash[idx], NULL) != 1)
		return fail_err(st, RCPT_E_INTERNAL);
	if (idx == RCPT_BUNDLE_F_RECEIPTS && st->line.len > 0 &&
	    !st->v_broken && st->line_fail == NULL)
		line_failed(
		    st, "receipts.jsonl: last line does not end in \\n");
	return RCPT_OK;
}

/* Checks one tar entry's header: a plain ustar regular file, in order. */
static int
check_entry(struct vstate *st, struct archive *a, struct archive_entry *e,
    int n, int next, int *idx_out)
{
	int64_t size;
	int idx;

	if (archive_format(a) != ARCHIVE_FORMAT_TAR_USTAR)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "bundle: entry %d: pax, GNU or other tar extension (only "
		    "plain ustar is allowed)",
		    n);
	if (archive_entry_filetype(e) != AE_IFREG ||
	    archive_entry_hardlink(e) != NULL ||
	    archive_entry_symlink(e) != NULL)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "bundle: entry %d: not a regular file", n);
	if ((idx = file_index(archive_entry_pathname(e))) < 0)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "bundle: entry %d: not a file a bundle may hold", n);
	if (st->present[idx])
		return fail(st, RCPT_VERIFY_BROKEN, "bundle: %s: appears twice",
		    rcpt_bundle_file_names[idx]);
	if (idx != next)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "bundle: %s: out of order or %s missing",
		    rcpt_bundle_file_names[idx], rcpt_bundle_file_names[next]);
	size = archive_entry_size(e);
	if (!archive_entry_size_is_set(e) || size < 0 || size > file_caps[idx])
		return fail(st, RCPT_VERIFY_BROKEN,
		    "bundle: %s: larger than allowed",
		    rcpt_bundle_file_names[idx]);
	st->data_end =
	    archive_read_header_position(a) + 512 + ((size + 511) / 512) * 512;
	*idx_out = idx;
	return RCPT_OK;
}

static int
read_entries(struct vstate *st, struct archive *a)
{
	struct archive_entry *e;
	int n, idx = 0, next = RCPT_BUNDLE_F_MANIFEST, r;

	for (n = 1;; n++) {
		if ((r = archive_read_next_header(a, &e)) == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK)
			return fail(st, RCPT_VERIFY_BROKEN,
			    "bundle: entry %d: not a valid ustar header", n);
		if (next == RCPT_BUNDLE_F_COUNT)
			return fail(st, RCPT_VERIFY_BROKEN,
			    "bundle: entry %d: more entries than a bundle "
			    "holds",
			    n);
		if ((r = check_entry(st, a, e, n, next, &idx)) != RCPT_OK)
			return r;
		if (idx == RCPT_BUNDLE_F_RECEIPTS &&
		    (r = start_receipts(st)) != RCPT_OK)
			return r;
		if ((r = read_data(st, a, idx)) != RCPT_OK)
			return r;
		st->present[idx] = 1;
		next = idx + 1;
		if (idx == RCPT_BUNDLE_F_MANIFEST &&
		    (r = check_manifest(st)) != RCPT_OK)
			return r;
		if (idx == RCPT_BUNDLE_F_SIG &&
		    (r = check_sig_text(st)) != RCPT_OK)
			return r;
	}
	if (next <= RCPT_BUNDLE_F_CHECKPOINT)
		return fail(st, RCPT_VERIFY_BROKEN, "bundle: %s: missing",
		    rcpt_bundle_file_names[next]);
	return RCPT_OK;
}

/* After the last entry only the end marker and zero padding may follow. */
static int
check_tail(struct vstate *st, int fd)
{
	struct stat sb;
	int64_t pos;
	ssize_t n, i;

	if (fstat(fd, &sb) != 0)
		return fail(
		    st, RCPT_VERIFY_ERROR, "bundle: %s", strerror(errno));
	if (sb.st_size - st->data_end < 1024)
		return fail(
		    st, RCPT_VERIFY_BROKEN, "bundle: no end-of-archive marker");
	for (pos = st->data_end; pos < sb.st_size; pos += n) {
		n = pread(fd, st->chunk,
		    sb.st_size - pos < CHUNK ? (size_t)(sb.st_size - pos)
		                             : CHUNK,
		    (off_t)pos);
		if (n <= 0)
			return fail(st, RCPT_VERIFY_ERROR, "bundle: read: %s",
			    n < 0 ? strerror(errno) : "file shrank");
		for (i = 0; i < n; i++)
			if (st->chunk[i] != '\0')
				return fail(st, RCPT_VERIFY_BROKEN,
				    "bundle: data after the end-of-archive "
				    "marker");
	}
	return RCPT_OK;
}

static int
check_manifest_sig(struct vstate *st)
{
	uint8_t pub[RCPT_ED25519_PUB_LEN];
	int r;

	r = rcpt_verifier_key(st->v, st->kid, pub);
	if (r == RCPT_E_DENIED)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "manifest.json: kid: the key is revoked, or was retired "
		    "before last_seq");
	if (r != RCPT_OK)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "manifest.json: kid: not a key of this chain (genesis, "
		    "rotations or --trust)");
	/* read_data already hashed manifest.json's bytes while reading. */
	r = rcpt_ed25519_verify(
	    pub, st->hash[RCPT_BUNDLE_F_MANIFEST], RCPT_HASH_LEN, st->sig);
	if (r == RCPT_E_BAD_SIGNATURE)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "manifest.sig: signature does not verify under kid %s",
		    st->kid);
	return r == RCPT_OK ? RCPT_OK : fail_err(st, r);
}

/* The listed set must equal the files present, each with its hash. */
static int
check_hashes(struct vstate *st)
{
	int i;

	for (i = RCPT_BUNDLE_F_RECEIPTS; i < RCPT_BUNDLE_F_COUNT; i++) {
		if (st->present[i] && !st->listed[i])
			return fail(st, RCPT_VERIFY_BROKEN,
			    "manifest.json: files: does not list %s",
			    rcpt_bundle_file_names[i]);
		if (!st->present[i] && st->listed[i])
			return fail(st, RCPT_VERIFY_BROKEN,
			    "manifest.json: files: lists %s, which the bundle "
			    "does not hold",
			    rcpt_bundle_file_names[i]);
		if (st->present[i] &&
		    memcmp(st->hash[i], st->listed_hash[i], RCPT_HASH_LEN) != 0)
			return fail(st, RCPT_VERIFY_BROKEN,
			    "manifest.json: files.%s: SHA-256 does not match "
			    "the file",
			    rcpt_bundle_file_names[i]);
	}
	return RCPT_OK;
}

/*
 * The manifest's range against the first and last receipt lines.  They
 * are read again with the same scanner the verifier used, so a line it
 * accepted (a submitter holding U+0000, say) is accepted here too.
 * @param[out] last borrows st->last.
 */
static int
check_range(struct vstate *st, struct rcpt_receipt_view *last)
{
	struct rcpt_receipt_view first;
	struct rcpt_diag d = {0};
	uint64_t count = st->res->count;
	int r;

	if (count == 0)
		return fail(
		    st, RCPT_VERIFY_BROKEN, "receipts.jsonl: holds no receipt");
	r = rcpt_receipt_scan(st->first.len > 0 ? st->first.p : "",
	    st->first.len, RCPT_JSON_DEPTH_MAX, &first, &d);
	if (r == RCPT_OK)
		r = rcpt_receipt_scan(st->last.len > 0 ? st->last.p : "",
		    st->last.len, RCPT_JSON_DEPTH_MAX, last, &d);
	if (r == RCPT_E_INTERNAL)
		return fail_err(st, r);
	if (r != RCPT_OK)
		return fail(st, RCPT_VERIFY_BROKEN, "receipts.jsonl: %s",
		    rcpt_diag_msg(&d, r));
	if (!rcpt_receipt_span_is(&first.chain, st->chain) ||
	    !rcpt_receipt_span_is(&last->chain, st->chain))
		return fail(st, RCPT_VERIFY_BROKEN,
		    "manifest.json: chain: does not match receipts.jsonl");
	if (first.seq_num != st->first_seq)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "manifest.json: first_seq: does not match the first "
		    "receipt");
	if (last->seq_num != st->last_seq ||
	    st->first_seq + count - 1 != st->last_seq)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "manifest.json: last_seq: does not match the last receipt");
	if (!last->has_signature)
		return fail_at(st, last->seq_num,
		    "receipts.jsonl: the last receipt carries no signature");
	return RCPT_OK;
}

static int
check_keys_and_checkpoint(struct vstate *st)
{
	const struct rcpt_buf *k = &st->file[RCPT_BUNDLE_F_KEYS];
	struct rcpt_diag d = {0};
	int r;

	if ((r = rcpt_jwks_parse(
	         k->len > 0 ? k->p : "", k->len, &st->keys, &d)) != RCPT_OK)
		return r == RCPT_E_NOMEM
		           ? fail_err(st, r)
		           : fail(st, RCPT_VERIFY_BROKEN, "keys.jwks.json: %s",
		                 rcpt_diag_msg(&d, r));
	if (!st->cp_ok)
		return fail(st, RCPT_VERIFY_BROKEN, "checkpoint.txt: %s",
		    rcpt_diag_msg(&st->cp_diag, RCPT_E_PARSE));
	if (strcmp(st->cp.chain, st->chain) != 0)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "checkpoint.txt: chain does not match the manifest");
	if (st->cp.size < st->last_seq + 1)
		return fail(st, RCPT_VERIFY_BROKEN,
		    "checkpoint.txt: tree size below last_seq + 1");
	rcpt_diag_clear(&d);
	r = rcpt_verifier_checkpoint_signed(st->v, &st->cp, &d);
	if (r == RCPT_E_NOMEM)
		return fail_err(st, r);
	if (r != RCPT_OK)
		return fail(st, RCPT_VERIFY_BROKEN, "checkpoint.txt: %s",
		    rcpt_diag_msg(&d, r));
	return RCPT_OK;
}

/* proofs.jsonl: the inclusion proof of receipt last_seq in checkpoint.txt. */
static int
check_proof(struct vstate *st, const struct rcpt_receipt_view *last)
{
	const struct rcpt_buf *b = &st->file[RCPT_BUNDLE_F_PROOFS];
	const struct rcpt_buf *c = &st->file[RCPT_BUNDLE_F_CHECKPOINT];
	struct rcpt_inclusion_proof p = {0};
	struct rcpt_diag d = {0};
	uint8_t leaf[RCPT_HASH_LEN];
	int r;

	if (!rcpt_bundle_is_one_line(b->p, b->len))
		return fail(st, RCPT_VERIFY_BROKEN,
		    "proofs.jsonl: must hold exactly one line ending in \\n");
	if ((r = rcpt_proof_inclusion_parse(b->p, b->len - 1, &p, &d)) !=
	    RCPT_OK) {
		r = r == RCPT_E_NOMEM
		        ? fail_err(st, r)
		        : fail(st, RCPT_VERIFY_BROKEN, "proofs.jsonl: %s",
		              rcpt_diag_msg(&d, r));
		goto out;
	}
	r = RCPT_E_CORRUPT;
	rcpt_merkle_leaf_hash(last->entry_hash_raw, leaf);
	if (strcmp(p.chain, st->chain) != 0 || p.seq != st->last_seq)
		fail(st, RCPT_VERIFY_BROKEN,
		    "proofs.jsonl: not the proof of receipt last_seq");
	else if (memcmp(p.entry_hash, last->entry_hash_raw, RCPT_HASH_LEN) != 0)
		fail(st, RCPT_VERIFY_BROKEN,
		    "proofs.jsonl: entry_hash differs from the last receipt");
	else if (strlen(p.checkpoint) != c->len ||
	         memcmp(p.checkpoint, c->p, c->len) != 0 ||
	         p.tree_size != st->cp.size)
		fail(st, RCPT_VERIFY_BROKEN,
		    "proofs.jsonl: checkpoint differs from checkpoint.txt");
	else if (rcpt_merkle_verify_inclusion(leaf, p.seq, p.tree_size,
	             (const uint8_t(*)[RCPT_HASH_LEN])p.path, p.path_len,
	             st->cp.root) != RCPT_OK)
		fail(st, RCPT_VERIFY_BROKEN,
		    "proofs.jsonl: inclusion proof does not lead to the "
		    "checkpoint's root");
	else
		r = RCPT_OK;
out:
	rcpt_proof_inclusion_clear(&p);
	return r;
}

/* Everything that needs the whole bundle read, in a fixed order. */
static void
check_bundle(struct vstate *st)
{
	struct rcpt_verify_result *res = st->res;
	const struct rcpt_buf *c = &st->file[RCPT_BUNDLE_F_CHECKPOINT];
	struct rcpt_receipt_view last;
	int cp_err, use_cp, need;

	cp_err = rcpt_checkpoint_parse(
	    c->len > 0 ? c->p : "", c->len, &st->cp, &st->cp_diag);
	st->cp_ok = cp_err == RCPT_OK;
	/* Only a checkpoint of exactly these receipts is checked by root. */
	use_cp = st->cp_ok && st->first_seq == 0 &&
	         st->cp.size == st->last_seq + 1 &&
	         strcmp(st->cp.chain, st->chain) == 0;
	rcpt_verifier_finish(st->v, use_cp ? &st->cp : NULL, res);
	if (st->line_fail != NULL) {
		res->status = RCPT_VERIFY_BROKEN;
		res->has_seq = true;
		res->seq = st->line_fail_seq;
		snprintf(res->reason, sizeof(res->reason), "%s", st->line_fail);
		return;
	}
	if (res->status != RCPT_VERIFY_CLEAN)
		return;
	if (cp_err == RCPT_E_NOMEM) {
		fail_err(st, cp_err);
		return;
	}
	if (check_range(st, &last) != RCPT_OK ||
	    check_manifest_sig(st) != RCPT_OK)
		return;
	need = st->cp_ok && rcpt_bundle_needs_proofs(
	                        st->first_seq, st->last_seq, st->cp.size);
	if (need && !st->present[RCPT_BUNDLE_F_PROOFS]) {
		fail(st, RCPT_VERIFY_BROKEN,
		    "proofs.jsonl: missing (needed unless first_seq is 0 and "
		    "the checkpoint size is last_seq + 1)");
		return;
	}
	if (st->cp_ok && !need && st->present[RCPT_BUNDLE_F_PROOFS]) {
		fail(st, RCPT_VERIFY_BROKEN,
		    "proofs.jsonl: present although the checkpoint covers "
		    "exactly the receipts");
		return;
	}
	if (check_hashes(st) != RCPT_OK ||
	    check_keys_and_checkpoint(st) != RCPT_OK)
		return;
	if (need)
		(void)check_proof(st, &last);
}

static void
vstate_free(struct vstate *st)
{
	int i;

	if (st == NULL)
		return;
	rcpt_jwks_free(st->keys);
	rcpt_checkpoint_clear(&st->cp);
	rcpt_verifier_free(st->v);
	rcpt_buf_clear(&st->line);
	rcpt_buf_clear(&st->first);
	rcpt_buf_clear(&st->last);
	for (i = 0; i < RCPT_BUNDLE_F_COUNT; i++)
		rcpt_buf_clear(&st->file[i]);
	EVP_MD_CTX_free(st->md);
	free(st->chunk);
	free(st);
}

static void early_result(struct rcpt_verify_result *res, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
early_result(struct rcpt_verify_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vresult(res, RCPT_VERIFY_ERROR, false, 0, fmt, ap);
	va_end(ap);
}

void
rcpt_bundle_verify(const char *path, const struct rcpt_jwks *trust, int threads,
    struct rcpt_verify_result *res)
{
	struct vstate *st = NULL;
	struct archive *a = NULL;
	struct stat sb;
	int fd = -1;

	if (res == NULL)
		return;
	memset(res, 0, sizeof(*res));
	res->pinned = trust != NULL;
	if (path == NULL) {
		early_result(res, "bundle: no file given");
		return;
	}
	if ((st = rcpt_calloc(1, sizeof(*st))) == NULL ||
	    (st->chunk = rcpt_malloc(CHUNK)) == NULL ||
	    (st->md = EVP_MD_CTX_new()) == NULL) {
		early_result(res, "bundle: %s", rcpt_strerror(RCPT_E_NOMEM));
		goto out;
	}
	st->trust = trust;
	st->threads = threads;
	st->res = res;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) != 0) {
		fail(st, RCPT_VERIFY_ERROR, "bundle: cannot read: %s",
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		fail(st, RCPT_VERIFY_ERROR, "bundle: not a regular file");
		goto out;
	}
	if ((a = archive_read_new()) == NULL) {
		fail_err(st, RCPT_E_NOMEM);
		goto out;
	}
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open_fd(a, fd, CHUNK) != ARCHIVE_OK) {
		fail(st, RCPT_VERIFY_BROKEN, "bundle: not a ustar archive");
		goto out;
	}
	if (read_entries(st, a) == RCPT_OK && check_tail(st, fd) == RCPT_OK)
		check_bundle(st);
out:
	if (a != NULL)
		archive_read_free(a);
	if (fd != -1)
		close(fd);
	vstate_free(st);
}
