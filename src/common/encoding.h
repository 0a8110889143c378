/* Text encodings the protocols need: base64, percent-encoding, hex.
 *
 * Pure functions over caller buffers: no allocation, no I/O, thread-safe.
 * Outputs are written through a gh_writer; on error the writer may hold a
 * partial result, which callers discard (they own the storage).
 */
#ifndef GH_COMMON_ENCODING_H
#define GH_COMMON_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Standard base64 (RFC 4648 section 4) with '=' padding. */
GH_NODISCARD gh_err gh_base64_encode(const uint8_t *in, size_t n, struct gh_writer *w);
/* Bytes needed to encode n bytes (with padding). */
size_t gh_base64_encoded_len(size_t n);
/* Decode standard base64. Padding is optional (unpadded input is accepted,
 * as IoT Edge configs use it); if present it must be correct. No whitespace.
 * GH_ERR_BAD_BASE64 for a bad character, a bad length or non-zero trailing
 * bits; GH_ERR_NOBUFS if out is too small. */
GH_NODISCARD gh_err gh_base64_decode(const char *in, size_t n, struct gh_writer *out);

/* Percent-decode per PROTOCOL.md 0.3: %XX with upper- or lower-case hex;
 * malformed sequences are kept as literal text; '+' is NOT turned into a
 * space. The output is never longer than the input. */
GH_NODISCARD gh_err gh_pct_decode(const char *in, size_t n, struct gh_writer *out);
/* Percent-encode every byte outside A-Z a-z 0-9 - . _ ~ with upper-case hex. */
GH_NODISCARD gh_err gh_pct_encode(const char *in, size_t n, struct gh_writer *out);

/* Lower-case hex of n bytes (2n characters). */
GH_NODISCARD gh_err gh_hex_encode(const uint8_t *in, size_t n, struct gh_writer *out);
/* Hex (either case) to bytes; GH_ERR_MALFORMED for odd length or a non-hex
 * character. */
GH_NODISCARD gh_err gh_hex_decode(const char *in, size_t n, struct gh_writer *out);

#endif
