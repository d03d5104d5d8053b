/* SPDX-License-Identifier: Apache-2.0 */
/*
 * receiptd: start-up and shut-down.
 *
 *   receiptd -c FILE                  run in the foreground (systemd)
 *   receiptd -c FILE --check-config   check FILE, print a summary, exit
 *
 * Start-up order matters: the configuration is checked whole before
 * anything is opened; the process then stops dumping core and, when
 * started as root, takes the configured user's groups and effective uid
 * (harden.c); the store and the token come next; every chain is then
 * verified against the token's anchor (or created); and only then does
 * the socket appear, so a client never reaches a daemon that has not
 * checked what it serves.  Before the first connection is served, the
 * daemon drops to its user for good and installs its seccomp allowlist.
 * Exit status: 0 after a clean stop, 1 when start-up fails (the reason
 * is logged), 2 for usage errors.
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/harden.h"
#include "daemon/rpc.h"
#include "ed25519.h"

#ifndef PROVIDERS_DIR
#define PROVIDERS_DIR "/usr/lib/receiptd/providers"
#endif

static const char usage[] =
    "usage: receiptd -c FILE [--check-config]\n"
    "\n"
    "  -c, --config FILE   configuration (see receiptd.conf(5))\n"
    "      --check-config  check FILE, print what it sets, and exit\n"
    "  -h, --help          this text\n"
    "  -V, --version       the version\n";

void
d_log(int level, const char *fmt, ...)
{
	static const char *const names[8] = {"emerg", "alert", "crit", "err",
	    "warning", "notice", "info", "debug"};
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* "<N>" lets journald file the level; stderr is a journal stream. */
	fprintf(stderr, "<%d>receiptd: %s: %s\n", level, names[level & 7], msg);
}

static void
ks_log(void *ctx, int level, const char *msg)
{
	(void)ctx;
	d_log(level, "%s", msg);
}

static int
open_all(struct daemon *d, struct rcpt_diag *diag)
{
	const struct rcpt_cfg *cfg = d->cfg;
	struct rcpt_store_opts so = {0};
	struct rcpt_ks_opts ko = {.log = ks_log};
	int r;

	so.path = cfg->store_path;
	so.map_size = cfg->map_size;
	so.map_max = cfg->map_max;
	if ((r = rcpt_store_open(&so, &d->store, diag)) != RCPT_OK)
		return r;
	if ((r = rcpt_ks_load(cfg->provider,
	         cfg->providers_dir != NULL ? cfg->providers_dir
	                                    : PROVIDERS_DIR,
	         1, &d->ks, diag)) != RCPT_OK ||
	    (r = rcpt_ks_open(d->ks, cfg->provider_config, cfg->production, &ko,
	         diag)) != RCPT_OK)
		return r;
	if ((r = d_signpool_new(cfg->sign_threads, &d->pool, diag)) != RCPT_OK)
		return r;
	if ((d->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return rcpt_diag(diag, RCPT_E_IO, "eventfd failed");
	pthread_mutex_init(&d->done_mu, NULL);
	if ((r = d_writers_start(d, diag)) != RCPT_OK)
		return r;
	return d_readers_start(d, diag);
}

static void
close_all(struct daemon *d)
{
	struct d_call *c, *n;

	/* Readers use the chains, so they stop before the writers free them. */
	if (d->n_readers > 0)
		d_readers_stop(d);
	d_writers_stop(d);
	/* Every connection is closed: what finished late is dropped. */
	for (c = d->done_head; c != NULL; c = n) {
		n = c->qnext;
		d_call_free(c);
	}
	d->done_head = d->done_tail = NULL;
	d_signpool_free(d->pool);
	rcpt_ks_unload(d->ks);
	rcpt_store_close(d->store);
	if (d->wake_fd >= 0)
		close(d->wake_fd);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->listen_fd >= 0) {
		close(d->listen_fd);
		unlink(d->cfg->socket_path);
	}
	rcpt_cfg_free(d->cfg);
	d_reload_free(d);
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, 'k'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
	struct daemon d = {
	    .wake_fd = -1, .epfd = -1, .listen_fd = -1, .signal_fd = -1};
	struct rcpt_diag diag = {0};
	const char *path = NULL;
	sigset_t set;
	int c, check = 0, r;

	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			check = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			puts("receiptd " PACKAGE_VERSION);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (path == NULL || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if ((r = rcpt_cfg_load(path, &d.cfg, &diag)) != RCPT_OK) {
		fprintf(stderr, "receiptd: %s\n", rcpt_diag_msg(&diag, r));
		return 1;
	}
	d.fixed = d.cfg;
	if (check) {
		rcpt_cfg_print(d.cfg, stdout);
		printf("%s: configuration OK\n", path);
		rcpt_cfg_free(d.cfg);
		return 0;
	}
	/*
	 * libsodium starts its random source on first use, with a syscall
	 * the seccomp allowlist need not hold: start it before.
	 */
	if ((r = rcpt_ed25519_init()) != RCPT_OK) {
		d_log(D_ERR, "libsodium: cannot start (%s)", rcpt_strerror(r));
		rcpt_cfg_free(d.cfg);
		return 1;
	}
	if ((r = d_harden_early(d.cfg, &diag)) != RCPT_OK) {
		d_log(D_ERR, "%s", rcpt_diag_msg(&diag, r));
		rcpt_cfg_free(d.cfg);
		return 1;
	}
	/* Every thread inherits this mask; signals come by signalfd. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((r = open_all(&d, &diag)) != RCPT_OK ||
	    (r = d_listen(&d, &diag)) != RCPT_OK ||
	    (r = d_harden_lock(d.cfg, &diag)) != RCPT_OK ||
	    (r = d_serve(&d, &diag)) != RCPT_OK) {
		d_log(D_ERR, "%s", rcpt_diag_msg(&diag, r));
		close_all(&d);
		return 1;
	}
	close_all(&d);
	d_log(D_INFO, "stopped");
	return 0;
}
