#!/usr/bin/env bash
# The hub's live telemetry stream for service applications, with MQTT.js
# (tests/e2e/hub/service_stream.mjs).
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
echo "hub: live telemetry stream for service applications"
hub_init "${GH_E2E_ADDR:-127.0.0.7}"
hub_start || die "hub did not start"
run_ctl node "$E2E_DIR/hub/service_stream.mjs"
