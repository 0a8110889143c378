/* IoT Hub / DPS connection strings (PROTOCOL.md 2.8).
 *
 *   HostName=hub.example.test;DeviceId=thermostat-01;SharedAccessKey=AAEC...
 *
 * gh_connstr_parse splits the text into the known fields; the
 * gh_connstr_check_* functions then say whether the fields make a usable
 * device or service connection string. Every error comes with a short,
 * static, human-readable reason for the CLI (`why`); reasons never quote
 * the input (it holds secrets).
 *
 * No allocation, I/O or logging; thread-safe. A parsed struct borrows the
 * input text and contains keys: wipe both when done.
 */
#ifndef GH_IOTHUB_CONNSTR_H
#define GH_IOTHUB_CONNSTR_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/error.h"

/* Longest connection string accepted. */
#define GH_CONNSTR_MAX 8192

/* Known fields. A slice with ptr == NULL means the key was absent; a present
 * key may have an empty value (ptr != NULL, len 0). Values borrow the input
 * and are not decoded or trimmed. */
struct gh_connstr {
    struct gh_slice host_name;               /* HostName */
    struct gh_slice device_id;               /* DeviceId */
    struct gh_slice module_id;               /* ModuleId */
    struct gh_slice shared_access_key;       /* SharedAccessKey (base64) */
    struct gh_slice shared_access_key_name;  /* SharedAccessKeyName (policy) */
    struct gh_slice shared_access_signature; /* SharedAccessSignature (whole token) */
    struct gh_slice gateway_host_name;       /* GatewayHostName */
    struct gh_slice x509_value;              /* x509, raw */
    bool x509;                               /* x509 value is "true", any case */
};

/* Parse text: items separated by ';', each "Key=Value" split at the first
 * '=' (values may contain '='). Keys are case-sensitive (as in Node). Empty
 * items (";;", a trailing ';') are skipped. Unknown keys are ignored and not
 * recorded, so only known keys are checked for duplicates.
 * Writes *out only on success. why (may be NULL) receives a static reason on
 * error and NULL on success.
 * Errors: GH_ERR_BAD_CONNSTR (an item without '=', an empty key, a known key
 * given twice, a control character (< 0x20 or 0x7f) anywhere),
 * GH_ERR_TOO_LARGE (longer than GH_CONNSTR_MAX). */
GH_NODISCARD gh_err gh_connstr_parse(struct gh_slice text, struct gh_connstr *out,
                                     const char **why);

/* A device (or module) connection string: HostName containing a '.' that
 * is neither first nor last (PROTOCOL.md 0.2); a non-empty DeviceId; ModuleId
 * and GatewayHostName non-empty when present; exactly one of
 * SharedAccessKey, SharedAccessSignature, x509=true; a SharedAccessKey must
 * decode as a key (gh_symkey_decode), a SharedAccessSignature must parse as a
 * token (gh_sas_parse). SharedAccessKeyName is allowed (a device signing with
 * a policy key). why as for gh_connstr_parse.
 * Errors: GH_ERR_BAD_CONNSTR. */
GH_NODISCARD gh_err gh_connstr_check_device(const struct gh_connstr *cs, const char **why);

/* A service (hub or DPS) connection string: HostName as above, non-empty
 * SharedAccessKeyName, SharedAccessKey that decodes as a key. Other fields
 * are ignored. why as for gh_connstr_parse.
 * Errors: GH_ERR_BAD_CONNSTR. */
GH_NODISCARD gh_err gh_connstr_check_service(const struct gh_connstr *cs, const char **why);

#endif
