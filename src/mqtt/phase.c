#include "mqtt/phase.h"

#include <stdint.h>

#include "mqtt/mqtt.h"

#define BIT(t) (1u << (t))
#define PHASE_COUNT 3u
#define TYPE_LIMIT 16u

/* PUBLISH and its acknowledgements flow both ways once connected. */
#define PUBLISH_FLOW                                                                               \
    (BIT(GH_MQTT_PUBLISH) | BIT(GH_MQTT_PUBACK) | BIT(GH_MQTT_PUBREC) | BIT(GH_MQTT_PUBREL) |      \
     BIT(GH_MQTT_PUBCOMP))

/* Bit t set: type t is legal client -> server in that phase. */
static const uint16_t client_to_server[PHASE_COUNT] = {
    [GH_MQTT_PHASE_CONNECTING] = BIT(GH_MQTT_CONNECT),
    [GH_MQTT_PHASE_CONNECTED] = PUBLISH_FLOW | BIT(GH_MQTT_SUBSCRIBE) | BIT(GH_MQTT_UNSUBSCRIBE) |
                                BIT(GH_MQTT_PINGREQ) | BIT(GH_MQTT_DISCONNECT),
    [GH_MQTT_PHASE_DISCONNECTED] = 0,
};

/* Bit t set: type t is legal server -> client in that phase. */
static const uint16_t server_to_client[PHASE_COUNT] = {
    [GH_MQTT_PHASE_CONNECTING] = BIT(GH_MQTT_CONNACK),
    [GH_MQTT_PHASE_CONNECTED] =
        PUBLISH_FLOW | BIT(GH_MQTT_SUBACK) | BIT(GH_MQTT_UNSUBACK) | BIT(GH_MQTT_PINGRESP),
    [GH_MQTT_PHASE_DISCONNECTED] = 0,
};

bool gh_mqtt_packet_allowed(enum gh_mqtt_role role, enum gh_mqtt_phase phase,
                            enum gh_mqtt_direction direction, unsigned type)
{
    if (role != GH_MQTT_ROLE_SERVER && role != GH_MQTT_ROLE_CLIENT) return false;
    if (direction != GH_MQTT_INBOUND && direction != GH_MQTT_OUTBOUND) return false;
    if ((unsigned)phase >= PHASE_COUNT || type >= TYPE_LIMIT) return false;
    bool to_server = (role == GH_MQTT_ROLE_SERVER) == (direction == GH_MQTT_INBOUND);
    const uint16_t *table = to_server ? client_to_server : server_to_client;
    return (table[phase] & BIT(type)) != 0;
}

const char *gh_mqtt_phase_name(enum gh_mqtt_phase phase)
{
    switch (phase) {
    case GH_MQTT_PHASE_CONNECTING:
        return "CONNECTING";
    case GH_MQTT_PHASE_CONNECTED:
        return "CONNECTED";
    case GH_MQTT_PHASE_DISCONNECTED:
        return "DISCONNECTED";
    }
    return "UNKNOWN";
}
