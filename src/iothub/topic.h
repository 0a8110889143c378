/* IoT Hub and DPS MQTT topics (PROTOCOL.md 1.6-1.12, 4.2.2): classify the
 * topic names a peer publishes, classify subscription filters, and build the
 * topic names we publish.
 *
 * Classifiers take a topic name and return typed views into it: no
 * allocation, no I/O, no logging, no scratch (property bags are returned raw;
 * walk them with gh_iothub_bag_next). Builders append to a caller-owned
 * gh_writer and write nothing on error (the writer's length is restored).
 * Every function is thread-safe on distinct objects.
 *
 * Id segments: classifiers compare the {D}/{M} segments of topics and filters
 * with the connection identity after percent-decoding (Python encodes them),
 * or byte-exact (ids that contain `%` themselves), see gh_iothub_pct_matches.
 * Builders write an id segment verbatim when it holds no `/`, `+`, `#` or
 * NUL, else percent-encoded; pass the spelling the client used in its filter
 * where there is one (1.7), else the raw id.
 */
#ifndef GH_IOTHUB_TOPIC_H
#define GH_IOTHUB_TOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "iothub/bag.h"
#include "iothub/username.h"

enum gh_iothub_topic_kind {
    /* published by devices (gh_iothub_topic_classify) */
    GH_IOTHUB_TOPIC_TELEMETRY = 1,       /* device_id, module_id, bag */
    GH_IOTHUB_TOPIC_TWIN_GET,            /* rid */
    GH_IOTHUB_TOPIC_TWIN_PATCH_REPORTED, /* rid */
    GH_IOTHUB_TOPIC_METHOD_RESPONSE,     /* status, rid */
    GH_IOTHUB_TOPIC_DPS_REGISTER,        /* rid */
    GH_IOTHUB_TOPIC_DPS_POLL,            /* rid, operation_id */
    /* published by servers (gh_iothub_topic_classify_s2d) */
    GH_IOTHUB_TOPIC_C2D,            /* device_id, bag */
    GH_IOTHUB_TOPIC_MODULE_INPUT,   /* device_id, module_id, name (input), bag */
    GH_IOTHUB_TOPIC_TWIN_RESPONSE,  /* status, rid, [version] */
    GH_IOTHUB_TOPIC_TWIN_DESIRED,   /* version */
    GH_IOTHUB_TOPIC_METHOD_REQUEST, /* name (method), rid */
    GH_IOTHUB_TOPIC_DPS_RESPONSE,   /* status, rid, [retry_after] */
};

/* A classified topic. Slices borrow the topic name. Fields a kind does not
 * use are empty / zero / false. device_id and module_id are the segments as
 * spelled in the topic (not decoded). bag is raw (not decoded) and has the
 * one trailing `/` of 1.8.1 step 3 removed. rid and operation_id are raw, to
 * be echoed byte-for-byte (1.10.1, 4.2.2). */
struct gh_iothub_topic {
    enum gh_iothub_topic_kind kind;
    struct gh_slice device_id;
    struct gh_slice module_id;
    struct gh_slice name;
    struct gh_slice bag;
    struct gh_slice rid;
    struct gh_slice operation_id;
    int32_t status;
    bool has_version;
    uint64_t version;
    bool has_retry_after;
    uint32_t retry_after;
};

/* Classify a PUBLISH topic name a device sent on a connection of identity id
 * (1.6, 1.8.1, 1.10.1, 1.11.2, 4.2.2). Accepted:
 *   hub device:  devices/{D}/messages/events[/[{bag}[/]]]
 *   hub module:  devices/{D}/modules/{M}/messages/events[/[{bag}[/]]]
 *   hub both:    $iothub/twin/GET/?{query with $rid}
 *                $iothub/twin/PATCH/properties/reported/?{query with $rid}
 *                $iothub/methods/res/{status}/?{query with $rid}
 *   DPS:         $dps/registrations/PUT/iotdps-register/?{query with $rid}
 *                $dps/registrations/GET/iotdps-get-operationstatus/?{query
 *                with $rid and operationId}
 * Query parameters may come in any order; unknown ones are ignored; the first
 * of a repeated name wins. {status} is a decimal int32 (optional `-`).
 * The bag may contain further `/` (1.8.1 step 2).
 *
 * A CONNECT Will topic qualifies for 1.5 item 8 exactly when this returns
 * GH_IOTHUB_TOPIC_TELEMETRY for the connection's identity.
 *
 * *out is written only on success. Errors (callers close the connection,
 * 1.5 item 7):
 *   GH_ERR_FORBIDDEN  a well-formed telemetry topic of another identity
 *                     (other device, other module, a device publishing as a
 *                     module or the reverse);
 *   GH_ERR_BAD_TOPIC  anything else: unknown or malformed topic, a topic of
 *                     the other service (hub vs DPS), a missing `$rid` or
 *                     `operationId`, a bad status, an empty id segment, `+`,
 *                     `#` or NUL anywhere in the name. */
GH_NODISCARD gh_err gh_iothub_topic_classify(struct gh_slice topic,
                                             const struct gh_iothub_identity *id,
                                             struct gh_iothub_topic *out);

/* Classify a PUBLISH topic name a server sent to a device or module (client
 * side: device library, the gateway's upstream link):
 *   devices/{D}/messages/devicebound/{bag}            C2D (`/` mandatory)
 *   devices/{D}/modules/{M}/inputs/{input}/{bag}      MODULE_INPUT
 *   $iothub/twin/res/{status}/?{$rid, [$version]}     TWIN_RESPONSE
 *   $iothub/twin/PATCH/properties/desired/?{$version} TWIN_DESIRED
 *   $iothub/methods/POST/{method}/?{$rid}             METHOD_REQUEST
 *   $dps/registrations/res/{status}/?{$rid, [retry-after]}  DPS_RESPONSE
 * Status codes are 3 decimal digits; $version a decimal uint64, retry-after
 * a decimal uint32. The caller compares device_id/module_id with its own
 * identity. *out is written only on success.
 * Errors: GH_ERR_BAD_TOPIC for anything else or a malformed number. */
GH_NODISCARD gh_err gh_iothub_topic_classify_s2d(struct gh_slice topic,
                                                 struct gh_iothub_topic *out);

enum gh_iothub_filter_kind {
    GH_IOTHUB_FILTER_UNSUPPORTED = 0, /* SUBACK 0x80 */
    GH_IOTHUB_FILTER_C2D,             /* devices/{D}/messages/devicebound/# (or {D} = `+`) */
    GH_IOTHUB_FILTER_TWIN_RESPONSES,  /* $iothub/twin/res/# */
    GH_IOTHUB_FILTER_TWIN_DESIRED,    /* $iothub/twin/PATCH/properties/desired/# */
    GH_IOTHUB_FILTER_METHODS,         /* $iothub/methods/POST/# */
    GH_IOTHUB_FILTER_MODULE_INPUTS,   /* devices/{D}/modules/{M}/inputs/# or .../{M}/# */
    GH_IOTHUB_FILTER_DPS_RESPONSES,   /* $dps/registrations/res/# */
};

/* A classified filter. device_id / module_id are the client's own spelling
 * of its identity in the filter (borrowing the filter), to be used when
 * building delivery topics (1.7). For the C2D filter with the literal `+`
 * (Embedded C), device_id is empty (ptr NULL): build with the raw id. */
struct gh_iothub_filter {
    enum gh_iothub_filter_kind kind;
    struct gh_slice device_id;
    struct gh_slice module_id;
};

/* Classify one SUBSCRIBE / UNSUBSCRIBE filter for a connection of identity id
 * (1.7): exactly the filters of 1.6 (and 4.2.2 on DPS connections) are
 * supported; C2D only for devices, module inputs only for modules, the DPS
 * filter only on DPS connections, the hub filters only on hub connections.
 * Everything else, including `#`, other identities' filters and `+`/`#`
 * inside an id segment, is GH_IOTHUB_FILTER_UNSUPPORTED. Fills *out
 * (kind UNSUPPORTED with empty spellings when unsupported) and returns its
 * kind. Never fails. */
enum gh_iothub_filter_kind gh_iothub_filter_classify(struct gh_slice filter,
                                                     const struct gh_iothub_identity *id,
                                                     struct gh_iothub_filter *out);

/* 1.11.1: non-empty printable ASCII without space and without
 * `$ ( ) < > @ , ; : \ " / [ ] ? = { }`, nor the MQTT wildcards `+` `#`. */
bool gh_iothub_valid_method_name(struct gh_slice name);

/* ---- Builders: topics servers send (1.9.1, 1.10, 1.11.1, 1.12, 4.2.2) ----
 * Common errors: GH_ERR_NOBUFS when w is too small (nothing written);
 * GH_ERR_ARG as listed per function. Bags are written with
 * gh_iothub_bag_put_all (keys such as "$.mid" come out as "%24.mid"). */

/* devices/{D}/messages/devicebound/{bag}. GH_ERR_ARG: empty device or a bag
 * item with an empty key. */
GH_NODISCARD gh_err gh_iothub_topic_build_c2d(struct gh_writer *w, struct gh_slice device,
                                              const struct gh_iothub_bag_item *props, size_t n);

/* devices/{D}/modules/{M}/inputs/{input}/{bag}. GH_ERR_ARG: an empty
 * segment or bag key. */
GH_NODISCARD gh_err gh_iothub_topic_build_module_input(struct gh_writer *w, struct gh_slice device,
                                                       struct gh_slice module,
                                                       struct gh_slice input,
                                                       const struct gh_iothub_bag_item *props,
                                                       size_t n);

/* $iothub/twin/res/{status}/?$rid={rid}[&$version={*version}]; version NULL
 * = absent. GH_ERR_ARG: status outside 100..999, or rid holding `&`, `+`,
 * `#` or NUL (rid is echoed verbatim and may be empty). */
GH_NODISCARD gh_err gh_iothub_topic_build_twin_response(struct gh_writer *w, unsigned status,
                                                        struct gh_slice rid,
                                                        const uint64_t *version);

/* $iothub/twin/PATCH/properties/desired/?$version={version}. */
GH_NODISCARD gh_err gh_iothub_topic_build_twin_desired(struct gh_writer *w, uint64_t version);

/* $iothub/methods/POST/{name}/?$rid={rid}. GH_ERR_ARG: name fails
 * gh_iothub_valid_method_name; rid empty or holding anything but printable
 * ASCII, or `&`, `/`, `?`, `#`, `+` (1.11.1). */
GH_NODISCARD gh_err gh_iothub_topic_build_method_request(struct gh_writer *w, struct gh_slice name,
                                                         struct gh_slice rid);

/* $dps/registrations/res/{status}/?$rid={rid}[&retry-after={*retry_after}];
 * retry_after NULL = absent. GH_ERR_ARG as for the twin response. */
GH_NODISCARD gh_err gh_iothub_topic_build_dps_response(struct gh_writer *w, unsigned status,
                                                       struct gh_slice rid,
                                                       const uint32_t *retry_after);

/* ---- Builders: topics devices send (device library, gateway upstream) ---- */

/* devices/{D}/messages/events/{bag}, or with module non-empty
 * devices/{D}/modules/{M}/messages/events/{bag}. GH_ERR_ARG: empty device
 * or a bag item with an empty key. */
GH_NODISCARD gh_err gh_iothub_topic_build_telemetry(struct gh_writer *w, struct gh_slice device,
                                                    struct gh_slice module,
                                                    const struct gh_iothub_bag_item *props,
                                                    size_t n);

/* $iothub/twin/GET/?$rid={rid} and
 * $iothub/twin/PATCH/properties/reported/?$rid={rid}. GH_ERR_ARG: rid as for
 * the method request. */
GH_NODISCARD gh_err gh_iothub_topic_build_twin_get(struct gh_writer *w, struct gh_slice rid);
GH_NODISCARD gh_err gh_iothub_topic_build_twin_patch_reported(struct gh_writer *w,
                                                              struct gh_slice rid);

/* $iothub/methods/res/{status}/?$rid={rid} (rid echoed: rule of the twin
 * response). */
GH_NODISCARD gh_err gh_iothub_topic_build_method_response(struct gh_writer *w, int32_t status,
                                                          struct gh_slice rid);

/* $dps/registrations/PUT/iotdps-register/?$rid={rid} and
 * $dps/registrations/GET/iotdps-get-operationstatus/?$rid={rid}&operationId={op}.
 * GH_ERR_ARG: rid as for the method request; op empty or not [0-9A-Za-z.-]
 * (4.1). */
GH_NODISCARD gh_err gh_iothub_topic_build_dps_register(struct gh_writer *w, struct gh_slice rid);
GH_NODISCARD gh_err gh_iothub_topic_build_dps_poll(struct gh_writer *w, struct gh_slice rid,
                                                   struct gh_slice op);

#endif
