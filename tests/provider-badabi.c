/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A test plugin built against a future ABI major: its table is otherwise
 * complete and valid, so the only reason to refuse it is abi_major.  The
 * operations fail loudly if the loader ever calls one.  Test code only;
 * never installed.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "keystore/provider.h"

static int
bad_open(const char *config, void **ctx_out, struct rcpt_provider_msg *msg)
{
	(void)config;
	(void)msg;
	*ctx_out = NULL;
	return RCPT_PROVIDER_E_INTERNAL;
}

static void
bad_close(void *ctx)
{
	(void)ctx;
}

static int
bad_list(void *ctx, struct rcpt_provider_key **keys_out, size_t *n_out,
    struct rcpt_provider_msg *msg)
{
	(void)ctx;
	(void)msg;
	*keys_out = NULL;
	*n_out = 0;
	return RCPT_PROVIDER_E_INTERNAL;
}

static int
bad_generate(void *ctx, const char *label, char **handle_out,
    uint8_t pub_out[32], struct rcpt_provider_msg *msg)
{
	(void)ctx;
	(void)label;
	(void)pub_out;
	(void)msg;
	*handle_out = NULL;
	return RCPT_PROVIDER_E_INTERNAL;
}

static int
bad_public_key(void *ctx, const char *handle, uint8_t pub_out[32],
    struct rcpt_provider_msg *msg)
{
	(void)ctx;
	(void)handle;
	(void)pub_out;
	(void)msg;
	return RCPT_PROVIDER_E_INTERNAL;
}

static int
bad_sign(void *ctx, const char *handle, const uint8_t *msg_in, size_t len,
    uint8_t sig_out[64], struct rcpt_provider_msg *msg)
{
	(void)ctx;
	(void)handle;
	(void)msg_in;
	(void)len;
	(void)sig_out;
	(void)msg;
	return RCPT_PROVIDER_E_INTERNAL;
}

static int
bad_health(void *ctx, struct rcpt_provider_msg *msg)
{
	(void)ctx;
	(void)msg;
	return RCPT_PROVIDER_E_INTERNAL;
}

static void
bad_free(void *ctx, void *p)
{
	(void)ctx;
	(void)p;
}

static int
bad_data_read(void *ctx, const char *name, uint8_t *buf, size_t cap,
    size_t *len_out, struct rcpt_provider_msg *msg)
{
	(void)ctx;
	(void)name;
	(void)buf;
	(void)cap;
	(void)msg;
	*len_out = 0;
	return RCPT_PROVIDER_E_INTERNAL;
}

static int
bad_data_write(void *ctx, const char *name, const uint8_t *buf, size_t len,
    struct rcpt_provider_msg *msg)
{
	(void)ctx;
	(void)name;
	(void)buf;
	(void)len;
	(void)msg;
	return RCPT_PROVIDER_E_INTERNAL;
}

static const struct rcpt_provider badabi_table = {
    .abi_major = RCPT_PROVIDER_ABI_MAJOR + 1,
    .abi_minor = 0,
    .struct_size = sizeof(struct rcpt_provider),
    .name = "badabi",
    .open = bad_open,
    .close = bad_close,
    .list_keys = bad_list,
    .generate = bad_generate,
    .public_key = bad_public_key,
    .sign = bad_sign,
    .health = bad_health,
    .free = bad_free,
    .data_read = bad_data_read,
    .data_write = bad_data_write,
};

const struct rcpt_provider *
rcpt_provider_entry(void)
{
	return &badabi_table;
}
