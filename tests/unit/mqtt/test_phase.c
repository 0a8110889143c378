/* The phase/direction table, checked cell by cell against an independent
 * statement of MQTT 3.1.1 (who sends what, and when). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mqtt/mqtt.h"
#include "mqtt/phase.h"

/* Absolute direction of each type: C = client to server, S = server to
 * client, B = both (PUBLISH and its acks). Index = type. */
static const char sender[16] = {
    [GH_MQTT_CONNECT] = 'C',     [GH_MQTT_CONNACK] = 'S',    [GH_MQTT_PUBLISH] = 'B',
    [GH_MQTT_PUBACK] = 'B',      [GH_MQTT_PUBREC] = 'B',     [GH_MQTT_PUBREL] = 'B',
    [GH_MQTT_PUBCOMP] = 'B',     [GH_MQTT_SUBSCRIBE] = 'C',  [GH_MQTT_SUBACK] = 'S',
    [GH_MQTT_UNSUBSCRIBE] = 'C', [GH_MQTT_UNSUBACK] = 'S',   [GH_MQTT_PINGREQ] = 'C',
    [GH_MQTT_PINGRESP] = 'S',    [GH_MQTT_DISCONNECT] = 'C',
};

static bool expected(enum gh_mqtt_role role, enum gh_mqtt_phase phase, enum gh_mqtt_direction dir,
                     unsigned type)
{
    if (type < GH_MQTT_CONNECT || type > GH_MQTT_DISCONNECT) return false;
    bool client_sends = (role == GH_MQTT_ROLE_CLIENT) == (dir == GH_MQTT_OUTBOUND);
    char need = client_sends ? 'C' : 'S';
    if (sender[type] != need && sender[type] != 'B') return false;
    switch (phase) {
    case GH_MQTT_PHASE_CONNECTING:
        return type == GH_MQTT_CONNECT || type == GH_MQTT_CONNACK;
    case GH_MQTT_PHASE_CONNECTED:
        return type != GH_MQTT_CONNECT && type != GH_MQTT_CONNACK;
    case GH_MQTT_PHASE_DISCONNECTED:
        return false;
    }
    return false;
}

static void test_table(void **state)
{
    size_t allowed = 0;
    for (int role = 0; role < 2; role++)
        for (int phase = 0; phase < 3; phase++)
            for (int dir = 0; dir < 2; dir++)
                for (unsigned t = 0; t < 16; t++) {
                    bool got = gh_mqtt_packet_allowed(role, phase, dir, t);
                    bool want = expected(role, phase, dir, t);
                    if (got != want)
                        fail_msg("role %d phase %d dir %d %s: got %d", role, phase, dir,
                                 gh_mqtt_type_name(t), got);
                    allowed += got;
                }
    /* Per role: CONNECTING 1+1, CONNECTED 9 (c->s) + 8 (s->c). */
    assert_int_equal(allowed, 2 * (2 + 17));
}

static void test_spot_checks(void **state)
{
    assert_true(gh_mqtt_packet_allowed(GH_MQTT_ROLE_SERVER, GH_MQTT_PHASE_CONNECTING,
                                       GH_MQTT_INBOUND, GH_MQTT_CONNECT));
    assert_true(gh_mqtt_packet_allowed(GH_MQTT_ROLE_SERVER, GH_MQTT_PHASE_CONNECTING,
                                       GH_MQTT_OUTBOUND, GH_MQTT_CONNACK));
    assert_false(gh_mqtt_packet_allowed(GH_MQTT_ROLE_SERVER, GH_MQTT_PHASE_CONNECTING,
                                        GH_MQTT_INBOUND, GH_MQTT_PUBLISH));
    assert_true(gh_mqtt_packet_allowed(GH_MQTT_ROLE_CLIENT, GH_MQTT_PHASE_CONNECTED,
                                       GH_MQTT_OUTBOUND, GH_MQTT_SUBSCRIBE));
    assert_false(gh_mqtt_packet_allowed(GH_MQTT_ROLE_CLIENT, GH_MQTT_PHASE_CONNECTED,
                                        GH_MQTT_INBOUND, GH_MQTT_SUBSCRIBE));
    assert_false(gh_mqtt_packet_allowed(GH_MQTT_ROLE_SERVER, GH_MQTT_PHASE_DISCONNECTED,
                                        GH_MQTT_INBOUND, GH_MQTT_PUBLISH));
    /* Out-of-range arguments. */
    assert_false(gh_mqtt_packet_allowed((enum gh_mqtt_role)2, GH_MQTT_PHASE_CONNECTED,
                                        GH_MQTT_INBOUND, GH_MQTT_PUBLISH));
    assert_false(gh_mqtt_packet_allowed(GH_MQTT_ROLE_SERVER, (enum gh_mqtt_phase)3, GH_MQTT_INBOUND,
                                        GH_MQTT_PUBLISH));
    assert_false(gh_mqtt_packet_allowed(GH_MQTT_ROLE_SERVER, GH_MQTT_PHASE_CONNECTED,
                                        (enum gh_mqtt_direction)2, GH_MQTT_PUBLISH));
    assert_false(
        gh_mqtt_packet_allowed(GH_MQTT_ROLE_SERVER, GH_MQTT_PHASE_CONNECTED, GH_MQTT_INBOUND, 16));
    assert_false(gh_mqtt_packet_allowed(GH_MQTT_ROLE_SERVER, GH_MQTT_PHASE_CONNECTED,
                                        GH_MQTT_INBOUND, 1u << 20));
}

static void test_names(void **state)
{
    assert_string_equal(gh_mqtt_phase_name(GH_MQTT_PHASE_CONNECTING), "CONNECTING");
    assert_string_equal(gh_mqtt_phase_name(GH_MQTT_PHASE_CONNECTED), "CONNECTED");
    assert_string_equal(gh_mqtt_phase_name(GH_MQTT_PHASE_DISCONNECTED), "DISCONNECTED");
    assert_string_equal(gh_mqtt_phase_name((enum gh_mqtt_phase)9), "UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_spot_checks),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
