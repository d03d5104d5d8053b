/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the token PIN from its pin-source file.  All checks are made on
 * the open descriptor (fstat), so the file that was checked is the file
 * that is read.  The PIN buffer is allocated once per rcpt_hsm, on a page
 * of its own, and holds a PIN only between reading and C_Login.  This
 * file does not talk to the token and does not cache PINs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/err.h"
#include "src/mem.h"

#include "pin.h"

#define PIN_CAP (RCPT_HSM_PIN_MAX + 2) /* PIN, newline, one byte to spare */

int
rcpt_hsm_pin_init(struct rcpt_hsm_pin *pin)
{
	long ps = sysconf(_SC_PAGESIZE);
	uintptr_t p;

	memset(pin, 0, sizeof(*pin));
	pin->page = ps > 0 ? (size_t)ps : 4096;
	if ((pin->mem = rcpt_malloc(2 * pin->page)) == NULL)
		return RCPT_E_NOMEM;
	p = ((uintptr_t)pin->mem + pin->page - 1) & ~(uintptr_t)(pin->page - 1);
	pin->buf = (unsigned char *)p;
	rcpt_memzero(pin->buf, pin->page);
	/* Best effort: without CAP_IPC_LOCK or RLIMIT_MEMLOCK it may fail. */
	pin->locked = mlock(pin->buf, pin->page) == 0;
#ifdef MADV_DONTDUMP
	(void)madvise(pin->buf, pin->page, MADV_DONTDUMP);
#endif
	return RCPT_OK;
}

void
rcpt_hsm_pin_clear(struct rcpt_hsm_pin *pin)
{
	if (pin == NULL || pin->mem == NULL)
		return;
	rcpt_memzero(pin->buf, pin->page);
	if (pin->locked)
		(void)munlock(pin->buf, pin->page);
	free(pin->mem);
	memset(pin, 0, sizeof(*pin));
}

void
rcpt_hsm_pin_wipe(struct rcpt_hsm_pin *pin)
{
	if (pin == NULL || pin->buf == NULL)
		return;
	rcpt_memzero(pin->buf, PIN_CAP);
	pin->len = 0;
}

/* Checks what the descriptor points at against the pin-file rules. */
static int
check_file(int fd, const char *path, uid_t owner, struct stat *st_out,
    struct rcpt_diag *diag)
{
	struct stat st;
	mode_t mode;

	if (fstat(fd, &st) != 0)
		return rcpt_diag(
		    diag, RCPT_E_IO, "pin file %s: cannot stat", path);
	if (st_out != NULL)
		*st_out = st;
	if (!S_ISREG(st.st_mode))
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "pin file %s: must be a regular file", path);
	if (st.st_uid != owner)
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "pin file %s: must be owned by uid %lu", path,
		    (unsigned long)owner);
	mode = st.st_mode & 07777;
	if (mode != 0400 && mode != 0600)
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "pin file %s: mode must be 0400 or 0600", path);
	return RCPT_OK;
}

int
rcpt_hsm_pin_read(struct rcpt_hsm_pin *pin, const char *path, uid_t owner,
    struct stat *st_out, struct rcpt_diag *diag)
{
	size_t len = 0;
	ssize_t n;
	int fd, r = RCPT_E_INTERNAL;

	if (st_out != NULL)
		memset(st_out, 0, sizeof(*st_out));
	if (pin == NULL || pin->buf == NULL || path == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "pin file: missing");
	rcpt_hsm_pin_wipe(pin);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ELOOP)
			return rcpt_diag(diag, RCPT_E_CONFIG,
			    "pin file %s: must not be a symbolic link", path);
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "pin file %s: cannot open (%s)", path, strerror(errno));
	}
	if ((r = check_file(fd, path, owner, st_out, diag)) != RCPT_OK)
		goto out;
	while (len < PIN_CAP) {
		n = read(fd, pin->buf + len, PIN_CAP - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = rcpt_diag(
			    diag, RCPT_E_IO, "pin file %s: read failed", path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > 0 && pin->buf[len - 1] == '\n')
		len--;
	if (len > RCPT_HSM_PIN_MAX) {
		r = rcpt_diag(diag, RCPT_E_CONFIG,
		    "pin file %s: longer than %d bytes", path,
		    RCPT_HSM_PIN_MAX);
		goto out;
	}
	if (len == 0) {
		r = rcpt_diag(diag, RCPT_E_CONFIG, "pin file %s: empty", path);
		goto out;
	}
	pin->len = len;
	r = RCPT_OK;
out:
	if (r != RCPT_OK)
		rcpt_hsm_pin_wipe(pin);
	(void)close(fd);
	return r;
}

int
rcpt_hsm_pin_source_path(
    const char *source, const char **path_out, struct rcpt_diag *diag)
{
	const char *p = source;

	*path_out = NULL;
	if (p == NULL)
		return rcpt_diag(diag, RCPT_E_CONFIG, "pin-source: missing");
	if (strncmp(p, "file://", 7) == 0)
		p += 7;
	else if (strncmp(p, "file:", 5) == 0)
		p += 5;
	if (p[0] != '/')
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "pin-source: must be an absolute path or a file: URI");
	*path_out = p;
	return RCPT_OK;
}
