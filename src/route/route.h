/* Message routing: the IoT Hub / IoT Edge route language (PROTOCOL.md 6.6,
 * 6.7 and 7).
 *
 *   [SELECT *] FROM source [WHERE condition] INTO sink
 *
 * gh_route_parse compiles one route string into an immutable gh_route held in
 * ONE allocation (expression nodes, literal strings and the sink argument).
 * gh_route_eval evaluates a parsed route against a borrowed message view
 * (gh_route_msg) without allocating, logging or doing I/O: string results of
 * functions and decoded JSON strings live in a bounded scratch area on the
 * evaluator's stack; running out of it makes the value undefined.
 *
 * A route table (gh_route_table) holds a set of named routes with priority
 * and time-to-live and returns, for a message, the matching sinks
 * deduplicated per sink (rule: see gh_route_table_eval).
 *
 * Thread-safety: parsed routes and tables are immutable; any number of
 * threads may evaluate the same route or table concurrently. gh_route_free /
 * gh_route_table_free must not race with evaluation.
 */
#ifndef GH_ROUTE_ROUTE_H
#define GH_ROUTE_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"

/* ---- Limits ------------------------------------------------------------ */

/* Longest route text in bytes. */
#define GH_ROUTE_TEXT_MAX 4096
/* Deepest nesting of the condition (parentheses, unary operators, calls). */
#define GH_ROUTE_DEPTH_MAX 64
/* Most expression nodes in one condition. */
#define GH_ROUTE_NODES_MAX 512
/* Most arguments of one function call (CONCAT is the only variadic one). */
#define GH_ROUTE_ARGS_MAX 16
/* Longest error message (including the NUL). */
#define GH_ROUTE_ERRMSG_MAX 160
/* Evaluator scratch for decoded JSON strings and string results, bytes. */
#define GH_ROUTE_EVAL_SCRATCH 4096
/* Deepest JSON nesting the body scanner follows; deeper bodies -> undefined. */
#define GH_ROUTE_JSON_DEPTH_MAX 64
/* Most segments ($body.a.b[0] has 3) in one body path. */
#define GH_ROUTE_BODY_PATH_MAX 32
/* LocalTopic("...") argument: MQTT topic name, at most this many bytes. */
#define GH_ROUTE_TOPIC_MAX 256
/* AppendFile("...") argument: file name, at most this many bytes. */
#define GH_ROUTE_FILE_MAX 128
/* Routes in one table. */
#define GH_ROUTE_TABLE_MAX 256
/* Longest route name in a table, bytes. */
#define GH_ROUTE_NAME_MAX 128

/* Priorities (6.5): 0 (highest) .. 9; routes without one get the default,
 * which sorts below every explicit priority. */
#define GH_ROUTE_PRIORITY_MAX 9u
#define GH_ROUTE_PRIORITY_DEFAULT 2000000000u

/* Resolved time-to-live meaning "keep forever" (6.5: a negative TTL). */
#define GH_ROUTE_TTL_FOREVER INT64_C(-1)

/* ---- Message view ------------------------------------------------------ */

/* System properties usable after `$` (PROTOCOL.md 7.2). */
enum gh_route_sys {
    GH_ROUTE_SYS_CONTENT_TYPE = 0,                /* contentType ($.ct) */
    GH_ROUTE_SYS_CONTENT_ENCODING,                /* contentEncoding ($.ce) */
    GH_ROUTE_SYS_MESSAGE_ID,                      /* messageId ($.mid) */
    GH_ROUTE_SYS_CORRELATION_ID,                  /* correlationId ($.cid) */
    GH_ROUTE_SYS_USER_ID,                         /* userId ($.uid) */
    GH_ROUTE_SYS_TO,                              /* to ($.to) */
    GH_ROUTE_SYS_CONNECTION_DEVICE_ID,            /* connectionDeviceId */
    GH_ROUTE_SYS_CONNECTION_MODULE_ID,            /* connectionModuleId */
    GH_ROUTE_SYS_CONNECTION_DEVICE_GENERATION_ID, /* connectionDeviceGenerationId */
    GH_ROUTE_SYS_CONNECTION_AUTH_METHOD,          /* connectionAuthMethod */
    GH_ROUTE_SYS_ENQUEUED_TIME,                   /* enqueuedTime, iothub-enqueuedtime */
    GH_ROUTE_SYS_DT_SUBJECT,                      /* dt-subject ($.sub) */
    GH_ROUTE_SYS_DT_DATASCHEMA,                   /* dt-dataschema */
    GH_ROUTE_SYS_OUTPUT_NAME,                     /* outputName ($.on) */
    GH_ROUTE_SYS_COUNT
};

/* One application property, already percent-decoded. value.ptr == NULL means
 * the property is present with a null value (a bag item without `=`). */
struct gh_route_prop {
    struct gh_slice key;
    struct gh_slice value;
};

/* A borrowed, cheap-to-build view of one message. Nothing is copied; every
 * slice must stay valid for the duration of the evaluation call. */
struct gh_route_msg {
    /* Source path: "/messages/", "/messages/modules/{M}/",
     * "/messages/modules/{M}/outputs/{O}/", "/twinChangeNotifications/". */
    struct gh_slice source;
    /* System properties, percent-decoded; ptr == NULL means undefined
     * (ptr != NULL with len 0 is the empty string). */
    struct gh_slice sys[GH_ROUTE_SYS_COUNT];
    /* Application properties in bag order; lookups ignore case and the first
     * match wins (the topic parser already let later duplicates win). */
    const struct gh_route_prop *app;
    size_t napp;
    /* Raw body bytes. */
    struct gh_slice body;
};

/* Zero a message view (every property undefined, no body, empty source). */
void gh_route_msg_init(struct gh_route_msg *m);

/* System property for a routing name of 7.2 ("contentType", "enqueuedTime",
 * "iothub-enqueuedtime", ...), ASCII case-insensitive. Returns false for an
 * unknown name. Thread-safe. */
bool gh_route_sys_from_name(struct gh_slice name, enum gh_route_sys *out);

/* System property for a decoded wire key of 1.8.2 ("$.ct", "$.ce", "$.mid",
 * "$.cid", "$.uid", "$.to", "$.on", "$.sub"); exact match. Returns false for
 * any other key (connection properties are stamped by the gateway, never read
 * from the wire). Thread-safe. */
bool gh_route_sys_from_wire_key(struct gh_slice key, enum gh_route_sys *out);

/* ---- Parsing ----------------------------------------------------------- */

struct gh_route;

/* Where and why parsing failed. column is 1-based in bytes of the route text
 * (0 when the error is not tied to a position, e.g. a table-level error);
 * route is the index of the offending spec (tables only, else 0); msg is
 * NUL-terminated, e.g. "column 23: expected INTO, got 'INTOO'". */
struct gh_route_error {
    size_t route;
    size_t column;
    char msg[GH_ROUTE_ERRMSG_MAX];
};

/* Parse one route string (text need not be NUL-terminated; len bytes).
 * On success *out owns a new route; free it with gh_route_free. On failure
 * *out is untouched and, if err is non-NULL, *err describes the problem.
 * Errors:
 *   GH_ERR_CONFIG_SYNTAX  malformed route (lexical or grammar error, unknown
 *                         function, wrong number of arguments, unknown
 *                         system property, bad source, bad sink syntax)
 *   GH_ERR_CONFIG_VALUE   a well-formed sink whose argument is invalid
 *                         (BrokeredEndpoint path, LocalTopic topic,
 *                         AppendFile name) or an unknown sink function
 *   GH_ERR_TOO_LARGE      len > GH_ROUTE_TEXT_MAX
 *   GH_ERR_TOO_MANY       more than GH_ROUTE_NODES_MAX nodes, nesting deeper
 *                         than GH_ROUTE_DEPTH_MAX, more than
 *                         GH_ROUTE_ARGS_MAX arguments, or a body path longer
 *                         than GH_ROUTE_BODY_PATH_MAX segments
 *   GH_ERR_NOMEM          allocation failed
 * Thread-safe. */
GH_NODISCARD gh_err gh_route_parse(const char *text, size_t len, struct gh_route **out,
                                   struct gh_route_error *err);

/* Free a route (NULL is a no-op). Every slice borrowed from it dies. */
void gh_route_free(struct gh_route *r);

/* ---- Inspection -------------------------------------------------------- */

enum gh_route_sink_kind {
    GH_ROUTE_SINK_UPSTREAM = 0, /* $upstream */
    GH_ROUTE_SINK_BROKERED,     /* BrokeredEndpoint("/modules/{M}/inputs/{I}") */
    GH_ROUTE_SINK_LOCAL_TOPIC,  /* LocalTopic("site/alerts/temperature") */
    GH_ROUTE_SINK_APPEND_FILE,  /* AppendFile("alerts.jsonl") */
};

/* A sink. Slices borrow the route (or table) and are NUL-terminated in its
 * storage (ptr[len] == 0), valid until it is freed. */
struct gh_route_sink {
    enum gh_route_sink_kind kind;
    /* Decoded argument: empty for UPSTREAM, the full endpoint path for
     * BROKERED, the topic for LOCAL_TOPIC, the file name for APPEND_FILE. */
    struct gh_slice arg;
    /* BROKERED only: module id {M} and input name {I}; empty otherwise. */
    struct gh_slice module;
    struct gh_slice input;
};

/* The route's sink. Never fails. */
struct gh_route_sink gh_route_sink(const struct gh_route *r);

/* The normalised source path: trailing `*` and `/` stripped, one `/`
 * appended: "/messages/<star>" gives "/messages/", "/<star>" gives "/" (where
 * <star> is the `*` wildcard). Borrowed from r. */
struct gh_slice gh_route_source(const struct gh_route *r);

/* True if the message source path starts with the route's normalised source,
 * ASCII case-insensitively (6.6). */
bool gh_route_source_matches(const struct gh_route *r, struct gh_slice source);

/* True if the condition references $body (callers may skip reading the body
 * when false). */
bool gh_route_uses_body(const struct gh_route *r);

/* True if the route has a WHERE clause. */
bool gh_route_has_condition(const struct gh_route *r);

/* Two sinks are the same destination: same kind and byte-identical argument
 * (module ids, topics and file names are case-sensitive). */
bool gh_route_sink_eq(const struct gh_route_sink *a, const struct gh_route_sink *b);

/* ---- Evaluation -------------------------------------------------------- */

/* Value types of the language (7.4). OBJECT and ARRAY only arise from body
 * queries; every operation except IS_DEFINED/IS_OBJECT/IS_ARRAY/IS_* type
 * tests treats them as undefined (7.5). */
enum gh_route_vtype {
    GH_ROUTE_V_UNDEFINED = 0,
    GH_ROUTE_V_NULL,
    GH_ROUTE_V_BOOL,
    GH_ROUTE_V_NUMBER,
    GH_ROUTE_V_STRING,
    GH_ROUTE_V_OBJECT,
    GH_ROUTE_V_ARRAY,
};

/* Result of a condition, for diagnostics and tests. For strings only the
 * type and the byte length (n) are reported. */
struct gh_route_value {
    enum gh_route_vtype type;
    bool b;   /* BOOL */
    double n; /* NUMBER; byte length for STRING */
};

/* Does the message match the route? True only when the source matches and
 * the condition (if any) evaluates to boolean true (7.7). No allocation, no
 * logging, no I/O; uses about GH_ROUTE_EVAL_SCRATCH bytes of stack plus a
 * recursion bounded by GH_ROUTE_DEPTH_MAX. Thread-safe. */
bool gh_route_eval(const struct gh_route *r, const struct gh_route_msg *m);

/* The condition's value, ignoring the source (a route without WHERE yields
 * boolean true). Same properties as gh_route_eval. */
struct gh_route_value gh_route_eval_value(const struct gh_route *r, const struct gh_route_msg *m);

/* ---- Route table ------------------------------------------------------- */

struct gh_route_table;

/* One named route of a configuration. */
struct gh_route_spec {
    const char *name; /* NUL-terminated, 1..GH_ROUTE_NAME_MAX bytes, unique */
    const char *text; /* route string */
    size_t text_len;
    uint32_t priority; /* 0..GH_ROUTE_PRIORITY_MAX or GH_ROUTE_PRIORITY_DEFAULT */
    int64_t ttl_secs;  /* 0 = use the table default; < 0 = keep forever */
};

/* Parse every spec into a new table (names, texts are copied; specs may be
 * freed afterwards). default_ttl_secs resolves ttl_secs == 0 (itself: > 0
 * seconds, or <= 0 meaning forever). On failure *out is untouched and *err
 * (if non-NULL) names the offending spec index in err->route and carries the
 * parse error with column. Errors: those of gh_route_parse, and
 *   GH_ERR_CONFIG_VALUE  priority out of range, empty/too long/duplicate name
 *   GH_ERR_TOO_MANY      n > GH_ROUTE_TABLE_MAX
 *   GH_ERR_NOMEM         allocation failed
 * Thread-safe. */
GH_NODISCARD gh_err gh_route_table_new(const struct gh_route_spec *specs, size_t n,
                                       int64_t default_ttl_secs, struct gh_route_table **out,
                                       struct gh_route_error *err);

/* Free a table (NULL is a no-op). */
void gh_route_table_free(struct gh_route_table *t);

/* Number of routes; route i's parsed form and name (borrowed from t). */
size_t gh_route_table_count(const struct gh_route_table *t);
const struct gh_route *gh_route_table_route(const struct gh_route_table *t, size_t i);
const char *gh_route_table_name(const struct gh_route_table *t, size_t i);
/* Configured priority and resolved TTL (GH_ROUTE_TTL_FOREVER or > 0). */
uint32_t gh_route_table_priority(const struct gh_route_table *t, size_t i);
int64_t gh_route_table_ttl(const struct gh_route_table *t, size_t i);

/* One destination a message goes to. */
struct gh_route_match {
    struct gh_route_sink sink; /* borrowed from the table */
    uint32_t priority;         /* best (lowest) priority among matching routes */
    int64_t ttl_secs;          /* longest resolved TTL among them (FOREVER wins) */
    size_t route;              /* first route (table order) with that priority */
    size_t nroutes;            /* how many routes selected this sink */
};

/* Evaluate m against every route. Matching routes are grouped by sink
 * (gh_route_sink_eq): each sink appears once, with the numerically lowest
 * priority and the longest TTL of the routes that selected it, so a message
 * matching two $upstream routes goes upstream once. Output order is the order
 * in which each sink first matched in the table. *n receives the count.
 * Errors: GH_ERR_NOBUFS if more than cap distinct sinks match (cap >=
 * gh_route_table_count(t) always suffices); then *n is 0. Thread-safe. */
GH_NODISCARD gh_err gh_route_table_eval(const struct gh_route_table *t,
                                        const struct gh_route_msg *m, struct gh_route_match *out,
                                        size_t cap, size_t *n);

#endif
