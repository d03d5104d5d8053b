/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evidence bundles (SPEC 7): a strict ustar file holding manifest.json,
 * manifest.sig, receipts.jsonl, keys.jwks.json, checkpoint.txt and, when
 * the checkpoint is not exactly the receipts' own tree, proofs.jsonl.
 *
 * Writing packs bytes the caller already has; it checks what it needs
 * to produce a bundle SPEC 7 accepts (the range against the first and
 * last receipt lines, receipt B signed, the checkpoint's chain and size,
 * proofs.jsonl present exactly when needed) but does not verify the
 * receipts in between, their signatures or the proof.  Verifying reads
 * the tar through libarchive restricted to plain ustar, streams
 * receipts.jsonl through the verifier of verify.h line by line, and
 * checks the manifest, its signature, the file hashes, the checkpoint
 * and the proof.  Writing lives in bundle.c, verifying in
 * bundle-verify.c.
 *
 * manifest.json cannot list its own hash (it contains the hashes), and
 * manifest.sig is excluded by SPEC 7, so `files` names exactly the other
 * files present: receipts.jsonl, keys.jwks.json, checkpoint.txt and,
 * when present, proofs.jsonl.
 */
#ifndef RCPT_SRC_BUNDLE_H
#define RCPT_SRC_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "jwk.h"
#include "merkle.h"
#include "signer.h"
#include "verify.h"

#define RCPT_BUNDLE_FORMAT "receiptd-bundle/1"
/* manifest.sig: 128 hex digits and "\n" */
#define RCPT_BUNDLE_SIG_TEXT_LEN (2 * RCPT_ED25519_SIG_LEN + 1)

/*
 * Size caps a verifier applies to each file.  receipts.jsonl is streamed
 * and only its lines are capped, at RCPT_VERIFY_LINE_MAX.
 */
#define RCPT_BUNDLE_MANIFEST_MAX (64 * 1024)
#define RCPT_BUNDLE_KEYS_MAX     (4 * 1024 * 1024)
#define RCPT_BUNDLE_PROOFS_MAX   (64 * 1024)

/** What a bundle is made of; every pointer borrowed. */
struct rcpt_bundle_parts {
	const char *chain;    /* chain name */
	uint64_t first_seq;   /* A */
	uint64_t last_seq;    /* B, >= A */
	const char *created;  /* TS; also every tar entry's mtime */
	const char *receipts; /* receipts.jsonl: lines A..B, each + \n */
	size_t receipts_len;
	/*
	 * SHA-256 of receipts.jsonl, used only when @p receipts is NULL:
	 * the daemon's export hashes the range without holding it whole.
	 */
	const uint8_t *receipts_sha256;
	const char *keys; /* keys.jwks.json */
	size_t keys_len;
	const char *checkpoint; /* checkpoint.txt, a signed note */
	size_t checkpoint_len;
	const char *proofs; /* proofs.jsonl, or NULL when not needed */
	size_t proofs_len;
};

/**
 * 1 when a bundle of receipts @p first_seq to @p last_seq with a
 * checkpoint of @p tree_size leaves needs proofs.jsonl (SPEC 7: always
 * unless A = 0 and N = B + 1).
 */
int rcpt_bundle_needs_proofs(
    uint64_t first_seq, uint64_t last_seq, uint64_t tree_size);

/**
 * Builds manifest.json and manifest.sig from @p parts without writing a
 * tar: what the daemon's `export` answers with.  The manifest's kid is
 * @p s->kid.  The checkpoint is parsed to check its chain, that its size
 * is at least last_seq + 1 and that proofs are given exactly when needed;
 * receipts, when given, must hold lines first_seq..last_seq of the chain
 * with the last one signed.
 * @param[out] manifest_out JCS, NUL-terminated, no newline; caller frees
 * with free().
 * @param[out] len_out its length.
 * @param[out] sig_out manifest.sig: 128 hex digits, "\n" and a NUL (the
 * RPC answer carries the first 128 characters).
 * @return RCPT_OK; RCPT_E_INVAL with @p diag naming the part and rule;
 * the signer's error (RCPT_E_KEY_UNAVAILABLE...); RCPT_E_NOMEM.
 */
int rcpt_bundle_manifest(const struct rcpt_bundle_parts *parts,
    const struct rcpt_signer *s, char **manifest_out, size_t *len_out,
    char sig_out[RCPT_BUNDLE_SIG_TEXT_LEN + 1],
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Writes the bundle to @p path as a reproducible ustar (regular files in
 * SPEC order, mode 0644, uid and gid 0, mtime = created).  The data go
 * to a temporary file in the same directory, which is synced and then
 * linked to @p path only if nothing exists there; an existing file is
 * never touched.  The new file has mode 0600 (receipts may hold
 * sensitive data); the caller may widen it.
 * @return RCPT_OK; RCPT_E_EXISTS when @p path exists; RCPT_E_INVAL (see
 * rcpt_bundle_manifest; @p parts->receipts is required); RCPT_E_IO with
 * @p diag; the signer's error; RCPT_E_NOMEM.
 */
int rcpt_bundle_write(const char *path, const struct rcpt_bundle_parts *parts,
    const struct rcpt_signer *s, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Writes a bundle whose manifest.json and signature were made elsewhere:
 * what a client does with the daemon's `export` answer (SPEC 9).  The
 * parts are checked as rcpt_bundle_write() checks them, and @p manifest
 * must be byte for byte the manifest rcpt_bundle_manifest() builds for
 * @p parts under the manifest's own kid, so every file hash, the range,
 * the chain and created are compared at once.  The signature is not
 * checked (no key is at hand); rcpt_bundle_verify() does that.  Written
 * as rcpt_bundle_write() writes (temporary file, sync, link, 0600).
 * @param[in] manifest JCS text, no newline; borrowed.
 * @param[in] sig_hex 128 lowercase hex digits, NUL-terminated, without
 * the newline manifest.sig ends in; borrowed.
 * @return RCPT_OK; RCPT_E_EXISTS when @p path exists; RCPT_E_INVAL
 * (parts, the manifest's kid or @p sig_hex break a rule; @p
 * parts->receipts is required); RCPT_E_CORRUPT (the manifest does not
 * describe @p parts); RCPT_E_IO with @p diag; RCPT_E_NOMEM.
 */
int rcpt_bundle_write_signed(const char *path,
    const struct rcpt_bundle_parts *parts, const char *manifest,
    size_t manifest_len, const char *sig_hex,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Verifies the bundle at @p path (SPEC 7 and 8) and fills @p res, which
 * rcpt_verify_format() turns into the one line SPEC 8 prescribes.  A
 * bundle whose first_seq is not 0 needs @p trust.  The first failure
 * wins; a receipt that fails is reported at its seq.
 * @param[in] trust the --trust set, or NULL; borrowed.
 * @param[in] threads signature workers for the verifier (0 or 1: inline).
 * @param[out] res CLEAN, BROKEN (the bundle or a receipt is invalid) or
 * ERROR (the file cannot be read, out of memory, or no --trust given
 * for a bundle that needs it).
 */
void rcpt_bundle_verify(const char *path, const struct rcpt_jwks *trust,
    int threads, struct rcpt_verify_result *res);

/*
 * Internal to bundle*.c: what the writer (bundle.c) and the verifier
 * (bundle-verify.c) share.  Not part of the API; other modules must not
 * use it.
 */

/* The files of a bundle, in the one order SPEC 7 allows. */
enum rcpt_bundle_file {
	RCPT_BUNDLE_F_MANIFEST,
	RCPT_BUNDLE_F_SIG,
	RCPT_BUNDLE_F_RECEIPTS,
	RCPT_BUNDLE_F_KEYS,
	RCPT_BUNDLE_F_CHECKPOINT,
	RCPT_BUNDLE_F_PROOFS,
	RCPT_BUNDLE_F_COUNT
};

/* Tar entry names, indexed by enum rcpt_bundle_file; static storage. */
extern const char *const rcpt_bundle_file_names[RCPT_BUNDLE_F_COUNT];

/* seq must stay below 2^53 so that JCS integers stay exact. */
#define RCPT_BUNDLE_SEQ_MAX 9007199254740992ULL

/** 1 when @p p holds exactly one line: no \n but the final one. */
int rcpt_bundle_is_one_line(const char *p, size_t n);

#endif
