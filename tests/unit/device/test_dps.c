/* DPS registration over MQTT with libgatehouse-device against the real
 * embedded provisioning service of a gatehouse hub (in-process, one event
 * loop): an individual symmetric-key enrollment, a group enrollment with a
 * derived key, an individual X.509 enrollment, and a refused key. Each
 * registered device then connects to the assigned hub and sends telemetry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "device_fixture.h"
#include "dps/dps.h"
#include "dps/dps_store.h"

/* PROTOCOL.md 2.5: a group key and its derived key for thermostat-01. */
#define KEY_GROUP                                                                                  \
    "//79/Pv6+fj39vX08/Lx8O/u7ezr6uno5+bl5OPi4eDf3t3c29rZ2NfW1dTT0tHQz87NzMvKycjHxsXEw8LBwA=="
#define KEY_IND "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_OTHER "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8="

static struct event_base *base;

static int enroll(enum gh_dps_kind kind, const char *id, const char *sym_key, const char *cert)
{
    struct gh_dps_enrollment e, out;
    memset(&e, 0, sizeof e);
    memset(&out, 0, sizeof out);
    e.kind = kind;
    snprintf(e.id, sizeof e.id, "%s", id);
    e.enabled = true;
    if (cert) {
        e.attestation = GH_DPS_ATT_X509;
        e.cert_pem[0] = fx_read_file(cert);
        if (!e.cert_pem[0]) return -1;
    } else {
        e.attestation = GH_DPS_ATT_SYMMETRIC_KEY;
        snprintf(e.primary_key, sizeof e.primary_key, "%s", sym_key);
        snprintf(e.secondary_key, sizeof e.secondary_key, "%s", KEY_OTHER);
    }
    gh_err rc = gh_dps_store_enrollment_put(gh_hub_dps_store(FX.hub), &e, NULL, &out, NULL);
    if (rc != GH_OK) fprintf(stderr, "enroll %s: %s\n", id, gh_err_name(rc));
    gh_dps_enrollment_cleanup(&e);
    gh_dps_enrollment_cleanup(&out);
    return rc == GH_OK ? 0 : -1;
}

static int group_setup(void **state)
{
    (void)state;
    if (fx_pki_setup("dps") != 0 || fx_hub_start() != 0) return -1;
    base = gh_hub_base(FX.hub);
    if (fx_issue(GH_PKI_PROFILE_DEVICE, "dps-x509-01", fx_path("d.cert.pem"),
                 fx_path("d.key.pem")) != 0)
        return -1;
    if (enroll(GH_DPS_INDIVIDUAL, "dps-sym-01", KEY_IND, NULL) != 0 ||
        enroll(GH_DPS_GROUP, "carriages", KEY_GROUP, NULL) != 0 ||
        enroll(GH_DPS_INDIVIDUAL, "dps-x509-01", NULL, fx_path("d.cert.pem")) != 0)
        return -1;
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (FX.hub) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        gh_hub_free(FX.hub);
    }
    fx_cleanup();
    return 0;
}

static void dps_opts(struct gh_device_options *o, enum gh_device_auth auth, const char *reg)
{
    memset(o, 0, sizeof *o);
    o->event_base = base;
    o->auth = auth;
    o->dps_host = FX_DPS;
    o->dps_port = FX.port;
    o->id_scope = FX_SCOPE;
    o->registration_id = reg;
    o->ca_file = FX.root_cert;
    o->connect_address = FX_ADDR;
    o->port = FX.port;
    o->backoff_min_ms = 100;
    o->backoff_max_ms = 500;
    o->dps_timeout_s = 20;
}

static bool sent_or_failed(void *a)
{
    struct fx_rec *r = a;
    return r->sent_ok + r->sent_err >= 1 || r->failed > 0;
}

/* Register, connect to the assigned hub, send one message (queued while
 * registering), check hub and device id. */
static void register_and_send(const struct gh_device_options *o, const char *want_dev)
{
    struct fx_rec r = {0};
    assert_int_equal(gh_device_client_new(o, &fx_cbs, &r, &r.c), 0);
    assert_string_equal(gh_device_client_hub(r.c), ""); /* not yet known */
    assert_int_equal(gh_device_send(r.c, "dps", 3, NULL, fx_send_done, &r), 0);
    if (!gh_test_run_until(base, sent_or_failed, &r, FX_WAIT_MS))
        fail_msg("no ack: %s (%s)", gh_device_strerror(r.last_reason), r.detail);
    assert_int_equal(r.failed, 0);
    assert_int_equal(r.provisioned, 1);
    assert_int_equal(r.sent_ok, 1);
    assert_string_equal(gh_device_client_hub(r.c), FX_HUB);
    assert_string_equal(gh_device_client_device_id(r.c), want_dev);
    gh_device_client_free(r.c);

    struct gh_identity id;
    assert_int_equal(gh_store_identity_get(gh_hub_store(FX.hub), want_dev, NULL, &id), GH_OK);
    gh_identity_wipe(&id);
}

static void test_symmetric_key(void **state)
{
    (void)state;
    struct gh_device_options o;
    dps_opts(&o, GH_DEVICE_AUTH_DPS_SYMMETRIC_KEY, "dps-sym-01");
    o.symmetric_key = KEY_IND;
    register_and_send(&o, "dps-sym-01");
}

static void test_group_key(void **state)
{
    (void)state;
    struct gh_device_options o;
    dps_opts(&o, GH_DEVICE_AUTH_DPS_GROUP_KEY, "thermostat-01");
    o.group_key = KEY_GROUP;
    register_and_send(&o, "thermostat-01");
}

static void test_x509(void **state)
{
    (void)state;
    struct gh_device_options o;
    dps_opts(&o, GH_DEVICE_AUTH_DPS_X509, "dps-x509-01");
    o.cert_file = fx_path("d.cert.pem");
    o.key_file = fx_path("d.key.pem");
    register_and_send(&o, "dps-x509-01");
}

static bool failed(void *a)
{
    return ((struct fx_rec *)a)->failed > 0;
}

static void test_refused(void **state)
{
    (void)state;
    struct gh_device_options o;
    dps_opts(&o, GH_DEVICE_AUTH_DPS_SYMMETRIC_KEY, "dps-sym-01");
    o.symmetric_key = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="; /* not enrolled */
    struct fx_rec r = {0};
    assert_int_equal(gh_device_client_new(&o, &fx_cbs, &r, &r.c), 0);
    assert_int_equal(gh_device_send(r.c, "x", 1, NULL, fx_send_done, &r), 0);
    assert_true(gh_test_run_until(base, failed, &r, FX_WAIT_MS));
    assert_int_equal(r.last_reason, GH_DEVICE_EAUTH);
    assert_int_equal(r.sent_err, 1); /* the buffered message fails with the registration */
    assert_int_equal(r.send_results[0], GH_DEVICE_ECLOSED);
    assert_int_equal(gh_device_send(r.c, "x", 1, NULL, NULL, NULL), GH_DEVICE_ECLOSED);
    assert_int_equal(gh_device_twin_get(r.c, fx_twin_done, &r), GH_DEVICE_ECLOSED);
    gh_device_client_free(r.c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symmetric_key),
        cmocka_unit_test(test_group_key),
        cmocka_unit_test(test_x509),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
