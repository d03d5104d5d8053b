/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Timestamps in the one form the format allows (SPEC common rules):
 * "YYYY-MM-DDTHH:MM:SS.mmmZ", a real UTC date, seconds 00 to 59.  TS
 * values compare as strings, so no parsing is needed to order them.
 */
#ifndef RCPT_SRC_TS_H
#define RCPT_SRC_TS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define RCPT_TS_LEN 24 /* characters, without the NUL */

/** 1 when @p s (length @p len) is a valid TS, else 0. */
int rcpt_ts_is_valid(const char *s, size_t len);

/**
 * Formats @p ms milliseconds since the Unix epoch as a TS.
 * @param[out] out RCPT_TS_LEN + 1 bytes.
 * @return RCPT_OK, or RCPT_E_INVAL for a time outside years 0000-9999.
 */
int rcpt_ts_format(int64_t ms, char out[RCPT_TS_LEN + 1]) RCPT_MUST_CHECK;

/** Milliseconds since the Unix epoch from CLOCK_REALTIME. */
int64_t rcpt_ts_now_ms(void);

#endif
