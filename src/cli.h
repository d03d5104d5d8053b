/* SPDX-License-Identifier: Apache-2.0 */
/*
 * receiptctl, the operators' and auditors' command line: the subcommand
 * table shared by cli.c and the cli-<cmd>.c files, and the small helpers
 * they have in common (usage lines, error lines, exit codes, reading
 * files with a size cap, printing a new key).  The offline subcommands
 * and the token set-up ones are declared here; those that talk to the
 * daemon are in cli-online.h.
 *
 * Exit statuses follow SPEC 8: 0 clean or success, 1 broken or refused
 * input, 2 usage or I/O error.  Every message a command prints to stderr
 * starts with "receiptctl CMD: " and carries the rcpt_diag text, which
 * names the field and the rule but never a rejected value.
 */
#ifndef RCPT_SRC_CLI_H
#define RCPT_SRC_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

struct json_object;
struct rcpt_chain_event;

#define RCPT_CLI_EXIT_OK     0 /* clean, success */
#define RCPT_CLI_EXIT_BROKEN 1 /* broken or refused input */
#define RCPT_CLI_EXIT_USAGE  2 /* usage or I/O error */

#define RCPT_CLI_MAX_THREADS 64 /* largest --threads accepted */

/*
 * Subcommands.  Each takes main's arguments after "receiptctl" (argv[0]
 * is the command name), borrows them, and returns its exit status
 * (RCPT_CLI_EXIT_*) after releasing everything it allocated.
 */

/** `canon`: JCS of JSON on stdin (cli-canon.c). */
int cmd_canon(int argc, char *argv[]);
/** `verify`: a receipts.jsonl chain, SPEC 8 line (cli-verify.c). */
int cmd_verify(int argc, char *argv[]);
/** `verify-bundle`: an evidence bundle, SPEC 8 line (cli-verify.c). */
int cmd_verify_bundle(int argc, char *argv[]);
/** `verify-proof`: an inclusion or consistency proof (cli-verify.c). */
int cmd_verify_proof(int argc, char *argv[]);
/** `keygen --software`: a development key (cli-keygen.c). */
int cmd_keygen(int argc, char *argv[]);
/** `keygen --pkcs11`: a key on a PKCS#11 token (cli-token.c). */
int cmd_keygen_pkcs11(int argc, char *argv[]);
/** `token-init --softhsm`: a development SoftHSM2 token (cli-token.c). */
int cmd_token_init(int argc, char *argv[]);
/** `dev-chain`: a signed chain from events, development only (cli-dev.c). */
int cmd_dev_chain(int argc, char *argv[]);
/** `dev-bundle`: a bundle from a dev-chain directory (cli-dev.c). */
int cmd_dev_bundle(int argc, char *argv[]);
/** `chain-create`: a new chain in a store, offline (cli-admin.c). */
int cmd_chain_create(int argc, char *argv[]);
/** `append`: events appended to a stored chain, offline (cli-admin.c). */
int cmd_append(int argc, char *argv[]);
/** `rotate`: a key rotation with its ceremony record (cli-admin.c). */
int cmd_rotate(int argc, char *argv[]);
/** `revoke`: a retired key revoked from a time on (cli-admin.c). */
int cmd_revoke(int argc, char *argv[]);
/** `checkpoint`: a checkpoint that moves the anchor (cli-admin.c). */
int cmd_checkpoint(int argc, char *argv[]);
/** `keys`: the store's JWK Set, SPEC 3 (cli-admin.c). */
int cmd_keys(int argc, char *argv[]);
/** `export-chain`: a stored chain as receipts.jsonl (cli-admin.c). */
int cmd_export_chain(int argc, char *argv[]);
/** `anchor-check`: whether the store extends the anchor (cli-admin.c). */
int cmd_anchor_check(int argc, char *argv[]);

/* Messages */

/** Prints the usage lines and options of @p cmd to @p f. */
void rcpt_cli_usage(FILE *f, const char *cmd);

/** Prints "receiptctl CMD: <message>" and a newline to stderr. */
void rcpt_cli_warn(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * Prints "receiptctl CMD: <message>" and the usage lines of @p cmd to
 * stderr.
 * @return RCPT_CLI_EXIT_USAGE, so commands can `return` it.
 */
int rcpt_cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * Reports a getopt_long() failure (@p c is '?' or ':') for the option
 * at @p argv[optind - 1], or prints the usage for 'h'.
 * @return RCPT_CLI_EXIT_OK for 'h', RCPT_CLI_EXIT_USAGE otherwise.
 */
int rcpt_cli_option_error(const char *cmd, int c, char *argv[]);

/** Exit status for a library error: 0, 1 (refused input) or 2. */
int rcpt_cli_exit_code(int err);

/**
 * Prints rcpt_diag_msg(@p d, @p err) as a "receiptctl CMD:" line.
 * @return rcpt_cli_exit_code(@p err).
 */
int rcpt_cli_fail(const char *cmd, int err, const struct rcpt_diag *d);

/* Input */

/**
 * Reads the whole of @p path ("-" is stdin), refusing more than @p cap
 * bytes.
 * @param[out] out NUL-terminated; caller frees with free().
 * @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_IO, RCPT_E_TOO_LARGE,
 * RCPT_E_NOMEM; @p diag names the file and the rule.
 */
int rcpt_cli_read_file(const char *path, size_t cap, char **out,
    size_t *len_out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Parses a decimal integer option value in [@p min, @p max].
 * @return RCPT_OK or RCPT_E_INVAL.
 */
int rcpt_cli_parse_long(
    const char *s, long min, long max, long *out) RCPT_MUST_CHECK;

/** Online CPUs, at least 1 and at most 8: the default --threads. */
int rcpt_cli_default_threads(void);

/**
 * Writes @p len bytes to stdout and flushes it.
 * @return RCPT_OK or RCPT_E_IO.
 */
int rcpt_cli_write_stdout(const void *p, size_t len) RCPT_MUST_CHECK;

/**
 * Prints "KID\nJWK\n" for a new key: @p kid, then the public JWK of the
 * 32-byte Ed25519 key @p pub in JCS form.
 * @return RCPT_OK, RCPT_E_NOMEM or RCPT_E_IO (named in @p diag).
 */
int rcpt_cli_print_key(const char *kid, const uint8_t pub[32],
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/* Events files (cli-event.c) */

/* Largest events file dev-chain and append --events read. */
#define RCPT_CLI_EVENTS_MAX ((size_t)256 * 1024 * 1024)

/*
 * A walk over the lines of a text, split at "\n"; a last line without
 * its newline counts too, and an empty text has no lines.
 */
struct rcpt_cli_lines {
	const char *text; /* borrowed */
	size_t len;
	size_t pos;    /* offset of the next line */
	size_t lineno; /* of the line last returned, from 1 */
};

/** Starts a walk over @p text (@p len bytes, borrowed until it ends). */
void rcpt_cli_lines_init(
    struct rcpt_cli_lines *it, const char *text, size_t len);

/**
 * Gives the next line, without its "\n", and counts it in @p it->lineno.
 * @param[out] line_out borrowed from the text; not NUL-terminated.
 * @return 1 with a line, 0 when there are no more.
 */
int rcpt_cli_lines_next(
    struct rcpt_cli_lines *it, const char **line_out, size_t *len_out);

/** 1 when no line is left (the line last returned was the last). */
int rcpt_cli_lines_at_end(const struct rcpt_cli_lines *it);

/**
 * Parses one line of an events file: a JSON object with only "type" (a
 * string), "data" (required, any JSON) and "tags" (an array, optional).
 * A type starting with "receiptd." in any letter case is refused (SPEC
 * 4).  Type characters, tags and the size of data are left to the chain
 * writer.  Messages start with the member ("event.data: missing"), never
 * with a file or line: the caller adds those.
 * @param[out] doc_out the parsed line, a new reference the caller
 * releases with json_object_put() once done with @p ev_out; NULL on
 * failure.
 * @param[out] ev_out zeroed, then type, tags and data point into
 * *@p doc_out (tags NULL when absent, data NULL for JSON null); the
 * caller sets submitter, ts and seal.
 * @return RCPT_OK; RCPT_E_PARSE (not JSON), RCPT_E_INVAL (a rule above
 * or I-JSON), RCPT_E_TOO_LARGE (nested too deep), RCPT_E_NOMEM; @p diag
 * names the member and the rule.
 */
int rcpt_cli_event_parse(const char *text, size_t len,
    struct json_object **doc_out, struct rcpt_chain_event *ev_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

#endif
