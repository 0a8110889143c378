#include "pki/pki_names.h"

#include <arpa/inet.h>
#include <string.h>

#include "common/buf.h"

static bool is_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* One DNS label [p, p+n). */
static bool label_ok(const char *p, size_t n)
{
    if (n == 0 || n > GH_PKI_DNS_LABEL_MAX) return false;
    if (p[0] == '-' || p[n - 1] == '-') return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum((unsigned char)p[i]) && p[i] != '-') return false;
    return true;
}

static bool all_digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)p[i])) return false;
    return true;
}

gh_err gh_pki_dns_name_check(const char *s, size_t n, bool allow_wildcard)
{
    GH_ENSURE(s != NULL && n > 0 && n <= GH_PKI_DNS_NAME_MAX, GH_ERR_ARG);
    size_t labels = 0, start = 0, last_start = 0;
    bool wildcard = false;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') continue;
        size_t len = i - start;
        if (labels == 0 && len == 1 && s[start] == '*') {
            GH_ENSURE(allow_wildcard, GH_ERR_ARG);
            wildcard = true;
        } else {
            GH_ENSURE(label_ok(s + start, len), GH_ERR_ARG);
        }
        labels++;
        last_start = start;
        start = i + 1;
    }
    GH_ENSURE(!all_digits(s + last_start, n - last_start), GH_ERR_ARG);
    GH_ENSURE(!wildcard || labels >= 3, GH_ERR_ARG);
    return GH_OK;
}

gh_err gh_pki_ip_parse(const char *s, size_t n, uint8_t out[16], size_t *outlen)
{
    char buf[GH_PKI_IP_TEXT_MAX];
    GH_ENSURE(s != NULL && n > 0 && n < sizeof buf, GH_ERR_ARG);
    GH_ENSURE(memchr(s, '\0', n) == NULL, GH_ERR_ARG);
    memcpy(buf, s, n);
    buf[n] = '\0';
    uint8_t tmp[16];
    if (inet_pton(AF_INET, buf, tmp) == 1) {
        memcpy(out, tmp, 4);
        *outlen = 4;
        return GH_OK;
    }
    GH_ENSURE(inet_pton(AF_INET6, buf, tmp) == 1, GH_ERR_ARG);
    memcpy(out, tmp, 16);
    *outlen = 16;
    return GH_OK;
}

static bool device_id_char(unsigned char c)
{
    return is_alnum(c) || (c != '\0' && strchr("-.+%_#*?!(),=@$'", c) != NULL);
}

gh_err gh_pki_device_id_check(const char *s, size_t n)
{
    GH_ENSURE(s != NULL && n > 0 && n <= GH_PKI_DEVICE_ID_MAX, GH_ERR_ARG);
    for (size_t i = 0; i < n; i++) GH_ENSURE(device_id_char((unsigned char)s[i]), GH_ERR_ARG);
    return GH_OK;
}

gh_err gh_pki_verification_code_check(const char *s, size_t n)
{
    GH_ENSURE(s != NULL && n > 0 && n <= GH_PKI_VERIFICATION_CODE_MAX, GH_ERR_ARG);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        GH_ENSURE(is_alnum(c) || c == '-' || c == '_' || c == '.', GH_ERR_ARG);
    }
    return GH_OK;
}

gh_err gh_pki_text_attr_check(const char *s, size_t n, size_t max)
{
    GH_ENSURE(s != NULL && n > 0 && n <= max, GH_ERR_ARG);
    GH_ENSURE(gh_utf8_valid((const uint8_t *)s, n), GH_ERR_ARG);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        GH_ENSURE(c >= 0x20 && c != 0x7f, GH_ERR_ARG);
    }
    return GH_OK;
}

gh_err gh_pki_stem_check(const char *s, size_t n)
{
    GH_ENSURE(s != NULL && n > 0 && n <= GH_PKI_STEM_MAX, GH_ERR_ARG);
    GH_ENSURE(s[0] != '.' && s[0] != '-', GH_ERR_ARG);
    return gh_pki_device_id_check(s, n);
}

gh_err gh_pki_count_parse(const char *s, size_t n, unsigned max, unsigned *out)
{
    GH_ENSURE(s != NULL && n > 0 && n <= 10 && s[0] != '0', GH_ERR_ARG);
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        GH_ENSURE(is_digit((unsigned char)s[i]), GH_ERR_ARG);
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    GH_ENSURE(v >= 1 && v <= max, GH_ERR_ARG);
    *out = (unsigned)v;
    return GH_OK;
}

gh_err gh_pki_period_end(time_t start, struct gh_pki_period p, time_t *end)
{
    const long long day = 86400;
    const long long max_secs = (long long)GH_PKI_VALIDITY_DAYS_MAX * day;
    GH_ENSURE(p.count >= 1 && p.count <= GH_PKI_VALIDITY_DAYS_MAX, GH_ERR_ARG);
    long long e;
    if (p.unit == GH_PKI_PERIOD_DAYS) {
        e = (long long)start + (long long)p.count * day;
    } else {
        GH_ENSURE(p.unit == GH_PKI_PERIOD_MONTHS || p.unit == GH_PKI_PERIOD_YEARS, GH_ERR_ARG);
        /* Refuse counts that could overflow struct tm before timegm. */
        unsigned months_max = GH_PKI_VALIDITY_DAYS_MAX / 28u;
        unsigned months = p.unit == GH_PKI_PERIOD_MONTHS ? p.count : 0;
        if (p.unit == GH_PKI_PERIOD_YEARS) {
            GH_ENSURE(p.count <= months_max / 12u, GH_ERR_ARG);
            months = p.count * 12u;
        }
        GH_ENSURE(months <= months_max, GH_ERR_ARG);
        struct tm tm;
        GH_ENSURE(gmtime_r(&start, &tm) != NULL, GH_ERR_ARG);
        tm.tm_year += (int)(months / 12u);
        tm.tm_mon += (int)(months % 12u);
        tm.tm_isdst = 0;
        time_t t = timegm(&tm);
        GH_ENSURE(t != (time_t)-1, GH_ERR_ARG);
        e = (long long)t;
    }
    GH_ENSURE(e > (long long)start && e - (long long)start <= max_secs, GH_ERR_ARG);
    *end = (time_t)e;
    return GH_OK;
}
