#include "iothub/bag.h"

#include <string.h>

#include "common/encoding.h"

struct prop_entry {
    enum gh_iothub_prop prop;
    const char *key;
    bool d2s; /* listed in the 1.8.2 table (a device may send it) */
};

static const struct prop_entry props[] = {
#define GH_X(name, key, d2s) {GH_IOTHUB_PROP_##name, key, d2s},
    GH_IOTHUB_PROP_TABLE(GH_X)
#undef GH_X
};

#define PROP_COUNT (sizeof props / sizeof props[0])


static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decoded byte at enc[*i]; advances *i past it. Same rule as gh_pct_decode:
 * a malformed `%` sequence stands for itself. */
static uint8_t decode_at(struct gh_slice enc, size_t *i)
{
    uint8_t c = enc.ptr[*i];
    if (c == '%' && enc.len - *i > 2) {
        int hi = hexval(enc.ptr[*i + 1]), lo = hexval(enc.ptr[*i + 2]);
        if (hi >= 0 && lo >= 0) {
            *i += 3;
            return (uint8_t)(hi << 4 | lo);
        }
    }
    *i += 1;
    return c;
}

bool gh_iothub_pct_matches(struct gh_slice enc, struct gh_slice plain)
{
    if (gh_slice_eq(enc, plain)) return true;
    size_t i = 0, j = 0;
    while (i < enc.len) {
        if (j == plain.len) return false;
        if (decode_at(enc, &i) != plain.ptr[j++]) return false;
    }
    return j == plain.len;
}

bool gh_iothub_query_find(struct gh_slice query, const char *name, struct gh_slice *value)
{
    struct gh_slice want = gh_slice_cstr(name);
    struct gh_reader r;
    gh_reader_init(&r, query.ptr, query.len);
    while (gh_reader_remaining(&r) > 0) {
        struct gh_slice item, key;
        (void)gh_reader_split(&r, '&', &item);
        struct gh_reader ir;
        gh_reader_init(&ir, item.ptr, item.len);
        bool has_eq = gh_reader_split(&ir, '=', &key);
        if (gh_iothub_pct_matches(key, want)) {
            *value = has_eq ? gh_reader_rest(&ir) : (struct gh_slice){item.ptr + item.len, 0};
            return true;
        }
    }
    return false;
}

void gh_iothub_bag_iter_init(struct gh_iothub_bag_iter *it, struct gh_slice bag)
{
    gh_reader_init(&it->r, bag.ptr, bag.len);
}

/* Decode `in` into *out: a view of `in` when it holds no `%`, else the
 * decoded bytes appended to scratch. Validates the result as MQTT UTF-8. */
static gh_err decode_part(struct gh_slice in, struct gh_writer *scratch, struct gh_slice *out)
{
    if (in.len == 0 || memchr(in.ptr, '%', in.len) == NULL) {
        *out = in;
    } else {
        size_t start = scratch->len;
        GH_GUARD(gh_pct_decode((const char *)in.ptr, in.len, scratch));
        *out = (struct gh_slice){scratch->data + start, scratch->len - start};
    }
    GH_ENSURE(gh_utf8_valid_mqtt(out->ptr, out->len), GH_ERR_BAD_UTF8);
    return GH_OK;
}

gh_err gh_iothub_bag_next(struct gh_iothub_bag_iter *it, struct gh_writer *scratch,
                          struct gh_iothub_bag_item *item, bool *found)
{
    size_t pos = it->r.pos, mark = scratch->len;
    struct gh_slice raw;
    struct gh_iothub_bag_item out = {GH_SLICE_EMPTY, GH_SLICE_EMPTY, false};
    gh_err rc = GH_OK;
    for (;;) {
        if (gh_reader_remaining(&it->r) == 0) {
            *found = false;
            return GH_OK;
        }
        (void)gh_reader_split(&it->r, '&', &raw);
        if (raw.len > 0 && raw.ptr[0] != '=') break; /* skip empty item or empty key */
    }
    struct gh_reader ir;
    struct gh_slice rkey, rvalue = GH_SLICE_EMPTY;
    gh_reader_init(&ir, raw.ptr, raw.len);
    out.has_value = gh_reader_split(&ir, '=', &rkey);
    if (out.has_value) rvalue = gh_reader_rest(&ir);
    rc = decode_part(rkey, scratch, &out.key);
    if (rc == GH_OK) rc = decode_part(rvalue, scratch, &out.value);
    if (rc != GH_OK) {
        it->r.pos = pos;
        scratch->len = mark;
        return rc;
    }
    *item = out;
    *found = true;
    return GH_OK;
}

enum gh_iothub_prop gh_iothub_prop_classify(struct gh_slice key)
{
    for (size_t i = 0; i < PROP_COUNT; i++)
        if (props[i].d2s && gh_slice_eq_cstr(key, props[i].key)) return props[i].prop;
    return GH_IOTHUB_PROP_APP;
}

enum gh_iothub_prop gh_iothub_prop_classify_s2d(struct gh_slice key)
{
    for (size_t i = 0; i < PROP_COUNT; i++)
        if (gh_slice_eq_cstr(key, props[i].key)) return props[i].prop;
    return GH_IOTHUB_PROP_APP;
}

const char *gh_iothub_prop_key(enum gh_iothub_prop p)
{
    for (size_t i = 0; i < PROP_COUNT; i++)
        if (props[i].prop == p) return props[i].key;
    return NULL;
}

void gh_iothub_bag_writer_init(struct gh_iothub_bag_writer *bw, struct gh_writer *w)
{
    bw->w = w;
    bw->count = 0;
}

static gh_err put_item(struct gh_iothub_bag_writer *bw, const struct gh_iothub_bag_item *item)
{
    struct gh_writer *w = bw->w;
    GH_ENSURE(item->key.len > 0, GH_ERR_ARG);
    if (bw->count > 0) GH_GUARD(gh_writer_u8(w, '&'));
    GH_GUARD(gh_pct_encode((const char *)item->key.ptr, item->key.len, w));
    if (item->has_value) {
        GH_GUARD(gh_writer_u8(w, '='));
        GH_GUARD(gh_pct_encode((const char *)item->value.ptr, item->value.len, w));
    }
    bw->count++;
    return GH_OK;
}

gh_err gh_iothub_bag_put(struct gh_iothub_bag_writer *bw, const struct gh_iothub_bag_item *item)
{
    return gh_iothub_bag_put_all(bw, item, 1);
}

gh_err gh_iothub_bag_put_prop(struct gh_iothub_bag_writer *bw, enum gh_iothub_prop p,
                              struct gh_slice value)
{
    const char *key = gh_iothub_prop_key(p);
    GH_ENSURE(key != NULL, GH_ERR_ARG);
    struct gh_iothub_bag_item item = {gh_slice_cstr(key), value, true};
    return gh_iothub_bag_put_all(bw, &item, 1);
}

gh_err gh_iothub_bag_put_all(struct gh_iothub_bag_writer *bw,
                             const struct gh_iothub_bag_item *items, size_t n)
{
    size_t len = bw->w->len, count = bw->count;
    for (size_t i = 0; i < n; i++) {
        gh_err rc = put_item(bw, &items[i]);
        if (rc != GH_OK) {
            bw->w->len = len;
            bw->count = count;
            return rc;
        }
    }
    return GH_OK;
}
