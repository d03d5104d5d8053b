/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test helper for jcs-diff.sh: reads one JSON text on standard input and
 * writes its JCS form (rcpt_jcs_canon) to standard output, without a
 * newline.  On refusal it prints the diag message and exits 1.  Not
 * installed; receiptctl canon is the user-facing command.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "jcs.h"
#include "json.h"
#include "mem.h"

#define INPUT_MAX (64u << 20)

int
main(void)
{
	struct rcpt_diag d;
	char *in = NULL, *out = NULL, *p;
	size_t len = 0, cap = 0, n, out_len = 0;
	int r;

	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			if (cap > INPUT_MAX || (p = realloc(in, cap)) == NULL) {
				fprintf(stderr, "jcs-canon-driver: input too "
				                "large\n");
				free(in);
				return 1;
			}
			in = p;
		}
		n = fread(in + len, 1, cap - len, stdin);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(stdin)) {
		fprintf(stderr, "jcs-canon-driver: read error\n");
		free(in);
		return 1;
	}
	rcpt_diag_clear(&d);
	r = rcpt_jcs_canon(
	    in, len, RCPT_JSON_DEPTH_DEFAULT, &out, &out_len, &d);
	free(in);
	if (r != RCPT_OK) {
		fprintf(stderr, "jcs-canon-driver: %s\n", rcpt_diag_msg(&d, r));
		return 1;
	}
	if (fwrite(out, 1, out_len, stdout) != out_len || fflush(stdout) != 0) {
		fprintf(stderr, "jcs-canon-driver: write error\n");
		free(out);
		return 1;
	}
	free(out);
	return 0;
}
