/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The PKCS#11 provider plugin: struct rcpt_provider over hsm/hsm.h.
 * Keys live on the token and never leave it; this file only parses the
 * config string, turns key labels into RFC 7512 handles and back, and
 * translates results.  It exports one symbol, rcpt_provider_entry.
 *
 * Config string (no spaces, no quoting):
 *
 *   config = item *( ";" item )
 *   item   = "module=" <absolute .so path or p11-kit module name>
 *          / "token=" <RFC 7512 URI selecting the token>
 *          / "pin-file=" <path of the RFC 7512 pin-source file>
 *          / "sessions=" <1..64, default 4>
 *
 * module, token and pin-file are required; each key at most once; any
 * other key is refused.  An RFC 7512 URI separates its own attributes
 * with ';', so the segments after "token=" whose name is a token, slot
 * or library attribute (token, manufacturer, serial, model, slot-*,
 * library-*) belong to the URI: "token=pkcs11:token=receiptd;serial=42".
 * The URI must not have a query (module and PIN have their own keys) or
 * name an object.
 *
 * A key's handle is "<token URI>;object=<label>;type=private", the label
 * percent-encoded where RFC 3986 requires it.  Keys this provider makes
 * are labelled by their kid (CKA_LABEL and CKA_ID): the kid is known
 * only once the pair exists, so generate() makes it under a temporary
 * label "receiptd-new-<16 hex digits>" and then renames it.  A crash in
 * between leaves an orphan pair under a temporary label: list_keys()
 * skips those labels and handles naming them are refused, so it is never
 * used; an operator may delete it with the token's tools.
 *
 * Data objects (the anchor) are the token's private CKO_DATA objects,
 * labelled by name (hsm/data.c).  Not here: PIN handling and sessions
 * (hsm/), choosing or rotating keys (the daemon).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "hsm/hsm.h"
#include "keystore/provider-util.h"
#include "keystore/provider.h"
#include "src/jwk.h"
#include "src/mem.h"

#define SESSIONS_DEFAULT 4
#define HANDLE_TAIL      ";type=private"
#define TEMP_PREFIX      "receiptd-new-" /* label of a pair not yet named */
#define TEMP_RANDOM      8               /* random bytes in a temp label */

struct p11 {
	struct rcpt_hsm *h; /* owned */
	char *token_uri;    /* owned; the prefix of every handle */
};

/* The parts of a config string; each points into one owned copy. */
struct p11_config {
	char *buf; /* owned; the segments below point into it */
	const char *module, *token, *pin_file, *sessions;
};

/* Maps a receiptd code from hsm/ to the provider vocabulary. */
static int
prov_code(int r)
{
	if (rcpt_provider_code_kept(r))
		return r;
	switch (r) {
	case RCPT_E_TOO_LARGE:
		return RCPT_PROVIDER_E_TOO_LARGE;
	case RCPT_E_PARSE:
		return RCPT_PROVIDER_E_INVAL;
	default:
		return RCPT_PROVIDER_E_INTERNAL;
	}
}

/* Passes on result @p r of a receiptd call, with @p d's message. */
static int
from_diag(struct rcpt_provider_msg *m, int r, const struct rcpt_diag *d)
{
	if (r == RCPT_OK)
		return RCPT_PROVIDER_OK;
	return rcpt_provider_say(m, prov_code(r), "%s", rcpt_diag_msg(d, r));
}

/* RFC 7512 path attributes that select a token rather than an object. */
static int
is_token_attr(const char *seg)
{
	static const char *const attrs[] = {"token", "manufacturer", "serial",
	    "model", "library-manufacturer", "library-description",
	    "library-version", "slot-description", "slot-manufacturer",
	    "slot-id"};
	const char *eq = strchr(seg, '=');
	size_t i, n;

	if (eq == NULL)
		return 0;
	n = (size_t)(eq - seg);
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (strlen(attrs[i]) == n && strncmp(seg, attrs[i], n) == 0)
			return 1;
	return 0;
}

static int
key_is_printable(const char *k)
{
	size_t i;

	for (i = 0; k[i] != '\0'; i++)
		if (i >= 32 || !((k[i] >= 'a' && k[i] <= 'z') ||
		                   (k[i] >= '0' && k[i] <= '9') ||
		                   k[i] == '-' || k[i] == '_'))
			return 0;
	return i > 0;
}

/* Stores @p value under @p key; refuses unknown and repeated keys. */
static int
set_item(struct p11_config *c, const char *key, const char *value,
    struct rcpt_provider_msg *m)
{
	static const char *const names[] = {
	    "module", "token", "pin-file", "sessions"};
	const char **slots[] = {
	    &c->module, &c->token, &c->pin_file, &c->sessions};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(key, names[i]) != 0)
			continue;
		if (*slots[i] != NULL)
			return rcpt_provider_say(m, RCPT_PROVIDER_E_CONFIG,
			    "config: %s: given twice", names[i]);
		if (value[0] == '\0')
			return rcpt_provider_say(m, RCPT_PROVIDER_E_CONFIG,
			    "config: %s: empty value", names[i]);
		*slots[i] = value;
		return RCPT_PROVIDER_OK;
	}
	if (key_is_printable(key))
		return rcpt_provider_say(m, RCPT_PROVIDER_E_CONFIG,
		    "config: unknown key \"%s\" (known: module, token, "
		    "pin-file, sessions)",
		    key);
	return rcpt_provider_say(m, RCPT_PROVIDER_E_CONFIG,
	    "config: unknown key (known: module, token, pin-file, sessions)");
}

static int
check_token_uri(const char *uri, struct rcpt_provider_msg *m)
{
	if (strncmp(uri, "pkcs11:", 7) != 0)
		return rcpt_provider_say(m, RCPT_PROVIDER_E_CONFIG,
		    "config: token: must be a pkcs11: URI (RFC 7512)");
	if (strchr(uri, '?') != NULL)
		return rcpt_provider_say(m, RCPT_PROVIDER_E_CONFIG,
		    "config: token: a URI query is not allowed; use module= "
		    "and pin-file=");
	return RCPT_PROVIDER_OK;
}

static int
parse_sessions(const char *s, int *out, struct rcpt_provider_msg *m)
{
	int v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 2 ||
		    (i == 0 && s[i] == '0'))
			return rcpt_provider_say(m, RCPT_PROVIDER_E_CONFIG,
			    "config: sessions: must be an integer from 1 to %d",
			    RCPT_HSM_SESSIONS_MAX);
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > RCPT_HSM_SESSIONS_MAX)
		return rcpt_provider_say(m, RCPT_PROVIDER_E_CONFIG,
		    "config: sessions: must be an integer from 1 to %d",
		    RCPT_HSM_SESSIONS_MAX);
	*out = v;
	return RCPT_PROVIDER_OK;
}

/*
 * Splits @p config in place.  A segment after "token=" that names a
 * token attribute is glued back to the URI with its ';'.
 */
static int
parse_config(
    const char *config, struct p11_config *c, struct rcpt_provider_msg *m)
{
	char *seg, *next, *eq;
	int r, in_token = 0;

	memset(c, 0, sizeof(*c));
	if (config == NULL || config[0] == '\0')
		return rcpt_provider_say(m, RCPT_PROVIDER_E_CONFIG,
		    "config: empty; need module=, token= and pin-file=");
	if ((c->buf = rcpt_strdup(config)) == NULL)
		return rcpt_provider_say(
		    m, RCPT_PROVIDER_E_NOMEM, "out of memory");
	for (seg = c->buf; seg != NULL; seg = next) {
		if ((next = strchr(seg, ';')) != NULL)
			*next++ = '\0';
		if (in_token && is_token_attr(seg)) {
			seg[-1] = ';'; /* still part of the token URI */
			continue;
		}
		in_token = 0;
		if ((eq = strchr(seg, '=')) == NULL)
			return rcpt_provider_say(m, RCPT_PROVIDER_E_CONFIG,
			    "config: each item must be key=value, separated by "
			    "';'");
		*eq = '\0';
		if ((r = set_item(c, seg, eq + 1, m)) != RCPT_PROVIDER_OK)
			return r;
		in_token = strcmp(seg, "token") == 0;
	}
	if (c->module == NULL)
		return rcpt_provider_say(
		    m, RCPT_PROVIDER_E_CONFIG, "config: module: required");
	if (c->token == NULL)
		return rcpt_provider_say(
		    m, RCPT_PROVIDER_E_CONFIG, "config: token: required");
	if (c->pin_file == NULL)
		return rcpt_provider_say(
		    m, RCPT_PROVIDER_E_CONFIG, "config: pin-file: required");
	return check_token_uri(c->token, m);
}

static void
p11_close(void *ctx)
{
	struct p11 *p = ctx;

	if (p == NULL)
		return;
	rcpt_hsm_close(p->h);
	free(p->token_uri);
	free(p);
}

static int
p11_open(const char *config, void **ctx_out, struct rcpt_provider_msg *m)
{
	struct rcpt_hsm_config hc;
	struct p11_config c;
	struct p11 *p = NULL;
	struct rcpt_diag d;
	int r = RCPT_PROVIDER_E_INTERNAL;

	*ctx_out = NULL;
	memset(&hc, 0, sizeof(hc));
	if ((r = parse_config(config, &c, m)) != RCPT_PROVIDER_OK)
		goto out;
	hc.module = c.module;
	hc.token_uri = c.token;
	hc.pin_file = c.pin_file;
	hc.pin_owner = geteuid();
	hc.sessions = SESSIONS_DEFAULT;
	if (c.sessions != NULL && (r = parse_sessions(c.sessions, &hc.sessions,
	                               m)) != RCPT_PROVIDER_OK)
		goto out;
	if ((p = rcpt_calloc(1, sizeof(*p))) == NULL ||
	    (p->token_uri = rcpt_strdup(c.token)) == NULL) {
		r = rcpt_provider_say(
		    m, RCPT_PROVIDER_E_NOMEM, "out of memory");
		goto out;
	}
	rcpt_diag_clear(&d);
	if ((r = rcpt_hsm_open(&hc, &p->h, &d)) != RCPT_OK) {
		r = from_diag(m, r, &d);
		goto out;
	}
	*ctx_out = p;
	p = NULL;
	r = RCPT_PROVIDER_OK;
out:
	p11_close(p);
	free(c.buf);
	return r;
}

static int
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

/* "<token URI>;object=<pct label>;type=private"; caller frees. */
static char *
make_handle(const struct p11 *p, const char *label)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(p->token_uri) + strlen(";object=") +
	           3 * strlen(label) + strlen(HANDLE_TAIL) + 1;
	char *h, *o;
	size_t i;

	if ((h = rcpt_malloc(n)) == NULL)
		return NULL;
	o = h + sprintf(h, "%s;object=", p->token_uri);
	for (i = 0; label[i] != '\0'; i++) {
		unsigned char c = (unsigned char)label[i];

		if (is_unreserved(c)) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	memcpy(o, HANDLE_TAIL, sizeof(HANDLE_TAIL));
	return h;
}

static int
hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* A label generate() used before the kid was known. */
static int
is_temp(const char *label)
{
	return strncmp(label, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0;
}

/* Reads the label back out of a handle this provider made. */
static int
parse_handle(const struct p11 *p, const char *handle,
    char label[RCPT_HSM_LABEL_MAX + 1], struct rcpt_provider_msg *m)
{
	size_t plen = strlen(p->token_uri), n = 0;
	const char *s;

	if (handle == NULL || strncmp(handle, p->token_uri, plen) != 0 ||
	    strncmp(handle + plen, ";object=", 8) != 0)
		return rcpt_provider_say(m, RCPT_PROVIDER_E_NOT_FOUND,
		    "handle: not a key of the configured token");
	for (s = handle + plen + 8; *s != '\0' && *s != ';'; s++) {
		int hi, lo;
		char c = *s;

		if (c == '%') {
			if ((hi = hex_val(s[1])) < 0 ||
			    (lo = hex_val(s[2])) < 0)
				break;
			c = (char)(hi << 4 | lo);
			s += 2;
		} else if (!is_unreserved((unsigned char)c)) {
			break;
		}
		if (c == '\0' || n >= RCPT_HSM_LABEL_MAX)
			break;
		label[n++] = c;
	}
	label[n] = '\0';
	if (n == 0 || strcmp(s, HANDLE_TAIL) != 0)
		return rcpt_provider_say(m, RCPT_PROVIDER_E_NOT_FOUND,
		    "handle: object: must be a 1-%d byte label followed by "
		    "\"" HANDLE_TAIL "\"",
		    RCPT_HSM_LABEL_MAX);
	if (is_temp(label))
		return rcpt_provider_say(m, RCPT_PROVIDER_E_NOT_FOUND,
		    "handle: object: a key that was never finished");
	return RCPT_PROVIDER_OK;
}

static int
p11_list(void *ctx, struct rcpt_provider_key **keys_out, size_t *n_out,
    struct rcpt_provider_msg *m)
{
	struct p11 *p = ctx;
	struct rcpt_hsm_key *hk = NULL;
	struct rcpt_provider_key *keys = NULL;
	struct rcpt_diag d;
	size_t n = 0, i, k = 0;
	int r = RCPT_PROVIDER_E_INTERNAL;

	*keys_out = NULL;
	*n_out = 0;
	rcpt_diag_clear(&d);
	if ((r = rcpt_hsm_list(p->h, &hk, &n, &d)) != RCPT_OK)
		return from_diag(m, r, &d);
	if (n > 0 && (keys = rcpt_calloc(n, sizeof(*keys))) == NULL) {
		r = rcpt_provider_say(
		    m, RCPT_PROVIDER_E_NOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		hk[i].label[RCPT_HSM_LABEL_MAX] = '\0';
		if (is_temp(hk[i].label))
			continue; /* orphan of an interrupted generate */
		memcpy(keys[k].pub, hk[i].pub, sizeof(keys[k].pub));
		if ((keys[k].handle = make_handle(p, hk[i].label)) == NULL) {
			r = rcpt_provider_say(
			    m, RCPT_PROVIDER_E_NOMEM, "out of memory");
			goto out;
		}
		k++;
	}
	*keys_out = keys;
	*n_out = k;
	keys = NULL;
	r = RCPT_PROVIDER_OK;
out:
	for (i = 0; keys != NULL && i < k; i++)
		free(keys[i].handle);
	free(keys);
	free(hk);
	return r;
}

/* "receiptd-new-" and 16 random hex digits into @p out. */
static int
temp_label(char out[RCPT_HSM_LABEL_MAX + 1], struct rcpt_provider_msg *m)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b[TEMP_RANDOM];
	size_t i, n = strlen(TEMP_PREFIX);

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return rcpt_provider_say(
		    m, RCPT_PROVIDER_E_INTERNAL, "generate: getrandom failed");
	memcpy(out, TEMP_PREFIX, n);
	for (i = 0; i < sizeof(b); i++) {
		out[n++] = hex[b[i] >> 4];
		out[n++] = hex[b[i] & 15];
	}
	out[n] = '\0';
	return RCPT_PROVIDER_OK;
}

/*
 * Makes the pair under a temporary label, then names both halves by the
 * kid.  If the rename fails the pair stays under the temporary label,
 * where nothing uses it.
 */
static int
p11_generate(void *ctx, const char *label, char **handle_out,
    uint8_t pub_out[32], struct rcpt_provider_msg *m)
{
	struct p11 *p = ctx;
	uint8_t pub[RCPT_HSM_PUB_LEN];
	char tmp[RCPT_HSM_LABEL_MAX + 1], kid[RCPT_KID_LEN + 1];
	struct rcpt_diag d;
	char *h;
	int r;

	(void)label; /* a token key is named by its kid */
	*handle_out = NULL;
	if ((r = temp_label(tmp, m)) != RCPT_PROVIDER_OK)
		return r;
	rcpt_diag_clear(&d);
	if ((r = rcpt_hsm_generate(p->h, tmp, pub, &d)) != RCPT_OK)
		return from_diag(m, r, &d);
	if ((r = rcpt_jwk_kid(pub, kid)) != RCPT_OK)
		return rcpt_provider_say(m, prov_code(r),
		    "generate: cannot compute the kid of the new key");
	rcpt_diag_clear(&d);
	if ((r = rcpt_hsm_relabel(p->h, tmp, kid, &d)) != RCPT_OK)
		return rcpt_provider_say(m, prov_code(r),
		    "generate: key made but not named by its kid, left "
		    "unused: %s",
		    rcpt_diag_msg(&d, r));
	if ((h = make_handle(p, kid)) == NULL)
		return rcpt_provider_say(m, RCPT_PROVIDER_E_NOMEM,
		    "out of memory after generating key %s", kid);
	memcpy(pub_out, pub, sizeof(pub));
	*handle_out = h;
	return RCPT_PROVIDER_OK;
}

static int
p11_public_key(void *ctx, const char *handle, uint8_t pub_out[32],
    struct rcpt_provider_msg *m)
{
	struct p11 *p = ctx;
	char label[RCPT_HSM_LABEL_MAX + 1];
	struct rcpt_diag d;
	int r;

	if ((r = parse_handle(p, handle, label, m)) != RCPT_PROVIDER_OK)
		return r;
	rcpt_diag_clear(&d);
	r = rcpt_hsm_public_key(p->h, label, pub_out, &d);
	return from_diag(m, r, &d);
}

static int
p11_sign(void *ctx, const char *handle, const uint8_t *msg_in, size_t len,
    uint8_t sig_out[64], struct rcpt_provider_msg *m)
{
	struct p11 *p = ctx;
	char label[RCPT_HSM_LABEL_MAX + 1];
	struct rcpt_diag d;
	int r;

	if ((r = parse_handle(p, handle, label, m)) != RCPT_PROVIDER_OK)
		return r;
	rcpt_diag_clear(&d);
	r = rcpt_hsm_sign(p->h, label, msg_in, len, sig_out, &d);
	return from_diag(m, r, &d);
}

static int
p11_health(void *ctx, struct rcpt_provider_msg *m)
{
	struct p11 *p = ctx;
	struct rcpt_diag d;
	int r;

	rcpt_diag_clear(&d);
	r = rcpt_hsm_health(p->h, &d);
	return from_diag(m, r, &d);
}

static int
p11_data_read(void *ctx, const char *name, uint8_t *buf, size_t cap,
    size_t *len_out, struct rcpt_provider_msg *m)
{
	struct p11 *p = ctx;
	struct rcpt_diag d;
	int r;

	rcpt_diag_clear(&d);
	r = rcpt_hsm_data_read(p->h, name, buf, cap, len_out, &d);
	return from_diag(m, r, &d);
}

static int
p11_data_write(void *ctx, const char *name, const uint8_t *buf, size_t len,
    struct rcpt_provider_msg *m)
{
	struct p11 *p = ctx;
	struct rcpt_diag d;
	int r;

	rcpt_diag_clear(&d);
	r = rcpt_hsm_data_write(p->h, name, buf, len, &d);
	return from_diag(m, r, &d);
}

static void
p11_free(void *ctx, void *ptr)
{
	(void)ctx;
	free(ptr);
}

static const struct rcpt_provider p11_table = {
    .abi_major = RCPT_PROVIDER_ABI_MAJOR,
    .abi_minor = RCPT_PROVIDER_ABI_MINOR,
    .struct_size = sizeof(struct rcpt_provider),
    .name = "pkcs11",
    .open = p11_open,
    .close = p11_close,
    .list_keys = p11_list,
    .generate = p11_generate,
    .public_key = p11_public_key,
    .sign = p11_sign,
    .health = p11_health,
    .free = p11_free,
    .data_read = p11_data_read,
    .data_write = p11_data_write,
};

const struct rcpt_provider *
rcpt_provider_entry(void)
{
	return &p11_table;
}
