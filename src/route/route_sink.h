/* Sink validation (PROTOCOL.md 6.6 and gatehouse's local sinks). Internal
 * to src/route/. */
#ifndef GH_ROUTE_ROUTE_SINK_H
#define GH_ROUTE_ROUTE_SINK_H

#include <stddef.h>
#include <stdint.h>

#include "route/route.h"

/* Longest module id / input name in BrokeredEndpoint (IoT Hub id limit). */
#define ROUTE_MODULE_ID_MAX 128
#define ROUTE_INPUT_NAME_MAX 128

/* Sink function by name (BrokeredEndpoint, LocalTopic, AppendFile), ASCII
 * case-insensitive. */
bool gh_route_sink_kind_from_name(struct gh_slice name, enum gh_route_sink_kind *out);

/* Validate a decoded sink argument. For BROKERED, the mod_off/mod_len and
 * in_off/in_len outputs locate {M} and {I} inside arg (else they are set to
 * 0). GH_ERR_CONFIG_VALUE with the why output (static text) when invalid. */
GH_NODISCARD gh_err gh_route_sink_check(enum gh_route_sink_kind kind, const uint8_t *arg, size_t n,
                                        size_t *mod_off, size_t *mod_len, size_t *in_off,
                                        size_t *in_len, const char **why);

#endif
