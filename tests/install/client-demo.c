/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Built by .ci/run against an installed libreceiptclient through
 * pkg-config only, to show that the installed header and library are
 * enough: it connects to a socket that is not there and prints the
 * error the library reports.
 */
#include <stdio.h>

#include <receipt/client.h>

int
main(int argc, char *argv[])
{
	struct rcpt_client *c = NULL;
	struct rcpt_diag d = {0};
	int r;

	r = rcpt_client_connect(
	    argc > 1 ? argv[1] : "/nonexistent.sock", &c, &d);
	printf("connect: %s: %s\n", rcpt_strerror(r), d.msg);
	rcpt_client_close(c);
	return r == RCPT_E_IO ? 0 : 1;
}
