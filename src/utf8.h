/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UTF-8 rules shared by the JSON parser and the receipt field checks
 * (SPEC 1.1): well-formed UTF-8 only, no surrogates, no noncharacters.
 */
#ifndef RCPT_SRC_UTF8_H
#define RCPT_SRC_UTF8_H

#include <stddef.h>
#include <stdint.h>

/**
 * Decodes one code point from @p s (at most @p len bytes).
 * @return bytes consumed (1 to 4), or 0 when the bytes are not
 * well-formed UTF-8 (overlong, surrogate, beyond U+10FFFF, truncated).
 */
size_t rcpt_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp_out);

/** 1 when @p cp is a Unicode noncharacter (U+FDD0..FDEF, U+xxFFFE/F). */
int rcpt_utf8_is_nonchar(uint32_t cp);

/** 1 when @p cp is a surrogate (U+D800..DFFF). */
int rcpt_utf8_is_surrogate(uint32_t cp);

/**
 * Checks I-JSON string rules and counts code points.
 * @param[out] count_out code points, when the text is valid.
 * @return 1 when valid UTF-8 free of surrogates and noncharacters.
 */
int rcpt_utf8_check(const char *s, size_t len, size_t *count_out);

/** Appends the UTF-8 form of @p cp to @p out (4 bytes room). */
size_t rcpt_utf8_encode(uint32_t cp, char *out);

#endif
