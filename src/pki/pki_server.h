/* A daemon's TLS server certificate kept up to date from a CA the operator
 * gives: issued when missing, within renew_before of expiry, or no longer
 * naming every host; used by the hub (tls.ca_cert) and the gateway
 * ([edge_ca]). */
#ifndef GH_PKI_SERVER_H
#define GH_PKI_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

struct gh_pki_server_cert_req {
    const char *ca_cert;              /* PEM: the issuing CA (first), its chain after */
    const char *ca_key;               /* PEM private key of the CA */
    const char *ca_key_password_file; /* NULL or "": unencrypted */
    const char *const *dns;           /* host names; dns[0] is also the CN */
    size_t ndns;                      /* >= 1 */
    unsigned days;                    /* validity */
    int64_t renew_before_s;           /* re-issue when less than this remains */
    const char *cert_path;            /* output: leaf + chain (PEM) */
    const char *key_path;             /* output: key (PEM, 0600) */
};

/* Make sure cert_path/key_path hold a current certificate (force: issue a
 * new one regardless). *issued tells whether one was written, *not_after
 * (may be NULL) its expiry (Unix seconds). errbuf explains a failure.
 * Errors: the PKI errors (GH_ERR_NOENT / GH_ERR_IO / GH_ERR_PERM on the CA
 * files, GH_ERR_CRYPTO, GH_ERR_CERT_*, ...), GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_pki_server_cert_ensure(const struct gh_pki_server_cert_req *req, bool force,
                                              bool *issued, int64_t *not_after, char *errbuf,
                                              size_t errlen);

#endif
