/* Which MQTT 3.1.1 packet types are legal in which connection phase and
 * direction (STYLE.md 4; s2n's handshake table). One table serves both ends:
 * the role is a runtime parameter.
 *
 * Phases:
 *   CONNECTING    before the CONNECT has been accepted (CONNACK 0x00 sent by
 *                 a server / received by a client). Only CONNECT flows client
 *                 to server and only CONNACK server to client. A client does
 *                 not pipeline packets after CONNECT (3.1.1 allows it; we do
 *                 not send them and a server framer holds them back).
 *   CONNECTED     after CONNACK 0x00: PUBLISH and its acks both ways;
 *                 SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT client to
 *                 server; SUBACK, UNSUBACK, PINGRESP server to client.
 *   DISCONNECTED  after DISCONNECT: nothing.
 *
 * Pure functions, thread-safe.
 */
#ifndef GH_MQTT_PHASE_H
#define GH_MQTT_PHASE_H

#include <stdbool.h>

enum gh_mqtt_role { GH_MQTT_ROLE_SERVER = 0, GH_MQTT_ROLE_CLIENT = 1 };

/* Relative to the role: INBOUND = received by this end. */
enum gh_mqtt_direction { GH_MQTT_INBOUND = 0, GH_MQTT_OUTBOUND = 1 };

enum gh_mqtt_phase {
    GH_MQTT_PHASE_CONNECTING = 0,
    GH_MQTT_PHASE_CONNECTED = 1,
    GH_MQTT_PHASE_DISCONNECTED = 2,
};

/* True if a packet of `type` (enum gh_mqtt_type value) may be received
 * (INBOUND) or sent (OUTBOUND) by an end of this role in this phase. False
 * for any out-of-range argument, including reserved types 0 and 15. */
bool gh_mqtt_packet_allowed(enum gh_mqtt_role role, enum gh_mqtt_phase phase,
                            enum gh_mqtt_direction direction, unsigned type);

/* "CONNECTING", "CONNECTED", "DISCONNECTED"; "UNKNOWN" otherwise. Static. */
const char *gh_mqtt_phase_name(enum gh_mqtt_phase phase);

#endif
