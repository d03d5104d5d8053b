/* SPDX-License-Identifier: Apache-2.0 */
/*
 * receiptd's hardening at start (harden.h has the order).  It promises
 * that once d_harden_lock() returns, no thread of the daemon holds a
 * capability, can become root again, can gain privileges through exec,
 * or can make a system call outside the allowlist below; and that a
 * process holding a PIN never dumps core or lets another process of
 * its uid read its memory.
 *
 * The allowlist was measured, not guessed: the daemon ran under
 * `strace -f` through tests/test-daemon and tests/test-harden (appends
 * from 16 clients, rotation with key generation, export, proofs, 1,000
 * connections, restart, SIGHUP, prune with compaction, a full map) and
 * every call made after listen() is here, with the neighbours glibc may
 * pick instead on another version (openat/open, fstat/newfstatat/statx).
 * docs/hardening.md records the run.  A call outside it kills the whole
 * process ([daemon] seccomp = kill, the default) or is logged by the
 * kernel and allowed (seccomp = log), for finding what another PKCS#11
 * module needs.
 *
 * It does not drop privileges by itself at the wrong moment: everything
 * here runs on the main thread, either before any thread exists or
 * through calls that reach every thread (glibc's set*id, seccomp's
 * TSYNC).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/harden.h"

/*
 * valgrind does not implement seccomp(2), and a filter would bind
 * valgrind's own calls: under it (make memcheck) none is installed.
 */
#if defined(__has_include) && !defined(__CPPCHECK__)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif

#ifdef SANITIZED
/*
 * Test builds only: sanitizer reports are not symbolized by running
 * llvm-symbolizer, a new process that would start under the filter.
 * LeakSanitizer's suppressions (tests/lsan.supp) match module names,
 * which needs no symbolizer; reports show module+offset, for offline
 * symbolizing.  ASAN_OPTIONS and UBSAN_OPTIONS still override this.
 */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

const char *
__asan_default_options(void)
{
	return "symbolize=0";
}

const char *
__ubsan_default_options(void)
{
	return "symbolize=0:print_stacktrace=1";
}
#endif

#define SOCKET_DIR_MODE 0750 /* clients of the group traverse it */
#define STORE_DIR_MODE  0700

/*
 * Calls the daemon makes once it serves, group by group, each with who
 * needs it.  The calls with argument rules follow in install_filter().
 */
static const char *const allowed[] = {
    /*
     * Memory: malloc, thread stacks, LMDB's map (unmapped and mapped
     * again when it grows), the locked page of the PIN buffer.  mmap and
     * mprotect have a rule: never executable.
     */
    "brk",
    "munmap",
    "mremap",
    "madvise",
    "mlock",
    "munlock",
    /*
     * Threads: mutexes, condition variables and the store's timed
     * exclusive lock (futex), thread start and exit, glibc's malloc
     * sizing its arenas (sched_getaffinity), the clock when the vDSO
     * cannot serve it, and a call interrupted by SIGSTOP/SIGCONT going
     * on (restart_syscall).  clone has a rule: threads only.
     */
    "futex",
    "set_robust_list",
    "rseq",
    "exit",
    "exit_group",
    "sched_getaffinity",
    "clock_gettime",
    "gettimeofday",
    "restart_syscall",
    "rt_sigreturn",
    "rt_sigprocmask",
    "getpid",
    /*
     * The store: LMDB reads and writes pages through its descriptor,
     * syncs, takes fcntl locks, and checks the kernel and the file system
     * when an environment is opened.  Compaction (prune) writes a new
     * file, renames it over the old one, fsyncs the directory and opens
     * the environment again.  SIGTERM removes the socket.
     */
    "openat",
    "close",
    "read",
    "pread64",
    "write",
    "pwrite64",
    "writev",
    "lseek",
    "newfstatat",
    "fstatfs",
    "statfs", /* store.c: a commit failed with EIO, is the disk full? */
    "fcntl",
    "fsync",
    "fdatasync",
    "ftruncate",
    "rename",
    "unlink",
    "uname",
    /*
     * The token: SoftHSM reads its object files again when the token's
     * generation changes (listing the token directory), locks them,
     * writes new ones for a key generated at rotation, and on errors
     * writes to syslog (socket() has a rule: AF_UNIX only).  p11-kit and
     * SoftHSM check for fork with getpid; OpenSSL and key generation
     * read getrandom; the provider asks whose the PIN file must be when
     * it logs in again.
     */
    "getdents64",
    "getrandom",
    "connect",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    /*
     * The socket: connections accepted on the listening socket (made
     * before the filter), read, written, their peer's credentials, and
     * the epoll loop over them, its eventfd and its signalfd.
     */
    "accept4",
    "recvfrom",
    "sendto",
    "getsockopt",
    "epoll_wait",
    "epoll_ctl",
    /*
     * SIGHUP: the configuration is read again (getcwd for a relative
     * path) and [principals] names looked up.  glibc first asks nscd
     * over a local socket, which answers with a descriptor (recvmsg,
     * poll); systemd's module then looks for userdb directories,
     * resolving links on the way (readlinkat).
     */
    "getcwd",
    "recvmsg",
    "poll",
    "readlinkat",
    /* abort() and raise(): tgkill has a rule, this process only. */
    "rt_sigaction",
    /* The same calls under the names arm64 has instead. */
    "renameat",
    "unlinkat",
    "epoll_pwait",
    "ppoll",
#ifdef SANITIZED
    /*
     * AddressSanitizer and LeakSanitizer only (test builds): at exit
     * LeakSanitizer stops the world from a helper task it clones, which
     * lists /proc/self/task and ptraces each thread to read its
     * registers, and then reads /proc/self/maps.
     */
    "clone",
    "ptrace",
    "wait4",
    "prctl",
    "getppid",
    "gettid",
    "sigaltstack",
    "sched_yield",
    "open",
    "stat",
    "getdents",
#endif
};

/*
 * No core file, no ptrace or /proc/PID/mem by our own uid, umask 077,
 * and no privilege gained through exec: no_new_privs is per thread, so
 * it is set before any thread exists, for all of them to inherit.
 */
static int
protect(struct rcpt_diag *diag)
{
	struct rlimit no = {0, 0}, now;
	int core_off;

	umask(0077);
	/* setrlimit only when needed: a sandbox may forbid it (LimitCORE=0). */
	core_off = getrlimit(RLIMIT_CORE, &now) == 0 && now.rlim_cur == 0 &&
	           now.rlim_max == 0;
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    (!core_off && setrlimit(RLIMIT_CORE, &no) != 0) ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "hardening: cannot disable core dumps or set "
		    "no_new_privs: %s",
		    strerror(errno));
	return RCPT_OK;
}

/*
 * Makes the directory @p path when it is missing: created 0700 and only
 * then given @p mode and, when @p own, owner @p uid:@p gid, through a
 * descriptor opened without following links, so nothing swapped in
 * between is changed.  An existing directory is left as it is: its
 * owner chose its mode.
 */
static int
make_dir(const char *path, mode_t mode, int own, uid_t uid, gid_t gid,
    struct rcpt_diag *diag)
{
	char parent[PATH_MAX];
	const char *base;
	size_t len = strlen(path);
	int pfd = -1, fd = -1, r = RCPT_E_INTERNAL;

	while (len > 1 && path[len - 1] == '/')
		len--;
	if (len >= sizeof(parent))
		return rcpt_diag(
		    diag, RCPT_E_CONFIG, "%s: path too long", path);
	memcpy(parent, path, len);
	parent[len] = '\0';
	if ((base = strrchr(parent, '/')) == NULL || base[1] == '\0')
		return RCPT_OK; /* "/" or relative: nothing to make */
	parent[base - parent] = '\0';
	base = path + (base - parent) + 1;
	if (parent[0] == '\0')
		memcpy(parent, "/", 2);
	if ((pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		r = rcpt_diag(diag, RCPT_E_CONFIG, "directory %s: %s", parent,
		    strerror(errno));
		goto out;
	}
	if (mkdirat(pfd, base, 0700) != 0) {
		if (errno == EEXIST)
			r = RCPT_OK;
		else
			r = rcpt_diag(diag, RCPT_E_CONFIG,
			    "cannot make directory %.*s: %s", (int)len, path,
			    strerror(errno));
		goto out;
	}
	fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (own && fchown(fd, uid, gid) != 0) ||
	    fchmod(fd, mode) != 0) {
		r = rcpt_diag(diag, RCPT_E_DENIED,
		    "directory %.*s: cannot set its owner and mode: %s",
		    (int)len, path, strerror(errno));
		goto out;
	}
	d_log(D_INFO, "made directory %.*s (mode 0%o, uid %lu)", (int)len, path,
	    (unsigned)mode, (unsigned long)(own ? uid : geteuid()));
	r = RCPT_OK;
out:
	if (fd >= 0)
		close(fd);
	if (pfd >= 0)
		close(pfd);
	return r;
}

/* The socket's directory: the socket path without its last part. */
static int
make_socket_dir(const struct rcpt_cfg *cfg, int own, struct rcpt_diag *diag)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(cfg->socket_path, '/');
	size_t n = slash != NULL ? (size_t)(slash - cfg->socket_path) : 0;

	if (n == 0 || n >= sizeof(dir))
		return RCPT_OK; /* in "/": nothing to make */
	memcpy(dir, cfg->socket_path, n);
	dir[n] = '\0';
	return make_dir(dir, SOCKET_DIR_MODE, own, cfg->uid, cfg->gid, diag);
}

/* 1 when this thread holds no capability at all. */
static int
no_capabilities(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct c[_LINUX_CAPABILITY_U32S_3];
	int i;

	memset(c, 0, sizeof(c));
	if (syscall(SYS_capget, &h, c) != 0)
		return 0;
	for (i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (c[i].effective != 0 || c[i].permitted != 0 ||
		    c[i].inheritable != 0)
			return 0;
	return 1; /* the ambient set is a subset of the permitted one */
}

/*
 * Empties the bounding set, so that not even an exec could bring a
 * capability back; needs CAP_SETPCAP, so it is done while still root.
 * PR_CAPBSET_READ fails past the kernel's last capability.
 */
static int
drop_bounding(struct rcpt_diag *diag)
{
	unsigned long cap;

	for (cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0)
			return rcpt_diag(diag, RCPT_E_DENIED,
			    "hardening: cannot drop capability %lu from the "
			    "bounding set: %s",
			    cap, strerror(errno));
	return RCPT_OK;
}

/*
 * Gives up every capability of this thread, and with it of every thread
 * it starts later: the bounding set (as root), the ambient set, and the
 * permitted, effective and inheritable sets.  As root, the securebits
 * are locked first so that uid 0 regains nothing on exec or setuid.
 */
static int
drop_capabilities(int root, struct rcpt_diag *diag)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct c[_LINUX_CAPABILITY_U32S_3];
	int r;

	/* Nothing held, nothing to do: a sandbox may forbid capset. */
	if (!root && no_capabilities())
		return RCPT_OK;
	if (root && (r = drop_bounding(diag)) != RCPT_OK)
		return r;
	if (root &&
	    prctl(PR_SET_SECUREBITS,
	        SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
	            SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
	            SECBIT_NO_CAP_AMBIENT_RAISE |
	            SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
	        0, 0, 0) != 0)
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "hardening: cannot lock the securebits: %s",
		    strerror(errno));
	/* Fails with EINVAL only on kernels before 4.3, which have none. */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(c, 0, sizeof(c));
	if (syscall(SYS_capset, &h, c) != 0 || !no_capabilities())
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "hardening: cannot drop capabilities: %s", strerror(errno));
	return RCPT_OK;
}

/*
 * Root with [daemon] user: the directories the user needs, its groups
 * and group for good, and its uid as the effective one.  The real and
 * saved uid stay 0 until d_harden_lock(), which needs no capability to
 * set all three to the user (the kernel allows any of the current
 * three).
 */
static int
become_user(const struct rcpt_cfg *cfg, struct rcpt_diag *diag)
{
	gid_t groups[RCPT_CFG_GROUPS_MAX];
	size_t i;
	int r;

	if ((r = make_socket_dir(cfg, 1, diag)) != RCPT_OK ||
	    (r = make_dir(cfg->store_path, STORE_DIR_MODE, 1, cfg->uid,
	         cfg->gid, diag)) != RCPT_OK)
		return r;
	for (i = 0; i < cfg->n_groups; i++)
		groups[i] = (gid_t)cfg->groups[i];
	if (setgroups(cfg->n_groups, groups) != 0 ||
	    setresgid(cfg->gid, cfg->gid, cfg->gid) != 0)
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "[daemon] group: cannot switch to gid %lu: %s",
		    (unsigned long)cfg->gid, strerror(errno));
	if ((r = drop_bounding(diag)) != RCPT_OK)
		return r;
	if (setresuid((uid_t)-1, cfg->uid, (uid_t)-1) != 0)
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "[daemon] user: cannot switch to uid %lu: %s",
		    (unsigned long)cfg->uid, strerror(errno));
	return RCPT_OK;
}

int
d_harden_early(const struct rcpt_cfg *cfg, struct rcpt_diag *diag)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	int r;

	if (cfg == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "hardening: no config");
	if ((r = protect(diag)) != RCPT_OK)
		return r;
	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0)
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "hardening: getresuid: %s", strerror(errno));
	if (eu == 0 && cfg->has_user)
		return become_user(cfg, diag);
	if (cfg->has_user &&
	    (ru != cfg->uid || eu != cfg->uid || su != cfg->uid ||
	        rg != cfg->gid || eg != cfg->gid || sg != cfg->gid))
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "%s: [daemon] user and group are uid %lu gid %lu, but "
		    "receiptd runs as uid %lu gid %lu and cannot switch "
		    "(start it as root or as that user)",
		    cfg->path, (unsigned long)cfg->uid, (unsigned long)cfg->gid,
		    (unsigned long)eu, (unsigned long)eg);
	if ((r = make_socket_dir(cfg, 0, diag)) != RCPT_OK)
		return r;
	if (eu == 0)
		d_log(D_WARN,
		    "running as root: [daemon] user is not set, so receiptd "
		    "keeps uid 0 without any capability; it can still write "
		    "every file root owns.  Set user (see receiptd.conf(5))");
	/* Before any thread starts, so that every thread inherits it. */
	return drop_capabilities(eu == 0, diag);
}

/* Adds one rule; a call this architecture lacks is skipped. */
static int
allow(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n_args,
    const struct scmp_arg_cmp *args, size_t *n_rules)
{
	int nr = seccomp_syscall_resolve_name(name);

	if (nr < 0)
		return 0;
	(*n_rules)++;
	return seccomp_rule_add_array(ctx, action, nr, n_args, args);
}

/*
 * The allowlist, loaded on every thread at once (TSYNC).  Besides the
 * table: mmap and mprotect never with PROT_EXEC (nothing is loaded
 * after start; this is what MemoryDenyWriteExecute asks of systemd),
 * socket only for AF_UNIX (no network at all), clone only for threads,
 * clone3 answered ENOSYS (its flags live in memory a filter cannot read,
 * and glibc falls back to clone), and tgkill only towards this process.
 */
static int
install_filter(int log_only, size_t *n_out, struct rcpt_diag *diag)
{
	/* For MASKED_EQ, datum_a is the mask and datum_b the value. */
	const struct scmp_arg_cmp no_exec = {.arg = 2,
	    .op = SCMP_CMP_MASKED_EQ,
	    .datum_a = PROT_EXEC,
	    .datum_b = 0};
	const struct scmp_arg_cmp unix_only = {
	    .arg = 0, .op = SCMP_CMP_EQ, .datum_a = AF_UNIX, .datum_b = 0};
	const struct scmp_arg_cmp self = {.arg = 0,
	    .op = SCMP_CMP_EQ,
	    .datum_a = (scmp_datum_t)getpid(),
	    .datum_b = 0};
#ifndef SANITIZED
	const struct scmp_arg_cmp thread = {.arg = 0,
	    .op = SCMP_CMP_MASKED_EQ,
	    .datum_a = CLONE_THREAD,
	    .datum_b = CLONE_THREAD};
#endif
	scmp_filter_ctx ctx;
	size_t i, n = 0;
	int rc;

	ctx = seccomp_init(log_only ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS);
	if (ctx == NULL)
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "seccomp: cannot make a filter (kernel or libseccomp too "
		    "old for %s?)",
		    log_only ? "log" : "kill");
	rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = seccomp_attr_set(
		    ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	for (i = 0; rc == 0 && i < sizeof(allowed) / sizeof(allowed[0]); i++)
		rc = allow(ctx, SCMP_ACT_ALLOW, allowed[i], 0, NULL, &n);
	if (rc == 0)
		rc = allow(ctx, SCMP_ACT_ALLOW, "mmap", 1, &no_exec, &n);
	if (rc == 0)
		rc = allow(ctx, SCMP_ACT_ALLOW, "mprotect", 1, &no_exec, &n);
	if (rc == 0)
		rc = allow(ctx, SCMP_ACT_ALLOW, "socket", 1, &unix_only, &n);
	if (rc == 0)
		rc = allow(ctx, SCMP_ACT_ALLOW, "tgkill", 1, &self, &n);
#ifndef SANITIZED /* the sanitizers' clone is in the table */
	if (rc == 0)
		rc = allow(ctx, SCMP_ACT_ALLOW, "clone", 1, &thread, &n);
#endif
	if (rc == 0) /* a refusal, not counted as allowed */
		rc = allow(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL, &i);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0)
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "seccomp: cannot install the allowlist: %s", strerror(-rc));
	*n_out = n;
	return RCPT_OK;
}

/*
 * Loads every name service module glibc would use for users and groups
 * while loading code is still allowed: a name no module knows ("/" is in
 * no user or group name) goes through all of them.  Without it, the
 * first SIGHUP naming an unknown user would make glibc map a module
 * executable under the filter, and the daemon would be killed for it.
 */
static void
load_nss(void)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	char buf[4096];

	(void)getpwnam_r("receiptd/none", &pw, buf, sizeof(buf), &pwp);
	(void)getgrnam_r("receiptd/none", &gr, buf, sizeof(buf), &grp);
}

/* The configured user for good, checked from every angle we can. */
static int
settle_user(const struct rcpt_cfg *cfg, struct rcpt_diag *diag)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (getresuid(&ru, &eu, &su) != 0 || getresgid(&rg, &eg, &sg) != 0)
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "hardening: getresuid: %s", strerror(errno));
	if ((ru != cfg->uid || eu != cfg->uid || su != cfg->uid) &&
	    setresuid(cfg->uid, cfg->uid, cfg->uid) != 0)
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "[daemon] user: cannot drop to uid %lu for good: %s",
		    (unsigned long)cfg->uid, strerror(errno));
	if (getresuid(&ru, &eu, &su) != 0 || ru != cfg->uid || eu != cfg->uid ||
	    su != cfg->uid || rg != cfg->gid || eg != cfg->gid ||
	    sg != cfg->gid)
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "hardening: the switch to uid %lu gid %lu did not hold",
		    (unsigned long)cfg->uid, (unsigned long)cfg->gid);
	/* The drop must be one way: these must fail now. */
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "hardening: could become root again after dropping to "
		    "uid %lu",
		    (unsigned long)cfg->uid);
	return RCPT_OK;
}

int
d_harden_lock(const struct rcpt_cfg *cfg, struct rcpt_diag *diag)
{
	size_t n = 0;
	int r;

	if (cfg == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "hardening: no config");
	if (cfg->has_user && (r = settle_user(cfg, diag)) != RCPT_OK)
		return r;
	if (!no_capabilities())
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "hardening: a capability is still held");
	/* A change of uid resets it; say again that we are not dumpable. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return rcpt_diag(diag, RCPT_E_DENIED,
		    "hardening: not dumpable or no_new_privs did not hold");
	load_nss();
	if (UNDER_VALGRIND()) {
		d_log(D_WARN, "running under valgrind, which cannot run a "
		              "seccomp filter: no allowlist installed");
		d_log(D_INFO,
		    "hardened: uid %lu, gid %lu, no capabilities, "
		    "no_new_privs, no seccomp (valgrind)",
		    (unsigned long)geteuid(), (unsigned long)getegid());
		return RCPT_OK;
	}
	if ((r = install_filter(cfg->seccomp_log, &n, diag)) != RCPT_OK)
		return r;
	d_log(D_INFO,
	    "hardened: uid %lu, gid %lu, no capabilities, no_new_privs, "
	    "seccomp allowlist of %zu calls (%s)",
	    (unsigned long)geteuid(), (unsigned long)getegid(), n,
	    cfg->seccomp_log ? "log" : "kill");
	return RCPT_OK;
}
