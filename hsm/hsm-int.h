/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside libhsm: the handle, the session pool and the helpers the files
 * of the module share.  Tests include this header to reach the token
 * behind the pool (to check key attributes through PKCS#11 itself, or to
 * close sessions behind its back) and to open a handle on a function
 * list of their own.  Nothing outside hsm/ and tests/ includes it.
 */
#ifndef RCPT_HSM_HSM_INT_H
#define RCPT_HSM_HSM_INT_H

#include <pthread.h>
#include <sys/stat.h>
#include <time.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

#include "hsm.h"
#include "pin.h"

#define RCPT_HSM_CACHE 16 /* labels whose object handles are cached */

/* Object handles of one label, valid until the pool is reopened. */
struct rcpt_hsm_cached {
	char label[RCPT_HSM_LABEL_MAX + 1]; /* "" when the entry is free */
	CK_OBJECT_HANDLE priv;              /* CK_INVALID_HANDLE if unknown */
	CK_OBJECT_HANDLE pub;               /* CK_INVALID_HANDLE if unknown */
};

struct rcpt_hsm {
	CK_FUNCTION_LIST *fn;    /* the module, initialised by us */
	CK_FUNCTION_LIST *owned; /* fn when we release it, else NULL */
	int initialized;         /* 1 after our C_Initialize succeeded */
	int owns_init;           /* 1: we initialised it at open */
	P11KitUri *uri;          /* token selector */
	char *pin_file;          /* pin-source path, re-read on reopen */
	uid_t pin_owner;         /* required owner of pin_file */
	CK_SLOT_ID slot;         /* slot of the token, set by pool_reopen */
	int have_slot;           /* 1 once slot is meaningful */
	struct rcpt_hsm_pin pin; /* the one PIN buffer */

	pthread_mutex_t mu; /* guards everything below */
	pthread_cond_t cv;  /* a session came back or the pool changed */
	int nsess;          /* pool size */
	int nopen;          /* sessions in sess[] now open */
	CK_SESSION_HANDLE sess[RCPT_HSM_SESSIONS_MAX];
	int navail; /* free sessions on the avail stack */
	CK_SESSION_HANDLE avail[RCPT_HSM_SESSIONS_MAX];
	int in_use;            /* sessions lent out */
	int broken;            /* reopen before the next lend */
	unsigned long reopens; /* pool (re)opens done, for tests */
	CK_RV pin_refused;     /* PIN error of the last login, else CKR_OK */
	struct stat pin_st;    /* the pin file as read for that login */
	int reopen_failed;     /* 1 when the last reopen failed otherwise */
	struct timespec failed_at; /* CLOCK_MONOTONIC time of that failure */
	CK_RV failed_rv;           /* CK_RV of that failure, CKR_OK if none */
	int failed_err;            /* RCPT_E_* of that failure */
	struct rcpt_hsm_cached cache[RCPT_HSM_CACHE];
	unsigned cache_next; /* entry to replace next */
	int ec_oid_first;    /* CKA_EC_PARAMS form SoftHSM accepted */

	pthread_mutex_t write_mu; /* serialises generate, relabel, data I/O */
};

/* session.c */

/**
 * Opens the pool for the first time or after it broke: finds the token,
 * opens h->nsess sessions, reads the PIN, logs in once and wipes the PIN.
 * Called with h->mu held and no session lent out.
 * @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_CONFIG (pin file),
 * RCPT_E_DENIED, RCPT_E_KEY_UNAVAILABLE, RCPT_E_NOMEM.
 */
int rcpt_hsm_pool_reopen(
    struct rcpt_hsm *h, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Closes every pooled session (errors ignored); h->mu held. */
void rcpt_hsm_pool_close(struct rcpt_hsm *h);

/** Seconds after a failed reopen during which no new one is tried. */
#define RCPT_HSM_REOPEN_BACKOFF 1

/**
 * Borrows a session, reopening a broken pool first (one attempt).
 * Blocks while every session is lent out.  After the token refused the
 * PIN, fails with RCPT_E_DENIED without calling C_Login until the pin
 * file changes (identity, size, mtime or ctime); after any other failed
 * reopen, fails with RCPT_E_KEY_UNAVAILABLE without trying again for
 * RCPT_HSM_REOPEN_BACKOFF seconds.  Both keep a token from being hammered
 * (a real one locks the user PIN after a few wrong tries).
 * @param[out] s_out give back with rcpt_hsm_session_put().
 */
int rcpt_hsm_session_take(struct rcpt_hsm *h, CK_SESSION_HANDLE *s_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Gives @p s back.  @p rv is the last CK_RV of the borrower: a fatal one
 * marks the pool broken and empties the handle cache.
 */
void rcpt_hsm_session_put(struct rcpt_hsm *h, CK_SESSION_HANDLE s, CK_RV rv);

/**
 * Records a failed PKCS#11 call: the message names the function, the CKR
 * name and the slot.
 * @return the RCPT_E_* code for @p rv.
 */
int rcpt_hsm_fail(
    struct rcpt_hsm *h, struct rcpt_diag *diag, const char *fn, CK_RV rv);

/*
 * The object-handle cache, per label, guarded by h->mu and emptied when
 * the pool is reopened.  A handle found here may still have gone stale
 * (the object destroyed behind our back); users drop it on failure.
 */

/** Copies the cached handles of @p label; priv or pub may be NULL. */
void rcpt_hsm_cache_get(struct rcpt_hsm *h, const char *label,
    CK_OBJECT_HANDLE *priv, CK_OBJECT_HANDLE *pub);

/** Records handles; CK_INVALID_HANDLE leaves that one unchanged. */
void rcpt_hsm_cache_put(struct rcpt_hsm *h, const char *label,
    CK_OBJECT_HANDLE priv, CK_OBJECT_HANDLE pub);

/** Forgets the handles of @p label. */
void rcpt_hsm_cache_drop(struct rcpt_hsm *h, const char *label);

/* hsm.c */

/**
 * Finds the one object of class @p cls (and, for keys, key type
 * CKK_EC_EDWARDS) labelled @p label.  For CKO_DATA objects the
 * application must be "receiptd".
 * @return RCPT_OK, RCPT_E_NOT_FOUND, RCPT_E_CORRUPT (more than one),
 * RCPT_E_KEY_UNAVAILABLE; *rv_out is the last CK_RV.
 */
int rcpt_hsm_find(struct rcpt_hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
    const char *label, CK_OBJECT_HANDLE *obj_out, CK_RV *rv_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Loads @p module through p11-kit as a managed module (our C_Initialize
 * and C_Finalize do not disturb other users): an absolute .so path, or
 * the name of a module in p11-kit's registry.
 * @param[out] fn_out release with p11_kit_module_release().
 * @return RCPT_OK or RCPT_E_CONFIG.
 */
int rcpt_hsm_load_module(const char *module, CK_FUNCTION_LIST **fn_out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** RCPT_OK when @p label is usable as a CKA_LABEL, else RCPT_E_INVAL. */
int rcpt_hsm_check_label(
    const char *label, struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * Test hook: opens like rcpt_hsm_open() but on @p module, a function
 * list the caller loaded (cfg->module is ignored).  The handle calls
 * C_Initialize and C_Finalize on it but never releases it.
 */
int rcpt_hsm_open_module(const struct rcpt_hsm_config *cfg,
    CK_FUNCTION_LIST *module, struct rcpt_hsm **out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

#define RCPT_HSM_APPLICATION "receiptd" /* CKA_APPLICATION of data objects */

#endif
