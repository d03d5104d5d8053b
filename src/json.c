/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Strict JSON parser (RFC 8259 grammar, I-JSON rules of SPEC 1.1) that
 * builds json-c trees.  It is a plain recursive descent over the bytes:
 * one allocation per call for decoded names and strings, and JSON paths
 * that exist only as stack frames until a message needs them.
 *
 * It does not keep the source text, white space or number spelling; JCS
 * (jcs.c) decides how the values are written back.  The one output
 * helper here, rcpt_json_add(), only adds a member to a tree.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "mem.h"
#include "utf8.h"

#define NAME_SHOW_MAX  40        /* characters of a name shown in a path */
#define PATH_STEPS_MAX 320       /* deeper paths lose their outer steps */
#define NUM_SLACK      32        /* arena room a number text may need */
#define SMALL_ARENA    1024      /* inputs this small decode on the stack */
#define EXP_CLAMP      100000000 /* exponents beyond this saturate */

struct parser {
	const uint8_t *s; /* the text, borrowed */
	size_t len;
	size_t pos; /* next byte to read */
	int max_depth;
	unsigned flags;   /* RCPT_JSON_* */
	const char *root; /* name of the root in messages */
	struct rcpt_diag *diag;
	char *arena; /* decoded names and strings, len + NUM_SLACK + 1 bytes */
	size_t top;  /* arena bytes held by names of enclosing members */
};

static int parse_value(
    struct parser *, const struct rcpt_json_path *, int, json_object **);

/* Path text. */

static int
is_simple_name(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > NAME_SHOW_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == '_' || (c >= 'A' && c <= 'Z') ||
		    (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9'))
			continue;
		return 0;
	}
	return 1;
}

/* Writes one step into seg (64 bytes, no NUL); returns its length. */
static size_t
format_step(const struct rcpt_json_path *st, char *seg)
{
	const uint8_t *s = (const uint8_t *)st->name;
	size_t i = 0, o = 0, k;
	uint32_t cp;

	if (st->name == NULL)
		return (size_t)snprintf(seg, 64, "[%zu]", st->index);
	if (is_simple_name(st->name, st->name_len)) {
		seg[0] = '.';
		memcpy(seg + 1, st->name, st->name_len);
		return st->name_len + 1;
	}
	memcpy(seg, "[\"", 2);
	o = 2;
	/* At most NAME_SHOW_MAX bytes of text, plus one escape or
	 * character, "..." and the closing: well within 64 bytes. */
	while (i < st->name_len && o < 2 + NAME_SHOW_MAX) {
		if (s[i] == '"' || s[i] == '\\') {
			seg[o++] = '\\';
			seg[o++] = (char)s[i++];
		} else if (s[i] < 0x20 || s[i] == 0x7f) {
			o += (size_t)snprintf(seg + o, 7, "\\u%04x", s[i++]);
		} else if ((k = rcpt_utf8_decode(
		                s + i, st->name_len - i, &cp)) == 0) {
			seg[o++] = '?';
			i++;
		} else {
			memcpy(seg + o, s + i, k);
			o += k;
			i += k;
		}
	}
	if (i < st->name_len) {
		memcpy(seg + o, "...", 3);
		o += 3;
	}
	memcpy(seg + o, "\"]", 2);
	return o + 2;
}

void
rcpt_json_path_format(
    const struct rcpt_json_path *at, const char *root, char *out, size_t cap)
{
	const struct rcpt_json_path *steps[PATH_STEPS_MAX];
	size_t lens[PATH_STEPS_MAX];
	size_t n = 0, i, first, total, o;
	int cut = 0;
	char seg[64];

	if (cap == 0)
		return;
	if (root == NULL || root[0] == '\0')
		root = "$";
	for (; at != NULL; at = at->up) {
		if (n == PATH_STEPS_MAX) {
			cut = 1;
			break;
		}
		steps[n++] = at;
	}
	/* steps[n - 1] is the outermost; find how many inner steps fit. */
	total = strlen(root) + 3;
	first = n;
	for (i = 0; i < n; i++) {
		lens[i] = format_step(steps[i], seg);
		if (total + lens[i] >= cap)
			break;
		total += lens[i];
		first = i + 1;
	}
	if (first < n)
		cut = 1;
	o = (size_t)snprintf(out, cap, "%s%s", root, cut ? "..." : "");
	if (o >= cap)
		return;
	for (i = first; i-- > 0;) {
		size_t k = format_step(steps[i], seg);

		if (o + k >= cap)
			break;
		memcpy(out + o, seg, k);
		o += k;
	}
	out[o] = '\0';
}

/* Messages. */

static int fail(const struct parser *p, const struct rcpt_json_path *at,
    int err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
fail(const struct parser *p, const struct rcpt_json_path *at, int err,
    const char *fmt, ...)
{
	char where[RCPT_JSON_PATH_MAX];
	char rule[200];
	va_list ap;

	if (p->diag == NULL || p->diag->set)
		return err;
	va_start(ap, fmt);
	vsnprintf(rule, sizeof(rule), fmt, ap);
	va_end(ap);
	rcpt_json_path_format(at, p->root, where, sizeof(where));
	return rcpt_diag(p->diag, err, "%s: %s", where, rule);
}

/* A syntax error: names the byte where it was found. */
static int
fail_syntax(
    const struct parser *p, const struct rcpt_json_path *at, const char *rule)
{
	if (p->pos >= p->len)
		return fail(p, at, RCPT_E_PARSE, "%s at end of input", rule);
	return fail(p, at, RCPT_E_PARSE, "%s at byte %zu", rule, p->pos);
}

/* Lexing. */

static void
skip_ws(struct parser *p)
{
	while (p->pos < p->len) {
		uint8_t c = p->s[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		p->pos++;
	}
}

static int
hex4(const uint8_t *s, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		uint8_t c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (uint32_t)((c | 0x20) - 'a' + 10);
		else
			return 0;
	}
	*out = v;
	return 1;
}

/* CESU-8 style bytes of a surrogate: not UTF-8, but a rule of its own. */
static int
is_raw_surrogate(const uint8_t *s, size_t n)
{
	return n >= 3 && s[0] == 0xed && s[1] >= 0xa0 && s[1] <= 0xbf &&
	       (s[2] & 0xc0) == 0x80;
}

/*
 * Reads the \u escape(s) at s[i] (just after the backslash and 'u') into
 * *cp_out; returns the bytes used or 0 after reporting.
 */
static int
parse_uescape(struct parser *p, const struct rcpt_json_path *at,
    const char *what, size_t i, uint32_t *cp_out, size_t *used_out)
{
	uint32_t hi, lo;

	if (p->len - i < 4 || !hex4(p->s + i, &hi)) {
		p->pos = i;
		return fail_syntax(p, at, "bad \\u escape");
	}
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return fail(
		    p, at, RCPT_E_INVAL, "%slone surrogate escape", what);
	if (hi >= 0xd800 && hi <= 0xdbff) {
		if (p->len - i < 10 || p->s[i + 4] != '\\' ||
		    p->s[i + 5] != 'u' || !hex4(p->s + i + 6, &lo) ||
		    lo < 0xdc00 || lo > 0xdfff)
			return fail(p, at, RCPT_E_INVAL,
			    "%slone surrogate escape", what);
		*cp_out = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
		*used_out = 10;
		return RCPT_OK;
	}
	*cp_out = hi;
	*used_out = 4;
	return RCPT_OK;
}

/*
 * Decodes the string whose opening quote is at p->pos into the arena at
 * p->top and NUL-terminates it.  Decoded text is never longer than its
 * JSON form, so the arena always has room.
 */
static int
parse_string(struct parser *p, const struct rcpt_json_path *at, int is_name,
    size_t *len_out)
{
	const uint8_t *s = p->s;
	const char *what = is_name ? "member name: " : "";
	char *o = p->arena + p->top;
	size_t i = p->pos + 1, n = 0, k = 0;
	uint32_t cp;
	int r;

	for (;;) {
		uint8_t c;

		/* Plain ASCII is the common case: copy it without checks. */
		while (i < p->len && s[i] >= 0x20 && s[i] < 0x80 &&
		       s[i] != '"' && s[i] != '\\')
			o[n++] = (char)s[i++];
		if (i >= p->len) {
			p->pos = i;
			return fail_syntax(p, at, "unterminated string");
		}
		c = s[i];
		if (c == '"')
			break;
		if (c < 0x20) {
			p->pos = i;
			return fail_syntax(p, at,
			    "control character in a string must be escaped");
		}
		if (c >= 0x80) {
			if ((k = rcpt_utf8_decode(s + i, p->len - i, &cp)) ==
			    0) {
				if (is_raw_surrogate(s + i, p->len - i))
					return fail(p, at, RCPT_E_INVAL,
					    "%ssurrogate code point", what);
				p->pos = i;
				return fail_syntax(p, at, "invalid UTF-8");
			}
			if (rcpt_utf8_is_nonchar(cp))
				return fail(p, at, RCPT_E_INVAL,
				    "%snoncharacter code point", what);
			memcpy(o + n, s + i, k);
			n += k;
			i += k;
			continue;
		}
		/* A backslash. */
		if (i + 1 >= p->len) {
			p->pos = i + 1;
			return fail_syntax(p, at, "unterminated string");
		}
		switch (s[i + 1]) {
		case '"':
		case '\\':
		case '/':
			o[n++] = (char)s[i + 1];
			break;
		case 'b':
			o[n++] = '\b';
			break;
		case 'f':
			o[n++] = '\f';
			break;
		case 'n':
			o[n++] = '\n';
			break;
		case 'r':
			o[n++] = '\r';
			break;
		case 't':
			o[n++] = '\t';
			break;
		case 'u':
			if ((r = parse_uescape(p, at, what, i + 2, &cp, &k)) !=
			    RCPT_OK)
				return r;
			if (rcpt_utf8_is_nonchar(cp))
				return fail(p, at, RCPT_E_INVAL,
				    "%snoncharacter code point", what);
			n += rcpt_utf8_encode(cp, o + n);
			i += k;
			break;
		default:
			p->pos = i;
			return fail_syntax(p, at, "unknown escape");
		}
		i += 2;
	}
	o[n] = '\0';
	p->pos = i + 1;
	*len_out = n;
	return RCPT_OK;
}

/* Numbers. */

static int
is_digit(const struct parser *p, size_t i)
{
	return i < p->len && p->s[i] >= '0' && p->s[i] <= '9';
}

static int
parse_number(
    struct parser *p, const struct rcpt_json_path *at, json_object **out)
{
	const uint8_t *s = p->s;
	size_t i = p->pos, int_at, int_n, frac_at = 0, frac_n = 0, k;
	long long exp = 0;
	int neg = 0, exp_neg = 0, is_int = 1;
	char *t;
	double d;

	if (s[i] == '-') {
		neg = 1;
		i++;
	}
	if (!is_digit(p, i)) {
		p->pos = i;
		return fail_syntax(p, at, "digit expected in number");
	}
	int_at = i;
	if (s[i] == '0')
		i++;
	else
		while (is_digit(p, i))
			i++;
	int_n = i - int_at;
	if (i < p->len && s[i] == '.') {
		frac_at = ++i;
		while (is_digit(p, i))
			i++;
		if ((frac_n = i - frac_at) == 0) {
			p->pos = i;
			return fail_syntax(
			    p, at, "digit expected after the decimal point");
		}
		is_int = 0;
	}
	if (i < p->len && (s[i] | 0x20) == 'e') {
		i++;
		if (i < p->len && (s[i] == '+' || s[i] == '-'))
			exp_neg = s[i++] == '-';
		if (!is_digit(p, i)) {
			p->pos = i;
			return fail_syntax(
			    p, at, "digit expected in the exponent");
		}
		while (is_digit(p, i)) {
			if (exp < EXP_CLAMP)
				exp = exp * 10 + (s[i] - '0');
			i++;
		}
		is_int = 0;
	}
	p->pos = i;

	if (is_int &&
	    (int_n > 16 || (int_n == 16 && memcmp(s + int_at,
	                                       "9007199254740992", 16) > 0))) {
		if ((p->flags & RCPT_JSON_BIG_INTS) == 0)
			return fail(p, at, RCPT_E_INVAL,
			    "integer beyond 2^53; send it as a string");
		is_int = 0; /* round it as strtod does */
	}
	if (is_int) {
		uint64_t u = 0;

		for (k = 0; k < int_n; k++)
			u = u * 10 + (uint64_t)(s[int_at + k] - '0');
		d = (double)u; /* exact: u <= 2^53 */
		if (neg)
			d = -d;
	} else {
		/*
		 * Fold the fraction into the exponent so that strtod never
		 * sees a decimal point and LC_NUMERIC cannot matter.  The
		 * text fits: it is at most the literal plus NUM_SLACK.
		 */
		t = p->arena + p->top;
		k = 0;
		if (neg)
			t[k++] = '-';
		memcpy(t + k, s + int_at, int_n);
		k += int_n;
		memcpy(t + k, s + frac_at, frac_n);
		k += frac_n;
		snprintf(t + k, NUM_SLACK, "e%lld",
		    (exp_neg ? -exp : exp) - (long long)frac_n);
		d = strtod(t, NULL);
		if (isinf(d))
			return fail(
			    p, at, RCPT_E_INVAL, "number overflows a double");
	}
	if ((*out = json_object_new_double(d)) == NULL)
		return RCPT_E_NOMEM;
	return RCPT_OK;
}

/* Values. */

static int
parse_literal(
    struct parser *p, const struct rcpt_json_path *at, json_object **out)
{
	static const char *const words[] = {"true", "false", "null"};
	size_t i, n;

	for (i = 0; i < 3; i++) {
		n = strlen(words[i]);
		if (p->len - p->pos >= n &&
		    memcmp(p->s + p->pos, words[i], n) == 0)
			break;
	}
	if (i == 3)
		return fail_syntax(p, at, "expected a value");
	p->pos += n;
	if (i == 2)
		return RCPT_OK; /* null is the NULL object */
	if ((*out = json_object_new_boolean(i == 0)) == NULL)
		return RCPT_E_NOMEM;
	return RCPT_OK;
}

static int
parse_array(struct parser *p, const struct rcpt_json_path *at, int depth,
    json_object **out)
{
	json_object *arr, *v;
	struct rcpt_json_path el = {at, NULL, 0, 0};
	int r = RCPT_E_INTERNAL;
	uint8_t c;

	if ((arr = json_object_new_array()) == NULL)
		return RCPT_E_NOMEM;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == ']') {
		p->pos++;
		*out = arr;
		return RCPT_OK;
	}
	for (;; el.index++) {
		v = NULL;
		if ((r = parse_value(p, &el, depth, &v)) != RCPT_OK)
			goto out;
		if (json_object_array_add(arr, v) != 0) {
			json_object_put(v);
			r = RCPT_E_NOMEM;
			goto out;
		}
		skip_ws(p);
		if (p->pos >= p->len) {
			r = fail_syntax(p, at, "unterminated array");
			goto out;
		}
		c = p->s[p->pos];
		if (c == ']')
			break;
		if (c != ',') {
			r = fail_syntax(p, at, "expected ',' or ']'");
			goto out;
		}
		p->pos++;
		skip_ws(p);
	}
	p->pos++;
	*out = arr;
	arr = NULL;
	r = RCPT_OK;
out:
	json_object_put(arr);
	return r;
}

/* Reads `"name": value`, starting at the quote, into @p obj. */
static int
parse_member(struct parser *p, const struct rcpt_json_path *at, int depth,
    json_object *obj)
{
	struct rcpt_json_path mem = {at, NULL, 0, 0};
	json_object *v = NULL;
	size_t saved_top = p->top;
	int r;

	if ((r = parse_string(p, at, 1, &mem.name_len)) != RCPT_OK)
		return r;
	mem.name = p->arena + p->top;
	if (memchr(mem.name, '\0', mem.name_len) != NULL)
		return fail(p, &mem, RCPT_E_INVAL,
		    "member name contains U+0000, which json-c cannot store");
	if (json_object_object_get_ex(obj, mem.name, NULL))
		return fail(p, &mem, RCPT_E_INVAL, "duplicate member name");
	skip_ws(p);
	if (p->pos >= p->len || p->s[p->pos] != ':')
		return fail_syntax(p, &mem, "expected ':'");
	p->pos++;
	skip_ws(p);
	/* The name stays in the arena until the value is in place. */
	p->top += mem.name_len + 1;
	r = parse_value(p, &mem, depth, &v);
	if (r == RCPT_OK && json_object_object_add_ex(obj, mem.name, v,
	                        JSON_C_OBJECT_ADD_KEY_IS_NEW) != 0) {
		json_object_put(v); /* add_ex steals v only on success */
		r = RCPT_E_NOMEM;
	}
	p->top = saved_top;
	return r;
}

static int
parse_object(struct parser *p, const struct rcpt_json_path *at, int depth,
    json_object **out)
{
	json_object *obj;
	int r = RCPT_E_INTERNAL;
	uint8_t c;

	if ((obj = json_object_new_object()) == NULL)
		return RCPT_E_NOMEM;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == '}') {
		p->pos++;
		*out = obj;
		return RCPT_OK;
	}
	for (;;) {
		if (p->pos >= p->len || p->s[p->pos] != '"') {
			r = fail_syntax(p, at, "expected a member name");
			goto out;
		}
		if ((r = parse_member(p, at, depth, obj)) != RCPT_OK)
			goto out;
		skip_ws(p);
		if (p->pos >= p->len) {
			r = fail_syntax(p, at, "unterminated object");
			goto out;
		}
		c = p->s[p->pos];
		if (c == '}')
			break;
		if (c != ',') {
			r = fail_syntax(p, at, "expected ',' or '}'");
			goto out;
		}
		p->pos++;
		skip_ws(p);
	}
	p->pos++;
	*out = obj;
	obj = NULL;
	r = RCPT_OK;
out:
	json_object_put(obj);
	return r;
}

/*
 * Parses the value at p->pos (white space already skipped).  @p depth
 * is the nesting of the enclosing containers; the limit is checked
 * before recursing, so the C stack never goes deeper than max_depth.
 */
static int
parse_value(struct parser *p, const struct rcpt_json_path *at, int depth,
    json_object **out)
{
	size_t n;
	uint8_t c;
	int r;

	*out = NULL;
	if (p->pos >= p->len)
		return fail_syntax(p, at, "expected a value");
	c = p->s[p->pos];
	switch (c) {
	case '{':
	case '[':
		if (depth >= p->max_depth)
			return fail(p, at, RCPT_E_TOO_LARGE,
			    "nesting deeper than %d", p->max_depth);
		if (c == '{')
			return parse_object(p, at, depth + 1, out);
		return parse_array(p, at, depth + 1, out);
	case '"':
		if ((r = parse_string(p, at, 0, &n)) != RCPT_OK)
			return r;
		if ((*out = json_object_new_string_len(
		         p->arena + p->top, (int)n)) == NULL)
			return RCPT_E_NOMEM;
		return RCPT_OK;
	case '-':
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		return parse_number(p, at, out);
	case 0xef:
		if (p->pos == 0 && p->len >= 3 && p->s[1] == 0xbb &&
		    p->s[2] == 0xbf)
			return fail_syntax(
			    p, at, "byte order mark before the value");
		return parse_literal(p, at, out);
	default:
		return parse_literal(p, at, out);
	}
}

int
rcpt_json_parse(const char *buf, size_t len, int max_depth, const char *path,
    json_object **out, struct rcpt_diag *diag)
{
	return rcpt_json_parse_ex(buf, len, max_depth, path, 0, out, diag);
}

int
rcpt_json_parse_ex(const char *buf, size_t len, int max_depth, const char *path,
    unsigned flags, json_object **out, struct rcpt_diag *diag)
{
	char small[SMALL_ARENA];
	struct parser p;
	json_object *v = NULL;
	int r = RCPT_E_INTERNAL;

	if (out == NULL)
		return RCPT_E_INVAL;
	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.s = (const uint8_t *)buf;
	p.len = len;
	p.max_depth = max_depth;
	p.flags = flags;
	p.root = path;
	p.diag = diag;
	if (buf == NULL && len > 0)
		return RCPT_E_INVAL;
	if (max_depth < 1 ||
	    max_depth > RCPT_JSON_DEPTH_MAX + RCPT_JSON_DEPTH_ENVELOPE)
		return fail(&p, NULL, RCPT_E_INVAL,
		    "depth limit must be 1 to %d",
		    RCPT_JSON_DEPTH_MAX + RCPT_JSON_DEPTH_ENVELOPE);
	if (len > SIZE_MAX - NUM_SLACK - 1 || len > INT32_MAX)
		return fail(&p, NULL, RCPT_E_TOO_LARGE, "text too long");
	if (len + NUM_SLACK + 1 <= sizeof(small))
		p.arena = small;
	else if ((p.arena = rcpt_malloc(len + NUM_SLACK + 1)) == NULL)
		return RCPT_E_NOMEM;

	skip_ws(&p);
	if (p.pos >= len) {
		r = fail(&p, NULL, RCPT_E_PARSE, "empty input");
		goto out;
	}
	if ((r = parse_value(&p, NULL, 0, &v)) != RCPT_OK)
		goto out;
	skip_ws(&p);
	if (p.pos < len) {
		r = fail_syntax(&p, NULL, "trailing garbage after the value");
		goto out;
	}
	*out = v;
	v = NULL;
	r = RCPT_OK;
out:
	json_object_put(v);
	if (p.arena != small)
		free(p.arena);
	return r;
}

int
rcpt_json_get_u64(const json_object *v, uint64_t *out)
{
	double d;
	int64_t i;

	if (out == NULL)
		return RCPT_E_INVAL;
	*out = 0;
	if (json_object_is_type(v, json_type_int)) {
		i = json_object_get_int64(v);
		if (i < 0 || i > (int64_t)1 << 53)
			return RCPT_E_INVAL;
		*out = (uint64_t)i;
		return RCPT_OK;
	}
	if (!json_object_is_type(v, json_type_double))
		return RCPT_E_INVAL;
	d = json_object_get_double(v);
	if (!(d >= 0 && d <= RCPT_JSON_MAX_SAFE) || floor(d) != d)
		return RCPT_E_INVAL;
	*out = (uint64_t)d;
	return RCPT_OK;
}

int
rcpt_json_add(json_object *o, const char *name, json_object *v)
{
	if (v == NULL)
		return RCPT_E_NOMEM;
	/* json_object_object_add steals v only when it succeeds. */
	if (json_object_object_add(o, name, v) != 0) {
		json_object_put(v);
		return RCPT_E_NOMEM;
	}
	return RCPT_OK;
}
