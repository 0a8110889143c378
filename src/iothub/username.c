#include "iothub/username.h"

#include <string.h>

#include "common/encoding.h"
#include "iothub/bag.h"

static bool id_char(uint8_t c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
    return c != 0 && strchr("-.+%_#*?!(),=@$'", c) != NULL;
}

static bool reg_char(uint8_t c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
    return c == '-' || c == '.' || c == '_' || c == ':';
}

static bool valid_id(struct gh_slice id, bool (*ok)(uint8_t))
{
    if (id.len == 0 || id.len > GH_IOTHUB_ID_MAX) return false;
    for (size_t i = 0; i < id.len; i++)
        if (!ok(id.ptr[i])) return false;
    return true;
}

bool gh_iothub_valid_device_id(struct gh_slice id)
{
    return valid_id(id, id_char);
}

bool gh_iothub_valid_module_id(struct gh_slice id)
{
    return valid_id(id, id_char);
}

bool gh_iothub_valid_registration_id(struct gh_slice id)
{
    return valid_id(id, reg_char);
}

/* Store a percent-decoded value into *slot unless the name was seen before
 * (first wins, 1.2 rule 2). Values without `%` stay views of the input. */
static gh_err set_param(struct gh_slice *slot, struct gh_slice raw, struct gh_writer *scratch)
{
    if (slot->ptr != NULL) return GH_OK;
    struct gh_slice v = raw;
    if (raw.len > 0 && memchr(raw.ptr, '%', raw.len) != NULL) {
        size_t start = scratch->len;
        GH_GUARD(gh_pct_decode((const char *)raw.ptr, raw.len, scratch));
        v = (struct gh_slice){scratch->data + start, scratch->len - start};
    }
    GH_ENSURE(gh_utf8_valid_mqtt(v.ptr, v.len), GH_ERR_BAD_USERNAME);
    *slot = v;
    return GH_OK;
}

/* Parse `name[=value]&...` (already without `?`). */
static gh_err parse_params(struct gh_slice params, bool dps, struct gh_writer *scratch,
                           struct gh_iothub_username *u)
{
    struct gh_reader r;
    gh_reader_init(&r, params.ptr, params.len);
    while (gh_reader_remaining(&r) > 0) {
        struct gh_slice item, name;
        (void)gh_reader_split(&r, '&', &item);
        if (item.len == 0) continue;
        struct gh_reader ir;
        gh_reader_init(&ir, item.ptr, item.len);
        bool has_eq = gh_reader_split(&ir, '=', &name);
        /* A value-less item is present and empty; keep a non-NULL pointer. */
        struct gh_slice value = has_eq ? gh_reader_rest(&ir) : (struct gh_slice){item.ptr, 0};
        struct gh_slice *slot = NULL;
        if (gh_slice_eq_cstr(name, "api-version"))
            slot = &u->api_version;
        else if (gh_slice_eq_cstr(name, dps ? "ClientVersion" : "DeviceClientType"))
            slot = &u->client_type;
        else if (!dps && gh_slice_eq_cstr(name, "model-id"))
            slot = &u->model_id;
        else if (!dps && gh_slice_eq_cstr(name, "auth-chain"))
            slot = &u->auth_chain;
        if (slot) GH_GUARD(set_param(slot, value, scratch));
    }
    return GH_OK;
}

/* Parameters after the identity: `?` + rest (normal form, rest may hold
 * raw `/`), or the legacy form without `?` that must be the last segment. */
static bool take_params(struct gh_reader *r, struct gh_slice *params)
{
    struct gh_slice rest = gh_reader_rest(r);
    if (rest.len > 0 && rest.ptr[0] == '?') {
        *params = (struct gh_slice){rest.ptr + 1, rest.len - 1};
        return true;
    }
    *params = rest;
    return rest.len == 0 || memchr(rest.ptr, '/', rest.len) == NULL;
}

static gh_err parse_hub(struct gh_slice username, struct gh_writer *scratch,
                        struct gh_iothub_username *u)
{
    struct gh_reader r;
    struct gh_slice host, dev, mod = GH_SLICE_EMPTY, params;
    gh_reader_init(&r, username.ptr, username.len);
    GH_ENSURE(gh_reader_split(&r, '/', &host), GH_ERR_BAD_USERNAME);
    GH_ENSURE(gh_reader_split(&r, '/', &dev), GH_ERR_BAD_USERNAME);
    size_t after_dev = r.pos;
    if (!take_params(&r, &params)) {
        /* Not `{host}/{D}/?...` nor `{host}/{D}/{params}`: a module. */
        r.pos = after_dev;
        GH_ENSURE(gh_reader_split(&r, '/', &mod), GH_ERR_BAD_USERNAME);
        GH_ENSURE(take_params(&r, &params), GH_ERR_BAD_USERNAME);
        GH_ENSURE(gh_iothub_valid_module_id(mod), GH_ERR_BAD_USERNAME);
    }
    GH_ENSURE(gh_iothub_valid_device_id(dev), GH_ERR_BAD_USERNAME);
    u->host = host;
    u->id.kind = mod.len ? GH_IOTHUB_ID_MODULE : GH_IOTHUB_ID_DEVICE;
    u->id.device_id = dev;
    u->id.module_id = mod;
    return parse_params(params, false, scratch, u);
}

static gh_err parse_dps(struct gh_slice username, struct gh_writer *scratch,
                        struct gh_iothub_username *u)
{
    struct gh_reader r;
    struct gh_slice scope, lit, reg, params;
    gh_reader_init(&r, username.ptr, username.len);
    GH_ENSURE(gh_reader_split(&r, '/', &scope), GH_ERR_BAD_USERNAME);
    GH_ENSURE(gh_reader_split(&r, '/', &lit), GH_ERR_BAD_USERNAME);
    GH_ENSURE(gh_slice_eq_cstr(lit, "registrations"), GH_ERR_BAD_USERNAME);
    GH_ENSURE(gh_reader_split(&r, '/', &reg), GH_ERR_BAD_USERNAME);
    GH_ENSURE(take_params(&r, &params), GH_ERR_BAD_USERNAME);
    GH_ENSURE(scope.len > 0 && scope.len <= GH_IOTHUB_ID_SCOPE_MAX, GH_ERR_BAD_USERNAME);
    GH_ENSURE(gh_iothub_valid_registration_id(reg), GH_ERR_BAD_USERNAME);
    u->host = scope;
    u->id.kind = GH_IOTHUB_ID_DPS;
    u->id.device_id = reg;
    u->id.module_id = GH_SLICE_EMPTY;
    return parse_params(params, true, scratch, u);
}

typedef gh_err (*parse_fn)(struct gh_slice, struct gh_writer *, struct gh_iothub_username *);

/* Run a parser on a local result; publish it and keep the scratch only on
 * success. */
static gh_err run(parse_fn fn, struct gh_slice username, struct gh_writer *scratch,
                  struct gh_iothub_username *out)
{
    struct gh_iothub_username u;
    memset(&u, 0, sizeof u);
    size_t mark = scratch->len;
    gh_err rc = fn(username, scratch, &u);
    if (rc != GH_OK) {
        scratch->len = mark;
        return rc;
    }
    *out = u;
    return GH_OK;
}

gh_err gh_iothub_username_parse_hub(struct gh_slice username, struct gh_writer *scratch,
                                    struct gh_iothub_username *out)
{
    return run(parse_hub, username, scratch, out);
}

gh_err gh_iothub_username_parse_dps(struct gh_slice username, struct gh_writer *scratch,
                                    struct gh_iothub_username *out)
{
    return run(parse_dps, username, scratch, out);
}

/* 4.2.1 shape: `{scope}/registrations/{reg}/{params}` with no `?` and no
 * further `/`. */
static bool looks_like_dps(struct gh_slice username)
{
    struct gh_reader r;
    struct gh_slice seg;
    gh_reader_init(&r, username.ptr, username.len);
    if (!gh_reader_split(&r, '/', &seg)) return false;
    if (!gh_reader_split(&r, '/', &seg) || !gh_slice_eq_cstr(seg, "registrations"))
        return false;
    if (!gh_reader_split(&r, '/', &seg)) return false;
    struct gh_slice rest = gh_reader_rest(&r);
    return rest.len == 0 || (rest.ptr[0] != '?' && memchr(rest.ptr, '/', rest.len) == NULL);
}

gh_err gh_iothub_username_parse(struct gh_slice username, struct gh_writer *scratch,
                                struct gh_iothub_username *out)
{
    return run(looks_like_dps(username) ? parse_dps : parse_hub, username, scratch, out);
}

gh_err gh_iothub_username_check_client_id(const struct gh_iothub_username *u,
                                          struct gh_slice client_id)
{
    const struct gh_iothub_identity *id = &u->id;
    if (id->kind != GH_IOTHUB_ID_MODULE) {
        GH_ENSURE(id->device_id.len > 0 && gh_slice_eq(client_id, id->device_id),
                  GH_ERR_BAD_USERNAME);
        return GH_OK;
    }
    size_t d = id->device_id.len;
    GH_ENSURE(d > 0 && id->module_id.len > 0, GH_ERR_BAD_USERNAME);
    GH_ENSURE(client_id.len == d + 1 + id->module_id.len, GH_ERR_BAD_USERNAME);
    GH_ENSURE(memcmp(client_id.ptr, id->device_id.ptr, d) == 0 && client_id.ptr[d] == '/' &&
                  memcmp(client_id.ptr + d + 1, id->module_id.ptr, id->module_id.len) == 0,
              GH_ERR_BAD_USERNAME);
    return GH_OK;
}
