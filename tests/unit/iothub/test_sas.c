/* SAS tokens (PROTOCOL.md 2): every vector of 2.5 built and verified with
 * its exact signature (and its audience checked), the 2.7 derived-key
 * vector, field orders of the different SDKs, signature decoding, expiry
 * with skew, and every error path of the parser and the builders. Audience
 * parsing and the prefix rule in detail: test_sas_audience.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "iothub/sas.h"

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_UNPADDED "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
/* Another valid 32-byte key (all 0x01). */
#define OTHER_KEY "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define GROUP_KEY                                                                                  \
    "//79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eDf3t3c29rZ2NfW1dTT0tHQz87NzMvKycjHxsXEw8LBwA=="
#define SE 1767225600
#define SE_TEXT "1767225600"
#define HOST "hub.example.test"

enum kind { DEVICE, MODULE, SERVICE, DPS };

struct vector {
    const char *name;
    const char *sr;
    const char *sig;
    const char *skn;
    const char *token;
    bool node_order; /* gh_sas_build reproduces the token exactly */
    enum kind kind;
};

/* PROTOCOL.md 2.5, V1..V8. */
static const struct vector vectors[] = {
    {"V1", "hub.example.test%2Fdevices%2Fthermostat-01",
     "gyOpi4zesKlTqY0Qamfft2sAVdD/Hhsjx7RBZYUfLjs=", NULL,
     "SharedAccessSignature sr=hub.example.test%2Fdevices%2Fthermostat-01&sig="
     "gyOpi4zesKlTqY0Qamfft2sAVdD%2FHhsjx7RBZYUfLjs%3D&se=1767225600",
     true, DEVICE},
    {"V2", "hub.example.test%2fdevices%2fthermostat-01",
     "vrub0zDfWnSqPWXf/nj5We0U5xPCNp/arMWfiw9J0NE=", NULL,
     "SharedAccessSignature sr=hub.example.test%2fdevices%2fthermostat-01&sig="
     "vrub0zDfWnSqPWXf%2Fnj5We0U5xPCNp%2FarMWfiw9J0NE%3D&se=1767225600",
     true, DEVICE},
    {"V3", "hub.example.test/devices/thermostat-01",
     "IUQ6aF+wv1IUMEGHefZmfyLX7ebtO6fWpOhgcWAK11E=", NULL,
     "SharedAccessSignature sr=hub.example.test/devices/thermostat-01&sig="
     "IUQ6aF%2Bwv1IUMEGHefZmfyLX7ebtO6fWpOhgcWAK11E%3D&se=1767225600",
     true, DEVICE},
    {"V4", "hub.example.test%2Fdevices%2Fedge-gw-01%2Fmodules%2F%24edgeHub",
     "ODw+GX5ZgKpqCUCNfRJqAmRk4OpY+OcumuYLJY+fxr0=", NULL,
     "SharedAccessSignature sr=hub.example.test%2Fdevices%2Fedge-gw-01%2Fmodules%2F%24edgeHub&sig="
     "ODw%2BGX5ZgKpqCUCNfRJqAmRk4OpY%2BOcumuYLJY%2Bfxr0%3D&se=1767225600",
     true, MODULE},
    {"V5", "hub.example.test", "ZGTG7kCaapU0VbI4x46D/EPYQhsBqDbvTFouKh//yBc=", "iothubowner",
     "SharedAccessSignature sr=hub.example.test&sig="
     "ZGTG7kCaapU0VbI4x46D%2FEPYQhsBqDbvTFouKh%2F%2FyBc%3D&skn=iothubowner&se=1767225600",
     true, SERVICE},
    {"V6", "0ne00ABC123/registrations/thermostat-01",
     "/IAjJmXD5XSLKQG6eYbgPzMoEKMBYQSkTL+WX6wc3XY=", "registration",
     "SharedAccessSignature sr=0ne00ABC123/registrations/thermostat-01&sig="
     "%2FIAjJmXD5XSLKQG6eYbgPzMoEKMBYQSkTL%2BWX6wc3XY%3D&skn=registration&se=1767225600",
     true, DPS},
    {"V7", "0ne00ABC123%2fregistrations%2fthermostat-01",
     "6NsqU7uN/5ZKhoBeubEOiSO/HNhRPRZHQAdoGhZe7sE=", "registration",
     "SharedAccessSignature sr=0ne00ABC123%2fregistrations%2fthermostat-01&sig="
     "6NsqU7uN%2F5ZKhoBeubEOiSO%2FHNhRPRZHQAdoGhZe7sE%3D&se=1767225600&skn=registration",
     false, DPS},
    {"V8", "hub.example.test%2Fdevices%2Fedge-gw-01%2Fmodules%2F%2524edgeHub",
     "zO0z4K9QEJy90jO2jqfFDtpHu19lHguX1DtDZHhBaaw=", NULL,
     "SharedAccessSignature sr=hub.example.test%2Fdevices%2Fedge-gw-01%2Fmodules%2F%2524edgeHub&"
     "sig=zO0z4K9QEJy90jO2jqfFDtpHu19lHguX1DtDZHhBaaw%3D&se=1767225600",
     true, MODULE},
};

static struct gh_slice S(const char *s) {
    return gh_slice_cstr(s);
}

static gh_err
parse(const char *text, struct gh_sas_token *t)
{
    return gh_sas_parse(S(text), t);
}

/* Parse and verify with KEY; returns the first error. */
static gh_err parse_verify(const char *text)
{
    struct gh_sas_token t;
    struct gh_slice keys[1] = {S(KEY)};
    GH_GUARD(parse(text, &t));
    return gh_sas_verify(&t, keys, 1, NULL);
}

static const struct gh_slice hub_hosts[2] = {{(const uint8_t *)HOST, sizeof HOST - 1},
                                             {(const uint8_t *)"edge-gw-01.example.test", 23}};

static bool grants(const char *sr, const char *device, const char *module)
{
    struct gh_slice m = S(module ? module : "");
    return gh_sas_audience_grants_device(S(sr), hub_hosts, 2, S(device), module ? &m : NULL);
}

static void test_vectors_sign_and_build(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const struct vector *v = &vectors[i];
        char buf[512];
        struct gh_writer w;
        gh_writer_init(&w, buf, sizeof buf);
        assert_int_equal(gh_sas_sign(S(v->sr), S(SE_TEXT), S(KEY), &w), GH_OK);
        assert_int_equal(gh_writer_terminate(&w), GH_OK);
        assert_string_equal(buf, v->sig);
        if (!v->node_order) continue;
        gh_writer_init(&w, buf, sizeof buf);
        assert_int_equal(gh_sas_build(S(v->sr), S(KEY), SE, v->skn, &w), GH_OK);
        assert_int_equal(gh_writer_terminate(&w), GH_OK);
        assert_string_equal(buf, v->token);
    }
}

static void test_vectors_verify(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const struct vector *v = &vectors[i];
        struct gh_sas_token t;
        assert_int_equal(parse(v->token, &t), GH_OK);
        assert_true(gh_slice_eq_cstr(t.sr, v->sr));
        assert_true(gh_slice_eq_cstr(t.se_raw, SE_TEXT));
        assert_int_equal(t.se, SE);
        assert_true(gh_slice_eq_cstr(t.skn, v->skn ? v->skn : ""));

        size_t matched = 99;
        struct gh_slice one[1] = {S(KEY)};
        struct gh_slice two[2] = {S(OTHER_KEY), S(KEY)};
        struct gh_slice wrong[2] = {S(OTHER_KEY), GH_SLICE_EMPTY};
        assert_int_equal(gh_sas_verify(&t, one, 1, &matched), GH_OK);
        assert_int_equal(matched, 0);
        assert_int_equal(gh_sas_verify(&t, two, 2, &matched), GH_OK);
        assert_int_equal(matched, 1);
        matched = 99;
        assert_int_equal(gh_sas_verify(&t, wrong, 2, &matched), GH_ERR_AUTH);
        assert_int_equal(matched, 99);
        assert_int_equal(gh_sas_check_expiry(&t, SE, GH_SAS_SKEW_DEFAULT), GH_OK);

        switch (v->kind) {
        case DEVICE:
            assert_true(grants(v->sr, "thermostat-01", NULL));
            assert_false(grants(v->sr, "thermostat-02", NULL));
            break;
        case MODULE:
            assert_true(grants(v->sr, "edge-gw-01", "$edgeHub"));
            assert_false(grants(v->sr, "edge-gw-01", NULL));
            assert_false(grants(v->sr, "edge-gw-01", "$edgeAgent"));
            break;
        case SERVICE:
            assert_true(gh_sas_audience_is_host(S(v->sr), S(HOST)));
            assert_true(grants(v->sr, "any-device", NULL)); /* policy at hub scope */
            break;
        case DPS:
            assert_true(gh_sas_audience_is_dps_registration(S(v->sr), S("0ne00ABC123"),
                                                            S("thermostat-01")));
            assert_false(gh_sas_audience_is_dps_registration(S(v->sr), S("0ne00ABC124"),
                                                             S("thermostat-01")));
            break;
        }
    }
}

static void test_derived_key_vector(void **state)
{
    (void)state;
    char dkey[64], sig[64], tok[512];
    struct gh_writer w;
    const char *sr = "0ne00ABC123/registrations/thermostat-01";
    gh_writer_init(&w, dkey, sizeof dkey);
    assert_int_equal(gh_derive_device_key(S(GROUP_KEY), S("thermostat-01"), &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    assert_string_equal(dkey, "LTZqcA915D8rTi9ZXmz4uhUV4fD4J0iuzNxCVx3wAEY=");

    gh_writer_init(&w, sig, sizeof sig);
    assert_int_equal(gh_sas_sign(S(sr), S(SE_TEXT), S(dkey), &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    assert_string_equal(sig, "scn37UR6p+GlhXCEhUgBaUVgngOeFeXM9BAcrXUyGGo=");

    gh_writer_init(&w, tok, sizeof tok);
    assert_int_equal(gh_sas_build(S(sr), S(dkey), SE, "registration", &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    assert_string_equal(tok, "SharedAccessSignature sr=0ne00ABC123/registrations/thermostat-01&"
                             "sig=scn37UR6p%2BGlhXCEhUgBaUVgngOeFeXM9BAcrXUyGGo%3D&"
                             "skn=registration&se=1767225600");
    struct gh_sas_token t;
    assert_int_equal(parse(tok, &t), GH_OK);
    struct gh_slice derived[1] = {S(dkey)}, group[1] = {S(GROUP_KEY)};
    assert_int_equal(gh_sas_verify(&t, derived, 1, NULL), GH_OK);
    assert_int_equal(gh_sas_verify(&t, group, 1, NULL), GH_ERR_AUTH);
}

static void test_field_orders(void **state)
{
    (void)state;
    /* Node sr,sig,skn,se (V5) and C sr,sig,se,skn (V7) are vectors; docs
     * sig,se,sr: */
    assert_int_equal(parse_verify("SharedAccessSignature sig=gyOpi4zesKlTqY0Qamfft2sAVdD%2FHhsjx7RB"
                                  "ZYUfLjs%3D&se=1767225600&sr=hub.example.test%2Fdevices%2F"
                                  "thermostat-01"),
                     GH_OK);
    /* identity service sr,sig,se,skn, with upper-case keys */
    assert_int_equal(
        parse_verify("SharedAccessSignature SR=hub.example.test&SIG=ZGTG7kCaapU0VbI4x46D"
                     "%2FEPYQhsBqDbvTFouKh%2F%2FyBc%3D&Se=1767225600&SKN=iothubowner"),
        GH_OK);
    /* old C SDK with an empty &skn= */
    struct gh_sas_token t;
    char buf[512];
    snprintf(buf, sizeof buf, "%s&skn=", vectors[2].token);
    assert_int_equal(parse(buf, &t), GH_OK);
    assert_int_equal(t.skn.len, 0);
    assert_int_equal(parse_verify(buf), GH_OK);
    /* unknown keys, empty fields, several spaces */
    assert_int_equal(
        parse_verify("SharedAccessSignature   &sr=hub.example.test%2Fdevices%2F"
                     "thermostat-01&&foo=bar&sig=gyOpi4zesKlTqY0Qamfft2sAVdD%2FHhsjx7RB"
                     "ZYUfLjs%3D&x=&se=1767225600&"),
        GH_OK);
}

static void test_sig_decoding(void **state)
{
    (void)state;
    /* lower-case %2f / %3d / %2b in sig */
    assert_int_equal(
        parse_verify("SharedAccessSignature sr=hub.example.test%2Fdevices%2Fthermostat-"
                     "01&sig=gyOpi4zesKlTqY0Qamfft2sAVdD%2fHhsjx7RBZYUfLjs%3d&se="
                     "1767225600"),
        GH_OK);
    assert_int_equal(parse_verify("SharedAccessSignature sr=hub.example.test/devices/thermostat-01&"
                                  "sig=IUQ6aF%2bwv1IUMEGHefZmfyLX7ebtO6fWpOhgcWAK11E%3d&se="
                                  "1767225600"),
                     GH_OK);
    /* raw '+' stays '+', raw '=' is kept (split at the first '=') */
    assert_int_equal(parse_verify("SharedAccessSignature sr=hub.example.test/devices/thermostat-01&"
                                  "sig=IUQ6aF+wv1IUMEGHefZmfyLX7ebtO6fWpOhgcWAK11E=&se=1767225600"),
                     GH_OK);
    /* unpadded signature */
    assert_int_equal(parse_verify("SharedAccessSignature sr=hub.example.test/devices/thermostat-01&"
                                  "sig=IUQ6aF+wv1IUMEGHefZmfyLX7ebtO6fWpOhgcWAK11E&se=1767225600"),
                     GH_OK);
    /* '+' as space would break it: a space is not base64 */
    assert_int_equal(parse_verify("SharedAccessSignature sr=hub.example.test/devices/thermostat-01&"
                                  "sig=IUQ6aF wv1IUMEGHefZmfyLX7ebtO6fWpOhgcWAK11E=&se=1767225600"),
                     GH_ERR_BAD_SAS);
}

static void test_unpadded_key(void **state)
{
    (void)state;
    char sig[64];
    struct gh_writer w;
    gh_writer_init(&w, sig, sizeof sig);
    assert_int_equal(gh_sas_sign(S(vectors[0].sr), S(SE_TEXT), S(KEY_UNPADDED), &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    assert_string_equal(sig, vectors[0].sig);
    struct gh_sas_token t;
    struct gh_slice keys[1] = {S(KEY_UNPADDED)};
    assert_int_equal(parse(vectors[0].token, &t), GH_OK);
    assert_int_equal(gh_sas_verify(&t, keys, 1, NULL), GH_OK);
}

static void test_wrong_key_and_tampering(void **state)
{
    (void)state;
    struct gh_sas_token t;
    struct gh_slice other[1] = {S(OTHER_KEY)};
    assert_int_equal(parse(vectors[0].token, &t), GH_OK);
    assert_int_equal(gh_sas_verify(&t, other, 1, NULL), GH_ERR_AUTH);
    assert_int_equal(gh_sas_verify(&t, other, 0, NULL), GH_ERR_AUTH);
    uint8_t raw[32];
    for (size_t i = 0; i < sizeof raw; i++) raw[i] = (uint8_t)i;
    assert_int_equal(gh_sas_verify_key(&t, raw, sizeof raw), GH_OK);
    assert_int_equal(gh_sas_verify_key(&t, raw, sizeof raw - 1), GH_ERR_AUTH);
    /* The signature covers sr and se exactly as sent. */
    assert_int_equal(
        parse_verify("SharedAccessSignature sr=hub.example.test%2Fdevices%2Fthermostat-"
                     "02&sig=gyOpi4zesKlTqY0Qamfft2sAVdD%2FHhsjx7RBZYUfLjs%3D&se="
                     "1767225600"),
        GH_ERR_AUTH);
    assert_int_equal(
        parse_verify("SharedAccessSignature sr=hub.example.test%2Fdevices%2Fthermostat-"
                     "01&sig=gyOpi4zesKlTqY0Qamfft2sAVdD%2FHhsjx7RBZYUfLjs%3D&se="
                     "1767225601"),
        GH_ERR_AUTH);
    /* Leading zero: same value, different text, so a different signature. */
    assert_int_equal(parse(vectors[0].token, &t), GH_OK);
    assert_int_equal(parse("SharedAccessSignature sr=hub.example.test%2Fdevices%2Fthermostat-01&"
                           "sig=gyOpi4zesKlTqY0Qamfft2sAVdD%2FHhsjx7RBZYUfLjs%3D&se=01767225600",
                           &t),
                     GH_OK);
    assert_int_equal(t.se, SE);
    assert_int_equal(gh_sas_verify_key(&t, raw, sizeof raw), GH_ERR_AUTH);
}

static void test_verify_key_list(void **state)
{
    (void)state;
    struct gh_sas_token t;
    size_t matched = 99;
    assert_int_equal(parse(vectors[0].token, &t), GH_OK);
    /* absent primary skipped */
    struct gh_slice k1[2] = {GH_SLICE_EMPTY, S(KEY)};
    assert_int_equal(gh_sas_verify(&t, k1, 2, &matched), GH_OK);
    assert_int_equal(matched, 1);
    /* broken primary, good secondary */
    struct gh_slice k2[2] = {S("!!"), S(KEY)};
    assert_int_equal(gh_sas_verify(&t, k2, 2, &matched), GH_OK);
    assert_int_equal(matched, 1);
    /* broken key and no match: the stored key's problem is reported */
    struct gh_slice k3[2] = {S(OTHER_KEY), S("!!")};
    assert_int_equal(gh_sas_verify(&t, k3, 2, NULL), GH_ERR_BAD_BASE64);
    char big[200];
    memset(big, 'A', sizeof big);
    struct gh_slice k4[1] = {{(const uint8_t *)big, 196}};
    assert_int_equal(gh_sas_verify(&t, k4, 1, NULL), GH_ERR_TOO_LARGE);
}

static void test_expiry(void **state)
{
    (void)state;
    struct gh_sas_token t;
    assert_int_equal(parse(vectors[0].token, &t), GH_OK);
    assert_int_equal(gh_sas_check_expiry(&t, 0, GH_SAS_SKEW_DEFAULT), GH_OK);
    assert_int_equal(gh_sas_check_expiry(&t, -5, GH_SAS_SKEW_DEFAULT), GH_OK);
    assert_int_equal(gh_sas_check_expiry(&t, SE, GH_SAS_SKEW_DEFAULT), GH_OK);
    assert_int_equal(gh_sas_check_expiry(&t, SE + 300, GH_SAS_SKEW_DEFAULT), GH_OK);
    assert_int_equal(gh_sas_check_expiry(&t, SE + 301, GH_SAS_SKEW_DEFAULT), GH_ERR_EXPIRED);
    assert_int_equal(gh_sas_check_expiry(&t, SE, 0), GH_OK);
    assert_int_equal(gh_sas_check_expiry(&t, SE + 1, 0), GH_ERR_EXPIRED);
    assert_int_equal(gh_sas_check_expiry(&t, INT64_MAX, UINT32_MAX), GH_ERR_EXPIRED);
    /* se = 0 and se = INT64_MAX */
    t.se = 0;
    assert_int_equal(gh_sas_check_expiry(&t, INT64_MAX, UINT32_MAX), GH_ERR_EXPIRED);
    assert_int_equal(gh_sas_check_expiry(&t, 300, GH_SAS_SKEW_DEFAULT), GH_OK);
    t.se = INT64_MAX;
    assert_int_equal(gh_sas_check_expiry(&t, INT64_MAX, 0), GH_OK);
}

/* A token for V1 with the se field replaced. */
static gh_err parse_with_se(const char *se, int64_t *out)
{
    char buf[256];
    struct gh_sas_token t;
    snprintf(buf, sizeof buf,
             "SharedAccessSignature sr=a.b&sig=gyOpi4zesKlTqY0Qamfft2sAVdD%%2FHhsjx7RBZYUfLjs%%3D"
             "&se=%s",
             se);
    GH_GUARD(gh_sas_parse(S(buf), &t));
    *out = t.se;
    return GH_OK;
}

static void test_se_values(void **state)
{
    (void)state;
    int64_t se = -1;
    assert_int_equal(parse_with_se("0", &se), GH_OK);
    assert_int_equal(se, 0);
    assert_int_equal(parse_with_se("9223372036854775807", &se), GH_OK);
    assert_int_equal(se, INT64_MAX);
    assert_int_equal(parse_with_se("00000000000000000000000042", &se), GH_OK);
    assert_int_equal(se, 42);
    assert_int_equal(parse_with_se("9223372036854775808", &se), GH_ERR_BAD_SAS);
    assert_int_equal(parse_with_se("99999999999999999999", &se), GH_ERR_BAD_SAS);
    assert_int_equal(parse_with_se("", &se), GH_ERR_BAD_SAS);
    assert_int_equal(parse_with_se("-1", &se), GH_ERR_BAD_SAS);
    assert_int_equal(parse_with_se("+1", &se), GH_ERR_BAD_SAS);
    assert_int_equal(parse_with_se("12a", &se), GH_ERR_BAD_SAS);
    assert_int_equal(parse_with_se("1767225600 ", &se), GH_ERR_BAD_SAS);
    assert_int_equal(parse_with_se("1.5", &se), GH_ERR_BAD_SAS);
    assert_int_equal(se, 42);
}

#define SIG_V1 "sig=gyOpi4zesKlTqY0Qamfft2sAVdD%2FHhsjx7RBZYUfLjs%3D"

static void test_parse_errors(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "SharedAccessSignature",
        "SharedAccessSignature ",
        "SharedAccessSignature   ",
        "sr=a.b&" SIG_V1 "&se=1",
        "sharedaccesssignature sr=a.b&" SIG_V1 "&se=1",
        "SharedAccessSignaturesr=a.b&" SIG_V1 "&se=1",
        "SharedAccessSignature\tsr=a.b&" SIG_V1 "&se=1",
        " SharedAccessSignature sr=a.b&" SIG_V1 "&se=1",
        /* missing mandatory fields */
        "SharedAccessSignature " SIG_V1 "&se=1",
        "SharedAccessSignature sr=a.b&se=1",
        "SharedAccessSignature sr=a.b&" SIG_V1,
        "SharedAccessSignature sr=&" SIG_V1 "&se=1",
        "SharedAccessSignature sr=a.b&sig=&se=1",
        /* duplicates (any case) */
        "SharedAccessSignature sr=a.b&sr=a.b&" SIG_V1 "&se=1",
        "SharedAccessSignature sr=a.b&SR=a.c&" SIG_V1 "&se=1",
        "SharedAccessSignature sr=a.b&" SIG_V1 "&" SIG_V1 "&se=1",
        "SharedAccessSignature sr=a.b&" SIG_V1 "&se=1&se=1",
        "SharedAccessSignature sr=a.b&" SIG_V1 "&se=1&skn=a&skn=a",
        "SharedAccessSignature sr=a.b&" SIG_V1 "&se=1&skn=&skn=",
        /* a field without '=' */
        "SharedAccessSignature sr=a.b&" SIG_V1 "&se=1&skn",
        "SharedAccessSignature sr=a.b&" SIG_V1 "&se=1&junk",
        "SharedAccessSignature sr&" SIG_V1 "&se=1",
        /* bad signatures */
        "SharedAccessSignature sr=a.b&sig=!!!!&se=1",
        "SharedAccessSignature sr=a.b&sig=%ZZ&se=1",
        /* 31 and 33 bytes */
        "SharedAccessSignature sr=a.b&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&se=1",
        "SharedAccessSignature sr=a.b&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&se=1",
        /* non-canonical base64 (non-zero trailing bits) */
        "SharedAccessSignature sr=a.b&sig=gyOpi4zesKlTqY0Qamfft2sAVdD/Hhsjx7RBZYUfLjt=&se=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct gh_sas_token t;
        memset(&t, 0xa5, sizeof t);
        struct gh_sas_token before = t;
        if (parse(bad[i], &t) != GH_ERR_BAD_SAS) fail_msg("case %zu: %s", i, bad[i]);
        assert_memory_equal(&t, &before, sizeof t); /* untouched on error */
    }
    /* 32 zero bytes, 43 characters unpadded: accepted */
    struct gh_sas_token t;
    assert_int_equal(parse("SharedAccessSignature sr=a.b&sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                           "AAAAAA&se=1",
                           &t),
                     GH_OK);
}

static void test_length_limits(void **state)
{
    (void)state;
    static char buf[GH_SAS_TOKEN_MAX + 2];
    struct gh_sas_token t;
    /* Exactly GH_SAS_TOKEN_MAX: padded with an unknown field. */
    int n = snprintf(buf, sizeof buf, "%s&pad=", vectors[0].token);
    memset(buf + n, 'x', GH_SAS_TOKEN_MAX - (size_t)n);
    buf[GH_SAS_TOKEN_MAX] = '\0';
    assert_int_equal(parse(buf, &t), GH_OK);
    assert_int_equal(parse_verify(buf), GH_OK);
    buf[GH_SAS_TOKEN_MAX] = 'x';
    buf[GH_SAS_TOKEN_MAX + 1] = '\0';
    assert_int_equal(parse(buf, &t), GH_ERR_TOO_LARGE);

    /* sig text: 43 'A' spelled %41 plus %3D is GH_SAS_SIG_TEXT_MAX characters
     * and valid; one more character is refused. */
    char sig[GH_SAS_SIG_TEXT_MAX + 2];
    char tok[GH_SAS_SIG_TEXT_MAX + 64];
    size_t k = 0;
    for (int i = 0; i < 43; i++) k += (size_t)snprintf(sig + k, sizeof sig - k, "%%41");
    k += (size_t)snprintf(sig + k, sizeof sig - k, "%%3D");
    assert_int_equal(k, GH_SAS_SIG_TEXT_MAX);
    snprintf(tok, sizeof tok, "SharedAccessSignature sr=a.b&sig=%s&se=1", sig);
    assert_int_equal(parse(tok, &t), GH_OK);
    snprintf(tok, sizeof tok, "SharedAccessSignature sr=a.b&sig=A%s&se=1", sig);
    assert_int_equal(parse(tok, &t), GH_ERR_BAD_SAS);
}

static void test_sign_build_errors(void **state)
{
    (void)state;
    char buf[512];
    struct gh_writer w;
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sas_sign(S("a.b"), S("1"), S("not base64"), &w), GH_ERR_BAD_BASE64);
    assert_int_equal(gh_sas_sign(S("a.b"), S("1"), S(""), &w), GH_ERR_BAD_BASE64);
    char big[200];
    memset(big, 'A', sizeof big);
    assert_int_equal(
        gh_sas_sign(S("a.b"), S("1"), (struct gh_slice){(const uint8_t *)big, 196}, &w),
        GH_ERR_TOO_LARGE);
    assert_int_equal(w.len, 0);
    gh_writer_init(&w, buf, 43);
    assert_int_equal(gh_sas_sign(S("a.b"), S("1"), S(KEY), &w), GH_ERR_NOBUFS);
    assert_int_equal(w.len, 0);

    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sas_build(S(""), S(KEY), SE, NULL, &w), GH_ERR_ARG);
    assert_int_equal(gh_sas_build(S("a.b&se=2"), S(KEY), SE, NULL, &w), GH_ERR_ARG);
    assert_int_equal(gh_sas_build(S("a.b"), S(KEY), -1, NULL, &w), GH_ERR_ARG);
    assert_int_equal(gh_sas_build(S("a.b"), S("bad key"), SE, NULL, &w), GH_ERR_BAD_BASE64);
    assert_int_equal(w.len, 0);
    /* Every too-small capacity fails with NOBUFS and leaves w unchanged. */
    size_t full = strlen(vectors[4].token);
    for (size_t cap = 0; cap < full; cap++) {
        gh_writer_init(&w, buf, cap);
        assert_int_equal(gh_sas_build(S(HOST), S(KEY), SE, "iothubowner", &w), GH_ERR_NOBUFS);
        assert_int_equal(w.len, 0);
    }
    gh_writer_init(&w, buf, full);
    assert_int_equal(gh_sas_build(S(HOST), S(KEY), SE, "iothubowner", &w), GH_OK);
    assert_int_equal(w.len, full);
    /* skn "" is no skn; skn is percent-encoded */
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sas_build(S(vectors[0].sr), S(KEY), SE, "", &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    assert_string_equal(buf, vectors[0].token);
    gh_writer_init(&w, buf, sizeof buf);
    assert_int_equal(gh_sas_build(S("a.b"), S(KEY), 0, "my policy", &w), GH_OK);
    assert_int_equal(gh_writer_terminate(&w), GH_OK);
    assert_non_null(strstr(buf, "&skn=my%20policy&se=0"));
    struct gh_sas_token t;
    assert_int_equal(parse(buf, &t), GH_OK);
    assert_true(gh_slice_eq_cstr(t.skn, "my%20policy"));
    assert_int_equal(parse_verify(buf), GH_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_sign_and_build),
        cmocka_unit_test(test_vectors_verify),
        cmocka_unit_test(test_derived_key_vector),
        cmocka_unit_test(test_field_orders),
        cmocka_unit_test(test_sig_decoding),
        cmocka_unit_test(test_unpadded_key),
        cmocka_unit_test(test_wrong_key_and_tampering),
        cmocka_unit_test(test_verify_key_list),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_se_values),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_length_limits),
        cmocka_unit_test(test_sign_build_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
