/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What receiptctl's online subcommands share: one table of options
 * (each command names the ones it takes), connecting to the daemon,
 * reporting the daemon's refusals with their JSON-RPC code, walking a
 * chain a page at a time, and `append`.  Nothing here decides whether
 * receipts are valid; the daemon's answers are printed or handed to
 * the offline verifier as they are.
 */
#include "config.h"

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli-online.h"
#include "cli.h"
#include "jcs.h"
#include "json.h"
#include "jwk.h"
#include "mem.h"
#include "receipt.h"

#define OPT_BASE  256
#define SEQ_LIMIT 9007199254740992ULL /* 2^53 */
#define JWKS_MAX  ((size_t)16 * 1024 * 1024)

enum kind {
	K_STR,     /* a string field */
	K_NUM,     /* a struct rcpt_cli_num field */
	K_TAG,     /* repeatable --tag */
	K_WITNESS, /* repeatable --witness */
	K_THREADS, /* --threads N */
	K_FLAG,    /* --no-checkpoint */
	K_OFFLINE  /* an option of the offline form only */
};

struct optdef {
	const char *name;
	int has_arg;
	enum kind kind;
	size_t off; /* of the field in struct rcpt_cli_online */
};

#define OFF(field) offsetof(struct rcpt_cli_online, field)
#define REQ        required_argument

static const struct optdef defs[] = {
    {"socket", REQ, K_STR, OFF(socket)},
    {"chain", REQ, K_STR, OFF(chain)},
    {"type", REQ, K_STR, OFF(type)},
    {"data-file", REQ, K_STR, OFF(data_file)},
    {"reason", REQ, K_STR, OFF(reason)},
    {"operator", REQ, K_STR, OFF(operator_name)},
    {"token-serial", REQ, K_STR, OFF(token_serial)},
    {"kid", REQ, K_STR, OFF(kid)},
    {"effective", REQ, K_STR, OFF(effective)},
    {"before", REQ, K_STR, OFF(before)},
    {"out", REQ, K_STR, OFF(out)},
    {"since", REQ, K_STR, OFF(since)},
    {"until", REQ, K_STR, OFF(until)},
    {"trust", REQ, K_STR, OFF(trust)},
    {"seq", REQ, K_NUM, OFF(seq)},
    {"from", REQ, K_NUM, OFF(from)},
    {"to", REQ, K_NUM, OFF(to)},
    {"count", REQ, K_NUM, OFF(count)},
    {"lines", REQ, K_NUM, OFF(lines)},
    {"tree-size", REQ, K_NUM, OFF(tree_size)},
    {"old-size", REQ, K_NUM, OFF(old_size)},
    {"new-size", REQ, K_NUM, OFF(new_size)},
    {"tag", REQ, K_TAG, 0},
    {"witness", REQ, K_WITNESS, 0},
    {"threads", REQ, K_THREADS, 0},
    {"no-checkpoint", no_argument, K_FLAG, 0},
    /* The offline form's options, named in the refusal. */
    {"store", REQ, K_OFFLINE, 0},
    {"provider", REQ, K_OFFLINE, 0},
    {"provider-config", REQ, K_OFFLINE, 0},
    {"providers-dir", REQ, K_OFFLINE, 0},
    {"production", no_argument, K_OFFLINE, 0},
    {"admin", REQ, K_OFFLINE, 0},
    {"submitter", REQ, K_OFFLINE, 0},
    {"events", REQ, K_OFFLINE, 0},
};

#define NDEFS (sizeof(defs) / sizeof(defs[0]))

/* 1 when @p name is a word of the space-separated @p list. */
static int
in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == list || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/* A seq or size: decimal digits only, below 2^53. */
static int
parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return RCPT_E_INVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return RCPT_E_INVAL;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v >= SEQ_LIMIT)
			return RCPT_E_INVAL;
	}
	*out = v;
	return RCPT_OK;
}

/* Stores the value of option @p d; -1 to go on, else the exit status. */
static int
take(struct rcpt_cli_online *a, const struct optdef *d, const char *arg)
{
	char *base = (char *)a;
	struct rcpt_cli_num *num;
	long n;

	switch (d->kind) {
	case K_STR:
		*(const char **)(void *)(base + d->off) = arg;
		return -1;
	case K_NUM:
		num = (struct rcpt_cli_num *)(void *)(base + d->off);
		if (parse_u64(arg, &num->v) != RCPT_OK)
			return rcpt_cli_usage_error(a->cmd,
			    "--%s: must be an integer from 0 to 2^53 - 1",
			    d->name);
		num->set = true;
		return -1;
	case K_TAG:
		if (a->n_tags == RCPT_CLI_ONLINE_TAGS_MAX)
			return rcpt_cli_usage_error(a->cmd,
			    "--tag: given at most %d times",
			    RCPT_CLI_ONLINE_TAGS_MAX);
		a->tags[a->n_tags++] = arg;
		return -1;
	case K_WITNESS:
		if (a->n_witnesses == RCPT_CLI_ONLINE_WITNESSES_MAX)
			return rcpt_cli_usage_error(a->cmd,
			    "--witness: given at most %d times",
			    RCPT_CLI_ONLINE_WITNESSES_MAX);
		a->witnesses[a->n_witnesses++] = arg;
		return -1;
	case K_THREADS:
		if (rcpt_cli_parse_long(arg, 1, RCPT_CLI_MAX_THREADS, &n) !=
		    RCPT_OK)
			return rcpt_cli_usage_error(a->cmd,
			    "--threads: must be an integer from 1 to %d",
			    RCPT_CLI_MAX_THREADS);
		a->threads = (int)n;
		return -1;
	case K_FLAG:
		a->no_checkpoint = true;
		return -1;
	case K_OFFLINE:
		break;
	}
	if (a->spec->offline_form)
		return rcpt_cli_usage_error(a->cmd,
		    "--%s: only with --store DIR (offline, daemon stopped)",
		    d->name);
	return rcpt_cli_usage_error(a->cmd, "--%s: unknown option", d->name);
}

/* Whether a string or number option @p d was given. */
static bool
is_given(const struct rcpt_cli_online *a, const struct optdef *d)
{
	const char *base = (const char *)a;

	if (d->kind == K_STR)
		return *(const char *const *)(const void *)(base + d->off) !=
		       NULL;
	if (d->kind == K_NUM)
		return (
		    (const struct rcpt_cli_num *)(const void *)(base + d->off))
		    ->set;
	return true;
}

int
rcpt_cli_online_parse(int argc, char *argv[],
    const struct rcpt_cli_online_spec *spec, struct rcpt_cli_online *a)
{
	struct option longopts[NDEFS + 2];
	const struct optdef *d;
	size_t i;
	int c, st;

	memset(a, 0, sizeof(*a));
	a->spec = spec;
	a->cmd = argv[0];
	a->threads = rcpt_cli_default_threads();
	for (i = 0; i < NDEFS; i++)
		longopts[i] = (struct option){
		    defs[i].name, defs[i].has_arg, NULL, OPT_BASE + (int)i};
	longopts[NDEFS] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[NDEFS + 1] = (struct option){NULL, 0, NULL, 0};
	while ((c = getopt_long(argc, argv, ":hn:", longopts, NULL)) != -1) {
		if (c == 'n') {
			/* tail -n K is --lines K. */
			if (!in_list(spec->options, "lines"))
				return rcpt_cli_usage_error(
				    a->cmd, "-n: unknown option");
			c = OPT_BASE;
			for (i = 0; i < NDEFS; i++)
				if (strcmp(defs[i].name, "lines") == 0)
					c = OPT_BASE + (int)i;
		}
		if (c < OPT_BASE)
			return rcpt_cli_option_error(a->cmd, c, argv);
		d = &defs[c - OPT_BASE];
		if (d->kind != K_OFFLINE && !in_list(spec->options, d->name))
			return rcpt_cli_usage_error(
			    a->cmd, "--%s: unknown option", d->name);
		if ((st = take(a, d, optarg)) >= 0)
			return st;
	}
	if (argc - optind > spec->operands)
		return rcpt_cli_usage_error(
		    a->cmd, spec->operands == 0 ? "takes no operands"
		                                : "takes one operand at most");
	if (optind < argc)
		a->operand = argv[optind];
	for (i = 0; i < NDEFS; i++)
		if (in_list(spec->required, defs[i].name) &&
		    !is_given(a, &defs[i]))
			return rcpt_cli_usage_error(
			    a->cmd, "--%s is required", defs[i].name);
	if (a->chain != NULL && !rcpt_receipt_chain_is_valid(a->chain)) {
		rcpt_cli_warn(
		    a->cmd, "--chain: must match ^[a-z0-9][a-z0-9._-]{0,63}$");
		return RCPT_CLI_EXIT_BROKEN;
	}
	return -1;
}

int
rcpt_cli_online_connect(
    const struct rcpt_cli_online *a, struct rcpt_client **out)
{
	struct rcpt_diag d = {0};
	int r;

	if ((r = rcpt_client_connect(a->socket, out, &d)) == RCPT_OK)
		return -1;
	rcpt_cli_warn(a->cmd, "%s", rcpt_diag_msg(&d, r));
	/* The daemon may be stopped on purpose: say how to work without. */
	if (a->spec->offline_form && a->socket == NULL)
		rcpt_cli_warn(a->cmd, "--store DIR is required to work "
		                      "offline, with the daemon stopped");
	return RCPT_CLI_EXIT_USAGE;
}

int
rcpt_cli_online_fail(const struct rcpt_cli_online *a,
    const struct rcpt_client *c, int r, const struct rcpt_diag *d)
{
	int code = rcpt_client_last_rpc_code(c);

	if (r != RCPT_OK && code != 0) {
		rcpt_cli_warn(
		    a->cmd, "%s (code %d)", rcpt_diag_msg(d, r), code);
		return RCPT_CLI_EXIT_BROKEN;
	}
	return rcpt_cli_fail(a->cmd, r, d);
}

int
rcpt_cli_online_call(struct rcpt_client *c, const char *method,
    json_object *params, char **out, size_t *len_out, struct rcpt_diag *d)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	*len_out = 0;
	if (params != NULL &&
	    (r = rcpt_jcs_serialize(params, &text, &len, d)) != RCPT_OK)
		return r;
	r = rcpt_client_call(c, method, text, out, len_out, d);
	rcpt_freezero(text, len);
	return r;
}

int
rcpt_cli_online_params(const char *chain, json_object **out)
{
	json_object *p;
	int r;

	*out = NULL;
	if ((p = json_object_new_object()) == NULL)
		return RCPT_E_NOMEM;
	if ((r = rcpt_cli_online_add_str(p, "chain", chain)) != RCPT_OK) {
		json_object_put(p);
		return r;
	}
	*out = p;
	return RCPT_OK;
}

int
rcpt_cli_online_add_u64(json_object *o, const char *name, uint64_t v)
{
	return rcpt_json_add(o, name, json_object_new_int64((int64_t)v));
}

int
rcpt_cli_online_add_str(json_object *o, const char *name, const char *s)
{
	return rcpt_json_add(o, name, json_object_new_string(s));
}

int
rcpt_cli_online_pages(struct rcpt_client *c, const char *chain, uint64_t from,
    uint64_t count, rcpt_cli_page_fn fn, void *ctx, uint64_t *n_out,
    struct rcpt_diag *d)
{
	char *lines = NULL;
	size_t len = 0;
	uint64_t want, n = 0;
	int r = RCPT_OK;

	*n_out = 0;
	while (r == RCPT_OK && count > 0) {
		want = count < RCPT_CLIENT_RANGE_MAX ? count
		                                     : RCPT_CLIENT_RANGE_MAX;
		if ((r = rcpt_client_range(
		         c, chain, from, want, &lines, &len, &n, d)) != RCPT_OK)
			break;
		if (n > 0)
			r = fn(ctx, lines, len, n);
		rcpt_freezero(lines, len);
		lines = NULL;
		*n_out += n;
		/* Fewer than asked: the tip is reached. */
		if (n < want)
			break;
		from += n;
		count -= n;
	}
	return r;
}

int
rcpt_cli_online_put(
    const char *p, size_t len, bool newline, struct rcpt_diag *d)
{
	if (rcpt_cli_write_stdout(p, len) != RCPT_OK ||
	    (newline && rcpt_cli_write_stdout("\n", 1) != RCPT_OK))
		return rcpt_diag(d, RCPT_E_IO, "stdout: write failed");
	return RCPT_OK;
}

int
rcpt_cli_online_load_jwks(const char *opt, const char *path,
    struct rcpt_jwks **out, struct rcpt_diag *d)
{
	struct rcpt_diag sub = {0};
	char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((r = rcpt_cli_read_file(path, JWKS_MAX, &text, &len, &sub)) ==
	    RCPT_OK)
		r = rcpt_jwks_parse(text, len, out, &sub);
	free(text);
	if (r != RCPT_OK)
		(void)rcpt_diag(
		    d, r, "%s %s: %s", opt, path, rcpt_diag_msg(&sub, r));
	return r;
}

/* append */

/* The event's data: DATA, --data-file FILE, or stdin ("-" or neither). */
static int
read_data(const struct rcpt_cli_online *a, char **out, struct rcpt_diag *d)
{
	const char *file = a->data_file, *text = a->operand;
	size_t len = 0;

	*out = NULL;
	if (file == NULL && (text == NULL || strcmp(text, "-") == 0))
		file = "-";
	/* The daemon refuses longer requests anyway (SPEC 9). */
	if (file != NULL)
		return rcpt_cli_read_file(
		    file, RCPT_CLIENT_LINE_MAX, out, &len, d);
	if ((*out = rcpt_strdup(text)) == NULL)
		return RCPT_E_NOMEM;
	return RCPT_OK;
}

int
cmd_online_append(int argc, char *argv[])
{
	static const struct rcpt_cli_online_spec spec = {
	    .options = "socket chain type tag data-file",
	    .required = "chain type",
	    .operands = 1,
	    .offline_form = true,
	};
	struct rcpt_client_event ev = {0};
	struct rcpt_client *c = NULL;
	struct rcpt_diag d = {0};
	struct rcpt_cli_online a;
	char *data = NULL, *line = NULL;
	size_t len = 0;
	int st, r;

	if ((st = rcpt_cli_online_parse(argc, argv, &spec, &a)) >= 0)
		return st;
	if (a.operand != NULL && a.data_file != NULL)
		return rcpt_cli_usage_error(
		    a.cmd, "DATA and --data-file exclude each other");
	/* Refused before the daemon is asked (SPEC 4). */
	if (strncasecmp(a.type, "receiptd.", 9) == 0) {
		rcpt_cli_warn(a.cmd, "--type: names starting with "
		                     "\"receiptd.\" are reserved (SPEC 4)");
		return RCPT_CLI_EXIT_BROKEN;
	}
	if ((r = read_data(&a, &data, &d)) != RCPT_OK)
		return rcpt_cli_fail(a.cmd, r, &d);
	ev.chain = a.chain;
	ev.type = a.type;
	ev.data = data;
	ev.tags = a.n_tags > 0 ? a.tags : NULL;
	ev.n_tags = a.n_tags;
	if ((st = rcpt_cli_online_connect(&a, &c)) >= 0)
		goto out;
	if ((r = rcpt_client_append(c, &ev, &line, &len, &d)) == RCPT_OK)
		r = rcpt_cli_online_put(line, len, true, &d);
	st = r == RCPT_OK ? RCPT_CLI_EXIT_OK
	                  : rcpt_cli_online_fail(&a, c, r, &d);
out:
	rcpt_client_close(c);
	free(line);
	if (data != NULL)
		rcpt_freezero(data, strlen(data));
	return st;
}
