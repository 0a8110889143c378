/* Shared helpers: outgoing field checks, dates, reason phrases, output
 * queue. */
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "net/conn.h"

bool gh_http_value_ok(const char *v)
{
    size_t n = strlen(v);
    if (n > 0 && (v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' || v[n - 1] == '\t')) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
    }
    return true;
}

bool gh_http_target_ok(struct gh_slice t)
{
    if (t.len == 0 || t.ptr[0] != '/') return false;
    for (size_t i = 0; i < t.len; i++)
        if (t.ptr[i] <= 0x20 || t.ptr[i] >= 0x7f || t.ptr[i] == '#') return false;
    return true;
}

static void put_digits(char **o, unsigned v, unsigned n)
{
    for (unsigned i = n; i > 0; i--) {
        (*o)[i - 1] = (char)('0' + v % 10);
        v /= 10;
    }
    *o += n;
}

void gh_http_format_date(time_t t, char out[GH_HTTP_DATE_LEN])
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900) {
        memset(&tm, 0, sizeof tm);
        tm.tm_year = 70;
        tm.tm_mday = 1;
        tm.tm_wday = 4;
    }
    /* "Www, DD Mmm YYYY hh:mm:ss GMT", fields put digit by digit. */
    char *o = out;
    memcpy(o, days[tm.tm_wday % 7], 3);
    o += 3;
    *o++ = ',';
    *o++ = ' ';
    put_digits(&o, (unsigned)tm.tm_mday, 2);
    *o++ = ' ';
    memcpy(o, months[tm.tm_mon % 12], 3);
    o += 3;
    *o++ = ' ';
    put_digits(&o, (unsigned)(tm.tm_year + 1900), 4);
    *o++ = ' ';
    put_digits(&o, (unsigned)tm.tm_hour, 2);
    *o++ = ':';
    put_digits(&o, (unsigned)tm.tm_min, 2);
    *o++ = ':';
    put_digits(&o, (unsigned)tm.tm_sec, 2);
    memcpy(o, " GMT", 5);
}

const char *gh_http_reason(unsigned status)
{
    static const struct {
        unsigned code;
        const char *text;
    } table[] = {
        {100, "Continue"},
        {200, "OK"},
        {201, "Created"},
        {202, "Accepted"},
        {204, "No Content"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {304, "Not Modified"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {411, "Length Required"},
        {412, "Precondition Failed"},
        {413, "Content Too Large"},
        {414, "URI Too Long"},
        {415, "Unsupported Media Type"},
        {417, "Expectation Failed"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
        {505, "HTTP Version Not Supported"},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (table[i].code == status) return table[i].text;
    return "Unknown";
}

gh_err gh_http_outq_pump(struct gh_http_outq *q, struct gh_conn *c, bool *done)
{
    while (q->off < q->len) {
        size_t n = q->len - q->off;
        if (n > GH_HTTP_WRITE_CHUNK) n = GH_HTTP_WRITE_CHUNK;
        gh_err rc = gh_conn_write(c, q->buf + q->off, n);
        if (rc == GH_ERR_NOBUFS) {
            *done = false;
            return GH_OK;
        }
        if (rc != GH_OK) return rc;
        q->off += n;
    }
    gh_http_outq_clear(q);
    *done = true;
    return GH_OK;
}

void gh_http_outq_clear(struct gh_http_outq *q)
{
    free(q->buf);
    q->buf = NULL;
    q->len = q->off = 0;
}
