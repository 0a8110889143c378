/* HTTP/1.1 message parsing: request heads, response heads, chunked bodies,
 * request-target paths and queries (RFC 9110 / 9112, strict subset).
 *
 * Decoders only: bytes in, typed views out. Nothing here allocates, logs or
 * does I/O. Views (struct gh_slice) borrow the caller's input and stay valid
 * as long as it does. All functions are thread-safe on distinct objects.
 *
 * Head parsing is incremental. The caller keeps every byte of the current
 * message received so far in one contiguous buffer and calls the parse
 * function with the whole buffer each time more arrives (the parser resumes
 * its scan where it stopped, so the total work is linear). Results:
 *   GH_OK + GH_HTTP_NEED_MORE  the head is not complete yet;
 *   GH_OK + GH_HTTP_COMPLETE   the head ends after head->head_len bytes; the
 *                              body (if any) starts there;
 *   an error                   sticky: every later call returns it again;
 *                              gh_http_parser_status() gives the HTTP status
 *                              a server answers with before closing.
 * After COMPLETE, gh_http_parser_reset() prepares for the next message of a
 * keep-alive connection (the caller drops the bytes of the finished one).
 *
 * What is accepted (everything else is an error, and the error is detected
 * as early as the bytes allow):
 *  - lines end in CRLF; a bare CR or LF, NUL or another control character
 *    (except HTAB) anywhere in the head is 400. Empty lines before the first
 *    line are skipped (RFC 9112 2.2) but count against max_head;
 *  - request line: method token (1..GH_HTTP_METHOD_MAX tchars), one SP,
 *    origin-form target (starts with '/', visible ASCII except '#'), one SP,
 *    "HTTP/1.1" or "HTTP/1.0". "HTTP/d.d" with other digits is 505;
 *    anything else (absolute-form, "*", extra spaces, ...) is 400;
 *  - header fields: token name, ':' right after it, value with OWS trimmed
 *    (visible ASCII, SP, HTAB, obs-text 0x80-0xFF). obs-fold (a line that
 *    starts with SP/HTAB) is 400. More than limits.max_headers fields is
 *    431, a head longer than limits.max_head bytes is 431;
 *  - Content-Length: 1*DIGIT; repeated fields must all carry the same value
 *    (400 otherwise; lists "5, 5" are 400); above limits.max_body is 413;
 *  - requests: Transfer-Encoding is refused (hub clients send
 *    Content-Length): 411 when its last coding is "chunked" (send a
 *    Content-Length instead), 501 for any other coding. HTTP/1.1 requests
 *    need exactly one Host field (400); HTTP/1.0 requests may omit it.
 *    Expect: "100-continue" sets expect_continue (HTTP/1.1 only; ignored in
 *    HTTP/1.0 per RFC 9110 10.1.1); any other expectation is 417;
 *  - Connection: "close" ends the connection after the response; HTTP/1.0
 *    keeps it only with "keep-alive";
 *  - responses: status-line "HTTP/1.x" SP 3DIGIT (100..599) [SP reason].
 *    Body framing per RFC 9112 6.3: none for HEAD requests, 1xx, 204 and
 *    304; chunked when Transfer-Encoding is exactly "chunked" (any other
 *    coding, or Transfer-Encoding together with Content-Length, is an error);
 *    Content-Length; otherwise until the connection closes.
 */
#ifndef GH_HTTP_PARSE_H
#define GH_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"

/* Capacity of the field table: the most header fields a message can have. */
#define GH_HTTP_HEADERS_MAX 64
/* Defaults and bounds of struct gh_http_limits. */
#define GH_HTTP_HEAD_MAX_DEFAULT (16u * 1024u)   /* request line + fields + CRLF */
#define GH_HTTP_HEAD_MAX_LIMIT (1024u * 1024u)   /* largest max_head accepted */
#define GH_HTTP_HEAD_MIN 64u                     /* smallest max_head accepted */
#define GH_HTTP_BODY_MAX_DEFAULT (1024u * 1024u) /* hub: 256 KiB + headroom */
#define GH_HTTP_BODY_MAX_LIMIT (1024u * 1024u * 1024u)
/* Longest method token. */
#define GH_HTTP_METHOD_MAX 16
/* Longest chunk-size line of a chunked body (size + extensions). */
#define GH_HTTP_CHUNK_LINE_MAX 1024u

struct gh_http_limits {
    size_t max_head;    /* bytes of the head, GH_HTTP_HEAD_MIN..GH_HTTP_HEAD_MAX_LIMIT */
    size_t max_headers; /* 1..GH_HTTP_HEADERS_MAX */
    size_t max_body;    /* body bytes, 0..GH_HTTP_BODY_MAX_LIMIT */
};

/* Fill *l with the defaults (16 KiB head, 64 fields, 1 MiB body). */
void gh_http_limits_default(struct gh_http_limits *l);
/* GH_ERR_ARG when a field is out of its bounds. */
GH_NODISCARD gh_err gh_http_limits_check(const struct gh_http_limits *l);

/* Content type of JSON bodies (PROTOCOL.md 4.4, 5.1: Node parses a body
 * only when its content type contains application/json). */
#define GH_HTTP_CONTENT_TYPE_JSON "application/json; charset=utf-8"

/* A field to send (server responses, client requests). */
struct gh_http_kv {
    const char *name;  /* token */
    const char *value; /* no control characters, no surrounding whitespace */
};

/* One header field; name and value borrow the input. */
struct gh_http_header {
    struct gh_slice name;
    struct gh_slice value; /* OWS trimmed, may be empty */
};

struct gh_http_fields {
    size_t count;
    struct gh_http_header h[GH_HTTP_HEADERS_MAX];
};

/* First field whose name equals name (ASCII case-insensitive); its value in
 * *value. Returns false (value untouched) when there is none. */
bool gh_http_fields_get(const struct gh_http_fields *f, const char *name, struct gh_slice *value);
/* Number of fields named name. */
size_t gh_http_fields_count(const struct gh_http_fields *f, const char *name);

enum gh_http_body_kind {
    GH_HTTP_BODY_NONE = 0,    /* no body */
    GH_HTTP_BODY_LENGTH,      /* body_len bytes (may be 0) */
    GH_HTTP_BODY_CHUNKED,     /* chunked: decode with gh_http_chunked_feed */
    GH_HTTP_BODY_UNTIL_CLOSE, /* everything until the peer closes */
};

struct gh_http_request_head {
    struct gh_slice method;
    struct gh_slice target; /* whole request-target, raw */
    struct gh_slice path;   /* target up to the first '?', raw (percent-encoded) */
    struct gh_slice query;  /* after the first '?', raw; ptr NULL without '?' */
    unsigned minor_version; /* 0 or 1 (HTTP/1.x) */
    struct gh_http_fields fields;
    size_t head_len;      /* bytes of the head; the body starts here */
    size_t body_len;      /* Content-Length (0 without one); <= limits.max_body */
    bool keep_alive;      /* the connection may carry another request */
    bool expect_continue; /* "Expect: 100-continue" (HTTP/1.1) */
};

struct gh_http_response_head {
    unsigned minor_version;
    unsigned status; /* 100..599 */
    struct gh_slice reason;
    struct gh_http_fields fields;
    size_t head_len;
    enum gh_http_body_kind body_kind;
    size_t body_len; /* GH_HTTP_BODY_LENGTH only; <= limits.max_body */
    bool keep_alive; /* false for UNTIL_CLOSE */
};

enum gh_http_parse_status {
    GH_HTTP_NEED_MORE = 0,
    GH_HTTP_COMPLETE = 1,
};

/* Parser state for one message at a time. Caller-owned plain storage, no
 * resources; fields are private. */
struct gh_http_parser {
    /* private */
    struct gh_http_limits limits;
    size_t scanned;  /* bytes of the buffer checked so far */
    size_t start;    /* first byte after leading empty lines */
    size_t line_len; /* bytes in the current line so far */
    size_t lines;    /* complete non-empty lines seen */
    bool prev_cr;
    size_t end;         /* head length once complete, else 0 */
    bool first_checked; /* the first line has been validated */
    gh_err error;       /* sticky */
    unsigned status;    /* HTTP status for error */
    const char *why;    /* static text for error */
};

/* Initialise *p with *limits or the defaults when limits is NULL (copied).
 * Errors: GH_ERR_ARG (limits fail gh_http_limits_check; *p untouched). */
GH_NODISCARD gh_err gh_http_parser_init(struct gh_http_parser *p,
                                        const struct gh_http_limits *limits);
/* Forget the current message (keeps the limits) and clear a sticky error. */
void gh_http_parser_reset(struct gh_http_parser *p);
/* HTTP status a server answers the sticky error with (400, 411, 413, 417,
 * 431, 501, 505), or 0 when there is no error. */
unsigned gh_http_parser_status(const struct gh_http_parser *p);
/* Short static description of the sticky error ("bare LF in head"), safe to
 * log and to send; "" when there is no error. */
const char *gh_http_parser_why(const struct gh_http_parser *p);

/* Parse a request head from data[0..len) (see the top of the file). *st is
 * always written on success; *head only on COMPLETE. data may be NULL only
 * when len is 0; len must not shrink between calls for one message.
 * Errors (sticky; HTTP status in parentheses):
 *   GH_ERR_MALFORMED   (400) syntax, bad method/target, missing Host,
 *                            conflicting Content-Length, obs-fold, ...
 *   GH_ERR_TOO_LARGE   (431) head longer than max_head; (413) body too large
 *   GH_ERR_TOO_MANY    (431) more than max_headers fields
 *   GH_ERR_BAD_PROTOCOL(505) HTTP version other than 1.0 / 1.1
 *   GH_ERR_UNSUPPORTED (411) chunked request body, (501) other transfer
 *                            coding, (417) unknown expectation
 *   GH_ERR_ARG         data NULL with len > 0 (not sticky) */
GH_NODISCARD gh_err gh_http_parse_request(struct gh_http_parser *p, const uint8_t *data, size_t len,
                                          enum gh_http_parse_status *st,
                                          struct gh_http_request_head *head);

/* Parse a response head; head_request: the request was HEAD (no body).
 * Same contract and errors as gh_http_parse_request, except that status
 * codes outside 100..599 are GH_ERR_MALFORMED and a transfer coding other
 * than a lone "chunked" is GH_ERR_UNSUPPORTED. A 1xx head is COMPLETE with
 * body_kind NONE: a client skips it and parses the next head. */
GH_NODISCARD gh_err gh_http_parse_response(struct gh_http_parser *p, const uint8_t *data,
                                           size_t len, bool head_request,
                                           enum gh_http_parse_status *st,
                                           struct gh_http_response_head *head);

/* ---- chunked bodies ---------------------------------------------------- */

/* Incremental decoder of a chunked body (RFC 9112 7.1), including the final
 * zero chunk and the trailer section (whose fields are checked for control
 * characters and then ignored). Caller-owned plain storage; fields private. */
struct gh_http_chunked {
    /* private */
    size_t max_body, max_trailer;
    size_t total;     /* data bytes delivered */
    size_t remaining; /* data bytes left in the current chunk */
    size_t line_len;  /* bytes of the current size/trailer line */
    size_t trailer;   /* trailer bytes seen */
    int state;
    gh_err error; /* sticky */
};

/* max_body bounds the sum of chunk sizes, max_trailer the trailer bytes. */
void gh_http_chunked_init(struct gh_http_chunked *c, size_t max_body, size_t max_trailer);

/* Consume bytes of data[0..len). Returns after consuming one run of chunk
 * data (described by *out, borrowing data), after the end of the body
 * (*done true), or when all input is consumed. *consumed (<= len), *out
 * (len 0 when no data was produced) and *done are written on success.
 * Errors (sticky): GH_ERR_MALFORMED (bad size line, missing CRLF after
 * data, control characters), GH_ERR_TOO_LARGE (sum of sizes above max_body,
 * a size line longer than GH_HTTP_CHUNK_LINE_MAX, trailers above
 * max_trailer), GH_ERR_ARG (data NULL with len > 0; not sticky; or a feed
 * after done). */
GH_NODISCARD gh_err gh_http_chunked_feed(struct gh_http_chunked *c, const uint8_t *data, size_t len,
                                         size_t *consumed, struct gh_slice *out, bool *done);

/* ---- paths and queries ------------------------------------------------- */

/* Split a raw origin-form path into its raw '/'-separated segments: the
 * pieces after the leading '/', so "/" -> [""], "/a" -> ["a"], "/a/" ->
 * ["a", ""], "/a//b" -> ["a", "", "b"]. Segments borrow path.
 * Errors: GH_ERR_MALFORMED (path does not start with '/'), GH_ERR_TOO_MANY
 * (more than cap segments); *count and segs are written only on success. */
GH_NODISCARD gh_err gh_http_path_split(struct gh_slice path, struct gh_slice *segs, size_t cap,
                                       size_t *count);

/* Percent-decode one path segment or query component into w, followed by a
 * NUL (not counted in w->len), per PROTOCOL.md 0.3: %XX in either case,
 * malformed '%' sequences kept as literal text, and '+' NOT turned into a
 * space, in paths and query values alike (device ids may contain '+', and
 * Node's encodeURIComponent never emits '+' for a space).
 * Errors: GH_ERR_MALFORMED (decodes to a NUL byte), GH_ERR_NOBUFS (w too
 * small; raw.len + 1 bytes always suffice). */
GH_NODISCARD gh_err gh_http_pct_decode(struct gh_slice raw, struct gh_writer *w);

/* Iterate the parameters of a raw query ("a=1&b&c=%20"): each call takes the
 * next non-empty '&'-separated pair from *r, split at its first '=' (a pair
 * without '=' has an empty value). Raw (not decoded) views borrowing the
 * query. Returns false when none is left. */
bool gh_http_query_next(struct gh_reader *r, struct gh_slice *name, struct gh_slice *value);

/* Raw value of the first parameter whose percent-decoded name equals name
 * (ASCII case-insensitive: "api-version" matches "API-Version").
 * Errors: GH_ERR_NOT_FOUND (value untouched). */
GH_NODISCARD gh_err gh_http_query_get(struct gh_slice query, const char *name,
                                      struct gh_slice *value);

#endif
