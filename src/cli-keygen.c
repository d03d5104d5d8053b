/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `receiptctl keygen --software PATH`: creates a development software key
 * (src/softkey.h) and prints its kid and public JWK.  It refuses to
 * overwrite an existing file and warns loudly that such keys are for
 * development and tests only.  It never prints or logs seed bytes.  Token
 * keys (`keygen --pkcs11 CONFIG`) are made in cli-token.c.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "signer.h"
#include "softkey.h"

static void
warn_development(const char *cmd)
{
	rcpt_cli_warn(cmd, "WARNING: software keys are for development and "
	                   "tests only");
	rcpt_cli_warn(cmd, "WARNING: the seed is stored unencrypted; "
	                   "production keys live in a PKCS#11 token");
}

/* Prints "KID\nJWK\n" for the key at @p path. */
static int
print_public(const char *path, struct rcpt_diag *diag)
{
	struct rcpt_softkey *k = NULL;
	struct rcpt_signer s = {0};
	int r;

	if ((r = rcpt_softkey_open(path, &k, diag)) != RCPT_OK)
		return r;
	rcpt_softkey_signer(k, &s);
	r = rcpt_cli_print_key(s.kid, s.pub, diag);
	rcpt_softkey_close(k);
	return r;
}

int
cmd_keygen(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"software", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct rcpt_diag diag = {0};
	const char *path = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		default:
			return rcpt_cli_option_error(argv[0], c, argv);
		}
	}
	if (optind != argc)
		return rcpt_cli_usage_error(argv[0], "takes no operands");
	if (path == NULL)
		return rcpt_cli_usage_error(
		    argv[0], "needs --software PATH or --pkcs11 CONFIG");

	warn_development(argv[0]);
	if ((r = rcpt_softkey_generate(path, &diag)) != RCPT_OK) {
		if (r == RCPT_E_EXISTS) {
			rcpt_cli_warn(argv[0],
			    "%s exists; refusing to overwrite a key", path);
			return RCPT_CLI_EXIT_BROKEN;
		}
		return rcpt_cli_fail(argv[0], r, &diag);
	}
	if ((r = print_public(path, &diag)) != RCPT_OK)
		return rcpt_cli_fail(argv[0], r, &diag);
	return RCPT_CLI_EXIT_OK;
}
