/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evidence bundles (SPEC 7), writing side: checks the parts a caller
 * hands in, builds and signs manifest.json (or, for a client holding
 * the daemon's export, checks that a manifest signed there is the one
 * it would build), and packs a reproducible ustar with libarchive that
 * is linked into place only if nothing exists at the path.  Both ways
 * share one builder and one writer.  It does not verify the receipts
 * between the first and the last, their signatures or the proof;
 * reading and judging a finished bundle is bundle-verify.c's job.  The
 * few things both sides share (file names and order, the seq limit,
 * the one-line check) live here and are declared in bundle.h as
 * internal to bundle*.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
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
#include "encode.h"
#include "jcs.h"
#include "json.h"
#include "mem.h"
#include "receipt.h"
#include "ts.h"

const char *const rcpt_bundle_file_names[RCPT_BUNDLE_F_COUNT] = {
    [RCPT_BUNDLE_F_MANIFEST] = "manifest.json",
    [RCPT_BUNDLE_F_SIG] = "manifest.sig",
    [RCPT_BUNDLE_F_RECEIPTS] = "receipts.jsonl",
    [RCPT_BUNDLE_F_KEYS] = "keys.jwks.json",
    [RCPT_BUNDLE_F_CHECKPOINT] = "checkpoint.txt",
    [RCPT_BUNDLE_F_PROOFS] = "proofs.jsonl",
};

#define USTAR_TIME_MAX 077777777777LL /* 11 octal digits */

static int
sha256(const void *p, size_t n, uint8_t out[RCPT_HASH_LEN])
{
	if (EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) != 1)
		return RCPT_E_INTERNAL;
	return RCPT_OK;
}

int
rcpt_bundle_is_one_line(const char *p, size_t n)
{
	return n > 0 && p[n - 1] == '\n' && memchr(p, '\n', n) == p + n - 1;
}

int
rcpt_bundle_needs_proofs(
    uint64_t first_seq, uint64_t last_seq, uint64_t tree_size)
{
	return !(first_seq == 0 && tree_size == last_seq + 1);
}

/*
 * Seconds since the epoch of a valid TS, clamped to what a ustar header
 * can hold; days from civil date as in the proleptic Gregorian calendar.
 */
static int64_t
ts_seconds(const char *ts)
{
	int64_t y, m, d, era, yoe, doy, doe, days, s;

	y = (ts[0] - '0') * 1000 + (ts[1] - '0') * 100 + (ts[2] - '0') * 10 +
	    (ts[3] - '0');
	m = (ts[5] - '0') * 10 + (ts[6] - '0');
	d = (ts[8] - '0') * 10 + (ts[9] - '0');
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	days = era * 146097 + doe - 719468;
	s = days * 86400 + ((ts[11] - '0') * 10 + (ts[12] - '0')) * 3600 +
	    ((ts[14] - '0') * 10 + (ts[15] - '0')) * 60 + (ts[17] - '0') * 10 +
	    (ts[18] - '0');
	if (s < 0)
		return 0;
	return s > USTAR_TIME_MAX ? USTAR_TIME_MAX : s;
}

/*
 * Checks the first and last lines of receipts.jsonl against the range,
 * so that a bundle SPEC 7 refuses (receipt B unsigned, say) is never
 * written.  The receipts in between are left to the verifier.
 */
static int
check_receipt_ends(const struct rcpt_bundle_parts *p, struct rcpt_diag *diag)
{
	struct rcpt_receipt_view first, last;
	const char *end = p->receipts + p->receipts_len - 1, *q, *nl;
	uint64_t lines = 0;
	int r;

	for (q = p->receipts; q <= end; q = nl + 1) {
		nl = memchr(q, '\n', (size_t)(end - q) + 1);
		lines++;
	}
	if (lines != p->last_seq - p->first_seq + 1)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "receipts.jsonl: must hold last_seq - first_seq + 1 lines");
	for (q = end; q > p->receipts && q[-1] != '\n'; q--)
		;
	nl = memchr(p->receipts, '\n', p->receipts_len);
	/* The scanner, as the verifier uses, so both accept the same text. */
	if ((r = rcpt_receipt_scan(p->receipts, (size_t)(nl - p->receipts),
	         RCPT_JSON_DEPTH_MAX, &first, diag)) != RCPT_OK ||
	    (r = rcpt_receipt_scan(q, (size_t)(end - q), RCPT_JSON_DEPTH_MAX,
	         &last, diag)) != RCPT_OK)
		return r;
	if (!rcpt_receipt_span_is(&first.chain, p->chain) ||
	    first.seq_num != p->first_seq)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "receipts.jsonl: first receipt is not first_seq of chain");
	if (!rcpt_receipt_span_is(&last.chain, p->chain) ||
	    last.seq_num != p->last_seq)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "receipts.jsonl: last receipt is not last_seq of chain");
	if (!last.has_signature)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "receipts.jsonl: the last receipt carries no signature");
	return RCPT_OK;
}

/* Checks what the writer needs to produce a bundle SPEC 7 accepts. */
static int
check_parts(
    const struct rcpt_bundle_parts *p, const char *kid, struct rcpt_diag *diag)
{
	struct rcpt_checkpoint cp = {0};
	int r;

	if (p->chain == NULL || !rcpt_receipt_chain_is_valid(p->chain))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "chain: must match ^[a-z0-9][a-z0-9._-]{0,63}$");
	if (p->created == NULL ||
	    !rcpt_ts_is_valid(p->created, strlen(p->created)))
		return rcpt_diag(diag, RCPT_E_INVAL, "created: not a valid TS");
	if (p->first_seq > p->last_seq || p->last_seq >= RCPT_BUNDLE_SEQ_MAX)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "last_seq: must be at least first_seq and below 2^53");
	if (strnlen(kid, RCPT_KID_LEN + 1) != RCPT_KID_LEN)
		return rcpt_diag(diag, RCPT_E_INVAL, "signer: kid not set");
	if (p->receipts == NULL && p->receipts_sha256 == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "receipts.jsonl: neither the bytes nor their hash given");
	if (p->receipts != NULL &&
	    (p->receipts_len == 0 || p->receipts[p->receipts_len - 1] != '\n'))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "receipts.jsonl: must be lines each ending in \\n");
	if (p->receipts != NULL && (r = check_receipt_ends(p, diag)) != RCPT_OK)
		return r;
	if (p->keys == NULL || p->keys_len == 0 ||
	    p->keys_len > RCPT_BUNDLE_KEYS_MAX)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "keys.jwks.json: missing or too large");
	if (p->checkpoint == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "checkpoint.txt: missing");
	if ((r = rcpt_checkpoint_parse(
	         p->checkpoint, p->checkpoint_len, &cp, diag)) != RCPT_OK)
		goto out;
	r = RCPT_E_INVAL;
	if (strcmp(cp.chain, p->chain) != 0) {
		rcpt_diag(diag, r, "checkpoint.txt: chain differs from chain");
		goto out;
	}
	if (cp.size < p->last_seq + 1) {
		rcpt_diag(diag, r, "checkpoint.txt: size below last_seq + 1");
		goto out;
	}
	if (rcpt_bundle_needs_proofs(p->first_seq, p->last_seq, cp.size) !=
	    (p->proofs != NULL)) {
		rcpt_diag(diag, r, "proofs.jsonl: %s",
		    p->proofs != NULL ? "given although the checkpoint covers "
		                        "exactly the receipts"
		                      : "needed unless first_seq is 0 and size "
		                        "is last_seq + 1");
		goto out;
	}
	if (p->proofs != NULL &&
	    (p->proofs_len > RCPT_BUNDLE_PROOFS_MAX ||
	        !rcpt_bundle_is_one_line(p->proofs, p->proofs_len))) {
		rcpt_diag(
		    diag, r, "proofs.jsonl: must be one line ending in \\n");
		goto out;
	}
	r = RCPT_OK;
out:
	rcpt_checkpoint_clear(&cp);
	return r;
}

static int
add_hash(json_object *o, const char *name, const uint8_t h[RCPT_HASH_LEN])
{
	char hex[2 * RCPT_HASH_LEN + 1];

	rcpt_hex_encode(h, RCPT_HASH_LEN, hex);
	return rcpt_json_add(o, name, json_object_new_string(hex));
}

static int
manifest_files(const struct rcpt_bundle_parts *p, json_object **out)
{
	json_object *files = NULL;
	uint8_t h[RCPT_HASH_LEN];
	int r = RCPT_E_INTERNAL;

	*out = NULL;
	if ((files = json_object_new_object()) == NULL)
		return RCPT_E_NOMEM;
	if (p->receipts != NULL) {
		if ((r = sha256(p->receipts, p->receipts_len, h)) != RCPT_OK)
			goto out;
		r = add_hash(
		    files, rcpt_bundle_file_names[RCPT_BUNDLE_F_RECEIPTS], h);
	} else
		r = add_hash(files,
		    rcpt_bundle_file_names[RCPT_BUNDLE_F_RECEIPTS],
		    p->receipts_sha256);
	if (r != RCPT_OK)
		goto out;
	if ((r = sha256(p->keys, p->keys_len, h)) != RCPT_OK ||
	    (r = add_hash(files, rcpt_bundle_file_names[RCPT_BUNDLE_F_KEYS],
	         h)) != RCPT_OK)
		goto out;
	if ((r = sha256(p->checkpoint, p->checkpoint_len, h)) != RCPT_OK ||
	    (r = add_hash(
	         files, rcpt_bundle_file_names[RCPT_BUNDLE_F_CHECKPOINT], h)) !=
	        RCPT_OK)
		goto out;
	if (p->proofs != NULL &&
	    ((r = sha256(p->proofs, p->proofs_len, h)) != RCPT_OK ||
	        (r = add_hash(
	             files, rcpt_bundle_file_names[RCPT_BUNDLE_F_PROOFS], h)) !=
	            RCPT_OK))
		goto out;
	*out = files;
	files = NULL;
	r = RCPT_OK;
out:
	json_object_put(files);
	return r;
}

/* Builds manifest.json for @p parts, checked already, under @p kid. */
static int
build_manifest(const struct rcpt_bundle_parts *parts, const char *kid,
    char **text_out, size_t *len_out, struct rcpt_diag *diag)
{
	json_object *m = NULL, *files = NULL;
	int r = RCPT_E_INTERNAL;

	if ((r = manifest_files(parts, &files)) != RCPT_OK)
		goto out;
	r = RCPT_E_NOMEM;
	if ((m = json_object_new_object()) == NULL)
		goto out;
	if ((r = rcpt_json_add(m, "format",
	         json_object_new_string(RCPT_BUNDLE_FORMAT))) != RCPT_OK ||
	    (r = rcpt_json_add(m, "chain",
	         json_object_new_string(parts->chain))) != RCPT_OK ||
	    (r = rcpt_json_add(m, "first_seq",
	         json_object_new_int64((int64_t)parts->first_seq))) !=
	        RCPT_OK ||
	    (r = rcpt_json_add(m, "last_seq",
	         json_object_new_int64((int64_t)parts->last_seq))) != RCPT_OK ||
	    (r = rcpt_json_add(m, "created",
	         json_object_new_string(parts->created))) != RCPT_OK ||
	    (r = rcpt_json_add(m, "kid", json_object_new_string(kid))) !=
	        RCPT_OK)
		goto out;
	r = rcpt_json_add(m, "files", files);
	files = NULL;
	if (r != RCPT_OK)
		goto out;
	r = rcpt_jcs_serialize(m, text_out, len_out, diag);
out:
	json_object_put(files);
	json_object_put(m);
	return r;
}

int
rcpt_bundle_manifest(const struct rcpt_bundle_parts *parts,
    const struct rcpt_signer *s, char **manifest_out, size_t *len_out,
    char sig_out[RCPT_BUNDLE_SIG_TEXT_LEN + 1], struct rcpt_diag *diag)
{
	char *text = NULL;
	size_t len = 0;
	uint8_t digest[RCPT_HASH_LEN], sig[RCPT_ED25519_SIG_LEN];
	int r = RCPT_E_INTERNAL;

	if (manifest_out != NULL)
		*manifest_out = NULL;
	if (len_out != NULL)
		*len_out = 0;
	if (sig_out != NULL)
		sig_out[0] = '\0';
	if (parts == NULL || s == NULL || s->sign == NULL ||
	    manifest_out == NULL || len_out == NULL || sig_out == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "bundle: missing argument");
	if ((r = check_parts(parts, s->kid, diag)) != RCPT_OK)
		return r;
	if ((r = build_manifest(parts, s->kid, &text, &len, diag)) != RCPT_OK ||
	    (r = sha256(text, len, digest)) != RCPT_OK)
		goto out;
	if ((r = s->sign(s->ctx, s->kid, digest, sig)) != RCPT_OK) {
		rcpt_diag(diag, r, "manifest.sig: signing failed");
		goto out;
	}
	rcpt_hex_encode(sig, sizeof(sig), sig_out);
	sig_out[RCPT_BUNDLE_SIG_TEXT_LEN - 1] = '\n';
	sig_out[RCPT_BUNDLE_SIG_TEXT_LEN] = '\0';
	*manifest_out = text;
	*len_out = len;
	text = NULL;
	r = RCPT_OK;
out:
	free(text);
	return r;
}

static int
write_entry(
    struct archive *a, const char *name, const char *p, size_t n, int64_t mtime)
{
	struct archive_entry *e;
	la_ssize_t w;
	int r = RCPT_E_IO;

	if ((e = archive_entry_new()) == NULL)
		return RCPT_E_NOMEM;
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)n);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		goto out;
	while (n > 0) {
		if ((w = archive_write_data(a, p, n)) <= 0)
			goto out;
		p += w;
		n -= (size_t)w;
	}
	r = RCPT_OK;
out:
	archive_entry_free(e);
	return r;
}

static int
write_tar(int fd, const struct rcpt_bundle_parts *p, const char *manifest,
    size_t manifest_len, const char *sig, struct rcpt_diag *diag)
{
	const char *data[RCPT_BUNDLE_F_COUNT] = {
	    manifest, sig, p->receipts, p->keys, p->checkpoint, p->proofs};
	size_t len[RCPT_BUNDLE_F_COUNT] = {manifest_len,
	    RCPT_BUNDLE_SIG_TEXT_LEN, p->receipts_len, p->keys_len,
	    p->checkpoint_len, p->proofs_len};
	int64_t mtime = ts_seconds(p->created);
	struct archive *a;
	int i, r = RCPT_E_IO;

	if ((a = archive_write_new()) == NULL)
		return RCPT_E_NOMEM;
	/* No padding beyond the end marker: the bytes stay reproducible. */
	if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK)
		goto out;
	for (i = 0; i < RCPT_BUNDLE_F_COUNT; i++) {
		if (data[i] == NULL)
			continue;
		if ((r = write_entry(a, rcpt_bundle_file_names[i], data[i],
		         len[i], mtime)) != RCPT_OK)
			goto out;
	}
	r = archive_write_close(a) == ARCHIVE_OK ? RCPT_OK : RCPT_E_IO;
out:
	if (r == RCPT_E_IO)
		rcpt_diag(diag, r, "bundle: writing the tar failed: %s",
		    archive_error_string(a) != NULL ? archive_error_string(a)
		                                    : "unknown error");
	archive_write_free(a);
	return r;
}

/* fsyncs the directory holding @p path so that the new name is durable. */
static int
sync_dir(const char *path)
{
	char *dir;
	char *slash;
	int fd, r = RCPT_E_IO;

	if ((dir = rcpt_strdup(path)) == NULL)
		return RCPT_E_NOMEM;
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		dir = rcpt_strdup(".");
	} else
		slash[slash == dir ? 1 : 0] = '\0';
	if (dir == NULL)
		return RCPT_E_NOMEM;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (fsync(fd) == 0)
			r = RCPT_OK;
		close(fd);
	}
	free(dir);
	return r;
}

/* Early refusal saves work (a signature, an export); linkat is what is safe. */
static int
check_absent(const char *path, struct rcpt_diag *diag)
{
	struct stat sb;

	if (lstat(path, &sb) == 0)
		return rcpt_diag(diag, RCPT_E_EXISTS, "bundle: output exists");
	if (errno != ENOENT)
		return rcpt_diag(
		    diag, RCPT_E_IO, "bundle: output: %s", strerror(errno));
	return RCPT_OK;
}

/*
 * Packs @p parts with a finished manifest and manifest.sig text into a
 * temporary file, syncs it and links it to @p path.
 */
static int
write_file(const char *path, const struct rcpt_bundle_parts *parts,
    const char *manifest, size_t manifest_len, const char *sig,
    struct rcpt_diag *diag)
{
	char *tmp = NULL;
	size_t n;
	int fd = -1, rc, r = RCPT_E_INTERNAL;

	n = strlen(path) + sizeof(".XXXXXX");
	if ((tmp = rcpt_malloc(n)) == NULL)
		return RCPT_E_NOMEM;
	snprintf(tmp, n, "%s.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		free(tmp);
		return rcpt_diag(diag, RCPT_E_IO, "bundle: temporary file: %s",
		    strerror(errno));
	}
	if ((r = write_tar(fd, parts, manifest, manifest_len, sig, diag)) !=
	    RCPT_OK)
		goto out;
	if (fsync(fd) != 0) {
		r = rcpt_diag(
		    diag, RCPT_E_IO, "bundle: sync: %s", strerror(errno));
		goto out;
	}
	rc = close(fd);
	fd = -1;
	if (rc != 0) {
		r = rcpt_diag(
		    diag, RCPT_E_IO, "bundle: close: %s", strerror(errno));
		goto out;
	}
	/* A hard link never replaces an existing name, unlike rename(2). */
	if (linkat(AT_FDCWD, tmp, AT_FDCWD, path, 0) != 0) {
		r = errno == EEXIST
		        ? rcpt_diag(
		              diag, RCPT_E_EXISTS, "bundle: output exists")
		        : rcpt_diag(diag, RCPT_E_IO, "bundle: output: %s",
		              strerror(errno));
		goto out;
	}
	if ((r = sync_dir(path)) != RCPT_OK) {
		(void)unlink(path);
		rcpt_diag(diag, r, "bundle: syncing the directory failed");
		goto out;
	}
	r = RCPT_OK;
out:
	if (fd != -1)
		close(fd);
	(void)unlink(tmp);
	free(tmp);
	return r;
}

int
rcpt_bundle_write(const char *path, const struct rcpt_bundle_parts *parts,
    const struct rcpt_signer *s, struct rcpt_diag *diag)
{
	char sig[RCPT_BUNDLE_SIG_TEXT_LEN + 1];
	char *manifest = NULL;
	size_t manifest_len = 0;
	int r = RCPT_E_INTERNAL;

	if (path == NULL || parts == NULL || s == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "bundle: missing argument");
	if (parts->receipts == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "receipts.jsonl: required to write a bundle");
	if ((r = check_absent(path, diag)) != RCPT_OK)
		return r;
	if ((r = rcpt_bundle_manifest(
	         parts, s, &manifest, &manifest_len, sig, diag)) != RCPT_OK)
		goto out;
	r = write_file(path, parts, manifest, manifest_len, sig, diag);
out:
	free(manifest);
	return r;
}

/* The kid member of a manifest text, which must be a JSON object. */
static int
manifest_kid(const char *manifest, size_t len, char kid[RCPT_KID_LEN + 1],
    struct rcpt_diag *diag)
{
	uint8_t thumb[RCPT_HASH_LEN];
	json_object *m = NULL, *v;
	int r;

	/* A manifest is an object of strings, integers and one object. */
	if ((r = rcpt_json_parse(manifest, len, 2, "manifest", &m, diag)) !=
	    RCPT_OK)
		return r == RCPT_E_NOMEM ? r : RCPT_E_INVAL;
	if (json_object_is_type(m, json_type_object) &&
	    json_object_object_get_ex(m, "kid", &v) &&
	    json_object_is_type(v, json_type_string) &&
	    rcpt_b64url_decode(json_object_get_string(v),
	        (size_t)json_object_get_string_len(v), thumb,
	        sizeof(thumb)) == RCPT_OK) {
		memcpy(kid, json_object_get_string(v), RCPT_KID_LEN + 1);
		r = RCPT_OK;
	} else
		r = rcpt_diag(diag, RCPT_E_INVAL,
		    "manifest.kid: missing or not a kid (SPEC 3)");
	json_object_put(m);
	return r;
}

int
rcpt_bundle_write_signed(const char *path,
    const struct rcpt_bundle_parts *parts, const char *manifest,
    size_t manifest_len, const char *sig_hex, struct rcpt_diag *diag)
{
	char sig[RCPT_BUNDLE_SIG_TEXT_LEN + 1], kid[RCPT_KID_LEN + 1];
	uint8_t raw[RCPT_ED25519_SIG_LEN];
	char *mine = NULL;
	size_t mine_len = 0;
	int r = RCPT_E_INTERNAL;

	if (path == NULL || parts == NULL || manifest == NULL ||
	    sig_hex == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "bundle: missing argument");
	if (parts->receipts == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "receipts.jsonl: required to write a bundle");
	if (rcpt_hex_decode(sig_hex, strlen(sig_hex), raw, sizeof(raw)) !=
	    RCPT_OK)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "manifest.sig: must be 128 lowercase hex digits");
	memcpy(sig, sig_hex, RCPT_BUNDLE_SIG_TEXT_LEN - 1);
	sig[RCPT_BUNDLE_SIG_TEXT_LEN - 1] = '\n';
	sig[RCPT_BUNDLE_SIG_TEXT_LEN] = '\0';
	if ((r = check_absent(path, diag)) != RCPT_OK ||
	    (r = manifest_kid(manifest, manifest_len, kid, diag)) != RCPT_OK ||
	    (r = check_parts(parts, kid, diag)) != RCPT_OK)
		return r;
	/*
	 * Rebuilding the manifest checks every member at once: the range,
	 * chain, created, kid and the hash of every file.
	 */
	if ((r = build_manifest(parts, kid, &mine, &mine_len, diag)) != RCPT_OK)
		goto out;
	if (mine_len != manifest_len || memcmp(mine, manifest, mine_len) != 0) {
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "manifest.json: does not describe the files given (a "
		    "hash, the range, chain or created differ, or it is not "
		    "JCS)");
		goto out;
	}
	r = write_file(path, parts, manifest, manifest_len, sig, diag);
out:
	free(mine);
	return r;
}
