#include "iothub/sas.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/encoding.h"

#define PREFIX "SharedAccessSignature"
#define PREFIX_LEN (sizeof PREFIX - 1)
/* Decimal digits of INT64_MAX plus a NUL. */
#define SE_TEXT_MAX 20

static const struct gh_slice newline = {(const uint8_t *)"\n", 1};

static bool key_is(struct gh_slice key, const char *name)
{
    return gh_slice_eq_nocase(key, gh_slice_cstr(name));
}

static gh_err parse_se(struct gh_slice s, int64_t *out)
{
    int64_t v = 0;
    GH_ENSURE(s.len > 0, GH_ERR_BAD_SAS);
    for (size_t i = 0; i < s.len; i++) {
        uint8_t c = s.ptr[i];
        GH_ENSURE(c >= '0' && c <= '9', GH_ERR_BAD_SAS);
        int d = c - '0';
        GH_ENSURE(v <= (INT64_MAX - d) / 10, GH_ERR_BAD_SAS);
        v = v * 10 + d;
    }
    *out = v;
    return GH_OK;
}

static gh_err parse_sig(struct gh_slice raw, uint8_t out[GH_SHA256_LEN])
{
    char text[GH_SAS_SIG_TEXT_MAX];
    uint8_t bin[GH_SHA256_LEN];
    struct gh_writer tw, bw;
    gh_err rc = GH_ERR_BAD_SAS;

    if (raw.len == 0 || raw.len > sizeof text) goto out;
    gh_writer_init(&tw, text, sizeof text);
    if (gh_pct_decode((const char *)raw.ptr, raw.len, &tw) != GH_OK) goto out;
    gh_writer_init(&bw, bin, sizeof bin);
    if (gh_base64_decode(text, tw.len, &bw) != GH_OK || bw.len != sizeof bin) goto out;
    memcpy(out, bin, sizeof bin);
    rc = GH_OK;
out:
    gh_secure_zero(text, sizeof text);
    gh_secure_zero(bin, sizeof bin);
    return rc;
}

/* Record a known field; a second occurrence is an error. */
static gh_err set_once(struct gh_slice *dst, bool *seen, struct gh_slice value)
{
    GH_ENSURE(!*seen, GH_ERR_BAD_SAS);
    *seen = true;
    *dst = value;
    return GH_OK;
}

gh_err gh_sas_parse(struct gh_slice text, struct gh_sas_token *out)
{
    GH_ENSURE(text.len <= GH_SAS_TOKEN_MAX, GH_ERR_TOO_LARGE);
    struct gh_reader r;
    struct gh_slice prefix, sp;
    gh_reader_init(&r, text.ptr, text.len);
    GH_ENSURE(gh_reader_bytes(&r, PREFIX_LEN, &prefix) == GH_OK, GH_ERR_BAD_SAS);
    GH_ENSURE(memcmp(prefix.ptr, PREFIX, PREFIX_LEN) == 0, GH_ERR_BAD_SAS);
    size_t spaces = 0;
    while (gh_reader_remaining(&r) > 0 && r.data[r.pos] == ' ') {
        GH_GUARD(gh_reader_bytes(&r, 1, &sp));
        spaces++;
    }
    GH_ENSURE(spaces > 0, GH_ERR_BAD_SAS);

    struct gh_slice sr = GH_SLICE_EMPTY, sig = GH_SLICE_EMPTY, se = GH_SLICE_EMPTY;
    struct gh_slice skn = GH_SLICE_EMPTY;
    bool have_sr = false, have_sig = false, have_se = false, have_skn = false;
    bool more = true;
    while (more) {
        struct gh_slice field, key;
        more = gh_reader_split(&r, '&', &field);
        if (field.len == 0) continue;
        struct gh_reader fr;
        gh_reader_init(&fr, field.ptr, field.len);
        GH_ENSURE(gh_reader_split(&fr, '=', &key), GH_ERR_BAD_SAS);
        struct gh_slice value = gh_reader_rest(&fr);
        if (key_is(key, "sr"))
            GH_GUARD(set_once(&sr, &have_sr, value));
        else if (key_is(key, "sig"))
            GH_GUARD(set_once(&sig, &have_sig, value));
        else if (key_is(key, "se"))
            GH_GUARD(set_once(&se, &have_se, value));
        else if (key_is(key, "skn"))
            GH_GUARD(set_once(&skn, &have_skn, value));
        /* unknown keys are ignored (PROTOCOL.md 2.1) */
    }
    GH_ENSURE(have_sr && have_sig && have_se, GH_ERR_BAD_SAS);
    GH_ENSURE(sr.len > 0, GH_ERR_BAD_SAS);

    struct gh_sas_token t = {.sr = sr, .se_raw = se, .skn = skn};
    GH_GUARD(parse_se(se, &t.se));
    gh_err rc = parse_sig(sig, t.sig);
    if (rc == GH_OK) *out = t;
    gh_secure_zero(&t, sizeof t);
    return rc;
}

gh_err gh_sas_verify_key(const struct gh_sas_token *t, const uint8_t *key, size_t keylen)
{
    uint8_t mac[GH_SHA256_LEN];
    struct gh_slice parts[3] = {t->sr, newline, t->se_raw};
    GH_GUARD(gh_hmac_sha256_parts(key, keylen, parts, 3, mac));
    bool ok = gh_ct_equal(mac, t->sig, sizeof mac);
    gh_secure_zero(mac, sizeof mac);
    return ok ? GH_OK : GH_ERR_AUTH;
}

gh_err gh_sas_verify(const struct gh_sas_token *t, const struct gh_slice *keys_b64, size_t nkeys,
                     size_t *matched)
{
    uint8_t key[GH_SYMKEY_MAX];
    gh_err key_err = GH_OK;
    for (size_t i = 0; i < nkeys; i++) {
        size_t keylen;
        if (keys_b64[i].len == 0) continue;
        gh_err rc = gh_symkey_decode(keys_b64[i], key, &keylen);
        if (rc != GH_OK) {
            if (key_err == GH_OK) key_err = rc;
            continue;
        }
        rc = gh_sas_verify_key(t, key, keylen);
        gh_secure_zero(key, sizeof key);
        if (rc == GH_OK) {
            if (matched) *matched = i;
            return GH_OK;
        }
        if (rc != GH_ERR_AUTH) return rc;
    }
    return key_err != GH_OK ? key_err : GH_ERR_AUTH;
}

gh_err gh_sas_check_expiry(const struct gh_sas_token *t, int64_t now, uint32_t skew_s)
{
    /* now > se >= 0, so now - se cannot overflow. */
    if (now > t->se && (uint64_t)now - (uint64_t)t->se > skew_s) return GH_ERR_EXPIRED;
    return GH_OK;
}

gh_err gh_sas_sign(struct gh_slice sr_raw, struct gh_slice se_raw, struct gh_slice key_b64,
                   struct gh_writer *w)
{
    uint8_t key[GH_SYMKEY_MAX];
    uint8_t mac[GH_SHA256_LEN];
    size_t keylen = 0;
    size_t start = w->len;
    struct gh_slice parts[3] = {sr_raw, newline, se_raw};

    GH_GUARD(gh_symkey_decode(key_b64, key, &keylen));
    gh_err rc = gh_hmac_sha256_parts(key, keylen, parts, 3, mac);
    if (rc == GH_OK) rc = gh_base64_encode(mac, sizeof mac, w);
    if (rc != GH_OK) w->len = start;
    gh_secure_zero(key, sizeof key);
    gh_secure_zero(mac, sizeof mac);
    return rc;
}

static gh_err write_token(struct gh_writer *w, struct gh_slice sr_text, const char *sig,
                          size_t siglen, const char *skn, const char *se_text)
{
    GH_GUARD(gh_writer_cstr(w, PREFIX " sr="));
    GH_GUARD(gh_writer_bytes(w, sr_text.ptr, sr_text.len));
    GH_GUARD(gh_writer_cstr(w, "&sig="));
    GH_GUARD(gh_pct_encode(sig, siglen, w));
    if (skn != NULL && skn[0] != '\0') {
        GH_GUARD(gh_writer_cstr(w, "&skn="));
        GH_GUARD(gh_pct_encode(skn, strlen(skn), w));
    }
    GH_GUARD(gh_writer_cstr(w, "&se="));
    return gh_writer_cstr(w, se_text);
}

gh_err gh_sas_build(struct gh_slice sr_text, struct gh_slice key_b64, int64_t se, const char *skn,
                    struct gh_writer *w)
{
    char se_text[SE_TEXT_MAX + 1];
    char sig[GH_SHA256_B64_LEN];
    struct gh_writer sw;
    size_t start = w->len;

    GH_ENSURE(sr_text.len > 0 && memchr(sr_text.ptr, '&', sr_text.len) == NULL, GH_ERR_ARG);
    GH_ENSURE(se >= 0, GH_ERR_ARG);
    snprintf(se_text, sizeof se_text, "%" PRId64, se);

    gh_writer_init(&sw, sig, sizeof sig);
    GH_GUARD(gh_sas_sign(sr_text, gh_slice_cstr(se_text), key_b64, &sw));
    gh_err rc = write_token(w, sr_text, sig, sw.len, skn, se_text);
    if (rc != GH_OK) {
        gh_secure_zero(w->data + start, w->len - start);
        w->len = start;
    }
    gh_secure_zero(sig, sizeof sig);
    return rc;
}

/* Node's encodeUriComponentStrict: upper-case hex, but '*' as "%2a". */
static gh_err node_encode(struct gh_slice s, struct gh_writer *w)
{
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] == '*')
            GH_GUARD(gh_writer_cstr(w, "%2a"));
        else
            GH_GUARD(gh_pct_encode((const char *)s.ptr + i, 1, w));
    }
    return GH_OK;
}

static gh_err write_audience(struct gh_slice host, struct gh_slice device_id,
                             const struct gh_slice *module_id, struct gh_writer *w)
{
    GH_GUARD(node_encode(host, w));
    GH_GUARD(gh_writer_cstr(w, "%2Fdevices%2F"));
    GH_GUARD(node_encode(device_id, w));
    if (module_id != NULL) {
        GH_GUARD(gh_writer_cstr(w, "%2Fmodules%2F"));
        GH_GUARD(node_encode(*module_id, w));
    }
    return GH_OK;
}

gh_err gh_sas_audience_encode(struct gh_slice host, struct gh_slice device_id,
                              const struct gh_slice *module_id, struct gh_writer *w)
{
    size_t start = w->len;
    GH_ENSURE(host.len > 0 && device_id.len > 0, GH_ERR_ARG);
    GH_ENSURE(module_id == NULL || module_id->len > 0, GH_ERR_ARG);
    gh_err rc = write_audience(host, device_id, module_id, w);
    if (rc != GH_OK) w->len = start;
    return rc;
}

static gh_err decode_into(struct gh_slice in, struct gh_writer *scratch, struct gh_slice *out)
{
    size_t at = scratch->len;
    GH_GUARD(gh_pct_decode((const char *)in.ptr, in.len, scratch));
    *out = (struct gh_slice){scratch->data ? scratch->data + at : NULL, scratch->len - at};
    return GH_OK;
}

static gh_err audience_split(struct gh_slice sr_raw, struct gh_writer *scratch,
                             struct gh_sas_audience *a)
{
    struct gh_slice all;
    struct gh_reader r;
    GH_GUARD(decode_into(sr_raw, scratch, &all));
    gh_reader_init(&r, all.ptr, all.len);
    bool more = true;
    while (more) {
        struct gh_slice seg;
        more = gh_reader_split(&r, '/', &seg);
        GH_ENSURE(a->count < GH_SAS_AUDIENCE_MAX_SEGMENTS, GH_ERR_TOO_MANY);
        a->once[a->count] = seg;
        GH_GUARD(decode_into(seg, scratch, &a->twice[a->count]));
        a->count++;
    }
    GH_ENSURE(a->once[0].len > 0, GH_ERR_BAD_SAS);
    return GH_OK;
}

gh_err gh_sas_audience_parse(struct gh_slice sr_raw, struct gh_writer *scratch,
                             struct gh_sas_audience *out)
{
    GH_ENSURE(sr_raw.len > 0, GH_ERR_BAD_SAS);
    GH_ENSURE(sr_raw.len <= GH_SAS_AUDIENCE_MAX, GH_ERR_TOO_LARGE);
    struct gh_sas_audience a = {0};
    size_t start = scratch->len;
    gh_err rc = audience_split(sr_raw, scratch, &a);
    if (rc != GH_OK) {
        scratch->len = start;
        return rc;
    }
    *out = a;
    return GH_OK;
}

bool gh_sas_audience_segment_is(const struct gh_sas_audience *a, size_t i, struct gh_slice want)
{
    if (i >= a->count || want.len == 0) return false;
    return gh_slice_eq_nocase(a->once[i], want) || gh_slice_eq_nocase(a->twice[i], want);
}

/* Parse sr_raw with stack scratch; false when it does not parse. */
static bool parse_local(struct gh_slice sr_raw, uint8_t *buf, size_t cap, struct gh_sas_audience *a)
{
    struct gh_writer w;
    gh_writer_init(&w, buf, cap);
    return gh_sas_audience_parse(sr_raw, &w, a) == GH_OK;
}

bool gh_sas_audience_grants_device(struct gh_slice sr_raw, const struct gh_slice *hosts,
                                   size_t nhosts, struct gh_slice device_id,
                                   const struct gh_slice *module_id)
{
    uint8_t buf[GH_SAS_AUDIENCE_SCRATCH(GH_SAS_AUDIENCE_MAX)];
    struct gh_sas_audience a;
    if (!parse_local(sr_raw, buf, sizeof buf, &a)) return false;

    struct gh_slice path[5] = {GH_SLICE_EMPTY, gh_slice_cstr("devices"), device_id,
                               gh_slice_cstr("modules"), GH_SLICE_EMPTY};
    size_t npath = 3;
    if (module_id != NULL) {
        path[4] = *module_id;
        npath = 5;
    }
    if (a.count > npath) return false;

    bool host_ok = false;
    for (size_t j = 0; j < nhosts && !host_ok; j++)
        host_ok = gh_sas_audience_segment_is(&a, 0, hosts[j]);
    if (!host_ok) return false;
    for (size_t i = 1; i < a.count; i++)
        if (!gh_sas_audience_segment_is(&a, i, path[i])) return false;
    return true;
}

bool gh_sas_audience_is_dps_registration(struct gh_slice sr_raw, struct gh_slice id_scope,
                                         struct gh_slice registration_id)
{
    uint8_t buf[GH_SAS_AUDIENCE_SCRATCH(GH_SAS_AUDIENCE_MAX)];
    struct gh_sas_audience a;
    if (!parse_local(sr_raw, buf, sizeof buf, &a)) return false;
    return a.count == 3 && gh_sas_audience_segment_is(&a, 0, id_scope) &&
           gh_sas_audience_segment_is(&a, 1, gh_slice_cstr("registrations")) &&
           gh_sas_audience_segment_is(&a, 2, registration_id);
}

bool gh_sas_audience_is_host(struct gh_slice sr_raw, struct gh_slice host)
{
    uint8_t buf[GH_SAS_AUDIENCE_SCRATCH(GH_SAS_AUDIENCE_MAX)];
    struct gh_sas_audience a;
    if (!parse_local(sr_raw, buf, sizeof buf, &a)) return false;
    return a.count == 1 && gh_sas_audience_segment_is(&a, 0, host);
}
