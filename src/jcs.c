/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RFC 8785 canonical JSON (SPEC 2) written from json-c trees: the bytes
 * every hash and signature covers, so each rule here is exact.
 *
 * Numbers use the C library's correctly rounded printf and strtod to
 * find the shortest digits that read back as the same double; this is
 * slower than Ryu-style algorithms but easy to check, and integers (the
 * common case in receipts) take a direct path.  The module does not
 * parse text itself; rcpt_jcs_canon hands that to json.c.
 */
#include "config.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jcs.h"
#include "json.h"
#include "mem.h"
#include "utf8.h"

#define SORT_STACK 16 /* objects this small sort without allocating */

/* Buffers. */

void
rcpt_buf_clear(struct rcpt_buf *b)
{
	if (b == NULL)
		return;
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void
rcpt_buf_reset(struct rcpt_buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

/* Makes room for @p n more bytes plus the NUL. */
static int
buf_reserve(struct rcpt_buf *b, size_t n)
{
	size_t want, cap;
	char *p;

	if (n > SIZE_MAX - b->len - 1)
		return RCPT_E_NOMEM;
	want = b->len + n + 1;
	if (want <= b->cap)
		return RCPT_OK;
	cap = b->cap < 512 ? 512 : b->cap;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	if ((p = rcpt_realloc(b->p, cap)) == NULL)
		return RCPT_E_NOMEM;
	b->p = p;
	b->cap = cap;
	return RCPT_OK;
}

int
rcpt_buf_reserve(struct rcpt_buf *b, size_t n)
{
	return buf_reserve(b, n);
}

int
rcpt_buf_append(struct rcpt_buf *b, const void *p, size_t n)
{
	int r;

	if ((r = buf_reserve(b, n)) != RCPT_OK)
		return r;
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return RCPT_OK;
}

static int
buf_putc(struct rcpt_buf *b, char c)
{
	if (b->len + 1 >= b->cap && buf_reserve(b, 1) != RCPT_OK)
		return RCPT_E_NOMEM;
	b->p[b->len++] = c;
	b->p[b->len] = '\0';
	return RCPT_OK;
}

/* Numbers. */

static int
reads_back(uint64_t m, int e10, double d)
{
	char t[48];

	snprintf(t, sizeof(t), "%llue%d", (unsigned long long)m, e10);
	return strtod(t, NULL) == d;
}

/*
 * Finds a decimal m * 10^e10 with @p prec significant digits that reads
 * back as @p d (positive, finite), preferring the nearest to @p d.  The
 * correctly rounded one is the nearest; when it falls outside d's
 * rounding interval (which is lopsided at powers of two) the grid point
 * on the other side of d may still be inside, and no other can be.
 */
static int
digits_for(double d, int prec, uint64_t *m_out, int *e10_out)
{
	char t[48];
	uint64_t m = 0, pow = 1;
	int i, e, e10;

	snprintf(t, sizeof(t), "%.*e", prec - 1, d);
	/* Skip the decimal point, whatever LC_NUMERIC makes it. */
	for (i = 0; t[i] != 'e' && t[i] != '\0'; i++)
		if (t[i] >= '0' && t[i] <= '9')
			m = m * 10 + (uint64_t)(t[i] - '0');
	if (t[i] != 'e')
		return 0;
	e = atoi(t + i + 1);
	e10 = e - prec + 1;
	if (reads_back(m, e10, d)) {
		*m_out = m;
		*e10_out = e10;
		return 1;
	}
	for (i = 1; i < prec; i++)
		pow *= 10;
	if (reads_back(m + 1, e10, d)) {
		*m_out = m + 1;
		*e10_out = e10;
		return 1;
	}
	if (m == pow) {
		/* Below a power of ten the grid is ten times finer. */
		m = pow * 10 - 1;
		e10--;
	} else {
		m--;
	}
	if (reads_back(m, e10, d)) {
		*m_out = m;
		*e10_out = e10;
		return 1;
	}
	return 0;
}

/* Writes digits s (k of them) with decimal exponent n per ES 7.1.12.1. */
static void
format_es(int neg, const char *s, int k, int n, char *out)
{
	char *o = out;

	if (neg)
		*o++ = '-';
	if (k <= n && n <= 21) {
		memcpy(o, s, (size_t)k);
		o += k;
		memset(o, '0', (size_t)(n - k));
		o += n - k;
	} else if (0 < n && n <= 21) {
		memcpy(o, s, (size_t)n);
		o += n;
		*o++ = '.';
		memcpy(o, s + n, (size_t)(k - n));
		o += k - n;
	} else if (-6 < n && n <= 0) {
		*o++ = '0';
		*o++ = '.';
		memset(o, '0', (size_t)-n);
		o += -n;
		memcpy(o, s, (size_t)k);
		o += k;
	} else {
		*o++ = s[0];
		if (k > 1) {
			*o++ = '.';
			memcpy(o, s + 1, (size_t)(k - 1));
			o += k - 1;
		}
		o += sprintf(o, "e%c%d", n - 1 < 0 ? '-' : '+',
		    n - 1 < 0 ? 1 - n : n - 1);
	}
	*o = '\0';
}

int
rcpt_jcs_number(double d, char out[RCPT_JCS_NUMBER_MAX])
{
	char s[24];
	uint64_t m = 0;
	int neg, prec, lo, hi, e10 = 0, k;

	out[0] = '\0';
	if (isnan(d) || isinf(d))
		return RCPT_E_INVAL;
	if (d == 0) {
		memcpy(out, "0", 2);
		return RCPT_OK;
	}
	neg = d < 0;
	if (neg)
		d = -d;
	if (d <= RCPT_JSON_MAX_SAFE && floor(d) == d) {
		/* Every integer up to 2^53 is a double: its digits are it. */
		snprintf(out, RCPT_JCS_NUMBER_MAX, "%s%llu", neg ? "-" : "",
		    (unsigned long long)d);
		return RCPT_OK;
	}
	/*
	 * Shortest digits that read back.  Two different decimals of at
	 * most 15 digits never read as the same double (DBL_DIG), so a
	 * 15-digit hit with its trailing zeros dropped is the shortest
	 * (for normal numbers; subnormals are searched);
	 * otherwise 16 or 17 digits are needed, and digits_for prefers
	 * the closest of them as ES requires.
	 */
	if (d >= DBL_MIN) {
		for (prec = 15; prec <= 17; prec++)
			if (digits_for(d, prec, &m, &e10))
				break;
	} else {
		/* Subnormals have fewer bits: search all precisions. */
		lo = 1;
		hi = 17;
		while (lo < hi) {
			prec = (lo + hi) / 2;
			if (digits_for(d, prec, &m, &e10))
				hi = prec;
			else
				lo = prec + 1;
		}
		prec = digits_for(d, lo, &m, &e10) ? lo : 18;
	}
	if (prec > 17)
		return RCPT_E_INTERNAL;
	while (m % 10 == 0) {
		m /= 10;
		e10++;
	}
	k = snprintf(s, sizeof(s), "%llu", (unsigned long long)m);
	format_es(neg, s, k, k + e10, out);
	return RCPT_OK;
}

/* Values. */

static int fail(struct rcpt_diag *diag, const struct rcpt_json_path *at,
    int err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
fail(struct rcpt_diag *diag, const struct rcpt_json_path *at, int err,
    const char *fmt, ...)
{
	char where[RCPT_JSON_PATH_MAX];
	char rule[160];
	va_list ap;

	if (diag == NULL || diag->set)
		return err;
	va_start(ap, fmt);
	vsnprintf(rule, sizeof(rule), fmt, ap);
	va_end(ap);
	rcpt_json_path_format(at, NULL, where, sizeof(where));
	return rcpt_diag(diag, err, "%s: %s", where, rule);
}

/* Returns NULL when @p s is valid, else the rule it breaks. */
static const char *
check_text(const char *s, size_t len)
{
	const uint8_t *u = (const uint8_t *)s;
	size_t i = 0, k;
	uint32_t cp;

	while (i < len) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((k = rcpt_utf8_decode(u + i, len - i, &cp)) == 0)
			return "invalid UTF-8";
		if (rcpt_utf8_is_nonchar(cp))
			return "noncharacter code point";
		i += k;
	}
	return NULL;
}

/* Appends @p s (already checked) as a JSON string, RFC 8785 3.2.2.2. */
static int
append_string(struct rcpt_buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *u = (const uint8_t *)s;
	size_t i, run = 0;
	char esc[6];
	int r;

	if ((r = buf_reserve(b, len + 2)) != RCPT_OK)
		return r;
	b->p[b->len++] = '"';
	for (i = 0; i < len; i++) {
		uint8_t c = u[i];
		size_t n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		esc[0] = '\\';
		switch (c) {
		case '"':
		case '\\':
			esc[1] = (char)c;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			n = 6;
		}
		if ((r = rcpt_buf_append(b, s + run, i - run)) != RCPT_OK ||
		    (r = rcpt_buf_append(b, esc, n)) != RCPT_OK)
			return r;
		run = i + 1;
	}
	if ((r = rcpt_buf_append(b, s + run, len - run)) != RCPT_OK)
		return r;
	return buf_putc(b, '"');
}

struct member {
	const char *name;
	size_t len;
	const json_object *v;
};

/* UTF-16 code unit order of a code point's first unit, widened. */
static uint32_t
utf16_rank(uint32_t cp)
{
	/* U+E000..U+FFFF come after the surrogates that encode >= U+10000. */
	return cp >= 0xe000 && cp <= 0xffff ? cp + 0x200000 : cp;
}

/* Orders valid UTF-8 names as RFC 8785 3.2.3 orders their UTF-16 forms. */
static int
cmp_names(const struct member *a, const struct member *b)
{
	const uint8_t *x = (const uint8_t *)a->name;
	const uint8_t *y = (const uint8_t *)b->name;
	size_t n = a->len < b->len ? a->len : b->len, i;
	uint32_t cx = 0, cy = 0;

	for (i = 0; i < n && x[i] == y[i]; i++)
		;
	if (i == n)
		return a->len < b->len ? -1 : a->len > b->len;
	/*
	 * UTF-8 byte order is code point order, which differs from UTF-16
	 * order only between U+E000..U+FFFF and U+10000 and up: that needs
	 * two different lead bytes, both non-ASCII.
	 */
	if (x[i] < 0x80 || y[i] < 0x80 || (x[i] & 0xc0) == 0x80)
		return x[i] < y[i] ? -1 : 1;
	(void)rcpt_utf8_decode(x + i, a->len - i, &cx);
	(void)rcpt_utf8_decode(y + i, b->len - i, &cy);
	return utf16_rank(cx) < utf16_rank(cy) ? -1 : 1;
}

static int
cmp_members(const void *a, const void *b)
{
	return cmp_names(a, b);
}

static int append_value(struct rcpt_buf *, const json_object *,
    const struct rcpt_json_path *, int, struct rcpt_diag *);

static int
append_object(struct rcpt_buf *b, const json_object *v,
    const struct rcpt_json_path *at, int depth, struct rcpt_diag *diag)
{
	struct member small[SORT_STACK], *mem = small, tmp;
	struct rcpt_json_path step = {at, NULL, 0, 0};
	struct lh_table *t = json_object_get_object(v);
	struct lh_entry *e;
	const char *why;
	size_t n = 0, cap = SORT_STACK, i, j;
	int r = RCPT_E_INTERNAL;

	for (e = lh_table_head(t); e != NULL; e = lh_entry_next(e)) {
		if (n == cap) {
			struct member *m2;

			m2 = rcpt_reallocarray(
			    mem == small ? NULL : mem, cap * 2, sizeof(*mem));
			if (m2 == NULL) {
				r = RCPT_E_NOMEM;
				goto out;
			}
			if (mem == small)
				memcpy(m2, small, sizeof(small));
			mem = m2;
			cap *= 2;
		}
		mem[n].name = lh_entry_k(e);
		mem[n].len = strlen(mem[n].name);
		mem[n].v = lh_entry_v(e);
		step.name = mem[n].name;
		step.name_len = mem[n].len;
		/* Checked before sorting: the order relies on valid UTF-8. */
		if ((why = check_text(mem[n].name, mem[n].len)) != NULL) {
			r = fail(
			    diag, &step, RCPT_E_INVAL, "member name: %s", why);
			goto out;
		}
		n++;
	}
	if (n <= SORT_STACK) {
		for (i = 1; i < n; i++) {
			tmp = mem[i];
			for (j = i; j > 0 && cmp_names(&tmp, &mem[j - 1]) < 0;
			     j--)
				mem[j] = mem[j - 1];
			mem[j] = tmp;
		}
	} else {
		qsort(mem, n, sizeof(*mem), cmp_members);
	}
	if ((r = buf_putc(b, '{')) != RCPT_OK)
		goto out;
	for (i = 0; i < n; i++) {
		step.name = mem[i].name;
		step.name_len = mem[i].len;
		if ((i > 0 && (r = buf_putc(b, ',')) != RCPT_OK) ||
		    (r = append_string(b, mem[i].name, mem[i].len)) !=
		        RCPT_OK ||
		    (r = buf_putc(b, ':')) != RCPT_OK ||
		    (r = append_value(b, mem[i].v, &step, depth, diag)) !=
		        RCPT_OK)
			goto out;
	}
	r = buf_putc(b, '}');
out:
	if (mem != small)
		free(mem);
	return r;
}

static int
append_array(struct rcpt_buf *b, const json_object *v,
    const struct rcpt_json_path *at, int depth, struct rcpt_diag *diag)
{
	struct rcpt_json_path step = {at, NULL, 0, 0};
	size_t n = json_object_array_length(v), i;
	int r;

	if ((r = buf_putc(b, '[')) != RCPT_OK)
		return r;
	for (i = 0; i < n; i++) {
		step.index = i;
		if ((i > 0 && (r = buf_putc(b, ',')) != RCPT_OK) ||
		    (r = append_value(b, json_object_array_get_idx(v, i), &step,
		         depth, diag)) != RCPT_OK)
			return r;
	}
	return buf_putc(b, ']');
}

static int
append_value(struct rcpt_buf *b, const json_object *v,
    const struct rcpt_json_path *at, int depth, struct rcpt_diag *diag)
{
	char num[RCPT_JCS_NUMBER_MAX];
	const char *s, *why;
	int64_t i;
	size_t n;

	switch (json_object_get_type(v)) {
	case json_type_null:
		return rcpt_buf_append(b, "null", 4);
	case json_type_boolean:
		if (json_object_get_boolean(v))
			return rcpt_buf_append(b, "true", 4);
		return rcpt_buf_append(b, "false", 5);
	case json_type_int:
		i = json_object_get_int64(v);
		if (i < -((int64_t)1 << 53) || i > (int64_t)1 << 53)
			return fail(
			    diag, at, RCPT_E_INVAL, "integer beyond 2^53");
		n = (size_t)snprintf(num, sizeof(num), "%lld", (long long)i);
		return rcpt_buf_append(b, num, n);
	case json_type_double:
		if (rcpt_jcs_number(json_object_get_double(v), num) != RCPT_OK)
			return fail(
			    diag, at, RCPT_E_INVAL, "number is not finite");
		return rcpt_buf_append(b, num, strlen(num));
	case json_type_string:
		/* json-c's getter is not const-qualified but does not write. */
		s = json_object_get_string((json_object *)v);
		n = (size_t)json_object_get_string_len(v);
		if ((why = check_text(s, n)) != NULL)
			return fail(diag, at, RCPT_E_INVAL, "%s", why);
		return append_string(b, s, n);
	case json_type_array:
	case json_type_object:
		if (depth >= RCPT_JCS_DEPTH_MAX)
			return fail(diag, at, RCPT_E_TOO_LARGE,
			    "nesting deeper than %d", RCPT_JCS_DEPTH_MAX);
		if (json_object_get_type(v) == json_type_array)
			return append_array(b, v, at, depth + 1, diag);
		return append_object(b, v, at, depth + 1, diag);
	}
	return fail(diag, at, RCPT_E_INVAL, "unsupported json-c type");
}

int
rcpt_jcs_append(
    struct rcpt_buf *b, const json_object *v, struct rcpt_diag *diag)
{
	if (b == NULL)
		return RCPT_E_INVAL;
	return append_value(b, v, NULL, 0, diag);
}

int
rcpt_jcs_serialize(
    const json_object *v, char **out, size_t *len_out, struct rcpt_diag *diag)
{
	struct rcpt_buf b = {0};
	int r;

	if (out == NULL || len_out == NULL)
		return RCPT_E_INVAL;
	*out = NULL;
	*len_out = 0;
	if ((r = append_value(&b, v, NULL, 0, diag)) != RCPT_OK) {
		rcpt_buf_clear(&b);
		return r;
	}
	*out = b.p;
	*len_out = b.len;
	return RCPT_OK;
}

int
rcpt_jcs_canon(const char *buf, size_t len, int max_depth, char **out,
    size_t *len_out, struct rcpt_diag *diag)
{
	json_object *v = NULL;
	int r;

	if (out == NULL || len_out == NULL)
		return RCPT_E_INVAL;
	*out = NULL;
	*len_out = 0;
	if ((r = rcpt_json_parse(buf, len, max_depth, NULL, &v, diag)) !=
	    RCPT_OK)
		return r;
	r = rcpt_jcs_serialize(v, out, len_out, diag);
	json_object_put(v);
	return r;
}
