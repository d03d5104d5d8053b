/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A real receiptd for integration tests: a scratch directory holding
 * its configuration, store, socket and log, a private copy of the
 * PKCS#11 provider, and the SoftHSM2 token the caller made.  The
 * daemon runs as a child process (the built binary, RECEIPTD) and is
 * stopped with SIGTERM as systemd would.  Helpers speak raw SPEC 9
 * lines, so that tests see exactly what went over the socket.
 */
#ifndef RCPT_TESTS_DAEMONLIB_H
#define RCPT_TESTS_DAEMONLIB_H

#include <stddef.h>
#include <sys/types.h>

#include "softhsm.h"

struct td {
	char *dir;   /* scratch directory (0711, so other uids reach sock) */
	char *conf;  /* dir/receiptd.conf */
	char *store; /* dir/store */
	char *sock;  /* dir/receiptd.sock */
	char *log;   /* dir/receiptd.log: the daemon's stderr, appended */
	char *pdir;  /* dir/providers: a copy of provider-pkcs11.so */
	pid_t pid;   /* the running daemon, or 0 */
};

/**
 * Writes the configuration: [daemon] with the socket (mode 0666),
 * store, origin "example.org/receiptd", map_size/map_max (bytes; 0 for
 * the defaults), [provider] pkcs11 on @p tok, then @p body (principals,
 * limits and chains, INI text) as given.
 * @return 0, or -1 with a message on stderr.
 */
int td_init(struct td *t, const struct rcpt_test_token *tok, size_t map_size,
    size_t map_max, const char *body);

/**
 * Starts the daemon and waits (up to 60 s) until its socket answers;
 * with RCPT_DAEMON_VALGRIND set in the environment, under valgrind.
 * @return 0; -1 when it exited or never answered (its log is printed).
 */
int td_start(struct td *t);

/**
 * Sends SIGTERM and waits (up to 60 s; then SIGKILL).
 * @return its exit status, 128 + signal, or -1.
 */
int td_stop(struct td *t);

/** Stops the daemon if it runs and removes the scratch directory. */
void td_free(struct td *t);

/** A new connection to the daemon, or -1. */
int td_connect(const struct td *t);

/** Sends @p n bytes, all of them. @return 0 or -1. */
int td_send(int fd, const char *p, size_t n);

/**
 * Reads one line (up to 64 MiB, waiting at most 60 s).
 * @return the line without "\n" (free() it), or NULL on EOF, error or
 * time-out.
 */
char *td_recv(int fd);

/** Sends @p line plus "\n" and reads one line; NULL on failure. */
char *td_rpc(int fd, const char *line);

/** 1 when the daemon's log contains @p s. */
int td_log_has(const struct td *t, const char *s);

/**
 * Kills the daemon with SIGKILL (a power cut, as far as the store and
 * the token can tell) and reaps it.
 * @return 128 + SIGKILL when it was still running; its exit status or
 * 128 + another signal when it had already died (its log is printed);
 * -1 when no daemon runs.
 */
int td_kill9(struct td *t);

/**
 * Starts the daemon expecting it to refuse to start, and waits (up to
 * 60 s) for it to exit.
 * @return its exit status, or 128 + signal; -1 when its socket answered
 * instead (it is then stopped) or it never exited (then killed).
 */
int td_start_refused(struct td *t);

/**
 * As td_init() with the default sizes, but the socket's mode is left
 * to the daemon's default (0660), @p daemon_keys (INI lines, may be
 * NULL) are added to [daemon], and, when @p sock_dir is not NULL, the
 * socket is dir/@p sock_dir/receiptd.sock, in a directory td_init_ex()
 * does not make (the daemon does).
 * @return 0, or -1 with a message on stderr.
 */
int td_init_ex(struct td *t, const struct rcpt_test_token *tok,
    const char *sock_dir, const char *daemon_keys, const char *body);

#endif
