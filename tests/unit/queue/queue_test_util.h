/* Helpers shared by the queue unit tests: a temp directory, a fake clock,
 * an injectable failure and small wrappers. Header-only (static). */
#ifndef GH_TEST_QUEUE_UTIL_H
#define GH_TEST_QUEUE_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "queue/queue.h"

struct qt {
    char dir[256];
    uint64_t now;
    int fail_errno;           /* errno to inject */
    enum gh_queue_op fail_op; /* for this op */
    int fail_after;           /* after this many calls of it (0 = next) */
    struct gh_queue_options opt;
};

static inline uint64_t qt_clock(void *ctx)
{
    return ((struct qt *)ctx)->now;
}

static inline int qt_fail(void *ctx, enum gh_queue_op op)
{
    struct qt *t = ctx;
    if (!t->fail_errno || op != t->fail_op) return 0;
    if (t->fail_after > 0) {
        t->fail_after--;
        return 0;
    }
    return t->fail_errno;
}

static inline void qt_rm(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *de;
    char p[512];
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static struct qt *qt_new(void)
{
    struct qt *t = calloc(1, sizeof *t);
    if (!t) abort();
    snprintf(t->dir, sizeof t->dir, "/tmp/ghq-XXXXXX");
    if (!mkdtemp(t->dir)) abort();
    t->now = 1700000000000ull;
    gh_queue_options_default(&t->opt);
    t->opt.clock_ms = qt_clock;
    t->opt.clock_ctx = t;
    t->opt.fail = qt_fail;
    t->opt.fail_ctx = t;
    gh_log_set_level(GH_LOG_OFF);
    return t;
}

static inline void qt_free(struct qt *t)
{
    qt_rm(t->dir);
    free(t);
}

/* Payload "m<n>" padded to len bytes (len >= 12). */
static inline struct gh_slice qt_payload(char *buf, size_t len, unsigned n)
{
    memset(buf, 'x', len);
    int k = snprintf(buf, len, "m%u", n);
    buf[k] = '.';
    return (struct gh_slice){(const uint8_t *)buf, len};
}

/* Number encoded by qt_payload. */
static inline unsigned qt_num(struct gh_slice p)
{
    unsigned v = 0;
    for (size_t i = 1; i < p.len && p.ptr[i] >= '0' && p.ptr[i] <= '9'; i++)
        v = v * 10 + (unsigned)(p.ptr[i] - '0');
    return v;
}

/* Open the queue in t's directory with t's options. */
static inline struct gh_queue *qt_open(struct qt *t)
{
    struct gh_queue *q = NULL;
    assert_int_equal(gh_queue_open(t->dir, &t->opt, &q), GH_OK);
    assert_non_null(q);
    return q;
}

/* Append record number n of class prio (time to live ttl ms, 0 = never)
 * with a len-byte payload; returns its sequence number. */
static inline uint64_t qt_put(struct gh_queue *q, unsigned prio, uint64_t ttl, unsigned n,
                              size_t len)
{
    char buf[1024];
    uint64_t seq = 0;
    assert_int_equal(gh_queue_append(q, prio, ttl, qt_payload(buf, len, n), &seq), GH_OK);
    return seq;
}

/* Next message's number (payload) or -1 when nothing is deliverable; *seq
 * (may be NULL) its sequence number, 0 when none. */
static inline long qt_take(struct gh_queue *q, uint64_t *seq)
{
    if (seq) *seq = 0;
    struct gh_queue_msg m;
    bool have = true;
    assert_int_equal(gh_queue_next(q, &m, &have), GH_OK);
    if (!have) return -1;
    if (seq) *seq = m.seq;
    return (long)qt_num(m.payload);
}

/* Path of the only segment file of class cls (first found), or "" . */
static inline void qt_segment(const struct qt *t, unsigned cls, char *out, size_t cap)
{
    DIR *d = opendir(t->dir);
    struct dirent *de;
    char pre[8];
    snprintf(pre, sizeof pre, "p%02u-", cls);
    out[0] = '\0';
    while (d && (de = readdir(d)) != NULL) {
        if (!strncmp(de->d_name, pre, 4)) {
            snprintf(out, cap, "%s/%s", t->dir, de->d_name);
            break;
        }
    }
    if (d) closedir(d);
}

static inline long qt_file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static inline int qt_count_segments(const struct qt *t)
{
    DIR *d = opendir(t->dir);
    struct dirent *de;
    int n = 0;
    while (d && (de = readdir(d)) != NULL)
        if (strstr(de->d_name, ".seg")) n++;
    if (d) closedir(d);
    return n;
}

#endif
