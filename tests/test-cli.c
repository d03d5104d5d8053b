/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of receiptctl as a program: each test spawns the built binary
 * (RECEIPTCTL) with its stdin, stdout and stderr on files in a fresh
 * temporary directory and checks the exit status and the exact output.
 * The chains, bundles and proofs it checks are made with receiptctl's
 * own development commands, or with the library where no command exists.
 */
#include "config.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "err.h"
#include "jwk.h"
#include "merkle.h"
#include "proof.h"
#include "receipt.h"
#include "signer.h"
#include "softkey.h"
#include "testlib.h"

static char *tmp; /* per-suite scratch directory */

/* A path below the scratch directory, in a buffer the caller frees. */
static char *
tpath(const char *name)
{
	char *p = rcpt_test_join(tmp, name);

	CU_ASSERT_FATAL(p != NULL);
	return p;
}

/*
 * Runs receiptctl with @p args (NULL-terminated, without argv[0]), its
 * stdin read from @p in_path (NULL: /dev/null).
 */
static void
run_cli(struct rcpt_test_proc *r, const char *in_path, const char *const *args)
{
	CU_ASSERT_FATAL(
	    rcpt_test_spawn(r, RECEIPTCTL, tmp, in_path, args) == 0);
}

/* Runs receiptctl with @p args and stdin holding @p text. */
static void
run_cli_text(
    struct rcpt_test_proc *r, const char *text, const char *const *args)
{
	char *in = tpath(".stdin");

	CU_ASSERT_FATAL(rcpt_test_write_file(in, text, strlen(text)) == 0);
	run_cli(r, in, args);
	free(in);
}

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int
suite_init(void)
{
	if (access(RECEIPTCTL, X_OK) != 0) {
		fprintf(stderr, "%s: not built (make src/receiptctl)\n",
		    RECEIPTCTL);
		return -1;
	}
	tmp = rcpt_test_mkdtemp();
	return tmp == NULL ? -1 : 0;
}

static int
suite_clean(void)
{
	if (tmp != NULL)
		rcpt_test_rmdir(tmp);
	free(tmp);
	tmp = NULL;
	return 0;
}

/* Usage and dispatch */

static const char *const command_names[] = {
    "canon",
    "verify",
    "verify-bundle",
    "verify-proof",
    "keygen",
    "dev-chain",
    "dev-bundle",
};

#define NCOMMANDS (sizeof(command_names) / sizeof(command_names[0]))

static void
test_help_overview(void)
{
	struct rcpt_test_proc r;

	run_cli(&r, NULL, (const char *const[]){"--help", NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT(starts_with(r.out, "usage: receiptctl COMMAND"));
	for (size_t i = 0; i < NCOMMANDS; i++)
		CU_ASSERT(strstr(r.out, command_names[i]) != NULL);
	CU_ASSERT_STRING_EQUAL(r.err, "");
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL, (const char *const[]){"help", NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT(starts_with(r.out, "usage: receiptctl COMMAND"));
	rcpt_test_proc_clear(&r);
}

static void
test_help_each_command(void)
{
	char want[64];
	struct rcpt_test_proc r;

	for (size_t i = 0; i < NCOMMANDS; i++) {
		snprintf(want, sizeof(want), "usage: receiptctl %s ",
		    command_names[i]);
		run_cli(&r, NULL,
		    (const char *const[]){command_names[i], "--help", NULL});
		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT(starts_with(r.out, want));
		CU_ASSERT_STRING_EQUAL(r.err, "");
		rcpt_test_proc_clear(&r);

		run_cli(&r, NULL,
		    (const char *const[]){"help", command_names[i], NULL});
		CU_ASSERT_EQUAL(r.status, 0);
		CU_ASSERT(starts_with(r.out, want));
		rcpt_test_proc_clear(&r);
	}
}

static void
test_unknown_command(void)
{
	struct rcpt_test_proc r;

	run_cli(&r, NULL, (const char *const[]){"frobnicate", NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT(starts_with(r.err, "receiptctl: unknown command"));
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL, (const char *const[]){"help", "frobnicate", NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL, (const char *const[]){NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(strstr(r.err, "usage: receiptctl") != NULL);
	rcpt_test_proc_clear(&r);
}

static void
test_bad_options(void)
{
	struct rcpt_test_proc r;

	run_cli(&r, NULL, (const char *const[]){"canon", "--bogus", NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(
	    starts_with(r.err, "receiptctl canon: --bogus: unknown option\n"
	                       "usage: receiptctl canon "));
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL, (const char *const[]){"verify", "--trust", NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(starts_with(
	    r.err, "receiptctl verify: --trust: needs an argument\n"));
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL,
	    (const char *const[]){"verify", "--threads", "0", "x", NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(starts_with(r.err, "receiptctl verify: --threads: "));
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL, (const char *const[]){"verify", NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL, (const char *const[]){"keygen", NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(starts_with(
	    r.err, "receiptctl keygen: needs --software PATH or --pkcs11"));
	rcpt_test_proc_clear(&r);
}

static CU_TestInfo usage_tests[] = {
    {"--help and help list every command", test_help_overview},
    {"every command has --help and help CMD", test_help_each_command},
    {"unknown command exits 2", test_unknown_command},
    {"bad options exit 2 and name the option", test_bad_options},
    CU_TEST_INFO_NULL,
};

/* canon */

static void
test_canon_good(void)
{
	struct rcpt_test_proc r;

	run_cli_text(&r, " {\"b\": 1.0, \"a\": [1e2, \"x\\u0041\", -0]}\n",
	    (const char *const[]){"canon", NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "{\"a\":[100,\"xA\",0],\"b\":1}");
	CU_ASSERT_STRING_EQUAL(r.err, "");
	rcpt_test_proc_clear(&r);
}

static void
test_canon_duplicate(void)
{
	struct rcpt_test_proc r;

	run_cli_text(&r, "{\"a\":{\"k\":1,\"k\":2}}",
	    (const char *const[]){"canon", NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT_STRING_EQUAL(
	    r.err, "receiptctl canon: $.a.k: duplicate member name\n");
	rcpt_test_proc_clear(&r);
}

static void
test_canon_refusals(void)
{
	struct rcpt_test_proc r;

	run_cli_text(&r, "{\"a\":1,}", (const char *const[]){"canon", NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(starts_with(r.err, "receiptctl canon: "));
	rcpt_test_proc_clear(&r);

	run_cli_text(&r, "{\"n\":9007199254740993}",
	    (const char *const[]){"canon", NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(starts_with(r.err, "receiptctl canon: $.n: "));
	/* The rejected value is never echoed. */
	CU_ASSERT(strstr(r.err, "9007199254740993") == NULL);
	rcpt_test_proc_clear(&r);

	run_cli_text(&r, "", (const char *const[]){"canon", NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	rcpt_test_proc_clear(&r);

	run_cli_text(&r, "{}", (const char *const[]){"canon", "x", NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	rcpt_test_proc_clear(&r);
}

static void
test_canon_stored(void)
{
	struct rcpt_test_proc r;

	/* A client's 1e20 is stored in plain digits... */
	run_cli_text(&r, "{\"n\":1e20}", (const char *const[]){"canon", NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "{\"n\":100000000000000000000}");
	rcpt_test_proc_clear(&r);
	/* ...which strict input refuses, and --stored reads back. */
	run_cli_text(&r, "{\"n\":100000000000000000000}",
	    (const char *const[]){"canon", NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err, "$.n: integer beyond 2^53"));
	rcpt_test_proc_clear(&r);
	run_cli_text(&r, "{\"n\":100000000000000000000}",
	    (const char *const[]){"canon", "--stored", NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "{\"n\":100000000000000000000}");
	rcpt_test_proc_clear(&r);
	/* Duplicates stay refused with --stored. */
	run_cli_text(&r, "{\"a\":1,\"a\":1}",
	    (const char *const[]){"canon", "--stored", NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	rcpt_test_proc_clear(&r);
}

static void
test_canon_max_depth(void)
{
	struct rcpt_test_proc r;

	run_cli_text(&r, "[[1]]",
	    (const char *const[]){"canon", "--max-depth", "2", NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "[[1]]");
	rcpt_test_proc_clear(&r);

	run_cli_text(&r, "[[1]]",
	    (const char *const[]){"canon", "--max-depth", "1", NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT(starts_with(r.err, "receiptctl canon: $[0]: nesting"));
	rcpt_test_proc_clear(&r);

	run_cli_text(
	    &r, "[]", (const char *const[]){"canon", "--max-depth", "0", NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	rcpt_test_proc_clear(&r);

	run_cli_text(&r, "[]",
	    (const char *const[]){"canon", "--max-depth", "257", NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	rcpt_test_proc_clear(&r);

	run_cli_text(&r, "[]",
	    (const char *const[]){"canon", "--max-depth", "2x", NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	rcpt_test_proc_clear(&r);
}

static void
test_canon_too_large(void)
{
	char *in = tpath("big.json");
	struct rcpt_test_proc r;
	int fd;

	/* A sparse file one byte over the cap: refused before parsing. */
	fd = open(in, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(ftruncate(fd, (off_t)64 * 1024 * 1024 + 1) == 0);
	close(fd);
	run_cli(&r, in, (const char *const[]){"canon", NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT(starts_with(r.err, "receiptctl canon: stdin: larger than"));
	rcpt_test_proc_clear(&r);
	unlink(in);
	free(in);
}

static CU_TestInfo canon_tests[] = {
    {"canon prints JCS without newline", test_canon_good},
    {"canon refuses duplicate member", test_canon_duplicate},
    {"canon refuses bad JSON with exit 1", test_canon_refusals},
    {"canon --stored reads JCS output back", test_canon_stored},
    {"canon --max-depth", test_canon_max_depth},
    {"canon refuses input over 64 MiB", test_canon_too_large},
    CU_TEST_INFO_NULL,
};

/* keygen */

static void
test_keygen_creates_key(void)
{
	char *key = tpath("gen.key");
	struct rcpt_softkey *k = NULL;
	struct rcpt_signer s = {0};
	struct stat st;
	char want[256];
	struct rcpt_test_proc r;

	run_cli(
	    &r, NULL, (const char *const[]){"keygen", "--software", key, NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT(strstr(r.err, "WARNING") != NULL);
	CU_ASSERT_FATAL(stat(key, &st) == 0);
	CU_ASSERT(S_ISREG(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);

	/* The printed kid and JWK are those of the key in the file. */
	CU_ASSERT_FATAL(rcpt_softkey_open(key, &k, NULL) == RCPT_OK);
	rcpt_softkey_signer(k, &s);
	snprintf(want, sizeof(want),
	    "%s\n{\"crv\":\"Ed25519\",\"kty\":\"OKP\","
	    "\"x\":\"",
	    s.kid);
	CU_ASSERT(starts_with(r.out, want));
	CU_ASSERT_EQUAL(r.out_len, strlen(want) + RCPT_KID_LEN + 3);
	rcpt_softkey_close(k);
	rcpt_test_proc_clear(&r);
	free(key);
}

static void
test_keygen_refuses_overwrite(void)
{
	char *key = tpath("taken.key");
	const char *before = "not a key, but must survive\n";
	char want[512];
	char *after;
	struct rcpt_test_proc r;

	CU_ASSERT_FATAL(rcpt_test_write_file(key, before, strlen(before)) == 0);
	run_cli(
	    &r, NULL, (const char *const[]){"keygen", "--software", key, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	snprintf(want, sizeof(want),
	    "receiptctl keygen: %s exists; refusing to overwrite a key\n", key);
	CU_ASSERT(strstr(r.err, want) != NULL);
	after = rcpt_test_read_file(key, NULL);
	CU_ASSERT_FATAL(after != NULL);
	CU_ASSERT_STRING_EQUAL(after, before);
	free(after);
	rcpt_test_proc_clear(&r);
	free(key);
}

static CU_TestInfo keygen_tests[] = {
    {"keygen creates a 0600 key and prints it", test_keygen_creates_key},
    {"keygen refuses to overwrite", test_keygen_refuses_overwrite},
    CU_TEST_INFO_NULL,
};

/* token-init and keygen --pkcs11 */

static int softhsm_missing; /* token-init found no SoftHSM2 module */

/* The file's text without its final newline; caller frees. */
static char *
read_pin(const char *path)
{
	size_t len = 0;
	char *pin = rcpt_test_read_file(path, &len);

	CU_ASSERT_FATAL(pin != NULL);
	CU_ASSERT_FATAL(len == 33 && pin[32] == '\n');
	pin[32] = '\0';
	return pin;
}

/* A private copy of the built pkcs11 plugin; returns its directory. */
static char *
provider_dir(void)
{
	char so[4096], *dir = tpath("providers"), *dst, *buf;
	size_t len = 0, n = strlen(RECEIPTCTL) - strlen("/src/receiptctl");

	(void)snprintf(so, sizeof(so), "%.*s/keystore/.libs/provider-pkcs11.so",
	    (int)n, RECEIPTCTL);
	if (access(dir, F_OK) == 0)
		return dir;
	CU_ASSERT_FATAL(mkdir(dir, 0700) == 0);
	buf = rcpt_test_read_file(so, &len);
	CU_ASSERT_FATAL(buf != NULL);
	dst = tpath("providers/provider-pkcs11.so");
	CU_ASSERT_FATAL(rcpt_test_write_file(dst, buf, len) == 0);
	CU_ASSERT_FATAL(chmod(dst, 0755) == 0);
	free(dst);
	free(buf);
	return dir;
}

static void
test_token_init(void)
{
	char *dir = tpath("token"), *conf = tpath("token/softhsm2.conf");
	char *user = tpath("token/user.pin"), *so = tpath("token/so.pin");
	char want[8192], *upin, *spin;
	struct stat st;
	struct rcpt_test_proc r;

	run_cli(&r, NULL,
	    (const char *const[]){
	        "token-init", "--softhsm", dir, "--label", "cli tok", NULL});
	if (r.status != 0 && strstr(r.err, "no p11-kit module") != NULL) {
		fprintf(stderr, "SoftHSM2 not installed: token tests off\n");
		softhsm_missing = 1;
		rcpt_test_proc_clear(&r);
		goto out;
	}
	CU_ASSERT_EQUAL(r.status, 0);
	(void)snprintf(want, sizeof(want),
	    "export SOFTHSM2_CONF=%s\n"
	    "token: pkcs11:token=cli%%20tok\n"
	    "pin-file: %s\n"
	    "so-pin-file: %s\n"
	    "provider-config: module=softhsm2;token=pkcs11:token=cli%%20tok;"
	    "pin-file=%s\n",
	    conf, user, so, user);
	CU_ASSERT_STRING_EQUAL(r.out, want);
	CU_ASSERT(strstr(r.err, "WARNING: a development token") != NULL);
	CU_ASSERT_EQUAL_FATAL(stat(user, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL_FATAL(stat(so, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL_FATAL(stat(conf, &st), 0);
	CU_ASSERT(S_ISREG(st.st_mode));

	/* No PIN is ever printed. */
	upin = read_pin(user);
	spin = read_pin(so);
	CU_ASSERT_PTR_NULL(strstr(r.out, upin));
	CU_ASSERT_PTR_NULL(strstr(r.err, upin));
	CU_ASSERT_PTR_NULL(strstr(r.out, spin));
	CU_ASSERT_PTR_NULL(strstr(r.err, spin));
	free(upin);
	free(spin);
	rcpt_test_proc_clear(&r);
out:
	free(so);
	free(user);
	free(conf);
	free(dir);
}

static void
test_token_init_refusals(void)
{
	char *dir = tpath("busy"), *file = tpath("busy/keep");
	struct rcpt_test_proc r;

	/* A non-empty directory is left alone. */
	CU_ASSERT_FATAL(mkdir(dir, 0700) == 0);
	CU_ASSERT_FATAL(rcpt_test_write_file(file, "x", 1) == 0);
	run_cli(&r, NULL,
	    (const char *const[]){"token-init", "--softhsm", dir, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT(strstr(r.err, "receiptctl token-init: dir") != NULL);
	CU_ASSERT(strstr(r.err, "not empty") != NULL);
	CU_ASSERT_EQUAL(access(file, F_OK), 0);
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL, (const char *const[]){"token-init", NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(starts_with(
	    r.err, "receiptctl token-init: --softhsm DIR is required"));
	rcpt_test_proc_clear(&r);
	run_cli(&r, NULL,
	    (const char *const[]){"token-init", "--softhsm", dir, "x", NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(starts_with(r.err, "receiptctl token-init: takes no"));
	rcpt_test_proc_clear(&r);
	run_cli(&r, NULL,
	    (const char *const[]){"token-init", "--softhsm", "a;b", NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(strstr(r.err, "--softhsm: must not contain ';'") != NULL);
	rcpt_test_proc_clear(&r);
	free(file);
	free(dir);
}

static void
test_keygen_pkcs11(void)
{
	char *tok = tpath("token"), *conf = tpath("token/softhsm2.conf");
	char *pdir, config[8192], kid[RCPT_KID_LEN + 1], want[8192];
	char asan[1024], *old_asan = NULL;
	uint8_t pub[32];
	json_object *jwk;
	struct rcpt_test_proc r;
	char *nl;

	if (softhsm_missing)
		goto out;
	pdir = provider_dir();
	if (getenv("ASAN_OPTIONS") != NULL)
		old_asan = strdup(getenv("ASAN_OPTIONS"));
	CU_ASSERT_FATAL(setenv("SOFTHSM2_CONF", conf, 1) == 0);
	(void)snprintf(config, sizeof(config),
	    "module=softhsm2;token=pkcs11:token=cli%%20tok;"
	    "pin-file=%s/user.pin",
	    tok);
	/*
	 * Under ASan, SoftHSM's own leaks are matched by tests/lsan.supp
	 * only with full stacks (as tests/softhsm.c asks for itself).
	 */
	(void)snprintf(asan, sizeof(asan),
	    "%s%sfast_unwind_on_malloc=0:malloc_context_size=16",
	    old_asan != NULL ? old_asan : "", old_asan != NULL ? ":" : "");
	CU_ASSERT_FATAL(setenv("ASAN_OPTIONS", asan, 1) == 0);
	run_cli(&r, NULL,
	    (const char *const[]){
	        "keygen", "--pkcs11", config, "--providers-dir", pdir, NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	/* KID, then a JWK whose thumbprint is KID. */
	nl = strchr(r.out, '\n');
	jwk = nl != NULL ? json_tokener_parse(nl + 1) : NULL;
	CU_ASSERT(nl != NULL && nl - r.out == RCPT_KID_LEN);
	CU_ASSERT_PTR_NOT_NULL(jwk);
	if (r.status != 0 || jwk == NULL ||
	    rcpt_jwk_parse_strict(jwk, "jwk", pub, NULL) != RCPT_OK ||
	    rcpt_jwk_kid(pub, kid) != RCPT_OK) {
		fprintf(stderr, "keygen: %s\n", r.err);
		CU_FAIL("keygen --pkcs11 printed no usable key");
	} else {
		CU_ASSERT_EQUAL(strncmp(r.out, kid, RCPT_KID_LEN), 0);
		(void)snprintf(want, sizeof(want),
		    "receiptctl keygen: key %s made on the token as "
		    "pkcs11:token=cli%%20tok;object=%s;type=private\n",
		    kid, kid);
		/* ASan builds may add a suppression report after it. */
		CU_ASSERT(starts_with(r.err, want));
	}
	json_object_put(jwk);
	rcpt_test_proc_clear(&r);

	/* A config the provider refuses. */
	run_cli(&r, NULL,
	    (const char *const[]){"keygen", "--pkcs11", "module=softhsm2",
	        "--providers-dir", pdir, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT(starts_with(
	    r.err, "receiptctl keygen: provider pkcs11: open: config: token"));
	rcpt_test_proc_clear(&r);
	CU_ASSERT(unsetenv("SOFTHSM2_CONF") == 0);
	if (old_asan != NULL) {
		CU_ASSERT(setenv("ASAN_OPTIONS", old_asan, 1) == 0);
	} else {
		CU_ASSERT(unsetenv("ASAN_OPTIONS") == 0);
	}
	free(old_asan);
	free(pdir);
out:
	free(conf);
	free(tok);
}

static void
test_keygen_pkcs11_usage(void)
{
	char *missing = tpath("no-providers");
	struct rcpt_test_proc r;

	run_cli(&r, NULL,
	    (const char *const[]){
	        "keygen", "--pkcs11", "x", "--software", "k", NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(starts_with(r.err, "receiptctl keygen: --software and "
	                             "--pkcs11 exclude each other"));
	rcpt_test_proc_clear(&r);
	run_cli(&r, NULL,
	    (const char *const[]){"keygen", "--providers-dir", "/x", NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(starts_with(
	    r.err, "receiptctl keygen: --providers-dir needs --pkcs11"));
	rcpt_test_proc_clear(&r);
	run_cli(&r, NULL,
	    (const char *const[]){
	        "keygen", "--pkcs11=x", "--providers-dir", "rel", NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(starts_with(r.err,
	    "receiptctl keygen: --providers-dir: must be an absolute path"));
	rcpt_test_proc_clear(&r);
	/* No plugin there: an I/O-class failure, exit 2. */
	run_cli(&r, NULL,
	    (const char *const[]){
	        "keygen", "--pkcs11", "x", "--providers-dir", missing, NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT(starts_with(r.err, "receiptctl keygen: provider pkcs11: "
	                             "directory: cannot open"));
	rcpt_test_proc_clear(&r);
	free(missing);
}

static CU_TestInfo token_tests[] = {
    {"token-init makes a token, prints no PIN", test_token_init},
    {"token-init refusals", test_token_init_refusals},
    {"keygen --pkcs11 makes a key on it", test_keygen_pkcs11},
    {"keygen --pkcs11 usage errors", test_keygen_pkcs11_usage},
    CU_TEST_INFO_NULL,
};

/* Chains: dev-chain and verify */

static const char events_text[] =
    "{\"type\":\"login\",\"data\":{\"user\":\"alice\"},\"tags\":[\"web\"]}\n"
    "{\"type\":\"logout\",\"data\":null}\n"
    "{\"type\":\"x.y\",\"data\":[1,2.0]}\n";

/*
 * tmp/@p dir/@p name in one of 64 static buffers used in turn, so that
 * a test can hold several such paths at once (helpers use some too).
 */
static const char *
sub(const char *dir, const char *name)
{
	static char bufs[64][1024];
	static unsigned next;
	char *buf = bufs[next++ % 64];

	snprintf(buf, sizeof(bufs[0]), "%s/%s/%s", tmp, dir, name);
	return buf;
}

/*
 * Makes tmp/@p dir holding key.pem (keygen), events.jsonl and, from
 * dev-chain with @p sealing, out/ with the three chain files.
 */
static void
make_chain(const char *dir, const char *sealing)
{
	const char *key = sub(dir, "key.pem");
	const char *events = sub(dir, "events.jsonl");
	const char *out = sub(dir, "out");
	struct rcpt_test_proc r;

	CU_ASSERT_FATAL(mkdir(sub(dir, ""), 0700) == 0);
	CU_ASSERT_FATAL(rcpt_test_write_file(
	                    events, events_text, strlen(events_text)) == 0);
	run_cli(
	    &r, NULL, (const char *const[]){"keygen", "--software", key, NULL});
	CU_ASSERT_FATAL(r.status == 0);
	rcpt_test_proc_clear(&r);
	run_cli(&r, NULL,
	    (const char *const[]){"dev-chain", "--software", key, "--chain",
	        "demo", "--origin", "example.com/log", "--sealing", sealing,
	        events, out, NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT_STRING_EQUAL(r.err, "");
	CU_ASSERT_FATAL(r.status == 0);
	rcpt_test_proc_clear(&r);
}

/*
 * Copies @p from to @p to, replacing the first @p old by @p new of the
 * same length; the file may hold NUL bytes (a tar).
 */
static void
copy_replacing(
    const char *from, const char *to, const char *old, const char *new)
{
	size_t len = 0;
	char *text = rcpt_test_read_file(from, &len);
	char *at;

	CU_ASSERT_FATAL(text != NULL);
	CU_ASSERT_FATAL(strlen(old) == strlen(new));
	at = memmem(text, len, old, strlen(old));
	CU_ASSERT_FATAL(at != NULL);
	memcpy(at, new, strlen(new));
	CU_ASSERT_FATAL(rcpt_test_write_file(to, text, len) == 0);
	free(text);
}

/* Copies the lines of @p from to @p to, leaving out line @p skip (0-based). */
static void
copy_without_line(const char *from, const char *to, int skip)
{
	char *text = rcpt_test_read_file(from, NULL);
	char *out, *p, *o;
	int line = 0;

	CU_ASSERT_FATAL(text != NULL);
	out = malloc(strlen(text) + 1);
	CU_ASSERT_FATAL(out != NULL);
	for (p = text, o = out; *p != '\0'; line++) {
		char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);

		if (line != skip) {
			memcpy(o, p, n);
			o += n;
		}
		p += n;
	}
	CU_ASSERT_FATAL(rcpt_test_write_file(to, out, (size_t)(o - out)) == 0);
	free(out);
	free(text);
}

static void
test_verify_clean(void)
{
	struct rcpt_test_proc r;

	make_chain("clean", "each");
	const char *receipts = sub("clean", "out/receipts.jsonl");
	const char *keys = sub("clean", "out/keys.jwks.json");
	const char *cp = sub("clean", "out/checkpoint.txt");

	run_cli(&r, NULL, (const char *const[]){"verify", receipts, NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "Chain integrity: CLEAN (4 events, 0 gaps), keys not pinned\n");
	CU_ASSERT_STRING_EQUAL(r.err, "");
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL,
	    (const char *const[]){"verify", receipts, "--trust", keys,
	        "--checkpoint", cp, "--keys", keys, "--threads", "3", NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(
	    r.out, "Chain integrity: CLEAN (4 events, 0 gaps)\n");
	CU_ASSERT_STRING_EQUAL(r.err, "");
	rcpt_test_proc_clear(&r);

	/* "-" reads stdin. */
	run_cli(&r, receipts,
	    (const char *const[]){"verify", "--threads", "1", "-", NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "Chain integrity: CLEAN (4 events, 0 gaps), keys not pinned\n");
	rcpt_test_proc_clear(&r);
}

static void
test_verify_batch_chain(void)
{
	char *text;
	struct rcpt_test_proc r;

	make_chain("batch", "batch");
	const char *receipts = sub("batch", "out/receipts.jsonl");
	const char *cp = sub("batch", "out/checkpoint.txt");
	/* Genesis and the last receipt are signed, the two between not. */
	text = rcpt_test_read_file(receipts, NULL);
	CU_ASSERT_FATAL(text != NULL);
	{
		const char *p = text;
		int n = 0;

		while ((p = strstr(p, "\"signature\"")) != NULL) {
			n++;
			p++;
		}
		CU_ASSERT_EQUAL(n, 2);
	}
	free(text);
	run_cli(&r, NULL,
	    (const char *const[]){
	        "verify", "--checkpoint", cp, receipts, NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "Chain integrity: CLEAN (4 events, 0 gaps), keys not pinned\n");
	rcpt_test_proc_clear(&r);
}

static void
test_verify_tampered(void)
{
	struct rcpt_test_proc r;

	make_chain("tamper", "each");
	const char *receipts = sub("tamper", "out/receipts.jsonl");
	const char *bad = sub("tamper", "bad.jsonl");

	copy_replacing(receipts, bad, "\"alice\"", "\"malle\"");
	run_cli(&r, NULL, (const char *const[]){"verify", bad, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(starts_with(r.out, "Chain integrity: BROKEN at seq 1: "));
	CU_ASSERT(strchr(r.out, '\n') == r.out + r.out_len - 1);
	CU_ASSERT_STRING_EQUAL(r.err, "");
	rcpt_test_proc_clear(&r);

	copy_without_line(receipts, bad, 2);
	run_cli(&r, NULL, (const char *const[]){"verify", bad, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(starts_with(r.out, "Chain integrity: BROKEN at seq "));
	rcpt_test_proc_clear(&r);

	/* Not JSON at all is malformed input: exit 1, not 2. */
	CU_ASSERT_FATAL(rcpt_test_write_file(bad, "garbage\n", 8) == 0);
	run_cli(&r, NULL, (const char *const[]){"verify", bad, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(starts_with(r.out, "Chain integrity: BROKEN"));
	rcpt_test_proc_clear(&r);
}

static void
test_verify_missing_file(void)
{
	char *missing = tpath("no-such.jsonl");
	char want[600];
	struct rcpt_test_proc r;

	run_cli(&r, NULL, (const char *const[]){"verify", missing, NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	snprintf(
	    want, sizeof(want), "receiptctl verify: %s: cannot open", missing);
	CU_ASSERT(starts_with(r.err, want));
	rcpt_test_proc_clear(&r);
	free(missing);
}

static void
test_verify_truncated(void)
{
	struct rcpt_test_proc r;

	make_chain("trunc", "each");
	const char *receipts = sub("trunc", "out/receipts.jsonl");
	const char *cp = sub("trunc", "out/checkpoint.txt");
	const char *trunc = sub("trunc", "trunc.jsonl");
	copy_without_line(receipts, trunc, 3);

	/* Without the checkpoint the shorter chain is clean... */
	run_cli(&r, NULL, (const char *const[]){"verify", trunc, NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "Chain integrity: CLEAN (3 events, 0 gaps), keys not pinned\n");
	rcpt_test_proc_clear(&r);

	/* ...with it, the missing tail is found. */
	run_cli(&r, NULL,
	    (const char *const[]){"verify", "--checkpoint", cp, trunc, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(starts_with(r.out, "Chain integrity: BROKEN: "));
	CU_ASSERT(strstr(r.out, "truncated") != NULL);
	rcpt_test_proc_clear(&r);
}

static void
test_verify_bad_inputs(void)
{
	struct rcpt_test_proc r;

	make_chain("inputs", "each");
	const char *receipts = sub("inputs", "out/receipts.jsonl");
	const char *junk = sub("inputs", "junk.txt");
	const char *missing = sub("inputs", "missing");
	CU_ASSERT_FATAL(rcpt_test_write_file(junk, "{\"keys\":7}", 10) == 0);

	/* Malformed inputs are failures with the SPEC 8 line (exit 1). */
	run_cli(&r, NULL,
	    (const char *const[]){"verify", "--trust", junk, receipts, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(starts_with(r.out, "Chain integrity: BROKEN: --trust "));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "keys"));
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL,
	    (const char *const[]){"verify", "--keys", junk, receipts, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(starts_with(r.out, "Chain integrity: BROKEN: --keys "));
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL,
	    (const char *const[]){
	        "verify", "--checkpoint", junk, receipts, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(starts_with(r.out, "Chain integrity: BROKEN: --checkpoint "));
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL,
	    (const char *const[]){
	        "verify", "--trust", missing, receipts, NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	rcpt_test_proc_clear(&r);
}

static void
test_dev_chain_refusals(void)
{
	char want[1024];
	char *before;
	struct rcpt_test_proc r;

	make_chain("refuse", "each");
	const char *key = sub("refuse", "key.pem");
	const char *events = sub("refuse", "bad.jsonl");
	const char *out = sub("refuse", "new");
	const char *d = sub("refuse", "out");

	/* A bad event names its line and member; nothing is left behind. */
	CU_ASSERT_FATAL(rcpt_test_write_file(events,
	                    "{\"type\":\"a\",\"data\":1}\n"
	                    "{\"type\":\"a\",\"data\":{\"k\":1,\"k\":2}}\n",
	                    55) == 0);
	run_cli(&r, NULL,
	    (const char *const[]){"dev-chain", "--software", key, "--chain",
	        "demo", "--origin", "o", events, out, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	snprintf(want, sizeof(want),
	    "receiptctl dev-chain: %s line 2: event.data.k: ", events);
	CU_ASSERT(starts_with(r.err, want));
	CU_ASSERT(strstr(r.err, "duplicate") != NULL);
	CU_ASSERT(access(out, F_OK) != 0);
	rcpt_test_proc_clear(&r);

	CU_ASSERT_FATAL(
	    rcpt_test_write_file(events,
	        "{\"type\":\"receiptd.genesis\",\"data\":1}\n", 38) == 0);
	run_cli(&r, NULL,
	    (const char *const[]){"dev-chain", "--software", key, "--chain",
	        "demo", "--origin", "o", events, out, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(strstr(r.err, " line 1: type: ") != NULL);
	rcpt_test_proc_clear(&r);

	CU_ASSERT_FATAL(
	    rcpt_test_write_file(events, "{\"type\":\"a\"}\n", 13) == 0);
	run_cli(&r, NULL,
	    (const char *const[]){"dev-chain", "--software", key, "--chain",
	        "demo", "--origin", "o", events, out, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(strstr(r.err, " line 1: event.data: missing") != NULL);
	rcpt_test_proc_clear(&r);

	/* A non-empty directory is never written into. */
	before = rcpt_test_read_file(sub("refuse", "out/receipts.jsonl"), NULL);
	CU_ASSERT_FATAL(before != NULL);
	run_cli(&r, NULL,
	    (const char *const[]){"dev-chain", "--software", key, "--chain",
	        "demo", "--origin", "o", sub("refuse", "events.jsonl"), d,
	        NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(strstr(r.err, "not empty") != NULL);
	{
		char *after = rcpt_test_read_file(
		    sub("refuse", "out/receipts.jsonl"), NULL);

		CU_ASSERT_FATAL(after != NULL);
		CU_ASSERT_STRING_EQUAL(after, before);
		free(after);
	}
	free(before);
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL,
	    (const char *const[]){"dev-chain", "--software", key, "--chain",
	        "demo", "--origin", "o", "--sealing", "bulk", events, out,
	        NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	rcpt_test_proc_clear(&r);
}

static CU_TestInfo chain_tests[] = {
    {"dev-chain output verifies CLEAN", test_verify_clean},
    {"batch-sealed dev-chain verifies CLEAN", test_verify_batch_chain},
    {"tampered chain is BROKEN at its seq", test_verify_tampered},
    {"verify of a missing file exits 2", test_verify_missing_file},
    {"checkpoint finds a truncated file", test_verify_truncated},
    {"unparsable --trust/--keys/--checkpoint", test_verify_bad_inputs},
    {"dev-chain refuses bad events and dirs", test_dev_chain_refusals},
    CU_TEST_INFO_NULL,
};

/* Bundles */

static void
test_bundle_clean(void)
{
	struct rcpt_test_proc r;

	make_chain("bundle", "each");
	const char *key = sub("bundle", "key.pem");
	const char *dir = sub("bundle", "out");
	const char *keys = sub("bundle", "out/keys.jwks.json");
	const char *all = sub("bundle", "all.tar");
	const char *part = sub("bundle", "part.tar");

	run_cli(&r, NULL,
	    (const char *const[]){
	        "dev-bundle", "--software", key, "--dir", dir, all, NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.err, "");
	rcpt_test_proc_clear(&r);
	run_cli(&r, NULL, (const char *const[]){"verify-bundle", all, NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "Chain integrity: CLEAN (4 events, 0 gaps), keys not pinned\n");
	rcpt_test_proc_clear(&r);

	/* A middle range needs proofs.jsonl, and --trust to verify. */
	run_cli(&r, NULL,
	    (const char *const[]){"dev-bundle", "--software", key, "--dir", dir,
	        "--from", "1", "--to", "2", part, NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	rcpt_test_proc_clear(&r);
	run_cli(&r, NULL,
	    (const char *const[]){"verify-bundle", "--trust", keys, "--threads",
	        "2", part, NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(
	    r.out, "Chain integrity: CLEAN (2 events, 0 gaps)\n");
	rcpt_test_proc_clear(&r);
	run_cli(&r, NULL, (const char *const[]){"verify-bundle", part, NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT(strstr(r.err, "--trust") != NULL);
	rcpt_test_proc_clear(&r);
}

static void
test_bundle_refusals(void)
{
	struct rcpt_test_proc r;

	make_chain("bundle2", "each");
	const char *key = sub("bundle2", "key.pem");
	const char *dir = sub("bundle2", "out");
	const char *all = sub("bundle2", "all.tar");
	const char *bad = sub("bundle2", "bad.tar");

	run_cli(&r, NULL,
	    (const char *const[]){
	        "dev-bundle", "--software", key, "--dir", dir, all, NULL});
	CU_ASSERT_EQUAL_FATAL(r.status, 0);
	rcpt_test_proc_clear(&r);

	/* Never overwritten. */
	run_cli(&r, NULL,
	    (const char *const[]){
	        "dev-bundle", "--software", key, "--dir", dir, all, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(strstr(r.err, "exists; refusing to overwrite") != NULL);
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL,
	    (const char *const[]){"dev-bundle", "--software", key, "--dir", dir,
	        "--from", "3", "--to", "1", bad, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(starts_with(r.err, "receiptctl dev-bundle: --from/--to: "));
	rcpt_test_proc_clear(&r);

	/* One changed byte inside the tar breaks the manifest's hash. */
	copy_replacing(all, bad, "alice", "alicf");
	run_cli(&r, NULL, (const char *const[]){"verify-bundle", bad, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(starts_with(r.out, "Chain integrity: BROKEN"));
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL,
	    (const char *const[]){
	        "verify-bundle", sub("bundle2", "none.tar"), NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	rcpt_test_proc_clear(&r);
}

static CU_TestInfo bundle_tests[] = {
    {"dev-bundle output verifies CLEAN", test_bundle_clean},
    {"bundle refusals", test_bundle_refusals},
    CU_TEST_INFO_NULL,
};

/* Proofs, built with the library since no command makes them yet */

struct leaves {
	uint8_t hash[16][RCPT_HASH_LEN]; /* entry hashes */
	uint64_t n;
};

static int
leaf_at(void *ctx, uint64_t index, uint8_t out[RCPT_HASH_LEN])
{
	const struct leaves *l = ctx;

	if (index >= l->n)
		return RCPT_E_INVAL;
	rcpt_merkle_leaf_hash(l->hash[index], out);
	return RCPT_OK;
}

static void
load_leaves(const char *path, struct leaves *l)
{
	char *text = rcpt_test_read_file(path, NULL);
	char *p, *nl;

	CU_ASSERT_FATAL(text != NULL);
	memset(l, 0, sizeof(*l));
	for (p = text; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		struct rcpt_receipt rec;

		CU_ASSERT_FATAL(l->n < 16);
		rcpt_receipt_init(&rec);
		CU_ASSERT_FATAL(rcpt_receipt_parse(p, (size_t)(nl - p), 256,
		                    &rec, NULL) == RCPT_OK);
		memcpy(l->hash[l->n++], rec.entry_hash, RCPT_HASH_LEN);
		rcpt_receipt_clear(&rec);
	}
	free(text);
}

/* Writes the inclusion proof of seq 1 and a consistency proof 2 -> 4. */
static void
make_proofs(const char *dir)
{
	struct rcpt_inclusion_proof inc = {0};
	struct rcpt_consistency_proof con = {0};
	struct rcpt_softkey *k = NULL;
	struct rcpt_signer s = {0};
	struct leaves l;
	uint8_t root[RCPT_HASH_LEN];
	char *note, *old_note = NULL, *text = NULL;
	size_t len = 0;

	load_leaves(sub(dir, "out/receipts.jsonl"), &l);
	CU_ASSERT_FATAL(l.n == 4);
	note = rcpt_test_read_file(sub(dir, "out/checkpoint.txt"), NULL);
	CU_ASSERT_FATAL(note != NULL);

	CU_ASSERT_FATAL(rcpt_proof_inclusion_build(leaf_at, &l, "demo", 1,
	                    l.hash[1], note, &inc, NULL) == RCPT_OK);
	CU_ASSERT_FATAL(
	    rcpt_proof_inclusion_serialize(&inc, &text, &len, NULL) == RCPT_OK);
	CU_ASSERT_FATAL(
	    rcpt_test_write_file(sub(dir, "inclusion.json"), text, len) == 0);
	free(text);

	CU_ASSERT_FATAL(
	    rcpt_softkey_open(sub(dir, "key.pem"), &k, NULL) == RCPT_OK);
	rcpt_softkey_signer(k, &s);
	CU_ASSERT_FATAL(rcpt_merkle_root(leaf_at, &l, 2, root) == RCPT_OK);
	CU_ASSERT_FATAL(rcpt_checkpoint_sign("example.com/log", "demo", 2, root,
	                    &s, &old_note) == RCPT_OK);
	CU_ASSERT_FATAL(rcpt_proof_consistency_build(leaf_at, &l, "demo",
	                    old_note, note, &con, NULL) == RCPT_OK);
	CU_ASSERT_FATAL(rcpt_proof_consistency_serialize(
	                    &con, &text, &len, NULL) == RCPT_OK);
	CU_ASSERT_FATAL(
	    rcpt_test_write_file(sub(dir, "consistency.json"), text, len) == 0);
	free(text);

	rcpt_proof_consistency_clear(&con);
	rcpt_proof_inclusion_clear(&inc);
	rcpt_softkey_close(k);
	free(old_note);
	free(note);
}

static void
test_proof_valid(void)
{
	const char *keys = sub("proof", "out/keys.jwks.json");
	const char *inc = sub("proof", "inclusion.json");
	const char *con = sub("proof", "consistency.json");
	struct rcpt_test_proc r;

	make_chain("proof", "each");
	make_proofs("proof");

	run_cli(&r, NULL,
	    (const char *const[]){"verify-proof", "--keys", keys, inc, NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(
	    r.out, "Proof: VALID (inclusion of seq 1 in tree of size 4)\n");
	CU_ASSERT_STRING_EQUAL(r.err, "");
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL,
	    (const char *const[]){"verify-proof", con, "--keys", keys, NULL});
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_STRING_EQUAL(
	    r.out, "Proof: VALID (consistency from 2 to 4)\n");
	CU_ASSERT_STRING_EQUAL(r.err, "");
	rcpt_test_proc_clear(&r);
}

static void
test_proof_invalid(void)
{
	const char *keys = sub("proof2", "out/keys.jwks.json");
	const char *inc = sub("proof2", "inclusion.json");
	const char *bad = sub("proof2", "bad.json");
	const char *other_keys = sub("proof3", "out/keys.jwks.json");
	struct rcpt_test_proc r;

	make_chain("proof2", "each");
	make_chain("proof3", "each");
	make_proofs("proof2");

	/* The path no longer leads from this leaf to the root. */
	copy_replacing(inc, bad, "\"seq\":1", "\"seq\":2");
	run_cli(&r, NULL,
	    (const char *const[]){"verify-proof", "--keys", keys, bad, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(starts_with(r.out, "Proof: INVALID: "));
	CU_ASSERT(strstr(r.out, "path") != NULL);
	rcpt_test_proc_clear(&r);

	/* A checkpoint signed by a key the auditor does not hold. */
	run_cli(&r, NULL,
	    (const char *const[]){
	        "verify-proof", "--keys", other_keys, inc, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(starts_with(r.out, "Proof: INVALID: checkpoint"));
	rcpt_test_proc_clear(&r);

	CU_ASSERT_FATAL(rcpt_test_write_file(bad, "{}", 2) == 0);
	run_cli(&r, NULL,
	    (const char *const[]){"verify-proof", "--keys", keys, bad, NULL});
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT(starts_with(r.out, "Proof: INVALID: "));
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL, (const char *const[]){"verify-proof", inc, NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	rcpt_test_proc_clear(&r);

	run_cli(&r, NULL,
	    (const char *const[]){"verify-proof", "--keys", keys,
	        sub("proof2", "none.json"), NULL});
	CU_ASSERT_EQUAL(r.status, 2);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT(starts_with(r.err, "receiptctl verify-proof: "));
	rcpt_test_proc_clear(&r);
}

static CU_TestInfo proof_tests[] = {
    {"verify-proof accepts both kinds", test_proof_valid},
    {"verify-proof refuses bad proofs", test_proof_invalid},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "usage",
        .pInitFunc = suite_init,
        .pCleanupFunc = suite_clean,
        .pTests = usage_tests},
    {.pName = "canon",
        .pInitFunc = suite_init,
        .pCleanupFunc = suite_clean,
        .pTests = canon_tests},
    {.pName = "keygen",
        .pInitFunc = suite_init,
        .pCleanupFunc = suite_clean,
        .pTests = keygen_tests},
    {.pName = "token",
        .pInitFunc = suite_init,
        .pCleanupFunc = suite_clean,
        .pTests = token_tests},
    {.pName = "chain",
        .pInitFunc = suite_init,
        .pCleanupFunc = suite_clean,
        .pTests = chain_tests},
    {.pName = "bundle",
        .pInitFunc = suite_init,
        .pCleanupFunc = suite_clean,
        .pTests = bundle_tests},
    {.pName = "proof",
        .pInitFunc = suite_init,
        .pCleanupFunc = suite_clean,
        .pTests = proof_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	int r;

	/* receiptctl keygen --pkcs11 runs SoftHSM, whose leaks LSan must
	 * be told about. */
	if (rcpt_test_sanitizer_env() != 0)
		return 1;
	r = rcpt_test_run(suites);
	if (r == 0 && softhsm_missing)
		return RCPT_TEST_SKIP;
	return r;
}
