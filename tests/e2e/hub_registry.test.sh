#!/usr/bin/env bash
# The official Node service SDK (azure-iothub) against a real `gatehouse hub`:
# Registry CRUD, modules, twins, method errors, error mapping, and the REST
# extensions (C2D queue, CA certificates, service tokens) (hub/registry.mjs).
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
echo "hub: service REST API with azure-iothub"
hub_init "${GH_E2E_ADDR:-127.0.0.2}"
hub_start || die "hub did not start"
run_ctl node "$E2E_DIR/hub/registry.mjs"
