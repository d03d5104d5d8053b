/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the strict parser and JCS: whatever is accepted
 * must canonicalize to a text that is its own canonical form.  Run with
 * --enable-fuzzing (`make fuzz-run`).  A test
 * harness, so a mismatch traps instead of returning an error.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jcs.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rcpt_diag d;
	json_object *v = NULL;
	char *once = NULL, *twice = NULL;
	size_t once_len = 0, twice_len = 0;
	int r;

	rcpt_diag_clear(&d);
	r = rcpt_jcs_canon((const char *)data, size, RCPT_JSON_DEPTH_MAX, &once,
	    &once_len, &d);
	if (r != RCPT_OK) {
		/* Every refusal explains itself and leaves nothing behind. */
		if (once != NULL || !d.set)
			__builtin_trap();
		return 0;
	}
	if (once == NULL || strlen(once) != once_len)
		__builtin_trap();
	/* Canonical text may hold integers beyond 2^53 (1e20 is written
	 * out in full), so the second pass reads it as stored text. */
	if (rcpt_json_parse_ex(once, once_len, RCPT_JSON_DEPTH_MAX, NULL,
	        RCPT_JSON_BIG_INTS, &v, NULL) != RCPT_OK)
		__builtin_trap();
	r = rcpt_jcs_serialize(v, &twice, &twice_len, NULL);
	json_object_put(v);
	if (r != RCPT_OK)
		__builtin_trap();
	if (twice_len != once_len || memcmp(once, twice, once_len) != 0)
		__builtin_trap();
	free(twice);
	free(once);
	return 0;
}
