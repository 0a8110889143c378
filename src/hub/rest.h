/* The hub's HTTPS service API (PROTOCOL.md section 5, plus gatehouse's own
 * extensions for cloud-to-device send, CA registration and telemetry
 * reads; docs/hub-rest.md). Served on listen.https_port with the hub's
 * certificate. */
#ifndef GH_HUB_REST_H
#define GH_HUB_REST_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct gh_hub;
struct gh_tls_server;
struct gh_hub_rest;

GH_NODISCARD gh_err gh_hub_rest_new(struct gh_hub *hub, struct gh_tls_server *tls,
                                    struct gh_hub_rest **out, char *errbuf, size_t errlen);
/* Stop listening and drop pending requests. NULL is a no-op. */
void gh_hub_rest_free(struct gh_hub_rest *r);
uint16_t gh_hub_rest_port(const struct gh_hub_rest *r);

#endif
