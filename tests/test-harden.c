/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a running receiptd has given up (issue 5, item 1), read from
 * outside as an attacker would meet it: /proc/PID/status of every thread
 * (uids, gids, groups, capabilities, no_new_privs, seccomp mode),
 * /proc/PID/limits (no core), the owner of /proc/PID files (not
 * dumpable), and the modes of its socket and directories.  Then it must
 * still do its work under the seccomp filter: append, get, rotate (a key
 * generated on the token), prune with compaction, a SIGHUP reload that
 * looks a user up, and a clean stop on SIGTERM (exit 0; a call outside
 * the allowlist would have killed it with SIGSYS).
 *
 * As root it runs the daemon twice: with user = nobody (the drop), and
 * without user (root without capabilities, the documented fallback).
 * As another user it runs it once as that user and checks what does
 * not need root, and says what it did not run.
 */
#include "config.h"

#define _XOPEN_SOURCE_EXTENDED 1 /* nftw's FTW_PHYS with glibc */

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "daemonlib.h"
#include "softhsm.h"
#include "testlib.h"

#define EXTRA_GID 65533u /* a supplementary group for the drop */
#define NO_CAPS   "0000000000000000"

static struct rcpt_test_token tok;
static int tok_status = -1;
/*
 * Each run makes a new store on the same token, whose anchor remembers
 * every chain it signed for: so each run has a chain of its own.
 */
static char chain[16];
static int runs;

static const char body_fmt[] = "[principals]\n"
                               "me = uid:%u\n"
                               "\n[chain %s]\n"
                               "append = me\n"
                               "read = me\n"
                               "admin = me\n";

/* What the daemon under test should look like. */
struct expect {
	unsigned uid, gid;
	const char *groups; /* the Groups: line of /proc/PID/status */
	int drop;           /* 1: started as root, dropped to uid */
	const char *log;    /* a line the log must have, or NULL */
};

/* Helpers */

static json_object *
call(int fd, const char *line)
{
	char *ans = td_rpc(fd, line);
	json_object *a = ans != NULL ? json_tokener_parse(ans) : NULL;

	if (a == NULL)
		fprintf(stderr, "no answer to %.200s\n", line);
	free(ans);
	return a;
}

static json_object *
result(json_object *a)
{
	json_object *r = NULL;

	if (a != NULL)
		json_object_object_get_ex(a, "result", &r);
	return r;
}

static int64_t
member_i(json_object *o, const char *name)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, name, &v))
		return -1;
	return json_object_get_int64(v);
}

/*
 * The value of @p field ("Uid", "Seccomp"...) in the status file
 * @p path, copied into @p out without the trailing newline.
 */
static int
status_field(const char *path, const char *field, char *out, size_t cap)
{
	char key[64];
	char *text = rcpt_test_read_file(path, NULL), *p, *e;
	size_t n;

	if (text == NULL)
		return -1;
	snprintf(key, sizeof(key), "\n%s:", field);
	if ((p = strstr(text, key)) == NULL) {
		free(text);
		return -1;
	}
	p += strlen(key);
	p += strspn(p, " \t");
	e = strchr(p, '\n');
	n = e != NULL ? (size_t)(e - p) : strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	free(text);
	return 0;
}

/*
 * Checks @p field against @p want in every thread's status; returns how
 * many threads were looked at (0 on failure, printed).
 */
static int
each_thread_has(pid_t pid, const char *field, const char *want)
{
	char dir[64], path[400], got[256];
	struct dirent *de;
	DIR *d;
	int n = 0, bad = 0;

	snprintf(dir, sizeof(dir), "/proc/%ld/task", (long)pid);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/status", dir, de->d_name);
		if (status_field(path, field, got, sizeof(got)) != 0 ||
		    strcmp(got, want) != 0) {
			fprintf(stderr,
			    "\nthread %s: %s: \"%s\", want \"%s\"\n",
			    de->d_name, field, got, want);
			bad = 1;
		}
		n++;
	}
	closedir(d);
	return bad ? 0 : n;
}

/* Gives @p dir and all below it to @p uid:@p gid (nftw has no context). */
static uid_t tree_uid;
static gid_t tree_gid;

static int
chown_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return lchown(path, tree_uid, tree_gid);
}

static int
chown_tree(const char *dir, uid_t uid, gid_t gid)
{
	tree_uid = uid;
	tree_gid = gid;
	return nftw(dir, chown_one, 16, FTW_PHYS);
}

/* Waits up to 20 s for @p s in the daemon's log. */
static int
log_wait(const struct td *t, const char *s)
{
	int i;

	for (i = 0; i < 200; i++) {
		if (td_log_has(t, s))
			return 1;
		usleep(100000);
	}
	return 0;
}

/* Checks */

/*
 * The Seccomp: line to expect: 2 (filter), or 0 when the daemon runs
 * under valgrind (RCPT_DAEMON_VALGRIND), which cannot run a filter.
 */
static const char *
seccomp_mode(void)
{
	return getenv("RCPT_DAEMON_VALGRIND") != NULL ? "0" : "2";
}

static void
check_proc(const struct td *t, const struct expect *x)
{
	char want[64], path[64], *lim, *p;
	struct stat st;

	/* An answered call: the serve loop runs, so hardening is done. */
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", x->uid, x->uid, x->uid,
	    x->uid);
	CU_ASSERT(each_thread_has(t->pid, "Uid", want) > 1);
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", x->gid, x->gid, x->gid,
	    x->gid);
	CU_ASSERT(each_thread_has(t->pid, "Gid", want) > 1);
	if (x->groups != NULL)
		CU_ASSERT(each_thread_has(t->pid, "Groups", x->groups) > 1);
	CU_ASSERT(each_thread_has(t->pid, "NoNewPrivs", "1") > 1);
	CU_ASSERT(each_thread_has(t->pid, "Seccomp", seccomp_mode()) > 1);
	CU_ASSERT(each_thread_has(t->pid, "CapInh", NO_CAPS) > 1);
	CU_ASSERT(each_thread_has(t->pid, "CapPrm", NO_CAPS) > 1);
	CU_ASSERT(each_thread_has(t->pid, "CapEff", NO_CAPS) > 1);
	CU_ASSERT(each_thread_has(t->pid, "CapAmb", NO_CAPS) > 1);
	if (x->uid == 0 || x->drop)
		CU_ASSERT(each_thread_has(t->pid, "CapBnd", NO_CAPS) > 1);
	/* No core file: soft and hard limit 0. */
	snprintf(path, sizeof(path), "/proc/%ld/limits", (long)t->pid);
	CU_ASSERT_FATAL((lim = rcpt_test_read_file(path, NULL)) != NULL);
	CU_ASSERT_FATAL((p = strstr(lim, "Max core file size")) != NULL);
	p += strlen("Max core file size");
	CU_ASSERT_EQUAL(strtol(p, &p, 10), 0);
	CU_ASSERT_EQUAL(strtol(p, &p, 10), 0);
	free(lim);
	/*
	 * Not dumpable: the kernel gives a non-dumpable process's /proc
	 * files to root, so its own uid may not ptrace it or read its
	 * memory or environment.  Only visible when that uid is not 0.
	 */
	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)t->pid);
	if (x->uid != 0) {
		CU_ASSERT_EQUAL(stat(path, &st), 0);
		CU_ASSERT_EQUAL(st.st_uid, 0);
	}
}

/* The socket is born 0660 and its new directory 0750, both the user's. */
static void
check_socket(const struct td *t, const struct expect *x)
{
	char *dir = rcpt_test_join(t->dir, "run");
	struct stat st;

	CU_ASSERT_FATAL(dir != NULL);
	CU_ASSERT_EQUAL_FATAL(lstat(t->sock, &st), 0);
	CU_ASSERT(S_ISSOCK(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0660);
	CU_ASSERT_EQUAL(st.st_uid, x->uid);
	CU_ASSERT_EQUAL(st.st_gid, x->gid);
	CU_ASSERT_EQUAL_FATAL(lstat(dir, &st), 0);
	CU_ASSERT(S_ISDIR(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0750);
	CU_ASSERT_EQUAL(st.st_uid, x->uid);
	CU_ASSERT_EQUAL(st.st_gid, x->gid);
	CU_ASSERT_EQUAL_FATAL(lstat(t->store, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
	CU_ASSERT_EQUAL(st.st_uid, x->uid);
	free(dir);
}

static const char append_fmt[] =
    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"append\",\"params\":"
    "{\"chain\":\"%s\",\"type\":\"harden.test\",\"data\":{\"i\":%d}}}";

/* Calls @p method with params {"chain": chain, @p more}. */
static json_object *
call_chain(int fd, int id, const char *method, const char *more)
{
	char line[512];

	snprintf(line, sizeof(line),
	    "{\"jsonrpc\":\"2.0\",\"id\":%d,\"method\":\"%s\",\"params\":"
	    "{\"chain\":\"%s\"%s%s}}",
	    id, method, chain, more[0] != '\0' ? "," : "", more);
	return call(fd, line);
}

/*
 * The work, under the filter: appends, a get, a rotation (SoftHSM writes
 * new object files), a prune (compaction: a new store file renamed over
 * the old one) and appends after it.
 */
static void
check_work(const struct td *t)
{
	char line[256];
	json_object *a;
	int fd = td_connect(t), i;

	CU_ASSERT_FATAL(fd >= 0);
	for (i = 1; i <= 3; i++) {
		snprintf(line, sizeof(line), append_fmt, i, chain, i);
		a = call(fd, line);
		CU_ASSERT_EQUAL(member_i(result(a), "seq"), i);
		json_object_put(a);
	}
	a = call_chain(fd, 4, "get", "\"seq\":2");
	CU_ASSERT_EQUAL(member_i(result(a), "seq"), 2);
	json_object_put(a);
	a = call_chain(fd, 5, "rotate", "\"reason\":\"test\"");
	CU_ASSERT_PTR_NOT_NULL(result(a));
	json_object_put(a);
	a = call_chain(
	    fd, 6, "prune", "\"before\":\"2999-01-01T00:00:00.000Z\"");
	CU_ASSERT(member_i(result(a), "pruned") >= 3);
	json_object_put(a);
	snprintf(line, sizeof(line), append_fmt, 7, chain, 7);
	a = call(fd, line);
	CU_ASSERT(member_i(result(a), "seq") > 3);
	json_object_put(a);
	close(fd);
}

/*
 * SIGHUP under the filter: the file is read again, and a user: principal
 * sends glibc to the user database.  The file must stay readable by the
 * daemon's user (root:group 0640 when it dropped).
 */
static void
add_principal(const char *conf, const char *text, const char *user)
{
	static const char head[] = "[principals]\n";
	const char *p = strstr(text, head);
	FILE *f;

	CU_ASSERT_FATAL(p != NULL);
	p += strlen(head);
	/* Rewritten in place, so its owner and mode stay. */
	CU_ASSERT_FATAL((f = fopen(conf, "w")) != NULL);
	fprintf(f, "%.*sother = user:%s\n%s", (int)(p - text), text, user, p);
	CU_ASSERT_EQUAL(fclose(f), 0);
}

static void
check_reload(struct td *t)
{
	char *text = rcpt_test_read_file(t->conf, NULL);
	json_object *a;
	int fd;

	CU_ASSERT_FATAL(text != NULL);
	/* A name no user has: every name service is asked, then refused. */
	add_principal(t->conf, text, "no-such-user.receiptd");
	CU_ASSERT_EQUAL(kill(t->pid, SIGHUP), 0);
	CU_ASSERT_TRUE(log_wait(t, "keeping the current configuration"));
	CU_ASSERT_TRUE(td_log_has(t, "no such user no-such-user.receiptd"));
	add_principal(t->conf, text, geteuid() == 0 ? "nobody" : "root");
	free(text);
	CU_ASSERT_EQUAL(kill(t->pid, SIGHUP), 0);
	CU_ASSERT_TRUE(log_wait(t, "principals and rights reloaded"));
	fd = td_connect(t);
	CU_ASSERT_FATAL(fd >= 0);
	a = call_chain(fd, 1, "tip", "");
	CU_ASSERT(member_i(result(a), "size") > 0);
	json_object_put(a);
	close(fd);
}

/* Starts a daemon as @p x says, runs every check, stops it. */
static void
run(const char *daemon_keys, const struct expect *x)
{
	char body[512];
	struct td t;
	struct stat st;

	snprintf(chain, sizeof(chain), "h%d", ++runs);
	snprintf(body, sizeof(body), body_fmt, (unsigned)geteuid(), chain);
	CU_ASSERT_FATAL(td_init_ex(&t, &tok, "run", daemon_keys, body) == 0);
	/*
	 * The token (and its PIN file) belong to the daemon's user, as the
	 * provider requires; root without capabilities is no exception.
	 * Done on every run, so one that failed half-way harms no other.
	 */
	if (geteuid() == 0)
		CU_ASSERT_FATAL(chown_tree(tok.dir, x->uid, x->gid) == 0);
	if (x->drop) {
		/* What the user must reach; the config readable on SIGHUP. */
		CU_ASSERT_FATAL(chmod(t.pdir, 0755) == 0);
		CU_ASSERT_FATAL(
		    chown(t.conf, 0, x->gid) == 0 && chmod(t.conf, 0640) == 0);
	}
	CU_ASSERT_FATAL(td_start(&t) == 0);
	check_work(&t);
	check_proc(&t, x);
	check_socket(&t, x);
	CU_ASSERT_TRUE(td_log_has(&t, "hardened: uid"));
	if (x->log != NULL)
		CU_ASSERT_TRUE(td_log_has(&t, x->log));
	check_reload(&t);
	check_proc(&t, x); /* still so after all that */
	CU_ASSERT_EQUAL(td_stop(&t), 0);
	CU_ASSERT_FALSE(td_log_has(&t, "Bad system call"));
	/* The stop removed the socket, as the user, from its directory. */
	CU_ASSERT_NOT_EQUAL(lstat(t.sock, &st), 0);
	td_free(&t);
}

/* Tests */

static void
test_drop_to_nobody(void)
{
	struct passwd *pw = getpwnam("nobody");
	struct expect x = {0};
	char keys[128];

	if (geteuid() != 0) {
		fprintf(stderr, "\nnot root: the drop to user nobody, its "
		                "groups and CapBnd were not checked\n");
		return;
	}
	CU_ASSERT_FATAL(pw != NULL);
	x.uid = (unsigned)pw->pw_uid;
	x.gid = (unsigned)pw->pw_gid;
	x.groups = "65533";
	x.drop = 1;
	snprintf(keys, sizeof(keys), "user = nobody\ngroups = %u\n", EXTRA_GID);
	run(keys, &x);
}

static void
test_root_without_user(void)
{
	struct expect x = {0};

	if (geteuid() != 0) {
		fprintf(stderr, "\nnot root: root without user was not run\n");
		return;
	}
	x.log = "keeps uid 0 without any capability";
	run(NULL, &x);
}

static void
test_as_invoking_user(void)
{
	struct expect x = {0};
	struct td t;
	char body[512], keys[64];

	if (geteuid() == 0) {
		fprintf(stderr, "\nroot: the run as a plain user is the "
		                "nobody case above\n");
		return;
	}
	x.uid = (unsigned)geteuid();
	x.gid = (unsigned)getegid();
	run(NULL, &x);
	/* Another uid as user cannot be reached from here: refused. */
	snprintf(chain, sizeof(chain), "h%d", ++runs);
	snprintf(body, sizeof(body), body_fmt, (unsigned)geteuid(), chain);
	snprintf(
	    keys, sizeof(keys), "user = %u\ngroup = %u\n", x.uid + 1, x.gid);
	CU_ASSERT_FATAL(td_init_ex(&t, &tok, "run", keys, body) == 0);
	CU_ASSERT_EQUAL(td_start_refused(&t), 1);
	CU_ASSERT_TRUE(td_log_has(&t, "cannot switch"));
	td_free(&t);
}

/* seccomp = log still installs the filter, and says so. */
static void
test_seccomp_log(void)
{
	struct td t;
	char body[512], path[64], got[16];
	int st;

	snprintf(chain, sizeof(chain), "h%d", ++runs);
	snprintf(body, sizeof(body), body_fmt, (unsigned)geteuid(), chain);
	if (geteuid() == 0) /* root without user: the token is root's */
		CU_ASSERT_FATAL(chown_tree(tok.dir, 0, 0) == 0);
	CU_ASSERT_FATAL(
	    td_init_ex(&t, &tok, "run", "seccomp = log\n", body) == 0);
	CU_ASSERT_FATAL(td_start(&t) == 0);
	CU_ASSERT_TRUE(log_wait(&t, "hardened: uid"));
	if (getenv("RCPT_DAEMON_VALGRIND") == NULL)
		CU_ASSERT_TRUE(td_log_has(&t, "calls (log)"));
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)t.pid);
	CU_ASSERT_EQUAL(status_field(path, "Seccomp", got, sizeof(got)), 0);
	CU_ASSERT_STRING_EQUAL(got, seccomp_mode());
	st = td_stop(&t);
	CU_ASSERT_EQUAL(st, 0);
	if (st != 0)
		fprintf(stderr, "\nreceiptd stopped with status %d\n", st);
	td_free(&t);
}

static int
suite_init(void)
{
	return tok_status == 0 ? 0 : -1;
}

static CU_TestInfo harden_tests[] = {
    {"root drops to user nobody", test_drop_to_nobody},
    {"root without user keeps no capability", test_root_without_user},
    {"a plain user stays itself", test_as_invoking_user},
    {"seccomp = log", test_seccomp_log},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {"hardening", suite_init, NULL, NULL, NULL, harden_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (rcpt_test_sanitizer_env() != 0)
		return 1;
	return rcpt_test_token_main(
	    suites, 0, "receiptd-harden", &tok, &tok_status);
}
