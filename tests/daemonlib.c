/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running receiptd for the integration tests; see daemonlib.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "daemonlib.h"

#define PKCS11_SO PROVIDERS_BUILDDIR "/provider-pkcs11.so"
#define WAIT_MS   60000
#define LINE_MAX_ (64u << 20)

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
td_init(struct td *t, const struct rcpt_test_token *tok, size_t map_size,
    size_t map_max, const char *body)
{
	FILE *f;
	char sizes[128] = "";

	memset(t, 0, sizeof(*t));
	if ((t->dir = rcpt_test_mkdtemp()) == NULL ||
	    chmod(t->dir, 0711) != 0 ||
	    (t->conf = rcpt_test_join(t->dir, "receiptd.conf")) == NULL ||
	    (t->store = rcpt_test_join(t->dir, "store")) == NULL ||
	    (t->sock = rcpt_test_join(t->dir, "receiptd.sock")) == NULL ||
	    (t->log = rcpt_test_join(t->dir, "receiptd.log")) == NULL ||
	    (t->pdir = rcpt_test_join(t->dir, "providers")) == NULL ||
	    mkdir(t->pdir, 0700) != 0 ||
	    rcpt_test_plugin_copy(PKCS11_SO, t->pdir) != 0) {
		fprintf(stderr, "td_init: scratch directory: %s\n",
		    strerror(errno));
		return -1;
	}
	if (map_size != 0)
		snprintf(sizes, sizeof(sizes),
		    "map_size = %zu\nmap_max = %zu\n", map_size, map_max);
	if ((f = fopen(t->conf, "w")) == NULL)
		return -1;
	fprintf(f,
	    "[daemon]\n"
	    "socket = %s\n"
	    "socket_mode = 0666\n"
	    "store = %s\n"
	    "origin = example.org/receiptd\n"
	    "%s"
	    "\n[provider]\n"
	    "name = pkcs11\n"
	    "config = module=%s;token=%s;pin-file=%s\n"
	    "providers_dir = %s\n\n%s",
	    t->sock, t->store, sizes, rcpt_test_softhsm_module(), tok->uri,
	    tok->user_pin_file, t->pdir, body);
	if (fclose(f) != 0 || chmod(t->conf, 0600) != 0)
		return -1;
	return 0;
}

static int
try_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
td_connect(const struct td *t)
{
	return try_connect(t->sock);
}

static void
print_log(const struct td *t)
{
	size_t len = 0;
	char *s = rcpt_test_read_file(t->log, &len);

	fprintf(stderr, "--- receiptd log ---\n%s--- end ---\n",
	    s != NULL ? s : "(none)\n");
	free(s);
}

int
td_start(struct td *t)
{
	int64_t until = now_ms() + WAIT_MS;
	int fd, st;
	pid_t pid;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		fd = open(t->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(127);
		/*
		 * RCPT_DAEMON_VALGRIND=1 runs the daemon under valgrind; an
		 * error makes it exit 99, which td_stop() reports.
		 */
		if (getenv("RCPT_DAEMON_VALGRIND") != NULL)
			execlp("valgrind", "valgrind", "--quiet",
			    "--error-exitcode=99", "--leak-check=full",
			    "--errors-for-leak-kinds=definite",
			    "--suppressions=" VECTORS_DIR "/../valgrind.supp",
			    RECEIPTD, "-c", t->conf, (char *)NULL);
		else
			execl(
			    RECEIPTD, "receiptd", "-c", t->conf, (char *)NULL);
		_exit(127);
	}
	t->pid = pid;
	while (now_ms() < until) {
		if ((fd = try_connect(t->sock)) >= 0) {
			close(fd);
			return 0;
		}
		if (waitpid(pid, &st, WNOHANG) == pid) {
			t->pid = 0;
			fprintf(stderr, "receiptd exited at start (%d)\n", st);
			print_log(t);
			return -1;
		}
		usleep(20000);
	}
	fprintf(stderr, "receiptd: socket never answered\n");
	print_log(t);
	return -1;
}

int
td_stop(struct td *t)
{
	int64_t until = now_ms() + WAIT_MS;
	int st;
	pid_t w;

	if (t->pid == 0)
		return -1;
	kill(t->pid, SIGTERM);
	for (;;) {
		w = waitpid(t->pid, &st, WNOHANG);
		if (w == t->pid)
			break;
		if (w < 0 || now_ms() > until) {
			kill(t->pid, SIGKILL);
			waitpid(t->pid, &st, 0);
			break;
		}
		usleep(10000);
	}
	t->pid = 0;
	if (WIFEXITED(st)) {
		if (WEXITSTATUS(st) != 0)
			print_log(t);
		return WEXITSTATUS(st);
	}
	print_log(t);
	return 128 + WTERMSIG(st);
}

void
td_free(struct td *t)
{
	if (t->pid != 0)
		(void)td_stop(t);
	if (t->dir != NULL)
		rcpt_test_rmdir(t->dir);
	free(t->dir);
	free(t->conf);
	free(t->store);
	free(t->sock);
	free(t->log);
	free(t->pdir);
	memset(t, 0, sizeof(*t));
}

int
td_send(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

char *
td_recv(int fd)
{
	int64_t until = now_ms() + WAIT_MS;
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *p;
	ssize_t got;
	char c;

	if (buf == NULL)
		return NULL;
	/* One byte at a time: never read past the line (tests mix calls). */
	for (;;) {
		if (poll(&pf, 1, (int)(until - now_ms())) <= 0)
			break;
		got = recv(fd, &c, 1, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (c == '\n') {
			buf[len] = '\0';
			return buf;
		}
		if (len + 2 > cap) {
			if (cap >= LINE_MAX_ ||
			    (p = realloc(buf, cap * 2)) == NULL)
				break;
			buf = p;
			cap *= 2;
		}
		buf[len++] = c;
	}
	free(buf);
	return NULL;
}

char *
td_rpc(int fd, const char *line)
{
	if (td_send(fd, line, strlen(line)) != 0 || td_send(fd, "\n", 1) != 0)
		return NULL;
	return td_recv(fd);
}

int
td_log_has(const struct td *t, const char *s)
{
	size_t len = 0;
	char *text = rcpt_test_read_file(t->log, &len);
	int has = text != NULL && strstr(text, s) != NULL;

	free(text);
	return has;
}

int
td_kill9(struct td *t)
{
	int st;
	pid_t w;

	if (t->pid == 0)
		return -1;
	(void)kill(t->pid, SIGKILL);
	while ((w = waitpid(t->pid, &st, 0)) < 0 && errno == EINTR)
		;
	t->pid = 0;
	if (w < 0)
		return -1;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
		return 128 + SIGKILL;
	print_log(t);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int
td_start_refused(struct td *t)
{
	int64_t until = now_ms() + WAIT_MS;
	int fd, st;
	pid_t pid;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		fd = open(t->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execl(RECEIPTD, "receiptd", "-c", t->conf, (char *)NULL);
		_exit(127);
	}
	while (now_ms() < until) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st)
			                     : 128 + WTERMSIG(st);
		if ((fd = try_connect(t->sock)) >= 0) {
			close(fd);
			fprintf(stderr, "receiptd started; refusal expected\n");
			t->pid = pid;
			(void)td_stop(t);
			return -1;
		}
		usleep(20000);
	}
	(void)kill(pid, SIGKILL);
	(void)waitpid(pid, &st, 0);
	fprintf(stderr, "receiptd neither started nor exited\n");
	return -1;
}

int
td_init_ex(struct td *t, const struct rcpt_test_token *tok,
    const char *sock_dir, const char *daemon_keys, const char *body)
{
	char *dir = NULL;
	FILE *f;

	if (td_init(t, tok, 0, 0, body) != 0)
		return -1;
	if (sock_dir != NULL) {
		free(t->sock);
		t->sock = NULL;
		if ((dir = rcpt_test_join(t->dir, sock_dir)) == NULL ||
		    (t->sock = rcpt_test_join(dir, "receiptd.sock")) == NULL) {
			free(dir);
			return -1;
		}
		free(dir);
	}
	/* td_init's file, rewritten: no socket_mode, the keys added. */
	if ((f = fopen(t->conf, "w")) == NULL)
		return -1;
	fprintf(f,
	    "[daemon]\n"
	    "socket = %s\n"
	    "store = %s\n"
	    "origin = example.org/receiptd\n"
	    "%s"
	    "\n[provider]\n"
	    "name = pkcs11\n"
	    "config = module=%s;token=%s;pin-file=%s\n"
	    "providers_dir = %s\n\n%s",
	    t->sock, t->store, daemon_keys != NULL ? daemon_keys : "",
	    rcpt_test_softhsm_module(), tok->uri, tok->user_pin_file, t->pdir,
	    body);
	if (fclose(f) != 0 || chmod(t->conf, 0600) != 0)
		return -1;
	return 0;
}
