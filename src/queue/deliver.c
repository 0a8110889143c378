/* Delivery: priority order, FIFO within a class, expired records skipped,
 * and the bounded set of delivered records awaiting their ack. The first
 * unacked position of a class (its cursor) is derived: the oldest entry of
 * its ring, else its read position. */
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "queue/queue_int.h"

static struct flight *ring_at(struct qclass *c, uint32_t i)
{
    return &c->ring[(c->rhead + i) % c->rcap];
}

static gh_err ring_push(struct gh_queue *q, struct qclass *c, const struct flight *f)
{
    if (c->rcount == c->rcap) {
        uint32_t ncap = c->rcap ? c->rcap * 2 : 64;
        if (ncap > q->window) ncap = q->window;
        struct flight *n = malloc((size_t)ncap * sizeof *n);
        GH_ENSURE(n, GH_ERR_NOMEM);
        for (uint32_t i = 0; i < c->rcount; i++) n[i] = *ring_at(c, i);
        free(c->ring);
        c->ring = n;
        c->rcap = ncap;
        c->rhead = 0;
    }
    c->ring[(c->rhead + c->rcount) % c->rcap] = *f;
    c->rcount++;
    q->ring_total++;
    return GH_OK;
}

/* Retire acked entries at the head: the cursor moves. */
static void ring_pop_acked(struct gh_queue *q, struct qclass *c)
{
    while (c->rcount && c->ring[c->rhead].state == FL_ACKED) {
        c->rhead = (c->rhead + 1) % c->rcap;
        c->rcount--;
        q->ring_total--;
        q->cursor_dirty = true;
    }
}

static void depth_sub(struct qclass *c, uint64_t bytes)
{
    if (c->depth_msgs) c->depth_msgs--;
    c->depth_bytes = c->depth_bytes > bytes ? c->depth_bytes - bytes : 0;
}

/* The read position moved past skipped bytes: the newest entry covers them,
 * or, with nothing outstanding, the cursor itself moves. */
static void skipped_to(struct gh_queue *q, struct qclass *c, struct qpos to)
{
    c->rpos = to;
    if (c->rcount)
        ring_at(c, c->rcount - 1)->end = to;
    else
        q->cursor_dirty = true;
}

static bool expired(struct gh_queue *q, uint64_t expiry_ms)
{
    return expiry_ms != 0 && q_now(q) >= expiry_ms;
}

static void fill(struct gh_queue_msg *out, unsigned k, const struct gh_queue_record *rec,
                 bool redelivery)
{
    out->seq = rec->seq;
    out->priority = k;
    out->enqueue_ms = rec->enqueue_ms;
    out->expiry_ms = rec->expiry_ms;
    out->redelivery = redelivery;
    out->payload = rec->payload;
}

/* Hand out the oldest nacked record of class k, if any. */
static gh_err redeliver(struct gh_queue *q, unsigned k, struct gh_queue_msg *out, bool *have)
{
    struct qclass *c = &q->cls[k];
    for (uint32_t i = 0; i < c->rcount && c->nacked; i++) {
        struct flight *f = ring_at(c, i);
        if (f->state != FL_NACKED) continue;
        c->nacked--;
        size_t si = seg_find(c, f->pos.seg);
        enum rd st = RD_END;
        struct gh_queue_record rec;
        uint64_t next = 0;
        if (si < c->nsegs && c->segs[si].id == f->pos.seg)
            GH_GUARD(read_at(q, k, si, f->pos.off, &st, &rec, &next));
        if (st != RD_RECORD || rec.seq != f->seq) {
            /* Changed under us since it was read: nothing left to send. */
            gh_log_error("queue.read.vanished", "dir=%s class=%u seq=%llu", q->dir, k,
                         (unsigned long long)f->seq);
            q->st.corrupt++;
            f->state = FL_ACKED;
            depth_sub(c, f->bytes);
            continue;
        }
        if (expired(q, rec.expiry_ms)) {
            q->st.expired++;
            f->state = FL_ACKED;
            depth_sub(c, f->bytes);
            continue;
        }
        f->state = FL_OUT;
        fill(out, k, &rec, true);
        q->st.delivered++;
        *have = true;
        break;
    }
    ring_pop_acked(q, c);
    return GH_OK;
}

/* Hand out the next unread record of class k, if any. */
static gh_err deliver_new(struct gh_queue *q, unsigned k, struct gh_queue_msg *out, bool *have)
{
    struct qclass *c = &q->cls[k];
    for (;;) {
        size_t si = seg_find(c, c->rpos.seg);
        if (si == c->nsegs) return GH_OK;
        uint64_t off = c->segs[si].id == c->rpos.seg ? c->rpos.off : SEG_HEADER;
        if (off < SEG_HEADER) off = SEG_HEADER;
        enum rd st;
        struct gh_queue_record rec;
        uint64_t next = 0;
        GH_GUARD(read_at(q, k, si, off, &st, &rec, &next));
        struct qpos at = {c->segs[si].id, off};
        if (st == RD_END) {
            if (si + 1 == c->nsegs) {
                c->rpos = at; /* normalised; stays here until more is committed */
                return GH_OK;
            }
            skipped_to(q, c, (struct qpos){c->segs[si + 1].id, SEG_HEADER});
            continue;
        }
        if (st == RD_SKIP || rec.seq <= c->last_seq) {
            if (st == RD_RECORD) next = off + gh_queue_record_size(rec.payload.len);
            if (!c->segs[si].recovered) {
                /* Found at open already otherwise (and counted there). */
                gh_log_error("queue.read.corrupt",
                             "dir=%s class=%u segment=%llu offset=%llu "
                             "bytes=%llu",
                             q->dir, k, (unsigned long long)at.seg, (unsigned long long)off,
                             (unsigned long long)(next - off));
                q->st.corrupt++;
                depth_sub(c, next - off);
            }
            skipped_to(q, c, (struct qpos){at.seg, next});
            continue;
        }
        uint32_t bytes = (uint32_t)(next - off);
        if (expired(q, rec.expiry_ms)) {
            q->st.expired++;
            depth_sub(c, bytes);
            c->last_seq = rec.seq;
            skipped_to(q, c, (struct qpos){at.seg, next});
            continue;
        }
        GH_ENSURE(q->ring_total < q->window, GH_ERR_TOO_MANY);
        struct flight f = {.seq = rec.seq,
                           .pos = at,
                           .end = {at.seg, next},
                           .enqueue_ms = rec.enqueue_ms,
                           .bytes = bytes,
                           .state = FL_OUT};
        GH_GUARD(ring_push(q, c, &f));
        c->last_seq = rec.seq;
        c->rpos = f.end;
        fill(out, k, &rec, false);
        q->st.delivered++;
        *have = true;
        return GH_OK;
    }
}

gh_err gh_queue_next(struct gh_queue *q, struct gh_queue_msg *out, bool *have)
{
    *have = false;
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) {
        if (q->cls[k].nacked) {
            GH_GUARD(redeliver(q, k, out, have));
            if (*have) return GH_OK;
        }
        GH_GUARD(deliver_new(q, k, out, have));
        if (*have) return GH_OK;
    }
    return GH_OK;
}

/* The entry of an outstanding (or nacked) seq, and its class. */
static struct flight *find(struct gh_queue *q, uint64_t seq, unsigned *cls)
{
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) {
        struct qclass *c = &q->cls[k];
        if (!c->rcount || seq < ring_at(c, 0)->seq || seq > ring_at(c, c->rcount - 1)->seq)
            continue;
        uint32_t lo = 0, hi = c->rcount;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (ring_at(c, mid)->seq < seq)
                lo = mid + 1;
            else
                hi = mid;
        }
        struct flight *f = lo < c->rcount ? ring_at(c, lo) : NULL;
        if (f && f->seq == seq && f->state != FL_ACKED) {
            *cls = k;
            return f;
        }
    }
    return NULL;
}

gh_err gh_queue_ack(struct gh_queue *q, uint64_t seq)
{
    unsigned k;
    struct flight *f = find(q, seq, &k);
    GH_ENSURE(f, GH_ERR_NOT_FOUND);
    struct qclass *c = &q->cls[k];
    if (f->state == FL_NACKED) c->nacked--;
    f->state = FL_ACKED;
    depth_sub(c, f->bytes);
    q->st.acked++;
    q->acks_since_cursor++;
    ring_pop_acked(q, c);
    return GH_OK;
}

gh_err gh_queue_nack(struct gh_queue *q, uint64_t seq)
{
    unsigned k;
    struct flight *f = find(q, seq, &k);
    GH_ENSURE(f && f->state == FL_OUT, GH_ERR_NOT_FOUND);
    f->state = FL_NACKED;
    q->cls[k].nacked++;
    q->st.nacked++;
    return GH_OK;
}

void gh_queue_nack_all(struct gh_queue *q)
{
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) {
        struct qclass *c = &q->cls[k];
        for (uint32_t i = 0; i < c->rcount; i++) {
            struct flight *f = ring_at(c, i);
            if (f->state != FL_OUT) continue;
            f->state = FL_NACKED;
            c->nacked++;
            q->st.nacked++;
        }
    }
}

/* Enqueue time of the oldest unacked record of class k (0 if none). */
static gh_err oldest(struct gh_queue *q, unsigned k, uint64_t *ms)
{
    struct qclass *c = &q->cls[k];
    *ms = 0;
    if (c->rcount) {
        *ms = ring_at(c, 0)->enqueue_ms;
        return GH_OK;
    }
    size_t si = seg_find(c, c->rpos.seg);
    for (; si < c->nsegs; si++) {
        uint64_t off = c->segs[si].id == c->rpos.seg ? c->rpos.off : SEG_HEADER;
        if (off < SEG_HEADER) off = SEG_HEADER;
        enum rd st;
        struct gh_queue_record rec;
        uint64_t next;
        GH_GUARD(read_at(q, k, si, off, &st, &rec, &next));
        if (st == RD_RECORD) {
            *ms = rec.enqueue_ms;
            return GH_OK;
        }
        if (st == RD_SKIP) return GH_OK; /* approximate: next() will skip it */
    }
    return GH_OK;
}

gh_err gh_queue_stats(struct gh_queue *q, struct gh_queue_stats *out)
{
    struct gh_queue_stats s = q->st;
    uint64_t now = q_now(q), old = 0;
    s.depth_msgs = s.depth_bytes = s.outstanding = 0;
    for (unsigned k = 0; k < GH_QUEUE_PRIORITIES; k++) {
        struct qclass *c = &q->cls[k];
        s.depth_msgs += c->depth_msgs;
        s.depth_bytes += c->depth_bytes;
        for (uint32_t i = 0; i < c->rcount; i++)
            if (ring_at(c, i)->state == FL_OUT) s.outstanding++;
        uint64_t ms;
        GH_GUARD(oldest(q, k, &ms));
        if (ms && (!old || ms < old)) old = ms;
    }
    s.disk_bytes = q->disk_bytes;
    s.oldest_age_ms = old && now > old ? now - old : 0;
    *out = s;
    return GH_OK;
}
