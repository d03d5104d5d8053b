/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Test fixture: a SoftHSM2 token in a temporary directory, made with
 * rcpt_hsm_softhsm_init_module() on the module the tests load
 * (SOFTHSM_MODULE), so token creation goes through PKCS#11 and no PIN is
 * passed on a command line.  Removing the fixture removes the directory.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hsm/hsm.h"
#include "src/err.h"

#include "softhsm.h"
#include "testlib.h"

#ifndef SOFTHSM_MODULE
#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#endif

/*
 * SoftHSM 2.6.1 leaks an ASN1 string in every EdDSA C_SignInit.  Our
 * suppressions name libsofthsm2, but ASan's default fast unwinder stops
 * inside libcrypto (no frame pointers) and never reaches the SoftHSM
 * frame, so the leak would look like one of ours.  The slow unwinder sees
 * the whole stack; ASAN_OPTIONS from the environment still take
 * precedence.
 */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RCPT_TEST_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define RCPT_TEST_ASAN 1
#endif
#ifdef RCPT_TEST_ASAN
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0:malloc_context_size=16";
}
#endif

const char *
rcpt_test_softhsm_module(void)
{
	return SOFTHSM_MODULE;
}

static char *
join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/* "pkcs11:token=" and @p label, percent-encoding all but unreserved. */
static char *
make_uri(const char *label)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *c;
	char *uri, *o;

	if ((uri = malloc(sizeof("pkcs11:token=") + 3 * strlen(label))) == NULL)
		return NULL;
	o = uri + sprintf(uri, "pkcs11:token=");
	for (c = (const unsigned char *)label; *c != '\0'; c++) {
		if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		    (*c >= '0' && *c <= '9') || strchr("-._~", *c) != NULL) {
			*o++ = (char)*c;
			continue;
		}
		*o++ = '%';
		*o++ = hex[*c >> 4];
		*o++ = hex[*c & 15];
	}
	*o = '\0';
	return uri;
}

int
rcpt_test_token_new(struct rcpt_test_token *t, const char *label)
{
	struct rcpt_diag d;
	char *tmp, abs[PATH_MAX];
	int r;

	memset(t, 0, sizeof(*t));
	if (access(SOFTHSM_MODULE, R_OK) != 0) {
		fprintf(stderr, "SoftHSM2 not installed (%s): skipping\n",
		    SOFTHSM_MODULE);
		return RCPT_TEST_SKIP;
	}
	if ((tmp = rcpt_test_mkdtemp()) == NULL)
		return RCPT_E_IO;
	/* SOFTHSM2_CONF and the token store need an absolute path. */
	if (realpath(tmp, abs) == NULL) {
		rcpt_test_rmdir(tmp);
		free(tmp);
		return RCPT_E_IO;
	}
	free(tmp);
	if ((t->dir = strdup(abs)) == NULL)
		return RCPT_E_NOMEM;
	t->conf = join(abs, "softhsm2.conf");
	t->user_pin_file = join(abs, "user.pin");
	t->so_pin_file = join(abs, "so.pin");
	t->label = strdup(label);
	t->uri = make_uri(label);
	if (t->conf == NULL || t->user_pin_file == NULL ||
	    t->so_pin_file == NULL || t->label == NULL || t->uri == NULL)
		return RCPT_E_NOMEM;
	rcpt_diag_clear(&d);
	r = rcpt_hsm_softhsm_init_module(SOFTHSM_MODULE, abs, label, &d);
	if (r != RCPT_OK) {
		fprintf(stderr, "test token: %s\n", rcpt_diag_msg(&d, r));
		return r;
	}
	return 0;
}

void
rcpt_test_token_free(struct rcpt_test_token *t)
{
	if (t == NULL)
		return;
	if (t->dir != NULL)
		rcpt_test_rmdir(t->dir);
	free(t->dir);
	free(t->conf);
	free(t->user_pin_file);
	free(t->so_pin_file);
	free(t->label);
	free(t->uri);
	memset(t, 0, sizeof(*t));
}

int
rcpt_test_token_main(CU_SuiteInfo *suites, size_t p11_suite, const char *label,
    struct rcpt_test_token *t, int *status_out)
{
	int r;

	/* One token for the whole program (SoftHSM keeps global state). */
	*status_out = rcpt_test_token_new(t, label);
	if (*status_out == RCPT_TEST_SKIP)
		suites[p11_suite] = (CU_SuiteInfo)CU_SUITE_INFO_NULL;
	else if (*status_out != 0)
		fprintf(stderr, "softhsm token: error %d\n", *status_out);
	r = rcpt_test_run(suites);
	rcpt_test_token_free(t);
	if (r == 0 && *status_out == RCPT_TEST_SKIP) {
		fprintf(stderr, "SoftHSM missing: PKCS#11 tests skipped\n");
		return RCPT_TEST_SKIP;
	}
	return r;
}
