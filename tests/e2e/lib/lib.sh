# Shared helpers for tests/e2e/*.test.sh (sourced). Every wait is bounded;
# every server a test starts is stopped by PID on exit.
set -euo pipefail
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=$(cd "$E2E_DIR/../.." && pwd)
GH_BUILD=${GH_BUILD:-build/release}
case "$GH_BUILD" in /*) ;; *) GH_BUILD="$ROOT/$GH_BUILD" ;; esac
GH="$GH_BUILD/src/cli/gatehouse"
export NODE_PATH="$E2E_DIR/node_modules"
export NODE_OPTIONS="--require $E2E_DIR/lib/hosts.cjs"
WORK=$(mktemp -d /tmp/gh-e2e.XXXXXX)
PIDS=()
e2e_cleanup() {
  local status=$? pid
  if [ "$status" != 0 ] && declare -F e2e_on_fail >/dev/null; then e2e_on_fail || true; fi
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  if [ "${GH_KEEP_WORK:-0}" = 1 ]; then echo "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap e2e_cleanup EXIT
# start_bg LOG CMD...: run in background, remember its PID in $LAST_PID.
start_bg() {
  local log=$1; shift
  "$@" >"$log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}
# wait_port ADDR PORT [SECONDS] [PID]: until something accepts TCP there
# (fails early when PID, the server expected to listen, has exited).
wait_port() {
  local addr=$1 port=$2 secs=${3:-20} pid=${4:-} i
  for ((i = 0; i < secs * 10; i++)); do
    if (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null; then return 0; fi
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "process $pid exited before listening on $addr:$port" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "timeout waiting for $addr:$port" >&2
  return 1
}
# stop_pid PID: SIGTERM, wait at most 10 s, then SIGKILL.
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
# kill9_pid PID: SIGKILL (a crash, no shutdown code runs) and reap it.
kill9_pid() {
  kill -KILL "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
# hosts_add NAME ADDR: resolve NAME to ADDR for the test peers: Node through
# hosts.cjs (GH_TEST_HOSTS), other programs through with_hosts.
hosts_add() {
  GH_TEST_HOSTS="${GH_TEST_HOSTS:+$GH_TEST_HOSTS,}$1=$2"
  export GH_TEST_HOSTS
}
# with_hosts CMD...: run CMD with GH_TEST_HOSTS in its /etc/hosts (lib/with-hosts).
with_hosts() {
  "$E2E_DIR/lib/with-hosts" "$@"
}
# with_hosts_works: whether with_hosts can run here (needs CAP_SYS_ADMIN).
with_hosts_works() {
  with_hosts true 2>/dev/null
}
# run_ctl CMD...: run a test program (bounded by GH_E2E_TIMEOUT, default
# 110 s) that may ask this shell to act on the system under test: a stdout
# line "@@ctl NAME ARGS..." runs the shell function ctl_NAME ARGS... (dashes
# in NAME become underscores) and is
# answered "@@ok" (or "@@err STATUS") on the program's stdin
# (e2e.mjs ctl()). Other lines are passed through. Returns its exit status.
run_ctl() {
  local to="$WORK/ctl.$$.in" from="$WORK/ctl.$$.out" line pid rc=0 tochild fromchild
  rm -f "$to" "$from"
  mkfifo "$to" "$from"
  timeout -k 5 "${GH_E2E_TIMEOUT:-110}" "$@" <"$to" >"$from" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  exec {tochild}>"$to" {fromchild}<"$from"
  while IFS= read -r line <&"$fromchild"; do
    case $line in
      "@@ctl "*)
        local -a words
        read -r -a words <<<"${line#@@ctl }"
        if "ctl_${words[0]//-/_}" "${words[@]:1}" </dev/null; then
          echo "@@ok" >&"$tochild"
        else
          echo "@@err $?" >&"$tochild"
        fi
        ;;
      *) printf '%s\n' "$line" ;;
    esac
  done
  exec {tochild}>&- {fromchild}<&-
  wait "$pid" || rc=$?
  rm -f "$to" "$from"
  [ "$rc" = 124 ] && echo "  FAIL: $1 timed out" >&2
  return "$rc"
}
pass() { echo "  ok: $*"; }
die() { echo "  FAIL: $*" >&2; exit 1; }
