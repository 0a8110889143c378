/* Validation of the names that go into certificates and file names, and
 * validity-period arithmetic.
 *
 * Pure functions: no allocation, no I/O, no logging; thread-safe. Inputs are
 * (pointer, length) so untrusted bytes need no NUL terminator.
 */
#ifndef GH_PKI_PKI_NAMES_H
#define GH_PKI_PKI_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/error.h"
#include "pki/pki.h"

#define GH_PKI_DNS_NAME_MAX 253
#define GH_PKI_DNS_LABEL_MAX 63
/* IoT Hub device ids: at most 128 characters (PROTOCOL.md 5.2). */
#define GH_PKI_DEVICE_ID_MAX 128
/* X.520 upper bound of a common name (RFC 5280 ub-common-name). */
#define GH_PKI_CN_MAX 64
#define GH_PKI_ORG_MAX 64
#define GH_PKI_STEM_MAX 128
#define GH_PKI_VERIFICATION_CODE_MAX 64
/* Longest text form of an IP address (IPv6 with embedded IPv4). */
#define GH_PKI_IP_TEXT_MAX 46

/* A DNS host name for a SAN: labels of ASCII letters, digits and '-'
 * (not at either end of a label), 1..63 characters each, 253 in all, no
 * trailing dot, a last label that is not all digits (that would be an
 * IPv4 address: use an IP SAN). With allow_wildcard, the first label may be
 * "*" when at least two labels follow ("*.example.test").
 * Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_pki_dns_name_check(const char *s, size_t n, bool allow_wildcard);

/* Parse an IPv4 (dotted quad) or IPv6 address. out receives 4 or 16 bytes
 * (network order), *outlen the count. Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_pki_ip_parse(const char *s, size_t n, uint8_t out[16], size_t *outlen);

/* IoT Hub device id (PROTOCOL.md 5.2): 1..128 characters from ASCII
 * letters, digits and - . + % _ # * ? ! ( ) , = @ $ '.
 * Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_pki_device_id_check(const char *s, size_t n);

/* A hub verification code for proof of possession: 1..64 characters from
 * ASCII letters, digits, '-', '_' and '.'. Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_pki_verification_code_check(const char *s, size_t n);

/* A free-text subject attribute (--cn for CAs and servers, --org): 1..max
 * bytes of UTF-8 without control characters. Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_pki_text_attr_check(const char *s, size_t n, size_t max);

/* A name in the state directory (the <name> of certs/<name>.cert.pem):
 * 1..GH_PKI_STEM_MAX characters from the device-id alphabet, not starting
 * with '.' or '-' (so never "." or ".." or an option). Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_pki_stem_check(const char *s, size_t n);

/* Parse a decimal count 1..max (no sign, no spaces, no leading zeros
 * beyond "0" itself, which is refused). Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_pki_count_parse(const char *s, size_t n, unsigned max, unsigned *out);

/* end = start + period, in calendar arithmetic (UTC): days are 86400 s,
 * months and years keep the day of month where it exists and roll over
 * otherwise (Jan 31 + 1 month = Mar 3 or 2). The period must be 1 ..
 * GH_PKI_VALIDITY_DAYS_MAX days long. Errors: GH_ERR_ARG. */
GH_NODISCARD gh_err gh_pki_period_end(time_t start, struct gh_pki_period p, time_t *end);

#endif
