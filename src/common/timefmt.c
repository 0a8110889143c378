#include "common/timefmt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define TIME_MAX_MS INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */

static bool digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        char ch = (*p)[i];
        if (ch < '0' || ch > '9') return false;
        x = x * 10 + (ch - '0');
    }
    *p += n;
    *v = x;
    return true;
}

static bool expect(const char **p, char ch)
{
    if (**p != ch) return false;
    (*p)++;
    return true;
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian, y >= 1970. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t yy = m <= 2 ? y - 1 : y; /* years start in March: the leap day ends them */
    int64_t era = yy / 400;
    int64_t yoe = yy - era * 400;
    int64_t mp = m > 2 ? m - 3 : m + 9;
    int64_t doy = (153 * mp + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Inverse of days_from_civil for days >= 0. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* The low n decimal digits of v, zero-padded, into out[0..n). */
static void put_digits(char *out, int n, unsigned v)
{
    for (int i = n - 1; i >= 0; i--, v /= 10) out[i] = (char)('0' + v % 10);
}

void gh_time_format(int64_t ms, char out[GH_TIME_TEXT_LEN])
{
    if (ms < 0) ms = 0;
    if (ms > TIME_MAX_MS) ms = TIME_MAX_MS;
    int64_t secs = ms / 1000, rem = secs % 86400, y;
    int m, d;
    civil_from_days(secs / 86400, &y, &m, &d);
    /* Written digit by digit: this runs for every telemetry message (the
     * snprintf it replaced cost 4 % of the hub's ingest). */
    static const char pat[] = "0000-00-00T00:00:00.000Z";
    _Static_assert(sizeof pat == GH_TIME_TEXT_LEN, "pattern length");
    memcpy(out, pat, sizeof pat);
    put_digits(out, 4, (unsigned)y);
    put_digits(out + 5, 2, (unsigned)m);
    put_digits(out + 8, 2, (unsigned)d);
    put_digits(out + 11, 2, (unsigned)(rem / 3600));
    put_digits(out + 14, 2, (unsigned)(rem / 60 % 60));
    put_digits(out + 17, 2, (unsigned)(rem % 60));
    put_digits(out + 20, 3, (unsigned)(ms % 1000));
}

gh_err gh_time_parse(const char *s, int64_t *out_ms)
{
    GH_ENSURE(s != NULL, GH_ERR_MALFORMED);
    const char *p = s;
    int y, mo, d, h, mi, se, ms = 0;
    GH_ENSURE(digits(&p, 4, &y) && expect(&p, '-') && digits(&p, 2, &mo) && expect(&p, '-') &&
                  digits(&p, 2, &d),
              GH_ERR_MALFORMED);
    GH_ENSURE(*p == 'T' || *p == 't' || *p == ' ', GH_ERR_MALFORMED);
    p++;
    GH_ENSURE(digits(&p, 2, &h) && expect(&p, ':') && digits(&p, 2, &mi) && expect(&p, ':') &&
                  digits(&p, 2, &se),
              GH_ERR_MALFORMED);
    if (*p == '.') {
        p++;
        int n = 0;
        while (p[n] >= '0' && p[n] <= '9') n++;
        GH_ENSURE(n >= 1 && n <= 9, GH_ERR_MALFORMED);
        for (int i = 0; i < 3; i++) ms = ms * 10 + (i < n ? p[i] - '0' : 0);
        p += n;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        GH_ENSURE(digits(&p, 2, &oh) && expect(&p, ':') && digits(&p, 2, &om), GH_ERR_MALFORMED);
        GH_ENSURE(oh <= 23 && om <= 59, GH_ERR_MALFORMED);
        offset_min = sign * (oh * 60 + om);
    } else {
        GH_BAIL(GH_ERR_MALFORMED);
    }
    GH_ENSURE(*p == '\0', GH_ERR_MALFORMED);
    GH_ENSURE(y >= 1970 && mo >= 1 && mo <= 12 && d >= 1 && d <= month_days(y, mo),
              GH_ERR_MALFORMED);
    GH_ENSURE(h <= 23 && mi <= 59 && se <= 59, GH_ERR_MALFORMED);
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    secs -= (int64_t)offset_min * 60;
    GH_ENSURE(secs >= 0, GH_ERR_MALFORMED);
    *out_ms = secs * 1000 + ms;
    return GH_OK;
}
