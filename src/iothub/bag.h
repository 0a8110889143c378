/* IoT Hub property bags: the `key=value&key2&...` text that follows the
 * telemetry, cloud-to-device and module-input topic prefixes (PROTOCOL.md
 * 1.8.1 step 4, 1.8.2, 1.9.1, 1.12).
 *
 * Reading: gh_iothub_bag_next walks a bag item by item, percent-decoding keys
 * and values (0.3). Decoded text that needed no change is returned as a view
 * into the bag; text that contained `%XX` is decoded into a caller-provided
 * scratch writer. Writing: gh_iothub_bag_put encodes keys and values with
 * upper-case percent-encoding, as IoT Hub emits them.
 *
 * Also here: the classification of decoded keys into system properties, and
 * two small splitting helpers the other dialect parsers share.
 *
 * Nothing here allocates, logs or does I/O. All functions are thread-safe on
 * distinct objects.
 */
#ifndef GH_IOTHUB_BAG_H
#define GH_IOTHUB_BAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* System properties, by their decoded key (1.8.2 table, then the keys that
 * only servers put into bags they send to devices). */
#define GH_IOTHUB_PROP_TABLE(X)                                                                    \
    X(MESSAGE_ID, "$.mid", true)                                                                   \
    X(CORRELATION_ID, "$.cid", true)                                                               \
    X(USER_ID, "$.uid", true)                                                                      \
    X(TO, "$.to", true)                                                                            \
    X(CONTENT_TYPE, "$.ct", true)                                                                  \
    X(CONTENT_ENCODING, "$.ce", true)                                                              \
    X(EXPIRY, "$.exp", true)                                                                       \
    X(CREATION_TIME, "$.ctime", true)                                                              \
    X(OUTPUT_NAME, "$.on", true)                                                                   \
    X(INTERFACE_ID, "$.ifid", true)                                                                \
    X(SUBJECT, "$.sub", true)                                                                      \
    X(SCHEMA, "$.schema", true)                                                                    \
    X(DIAG_ID, "$.diagid", true)                                                                   \
    X(DIAG_CONTEXT, "$.diagctx", true)                                                             \
    X(OPERATION, "iothub-operation", true)                                                         \
    X(CONN_DEVICE_ID, "$.cdid", false)                                                             \
    X(CONN_MODULE_ID, "$.cmid", false)                                                             \
    X(ACK, "iothub-ack", false)

enum gh_iothub_prop {
    GH_IOTHUB_PROP_APP = 0, /* an application property */
#define GH_X(name, key, d2s) GH_IOTHUB_PROP_##name,
    GH_IOTHUB_PROP_TABLE(GH_X)
#undef GH_X
};

/* One item of a bag. has_value is false for an item without `=` (a key with
 * a null value); then value is empty. */
struct gh_iothub_bag_item {
    struct gh_slice key;
    struct gh_slice value;
    bool has_value;
};

/* Cursor over a bag. Initialise with gh_iothub_bag_iter_init; the bag memory
 * is borrowed and must outlive the iterator and every item it returns. */
struct gh_iothub_bag_iter {
    struct gh_reader r;
};

/* Start iterating `bag` (raw, as it appears after the topic prefix; may be
 * empty, ptr may be NULL when empty). Never fails. */
void gh_iothub_bag_iter_init(struct gh_iothub_bag_iter *it, struct gh_slice bag);

/* Next item of the bag (1.8.1 step 4): items are separated by `&`; empty
 * items, and items whose key is empty (`=v`), are skipped; an item is split
 * at its first `=`; key and value are percent-decoded per 0.3 (`%XX` in either
 * case, malformed `%` kept literally, `+` kept). The bag is taken as given:
 * callers drop the one trailing `/` of 1.8.1 step 3 before (the topic
 * classifiers in topic.h already do).
 *
 * On GH_OK, *found is false when the bag is exhausted (item untouched), else
 * true and *item is filled. item->key/value point into the bag, or into
 * scratch when decoding changed the text; they stay valid as long as the
 * bag's memory and the scratch storage do, and as long as the caller does not
 * rewind the scratch writer. A scratch with at least as much free space as
 * the bag is long never runs out.
 *
 * Duplicate keys are all returned, in order: the consumer's rule is that a
 * later duplicate overwrites an earlier one (1.8.1 step 4).
 *
 * Errors (the cursor and the scratch are then left unchanged):
 *   GH_ERR_NOBUFS    scratch too small for the decoded text of this item;
 *   GH_ERR_BAD_UTF8  a decoded key or value is not UTF-8, or contains U+0000
 *                    (e.g. `%FF`, `%00`). Callers treat the bag as malformed.
 */
GH_NODISCARD gh_err gh_iothub_bag_next(struct gh_iothub_bag_iter *it, struct gh_writer *scratch,
                                       struct gh_iothub_bag_item *item, bool *found);

/* Classify a decoded key of a bag a device sent (telemetry, 1.8.2): the
 * table's keys map to their enum value, every other key (including `$.cdid`,
 * `$.cmid`, `iothub-ack`) is GH_IOTHUB_PROP_APP. Exact, case-sensitive
 * comparison. Never fails. */
enum gh_iothub_prop gh_iothub_prop_classify(struct gh_slice key);

/* As gh_iothub_prop_classify, for a bag a server sent (C2D 1.9.1, module
 * input 1.12): additionally recognises `$.cdid`, `$.cmid` and `iothub-ack`. */
enum gh_iothub_prop gh_iothub_prop_classify_s2d(struct gh_slice key);

/* Decoded key of a system property ("$.mid", "iothub-ack", ...); NULL for
 * GH_IOTHUB_PROP_APP and unknown values. Static storage. */
const char *gh_iothub_prop_key(enum gh_iothub_prop p);

/* Bag writer: appends items, separated by `&`, to a caller-owned writer. */
struct gh_iothub_bag_writer {
    struct gh_writer *w;
    size_t count; /* items written so far */
};

/* Start a bag at the current end of w (borrowed; must outlive bw). Never
 * fails; writes nothing. */
void gh_iothub_bag_writer_init(struct gh_iothub_bag_writer *bw, struct gh_writer *w);

/* Append one item: percent-encoded key, then `=` and the percent-encoded
 * value when item->has_value (`key` = null value, `key=` = empty string,
 * 1.9.1). Encoding is upper-case hex of every byte outside A-Z a-z 0-9 - . _ ~
 * (0.3), so "$.mid" is written "%24.mid".
 * Errors (nothing is written then): GH_ERR_ARG for an empty key;
 * GH_ERR_NOBUFS when the writer is full. */
GH_NODISCARD gh_err gh_iothub_bag_put(struct gh_iothub_bag_writer *bw,
                                      const struct gh_iothub_bag_item *item);

/* Append a system property p with a value. Errors: GH_ERR_ARG when p is not
 * a system property; GH_ERR_NOBUFS. Nothing is written on error. */
GH_NODISCARD gh_err gh_iothub_bag_put_prop(struct gh_iothub_bag_writer *bw, enum gh_iothub_prop p,
                                           struct gh_slice value);

/* Append n items in order (n may be 0). Errors as gh_iothub_bag_put; on
 * error the writer and bw are restored to their state before the call. */
GH_NODISCARD gh_err gh_iothub_bag_put_all(struct gh_iothub_bag_writer *bw,
                                          const struct gh_iothub_bag_item *items, size_t n);

/* Find the first item named `name` in a query string or bag (`a=1&b&c=2`,
 * without the leading `?`). Names are compared after percent-decoding (so
 * `%24rid` matches "$rid"); the value is returned RAW (not decoded), as it
 * must be echoed byte-for-byte (`$rid`, 1.10.1). An item without `=` has an
 * empty value. Returns false when absent. Never fails. */
bool gh_iothub_query_find(struct gh_slice query, const char *name, struct gh_slice *value);

/* True when the percent-decoded form of `enc` equals `plain`, or `enc`
 * equals `plain` byte for byte (ids that contain `%` themselves). Used to
 * compare id segments of topics and filters (1.7, 1.8.1). Never fails. */
bool gh_iothub_pct_matches(struct gh_slice enc, struct gh_slice plain);

#endif
