#!/usr/bin/env bash
# Renewal of the gateway's server certificate (issue 6 "Done when"): with
# [tls] server_cert_days = 1 and renew_before = 1 day - 10 s, a certificate
# is due 10 s after it was issued (the gateway refuses renew_before >=
# server_cert_days), so SIGHUP (forced) and then the periodic check (every
# minute) re-issue it from the edge CA; a connected child (the official Node
# device SDK) stays
# connected and its telemetry still reaches the hub, and a fresh connection
# gets the new certificate, which verifies against the root CA
# (openssl s_client; tests/e2e/edge/cert.mjs).
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
source "$E2E_DIR/lib/edge.sh"
echo "edge: server certificate renewal under a connected child"
hub_init "${GH_E2E_ADDR:-127.0.0.57}"
edge_init "${GH_E2E_GW_ADDR:-127.0.0.58}"
hub_start || die "hub did not start"

jv() {
  node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const v = new Function("j", "return j" + process.argv[1])(j);
    console.log(typeof v === "string" ? v : JSON.stringify(v));' "$2" <<<"$1"
}
device_cs() {
  local out
  out=$(gh_hub device create "$@" --json --show-connection-string) || die "gatehouse device create $*"
  jv "$out" .connectionString
}

GW_CS=$(device_cs gw1 --edge)
GH_CS_C1=$(device_cs c1 --parent gw1)
GH_CS_C2=$(device_cs c2 --parent gw1)
export GH_CS_C1 GH_CS_C2
EDGE_EXTRA_TOML='[tls]
server_cert_days = 1
renew_before = "23h59m50s"'
edge_config_manual "$GW_CS"
edge_start || die "gateway did not start"
edge_wait_link 1 30 || die "the gateway's link to the hub did not come up"
edge_wait_sync 0 30 || die "the gateway did not sync its children"
pass "gateway started with a 1-day server certificate"

GH_E2E_TIMEOUT=${GH_E2E_TIMEOUT:-210} run_ctl node "$E2E_DIR/edge/cert.mjs"
n=$(cat "$WORK"/edge.*.log | grep -c "event=edge.tls.renewed" || true)
[ "$n" -ge 2 ] || die "want at least 2 edge.tls.renewed log lines (SIGHUP and periodic), got $n"
pass "edge.tls.renewed logged $n times"
edge_stop
edge_sanitizer_check
