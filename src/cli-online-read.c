/* SPDX-License-Identifier: Apache-2.0 */
/*
 * receiptctl's online readers: get, range, tail, tip, checkpoint, keys,
 * status, prove and verify.  They print what the daemon answers (JCS,
 * one value per line; a checkpoint note as its text) and trust none of
 * it: `prove` checks the proof against a checkpoint signed by a key of
 * the chain, and `verify` streams the chain through the offline
 * verifier (verify.h) and prints the SPEC 8 line as `verify FILE`
 * does.  Keys the daemon lists only help find keys: --trust pins them.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "cli-online.h"
#include "cli.h"
#include "jwk.h"
#include "mem.h"
#include "proof.h"
#include "verify.h"

/* Runs @p method with {"chain"} (or no params) and prints its result. */
static int
print_call(int argc, char *argv[], const char *method, bool chain, bool offline)
{
	const struct rcpt_cli_online_spec spec = {
	    .options = chain ? "socket chain" : "socket",
	    .required = chain ? "chain" : "",
	    .offline_form = offline,
	};
	struct rcpt_client *c = NULL;
	struct rcpt_diag d = {0};
	struct rcpt_cli_online a;
	json_object *p = NULL;
	char *text = NULL;
	size_t len = 0;
	int st, r;

	if ((st = rcpt_cli_online_parse(argc, argv, &spec, &a)) >= 0)
		return st;
	if ((st = rcpt_cli_online_connect(&a, &c)) >= 0)
		return st;
	if ((!chain || (r = rcpt_cli_online_params(a.chain, &p)) == RCPT_OK) &&
	    (r = rcpt_cli_online_call(c, method, p, &text, &len, &d)) ==
	        RCPT_OK)
		r = rcpt_cli_online_put(text, len, true, &d);
	st = r == RCPT_OK ? RCPT_CLI_EXIT_OK
	                  : rcpt_cli_online_fail(&a, c, r, &d);
	free(text);
	json_object_put(p);
	rcpt_client_close(c);
	return st;
}

int
cmd_online_tip(int argc, char *argv[])
{
	return print_call(argc, argv, "tip", true, false);
}

int
cmd_online_keys(int argc, char *argv[])
{
	return print_call(argc, argv, "keys", false, true);
}

int
cmd_online_status(int argc, char *argv[])
{
	return print_call(argc, argv, "status", false, false);
}

int
cmd_online_checkpoint(int argc, char *argv[])
{
	static const struct rcpt_cli_online_spec spec = {
	    .options = "socket chain",
	    .required = "chain",
	    .offline_form = true,
	};
	struct rcpt_client *c = NULL;
	struct rcpt_diag d = {0};
	struct rcpt_cli_online a;
	char *note = NULL;
	size_t len = 0;
	int st, r;

	if ((st = rcpt_cli_online_parse(argc, argv, &spec, &a)) >= 0)
		return st;
	if ((st = rcpt_cli_online_connect(&a, &c)) >= 0)
		return st;
	/* A note ends in its newline already. */
	if ((r = rcpt_client_checkpoint(c, a.chain, &note, &len, &d)) ==
	    RCPT_OK)
		r = rcpt_cli_online_put(note, len, false, &d);
	st = r == RCPT_OK ? RCPT_CLI_EXIT_OK
	                  : rcpt_cli_online_fail(&a, c, r, &d);
	free(note);
	rcpt_client_close(c);
	return st;
}

int
cmd_online_get(int argc, char *argv[])
{
	static const struct rcpt_cli_online_spec spec = {
	    .options = "socket chain seq",
	    .required = "chain seq",
	};
	struct rcpt_client *c = NULL;
	struct rcpt_diag d = {0};
	struct rcpt_cli_online a;
	char *line = NULL;
	size_t len = 0;
	int st, r;

	if ((st = rcpt_cli_online_parse(argc, argv, &spec, &a)) >= 0)
		return st;
	if ((st = rcpt_cli_online_connect(&a, &c)) >= 0)
		return st;
	if ((r = rcpt_client_get(c, a.chain, a.seq.v, &line, &len, &d)) ==
	    RCPT_OK)
		r = rcpt_cli_online_put(line, len, true, &d);
	st = r == RCPT_OK ? RCPT_CLI_EXIT_OK
	                  : rcpt_cli_online_fail(&a, c, r, &d);
	rcpt_freezero(line, len);
	rcpt_client_close(c);
	return st;
}

/* Prints a page of receipt lines as they are. */
static int
print_page(void *ctx, const char *lines, size_t len, uint64_t n)
{
	(void)n;
	return rcpt_cli_online_put(lines, len, false, ctx);
}

/* Prints @p count receipts from @p from, a page at a time. */
static int
print_range(const struct rcpt_cli_online *a, struct rcpt_client *c,
    uint64_t from, uint64_t count)
{
	struct rcpt_diag d = {0};
	uint64_t n = 0;
	int r;

	r = rcpt_cli_online_pages(
	    c, a->chain, from, count, print_page, &d, &n, &d);
	return r == RCPT_OK ? RCPT_CLI_EXIT_OK
	                    : rcpt_cli_online_fail(a, c, r, &d);
}

int
cmd_online_range(int argc, char *argv[])
{
	static const struct rcpt_cli_online_spec spec = {
	    .options = "socket chain from count",
	    .required = "chain from count",
	};
	struct rcpt_client *c = NULL;
	struct rcpt_cli_online a;
	int st;

	if ((st = rcpt_cli_online_parse(argc, argv, &spec, &a)) >= 0)
		return st;
	if (a.count.v == 0)
		return rcpt_cli_usage_error(
		    a.cmd, "--count: must be at least 1");
	if ((st = rcpt_cli_online_connect(&a, &c)) >= 0)
		return st;
	st = print_range(&a, c, a.from.v, a.count.v);
	rcpt_client_close(c);
	return st;
}

int
cmd_online_tail(int argc, char *argv[])
{
	static const struct rcpt_cli_online_spec spec = {
	    .options = "socket chain lines",
	    .required = "chain",
	};
	struct rcpt_client *c = NULL;
	struct rcpt_diag d = {0};
	struct rcpt_cli_online a;
	uint64_t size = 0, k;
	int st, r;

	if ((st = rcpt_cli_online_parse(argc, argv, &spec, &a)) >= 0)
		return st;
	k = a.lines.set ? a.lines.v : 10;
	if ((st = rcpt_cli_online_connect(&a, &c)) >= 0)
		return st;
	if ((r = rcpt_client_tip(c, a.chain, &size, NULL, &d)) != RCPT_OK)
		st = rcpt_cli_online_fail(&a, c, r, &d);
	else if (k == 0 || size == 0)
		st = RCPT_CLI_EXIT_OK;
	else
		st = print_range(&a, c, size > k ? size - k : 0, k);
	rcpt_client_close(c);
	return st;
}

/* prove */

/* The keys to check a proof with: --trust, else the daemon's set. */
static int
proof_keys(const struct rcpt_cli_online *a, struct rcpt_client *c,
    struct rcpt_jwks **out, struct rcpt_diag *d)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	if (a->trust != NULL)
		return rcpt_cli_online_load_jwks("--trust", a->trust, out, d);
	if ((r = rcpt_client_call(c, "keys", NULL, &text, &len, d)) == RCPT_OK)
		r = rcpt_jwks_parse(text, len, out, d);
	free(text);
	return r;
}

/*
 * Checks the proof @p text and says so on stderr.  Returns the exit
 * status: 1 when it does not verify; 0 when it does, or when no keys
 * could be had to check it with (a warning says so).
 */
static int
check_proof(const struct rcpt_cli_online *a, struct rcpt_client *c,
    const char *text, size_t len)
{
	struct rcpt_inclusion_proof inc = {0};
	struct rcpt_consistency_proof con = {0};
	struct rcpt_jwks *keys = NULL;
	struct rcpt_diag d = {0};
	const char *pin = a->trust != NULL ? ""
	                                   : "; keys from the daemon, "
	                                     "not pinned";
	int kind = RCPT_PROOF_NONE, r, st = RCPT_CLI_EXIT_OK;

	if ((r = proof_keys(a, c, &keys, &d)) != RCPT_OK) {
		if (a->trust != NULL)
			st = rcpt_cli_fail(a->cmd, r, &d);
		else
			rcpt_cli_warn(a->cmd, "not verified here: keys: %s",
			    rcpt_diag_msg(&d, r));
		goto out;
	}
	if ((r = rcpt_proof_verify_text(text, len, keys, &kind, &d)) !=
	    RCPT_OK) {
		rcpt_cli_warn(
		    a->cmd, "proof INVALID: %s", rcpt_diag_msg(&d, r));
		st = rcpt_cli_exit_code(r) == RCPT_CLI_EXIT_BROKEN
		         ? RCPT_CLI_EXIT_BROKEN
		         : RCPT_CLI_EXIT_USAGE;
		goto out;
	}
	/* Parsed again only for the sizes it names. */
	if (kind == RCPT_PROOF_INCLUSION &&
	    rcpt_proof_inclusion_parse(text, len, &inc, NULL) == RCPT_OK)
		rcpt_cli_warn(a->cmd,
		    "proof VALID: inclusion of seq %" PRIu64
		    " in tree of size %" PRIu64 "%s",
		    inc.seq, inc.tree_size, pin);
	else if (kind == RCPT_PROOF_CONSISTENCY &&
	         rcpt_proof_consistency_parse(text, len, &con, NULL) == RCPT_OK)
		rcpt_cli_warn(a->cmd,
		    "proof VALID: consistency from %" PRIu64 " to %" PRIu64
		    "%s",
		    con.old_size, con.new_size, pin);
	else
		rcpt_cli_warn(a->cmd, "proof VALID%s", pin);
out:
	rcpt_proof_inclusion_clear(&inc);
	rcpt_proof_consistency_clear(&con);
	rcpt_jwks_free(keys);
	return st;
}

/* The params of prove_inclusion or prove_consistency. */
static int
prove_params(
    const struct rcpt_cli_online *a, const char **method, json_object **out)
{
	json_object *p = NULL;
	int r;

	*out = NULL;
	if ((r = rcpt_cli_online_params(a->chain, &p)) != RCPT_OK)
		return r;
	if (a->seq.set) {
		*method = "prove_inclusion";
		r = rcpt_cli_online_add_u64(p, "seq", a->seq.v);
		if (r == RCPT_OK && a->tree_size.set)
			r = rcpt_cli_online_add_u64(
			    p, "tree_size", a->tree_size.v);
	} else {
		*method = "prove_consistency";
		r = rcpt_cli_online_add_u64(p, "old_size", a->old_size.v);
		if (r == RCPT_OK && a->new_size.set)
			r = rcpt_cli_online_add_u64(
			    p, "new_size", a->new_size.v);
	}
	if (r != RCPT_OK) {
		json_object_put(p);
		return r;
	}
	*out = p;
	return RCPT_OK;
}

int
cmd_online_prove(int argc, char *argv[])
{
	static const struct rcpt_cli_online_spec spec = {
	    .options = "socket chain seq tree-size old-size new-size trust",
	    .required = "chain",
	};
	struct rcpt_client *c = NULL;
	struct rcpt_diag d = {0};
	struct rcpt_cli_online a;
	const char *method = NULL;
	json_object *p = NULL;
	char *text = NULL;
	size_t len = 0;
	int st, r;

	if ((st = rcpt_cli_online_parse(argc, argv, &spec, &a)) >= 0)
		return st;
	if (a.seq.set == a.old_size.set)
		return rcpt_cli_usage_error(a.cmd,
		    "needs --seq N (inclusion) or --old-size M (consistency)");
	if ((a.seq.set && a.new_size.set) ||
	    (a.old_size.set && a.tree_size.set))
		return rcpt_cli_usage_error(a.cmd,
		    "--tree-size goes with --seq, --new-size with "
		    "--old-size");
	if ((st = rcpt_cli_online_connect(&a, &c)) >= 0)
		return st;
	if ((r = prove_params(&a, &method, &p)) == RCPT_OK &&
	    (r = rcpt_cli_online_call(c, method, p, &text, &len, &d)) ==
	        RCPT_OK)
		r = rcpt_cli_online_put(text, len, true, &d);
	if (r != RCPT_OK)
		st = rcpt_cli_online_fail(&a, c, r, &d);
	else
		st = check_proof(&a, c, text, len);
	free(text);
	json_object_put(p);
	rcpt_client_close(c);
	return st;
}

/* verify --chain */

struct feed {
	struct rcpt_verifier *v;
	bool broken; /* the verifier has its verdict: fetch no more */
};

/* Feeds a page to the verifier line by line. */
static int
feed_page(void *ctx, const char *lines, size_t len, uint64_t n)
{
	struct feed *f = ctx;
	const char *p = lines, *end = lines + len, *nl;
	int r;

	(void)n;
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		r = rcpt_verifier_feed(f->v, p, (size_t)(nl - p));
		if (r == RCPT_E_CORRUPT) {
			f->broken = true;
			return r;
		}
		if (r != RCPT_OK)
			return r;
	}
	return RCPT_OK;
}

/* Prints the SPEC 8 line for @p res; returns its exit status. */
static int
report(const char *cmd, const struct rcpt_verify_result *res)
{
	char line[1024];

	if (res->status == RCPT_VERIFY_ERROR) {
		rcpt_cli_warn(cmd, "%s", res->reason);
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

/* Prints "Chain integrity: BROKEN: [<what>: ]<why>"; exit status 1. */
static int
broken(const char *what, const char *why)
{
	printf("Chain integrity: BROKEN: %s%s%s\n", what != NULL ? what : "",
	    what != NULL ? ": " : "", why);
	return fflush(stdout) == 0 ? RCPT_CLI_EXIT_BROKEN : RCPT_CLI_EXIT_USAGE;
}

/*
 * How many receipts to check: the size of a fresh checkpoint, which
 * then is checked too (@p cp), or with --no-checkpoint the tip's size.
 * Returns -1 to go on, else the exit status.
 */
static int
verify_size(const struct rcpt_cli_online *a, struct rcpt_client *c,
    struct rcpt_checkpoint *cp, uint64_t *size_out)
{
	struct rcpt_diag d = {0};
	char *note = NULL;
	size_t len = 0;
	int r;

	if (a->no_checkpoint) {
		r = rcpt_client_tip(c, a->chain, size_out, NULL, &d);
		return r == RCPT_OK ? -1 : rcpt_cli_online_fail(a, c, r, &d);
	}
	if ((r = rcpt_client_checkpoint(c, a->chain, &note, &len, &d)) !=
	    RCPT_OK) {
		/* No verdict: the chain was not read. */
		(void)rcpt_cli_online_fail(a, c, r, &d);
		return RCPT_CLI_EXIT_USAGE;
	}
	r = rcpt_checkpoint_parse(note, len, cp, &d);
	free(note);
	if (r == RCPT_E_NOMEM)
		return rcpt_cli_fail(a->cmd, r, &d);
	if (r != RCPT_OK)
		return broken("the daemon's checkpoint", rcpt_diag_msg(&d, r));
	*size_out = cp->size;
	return -1;
}

int
cmd_online_verify(int argc, char *argv[])
{
	static const struct rcpt_cli_online_spec spec = {
	    .options = "socket chain trust threads no-checkpoint",
	    .required = "chain",
	};
	struct rcpt_verify_opts opts = {0};
	struct rcpt_verify_result res;
	struct rcpt_checkpoint cp = {0};
	struct rcpt_client *c = NULL;
	struct rcpt_jwks *trust = NULL;
	struct rcpt_diag d = {0};
	struct rcpt_cli_online a;
	struct feed f = {0};
	uint64_t size = 0, n = 0;
	int st, r;

	if ((st = rcpt_cli_online_parse(argc, argv, &spec, &a)) >= 0)
		return st;
	if (a.trust != NULL && (r = rcpt_cli_online_load_jwks("--trust",
	                            a.trust, &trust, &d)) != RCPT_OK) {
		/* A damaged --trust is malformed input (SPEC 8). */
		st = rcpt_cli_exit_code(r) == RCPT_CLI_EXIT_BROKEN
		         ? broken(NULL, rcpt_diag_msg(&d, r))
		         : rcpt_cli_fail(a.cmd, r, &d);
		goto out;
	}
	if ((st = rcpt_cli_online_connect(&a, &c)) >= 0 ||
	    (st = verify_size(&a, c, &cp, &size)) >= 0)
		goto out;
	opts.trust = trust;
	opts.threads = a.threads;
	opts.checkpoint = a.no_checkpoint ? NULL : &cp;
	if ((r = rcpt_verifier_new(&opts, &f.v)) != RCPT_OK) {
		st = rcpt_cli_fail(a.cmd, r, NULL);
		goto out;
	}
	r = rcpt_cli_online_pages(c, a.chain, 0, size, feed_page, &f, &n, &d);
	if (r != RCPT_OK && !f.broken) {
		/* The chain could not be read whole: no verdict (exit 2). */
		(void)rcpt_cli_online_fail(&a, c, r, &d);
		st = RCPT_CLI_EXIT_USAGE;
		goto out;
	}
	memset(&res, 0, sizeof(res));
	rcpt_verifier_finish(f.v, a.no_checkpoint ? NULL : &cp, &res);
	/* With a checkpoint the verifier itself finds a short chain. */
	if (res.status == RCPT_VERIFY_CLEAN && n < size) {
		res.status = RCPT_VERIFY_BROKEN;
		res.has_seq = false;
		(void)snprintf(res.reason, sizeof(res.reason),
		    "the daemon served %" PRIu64 " of %" PRIu64 " receipts", n,
		    size);
	}
	st = report(a.cmd, &res);
out:
	rcpt_verifier_free(f.v);
	rcpt_checkpoint_clear(&cp);
	rcpt_jwks_free(trust);
	rcpt_client_close(c);
	return st;
}
