/* SPDX-License-Identifier: Apache-2.0 */
/* What the benchmark programs share; see common.h. */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "src/err.h"

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
