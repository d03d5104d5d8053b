/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The I/O thread: the listening socket, the epoll loop, signals and the
 * hand-back of finished calls.
 *
 * bind() creates the socket with the configured mode, under the umask
 * that mode implies, so it never exists with another mode.  A
 * stale socket file from a crashed run is replaced only when nothing
 * answers on it; a live daemon on the same path is refused.
 *
 * SIGTERM and SIGINT arrive through a signalfd: the daemon stops
 * accepting, stops reading requests, lets every call already running
 * finish and writes its answer (up to 30 s), then returns.  Calls that
 * had not started are answered -32603 "stopping" (conn.c): nothing of
 * them was done, and the client is told so.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/harden.h"
#include "daemon/rpc.h"

#define MAX_EVENTS 64
#define DRAIN_MS   30000
#define TAG_LISTEN ((void *)1)
#define TAG_WAKE   ((void *)2)
#define TAG_SIGNAL ((void *)3)

void
d_complete(struct daemon *d, struct d_call *c)
{
	uint64_t one = 1;
	ssize_t w;

	pthread_mutex_lock(&d->done_mu);
	c->qnext = NULL;
	if (d->done_tail != NULL)
		d->done_tail->qnext = c;
	else
		d->done_head = c;
	d->done_tail = c;
	pthread_mutex_unlock(&d->done_mu);
	do
		w = write(d->wake_fd, &one, sizeof(one));
	while (w < 0 && errno == EINTR);
}

static void
take_done(struct daemon *d)
{
	struct d_call *c, *n;
	uint64_t v;

	while (read(d->wake_fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&d->done_mu);
	c = d->done_head;
	d->done_head = d->done_tail = NULL;
	pthread_mutex_unlock(&d->done_mu);
	for (; c != NULL; c = n) {
		n = c->qnext;
		d->inflight--;
		if (c->conn == NULL)
			d_call_free(c); /* its client left */
		else
			d_conn_done(c->conn, c);
	}
}

/* 1 when something accepts connections at @p path. */
static int
socket_alive(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), alive;

	if (fd < 0)
		return 0;
	alive = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return alive;
}

static int
listen_on(struct daemon *d, struct rcpt_diag *diag)
{
	const char *path = d->cfg->socket_path;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	mode_t old;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "socket: path longer than %zu bytes",
		    sizeof(sa.sun_path) - 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return rcpt_diag(diag, RCPT_E_CONFIG,
			    "socket %s: exists and is not a socket", path);
		if (socket_alive(&sa))
			return rcpt_diag(diag, RCPT_E_EXISTS,
			    "socket %s: another daemon answers there", path);
		if (unlink(path) != 0)
			return rcpt_diag(diag, RCPT_E_IO,
			    "socket %s: cannot remove the stale socket: %s",
			    path, strerror(errno));
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return rcpt_diag(
		    diag, RCPT_E_IO, "socket: %s", strerror(errno));
	old = umask(~(mode_t)d->cfg->socket_mode & 0777);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		umask(old);
		close(fd);
		return rcpt_diag(diag, RCPT_E_IO, "socket %s: bind: %s", path,
		    strerror(errno));
	}
	umask(old);
	if (listen(fd, 512) != 0) {
		close(fd);
		unlink(path);
		return rcpt_diag(
		    diag, RCPT_E_IO, "socket %s: %s", path, strerror(errno));
	}
	d->listen_fd = fd;
	return RCPT_OK;
}

static int
add_fd(struct daemon *d, int fd, void *tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void
accept_all(struct daemon *d)
{
	int fd;

	for (;;) {
		fd = accept4(
		    d->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				d_log(D_WARN, "accept: %s", strerror(errno));
			return;
		}
		if (d->n_conns >= d->cfg->connections_max) {
			/* Over the limit: close at once, do not queue. */
			close(fd);
			continue;
		}
		d_conn_accept(d, fd);
	}
}

static void
begin_stop(struct daemon *d, const char *why)
{
	struct d_conn *c, *n;

	if (d->stopping)
		return;
	d_log(D_INFO, "%s: finishing running requests, then stopping", why);
	d->stopping = 1;
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->listen_fd, NULL);
	close(d->listen_fd);
	d->listen_fd = -1;
	unlink(d->cfg->socket_path);
	for (c = d->conns; c != NULL; c = n) {
		n = c->next;
		d_conn_quiesce(c);
	}
}

static void
on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			d_reload(d);
		else
			begin_stop(
			    d, si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
	}
}

/* 1 once every started call is back and every answer written. */
static int
drained(const struct daemon *d)
{
	const struct d_conn *c;

	if (d->inflight > 0)
		return 0;
	for (c = d->conns; c != NULL; c = c->next)
		if (c->out.len > c->out_off)
			return 0;
	return 1;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
d_listen(struct daemon *d, struct rcpt_diag *diag)
{
	sigset_t set;
	int r;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if ((r = listen_on(d, diag)) != RCPT_OK)
		return r;
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->epfd < 0 || d->signal_fd < 0 ||
	    add_fd(d, d->listen_fd, TAG_LISTEN) != 0 ||
	    add_fd(d, d->wake_fd, TAG_WAKE) != 0 ||
	    add_fd(d, d->signal_fd, TAG_SIGNAL) != 0)
		return rcpt_diag(diag, RCPT_E_IO, "epoll: %s", strerror(errno));
	d_log(D_INFO, "listening on %s", d->cfg->socket_path);
	return RCPT_OK;
}

int
d_serve(struct daemon *d, struct rcpt_diag *diag)
{
	struct epoll_event evs[MAX_EVENTS];
	int64_t stop_at = 0;
	int i, n, wake, sig;

	for (;;) {
		if (d->stopping) {
			if (stop_at == 0)
				stop_at = mono_ms() + DRAIN_MS;
			if (drained(d) || mono_ms() > stop_at)
				break;
		}
		n = epoll_wait(
		    d->epfd, evs, MAX_EVENTS, d->stopping ? 100 : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return rcpt_diag(
			    diag, RCPT_E_IO, "epoll_wait: %s", strerror(errno));
		/*
		 * Finished calls and signals are taken after the
		 * connections' events: taking them may close any connection
		 * (a stop reads every connection, and closes those whose
		 * client has gone), and a later entry of this batch could
		 * still name it.  A connection's own event can only close
		 * that connection.
		 */
		wake = sig = 0;
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == TAG_LISTEN)
				accept_all(d);
			else if (evs[i].data.ptr == TAG_WAKE)
				wake = 1;
			else if (evs[i].data.ptr == TAG_SIGNAL)
				sig = 1;
			else
				d_conn_event(evs[i].data.ptr, evs[i].events);
		}
		if (wake)
			take_done(d);
		if (sig)
			on_signal(d);
	}
	/* Give every client what was answered. */
	while (d->conns != NULL)
		d_conn_close(d->conns);
	return RCPT_OK;
}
