/* SPDX-License-Identifier: Apache-2.0 */
/*
 * receiptctl's entry point: one table of subcommands (name, handler,
 * summary, usage), a main() that only looks the name up, and the helpers
 * every subcommand shares.  Each handler parses its own options with
 * getopt_long and returns its exit status; nothing here exits early, so
 * every handler's cleanup runs.  The process never calls setlocale():
 * all output is the same in every locale, as SPEC 8 requires of the
 * integrity line.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli-online.h"
#include "cli.h"
#include "err.h"
#include "jcs.h"
#include "jwk.h"
#include "mem.h"

#ifndef PROVIDERS_DIR
#define PROVIDERS_DIR "/usr/local/lib/receiptd/providers"
#endif

/*
 * keygen makes software keys (cli-keygen.c) or token keys
 * (cli-token.c); the option naming the kind decides which parses.
 */
static int
keygen(int argc, char *argv[])
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--pkcs11") == 0 ||
		    strncmp(argv[i], "--pkcs11=", 9) == 0 ||
		    strcmp(argv[i], "--providers-dir") == 0 ||
		    strncmp(argv[i], "--providers-dir=", 16) == 0)
			return cmd_keygen_pkcs11(argc, argv);
	return cmd_keygen(argc, argv);
}

/*
 * append, rotate, revoke, checkpoint and keys work on a store with the
 * daemon stopped when --store is given (cli-admin.c), and otherwise ask
 * the daemon (cli-online*.c); verify reads a file unless --chain names
 * a chain to fetch from the daemon.
 */
static int
has_option(int argc, char *argv[], const char *name)
{
	const char *opt;
	size_t n;

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strncmp(argv[i], "--", 2) != 0)
			continue;
		opt = argv[i] + 2;
		n = strcspn(opt, "=");
		/* getopt_long takes abbreviations: --sto is --store. */
		if (n >= 3 && n <= strlen(name) && strncmp(opt, name, n) == 0)
			return 1;
	}
	return 0;
}

static int
append_either(int argc, char *argv[])
{
	return has_option(argc, argv, "store") ? cmd_append(argc, argv)
	                                       : cmd_online_append(argc, argv);
}

static int
rotate_either(int argc, char *argv[])
{
	return has_option(argc, argv, "store") ? cmd_rotate(argc, argv)
	                                       : cmd_online_rotate(argc, argv);
}

static int
revoke_either(int argc, char *argv[])
{
	return has_option(argc, argv, "store") ? cmd_revoke(argc, argv)
	                                       : cmd_online_revoke(argc, argv);
}

static int
checkpoint_either(int argc, char *argv[])
{
	return has_option(argc, argv, "store")
	           ? cmd_checkpoint(argc, argv)
	           : cmd_online_checkpoint(argc, argv);
}

static int
keys_either(int argc, char *argv[])
{
	return has_option(argc, argv, "store") ? cmd_keys(argc, argv)
	                                       : cmd_online_keys(argc, argv);
}

static int
verify_either(int argc, char *argv[])
{
	return has_option(argc, argv, "chain") ? cmd_online_verify(argc, argv)
	                                       : cmd_verify(argc, argv);
}

/* The option every online command (cli-online*.c) takes. */
#define SOCKET_OPTION                                        \
	"  --socket PATH     the daemon's socket (default: " \
	"$RECEIPTD_SOCKET,\n"                                \
	"                    else " RCPT_CLIENT_SOCKET_DEFAULT ")\n"

/* Options every administration command (cli-admin.c) shares. */
#define ADMIN_SYNOPSIS                                       \
	"--store DIR [--provider NAME]\n"                    \
	"[--provider-config STRING] [--providers-dir DIR]\n" \
	"[--production]"
#define ADMIN_OPTIONS                                                       \
	"  --store DIR       chain store directory; the daemon must be "    \
	"stopped\n"                                                         \
	"  --provider NAME   software or a plugin name (default: pkcs11)\n" \
	"  --provider-config STRING\n"                                      \
	"                    pkcs11: module=M;token=URI;pin-file=PATH;\n"   \
	"                    software: the key directory\n"                 \
	"  --providers-dir DIR\n"                                           \
	"                    where provider-NAME.so is (default:\n"         \
	"                    " PROVIDERS_DIR ")\n"                          \
	"  --production      refuse the software provider\n"
#define ADMIN_STORE_OPTION \
	"  --store DIR       chain store directory (read only)\n"

struct command {
	const char *name;
	int (*fn)(int argc, char *argv[]);
	const char *summary;
	const char *synopsis; /* after "receiptctl NAME"; \n wraps a line */
	const char *options;  /* one "  --opt  text" line each, or "" */
};

static const struct command commands[] = {
    {"canon", cmd_canon,
        "print the RFC 8785 canonical form of JSON read from stdin",
        "[--max-depth N] [--stored]",
        "  --max-depth N     nesting allowed, 1 to 256 (default 64)\n"
        "  --stored          input is text receiptd emitted: accept integer\n"
        "                    literals above 2^53 (JCS prints 1e20 as "
        "digits)\n"},
    {"verify", verify_either,
        "verify a chain (SPEC 8): a file, or --chain from the daemon",
        "[--checkpoint FILE] [--keys JWKS] [--threads N]\n"
        "[--trust JWKS] FILE.jsonl\n"
        "| --chain NAME [--socket PATH] [--no-checkpoint]\n"
        "  [--threads N] [--trust JWKS]",
        "  --checkpoint FILE also verify this signed checkpoint\n"
        "  --keys JWKS       key set that only helps find keys (checked)\n"
        "  --threads N       signature workers, 1 to 64 (default: the\n"
        "                    number of CPUs)\n"
        "  --trust JWKS      keys obtained out of band; pins the chain\n"
        "  FILE.jsonl        receipts, one per line; - is stdin\n"
        "  --chain NAME      instead: fetch the chain from the daemon and\n"
        "                    verify it here, with a fresh checkpoint\n"
        "  --no-checkpoint   up to the tip, without asking for a "
        "checkpoint\n" SOCKET_OPTION},
    {"verify-bundle", cmd_verify_bundle,
        "verify an evidence bundle (SPEC 7 and 8)",
        "[--threads N] [--trust JWKS] FILE.tar",
        "  --threads N       signature workers, 1 to 64\n"
        "  --trust JWKS      keys obtained out of band; needed when the\n"
        "                    bundle does not start at seq 0\n"},
    {"verify-proof", cmd_verify_proof,
        "verify an inclusion or consistency proof (SPEC 5)",
        "--keys JWKS [--receipt FILE] PROOF.json",
        "  --keys JWKS       keys that may sign the proof's checkpoints\n"
        "  --receipt FILE    also check that the receipt in FILE (one\n"
        "                    stored line) is the one an inclusion proof\n"
        "                    includes: its own hashes, chain, seq and\n"
        "                    entry_hash\n"},
    {"keygen", keygen, "create a signing key",
        "--software PATH\n| --pkcs11 CONFIG [--providers-dir DIR]",
        "  --software PATH   development only: new key file (mode 0600);\n"
        "                    never overwritten\n"
        "  --pkcs11 CONFIG   make the key on a PKCS#11 token; CONFIG is the\n"
        "                    pkcs11 provider's config string\n"
        "  --providers-dir DIR\n"
        "                    where provider-pkcs11.so is (default:\n"
        "                    " PROVIDERS_DIR ")\n"},
    {"token-init", cmd_token_init, "create a SoftHSM2 token (development only)",
        "--softhsm DIR [--label LABEL] [--module MODULE]",
        "  --softhsm DIR     new or empty directory for the token, its\n"
        "                    softhsm2.conf and its 0600 PIN files\n"
        "  --label LABEL     token label, 1 to 32 bytes (default: "
        "receiptd)\n"
        "  --module MODULE   SoftHSM2 module: p11-kit name or absolute "
        "path\n"
        "                    (default: softhsm2)\n"},
    {"dev-chain", cmd_dev_chain,
        "write a signed chain from events (development only)",
        "--software KEY --chain NAME --origin ORIGIN\n"
        "[--sealing each|batch] [--submitter NAME]\n"
        "EVENTS.jsonl OUTDIR",
        "  --software KEY    software key from keygen\n"
        "  --chain NAME      chain name\n"
        "  --origin ORIGIN   checkpoint origin\n"
        "  --sealing MODE    each (default) or batch\n"
        "  --submitter NAME  submitter of the events (default: dev)\n"
        "  EVENTS.jsonl      one {\"type\",\"data\",\"tags\"} object a "
        "line\n"
        "  OUTDIR            new or empty directory\n"},
    {"dev-bundle", cmd_dev_bundle,
        "pack a dev-chain directory into a bundle (development only)",
        "--software KEY --dir OUTDIR [--from A] [--to B] OUT.tar",
        "  --software KEY    key that signs the manifest\n"
        "  --dir OUTDIR      directory written by dev-chain\n"
        "  --from A          first seq (default 0)\n"
        "  --to B            last seq (default: the last receipt)\n"
        "  OUT.tar           new bundle file; never overwritten\n"},
    {"chain-create", cmd_chain_create,
        "create a chain in a store with a new key (daemon stopped)",
        "--chain NAME --origin ORIGIN [--sealing MODE]\n" ADMIN_SYNOPSIS,
        "  --chain NAME      chain name\n"
        "  --origin ORIGIN   checkpoint origin\n"
        "  --sealing MODE    each (default) or batch\n" ADMIN_OPTIONS},
    {"append", append_either, "append an event (offline with --store)",
        "--chain NAME --type TYPE [--tag TAG]...\n"
        "[DATA | --data-file FILE | -] [--socket PATH]\n"
        "| --chain NAME [--submitter NAME]\n"
        "{--type TYPE [--tag TAG]...\n"
        " [DATA | --data-file FILE | -] | --events FILE}\n" ADMIN_SYNOPSIS,
        "  --chain NAME      chain name\n"
        "  --type TYPE       event type; receiptd.* is reserved\n"
        "  --tag TAG         a tag; repeatable, at most 32\n"
        "  --submitter NAME  submitter (default: the login name; "
        "offline only)\n"
        "  --data-file FILE  the event's JSON data (- is stdin)\n"
        "  DATA              the event's JSON data (offline default: "
        "null)\n"
        "  --events FILE     instead: each line of FILE, a "
        "{\"type\",\"data\",\"tags\"}\n"
        "                    object, in order (- is stdin); stops at "
        "the first\n"
        "                    bad line, keeping the receipts before "
        "it\n"
        "                    (offline only)\n"
        "  Online (no --store), DATA, --data-file or stdin is the data, and\n"
        "  the daemon names the submitter from the caller's "
        "credentials.\n" SOCKET_OPTION ADMIN_OPTIONS},
    {"rotate", rotate_either,
        "rotate a chain to a new key (offline with --store)",
        "--chain NAME --reason TEXT [--operator NAME]\n"
        "[--witness NAME]... [--token-serial SERIAL]\n"
        "[--socket PATH]\n"
        "| (the same) [--admin NAME]\n" ADMIN_SYNOPSIS,
        "  --chain NAME      chain name\n"
        "  --reason TEXT     why the key changes\n"
        "  --operator NAME   who ran the ceremony\n"
        "  --witness NAME    a witness; repeatable, at most 16\n"
        "  --token-serial SERIAL\n"
        "                    serial of the token holding the new key\n"
        "  --admin NAME      submitter (default: the login "
        "name; offline only)\n" SOCKET_OPTION ADMIN_OPTIONS},
    {"revoke", revoke_either,
        "revoke a retired key of a chain (offline with --store)",
        "--chain NAME --kid KID --reason TEXT --effective TS\n"
        "[--socket PATH]\n"
        "| (the same) [--admin NAME]\n" ADMIN_SYNOPSIS,
        "  --chain NAME      chain name\n"
        "  --kid KID         a key the chain rotated away from\n"
        "  --reason TEXT     why it is revoked\n"
        "  --effective TS    its receipts from this time on are invalid\n"
        "  --admin NAME      submitter (default: the login "
        "name; offline only)\n" SOCKET_OPTION ADMIN_OPTIONS},
    {"checkpoint", checkpoint_either,
        "sign a checkpoint (offline with --store: moves the anchor)",
        "--chain NAME [--socket PATH]\n"
        "| --chain NAME " ADMIN_SYNOPSIS,
        "  --chain NAME      chain name\n" SOCKET_OPTION ADMIN_OPTIONS},
    {"keys", keys_either, "print the JWK Set, SPEC 3 (offline with --store)",
        "[--socket PATH] | --store DIR", SOCKET_OPTION ADMIN_STORE_OPTION},
    {"export-chain", cmd_export_chain, "write a stored chain as receipts.jsonl",
        "--chain NAME --store DIR [--out FILE]",
        "  --chain NAME      chain name\n" ADMIN_STORE_OPTION
        "  --out FILE        new file; never overwritten (default: "
        "stdout)\n"},
    {"get", cmd_online_get, "print one receipt, from the daemon",
        "--chain NAME --seq N [--socket PATH]",
        "  --chain NAME      chain name\n"
        "  --seq N           the receipt's seq\n" SOCKET_OPTION},
    {"range", cmd_online_range, "print receipts from a seq, from the daemon",
        "--chain NAME --from N --count K [--socket PATH]",
        "  --chain NAME      chain name\n"
        "  --from N          first seq\n"
        "  --count K         receipts, any number (fewer at the tip); "
        "fetched\n"
        "                    1000 at a time\n" SOCKET_OPTION},
    {"tail", cmd_online_tail, "print the last receipts of a chain",
        "--chain NAME [-n K] [--socket PATH]",
        "  --chain NAME      chain name\n"
        "  -n, --lines K     receipts (default 10)\n" SOCKET_OPTION},
    {"tip", cmd_online_tip, "print a chain's size and last entry_hash",
        "--chain NAME [--socket PATH]",
        "  --chain NAME      chain name\n" SOCKET_OPTION},
    {"prove", cmd_online_prove,
        "print an inclusion or consistency proof and check it here",
        "--chain NAME --seq N [--tree-size N]\n"
        "| --chain NAME --old-size M [--new-size N]\n"
        "[--trust JWKS] [--socket PATH]",
        "  --chain NAME      chain name\n"
        "  --seq N           inclusion of receipt N (SPEC 5)\n"
        "  --tree-size N     in the tree of size N (default: a fresh "
        "one)\n"
        "  --old-size M      consistency of the tree of size M\n"
        "  --new-size N      with the tree of size N (default: a fresh "
        "one)\n"
        "  --trust JWKS      check with these keys, not the "
        "daemon's\n" SOCKET_OPTION},
    {"status", cmd_online_status, "print the daemon's health as JSON",
        "[--socket PATH]", SOCKET_OPTION},
    {"prune", cmd_online_prune,
        "remove the data of receipts older than a time (SPEC 6)",
        "--chain NAME --before TS [--socket PATH]",
        "  --chain NAME      chain name\n"
        "  --before TS       receipts with ts before TS lose their "
        "data\n" SOCKET_OPTION},
    {"export", cmd_online_export,
        "write an evidence bundle (SPEC 7) from the daemon",
        "--chain NAME [--from A] [--to B] --out FILE\n"
        "| --chain NAME [--since TS] [--until TS] --out FILE\n"
        "[--socket PATH]",
        "  --chain NAME      chain name\n"
        "  --from A          first seq (default 0)\n"
        "  --to B            last seq (default: the tip)\n"
        "  --since TS        from the first receipt with ts at or after "
        "TS\n"
        "  --until TS        to the last receipt with ts before TS\n"
        "  --out FILE        new bundle file (mode 0600); never "
        "overwritten\n" SOCKET_OPTION},
    {"anchor-check", cmd_anchor_check,
        "check that the store extends the token's anchor",
        "--chain NAME " ADMIN_SYNOPSIS,
        "  --chain NAME      chain name\n" ADMIN_OPTIONS},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const struct command *
find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

/* Prints "usage: receiptctl NAME SYNOPSIS", wrapping lines under it. */
static void
print_synopsis(FILE *f, const char *lead, const struct command *c)
{
	int indent =
	    (int)(strlen(lead) + strlen("receiptctl ") + strlen(c->name) + 1);
	const char *s = c->synopsis;

	fprintf(f, "%sreceiptctl %s ", lead, c->name);
	for (;;) {
		const char *nl = strchr(s, '\n');

		if (nl == NULL) {
			fprintf(f, "%s\n", s);
			return;
		}
		fprintf(f, "%.*s\n%*s", (int)(nl - s), s, indent, "");
		s = nl + 1;
	}
}

static void
print_overview(FILE *f)
{
	fprintf(f, "usage: receiptctl COMMAND [ARGS]\n"
	           "       receiptctl COMMAND --help\n"
	           "       receiptctl help [COMMAND]\n"
	           "       receiptctl --version\n\n"
	           "Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(
		    f, "  %-14s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nExit status: 0 clean, 1 broken or refused input, "
	           "2 usage or I/O error.\n");
}

void
rcpt_cli_usage(FILE *f, const char *cmd)
{
	const struct command *c = find_command(cmd);

	if (c == NULL) {
		print_overview(f);
		return;
	}
	print_synopsis(f, "usage: ", c);
	fprintf(f, "\n%s.\n", c->summary);
	if (c->options[0] != '\0')
		fprintf(f, "\n%s", c->options);
}

static void vwarn(const char *cmd, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
vwarn(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "receiptctl %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
rcpt_cli_warn(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(cmd, fmt, ap);
	va_end(ap);
}

int
rcpt_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	const struct command *c = find_command(cmd);
	va_list ap;

	va_start(ap, fmt);
	vwarn(cmd, fmt, ap);
	va_end(ap);
	if (c != NULL)
		print_synopsis(stderr, "usage: ", c);
	return RCPT_CLI_EXIT_USAGE;
}

int
rcpt_cli_option_error(const char *cmd, int c, char *argv[])
{
	const char *opt = optind > 0 ? argv[optind - 1] : "?";

	if (c == 'h') {
		rcpt_cli_usage(stdout, cmd);
		return fflush(stdout) == 0 ? RCPT_CLI_EXIT_OK
		                           : RCPT_CLI_EXIT_USAGE;
	}
	if (c == ':')
		return rcpt_cli_usage_error(cmd, "%s: needs an argument", opt);
	return rcpt_cli_usage_error(cmd, "%s: unknown option", opt);
}

int
rcpt_cli_exit_code(int err)
{
	switch (err) {
	case RCPT_OK:
		return RCPT_CLI_EXIT_OK;
	case RCPT_E_INVAL:
	case RCPT_E_PARSE:
	case RCPT_E_TOO_LARGE:
	case RCPT_E_DENIED:
	case RCPT_E_CORRUPT:
	case RCPT_E_BAD_SIGNATURE:
	case RCPT_E_CONFIG:
	case RCPT_E_EXISTS:
	case RCPT_E_PROOF:
	case RCPT_E_ANCHOR:
		return RCPT_CLI_EXIT_BROKEN;
	default:
		/* I/O, missing files, memory, bugs: not a verdict on input. */
		return RCPT_CLI_EXIT_USAGE;
	}
}

int
rcpt_cli_fail(const char *cmd, int err, const struct rcpt_diag *d)
{
	rcpt_cli_warn(cmd, "%s", rcpt_diag_msg(d, err));
	return rcpt_cli_exit_code(err);
}

static const char *
display_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "stdin" : path;
}

int
rcpt_cli_read_file(const char *path, size_t cap, char **out, size_t *len_out,
    struct rcpt_diag *diag)
{
	const char *name = display_name(path);
	struct stat st;
	char *buf = NULL;
	size_t len = 0, size = 0;
	int fd = -1;
	int r = RCPT_E_INTERNAL;

	*out = NULL;
	*len_out = 0;
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		r = errno == ENOENT ? RCPT_E_NOT_FOUND : RCPT_E_IO;
		rcpt_diag(
		    diag, r, "%s: cannot open: %s", name, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1) {
		r = rcpt_diag(diag, RCPT_E_IO, "%s: %s", name, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = rcpt_diag(diag, RCPT_E_IO, "%s: is a directory", name);
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (len == size) {
			/* One byte past the cap tells "too large" apart. */
			size_t want = size == 0 ? 65536 : size * 2;
			char *p;

			if (want > cap + 1)
				want = cap + 1;
			if (want <= len) {
				r = rcpt_diag(diag, RCPT_E_TOO_LARGE,
				    "%s: larger than %zu bytes", name, cap);
				goto out;
			}
			if ((p = rcpt_realloc(buf, want + 1)) == NULL) {
				r = RCPT_E_NOMEM;
				goto out;
			}
			buf = p;
			size = want;
		}
		n = read(fd, buf + len, size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			r = rcpt_diag(diag, RCPT_E_IO, "%s: read: %s", name,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (buf == NULL && (buf = rcpt_malloc(1)) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	buf[len] = '\0';
	*out = buf;
	*len_out = len;
	buf = NULL;
	r = RCPT_OK;
out:
	if (fd > STDIN_FILENO)
		close(fd);
	free(buf);
	return r;
}

int
rcpt_cli_parse_long(const char *s, long min, long max, long *out)
{
	char *end = NULL;
	long v;

	*out = 0;
	/* strtol alone would take " 12", "+12" and "12abc". */
	if (s[0] < '0' || s[0] > '9')
		return RCPT_E_INVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return RCPT_E_INVAL;
	*out = v;
	return RCPT_OK;
}

int
rcpt_cli_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > 64 ? 64 : (int)n;
}

int
rcpt_cli_write_stdout(const void *p, size_t len)
{
	if (len > 0 && fwrite(p, 1, len, stdout) != len)
		return RCPT_E_IO;
	if (fflush(stdout) != 0 || ferror(stdout))
		return RCPT_E_IO;
	return RCPT_OK;
}

int
rcpt_cli_print_key(
    const char *kid, const uint8_t pub[32], struct rcpt_diag *diag)
{
	json_object *jwk = NULL;
	char *text = NULL;
	size_t len = 0;
	int r = RCPT_E_INTERNAL;

	if ((r = rcpt_jwk_from_public(pub, &jwk)) != RCPT_OK)
		goto out;
	if ((r = rcpt_jcs_serialize(jwk, &text, &len, diag)) != RCPT_OK)
		goto out;
	if (printf("%s\n%s\n", kid, text) < 0 || fflush(stdout) != 0) {
		r = rcpt_diag(diag, RCPT_E_IO, "stdout: write failed");
		goto out;
	}
	r = RCPT_OK;
out:
	free(text);
	json_object_put(jwk);
	return r;
}

int
main(int argc, char *argv[])
{
	const struct command *c;

	if (argc < 2) {
		print_overview(stderr);
		return RCPT_CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    (strcmp(argv[1], "help") == 0 && argc == 2)) {
		print_overview(stdout);
		return fflush(stdout) == 0 ? RCPT_CLI_EXIT_OK
		                           : RCPT_CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("receiptctl (%s)\n", PACKAGE_STRING);
		return fflush(stdout) == 0 ? RCPT_CLI_EXIT_OK
		                           : RCPT_CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc > 3 || (c = find_command(argv[2])) == NULL) {
			fprintf(stderr, "receiptctl help: %s\n",
			    argc > 3 ? "takes one command name"
			             : "unknown command");
			print_overview(stderr);
			return RCPT_CLI_EXIT_USAGE;
		}
		rcpt_cli_usage(stdout, c->name);
		return fflush(stdout) == 0 ? RCPT_CLI_EXIT_OK
		                           : RCPT_CLI_EXIT_USAGE;
	}
	if ((c = find_command(argv[1])) == NULL) {
		fprintf(stderr, "receiptctl: unknown command: %s\n", argv[1]);
		print_overview(stderr);
		return RCPT_CLI_EXIT_USAGE;
	}
	return c->fn(argc - 1, argv + 1);
}
