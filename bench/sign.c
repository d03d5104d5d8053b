/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signing benchmark: on a fresh SoftHSM2 token in a temp dir, measures
 * in one run how many Ed25519 signatures per second our PKCS#11
 * provider plugin gives through the keystore (rcpt_ks_sign, one and two
 * threads, and the rcpt_ks_signer adapter on one) against a bare
 * C_SignInit + C_Sign loop on the same module, token and key (the limit
 * our provider is judged against), and how many plain OpenSSL gives
 * with a key in memory (what the token costs).  The bare loop and ours
 * run in short interleaved slices, so that other load on the machine
 * falls on both alike (see bench/README.md).  It prints human-readable
 * figures, whether each target was met, and ends with one JSON line for
 * scripts.
 *
 * It is a measurement, not a test: a missed target is reported but does
 * not fail the run.  Only errors (token setup, a failed or wrong
 * signature) give a non-zero exit.  It never touches a system token.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <p11-kit/p11-kit.h>

#include "hsm/hsm.h"
#include "keystore/keystore.h"
#include "src/err.h"
#include "src/mem.h"

#include "common.h"

#ifndef SOFTHSM_MODULE
#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#endif
#ifndef PROVIDERS_BUILDDIR
#define PROVIDERS_BUILDDIR "keystore/.libs"
#endif

#define SECONDS_DEFAULT 3.0
#define SECONDS_QUICK   1.0
#define ROUNDS_DEFAULT  6
#define ROUNDS_QUICK    2
#define ROUNDS_MAX      100
#define SLICE_SECONDS   0.5 /* one raw or ours slice of a round */
#define THREADS_MAX     2
#define MSGS            256 /* distinct 32-byte messages, reused in turn */
#define BATCH           64  /* signatures between two clock reads */
#define TOKEN_LABEL     "rcpt-bench-sign"
#define KEY_LABEL       "bench-sign"
#define TARGET_RATIO    0.95
#define PIN_MAX         256

/*
 * The fixed OpenSSL key.  Exactly 32 characters: the array holds no
 * NUL.
 */
static const uint8_t bench_seed[32] = "receiptd bench/sign fixed seed!!";

struct opts {
	double seconds; /* wall time of the OpenSSL and signer measurements */
	int rounds;     /* interleaved rounds of the target ratios */
};

/* The bare module: our own p11-kit load of SOFTHSM_MODULE. */
struct raw {
	CK_FUNCTION_LIST *fn; /* managed by p11-kit; owned */
	int initialized;      /* 1 after p11_kit_module_initialize */
	CK_SESSION_HANDLE sess[THREADS_MAX];
	int nsess;
	CK_OBJECT_HANDLE key;               /* the private key */
	char label[RCPT_HSM_LABEL_MAX + 1]; /* its CKA_LABEL */
	char version[64];                   /* "SoftHSM 2.6" from C_GetInfo */
};

/* Everything the measurements share; set up once. */
struct env {
	char root[PATH_MAX];    /* mkdtemp; removed at the end */
	char tokdir[PATH_MAX];  /* root/token: softhsm2.conf, PINs, tokens */
	char provdir[PATH_MAX]; /* root/providers: the plugin copy, 0755 */
	struct rcpt_ks_provider *ks; /* owned */
	char *handle;                /* owned; the key's provider handle */
	uint8_t pub[RCPT_ED25519_PUB_LEN];
	char kid[RCPT_KID_LEN + 1];
	struct rcpt_signer signer; /* borrows ks */
	struct raw raw;
	EVP_PKEY *ossl; /* the fixed in-memory key; owned */
	uint8_t msgs[MSGS][32];
};

enum path { PATH_OPENSSL, PATH_CSIGN, PATH_OURS, PATH_SIGNER };

static const char *const path_name[] = {
    [PATH_OPENSSL] = "openssl",
    [PATH_CSIGN] = "raw C_Sign",
    [PATH_OURS] = "rcpt_ks_sign",
    [PATH_SIGNER] = "rcpt_ks_signer",
};

struct job {
	enum path path;
	struct env *env; /* shared; the paths used are thread-safe */
	int idx;         /* thread number: raw session, message offset */
	double seconds;
	struct rcpt_bench_gate *start;
	uint64_t count;   /* out: signatures made */
	double elapsed;   /* out: seconds */
	double cpu;       /* out: CPU seconds of this thread */
	int err;          /* out */
	char reason[600]; /* out: what failed, for people */
};

/* One measurement: the summed rate of its threads. */
struct fig {
	double rate;     /* signatures per second */
	double cpu_rate; /* signatures per CPU second of the threads */
	double count;    /* signatures made */
	double cpu;      /* CPU seconds of the threads */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sign [--quick] [--seconds S] [--rounds K]\n"
	    "  --quick      %.0f s per measurement, %d rounds (smoke run)\n"
	    "  --seconds S  wall time of the OpenSSL and signer measurements "
	    "(default %.0f)\n"
	    "  --rounds K   interleaved rounds of %.1f s raw and %.1f s ours "
	    "slices\n"
	    "               for the target ratios (default %d)\n",
	    SECONDS_QUICK, ROUNDS_QUICK, SECONDS_DEFAULT, SLICE_SECONDS,
	    SLICE_SECONDS, ROUNDS_DEFAULT);
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	struct rcpt_bench_opts bo = {.prog = "sign",
	    .usage = usage,
	    .count_opt = "rounds",
	    .count_max = ROUNDS_MAX,
	    .count = ROUNDS_DEFAULT,
	    .seconds = SECONDS_DEFAULT};

	if (rcpt_bench_parse_args(argc, argv, &bo) != RCPT_OK)
		return RCPT_E_INVAL;
	if (bo.quick && !bo.have_seconds)
		bo.seconds = SECONDS_QUICK;
	if (bo.quick && !bo.have_count)
		bo.count = ROUNDS_QUICK;
	o->seconds = bo.seconds;
	o->rounds = (int)bo.count;
	return RCPT_OK;
}

/* Copies the built plugin to @p dir with mode 0755. */
static int
copy_plugin(const char *dir)
{
	char to[PATH_MAX + 32], buf[65536];
	FILE *in = NULL, *out = NULL;
	size_t n;
	int r = RCPT_E_IO;

	if ((in = fopen(PROVIDERS_BUILDDIR "/provider-pkcs11.so", "rb")) ==
	    NULL) {
		fprintf(stderr,
		    "sign: %s/provider-pkcs11.so: %s (run `make bench`)\n",
		    PROVIDERS_BUILDDIR, strerror(errno));
		return RCPT_E_NOT_FOUND;
	}
	snprintf(to, sizeof(to), "%s/provider-pkcs11.so", dir);
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
	/* The loader refuses plugins writable by group or others. */
	if (chmod(to, 0755) != 0)
		goto out;
	r = RCPT_OK;
out:
	if (r != RCPT_OK)
		fprintf(stderr, "sign: copy plugin to %s: %s\n", to,
		    strerror(errno));
	if (out != NULL)
		fclose(out);
	fclose(in);
	return r;
}

/* ---- our provider ---------------------------------------------------- */

/*
 * Creates the token, loads and opens our plugin on it with one session
 * per thread, and generates the one key.
 */
static int
setup_ours(struct env *e)
{
	struct rcpt_ks_opts ko;
	struct rcpt_diag d;
	char config[3 * PATH_MAX];
	int r;

	rcpt_diag_clear(&d);
	r = rcpt_hsm_softhsm_init_module(
	    SOFTHSM_MODULE, e->tokdir, TOKEN_LABEL, &d);
	if (r != RCPT_OK) {
		fprintf(stderr, "sign: token: %s\n", rcpt_diag_msg(&d, r));
		return r;
	}
	if (mkdir(e->provdir, 0755) != 0 || chmod(e->provdir, 0755) != 0) {
		fprintf(stderr, "sign: mkdir %s: %s\n", e->provdir,
		    strerror(errno));
		return RCPT_E_IO;
	}
	if ((r = copy_plugin(e->provdir)) != RCPT_OK)
		return r;
	rcpt_diag_clear(&d);
	if ((r = rcpt_ks_load("pkcs11", e->provdir, 0, &e->ks, &d)) !=
	    RCPT_OK) {
		fprintf(
		    stderr, "sign: load plugin: %s\n", rcpt_diag_msg(&d, r));
		return r;
	}
	snprintf(config, sizeof(config),
	    "module=%s;token=pkcs11:token=" TOKEN_LABEL
	    ";pin-file=%s/user.pin;sessions=%d",
	    SOFTHSM_MODULE, e->tokdir, THREADS_MAX);
	memset(&ko, 0, sizeof(ko));
	rcpt_diag_clear(&d);
	/* Production mode: the pkcs11 provider is what the daemon runs. */
	if ((r = rcpt_ks_open(e->ks, config, 1, &ko, &d)) != RCPT_OK) {
		fprintf(
		    stderr, "sign: open provider: %s\n", rcpt_diag_msg(&d, r));
		return r;
	}
	rcpt_diag_clear(&d);
	if ((r = rcpt_ks_generate(e->ks, KEY_LABEL, &e->handle, e->pub, e->kid,
	         &d)) != RCPT_OK) {
		fprintf(stderr, "sign: generate: %s\n", rcpt_diag_msg(&d, r));
		return r;
	}
	rcpt_diag_clear(&d);
	if ((r = rcpt_ks_signer(e->ks, e->handle, &e->signer, &d)) != RCPT_OK) {
		fprintf(stderr, "sign: signer: %s\n", rcpt_diag_msg(&d, r));
		return r;
	}
	return RCPT_OK;
}

/* ---- the bare module ------------------------------------------------- */

static int
raw_fail(const char *fn, CK_RV rv)
{
	fprintf(stderr, "sign: raw module: %s failed: 0x%lx\n", fn,
	    (unsigned long)rv);
	return RCPT_E_KEY_UNAVAILABLE;
}

/* The slot whose token carries TOKEN_LABEL. */
static int
raw_find_slot(struct raw *w, CK_SLOT_ID *slot_out)
{
	CK_SLOT_ID slots[64];
	CK_ULONG n = sizeof(slots) / sizeof(slots[0]), i;
	CK_TOKEN_INFO ti;
	char want[32];
	CK_RV rv;

	*slot_out = 0;
	/* Token labels are 32 bytes padded with spaces. */
	memset(want, ' ', sizeof(want));
	memcpy(want, TOKEN_LABEL, strlen(TOKEN_LABEL));
	if ((rv = w->fn->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK)
		return raw_fail("C_GetSlotList", rv);
	for (i = 0; i < n; i++) {
		if (w->fn->C_GetTokenInfo(slots[i], &ti) != CKR_OK ||
		    memcmp(ti.label, want, sizeof(want)) != 0)
			continue;
		*slot_out = slots[i];
		return RCPT_OK;
	}
	fprintf(stderr, "sign: raw module: token %s not found\n", TOKEN_LABEL);
	return RCPT_E_NOT_FOUND;
}

/* Logs in with the PIN from tokdir/user.pin, wiped on every path. */
static int
raw_login(struct raw *w, const char *tokdir)
{
	char path[PATH_MAX + 16], pin[PIN_MAX];
	size_t len = 0;
	FILE *f;
	CK_RV rv;

	snprintf(path, sizeof(path), "%s/user.pin", tokdir);
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "sign: %s: %s\n", path, strerror(errno));
		return RCPT_E_IO;
	}
	if (fgets(pin, sizeof(pin), f) != NULL)
		len = strcspn(pin, "\r\n");
	fclose(f);
	if (len == 0) {
		rcpt_memzero(pin, sizeof(pin));
		fprintf(stderr, "sign: %s: no PIN\n", path);
		return RCPT_E_IO;
	}
	rv = w->fn->C_Login(w->sess[0], CKU_USER, (CK_UTF8CHAR *)pin, len);
	rcpt_memzero(pin, sizeof(pin));
	/*
	 * SoftHSM keeps one login per token and process, so when our
	 * provider is logged in already this says so; either is fine.
	 */
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		return raw_fail("C_Login", rv);
	return RCPT_OK;
}

/* Sets *found_out to the one Ed25519 private key labelled @p label. */
static int
raw_find_key(struct raw *w, const char *label, bool *found_out)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = CKK_EC_EDWARDS;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_KEY_TYPE, &kt, sizeof(kt)},
	    {CKA_LABEL, (void *)label, strlen(label)},
	};
	CK_OBJECT_HANDLE objs[2];
	CK_ULONG n = 0;
	CK_RV rv;

	*found_out = false;
	rv = w->fn->C_FindObjectsInit(
	    w->sess[0], tmpl, sizeof(tmpl) / sizeof(tmpl[0]));
	if (rv != CKR_OK)
		return raw_fail("C_FindObjectsInit", rv);
	rv = w->fn->C_FindObjects(w->sess[0], objs, 2, &n);
	(void)w->fn->C_FindObjectsFinal(w->sess[0]);
	if (rv != CKR_OK)
		return raw_fail("C_FindObjects", rv);
	if (n > 1) {
		fprintf(
		    stderr, "sign: raw module: two keys labelled %s\n", label);
		return RCPT_E_CORRUPT;
	}
	if (n == 1) {
		w->key = objs[0];
		snprintf(w->label, sizeof(w->label), "%s", label);
		*found_out = true;
	}
	return RCPT_OK;
}

/*
 * The label from a handle "<token URI>;object=<label>;...", percent
 * decoded; "" when the handle has another shape.
 */
static void
handle_label(const char *handle, char out[RCPT_HSM_LABEL_MAX + 1])
{
	const char *s = strstr(handle, ";object=");
	size_t n = 0;
	unsigned v;

	out[0] = '\0';
	if (s == NULL)
		return;
	for (s += 8; *s != '\0' && *s != ';'; s++) {
		if (n == RCPT_HSM_LABEL_MAX)
			return;
		if (*s == '%' && sscanf(s + 1, "%2x", &v) == 1 && v != 0) {
			out[n++] = (char)v;
			s += 2;
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
}

/*
 * Our provider chooses the CKA_LABEL of the keys it generates; look for
 * the label its handle names, then the kid, then the label we asked for.
 */
static int
raw_key(struct env *e)
{
	char from_handle[RCPT_HSM_LABEL_MAX + 1];
	const char *cand[3];
	bool found = false;
	int i, r;

	handle_label(e->handle, from_handle);
	cand[0] = from_handle;
	cand[1] = e->kid;
	cand[2] = KEY_LABEL;
	for (i = 0; i < 3 && !found; i++) {
		if (cand[i][0] == '\0')
			continue;
		if ((r = raw_find_key(&e->raw, cand[i], &found)) != RCPT_OK)
			return r;
	}
	if (!found) {
		fprintf(stderr, "sign: raw module: generated key not found\n");
		return RCPT_E_NOT_FOUND;
	}
	return RCPT_OK;
}

/*
 * Loads SOFTHSM_MODULE a second time through p11-kit, managed (the
 * default), so that its C_Initialize and C_Finalize stay apart from our
 * provider's, and opens one session per thread on the token.
 */
static int
setup_raw(struct env *e)
{
	struct raw *w = &e->raw;
	CK_SLOT_ID slot;
	CK_INFO info;
	CK_RV rv;
	int r;

	if ((w->fn = p11_kit_module_load(SOFTHSM_MODULE, 0)) == NULL) {
		fprintf(stderr, "sign: raw module: cannot load %s: %s\n",
		    SOFTHSM_MODULE,
		    p11_kit_message() != NULL ? p11_kit_message() : "?");
		return RCPT_E_CONFIG;
	}
	if ((rv = p11_kit_module_initialize(w->fn)) != CKR_OK)
		return raw_fail("C_Initialize", rv);
	w->initialized = 1;
	if (w->fn->C_GetInfo(&info) == CKR_OK)
		snprintf(w->version, sizeof(w->version), "%.*s %u.%u",
		    (int)p11_kit_space_strlen(
		        info.manufacturerID, sizeof(info.manufacturerID)),
		    (const char *)info.manufacturerID,
		    (unsigned)info.libraryVersion.major,
		    (unsigned)info.libraryVersion.minor);
	if ((r = raw_find_slot(w, &slot)) != RCPT_OK)
		return r;
	while (w->nsess < THREADS_MAX) {
		rv = w->fn->C_OpenSession(slot,
		    CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
		    &w->sess[w->nsess]);
		if (rv != CKR_OK)
			return raw_fail("C_OpenSession", rv);
		w->nsess++;
	}
	if ((r = raw_login(w, e->tokdir)) != RCPT_OK)
		return r;
	return raw_key(e);
}

/*
 * Closes our sessions and finalizes our p11-kit instance of the module.
 * No C_Logout: the login belongs to the token, and our provider still
 * signs on it.
 */
static void
close_raw(struct raw *w)
{
	int i;

	if (w->fn == NULL)
		return;
	for (i = 0; i < w->nsess; i++)
		(void)w->fn->C_CloseSession(w->sess[i]);
	w->nsess = 0;
	if (w->initialized)
		(void)p11_kit_module_finalize(w->fn);
	w->initialized = 0;
	p11_kit_module_release(w->fn);
	w->fn = NULL;
}

/* ---- OpenSSL and the messages --------------------------------------- */

static int
setup_openssl(struct env *e)
{
	size_t i, k;

	for (i = 0; i < MSGS; i++)
		for (k = 0; k < 32; k++)
			e->msgs[i][k] = (uint8_t)(i * 37 + k * 11 + 3);
	e->ossl = EVP_PKEY_new_raw_private_key(
	    EVP_PKEY_ED25519, NULL, bench_seed, sizeof(bench_seed));
	if (e->ossl == NULL) {
		fprintf(stderr, "sign: OpenSSL: cannot make an Ed25519 key\n");
		return RCPT_E_INTERNAL;
	}
	return RCPT_OK;
}

/* ---- one signature on each path ------------------------------------- */

/* Makes one signature of @p msg on the path of @p j. */
static int
sign_one(struct job *j, EVP_MD_CTX *ctx, const uint8_t msg[32],
    uint8_t sig[RCPT_ED25519_SIG_LEN])
{
	struct env *e = j->env;
	CK_MECHANISM mech = {CKM_EDDSA, NULL, 0};
	CK_SESSION_HANDLE s;
	CK_ULONG sl = RCPT_ED25519_SIG_LEN;
	struct rcpt_diag d;
	size_t len = RCPT_ED25519_SIG_LEN;
	CK_RV rv;
	int r;

	switch (j->path) {
	case PATH_OPENSSL:
		if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, e->ossl) != 1 ||
		    EVP_DigestSign(ctx, sig, &len, msg, 32) != 1 ||
		    len != RCPT_ED25519_SIG_LEN) {
			snprintf(j->reason, sizeof(j->reason),
			    "EVP_DigestSign failed");
			return RCPT_E_INTERNAL;
		}
		return RCPT_OK;
	case PATH_CSIGN:
		s = e->raw.sess[j->idx];
		if ((rv = e->raw.fn->C_SignInit(s, &mech, e->raw.key)) !=
		    CKR_OK) {
			snprintf(j->reason, sizeof(j->reason),
			    "C_SignInit failed: 0x%lx", (unsigned long)rv);
			return RCPT_E_KEY_UNAVAILABLE;
		}
		rv = e->raw.fn->C_Sign(s, (CK_BYTE *)msg, 32, sig, &sl);
		if (rv != CKR_OK || sl != RCPT_ED25519_SIG_LEN) {
			snprintf(j->reason, sizeof(j->reason),
			    "C_Sign failed: 0x%lx, %lu bytes",
			    (unsigned long)rv, (unsigned long)sl);
			return RCPT_E_KEY_UNAVAILABLE;
		}
		return RCPT_OK;
	case PATH_OURS:
		rcpt_diag_clear(&d);
		r = rcpt_ks_sign(e->ks, e->handle, msg, 32, sig, &d);
		if (r != RCPT_OK)
			snprintf(j->reason, sizeof(j->reason), "%s",
			    rcpt_diag_msg(&d, r));
		return r;
	case PATH_SIGNER:
		r = e->signer.sign(e->signer.ctx, e->signer.kid, msg, sig);
		if (r != RCPT_OK)
			snprintf(j->reason, sizeof(j->reason), "%s",
			    rcpt_strerror(r));
		return r;
	}
	return RCPT_E_INTERNAL;
}

/* ---- timed loops ------------------------------------------------------ */

static void *
sign_loop(void *arg)
{
	struct job *j = arg;
	uint8_t sig[RCPT_ED25519_SIG_LEN];
	EVP_MD_CTX *ctx;
	uint64_t count = 0;
	double t0, t, c0;
	size_t i, m;

	j->err = RCPT_E_INTERNAL;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		j->err = RCPT_E_NOMEM;
		return NULL;
	}
	if (!rcpt_bench_gate_wait(j->start))
		goto out;
	/* Threads start at different messages; it makes no difference. */
	m = (size_t)j->idx * (MSGS / THREADS_MAX);
	c0 = rcpt_bench_cpu(CLOCK_THREAD_CPUTIME_ID);
	t0 = rcpt_bench_now();
	do {
		for (i = 0; i < BATCH; i++) {
			if ((j->err = sign_one(j, ctx, j->env->msgs[m], sig)) !=
			    RCPT_OK)
				goto out;
			m = (m + 1) % MSGS;
		}
		count += BATCH;
		t = rcpt_bench_now();
	} while (t - t0 < j->seconds);
	j->count = count;
	j->elapsed = t - t0;
	j->cpu = rcpt_bench_cpu(CLOCK_THREAD_CPUTIME_ID) - c0;
	j->err = RCPT_OK;
out:
	EVP_MD_CTX_free(ctx);
	return NULL;
}

/* Signatures per second of @p path on @p nthreads threads side by side. */
static int
measure(struct env *e, enum path path, int nthreads, double seconds,
    struct fig *fig_out)
{
	struct job jobs[THREADS_MAX];
	void *args[THREADS_MAX];
	struct rcpt_bench_gate start = RCPT_BENCH_GATE_INIT;
	int i, r;

	memset(fig_out, 0, sizeof(*fig_out));
	if (nthreads < 1 || nthreads > THREADS_MAX)
		return RCPT_E_INVAL;
	for (i = 0; i < nthreads; i++) {
		jobs[i] = (struct job){.path = path,
		    .env = e,
		    .idx = i,
		    .seconds = seconds,
		    .start = &start};
		args[i] = &jobs[i];
	}
	if ((r = rcpt_bench_threads(sign_loop, args, nthreads, &start)) !=
	    RCPT_OK) {
		fprintf(stderr, "sign: cannot start threads\n");
		return r;
	}
	for (i = 0; i < nthreads; i++) {
		if (jobs[i].err != RCPT_OK) {
			fprintf(stderr, "sign: %s, %d thread(s): %s: %s\n",
			    path_name[path], nthreads,
			    rcpt_strerror(jobs[i].err), jobs[i].reason);
			return jobs[i].err;
		}
		if (jobs[i].elapsed <= 0 || jobs[i].cpu <= 0)
			return RCPT_E_INTERNAL;
		fig_out->rate += (double)jobs[i].count / jobs[i].elapsed;
		fig_out->count += (double)jobs[i].count;
		fig_out->cpu += jobs[i].cpu;
	}
	fig_out->cpu_rate = fig_out->count / fig_out->cpu;
	return RCPT_OK;
}

/* ---- checks ----------------------------------------------------------- */

/*
 * Ed25519 is deterministic: the bare loop, our provider and the signer
 * must give the same bytes for one message, and they must verify under
 * the public key the provider reported.  This proves the bare loop signs
 * with the very key ours uses.
 */
static int
check_same_key(struct env *e)
{
	static const enum path paths[] = {PATH_CSIGN, PATH_OURS, PATH_SIGNER};
	uint8_t sig[3][RCPT_ED25519_SIG_LEN];
	struct job j;
	EVP_PKEY *pub = NULL;
	EVP_MD_CTX *ctx = NULL;
	size_t i;
	int r = RCPT_E_INTERNAL;

	for (i = 0; i < 3; i++) {
		memset(&j, 0, sizeof(j));
		j.path = paths[i];
		j.env = e;
		if ((r = sign_one(&j, NULL, e->msgs[0], sig[i])) != RCPT_OK) {
			fprintf(stderr, "sign: %s: %s: %s\n",
			    path_name[paths[i]], rcpt_strerror(r), j.reason);
			return r;
		}
	}
	r = RCPT_E_BAD_SIGNATURE;
	if (memcmp(sig[0], sig[1], sizeof(sig[0])) != 0 ||
	    memcmp(sig[0], sig[2], sizeof(sig[0])) != 0) {
		fprintf(stderr, "sign: raw C_Sign, rcpt_ks_sign and the "
		                "signer disagree\n");
		goto out;
	}
	pub = EVP_PKEY_new_raw_public_key(
	    EVP_PKEY_ED25519, NULL, e->pub, sizeof(e->pub));
	if (pub == NULL || (ctx = EVP_MD_CTX_new()) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub) != 1 ||
	    EVP_DigestVerify(ctx, sig[0], sizeof(sig[0]), e->msgs[0], 32) !=
	        1) {
		fprintf(stderr, "sign: token signature does not verify\n");
		goto out;
	}
	r = RCPT_OK;
out:
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pub);
	return r;
}

/* Our provider must still sign once the bare instance is finalized. */
static int
check_after_finalize(struct env *e)
{
	uint8_t sig[RCPT_ED25519_SIG_LEN];
	struct rcpt_diag d;
	int r;

	rcpt_diag_clear(&d);
	r = rcpt_ks_sign(e->ks, e->handle, e->msgs[1], 32, sig, &d);
	if (r != RCPT_OK)
		fprintf(stderr,
		    "sign: rcpt_ks_sign after the raw module was finalized: "
		    "%s\n",
		    rcpt_diag_msg(&d, r));
	return r;
}

/* ---- interleaved ratios -------------------------------------------- */

/*
 * The target ratios of one thread count: K rounds, each a raw slice and
 * an ours slice of equal length, in alternating order.  Load from other
 * tenants of the machine comes and goes over seconds; slices this short
 * and side by side see the same load, where two long windows apart
 * need not.
 */
struct ratio {
	int nthreads;
	double raw_ops, ours_ops; /* signatures over all slices, per slice s */
	double raw_cpu, ours_cpu; /* CPU seconds over all slices */
	double raw_cnt, ours_cnt; /* signatures over all slices */
	double round[ROUNDS_MAX]; /* ours / raw of each round */
	double ratio;             /* sum ours / sum raw over equal time */
	double lo, hi;            /* min and max of round[] */
	double raw_rate, ours_rate; /* mean signatures per second */
	double cpu_ratio;           /* ours / raw per CPU second */
};

static int
measure_ratio(struct env *e, int nthreads, int rounds, struct ratio *q)
{
	struct fig raw, ours;
	int i, r;

	memset(q, 0, sizeof(*q));
	q->nthreads = nthreads;
	/*
	 * One slice of each, not counted: the first slice after a change
	 * of path or thread count runs cold (caches, the token's session
	 * state, CPU frequency) and would flatter whichever came second.
	 */
	if ((r = measure(e, PATH_CSIGN, nthreads, SLICE_SECONDS, &raw)) !=
	        RCPT_OK ||
	    (r = measure(e, PATH_OURS, nthreads, SLICE_SECONDS, &ours)) !=
	        RCPT_OK)
		return r;
	for (i = 0; i < rounds; i++) {
		/* Odd rounds run ours first: neither side always leads. */
		if (i % 2 == 0)
			r = measure(
			    e, PATH_CSIGN, nthreads, SLICE_SECONDS, &raw);
		else
			r = measure(
			    e, PATH_OURS, nthreads, SLICE_SECONDS, &ours);
		if (r != RCPT_OK)
			return r;
		if (i % 2 == 0)
			r = measure(
			    e, PATH_OURS, nthreads, SLICE_SECONDS, &ours);
		else
			r = measure(
			    e, PATH_CSIGN, nthreads, SLICE_SECONDS, &raw);
		if (r != RCPT_OK)
			return r;
		/*
		 * A slice ends at the first batch past its time: rates,
		 * times the slice, are the signatures of exactly equal time.
		 */
		q->raw_ops += raw.rate * SLICE_SECONDS;
		q->ours_ops += ours.rate * SLICE_SECONDS;
		q->raw_cnt += raw.count;
		q->ours_cnt += ours.count;
		q->raw_cpu += raw.cpu;
		q->ours_cpu += ours.cpu;
		q->round[i] = ours.rate / raw.rate;
		q->lo =
		    i == 0 ? q->round[i] : rcpt_bench_min(q->lo, q->round[i]);
		q->hi =
		    i == 0 ? q->round[i] : rcpt_bench_max(q->hi, q->round[i]);
	}
	q->ratio = q->ours_ops / q->raw_ops;
	q->raw_rate = q->raw_ops / (rounds * SLICE_SECONDS);
	q->ours_rate = q->ours_ops / (rounds * SLICE_SECONDS);
	q->cpu_ratio = (q->ours_cnt / q->ours_cpu) / (q->raw_cnt / q->raw_cpu);
	return RCPT_OK;
}

/* ---- report ---------------------------------------------------------- */

/* Every figure of one run. */
struct figs {
	struct rcpt_bench_machine m;
	double seconds; /* per OpenSSL and signer measurement */
	int rounds;
	struct fig ossl1, signer1;
	struct ratio q1, q2; /* one and two threads */
	double vs_ossl;
	bool ok1, ok2;
	bool after_ok; /* ours signed after the raw instance finalized */
};

static void
judge(struct figs *f)
{
	f->vs_ossl = f->q1.raw_rate / f->ossl1.rate;
	f->ok1 = f->q1.ratio >= TARGET_RATIO;
	f->ok2 = f->q2.ratio >= TARGET_RATIO;
}

static void
print_ratio(const struct ratio *q, int rounds)
{
	int i;

	printf("  %d thread%s  raw %8.0f signs/s   ours %8.0f signs/s\n",
	    q->nthreads, q->nthreads > 1 ? "s" : " ", q->raw_rate,
	    q->ours_rate);
	printf("    rounds:");
	for (i = 0; i < rounds; i++)
		printf(" %.3f", q->round[i]);
	printf("\n    ours_%dt / raw_csign_%dt = %.3f   (rounds %.3f to %.3f)"
	       "   target >= %.2f   %s\n",
	    q->nthreads, q->nthreads, q->ratio, q->lo, q->hi, TARGET_RATIO,
	    rcpt_bench_verdict(q->ratio >= TARGET_RATIO));
}

static void
print_text(const struct figs *f)
{
	printf("\nraw OpenSSL Ed25519 sign (EVP_DigestSignInit + "
	       "EVP_DigestSign, key in memory):\n");
	printf("  1 thread   %10.0f signs/s\n", f->ossl1.rate);

	printf("\nraw PKCS#11 on SoftHSM (C_SignInit(CKM_EDDSA) + C_Sign, one "
	       "session per\nthread, the same key) against our provider "
	       "(rcpt_ks_sign through\nprovider-pkcs11.so, sessions=%d), "
	       "interleaved: %d rounds of a %.1f s raw\nslice and a %.1f s "
	       "ours slice, order alternating; ratio = sum of ours\n/ sum of "
	       "raw over equal time:\n",
	    THREADS_MAX, f->rounds, SLICE_SECONDS, SLICE_SECONDS);
	print_ratio(&f->q1, f->rounds);
	print_ratio(&f->q2, f->rounds);
	printf("  2 threads / 1 thread: raw %.2fx, ours %.2fx\n",
	    f->q2.raw_rate / f->q1.raw_rate, f->q2.ours_rate / f->q1.ours_rate);
	printf("  raw C_Sign / OpenSSL, 1 thread = %.3f   (what the token "
	       "costs)\n",
	    f->vs_ossl);
	printf("  per CPU second, 1 thread: ours / raw = %.3f   (context: less "
	       "sensitive\n  to other load)\n",
	    f->q1.cpu_ratio);
	printf("\nsigner adapter (rcpt_ks_signer, verifies each signature), "
	       "1 thread, %.1f s:\n  %10.0f signs/s   (%.3f of raw C_Sign; "
	       "context, no target)\n",
	    f->seconds, f->signer1.rate, f->signer1.rate / f->q1.raw_rate);
	printf("  still signs after the raw instance was finalized: %s\n",
	    f->after_ok ? "yes" : "NO");
}

/* The last line: one JSON object for scripts. */
static void
print_json(const struct figs *f, const struct env *e)
{
	bool all = f->ok1 && f->ok2;

	printf("\ntargets: %s\n", all ? "all met" : "some MISSED");
	printf("{\"bench\":\"sign\",\"method\":\"interleaved\",\"rounds\":%d,"
	       "\"slice\":%.1f,\"seconds\":%.1f,\"nproc\":%ld,"
	       "\"openssl\":\"%s\",\"softhsm\":\"%s\",\"load\":%.2f,",
	    f->rounds, SLICE_SECONDS, f->seconds, f->m.nproc,
	    OpenSSL_version(OPENSSL_VERSION_STRING), e->raw.version, f->m.load);
	printf("\"openssl_sign_1t\":%.0f,\"raw_csign_1t\":%.0f,"
	       "\"raw_csign_2t\":%.0f,\"ours_1t\":%.0f,\"ours_2t\":%.0f,"
	       "\"ours_signer_1t\":%.0f,",
	    f->ossl1.rate, f->q1.raw_rate, f->q2.raw_rate, f->q1.ours_rate,
	    f->q2.ours_rate, f->signer1.rate);
	printf("\"ratio_1t\":%.3f,\"ratio_1t_min\":%.3f,\"ratio_1t_max\":%.3f,"
	       "\"ratio_2t\":%.3f,\"ratio_2t_min\":%.3f,\"ratio_2t_max\":%.3f,"
	       "\"ratio_1t_cpu\":%.3f,\"csign_vs_openssl\":%.3f,"
	       "\"targets_met\":%s}\n",
	    f->q1.ratio, f->q1.lo, f->q1.hi, f->q2.ratio, f->q2.lo, f->q2.hi,
	    f->q1.cpu_ratio, f->vs_ossl, all ? "true" : "false");
}

static int
run(struct env *e, const struct opts *o, struct figs *f)
{
	int r;

	if ((r = setup_openssl(e)) != RCPT_OK || (r = setup_ours(e)) != RCPT_OK)
		return r;
	if ((r = setup_raw(e)) != RCPT_OK || (r = check_same_key(e)) != RCPT_OK)
		return r;
	printf("token: %s in %s, key %s (kid %s)\n", e->raw.version, e->tokdir,
	    e->raw.label, e->kid);
	if ((r = measure(e, PATH_OPENSSL, 1, o->seconds, &f->ossl1)) !=
	        RCPT_OK ||
	    (r = measure_ratio(e, 1, o->rounds, &f->q1)) != RCPT_OK ||
	    (r = measure_ratio(e, 2, o->rounds, &f->q2)) != RCPT_OK ||
	    (r = measure(e, PATH_SIGNER, 1, o->seconds, &f->signer1)) !=
	        RCPT_OK)
		return r;
	/* p11-kit keeps managed instances apart; make sure of it. */
	close_raw(&e->raw);
	if ((r = check_after_finalize(e)) != RCPT_OK)
		return r;
	f->after_ok = true;
	return RCPT_OK;
}

/* Makes the temp root and the paths under it. */
static int
make_root(struct env *e)
{
	int r;

	if ((r = rcpt_bench_mkdtemp("sign", e->root, sizeof(e->root))) !=
	    RCPT_OK)
		return r;
	snprintf(
	    e->tokdir, sizeof(e->tokdir), "%.*s/token", PATH_MAX - 16, e->root);
	snprintf(e->provdir, sizeof(e->provdir), "%.*s/providers",
	    PATH_MAX - 16, e->root);
	/* The provider's config string is split at ';'. */
	if (strchr(e->root, ';') != NULL) {
		fprintf(stderr, "sign: TMPDIR must not contain ';'\n");
		rcpt_bench_remove_tree("sign", e->root);
		return RCPT_E_CONFIG;
	}
	return RCPT_OK;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct figs f;
	struct env *e;
	int r;

	if (parse_args(argc, argv, &o) != RCPT_OK)
		return 2;
	memset(&f, 0, sizeof(f));
	f.seconds = o.seconds;
	f.rounds = o.rounds;
	printf("bench/sign: %d interleaved rounds of %.1f s slices, %.1f s "
	       "per other measurement\n",
	    o.rounds, SLICE_SECONDS, o.seconds);
	rcpt_bench_machine(&f.m);

	if ((e = rcpt_calloc(1, sizeof(*e))) == NULL) {
		fprintf(stderr, "sign: out of memory\n");
		return 1;
	}
	if ((r = make_root(e)) == RCPT_OK) {
		r = run(e, &o, &f);
		close_raw(&e->raw);
		rcpt_ks_unload(e->ks); /* closes it and frees the signer */
		free(e->handle);
		rcpt_bench_remove_tree("sign", e->root);
	}
	if (r == RCPT_OK) {
		judge(&f);
		print_text(&f);
		print_json(&f, e);
	}
	EVP_PKEY_free(e->ossl);
	free(e);
	return r == RCPT_OK ? 0 : 1;
}
