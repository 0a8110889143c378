#!/usr/bin/env bash
# Offline child authentication (issue 6 "Done when", docs/edge.md "Child
# authentication and the offline policy"): the gateway provisions itself
# through the hub's embedded DPS (symmetric-key individual enrollment with
# iotEdge), syncs its children, and then, with the hub stopped, a known child
# still connects; after a gateway restart with the hub still stopped it still
# does (identity.json + children.db), and a QoS 1 message it sends waits at
# the gateway until the hub is back; then a child disabled in
# the hub is refused once the gateway has synced and its open connection is
# closed (tests/e2e/edge/offline.mjs).
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
source "$E2E_DIR/lib/edge.sh"
echo "edge: offline authentication of children"
export GH_DPS_HOST=dps.gatehouse.test GH_DPS_ID_SCOPE=0ne00000001
hub_init "${GH_E2E_ADDR:-127.0.0.55}"
edge_init "${GH_E2E_GW_ADDR:-127.0.0.56}"
hub_start || die "hub did not start"

jv() {
  node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const v = new Function("j", "return j" + process.argv[1])(j);
    console.log(typeof v === "string" ? v : JSON.stringify(v));' "$2" <<<"$1"
}

echo "- the gateway provisions itself through DPS"
out=$(gh_hub enrollment create gw1 --individual --attestation symmetric-key --edge --show-keys --json) ||
  die "gatehouse enrollment create gw1 --edge"
GW_KEY=$(jv "$out" .attestation.symmetricKey.primaryKey)
if [ -z "$GW_KEY" ] || [ "$GW_KEY" = undefined ]; then die "no primary key in the enrollment: $out"; fi
edge_config_dps gw1 "$GW_KEY"
edge_start || die "gateway did not start"
edge_wait_link 1 40 || die "the gateway did not provision and connect"
[ -s "$EDGE_HOME/identity.json" ] || die "no $EDGE_HOME/identity.json after provisioning"
[ "$(stat -c %a "$EDGE_HOME/identity.json")" = 600 ] || die "identity.json is not mode 600"
out=$(gh_hub device show gw1 --json) || die "gw1 is not in the hub after provisioning"
[ "$(jv "$out" .capabilities.iotEdge)" = true ] || die "gw1 is not an IoT Edge device: $out"
out=$(gh_hub registration show gw1 --json) || die "gatehouse registration show gw1"
[ "$(jv "$out" .status)" = assigned ] || die "registration of gw1 is not assigned: $out"
pass "registered through DPS (assigned), gw1 is an iotEdge device, identity.json (0600)"

echo "- a child, synced into the gateway's cache"
out=$(gh_hub device create c1 --parent gw1 --json --show-connection-string) || die "device create c1"
GH_CS_C1=$(jv "$out" .connectionString)
export GH_CS_C1
syncs=$(edge_metric 'gatehouse_edge_identity_syncs_total{outcome="ok"}')
edge_hup
edge_wait_sync "${syncs:-0}" 30 || die "no identity sync after SIGHUP"
for ((i = 0; i < 100; i++)); do
  [ "$(edge_metric gatehouse_edge_children_known)" = 1 ] && break
  sleep 0.2
done
[ "$(edge_metric gatehouse_edge_children_known)" = 1 ] || die "c1 is not in the gateway's cache"
pass "c1 known to the gateway (children_known 1)"

GH_E2E_TIMEOUT=${GH_E2E_TIMEOUT:-210} run_ctl node "$E2E_DIR/edge/offline.mjs"
edge_stop
edge_sanitizer_check
