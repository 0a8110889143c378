#include "common/log.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* Process globals (documented in docs/ARCHITECTURE.md): the log sink and level. */
static enum gh_log_level g_level = GH_LOG_INFO;
static int g_fd = 2;

static const char *level_names[] = {"debug", "info", "warn", "error", "off"};

void gh_log_set_level(enum gh_log_level level)
{
    g_level = level;
}

enum gh_log_level gh_log_get_level(void)
{
    return g_level;
}

int gh_log_level_parse(const char *s)
{
    for (int i = 0; i <= GH_LOG_OFF; i++)
        if (s && strcmp(s, level_names[i]) == 0) return i;
    return -1;
}

void gh_log_set_fd(int fd)
{
    g_fd = fd;
}

void gh_logv(enum gh_log_level level, const char *event, const char *fmt, va_list ap)
{
    if (level < g_level || level >= GH_LOG_OFF) return;
    char line[GH_LOG_LINE_MAX];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ level=%s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)(tv.tv_usec / 1000), level_names[level], event);
    size_t len = (n < 0) ? 0 : (size_t)n;
    if (fmt && *fmt && len < sizeof line - 1) {
        line[len++] = ' ';
        int m = vsnprintf(line + len, sizeof line - len, fmt, ap);
        if (m > 0) len += (size_t)m;
    }
    /* Leave room for "...\n". */
    if (len > sizeof line - 5) {
        len = sizeof line - 5;
        memcpy(line + len, "...", 3);
        len += 3;
    }
    line[len++] = '\n';
    ssize_t w = write(g_fd, line, len);
    (void)w; /* a failing log sink must not take the daemon down */
}

void gh_log(enum gh_log_level level, const char *event, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gh_logv(level, event, fmt, ap);
    va_end(ap);
}

char *gh_log_escape(char *out, size_t cap, const void *data, size_t len, size_t max_in)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = data;
    if (max_in == 0) max_in = GH_LOG_EXCERPT_MAX;
    size_t o = 0;
    if (cap < 8) {
        if (cap) out[0] = '\0';
        return out;
    }
    /* Reserve closing quote + "..." + NUL. */
    size_t limit = cap - 5;
    out[o++] = '"';
    size_t i = 0;
    for (; i < len && i < max_in; i++) {
        unsigned char c = p[i];
        char tmp[4];
        size_t k;
        if (c == '"' || c == '\\') {
            tmp[0] = '\\', tmp[1] = (char)c, k = 2;
        } else if (c >= 0x20 && c < 0x7f) {
            tmp[0] = (char)c, k = 1;
        } else {
            tmp[0] = '\\', tmp[1] = 'x', tmp[2] = hex[c >> 4], tmp[3] = hex[c & 15], k = 4;
        }
        if (k > limit - o) break;
        memcpy(out + o, tmp, k);
        o += k;
    }
    out[o++] = '"';
    if (i < len) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
    return out;
}
