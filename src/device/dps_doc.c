/* Decoder of the DPS response documents (PROTOCOL.md 4.3): a strict JSON
 * walker over a gh_reader that keeps only the few string members the
 * client needs. Bytes come from the network: every read is bounded,
 * nesting is capped, nothing is allocated. */
#include <string.h>

#include "device/device_int.h"

enum ctx { CTX_OTHER = 0, CTX_TOP, CTX_STATE };

static void skip_ws(struct gh_reader *r)
{
    while (r->pos < r->len) {
        uint8_t b = r->data[r->pos];
        if (b != ' ' && b != '\t' && b != '\n' && b != '\r') return;
        r->pos++;
    }
}

static bool peek(const struct gh_reader *r, uint8_t *b)
{
    if (r->pos >= r->len) return false;
    *b = r->data[r->pos];
    return true;
}

static bool is_hex(uint8_t b)
{
    return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
}

/* A string; *out = raw contents between the quotes. */
static gh_err read_string(struct gh_reader *r, struct gh_slice *out)
{
    size_t start = r->pos;
    uint8_t b;
    if (gh_reader_u8(r, &b) != GH_OK || b != '"') goto bad;
    size_t body = r->pos;
    for (;;) {
        if (gh_reader_u8(r, &b) != GH_OK || b < 0x20) goto bad;
        if (b == '"') break;
        if (b != '\\') continue;
        if (gh_reader_u8(r, &b) != GH_OK) goto bad;
        if (b == 'u') {
            struct gh_slice hex;
            if (gh_reader_bytes(r, 4, &hex) != GH_OK) goto bad;
            for (size_t i = 0; i < 4; i++)
                if (!is_hex(hex.ptr[i])) goto bad;
        } else if (b == 0 || !strchr("\"\\/bfnrt", b)) {
            goto bad;
        }
    }
    *out = (struct gh_slice){r->data + body, r->pos - 1 - body};
    return GH_OK;
bad:
    r->pos = start;
    return GH_ERR_BAD_JSON;
}

/* true / false / null, or a number (JSON grammar, checked loosely for the
 * character set and strictly for the literals). */
static gh_err read_scalar(struct gh_reader *r)
{
    static const char *const lits[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(lits[i]);
        if (n <= r->len - r->pos && memcmp(r->data + r->pos, lits[i], n) == 0) {
            r->pos += n;
            return GH_OK;
        }
    }
    size_t start = r->pos;
    uint8_t b;
    bool digit = false;
    while (peek(r, &b) &&
           ((b >= '0' && b <= '9') || b == '-' || b == '+' || b == '.' || b == 'e' || b == 'E')) {
        digit |= b >= '0' && b <= '9';
        r->pos++;
    }
    return digit ? GH_OK : (r->pos = start, GH_ERR_BAD_JSON);
}

static gh_err value(struct gh_reader *r, unsigned depth, enum ctx ctx, struct gh_device_dps_doc *d);

static void keep(enum ctx ctx, struct gh_slice key, struct gh_slice s, struct gh_device_dps_doc *d)
{
    if (ctx == CTX_TOP) {
        if (gh_slice_eq_cstr(key, "operationId")) d->operation_id = s;
        if (gh_slice_eq_cstr(key, "status")) d->status = s;
        if (gh_slice_eq_cstr(key, "message") && !d->error_message.ptr) d->error_message = s;
    } else if (ctx == CTX_STATE) {
        if (gh_slice_eq_cstr(key, "assignedHub")) d->assigned_hub = s;
        if (gh_slice_eq_cstr(key, "deviceId")) d->device_id = s;
        if (gh_slice_eq_cstr(key, "errorMessage")) d->error_message = s;
    }
}

static gh_err object(struct gh_reader *r, unsigned depth, enum ctx ctx, struct gh_device_dps_doc *d)
{
    uint8_t b;
    r->pos++; /* '{' */
    skip_ws(r);
    if (peek(r, &b) && b == '}') {
        r->pos++;
        return GH_OK;
    }
    for (;;) {
        struct gh_slice key;
        skip_ws(r);
        GH_GUARD(read_string(r, &key));
        skip_ws(r);
        GH_ENSURE(gh_reader_u8(r, &b) == GH_OK && b == ':', GH_ERR_BAD_JSON);
        skip_ws(r);
        enum ctx inner = CTX_OTHER;
        if (ctx == CTX_TOP && gh_slice_eq_cstr(key, "registrationState")) inner = CTX_STATE;
        if (peek(r, &b) && b == '"') {
            struct gh_slice s;
            GH_GUARD(read_string(r, &s));
            keep(ctx, key, s, d);
        } else {
            GH_GUARD(value(r, depth + 1, inner, d));
        }
        skip_ws(r);
        GH_ENSURE(gh_reader_u8(r, &b) == GH_OK, GH_ERR_BAD_JSON);
        if (b == '}') return GH_OK;
        GH_ENSURE(b == ',', GH_ERR_BAD_JSON);
    }
}

static gh_err array(struct gh_reader *r, unsigned depth, struct gh_device_dps_doc *d)
{
    uint8_t b;
    r->pos++; /* '[' */
    skip_ws(r);
    if (peek(r, &b) && b == ']') {
        r->pos++;
        return GH_OK;
    }
    for (;;) {
        skip_ws(r);
        GH_GUARD(value(r, depth + 1, CTX_OTHER, d));
        skip_ws(r);
        GH_ENSURE(gh_reader_u8(r, &b) == GH_OK, GH_ERR_BAD_JSON);
        if (b == ']') return GH_OK;
        GH_ENSURE(b == ',', GH_ERR_BAD_JSON);
    }
}

/* Any value; ctx says whose members an object holds. Recursion is bounded
 * by GH_DEVICE_JSON_DEPTH_MAX. */
static gh_err value(struct gh_reader *r, unsigned depth, enum ctx ctx, struct gh_device_dps_doc *d)
{
    GH_ENSURE(depth <= GH_DEVICE_JSON_DEPTH_MAX, GH_ERR_BAD_JSON);
    uint8_t b;
    GH_ENSURE(peek(r, &b), GH_ERR_BAD_JSON);
    if (b == '{') return object(r, depth, ctx, d);
    if (b == '[') return array(r, depth, d);
    if (b == '"') {
        struct gh_slice s;
        return read_string(r, &s);
    }
    return read_scalar(r);
}

gh_err gh_device_dps_doc_parse(struct gh_slice doc, struct gh_device_dps_doc *out)
{
    struct gh_reader r;
    gh_reader_init(&r, doc.ptr, doc.len);
    struct gh_device_dps_doc d;
    memset(&d, 0, sizeof d);
    skip_ws(&r);
    uint8_t b;
    GH_ENSURE(peek(&r, &b) && b == '{', GH_ERR_BAD_JSON);
    GH_GUARD(value(&r, 1, CTX_TOP, &d));
    skip_ws(&r);
    GH_ENSURE(gh_reader_remaining(&r) == 0, GH_ERR_BAD_JSON);
    *out = d;
    return GH_OK;
}
