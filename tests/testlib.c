/* SPDX-License-Identifier: Apache-2.0 */
/* Test scaffolding; see testlib.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "encode.h"
#include "jcs.h"
#include "receipt.h"
#include "signer.h"
#include "testlib.h"

int
rcpt_test_run(CU_SuiteInfo *suites)
{
	unsigned int failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if (CU_register_suites(suites) != CUE_SUCCESS) {
		fprintf(stderr, "CUnit: %s\n", CU_get_error_msg());
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS) {
		CU_cleanup_registry();
		return 1;
	}
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	if (CU_get_number_of_tests_run() == 0)
		failed = 1;
	CU_cleanup_registry();
	return failed == 0 ? 0 : 1;
}

const char *
rcpt_test_vectors_dir(void)
{
	const char *d = getenv("VECTORS_DIR");

	return d != NULL && *d != '\0' ? d : VECTORS_DIR;
}

char *
rcpt_test_read_file(const char *path, size_t *len_out)
{
	FILE *f;
	char *buf = NULL, *nb;
	size_t len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			if ((nb = realloc(buf, cap + 1)) == NULL) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	if (len_out != NULL)
		*len_out = len;
	return buf;
}

char *
rcpt_test_read_vector(const char *rel, size_t *len_out)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", rcpt_test_vectors_dir(), rel);
	return rcpt_test_read_file(path, len_out);
}

int
rcpt_test_write_file(const char *path, const void *p, size_t len)
{
	int fd;
	ssize_t w;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) <
	    0)
		return -1;
	w = write(fd, p, len);
	if (close(fd) != 0 || w < 0 || (size_t)w != len)
		return -1;
	return 0;
}

char *
rcpt_test_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (base == NULL || *base == '\0')
		base = "/tmp";
	if ((path = malloc(strlen(base) + 32)) == NULL)
		return NULL;
	sprintf(path, "%s/rcpt-test.XXXXXX", base);
	if (mkdtemp(path) == NULL) {
		free(path);
		return NULL;
	}
	return path;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

void
rcpt_test_rmdir(const char *dir)
{
	if (dir != NULL)
		(void)nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *
rcpt_test_path(const char *dir, const char *name)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

char *
rcpt_test_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (p != NULL)
		(void)snprintf(p, n, "%s/%s", dir, name);
	return p;
}

int
rcpt_test_copy_file(const char *from, const char *to, mode_t mode)
{
	size_t len = 0;
	char *buf = rcpt_test_read_file(from, &len);
	int r = -1;

	if (buf != NULL && rcpt_test_write_file(to, buf, len) == 0 &&
	    chmod(to, mode) == 0)
		r = 0;
	free(buf);
	return r;
}

int
rcpt_test_plugin_copy(const char *so, const char *dir)
{
	const char *base = strrchr(so, '/');
	char *to = rcpt_test_join(dir, base != NULL ? base + 1 : so);
	int r = to != NULL ? rcpt_test_copy_file(so, to, 0755) : -1;

	free(to);
	return r;
}

extern char **environ;

/* Starts @p prog with its standard streams on the three files. */
static int
spawn_wait(const char *prog, char *const *argv, const char *in, const char *out,
    const char *err, int *status_out)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int ws = 0, r = -1;

	if (posix_spawn_file_actions_init(&fa) != 0)
		return -1;
	if (posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0) == 0 &&
	    posix_spawn_file_actions_addopen(
	        &fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600) == 0 &&
	    posix_spawn_file_actions_addopen(
	        &fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600) == 0 &&
	    posix_spawn(&pid, prog, &fa, NULL, argv, environ) == 0 &&
	    waitpid(pid, &ws, 0) == pid) {
		*status_out =
		    WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
		r = 0;
	}
	posix_spawn_file_actions_destroy(&fa);
	return r;
}

int
rcpt_test_spawn(struct rcpt_test_proc *p, const char *prog, const char *dir,
    const char *in_path, const char *const *args)
{
	char *argv[RCPT_TEST_ARGS_MAX + 2];
	char *out = rcpt_test_join(dir, ".stdout");
	char *err = rcpt_test_join(dir, ".stderr");
	size_t n = 0;
	int r = -1;

	memset(p, 0, sizeof(*p));
	argv[n++] = (char *)prog;
	while (args[n - 1] != NULL && n <= RCPT_TEST_ARGS_MAX) {
		argv[n] = (char *)args[n - 1];
		n++;
	}
	argv[n] = NULL;
	if (args[n - 1] != NULL || out == NULL || err == NULL)
		goto out;
	if (spawn_wait(prog, argv, in_path != NULL ? in_path : "/dev/null", out,
	        err, &p->status) != 0)
		goto out;
	p->out = rcpt_test_read_file(out, &p->out_len);
	p->err = rcpt_test_read_file(err, NULL);
	if (p->out != NULL && p->err != NULL)
		r = 0;
out:
	free(err);
	free(out);
	return r;
}

void
rcpt_test_proc_clear(struct rcpt_test_proc *p)
{
	free(p->out);
	free(p->err);
	memset(p, 0, sizeof(*p));
}

int
rcpt_test_sanitizer_env(void)
{
	const char *old = getenv("ASAN_OPTIONS");
	char asan[2048], lsan[4096];

	(void)snprintf(asan, sizeof(asan),
	    "%s%sfast_unwind_on_malloc=0:malloc_context_size=16",
	    old != NULL ? old : "", old != NULL && old[0] != '\0' ? ":" : "");
	if (setenv("ASAN_OPTIONS", asan, 1) != 0)
		return -1;
	if (getenv("LSAN_OPTIONS") != NULL)
		return 0;
	(void)snprintf(
	    lsan, sizeof(lsan), "suppressions=%s/../lsan.supp", VECTORS_DIR);
	return setenv("LSAN_OPTIONS", lsan, 1);
}

/* Receipt lines */

void
rcpt_test_lines_keep(struct rcpt_test_lines *L, const struct rcpt_receipt *r)
{
	char *s = NULL;
	size_t n;

	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_serialize(r, &s, &n), RCPT_OK);
	CU_ASSERT_FATAL(L->n < RCPT_TEST_LINES_MAX);
	L->l[L->n++] = s;
}

void
rcpt_test_lines_free(struct rcpt_test_lines *L)
{
	size_t i;

	for (i = 0; i < L->n; i++)
		free(L->l[i]);
	L->n = 0;
}

void
rcpt_test_lines_copy(
    struct rcpt_test_lines *L, const struct rcpt_test_lines *from, size_t to)
{
	size_t i;

	L->n = 0;
	for (i = 0; i < (to == 0 ? from->n : to); i++) {
		L->l[i] = strdup(from->l[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(L->l[i]);
		L->n++;
	}
}

char *
rcpt_test_lines_join(const struct rcpt_test_lines *L)
{
	struct rcpt_buf b = {0};
	size_t i;

	for (i = 0; i < L->n; i++) {
		CU_ASSERT_EQUAL_FATAL(
		    rcpt_buf_append(&b, L->l[i], strlen(L->l[i])), RCPT_OK);
		CU_ASSERT_EQUAL_FATAL(rcpt_buf_append(&b, "\n", 1), RCPT_OK);
	}
	CU_ASSERT_EQUAL_FATAL(rcpt_buf_append(&b, "", 0), RCPT_OK);
	return b.p;
}

void
rcpt_test_lines_drop(struct rcpt_test_lines *L, size_t i)
{
	CU_ASSERT_FATAL(i < L->n);
	free(L->l[i]);
	memmove(&L->l[i], &L->l[i + 1], (L->n - i - 1) * sizeof(L->l[0]));
	L->n--;
}

void
rcpt_test_line_replace(
    struct rcpt_test_lines *L, size_t i, const char *from, const char *to)
{
	char *p = strstr(L->l[i], from), *n;
	size_t fl = strlen(from), tl = strlen(to), ll = strlen(L->l[i]);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	n = malloc(ll - fl + tl + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	memcpy(n, L->l[i], (size_t)(p - L->l[i]));
	memcpy(n + (p - L->l[i]), to, tl);
	strcpy(n + (p - L->l[i]) + tl, p + fl);
	free(L->l[i]);
	L->l[i] = n;
}

void
rcpt_test_line_unsign(struct rcpt_test_lines *L, size_t i)
{
	static const char key[] = ",\"signature\":\"";
	char *p = strstr(L->l[i], key);
	size_t n = sizeof(key) - 1 + 2 * RCPT_ED25519_SIG_LEN + 1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	memmove(p, p + n, strlen(p + n) + 1);
}

/* Writes the hex of @p n bytes over the value of string span @p sp. */
static void
put_hex(
    char *line, const struct rcpt_receipt_span *sp, const uint8_t *b, size_t n)
{
	char hex[2 * RCPT_ED25519_SIG_LEN + 1];

	CU_ASSERT_FATAL(sp->len == 2 * n + 2 && n <= RCPT_ED25519_SIG_LEN);
	rcpt_hex_encode(b, n, hex);
	memcpy(line + (sp->p - line) + 1, hex, 2 * n);
}

static void
scan_line(const char *line, struct rcpt_receipt_view *vw)
{
	CU_ASSERT_EQUAL_FATAL(
	    rcpt_receipt_scan(line, strlen(line), 256, vw, NULL), RCPT_OK);
}

void
rcpt_test_line_reseal(
    struct rcpt_test_lines *L, size_t i, int link, const struct rcpt_signer *s)
{
	struct rcpt_receipt_view vw, prev;
	struct rcpt_buf sv = {0};
	uint8_t h[RCPT_HASH_LEN], sig[RCPT_ED25519_SIG_LEN];
	char *line = L->l[i];

	scan_line(line, &vw);
	if (link) {
		CU_ASSERT_FATAL(i > 0);
		scan_line(L->l[i - 1], &prev);
		put_hex(
		    line, &vw.prev_hash, prev.entry_hash_raw, RCPT_HASH_LEN);
	}
	if (vw.has_data) {
		SHA256((const unsigned char *)vw.data.p, vw.data.len, h);
		put_hex(line, &vw.data_hash, h, sizeof(h));
	}
	/* The spans still point into the line, whose length is the same. */
	CU_ASSERT_EQUAL_FATAL(rcpt_receipt_view_signed(&vw, &sv), RCPT_OK);
	SHA256((const unsigned char *)sv.p, sv.len, h);
	rcpt_buf_clear(&sv);
	put_hex(line, &vw.entry_hash, h, sizeof(h));
	if (vw.has_signature && s != NULL) {
		CU_ASSERT_EQUAL_FATAL(s->sign(s->ctx, s->kid, h, sig), RCPT_OK);
		put_hex(line, &vw.signature, sig, sizeof(sig));
	}
}
