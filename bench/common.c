/* SPDX-License-Identifier: Apache-2.0 */
/* What the benchmark programs share; see common.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "src/err.h"
#include "src/mem.h"

#include "common.h"

#define THREADS_MAX 8

double
rcpt_bench_now(void)
{
	return rcpt_bench_cpu(CLOCK_MONOTONIC);
}

double
rcpt_bench_cpu(clockid_t which)
{
	struct timespec ts;

	clock_gettime(which, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool
rcpt_bench_gate_wait(struct rcpt_bench_gate *g)
{
	int go;

	pthread_mutex_lock(&g->mu);
	while (g->go == 0)
		pthread_cond_wait(&g->cv, &g->mu);
	go = g->go;
	pthread_mutex_unlock(&g->mu);
	return go > 0;
}

void
rcpt_bench_gate_open(struct rcpt_bench_gate *g, int go)
{
	pthread_mutex_lock(&g->mu);
	g->go = go;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

int
rcpt_bench_threads(
    void *(*fn)(void *), void *const *args, int n, struct rcpt_bench_gate *g)
{
	pthread_t tid[THREADS_MAX];
	int i, started = 0, r = RCPT_OK;

	if (n < 1 || n > THREADS_MAX)
		return RCPT_E_INVAL;
	for (i = 0; i < n; i++) {
		if (pthread_create(&tid[i], NULL, fn, args[i]) != 0) {
			r = RCPT_E_INTERNAL;
			break;
		}
		started++;
	}
	rcpt_bench_gate_open(g, r == RCPT_OK ? 1 : -1);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	return r;
}

int
rcpt_bench_threads_many(
    void *(*fn)(void *), void *const *args, int n, struct rcpt_bench_gate *g)
{
	pthread_t *tid;
	int i, started = 0, r = RCPT_OK;

	if (n < 1 || n > RCPT_BENCH_THREADS_MANY)
		return RCPT_E_INVAL;
	if ((tid = rcpt_calloc((size_t)n, sizeof(*tid))) == NULL) {
		rcpt_bench_gate_open(g, -1);
		return RCPT_E_NOMEM;
	}
	for (i = 0; i < n; i++) {
		if (pthread_create(&tid[i], NULL, fn, args[i]) != 0) {
			r = RCPT_E_INTERNAL;
			break;
		}
		started++;
	}
	rcpt_bench_gate_open(g, r == RCPT_OK ? 1 : -1);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	free(tid);
	return r;
}

/* Reads a number in [lo, hi] from optarg into *out (via double). */
static int
parse_num(const struct rcpt_bench_opts *o, const char *name, double lo,
    double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(optarg, &end);
	if (errno != 0 || *end != '\0' || end == optarg ||
	    !(*out >= lo && *out <= hi)) {
		fprintf(
		    stderr, "%s: --%s: want %g to %g\n", o->prog, name, lo, hi);
		return RCPT_E_INVAL;
	}
	return RCPT_OK;
}

int
rcpt_bench_parse_args(int argc, char **argv, struct rcpt_bench_opts *o)
{
	struct option longopts[] = {
	    {"quick", no_argument, NULL, 'q'},
	    {"seconds", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {o->count_opt, required_argument, NULL, 'n'},
	    {NULL, 0, NULL, 0},
	};
	char *end;
	int c;

	if (o->count_opt == NULL)
		longopts[3] = (struct option){NULL, 0, NULL, 0};
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			o->quick = true;
			break;
		case 's':
			if (parse_num(o, "seconds", 0.1, 600, &o->seconds) !=
			    RCPT_OK)
				return RCPT_E_INVAL;
			o->have_seconds = true;
			break;
		case 'n':
			errno = 0;
			o->count = strtoull(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || end == optarg ||
			    o->count == 0 || o->count > o->count_max) {
				fprintf(stderr,
				    "%s: --%s: want 1 to %" PRIu64 "\n",
				    o->prog, o->count_opt, o->count_max);
				return RCPT_E_INVAL;
			}
			o->have_count = true;
			break;
		case 'h':
			o->usage(stdout);
			exit(0);
		default:
			o->usage(stderr);
			return RCPT_E_INVAL;
		}
	}
	if (optind != argc) {
		o->usage(stderr);
		return RCPT_E_INVAL;
	}
	return RCPT_OK;
}

void
rcpt_bench_machine(struct rcpt_bench_machine *m)
{
	double load[1];

	m->nproc = sysconf(_SC_NPROCESSORS_ONLN);
	m->load = getloadavg(load, 1) == 1 ? load[0] : -1;
	printf("machine: nproc %ld, %s, load average %.2f\n", m->nproc,
	    OpenSSL_version(OPENSSL_VERSION), m->load);
}

static const char *rm_prog; /* for remove_entry()'s messages */

static int
remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, "%s: cannot remove %s: %s\n", rm_prog, path,
		    strerror(errno));
	return 0;
}

void
rcpt_bench_remove_tree(const char *prog, const char *dir)
{
	rm_prog = prog;
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "%s: cannot walk %s\n", prog, dir);
}

int
rcpt_bench_mkdtemp(const char *prog, char *out, size_t size)
{
	char tmpl[PATH_MAX];
	const char *tmp;

	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	if ((size_t)snprintf(tmpl, sizeof(tmpl), "%s/rcpt-bench-%s-XXXXXX", tmp,
	        prog) >= sizeof(tmpl) - 32) {
		fprintf(stderr, "%s: TMPDIR too long\n", prog);
		return RCPT_E_CONFIG;
	}
	if (mkdtemp(tmpl) == NULL) {
		fprintf(stderr, "%s: mkdtemp: %s\n", prog, strerror(errno));
		return RCPT_E_IO;
	}
	/* SOFTHSM2_CONF and a token store want an absolute path. */
	if (size < PATH_MAX || realpath(tmpl, out) == NULL ||
	    strlen(out) >= size - 32) {
		fprintf(stderr, "%s: realpath of %s failed\n", prog, tmpl);
		rcpt_bench_remove_tree(prog, tmpl);
		return RCPT_E_IO;
	}
	return RCPT_OK;
}

int
rcpt_bench_copy_file(
    const char *prog, const char *from, const char *dir, unsigned mode)
{
	char to[PATH_MAX], buf[65536];
	const char *base = strrchr(from, '/');
	FILE *in = NULL, *out = NULL;
	size_t n;
	int r = RCPT_E_IO;

	base = base != NULL ? base + 1 : from;
	if ((size_t)snprintf(to, sizeof(to), "%s/%s", dir, base) >=
	    sizeof(to)) {
		fprintf(stderr, "%s: %s/%s: path too long\n", prog, dir, base);
		return RCPT_E_IO;
	}
	if ((in = fopen(from, "rb")) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", prog, from, strerror(errno));
		return RCPT_E_NOT_FOUND;
	}
	if ((out = fopen(to, "wb")) == NULL)
		goto out;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			goto out;
	if (ferror(in))
		goto out;
	if (fclose(out) != 0) {
		out = NULL;
		goto out;
	}
	out = NULL;
	if (chmod(to, (mode_t)mode) != 0)
		goto out;
	r = RCPT_OK;
out:
	if (r != RCPT_OK)
		fprintf(stderr, "%s: copy %s to %s: %s\n", prog, from, to,
		    strerror(errno));
	if (out != NULL)
		fclose(out);
	fclose(in);
	return r;
}

double
rcpt_bench_quantile(const double *sorted, size_t n, double p)
{
	double x = p * (double)n;
	size_t rank;

	if (n == 0)
		return 0;
	/* Nearest rank: the smallest value with at least p of them below. */
	rank = (size_t)x;
	if ((double)rank < x)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

bool
rcpt_bench_sample_add(struct rcpt_bench_sample *s, double x)
{
	size_t cap = s->cap == 0 ? 4096 : s->cap * 2;
	double *p;

	if (s->n == s->cap) {
		if ((p = rcpt_reallocarray(s->v, cap, sizeof(*p))) == NULL)
			return false;
		s->v = p;
		s->cap = cap;
	}
	s->v[s->n++] = x;
	return true;
}

bool
rcpt_bench_sample_take(
    struct rcpt_bench_sample *to, struct rcpt_bench_sample *from)
{
	double *p;

	if (to->n + from->n > to->cap) {
		p = rcpt_reallocarray(to->v, to->n + from->n, sizeof(*p));
		if (p == NULL)
			return false;
		to->v = p;
		to->cap = to->n + from->n;
	}
	if (from->n > 0)
		memcpy(to->v + to->n, from->v, from->n * sizeof(*p));
	to->n += from->n;
	rcpt_bench_sample_free(from);
	return true;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

void
rcpt_bench_sample_sort(struct rcpt_bench_sample *s)
{
	if (s->n > 1)
		qsort(s->v, s->n, sizeof(*s->v), cmp_double);
}

void
rcpt_bench_sample_free(struct rcpt_bench_sample *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

pid_t
rcpt_bench_spawn(
    const char *prog, const char *path, char *const argv[], const char *log)
{
	pid_t pid;
	int fd;

	if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) <
	    0) {
		fprintf(stderr, "%s: %s: %s\n", prog, log, strerror(errno));
		return -1;
	}
	if ((pid = fork()) < 0) {
		fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
		close(fd);
		return -1;
	}
	if (pid == 0) {
		if (dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execv(path, argv);
		/* Only async-signal-safe calls after fork: 127 says it. */
		_exit(127);
	}
	close(fd);
	return pid;
}

int
rcpt_bench_child_wait(pid_t pid, double seconds)
{
	double until = rcpt_bench_now() + seconds;
	pid_t w;
	int st;

	for (;;) {
		w = waitpid(pid, &st, WNOHANG);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st)
			                     : 128 + WTERMSIG(st);
		if (rcpt_bench_now() >= until)
			return -1;
		usleep(10000);
	}
}

long
rcpt_bench_proc_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t n = strlen(field);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, n) == 0) {
			v = strtol(line + n, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

double
rcpt_bench_proc_cpu(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	long hz = sysconf(_SC_CLK_TCK);
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The name in parentheses may hold blanks: fields follow the last ')'.
	 */
	if (hz <= 0 || (p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1,
	        " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
	        &st) != 2)
		return -1;
	return (double)(ut + st) / (double)hz;
}

const char *
rcpt_bench_fs_type(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf) != 0)
		return "unknown";
	switch ((unsigned long)sf.f_type) {
	case 0xEF53UL:
		return "ext4";
	case 0x58465342UL:
		return "xfs";
	case 0x9123683EUL:
		return "btrfs";
	case 0x01021994UL:
		return "tmpfs";
	case 0x794C7630UL:
		return "overlayfs";
	default:
		return "other";
	}
}

void
rcpt_bench_show_file(const char *path)
{
	char buf[4096];
	size_t n;
	FILE *f;

	fprintf(stderr, "--- %s ---\n", path);
	if ((f = fopen(path, "r")) != NULL) {
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, stderr);
		fclose(f);
	}
	fprintf(stderr, "--- end ---\n");
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return RCPT_E_IO;
		c += w;
		n -= (size_t)w;
	}
	return RCPT_OK;
}

static int
read_all(int fd, void *p, size_t n)
{
	char *c = p;
	ssize_t r;

	while (n > 0) {
		r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return RCPT_E_IO;
		c += r;
		n -= (size_t)r;
	}
	return RCPT_OK;
}

int
rcpt_bench_in_child(rcpt_bench_child_fn fn, const void *arg, void *rep,
    size_t size, double *rss_mib_out, char *why, size_t why_size)
{
	struct rusage ru;
	int fds[2], st, r;
	pid_t pid;

	memset(rep, 0, size);
	*rss_mib_out = 0;
	if (pipe(fds) != 0)
		return RCPT_E_IO;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return RCPT_E_IO;
	}
	if (pid == 0) {
		close(fds[0]);
		if (fn != NULL)
			fn(arg, rep);
		r = write_all(fds[1], rep, size);
		_exit(r == RCPT_OK ? 0 : 1);
	}
	close(fds[1]);
	r = read_all(fds[0], rep, size);
	close(fds[0]);
	while (wait4(pid, &st, 0, &ru) < 0) {
		if (errno != EINTR)
			return RCPT_E_IO;
	}
	if (r != RCPT_OK || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (WIFSIGNALED(st))
			snprintf(why, why_size, "child killed by signal %d",
			    WTERMSIG(st));
		else
			snprintf(why, why_size, "child process failed");
		return RCPT_E_INTERNAL;
	}
	/* Linux reports ru_maxrss in KiB. */
	*rss_mib_out = (double)ru.ru_maxrss / 1024.0;
	return RCPT_OK;
}

const char *
rcpt_bench_verdict(bool met)
{
	return met ? "met" : "MISSED";
}

double
rcpt_bench_max(double a, double b)
{
	return a > b ? a : b;
}

double
rcpt_bench_min(double a, double b)
{
	return a < b ? a : b;
}
