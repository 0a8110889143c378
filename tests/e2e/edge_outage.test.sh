#!/usr/bin/env bash
# The zero-loss outage test (issue 7 "Done when"): a real `gatehouse hub`, a
# real `gatehouse edge` and three official-SDK children (azure-iot-device-mqtt
# through GatewayHostName) sending QoS 1 telemetry steadily. The hub is
# stopped, the children keep sending (the gateway PUBACKs: the message is on
# disk), the gateway is killed with SIGKILL mid-stream and restarted without
# the hub, the children reconnect, authenticate offline and keep sending; the
# hub comes back and the gateway drains at once. Every message whose
# sendEvent resolved is at the hub's read path, first occurrences in order
# per device, duplicates counted by message id, nothing else; messages of a
# route with time_to_live = "2s" that waited longer never arrive and are
# counted as expired (tests/e2e/edge/outage.mjs).
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
source "$E2E_DIR/lib/edge.sh"
echo "edge: zero-loss outage (hub stopped, gateway SIGKILLed, offline restart)"
hub_init "${GH_E2E_ADDR:-127.0.0.61}"
edge_init "${GH_E2E_GW_ADDR:-127.0.0.62}"
hub_start || die "hub did not start"

echo "- identities at the hub"
GW_CS=$(edge_device_cs gw1 --edge)
GH_CS_D1=$(edge_device_cs d1 --parent gw1)
GH_CS_D2=$(edge_device_cs d2 --parent gw1)
GH_CS_D3=$(edge_device_cs d3 --parent gw1)
export GH_CS_D1 GH_CS_D2 GH_CS_D3
pass "gw1 (edge), children d1 d2 d3"

echo "- gateway with a short-TTL route"
# Messages with the application property ttl=short take the 2 s route; all
# others the default TTL. (A message matching both would get the longer TTL:
# docs/routes.md, deduplication rule.)
# shellcheck disable=SC2034 # read by edge_config_common (lib/edge.sh)
EDGE_EXTRA_TOML=$(cat <<'TOML'
[routes]
upstream = "FROM /messages/* WHERE NOT IS_DEFINED(ttl) INTO $upstream"
short = { route = "FROM /messages/* WHERE ttl = 'short' INTO $upstream", time_to_live = "2s" }

[store_and_forward]
time_to_live = "1h"
TOML
)
edge_config_manual "$GW_CS"
edge_start || die "gateway did not start"
edge_wait_link 1 30 || die "the gateway's link to the hub did not come up"
edge_wait_sync 0 30 || die "the gateway did not sync its children"
edge_wait_metric gatehouse_edge_children_known 3 20 || die "the gateway does not know d1 d2 d3"
grep -m1 -E 'edge\.store\.open' "$EDGE_LOG" | sed 's/^/    /'
pass "gateway started, link up, 3 children known"

GH_E2E_TIMEOUT=${GH_E2E_TIMEOUT:-300} run_ctl node "$E2E_DIR/edge/outage.mjs" ||
  die "outage.mjs failed"

echo "- the store after the crash"
# The second gateway process opened the queue the SIGKILLed one left: its
# edge.store.open line says what it recovered (a torn tail is allowed after
# SIGKILL, a corrupt record is not).
line=$(grep -m1 -E 'edge\.store\.open' "$WORK/edge.2.log" || true)
[ -n "$line" ] || die "no edge.store.open line in edge.2.log"
echo "    $line"
case $line in
  *" corrupt=0 "*) pass "queue reopened after SIGKILL without corrupt records" ;;
  *) die "queue reopened after SIGKILL with corrupt records: $line" ;;
esac
edge_stop
edge_sanitizer_check
