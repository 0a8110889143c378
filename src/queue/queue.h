/* The gateway's durable store-and-forward queue (docs/queue.md).
 *
 * One directory per queue. Per priority class (0..9 and the default class)
 * an append-only FIFO of segment files holds checksummed records; one small
 * "cursor" file remembers, per class, the first record not yet acknowledged.
 *
 *   append  copies a record into memory (no I/O, no per-message malloc);
 *   commit  writes everything appended so far with ONE fdatasync per
 *           touched segment; only then may the caller acknowledge the
 *           messages to their senders (group commit);
 *   next    hands out committed records in priority order (lower class
 *           first, FIFO within a class), skipping expired ones;
 *   ack     retires one delivered record (acks may come out of order; the
 *           durable cursor advances over the contiguous acked prefix);
 *   nack    makes a delivered record deliverable again, before newer ones
 *           of its class.
 *
 * Delivery is at-least-once: records acknowledged after the last durable
 * cursor write (at most cursor_acks acks or cursor_interval_ms, see
 * gh_queue_options) are delivered again after a crash.
 *
 * Segment files are untrusted input: a torn last record is truncated away,
 * a corrupt record is logged, counted and skipped, and every intact record
 * is kept.
 *
 * Thread-safety: a gh_queue is used by one thread (the gateway's event
 * loop), except gh_queue_flush_sync, which another thread may run on a
 * flush (below); distinct queues are independent. The record codec and
 * gh_queue_crc32c are pure and thread-safe.
 */
#ifndef GH_QUEUE_QUEUE_H
#define GH_QUEUE_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"

/* Priority classes: 0..9 as in route objects, and the default class for
 * routes without a priority (delivered after all explicit priorities). */
#define GH_QUEUE_PRIORITIES 11u
#define GH_QUEUE_PRIORITY_DEFAULT 10u

/* Record layout (big-endian), GH_QUEUE_RECORD_HEADER bytes then payload:
 *   0 magic u32 "GHQR"   4 crc32c u32 (of bytes 8..end of payload)
 *   8 version u8         9 flags u8     10 reserved u16 (0)
 *  12 payload length u32 16 seq u64     24 enqueue ms u64  32 expiry ms u64 */
#define GH_QUEUE_RECORD_MAGIC 0x47485152u /* "GHQR" */
#define GH_QUEUE_RECORD_VERSION 1u
#define GH_QUEUE_RECORD_HEADER 40u
/* Largest payload of one record (IoT Hub messages are <= 256 KiB; the
 * gateway adds the device id and the property bag). */
#define GH_QUEUE_PAYLOAD_MAX (512u * 1024u)
#define GH_QUEUE_RECORD_MAX (GH_QUEUE_RECORD_HEADER + GH_QUEUE_PAYLOAD_MAX)

/* Defaults and bounds of gh_queue_options. */
#define GH_QUEUE_MAX_BYTES_DEFAULT (1024ull * 1024u * 1024u)
#define GH_QUEUE_SEGMENT_BYTES_DEFAULT (8u * 1024u * 1024u)
#define GH_QUEUE_SEGMENT_BYTES_MIN 4096u
#define GH_QUEUE_SEGMENT_BYTES_MAX (1024u * 1024u * 1024u)
#define GH_QUEUE_WINDOW_DEFAULT 4096u
#define GH_QUEUE_WINDOW_MAX 65536u
#define GH_QUEUE_BATCH_MAX_DEFAULT (16u * 1024u * 1024u)
#define GH_QUEUE_CURSOR_ACKS_DEFAULT 1024u
#define GH_QUEUE_CURSOR_INTERVAL_MS_DEFAULT 1000u

/* Operations a test can make fail (gh_queue_options.fail). */
enum gh_queue_op {
    GH_QUEUE_OP_WRITE = 0, /* write(2) of records or the cursor */
    GH_QUEUE_OP_SYNC,      /* fdatasync/fsync */
    GH_QUEUE_OP_RENAME,    /* rename of the cursor file */
};

struct gh_queue_options {
    /* Cap on the bytes of segment files on disk (acked records in a segment
     * that still holds unacked ones count until the segment is deleted).
     * 0 means GH_QUEUE_MAX_BYTES_DEFAULT. */
    uint64_t max_bytes;
    /* A segment is closed and a new one started past this size.
     * 0 = default; else GH_QUEUE_SEGMENT_BYTES_MIN..MAX. */
    uint32_t segment_bytes;
    /* Most records delivered and not yet acked (all classes together).
     * 0 = default; else 1..GH_QUEUE_WINDOW_MAX. */
    uint32_t window;
    /* Most uncommitted bytes appended between two commits. 0 = default. */
    uint32_t batch_max;
    /* The cursor is written on commit once this many acks accumulated or
     * cursor_interval_ms passed since the last write. 0 = default. */
    uint32_t cursor_acks;
    uint32_t cursor_interval_ms;
    /* Wall clock in ms since the epoch (enqueue time, TTL). NULL =
     * CLOCK_REALTIME. Tests inject a fake clock. */
    uint64_t (*clock_ms)(void *ctx);
    void *clock_ctx;
    /* Test hook: called before each operation of kind op; a nonzero return
     * is taken as the errno of that operation failing (e.g. ENOSPC). NULL
     * in production. */
    int (*fail)(void *ctx, enum gh_queue_op op);
    void *fail_ctx;
};

/* All fields zero/NULL: the defaults. */
void gh_queue_options_default(struct gh_queue_options *o);

/* One decoded record. payload borrows the decoded bytes. */
struct gh_queue_record {
    uint8_t version;
    uint8_t flags;
    uint64_t seq;
    uint64_t enqueue_ms;
    uint64_t expiry_ms; /* 0 = never */
    struct gh_slice payload;
};

/* A delivered message. payload is borrowed from the queue and valid until
 * the next call of any gh_queue_* function on the same queue. */
struct gh_queue_msg {
    uint64_t seq;      /* ack/nack id; unique and increasing per queue */
    unsigned priority; /* class 0..GH_QUEUE_PRIORITY_DEFAULT */
    uint64_t enqueue_ms;
    uint64_t expiry_ms; /* 0 = never */
    bool redelivery;    /* handed out before in this process (nack) */
    struct gh_slice payload;
};

struct gh_queue_stats {
    uint64_t depth_msgs;    /* committed, not yet acked or expired */
    uint64_t depth_bytes;   /* their record bytes */
    uint64_t disk_bytes;    /* bytes of segment files (the cap counts this) */
    uint64_t oldest_age_ms; /* age of the oldest unacked record; 0 if none */
    uint64_t outstanding;   /* delivered, not yet acked or nacked */
    uint64_t appended;      /* counters since open */
    uint64_t committed;
    uint64_t delivered;
    uint64_t acked;
    uint64_t nacked;
    uint64_t expired;
    uint64_t corrupt; /* corrupt regions skipped (open and reads) */
    uint64_t torn;    /* torn tails truncated at open */
    uint64_t refused; /* appends refused at the cap */
    uint64_t syncs;   /* fdatasync/fsync calls */
};

struct gh_queue;

/* Priority class of a route priority: 0..9 stay, anything else (the
 * default 2000000000 of PROTOCOL.md 6.5) is GH_QUEUE_PRIORITY_DEFAULT. */
unsigned gh_queue_priority_class(uint32_t route_priority);

/* Open (creating if needed) the queue in directory dir and recover it:
 * every segment is scanned from the durable cursor, torn tails truncated,
 * corrupt regions skipped (logged, counted), fully acked segments deleted.
 * The directory is locked (flock) against a second opener.
 * opt may be NULL (defaults). *out is set only on success; free it with
 * gh_queue_close.
 * Errors: GH_ERR_ARG (option out of range, dir too long), GH_ERR_NOMEM,
 * GH_ERR_CONFLICT (directory locked by another queue), GH_ERR_PERM,
 * GH_ERR_NOENT (parent missing), GH_ERR_UNSUPPORTED (a segment or cursor
 * file of a newer format version: nothing is changed), GH_ERR_NOSPACE,
 * GH_ERR_IO. */
GH_NODISCARD gh_err gh_queue_open(const char *dir, const struct gh_queue_options *opt,
                                  struct gh_queue **out);

/* Discard uncommitted appends, write the cursor (errors are logged), close
 * files and free q. NULL is a no-op. */
void gh_queue_close(struct gh_queue *q);

/* Buffer one record of class priority with time-to-live ttl_ms (0 =
 * never expires). Does no I/O; the record becomes durable and deliverable
 * at the next successful gh_queue_commit. *seq_out (may be NULL) receives
 * its sequence number. payload is copied.
 * Errors: GH_ERR_ARG (priority > GH_QUEUE_PRIORITY_DEFAULT),
 * GH_ERR_TOO_LARGE (payload > GH_QUEUE_PAYLOAD_MAX), GH_ERR_NOSPACE (the
 * max_bytes cap would be exceeded: this record is refused, earlier appends
 * stay), GH_ERR_NOBUFS (batch_max uncommitted bytes: commit first),
 * GH_ERR_NOMEM. On error nothing is appended. */
GH_NODISCARD gh_err gh_queue_append(struct gh_queue *q, unsigned priority, uint64_t ttl_ms,
                                    struct gh_slice payload, uint64_t *seq_out);

/* Make every record appended so far durable: write them, one fdatasync per
 * touched segment, fsync the directory if a segment was created; then
 * write the cursor if due. A no-op when nothing is pending and the cursor
 * is not due.
 * Errors: GH_ERR_NOSPACE (ENOSPC), GH_ERR_IO. On error none of the records
 * appended since the last successful commit may be acknowledged to their
 * senders: those of the failing class are discarded (the segment is cut
 * back to its last committed size), those of classes already synced stay
 * queued (and may be delivered: at-least-once). Committed records are
 * never affected. */
GH_NODISCARD gh_err gh_queue_commit(struct gh_queue *q);

/* ---- a commit whose syncs run on another thread --------------------------
 * gh_queue_commit blocks its caller for the fdatasyncs. A caller with an
 * event loop can instead keep serving while the disk works:
 *   gh_queue_flush_begin  (loop) writes every record appended so far to its
 *                         segment, without syncing, and hands out the syncs
 *                         due (and the cursor, if due) as a flush;
 *   gh_queue_flush_sync   (any thread) does them;
 *   gh_queue_flush_end    (loop) makes the records durable and deliverable,
 *                         or discards them if their sync failed.
 * One flush at a time. Meanwhile append, next, ack, nack and stats go on
 * (records appended meanwhile wait for the next commit); gh_queue_commit
 * and gh_queue_sync_cursor answer GH_ERR_CONFLICT, and gh_queue_close must
 * not be called (end the flush first). */
struct gh_queue_flush;

/* Start a flush. *out is NULL when there is nothing to sync. The flush is
 * owned by q and valid until gh_queue_flush_end.
 * Errors: GH_ERR_NOBUFS (the batch needs a segment to be created or
 * sealed: call gh_queue_commit, which does that on the calling thread; it
 * happens when a segment is full, at the first commit after opening, and
 * after a failed commit sealed one), GH_ERR_CONFLICT (a
 * flush is in flight), GH_ERR_NOSPACE, GH_ERR_IO (a write failed: the whole
 * batch is discarded, as with a failed gh_queue_commit; none of it may be
 * acknowledged). */
GH_NODISCARD gh_err gh_queue_flush_begin(struct gh_queue *q, struct gh_queue_flush **out);

/* Run the flush's fdatasyncs and cursor write. Thread-safe against the
 * queue's own thread: touches only f. */
void gh_queue_flush_sync(struct gh_queue_flush *f);

/* Finish the flush (after gh_queue_flush_sync returned; if it did not run,
 * it runs here first). GH_OK: every
 * record of the batch is durable and deliverable: acknowledge them.
 * Errors: GH_ERR_NOSPACE, GH_ERR_IO: a sync (or the cursor write) failed;
 * none of the batch may be acknowledged; a class whose sync failed has its
 * segment cut back to the last durable size and sealed, and its batch
 * discarded (records of classes that synced stay queued: at-least-once);
 * records appended during the flush stay pending. GH_ERR_ARG: no flush is
 * in flight. */
GH_NODISCARD gh_err gh_queue_flush_end(struct gh_queue *q);

/* Next record to deliver: a nacked record of the lowest class first, else
 * the oldest undelivered committed record of the lowest class. Expired
 * records are skipped and counted. *have is false when nothing is
 * deliverable (then *out is untouched). out->payload is borrowed until the
 * next gh_queue_* call on q.
 * Errors: GH_ERR_TOO_MANY (window records are outstanding: ack some),
 * GH_ERR_IO (read failed), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_queue_next(struct gh_queue *q, struct gh_queue_msg *out, bool *have);

/* The upstream has the record seq: retire it. The cursor advances over the
 * contiguous acked prefix of its class; fully acked segments are deleted
 * after the cursor is durable.
 * Errors: GH_ERR_NOT_FOUND (seq is not outstanding). */
GH_NODISCARD gh_err gh_queue_ack(struct gh_queue *q, uint64_t seq);

/* Delivery of seq failed: it becomes deliverable again, before newer
 * records of its class. Errors: GH_ERR_NOT_FOUND (seq is not
 * outstanding). */
GH_NODISCARD gh_err gh_queue_nack(struct gh_queue *q, uint64_t seq);

/* Nack every outstanding record (the link went down). */
void gh_queue_nack_all(struct gh_queue *q);

/* Write the cursor now (rename + directory fsync) and delete fully acked
 * segments. Errors: GH_ERR_NOSPACE, GH_ERR_IO. */
GH_NODISCARD gh_err gh_queue_sync_cursor(struct gh_queue *q);

/* Depth, age and counters. Reads one record header per class to find the
 * oldest age. Errors: GH_ERR_IO. */
GH_NODISCARD gh_err gh_queue_stats(struct gh_queue *q, struct gh_queue_stats *out);

/* ---- record codec (pure: no I/O, no allocation, no logging) ------------ */

/* Bytes of a record with a payload of n bytes. */
size_t gh_queue_record_size(size_t n);

/* Append one record (rec->version is ignored: GH_QUEUE_RECORD_VERSION is
 * written). Errors: GH_ERR_TOO_LARGE (payload > GH_QUEUE_PAYLOAD_MAX),
 * GH_ERR_NOBUFS (w too small; nothing written). */
GH_NODISCARD gh_err gh_queue_record_encode(struct gh_writer *w, const struct gh_queue_record *rec);

/* Decode the record at the cursor of r (untrusted bytes). On success *out
 * borrows r's memory and r is past the record; on error r is unchanged.
 * Errors: GH_ERR_TRUNCATED (the input ends inside the record),
 * GH_ERR_MALFORMED (bad magic, nonzero reserved bits, CRC mismatch),
 * GH_ERR_TOO_LARGE (length > GH_QUEUE_PAYLOAD_MAX),
 * GH_ERR_UNSUPPORTED (another version). */
GH_NODISCARD gh_err gh_queue_record_decode(struct gh_reader *r, struct gh_queue_record *out);

/* CRC32C (Castagnoli) of data, continuing from crc (start with 0). */
uint32_t gh_queue_crc32c(uint32_t crc, const void *data, size_t len);

#endif
