/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The physical limits of bench/append (see append.h): what the token
 * and the disk allow when nothing but them stands in the way, and what
 * the naive design gets from them.  Each loop runs for a fixed wall time
 * in the bench's process, on the daemon's token (its key, through our
 * own p11-kit instance of the module) and on the file system of the
 * daemon's store (a fresh LMDB environment beside it), so that the
 * daemon's figures can be read as shares of them; and the naive Python
 * peer, bench/peer-naive.py, run as a child on the same disk.  No
 * receipts are made here and nothing is checked but the return codes.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <lmdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "src/err.h"
#include "src/mem.h"

#include "append.h"
#include "common.h"

#ifndef SOFTHSM_MODULE
#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#endif

#define PIN_MAX     256
#define KEYS_MAX    16
#define SIG_LEN     64
#define MAP_SIZE    ((size_t)1 << 30) /* sparse; far above what a run puts */
#define WARM_COMMIT 20 /* untimed commits that grow the fresh file first */
#define VALUE_MAX   65536

#ifndef BENCH_SRCDIR
#define BENCH_SRCDIR "bench"
#endif

#define PYTHON3      "/usr/bin/python3"
#define PEER_SCRIPT  BENCH_SRCDIR "/peer-naive.py"
#define PEER_OUT_MAX 16384 /* bytes of the peer's output kept */
#define PEER_GRACE   60.0  /* s past its --seconds before we kill it */

static int
p11_fail(const char *fn, CK_RV rv)
{
	fprintf(stderr, "append: raw module: %s failed: 0x%lx\n", fn,
	    (unsigned long)rv);
	return RCPT_E_KEY_UNAVAILABLE;
}

static int
lmdb_fail(const char *fn, int rc)
{
	fprintf(stderr, "append: lmdb: %s: %s\n", fn, mdb_strerror(rc));
	return rc == ENOMEM ? RCPT_E_NOMEM : RCPT_E_IO;
}

/* ---- the token ------------------------------------------------------- */

static int
find_slot(struct rcpt_bench_p11 *w, const char *label, CK_SLOT_ID *slot_out)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = sizeof(slots) / sizeof(slots[0]), i;
	CK_TOKEN_INFO ti;
	char want[32];
	size_t len = strlen(label);
	CK_RV rv;

	*slot_out = 0;
	if (len > sizeof(want))
		return RCPT_E_INVAL;
	/* Token labels are 32 bytes padded with spaces. */
	memset(want, ' ', sizeof(want));
	memcpy(want, label, len);
	if ((rv = w->fn->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK)
		return p11_fail("C_GetSlotList", rv);
	for (i = 0; i < n; i++) {
		if (w->fn->C_GetTokenInfo(slots[i], &ti) != CKR_OK ||
		    memcmp(ti.label, want, sizeof(want)) != 0)
			continue;
		*slot_out = slots[i];
		return RCPT_OK;
	}
	fprintf(stderr, "append: raw module: token %s not found\n", label);
	return RCPT_E_NOT_FOUND;
}

/* Logs in with the PIN in @p path, wiped on every path. */
static int
login(struct rcpt_bench_p11 *w, const char *path)
{
	char pin[PIN_MAX];
	size_t len = 0;
	FILE *f;
	CK_RV rv;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "append: %s: %s\n", path, strerror(errno));
		return RCPT_E_IO;
	}
	if (fgets(pin, sizeof(pin), f) != NULL)
		len = strcspn(pin, "\r\n");
	fclose(f);
	if (len == 0) {
		rcpt_memzero(pin, sizeof(pin));
		fprintf(stderr, "append: %s: no PIN\n", path);
		return RCPT_E_IO;
	}
	rv = w->fn->C_Login(w->sess[0], CKU_USER, (CK_UTF8CHAR *)pin, len);
	rcpt_memzero(pin, sizeof(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		return p11_fail("C_Login", rv);
	return RCPT_OK;
}

/*
 * The daemon labels its keys itself; any Ed25519 private key on this
 * throw-away token is one of its own, and each costs the same to use.
 */
static int
find_key(struct rcpt_bench_p11 *w)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = CKK_EC_EDWARDS;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_KEY_TYPE, &kt, sizeof(kt)},
	};
	CK_OBJECT_HANDLE objs[KEYS_MAX];
	CK_ULONG n = 0;
	CK_RV rv;

	rv = w->fn->C_FindObjectsInit(
	    w->sess[0], tmpl, sizeof(tmpl) / sizeof(tmpl[0]));
	if (rv != CKR_OK)
		return p11_fail("C_FindObjectsInit", rv);
	rv = w->fn->C_FindObjects(w->sess[0], objs, KEYS_MAX, &n);
	(void)w->fn->C_FindObjectsFinal(w->sess[0]);
	if (rv != CKR_OK)
		return p11_fail("C_FindObjects", rv);
	if (n == 0) {
		fprintf(stderr, "append: raw module: no Ed25519 key on the "
		                "token\n");
		return RCPT_E_NOT_FOUND;
	}
	w->key = objs[0];
	w->nkeys = (int)n;
	return RCPT_OK;
}

int
rcpt_bench_p11_open(struct rcpt_bench_p11 *w, const char *label,
    const char *pin_file, int nsess)
{
	CK_SLOT_ID slot;
	CK_INFO info;
	CK_RV rv;
	int r;

	memset(w, 0, sizeof(*w));
	if (nsess < 1 || nsess > RCPT_BENCH_P11_SESSIONS_MAX)
		return RCPT_E_INVAL;
	if ((w->fn = p11_kit_module_load(SOFTHSM_MODULE, 0)) == NULL) {
		fprintf(stderr, "append: raw module: cannot load %s: %s\n",
		    SOFTHSM_MODULE,
		    p11_kit_message() != NULL ? p11_kit_message() : "?");
		return RCPT_E_CONFIG;
	}
	if ((rv = p11_kit_module_initialize(w->fn)) != CKR_OK)
		return p11_fail("C_Initialize", rv);
	w->initialized = 1;
	if (w->fn->C_GetInfo(&info) == CKR_OK)
		snprintf(w->version, sizeof(w->version), "%.*s %u.%u",
		    (int)p11_kit_space_strlen(
		        info.manufacturerID, sizeof(info.manufacturerID)),
		    (const char *)info.manufacturerID,
		    (unsigned)info.libraryVersion.major,
		    (unsigned)info.libraryVersion.minor);
	if ((r = find_slot(w, label, &slot)) != RCPT_OK)
		return r;
	if ((w->sess = rcpt_calloc((size_t)nsess, sizeof(*w->sess))) == NULL)
		return RCPT_E_NOMEM;
	while (w->nsess < nsess) {
		rv = w->fn->C_OpenSession(
		    slot, CKF_SERIAL_SESSION, NULL, NULL, &w->sess[w->nsess]);
		if (rv != CKR_OK)
			return p11_fail("C_OpenSession", rv);
		w->nsess++;
	}
	if ((r = login(w, pin_file)) != RCPT_OK)
		return r;
	return find_key(w);
}

void
rcpt_bench_p11_close(struct rcpt_bench_p11 *w)
{
	int i;

	if (w->fn == NULL)
		return;
	/* No C_Logout: the login is the token's, shared with no one here. */
	for (i = 0; i < w->nsess; i++)
		(void)w->fn->C_CloseSession(w->sess[i]);
	if (w->initialized)
		(void)p11_kit_module_finalize(w->fn);
	p11_kit_module_release(w->fn);
	free(w->sess);
	memset(w, 0, sizeof(*w));
}

/* One Ed25519 signature of @p msg on session @p s. */
static CK_RV
sign_once(struct rcpt_bench_p11 *w, CK_SESSION_HANDLE s, const uint8_t *msg,
    size_t len)
{
	CK_MECHANISM mech = {CKM_EDDSA, NULL, 0};
	uint8_t sig[SIG_LEN];
	CK_ULONG sl = sizeof(sig);
	CK_RV rv;

	if ((rv = w->fn->C_SignInit(s, &mech, w->key)) != CKR_OK)
		return rv;
	rv = w->fn->C_Sign(s, (CK_BYTE *)msg, len, sig, &sl);
	if (rv == CKR_OK && sl != SIG_LEN)
		rv = CKR_GENERAL_ERROR;
	return rv;
}

/* ---- timed loops ------------------------------------------------------ */

/* One thread of a raw C_Sign or naive loop. */
struct job {
	struct rcpt_bench_p11 *w;
	CK_SESSION_HANDLE sess;
	MDB_env *env; /* naive only; shared */
	MDB_dbi dbi;
	uint64_t *next_key; /* naive only; guarded by LMDB's writer lock */
	size_t event_len, value_len;
	int idx;
	double seconds;
	struct rcpt_bench_gate *start;
	uint64_t count;  /* out */
	double elapsed;  /* out */
	int err;         /* out */
	const char *why; /* out: the call that failed */
	long code;       /* out: its CK_RV or LMDB code */
};

static void *
csign_loop(void *arg)
{
	struct job *j = arg;
	uint8_t msg[32];
	double t0, t;
	CK_RV rv;
	size_t k;

	j->err = RCPT_E_INTERNAL;
	if (!rcpt_bench_gate_wait(j->start))
		return NULL;
	for (k = 0; k < sizeof(msg); k++)
		msg[k] = (uint8_t)(j->idx * 31 + k);
	t0 = rcpt_bench_now();
	do {
		msg[0] = (uint8_t)j->count;
		if ((rv = sign_once(j->w, j->sess, msg, sizeof(msg))) !=
		    CKR_OK) {
			j->err = RCPT_E_KEY_UNAVAILABLE;
			j->why = "C_Sign";
			j->code = (long)rv;
			return NULL;
		}
		j->count++;
		t = rcpt_bench_now();
	} while (t - t0 < j->seconds);
	j->elapsed = t - t0;
	j->err = RCPT_OK;
	return NULL;
}

/* Sums the threads' rates into @p out; the first error wins. */
static int
collect(struct job *jobs, int n, const char *what, struct rcpt_bench_rate *out)
{
	int i;

	for (i = 0; i < n; i++) {
		if (jobs[i].err != RCPT_OK) {
			fprintf(stderr, "append: %s: %s failed: %ld (0x%lx)\n",
			    what, jobs[i].why != NULL ? jobs[i].why : "thread",
			    jobs[i].code, (unsigned long)jobs[i].code);
			return jobs[i].err;
		}
		if (jobs[i].elapsed <= 0)
			return RCPT_E_INTERNAL;
		out->ops += (double)jobs[i].count / jobs[i].elapsed;
		out->count += (double)jobs[i].count;
		out->elapsed = rcpt_bench_max(out->elapsed, jobs[i].elapsed);
	}
	return RCPT_OK;
}

/* Runs @p fn on @p n jobs made from @p proto, each on its own session. */
static int
run_jobs(void *(*fn)(void *), const struct job *proto, int n, const char *what,
    struct rcpt_bench_rate *out)
{
	struct rcpt_bench_gate start = RCPT_BENCH_GATE_INIT;
	struct job *jobs;
	void **args;
	int i, r = RCPT_E_NOMEM;

	memset(out, 0, sizeof(*out));
	if (n < 1 || n > proto->w->nsess)
		return RCPT_E_INVAL;
	jobs = rcpt_calloc((size_t)n, sizeof(*jobs));
	args = rcpt_calloc((size_t)n, sizeof(*args));
	if (jobs == NULL || args == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		jobs[i] = *proto;
		jobs[i].sess = proto->w->sess[i];
		jobs[i].idx = i;
		jobs[i].start = &start;
		args[i] = &jobs[i];
	}
	if ((r = rcpt_bench_threads_many(fn, args, n, &start)) != RCPT_OK) {
		fprintf(stderr, "append: %s: cannot start threads\n", what);
		goto out;
	}
	r = collect(jobs, n, what, out);
out:
	free(args);
	free(jobs);
	return r;
}

int
rcpt_bench_csign(struct rcpt_bench_p11 *w, int nthreads, double seconds,
    struct rcpt_bench_rate *out)
{
	struct job proto = {.w = w, .seconds = seconds};

	return run_jobs(csign_loop, &proto, nthreads, "raw C_Sign", out);
}

/* ---- LMDB ------------------------------------------------------------- */

/* A fresh environment in a new directory under @p dir, default sync. */
static int
env_open(
    const char *dir, char path[PATH_MAX], MDB_env **env_out, MDB_dbi *dbi_out)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	int rc;

	*env_out = NULL;
	if ((size_t)snprintf(path, PATH_MAX, "%s/lmdb-XXXXXX", dir) >=
	        PATH_MAX ||
	    mkdtemp(path) == NULL) {
		fprintf(stderr, "append: mkdtemp under %s: %s\n", dir,
		    strerror(errno));
		return RCPT_E_IO;
	}
	/* No MDB_NOSYNC, no MDB_NOMETASYNC: a commit is durable. */
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_set_mapsize(env, MAP_SIZE)) != 0 ||
	    (rc = mdb_env_open(env, path, 0, 0600)) != 0 ||
	    (rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		goto fail;
	if ((rc = mdb_dbi_open(txn, NULL, 0, dbi_out)) != 0) {
		mdb_txn_abort(txn);
		goto fail;
	}
	/* A failed commit frees the transaction too. */
	if ((rc = mdb_txn_commit(txn)) != 0)
		goto fail;
	*env_out = env;
	return RCPT_OK;
fail:
	mdb_env_close(env);
	rcpt_bench_remove_tree("append", path);
	return lmdb_fail("open", rc);
}

static void
env_close(MDB_env *env, const char *path)
{
	if (env != NULL)
		mdb_env_close(env);
	rcpt_bench_remove_tree("append", path);
}

static void
key_of(uint64_t n, uint8_t key[8])
{
	int i;

	/* Big-endian, so that keys increase and MDB_APPEND holds. */
	for (i = 7; i >= 0; i--) {
		key[i] = (uint8_t)n;
		n >>= 8;
	}
}

/* One transaction of @p k puts from key *next on; then a commit. */
static int
commit_batch(MDB_env *env, MDB_dbi dbi, int k, uint64_t *next, uint8_t *value,
    size_t value_len)
{
	MDB_txn *txn;
	MDB_val kv, vv;
	uint8_t key[8];
	int i, rc;

	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0)
		return rc;
	for (i = 0; i < k; i++) {
		key_of(*next, key);
		memcpy(value, key, sizeof(key));
		kv = (MDB_val){sizeof(key), key};
		vv = (MDB_val){value_len, value};
		if ((rc = mdb_put(txn, dbi, &kv, &vv, MDB_APPEND)) != 0) {
			mdb_txn_abort(txn);
			return rc;
		}
		(*next)++;
	}
	return mdb_txn_commit(txn);
}

int
rcpt_bench_lmdb(const char *dir, int k, size_t value_len, double seconds,
    struct rcpt_bench_rate *puts_out, double *commits_out)
{
	char path[PATH_MAX];
	MDB_env *env = NULL;
	MDB_dbi dbi;
	uint8_t *value;
	uint64_t next = 0, commits = 0;
	double t0, t;
	int i, rc, r;

	memset(puts_out, 0, sizeof(*puts_out));
	*commits_out = 0;
	if (k < 1 || value_len < 8 || value_len > VALUE_MAX)
		return RCPT_E_INVAL;
	if ((value = rcpt_malloc(value_len)) == NULL)
		return RCPT_E_NOMEM;
	memset(value, 'v', value_len);
	if ((r = env_open(dir, path, &env, &dbi)) != RCPT_OK)
		goto out;
	for (i = 0; i < WARM_COMMIT; i++)
		if ((rc = commit_batch(env, dbi, k, &next, value, value_len)) !=
		    0) {
			r = lmdb_fail("warm-up commit", rc);
			goto out;
		}
	t0 = rcpt_bench_now();
	do {
		rc = commit_batch(env, dbi, k, &next, value, value_len);
		if (rc != 0) {
			r = lmdb_fail("commit", rc);
			goto out;
		}
		commits++;
		t = rcpt_bench_now();
	} while (t - t0 < seconds);
	puts_out->elapsed = t - t0;
	puts_out->count = (double)commits * k;
	puts_out->ops = puts_out->count / puts_out->elapsed;
	*commits_out = (double)commits / puts_out->elapsed;
	r = RCPT_OK;
out:
	env_close(env, path);
	free(value);
	return r;
}

/* ---- the naive design --------------------------------------------------- */

static void *
naive_loop(void *arg)
{
	struct job *j = arg;
	uint8_t *event = NULL, *value = NULL, key[8];
	MDB_txn *txn;
	MDB_val kv, vv;
	double t0, t;
	CK_RV rv;
	int rc;

	j->err = RCPT_E_NOMEM;
	event = rcpt_malloc(j->event_len);
	value = rcpt_malloc(j->value_len);
	if (!rcpt_bench_gate_wait(j->start) || event == NULL || value == NULL)
		goto out;
	memset(event, 'e', j->event_len);
	memset(value, 'v', j->value_len);
	j->err = RCPT_E_INTERNAL;
	t0 = rcpt_bench_now();
	do {
		/* A different event each time: thread and count. */
		snprintf((char *)event, j->event_len, "%04d-%012llu", j->idx,
		    (unsigned long long)j->count);
		if ((rv = sign_once(j->w, j->sess, event, j->event_len)) !=
		    CKR_OK) {
			j->err = RCPT_E_KEY_UNAVAILABLE;
			j->why = "C_Sign";
			j->code = (long)rv;
			goto out;
		}
		/* Blocks while another thread holds the writer lock. */
		if ((rc = mdb_txn_begin(j->env, NULL, 0, &txn)) != 0) {
			j->err = RCPT_E_IO;
			j->why = "mdb_txn_begin";
			j->code = rc;
			goto out;
		}
		key_of((*j->next_key)++, key);
		kv = (MDB_val){sizeof(key), key};
		vv = (MDB_val){j->value_len, value};
		if ((rc = mdb_put(txn, j->dbi, &kv, &vv, MDB_APPEND)) != 0) {
			mdb_txn_abort(txn);
			j->err = RCPT_E_IO;
			j->why = "mdb_put";
			j->code = rc;
			goto out;
		}
		if ((rc = mdb_txn_commit(txn)) != 0) {
			j->err = RCPT_E_IO;
			j->why = "mdb_txn_commit";
			j->code = rc;
			goto out;
		}
		j->count++;
		t = rcpt_bench_now();
	} while (t - t0 < j->seconds);
	j->elapsed = t - t0;
	j->err = RCPT_OK;
out:
	free(value);
	free(event);
	return NULL;
}

int
rcpt_bench_naive(struct rcpt_bench_p11 *w, const char *dir, int nthreads,
    size_t event_len, size_t value_len, double seconds,
    struct rcpt_bench_rate *out)
{
	char path[PATH_MAX];
	struct job proto;
	uint64_t next_key = 0;
	uint8_t *value = NULL;
	int i, rc, r;

	memset(out, 0, sizeof(*out));
	if (event_len < 32 || value_len < 8 || value_len > VALUE_MAX)
		return RCPT_E_INVAL;
	memset(&proto, 0, sizeof(proto));
	if ((r = env_open(dir, path, &proto.env, &proto.dbi)) != RCPT_OK)
		return r;
	if ((value = rcpt_calloc(1, value_len)) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	/* As in rcpt_bench_lmdb(): the fresh file grows before timing. */
	for (i = 0; i < WARM_COMMIT; i++)
		if ((rc = commit_batch(proto.env, proto.dbi, 1, &next_key,
		         value, value_len)) != 0) {
			r = lmdb_fail("warm-up commit", rc);
			goto out;
		}
	proto.w = w;
	proto.next_key = &next_key;
	proto.event_len = event_len;
	proto.value_len = value_len;
	proto.seconds = seconds;
	r = run_jobs(naive_loop, &proto, nthreads, "naive", out);
out:
	free(value);
	env_close(proto.env, path);
	return r;
}

int
rcpt_bench_lmdb_txnid(const char *path, uint64_t *txnid_out)
{
	MDB_env *env = NULL;
	MDB_envinfo info;
	int rc;

	*txnid_out = 0;
	/* Read-only, and no transaction: only the lock file's counter. */
	if ((rc = mdb_env_create(&env)) != 0 ||
	    (rc = mdb_env_open(env, path, MDB_RDONLY | MDB_NOTLS, 0600)) != 0 ||
	    (rc = mdb_env_info(env, &info)) != 0) {
		if (env != NULL)
			mdb_env_close(env);
		return lmdb_fail(path, rc);
	}
	*txnid_out = (uint64_t)info.me_last_txnid;
	mdb_env_close(env);
	return RCPT_OK;
}

/* ---- the naive Python peer ---------------------------------------------- */

/* Reads the child's output from @p fd until EOF or @p until. */
static size_t
read_all(int fd, char *buf, size_t cap, double until)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char junk[512];
	size_t len = 0;
	ssize_t n;
	double left;

	while ((left = until - rcpt_bench_now()) > 0) {
		if ((n = poll(&pfd, 1, (int)(left * 1000) + 1)) < 0 &&
		    errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the time is up, or poll failed */
		if (len + 1 < cap)
			n = read(fd, buf + len, cap - 1 - len);
		else
			n = read(fd, junk, sizeof(junk)); /* drained, unkept */
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break;
		if (len + 1 < cap)
			len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

/* Starts the peer with its stdout and stderr on a pipe; -1 on failure. */
static pid_t
peer_spawn(const char *dir, double seconds, int *fd_out)
{
	char secs[32];
	char *argv[] = {PYTHON3, PEER_SCRIPT, "append", "--dir", (char *)dir,
	    "--seconds", secs, NULL};
	int fds[2];
	pid_t pid;

	snprintf(secs, sizeof(secs), "%.2f", seconds);
	if (pipe(fds) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		if (dup2(fds[1], 1) < 0 || dup2(fds[1], 2) < 0)
			_exit(127);
		close(fds[0]);
		close(fds[1]);
		execv(PYTHON3, argv);
		_exit(127);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return -1;
	}
	*fd_out = fds[0];
	return pid;
}

static double
json_num(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    (!json_object_is_type(v, json_type_int) &&
	        !json_object_is_type(v, json_type_double)))
		return -1;
	return json_object_get_double(v);
}

static void
json_str(json_object *o, const char *key, char *out, size_t size)
{
	json_object *v;

	const char *s;
	size_t i;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return;
	/* A version goes into our JSON as it is: keep to safe bytes. */
	s = json_object_get_string(v);
	for (i = 0; s[i] != '\0' && i + 1 < size; i++)
		out[i] = strchr("0123456789.+-abcdefghijklmnopqrstuvwxyz"
		                "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
		             s[i]) != NULL
		             ? s[i]
		             : '_';
	out[i] = '\0';
}

/* Takes the figures from the last line of @p out; false if it has none. */
static bool
peer_parse(char *out, struct rcpt_bench_peer_try *t, struct rcpt_bench_peer *p)
{
	char *last;
	json_object *o;
	bool ok;

	while (*out != '\0' && out[strlen(out) - 1] == '\n')
		out[strlen(out) - 1] = '\0';
	last = strrchr(out, '\n');
	last = last != NULL ? last + 1 : out;
	if ((o = json_tokener_parse(last)) == NULL)
		return false;
	t->rate = json_num(o, "appends_per_s");
	t->p50 = json_num(o, "p50_ms");
	t->p99 = json_num(o, "p99_ms");
	json_str(o, "python", p->python, sizeof(p->python));
	json_str(o, "sqlite", p->sqlite, sizeof(p->sqlite));
	ok = json_object_is_type(o, json_type_object) && t->rate > 0 &&
	     t->p99 >= 0;
	json_object_put(o);
	return ok;
}

/* Prints the peer's lines indented, so that they read as its own. */
static void
print_indented(const char *out)
{
	const char *s, *nl;

	for (s = out; *s != '\0'; s = nl + 1) {
		nl = strchr(s, '\n');
		if (nl == NULL) {
			printf("    | %s\n", s);
			break;
		}
		printf("    | %.*s\n", (int)(nl - s), s);
	}
}

void
rcpt_bench_peer_run(const char *dir, double seconds, struct rcpt_bench_peer *p)
{
	struct rcpt_bench_peer_try *t;
	char *out;
	pid_t pid;
	int fd, st;

	if (p->ntries == (int)(sizeof(p->tries) / sizeof(p->tries[0])))
		return;
	t = &p->tries[p->ntries++];
	printf("naive peer, run %d: " PYTHON3 " " PEER_SCRIPT " append "
	       "--seconds %.2f\n",
	    p->ntries, seconds);
	fflush(stdout);
	if (access(PYTHON3, X_OK) != 0 || access(PEER_SCRIPT, R_OK) != 0) {
		snprintf(p->why, sizeof(p->why), "no %s",
		    access(PYTHON3, X_OK) != 0 ? PYTHON3 : PEER_SCRIPT);
		printf("  not measured: %s\n", p->why);
		return;
	}
	if ((out = malloc(PEER_OUT_MAX)) == NULL ||
	    (mkdir(dir, 0700) != 0 && errno != EEXIST) ||
	    (pid = peer_spawn(dir, seconds, &fd)) < 0) {
		snprintf(p->why, sizeof(p->why), "cannot start it: %s",
		    strerror(errno));
		printf("  not measured: %s\n", p->why);
		free(out);
		return;
	}
	read_all(
	    fd, out, PEER_OUT_MAX, rcpt_bench_now() + seconds + PEER_GRACE);
	close(fd);
	if ((st = rcpt_bench_child_wait(pid, 1.0)) < 0) {
		kill(pid, SIGKILL);
		st = rcpt_bench_child_wait(pid, PEER_GRACE);
	}
	print_indented(out);
	if (st == 2 && strstr(out, "python3-nacl") != NULL)
		snprintf(
		    p->why, sizeof(p->why), "python3-nacl is not installed");
	else if (st != 0)
		snprintf(p->why, sizeof(p->why), "it exited %d", st);
	else if (!(t->ok = peer_parse(out, t, p)))
		snprintf(p->why, sizeof(p->why),
		    "its last line held no appends_per_s and p99_ms");
	if (!t->ok)
		printf("  not measured: %s\n", p->why);
	fflush(stdout);
	free(out);
}

void
rcpt_bench_peer_finish(struct rcpt_bench_peer *p)
{
	int i, best = -1;

	for (i = 0; i < p->ntries; i++)
		if (p->tries[i].ok &&
		    (best < 0 || p->tries[i].rate > p->tries[best].rate))
			best = i;
	if (best < 0) {
		if (p->why[0] == '\0')
			snprintf(p->why, sizeof(p->why), "not run");
		return;
	}
	p->measured = true;
	p->rate = p->tries[best].rate;
	p->p99 = p->tries[best].p99;
	p->why[0] = '\0';
}

/* ---- all of them ------------------------------------------------------ */

int
rcpt_bench_limits(
    const struct rcpt_bench_limits_in *in, struct rcpt_bench_limits *out)
{
	static const int ks[] = {1, 16, 64};
	struct rcpt_bench_rate rate;
	long anon0, anon1;
	int i, r;

	memset(out, 0, sizeof(*out));
	printf("\nother limits (%.1f s each, the daemon idle):\n", in->seconds);
	anon0 = rcpt_bench_proc_kib(getpid(), "RssAnon:");
	if ((r = rcpt_bench_csign(in->w, 1, in->seconds, &rate)) != RCPT_OK)
		return r;
	anon1 = rcpt_bench_proc_kib(getpid(), "RssAnon:");
	out->raw_1s = rate.ops;
	if (anon0 >= 0 && anon1 >= anon0 && rate.count > 0)
		out->token_growth_b =
		    (double)(anon1 - anon0) * 1024 / rate.count;
	printf("  raw C_Sign, 1 session: %.0f signs/s; this process grew by "
	       "%.0f bytes per\n  signature meanwhile (the token module's own "
	       "memory: %.1f MiB per million)\n",
	    out->raw_1s, out->token_growth_b,
	    out->token_growth_b * 1e6 / (1024.0 * 1024.0));
	for (i = 0; i < 3; i++)
		out->k[out->nk++] = ks[i];
	out->k_daemon = (int)(in->batch + 0.5);
	if (out->k_daemon > 1 && out->k_daemon != 16 && out->k_daemon != 64)
		out->k[out->nk++] = out->k_daemon;
	printf("  raw LMDB durable commits (fresh env beside the store, "
	       "%zu-byte values):\n",
	    in->value_len);
	for (i = 0; i < out->nk; i++) {
		if ((r = rcpt_bench_lmdb(in->dir, out->k[i], in->value_len,
		         in->seconds, &rate, &out->commits[i])) != RCPT_OK)
			return r;
		out->puts[i] = rate.ops;
		printf("    K = %3d puts per commit: %6.0f commits/s %8.0f "
		       "puts/s%s\n",
		    out->k[i], out->commits[i], out->puts[i],
		    out->k[i] == out->k_daemon ? "  (the daemon's mean batch)"
		                               : "");
		fflush(stdout);
	}
	return RCPT_OK;
}
