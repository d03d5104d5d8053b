/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The strict, non-allocating receipt scanner (SPEC 1, 2): one pass over
 * a stored line that checks it is the JCS of its own parse (RFC 8785: no
 * white space, members ordered by UTF-16 code units, JCS string escapes,
 * ECMAScript numbers) and that every member obeys SPEC 1, and records
 * where each member's value lies.  The verifier calls it for every
 * receipt, so it builds no JSON tree and allocates nothing; the signed
 * view is then copied together from those spans.
 *
 * It deliberately does not turn values into C or json-c objects
 * (rcpt_receipt_parse in receipt.c does, with rcpt_json_parse_ex), does
 * not check hashes or signatures, and knows nothing of chains: seq
 * order, links and keys are verify.c's business.
 */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "jcs.h"
#include "json.h"
#include "receipt.h"
#include "ts.h"
#include "utf8.h"

#define NOT_JCS "line is not canonical JSON (JCS)"

/* The members a stored receipt may have, in JCS order. */
enum member {
	M_CHAIN,
	M_DATA,
	M_DATA_HASH,
	M_ENTRY_HASH,
	M_KID,
	M_PREV_HASH,
	M_PRUNED_AT,
	M_SEQ,
	M_SIGNATURE,
	M_SUBMITTER,
	M_TAGS,
	M_TS,
	M_TYPE,
	M_V,
	M_COUNT_
};

static const char *const member_names[M_COUNT_] = {"chain", "data", "data_hash",
    "entry_hash", "kid", "prev_hash", "pruned_at", "seq", "signature",
    "submitter", "tags", "ts", "type", "v"};

enum kind { K_OBJECT, K_ARRAY, K_STRING, K_NUMBER, K_LITERAL };

struct str_info {
	size_t ncp;  /* code points */
	int ctl;     /* holds U+0000-001F or U+007F-009F */
	int escaped; /* has a backslash escape */
	int nonchar; /* holds a noncharacter (not I-JSON) */
};

struct scan {
	const char *p;
	size_t len;
	size_t pos;
	int max_depth;
	const char *member;     /* name used for I-JSON complaints */
	struct rcpt_diag *rule; /* first member-rule failure, deferred */
	int rule_err;           /* its code; set first, so never written */
	struct rcpt_diag *diag;
};

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale = (locale_t)0;

static void
make_c_locale(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* strtod in the C locale whatever setlocale() the program made. */
static int
c_strtod(const char *s, double *out)
{
	char *end;

	if (pthread_once(&c_locale_once, make_c_locale) != 0 ||
	    c_locale == (locale_t)0)
		return RCPT_E_INTERNAL;
	errno = 0;
	*out = strtod_l(s, &end, c_locale);
	if (*end != '\0')
		return RCPT_E_PARSE;
	if (errno == ERANGE && (*out > 1.0 || *out < -1.0))
		return RCPT_E_INVAL;
	return RCPT_OK;
}

static int
not_jcs(struct scan *s, const char *why)
{
	return rcpt_diag(
	    s->diag, RCPT_E_PARSE, NOT_JCS ": %s at byte %zu", why, s->pos);
}

/* Records the first member-rule failure; scanning goes on. */
static void defer(struct scan *s, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
defer(struct scan *s, int err, const char *fmt, ...)
{
	va_list ap;

	if (s->rule_err != RCPT_OK)
		return;
	s->rule_err = err;
	va_start(ap, fmt);
	vsnprintf(s->rule->msg, sizeof(s->rule->msg), fmt, ap);
	va_end(ap);
	s->rule->set = 1;
}

/*
 * The control character that the \u escape at @p p (@p avail bytes
 * left) stands for, or -1 when JCS would not write it so: JCS uses
 * \u00xx, lowercase, only for controls without a two-character escape.
 */
static int
u_escape(const uint8_t *p, size_t avail)
{
	uint8_t b;

	if (avail < 6 || p[2] != '0' || p[3] != '0' ||
	    rcpt_hex_decode((const char *)p + 4, 2, &b, 1) != RCPT_OK ||
	    b >= 0x20 || b == 0x08 || b == 0x09 || b == 0x0a || b == 0x0c ||
	    b == 0x0d)
		return -1;
	return b;
}

/*
 * Decodes one code point of canonical string text at *i (below @p end),
 * undoing the escapes JCS allows.
 */
static uint32_t
next_cp(const uint8_t *p, size_t end, size_t *i)
{
	static const char name[] = "btnfr", ctl[] = "\b\t\n\f\r";
	const char *e;
	uint32_t cp = 0;
	size_t n;

	if (p[*i] != '\\') {
		n = rcpt_utf8_decode(p + *i, end - *i, &cp);
		*i += n == 0 ? 1 : n;
		return cp;
	}
	if (p[*i + 1] == 'u') {
		cp = (uint32_t)u_escape(p + *i, end - *i);
		*i += 6;
		return cp;
	}
	/* The escape was checked: one of \" \\ \b \t \n \f \r. */
	e = strchr(name, p[*i + 1]);
	cp = e != NULL ? (uint8_t)ctl[e - name] : p[*i + 1];
	*i += 2;
	return cp;
}

/*
 * Orders two canonical string texts (without quotes) as JCS orders
 * member names: by UTF-16 code units.  Code points above U+FFFF sort by
 * their high surrogate, below U+E000..U+FFFF.
 */
static int
cmp_utf16(const char *a, size_t alen, const char *b, size_t blen)
{
	const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
	size_t i = 0, j = 0;
	uint32_t ca, cb, ua, ub;

	while (i < alen && j < blen) {
		if (x[i] < 0x80 && y[j] < 0x80 && x[i] != '\\' &&
		    y[j] != '\\') {
			if (x[i] != y[j])
				return x[i] < y[j] ? -1 : 1;
			i++;
			j++;
			continue;
		}
		ca = next_cp(x, alen, &i);
		cb = next_cp(y, blen, &j);
		if (ca == cb)
			continue;
		ua = ca >= 0x10000 ? 0xd800 + ((ca - 0x10000) >> 10) : ca;
		ub = cb >= 0x10000 ? 0xd800 + ((cb - 0x10000) >> 10) : cb;
		if (ua != ub)
			return ua < ub ? -1 : 1;
		return ca < cb ? -1 : 1;
	}
	if (i < alen)
		return 1;
	return j < blen ? -1 : 0;
}

/*
 * 1 when the 8 bytes at @p p are all printable ASCII other than '"' and
 * '\\', tested together (SWAR): (x - 0x01..) & ~x & 0x80.. is nonzero
 * exactly when some byte of x is zero, so a byte below 0x20 or equal to
 * a given value is found the same way, and bit 7 marks bytes >= 0x80.
 * Strings are most of a receipt line (hashes, signature, kid), so this
 * is the scanner's inner loop; the byte loop after it decides.
 */
static int
plain8(const uint8_t *p)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	const uint64_t highs = UINT64_C(0x8080808080808080);
	uint64_t x, q, b, d, bad;

	memcpy(&x, p, 8);
	q = x ^ (ones * '"');
	b = x ^ (ones * '\\');
	d = x ^ (ones * 0x7f);
	bad = ((x - ones * 0x20) & ~x) | ((q - ones) & ~q) | ((b - ones) & ~b) |
	      ((d - ones) & ~d) | x;
	return (bad & highs) == 0;
}

/* Scans a string at s->pos, which holds '"'. */
static int
scan_string(struct scan *s, struct str_info *si)
{
	const uint8_t *p = (const uint8_t *)s->p;
	uint32_t cp;
	size_t n, i;
	int c;

	memset(si, 0, sizeof(*si));
	s->pos++;
	for (;;) {
		if (s->pos >= s->len)
			return not_jcs(s, "unterminated string");
		/* Plain printable ASCII, the common case, in a tight loop. */
		i = s->pos;
		while (s->len - i >= 8 && plain8(p + i))
			i += 8;
		while (i < s->len && p[i] >= 0x20 && p[i] < 0x7f &&
		       p[i] != '"' && p[i] != '\\')
			i++;
		si->ncp += i - s->pos;
		s->pos = i;
		if (s->pos >= s->len)
			return not_jcs(s, "unterminated string");
		c = p[s->pos];
		if (c == '"')
			break;
		if (c < 0x20)
			return not_jcs(s, "raw control character in a string");
		if (c == '\\') {
			if (s->pos + 1 >= s->len)
				return not_jcs(s, "unterminated string");
			si->escaped = 1;
			switch (p[s->pos + 1]) {
			case '"':
			case '\\':
				s->pos += 2;
				break;
			case 'b':
			case 't':
			case 'n':
			case 'f':
			case 'r':
				si->ctl = 1;
				s->pos += 2;
				break;
			case 'u':
				if (u_escape(p + s->pos, s->len - s->pos) < 0)
					return not_jcs(
					    s, "\\u escape not in JCS form");
				si->ctl = 1;
				s->pos += 6;
				break;
			default:
				return not_jcs(s, "escape not in JCS form");
			}
			si->ncp++;
			continue;
		}
		if (c < 0x80) {
			si->ctl |= c == 0x7f;
			s->pos++;
			si->ncp++;
			continue;
		}
		n = rcpt_utf8_decode(p + s->pos, s->len - s->pos, &cp);
		if (n == 0)
			return not_jcs(s, "invalid UTF-8");
		si->nonchar |= rcpt_utf8_is_nonchar(cp);
		si->ctl |= cp <= 0x9f;
		s->pos += n;
		si->ncp++;
	}
	s->pos++;
	if (si->nonchar)
		defer(s, RCPT_E_INVAL, "%s: string holds a noncharacter",
		    s->member);
	return RCPT_OK;
}

/*
 * Fast path for decimals such as 12.25: no exponent, at most 15
 * significant digits, no trailing zero in the fraction, and at least
 * 1e-6.  Two different decimals of at most 15 significant digits never
 * round to the same double (DBL_DIG is 15), so such a text is the
 * shortest that round-trips, and ECMAScript prints values from 1e-6 to
 * below 1e21 without an exponent: the text is its own JCS form.
 */
static int
plain_decimal(const char *p, size_t n)
{
	size_t i = 0, sig = 0, lead = 0, dot;
	int zero_int;

	if (p[0] == '-')
		i++;
	zero_int = p[i] == '0';
	while (i < n && p[i] != '.') {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		sig += !zero_int;
		i++;
	}
	if (i >= n || p[n - 1] == '0')
		return 0;
	dot = i++;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		if (zero_int && sig == 0 && p[i] == '0')
			lead++;
		else
			sig++;
	}
	return dot + 1 < n && sig <= 15 && lead <= 5;
}

/*
 * Scans a number.  It is canonical when it is exactly what ECMAScript
 * prints for the double it denotes.  Short integers take a fast path.
 */
static int
scan_number(struct scan *s, int *is_uint, uint64_t *u)
{
	const char *p = s->p;
	size_t start = s->pos, i = s->pos, n;
	char text[RCPT_JCS_NUMBER_MAX], canon[RCPT_JCS_NUMBER_MAX];
	int frac = 0, r;
	double d;

	*is_uint = 0;
	if (i < s->len && p[i] == '-')
		i++;
	if (i >= s->len || p[i] < '0' || p[i] > '9')
		return not_jcs(s, "malformed number");
	if (p[i] == '0' && i + 1 < s->len && p[i + 1] >= '0' && p[i + 1] <= '9')
		return not_jcs(s, "number with a leading zero");
	while (i < s->len && p[i] >= '0' && p[i] <= '9')
		i++;
	if (i < s->len && p[i] == '.') {
		frac = 1;
		if (++i >= s->len || p[i] < '0' || p[i] > '9')
			return not_jcs(s, "malformed number");
		while (i < s->len && p[i] >= '0' && p[i] <= '9')
			i++;
	}
	if (i < s->len && (p[i] == 'e' || p[i] == 'E')) {
		frac = 1;
		i++;
		if (i < s->len && (p[i] == '+' || p[i] == '-'))
			i++;
		if (i >= s->len || p[i] < '0' || p[i] > '9')
			return not_jcs(s, "malformed number");
		while (i < s->len && p[i] >= '0' && p[i] <= '9')
			i++;
	}
	n = i - start;
	if (!frac && p[start] != '-' && n <= 16) {
		*u = 0;
		for (i = start; i < start + n; i++)
			*u = *u * 10 + (uint64_t)(p[i] - '0');
		*is_uint = *u <= (UINT64_C(1) << 53);
	}
	s->pos = start + n;
	if (!frac && n <= 15 + (p[start] == '-')) {
		if (n == 2 && p[start] == '-' && p[start + 1] == '0')
			return not_jcs(s, "number not in JCS form");
		return RCPT_OK;
	}
	if (plain_decimal(p + start, n))
		return RCPT_OK;
	if (n >= sizeof(text))
		return not_jcs(s, "number not in JCS form");
	memcpy(text, p + start, n);
	text[n] = '\0';
	if ((r = c_strtod(text, &d)) == RCPT_E_INTERNAL)
		return rcpt_diag(s->diag, r, "no C locale for numbers");
	if (r != RCPT_OK || rcpt_jcs_number(d, canon) != RCPT_OK ||
	    strcmp(canon, text) != 0)
		return not_jcs(s, "number not in JCS form");
	return RCPT_OK;
}

static int scan_value(struct scan *s, int depth, enum kind *k,
    struct str_info *si, int *is_uint, uint64_t *u);

static int
scan_container(struct scan *s, int depth, int is_object)
{
	size_t key = 0, keylen = 0, prev = 0, prevlen = 0;
	struct str_info si;
	enum kind k;
	int r, n = 0, iu;
	uint64_t u;

	if (depth + 1 > s->max_depth)
		return rcpt_diag(s->diag, RCPT_E_TOO_LARGE,
		    "%s: nesting deeper than %d", s->member, s->max_depth);
	s->pos++;
	if (s->pos < s->len && s->p[s->pos] == (is_object ? '}' : ']')) {
		s->pos++;
		return RCPT_OK;
	}
	for (;;) {
		if (is_object) {
			if (s->pos >= s->len || s->p[s->pos] != '"')
				return not_jcs(s, "expected a member name");
			key = s->pos + 1;
			if ((r = scan_string(s, &si)) != RCPT_OK)
				return r;
			keylen = s->pos - 1 - key;
			if (n > 0 && cmp_utf16(s->p + prev, prevlen, s->p + key,
			                 keylen) >= 0)
				return not_jcs(s,
				    "members not in JCS order or duplicated");
			prev = key;
			prevlen = keylen;
			if (s->pos >= s->len || s->p[s->pos] != ':')
				return not_jcs(s, "expected ':'");
			s->pos++;
		}
		if ((r = scan_value(s, depth + 1, &k, &si, &iu, &u)) != RCPT_OK)
			return r;
		n++;
		if (s->pos >= s->len)
			return not_jcs(s, "unterminated container");
		if (s->p[s->pos] == (is_object ? '}' : ']')) {
			s->pos++;
			return RCPT_OK;
		}
		if (s->p[s->pos] != ',')
			return not_jcs(s, "expected ','");
		s->pos++;
	}
}

static int
scan_value(struct scan *s, int depth, enum kind *k, struct str_info *si,
    int *is_uint, uint64_t *u)
{
	static const char *const lits[] = {"true", "false", "null"};
	size_t i, n;

	*is_uint = 0;
	if (s->pos >= s->len)
		return not_jcs(s, "expected a value");
	switch (s->p[s->pos]) {
	case '{':
		*k = K_OBJECT;
		return scan_container(s, depth, 1);
	case '[':
		*k = K_ARRAY;
		return scan_container(s, depth, 0);
	case '"':
		*k = K_STRING;
		return scan_string(s, si);
	case 't':
	case 'f':
	case 'n':
		*k = K_LITERAL;
		for (i = 0; i < 3; i++) {
			n = strlen(lits[i]);
			if (s->len - s->pos >= n &&
			    memcmp(s->p + s->pos, lits[i], n) == 0) {
				s->pos += n;
				return RCPT_OK;
			}
		}
		return not_jcs(s, "unknown literal");
	default:
		*k = K_NUMBER;
		return scan_number(s, is_uint, u);
	}
}

/* Checks the tags array value just scanned at [start, s->pos). */
static void
check_tags(struct scan *s, size_t start)
{
	struct scan t = *s;
	struct str_info si;
	size_t i = 0;

	t.pos = start + 1;
	t.diag = NULL;
	t.member = "tags";
	t.rule_err = RCPT_E_INVAL; /* t defers nothing: s saw these strings */
	if (t.p[t.pos] == ']')
		return;
	for (;; i++) {
		if (i >= RCPT_TAGS_MAX) {
			defer(s, RCPT_E_INVAL, "tags: more than 32 items");
			return;
		}
		if (t.p[t.pos] != '"' || scan_string(&t, &si) != RCPT_OK) {
			defer(
			    s, RCPT_E_INVAL, "tags[%zu]: must be a string", i);
			return;
		}
		if (si.ncp < 1 || si.ncp > RCPT_TAG_MAX || si.ctl) {
			defer(s, RCPT_E_INVAL, "tags[%zu]: %s", i,
			    si.ctl ? "holds a control character"
			           : "must be 1 to 128 code points");
			return;
		}
		if (t.p[t.pos] == ']')
			return;
		t.pos++;
	}
}

/* Where the view keeps each member's span, in enum member order. */
static const size_t span_at[M_COUNT_] = {
    offsetof(struct rcpt_receipt_view, chain),
    offsetof(struct rcpt_receipt_view, data),
    offsetof(struct rcpt_receipt_view, data_hash),
    offsetof(struct rcpt_receipt_view, entry_hash),
    offsetof(struct rcpt_receipt_view, kid),
    offsetof(struct rcpt_receipt_view, prev_hash),
    offsetof(struct rcpt_receipt_view, pruned_at),
    offsetof(struct rcpt_receipt_view, seq),
    offsetof(struct rcpt_receipt_view, signature),
    offsetof(struct rcpt_receipt_view, submitter),
    offsetof(struct rcpt_receipt_view, tags),
    offsetof(struct rcpt_receipt_view, ts),
    offsetof(struct rcpt_receipt_view, type),
    offsetof(struct rcpt_receipt_view, v),
};

static struct rcpt_receipt_span *
span_of(struct rcpt_receipt_view *vw, enum member m)
{
	return (struct rcpt_receipt_span *)((char *)vw + span_at[m]);
}

/* Decodes a hash or signature; the rule it breaks, or NULL. */
static const char *
hex_rule(const char *p, size_t n, uint8_t *out, size_t len)
{
	if (rcpt_hex_decode(p, n, out, len) != RCPT_OK)
		return "must be lowercase hex of the right length";
	return NULL;
}

/* Applies SPEC 1's rule for member @p m to its value just scanned. */
static void
check_member(struct scan *s, enum member m, enum kind k,
    const struct str_info *si, int is_uint, uint64_t u,
    struct rcpt_receipt_view *vw)
{
	const struct rcpt_receipt_span *sp = span_of(vw, m);
	const char *p, *rule = NULL;
	uint8_t kid[RCPT_HASH_LEN];
	size_t n;

	switch (m) {
	case M_V:
		if (k != K_NUMBER || !is_uint || u != 1)
			defer(s, RCPT_E_INVAL, "v: must be the integer 1");
		return;
	case M_SEQ:
		if (k != K_NUMBER || !is_uint)
			defer(s, RCPT_E_INVAL,
			    "seq: must be an integer from 0 to 2^53");
		vw->seq_num = u;
		return;
	case M_TAGS:
		if (k != K_ARRAY)
			defer(s, RCPT_E_INVAL,
			    "tags: must be an array of strings");
		else
			check_tags(s, (size_t)(sp->p - s->p));
		return;
	case M_DATA:
		return;
	default:
		break;
	}
	if (k != K_STRING) {
		defer(s, RCPT_E_INVAL, "%s: must be a string", member_names[m]);
		return;
	}
	p = sp->p + 1; /* the text between the quotes */
	n = sp->len - 2;
	switch (m) {
	case M_CHAIN:
		if (!rcpt_receipt_chain_is_valid_len(p, n))
			rule = "must match ^[a-z0-9][a-z0-9._-]{0,63}$";
		break;
	case M_TS:
	case M_PRUNED_AT:
		if (!rcpt_ts_is_valid(p, n))
			rule = "must be a TS (YYYY-MM-DDTHH:MM:SS.mmmZ, a real "
			       "UTC time)";
		break;
	case M_TYPE:
		if (!rcpt_receipt_type_is_valid_len(p, n))
			rule = "must be 1 to 128 characters of [A-Za-z0-9._:-]";
		break;
	case M_SUBMITTER:
		if (si->ncp == 0)
			rule = "must not be empty";
		break;
	case M_KID:
		if (n != RCPT_KID_LEN ||
		    rcpt_b64url_decode(p, n, kid, sizeof(kid)) != RCPT_OK)
			rule = "must be 43 characters of canonical base64url";
		break;
	case M_DATA_HASH:
		rule = hex_rule(p, n, vw->data_hash_raw, RCPT_HASH_LEN);
		break;
	case M_PREV_HASH:
		rule = hex_rule(p, n, vw->prev_hash_raw, RCPT_HASH_LEN);
		break;
	case M_ENTRY_HASH:
		rule = hex_rule(p, n, vw->entry_hash_raw, RCPT_HASH_LEN);
		break;
	case M_SIGNATURE:
		rule = hex_rule(p, n, vw->signature_raw, RCPT_ED25519_SIG_LEN);
		break;
	default:
		break;
	}
	if (rule != NULL)
		defer(s, RCPT_E_INVAL, "%s: %s", member_names[m], rule);
}

/* Members come in JCS order, so the search starts after @p after. */
static enum member
lookup_member(const char *p, size_t n, int after)
{
	static const unsigned char len[M_COUNT_] = {
	    5, 4, 9, 10, 3, 9, 9, 3, 9, 9, 4, 2, 4, 1};
	int m;

	for (m = after + 1; m < M_COUNT_; m++)
		if (len[m] == n && memcmp(member_names[m], p, n) == 0)
			return (enum member)m;
	return M_COUNT_;
}

static int
scan_members(struct scan *s, struct rcpt_receipt_view *vw, unsigned *seen)
{
	size_t key, keylen, prev = 0, prevlen = 0, vstart, i;
	struct str_info si;
	enum member m;
	enum kind k;
	int r, iu, first = 1, last = -1;
	uint64_t u = 0;

	if (s->len == 0 || s->p[0] != '{')
		return not_jcs(s, "a receipt must be a JSON object");
	s->pos = 1;
	if (s->pos < s->len && s->p[s->pos] == '}') {
		s->pos++;
		return RCPT_OK;
	}
	for (;;) {
		if (s->pos >= s->len || s->p[s->pos] != '"')
			return not_jcs(s, "expected a member name");
		key = s->pos + 1;
		s->member = "member name";
		if ((r = scan_string(s, &si)) != RCPT_OK)
			return r;
		keylen = s->pos - 1 - key;
		if (!first &&
		    cmp_utf16(s->p + prev, prevlen, s->p + key, keylen) >= 0)
			return not_jcs(
			    s, "members not in JCS order or duplicated");
		first = 0;
		prev = key;
		prevlen = keylen;
		if (s->pos >= s->len || s->p[s->pos] != ':')
			return not_jcs(s, "expected ':'");
		s->pos++;
		m = si.escaped ? M_COUNT_
		               : lookup_member(s->p + key, keylen, last);
		if (m != M_COUNT_)
			last = (int)m;
		s->member = m == M_COUNT_ ? "unknown member" : member_names[m];
		vstart = s->pos;
		if ((r = scan_value(s, 0, &k, &si, &iu, &u)) != RCPT_OK)
			return r;
		if (m == M_COUNT_) {
			int printable = keylen <= 64;
			for (i = 0; i < keylen && printable; i++)
				printable = s->p[key + i] >= 0x21 &&
				            s->p[key + i] < 0x7f;
			if (printable)
				defer(s, RCPT_E_INVAL,
				    "unknown member \"%.*s\"", (int)keylen,
				    s->p + key);
			else
				defer(s, RCPT_E_INVAL, "unknown member");
		} else {
			span_of(vw, m)->p = s->p + vstart;
			span_of(vw, m)->len = s->pos - vstart;
			*seen |= 1u << m;
			check_member(s, m, k, &si, iu, u, vw);
		}
		if (s->pos >= s->len)
			return not_jcs(s, "unterminated object");
		if (s->p[s->pos] == '}') {
			s->pos++;
			return RCPT_OK;
		}
		if (s->p[s->pos] != ',')
			return not_jcs(s, "expected ','");
		s->pos++;
	}
}

int
rcpt_receipt_scan(const char *line, size_t len, int max_depth,
    struct rcpt_receipt_view *out, struct rcpt_diag *diag)
{
	struct rcpt_diag rule; /* written only by defer() */
	struct scan s;
	unsigned seen = 0;
	int r, m;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	s.rule = &rule;
	s.p = line;
	s.len = len;
	s.max_depth = max_depth <= 0 ? RCPT_JSON_DEPTH_MAX : max_depth;
	s.diag = diag;
	s.member = "data";
	if ((r = scan_members(&s, out, &seen)) != RCPT_OK)
		return r;
	if (s.pos != s.len)
		return not_jcs(&s, "text after the object");
	if (s.rule_err != RCPT_OK)
		return rcpt_diag(diag, s.rule_err, "%s", rule.msg);
	for (m = 0; m < M_COUNT_; m++) {
		if (m == M_DATA || m == M_PRUNED_AT || m == M_SIGNATURE)
			continue;
		if (!(seen & 1u << m))
			return rcpt_diag(diag, RCPT_E_INVAL,
			    "%s: missing member", member_names[m]);
	}
	out->has_data = (seen & 1u << M_DATA) != 0;
	out->has_pruned_at = (seen & 1u << M_PRUNED_AT) != 0;
	out->has_signature = (seen & 1u << M_SIGNATURE) != 0;
	if (out->has_data && out->has_pruned_at)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "data: present together with pruned_at (data is absent "
		    "exactly when pruned_at is present)");
	if (!out->has_data && !out->has_pruned_at)
		return rcpt_diag(diag, RCPT_E_INVAL,
		    "data: missing member (and no pruned_at)");
	return RCPT_OK;
}

int
rcpt_receipt_view_signed(const struct rcpt_receipt_view *vw, struct rcpt_buf *b)
{
#define KEY(text) text, sizeof(text) - 1
	const struct {
		const char *key;
		size_t len;
		const struct rcpt_receipt_span *sp;
	} m[] = {
	    {KEY("{\"chain\":"), &vw->chain},
	    {KEY(",\"data_hash\":"), &vw->data_hash},
	    {KEY(",\"kid\":"), &vw->kid},
	    {KEY(",\"prev_hash\":"), &vw->prev_hash},
	    {KEY(",\"seq\":"), &vw->seq},
	    {KEY(",\"submitter\":"), &vw->submitter},
	    {KEY(",\"tags\":"), &vw->tags},
	    {KEY(",\"ts\":"), &vw->ts},
	    {KEY(",\"type\":"), &vw->type},
	    {KEY(",\"v\":"), &vw->v},
	};
#undef KEY
	size_t i, n = 1;
	char *o;
	int r;

	/* One reservation, then plain copies: this runs for every receipt. */
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		n += m[i].len + m[i].sp->len;
	if ((r = rcpt_buf_reserve(b, n)) != RCPT_OK)
		return r;
	o = b->p + b->len;
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		memcpy(o, m[i].key, m[i].len);
		o += m[i].len;
		memcpy(o, m[i].sp->p, m[i].sp->len);
		o += m[i].sp->len;
	}
	*o++ = '}';
	*o = '\0';
	b->len = (size_t)(o - b->p);
	return RCPT_OK;
}

int
rcpt_receipt_span_is(const struct rcpt_receipt_span *sp, const char *s)
{
	size_t n = strlen(s);

	return sp->len == n + 2 && sp->p[0] == '"' &&
	       memcmp(sp->p + 1, s, n) == 0;
}
