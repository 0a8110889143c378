/* Queue files: segment headers, the read cache with resynchronisation, the
 * cursor file and deletion of acknowledged segments. Every byte read from a
 * segment goes through gh_queue_record_decode. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "queue/queue_int.h"

uint64_t q_now(struct gh_queue *q)
{
    if (q->clock_ms) return q->clock_ms(q->clock_ctx);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

gh_err q_errno(int e)
{
    switch (e) {
    case ENOSPC:
    case EDQUOT:
        return GH_ERR_NOSPACE;
    case EACCES:
    case EPERM:
    case EROFS:
        return GH_ERR_PERM;
    case ENOENT:
        return GH_ERR_NOENT;
    case ENOMEM:
        return GH_ERR_NOMEM;
    default:
        return GH_ERR_IO;
    }
}

int q_fail(struct gh_queue *q, enum gh_queue_op op)
{
    return q->fail ? q->fail(q->fail_ctx, op) : 0;
}

void seg_name(char *out, unsigned cls, uint64_t id)
{
    snprintf(out, SEG_NAME_MAX, "p%02u-%016llx.seg", cls, (unsigned long long)id);
}

size_t seg_find(const struct qclass *c, uint64_t id)
{
    size_t lo = 0, hi = c->nsegs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->segs[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

gh_err seg_push(struct qclass *c, uint64_t id, uint64_t size, bool recovered)
{
    if (c->nsegs == c->capsegs) {
        size_t ncap = c->capsegs ? c->capsegs * 2 : 8;
        struct qseg *n = realloc(c->segs, ncap * sizeof *n);
        GH_ENSURE(n, GH_ERR_NOMEM);
        c->segs = n;
        c->capsegs = ncap;
    }
    /* Kept sorted: recovery pushes in any order. */
    size_t i = seg_find(c, id);
    memmove(c->segs + i + 1, c->segs + i, (c->nsegs - i) * sizeof *c->segs);
    c->segs[i] = (struct qseg){id, size, recovered};
    c->nsegs++;
    return GH_OK;
}

void seg_remove(struct gh_queue *q, unsigned cls, size_t i)
{
    struct qclass *c = &q->cls[cls];
    char name[SEG_NAME_MAX];
    seg_name(name, cls, c->segs[i].id);
    if (q->cache_fd >= 0 && q->cache_cls == cls && q->cache_seg == c->segs[i].id) cache_drop(q);
    if (i + 1 == c->nsegs && c->wfd >= 0) {
        close(c->wfd);
        c->wfd = -1;
    }
    if (unlinkat(q->dirfd, name, 0) != 0 && errno != ENOENT)
        gh_log_warn("queue.segment.unlink", "dir=%s segment=%s errno=%d", q->dir, name, errno);
    q->disk_bytes -= c->segs[i].size;
    memmove(c->segs + i, c->segs + i + 1, (c->nsegs - i - 1) * sizeof *c->segs);
    c->nsegs--;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    put_u32(p, (uint32_t)(v >> 32));
    put_u32(p + 4, (uint32_t)v);
}

void seg_header(uint8_t out[SEG_HEADER], unsigned cls, uint64_t id)
{
    memset(out, 0, SEG_HEADER);
    put_u32(out, SEG_MAGIC);
    out[4] = 0;
    out[5] = SEG_VERSION;
    out[6] = (uint8_t)cls;
    put_u64(out + 8, id);
    put_u32(out + 20, gh_queue_crc32c(0, out, 20));
}

gh_err seg_header_check(const uint8_t *h, size_t n, unsigned cls, uint64_t id)
{
    struct gh_reader r;
    uint32_t magic, crc, rsv;
    uint16_t version;
    uint8_t hcls, rsv8;
    struct gh_slice idb;
    gh_reader_init(&r, h, n);
    GH_ENSURE(gh_reader_u32be(&r, &magic) == GH_OK && magic == SEG_MAGIC, GH_ERR_MALFORMED);
    GH_ENSURE(gh_reader_u16be(&r, &version) == GH_OK, GH_ERR_MALFORMED);
    GH_ENSURE(gh_reader_u8(&r, &hcls) == GH_OK && gh_reader_u8(&r, &rsv8) == GH_OK,
              GH_ERR_MALFORMED);
    GH_ENSURE(gh_reader_bytes(&r, 8, &idb) == GH_OK, GH_ERR_MALFORMED);
    GH_ENSURE(gh_reader_u32be(&r, &rsv) == GH_OK && gh_reader_u32be(&r, &crc) == GH_OK,
              GH_ERR_MALFORMED);
    GH_ENSURE(crc == gh_queue_crc32c(0, h, 20), GH_ERR_MALFORMED);
    GH_ENSURE(version == SEG_VERSION, GH_ERR_UNSUPPORTED);
    uint64_t hid = 0;
    for (size_t k = 0; k < 8; k++) hid = hid << 8 | idb.ptr[k];
    GH_ENSURE(hcls == cls && hid == id && rsv8 == 0 && rsv == 0, GH_ERR_MALFORMED);
    return GH_OK;
}

gh_err fsync_dir(struct gh_queue *q)
{
    int e = q_fail(q, GH_QUEUE_OP_SYNC);
    q->st.syncs++;
    if (!e && fsync(q->dirfd) != 0) e = errno;
    GH_ENSURE(!e, q_errno(e));
    q->dir_dirty = false;
    return GH_OK;
}

/* ---- read cache ---------------------------------------------------------- */

void cache_drop(struct gh_queue *q)
{
    if (q->cache_fd >= 0) close(q->cache_fd);
    q->cache_fd = -1;
    q->cache_len = 0;
}

/* Make the cache hold segment i of cls from off on: at least want bytes (or
 * up to size). *out borrows [off, cache end) clipped to size. */
static gh_err cache_get(struct gh_queue *q, unsigned cls, size_t i, uint64_t off, size_t want,
                        struct gh_slice *out)
{
    const struct qseg *s = &q->cls[cls].segs[i];
    uint64_t avail = s->size - off; /* off < size, checked by callers */
    if (want > avail) want = (size_t)avail;
    if (q->cache_fd < 0 || q->cache_cls != cls || q->cache_seg != s->id) {
        cache_drop(q);
        char name[SEG_NAME_MAX];
        seg_name(name, cls, s->id);
        int fd = openat(q->dirfd, name, O_RDONLY | O_CLOEXEC);
        GH_ENSURE(fd >= 0, q_errno(errno));
        q->cache_fd = fd;
        q->cache_cls = cls;
        q->cache_seg = s->id;
    }
    bool hit = off >= q->cache_base && off - q->cache_base <= q->cache_len &&
               want <= q->cache_len - (off - q->cache_base);
    if (!hit) {
        size_t n = avail < READ_CACHE_BYTES ? (size_t)avail : READ_CACHE_BYTES;
        size_t got = 0;
        q->cache_len = 0;
        while (got < n) {
            ssize_t r = pread(q->cache_fd, q->cache + got, n - got, (off_t)(off + got));
            if (r < 0 && errno == EINTR) continue;
            GH_ENSURE(r >= 0, GH_ERR_IO);
            if (r == 0) break; /* file shorter than we think: treated as truncated */
            got += (size_t)r;
        }
        q->cache_base = off;
        q->cache_len = got;
    }
    size_t start = (size_t)(off - q->cache_base);
    uint64_t len = q->cache_len - start;
    if (len > avail) len = avail;
    *out = (struct gh_slice){q->cache + start, (size_t)len};
    return GH_OK;
}

/* Decode at off, refilling the cache once if the record runs past it. */
static gh_err decode_at(struct gh_queue *q, unsigned cls, size_t i, uint64_t off,
                        struct gh_queue_record *rec, uint64_t *next, gh_err *drc)
{
    struct gh_slice s = GH_SLICE_EMPTY;
    GH_GUARD(cache_get(q, cls, i, off, GH_QUEUE_RECORD_HEADER, &s));
    struct gh_reader r;
    gh_reader_init(&r, s.ptr, s.len);
    gh_err rc = gh_queue_record_decode(&r, rec);
    if (rc == GH_ERR_TRUNCATED && s.len < q->cls[cls].segs[i].size - off &&
        s.len < GH_QUEUE_RECORD_MAX) {
        GH_GUARD(cache_get(q, cls, i, off, GH_QUEUE_RECORD_MAX, &s));
        gh_reader_init(&r, s.ptr, s.len);
        rc = gh_queue_record_decode(&r, rec);
    }
    if (rc == GH_OK && (rec->seq == 0 || rec->seq > SEQ_MAX)) rc = GH_ERR_MALFORMED;
    if (rc == GH_OK) *next = off + r.pos;
    *drc = rc;
    return GH_OK;
}

gh_err read_at(struct gh_queue *q, unsigned cls, size_t i, uint64_t off, enum rd *st,
               struct gh_queue_record *rec, uint64_t *next)
{
    uint64_t size = q->cls[cls].segs[i].size;
    if (off >= size) {
        *st = RD_END;
        return GH_OK;
    }
    gh_err drc;
    GH_GUARD(decode_at(q, cls, i, off, rec, next, &drc));
    if (drc == GH_OK) {
        *st = RD_RECORD;
        return GH_OK;
    }
    /* Resynchronise: the next offset holding the magic and an intact record. */
    static const uint8_t magic[4] = {0x47, 0x48, 0x51, 0x52};
    uint64_t pos = off + 1;
    while (pos < size && size - pos >= GH_QUEUE_RECORD_HEADER) {
        struct gh_slice s = GH_SLICE_EMPTY;
        GH_GUARD(cache_get(q, cls, i, pos, GH_QUEUE_RECORD_HEADER, &s));
        const uint8_t *hit = NULL;
        for (size_t k = 0; k + 4 <= s.len; k++) {
            if (s.ptr[k] == magic[0] && memcmp(s.ptr + k, magic, 4) == 0) {
                hit = s.ptr + k;
                break;
            }
        }
        if (!hit) {
            /* The last 3 bytes may start a magic: step past the rest only. */
            pos += s.len > 3 ? s.len - 3 : 1;
            continue;
        }
        uint64_t cand = pos + (uint64_t)(hit - s.ptr);
        struct gh_queue_record tmp;
        uint64_t tnext;
        GH_GUARD(decode_at(q, cls, i, cand, &tmp, &tnext, &drc));
        if (drc == GH_OK) {
            *st = RD_SKIP;
            *next = cand;
            return GH_OK;
        }
        pos = cand + 1;
    }
    *st = RD_SKIP;
    *next = size;
    return GH_OK;
}

/* ---- cursor --------------------------------------------------------------- */

struct qpos class_cursor(const struct qclass *c)
{
    if (c->rcount) return c->ring[c->rhead].pos;
    return c->rpos;
}

void cursor_encode(struct gh_queue *q, uint8_t b[CURSOR_SIZE], struct qpos pos[GH_QUEUE_PRIORITIES])
{
    put_u32(b, CURSOR_MAGIC);
    b[4] = 0;
    b[5] = CURSOR_VERSION;
    b[6] = 0;
    b[7] = GH_QUEUE_PRIORITIES;
    put_u64(b + 8, q->next_seq);
    put_u64(b + 16, q->next_seg);
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) {
        pos[k] = class_cursor(&q->cls[k]);
        put_u64(b + 24 + 16 * k, pos[k].seg);
        put_u64(b + 32 + 16 * k, pos[k].off);
    }
    put_u32(b + CURSOR_SIZE - 4, gh_queue_crc32c(0, b, CURSOR_SIZE - 4));
}

void cursor_hooks(struct gh_queue *q, int fail[CURSOR_STEPS])
{
    static const enum gh_queue_op ops[CURSOR_STEPS] = {GH_QUEUE_OP_WRITE, GH_QUEUE_OP_SYNC,
                                                       GH_QUEUE_OP_RENAME, GH_QUEUE_OP_SYNC};
    int e = 0;
    for (unsigned i = 0; i < CURSOR_STEPS; i++) {
        /* Like the steps themselves: none runs after one failed. */
        fail[i] = e ? 0 : q_fail(q, ops[i]);
        if (fail[i]) e = fail[i];
    }
    q->st.syncs += 2;
}

int cursor_store(int dirfd, const uint8_t b[CURSOR_SIZE], const int fail[CURSOR_STEPS])
{
    int e = 0;
    int fd = openat(dirfd, CURSOR_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return errno;
    e = fail[0];
    if (!e) {
        ssize_t w = pwrite(fd, b, CURSOR_SIZE, 0);
        if (w < 0)
            e = errno;
        else if ((size_t)w != CURSOR_SIZE)
            e = ENOSPC;
    }
    if (!e) e = fail[1];
    if (!e && fdatasync(fd) != 0) e = errno;
    close(fd);
    if (!e) e = fail[2];
    if (!e && renameat(dirfd, CURSOR_TMP, dirfd, CURSOR_NAME) != 0) e = errno;
    if (!e) e = fail[3];
    if (!e && fsync(dirfd) != 0) e = errno;
    return e;
}

void cursor_stored(struct gh_queue *q, int e, const struct qpos pos[GH_QUEUE_PRIORITIES])
{
    if (e) {
        q->cursor_dirty = true; /* written again at the next commit */
        gh_log_error("queue.cursor.write", "dir=%s err=%s", q->dir, gh_err_str(q_errno(e)));
        return;
    }
    delete_acked(q, pos, false);
}

gh_err cursor_write(struct gh_queue *q)
{
    uint8_t b[CURSOR_SIZE];
    struct qpos pos[GH_QUEUE_PRIORITIES];
    int fail[CURSOR_STEPS];
    cursor_encode(q, b, pos);
    cursor_hooks(q, fail);
    cursor_taken(q);
    int e = cursor_store(q->dirfd, b, fail);
    cursor_stored(q, e, pos);
    return e ? q_errno(e) : GH_OK;
}

void cursor_taken(struct gh_queue *q)
{
    q->cursor_dirty = false;
    q->acks_since_cursor = 0;
    q->cursor_written_ms = q_now(q);
}

void delete_acked(struct gh_queue *q, const struct qpos durable[GH_QUEUE_PRIORITIES], bool open_too)
{
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) {
        struct qclass *c = &q->cls[k];
        struct qpos cur = durable[k];
        q->durable[k] = cur;
        while (c->nsegs) {
            struct qseg *s = &c->segs[0];
            bool last = c->nsegs == 1;
            bool before = s->id < cur.seg || (s->id == cur.seg && cur.off >= s->size);
            /* The segment open for appending stays (with its acked bytes)
             * so that the next batch can go into it without creating a
             * segment: the gateway's commit then stays off its loop. It
             * goes once sealed and acked, or (open_too) when the cap needs
             * its space. Never while records wait to be written to it. */
            if (!before || (last && (c->wlen || (c->wfd >= 0 && !open_too)))) break;
            seg_remove(q, k, 0);
        }
    }
}
