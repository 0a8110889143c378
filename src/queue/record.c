/* Queue record codec and CRC32C: bytes in, typed views out (STYLE.md 4).
 * Layout in queue.h. The CRC covers everything after the CRC field, so a
 * flipped bit anywhere past the magic is detected. */
#include <string.h>

#include "queue/queue.h"

#define CRC32C_POLY 0x82f63b78u /* Castagnoli, reflected */
#define CRC_OFFSET 8u           /* first byte the CRC covers */

/* Slicing-by-8 tables, built once on first use (pure function of the
 * polynomial; a benign race at worst writes identical values). */
static uint32_t crc_table[8][256];
static int crc_ready;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1u) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        crc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = crc_table[0][i];
        for (int t = 1; t < 8; t++) {
            c = crc_table[0][c & 0xffu] ^ (c >> 8);
            crc_table[t][i] = c;
        }
    }
    __atomic_store_n(&crc_ready, 1, __ATOMIC_RELEASE);
}

uint32_t gh_queue_crc32c(uint32_t crc, const void *data, size_t len)
{
    if (!__atomic_load_n(&crc_ready, __ATOMIC_ACQUIRE)) crc_init();
    const uint8_t *p = data;
    uint32_t c = ~crc;
    while (len >= 8) {
        uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                           (uint32_t)p[3] << 24);
        c = crc_table[7][lo & 0xffu] ^ crc_table[6][(lo >> 8) & 0xffu] ^
            crc_table[5][(lo >> 16) & 0xffu] ^ crc_table[4][lo >> 24] ^ crc_table[3][p[4]] ^
            crc_table[2][p[5]] ^ crc_table[1][p[6]] ^ crc_table[0][p[7]];
        p += 8;
        len -= 8;
    }
    while (len--) c = crc_table[0][(c ^ *p++) & 0xffu] ^ (c >> 8);
    return ~c;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    put_u32(p, (uint32_t)(v >> 32));
    put_u32(p + 4, (uint32_t)v);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t get_u64(const uint8_t *p)
{
    return (uint64_t)get_u32(p) << 32 | get_u32(p + 4);
}

size_t gh_queue_record_size(size_t n)
{
    return GH_QUEUE_RECORD_HEADER + n;
}

gh_err gh_queue_record_encode(struct gh_writer *w, const struct gh_queue_record *rec)
{
    GH_ENSURE(rec->payload.len <= GH_QUEUE_PAYLOAD_MAX, GH_ERR_TOO_LARGE);
    uint8_t h[GH_QUEUE_RECORD_HEADER];
    put_u32(h, GH_QUEUE_RECORD_MAGIC);
    h[8] = GH_QUEUE_RECORD_VERSION;
    h[9] = rec->flags;
    h[10] = h[11] = 0;
    put_u32(h + 12, (uint32_t)rec->payload.len);
    put_u64(h + 16, rec->seq);
    put_u64(h + 24, rec->enqueue_ms);
    put_u64(h + 32, rec->expiry_ms);
    uint32_t crc = gh_queue_crc32c(0, h + CRC_OFFSET, sizeof h - CRC_OFFSET);
    if (rec->payload.len) crc = gh_queue_crc32c(crc, rec->payload.ptr, rec->payload.len);
    put_u32(h + 4, crc);
    GH_ENSURE(gh_writer_space(w) >= sizeof h + rec->payload.len, GH_ERR_NOBUFS);
    GH_GUARD(gh_writer_bytes(w, h, sizeof h));
    if (rec->payload.len) GH_GUARD(gh_writer_bytes(w, rec->payload.ptr, rec->payload.len));
    return GH_OK;
}

gh_err gh_queue_record_decode(struct gh_reader *r, struct gh_queue_record *out)
{
    struct gh_reader c = *r;
    struct gh_slice hs, body;
    uint32_t magic;
    /* The magic first, so garbage is MALFORMED even when it is short. */
    GH_GUARD(gh_reader_u32be(&c, &magic));
    GH_ENSURE(magic == GH_QUEUE_RECORD_MAGIC, GH_ERR_MALFORMED);
    c = *r;
    GH_GUARD(gh_reader_bytes(&c, GH_QUEUE_RECORD_HEADER, &hs));
    const uint8_t *h = hs.ptr;
    uint32_t len = get_u32(h + 12);
    GH_ENSURE(len <= GH_QUEUE_PAYLOAD_MAX, GH_ERR_TOO_LARGE);
    GH_GUARD(gh_reader_bytes(&c, len, &body));
    uint32_t crc = gh_queue_crc32c(0, h + CRC_OFFSET, GH_QUEUE_RECORD_HEADER - CRC_OFFSET);
    if (len) crc = gh_queue_crc32c(crc, body.ptr, body.len);
    GH_ENSURE(crc == get_u32(h + 4), GH_ERR_MALFORMED);
    /* Checked after the CRC: only an intact record can claim a version. */
    GH_ENSURE(h[8] == GH_QUEUE_RECORD_VERSION, GH_ERR_UNSUPPORTED);
    GH_ENSURE(h[10] == 0 && h[11] == 0, GH_ERR_MALFORMED);
    out->version = h[8];
    out->flags = h[9];
    out->seq = get_u64(h + 16);
    out->enqueue_ms = get_u64(h + 24);
    out->expiry_ms = get_u64(h + 32);
    out->payload = body;
    *r = c;
    return GH_OK;
}

unsigned gh_queue_priority_class(uint32_t route_priority)
{
    return route_priority < GH_QUEUE_PRIORITY_DEFAULT ? (unsigned)route_priority
                                                      : GH_QUEUE_PRIORITY_DEFAULT;
}

void gh_queue_options_default(struct gh_queue_options *o)
{
    memset(o, 0, sizeof *o);
}
