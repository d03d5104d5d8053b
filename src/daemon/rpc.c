/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request parsing and answer building for SPEC 9; see rpc.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/rpc.h"
#include "jcs.h"
#include "json.h"
#include "mem.h"
#include "receipt.h"
#include "ts.h"

#define A(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE   ((const char *const[]){NULL})

static const struct d_method_spec specs[D_METHODS_] = {
    [D_APPEND] = {"append", RCPT_RIGHT_APPEND, 0, 1,
        A("chain", "type", "data", "tags"), A("chain", "type", "data")},
    [D_GET] = {"get", RCPT_RIGHT_READ, 1, 0, A("chain", "seq"),
        A("chain", "seq")},
    [D_RANGE] = {"range", RCPT_RIGHT_READ, 1, 0, A("chain", "from", "count"),
        A("chain", "from", "count")},
    [D_TIP] = {"tip", RCPT_RIGHT_READ, 1, 0, A("chain"), A("chain")},
    [D_CHECKPOINT] = {"checkpoint", RCPT_RIGHT_READ, 1, 1, A("chain"),
        A("chain")},
    [D_PROVE_INCLUSION] = {"prove_inclusion", RCPT_RIGHT_READ, 1, 1,
        A("chain", "seq", "tree_size"), A("chain", "seq")},
    [D_PROVE_CONSISTENCY] = {"prove_consistency", RCPT_RIGHT_READ, 1, 1,
        A("chain", "old_size", "new_size"), A("chain", "old_size")},
    [D_KEYS] = {"keys", 0, 1, 0, NONE, NONE},
    [D_STATUS] = {"status", 0, 1, 0, NONE, NONE},
    [D_ROTATE] = {"rotate", RCPT_RIGHT_ADMIN, 1, 1,
        A("chain", "reason", "ceremony"), A("chain", "reason")},
    [D_REVOKE] = {"revoke", RCPT_RIGHT_ADMIN, 1, 1,
        A("chain", "kid", "reason", "effective"),
        A("chain", "kid", "reason", "effective")},
    [D_PRUNE] = {"prune", RCPT_RIGHT_ADMIN, 1, 1, A("chain", "before"),
        A("chain", "before")},
    [D_EXPORT] = {"export", RCPT_RIGHT_READ, 1, 1, A("chain", "from", "to"),
        A("chain", "from", "to")},
};

const struct d_method_spec *
d_method_spec(enum d_method m)
{
	return &specs[m];
}

static const char out_of_memory[] =
    "{\"error\":{\"code\":-32603,\"message\":\"out of memory\"},"
    "\"id\":null,\"jsonrpc\":\"2.0\"}";
static const char unauthorized[] =
    "{\"error\":{\"code\":-32001,\"message\":\"not authorized\"},"
    "\"id\":null,\"jsonrpc\":\"2.0\"}";
static const char too_large[] =
    "{\"error\":{\"code\":-32002,\"message\":\"request line longer than "
    "2 MiB; closing the connection\"},\"id\":null,\"jsonrpc\":\"2.0\"}";

const char *
d_rpc_unauthorized(void)
{
	return unauthorized;
}

const char *
d_rpc_too_large(void)
{
	return too_large;
}

void
d_call_free(struct d_call *c)
{
	if (c == NULL)
		return;
	free(c->id);
	json_object_put(c->params);
	if (!c->answer_static)
		free(c->answer);
	free(c);
}

/* Drops @p c's answer, whatever it was. */
static void
answer_clear(struct d_call *c)
{
	if (!c->answer_static)
		free(c->answer);
	c->answer = NULL;
	c->answer_len = 0;
	c->answer_static = 0;
}

/*
 * Out of memory while answering: a fixed answer, so the caller is never
 * left waiting (its id is lost; that is the lesser harm).
 */
static void
answer_oom(struct d_call *c)
{
	answer_clear(c);
	c->answer = (char *)out_of_memory;
	c->answer_len = sizeof(out_of_memory) - 1;
	c->answer_static = 1;
}

/* Answers */

/* "{\"id\":ID,\"jsonrpc\":\"2.0\",\"result\":" + text + "}" */
int
d_answer_raw(struct d_call *c, const char *text, size_t len)
{
	static const char mid[] = ",\"jsonrpc\":\"2.0\",\"result\":";
	const char *id = c->id != NULL ? c->id : "null";
	size_t idl = strlen(id), n = 6 + idl + sizeof(mid) - 1 + len + 1;
	char *p;

	answer_clear(c);
	if (c->id == NULL)
		return RCPT_OK; /* a notification is never answered */
	if ((p = rcpt_malloc(n + 1)) == NULL) {
		answer_oom(c);
		return RCPT_E_NOMEM;
	}
	memcpy(p, "{\"id\":", 6);
	memcpy(p + 6, id, idl);
	memcpy(p + 6 + idl, mid, sizeof(mid) - 1);
	memcpy(p + 6 + idl + sizeof(mid) - 1, text, len);
	p[n - 1] = '}';
	p[n] = '\0';
	c->answer = p;
	c->answer_len = n;
	return RCPT_OK;
}

int
d_answer_json(struct d_call *c, json_object *v)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	r = rcpt_jcs_serialize(v, &text, &len, NULL);
	json_object_put(v);
	if (r == RCPT_OK)
		r = d_answer_raw(c, text, len);
	free(text);
	if (r != RCPT_OK)
		d_answer_error(c, -32603, "internal error: answer not built");
	return r;
}

void
d_answer_error(struct d_call *c, int code, const char *msg)
{
	json_object *o = json_object_new_object(),
	            *e = json_object_new_object();
	char *text = NULL, *p;
	const char *id = c->id != NULL ? c->id : "null";
	size_t len = 0, idl = strlen(id);

	answer_clear(c);
	/*
	 * A notification is never answered, but a request too broken to
	 * tell whether it was one gets its error with id null (JSON-RPC 2.0
	 * section 5).
	 */
	if (c->id == NULL && code != -32600 && code != -32700)
		goto out;
	if (o == NULL || e == NULL ||
	    rcpt_json_add(e, "code", json_object_new_double(code)) != RCPT_OK ||
	    rcpt_json_add(e, "message", json_object_new_string(msg)) !=
	        RCPT_OK ||
	    rcpt_json_add(o, "error", json_object_get(e)) != RCPT_OK ||
	    rcpt_jcs_serialize(o, &text, &len, NULL) != RCPT_OK) {
		answer_oom(c);
		goto out;
	}
	/* text is {"error":{...}}; splice the id and version before "}". */
	if ((p = rcpt_malloc(len + idl + 32)) == NULL) {
		answer_oom(c);
		goto out;
	}
	memcpy(p, text, len - 1);
	c->answer_len =
	    len - 1 +
	    (size_t)sprintf(p + len - 1, ",\"id\":%s,\"jsonrpc\":\"2.0\"}", id);
	c->answer = p;
out:
	free(text);
	json_object_put(e);
	json_object_put(o);
}

void
d_answer_err(struct d_call *c, int r, const struct rcpt_diag *diag)
{
	d_answer_error(c, rcpt_err_rpc_code(r), rcpt_diag_msg(diag, r));
}

/* Parameters */

const char *
d_param_str(const struct d_call *c, const char *name)
{
	json_object *v;

	if (c->params == NULL ||
	    !json_object_object_get_ex(c->params, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int
d_param_u64(const struct d_call *c, const char *name, int required,
    uint64_t *out, struct rcpt_diag *diag)
{
	json_object *v = NULL;

	*out = 0;
	if (c->params == NULL ||
	    !json_object_object_get_ex(c->params, name, &v))
		return required ? rcpt_diag(diag, RCPT_E_INVAL,
		                      "params.%s: required", name)
		                : RCPT_E_NOT_FOUND;
	if (rcpt_json_get_u64(v, out) != RCPT_OK)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "params.%s: must be an integer from 0 to 2^53", name);
	return RCPT_OK;
}

static int
listed(const char *const *names, const char *k)
{
	for (; *names != NULL; names++)
		if (strcmp(*names, k) == 0)
			return 1;
	return 0;
}

static struct d_chain *
find_chain(struct daemon *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->n_chains; i++)
		if (strcmp(d->chains[i].cfg->name, name) == 0)
			return &d->chains[i];
	return NULL;
}

static const char *
right_text(unsigned rights)
{
	if (rights & RCPT_RIGHT_APPEND)
		return "append to";
	if (rights & RCPT_RIGHT_ADMIN)
		return "administer";
	return "read";
}

/* Checks params against the method's list, then chain and rights. */
static void
check_call(struct daemon *d, struct d_call *c, json_object *params)
{
	const struct d_method_spec *sp = &specs[c->method];
	const char *const *q;
	const char *chain;
	struct rcpt_diag diag = {0};
	char msg[sizeof(diag.msg) + 64];
	int r;

	if (params != NULL && !json_object_is_type(params, json_type_object)) {
		d_answer_error(c, -32602,
		    "params: must be an object (parameters are passed by "
		    "name)");
		return;
	}
	c->params = json_object_get(params);
	if (params != NULL) {
		json_object_object_foreach(params, k, v)
		{
			(void)v;
			if (listed(sp->params, k))
				continue;
			if (strcmp(k, "submitter") == 0)
				snprintf(msg, sizeof(msg),
				    "params.submitter: not accepted; the "
				    "submitter is the authenticated caller");
			else
				snprintf(msg, sizeof(msg),
				    "params: method %s takes no parameter "
				    "named \"%.64s\"",
				    sp->name, k);
			d_answer_error(c, -32602, msg);
			return;
		}
	}
	for (q = sp->required; *q != NULL; q++)
		if (params == NULL ||
		    !json_object_object_get_ex(params, *q, NULL)) {
			snprintf(msg, sizeof(msg), "params.%s: required", *q);
			d_answer_error(c, -32602, msg);
			return;
		}
	if (listed(sp->params, "chain")) {
		chain = d_param_str(c, "chain");
		if (chain == NULL || !rcpt_receipt_chain_is_valid(chain)) {
			d_answer_error(c, -32602,
			    "params.chain: must be a string matching "
			    "^[a-z0-9][a-z0-9._-]{0,63}$");
			return;
		}
		if ((c->chain = find_chain(d, chain)) == NULL) {
			d_answer_error(
			    c, -32005, "params.chain: no such chain");
			return;
		}
		/* Rights as configured now (SIGHUP may have changed them). */
		if (!rcpt_cfg_may(d->cfg, rcpt_cfg_chain(d->cfg, chain),
		        c->principal, sp->rights)) {
			snprintf(msg, sizeof(msg),
			    "not authorized: principal %s may not %s chain %s",
			    d->cfg->principals[c->principal].name,
			    right_text(sp->rights), chain);
			d_answer_error(c, -32001, msg);
			return;
		}
	}
	if ((r = d_rpc_check_params(d, c, &diag)) != RCPT_OK) {
		d_answer_err(c, r, &diag);
		return;
	}
	c->state = D_PENDING;
	c->barrier = sp->barrier;
}

/* Takes the id of a request; 0 when it is not a valid one. */
static int
take_id(json_object *req, struct d_call *c)
{
	json_object *id;
	size_t len;

	if (!json_object_object_get_ex(req, "id", &id))
		return 1; /* a notification */
	if (id != NULL && !json_object_is_type(id, json_type_string) &&
	    !json_object_is_type(id, json_type_double) &&
	    !json_object_is_type(id, json_type_int))
		return 0;
	if (rcpt_jcs_serialize(id, &c->id, &len, NULL) != RCPT_OK) {
		c->id = NULL;
		return 0;
	}
	return 1;
}

static struct d_call *
new_call(const struct daemon *d, int principal, int batch_no)
{
	struct d_call *c = rcpt_calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->principal = principal;
	if (principal >= 0 && (size_t)principal < d->cfg->n_principals)
		c->who = d->cfg->principals[principal].name;
	c->batch = batch_no;
	c->state = D_DONE; /* until check_call accepts it */
	c->barrier = 1;
	return c;
}

/* One request object (or a batch element) into @p c. */
static void
one_request(struct daemon *d, json_object *req, struct d_call *c)
{
	json_object *v, *params = NULL;
	const char *m;
	char msg[160];
	int i, have_version = 0, have_method = 0;

	if (!json_object_is_type(req, json_type_object)) {
		c->id = rcpt_strdup("null");
		d_answer_error(c, -32600, "request: must be a JSON object");
		return;
	}
	if (!take_id(req, c)) {
		c->id = rcpt_strdup("null");
		d_answer_error(
		    c, -32600, "id: must be a string, a number or null");
		return;
	}
	json_object_object_foreach(req, k, mv)
	{
		if (strcmp(k, "jsonrpc") == 0) {
			if (!json_object_is_type(mv, json_type_string) ||
			    strcmp(json_object_get_string(mv), "2.0") != 0) {
				d_answer_error(
				    c, -32600, "jsonrpc: must be \"2.0\"");
				return;
			}
			have_version = 1;
		} else if (strcmp(k, "method") == 0) {
			if (!json_object_is_type(mv, json_type_string)) {
				d_answer_error(
				    c, -32600, "method: must be a string");
				return;
			}
			have_method = 1;
		} else if (strcmp(k, "params") == 0) {
			params = mv;
			if (params == NULL) {
				d_answer_error(c, -32602,
				    "params: must be an object (parameters "
				    "are passed by name)");
				return;
			}
		} else if (strcmp(k, "id") != 0) {
			snprintf(msg, sizeof(msg),
			    "request: \"%.40s\" is not a JSON-RPC 2.0 member",
			    k);
			d_answer_error(c, -32600, msg);
			return;
		}
	}
	if (!have_version || !have_method) {
		d_answer_error(c, -32600,
		    have_version ? "method: required" : "jsonrpc: required");
		return;
	}
	json_object_object_get_ex(req, "method", &v);
	m = json_object_get_string(v);
	for (i = 0; i < D_METHODS_; i++)
		if (strcmp(specs[i].name, m) == 0)
			break;
	if (i == D_METHODS_) {
		d_answer_error(c, -32601, "method: no such method");
		return;
	}
	c->method = (enum d_method)i;
	check_call(d, c, params);
}

/*
 * The strict parse failed: find the id with json-c's lenient parser
 * so that the caller can match the error.  *notification is set when
 * the text is an object without "id": that request is never answered.
 * NULL when no usable id was found.
 */
static char *
recover_id(const char *line, size_t len, int *notification)
{
	struct json_tokener *tok = json_tokener_new_ex(RCPT_JSON_DEPTH_MAX + 8);
	json_object *v = NULL, *id;
	char *out = NULL;
	size_t n;

	*notification = 0;
	if (tok == NULL || len > (size_t)INT32_MAX)
		goto out;
	v = json_tokener_parse_ex(tok, line, (int)len);
	if (v == NULL || !json_object_is_type(v, json_type_object))
		goto out;
	if (!json_object_object_get_ex(v, "id", &id)) {
		*notification = 1;
		goto out;
	}
	if (id != NULL &&
	    (json_object_is_type(id, json_type_string) ||
	        (json_object_is_type(id, json_type_int) &&
	            json_object_get_int64(id) <= (int64_t)1 << 53 &&
	            json_object_get_int64(id) >= -((int64_t)1 << 53))))
		if (rcpt_jcs_serialize(id, &out, &n, NULL) != RCPT_OK)
			out = NULL;
out:
	json_object_put(v);
	if (tok != NULL)
		json_tokener_free(tok);
	return out;
}

/*
 * Where a text nests deepest first passes @p limit: "params.<name>" or
 * "<name>" of the members enclosing that point, for the message (the
 * parser's own path keeps only the innermost steps of a deep one).
 * Only brackets outside strings count.
 */
static void
deep_where(const char *s, size_t len, int limit, char *out, size_t cap)
{
	char names[2][48] = {"", ""};
	int depth = 0, in_str = 0, esc = 0;
	size_t i, k, start = 0, n;

	snprintf(out, cap, "request");
	for (i = 0; i < len; i++) {
		if (in_str) {
			if (esc)
				esc = 0;
			else if (s[i] == '\\')
				esc = 1;
			else if (s[i] == '"') {
				in_str = 0;
				/* A member name of the request or of params. */
				n = i - start;
				k = i + 1;
				while (
				    k < len && (s[k] == ' ' || s[k] == '\t' ||
				                   s[k] == '\r'))
					k++;
				if ((depth == 1 || depth == 2) && k < len &&
				    s[k] == ':' && n < sizeof(names[0])) {
					memcpy(names[depth - 1], s + start, n);
					names[depth - 1][n] = '\0';
				}
			}
			continue;
		}
		if (s[i] == '"') {
			in_str = 1;
			start = i + 1;
		} else if (s[i] == '{' || s[i] == '[') {
			if (++depth > limit) {
				if (strcmp(names[0], "params") == 0 &&
				    names[1][0])
					snprintf(
					    out, cap, "params.%s", names[1]);
				else if (names[0][0] != '\0')
					snprintf(out, cap, "%s", names[0]);
				return;
			}
		} else if (s[i] == '}' || s[i] == ']')
			depth--;
	}
}

/* The text broke the grammar or an I-JSON rule. */
static void
bad_text(const struct daemon *d, struct d_call *c, const char *line, size_t len,
    int depth, int r, const struct rcpt_diag *diag)
{
	const char *msg = rcpt_diag_msg(diag, r);
	char buf[sizeof(diag->msg) + 80];
	int notification = 0;

	if (r == RCPT_E_PARSE) {
		c->id = rcpt_strdup("null");
		snprintf(buf, sizeof(buf), "parse error: %s", msg);
		d_answer_error(c, -32700, buf);
		return;
	}
	c->id = recover_id(line, len, &notification);
	if (c->id == NULL && !notification)
		c->id = rcpt_strdup("null");
	if (strncmp(msg, "$.", 2) == 0)
		msg += 2;
	if (r == RCPT_E_TOO_LARGE) {
		char where[128];

		deep_where(line, len, depth, where, sizeof(where));
		if (strcmp(where, "params.data") == 0)
			snprintf(buf, sizeof(buf),
			    "params.data: nesting deeper than the limit of %d",
			    d->cfg->depth);
		else
			snprintf(
			    buf, sizeof(buf), "%s: nesting too deep", where);
		msg = buf;
	} else
		snprintf(buf, sizeof(buf), "%s", msg);
	/* A batch element's path starts with its index. */
	if (msg[0] == '[')
		msg += strspn(msg, "[0123456789]");
	if (msg[0] == '.')
		msg++;
	d_answer_error(
	    c, strncmp(msg, "params", 6) == 0 ? -32602 : -32600, buf);
}

static void
push(struct d_call **head, struct d_call **tail, struct d_call *c)
{
	c->next = NULL;
	if (*tail != NULL)
		(*tail)->next = c;
	else
		*head = c;
	*tail = c;
}

int
d_rpc_parse(struct daemon *d, int principal, const char *line, size_t len,
    int batch_no, struct d_call **head, struct d_call **tail)
{
	struct d_call *h = NULL, *t = NULL, *c, *n;
	json_object *v = NULL;
	struct rcpt_diag diag = {0};
	int depth = d->cfg->depth + 3, r;
	size_t i, k;

	if (depth > RCPT_JSON_DEPTH_MAX + 3)
		depth = RCPT_JSON_DEPTH_MAX + 3;
	r = rcpt_json_parse(line, len, depth, "", &v, &diag);
	if (r != RCPT_OK || !json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) == 0) {
		if ((c = new_call(d, principal, 0)) == NULL)
			goto nomem;
		if (r == RCPT_E_NOMEM) {
			c->id = rcpt_strdup("null");
			d_answer_error(c, -32603, "out of memory");
		} else if (r != RCPT_OK)
			bad_text(d, c, line, len, depth, r, &diag);
		else if (json_object_is_type(v, json_type_array)) {
			c->id = rcpt_strdup("null");
			d_answer_error(c, -32600, "batch: must not be empty");
		} else
			one_request(d, v, c);
		push(&h, &t, c);
	} else if (json_object_array_length(v) > D_CONN_CALLS) {
		/* Each element's answer is held until the batch is done. */
		if ((c = new_call(d, principal, 0)) == NULL)
			goto nomem;
		c->id = rcpt_strdup("null");
		d_answer_error(c, -32600, "batch: more than 1024 requests");
		push(&h, &t, c);
	} else {
		k = json_object_array_length(v);
		for (i = 0; i < k; i++) {
			if ((c = new_call(d, principal, batch_no)) == NULL)
				goto nomem;
			one_request(d, json_object_array_get_idx(v, i), c);
			c->batch_end = i + 1 == k;
			push(&h, &t, c);
		}
	}
	json_object_put(v);
	if (*tail != NULL)
		(*tail)->next = h;
	else
		*head = h;
	*tail = t;
	return RCPT_OK;
nomem:
	json_object_put(v);
	for (c = h; c != NULL; c = n) {
		n = c->next;
		d_call_free(c);
	}
	return RCPT_E_NOMEM;
}
