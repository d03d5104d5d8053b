/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Events files for receiptctl: one event object a line, as `dev-chain`
 * and `append --events` read them.  This module splits such a file into
 * lines and turns one line into a struct rcpt_chain_event, checking only
 * the shape of the event object (its members and their JSON types) and
 * the reserved type prefix, so that both commands refuse the same lines
 * with the same messages.
 *
 * It does not check what the chain writer checks (type characters, tag
 * lengths, the canonical size of data) nor fill in the submitter or the
 * time: those belong to the command and to chain.c.  It never reads a
 * file itself; callers use rcpt_cli_read_file() with
 * RCPT_CLI_EVENTS_MAX.
 */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "chain.h"
#include "cli.h"
#include "json.h"
#include "receipt.h"

void
rcpt_cli_lines_init(struct rcpt_cli_lines *it, const char *text, size_t len)
{
	memset(it, 0, sizeof(*it));
	it->text = text;
	it->len = len;
}

int
rcpt_cli_lines_next(
    struct rcpt_cli_lines *it, const char **line_out, size_t *len_out)
{
	const char *line, *nl;
	size_t len;

	*line_out = NULL;
	*len_out = 0;
	if (it->pos >= it->len)
		return 0;
	line = it->text + it->pos;
	nl = memchr(line, '\n', it->len - it->pos);
	/* A last line without its newline is still a line. */
	len = nl != NULL ? (size_t)(nl - line) : it->len - it->pos;
	it->pos += len + (nl != NULL);
	it->lineno++;
	*line_out = line;
	*len_out = len;
	return 1;
}

int
rcpt_cli_lines_at_end(const struct rcpt_cli_lines *it)
{
	return it->pos >= it->len;
}

int
rcpt_cli_event_parse(const char *text, size_t len, json_object **doc_out,
    struct rcpt_chain_event *ev_out, struct rcpt_diag *diag)
{
	json_object *doc = NULL, *type = NULL, *tags = NULL, *data = NULL;
	int r = RCPT_E_INTERNAL;

	*doc_out = NULL;
	memset(ev_out, 0, sizeof(*ev_out));
	/* One more level than data may use: the event object itself. */
	if ((r = rcpt_json_parse(text, len, RCPT_JSON_DEPTH_DEFAULT + 1,
	         "event", &doc, diag)) != RCPT_OK)
		goto out;
	if (!json_object_is_type(doc, json_type_object)) {
		r = rcpt_diag(diag, RCPT_E_INVAL, "event: must be an object");
		goto out;
	}
	json_object_object_foreach(doc, name, val)
	{
		(void)val;
		if (strcmp(name, "type") != 0 && strcmp(name, "data") != 0 &&
		    strcmp(name, "tags") != 0) {
			r = rcpt_diag(diag, RCPT_E_INVAL,
			    "event: only type, data and tags are allowed");
			goto out;
		}
	}
	if (!json_object_object_get_ex(doc, "type", &type) ||
	    !json_object_is_type(type, json_type_string)) {
		r = rcpt_diag(
		    diag, RCPT_E_INVAL, "event.type: must be a string");
		goto out;
	}
	if (!json_object_object_get_ex(doc, "data", &data)) {
		r = rcpt_diag(diag, RCPT_E_INVAL, "event.data: missing");
		goto out;
	}
	if (json_object_object_get_ex(doc, "tags", &tags) &&
	    !json_object_is_type(tags, json_type_array)) {
		r = rcpt_diag(diag, RCPT_E_INVAL,
		    "event.tags: must be an array of strings");
		goto out;
	}
	/* Checked last, so that the other rules keep their precedence. */
	if (rcpt_receipt_type_is_reserved(json_object_get_string(type))) {
		r = rcpt_diag(diag, RCPT_E_INVAL,
		    "type: names starting with \"receiptd.\" are reserved "
		    "(SPEC 4)");
		goto out;
	}
	ev_out->type = json_object_get_string(type);
	ev_out->tags = tags;
	ev_out->data = data;
	*doc_out = doc;
	doc = NULL;
	r = RCPT_OK;
out:
	json_object_put(doc);
	return r;
}
