/* Recovery at open: read the cursor, list the segments, scan every record
 * after the cursor (the files are untrusted), truncate torn tails, count and
 * skip corrupt regions, delete fully acknowledged segments. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "queue/queue_int.h"

struct cursor_file {
    uint64_t next_seq, next_seg;
    struct qpos pos[GH_QUEUE_PRIORITIES];
};

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return v;
}

/* Missing or corrupt: all zero (deliver everything again: at-least-once). */
static gh_err cursor_read(struct gh_queue *q, struct cursor_file *cf)
{
    memset(cf, 0, sizeof *cf);
    uint8_t b[CURSOR_SIZE + 1];
    int fd = openat(q->dirfd, CURSOR_NAME, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return GH_OK;
    GH_ENSURE(fd >= 0, q_errno(errno));
    ssize_t n = pread(fd, b, sizeof b, 0);
    int e = errno;
    close(fd);
    GH_ENSURE(n >= 0, q_errno(e));
    struct gh_reader r;
    uint32_t magic = 0, crc = 0;
    uint16_t version = 0, classes = 0;
    gh_reader_init(&r, b, (size_t)n);
    bool ok = (size_t)n == CURSOR_SIZE && gh_reader_u32be(&r, &magic) == GH_OK &&
              magic == CURSOR_MAGIC && gh_reader_u16be(&r, &version) == GH_OK &&
              gh_reader_u16be(&r, &classes) == GH_OK;
    if (ok) {
        struct gh_reader t = r;
        t.pos = CURSOR_SIZE - 4;
        ok = gh_reader_u32be(&t, &crc) == GH_OK && crc == gh_queue_crc32c(0, b, CURSOR_SIZE - 4);
    }
    if (ok && version != CURSOR_VERSION) {
        gh_log_error("queue.cursor.version", "dir=%s version=%u", q->dir, version);
        GH_BAIL(GH_ERR_UNSUPPORTED);
    }
    if (!ok || classes != GH_QUEUE_PRIORITIES) {
        gh_log_error("queue.cursor.corrupt", "dir=%s bytes=%zd action=redeliver-all", q->dir, n);
        q->st.corrupt++;
        return GH_OK;
    }
    struct cursor_file t;
    t.next_seq = get_u64(b + 8);
    t.next_seg = get_u64(b + 16);
    ok = t.next_seq <= SEQ_MAX && t.next_seg <= SEQ_MAX;
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) {
        t.pos[k].seg = get_u64(b + 24 + 16 * k);
        t.pos[k].off = get_u64(b + 32 + 16 * k);
        ok = ok && t.pos[k].seg <= SEQ_MAX;
    }
    if (!ok) {
        gh_log_error("queue.cursor.corrupt", "dir=%s reason=range action=redeliver-all", q->dir);
        q->st.corrupt++;
        return GH_OK;
    }
    *cf = t;
    return GH_OK;
}

/* "pNN-<16 lowercase hex>.seg" -> class, id. */
static bool parse_name(const char *s, unsigned *cls, uint64_t *id)
{
    if (strlen(s) != 24 || s[0] != 'p' || s[3] != '-' || strcmp(s + 20, ".seg") != 0) return false;
    if (s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9') return false;
    unsigned c = (unsigned)(s[1] - '0') * 10u + (unsigned)(s[2] - '0');
    if (c >= GH_QUEUE_PRIORITIES) return false;
    uint64_t v = 0;
    for (int i = 4; i < 20; i++) {
        char ch = s[i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a') + 10u;
        else
            return false;
        v = v << 4 | d;
    }
    if (v == 0) return false;
    *cls = c;
    *id = v;
    return true;
}

static gh_err list_segments(struct gh_queue *q, uint64_t *max_seg)
{
    int fd = dup(q->dirfd);
    GH_ENSURE(fd >= 0, q_errno(errno));
    DIR *d = fdopendir(fd);
    if (!d) {
        int e = errno;
        close(fd);
        GH_BAIL(q_errno(e));
    }
    rewinddir(d);
    gh_err rc = GH_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        unsigned k;
        uint64_t id;
        struct stat sb;
        if (n[0] == '.' || !strcmp(n, LOCK_NAME) || !strcmp(n, CURSOR_NAME)) continue;
        if (!strcmp(n, CURSOR_TMP)) {
            (void)unlinkat(q->dirfd, n, 0);
            continue;
        }
        if (!parse_name(n, &k, &id)) {
            char esc[96];
            gh_log_warn("queue.recover.unknown_file", "dir=%s file=%s action=ignored", q->dir,
                        gh_log_escape(esc, sizeof esc, n, strlen(n), 0));
            continue;
        }
        if (fstatat(q->dirfd, n, &sb, 0) != 0) {
            rc = q_errno(errno);
            break;
        }
        if (!S_ISREG(sb.st_mode)) continue;
        rc = seg_push(&q->cls[k], id, (uint64_t)sb.st_size, true);
        if (rc != GH_OK) break;
        if (id > *max_seg) *max_seg = id;
    }
    closedir(d);
    return rc;
}

/* Check the header of segment i; drop segments too short to hold one. */
static gh_err check_header(struct gh_queue *q, unsigned k, size_t *i)
{
    struct qclass *c = &q->cls[k];
    struct qseg *s = &c->segs[*i];
    char name[SEG_NAME_MAX];
    seg_name(name, k, s->id);
    if (s->size < SEG_HEADER) {
        gh_log_warn("queue.recover.short_segment", "dir=%s segment=%s bytes=%llu action=removed",
                    q->dir, name, (unsigned long long)s->size);
        q->disk_bytes += s->size; /* seg_remove subtracts it */
        seg_remove(q, k, *i);
        return GH_OK;
    }
    uint8_t h[SEG_HEADER];
    int fd = openat(q->dirfd, name, O_RDONLY | O_CLOEXEC);
    GH_ENSURE(fd >= 0, q_errno(errno));
    ssize_t n = pread(fd, h, sizeof h, 0);
    close(fd);
    GH_ENSURE(n == (ssize_t)sizeof h, GH_ERR_IO);
    gh_err rc = seg_header_check(h, sizeof h, k, s->id);
    if (rc == GH_ERR_UNSUPPORTED) {
        gh_log_error("queue.recover.version", "dir=%s segment=%s action=refuse-open", q->dir, name);
        GH_BAIL(rc);
    }
    if (rc != GH_OK) {
        gh_log_error("queue.recover.bad_header", "dir=%s segment=%s action=scan-records", q->dir,
                     name);
        q->st.corrupt++;
    }
    (*i)++;
    return GH_OK;
}

static gh_err truncate_seg(struct gh_queue *q, unsigned k, size_t i, uint64_t off)
{
    char name[SEG_NAME_MAX];
    seg_name(name, k, q->cls[k].segs[i].id);
    int fd = openat(q->dirfd, name, O_WRONLY | O_CLOEXEC);
    GH_ENSURE(fd >= 0, q_errno(errno));
    int rc = ftruncate(fd, (off_t)off);
    int e = errno;
    close(fd);
    GH_ENSURE(rc == 0, q_errno(e));
    cache_drop(q);
    q->cls[k].segs[i].size = off;
    return GH_OK;
}

/* Scan class k from its cursor: depth, highest seq, torn tails, corruption. */
static gh_err scan_class(struct gh_queue *q, unsigned k, uint64_t *max_seq)
{
    struct qclass *c = &q->cls[k];
    uint64_t last = 0;
    for (size_t i = seg_find(c, c->rpos.seg); i < c->nsegs; i++) {
        struct qseg *s = &c->segs[i];
        char name[SEG_NAME_MAX];
        seg_name(name, k, s->id);
        uint64_t off = s->id == c->rpos.seg ? c->rpos.off : SEG_HEADER;
        if (off < SEG_HEADER) off = SEG_HEADER;
        if (off > s->size) off = s->size;
        for (;;) {
            enum rd st;
            struct gh_queue_record rec;
            uint64_t next = 0;
            GH_GUARD(read_at(q, k, i, off, &st, &rec, &next));
            if (st == RD_END) break;
            if (st == RD_RECORD && rec.seq > last) {
                c->depth_msgs++;
                c->depth_bytes += next - off;
                last = rec.seq;
                if (rec.seq > *max_seq) *max_seq = rec.seq;
                off = next;
                continue;
            }
            if (st == RD_RECORD) { /* intact but out of order: not ours */
                gh_log_error("queue.recover.corrupt",
                             "dir=%s segment=%s offset=%llu "
                             "reason=sequence action=skipped",
                             q->dir, name, (unsigned long long)off);
                q->st.corrupt++;
                off = next;
                continue;
            }
            if (next == s->size) {
                bool tail = i + 1 == c->nsegs;
                gh_log_warn(tail ? "queue.recover.torn" : "queue.recover.corrupt",
                            "dir=%s segment=%s offset=%llu bytes=%llu action=truncated", q->dir,
                            name, (unsigned long long)off, (unsigned long long)(next - off));
                if (tail)
                    q->st.torn++;
                else
                    q->st.corrupt++;
                GH_GUARD(truncate_seg(q, k, i, off));
                break;
            }
            gh_log_error("queue.recover.corrupt",
                         "dir=%s segment=%s offset=%llu bytes=%llu "
                         "action=skipped",
                         q->dir, name, (unsigned long long)off, (unsigned long long)(next - off));
            q->st.corrupt++;
            off = next;
        }
    }
    return GH_OK;
}

gh_err q_recover(struct gh_queue *q)
{
    struct cursor_file cf;
    uint64_t max_seg = 0, max_seq = 0;
    GH_GUARD(cursor_read(q, &cf));
    GH_GUARD(list_segments(q, &max_seg));
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) {
        struct qclass *c = &q->cls[k];
        for (size_t i = 0; i < c->nsegs;) GH_GUARD(check_header(q, k, &i));
        c->rpos = cf.pos[k];
        GH_GUARD(scan_class(q, k, &max_seq));
    }
    q->disk_bytes = 0;
    uint64_t msgs = 0;
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) {
        for (size_t i = 0; i < q->cls[k].nsegs; i++) q->disk_bytes += q->cls[k].segs[i].size;
        msgs += q->cls[k].depth_msgs;
    }
    q->next_seq = cf.next_seq > max_seq + 1 ? cf.next_seq : max_seq + 1;
    /* New segments must sort after every position the cursor names. */
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++)
        if (cf.pos[k].seg > max_seg) max_seg = cf.pos[k].seg;
    q->next_seg = cf.next_seg > max_seg + 1 ? cf.next_seg : max_seg + 1;
    struct qpos cur[GH_QUEUE_PRIORITIES];
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) cur[k] = class_cursor(&q->cls[k]);
    delete_acked(q, cur, false);
    gh_log_info("queue.open", "dir=%s messages=%llu bytes=%llu corrupt=%llu torn=%llu", q->dir,
                (unsigned long long)msgs, (unsigned long long)q->disk_bytes,
                (unsigned long long)q->st.corrupt, (unsigned long long)q->st.torn);
    return GH_OK;
}
