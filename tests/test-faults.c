/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fault suites for receiptd (issue 5, item 3): a real daemon on a
 * throw-away SoftHSM2 token, hurt the ways a deployment gets hurt.
 *
 *   - kill -9 at random moments, and inside the token's writes, while
 *     16 clients append, on an each chain and on a batch chain: every
 *     receipt a client saw acknowledged is still there byte for byte,
 *     the chain verifies CLEAN offline, its last receipt is signed (no
 *     unsealed tail), no seq is skipped or repeated, and the daemon
 *     starts again;
 *   - the token's directory disappears mid-run: appends fail with
 *     -32003 and store nothing, and once it is back the same daemon
 *     signs again;
 *   - the disk fills up (the store on a small tmpfs; a full map when
 *     mounting is not permitted): clear -32004 errors, no corruption;
 *   - a receipt flipped or the file truncated while the daemon is down:
 *     it refuses to start and names the first bad seq, as `receiptctl
 *     verify` does on the exported chain.
 *
 * What is stored is judged by the offline verifier, never by the
 * daemon.  Counts are bounded for `make check`; RCPT_FAULT_LONG=1 runs
 * more kills under longer load, RCPT_FAULT_SEED=N replays a run and
 * RCPT_FAULT_ONLY=word runs the cases whose name holds the word.  Each
 * case has its own chain name, because anchors live on the one token.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "client.h"
#include "daemonlib.h"
#include "softhsm.h"
#include "testlib.h"
#include "verify.h"

#define LOADERS 16

static struct rcpt_test_token tok;
static int tok_status = -1;
static int long_mode;
static uint64_t rng;
static char refusal[256]; /* append_one()'s last refusal */
static struct td dm[5];   /* one daemon per case; see cleanup() */
static int disk_mounted;  /* a tmpfs sits on dm[2]'s store */

static const char body_fmt[] = "[limits]\n"
                               "connections = 200\n"
                               "\n[principals]\n"
                               "me = uid:%u\n"
                               "\n[chain %s]\n"
                               "append = me\n"
                               "read = me\n"
                               "admin = me\n"
                               "checkpoint_every = %d\n"
                               "sealing = %s\n";

static unsigned
rand_below(unsigned n)
{
	/* xorshift64: reproducible from the printed seed. */
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The end of the daemon's log, when a case fails and its story helps. */
static void
print_log(const struct td *t)
{
	size_t len = 0;
	char *s = rcpt_test_read_file(t->log, &len);

	fprintf(stderr, "\n--- receiptd log, last 2 KiB ---\n%s--- end ---\n",
	    s == NULL ? "(none)\n" : s + (len > 2048 ? len - 2048 : 0));
	free(s);
}

/*
 * A daemon serving one chain, checkpointing every @p every receipts,
 * with @p sealing "each" or "batch".
 */
static int
daemon_init(
    struct td *t, const char *chain, int every, size_t map, const char *sealing)
{
	char body[1024];

	snprintf(body, sizeof(body), body_fmt, (unsigned)getuid(), chain, every,
	    sealing);
	return td_init(t, &tok, map, map, body);
}

/* Acknowledged receipts */

struct ack {
	uint64_t seq;
	char *line; /* as the client returned it */
	size_t len;
};

struct acks {
	struct ack *v;
	size_t n, cap;
};

/* Takes @p line (a receipt) into @p a; frees it on failure. */
static int
acks_add(struct acks *a, char *line, size_t len)
{
	json_object *o = json_tokener_parse(line), *s;
	struct ack *grown;
	int r = -1;

	if (o == NULL || !json_object_object_get_ex(o, "seq", &s))
		goto out;
	if (a->n == a->cap) {
		if ((grown = realloc(a->v, (a->cap + 256) * sizeof(*grown))) ==
		    NULL)
			goto out;
		a->v = grown;
		a->cap += 256;
	}
	a->v[a->n].seq = (uint64_t)json_object_get_int64(s);
	a->v[a->n].line = line;
	a->v[a->n].len = len;
	a->n++;
	line = NULL;
	r = 0;
out:
	json_object_put(o);
	free(line);
	return r;
}

static void
acks_clear(struct acks *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		free(a->v[i].line);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static int
cmp_seq(const void *a, const void *b)
{
	uint64_t x = ((const struct ack *)a)->seq;
	uint64_t y = ((const struct ack *)b)->seq;

	return x < y ? -1 : x > y;
}

/* Appending clients, each on its own connection */

struct crowd {
	const char *sock, *chain;
	int round;
	size_t pad;         /* bytes of padding in each event */
	int max;            /* appends each, at most; 0: until refused */
	atomic_int ready;   /* loaders connected */
	atomic_int acked;   /* appends acknowledged */
	pthread_mutex_t mu; /* guards acks */
	struct acks *acks;  /* every acknowledged receipt goes here */
};

struct loader {
	pthread_t th;
	struct crowd *c;
	int id;
	size_t n_acked, last; /* acks, and the index of its last one */
	int disorder;         /* acks whose seq did not grow */
	int io;               /* transport failures (the daemon went) */
	int refused;          /* RPC errors */
	int code;             /* the daemon's last error code */
	int mixed;            /* refusals with another code than the last */
	char msg[256];        /* and its message */
	int other;            /* any other failure */
};

/* Stores an ack of @p l; the crowd's lock serialises the list. */
static void
loader_ack(struct loader *l, char *rec, size_t len)
{
	struct crowd *c = l->c;
	uint64_t seq;

	pthread_mutex_lock(&c->mu);
	if (acks_add(c->acks, rec, len) != 0)
		l->other++;
	else {
		seq = c->acks->v[c->acks->n - 1].seq;
		if (l->n_acked++ > 0 && seq <= c->acks->v[l->last].seq)
			l->disorder++;
		l->last = c->acks->n - 1;
	}
	pthread_mutex_unlock(&c->mu);
	atomic_fetch_add(&c->acked, 1);
}

static void *
loader_main(void *arg)
{
	struct loader *l = arg;
	struct crowd *c = l->c;
	struct rcpt_client *cl = NULL;
	struct rcpt_client_event ev = {.chain = c->chain, .type = "fault.load"};
	struct rcpt_diag d = {0};
	char *data, *rec = NULL;
	size_t len, off;
	int i, r, code;

	if ((data = malloc(c->pad + 128)) == NULL ||
	    rcpt_client_connect(c->sock, &cl, &d) != RCPT_OK)
		l->other++;
	atomic_fetch_add(&c->ready, 1);
	for (i = 0; cl != NULL && (c->max == 0 || i < c->max); i++) {
		off = (size_t)snprintf(data, 128,
		    "{\"round\":%d,\"client\":%d,\"i\":%d,\"pad\":\"", c->round,
		    l->id, i);
		memset(data + off, 'a' + (i % 26), c->pad);
		memcpy(data + off + c->pad, "\"}", 3);
		ev.data = data;
		if ((r = rcpt_client_append(cl, &ev, &rec, &len, &d)) ==
		    RCPT_OK) {
			loader_ack(l, rec, len);
			continue;
		}
		if ((code = rcpt_client_last_rpc_code(cl)) == 0) {
			l->io += r == RCPT_E_IO;
			l->other += r != RCPT_E_IO;
			break;
		}
		if (l->refused++ > 0 && code != l->code)
			l->mixed++;
		l->code = code;
		snprintf(l->msg, sizeof(l->msg), "%.200s", d.msg);
		if (c->max == 0)
			break;
	}
	rcpt_client_close(cl);
	free(data);
	return NULL;
}

/* Starts @p n loaders of @p c and waits until each has connected. */
static int
crowd_start(struct crowd *c, struct loader *l, int n)
{
	int i;

	memset(l, 0, (size_t)n * sizeof(*l));
	atomic_store(&c->ready, 0);
	atomic_store(&c->acked, 0);
	for (i = 0; i < n; i++) {
		l[i].c = c;
		l[i].id = i;
		if (pthread_create(&l[i].th, NULL, loader_main, &l[i]) != 0)
			return -1;
	}
	while (atomic_load(&c->ready) < n)
		usleep(1000);
	return 0;
}

/* What a chain holds, fetched with `range` and checked offline */

static int64_t
tip_size(const struct td *t, const char *chain)
{
	struct rcpt_client *cl = NULL;
	struct rcpt_diag d = {0};
	uint64_t size = 0;
	int r;

	if (rcpt_client_connect(t->sock, &cl, &d) != RCPT_OK)
		return -1;
	r = rcpt_client_tip(cl, chain, &size, NULL, &d);
	rcpt_client_close(cl);
	return r == RCPT_OK ? (int64_t)size : -1;
}

/* Every receipt of @p chain, one line each; NULL on failure. */
static char *
fetch_chain(
    const struct td *t, const char *chain, size_t *len_out, uint64_t *n_out)
{
	struct rcpt_client *cl = NULL;
	struct rcpt_diag d = {0};
	char *all = NULL, *lines = NULL, *grown;
	size_t len = 0;
	uint64_t got = 0;
	int r;

	*len_out = 0;
	*n_out = 0;
	if (rcpt_client_connect(t->sock, &cl, &d) != RCPT_OK)
		return NULL;
	for (;;) {
		r = rcpt_client_range(cl, chain, *n_out, RCPT_CLIENT_RANGE_MAX,
		    &lines, &len, &got, &d);
		if (r == RCPT_E_NOT_FOUND || (r == RCPT_OK && got == 0))
			break; /* past the tip */
		if (r != RCPT_OK ||
		    (grown = realloc(all, *len_out + len + 1)) == NULL) {
			fprintf(stderr, "range: %s\n", rcpt_diag_msg(&d, r));
			free(lines);
			free(all);
			all = NULL;
			break;
		}
		all = grown;
		memcpy(all + *len_out, lines, len + 1);
		*len_out += len;
		*n_out += got;
		free(lines);
		lines = NULL;
	}
	rcpt_client_close(cl);
	return all;
}

/*
 * The chain verifies CLEAN, holds exactly tip-size receipts, and every
 * acknowledged receipt in @p all sits at its seq byte for byte, each
 * seq acknowledged once.  Sorts @p all.  @return failures found.
 */
static int
check_chain(const struct td *t, const char *chain, struct acks *all)
{
	struct rcpt_verify_opts vo = {.threads = 2};
	struct rcpt_verify_result res;
	int64_t tip = tip_size(t, chain);
	uint64_t n = 0, k;
	size_t len = 0, i, *off = NULL;
	char *text = fetch_chain(t, chain, &len, &n);
	FILE *f;
	int bad = 0;

	memset(&res, 0, sizeof(res));
	if (text == NULL || (off = calloc(n + 1, sizeof(*off))) == NULL ||
	    (f = fmemopen(text, len, "r")) == NULL) {
		free(text);
		free(off);
		return 1;
	}
	rcpt_verify_stream(f, &vo, NULL, &res);
	fclose(f);
	if (res.status != RCPT_VERIFY_CLEAN || res.count != n ||
	    tip != (int64_t)n) {
		fprintf(stderr, "%s: tip %lld, %llu receipts: %s\n", chain,
		    (long long)tip, (unsigned long long)n, res.reason);
		bad++;
	}
	for (i = 0, k = 0; i < len && k < n; i++)
		if (i == 0 || text[i - 1] == '\n')
			off[k++] = i;
	off[n] = len;
	/* The tip is signed (SPEC 1.2), whatever the sealing. */
	if (n > 0 && memmem(text + off[n - 1], len - off[n - 1],
	                 ",\"signature\":\"", 14) == NULL) {
		fprintf(stderr, "%s: the tip, seq %llu, is unsigned\n", chain,
		    (unsigned long long)(n - 1));
		bad++;
	}
	qsort(all->v, all->n, sizeof(*all->v), cmp_seq);
	for (i = 0; i < all->n; i++) {
		k = all->v[i].seq;
		if ((i > 0 && k == all->v[i - 1].seq) || k >= n ||
		    off[k + 1] - off[k] - 1 != all->v[i].len ||
		    memcmp(text + off[k], all->v[i].line, all->v[i].len) != 0) {
			fprintf(stderr,
			    "seq %llu: acknowledged twice, gone or "
			    "changed\n",
			    (unsigned long long)k);
			bad++;
		}
	}
	free(off);
	free(text);
	return bad;
}

/* directories.tokendir from the fixture's softhsm2.conf. */
static char *
token_dir(void)
{
	static const char key[] = "directories.tokendir = ";
	char *conf = rcpt_test_read_file(tok.conf, NULL), *p, *dir = NULL;

	if (conf != NULL && (p = strstr(conf, key)) != NULL) {
		p += strlen(key);
		dir = strndup(p, strcspn(p, "\n"));
	}
	free(conf);
	return dir;
}

/* 1. kill -9 under load */

/* Watches the files of the token (the one directory in tokendir). */
static int
token_watch(void)
{
	char *dir = token_dir(), path[PATH_MAX] = "";
	struct dirent *e;
	DIR *d;
	int fd = -1;

	if (dir != NULL && (d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL && e->d_name[0] == '.')
			;
		if (e != NULL)
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		closedir(d);
	}
	free(dir);
	if (path[0] != '\0' &&
	    (fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) >= 0 &&
	    inotify_add_watch(fd, path, IN_MODIFY | IN_DELETE) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * Waits (up to @p ms) until the token deletes an object file and then
 * writes to one: a value being replaced (the anchor, at a checkpoint),
 * where a crash must leave the old value or the new one.
 * @return 1 at that moment, 0 when it did not come.
 */
static int
token_replacing(int fd, int64_t ms)
{
	char buf[4096] __attribute__((aligned(8)));
	struct pollfd p = {.fd = fd, .events = POLLIN};
	const struct inotify_event *e;
	int64_t until = now_ms() + ms, left;
	ssize_t n, i;
	int deleted = 0;

	while (read(fd, buf, sizeof(buf)) > 0)
		; /* what happened before */
	while ((left = until - now_ms()) > 0 && poll(&p, 1, (int)left) == 1) {
		n = read(fd, buf, sizeof(buf));
		for (i = 0; i < n; i += (ssize_t)(sizeof(*e) + e->len)) {
			e = (const struct inotify_event *)(buf + i);
			if (e->len == 0 || strstr(e->name, ".object") == NULL)
				continue;
			if (e->mask & IN_DELETE)
				deleted = 1;
			else if (deleted)
				return 1;
		}
	}
	return 0;
}

/* Each loader's last ack, read back with `get`. */
static int
check_gets(const struct td *t, const char *chain, const struct loader *l,
    const struct acks *all)
{
	struct rcpt_client *cl = NULL;
	struct rcpt_diag d = {0};
	const struct ack *a;
	char *rec = NULL;
	size_t len = 0;
	int i, bad = 0;

	if (rcpt_client_connect(t->sock, &cl, &d) != RCPT_OK)
		return 1;
	for (i = 0; i < LOADERS; i++) {
		if (l[i].n_acked == 0)
			continue;
		a = &all->v[l[i].last];
		if (rcpt_client_get(cl, chain, a->seq, &rec, &len, &d) !=
		        RCPT_OK ||
		    len != a->len || memcmp(rec, a->line, len) != 0)
			bad++;
		free(rec);
		rec = NULL;
	}
	rcpt_client_close(cl);
	return bad;
}

/*
 * Kills the daemon of @p t, serving @p chain with @p sealing and a map
 * of @p map bytes (0: the default), 20 times under load (100 with
 * RCPT_FAULT_LONG) and checks what it kept after each restart.
 * @return acknowledged receipts that were unsigned.
 */
static size_t
kill9_run(struct td *t, const char *chain, const char *sealing, size_t map)
{
	static struct loader l[LOADERS];
	struct acks all = {0};
	struct crowd c = {.chain = chain, .mu = PTHREAD_MUTEX_INITIALIZER};
	int rounds = long_mode ? 100 : 20, wmax = long_mode ? 400 : 200;
	int round, i, bad = 0, watch = token_watch(), aim, aimed = 0, stalled;
	size_t before, lo = SIZE_MAX, hi = 0, unsealed = 0;
	int64_t t0 = now_ms(), window = 0, restart_ms = 0, t1;

	/* Frequent checkpoints, so that kills land on anchor writes. */
	CU_ASSERT_FATAL(watch >= 0);
	CU_ASSERT_FATAL(daemon_init(t, chain, 20, map, sealing) == 0);
	CU_ASSERT_FATAL(td_start(t) == 0);
	c.sock = t->sock;
	c.acks = &all;
	for (round = 0; round < rounds && bad == 0; round++) {
		c.round = round;
		c.pad = 50 + rand_below(400);
		before = all.n;
		CU_ASSERT_FATAL(crowd_start(&c, l, LOADERS) == 0);
		/*
		 * The window opens at the first acknowledgement: a daemon
		 * still warming up (sanitizers make that slow) would
		 * otherwise often die before a receipt was at stake.
		 */
		for (t1 = now_ms();
		     atomic_load(&c.acked) == 0 && now_ms() - t1 < 30000;)
			usleep(1000);
		stalled = atomic_load(&c.acked) == 0;
		window = 50 + rand_below((unsigned)wmax - 50 + 1);
		/* The last quarter of the kills aim inside token writes. */
		if ((aim = round >= rounds - rounds / 4) != 0)
			aimed += token_replacing(watch, 5000);
		else
			usleep((useconds_t)window * 1000);
		/* It must still be alive to die of SIGKILL. */
		CU_ASSERT_EQUAL(td_kill9(t), 128 + SIGKILL);
		for (i = 0; i < LOADERS; i++) {
			pthread_join(l[i].th, NULL);
			/* Each ended on the kill, in order, unrefused. */
			CU_ASSERT_EQUAL(l[i].io, 1);
			CU_ASSERT_EQUAL(l[i].refused + l[i].other, 0);
			CU_ASSERT_EQUAL(l[i].disorder, 0);
		}
		/* A round without acknowledgements ends the run, not 30 s. */
		if (stalled) {
			fprintf(stderr,
			    "\nround %d: nothing acknowledged: %d %s", round,
			    l[0].code, l[0].msg);
			bad++;
		}
		lo = all.n - before < lo ? all.n - before : lo;
		hi = all.n - before > hi ? all.n - before : hi;
		t1 = now_ms();
		if (td_start(t) != 0) {
			bad++;
			break;
		}
		restart_ms += now_ms() - t1;
		bad += check_gets(t, chain, l, &all);
		bad += check_chain(t, chain, &all);
	}
	for (i = 0; (size_t)i < all.n; i++)
		unsealed += memmem(all.v[i].line, all.v[i].len,
		                ",\"signature\":\"", 14) == NULL;
	CU_ASSERT_EQUAL(bad, 0);
	if (bad != 0)
		fprintf(stderr, "\nkill %d (%s) left %d failures\n",
		    round + (t->pid == 0),
		    aim ? "inside a token write" : "random", bad);
	fprintf(stderr,
	    "\n  %s: %d kills (%d inside a token write), %zu receipts "
	    "acknowledged (%zu unsigned; %zu to %zu a round), restarts "
	    "%lld ms on average, %.1f s in all\n  ",
	    sealing, round + (t->pid == 0), aimed, all.n, unsealed, lo, hi,
	    (long long)(restart_ms / (round ? round : 1)),
	    (double)(now_ms() - t0) / 1000);
	close(watch);
	if (t->pid != 0)
		CU_ASSERT_EQUAL(td_stop(t), 0);
	td_free(t);
	acks_clear(&all);
	return unsealed;
}

static void
test_kill9(void)
{
	/* Each chain: every acknowledged receipt carries its signature. */
	CU_ASSERT_EQUAL(kill9_run(&dm[0], "k9", "each", 0), 0);
}

/*
 * Batch chain (issue 6): receipts come back unsigned, sealed by the
 * last of their commit.  A kill may cost only what was never
 * acknowledged, and never leaves an unsealed tail.
 */
static void
test_kill9_batch(void)
{
	/* Long runs append more than the default map (64 MiB) holds. */
	size_t map = long_mode ? (size_t)512 << 20 : 0;

	CU_ASSERT(kill9_run(&dm[4], "k9b", "batch", map) > 0);
}

/* 2. The token goes away and comes back */

/* `status` says token_reachable: 1 yes, 0 no, -1 no answer. */
static int
token_reachable(const struct td *t)
{
	struct rcpt_client *cl = NULL;
	struct rcpt_diag d = {0};
	json_object *o = NULL, *v;
	char *res = NULL;
	int r = -1;

	if (rcpt_client_connect(t->sock, &cl, &d) == RCPT_OK &&
	    rcpt_client_call(cl, "status", NULL, &res, NULL, &d) == RCPT_OK &&
	    (o = json_tokener_parse(res)) != NULL &&
	    json_object_object_get_ex(o, "token_reachable", &v))
		r = json_object_get_boolean(v);
	json_object_put(o);
	free(res);
	rcpt_client_close(cl);
	return r;
}

/* One append: 0 and the receipt in @p acks, else the error code. */
static int
append_one(
    const struct td *t, const char *chain, const char *data, struct acks *acks)
{
	struct rcpt_client *cl = NULL;
	struct rcpt_client_event ev = {.chain = chain, .type = "fault.one"};
	struct rcpt_diag d = {0};
	char *rec = NULL;
	size_t len = 0;
	int r;

	if (rcpt_client_connect(t->sock, &cl, &d) != RCPT_OK)
		return RCPT_E_IO;
	ev.data = data;
	r = rcpt_client_append(cl, &ev, &rec, &len, &d);
	if (r == RCPT_OK && acks_add(acks, rec, len) != 0)
		r = RCPT_E_NOMEM;
	if (r != RCPT_OK && rcpt_client_last_rpc_code(cl) != 0) {
		r = rcpt_client_last_rpc_code(cl);
		snprintf(refusal, sizeof(refusal), "%d %.200s", r, d.msg);
	}
	rcpt_client_close(cl);
	return r;
}

static void
test_token_loss(void)
{
	struct loader l[4];
	struct td *t = &dm[1];
	struct acks all = {0};
	struct crowd c = {.chain = "tokloss",
	    .pad = 10,
	    .max = 25,
	    .mu = PTHREAD_MUTEX_INITIALIZER};
	char *dir = token_dir(), *away = NULL;
	int64_t size, t0;
	int i, code = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	CU_ASSERT_FATAL((away = malloc(strlen(dir) + 8)) != NULL);
	sprintf(away, "%s.away", dir);
	CU_ASSERT_FATAL(daemon_init(t, "tokloss", 1000, 0, "each") == 0);
	CU_ASSERT_FATAL(td_start(t) == 0);
	CU_ASSERT_EQUAL_FATAL(append_one(t, "tokloss", "1", &all), 0);
	size = tip_size(t, "tokloss");
	/* SoftHSM notices a moved directory (root ignores a chmod). */
	CU_ASSERT_FATAL(rename(dir, away) == 0);
	/* From here on only soft asserts: the token must come back. */
	for (i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(append_one(t, "tokloss", "2", &all), -32003);
	fprintf(stderr, "\n  token gone: %s", refusal);
	CU_ASSERT_EQUAL(token_reachable(t), 0);
	c.sock = t->sock;
	c.acks = &all;
	if (crowd_start(&c, l, 4) == 0)
		for (i = 0; i < 4; i++) {
			pthread_join(l[i].th, NULL);
			CU_ASSERT_EQUAL(l[i].n_acked, 0);
			CU_ASSERT_EQUAL(l[i].refused, 25);
			CU_ASSERT_EQUAL(l[i].code, -32003);
		}
	CU_ASSERT_EQUAL(tip_size(t, "tokloss"), size);
	CU_ASSERT_EQUAL_FATAL(rename(away, dir), 0);
	/* The pool reopens lazily, at most once a second. */
	for (t0 = now_ms(); now_ms() - t0 < 10000; usleep(200000))
		if ((code = append_one(t, "tokloss", "3", &all)) == 0)
			break;
	CU_ASSERT_EQUAL(code, 0);
	if (code != 0)
		print_log(t);
	fprintf(stderr, "\n  token back %lld ms: %s\n  ",
	    (long long)(now_ms() - t0),
	    code == 0 ? "signing again" : "the daemon still cannot sign");
	CU_ASSERT_EQUAL(token_reachable(t), code == 0);
	CU_ASSERT_EQUAL(tip_size(t, "tokloss"), size + (code == 0));
	CU_ASSERT_EQUAL(check_chain(t, "tokloss", &all), 0);
	CU_ASSERT_EQUAL(td_stop(t), 0);
	td_free(t);
	acks_clear(&all);
	free(dir);
	free(away);
}

/* 3. Disk full (or, without mount, map full) */

static void
test_disk_full(void)
{
	struct loader l[4];
	struct td *t = &dm[2];
	struct acks all = {0};
	/* 3.2 MB of events: well past 2 MiB of disk (or 1 MiB of map). */
	struct crowd c = {.chain = "disk",
	    .pad = 8000,
	    .max = 100,
	    .mu = PTHREAD_MUTEX_INITIALIZER};
	int i, refused = 0, other = 0;

	CU_ASSERT_FATAL(daemon_init(t, "disk", 1000, 0, "each") == 0);
	CU_ASSERT_FATAL(mkdir(t->store, 0700) == 0);
	disk_mounted = mount("tmpfs", t->store, "tmpfs", MS_NOSUID | MS_NODEV,
	                   "size=2m,mode=0700") == 0;
	if (!disk_mounted) {
		/* Said aloud: the store then fills its 1 MiB map instead. */
		fprintf(stderr, "\n  mount tmpfs: %s; map-full variant\n  ",
		    strerror(errno));
		td_free(t);
		CU_ASSERT_FATAL(
		    daemon_init(t, "disk", 1000, 1 << 20, "each") == 0);
	}
	CU_ASSERT_FATAL(td_start(t) == 0);
	c.sock = t->sock;
	c.acks = &all;
	CU_ASSERT_FATAL(crowd_start(&c, l, 4) == 0);
	for (i = 0; i < 4; i++) {
		pthread_join(l[i].th, NULL);
		CU_ASSERT_EQUAL(l[i].io + l[i].other, 0);
		CU_ASSERT(l[i].refused > 0);
		CU_ASSERT_EQUAL(l[i].mixed, 0);
		CU_ASSERT_EQUAL(l[i].code, -32004);
		other += l[i].code != -32004;
		refused += l[i].refused;
	}
	fprintf(stderr, "\n  %zu stored, %d refused: %d %s\n  ", all.n, refused,
	    l[0].code, l[0].msg);
	if (other != 0)
		fprintf(stderr, "  a full disk must be -32004 (storage full), "
		                "not an internal error\n  ");
	/* A refused append stored nothing; reads go on. */
	CU_ASSERT_EQUAL(tip_size(t, "disk"), 1 + (int64_t)all.n);
	CU_ASSERT_EQUAL(check_chain(t, "disk", &all), 0);
	if (disk_mounted) {
		/* Space freed: the same daemon appends again. */
		CU_ASSERT_EQUAL(mount("tmpfs", t->store, "tmpfs",
		                    MS_REMOUNT | MS_NOSUID | MS_NODEV,
		                    "size=64m,mode=0700"),
		    0);
		CU_ASSERT_EQUAL(append_one(t, "disk", "\"room\"", &all), 0);
	}
	CU_ASSERT_EQUAL(td_stop(t), 0);
	/* Restarted on the same store, the daemon verifies all of it. */
	CU_ASSERT_EQUAL(td_start(t), 0);
	CU_ASSERT_EQUAL(check_chain(t, "disk", &all), 0);
	CU_ASSERT_EQUAL(append_one(t, "disk", "\"after\"", &all), 0);
	CU_ASSERT_EQUAL(td_stop(t), 0);
	if (disk_mounted)
		CU_ASSERT_EQUAL(umount2(t->store, MNT_DETACH), 0);
	disk_mounted = 0;
	td_free(t);
	acks_clear(&all);
}

/* 4. A torn or corrupted store */

/*
 * The daemon refuses @p t's store: exits 1 (a signal is a crash, not a
 * refusal) and says why in its log.  With @p seq >= 0 the reason names
 * that seq, and `receiptctl verify` on what export-chain writes is
 * BROKEN at the same seq.  With @p seq < 0 no receipt can be read at
 * all, and export-chain must refuse too, giving the daemon's reason.
 * @p name tells the exports apart.
 */
static void
expect_refusal(struct td *t, int64_t seq, const char *name)
{
	const char *export[] = {"export-chain", "--store", t->store, "--chain",
	    "torn", "--out", NULL, NULL};
	const char *verify[] = {"verify", NULL, NULL};
	struct rcpt_test_proc p;
	char *out = rcpt_test_join(t->dir, name), want[64], *log, *why = NULL;
	size_t from = 0;
	int st;

	CU_ASSERT_FATAL(out != NULL);
	export[6] = verify[1] = out;
	free(rcpt_test_read_file(t->log, &from));
	st = td_start_refused(t);
	CU_ASSERT_EQUAL(st, 1);
	/* Sanitizers turn a crash into exit 1: that is no refusal either. */
	log = rcpt_test_read_file(t->log, NULL);
	CU_ASSERT(log != NULL && strstr(log + from, "Sanitizer") == NULL);
	/* The reason is the first error this start logged. */
	if (log != NULL && (why = strstr(log + from, "err: ")) != NULL) {
		why += 5;
		why[strcspn(why, "\n")] = '\0';
	}
	fprintf(stderr, "\n  receiptd: exit %d: %s", st,
	    why != NULL ? why : "(no reason logged)");
	CU_ASSERT_PTR_NOT_NULL(why);
	CU_ASSERT_EQUAL(
	    rcpt_test_spawn(&p, RECEIPTCTL, t->dir, NULL, export), 0);
	fprintf(stderr, "\n  export-chain: exit %d %s", p.status, p.err);
	CU_ASSERT_PTR_NULL(strstr(p.err, "Sanitizer"));
	if (seq < 0) {
		CU_ASSERT(p.status == 1 || p.status == 2);
		CU_ASSERT(why != NULL && strstr(p.err, why) != NULL);
	} else {
		snprintf(want, sizeof(want), "at seq %lld", (long long)seq);
		CU_ASSERT(why != NULL && strstr(why, want) != NULL);
		CU_ASSERT_EQUAL(p.status, 0);
		rcpt_test_proc_clear(&p);
		CU_ASSERT_EQUAL(
		    rcpt_test_spawn(&p, RECEIPTCTL, t->dir, NULL, verify), 0);
		fprintf(stderr, "\n  verify: exit %d %s", p.status, p.out);
		CU_ASSERT_EQUAL(p.status, 1);
		snprintf(
		    want, sizeof(want), "BROKEN at seq %lld:", (long long)seq);
		CU_ASSERT_PTR_NOT_NULL(strstr(p.out, want));
	}
	rcpt_test_proc_clear(&p);
	free(log);
	free(out);
}

static void
test_torn(void)
{
	struct td *t = &dm[3];
	struct acks all = {0};
	char data[64], marker[32], *mdb, *clean, *bad, *at;
	size_t len = 0, i;
	uint64_t victim = 0;
	int hits = 0;

	CU_ASSERT_FATAL(daemon_init(t, "torn", 1000, 0, "each") == 0);
	CU_ASSERT_FATAL(td_start(t) == 0);
	for (i = 0; i < 40; i++) {
		snprintf(data, sizeof(data), "{\"note\":\"TORN-%d-%03zu\"}",
		    (int)getpid(), i);
		CU_ASSERT_EQUAL_FATAL(append_one(t, "torn", data, &all), 0);
	}
	victim = all.v[20].seq;
	snprintf(marker, sizeof(marker), "TORN-%d-%03d", (int)getpid(), 20);
	CU_ASSERT_EQUAL_FATAL(td_stop(t), 0);
	mdb = rcpt_test_join(t->store, "data.mdb");
	CU_ASSERT_FATAL(mdb != NULL);
	clean = rcpt_test_read_file(mdb, &len);
	bad = malloc(len + 1);
	CU_ASSERT_FATAL(clean != NULL && bad != NULL);
	/* Old page copies may hold it too: flip every one. */
	memcpy(bad, clean, len);
	for (at = bad; (at = memmem(at, len - (size_t)(at - bad), marker,
	                    strlen(marker))) != NULL;
	     at++, hits++)
		at[0] = 'U';
	CU_ASSERT(hits > 0);
	CU_ASSERT_FATAL(rcpt_test_write_file(mdb, bad, len) == 0);
	expect_refusal(t, (int64_t)victim, "flipped.jsonl");
	/* The clean copy starts: the flip alone was refused. */
	CU_ASSERT_FATAL(rcpt_test_write_file(mdb, clean, len) == 0);
	CU_ASSERT_EQUAL_FATAL(td_start(t), 0);
	CU_ASSERT_EQUAL(check_chain(t, "torn", &all), 0);
	CU_ASSERT_EQUAL(td_stop(t), 0);
	/*
	 * Torn: the file ends early, cutting pages its B-tree still points
	 * at, so no receipt can be read.  Reading through the map past the
	 * end raises SIGBUS, which a refusal must not.
	 */
	CU_ASSERT_FATAL(truncate(mdb, (off_t)(len / 2)) == 0);
	expect_refusal(t, -1, "truncated.jsonl");
	free(mdb);
	free(clean);
	free(bad);
	td_free(t);
	acks_clear(&all);
}

static CU_TestInfo fault_tests[] = {
    {"kill -9 under load", test_kill9},
    {"kill -9 under load, batch sealing", test_kill9_batch},
    {"token lost and back", test_token_loss},
    {"disk full", test_disk_full},
    {"torn and corrupted store", test_torn},
    CU_TEST_INFO_NULL,
};

/* Stops what a failed case left running, so no daemon outlives us. */
static void
cleanup(void)
{
	size_t i;

	if (disk_mounted)
		(void)umount2(dm[2].store, MNT_DETACH);
	for (i = 0; i < sizeof(dm) / sizeof(dm[0]); i++) {
		if (dm[i].pid != 0)
			(void)td_kill9(&dm[i]);
		td_free(&dm[i]);
	}
}

static int
suite_init(void)
{
	return tok_status == 0 ? 0 : -1;
}

static CU_SuiteInfo suites[] = {
    {"faults", suite_init, NULL, NULL, NULL, fault_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	const char *seed = getenv("RCPT_FAULT_SEED");
	const char *only = getenv("RCPT_FAULT_ONLY");
	const char *lng = getenv("RCPT_FAULT_LONG");
	size_t i, n;
	int r;

	signal(SIGPIPE, SIG_IGN);
	if (rcpt_test_sanitizer_env() != 0)
		return 1;
	long_mode = lng != NULL && lng[0] != '\0' && strcmp(lng, "0") != 0;
	rng = seed != NULL ? strtoull(seed, NULL, 10)
	                   : (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
	if (rng == 0)
		rng = 1;
	for (i = 0, n = 0; only != NULL && fault_tests[i].pName != NULL; i++)
		if (strstr(fault_tests[i].pName, only) != NULL)
			fault_tests[n++] = fault_tests[i];
	if (only != NULL)
		fault_tests[n] = (CU_TestInfo)CU_TEST_INFO_NULL;
	fprintf(stderr, "fault suites: %s mode, RCPT_FAULT_SEED=%llu\n",
	    long_mode ? "long" : "CI", (unsigned long long)rng);
	r = rcpt_test_token_main(
	    suites, 0, "receiptd-faults", &tok, &tok_status);
	cleanup();
	return r;
}
