/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `receiptctl canon`: JSON on stdin, its JCS (SPEC 2) on stdout with no
 * trailing newline.  Input is parsed with the same strict I-JSON rules
 * the daemon applies to `data` (SPEC 1.1), so operators can check what a
 * client would be refused before it sends it.  It does not enforce the
 * 1 MiB data limit: that is the daemon's configurable policy.
 *
 * `--stored` is for auditors recomputing a data_hash from a receipt.
 * JCS writes doubles below 1e21 in plain digits, so stored text may hold
 * an integer literal above 2^53 (a client's 1e20 is stored as
 * 100000000000000000000).  SPEC 1.1 refuses such literals from clients;
 * with --stored they are read as the double they print, which is exact
 * for anything JCS produced.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>

#include "cli.h"
#include "jcs.h"
#include "json.h"

#define CANON_MAX_INPUT ((size_t)64 * 1024 * 1024)

int
cmd_canon(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"max-depth", required_argument, NULL, 'd'},
	    {"stored", no_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct rcpt_diag diag = {0};
	char *in = NULL, *out = NULL;
	size_t in_len = 0, out_len = 0;
	long depth = RCPT_JSON_DEPTH_DEFAULT;
	json_object *v = NULL;
	unsigned flags = 0;
	int c, r, ret = RCPT_CLI_EXIT_USAGE;

	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (rcpt_cli_parse_long(optarg, 1, RCPT_JSON_DEPTH_MAX,
			        &depth) != RCPT_OK)
				return rcpt_cli_usage_error(argv[0],
				    "--max-depth: must be an integer from 1 "
				    "to %d",
				    RCPT_JSON_DEPTH_MAX);
			break;
		case 's':
			flags |= RCPT_JSON_BIG_INTS;
			break;
		default:
			return rcpt_cli_option_error(argv[0], c, argv);
		}
	}
	if (optind != argc)
		return rcpt_cli_usage_error(
		    argv[0], "takes no operands; JSON is read from stdin");

	if ((r = rcpt_cli_read_file(
	         "-", CANON_MAX_INPUT, &in, &in_len, &diag)) != RCPT_OK) {
		/* TOO_LARGE gives 1: an oversized input is refused input. */
		ret = rcpt_cli_fail(argv[0], r, &diag);
		goto out;
	}
	if ((r = rcpt_json_parse_ex(
	         in, in_len, (int)depth, NULL, flags, &v, &diag)) != RCPT_OK ||
	    (r = rcpt_jcs_serialize(v, &out, &out_len, &diag)) != RCPT_OK) {
		ret = rcpt_cli_fail(argv[0], r, &diag);
		goto out;
	}
	if (rcpt_cli_write_stdout(out, out_len) != RCPT_OK) {
		rcpt_cli_warn(argv[0], "stdout: write failed");
		ret = RCPT_CLI_EXIT_USAGE;
		goto out;
	}
	ret = RCPT_CLI_EXIT_OK;
out:
	json_object_put(v);
	free(out);
	free(in);
	return ret;
}
