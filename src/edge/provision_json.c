/* The two decoders of provisioning (no I/O, no allocation, no logging):
 * the identity file (strict: only what gh_edge_identity_save writes) and
 * a DPS register/poll answer (PROTOCOL.md 4.3: any JSON object, known
 * members picked out). Both scan the bytes through one gh_reader with a
 * small JSON tokenizer that borrows string contents raw. */
#include <string.h>

#include "common/buf.h"
#include "edge/provision.h"
#include "edge/provision_int.h"

#define IDENTITY_VERSION 1

/* ---- tokenizer ----------------------------------------------------------- */

static bool is_ws(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct gh_reader *r)
{
    while (r->pos < r->len && is_ws(r->data[r->pos])) r->pos++;
}

/* Next non-blank byte without consuming it. */
static gh_err peek(struct gh_reader *r, uint8_t *c)
{
    skip_ws(r);
    GH_ENSURE(r->pos < r->len, GH_ERR_TRUNCATED);
    *c = r->data[r->pos];
    return GH_OK;
}

static gh_err expect(struct gh_reader *r, uint8_t want)
{
    uint8_t c;
    GH_GUARD(peek(r, &c));
    GH_ENSURE(c == want, GH_ERR_BAD_JSON);
    r->pos++;
    return GH_OK;
}

static bool is_hex(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string token: *raw borrows the bytes between the quotes, escapes left
 * in place; *escaped tells whether there were any. Control characters and
 * invalid UTF-8 are refused. The cursor is unchanged on error. */
static gh_err string_tok(struct gh_reader *r, struct gh_slice *raw, bool *escaped)
{
    size_t save = r->pos;
    gh_err rc = expect(r, '"');
    if (rc != GH_OK) return rc;
    size_t start = r->pos;
    bool esc = false;
    for (;;) {
        if (r->pos >= r->len) {
            rc = GH_ERR_TRUNCATED;
            break;
        }
        uint8_t c = r->data[r->pos];
        if (c == '"') {
            struct gh_slice s = {r->data + start, r->pos - start};
            if (!gh_utf8_valid(s.ptr, s.len)) {
                rc = GH_ERR_BAD_JSON;
                break;
            }
            r->pos++;
            *raw = s;
            *escaped = esc;
            return GH_OK;
        }
        if (c < 0x20) {
            rc = GH_ERR_BAD_JSON;
            break;
        }
        if (c != '\\') {
            r->pos++;
            continue;
        }
        esc = true;
        if (2 > r->len - r->pos) {
            rc = GH_ERR_TRUNCATED;
            break;
        }
        uint8_t e = r->data[r->pos + 1];
        if (e == 'u') {
            if (6 > r->len - r->pos) {
                rc = GH_ERR_TRUNCATED;
                break;
            }
            bool ok = true;
            for (size_t i = 2; i < 6; i++) ok = ok && is_hex(r->data[r->pos + i]);
            if (!ok) {
                rc = GH_ERR_BAD_JSON;
                break;
            }
            r->pos += 6;
        } else if (strchr("\"\\/bfnrt", e) && e != '\0') {
            r->pos += 2;
        } else {
            rc = GH_ERR_BAD_JSON;
            break;
        }
    }
    r->pos = save;
    return rc;
}

/* A JSON number; *is_int and *value (when it is an integer that fits). */
static gh_err number_tok(struct gh_reader *r, bool *is_int, int64_t *value)
{
    size_t save = r->pos;
    skip_ws(r);
    size_t p = r->pos;
    bool neg = false, integer = true, fits = true;
    uint64_t v = 0;
    if (p < r->len && r->data[p] == '-') neg = true, p++;
    if (p >= r->len) goto truncated;
    if (r->data[p] == '0') {
        p++;
    } else if (r->data[p] >= '1' && r->data[p] <= '9') {
        while (p < r->len && r->data[p] >= '0' && r->data[p] <= '9') {
            unsigned d = (unsigned)(r->data[p] - '0');
            if (v > ((uint64_t)INT64_MAX - d) / 10) fits = false;
            if (fits) v = v * 10 + d;
            p++;
        }
    } else {
        goto bad;
    }
    if (p < r->len && r->data[p] == '.') {
        integer = false;
        p++;
        if (p >= r->len) goto truncated;
        if (r->data[p] < '0' || r->data[p] > '9') goto bad;
        while (p < r->len && r->data[p] >= '0' && r->data[p] <= '9') p++;
    }
    if (p < r->len && (r->data[p] == 'e' || r->data[p] == 'E')) {
        integer = false;
        p++;
        if (p < r->len && (r->data[p] == '+' || r->data[p] == '-')) p++;
        if (p >= r->len) goto truncated;
        if (r->data[p] < '0' || r->data[p] > '9') goto bad;
        while (p < r->len && r->data[p] >= '0' && r->data[p] <= '9') p++;
    }
    r->pos = p;
    *is_int = integer && fits;
    *value = *is_int ? (neg ? -(int64_t)v : (int64_t)v) : 0;
    return GH_OK;
truncated:
    r->pos = save;
    return GH_ERR_TRUNCATED;
bad:
    r->pos = save;
    return GH_ERR_BAD_JSON;
}

static gh_err literal_tok(struct gh_reader *r, const char *word)
{
    skip_ws(r);
    size_t n = strlen(word);
    size_t have = r->len - r->pos;
    size_t cmp = have < n ? have : n;
    GH_ENSURE(memcmp(r->data + r->pos, word, cmp) == 0, GH_ERR_BAD_JSON);
    GH_ENSURE(have >= n, GH_ERR_TRUNCATED);
    r->pos += n;
    return GH_OK;
}

typedef gh_err (*member_fn)(void *ctx, struct gh_slice key, bool key_escaped, struct gh_reader *r,
                            unsigned depth);

static gh_err skip_value(struct gh_reader *r, unsigned depth);

/* Walk an object; fn consumes each member's value. */
static gh_err object(struct gh_reader *r, unsigned depth, member_fn fn, void *ctx)
{
    GH_ENSURE(depth < GH_EDGE_JSON_DEPTH_MAX, GH_ERR_TOO_MANY);
    GH_GUARD(expect(r, '{'));
    uint8_t c;
    GH_GUARD(peek(r, &c));
    if (c == '}') {
        r->pos++;
        return GH_OK;
    }
    for (;;) {
        struct gh_slice key;
        bool esc;
        GH_GUARD(string_tok(r, &key, &esc));
        GH_GUARD(expect(r, ':'));
        GH_GUARD(fn(ctx, key, esc, r, depth + 1));
        GH_GUARD(peek(r, &c));
        r->pos++;
        if (c == '}') return GH_OK;
        GH_ENSURE(c == ',', GH_ERR_BAD_JSON);
    }
}

static gh_err skip_member(void *ctx, struct gh_slice key, bool esc, struct gh_reader *r,
                          unsigned depth)
{
    (void)ctx, (void)key, (void)esc;
    return skip_value(r, depth);
}

static gh_err skip_value(struct gh_reader *r, unsigned depth)
{
    GH_ENSURE(depth < GH_EDGE_JSON_DEPTH_MAX, GH_ERR_TOO_MANY);
    uint8_t c;
    GH_GUARD(peek(r, &c));
    struct gh_slice s;
    bool b;
    int64_t v;
    switch (c) {
    case '{':
        return object(r, depth, skip_member, NULL);
    case '[':
        r->pos++;
        GH_GUARD(peek(r, &c));
        if (c == ']') {
            r->pos++;
            return GH_OK;
        }
        for (;;) {
            GH_GUARD(skip_value(r, depth + 1));
            GH_GUARD(peek(r, &c));
            r->pos++;
            if (c == ']') return GH_OK;
            GH_ENSURE(c == ',', GH_ERR_BAD_JSON);
        }
    case '"':
        return string_tok(r, &s, &b);
    case 't':
        return literal_tok(r, "true");
    case 'f':
        return literal_tok(r, "false");
    case 'n':
        return literal_tok(r, "null");
    default:
        return number_tok(r, &b, &v);
    }
}

/* After the top-level value: only white space. */
static gh_err end_of_text(struct gh_reader *r)
{
    skip_ws(r);
    GH_ENSURE(r->pos == r->len, GH_ERR_TRAILING_BYTES);
    return GH_OK;
}

/* A string or null (absent) for a known member. */
static gh_err string_or_null(struct gh_reader *r, struct gh_slice *out)
{
    uint8_t c;
    GH_GUARD(peek(r, &c));
    if (c == 'n') {
        GH_GUARD(literal_tok(r, "null"));
        *out = GH_SLICE_EMPTY;
        return GH_OK;
    }
    GH_ENSURE(c == '"', GH_ERR_BAD_JSON);
    bool esc;
    return string_tok(r, out, &esc);
}

/* ---- DPS answers ----------------------------------------------------------- */

struct dps_ctx {
    struct gh_edge_dps_result *res;
    unsigned seen; /* bit per known member, duplicates refused */
    gh_err inner;
};

enum {
    SEEN_OPID = 1u << 0,
    SEEN_STATUS = 1u << 1,
    SEEN_CODE = 1u << 2,
    SEEN_MESSAGE = 1u << 3,
    SEEN_STATE = 1u << 4,
    SEEN_HUB = 1u << 5,
    SEEN_DEVICE = 1u << 6,
    SEEN_REG_STATUS = 1u << 7,
    SEEN_REG_CODE = 1u << 8,
    SEEN_REG_MESSAGE = 1u << 9,
};

static gh_err once(struct dps_ctx *c, unsigned bit)
{
    GH_ENSURE(!(c->seen & bit), GH_ERR_BAD_JSON);
    c->seen |= bit;
    return GH_OK;
}

static gh_err int_or_null(struct gh_reader *r, int64_t *out)
{
    uint8_t c;
    GH_GUARD(peek(r, &c));
    if (c == 'n') {
        *out = 0;
        return literal_tok(r, "null");
    }
    bool is_int;
    GH_GUARD(number_tok(r, &is_int, out));
    GH_ENSURE(is_int, GH_ERR_BAD_JSON);
    return GH_OK;
}

static gh_err state_member(void *ctx, struct gh_slice key, bool esc, struct gh_reader *r,
                           unsigned depth)
{
    struct dps_ctx *c = ctx;
    struct gh_edge_dps_result *res = c->res;
    if (esc) return skip_value(r, depth);
    if (gh_slice_eq_cstr(key, "assignedHub")) {
        GH_GUARD(once(c, SEEN_HUB));
        return string_or_null(r, &res->assigned_hub);
    }
    if (gh_slice_eq_cstr(key, "deviceId")) {
        GH_GUARD(once(c, SEEN_DEVICE));
        return string_or_null(r, &res->device_id);
    }
    if (gh_slice_eq_cstr(key, "status")) {
        GH_GUARD(once(c, SEEN_REG_STATUS));
        return string_or_null(r, &res->reg_status);
    }
    if (gh_slice_eq_cstr(key, "errorCode")) {
        GH_GUARD(once(c, SEEN_REG_CODE));
        int64_t v;
        GH_GUARD(int_or_null(r, &v));
        if (v != 0) res->error_code = v; /* registrationState wins */
        return GH_OK;
    }
    if (gh_slice_eq_cstr(key, "errorMessage")) {
        GH_GUARD(once(c, SEEN_REG_MESSAGE));
        struct gh_slice m;
        GH_GUARD(string_or_null(r, &m));
        if (m.len) res->error_message = m;
        return GH_OK;
    }
    return skip_value(r, depth);
}

static gh_err top_member(void *ctx, struct gh_slice key, bool esc, struct gh_reader *r,
                         unsigned depth)
{
    struct dps_ctx *c = ctx;
    struct gh_edge_dps_result *res = c->res;
    if (esc) return skip_value(r, depth);
    if (gh_slice_eq_cstr(key, "operationId")) {
        GH_GUARD(once(c, SEEN_OPID));
        return string_or_null(r, &res->operation_id);
    }
    if (gh_slice_eq_cstr(key, "status")) {
        GH_GUARD(once(c, SEEN_STATUS));
        return string_or_null(r, &res->status);
    }
    if (gh_slice_eq_cstr(key, "errorCode")) {
        GH_GUARD(once(c, SEEN_CODE));
        int64_t v;
        GH_GUARD(int_or_null(r, &v));
        if (res->error_code == 0) res->error_code = v;
        return GH_OK;
    }
    if (gh_slice_eq_cstr(key, "message")) {
        GH_GUARD(once(c, SEEN_MESSAGE));
        struct gh_slice m;
        GH_GUARD(string_or_null(r, &m));
        if (res->error_message.len == 0) res->error_message = m;
        return GH_OK;
    }
    if (gh_slice_eq_cstr(key, "registrationState")) {
        GH_GUARD(once(c, SEEN_STATE));
        uint8_t ch;
        GH_GUARD(peek(r, &ch));
        if (ch == 'n') return literal_tok(r, "null");
        return object(r, depth, state_member, c);
    }
    return skip_value(r, depth);
}

gh_err gh_edge_dps_parse_response(struct gh_slice body, struct gh_edge_dps_result *out)
{
    GH_ENSURE(body.len <= GH_EDGE_DPS_RESPONSE_MAX, GH_ERR_TOO_LARGE);
    struct gh_edge_dps_result res;
    memset(&res, 0, sizeof res);
    struct dps_ctx c = {.res = &res};
    struct gh_reader r;
    gh_reader_init(&r, body.ptr, body.len);
    GH_GUARD(object(&r, 0, top_member, &c));
    GH_GUARD(end_of_text(&r));
    *out = res;
    return GH_OK;
}

/* ---- JSON string values ------------------------------------------------------ */

gh_err gh_edge_json_unescape(struct gh_slice raw, bool strict, char *out, size_t cap)
{
    struct gh_writer w;
    gh_writer_init(&w, out, cap);
    for (size_t i = 0; i < raw.len; i++) {
        uint8_t c = raw.ptr[i];
        if (c != '\\') {
            if (strict && (c < 0x20 || c > 0x7e)) return GH_ERR_BAD_JSON;
            if (!strict && c < 0x20) c = ' ';
            if (!strict && c > 0x7e) c = '?';
            if (gh_writer_u8(&w, c) != GH_OK) return GH_ERR_TOO_LARGE;
            continue;
        }
        /* string_tok validated the escape's shape. */
        if (1 > raw.len - 1 - i) return GH_ERR_BAD_JSON;
        uint8_t e = raw.ptr[++i];
        uint8_t v;
        if (e == '"' || e == '\\' || e == '/') {
            v = e;
        } else if (strict) {
            return GH_ERR_BAD_JSON;
        } else if (e == 'u') {
            if (4 > raw.len - 1 - i) return GH_ERR_BAD_JSON;
            unsigned cp = 0;
            for (size_t k = 1; k <= 4; k++) {
                uint8_t h = raw.ptr[i + k];
                cp = cp * 16 + (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
            }
            i += 4;
            v = cp >= 0x20 && cp < 0x7f ? (uint8_t)cp : '?';
        } else {
            v = ' '; /* \b \f \n \r \t */
        }
        if (gh_writer_u8(&w, v) != GH_OK) return GH_ERR_TOO_LARGE;
    }
    if (gh_writer_terminate(&w) != GH_OK) return GH_ERR_TOO_LARGE;
    return GH_OK;
}

/* ---- identity file ------------------------------------------------------------- */

struct id_ctx {
    struct gh_edge_identity *id;
    unsigned seen;
    int64_t version;
};

enum {
    ID_VERSION = 1u << 0,
    ID_HUB = 1u << 1,
    ID_DEVICE = 1u << 2,
    ID_AUTH = 1u << 3,
    ID_KEY = 1u << 4,
    ID_SOURCE = 1u << 5,
    ID_TIME = 1u << 6,
    ID_REG = 1u << 7,
    ID_SCOPE = 1u << 8,
    ID_ENDPOINT = 1u << 9,
};

static gh_err id_string(struct gh_reader *r, char *out, size_t cap)
{
    uint8_t c;
    GH_GUARD(peek(r, &c));
    GH_ENSURE(c == '"', GH_ERR_BAD_JSON);
    struct gh_slice raw;
    bool esc;
    GH_GUARD(string_tok(r, &raw, &esc));
    return gh_edge_json_unescape(raw, true, out, cap);
}

static gh_err id_member(void *ctx, struct gh_slice key, bool esc, struct gh_reader *r,
                        unsigned depth)
{
    (void)depth;
    struct id_ctx *c = ctx;
    struct gh_edge_identity *id = c->id;
    GH_ENSURE(!esc, GH_ERR_BAD_JSON);
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"version", ID_VERSION},
                 {"hub", ID_HUB},
                 {"deviceId", ID_DEVICE},
                 {"auth", ID_AUTH},
                 {"key", ID_KEY},
                 {"source", ID_SOURCE},
                 {"provisionedMs", ID_TIME},
                 {"registrationId", ID_REG},
                 {"idScope", ID_SCOPE},
                 {"endpoint", ID_ENDPOINT}};
    unsigned bit = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (gh_slice_eq_cstr(key, names[i].name)) bit = names[i].bit;
    GH_ENSURE(bit != 0, GH_ERR_BAD_JSON);
    GH_ENSURE(!(c->seen & bit), GH_ERR_BAD_JSON);
    c->seen |= bit;
    bool is_int;
    char word[16];
    switch (bit) {
    case ID_VERSION:
        GH_GUARD(number_tok(r, &is_int, &c->version));
        GH_ENSURE(is_int, GH_ERR_BAD_JSON);
        return GH_OK;
    case ID_TIME:
        GH_GUARD(number_tok(r, &is_int, &id->provisioned_ms));
        GH_ENSURE(is_int && id->provisioned_ms >= 0, GH_ERR_BAD_JSON);
        return GH_OK;
    case ID_HUB:
        return id_string(r, id->hub, sizeof id->hub);
    case ID_DEVICE:
        return id_string(r, id->device_id, sizeof id->device_id);
    case ID_KEY:
        return id_string(r, id->key, sizeof id->key);
    case ID_REG:
        return id_string(r, id->registration_id, sizeof id->registration_id);
    case ID_SCOPE:
        return id_string(r, id->id_scope, sizeof id->id_scope);
    case ID_ENDPOINT:
        return id_string(r, id->endpoint, sizeof id->endpoint);
    case ID_AUTH: {
        gh_err rc = id_string(r, word, sizeof word);
        GH_ENSURE(rc != GH_ERR_TOO_LARGE, GH_ERR_BAD_JSON);
        GH_GUARD(rc);
        if (strcmp(word, "sas") == 0)
            id->auth = GH_EDGE_AUTH_SAS;
        else if (strcmp(word, "x509") == 0)
            id->auth = GH_EDGE_AUTH_X509;
        else
            return GH_ERR_BAD_JSON;
        return GH_OK;
    }
    default: { /* ID_SOURCE */
        gh_err rc = id_string(r, word, sizeof word);
        GH_ENSURE(rc != GH_ERR_TOO_LARGE, GH_ERR_BAD_JSON);
        GH_GUARD(rc);
        GH_ENSURE(strcmp(word, GH_EDGE_SOURCE_DPS) == 0 || strcmp(word, GH_EDGE_SOURCE_MANUAL) == 0,
                  GH_ERR_BAD_JSON);
        memcpy(id->source, word, strlen(word) + 1);
        return GH_OK;
    }
    }
}

gh_err gh_edge_identity_parse(struct gh_slice text, struct gh_edge_identity *out)
{
    GH_ENSURE(text.len <= GH_EDGE_IDENTITY_FILE_MAX, GH_ERR_TOO_LARGE);
    struct gh_edge_identity id;
    memset(&id, 0, sizeof id);
    struct id_ctx c = {.id = &id};
    struct gh_reader r;
    gh_reader_init(&r, text.ptr, text.len);
    gh_err rc = object(&r, 0, id_member, &c);
    if (rc == GH_OK) rc = end_of_text(&r);
    if (rc == GH_OK && !(c.seen & ID_VERSION)) rc = GH_ERR_CONFIG_MISSING;
    if (rc == GH_OK && c.version != IDENTITY_VERSION) rc = GH_ERR_UNSUPPORTED;
    if (rc == GH_OK && (id.hub[0] == '\0' || id.device_id[0] == '\0' || id.source[0] == '\0' ||
                        !(c.seen & ID_AUTH) || (id.auth == GH_EDGE_AUTH_SAS && id.key[0] == '\0')))
        rc = GH_ERR_CONFIG_MISSING;
    if (rc == GH_OK && (!gh_edge_host_valid(id.hub) || !gh_edge_device_id_valid(id.device_id)))
        rc = GH_ERR_BAD_JSON;
    if (rc == GH_OK) *out = id;
    gh_edge_identity_wipe(&id);
    return rc;
}
