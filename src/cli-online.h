/* SPDX-License-Identifier: Apache-2.0 */
/*
 * receiptctl's online subcommands: the ones that talk to a running
 * receiptd over its socket (SPEC 9) through libreceiptclient, and what
 * they share (options, connecting, reporting errors, walking a chain a
 * page at a time).  cli-online.c holds the shared part and `append`,
 * cli-online-read.c the readers and `verify`, cli-online-admin.c the
 * administrators' commands and `export`.
 *
 * append, rotate, revoke, checkpoint and keys also have an offline form
 * (cli-admin.c); cli.c runs that one when --store is given.  verify runs
 * online when --chain is given.  Online commands never judge for the
 * daemon: `verify` fetches the receipts and checks them itself, and
 * `prove` checks the proof it prints.
 *
 * An error the daemon answered prints "receiptctl CMD: <message> (code
 * N)" and exits 1; usage, connection and I/O errors exit 2.
 */
#ifndef RCPT_SRC_CLI_ONLINE_H
#define RCPT_SRC_CLI_ONLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "client.h"
#include "err.h"
#include "receipt.h"

struct rcpt_jwks;

/* Most --tag (SPEC 1) and --witness (ceremony.h) values. */
#define RCPT_CLI_ONLINE_TAGS_MAX      RCPT_TAGS_MAX
#define RCPT_CLI_ONLINE_WITNESSES_MAX 16

/** `append` without --store: one event through the daemon. */
int cmd_online_append(int argc, char *argv[]);
/** `get`: one receipt. */
int cmd_online_get(int argc, char *argv[]);
/** `range`: receipts from a seq, any number, a page at a time. */
int cmd_online_range(int argc, char *argv[]);
/** `tail`: the last receipts of a chain. */
int cmd_online_tail(int argc, char *argv[]);
/** `tip`: a chain's size and last entry_hash. */
int cmd_online_tip(int argc, char *argv[]);
/** `checkpoint` without --store: a fresh signed checkpoint. */
int cmd_online_checkpoint(int argc, char *argv[]);
/** `prove`: an inclusion or consistency proof, checked locally. */
int cmd_online_prove(int argc, char *argv[]);
/** `keys` without --store: the daemon's JWK Set. */
int cmd_online_keys(int argc, char *argv[]);
/** `status`: the daemon's health. */
int cmd_online_status(int argc, char *argv[]);
/** `verify --chain`: the chain fetched and verified here (SPEC 8). */
int cmd_online_verify(int argc, char *argv[]);
/** `rotate` without --store: a key rotation by the daemon. */
int cmd_online_rotate(int argc, char *argv[]);
/** `revoke` without --store: a revocation by the daemon. */
int cmd_online_revoke(int argc, char *argv[]);
/** `prune`: the data of old receipts removed. */
int cmd_online_prune(int argc, char *argv[]);
/** `export`: an evidence bundle (SPEC 7) by seq or time range. */
int cmd_online_export(int argc, char *argv[]);

/* Shared by cli-online*.c */

/** A number option: whether it was given, and its value. */
struct rcpt_cli_num {
	bool set;
	uint64_t v;
};

/** What one online command accepts. */
struct rcpt_cli_online_spec {
	const char *options;  /* long option names, space-separated */
	const char *required; /* the ones that must be given */
	int operands;         /* most operands taken */
	bool offline_form;    /* the command also runs with --store */
};

/** An online command line, parsed; strings borrow from argv. */
struct rcpt_cli_online {
	const struct rcpt_cli_online_spec *spec;
	const char *cmd;
	const char *socket; /* NULL: $RECEIPTD_SOCKET or the default */
	const char *chain, *type, *data_file, *reason, *operator_name;
	const char *token_serial, *kid, *effective, *before, *out;
	const char *since, *until, *trust;
	struct rcpt_cli_num seq, from, to, count, lines, tree_size;
	struct rcpt_cli_num old_size, new_size;
	int threads; /* --threads, or the default */
	bool no_checkpoint;
	const char *tags[RCPT_CLI_ONLINE_TAGS_MAX];
	size_t n_tags;
	const char *witnesses[RCPT_CLI_ONLINE_WITNESSES_MAX];
	size_t n_witnesses;
	const char *operand; /* the one operand, or NULL */
};

/**
 * Parses the options of an online command.
 * @return -1 to go on, or the exit status when the command is done
 * (--help, a usage error, an invalid chain name).
 */
int rcpt_cli_online_parse(int argc, char *argv[],
    const struct rcpt_cli_online_spec *spec, struct rcpt_cli_online *a);

/**
 * Connects to the daemon; on failure prints why (and, for commands
 * with an offline form, that --store runs it without the daemon).
 * @param[out] out caller closes with rcpt_client_close().
 * @return -1 when connected, else the exit status.
 */
int rcpt_cli_online_connect(
    const struct rcpt_cli_online *a, struct rcpt_client **out);

/**
 * Prints the failure @p r: "(code N)" after the message when the
 * daemon refused the request.
 * @return the exit status: 1 for the daemon's refusal, else as
 * rcpt_cli_exit_code().
 */
int rcpt_cli_online_fail(const struct rcpt_cli_online *a,
    const struct rcpt_client *c, int r, const struct rcpt_diag *d);

/**
 * Calls @p method with @p params (NULL for none; stays the caller's)
 * and returns the result as JCS text the caller frees.
 */
int rcpt_cli_online_call(struct rcpt_client *c, const char *method,
    json_object *params, char **out, size_t *len_out,
    struct rcpt_diag *d) RCPT_MUST_CHECK;

/**
 * {"chain": @p chain}, for adding the rest of a method's params.
 * @param[out] out caller puts it.
 */
int rcpt_cli_online_params(
    const char *chain, json_object **out) RCPT_MUST_CHECK;

/** Adds integer member @p name (below 2^53) to @p o. */
int rcpt_cli_online_add_u64(
    json_object *o, const char *name, uint64_t v) RCPT_MUST_CHECK;

/** Adds string member @p name to @p o. */
int rcpt_cli_online_add_str(
    json_object *o, const char *name, const char *s) RCPT_MUST_CHECK;

/**
 * Receives one page of receipts: @p n lines, each followed by "\n".
 * Returns RCPT_OK to go on, anything else to stop with that result.
 */
typedef int (*rcpt_cli_page_fn)(
    void *ctx, const char *lines, size_t len, uint64_t n);

/**
 * Fetches receipts @p from to @p from + @p count - 1 of @p chain a page
 * (RCPT_CLIENT_RANGE_MAX) at a time and hands each page to @p fn; stops
 * early at the tip.
 * @param[out] n_out receipts handed over.
 * @return RCPT_OK, the client's error, or @p fn's.
 */
int rcpt_cli_online_pages(struct rcpt_client *c, const char *chain,
    uint64_t from, uint64_t count, rcpt_cli_page_fn fn, void *ctx,
    uint64_t *n_out, struct rcpt_diag *d) RCPT_MUST_CHECK;

/** Writes @p len bytes and, when @p newline, a "\n" to stdout. */
int rcpt_cli_online_put(const char *p, size_t len, bool newline,
    struct rcpt_diag *d) RCPT_MUST_CHECK;

/**
 * Reads and parses the JWK Set at @p path for option @p opt.
 * @param[out] out caller frees with rcpt_jwks_free().
 * @return RCPT_OK, the read error, or the parse error (RCPT_E_PARSE,
 * RCPT_E_INVAL) with @p d naming the file.
 */
int rcpt_cli_online_load_jwks(const char *opt, const char *path,
    struct rcpt_jwks **out, struct rcpt_diag *d) RCPT_MUST_CHECK;

#endif
