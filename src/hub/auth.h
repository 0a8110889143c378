/* The hub's authentication decision on CONNECT (PROTOCOL.md 1.3, 2.3, 3.2).
 * Pure decision over the store and the peer certificate: no I/O besides
 * store reads, no logging (the session logs the outcome). */
#ifndef GH_HUB_AUTH_H
#define GH_HUB_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "common/buf.h"
#include "common/error.h"
#include "hub/identity.h"

struct gh_store;

/* What the CONNECT presented. */
struct gh_hub_credentials {
    const char *device_id;
    const char *module_id;        /* "" for a device */
    struct gh_slice password;     /* empty: none (X.509) */
    X509 *cert;                   /* peer leaf certificate or NULL */
    STACK_OF(X509) * chain;       /* intermediates the peer sent, or NULL */
    X509_STORE *ca_store;         /* verified CAs registered with the hub, or NULL */
    bool ca_is_trust_bundle;      /* ca_store is a gateway's trust bundle (refusal wording) */
    const struct gh_slice *hosts; /* accepted audience hosts */
    size_t nhosts;
    int64_t now_s;
    uint32_t skew_s;
};

struct gh_hub_auth {
    uint8_t connack;       /* 0 accepted, 3 disabled, 5 refused (1.3, 1.4) */
    const char *reason;    /* static text for the log: why */
    const char *auth_type; /* "sas", "x509Certificate", "x509CA" for the auth-method stamp */
    int64_t expires_s;     /* SAS token expiry (0: none) */
    char generation_id[GH_IDENTITY_GENID_MAX + 1];
};

/* Decide. Never fails for a bad credential (that is connack 5 with a
 * reason); errors are internal: GH_ERR_DB (store), GH_ERR_CRYPTO, GH_ERR_NOMEM. */
GH_NODISCARD gh_err gh_hub_authenticate(struct gh_store *store, const struct gh_hub_credentials *c,
                                        struct gh_hub_auth *out);

/* The same decision for an identity the caller already has (a gateway's
 * cached copy of its children). store is used only for tokens signed with
 * a shared access policy; NULL refuses those ("unknown shared access
 * policy"). Errors: as gh_hub_authenticate. */
GH_NODISCARD gh_err gh_hub_authenticate_identity(struct gh_store *store,
                                                 const struct gh_identity *id,
                                                 const struct gh_hub_credentials *c,
                                                 struct gh_hub_auth *out);

#endif
