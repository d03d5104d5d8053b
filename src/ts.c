/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TS checking and formatting without the C library's time zone machinery,
 * so that neither TZ nor locale can change a byte.
 */
#include "config.h"

#include <time.h>

#include "ts.h"

static int
digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

int
rcpt_ts_is_valid(const char *s, size_t len)
{
	int y, mo, d, h, mi, sec, ms;

	if (s == NULL || len != RCPT_TS_LEN)
		return 0;
	if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != '.' || s[23] != 'Z')
		return 0;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
	    !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
	    !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec) ||
	    !digits(s + 20, 3, &ms))
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return 0;
	return h <= 23 && mi <= 59 && sec <= 59;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static void
civil_from_days(int64_t z, int *y_out, int *m_out, int *d_out)
{
	int64_t era, doe, yoe, y, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d_out = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m_out = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y_out = (int)(y + (*m_out <= 2));
}

int
rcpt_ts_format(int64_t ms, char out[RCPT_TS_LEN + 1])
{
	int64_t days, rem;
	int y, mo, d, i;
	int f[7];
	static const int width[] = {4, 2, 2, 2, 2, 2, 3};
	static const char sep[] = "--T::.Z";
	char *p = out;

	/* 0000-01-01 .. 9999-12-31 */
	if (ms < -62167219200000LL || ms > 253402300799999LL)
		return RCPT_E_INVAL;
	days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
	rem = ms - days * 86400000;
	civil_from_days(days, &y, &mo, &d);
	f[0] = y;
	f[1] = mo;
	f[2] = d;
	f[3] = (int)(rem / 3600000);
	f[4] = (int)(rem / 60000 % 60);
	f[5] = (int)(rem / 1000 % 60);
	f[6] = (int)(rem % 1000);
	for (i = 0; i < 7; i++) {
		int w = width[i], v = f[i], k;

		for (k = w - 1; k >= 0; k--) {
			p[k] = (char)('0' + v % 10);
			v /= 10;
		}
		p += w;
		*p++ = sep[i];
	}
	*p = '\0';
	return RCPT_OK;
}

int64_t
rcpt_ts_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}
