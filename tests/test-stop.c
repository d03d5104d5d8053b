/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SIGTERM arriving in the same wake-up as many clients hanging up
 * (issue 5, item 2).  The stop reads every connection and closes those
 * whose client has gone; the wake-up's later events must not name a
 * connection the stop already closed.  The daemon is held with SIGSTOP
 * while the signal is sent and then the clients close, so that its next
 * epoll_wait returns the signal first and every hang-up after it: the
 * order that once made receiptd use freed connections and die with
 * SIGSEGV in about one stop in ten.  Under AddressSanitizer a use after
 * free is reported at once; in every build the exit status must be 0.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemonlib.h"
#include "softhsm.h"
#include "testlib.h"

#define CLIENTS 32
#define ROUNDS  3

static struct rcpt_test_token tok;
static int tok_status = -1;

static const char body_fmt[] = "[limits]\n"
                               "connections = 100\n"
                               "\n[principals]\n"
                               "me = uid:%u\n"
                               "\n[chain %s]\n"
                               "append = me\n"
                               "read = me\n";

static const char tip_fmt[] =
    "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tip\",\"params\":"
    "{\"chain\":\"%s\"}}";

/* Waits until @p pid is stopped (state T in /proc). */
static int
wait_stopped(pid_t pid)
{
	char path[64], *text, *state;
	size_t len;
	int i, stopped;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	for (i = 0; i < 1000; i++) {
		text = rcpt_test_read_file(path, &len);
		state = text != NULL ? strrchr(text, ')') : NULL;
		stopped = state != NULL && strncmp(state, ") T", 3) == 0;
		free(text);
		if (stopped)
			return 0;
		usleep(1000);
	}
	return -1;
}

static void
test_stop_with_hangups(void)
{
	char body[512], chain[16], line[256], *ans;
	int fds[CLIENTS], round, i, st;
	struct td t;

	for (round = 0; round < ROUNDS; round++) {
		snprintf(chain, sizeof(chain), "s%d", round);
		snprintf(
		    body, sizeof(body), body_fmt, (unsigned)geteuid(), chain);
		snprintf(line, sizeof(line), tip_fmt, chain);
		CU_ASSERT_FATAL(td_init(&t, &tok, 0, 0, body) == 0);
		CU_ASSERT_FATAL(td_start(&t) == 0);
		/* One answered call each: every connection is accepted. */
		for (i = 0; i < CLIENTS; i++) {
			fds[i] = td_connect(&t);
			CU_ASSERT_FATAL(fds[i] >= 0);
			ans = td_rpc(fds[i], line);
			CU_ASSERT_PTR_NOT_NULL(ans);
			CU_ASSERT_PTR_NOT_NULL(
			    ans != NULL ? strstr(ans, "\"result\"") : NULL);
			free(ans);
		}
		CU_ASSERT_EQUAL_FATAL(kill(t.pid, SIGSTOP), 0);
		CU_ASSERT_EQUAL_FATAL(wait_stopped(t.pid), 0);
		/* Queued while stopped: the signal is ready before them. */
		CU_ASSERT_EQUAL(kill(t.pid, SIGTERM), 0);
		for (i = 0; i < CLIENTS; i++)
			close(fds[i]);
		CU_ASSERT_EQUAL(kill(t.pid, SIGCONT), 0);
		st = td_stop(&t);
		CU_ASSERT_EQUAL(st, 0);
		if (st != 0)
			fprintf(stderr,
			    "\nround %d: receiptd stopped with "
			    "status %d\n",
			    round, st);
		CU_ASSERT_TRUE(td_log_has(&t, "SIGTERM"));
		CU_ASSERT_TRUE(td_log_has(&t, "stopped"));
		td_free(&t);
	}
}

static int
suite_init(void)
{
	return tok_status == 0 ? 0 : -1;
}

static CU_TestInfo stop_tests[] = {
    {"SIGTERM, then every client hangs up, in one wake-up",
        test_stop_with_hangups},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"stop", suite_init, NULL, NULL, NULL, stop_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (rcpt_test_sanitizer_env() != 0)
		return 1;
	return rcpt_test_token_main(
	    suites, 0, "receiptd-stop", &tok, &tok_status);
}
