#!/usr/bin/env bash
# Device registration with the embedded provisioning service over MQTT
# (PROTOCOL.md 4.2, A.2): enrollments made with the official
# azure-iot-provisioning-service, devices registered with
# azure-iot-provisioning-device-mqtt (symmetric key and X.509, individual and
# group), then connected to the assigned hub with azure-iot-device-mqtt
# (dps/mqtt.mjs). The DPS host name resolves to the hub's own address; the
# hub tells DPS connections apart by the TLS server name.
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
echo "dps: registration over MQTT with azure-iot-provisioning-device-mqtt"
hub_init "${GH_E2E_ADDR:-127.0.0.41}"
export GH_DPS_HOST=dps.gatehouse.test GH_DPS_ID_SCOPE=0ne00000001
hosts_add "$GH_DPS_HOST" "$HUB_ADDR"
hub_start || die "hub did not start"
[ -s "$HUB_DATA/dps-service-connection-string" ] || die "no $HUB_DATA/dps-service-connection-string"
GH_DPS_SERVICE_CS=$(cat "$HUB_DATA/dps-service-connection-string")
export GH_DPS_SERVICE_CS
run_ctl node "$E2E_DIR/dps/mqtt.mjs"
