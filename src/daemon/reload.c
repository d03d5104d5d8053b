/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SIGHUP: principals and rights are read again from the configuration
 * file, without dropping a connection.  Everything else (socket, store,
 * provider, the daemon's user and seccomp mode, limits, the set of
 * chains with their sealing, retention and checkpoint cadence) needs a
 * restart: a new file that changes any of
 * it is refused, naming the first key that differs, and so is a file
 * that does not load.  A refused file leaves the configuration in force
 * exactly as it was.
 *
 * The swap happens on the I/O thread, the only one that looks up
 * principals and rights.  Calls parsed before it keep the principal
 * name they were parsed with (d_call.who), and worker threads read only
 * d->fixed, the start-up configuration, whose values a reload cannot
 * change.  Every configuration ever loaded stays allocated until exit,
 * so no thread can hold a pointer into a freed one.  Open connections
 * are mapped again from the credentials they connected with.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "daemon/daemon.h"
#include "mem.h"

static int
str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/* The first key that a reload cannot change, or NULL when none did. */
static const char *
fixed_change(const struct rcpt_cfg *o, const struct rcpt_cfg *n)
{
	size_t i;

	if (str_differs(o->socket_path, n->socket_path))
		return "[daemon] socket";
	if (o->socket_mode != n->socket_mode)
		return "[daemon] socket_mode";
	if (str_differs(o->store_path, n->store_path))
		return "[daemon] store";
	if (o->map_size != n->map_size || o->map_max != n->map_max)
		return "[daemon] map_size or map_max";
	if (str_differs(o->origin, n->origin))
		return "[daemon] origin";
	if (o->sign_threads != n->sign_threads)
		return "[daemon] sign_threads";
	if (o->production != n->production)
		return "[daemon] production";
	if (o->has_user != n->has_user || o->uid != n->uid ||
	    o->gid != n->gid || o->n_groups != n->n_groups ||
	    (o->n_groups > 0 &&
	        memcmp(o->groups, n->groups, o->n_groups * sizeof(*o->groups))))
		return "[daemon] user, group or groups";
	if (o->seccomp_log != n->seccomp_log)
		return "[daemon] seccomp";
	if (str_differs(o->provider, n->provider) ||
	    str_differs(o->provider_config, n->provider_config) ||
	    str_differs(o->providers_dir, n->providers_dir))
		return "[provider]";
	if (o->data_max != n->data_max || o->depth != n->depth ||
	    o->tags_max != n->tags_max || o->batch_max != n->batch_max ||
	    o->batch_wait_us != n->batch_wait_us ||
	    o->connections_max != n->connections_max)
		return "[limits]";
	if (o->n_chains != n->n_chains)
		return "the set of [chain] sections";
	for (i = 0; i < o->n_chains; i++) {
		const struct rcpt_cfg_chain *a = &o->chains[i],
		                            *b = &n->chains[i];

		if (strcmp(a->name, b->name) != 0)
			return "the set of [chain] sections";
		if (a->sealing != b->sealing)
			return "[chain] sealing";
		if (a->retention_n != b->retention_n ||
		    a->retention_unit != b->retention_unit)
			return "[chain] retention";
		if (a->checkpoint_every != b->checkpoint_every ||
		    a->checkpoint_interval_ms != b->checkpoint_interval_ms)
			return "[chain] checkpoint_every or "
			       "checkpoint_interval";
	}
	return NULL;
}

static void
remap(struct daemon *d)
{
	struct d_conn *c;
	int was;

	for (c = d->conns; c != NULL; c = c->next) {
		was = c->principal;
		c->principal = rcpt_cfg_principal_of(
		    d->cfg, c->uid, c->gid, c->groups, c->n_groups);
		d->n_unknown += (c->principal < 0) - (was < 0);
	}
}

void
d_reload(struct daemon *d)
{
	struct rcpt_cfg *n = NULL, **old;
	struct rcpt_diag diag = {0};
	const char *what;
	int r;

	if ((r = rcpt_cfg_load(d->cfg->path, &n, &diag)) != RCPT_OK) {
		d_log(D_ERR, "SIGHUP: %s; keeping the current configuration",
		    rcpt_diag_msg(&diag, r));
		return;
	}
	if ((what = fixed_change(d->cfg, n)) != NULL) {
		d_log(D_ERR,
		    "SIGHUP: %s changed, which needs a restart (only "
		    "[principals] and the chains' append, read and admin "
		    "lists reload); keeping the current configuration",
		    what);
		rcpt_cfg_free(n);
		return;
	}
	old = rcpt_reallocarray(d->old_cfgs, d->n_old_cfgs + 1, sizeof(*old));
	if (old == NULL) {
		d_log(D_ERR, "SIGHUP: out of memory; keeping the current "
		             "configuration");
		rcpt_cfg_free(n);
		return;
	}
	d->old_cfgs = old;
	d->old_cfgs[d->n_old_cfgs++] = d->cfg;
	d->cfg = n;
	remap(d);
	d_log(D_INFO,
	    "SIGHUP: principals and rights reloaded from %s (%zu "
	    "principals)",
	    n->path, n->n_principals);
}

void
d_reload_free(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->n_old_cfgs; i++)
		rcpt_cfg_free(d->old_cfgs[i]);
	free(d->old_cfgs);
	d->old_cfgs = NULL;
	d->n_old_cfgs = 0;
}
