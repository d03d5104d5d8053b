/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of keystore/: the plugin loader's refusals (ABI major, missing
 * entry symbol, missing operation, names, paths, file ownership and
 * mode), the software provider, the signer adapter, and the PKCS#11
 * plugin against a throw-away SoftHSM token.  When SoftHSM is missing,
 * everything else runs and the program then exits 77 (SKIP).
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "ed25519.h"
#include "hsm/hsm-int.h"
#include "keystore/keystore.h"
#include "mem.h"
#include "receipt.h"
#include "softhsm.h"
#include "softkey.h"
#include "testlib.h"

#define BADABI_SO TEST_PLUGINS_BUILDDIR "/provider-badabi.so"
#define PKCS11_SO PROVIDERS_BUILDDIR "/provider-pkcs11.so"

static char *tmp;                  /* per-test scratch directory */
static struct rcpt_test_token tok; /* the SoftHSM token, if any */
static int tok_status = -1;        /* rcpt_test_token_new() result */

/* What the log callback saw. */
struct logbook {
	int n;
	int level;
	char last[512];
};

static void
record(void *ctx, int level, const char *msg)
{
	struct logbook *b = ctx;

	b->n++;
	b->level = level;
	(void)snprintf(b->last, sizeof(b->last), "%s", msg);
}

static int
setup(void)
{
	return (tmp = rcpt_test_mkdtemp()) == NULL;
}

static int
teardown(void)
{
	rcpt_test_rmdir(tmp);
	free(tmp);
	tmp = NULL;
	return 0;
}

/* A fresh, private subdirectory of tmp (mode 0700); caller frees. */
static char *
subdir(const char *name)
{
	static unsigned seq;
	char unique[64];
	char *d;

	(void)snprintf(unique, sizeof(unique), "%s-%u", name, seq++);
	d = rcpt_strdup(rcpt_test_path(tmp, unique));

	CU_ASSERT_FATAL(d != NULL);
	CU_ASSERT_FATAL(mkdir(d, 0700) == 0);
	return d;
}

/* Copies @p from to @p dir/@p name with @p mode. */
static void
copy_file(const char *from, const char *dir, const char *name, mode_t mode)
{
	CU_ASSERT_FATAL(
	    rcpt_test_copy_file(from, rcpt_test_path(dir, name), mode) == 0);
}

static int
contains(const struct rcpt_diag *d, const char *s)
{
	return d->set && strstr(d->msg, s) != NULL;
}

/* Loader */

static void
test_abi_major_refused(void)
{
	struct rcpt_ks_provider *p = (void *)1;
	struct rcpt_diag d;
	char want[128], path[4096];
	char *dir = subdir("prov");

	copy_file(BADABI_SO, dir, "provider-badabi.so", 0755);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ks_load("badabi", dir, 0, &p, &d), RCPT_E_PLUGIN_ABI);
	CU_ASSERT_PTR_NULL(p);
	(void)snprintf(want, sizeof(want),
	    "provider badabi: ABI major %d, receiptd needs %d",
	    RCPT_PROVIDER_ABI_MAJOR + 1, RCPT_PROVIDER_ABI_MAJOR);
	CU_ASSERT_STRING_EQUAL(d.msg, want);

	/* The same file by absolute path, allowed or not. */
	(void)snprintf(path, sizeof(path), "%s/provider-badabi.so", dir);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_load(path, NULL, 1, &p, &d), RCPT_E_PLUGIN_ABI);
	CU_ASSERT(contains(&d, "receiptd needs"));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_load(path, NULL, 0, &p, &d), RCPT_E_CONFIG);
	CU_ASSERT(contains(&d, "absolute path"));
	free(dir);
}

static void
test_missing_symbol(void)
{
	struct rcpt_ks_provider *p = NULL;
	struct rcpt_diag d;
	Dl_info info;

	/* The C library is a shared object without our entry point. */
	CU_ASSERT_FATAL(dladdr((void *)(size_t)getpid, &info) != 0);
	CU_ASSERT_FATAL(info.dli_fname != NULL && info.dli_fname[0] == '/');
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ks_load(info.dli_fname, NULL, 1, &p, &d), RCPT_E_PLUGIN_ABI);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT(contains(&d, "no symbol rcpt_provider_entry"));
}

static void
test_not_a_shared_object(void)
{
	struct rcpt_ks_provider *p = NULL;
	struct rcpt_diag d;
	char *dir = subdir("junk");

	CU_ASSERT_FATAL(
	    rcpt_test_write_file(
	        rcpt_test_path(dir, "provider-junk.so"), "junk", 4) == 0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ks_load("junk", dir, 0, &p, &d), RCPT_E_PLUGIN_ABI);
	CU_ASSERT(contains(&d, "provider junk: cannot load"));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ks_load("absent", dir, 0, &p, &d), RCPT_E_NOT_FOUND);
	CU_ASSERT(contains(&d, "provider absent: file"));
	free(dir);
}

/* Clears the function pointer at byte offset @p off of @p t. */
static void
clear_op(struct rcpt_provider *t, size_t off)
{
	void (*none)(void) = NULL;

	memcpy((char *)t + off, &none, sizeof(none));
}

static void
test_null_op_refused(void)
{
	static const struct {
		const char *name;
		size_t off;
	} ops[] = {
	    {"open", offsetof(struct rcpt_provider, open)},
	    {"close", offsetof(struct rcpt_provider, close)},
	    {"list_keys", offsetof(struct rcpt_provider, list_keys)},
	    {"generate", offsetof(struct rcpt_provider, generate)},
	    {"public_key", offsetof(struct rcpt_provider, public_key)},
	    {"sign", offsetof(struct rcpt_provider, sign)},
	    {"health", offsetof(struct rcpt_provider, health)},
	    {"free", offsetof(struct rcpt_provider, free)},
	    {"data_read", offsetof(struct rcpt_provider, data_read)},
	    {"data_write", offsetof(struct rcpt_provider, data_write)},
	};
	struct rcpt_ks_provider *p = NULL;
	struct rcpt_provider t;
	struct rcpt_diag d;
	char want[128];
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		t = *rcpt_ks_soft_table();
		clear_op(&t, ops[i].off);
		rcpt_diag_clear(&d);
		CU_ASSERT_EQUAL(
		    rcpt_ks_adopt(&t, "test", &p, &d), RCPT_E_PLUGIN_ABI);
		CU_ASSERT_PTR_NULL(p);
		(void)snprintf(want, sizeof(want),
		    "provider test: operation %s is missing", ops[i].name);
		CU_ASSERT_STRING_EQUAL(d.msg, want);
	}

	/* The complete table is accepted. */
	t = *rcpt_ks_soft_table();
	CU_ASSERT_EQUAL(rcpt_ks_adopt(&t, "test", &p, NULL), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(rcpt_ks_name(p), "software");
	rcpt_ks_unload(p);
}

static void
test_table_header_refused(void)
{
	struct rcpt_ks_provider *p = NULL;
	struct rcpt_provider t;
	struct rcpt_diag d;

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_adopt(NULL, "test", &p, &d), RCPT_E_PLUGIN_ABI);
	CU_ASSERT(contains(&d, "provider test: entry point returned no table"));

	/* The major is judged first, even when nothing else is valid. */
	memset(&t, 0, sizeof(t));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_adopt(&t, "test", &p, &d), RCPT_E_PLUGIN_ABI);
	CU_ASSERT(contains(&d, "provider test: ABI major 0, receiptd needs 1"));

	t = *rcpt_ks_soft_table();
	t.struct_size = offsetof(struct rcpt_provider, free);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_adopt(&t, "test", &p, &d), RCPT_E_PLUGIN_ABI);
	CU_ASSERT(contains(&d, "provider test: struct_size"));

	t = *rcpt_ks_soft_table();
	t.name = "Bad Name";
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_adopt(&t, "test", &p, &d), RCPT_E_PLUGIN_ABI);
	CU_ASSERT(contains(&d, "provider test: name"));

	/* A newer minor with a larger table is fine. */
	t = *rcpt_ks_soft_table();
	t.abi_minor = RCPT_PROVIDER_ABI_MINOR + 1;
	t.struct_size = sizeof(t) + 64;
	CU_ASSERT_EQUAL(rcpt_ks_adopt(&t, "test", &p, NULL), RCPT_OK);
	rcpt_ks_unload(p);
}

static void
test_bad_name_refused(void)
{
	static const char *const bad[] = {"", "PKCS11", "pkcs 11", "pk.cs11",
	    "abcdefghijklmnopqrstuvwxyz0123456"};
	struct rcpt_ks_provider *p = NULL;
	struct rcpt_diag d;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rcpt_diag_clear(&d);
		CU_ASSERT_EQUAL(
		    rcpt_ks_load(bad[i], tmp, 0, &p, &d), RCPT_E_CONFIG);
		CU_ASSERT_PTR_NULL(p);
		CU_ASSERT(contains(&d, "provider: name must match"));
	}
	/* 32 characters is the longest name; this one is merely absent. */
	CU_ASSERT_EQUAL(
	    rcpt_ks_load("abcdefghijklmnopqrstuvwxyz012345", tmp, 0, &p, NULL),
	    RCPT_E_NOT_FOUND);
	/* A relative providers directory is a configuration error. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ks_load("pkcs11", "lib", 0, &p, &d), RCPT_E_CONFIG);
	CU_ASSERT(contains(&d, "providers directory must be absolute"));
}

static void
test_relative_path_refused(void)
{
	static const char *const bad[] = {"./provider-pkcs11.so",
	    "keystore/.libs/provider-pkcs11.so", "../pkcs11"};
	struct rcpt_ks_provider *p = NULL;
	struct rcpt_diag d;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rcpt_diag_clear(&d);
		CU_ASSERT_EQUAL(
		    rcpt_ks_load(bad[i], tmp, 1, &p, &d), RCPT_E_CONFIG);
		CU_ASSERT(contains(&d, "relative path is not allowed"));
	}
}

static void
test_file_mode_refused(void)
{
	struct rcpt_ks_provider *p = NULL;
	struct rcpt_diag d;
	char *dir = subdir("modes");

	copy_file(BADABI_SO, dir, "provider-gw.so", 0775);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_load("gw", dir, 0, &p, &d), RCPT_E_DENIED);
	CU_ASSERT_STRING_EQUAL(d.msg, "provider gw: file: must not be "
	                              "writable by group or others");

	copy_file(BADABI_SO, dir, "provider-ow.so", 0757);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_load("ow", dir, 0, &p, &d), RCPT_E_DENIED);
	CU_ASSERT(contains(&d, "provider ow: file: must not be writable"));

	/* The loader reaches the ABI check only with a clean file. */
	CU_ASSERT_FATAL(
	    chmod(rcpt_test_path(dir, "provider-gw.so"), 0755) == 0);
	CU_ASSERT_EQUAL(
	    rcpt_ks_load("gw", dir, 0, &p, NULL), RCPT_E_PLUGIN_ABI);

	CU_ASSERT_FATAL(
	    mkdir(rcpt_test_path(dir, "provider-dir.so"), 0700) == 0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_load("dir", dir, 0, &p, &d), RCPT_E_DENIED);
	CU_ASSERT(contains(&d, "provider dir: file: not a regular file"));

	/* A directory others may write is refused as well. */
	CU_ASSERT_FATAL(chmod(dir, 0770) == 0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_load("gw", dir, 0, &p, &d), RCPT_E_DENIED);
	CU_ASSERT(contains(&d, "provider gw: directory: must not be writable"));
	CU_ASSERT_FATAL(chmod(dir, 0700) == 0);
	free(dir);
}

/* The real plugin, and a symbolic link to it, in a private 0755 dir. */
static void
test_symlink_refused(void)
{
	struct rcpt_ks_provider *p = NULL;
	struct rcpt_diag d;
	char *dir = subdir("links"), target[4096], link[4096];

	CU_ASSERT_FATAL(chmod(dir, 0755) == 0);
	CU_ASSERT_FATAL(rcpt_test_plugin_copy(PKCS11_SO, dir) == 0);
	(void)snprintf(target, sizeof(target), "%s/provider-pkcs11.so", dir);
	(void)snprintf(link, sizeof(link), "%s/provider-alias.so", dir);
	CU_ASSERT_FATAL(symlink(target, link) == 0);

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_load("alias", dir, 0, &p, &d), RCPT_E_CONFIG);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_STRING_EQUAL(
	    d.msg, "provider alias: file: must not be a symbolic link");
	/* By absolute path too. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_load(link, NULL, 1, &p, &d), RCPT_E_CONFIG);
	CU_ASSERT(contains(&d, "file: must not be a symbolic link"));
	CU_ASSERT_PTR_NULL(p);

	/* The file it points at loads (through its checked descriptor). */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_load("pkcs11", dir, 0, &p, &d), RCPT_OK);
	CU_ASSERT_PTR_NOT_NULL(p);
	if (p != NULL)
		CU_ASSERT_STRING_EQUAL(rcpt_ks_name(p), "pkcs11");
	rcpt_ks_unload(p);
	free(dir);
}

/* Software provider */

static struct rcpt_ks_provider *
open_soft(const char *config, struct logbook *book)
{
	struct rcpt_ks_opts o = {.log = record, .log_ctx = book};
	struct rcpt_ks_provider *p = NULL;
	struct rcpt_diag d;

	rcpt_diag_clear(&d);
	CU_ASSERT_FATAL(rcpt_ks_load("software", NULL, 0, &p, &d) == RCPT_OK);
	CU_ASSERT_FATAL(rcpt_ks_open(p, config, 0, &o, &d) == RCPT_OK);
	return p;
}

static void
test_soft_generate_list_sign(void)
{
	static const uint8_t text[] = "a message of any length";
	struct logbook book = {0};
	struct rcpt_ks_opts o = {.log = record, .log_ctx = &book};
	struct rcpt_ks_provider *p;
	struct rcpt_ks_key *keys = NULL;
	uint8_t pub[32], pub2[32], sig[64];
	char kid[RCPT_KID_LEN + 1], want[RCPT_KID_LEN + 1];
	char *h = NULL, *dir = subdir("keys"), path[4096];
	size_t n = 9;
	struct stat st;

	p = open_soft(dir, &book);
	CU_ASSERT_EQUAL(rcpt_ks_list(p, &keys, &n, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_PTR_NULL(keys);

	CU_ASSERT_EQUAL_FATAL(
	    rcpt_ks_generate(p, "k1", &h, pub, kid, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_jwk_kid(pub, want), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(kid, want);
	(void)snprintf(path, sizeof(path), "%s/%s.key", dir, kid);
	CU_ASSERT_STRING_EQUAL(h, path);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);

	CU_ASSERT_EQUAL_FATAL(rcpt_ks_list(p, &keys, &n, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(keys[0].handle, h);
	CU_ASSERT_STRING_EQUAL(keys[0].kid, kid);
	CU_ASSERT_EQUAL(memcmp(keys[0].pub, pub, 32), 0);
	rcpt_ks_keys_free(keys, n);

	CU_ASSERT_EQUAL(rcpt_ks_public_key(p, h, pub2, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(pub, pub2, 32), 0);
	CU_ASSERT_EQUAL(
	    rcpt_ks_sign(p, h, text, sizeof(text), sig, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_ed25519_verify(pub, text, sizeof(text), sig), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_ed25519_verify(pub, text, sizeof(text) - 1, sig),
	    RCPT_E_BAD_SIGNATURE);
	CU_ASSERT_EQUAL(rcpt_ks_health(p, NULL), RCPT_OK);

	/* The key is still there after reopening. */
	rcpt_ks_close(p);
	CU_ASSERT_EQUAL(rcpt_ks_list(p, &keys, &n, NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL_FATAL(rcpt_ks_open(p, dir, 0, &o, NULL), RCPT_OK);
	free(h);
	h = NULL;
	CU_ASSERT_EQUAL(
	    rcpt_ks_generate(p, "k2", &h, pub2, kid, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_ks_list(p, &keys, &n, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(n, 2);
	rcpt_ks_keys_free(keys, n);
	free(h);
	rcpt_ks_unload(p);
	free(dir);
}

static void
test_soft_refusals(void)
{
	struct logbook book = {0};
	struct rcpt_ks_provider *p;
	struct rcpt_diag d;
	uint8_t pub[32], sig[64];
	char kid[RCPT_KID_LEN + 1], *h = NULL;
	char *dir = subdir("refusals");

	p = open_soft(dir, &book);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ks_sign(p, "nope", pub, 32, sig, &d), RCPT_E_NOT_FOUND);
	CU_ASSERT(contains(&d, "provider software: sign: handle: no such key"));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ks_public_key(p, "nope", pub, &d), RCPT_E_NOT_FOUND);
	CU_ASSERT(contains(&d, "handle"));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ks_generate(p, "a b", &h, pub, kid, &d), RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "label: must match"));
	CU_ASSERT_PTR_NULL(h);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_open(p, dir, 0, NULL, &d), RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "already open"));
	rcpt_ks_unload(p);

	/* Missing config; a file whose name is not its kid. */
	CU_ASSERT_FATAL(rcpt_ks_load("software", NULL, 0, &p, NULL) == RCPT_OK);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ks_open(p, rcpt_test_path(dir, "absent"), 0, NULL, &d),
	    RCPT_E_NOT_FOUND);
	CU_ASSERT(contains(&d, "provider software: open: config"));
	CU_ASSERT_FATAL(rcpt_softkey_generate(
	                    rcpt_test_path(dir, "wrong.key"), NULL) == RCPT_OK);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_open(p, dir, 0, NULL, &d), RCPT_E_CONFIG);
	CU_ASSERT(contains(&d, "key file wrong.key: its name is not"));
	rcpt_ks_unload(p);
	free(dir);
}

static void
test_soft_single_file(void)
{
	struct rcpt_ks_provider *p;
	struct rcpt_ks_key *keys = NULL;
	struct logbook book = {0};
	struct rcpt_diag d;
	uint8_t pub[32];
	char kid[RCPT_KID_LEN + 1], *h = NULL, *dir = subdir("single");
	char file[4096];
	size_t n = 0;

	(void)snprintf(file, sizeof(file), "%s/dev.key", dir);
	CU_ASSERT_FATAL(rcpt_softkey_generate(file, NULL) == RCPT_OK);
	p = open_soft(file, &book);
	CU_ASSERT_EQUAL_FATAL(rcpt_ks_list(p, &keys, &n, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(keys[0].handle, file);
	rcpt_ks_keys_free(keys, n);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ks_generate(p, "k", &h, pub, kid, &d), RCPT_E_INVAL);
	CU_ASSERT(contains(&d, "needs a key directory"));
	rcpt_ks_unload(p);
	free(dir);
}

static void
test_soft_production(void)
{
	struct logbook book = {0};
	struct rcpt_ks_opts o = {.log = record, .log_ctx = &book};
	struct rcpt_ks_provider *p = NULL;
	struct rcpt_ks_key *keys = NULL;
	struct rcpt_diag d;
	size_t n = 0;

	CU_ASSERT_FATAL(rcpt_ks_load("software", NULL, 0, &p, NULL) == RCPT_OK);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_open(p, tmp, 1, &o, &d), RCPT_E_CONFIG);
	CU_ASSERT_STRING_EQUAL(d.msg,
	    "provider: the software provider is for development only; "
	    "production = true forbids it");
	CU_ASSERT_EQUAL(book.n, 0);
	CU_ASSERT_EQUAL(rcpt_ks_list(p, &keys, &n, NULL), RCPT_E_INVAL);

	/* Without production it opens, and says so loudly. */
	CU_ASSERT_EQUAL(rcpt_ks_open(p, tmp, 0, &o, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(book.n, 1);
	CU_ASSERT_EQUAL(book.level, RCPT_KS_LOG_WARNING);
	CU_ASSERT_PTR_NOT_NULL(strstr(book.last, "software"));
	CU_ASSERT_PTR_NOT_NULL(strstr(book.last, "for development only"));
	rcpt_ks_unload(p);
}

/* A run of load, open, generate, list and signer; *r gets the first error. */
static void
quiet(void *ctx, int level, const char *msg)
{
	(void)ctx;
	(void)level;
	(void)msg;
}

static void
soft_round(const char *dir, int *r)
{
	struct rcpt_ks_opts o = {.log = quiet};
	struct rcpt_ks_provider *p = NULL;
	struct rcpt_ks_key *keys = NULL;
	struct rcpt_signer s;
	uint8_t pub[32];
	char kid[RCPT_KID_LEN + 1], *h = NULL;
	size_t n = 0;

	if ((*r = rcpt_ks_load("software", NULL, 0, &p, NULL)) != RCPT_OK)
		return;
	if ((*r = rcpt_ks_open(p, dir, 0, &o, NULL)) == RCPT_OK &&
	    (*r = rcpt_ks_generate(p, "k", &h, pub, kid, NULL)) == RCPT_OK &&
	    (*r = rcpt_ks_list(p, &keys, &n, NULL)) == RCPT_OK)
		*r = rcpt_ks_signer(p, h, &s, NULL);
	rcpt_ks_keys_free(keys, n);
	free(h);
	rcpt_ks_unload(p);
}

static void
test_soft_out_of_memory(void)
{
	char name[32], *dir;
	int r = RCPT_E_NOMEM;
	long i;

	/* A fresh directory each time: every generate that worked adds a key.
	 */
	for (i = 0; i < 500 && r == RCPT_E_NOMEM; i++) {
		(void)snprintf(name, sizeof(name), "oom-%ld", i);
		dir = subdir(name);
		rcpt_mem_fail_after(i);
		soft_round(dir, &r);
		rcpt_mem_fail_after(-1);
		if (r != RCPT_OK && r != RCPT_E_NOMEM) {
			fprintf(stderr, "fail after %ld: %d\n", i, r);
			CU_FAIL("allocation failure not reported as NOMEM");
		}
		free(dir);
	}
	CU_ASSERT_EQUAL(r, RCPT_OK);
	CU_ASSERT(i > 3);
}

/* Unusual providers, built from the software one */

static const struct rcpt_provider *real;

static int
sign_flipped(void *ctx, const char *handle, const uint8_t *msg_in, size_t len,
    uint8_t sig_out[64], struct rcpt_provider_msg *msg)
{
	int rc = real->sign(ctx, handle, msg_in, len, sig_out, msg);

	sig_out[10] ^= 1;
	return rc;
}

static int
health_odd(void *ctx, struct rcpt_provider_msg *msg)
{
	(void)ctx;
	memcpy(msg->text, "line\nbreak", 11);
	return 42;
}

static int
health_down(void *ctx, struct rcpt_provider_msg *msg)
{
	(void)ctx;
	(void)msg;
	return RCPT_PROVIDER_E_UNAVAILABLE;
}

static void
test_provider_replies(void)
{
	struct logbook book = {0};
	struct rcpt_ks_opts o = {.log = record, .log_ctx = &book};
	struct rcpt_ks_provider *p = NULL;
	struct rcpt_provider t;
	struct rcpt_signer s;
	struct rcpt_diag d;
	uint8_t pub[32], msg[32] = {1}, sig[64];
	char kid[RCPT_KID_LEN + 1], *h = NULL, *dir = subdir("odd");

	real = rcpt_ks_soft_table();
	t = *real;
	t.sign = sign_flipped;
	t.health = health_odd;
	CU_ASSERT_FATAL(rcpt_ks_adopt(&t, "odd", &p, NULL) == RCPT_OK);
	CU_ASSERT_FATAL(rcpt_ks_open(p, dir, 0, &o, NULL) == RCPT_OK);
	CU_ASSERT_EQUAL(book.n, 0); /* only the built-in one warns */

	/* An unknown code is a bug; control bytes do not reach the log. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_health(p, &d), RCPT_E_INTERNAL);
	CU_ASSERT_STRING_EQUAL(d.msg,
	    "provider odd: health: returned unknown code 42: line?break");

	/* A signature that does not verify never leaves the signer. */
	CU_ASSERT_FATAL(
	    rcpt_ks_generate(p, "k", &h, pub, kid, NULL) == RCPT_OK);
	CU_ASSERT_FATAL(rcpt_ks_signer(p, h, &s, NULL) == RCPT_OK);
	memset(sig, 0xaa, sizeof(sig));
	CU_ASSERT_EQUAL(s.sign(s.ctx, s.kid, msg, sig), RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT_EQUAL(sig[0] | sig[10] | sig[63], 0);
	CU_ASSERT_EQUAL(book.level, RCPT_KS_LOG_ERR);
	CU_ASSERT_PTR_NOT_NULL(strstr(book.last, "does not verify"));
	rcpt_ks_unload(p);

	t = *real;
	t.health = health_down;
	CU_ASSERT_FATAL(rcpt_ks_adopt(&t, "down", &p, NULL) == RCPT_OK);
	CU_ASSERT_FATAL(rcpt_ks_open(p, dir, 0, &o, NULL) == RCPT_OK);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_health(p, &d), RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT(contains(&d, "provider down: health"));
	rcpt_ks_unload(p);
	free(h);
	free(dir);
}

/* Data objects, shared by the software and PKCS#11 tests */

static void
check_data(struct rcpt_ks_provider *p)
{
	char long65[66];
	const char *const bad[] = {
	    "", "a/b", "a~b", "a b", "..\x01", "n\xc3\xa9", long65};
	uint8_t big[RCPT_KS_DATA_MAX + 1], buf[RCPT_KS_DATA_MAX];
	struct rcpt_diag d;
	size_t len = 99, i;

	memset(long65, 'x', 65);
	long65[65] = '\0';
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ks_data_read(p, "anchor", buf, sizeof(buf), &len, &d),
	    RCPT_E_NOT_FOUND);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT(contains(&d, "data_read"));

	/* Write, read, overwrite, read. */
	CU_ASSERT_EQUAL(
	    rcpt_ks_data_write(p, "anchor", (const uint8_t *)"first", 5, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_ks_data_read(p, "anchor", buf, sizeof(buf), &len, NULL),
	    RCPT_OK);
	CU_ASSERT(len == 5 && memcmp(buf, "first", 5) == 0);
	CU_ASSERT_EQUAL(rcpt_ks_data_write(p, "anchor",
	                    (const uint8_t *)"the second", 10, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_ks_data_read(p, "anchor", buf, sizeof(buf), &len, NULL),
	    RCPT_OK);
	CU_ASSERT(len == 10 && memcmp(buf, "the second", 10) == 0);

	/* Too small a buffer says how much is needed. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ks_data_read(p, "anchor", buf, 3, &len, &d), RCPT_E_TOO_LARGE);
	CU_ASSERT_EQUAL(len, 10);
	CU_ASSERT(contains(&d, "data_read"));

	/* The limit is accepted, one byte more is refused. */
	memset(big, 0x5a, sizeof(big));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_data_write(p, "anchor", big, sizeof(big), &d),
	    RCPT_E_TOO_LARGE);
	CU_ASSERT(contains(&d, "data: value longer than"));
	CU_ASSERT_EQUAL(
	    rcpt_ks_data_write(p, "anchor", big, RCPT_KS_DATA_MAX, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_ks_data_read(p, "anchor", buf, sizeof(buf), &len, NULL),
	    RCPT_OK);
	CU_ASSERT(
	    len == RCPT_KS_DATA_MAX && memcmp(buf, big, RCPT_KS_DATA_MAX) == 0);

	/* Empty values, and every allowed character in a name. */
	CU_ASSERT_EQUAL(
	    rcpt_ks_data_write(p, "Az09._:-", NULL, 0, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_ks_data_read(p, "Az09._:-", NULL, 0, &len, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(len, 0);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rcpt_diag_clear(&d);
		CU_ASSERT_EQUAL(
		    rcpt_ks_data_write(p, bad[i], buf, 1, &d), RCPT_E_INVAL);
		CU_ASSERT(contains(&d, "name: must be 1 to 64 bytes"));
		rcpt_diag_clear(&d);
		CU_ASSERT_EQUAL(
		    rcpt_ks_data_read(p, bad[i], buf, sizeof(buf), &len, &d),
		    RCPT_E_INVAL);
		CU_ASSERT(contains(&d, "name: must be"));
	}
	CU_ASSERT_EQUAL(
	    rcpt_ks_data_write(p, NULL, buf, 1, NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(
	    rcpt_ks_data_write(p, "anchor", NULL, 1, NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(
	    rcpt_ks_data_read(p, "anchor", NULL, 1, &len, NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(
	    rcpt_ks_data_read(p, "anchor", buf, 1, NULL, NULL), RCPT_E_INVAL);
	/* A 64-byte name is fine. */
	CU_ASSERT_EQUAL(
	    rcpt_ks_data_write(p, long65 + 1, buf, 1, NULL), RCPT_OK);
}

/* Only <name>.anchor, mode 0600, is left in @p dir: no temporary file. */
static void
check_data_files(const char *dir)
{
	char path[4096];
	struct stat st;
	DIR *dp;
	struct dirent *e;
	int strays = 0;

	(void)snprintf(path, sizeof(path), "%s/anchor.anchor", dir);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0600);
	CU_ASSERT_EQUAL(st.st_size, RCPT_KS_DATA_MAX);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dp = opendir(dir));
	while ((e = readdir(dp)) != NULL)
		if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 &&
		    strcmp(e->d_name, "..") != 0)
			strays++;
	(void)closedir(dp);
	CU_ASSERT_EQUAL(strays, 0);
}

static void
test_soft_data(void)
{
	struct logbook book = {0};
	struct rcpt_ks_provider *p;
	struct rcpt_ks_key *keys = NULL;
	uint8_t buf[16];
	char *dir = subdir("data"), file[4096];
	size_t len = 0, n = 9;

	p = open_soft(dir, &book);
	check_data(p);
	/* Anchor files are not key files. */
	CU_ASSERT_EQUAL(rcpt_ks_list(p, &keys, &n, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(n, 0);
	rcpt_ks_close(p);
	CU_ASSERT_EQUAL(
	    rcpt_ks_data_read(p, "anchor", buf, sizeof(buf), &len, NULL),
	    RCPT_E_INVAL);
	rcpt_ks_unload(p);
	check_data_files(dir);
	free(dir);

	/* With a single key file the values sit beside it. */
	dir = subdir("data-single");
	(void)snprintf(file, sizeof(file), "%s/dev.key", dir);
	CU_ASSERT_FATAL(rcpt_softkey_generate(file, NULL) == RCPT_OK);
	p = open_soft(file, &book);
	check_data(p);
	rcpt_ks_unload(p);
	check_data_files(dir);
	free(dir);
}

/* Signer adapter, shared by the software and PKCS#11 tests */

static void
check_signer(struct rcpt_ks_provider *p, const char *handle)
{
	static const uint8_t root[RCPT_HASH_LEN] = {7, 7, 7};
	struct rcpt_receipt_fields f;
	struct rcpt_checkpoint cp = {0};
	struct rcpt_receipt r;
	struct rcpt_signer s, again;
	uint8_t pub[32], msg[32] = {0}, sig[64];
	char kid[RCPT_KID_LEN + 1], *note = NULL;

	CU_ASSERT_EQUAL_FATAL(rcpt_ks_signer(p, handle, &s, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_ks_public_key(p, handle, pub, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(s.pub, pub, 32), 0);
	CU_ASSERT_EQUAL_FATAL(rcpt_jwk_kid(pub, kid), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(s.kid, kid);
	/* Asking again reuses the binding. */
	CU_ASSERT_EQUAL(rcpt_ks_signer(p, handle, &again, NULL), RCPT_OK);
	CU_ASSERT_PTR_EQUAL(again.ctx, s.ctx);

	/* A receipt. */
	memset(&f, 0, sizeof(f));
	f.chain = "main";
	f.ts = "2025-01-01T00:00:00.000Z";
	f.type = "test.event";
	f.submitter = "alice";
	f.kid = s.kid;
	rcpt_receipt_init(&r);
	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_build(&f, &r, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_sign(&r, &s), RCPT_OK);
	CU_ASSERT(r.has_signature);
	CU_ASSERT_EQUAL(rcpt_ed25519_verify(pub, r.entry_hash,
	                    sizeof(r.entry_hash), r.signature),
	    RCPT_OK);
	rcpt_receipt_clear(&r);

	/* A checkpoint, whose signature covers the whole note body. */
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_checkpoint_sign("example.com/log", "main", 1, root, &s, &note),
	    RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_checkpoint_parse(note, strlen(note), &cp, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_checkpoint_verify(&cp, pub), RCPT_OK);
	rcpt_checkpoint_clear(&cp);
	free(note);

	/* Only its own kid. */
	CU_ASSERT_EQUAL(
	    s.sign(
	        s.ctx, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", msg, sig),
	    RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT_EQUAL(s.sign(s.ctx, NULL, msg, sig), RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT_EQUAL(s.sign(s.ctx, s.kid, msg, sig), RCPT_OK);
	CU_ASSERT_EQUAL(rcpt_ed25519_verify(pub, msg, 32, sig), RCPT_OK);
}

static void
test_soft_signer(void)
{
	struct logbook book = {0};
	struct rcpt_ks_provider *p;
	struct rcpt_signer s;
	struct rcpt_diag d;
	uint8_t pub[32], msg[32] = {0}, sig[64];
	char kid[RCPT_KID_LEN + 1], *h = NULL, *dir = subdir("signer");

	p = open_soft(dir, &book);
	CU_ASSERT_FATAL(
	    rcpt_ks_generate(p, "k", &h, pub, kid, NULL) == RCPT_OK);
	check_signer(p, h);

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_signer(p, "nope", &s, &d), RCPT_E_NOT_FOUND);
	CU_ASSERT(contains(&d, "handle"));

	/* After close the signer stays safe to call and says why it fails. */
	CU_ASSERT_FATAL(rcpt_ks_signer(p, h, &s, NULL) == RCPT_OK);
	rcpt_ks_close(p);
	book.n = 0;
	CU_ASSERT_EQUAL(s.sign(s.ctx, s.kid, msg, sig), RCPT_E_KEY_UNAVAILABLE);
	CU_ASSERT_EQUAL(book.n, 1);
	CU_ASSERT_EQUAL(book.level, RCPT_KS_LOG_ERR);
	CU_ASSERT_PTR_NOT_NULL(strstr(book.last, "not open"));
	rcpt_ks_unload(p);
	free(h);
	free(dir);
}

/* PKCS#11 plugin on SoftHSM */

static char config[8192];

static void
make_config(const char *extra, const char *pin_file)
{
	(void)snprintf(config, sizeof(config),
	    "module=%s;token=%s;pin-file=%s;sessions=2%s",
	    rcpt_test_softhsm_module(), tok.uri, pin_file, extra);
}

static struct rcpt_ks_provider *
load_pkcs11(void)
{
	struct rcpt_ks_provider *p = NULL;
	struct rcpt_diag d;
	char *dir;

	CU_ASSERT_FATAL(tok_status == 0);
	dir = subdir("providers");
	/* Loaded by bare name from a private copy (see testlib.h). */
	CU_ASSERT_FATAL(rcpt_test_plugin_copy(PKCS11_SO, dir) == 0);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_load("pkcs11", dir, 0, &p, &d), RCPT_OK);
	if (d.set)
		fprintf(stderr, "load: %s\n", d.msg);
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_STRING_EQUAL(rcpt_ks_name(p), "pkcs11");
	free(dir);
	return p;
}

/* A libhsm handle on the test token, to look behind the provider. */
static struct rcpt_hsm *
open_token(void)
{
	struct rcpt_hsm_config c = {
	    .module = rcpt_test_softhsm_module(),
	    .token_uri = tok.uri,
	    .pin_file = tok.user_pin_file,
	    .pin_owner = geteuid(),
	    .sessions = 1,
	};
	struct rcpt_hsm *h = NULL;

	CU_ASSERT_EQUAL(rcpt_hsm_open(&c, &h, NULL), RCPT_OK);
	return h;
}

/* Both halves of each pair carry the kid as CKA_LABEL and CKA_ID. */
static void
check_token_names(const char *kid1, const char *kid2)
{
	static const CK_OBJECT_CLASS cls[] = {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY};
	const char *kids[] = {kid1, kid2};
	CK_ATTRIBUTE_TYPE types[] = {CKA_LABEL, CKA_ID};
	struct rcpt_hsm *h = open_token();
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE o;
	CK_BYTE buf[128] = {0};
	CK_RV rv;
	size_t i, j, k;

	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT_EQUAL_FATAL(rcpt_hsm_session_take(h, &s, NULL), RCPT_OK);
	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++) {
			CU_ASSERT_EQUAL_FATAL(
			    rcpt_hsm_find(h, s, cls[j], kids[i], &o, &rv, NULL),
			    RCPT_OK);
			for (k = 0; k < 2; k++) {
				CK_ATTRIBUTE a = {types[k], buf, sizeof(buf)};

				CU_ASSERT_EQUAL(
				    h->fn->C_GetAttributeValue(s, o, &a, 1),
				    CKR_OK);
				CU_ASSERT(
				    a.ulValueLen == RCPT_KID_LEN &&
				    memcmp(buf, kids[i], RCPT_KID_LEN) == 0);
			}
		}
	rcpt_hsm_session_put(h, s, CKR_OK);
	rcpt_hsm_close(h);
}

static void
test_p11_generate_list_sign(void)
{
	static const uint8_t text[] = "signed on the token";
	struct rcpt_ks_provider *p = load_pkcs11();
	struct rcpt_ks_key *keys = NULL;
	struct rcpt_diag d;
	uint8_t pub[32], pub2[32], sig[64];
	char kid[RCPT_KID_LEN + 1], kid2[RCPT_KID_LEN + 1], want[512];
	char *h = NULL, *h2 = NULL;
	size_t n = 0, i, found = 0;

	make_config("", tok.user_pin_file);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_open(p, config, 1, NULL, &d), RCPT_OK);
	if (d.set)
		fprintf(stderr, "open: %s\n", d.msg);
	CU_ASSERT_EQUAL(rcpt_ks_health(p, NULL), RCPT_OK);

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_ks_generate(p, "k1", &h, pub, kid, &d), RCPT_OK);
	/* The key is named by its kid, whatever label was suggested. */
	(void)snprintf(
	    want, sizeof(want), "%s;object=%s;type=private", tok.uri, kid);
	CU_ASSERT_STRING_EQUAL(h, want);
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_ks_generate(p, "k1", &h2, pub2, kid2, &d), RCPT_OK);
	CU_ASSERT_STRING_NOT_EQUAL(kid, kid2);
	free(h2);
	h2 = NULL;

	CU_ASSERT_EQUAL_FATAL(rcpt_ks_list(p, &keys, &n, NULL), RCPT_OK);
	for (i = 0; i < n; i++)
		if (strcmp(keys[i].handle, h) == 0) {
			found++;
			CU_ASSERT_STRING_EQUAL(keys[i].kid, kid);
			CU_ASSERT_EQUAL(memcmp(keys[i].pub, pub, 32), 0);
		}
	CU_ASSERT_EQUAL(found, 1);
	rcpt_ks_keys_free(keys, n);

	CU_ASSERT_EQUAL(rcpt_ks_public_key(p, h, pub2, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(memcmp(pub, pub2, 32), 0);
	CU_ASSERT_EQUAL(
	    rcpt_ks_sign(p, h, text, sizeof(text), sig, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_ed25519_verify(pub, text, sizeof(text), sig), RCPT_OK);

	check_signer(p, h);

	/* Handles of another token or object are not found. */
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ks_sign(p, "pkcs11:token=elsewhere;object=k1;type=private",
	        text, sizeof(text), sig, &d),
	    RCPT_E_NOT_FOUND);
	CU_ASSERT(contains(&d, "provider pkcs11: sign: handle"));
	(void)snprintf(
	    want, sizeof(want), "%s;object=k9;type=private", tok.uri);
	CU_ASSERT_EQUAL(
	    rcpt_ks_public_key(p, want, pub2, NULL), RCPT_E_NOT_FOUND);
	rcpt_ks_unload(p);
	free(h);
	check_token_names(kid, kid2);
}

/* A pair left under a temporary label by a crash is never used. */
static void
test_p11_orphan_skipped(void)
{
	static const char orphan[] = "receiptd-new-0123456789abcdef";
	struct rcpt_ks_provider *p;
	struct rcpt_ks_key *keys = NULL;
	struct rcpt_hsm *h = open_token();
	struct rcpt_diag d;
	uint8_t pub[32], sig[64];
	char handle[512];
	size_t n = 0, i;

	CU_ASSERT_FATAL(h != NULL);
	CU_ASSERT_EQUAL_FATAL(rcpt_hsm_generate(h, orphan, pub, NULL), RCPT_OK);
	rcpt_hsm_close(h);

	p = load_pkcs11();
	make_config("", tok.user_pin_file);
	CU_ASSERT_EQUAL_FATAL(rcpt_ks_open(p, config, 0, NULL, NULL), RCPT_OK);
	CU_ASSERT_EQUAL_FATAL(rcpt_ks_list(p, &keys, &n, NULL), RCPT_OK);
	for (i = 0; i < n; i++)
		CU_ASSERT_PTR_NULL(strstr(keys[i].handle, "receiptd-new-"));
	rcpt_ks_keys_free(keys, n);
	(void)snprintf(handle, sizeof(handle), "%s;object=%s;type=private",
	    tok.uri, orphan);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_ks_sign(p, handle, pub, 32, sig, &d), RCPT_E_NOT_FOUND);
	CU_ASSERT(contains(&d, "never finished"));
	CU_ASSERT_EQUAL(
	    rcpt_ks_public_key(p, handle, pub, NULL), RCPT_E_NOT_FOUND);
	rcpt_ks_unload(p);
}

static void
test_p11_data(void)
{
	struct rcpt_ks_provider *p = load_pkcs11();
	uint8_t buf[16];
	size_t len = 0;

	make_config("", tok.user_pin_file);
	CU_ASSERT_EQUAL_FATAL(rcpt_ks_open(p, config, 0, NULL, NULL), RCPT_OK);
	check_data(p);
	rcpt_ks_close(p);
	/* The value lives on the token: a new session reads it back. */
	CU_ASSERT_EQUAL_FATAL(rcpt_ks_open(p, config, 0, NULL, NULL), RCPT_OK);
	CU_ASSERT_EQUAL(
	    rcpt_ks_data_read(p, "Az09._:-", buf, sizeof(buf), &len, NULL),
	    RCPT_OK);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_EQUAL(rcpt_ks_data_read(p, "anchor", buf, 4, &len, NULL),
	    RCPT_E_TOO_LARGE);
	CU_ASSERT_EQUAL(len, RCPT_KS_DATA_MAX);
	rcpt_ks_unload(p);
}

static void
test_p11_bad_config(void)
{
	static const struct {
		const char *config, *words;
	} bad[] = {
	    {"", "config: empty"},
	    {"module=x;token=pkcs11:token=a;pin-file=/p;colour=blue",
	        "unknown key \"colour\""},
	    {"module=x;token=pkcs11:token=a;object=k;pin-file=/p",
	        "unknown key \"object\""},
	    {"module=x;token=pkcs11:token=a;pin-file=/p;PIN=1234",
	        "config: unknown key (known"},
	    {"token=pkcs11:token=a;pin-file=/p", "config: module: required"},
	    {"module=x;pin-file=/p", "config: token: required"},
	    {"module=x;token=pkcs11:token=a", "config: pin-file: required"},
	    {"module=x;module=y;token=pkcs11:token=a;pin-file=/p",
	        "module: given twice"},
	    {"module=;token=pkcs11:token=a;pin-file=/p", "module: empty"},
	    {"module=x;token=token=a;pin-file=/p", "must be a pkcs11: URI"},
	    {"module=x;token=pkcs11:token=a?pin-value=1;pin-file=/p",
	        "query is not allowed"},
	    {"module=x;token=pkcs11:token=a;pin-file=/p;sessions=0",
	        "sessions: must be"},
	    {"module=x;token=pkcs11:token=a;pin-file=/p;sessions=65",
	        "sessions: must be"},
	    {"module=x;token=pkcs11:token=a;pin-file=/p;sessions=07",
	        "sessions: must be"},
	    {"module=x;token=pkcs11:token=a;pin-file=/p;sessions", "key=value"},
	};
	struct rcpt_ks_provider *p = load_pkcs11();
	struct rcpt_diag d;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rcpt_diag_clear(&d);
		CU_ASSERT_EQUAL(
		    rcpt_ks_open(p, bad[i].config, 0, NULL, &d), RCPT_E_CONFIG);
		CU_ASSERT(contains(&d, "provider pkcs11: open: config"));
		if (!contains(&d, bad[i].words)) {
			fprintf(stderr, "case %zu: %s\n", i, d.msg);
			CU_FAIL("message does not name the rule");
		}
	}
	/* Token attributes after token= stay in the URI. */
	make_config(";model=SoftHSM%20v2", tok.user_pin_file);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_open(p, config, 0, NULL, &d), RCPT_E_CONFIG);
	CU_ASSERT(contains(&d, "unknown key \"model\""));
	(void)snprintf(config, sizeof(config),
	    "module=%s;token=%s;model=SoftHSM%%20v2;pin-file=%s",
	    rcpt_test_softhsm_module(), tok.uri, tok.user_pin_file);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_open(p, config, 0, NULL, &d), RCPT_OK);
	if (d.set)
		fprintf(stderr, "open: %s\n", d.msg);
	rcpt_ks_unload(p);
}

static void
test_p11_wrong_pin(void)
{
	struct rcpt_ks_provider *p = load_pkcs11();
	struct rcpt_diag d;
	char pin[4096];

	(void)snprintf(pin, sizeof(pin), "%s/wrong.pin", tmp);
	CU_ASSERT_FATAL(rcpt_test_write_file(pin, "00000000", 8) == 0);
	make_config("", pin);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_ks_open(p, config, 0, NULL, &d), RCPT_E_DENIED);
	CU_ASSERT(contains(&d, "provider pkcs11: open: "));
	CU_ASSERT_EQUAL(rcpt_ks_health(p, NULL), RCPT_E_INVAL);
	rcpt_ks_unload(p);
}

static CU_TestInfo loader_tests[] = {
    {"ABI major mismatch refused", test_abi_major_refused},
    {"missing entry symbol refused", test_missing_symbol},
    {"not a shared object, or absent", test_not_a_shared_object},
    {"missing operation refused", test_null_op_refused},
    {"table header checks", test_table_header_refused},
    {"bad plugin name refused", test_bad_name_refused},
    {"relative path refused", test_relative_path_refused},
    {"writable plugin or directory refused", test_file_mode_refused},
    {"symbolic link to a plugin refused", test_symlink_refused},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo soft_tests[] = {
    {"generate, list, sign", test_soft_generate_list_sign},
    {"refusals", test_soft_refusals},
    {"single key file", test_soft_single_file},
    {"production refuses it, otherwise it warns", test_soft_production},
    {"provider replies translated", test_provider_replies},
    {"signer signs receipts and checkpoints", test_soft_signer},
    {"data objects in files", test_soft_data},
    {"allocation failures", test_soft_out_of_memory},
    CU_TEST_INFO_NULL,
};

static CU_TestInfo pkcs11_tests[] = {
    {"generate, list, sign, health, signer", test_p11_generate_list_sign},
    {"keys named by kid; orphans skipped", test_p11_orphan_skipped},
    {"data objects on the token", test_p11_data},
    {"bad config refused", test_p11_bad_config},
    {"wrong PIN denied", test_p11_wrong_pin},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "loader",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = loader_tests},
    {.pName = "software provider",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = soft_tests},
    {.pName = "pkcs11 provider",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = pkcs11_tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return rcpt_test_token_main(
	    suites, 2, "receiptd-ks", &tok, &tok_status);
}
