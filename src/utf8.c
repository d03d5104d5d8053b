/* SPDX-License-Identifier: Apache-2.0 */
/* Strict UTF-8 decoding per RFC 3629 (Table 3-7 of Unicode). */
#include "config.h"

#include "utf8.h"

size_t
rcpt_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp_out)
{
	uint32_t cp;
	size_t n, i;
	uint8_t c;

	if (len == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp_out = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	if (rcpt_utf8_is_surrogate(cp))
		return 0;
	*cp_out = cp;
	return n;
}

int
rcpt_utf8_is_nonchar(uint32_t cp)
{
	return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe;
}

int
rcpt_utf8_is_surrogate(uint32_t cp)
{
	return cp >= 0xd800 && cp <= 0xdfff;
}

int
rcpt_utf8_check(const char *s, size_t len, size_t *count_out)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, n, count = 0;
	uint32_t cp;

	while (i < len) {
		if ((n = rcpt_utf8_decode(p + i, len - i, &cp)) == 0)
			return 0;
		if (rcpt_utf8_is_nonchar(cp))
			return 0;
		i += n;
		count++;
	}
	if (count_out != NULL)
		*count_out = count;
	return 1;
}

size_t
rcpt_utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}
