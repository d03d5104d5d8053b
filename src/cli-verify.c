/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The auditor's subcommands: `verify` (a receipts.jsonl chain, with an
 * optional checkpoint), `verify-bundle` (an evidence bundle) and
 * `verify-proof` (an inclusion or consistency proof).  Each prints the
 * one line SPEC 8 (or, for proofs, this tool) prescribes on stdout and
 * exits 0 clean, 1 broken, 2 usage or I/O error.
 *
 * The verdicts themselves come from src/verify.h, src/bundle.h and
 * src/proof.h; this file only reads files, parses the key sets and
 * checkpoints given on the command line, and prints.  A key set or
 * checkpoint that cannot be parsed is malformed input, which SPEC 8
 * makes a failure: `verify` and `verify-bundle` print "Chain integrity:
 * BROKEN: <option> <file>: <rule>" and exit 1.  A file that cannot be
 * read is an I/O error (stderr, exit 2).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "bundle.h"
#include "checkpoint.h"
#include "cli.h"
#include "jwk.h"
#include "proof.h"
#include "receipt.h"
#include "verify.h"

#define JWKS_MAX_BYTES  ((size_t)16 * 1024 * 1024)
#define PROOF_MAX_BYTES ((size_t)1024 * 1024)

/*
 * Reports malformed input given with option @p opt: as the SPEC 8 line
 * when @p verdict is set (the chain cannot be judged CLEAN), else on
 * stderr.  Returns exit status 1.
 */
static int
malformed(const char *cmd, int verdict, const char *opt, const char *path,
    const char *msg)
{
	if (verdict)
		printf("Chain integrity: BROKEN: %s %s: %s\n", opt, path, msg);
	else
		rcpt_cli_warn(cmd, "%s %s: %s", opt, path, msg);
	return RCPT_CLI_EXIT_BROKEN;
}

/*
 * Reads and parses the JWK Set in @p path, given with option @p opt.
 * Returns an exit status; on 0, *out holds the set.
 */
static int
load_jwks(const char *cmd, int verdict, const char *opt, const char *path,
    struct rcpt_jwks **out)
{
	struct rcpt_diag diag = {0};
	char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = rcpt_cli_read_file(
	         path, JWKS_MAX_BYTES, &text, &len, &diag)) != RCPT_OK) {
		rcpt_cli_warn(cmd, "%s: %s", opt, rcpt_diag_msg(&diag, r));
		return rcpt_cli_exit_code(r);
	}
	r = rcpt_jwks_parse(text, len, out, &diag);
	free(text);
	if (r == RCPT_E_NOMEM) {
		rcpt_cli_warn(cmd, "%s: %s", opt, rcpt_strerror(r));
		return RCPT_CLI_EXIT_USAGE;
	}
	if (r != RCPT_OK)
		return malformed(
		    cmd, verdict, opt, path, rcpt_diag_msg(&diag, r));
	return RCPT_CLI_EXIT_OK;
}

/* Reads and parses the checkpoint in @p path into @p cp. */
static int
load_checkpoint(const char *cmd, const char *path, struct rcpt_checkpoint *cp)
{
	struct rcpt_diag diag = {0};
	char *text = NULL;
	size_t len = 0;
	int r;

	if ((r = rcpt_cli_read_file(path, RCPT_CHECKPOINT_MAX_BYTES, &text,
	         &len, &diag)) != RCPT_OK) {
		rcpt_cli_warn(cmd, "--checkpoint: %s", rcpt_diag_msg(&diag, r));
		return rcpt_cli_exit_code(r);
	}
	r = rcpt_checkpoint_parse(text, len, cp, &diag);
	free(text);
	if (r == RCPT_E_NOMEM) {
		rcpt_cli_warn(cmd, "--checkpoint: %s", rcpt_strerror(r));
		return RCPT_CLI_EXIT_USAGE;
	}
	if (r != RCPT_OK)
		return malformed(
		    cmd, 1, "--checkpoint", path, rcpt_diag_msg(&diag, r));
	return RCPT_CLI_EXIT_OK;
}

static int
parse_threads(const char *cmd, const char *s, int *out)
{
	long n;

	if (rcpt_cli_parse_long(s, 1, RCPT_CLI_MAX_THREADS, &n) != RCPT_OK)
		return rcpt_cli_usage_error(cmd,
		    "--threads: must be an integer from 1 to %d",
		    RCPT_CLI_MAX_THREADS);
	*out = (int)n;
	return RCPT_CLI_EXIT_OK;
}

/*
 * Prints the SPEC 8 line for @p res and returns its exit status.  An
 * ERROR result (I/O, memory) goes to stderr instead: it is no verdict.
 */
static int
report(const char *cmd, const char *path, const struct rcpt_verify_result *res)
{
	char line[1024];

	if (res->status == RCPT_VERIFY_ERROR) {
		rcpt_cli_warn(cmd, "%s: %s",
		    strcmp(path, "-") == 0 ? "stdin" : path, res->reason);
		return RCPT_CLI_EXIT_USAGE;
	}
	rcpt_verify_format(res, line, sizeof(line));
	if (rcpt_cli_write_stdout(line, strlen(line)) != RCPT_OK) {
		rcpt_cli_warn(cmd, "stdout: write failed");
		return RCPT_CLI_EXIT_USAGE;
	}
	return res->status == RCPT_VERIFY_CLEAN ? RCPT_CLI_EXIT_OK
	                                        : RCPT_CLI_EXIT_BROKEN;
}

int
cmd_verify(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"checkpoint", required_argument, NULL, 'c'},
	    {"keys", required_argument, NULL, 'k'},
	    {"threads", required_argument, NULL, 'j'},
	    {"trust", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct rcpt_verify_opts opts = {0};
	struct rcpt_verify_result res;
	struct rcpt_checkpoint cp = {0};
	struct rcpt_jwks *trust = NULL, *keys = NULL;
	const char *cp_path = NULL, *keys_path = NULL, *trust_path = NULL;
	const char *path;
	FILE *in = NULL;
	int c, threads = rcpt_cli_default_threads();
	int ret = RCPT_CLI_EXIT_USAGE;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cp_path = optarg;
			break;
		case 'k':
			keys_path = optarg;
			break;
		case 'j':
			if (parse_threads(argv[0], optarg, &threads) != 0)
				return RCPT_CLI_EXIT_USAGE;
			break;
		case 't':
			trust_path = optarg;
			break;
		default:
			return rcpt_cli_option_error(argv[0], c, argv);
		}
	}
	if (argc - optind != 1)
		return rcpt_cli_usage_error(
		    argv[0], "needs exactly one FILE.jsonl");
	path = argv[optind];

	/*
	 * The key set is only a lookup aid (SPEC 8): keys come from the
	 * chain and --trust.  It is still checked, so that a damaged one
	 * is noticed.
	 */
	if (keys_path != NULL &&
	    (ret = load_jwks(argv[0], 1, "--keys", keys_path, &keys)) != 0)
		goto out;
	if (trust_path != NULL &&
	    (ret = load_jwks(argv[0], 1, "--trust", trust_path, &trust)) != 0)
		goto out;
	if (cp_path != NULL &&
	    (ret = load_checkpoint(argv[0], cp_path, &cp)) != 0)
		goto out;

	if (strcmp(path, "-") == 0) {
		in = stdin;
	} else if ((in = fopen(path, "re")) == NULL) {
		rcpt_cli_warn(
		    argv[0], "%s: cannot open: %s", path, strerror(errno));
		ret = RCPT_CLI_EXIT_USAGE;
		goto out;
	}
	opts.trust = trust;
	opts.threads = threads;
	memset(&res, 0, sizeof(res));
	rcpt_verify_stream(in, &opts, cp_path != NULL ? &cp : NULL, &res);
	ret = report(argv[0], path, &res);
out:
	if (in != NULL && in != stdin)
		fclose(in);
	rcpt_checkpoint_clear(&cp);
	rcpt_jwks_free(trust);
	rcpt_jwks_free(keys);
	return ret;
}

int
cmd_verify_bundle(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"threads", required_argument, NULL, 'j'},
	    {"trust", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct rcpt_verify_result res;
	struct rcpt_jwks *trust = NULL;
	const char *trust_path = NULL;
	int c, threads = rcpt_cli_default_threads();
	int ret;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			if (parse_threads(argv[0], optarg, &threads) != 0)
				return RCPT_CLI_EXIT_USAGE;
			break;
		case 't':
			trust_path = optarg;
			break;
		default:
			return rcpt_cli_option_error(argv[0], c, argv);
		}
	}
	if (argc - optind != 1)
		return rcpt_cli_usage_error(
		    argv[0], "needs exactly one FILE.tar");
	if (trust_path != NULL &&
	    (ret = load_jwks(argv[0], 1, "--trust", trust_path, &trust)) != 0)
		return ret;
	memset(&res, 0, sizeof(res));
	rcpt_bundle_verify(argv[optind], trust, threads, &res);
	ret = report(argv[0], argv[optind], &res);
	rcpt_jwks_free(trust);
	return ret;
}

/* Prints the VALID line for the proof in @p text, of kind @p kind. */
static int
print_valid_proof(
    const char *text, size_t len, int kind, struct rcpt_diag *diag)
{
	struct rcpt_inclusion_proof inc = {0};
	struct rcpt_consistency_proof con = {0};
	int n, r = RCPT_E_INTERNAL;

	/* Verified already: parsing again only recovers the sizes. */
	if (kind == RCPT_PROOF_INCLUSION) {
		if ((r = rcpt_proof_inclusion_parse(text, len, &inc, diag)) !=
		    RCPT_OK)
			goto out;
		n = printf("Proof: VALID (inclusion of seq %" PRIu64
		           " in tree of size %" PRIu64 ")\n",
		    inc.seq, inc.tree_size);
	} else if (kind == RCPT_PROOF_CONSISTENCY) {
		if ((r = rcpt_proof_consistency_parse(text, len, &con, diag)) !=
		    RCPT_OK)
			goto out;
		n = printf("Proof: VALID (consistency from %" PRIu64
		           " to %" PRIu64 ")\n",
		    con.old_size, con.new_size);
	} else {
		r = rcpt_diag(diag, RCPT_E_INTERNAL, "proof of unknown kind");
		goto out;
	}
	if (n < 0 || fflush(stdout) != 0) {
		r = rcpt_diag(diag, RCPT_E_IO, "stdout: write failed");
		goto out;
	}
	r = RCPT_OK;
out:
	rcpt_proof_consistency_clear(&con);
	rcpt_proof_inclusion_clear(&inc);
	return r;
}

/* The receipt's own hashes, then the proof's chain, seq and entry_hash. */
static int
receipt_matches(const char *line, size_t n,
    const struct rcpt_inclusion_proof *p, struct rcpt_diag *diag)
{
	struct rcpt_receipt_view vw;
	struct rcpt_receipt rc;
	uint8_t h[RCPT_HASH_LEN];
	int r;

	rcpt_receipt_init(&rc);
	if ((r = rcpt_receipt_scan(line, n, 256, &vw, diag)) != RCPT_OK ||
	    (r = rcpt_receipt_parse(line, n, 256, &rc, diag)) != RCPT_OK)
		return r;
	if (vw.has_data &&
	    (SHA256((const unsigned char *)vw.data.p, vw.data.len, h) == NULL ||
	        memcmp(h, vw.data_hash_raw, RCPT_HASH_LEN) != 0))
		r = rcpt_diag(
		    diag, RCPT_E_CORRUPT, "data_hash does not match data");
	else if ((r = rcpt_receipt_entry_hash(&rc, h)) != RCPT_OK)
		(void)rcpt_diag(diag, r, "entry_hash: cannot be computed");
	else if (memcmp(h, rc.entry_hash, RCPT_HASH_LEN) != 0)
		r = rcpt_diag(diag, RCPT_E_CORRUPT,
		    "entry_hash does not match the signed view");
	else if (strcmp(rc.chain, p->chain) != 0)
		r = rcpt_diag(diag, RCPT_E_PROOF,
		    "chain %s is not the proof's chain %s", rc.chain, p->chain);
	else if (rc.seq != p->seq)
		r = rcpt_diag(diag, RCPT_E_PROOF,
		    "seq %" PRIu64 " is not the proof's seq %" PRIu64, rc.seq,
		    p->seq);
	else if (memcmp(rc.entry_hash, p->entry_hash, RCPT_HASH_LEN) != 0)
		r = rcpt_diag(diag, RCPT_E_PROOF,
		    "entry_hash is not the one the proof includes");
	rcpt_receipt_clear(&rc);
	return r;
}

/*
 * Ties the receipt in @p path to the inclusion proof @p text, verified
 * already.  A proof shows only that some entry_hash is in a signed tree;
 * this shows that it is this receipt's, which is what a third party is
 * asked to accept (SPEC 1, 5), also for the unsigned receipts of a batch
 * chain.  The file holds one stored receipt, with or without its "\n".
 */
static int
check_receipt(
    const char *path, const char *text, size_t len, struct rcpt_diag *diag)
{
	struct rcpt_inclusion_proof inc = {0};
	struct rcpt_diag tmp = {0};
	char *line = NULL;
	size_t n = 0;
	int r;

	r = rcpt_cli_read_file(path, RCPT_VERIFY_LINE_MAX + 1, &line, &n, &tmp);
	if (r == RCPT_E_TOO_LARGE)
		r = rcpt_diag(&tmp, r, "longer than a receipt may be");
	if (r == RCPT_OK && n > 0 && line[n - 1] == '\n')
		n--;
	if (r == RCPT_OK && memchr(line, '\n', n) != NULL)
		r = rcpt_diag(&tmp, RCPT_E_INVAL,
		    "holds more than one line; give one receipt");
	if (r == RCPT_OK &&
	    (r = rcpt_proof_inclusion_parse(text, len, &inc, &tmp)) == RCPT_OK)
		r = receipt_matches(line, n, &inc, &tmp);
	if (r != RCPT_OK)
		(void)rcpt_diag(
		    diag, r, "--receipt %s: %s", path, rcpt_diag_msg(&tmp, r));
	rcpt_proof_inclusion_clear(&inc);
	free(line);
	return r;
}

int
cmd_verify_proof(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"keys", required_argument, NULL, 'k'},
	    {"receipt", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct rcpt_diag diag = {0};
	struct rcpt_jwks *keys = NULL;
	const char *keys_path = NULL, *receipt_path = NULL;
	char *text = NULL;
	size_t len = 0;
	int c, r, kind = RCPT_PROOF_NONE;
	int ret = RCPT_CLI_EXIT_USAGE;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keys_path = optarg;
			break;
		case 'r':
			receipt_path = optarg;
			break;
		default:
			return rcpt_cli_option_error(argv[0], c, argv);
		}
	}
	if (argc - optind != 1)
		return rcpt_cli_usage_error(
		    argv[0], "needs exactly one PROOF.json");
	if (keys_path == NULL)
		return rcpt_cli_usage_error(argv[0],
		    "--keys JWKS is required: a proof is only as good as "
		    "the keys its checkpoints are checked with");
	if ((ret = load_jwks(argv[0], 0, "--keys", keys_path, &keys)) != 0)
		goto out;
	if ((r = rcpt_cli_read_file(argv[optind], RCPT_PROOF_MAX_BYTES, &text,
	         &len, &diag)) != RCPT_OK &&
	    r != RCPT_E_TOO_LARGE) {
		ret = rcpt_cli_fail(argv[0], r, &diag);
		goto out;
	}
	if (r == RCPT_OK)
		r = rcpt_proof_verify_text(text, len, keys, &kind, &diag);
	if (r == RCPT_OK && receipt_path != NULL &&
	    kind != RCPT_PROOF_INCLUSION) {
		ret = rcpt_cli_usage_error(argv[0],
		    "--receipt goes with an inclusion proof, not a "
		    "consistency proof");
		goto out;
	}
	if (r == RCPT_OK && receipt_path != NULL)
		r = check_receipt(receipt_path, text, len, &diag);
	if (r == RCPT_OK)
		r = print_valid_proof(text, len, kind, &diag);
	if (r == RCPT_OK && receipt_path != NULL &&
	    (printf("Receipt: MATCHES (%s is the receipt the proof "
	            "includes)\n",
	         receipt_path) < 0 ||
	        fflush(stdout) != 0))
		r = rcpt_diag(&diag, RCPT_E_IO, "stdout: write failed");
	if (r != RCPT_OK && rcpt_cli_exit_code(r) == RCPT_CLI_EXIT_BROKEN) {
		printf("Proof: INVALID: %s\n", rcpt_diag_msg(&diag, r));
		ret = fflush(stdout) == 0 ? RCPT_CLI_EXIT_BROKEN
		                          : RCPT_CLI_EXIT_USAGE;
		goto out;
	}
	if (r != RCPT_OK) {
		ret = rcpt_cli_fail(argv[0], r, &diag);
		goto out;
	}
	ret = RCPT_CLI_EXIT_OK;
out:
	free(text);
	rcpt_jwks_free(keys);
	return ret;
}
