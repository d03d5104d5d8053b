/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Creating a SoftHSM2 token for development and tests: a directory with
 * its own softhsm2.conf and token store, random SO and user PINs in 0600
 * files, and a token initialised through PKCS#11 itself, so no PIN ever
 * appears on a command line.  This sets SOFTHSM2_CONF in the process and
 * is not meant for production tokens; it does not create keys.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/err.h"
#include "src/mem.h"

#include "ckr.h"
#include "hsm-int.h"

#define PIN_LEN   32
#define LABEL_LEN 32 /* CK_TOKEN_INFO.label */

struct paths {
	char tokens[PATH_MAX];
	char conf[PATH_MAX];
	char so_pin[PATH_MAX];
	char user_pin[PATH_MAX];
};

/*
 * Creates @p dir (0700), or accepts it when it is an empty directory of
 * ours that nobody else can enter: the PIN files go there, and a
 * directory others can write would let them swap the files.
 */
static int
make_dir(const char *dir, struct rcpt_diag *diag)
{
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd, empty = 1;

	if (mkdir(dir, 0700) == 0)
		return RCPT_OK;
	if (errno != EEXIST)
		return rcpt_diag(diag, RCPT_E_IO, "dir %s: cannot create (%s)",
		    dir, strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ENOTDIR || errno == ELOOP))
		return rcpt_diag(diag, RCPT_E_EXISTS,
		    "dir %s: exists and is not a directory", dir);
	if (fd < 0)
		return rcpt_diag(diag, RCPT_E_IO, "dir %s: cannot open (%s)",
		    dir, strerror(errno));
	if (fstat(fd, &st) != 0) {
		(void)close(fd);
		return rcpt_diag(diag, RCPT_E_IO, "dir %s: cannot stat", dir);
	}
	if (st.st_uid != geteuid()) {
		(void)close(fd);
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "dir %s: must be owned by the effective user", dir);
	}
	if ((st.st_mode & 077) != 0) {
		(void)close(fd);
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "dir %s: must have no group or other permissions (0700)",
		    dir);
	}
	if ((d = fdopendir(fd)) == NULL) {
		(void)close(fd);
		return rcpt_diag(diag, RCPT_E_IO, "dir %s: cannot read (%s)",
		    dir, strerror(errno));
	}
	while (empty && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	(void)closedir(d);
	if (!empty)
		return rcpt_diag(diag, RCPT_E_EXISTS,
		    "dir %s: exists and is not empty", dir);
	return RCPT_OK;
}

/* Writes a new 0600 file; never replaces one. */
static int
write_new(const char *path, const void *p, size_t len, struct rcpt_diag *diag)
{
	const char *c = p;
	ssize_t n;
	int fd, r = RCPT_OK;

	fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return rcpt_diag(diag,
		    errno == EEXIST ? RCPT_E_EXISTS : RCPT_E_IO,
		    "%s: cannot create (%s)", path, strerror(errno));
	while (len > 0) {
		n = write(fd, c, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = rcpt_diag(
			    diag, RCPT_E_IO, "%s: write failed", path);
			break;
		}
		c += n;
		len -= (size_t)n;
	}
	if (close(fd) != 0 && r == RCPT_OK)
		r = rcpt_diag(diag, RCPT_E_IO, "%s: close failed", path);
	return r;
}

/* Fills @p pin with PIN_LEN random letters and digits, without bias. */
static int
random_pin(char pin[PIN_LEN], struct rcpt_diag *diag)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                          "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char b[64];
	size_t i = 0, j;
	ssize_t n;

	while (i < PIN_LEN) {
		n = getrandom(b, sizeof(b), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rcpt_memzero(b, sizeof(b));
			return rcpt_diag(diag, RCPT_E_IO, "getrandom failed");
		}
		/* 248 = 4 * 62: larger bytes would favour the first letters. */
		for (j = 0; j < (size_t)n && i < PIN_LEN; j++)
			if (b[j] < 248)
				pin[i++] = set[b[j] % 62];
	}
	rcpt_memzero(b, sizeof(b));
	return RCPT_OK;
}

static int
make_paths(const char *dir, struct paths *p, struct rcpt_diag *diag)
{
	int a, b, c, d;

	a = snprintf(p->tokens, sizeof(p->tokens), "%s/tokens", dir);
	b = snprintf(p->conf, sizeof(p->conf), "%s/softhsm2.conf", dir);
	c = snprintf(p->so_pin, sizeof(p->so_pin), "%s/so.pin", dir);
	d = snprintf(p->user_pin, sizeof(p->user_pin), "%s/user.pin", dir);
	if (a < 0 || b < 0 || c < 0 || d < 0 || (size_t)b >= sizeof(p->conf) ||
	    (size_t)a >= sizeof(p->tokens) || (size_t)c >= sizeof(p->so_pin) ||
	    (size_t)d >= sizeof(p->user_pin))
		return rcpt_diag(diag, RCPT_E_INVAL, "dir: path too long");
	return RCPT_OK;
}

/* Writes the conf and both PIN files; the PINs stay in the buffers. */
static int
write_files(const char *dir, const struct paths *p, char so[PIN_LEN + 1],
    char user[PIN_LEN + 1], struct rcpt_diag *diag)
{
	char conf[PATH_MAX + 128];
	int n, r;

	if ((r = make_dir(dir, diag)) != RCPT_OK)
		return r;
	if (mkdir(p->tokens, 0700) != 0)
		return rcpt_diag(diag, RCPT_E_IO, "%s: cannot create (%s)",
		    p->tokens, strerror(errno));
	n = snprintf(conf, sizeof(conf),
	    "# Development token made by receiptd; not for production.\n"
	    "directories.tokendir = %s\n"
	    "objectstore.backend = file\n"
	    "log.level = ERROR\n",
	    p->tokens);
	if (n < 0 || (size_t)n >= sizeof(conf))
		return rcpt_diag(diag, RCPT_E_INVAL, "dir: path too long");
	if ((r = write_new(p->conf, conf, (size_t)n, diag)) != RCPT_OK)
		return r;
	if ((r = random_pin(so, diag)) != RCPT_OK ||
	    (r = random_pin(user, diag)) != RCPT_OK)
		return r;
	so[PIN_LEN] = '\n';
	user[PIN_LEN] = '\n';
	if ((r = write_new(p->so_pin, so, PIN_LEN + 1, diag)) != RCPT_OK ||
	    (r = write_new(p->user_pin, user, PIN_LEN + 1, diag)) != RCPT_OK)
		return r;
	return RCPT_OK;
}

/*
 * Finds a slot: the first token that is not initialised yet when
 * @p label is NULL, else the initialised token with that (padded) label.
 */
static int
find_slot(CK_FUNCTION_LIST *fn, const CK_UTF8CHAR *label, CK_SLOT_ID *out,
    struct rcpt_diag *diag)
{
	CK_SLOT_ID *slots = NULL;
	CK_TOKEN_INFO ti;
	CK_ULONG n = 0, i;
	CK_RV rv;
	int r = RCPT_E_NOT_FOUND;

	if ((rv = fn->C_GetSlotList(CK_TRUE, NULL, &n)) != CKR_OK)
		return rcpt_hsm_fail(NULL, diag, "C_GetSlotList", rv);
	if ((slots = rcpt_calloc(n > 0 ? n : 1, sizeof(*slots))) == NULL)
		return RCPT_E_NOMEM;
	if ((rv = fn->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK) {
		free(slots);
		return rcpt_hsm_fail(NULL, diag, "C_GetSlotList", rv);
	}
	for (i = 0; i < n && r == RCPT_E_NOT_FOUND; i++) {
		if (fn->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		if (label == NULL
		        ? (ti.flags & CKF_TOKEN_INITIALIZED) == 0
		        : (ti.flags & CKF_TOKEN_INITIALIZED) != 0 &&
		              memcmp(ti.label, label, LABEL_LEN) == 0) {
			*out = slots[i];
			r = RCPT_OK;
		}
	}
	free(slots);
	if (r != RCPT_OK)
		return rcpt_diag(diag, r,
		    label == NULL ? "token: no free slot to initialise"
		                  : "token: initialised token not found");
	return RCPT_OK;
}

/* C_InitToken, then C_Login as SO and C_InitPIN. */
static int
init_token(CK_FUNCTION_LIST *fn, const CK_UTF8CHAR *label, char *so, char *user,
    struct rcpt_diag *diag)
{
	CK_SESSION_HANDLE s;
	CK_SLOT_ID slot = 0;
	CK_RV rv;
	int r;

	if ((r = find_slot(fn, NULL, &slot, diag)) != RCPT_OK)
		return r;
	rv = fn->C_InitToken(
	    slot, (CK_UTF8CHAR *)so, PIN_LEN, (CK_UTF8CHAR *)label);
	if (rv != CKR_OK)
		return rcpt_hsm_fail(NULL, diag, "C_InitToken", rv);
	/* SoftHSM moves an initialised token to a new slot id. */
	if ((r = find_slot(fn, label, &slot, diag)) != RCPT_OK)
		return r;
	rv = fn->C_OpenSession(
	    slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK)
		return rcpt_hsm_fail(NULL, diag, "C_OpenSession", rv);
	if ((rv = fn->C_Login(s, CKU_SO, (CK_UTF8CHAR *)so, PIN_LEN)) != CKR_OK)
		r = rcpt_hsm_fail(NULL, diag, "C_Login", rv);
	else if ((rv = fn->C_InitPIN(s, (CK_UTF8CHAR *)user, PIN_LEN)) !=
	         CKR_OK)
		r = rcpt_hsm_fail(NULL, diag, "C_InitPIN", rv);
	if (rv != CKR_OK && r == RCPT_E_DENIED)
		r = RCPT_E_KEY_UNAVAILABLE;
	(void)fn->C_Logout(s);
	(void)fn->C_CloseSession(s);
	return r;
}

int
rcpt_hsm_softhsm_init_module(const char *module, const char *dir,
    const char *label, struct rcpt_diag *diag)
{
	CK_UTF8CHAR padded[LABEL_LEN];
	char so[PIN_LEN + 1], user[PIN_LEN + 1];
	CK_C_INITIALIZE_ARGS args;
	CK_FUNCTION_LIST *fn = NULL;
	struct paths *p = NULL;
	CK_RV rv;
	int r = RCPT_E_INTERNAL, initialized = 0;
	size_t n;

	if (dir == NULL || dir[0] != '/')
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "dir: must be an absolute path");
	if (label == NULL || (n = strlen(label)) == 0 || n > LABEL_LEN)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "label: must be 1 to %d bytes", LABEL_LEN);
	memset(padded, ' ', sizeof(padded));
	memcpy(padded, label, n);
	if ((p = rcpt_calloc(1, sizeof(*p))) == NULL)
		return RCPT_E_NOMEM;
	if ((r = make_paths(dir, p, diag)) != RCPT_OK)
		goto out;
	if ((r = write_files(dir, p, so, user, diag)) != RCPT_OK)
		goto out;
	if (setenv("SOFTHSM2_CONF", p->conf, 1) != 0) {
		r = rcpt_diag(diag, RCPT_E_NOMEM, "SOFTHSM2_CONF: cannot set");
		goto out;
	}
	if ((r = rcpt_hsm_load_module(
	         module != NULL ? module : "softhsm2", &fn, diag)) != RCPT_OK)
		goto out;
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	if ((rv = fn->C_Initialize(&args)) != CKR_OK) {
		r = rcpt_hsm_fail(NULL, diag, "C_Initialize", rv);
		goto out;
	}
	initialized = 1;
	if ((r = init_token(fn, padded, so, user, diag)) != RCPT_OK)
		goto out;
	r = RCPT_OK;
out:
	if (initialized)
		(void)fn->C_Finalize(NULL);
	if (fn != NULL)
		p11_kit_module_release(fn);
	rcpt_memzero(so, sizeof(so));
	rcpt_memzero(user, sizeof(user));
	free(p);
	return r;
}

int
rcpt_hsm_softhsm_init(
    const char *dir, const char *label, struct rcpt_diag *diag)
{
	return rcpt_hsm_softhsm_init_module(NULL, dir, label, diag);
}
