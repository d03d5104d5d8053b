/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The signer adapter: a struct rcpt_signer over one provider key, so
 * receipts, checkpoints and bundles sign through any provider.  Each
 * signature is checked under the key's public half before it is handed
 * out, because a faulty token must not put an unverifiable signature on
 * record, and a signer signs for its own kid only.  Bindings live as
 * long as the loaded provider; signing after rcpt_ks_close() fails
 * cleanly.  Not here: choosing which key signs (the daemon).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "keystore/keystore-int.h"
#include "keystore/keystore.h"
#include "src/ed25519.h"
#include "src/mem.h"

void
rcpt_ks_signers_free(struct rcpt_ks_provider *p)
{
	size_t i;

	for (i = 0; i < p->nbinds; i++) {
		free(p->binds[i]->handle);
		free(p->binds[i]);
	}
	free(p->binds);
	p->binds = NULL;
	p->nbinds = 0;
}

/*
 * The signer's calls get no diag, so a provider's explanation is logged
 * here, where it is still known, and the caller sees a plain code.
 */
static int
bound_sign(void *ctx, const char *kid, const uint8_t *msg, size_t len,
    uint8_t sig_out[RCPT_ED25519_SIG_LEN])
{
	const struct rcpt_ks_binding *b = ctx;
	struct rcpt_diag d;
	int r;

	memset(sig_out, 0, RCPT_ED25519_SIG_LEN);
	if (b == NULL || kid == NULL || strcmp(kid, b->kid) != 0)
		return RCPT_E_KEY_UNAVAILABLE;
	rcpt_diag_clear(&d);
	if ((r = rcpt_ks_sign(b->p, b->handle, msg, len, sig_out, &d)) !=
	    RCPT_OK) {
		rcpt_ks_log(b->p, RCPT_KS_LOG_ERR, rcpt_diag_msg(&d, r));
		return r == RCPT_E_NOMEM ? r : RCPT_E_KEY_UNAVAILABLE;
	}
	/* A faulty token must not put an unverifiable signature on record. */
	if ((r = rcpt_ed25519_verify(b->pub, msg, len, sig_out)) != RCPT_OK) {
		memset(sig_out, 0, RCPT_ED25519_SIG_LEN);
		(void)rcpt_diag(&d, r,
		    "provider %s: sign: signature for kid %s does not verify",
		    b->p->what, b->kid);
		rcpt_ks_log(b->p, RCPT_KS_LOG_ERR, d.msg);
		return r == RCPT_E_NOMEM ? r : RCPT_E_KEY_UNAVAILABLE;
	}
	return RCPT_OK;
}

static int
bound_sign32(void *ctx, const char *kid, const uint8_t msg[32],
    uint8_t sig_out[RCPT_ED25519_SIG_LEN])
{
	return bound_sign(ctx, kid, msg, 32, sig_out);
}

int
rcpt_ks_signer(struct rcpt_ks_provider *p, const char *handle,
    struct rcpt_signer *out, struct rcpt_diag *diag)
{
	uint8_t pub[RCPT_ED25519_PUB_LEN];
	struct rcpt_ks_binding *b = NULL, **grown;
	size_t i;
	int r = RCPT_E_INTERNAL;

	if (out == NULL || handle == NULL)
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "provider: missing argument");
	memset(out, 0, sizeof(*out));
	if ((r = rcpt_ks_public_key(p, handle, pub, diag)) != RCPT_OK)
		return r;
	for (i = 0; i < p->nbinds; i++)
		if (strcmp(p->binds[i]->handle, handle) == 0 &&
		    memcmp(p->binds[i]->pub, pub, sizeof(pub)) == 0)
			break;
	if (i < p->nbinds) {
		b = p->binds[i];
	} else {
		if (p->nbinds >= RCPT_KS_SIGNERS_MAX)
			return rcpt_diag(diag, RCPT_E_TOO_LARGE,
			    "provider %s: more than %d signers", p->what,
			    RCPT_KS_SIGNERS_MAX);
		if ((b = rcpt_calloc(1, sizeof(*b))) == NULL ||
		    (b->handle = rcpt_strdup(handle)) == NULL) {
			r = rcpt_diag(diag, RCPT_E_NOMEM,
			    "provider %s: out of memory", p->what);
			goto out;
		}
		b->p = p;
		memcpy(b->pub, pub, sizeof(pub));
		if ((r = rcpt_ks_key_kid(p, "signer", pub, b->kid, diag)) !=
		    RCPT_OK)
			goto out;
		if ((grown = rcpt_reallocarray(
		         p->binds, p->nbinds + 1, sizeof(*grown))) == NULL) {
			r = rcpt_diag(diag, RCPT_E_NOMEM,
			    "provider %s: out of memory", p->what);
			goto out;
		}
		p->binds = grown;
		p->binds[p->nbinds++] = b;
	}
	out->ctx = b;
	out->sign = bound_sign32;
	out->sign_msg = bound_sign;
	memcpy(out->kid, b->kid, sizeof(out->kid));
	memcpy(out->pub, b->pub, sizeof(out->pub));
	b = NULL;
	r = RCPT_OK;
out:
	if (b != NULL) { /* only a binding not yet in p->binds */
		free(b->handle);
		free(b);
	}
	return r;
}
