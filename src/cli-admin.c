/* SPDX-License-Identifier: Apache-2.0 */
/*
 * receiptctl's offline administration commands: creating a chain,
 * appending to it (one event, or each line of an events file), the key
 * ceremonies (rotation with its witnessed record, revocation),
 * checkpoints and the anti-rollback anchor, and the exports an auditor
 * needs (the JWK Set and receipts.jsonl).  They
 * work directly on a chain store through the same library calls the
 * daemon will use (ceremony.h, anchor.h), so what they write is what
 * the appliance would write.
 *
 * They are for a store no daemon has open: the store refuses nothing
 * then, and only LMDB's writer lock keeps two writers apart.  Every
 * command that writes first proves with the anchor that the store was
 * not rolled back, and rotate and revoke end with a checkpoint, so the
 * anchor covers the ceremony.  These commands do not authenticate
 * anyone: the submitter and administrator names are what the operator
 * says (the daemon will take them from peer credentials).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "anchor.h"
#include "ceremony.h"
#include "chain.h"
#include "checkpoint.h"
#include "cli.h"
#include "json.h"
#include "keystore/keystore.h"
#include "receipt.h"
#include "store.h"
#include "ts.h"

#ifndef PROVIDERS_DIR
#define PROVIDERS_DIR "/usr/local/lib/receiptd/providers"
#endif

#define PROVIDER_DEFAULT "pkcs11"
#define DATA_READ_MAX    ((size_t)64 * 1024 * 1024) /* bytes of DATA text */
#define NAME_MAX_BYTES   256 /* login name or uid fallback */

/* A store may grow while offline commands write, up to this. */
#if SIZE_MAX > 0xffffffffu
#define STORE_MAP_MAX ((size_t)16 << 30)
#else
#define STORE_MAP_MAX ((size_t)1 << 30)
#endif

enum opt {
	OPT_STORE,
	OPT_PROVIDER,
	OPT_CONFIG,
	OPT_PDIR,
	OPT_PRODUCTION,
	OPT_CHAIN,
	OPT_ORIGIN,
	OPT_SEALING,
	OPT_TYPE,
	OPT_TAG,
	OPT_SUBMITTER,
	OPT_DATA_FILE,
	OPT_REASON,
	OPT_OPERATOR,
	OPT_WITNESS,
	OPT_SERIAL,
	OPT_ADMIN,
	OPT_KID,
	OPT_EFFECTIVE,
	OPT_OUT,
	OPT_EVENTS,
	OPT_COUNT_
};

#define OPT(o)   (1u << (o))
#define OPT_BASE 256 /* getopt_long values: OPT_BASE + enum opt */
#define OPTS_TOOL                                               \
	(OPT(OPT_STORE) | OPT(OPT_PROVIDER) | OPT(OPT_CONFIG) | \
	    OPT(OPT_PDIR) | OPT(OPT_PRODUCTION))

/* Indexed by enum opt. */
static const struct option longopts[] = {
    {"store", required_argument, NULL, OPT_BASE + OPT_STORE},
    {"provider", required_argument, NULL, OPT_BASE + OPT_PROVIDER},
    {"provider-config", required_argument, NULL, OPT_BASE + OPT_CONFIG},
    {"providers-dir", required_argument, NULL, OPT_BASE + OPT_PDIR},
    {"production", no_argument, NULL, OPT_BASE + OPT_PRODUCTION},
    {"chain", required_argument, NULL, OPT_BASE + OPT_CHAIN},
    {"origin", required_argument, NULL, OPT_BASE + OPT_ORIGIN},
    {"sealing", required_argument, NULL, OPT_BASE + OPT_SEALING},
    {"type", required_argument, NULL, OPT_BASE + OPT_TYPE},
    {"tag", required_argument, NULL, OPT_BASE + OPT_TAG},
    {"submitter", required_argument, NULL, OPT_BASE + OPT_SUBMITTER},
    {"data-file", required_argument, NULL, OPT_BASE + OPT_DATA_FILE},
    {"reason", required_argument, NULL, OPT_BASE + OPT_REASON},
    {"operator", required_argument, NULL, OPT_BASE + OPT_OPERATOR},
    {"witness", required_argument, NULL, OPT_BASE + OPT_WITNESS},
    {"token-serial", required_argument, NULL, OPT_BASE + OPT_SERIAL},
    {"admin", required_argument, NULL, OPT_BASE + OPT_ADMIN},
    {"kid", required_argument, NULL, OPT_BASE + OPT_KID},
    {"effective", required_argument, NULL, OPT_BASE + OPT_EFFECTIVE},
    {"out", required_argument, NULL, OPT_BASE + OPT_OUT},
    {"events", required_argument, NULL, OPT_BASE + OPT_EVENTS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* What a command needs opened. */
#define NEED_KS   1 /* the key provider */
#define READ_ONLY 2 /* the store, for reading */
#define CREATE    4 /* the store may be new */

/* One command's options. */
struct spec {
	unsigned allowed;  /* OPT() bits besides OPTS_TOOL */
	unsigned required; /* of those, the ones that must be given */
	int operands;      /* most operands taken */
	int flags;         /* NEED_KS, READ_ONLY, CREATE */
};

/* A command line, parsed; every pointer borrows from argv. */
struct args {
	const char *cmd;
	const char *v[OPT_COUNT_]; /* last value given for each option */
	int production;
	const char *tags[RCPT_TAGS_MAX];
	size_t n_tags;
	const char *witnesses[RCPT_CEREMONY_WITNESSES_MAX];
	size_t n_witnesses;
	const char *operand; /* DATA or "-", or NULL */
};

/* What is open for one command. */
struct session {
	struct rcpt_store *s;
	struct rcpt_ks_provider *ks;
	struct rcpt_ceremony *c;
};

static const struct rcpt_ceremony_opts ceremony_opts = {
    .data_max = RCPT_DATA_MAX_DEFAULT,
};

/* Adds a repeatable option's value to @p list (of @p max). */
static int
add_repeat(const char *cmd, const char *opt, const char **list, size_t *n,
    size_t max, const char *value)
{
	if (*n == max) {
		rcpt_cli_warn(cmd, "--%s: given at most %zu times", opt, max);
		return RCPT_CLI_EXIT_BROKEN;
	}
	list[(*n)++] = value;
	return -1;
}

/* Checks what every command shares; -1 to go on, else the exit status. */
static int
check_args(const struct spec *sp, struct args *a)
{
	const char *chain = a->v[OPT_CHAIN], *pdir = a->v[OPT_PDIR];
	unsigned o;

	if (a->v[OPT_STORE] == NULL)
		return rcpt_cli_usage_error(a->cmd, "--store DIR is required");
	for (o = 0; o < OPT_COUNT_; o++)
		if ((sp->required & OPT(o)) && a->v[o] == NULL)
			return rcpt_cli_usage_error(
			    a->cmd, "--%s is required", longopts[o].name);
	if ((sp->flags & NEED_KS) && a->v[OPT_CONFIG] == NULL)
		return rcpt_cli_usage_error(a->cmd,
		    "--provider-config is required (the pkcs11 config "
		    "string, or the software key directory)");
	if (pdir != NULL && pdir[0] != '/')
		return rcpt_cli_usage_error(
		    a->cmd, "--providers-dir: must be an absolute path");
	if (chain != NULL && !rcpt_receipt_chain_is_valid(chain)) {
		rcpt_cli_warn(
		    a->cmd, "--chain: must match ^[a-z0-9][a-z0-9._-]{0,63}$");
		return RCPT_CLI_EXIT_BROKEN;
	}
	return -1;
}

/*
 * Parses @p argv for the command @p sp describes.  Returns -1 to go on,
 * or the exit status when the command is done (--help, a usage error).
 */
static int
parse_args(int argc, char *argv[], const struct spec *sp, struct args *a)
{
	unsigned allowed = sp->allowed | OPTS_TOOL;
	int c, idx = 0, st;

	memset(a, 0, sizeof(*a));
	a->cmd = argv[0];
	while ((c = getopt_long(argc, argv, ":h", longopts, &idx)) != -1) {
		int o = c - OPT_BASE;

		if (c < OPT_BASE)
			return rcpt_cli_option_error(a->cmd, c, argv);
		if (!(allowed & OPT(o)))
			return rcpt_cli_usage_error(
			    a->cmd, "--%s: unknown option", longopts[o].name);
		st = -1;
		if (o == OPT_PRODUCTION)
			a->production = 1;
		else if (o == OPT_TAG)
			st = add_repeat(a->cmd, "tag", a->tags, &a->n_tags,
			    RCPT_TAGS_MAX, optarg);
		else if (o == OPT_WITNESS)
			st = add_repeat(a->cmd, "witness", a->witnesses,
			    &a->n_witnesses, RCPT_CEREMONY_WITNESSES_MAX,
			    optarg);
		else
			a->v[o] = optarg;
		if (st >= 0)
			return st;
	}
	if (argc - optind > sp->operands)
		return rcpt_cli_usage_error(
		    a->cmd, sp->operands == 0 ? "takes no operands"
		                              : "takes one DATA operand "
		                                "at most");
	if (optind < argc)
		a->operand = argv[optind];
	return check_args(sp, a);
}

/* Sends the keystore's messages to stderr as "receiptctl CMD:" lines. */
static void
log_line(void *ctx, int level, const char *msg)
{
	(void)level;
	rcpt_cli_warn(ctx, "%s", msg);
}

/* Refuses to make a store where a command expects one. */
static int
store_exists(const char *dir, struct rcpt_diag *d)
{
	char path[PATH_MAX];
	struct stat st;
	int n = snprintf(path, sizeof(path), "%s/data.mdb", dir);

	if (n < 0 || (size_t)n >= sizeof(path))
		return rcpt_diag(d, RCPT_E_INVAL, "--store: path too long");
	if (stat(path, &st) != 0)
		return rcpt_diag(d,
		    errno == ENOENT ? RCPT_E_NOT_FOUND : RCPT_E_IO,
		    "--store: no store in %s: %s", dir, strerror(errno));
	return RCPT_OK;
}

/*
 * Opens the provider (first, so that a refused provider leaves no new
 * store behind) and then the store, as @p flags ask.
 */
static int
session_open(
    const struct args *a, int flags, struct session *ss, struct rcpt_diag *d)
{
	struct rcpt_ks_opts ko = {.log = log_line, .log_ctx = (void *)a->cmd};
	struct rcpt_store_opts so = {0};
	const char *prov = a->v[OPT_PROVIDER];
	const char *pdir = a->v[OPT_PDIR];
	int r;

	memset(ss, 0, sizeof(*ss));
	if (flags & NEED_KS) {
		if ((r = rcpt_ks_load(prov != NULL ? prov : PROVIDER_DEFAULT,
		         pdir != NULL ? pdir : PROVIDERS_DIR, 0, &ss->ks, d)) !=
		    RCPT_OK)
			return r;
		if ((r = rcpt_ks_open(ss->ks, a->v[OPT_CONFIG], a->production,
		         &ko, d)) != RCPT_OK)
			return r;
	}
	if (!(flags & CREATE) &&
	    (r = store_exists(a->v[OPT_STORE], d)) != RCPT_OK)
		return r;
	so.path = a->v[OPT_STORE];
	so.map_max = STORE_MAP_MAX;
	so.read_only = (flags & READ_ONLY) != 0;
	return rcpt_store_open(&so, &ss->s, d);
}

static void
session_close(struct session *ss)
{
	rcpt_ceremony_close(ss->c);
	rcpt_store_close(ss->s);
	rcpt_ks_unload(ss->ks);
	memset(ss, 0, sizeof(*ss));
}

static int
now_ts(char ts[RCPT_TS_LEN + 1], struct rcpt_diag *d)
{
	if (rcpt_ts_format(rcpt_ts_now_ms(), ts) != RCPT_OK)
		return rcpt_diag(d, RCPT_E_INTERNAL,
		    "system clock: outside years 0000 to 9999");
	return RCPT_OK;
}

/* The name given, else the login name of the effective user. */
static const char *
who(const char *given, char buf[NAME_MAX_BYTES])
{
	struct passwd *pw;

	if (given != NULL)
		return given;
	pw = getpwuid(geteuid());
	if (pw != NULL && pw->pw_name != NULL && pw->pw_name[0] != '\0')
		(void)snprintf(buf, NAME_MAX_BYTES, "%s", pw->pw_name);
	else
		(void)snprintf(
		    buf, NAME_MAX_BYTES, "uid:%lu", (unsigned long)geteuid());
	return buf;
}

/* Writes @p len bytes and a newline to stdout. */
static int
put_line(const char *p, size_t len, struct rcpt_diag *d)
{
	if (rcpt_cli_write_stdout(p, len) != RCPT_OK ||
	    rcpt_cli_write_stdout("\n", 1) != RCPT_OK)
		return rcpt_diag(d, RCPT_E_IO, "stdout: write failed");
	return RCPT_OK;
}

/* The exit status for @p r, printing the diag when it failed. */
static int
finish(const char *cmd, int r, const struct rcpt_diag *d)
{
	return r == RCPT_OK ? RCPT_CLI_EXIT_OK : rcpt_cli_fail(cmd, r, d);
}

/* chain-create, append, rotate, revoke, checkpoint: the writers */

enum write_kind {
	WRITE_CREATE,
	WRITE_APPEND,
	WRITE_ROTATE,
	WRITE_REVOKE,
	WRITE_CHECKPOINT /* no receipt: the checkpoint alone, printed */
};

/* append --events: a whole events file, read before the store opens. */
struct event_file {
	const char *name; /* the file, for messages */
	const char *text; /* borrowed */
	size_t len;
	const char *submitter;
	size_t appended; /* receipts stored so far */
};

struct write_job {
	enum write_kind kind;
	const struct rcpt_ceremony_genesis *g;  /* create */
	const struct rcpt_chain_event *ev;      /* append */
	struct event_file *ef;                  /* append --events */
	const struct rcpt_ceremony_record *rec; /* rotate */
	const char *ts, *admin, *reason;        /* rotate, revoke */
	const char *kid, *effective;            /* revoke */
};

/*
 * Appends the event on line @p lineno of @p ef->text (@p text, @p len)
 * in its own durable transaction and prints the stored receipt.
 */
static int
append_line(struct rcpt_ceremony *c, struct event_file *ef, size_t lineno,
    const char *text, size_t len, struct rcpt_diag *d)
{
	struct rcpt_chain_event ev;
	struct rcpt_diag sub = {0};
	json_object *doc = NULL;
	char ts[RCPT_TS_LEN + 1], *line = NULL;
	size_t n = 0;
	int r = RCPT_E_INTERNAL;

	if ((r = rcpt_cli_event_parse(text, len, &doc, &ev, &sub)) != RCPT_OK)
		goto out;
	if ((r = now_ts(ts, &sub)) != RCPT_OK)
		goto out;
	ev.submitter = ef->submitter;
	ev.ts = ts;
	if ((r = rcpt_ceremony_append(c, &ev, &line, &n, &sub)) != RCPT_OK)
		goto out;
	ef->appended++;
	r = put_line(line, n, &sub);
out:
	if (r != RCPT_OK)
		(void)rcpt_diag(d, r, "%s line %zu: %s", ef->name, lineno,
		    rcpt_diag_msg(&sub, r));
	free(line);
	json_object_put(doc);
	return r;
}

/* Appends every line of @p ef in order, stopping at the first failure. */
static int
append_events(
    struct rcpt_ceremony *c, struct event_file *ef, struct rcpt_diag *d)
{
	struct rcpt_cli_lines it;
	const char *text;
	size_t len;
	int r = RCPT_OK;

	rcpt_cli_lines_init(&it, ef->text, ef->len);
	while (r == RCPT_OK && rcpt_cli_lines_next(&it, &text, &len))
		r = append_line(c, ef, it.lineno, text, len, d);
	return r;
}

/*
 * Creates the chain, or checks the anchor and opens it; writes one
 * receipt (append --events: one per line) and prints it.  Genesis,
 * rotations and revocations are checkpointed at once, so that the
 * anchor exists and covers them.
 * @p stored_out tells whether the receipt is durable (a later failure
 * then means only the checkpoint is missing).
 */
static int
write_receipt(const struct args *a, const struct write_job *w, bool *stored_out,
    struct rcpt_diag *d)
{
	const char *chain = a->v[OPT_CHAIN], *kid;
	struct session ss = {0};
	char *line = NULL, *note = NULL;
	size_t len = 0;
	int r = RCPT_E_INTERNAL;

	*stored_out = false;
	if ((r = session_open(a,
	         w->kind == WRITE_CREATE ? NEED_KS | CREATE : NEED_KS, &ss,
	         d)) != RCPT_OK)
		goto out;
	if (w->kind == WRITE_CREATE)
		r = rcpt_ceremony_create(
		    ss.s, ss.ks, w->g, &ceremony_opts, &ss.c, &line, &len, d);
	/*
	 * Never link to a tip from a store restored from an old copy.  A
	 * checkpoint checks the anchor itself, and alone accepts a genesis
	 * that chain-create stored without reaching its first anchor.
	 */
	else if (w->kind == WRITE_CHECKPOINT ||
	         (r = rcpt_anchor_check(ss.s, ss.ks, chain, NULL, d)) ==
	             RCPT_OK)
		r = rcpt_ceremony_open(
		    ss.s, ss.ks, chain, &ceremony_opts, &ss.c, d);
	if (r != RCPT_OK)
		goto out;
	switch (w->kind) {
	case WRITE_CREATE:
	case WRITE_CHECKPOINT:
		break;
	case WRITE_APPEND:
		if (w->ef != NULL)
			r = append_events(ss.c, w->ef, d);
		else
			r = rcpt_ceremony_append(ss.c, w->ev, &line, &len, d);
		break;
	case WRITE_ROTATE:
		r = rcpt_ceremony_rotate(
		    ss.c, w->ts, w->admin, w->reason, w->rec, &line, &len, d);
		break;
	case WRITE_REVOKE:
		r = rcpt_ceremony_revoke(ss.c, w->ts, w->admin, w->kid,
		    w->reason, w->effective, &line, &len, d);
		break;
	}
	if (r != RCPT_OK)
		goto out;
	if (line != NULL) {
		*stored_out = true;
		if ((r = put_line(line, len, d)) != RCPT_OK)
			goto out;
	}
	kid = rcpt_ceremony_active_kid(ss.c);
	if (w->kind == WRITE_APPEND ||
	    (w->kind == WRITE_CREATE &&
	        (r = put_line(kid, strlen(kid), d)) != RCPT_OK))
		goto out;
	/* It checks the anchor again: a rolled-back store gets none. */
	r = rcpt_anchor_checkpoint(
	    ss.s, ss.ks, rcpt_ceremony_signer(ss.c), chain, &note, d);
	if (r == RCPT_OK && w->kind == WRITE_CHECKPOINT &&
	    rcpt_cli_write_stdout(note, strlen(note)) != RCPT_OK)
		r = rcpt_diag(d, RCPT_E_IO, "stdout: write failed");
out:
	free(note);
	free(line);
	session_close(&ss);
	return r;
}

/* Runs @p w and turns the result into an exit status. */
static int
run_write(const struct args *a, const struct write_job *w)
{
	struct rcpt_diag d = {0};
	bool stored = false;
	int r = write_receipt(a, w, &stored, &d), st;

	st = finish(a->cmd, r, &d);
	if (r != RCPT_OK && stored && w->kind != WRITE_APPEND)
		rcpt_cli_warn(a->cmd, "the receipt is stored; checkpoint it "
		                      "with `receiptctl checkpoint`");
	return st;
}

int
cmd_chain_create(int argc, char *argv[])
{
	static const struct spec sp = {
	    .allowed = OPT(OPT_CHAIN) | OPT(OPT_ORIGIN) | OPT(OPT_SEALING),
	    .required = OPT(OPT_CHAIN) | OPT(OPT_ORIGIN),
	    .flags = NEED_KS | CREATE,
	};
	struct rcpt_ceremony_genesis g = {.sealing = RCPT_SEALING_EACH};
	struct write_job w = {.kind = WRITE_CREATE, .g = &g};
	struct rcpt_diag d = {0};
	struct args a;
	char ts[RCPT_TS_LEN + 1];
	int st, r;

	if ((st = parse_args(argc, argv, &sp, &a)) >= 0)
		return st;
	g.chain = a.v[OPT_CHAIN];
	g.origin = a.v[OPT_ORIGIN];
	if (a.v[OPT_SEALING] != NULL &&
	    rcpt_chain_sealing_parse(a.v[OPT_SEALING], &g.sealing) != RCPT_OK)
		return rcpt_cli_usage_error(
		    a.cmd, "--sealing: must be each or batch");
	/* Checked before the store is made, so a refusal leaves none. */
	if (!rcpt_checkpoint_origin_is_valid(g.origin)) {
		rcpt_cli_warn(a.cmd, "--origin: must be 1 to 200 bytes of "
		                     "[A-Za-z0-9._~:/-]");
		return RCPT_CLI_EXIT_BROKEN;
	}
	if ((r = now_ts(ts, &d)) != RCPT_OK)
		return finish(a.cmd, r, &d);
	g.ts = ts;
	return run_write(&a, &w);
}

/* The event's data: DATA, --data-file F or "-" (stdin); none is null. */
static int
read_data(const struct args *a, json_object **out, struct rcpt_diag *d)
{
	const char *file = a->v[OPT_DATA_FILE], *text = a->operand;
	char *buf = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if (text != NULL && strcmp(text, "-") == 0)
		file = "-";
	if (file != NULL) {
		if ((r = rcpt_cli_read_file(
		         file, DATA_READ_MAX, &buf, &len, d)) != RCPT_OK)
			return r;
		text = buf;
	} else if (text == NULL) {
		return RCPT_OK;
	} else {
		len = strlen(text);
	}
	/* I-JSON (SPEC 1.1); the JCS size limit is the chain writer's. */
	r = rcpt_json_parse(text, len, RCPT_JSON_DEPTH_DEFAULT, "data", out, d);
	free(buf);
	return r;
}

/* --tag values as a JSON array; caller puts it. */
static int
tags_array(const struct args *a, json_object **out)
{
	json_object *arr = json_object_new_array(), *s;
	size_t i;

	*out = NULL;
	if (arr == NULL)
		return RCPT_E_NOMEM;
	for (i = 0; i < a->n_tags; i++) {
		s = json_object_new_string(a->tags[i]);
		/* json_object_array_add takes s when it succeeds. */
		if (s == NULL || json_object_array_add(arr, s) != 0) {
			json_object_put(s);
			json_object_put(arr);
			return RCPT_E_NOMEM;
		}
	}
	*out = arr;
	return RCPT_OK;
}

/*
 * append --events FILE.  The anchor is checked once, before the first
 * line; each line is then its own transaction, so the receipts before a
 * bad line stay stored, and stderr says how many there are.
 */
static int
append_file(const struct args *a)
{
	const char *path = a->v[OPT_EVENTS];
	struct event_file ef = {0};
	struct write_job w = {.kind = WRITE_APPEND, .ef = &ef};
	struct rcpt_diag d = {0};
	char *text = NULL, name[NAME_MAX_BYTES];
	size_t len = 0;
	int st, r;

	/* Read whole first: a missing file leaves the store untouched. */
	if ((r = rcpt_cli_read_file(
	         path, RCPT_CLI_EVENTS_MAX, &text, &len, &d)) != RCPT_OK)
		return finish(a->cmd, r, &d);
	ef.name = strcmp(path, "-") == 0 ? "stdin" : path;
	ef.text = text;
	ef.len = len;
	ef.submitter = who(a->v[OPT_SUBMITTER], name);
	st = run_write(a, &w);
	if (st != RCPT_CLI_EXIT_OK)
		rcpt_cli_warn(a->cmd,
		    "%s: stopped after appending %zu event%s; receipts "
		    "already appended stay in the chain",
		    ef.name, ef.appended, ef.appended == 1 ? "" : "s");
	free(text);
	return st;
}

int
cmd_append(int argc, char *argv[])
{
	static const struct spec sp = {
	    .allowed = OPT(OPT_CHAIN) | OPT(OPT_TYPE) | OPT(OPT_TAG) |
	               OPT(OPT_SUBMITTER) | OPT(OPT_DATA_FILE) |
	               OPT(OPT_EVENTS),
	    .required = OPT(OPT_CHAIN),
	    .operands = 1,
	    .flags = NEED_KS,
	};
	struct rcpt_chain_event ev = {0};
	struct write_job w = {.kind = WRITE_APPEND, .ev = &ev};
	struct rcpt_diag d = {0};
	struct args a;
	json_object *data = NULL, *tags = NULL;
	char ts[RCPT_TS_LEN + 1], name[NAME_MAX_BYTES];
	int st, r;

	if ((st = parse_args(argc, argv, &sp, &a)) >= 0)
		return st;
	if (a.v[OPT_EVENTS] != NULL) {
		if (a.v[OPT_TYPE] != NULL || a.n_tags > 0 ||
		    a.operand != NULL || a.v[OPT_DATA_FILE] != NULL)
			return rcpt_cli_usage_error(a.cmd,
			    "--events excludes --type, --tag, DATA and "
			    "--data-file");
		return append_file(&a);
	}
	if (a.v[OPT_TYPE] == NULL)
		return rcpt_cli_usage_error(
		    a.cmd, "--type is required (or --events FILE)");
	if (a.operand != NULL && a.v[OPT_DATA_FILE] != NULL)
		return rcpt_cli_usage_error(
		    a.cmd, "DATA and --data-file exclude each other");
	/* Refused before any token or store is touched (SPEC 1, 4). */
	if (strncasecmp(a.v[OPT_TYPE], "receiptd.", 9) == 0) {
		rcpt_cli_warn(a.cmd, "--type: names starting with "
		                     "\"receiptd.\" are reserved (SPEC 4)");
		return RCPT_CLI_EXIT_BROKEN;
	}
	if ((r = read_data(&a, &data, &d)) != RCPT_OK ||
	    (r = tags_array(&a, &tags)) != RCPT_OK ||
	    (r = now_ts(ts, &d)) != RCPT_OK) {
		st = finish(a.cmd, r, &d);
		goto out;
	}
	ev.type = a.v[OPT_TYPE];
	ev.tags = tags;
	ev.submitter = who(a.v[OPT_SUBMITTER], name);
	ev.data = data;
	ev.ts = ts;
	st = run_write(&a, &w);
out:
	json_object_put(tags);
	json_object_put(data);
	return st;
}

int
cmd_rotate(int argc, char *argv[])
{
	static const struct spec sp = {
	    .allowed = OPT(OPT_CHAIN) | OPT(OPT_REASON) | OPT(OPT_OPERATOR) |
	               OPT(OPT_WITNESS) | OPT(OPT_SERIAL) | OPT(OPT_ADMIN),
	    .required = OPT(OPT_CHAIN) | OPT(OPT_REASON),
	    .flags = NEED_KS,
	};
	struct rcpt_ceremony_record rec = {0};
	struct write_job w = {.kind = WRITE_ROTATE, .rec = &rec};
	struct rcpt_diag d = {0};
	struct args a;
	char ts[RCPT_TS_LEN + 1], name[NAME_MAX_BYTES];
	int st, r;

	if ((st = parse_args(argc, argv, &sp, &a)) >= 0)
		return st;
	/* The keystore has no serial call: the record omits it unless given. */
	rec.operator_name = a.v[OPT_OPERATOR];
	rec.witnesses = a.witnesses;
	rec.n_witnesses = a.n_witnesses;
	rec.token_serial = a.v[OPT_SERIAL];
	if ((r = now_ts(ts, &d)) != RCPT_OK)
		return finish(a.cmd, r, &d);
	w.ts = ts;
	w.admin = who(a.v[OPT_ADMIN], name);
	w.reason = a.v[OPT_REASON];
	return run_write(&a, &w);
}

int
cmd_revoke(int argc, char *argv[])
{
	static const struct spec sp = {
	    .allowed = OPT(OPT_CHAIN) | OPT(OPT_KID) | OPT(OPT_REASON) |
	               OPT(OPT_EFFECTIVE) | OPT(OPT_ADMIN),
	    .required = OPT(OPT_CHAIN) | OPT(OPT_KID) | OPT(OPT_REASON) |
	                OPT(OPT_EFFECTIVE),
	    .flags = NEED_KS,
	};
	struct write_job w = {.kind = WRITE_REVOKE};
	struct rcpt_diag d = {0};
	struct args a;
	char ts[RCPT_TS_LEN + 1], name[NAME_MAX_BYTES];
	const char *eff;
	int st, r;

	if ((st = parse_args(argc, argv, &sp, &a)) >= 0)
		return st;
	eff = a.v[OPT_EFFECTIVE];
	if (!rcpt_ts_is_valid(eff, strlen(eff))) {
		rcpt_cli_warn(a.cmd, "--effective: must be a TS "
		                     "(YYYY-MM-DDThh:mm:ss.sssZ, UTC)");
		return RCPT_CLI_EXIT_BROKEN;
	}
	if ((r = now_ts(ts, &d)) != RCPT_OK)
		return finish(a.cmd, r, &d);
	w.ts = ts;
	w.admin = who(a.v[OPT_ADMIN], name);
	w.reason = a.v[OPT_REASON];
	w.kid = a.v[OPT_KID];
	w.effective = eff;
	return run_write(&a, &w);
}

/* checkpoint, anchor-check */

int
cmd_checkpoint(int argc, char *argv[])
{
	static const struct spec sp = {
	    .allowed = OPT(OPT_CHAIN),
	    .required = OPT(OPT_CHAIN),
	    .flags = NEED_KS,
	};
	struct write_job w = {.kind = WRITE_CHECKPOINT};
	struct args a;
	int st;

	if ((st = parse_args(argc, argv, &sp, &a)) >= 0)
		return st;
	return run_write(&a, &w);
}

int
cmd_anchor_check(int argc, char *argv[])
{
	static const struct spec sp = {
	    .allowed = OPT(OPT_CHAIN),
	    .required = OPT(OPT_CHAIN),
	    .flags = NEED_KS | READ_ONLY,
	};
	struct rcpt_anchor_state as;
	struct rcpt_diag d = {0};
	struct session ss = {0};
	struct args a;
	int st, r = RCPT_E_INTERNAL;

	if ((st = parse_args(argc, argv, &sp, &a)) >= 0)
		return st;
	if ((r = session_open(&a, sp.flags, &ss, &d)) != RCPT_OK)
		goto out;
	if ((r = rcpt_anchor_check(ss.s, ss.ks, a.v[OPT_CHAIN], &as, &d)) !=
	    RCPT_OK)
		goto out;
	/* Without an anchor nothing guards against a rollback: say so. */
	if (as.fresh) {
		r = rcpt_diag(&d, RCPT_E_ANCHOR,
		    "chain %s: the token holds no anchor for the store of "
		    "size %" PRIu64 "; make one with `receiptctl checkpoint`",
		    a.v[OPT_CHAIN], as.store_size);
		goto out;
	}
	if (printf("anchor: store of size %" PRIu64
	           " extends the token's anchor of size %" PRIu64 "\n",
	        as.store_size, as.anchor_size) < 0 ||
	    fflush(stdout) != 0)
		r = rcpt_diag(&d, RCPT_E_IO, "stdout: write failed");
out:
	session_close(&ss);
	return finish(a.cmd, r, &d);
}

/* keys, export-chain: the store only, read-only */

int
cmd_keys(int argc, char *argv[])
{
	static const struct spec sp = {.flags = READ_ONLY};
	struct rcpt_diag d = {0};
	struct session ss = {0};
	struct args a;
	char *jwks = NULL;
	size_t len = 0;
	int st, r = RCPT_E_INTERNAL;

	if ((st = parse_args(argc, argv, &sp, &a)) >= 0)
		return st;
	if ((r = session_open(&a, sp.flags, &ss, &d)) != RCPT_OK)
		goto out;
	if ((r = rcpt_store_jwks(ss.s, &jwks, &len, &d)) != RCPT_OK)
		goto out;
	r = put_line(jwks, len, &d);
out:
	free(jwks);
	session_close(&ss);
	return finish(a.cmd, r, &d);
}

/* Writes every receipt of @p chain to @p f, one JCS line each. */
static int
write_chain(struct rcpt_store *s, const char *chain, FILE *f, const char *name,
    struct rcpt_diag *d)
{
	struct rcpt_store_snap *snap = NULL;
	struct rcpt_store_chain rec;
	const char *line;
	size_t len = 0;
	uint64_t seq;
	int r = RCPT_E_INTERNAL;

	/* One snapshot: a consistent chain even if a writer appears. */
	if ((r = rcpt_store_snap_begin(s, chain, &snap, d)) != RCPT_OK)
		goto out;
	if ((r = rcpt_store_snap_chain(snap, &rec, d)) != RCPT_OK)
		goto out;
	for (seq = 0; seq < rec.size; seq++) {
		if ((r = rcpt_store_snap_receipt(snap, seq, &line, &len)) !=
		    RCPT_OK) {
			(void)rcpt_diag(d, r, "chain %s: seq %" PRIu64 ": %s",
			    chain, seq,
			    r == RCPT_E_NOT_FOUND ? "missing from the store"
			                          : "cannot be read");
			goto out;
		}
		if (fwrite(line, 1, len, f) != len || fputc('\n', f) == EOF) {
			r = rcpt_diag(d, RCPT_E_IO, "%s: write failed", name);
			goto out;
		}
	}
	r = RCPT_OK;
out:
	rcpt_store_snap_end(snap);
	return r;
}

/* Opens @p path as a new file; an existing one is never overwritten. */
static int
create_out(const char *path, FILE **out, struct rcpt_diag *d)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	*out = NULL;
	if (fd == -1)
		return rcpt_diag(d, errno == EEXIST ? RCPT_E_EXISTS : RCPT_E_IO,
		    "--out: %s: %s", path,
		    errno == EEXIST ? "exists; refusing to overwrite"
		                    : strerror(errno));
	if ((*out = fdopen(fd, "w")) == NULL) {
		close(fd);
		unlink(path);
		return RCPT_E_NOMEM;
	}
	return RCPT_OK;
}

/* Flushes, syncs and closes @p f (a file, not stdout). */
static int
close_out(FILE *f, const char *path, struct rcpt_diag *d)
{
	int bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0;

	if (fclose(f) != 0 || bad)
		return rcpt_diag(d, RCPT_E_IO, "%s: write failed", path);
	return RCPT_OK;
}

int
cmd_export_chain(int argc, char *argv[])
{
	static const struct spec sp = {
	    .allowed = OPT(OPT_CHAIN) | OPT(OPT_OUT),
	    .required = OPT(OPT_CHAIN),
	    .flags = READ_ONLY,
	};
	struct rcpt_diag d = {0};
	struct session ss = {0};
	struct args a;
	const char *path;
	FILE *f = NULL;
	int st, r = RCPT_E_INTERNAL, rc;

	if ((st = parse_args(argc, argv, &sp, &a)) >= 0)
		return st;
	path = a.v[OPT_OUT];
	if ((r = session_open(&a, sp.flags, &ss, &d)) != RCPT_OK)
		goto out;
	if (path == NULL) {
		r = write_chain(ss.s, a.v[OPT_CHAIN], stdout, "stdout", &d);
		if (r == RCPT_OK && (fflush(stdout) != 0 || ferror(stdout)))
			r = rcpt_diag(&d, RCPT_E_IO, "stdout: write failed");
		goto out;
	}
	if ((r = create_out(path, &f, &d)) != RCPT_OK)
		goto out;
	r = write_chain(ss.s, a.v[OPT_CHAIN], f, path, &d);
	rc = close_out(f, path, &d);
	if (r == RCPT_OK)
		r = rc;
	/* No half-written receipts.jsonl is left for an auditor. */
	if (r != RCPT_OK)
		unlink(path);
out:
	session_close(&ss);
	return finish(a.cmd, r, &d);
}
