#!/usr/bin/env bash
# The official Node device SDK with X.509 devices (self-signed thumbprints and
# a verified tenant CA) against a real `gatehouse hub` (hub/device_x509.mjs).
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
echo "hub: X.509 devices with azure-iot-device-mqtt"
hub_init "${GH_E2E_ADDR:-127.0.0.4}"
hub_start || die "hub did not start"
run_ctl node "$E2E_DIR/hub/device_x509.mjs"
