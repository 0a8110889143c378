/* Registry in the store: create/update/get/delete/list of devices and
 * modules, scopes, Edge system modules, statistics, connection state
 * (PROTOCOL.md 5.2, 5.3, 5.5, 6.2). Real SQLite files in a temp dir. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "store_fixture.h"

#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define TP40 "ABCDEF0123456789ABCDEF0123456789ABCDEF01"

static void test_create_get(void **state)
{
    struct fx *f = *state;
    struct gh_identity in, out, got;
    fx_identity(&in, "thermostat-01", NULL);
    assert_int_equal(gh_store_identity_create(f->s, &in, &out), GH_OK);
    assert_string_equal(out.device_id, "thermostat-01");
    assert_int_equal(strlen(out.generation_id), 18);
    assert_true(out.etag[0] != '\0');
    assert_true(gh_identity_key_valid(out.primary_key));
    assert_true(gh_identity_key_valid(out.secondary_key));
    assert_string_not_equal(out.primary_key, out.secondary_key);
    assert_int_equal(out.status, GH_IDENTITY_ENABLED);
    assert_int_equal(out.status_updated_ms, 0);
    assert_int_equal(out.conn_state, GH_CONN_DISCONNECTED);
    assert_int_equal(out.created_ms, FX_T0);
    assert_string_equal(out.device_scope, "");

    assert_int_equal(gh_store_identity_get(f->s, "thermostat-01", NULL, &got), GH_OK);
    assert_memory_equal(&got, &out, sizeof got);
    assert_int_equal(gh_store_identity_get(f->s, "thermostat-01", "", &got), GH_OK);

    /* Exists already: 409. */
    assert_int_equal(gh_store_identity_create(f->s, &in, &out), GH_ERR_CONFLICT);
    assert_string_equal(gh_store_errmsg(f->s), "device \"thermostat-01\" already exists");
    /* Not there: 404, with a message. */
    assert_int_equal(gh_store_identity_get(f->s, "nobody", NULL, &got), GH_ERR_NOT_FOUND);
    assert_string_equal(gh_store_errmsg(f->s), "device \"nobody\" is not registered");
    assert_int_equal(gh_store_identity_get(f->s, "thermostat-01", "m", &got), GH_ERR_NOT_FOUND);
    assert_string_equal(gh_store_errmsg(f->s), "module \"thermostat-01\"/\"m\" is not registered");
    /* Invalid ids never reach SQL. */
    assert_int_equal(gh_store_identity_get(f->s, "a b", NULL, &got), GH_ERR_ARG);
    assert_int_equal(gh_store_identity_get(f->s, "d", "a/b", &got), GH_ERR_ARG);
    fx_identity(&in, "", NULL);
    assert_int_equal(gh_store_identity_create(f->s, &in, &out), GH_ERR_ARG);
    assert_string_equal(gh_store_errmsg(f->s), "invalid device id");

    /* Given keys are kept; a different device gets a different generation. */
    struct gh_identity out2;
    fx_identity(&in, "d2", NULL);
    strcpy(in.primary_key, KEY_A);
    strcpy(in.secondary_key, KEY_B);
    assert_int_equal(gh_store_identity_create(f->s, &in, &out2), GH_OK);
    assert_string_equal(out2.primary_key, KEY_A);
    assert_string_not_equal(out2.generation_id, out.generation_id);
    /* Invalid key or enum from code (not JSON) is refused. */
    fx_identity(&in, "d3", NULL);
    strcpy(in.primary_key, "short");
    strcpy(in.secondary_key, KEY_B);
    assert_int_equal(gh_store_identity_create(f->s, &in, &out2), GH_ERR_ARG);
    fx_identity(&in, "d3", NULL);
    in.auth_type = (enum gh_auth_type)9;
    assert_int_equal(gh_store_identity_create(f->s, &in, &out2), GH_ERR_ARG);
    fx_identity(&in, "d3", NULL);
    in.auth_type = GH_AUTH_SELF_SIGNED;
    assert_int_equal(gh_store_identity_create(f->s, &in, &out2), GH_ERR_ARG);
    strcpy(in.primary_thumbprint, TP40);
    assert_int_equal(gh_store_identity_create(f->s, &in, &out2), GH_OK);
    assert_string_equal(out2.primary_key, "");
    assert_string_equal(out2.primary_thumbprint, TP40);
    gh_identity_wipe(&out);
}

static void test_modules(void **state)
{
    struct fx *f = *state;
    struct gh_identity in, out, list[8];
    size_t n;
    fx_identity(&in, "gw", "filter");
    assert_int_equal(gh_store_identity_create(f->s, &in, &out), GH_ERR_NOT_FOUND);
    assert_string_equal(gh_store_errmsg(f->s), "device \"gw\" is not registered");
    fx_create(f, "gw", NULL);
    strcpy(in.managed_by, "IotEdge");
    assert_int_equal(gh_store_identity_create(f->s, &in, &out), GH_OK);
    assert_string_equal(out.module_id, "filter");
    assert_string_equal(out.managed_by, "IotEdge");
    assert_int_equal(gh_store_identity_create(f->s, &in, &out), GH_ERR_CONFLICT);
    assert_string_equal(gh_store_errmsg(f->s), "module \"gw\"/\"filter\" already exists");
    fx_create(f, "gw", "alpha");
    assert_int_equal(gh_store_module_list(f->s, "gw", NULL, 0, list, 8, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].module_id, "alpha");
    assert_string_equal(list[1].module_id, "filter");
    assert_int_equal(gh_store_module_list(f->s, "gw", "alpha", 0, list, 8, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_int_equal(gh_store_module_list(f->s, "none", NULL, 0, list, 8, &n), GH_ERR_NOT_FOUND);
    /* Device listing does not show modules. */
    assert_int_equal(gh_store_identity_list(f->s, NULL, 0, list, 8, &n), GH_OK);
    assert_int_equal(n, 1);
    /* Module update: managedBy present -> changed; status is device-only. */
    struct gh_identity upd;
    fx_identity(&upd, "gw", "filter");
    upd.present = GH_IDENTITY_F_MANAGED_BY | GH_IDENTITY_F_STATUS;
    upd.status = GH_IDENTITY_DISABLED;
    assert_int_equal(gh_store_identity_update(f->s, &upd, "*", &out), GH_OK);
    assert_string_equal(out.managed_by, "");
    assert_int_equal(out.status, GH_IDENTITY_ENABLED);
    /* Deleting a module leaves the device; deleting the device takes the
     * remaining modules. */
    assert_int_equal(gh_store_identity_delete(f->s, "gw", "alpha", "*"), GH_OK);
    assert_int_equal(gh_store_identity_get(f->s, "gw", NULL, &out), GH_OK);
    assert_int_equal(gh_store_identity_delete(f->s, "gw", NULL, NULL), GH_OK);
    assert_int_equal(gh_store_identity_get(f->s, "gw", "filter", &out), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_identity_delete(f->s, "gw", "filter", "*"), GH_ERR_NOT_FOUND);
    assert_string_equal(gh_store_errmsg(f->s), "module \"gw\"/\"filter\" is not registered");
}

static void test_update(void **state)
{
    struct fx *f = *state;
    struct gh_identity in, a, b;
    fx_identity(&in, "d1", NULL);
    assert_int_equal(gh_store_identity_create(f->s, &in, &a), GH_OK);

    /* Nothing present: only the etag changes, keys are kept. */
    fx_identity(&in, "d1", NULL);
    f->now += 1000;
    assert_int_equal(gh_store_identity_update(f->s, &in, a.etag, &b), GH_OK);
    assert_string_not_equal(b.etag, a.etag);
    assert_string_equal(b.primary_key, a.primary_key);
    assert_string_equal(b.generation_id, a.generation_id);
    /* The old etag no longer matches: 412. */
    assert_int_equal(gh_store_identity_update(f->s, &in, a.etag, &a), GH_ERR_ETAG_MISMATCH);
    assert_string_equal(gh_store_errmsg(f->s), "etag does not match (If-Match)");

    /* Status change stamps statusUpdatedTime; same status does not. */
    in.present = GH_IDENTITY_F_STATUS | GH_IDENTITY_F_STATUS_REASON;
    in.status = GH_IDENTITY_DISABLED;
    strcpy(in.status_reason, "stolen");
    assert_int_equal(gh_store_identity_update(f->s, &in, "*", &a), GH_OK);
    assert_int_equal(a.status, GH_IDENTITY_DISABLED);
    assert_int_equal(a.status_updated_ms, FX_T0 + 1000);
    assert_string_equal(a.status_reason, "stolen");
    f->now += 1000;
    assert_int_equal(gh_store_identity_update(f->s, &in, NULL, &a), GH_OK);
    assert_int_equal(a.status_updated_ms, FX_T0 + 1000);

    /* sas with empty keys keeps the current keys... */
    fx_identity(&in, "d1", NULL);
    in.present = GH_IDENTITY_F_AUTH;
    assert_int_equal(gh_store_identity_update(f->s, &in, "*", &a), GH_OK);
    assert_string_equal(a.primary_key, b.primary_key);
    /* ...given keys replace them... */
    strcpy(in.primary_key, KEY_A);
    strcpy(in.secondary_key, KEY_B);
    assert_int_equal(gh_store_identity_update(f->s, &in, "*", &a), GH_OK);
    assert_string_equal(a.primary_key, KEY_A);
    /* ...another type drops them, and back to sas generates new ones. */
    fx_identity(&in, "d1", NULL);
    in.present = GH_IDENTITY_F_AUTH;
    in.auth_type = GH_AUTH_CA;
    assert_int_equal(gh_store_identity_update(f->s, &in, "*", &a), GH_OK);
    assert_string_equal(a.primary_key, "");
    assert_int_equal(a.auth_type, GH_AUTH_CA);
    in.auth_type = GH_AUTH_SAS;
    assert_int_equal(gh_store_identity_update(f->s, &in, "*", &a), GH_OK);
    assert_true(gh_identity_key_valid(a.primary_key));
    assert_string_not_equal(a.primary_key, KEY_A);
    /* Invalid auth on update. */
    in.auth_type = GH_AUTH_SELF_SIGNED;
    assert_int_equal(gh_store_identity_update(f->s, &in, "*", &b), GH_ERR_ARG);
    in.auth_type = GH_AUTH_SAS;
    in.status = (enum gh_identity_status)5;
    in.present = GH_IDENTITY_F_STATUS;
    assert_int_equal(gh_store_identity_update(f->s, &in, "*", &b), GH_ERR_ARG);
    /* Missing: 404. */
    fx_identity(&in, "ghost", NULL);
    assert_int_equal(gh_store_identity_update(f->s, &in, "*", &b), GH_ERR_NOT_FOUND);
    /* Nothing changed by the failed calls. */
    assert_int_equal(gh_store_identity_get(f->s, "d1", NULL, &b), GH_OK);
    assert_string_equal(b.etag, a.etag);
}

static void test_delete(void **state)
{
    struct fx *f = *state;
    struct gh_identity in, a;
    fx_identity(&in, "d1", NULL);
    assert_int_equal(gh_store_identity_create(f->s, &in, &a), GH_OK);
    assert_int_equal(gh_store_identity_delete(f->s, "d1", NULL, "nope"), GH_ERR_ETAG_MISMATCH);
    assert_int_equal(gh_store_identity_delete(f->s, "d1", NULL, a.etag), GH_OK);
    assert_int_equal(gh_store_identity_delete(f->s, "d1", NULL, "*"), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_identity_delete(f->s, "bad id", NULL, "*"), GH_ERR_ARG);
    /* Re-created: a new generation id. */
    struct gh_identity b;
    assert_int_equal(gh_store_identity_create(f->s, &in, &b), GH_OK);
    assert_string_not_equal(a.generation_id, b.generation_id);
}

static void test_edge_scopes(void **state)
{
    struct fx *f = *state;
    struct gh_identity in, gw, gw2, leaf, got, list[4];
    size_t n;
    char own[GH_IDENTITY_SCOPE_MAX + 1];

    fx_identity(&in, "edge-gw-01", NULL);
    in.iot_edge = true;
    assert_int_equal(gh_store_identity_create(f->s, &in, &gw), GH_OK);
    snprintf(own, sizeof own, "ms-azure-iot-edge://edge-gw-01-%s", gw.generation_id);
    assert_string_equal(gw.device_scope, own);
    assert_string_equal(gw.parent_scope, "");
    /* IoT Hub creates the system modules of an Edge device. */
    assert_int_equal(gh_store_identity_get(f->s, "edge-gw-01", "$edgeAgent", &got), GH_OK);
    assert_true(gh_identity_key_valid(got.primary_key));
    assert_int_equal(gh_store_identity_get(f->s, "edge-gw-01", "$edgeHub", &got), GH_OK);

    /* A leaf attached by deviceScope gets parentScopes = [deviceScope]. */
    fx_identity(&in, "leaf-1", NULL);
    strcpy(in.device_scope, own);
    in.present = GH_IDENTITY_F_DEVICE_SCOPE;
    assert_int_equal(gh_store_identity_create(f->s, &in, &leaf), GH_OK);
    assert_string_equal(leaf.device_scope, own);
    assert_string_equal(leaf.parent_scope, own);
    /* An unknown scope is refused. */
    fx_identity(&in, "leaf-2", NULL);
    strcpy(in.device_scope, "ms-azure-iot-edge://nobody-1");
    in.present = GH_IDENTITY_F_DEVICE_SCOPE;
    assert_int_equal(gh_store_identity_create(f->s, &in, &leaf), GH_ERR_ARG);
    assert_string_equal(gh_store_errmsg(f->s),
                        "deviceScope \"ms-azure-iot-edge://nobody-1\" is not the scope of another "
                        "IoT Edge device");
    /* A leaf's scope (not an Edge device) is not a parent either. */
    fx_create(f, "plain", NULL);

    /* Nested Edge: its own scope, parent from parentScopes. */
    fx_identity(&in, "edge-gw-02", NULL);
    in.iot_edge = true;
    strcpy(in.parent_scope, own);
    strcpy(in.device_scope, "ignored for edge devices");
    in.present = GH_IDENTITY_F_PARENT_SCOPES | GH_IDENTITY_F_DEVICE_SCOPE;
    assert_int_equal(gh_store_identity_create(f->s, &in, &gw2), GH_OK);
    assert_true(strncmp(gw2.device_scope, "ms-azure-iot-edge://edge-gw-02-", 31) == 0);
    assert_string_equal(gw2.parent_scope, own);
    /* An Edge device cannot be its own parent. */
    fx_identity(&in, "edge-gw-02", NULL);
    strcpy(in.parent_scope, gw2.device_scope);
    in.present = GH_IDENTITY_F_PARENT_SCOPES;
    assert_int_equal(gh_store_identity_update(f->s, &in, "*", &got), GH_ERR_ARG);

    assert_int_equal(gh_store_identity_list_children(f->s, own, NULL, 0, list, 4, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].device_id, "edge-gw-02");
    assert_string_equal(list[1].device_id, "leaf-1");
    assert_int_equal(gh_store_identity_list_children(f->s, "", NULL, 0, list, 4, &n), GH_OK);
    assert_int_equal(n, 0);

    /* Move the leaf under edge-gw-02 by update; absent deviceScope on a
     * later update keeps it. */
    fx_identity(&in, "leaf-1", NULL);
    strcpy(in.device_scope, gw2.device_scope);
    in.present = GH_IDENTITY_F_DEVICE_SCOPE;
    assert_int_equal(gh_store_identity_update(f->s, &in, "*", &got), GH_OK);
    assert_string_equal(got.parent_scope, gw2.device_scope);
    fx_identity(&in, "leaf-1", NULL);
    assert_int_equal(gh_store_identity_update(f->s, &in, "*", &got), GH_OK);
    assert_string_equal(got.device_scope, gw2.device_scope);
    /* Empty deviceScope detaches. */
    in.present = GH_IDENTITY_F_DEVICE_SCOPE;
    assert_int_equal(gh_store_identity_update(f->s, &in, "*", &got), GH_OK);
    assert_string_equal(got.parent_scope, "");

    /* A plain device turned Edge by update gets its scope and modules. */
    fx_identity(&in, "plain", NULL);
    in.iot_edge = true;
    in.present = GH_IDENTITY_F_CAPABILITIES;
    assert_int_equal(gh_store_identity_update(f->s, &in, "*", &got), GH_OK);
    assert_true(got.iot_edge);
    assert_true(strncmp(got.device_scope, "ms-azure-iot-edge://plain-", 26) == 0);
    assert_int_equal(gh_store_identity_get(f->s, "plain", "$edgeHub", &leaf), GH_OK);
    /* Edge turned leaf: its parent becomes its deviceScope. */
    fx_identity(&in, "edge-gw-02", NULL);
    in.present = GH_IDENTITY_F_CAPABILITIES;
    assert_int_equal(gh_store_identity_update(f->s, &in, "*", &got), GH_OK);
    assert_false(got.iot_edge);
    assert_string_equal(got.device_scope, own);
    assert_string_equal(got.parent_scope, own);
}

static void test_list_paging_and_stats(void **state)
{
    struct fx *f = *state;
    struct gh_identity list[3];
    struct gh_store_stats st;
    size_t n;
    const char *ids[] = {"e", "a", "d", "b", "c"};
    assert_int_equal(gh_store_identity_stats(f->s, &st), GH_OK);
    assert_int_equal(st.total, 0);
    for (size_t i = 0; i < 5; i++) fx_create(f, ids[i], NULL);
    fx_create(f, "a", "m1");
    struct gh_identity in, out;
    fx_identity(&in, "c", NULL);
    in.present = GH_IDENTITY_F_STATUS;
    in.status = GH_IDENTITY_DISABLED;
    assert_int_equal(gh_store_identity_update(f->s, &in, "*", &out), GH_OK);

    assert_int_equal(gh_store_identity_list(f->s, NULL, 2, list, 3, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].device_id, "a");
    assert_string_equal(list[1].device_id, "b");
    assert_int_equal(gh_store_identity_list(f->s, list[1].device_id, 2, list, 3, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].device_id, "c");
    assert_int_equal(list[0].status, GH_IDENTITY_DISABLED);
    assert_int_equal(gh_store_identity_list(f->s, "d", 0, list, 3, &n), GH_OK);
    assert_int_equal(n, 1);
    assert_string_equal(list[0].device_id, "e");
    assert_int_equal(gh_store_identity_list(f->s, "e", 0, list, 3, &n), GH_OK);
    assert_int_equal(n, 0);
    /* cap bounds the page too. */
    assert_int_equal(gh_store_identity_list(f->s, "", 100, list, 3, &n), GH_OK);
    assert_int_equal(n, 3);

    assert_int_equal(gh_store_identity_stats(f->s, &st), GH_OK);
    assert_int_equal(st.total, 5);
    assert_int_equal(st.enabled, 4);
    assert_int_equal(st.disabled, 1);
}

static void test_connection_state(void **state)
{
    struct fx *f = *state;
    struct gh_identity a, b;
    fx_create(f, "d1", NULL);
    assert_int_equal(gh_store_identity_get(f->s, "d1", NULL, &a), GH_OK);
    f->now += 5000;
    assert_int_equal(gh_store_set_connected(f->s, "d1", NULL, true, "dtmi:x:y;1"), GH_OK);
    assert_int_equal(gh_store_identity_get(f->s, "d1", NULL, &b), GH_OK);
    assert_int_equal(b.conn_state, GH_CONN_CONNECTED);
    assert_int_equal(b.conn_state_updated_ms, FX_T0 + 5000);
    assert_int_equal(b.last_activity_ms, FX_T0 + 5000);
    assert_string_equal(b.model_id, "dtmi:x:y;1");
    assert_string_equal(b.etag, a.etag); /* not a registry update */

    /* lastActivityTime moves at most once per interval. */
    f->now += GH_STORE_ACTIVITY_INTERVAL_MS - 1;
    assert_int_equal(gh_store_touch_activity(f->s, "d1", NULL), GH_OK);
    assert_int_equal(gh_store_identity_get(f->s, "d1", NULL, &b), GH_OK);
    assert_int_equal(b.last_activity_ms, FX_T0 + 5000);
    f->now += 1;
    assert_int_equal(gh_store_touch_activity(f->s, "d1", NULL), GH_OK);
    assert_int_equal(gh_store_identity_get(f->s, "d1", NULL, &b), GH_OK);
    assert_int_equal(b.last_activity_ms, f->now);
    assert_int_equal(gh_store_touch_activity(f->s, "ghost", NULL), GH_OK);

    f->now += 1000;
    assert_int_equal(gh_store_set_connected(f->s, "d1", NULL, false, NULL), GH_OK);
    assert_int_equal(gh_store_identity_get(f->s, "d1", NULL, &b), GH_OK);
    assert_int_equal(b.conn_state, GH_CONN_DISCONNECTED);
    assert_int_equal(b.conn_state_updated_ms, f->now);
    assert_string_equal(b.model_id, "dtmi:x:y;1");

    assert_int_equal(gh_store_set_connected(f->s, "ghost", NULL, true, NULL), GH_ERR_NOT_FOUND);
    assert_int_equal(gh_store_set_connected(f->s, "bad id", NULL, true, NULL), GH_ERR_ARG);
    char big[GH_IDENTITY_MODEL_ID_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(gh_store_set_connected(f->s, "d1", NULL, true, big), GH_ERR_TOO_LARGE);
    assert_int_equal(gh_store_set_connected(f->s, "d1", NULL, true, "\xff"), GH_ERR_ARG);

    /* Start-up reset. */
    fx_create(f, "d2", NULL);
    assert_int_equal(gh_store_set_connected(f->s, "d1", NULL, true, NULL), GH_OK);
    assert_int_equal(gh_store_set_connected(f->s, "d2", NULL, true, NULL), GH_OK);
    uint64_t n = 0;
    assert_int_equal(gh_store_reset_connections(f->s, &n), GH_OK);
    assert_int_equal(n, 2);
    assert_int_equal(gh_store_identity_get(f->s, "d2", NULL, &b), GH_OK);
    assert_int_equal(b.conn_state, GH_CONN_DISCONNECTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_get, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_modules, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_update, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_delete, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_edge_scopes, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_list_paging_and_stats, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_connection_state, fx_setup, fx_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
