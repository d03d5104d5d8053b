/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libreceiptclient's typed calls (SPEC 9): append (checking the data is
 * I-JSON before it is sent), get, range, tip and checkpoint.  Each
 * builds its params as a json-c tree, runs one exchange (client.c) and
 * checks the shape of the result; none judges the receipts it returns.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "client-int.h"
#include "client.h"
#include "encode.h"
#include "jcs.h"
#include "json.h"
#include "mem.h"
#include "merkle.h"

#define SEQ_LIMIT 9007199254740992ULL /* 2^53: JSON integers stay exact */

static void
clear_out(char **out, size_t *len_out)
{
	if (out != NULL)
		*out = NULL;
	if (len_out != NULL)
		*len_out = 0;
}

/* {"chain": @p chain} plus, when @p seq_name is set, that integer. */
static int
chain_params(const char *chain, const char *seq_name, uint64_t seq,
    json_object **out, struct rcpt_diag *diag)
{
	json_object *p;
	int r;

	*out = NULL;
	if (chain == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "chain: missing");
	if (seq_name != NULL && seq >= SEQ_LIMIT)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "%s: must be below 2^53", seq_name);
	if ((p = json_object_new_object()) == NULL)
		return RCPT_E_NOMEM;
	if ((r = rcpt_json_add(p, "chain", json_object_new_string(chain))) !=
	        RCPT_OK ||
	    (seq_name != NULL &&
	        (r = rcpt_json_add(p, seq_name,
	             json_object_new_int64((int64_t)seq))) != RCPT_OK)) {
		json_object_put(p);
		return r;
	}
	*out = p;
	return RCPT_OK;
}

/* The params of an append: chain, type, data and tags when given. */
static int
event_params(const struct rcpt_client_event *ev, json_object **out,
    struct rcpt_diag *diag)
{
	json_object *p = NULL, *data = NULL, *tags = NULL, *s;
	size_t i;
	int r = RCPT_E_INTERNAL;

	*out = NULL;
	if (ev == NULL || ev->type == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "type: missing");
	if (ev->n_tags > 0 && ev->tags == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "tags: missing");
	/* Refused here, before anything is sent (SPEC 1.1). */
	if (ev->data != NULL &&
	    (r = rcpt_json_parse(ev->data, strlen(ev->data),
	         RCPT_JSON_DEPTH_MAX, "data", &data, diag)) != RCPT_OK)
		return r == RCPT_E_PARSE ? RCPT_E_INVAL : r;
	if ((r = chain_params(ev->chain, NULL, 0, &p, diag)) != RCPT_OK ||
	    (r = rcpt_json_add(p, "type", json_object_new_string(ev->type))) !=
	        RCPT_OK)
		goto out;
	/* json-c stores a NULL value as JSON null; the object takes data. */
	if (json_object_object_add(p, "data", data) != 0) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	data = NULL;
	if (ev->tags != NULL) {
		r = RCPT_E_NOMEM;
		if ((tags = json_object_new_array()) == NULL)
			goto out;
		for (i = 0; i < ev->n_tags; i++) {
			if (ev->tags[i] == NULL) {
				r = rcpt_diag(diag, RCPT_E_INVAL,
				    "tags[%zu]: missing", i);
				goto out;
			}
			s = json_object_new_string(ev->tags[i]);
			/* json_object_array_add takes s when it succeeds. */
			if (s == NULL || json_object_array_add(tags, s) != 0) {
				json_object_put(s);
				r = RCPT_E_NOMEM;
				goto out;
			}
		}
		r = rcpt_json_add(p, "tags", tags); /* takes tags */
		tags = NULL;
		if (r != RCPT_OK)
			goto out;
	}
	*out = p;
	p = NULL;
	r = RCPT_OK;
out:
	json_object_put(tags);
	json_object_put(data);
	json_object_put(p);
	return r;
}

int
rcpt_client_append_send(struct rcpt_client *c,
    const struct rcpt_client_event *ev, uint64_t *id_out,
    struct rcpt_diag *diag)
{
	json_object *p = NULL;
	int r;

	if (id_out != NULL)
		*id_out = 0;
	if ((r = event_params(ev, &p, diag)) == RCPT_OK)
		r = rcpt_client_send_obj(c, "append", p, id_out, diag);
	json_object_put(p);
	return r;
}

int
rcpt_client_append(struct rcpt_client *c, const struct rcpt_client_event *ev,
    char **receipt_out, size_t *len_out, struct rcpt_diag *diag)
{
	json_object *p = NULL, *doc = NULL, *result;
	int r;

	clear_out(receipt_out, len_out);
	if ((r = event_params(ev, &p, diag)) == RCPT_OK &&
	    (r = rcpt_client_exchange(c, "append", p, &doc, &result, diag)) ==
	        RCPT_OK)
		r = json_object_is_type(result, json_type_object)
		        ? rcpt_client_result_text(
		              result, receipt_out, len_out, diag)
		        : rcpt_diag(diag, RCPT_E_PARSE,
		              "append: result is not a receipt object");
	json_object_put(doc);
	json_object_put(p);
	return r;
}

int
rcpt_client_get(struct rcpt_client *c, const char *chain, uint64_t seq,
    char **receipt_out, size_t *len_out, struct rcpt_diag *diag)
{
	json_object *p = NULL, *doc = NULL, *result;
	int r;

	clear_out(receipt_out, len_out);
	if ((r = chain_params(chain, "seq", seq, &p, diag)) == RCPT_OK &&
	    (r = rcpt_client_exchange(c, "get", p, &doc, &result, diag)) ==
	        RCPT_OK)
		r = json_object_is_type(result, json_type_object)
		        ? rcpt_client_result_text(
		              result, receipt_out, len_out, diag)
		        : rcpt_diag(diag, RCPT_E_PARSE,
		              "get: result is not a receipt object");
	json_object_put(doc);
	json_object_put(p);
	return r;
}

/*
 * Appends receipts @p from .. @p from + @p count - 1 to @p out as JCS
 * lines.  When the daemon finds the answer too large for a line
 * (-32002), the range is asked for in halves, down to single receipts.
 */
static int
range_into(struct rcpt_client *c, const char *chain, uint64_t from,
    uint64_t count, struct rcpt_buf *out, uint64_t *n_out,
    struct rcpt_diag *diag)
{
	struct rcpt_diag sub = {0};
	json_object *p = NULL, *doc = NULL, *result, *el;
	uint64_t half, n1 = 0, n2 = 0;
	size_t i, n;
	int r;

	*n_out = 0;
	if ((r = chain_params(chain, "from", from, &p, diag)) != RCPT_OK)
		return r;
	if ((r = rcpt_json_add(
	         p, "count", json_object_new_int64((int64_t)count))) != RCPT_OK)
		goto out;
	r = rcpt_client_exchange(c, "range", p, &doc, &result, &sub);
	if (r == RCPT_E_TOO_LARGE && rcpt_client_last_rpc_code(c) != 0 &&
	    count > 1) {
		half = count / 2;
		r = range_into(c, chain, from, half, out, &n1, diag);
		if (r == RCPT_OK && n1 == half)
			r = range_into(c, chain, from + half, count - half, out,
			    &n2, diag);
		*n_out = n1 + n2;
		goto out;
	}
	if (r != RCPT_OK) {
		(void)rcpt_diag(diag, r, "%s", rcpt_diag_msg(&sub, r));
		goto out;
	}
	if (!json_object_is_type(result, json_type_array) ||
	    (n = json_object_array_length(result)) > count) {
		r = rcpt_diag(diag, RCPT_E_PARSE,
		    "range: result is not an array of at most count receipts");
		goto out;
	}
	for (i = 0; i < n; i++) {
		el = json_object_array_get_idx(result, i);
		if (!json_object_is_type(el, json_type_object)) {
			r = rcpt_diag(diag, RCPT_E_PARSE,
			    "range: result[%zu] is not a receipt object", i);
			goto out;
		}
		if ((r = rcpt_jcs_append(out, el, diag)) != RCPT_OK ||
		    (r = rcpt_buf_append(out, "\n", 1)) != RCPT_OK)
			goto out;
	}
	*n_out = n;
	r = RCPT_OK;
out:
	json_object_put(doc);
	json_object_put(p);
	return r;
}

int
rcpt_client_range(struct rcpt_client *c, const char *chain, uint64_t from,
    uint64_t count, char **lines_out, size_t *len_out, uint64_t *n_out,
    struct rcpt_diag *diag)
{
	struct rcpt_buf buf = {0};
	uint64_t n = 0;
	int r;

	clear_out(lines_out, len_out);
	if (n_out != NULL)
		*n_out = 0;
	if (lines_out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "range: NULL lines_out");
	if (count < 1 || count > RCPT_CLIENT_RANGE_MAX)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "count: must be 1 to %d (SPEC 9)", RCPT_CLIENT_RANGE_MAX);
	if ((r = range_into(c, chain, from, count, &buf, &n, diag)) != RCPT_OK)
		goto out;
	/* An empty answer still hands out a (NUL-terminated) buffer. */
	if (buf.p == NULL && (r = rcpt_buf_append(&buf, "", 0)) != RCPT_OK)
		goto out;
	*lines_out = buf.p;
	if (len_out != NULL)
		*len_out = buf.len;
	if (n_out != NULL)
		*n_out = n;
	buf.p = NULL;
	r = RCPT_OK;
out:
	rcpt_freezero(buf.p, buf.cap);
	return r;
}

int
rcpt_client_tip(struct rcpt_client *c, const char *chain, uint64_t *size_out,
    char hash_out[65], struct rcpt_diag *diag)
{
	uint8_t raw[RCPT_HASH_LEN];
	json_object *p = NULL, *doc = NULL, *result, *size, *hash;
	uint64_t n;
	int r;

	if (size_out != NULL)
		*size_out = 0;
	if (hash_out != NULL)
		hash_out[0] = '\0';
	if ((r = chain_params(chain, NULL, 0, &p, diag)) != RCPT_OK ||
	    (r = rcpt_client_exchange(c, "tip", p, &doc, &result, diag)) !=
	        RCPT_OK)
		goto out;
	if (!json_object_is_type(result, json_type_object) ||
	    !json_object_object_get_ex(result, "size", &size) ||
	    rcpt_json_get_u64(size, &n) != RCPT_OK ||
	    !json_object_object_get_ex(result, "entry_hash", &hash) ||
	    !json_object_is_type(hash, json_type_string) ||
	    rcpt_hex_decode(json_object_get_string(hash),
	        (size_t)json_object_get_string_len(hash), raw,
	        sizeof(raw)) != RCPT_OK) {
		r = rcpt_diag(diag, RCPT_E_PARSE,
		    "tip: result must hold an integer size and a hex "
		    "entry_hash");
		goto out;
	}
	if (size_out != NULL)
		*size_out = n;
	if (hash_out != NULL)
		rcpt_hex_encode(raw, sizeof(raw), hash_out);
out:
	json_object_put(doc);
	json_object_put(p);
	return r;
}

int
rcpt_client_checkpoint(struct rcpt_client *c, const char *chain,
    char **note_out, size_t *len_out, struct rcpt_diag *diag)
{
	json_object *p = NULL, *doc = NULL, *result;
	size_t len;
	int r;

	clear_out(note_out, len_out);
	if (note_out == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "checkpoint: NULL note_out");
	if ((r = chain_params(chain, NULL, 0, &p, diag)) != RCPT_OK ||
	    (r = rcpt_client_exchange(
	         c, "checkpoint", p, &doc, &result, diag)) != RCPT_OK)
		goto out;
	if (!json_object_is_type(result, json_type_string)) {
		r = rcpt_diag(diag, RCPT_E_PARSE,
		    "checkpoint: result is not a note (a string)");
		goto out;
	}
	len = (size_t)json_object_get_string_len(result);
	if ((*note_out = rcpt_strndup(json_object_get_string(result), len)) ==
	    NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	if (len_out != NULL)
		*len_out = len;
out:
	json_object_put(doc);
	json_object_put(p);
	return r;
}
