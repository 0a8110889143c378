/* Shared pieces of the management CLI (not an installed API).
 *
 *   mgmt_cli.c        option and command tables, parsing, help, dispatch
 *   mgmt_conn.c       connection string sources, TLS, signing, requests,
 *                     HTTP status -> gh_err, the hub's error bodies
 *   mgmt_util.c       pure parsers: numbers, durations, times, k=v
 *                     properties, request paths, JSON arguments
 *   mgmt_out.c        human and JSON output
 *   mgmt_device.c     gatehouse device ...
 *   mgmt_ca.c         gatehouse ca ...
 *   mgmt_twin.c       gatehouse twin ... and gatehouse method invoke
 *   mgmt_c2d.c        gatehouse c2d ...
 *   mgmt_telemetry.c  gatehouse telemetry tail
 *   mgmt_dps.c        gatehouse enrollment ... and gatehouse registration ...
 *                     (the provisioning service API, PROTOCOL.md 4.8)
 *   mgmt_dps_out.c    their text output
 *
 * Everything here is single-threaded, like the CLI. Functions that take a
 * msg buffer write a one-line, human-readable reason into it on failure
 * (always NUL-terminated, truncated to cap) and leave it alone on success.
 * Secrets (policy keys, device keys) are never put into a message.
 */
#ifndef GH_MGMT_MGMT_INT_H
#define GH_MGMT_MGMT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "common/buf.h"
#include "common/error.h"
#include "http/client.h"
#include "iothub/crypto.h"

/* ---- limits and defaults ------------------------------------------------- */

#define GH_MGMT_POS_MAX 3                           /* positional arguments of a command */
#define GH_MGMT_MSG_MAX 1024                        /* an error message */
#define GH_MGMT_PORT_DEFAULT 443                    /* the hub's HTTPS port */
#define GH_MGMT_TIMEOUT_DEFAULT_S 30u               /* per request */
#define GH_MGMT_TIMEOUT_MAX_S 3600u                 /* largest --timeout */
#define GH_MGMT_TOKEN_TTL_S 3600                    /* se = now + this (as the Node SDK) */
#define GH_MGMT_HOST_MAX 253                        /* HostName of a connection string */
#define GH_MGMT_POLICY_MAX 128                      /* SharedAccessKeyName */
#define GH_MGMT_SOURCE_MAX 512                      /* "file /var/lib/..." */
#define GH_MGMT_PATH_MAX 4096                       /* a request target */
#define GH_MGMT_FILE_MAX (1024u * 1024u)            /* a file read by the CLI */
#define GH_MGMT_ARG_JSON_MAX (256u * 1024u)         /* a JSON argument (the hub's body limit) */
#define GH_MGMT_C2D_BODY_MAX (64u * 1024u)          /* IoT Hub's C2D body limit */
#define GH_MGMT_PROP_TEXT_MAX 1024u                 /* one C2D property name or value */
#define GH_MGMT_DURATION_MAX_S (10LL * 366 * 86400) /* longest duration argument */
#define GH_MGMT_TIME_MAX 32                         /* "2026-01-01T00:00:00.000Z" + NUL */
#define GH_MGMT_LIST_TOP_MAX 1000u                  /* device list --top (the hub's cap) */
#define GH_MGMT_TELEMETRY_PAGE 1000u                /* messages per telemetry read */
#define GH_MGMT_FOLLOW_WAIT_S 25u                   /* long-poll wait of telemetry --follow */
#define GH_MGMT_SINCE_DEFAULT_S 600                 /* telemetry tail: last 10 minutes */
#define GH_MGMT_METHOD_RESPONSE_DEFAULT_S 30u
#define GH_MGMT_METHOD_RESPONSE_MIN_S 5u
#define GH_MGMT_METHOD_RESPONSE_MAX_S 300u
#define GH_MGMT_METHOD_CONNECT_MAX_S 300u
#define GH_MGMT_METHOD_MARGIN_S 10u /* HTTP timeout above the method's */
#define GH_MGMT_API_VERSION "2021-04-12"
#define GH_MGMT_CS_FILE_NAME "service-connection-string"
#define GH_MGMT_DATA_DIR_DEFAULT "/var/lib/gatehouse/hub"
#define GH_MGMT_ENV_CS "GATEHOUSE_CONNECTION_STRING"
#define GH_MGMT_ENV_CA "GATEHOUSE_CA"
#define GH_MGMT_ENV_CA_PASSWORD "GH_PKI_CA_PASSWORD" /* as `gatehouse pki` */
/* The provisioning service (enrollment, registration): its own connection
 * string, written by the hub beside the hub's. */
#define GH_MGMT_DPS_CS_FILE_NAME "dps-service-connection-string"
#define GH_MGMT_ENV_DPS_CS "GATEHOUSE_DPS_CONNECTION_STRING"
#define GH_MGMT_DPS_API_VERSION "2021-10-01"
#define GH_MGMT_DPS_QUERY_PAGE 100u    /* x-ms-max-item-count of one query page */
#define GH_MGMT_DPS_QUERY_PAGES 1000u  /* most pages followed by one list */
#define GH_MGMT_DPS_HUBS_MAX 16u       /* --hub options (the service's iotHubs limit) */
#define GH_MGMT_CONTINUATION_MAX 1024u /* an x-ms-continuation token */
/* C2D headers besides the application properties: Authorization,
 * iothub-messageid, -correlationid, -expiry, -ack, Content-Encoding. */
#define GH_MGMT_C2D_FIXED_HEADERS 6
/* --property: as many as fit in one request's header fields. */
#define GH_MGMT_PROPS_MAX (GH_HTTP_CLIENT_HEADERS_MAX - GH_MGMT_C2D_FIXED_HEADERS)

/* Rights of shared access policies (PROTOCOL.md 2.6), for messages. */
#define GH_MGMT_RIGHT_REGISTRY_READ "RegistryRead"
#define GH_MGMT_RIGHT_REGISTRY_WRITE "RegistryWrite"
#define GH_MGMT_RIGHT_SERVICE_CONNECT "ServiceConnect"

/* ---- options --------------------------------------------------------------- */

enum gh_mgmt_opt {
    /* connection and output: every command */
    GH_MOPT_CONNECTION_STRING = 0,
    GH_MOPT_CONNECTION_STRING_FILE,
    GH_MOPT_DATA_DIR,
    GH_MOPT_CA,
    GH_MOPT_ADDRESS,
    GH_MOPT_PORT,
    GH_MOPT_TIMEOUT,
    GH_MOPT_JSON,
    GH_MOPT_HELP,
    /* device */
    GH_MOPT_AUTH,
    GH_MOPT_PRIMARY_KEY,
    GH_MOPT_SECONDARY_KEY,
    GH_MOPT_PRIMARY_THUMBPRINT,
    GH_MOPT_SECONDARY_THUMBPRINT,
    GH_MOPT_CERT,
    GH_MOPT_EDGE,
    GH_MOPT_NO_EDGE,
    GH_MOPT_PARENT,
    GH_MOPT_NO_PARENT,
    GH_MOPT_DISABLED,
    GH_MOPT_STATUS,
    GH_MOPT_SHOW_KEYS,
    GH_MOPT_SHOW_CONNECTION_STRING,
    GH_MOPT_TOP,
    /* ca */
    GH_MOPT_VERIFICATION_CERT,
    GH_MOPT_CA_KEY,
    GH_MOPT_CA_CERT,
    GH_MOPT_CA_PASSWORD_FILE,
    /* twin */
    GH_MOPT_DESIRED,
    GH_MOPT_TAGS,
    GH_MOPT_PATCH,
    GH_MOPT_ETAG,
    /* method */
    GH_MOPT_PAYLOAD,
    GH_MOPT_RESPONSE_TIMEOUT,
    GH_MOPT_CONNECT_TIMEOUT,
    /* c2d */
    GH_MOPT_BODY,
    GH_MOPT_BODY_FILE,
    GH_MOPT_MESSAGE_ID,
    GH_MOPT_CORRELATION_ID,
    GH_MOPT_CONTENT_TYPE,
    GH_MOPT_CONTENT_ENCODING,
    GH_MOPT_EXPIRY,
    GH_MOPT_TTL,
    GH_MOPT_ACK,
    GH_MOPT_PROPERTY,
    /* telemetry */
    GH_MOPT_DEVICE,
    GH_MOPT_SINCE,
    GH_MOPT_AFTER,
    GH_MOPT_LIMIT,
    GH_MOPT_FOLLOW,
    /* enrollment, registration */
    GH_MOPT_INDIVIDUAL,
    GH_MOPT_GROUP,
    GH_MOPT_GROUPS,
    GH_MOPT_ATTESTATION,
    GH_MOPT_DEVICE_ID,
    GH_MOPT_INITIAL_TWIN,
    GH_MOPT_HUB,
    GH_MOPT_COUNT
};

#define GH_MOPT_BIT(o) (UINT64_C(1) << (o))
/* Options every command accepts. */
#define GH_MOPT_COMMON                                                                             \
    (GH_MOPT_BIT(GH_MOPT_CONNECTION_STRING) | GH_MOPT_BIT(GH_MOPT_CONNECTION_STRING_FILE) |        \
     GH_MOPT_BIT(GH_MOPT_DATA_DIR) | GH_MOPT_BIT(GH_MOPT_CA) | GH_MOPT_BIT(GH_MOPT_ADDRESS) |      \
     GH_MOPT_BIT(GH_MOPT_PORT) | GH_MOPT_BIT(GH_MOPT_TIMEOUT) | GH_MOPT_BIT(GH_MOPT_JSON) |        \
     GH_MOPT_BIT(GH_MOPT_HELP))

/* One option: "--name", its argument's placeholder (NULL for a flag), help. */
struct gh_mgmt_opt_info {
    const char *name;
    const char *arg;
    const char *help;
    bool repeatable; /* collected in gh_mgmt_args.props (--property, --hub;
                        no command takes both) */
};

/* The option table entry of o; NULL when o is out of range. Static storage. */
const struct gh_mgmt_opt_info *gh_mgmt_opt_info(enum gh_mgmt_opt o);

/* A parsed command line. Strings borrow argv. */
struct gh_mgmt_args {
    const char *val[GH_MOPT_COUNT]; /* option values; NULL when not given */
    bool given[GH_MOPT_COUNT];
    const char *props[GH_MGMT_PROPS_MAX]; /* --property (or --hub) values, in order */
    size_t nprops;
    const char *pos[GH_MGMT_POS_MAX];
    size_t npos;
};

struct gh_mgmt_ctx;

/* One command: `gatehouse <group> <name> <usage>`. */
struct gh_mgmt_cmd {
    const char *group;
    const char *name;
    const char *usage;   /* "ID [options]" */
    const char *summary; /* one line */
    uint64_t opts;       /* GH_MOPT_BIT set of accepted options (GH_MOPT_COMMON included) */
    size_t min_pos;
    size_t max_pos;                       /* <= GH_MGMT_POS_MAX */
    gh_err (*run)(struct gh_mgmt_ctx *c); /* reason in c->msg on failure */
};

/* The i-th command of the table (NULL past the last); static storage. */
const struct gh_mgmt_cmd *gh_mgmt_cmd_at(size_t i);
/* The command group/name, or NULL. */
const struct gh_mgmt_cmd *gh_mgmt_cmd_find(const char *group, const char *name);

/* Parse argv (argv[0] is the first word after the command name) against
 * cmd's options. Accepts "--name value", "--name=value", "-h", and "--"
 * (everything after it is positional). On error *out is unspecified.
 * Errors (reason in msg): GH_ERR_USAGE (unknown option, an option cmd does
 * not take, a missing value, a flag given a value, an option given twice,
 * too many --property, too few or too many positional arguments; the
 * positional count is not checked when --help is given). */
GH_NODISCARD gh_err gh_mgmt_args_parse(const struct gh_mgmt_cmd *cmd, int argc, char **argv,
                                       struct gh_mgmt_args *out, char *msg, size_t cap);

/* Help of one command (its own options, then the connection options), or
 * the list of a group's commands, written to f. */
void gh_mgmt_help_command(FILE *f, const struct gh_mgmt_cmd *cmd);
void gh_mgmt_help_group(FILE *f, const char *group);

/* ---- the connection ------------------------------------------------------- */

/* Where to look for the service connection string. All fields may be NULL. */
struct gh_mgmt_cs_sources {
    const char *flag;         /* --connection-string */
    const char *flag_file;    /* --connection-string-file */
    const char *data_dir;     /* --data-dir (its file_name) */
    const char *env;          /* the value of $env_name */
    const char *default_file; /* NULL: GH_MGMT_DATA_DIR_DEFAULT/file_name */
    const char *file_name;    /* NULL: GH_MGMT_CS_FILE_NAME */
    const char *env_name;     /* for messages; NULL: GH_MGMT_ENV_CS */
};

/* A service credential: the parts of a service connection string. */
struct gh_mgmt_cred {
    char host[GH_MGMT_HOST_MAX + 1];
    char policy[GH_MGMT_POLICY_MAX + 1];
    char key[GH_SYMKEY_B64_MAX + 1]; /* secret: wipe with gh_mgmt_cred_wipe */
    char source[GH_MGMT_SOURCE_MAX]; /* "--connection-string", "file X", ... */
};

/* Find and check the service connection string: one of the three flags
 * (giving more than one is a usage error), else the environment value,
 * else the default file. A file's content is trimmed of surrounding
 * whitespace. *out is written only on success; wipe it when done.
 * Errors (reason in msg, which says where it looked and how to give one):
 *   GH_ERR_USAGE           more than one of the three flags
 *   GH_ERR_CONFIG_MISSING  nothing found (the default file does not exist)
 *   GH_ERR_NOENT, GH_ERR_PERM, GH_ERR_IO, GH_ERR_TOO_LARGE
 *                          a file named by a flag is missing, or any
 *                          connection string file cannot be read
 *   GH_ERR_CONFIG_VALUE    the text is not a service connection string
 *                          (empty, malformed, a device connection string,
 *                          a field too long)
 *   GH_ERR_NOMEM */
GH_NODISCARD gh_err gh_mgmt_cred_load(const struct gh_mgmt_cs_sources *src,
                                      struct gh_mgmt_cred *out, char *msg, size_t cap);
void gh_mgmt_cred_wipe(struct gh_mgmt_cred *c);

/* The gh_err for an HTTP status of the hub (code: the ErrorCode of its body,
 * "" or NULL when unknown): 2xx GH_OK; 400 GH_ERR_ARG (GH_ERR_CERT_VERIFY
 * for CertificateVerificationFailed); 401 GH_ERR_AUTH; 403 GH_ERR_QUEUE_FULL
 * for DeviceMaximumQueueDepthExceeded, else GH_ERR_FORBIDDEN; 404
 * GH_ERR_NOT_FOUND; 405 GH_ERR_UNSUPPORTED; 408 GH_ERR_TIMEOUT; 409
 * GH_ERR_CONFLICT; 412 GH_ERR_ETAG_MISMATCH; 413 GH_ERR_TOO_LARGE; 429
 * GH_ERR_TOO_MANY; 504 GH_ERR_TIMEOUT; other 5xx GH_ERR_IO; anything else
 * GH_ERR_MALFORMED. Pure. */
GH_NODISCARD gh_err gh_mgmt_status_err(unsigned status, const char *code);

/* Split an IoT Hub error body {"Message":"ErrorCode:<code>;<text>",...}:
 * code and text are NUL-terminated and truncated to their capacities
 * (codecap, textcap >= 1). A body that is not of this form gives code ""
 * and the Message (or "") as text; a provisioning service error body
 * {"errorCode":<n>,"message":<text>,...} gives code "<n>" (decimal).
 * Control characters in text become spaces. Pure; never fails. */
void gh_mgmt_hub_error_parse(const uint8_t *body, size_t len, char *code, size_t codecap,
                             char *text, size_t textcap);

/* The open connection to the hub. */
struct gh_mgmt_hub {
    struct gh_mgmt_cred cred;
    const char *address; /* borrowed: --address, or NULL (resolve cred.host) */
    const char *ca_file; /* borrowed: --ca / $GATEHOUSE_CA, or NULL */
    uint16_t port;
    unsigned timeout_ms;
    struct gh_tls_client *tls;
};

/* One request. */
struct gh_mgmt_req {
    const char *method;
    const char *target;   /* built by gh_mgmt_target */
    const char *right;    /* the right it needs (GH_MGMT_RIGHT_*), for a 401 */
    const char *if_match; /* whole field value, or NULL */
    const struct gh_http_kv *headers;
    size_t nheaders;
    const char *content_type; /* NULL: none */
    const void *body;
    size_t body_len;
    unsigned timeout_ms; /* 0: the connection's */
};

/* The context of a running command. */
struct gh_mgmt_ctx {
    const struct gh_mgmt_cmd *cmd;
    struct gh_mgmt_args a;
    FILE *out;
    bool json;
    bool dps;           /* an enrollment/registration command: the DPS service */
    const char *env_cs; /* $GATEHOUSE_CONNECTION_STRING, or for dps
                           $GATEHOUSE_DPS_CONNECTION_STRING (NULL: unset) */
    const char *env_ca; /* $GATEHOUSE_CA */
    struct gh_mgmt_hub hub;
    bool connected;
    char msg[GH_MGMT_MSG_MAX]; /* why the command failed */
};

/* Record why the command failed (the first reason wins) and return rc. */
GH_NODISCARD gh_err gh_mgmt_fail(struct gh_mgmt_ctx *c, gh_err rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Open the connection (once): load the credential (for c->dps the DPS
 * service connection string: GH_MGMT_DPS_CS_FILE_NAME in --data-dir),
 * build the TLS context.
 * Errors: those of gh_mgmt_cred_load, GH_ERR_USAGE (bad --port or
 * --timeout), the gh_tls_client_new errors for --ca (reason in c->msg). */
GH_NODISCARD gh_err gh_mgmt_connect(struct gh_mgmt_ctx *c);
void gh_mgmt_disconnect(struct gh_mgmt_ctx *c);

/* The message and error for a failed transport (rc from gh_http_fetch),
 * naming the address:port, the host name and what to do. Returns the
 * gh_err to exit with: GH_ERR_CERT_VERIFY, GH_ERR_TLS, GH_ERR_TIMEOUT,
 * GH_ERR_IO (refused, reset, name not resolved, ...), GH_ERR_PROTOCOL
 * family errors as given. Pure. */
GH_NODISCARD gh_err gh_mgmt_transport_error(gh_err rc, const struct gh_mgmt_hub *h, char *msg,
                                            size_t cap);

/* Send one request signed with a fresh token (sr = host, skn = policy,
 * se = now + GH_MGMT_TOKEN_TTL_S). Connects first if needed.
 * GH_OK: *resp owns a 2xx response (gh_http_response_cleanup). Otherwise
 * the reason is in c->msg and the error is: the gh_mgmt_connect errors,
 * gh_mgmt_transport_error's, or gh_mgmt_status_err of a non-2xx answer. */
GH_NODISCARD gh_err gh_mgmt_call(struct gh_mgmt_ctx *c, const struct gh_mgmt_req *rq,
                                 struct gh_http_response *resp);
/* gh_mgmt_call, then parse the body as JSON: *out is a new reference (NULL
 * for an empty body). Errors: those of gh_mgmt_call, GH_ERR_BAD_JSON. */
GH_NODISCARD gh_err gh_mgmt_call_json(struct gh_mgmt_ctx *c, const struct gh_mgmt_req *rq,
                                      json_t **out);

/* ---- pure helpers (mgmt_util.c) ---------------------------------------------- */

/* Decimal integer in [min, max], digits only. Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_mgmt_uint_parse(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Duration: one or more <digits><unit> with units s, m, h, d ("90s",
 * "10m", "1h30m"), or plain digits (seconds). 0 < total <=
 * GH_MGMT_DURATION_MAX_S. Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_mgmt_duration_parse(const char *s, int64_t *seconds);

/* ISO 8601 / RFC 3339 UTC time "YYYY-MM-DDThh:mm:ss[.fff...](Z|+hh:mm|-hh:mm)"
 * to milliseconds since the epoch (>= 1970). Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_mgmt_time_parse(const char *s, int64_t *ms);
/* ms since the epoch (>= 0) as "YYYY-MM-DDThh:mm:ss.fffZ". */
void gh_mgmt_time_format(int64_t ms, char out[GH_MGMT_TIME_MAX]);
/* --since: a duration ago (from now_ms), or an ISO time. Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_mgmt_since_parse(const char *s, int64_t now_ms, int64_t *ms);

/* A --property argument "name=value": name is 1..GH_MGMT_PROP_TEXT_MAX
 * HTTP token characters (it travels in a header name), value is
 * 0..GH_MGMT_PROP_TEXT_MAX bytes of UTF-8 without control characters and
 * without leading or trailing blanks (HTTP would trim them). The slices
 * borrow arg. Errors: GH_ERR_ARG (reason in msg). */
GH_NODISCARD gh_err gh_mgmt_prop_parse(const char *arg, struct gh_slice *name,
                                       struct gh_slice *value, char *msg, size_t cap);

/* A query parameter for gh_mgmt_target (value NULL: left out). */
struct gh_mgmt_query {
    const char *name;
    const char *value;
};

/* Build "/seg1/seg2...?name=value&..." into out: every segment and value
 * percent-encoded (all but A-Z a-z 0-9 - . _ ~). Errors: GH_ERR_ARG (no
 * segment, an empty segment), GH_ERR_NOBUFS. */
GH_NODISCARD gh_err gh_mgmt_target(char *out, size_t cap, const char *const *segs, size_t nseg,
                                   const struct gh_mgmt_query *q, size_t nq);

/* A JSON argument: the text itself, or "@FILE" for a file's content (at
 * most GH_MGMT_ARG_JSON_MAX bytes). want_object: it must be an object.
 * *out is a new reference. Duplicate keys are refused.
 * Errors (reason in msg, naming opt): GH_ERR_ARG (not JSON, not an object,
 * too large), GH_ERR_NOENT, GH_ERR_PERM, GH_ERR_IO (the file). */
GH_NODISCARD gh_err gh_mgmt_json_arg(const char *opt, const char *arg, bool want_object,
                                     json_t **out, char *msg, size_t cap);

/* Read a file (at most max bytes; "-" is standard input). *data is
 * NUL-terminated (not counted) and owned by the caller (free).
 * Errors (reason in msg): GH_ERR_NOENT, GH_ERR_PERM, GH_ERR_IO,
 * GH_ERR_TOO_LARGE, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_mgmt_file_read(const char *path, size_t max, uint8_t **data, size_t *len,
                                      char *msg, size_t cap);

/* Is s a valid device id (PROTOCOL.md 5.2)? Else GH_ERR_ARG with a reason. */
GH_NODISCARD gh_err gh_mgmt_check_device_id(const char *s, char *msg, size_t cap);

/* ---- output (mgmt_out.c) -------------------------------------------------- */

/* Write text a peer controls so that it cannot drive the terminal: control
 * characters (and DEL) as \xHH, everything else as is. */
void gh_mgmt_put_safe(FILE *f, const char *s, size_t n);
/* j indented (2 spaces) and a newline; compact: one line. */
void gh_mgmt_print_json(FILE *f, const json_t *j, bool compact);

/* The device's connection string (HostName=host;DeviceId=..;SharedAccessKey=
 * primary, or x509=true) into out. Errors: GH_ERR_ARG (no deviceId, a SAS
 * device without a primary key, authentication type none), GH_ERR_NOBUFS. */
GH_NODISCARD gh_err gh_mgmt_device_connstr(const char *host, const json_t *dev, char *out,
                                           size_t cap);

void gh_mgmt_print_device(FILE *f, const json_t *dev, bool show_keys);
void gh_mgmt_print_device_table(FILE *f, const json_t *arr);
void gh_mgmt_print_ca(FILE *f, const json_t *ca);
void gh_mgmt_print_ca_table(FILE *f, const json_t *arr);
void gh_mgmt_print_twin(FILE *f, const json_t *twin);
/* One telemetry message (docs/hub-rest.md) as one line:
 *   <enqueuedTime> <device>[/<module>] seq=<n> [<app name>=<value> ...] <body>
 * (peer text escaped, a base64 body as "base64:<text>"), or as compact
 * JSON when json. */
void gh_mgmt_print_telemetry(FILE *f, const json_t *msg, bool json);

/* ---- commands (one file each) ---------------------------------------------- */

/* What `device create/update` changes in a device document. */
struct gh_mgmt_device_change {
    const char *status;      /* "enabled"/"disabled" or NULL: unchanged */
    const char *auth_type;   /* "sas"/"selfSigned"/"certificateAuthority" or NULL */
    const char *primary_key; /* NULL: unchanged */
    const char *secondary_key;
    const char *primary_thumbprint; /* NULL: unchanged */
    const char *secondary_thumbprint;
    int edge;                 /* -1 unchanged, 0 no, 1 yes */
    bool set_parent;          /* change the parent (parent_scope) */
    const char *parent_scope; /* the parent's deviceScope; NULL: no parent */
};

/* Apply ch to the device document dev (an object, as GET returns it or
 * {} for a new one). A leaf's parent goes into deviceScope (and
 * parentScopes), an Edge device's into parentScopes. Changing the
 * authentication type drops the credentials of the other types.
 * Errors (reason in msg): GH_ERR_ARG (dev not an object, a key or
 * thumbprint for another authentication type, selfSigned without a
 * primary thumbprint, one SAS key missing on a new device), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_mgmt_device_apply(json_t *dev, const struct gh_mgmt_device_change *ch,
                                         char *msg, size_t cap);
/* "sas" / "x509-thumbprint" / "x509-ca" (also the REST names) -> REST name.
 * Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_mgmt_auth_type_parse(const char *s, const char **rest_name);

/* The body of `twin update` from --desired, --tags, --patch. *out is a new
 * reference. Errors (reason in msg): GH_ERR_USAGE (none given, or --patch
 * with another), the gh_mgmt_json_arg errors. */
GH_NODISCARD gh_err gh_mgmt_twin_patch_body(const struct gh_mgmt_args *a, json_t **out, char *msg,
                                            size_t cap);
/* The body of `method invoke`. Errors (reason in msg): GH_ERR_ARG (method
 * name empty or longer than 128, timeouts out of range), the
 * gh_mgmt_json_arg errors for --payload, GH_ERR_NOMEM. *http_timeout_s
 * receives the HTTP timeout the call needs. */
GH_NODISCARD gh_err gh_mgmt_method_body(const struct gh_mgmt_args *a, const char *method,
                                        json_t **out, unsigned *http_timeout_s, char *msg,
                                        size_t cap);

/* The header fields of `c2d send` (everything but the body and its
 * Content-Type). kv[i] points into the options (ids, ack, encoding) or into
 * this struct (expiry, property names and values), so it lives as long as
 * both. About 60 KiB: allocate it. */
struct gh_mgmt_c2d_headers {
    struct gh_http_kv kv[GH_HTTP_CLIENT_HEADERS_MAX];
    size_t n;
    char expiry[GH_MGMT_TIME_MAX];
    char names[GH_MGMT_PROPS_MAX][sizeof "iothub-app-" + GH_MGMT_PROP_TEXT_MAX];
    char values[GH_MGMT_PROPS_MAX][GH_MGMT_PROP_TEXT_MAX + 1];
};
/* Build them from the options. now_ms is the time --ttl counts from.
 * Errors (reason in msg): GH_ERR_USAGE (--expiry with --ttl), GH_ERR_ARG
 * (bad message id, expiry, ttl, ack, property; a property given twice). */
GH_NODISCARD gh_err gh_mgmt_c2d_headers(const struct gh_mgmt_args *a, int64_t now_ms,
                                        struct gh_mgmt_c2d_headers *h, char *msg, size_t cap);

/* The request target of one telemetry read. Errors: GH_ERR_NOBUFS. */
GH_NODISCARD gh_err gh_mgmt_telemetry_target(char *out, size_t cap, const char *device,
                                             int64_t after, const char *since, uint64_t limit,
                                             unsigned wait_s);

/* ---- provisioning service (mgmt_dps.c, mgmt_dps_out.c) ---------------------- */

/* What `enrollment create` sends (strings borrowed). */
struct gh_mgmt_enrollment_spec {
    bool group;                 /* enrollment group, else individual */
    const char *id;             /* registration id or group id */
    const char *attestation;    /* "symmetric-key" or "x509" (NULL: not given) */
    const char *primary_key;    /* base64; NULL: generated by the service */
    const char *secondary_key;  /* base64; NULL: generated by the service */
    const char *cert_pem;       /* x509: device (individual) or signing CA (group) */
    bool edge;                  /* capabilities.iotEdge */
    const char *device_id;      /* individual only; NULL: the registration id */
    const json_t *initial_twin; /* {"tags":..,"properties":{"desired":..}}; NULL: none */
    bool disabled;              /* provisioningStatus */
    const char *const *hubs;    /* iotHubs */
    size_t nhubs;
};

/* Symmetric keys the service accepts: base64 of this many bytes. */
#define GH_MGMT_DPS_KEY_MIN 16u
#define GH_MGMT_DPS_KEY_MAX 64u

/* The PUT body of an individual enrollment (PROTOCOL.md 4.6) or an
 * enrollment group: registrationId (+ deviceId) or enrollmentGroupId,
 * attestation {type symmetricKey, symmetricKey {primaryKey?, secondaryKey?}}
 * or {type x509, x509 {clientCertificates | signingCertificates {primary
 * {certificate}}}}, capabilities.iotEdge, provisioningStatus, iotHubs (when
 * given), initialTwin (when given), reprovisionPolicy (both true). *out is a
 * new reference, written only on success.
 * Errors (reason in msg): GH_ERR_USAGE (no attestation), GH_ERR_ARG (an
 * invalid id, device id or hub host name; an unknown attestation; keys
 * with x509, a certificate with symmetric-key, x509 without a certificate;
 * a key that is not base64 of GH_MGMT_DPS_KEY_MIN..MAX bytes; --device-id
 * for a group; more than GH_MGMT_DPS_HUBS_MAX hubs; an initial twin that
 * is not an object with only tags and properties.desired objects),
 * GH_ERR_NOMEM. Pure. */
GH_NODISCARD gh_err gh_mgmt_enrollment_body(const struct gh_mgmt_enrollment_spec *s, json_t **out,
                                            char *msg, size_t cap);

/* "/collection[/id[/action]]?api-version=GH_MGMT_DPS_API_VERSION" of the
 * provisioning service API (segments percent-encoded). id NULL: none;
 * action needs id. Errors: GH_ERR_ARG (empty collection or id, action
 * without id), GH_ERR_NOBUFS. Pure. */
GH_NODISCARD gh_err gh_mgmt_dps_target(char *out, size_t cap, const char *collection,
                                       const char *id, const char *action);

/* Is s a host name for --hub (1..GH_MGMT_HOST_MAX letters, digits, '-',
 * '.', no empty label)? */
bool gh_mgmt_host_valid(const char *s);

/* Text output of enrollments (show_keys: print symmetric keys, else
 * "(hidden ...)"), enrollment lists, registration states and lists. Peer
 * text is escaped. */
void gh_mgmt_print_enrollment(FILE *f, const json_t *e, bool show_keys);
void gh_mgmt_print_enrollment_table(FILE *f, const json_t *arr, bool groups);
void gh_mgmt_print_registration(FILE *f, const json_t *r);
void gh_mgmt_print_registration_table(FILE *f, const json_t *arr);

/* The PEM of the first certificate in path (*pem: caller frees) and
 * whether it is a CA (is_ca may be NULL). Errors (reason in c->msg, naming
 * opt): GH_ERR_ARG (no certificate in the file), the gh_pki_certs_load
 * errors (GH_ERR_NOENT, GH_ERR_PERM, GH_ERR_IO, ...), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_mgmt_cert_pem(struct gh_mgmt_ctx *c, const char *opt, const char *path,
                                     char **pem, bool *is_ca);

GH_NODISCARD gh_err gh_mgmt_enrollment_create(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_enrollment_list(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_enrollment_show(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_enrollment_delete(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_registration_list(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_registration_show(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_registration_delete(struct gh_mgmt_ctx *c);

GH_NODISCARD gh_err gh_mgmt_device_create(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_device_list(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_device_show(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_device_update(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_device_delete(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_ca_add(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_ca_list(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_ca_show(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_ca_verify(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_ca_delete(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_twin_show(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_twin_update(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_method_invoke(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_c2d_send(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_c2d_purge(struct gh_mgmt_ctx *c);
GH_NODISCARD gh_err gh_mgmt_telemetry_tail(struct gh_mgmt_ctx *c);

#endif
