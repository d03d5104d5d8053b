/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Ed25519 with the strictness SPEC 3 asks for: signing and key
 * derivation through OpenSSL 3 EVP (the soft key; a token signs through
 * PKCS#11 elsewhere), verification through libsodium's
 * crypto_sign_ed25519_verify_detached, which is about twice as fast as
 * OpenSSL 3.0's on the same core.
 *
 * Before the library is asked, the encodings are checked here: public
 * keys and R of small order (the identity key verifies a zero signature
 * over any message), y coordinates not reduced modulo p, S >= L, and so
 * a non-canonical R.  libsodium 1.0.18 built without ED25519_COMPAT
 * refuses all of these too, but the checks cost a few byte comparisons
 * and make the answer independent of the library's version and build.
 * No curve arithmetic is done here.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <sodium.h>

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
	uint8_t pub[RCPT_ED25519_PUB_LEN];
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

/* The checks on R and S made before the library is asked. */
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

/*
 * sodium_init() runs once per process.  It picks libsodium's code paths
 * and starts its random source (getrandom(2) or /dev/urandom), which a
 * daemon must do before a seccomp filter forbids those system calls.
 * Its result is kept so that every caller sees the same answer; this
 * pair is the module's only process-wide state, as it is libsodium's.
 */
static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_result = RCPT_E_INTERNAL;

static void
start_sodium(void)
{
	sodium_result = sodium_init() < 0 ? RCPT_E_INTERNAL : RCPT_OK;
}

int
rcpt_ed25519_init(void)
{
	if (pthread_once(&sodium_once, start_sodium) != 0)
		return RCPT_E_INTERNAL;
	return sodium_result;
}

/*
 * The check itself, once the encodings have passed.  libsodium makes
 * the same encoding checks again; ours stay so that the answer does not
 * depend on how a given libsodium version was built (ED25519_COMPAT).
 */
static int
sodium_verify(const uint8_t pub[RCPT_ED25519_PUB_LEN], const uint8_t *msg,
    size_t len, const uint8_t sig[RCPT_ED25519_SIG_LEN])
{
	int r;

	if ((r = rcpt_ed25519_init()) != RCPT_OK)
		return r;
	if (crypto_sign_ed25519_verify_detached(sig, msg, len, pub) != 0)
		return RCPT_E_BAD_SIGNATURE;
	return RCPT_OK;
}

int
rcpt_ed25519_verify(const uint8_t pub[RCPT_ED25519_PUB_LEN], const uint8_t *msg,
    size_t len, const uint8_t sig[RCPT_ED25519_SIG_LEN])
{
	if (!rcpt_ed25519_pub_is_acceptable(pub) || !sig_is_acceptable(sig))
		return RCPT_E_BAD_SIGNATURE;
	return sodium_verify(pub, msg, len, sig);
}

int
rcpt_ed25519_vctx_new(
    const uint8_t pub[RCPT_ED25519_PUB_LEN], struct rcpt_ed25519_vctx **out)
{
	struct rcpt_ed25519_vctx *c;
	int r;

	*out = NULL;
	if ((r = rcpt_ed25519_init()) != RCPT_OK)
		return r;
	if ((c = rcpt_calloc(1, sizeof(*c))) == NULL)
		return RCPT_E_NOMEM;
	memcpy(c->pub, pub, RCPT_ED25519_PUB_LEN);
	c->acceptable = rcpt_ed25519_pub_is_acceptable(pub);
	*out = c;
	return RCPT_OK;
}

int
rcpt_ed25519_vctx_verify(struct rcpt_ed25519_vctx *c, const uint8_t *msg,
    size_t len, const uint8_t sig[RCPT_ED25519_SIG_LEN])
{
	if (c == NULL)
		return RCPT_E_INVAL;
	if (!c->acceptable || !sig_is_acceptable(sig))
		return RCPT_E_BAD_SIGNATURE;
	return sodium_verify(c->pub, msg, len, sig);
}

void
rcpt_ed25519_vctx_free(struct rcpt_ed25519_vctx *c)
{
	free(c);
}
