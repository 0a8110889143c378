/* Values the hub stamps on records: ISO 8601 times, GUIDs, etags and
 * generation ids (PROTOCOL.md 1.9.1, 5.2, 5.4).
 *
 * Pure functions over caller buffers: no allocation, no I/O, no logging,
 * thread-safe (the random ones use gh_random_bytes, which is).
 */
#ifndef GH_HUB_STAMP_H
#define GH_HUB_STAMP_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

/* "2026-01-01T00:05:00.123Z" plus NUL. */
#define GH_HUB_TIME_LEN 25
/* What IoT Hub writes for "never" (5.2 timestamps). */
#define GH_HUB_TIME_NEVER "0001-01-01T00:00:00Z"
/* "6f1c0d8e-2b1a-4c1e-9d5e-0a6b2f3c4d5e" plus NUL. */
#define GH_HUB_GUID_LEN 37
/* Base64 of 8 bytes ("AAAAAAAAAAc=") plus NUL. */
#define GH_HUB_ETAG8_LEN 13
/* 18 decimal digits plus NUL (generationId, 5.2). */
#define GH_HUB_GENID_LEN 19

/* Format ms since the Unix epoch as ISO 8601 UTC with milliseconds into out
 * (GH_HUB_TIME_LEN bytes). ms <= 0 gives GH_HUB_TIME_NEVER. Times past year
 * 9999 are clamped to 9999-12-31T23:59:59.999Z. Never fails. */
void gh_hub_time_format(int64_t ms, char out[GH_HUB_TIME_LEN]);

/* A random (version 4) GUID in lower-case hex with dashes.
 * Errors: GH_ERR_CRYPTO (random generator failed; out untouched). */
GH_NODISCARD gh_err gh_hub_guid(char out[GH_HUB_GUID_LEN]);

/* Base64 of v as 8 big-endian bytes: the twin etag form ("AAAAAAAAAAc=" for
 * 7, PROTOCOL.md 5.4). Never fails. */
void gh_hub_etag_u64(uint64_t v, char out[GH_HUB_ETAG8_LEN]);

/* A fresh random identity etag: base64 of the decimal text of a random
 * 31-bit number, the shape Azure uses ("MzQ1Njc4OTA="). The result differs
 * from `previous` (may be NULL). out holds at least 17 bytes.
 * Errors: GH_ERR_CRYPTO. */
#define GH_HUB_ETAG_MAX 17
GH_NODISCARD gh_err gh_hub_etag_random(const char *previous, char out[GH_HUB_ETAG_MAX]);

/* A generationId: 18 decimal digits, the .NET tick count (100 ns units since
 * 0001-01-01) of now_ms with random sub-millisecond digits, raised to
 * *last + 1 when not above *last (so one store never repeats one); *last is
 * updated. Errors: GH_ERR_CRYPTO. */
GH_NODISCARD gh_err gh_hub_generation_id(int64_t now_ms, uint64_t *last,
                                         char out[GH_HUB_GENID_LEN]);

#endif
