/* Fuzz the topic and filter classifiers and the bag iterator. Input: one
 * selector byte (identity: device, module, DPS), then the topic name. Bags
 * that parse are re-encoded with the bag writer and must read back equal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iothub/topic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 4096
#define MAX_ITEMS 64

static const struct gh_iothub_identity ids[] = {
    {GH_IOTHUB_ID_DEVICE, {(const uint8_t *)"thermostat-01", 13}, {NULL, 0}},
    {GH_IOTHUB_ID_MODULE, {(const uint8_t *)"edge-gw-01", 10}, {(const uint8_t *)"filter", 6}},
    {GH_IOTHUB_ID_DPS, {(const uint8_t *)"thermostat-01", 13}, {NULL, 0}},
    {GH_IOTHUB_ID_DEVICE, {(const uint8_t *)"a%41+#", 6}, {NULL, 0}},
};

static uint8_t scratch_mem[MAX_INPUT];
static uint8_t scratch2_mem[3 * MAX_INPUT];
static uint8_t encoded[3 * MAX_INPUT];

static void check_bag(struct gh_slice bag, bool s2d)
{
    struct gh_writer scratch;
    gh_writer_init(&scratch, scratch_mem, bag.len);
    struct gh_iothub_bag_iter it;
    gh_iothub_bag_iter_init(&it, bag);
    struct gh_iothub_bag_item items[MAX_ITEMS];
    size_t n = 0;
    for (;;) {
        struct gh_iothub_bag_item item;
        bool found;
        gh_err rc = gh_iothub_bag_next(&it, &scratch, &item, &found);
        if (rc == GH_ERR_BAD_UTF8) return;
        if (rc != GH_OK) abort(); /* scratch as long as the bag never runs out */
        if (!found) break;
        if (item.key.len == 0) abort();
        enum gh_iothub_prop p =
            s2d ? gh_iothub_prop_classify_s2d(item.key) : gh_iothub_prop_classify(item.key);
        if (p != GH_IOTHUB_PROP_APP && !gh_slice_eq_cstr(item.key, gh_iothub_prop_key(p))) abort();
        if (n < MAX_ITEMS) items[n++] = item;
    }
    /* Re-encode and read back. */
    struct gh_writer w;
    gh_writer_init(&w, encoded, sizeof encoded);
    struct gh_iothub_bag_writer bw;
    gh_iothub_bag_writer_init(&bw, &w);
    if (gh_iothub_bag_put_all(&bw, items, n) != GH_OK) abort();
    gh_writer_init(&scratch, scratch2_mem, sizeof scratch2_mem);
    gh_iothub_bag_iter_init(&it, gh_writer_slice(&w));
    for (size_t i = 0; i < n; i++) {
        struct gh_iothub_bag_item item;
        bool found;
        if (gh_iothub_bag_next(&it, &scratch, &item, &found) != GH_OK || !found) abort();
        if (!gh_slice_eq(item.key, items[i].key) || !gh_slice_eq(item.value, items[i].value) ||
            item.has_value != items[i].has_value)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > MAX_INPUT) return 0;
    const struct gh_iothub_identity *id = &ids[data[0] % (sizeof ids / sizeof ids[0])];
    struct gh_slice topic = {data + 1, size - 1};
    struct gh_iothub_topic t;
    gh_err rc = gh_iothub_topic_classify(topic, id, &t);
    if (rc == GH_OK) {
        if (t.kind == GH_IOTHUB_TOPIC_TELEMETRY) check_bag(t.bag, false);
    } else if (rc != GH_ERR_BAD_TOPIC && rc != GH_ERR_FORBIDDEN) {
        abort();
    }
    rc = gh_iothub_topic_classify_s2d(topic, &t);
    if (rc == GH_OK) {
        if (t.kind == GH_IOTHUB_TOPIC_C2D || t.kind == GH_IOTHUB_TOPIC_MODULE_INPUT)
            check_bag(t.bag, true);
    } else if (rc != GH_ERR_BAD_TOPIC) {
        abort();
    }
    struct gh_iothub_filter f;
    enum gh_iothub_filter_kind k = gh_iothub_filter_classify(topic, id, &f);
    if (k != f.kind) abort();
    /* The whole input as a bag, too. */
    check_bag(topic, false);
    return 0;
}
