/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for RPC framing and request parsing (SPEC 9): the
 * input is what a client wrote to its socket.  It is cut into lines as
 * conn.c's frame() cuts it, and each line is parsed (d_rpc_parse) as
 * two principals with different rights would send it.  Every call must
 * come out either answered, with one JSON-RPC 2.0 response object that
 * carries the request's id (nothing only for a notification), or
 * pending, with params a method may run with: names it takes, the ones
 * it needs, and a chain the caller holds the rights on.  Nothing may
 * crash or leak.  Run with --enable-fuzzing (`make fuzz-run`).  A test
 * harness, so a broken promise traps instead of returning an error.
 *
 * The daemon here is only what rpc.c reads: a fixed configuration and
 * its chains, with no store, token or threads.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "daemon/daemon.h"
#include "daemon/rpc.h"
#include "settings.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Two principals with different rights on two chains, and low limits,
 * so that the fuzzer reaches every refusal of rpc-params.c with short
 * inputs.
 */
static const char conf_text[] =
    "[daemon]\n"
    "socket = /run/receiptd-fuzz/receiptd.sock\n"
    "store = /var/lib/receiptd-fuzz\n"
    "origin = receipts.example/fuzz\n"
    "[provider]\n"
    "name = pkcs11\n"
    "config = module=softhsm2;token=pkcs11:token=fuzz;pin-file=/p\n"
    "[limits]\n"
    "data_max = 1K\n"
    "depth = 16\n"
    "tags = 8\n"
    "[principals]\n"
    "app = uid:1000\n"
    "ops = uid:1001\n"
    "[chain main]\n"
    "append = app\n"
    "read = app, ops\n"
    "admin = ops\n"
    "[chain audit]\n"
    "read = ops\n"
    "admin = ops\n";

/* Built once and kept for the process's life; rpc.c only reads it. */
static struct daemon fake;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rcpt_cfg *cfg = NULL;
	size_t i;

	(void)argc;
	(void)argv;
	if (rcpt_cfg_parse(conf_text, sizeof(conf_text) - 1, "fuzz.conf", "/",
	        &cfg, NULL) != RCPT_OK ||
	    cfg->n_principals != 2 || cfg->n_chains != 2)
		__builtin_trap();
	fake.cfg = cfg;
	fake.n_chains = cfg->n_chains;
	if ((fake.chains = calloc(cfg->n_chains, sizeof(*fake.chains))) == NULL)
		__builtin_trap();
	for (i = 0; i < cfg->n_chains; i++) {
		fake.chains[i].d = &fake;
		fake.chains[i].cfg = &cfg->chains[i];
	}
	return 0;
}

static int
listed(const char *const *names, const char *k)
{
	for (; *names != NULL; names++)
		if (strcmp(*names, k) == 0)
			return 1;
	return 0;
}

/*
 * An answered call: one JSON object (strict JSON, valid UTF-8) with
 * "jsonrpc":"2.0", the call's id, and exactly one of result and error.
 * Parsing never produces a result, and never runs out of memory here,
 * so every error carries one of SPEC 9's codes other than -32603.
 */
static void
check_answer(const struct d_call *c)
{
	struct json_tokener *tok;
	json_object *a, *v, *e = NULL, *code, *msg;
	const char *id;
	char *want;
	size_t n;
	int has_result, has_error;

	if (c->answer == NULL) {
		/* Only a notification goes unanswered. */
		if (c->id != NULL || c->answer_len != 0)
			__builtin_trap();
		return;
	}
	if (c->answer_len == 0 || strlen(c->answer) != c->answer_len ||
	    c->answer_len > D_ANSWER_MAX)
		__builtin_trap();
	if ((tok = json_tokener_new()) == NULL)
		__builtin_trap();
	json_tokener_set_flags(
	    tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	a = json_tokener_parse_ex(tok, c->answer, (int)c->answer_len);
	if (a == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != c->answer_len)
		__builtin_trap();
	json_tokener_free(tok);
	if (!json_object_is_type(a, json_type_object) ||
	    !json_object_object_get_ex(a, "jsonrpc", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "2.0") != 0)
		__builtin_trap();
	has_result = json_object_object_get_ex(a, "result", NULL);
	has_error = json_object_object_get_ex(a, "error", &e);
	if (has_result || !has_error || json_object_object_length(a) != 3)
		__builtin_trap();
	if (!json_object_is_type(e, json_type_object) ||
	    json_object_object_length(e) != 2 ||
	    !json_object_object_get_ex(e, "code", &code) ||
	    !json_object_object_get_ex(e, "message", &msg) ||
	    !json_object_is_type(code, json_type_int) ||
	    !json_object_is_type(msg, json_type_string) ||
	    json_object_get_int64(code) >= -32000 ||
	    json_object_get_int64(code) == -32603)
		__builtin_trap();
	/*
	 * The id comes back as the caller wrote it (its JCS), or null.
	 * Compared as text: json-c does not read every JCS number back
	 * exactly (1e20 is written 100000000000000000000, beyond int64).
	 */
	id = c->id != NULL ? c->id : "null";
	n = strlen(id) + 32;
	if ((want = malloc(n)) == NULL)
		__builtin_trap();
	(void)snprintf(want, n, ",\"id\":%s,\"jsonrpc\":\"2.0\"}", id);
	n = strlen(want);
	if (!json_object_object_get_ex(a, "id", NULL) || c->answer_len < n ||
	    memcmp(c->answer + c->answer_len - n, want, n) != 0)
		__builtin_trap();
	free(want);
	json_object_put(a);
}

/* A call left to run: what its method needs is there and allowed. */
static void
check_pending(const struct d_call *c)
{
	const struct d_method_spec *sp;
	const char *const *q;
	const char *chain;
	json_object *v;

	if ((unsigned)c->method >= D_METHODS_ || c->answer != NULL)
		__builtin_trap();
	sp = d_method_spec(c->method);
	if (c->barrier != sp->barrier)
		__builtin_trap();
	/* keys and status need nothing, so they may come without params. */
	if (c->params == NULL) {
		if (sp->required[0] != NULL)
			__builtin_trap();
	} else {
		if (!json_object_is_type(c->params, json_type_object))
			__builtin_trap();
		json_object_object_foreach(c->params, k, m)
		{
			(void)m;
			if (!listed(sp->params, k))
				__builtin_trap();
		}
		for (q = sp->required; *q != NULL; q++)
			if (!json_object_object_get_ex(c->params, *q, NULL))
				__builtin_trap();
	}
	if (!listed(sp->params, "chain")) {
		if (c->chain != NULL)
			__builtin_trap();
		return;
	}
	if (c->chain == NULL ||
	    !json_object_object_get_ex(c->params, "chain", &v) ||
	    !json_object_is_type(v, json_type_string))
		__builtin_trap();
	chain = json_object_get_string(v);
	if (strcmp(chain, c->chain->cfg->name) != 0 ||
	    !rcpt_cfg_may(fake.cfg, c->chain->cfg, c->principal, sp->rights))
		__builtin_trap();
}

/* Parses one line as @p principal and checks every call it made. */
static void
one_line(const char *line, size_t len, int principal, int batch_no)
{
	struct d_call *head = NULL, *tail = NULL, *c, *next;
	size_t n = 0;

	if (d_rpc_parse(&fake, principal, line, len, batch_no, &head, &tail) !=
	        RCPT_OK ||
	    head == NULL)
		__builtin_trap();
	for (c = head; c != NULL; c = c->next) {
		n++;
		if (c->principal != principal || c->conn != NULL)
			__builtin_trap();
		if (c->state == D_DONE)
			check_answer(c);
		else if (c->state == D_PENDING)
			check_pending(c);
		else
			__builtin_trap();
		if (c->next == NULL && c != tail)
			__builtin_trap();
	}
	/*
	 * A single request (or a refused line) is outside any batch; the
	 * elements of a batch carry its number and only the last ends it.
	 */
	for (c = head; c != NULL; c = next) {
		next = c->next;
		if (c->batch != 0 &&
		    (c->batch != batch_no || c->batch_end != (next == NULL)))
			__builtin_trap();
		if (c->batch == 0 && (n != 1 || c->batch_end))
			__builtin_trap();
		d_call_free(c);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *nl;
	size_t used = 0, n;
	int batch_no = 0;

	/*
	 * As frame() does: every line up to its "\n", and nothing after a
	 * line over D_FRAME_MAX (the connection is answered -32002 and
	 * closed).  frame() keeps a last line without "\n" until the rest
	 * arrives; here it is parsed too, since the parser is the target
	 * and the framing only decides where lines end.
	 */
	while (used < size) {
		nl = memchr(in + used, '\n', size - used);
		n = nl != NULL ? (size_t)(nl - (in + used)) : size - used;
		if (n > D_FRAME_MAX)
			break;
		batch_no++;
		one_line(in + used, n, 0, batch_no);
		one_line(in + used, n, 1, batch_no);
		used += n + (nl != NULL);
	}
	return 0;
}
