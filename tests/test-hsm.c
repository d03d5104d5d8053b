/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libhsm against a throw-away SoftHSM2 token: key generation, public key
 * and signatures (checked with our own Ed25519 verifier), key protection
 * as PKCS#11 itself and OpenSC's pkcs11-tool see it, PIN file rules,
 * configuration errors, recovery after the token drops our sessions,
 * concurrent signing, CKO_DATA objects, listing, health and serial.
 * Exits 77 when SoftHSM2 is not installed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ed25519.h"
#include "hsm/ckr.h"
#include "hsm/hsm-int.h"
#include "hsm/hsm.h"
#include "mem.h"
#include "softhsm.h"
#include "testlib.h"

static struct rcpt_test_token tok;

/* A C_Login that counts, in front of a module loaded by the test. */
static CK_FUNCTION_LIST *real_fn;
static CK_FUNCTION_LIST counting_fn;
static int login_calls;

static CK_RV
counting_login(
    CK_SESSION_HANDLE s, CK_USER_TYPE u, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
	login_calls++;
	return real_fn->C_Login(s, u, pin, len);
}

/* Refuses CKA_EC_PARAMS forms: bit 0 the curve name, bit 1 the OID. */
static int gen_refuse;
static int gen_calls;

static CK_RV
refusing_generate(CK_SESSION_HANDLE s, CK_MECHANISM_PTR m, CK_ATTRIBUTE_PTR pt,
    CK_ULONG pn, CK_ATTRIBUTE_PTR kt, CK_ULONG kn, CK_OBJECT_HANDLE_PTR pub,
    CK_OBJECT_HANDLE_PTR priv)
{
	const CK_BYTE *v;
	CK_ULONG i;

	gen_calls++;
	for (i = 0; i < pn; i++) {
		if (pt[i].type != CKA_EC_PARAMS || pt[i].ulValueLen == 0)
			continue;
		v = pt[i].pValue;
		if (((gen_refuse & 1) != 0 && v[0] == 0x13) ||
		    ((gen_refuse & 2) != 0 && v[0] == 0x06))
			return CKR_ATTRIBUTE_VALUE_INVALID;
	}
	return real_fn->C_GenerateKeyPair(s, m, pt, pn, kt, kn, pub, priv);
}

static int
counting_load(void)
{
	if ((real_fn = p11_kit_module_load(SOFTHSM_MODULE, 0)) == NULL)
		return -1;
	counting_fn = *real_fn;
	counting_fn.C_Login = counting_login;
	counting_fn.C_GenerateKeyPair = refusing_generate;
	login_calls = 0;
	gen_refuse = 0;
	gen_calls = 0;
	return 0;
}

static void
counting_release(void)
{
	p11_kit_module_release(real_fn);
	real_fn = NULL;
}

static struct rcpt_hsm_config
config(void)
{
	struct rcpt_hsm_config c = {
	    .module = SOFTHSM_MODULE,
	    .token_uri = tok.uri,
	    .pin_file = tok.user_pin_file,
	    .pin_owner = getuid(),
	    .sessions = 2,
	};
	return c;
}

static struct rcpt_hsm *
open_ok(const struct rcpt_hsm_config *c)
{
	struct rcpt_hsm *h = NULL;
	struct rcpt_diag d;
	int r;

	rcpt_diag_clear(&d);
	r = rcpt_hsm_open(c, &h, &d);
	if (r != RCPT_OK)
		fprintf(stderr, "open: %s\n", rcpt_diag_msg(&d, r));
	CU_ASSERT_EQUAL(r, RCPT_OK);
	return h;
}

/* Opens with @p c expecting @p want; checks the diag mentions @p word. */
static void
open_fails(const struct rcpt_hsm_config *c, int want, const char *word)
{
	struct rcpt_hsm *h = (struct rcpt_hsm *)&h;
	struct rcpt_diag d;
	int r;

	rcpt_diag_clear(&d);
	r = rcpt_hsm_open(c, &h, &d);
	CU_ASSERT_EQUAL(r, want);
	CU_ASSERT_PTR_NULL(h);
	CU_ASSERT(d.set);
	if (strstr(d.msg, word) == NULL)
		fprintf(stderr, "diag \"%s\" lacks \"%s\"\n", d.msg, word);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, word));
	rcpt_hsm_close(h == (struct rcpt_hsm *)&h ? NULL : h);
}

/* Copies the user PIN file to dir/@p name with @p mode; caller frees. */
static char *
pin_copy(const char *name, mode_t mode)
{
	char *pin, *path;
	size_t len;

	pin = rcpt_test_read_file(tok.user_pin_file, &len);
	path = strdup(rcpt_test_path(tok.dir, name));
	CU_ASSERT_FATAL(pin != NULL && path != NULL);
	(void)unlink(path);
	CU_ASSERT_FATAL(rcpt_test_write_file(path, pin, len) == 0);
	CU_ASSERT_FATAL(chmod(path, mode) == 0);
	free(pin);
	return path;
}

static void
sign_verify(struct rcpt_hsm *h, const char *label, const uint8_t *pub)
{
	static const uint8_t msg[] = "receipt payload";
	uint8_t sig[RCPT_HSM_SIG_LEN];
	struct rcpt_diag d;
	int r;

	rcpt_diag_clear(&d);
	r = rcpt_hsm_sign(h, label, msg, sizeof(msg), sig, &d);
	if (r != RCPT_OK)
		fprintf(stderr, "sign: %s\n", rcpt_diag_msg(&d, r));
	CU_ASSERT_EQUAL(r, RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_ed25519_verify(pub, msg, sizeof(msg), sig), RCPT_OK);
	sig[10] ^= 1;
	CU_ASSERT_EQUAL(rcpt_ed25519_verify(pub, msg, sizeof(msg), sig),
	    RCPT_E_BAD_SIGNATURE);
}

static void
test_generate_sign_verify(void)
{
	struct rcpt_hsm_config c = config();
	uint8_t pub[RCPT_HSM_PUB_LEN], pub2[RCPT_HSM_PUB_LEN], zero[32] = {0};
	uint8_t sig1[RCPT_HSM_SIG_LEN], sig2[RCPT_HSM_SIG_LEN];
	struct rcpt_hsm *h = open_ok(&c);

	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT_EQUAL(rcpt_hsm_generate(h, "k-sign", pub, NULL), RCPT_OK);
	CU_ASSERT(memcmp(pub, zero, sizeof(zero)) != 0);
	CU_ASSERT_EQUAL(rcpt_hsm_public_key(h, "k-sign", pub2, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(pub, pub2, sizeof(pub)), 0);
	sign_verify(h, "k-sign", pub);
	/* Ed25519 is deterministic: the same message gives the same bytes. */
	CU_ASSERT_EQUAL(
	    rcpt_hsm_sign(h, "k-sign", (const uint8_t *)"", 0, sig1, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_sign(h, "k-sign", NULL, 0, sig2, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(sig1, sig2, sizeof(sig1)), 0);
	CU_ASSERT_EQUAL(rcpt_ed25519_verify(pub, NULL, 0, sig1), RCPT_OK);
	rcpt_hsm_close(h);

	/* A new handle finds the key again by label. */
	h = open_ok(&c);
	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT_EQUAL(rcpt_hsm_public_key(h, "k-sign", pub2, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(pub, pub2, sizeof(pub)), 0);
	sign_verify(h, "k-sign", pub);
	rcpt_hsm_close(h);
}

static void
test_label_reuse_refused(void)
{
	struct rcpt_hsm_config c = config();
	uint8_t pub[RCPT_HSM_PUB_LEN], pub2[RCPT_HSM_PUB_LEN];
	struct rcpt_hsm *h = open_ok(&c);
	struct rcpt_diag d;

	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT_EQUAL(rcpt_hsm_generate(h, "k-reuse", pub, NULL), RCPT_OK);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_generate(h, "k-reuse", pub2, &d), RCPT_E_EXISTS);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "label"));
	/* The first key is untouched. */
	CU_ASSERT_EQUAL(rcpt_hsm_public_key(h, "k-reuse", pub2, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(pub, pub2, sizeof(pub)), 0);
	rcpt_hsm_close(h);
}

static void
test_label_rules(void)
{
	struct rcpt_hsm_config c = config();
	char longer[RCPT_HSM_LABEL_MAX + 2];
	uint8_t pub[RCPT_HSM_PUB_LEN], sig[RCPT_HSM_SIG_LEN];
	struct rcpt_hsm *h = open_ok(&c);
	struct rcpt_diag d;

	CU_ASSERT_FATAL(h != NULL);
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_hsm_generate(h, "", pub, &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "label"));
	CU_ASSERT_EQUAL(rcpt_hsm_generate(h, longer, pub, NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_hsm_generate(h, NULL, pub, NULL), RCPT_E_INVAL);
	longer[RCPT_HSM_LABEL_MAX] = '\0';
	CU_ASSERT_EQUAL(rcpt_hsm_generate(h, longer, pub, NULL), RCPT_OK);
	sign_verify(h, longer, pub);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_sign(h, "k-absent", pub, 1, sig, &d), RCPT_E_NOT_FOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "label"));
	CU_ASSERT_EQUAL(
	    rcpt_hsm_public_key(h, "k-absent", pub, NULL), RCPT_E_NOT_FOUND);
	rcpt_hsm_close(h);
}

static CK_RV
get_attr(struct rcpt_hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_TYPE type, void *buf, CK_ULONG *len)
{
	CK_ATTRIBUTE a = {type, buf, *len};
	CK_RV rv = h->fn->C_GetAttributeValue(s, o, &a, 1);

	*len = a.ulValueLen;
	return rv;
}

static CK_BBOOL
get_bool(struct rcpt_hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL b = 0x55;
	CK_ULONG len = sizeof(b);

	CU_ASSERT_EQUAL(get_attr(h, s, o, type, &b, &len), CKR_OK);
	return b;
}

/* The key as PKCS#11 reports it to any client, not as we believe it. */
static void
test_key_protected(void)
{
	static const CK_BYTE ec_oid[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
	static const CK_BYTE ec_name[] = {0x13, 0x0c, 'e', 'd', 'w', 'a', 'r',
	    'd', 's', '2', '5', '5', '1', '9'};
	struct rcpt_hsm_config c = config();
	uint8_t pub[RCPT_HSM_PUB_LEN], buf[128];
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE priv, pubo;
	CK_ULONG len;
	CK_RV rv;
	struct rcpt_hsm *h = open_ok(&c);

	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_hsm_generate(h, "k-prot", pub, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_hsm_session_take(h, &s, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_find(h, s, CKO_PRIVATE_KEY, "k-prot", &priv, &rv, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_find(h, s, CKO_PUBLIC_KEY, "k-prot", &pubo, &rv, NULL),
	    RCPT_OK);
	len = sizeof(buf);
	CU_ASSERT_EQUAL(get_attr(h, s, priv, CKA_VALUE, buf, &len),
	    CKR_ATTRIBUTE_SENSITIVE);
	CU_ASSERT_EQUAL(len, (CK_ULONG)-1);
	CU_ASSERT_EQUAL(get_bool(h, s, priv, CKA_SENSITIVE), CK_TRUE);
	CU_ASSERT_EQUAL(get_bool(h, s, priv, CKA_EXTRACTABLE), CK_FALSE);
	CU_ASSERT_EQUAL(get_bool(h, s, priv, CKA_ALWAYS_SENSITIVE), CK_TRUE);
	CU_ASSERT_EQUAL(get_bool(h, s, priv, CKA_NEVER_EXTRACTABLE), CK_TRUE);
	CU_ASSERT_EQUAL(get_bool(h, s, priv, CKA_TOKEN), CK_TRUE);
	CU_ASSERT_EQUAL(get_bool(h, s, priv, CKA_PRIVATE), CK_TRUE);
	CU_ASSERT_EQUAL(get_bool(h, s, priv, CKA_SIGN), CK_TRUE);
	CU_ASSERT_EQUAL(get_bool(h, s, priv, CKA_DECRYPT), CK_FALSE);
	CU_ASSERT_EQUAL(get_bool(h, s, priv, CKA_UNWRAP), CK_FALSE);
	CU_ASSERT_EQUAL(get_bool(h, s, priv, CKA_DERIVE), CK_FALSE);
	len = sizeof(buf);
	CU_ASSERT_EQUAL(get_attr(h, s, priv, CKA_ID, buf, &len), CKR_OK);
	CU_ASSERT(len == 6 && memcmp(buf, "k-prot", 6) == 0);
	/* Either DER form of edwards25519 is fine; report which one. */
	len = sizeof(buf);
	CU_ASSERT_EQUAL(get_attr(h, s, pubo, CKA_EC_PARAMS, buf, &len), CKR_OK);
	CU_ASSERT((len == sizeof(ec_oid) && memcmp(buf, ec_oid, len) == 0) ||
	          (len == sizeof(ec_name) && memcmp(buf, ec_name, len) == 0));
	fprintf(stderr, "(CKA_EC_PARAMS as %s) ",
	    len == sizeof(ec_oid) ? "OID" : "curve name");
	rcpt_hsm_session_put(h, s, CKR_OK);
	rcpt_hsm_close(h);
}

/* CKA_LABEL and CKA_ID of both halves of @p label equal @p label. */
static void
check_named(struct rcpt_hsm *h, const char *label)
{
	static const CK_OBJECT_CLASS cls[] = {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY};
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	CK_BYTE buf[RCPT_HSM_LABEL_MAX + 1];
	CK_ULONG len, n = strlen(label);
	CK_RV rv;
	size_t i;

	CU_ASSERT_EQUAL_FATAL(rcpt_hsm_session_take(h, &s, NULL), RCPT_OK);
	for (i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL_FATAL(
		    rcpt_hsm_find(h, s, cls[i], label, &o, &rv, NULL), RCPT_OK);
		len = sizeof(buf);
		CU_ASSERT_EQUAL(
		    get_attr(h, s, o, CKA_LABEL, buf, &len), CKR_OK);
		CU_ASSERT(len == n && memcmp(buf, label, n) == 0);
		len = sizeof(buf);
		CU_ASSERT_EQUAL(get_attr(h, s, o, CKA_ID, buf, &len), CKR_OK);
		CU_ASSERT(len == n && memcmp(buf, label, n) == 0);
	}
	rcpt_hsm_session_put(h, s, CKR_OK);
}

static void
test_relabel(void)
{
	static const uint8_t msg[] = "m";
	struct rcpt_hsm_config c = config();
	uint8_t pub[RCPT_HSM_PUB_LEN], pub2[RCPT_HSM_PUB_LEN];
	uint8_t sig[RCPT_HSM_SIG_LEN];
	char longer[RCPT_HSM_LABEL_MAX + 2];
	struct rcpt_hsm *h = open_ok(&c);
	struct rcpt_diag d;

	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_hsm_generate(h, "k-rel-tmp", pub, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_hsm_generate(h, "k-rel-taken", pub2, NULL), RCPT_OK);
	/* Signing caches the handle under the old label. */
	CU_ASSERT_EQUAL(
	    rcpt_hsm_sign(h, "k-rel-tmp", msg, 1, sig, NULL), RCPT_OK);

	/* The new name is taken: nothing changes. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_relabel(h, "k-rel-tmp", "k-rel-taken", &d), RCPT_E_EXISTS);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "label"));
	check_named(h, "k-rel-tmp");

	CU_ASSERT_EQUAL(
	    rcpt_hsm_relabel(h, "k-rel-tmp", "k-rel-final", NULL), RCPT_OK);
	check_named(h, "k-rel-final");
	sign_verify(h, "k-rel-final", pub);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_public_key(h, "k-rel-final", pub2, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(pub, pub2, sizeof(pub)), 0);
	/* The old label is gone, cached handle and all. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_sign(h, "k-rel-tmp", msg, 1, sig, &d), RCPT_E_NOT_FOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "label"));
	CU_ASSERT_EQUAL(
	    rcpt_hsm_public_key(h, "k-rel-tmp", pub2, NULL), RCPT_E_NOT_FOUND);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_relabel(h, "k-rel-tmp", "k-rel-x", &d), RCPT_E_NOT_FOUND);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "label"));

	/* Argument rules. */
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_relabel(h, "k-rel-final", "", &d), RCPT_E_INVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "label"));
	CU_ASSERT_EQUAL(
	    rcpt_hsm_relabel(h, "k-rel-final", longer, NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_relabel(h, NULL, "k-rel-x", NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_hsm_relabel(NULL, "k-rel-final", "k-rel-x", NULL),
	    RCPT_E_INVAL);
	check_named(h, "k-rel-final");
	rcpt_hsm_close(h);
}

/* Reads CKA_EC_PARAMS of the public key @p label; returns its length. */
static CK_ULONG
ec_params(struct rcpt_hsm *h, const char *label, CK_BYTE *buf, CK_ULONG cap)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
	CK_ULONG len = cap;
	CK_RV rv;

	CU_ASSERT_EQUAL_FATAL(rcpt_hsm_session_take(h, &s, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_find(h, s, CKO_PUBLIC_KEY, label, &o, &rv, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(get_attr(h, s, o, CKA_EC_PARAMS, buf, &len), CKR_OK);
	rcpt_hsm_session_put(h, s, CKR_OK);
	return len;
}

/*
 * The curve name (PKCS#11 3.0 curveName) is tried first; a module that
 * refuses it gets the RFC 8410 OID, and the handle remembers that.
 */
static void
test_ec_params_fallback(void)
{
	static const CK_BYTE ec_oid[] = {0x06, 0x03, 0x2b, 0x65, 0x70};
	struct rcpt_hsm_config c = config();
	uint8_t pub[RCPT_HSM_PUB_LEN];
	struct rcpt_hsm *h = NULL;
	struct rcpt_diag d;
	CK_BYTE buf[64];
	CK_ULONG len;

	CU_ASSERT_FATAL(counting_load() == 0);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_hsm_open_module(&c, &counting_fn, &h, NULL), RCPT_OK);
	gen_refuse = 1;
	CU_ASSERT_EQUAL(rcpt_hsm_generate(h, "k-oid", pub, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(gen_calls, 2);
	len = ec_params(h, "k-oid", buf, sizeof(buf));
	CU_ASSERT(len == sizeof(ec_oid) && memcmp(buf, ec_oid, len) == 0);
	sign_verify(h, "k-oid", pub);
	/* Remembered: the next key goes straight to the OID. */
	gen_calls = 0;
	CU_ASSERT_EQUAL(rcpt_hsm_generate(h, "k-oid2", pub, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(gen_calls, 1);
	/* Neither form: one clear error naming the CKR code. */
	gen_refuse = 3;
	gen_calls = 0;
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_generate(h, "k-none", pub, &d), RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT_EQUAL(gen_calls, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "C_GenerateKeyPair"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "CKR_ATTRIBUTE_VALUE_INVALID"));
	CU_ASSERT_EQUAL(
	    rcpt_hsm_public_key(h, "k-none", pub, NULL), RCPT_E_NOT_FOUND);
	rcpt_hsm_close(h);
	counting_release();
}

/* Runs argv with @p envp; returns its exit status and its output. */
static int
run(char *const argv[], char *const envp[], char *out, size_t cap)
{
	posix_spawn_file_actions_t fa;
	size_t n = 0;
	ssize_t k;
	pid_t pid;
	int fds[2], st;

	if (pipe(fds) != 0)
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	/* Read to EOF (dropping what does not fit), so the child never
	 * dies of SIGPIPE. */
	for (;;) {
		char sink[512];
		int full = n + 1 >= cap;

		k = full ? read(fds[0], sink, sizeof(sink))
		         : read(fds[0], out + n, cap - n - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (!full)
			n += (size_t)k;
	}
	out[n] = '\0';
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
have_pkcs11_tool(void)
{
	char out[256];
	char *argv[] = {"pkcs11-tool", "--help", NULL};
	char path[4096];
	char *envp[2];

	snprintf(path, sizeof(path), "PATH=%s",
	    getenv("PATH") != NULL ? getenv("PATH") : "/usr/bin:/bin");
	envp[0] = path;
	envp[1] = NULL;
	return run(argv, envp, out, sizeof(out)) >= 0;
}

/*
 * An independent client, OpenSC's pkcs11-tool, sees the private key as
 * sensitive and never extractable and cannot read it.  pkcs11-tool has
 * no PIN-file option; "--pin env:NAME" keeps the PIN off its argv (which
 * any local user can read in /proc) and in the environment of the child
 * only, which only our uid can read.  It is a random PIN of a token that
 * exists for this test alone; receiptd itself never takes a PIN from the
 * environment.
 */
static void
test_pkcs11_tool_sees_protected_key(void)
{
	struct rcpt_hsm_config c = config();
	uint8_t pub[RCPT_HSM_PUB_LEN];
	static char out[65536];
	char pin_env[300], conf_env[4200], path_env[4200], *pin, *nl;
	char *envp[4];
	char *list[] = {"pkcs11-tool", "--module", SOFTHSM_MODULE,
	    "--token-label", tok.label, "--login", "--pin", "env:RCPT_TEST_PIN",
	    "--list-objects", "--type", "privkey", NULL};
	struct rcpt_hsm *h = open_ok(&c);
	const char *p;
	int st;

	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT_EQUAL(rcpt_hsm_generate(h, "k-tool", pub, NULL), RCPT_OK);
	rcpt_hsm_close(h);

	pin = rcpt_test_read_file(tok.user_pin_file, NULL);
	CU_ASSERT_FATAL(pin != NULL);
	if ((nl = strchr(pin, '\n')) != NULL)
		*nl = '\0';
	snprintf(pin_env, sizeof(pin_env), "RCPT_TEST_PIN=%s", pin);
	free(pin);
	snprintf(conf_env, sizeof(conf_env), "SOFTHSM2_CONF=%s", tok.conf);
	snprintf(path_env, sizeof(path_env), "PATH=%s",
	    getenv("PATH") != NULL ? getenv("PATH") : "/usr/bin:/bin");
	envp[0] = pin_env;
	envp[1] = conf_env;
	envp[2] = path_env;
	envp[3] = NULL;

	st = run(list, envp, out, sizeof(out));
	CU_ASSERT_EQUAL(st, 0);
	if ((p = strstr(out, "label:      k-tool\n")) == NULL)
		fprintf(stderr, "pkcs11-tool said:\n%s\n", out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	/* The lines of this object, up to the next object. */
	nl = strstr(p, "Object;");
	if (nl != NULL)
		*nl = '\0';
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Private Key Object; EC_EDWARDS"));
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "sensitive, always sensitive, "
	                                 "never extractable"));
	CU_ASSERT_PTR_NULL(strstr(p, "value"));
	/* Signing only: no decrypt, unwrap or derive. */
	CU_ASSERT_PTR_NOT_NULL(strstr(p, "Usage:      sign\n"));
	if (strstr(p, "Usage:      sign\n") == NULL)
		fprintf(stderr, "pkcs11-tool said:\n%s\n", p);
	rcpt_memzero(pin_env, sizeof(pin_env));
}

static void
test_wrong_pin_one_attempt(void)
{
	struct rcpt_hsm_config c = config();
	struct rcpt_hsm *h = (struct rcpt_hsm *)&c;
	char *path = strdup(rcpt_test_path(tok.dir, "wrong.pin"));
	struct rcpt_diag d;

	CU_ASSERT_FATAL(path != NULL);
	(void)unlink(path);
	CU_ASSERT_FATAL(rcpt_test_write_file(path, "not-the-pin\n", 12) == 0);
	CU_ASSERT_FATAL(counting_load() == 0);
	c.pin_file = path;
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_open_module(&c, &counting_fn, &h, &d), RCPT_E_DENIED);
	CU_ASSERT_PTR_NULL(h);
	CU_ASSERT_EQUAL(login_calls, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "C_Login"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "CKR_PIN_INCORRECT"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "slot"));
	/* The right PIN still works: nothing got locked. */
	c.pin_file = tok.user_pin_file;
	CU_ASSERT_EQUAL(
	    rcpt_hsm_open_module(&c, &counting_fn, &h, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(login_calls, 2);
	rcpt_hsm_close(h);
	counting_release();
	unlink(path);
	free(path);
}

static void
test_pin_file_rules(void)
{
	struct rcpt_hsm_config c = config();
	char *p0644 = pin_copy("p0644.pin", 0644);
	char *p0640 = pin_copy("p0640.pin", 0640);
	char *p0400 = pin_copy("p0400.pin", 0400);
	char *p0600 = pin_copy("p0600.pin", 0600);
	char *link = strdup(rcpt_test_path(tok.dir, "link.pin"));
	struct rcpt_hsm *h;

	CU_ASSERT_FATAL(link != NULL);
	c.pin_file = p0644;
	open_fails(&c, RCPT_E_CONFIG, "mode must be 0400 or 0600");
	open_fails(&c, RCPT_E_CONFIG, p0644);
	c.pin_file = p0640;
	open_fails(&c, RCPT_E_CONFIG, "mode");
	c.pin_file = p0600;
	c.pin_owner = getuid() + 1;
	open_fails(&c, RCPT_E_CONFIG, "owned by uid");
	c.pin_owner = getuid();
	(void)unlink(link);
	CU_ASSERT_FATAL(symlink(p0600, link) == 0);
	c.pin_file = link;
	open_fails(&c, RCPT_E_CONFIG, "symbolic link");
	c.pin_file = tok.dir;
	open_fails(&c, RCPT_E_CONFIG, "regular file");
	c.pin_file = "/nonexistent/receiptd.pin";
	open_fails(&c, RCPT_E_CONFIG, "/nonexistent/receiptd.pin");

	c.pin_file = p0400;
	h = open_ok(&c);
	rcpt_hsm_close(h);
	c.pin_file = p0600;
	h = open_ok(&c);
	rcpt_hsm_close(h);

	unlink(link);
	free(link);
	free(p0644);
	free(p0640);
	free(p0400);
	free(p0600);
}

static void
test_pin_file_content(void)
{
	struct rcpt_hsm_config c = config();
	char *path = strdup(rcpt_test_path(tok.dir, "content.pin"));
	char big[300], *pin;
	size_t len;
	struct rcpt_hsm *h;

	CU_ASSERT_FATAL(path != NULL);
	c.pin_file = path;
	(void)unlink(path);
	CU_ASSERT_FATAL(rcpt_test_write_file(path, "\n", 1) == 0);
	open_fails(&c, RCPT_E_CONFIG, "empty");
	memset(big, 'x', sizeof(big));
	(void)unlink(path);
	CU_ASSERT_FATAL(rcpt_test_write_file(path, big, sizeof(big)) == 0);
	open_fails(&c, RCPT_E_CONFIG, "longer than");
	/* Without the trailing newline the PIN is the same. */
	pin = rcpt_test_read_file(tok.user_pin_file, &len);
	CU_ASSERT_FATAL(pin != NULL && len > 1 && pin[len - 1] == '\n');
	(void)unlink(path);
	CU_ASSERT_FATAL(rcpt_test_write_file(path, pin, len - 1) == 0);
	h = open_ok(&c);
	rcpt_hsm_close(h);
	/* Only one newline is dropped: a second one is part of the PIN. */
	pin[len - 1] = '\n';
	(void)unlink(path);
	CU_ASSERT_FATAL(rcpt_test_write_file(path, pin, len) == 0);
	{
		FILE *f = fopen(path, "a");
		CU_ASSERT_FATAL(f != NULL);
		fputc('\n', f);
		fclose(f);
	}
	open_fails(&c, RCPT_E_DENIED, "CKR_PIN_INCORRECT");
	free(pin);
	unlink(path);
	free(path);
}

static void
test_pin_source_in_uri(void)
{
	struct rcpt_hsm_config c = config();
	char uri[4200];
	struct rcpt_hsm *h;

	c.pin_file = NULL;
	snprintf(uri, sizeof(uri), "%s?pin-source=file:%s", tok.uri,
	    tok.user_pin_file);
	c.token_uri = uri;
	h = open_ok(&c);
	rcpt_hsm_close(h);
	snprintf(
	    uri, sizeof(uri), "%s?pin-source=%s", tok.uri, tok.user_pin_file);
	h = open_ok(&c);
	rcpt_hsm_close(h);

	/* The configured pin file wins over the URI's pin-source. */
	snprintf(uri, sizeof(uri), "%s?pin-source=/nonexistent/x.pin", tok.uri);
	c.pin_file = tok.user_pin_file;
	h = open_ok(&c);
	rcpt_hsm_close(h);
	c.pin_file = NULL;
	open_fails(&c, RCPT_E_CONFIG, "/nonexistent/x.pin");

	/* Object attributes do not get in the way. */
	snprintf(uri, sizeof(uri), "%s;object=k-x;type=private?pin-source=%s",
	    tok.uri, tok.user_pin_file);
	h = open_ok(&c);
	rcpt_hsm_close(h);
	/* p11-kit does not know module-name: refused, not ignored. */
	snprintf(uri, sizeof(uri), "%s;module-name=softhsm2?pin-source=%s",
	    tok.uri, tok.user_pin_file);
	open_fails(&c, RCPT_E_CONFIG, "module-name");

	snprintf(uri, sizeof(uri), "%s?pin-source=relative.pin", tok.uri);
	open_fails(&c, RCPT_E_CONFIG, "pin-source");
	snprintf(uri, sizeof(uri), "%s?pin-source=%%7C/bin/echo", tok.uri);
	open_fails(&c, RCPT_E_CONFIG, "pin-source");
	snprintf(uri, sizeof(uri), "%s?pin-value=1234", tok.uri);
	open_fails(&c, RCPT_E_CONFIG, "pin-value");
	c.token_uri = tok.uri;
	open_fails(&c, RCPT_E_CONFIG, "pin_file");
}

static void
test_config_errors(void)
{
	struct rcpt_hsm_config c = config();
	struct rcpt_hsm *h = (struct rcpt_hsm *)&c;

	c.token_uri = "pkcs11:token=no-such-token";
	open_fails(&c, RCPT_E_NOT_FOUND, "token_uri");
	c.token_uri = "pkcs11:serial=0000000000000000";
	open_fails(&c, RCPT_E_NOT_FOUND, "token_uri");
	c.token_uri = "pkcs11:tokn=rcpt-test";
	open_fails(&c, RCPT_E_CONFIG, "unrecognised attribute");
	c.token_uri = "https://example.org/";
	open_fails(&c, RCPT_E_CONFIG, "token_uri");
	c.token_uri = NULL;
	open_fails(&c, RCPT_E_CONFIG, "token_uri");
	c.token_uri = tok.uri;

	c.module = "/nonexistent/libpkcs11.so";
	open_fails(&c, RCPT_E_CONFIG, "/nonexistent/libpkcs11.so");
	c.module = "lib/libsofthsm2.so";
	open_fails(&c, RCPT_E_CONFIG, "absolute");
	c.module = "no-such-p11-kit-module";
	open_fails(&c, RCPT_E_CONFIG, "no-such-p11-kit-module");
	c.module = NULL;
	open_fails(&c, RCPT_E_CONFIG, "module");
	c.module = SOFTHSM_MODULE;

	c.sessions = 0;
	open_fails(&c, RCPT_E_CONFIG, "sessions");
	c.sessions = RCPT_HSM_SESSIONS_MAX + 1;
	open_fails(&c, RCPT_E_CONFIG, "sessions");
	c.sessions = 2;

	CU_ASSERT_EQUAL(rcpt_hsm_open(NULL, &h, NULL), RCPT_E_INVAL);
	CU_ASSERT_PTR_NULL(h);
	CU_ASSERT_EQUAL(rcpt_hsm_open(&c, NULL, NULL), RCPT_E_INVAL);
	rcpt_hsm_close(NULL);
}

/*
 * The p11-kit registry name.  Debian's softhsm2 package registers it; a
 * system without the registration fails here rather than passing.
 */
static void
test_module_by_name(void)
{
	struct rcpt_hsm_config c = config();
	CK_FUNCTION_LIST **all = p11_kit_modules_load(NULL, 0);
	int registered;
	struct rcpt_hsm *h;

	registered =
	    all != NULL && p11_kit_module_for_name(all, "softhsm2") != NULL;
	if (all != NULL)
		p11_kit_modules_release(all);
	CU_ASSERT_TRUE_FATAL(registered);
	c.module = "softhsm2";
	h = open_ok(&c);
	CU_ASSERT_EQUAL(rcpt_hsm_health(h, NULL), RCPT_OK);
	rcpt_hsm_close(h);
}

/* The token drops every session of ours between two signatures. */
static void
test_recovers_after_sessions_closed(void)
{
	static const uint8_t msg[] = "m";
	struct rcpt_hsm_config c = config();
	uint8_t pub[RCPT_HSM_PUB_LEN], sig[RCPT_HSM_SIG_LEN];
	struct rcpt_hsm *h = NULL;
	struct rcpt_diag d;
	char want[64];

	CU_ASSERT_FATAL(counting_load() == 0);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_hsm_open_module(&c, &counting_fn, &h, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(login_calls, 1);
	CU_ASSERT_EQUAL(rcpt_hsm_generate(h, "k-recover", pub, NULL), RCPT_OK);
	sign_verify(h, "k-recover", pub);

	CU_ASSERT_EQUAL(h->fn->C_CloseAllSessions(h->slot), CKR_OK);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_hsm_sign(h, "k-recover", msg, 1, sig, &d),
	    RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "CKR_SESSION_HANDLE_INVALID"));
	snprintf(want, sizeof(want), "slot %lu", (unsigned long)h->slot);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, want));
	CU_ASSERT_EQUAL(login_calls, 1);
	/* The next call reopens, logs in once more and signs. */
	sign_verify(h, "k-recover", pub);
	CU_ASSERT_EQUAL(login_calls, 2);
	CU_ASSERT_EQUAL(h->reopens, 2);

	/* Same for health: one clean failure, then healthy again. */
	CU_ASSERT_EQUAL(h->fn->C_CloseAllSessions(h->slot), CKR_OK);
	CU_ASSERT_EQUAL(rcpt_hsm_health(h, NULL), RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT_EQUAL(rcpt_hsm_health(h, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(login_calls, 3);

	/* A broken pool whose PIN file went away: one attempt, clear error. */
	CU_ASSERT_EQUAL(h->fn->C_CloseAllSessions(h->slot), CKR_OK);
	CU_ASSERT_EQUAL(rcpt_hsm_sign(h, "k-recover", msg, 1, sig, NULL),
	    RCPT_E_KEY_UNAVAILABLE);
	free(h->pin_file);
	h->pin_file = strdup("/nonexistent/user.pin");
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_sign(h, "k-recover", msg, 1, sig, &d), RCPT_E_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "/nonexistent/user.pin"));
	CU_ASSERT_EQUAL(login_calls, 3);
	free(h->pin_file);
	h->pin_file = strdup(tok.user_pin_file);
	/* Within a second of the failed reopen nothing is tried. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_hsm_sign(h, "k-recover", msg, 1, sig, &d),
	    RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "reopen failed"));
	CU_ASSERT_EQUAL(login_calls, 3);
	CU_ASSERT_EQUAL(h->reopens, 3);
	(void)usleep(1100 * 1000);
	sign_verify(h, "k-recover", pub);
	CU_ASSERT_EQUAL(login_calls, 4);
	CU_ASSERT_EQUAL(h->reopens, 4);

	/* A token failure is named in the back-off refusal too. */
	CU_ASSERT_EQUAL(h->fn->C_CloseAllSessions(h->slot), CKR_OK);
	CU_ASSERT_EQUAL(rcpt_hsm_sign(h, "k-recover", msg, 1, sig, NULL),
	    RCPT_E_KEY_UNAVAILABLE);
	h->reopen_failed = 1;
	h->failed_rv = CKR_DEVICE_ERROR;
	h->failed_err = RCPT_E_KEY_UNAVAILABLE;
	CU_ASSERT_EQUAL(clock_gettime(CLOCK_MONOTONIC, &h->failed_at), 0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_hsm_sign(h, "k-recover", msg, 1, sig, &d),
	    RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "CKR_DEVICE_ERROR"));
	CU_ASSERT_EQUAL(login_calls, 4);
	/* Once the second is over, the next call reopens. */
	h->failed_at.tv_sec -= 2;
	sign_verify(h, "k-recover", pub);
	CU_ASSERT_EQUAL(login_calls, 5);
	rcpt_hsm_close(h);
	counting_release();
}

/* Puts @p pin in @p path through a new file renamed over it. */
static void
pin_replace(const char *path, const char *pin)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	(void)unlink(tmp);
	CU_ASSERT_FATAL(rcpt_test_write_file(tmp, pin, strlen(pin)) == 0);
	CU_ASSERT_FATAL(chmod(tmp, 0600) == 0);
	CU_ASSERT_FATAL(rename(tmp, path) == 0);
}

/* A refused PIN is not offered again until the pin file changes. */
static void
test_pin_refused_no_retry(void)
{
	static const uint8_t msg[] = "m";
	struct rcpt_hsm_config c = config();
	uint8_t pub[RCPT_HSM_PUB_LEN], sig[RCPT_HSM_SIG_LEN];
	char *path = pin_copy("retry.pin", 0600), *good;
	struct rcpt_hsm *h = NULL;
	struct rcpt_diag d;
	size_t len;
	int i;

	good = rcpt_test_read_file(tok.user_pin_file, &len);
	CU_ASSERT_FATAL(good != NULL);
	CU_ASSERT_FATAL(counting_load() == 0);
	c.pin_file = path;
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_hsm_open_module(&c, &counting_fn, &h, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(login_calls, 1);
	CU_ASSERT_EQUAL(rcpt_hsm_generate(h, "k-pinretry", pub, NULL), RCPT_OK);

	pin_replace(path, "not-the-pin\n");
	CU_ASSERT_EQUAL(h->fn->C_CloseAllSessions(h->slot), CKR_OK);
	CU_ASSERT_EQUAL(rcpt_hsm_sign(h, "k-pinretry", msg, 1, sig, NULL),
	    RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT_EQUAL(login_calls, 1);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_sign(h, "k-pinretry", msg, 1, sig, &d), RCPT_E_DENIED);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "C_Login"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "CKR_PIN_INCORRECT"));
	CU_ASSERT_EQUAL(login_calls, 2);
	for (i = 0; i < 5; i++) {
		rcpt_diag_clear(&d);
		CU_ASSERT_EQUAL(rcpt_hsm_sign(h, "k-pinretry", msg, 1, sig, &d),
		    RCPT_E_DENIED);
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(d.msg, "login refused earlier (CKR_PIN_INCORRECT)"));
		CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "PIN file"));
	}
	CU_ASSERT_EQUAL(login_calls, 2);
	/* No back-off either: the fixed file is tried at once. */
	pin_replace(path, good);
	sign_verify(h, "k-pinretry", pub);
	CU_ASSERT_EQUAL(login_calls, 3);
	sign_verify(h, "k-pinretry", pub);
	CU_ASSERT_EQUAL(login_calls, 3);
	rcpt_hsm_close(h);
	counting_release();
	rcpt_memzero(good, len);
	free(good);
	unlink(path);
	free(path);
}

#define THREADS    4
#define PER_THREAD 25

struct worker {
	struct rcpt_hsm *h;
	const uint8_t *pub;
	int id;
	int signed_ok; /* signatures made and verified */
};

static void *
work(void *arg)
{
	struct worker *w = arg;
	uint8_t msg[32], sig[RCPT_HSM_SIG_LEN];
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		snprintf(
		    (char *)msg, sizeof(msg), "thread %d msg %d", w->id, i);
		if (rcpt_hsm_sign(w->h, "k-threads", msg, sizeof(msg), sig,
		        NULL) != RCPT_OK)
			continue;
		if (rcpt_ed25519_verify(w->pub, msg, sizeof(msg), sig) ==
		    RCPT_OK)
			w->signed_ok++;
	}
	return NULL;
}

static void
test_concurrent_signing(void)
{
	struct rcpt_hsm_config c = config();
	uint8_t pub[RCPT_HSM_PUB_LEN];
	struct worker w[THREADS];
	pthread_t t[THREADS];
	struct rcpt_hsm *h = open_ok(&c);
	int i;

	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT_EQUAL(h->nsess, 2);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_hsm_generate(h, "k-threads", pub, NULL), RCPT_OK);
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.h = h, .pub = pub, .id = i};
		CU_ASSERT_EQUAL_FATAL(
		    pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++) {
		CU_ASSERT_EQUAL(pthread_join(t[i], NULL), 0);
		CU_ASSERT_EQUAL(w[i].signed_ok, PER_THREAD);
	}
	CU_ASSERT_EQUAL(h->in_use, 0);
	CU_ASSERT_EQUAL(h->navail, 2);
	rcpt_hsm_close(h);
}

#define RACE_ROUNDS 60

/* Rewrites "d-race" over and over, alternating two values. */
static void *
race_writer(void *arg)
{
	struct rcpt_hsm *h = arg;
	long i, fails = 0;

	for (i = 0; i < RACE_ROUNDS; i++)
		if (rcpt_hsm_data_write(h, "d-race",
		        (const uint8_t *)(i % 2 ? "bb" : "a"), i % 2 ? 2 : 1,
		        NULL) != RCPT_OK)
			fails++;
	return (void *)fails;
}

/* A read racing a write sees the old or the new value, never nothing. */
static void
test_data_read_during_write(void)
{
	struct rcpt_hsm_config c = config();
	struct rcpt_hsm *h = open_ok(&c);
	uint8_t buf[8];
	size_t len;
	pthread_t t;
	void *fails = (void *)1;
	int i, bad = 0;

	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_data_write(h, "d-race", (const uint8_t *)"a", 1, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, race_writer, h), 0);
	for (i = 0; i < RACE_ROUNDS; i++) {
		if (rcpt_hsm_data_read(
		        h, "d-race", buf, sizeof(buf), &len, NULL) != RCPT_OK ||
		    !((len == 1 && buf[0] == 'a') ||
		        (len == 2 && memcmp(buf, "bb", 2) == 0)))
			bad++;
	}
	CU_ASSERT_EQUAL(pthread_join(t, &fails), 0);
	CU_ASSERT_PTR_NULL(fails);
	CU_ASSERT_EQUAL(bad, 0);
	rcpt_hsm_close(h);
}

static void
test_data_objects(void)
{
	struct rcpt_hsm_config c = config();
	uint8_t big[RCPT_HSM_DATA_MAX + 1], buf[RCPT_HSM_DATA_MAX];
	struct rcpt_hsm *h = open_ok(&c);
	struct rcpt_diag d;
	size_t len = 99;

	CU_ASSERT_FATAL(h != NULL);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_data_read(h, "anchor", buf, sizeof(buf), &len, &d),
	    RCPT_E_NOT_FOUND);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "label"));

	CU_ASSERT_EQUAL(
	    rcpt_hsm_data_write(h, "anchor", (const uint8_t *)"first", 5, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_data_read(h, "anchor", buf, sizeof(buf), &len, NULL),
	    RCPT_OK);
	CU_ASSERT(len == 5 && memcmp(buf, "first", 5) == 0);

	CU_ASSERT_EQUAL(rcpt_hsm_data_write(h, "anchor",
	                    (const uint8_t *)"second value", 12, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_data_read(h, "anchor", buf, sizeof(buf), &len, NULL),
	    RCPT_OK);
	CU_ASSERT(len == 12 && memcmp(buf, "second value", 12) == 0);

	/* Too small a buffer: the size needed is reported. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_hsm_data_read(h, "anchor", buf, 4, &len, &d),
	    RCPT_E_TOO_LARGE);
	CU_ASSERT_EQUAL(len, 12);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "data"));

	/* The limit itself is accepted, one byte more is refused. */
	memset(big, 0xa5, sizeof(big));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_hsm_data_write(h, "anchor", big, sizeof(big), &d),
	    RCPT_E_TOO_LARGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "data"));
	CU_ASSERT_EQUAL(
	    rcpt_hsm_data_write(h, "anchor", big, RCPT_HSM_DATA_MAX, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_data_read(h, "anchor", buf, sizeof(buf), &len, NULL),
	    RCPT_OK);
	CU_ASSERT(len == RCPT_HSM_DATA_MAX &&
	          memcmp(buf, big, RCPT_HSM_DATA_MAX) == 0);

	/* Empty values are values. */
	CU_ASSERT_EQUAL(
	    rcpt_hsm_data_write(h, "empty", NULL, 0, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_data_read(h, "empty", buf, sizeof(buf), &len, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_EQUAL(rcpt_hsm_data_write(h, "", buf, 1, NULL), RCPT_E_INVAL);
	rcpt_hsm_close(h);

	/* Written values survive a new handle. */
	h = open_ok(&c);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_data_read(h, "anchor", buf, sizeof(buf), &len, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(len, RCPT_HSM_DATA_MAX);
	rcpt_hsm_close(h);
}

/* Creates a data object by hand, as an interrupted write leaves it. */
static void
put_raw(struct rcpt_hsm *h, CK_SESSION_HANDLE s, const char *label,
    const char *value)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE t[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &yes, sizeof(yes)},
	    {CKA_LABEL, (void *)label, strlen(label)},
	    {CKA_APPLICATION, "receiptd", 8},
	    {CKA_VALUE, (void *)value, strlen(value)},
	};
	CK_OBJECT_HANDLE o;

	CU_ASSERT_EQUAL(h->fn->C_CreateObject(s, t, 6, &o), CKR_OK);
}

static void
read_is(struct rcpt_hsm *h, const char *label, const char *want)
{
	uint8_t buf[64];
	size_t len;

	CU_ASSERT_EQUAL(
	    rcpt_hsm_data_read(h, label, buf, sizeof(buf), &len, NULL),
	    RCPT_OK);
	CU_ASSERT(len == strlen(want) && memcmp(buf, want, len) == 0);
}

/* Every state a crash can leave behind reads as the old or new value. */
static void
test_data_crash_states(void)
{
	struct rcpt_hsm_config c = config();
	struct rcpt_hsm *h = open_ok(&c);
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	CK_RV rv;

	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT_EQUAL_FATAL(rcpt_hsm_session_take(h, &s, NULL), RCPT_OK);
	/* Crash after creating the new object: old value, new one unseen. */
	put_raw(h, s, "crash1", "old");
	put_raw(h, s, "crash1~new", "new");
	/* Crash after destroying the old object: the new value. */
	put_raw(h, s, "crash2~new", "new");
	rcpt_hsm_session_put(h, s, CKR_OK);

	read_is(h, "crash1", "old");
	read_is(h, "crash2", "new");
	/* Writes go on from either state and always read back. */
	CU_ASSERT_EQUAL(
	    rcpt_hsm_data_write(h, "crash1", (const uint8_t *)"next", 4, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_data_write(h, "crash2", (const uint8_t *)"next", 4, NULL),
	    RCPT_OK);
	read_is(h, "crash1", "next");
	read_is(h, "crash2", "next");
	CU_ASSERT_EQUAL(
	    rcpt_hsm_data_write(h, "crash1", (const uint8_t *)"third", 5, NULL),
	    RCPT_OK);
	read_is(h, "crash1", "third");
	/*
	 * The newer value sits in one slot and the one before it in the
	 * other: a crash while the next write recreates the older slot
	 * leaves the newest standing.  Simulate that crash: destroy the
	 * slot that does not hold "third" and put a torn object there.
	 */
	CU_ASSERT_EQUAL_FATAL(rcpt_hsm_session_take(h, &s, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_find(h, s, CKO_DATA, "crash1", &o, &rv, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_find(h, s, CKO_DATA, "crash1~new", &o, &rv, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(h->fn->C_DestroyObject(s, o), CKR_OK);
	rcpt_hsm_session_put(h, s, CKR_OK);
	read_is(h, "crash1", "third");
	CU_ASSERT_EQUAL_FATAL(rcpt_hsm_session_take(h, &s, NULL), RCPT_OK);
	put_raw(h, s, "crash1~new", "RDG");
	rcpt_hsm_session_put(h, s, CKR_OK);
	read_is(h, "crash1", "third");
	CU_ASSERT_EQUAL_FATAL(rcpt_hsm_session_take(h, &s, NULL), RCPT_OK);
	rcpt_hsm_session_put(h, s, CKR_OK);
	rcpt_hsm_close(h);
}

static void
test_list(void)
{
	struct rcpt_hsm_config c = config();
	uint8_t pa[RCPT_HSM_PUB_LEN], pb[RCPT_HSM_PUB_LEN];
	struct rcpt_hsm_key *keys = NULL;
	struct rcpt_hsm *h = open_ok(&c);
	size_t n = 0, i;
	int seen_a = 0, seen_b = 0;

	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT_EQUAL(rcpt_hsm_generate(h, "k-list-a", pa, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_hsm_generate(h, "k-list-b", pb, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_hsm_list(h, &keys, &n, NULL), RCPT_OK);
	CU_ASSERT(n >= 2);
	for (i = 0; i < n; i++) {
		if (strcmp(keys[i].label, "k-list-a") == 0)
			seen_a += memcmp(keys[i].pub, pa, sizeof(pa)) == 0;
		if (strcmp(keys[i].label, "k-list-b") == 0)
			seen_b += memcmp(keys[i].pub, pb, sizeof(pb)) == 0;
		/* Data objects are not keys. */
		CU_ASSERT(strcmp(keys[i].label, "anchor") != 0);
	}
	CU_ASSERT_EQUAL(seen_a, 1);
	CU_ASSERT_EQUAL(seen_b, 1);
	free(keys);
	CU_ASSERT_EQUAL(rcpt_hsm_list(h, NULL, &n, NULL), RCPT_E_INVAL);
	rcpt_hsm_close(h);
}

static void
test_health_and_serial(void)
{
	struct rcpt_hsm_config c = config();
	struct rcpt_hsm *h = open_ok(&c);
	CK_TOKEN_INFO ti;
	char serial[17];

	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT_EQUAL(rcpt_hsm_health(h, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_hsm_token_serial(h, serial, NULL), RCPT_OK);
	CU_ASSERT(strlen(serial) > 0 && strlen(serial) <= 16);
	CU_ASSERT_PTR_NULL(strchr(serial, ' '));
	CU_ASSERT_EQUAL_FATAL(h->fn->C_GetTokenInfo(h->slot, &ti), CKR_OK);
	CU_ASSERT_EQUAL(memcmp(ti.serialNumber, serial, strlen(serial)), 0);
	CU_ASSERT_EQUAL(rcpt_hsm_health(NULL, NULL), RCPT_E_INVAL);
	rcpt_hsm_close(h);
}

static void
test_softhsm_init_rules(void)
{
	char open_dir[4096];
	struct rcpt_diag d;
	const char *conf = getenv("SOFTHSM2_CONF");

	CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
	CU_ASSERT_STRING_EQUAL(conf, tok.conf);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_softhsm_init_module(SOFTHSM_MODULE, tok.dir, "other", &d),
	    RCPT_E_EXISTS);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "not empty"));
	CU_ASSERT_EQUAL(
	    rcpt_hsm_softhsm_init(tok.conf, "other", NULL), RCPT_E_EXISTS);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_softhsm_init("relative/dir", "other", NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_hsm_softhsm_init("/nonexistent/x",
	                    "a label longer than thirty-two bytes", NULL),
	    RCPT_E_INVAL);
	/* An empty directory others can enter is not taken over. */
	CU_ASSERT_FATAL(snprintf(open_dir, sizeof(open_dir), "%s/open",
	                    tok.dir) < (int)sizeof(open_dir));
	CU_ASSERT_FATAL(mkdir(open_dir, 0700) == 0);
	CU_ASSERT_FATAL(chmod(open_dir, 0777) == 0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_softhsm_init_module(SOFTHSM_MODULE, open_dir, "other", &d),
	    RCPT_E_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "dir "));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "no group or other permissions"));
	CU_ASSERT_FATAL(chmod(open_dir, 0750) == 0);
	CU_ASSERT_EQUAL(
	    rcpt_hsm_softhsm_init_module(SOFTHSM_MODULE, open_dir, "other", &d),
	    RCPT_E_CONFIG);
	/* Nothing was written into it. */
	CU_ASSERT_EQUAL(rmdir(open_dir), 0);
	/* Refusals leave the environment alone. */
	CU_ASSERT_STRING_EQUAL(getenv("SOFTHSM2_CONF"), tok.conf);
}

/* A second token later in the same process (keystore tests do this). */
static void
test_second_token(void)
{
	struct rcpt_hsm_config c = config(), first = config();
	struct rcpt_test_token t2;
	uint8_t pub[RCPT_HSM_PUB_LEN];
	struct rcpt_hsm *h;

	CU_ASSERT_EQUAL_FATAL(rcpt_test_token_new(&t2, "second token/2"), 0);
	CU_ASSERT_STRING_EQUAL(getenv("SOFTHSM2_CONF"), t2.conf);
	CU_ASSERT_STRING_EQUAL(t2.uri, "pkcs11:token=second%20token%2F2");
	c.token_uri = t2.uri;
	c.pin_file = t2.user_pin_file;
	h = open_ok(&c);
	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT_EQUAL(rcpt_hsm_generate(h, "k-second", pub, NULL), RCPT_OK);
	sign_verify(h, "k-second", pub);
	/* Keys of the first token are not visible here. */
	CU_ASSERT_EQUAL(
	    rcpt_hsm_public_key(h, "k-sign", pub, NULL), RCPT_E_NOT_FOUND);
	rcpt_hsm_close(h);
	/* The first token is not in this store. */
	open_fails(&first, RCPT_E_NOT_FOUND, "token_uri");
	rcpt_test_token_free(&t2);

	CU_ASSERT_EQUAL_FATAL(setenv("SOFTHSM2_CONF", tok.conf, 1), 0);
	h = open_ok(&first);
	CU_ASSERT_EQUAL(rcpt_hsm_health(h, NULL), RCPT_OK);
	rcpt_hsm_close(h);
}

static void
test_fixture_files(void)
{
	struct stat st;
	char *pin;
	size_t len, i;

	CU_ASSERT_EQUAL_FATAL(stat(tok.user_pin_file, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL_FATAL(stat(tok.so_pin_file, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL_FATAL(stat(tok.dir, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0700);
	pin = rcpt_test_read_file(tok.user_pin_file, &len);
	CU_ASSERT_FATAL(pin != NULL);
	CU_ASSERT_EQUAL(len, 33);
	for (i = 0; i + 1 < len; i++)
		CU_ASSERT(pin[i] != '\n' && pin[i] > ' ' && pin[i] < 127);
	free(pin);
	CU_ASSERT_STRING_EQUAL(
	    rcpt_hsm_ckr_name(CKR_PIN_INCORRECT), "CKR_PIN_INCORRECT");
	CU_ASSERT_STRING_EQUAL(rcpt_hsm_ckr_name(0x7777), "CKR_UNKNOWN");
	CU_ASSERT_STRING_EQUAL(
	    rcpt_hsm_ckr_name(CKR_VENDOR_DEFINED | 1), "CKR_VENDOR_DEFINED");
}

/* Each failing allocation of ours gives RCPT_E_NOMEM and leaks nothing. */
static void
test_out_of_memory(void)
{
	struct rcpt_hsm_config c = config();
	uint8_t pub[RCPT_HSM_PUB_LEN];
	struct rcpt_hsm_key *keys;
	struct rcpt_hsm *h = NULL;
	size_t n;
	long i;
	int r = RCPT_E_NOMEM;

	for (i = 0; r == RCPT_E_NOMEM && i < 100; i++) {
		rcpt_mem_fail_after(i);
		r = rcpt_hsm_open(&c, &h, NULL);
		rcpt_mem_fail_after(-1);
		CU_ASSERT(r == RCPT_OK || r == RCPT_E_NOMEM);
		CU_ASSERT(r == RCPT_OK || h == NULL);
	}
	CU_ASSERT_EQUAL_FATAL(r, RCPT_OK);
	CU_ASSERT(i > 1);
	CU_ASSERT_EQUAL(rcpt_hsm_generate(h, "k-oom", pub, NULL), RCPT_OK);
	for (i = 0, r = RCPT_E_NOMEM; r == RCPT_E_NOMEM && i < 100; i++) {
		rcpt_mem_fail_after(i);
		r = rcpt_hsm_list(h, &keys, &n, NULL);
		rcpt_mem_fail_after(-1);
		CU_ASSERT(r == RCPT_OK || r == RCPT_E_NOMEM);
	}
	CU_ASSERT_EQUAL(r, RCPT_OK);
	CU_ASSERT(n > 0);
	free(keys);
	/* The pool is intact after the failures. */
	sign_verify(h, "k-oom", pub);
	rcpt_hsm_close(h);
}

static CU_TestInfo keys_tests[] = {
    {"generate, public key, sign, verify", test_generate_sign_verify},
    {"label reuse refused", test_label_reuse_refused},
    {"label length rules and unknown labels", test_label_rules},
    {"private key sensitive and unextractable", test_key_protected},
    {"CKA_EC_PARAMS curve name, then OID", test_ec_params_fallback},
    {"concurrent signing, 4 threads on 2 sessions", test_concurrent_signing},
    {"list key pairs", test_list},
    {"relabel sets CKA_LABEL and CKA_ID", test_relabel},
    {"allocation failures", test_out_of_memory},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo tool_tests[] = {
    {"pkcs11-tool sees a protected key", test_pkcs11_tool_sees_protected_key},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo open_tests[] = {
    {"wrong PIN: denied after one C_Login", test_wrong_pin_one_attempt},
    {"pin file mode, owner and type rules", test_pin_file_rules},
    {"pin file content rules", test_pin_file_content},
    {"pin-source in the token URI", test_pin_source_in_uri},
    {"configuration errors", test_config_errors},
    {"module by p11-kit name", test_module_by_name},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo token_tests[] = {
    {"recovers after the token drops sessions",
        test_recovers_after_sessions_closed},
    {"refused PIN not retried until its file changes",
        test_pin_refused_no_retry},
    {"health and serial", test_health_and_serial},
    {"data objects", test_data_objects},
    {"data read racing a write", test_data_read_during_write},
    {"data objects after a crash", test_data_crash_states},
    {"test token creation rules", test_softhsm_init_rules},
    {"test token files and CKR names", test_fixture_files},
    {"a second token in the same process", test_second_token},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "hsm keys", .pTests = keys_tests},
    {.pName = "hsm open", .pTests = open_tests},
    {.pName = "hsm token", .pTests = token_tests},
    {.pName = "hsm pkcs11-tool", .pTests = tool_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	int r, tool;

	r = rcpt_test_token_new(&tok, "rcpt-test");
	if (r != 0) {
		rcpt_test_token_free(&tok);
		return r == RCPT_TEST_SKIP ? RCPT_TEST_SKIP : 1;
	}
	/* Without OpenSC the independent check cannot run: not a pass. */
	tool = have_pkcs11_tool();
	if (!tool) {
		fprintf(stderr, "pkcs11-tool (OpenSC) not installed\n");
		suites[3] = (CU_SuiteInfo)CU_SUITE_INFO_NULL;
	}
	r = rcpt_test_run(suites);
	rcpt_test_token_free(&tok);
	if (r == 0 && !tool)
		return RCPT_TEST_SKIP;
	return r;
}
