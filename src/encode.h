/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict text encodings of binary values used by the wire format:
 * lowercase hex, unpadded canonical base64url (SPEC common rules) and
 * standard padded base64 (checkpoints).  Decoders refuse every
 * non-canonical form rather than normalising it.
 */
#ifndef RCPT_SRC_ENCODE_H
#define RCPT_SRC_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/** Length of the base64url text for @p n bytes (no padding, no NUL). */
#define RCPT_B64URL_LEN(n) (((n)*4 + 2) / 3)
/** Length of the padded base64 text for @p n bytes (no NUL). */
#define RCPT_B64_LEN(n) ((((n) + 2) / 3) * 4)

/** Writes 2 * @p n lowercase hex digits and a NUL to @p out. */
void rcpt_hex_encode(const uint8_t *in, size_t n, char *out);

/**
 * Decodes exactly 2 * @p n lowercase hex digits from @p in (length
 * @p len) into @p out.
 * @return RCPT_OK, or RCPT_E_INVAL on a wrong length, an uppercase or a
 * non-hex digit.
 */
int rcpt_hex_decode(
    const char *in, size_t len, uint8_t *out, size_t n) RCPT_MUST_CHECK;

/** Writes RCPT_B64URL_LEN(@p n) characters and a NUL to @p out. */
void rcpt_b64url_encode(const uint8_t *in, size_t n, char *out);

/**
 * Decodes unpadded base64url text that must yield exactly @p n bytes.
 * @return RCPT_OK, or RCPT_E_INVAL on a wrong length, padding, a foreign
 * character or non-zero unused bits.
 */
int rcpt_b64url_decode(
    const char *in, size_t len, uint8_t *out, size_t n) RCPT_MUST_CHECK;

/** Writes RCPT_B64_LEN(@p n) characters and a NUL to @p out. */
void rcpt_b64_encode(const uint8_t *in, size_t n, char *out);

/**
 * Decodes padded standard base64 into at most @p cap bytes.
 * @param[out] n_out bytes written.
 * @return RCPT_OK, RCPT_E_INVAL on bad text or non-canonical padding
 * bits, RCPT_E_TOO_LARGE when it would not fit.
 */
int rcpt_b64_decode(const char *in, size_t len, uint8_t *out, size_t cap,
    size_t *n_out) RCPT_MUST_CHECK;

#endif
