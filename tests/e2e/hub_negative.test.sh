#!/usr/bin/env bash
# Negative tests against a real `gatehouse hub` with independent clients:
# MQTT.js and mosquitto_pub/mosquitto_sub (hub/negative.mjs), and the TLS
# endpoints with `openssl s_client`.
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
echo "hub: refused connections, topics, sizes and certificates"
hub_init "${GH_E2E_ADDR:-127.0.0.5}"
hub_start || die "hub did not start"

failed=0
check() { if eval "$2"; then pass "$1"; else echo "  FAIL: $1" >&2; failed=1; fi; }
# s_client ARGS...: one TLS handshake with the hub's name (SNI and host name
# check), trusting only the test root; prints what openssl said.
s_client() {
  timeout 10 openssl s_client -connect "$HUB_ADDR:$1" -servername "$HUB_HOST" \
    -verify_hostname "$HUB_HOST" -CAfile "$NODE_EXTRA_CA_CERTS" -verify_return_error "${@:2}" </dev/null 2>&1
}
echo "- openssl s_client"
out=$(s_client 8883 -brief) || true
check "MQTT port: certificate chains to the root and names $HUB_HOST" 'grep -q "Verification: OK" <<<"$out"'
out=$(s_client 443 -brief) || true
check "HTTPS port: certificate chains to the root and names $HUB_HOST" 'grep -q "Verification: OK" <<<"$out"'
out=$(timeout 10 openssl s_client -connect "$HUB_ADDR:8883" -servername "$HUB_HOST" \
  -verify_hostname other.gatehouse.test -CAfile "$NODE_EXTRA_CA_CERTS" -verify_return_error -brief </dev/null 2>&1) || true
check "MQTT port: certificate does not name other.gatehouse.test" '! grep -q "Verification: OK" <<<"$out"'
# A client able to speak TLS 1.1 (no system policy, security level 0) is refused.
out=$(OPENSSL_CONF=/dev/null s_client 8883 -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' -brief) || true
check "MQTT port: TLS 1.1 refused with a protocol_version alert" \
  '! grep -q "Protocol version: TLSv1.1" <<<"$out" && grep -qi "alert protocol version" <<<"$out"'
out=$(s_client 8883 -tls1_2 -brief) || true
check "MQTT port: TLS 1.2 accepted" 'grep -q "Protocol version: TLSv1.2" <<<"$out"'
out=$(s_client 8883 -tls1_3 -msg) || true
check "MQTT port: the server requests a client certificate (TLS 1.3 CertificateRequest)" 'grep -q "CertificateRequest" <<<"$out"'
out=$(s_client 8883 -tls1_2 -msg) || true
check "MQTT port: the server requests a client certificate (TLS 1.2 CertificateRequest)" 'grep -q "CertificateRequest" <<<"$out"'

rc=0
run_ctl node "$E2E_DIR/hub/negative.mjs" || rc=$?
[ "$failed" = 0 ] && [ "$rc" = 0 ]
