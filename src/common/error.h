/* One error model for all of gatehouse.
 *
 * Every fallible function returns gh_err and is declared GH_NODISCARD, so the
 * compiler (with -Werror) refuses code that drops an error on the floor.
 * Codes are stable: never renumber one, only append. The CLI's exit status is
 * derived from the category (gh_err_exit_status).
 *
 * "Need more bytes" and "would block" are states, not errors: framers and
 * transports report them through their own status enums, never as gh_err.
 */
#ifndef GH_COMMON_ERROR_H
#define GH_COMMON_ERROR_H

#include <stddef.h>

#define GH_NODISCARD __attribute__((warn_unused_result))

/* Categories. The numeric value is also the CLI exit status for errors of
 * that category (0 is success). */
#define GH_ERROR_CATEGORIES(X)                                                                     \
    X(NONE, 0, "none")                                                                             \
    X(USAGE, 2, "usage")                                                                           \
    X(CONFIG, 3, "config")                                                                         \
    X(IO, 4, "io")                                                                                 \
    X(CLOSED, 5, "closed")                                                                         \
    X(PROTOCOL, 6, "protocol")                                                                     \
    X(LIMIT, 7, "limit")                                                                           \
    X(AUTH, 8, "auth")                                                                             \
    X(NOT_FOUND, 9, "not-found")                                                                   \
    X(CONFLICT, 10, "conflict")                                                                    \
    X(INTERNAL, 70, "internal")

enum gh_err_category {
#define GH_X(name, num, text) GH_CAT_##name = num,
    GH_ERROR_CATEGORIES(GH_X)
#undef GH_X
};

/* X(name, number, category, message). Numbers are stable forever. */
#define GH_ERROR_TABLE(X)                                                                          \
    X(OK, 0, NONE, "success")                                                                      \
    /* usage */                                                                                    \
    X(USAGE, 100, USAGE, "invalid command-line usage")                                             \
    X(ARG, 101, USAGE, "invalid argument")                                                         \
    /* config */                                                                                   \
    X(CONFIG_SYNTAX, 200, CONFIG, "configuration syntax error")                                    \
    X(CONFIG_KEY, 201, CONFIG, "unknown configuration key")                                        \
    X(CONFIG_VALUE, 202, CONFIG, "invalid configuration value")                                    \
    X(CONFIG_MISSING, 203, CONFIG, "required configuration value missing")                         \
    /* io */                                                                                       \
    X(IO, 300, IO, "input/output error")                                                           \
    X(NOENT, 301, IO, "file not found")                                                            \
    X(EXISTS, 302, IO, "file already exists")                                                      \
    X(PERM, 303, IO, "permission denied")                                                          \
    X(NOSPACE, 304, IO, "no space left on device")                                                 \
    X(TLS, 305, IO, "TLS error")                                                                   \
    X(CRYPTO, 306, IO, "cryptographic library error")                                              \
    X(DB, 307, IO, "database error")                                                               \
    /* closed */                                                                                   \
    X(CLOSED, 400, CLOSED, "connection closed")                                                    \
    X(TIMEOUT, 401, CLOSED, "timed out")                                                           \
    /* protocol */                                                                                 \
    X(TRUNCATED, 500, PROTOCOL, "input truncated")                                                 \
    X(MALFORMED, 501, PROTOCOL, "malformed input")                                                 \
    X(BAD_UTF8, 502, PROTOCOL, "invalid UTF-8")                                                    \
    X(BAD_VARINT, 503, PROTOCOL, "invalid variable-length integer")                                \
    X(BAD_PACKET_TYPE, 504, PROTOCOL, "invalid packet type")                                       \
    X(BAD_FLAGS, 505, PROTOCOL, "invalid fixed-header flags")                                      \
    X(BAD_PROTOCOL, 506, PROTOCOL, "unsupported protocol name or level")                           \
    X(BAD_TOPIC, 507, PROTOCOL, "invalid topic name or filter")                                    \
    X(BAD_QOS, 508, PROTOCOL, "invalid or unsupported QoS")                                        \
    X(BAD_PACKET_ID, 509, PROTOCOL, "invalid packet identifier")                                   \
    X(TRAILING_BYTES, 510, PROTOCOL, "unexpected trailing bytes")                                  \
    X(BAD_PHASE, 511, PROTOCOL, "packet not allowed in this connection phase")                     \
    X(BAD_BASE64, 512, PROTOCOL, "invalid base64")                                                 \
    X(BAD_SAS, 513, PROTOCOL, "malformed shared access signature")                                 \
    X(BAD_CONNSTR, 514, PROTOCOL, "malformed connection string")                                   \
    X(BAD_USERNAME, 515, PROTOCOL, "malformed MQTT user name")                                     \
    X(BAD_JSON, 516, PROTOCOL, "malformed JSON")                                                   \
    X(BAD_PROTOCOL_LEVEL, 517, PROTOCOL, "unacceptable protocol level")                            \
    X(UNSUPPORTED, 518, PROTOCOL, "protocol feature not supported")                                \
    /* limit */                                                                                    \
    X(TOO_LARGE, 600, LIMIT, "size limit exceeded")                                                \
    X(NOBUFS, 601, LIMIT, "output buffer too small")                                               \
    X(NOMEM, 602, LIMIT, "out of memory")                                                          \
    X(TOO_MANY, 603, LIMIT, "count limit exceeded")                                                \
    X(QUEUE_FULL, 604, LIMIT, "queue is full")                                                     \
    /* auth */                                                                                     \
    X(AUTH, 700, AUTH, "authentication failed")                                                    \
    X(EXPIRED, 701, AUTH, "credential expired")                                                    \
    X(FORBIDDEN, 702, AUTH, "not authorized")                                                      \
    X(BAD_PASSWORD, 703, AUTH, "wrong password or passphrase")                                     \
    X(CERT_VERIFY, 704, AUTH, "certificate verification failed")                                   \
    X(KEY_MISMATCH, 705, AUTH, "private key does not match certificate")                           \
    X(NOT_CA, 706, AUTH, "certificate is not a CA certificate")                                    \
    X(BAD_SIGNATURE, 707, AUTH, "signature does not verify")                                       \
    /* not found / conflict */                                                                     \
    X(NOT_FOUND, 800, NOT_FOUND, "not found")                                                      \
    X(CONFLICT, 900, CONFLICT, "already exists or was changed")                                    \
    X(ETAG_MISMATCH, 901, CONFLICT, "etag does not match")                                         \
    /* internal */                                                                                 \
    X(INTERNAL, 7000, INTERNAL, "internal error")

typedef enum gh_err {
#define GH_X(name, num, cat, msg) GH_ERR_##name = num,
    GH_ERROR_TABLE(GH_X)
#undef GH_X
} gh_err;

#define GH_OK GH_ERR_OK

/* Message for a code ("success", "input truncated", ...). Never NULL; static
 * storage; thread-safe. Unknown codes give "unknown error". */
const char *gh_err_str(gh_err e);

/* Symbolic name ("GH_ERR_TRUNCATED"). Never NULL; static storage. */
const char *gh_err_name(gh_err e);

/* Category of a code; GH_CAT_INTERNAL for unknown codes. */
enum gh_err_category gh_err_category(gh_err e);

/* Category name ("protocol"). Never NULL; static storage. */
const char *gh_err_category_str(enum gh_err_category c);

/* Process exit status for a code: 0 for GH_OK, else the category number. */
int gh_err_exit_status(gh_err e);

/* The error for a failed file-system call's errno: ENOENT/ENOTDIR ->
 * GH_ERR_NOENT, EACCES/EPERM/EROFS -> GH_ERR_PERM, ENOSPC/EDQUOT ->
 * GH_ERR_NOSPACE, EEXIST -> GH_ERR_EXISTS, ENOMEM -> GH_ERR_NOMEM, anything
 * else GH_ERR_IO. Thread-safe. */
gh_err gh_err_from_errno(int e);

/* Write a printf-style message into msg (cap bytes, truncated, always
 * NUL-terminated; msg NULL or cap 0: nothing) and return rc, so a failing
 * path reads `return gh_err_say(msg, cap, GH_ERR_ARG, "bad %s", x);`. */
gh_err gh_err_say(char *msg, size_t cap, gh_err rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Guard macros: the only macros that hide control flow.
 * GH_GUARD(call)      return the error of call if it failed.
 * GH_ENSURE(cond, e)  return e if cond is false.
 * GH_BAIL(e)          return e.
 * Functions that own resources use `rc = call(); if (rc != GH_OK) goto out;`
 * with one cleanup block instead. */
#define GH_GUARD(call)                                                                             \
    do {                                                                                           \
        gh_err gh_guard_rc_ = (call);                                                              \
        if (gh_guard_rc_ != GH_OK) return gh_guard_rc_;                                            \
    } while (0)

#define GH_ENSURE(cond, err)                                                                       \
    do {                                                                                           \
        if (!(cond)) return (err);                                                                 \
    } while (0)

#define GH_BAIL(err) return (err)

#endif
