/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shape of each method's parameters (SPEC 9, 1, 4): types, ranges,
 * the append limits of [limits] (tags, depth, bytes of JCS(data)), and
 * the reserved "receiptd." types.  Meaning (does the seq exist, is the
 * kid retired) is for the methods; these checks only spare the writer
 * requests that cannot succeed, and name the parameter that broke.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/rpc.h"
#include "jcs.h"
#include "json.h"
#include "receipt.h"
#include "ts.h"

/* Shape checks */

static int
json_depth(const json_object *v)
{
	int best = 0, d;
	size_t i, n;

	if (json_object_is_type(v, json_type_array)) {
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			d = json_depth(json_object_array_get_idx(v, i));
			best = d > best ? d : best;
		}
		return best + 1;
	}
	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach((json_object *)v, k, m)
		{
			(void)k;
			d = json_depth(m);
			best = d > best ? d : best;
		}
		return best + 1;
	}
	return 0;
}

static int
want_string(json_object *p, const char *name, struct rcpt_diag *diag)
{
	json_object *v;

	if (json_object_object_get_ex(p, name, &v) &&
	    !json_object_is_type(v, json_type_string))
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "params.%s: must be a string", name);
	return RCPT_OK;
}

static int
want_ts(json_object *p, const char *name, struct rcpt_diag *diag)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(p, name, &v))
		return RCPT_OK;
	s = json_object_get_string(v);
	if (!json_object_is_type(v, json_type_string) ||
	    !rcpt_ts_is_valid(s, strlen(s)))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "params.%s: must be a TS such as 2026-01-31T12:00:00.000Z",
		    name);
	return RCPT_OK;
}

static int
want_u64(const struct d_call *c, const char *name, struct rcpt_diag *diag)
{
	uint64_t u;
	int r = d_param_u64(c, name, 0, &u, diag);

	return r == RCPT_E_NOT_FOUND ? RCPT_OK : r;
}

static int
check_append(
    const struct daemon *d, const struct d_call *c, struct rcpt_diag *diag)
{
	const struct rcpt_cfg *cfg = d->cfg;
	json_object *v = NULL;
	const char *type;
	char *text = NULL;
	size_t len = 0;
	int r, depth;

	if ((r = want_string(c->params, "type", diag)) != RCPT_OK)
		return r;
	type = d_param_str(c, "type");
	if (!rcpt_receipt_type_is_valid(type))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "params.type: must be 1 to 128 characters of "
		    "[A-Za-z0-9._:-]");
	if (rcpt_receipt_type_is_reserved(type))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "params.type: types starting with \"receiptd.\" are "
		    "reserved for the appliance");
	if (json_object_object_get_ex(c->params, "tags", &v)) {
		if (!json_object_is_type(v, json_type_array))
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "params.tags: must be an array of strings");
		if (json_object_array_length(v) > cfg->tags_max)
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "params.tags: more than %zu items", cfg->tags_max);
	}
	json_object_object_get_ex(c->params, "data", &v);
	if ((depth = json_depth(v)) > cfg->depth)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "params.data: nesting depth %d is above the limit of %d",
		    depth, cfg->depth);
	if ((r = rcpt_jcs_serialize(v, &text, &len, NULL)) != RCPT_OK)
		return rcpt_diag(diag, r == RCPT_E_NOMEM ? r : RCPT_E_INVAL,
		    "params.data: cannot be canonicalized");
	free(text);
	if (len > cfg->data_max)
		return rcpt_diag(diag, RCPT_E_TOO_LARGE,
		    "params.data: %zu bytes of JCS is above the limit of %zu",
		    len, cfg->data_max);
	return RCPT_OK;
}

static int
check_ceremony(json_object *p, struct rcpt_diag *diag)
{
	json_object *v, *w;
	size_t i;

	if (!json_object_object_get_ex(p, "ceremony", &v))
		return RCPT_OK;
	if (!json_object_is_type(v, json_type_object))
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "params.ceremony: must be an object");
	json_object_object_foreach(v, k, m)
	{
		if (strcmp(k, "operator") == 0 ||
		    strcmp(k, "token_serial") == 0) {
			if (!json_object_is_type(m, json_type_string))
				return rcpt_diag(diag, RCPT_E_INVAL,
				    "params.ceremony.%s: must be a string", k);
		} else if (strcmp(k, "witnesses") == 0) {
			if (!json_object_is_type(m, json_type_array) ||
			    json_object_array_length(m) >
			        RCPT_CEREMONY_WITNESSES_MAX)
				return rcpt_diag(diag, RCPT_E_INVAL,
				    "params.ceremony.witnesses: must be an "
				    "array of at most %d strings",
				    RCPT_CEREMONY_WITNESSES_MAX);
			for (i = 0; i < json_object_array_length(m); i++) {
				w = json_object_array_get_idx(m, i);
				if (!json_object_is_type(w, json_type_string))
					return rcpt_diag(diag, RCPT_E_INVAL,
					    "params.ceremony.witnesses[%zu]: "
					    "must be a string",
					    i);
			}
		} else
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "params.ceremony: member not allowed (operator, "
			    "witnesses, token_serial)");
	}
	return RCPT_OK;
}

int
d_rpc_check_params(
    const struct daemon *d, const struct d_call *c, struct rcpt_diag *diag)
{
	uint64_t u, v;
	int r = RCPT_OK;

	switch (c->method) {
	case D_APPEND:
		return check_append(d, c, diag);
	case D_GET:
		return d_param_u64(c, "seq", 1, &u, diag);
	case D_RANGE:
		if ((r = d_param_u64(c, "from", 1, &u, diag)) != RCPT_OK ||
		    (r = d_param_u64(c, "count", 1, &v, diag)) != RCPT_OK)
			return r;
		if (v < 1 || v > D_RANGE_MAX)
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "params.count: must be 1 to %d", D_RANGE_MAX);
		return RCPT_OK;
	case D_PROVE_INCLUSION:
		if ((r = d_param_u64(c, "seq", 1, &u, diag)) != RCPT_OK)
			return r;
		return want_u64(c, "tree_size", diag);
	case D_PROVE_CONSISTENCY:
		if ((r = d_param_u64(c, "old_size", 1, &u, diag)) != RCPT_OK)
			return r;
		if (u < 1)
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "params.old_size: must be at least 1");
		return want_u64(c, "new_size", diag);
	case D_ROTATE:
		if ((r = want_string(c->params, "reason", diag)) != RCPT_OK)
			return r;
		return check_ceremony(c->params, diag);
	case D_REVOKE:
		if ((r = want_string(c->params, "kid", diag)) != RCPT_OK ||
		    (r = want_string(c->params, "reason", diag)) != RCPT_OK)
			return r;
		return want_ts(c->params, "effective", diag);
	case D_PRUNE:
		return want_ts(c->params, "before", diag);
	case D_EXPORT:
		if ((r = d_param_u64(c, "from", 1, &u, diag)) != RCPT_OK ||
		    (r = d_param_u64(c, "to", 1, &v, diag)) != RCPT_OK)
			return r;
		if (u > v)
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "params.to: must not be below params.from");
		return RCPT_OK;
	default:
		return RCPT_OK;
	}
}
