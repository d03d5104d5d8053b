/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syntax of each kind of value in receiptd.conf: numbers, sizes,
 * booleans, modes, paths, retention and intervals, user and group
 * accounts, principal id lists and rights lists.  Each parser names the
 * rule a value broke and never echoes the value; names are resolved
 * through NSS when the file is loaded.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mem.h"
#include "settings.h"

#define INTERVAL_MAX   86400   /* seconds of checkpoint_interval */
#define WAIT_MAX_US    1000000 /* [limits] batch_wait: 1 s */
#define RETENTION_MAX  1000
#define ID_MAX         4294967294u /* (uid_t)-1 means "no change" */
#define LOGIN_MAX      256
#define LOOKUP_BUF_MAX (1024 * 1024)

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal digits, no sign, no leading zero, at most @p max. */
static int
parse_dec(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0, d;
	size_t i;

	if (len == 0 || (s[0] == '0' && len > 1))
		return 0;
	for (i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return 0;
		d = (uint64_t)(s[i] - '0');
		if (d > max || v > (max - d) / 10)
			return 0;
		v = v * 10 + d;
	}
	*out = v;
	return 1;
}

int
rcpt_cfg_uint_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    struct rcpt_diag *why)
{
	uint64_t n;

	if (!parse_dec(s, strlen(s), max, &n) || n < min)
		return rcpt_diag(why, RCPT_E_CONFIG,
		    "expected an integer from %" PRIu64 " to %" PRIu64, min,
		    max);
	*out = n;
	return RCPT_OK;
}

/* @p n as 5G, 3M, 64K when it is a whole multiple, else in bytes. */
static const char *
size_text(uint64_t n, char out[32])
{
	static const char units[] = "GMK";
	uint64_t u;
	int i;

	for (i = 0; i < 3; i++) {
		u = (uint64_t)1 << (30 - 10 * i);
		if (n >= u && n % u == 0) {
			snprintf(out, 32, "%" PRIu64 "%c", n / u, units[i]);
			return out;
		}
	}
	snprintf(out, 32, "%" PRIu64, n);
	return out;
}

int
rcpt_cfg_size_parse(const char *s, uint64_t min, uint64_t max, size_t *out,
    struct rcpt_diag *why)
{
	static const char units[] = "KMGkmg";
	size_t len = strlen(s);
	const char *u = len > 0 ? strchr(units, s[len - 1]) : NULL;
	uint64_t n, unit = 1;
	char a[32], b[32];

	if (u != NULL) /* 1K is 2^10 bytes, 1M 2^20 and 1G 2^30 */
		unit = (uint64_t)1 << (10 * (1 + (u - units) % 3));
	if (max > SIZE_MAX)
		max = SIZE_MAX;
	if (!parse_dec(s, len - (unit != 1), max / unit, &n) ||
	    n * unit < min) {
		if (max == SIZE_MAX)
			return rcpt_diag(why, RCPT_E_CONFIG,
			    "expected a size of at least %s: an integer with "
			    "an "
			    "optional K, M or G",
			    size_text(min, a));
		return rcpt_diag(why, RCPT_E_CONFIG,
		    "expected a size from %s to %s: an integer with an "
		    "optional "
		    "K, M or G",
		    size_text(min, a), size_text(max, b));
	}
	*out = (size_t)(n * unit);
	return RCPT_OK;
}

int
rcpt_cfg_bool_parse(const char *s, int *out, struct rcpt_diag *why)
{
	static const char *const words[] = {
	    "false", "true", "no", "yes", "off", "on", "0", "1"};
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcasecmp(s, words[i]) == 0) {
			*out = (int)(i % 2);
			return RCPT_OK;
		}
	}
	return rcpt_diag(why, RCPT_E_CONFIG,
	    "expected true, false, yes, no, on, off, 1 or 0");
}

int
rcpt_cfg_mode_parse(const char *s, unsigned *out, struct rcpt_diag *why)
{
	size_t i, len = strlen(s);
	unsigned m = 0;

	for (i = 0; i < len && len <= 4 && s[i] >= '0' && s[i] <= '7'; i++)
		m = m * 8 + (unsigned)(s[i] - '0');
	if (len == 0 || i < len || m > 0777)
		return rcpt_diag(why, RCPT_E_CONFIG,
		    "expected an octal mode from 0 to 0777, such as 0660");
	*out = m;
	return RCPT_OK;
}

static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int
rcpt_cfg_path_parse(
    const char *s, const char *dir, char **out, struct rcpt_diag *why)
{
	size_t dl, sl = strlen(s);
	char *path;

	if (sl == 0)
		return rcpt_diag(why, RCPT_E_CONFIG, "expected a path");
	if (has_ctl(s))
		return rcpt_diag(
		    why, RCPT_E_CONFIG, "control characters are not allowed");
	if (s[0] != '/' && dir == NULL)
		return rcpt_diag(why, RCPT_E_CONFIG,
		    "a relative path needs the file's directory; give an "
		    "absolute one");
	dl = s[0] == '/' ? 0 : strlen(dir) + 1;
	if (dl + sl >= PATH_MAX)
		return rcpt_diag(why, RCPT_E_CONFIG,
		    "longer than %d bytes (relative paths are joined to the "
		    "file's directory)",
		    PATH_MAX - 1);
	if ((path = rcpt_malloc(dl + sl + 1)) == NULL)
		return RCPT_E_NOMEM;
	snprintf(path, dl + sl + 1, "%s%s%s", dl > 0 ? dir : "",
	    dl > 0 ? "/" : "", s);
	*out = path;
	return RCPT_OK;
}

int
rcpt_cfg_retention_parse(
    const char *s, unsigned *n_out, char *unit_out, struct rcpt_diag *why)
{
	static const char *const words[] = {
	    "day", "days", "month", "months", "year", "years"};
	const char *w = s;
	uint64_t n;
	size_t i;

	if (strcasecmp(s, "none") == 0) {
		*n_out = 0;
		*unit_out = 0;
		return RCPT_OK;
	}
	while (is_digit(*w))
		w++;
	if (w > s && is_blank(*w) &&
	    parse_dec(s, (size_t)(w - s), RETENTION_MAX, &n) && n >= 1) {
		while (is_blank(*w))
			w++;
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			if (strcasecmp(w, words[i]) == 0) {
				*n_out = (unsigned)n;
				*unit_out = words[i][0];
				return RCPT_OK;
			}
		}
	}
	return rcpt_diag(why, RCPT_E_CONFIG,
	    "expected none, N days, N months or N years, N from 1 to %d",
	    RETENTION_MAX);
}

int
rcpt_cfg_interval_parse(const char *s, int64_t *ms_out, struct rcpt_diag *why)
{
	size_t len = strlen(s);
	uint64_t n, unit = 1;

	if (len > 0 && strchr("smh", s[len - 1]) != NULL) {
		unit = s[len - 1] == 'h' ? 3600 : s[len - 1] == 'm' ? 60 : 1;
		len--;
	}
	if (!parse_dec(s, len, INTERVAL_MAX / unit, &n))
		return rcpt_diag(why, RCPT_E_CONFIG,
		    "expected 0 (off) or seconds up to %d, with an optional s, "
		    "m or h",
		    INTERVAL_MAX);
	*ms_out = (int64_t)(n * unit * 1000);
	return RCPT_OK;
}

int
rcpt_cfg_wait_parse(const char *s, int64_t *us_out, struct rcpt_diag *why)
{
	size_t len = strlen(s);
	uint64_t n, unit = 0;

	if (len > 2 && strcmp(s + len - 2, "ms") == 0)
		unit = 1000;
	else if (len > 2 && strcmp(s + len - 2, "us") == 0)
		unit = 1;
	if (unit != 0)
		len -= 2;
	while (unit != 0 && len > 0 && is_blank(s[len - 1]))
		len--;
	/* A bare number is only allowed for 0: "2" is too easy to misread. */
	if (!parse_dec(s, len, unit == 0 ? 0 : WAIT_MAX_US / unit, &n))
		return rcpt_diag(why, RCPT_E_CONFIG,
		    "expected 0, or a number of ms or us up to 1000 ms "
		    "(for example 2 ms or 500 us)");
	*us_out = (int64_t)(n * (unit == 0 ? 1 : unit));
	return RCPT_OK;
}

/* A user or group name as the shadow tools allow, '@' for domains. */
static int
login_is_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > LOGIN_MAX || s[0] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= 'A' && s[i] <= 'Z') || is_digit(s[i]) ||
		        strchr("._-@$", s[i]) != NULL))
			return 0;
	return 1;
}

/*
 * The uid of user @p name, or the gid of group @p name; @p gid_out (may
 * be NULL) gets a user's primary group.
 */
static int
lookup(int group, const char *name, uint32_t *out, uint32_t *gid_out,
    struct rcpt_diag *why)
{
	long hint =
	    sysconf(group ? _SC_GETGR_R_SIZE_MAX : _SC_GETPW_R_SIZE_MAX);
	size_t cap = hint > 0 && hint < LOOKUP_BUF_MAX ? (size_t)hint : 4096;
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	const char *what = group ? "group" : "user";
	char *buf;
	int e;

	for (;;) {
		if ((buf = rcpt_malloc(cap)) == NULL)
			return RCPT_E_NOMEM;
		if (group)
			e = getgrnam_r(name, &gr, buf, cap, &grp);
		else
			e = getpwnam_r(name, &pw, buf, cap, &pwp);
		if (e != ERANGE || cap >= LOOKUP_BUF_MAX)
			break;
		free(buf);
		cap *= 2;
	}
	if (grp != NULL)
		*out = (uint32_t)grp->gr_gid;
	else if (pwp != NULL)
		*out = (uint32_t)pwp->pw_uid;
	if (pwp != NULL && gid_out != NULL)
		*gid_out = (uint32_t)pwp->pw_gid;
	free(buf);
	if (grp != NULL || pwp != NULL)
		return RCPT_OK;
	if (e == 0 || e == ENOENT || e == ESRCH)
		return rcpt_diag(
		    why, RCPT_E_CONFIG, "no such %s %s", what, name);
	return rcpt_diag(why, RCPT_E_CONFIG, "cannot look up %s %s: %s", what,
	    name, strerror(e));
}

/* One item: uid:N, gid:N, user:LOGIN or group:NAME. */
static int
parse_id(const char *s, size_t len, size_t item, struct rcpt_cfg_id *id,
    struct rcpt_diag *why)
{
	char name[LOGIN_MAX + 1];
	uint64_t n;
	int user;

	if (len > 4 &&
	    (memcmp(s, "uid:", 4) == 0 || memcmp(s, "gid:", 4) == 0)) {
		if (!parse_dec(s + 4, len - 4, ID_MAX, &n))
			return rcpt_diag(why, RCPT_E_CONFIG,
			    "item %zu: expected a number from 0 to %u after "
			    "%.4s",
			    item, ID_MAX, s);
		id->is_gid = s[0] == 'g';
		id->id = (uint32_t)n;
		return RCPT_OK;
	}
	user = len > 5 && memcmp(s, "user:", 5) == 0;
	if (!user && !(len > 6 && memcmp(s, "group:", 6) == 0))
		return rcpt_diag(why, RCPT_E_CONFIG,
		    "item %zu: expected uid:N, gid:N, user:LOGIN or "
		    "group:NAME",
		    item);
	s += user ? 5 : 6;
	len -= user ? 5 : 6;
	if (!login_is_valid(s, len))
		return rcpt_diag(why, RCPT_E_CONFIG,
		    "item %zu: expected a %s name of at most %d bytes of "
		    "[A-Za-z0-9._@$-]",
		    item, user ? "user" : "group", LOGIN_MAX);
	memcpy(name, s, len);
	name[len] = '\0';
	id->is_gid = !user;
	return lookup(!user, name, &id->id, NULL, why);
}

int
rcpt_cfg_account_parse(const char *s, int is_group, uint32_t *id_out,
    uint32_t *gid_out, struct rcpt_diag *why)
{
	const char *what = is_group ? "group" : "user";
	uint32_t id = 0, gid = UINT32_MAX;
	uint64_t n;
	int r;

	if (is_digit(s[0])) {
		if (!parse_dec(s, strlen(s), ID_MAX, &n))
			return rcpt_diag(why, RCPT_E_CONFIG,
			    "expected a %s name or a number from 1 to %u", what,
			    ID_MAX);
		id = (uint32_t)n;
	} else if (!login_is_valid(s, strlen(s))) {
		return rcpt_diag(why, RCPT_E_CONFIG,
		    "expected a %s name of at most %d bytes of "
		    "[A-Za-z0-9._@$-] or a number",
		    what, LOGIN_MAX);
	} else if ((r = lookup(is_group, s, &id, &gid, why)) != RCPT_OK) {
		return r;
	}
	if (id == 0)
		return rcpt_diag(why, RCPT_E_CONFIG,
		    "must not be root (0): leave %s out to keep the starting "
		    "one",
		    what);
	*id_out = id;
	if (gid_out != NULL)
		*gid_out = gid;
	return RCPT_OK;
}

int
rcpt_cfg_principal_is_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > RCPT_CFG_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		        (s[i] >= 'A' && s[i] <= 'Z') || is_digit(s[i]) ||
		        strchr("._@-", s[i]) != NULL))
			return 0;
	return 1;
}

/* The principal of @p c that maps @p id, or NULL. */
static const char *
owner(const struct rcpt_cfg *c, const struct rcpt_cfg_id *id)
{
	size_t i, k;

	for (i = 0; c != NULL && i < c->n_principals; i++)
		for (k = 0; k < c->principals[i].n_ids; k++)
			if (c->principals[i].ids[k].is_gid == id->is_gid &&
			    c->principals[i].ids[k].id == id->id)
				return c->principals[i].name;
	return NULL;
}

/* Splits at the next comma: [*s, *e) is the item without blanks. */
static const char *
next_item(const char **s, const char **e)
{
	const char *comma = strchr(*s, ',');

	*e = comma != NULL ? comma : *s + strlen(*s);
	while (*s < *e && is_blank(**s))
		(*s)++;
	while (*e > *s && is_blank((*e)[-1]))
		(*e)--;
	return comma;
}

int
rcpt_cfg_ids_parse(const char *s, const struct rcpt_cfg *c,
    struct rcpt_cfg_id *ids, size_t *n_out, struct rcpt_diag *why)
{
	struct rcpt_cfg_id id;
	const char *e, *comma, *other;
	size_t n = 0, i;
	int r;

	if (*s == '\0')
		return rcpt_diag(why, RCPT_E_CONFIG,
		    "expected a list of uid:N, gid:N, user:LOGIN or "
		    "group:NAME");
	for (;; s = comma + 1) {
		comma = next_item(&s, &e);
		if (s == e)
			return rcpt_diag(
			    why, RCPT_E_CONFIG, "item %zu is empty", n + 1);
		if (n == RCPT_CFG_IDS_MAX)
			return rcpt_diag(why, RCPT_E_CONFIG,
			    "more than %d items", RCPT_CFG_IDS_MAX);
		if ((r = parse_id(s, (size_t)(e - s), n + 1, &id, why)) !=
		    RCPT_OK)
			return r;
		for (i = 0; i < n; i++)
			if (ids[i].is_gid == id.is_gid && ids[i].id == id.id)
				return rcpt_diag(why, RCPT_E_CONFIG,
				    "%s %lu is listed twice",
				    id.is_gid ? "gid" : "uid",
				    (unsigned long)id.id);
		if ((other = owner(c, &id)) != NULL)
			return rcpt_diag(why, RCPT_E_CONFIG,
			    "%s %lu is also mapped to %s; a caller must map to "
			    "one principal",
			    id.is_gid ? "gid" : "uid", (unsigned long)id.id,
			    other);
		ids[n++] = id;
		if (comma == NULL)
			break;
	}
	*n_out = n;
	return RCPT_OK;
}

int
rcpt_cfg_groups_parse(
    const char *s, uint32_t *gids, size_t *n_out, struct rcpt_diag *why)
{
	char name[LOGIN_MAX + 1];
	struct rcpt_diag item = {0};
	const char *e, *comma;
	size_t n = 0, i;
	uint32_t gid;
	int r;

	if (s[strspn(s, " \t\v\f\r")] == '\0') {
		*n_out = 0; /* none */
		return RCPT_OK;
	}
	for (;; s = comma + 1) {
		comma = next_item(&s, &e);
		if (n == RCPT_CFG_GROUPS_MAX)
			return rcpt_diag(why, RCPT_E_CONFIG,
			    "more than %d groups", RCPT_CFG_GROUPS_MAX);
		if (s == e || (size_t)(e - s) > LOGIN_MAX)
			return rcpt_diag(why, RCPT_E_CONFIG,
			    "item %zu: expected a group name or number", n + 1);
		memcpy(name, s, (size_t)(e - s));
		name[e - s] = '\0';
		rcpt_diag_clear(&item);
		if ((r = rcpt_cfg_account_parse(name, 1, &gid, NULL, &item)) !=
		    RCPT_OK)
			return r == RCPT_E_CONFIG
			           ? rcpt_diag(why, r, "item %zu: %s", n + 1,
			                 item.msg)
			           : r;
		for (i = 0; i < n; i++)
			if (gids[i] == gid)
				return rcpt_diag(why, RCPT_E_CONFIG,
				    "gid %lu is listed twice",
				    (unsigned long)gid);
		gids[n++] = gid;
		if (comma == NULL)
			break;
	}
	*n_out = n;
	return RCPT_OK;
}

int
rcpt_cfg_list_parse(const char *s, const struct rcpt_cfg *c, unsigned right,
    unsigned *rights, struct rcpt_diag *why)
{
	unsigned seen[RCPT_CFG_PRINCIPALS_MAX] = {0};
	const char *e, *comma;
	size_t item, i, n = c != NULL ? c->n_principals : 0;

	if (s[strspn(s, " \t\v\f\r")] == '\0')
		return RCPT_OK; /* nobody */
	for (item = 1;; item++, s = comma + 1) {
		comma = next_item(&s, &e);
		if (s == e)
			return rcpt_diag(
			    why, RCPT_E_CONFIG, "item %zu is empty", item);
		if (!rcpt_cfg_principal_is_valid(s, (size_t)(e - s)))
			return rcpt_diag(why, RCPT_E_CONFIG,
			    "item %zu is not a principal name", item);
		for (i = 0; i < n; i++)
			if (strlen(c->principals[i].name) == (size_t)(e - s) &&
			    memcmp(c->principals[i].name, s, (size_t)(e - s)) ==
			        0)
				break;
		if (i == n)
			return rcpt_diag(why, RCPT_E_CONFIG,
			    "unknown principal %.*s (not in [principals])",
			    (int)(e - s), s);
		if (seen[i]++ > 0)
			return rcpt_diag(why, RCPT_E_CONFIG, "lists %s twice",
			    c->principals[i].name);
		if (comma == NULL)
			break;
	}
	for (i = 0; i < n; i++)
		if (seen[i] > 0)
			rights[i] |= right;
	return RCPT_OK;
}
