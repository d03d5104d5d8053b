/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small CKO_DATA objects on the token (private, token objects with
 * CKA_APPLICATION "receiptd"): the anti-rollback anchor lives here.
 *
 * Replacing a value is done in three steps that each leave a readable
 * value behind: create the new object under "<label>~new", destroy the
 * old object, rename the new one with C_SetAttributeValue(CKA_LABEL).
 * SoftHSM (and PKCS#11 in general) allows changing CKA_LABEL of a data
 * object, while it has no transaction spanning two objects.  A reader
 * that finds no "<label>" falls back to "<label>~new" (a crash between
 * destroy and rename), and a writer first finishes or discards what an
 * interrupted write left.  So after a crash the old or the new value is
 * read, never nothing; readers hold the write lock so a live write is
 * never seen between its steps.  This file does not interpret the values.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "src/err.h"
#include "src/mem.h"

#include "ckr.h"
#include "hsm-int.h"

#define TMP_SUFFIX "~new"

/* "<label>~new" into @p out. */
static void
tmp_label(const char *label, char out[RCPT_HSM_LABEL_MAX + sizeof(TMP_SUFFIX)])
{
	size_t n = strlen(label);

	memcpy(out, label, n);
	memcpy(out + n, TMP_SUFFIX, sizeof(TMP_SUFFIX));
}

/* Finds a data object; NOT_FOUND is not an error here (*obj_out invalid). */
static int
find_data(struct rcpt_hsm *h, CK_SESSION_HANDLE s, const char *label,
    CK_OBJECT_HANDLE *obj_out, CK_RV *rv, struct rcpt_diag *diag)
{
	struct rcpt_diag tmp;
	int r;

	rcpt_diag_clear(&tmp);
	r = rcpt_hsm_find(h, s, CKO_DATA, label, obj_out, rv, &tmp);
	if (r == RCPT_E_NOT_FOUND)
		return RCPT_OK;
	if (r != RCPT_OK)
		return rcpt_diag(diag, r, "%s", tmp.msg);
	return RCPT_OK;
}

int
rcpt_hsm_data_read(struct rcpt_hsm *h, const char *label, uint8_t *buf,
    size_t cap, size_t *len_out, struct rcpt_diag *diag)
{
	char tmpl[RCPT_HSM_LABEL_MAX + sizeof(TMP_SUFFIX)];
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
	CK_ATTRIBUTE a = {CKA_VALUE, NULL, 0};
	CK_RV rv = CKR_OK;
	int r = RCPT_E_INTERNAL;

	if (len_out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "hsm: missing argument");
	*len_out = 0;
	if (h == NULL || (buf == NULL && cap > 0))
		return rcpt_diag(diag, RCPT_E_INVAL, "hsm: missing argument");
	if ((r = rcpt_hsm_check_label(label, diag)) != RCPT_OK)
		return r;
	tmp_label(label, tmpl);
	/*
	 * A write destroys "<label>" before renaming "<label>~new": a read
	 * in between without the lock would find neither.
	 */
	(void)pthread_mutex_lock(&h->write_mu);
	if ((r = rcpt_hsm_session_take(h, &s, diag)) != RCPT_OK)
		goto out;
	if ((r = find_data(h, s, label, &o, &rv, diag)) != RCPT_OK)
		goto out;
	/* No committed object: an interrupted write may have left the new. */
	if (o == CK_INVALID_HANDLE &&
	    (r = find_data(h, s, tmpl, &o, &rv, diag)) != RCPT_OK)
		goto out;
	if (o == CK_INVALID_HANDLE) {
		r = rcpt_diag(diag, RCPT_E_NOT_FOUND,
		    "label: no data object with this label");
		goto out;
	}
	/* Ask for the size first, so a short buffer is reported, not hit. */
	if ((rv = h->fn->C_GetAttributeValue(s, o, &a, 1)) != CKR_OK) {
		r = rcpt_hsm_fail(h, diag, "C_GetAttributeValue", rv);
		goto out;
	}
	if (a.ulValueLen > cap) {
		*len_out = a.ulValueLen;
		r = rcpt_diag(diag, RCPT_E_TOO_LARGE,
		    "data: value of %lu bytes exceeds the buffer of %zu",
		    (unsigned long)a.ulValueLen, cap);
		goto out;
	}
	a.pValue = buf;
	if ((rv = h->fn->C_GetAttributeValue(s, o, &a, 1)) != CKR_OK) {
		r = rcpt_hsm_fail(h, diag, "C_GetAttributeValue", rv);
		goto out;
	}
	*len_out = a.ulValueLen;
	r = RCPT_OK;
out:
	if (r == RCPT_E_DENIED)
		r = RCPT_E_KEY_UNAVAILABLE;
	rcpt_hsm_session_put(h, s, rv);
	(void)pthread_mutex_unlock(&h->write_mu);
	return r;
}

/* Creates the private token data object @p label holding @p buf. */
static CK_RV
create_data(struct rcpt_hsm *h, CK_SESSION_HANDLE s, const char *label,
    const uint8_t *buf, size_t len, CK_OBJECT_HANDLE *obj)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_BYTE empty = 0;
	CK_ATTRIBUTE t[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &yes, sizeof(yes)},
	    {CKA_MODIFIABLE, &yes, sizeof(yes)},
	    {CKA_LABEL, (void *)label, strlen(label)},
	    {CKA_APPLICATION, (void *)RCPT_HSM_APPLICATION,
	        strlen(RCPT_HSM_APPLICATION)},
	    {CKA_VALUE, len > 0 ? (void *)buf : &empty, len},
	};

	return h->fn->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), obj);
}

/* Renames @p o to @p label. */
static CK_RV
rename_data(struct rcpt_hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    const char *label)
{
	CK_ATTRIBUTE a = {CKA_LABEL, (void *)label, strlen(label)};

	return h->fn->C_SetAttributeValue(s, o, &a, 1);
}

/*
 * Brings the objects into the steady state before a write: "<label>"
 * present or absent, no "<label>~new".  @p cur is set to "<label>".
 */
static int
settle(struct rcpt_hsm *h, CK_SESSION_HANDLE s, const char *label,
    const char *tmpl, CK_OBJECT_HANDLE *cur, CK_RV *rv, struct rcpt_diag *diag)
{
	CK_OBJECT_HANDLE stale = CK_INVALID_HANDLE;
	int r;

	if ((r = find_data(h, s, label, cur, rv, diag)) != RCPT_OK)
		return r;
	if ((r = find_data(h, s, tmpl, &stale, rv, diag)) != RCPT_OK)
		return r;
	if (stale == CK_INVALID_HANDLE)
		return RCPT_OK;
	if (*cur != CK_INVALID_HANDLE) {
		/* Crash before the old one went: the new one never counted. */
		if ((*rv = h->fn->C_DestroyObject(s, stale)) != CKR_OK)
			return rcpt_hsm_fail(h, diag, "C_DestroyObject", *rv);
		return RCPT_OK;
	}
	/* Crash after the old one went: the new one is the value. */
	if ((*rv = rename_data(h, s, stale, label)) != CKR_OK)
		return rcpt_hsm_fail(h, diag, "C_SetAttributeValue", *rv);
	*cur = stale;
	return RCPT_OK;
}

int
rcpt_hsm_data_write(struct rcpt_hsm *h, const char *label, const uint8_t *buf,
    size_t len, struct rcpt_diag *diag)
{
	char tmpl[RCPT_HSM_LABEL_MAX + sizeof(TMP_SUFFIX)];
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE cur = CK_INVALID_HANDLE, neu = CK_INVALID_HANDLE;
	CK_RV rv = CKR_OK;
	int r = RCPT_E_INTERNAL;

	if (h == NULL || (buf == NULL && len > 0))
		return rcpt_diag(diag, RCPT_E_INVAL, "hsm: missing argument");
	if ((r = rcpt_hsm_check_label(label, diag)) != RCPT_OK)
		return r;
	if (len > RCPT_HSM_DATA_MAX)
		return rcpt_diag(diag, RCPT_E_TOO_LARGE,
		    "data: longer than %d bytes", RCPT_HSM_DATA_MAX);
	tmp_label(label, tmpl);
	(void)pthread_mutex_lock(&h->write_mu);
	if ((r = rcpt_hsm_session_take(h, &s, diag)) != RCPT_OK)
		goto out;
	if ((r = settle(h, s, label, tmpl, &cur, &rv, diag)) != RCPT_OK)
		goto out;
	if ((rv = create_data(h, s, tmpl, buf, len, &neu)) != CKR_OK) {
		r = rcpt_hsm_fail(h, diag, "C_CreateObject", rv);
		goto out;
	}
	if (cur != CK_INVALID_HANDLE &&
	    (rv = h->fn->C_DestroyObject(s, cur)) != CKR_OK) {
		r = rcpt_hsm_fail(h, diag, "C_DestroyObject", rv);
		/* The old value still stands; drop the new one if we can. */
		(void)h->fn->C_DestroyObject(s, neu);
		goto out;
	}
	/* If this fails, readers find the value under the temporary label. */
	if ((rv = rename_data(h, s, neu, label)) != CKR_OK) {
		r = rcpt_hsm_fail(h, diag, "C_SetAttributeValue", rv);
		goto out;
	}
	r = RCPT_OK;
out:
	if (r == RCPT_E_DENIED)
		r = RCPT_E_KEY_UNAVAILABLE;
	rcpt_hsm_session_put(h, s, rv);
	(void)pthread_mutex_unlock(&h->write_mu);
	return r;
}
