/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The grammar of receiptd.conf: rcpt_cfg_parse() reads lines, sections
 * and keys, sends each value to its rule (the rcpt_cfg_*_parse functions
 * of settings.c) and checks the rules between keys.  A refusal names file,
 * line, section, key and rule, never the value.
 *
 * libinih splits "key = value" lines, but three of its habits do not fit
 * this file: it reads a line into a buffer of a few hundred bytes (a
 * provider config string may have 4096), keeps only 49 bytes of a
 * section name ("[chain NAME]" may need 71), and joins an indented line
 * to the previous value.  So feed_line(), the reader that feeds it, owns
 * the grammar of lines: it numbers them, drops blank and comment lines,
 * parses section headers itself and hands inih each key line without
 * its indentation.  When a key line does not fit inih's buffer, on_key()
 * takes the value from the line kept here.
 *
 * Principals may be declared after the chains that name them, so the
 * lists of a chain are kept as written and resolved at the end.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "checkpoint.h"
#include "mem.h"
#include "receipt.h"
#include "settings.h"

#define SOCKET_LEN_MAX 107 /* sun_path holds 108 bytes with the NUL */
#define MAP_MIN        ((uint64_t)1 << 20)
#define DATA_LIMIT     ((uint64_t)64 << 20)
#define PLUGIN_MAX     32 /* bytes of a plugin name */
#define LABEL_MAX      80 /* "chain " and a chain name */
#define SHOW_MAX       64 /* bytes of a rejected name shown in a message */

enum sect {
	SECT_NONE,
	SECT_DAEMON,
	SECT_PROVIDER,
	SECT_LIMITS,
	SECT_PRINCIPALS,
	SECT_CHAIN,
	SECT_N_
};

static const char *const sect_names[SECT_N_] = {[SECT_DAEMON] = "daemon",
    [SECT_PROVIDER] = "provider",
    [SECT_LIMITS] = "limits",
    [SECT_PRINCIPALS] = "principals"};

/* The keys of every section but [principals], whose keys are names. */
enum key {
	K_SOCKET,
	K_SOCKET_MODE,
	K_STORE,
	K_MAP_SIZE,
	K_MAP_MAX,
	K_ORIGIN,
	K_SIGN_THREADS,
	K_PRODUCTION,
	K_USER,
	K_GROUP,
	K_GROUPS,
	K_SECCOMP,
	K_NAME,
	K_CONFIG,
	K_PROVIDERS_DIR,
	K_DATA_MAX,
	K_DEPTH,
	K_TAGS,
	K_BATCH,
	K_BATCH_WAIT,
	K_CONNECTIONS,
	K_SEALING,
	K_APPEND,
	K_READ,
	K_ADMIN,
	K_RETENTION,
	K_EVERY,
	K_INTERVAL,
	K_N_
};

static const struct {
	const char *name;
	enum sect sect;
} keys[K_N_] = {
    [K_SOCKET] = {"socket", SECT_DAEMON},
    [K_SOCKET_MODE] = {"socket_mode", SECT_DAEMON},
    [K_STORE] = {"store", SECT_DAEMON},
    [K_MAP_SIZE] = {"map_size", SECT_DAEMON},
    [K_MAP_MAX] = {"map_max", SECT_DAEMON},
    [K_ORIGIN] = {"origin", SECT_DAEMON},
    [K_SIGN_THREADS] = {"sign_threads", SECT_DAEMON},
    [K_PRODUCTION] = {"production", SECT_DAEMON},
    [K_USER] = {"user", SECT_DAEMON},
    [K_GROUP] = {"group", SECT_DAEMON},
    [K_GROUPS] = {"groups", SECT_DAEMON},
    [K_SECCOMP] = {"seccomp", SECT_DAEMON},
    [K_NAME] = {"name", SECT_PROVIDER},
    [K_CONFIG] = {"config", SECT_PROVIDER},
    [K_PROVIDERS_DIR] = {"providers_dir", SECT_PROVIDER},
    [K_DATA_MAX] = {"data_max", SECT_LIMITS},
    [K_DEPTH] = {"depth", SECT_LIMITS},
    [K_TAGS] = {"tags", SECT_LIMITS},
    [K_BATCH] = {"batch", SECT_LIMITS},
    [K_BATCH_WAIT] = {"batch_wait", SECT_LIMITS},
    [K_CONNECTIONS] = {"connections", SECT_LIMITS},
    [K_SEALING] = {"sealing", SECT_CHAIN},
    [K_APPEND] = {"append", SECT_CHAIN},
    [K_READ] = {"read", SECT_CHAIN},
    [K_ADMIN] = {"admin", SECT_CHAIN},
    [K_RETENTION] = {"retention", SECT_CHAIN},
    [K_EVERY] = {"checkpoint_every", SECT_CHAIN},
    [K_INTERVAL] = {"checkpoint_interval", SECT_CHAIN},
};

/* The three lists of a chain, in the order of their keys. */
static const enum key list_keys[3] = {K_APPEND, K_READ, K_ADMIN};
static const unsigned list_rights[3] = {
    RCPT_RIGHT_APPEND, RCPT_RIGHT_READ, RCPT_RIGHT_ADMIN};

/* What is known of a chain section only while reading. */
struct pchain {
	int line;           /* of its header */
	int key_line[K_N_]; /* where each key was given; 0: not given */
	char *list[3];      /* owned: append, read, admin as written */
};

struct parse {
	const char *name; /* of the file, for messages */
	const char *dir;  /* base of relative paths; may be NULL */
	const char *text;
	size_t len, pos;
	int lineno;
	const char *line; /* the current line without outer blanks */
	size_t line_len;
	const char *buf; /* inih's copy of it */
	size_t shown;    /* bytes of it inih holds */
	int cut;         /* 1 when that is not the whole line */
	enum sect sect;
	size_t chain; /* when sect is SECT_CHAIN */
	char label[LABEL_MAX];
	const char *key; /* for messages about the current line */
	int sect_line[SECT_N_];
	int key_line[K_N_];
	struct pchain pch[RCPT_CFG_CHAINS_MAX];
	int principal_line[RCPT_CFG_PRINCIPALS_MAX];
	struct rcpt_cfg *cfg;
	int err; /* the first error; reading stops there */
	int err_line;
	struct rcpt_diag d;
};

static int vfail(struct parse *p, int line, const char *label, const char *key,
    const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));
static int fail(struct parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int fail_at(struct parse *p, int line, const char *label,
    const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static void
trim(const char **s, const char **e)
{
	while (*s < *e && is_blank(**s))
		(*s)++;
	while (*e > *s && is_blank((*e)[-1]))
		(*e)--;
}

static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* A name for a message: printable ASCII, others as '?', cut at SHOW_MAX. */
static const char *
show(const char *s, size_t len, char out[SHOW_MAX + 4])
{
	size_t i, n = len < SHOW_MAX ? len : SHOW_MAX;

	for (i = 0; i < n; i++)
		out[i] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (n < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

static int
vfail(struct parse *p, int line, const char *label, const char *key,
    const char *fmt, va_list ap)
{
	char where[32], rule[384];

	if (p->err != RCPT_OK)
		return p->err;
	vsnprintf(rule, sizeof(rule), fmt, ap);
	where[0] = '\0';
	if (line > 0)
		snprintf(where, sizeof(where), ":%d", line);
	rcpt_diag(&p->d, RCPT_E_CONFIG, "%s%s: %s%s%s%s%s%s%s", p->name, where,
	    label != NULL ? "[" : "", label != NULL ? label : "",
	    label != NULL ? "]" : "", label != NULL && key != NULL ? " " : "",
	    key != NULL ? key : "", label != NULL || key != NULL ? ": " : "",
	    rule);
	p->err = RCPT_E_CONFIG;
	p->err_line = line;
	return p->err;
}

/* Refuses what @p line says (0: something missing) and stops reading. */
static int
fail_at(struct parse *p, int line, const char *label, const char *key,
    const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(p, line, label, key, fmt, ap);
	va_end(ap);
	return r;
}

/* Refuses the current line, naming its section and key. */
static int
fail(struct parse *p, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vfail(p, p->lineno, p->sect != SECT_NONE ? p->label : NULL, p->key,
	    fmt, ap);
	va_end(ap);
	return r;
}

/* Takes over the result @p r of a value rule, which explained in @p why. */
static int
took(struct parse *p, int r, const struct rcpt_diag *why)
{
	if (r == RCPT_E_CONFIG)
		return fail(p, "%s", why->msg);
	if (r != RCPT_OK && p->err == RCPT_OK)
		p->err = r;
	return r;
}

static int
set_str(struct parse *p, char **dst, const char *v)
{
	free(*dst);
	if ((*dst = rcpt_strdup(v)) == NULL)
		return took(p, RCPT_E_NOMEM, NULL);
	return RCPT_OK;
}

static int
set_uint(
    struct parse *p, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	struct rcpt_diag why = {0};

	return took(p, rcpt_cfg_uint_parse(v, min, max, out, &why), &why);
}

static int
set_size(
    struct parse *p, const char *v, uint64_t min, uint64_t max, size_t *out)
{
	struct rcpt_diag why = {0};

	return took(p, rcpt_cfg_size_parse(v, min, max, out, &why), &why);
}

static int
set_path(struct parse *p, const char *v, char **out)
{
	struct rcpt_diag why = {0};
	char *path = NULL;
	int r = rcpt_cfg_path_parse(v, p->dir, &path, &why);

	if (r == RCPT_OK) {
		free(*out);
		*out = path;
	}
	return took(p, r, &why);
}

/* "software", a plugin name or an absolute path (keystore.h). */
static int
set_provider(struct parse *p, const char *v)
{
	size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789_-");

	if (v[0] == '/' ? strlen(v) >= PATH_MAX || has_ctl(v)
	                : n == 0 || n > PLUGIN_MAX || v[n] != '\0')
		return fail(p,
		    "expected software, a plugin name matching "
		    "^[a-z0-9_-]{1,32}$ or an absolute path of at "
		    "most %d bytes",
		    PATH_MAX - 1);
	return set_str(p, &p->cfg->provider, v);
}

/* [daemon] user, group, groups and seccomp: who the daemon becomes. */
static int
set_account_key(struct parse *p, enum key k, const char *v)
{
	struct rcpt_cfg *c = p->cfg;
	struct rcpt_diag why = {0};
	uint32_t gids[RCPT_CFG_GROUPS_MAX];
	size_t n = 0;
	int r;

	switch (k) {
	case K_USER:
		c->has_user = 1;
		/* A user's own group unless group says otherwise. */
		if (p->key_line[K_GROUP] != 0)
			return took(p,
			    rcpt_cfg_account_parse(v, 0, &c->uid, NULL, &why),
			    &why);
		return took(p,
		    rcpt_cfg_account_parse(v, 0, &c->uid, &c->gid, &why), &why);
	case K_GROUP:
		return took(
		    p, rcpt_cfg_account_parse(v, 1, &c->gid, NULL, &why), &why);
	case K_GROUPS:
		if ((r = rcpt_cfg_groups_parse(v, gids, &n, &why)) != RCPT_OK)
			return took(p, r, &why);
		if (n == 0)
			return RCPT_OK; /* none, the default */
		if ((c->groups = rcpt_calloc(n, sizeof(*c->groups))) == NULL)
			return took(p, RCPT_E_NOMEM, NULL);
		memcpy(c->groups, gids, n * sizeof(*gids));
		c->n_groups = n;
		return RCPT_OK;
	case K_SECCOMP:
		if (strcmp(v, "kill") != 0 && strcmp(v, "log") != 0)
			return fail(p, "expected kill or log");
		c->seccomp_log = v[0] == 'l';
		return RCPT_OK;
	default:
		return took(p, RCPT_E_INTERNAL, NULL);
	}
}

static int
set_chain_key(struct parse *p, enum key k, const char *v)
{
	struct rcpt_cfg_chain *ch = &p->cfg->chains[p->chain];
	struct rcpt_diag why = {0};

	switch (k) {
	case K_SEALING:
		if (rcpt_chain_sealing_parse(v, &ch->sealing) != RCPT_OK)
			return fail(p, "expected each or batch");
		return RCPT_OK;
	case K_APPEND:
		return set_str(p, &p->pch[p->chain].list[0], v);
	case K_READ:
		return set_str(p, &p->pch[p->chain].list[1], v);
	case K_ADMIN:
		return set_str(p, &p->pch[p->chain].list[2], v);
	case K_RETENTION:
		return took(p,
		    rcpt_cfg_retention_parse(
		        v, &ch->retention_n, &ch->retention_unit, &why),
		    &why);
	case K_EVERY:
		return set_uint(
		    p, v, 0, (uint64_t)1 << 32, &ch->checkpoint_every);
	case K_INTERVAL:
		return took(p,
		    rcpt_cfg_interval_parse(
		        v, &ch->checkpoint_interval_ms, &why),
		    &why);
	default:
		return took(p, RCPT_E_INTERNAL, NULL);
	}
}

static int
set_key(struct parse *p, enum key k, const char *v)
{
	struct rcpt_cfg *c = p->cfg;
	struct rcpt_diag why = {0};
	uint64_t n;
	int r;

	switch (k) {
	case K_SOCKET:
		if (v[0] != '/' || strlen(v) > SOCKET_LEN_MAX || has_ctl(v))
			return fail(p,
			    "expected an absolute path of at most %d "
			    "bytes",
			    SOCKET_LEN_MAX);
		return set_str(p, &c->socket_path, v);
	case K_SOCKET_MODE:
		return took(
		    p, rcpt_cfg_mode_parse(v, &c->socket_mode, &why), &why);
	case K_STORE:
		return set_path(p, v, &c->store_path);
	case K_MAP_SIZE:
		return set_size(p, v, MAP_MIN, UINT64_MAX, &c->map_size);
	case K_MAP_MAX:
		return set_size(p, v, MAP_MIN, UINT64_MAX, &c->map_max);
	case K_ORIGIN:
		if (!rcpt_checkpoint_origin_is_valid(v))
			return fail(p, "expected 1 to 200 bytes of "
			               "[A-Za-z0-9._~:/-]");
		return set_str(p, &c->origin, v);
	case K_PRODUCTION:
		return took(
		    p, rcpt_cfg_bool_parse(v, &c->production, &why), &why);
	case K_NAME:
		return set_provider(p, v);
	case K_CONFIG:
		if (*v == '\0' || strlen(v) > RCPT_CFG_PROVIDER_CONFIG_MAX ||
		    has_ctl(v))
			return fail(p,
			    "expected 1 to %d bytes without control "
			    "characters",
			    RCPT_CFG_PROVIDER_CONFIG_MAX);
		return set_str(p, &c->provider_config, v);
	case K_PROVIDERS_DIR:
		return set_path(p, v, &c->providers_dir);
	case K_DATA_MAX:
		return set_size(p, v, 1, DATA_LIMIT, &c->data_max);
	case K_SIGN_THREADS:
		if ((r = set_uint(p, v, 1, 64, &n)) == RCPT_OK)
			c->sign_threads = (unsigned)n;
		return r;
	case K_DEPTH:
		if ((r = set_uint(p, v, 1, 256, &n)) == RCPT_OK)
			c->depth = (int)n;
		return r;
	case K_TAGS:
		if ((r = set_uint(p, v, 0, 32, &n)) == RCPT_OK)
			c->tags_max = (size_t)n;
		return r;
	case K_BATCH:
		if ((r = set_uint(p, v, 1, 65536, &n)) == RCPT_OK)
			c->batch_max = (size_t)n;
		return r;
	case K_BATCH_WAIT:
		return took(
		    p, rcpt_cfg_wait_parse(v, &c->batch_wait_us, &why), &why);
	case K_CONNECTIONS:
		if ((r = set_uint(p, v, 1, 65536, &n)) == RCPT_OK)
			c->connections_max = (size_t)n;
		return r;
	case K_USER:
	case K_GROUP:
	case K_GROUPS:
	case K_SECCOMP:
		return set_account_key(p, k, v);
	default:
		return set_chain_key(p, k, v);
	}
}

static int
add_principal(struct parse *p, const char *name, const char *v)
{
	struct rcpt_cfg *c = p->cfg;
	struct rcpt_cfg_id ids[RCPT_CFG_IDS_MAX], *own;
	struct rcpt_cfg_principal *np;
	struct rcpt_diag why = {0};
	size_t n = 0, i;
	int r;

	if (strcasecmp(name, "receiptd") == 0)
		return fail(p, "reserved: the appliance signs its own receipts "
		               "as receiptd");
	for (i = 0; i < c->n_principals; i++)
		if (strcmp(c->principals[i].name, name) == 0)
			return fail(p, "given twice (first on line %d)",
			    p->principal_line[i]);
	if (c->n_principals == RCPT_CFG_PRINCIPALS_MAX)
		return fail(
		    p, "more than %d principals", RCPT_CFG_PRINCIPALS_MAX);
	if ((r = rcpt_cfg_ids_parse(v, c, ids, &n, &why)) != RCPT_OK)
		return took(p, r, &why);
	np = rcpt_reallocarray(c->principals, c->n_principals + 1, sizeof(*np));
	if (np == NULL)
		return took(p, RCPT_E_NOMEM, NULL);
	c->principals = np;
	if ((own = rcpt_calloc(n, sizeof(*own))) == NULL)
		return took(p, RCPT_E_NOMEM, NULL);
	memcpy(own, ids, n * sizeof(*own));
	np = &c->principals[c->n_principals];
	memset(np, 0, sizeof(*np));
	memcpy(np->name, name, strlen(name) + 1); /* principal_is_valid */
	np->ids = own;
	np->n_ids = n;
	p->principal_line[c->n_principals++] = p->lineno;
	return RCPT_OK;
}

static int
open_chain(struct parse *p, const char *name, size_t len)
{
	struct rcpt_cfg *c = p->cfg;
	struct rcpt_cfg_chain *nc;
	size_t i;

	if (!rcpt_receipt_chain_is_valid_len(name, len))
		return fail_at(p, p->lineno, p->label, NULL,
		    "a chain name must match ^[a-z0-9][a-z0-9._-]{0,63}$");
	for (i = 0; i < c->n_chains; i++)
		if (strlen(c->chains[i].name) == len &&
		    memcmp(c->chains[i].name, name, len) == 0)
			return fail_at(p, p->lineno, p->label, NULL,
			    "given twice (first on line %d)", p->pch[i].line);
	if (c->n_chains == RCPT_CFG_CHAINS_MAX)
		return fail_at(p, p->lineno, p->label, NULL,
		    "more than %d chains", RCPT_CFG_CHAINS_MAX);
	nc = rcpt_reallocarray(c->chains, c->n_chains + 1, sizeof(*nc));
	if (nc == NULL)
		return took(p, RCPT_E_NOMEM, NULL);
	c->chains = nc;
	nc = &c->chains[c->n_chains];
	memset(nc, 0, sizeof(*nc));
	memcpy(nc->name, name, len);
	nc->sealing = RCPT_SEALING_EACH;
	nc->checkpoint_every = RCPT_CFG_EVERY_DEFAULT;
	nc->checkpoint_interval_ms = RCPT_CFG_INTERVAL_DEFAULT_MS;
	p->pch[c->n_chains].line = p->lineno;
	p->chain = c->n_chains++;
	p->sect = SECT_CHAIN;
	return RCPT_OK;
}

/* "[daemon]", "[chain NAME]"...: blanks allowed inside the brackets. */
static int
section_line(struct parse *p)
{
	const char *s = p->line + 1, *end = p->line + p->line_len, *e, *n;
	char shown[SHOW_MAX + 4];
	enum sect i;

	p->sect = SECT_NONE;
	if ((e = memchr(s, ']', (size_t)(end - s))) == NULL)
		return fail(p, "a section header needs a closing ]");
	for (n = e + 1; n < end && is_blank(*n); n++)
		;
	if (n < end)
		return fail(
		    p, "text after ]; comments go on lines of their own");
	trim(&s, &e);
	snprintf(
	    p->label, sizeof(p->label), "%s", show(s, (size_t)(e - s), shown));
	if ((size_t)(e - s) > 5 && memcmp(s, "chain", 5) == 0 &&
	    is_blank(s[5])) {
		n = s + 5;
		trim(&n, &e);
		snprintf(p->label, sizeof(p->label), "chain %s",
		    show(n, (size_t)(e - n), shown));
		return open_chain(p, n, (size_t)(e - n));
	}
	for (i = SECT_DAEMON; i < SECT_CHAIN; i++) {
		if (strlen(sect_names[i]) != (size_t)(e - s) ||
		    memcmp(sect_names[i], s, (size_t)(e - s)) != 0)
			continue;
		if (p->sect_line[i] != 0)
			return fail_at(p, p->lineno, p->label, NULL,
			    "given twice (first on line %d)", p->sect_line[i]);
		p->sect_line[i] = p->lineno;
		p->sect = i;
		return RCPT_OK;
	}
	return fail_at(p, p->lineno, p->label, NULL,
	    "unknown section (expected daemon, provider, limits, principals "
	    "or chain NAME)");
}

/*
 * inih's reader: hands over one physical line at a time, so inih counts
 * lines as we do, and keeps for itself every line that is not "key =
 * value" (see the top of the file).
 */
static char *
feed_line(char *str, int num, void *stream)
{
	struct parse *p = stream;
	const char *s, *e, *nl, *c;

	if (p->err != RCPT_OK || p->pos >= p->len)
		return NULL;
	if (num < 2) {
		took(p, RCPT_E_INTERNAL, NULL);
		return NULL;
	}
	s = p->text + p->pos;
	nl = memchr(s, '\n', p->len - p->pos);
	e = nl != NULL ? nl : p->text + p->len;
	p->pos = (size_t)(e - p->text) + (nl != NULL);
	if (++p->lineno == 1 && e - s >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3; /* a UTF-8 byte order mark */
	trim(&s, &e);
	p->line = s;
	p->line_len = (size_t)(e - s);
	p->key = NULL;
	str[0] = '\0';
	if (s == e || *s == '#' || *s == ';')
		return str;
	if (*s == '[') {
		section_line(p);
		return str;
	}
	for (c = s + 1; c < e; c++) {
		/* inih would cut the value at " ;": refuse, not guess. */
		if ((*c == ';' || *c == '#') && is_blank(c[-1])) {
			fail(p,
			    "a ; or # after a blank starts no comment here; "
			    "comments go on lines of their own");
			return str;
		}
	}
	if (memchr(s, '=', p->line_len) == NULL &&
	    memchr(s, ':', p->line_len) == NULL) {
		fail_at(p, p->lineno, NULL, NULL,
		    "expected [section], key = value or a comment");
		return str;
	}
	p->shown =
	    p->line_len < (size_t)num - 1 ? p->line_len : (size_t)num - 1;
	p->cut = p->shown < p->line_len;
	memcpy(str, s, p->shown);
	str[p->shown] = '\0';
	p->buf = str;
	return str;
}

static int
dispatch(struct parse *p, const char *name, const char *v)
{
	char shown[SHOW_MAX + 4];
	int *seen;
	size_t k;

	if (*name == '\0')
		return fail_at(
		    p, p->lineno, NULL, NULL, "expected a key before = or :");
	p->key = show(name, strlen(name), shown);
	if (p->sect == SECT_NONE)
		return fail_at(
		    p, p->lineno, NULL, p->key, "outside any section");
	if (*v == ';' || *v == '#')
		return fail(p, "a value may not start with ; or #, which other "
		               "readers take for a comment");
	if (p->sect == SECT_PRINCIPALS) {
		if (!rcpt_cfg_principal_is_valid(name, strlen(name)))
			return fail(p,
			    "a principal name must be 1 to %d bytes "
			    "of [A-Za-z0-9._@-]",
			    RCPT_CFG_NAME_MAX);
		p->key = name;
		return add_principal(p, name, v);
	}
	for (k = 0; k < K_N_; k++)
		if (keys[k].sect == p->sect && strcmp(keys[k].name, name) == 0)
			break;
	if (k == K_N_)
		return fail(p, "unknown key");
	p->key = keys[k].name;
	seen = p->sect == SECT_CHAIN ? p->pch[p->chain].key_line : p->key_line;
	if (seen[k] != 0)
		return fail(p, "given twice (first on line %d)", seen[k]);
	seen[k] = p->lineno;
	return set_key(p, (enum key)k, v);
}

/* inih's handler; @p section is inih's copy, which may be cut short. */
static int
on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	uintptr_t b = (uintptr_t)p->buf, v = (uintptr_t)value;
	const char *s, *e;
	char *whole = NULL;
	int r;

	(void)section;
	if (p->err != RCPT_OK)
		return 0;
	if (p->cut) {
		/* inih left @p value where it starts in its copy. */
		if (v < b || v > b + p->shown) {
			took(p, RCPT_E_INTERNAL, NULL);
			return 0;
		}
		s = p->line + (v - b);
		e = p->line + p->line_len;
		trim(&s, &e);
		if ((whole = rcpt_strndup(s, (size_t)(e - s))) == NULL) {
			took(p, RCPT_E_NOMEM, NULL);
			return 0;
		}
		value = whole;
	}
	r = dispatch(p, name, value);
	p->key = NULL; /* it may point into dispatch's frame */
	free(whole);
	return r == RCPT_OK;
}

/* Rules between keys, defaults and the chains' rights. */
static int
finish(struct parse *p)
{
	struct rcpt_cfg *c = p->cfg;
	size_t i, n = c->n_principals > 0 ? c->n_principals : 1;
	char label[LABEL_MAX];
	struct rcpt_diag why;
	enum key k;
	int w;

	if (c->origin == NULL)
		return fail_at(p, 0, "daemon", "origin", "required");
	if (c->provider == NULL)
		return fail_at(p, 0, "provider", "name", "required");
	if (c->provider_config == NULL)
		return fail_at(p, 0, "provider", "config", "required");
	if (c->n_chains == 0)
		return fail_at(p, 0, NULL, NULL,
		    "no [chain NAME] section; at least one is required");
	if (p->key_line[K_MAP_MAX] == 0)
		c->map_max = c->map_size;
	else if (c->map_max < c->map_size)
		return fail_at(p, p->key_line[K_MAP_MAX], "daemon", "map_max",
		    "must be at least map_size");
	if (!c->has_user && (p->key_line[K_GROUP] || p->key_line[K_GROUPS]))
		return fail_at(p,
		    p->key_line[K_GROUP] ? p->key_line[K_GROUP]
		                         : p->key_line[K_GROUPS],
		    "daemon", p->key_line[K_GROUP] ? "group" : "groups",
		    "needs [daemon] user");
	if (c->has_user && c->gid == UINT32_MAX)
		return fail_at(p, p->key_line[K_USER], "daemon", "group",
		    "required when user is a number");
	if (c->has_user && c->gid == 0)
		return fail_at(p, p->key_line[K_USER], "daemon", "group",
		    "the user's own group is root (0); name another");
	if (c->production && strcmp(c->provider, "software") == 0)
		return fail_at(p, p->key_line[K_NAME], "provider", "name",
		    "the software provider is refused while [daemon] "
		    "production is on");
	if ((c->socket_path == NULL &&
	        set_str(p, &c->socket_path, RCPT_CFG_SOCKET_DEFAULT) !=
	            RCPT_OK) ||
	    (c->store_path == NULL &&
	        set_str(p, &c->store_path, RCPT_CFG_STORE_DEFAULT) != RCPT_OK))
		return p->err;
	for (i = 0; i < c->n_chains; i++) {
		if ((c->chains[i].rights = rcpt_calloc(n, sizeof(unsigned))) ==
		    NULL)
			return took(p, RCPT_E_NOMEM, NULL);
		for (w = 0; w < 3; w++) {
			const char *list = p->pch[i].list[w];

			rcpt_diag_clear(&why);
			if (list == NULL ||
			    rcpt_cfg_list_parse(list, c, list_rights[w],
			        c->chains[i].rights, &why) == RCPT_OK)
				continue;
			k = list_keys[w];
			snprintf(label, sizeof(label), "chain %s",
			    c->chains[i].name);
			return fail_at(p, p->pch[i].key_line[k], label,
			    keys[k].name, "%s", why.msg);
		}
	}
	return RCPT_OK;
}

static struct rcpt_cfg *
cfg_new(const char *name)
{
	struct rcpt_cfg *c = rcpt_calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if ((c->path = rcpt_strdup(name)) == NULL) {
		free(c);
		return NULL;
	}
	c->socket_mode = RCPT_CFG_MODE_DEFAULT;
	c->map_size = RCPT_CFG_MAP_DEFAULT;
	c->sign_threads = RCPT_CFG_SIGNERS_DEFAULT;
	c->production = 1;
	c->data_max = RCPT_CFG_DATA_DEFAULT;
	c->depth = RCPT_CFG_DEPTH_DEFAULT;
	c->tags_max = RCPT_CFG_TAGS_DEFAULT;
	c->batch_max = RCPT_CFG_BATCH_DEFAULT;
	c->batch_wait_us = RCPT_CFG_WAIT_DEFAULT_US;
	c->connections_max = RCPT_CFG_CONN_DEFAULT;
	return c;
}

static int
line_of(const char *text, const char *at)
{
	int n = 1;

	for (; text < at; text++)
		n += *text == '\n';
	return n;
}

int
rcpt_cfg_parse(const char *text, size_t len, const char *name, const char *dir,
    struct rcpt_cfg **out, struct rcpt_diag *diag)
{
	struct parse *p;
	const char *nul;
	size_t i;
	int r, ret = 0, w;

	if (out == NULL || (text == NULL && len > 0))
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "config: no text or output");
	*out = NULL;
	name = name != NULL ? name : "config";
	text = len > 0 ? text : "";
	if (len > RCPT_CFG_FILE_MAX)
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "%s: larger than %d bytes", name, RCPT_CFG_FILE_MAX);
	if ((nul = memchr(text, '\0', len)) != NULL)
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "%s:%d: a NUL byte; the file must be text", name,
		    line_of(text, nul));
	if ((p = rcpt_calloc(1, sizeof(*p))) == NULL)
		return RCPT_E_NOMEM;
	p->name = name;
	p->dir = dir;
	p->text = text;
	p->len = len;
	if ((p->cfg = cfg_new(name)) == NULL)
		p->err = RCPT_E_NOMEM;
	else
		ret = ini_parse_stream(feed_line, p, on_key, p);
	if (p->cfg != NULL && ret > 0 &&
	    (p->err == RCPT_OK || ret < p->err_line)) {
		/* A line inih refused before one we refused. */
		p->err = RCPT_OK;
		rcpt_diag_clear(&p->d);
		fail_at(p, ret, NULL, NULL,
		    "expected [section], key = value or a comment");
	} else if (p->cfg != NULL && ret < 0) {
		took(p, ret == -2 ? RCPT_E_NOMEM : RCPT_E_INTERNAL, NULL);
	}
	if (p->err == RCPT_OK)
		finish(p);
	if ((r = p->err) == RCPT_OK) {
		*out = p->cfg;
		p->cfg = NULL;
	} else if (p->d.set) {
		rcpt_diag(diag, r, "%s", p->d.msg);
	}
	for (i = 0; i < RCPT_CFG_CHAINS_MAX; i++)
		for (w = 0; w < 3; w++)
			free(p->pch[i].list[w]);
	rcpt_cfg_free(p->cfg);
	free(p);
	return r;
}
