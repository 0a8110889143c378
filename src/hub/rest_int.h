/* Internal to the hub's REST API (rest*.c): the server object, the
 * per-request context the handlers work on, held (asynchronous) requests,
 * and the pure pieces the unit tests exercise directly (authorization
 * decision, error bodies, header mapping, request parsing, JSON shapes).
 *
 * Threading: everything here runs on the hub's loop thread; the pure
 * functions (marked "pure") are thread-safe, do no I/O, no logging and,
 * unless they return JSON, no allocation.
 */
#ifndef GH_HUB_REST_INT_H
#define GH_HUB_REST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "common/error.h"
#include "http/server.h"
#include "hub/hub.h"
#include "hub/rest.h"
#include "hub/store.h"

/* ---- limits (docs/hub-rest.md) ----------------------------------------- */

/* Largest request body the server reads (twin PUT with metadata, method
 * payload of 128 KB plus its envelope, CA PEM). */
#define GH_REST_BODY_MAX (256u * 1024u)
/* HTTPS connections open at once. */
#define GH_REST_MAX_CONNS 1024u
/* Longest reason text in an error body (bytes, before JSON escaping). */
#define GH_REST_ERROR_TEXT_MAX 256
/* Direct methods (PROTOCOL.md 1.11, 5.6). */
#define GH_REST_METHOD_NAME_MAX 128
#define GH_REST_METHOD_PAYLOAD_MAX (128u * 1024u)
#define GH_REST_METHOD_RESPONSE_DEFAULT 30u
#define GH_REST_METHOD_RESPONSE_MIN 5u
#define GH_REST_METHOD_RESPONSE_MAX 300u
#define GH_REST_METHOD_CONNECT_DEFAULT 0u
#define GH_REST_METHOD_CONNECT_MAX 300u
/* Cloud-to-device send. */
#define GH_REST_C2D_APP_PROPS_MAX 32
#define GH_REST_C2D_PROP_MAX 1024 /* one property name or value, bytes */
#define GH_REST_C2D_APP_PREFIX "iothub-app-"
/* Device list: ?top=N (IoT Hub caps at 1000). */
#define GH_REST_LIST_MAX GH_STORE_LIST_DEFAULT
/* CA certificates listed at most. */
#define GH_REST_CA_LIST_MAX 256
/* Telemetry reads. */
#define GH_REST_TELEMETRY_LIMIT_DEFAULT 100u
#define GH_REST_TELEMETRY_LIMIT_MAX 1000u
#define GH_REST_TELEMETRY_WAIT_MAX 60u
#define GH_REST_TELEMETRY_POLL_MS 200u
#define GH_REST_TELEMETRY_WAITERS_MAX 64u
#define GH_REST_TELEMETRY_CHUNK 64u                        /* rows per store read */
#define GH_REST_TELEMETRY_BUDGET (16u * 1024u * 1024u)     /* body+props bytes per answer */
#define GH_REST_TELEMETRY_SCAN (4 * GH_TELEMETRY_SCAN_MAX) /* seq examined per answer */

/* Device scope for gateways (PROTOCOL.md 6.10, docs/hub-rest.md). */
#define GH_REST_SCOPE_PAGE_DEFAULT 100u /* pageSize / deviceCount when absent or 0 */
#define GH_REST_SCOPE_PAGE_MAX 1000u    /* larger page sizes are capped */
#define GH_REST_SCOPE_CHAIN_MAX 5       /* ids in an authChain (IoT Edge nests 5 deep) */
#define GH_REST_SCOPE_LINK_MAX 1024u    /* continuationLink bytes accepted and made */
#define GH_REST_SCOPE_API_NESTED "2020-06-30-preview"
#define GH_REST_SCOPE_API_LEGACY "2018-08-30-preview"

/* ---- error codes of the bodies (PROTOCOL.md 5.1) ------------------------ */

enum gh_hub_rest_code {
    GH_REST_ARGUMENT_INVALID,     /* 400 400004 */
    GH_REST_MESSAGE_TOO_LARGE,    /* 413 413002 */
    GH_REST_UNAUTHORIZED,         /* 401 401002 */
    GH_REST_QUEUE_DEPTH_EXCEEDED, /* 403 403004 */
    GH_REST_DEVICE_NOT_FOUND,     /* 404 404001 */
    GH_REST_MODULE_NOT_FOUND,     /* 404 404010 */
    GH_REST_DEVICE_NOT_ONLINE,    /* 404 404103 */
    GH_REST_CERT_NOT_FOUND,       /* 404 404301 */
    GH_REST_NOT_FOUND,            /* 404 404000: no such resource path */
    GH_REST_METHOD_NOT_ALLOWED,   /* 405 405000 */
    GH_REST_DEVICE_EXISTS,        /* 409 409001 */
    GH_REST_MODULE_EXISTS,        /* 409 409301 */
    GH_REST_CERT_EXISTS,          /* 409 409302 */
    GH_REST_PRECONDITION_FAILED,  /* 412 412001 */
    GH_REST_CERT_VERIFY_FAILED,   /* 400 400301 */
    GH_REST_SERVER_ERROR,         /* 500 500001 */
    GH_REST_SERVICE_UNAVAILABLE,  /* 503 503001 */
    GH_REST_GATEWAY_TIMEOUT,      /* 504 504101 */
    GH_REST_CODE_COUNT
};

/* HTTP status, code name ("DeviceNotFound") and number (404001) of a code.
 * Static storage. Pure. */
unsigned gh_hub_rest_code_status(enum gh_hub_rest_code c);
const char *gh_hub_rest_code_name(enum gh_hub_rest_code c);
uint32_t gh_hub_rest_code_number(enum gh_hub_rest_code c);

/* The error body of PROTOCOL.md 5.1:
 *   {"Message":"ErrorCode:<name>;<text>",
 *    "ExceptionMessage":"Tracking ID:<tracking>-TimeStamp:<MM/dd/yyyy HH:mm:ss>",
 *    "errorCode":<number>}
 * text is cut to GH_REST_ERROR_TEXT_MAX bytes, ';' become ',' (Node keeps
 * only what precedes the next ';') and control characters spaces; invalid
 * UTF-8 bytes become '?'. *out is a malloc'd NUL-terminated string (free).
 * Errors: GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_hub_rest_error_body(enum gh_hub_rest_code c, const char *text,
                                           const char *tracking, int64_t now_ms, char **out);

/* ---- authorization (PROTOCOL.md 2.3, 2.6, 5.1) -------------------------- */

struct gh_hub_rest_auth_req {
    const char *authorization;   /* the Authorization header value, or NULL */
    const char *host;            /* the hub's host name */
    const char *const *resource; /* decoded path segments of the request */
    size_t nresource;
    const char *device_id; /* identity the request is about, or NULL */
    const char *module_id; /* its module, or NULL */
    uint32_t rights;       /* GH_RIGHT_* bits, all needed */
    int64_t now_s;
    uint32_t skew_s;
};

/* Decide a service request over the store (policy lookup by skn):
 * token syntax; audience = the host, or the host followed by a
 * segment-wise prefix of the resource path, or (for requests about an
 * identity) a prefix of {host}/devices/{D}[/modules/{M}]; signature with
 * the policy's primary then secondary key; expiry with skew; rights.
 * *why receives a static reason on every outcome but GH_OK (for the log;
 * never the token). Pure except for the store read.
 * Errors: GH_ERR_AUTH (no header, not a SAS token, no or unknown policy,
 * audience, signature), GH_ERR_BAD_SAS (malformed token), GH_ERR_TOO_LARGE
 * (token too long), GH_ERR_EXPIRED, GH_ERR_FORBIDDEN (policy lacks a
 * right), GH_ERR_INTERNAL (a stored key does not decode), and the store's
 * GH_ERR_DB / GH_ERR_NOMEM / GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_hub_rest_authorize(struct gh_store *s, const struct gh_hub_rest_auth_req *a,
                                          const char **why);

/* What an IoT Edge device may present itself on its device-scope requests
 * (besides the policy tokens gh_hub_rest_authorize accepts). */
struct gh_hub_rest_edge_cred {
    X509 *cert;             /* client certificate of the HTTPS connection, or NULL */
    STACK_OF(X509) * chain; /* intermediates it sent, or NULL */
    X509_STORE *ca_store;   /* verified CAs registered with the hub, or NULL */
};

/* Decide a device-scope request (PROTOCOL.md 6.10) about Edge device
 * a->device_id: a token naming a policy (skn) goes to gh_hub_rest_authorize
 * unchanged; otherwise the Edge device's own credentials: a SAS token
 * without skn whose audience is exactly {host}/devices/{edge} or
 * {host}/devices/{edge}/modules/$edgeHub (2.3 encodings and case rules),
 * signed with the device's key or (for the $edgeHub audience) the
 * $edgeHub module's key, not expired; or, without an Authorization
 * header, the client certificate checked as on CONNECT
 * (gh_hub_authenticate). The device must exist, be an IoT Edge device and
 * be enabled. *why as for gh_hub_rest_authorize. Reads the store only.
 * Errors: those of gh_hub_rest_authorize; for the device path GH_ERR_AUTH
 * (unknown, not Edge, disabled, audience, signature, certificate),
 * GH_ERR_BAD_SAS, GH_ERR_TOO_LARGE, GH_ERR_EXPIRED, GH_ERR_INTERNAL (a
 * stored key does not decode), and the store's errors, GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_hub_rest_authorize_edge(struct gh_store *s,
                                               const struct gh_hub_rest_auth_req *a,
                                               const struct gh_hub_rest_edge_cred *x,
                                               const char **why);

/* If-Match value to the store's form: surrounding quotes and a weak "W/"
 * prefix removed; NULL or empty gives NULL. Writes into out (cap bytes).
 * Pure. Errors: GH_ERR_TOO_LARGE (does not fit), GH_ERR_MALFORMED
 * (unbalanced quote). */
GH_NODISCARD gh_err gh_hub_rest_if_match(const char *header, char *out, size_t cap,
                                         const char **result);

/* ---- small parsers (pure) ------------------------------------------------ */

/* Decimal integer 0..max (no sign, no spaces, leading zeros allowed).
 * Errors: GH_ERR_MALFORMED, GH_ERR_TOO_LARGE (> max). */
GH_NODISCARD gh_err gh_hub_rest_parse_uint(const char *s, uint64_t max, uint64_t *out);

/* ---- direct methods (PROTOCOL.md 5.6) ------------------------------------ */

struct gh_hub_rest_method_req {
    char name[GH_REST_METHOD_NAME_MAX + 1];
    char *payload; /* malloc'd compact JSON text ("null" when absent) */
    unsigned response_timeout_s;
    unsigned connect_timeout_s;
};

/* Parse {"methodName","payload","responseTimeoutInSeconds",
 * "connectTimeoutInSeconds"}: defaults 30 / 0, response clamped to 5..300
 * and connect to 0..300 (null counts as absent). On success the caller
 * frees out->payload. err gets a one-line reason.
 * Errors: GH_ERR_BAD_JSON (not an object, member of the wrong type),
 * GH_ERR_ARG (methodName missing or invalid), GH_ERR_TOO_LARGE (payload
 * above GH_REST_METHOD_PAYLOAD_MAX), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_hub_rest_method_parse(const json_t *body, struct gh_hub_rest_method_req *out,
                                             char *err, size_t errlen);

/* {"status":<device_status>,"payload":<body>}: the device's body parsed as
 * JSON; null when empty; a JSON string when it is not JSON (its text when
 * UTF-8, else its base64). New reference in *out. Errors: GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_hub_rest_method_result(int device_status, const char *payload, size_t len,
                                              json_t **out);

/* ---- cloud-to-device (docs/hub-rest.md) ---------------------------------- */

struct gh_hub_rest_c2d {
    char message_id[GH_C2D_MSGID_MAX + 1]; /* "" = the store makes one */
    int64_t expiry_ms;
    enum gh_c2d_ack ack;
    json_t *properties; /* {"system":{...},"app":{...}}, owned */
};

/* Map the request's header fields to a C2D message: iothub-messageid,
 * iothub-correlationid, iothub-userid, iothub-expiry (ISO 8601; default
 * now + default_ttl_ms), iothub-ack, Content-Type, Content-Encoding,
 * iothub-app-{name}. Each may appear once. On success the caller
 * json_decrefs out->properties. err gets a one-line reason.
 * Errors: GH_ERR_ARG (bad value, repeated field, expiry not after now),
 * GH_ERR_TOO_MANY (more than GH_REST_C2D_APP_PROPS_MAX application
 * properties), GH_ERR_TOO_LARGE (a name or value above
 * GH_REST_C2D_PROP_MAX), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_hub_rest_c2d_from_fields(const struct gh_http_fields *f, int64_t now_ms,
                                                int64_t default_ttl_ms, struct gh_hub_rest_c2d *out,
                                                char *err, size_t errlen);

/* ---- device scope for gateways (PROTOCOL.md 6.10) ----------------------- */

/* A device-scope request after parsing (rest_scope.c). Ids are checked with
 * gh_iothub_valid_*_id; "" means absent. */
struct gh_hub_rest_scope_req {
    uint32_t page_size;                 /* 1..GH_REST_SCOPE_PAGE_MAX */
    char after[GH_IDENTITY_ID_MAX + 1]; /* continuation: ids after this one */
    char target_device[GH_IDENTITY_ID_MAX + 1];
    char target_module[GH_IDENTITY_ID_MAX + 1];
    char chain[GH_REST_SCOPE_CHAIN_MAX][GH_IDENTITY_ID_MAX + 1]; /* authChain, in order */
    size_t nchain;
};

/* Split an authChain "id;id;..." into out->chain (1..GH_REST_SCOPE_CHAIN_MAX
 * valid device ids, no empty element). Writes out->chain/nchain only on
 * success. Pure. Errors: GH_ERR_MALFORMED (empty, an empty or invalid
 * element), GH_ERR_TOO_MANY (more than GH_REST_SCOPE_CHAIN_MAX ids). */
GH_NODISCARD gh_err gh_hub_rest_scope_chain(struct gh_slice text,
                                            struct gh_hub_rest_scope_req *out);

/* The position a continuation link names: the percent-decoded value of its
 * continuationToken query parameter (name compared case-insensitively),
 * which must be a valid device id, into after (GH_IDENTITY_ID_MAX + 1
 * bytes, written only on success). The path is not interpreted. Pure.
 * Errors: GH_ERR_TOO_LARGE (longer than GH_REST_SCOPE_LINK_MAX),
 * GH_ERR_NOT_FOUND (no continuationToken), GH_ERR_MALFORMED (given twice,
 * or not a valid device id). */
GH_NODISCARD gh_err gh_hub_rest_scope_link_parse(struct gh_slice link, char *after);

/* Make the continuation link (path and query) of the page after `after`:
 * legacy false: /devices/{edge}/modules/$edgeHub/devicesAndModulesInTargetDeviceScope
 *   ?continuationToken={after}&api-version=GH_REST_SCOPE_API_NESTED
 * legacy true: .../devicesAndModulesInDeviceScope?deviceCount={count}
 *   &continuationToken={after}&api-version=GH_REST_SCOPE_API_LEGACY
 * with edge and after percent-encoded. NUL-terminated into out. Pure.
 * Errors: GH_ERR_NOBUFS (does not fit in cap). */
GH_NODISCARD gh_err gh_hub_rest_scope_link_make(bool legacy, const char *edge, const char *after,
                                                uint32_t count, char *out, size_t cap);

/* Parse the body of devicesAndModulesInTargetDeviceScope:
 * {"pageSize":N,"continuationLink":null|"...","authChain":"..."}.
 * pageSize absent, null or 0: GH_REST_SCOPE_PAGE_DEFAULT; above
 * GH_REST_SCOPE_PAGE_MAX: capped. continuationLink absent, null or "":
 * from the start. authChain required. Unknown members are ignored. *out is
 * fully written on success only; err gets a one-line reason.
 * Errors: GH_ERR_BAD_JSON (not an object, member of the wrong type),
 * GH_ERR_ARG (negative pageSize, bad continuationLink, authChain missing or
 * malformed). */
GH_NODISCARD gh_err gh_hub_rest_scope_parse_target(const json_t *body,
                                                   struct gh_hub_rest_scope_req *out, char *err,
                                                   size_t errlen);

/* Parse the body of getDeviceAndModuleOnBehalfOf:
 * {"targetDeviceId":"...","targetModuleId":null|"...","authChain":"..."}.
 * targetDeviceId and authChain required; targetModuleId absent, null or ""
 * means the device. As above for *out and err.
 * Errors: GH_ERR_BAD_JSON, GH_ERR_ARG (an id missing or invalid, authChain
 * malformed). */
GH_NODISCARD gh_err gh_hub_rest_scope_parse_on_behalf_of(const json_t *body,
                                                         struct gh_hub_rest_scope_req *out,
                                                         char *err, size_t errlen);

/* ---- JSON shapes ---------------------------------------------------------- */

/* One telemetry message of GET /gatehouse/telemetry. New reference.
 * Errors: GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_hub_rest_telemetry_json(const struct gh_telemetry_msg *m, json_t **out);

/* A CA certificate description; with_code adds properties.verificationCode.
 * New reference. Errors: GH_ERR_NOMEM, GH_ERR_CRYPTO (etag hash). */
GH_NODISCARD gh_err gh_hub_rest_cert_json(const struct gh_ca_record *r, bool with_code,
                                          json_t **out);
/* The etag of a CA record (changes when it is verified or its code
 * changes). out holds GH_HUB_ETAG8_LEN bytes. Errors: GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_hub_rest_cert_etag(const struct gh_ca_record *r, char *out);

/* ---- the server and its requests ---------------------------------------- */

struct event;
struct gh_hub_rest_held;

struct gh_hub_rest {
    struct gh_hub *hub;
    struct gh_http_server *srv;
    struct gh_hub_rest_held *held; /* requests answered later (methods, long polls) */
    size_t npolls;                 /* telemetry long polls among them */
};

/* The request being handled, after routing. */
struct gh_hub_rest_ctx {
    struct gh_hub_rest *rest;
    struct gh_http_request *req;
    const char *arg[2]; /* the path's placeholders in order (ids, names) */
};

typedef void (*gh_hub_rest_handler)(struct gh_hub_rest_ctx *c);

/* A request held by a handler: methods waiting for the device, telemetry
 * long polls. Linked into rest->held until answered or cancelled. */
enum gh_hub_rest_held_kind { GH_REST_HELD_METHOD, GH_REST_HELD_POLL };

struct gh_hub_rest_held {
    struct gh_hub_rest_held *prev, *next;
    struct gh_hub_rest *rest;
    struct gh_http_request *req;
    enum gh_hub_rest_held_kind kind;
    struct gh_hub_method_call *call; /* METHOD */
    struct event *timer;             /* POLL */
    int64_t deadline_ms;             /* POLL */
    struct gh_telemetry_query q;     /* POLL; q.device_id points at device */
    char device[GH_IDENTITY_ID_MAX + 1];
};

/* Link a new held request (cancel callback installed). Errors: GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_hub_rest_hold(struct gh_hub_rest_ctx *c, enum gh_hub_rest_held_kind kind,
                                     struct gh_hub_rest_held **out);
/* Unlink and free a held entry; its request must already be ended. */
void gh_hub_rest_held_free(struct gh_hub_rest_held *h);

/* Answers: each ends the request. body is stolen (may be NULL for 204);
 * etag (may be NULL) becomes a quoted ETag field. */
void gh_hub_rest_reply(struct gh_http_request *req, unsigned status, json_t *body,
                       const char *etag);
void gh_hub_rest_reply_error(struct gh_http_request *req, enum gh_hub_rest_code code,
                             const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* As gh_hub_rest_reply_error with one more header field (may be NULL). */
void gh_hub_rest_reply_error_with(struct gh_http_request *req, enum gh_hub_rest_code code,
                                  const struct gh_http_kv *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Map a store error of an identity operation to an answer (404 device or
 * module, 409, 412, 400 with the store's reason, 403, else 500 logged). */
void gh_hub_rest_reply_store_error(struct gh_hub_rest_ctx *c, gh_err rc, const char *device_id,
                                   const char *module_id);

/* Parse the request body as one JSON value (JSON_REJECT_DUPLICATES); on
 * failure answers 400 and returns NULL. */
json_t *gh_hub_rest_body_json(struct gh_hub_rest_ctx *c);
/* The If-Match of the request in the store's form into buf (NULL when
 * absent); on a malformed one answers 400 and returns false. */
bool gh_hub_rest_request_if_match(struct gh_hub_rest_ctx *c, char *buf, size_t cap,
                                  const char **out);
/* Is the id valid? If not, answers 400 and returns false. */
bool gh_hub_rest_check_ids(struct gh_hub_rest_ctx *c, const char *device_id, const char *module_id);
/* Module ids of a device (to close their sessions after the device is
 * disabled or deleted). out->id is malloc'd (free). Errors: the store's,
 * GH_ERR_NOMEM. */
struct gh_hub_rest_ids {
    char (*id)[GH_IDENTITY_ID_MAX + 1];
    size_t n;
};
GH_NODISCARD gh_err gh_hub_rest_module_ids(struct gh_hub_rest *r, const char *device_id,
                                           struct gh_hub_rest_ids *out);
/* Close the live sessions of a device and of the given modules (may be
 * NULL). */
void gh_hub_rest_kick(struct gh_hub_rest *r, const char *device_id,
                      const struct gh_hub_rest_ids *modules, const char *reason);

/* Handlers (rest_registry.c, rest_twin.c, rest_c2d.c, rest_cert.c,
 * rest_telemetry.c). arg[0] is the device id (or certificate name), arg[1]
 * the module id. */
void gh_hub_rest_device_list(struct gh_hub_rest_ctx *c);
void gh_hub_rest_device_get(struct gh_hub_rest_ctx *c);
void gh_hub_rest_device_put(struct gh_hub_rest_ctx *c);
void gh_hub_rest_device_delete(struct gh_hub_rest_ctx *c);
void gh_hub_rest_statistics(struct gh_hub_rest_ctx *c);
void gh_hub_rest_module_list(struct gh_hub_rest_ctx *c);
void gh_hub_rest_module_get(struct gh_hub_rest_ctx *c);
void gh_hub_rest_module_put(struct gh_hub_rest_ctx *c);
void gh_hub_rest_module_delete(struct gh_hub_rest_ctx *c);
void gh_hub_rest_apply_configuration(struct gh_hub_rest_ctx *c);
void gh_hub_rest_twin_get(struct gh_hub_rest_ctx *c);
void gh_hub_rest_twin_patch(struct gh_hub_rest_ctx *c);
void gh_hub_rest_twin_put(struct gh_hub_rest_ctx *c);
void gh_hub_rest_module_twin_get(struct gh_hub_rest_ctx *c);
void gh_hub_rest_module_twin_patch(struct gh_hub_rest_ctx *c);
void gh_hub_rest_module_twin_put(struct gh_hub_rest_ctx *c);
void gh_hub_rest_method_invoke(struct gh_hub_rest_ctx *c);
void gh_hub_rest_module_method_invoke(struct gh_hub_rest_ctx *c);
void gh_hub_rest_c2d_send(struct gh_hub_rest_ctx *c);
void gh_hub_rest_c2d_purge(struct gh_hub_rest_ctx *c);
void gh_hub_rest_cert_list(struct gh_hub_rest_ctx *c);
void gh_hub_rest_cert_get(struct gh_hub_rest_ctx *c);
void gh_hub_rest_cert_put(struct gh_hub_rest_ctx *c);
void gh_hub_rest_cert_delete(struct gh_hub_rest_ctx *c);
void gh_hub_rest_cert_code(struct gh_hub_rest_ctx *c);
void gh_hub_rest_cert_verify(struct gh_hub_rest_ctx *c);
void gh_hub_rest_telemetry_read(struct gh_hub_rest_ctx *c);
/* Device scope (rest_scope.c): arg[0] is the acting Edge device. */
void gh_hub_rest_scope_target(struct gh_hub_rest_ctx *c);
void gh_hub_rest_scope_legacy(struct gh_hub_rest_ctx *c);
void gh_hub_rest_scope_on_behalf_of(struct gh_hub_rest_ctx *c);
/* Free a held telemetry poll's resources (timer); gh_hub_rest_held_free does it. */
void gh_hub_rest_poll_cleanup(struct gh_hub_rest_held *h);

#endif
