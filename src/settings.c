/* SPDX-License-Identifier: Apache-2.0 */
/*
 * receiptd's configuration apart from its grammar (settings-parse.c): the
 * syntax of each kind of value, loading the file with the checks a file
 * that grants access deserves, the questions the daemon asks of a loaded
 * configuration (who is this caller, may they do this, what is due for
 * pruning) and its summary for --check-config.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "settings.h"

#define MS_PER_DAY     86400000LL
#define TS_MAX_MS      253402300799999LL /* 9999-12-31T23:59:59.999Z */
#define ACCESS_BITS    (RCPT_RIGHT_APPEND | RCPT_RIGHT_READ | RCPT_RIGHT_ADMIN)
#define INTERVAL_MAX   86400 /* seconds of checkpoint_interval */
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

/* Reads at most RCPT_CFG_FILE_MAX bytes of the regular file @p fd. */
static int
read_all(int fd, const char *path, char **buf_out, size_t *len_out,
    struct rcpt_diag *diag)
{
	char *buf;
	size_t len = 0;
	ssize_t n;

	/* One byte more than allowed, to see a file that grew too long. */
	if ((buf = rcpt_malloc(RCPT_CFG_FILE_MAX + 1)) == NULL)
		return RCPT_E_NOMEM;
	while (len <= RCPT_CFG_FILE_MAX) {
		n = read(fd, buf + len, RCPT_CFG_FILE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return rcpt_diag(diag, RCPT_E_IO, "%s: cannot read: %s",
			    path, strerror(errno));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > RCPT_CFG_FILE_MAX) {
		free(buf);
		return rcpt_diag(diag, RCPT_E_CONFIG,
		    "%s: larger than %d bytes", path, RCPT_CFG_FILE_MAX);
	}
	*buf_out = buf;
	*len_out = len;
	return RCPT_OK;
}

/* The absolute directory of @p path, without resolving links. */
static int
dir_of(const char *path, char **out)
{
	const char *slash = strrchr(path, '/');
	char cwd[PATH_MAX];
	size_t n;

	if (slash == path) {
		*out = rcpt_strdup("/");
		return *out != NULL ? RCPT_OK : RCPT_E_NOMEM;
	}
	n = slash != NULL ? (size_t)(slash - path) : 0;
	if (path[0] == '/') {
		*out = rcpt_strndup(path, n);
		return *out != NULL ? RCPT_OK : RCPT_E_NOMEM;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return RCPT_E_IO;
	if ((*out = rcpt_malloc(strlen(cwd) + n + 2)) == NULL)
		return RCPT_E_NOMEM;
	if (n == 0)
		memcpy(*out, cwd, strlen(cwd) + 1);
	else
		snprintf(*out, strlen(cwd) + n + 2, "%s/%.*s",
		    strcmp(cwd, "/") == 0 ? "" : cwd, (int)n, path);
	return RCPT_OK;
}

int
rcpt_cfg_load(const char *path, struct rcpt_cfg **out, struct rcpt_diag *diag)
{
	struct stat st;
	char *buf = NULL, *dir = NULL;
	size_t len = 0;
	int fd = -1, r = RCPT_E_INTERNAL;

	if (out == NULL || path == NULL || path[0] == '\0')
		return rcpt_diag(
		    diag, RCPT_E_INVAL, "config: no path or output");
	*out = NULL;
	/* O_NONBLOCK: a FIFO must not hang us before fstat refuses it. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return rcpt_diag(diag, RCPT_E_IO, "%s: cannot open: %s", path,
		    strerror(errno));
	if (fstat(fd, &st) != 0) {
		r = rcpt_diag(diag, RCPT_E_IO, "%s: cannot stat: %s", path,
		    strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = rcpt_diag(
		    diag, RCPT_E_CONFIG, "%s: not a regular file", path);
		goto out;
	}
	/* Whoever may write the file may grant themselves any chain. */
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		r = rcpt_diag(diag, RCPT_E_CONFIG,
		    "%s: writable by group or others, so anyone who may write "
		    "it could grant themselves access; chmod go-w",
		    path);
		goto out;
	}
	if (st.st_size > RCPT_CFG_FILE_MAX) {
		r = rcpt_diag(diag, RCPT_E_CONFIG, "%s: larger than %d bytes",
		    path, RCPT_CFG_FILE_MAX);
		goto out;
	}
	if ((r = read_all(fd, path, &buf, &len, diag)) != RCPT_OK)
		goto out;
	if ((r = dir_of(path, &dir)) != RCPT_OK) {
		if (r == RCPT_E_IO)
			rcpt_diag(diag, r,
			    "%s: cannot find the current directory: "
			    "%s",
			    path, strerror(errno));
		goto out;
	}
	r = rcpt_cfg_parse(buf, len, path, dir, out, diag);
out:
	free(dir);
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}

void
rcpt_cfg_free(struct rcpt_cfg *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n_principals; i++)
		free(c->principals[i].ids);
	free(c->principals);
	for (i = 0; i < c->n_chains; i++)
		free(c->chains[i].rights);
	free(c->chains);
	free(c->groups);
	free(c->path);
	free(c->socket_path);
	free(c->store_path);
	free(c->origin);
	free(c->provider);
	/* It names a PIN file, not a PIN, but wiping costs nothing. */
	if (c->provider_config != NULL)
		rcpt_freezero(c->provider_config, strlen(c->provider_config));
	free(c->providers_dir);
	free(c);
}

static int
lists(const struct rcpt_cfg_principal *pr, int is_gid, uint32_t id)
{
	size_t i;

	for (i = 0; i < pr->n_ids; i++)
		if (pr->ids[i].is_gid == is_gid && pr->ids[i].id == id)
			return 1;
	return 0;
}

int
rcpt_cfg_principal_of(const struct rcpt_cfg *c, uid_t uid, gid_t gid,
    const gid_t *groups, size_t n_groups)
{
	size_t i, k;

	if (c == NULL)
		return -1;
	for (i = 0; i < c->n_principals; i++)
		if (lists(&c->principals[i], 0, (uint32_t)uid))
			return (int)i;
	for (i = 0; i < c->n_principals; i++) {
		if (lists(&c->principals[i], 1, (uint32_t)gid))
			return (int)i;
		for (k = 0; groups != NULL && k < n_groups; k++)
			if (lists(&c->principals[i], 1, (uint32_t)groups[k]))
				return (int)i;
	}
	return -1;
}

const struct rcpt_cfg_chain *
rcpt_cfg_chain(const struct rcpt_cfg *c, const char *name)
{
	size_t i;

	if (c == NULL || name == NULL)
		return NULL;
	for (i = 0; i < c->n_chains; i++)
		if (strcmp(c->chains[i].name, name) == 0)
			return &c->chains[i];
	return NULL;
}

int
rcpt_cfg_may(const struct rcpt_cfg *c, const struct rcpt_cfg_chain *ch,
    int principal, unsigned rights)
{
	/* Asking for no right, or an unknown one, is a caller's bug. */
	if (c == NULL || ch == NULL || principal < 0 ||
	    (size_t)principal >= c->n_principals || rights == 0 ||
	    (rights & ~(unsigned)ACCESS_BITS) != 0)
		return 0;
	return (ch->rights[principal] & rights) == rights;
}

/* Days since 1970-01-01 of a date in years 0 to 9999. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	/* Years starting in March put the leap day last. */
	int64_t yy = m > 2 ? y : y - 1;
	int64_t mm = m > 2 ? m - 3 : m + 9;

	return 365 * yy + yy / 4 - yy / 100 + yy / 400 + (153 * mm + 2) / 5 +
	       d - 1 - 719468;
}

static int
days_in_month(int64_t y, int m)
{
	static const int days[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : days[m - 1];
}

int
rcpt_cfg_retention_cutoff(
    const struct rcpt_cfg_chain *ch, int64_t now_ms, char out[RCPT_TS_LEN + 1])
{
	int64_t y, months, ms, rem;
	time_t secs;
	struct tm tm;
	int m, d;

	if (ch == NULL || out == NULL || now_ms < 0 || now_ms > TS_MAX_MS)
		return RCPT_E_INVAL;
	out[0] = '\0';
	if (ch->retention_unit == 0)
		return RCPT_OK;
	if (ch->retention_unit == 'd')
		return rcpt_ts_format(
		    now_ms - (int64_t)ch->retention_n * MS_PER_DAY, out);
	secs = (time_t)(now_ms / 1000);
	if (gmtime_r(&secs, &tm) == NULL)
		return RCPT_E_INVAL;
	rem = now_ms % MS_PER_DAY; /* the time of day is kept */
	y = (int64_t)tm.tm_year + 1900;
	m = tm.tm_mon + 1;
	if (ch->retention_unit == 'm') {
		months = y * 12 + (m - 1) - (int64_t)ch->retention_n;
		y = months / 12;
		m = (int)(months % 12) + 1;
	} else if (ch->retention_unit == 'y') {
		y -= (int64_t)ch->retention_n;
	} else {
		return RCPT_E_INVAL;
	}
	d = tm.tm_mday;
	if (d > days_in_month(y, m))
		d = days_in_month(y, m);
	ms = days_from_civil(y, m, d) * MS_PER_DAY + rem;
	return rcpt_ts_format(ms, out);
}

static void
print_list(const struct rcpt_cfg *c, const struct rcpt_cfg_chain *ch,
    const char *key, unsigned right, FILE *f)
{
	const char *sep = " ";
	size_t i;

	fprintf(f, "%s =", key);
	for (i = 0; i < c->n_principals; i++) {
		if ((ch->rights[i] & right) == 0)
			continue;
		fprintf(f, "%s%s", sep, c->principals[i].name);
		sep = ", ";
	}
	fputc('\n', f);
}

static void
print_chain(const struct rcpt_cfg *c, const struct rcpt_cfg_chain *ch, FILE *f)
{
	fprintf(f, "\n[chain %s]\nsealing = %s\n", ch->name,
	    rcpt_chain_sealing_name(ch->sealing));
	print_list(c, ch, "append", RCPT_RIGHT_APPEND, f);
	print_list(c, ch, "read", RCPT_RIGHT_READ, f);
	print_list(c, ch, "admin", RCPT_RIGHT_ADMIN, f);
	if (ch->retention_unit == 0)
		fprintf(f, "retention = none\n");
	else
		fprintf(f, "retention = %u %s%s\n", ch->retention_n,
		    ch->retention_unit == 'd'   ? "day"
		    : ch->retention_unit == 'm' ? "month"
		                                : "year",
		    ch->retention_n == 1 ? "" : "s");
	fprintf(f, "checkpoint_every = %" PRIu64 "\n", ch->checkpoint_every);
	fprintf(f, "checkpoint_interval = %" PRId64 "s\n",
	    ch->checkpoint_interval_ms / 1000);
}

void
rcpt_cfg_print(const struct rcpt_cfg *c, FILE *f)
{
	size_t i, k;

	if (c == NULL || f == NULL)
		return;
	/* The output is itself a valid configuration, with ids resolved. */
	fprintf(f,
	    "# %s as loaded: defaults filled in, users and groups "
	    "resolved\n",
	    c->path);
	fprintf(f, "\n[daemon]\nsocket = %s\nsocket_mode = 0%o\nstore = %s\n",
	    c->socket_path, c->socket_mode, c->store_path);
	fprintf(f, "map_size = %zu\nmap_max = %zu\norigin = %s\n", c->map_size,
	    c->map_max, c->origin);
	fprintf(f, "sign_threads = %u\nproduction = %s\n", c->sign_threads,
	    c->production ? "true" : "false");
	if (c->has_user) {
		fprintf(f,
		    "user = %lu\ngroup = %lu\ngroups =", (unsigned long)c->uid,
		    (unsigned long)c->gid);
		for (i = 0; i < c->n_groups; i++)
			fprintf(f, "%s%lu", i > 0 ? ", " : " ",
			    (unsigned long)c->groups[i]);
		fputc('\n', f);
	}
	fprintf(f, "seccomp = %s\n", c->seccomp_log ? "log" : "kill");
	fprintf(f, "\n[provider]\nname = %s\nconfig = %s\n", c->provider,
	    c->provider_config);
	if (c->providers_dir != NULL)
		fprintf(f, "providers_dir = %s\n", c->providers_dir);
	fprintf(f, "\n[limits]\ndata_max = %zu\ndepth = %d\ntags = %zu\n",
	    c->data_max, c->depth, c->tags_max);
	fprintf(f, "batch = %zu\nconnections = %zu\n", c->batch_max,
	    c->connections_max);
	fprintf(f, "\n[principals]\n");
	for (i = 0; i < c->n_principals; i++) {
		const struct rcpt_cfg_principal *pr = &c->principals[i];

		fprintf(f, "%s =", pr->name);
		for (k = 0; k < pr->n_ids; k++)
			fprintf(f, "%s%s:%lu", k > 0 ? ", " : " ",
			    pr->ids[k].is_gid ? "gid" : "uid",
			    (unsigned long)pr->ids[k].id);
		fputc('\n', f);
	}
	for (i = 0; i < c->n_chains; i++)
		print_chain(c, &c->chains[i], f);
}
