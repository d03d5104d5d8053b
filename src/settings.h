/* SPDX-License-Identifier: Apache-2.0 */
/*
 * receiptd's configuration: one INI file (parsed with libinih), read
 * whole and checked strictly before the daemon touches its store or
 * token.  Every refusal names the file, line, section and key, and the
 * rule broken ("receiptd.conf:12: [chain payments] retention: expected
 * none, N days, N months or N years, N from 1 to 1000").  Values are
 * never echoed; names (sections, keys, principals, users) are.  Unknown
 * sections and keys are errors, not warnings: a typo in an ACL must not
 * widen it silently.
 *
 * Sections (docs/receiptd.conf.5 is the reference):
 *
 *   [daemon]      socket, socket_mode, store, map_size, map_max, origin,
 *                 sign_threads, production, user, group, groups, seccomp
 *   [provider]    name, config, providers_dir
 *   [limits]      data_max, depth, tags, batch, batch_wait, connections
 *   [principals]  NAME = uid:N | gid:N | user:LOGIN | group:NAME, ...
 *   [chain NAME]  sealing, append, read, admin (principal lists),
 *                 retention, checkpoint_every, checkpoint_interval
 *
 * It does not open sockets, stores or tokens, and keeps no global
 * state: a struct rcpt_cfg is immutable once loaded and may be read
 * from any thread.
 */
#ifndef RCPT_SRC_SETTINGS_H
#define RCPT_SRC_SETTINGS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <stdio.h>

#include "chain.h"
#include "err.h"
#include "ts.h"

#define RCPT_CFG_NAME_MAX            64  /* bytes of a principal name */
#define RCPT_CFG_CHAINS_MAX          64  /* [chain] sections */
#define RCPT_CFG_PRINCIPALS_MAX      256 /* principal names */
#define RCPT_CFG_IDS_MAX             64  /* ids mapped to one principal */
#define RCPT_CFG_FILE_MAX            (1024 * 1024) /* bytes of a config file */
#define RCPT_CFG_PROVIDER_CONFIG_MAX 4096 /* bytes of [provider] config */
#define RCPT_CFG_GROUPS_MAX          32   /* [daemon] groups */

/* Defaults (SPEC 1.1 and 9, issue 4). */
#define RCPT_CFG_SOCKET_DEFAULT      "/run/receiptd/receiptd.sock"
#define RCPT_CFG_STORE_DEFAULT       "/var/lib/receiptd"
#define RCPT_CFG_MAP_DEFAULT         ((size_t)64 << 20)
#define RCPT_CFG_DATA_DEFAULT        ((size_t)1 << 20)
#define RCPT_CFG_TAGS_DEFAULT        32    /* SPEC 1: at most 32 */
#define RCPT_CFG_BATCH_DEFAULT       256   /* receipts in one commit */
#define RCPT_CFG_WAIT_DEFAULT_US     0     /* batch_wait */
#define RCPT_CFG_CONN_DEFAULT        1024  /* open connections */
#define RCPT_CFG_SIGNERS_DEFAULT     2     /* signing threads */
#define RCPT_CFG_MODE_DEFAULT        0660  /* socket_mode */
#define RCPT_CFG_DEPTH_DEFAULT       64    /* SPEC 1.1 */
#define RCPT_CFG_EVERY_DEFAULT       1000  /* checkpoint_every */
#define RCPT_CFG_INTERVAL_DEFAULT_MS 60000 /* checkpoint_interval */

/** What a principal may do on a chain; bits. */
enum rcpt_cfg_right {
	RCPT_RIGHT_APPEND = 1,
	RCPT_RIGHT_READ = 2,
	RCPT_RIGHT_ADMIN = 4
};

/** One uid or gid that maps to a principal. */
struct rcpt_cfg_id {
	int is_gid; /* 0: uid, 1: gid */
	uint32_t id;
};

/** A principal: a name and the ids that authenticate as it. */
struct rcpt_cfg_principal {
	/* [A-Za-z0-9._@-]{1,64}, not "receiptd" in any letter case */
	char name[RCPT_CFG_NAME_MAX + 1];
	struct rcpt_cfg_id *ids; /* owned */
	size_t n_ids;
};

/** One [chain NAME] section. */
struct rcpt_cfg_chain {
	char name[RCPT_CHAIN_MAX + 1];
	enum rcpt_sealing sealing; /* default each */
	/*
	 * Rights of each principal, indexed like rcpt_cfg.principals:
	 * rights[i] is an OR of enum rcpt_cfg_right.  Admin does not imply
	 * append or read; each list says exactly what it grants.
	 */
	unsigned *rights; /* owned, n_principals entries */
	/*
	 * Retention: "none" (unit 0) or N days, months or years (unit 'd',
	 * 'm', 'y', N 1 to 1000); months and years are calendar ones.
	 */
	unsigned retention_n;
	char retention_unit;
	uint64_t checkpoint_every;      /* 0: not by count */
	int64_t checkpoint_interval_ms; /* 0: not by time */
};

/** The whole configuration; immutable once loaded. */
struct rcpt_cfg {
	char *path; /* the file it came from */
	/* [daemon] */
	char *socket_path;     /* absolute; default RCPT_CFG_SOCKET_DEFAULT */
	unsigned socket_mode;  /* octal, default 0660, at most 0777 */
	char *store_path;      /* absolute or relative to the config's dir */
	size_t map_size;       /* bytes; suffixes K, M, G; default 64M */
	size_t map_max;        /* >= map_size; default map_size */
	char *origin;          /* SPEC 5 origin; required */
	unsigned sign_threads; /* 1 to 64; default 2 */
	int production;        /* refuse the software provider; default 1 */
	/*
	 * Who the daemon runs as once its socket, store and token are open
	 * (harden.c).  Names are resolved at load; 0 (root) is refused.
	 */
	int has_user;     /* user given; group and groups need it */
	uint32_t uid;     /* user */
	uint32_t gid;     /* group; default the user's primary group */
	uint32_t *groups; /* owned; supplementary groups; default none */
	size_t n_groups;  /* 0 to RCPT_CFG_GROUPS_MAX */
	int seccomp_log;  /* seccomp = log (report) or kill (default) */
	/* [provider] */
	char *provider; /* "software", a plugin name or an absolute path */
	char *provider_config; /* the provider's config string; required */
	char *providers_dir;   /* NULL: the build's PROVIDERS_DIR */
	/* [limits] */
	size_t data_max;       /* bytes of JCS(data), 1 to 64 MiB; default 1M */
	int depth;             /* 1 to 256; default 64 */
	size_t tags_max;       /* 0 to 32; default 32 */
	size_t batch_max;      /* 1 to 65536; default RCPT_CFG_BATCH_DEFAULT */
	int64_t batch_wait_us; /* 0 to 1 s; default RCPT_CFG_WAIT_DEFAULT_US */
	size_t connections_max; /* 1 to 65536; default 1024 */
	/* [principals] */
	struct rcpt_cfg_principal *principals; /* owned; file order */
	size_t n_principals;
	/* [chain NAME] */
	struct rcpt_cfg_chain *chains; /* owned; file order; at least one */
	size_t n_chains;
};

/**
 * Reads and checks the file @p path: a regular file of at most
 * RCPT_CFG_FILE_MAX bytes that neither its group nor others may write,
 * since it grants access to chains.  Relative paths inside (store,
 * providers_dir) are taken relative to the file's directory, made
 * absolute with the current directory; the socket path must be absolute.
 * @param[out] out caller frees with rcpt_cfg_free(); NULL on failure.
 * @return RCPT_OK; RCPT_E_CONFIG with @p diag naming file, line, section,
 * key and rule (or the file's type, mode or size); RCPT_E_IO (cannot
 * open or read the file); RCPT_E_INVAL (no path); RCPT_E_NOMEM.
 */
int rcpt_cfg_load(const char *path, struct rcpt_cfg **out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/**
 * As rcpt_cfg_load() on @p len bytes of @p text (need not be
 * NUL-terminated), with @p name used in messages (NULL: "config") and
 * @p dir as the base of relative paths (NULL: they are refused).  For
 * tests and the fuzzer.
 */
int rcpt_cfg_parse(const char *text, size_t len, const char *name,
    const char *dir, struct rcpt_cfg **out,
    struct rcpt_diag *diag) RCPT_MUST_CHECK;

/** Frees @p c; accepts NULL. */
void rcpt_cfg_free(struct rcpt_cfg *c);

/**
 * The principal a caller authenticates as: the first principal (file
 * order) that lists @p uid; failing that, the first that lists @p gid or
 * one of @p groups (supplementary gids, may be NULL when @p n_groups is
 * 0).  A uid entry always wins over a gid entry.
 * @return the principal's index, or -1 for an unknown caller.
 */
int rcpt_cfg_principal_of(const struct rcpt_cfg *c, uid_t uid, gid_t gid,
    const gid_t *groups, size_t n_groups);

/** The chain section named @p name, or NULL. */
const struct rcpt_cfg_chain *rcpt_cfg_chain(
    const struct rcpt_cfg *c, const char *name);

/**
 * 1 when principal @p principal (an index from rcpt_cfg_principal_of)
 * holds every right in @p rights on @p ch, else 0: also for -1, and for
 * @p rights 0 or with unknown bits, which are the caller's mistakes.
 */
int rcpt_cfg_may(const struct rcpt_cfg *c, const struct rcpt_cfg_chain *ch,
    int principal, unsigned rights);

/**
 * The prune cutoff of @p ch at @p now_ms: receipts with ts before it are
 * due (SPEC 6).  Calendar arithmetic in UTC; the day of month is clamped
 * (31 March minus one month is 28 or 29 February).
 * @param[out] out TS, "" when the retention is "none".
 * @return RCPT_OK, RCPT_E_INVAL (a time before 1970 or past 9999).
 */
int rcpt_cfg_retention_cutoff(const struct rcpt_cfg_chain *ch, int64_t now_ms,
    char out[RCPT_TS_LEN + 1]) RCPT_MUST_CHECK;

/**
 * Writes a summary of @p c to @p f, for `receiptd --check-config`:
 * paths, limits, each principal with its ids, and each chain with who
 * may append, read and administer it.  No secrets appear (the provider
 * config names a PIN file, never a PIN).
 */
void rcpt_cfg_print(const struct rcpt_cfg *c, FILE *f);

/*
 * Value syntax of receiptd.conf, used by the reader (settings-parse.c) and
 * open to tools that take the same syntax.  Each returns RCPT_OK, or
 * RCPT_E_CONFIG with the rule in @p why (never the value: the reader
 * puts file, line, section and key in front), and stores nothing on
 * failure.
 */

/** Decimal digits, no sign and no leading zero, from @p min to @p max. */
int rcpt_cfg_uint_parse(const char *s, uint64_t min, uint64_t max,
    uint64_t *out, struct rcpt_diag *why) RCPT_MUST_CHECK;

/** A byte count with an optional binary K, M or G, @p min to @p max. */
int rcpt_cfg_size_parse(const char *s, uint64_t min, uint64_t max, size_t *out,
    struct rcpt_diag *why) RCPT_MUST_CHECK;

/** true, yes, on, 1 or false, no, off, 0, in any letter case. */
int rcpt_cfg_bool_parse(
    const char *s, int *out, struct rcpt_diag *why) RCPT_MUST_CHECK;

/** 1 to 4 octal digits, at most 0777 ("0660" and "660" are the same). */
int rcpt_cfg_mode_parse(
    const char *s, unsigned *out, struct rcpt_diag *why) RCPT_MUST_CHECK;

/**
 * A path: absolute, or relative to @p dir (NULL: relative is refused).
 * @param[out] out the absolute path; caller frees.
 * @return also RCPT_E_NOMEM.
 */
int rcpt_cfg_path_parse(const char *s, const char *dir, char **out,
    struct rcpt_diag *why) RCPT_MUST_CHECK;

/**
 * [daemon] user (@p is_group 0) or group (1): a name, looked up now
 * (getpwnam_r, getgrnam_r), or a decimal id.  Root, 0, is refused: the
 * point of the key is to leave it.
 * @param[out] gid_out for a user given by name, its primary group; else
 * UINT32_MAX.  May be NULL.
 */
int rcpt_cfg_account_parse(const char *s, int is_group, uint32_t *id_out,
    uint32_t *gid_out, struct rcpt_diag *why) RCPT_MUST_CHECK;

/**
 * [daemon] groups: group names or gids (not 0) separated by commas, at
 * most RCPT_CFG_GROUPS_MAX, each once; blank is none.
 * @param[out] gids RCPT_CFG_GROUPS_MAX entries; @p n_out how many are used.
 */
int rcpt_cfg_groups_parse(const char *s, uint32_t *gids, size_t *n_out,
    struct rcpt_diag *why) RCPT_MUST_CHECK;

/** "none", or "N days", "N months", "N years" (or singular), N 1-1000. */
int rcpt_cfg_retention_parse(const char *s, unsigned *n_out, char *unit_out,
    struct rcpt_diag *why) RCPT_MUST_CHECK;

/** "0", or "N ms" or "N us" (blank optional), up to 1000 ms. */
int rcpt_cfg_wait_parse(
    const char *s, int64_t *us_out, struct rcpt_diag *why) RCPT_MUST_CHECK;

/** Seconds with an optional s, m or h, 0 (off) to 24h. */
int rcpt_cfg_interval_parse(
    const char *s, int64_t *ms_out, struct rcpt_diag *why) RCPT_MUST_CHECK;

/** 1 when @p len bytes at @p s are a principal name, [A-Za-z0-9._@-]{1,64}. */
int rcpt_cfg_principal_is_valid(const char *s, size_t len);

/**
 * A principal's list: uid:N, gid:N, user:LOGIN or group:NAME, separated
 * by commas, 1 to RCPT_CFG_IDS_MAX items.  No id may appear twice or be
 * mapped already by a principal of @p c (NULL: none), so that a caller
 * is never two principals.  Users and groups are looked up now
 * (getpwnam_r, getgrnam_r).  Names, not values, appear in @p why.
 * @param[out] ids RCPT_CFG_IDS_MAX entries; @p n_out how many are used.
 * @return also RCPT_E_NOMEM.
 */
int rcpt_cfg_ids_parse(const char *s, const struct rcpt_cfg *c,
    struct rcpt_cfg_id *ids, size_t *n_out,
    struct rcpt_diag *why) RCPT_MUST_CHECK;

/**
 * A chain's append, read or admin list: principal names of @p c separated
 * by commas, each at most once; blank grants nothing.  ORs @p right into
 * @p rights (indexed like c->principals) only when the whole list is good.
 */
int rcpt_cfg_list_parse(const char *s, const struct rcpt_cfg *c, unsigned right,
    unsigned *rights, struct rcpt_diag *why) RCPT_MUST_CHECK;

#endif
