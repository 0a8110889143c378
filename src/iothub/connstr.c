#include "iothub/connstr.h"

#include <string.h>

#include "iothub/crypto.h"
#include "iothub/sas.h"

static const struct field {
    const char *key;
    size_t offset;
} fields[] = {
    {"HostName", offsetof(struct gh_connstr, host_name)},
    {"DeviceId", offsetof(struct gh_connstr, device_id)},
    {"ModuleId", offsetof(struct gh_connstr, module_id)},
    {"SharedAccessKey", offsetof(struct gh_connstr, shared_access_key)},
    {"SharedAccessKeyName", offsetof(struct gh_connstr, shared_access_key_name)},
    {"SharedAccessSignature", offsetof(struct gh_connstr, shared_access_signature)},
    {"GatewayHostName", offsetof(struct gh_connstr, gateway_host_name)},
    {"x509", offsetof(struct gh_connstr, x509_value)},
};

static gh_err fail(const char **why, const char *reason, gh_err rc)
{
    if (why) *why = reason;
    return rc;
}

static bool has_control(struct gh_slice s)
{
    for (size_t i = 0; i < s.len; i++)
        if (s.ptr[i] < 0x20 || s.ptr[i] == 0x7f) return true;
    return false;
}

static gh_err parse_items(struct gh_reader *r, struct gh_connstr *cs, const char **why)
{
    bool more = true;
    while (more) {
        struct gh_slice item, key;
        more = gh_reader_split(r, ';', &item);
        if (item.len == 0) continue;
        struct gh_reader ir;
        gh_reader_init(&ir, item.ptr, item.len);
        if (!gh_reader_split(&ir, '=', &key))
            return fail(why, "an item has no '=' (expected Key=Value)", GH_ERR_BAD_CONNSTR);
        if (key.len == 0) return fail(why, "an item has an empty key", GH_ERR_BAD_CONNSTR);
        struct gh_slice value = gh_reader_rest(&ir);
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
            if (!gh_slice_eq_cstr(key, fields[i].key)) continue;
            struct gh_slice *dst = (struct gh_slice *)((char *)cs + fields[i].offset);
            if (dst->ptr != NULL) return fail(why, "a key is given twice", GH_ERR_BAD_CONNSTR);
            *dst = value;
            break;
        }
    }
    return GH_OK;
}

gh_err gh_connstr_parse(struct gh_slice text, struct gh_connstr *out, const char **why)
{
    if (why) *why = NULL;
    if (text.len > GH_CONNSTR_MAX)
        return fail(why, "connection string is too long", GH_ERR_TOO_LARGE);
    if (has_control(text))
        return fail(why, "connection string contains a control character (newline?)",
                    GH_ERR_BAD_CONNSTR);
    struct gh_connstr cs;
    memset(&cs, 0, sizeof cs);
    struct gh_reader r;
    gh_reader_init(&r, text.ptr, text.len);
    GH_GUARD(parse_items(&r, &cs, why));
    cs.x509 = cs.x509_value.ptr != NULL && gh_slice_eq_nocase(cs.x509_value, gh_slice_cstr("true"));
    *out = cs;
    return GH_OK;
}

static bool present(struct gh_slice s)
{
    return s.ptr != NULL;
}

static gh_err check_host(const struct gh_connstr *cs, const char **why)
{
    struct gh_slice h = cs->host_name;
    if (!present(h) || h.len == 0) return fail(why, "HostName is missing", GH_ERR_BAD_CONNSTR);
    const uint8_t *dot = memchr(h.ptr, '.', h.len);
    if (dot == NULL || dot == h.ptr || h.ptr[h.len - 1] == '.')
        return fail(why, "HostName must be a dotted name such as hub.example.test",
                    GH_ERR_BAD_CONNSTR);
    return GH_OK;
}

static gh_err check_key(struct gh_slice key_b64, const char **why)
{
    uint8_t key[GH_SYMKEY_MAX];
    size_t keylen;
    if (gh_symkey_decode(key_b64, key, &keylen) != GH_OK)
        return fail(why, "SharedAccessKey is not a valid base64 key", GH_ERR_BAD_CONNSTR);
    gh_secure_zero(key, sizeof key);
    return GH_OK;
}

gh_err gh_connstr_check_device(const struct gh_connstr *cs, const char **why)
{
    if (why) *why = NULL;
    GH_GUARD(check_host(cs, why));
    if (!present(cs->device_id) || cs->device_id.len == 0)
        return fail(why, "DeviceId is missing", GH_ERR_BAD_CONNSTR);
    if (present(cs->module_id) && cs->module_id.len == 0)
        return fail(why, "ModuleId is empty", GH_ERR_BAD_CONNSTR);
    if (present(cs->gateway_host_name) && cs->gateway_host_name.len == 0)
        return fail(why, "GatewayHostName is empty", GH_ERR_BAD_CONNSTR);

    bool key = present(cs->shared_access_key), token = present(cs->shared_access_signature);
    int methods = (int)key + (int)token + (int)cs->x509;
    if (methods == 0)
        return fail(why, "needs one of SharedAccessKey, SharedAccessSignature or x509=true",
                    GH_ERR_BAD_CONNSTR);
    if (methods > 1)
        return fail(why, "give only one of SharedAccessKey, SharedAccessSignature, x509=true",
                    GH_ERR_BAD_CONNSTR);
    if (key) GH_GUARD(check_key(cs->shared_access_key, why));
    if (token) {
        struct gh_sas_token t;
        if (gh_sas_parse(cs->shared_access_signature, &t) != GH_OK)
            return fail(why, "SharedAccessSignature is not a valid SAS token", GH_ERR_BAD_CONNSTR);
        gh_secure_zero(&t, sizeof t);
    }
    return GH_OK;
}

gh_err gh_connstr_check_service(const struct gh_connstr *cs, const char **why)
{
    if (why) *why = NULL;
    GH_GUARD(check_host(cs, why));
    if (!present(cs->shared_access_key_name) || cs->shared_access_key_name.len == 0)
        return fail(why, "SharedAccessKeyName is missing", GH_ERR_BAD_CONNSTR);
    if (!present(cs->shared_access_key))
        return fail(why, "SharedAccessKey is missing", GH_ERR_BAD_CONNSTR);
    return check_key(cs->shared_access_key, why);
}
