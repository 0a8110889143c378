#!/usr/bin/env bash
# Routes in the gateway (issue 7, docs/routes.md): $upstream, a LocalTopic
# sink read by an independent consumer (mosquitto_sub on the gateway's local
# MQTT endpoint, also while the hub is stopped) and an AppendFile sink; a
# route with a syntax error refused by `gatehouse edge config apply` with
# file:line:column; a changed route reloaded without dropping the child's
# connection; per-route metrics (tests/e2e/edge/routes.mjs).
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
source "$E2E_DIR/lib/edge.sh"
echo "edge: routes to the hub, a local topic and a file"
command -v mosquitto_sub >/dev/null || die "mosquitto_sub is not installed (mosquitto-clients)"
hub_init "${GH_E2E_ADDR:-127.0.0.65}"
edge_init "${GH_E2E_GW_ADDR:-127.0.0.66}"
hub_start || die "hub did not start"

echo "- identities at the hub"
GW_CS=$(edge_device_cs gw1 --edge)
GH_CS_R1=$(edge_device_cs r1 --parent gw1)
export GH_CS_R1
pass "gw1 (edge), r1 (child)"

echo "- gateway with routes and the local endpoint"
if (exec 3<>"/dev/tcp/$EDGE_ADDR/1883") 2>/dev/null; then die "$EDGE_ADDR:1883 is already in use"; fi
# shellcheck disable=SC2034 # read by edge_config_common (lib/edge.sh)
EDGE_EXTRA_TOML=$(cat <<TOML
[routes]
upstream = "FROM /messages/* WHERE NOT IS_DEFINED(\$connectionModuleId) INTO \$upstream"
alerts = { route = "FROM /messages/* WHERE \$body.temperature > 60 INTO LocalTopic(\\"site/alerts\\")", priority = 0 }
audit = "FROM /messages/* WHERE level = 'critical' INTO AppendFile(\\"critical.jsonl\\")"

[local]
address = "$EDGE_ADDR"
mqtt_port = 1883
TOML
)
edge_config_manual "$GW_CS"
export GH_EDGE_CONFIG="$EDGE_CONFIG"
edge_start || die "gateway did not start"
wait_port "$EDGE_ADDR" 1883 10 "$EDGE_PID" || die "no local MQTT endpoint on $EDGE_ADDR:1883"
edge_wait_link 1 30 || die "the gateway's link to the hub did not come up"
edge_wait_sync 0 30 || die "the gateway did not sync its children"
edge_wait_metric gatehouse_edge_children_known 1 20 || die "the gateway does not know r1"
grep -E 'event=edge\.route ' "$EDGE_LOG" | sed 's/^/    /'
[ "$(grep -cE 'event=edge\.route ' "$EDGE_LOG")" = 3 ] || die "the gateway did not log 3 routes"
pass "gateway started with 3 routes, local endpoint on $EDGE_ADDR:1883"

GH_E2E_TIMEOUT=${GH_E2E_TIMEOUT:-260} run_ctl node "$E2E_DIR/edge/routes.mjs" || die "routes.mjs failed"
edge_stop
edge_sanitizer_check
