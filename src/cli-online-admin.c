/* SPDX-License-Identifier: Apache-2.0 */
/*
 * receiptctl's online administration: rotate, revoke and prune, which
 * the daemon allows administrators only and records as receipts (or,
 * for prune, reports as a count), and export, which writes an evidence
 * bundle from the daemon's signed manifest and receipts fetched with
 * `range` (client-export.c checks that they agree).
 *
 * export takes a seq range, or a time range that is turned into seqs
 * here by binary search with `get`, since receipts are in ts order
 * (SPEC 1): from the first receipt with ts at or after --since to the
 * last with ts before --until.  The daemon's administrators are named
 * by the daemon from the socket's peer credentials, never by this tool.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-online.h"
#include "cli.h"
#include "json.h"
#include "mem.h"
#include "ts.h"

/* Refuses a TS option that is not one (SPEC common rules); exit 1. */
static int
check_ts(const struct rcpt_cli_online *a, const char *opt, const char *ts)
{
	if (ts == NULL || rcpt_ts_is_valid(ts, strlen(ts)))
		return -1;
	rcpt_cli_warn(
	    a->cmd, "--%s: must be a TS (YYYY-MM-DDThh:mm:ss.sssZ, UTC)", opt);
	return RCPT_CLI_EXIT_BROKEN;
}

/* Calls @p method with @p p and prints the result; exit status. */
static int
call_print(const struct rcpt_cli_online *a, const char *method, json_object *p)
{
	struct rcpt_client *c = NULL;
	struct rcpt_diag d = {0};
	char *text = NULL;
	size_t len = 0;
	int st, r;

	if ((st = rcpt_cli_online_connect(a, &c)) >= 0)
		return st;
	if ((r = rcpt_cli_online_call(c, method, p, &text, &len, &d)) ==
	    RCPT_OK)
		r = rcpt_cli_online_put(text, len, true, &d);
	st =
	    r == RCPT_OK ? RCPT_CLI_EXIT_OK : rcpt_cli_online_fail(a, c, r, &d);
	free(text);
	rcpt_client_close(c);
	return st;
}

/* The "ceremony" record of a rotation, or NULL when nothing was said. */
static int
ceremony(const struct rcpt_cli_online *a, json_object **out)
{
	json_object *o = NULL, *w = NULL, *s;
	size_t i;
	int r = RCPT_E_NOMEM;

	*out = NULL;
	if (a->operator_name == NULL && a->n_witnesses == 0 &&
	    a->token_serial == NULL)
		return RCPT_OK;
	if ((o = json_object_new_object()) == NULL)
		return RCPT_E_NOMEM;
	if (a->operator_name != NULL &&
	    (r = rcpt_cli_online_add_str(o, "operator", a->operator_name)) !=
	        RCPT_OK)
		goto out;
	if (a->n_witnesses > 0) {
		r = RCPT_E_NOMEM;
		if ((w = json_object_new_array()) == NULL)
			goto out;
		for (i = 0; i < a->n_witnesses; i++) {
			s = json_object_new_string(a->witnesses[i]);
			/* json_object_array_add takes s when it succeeds. */
			if (s == NULL || json_object_array_add(w, s) != 0) {
				json_object_put(s);
				goto out;
			}
		}
		r = rcpt_json_add(o, "witnesses", w); /* takes w */
		w = NULL;
		if (r != RCPT_OK)
			goto out;
	}
	if (a->token_serial != NULL &&
	    (r = rcpt_cli_online_add_str(o, "token_serial", a->token_serial)) !=
	        RCPT_OK)
		goto out;
	*out = o;
	o = NULL;
	r = RCPT_OK;
out:
	json_object_put(w);
	json_object_put(o);
	return r;
}

int
cmd_online_rotate(int argc, char *argv[])
{
	static const struct rcpt_cli_online_spec spec = {
	    .options = "socket chain reason operator witness token-serial",
	    .required = "chain reason",
	    .offline_form = true,
	};
	struct rcpt_cli_online a;
	json_object *p = NULL, *rec = NULL;
	int st, r;

	if ((st = rcpt_cli_online_parse(argc, argv, &spec, &a)) >= 0)
		return st;
	if ((r = rcpt_cli_online_params(a.chain, &p)) != RCPT_OK ||
	    (r = rcpt_cli_online_add_str(p, "reason", a.reason)) != RCPT_OK ||
	    (r = ceremony(&a, &rec)) != RCPT_OK)
		goto out;
	if (rec != NULL) {
		r = rcpt_json_add(p, "ceremony", rec); /* takes rec */
		rec = NULL;
		if (r != RCPT_OK)
			goto out;
	}
	st = call_print(&a, "rotate", p);
out:
	json_object_put(rec);
	json_object_put(p);
	return r == RCPT_OK ? st : rcpt_cli_fail(a.cmd, r, NULL);
}

int
cmd_online_revoke(int argc, char *argv[])
{
	static const struct rcpt_cli_online_spec spec = {
	    .options = "socket chain kid reason effective",
	    .required = "chain kid reason effective",
	    .offline_form = true,
	};
	struct rcpt_cli_online a;
	json_object *p = NULL;
	int st, r;

	if ((st = rcpt_cli_online_parse(argc, argv, &spec, &a)) >= 0 ||
	    (st = check_ts(&a, "effective", a.effective)) >= 0)
		return st;
	if ((r = rcpt_cli_online_params(a.chain, &p)) == RCPT_OK &&
	    (r = rcpt_cli_online_add_str(p, "kid", a.kid)) == RCPT_OK &&
	    (r = rcpt_cli_online_add_str(p, "reason", a.reason)) == RCPT_OK &&
	    (r = rcpt_cli_online_add_str(p, "effective", a.effective)) ==
	        RCPT_OK)
		st = call_print(&a, "revoke", p);
	json_object_put(p);
	return r == RCPT_OK ? st : rcpt_cli_fail(a.cmd, r, NULL);
}

int
cmd_online_prune(int argc, char *argv[])
{
	static const struct rcpt_cli_online_spec spec = {
	    .options = "socket chain before",
	    .required = "chain before",
	};
	struct rcpt_cli_online a;
	json_object *p = NULL;
	int st, r;

	if ((st = rcpt_cli_online_parse(argc, argv, &spec, &a)) >= 0 ||
	    (st = check_ts(&a, "before", a.before)) >= 0)
		return st;
	if ((r = rcpt_cli_online_params(a.chain, &p)) == RCPT_OK &&
	    (r = rcpt_cli_online_add_str(p, "before", a.before)) == RCPT_OK)
		st = call_print(&a, "prune", p);
	json_object_put(p);
	return r == RCPT_OK ? st : rcpt_cli_fail(a.cmd, r, NULL);
}

/* export */

/* The ts of receipt @p seq, compared with @p ts: < 0, 0 or > 0. */
static int
compare_ts(struct rcpt_client *c, const char *chain, uint64_t seq,
    const char *ts, int *cmp_out, struct rcpt_diag *d)
{
	json_object *doc = NULL, *v;
	char *line = NULL;
	size_t len = 0;
	int r;

	if ((r = rcpt_client_get(c, chain, seq, &line, &len, d)) != RCPT_OK)
		return r;
	if ((r = rcpt_json_parse_ex(line, len, RCPT_JSON_DEPTH_MAX, "receipt",
	         RCPT_JSON_BIG_INTS, &doc, d)) == RCPT_OK) {
		if (json_object_object_get_ex(doc, "ts", &v) &&
		    json_object_is_type(v, json_type_string))
			*cmp_out = strcmp(json_object_get_string(v), ts);
		else
			r = rcpt_diag(d, RCPT_E_PARSE,
			    "get: seq %" PRIu64 ": receipt has no ts", seq);
	}
	json_object_put(doc);
	rcpt_freezero(line, len);
	return r;
}

/*
 * The first seq below @p size whose ts is at or after @p ts, or
 * @p size: a lower bound, in about log2(size) `get` calls.
 */
static int
seq_at(struct rcpt_client *c, const char *chain, uint64_t size, const char *ts,
    uint64_t *out, struct rcpt_diag *d)
{
	uint64_t lo = 0, hi = size, mid;
	int cmp = 0, r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((r = compare_ts(c, chain, mid, ts, &cmp, d)) != RCPT_OK)
			return r;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*out = lo;
	return RCPT_OK;
}

/* Turns the options into a seq range [*from, *to], asking the daemon. */
static int
export_range(const struct rcpt_cli_online *a, struct rcpt_client *c,
    uint64_t *from, uint64_t *to, struct rcpt_diag *d)
{
	uint64_t size = 0, end;
	int r;

	if ((r = rcpt_client_tip(c, a->chain, &size, NULL, d)) != RCPT_OK)
		return r;
	if (size == 0)
		return rcpt_diag(d, RCPT_E_NOT_FOUND, "chain has no receipts");
	*from = a->from.set ? a->from.v : 0;
	end = a->to.set ? a->to.v + 1 : size;
	if (a->since != NULL &&
	    (r = seq_at(c, a->chain, size, a->since, from, d)) != RCPT_OK)
		return r;
	if (a->until != NULL &&
	    (r = seq_at(c, a->chain, size, a->until, &end, d)) != RCPT_OK)
		return r;
	if (end == 0 || *from > end - 1)
		return rcpt_diag(d, RCPT_E_INVAL,
		    a->since != NULL || a->until != NULL
		        ? "no receipts with ts in [--since, --until)"
		        : "--to: must be at least --from");
	*to = end - 1;
	return RCPT_OK;
}

int
cmd_online_export(int argc, char *argv[])
{
	static const struct rcpt_cli_online_spec spec = {
	    .options = "socket chain from to since until out",
	    .required = "chain out",
	};
	struct rcpt_client *c = NULL;
	struct rcpt_diag d = {0};
	struct rcpt_cli_online a;
	uint64_t from = 0, to = 0;
	int st, r;

	if ((st = rcpt_cli_online_parse(argc, argv, &spec, &a)) >= 0 ||
	    (st = check_ts(&a, "since", a.since)) >= 0 ||
	    (st = check_ts(&a, "until", a.until)) >= 0)
		return st;
	if ((a.from.set || a.to.set) && (a.since != NULL || a.until != NULL))
		return rcpt_cli_usage_error(a.cmd,
		    "--from/--to (seqs) and --since/--until (times) exclude "
		    "each other");
	if ((st = rcpt_cli_online_connect(&a, &c)) >= 0)
		return st;
	if ((r = export_range(&a, c, &from, &to, &d)) == RCPT_OK &&
	    (r = rcpt_client_export(c, a.chain, from, to, a.out, &d)) ==
	        RCPT_OK &&
	    printf("exported receipts %" PRIu64 " to %" PRIu64
	           " of chain %s to %s\n",
	        from, to, a.chain, a.out) < 0)
		r = rcpt_diag(&d, RCPT_E_IO, "stdout: write failed");
	if (r == RCPT_OK && fflush(stdout) != 0)
		r = rcpt_diag(&d, RCPT_E_IO, "stdout: write failed");
	st = r == RCPT_OK ? RCPT_CLI_EXIT_OK
	                  : rcpt_cli_online_fail(&a, c, r, &d);
	rcpt_client_close(c);
	return st;
}
