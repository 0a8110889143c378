/* Internals of the queue module shared by queue.c, store.c and recover.c.
 * Not for use outside src/queue/. */
#ifndef GH_QUEUE_QUEUE_INT_H
#define GH_QUEUE_QUEUE_INT_H

#include "queue/queue.h"

/* Segment file header (big-endian): magic u32 "GHQS", version u16,
 * class u8, reserved u8, segment id u64, reserved u32, crc32c u32 of bytes
 * 0..20. Records follow at SEG_HEADER. */
#define SEG_MAGIC 0x47485153u /* "GHQS" */
#define SEG_VERSION 1u
#define SEG_HEADER 24u
/* Cursor file: magic u32 "GHQC", version u16, classes u16, next seq u64,
 * next segment id u64, per class {segment id u64, offset u64}, crc32c u32 of
 * everything before it. */
#define CURSOR_MAGIC 0x47485143u /* "GHQC" */
#define CURSOR_VERSION 1u
#define CURSOR_SIZE (24u + 16u * GH_QUEUE_PRIORITIES + 4u)
#define CURSOR_NAME "cursor"
#define CURSOR_TMP "cursor.tmp"
/* Steps of a cursor write: write, sync, rename, directory sync. */
#define CURSOR_STEPS 4u
#define LOCK_NAME "lock"
/* "pNN-<16 hex>.seg" */
#define SEG_NAME_MAX 32u
/* Sequence numbers above this are refused as corrupt (so next_seq never
 * wraps). */
#define SEQ_MAX (UINT64_C(1) << 62)
/* Read cache: one full record plus read-ahead. */
#define READ_CACHE_BYTES (GH_QUEUE_RECORD_MAX + 256u * 1024u)
#define DIR_MAX 4096u

/* A position in a class's log: every record in segments with a smaller id,
 * and in segment seg before offset off, lies before it. The segment need not
 * exist any more (positions are logical). */
struct qpos {
    uint64_t seg;
    uint64_t off;
};

struct qseg {
    uint64_t id;
    uint64_t size;  /* committed (readable) bytes */
    bool recovered; /* existed at open: its corruption was already counted */
};

enum flight_state { FL_OUT = 0, FL_NACKED, FL_ACKED };

/* A delivered record, in log order within its class. */
struct flight {
    uint64_t seq;
    struct qpos pos; /* start of the record */
    struct qpos end; /* after it and after records skipped behind it */
    uint64_t enqueue_ms;
    uint32_t bytes;
    uint8_t state;
};

struct qclass {
    struct qseg *segs; /* ascending ids */
    size_t nsegs, capsegs;
    int wfd;       /* last segment open for appending, or -1 */
    uint8_t *wbuf; /* uncommitted encoded records */
    size_t wlen, wcap;
    struct qpos rpos;  /* next record never handed out */
    uint64_t last_seq; /* highest seq handed out (monotonic check) */
    struct flight *ring;
    uint32_t rhead, rcount, rcap;
    uint32_t nacked;
    uint64_t depth_msgs, depth_bytes;
};

/* A commit whose syncs run on another thread (gh_queue_flush_*): what the
 * thread touches is here, nothing of the queue itself. */
struct gh_queue_flush {
    int fd[GH_QUEUE_PRIORITIES];       /* a dup of the class's open segment, or -1 */
    int fail[GH_QUEUE_PRIORITIES];     /* test hook's errno for its sync, taken on the loop */
    int err[GH_QUEUE_PRIORITIES];      /* result: 0 or the errno */
    size_t bytes[GH_QUEUE_PRIORITIES]; /* written: the first bytes of the class's batch */
    bool cursor;                       /* the cursor is written too */
    int dirfd;
    uint8_t cursor_buf[CURSOR_SIZE];
    struct qpos cursor_pos[GH_QUEUE_PRIORITIES];
    int cursor_fail[CURSOR_STEPS];
    int cursor_err;
    bool synced; /* gh_queue_flush_sync ran */
};

struct gh_queue {
    int dirfd;
    int lockfd;
    char dir[DIR_MAX];
    uint64_t max_bytes;
    uint32_t segment_bytes, window, batch_max, cursor_acks, cursor_interval_ms;
    uint64_t (*clock_ms)(void *ctx);
    void *clock_ctx;
    int (*fail)(void *ctx, enum gh_queue_op op);
    void *fail_ctx;

    struct qclass cls[GH_QUEUE_PRIORITIES];
    uint64_t next_seq, next_seg;
    uint64_t disk_bytes;    /* sum of committed segment sizes */
    uint64_t pending_bytes; /* uncommitted appends */
    uint32_t ring_total;    /* flight entries over all classes */
    bool dir_dirty;         /* a segment was created since the last dir fsync */
    bool cursor_dirty;
    bool flushing;                            /* flush handed out, not yet ended */
    struct qpos durable[GH_QUEUE_PRIORITIES]; /* the cursor file's positions */
    struct gh_queue_flush flush;
    uint64_t acks_since_cursor;
    uint64_t cursor_written_ms;

    /* read cache over one segment file */
    uint8_t *cache;
    int cache_fd;
    unsigned cache_cls;
    uint64_t cache_seg, cache_base;
    size_t cache_len;

    struct gh_queue_stats st;
};

/* ---- store.c: files ---- */
uint64_t q_now(struct gh_queue *q);
gh_err q_errno(int e);
/* Run the test hook for op: an errno or 0. */
int q_fail(struct gh_queue *q, enum gh_queue_op op);
void seg_name(char *out, unsigned cls, uint64_t id);
/* Index of the first segment with id >= pos.seg (nsegs if none). */
size_t seg_find(const struct qclass *c, uint64_t id);
gh_err seg_push(struct qclass *c, uint64_t id, uint64_t size, bool recovered);
void seg_remove(struct gh_queue *q, unsigned cls, size_t i);
void seg_header(uint8_t out[SEG_HEADER], unsigned cls, uint64_t id);
/* Check a segment header: GH_OK, GH_ERR_MALFORMED, GH_ERR_UNSUPPORTED. */
gh_err seg_header_check(const uint8_t *h, size_t n, unsigned cls, uint64_t id);
gh_err fsync_dir(struct gh_queue *q);
/* The cursor file: encode it (and the positions it holds), evaluate the
 * test hooks of its steps (write, sync, rename, directory sync; counted as
 * two syncs), store it (any thread: touches only dirfd and its arguments;
 * returns 0 or an errno), and take the result back (on success, delete
 * the segments before pos). cursor_taken marks the cursor clean when its
 * bytes are encoded; a failure marks it dirty again. cursor_write does all
 * of it here. */
void cursor_encode(struct gh_queue *q, uint8_t b[CURSOR_SIZE],
                   struct qpos pos[GH_QUEUE_PRIORITIES]);
void cursor_hooks(struct gh_queue *q, int fail[CURSOR_STEPS]);
void cursor_taken(struct gh_queue *q);
int cursor_store(int dirfd, const uint8_t b[CURSOR_SIZE], const int fail[CURSOR_STEPS]);
void cursor_stored(struct gh_queue *q, int e, const struct qpos pos[GH_QUEUE_PRIORITIES]);
gh_err cursor_write(struct gh_queue *q);
void cache_drop(struct gh_queue *q);

enum rd { RD_RECORD, RD_END, RD_SKIP };
/* Read at offset off of segment index i of class cls (untrusted bytes).
 * RD_RECORD: *rec (payload borrowed from the cache) and *next. RD_END: off
 * is at the committed end. RD_SKIP: [off, *next) is corrupt; *next is the
 * next valid record or the segment's end. */
gh_err read_at(struct gh_queue *q, unsigned cls, size_t i, uint64_t off, enum rd *st,
               struct gh_queue_record *rec, uint64_t *next);

/* The first unacknowledged position of a class. */
struct qpos class_cursor(const struct qclass *c);
/* Delete segments wholly before the durable cursor positions (and
 * remember them in q->durable); the segment open for appending only if
 * open_too. */
void delete_acked(struct gh_queue *q, const struct qpos durable[GH_QUEUE_PRIORITIES],
                  bool open_too);

/* ---- recover.c ---- */
gh_err q_recover(struct gh_queue *q);

#endif
