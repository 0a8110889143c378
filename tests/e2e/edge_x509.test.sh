#!/usr/bin/env bash
# A gateway that provisions itself through DPS with an X.509 certificate
# (issue 6: "the gateway provisions itself through DPS (symmetric key or
# X.509)"; docs/edge-config.md "Provisioning", docs/dps.md). The gateway's
# certificate (CN = registration id gwx) is issued from the test root and
# enrolled individually with the iotEdge flag at the hub's embedded DPS; the
# gateway registers with it as its TLS client certificate, DPS creates the
# hub device as selfSigned with the certificate's thumbprint, and the same
# certificate then authenticates the MQTT link and the HTTPS identity sync.
# A SAS child (the official Node SDK through GatewayHostName) sends
# telemetry stamped c1; with the hub stopped the gateway restarts from
# identity.json and the child still authenticates, and what it sent while
# the hub was down arrives once the hub is back (tests/e2e/edge/x509.mjs).
# Negative: a certificate that is not enrolled makes `gatehouse edge run`
# exit non-zero with DPS's refusal in its log.
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
source "$E2E_DIR/lib/edge.sh"
echo "edge: a gateway provisioned through DPS with an X.509 certificate"
export GH_DPS_HOST=dps.gatehouse.test GH_DPS_ID_SCOPE=0ne00000001
hub_init "${GH_E2E_ADDR:-127.0.0.67}"
edge_init "${GH_E2E_GW_ADDR:-127.0.0.68}"
hub_start || die "hub did not start"

eq() { [ "$1" = "$2" ] || die "$3: got '$1', want '$2'"; }
has() { grep -qF -- "$2" <<<"$1" || die "$3: '$2' not in: $1"; }
upper() { tr a-f A-F <<<"$1"; }
# sha256_of PEM: the SHA-256 thumbprint of a certificate, upper-case hex.
sha256_of() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g'; }
# cn_of PEM: the subject's common name.
cn_of() { openssl x509 -in "$1" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p'; }

echo "- the gateway's certificate and its individual X.509 enrollment"
"$GH" pki issue-device gwx --issuer root --dir "$GH_PKI_DIR" >/dev/null || die "gatehouse pki issue-device gwx"
GWX_LEAF="$GH_PKI_DIR/certs/gwx.cert.pem"
GWX_CHAIN="$GH_PKI_DIR/certs/gwx.chain.pem"
GWX_KEY="$GH_PKI_DIR/private/gwx.key.pem"
for f in "$GWX_LEAF" "$GWX_CHAIN" "$GWX_KEY"; do [ -s "$f" ] || die "pki issue-device wrote no $f"; done
eq "$(cn_of "$GWX_LEAF")" gwx "CN of the gateway certificate"
GWX_TP=$(sha256_of "$GWX_LEAF")
out=$(gh_hub enrollment create gwx --individual --attestation x509 --cert "$GWX_LEAF" --edge --json) ||
  die "gatehouse enrollment create gwx --attestation x509 --edge: $out"
eq "$(edge_jv "$out" .registrationId)" gwx "enrollment: registration id"
eq "$(edge_jv "$out" .attestation.type)" x509 "enrollment: attestation type"
eq "$(edge_jv "$out" .capabilities.iotEdge)" true "enrollment: iotEdge"
gh_hub device show gwx >/dev/null 2>&1 && die "gwx exists in the hub before the gateway registered"
pass "gwx.chain.pem (CN gwx, SHA-256 ${GWX_TP:0:12}...) enrolled individually with iotEdge; no hub device yet"

echo "- the gateway provisions itself with the certificate and links up"
edge_config_dps_x509 gwx "$GWX_CHAIN" "$GWX_KEY"
grep -q '^method = "x509"' "$EDGE_HOME/config.toml" || die "active config.toml has no method = \"x509\""
edge_start || die "gateway did not start"
edge_wait_link 1 40 || die "the gateway did not provision and connect"
edge_wait_log 'event=edge.provision.dps.register .*registration=gwx' 1 5 ||
  die "no edge.provision.dps.register log line for gwx"
edge_wait_log 'event=edge.provision.dps.assigned .*registration=gwx .*device=gwx' 1 5 ||
  die "no edge.provision.dps.assigned log line for gwx"
IDF="$EDGE_HOME/identity.json"
[ -s "$IDF" ] || die "no $IDF after provisioning"
eq "$(stat -c %a "$IDF")" 600 "mode of identity.json"
id=$(cat "$IDF")
eq "$(edge_jv "$id" .auth)" x509 "identity.json: auth"
eq "$(edge_jv "$id" .source)" dps "identity.json: source"
eq "$(edge_jv "$id" .hub)" "$HUB_HOST" "identity.json: hub"
eq "$(edge_jv "$id" .deviceId)" gwx "identity.json: deviceId"
eq "$(edge_jv "$id" .registrationId)" gwx "identity.json: registrationId"
eq "$(edge_jv "$id" .key)" "" "identity.json: key (none for x509)"
pass "provisioned through DPS: identity.json (0600) auth x509, hub $HUB_HOST, deviceId gwx"
out=$(gh_hub registration show gwx --json) || die "gatehouse registration show gwx"
eq "$(edge_jv "$out" .status)" assigned "registration status"
eq "$(edge_jv "$out" .deviceId)" gwx "registration deviceId"
eq "$(edge_jv "$out" .assignedHub)" "$HUB_HOST" "registration assignedHub"
out=$(gh_hub device show gwx --json) || die "gwx is not in the hub after provisioning"
eq "$(edge_jv "$out" .capabilities.iotEdge)" true "hub device gwx: capabilities.iotEdge"
eq "$(edge_jv "$out" .authentication.type)" selfSigned "hub device gwx: authentication.type"
eq "$(upper "$(edge_jv "$out" .authentication.x509Thumbprint.primaryThumbprint)")" "$GWX_TP" \
  "hub device gwx: primary thumbprint = SHA-256 of the certificate"
pass "registration assigned; gwx is an iotEdge device, selfSigned with the certificate's thumbprint"
# The link is an MQTT session of gwx authenticated by its client certificate.
st=$(curl -s --max-time 5 "$GH_EDGE_METRICS/status") || die "GET /status"
eq "$(edge_jv "$st" .deviceId)" gwx "edge status: deviceId"
eq "$(edge_jv "$st" .upstream.state)" connected "edge status: upstream.state"
for ((i = 0; i < 50; i++)); do
  out=$(gh_hub device show gwx --json) || die "gatehouse device show gwx"
  [ "$(edge_jv "$out" .connectionState)" = Connected ] && break
  sleep 0.2
done
eq "$(edge_jv "$out" .connectionState)" Connected "hub device gwx: connectionState"
grep -q 'event=hub.connect identity="gwx" auth=x509' "$HUB_LOG" ||
  die "the hub logged no X.509 connect of gwx: $(grep 'event=hub.connect' "$HUB_LOG" || true)"
pass "the hub accepted the gateway's client certificate on MQTT (link up, gwx Connected)"

echo "- identity sync over HTTPS with the client certificate"
out=$(gh_hub device create c1 --parent gwx --json --show-connection-string) || die "device create c1 --parent gwx"
GH_CS_C1=$(edge_jv "$out" .connectionString)
has "$GH_CS_C1" "SharedAccessKey=" "c1 is a SAS device"
export GH_CS_C1
syncs=$(edge_metric 'gatehouse_edge_identity_syncs_total{outcome="ok"}')
edge_hup
edge_wait_sync "${syncs:-0}" 30 || die "no identity sync after SIGHUP"
edge_wait_metric gatehouse_edge_children_known 1 20 || die "c1 is not in the gateway's cache"
eq "$(edge_metric 'gatehouse_edge_identity_syncs_total{outcome="failed"}')" 0 "failed identity syncs"
pass "sync with the certificate: c1 known to the gateway (children_known 1, no failed sync)"

GH_E2E_TIMEOUT=${GH_E2E_TIMEOUT:-210} run_ctl node "$E2E_DIR/edge/x509.mjs"
# The restart with the hub stopped (x509.mjs) used the identity file, not DPS.
grep -q 'event=edge.provision.cached .*device=gwx' "$EDGE_LOG" ||
  die "the restarted gateway did not start from identity.json (no edge.provision.cached in $(basename "$EDGE_LOG"))"
grep -q 'event=edge.provision.dps.register' "$EDGE_LOG" &&
  die "the restarted gateway asked DPS although identity.json matched"
pass "the restart used identity.json (edge.provision.cached, no DPS registration)"
# After the hub came back: the link and a sync again with the certificate.
grep -q 'event=hub.connect identity="gwx" auth=x509' "$HUB_LOG" ||
  die "the restarted hub logged no X.509 connect of gwx"
edge_wait_sync 0 30 || die "the restarted gateway did not sync with the hub back"
edge_wait_log 'event=edge.sync children=1 ' 1 5 || die "no edge.sync children=1 in $(basename "$EDGE_LOG")"
pass "after the outage: link (hub.connect auth=x509) and identity sync (children=1) again"
edge_stop

echo "- a certificate that is not enrolled"
"$GH" pki issue-device gwn --issuer root --dir "$GH_PKI_DIR" >/dev/null || die "gatehouse pki issue-device gwn"
EDGE_HOME="$WORK/edge-home-gwn"
# shellcheck disable=SC2034 # read by edge_config_dps_x509 (lib/edge.sh)
EDGE_CONFIG="$WORK/edge-config-gwn.toml"
mkdir -p "$EDGE_HOME" && chmod 0700 "$EDGE_HOME"
edge_config_dps_x509 gwn "$GH_PKI_DIR/certs/gwn.chain.pem" "$GH_PKI_DIR/private/gwn.key.pem"
NEG_LOG="$WORK/edge.gwn.log"
rc=$(edge_run_fg "$NEG_LOG" 90)
case $rc in 124 | 137) die "edge run with an unenrolled certificate did not exit within 90 s" ;; esac
[ "$rc" != 0 ] || die "edge run with an unenrolled certificate exited 0: $(tail -n 5 "$NEG_LOG")"
# What it prints (src/edge/provision_dps.c http_error):
#   gatehouse: DPS refused registration 'gwn' (401 Unauthorized: wrong identity
#   certificate, or no such enrollment): <DPS message> (errorCode 401002)
msg=$(grep -F "DPS refused registration 'gwn'" "$NEG_LOG" || true)
[ -n "$msg" ] || die "no \"DPS refused registration 'gwn'\" in the log: $(tail -n 10 "$NEG_LOG")"
has "$msg" "401 Unauthorized" "DPS error names the status"
has "$msg" "identity certificate" "DPS error names the credential"
has "$msg" "no such enrollment" "DPS error names the missing enrollment"
has "$msg" "errorCode 401002" "DPS error carries DPS's errorCode"
eq "$rc" 8 "exit status of edge run (8: unauthorized, docs/cli.md)"
[ -e "$EDGE_HOME/identity.json" ] && die "identity.json written although provisioning failed"
gh_hub device show gwn >/dev/null 2>&1 && die "hub device gwn exists although it is not enrolled"
grep -q 'event=dps.register.denied .*registration="gwn"' "$HUB_LOG" ||
  die "no dps.register.denied for gwn in the hub's log"
pass "not enrolled: edge run exits $rc: ${msg#*: }"

edge_sanitizer_check
