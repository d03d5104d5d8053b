/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `receiptctl token-init` and `receiptctl keygen --pkcs11`: a SoftHSM2
 * token for development, and a signing key made on any PKCS#11 token
 * through the keystore's pkcs11 provider plugin.
 *
 * token-init prints where everything went (the SOFTHSM2_CONF to export,
 * the token URI, the PIN file and the provider config string a receiptd
 * config would use) but never a PIN: the PINs stay in their 0600 files.
 * keygen --pkcs11 prints the new key's kid and public JWK, as keygen
 * --software does; the key never leaves the token.  Neither command
 * chooses, activates or rotates keys: that is the daemon's business.
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "hsm/hsm.h"
#include "jwk.h"
#include "keystore/keystore.h"

#define LABEL_DEFAULT  "receiptd"
#define MODULE_DEFAULT "softhsm2"

/* "pkcs11:token=" and @p label, percent-encoded as RFC 7512 asks. */
static void
token_uri(const char *label, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = (size_t)snprintf(out, cap, "pkcs11:token=");

	for (; *label != '\0' && n + 4 <= cap; label++) {
		unsigned char c = (unsigned char)*label;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			out[n++] = (char)c;
		} else {
			out[n++] = '%';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	out[n] = '\0';
}

/* @p dir made absolute against the working directory, into @p out. */
static int
absolute(const char *dir, char *out, size_t cap, struct rcpt_diag *diag)
{
	char cwd[PATH_MAX];
	int n;

	if (dir[0] == '/')
		n = snprintf(out, cap, "%s", dir);
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		return rcpt_diag(diag, RCPT_E_IO,
		    "--softhsm: cannot find the working directory");
	else
		n = snprintf(out, cap, "%s/%s", cwd, dir);
	if (n < 0 || (size_t)n >= cap)
		return rcpt_diag(diag, RCPT_E_INVAL, "--softhsm: too long");
	/* The provider config string has no quoting. */
	if (strpbrk(out, ";\n") != NULL)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "--softhsm: must not contain ';' or a newline");
	return RCPT_OK;
}

int
cmd_token_init(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"softhsm", required_argument, NULL, 's'},
	    {"label", required_argument, NULL, 'l'},
	    {"module", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct rcpt_diag diag = {0};
	const char *dir = NULL, *label = LABEL_DEFAULT;
	const char *module = MODULE_DEFAULT;
	char abs[PATH_MAX], uri[256];
	int c, r;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			dir = optarg;
			break;
		case 'l':
			label = optarg;
			break;
		case 'm':
			module = optarg;
			break;
		default:
			return rcpt_cli_option_error(argv[0], c, argv);
		}
	}
	if (optind != argc)
		return rcpt_cli_usage_error(argv[0], "takes no operands");
	if (dir == NULL)
		return rcpt_cli_usage_error(argv[0],
		    "--softhsm DIR is required (only SoftHSM2 tokens are made "
		    "here)");
	if ((r = absolute(dir, abs, sizeof(abs), &diag)) != RCPT_OK)
		return rcpt_cli_fail(argv[0], r, &diag);
	if (strchr(module, ';') != NULL)
		return rcpt_cli_usage_error(
		    argv[0], "--module: must not contain ';'");

	r = rcpt_hsm_softhsm_init_module(module, abs, label, &diag);
	if (r != RCPT_OK)
		return rcpt_cli_fail(argv[0], r, &diag);
	rcpt_cli_warn(argv[0], "WARNING: a development token; its PINs are "
	                       "plain files");
	token_uri(label, uri, sizeof(uri));
	if (printf("export SOFTHSM2_CONF=%s/softhsm2.conf\n"
	           "token: %s\n"
	           "pin-file: %s/user.pin\n"
	           "so-pin-file: %s/so.pin\n"
	           "provider-config: module=%s;token=%s;pin-file=%s/user.pin\n",
	        abs, uri, abs, abs, module, uri, abs) < 0 ||
	    fflush(stdout) != 0) {
		(void)rcpt_diag(&diag, RCPT_E_IO, "stdout: write failed");
		return rcpt_cli_fail(argv[0], RCPT_E_IO, &diag);
	}
	return RCPT_CLI_EXIT_OK;
}

/* Sends the keystore's messages to stderr as "receiptctl keygen:" lines. */
static void
log_line(void *ctx, int level, const char *msg)
{
	(void)level;
	rcpt_cli_warn(ctx, "%s", msg);
}

/* Loads the pkcs11 plugin, opens it on @p config and makes one key. */
static int
generate(const char *cmd, const char *config, const char *providers_dir,
    struct rcpt_diag *diag)
{
	struct rcpt_ks_opts opts = {.log = log_line, .log_ctx = (void *)cmd};
	struct rcpt_ks_provider *p = NULL;
	uint8_t pub[RCPT_ED25519_PUB_LEN];
	char kid[RCPT_KID_LEN + 1], *handle = NULL;
	int r = RCPT_E_INTERNAL;

	if ((r = rcpt_ks_load("pkcs11", providers_dir, 0, &p, diag)) != RCPT_OK)
		goto out;
	if ((r = rcpt_ks_open(p, config, 0, &opts, diag)) != RCPT_OK)
		goto out;
	/* The provider names the key by its kid; the label is a hint. */
	if ((r = rcpt_ks_generate(p, "receiptd", &handle, pub, kid, diag)) !=
	    RCPT_OK)
		goto out;
	rcpt_cli_warn(cmd, "key %s made on the token as %s", kid, handle);
	r = rcpt_cli_print_key(kid, pub, diag);
out:
	free(handle);
	rcpt_ks_unload(p);
	return r;
}

int
cmd_keygen_pkcs11(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"pkcs11", required_argument, NULL, 'p'},
	    {"providers-dir", required_argument, NULL, 'd'},
	    {"software", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct rcpt_diag diag = {0};
	const char *config = NULL, *dir = NULL;
	int c, r, software = 0;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			config = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 's':
			software = 1;
			break;
		default:
			return rcpt_cli_option_error(argv[0], c, argv);
		}
	}
	if (optind != argc)
		return rcpt_cli_usage_error(argv[0], "takes no operands");
	if (software)
		return rcpt_cli_usage_error(
		    argv[0], "--software and --pkcs11 exclude each other");
	if (config == NULL)
		return rcpt_cli_usage_error(
		    argv[0], "--providers-dir needs --pkcs11 CONFIG");
	if (dir != NULL && dir[0] != '/')
		return rcpt_cli_usage_error(
		    argv[0], "--providers-dir: must be an absolute path");
	if ((r = generate(argv[0], config, dir, &diag)) != RCPT_OK)
		return rcpt_cli_fail(argv[0], r, &diag);
	return RCPT_CLI_EXIT_OK;
}
