/* SPDX-License-Identifier: Apache-2.0 */
/*
 * receiptd's configuration apart from its grammar (settings-parse.c) and
 * its value syntax (settings-values.c): loading the file with the checks
 * a file that grants access deserves, the questions the daemon asks of a
 * loaded configuration (who is this caller, may they do this, what is
 * due for pruning) and its summary for --check-config.
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

#define MS_PER_DAY  86400000LL
#define TS_MAX_MS   253402300799999LL /* 9999-12-31T23:59:59.999Z */
#define ACCESS_BITS (RCPT_RIGHT_APPEND | RCPT_RIGHT_READ | RCPT_RIGHT_ADMIN)

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
	fprintf(f, "batch = %zu\n", c->batch_max);
	if (c->batch_wait_us % 1000 == 0)
		fprintf(f, "batch_wait = %lld ms\n",
		    (long long)(c->batch_wait_us / 1000));
	else
		fprintf(
		    f, "batch_wait = %lld us\n", (long long)c->batch_wait_us);
	fprintf(f, "connections = %zu\n", c->connections_max);
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
