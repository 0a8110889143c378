#!/usr/bin/env bash
# The official Node device SDK with a SAS device against a real `gatehouse hub`:
# telemetry with properties, cloud-to-device, twin, direct methods, token
# renewal and reconnect after a hub restart (tests/e2e/hub/device_sas.mjs).
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
echo "hub: SAS device with azure-iot-device-mqtt"
hub_init "${GH_E2E_ADDR:-127.0.0.3}"
hub_start || die "hub did not start"
run_ctl node "$E2E_DIR/hub/device_sas.mjs"
