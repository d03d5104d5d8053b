/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PIN of the token user, read from a pin-source file into one fixed
 * buffer that lives on a page of its own (locked in memory when the
 * system allows) and is wiped right after each C_Login.  The file must
 * be a regular file, not a symbolic link, owned by the configured user
 * with mode 0400 or 0600.  PINs never come from argv, the environment or
 * a URI pin-value.  Internal to libhsm.
 */
#ifndef RCPT_HSM_PIN_H
#define RCPT_HSM_PIN_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "src/err.h"

#define RCPT_HSM_PIN_MAX 255 /* bytes of PIN, without the newline */

struct rcpt_hsm_pin {
	void *mem;          /* rcpt_malloc'd block holding the page */
	size_t page;        /* page size */
	unsigned char *buf; /* page-aligned, RCPT_HSM_PIN_MAX + 2 bytes used */
	size_t len;         /* bytes of PIN in buf; 0 when wiped */
	int locked;         /* 1 when mlock succeeded */
};

/**
 * Allocates the PIN page and locks it in memory (best effort).
 * @param[out] pin release with rcpt_hsm_pin_clear(), also on failure.
 * @return RCPT_OK or RCPT_E_NOMEM.
 */
int rcpt_hsm_pin_init(struct rcpt_hsm_pin *pin) RCPT_MUST_CHECK;

/** Wipes, unlocks and frees the page; accepts a zeroed struct. */
void rcpt_hsm_pin_clear(struct rcpt_hsm_pin *pin);

/**
 * Reads the PIN from @p path (one trailing newline is dropped).  The
 * file is opened with O_NOFOLLOW and checked through the open
 * descriptor: regular file, owner @p owner, mode 0400 or 0600.
 * The caller wipes with rcpt_hsm_pin_wipe() right after use.
 * @return RCPT_OK; RCPT_E_CONFIG naming the file and the broken rule
 * (missing, symbolic link, owner, mode, empty, longer than
 * RCPT_HSM_PIN_MAX); RCPT_E_IO when reading fails.  On error the buffer
 * is already wiped.
 * @param[out] st_out if not NULL, the fstat of the file read (zeroed
 * when it could not be opened).
 */
int rcpt_hsm_pin_read(struct rcpt_hsm_pin *pin, const char *path, uid_t owner,
    struct stat *st_out, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Wipes the PIN bytes (explicit_bzero) and sets len to 0. */
void rcpt_hsm_pin_wipe(struct rcpt_hsm_pin *pin);

/**
 * Turns an RFC 7512 pin-source value into a file path: an absolute path,
 * "file:/abs/path" or "file:///abs/path".
 * @param[out] path_out borrowed from @p source, valid while it is.
 * @return RCPT_OK or RCPT_E_CONFIG (other schemes, relative paths).
 */
int rcpt_hsm_pin_source_path(const char *source, const char **path_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

#endif
