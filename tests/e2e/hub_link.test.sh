#!/usr/bin/env bash
# The hub side of the gateway link (docs/edge-link.md) against a real
# `gatehouse hub`: MQTT.js plays the gateway, multiplexing its children as
# $gh/c/{C}/ frames; devices are made with the gatehouse CLI
# (tests/e2e/hub/link.mjs).
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
echo "hub: gateway link (children multiplexed over one MQTT connection)"
hub_init "${GH_E2E_ADDR:-127.0.0.8}"
hub_start || die "hub did not start"
run_ctl node "$E2E_DIR/hub/link.mjs"
