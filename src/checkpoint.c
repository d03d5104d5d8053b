/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checkpoints as C2SP signed notes (SPEC 5): making and signing one,
 * parsing one strictly, and checking its signature under a given key.
 *
 * The parser accepts exactly the note SPEC 5 describes: three body
 * lines, no extension lines, a blank line, then signature lines.  Lines
 * for other keys or algorithms are kept, since a verifier ignores what
 * it cannot check; none is trusted here.  Which key may be trusted is
 * the caller's decision (SPEC 8), as is any Merkle consistency.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "checkpoint.h"
#include "encode.h"
#include "mem.h"
#include "receipt.h"

#define EM_DASH     "\xe2\x80\x94" /* U+2014 */
#define SIG_PREFIX  EM_DASH " "
#define SIG_PFX_LEN (sizeof(SIG_PREFIX) - 1)
#define ALG_ED25519 0x01
#define BLOB_LEN    (4 + RCPT_ED25519_SIG_LEN)
#define NAME_MAX_   (sizeof(((struct rcpt_checkpoint_sig *)0)->name) - 1)
#define ROOT_B64    RCPT_B64_LEN(RCPT_HASH_LEN) /* 44 */

int
rcpt_checkpoint_origin_is_valid(const char *origin)
{
	size_t i;

	if (origin == NULL)
		return 0;
	for (i = 0; origin[i] != '\0'; i++) {
		char c = origin[i];

		if (i >= 200)
			return 0;
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		        (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		        c == '~' || c == ':' || c == '/' || c == '-'))
			return 0;
	}
	return i > 0;
}

static int
check_names(const char *origin, const char *chain, struct rcpt_diag *diag)
{
	if (!rcpt_checkpoint_origin_is_valid(origin))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "checkpoint.origin: must be 1 to 200 bytes of "
		    "[A-Za-z0-9._~:/-]");
	if (!rcpt_receipt_chain_is_valid(chain))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "checkpoint.chain: must match ^[a-z0-9][a-z0-9._-]{0,63}$");
	return RCPT_OK;
}

int
rcpt_checkpoint_keyhash(const char *origin, const char *chain,
    const uint8_t pub[RCPT_ED25519_PUB_LEN], uint8_t out[4])
{
	uint8_t buf[NAME_MAX_ + 2 + RCPT_ED25519_PUB_LEN];
	uint8_t digest[SHA256_DIGEST_LENGTH];
	size_t no, nc, n;
	int r;

	memset(out, 0, 4);
	if ((r = check_names(origin, chain, NULL)) != RCPT_OK)
		return r;
	no = strlen(origin);
	nc = strlen(chain);
	/* The key name is "<origin>/<chain>", then 0x0A and the alg byte. */
	memcpy(buf, origin, no);
	buf[no] = '/';
	memcpy(buf + no + 1, chain, nc);
	n = no + 1 + nc;
	buf[n++] = '\n';
	buf[n++] = ALG_ED25519;
	memcpy(buf + n, pub, RCPT_ED25519_PUB_LEN);
	n += RCPT_ED25519_PUB_LEN;
	SHA256(buf, n, digest);
	memcpy(out, digest, 4);
	return RCPT_OK;
}

int
rcpt_checkpoint_sign_with(const char *origin, const char *chain, uint64_t size,
    const uint8_t root[RCPT_HASH_LEN], rcpt_checkpoint_sign_fn fn, void *ctx,
    const char *kid, const uint8_t pub[RCPT_ED25519_PUB_LEN], char **note_out)
{
	char root_b64[ROOT_B64 + 1], blob_b64[RCPT_B64_LEN(BLOB_LEN) + 1];
	uint8_t blob[BLOB_LEN];
	char *note = NULL;
	size_t cap, body_len;
	int n, r;

	*note_out = NULL;
	if (root == NULL || fn == NULL || pub == NULL)
		return RCPT_E_INVAL;
	if ((r = check_names(origin, chain, NULL)) != RCPT_OK)
		return r;
	if ((r = rcpt_checkpoint_keyhash(origin, chain, pub, blob)) != RCPT_OK)
		return r;
	rcpt_b64_encode(root, RCPT_HASH_LEN, root_b64);
	/* Body, blank line, one signature line that repeats the name. */
	cap = 2 * (strlen(origin) + 1 + strlen(chain)) + 21 + ROOT_B64 +
	      sizeof(blob_b64) + 16;
	if ((note = rcpt_malloc(cap)) == NULL)
		return RCPT_E_NOMEM;
	n = snprintf(note, cap, "%s/%s\n%" PRIu64 "\n%s\n", origin, chain, size,
	    root_b64);
	if (n < 0 || (size_t)n >= cap) {
		r = RCPT_E_INTERNAL;
		goto out;
	}
	body_len = (size_t)n;
	if ((r = fn(ctx, kid, (const uint8_t *)note, body_len, blob + 4)) !=
	    RCPT_OK)
		goto out;
	/* A signer holding another key than it claims must not publish. */
	if (rcpt_ed25519_verify(
	        pub, (const uint8_t *)note, body_len, blob + 4) != RCPT_OK) {
		r = RCPT_E_KEY_UNAVAILABLE;
		goto out;
	}
	rcpt_b64_encode(blob, BLOB_LEN, blob_b64);
	n = snprintf(note + body_len, cap - body_len,
	    "\n" SIG_PREFIX "%s/%s %s\n", origin, chain, blob_b64);
	if (n < 0 || (size_t)n >= cap - body_len) {
		r = RCPT_E_INTERNAL;
		goto out;
	}
	*note_out = note;
	note = NULL;
	r = RCPT_OK;
out:
	free(note);
	return r;
}

int
rcpt_checkpoint_sign(const char *origin, const char *chain, uint64_t size,
    const uint8_t root[RCPT_HASH_LEN], const struct rcpt_signer *s,
    char **note_out)
{
	*note_out = NULL;
	if (s == NULL || s->sign_msg == NULL)
		return RCPT_E_INVAL;
	return rcpt_checkpoint_sign_with(origin, chain, size, root, s->sign_msg,
	    s->ctx, s->kid, s->pub, note_out);
}

/* Finds the end of the line at @p p; NULL when there is no '\n'. */
static const char *
line_end(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

static int
parse_size(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 20 || (n > 1 && p[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d;

		if (p[i] < '0' || p[i] > '9')
			return -1;
		d = (unsigned)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* Reads the first three lines into @p cp. */
static int
parse_body(const char *note, const char *end, struct rcpt_checkpoint *cp,
    const char **next, struct rcpt_diag *diag)
{
	const char *p = note, *e, *slash;
	size_t n, got;

	if ((e = line_end(p, end)) == NULL)
		return rcpt_diag(diag, RCPT_E_PARSE,
		    "checkpoint: origin line not terminated");
	/* The chain name has no '/', so the last one splits the name. */
	for (slash = e; slash > p && slash[-1] != '/'; slash--)
		;
	if (slash == p || (size_t)(slash - 1 - p) > 200)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "checkpoint.origin: must be 1 to 200 bytes of "
		    "[A-Za-z0-9._~:/-] before \"/<chain>\"");
	n = (size_t)(slash - 1 - p);
	memcpy(cp->origin, p, n);
	cp->origin[n] = '\0';
	if (!rcpt_checkpoint_origin_is_valid(cp->origin) ||
	    strlen(cp->origin) != n)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "checkpoint.origin: must be 1 to 200 bytes of "
		    "[A-Za-z0-9._~:/-]");
	n = (size_t)(e - slash);
	if (!rcpt_receipt_chain_is_valid_len(slash, n))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "checkpoint.chain: must match ^[a-z0-9][a-z0-9._-]{0,63}$");
	memcpy(cp->chain, slash, n);
	cp->chain[n] = '\0';

	p = e + 1;
	if ((e = line_end(p, end)) == NULL)
		return rcpt_diag(
		    diag, RCPT_E_PARSE, "checkpoint.size: line missing");
	if (parse_size(p, (size_t)(e - p), &cp->size) != 0)
		return rcpt_diag(diag, RCPT_E_PARSE,
		    "checkpoint.size: must be decimal without leading zeros");

	p = e + 1;
	if ((e = line_end(p, end)) == NULL)
		return rcpt_diag(
		    diag, RCPT_E_PARSE, "checkpoint.root: line missing");
	if ((size_t)(e - p) != ROOT_B64 ||
	    rcpt_b64_decode(p, ROOT_B64, cp->root, RCPT_HASH_LEN, &got) !=
	        RCPT_OK ||
	    got != RCPT_HASH_LEN)
		return rcpt_diag(diag, RCPT_E_PARSE,
		    "checkpoint.root: must be padded base64 of 32 bytes");
	*next = e + 1;
	return RCPT_OK;
}

static int
name_char_ok(unsigned char c)
{
	return c > 0x20 && c != 0x7f && c != '+';
}

/* Reads one "— <name> <base64>" line (without its \n) into @p sig. */
static int
parse_sig_line(const char *p, const char *e, size_t idx,
    struct rcpt_checkpoint_sig *sig, uint8_t *blob, size_t blob_cap,
    struct rcpt_diag *diag)
{
	const char *name, *sp;
	size_t n, got = 0;

	if ((size_t)(e - p) < SIG_PFX_LEN ||
	    memcmp(p, SIG_PREFIX, SIG_PFX_LEN) != 0)
		return rcpt_diag(diag, RCPT_E_PARSE,
		    "checkpoint.signatures[%zu]: must start with U+2014 and a "
		    "space",
		    idx);
	name = p + SIG_PFX_LEN;
	for (sp = name; sp < e && *sp != ' '; sp++)
		if (!name_char_ok((unsigned char)*sp))
			return rcpt_diag(diag, RCPT_E_PARSE,
			    "checkpoint.signatures[%zu]: key name has white "
			    "space, a control character or '+'",
			    idx);
	n = (size_t)(sp - name);
	if (n == 0 || sp == e)
		return rcpt_diag(diag, RCPT_E_PARSE,
		    "checkpoint.signatures[%zu]: must be \"<name> <base64>\"",
		    idx);
	if (n > NAME_MAX_)
		return rcpt_diag(diag, RCPT_E_PARSE,
		    "checkpoint.signatures[%zu]: key name longer than %zu "
		    "bytes",
		    idx, NAME_MAX_);
	memcpy(sig->name, name, n);
	sig->name[n] = '\0';
	sp++;
	if (rcpt_b64_decode(sp, (size_t)(e - sp), blob, blob_cap, &got) !=
	        RCPT_OK ||
	    got < 5)
		return rcpt_diag(diag, RCPT_E_PARSE,
		    "checkpoint.signatures[%zu]: must be padded base64 of at "
		    "least 5 bytes",
		    idx);
	memcpy(sig->keyhash, blob, 4);
	if (got == BLOB_LEN) {
		memcpy(sig->sig, blob + 4, RCPT_ED25519_SIG_LEN);
		sig->is_ed25519 = 1;
	}
	return RCPT_OK;
}

int
rcpt_checkpoint_parse(const char *note, size_t len, struct rcpt_checkpoint *out,
    struct rcpt_diag *diag)
{
	const char *p, *e, *end;
	uint8_t *blob = NULL;
	int r;

	if (out == NULL)
		return RCPT_E_INVAL;
	memset(out, 0, sizeof(*out));
	if (note == NULL)
		return RCPT_E_INVAL;
	if (len > RCPT_CHECKPOINT_MAX_BYTES)
		return rcpt_diag(diag, RCPT_E_TOO_LARGE,
		    "checkpoint: longer than %d bytes",
		    RCPT_CHECKPOINT_MAX_BYTES);
	if (memchr(note, '\0', len) != NULL)
		return rcpt_diag(
		    diag, RCPT_E_PARSE, "checkpoint: contains a NUL byte");
	end = note + len;
	if ((r = parse_body(note, end, out, &p, diag)) != RCPT_OK)
		goto out;
	r = RCPT_E_PARSE;
	if (p == end || *p != '\n') {
		rcpt_diag(diag, r,
		    p == end ? "checkpoint: blank line and signatures missing"
		             : "checkpoint: extension lines are not allowed");
		goto out;
	}
	out->body_len = (size_t)(p - note);
	p++;
	r = RCPT_E_NOMEM;
	if ((out->body = rcpt_strndup(note, out->body_len)) == NULL ||
	    (blob = rcpt_malloc(len)) == NULL)
		goto out;
	while (p < end) {
		if (out->nsigs == RCPT_CHECKPOINT_MAX_SIGS) {
			r = rcpt_diag(diag, RCPT_E_TOO_LARGE,
			    "checkpoint: more than %d signature lines",
			    RCPT_CHECKPOINT_MAX_SIGS);
			goto out;
		}
		if ((e = line_end(p, end)) == NULL) {
			r = rcpt_diag(diag, RCPT_E_PARSE,
			    "checkpoint.signatures[%zu]: line not terminated",
			    out->nsigs);
			goto out;
		}
		if ((r = parse_sig_line(p, e, out->nsigs,
		         &out->sigs[out->nsigs], blob, len, diag)) != RCPT_OK)
			goto out;
		out->nsigs++;
		p = e + 1;
	}
	r = RCPT_OK;
	if (out->nsigs == 0)
		r = rcpt_diag(diag, RCPT_E_PARSE,
		    "checkpoint.signatures: at least one line required");
out:
	free(blob);
	if (r != RCPT_OK)
		rcpt_checkpoint_clear(out);
	return r;
}

int
rcpt_checkpoint_verify(
    const struct rcpt_checkpoint *cp, const uint8_t pub[RCPT_ED25519_PUB_LEN])
{
	char name[NAME_MAX_ + 1];
	uint8_t kh[4];
	size_t i;
	int n;

	if (cp == NULL || cp->body == NULL || pub == NULL)
		return RCPT_E_INVAL;
	if (rcpt_checkpoint_keyhash(cp->origin, cp->chain, pub, kh) != RCPT_OK)
		return RCPT_E_BAD_SIGNATURE;
	n = snprintf(name, sizeof(name), "%s/%s", cp->origin, cp->chain);
	if (n < 0 || (size_t)n >= sizeof(name))
		return RCPT_E_BAD_SIGNATURE;
	for (i = 0; i < cp->nsigs && i < RCPT_CHECKPOINT_MAX_SIGS; i++) {
		const struct rcpt_checkpoint_sig *s = &cp->sigs[i];

		if (!s->is_ed25519 || strcmp(s->name, name) != 0 ||
		    memcmp(s->keyhash, kh, 4) != 0)
			continue;
		if (rcpt_ed25519_verify(pub, (const uint8_t *)cp->body,
		        cp->body_len, s->sig) == RCPT_OK)
			return RCPT_OK;
	}
	return RCPT_E_BAD_SIGNATURE;
}

void
rcpt_checkpoint_clear(struct rcpt_checkpoint *cp)
{
	if (cp == NULL)
		return;
	free(cp->body);
	memset(cp, 0, sizeof(*cp));
}
