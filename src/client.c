/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libreceiptclient's connection to receiptd (SPEC 9): framing of
 * newline-delimited JSON-RPC 2.0 over a Unix stream socket, request ids
 * and the order of answers, and the mapping of JSON-RPC errors to
 * RCPT_E_*.  The typed calls built on them are in client-calls.c,
 * exporting a bundle in client-export.c.
 *
 * Requests are built as json-c trees and written as JCS; answers are
 * parsed strictly (I-JSON, with integer literals beyond 2^53 allowed,
 * since stored receipts may hold them) and results handed out as JCS
 * again.  Answer lines are capped at RCPT_CLIENT_LINE_MAX like requests,
 * and nested at most RCPT_JSON_DEPTH_MAX deep, which leaves a receipt's
 * data 253 levels inside a range answer.
 *
 * It keeps no answer queue: ids are sequential and SPEC 9 answers in
 * request order, so the answer expected next always belongs to id
 * next_id - pending.  It does not judge receipts: verifying what the
 * daemon sends is the caller's business (verify.h).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <json-c/json.h>

#include "client-int.h"
#include "client.h"
#include "jcs.h"
#include "json.h"
#include "mem.h"

#define READ_CHUNK   ((size_t)64 * 1024)
#define ENV_SOCKET   "RECEIPTD_SOCKET"
#define ANSWER_DEPTH RCPT_JSON_DEPTH_MAX

struct rcpt_client {
	int fd;
	int broken;        /* a transport failure: no further use */
	int last_rpc_code; /* of the last answer read, 0 unless an error */
	uint64_t next_id;  /* id of the next request, from 1 */
	size_t pending;    /* requests sent whose answers are unread */
	char *in;          /* received bytes; the unread ones from in_off */
	size_t in_off;
	size_t in_len;
	size_t in_cap;
	size_t scanned; /* bytes from in_off known to hold no "\n" */
};

/* Marks @p c unusable after a transport failure; returns @p err. */
static int
fail(struct rcpt_client *c, int err)
{
	c->broken = 1;
	return err;
}

static int
usable(const struct rcpt_client *c, struct rcpt_diag *diag)
{
	if (c == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "client: NULL connection");
	if (c->broken)
		return rcpt_diag(diag, RCPT_E_IO,
		    "client: connection unusable after an earlier failure; "
		    "reconnect");
	return RCPT_OK;
}

int
rcpt_client_connect(
    const char *path, struct rcpt_client **out, struct rcpt_diag *diag)
{
	struct sockaddr_un sa;
	struct rcpt_client *c = NULL;
	const char *env;
	size_t n;
	int r = RCPT_E_INTERNAL;

	if (out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "client: NULL out");
	*out = NULL;
	if (path == NULL) {
		/* secure_getenv: a set-id caller must not be redirected. */
		env = secure_getenv(ENV_SOCKET);
		path = env != NULL && env[0] != '\0'
		           ? env
		           : RCPT_CLIENT_SOCKET_DEFAULT;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	n = strlen(path);
	if (n == 0 || n >= sizeof(sa.sun_path))
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "socket: path must be 1 to %zu bytes",
		    sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, n + 1);
	if ((c = rcpt_calloc(1, sizeof(*c))) == NULL)
		return RCPT_E_NOMEM;
	c->fd = -1;
	c->next_id = 1;
	if ((c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		r = rcpt_diag(diag, RCPT_E_IO, "socket: %s", strerror(errno));
		goto out;
	}
	if (connect(c->fd, (const struct sockaddr *)&sa, sizeof(sa)) == -1) {
		r = rcpt_diag(diag, RCPT_E_IO, "%s: cannot connect: %s%s", path,
		    strerror(errno),
		    errno == ENOENT || errno == ECONNREFUSED
		        ? " (is receiptd running?)"
		        : "");
		goto out;
	}
	*out = c;
	c = NULL;
	r = RCPT_OK;
out:
	rcpt_client_close(c);
	return r;
}

void
rcpt_client_close(struct rcpt_client *c)
{
	if (c == NULL)
		return;
	if (c->fd != -1)
		close(c->fd);
	/* Answers may hold receipts' data: wipe them with the buffer. */
	rcpt_freezero(c->in, c->in_cap);
	free(c);
}

int
rcpt_client_last_rpc_code(const struct rcpt_client *c)
{
	return c != NULL ? c->last_rpc_code : 0;
}

size_t
rcpt_client_pending(const struct rcpt_client *c)
{
	return c != NULL ? c->pending : 0;
}

/* Framing */

static int
send_all(struct rcpt_client *c, const char *p, size_t n, struct rcpt_diag *diag)
{
	ssize_t w;

	while (n > 0) {
		w = send(c->fd, p, n, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return fail(
			    c, rcpt_diag(diag, RCPT_E_IO, "send: %s",
			           w == 0 ? "no progress" : strerror(errno)));
		p += w;
		n -= (size_t)w;
	}
	return RCPT_OK;
}

/* Makes room to read: drops consumed bytes, grows up to one full line. */
static int
make_room(struct rcpt_client *c)
{
	size_t want;
	char *p;

	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	if (c->in_len < c->in_cap)
		return RCPT_OK;
	/* A line, its "\n" and nothing more is all that need be held. */
	want = c->in_cap == 0 ? READ_CHUNK : c->in_cap * 2;
	if (want > RCPT_CLIENT_LINE_MAX + 1)
		want = RCPT_CLIENT_LINE_MAX + 1;
	if ((p = rcpt_malloc(want)) == NULL)
		return RCPT_E_NOMEM;
	if (c->in_len > 0)
		memcpy(p, c->in, c->in_len);
	rcpt_freezero(c->in, c->in_cap);
	c->in = p;
	c->in_cap = want;
	return RCPT_OK;
}

/*
 * Reads the next answer line.  @p line_out points into the receive
 * buffer, without its "\n", valid until the next read.
 */
static int
read_line(struct rcpt_client *c, const char **line_out, size_t *len_out,
    struct rcpt_diag *diag)
{
	const char *start = NULL, *nl = NULL;
	ssize_t n;
	int r;

	for (;;) {
		if (c->in_len > c->in_off) {
			start = c->in + c->in_off;
			nl = memchr(start + c->scanned, '\n',
			    c->in_len - c->in_off - c->scanned);
			if (nl != NULL)
				break;
		}
		c->scanned = c->in_len - c->in_off;
		if (c->scanned > RCPT_CLIENT_LINE_MAX)
			return fail(c, rcpt_diag(diag, RCPT_E_TOO_LARGE,
			                   "answer: line longer than %d bytes",
			                   RCPT_CLIENT_LINE_MAX));
		if ((r = make_room(c)) != RCPT_OK)
			return fail(c, r);
		n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return fail(c, rcpt_diag(diag, RCPT_E_IO, "recv: %s",
			                   strerror(errno)));
		if (n == 0)
			return fail(c,
			    rcpt_diag(diag, RCPT_E_IO,
			        "the daemon closed the connection%s",
			        c->scanned > 0 ? " in the middle of an answer"
			                       : ""));
		c->in_len += (size_t)n;
	}
	if ((size_t)(nl - start) > RCPT_CLIENT_LINE_MAX)
		return fail(c, rcpt_diag(diag, RCPT_E_TOO_LARGE,
		                   "answer: line longer than %d bytes",
		                   RCPT_CLIENT_LINE_MAX));
	*line_out = start;
	*len_out = (size_t)(nl - start);
	c->in_off += *len_out + 1;
	c->scanned = 0;
	return RCPT_OK;
}

/* Requests */

/* Sends {"jsonrpc","id","method","params"} as one JCS line. */
int
rcpt_client_send_obj(struct rcpt_client *c, const char *method,
    json_object *params, uint64_t *id_out, struct rcpt_diag *diag)
{
	struct rcpt_buf buf = {0};
	json_object *req = NULL;
	int r = RCPT_E_INTERNAL;

	if (id_out != NULL)
		*id_out = 0;
	if ((r = usable(c, diag)) != RCPT_OK)
		return r;
	if (method == NULL || method[0] == '\0')
		return rcpt_diag(diag, RCPT_E_INVAL, "method: missing");
	if ((req = json_object_new_object()) == NULL)
		return RCPT_E_NOMEM;
	if ((r = rcpt_json_add(
	         req, "jsonrpc", json_object_new_string("2.0"))) != RCPT_OK ||
	    (r = rcpt_json_add(req, "id",
	         json_object_new_int64((int64_t)c->next_id))) != RCPT_OK ||
	    (r = rcpt_json_add(
	         req, "method", json_object_new_string(method))) != RCPT_OK)
		goto out;
	/* json_object_get: the tree takes a reference, the caller keeps its. */
	if (params != NULL && (r = rcpt_json_add(req, "params",
	                           json_object_get(params))) != RCPT_OK)
		goto out;
	if ((r = rcpt_jcs_append(&buf, req, diag)) != RCPT_OK)
		goto out;
	if (buf.len > RCPT_CLIENT_LINE_MAX) {
		r = rcpt_diag(diag, RCPT_E_TOO_LARGE,
		    "request: longer than %d bytes (SPEC 9)",
		    RCPT_CLIENT_LINE_MAX);
		goto out;
	}
	if ((r = rcpt_buf_append(&buf, "\n", 1)) != RCPT_OK ||
	    (r = send_all(c, buf.p, buf.len, diag)) != RCPT_OK)
		goto out;
	if (id_out != NULL)
		*id_out = c->next_id;
	c->next_id++;
	c->pending++;
	r = RCPT_OK;
out:
	/* Requests carry event data: wipe it. */
	rcpt_freezero(buf.p, buf.cap);
	json_object_put(req);
	return r;
}

/* Answers */

/*
 * Copies the daemon's message into @p diag with control characters
 * (C0, DEL, and C1 as UTF-8) replaced, since it ends up on terminals.
 */
static void
diag_from_daemon(struct rcpt_diag *diag, int err, const char *msg, size_t len)
{
	char clean[sizeof(diag->msg)];
	size_t i, n = 0;

	if (diag == NULL)
		return;
	for (i = 0; i < len && n < sizeof(clean) - 1; i++) {
		unsigned char ch = (unsigned char)msg[i];

		if (ch == 0xc2 && i + 1 < len &&
		    (unsigned char)msg[i + 1] >= 0x80 &&
		    (unsigned char)msg[i + 1] <= 0x9f) {
			i++;
			ch = '?';
		} else if (ch < 0x20 || ch == 0x7f)
			ch = '?';
		clean[n++] = (char)ch;
	}
	clean[n] = '\0';
	(void)rcpt_diag(
	    diag, err, "%s", n > 0 ? clean : "the daemon gave no message");
}

/* The JSON-RPC error object @p e, mapped to RCPT_E_*. */
static int
rpc_error(struct rcpt_client *c, const json_object *e, struct rcpt_diag *diag)
{
	json_object *code, *msg;
	double d;
	int err;

	if (!json_object_is_type(e, json_type_object) ||
	    !json_object_object_get_ex(e, "code", &code) ||
	    !json_object_object_get_ex(e, "message", &msg) ||
	    !json_object_is_type(msg, json_type_string) ||
	    !(json_object_is_type(code, json_type_double) ||
	        json_object_is_type(code, json_type_int)))
		return fail(c, rcpt_diag(diag, RCPT_E_PARSE,
		                   "answer: error must hold an integer code "
		                   "and a string message"));
	d = json_object_get_double(code);
	if (!(d >= INT_MIN && d <= INT_MAX) || (double)(int)d != d || d == 0)
		return fail(c, rcpt_diag(diag, RCPT_E_PARSE,
		                   "answer: error.code must be a non-zero "
		                   "integer"));
	c->last_rpc_code = (int)d;
	err = rcpt_err_from_rpc_code(c->last_rpc_code);
	diag_from_daemon(diag, err, json_object_get_string(msg),
	    (size_t)json_object_get_string_len(msg));
	return err;
}

/*
 * Reads the answer to the oldest request.  On RCPT_OK *doc_out holds
 * the whole answer, for the caller to put, and *result_out its result,
 * borrowed from it (NULL for JSON null).  An error answer gives the
 * mapped code with the connection still usable.
 */
static int
recv_answer(struct rcpt_client *c, uint64_t *id_out, json_object **doc_out,
    json_object **result_out, struct rcpt_diag *diag)
{
	json_object *doc = NULL, *v, *result = NULL, *error = NULL;
	const char *line, *bad;
	size_t len;
	uint64_t want, id = 0;
	int has_result, has_error, r;

	*doc_out = NULL;
	*result_out = NULL;
	if (id_out != NULL)
		*id_out = 0;
	if ((r = usable(c, diag)) != RCPT_OK)
		return r;
	if (c->pending == 0)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "client: no answer outstanding");
	want = c->next_id - c->pending;
	c->last_rpc_code = 0;
	if ((r = read_line(c, &line, &len, diag)) != RCPT_OK)
		return r;
	c->pending--;
	r = rcpt_json_parse_ex(
	    line, len, ANSWER_DEPTH, "answer", RCPT_JSON_BIG_INTS, &doc, diag);
	if (r == RCPT_E_NOMEM)
		return r;
	if (r != RCPT_OK)
		return fail(c, r == RCPT_E_TOO_LARGE ? r : RCPT_E_PARSE);
	bad = "answer: not a JSON-RPC 2.0 response object";
	if (!json_object_is_type(doc, json_type_object) ||
	    !json_object_object_get_ex(doc, "jsonrpc", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "2.0") != 0)
		goto bad;
	has_result = json_object_object_get_ex(doc, "result", &result);
	has_error = json_object_object_get_ex(doc, "error", &error);
	bad = "answer: needs exactly one of result and error";
	if (has_result == has_error)
		goto bad;
	bad = "answer: id does not match the request answered next";
	if (!json_object_object_get_ex(doc, "id", &v))
		goto bad;
	/* id null: the daemon could not read our id; it is still in order. */
	if (v == NULL && has_error)
		id = want;
	else if (rcpt_json_get_u64(v, &id) != RCPT_OK || id != want)
		goto bad;
	if (id_out != NULL)
		*id_out = id;
	if (has_error) {
		r = rpc_error(c, error, diag);
		json_object_put(doc);
		return r;
	}
	*doc_out = doc;
	*result_out = result;
	return RCPT_OK;
bad:
	json_object_put(doc);
	return fail(c, rcpt_diag(diag, RCPT_E_PARSE, "%s", bad));
}

int
rcpt_client_exchange(struct rcpt_client *c, const char *method,
    json_object *params, json_object **doc_out, json_object **result_out,
    struct rcpt_diag *diag)
{
	int r;

	*doc_out = NULL;
	*result_out = NULL;
	if ((r = usable(c, diag)) != RCPT_OK)
		return r;
	if (c->pending > 0)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "client: %zu answers outstanding; rcpt_client_recv() "
		    "them first",
		    c->pending);
	if ((r = rcpt_client_send_obj(c, method, params, NULL, diag)) !=
	    RCPT_OK)
		return r;
	return recv_answer(c, NULL, doc_out, result_out, diag);
}

int
rcpt_client_result_text(
    const json_object *v, char **out, size_t *len_out, struct rcpt_diag *diag)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	if (out == NULL)
		return RCPT_OK;
	if ((r = rcpt_jcs_serialize(v, &text, &len, diag)) != RCPT_OK)
		return r;
	*out = text;
	if (len_out != NULL)
		*len_out = len;
	return RCPT_OK;
}

/* Parses caller-supplied params text: a JSON object, or NULL for none. */
static int
parse_params(const char *text, json_object **out, struct rcpt_diag *diag)
{
	int r;

	*out = NULL;
	if (text == NULL)
		return RCPT_OK;
	r = rcpt_json_parse(
	    text, strlen(text), RCPT_JSON_DEPTH_MAX, "params", out, diag);
	if (r == RCPT_E_PARSE)
		r = RCPT_E_INVAL;
	if (r == RCPT_OK && !json_object_is_type(*out, json_type_object))
		r = rcpt_diag(diag, RCPT_E_INVAL, "params: must be an object");
	if (r != RCPT_OK) {
		json_object_put(*out);
		*out = NULL;
	}
	return r;
}

static void
clear_out(char **out, size_t *len_out)
{
	if (out != NULL)
		*out = NULL;
	if (len_out != NULL)
		*len_out = 0;
}

int
rcpt_client_call(struct rcpt_client *c, const char *method, const char *params,
    char **result_out, size_t *len_out, struct rcpt_diag *diag)
{
	json_object *p = NULL, *doc = NULL, *result;
	int r;

	clear_out(result_out, len_out);
	if ((r = parse_params(params, &p, diag)) == RCPT_OK &&
	    (r = rcpt_client_exchange(c, method, p, &doc, &result, diag)) ==
	        RCPT_OK)
		r = rcpt_client_result_text(result, result_out, len_out, diag);
	json_object_put(doc);
	json_object_put(p);
	return r;
}

int
rcpt_client_send(struct rcpt_client *c, const char *method, const char *params,
    uint64_t *id_out, struct rcpt_diag *diag)
{
	json_object *p = NULL;
	int r;

	if (id_out != NULL)
		*id_out = 0;
	if ((r = parse_params(params, &p, diag)) == RCPT_OK)
		r = rcpt_client_send_obj(c, method, p, id_out, diag);
	json_object_put(p);
	return r;
}

int
rcpt_client_recv(struct rcpt_client *c, uint64_t *id_out, char **result_out,
    size_t *len_out, struct rcpt_diag *diag)
{
	json_object *doc = NULL, *result;
	int r;

	clear_out(result_out, len_out);
	if ((r = recv_answer(c, id_out, &doc, &result, diag)) == RCPT_OK)
		r = rcpt_client_result_text(result, result_out, len_out, diag);
	json_object_put(doc);
	return r;
}
