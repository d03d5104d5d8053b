/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One client connection: framing, ordering and back-pressure.
 *
 * Requests are lines (SPEC 9).  Each becomes one call, or one per
 * element of an RPC batch, kept in request order.  Appends may run
 * together (they enter their chain's writer queue in order, so their
 * seqs follow the request order); every other method is a barrier: it
 * starts once everything before it has finished, and nothing after it
 * starts until it has.  The connection therefore behaves as if its
 * requests ran one by one, while a pipelining client still gets its
 * appends committed in shared batches.
 *
 * Answers are written in request order; an RPC batch is answered with
 * one array once all of its elements are done.  A client that stops
 * reading stops being read from (above D_CONN_OUT_HIGH unwritten bytes,
 * or D_CONN_CALLS open calls), so it holds only its own memory, never
 * the daemon.  A line longer than D_FRAME_MAX gets -32002 and the
 * connection is closed once that answer is written.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/rpc.h"
#include "mem.h"

#define READ_CHUNK (64 * 1024)

static void pump(struct d_conn *conn);
static void progress(struct d_conn *conn);
static int read_in(struct d_conn *conn);

static void
arm(struct d_conn *conn)
{
	struct epoll_event ev = {0};
	int want_read, want_write;

	want_read = !conn->closing && !conn->eof && !conn->d->stopping &&
	            conn->n_calls < D_CONN_CALLS &&
	            conn->out.len - conn->out_off < D_CONN_OUT_HIGH;
	want_write = conn->out.len > conn->out_off;
	if (want_read == conn->reading && want_write == conn->writing)
		return;
	ev.events = (want_read ? EPOLLIN : 0) | (want_write ? EPOLLOUT : 0);
	ev.data.ptr = conn;
	if (epoll_ctl(conn->d->epfd, EPOLL_CTL_MOD, conn->fd, &ev) == 0) {
		conn->reading = want_read;
		conn->writing = want_write;
	}
}

size_t
d_conn_running(const struct d_conn *conn)
{
	const struct d_call *c;
	size_t n = 0;

	for (c = conn->head; c != NULL; c = c->next)
		n += c->state == D_RUNNING;
	return n;
}

void
d_conn_close(struct d_conn *conn)
{
	struct daemon *d = conn->d;
	struct d_call *c, *n;

	for (c = conn->head; c != NULL; c = n) {
		n = c->next;
		if (c->state == D_RUNNING)
			c->conn = NULL; /* finished in full, answer dropped */
		else
			d_call_free(c);
	}
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
	close(conn->fd);
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		d->conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	d->n_conns--;
	if (conn->principal < 0)
		d->n_unknown--;
	free(conn->in);
	free(conn->groups);
	rcpt_buf_clear(&conn->out);
	free(conn);
}

void
d_conn_quiesce(struct d_conn *conn)
{
	/*
	 * What the client sent before the stop is already in the socket:
	 * read it, so that each of those requests gets its answer too.
	 */
	if (conn->reading && !read_in(conn))
		return;
	progress(conn); /* answers what has not started; stops reading */
}

void
d_conn_accept(struct daemon *d, int fd)
{
	struct d_conn *conn;
	struct epoll_event ev = {0};
	struct ucred cred;
	socklen_t len = sizeof(cred);
	gid_t small[64], *groups = small;
	socklen_t glen = sizeof(small);
	size_t ng = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		d_log(
		    D_WARN, "accept: no peer credentials: %s", strerror(errno));
		close(fd);
		return;
	}
	/* The kernel says how much room a caller with many groups needs. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) != 0 &&
	    errno == ERANGE && (groups = rcpt_malloc(glen)) != NULL &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) != 0)
		glen = 0;
	if (groups != NULL)
		ng = glen / sizeof(gid_t);
	if ((conn = rcpt_calloc(1, sizeof(*conn))) == NULL) {
		if (groups != small)
			free(groups);
		close(fd);
		return;
	}
	conn->d = d;
	conn->fd = fd;
	conn->uid = cred.uid;
	conn->pid = cred.pid;
	conn->gid = cred.gid;
	if (ng > 0 && (conn->groups = rcpt_calloc(ng, sizeof(gid_t))) != NULL) {
		memcpy(conn->groups, groups, ng * sizeof(gid_t));
		conn->n_groups = ng;
	}
	if (groups != small)
		free(groups);
	conn->principal = rcpt_cfg_principal_of(
	    d->cfg, cred.uid, cred.gid, conn->groups, conn->n_groups);
	if (conn->principal < 0) {
		/* Strangers may not crowd out the callers it serves. */
		if (d->n_unknown >= D_UNKNOWN_MAX) {
			close(fd);
			free(conn);
			return;
		}
		d_log(D_WARN,
		    "connection from uid %u gid %u pid %d: no principal; "
		    "refusing its requests",
		    (unsigned)cred.uid, (unsigned)cred.gid, (int)cred.pid);
	}
	ev.events = EPOLLIN;
	ev.data.ptr = conn;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		close(fd);
		free(conn);
		return;
	}
	conn->reading = 1;
	d->n_unknown += conn->principal < 0;
	conn->next = d->conns;
	if (d->conns != NULL)
		d->conns->prev = conn;
	d->conns = conn;
	d->n_conns++;
}

/* Queues a line's text as an answer of its own. */
static void
emit(struct d_conn *conn, const char *p, size_t n)
{
	if (rcpt_buf_append(&conn->out, p, n) != RCPT_OK ||
	    rcpt_buf_append(&conn->out, "\n", 1) != RCPT_OK)
		conn->closing = 1; /* out of memory: give up on this client */
}

/* Writes what is ready, in order. */
static void
flush_ready(struct d_conn *conn)
{
	struct d_call *c, *e, *n;
	int any;

	while ((c = conn->head) != NULL && c->state == D_DONE) {
		if (c->batch == 0) {
			if (c->answer != NULL)
				emit(conn, c->answer, c->answer_len);
			conn->held -= c->answer_len;
			conn->head = c->next;
			conn->n_calls--;
			d_call_free(c);
			continue;
		}
		/* A batch goes out whole, as one array. */
		for (e = c; e != NULL && e->state == D_DONE && !e->batch_end;
		     e = e->next)
			;
		if (e == NULL || e->state != D_DONE)
			break;
		any = 0;
		for (n = c; n != e->next; n = n->next) {
			if (n->answer == NULL)
				continue;
			if (rcpt_buf_append(&conn->out, any ? "," : "[", 1) !=
			        RCPT_OK ||
			    rcpt_buf_append(&conn->out, n->answer,
			        n->answer_len) != RCPT_OK)
				conn->closing = 1;
			any = 1;
		}
		if (any && rcpt_buf_append(&conn->out, "]\n", 2) != RCPT_OK)
			conn->closing = 1;
		conn->head = e->next;
		for (n = c; n != conn->head; n = e) {
			e = n->next;
			conn->n_calls--;
			conn->held -= n->answer_len;
			d_call_free(n);
		}
	}
	if (conn->head == NULL)
		conn->tail = NULL;
}

/* Writes out what it can; 0 when the connection was closed. */
static int
write_out(struct d_conn *conn)
{
	ssize_t w;

	while (conn->out.len > conn->out_off) {
		w = send(conn->fd, conn->out.p + conn->out_off,
		    conn->out.len - conn->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w <= 0) {
			d_conn_close(conn);
			return 0;
		}
		conn->out_off += (size_t)w;
	}
	if (conn->out_off == conn->out.len) {
		rcpt_buf_reset(&conn->out);
		conn->out_off = 0;
		if ((conn->closing || conn->eof) && conn->head == NULL) {
			d_conn_close(conn);
			return 0;
		}
	} else if (conn->out_off > (1u << 20)) {
		memmove(conn->out.p, conn->out.p + conn->out_off,
		    conn->out.len - conn->out_off);
		conn->out.len -= conn->out_off;
		conn->out_off = 0;
	}
	arm(conn);
	return 1;
}

static void
start(struct d_conn *conn, struct d_call *c)
{
	c->state = D_RUNNING;
	c->conn = conn;
	conn->d->inflight++;
	if (d_method_spec(c->method)->on_writer)
		d_writer_queue(c->chain, c);
	else
		d_readers_queue(conn->d, c);
}

/*
 * Whether @p c may start given the memory its connection holds in
 * answers.  A call outside a batch waits until the client has read
 * enough.  A batch element cannot wait (its batch is answered only
 * whole), so past the limit it is refused with -32002 instead.
 */
static int
room(struct d_conn *conn, struct d_call *c)
{
	if (conn->out.len - conn->out_off + conn->held < D_CONN_OUT_HIGH)
		return 1;
	if (c->batch == 0)
		return 0;
	d_answer_error(c, -32002,
	    "batch: its answers passed 8 MiB; ask for less per batch");
	c->state = D_DONE;
	conn->held += c->answer_len;
	return 1;
}

/*
 * Starts what may start: appends whenever only appends run before
 * them, any other call once everything before it is done.
 */
static void
pump(struct d_conn *conn)
{
	struct d_call *c;
	int busy = 0;

	if (conn->d->stopping) {
		/*
		 * Stopping: nothing new starts, and each call that has not
		 * started is answered so (nothing of it was done), so that
		 * every request a client sent gets an answer.
		 */
		for (c = conn->head; c != NULL; c = c->next)
			if (c->state == D_PENDING) {
				d_answer_error(c, -32603,
				    "receiptd is stopping: this request was "
				    "not carried out; send it again once the "
				    "daemon is back");
				c->state = D_DONE;
				conn->held += c->answer_len;
			}
		return;
	}
	for (c = conn->head; c != NULL; c = c->next) {
		if (c->state == D_DONE)
			continue;
		if (c->state == D_RUNNING) {
			if (c->barrier)
				return;
			busy = 1;
			continue;
		}
		if (!room(conn, c))
			return;
		if (c->state == D_DONE)
			continue; /* refused by room() */
		if (c->barrier) {
			if (!busy)
				start(conn, c);
			return;
		}
		start(conn, c);
		busy = 1;
	}
}

/*
 * Queues @p text as the connection's last answer, after those still
 * due, and closes once all are written.
 */
static void
last_answer(struct d_conn *conn, const char *text)
{
	struct d_call *c = rcpt_calloc(1, sizeof(*c));

	conn->closing = 1;
	if (c == NULL)
		return;
	c->conn = conn;
	c->state = D_DONE;
	c->answer = (char *)text;
	c->answer_len = strlen(text);
	c->answer_static = 1;
	conn->held += c->answer_len;
	if (conn->tail != NULL)
		conn->tail->next = c;
	else
		conn->head = c;
	conn->tail = c;
	conn->n_calls++;
}

/* Frames the lines read so far into calls. */
static void
frame(struct d_conn *conn)
{
	char *nl;
	size_t used = 0, n;
	struct d_call *c, *prev;

	while (
	    !conn->closing && conn->n_calls < D_CONN_CALLS &&
	    (nl = memchr(conn->in + used, '\n', conn->in_len - used)) != NULL) {
		n = (size_t)(nl - (conn->in + used));
		if (conn->principal < 0 || n > D_FRAME_MAX) {
			/* Nothing else for an unknown caller (issue 4). */
			last_answer(conn, conn->principal < 0
			                      ? d_rpc_unauthorized()
			                      : d_rpc_too_large());
			break;
		}
		prev = conn->tail;
		if (d_rpc_parse(conn->d, conn->principal, conn->in + used, n,
		        ++conn->batch_seq, &conn->head,
		        &conn->tail) != RCPT_OK) {
			conn->closing = 1;
			break;
		}
		/* Calls refused while parsing are answered already. */
		for (c = prev != NULL ? prev->next : conn->head; c != NULL;
		     c = c->next) {
			conn->n_calls++;
			if (c->state == D_DONE)
				conn->held += c->answer_len;
		}
		used += n + 1;
	}
	if (used > 0) {
		memmove(conn->in, conn->in + used, conn->in_len - used);
		conn->in_len -= used;
	}
	if (!conn->closing && conn->in_len > D_FRAME_MAX &&
	    memchr(conn->in, '\n', conn->in_len) == NULL)
		/* No newline within the cap: answer -32002 and close. */
		last_answer(conn, conn->principal < 0 ? d_rpc_unauthorized()
		                                      : d_rpc_too_large());
}

/* Reads what the socket has; 0 when the connection was closed. */
static int
read_in(struct d_conn *conn)
{
	ssize_t got;
	char *p;
	size_t cap;

	while (
	    conn->reading && !conn->closing && conn->n_calls < D_CONN_CALLS) {
		if (conn->in_cap - conn->in_len < READ_CHUNK) {
			cap = conn->in_cap == 0 ? READ_CHUNK * 2
			                        : conn->in_cap * 2;
			if (cap > D_FRAME_MAX + 2 * READ_CHUNK)
				cap = D_FRAME_MAX + 2 * READ_CHUNK;
			if (cap - conn->in_len < 1) {
				frame(conn);
				break;
			}
			if ((p = rcpt_realloc(conn->in, cap)) == NULL) {
				d_conn_close(conn);
				return 0;
			}
			conn->in = p;
			conn->in_cap = cap;
		}
		got = recv(conn->fd, conn->in + conn->in_len,
		    conn->in_cap - conn->in_len, MSG_DONTWAIT);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (got < 0) {
			/* Gone: what runs finishes; nothing is answered. */
			d_conn_close(conn);
			return 0;
		}
		if (got == 0) {
			/*
			 * The client finished sending (perhaps a half
			 * close): answer what it sent, then close.
			 */
			conn->eof = 1;
			break;
		}
		conn->in_len += (size_t)got;
		frame(conn);
	}
	return 1;
}

static void
progress(struct d_conn *conn)
{
	frame(conn);
	pump(conn);
	flush_ready(conn);
	write_out(conn);
}

void
d_conn_event(struct d_conn *conn, uint32_t ev)
{
	if (ev & (EPOLLERR | EPOLLHUP)) {
		d_conn_close(conn);
		return;
	}
	if ((ev & EPOLLIN) && !read_in(conn))
		return;
	progress(conn);
}

void
d_conn_done(struct d_conn *conn, struct d_call *c)
{
	c->state = D_DONE;
	conn->held += c->answer_len;
	progress(conn);
}
