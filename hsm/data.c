/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small CKO_DATA objects on the token (private, token objects with
 * CKA_APPLICATION "receiptd"): the anti-rollback anchor lives here.
 *
 * A value is never modified in place, and the only copy of a value is
 * never destroyed.  Each name has two slots, objects labelled "<label>"
 * and "<label>~new", and each object holds a header (the magic "RDG1"
 * and a big-endian 64-bit generation) before the value.  A write
 * destroys the slot that does not hold the newest value, then creates
 * it afresh with the next generation; a read returns the valid slot
 * with the highest generation.  A crash at any point therefore leaves
 * the old value or the new one readable: the newest slot is untouched
 * until a later write has completed a newer one.
 *
 * Why not rename: SoftHSM2's file backend implements
 * C_SetAttributeValue by truncating and rewriting the object's file, so
 * a process killed during a rename of the only copy lost the value
 * (found by tests/test-faults, kill -9 during anchor writes).
 *
 * An object without the header (written by earlier versions) reads as
 * generation 0.  Readers hold the write lock, so they never see a
 * write between its steps.  This file does not interpret the values.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "src/err.h"
#include "src/mem.h"

#include "ckr.h"
#include "hsm-int.h"

#define TMP_SUFFIX "~new"
#define GEN_MAGIC  "RDG1"
#define GEN_HDR    12 /* magic and be64 generation */

/* "<label>~new" into @p out. */
static void
tmp_label(const char *label, char out[RCPT_HSM_LABEL_MAX + sizeof(TMP_SUFFIX)])
{
	size_t n = strlen(label);

	memcpy(out, label, n);
	memcpy(out + n, TMP_SUFFIX, sizeof(TMP_SUFFIX));
}

/* One slot as found on the token. */
struct slot {
	CK_OBJECT_HANDLE o; /* CK_INVALID_HANDLE: none */
	int valid;          /* value read back whole */
	uint64_t gen;
	uint8_t value[GEN_HDR + RCPT_HSM_DATA_MAX];
	size_t len; /* bytes of value after the header */
};

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

/*
 * Reads slot @p o into @p sl.  A value too long, or one the token
 * cannot return, is not valid (a torn or foreign object); only a
 * session failure is an error.
 */
static int
read_slot(struct rcpt_hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    struct slot *sl, CK_RV *rv, struct rcpt_diag *diag)
{
	CK_ATTRIBUTE a = {CKA_VALUE, NULL, 0};
	size_t i;

	sl->o = o;
	sl->valid = 0;
	if (o == CK_INVALID_HANDLE)
		return RCPT_OK;
	*rv = h->fn->C_GetAttributeValue(s, o, &a, 1);
	if (*rv == CKR_SESSION_HANDLE_INVALID || *rv == CKR_SESSION_CLOSED ||
	    *rv == CKR_DEVICE_REMOVED || *rv == CKR_TOKEN_NOT_PRESENT ||
	    *rv == CKR_USER_NOT_LOGGED_IN)
		return rcpt_hsm_fail(h, diag, "C_GetAttributeValue", *rv);
	if (*rv != CKR_OK || a.ulValueLen > sizeof(sl->value)) {
		*rv = CKR_OK;
		return RCPT_OK;
	}
	a.pValue = sl->value;
	if ((*rv = h->fn->C_GetAttributeValue(s, o, &a, 1)) != CKR_OK) {
		*rv = CKR_OK;
		return RCPT_OK;
	}
	if (a.ulValueLen >= GEN_HDR && memcmp(sl->value, GEN_MAGIC, 4) == 0) {
		for (sl->gen = 0, i = 4; i < GEN_HDR; i++)
			sl->gen = sl->gen << 8 | sl->value[i];
		sl->len = a.ulValueLen - GEN_HDR;
		memmove(sl->value, sl->value + GEN_HDR, sl->len);
	} else {
		sl->gen = 0; /* written before generations */
		sl->len = a.ulValueLen;
	}
	sl->valid = sl->len <= RCPT_HSM_DATA_MAX;
	return RCPT_OK;
}

/* Finds and reads both slots of @p label. */
static int
read_slots(struct rcpt_hsm *h, CK_SESSION_HANDLE s, const char *label,
    struct slot sl[2], CK_RV *rv, struct rcpt_diag *diag)
{
	char tmpl[RCPT_HSM_LABEL_MAX + sizeof(TMP_SUFFIX)];
	CK_OBJECT_HANDLE o = CK_INVALID_HANDLE;
	int r;

	tmp_label(label, tmpl);
	if ((r = find_data(h, s, label, &o, rv, diag)) != RCPT_OK ||
	    (r = read_slot(h, s, o, &sl[0], rv, diag)) != RCPT_OK)
		return r;
	o = CK_INVALID_HANDLE;
	if ((r = find_data(h, s, tmpl, &o, rv, diag)) != RCPT_OK)
		return r;
	return read_slot(h, s, o, &sl[1], rv, diag);
}

/* The slot holding the newest valid value, or -1. */
static int
newest(const struct slot sl[2])
{
	if (sl[0].valid && (!sl[1].valid || sl[0].gen >= sl[1].gen))
		return 0;
	return sl[1].valid ? 1 : -1;
}

int
rcpt_hsm_data_read(struct rcpt_hsm *h, const char *label, uint8_t *buf,
    size_t cap, size_t *len_out, struct rcpt_diag *diag)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	struct slot *sl = NULL;
	CK_RV rv = CKR_OK;
	int r = RCPT_E_INTERNAL, k;

	if (len_out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "hsm: missing argument");
	*len_out = 0;
	if (h == NULL || (buf == NULL && cap > 0))
		return rcpt_diag(diag, RCPT_E_INVAL, "hsm: missing argument");
	if ((r = rcpt_hsm_check_label(label, diag)) != RCPT_OK)
		return r;
	if ((sl = rcpt_calloc(2, sizeof(*sl))) == NULL)
		return rcpt_diag(diag, RCPT_E_NOMEM, "hsm: out of memory");
	(void)pthread_mutex_lock(&h->write_mu);
	if ((r = rcpt_hsm_session_take(h, &s, diag)) != RCPT_OK ||
	    (r = read_slots(h, s, label, sl, &rv, diag)) != RCPT_OK)
		goto out;
	if ((k = newest(sl)) < 0) {
		r = rcpt_diag(diag, RCPT_E_NOT_FOUND,
		    "label: no data object with this label");
		goto out;
	}
	if (sl[k].len > cap) {
		*len_out = sl[k].len;
		r = rcpt_diag(diag, RCPT_E_TOO_LARGE,
		    "data: value of %zu bytes exceeds the buffer of %zu",
		    sl[k].len, cap);
		goto out;
	}
	if (sl[k].len > 0)
		memcpy(buf, sl[k].value, sl[k].len);
	*len_out = sl[k].len;
	r = RCPT_OK;
out:
	if (r == RCPT_E_DENIED)
		r = RCPT_E_KEY_UNAVAILABLE;
	rcpt_hsm_session_put(h, s, rv);
	(void)pthread_mutex_unlock(&h->write_mu);
	rcpt_freezero(sl, 2 * sizeof(*sl));
	return r;
}

/* Creates the private token data object @p label holding @p buf. */
static CK_RV
create_data(struct rcpt_hsm *h, CK_SESSION_HANDLE s, const char *label,
    const uint8_t *buf, size_t len, CK_OBJECT_HANDLE *obj)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE t[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &yes, sizeof(yes)},
	    {CKA_MODIFIABLE, &yes, sizeof(yes)},
	    {CKA_LABEL, (void *)label, strlen(label)},
	    {CKA_APPLICATION, (void *)RCPT_HSM_APPLICATION,
	        strlen(RCPT_HSM_APPLICATION)},
	    {CKA_VALUE, (void *)buf, len},
	};

	return h->fn->C_CreateObject(s, t, sizeof(t) / sizeof(t[0]), obj);
}

int
rcpt_hsm_data_write(struct rcpt_hsm *h, const char *label, const uint8_t *buf,
    size_t len, struct rcpt_diag *diag)
{
	char tmpl[RCPT_HSM_LABEL_MAX + sizeof(TMP_SUFFIX)];
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE neu = CK_INVALID_HANDLE;
	struct slot *sl = NULL;
	uint8_t *val = NULL;
	uint64_t gen;
	CK_RV rv = CKR_OK;
	int r = RCPT_E_INTERNAL, k, w, i;

	if (h == NULL || (buf == NULL && len > 0))
		return rcpt_diag(diag, RCPT_E_INVAL, "hsm: missing argument");
	if ((r = rcpt_hsm_check_label(label, diag)) != RCPT_OK)
		return r;
	if (len > RCPT_HSM_DATA_MAX)
		return rcpt_diag(diag, RCPT_E_TOO_LARGE,
		    "data: longer than %d bytes", RCPT_HSM_DATA_MAX);
	tmp_label(label, tmpl);
	if ((sl = rcpt_calloc(2, sizeof(*sl))) == NULL ||
	    (val = rcpt_malloc(GEN_HDR + len)) == NULL) {
		free(sl);
		return rcpt_diag(diag, RCPT_E_NOMEM, "hsm: out of memory");
	}
	(void)pthread_mutex_lock(&h->write_mu);
	if ((r = rcpt_hsm_session_take(h, &s, diag)) != RCPT_OK ||
	    (r = read_slots(h, s, label, sl, &rv, diag)) != RCPT_OK)
		goto out;
	/* Write into the slot that does not hold the newest value. */
	k = newest(sl);
	w = k == 0 ? 1 : 0;
	gen = k < 0 ? 1 : sl[k].gen + 1;
	memcpy(val, GEN_MAGIC, 4);
	for (i = 0; i < 8; i++)
		val[4 + i] = (uint8_t)(gen >> (56 - 8 * i));
	if (len > 0)
		memcpy(val + GEN_HDR, buf, len);
	if (sl[w].o != CK_INVALID_HANDLE &&
	    (rv = h->fn->C_DestroyObject(s, sl[w].o)) != CKR_OK) {
		r = rcpt_hsm_fail(h, diag, "C_DestroyObject", rv);
		goto out;
	}
	if ((rv = create_data(h, s, w == 0 ? label : tmpl, val, GEN_HDR + len,
	         &neu)) != CKR_OK) {
		r = rcpt_hsm_fail(h, diag, "C_CreateObject", rv);
		goto out;
	}
	r = RCPT_OK;
out:
	if (r == RCPT_E_DENIED)
		r = RCPT_E_KEY_UNAVAILABLE;
	rcpt_hsm_session_put(h, s, rv);
	(void)pthread_mutex_unlock(&h->write_mu);
	rcpt_freezero(sl, 2 * sizeof(*sl));
	rcpt_freezero(val, GEN_HDR + len);
	return r;
}
