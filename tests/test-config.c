/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of src/config: a full file read with its values and defaults;
 * each rule broken once, with a message naming line, section and key;
 * lines longer than libinih's buffer and section names longer than it
 * keeps; the file checks of rcpt_cfg_load(); mapping callers to
 * principals, rights, retention cutoffs in calendar months and years;
 * the summary read back as a configuration; the sample conf/receiptd.conf;
 * and every allocation failure.
 */
#include "config.h"

#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"
#include "settings.h"
#include "testlib.h"

#define NAME "t.conf"

/* Lines 1-2 [daemon], 4-6 [provider], 8-9 [principals], 11-12 [chain c];
 * lines 3, 7, 10 and 13 are each section's extra line, 14 on the tail. */
#define TEMPLATE                                                      \
	"[daemon]\n"                                                  \
	"origin = receipts.example/test\n"                            \
	"%s\n"                                                        \
	"[provider]\n"                                                \
	"name = pkcs11\n"                                             \
	"config = module=softhsm2;token=pkcs11:token=t;pin-file=/p\n" \
	"%s\n"                                                        \
	"[principals]\n"                                              \
	"alice = uid:1000\n"                                          \
	"%s\n"                                                        \
	"[chain c]\n"                                                 \
	"append = alice\n"                                            \
	"%s\n"                                                        \
	"%s"

#define FULL                                                   \
	"# a full configuration\n"                             \
	"[daemon]\n"                                           \
	"socket = /run/r/r.sock\n"                             \
	"socket_mode = 0600\n"                                 \
	"store = db\n"                                         \
	"map_size = 2M\n"                                      \
	"map_max = 1G\n"                                       \
	"origin = receipts.example/full\n"                     \
	"sign_threads = 4\n"                                   \
	"production = off\n"                                   \
	"user = 65534\n"                                       \
	"group = 65533\n"                                      \
	"groups = 65532, 65531\n"                              \
	"seccomp = log\n"                                      \
	"\n"                                                   \
	"[provider]\n"                                         \
	"name = software\n"                                    \
	"config = /var/lib/receiptd/keys\n"                    \
	"providers_dir = plugins\n"                            \
	"\n"                                                   \
	"[limits]\n"                                           \
	"data_max = 64K\n"                                     \
	"depth = 16\n"                                         \
	"tags = 0\n"                                           \
	"batch = 65536\n"                                      \
	"batch_wait = 2 ms\n"                                  \
	"connections = 10\n"                                   \
	"\n"                                                   \
	"; chains may name principals declared further down\n" \
	"[chain inference]\n"                                  \
	"sealing = batch\n"                                    \
	"append = gw\n"                                        \
	"read = gw , auditors\n"                               \
	"admin = ops\n"                                        \
	"retention = 6 months\n"                               \
	"checkpoint_every = 4294967296\n"                      \
	"checkpoint_interval = 5m\n"                           \
	"\n"                                                   \
	"[chain access]\n"                                     \
	"read = auditors\n"                                    \
	"\n"                                                   \
	"[principals]\n"                                       \
	"gw = uid:2001, uid:2002\n"                            \
	"auditors = gid:2100, group:root\n"                    \
	"ops = user:root\n"

static char *tmp; /* scratch directory of the suite */

static int
setup(void)
{
	return (tmp = rcpt_test_mkdtemp()) == NULL;
}

static int
teardown(void)
{
	rcpt_test_rmdir(tmp);
	free(tmp);
	tmp = NULL;
	return 0;
}

static int
parse(const char *text, struct rcpt_cfg **c, struct rcpt_diag *d)
{
	rcpt_diag_clear(d);
	return rcpt_cfg_parse(text, strlen(text), NAME, "/etc/receiptd", c, d);
}

/* The template with one extra line in each place. */
static char *
fill(const char *daemon, const char *provider, const char *principal,
    const char *chain, const char *tail)
{
	static char buf[16384];

	snprintf(buf, sizeof(buf), TEMPLATE, daemon, provider, principal, chain,
	    tail);
	return buf;
}

/* Parses @p text and checks that it fails with every part in the message. */
static void
refuse(const char *text, const char *const *parts)
{
	struct rcpt_cfg *c = (struct rcpt_cfg *)&c;
	struct rcpt_diag d;
	size_t i;

	CU_ASSERT_EQUAL(parse(text, &c, &d), RCPT_E_CONFIG);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_TRUE(d.set);
	for (i = 0; parts[i] != NULL; i++) {
		CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, parts[i]));
		if (strstr(d.msg, parts[i]) == NULL)
			fprintf(stderr, "\n  missing \"%s\" in \"%s\"\n",
			    parts[i], d.msg);
	}
	rcpt_cfg_free(c);
}

#define REFUSE(text, ...) \
	refuse((text), (const char *const[]){__VA_ARGS__, NULL})

/* Parses @p text, which must be accepted; the caller frees. */
static struct rcpt_cfg *
accept(const char *text)
{
	struct rcpt_cfg *c = NULL;
	struct rcpt_diag d;
	int r = parse(text, &c, &d);

	CU_ASSERT_EQUAL(r, RCPT_OK);
	if (r != RCPT_OK)
		fprintf(stderr, "\n  refused: %s\n", rcpt_diag_msg(&d, r));
	CU_ASSERT_PTR_NOT_NULL(c);
	return c;
}

static int
index_of(const struct rcpt_cfg *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_principals; i++)
		if (strcmp(c->principals[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void
test_full(void)
{
	struct rcpt_cfg *c = accept(FULL);
	const struct rcpt_cfg_chain *ch;
	int gw, aud, ops;

	if (c == NULL)
		return;
	CU_ASSERT_STRING_EQUAL(c->path, NAME);
	CU_ASSERT_STRING_EQUAL(c->socket_path, "/run/r/r.sock");
	CU_ASSERT_EQUAL(c->socket_mode, 0600);
	CU_ASSERT_STRING_EQUAL(c->store_path, "/etc/receiptd/db");
	CU_ASSERT_EQUAL(c->map_size, (size_t)2 << 20);
	CU_ASSERT_EQUAL(c->map_max, (size_t)1 << 30);
	CU_ASSERT_STRING_EQUAL(c->origin, "receipts.example/full");
	CU_ASSERT_EQUAL(c->sign_threads, 4);
	CU_ASSERT_EQUAL(c->production, 0);
	CU_ASSERT_EQUAL(c->has_user, 1);
	CU_ASSERT_EQUAL(c->uid, 65534);
	CU_ASSERT_EQUAL(c->gid, 65533);
	CU_ASSERT_EQUAL_FATAL(c->n_groups, 2);
	CU_ASSERT_EQUAL(c->groups[0], 65532);
	CU_ASSERT_EQUAL(c->groups[1], 65531);
	CU_ASSERT_EQUAL(c->seccomp_log, 1);
	CU_ASSERT_STRING_EQUAL(c->provider, "software");
	CU_ASSERT_STRING_EQUAL(c->provider_config, "/var/lib/receiptd/keys");
	CU_ASSERT_STRING_EQUAL(c->providers_dir, "/etc/receiptd/plugins");
	CU_ASSERT_EQUAL(c->data_max, (size_t)64 << 10);
	CU_ASSERT_EQUAL(c->depth, 16);
	CU_ASSERT_EQUAL(c->tags_max, 0);
	CU_ASSERT_EQUAL(c->batch_max, 65536);
	CU_ASSERT_EQUAL(c->batch_wait_us, 2000);
	CU_ASSERT_EQUAL(c->connections_max, 10);

	CU_ASSERT_EQUAL_FATAL(c->n_principals, 3);
	gw = index_of(c, "gw");
	aud = index_of(c, "auditors");
	ops = index_of(c, "ops");
	CU_ASSERT_EQUAL(gw, 0);
	CU_ASSERT_EQUAL(aud, 1);
	CU_ASSERT_EQUAL(ops, 2);
	CU_ASSERT_EQUAL(c->principals[0].n_ids, 2);
	CU_ASSERT_EQUAL(c->principals[0].ids[1].is_gid, 0);
	CU_ASSERT_EQUAL(c->principals[0].ids[1].id, 2002);
	CU_ASSERT_EQUAL(c->principals[1].n_ids, 2);
	CU_ASSERT_EQUAL(c->principals[1].ids[0].is_gid, 1);
	CU_ASSERT_EQUAL(c->principals[1].ids[0].id, 2100);
	CU_ASSERT_EQUAL(c->principals[1].ids[1].is_gid, 1);
	CU_ASSERT_EQUAL(c->principals[1].ids[1].id, 0); /* group root */
	CU_ASSERT_EQUAL(c->principals[2].ids[0].is_gid, 0);
	CU_ASSERT_EQUAL(c->principals[2].ids[0].id, 0); /* user root */

	CU_ASSERT_EQUAL_FATAL(c->n_chains, 2);
	ch = rcpt_cfg_chain(c, "inference");
	CU_ASSERT_PTR_EQUAL_FATAL(ch, &c->chains[0]);
	CU_ASSERT_EQUAL(ch->sealing, RCPT_SEALING_BATCH);
	CU_ASSERT_EQUAL(ch->rights[gw], RCPT_RIGHT_APPEND | RCPT_RIGHT_READ);
	CU_ASSERT_EQUAL(ch->rights[aud], RCPT_RIGHT_READ);
	CU_ASSERT_EQUAL(ch->rights[ops], RCPT_RIGHT_ADMIN);
	CU_ASSERT_EQUAL(ch->retention_n, 6);
	CU_ASSERT_EQUAL(ch->retention_unit, 'm');
	CU_ASSERT_EQUAL(ch->checkpoint_every, (uint64_t)1 << 32);
	CU_ASSERT_EQUAL(ch->checkpoint_interval_ms, 300000);

	/* A section with no keys takes every default and grants nothing. */
	ch = rcpt_cfg_chain(c, "access");
	CU_ASSERT_PTR_EQUAL_FATAL(ch, &c->chains[1]);
	CU_ASSERT_EQUAL(ch->sealing, RCPT_SEALING_EACH);
	CU_ASSERT_EQUAL(ch->rights[gw], 0);
	CU_ASSERT_EQUAL(ch->rights[aud], RCPT_RIGHT_READ);
	CU_ASSERT_EQUAL(ch->rights[ops], 0);
	CU_ASSERT_EQUAL(ch->retention_unit, 0);
	CU_ASSERT_EQUAL(ch->checkpoint_every, 1000);
	CU_ASSERT_EQUAL(ch->checkpoint_interval_ms, 60000);
	CU_ASSERT_PTR_NULL(rcpt_cfg_chain(c, "payments"));
	CU_ASSERT_PTR_NULL(rcpt_cfg_chain(c, NULL));
	rcpt_cfg_free(c);
}

static void
test_defaults(void)
{
	struct rcpt_cfg *c = accept(fill("", "", "", "", ""));

	if (c == NULL)
		return;
	CU_ASSERT_STRING_EQUAL(c->socket_path, RCPT_CFG_SOCKET_DEFAULT);
	CU_ASSERT_EQUAL(c->socket_mode, 0660);
	CU_ASSERT_STRING_EQUAL(c->store_path, RCPT_CFG_STORE_DEFAULT);
	CU_ASSERT_EQUAL(c->map_size, RCPT_CFG_MAP_DEFAULT);
	CU_ASSERT_EQUAL(c->map_max, RCPT_CFG_MAP_DEFAULT);
	CU_ASSERT_EQUAL(c->sign_threads, 2);
	CU_ASSERT_EQUAL(c->production, 1);
	CU_ASSERT_EQUAL(c->has_user, 0);
	CU_ASSERT_EQUAL(c->n_groups, 0);
	CU_ASSERT_EQUAL(c->seccomp_log, 0);
	CU_ASSERT_PTR_NULL(c->providers_dir);
	CU_ASSERT_EQUAL(c->data_max, (size_t)1 << 20);
	CU_ASSERT_EQUAL(c->depth, 64);
	CU_ASSERT_EQUAL(c->tags_max, 32);
	CU_ASSERT_EQUAL(c->batch_max, 256);
	CU_ASSERT_EQUAL(c->batch_wait_us, RCPT_CFG_WAIT_DEFAULT_US);
	CU_ASSERT_EQUAL(c->connections_max, 1024);
	CU_ASSERT_EQUAL_FATAL(c->n_chains, 1);
	CU_ASSERT_EQUAL(c->chains[0].sealing, RCPT_SEALING_EACH);
	CU_ASSERT_EQUAL(c->chains[0].rights[0], RCPT_RIGHT_APPEND);
	CU_ASSERT_EQUAL(c->chains[0].retention_unit, 0);
	CU_ASSERT_EQUAL(c->chains[0].checkpoint_every, 1000);
	CU_ASSERT_EQUAL(c->chains[0].checkpoint_interval_ms, 60000);
	rcpt_cfg_free(c);

	/* map_max follows map_size unless given. */
	c = accept(fill("map_size = 3G", "", "", "", ""));
	if (c != NULL) {
		CU_ASSERT_EQUAL(c->map_size, (size_t)3 << 30);
		CU_ASSERT_EQUAL(c->map_max, (size_t)3 << 30);
	}
	rcpt_cfg_free(c);
}

static void
test_sections(void)
{
	REFUSE(fill("", "", "", "", "[bogus]\nx = 1\n"), NAME ":14:", "[bogus]",
	    "unknown section");
	REFUSE(fill("", "", "", "", "[Daemon]\n"), ":14:", "[Daemon]",
	    "unknown section");
	REFUSE(fill("", "", "", "", "[]\n"), ":14:", "unknown section");
	REFUSE(fill("", "", "", "", "[chain c]\n"), ":14:", "[chain c]",
	    "given twice (first on line 11)");
	REFUSE(fill("", "", "", "", "[daemon]\n"), ":14:", "[daemon]",
	    "given twice (first on line 1)");
	REFUSE(fill("", "", "", "", "[chain Bad]\n"), ":14:", "[chain Bad]",
	    "chain name must match");
	REFUSE(fill("", "", "", "", "[chain -x]\n"), ":14:", "[chain -x]",
	    "chain name");
	REFUSE(fill("", "", "", "", "[chain a b]\n"), ":14:", "chain name");
	REFUSE(fill("", "", "", "", "[chain]\n"), ":14:", "[chain]",
	    "unknown section");
	REFUSE(fill("", "", "", "", "[limits\n"), ":14:", "closing ]");
	REFUSE(fill("", "", "", "", "[limits] depth = 3\n"),
	    ":14:", "text after ]");
	REFUSE(
	    fill("", "", "", "", "[limits] ; note\n"), ":14:", "text after ]");
	REFUSE("origin = x\n", NAME ":1: origin: outside any section");
	REFUSE(fill("", "", "", "", "junk\n"), NAME ":14: expected [section]");
	REFUSE(fill("", "", "", "", "= 5\n"), ":14:", "expected a key");
	REFUSE("", NAME ": [daemon] origin: required");
}

static void
test_keys(void)
{
	REFUSE(fill("", "", "", "", "[limits]\ncolour = blue\n"),
	    NAME ":15:", "[limits] colour: unknown key");
	REFUSE(fill("sockett = /x", "", "", "", ""),
	    ":3:", "[daemon] sockett: unknown key");
	REFUSE(fill("", "", "", "retention = none\nretention = none", ""),
	    ":14:", "[chain c] retention: given twice (first on line 13)");
	REFUSE(fill("", "", "", "append = alice", ""),
	    ":13:", "[chain c] append: given twice (first on line 12)");
	REFUSE(fill("origin = x", "", "", "", ""),
	    ":3:", "[daemon] origin: given twice (first on line 2)");
	REFUSE(fill("", "", "", "sealing = every", ""),
	    ":13:", "[chain c] sealing: expected each or batch");
	REFUSE(fill("", "", "", "Sealing = each", ""),
	    ":13:", "[chain c] Sealing: unknown key");
	/* A rejected value is never shown. */
	REFUSE(fill("socket = relative/SECRET.sock", "", "", "", ""),
	    ":3:", "[daemon] socket:", "absolute");
	{
		struct rcpt_cfg *c = NULL;
		struct rcpt_diag d;

		CU_ASSERT_EQUAL(
		    parse(fill("origin2 = SECRET", "", "", "", ""), &c, &d),
		    RCPT_E_CONFIG);
		CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "origin2"));
		CU_ASSERT_PTR_NULL(strstr(d.msg, "SECRET"));
		CU_ASSERT_EQUAL(
		    parse(fill("socket = SECRET", "", "", "", ""), &c, &d),
		    RCPT_E_CONFIG);
		CU_ASSERT_PTR_NULL(strstr(d.msg, "SECRET"));
		CU_ASSERT_EQUAL(
		    parse(fill("origin = SE CRET", "", "", "", ""), &c, &d),
		    RCPT_E_CONFIG);
		CU_ASSERT_PTR_NULL(strstr(d.msg, "CRET"));
	}
}

static void
test_daemon(void)
{
	struct rcpt_cfg *c;
	char line[256];

	REFUSE(fill("map_size = 64X", "", "", "", ""),
	    ":3:", "[daemon] map_size:", "K, M or G");
	REFUSE(fill("map_size = 64MB", "", "", "", ""), ":3:", "map_size");
	REFUSE(fill("map_size = 512K", "", "", "", ""), ":3:", "at least 1M");
	REFUSE(fill("map_size = M", "", "", "", ""), ":3:", "map_size");
	REFUSE(fill("map_size = 99999999999999999999", "", "", "", ""),
	    ":3:", "map_size");
	REFUSE(
	    fill("map_size = 20000000000G", "", "", "", ""), ":3:", "map_size");
	REFUSE(fill("map_max = 2M", "", "", "", ""),
	    ":3:", "[daemon] map_max: must be at least map_size");
	REFUSE(fill("socket = run/r.sock", "", "", "", ""),
	    ":3:", "[daemon] socket: expected an absolute path");
	memset(line, 'x', sizeof(line));
	memcpy(line, "socket = /", 10);
	line[9 + 108] = '\0'; /* 108 bytes: one too many */
	REFUSE(fill(line, "", "", "", ""), ":3:", "at most 107 bytes");
	line[9 + 107] = '\0';
	c = accept(fill(line, "", "", "", ""));
	if (c != NULL)
		CU_ASSERT_EQUAL(strlen(c->socket_path), 107);
	rcpt_cfg_free(c);
	REFUSE(fill("socket_mode = 0778", "", "", "", ""),
	    ":3:", "[daemon] socket_mode: expected an octal mode");
	REFUSE(
	    fill("socket_mode = 01000", "", "", "", ""), ":3:", "socket_mode");
	REFUSE(fill("socket_mode = 9", "", "", "", ""), ":3:", "socket_mode");
	REFUSE(fill("socket_mode =", "", "", "", ""), ":3:", "socket_mode");
	c = accept(fill("socket_mode = 600", "", "", "", ""));
	if (c != NULL)
		CU_ASSERT_EQUAL(c->socket_mode, 0600);
	rcpt_cfg_free(c);
	REFUSE(fill("origin = a b", "", "", "", ""), ":3:", "given twice");
	REFUSE("[daemon]\norigin = bad origin\n",
	    NAME ":2:", "[daemon] origin: expected 1 to 200 bytes");
	REFUSE("[daemon]\norigin =\n", NAME ":2:", "[daemon] origin");
	REFUSE(fill("sign_threads = 0", "", "", "", ""),
	    ":3:", "[daemon] sign_threads: expected an integer from 1 to 64");
	REFUSE(fill("sign_threads = 65", "", "", "", ""), ":3:", "1 to 64");
	REFUSE(fill("sign_threads = -1", "", "", "", ""), ":3:", "1 to 64");
	REFUSE(fill("sign_threads = 08", "", "", "", ""), ":3:", "1 to 64");
	REFUSE(fill("production = maybe", "", "", "", ""),
	    ":3:", "[daemon] production: expected true, false");
	REFUSE(fill("store =", "", "", "", ""),
	    ":3:", "[daemon] store: expected a path");
	c = accept(fill("production = NO", "", "", "", ""));
	if (c != NULL)
		CU_ASSERT_EQUAL(c->production, 0);
	rcpt_cfg_free(c);
	c = accept(fill("store = /srv/receipts", "", "", "", ""));
	if (c != NULL)
		CU_ASSERT_STRING_EQUAL(c->store_path, "/srv/receipts");
	rcpt_cfg_free(c);
}

/* [daemon] user, group, groups, seccomp: who the daemon becomes. */
static void
test_account(void)
{
	struct passwd *pw = getpwnam("nobody");
	struct rcpt_cfg *c;
	char line[1024];
	size_t len, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
	/* By name: the user's own group unless group says otherwise. */
	c = accept(fill("user = nobody", "", "", "", ""));
	if (c != NULL) {
		CU_ASSERT_EQUAL(c->has_user, 1);
		CU_ASSERT_EQUAL(c->uid, pw->pw_uid);
		CU_ASSERT_EQUAL(c->gid, pw->pw_gid);
		CU_ASSERT_EQUAL(c->n_groups, 0);
	}
	rcpt_cfg_free(c);
	c = accept(fill("group = 7\nuser = nobody\ngroups =", "", "", "", ""));
	if (c != NULL) {
		CU_ASSERT_EQUAL(c->gid, 7); /* given before user: still wins */
		CU_ASSERT_EQUAL(c->n_groups, 0);
		CU_ASSERT_PTR_NULL(c->groups);
	}
	rcpt_cfg_free(c);
	c = accept(fill("user = 4294967294\ngroup = nogroup\ngroups = "
	                "nogroup , 9",
	    "", "", "", ""));
	if (c != NULL) {
		CU_ASSERT_EQUAL(c->uid, 4294967294u);
		CU_ASSERT_EQUAL_FATAL(c->n_groups, 2);
		CU_ASSERT_EQUAL(c->groups[0], c->gid);
		CU_ASSERT_EQUAL(c->groups[1], 9);
	}
	rcpt_cfg_free(c);
	REFUSE(fill("user = 65534", "", "", "", ""),
	    ":3:", "[daemon] group: required when user is a number");
	REFUSE(fill("user = root", "", "", "", ""),
	    ":3:", "[daemon] user: must not be root (0)");
	REFUSE(fill("user = 0", "", "", "", ""), ":3:", "must not be root");
	REFUSE(fill("user = nobody\ngroup = root", "", "", "", ""),
	    ":4:", "[daemon] group: must not be root (0)");
	REFUSE(fill("user = no-such-user-rcpt", "", "", "", ""),
	    ":3:", "[daemon] user: no such user no-such-user-rcpt");
	REFUSE(
	    fill("user = nobody\ngroup = no-such-group-rcpt", "", "", "", ""),
	    ":4:", "no such group no-such-group-rcpt");
	REFUSE(fill("user = a b", "", "", "", ""),
	    ":3:", "[daemon] user: expected a user name");
	REFUSE(fill("user = -x", "", "", "", ""), ":3:", "expected a user");
	REFUSE(fill("user = 4294967295", "", "", "", ""),
	    ":3:", "a number from 1 to 4294967294");
	REFUSE(fill("user = 012", "", "", "", ""), ":3:", "a number");
	REFUSE(fill("group = 7", "", "", "", ""),
	    ":3:", "[daemon] group: needs [daemon] user");
	REFUSE(fill("groups = 7", "", "", "", ""),
	    ":3:", "[daemon] groups: needs [daemon] user");
	REFUSE(fill("user = nobody\ngroups = 7, 7", "", "", "", ""),
	    ":4:", "[daemon] groups: gid 7 is listed twice");
	REFUSE(fill("user = nobody\ngroups = 7,,8", "", "", "", ""),
	    ":4:", "item 2: expected a group name or number");
	REFUSE(fill("user = nobody\ngroups = 7,", "", "", "", ""),
	    ":4:", "item 2");
	REFUSE(fill("user = nobody\ngroups = 7, root", "", "", "", ""),
	    ":4:", "item 2: must not be root");
	REFUSE(
	    fill("user = nobody\ngroups = no-such-group-rcpt", "", "", "", ""),
	    ":4:", "item 1: no such group no-such-group-rcpt");
	/* 32 groups fit, 33 do not. */
	len = (size_t)snprintf(line, sizeof(line), "user = nobody\ngroups =");
	for (i = 0; i < RCPT_CFG_GROUPS_MAX; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len,
		    "%s %zu", i > 0 ? "," : "", 3000 + i);
	c = accept(fill(line, "", "", "", ""));
	if (c != NULL)
		CU_ASSERT_EQUAL(c->n_groups, RCPT_CFG_GROUPS_MAX);
	rcpt_cfg_free(c);
	snprintf(line + len, sizeof(line) - len, ", 9");
	REFUSE(fill(line, "", "", "", ""), ":4:", "more than 32 groups");
	/* seccomp: kill (default) or log, nothing else. */
	c = accept(fill("seccomp = kill", "", "", "", ""));
	if (c != NULL)
		CU_ASSERT_EQUAL(c->seccomp_log, 0);
	rcpt_cfg_free(c);
	REFUSE(fill("seccomp = off", "", "", "", ""),
	    ":3:", "[daemon] seccomp: expected kill or log");
	REFUSE(fill("seccomp = LOG", "", "", "", ""), ":3:", "kill or log");
}

static void
test_provider(void)
{
	static char config[RCPT_CFG_PROVIDER_CONFIG_MAX + 32];
	struct rcpt_cfg *c;
	size_t len;

	REFUSE("[daemon]\norigin = o\n[provider]\nconfig = x\n[chain c]\n",
	    NAME ": [provider] name: required");
	REFUSE("[daemon]\norigin = o\n[provider]\nname = x\n[chain c]\n",
	    NAME ": [provider] config: required");
	REFUSE("[daemon]\norigin = o\n[provider]\nname = x\nconfig = y\n",
	    NAME ": no [chain NAME] section");
	REFUSE("[daemon]\norigin = o\n[provider]\nname = Bad Name\n",
	    ":4:", "[provider] name: expected software, a plugin name");
	REFUSE("[daemon]\norigin = o\n[provider]\nname = a/b\n",
	    ":4:", "[provider] name");
	REFUSE("[daemon]\norigin = o\n[provider]\n"
	       "name = abcdefghijklmnopqrstuvwxyz0123456\n",
	    ":4:", "[provider] name");
	REFUSE("[daemon]\norigin = o\n[provider]\nname = software\n"
	       "config = k\n[chain c]\n",
	    NAME ":4: [provider] name: the software provider is refused");
	REFUSE(fill("", "providers_dir =", "", "", ""),
	    ":7:", "[provider] providers_dir: expected a path");
	REFUSE("[daemon]\norigin = o\n[provider]\nconfig = \x01\n",
	    ":4:", "[provider] config: expected 1 to 4096 bytes");

	c = accept("[daemon]\norigin = o\n[provider]\n"
	           "name = /usr/lib/receiptd/provider-x.so\nconfig = x\n"
	           "[chain c]\n");
	if (c != NULL)
		CU_ASSERT_STRING_EQUAL(
		    c->provider, "/usr/lib/receiptd/provider-x.so");
	rcpt_cfg_free(c);

	/* Far longer than the line inih reads: the value is taken whole. */
	len = (size_t)snprintf(config, sizeof(config), "config = ");
	memset(config + len, 'k', RCPT_CFG_PROVIDER_CONFIG_MAX);
	config[len + RCPT_CFG_PROVIDER_CONFIG_MAX] = '\0';
	c = accept("[daemon]\norigin = o\n[provider]\nname = plugin_1-x\n"
	           "config = c\n[chain c]\n");
	if (c != NULL)
		CU_ASSERT_STRING_EQUAL(c->provider, "plugin_1-x");
	rcpt_cfg_free(c);
	{
		char text[sizeof(config) + 128];

		snprintf(text, sizeof(text),
		    "[daemon]\norigin = o\n[provider]\nname = p\n%s  \n"
		    "[chain c]\n",
		    config);
		c = accept(text);
		if (c != NULL) {
			CU_ASSERT_EQUAL(strlen(c->provider_config),
			    RCPT_CFG_PROVIDER_CONFIG_MAX);
			CU_ASSERT_EQUAL(c->provider_config[0], 'k');
		}
		rcpt_cfg_free(c);
		/* A value starting beyond inih's buffer. */
		snprintf(text, sizeof(text),
		    "[daemon]\norigin = o\n[provider]\nname = p\n"
		    "config =%300s\n[chain c]\n",
		    "v;x");
		c = accept(text);
		if (c != NULL)
			CU_ASSERT_STRING_EQUAL(c->provider_config, "v;x");
		rcpt_cfg_free(c);
		snprintf(text, sizeof(text),
		    "[daemon]\norigin = o\n[provider]\nname = p\n%sk\n"
		    "[chain c]\n",
		    config);
		REFUSE(text, ":5:", "[provider] config: expected 1 to 4096");
	}
}

static void
test_limits(void)
{
	struct rcpt_cfg *c;

	REFUSE(fill("", "", "", "", "[limits]\ndepth = 0\n"),
	    ":15:", "[limits] depth: expected an integer from 1 to 256");
	REFUSE(fill("", "", "", "", "[limits]\ndepth = 257\n"),
	    ":15:", "[limits] depth: expected an integer from 1 to 256");
	REFUSE(fill("", "", "", "", "[limits]\ndepth = 064\n"),
	    ":15:", "[limits] depth");
	REFUSE(fill("", "", "", "", "[limits]\ntags = 33\n"),
	    ":15:", "[limits] tags: expected an integer from 0 to 32");
	REFUSE(fill("", "", "", "", "[limits]\nbatch = 0\n"),
	    ":15:", "[limits] batch: expected an integer from 1 to 65536");
	REFUSE(fill("", "", "", "", "[limits]\nbatch = 65537\n"),
	    ":15:", "[limits] batch");
	REFUSE(fill("", "", "", "", "[limits]\nbatch_wait = 2\n"),
	    ":15:", "[limits] batch_wait: expected 0, or a number of ms or us");
	REFUSE(fill("", "", "", "", "[limits]\nbatch_wait = 1001 ms\n"),
	    ":15:", "[limits] batch_wait: expected 0");
	REFUSE(fill("", "", "", "", "[limits]\nbatch_wait = 2 s\n"),
	    ":15:", "[limits] batch_wait");
	REFUSE(fill("", "", "", "", "[limits]\nbatch_wait = -1 ms\n"),
	    ":15:", "[limits] batch_wait");
	REFUSE(fill("", "", "", "", "[limits]\nconnections = 0\n"),
	    ":15:", "[limits] connections");
	REFUSE(fill("", "", "", "", "[limits]\ndata_max = 0\n"),
	    ":15:", "[limits] data_max: expected a size from 1 to 64M");
	REFUSE(fill("", "", "", "", "[limits]\ndata_max = 65M\n"),
	    ":15:", "[limits] data_max");
	REFUSE(fill("", "", "", "", "[limits]\ndata_max = 67108865\n"),
	    ":15:", "[limits] data_max");
	c = accept(fill("", "", "", "",
	    "[limits]\ndata_max = 64M\ndepth = 256\ntags = 32\n"));
	if (c != NULL) {
		CU_ASSERT_EQUAL(c->data_max, (size_t)64 << 20);
		CU_ASSERT_EQUAL(c->depth, 256);
	}
	rcpt_cfg_free(c);
	c = accept(fill("", "", "", "", "[limits]\ndata_max = 1\ndepth = 1\n"));
	if (c != NULL) {
		CU_ASSERT_EQUAL(c->data_max, 1);
		CU_ASSERT_EQUAL(c->depth, 1);
	}
	rcpt_cfg_free(c);
	c = accept(fill("", "", "", "", "[limits]\nbatch_wait = 500us\n"));
	if (c != NULL)
		CU_ASSERT_EQUAL(c->batch_wait_us, 500);
	rcpt_cfg_free(c);
	c = accept(fill("", "", "", "", "[limits]\nbatch_wait = 1000 ms\n"));
	if (c != NULL)
		CU_ASSERT_EQUAL(c->batch_wait_us, 1000000);
	rcpt_cfg_free(c);
	c = accept(fill("", "", "", "", "[limits]\nbatch_wait = 0\n"));
	if (c != NULL)
		CU_ASSERT_EQUAL(c->batch_wait_us, 0);
	rcpt_cfg_free(c);
}

static void
test_principals(void)
{
	char line[1024];
	struct rcpt_cfg *c;
	size_t len, i;

	REFUSE(fill("", "", "receiptd = uid:5", "", ""),
	    ":10:", "[principals] receiptd: reserved");
	REFUSE(fill("", "", "ReceiptD = uid:5", "", ""), ":10:", "reserved");
	REFUSE(fill("", "", "bob = uid:1000", "", ""),
	    ":10:", "[principals] bob: uid 1000 is also mapped to alice");
	REFUSE("[daemon]\norigin = o\n[principals]\na = gid:7\nb = uid:7, "
	       "gid:7\n",
	    ":5:", "[principals] b: gid 7 is also mapped to a");
	REFUSE(fill("", "", "bob = uid:1, uid:1", "", ""),
	    ":10:", "[principals] bob: uid 1 is listed twice");
	REFUSE(fill("", "", "alice = uid:1", "", ""),
	    ":10:", "[principals] alice: given twice (first on line 9)");
	REFUSE(fill("", "", "bob = uid:1,,uid:2", "", ""),
	    ":10:", "[principals] bob: item 2 is empty");
	REFUSE(fill("", "", "bob = uid:1,", "", ""), ":10:", "item 2 is empty");
	REFUSE(fill("", "", "bob =", "", ""),
	    ":10:", "[principals] bob:", "expected a list");
	REFUSE(fill("", "", "bob = root", "", ""),
	    ":10:", "item 1: expected uid:N, gid:N, user:LOGIN or group:NAME");
	REFUSE(fill("", "", "bob = uid:x", "", ""),
	    ":10:", "item 1: expected a number");
	REFUSE(fill("", "", "bob = uid:4294967295", "", ""), ":10:", "uid:");
	REFUSE(fill("", "", "bob = uid: 5", "", ""), ":10:", "item 1");
	REFUSE(fill("", "", "bob = user:no-such-user-rcpt", "", ""),
	    ":10:", "[principals] bob: no such user no-such-user-rcpt");
	REFUSE(fill("", "", "bob = group:no-such-group-rcpt", "", ""),
	    ":10:", "no such group no-such-group-rcpt");
	REFUSE(fill("", "", "bob = user:a b", "", ""),
	    ":10:", "item 1: expected a user name");
	REFUSE(fill("", "", "bo b = uid:5", "", ""),
	    ":10:", "a principal name must be 1 to 64 bytes");
	REFUSE(fill("", "", "bob/x = uid:5", "", ""), ":10:", "principal name");
	memset(line, 'p', 65);
	snprintf(line + 65, sizeof(line) - 65, " = uid:5");
	REFUSE(fill("", "", line, "", ""), ":10:", "principal name");

	/* 64-byte names, and @ . - _ in them. */
	memset(line, 'p', 64);
	snprintf(line + 64, sizeof(line) - 64, " = uid:5");
	c = accept(fill("", "", line, "", ""));
	if (c != NULL)
		CU_ASSERT_EQUAL(strlen(c->principals[1].name), 64);
	rcpt_cfg_free(c);
	c = accept(
	    fill("", "", "svc@host.example_1-a = uid:4294967294", "", ""));
	if (c != NULL) {
		CU_ASSERT_STRING_EQUAL(
		    c->principals[1].name, "svc@host.example_1-a");
		CU_ASSERT_EQUAL(c->principals[1].ids[0].id, 4294967294u);
	}
	rcpt_cfg_free(c);

	/* 64 ids fit (on a line longer than inih's buffer); 65 do not. */
	len = (size_t)snprintf(line, sizeof(line), "many =");
	for (i = 0; i < RCPT_CFG_IDS_MAX; i++)
		len += (size_t)snprintf(line + len, sizeof(line) - len,
		    "%s uid:%zu", i > 0 ? "," : "", 5000 + i);
	c = accept(fill("", "", line, "", ""));
	if (c != NULL) {
		CU_ASSERT_EQUAL(c->principals[1].n_ids, RCPT_CFG_IDS_MAX);
		CU_ASSERT_EQUAL(c->principals[1].ids[63].id, 5063);
	}
	rcpt_cfg_free(c);
	snprintf(line + len, sizeof(line) - len, ", gid:1");
	REFUSE(fill("", "", line, "", ""), ":10:", "[principals] many",
	    "more than 64 items");
}

static void
test_chains(void)
{
	char name[80], text[512];
	struct rcpt_cfg *c;
	int i;

	REFUSE(fill("", "", "", "read = alice, bob", ""),
	    NAME ":13:", "[chain c] read: unknown principal bob");
	REFUSE(fill("", "", "", "admin = alice,", ""),
	    ":13:", "[chain c] admin: item 2 is empty");
	REFUSE(fill("", "", "", "read = alice, alice", ""),
	    ":13:", "[chain c] read: lists alice twice");
	REFUSE(fill("", "", "", "read = alice ; bob", ""),
	    ":13:", "comments go on lines of their own");
	REFUSE(fill("", "", "", "read = alice #bob", ""), ":13:", "comments");
	REFUSE(fill("", "", "", "read =#alice", ""),
	    ":13:", "[chain c] read: a value may not start with ; or #");
	REFUSE(fill("", "", "", "read =;alice", ""), ":13:", "read: a value");
	REFUSE(fill("", "", "", "retention = 6 weeks", ""), ":13:",
	    "[chain c] retention: expected none, N days, N months or N years");
	REFUSE(fill("", "", "", "retention = 0 days", ""), ":13:", "retention");
	REFUSE(fill("", "", "", "retention = 1001 years", ""),
	    ":13:", "retention");
	REFUSE(
	    fill("", "", "", "retention = 6months", ""), ":13:", "retention");
	REFUSE(fill("", "", "", "retention = 6m", ""), ":13:", "retention");
	REFUSE(
	    fill("", "", "", "retention = -6 days", ""), ":13:", "retention");
	REFUSE(fill("", "", "", "checkpoint_every = 4294967297", ""), ":13:",
	    "[chain c] checkpoint_every: expected an integer from 0 to "
	    "4294967296");
	REFUSE(fill("", "", "", "checkpoint_interval = 25h", ""), ":13:",
	    "[chain c] checkpoint_interval: expected 0 (off) or seconds");
	REFUSE(fill("", "", "", "checkpoint_interval = 86401", ""),
	    ":13:", "checkpoint_interval");
	REFUSE(fill("", "", "", "checkpoint_interval = 1d", ""),
	    ":13:", "checkpoint_interval");
	REFUSE(fill("", "", "", "checkpoint_interval = s", ""),
	    ":13:", "checkpoint_interval");

	c = accept(fill("", "", "", "retention = 6 months", ""));
	if (c != NULL) {
		CU_ASSERT_EQUAL(c->chains[0].retention_n, 6);
		CU_ASSERT_EQUAL(c->chains[0].retention_unit, 'm');
	}
	rcpt_cfg_free(c);
	c = accept(fill("", "", "", "retention = 1 Year", ""));
	if (c != NULL) {
		CU_ASSERT_EQUAL(c->chains[0].retention_n, 1);
		CU_ASSERT_EQUAL(c->chains[0].retention_unit, 'y');
	}
	rcpt_cfg_free(c);
	c = accept(fill("", "", "", "retention = 1000\tdays", ""));
	if (c != NULL) {
		CU_ASSERT_EQUAL(c->chains[0].retention_n, 1000);
		CU_ASSERT_EQUAL(c->chains[0].retention_unit, 'd');
	}
	rcpt_cfg_free(c);
	c = accept(fill("", "", "", "checkpoint_interval = 0", ""));
	if (c != NULL)
		CU_ASSERT_EQUAL(c->chains[0].checkpoint_interval_ms, 0);
	rcpt_cfg_free(c);
	c = accept(fill("", "", "", "checkpoint_interval = 24h", ""));
	if (c != NULL)
		CU_ASSERT_EQUAL(c->chains[0].checkpoint_interval_ms, 86400000);
	rcpt_cfg_free(c);
	c = accept(fill("", "", "", "checkpoint_every = 0", ""));
	if (c != NULL)
		CU_ASSERT_EQUAL(c->chains[0].checkpoint_every, 0);
	rcpt_cfg_free(c);
	/* An empty list grants nothing. */
	c = accept(fill("", "", "", "read =", ""));
	if (c != NULL)
		CU_ASSERT_EQUAL(c->chains[0].rights[0], RCPT_RIGHT_APPEND);
	rcpt_cfg_free(c);

	/* A 64-byte name: far more than inih keeps of a section name. */
	memset(name, 'n', 64);
	name[64] = '\0';
	snprintf(text, sizeof(text),
	    "[daemon]\norigin = o\n[provider]\nname = "
	    "p\nconfig = c\n[chain %s]\n[chain %.63sm]\n",
	    name, name);
	c = accept(text);
	if (c != NULL) {
		CU_ASSERT_EQUAL(c->n_chains, 2);
		CU_ASSERT_PTR_NOT_NULL(rcpt_cfg_chain(c, name));
		CU_ASSERT_STRING_EQUAL(c->chains[0].name, name);
	}
	rcpt_cfg_free(c);
	snprintf(
	    text, sizeof(text), "[daemon]\norigin = o\n[chain %sn]\n", name);
	REFUSE(text, NAME ":3:", "chain name must match");

	/* At most 64 chains. */
	{
		static char many[8192];
		size_t len = (size_t)snprintf(many, sizeof(many),
		    "[daemon]\norigin = o\n[provider]\nname = p\nconfig = c\n");

		for (i = 0; i < RCPT_CFG_CHAINS_MAX; i++)
			len += (size_t)snprintf(
			    many + len, sizeof(many) - len, "[chain c%d]\n", i);
		c = accept(many);
		if (c != NULL)
			CU_ASSERT_EQUAL(c->n_chains, RCPT_CFG_CHAINS_MAX);
		rcpt_cfg_free(c);
		snprintf(many + len, sizeof(many) - len, "[chain last]\n");
		REFUSE(many, ":70:", "[chain last]", "more than 64 chains");
	}
}

static void
test_syntax(void)
{
	struct rcpt_cfg *c;
	static const char nul[] = "[daemon]\norigin = o\nsocket = /a\0b\n";

	/* A byte order mark, CRLF, indentation, blank lines, : and ;. */
	c = accept(
	    "\xef\xbb\xbf[daemon]\r\n"
	    "  origin: receipts.example/x\r\n"
	    "\r\n"
	    "\t; indented comment\r\n"
	    "   [ provider ]   \r\n"
	    "\tname=p\r\n"
	    "\tconfig =   module=m;token=pkcs11:token=a;pin-file=/p   \r\n"
	    "[chain   c]\r\n"
	    "# done");
	if (c != NULL) {
		CU_ASSERT_STRING_EQUAL(c->origin, "receipts.example/x");
		CU_ASSERT_STRING_EQUAL(c->provider_config,
		    "module=m;token=pkcs11:token=a;pin-file=/p");
		CU_ASSERT_STRING_EQUAL(c->chains[0].name, "c");
	}
	rcpt_cfg_free(c);

	{
		struct rcpt_diag d;

		c = (struct rcpt_cfg *)&c;
		rcpt_diag_clear(&d);
		CU_ASSERT_EQUAL(
		    rcpt_cfg_parse(nul, sizeof(nul) - 1, NAME, NULL, &c, &d),
		    RCPT_E_CONFIG);
		CU_ASSERT_PTR_NULL(c);
		CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, NAME ":3:"));
		CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "NUL byte"));

		/* Relative paths need the file's directory. */
		rcpt_diag_clear(&d);
		c = NULL;
		CU_ASSERT_EQUAL(rcpt_cfg_parse("[daemon]\nstore = db\n", 20,
		                    NAME, NULL, &c, &d),
		    RCPT_E_CONFIG);
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(d.msg, NAME ":2: [daemon] store: a relative path"));

		CU_ASSERT_EQUAL(rcpt_cfg_parse(NULL, 1, NAME, NULL, &c, NULL),
		    RCPT_E_INVAL);
		CU_ASSERT_EQUAL(rcpt_cfg_parse("", 0, NAME, NULL, NULL, NULL),
		    RCPT_E_INVAL);
		rcpt_diag_clear(&d);
		CU_ASSERT_EQUAL(rcpt_cfg_parse("", RCPT_CFG_FILE_MAX + 1, NAME,
		                    NULL, &c, &d),
		    RCPT_E_CONFIG);
		CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "larger than"));
	}
}

/* Writes @p text to @p name in the scratch dir with @p mode. */
static const char *
put(const char *name, const char *text, mode_t mode)
{
	const char *path = rcpt_test_path(tmp, name);

	CU_ASSERT_EQUAL(rcpt_test_write_file(path, text, strlen(text)), 0);
	CU_ASSERT_EQUAL(chmod(path, mode), 0);
	return path;
}

static void
test_load(void)
{
	struct rcpt_cfg *c = NULL;
	struct rcpt_diag d;
	char want[4096], cwd[4096];
	const char *path;
	int r;

	path = put("ok.conf", FULL, 0600);
	rcpt_diag_clear(&d);
	r = rcpt_cfg_load(path, &c, &d);
	CU_ASSERT_EQUAL(r, RCPT_OK);
	if (c != NULL) {
		CU_ASSERT_STRING_EQUAL(c->path, path);
		snprintf(want, sizeof(want), "%s/db", tmp);
		CU_ASSERT_STRING_EQUAL(c->store_path, want);
		snprintf(want, sizeof(want), "%s/plugins", tmp);
		CU_ASSERT_STRING_EQUAL(c->providers_dir, want);
	}
	rcpt_cfg_free(c);

	/* A relative file name: its directory is made absolute. */
	CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof(cwd)));
	CU_ASSERT_EQUAL_FATAL(chdir(tmp), 0);
	r = rcpt_cfg_load("ok.conf", &c, &d);
	CU_ASSERT_EQUAL(r, RCPT_OK);
	if (c != NULL) {
		snprintf(want, sizeof(want), "%s/db", tmp);
		CU_ASSERT_STRING_EQUAL(c->store_path, want);
	}
	rcpt_cfg_free(c);
	CU_ASSERT_EQUAL_FATAL(chdir(cwd), 0);

	path = put("ww.conf", FULL, 0606);
	rcpt_diag_clear(&d);
	c = (struct rcpt_cfg *)&c;
	CU_ASSERT_EQUAL(rcpt_cfg_load(path, &c, &d), RCPT_E_CONFIG);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "writable by group or others"));
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, path));
	path = put("gw.conf", FULL, 0660);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_cfg_load(path, &c, &d), RCPT_E_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "writable by group or others"));
	path = put("ro.conf", FULL, 0444);
	CU_ASSERT_EQUAL(rcpt_cfg_load(path, &c, NULL), RCPT_OK);
	rcpt_cfg_free(c);

	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_cfg_load(tmp, &c, &d), RCPT_E_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "not a regular file"));
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(
	    rcpt_cfg_load(rcpt_test_path(tmp, "none.conf"), &c, &d), RCPT_E_IO);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "none.conf: cannot open"));
	CU_ASSERT_EQUAL(rcpt_cfg_load(NULL, &c, NULL), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_cfg_load(path, NULL, NULL), RCPT_E_INVAL);

	/* Errors in a loaded file name the file's path and the line. */
	path = put("bad.conf", "[daemon]\norigin = o\n[nope]\n", 0600);
	rcpt_diag_clear(&d);
	CU_ASSERT_EQUAL(rcpt_cfg_load(path, &c, &d), RCPT_E_CONFIG);
	snprintf(want, sizeof(want), "%s:3: [nope]: unknown section", path);
	CU_ASSERT_EQUAL(strncmp(d.msg, want, strlen(want)), 0);

	/* Too large: one byte over the cap. */
	{
		char *big = malloc(RCPT_CFG_FILE_MAX + 2);

		CU_ASSERT_PTR_NOT_NULL_FATAL(big);
		memset(big, '#', RCPT_CFG_FILE_MAX + 1);
		big[RCPT_CFG_FILE_MAX + 1] = '\0';
		path = put("big.conf", big, 0600);
		rcpt_diag_clear(&d);
		CU_ASSERT_EQUAL(rcpt_cfg_load(path, &c, &d), RCPT_E_CONFIG);
		CU_ASSERT_PTR_NOT_NULL(strstr(d.msg, "larger than 1048576"));
		free(big);
	}
}

static void
test_principal_of(void)
{
	struct rcpt_cfg *c =
	    accept("[daemon]\norigin = o\n[provider]\nname = p\nconfig = c\n"
	           "[principals]\n"
	           "staff = gid:100\n"
	           "alice = uid:1000\n"
	           "ops = gid:300, gid:301\n"
	           "audit = gid:200\n"
	           "[chain c]\n");
	gid_t groups[] = {7, 200, 301};

	if (c == NULL)
		return;
	/* A uid wins over a gid listed by an earlier principal. */
	CU_ASSERT_EQUAL(rcpt_cfg_principal_of(c, 1000, 100, NULL, 0), 1);
	CU_ASSERT_EQUAL(rcpt_cfg_principal_of(c, 1000, 9, groups, 3), 1);
	CU_ASSERT_EQUAL(rcpt_cfg_principal_of(c, 5, 100, NULL, 0), 0);
	/* Supplementary groups, the first principal in file order. */
	CU_ASSERT_EQUAL(rcpt_cfg_principal_of(c, 5, 9, groups, 1), -1);
	CU_ASSERT_EQUAL(rcpt_cfg_principal_of(c, 5, 9, groups, 2), 3);
	CU_ASSERT_EQUAL(rcpt_cfg_principal_of(c, 5, 9, groups, 3), 2);
	CU_ASSERT_EQUAL(rcpt_cfg_principal_of(c, 5, 200, groups, 3), 2);
	CU_ASSERT_EQUAL(rcpt_cfg_principal_of(c, 5, 100, groups, 3), 0);
	/* Unknown callers. */
	CU_ASSERT_EQUAL(rcpt_cfg_principal_of(c, 5, 9, NULL, 0), -1);
	CU_ASSERT_EQUAL(rcpt_cfg_principal_of(c, 100, 1000, NULL, 0), -1);
	CU_ASSERT_EQUAL(rcpt_cfg_principal_of(c, 5, 9, NULL, 3), -1);
	CU_ASSERT_EQUAL(rcpt_cfg_principal_of(NULL, 1000, 9, NULL, 0), -1);
	rcpt_cfg_free(c);
}

static void
test_may(void)
{
	struct rcpt_cfg *c = accept(
	    "[daemon]\norigin = o\n[provider]\nname = p\nconfig = c\n"
	    "[chain c]\nappend = a\nread = a, b\nadmin = ops\n"
	    "[chain d]\nread = ops\n"
	    "[principals]\na = uid:1\nb = uid:2\nops = uid:3\nnone = uid:4\n");
	const struct rcpt_cfg_chain *ch, *dh;

	if (c == NULL)
		return;
	ch = rcpt_cfg_chain(c, "c");
	dh = rcpt_cfg_chain(c, "d");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dh);
	CU_ASSERT_EQUAL(rcpt_cfg_may(c, ch, 0, RCPT_RIGHT_APPEND), 1);
	CU_ASSERT_EQUAL(rcpt_cfg_may(c, ch, 0, RCPT_RIGHT_READ), 1);
	CU_ASSERT_EQUAL(
	    rcpt_cfg_may(c, ch, 0, RCPT_RIGHT_APPEND | RCPT_RIGHT_READ), 1);
	CU_ASSERT_EQUAL(rcpt_cfg_may(c, ch, 0, RCPT_RIGHT_ADMIN), 0);
	CU_ASSERT_EQUAL(rcpt_cfg_may(c, ch, 1, RCPT_RIGHT_READ), 1);
	CU_ASSERT_EQUAL(rcpt_cfg_may(c, ch, 1, RCPT_RIGHT_APPEND), 0);
	CU_ASSERT_EQUAL(
	    rcpt_cfg_may(c, ch, 1, RCPT_RIGHT_APPEND | RCPT_RIGHT_READ), 0);
	/* Admin implies neither append nor read. */
	CU_ASSERT_EQUAL(rcpt_cfg_may(c, ch, 2, RCPT_RIGHT_ADMIN), 1);
	CU_ASSERT_EQUAL(rcpt_cfg_may(c, ch, 2, RCPT_RIGHT_READ), 0);
	CU_ASSERT_EQUAL(rcpt_cfg_may(c, ch, 2, RCPT_RIGHT_APPEND), 0);
	CU_ASSERT_EQUAL(rcpt_cfg_may(c, dh, 2, RCPT_RIGHT_READ), 1);
	CU_ASSERT_EQUAL(rcpt_cfg_may(c, dh, 0, RCPT_RIGHT_READ), 0);
	CU_ASSERT_EQUAL(rcpt_cfg_may(c, ch, 3, RCPT_RIGHT_READ), 0);
	/* Unknown callers, no rights asked and bad handles. */
	CU_ASSERT_EQUAL(rcpt_cfg_may(c, ch, -1, RCPT_RIGHT_READ), 0);
	CU_ASSERT_EQUAL(rcpt_cfg_may(c, ch, 4, RCPT_RIGHT_READ), 0);
	CU_ASSERT_EQUAL(rcpt_cfg_may(c, ch, 0, 0), 0);
	CU_ASSERT_EQUAL(rcpt_cfg_may(c, ch, 0, 8), 0);
	CU_ASSERT_EQUAL(rcpt_cfg_may(c, NULL, 0, RCPT_RIGHT_READ), 0);
	CU_ASSERT_EQUAL(rcpt_cfg_may(NULL, ch, 0, RCPT_RIGHT_READ), 0);
	CU_ASSERT_EQUAL(
	    rcpt_cfg_may(c, ch, rcpt_cfg_principal_of(c, 99, 99, NULL, 0),
	        RCPT_RIGHT_READ),
	    0);
	rcpt_cfg_free(c);
}

/* Milliseconds of a UTC date and time. */
static int64_t
ms_of(int y, int mo, int d, int h, int mi, int s, int ms)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

static void
cutoff(unsigned n, char unit, int64_t now, const char *want)
{
	struct rcpt_cfg_chain ch;
	char out[RCPT_TS_LEN + 1];

	memset(&ch, 0, sizeof(ch));
	ch.retention_n = n;
	ch.retention_unit = unit;
	CU_ASSERT_EQUAL(rcpt_cfg_retention_cutoff(&ch, now, out), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(out, want);
}

static void
test_retention(void)
{
	struct rcpt_cfg_chain ch;
	char out[RCPT_TS_LEN + 1];

	cutoff(1, 'm', ms_of(2026, 3, 31, 12, 0, 0, 0),
	    "2026-02-28T12:00:00.000Z");
	cutoff(1, 'm', ms_of(2024, 3, 31, 12, 0, 0, 0),
	    "2024-02-29T12:00:00.000Z");
	cutoff(
	    1, 'y', ms_of(2024, 2, 29, 0, 0, 0, 0), "2023-02-28T00:00:00.000Z");
	cutoff(
	    4, 'y', ms_of(2024, 2, 29, 0, 0, 0, 0), "2020-02-29T00:00:00.000Z");
	cutoff(2, 'm', ms_of(2026, 1, 15, 23, 59, 59, 999),
	    "2025-11-15T23:59:59.999Z");
	cutoff(12, 'm', ms_of(2026, 5, 31, 1, 2, 3, 4),
	    "2025-05-31T01:02:03.004Z");
	cutoff(13, 'm', ms_of(2026, 5, 31, 1, 2, 3, 4),
	    "2025-04-30T01:02:03.004Z");
	cutoff(
	    6, 'm', ms_of(2026, 8, 31, 0, 0, 0, 0), "2026-02-28T00:00:00.000Z");
	cutoff(30, 'd', ms_of(2026, 3, 1, 0, 0, 0, 123),
	    "2026-01-30T00:00:00.123Z");
	cutoff(
	    1, 'd', ms_of(2024, 3, 1, 6, 0, 0, 0), "2024-02-29T06:00:00.000Z");
	cutoff(1000, 'y', ms_of(2026, 1, 1, 0, 0, 0, 0),
	    "1026-01-01T00:00:00.000Z");
	cutoff(1000, 'm', 0, "1886-09-01T00:00:00.000Z");
	cutoff(1, 'y', 253402300799999LL, "9998-12-31T23:59:59.999Z");

	memset(&ch, 0, sizeof(ch));
	memcpy(out, "x", 2);
	CU_ASSERT_EQUAL(rcpt_cfg_retention_cutoff(&ch, 0, out), RCPT_OK);
	CU_ASSERT_STRING_EQUAL(out, "");
	ch.retention_n = 1;
	ch.retention_unit = 'd';
	CU_ASSERT_EQUAL(rcpt_cfg_retention_cutoff(&ch, -1, out), RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_cfg_retention_cutoff(&ch, 253402300800000LL, out),
	    RCPT_E_INVAL);
	CU_ASSERT_EQUAL(rcpt_cfg_retention_cutoff(NULL, 0, out), RCPT_E_INVAL);
	ch.retention_unit = 'w';
	CU_ASSERT_EQUAL(rcpt_cfg_retention_cutoff(&ch, 0, out), RCPT_E_INVAL);
}

/* The summary is itself a configuration that reads back the same. */
static void
test_print(void)
{
	struct rcpt_cfg *c = accept(FULL), *c2 = NULL;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;

	if (c == NULL)
		return;
	f = open_memstream(&text, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	rcpt_cfg_print(c, f);
	rcpt_cfg_print(NULL, f);
	CU_ASSERT_EQUAL(fclose(f), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "[chain inference]\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "read = gw, auditors\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "admin = ops\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "ops = uid:0\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "retention = 6 months\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "checkpoint_interval = 300s\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "socket_mode = 0600\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "user = 65534\ngroup = 65533\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "groups = 65532, 65531\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "seccomp = log\n"));
	c2 = accept(text);
	if (c2 != NULL) {
		CU_ASSERT_STRING_EQUAL(c2->store_path, c->store_path);
		CU_ASSERT_STRING_EQUAL(c2->providers_dir, c->providers_dir);
		CU_ASSERT_EQUAL(c2->map_max, c->map_max);
		CU_ASSERT_EQUAL(c2->production, c->production);
		CU_ASSERT_EQUAL(c2->socket_mode, c->socket_mode);
		CU_ASSERT_EQUAL(c2->tags_max, c->tags_max);
		CU_ASSERT_EQUAL(c2->uid, c->uid);
		CU_ASSERT_EQUAL(c2->gid, c->gid);
		CU_ASSERT_EQUAL_FATAL(c2->n_groups, c->n_groups);
		CU_ASSERT_EQUAL(memcmp(c2->groups, c->groups,
		                    c->n_groups * sizeof(*c->groups)),
		    0);
		CU_ASSERT_EQUAL(c2->seccomp_log, c->seccomp_log);
		CU_ASSERT_EQUAL(c2->n_principals, c->n_principals);
		CU_ASSERT_EQUAL_FATAL(c2->n_chains, c->n_chains);
		for (i = 0; i < c->n_chains; i++) {
			CU_ASSERT_EQUAL(
			    c2->chains[i].sealing, c->chains[i].sealing);
			CU_ASSERT_EQUAL(c2->chains[i].retention_unit,
			    c->chains[i].retention_unit);
			CU_ASSERT_EQUAL(c2->chains[i].checkpoint_every,
			    c->chains[i].checkpoint_every);
			CU_ASSERT_EQUAL(c2->chains[i].checkpoint_interval_ms,
			    c->chains[i].checkpoint_interval_ms);
			CU_ASSERT_EQUAL(
			    memcmp(c2->chains[i].rights, c->chains[i].rights,
			        c->n_principals * sizeof(unsigned)),
			    0);
		}
	}
	rcpt_cfg_free(c2);
	rcpt_cfg_free(c);
	free(text);
}

/* conf/receiptd.conf, two levels above the vectors. */
static void
test_sample(void)
{
	char path[4200], dir[4096];
	static const char *const names[] = {
	    "inference", "access", "agents", "clinical"};
	const struct rcpt_cfg_chain *ch;
	struct rcpt_cfg *c = NULL;
	struct rcpt_diag d;
	size_t len, i;
	char *text;
	int ops, r;

	snprintf(dir, sizeof(dir), "%s/../../conf", rcpt_test_vectors_dir());
	snprintf(path, sizeof(path), "%s/receiptd.conf", dir);
	text = rcpt_test_read_file(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	rcpt_diag_clear(&d);
	r = rcpt_cfg_parse(text, len, path, dir, &c, &d);
	CU_ASSERT_EQUAL(r, RCPT_OK);
	if (r != RCPT_OK)
		fprintf(stderr, "\n  %s\n", rcpt_diag_msg(&d, r));
	free(text);
	if (c == NULL)
		return;
	CU_ASSERT_STRING_EQUAL(c->socket_path, "/run/receiptd/receiptd.sock");
	CU_ASSERT_STRING_EQUAL(c->store_path, "/var/lib/receiptd");
	CU_ASSERT_EQUAL(c->production, 1);
	CU_ASSERT_STRING_EQUAL(c->provider, "pkcs11");
	CU_ASSERT_PTR_NOT_NULL(strstr(c->provider_config, "pin-file=/etc/"));
	CU_ASSERT_EQUAL_FATAL(c->n_chains, 4);
	ops = index_of(c, "operators");
	CU_ASSERT(ops >= 0);
	for (i = 0; i < 4; i++) {
		ch = rcpt_cfg_chain(c, names[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
		CU_ASSERT_EQUAL(rcpt_cfg_may(c, ch, ops, RCPT_RIGHT_ADMIN), 1);
		CU_ASSERT_NOT_EQUAL(ch->retention_unit, 0);
	}
	CU_ASSERT_EQUAL(
	    rcpt_cfg_chain(c, "agents")->sealing, RCPT_SEALING_BATCH);
	rcpt_cfg_free(c);
}

/* Every allocation may fail: NOMEM each time, nothing leaked. */
static void
test_nomem(void)
{
	struct rcpt_cfg *c = NULL;
	const char *path = put("oom.conf", FULL, 0600);
	long n;
	int r = RCPT_E_NOMEM, fails = 0;

	for (n = 0; n < 10000 && r == RCPT_E_NOMEM; n++) {
		rcpt_mem_fail_after(n);
		r = rcpt_cfg_load(path, &c, NULL);
		rcpt_mem_fail_after(-1);
		if (r == RCPT_E_NOMEM) {
			CU_ASSERT_PTR_NULL(c);
			fails++;
		}
	}
	CU_ASSERT_EQUAL(r, RCPT_OK);
	CU_ASSERT(fails > 10);
	rcpt_cfg_free(c);
}

static CU_TestInfo tests[] = {
    {"a full file, values and defaults", test_full},
    {"defaults of an almost empty file", test_defaults},
    {"sections: unknown, repeated, bad chain names", test_sections},
    {"keys: unknown and repeated; values never shown", test_keys},
    {"[daemon] rules", test_daemon},
    {"[daemon] user, group, groups, seccomp", test_account},
    {"[provider] rules and long lines", test_provider},
    {"[limits] ranges", test_limits},
    {"[principals] names, ids, lookups, ambiguity", test_principals},
    {"[chain] lists, retention, checkpoints, 64-byte names", test_chains},
    {"lines: BOM, CRLF, indentation, NUL, sizes", test_syntax},
    {"rcpt_cfg_load file checks", test_load},
    {"principal_of: uid first, then groups in file order", test_principal_of},
    {"may: exact rights", test_may},
    {"retention cutoff in calendar months and years", test_retention},
    {"print reads back as the same configuration", test_print},
    {"the sample conf/receiptd.conf loads", test_sample},
    {"allocation failures", test_nomem},
    CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
    {.pName = "config",
        .pInitFunc = setup,
        .pCleanupFunc = teardown,
        .pTests = tests},
    CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return rcpt_test_run(suites);
}
