/* gatehouse edge: the transparent gateway daemon (docs/edge.md).
 *
 * One thread, one libevent loop: the MQTT/TLS listener for children, the
 * link to the hub (one multiplexed MQTT connection, docs/edge-link.md), the
 * identity-cache sync over the hub's HTTPS API, and the metrics/status HTTP
 * endpoint. */
#ifndef GH_EDGE_EDGE_H
#define GH_EDGE_EDGE_H

#include <stddef.h>

#include "common/error.h"
#include "edge/config.h"

/* Run the gateway in the foreground until SIGTERM/SIGINT; SIGHUP re-reads
 * <home>/config.toml and applies what is reloadable (certificates, trust
 * bundle, log level). Writes <data_dir>/edge.pid while running. Provisions
 * the gateway first (cached identity, DPS or manual: provision.h).
 * err gets a one-line reason on failure.
 * Errors: GH_ERR_CONFIG_* (unusable configuration), the provisioning
 * errors, GH_ERR_IO / GH_ERR_PERM / GH_ERR_DB (data directory, cache),
 * GH_ERR_TLS (certificates), GH_ERR_CONFLICT (another daemon runs with this
 * data directory), GH_ERR_NOMEM, GH_ERR_INTERNAL (event loop). */
GH_NODISCARD gh_err gh_edge_run(const struct gh_edge_config *cfg, const char *home, char *err,
                                size_t errlen);

#endif
