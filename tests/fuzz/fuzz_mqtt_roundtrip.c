/* Round trip: any packet the decoder accepts must encode (size function and
 * encoder agreeing, the encoder honouring its capacity), and decode again to
 * an equal packet, and re-encode to identical bytes. The input is one whole
 * packet. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt/mqtt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *encode(const struct gh_mqtt_ctx *ctx, const struct gh_mqtt_packet *p, size_t *len)
{
    size_t n = 0;
    if (gh_mqtt_packet_size(ctx, p, &n) != GH_OK) abort();
    uint8_t *buf = malloc(n + 1);
    if (!buf) abort();
    struct gh_writer w;
    /* One byte short: must fail cleanly and write nothing. */
    gh_writer_init(&w, buf, n - 1);
    if (gh_mqtt_encode(ctx, p, &w) != GH_ERR_NOBUFS || w.len != 0) abort();
    gh_writer_init(&w, buf, n + 1);
    if (gh_mqtt_encode(ctx, p, &w) != GH_OK || w.len != n) abort();
    *len = n;
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gh_mqtt_ctx ctx;
    if (gh_mqtt_ctx_init(&ctx, NULL) != GH_OK) abort();
    struct gh_mqtt_packet p1, p2, p3;
    if (gh_mqtt_decode(&ctx, (struct gh_slice){data, size}, &p1) != GH_OK) return 0;

    size_t n1, n2;
    uint8_t *b1 = encode(&ctx, &p1, &n1);
    /* Only the remaining-length encoding may differ (non-minimal input). */
    if (n1 > size) abort();
    if (gh_mqtt_decode(&ctx, (struct gh_slice){b1, n1}, &p2) != GH_OK) abort();
    if (!gh_mqtt_packet_equal(&p1, &p2)) abort();
    uint8_t *b2 = encode(&ctx, &p2, &n2);
    if (n1 != n2 || memcmp(b1, b2, n1) != 0) abort();
    if (gh_mqtt_decode(&ctx, (struct gh_slice){b2, n2}, &p3) != GH_OK) abort();
    if (!gh_mqtt_packet_equal(&p2, &p3)) abort();
    free(b1);
    free(b2);
    return 0;
}
