# Helpers to run a real `gatehouse edge` (the transparent gateway) next to a
# real `gatehouse hub` in an end-to-end test (sourced after lib.sh and
# hub.sh; call hub_init first). The gateway gets its own loopback address
# (children dial it on 8883, its metrics/status endpoint is on 9600 there)
# and its host name resolves to it for the Node children (hosts_add).
#
#   edge_init ADDR [HOST]        edge CA + tenant CA, trust bundle, home dir
#   edge_config_manual CS        config.toml with [provisioning] source = "manual"
#   edge_config_dps REG_ID KEY   config.toml with source = "dps" (the hub's DPS)
#   edge_start / edge_stop       run `gatehouse edge run --home` / SIGTERM it
#   edge_hup                     SIGHUP (reload: trust bundle, cert, sync)
#   edge_metric NAME             one value of GET /metrics (NAME with labels)
#   edge_wait_sync [N]           until more than N successful identity syncs
#   edge_wait_link [0|1]         until gatehouse_edge_upstream_connected is 0/1
#   gh_hub CMD...                the gatehouse management CLI against the hub
#
# $EDGE_EXTRA_TOML is appended to every config written (e.g. a [tls] table).
# Exported for the Node programs (tests/e2e/edge/edge.mjs): GH_GW_HOST,
# GH_GW_ADDR, GH_EDGE_HOME, GH_EDGE_METRICS, GH_ROOT_CA, GH_TRUST_BUNDLE,
# GH_HUB_DATA, GH_EDGE_PID (the running gateway).

EDGE_EXTRA_TOML=${EDGE_EXTRA_TOML:-}

edge_init() {
  EDGE_ADDR=$1
  EDGE_HOST=${2:-gw.gatehouse.test}
  EDGE_HOME="$WORK/edge-home"
  EDGE_CONFIG="$WORK/edge-config.toml"
  EDGE_METRICS_PORT=9600
  EDGE_RUNS=0
  EDGE_PID=
  ROOT_CA="$GH_PKI_DIR/certs/root.cert.pem"
  mkdir -p "$EDGE_HOME"
  chmod 0700 "$EDGE_HOME"
  "$GH" pki issue-ca edge-ca --dir "$GH_PKI_DIR" >/dev/null || die "gatehouse pki issue-ca edge-ca failed"
  "$GH" pki issue-ca tenant-ca --dir "$GH_PKI_DIR" >/dev/null || die "gatehouse pki issue-ca tenant-ca failed"
  "$GH" pki bundle --ca-only --dir "$GH_PKI_DIR" --out "$WORK/trust.pem" root tenant-ca >/dev/null ||
    die "gatehouse pki bundle (trust bundle) failed"
  hosts_add "$EDGE_HOST" "$EDGE_ADDR"
  export GH_GW_HOST="$EDGE_HOST" GH_GW_ADDR="$EDGE_ADDR" GH_EDGE_HOME="$EDGE_HOME"
  export GH_EDGE_METRICS="http://$EDGE_ADDR:$EDGE_METRICS_PORT"
  export GH_ROOT_CA="$ROOT_CA" GH_TRUST_BUNDLE="$WORK/trust.pem" GH_HUB_DATA="$HUB_DATA"
}

# gh_hub CMD...: the management CLI against the test hub (service connection
# string from its data dir, its address, the test root CA).
gh_hub() {
  "$GH" "$@" --data-dir "$HUB_DATA" --address "$HUB_ADDR" --ca "$ROOT_CA"
}

# The common part of config.toml (everything but [provisioning]).
edge_config_common() {
  cat <<EOF
hostname = "$EDGE_HOST"
trust_bundle_cert = "file://$WORK/trust.pem"

[edge_ca]
cert = "file://$GH_PKI_DIR/certs/edge-ca.chain.pem"
pk = "file://$GH_PKI_DIR/private/edge-ca.key.pem"

[listen]
address = "$EDGE_ADDR"
mqtt_port = 8883

[metrics]
address = "$EDGE_ADDR"
port = $EDGE_METRICS_PORT

[upstream]
mqtt_port = 8883
https_port = 443
backoff_min = "1s"
backoff_max = "2s"

[cache]
sync_interval = "10s"

[log]
level = "${GH_EDGE_LOG_LEVEL:-info}"

[hosts]
"$HUB_HOST" = "$HUB_ADDR"
"${GH_DPS_HOST:-dps.gatehouse.test}" = "$HUB_ADDR"
EOF
  [ -z "$EDGE_EXTRA_TOML" ] || printf '\n%s\n' "$EDGE_EXTRA_TOML"
}

# edge_apply: make $EDGE_CONFIG the active configuration with
# `gatehouse edge config apply` and check that it landed in the home dir.
edge_apply() {
  local out rc=0
  out=$("$GH" edge config apply -c "$EDGE_CONFIG" --home "$EDGE_HOME" 2>&1) || rc=$?
  [ "$rc" = 0 ] || die "gatehouse edge config apply -c $EDGE_CONFIG --home $EDGE_HOME: exit $rc: $out"
  [ -s "$EDGE_HOME/config.toml" ] || die "config apply wrote no $EDGE_HOME/config.toml"
  [ "$(stat -c %a "$EDGE_HOME/config.toml")" = 600 ] ||
    die "active config.toml has mode $(stat -c %a "$EDGE_HOME/config.toml"), want 600"
}

# edge_config_manual CONNECTION_STRING: manual provisioning.
edge_config_manual() {
  {
    edge_config_common
    cat <<EOF

[provisioning]
source = "manual"
connection_string = "$1"
EOF
  } >"$EDGE_CONFIG"
  edge_apply
}

# edge_config_dps REGISTRATION_ID SYMMETRIC_KEY: provisioning through the
# DPS embedded in the test hub (individual symmetric-key enrollment).
edge_config_dps() {
  {
    edge_config_common
    cat <<EOF

[provisioning]
source = "dps"
global_endpoint = "https://${GH_DPS_HOST:-dps.gatehouse.test}/"
id_scope = "${GH_DPS_ID_SCOPE:-0ne00000001}"

[provisioning.attestation]
method = "symmetric_key"
registration_id = "$1"
symmetric_key = { value = "$2" }
EOF
  } >"$EDGE_CONFIG"
  edge_apply
}

# edge_start: run the gateway in the foreground (log in $WORK/edge.<n>.log);
# returns when the children's port and the metrics port accept connections.
edge_start() {
  local port
  for port in 8883 "$EDGE_METRICS_PORT"; do
    if (exec 3<>"/dev/tcp/$EDGE_ADDR/$port") 2>/dev/null; then
      echo "$EDGE_ADDR:$port is already in use by another process: each test needs its own address" >&2
      return 1
    fi
  done
  EDGE_RUNS=$((EDGE_RUNS + 1))
  EDGE_LOG="$WORK/edge.$EDGE_RUNS.log"
  start_bg "$EDGE_LOG" "$GH" edge run --home "$EDGE_HOME"
  EDGE_PID=$LAST_PID
  export GH_EDGE_PID=$EDGE_PID
  wait_port "$EDGE_ADDR" 8883 30 "$EDGE_PID" || { edge_log_tail; return 1; }
  wait_port "$EDGE_ADDR" "$EDGE_METRICS_PORT" 10 "$EDGE_PID" || { edge_log_tail; return 1; }
}

edge_stop() {
  [ -n "$EDGE_PID" ] && stop_pid "$EDGE_PID"
  EDGE_PID=
}

edge_hup() {
  [ -n "$EDGE_PID" ] && kill -HUP "$EDGE_PID"
}

# edge_metric NAME: the value of the sample NAME (with its labels, exactly as
# exposed, e.g. 'gatehouse_edge_identity_syncs_total{outcome="ok"}'); empty
# when the endpoint does not answer or has no such sample.
# Never fails (set -e, pipefail): awk reads to the end, since a reader that
# stops early makes curl fail with a write error (exit 23).
edge_metric() {
  { curl -s --max-time 5 "http://$EDGE_ADDR:$EDGE_METRICS_PORT/metrics" 2>/dev/null || true; } |
    awk -v n="$1" '$1 == n && !seen { print $2; seen = 1 }'
}

# edge_wait_sync [N] [SECONDS]: until the gateway counted more than N
# successful identity syncs (default 0: the first one).
edge_wait_sync() {
  local n=${1:-0} secs=${2:-30} i v
  for ((i = 0; i < secs * 5; i++)); do
    v=$(edge_metric 'gatehouse_edge_identity_syncs_total{outcome="ok"}')
    if [ -n "$v" ] && [ "$v" -gt "$n" ]; then return 0; fi
    kill -0 "$EDGE_PID" 2>/dev/null || { echo "gateway exited while waiting for a sync" >&2; return 1; }
    sleep 0.2
  done
  echo "timeout: no identity sync (> $n ok) within $secs s (last: '${v:-}')" >&2
  return 1
}

# edge_wait_link [STATE] [SECONDS]: until gatehouse_edge_upstream_connected = STATE.
edge_wait_link() {
  local want=${1:-1} secs=${2:-30} i v
  for ((i = 0; i < secs * 5; i++)); do
    v=$(edge_metric gatehouse_edge_upstream_connected)
    [ "$v" = "$want" ] && return 0
    kill -0 "$EDGE_PID" 2>/dev/null || { echo "gateway exited while waiting for its link" >&2; return 1; }
    sleep 0.2
  done
  echo "timeout: upstream_connected is '${v:-}', want $want after $secs s" >&2
  return 1
}

edge_log_tail() {
  local f
  for f in "$WORK"/edge.*.log; do
    [ -e "$f" ] || continue
    echo "---- last lines of $(basename "$f")" >&2
    tail -n "${GH_E2E_LOG_LINES:-60}" "$f" >&2
  done
}

# edge_sanitizer_check: no AddressSanitizer/UBSan report in any daemon log.
edge_sanitizer_check() {
  local f
  for f in "$WORK"/edge.*.log "$WORK"/hub.*.log; do
    [ -e "$f" ] || continue
    if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$f"; then
      grep -m 5 -E -A 12 "ERROR: (Address|Leak)Sanitizer|runtime error:" "$f" >&2
      die "sanitizer report in $(basename "$f")"
    fi
  done
  pass "no sanitizer reports in the daemon logs"
}

# On a failing exit, show what the hub and the gateway said.
e2e_on_fail() {
  hub_log_tail
  edge_log_tail
}

# Control requests from Node programs (run_ctl), besides hub.sh's.
ctl_edge_stop() { edge_stop; }
ctl_edge_start() { edge_start; }
ctl_edge_restart() { edge_stop && edge_start; }
ctl_edge_hup() { edge_hup; }
ctl_edge_wait_sync() { edge_wait_sync "$@"; }
ctl_edge_wait_link() { edge_wait_link "$@"; }
# ctl_device_disable ID / ctl_device_enable ID: status change at the hub.
ctl_device_disable() { gh_hub device update "$1" --status disabled >/dev/null; }
ctl_device_enable() { gh_hub device update "$1" --status enabled >/dev/null; }

# ---- store-and-forward tests (edge_outage, edge_corrupt, edge_routes) -------
#
#   edge_kill9                  SIGKILL the gateway (a crash) and reap it
#   edge_jv JSON EXPR           a value of JSON ('.a.b'); strings bare
#   edge_device_cs ID ARGS...   create a device at the hub, print its connection string
#   edge_wait_metric NAME VALUE [SECONDS]   until the sample NAME equals VALUE
#   edge_wait_log PATTERN [COUNT] [SECONDS] until the current gateway log has
#                               COUNT lines matching PATTERN (grep -E)
#   edge_queue_dir              the gateway's queue directory (<data_dir>/queue)

edge_kill9() {
  [ -n "$EDGE_PID" ] && kill9_pid "$EDGE_PID"
  EDGE_PID=
}

edge_jv() {
  node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const v = new Function("j", "return j" + process.argv[1])(j);
    console.log(typeof v === "string" ? v : JSON.stringify(v));' "$2" <<<"$1"
}

edge_device_cs() {
  local out
  out=$(gh_hub device create "$@" --json --show-connection-string) || die "gatehouse device create $*"
  edge_jv "$out" .connectionString
}

edge_wait_metric() {
  local name=$1 want=$2 secs=${3:-30} i v
  for ((i = 0; i < secs * 5; i++)); do
    v=$(edge_metric "$name")
    [ "$v" = "$want" ] && return 0
    kill -0 "$EDGE_PID" 2>/dev/null || { echo "gateway exited while waiting for $name" >&2; return 1; }
    sleep 0.2
  done
  echo "timeout: $name is '${v:-}', want $want after $secs s" >&2
  return 1
}

edge_wait_log() {
  local pat=$1 count=${2:-1} secs=${3:-20} i n=0
  for ((i = 0; i < secs * 5; i++)); do
    n=$(grep -cE -- "$pat" "$EDGE_LOG" 2>/dev/null || true)
    [ "${n:-0}" -ge "$count" ] && return 0
    sleep 0.2
  done
  echo "timeout: $count lines matching '$pat' in $(basename "$EDGE_LOG") (have ${n:-0}) after $secs s" >&2
  return 1
}

edge_queue_dir() {
  echo "$EDGE_HOME/queue"
}

ctl_edge_kill9() { edge_kill9; }
ctl_edge_wait_metric() { edge_wait_metric "$@"; }
ctl_edge_wait_log() { edge_wait_log "$@"; }

# ---- X.509 gateway (edge_x509) ------------------------------------------------
#
#   edge_config_dps_x509 REG_ID CERT KEY  config.toml with source = "dps" and
#                               [provisioning.attestation] method = "x509"
#                               (CERT: chain PEM, leaf first; KEY: its key)
#   edge_run_fg LOG [SECONDS]   run `gatehouse edge run --home` in the
#                               foreground, bounded (default 90 s); prints
#                               its exit status (124: it was still running)

edge_config_dps_x509() {
  {
    edge_config_common
    cat <<EOF2

[provisioning]
source = "dps"
global_endpoint = "https://${GH_DPS_HOST:-dps.gatehouse.test}/"
id_scope = "${GH_DPS_ID_SCOPE:-0ne00000001}"

[provisioning.attestation]
method = "x509"
registration_id = "$1"
identity_cert = "file://$2"
identity_pk = "file://$3"
EOF2
  } >"$EDGE_CONFIG"
  edge_apply
}

edge_run_fg() {
  local log=$1 secs=${2:-90} rc=0
  timeout -k 5 "$secs" "$GH" edge run --home "$EDGE_HOME" >"$log" 2>&1 </dev/null || rc=$?
  echo "$rc"
}
