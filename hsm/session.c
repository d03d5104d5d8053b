/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The session pool: h->nsess read-write sessions on one token, lent to
 * one caller at a time under h->mu, with one login for all of them (the
 * PKCS#11 login state belongs to the application, not to a session).
 *
 * When a borrower reports a CK_RV meaning the sessions or the login are
 * gone, the pool is marked broken; the next borrower waits until every
 * session is back, then reopens it once: find the token again by URI,
 * open the sessions, re-read the PIN from its file, log in, wipe the
 * PIN.  A call never makes more than one reopen attempt and never loops
 * on a failing token.  A PIN the token refused is not offered again
 * until its file changes (a real token locks the user PIN after a few
 * wrong tries), and other failed reopens are not retried for a second.  The
 * object-handle cache lives here too, because a reopen must empty it.  This
 * file does not sign or look up objects.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "src/err.h"
#include "src/mem.h"

#include "ckr.h"
#include "hsm-int.h"

int
rcpt_hsm_fail(
    struct rcpt_hsm *h, struct rcpt_diag *diag, const char *fn, CK_RV rv)
{
	int err = rcpt_hsm_ckr_err(rv);

	if (h != NULL && h->have_slot)
		return rcpt_diag(diag, err,
		    "token: %s failed: %s (0x%lx) on slot %lu", fn,
		    rcpt_hsm_ckr_name(rv), (unsigned long)rv,
		    (unsigned long)h->slot);
	return rcpt_diag(diag, err, "token: %s failed: %s (0x%lx)", fn,
	    rcpt_hsm_ckr_name(rv), (unsigned long)rv);
}

/* Sets *slot_out to the one initialised token matching h->uri. */
static int
find_token(struct rcpt_hsm *h, CK_SLOT_ID *slot_out, CK_RV *rv_out,
    struct rcpt_diag *diag)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0, i, found = 0;
	CK_TOKEN_INFO ti;
	CK_SLOT_INFO si;
	CK_RV rv;
	int r = RCPT_E_INTERNAL;

	*slot_out = 0;
	if ((rv = h->fn->C_GetSlotList(CK_TRUE, NULL, &n)) != CKR_OK) {
		*rv_out = rv;
		r = rcpt_hsm_fail(NULL, diag, "C_GetSlotList", rv);
		goto out;
	}
	if (n > 0) {
		if ((slots = rcpt_calloc(n, sizeof(*slots))) == NULL) {
			r = RCPT_E_NOMEM;
			goto out;
		}
		rv = h->fn->C_GetSlotList(CK_TRUE, slots, &n);
		if (rv != CKR_OK) {
			*rv_out = rv;
			r = rcpt_hsm_fail(NULL, diag, "C_GetSlotList", rv);
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		if (h->fn->C_GetTokenInfo(slots[i], &ti) != CKR_OK ||
		    (ti.flags & CKF_TOKEN_INITIALIZED) == 0 ||
		    !p11_kit_uri_match_token_info(h->uri, &ti))
			continue;
		if (h->fn->C_GetSlotInfo(slots[i], &si) != CKR_OK ||
		    !p11_kit_uri_match_slot_info(h->uri, &si))
			continue;
		if (found++ == 0)
			*slot_out = slots[i];
	}
	if (found == 0) {
		r = rcpt_diag(diag, RCPT_E_NOT_FOUND,
		    "token_uri: no initialised token matches");
		goto out;
	}
	if (found > 1) {
		r = rcpt_diag(diag, RCPT_E_CONFIG,
		    "token_uri: matches %lu tokens, must match one",
		    (unsigned long)found);
		goto out;
	}
	r = RCPT_OK;
out:
	free(slots);
	return r;
}

void
rcpt_hsm_pool_close(struct rcpt_hsm *h)
{
	int i;

	for (i = 0; i < h->nopen; i++)
		(void)h->fn->C_CloseSession(h->sess[i]);
	h->nopen = 0;
	h->navail = 0;
	memset(h->cache, 0, sizeof(h->cache));
}

void
rcpt_hsm_cache_get(struct rcpt_hsm *h, const char *label,
    CK_OBJECT_HANDLE *priv, CK_OBJECT_HANDLE *pub)
{
	int i;

	if (priv != NULL)
		*priv = CK_INVALID_HANDLE;
	if (pub != NULL)
		*pub = CK_INVALID_HANDLE;
	(void)pthread_mutex_lock(&h->mu);
	for (i = 0; i < RCPT_HSM_CACHE; i++) {
		if (strcmp(h->cache[i].label, label) != 0)
			continue;
		if (priv != NULL)
			*priv = h->cache[i].priv;
		if (pub != NULL)
			*pub = h->cache[i].pub;
		break;
	}
	(void)pthread_mutex_unlock(&h->mu);
}

void
rcpt_hsm_cache_put(struct rcpt_hsm *h, const char *label, CK_OBJECT_HANDLE priv,
    CK_OBJECT_HANDLE pub)
{
	struct rcpt_hsm_cached *c = NULL;
	int i;

	(void)pthread_mutex_lock(&h->mu);
	for (i = 0; i < RCPT_HSM_CACHE && c == NULL; i++)
		if (strcmp(h->cache[i].label, label) == 0)
			c = &h->cache[i];
	if (c == NULL) {
		c = &h->cache[h->cache_next];
		h->cache_next = (h->cache_next + 1) % RCPT_HSM_CACHE;
		memset(c, 0, sizeof(*c));
		memcpy(c->label, label, strlen(label) + 1);
		c->priv = c->pub = CK_INVALID_HANDLE;
	}
	if (priv != CK_INVALID_HANDLE)
		c->priv = priv;
	if (pub != CK_INVALID_HANDLE)
		c->pub = pub;
	(void)pthread_mutex_unlock(&h->mu);
}

void
rcpt_hsm_cache_drop(struct rcpt_hsm *h, const char *label)
{
	int i;

	(void)pthread_mutex_lock(&h->mu);
	for (i = 0; i < RCPT_HSM_CACHE; i++)
		if (strcmp(h->cache[i].label, label) == 0)
			memset(&h->cache[i], 0, sizeof(h->cache[i]));
	(void)pthread_mutex_unlock(&h->mu);
}

/* The token refused the PIN itself: retrying it only burns retries. */
static int
is_pin_error(CK_RV rv)
{
	return rv == CKR_PIN_INCORRECT || rv == CKR_PIN_INVALID ||
	       rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_EXPIRED ||
	       rv == CKR_PIN_LOCKED;
}

/*
 * Reads the PIN, logs in once on @p s and wipes the PIN on every path.
 * A PIN error is remembered with the pin file it came from.
 */
static int
login(struct rcpt_hsm *h, CK_SESSION_HANDLE s, CK_RV *rv_out,
    struct rcpt_diag *diag)
{
	struct stat st;
	CK_RV rv;
	int r;

	*rv_out = CKR_OK;
	if ((r = rcpt_hsm_pin_read(
	         &h->pin, h->pin_file, h->pin_owner, &st, diag)) != RCPT_OK)
		return r;
	rv = h->fn->C_Login(s, CKU_USER, h->pin.buf, h->pin.len);
	rcpt_hsm_pin_wipe(&h->pin);
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
		return RCPT_OK;
	*rv_out = rv;
	if (is_pin_error(rv)) {
		h->pin_refused = rv;
		h->pin_st = st;
	}
	return rcpt_hsm_fail(h, diag, "C_Login", rv);
}

/* C_Finalize, then C_Initialize as at open. */
static CK_RV
reinit(struct rcpt_hsm *h)
{
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;

	if (h->initialized)
		(void)h->fn->C_Finalize(NULL);
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = h->fn->C_Initialize(&args);
	h->initialized = rv == CKR_OK;
	return rv;
}

int
rcpt_hsm_pool_reopen(struct rcpt_hsm *h, struct rcpt_diag *diag)
{
	CK_SLOT_ID slot;
	CK_RV rv = CKR_OK;
	int r = RCPT_E_INTERNAL;

	rcpt_hsm_pool_close(h);
	h->broken = 1;
	h->pin_refused = CKR_OK;
	h->reopen_failed = 0;
	r = find_token(h, &slot, &rv, diag);
	/*
	 * Some modules (SoftHSM2) never notice a token that comes back
	 * until they are initialised again.  Every session is back and
	 * closed here, and we own the module's initialisation, so start
	 * it afresh and look once more.
	 */
	if (r != RCPT_OK && h->owns_init && reinit(h) == CKR_OK) {
		rcpt_diag_clear(diag);
		r = find_token(h, &slot, &rv, diag);
	}
	if (r != RCPT_OK)
		goto out;
	h->slot = slot;
	h->have_slot = 1;
	while (h->nopen < h->nsess) {
		rv = h->fn->C_OpenSession(slot,
		    CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
		    &h->sess[h->nopen]);
		if (rv != CKR_OK) {
			r = rcpt_hsm_fail(h, diag, "C_OpenSession", rv);
			goto out;
		}
		h->nopen++;
	}
	if ((r = login(h, h->sess[0], &rv, diag)) != RCPT_OK)
		goto out;
	memcpy(h->avail, h->sess, sizeof(h->sess[0]) * (size_t)h->nsess);
	h->navail = h->nsess;
	h->broken = 0;
	h->reopens++;
	r = RCPT_OK;
out:
	if (r != RCPT_OK) {
		rcpt_hsm_pool_close(h);
		/* A refused PIN waits for the file to change, not a clock. */
		if (h->pin_refused == CKR_OK) {
			h->reopen_failed = 1;
			h->failed_rv = rv;
			h->failed_err = r;
			(void)clock_gettime(CLOCK_MONOTONIC, &h->failed_at);
		}
	}
	return r;
}

/* The pin file still is the one whose PIN the token refused. */
static int
pin_file_unchanged(const struct rcpt_hsm *h)
{
	const struct stat *o = &h->pin_st;
	struct stat st;

	if (lstat(h->pin_file, &st) != 0)
		return 0;
	return st.st_dev == o->st_dev && st.st_ino == o->st_ino &&
	       st.st_size == o->st_size &&
	       st.st_mtim.tv_sec == o->st_mtim.tv_sec &&
	       st.st_mtim.tv_nsec == o->st_mtim.tv_nsec &&
	       st.st_ctim.tv_sec == o->st_ctim.tv_sec &&
	       st.st_ctim.tv_nsec == o->st_ctim.tv_nsec;
}

/*
 * Decides whether a broken pool may be reopened now; h->mu held.  The
 * refusals name what failed last, so the cause stays visible in logs.
 */
static int
reopen_allowed(struct rcpt_hsm *h, struct rcpt_diag *diag)
{
	struct timespec now;
	long long ms;

	if (h->pin_refused != CKR_OK) {
		if (pin_file_unchanged(h))
			return rcpt_diag(diag, RCPT_E_DENIED,
			    "token: login refused earlier (%s); fix the PIN "
			    "file, then the next request retries",
			    rcpt_hsm_ckr_name(h->pin_refused));
		return RCPT_OK;
	}
	if (!h->reopen_failed)
		return RCPT_OK;
	if (clock_gettime(CLOCK_MONOTONIC, &now) != 0)
		return RCPT_OK;
	ms = (long long)(now.tv_sec - h->failed_at.tv_sec) * 1000 +
	     (now.tv_nsec - h->failed_at.tv_nsec) / 1000000;
	if (ms >= 0 && ms < RCPT_HSM_REOPEN_BACKOFF * 1000) {
		if (h->failed_rv != CKR_OK)
			return rcpt_diag(diag, RCPT_E_KEY_UNAVAILABLE,
			    "token: reopen failed less than %d s ago (%s); "
			    "not retried yet",
			    RCPT_HSM_REOPEN_BACKOFF,
			    rcpt_hsm_ckr_name(h->failed_rv));
		return rcpt_diag(diag, RCPT_E_KEY_UNAVAILABLE,
		    "token: reopen failed less than %d s ago (%s); "
		    "not retried yet",
		    RCPT_HSM_REOPEN_BACKOFF, rcpt_strerror(h->failed_err));
	}
	return RCPT_OK;
}

int
rcpt_hsm_session_take(
    struct rcpt_hsm *h, CK_SESSION_HANDLE *s_out, struct rcpt_diag *diag)
{
	int tried = 0, r;

	*s_out = CK_INVALID_HANDLE;
	if (pthread_mutex_lock(&h->mu) != 0)
		return rcpt_diag(diag, RCPT_E_INTERNAL, "token: lock failed");
	for (;;) {
		if (h->broken && h->in_use == 0) {
			if (tried) {
				r = rcpt_diag(diag, RCPT_E_KEY_UNAVAILABLE,
				    "token: sessions lost again after reopen");
				break;
			}
			if ((r = reopen_allowed(h, diag)) != RCPT_OK)
				break;
			tried = 1;
			r = rcpt_hsm_pool_reopen(h, diag);
			(void)pthread_cond_broadcast(&h->cv);
			if (r != RCPT_OK)
				break;
			continue;
		}
		if (!h->broken && h->navail > 0) {
			*s_out = h->avail[--h->navail];
			h->in_use++;
			r = RCPT_OK;
			break;
		}
		/* Every session is lent out, or a broken pool is draining. */
		(void)pthread_cond_wait(&h->cv, &h->mu);
	}
	(void)pthread_mutex_unlock(&h->mu);
	return r;
}

void
rcpt_hsm_session_put(struct rcpt_hsm *h, CK_SESSION_HANDLE s, CK_RV rv)
{
	if (s == CK_INVALID_HANDLE)
		return;
	(void)pthread_mutex_lock(&h->mu);
	h->in_use--;
	if (rcpt_hsm_ckr_is_fatal(rv)) {
		h->broken = 1;
		memset(h->cache, 0, sizeof(h->cache));
	}
	if (!h->broken)
		h->avail[h->navail++] = s;
	(void)pthread_cond_broadcast(&h->cv);
	(void)pthread_mutex_unlock(&h->mu);
}

int
rcpt_hsm_health(struct rcpt_hsm *h, struct rcpt_diag *diag)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_SESSION_INFO si;
	CK_TOKEN_INFO ti;
	CK_RV rv = CKR_OK;
	int r = RCPT_E_INTERNAL;

	if (h == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "hsm: missing argument");
	if ((r = rcpt_hsm_session_take(h, &s, diag)) != RCPT_OK)
		return r;
	if ((rv = h->fn->C_GetSessionInfo(s, &si)) != CKR_OK) {
		r = rcpt_hsm_fail(h, diag, "C_GetSessionInfo", rv);
		goto out;
	}
	if (si.state != CKS_RW_USER_FUNCTIONS) {
		/* Treat a lost login like one reported by the token. */
		rv = CKR_USER_NOT_LOGGED_IN;
		r = rcpt_hsm_fail(h, diag, "C_GetSessionInfo", rv);
		goto out;
	}
	if ((rv = h->fn->C_GetTokenInfo(h->slot, &ti)) != CKR_OK) {
		r = rcpt_hsm_fail(h, diag, "C_GetTokenInfo", rv);
		goto out;
	}
	r = RCPT_OK;
out:
	if (r == RCPT_E_DENIED)
		r = RCPT_E_KEY_UNAVAILABLE;
	rcpt_hsm_session_put(h, s, rv);
	return r;
}

int
rcpt_hsm_token_serial(struct rcpt_hsm *h, char out[17], struct rcpt_diag *diag)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_TOKEN_INFO ti;
	CK_RV rv;
	size_t n;
	int r;

	if (h == NULL || out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "hsm: missing argument");
	memset(out, 0, 17);
	/* Borrowing a session makes sure the pool (and h->slot) is current. */
	if ((r = rcpt_hsm_session_take(h, &s, diag)) != RCPT_OK)
		return r;
	if ((rv = h->fn->C_GetTokenInfo(h->slot, &ti)) != CKR_OK) {
		r = rcpt_hsm_fail(h, diag, "C_GetTokenInfo", rv);
		if (r == RCPT_E_DENIED)
			r = RCPT_E_KEY_UNAVAILABLE;
	} else {
		n = p11_kit_space_strlen(
		    ti.serialNumber, sizeof(ti.serialNumber));
		memcpy(out, ti.serialNumber, n);
		r = RCPT_OK;
	}
	rcpt_hsm_session_put(h, s, rv);
	return r;
}
