/* Logging: one line per event, key=value context.
 *
 *   2026-11-26T14:03:17.123Z level=info event=mqtt.connect device="th-01" peer=127.0.0.1:53422
 *
 * Rules (STYLE.md 5): secrets (keys, SAS tokens, passwords, private keys) are
 * never passed to these functions; text a peer controls is passed only through
 * gh_log_escape, which quotes, escapes and truncates it.
 *
 * The sink and the level are the only process globals of this module (part of
 * the documented list in docs/ARCHITECTURE.md). Set them at startup, before
 * other threads run; gh_log itself is thread-safe (one write(2) per line).
 */
#ifndef GH_COMMON_LOG_H
#define GH_COMMON_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum gh_log_level { GH_LOG_DEBUG = 0, GH_LOG_INFO, GH_LOG_WARN, GH_LOG_ERROR, GH_LOG_OFF };

/* Longest line written; longer ones are truncated and end with "...". */
#define GH_LOG_LINE_MAX 2048
/* Default cap on an escaped peer-controlled excerpt, in input bytes. */
#define GH_LOG_EXCERPT_MAX 64

/* Only events at or above level are written. Default GH_LOG_INFO. */
void gh_log_set_level(enum gh_log_level level);
enum gh_log_level gh_log_get_level(void);
/* Parse "debug|info|warn|error|off"; returns -1 for anything else. */
int gh_log_level_parse(const char *s);
/* Write lines to this file descriptor (default 2, stderr). */
void gh_log_set_fd(int fd);

/* Write one event. fmt produces the key=value context (may be NULL). */
void gh_log(enum gh_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void gh_logv(enum gh_log_level level, const char *event, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#define gh_log_debug(ev, ...) gh_log(GH_LOG_DEBUG, ev, __VA_ARGS__)
#define gh_log_info(ev, ...) gh_log(GH_LOG_INFO, ev, __VA_ARGS__)
#define gh_log_warn(ev, ...) gh_log(GH_LOG_WARN, ev, __VA_ARGS__)
#define gh_log_error(ev, ...) gh_log(GH_LOG_ERROR, ev, __VA_ARGS__)

/* Render untrusted bytes as a double-quoted, escaped excerpt into out:
 * printable ASCII except '"' and '\\' is copied; '"', '\\' become \" and \\;
 * everything else becomes \xHH. At most max_in input bytes are rendered
 * (0 means GH_LOG_EXCERPT_MAX); if the input is longer, "..." follows the
 * closing quote. The result always fits in cap (cap >= 8) and is always
 * NUL-terminated. Returns out, so it can be used inline in gh_log calls. */
char *gh_log_escape(char *out, size_t cap, const void *data, size_t len, size_t max_in);

#endif
