#!/usr/bin/env bash
# The transparent gateway end to end (issue 6 "Done when"): a real
# `gatehouse hub`, a real `gatehouse edge` provisioned from a connection
# string, and the official Node device SDK as children connecting with
# GatewayHostName: telemetry, twin, direct methods and C2D through the
# gateway, connection state in the registry, a device that is not a child
# refused, a tenant-CA X.509 child accepted, a tenant CA appended to the
# trust bundle taking effect on SIGHUP, metrics and `edge status`
# (tests/e2e/edge/gateway.mjs).
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
source "$E2E_DIR/lib/edge.sh"
echo "edge: children through the gateway with azure-iot-device-mqtt"
hub_init "${GH_E2E_ADDR:-127.0.0.53}"
edge_init "${GH_E2E_GW_ADDR:-127.0.0.54}"
hub_start || die "hub did not start"

# jv JSON EXPR: a value of JSON (EXPR like '.a.b'); strings bare, else JSON.
jv() {
  node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const v = new Function("j", "return j" + process.argv[1])(j);
    console.log(typeof v === "string" ? v : JSON.stringify(v));' "$2" <<<"$1"
}
# device_cs ID ARGS...: create a device at the hub, print its connection string.
device_cs() {
  local out
  out=$(gh_hub device create "$@" --json --show-connection-string) || die "gatehouse device create $*"
  jv "$out" .connectionString
}

echo "- identities at the hub"
GW_CS=$(device_cs gw1 --edge)
GH_CS_C1=$(device_cs c1 --parent gw1)
GH_CS_S1=$(device_cs s1)
device_cs gw2 --edge >/dev/null
GH_CS_O1=$(device_cs o1 --parent gw2)
# The X.509 child: a device certificate from a tenant CA that is registered
# and verified at the hub, and appended to the gateway's trust bundle.
"$GH" pki issue-device x1 --issuer tenant-ca --dir "$GH_PKI_DIR" >/dev/null || die "pki issue-device x1"
gh_hub ca add tenant --cert "$GH_PKI_DIR/certs/tenant-ca.cert.pem" >/dev/null || die "gatehouse ca add"
gh_hub ca verify tenant --ca-key "$GH_PKI_DIR/private/tenant-ca.key.pem" >/dev/null || die "gatehouse ca verify"
GH_CS_X1=$(device_cs x1 --auth x509-ca --parent gw1)
export GH_CS_C1 GH_CS_S1 GH_CS_O1 GH_CS_X1
export GH_X1_CERT="$GH_PKI_DIR/certs/x1.chain.pem" GH_X1_KEY="$GH_PKI_DIR/private/x1.key.pem"
# A second tenant CA under its own root (a CA the gateway's trust bundle does
# not lead to: any CA issued by the test root is already trusted through the
# root), verified at the hub; ctl trust-add-tenant2 appends it to the trust
# bundle (atomically) and sends SIGHUP.
PKI2="$WORK/pki-tenant2"
"$GH" pki init-root --dir "$PKI2" --cn "tenant2 root" >/dev/null || die "pki init-root (tenant2)"
"$GH" pki issue-device x2 --issuer root --dir "$PKI2" >/dev/null || die "pki issue-device x2"
gh_hub ca add tenant2 --cert "$PKI2/certs/root.cert.pem" >/dev/null || die "gatehouse ca add tenant2"
gh_hub ca verify tenant2 --ca-key "$PKI2/private/root.key.pem" >/dev/null || die "gatehouse ca verify tenant2"
GH_CS_X2=$(device_cs x2 --auth x509-ca --parent gw1)
export GH_CS_X2 GH_X2_CERT="$PKI2/certs/x2.chain.pem" GH_X2_KEY="$PKI2/private/x2.key.pem"
ctl_trust_add_tenant2() {
  cat "$WORK/trust.pem" "$PKI2/certs/root.cert.pem" >"$WORK/trust.pem.new" &&
    mv "$WORK/trust.pem.new" "$WORK/trust.pem" && edge_hup
}
pass "gw1 (edge), c1 (SAS child), x1 and x2 (tenant-CA children), s1 (no parent), o1 (child of gw2)"

echo "- gateway"
edge_config_manual "$GW_CS"
edge_start || die "gateway did not start"
edge_wait_link 1 30 || die "the gateway's link to the hub did not come up"
edge_wait_sync 0 30 || die "the gateway did not sync its children"
pass "gateway started, link up, identity cache synced"

run_ctl node "$E2E_DIR/edge/gateway.mjs"
edge_stop
edge_sanitizer_check
