# Helpers to run a real `gatehouse hub` in an end-to-end test (sourced after
# lib.sh). The hub gets its own loopback address, so it can bind the fixed
# ports the SDKs dial (8883 MQTT, 443 HTTPS) without colliding with another
# test; its host name resolves to that address for the peers (hosts_add).
#
#   hub_init ADDR [HOST]   PKI root, config, name resolution, Node env
#   hub_start              start (or restart) it; waits until both ports accept
#   hub_stop / hub_kill9   SIGTERM (graceful) / SIGKILL (crash)
#
# Exported for the Node programs (lib/e2e.mjs): GH, GH_HUB_HOST, GH_HUB_ADDR,
# GH_PKI_DIR, GH_WORK, GH_SERVICE_CS, NODE_EXTRA_CA_CERTS.

hub_init() {
  HUB_ADDR=$1
  HUB_HOST=${2:-hub.gatehouse.test}
  HUB_DATA="$WORK/hub-data"
  HUB_CONFIG="$WORK/hub.toml"
  HUB_RUNS=0
  HUB_PID=
  export GH GH_WORK="$WORK" GH_PKI_DIR="$WORK/pki" GH_HUB_HOST="$HUB_HOST" GH_HUB_ADDR="$HUB_ADDR"
  [ -x "$GH" ] || die "no gatehouse binary at $GH (build $GH_BUILD first)"
  "$GH" pki init-root --dir "$GH_PKI_DIR" >/dev/null || die "gatehouse pki init-root failed"
  export NODE_EXTRA_CA_CERTS="$GH_PKI_DIR/certs/root.cert.pem"
  cat >"$HUB_CONFIG" <<EOF
hostname = "$HUB_HOST"
data_dir = "$HUB_DATA"

[listen]
address = "$HUB_ADDR"
mqtt_port = 8883
https_port = 443

[tls]
ca_cert = "$GH_PKI_DIR/certs/root.cert.pem"
ca_key = "$GH_PKI_DIR/private/root.key.pem"

[log]
level = "${GH_HUB_LOG_LEVEL:-info}"
EOF
  hosts_add "$HUB_HOST" "$HUB_ADDR"
}

# hub_start: run the hub (log in $WORK/hub.<n>.log); returns when MQTT and
# HTTPS accept connections and the service connection string exists.
hub_start() {
  local port
  for port in 8883 443; do
    if (exec 3<>"/dev/tcp/$HUB_ADDR/$port") 2>/dev/null; then
      echo "$HUB_ADDR:$port is already in use by another process: each test needs its own address" >&2
      return 1
    fi
  done
  HUB_RUNS=$((HUB_RUNS + 1))
  HUB_LOG="$WORK/hub.$HUB_RUNS.log"
  start_bg "$HUB_LOG" "$GH" hub --config "$HUB_CONFIG"
  HUB_PID=$LAST_PID
  wait_port "$HUB_ADDR" 8883 20 "$HUB_PID" || { hub_log_tail; return 1; }
  wait_port "$HUB_ADDR" 443 20 "$HUB_PID" || { hub_log_tail; return 1; }
  [ -s "$HUB_DATA/service-connection-string" ] || {
    echo "no $HUB_DATA/service-connection-string" >&2
    return 1
  }
  GH_SERVICE_CS=$(cat "$HUB_DATA/service-connection-string")
  export GH_SERVICE_CS
}

hub_stop() {
  [ -n "$HUB_PID" ] && stop_pid "$HUB_PID"
  HUB_PID=
}

hub_kill9() {
  [ -n "$HUB_PID" ] && kill9_pid "$HUB_PID"
  HUB_PID=
}

hub_log_tail() {
  local f
  for f in "$WORK"/hub.*.log; do
    [ -e "$f" ] || continue
    echo "---- last lines of $(basename "$f")" >&2
    tail -n "${GH_E2E_LOG_LINES:-60}" "$f" >&2
  done
}

# On a failing exit, show what the hub said.
e2e_on_fail() {
  hub_log_tail
}

# Control requests from Node programs (run_ctl): restart-hub, kill9-hub,
# stop-hub, start-hub.
ctl_restart_hub() { hub_stop && hub_start; }
ctl_kill9_hub() { hub_kill9; }
ctl_stop_hub() { hub_stop; }
ctl_start_hub() { hub_start; }
