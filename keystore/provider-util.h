/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers the providers in this tree share (provider-soft.c, built into
 * libkeystore, and the provider-pkcs11 plugin).  Header-only, so that a
 * plugin gets them without linking anything of libkeystore; not part of
 * the plugin ABI (provider.h) and not meant for third-party plugins.
 */
#ifndef RCPT_KEYSTORE_PROVIDER_UTIL_H
#define RCPT_KEYSTORE_PROVIDER_UTIL_H

#include <stdarg.h>
#include <stdio.h>

#include "keystore/provider.h"
#include "src/err.h"

static inline int rcpt_provider_say(struct rcpt_provider_msg *m, int rc,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Puts a message in @p m unless one is there (the first wins); @p rc. */
static inline int
rcpt_provider_say(struct rcpt_provider_msg *m, int rc, const char *fmt, ...)
{
	va_list ap;

	if (m == NULL || m->text[0] != '\0')
		return rc;
	va_start(ap, fmt);
	(void)vsnprintf(m->text, sizeof(m->text), fmt, ap);
	va_end(ap);
	return rc;
}

/* Whether receiptd code @p r has the same number in provider.h. */
static inline int
rcpt_provider_code_kept(int r)
{
	switch (r) {
	case RCPT_OK:
	case RCPT_E_INTERNAL:
	case RCPT_E_NOMEM:
	case RCPT_E_INVAL:
	case RCPT_E_NOT_FOUND:
	case RCPT_E_DENIED:
	case RCPT_E_KEY_UNAVAILABLE:
	case RCPT_E_IO:
	case RCPT_E_CONFIG:
	case RCPT_E_EXISTS:
		return 1;
	default:
		return 0;
	}
}

#endif
