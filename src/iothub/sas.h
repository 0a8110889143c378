/* Shared access signature (SAS) tokens: parse, verify, build, audiences.
 *
 * Implements PROTOCOL.md section 2. A token is
 *   SharedAccessSignature sr=<audience>&sig=<pct(base64 sig)>&se=<expiry>[&skn=<policy>]
 * with the fields in any order. The signature is checked over the sr and se
 * text exactly as the client sent them (2.3), which is the only way to accept
 * every SDK's spelling of the audience (2.4).
 *
 * A server validates a token in this order:
 *   gh_sas_parse            syntax (GH_ERR_BAD_SAS)
 *   audience check          gh_sas_audience_grants_device / _is_dps_registration / _is_host
 *   key choice              skn empty: the identity's keys; else the policy's keys (2.3 item 5)
 *   gh_sas_verify           signature (GH_ERR_AUTH)
 *   gh_sas_check_expiry     expiry with clock skew (GH_ERR_EXPIRED)
 *
 * Nothing here allocates, logs or does I/O; all functions are thread-safe.
 * Tokens and keys are credentials: callers never log them, and wipe buffers
 * holding them with gh_secure_zero when done.
 */
#ifndef GH_IOTHUB_SAS_H
#define GH_IOTHUB_SAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/error.h"
#include "iothub/crypto.h"

/* Longest token text accepted by gh_sas_parse. */
#define GH_SAS_TOKEN_MAX 4096
/* Longest raw sig value accepted: a base64 signature with every character
 * percent-encoded. */
#define GH_SAS_SIG_TEXT_MAX (3 * GH_SHA256_B64_LEN)
/* Clock skew allowed after se (edgeHub allows 5 minutes, PROTOCOL.md 2.3). */
#define GH_SAS_SKEW_DEFAULT 300
/* Longest raw sr accepted by the audience functions. */
#define GH_SAS_AUDIENCE_MAX 1024
/* Most '/'-separated segments (host included) in an audience. */
#define GH_SAS_AUDIENCE_MAX_SEGMENTS 8
/* Scratch bytes gh_sas_audience_parse needs for an sr of n bytes. */
#define GH_SAS_AUDIENCE_SCRATCH(n) (2 * (n))

/* A parsed token. Slices borrow the token text and stay valid as long as it
 * does. sr, se_raw and skn are raw (not percent-decoded). sig holds the
 * decoded signature bytes. The struct holds a credential: wipe it with
 * gh_secure_zero when done. */
struct gh_sas_token {
    struct gh_slice sr;     /* audience, raw, non-empty */
    struct gh_slice se_raw; /* expiry digits as sent */
    struct gh_slice skn;    /* policy name, raw; len 0 when absent or empty */
    int64_t se;             /* expiry, seconds since the epoch, 0..INT64_MAX */
    uint8_t sig[GH_SHA256_LEN];
};

/* Parse a token (PROTOCOL.md 2.1):
 * - the exact prefix "SharedAccessSignature" (case-sensitive), then one or
 *   more spaces;
 * - fields split on '&', each split at its first '='; empty fields (from
 *   "&&" or a trailing '&') are skipped; a non-empty field without '=' is
 *   malformed;
 * - keys sr, sig, se, skn compare case-insensitively; unknown keys are
 *   ignored; a known key given twice is REJECTED (no first-or-last
 *   ambiguity between components);
 * - sr, sig, se are mandatory and sr must be non-empty; se is 1 or more
 *   decimal digits (leading zeros allowed) with a value <= INT64_MAX; sig is
 *   percent-decoded ('+' is kept, not turned into a space), then base64
 *   (padded or not) of exactly 32 bytes; an empty skn means "no policy".
 * Writes *out only on success.
 * Errors: GH_ERR_BAD_SAS (any syntax violation above), GH_ERR_TOO_LARGE
 * (token longer than GH_SAS_TOKEN_MAX). */
GH_NODISCARD gh_err gh_sas_parse(struct gh_slice text, struct gh_sas_token *out);

/* Check the token's signature with one raw key (PROTOCOL.md 2.3 item 3):
 * HMAC-SHA256(key, sr "\n" se_raw) compared in constant time.
 * Errors: GH_ERR_AUTH (mismatch), GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_sas_verify_key(const struct gh_sas_token *t, const uint8_t *key,
                                      size_t keylen);

/* Check the signature against base64 keys in order (primary, then
 * secondary). Empty slices are skipped, so a missing secondary key can be
 * passed as GH_SLICE_EMPTY. On success *matched (if not NULL) receives the
 * index of the key that matched.
 * Errors: GH_ERR_AUTH (no key matched, or nkeys == 0); if no key matched and
 * a non-empty key failed to decode, that key's error instead
 * (GH_ERR_BAD_BASE64 or GH_ERR_TOO_LARGE: a broken stored key, which the
 * caller should report as such); GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_sas_verify(const struct gh_sas_token *t, const struct gh_slice *keys_b64,
                                  size_t nkeys, size_t *matched);

/* Expiry (PROTOCOL.md 2.3 item 6): the token is expired when
 * now > se + skew_s. Use GH_SAS_SKEW_DEFAULT for skew_s unless configured.
 * Errors: GH_ERR_EXPIRED. */
GH_NODISCARD gh_err gh_sas_check_expiry(const struct gh_sas_token *t, int64_t now, uint32_t skew_s);

/* Signature for sr_raw and se_raw as they will appear in the token:
 * appends Base64(HMAC-SHA256(Base64Decode(key_b64), sr "\n" se)), i.e.
 * GH_SHA256_B64_LEN characters, to w. Nothing is appended on error.
 * Errors: GH_ERR_BAD_BASE64, GH_ERR_TOO_LARGE (key), GH_ERR_NOBUFS,
 * GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_sas_sign(struct gh_slice sr_raw, struct gh_slice se_raw,
                                struct gh_slice key_b64, struct gh_writer *w);

/* Build a whole token in the Node SDK's field order:
 *   SharedAccessSignature sr={sr_text}&sig={sig}[&skn={skn}]&se={se}
 * sr_text is used verbatim (already encoded as the caller wants it, e.g. by
 * gh_sas_audience_encode) and signed as such; sig and skn are
 * percent-encoded with upper-case hex. skn NULL or "" means no skn field.
 * Nothing is appended on error. Call gh_writer_terminate for a C string.
 * Errors: GH_ERR_ARG (sr_text empty or containing '&', se < 0),
 * GH_ERR_BAD_BASE64, GH_ERR_TOO_LARGE (key), GH_ERR_NOBUFS, GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_sas_build(struct gh_slice sr_text, struct gh_slice key_b64, int64_t se,
                                 const char *skn, struct gh_writer *w);

/* The audience text the Node device SDK puts in sr for a device
 * ("{host}/devices/{D}") or a module ("{host}/devices/{D}/modules/{M}"):
 * the whole string percent-encoded once, upper-case hex, except '*' which
 * Node writes as "%2a" (PROTOCOL.md 2.4 note). module_id NULL for a device.
 * Nothing is appended on error.
 * Errors: GH_ERR_ARG (empty host, device id or module id), GH_ERR_NOBUFS. */
GH_NODISCARD gh_err gh_sas_audience_encode(struct gh_slice host, struct gh_slice device_id,
                                           const struct gh_slice *module_id, struct gh_writer *w);

/* A parsed audience: segment 0 is the host (or, for DPS, the ID scope).
 * once[i] is segment i after percent-decoding the whole sr once and
 * splitting on '/'; twice[i] is once[i] percent-decoded again
 * (PROTOCOL.md 2.3 item 4). Slices point into the caller's scratch storage. */
struct gh_sas_audience {
    size_t count;
    struct gh_slice once[GH_SAS_AUDIENCE_MAX_SEGMENTS];
    struct gh_slice twice[GH_SAS_AUDIENCE_MAX_SEGMENTS];
};

/* Parse a raw sr. Decoded text is appended to scratch, which needs
 * GH_SAS_AUDIENCE_SCRATCH(sr_raw.len) free bytes; the slices in *out stay
 * valid while scratch's storage does. Empty segments are kept (they match
 * no id). On error *out and scratch are left unchanged.
 * Errors: GH_ERR_BAD_SAS (empty sr or empty host), GH_ERR_TOO_LARGE (sr
 * longer than GH_SAS_AUDIENCE_MAX), GH_ERR_TOO_MANY (more than
 * GH_SAS_AUDIENCE_MAX_SEGMENTS segments), GH_ERR_NOBUFS (scratch). */
GH_NODISCARD gh_err gh_sas_audience_parse(struct gh_slice sr_raw, struct gh_writer *scratch,
                                          struct gh_sas_audience *out);

/* True when segment i of a equals want, ASCII case-insensitively, in either
 * its once- or twice-decoded form. False for i >= count or an empty want. */
bool gh_sas_audience_segment_is(const struct gh_sas_audience *a, size_t i, struct gh_slice want);

/* Does a token with audience sr_raw grant access to device device_id
 * (module_id NULL) or module device_id/module_id? True when the audience is
 * a segment-wise prefix of {host}/devices/{D}[/modules/{M}] (so "{host}" and
 * "{host}/devices" grant every device, as policy tokens need, while
 * "{host}/devices/D" does not grant "{host}/devices/Dx"), where the host
 * is any of hosts[0..nhosts) (hub and, on a gateway, the gateway name).
 * Hosts, literals and ids compare case-insensitively (PROTOCOL.md 2.3).
 * False for any audience gh_sas_audience_parse rejects. */
bool gh_sas_audience_grants_device(struct gh_slice sr_raw, const struct gh_slice *hosts,
                                   size_t nhosts, struct gh_slice device_id,
                                   const struct gh_slice *module_id);

/* Is sr_raw exactly {id_scope}/registrations/{registration_id}? Scope and
 * registration id compare case-insensitively (PROTOCOL.md 4.1). No prefix
 * rule: DPS tokens always name the registration. */
bool gh_sas_audience_is_dps_registration(struct gh_slice sr_raw, struct gh_slice id_scope,
                                         struct gh_slice registration_id);

/* Is sr_raw exactly the host name (service and DPS service tokens),
 * compared case-insensitively? */
bool gh_sas_audience_is_host(struct gh_slice sr_raw, struct gh_slice host);

#endif
