/* gh_mqttc against the real gatehouse hub (gh_hub_new, in-process, on the
 * same event loop): a device connects with a SAS token produced by the
 * password callback, subscribes to its cloud-to-device topic, and sends a
 * QoS 1 telemetry message that the hub acknowledges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "hub/hub.h"
#include "hub/identity.h"
#include "hub/store.h"
#include "iothub/sas.h"
#include "mqttc_fixture.h"

#define HOST "hub.gatehouse.test"
#define DEV "mqttc-dev-1"

static struct gh_hub *hub;
static struct event_base *base;
static struct gh_tls_client *tls;
static uint16_t mqtt_port;
static char dev_key[GH_IDENTITY_KEY_MAX + 1];

static gh_err sas_password(void *u, char *out, size_t cap, size_t *len, int64_t *exp)
{
    struct fx_rec *r = u;
    r->password_calls++;
    int64_t se = gh_hub_now_ms() / 1000 + 3600;
    char aud[256];
    struct gh_writer w;
    gh_writer_init(&w, aud, sizeof aud);
    GH_GUARD(gh_sas_audience_encode(gh_slice_cstr(HOST), gh_slice_cstr(DEV), NULL, &w));
    GH_GUARD(gh_writer_terminate(&w));
    gh_writer_init(&w, out, cap);
    GH_GUARD(gh_sas_build(gh_slice_cstr(aud), gh_slice_cstr(dev_key), se, NULL, &w));
    *len = w.len;
    *exp = se;
    return GH_OK;
}

static int group_setup(void **state)
{
    (void)state;
    if (fx_pki_setup("hub") != 0) return -1;
    struct gh_hub_config cfg;
    struct gh_toml_error terr;
    if (gh_hub_config_load(NULL, &cfg, &terr) != GH_OK) return -1;
    snprintf(cfg.hostname, sizeof cfg.hostname, HOST);
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s/data", fx_dir);
    snprintf(cfg.listen_address, sizeof cfg.listen_address, "127.0.0.1");
    snprintf(cfg.tls_ca_cert, sizeof cfg.tls_ca_cert, "%s/pki/certs/root.cert.pem", fx_dir);
    snprintf(cfg.tls_ca_key, sizeof cfg.tls_ca_key, "%s/pki/private/root.key.pem", fx_dir);
    mqtt_port = fx_free_port("127.0.0.1");
    cfg.mqtt_port = mqtt_port;
    cfg.https_port = 0;
    char why[512] = "";
    if (gh_hub_new(&cfg, &hub, why, sizeof why) != GH_OK) {
        fprintf(stderr, "gh_hub_new: %s\n", why);
        return -1;
    }
    base = gh_hub_base(hub);
    struct gh_identity in, out;
    memset(&in, 0, sizeof in);
    snprintf(in.device_id, sizeof in.device_id, DEV);
    in.auth_type = GH_AUTH_SAS;
    if (gh_store_identity_create(gh_hub_store(hub), &in, &out) != GH_OK) return -1;
    memcpy(dev_key, out.primary_key, sizeof dev_key);
    gh_identity_wipe(&out);
    tls = fx_tls_client("pki");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    gh_tls_client_free(tls);
    if (hub) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        gh_hub_free(hub);
    }
    fx_pki_cleanup();
    return 0;
}

static bool got_suback(void *a)
{
    return ((struct fx_rec *)a)->suback_n >= 1;
}

static bool got_ack(void *a)
{
    return ((struct fx_rec *)a)->nacked >= 1;
}

static void test_device_telemetry(void **state)
{
    (void)state;
    struct gh_mqttc_options o = {
        .base = base,
        .host = "127.0.0.1",
        .port = mqtt_port,
        .server_name = HOST,
        .tls = tls,
        .client_id = DEV,
        .username = HOST "/" DEV "/?api-version=2021-04-12",
        .password = sas_password,
        .keepalive_s = 60,
        .clean_session = true,
        .window = 4,
        .backoff_min_ms = 100,
        .backoff_max_ms = 1000,
    };
    struct fx_rec r = {0};
    assert_int_equal(gh_mqttc_new(&o, &fx_cbs, &r, &r.c), GH_OK);
    assert_int_equal(gh_mqttc_start(r.c), GH_OK);
    if (!gh_test_run_until(base, fx_is_connected, &r, FX_WAIT_MS))
        fail_msg("not connected: %s (%s)", gh_err_name(r.why), r.detail);
    assert_int_equal(r.password_calls, 1);

    const char *f[] = {"devices/" DEV "/messages/devicebound/#"};
    uint8_t q = 1;
    assert_int_equal(gh_mqttc_subscribe(r.c, f, &q, 1, 3), GH_OK);
    assert_true(gh_test_run_until(base, got_suback, &r, FX_WAIT_MS));
    assert_int_equal(r.ncodes, 1);
    assert_int_equal(r.codes[0], 1);

    const char *body = "{\"temperature\":21.5}";
    assert_int_equal(
        gh_mqttc_publish(r.c, "devices/" DEV "/messages/events/", body, strlen(body), 1, 11),
        GH_OK);
    assert_true(gh_test_run_until(base, got_ack, &r, FX_WAIT_MS));
    assert_int_equal(r.acked[0], 11);
    assert_int_equal(r.disconnected, 0);
    fx_free(base, &r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_device_telemetry),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
