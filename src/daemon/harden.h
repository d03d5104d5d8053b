/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What receiptd gives up, and when (docs/hardening.md is the long form).
 *
 *   d_harden_early(), before anything is opened: no core dumps, not
 *   dumpable, umask 077, and the identity the daemon will keep.  Started
 *   as root with [daemon] user, it makes the socket's and the store's
 *   directories for that user when they are missing, takes the user's
 *   groups for good and its uid as the effective one, so the store and
 *   the token are opened, and files created, as that user.  Started as
 *   root without user, it keeps uid 0 but gives up every capability
 *   (and says so).  Started as any other uid, it checks that uid is the
 *   configured user.
 *
 *   d_harden_lock(), once the socket, store and token are open and every
 *   thread runs: the configured user for good (setuid(0) must then
 *   fail), no_new_privs, and a seccomp allowlist on every thread.
 *
 * It does not open the socket (server.c does, under the umask the
 * socket mode implies) and cannot undo anything it did: the daemon has
 * no path back to root.
 */
#ifndef RCPT_DAEMON_HARDEN_H
#define RCPT_DAEMON_HARDEN_H

#include "err.h"
#include "settings.h"

/**
 * Start-up hardening, before the store, token and socket are opened and
 * before any thread starts (capability sets are per thread).
 * @param[in] cfg borrowed.
 * @return RCPT_OK; RCPT_E_CONFIG (running as a uid other than the
 * configured user, a directory that cannot be made); RCPT_E_DENIED (a
 * switch of identity the kernel refused); @p diag says which.
 */
int d_harden_early(
    const struct rcpt_cfg *cfg, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * The rest, once the socket, store and token are open and every thread
 * runs: the configured user for good (checking that no way back to
 * root or to any capability is left), no_new_privs, then the seccomp
 * allowlist on every thread (kill, or log with seccomp = log; none
 * under valgrind, which does not implement seccomp, and it says so).
 * @return RCPT_OK; RCPT_E_DENIED (a drop the kernel refused, or one
 * that could be undone); RCPT_E_INTERNAL (the filter could not be
 * built or loaded); @p diag says which.
 */
int d_harden_lock(
    const struct rcpt_cfg *cfg, struct rcpt_diag *diag) RCPT_MUST_CHECK;

#endif
