#!/usr/bin/env bash
# The `gatehouse edge` management commands (docs/edge-config.md, docs/cli.md)
# against a real `gatehouse hub`: config apply (writes the active config
# 0600, refuses a bad file and leaves the active one unchanged), status and
# stop when the gateway is not running (also with a stale pid file), logs
# (tail, -n, -f until SIGINT), version, and check: [ok] for TLS to the hub's
# MQTT and HTTPS ports, [fail] with advice for a wrong trust bundle.
# Then the daemon: start, status, config apply (reload / restart), restart,
# stop.
# Every wait is bounded; the hub is stopped by PID.
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
echo "edge-cli: gatehouse edge config|status|stop|logs|check|version"
hub_init "${GH_E2E_ADDR:-127.0.0.51}"
hub_start || die "hub did not start"
ROOT_CA="$GH_PKI_DIR/certs/root.cert.pem"
"$GH" pki issue-ca edge-ca --dir "$GH_PKI_DIR" >/dev/null || die "pki issue-ca edge-ca failed"
EDGE_HOME="$WORK/edge-home"
export GATEHOUSE_EDGE_HOME="$EDGE_HOME"
KEY=$(head -c 32 /dev/urandom | base64)

# run WANT CMD...: run CMD; stdout in $OUT, stderr in $ERR; exit status WANT.
run() {
  local want=$1 rc=0
  shift
  OUT=$("$@" 2>"$WORK/stderr") || rc=$?
  ERR=$(cat "$WORK/stderr")
  [ "$rc" = "$want" ] || die "exit $rc, want $want: ${*:2} -- stderr: $ERR -- stdout: ${OUT:0:800}"
}
has() {
  case "$1" in *"$2"*) ;; *) die "$3: no '$2' in: ${1:0:1500}" ;; esac
}
hasnt() {
  case "$1" in *"$2"*) die "$3: '$2' in: ${1:0:1500}" ;; esac
}

# write_config FILE TRUST [EXTRA]: a manual-provisioning gateway config.
write_config() {
  cat >"$1" <<EOF
hostname = "edge.gatehouse.test"
trust_bundle_cert = "file://$2"

[edge_ca]
cert = "file://$GH_PKI_DIR/certs/edge-ca.chain.pem"
pk = "$GH_PKI_DIR/private/edge-ca.key.pem"

[provisioning]
source = "manual"
iothub_hostname = "$HUB_HOST"
device_id = "edge-cli-01"

[provisioning.authentication]
method = "sas"
device_id_pk = { value = "$KEY" }

[listen]
address = "127.0.0.52"

[metrics]
address = "127.0.0.52"
port = 9600

[hosts]
"$HUB_HOST" = "$HUB_ADDR"
${3:-}
EOF
}

# ---- config apply ----------------------------------------------------------
CFG="$WORK/config.toml"
write_config "$CFG" "$ROOT_CA"
run 0 "$GH" edge config apply -c "$CFG"
has "$OUT" "wrote $EDGE_HOME/config.toml" "config apply output"
has "$OUT" "not running" "config apply without daemon"
cmp -s "$CFG" "$EDGE_HOME/config.toml" || die "active config differs from the applied file"
[ "$(stat -c %a "$EDGE_HOME/config.toml")" = 600 ] || die "active config is not mode 0600"
pass "config apply writes the active config (0600)"

cp "$EDGE_HOME/config.toml" "$WORK/active.before"
printf 'hostname = "edge.gatehouse.test"\n[listen]\n  mqtt_prot = 1\n' >"$WORK/bad.toml"
run 3 "$GH" edge config apply -c "$WORK/bad.toml"
has "$ERR" "$WORK/bad.toml:3:3:" "unknown key position"
has "$ERR" "listen.mqtt_prot" "unknown key name"
write_config "$WORK/bad2.toml" "$ROOT_CA" '[cache]
sync_interval = "10m"
max_age = "1m"'
run 3 "$GH" edge config apply -c "$WORK/bad2.toml"
has "$ERR" "cache.max_age" "cross-option check"
sed 's/^pk = .*/pk = "pkcs11:object=edge-ca"/' "$CFG" >"$WORK/bad3.toml"
run 3 "$GH" edge config apply -c "$WORK/bad3.toml"
has "$ERR" "$WORK/bad3.toml:6:6:" "pkcs11 position"
has "$ERR" "pkcs11" "pkcs11 refused"
mkdir -p "$WORK/elsewhere"
sed "s|^pk = .*|pk = \"edge-ca.key.pem\"|" "$CFG" >"$WORK/elsewhere/rel.toml"
run 3 "$GH" edge config apply -c "$WORK/elsewhere/rel.toml"
has "$ERR" "relative path" "relative path refused"
run 4 "$GH" edge config apply -c "$WORK/missing.toml"
cmp -s "$WORK/active.before" "$EDGE_HOME/config.toml" || die "a refused file changed the active config"
pass "config apply refuses bad files (file:line:column, exit 3/4) and keeps the active config"

# ---- not running: status, stop, stale pid file ------------------------------
run 5 "$GH" edge status
has "$ERR" "gatehouse edge is not running (no pid file / process gone)" "status not running"
run 0 "$GH" edge stop
has "$OUT" "not running" "stop when not running"
sleep 0 &
DEAD=$!
wait "$DEAD"
echo "$DEAD" >"$EDGE_HOME/edge.pid"
run 5 "$GH" edge status
has "$ERR" "not running" "status with a stale pid file"
run 0 "$GH" edge stop
has "$OUT" "stale pid file" "stop removes a stale pid file"
[ ! -e "$EDGE_HOME/edge.pid" ] || die "stale pid file left behind"
pass "status/stop when not running (exit 5 / 0), stale pid file removed"

# ---- logs -------------------------------------------------------------------
run 4 "$GH" edge logs
has "$ERR" "no log at $EDGE_HOME/edge.log" "logs without a log"
printf 'line one\nline two\nline three\n' >"$EDGE_HOME/edge.log"
run 0 "$GH" edge logs -n 2
[ "$OUT" = $'line two\nline three' ] || die "logs -n 2 printed: $OUT"
run 0 "$GH" edge logs
has "$OUT" "line one" "logs default tail"
run 2 "$GH" edge logs -n x
"$GH" edge logs -f -n 1 >"$WORK/follow.out" 2>&1 &
FOLLOW=$!
PIDS+=("$FOLLOW")
for ((i = 0; i < 100; i++)); do grep -q "line three" "$WORK/follow.out" && break; sleep 0.1; done
echo "line four" >>"$EDGE_HOME/edge.log"
for ((i = 0; i < 100; i++)); do grep -q "line four" "$WORK/follow.out" && break; sleep 0.1; done
grep -q "line four" "$WORK/follow.out" || die "logs -f did not print an appended line"
kill -INT "$FOLLOW"
rc=0
wait "$FOLLOW" || rc=$?
[ "$rc" = 0 ] || die "logs -f exit $rc after SIGINT"
pass "logs: tail, -n, -f follows and stops on SIGINT"

# ---- version ----------------------------------------------------------------
run 0 "$GH" edge version
has "$OUT" "gatehouse " "version"
has "$OUT" "not provisioned yet" "version before provisioning"
pass "version"

# ---- check ------------------------------------------------------------------
run 0 "$GH" edge check
has "$OUT" "[ok]   config:" "check config"
has "$OUT" "[ok]   edge CA: certificate and key readable and matching" "check edge CA"
has "$OUT" "[ok]   hub MQTT: TLS handshake with $HUB_HOST:8883 verified" "check hub MQTT"
has "$OUT" "[ok]   hub HTTPS: TLS handshake with $HUB_HOST:443 verified" "check hub HTTPS"
has "$OUT" "[ok]   clock: within" "check clock against the hub's Date"
hasnt "$OUT" "[fail]" "check with a good config"
pass "check: [ok] for config, edge CA, hub TLS (MQTT and HTTPS), clock"

"$GH" pki init-root --dir "$WORK/other-pki" >/dev/null || die "second root failed"
write_config "$CFG" "$WORK/other-pki/certs/root.cert.pem"
run 0 "$GH" edge config apply -c "$CFG"
run 4 "$GH" edge check
has "$OUT" "[fail] hub MQTT: TLS handshake with $HUB_HOST:8883" "check wrong bundle (MQTT)"
has "$OUT" "[fail] hub HTTPS: TLS handshake with $HUB_HOST:443" "check wrong bundle (HTTPS)"
has "$OUT" "-> the server's certificate does not chain to trust_bundle_cert" "check advice"
pass "check: [fail] with advice for a wrong trust bundle (exit 4)"
write_config "$CFG" "$ROOT_CA"
run 0 "$GH" edge config apply -c "$CFG"

# ---- the daemon -------------------------------------------------------------
daemon_tests() {
  run 0 "$GH" edge start
  has "$OUT" "started gatehouse edge (pid" "start"
  local pid
  pid=$(cat "$EDGE_HOME/edge.pid")
  kill -0 "$pid" || die "daemon $pid not running"
  PIDS+=("$pid")
  run 0 "$GH" edge start
  has "$OUT" "already running (pid $pid)" "start twice"
  wait_port 127.0.0.52 9600 20 "$pid" || die "status endpoint did not open"
  run 0 "$GH" edge status
  has "$OUT" "upstream:" "status summary"
  has "$OUT" "children:" "status summary"
  run 0 "$GH" edge status --json
  has "$OUT" '"deviceId"' "status --json"
  # Only reloadable options changed: SIGHUP, same pid.
  write_config "$CFG" "$ROOT_CA" '[log]
level = "debug"'
  run 0 "$GH" edge config apply -c "$CFG"
  has "$OUT" "reloaded the running gateway (pid $pid" "config apply reload"
  [ "$(cat "$EDGE_HOME/edge.pid")" = "$pid" ] || die "reload restarted the daemon"
  # A listener change: restart.
  write_config "$CFG" "$ROOT_CA" '[limits]
max_children = 10'
  run 0 "$GH" edge config apply -c "$CFG"
  has "$OUT" "restarting the running gateway (pid $pid): limits.max_children changed" "restart"
  local pid2
  pid2=$(cat "$EDGE_HOME/edge.pid")
  [ "$pid2" != "$pid" ] || die "config apply did not restart"
  PIDS+=("$pid2")
  run 0 "$GH" edge restart
  has "$OUT" "started gatehouse edge" "restart"
  PIDS+=("$(cat "$EDGE_HOME/edge.pid")")
  run 0 "$GH" edge logs -n 5
  run 0 "$GH" edge stop
  has "$OUT" "stopped gatehouse edge" "stop"
  run 5 "$GH" edge status
  pass "daemon: start, status, reload, restart, stop"
}
daemon_tests
hub_stop
echo "edge-cli: all passed"
