/* The queue's operations: append (memory only), group commit, priority
 * delivery with a bounded out-of-order ack set, and stats. Files are handled
 * in store.c, recovery at open in recover.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "queue/queue_int.h"

/* ---- open / close ----------------------------------------------------------- */

static gh_err options_apply(struct gh_queue *q, const struct gh_queue_options *o)
{
    struct gh_queue_options d;
    if (!o) {
        gh_queue_options_default(&d);
        o = &d;
    }
    GH_ENSURE(o->segment_bytes == 0 || (o->segment_bytes >= GH_QUEUE_SEGMENT_BYTES_MIN &&
                                        o->segment_bytes <= GH_QUEUE_SEGMENT_BYTES_MAX),
              GH_ERR_ARG);
    GH_ENSURE(o->window <= GH_QUEUE_WINDOW_MAX, GH_ERR_ARG);
    q->max_bytes = o->max_bytes ? o->max_bytes : GH_QUEUE_MAX_BYTES_DEFAULT;
    q->segment_bytes = o->segment_bytes ? o->segment_bytes : GH_QUEUE_SEGMENT_BYTES_DEFAULT;
    q->window = o->window ? o->window : GH_QUEUE_WINDOW_DEFAULT;
    q->batch_max = o->batch_max ? o->batch_max : GH_QUEUE_BATCH_MAX_DEFAULT;
    q->cursor_acks = o->cursor_acks ? o->cursor_acks : GH_QUEUE_CURSOR_ACKS_DEFAULT;
    q->cursor_interval_ms =
        o->cursor_interval_ms ? o->cursor_interval_ms : GH_QUEUE_CURSOR_INTERVAL_MS_DEFAULT;
    q->clock_ms = o->clock_ms;
    q->clock_ctx = o->clock_ctx;
    q->fail = o->fail;
    q->fail_ctx = o->fail_ctx;
    return GH_OK;
}

gh_err gh_queue_open(const char *dir, const struct gh_queue_options *opt, struct gh_queue **out)
{
    gh_err rc;
    GH_ENSURE(dir && *dir && strlen(dir) < DIR_MAX, GH_ERR_ARG);
    struct gh_queue *q = calloc(1, sizeof *q);
    GH_ENSURE(q, GH_ERR_NOMEM);
    q->dirfd = q->lockfd = q->cache_fd = -1;
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) q->cls[k].wfd = -1;
    memcpy(q->dir, dir, strlen(dir) + 1);
    rc = options_apply(q, opt);
    if (rc != GH_OK) goto out;
    q->cache = malloc(READ_CACHE_BYTES);
    if (!q->cache) {
        rc = GH_ERR_NOMEM;
        goto out;
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        rc = q_errno(errno);
        goto out;
    }
    q->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (q->dirfd < 0) {
        rc = q_errno(errno);
        goto out;
    }
    q->lockfd = openat(q->dirfd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (q->lockfd < 0) {
        rc = q_errno(errno);
        goto out;
    }
    if (flock(q->lockfd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK ? GH_ERR_CONFLICT : q_errno(errno);
        goto out;
    }
    rc = q_recover(q);
    if (rc != GH_OK) goto out;
    q->cursor_written_ms = q_now(q);
    *out = q;
    q = NULL;
out:
    if (q) {
        q->cursor_dirty = false; /* nothing to save from a failed open */
        gh_queue_close(q);
    }
    return rc;
}

void gh_queue_close(struct gh_queue *q)
{
    if (!q) return;
    if (q->flushing) {
        /* The caller broke the contract (gh_queue_flush_end first): the
         * helper thread may still use the flush. Leak q rather than free
         * what it uses. */
        gh_log_error("queue.close", "dir=%s err=\"a flush is in flight\"", q->dir);
        return;
    }
    if (q->cursor_dirty && q->dirfd >= 0) (void)cursor_write(q);
    cache_drop(q);
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) {
        struct qclass *c = &q->cls[k];
        if (c->wfd >= 0) close(c->wfd);
        free(c->segs);
        free(c->wbuf);
        free(c->ring);
    }
    if (q->lockfd >= 0) close(q->lockfd);
    if (q->dirfd >= 0) close(q->dirfd);
    free(q->cache);
    free(q);
}

/* ---- append / commit ------------------------------------------------------ */

gh_err gh_queue_append(struct gh_queue *q, unsigned priority, uint64_t ttl_ms,
                       struct gh_slice payload, uint64_t *seq_out)
{
    GH_ENSURE(priority < GH_QUEUE_PRIORITIES, GH_ERR_ARG);
    GH_ENSURE(payload.len <= GH_QUEUE_PAYLOAD_MAX, GH_ERR_TOO_LARGE);
    size_t n = gh_queue_record_size(payload.len);
    if (q->disk_bytes + q->pending_bytes + n > q->max_bytes) {
        /* Before refusing: make the acks durable (unless a flush is writing
         * the cursor), which deletes the acked sealed segments, and free
         * acked segments still open for appending. */
        if (q->cursor_dirty && !(q->flushing && q->flush.cursor)) (void)cursor_write(q);
        delete_acked(q, q->durable, true);
    }
    if (q->disk_bytes + q->pending_bytes + n > q->max_bytes) {
        q->st.refused++;
        GH_BAIL(GH_ERR_NOSPACE);
    }
    GH_ENSURE(q->pending_bytes + n <= q->batch_max, GH_ERR_NOBUFS);
    struct qclass *c = &q->cls[priority];
    if (n > c->wcap - c->wlen) {
        size_t ncap = c->wcap ? c->wcap : 64u * 1024u;
        while (n > ncap - c->wlen) ncap *= 2;
        uint8_t *nb = realloc(c->wbuf, ncap);
        GH_ENSURE(nb, GH_ERR_NOMEM);
        c->wbuf = nb;
        c->wcap = ncap;
    }
    uint64_t now = q_now(q);
    struct gh_queue_record rec = {
        .seq = q->next_seq,
        .enqueue_ms = now,
        .expiry_ms = ttl_ms == 0 ? 0 : (ttl_ms > UINT64_MAX - now ? UINT64_MAX : now + ttl_ms),
        .payload = payload,
    };
    struct gh_writer w;
    gh_writer_init(&w, c->wbuf + c->wlen, c->wcap - c->wlen);
    GH_GUARD(gh_queue_record_encode(&w, &rec));
    c->wlen += w.len;
    q->pending_bytes += w.len;
    q->next_seq++;
    q->st.appended++;
    if (seq_out) *seq_out = rec.seq;
    return GH_OK;
}

static uint32_t rec_len_at(const uint8_t *p)
{
    uint32_t n = (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 | (uint32_t)p[14] << 8 | p[15];
    return GH_QUEUE_RECORD_HEADER + n;
}

static gh_err write_all(struct gh_queue *q, int fd, const uint8_t *p, size_t n, uint64_t off)
{
    int e = q_fail(q, GH_QUEUE_OP_WRITE);
    while (!e && n) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            e = errno;
            break;
        }
        if (w == 0) {
            e = ENOSPC;
            break;
        }
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    GH_ENSURE(!e, q_errno(e));
    return GH_OK;
}

static gh_err sync_fd(struct gh_queue *q, int fd)
{
    int e = q_fail(q, GH_QUEUE_OP_SYNC);
    q->st.syncs++;
    if (!e && fdatasync(fd) != 0) e = errno;
    GH_ENSURE(!e, q_errno(e));
    return GH_OK;
}

static gh_err seg_create(struct gh_queue *q, unsigned k)
{
    struct qclass *c = &q->cls[k];
    char name[SEG_NAME_MAX];
    uint8_t h[SEG_HEADER];
    uint64_t id = q->next_seg;
    seg_name(name, k, id);
    int fd = openat(q->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    GH_ENSURE(fd >= 0, q_errno(errno));
    seg_header(h, k, id);
    gh_err rc = write_all(q, fd, h, sizeof h, 0);
    if (rc == GH_OK) rc = seg_push(c, id, 0, false);
    if (rc != GH_OK) {
        close(fd);
        (void)unlinkat(q->dirfd, name, 0);
        return rc;
    }
    q->next_seg++;
    q->dir_dirty = true;
    c->wfd = fd;
    return GH_OK;
}

/* The last segment was not fully committed: cut it back and seal it (the
 * next commit starts a new segment), or remove it if it holds nothing. */
static void class_rollback(struct gh_queue *q, unsigned k)
{
    struct qclass *c = &q->cls[k];
    if (c->wfd >= 0) {
        struct qseg *s = &c->segs[c->nsegs - 1];
        if (s->size == 0) {
            seg_remove(q, k, c->nsegs - 1);
        } else {
            if (ftruncate(c->wfd, (off_t)s->size) != 0)
                gh_log_warn("queue.commit.truncate", "dir=%s class=%u errno=%d", q->dir, k, errno);
            close(c->wfd);
            c->wfd = -1;
        }
    }
    q->pending_bytes -= c->wlen;
    c->wlen = 0;
}

/* Mark [from, to) of the batch committed in the last segment, size bytes. */
static void class_committed(struct gh_queue *q, unsigned k, uint64_t size, size_t from, size_t to)
{
    struct qclass *c = &q->cls[k];
    struct qseg *s = &c->segs[c->nsegs - 1];
    uint64_t msgs = 0;
    for (size_t p = from; p < to; p += rec_len_at(c->wbuf + p)) msgs++;
    q->disk_bytes += size - s->size;
    s->size = size;
    c->depth_msgs += msgs;
    c->depth_bytes += to - from;
    q->st.committed += msgs;
}

static gh_err class_commit(struct gh_queue *q, unsigned k)
{
    struct qclass *c = &q->cls[k];
    gh_err rc = GH_OK;
    size_t pos = 0, done = 0;
    uint64_t size = 0;
    if (c->wfd >= 0) size = c->segs[c->nsegs - 1].size;
    while (pos < c->wlen) {
        if (c->wfd < 0) {
            rc = seg_create(q, k);
            if (rc != GH_OK) goto out;
            size = SEG_HEADER;
        }
        size_t end = pos;
        while (end < c->wlen) {
            uint32_t rl = rec_len_at(c->wbuf + end);
            if (size + (end - pos) + rl > q->segment_bytes && size + (end - pos) > SEG_HEADER)
                break;
            end += rl;
        }
        if (end > pos) {
            rc = write_all(q, c->wfd, c->wbuf + pos, end - pos, size);
            if (rc != GH_OK) goto out;
            size += end - pos;
            pos = end;
        }
        if (pos < c->wlen) { /* the segment is full: seal it */
            rc = sync_fd(q, c->wfd);
            if (rc != GH_OK) goto out;
            class_committed(q, k, size, done, pos);
            done = pos;
            close(c->wfd);
            c->wfd = -1;
        }
    }
    rc = sync_fd(q, c->wfd);
    if (rc != GH_OK) goto out;
    class_committed(q, k, size, done, pos);
    done = pos;
out:
    if (rc != GH_OK) {
        /* Records of sealed segments stay (durable); the rest is dropped. */
        memmove(c->wbuf, c->wbuf + done, c->wlen - done);
        q->pending_bytes -= done;
        c->wlen -= done;
        class_rollback(q, k);
        gh_log_error("queue.commit", "dir=%s class=%u err=%s", q->dir, k, gh_err_str(rc));
        return rc;
    }
    q->pending_bytes -= c->wlen;
    c->wlen = 0;
    return GH_OK;
}

static bool cursor_due(struct gh_queue *q)
{
    if (!q->cursor_dirty) return false;
    if (q->acks_since_cursor >= q->cursor_acks) return true;
    uint64_t now = q_now(q);
    return now < q->cursor_written_ms || now - q->cursor_written_ms >= q->cursor_interval_ms;
}

gh_err gh_queue_commit(struct gh_queue *q)
{
    GH_ENSURE(!q->flushing, GH_ERR_CONFLICT);
    gh_err rc = GH_OK;
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) {
        if (!q->cls[k].wlen) continue;
        if (rc == GH_OK)
            rc = class_commit(q, k);
        else
            class_rollback(q, k); /* not attempted: discarded like the failed class */
    }
    if (q->dir_dirty) {
        gh_err drc = fsync_dir(q);
        if (rc == GH_OK) rc = drc;
    }
    GH_GUARD(rc);
    if (cursor_due(q)) GH_GUARD(gh_queue_sync_cursor(q));
    return GH_OK;
}

gh_err gh_queue_sync_cursor(struct gh_queue *q)
{
    GH_ENSURE(!q->flushing, GH_ERR_CONFLICT);
    return cursor_write(q);
}

/* ---- commit with the syncs on another thread ------------------------------ */

/* The batch fits the open segment of every class it touches: no segment
 * to create or seal, so no directory sync and no new segment to hide. */
static bool flush_fits(const struct gh_queue *q)
{
    if (q->dir_dirty && q->pending_bytes) return false;
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) {
        const struct qclass *c = &q->cls[k];
        if (!c->wlen) continue;
        if (c->wfd < 0 || c->segs[c->nsegs - 1].size + c->wlen > q->segment_bytes) return false;
    }
    return true;
}

/* Drop the first n bytes of the class's batch (written and settled). */
static void class_drop_front(struct gh_queue *q, unsigned k, size_t n)
{
    struct qclass *c = &q->cls[k];
    memmove(c->wbuf, c->wbuf + n, c->wlen - n);
    c->wlen -= n;
    q->pending_bytes -= n;
}

gh_err gh_queue_flush_begin(struct gh_queue *q, struct gh_queue_flush **out)
{
    *out = NULL;
    GH_ENSURE(!q->flushing, GH_ERR_CONFLICT);
    if (!flush_fits(q)) return GH_ERR_NOBUFS;
    bool due = cursor_due(q);
    if (!q->pending_bytes && !due) return GH_OK;
    struct gh_queue_flush *f = &q->flush;
    memset(f, 0, sizeof *f);
    gh_err rc = GH_OK;
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) f->fd[k] = -1;
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES && rc == GH_OK; k++) {
        struct qclass *c = &q->cls[k];
        if (!c->wlen) continue;
        rc = write_all(q, c->wfd, c->wbuf, c->wlen, c->segs[c->nsegs - 1].size);
        if (rc != GH_OK) break;
        f->bytes[k] = c->wlen;
        f->fd[k] = fcntl(c->wfd, F_DUPFD_CLOEXEC, 0);
        if (f->fd[k] < 0) {
            rc = q_errno(errno);
            break;
        }
        f->fail[k] = q_fail(q, GH_QUEUE_OP_SYNC);
    }
    if (rc != GH_OK) {
        /* Nothing of this batch may be acknowledged: drop it all, like a
         * failed gh_queue_commit. */
        for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) {
            if (f->fd[k] >= 0) close(f->fd[k]);
            if (q->cls[k].wlen) class_rollback(q, k);
        }
        gh_log_error("queue.commit", "dir=%s err=%s", q->dir, gh_err_str(rc));
        return rc;
    }
    if (due) {
        f->cursor = true;
        f->dirfd = q->dirfd;
        cursor_encode(q, f->cursor_buf, f->cursor_pos);
        cursor_hooks(q, f->cursor_fail);
        cursor_taken(q);
    }
    q->flushing = true;
    *out = f;
    return GH_OK;
}

void gh_queue_flush_sync(struct gh_queue_flush *f)
{
    f->synced = true;
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) {
        if (f->fd[k] < 0) continue;
        f->err[k] = f->fail[k];
        if (!f->err[k] && fdatasync(f->fd[k]) != 0) f->err[k] = errno;
        close(f->fd[k]);
        f->fd[k] = -1;
    }
    if (f->cursor) f->cursor_err = cursor_store(f->dirfd, f->cursor_buf, f->cursor_fail);
}

gh_err gh_queue_flush_end(struct gh_queue *q)
{
    GH_ENSURE(q->flushing, GH_ERR_ARG);
    struct gh_queue_flush *f = &q->flush;
    if (!f->synced) gh_queue_flush_sync(f); /* never reported durable unsynced */
    gh_err rc = GH_OK;
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) {
        struct qclass *c = &q->cls[k];
        size_t n = f->bytes[k];
        if (!n) continue;
        struct qseg *s = &c->segs[c->nsegs - 1];
        q->st.syncs++;
        if (!f->err[k]) {
            class_committed(q, k, s->size + n, 0, n);
        } else {
            /* Cut the segment back to what is durable and seal it; records
             * appended since stay queued for the next commit, in a new
             * segment. */
            if (ftruncate(c->wfd, (off_t)s->size) != 0)
                gh_log_warn("queue.commit.truncate", "dir=%s class=%u errno=%d", q->dir, k, errno);
            close(c->wfd);
            c->wfd = -1;
            if (rc == GH_OK) rc = q_errno(f->err[k]);
            gh_log_error("queue.commit", "dir=%s class=%u err=%s", q->dir, k,
                         gh_err_str(q_errno(f->err[k])));
        }
        class_drop_front(q, k, n);
    }
    if (f->cursor) {
        cursor_stored(q, f->cursor_err, f->cursor_pos);
        if (f->cursor_err && rc == GH_OK) rc = q_errno(f->cursor_err);
    }
    q->flushing = false;
    return rc;
}
