/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Receipts (SPEC 1): building, hashing, signing, writing, and strict
 * parsing.  Parsing is a single pass over the line that checks it is
 * the JCS of its own parse (RFC 8785: no white space, members ordered
 * by UTF-16 code units, JCS string escapes, ECMAScript numbers) without
 * building a JSON tree, so that a verifier spends microseconds per
 * receipt.  It deliberately knows nothing of chains: seq order, links
 * and keys are verify.c's business.
 */
#include "config.h"

#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "encode.h"
#include "jcs.h"
#include "json.h"
#include "mem.h"
#include "receipt.h"
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
	int nul;     /* holds U+0000 */
	int escaped; /* has a backslash escape */
	int nonchar; /* holds a noncharacter (not I-JSON) */
};

struct scan {
	const char *p;
	size_t len;
	size_t pos;
	int max_depth;
	const char *member;    /* name used for I-JSON complaints */
	struct rcpt_diag rule; /* first member-rule failure, deferred */
	int rule_err;
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
	vsnprintf(s->rule.msg, sizeof(s->rule.msg), fmt, ap);
	va_end(ap);
	s->rule.set = 1;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Decodes one code point of canonical string text at *i (below @p end),
 * undoing the escapes JCS allows.
 */
static uint32_t
next_cp(const uint8_t *p, size_t end, size_t *i)
{
	uint32_t cp = 0;
	size_t n;

	if (p[*i] != '\\') {
		n = rcpt_utf8_decode(p + *i, end - *i, &cp);
		*i += n == 0 ? 1 : n;
		return cp;
	}
	switch (p[*i + 1]) {
	case 'b':
		cp = 0x08;
		break;
	case 't':
		cp = 0x09;
		break;
	case 'n':
		cp = 0x0a;
		break;
	case 'f':
		cp = 0x0c;
		break;
	case 'r':
		cp = 0x0d;
		break;
	case 'u':
		cp = (uint32_t)(hexval(p[*i + 4]) << 4 | hexval(p[*i + 5]));
		*i += 6;
		return cp;
	default:
		cp = p[*i + 1];
		break;
	}
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
				if (s->len - s->pos < 6 ||
				    p[s->pos + 2] != '0' ||
				    p[s->pos + 3] != '0' ||
				    (p[s->pos + 4] != '0' &&
				        p[s->pos + 4] != '1') ||
				    hexval(p[s->pos + 5]) < 0)
					return not_jcs(
					    s, "\\u escape not in JCS form");
				cp = (uint32_t)((p[s->pos + 4] - '0') << 4 |
				                hexval(p[s->pos + 5]));
				if (cp == 0x08 || cp == 0x09 || cp == 0x0a ||
				    cp == 0x0c || cp == 0x0d)
					return not_jcs(
					    s, "\\u escape not in JCS form");
				si->ctl = 1;
				si->nul |= cp == 0;
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

/* Checks a string member whose value must be plain ASCII of a form. */
static int
inner(const struct rcpt_receipt_span *sp, const char **p, size_t *n)
{
	if (sp->len < 2 || sp->p[0] != '"')
		return 0;
	*p = sp->p + 1;
	*n = sp->len - 2;
	return 1;
}

static int
chain_ok(const char *c, size_t n)
{
	size_t i;

	if (n < 1 || n > RCPT_CHAIN_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		int ok = (c[i] >= 'a' && c[i] <= 'z') ||
		         (c[i] >= '0' && c[i] <= '9') ||
		         (i > 0 && (c[i] == '.' || c[i] == '_' || c[i] == '-'));
		if (!ok)
			return 0;
	}
	return 1;
}

static int
type_ok(const char *t, size_t n)
{
	size_t i;

	if (n < 1 || n > RCPT_TYPE_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = t[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		        (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		        c == ':' || c == '-'))
			return 0;
	}
	return 1;
}

int
rcpt_receipt_chain_is_valid(const char *chain)
{
	return chain != NULL && chain_ok(chain, strlen(chain));
}

int
rcpt_receipt_type_is_valid(const char *type)
{
	return type != NULL && type_ok(type, strlen(type));
}

int
rcpt_receipt_type_is_reserved(const char *type)
{
	return type != NULL && strncasecmp(type, "receiptd.", 9) == 0;
}

int
rcpt_receipt_type_is_defined_reserved(const char *type, size_t len)
{
	static const char *const t[] = {
	    RCPT_GENESIS_TYPE, RCPT_ROTATION_TYPE, RCPT_REVOCATION_TYPE};
	size_t i;

	for (i = 0; i < 3; i++)
		if (len == strlen(t[i]) && memcmp(type, t[i], len) == 0)
			return 1;
	return 0;
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

static void
check_hex(struct scan *s, enum member m, const struct rcpt_receipt_span *sp,
    uint8_t *out, size_t n)
{
	const char *p;
	size_t len;

	if (!inner(sp, &p, &len) || rcpt_hex_decode(p, len, out, n) != RCPT_OK)
		defer(s, RCPT_E_INVAL,
		    "%s: must be lowercase hex of the "
		    "right length",
		    member_names[m]);
}

/* Applies SPEC 1's rule for member @p m to its value just scanned. */
static void
check_member(struct scan *s, enum member m, enum kind k,
    const struct str_info *si, int is_uint, uint64_t u,
    struct rcpt_receipt_view *vw)
{
	const struct rcpt_receipt_span *sp;
	const char *name = member_names[m], *p;
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
			    "seq: must be an integer from 0 "
			    "to 2^53");
		vw->seq_num = u;
		return;
	case M_TAGS:
		if (k != K_ARRAY)
			defer(s, RCPT_E_INVAL,
			    "tags: must be an array of "
			    "strings");
		else
			check_tags(s, (size_t)(vw->tags.p - s->p));
		return;
	case M_DATA:
		return;
	default:
		break;
	}
	if (k != K_STRING) {
		defer(s, RCPT_E_INVAL, "%s: must be a string", name);
		return;
	}
	switch (m) {
	case M_CHAIN:
		sp = &vw->chain;
		if (!inner(sp, &p, &n) || !chain_ok(p, n))
			defer(s, RCPT_E_INVAL,
			    "chain: must match "
			    "^[a-z0-9][a-z0-9._-]{0,63}$");
		break;
	case M_TS:
	case M_PRUNED_AT:
		sp = m == M_TS ? &vw->ts : &vw->pruned_at;
		if (!inner(sp, &p, &n) || !rcpt_ts_is_valid(p, n))
			defer(s, RCPT_E_INVAL,
			    "%s: must be a TS "
			    "(YYYY-MM-DDTHH:MM:SS.mmmZ, a real UTC time)",
			    name);
		break;
	case M_TYPE:
		if (!inner(&vw->type, &p, &n) || !type_ok(p, n))
			defer(s, RCPT_E_INVAL,
			    "type: must be 1 to 128 "
			    "characters of [A-Za-z0-9._:-]");
		break;
	case M_SUBMITTER:
		if (si->ncp == 0)
			defer(s, RCPT_E_INVAL, "submitter: must not be empty");
		break;
	case M_KID:
		if (!inner(&vw->kid, &p, &n) || n != RCPT_KID_LEN ||
		    rcpt_b64url_decode(p, n, kid, sizeof(kid)) != RCPT_OK)
			defer(s, RCPT_E_INVAL,
			    "kid: must be 43 characters of "
			    "canonical base64url");
		break;
	case M_DATA_HASH:
		check_hex(
		    s, m, &vw->data_hash, vw->data_hash_raw, RCPT_HASH_LEN);
		break;
	case M_PREV_HASH:
		check_hex(
		    s, m, &vw->prev_hash, vw->prev_hash_raw, RCPT_HASH_LEN);
		break;
	case M_ENTRY_HASH:
		check_hex(
		    s, m, &vw->entry_hash, vw->entry_hash_raw, RCPT_HASH_LEN);
		break;
	case M_SIGNATURE:
		check_hex(s, m, &vw->signature, vw->signature_raw,
		    RCPT_ED25519_SIG_LEN);
		break;
	default:
		break;
	}
}

static struct rcpt_receipt_span *
span_of(struct rcpt_receipt_view *vw, enum member m)
{
	switch (m) {
	case M_CHAIN:
		return &vw->chain;
	case M_DATA:
		return &vw->data;
	case M_DATA_HASH:
		return &vw->data_hash;
	case M_ENTRY_HASH:
		return &vw->entry_hash;
	case M_KID:
		return &vw->kid;
	case M_PREV_HASH:
		return &vw->prev_hash;
	case M_PRUNED_AT:
		return &vw->pruned_at;
	case M_SEQ:
		return &vw->seq;
	case M_SIGNATURE:
		return &vw->signature;
	case M_SUBMITTER:
		return &vw->submitter;
	case M_TAGS:
		return &vw->tags;
	case M_TS:
		return &vw->ts;
	case M_TYPE:
		return &vw->type;
	default:
		return &vw->v;
	}
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
			return not_jcs(s, "members not in JCS order or "
			                  "duplicated");
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
	struct scan s;
	unsigned seen = 0;
	int r, m;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
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
		return rcpt_diag(diag, s.rule_err, "%s", s.rule.msg);
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
	const struct {
		const char *key;
		const struct rcpt_receipt_span *sp;
	} m[] = {
	    {"{\"chain\":", &vw->chain},
	    {",\"data_hash\":", &vw->data_hash},
	    {",\"kid\":", &vw->kid},
	    {",\"prev_hash\":", &vw->prev_hash},
	    {",\"seq\":", &vw->seq},
	    {",\"submitter\":", &vw->submitter},
	    {",\"tags\":", &vw->tags},
	    {",\"ts\":", &vw->ts},
	    {",\"type\":", &vw->type},
	    {",\"v\":", &vw->v},
	};
	size_t i;
	int r;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if ((r = rcpt_buf_append(b, m[i].key, strlen(m[i].key))) !=
		        RCPT_OK ||
		    (r = rcpt_buf_append(b, m[i].sp->p, m[i].sp->len)) !=
		        RCPT_OK)
			return r;
	}
	return rcpt_buf_append(b, "}", 1);
}

/* Appends the unescaped text of canonical string text @p p. */
static int
unescape(const char *p, size_t n, struct rcpt_buf *b)
{
	const uint8_t *u = (const uint8_t *)p;
	char enc[4];
	size_t i = 0, k;
	uint32_t cp;
	int r;

	rcpt_buf_reset(b);
	if ((r = rcpt_buf_append(b, "", 0)) != RCPT_OK)
		return r;
	while (i < n) {
		cp = next_cp(u, n, &i);
		k = rcpt_utf8_encode(cp, enc);
		if ((r = rcpt_buf_append(b, enc, k)) != RCPT_OK)
			return r;
	}
	return RCPT_OK;
}

struct tree {
	const char *p;
	size_t len;
	size_t pos;
	struct rcpt_buf sb;
	struct rcpt_diag *diag;
};

static int tree_value(struct tree *t, json_object **out);

/* Reads a string (form already checked) into t->sb. */
static int
tree_string(struct tree *t)
{
	size_t start = ++t->pos;

	while (t->p[t->pos] != '"')
		t->pos += t->p[t->pos] == '\\' ? 2 : 1;
	t->pos++;
	return unescape(t->p + start, t->pos - 1 - start, &t->sb);
}

static int
tree_container(struct tree *t, json_object **out)
{
	int is_object = t->p[t->pos] == '{', r;
	json_object *c, *v = NULL;
	char *key = NULL;

	c = is_object ? json_object_new_object() : json_object_new_array();
	if (c == NULL)
		return RCPT_E_NOMEM;
	t->pos++;
	if (t->p[t->pos] == (is_object ? '}' : ']')) {
		t->pos++;
		*out = c;
		return RCPT_OK;
	}
	for (;;) {
		if (is_object) {
			if ((r = tree_string(t)) != RCPT_OK)
				goto fail;
			if (strlen(t->sb.p) != t->sb.len) {
				r = rcpt_diag(t->diag, RCPT_E_INVAL,
				    "data: member name holds U+0000");
				goto fail;
			}
			if ((key = rcpt_strdup(t->sb.p)) == NULL) {
				r = RCPT_E_NOMEM;
				goto fail;
			}
			t->pos++; /* ':' */
		}
		if ((r = tree_value(t, &v)) != RCPT_OK)
			goto fail;
		/* Both calls steal v on success only. */
		if (is_object)
			r = json_object_object_add(c, key, v);
		else
			r = json_object_array_add(c, v);
		if (r != 0)
			json_object_put(v);
		v = NULL;
		free(key);
		key = NULL;
		if (r != 0) {
			r = RCPT_E_NOMEM;
			goto fail;
		}
		if (t->p[t->pos++] != ',')
			break;
	}
	*out = c;
	return RCPT_OK;
fail:
	free(key);
	json_object_put(c);
	return r;
}

static int
tree_value(struct tree *t, json_object **out)
{
	char text[RCPT_JCS_NUMBER_MAX];
	size_t start;
	double d;
	int r;

	*out = NULL;
	switch (t->p[t->pos]) {
	case '{':
	case '[':
		return tree_container(t, out);
	case '"':
		if ((r = tree_string(t)) != RCPT_OK)
			return r;
		*out = json_object_new_string_len(t->sb.p, (int)t->sb.len);
		return *out == NULL ? RCPT_E_NOMEM : RCPT_OK;
	case 't':
	case 'f':
		*out = json_object_new_boolean(t->p[t->pos] == 't');
		t->pos += t->p[t->pos] == 't' ? 4 : 5;
		return *out == NULL ? RCPT_E_NOMEM : RCPT_OK;
	case 'n':
		t->pos += 4;
		return RCPT_OK;
	default:
		start = t->pos;
		while (t->pos < t->len &&
		       strchr("-+.eE0123456789", t->p[t->pos]) != NULL)
			t->pos++;
		if (t->pos - start >= sizeof(text))
			return RCPT_E_INTERNAL;
		memcpy(text, t->p + start, t->pos - start);
		text[t->pos - start] = '\0';
		if ((r = c_strtod(text, &d)) != RCPT_OK)
			return r == RCPT_E_INTERNAL ? r : RCPT_E_PARSE;
		*out = json_object_new_double(d);
		return *out == NULL ? RCPT_E_NOMEM : RCPT_OK;
	}
}

int
rcpt_receipt_tree(
    const char *text, size_t len, json_object **out, struct rcpt_diag *diag)
{
	struct scan s;
	struct tree t;
	struct str_info si;
	enum kind k;
	uint64_t u;
	int r, iu;

	*out = NULL;
	memset(&s, 0, sizeof(s));
	s.p = text;
	s.len = len;
	s.max_depth = RCPT_JSON_DEPTH_MAX;
	s.member = "data";
	s.diag = diag;
	if ((r = scan_value(&s, 0, &k, &si, &iu, &u)) != RCPT_OK)
		return r;
	if (s.pos != len)
		return not_jcs(&s, "text after the value");
	if (s.rule_err != RCPT_OK)
		return rcpt_diag(diag, s.rule_err, "%s", s.rule.msg);
	memset(&t, 0, sizeof(t));
	t.p = text;
	t.len = len;
	t.diag = diag;
	r = tree_value(&t, out);
	rcpt_buf_clear(&t.sb);
	return r;
}

void
rcpt_receipt_init(struct rcpt_receipt *r)
{
	memset(r, 0, sizeof(*r));
}

void
rcpt_receipt_clear(struct rcpt_receipt *r)
{
	json_object_put(r->tags);
	json_object_put(r->data);
	free(r->submitter);
	memset(r, 0, sizeof(*r));
}

/* Appends @p s as a JCS string (RFC 8785 3.2.2.2). */
static int
append_string(struct rcpt_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;
	char esc[6];
	int r;

	if ((r = rcpt_buf_append(b, "\"", 1)) != RCPT_OK)
		return r;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t k = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		if ((r = rcpt_buf_append(b, s + run, i - run)) != RCPT_OK)
			return r;
		run = i + 1;
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
			esc[5] = hex[c & 15];
			k = 6;
			break;
		}
		if ((r = rcpt_buf_append(b, esc, k)) != RCPT_OK)
			return r;
	}
	if ((r = rcpt_buf_append(b, s + run, n - run)) != RCPT_OK)
		return r;
	return rcpt_buf_append(b, "\"", 1);
}

static int
append_member(
    struct rcpt_buf *b, const char *name, const char *text, size_t n, int quote)
{
	int r;

	if ((r = rcpt_buf_append(b, b->len > 1 ? ",\"" : "\"",
	         b->len > 1 ? 2 : 1)) != RCPT_OK ||
	    (r = rcpt_buf_append(b, name, strlen(name))) != RCPT_OK ||
	    (r = rcpt_buf_append(b, quote ? "\":\"" : "\":", quote ? 3 : 2)) !=
	        RCPT_OK ||
	    (r = rcpt_buf_append(b, text, n)) != RCPT_OK)
		return r;
	return quote ? rcpt_buf_append(b, "\"", 1) : RCPT_OK;
}

static int
append_tags(struct rcpt_buf *b, const json_object *tags)
{
	size_t i, n = tags == NULL ? 0 : json_object_array_length(tags);
	int r;

	if ((r = rcpt_buf_append(b, ",\"tags\":[", 9)) != RCPT_OK)
		return r;
	for (i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(tags, i);

		if ((i > 0 && (r = rcpt_buf_append(b, ",", 1)) != RCPT_OK) ||
		    (r = append_string(b, json_object_get_string(t),
		         (size_t)json_object_get_string_len(t))) != RCPT_OK)
			return r;
	}
	return rcpt_buf_append(b, "]", 1);
}

/* Writes the signed view (@p stored 0) or the stored receipt. */
static int
write_receipt(const struct rcpt_receipt *rc, int stored, struct rcpt_buf *b)
{
	char hex[2 * RCPT_ED25519_SIG_LEN + 1], num[24];
	int r, n;

	if ((r = rcpt_buf_append(b, "{", 1)) != RCPT_OK ||
	    (r = append_member(b, "chain", rc->chain, strlen(rc->chain), 1)) !=
	        RCPT_OK)
		return r;
	if (stored && rc->has_data) {
		if ((r = rcpt_buf_append(b, ",\"data\":", 8)) != RCPT_OK ||
		    (r = rcpt_jcs_append(b, rc->data, NULL)) != RCPT_OK)
			return r;
	}
	rcpt_hex_encode(rc->data_hash, RCPT_HASH_LEN, hex);
	if ((r = append_member(b, "data_hash", hex, 64, 1)) != RCPT_OK)
		return r;
	if (stored) {
		rcpt_hex_encode(rc->entry_hash, RCPT_HASH_LEN, hex);
		if ((r = append_member(b, "entry_hash", hex, 64, 1)) != RCPT_OK)
			return r;
	}
	rcpt_hex_encode(rc->prev_hash, RCPT_HASH_LEN, hex);
	if ((r = append_member(b, "kid", rc->kid, strlen(rc->kid), 1)) !=
	        RCPT_OK ||
	    (r = append_member(b, "prev_hash", hex, 64, 1)) != RCPT_OK)
		return r;
	if (stored && !rc->has_data &&
	    (r = append_member(b, "pruned_at", rc->pruned_at,
	         strlen(rc->pruned_at), 1)) != RCPT_OK)
		return r;
	n = snprintf(num, sizeof(num), "%llu", (unsigned long long)rc->seq);
	if ((r = append_member(b, "seq", num, (size_t)n, 0)) != RCPT_OK)
		return r;
	if (stored && rc->has_signature) {
		rcpt_hex_encode(rc->signature, RCPT_ED25519_SIG_LEN, hex);
		if ((r = append_member(b, "signature", hex, 128, 1)) != RCPT_OK)
			return r;
	}
	if ((r = rcpt_buf_append(b, ",\"submitter\":", 13)) != RCPT_OK ||
	    (r = append_string(b, rc->submitter, strlen(rc->submitter))) !=
	        RCPT_OK ||
	    (r = append_tags(b, rc->tags)) != RCPT_OK ||
	    (r = append_member(b, "ts", rc->ts, strlen(rc->ts), 1)) !=
	        RCPT_OK ||
	    (r = append_member(b, "type", rc->type, strlen(rc->type), 1)) !=
	        RCPT_OK)
		return r;
	return rcpt_buf_append(b, ",\"v\":1}", 7);
}

static int
hand_over(struct rcpt_buf *b, char **out, size_t *len_out)
{
	*out = b->p;
	if (len_out != NULL)
		*len_out = b->len;
	memset(b, 0, sizeof(*b));
	return RCPT_OK;
}

int
rcpt_receipt_signed_view(
    const struct rcpt_receipt *r, char **out, size_t *len_out)
{
	struct rcpt_buf b = {0};
	int e;

	*out = NULL;
	if ((e = write_receipt(r, 0, &b)) != RCPT_OK) {
		rcpt_buf_clear(&b);
		return e;
	}
	return hand_over(&b, out, len_out);
}

int
rcpt_receipt_serialize(
    const struct rcpt_receipt *r, char **out, size_t *len_out)
{
	struct rcpt_buf b = {0};
	int e;

	*out = NULL;
	if ((e = write_receipt(r, 1, &b)) != RCPT_OK) {
		rcpt_buf_clear(&b);
		return e;
	}
	return hand_over(&b, out, len_out);
}

int
rcpt_receipt_entry_hash(
    const struct rcpt_receipt *r, uint8_t out[RCPT_HASH_LEN])
{
	struct rcpt_buf b = {0};
	int e;

	if ((e = write_receipt(r, 0, &b)) == RCPT_OK)
		SHA256((const unsigned char *)b.p, b.len, out);
	rcpt_buf_clear(&b);
	return e;
}

int
rcpt_receipt_sign(struct rcpt_receipt *r, const struct rcpt_signer *s)
{
	int e;

	if (s == NULL || s->sign == NULL || strcmp(s->kid, r->kid) != 0)
		return RCPT_E_INVAL;
	if ((e = s->sign(s->ctx, r->kid, r->entry_hash, r->signature)) !=
	    RCPT_OK)
		return e;
	r->has_signature = true;
	return RCPT_OK;
}

/* 1 when UTF-8 text @p p holds U+0000-001F or U+007F-009F. */
static int
has_control(const char *p, size_t n)
{
	const uint8_t *u = (const uint8_t *)p;
	size_t i;

	for (i = 0; i < n; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return 1;
		if (u[i] == 0xc2 && i + 1 < n && u[i + 1] <= 0x9f)
			return 1;
	}
	return 0;
}

/* Makes a fresh array of fresh strings from @p tags after checking it. */
static int
copy_tags(const json_object *tags, json_object **out, struct rcpt_diag *d)
{
	json_object *a, *t, *c;
	size_t i, n, ncp;
	const char *p;
	int len;

	*out = NULL;
	if (tags != NULL && !json_object_is_type(tags, json_type_array))
		return rcpt_diag(d, RCPT_E_INVAL, "tags: must be an array");
	n = tags == NULL ? 0 : json_object_array_length(tags);
	if (n > RCPT_TAGS_MAX)
		return rcpt_diag(d, RCPT_E_INVAL, "tags: more than 32 items");
	if ((a = json_object_new_array()) == NULL)
		return RCPT_E_NOMEM;
	for (i = 0; i < n; i++) {
		t = json_object_array_get_idx(tags, i);
		if (!json_object_is_type(t, json_type_string)) {
			json_object_put(a);
			return rcpt_diag(
			    d, RCPT_E_INVAL, "tags[%zu]: must be a string", i);
		}
		p = json_object_get_string(t);
		len = json_object_get_string_len(t);
		if (!rcpt_utf8_check(p, (size_t)len, &ncp) || ncp < 1 ||
		    ncp > RCPT_TAG_MAX || has_control(p, (size_t)len)) {
			json_object_put(a);
			return rcpt_diag(d, RCPT_E_INVAL,
			    "tags[%zu]: must be 1 to 128 code points of "
			    "I-JSON text without control characters",
			    i);
		}
		if ((c = json_object_new_string_len(p, len)) == NULL) {
			json_object_put(a);
			return RCPT_E_NOMEM;
		}
		if (json_object_array_add(a, c) != 0) { /* steals c if 0 */
			json_object_put(c);
			json_object_put(a);
			return RCPT_E_NOMEM;
		}
	}
	*out = a;
	return RCPT_OK;
}

static int
check_fields(const struct rcpt_receipt_fields *f, struct rcpt_diag *d)
{
	uint8_t raw[RCPT_HASH_LEN];
	size_t ncp;

	if (!rcpt_receipt_chain_is_valid(f->chain))
		return rcpt_diag(d, RCPT_E_INVAL,
		    "chain: must match ^[a-z0-9][a-z0-9._-]{0,63}$");
	if (f->seq > (UINT64_C(1) << 53))
		return rcpt_diag(d, RCPT_E_INVAL, "seq: above 2^53");
	if (f->ts == NULL || !rcpt_ts_is_valid(f->ts, strlen(f->ts)))
		return rcpt_diag(d, RCPT_E_INVAL, "ts: must be a TS");
	if (!rcpt_receipt_type_is_valid(f->type))
		return rcpt_diag(d, RCPT_E_INVAL,
		    "type: must be 1 to 128 characters of [A-Za-z0-9._:-]");
	if (f->submitter == NULL ||
	    !rcpt_utf8_check(f->submitter, strlen(f->submitter), &ncp) ||
	    ncp < 1 || ncp > RCPT_SUBMITTER_MAX)
		return rcpt_diag(d, RCPT_E_INVAL,
		    "submitter: must be 1 to %d code points of I-JSON text",
		    RCPT_SUBMITTER_MAX);
	if (f->kid == NULL || strlen(f->kid) != RCPT_KID_LEN ||
	    rcpt_b64url_decode(f->kid, RCPT_KID_LEN, raw, sizeof(raw)) !=
	        RCPT_OK)
		return rcpt_diag(d, RCPT_E_INVAL,
		    "kid: must be 43 characters of canonical base64url");
	return RCPT_OK;
}

int
rcpt_receipt_build(const struct rcpt_receipt_fields *f,
    struct rcpt_receipt *out, struct rcpt_diag *diag)
{
	size_t max = f->data_max == 0 ? RCPT_DATA_MAX_DEFAULT : f->data_max;
	char *jcs = NULL;
	size_t jlen = 0;
	int r = RCPT_E_INTERNAL;

	rcpt_receipt_clear(out);
	if ((r = check_fields(f, diag)) != RCPT_OK)
		goto out;
	if ((r = copy_tags(f->tags, &out->tags, diag)) != RCPT_OK)
		goto out;
	if ((r = rcpt_jcs_serialize(f->data, &jcs, &jlen, diag)) != RCPT_OK)
		goto out;
	if (jlen > max) {
		r = rcpt_diag(diag, RCPT_E_TOO_LARGE,
		    "data: JCS form longer than %zu bytes", max);
		goto out;
	}
	/* An own copy of data that also proves it is I-JSON. */
	if ((r = rcpt_receipt_tree(jcs, jlen, &out->data, diag)) != RCPT_OK)
		goto out;
	if ((out->submitter = rcpt_strdup(f->submitter)) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	memcpy(out->chain, f->chain, strlen(f->chain) + 1);
	out->seq = f->seq;
	memcpy(out->ts, f->ts, RCPT_TS_LEN + 1);
	memcpy(out->type, f->type, strlen(f->type) + 1);
	memcpy(out->kid, f->kid, RCPT_KID_LEN + 1);
	if (f->prev_hash != NULL)
		memcpy(out->prev_hash, f->prev_hash, RCPT_HASH_LEN);
	out->has_data = true;
	SHA256((const unsigned char *)jcs, jlen, out->data_hash);
	r = rcpt_receipt_entry_hash(out, out->entry_hash);
out:
	free(jcs);
	if (r != RCPT_OK)
		rcpt_receipt_clear(out);
	return r;
}

static void
copy_inner(char *dst, const struct rcpt_receipt_span *sp)
{
	memcpy(dst, sp->p + 1, sp->len - 2);
	dst[sp->len - 2] = '\0';
}

int
rcpt_receipt_parse(const char *line, size_t len, int max_depth,
    struct rcpt_receipt *out, struct rcpt_diag *diag)
{
	struct rcpt_receipt_view vw;
	struct rcpt_buf b = {0};
	json_object *t;
	const char *p, *q;
	int r = RCPT_E_INTERNAL;

	rcpt_receipt_clear(out);
	if ((r = rcpt_receipt_scan(line, len, max_depth, &vw, diag)) != RCPT_OK)
		return r;
	copy_inner(out->chain, &vw.chain);
	copy_inner(out->ts, &vw.ts);
	copy_inner(out->type, &vw.type);
	copy_inner(out->kid, &vw.kid);
	out->seq = vw.seq_num;
	memcpy(out->data_hash, vw.data_hash_raw, RCPT_HASH_LEN);
	memcpy(out->prev_hash, vw.prev_hash_raw, RCPT_HASH_LEN);
	memcpy(out->entry_hash, vw.entry_hash_raw, RCPT_HASH_LEN);
	memcpy(out->signature, vw.signature_raw, RCPT_ED25519_SIG_LEN);
	out->has_signature = vw.has_signature;
	out->has_data = vw.has_data;
	if (vw.has_pruned_at)
		copy_inner(out->pruned_at, &vw.pruned_at);
	if ((r = unescape(vw.submitter.p + 1, vw.submitter.len - 2, &b)) !=
	    RCPT_OK)
		goto out;
	if (strlen(b.p) != b.len) {
		r = rcpt_diag(diag, RCPT_E_INVAL,
		    "submitter: holds U+0000, which this parser cannot keep");
		goto out;
	}
	if ((out->submitter = rcpt_strdup(b.p)) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	if ((out->tags = json_object_new_array()) == NULL) {
		r = RCPT_E_NOMEM;
		goto out;
	}
	/* Walk the canonical tags text: strings separated by ','. */
	for (p = vw.tags.p + 1; *p == '"'; p = q + 1) {
		q = p + 1;
		while (*q != '"')
			q += *q == '\\' ? 2 : 1;
		if ((r = unescape(p + 1, (size_t)(q - p - 1), &b)) != RCPT_OK)
			goto out;
		if ((t = json_object_new_string_len(b.p, (int)b.len)) == NULL) {
			r = RCPT_E_NOMEM;
			goto out;
		}
		if (json_object_array_add(out->tags, t) != 0) {
			json_object_put(t);
			r = RCPT_E_NOMEM;
			goto out;
		}
		q++; /* the closing quote; then ',' or ']' */
		if (*q != ',')
			break;
	}
	if (vw.has_data && (r = rcpt_receipt_tree(vw.data.p, vw.data.len,
	                        &out->data, diag)) != RCPT_OK)
		goto out;
	r = RCPT_OK;
out:
	rcpt_buf_clear(&b);
	if (r != RCPT_OK)
		rcpt_receipt_clear(out);
	return r;
}
