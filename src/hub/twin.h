/* Device and module twins (PROTOCOL.md 1.10.2-1.10.4, 5.4): the document
 * model on jansson values, without storage.
 *
 * A twin has three sections: tags (service only), desired (service writes,
 * device reads) and reported (device writes, service reads). Each property
 * section has a $version (starts at 1, +1 per accepted update of that
 * section) and a $metadata tree mirroring its objects: every object node and
 * every leaf carries "$lastUpdated" (ISO 8601 UTC, ms), desired ones also
 * "$lastUpdatedVersion" (the desired $version that wrote them). The twin
 * version (service view "version") starts at 1 and grows by one per accepted
 * update of any section; the twin etag is base64 of that version as 8
 * big-endian bytes, so it changes on every change.
 *
 * Updates are merge-patches (RFC 7396): objects merge recursively, null
 * removes a member, arrays and scalars replace wholesale. An update whose
 * section patch is empty ({}) changes nothing and bumps no version. The
 * top-level read-only members "$version" and "$metadata" of a section patch
 * are ignored (so a twin fetched from the service view can be sent back).
 * Metadata: every object on the path of a patch gets a fresh $lastUpdated
 * (so a removal shows in its parent's metadata); replaced values get a fresh
 * leaf/subtree; removed members lose their metadata.
 *
 * Limits (1.10.4), checked on the patch before merging and on the merged
 * section after: keys 1..1024 bytes of UTF-8 without C0/C1 control
 * characters, DEL, '.', '$' or space; string values <= 4096 bytes; integers
 * in [-2^52, 2^52 - 1]; containers nested at most 10 deep below the section
 * (the section object itself is depth 0, {"a":{...}} puts a's object at 1;
 * arrays count like objects); the compact JSON text of the merged section,
 * without $-members, <= 8192 bytes for tags and <= 32768 bytes for desired
 * and reported.
 *
 * Every update is atomic: on any error the twin is left exactly as it was.
 * Errors fill `err` (one line, NUL-terminated when errlen > 0) with the
 * reason that goes back to the caller in the 400 body.
 *
 * Thread-safety: none on a shared twin; distinct twins are independent.
 * No I/O, no logging.
 */
#ifndef GH_HUB_TWIN_H
#define GH_HUB_TWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/error.h"
#include "hub/identity.h"
#include "hub/stamp.h"

#define GH_TWIN_TAGS_MAX 8192
#define GH_TWIN_PROPS_MAX 32768
#define GH_TWIN_DEPTH_MAX 10
#define GH_TWIN_KEY_MAX 1024
#define GH_TWIN_STRING_MAX 4096
#define GH_TWIN_INT_MIN (-INT64_C(4503599627370496))
#define GH_TWIN_INT_MAX INT64_C(4503599627370495)
/* Enough room for every rejection reason. */
#define GH_TWIN_REASON_MAX 192

enum gh_twin_section { GH_TWIN_TAGS, GH_TWIN_DESIRED, GH_TWIN_REPORTED };

/* All members are owned by the twin (one reference each) and are never
 * NULL after gh_twin_init or a successful load. */
struct gh_twin {
    json_t *tags;
    json_t *desired;
    json_t *desired_meta;
    json_t *reported;
    json_t *reported_meta;
    int64_t desired_version;
    int64_t reported_version;
    int64_t version;
};

/* A never-written twin: empty sections, versions 1, metadata roots stamped
 * with now_ms. Errors: GH_ERR_NOMEM (t is then zeroed). */
GH_NODISCARD gh_err gh_twin_init(struct gh_twin *t, int64_t now_ms);

/* Release the members and zero t. Safe on a zeroed twin. */
void gh_twin_cleanup(struct gh_twin *t);

/* Check a section document (or a patch for it) against the limits above.
 * With patch true the size limit is not checked (a patch may remove more
 * than it adds; callers check the merged section).
 * Errors: GH_ERR_BAD_JSON (not an object), GH_ERR_ARG (empty key or a
 * forbidden character in a key), GH_ERR_TOO_LARGE (key, string, integer
 * range, depth or section size over its limit). */
GH_NODISCARD gh_err gh_twin_check(const json_t *doc, enum gh_twin_section sec, bool patch,
                                  char *err, size_t errlen);

/* Service PATCH (5.4): {"tags":{...},"properties":{"desired":{...}}}.
 * Other members, and properties.reported, are ignored. tags and
 * properties.desired, when present, must be objects. On success, when the
 * desired section was updated, *notify (if notify != NULL) receives a new
 * object: the desired patch as given plus "$version" (the body of the
 * 1.10.3 notification); otherwise *notify is set to NULL.
 * Errors: those of gh_twin_check, and GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_twin_service_patch(struct gh_twin *t, const json_t *patch, int64_t now_ms,
                                          json_t **notify, char *err, size_t errlen);

/* Service PUT replace (5.4): tags and properties.desired are replaced by
 * those of doc (absent means empty); null members inside are dropped.
 * Both sections count as updated (desired $version +1, version +1).
 * *notify (if notify != NULL) receives the full new desired document plus
 * "$version". Errors: as gh_twin_service_patch. */
GH_NODISCARD gh_err gh_twin_service_replace(struct gh_twin *t, const json_t *doc, int64_t now_ms,
                                            json_t **notify, char *err, size_t errlen);

/* Replace only properties.desired (applyConfigurationContent, 6.10); same
 * contract as gh_twin_service_replace for the desired section. */
GH_NODISCARD gh_err gh_twin_desired_replace(struct gh_twin *t, const json_t *desired,
                                            int64_t now_ms, json_t **notify, char *err,
                                            size_t errlen);

/* Device reported PATCH (1.10.1): merge patch into reported. A non-empty
 * patch bumps the reported $version and the twin version. *new_version
 * (if not NULL) receives the reported $version after the call.
 * Errors: as gh_twin_service_patch. */
GH_NODISCARD gh_err gh_twin_reported_patch(struct gh_twin *t, const json_t *patch, int64_t now_ms,
                                           int64_t *new_version, char *err, size_t errlen);

/* Device GET view (1.10.2): {"desired":{...,"$version":n},
 * "reported":{...,"$version":m}}, no tags, no $metadata. New reference.
 * Errors: GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_twin_device_view(const struct gh_twin *t, json_t **out);

/* Service view (5.4) for identity id: deviceId, moduleId (modules), etag,
 * deviceEtag, status, statusUpdateTime, connectionState, lastActivityTime,
 * cloudToDeviceMessageCount, authenticationType, x509Thumbprint, modelId,
 * version, tags, properties with $metadata and $version, capabilities
 * (devices). New reference. Errors: GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_twin_service_view(const struct gh_twin *t, const struct gh_identity *id,
                                         json_t **out);

/* The twin etag for its current version. */
void gh_twin_etag(const struct gh_twin *t, char out[GH_HUB_ETAG8_LEN]);

#endif
