/* The hub's TLS server certificate (server_cert.c). */
#ifndef GH_HUB_SERVER_CERT_H
#define GH_HUB_SERVER_CERT_H

#include <stddef.h>

#include "common/error.h"
#include "hub/config.h"

/* Paths of the certificate chain and key to serve: the configured files, or
 * <data_dir>/tls/server.{chain,key}.pem, issued from tls.ca_cert when
 * missing, expiring within 30 days, or not naming cfg->hostname.
 * Errors: GH_ERR_CONFIG_MISSING (nothing to serve and no CA to issue from),
 * the PKI errors (errbuf explains), GH_ERR_TOO_LARGE (paths). */
GH_NODISCARD gh_err gh_hub_server_cert(const struct gh_hub_config *cfg, char *cert_path,
                                       char *key_path, size_t path_cap, char *errbuf,
                                       size_t errlen);

#endif
