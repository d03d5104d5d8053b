/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The handle and the key operations: loading the module through p11-kit
 * (by absolute path or by p11-kit module name), C_Initialize with
 * CKF_OS_LOCKING_OK, then generating, renaming, finding, listing and
 * using Ed25519 key pairs.  Private keys are created sensitive and
 * never extractable, so no code path here can read key material.
 * Sessions come from the pool in session.c; object handles are cached
 * per label (session.c) and dropped whenever the token misbehaves.
 *
 * The PIN comes from the configured pin file or, when none is
 * configured, from the token URI's pin-source; the configured file wins
 * because the daemon's config is the reviewed, root-owned source.  A
 * URI pin-value is refused.  This file does not read PINs itself and
 * does not know what is signed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "src/err.h"
#include "src/mem.h"

#include "ckr.h"
#include "hsm-int.h"

/* CKA_EC_PARAMS for edwards25519: PKCS#11 3.0 curveName, then the OID. */
static const CK_BYTE ec_name[] = {
    0x13, 0x0c, 'e', 'd', 'w', 'a', 'r', 'd', 's', '2', '5', '5', '1', '9'};
static const CK_BYTE ec_oid[] = {0x06, 0x03, 0x2b, 0x65, 0x70};

int
rcpt_hsm_check_label(const char *label, struct rcpt_diag *diag)
{
	size_t n;

	if (label == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "label: missing");
	n = strlen(label);
	if (n == 0 || n > RCPT_HSM_LABEL_MAX)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "label: must be 1 to %d bytes", RCPT_HSM_LABEL_MAX);
	return RCPT_OK;
}

int
rcpt_hsm_find(struct rcpt_hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
    const char *label, CK_OBJECT_HANDLE *obj_out, CK_RV *rv_out,
    struct rcpt_diag *diag)
{
	CK_KEY_TYPE kt = CKK_EC_EDWARDS;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[5] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_LABEL, (void *)label, strlen(label)},
	    {CKA_KEY_TYPE, &kt, sizeof(kt)},
	};
	CK_OBJECT_HANDLE found[2];
	CK_ULONG n = 0, nt = 4;
	CK_RV rv;

	*obj_out = CK_INVALID_HANDLE;
	if (cls == CKO_DATA) {
		tmpl[3].type = CKA_APPLICATION;
		tmpl[3].pValue = (void *)RCPT_HSM_APPLICATION;
		tmpl[3].ulValueLen = strlen(RCPT_HSM_APPLICATION);
	}
	if ((rv = h->fn->C_FindObjectsInit(s, tmpl, nt)) != CKR_OK) {
		*rv_out = rv;
		return rcpt_hsm_fail(h, diag, "C_FindObjectsInit", rv);
	}
	rv = h->fn->C_FindObjects(s, found, 2, &n);
	/* Always end the search, or the session stays busy with it. */
	*rv_out = h->fn->C_FindObjectsFinal(s);
	if (rv != CKR_OK) {
		*rv_out = rv;
		return rcpt_hsm_fail(h, diag, "C_FindObjects", rv);
	}
	if (*rv_out != CKR_OK)
		return rcpt_hsm_fail(h, diag, "C_FindObjectsFinal", *rv_out);
	if (n == 0)
		return rcpt_diag(diag, RCPT_E_NOT_FOUND,
		    "label: no such object on the token");
	if (n > 1)
		return rcpt_diag(diag, RCPT_E_CORRUPT,
		    "label: more than one object with this label");
	*obj_out = found[0];
	return RCPT_OK;
}

/* Copies the 32-byte point out of CKA_EC_POINT, raw or DER-wrapped. */
static int
read_point(struct rcpt_hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE pub,
    uint8_t out[RCPT_HSM_PUB_LEN], CK_RV *rv_out, struct rcpt_diag *diag)
{
	CK_BYTE buf[2 + RCPT_HSM_PUB_LEN];
	CK_ATTRIBUTE a = {CKA_EC_POINT, buf, sizeof(buf)};

	*rv_out = h->fn->C_GetAttributeValue(s, pub, &a, 1);
	if (*rv_out != CKR_OK)
		return rcpt_hsm_fail(h, diag, "C_GetAttributeValue", *rv_out);
	if (a.ulValueLen == RCPT_HSM_PUB_LEN) {
		memcpy(out, buf, RCPT_HSM_PUB_LEN);
		return RCPT_OK;
	}
	if (a.ulValueLen == sizeof(buf) && buf[0] == 0x04 &&
	    buf[1] == RCPT_HSM_PUB_LEN) {
		memcpy(out, buf + 2, RCPT_HSM_PUB_LEN);
		return RCPT_OK;
	}
	return rcpt_diag(diag, RCPT_E_KEY_UNAVAILABLE,
	    "CKA_EC_POINT: not a 32-byte Ed25519 point");
}

int
rcpt_hsm_load_module(
    const char *module, CK_FUNCTION_LIST **fn_out, struct rcpt_diag *diag)
{
	CK_FUNCTION_LIST **all = NULL, *m;
	char *path = NULL;
	const char *msg;

	*fn_out = NULL;
	if (module == NULL || module[0] == '\0')
		return rcpt_diag(diag, RCPT_E_CONFIG, "module: missing");
	if (strchr(module, '/') != NULL) {
		if (module[0] != '/')
			return rcpt_diag(diag, RCPT_E_CONFIG,
			    "module %s: must be an absolute path or a p11-kit "
			    "module name",
			    module);
		/* Managed: our C_Initialize/C_Finalize stay our own. */
		if ((*fn_out = p11_kit_module_load(module, 0)) == NULL) {
			msg = p11_kit_message();
			return rcpt_diag(diag, RCPT_E_CONFIG,
			    "module %s: cannot load (%s)", module,
			    msg != NULL ? msg : "no reason given");
		}
		return RCPT_OK;
	}
	/* A name: look it up in p11-kit's registry, then load that file. */
	all = p11_kit_modules_load(NULL, 0);
	if (all != NULL && (m = p11_kit_module_for_name(all, module)) != NULL)
		path = p11_kit_module_get_filename(m);
	if (all != NULL)
		p11_kit_modules_release(all);
	if (path == NULL)
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "module %s: no p11-kit module of that name", module);
	*fn_out = p11_kit_module_load(path, 0);
	free(path);
	if (*fn_out == NULL)
		return rcpt_diag(
		    diag, RCPT_E_CONFIG, "module %s: cannot load", module);
	return RCPT_OK;
}

/* Checks cfg and sets the URI and the pin file path of @p h. */
static int
apply_config(struct rcpt_hsm *h, const struct rcpt_hsm_config *cfg,
    struct rcpt_diag *diag)
{
	const char *pin_path = NULL;
	int ret, r;

	if (cfg->sessions < 1 || cfg->sessions > RCPT_HSM_SESSIONS_MAX)
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "sessions: must be 1 to %d", RCPT_HSM_SESSIONS_MAX);
	if (cfg->token_uri == NULL)
		return rcpt_diag(diag, RCPT_E_CONFIG, "token_uri: missing");
	if ((h->uri = p11_kit_uri_new()) == NULL)
		return RCPT_E_NOMEM;
	/* Parse it all (an object URI is fine); only the token and slot
	 * parts are matched. */
	ret = p11_kit_uri_parse(cfg->token_uri, P11_KIT_URI_FOR_ANY, h->uri);
	if (ret != P11_KIT_URI_OK)
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "token_uri: not a PKCS#11 URI (%s)",
		    p11_kit_uri_message(ret));
	/* A misspelt attribute would otherwise widen the match silently. */
	if (p11_kit_uri_any_unrecognized(h->uri))
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "token_uri: unrecognised attribute (module-name and "
		    "module-path are not supported: set module instead)");
	if (p11_kit_uri_get_pin_value(h->uri) != NULL)
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "token_uri: pin-value is not allowed, use a pin file");
	if (cfg->pin_file != NULL)
		pin_path = cfg->pin_file;
	else if (p11_kit_uri_get_pin_source(h->uri) != NULL) {
		r = rcpt_hsm_pin_source_path(
		    p11_kit_uri_get_pin_source(h->uri), &pin_path, diag);
		if (r != RCPT_OK)
			return r;
	} else
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "pin_file: missing, and token_uri has no pin-source");
	if ((h->pin_file = rcpt_strdup(pin_path)) == NULL)
		return RCPT_E_NOMEM;
	h->pin_owner = cfg->pin_owner;
	h->nsess = cfg->sessions;
	return RCPT_OK;
}

/* Allocates a handle with its locks and PIN page. */
static int
handle_new(struct rcpt_hsm **out)
{
	struct rcpt_hsm *h;

	*out = NULL;
	if ((h = rcpt_calloc(1, sizeof(*h))) == NULL)
		return RCPT_E_NOMEM;
	if (pthread_mutex_init(&h->mu, NULL) != 0) {
		free(h);
		return RCPT_E_NOMEM;
	}
	if (pthread_mutex_init(&h->write_mu, NULL) != 0) {
		(void)pthread_mutex_destroy(&h->mu);
		free(h);
		return RCPT_E_NOMEM;
	}
	if (pthread_cond_init(&h->cv, NULL) != 0) {
		(void)pthread_mutex_destroy(&h->write_mu);
		(void)pthread_mutex_destroy(&h->mu);
		free(h);
		return RCPT_E_NOMEM;
	}
	h->broken = 1;
	*out = h;
	if (rcpt_hsm_pin_init(&h->pin) != RCPT_OK)
		return RCPT_E_NOMEM; /* caller frees h with rcpt_hsm_close */
	return RCPT_OK;
}

/* Opens on cfg; @p module is a borrowed function list or NULL. */
static int
open_handle(const struct rcpt_hsm_config *cfg, CK_FUNCTION_LIST *module,
    struct rcpt_hsm **out, struct rcpt_diag *diag)
{
	CK_C_INITIALIZE_ARGS args;
	struct rcpt_hsm *h = NULL;
	CK_RV rv;
	int r = RCPT_E_INTERNAL;

	if (out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "hsm: no out pointer");
	*out = NULL;
	if (cfg == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "hsm: no config");
	if ((r = handle_new(&h)) != RCPT_OK)
		goto out;
	if ((r = apply_config(h, cfg, diag)) != RCPT_OK)
		goto out;
	if (module != NULL)
		h->fn = module;
	else {
		if ((r = rcpt_hsm_load_module(cfg->module, &h->fn, diag)) !=
		    RCPT_OK)
			goto out;
		h->owned = h->fn;
	}
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = h->fn->C_Initialize(&args);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		r = rcpt_hsm_fail(NULL, diag, "C_Initialize", rv);
		if (r != RCPT_E_NOMEM)
			r = RCPT_E_KEY_UNAVAILABLE;
		goto out;
	}
	/* Someone else initialised it: leave finalizing to them. */
	h->initialized = rv == CKR_OK;
	h->owns_init = h->initialized;
	(void)pthread_mutex_lock(&h->mu);
	r = rcpt_hsm_pool_reopen(h, diag);
	(void)pthread_mutex_unlock(&h->mu);
	if (r != RCPT_OK)
		goto out;
	*out = h;
	h = NULL;
out:
	rcpt_hsm_close(h);
	return r;
}

int
rcpt_hsm_open(const struct rcpt_hsm_config *cfg, struct rcpt_hsm **out,
    struct rcpt_diag *diag)
{
	return open_handle(cfg, NULL, out, diag);
}

int
rcpt_hsm_open_module(const struct rcpt_hsm_config *cfg,
    CK_FUNCTION_LIST *module, struct rcpt_hsm **out, struct rcpt_diag *diag)
{
	if (module == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "module: missing");
	return open_handle(cfg, module, out, diag);
}

void
rcpt_hsm_close(struct rcpt_hsm *h)
{
	if (h == NULL)
		return;
	if (h->fn != NULL) {
		(void)pthread_mutex_lock(&h->mu);
		if (h->nopen > 0)
			(void)h->fn->C_Logout(h->sess[0]);
		rcpt_hsm_pool_close(h);
		(void)pthread_mutex_unlock(&h->mu);
		if (h->initialized)
			(void)h->fn->C_Finalize(NULL);
	}
	if (h->owned != NULL)
		p11_kit_module_release(h->owned);
	if (h->uri != NULL)
		p11_kit_uri_free(h->uri);
	rcpt_hsm_pin_clear(&h->pin);
	free(h->pin_file);
	(void)pthread_cond_destroy(&h->cv);
	(void)pthread_mutex_destroy(&h->write_mu);
	(void)pthread_mutex_destroy(&h->mu);
	free(h);
}

/* Generates the pair with one CKA_EC_PARAMS form. */
static CK_RV
gen_pair(struct rcpt_hsm *h, CK_SESSION_HANDLE s, const char *label,
    int use_oid, CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	CK_MECHANISM mech = {CKM_EC_EDWARDS_KEY_PAIR_GEN, NULL, 0};
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG len = strlen(label);
	CK_ATTRIBUTE pub_t[] = {
	    {CKA_EC_PARAMS, use_oid ? (void *)ec_oid : (void *)ec_name,
	        use_oid ? sizeof(ec_oid) : sizeof(ec_name)},
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &no, sizeof(no)},
	    {CKA_VERIFY, &yes, sizeof(yes)},
	    {CKA_ENCRYPT, &no, sizeof(no)},
	    {CKA_WRAP, &no, sizeof(no)},
	    {CKA_LABEL, (void *)label, len},
	    {CKA_ID, (void *)label, len},
	};
	CK_ATTRIBUTE priv_t[] = {
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_PRIVATE, &yes, sizeof(yes)},
	    {CKA_SENSITIVE, &yes, sizeof(yes)},
	    {CKA_EXTRACTABLE, &no, sizeof(no)},
	    {CKA_SIGN, &yes, sizeof(yes)},
	    /* Signing only; some modules default these to true. */
	    {CKA_SIGN_RECOVER, &no, sizeof(no)},
	    {CKA_DECRYPT, &no, sizeof(no)},
	    {CKA_UNWRAP, &no, sizeof(no)},
	    {CKA_DERIVE, &no, sizeof(no)},
	    {CKA_LABEL, (void *)label, len},
	    {CKA_ID, (void *)label, len},
	};

	return h->fn->C_GenerateKeyPair(s, &mech, pub_t,
	    sizeof(pub_t) / sizeof(pub_t[0]), priv_t,
	    sizeof(priv_t) / sizeof(priv_t[0]), pub, priv);
}

/* The token turned one CKA_EC_PARAMS form down; the other may work. */
static int
is_param_refusal(CK_RV rv)
{
	return rv == CKR_ATTRIBUTE_VALUE_INVALID ||
	       rv == CKR_CURVE_NOT_SUPPORTED ||
	       rv == CKR_DOMAIN_PARAMS_INVALID ||
	       rv == CKR_TEMPLATE_INCONSISTENT;
}

/* Fails with RCPT_E_EXISTS when a key of class @p cls has @p label. */
static int
check_free(struct rcpt_hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
    const char *label, CK_RV *rv, struct rcpt_diag *diag)
{
	CK_OBJECT_HANDLE o;
	struct rcpt_diag tmp;
	int r;

	rcpt_diag_clear(&tmp);
	r = rcpt_hsm_find(h, s, cls, label, &o, rv, &tmp);
	if (r == RCPT_E_NOT_FOUND)
		return RCPT_OK;
	if (r == RCPT_OK || r == RCPT_E_CORRUPT)
		return rcpt_diag(diag, RCPT_E_EXISTS,
		    "label: a key with this label exists on the token");
	return rcpt_diag(diag, r, "%s", tmp.msg);
}

int
rcpt_hsm_generate(struct rcpt_hsm *h, const char *label,
    uint8_t pub_out[RCPT_HSM_PUB_LEN], struct rcpt_diag *diag)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	CK_RV rv = CKR_OK;
	int r = RCPT_E_INTERNAL, oid;

	if (h == NULL || pub_out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "hsm: missing argument");
	memset(pub_out, 0, RCPT_HSM_PUB_LEN);
	if ((r = rcpt_hsm_check_label(label, diag)) != RCPT_OK)
		return r;
	/* One generation at a time, so the label check cannot race. */
	(void)pthread_mutex_lock(&h->write_mu);
	if ((r = rcpt_hsm_session_take(h, &s, diag)) != RCPT_OK)
		goto out;
	if ((r = check_free(h, s, CKO_PRIVATE_KEY, label, &rv, diag)) !=
	    RCPT_OK)
		goto out;
	if ((r = check_free(h, s, CKO_PUBLIC_KEY, label, &rv, diag)) != RCPT_OK)
		goto out;
	oid = h->ec_oid_first;
	rv = gen_pair(h, s, label, oid, &pub, &priv);
	if (is_param_refusal(rv)) {
		oid = !oid;
		rv = gen_pair(h, s, label, oid, &pub, &priv);
	}
	if (rv != CKR_OK) {
		r = rcpt_hsm_fail(h, diag, "C_GenerateKeyPair", rv);
		goto out;
	}
	h->ec_oid_first = oid;
	if ((r = read_point(h, s, pub, pub_out, &rv, diag)) != RCPT_OK)
		goto out;
	rcpt_hsm_cache_put(h, label, priv, pub);
	r = RCPT_OK;
out:
	if (r != RCPT_OK)
		memset(pub_out, 0, RCPT_HSM_PUB_LEN);
	rcpt_hsm_session_put(h, s, rv);
	(void)pthread_mutex_unlock(&h->write_mu);
	return r;
}

/* Sets CKA_LABEL and CKA_ID of @p o to @p label. */
static CK_RV
set_label(struct rcpt_hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    const char *label)
{
	CK_ULONG len = strlen(label);
	CK_ATTRIBUTE a[] = {
	    {CKA_LABEL, (void *)label, len},
	    {CKA_ID, (void *)label, len},
	};

	return h->fn->C_SetAttributeValue(s, o, a, sizeof(a) / sizeof(a[0]));
}

/* Finds both halves of the pair @p label. */
static int
find_pair(struct rcpt_hsm *h, CK_SESSION_HANDLE s, const char *label,
    CK_OBJECT_HANDLE *priv, CK_OBJECT_HANDLE *pub, CK_RV *rv,
    struct rcpt_diag *diag)
{
	int r;

	if ((r = rcpt_hsm_find(h, s, CKO_PRIVATE_KEY, label, priv, rv, diag)) !=
	    RCPT_OK)
		return r;
	return rcpt_hsm_find(h, s, CKO_PUBLIC_KEY, label, pub, rv, diag);
}

int
rcpt_hsm_relabel(struct rcpt_hsm *h, const char *old_label,
    const char *new_label, struct rcpt_diag *diag)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	CK_RV rv = CKR_OK;
	int r = RCPT_E_INTERNAL;

	if (h == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "hsm: missing argument");
	if ((r = rcpt_hsm_check_label(old_label, diag)) != RCPT_OK ||
	    (r = rcpt_hsm_check_label(new_label, diag)) != RCPT_OK)
		return r;
	/* With generate excluded, new_label cannot be taken meanwhile. */
	(void)pthread_mutex_lock(&h->write_mu);
	if ((r = rcpt_hsm_session_take(h, &s, diag)) != RCPT_OK)
		goto out;
	if ((r = find_pair(h, s, old_label, &priv, &pub, &rv, diag)) != RCPT_OK)
		goto out;
	if ((r = check_free(h, s, CKO_PRIVATE_KEY, new_label, &rv, diag)) !=
	        RCPT_OK ||
	    (r = check_free(h, s, CKO_PUBLIC_KEY, new_label, &rv, diag)) !=
	        RCPT_OK)
		goto out;
	if ((rv = set_label(h, s, pub, new_label)) != CKR_OK) {
		r = rcpt_hsm_fail(h, diag, "C_SetAttributeValue", rv);
		goto out;
	}
	if ((rv = set_label(h, s, priv, new_label)) != CKR_OK) {
		r = rcpt_hsm_fail(h, diag, "C_SetAttributeValue", rv);
		/* Keep the pair whole under its old name if we can. */
		(void)set_label(h, s, pub, old_label);
		goto out;
	}
	r = RCPT_OK;
out:
	rcpt_hsm_cache_drop(h, old_label);
	rcpt_hsm_cache_drop(h, new_label);
	if (r == RCPT_E_DENIED)
		r = RCPT_E_KEY_UNAVAILABLE;
	rcpt_hsm_session_put(h, s, rv);
	(void)pthread_mutex_unlock(&h->write_mu);
	return r;
}

int
rcpt_hsm_public_key(struct rcpt_hsm *h, const char *label,
    uint8_t pub_out[RCPT_HSM_PUB_LEN], struct rcpt_diag *diag)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE pub;
	CK_RV rv = CKR_OK;
	int r = RCPT_E_INTERNAL, cached;

	if (h == NULL || pub_out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "hsm: missing argument");
	memset(pub_out, 0, RCPT_HSM_PUB_LEN);
	if ((r = rcpt_hsm_check_label(label, diag)) != RCPT_OK)
		return r;
	if ((r = rcpt_hsm_session_take(h, &s, diag)) != RCPT_OK)
		return r;
	rcpt_hsm_cache_get(h, label, NULL, &pub);
	cached = pub != CK_INVALID_HANDLE;
	if (!cached) {
		r = rcpt_hsm_find(h, s, CKO_PUBLIC_KEY, label, &pub, &rv, diag);
		if (r != RCPT_OK)
			goto out;
	}
	r = read_point(h, s, pub, pub_out, &rv, diag);
	if (r != RCPT_OK && cached)
		rcpt_hsm_cache_drop(h, label);
	if (r == RCPT_OK && !cached)
		rcpt_hsm_cache_put(h, label, CK_INVALID_HANDLE, pub);
out:
	rcpt_hsm_session_put(h, s, rv);
	return r;
}

/* One C_SignInit + C_Sign with CKM_EDDSA (no parameters: pure Ed25519). */
static CK_RV
sign_once(struct rcpt_hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key,
    const uint8_t *msg, size_t len, uint8_t sig_out[RCPT_HSM_SIG_LEN],
    const char **fn_out)
{
	CK_MECHANISM mech = {CKM_EDDSA, NULL, 0};
	CK_ULONG sl = RCPT_HSM_SIG_LEN;
	CK_BYTE none = 0;
	CK_RV rv;

	*fn_out = "C_SignInit";
	if ((rv = h->fn->C_SignInit(s, &mech, key)) != CKR_OK)
		return rv;
	*fn_out = "C_Sign";
	/* Some modules refuse a NULL pointer even for zero bytes. */
	rv = h->fn->C_Sign(
	    s, len > 0 ? (CK_BYTE *)msg : &none, len, sig_out, &sl);
	if (rv == CKR_OK && sl != RCPT_HSM_SIG_LEN)
		rv = CKR_SIGNATURE_LEN_RANGE;
	return rv;
}

static int
token_gone(struct rcpt_hsm *h)
{
	CK_TOKEN_INFO ti;

	return h->fn->C_GetTokenInfo(h->slot, &ti) != CKR_OK;
}

int
rcpt_hsm_sign(struct rcpt_hsm *h, const char *label, const uint8_t *msg,
    size_t len, uint8_t sig_out[RCPT_HSM_SIG_LEN], struct rcpt_diag *diag)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE key;
	CK_RV rv = CKR_OK;
	const char *fn = "C_Sign";
	int r = RCPT_E_INTERNAL, cached;

	if (h == NULL || sig_out == NULL || (msg == NULL && len > 0))
		return rcpt_diag(diag, RCPT_E_INVAL, "hsm: missing argument");
	memset(sig_out, 0, RCPT_HSM_SIG_LEN);
	if ((r = rcpt_hsm_check_label(label, diag)) != RCPT_OK)
		return r;
	if ((r = rcpt_hsm_session_take(h, &s, diag)) != RCPT_OK)
		return r;
	rcpt_hsm_cache_get(h, label, &key, NULL);
	cached = key != CK_INVALID_HANDLE;
	if (cached) {
		rv = sign_once(h, s, key, msg, len, sig_out, &fn);
		if (rv != CKR_KEY_HANDLE_INVALID &&
		    rv != CKR_OBJECT_HANDLE_INVALID)
			goto done;
		/* The key went away behind our back: look it up once more. */
		rcpt_hsm_cache_drop(h, label);
	}
	if ((r = rcpt_hsm_find(
	         h, s, CKO_PRIVATE_KEY, label, &key, &rv, diag)) != RCPT_OK) {
		/*
		 * A key that vanished with its token (SoftHSM2: the token
		 * directory went away) leaves the session looking fine;
		 * only the token info fails.  Then reopen the pool.
		 */
		if (r == RCPT_E_NOT_FOUND && token_gone(h))
			rv = CKR_TOKEN_NOT_PRESENT;
		goto out;
	}
	rcpt_hsm_cache_put(h, label, key, CK_INVALID_HANDLE);
	rv = sign_once(h, s, key, msg, len, sig_out, &fn);
done:
	if (rv != CKR_OK) {
		rcpt_hsm_cache_drop(h, label);
		r = rcpt_hsm_fail(h, diag, fn, rv);
		/* A wrong PIN is not the issue here: the key is unusable. */
		if (r == RCPT_E_DENIED)
			r = RCPT_E_KEY_UNAVAILABLE;
		goto out;
	}
	r = RCPT_OK;
out:
	if (r != RCPT_OK)
		memset(sig_out, 0, RCPT_HSM_SIG_LEN);
	rcpt_hsm_session_put(h, s, rv);
	return r;
}

/* Reads CKA_LABEL of @p o into @p out; 0 when it is not a usable label. */
static CK_RV
read_label(struct rcpt_hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
    char out[RCPT_HSM_LABEL_MAX + 1], int *ok)
{
	CK_ATTRIBUTE a = {CKA_LABEL, out, RCPT_HSM_LABEL_MAX};
	CK_RV rv;

	*ok = 0;
	memset(out, 0, RCPT_HSM_LABEL_MAX + 1);
	rv = h->fn->C_GetAttributeValue(s, o, &a, 1);
	/* Too long or unreadable labels are not ours: skip, no error. */
	if (rv == CKR_BUFFER_TOO_SMALL || rv == CKR_ATTRIBUTE_SENSITIVE ||
	    rv == CKR_ATTRIBUTE_TYPE_INVALID)
		return CKR_OK;
	if (rv != CKR_OK)
		return rv;
	if (a.ulValueLen == 0 || a.ulValueLen > RCPT_HSM_LABEL_MAX ||
	    memchr(out, '\0', a.ulValueLen) != NULL)
		return CKR_OK;
	out[a.ulValueLen] = '\0';
	*ok = 1;
	return CKR_OK;
}

/* Collects the handles of every Ed25519 private key on the token. */
static int
find_all_keys(struct rcpt_hsm *h, CK_SESSION_HANDLE s,
    CK_OBJECT_HANDLE **objs_out, size_t *n_out, CK_RV *rv_out,
    struct rcpt_diag *diag)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt = CKK_EC_EDWARDS;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {
	    {CKA_CLASS, &cls, sizeof(cls)},
	    {CKA_TOKEN, &yes, sizeof(yes)},
	    {CKA_KEY_TYPE, &kt, sizeof(kt)},
	};
	CK_OBJECT_HANDLE *objs = NULL, *tmp;
	size_t n = 0, cap = 0;
	CK_ULONG got;
	CK_RV rv, rv2;
	int r = RCPT_E_INTERNAL;

	*objs_out = NULL;
	*n_out = 0;
	if ((rv = h->fn->C_FindObjectsInit(s, tmpl, 3)) != CKR_OK) {
		*rv_out = rv;
		return rcpt_hsm_fail(h, diag, "C_FindObjectsInit", rv);
	}
	for (;;) {
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			tmp = rcpt_reallocarray(objs, cap, sizeof(*objs));
			if (tmp == NULL) {
				r = RCPT_E_NOMEM;
				rv = CKR_OK;
				goto out;
			}
			objs = tmp;
		}
		rv = h->fn->C_FindObjects(s, objs + n, cap - n, &got);
		if (rv != CKR_OK) {
			r = rcpt_hsm_fail(h, diag, "C_FindObjects", rv);
			goto out;
		}
		if (got == 0)
			break;
		n += got;
	}
	r = RCPT_OK;
out:
	rv2 = h->fn->C_FindObjectsFinal(s);
	if (r == RCPT_OK && rv2 != CKR_OK) {
		r = rcpt_hsm_fail(h, diag, "C_FindObjectsFinal", rv2);
		rv = rv2;
	}
	*rv_out = rv;
	if (r != RCPT_OK) {
		free(objs);
		return r;
	}
	*objs_out = objs;
	*n_out = n;
	return RCPT_OK;
}

int
rcpt_hsm_list(struct rcpt_hsm *h, struct rcpt_hsm_key **keys_out, size_t *n_out,
    struct rcpt_diag *diag)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE *objs = NULL, pub;
	struct rcpt_hsm_key *keys = NULL;
	struct rcpt_diag skip;
	size_t n = 0, i, k = 0;
	CK_RV rv = CKR_OK;
	int r = RCPT_E_INTERNAL, ok;

	if (keys_out == NULL || n_out == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "hsm: missing argument");
	*keys_out = NULL;
	*n_out = 0;
	if (h == NULL)
		return rcpt_diag(diag, RCPT_E_INVAL, "hsm: missing argument");
	if ((r = rcpt_hsm_session_take(h, &s, diag)) != RCPT_OK)
		return r;
	if ((r = find_all_keys(h, s, &objs, &n, &rv, diag)) != RCPT_OK)
		goto out;
	if ((keys = rcpt_calloc(n > 0 ? n : 1, sizeof(*keys))) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((rv = read_label(h, s, objs[i], keys[k].label, &ok)) !=
		    CKR_OK) {
			r = rcpt_hsm_fail(h, diag, "C_GetAttributeValue", rv);
			goto out;
		}
		if (!ok)
			continue;
		/* A private key without its Ed25519 public half is skipped. */
		rcpt_diag_clear(&skip);
		r = rcpt_hsm_find(
		    h, s, CKO_PUBLIC_KEY, keys[k].label, &pub, &rv, &skip);
		if (r == RCPT_OK)
			r = read_point(h, s, pub, keys[k].pub, &rv, &skip);
		if (rcpt_hsm_ckr_is_fatal(rv) || r == RCPT_E_NOMEM) {
			r = rcpt_diag(diag, r, "%s", skip.msg);
			goto out;
		}
		if (r == RCPT_OK)
			k++;
	}
	*keys_out = keys;
	*n_out = k;
	keys = NULL;
	rv = CKR_OK;
	r = RCPT_OK;
out:
	free(keys);
	free(objs);
	rcpt_hsm_session_put(h, s, rv);
	return r;
}
