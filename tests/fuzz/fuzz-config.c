/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the configuration reader: any input is accepted
 * or refused with a message, never crashes or leaks, and whatever is
 * accepted prints (rcpt_cfg_print) as a configuration that reads back
 * the same.  Run with --enable-fuzzing (`make fuzz-run`).  A test
 * harness, so a broken promise traps instead of returning an error.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same(const struct rcpt_cfg *a, const struct rcpt_cfg *b)
{
	size_t i;

	if (strcmp(a->socket_path, b->socket_path) != 0 ||
	    strcmp(a->store_path, b->store_path) != 0 ||
	    strcmp(a->origin, b->origin) != 0 ||
	    strcmp(a->provider_config, b->provider_config) != 0 ||
	    a->map_max != b->map_max || a->data_max != b->data_max ||
	    a->n_principals != b->n_principals || a->n_chains != b->n_chains)
		return 0;
	for (i = 0; i < a->n_chains; i++)
		if (strcmp(a->chains[i].name, b->chains[i].name) != 0 ||
		    a->chains[i].retention_n != b->chains[i].retention_n ||
		    a->chains[i].checkpoint_interval_ms !=
		        b->chains[i].checkpoint_interval_ms ||
		    (a->n_principals > 0 &&
		        memcmp(a->chains[i].rights, b->chains[i].rights,
		            a->n_principals * sizeof(unsigned)) != 0))
			return 0;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rcpt_cfg *c = NULL, *again = NULL;
	struct rcpt_diag d;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	rcpt_diag_clear(&d);
	r = rcpt_cfg_parse(
	    (const char *)data, size, "fuzz.conf", "/etc/receiptd", &c, &d);
	if (r != RCPT_OK) {
		/* Every refusal of the text explains itself. */
		if (c != NULL || (r == RCPT_E_CONFIG && !d.set))
			__builtin_trap();
		return 0;
	}
	if (c == NULL || (f = open_memstream(&text, &len)) == NULL)
		__builtin_trap();
	rcpt_cfg_print(c, f);
	if (fclose(f) != 0)
		__builtin_trap();
	if (rcpt_cfg_parse(text, len, "print", "/", &again, NULL) != RCPT_OK ||
	    !same(c, again))
		__builtin_trap();
	rcpt_cfg_free(again);
	rcpt_cfg_free(c);
	free(text);
	return 0;
}
