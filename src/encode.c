/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hex and base64 codecs.  They are written out here rather than taken
 * from OpenSSL because OpenSSL's decoders accept white space, padding
 * and non-zero trailing bits, all of which the format forbids.
 */
#include "config.h"

#include <pthread.h>
#include <string.h>

#include "encode.h"

static const char hexdigits[] = "0123456789abcdef";
static const char b64url_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char b64_alpha[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
rcpt_hex_encode(const uint8_t *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

/*
 * Decoding tables: value of each byte, or -1.  The verifier decodes
 * several hex and base64url fields per receipt, so these are on its hot
 * path; a table beats branching and strchr.
 */
static signed char hex_table[256];
static signed char b64url_table[256];
static signed char b64_table[256];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void
fill_table(signed char *t, const char *alpha)
{
	int i;

	memset(t, -1, 256);
	for (i = 0; alpha[i] != '\0'; i++)
		t[(unsigned char)alpha[i]] = (signed char)i;
}

static void
init_tables(void)
{
	fill_table(hex_table, hexdigits);
	fill_table(b64url_table, b64url_alpha);
	fill_table(b64_table, b64_alpha);
}

static int
hexval(char c)
{
	return hex_table[(unsigned char)c];
}

int
rcpt_hex_decode(const char *in, size_t len, uint8_t *out, size_t n)
{
	size_t i;
	int hi, lo;

	if (len != 2 * n)
		return RCPT_E_INVAL;
	pthread_once(&tables_once, init_tables);
	for (i = 0; i < n; i++) {
		if ((hi = hexval(in[2 * i])) < 0 ||
		    (lo = hexval(in[2 * i + 1])) < 0)
			return RCPT_E_INVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return RCPT_OK;
}

static void
b64_encode_with(
    const char *alpha, int pad, const uint8_t *in, size_t n, char *out)
{
	size_t i, o = 0;
	uint32_t v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		out[o++] = alpha[v >> 6 & 63];
		out[o++] = alpha[v & 63];
	}
	if (n - i == 1) {
		v = (uint32_t)in[i] << 16;
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = alpha[v >> 18 & 63];
		out[o++] = alpha[v >> 12 & 63];
		out[o++] = alpha[v >> 6 & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
}

void
rcpt_b64url_encode(const uint8_t *in, size_t n, char *out)
{
	b64_encode_with(b64url_alpha, 0, in, n, out);
}

void
rcpt_b64_encode(const uint8_t *in, size_t n, char *out)
{
	b64_encode_with(b64_alpha, 1, in, n, out);
}

/*
 * Decodes @p len unpadded characters.  The caller has already removed
 * padding and checked that @p len mod 4 is not 1.
 */
static int
b64_decode_with(const signed char *table, const char *in, size_t len,
    uint8_t *out, size_t cap, size_t *n_out)
{
	size_t i, o = 0, need;
	uint32_t acc = 0;
	int bits = 0, v;

	need = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1);
	if (need > cap)
		return RCPT_E_TOO_LARGE;
	for (i = 0; i < len; i++) {
		if ((v = table[(unsigned char)in[i]]) < 0)
			return RCPT_E_INVAL;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Canonical encodings leave the unused low bits zero. */
	if (acc != 0)
		return RCPT_E_INVAL;
	*n_out = o;
	return RCPT_OK;
}

int
rcpt_b64url_decode(const char *in, size_t len, uint8_t *out, size_t n)
{
	size_t got = 0;
	int r;

	if (len != RCPT_B64URL_LEN(n))
		return RCPT_E_INVAL;
	pthread_once(&tables_once, init_tables);
	if ((r = b64_decode_with(b64url_table, in, len, out, n, &got)) !=
	    RCPT_OK)
		return r == RCPT_E_TOO_LARGE ? RCPT_E_INVAL : r;
	return got == n ? RCPT_OK : RCPT_E_INVAL;
}

int
rcpt_b64_decode(
    const char *in, size_t len, uint8_t *out, size_t cap, size_t *n_out)
{
	size_t body = len;

	*n_out = 0;
	if (len % 4 != 0)
		return RCPT_E_INVAL;
	if (body > 0 && in[body - 1] == '=')
		body--;
	if (body > 0 && in[body - 1] == '=')
		body--;
	if (body % 4 == 1)
		return RCPT_E_INVAL;
	if (len - body != (4 - body % 4) % 4)
		return RCPT_E_INVAL;
	pthread_once(&tables_once, init_tables);
	return b64_decode_with(b64_table, in, body, out, cap, n_out);
}
