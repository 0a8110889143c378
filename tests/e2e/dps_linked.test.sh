#!/usr/bin/env bash
# The provisioning service on its own with linked hubs (docs/dps.md "Linked
# hubs"): three real `gatehouse hub` processes, the provisioning one
# (dps.standalone = true) on 127.0.0.44 and two linked hubs on 127.0.0.45
# (hub B) and 127.0.0.46 (hub C). Enrollments are made with
# azure-iot-provisioning-service; devices register with
# azure-iot-provisioning-device (MQTT and HTTP), connect to the hub they were
# assigned with azure-iot-device-mqtt, and their telemetry is read back from
# that hub (dps/linked.mjs). A linked hub that is paused or down makes its
# registrations fail while the other hub's still succeed.
source "$(dirname "$0")/lib/lib.sh"
echo "dps: standalone provisioning service with two linked hubs"
PROV_ADDR=${GH_E2E_ADDR:-127.0.0.44}
B_ADDR=${GH_E2E_ADDR_B:-127.0.0.45}
C_ADDR=${GH_E2E_ADDR_C:-127.0.0.46}
PROV_HOST=prov-hub.gatehouse.test
B_HOST=hub-b.gatehouse.test
C_HOST=hub-c.gatehouse.test
export GH GH_WORK="$WORK" GH_PKI_DIR="$WORK/pki"
[ -x "$GH" ] || die "no gatehouse binary at $GH (build $GH_BUILD first)"
"$GH" pki init-root --dir "$GH_PKI_DIR" >/dev/null || die "gatehouse pki init-root failed"
export NODE_EXTRA_CA_CERTS="$GH_PKI_DIR/certs/root.cert.pem"

# hub_config NAME HOST ADDR: the common part of a hub's config.
hub_config() {
  cat >"$WORK/$1.toml" <<EOF
hostname = "$2"
data_dir = "$WORK/$1-data"

[listen]
address = "$3"
mqtt_port = 8883
https_port = 443

[tls]
ca_cert = "$GH_PKI_DIR/certs/root.cert.pem"
ca_key = "$GH_PKI_DIR/private/root.key.pem"

[log]
level = "${GH_HUB_LOG_LEVEL:-info}"
EOF
}

declare -A PID ADDR RUNS
# start NAME: run hub NAME (log $WORK/NAME.<n>.log) and wait for its ports.
start() {
  local n=$1 a=${ADDR[$1]} port
  for port in 8883 443; do
    if (exec 3<>"/dev/tcp/$a/$port") 2>/dev/null; then
      echo "$a:$port is already in use: each test needs its own addresses" >&2
      return 1
    fi
  done
  RUNS[$n]=$((${RUNS[$n]:-0} + 1))
  start_bg "$WORK/$n.${RUNS[$n]}.log" "$GH" hub --config "$WORK/$n.toml"
  PID[$n]=$LAST_PID
  wait_port "$a" 8883 20 "${PID[$n]}" && wait_port "$a" 443 20 "${PID[$n]}"
}
stop() { [ -n "${PID[$1]:-}" ] && stop_pid "${PID[$1]}"; PID[$1]=; }
e2e_on_fail() {
  local f
  for f in "$WORK"/*.log; do
    [ -e "$f" ] || continue
    echo "---- last lines of $(basename "$f")" >&2
    tail -n "${GH_E2E_LOG_LINES:-40}" "$f" >&2
  done
}
ctl_stop_hub_c() { stop c; }
ctl_start_hub_c() { start c; }
ctl_pause_hub_c() { kill -STOP "${PID[c]}"; }
ctl_resume_hub_c() { kill -CONT "${PID[c]}"; }
# ctl verify-ca-c NAME CA: prove possession of CA (pki name) on hub C, as its operator would.
ctl_verify_ca_c() {
  "$GH" ca verify "$1" --ca-key "$GH_PKI_DIR/private/$2.key.pem" --ca-cert "$GH_PKI_DIR/certs/$2.cert.pem" \
    --data-dir "$WORK/c-data" --address "$C_ADDR" --ca "$GH_PKI_DIR/certs/root.cert.pem" >/dev/null
}
# ctl ca-add-c NAME CA: upload CA (pki name) to hub C unverified, as by hand.
ctl_ca_add_c() {
  "$GH" ca add "$1" --cert "$GH_PKI_DIR/certs/$2.cert.pem" \
    --data-dir "$WORK/c-data" --address "$C_ADDR" --ca "$GH_PKI_DIR/certs/root.cert.pem" >/dev/null
}
# ctl ca-verified-c NAME: hub C holds CA record NAME, verified.
ctl_ca_verified_c() {
  "$GH" ca show "$1" --json --data-dir "$WORK/c-data" --address "$C_ADDR" \
    --ca "$GH_PKI_DIR/certs/root.cert.pem" | grep -q '"isVerified": *true'
}
# ctl log-has NAME TEXT: hub NAME's current log mentions TEXT.
ctl_log_has() { grep -qF -- "$2" "$WORK/$1.${RUNS[$1]}.log"; }

ADDR[b]=$B_ADDR
ADDR[c]=$C_ADDR
ADDR[a]=$PROV_ADDR
hub_config b "$B_HOST" "$B_ADDR"
hub_config c "$C_HOST" "$C_ADDR"
cat >>"$WORK/b.toml" <<EOF
[dps]
enabled = false
EOF
cat >>"$WORK/c.toml" <<EOF
[dps]
enabled = false
EOF
start b || die "hub B did not start"
start c || die "hub C did not start"
B_CS=$(cat "$WORK/b-data/service-connection-string")
C_CS=$(cat "$WORK/c-data/service-connection-string")

hub_config a "$PROV_HOST" "$PROV_ADDR"
cat >>"$WORK/a.toml" <<EOF
[dps]
hostname = "dps.gatehouse.test"
id_scope = "0ne00000044"
standalone = true
linked_timeout = "3s"

[[dps.linked_hubs]]
connection_string = "$B_CS"
address = "$B_ADDR"

[[dps.linked_hubs]]
connection_string = "$C_CS"
address = "$C_ADDR"
EOF

# A bad entry is refused with its file:line before anything starts.
sed 's/^address = "'"$C_ADDR"'"$/address = "hub-c.gatehouse.test"/' "$WORK/a.toml" >"$WORK/bad.toml"
if out=$("$GH" hub --config "$WORK/bad.toml" --check-config 2>&1); then die "bad linked hub address accepted"; fi
grep -q "bad.toml:[0-9]*:[0-9]*: dps.linked_hubs\[1\].address" <<<"$out" || die "no file:line error: $out"
pass "a linked hub address that is not an IP literal is refused with file:line"

start a || die "provisioning hub did not start"
grep -q "linked_hubs=2 standalone=1" "$WORK/a.1.log" || die "provisioning hub did not report its linked hubs"
pass "three hubs running, the provisioning one standalone with two linked hubs"

hosts_add dps.gatehouse.test "$PROV_ADDR"
hosts_add "$PROV_HOST" "$PROV_ADDR"
hosts_add "$B_HOST" "$B_ADDR"
hosts_add "$C_HOST" "$C_ADDR"
export GH_DPS_HOST=dps.gatehouse.test GH_DPS_ID_SCOPE=0ne00000044 GH_PROV_HOST="$PROV_HOST"
export GH_DPS_SERVICE_CS
GH_DPS_SERVICE_CS=$(cat "$WORK/a-data/dps-service-connection-string")
export GH_HUB_B_HOST="$B_HOST" GH_HUB_C_HOST="$C_HOST" GH_HUB_B_CS="$B_CS" GH_HUB_C_CS="$C_CS"
# lib/e2e.mjs helpers default to hub B.
export GH_HUB_HOST="$B_HOST" GH_SERVICE_CS="$B_CS"
GH_E2E_TIMEOUT=${GH_E2E_TIMEOUT:-240} run_ctl node "$E2E_DIR/dps/linked.mjs"

# A clean stop of the provisioning hub joins its worker.
stop a
grep -q "hub.signal" "$WORK/a.1.log" || die "provisioning hub did not log its shutdown"
pass "provisioning hub stopped cleanly"
