#!/usr/bin/env bash
# The embedded provisioning service over HTTPS (PROTOCOL.md 4.4, 4.8):
# enrollments of every kind made with the official
# azure-iot-provisioning-service (service API), devices registered with
# azure-iot-provisioning-device-http (symmetric key and X.509), then connected
# to the assigned hub with azure-iot-device-mqtt (dps/https.mjs). The DPS host
# name resolves to the hub's own address; the hub tells DPS requests apart by
# the TLS server name.
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
echo "dps: registration over HTTPS with azure-iot-provisioning-device-http"
hub_init "${GH_E2E_ADDR:-127.0.0.42}"
export GH_DPS_HOST=dps.gatehouse.test GH_DPS_ID_SCOPE=0ne00000001
hosts_add "$GH_DPS_HOST" "$HUB_ADDR"
hub_start || die "hub did not start"
[ -s "$HUB_DATA/dps-service-connection-string" ] || die "no $HUB_DATA/dps-service-connection-string"
[ "$(stat -c %a "$HUB_DATA/dps-service-connection-string")" = 600 ] ||
  die "dps-service-connection-string is not mode 0600"
GH_DPS_SERVICE_CS=$(cat "$HUB_DATA/dps-service-connection-string")
export GH_DPS_SERVICE_CS
run_ctl node "$E2E_DIR/dps/https.mjs"
