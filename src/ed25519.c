/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ed25519 through OpenSSL 3 EVP, with the strictness SPEC 3 asks for.
 *
 * OpenSSL 3.0 already refuses S >= L and any R that is not the canonical
 * encoding of the recomputed point, but it accepts public keys of small
 * order (the identity key verifies a zero signature over any message)
 * and public keys whose y coordinate is not reduced modulo p.  Those
 * checks, and the small-order check on R, are made here on the encodings
 * before OpenSSL is asked; S and canonical R are checked here as well,
 * because they cost a few byte comparisons and keep the result
 * independent of the OpenSSL version.  No curve arithmetic is done here.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "ed25519.h"
#include "mem.h"

/* The group order L, little-endian. */
static const uint8_t order_l[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12,
    0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x10};

/*
 * The y coordinates, little-endian and without the sign bit, of every
 * encoding of a point of order 1, 2, 4 or 8: the identity (y = 1), the
 * point of order 2 (y = p - 1), the two of order 4 (y = 0), the four of
 * order 8 (two y values), and the unreduced forms y + p of y = 0 and
 * y = 1.  Comparing without the sign bit also catches the invalid
 * "x = 0 with the sign bit set" forms of y = 1 and y = p - 1.  Values
 * worked out from the curve equation for this module.
 */
static const uint8_t small_order_y[7][32] = {
    {0x01},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0x00},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89,
        0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39,
        0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76,
        0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6,
        0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};

struct rcpt_ed25519_vctx {
	EVP_PKEY *pkey; /* the parsed public key */
	EVP_MD_CTX *md; /* reused for every check */
	int acceptable; /* 0 when the key can never verify */
};

/* 1 when the y coordinate of @p enc is below p = 2^255 - 19. */
static int
is_canonical(const uint8_t enc[32])
{
	int i;

	if ((enc[31] & 0x7f) != 0x7f)
		return 1;
	for (i = 30; i > 0; i--)
		if (enc[i] != 0xff)
			return 1;
	return enc[0] < 0xed;
}

static int
is_small_order(const uint8_t enc[32])
{
	size_t i;

	for (i = 0; i < sizeof(small_order_y) / sizeof(small_order_y[0]); i++) {
		if (memcmp(enc, small_order_y[i], 31) == 0 &&
		    (enc[31] & 0x7f) == small_order_y[i][31])
			return 1;
	}
	return 0;
}

/* 1 when the little-endian scalar @p s is below L. */
static int
scalar_is_reduced(const uint8_t s[32])
{
	int i;

	for (i = 31; i >= 0; i--) {
		if (s[i] < order_l[i])
			return 1;
		if (s[i] > order_l[i])
			return 0;
	}
	return 0;
}

/* The checks on R and S that OpenSSL need not see. */
static int
sig_is_acceptable(const uint8_t sig[RCPT_ED25519_SIG_LEN])
{
	return scalar_is_reduced(sig + 32) && is_canonical(sig) &&
	       !is_small_order(sig);
}

int
rcpt_ed25519_pub_is_acceptable(const uint8_t pub[RCPT_ED25519_PUB_LEN])
{
	return is_canonical(pub) && !is_small_order(pub);
}

int
rcpt_ed25519_public(const uint8_t seed[RCPT_ED25519_SEED_LEN],
    uint8_t pub_out[RCPT_ED25519_PUB_LEN])
{
	EVP_PKEY *k;
	size_t len = RCPT_ED25519_PUB_LEN;
	int r = RCPT_E_INTERNAL;

	if ((k = EVP_PKEY_new_raw_private_key(
	         EVP_PKEY_ED25519, NULL, seed, RCPT_ED25519_SEED_LEN)) == NULL)
		goto out;
	if (EVP_PKEY_get_raw_public_key(k, pub_out, &len) != 1 ||
	    len != RCPT_ED25519_PUB_LEN)
		goto out;
	r = RCPT_OK;
out:
	EVP_PKEY_free(k);
	if (r != RCPT_OK) {
		memset(pub_out, 0, RCPT_ED25519_PUB_LEN);
		ERR_clear_error();
	}
	return r;
}

int
rcpt_ed25519_sign(const uint8_t seed[RCPT_ED25519_SEED_LEN], const uint8_t *msg,
    size_t len, uint8_t sig_out[RCPT_ED25519_SIG_LEN])
{
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *md = NULL;
	size_t siglen = RCPT_ED25519_SIG_LEN;
	int r = RCPT_E_INTERNAL;

	memset(sig_out, 0, RCPT_ED25519_SIG_LEN);
	/* OpenSSL wipes its copy of the key when the EVP_PKEY is freed. */
	if ((k = EVP_PKEY_new_raw_private_key(
	         EVP_PKEY_ED25519, NULL, seed, RCPT_ED25519_SEED_LEN)) == NULL)
		goto out;
	if ((md = EVP_MD_CTX_new()) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	if (EVP_DigestSignInit(md, NULL, NULL, NULL, k) != 1 ||
	    EVP_DigestSign(md, sig_out, &siglen, msg, len) != 1 ||
	    siglen != RCPT_ED25519_SIG_LEN)
		goto out;
	r = RCPT_OK;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	if (r != RCPT_OK) {
		memset(sig_out, 0, RCPT_ED25519_SIG_LEN);
		ERR_clear_error();
	}
	return r;
}

/* Runs one OpenSSL verification on a prepared context. */
static int
evp_verify(EVP_MD_CTX *md, EVP_PKEY *k, const uint8_t *msg, size_t len,
    const uint8_t sig[RCPT_ED25519_SIG_LEN])
{
	int ok;

	if (EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) != 1) {
		ERR_clear_error();
		return RCPT_E_INTERNAL;
	}
	ok = EVP_DigestVerify(md, sig, RCPT_ED25519_SIG_LEN, msg, len);
	if (ok == 1)
		return RCPT_OK;
	/* A failed check may leave entries we do not want to accumulate. */
	ERR_clear_error();
	return RCPT_E_BAD_SIGNATURE;
}

int
rcpt_ed25519_verify(const uint8_t pub[RCPT_ED25519_PUB_LEN], const uint8_t *msg,
    size_t len, const uint8_t sig[RCPT_ED25519_SIG_LEN])
{
	EVP_PKEY *k = NULL;
	EVP_MD_CTX *md = NULL;
	int r;

	if (!rcpt_ed25519_pub_is_acceptable(pub) || !sig_is_acceptable(sig))
		return RCPT_E_BAD_SIGNATURE;
	if ((k = EVP_PKEY_new_raw_public_key(
	         EVP_PKEY_ED25519, NULL, pub, RCPT_ED25519_PUB_LEN)) == NULL) {
		ERR_clear_error();
		return RCPT_E_NOMEM;
	}
	if ((md = EVP_MD_CTX_new()) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	r = evp_verify(md, k, msg, len, sig);
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(k);
	return r;
}

int
rcpt_ed25519_vctx_new(
    const uint8_t pub[RCPT_ED25519_PUB_LEN], struct rcpt_ed25519_vctx **out)
{
	struct rcpt_ed25519_vctx *c;
	int r = RCPT_E_NOMEM;

	*out = NULL;
	if ((c = rcpt_calloc(1, sizeof(*c))) == NULL)
		return RCPT_E_NOMEM;
	c->acceptable = rcpt_ed25519_pub_is_acceptable(pub);
	if ((c->md = EVP_MD_CTX_new()) == NULL)
		goto out;
	if ((c->pkey = EVP_PKEY_new_raw_public_key(
	         EVP_PKEY_ED25519, NULL, pub, RCPT_ED25519_PUB_LEN)) == NULL) {
		ERR_clear_error();
		goto out;
	}
	*out = c;
	c = NULL;
	r = RCPT_OK;
out:
	rcpt_ed25519_vctx_free(c);
	return r;
}

int
rcpt_ed25519_vctx_verify(struct rcpt_ed25519_vctx *c, const uint8_t *msg,
    size_t len, const uint8_t sig[RCPT_ED25519_SIG_LEN])
{
	int r;

	if (c == NULL)
		return RCPT_E_INVAL;
	if (!c->acceptable || !sig_is_acceptable(sig))
		return RCPT_E_BAD_SIGNATURE;
	r = evp_verify(c->md, c->pkey, msg, len, sig);
	/* Keeps the allocation; the next check initialises it again. */
	(void)EVP_MD_CTX_reset(c->md);
	return r;
}

void
rcpt_ed25519_vctx_free(struct rcpt_ed25519_vctx *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->md);
	EVP_PKEY_free(c->pkey);
	free(c);
}
