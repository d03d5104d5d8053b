/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for stored receipts (SPEC 1, 4, 6, 8).  Each line of
 * the input, and the input as one line, goes through both readers: the
 * allocating rcpt_receipt_parse and the zero-copy rcpt_receipt_scan the
 * verifier uses.  They must agree on what they accept (the one allowed
 * difference is a submitter holding U+0000, which only the scanner can
 * keep) and on what it says, and an accepted line must be exactly what
 * rcpt_receipt_serialize writes for it, since stored receipts are their
 * own JCS.  The lines are then streamed through the verifier, once
 * unpinned from seq 0 and once against a fixed --trust set from the
 * first line's seq; its verdict must be CLEAN only for lines the
 * scanner accepts.  Nothing may crash or leak.  Run with
 * --enable-fuzzing (`make fuzz-run`).  A test harness, so a broken
 * promise traps instead of returning an error.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-trust.h"
#include "json.h"
#include "jwk.h"
#include "receipt.h"
#include "verify.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rcpt_jwks *trust;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (rcpt_jwks_parse(trust_text, sizeof(trust_text) - 1, &trust, NULL) !=
	    RCPT_OK)
		__builtin_trap();
	return 0;
}

/* Both readers on one line; 1 when the scanner accepts it. */
static int
check_line(const char *line, size_t len)
{
	struct rcpt_receipt_view vw;
	struct rcpt_receipt r;
	struct rcpt_diag ds, dp;
	char *out = NULL;
	size_t out_len = 0;
	int rs, rp;

	rcpt_diag_clear(&ds);
	rcpt_diag_clear(&dp);
	rcpt_receipt_init(&r);
	rs = rcpt_receipt_scan(line, len, RCPT_JSON_DEPTH_MAX, &vw, &ds);
	rp = rcpt_receipt_parse(line, len, RCPT_JSON_DEPTH_MAX, &r, &dp);
	/* Every refusal explains itself. */
	if ((rs != RCPT_OK && !ds.set) ||
	    (rp != RCPT_OK && rp != RCPT_E_NOMEM && !dp.set))
		__builtin_trap();
	if (rp == RCPT_OK && rs != RCPT_OK)
		__builtin_trap();
	if (rs == RCPT_OK && rp != RCPT_OK) {
		/* Only a submitter with U+0000 is the scanner's alone. */
		if (rp != RCPT_E_INVAL ||
		    memmem(vw.submitter.p, vw.submitter.len, "\\u0000", 6) ==
		        NULL)
			__builtin_trap();
	}
	if (rs == RCPT_OK && rp == RCPT_OK) {
		if (vw.seq_num != r.seq || vw.has_data != r.has_data ||
		    vw.has_signature != r.has_signature ||
		    vw.has_pruned_at != (r.pruned_at[0] != '\0') ||
		    memcmp(vw.entry_hash_raw, r.entry_hash, RCPT_HASH_LEN) !=
		        0 ||
		    memcmp(vw.data_hash_raw, r.data_hash, RCPT_HASH_LEN) != 0 ||
		    memcmp(vw.prev_hash_raw, r.prev_hash, RCPT_HASH_LEN) != 0 ||
		    (r.has_signature && memcmp(vw.signature_raw, r.signature,
		                            RCPT_ED25519_SIG_LEN) != 0) ||
		    !rcpt_receipt_span_is(&vw.chain, r.chain) ||
		    !rcpt_receipt_span_is(&vw.kid, r.kid))
			__builtin_trap();
		if (rcpt_receipt_serialize(&r, &out, &out_len) != RCPT_OK ||
		    out_len != len || memcmp(out, line, len) != 0)
			__builtin_trap();
		free(out);
	}
	rcpt_receipt_clear(&r);
	return rs == RCPT_OK;
}

/*
 * Streams the lines through one verifier.  @p ok is 1 when the scanner
 * accepted every line.
 */
static void
verify_lines(const char *in, size_t size, const struct rcpt_jwks *keys,
    uint64_t first_seq, int ok)
{
	struct rcpt_verify_opts opts = {0};
	struct rcpt_verify_result res;
	struct rcpt_verifier *v = NULL;
	const char *nl;
	size_t used = 0, n, lines = 0;
	int r, broken = 0;
	char text[1024];

	opts.trust = keys;
	opts.first_seq = first_seq;
	if (rcpt_verifier_new(&opts, &v) != RCPT_OK)
		__builtin_trap();
	while (used < size) {
		nl = memchr(in + used, '\n', size - used);
		n = nl != NULL ? (size_t)(nl - (in + used)) : size - used;
		r = rcpt_verifier_feed(v, in + used, n);
		if (r == RCPT_E_CORRUPT)
			broken = 1;
		else if (r != RCPT_OK)
			__builtin_trap();
		lines++;
		used += n + (nl != NULL);
	}
	memset(&res, 0xa5, sizeof(res));
	rcpt_verifier_finish(v, NULL, &res);
	switch (res.status) {
	case RCPT_VERIFY_CLEAN:
		if (broken || !ok || res.count != lines)
			__builtin_trap();
		break;
	case RCPT_VERIFY_BROKEN:
	case RCPT_VERIFY_ERROR:
		break;
	default:
		__builtin_trap();
	}
	if (memchr(res.reason, '\0', sizeof(res.reason)) == NULL ||
	    memchr(res.chain, '\0', sizeof(res.chain)) == NULL ||
	    memchr(res.origin, '\0', sizeof(res.origin)) == NULL)
		__builtin_trap();
	rcpt_verify_format(&res, text, sizeof(text));
	rcpt_verifier_free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *nl;
	struct rcpt_receipt_view first;
	uint64_t first_seq = 0;
	size_t used = 0, n;
	int ok = 1, whole;

	/* The input as one stored receipt... */
	whole = check_line(in, size);
	/* ...and, when it has several lines, each of them. */
	while (used < size &&
	       (nl = memchr(in + used, '\n', size - used)) != NULL) {
		n = (size_t)(nl - (in + used));
		ok &= check_line(in + used, n);
		used += n + 1;
	}
	if (used == 0)
		ok = whole;
	else if (used < size)
		ok &= check_line(in + used, size - used);
	if (size == 0)
		return 0;
	verify_lines(in, size, NULL, 0, ok);
	/* A chain seen from its first line on, as bundles are. */
	nl = memchr(in, '\n', size);
	n = nl != NULL ? (size_t)(nl - in) : size;
	if (rcpt_receipt_scan(in, n, RCPT_JSON_DEPTH_MAX, &first, NULL) ==
	    RCPT_OK)
		first_seq = first.seq_num;
	verify_lines(in, size, trust, first_seq, ok);
	return 0;
}
