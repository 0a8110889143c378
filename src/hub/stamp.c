/* Server-stamped values: times, GUIDs, etags, generation ids. */
#include "hub/stamp.h"

#include "common/timefmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/encoding.h"
#include "iothub/crypto.h"

/* 9999-12-31T23:59:59.999Z in ms since the epoch. */
/* .NET ticks (100 ns) at the Unix epoch. */
#define TICKS_AT_EPOCH UINT64_C(621355968000000000)
#define TICKS_PER_MS UINT64_C(10000)
/* Largest 18-digit number. */
#define GENID_MAX UINT64_C(999999999999999999)

void gh_hub_time_format(int64_t ms, char out[GH_HUB_TIME_LEN])
{
    if (ms <= 0) {
        memcpy(out, GH_HUB_TIME_NEVER, sizeof GH_HUB_TIME_NEVER);
        return;
    }
    gh_time_format(ms, out);
}

gh_err gh_hub_guid(char out[GH_HUB_GUID_LEN])
{
    uint8_t b[16];
    GH_GUARD(gh_random_bytes(b, sizeof b));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < sizeof b; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0f];
    }
    out[o] = '\0';
    return GH_OK;
}

void gh_hub_etag_u64(uint64_t v, char out[GH_HUB_ETAG8_LEN])
{
    uint8_t b[8];
    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
    struct gh_writer w;
    gh_writer_init(&w, out, GH_HUB_ETAG8_LEN);
    /* 12 characters and a NUL always fit in GH_HUB_ETAG8_LEN. */
    if (gh_base64_encode(b, sizeof b, &w) != GH_OK || gh_writer_terminate(&w) != GH_OK) out[0] = 0;
}

gh_err gh_hub_etag_random(const char *previous, char out[GH_HUB_ETAG_MAX])
{
    for (;;) {
        uint32_t r;
        GH_GUARD(gh_random_bytes(&r, sizeof r));
        char digits[12];
        int n = snprintf(digits, sizeof digits, "%u", (unsigned)(r & 0x7fffffffu));
        char tmp[GH_HUB_ETAG_MAX];
        struct gh_writer w;
        gh_writer_init(&w, tmp, sizeof tmp);
        /* At most 10 digits -> 16 base64 characters and a NUL. */
        GH_GUARD(gh_base64_encode((const uint8_t *)digits, (size_t)n, &w));
        GH_GUARD(gh_writer_terminate(&w));
        if (previous != NULL && strcmp(previous, tmp) == 0) continue;
        memcpy(out, tmp, w.len + 1);
        return GH_OK;
    }
}

gh_err gh_hub_generation_id(int64_t now_ms, uint64_t *last, char out[GH_HUB_GENID_LEN])
{
    uint16_t r;
    GH_GUARD(gh_random_bytes(&r, sizeof r));
    uint64_t ms = now_ms > 0 ? (uint64_t)now_ms : 0;
    if (ms > (GENID_MAX - TICKS_AT_EPOCH) / TICKS_PER_MS - 1)
        ms = (GENID_MAX - TICKS_AT_EPOCH) / TICKS_PER_MS - 1;
    uint64_t t = TICKS_AT_EPOCH + ms * TICKS_PER_MS + (uint64_t)(r % TICKS_PER_MS);
    if (t <= *last) t = *last + 1;
    if (t > GENID_MAX) t = GENID_MAX; /* unreachable before the year ~3170 */
    *last = t;
    snprintf(out, GH_HUB_GENID_LEN, "%018llu", (unsigned long long)t);
    return GH_OK;
}
