/* Bounded reader and writer: every untrusted byte goes through these.
 *
 * A gh_reader is a cursor over a borrowed slice. Every read either succeeds
 * and advances the cursor, or fails, returns a specific error and leaves the
 * cursor exactly where it was. Returned slices borrow the reader's memory and
 * stay valid as long as that memory does.
 *
 * A gh_writer appends into caller-owned storage of fixed capacity. A write
 * that does not fit fails with GH_ERR_NOBUFS and writes nothing. Length
 * prefixes are reserved first and patched after the body is written.
 *
 * All buffer arithmetic of the project lives in buf.c, using the
 * overflow-proof form `n > len - pos`. None of these functions allocate, log
 * or do I/O. They are not thread-safe on a shared object; distinct objects may
 * be used from distinct threads.
 */
#ifndef GH_COMMON_BUF_H
#define GH_COMMON_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* A borrowed, immutable byte range. */
struct gh_slice {
    const uint8_t *ptr;
    size_t len;
};

#define GH_SLICE_EMPTY ((struct gh_slice){NULL, 0})

/* A slice over a NUL-terminated string (the NUL is not included). */
struct gh_slice gh_slice_cstr(const char *s);
bool gh_slice_eq(struct gh_slice a, struct gh_slice b);
bool gh_slice_eq_cstr(struct gh_slice a, const char *s);
/* ASCII case-insensitive comparison. */
bool gh_slice_eq_nocase(struct gh_slice a, struct gh_slice b);
bool gh_slice_starts_with(struct gh_slice a, const char *prefix);
/* Copy into a NUL-terminated buffer; GH_ERR_NOBUFS if it does not fit
 * (out is then left untouched). Embedded NULs are refused (GH_ERR_MALFORMED). */
GH_NODISCARD gh_err gh_slice_to_cstr(struct gh_slice s, char *out, size_t cap);

struct gh_reader {
    const uint8_t *data;
    size_t len;
    size_t pos;
};

void gh_reader_init(struct gh_reader *r, const void *data, size_t len);
size_t gh_reader_remaining(const struct gh_reader *r);

/* All reads: GH_ERR_TRUNCATED when fewer bytes remain than needed. */
GH_NODISCARD gh_err gh_reader_u8(struct gh_reader *r, uint8_t *out);
GH_NODISCARD gh_err gh_reader_u16be(struct gh_reader *r, uint16_t *out);
GH_NODISCARD gh_err gh_reader_u32be(struct gh_reader *r, uint32_t *out);
/* Borrow the next n bytes. */
GH_NODISCARD gh_err gh_reader_bytes(struct gh_reader *r, size_t n, struct gh_slice *out);
/* Borrow everything that is left (never fails). */
struct gh_slice gh_reader_rest(struct gh_reader *r);
/* Borrow the bytes up to the next `delim` (or to the end) into *tok and
 * consume them and the delimiter. Returns true when a delimiter was
 * consumed, false when the token ran to the end (then *tok may be empty).
 * Never fails. Used by the text parsers of the IoT Hub dialect. */
bool gh_reader_split(struct gh_reader *r, uint8_t delim, struct gh_slice *tok);
/* MQTT variable byte integer: at most 4 bytes, value <= 268435455.
 * GH_ERR_BAD_VARINT for a fifth continuation byte; GH_ERR_TRUNCATED when the
 * input ends inside the integer. Non-minimal encodings are accepted (MQTT
 * 3.1.1 does not forbid them). */
GH_NODISCARD gh_err gh_reader_varint(struct gh_reader *r, uint32_t *out);
/* MQTT binary data: u16 length + bytes. */
GH_NODISCARD gh_err gh_reader_mqtt_binary(struct gh_reader *r, struct gh_slice *out);
/* MQTT UTF-8 string: u16 length + bytes validated by gh_utf8_valid_mqtt
 * (GH_ERR_BAD_UTF8 otherwise). */
GH_NODISCARD gh_err gh_reader_mqtt_string(struct gh_reader *r, struct gh_slice *out);

/* Well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool gh_utf8_valid(const uint8_t *s, size_t n);
/* As gh_utf8_valid, and no U+0000, as MQTT 3.1.1 section 1.5.3 requires. */
bool gh_utf8_valid_mqtt(const uint8_t *s, size_t n);

struct gh_writer {
    uint8_t *data;
    size_t cap;
    size_t len;
};

void gh_writer_init(struct gh_writer *w, void *data, size_t cap);
size_t gh_writer_space(const struct gh_writer *w);
struct gh_slice gh_writer_slice(const struct gh_writer *w);

/* All writes: GH_ERR_NOBUFS when the capacity would be exceeded. */
GH_NODISCARD gh_err gh_writer_u8(struct gh_writer *w, uint8_t v);
GH_NODISCARD gh_err gh_writer_u16be(struct gh_writer *w, uint16_t v);
GH_NODISCARD gh_err gh_writer_u32be(struct gh_writer *w, uint32_t v);
GH_NODISCARD gh_err gh_writer_bytes(struct gh_writer *w, const void *p, size_t n);
GH_NODISCARD gh_err gh_writer_cstr(struct gh_writer *w, const char *s);
/* MQTT variable byte integer; GH_ERR_TOO_LARGE for v > 268435455. */
GH_NODISCARD gh_err gh_writer_varint(struct gh_writer *w, uint32_t v);
/* Number of bytes gh_writer_varint would write for v (1..4), 0 if too large. */
size_t gh_varint_size(uint32_t v);
/* MQTT binary/string: u16 length + bytes; GH_ERR_TOO_LARGE above 65535. */
GH_NODISCARD gh_err gh_writer_mqtt_binary(struct gh_writer *w, struct gh_slice s);
/* Reserve n bytes to patch later; *mark receives their offset. */
GH_NODISCARD gh_err gh_writer_reserve(struct gh_writer *w, size_t n, size_t *mark);
/* Patch a u16 at a reserved mark. GH_ERR_INTERNAL if the mark is out of range. */
GH_NODISCARD gh_err gh_writer_patch_u16be(struct gh_writer *w, size_t mark, uint16_t v);
/* Append a NUL without counting it in len, so data is a C string.
 * GH_ERR_NOBUFS if there is no room for it. */
GH_NODISCARD gh_err gh_writer_terminate(struct gh_writer *w);

#endif
