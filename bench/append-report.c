/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The face of bench/append (see append.h): its command line and the
 * report: the summary, the ratios, the --batch-wait table, the targets'
 * verdicts and the closing JSON line.  It measures nothing itself;
 * append.c and append-limits.c fill struct rcpt_bench_figs and this
 * file only reads it, apart from summing up a run's latencies.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "src/err.h"
#include "src/settings.h"

#include "append.h"
#include "common.h"

#define SECONDS_DEFAULT  5.0
#define TARGET_BATCH_X   3.0  /* batch / each appends/s (issue 6) */
#define TARGET_PEER_X    2.0  /* batch / the naive peer (issue 6) */
#define TARGET_BATCH_P99 5.0  /* ms, batch at the largest count (issue 6) */
#define TARGET_RAW_X     0.80 /* each / raw C_Sign with sessions (issue 5) */
#define TARGET_EACH_P99  10.0 /* ms, each at the largest count (issue 5) */
#define TARGET_RSS_KIB   (64L * 1024) /* after --million (issue 5) */

const char *
rcpt_bench_mode_name(enum rcpt_bench_mode m)
{
	return m == RCPT_BENCH_EACH ? "each" : "batch";
}

/* ---- the command line -------------------------------------------------- */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: append [--seconds S] [--clients LIST] [--sealing "
	    "each|batch]"
	    "\n              [--batch-wait LIST] [--batch-max N] [--million] "
	    "[--no-defaults]\n"
	    "  --seconds S       measured seconds of each sealing per client "
	    "count, in %d\n"
	    "                    rounds (0.5 to 600, default %.0f)\n"
	    "  --clients LIST    up to %d client counts of 1 to %d, "
	    "comma-separated\n"
	    "                    (default 1,16,64)\n"
	    "  --sealing MODE    measure only the chain sealed each or batch "
	    "(default:\n"
	    "                    both, interleaved)\n"
	    "  --batch-wait LIST up to %d [limits] batch_wait values (0, Nms, "
	    "Nus or\n"
	    "                    default), each measured on its own daemon "
	    "with "
	    "a batch\n"
	    "                    chain at every client count\n"
	    "  --batch-max N     [limits] batch = N (1 to 65536) in the "
	    "daemons "
	    "the bench\n"
	    "                    configures (default: the daemon's default)\n"
	    "  --million         also append 1,000,000 receipts with the "
	    "largest count\n"
	    "                    to the each chain and report the daemon's RSS "
	    "after\n"
	    "  --no-defaults     skip the run with the daemon's default "
	    "settings\n",
	    RCPT_BENCH_ROUNDS, SECONDS_DEFAULT, RCPT_BENCH_COUNTS_MAX,
	    RCPT_BENCH_CLIENTS_MAX, RCPT_BENCH_WAITS_MAX);
}

static int
parse_clients(const char *s, struct rcpt_bench_append_opts *o)
{
	char *end;
	long v;

	for (o->ncounts = 0;; s = end + 1) {
		errno = 0;
		v = strtol(s, &end, 10);
		if (errno != 0 || end == s || v < 1 ||
		    v > RCPT_BENCH_CLIENTS_MAX ||
		    o->ncounts == RCPT_BENCH_COUNTS_MAX ||
		    (*end != ',' && *end != '\0'))
			return RCPT_E_INVAL;
		o->counts[o->ncounts++] = (int)v;
		if (*end == '\0')
			return RCPT_OK;
	}
}

/*
 * Each item of @p s is "default" (no batch_wait line, kept as "") or a
 * value the daemon's own parser takes, kept as written: the daemon reads
 * it with the same parser.
 */
static int
parse_waits(const char *s, struct rcpt_bench_append_opts *o)
{
	char *item;
	struct rcpt_diag d;
	const char *end;
	int64_t us;
	size_t len;

	for (o->nwaits = 0;; s = end + 1) {
		end = strchr(s, ',');
		len = end != NULL ? (size_t)(end - s) : strlen(s);
		if (len == 0 || len >= sizeof(o->wait[0]) ||
		    o->nwaits == RCPT_BENCH_WAITS_MAX) {
			fprintf(stderr,
			    "append: --batch-wait: want up to %d "
			    "comma-separated "
			    "values\n",
			    RCPT_BENCH_WAITS_MAX);
			return RCPT_E_INVAL;
		}
		item = o->wait[o->nwaits];
		memcpy(item, s, len);
		item[len] = '\0';
		rcpt_diag_clear(&d);
		if (strcmp(item, "default") == 0) {
			item[0] = '\0';
		} else if (rcpt_cfg_wait_parse(item, &us, &d) != RCPT_OK) {
			fprintf(stderr, "append: --batch-wait: item %d: %s\n",
			    o->nwaits + 1, rcpt_diag_msg(&d, RCPT_E_CONFIG));
			return RCPT_E_INVAL;
		}
		o->nwaits++;
		if (end == NULL)
			return RCPT_OK;
	}
}

static int
parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && *out >= lo &&
	       *out <= hi;
}

/* One option with its value at argv[*i + 1]; RCPT_E_INVAL when bad. */
static int
parse_valued(char **argv, int *i, struct rcpt_bench_append_opts *o)
{
	const char *opt = argv[*i], *v = argv[++*i];
	char *end;
	long n;

	if (strcmp(opt, "--sealing") == 0) {
		if (strcmp(v, "each") != 0 && strcmp(v, "batch") != 0) {
			fprintf(
			    stderr, "append: --sealing: want each or batch\n");
			return RCPT_E_INVAL;
		}
		o->mode[RCPT_BENCH_EACH] = strcmp(v, "each") == 0;
		o->mode[RCPT_BENCH_BATCH] = strcmp(v, "batch") == 0;
	} else if (strcmp(opt, "--seconds") == 0) {
		errno = 0;
		o->seconds = strtod(v, &end);
		if (errno != 0 || *end != '\0' ||
		    !(o->seconds >= 0.5 && o->seconds <= 600)) {
			fprintf(stderr, "append: --seconds: want 0.5 to 600\n");
			return RCPT_E_INVAL;
		}
	} else if (strcmp(opt, "--clients") == 0) {
		if (parse_clients(v, o) != RCPT_OK) {
			fprintf(stderr,
			    "append: --clients: want up to %d counts of 1 to "
			    "%d, "
			    "comma-separated\n",
			    RCPT_BENCH_COUNTS_MAX, RCPT_BENCH_CLIENTS_MAX);
			return RCPT_E_INVAL;
		}
	} else if (strcmp(opt, "--batch-wait") == 0) {
		return parse_waits(v, o);
	} else if (strcmp(opt, "--batch-max") == 0) {
		if (!parse_long(v, 1, 65536, &n)) {
			fprintf(
			    stderr, "append: --batch-max: want 1 to 65536\n");
			return RCPT_E_INVAL;
		}
		o->batch_max = (int)n;
	} else {
		usage(stderr);
		return RCPT_E_INVAL;
	}
	return RCPT_OK;
}

int
rcpt_bench_append_args(int argc, char **argv, struct rcpt_bench_append_opts *o)
{
	int i, r;

	*o = (struct rcpt_bench_append_opts){.seconds = SECONDS_DEFAULT,
	    .counts = {1, 16, 64},
	    .ncounts = 3,
	    .mode = {true, true},
	    .defaults = true};
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(argv[i], "--million") == 0) {
			o->million = true;
		} else if (strcmp(argv[i], "--no-defaults") == 0) {
			o->defaults = false;
		} else if (strncmp(argv[i], "--", 2) == 0 && i + 1 < argc) {
			if ((r = parse_valued(argv, &i, o)) != RCPT_OK)
				return r;
		} else {
			usage(stderr);
			return RCPT_E_INVAL;
		}
	}
	if (o->nwaits > 0 && !o->mode[RCPT_BENCH_BATCH]) {
		fprintf(stderr, "append: --batch-wait measures batch chains; "
		                "not with --sealing each\n");
		return RCPT_E_INVAL;
	}
	for (i = 0; i < o->ncounts; i++)
		if (o->counts[i] > o->counts[o->top])
			o->top = i;
	return RCPT_OK;
}

/* ---- runs --------------------------------------------------------------- */

int
rcpt_bench_run_finish(struct rcpt_bench_run *x)
{
	if (x->lat.n == 0 || x->measured <= 0 || x->wall <= 0) {
		fprintf(stderr, "append: no appends measured\n");
		return RCPT_E_INTERNAL;
	}
	rcpt_bench_sample_sort(&x->lat);
	x->p50 = rcpt_bench_quantile(x->lat.v, x->lat.n, 0.50);
	x->p99 = rcpt_bench_quantile(x->lat.v, x->lat.n, 0.99);
	x->p999 = rcpt_bench_quantile(x->lat.v, x->lat.n, 0.999);
	x->pmax = x->lat.v[x->lat.n - 1];
	rcpt_bench_sample_free(&x->lat);
	x->rate = (double)x->window / x->measured;
	x->batch = x->commits != 0 ? (double)x->total / (double)x->commits : 0;
	x->daemon_cores = x->cpu_d / x->wall;
	x->client_cores = x->cpu_c / x->wall;
	return RCPT_OK;
}

void
rcpt_bench_run_print(const struct rcpt_bench_run *x, const char *what)
{
	printf("  %-6s %3d client%s %7.0f appends/s   p50 %6.2f  p99 %6.2f  "
	       "p99.9 %6.2f  max %6.2f ms\n",
	    what, x->clients, x->clients > 1 ? "s:" : ": ", x->rate, x->p50,
	    x->p99, x->p999, x->pmax);
	printf("         mean batch %.1f (%" PRIu64 " commits for %" PRIu64
	       " appends), daemon CPU %.2f cores,\n         clients %.2f "
	       "cores, daemon peak RSS %.1f MiB\n",
	    x->batch, x->commits, x->total, x->daemon_cores, x->client_cores,
	    x->hwm_kib / 1024.0);
	fflush(stdout);
}

/* ---- verdicts ------------------------------------------------------------ */

static enum rcpt_bench_verdict
verdict(bool measured, bool met)
{
	return !measured ? RCPT_BENCH_UNMEASURED
	       : met     ? RCPT_BENCH_MET
	                 : RCPT_BENCH_MISSED;
}

void
rcpt_bench_append_judge(
    const struct rcpt_bench_append_opts *o, struct rcpt_bench_figs *f)
{
	const struct rcpt_bench_count *c = &f->counts[o->top];
	const struct rcpt_bench_run *e = &c->ours[RCPT_BENCH_EACH];
	const struct rcpt_bench_run *b = &c->ours[RCPT_BENCH_BATCH];
	bool each = o->mode[RCPT_BENCH_EACH], batch = o->mode[RCPT_BENCH_BATCH];
	struct rcpt_bench_targets *t = &f->t;

	t->batch_vs_each =
	    verdict(each && batch, b->rate >= TARGET_BATCH_X * e->rate);
	t->batch_vs_peer = verdict(
	    batch && f->peer.measured, b->rate >= TARGET_PEER_X * f->peer.rate);
	t->batch_p99 = verdict(batch, b->p99 < TARGET_BATCH_P99);
	t->each_vs_raw =
	    verdict(each && c->raw_ms > 0, e->rate >= TARGET_RAW_X * c->raw_ms);
	t->each_p99 = verdict(each, e->p99 < TARGET_EACH_P99);
	t->rss = verdict(f->have_mil && f->rss_kib >= 0,
	    f->rss_kib >= 0 && f->rss_kib < TARGET_RSS_KIB);
	t->all = t->batch_vs_each == RCPT_BENCH_MET &&
	         t->batch_vs_peer == RCPT_BENCH_MET &&
	         t->batch_p99 == RCPT_BENCH_MET &&
	         t->each_vs_raw == RCPT_BENCH_MET &&
	         t->each_p99 == RCPT_BENCH_MET && t->rss == RCPT_BENCH_MET;
}

static const char *
verdict_word(enum rcpt_bench_verdict v)
{
	return v == RCPT_BENCH_UNMEASURED
	           ? "not measured"
	           : rcpt_bench_verdict(v == RCPT_BENCH_MET);
}

static const char *
verdict_json(enum rcpt_bench_verdict v)
{
	return v == RCPT_BENCH_UNMEASURED ? "null"
	       : v == RCPT_BENCH_MET      ? "true"
	                                  : "false";
}

/* ---- text -----------------------------------------------------------------
 */

/* @p a / @p b into @p buf, or "-" when either is missing. */
static const char *
ratio(char *buf, size_t size, bool have, double a, double b)
{
	if (!have || !(a > 0) || !(b > 0))
		return "-";
	snprintf(buf, size, "%.2fx", a / b);
	return buf;
}

static void
text_modes(
    const struct rcpt_bench_append_opts *o, const struct rcpt_bench_figs *f)
{
	const struct rcpt_bench_run *x;
	int m, i;

	printf("\nsummary per sealing and client count (durable appends/s, "
	       "latency in ms,\nmean batch = appends per LMDB commit, daemon "
	       "CPU in cores):\n");
	printf("  sealing clients  appends/s     p50     p99   p99.9   "
	       "batch  daemon CPU\n");
	for (m = 0; m < RCPT_BENCH_MODES; m++)
		for (i = 0; o->mode[m] && i < o->ncounts; i++) {
			x = &f->counts[i].ours[m];
			printf("  %-7s %7d %10.0f %7.2f %7.2f %7.2f %7.1f "
			       "%11.2f\n",
			    rcpt_bench_mode_name(m), x->clients, x->rate,
			    x->p50, x->p99, x->p999, x->batch, x->daemon_cores);
		}
}

static void
text_ratios(
    const struct rcpt_bench_append_opts *o, const struct rcpt_bench_figs *f)
{
	const struct rcpt_bench_count *c;
	const struct rcpt_bench_run *e, *b;
	bool each = o->mode[RCPT_BENCH_EACH], batch = o->mode[RCPT_BENCH_BATCH];
	double pr = f->peer.measured ? f->peer.rate : 0;
	char r[7][16];
	int i;

	printf("\nlimits per client count (raw_ms: raw C_Sign with %d "
	       "sessions; naive: the naive C\ndesign on as many threads; both "
	       "the means of their slices interleaved with\nours; floor: "
	       "clients / raw_ms; load: the 1-minute load average after it):\n"
	       "  clients  raw_ms/s   naive/s  floor ms   load\n",
	    RCPT_BENCH_SIGN_THREADS);
	for (i = 0; i < o->ncounts; i++) {
		c = &f->counts[i];
		printf("  %7d %9.0f %9.0f %9.2f %6.2f\n", c->clients, c->raw_ms,
		    c->naive, c->floor, c->load);
	}
	printf("  raw C_Sign: 1 session %.0f/s, %d sessions %.0f/s (slices "
	       "%.0f to %.0f)\n",
	    f->lim.raw_1s, RCPT_BENCH_SIGN_THREADS, f->raw_ms, f->raw_ms_lo,
	    f->raw_ms_hi);
	if (f->peer.measured)
		printf("  naive Python peer: %.0f appends/s, p99 %.2f ms (the "
		       "better of %d runs)\n",
		    f->peer.rate, f->peer.p99, f->peer.ntries);
	else
		printf("  naive Python peer: not measured (%s)\n", f->peer.why);
	printf("\nratios of appends/s (peer: the naive Python peer; raw: "
	       "raw_ms; naive: the naive C design):\n"
	       "  clients batch/each each/peer batch/peer each/raw batch/raw "
	       "each/naive batch/naive\n");
	for (i = 0; i < o->ncounts; i++) {
		c = &f->counts[i];
		e = &c->ours[RCPT_BENCH_EACH];
		b = &c->ours[RCPT_BENCH_BATCH];
		printf("  %7d %10s %9s %10s %8s %9s %10s %11s\n", c->clients,
		    ratio(r[0], sizeof(r[0]), each && batch, b->rate, e->rate),
		    ratio(r[1], sizeof(r[1]), each, e->rate, pr),
		    ratio(r[2], sizeof(r[2]), batch, b->rate, pr),
		    ratio(r[3], sizeof(r[3]), each, e->rate, c->raw_ms),
		    ratio(r[4], sizeof(r[4]), batch, b->rate, c->raw_ms),
		    ratio(r[5], sizeof(r[5]), each, e->rate, c->naive),
		    ratio(r[6], sizeof(r[6]), batch, b->rate, c->naive));
	}
}

static void
text_waits(
    const struct rcpt_bench_append_opts *o, const struct rcpt_bench_figs *f)
{
	const struct rcpt_bench_run *x;
	int w, i;

	if (f->nwaits_done == 0)
		return;
	printf("\n[limits] batch_wait (a batch chain, one daemon per value, "
	       "%.1f s per count,\nnot interleaved; [limits] batch ",
	    o->seconds);
	if (o->batch_max > 0)
		printf("= %d):\n", o->batch_max);
	else
		printf("the default):\n");
	printf("  batch_wait clients  appends/s     p50     p99   p99.9   "
	       "batch  daemon CPU\n");
	for (w = 0; w < f->nwaits_done; w++)
		for (i = 0; i < o->ncounts; i++) {
			x = &f->waits[w].runs[i];
			printf("  %-10s %7d %10.0f %7.2f %7.2f %7.2f %7.1f "
			       "%11.2f\n",
			    o->wait[w][0] != '\0' ? o->wait[w] : "default",
			    x->clients, x->rate, x->p50, x->p99, x->p999,
			    x->batch, x->daemon_cores);
		}
}

/* One target: what, the figure, the goal, the verdict and a note. */
static void
target_line(const char *issue, const char *what, const char *value,
    const char *goal, enum rcpt_bench_verdict v, const char *note)
{
	printf("  issue %s  %-30s %-9s %-9s %s%s%s%s\n", issue, what, value,
	    goal, verdict_word(v), note[0] != '\0' ? " (" : "", note,
	    note[0] != '\0' ? ")" : "");
}

static void
text_targets(
    const struct rcpt_bench_append_opts *o, const struct rcpt_bench_figs *f)
{
	const struct rcpt_bench_count *c = &f->counts[o->top];
	const struct rcpt_bench_run *e = &c->ours[RCPT_BENCH_EACH];
	const struct rcpt_bench_run *b = &c->ours[RCPT_BENCH_BATCH];
	const struct rcpt_bench_targets *t = &f->t;
	char v[6][16], note[96], what[64];
	const char *rv[3];

	printf("\ntargets at %d clients (load average %.2f at the start, "
	       "%.2f at the end):\n",
	    c->clients, f->m.load, f->load_end);
	rv[0] = ratio(v[0], sizeof(v[0]),
	    t->batch_vs_each != RCPT_BENCH_UNMEASURED, b->rate, e->rate);
	rv[1] = ratio(v[1], sizeof(v[1]),
	    t->batch_vs_peer != RCPT_BENCH_UNMEASURED, b->rate, f->peer.rate);
	rv[2] = ratio(v[2], sizeof(v[2]),
	    t->each_vs_raw != RCPT_BENCH_UNMEASURED, e->rate, c->raw_ms);
	snprintf(v[3], sizeof(v[3]), "%.2f ms", b->p99);
	snprintf(v[4], sizeof(v[4]), "%.2f ms", e->p99);
	snprintf(v[5], sizeof(v[5]), "%.1f MiB", f->rss_kib / 1024.0);
	target_line("6", "batch / each appends/s", rv[0], ">= 3x",
	    t->batch_vs_each, "");
	target_line("6", "batch / peer appends/s", rv[1], ">= 2x",
	    t->batch_vs_peer, f->peer.measured ? "" : f->peer.why);
	target_line("6", "batch p99",
	    t->batch_p99 != RCPT_BENCH_UNMEASURED ? v[3] : "-", "< 5 ms",
	    t->batch_p99, "");
	snprintf(what, sizeof(what), "each / raw C_Sign, %d sessions",
	    RCPT_BENCH_SIGN_THREADS);
	target_line("5", what, rv[2], ">= 0.80x", t->each_vs_raw, "");
	snprintf(note, sizeof(note), "mean latency floor %.2f ms", c->floor);
	target_line("5", "each p99",
	    t->each_p99 != RCPT_BENCH_UNMEASURED ? v[4] : "-", "< 10 ms",
	    t->each_p99, t->each_p99 != RCPT_BENCH_UNMEASURED ? note : "");
	if (f->have_mil)
		snprintf(note, sizeof(note),
		    "peak, after --million on chain " RCPT_BENCH_CHAIN "%s",
		    rcpt_bench_mode_name(f->mil_mode));
	else
		snprintf(note, sizeof(note),
		    "--million not given; peak %.1f MiB with fewer receipts",
		    f->rss_kib / 1024.0);
	target_line("5", "daemon RSS after 1,000,000", f->have_mil ? v[5] : "-",
	    "< 64 MiB", t->rss, note);
	if (f->lim.token_growth_b > 0)
		printf(
		    "           (the token module alone grows by %.1f MiB per "
		    "million signatures,\n           measured in its raw "
		    "C_Sign loop above)\n",
		    f->lim.token_growth_b * 1e6 / (1024.0 * 1024.0));
	printf("  all targets met: %s\n", t->all ? "yes" : "no");
}

void
rcpt_bench_append_text(
    const struct rcpt_bench_append_opts *o, const struct rcpt_bench_figs *f)
{
	text_modes(o, f);
	text_ratios(o, f);
	text_waits(o, f);
	text_targets(o, f);
}

/* ---- JSON ------------------------------------------------------------------
 */

/* A ratio, or null when either side was not measured. */
static void
json_ratio(const char *key, bool have, double a, double b)
{
	if (have && a > 0 && b > 0)
		printf(",\"%s\":%.3f", key, a / b);
	else
		printf(",\"%s\":null", key);
}

static void
json_run(const struct rcpt_bench_run *x)
{
	printf("{\"clients\":%d,\"appends_per_s\":%.0f,\"p50_ms\":%.3f,"
	       "\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"max_ms\":%.3f,"
	       "\"mean_batch\":%.2f,\"commits\":%" PRIu64
	       ",\"appends\":%" PRIu64
	       ",\"daemon_cores\":%.2f,\"client_cores\":%.2f,\"rss_kib\":%ld",
	    x->clients, x->rate, x->p50, x->p99, x->p999, x->pmax, x->batch,
	    x->commits, x->total, x->daemon_cores, x->client_cores, x->hwm_kib);
}

static void
json_count(const struct rcpt_bench_append_opts *o,
    const struct rcpt_bench_figs *f, const struct rcpt_bench_count *c)
{
	const struct rcpt_bench_run *x;
	bool pm = f->peer.measured;
	int m, k, j;

	printf("{\"clients\":%d,\"raw_sign_ms\":%.0f,\"naive_per_s\":%.0f,"
	       "\"latency_floor_ms\":%.3f,\"load\":%.2f",
	    c->clients, c->raw_ms, c->naive, c->floor, c->load);
	json_ratio("batch_vs_each",
	    o->mode[RCPT_BENCH_EACH] && o->mode[RCPT_BENCH_BATCH],
	    c->ours[RCPT_BENCH_BATCH].rate, c->ours[RCPT_BENCH_EACH].rate);
	for (m = 0; m < RCPT_BENCH_MODES; m++) {
		printf(",\"%s\":", rcpt_bench_mode_name(m));
		if (!o->mode[m]) {
			printf("null");
			continue;
		}
		x = &c->ours[m];
		json_run(x);
		json_ratio("ratio_vs_raw_sign_ms", true, x->rate, c->raw_ms);
		json_ratio("speedup_vs_naive", true, x->rate, c->naive);
		json_ratio("ratio_vs_peer", pm, x->rate, f->peer.rate);
		printf("}");
	}
	printf(",\"rounds\":[");
	for (k = 0; k < RCPT_BENCH_ROUNDS; k++) {
		printf("%s[", k > 0 ? "," : "");
		for (j = 0; j < RCPT_BENCH_SLICES; j++)
			if (j < RCPT_BENCH_MODES && !o->mode[j])
				printf("%snull", j > 0 ? "," : "");
			else
				printf(
				    "%s%.0f", j > 0 ? "," : "", c->round[k][j]);
		printf("]");
	}
	printf("]}");
}

static void
json_peer(const struct rcpt_bench_peer *p)
{
	int i;

	printf(",\"peer\":{\"measured\":%s", p->measured ? "true" : "false");
	if (p->measured)
		printf(",\"appends_per_s\":%.0f,\"p99_ms\":%.3f,"
		       "\"python\":\"%s\",\"sqlite\":\"%s\"",
		    p->rate, p->p99, p->python, p->sqlite);
	else
		printf(",\"reason\":\"%s\"", p->why);
	printf(",\"tries\":[");
	for (i = 0; i < p->ntries; i++) {
		printf(i > 0 ? "," : "");
		if (p->tries[i].ok)
			printf("{\"appends_per_s\":%.0f,\"p50_ms\":%.3f,"
			       "\"p99_ms\":%.3f}",
			    p->tries[i].rate, p->tries[i].p50, p->tries[i].p99);
		else
			printf("null");
	}
	printf("]}");
}

static void
json_limits(const struct rcpt_bench_figs *f)
{
	int i;

	printf(",\"token_growth_bytes_per_sign\":%.0f", f->lim.token_growth_b);
	printf(",\"raw_sign_1s\":%.0f,\"raw_sign_ms\":%.0f,"
	       "\"raw_sign_ms_min\":%.0f,\"raw_sign_ms_max\":%.0f,"
	       "\"lmdb_commits_per_s\":{",
	    f->lim.raw_1s, f->raw_ms, f->raw_ms_lo, f->raw_ms_hi);
	for (i = 0; i < f->lim.nk; i++)
		printf("%s\"%d\":%.0f", i > 0 ? "," : "", f->lim.k[i],
		    f->lim.commits[i]);
	printf("},\"lmdb_puts_per_s\":{");
	for (i = 0; i < f->lim.nk; i++)
		printf("%s\"%d\":%.0f", i > 0 ? "," : "", f->lim.k[i],
		    f->lim.puts[i]);
	printf("}");
}

static void
json_extra_runs(
    const struct rcpt_bench_append_opts *o, const struct rcpt_bench_figs *f)
{
	int m, w, i;

	printf(",\"defaults\":");
	if (f->have_dflt) {
		printf("{");
		for (m = 0; m < RCPT_BENCH_MODES; m++) {
			printf("%s\"%s\":", m > 0 ? "," : "",
			    rcpt_bench_mode_name(m));
			if (o->mode[m]) {
				json_run(&f->dflt[m]);
				printf("}");
			} else {
				printf("null");
			}
		}
		printf("}");
	} else {
		printf("null");
	}
	printf(",\"million\":");
	if (f->have_mil)
		printf("{\"chain\":\"" RCPT_BENCH_CHAIN "%s\",\"seconds\":%.1f,"
		       "\"appends_per_s\":%.0f,\"p99_ms\":%.3f,\"rss_kib\":%ld,"
		       "\"peak_rss_kib\":%ld}",
		    rcpt_bench_mode_name(f->mil_mode), f->mil.wall, f->mil.rate,
		    f->mil.p99, f->mil_rss_kib, f->mil.hwm_kib);
	else
		printf("null");
	printf(",\"batch_wait_sweep\":[");
	for (w = 0; w < f->nwaits_done; w++) {
		printf("%s{\"batch_wait\":\"%s\",\"results\":[",
		    w > 0 ? "," : "",
		    o->wait[w][0] != '\0' ? o->wait[w] : "default");
		for (i = 0; i < o->ncounts; i++) {
			printf(i > 0 ? "," : "");
			json_run(&f->waits[w].runs[i]);
			printf("}");
		}
		printf("]}");
	}
	printf("]");
}

void
rcpt_bench_append_json(
    const struct rcpt_bench_append_opts *o, const struct rcpt_bench_figs *f)
{
	const struct rcpt_bench_targets *t = &f->t;
	int m, i;

	printf("{\"bench\":\"append\",\"sealing\":[");
	for (m = 0, i = 0; m < RCPT_BENCH_MODES; m++)
		if (o->mode[m])
			printf("%s\"%s\"", i++ > 0 ? "," : "",
			    rcpt_bench_mode_name(m));
	printf("],\"seconds\":%.1f,\"rounds\":%d,\"warmup\":%.2f,"
	       "\"limit_seconds\":%.1f,\"nproc\":%ld,\"load\":%.2f,"
	       "\"load_end\":%.2f,\"openssl\":\"%s\",\"softhsm\":\"%s\","
	       "\"fs\":\"%s\",\"event_bytes\":%d,\"receipt_bytes\":%zu,"
	       "\"sign_threads\":%d,\"checkpoints\":\"off\",",
	    o->seconds, RCPT_BENCH_ROUNDS, f->warmup, f->limit, f->m.nproc,
	    f->m.load, f->load_end, OpenSSL_version(OPENSSL_VERSION_STRING),
	    f->softhsm, f->fs, RCPT_BENCH_EVENT_LEN, f->receipt_len,
	    RCPT_BENCH_SIGN_THREADS);
	if (o->batch_max > 0)
		printf("\"batch_max\":%d,", o->batch_max);
	else
		printf("\"batch_max\":null,");
	printf(
	    "\"clients_judged\":%d,\"results\":[", f->counts[o->top].clients);
	for (i = 0; i < o->ncounts; i++) {
		printf(i > 0 ? "," : "");
		json_count(o, f, &f->counts[i]);
	}
	printf("]");
	json_peer(&f->peer);
	printf(",\"rss_kib\":%ld,\"rss_anon_kib\":%ld,\"rss_file_kib\":%ld,"
	       "\"receipts\":{\"each\":%" PRIu64 ",\"batch\":%" PRIu64 "}",
	    f->rss_kib, f->anon_kib, f->file_kib, f->receipts[RCPT_BENCH_EACH],
	    f->receipts[RCPT_BENCH_BATCH]);
	json_limits(f);
	json_extra_runs(o, f);
	printf(",\"targets\":{\"batch_vs_each\":%s,\"batch_vs_peer\":%s,"
	       "\"batch_p99\":%s,\"each_vs_raw_sign_ms\":%s,\"each_p99\":%s,"
	       "\"rss_after_million\":%s},\"targets_met\":%s}\n",
	    verdict_json(t->batch_vs_each), verdict_json(t->batch_vs_peer),
	    verdict_json(t->batch_p99), verdict_json(t->each_vs_raw),
	    verdict_json(t->each_p99), verdict_json(t->rss),
	    t->all ? "true" : "false");
}
