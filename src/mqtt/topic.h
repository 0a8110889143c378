/* MQTT 3.1.1 topic names and topic filters (section 4.7): validation and
 * matching.
 *
 * Names are what a PUBLISH carries (no wildcards); filters are what a
 * SUBSCRIBE/UNSUBSCRIBE carries ('+' matches one whole level, '#' the parent
 * level and everything below it, only as the last level). Both are non-empty
 * MQTT UTF-8 strings without U+0000.
 *
 * All functions are pure: no allocation, no I/O, thread-safe.
 */
#ifndef GH_MQTT_TOPIC_H
#define GH_MQTT_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"

/* Validate a topic name of at most max_len bytes (and never more than
 * GH_MQTT_MAX_STRING_LEN). Checks, in this order:
 *  GH_ERR_BAD_TOPIC  empty
 *  GH_ERR_TOO_LARGE  longer than max_len or 65535
 *  GH_ERR_BAD_UTF8   not well-formed UTF-8, or contains U+0000
 *  GH_ERR_BAD_TOPIC  contains '+' or '#'
 * Names starting with '$' are valid here (IoT Hub devices publish to
 * $iothub/...); which names a peer may use is the dialect's decision. */
GH_NODISCARD gh_err gh_mqtt_topic_name_check(struct gh_slice name, size_t max_len);

/* Validate a topic filter of at most max_len bytes. Same checks and order as
 * gh_mqtt_topic_name_check, except that the last step is:
 *  GH_ERR_BAD_TOPIC  '+' not alone in its level, or '#' not alone in the
 *                    last level */
GH_NODISCARD gh_err gh_mqtt_topic_filter_check(struct gh_slice filter, size_t max_len);

/* True if the topic name matches the filter (MQTT 3.1.1 4.7), including:
 * "a/#" matches "a"; '+' matches an empty level ("a/+" matches "a/");
 * a filter whose first level is '+' or '#' does not match names starting
 * with '$' (4.7.2). Meant for validated inputs; with invalid ones it is
 * memory-safe and treats misplaced wildcard characters as literal text.
 * An empty name or filter never matches. */
bool gh_mqtt_topic_match(struct gh_slice filter, struct gh_slice name);

#endif
