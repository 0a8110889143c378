#!/usr/bin/env bash
# kill -9 of a real `gatehouse hub` after PUBACK loses no telemetry and no
# queued cloud-to-device message (hub/durability.mjs drives the crash
# through run_ctl: ctl_kill9_hub, ctl_start_hub).
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
echo "hub: durability across kill -9"
hub_init "${GH_E2E_ADDR:-127.0.0.6}"
hub_start || die "hub did not start"
run_ctl node "$E2E_DIR/hub/durability.mjs"
