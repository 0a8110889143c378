/* Pure parsers of the management CLI: numbers, durations, times, C2D
 * properties, request targets, JSON arguments, and bounded file reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/encoding.h"
#include "common/timefmt.h"
#include "iothub/username.h"
#include "mgmt/mgmt_int.h"

gh_err gh_mgmt_uint_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    GH_ENSURE(s != NULL && s[0] != '\0', GH_ERR_ARG);
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        GH_ENSURE(*p >= '0' && *p <= '9', GH_ERR_ARG);
        unsigned d = (unsigned)(*p - '0');
        GH_ENSURE(v <= (UINT64_MAX - d) / 10, GH_ERR_ARG);
        v = v * 10 + d;
    }
    GH_ENSURE(v >= min && v <= max, GH_ERR_ARG);
    *out = v;
    return GH_OK;
}

gh_err gh_mgmt_duration_parse(const char *s, int64_t *seconds)
{
    GH_ENSURE(s != NULL && s[0] != '\0', GH_ERR_ARG);
    int64_t total = 0;
    const char *p = s;
    while (*p) {
        int64_t v = 0;
        const char *start = p;
        while (*p >= '0' && *p <= '9') {
            GH_ENSURE(v <= GH_MGMT_DURATION_MAX_S, GH_ERR_ARG);
            v = v * 10 + (*p - '0');
            p++;
        }
        GH_ENSURE(p != start, GH_ERR_ARG);
        int64_t unit;
        switch (*p) {
        case '\0':
            /* Plain digits: seconds, only as the whole argument. */
            GH_ENSURE(start == s, GH_ERR_ARG);
            unit = 1;
            break;
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            return GH_ERR_ARG;
        }
        if (*p) p++;
        GH_ENSURE(v <= GH_MGMT_DURATION_MAX_S / unit, GH_ERR_ARG);
        total += v * unit;
        GH_ENSURE(total <= GH_MGMT_DURATION_MAX_S, GH_ERR_ARG);
    }
    GH_ENSURE(total > 0, GH_ERR_ARG);
    *seconds = total;
    return GH_OK;
}

/* ---- times ---------------------------------------------------------------- */

gh_err gh_mgmt_time_parse(const char *s, int64_t *ms)
{
    /* A malformed time on the command line is a usage error. */
    return gh_time_parse(s, ms) == GH_OK ? GH_OK : GH_ERR_ARG;
}

void gh_mgmt_time_format(int64_t ms, char out[GH_MGMT_TIME_MAX])
{
    gh_time_format(ms, out);
}

gh_err gh_mgmt_since_parse(const char *s, int64_t now_ms, int64_t *ms)
{
    int64_t secs;
    if (gh_mgmt_duration_parse(s, &secs) == GH_OK) {
        int64_t t = now_ms - secs * 1000;
        *ms = t < 0 ? 0 : t;
        return GH_OK;
    }
    return gh_mgmt_time_parse(s, ms);
}

/* ---- properties ------------------------------------------------------------- */

static bool tchar(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return true;
    return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

gh_err gh_mgmt_prop_parse(const char *arg, struct gh_slice *name, struct gh_slice *value, char *msg,
                          size_t cap)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg)
        return gh_err_say(msg, cap, GH_ERR_ARG, "--property wants NAME=VALUE, got '%.64s'", arg);
    size_t nlen = (size_t)(eq - arg), vlen = strlen(eq + 1);
    if (nlen > GH_MGMT_PROP_TEXT_MAX || vlen > GH_MGMT_PROP_TEXT_MAX)
        return gh_err_say(msg, cap, GH_ERR_ARG,
                          "--property: name and value are at most %u bytes each",
                          GH_MGMT_PROP_TEXT_MAX);
    for (size_t i = 0; i < nlen; i++)
        if (!tchar((unsigned char)arg[i]))
            return gh_err_say(msg, cap, GH_ERR_ARG,
                              "--property: the name '%.*s' may only hold letters, digits and "
                              "!#$%%&'*+-.^_`|~ (it travels in an HTTP header name)",
                              (int)(nlen > 64 ? 64 : nlen), arg);
    const uint8_t *v = (const uint8_t *)eq + 1;
    for (size_t i = 0; i < vlen; i++)
        if (v[i] < 0x20 || v[i] == 0x7f)
            return gh_err_say(msg, cap, GH_ERR_ARG,
                              "--property %.*s: the value holds a control character",
                              (int)(nlen > 64 ? 64 : nlen), arg);
    if (vlen > 0 && (v[0] == ' ' || v[vlen - 1] == ' '))
        return gh_err_say(msg, cap, GH_ERR_ARG,
                          "--property %.*s: the value may not start or end with a blank",
                          (int)(nlen > 64 ? 64 : nlen), arg);
    if (!gh_utf8_valid(v, vlen))
        return gh_err_say(msg, cap, GH_ERR_ARG, "--property %.*s: the value is not UTF-8",
                          (int)(nlen > 64 ? 64 : nlen), arg);
    *name = (struct gh_slice){(const uint8_t *)arg, nlen};
    *value = (struct gh_slice){v, vlen};
    return GH_OK;
}

/* ---- request targets ------------------------------------------------------- */

gh_err gh_mgmt_target(char *out, size_t cap, const char *const *segs, size_t nseg,
                      const struct gh_mgmt_query *q, size_t nq)
{
    GH_ENSURE(nseg > 0, GH_ERR_ARG);
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    for (size_t i = 0; i < nseg; i++) {
        GH_ENSURE(segs[i] != NULL && segs[i][0] != '\0', GH_ERR_ARG);
        GH_GUARD(gh_writer_u8(&w, '/'));
        GH_GUARD(gh_pct_encode(segs[i], strlen(segs[i]), &w));
    }
    bool first = true;
    for (size_t i = 0; i < nq; i++) {
        if (q[i].value == NULL) continue;
        GH_GUARD(gh_writer_u8(&w, first ? '?' : '&'));
        first = false;
        GH_GUARD(gh_writer_cstr(&w, q[i].name));
        GH_GUARD(gh_writer_u8(&w, '='));
        GH_GUARD(gh_pct_encode(q[i].value, strlen(q[i].value), &w));
    }
    return gh_writer_terminate(&w);
}

/* ---- files and JSON arguments -------------------------------------------------- */

gh_err gh_mgmt_file_read(const char *path, size_t max, uint8_t **data, size_t *len, char *msg,
                         size_t cap)
{
    bool stdin_ = strcmp(path, "-") == 0;
    int fd = stdin_ ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return gh_err_say(msg, cap, gh_err_from_errno(e), "cannot open %s: %s", path, strerror(e));
    }
    gh_err rc = GH_OK;
    uint8_t *buf = NULL;
    size_t n = 0;
    struct stat st;
    if (!stdin_ && (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode))) {
        rc = gh_err_say(msg, cap, GH_ERR_IO, "%s is not a regular file", path);
        goto out;
    }
    buf = malloc(max + 1);
    if (buf == NULL) {
        rc = gh_err_say(msg, cap, GH_ERR_NOMEM, "out of memory reading %s", path);
        goto out;
    }
    /* Read one byte past max to know whether the file is too large. */
    for (;;) {
        ssize_t r = read(fd, buf + n, max + 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            int e = errno;
            rc =
                gh_err_say(msg, cap, gh_err_from_errno(e), "cannot read %s: %s", path, strerror(e));
            goto out;
        }
        if (r == 0) break;
        n += (size_t)r;
        if (n > max) {
            rc = gh_err_say(msg, cap, GH_ERR_TOO_LARGE, "%s is larger than %zu bytes", path, max);
            goto out;
        }
    }
    buf[n] = '\0';
out:
    if (!stdin_) close(fd);
    if (rc != GH_OK) {
        if (buf) memset(buf, 0, n);
        free(buf);
        return rc;
    }
    *data = buf;
    *len = n;
    return GH_OK;
}

gh_err gh_mgmt_json_arg(const char *opt, const char *arg, bool want_object, json_t **out, char *msg,
                        size_t cap)
{
    uint8_t *file = NULL;
    const char *text = arg;
    size_t len = strlen(arg);
    if (arg[0] == '@') {
        char why[GH_MGMT_MSG_MAX / 2];
        gh_err rc = gh_mgmt_file_read(arg + 1, GH_MGMT_ARG_JSON_MAX, &file, &len, why, sizeof why);
        if (rc != GH_OK) return gh_err_say(msg, cap, rc, "%s: %s", opt, why);
        text = (const char *)file;
    } else if (len > GH_MGMT_ARG_JSON_MAX) {
        return gh_err_say(msg, cap, GH_ERR_ARG, "%s: longer than %u bytes", opt,
                          GH_MGMT_ARG_JSON_MAX);
    }
    json_error_t jerr;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    free(file);
    if (j == NULL)
        return gh_err_say(msg, cap, GH_ERR_ARG,
                          "%s is not valid JSON (%s, at line %d column %d); quote strings, e.g. "
                          "'\"text\"'",
                          opt, jerr.text, jerr.line, jerr.column);
    if (want_object && !json_is_object(j)) {
        json_decref(j);
        return gh_err_say(msg, cap, GH_ERR_ARG, "%s must be a JSON object ({...})", opt);
    }
    *out = j;
    return GH_OK;
}

gh_err gh_mgmt_check_device_id(const char *s, char *msg, size_t cap)
{
    if (gh_iothub_valid_device_id(gh_slice_cstr(s))) return GH_OK;
    return gh_err_say(msg, cap, GH_ERR_ARG,
                      "'%.64s' is not a valid device id (1-128 characters from A-Z a-z 0-9 "
                      "- . + %% _ # * ? ! ( ) , = @ $ ')",
                      s);
}
