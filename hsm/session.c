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
 * on a failing token.  The object-handle cache lives here too, because
 * a reopen must empty it.  This file does not sign or look up objects.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

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
find_token(struct rcpt_hsm *h, CK_SLOT_ID *slot_out, struct rcpt_diag *diag)
{
	CK_SLOT_ID *slots = NULL;
	CK_ULONG n = 0, i, found = 0;
	CK_TOKEN_INFO ti;
	CK_SLOT_INFO si;
	CK_RV rv;
	int r = RCPT_E_INTERNAL;

	*slot_out = 0;
	if ((rv = h->fn->C_GetSlotList(CK_TRUE, NULL, &n)) != CKR_OK) {
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

/* Reads the PIN, logs in once on @p s and wipes the PIN on every path. */
static int
login(struct rcpt_hsm *h, CK_SESSION_HANDLE s, struct rcpt_diag *diag)
{
	CK_RV rv;
	int r;

	if ((r = rcpt_hsm_pin_read(&h->pin, h->pin_file, h->pin_owner, diag)) !=
	    RCPT_OK)
		return r;
	rv = h->fn->C_Login(s, CKU_USER, h->pin.buf, h->pin.len);
	rcpt_hsm_pin_wipe(&h->pin);
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
		return RCPT_OK;
	return rcpt_hsm_fail(h, diag, "C_Login", rv);
}

int
rcpt_hsm_pool_reopen(struct rcpt_hsm *h, struct rcpt_diag *diag)
{
	CK_SLOT_ID slot;
	CK_RV rv;
	int r = RCPT_E_INTERNAL;

	rcpt_hsm_pool_close(h);
	h->broken = 1;
	if ((r = find_token(h, &slot, diag)) != RCPT_OK)
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
	if ((r = login(h, h->sess[0], diag)) != RCPT_OK)
		goto out;
	memcpy(h->avail, h->sess, sizeof(h->sess[0]) * (size_t)h->nsess);
	h->navail = h->nsess;
	h->broken = 0;
	h->reopens++;
	r = RCPT_OK;
out:
	if (r != RCPT_OK)
		rcpt_hsm_pool_close(h);
	return r;
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
