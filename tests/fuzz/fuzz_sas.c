/* Fuzz the SAS token parser, signature check, expiry and audience parser.
 *
 * Oracles beyond "no crash": a parsed token's slices lie inside the input;
 * audiences respect their documented shape; and any input used as the sr of
 * a token built by gh_sas_build parses back to exactly that sr and verifies
 * with the key that signed it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iothub/sas.h"

#define KEY "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define OTHER_KEY "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
    if (!cond) abort();
}

static int inside(struct gh_slice s, const uint8_t *data, size_t size)
{
    return s.len == 0 ||
           (s.ptr >= data && s.len <= size && s.ptr - data <= (ptrdiff_t)(size - s.len));
}

static void fuzz_audience(struct gh_slice sr)
{
    static uint8_t scratch[GH_SAS_AUDIENCE_SCRATCH(GH_SAS_AUDIENCE_MAX)];
    struct gh_writer w;
    struct gh_sas_audience a;
    gh_writer_init(&w, scratch, sizeof scratch);
    gh_err rc = gh_sas_audience_parse(sr, &w, &a);
    if (rc == GH_OK) {
        check(a.count >= 1 && a.count <= GH_SAS_AUDIENCE_MAX_SEGMENTS);
        check(a.once[0].len > 0);
        for (size_t i = 0; i < a.count; i++) check(a.twice[i].len <= a.once[i].len);
        check(w.len <= GH_SAS_AUDIENCE_SCRATCH(sr.len));
    } else {
        check(rc == GH_ERR_BAD_SAS || rc == GH_ERR_TOO_LARGE || rc == GH_ERR_TOO_MANY);
        check(w.len == 0);
    }
    struct gh_slice hosts[2] = {gh_slice_cstr("hub.example.test"),
                                gh_slice_cstr("edge-gw-01.example.test")};
    struct gh_slice module = gh_slice_cstr("$edgeHub");
    int g1 = gh_sas_audience_grants_device(sr, hosts, 2, gh_slice_cstr("edge-gw-01"), &module);
    int g2 = gh_sas_audience_grants_device(sr, hosts, 2, gh_slice_cstr("edge-gw-01"), NULL);
    /* a device-level grant implies the grant for its modules */
    check(!g2 || g1);
    check(!g1 || rc == GH_OK);
    (void)gh_sas_audience_is_dps_registration(sr, gh_slice_cstr("0ne00ABC123"),
                                              gh_slice_cstr("thermostat-01"));
    (void)gh_sas_audience_is_host(sr, hosts[0]);
}

static void roundtrip(struct gh_slice sr)
{
    static uint8_t buf[GH_SAS_AUDIENCE_MAX + 256];
    struct gh_writer w;
    struct gh_sas_token t;
    if (sr.len == 0 || sr.len > GH_SAS_AUDIENCE_MAX || memchr(sr.ptr, '&', sr.len)) return;
    gh_writer_init(&w, buf, sizeof buf);
    check(gh_sas_build(sr, gh_slice_cstr(KEY), 1767225600, "registration", &w) == GH_OK);
    check(gh_sas_parse(gh_writer_slice(&w), &t) == GH_OK);
    check(gh_slice_eq(t.sr, sr));
    check(t.se == 1767225600);
    check(gh_slice_eq_cstr(t.skn, "registration"));
    struct gh_slice keys[2] = {gh_slice_cstr(OTHER_KEY), gh_slice_cstr(KEY)};
    size_t matched = 9;
    check(gh_sas_verify(&t, keys, 2, &matched) == GH_OK && matched == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gh_slice in = {data, size};
    struct gh_sas_token t;
    gh_err rc = gh_sas_parse(in, &t);
    if (rc == GH_OK) {
        check(inside(t.sr, data, size) && inside(t.se_raw, data, size) &&
              inside(t.skn, data, size));
        check(t.sr.len > 0 && t.se_raw.len > 0 && t.se >= 0);
        struct gh_slice keys[2] = {gh_slice_cstr(KEY), GH_SLICE_EMPTY};
        rc = gh_sas_verify(&t, keys, 2, NULL);
        check(rc == GH_OK || rc == GH_ERR_AUTH);
        rc = gh_sas_check_expiry(&t, 1767225600, GH_SAS_SKEW_DEFAULT);
        check(rc == GH_OK || rc == GH_ERR_EXPIRED);
        fuzz_audience(t.sr);
    } else {
        check(rc == GH_ERR_BAD_SAS || rc == GH_ERR_TOO_LARGE);
        fuzz_audience(in);
    }
    roundtrip(in);
    return 0;
}
