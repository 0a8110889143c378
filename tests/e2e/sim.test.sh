#!/usr/bin/env bash
# `gatehouse sim` end to end (issue 8, the fleet simulator): a real
# `gatehouse hub` and a real `gatehouse edge`; the simulator creates its
# devices through the hub's REST API and runs them directly (SAS), through
# the gateway as children (SAS) and through the gateway with tenant-CA X.509
# certificates issued in-process. The hub's stored telemetry must match the
# simulator's summary; a short run answers a direct method and a desired
# property patch sent with the management CLI.
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
source "$E2E_DIR/lib/edge.sh"
echo "sim: a simulated fleet against the real hub and gateway"
hub_init "${GH_E2E_ADDR:-127.0.0.75}"
edge_init "${GH_E2E_GW_ADDR:-127.0.0.76}"
hub_start || die "hub did not start"

CS_FILE="$HUB_DATA/service-connection-string"
# jget FILE KEY: a number or boolean from the summary JSON (top level or a.b).
jget() {
  node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    let v = j; for (const k of process.argv[2].split(".")) v = v[k];
    console.log(v);' "$1" "$2"
}
# hub_count PREFIX: telemetry messages stored at the hub from devices PREFIX*.
hub_count() {
  gh_hub telemetry tail --json --since 10m | grep -c "\"deviceId\":\"$1" || true
}
# check_summary FILE MESSAGES DEVICES [TWIN_MIN]: TWIN_MIN accepted reported
# patches (default DEVICES: each device reports once).
check_summary() {
  [ "$(jget "$1" ok)" = true ] || die "summary not ok: $(cat "$1")"
  [ "$(jget "$1" acked)" -ge "$2" ] || die "acked $(jget "$1" acked) < $2"
  [ "$(jget "$1" connected_ever)" = "$3" ] || die "connected_ever $(jget "$1" connected_ever) != $3"
  [ "$(jget "$1" latency_ms.count)" -ge "$2" ] || die "latency count below $2"
  [ "$(jget "$1" twin_acked)" -ge "${4:-$3}" ] || die "twin_acked $(jget "$1" twin_acked) < ${4:-$3}"
  node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const l = j.latency_ms;
    if (!(l.p50 > 0 && l.p50 <= l.p99 && l.p99 <= l.max)) process.exit(1);
    if (!(j.send_rate > 0 && j.cpu_s.user >= 0 && j.max_rss_kb > 0)) process.exit(1);' "$1" ||
    die "summary numbers inconsistent: $(cat "$1")"
}
# check_hub PREFIX FILE: the hub stored exactly what the simulator sent
# (sent - unacked <= stored <= sent: a message the connection lost may or
# may not have arrived, and is sent again).
check_hub() {
  local n sent unacked
  n=$(hub_count "$1")
  sent=$(jget "$2" sent)
  unacked=$(jget "$2" unacked)
  [ "$n" -ge $((sent - unacked)) ] && [ "$n" -le "$sent" ] ||
    die "hub stored $n messages from $1*, simulator sent $sent ($unacked unacked)"
  pass "hub stored $n messages from $1* (sent $sent)"
}
SIM_COMMON=(--connection-string-file "$CS_FILE" --hub "$HUB_HOST" --json --no-progress)

echo "- 200 SAS devices directly to the hub, 2000 messages"
"$GH" sim "${SIM_COMMON[@]}" --address "$HUB_ADDR" --ca "$ROOT_CA" --devices 200 --messages 2000 \
  --rate 1000 --connect-rate 400 --prefix d- >"$WORK/direct.json" 2>"$WORK/direct.err" ||
  die "gatehouse sim (direct) failed: $(cat "$WORK/direct.err")"
check_summary "$WORK/direct.json" 2000 200
check_hub d- "$WORK/direct.json"
one=$(gh_hub telemetry tail --json --device d-0001 --limit 1)
for want in temperature humidity timestamp 'application/json' 'utf-8' 'd-0001-1' '"sim":"gatehouse"'; do
  grep -q -- "$want" <<<"$one" || die "stored message lacks $want: $one"
done
pass "JSON bodies with content type/encoding, message id and the app property"
reported=$(gh_hub twin show d-0200 --json)
grep -q '"startedAt"' <<<"$reported" || die "d-0200 reported no sim.startedAt: $reported"
pass "every device reported its twin property"

echo "- existing devices: keys looked up (--no-create) and derived from a group key"
"$GH" sim "${SIM_COMMON[@]}" --address "$HUB_ADDR" --ca "$ROOT_CA" --devices 5 --messages 20 \
  --rate 100 --prefix d- --no-create >"$WORK/nc.json" 2>"$WORK/nc.err" ||
  die "gatehouse sim --no-create failed: $(cat "$WORK/nc.err")"
check_summary "$WORK/nc.json" 20 5
GROUP_KEY=$(head -c 32 /dev/urandom | base64)
for id in g-0001 g-0002 g-0003; do
  key=$(node -e 'const c = require("crypto");
    console.log(c.createHmac("sha256", Buffer.from(process.argv[1], "base64"))
      .update(process.argv[2]).digest("base64"));' "$GROUP_KEY" "$id")
  gh_hub device create "$id" --primary-key "$key" --secondary-key "$key" >/dev/null ||
    die "device create $id"
done
"$GH" sim --hub "$HUB_HOST" --address "$HUB_ADDR" --ca "$ROOT_CA" --json --no-progress \
  --group-key "$GROUP_KEY" --devices 3 --messages 30 --rate 100 --prefix g- \
  >"$WORK/gk.json" 2>"$WORK/gk.err" || die "gatehouse sim --group-key failed: $(cat "$WORK/gk.err")"
check_summary "$WORK/gk.json" 30 3
pass "--no-create and --group-key devices connect and send"

echo "- methods and desired properties during a run"
"$GH" sim "${SIM_COMMON[@]}" --address "$HUB_ADDR" --ca "$ROOT_CA" --devices 2 --duration 40s \
  --rate 2 --prefix m- >"$WORK/m.json" 2>"$WORK/m.err" &
SIM_PID=$!
PIDS+=("$SIM_PID")
ok=0
for ((i = 0; i < 100; i++)); do
  if gh_hub method invoke m-0002 ping --payload '{"x":1}' --json >"$WORK/method.json" 2>/dev/null; then
    ok=1
    break
  fi
  sleep 0.2
done
[ "$ok" = 1 ] || die "direct method to m-0002 never answered"
grep -q '"status": *200' "$WORK/method.json" && grep -q '"ok": *true' "$WORK/method.json" ||
  die "method answer: $(cat "$WORK/method.json")"
gh_hub twin update m-0001 --desired '{"interval":5}' >/dev/null || die "twin update"
for ((i = 0; i < 100; i++)); do
  gh_hub twin show m-0001 --json | grep -q '"desiredVersion"' && break
  sleep 0.2
done
gh_hub twin show m-0001 --json | grep -q '"desiredVersion"' || die "desired patch not acknowledged"
kill -TERM "$SIM_PID"
wait "$SIM_PID" || die "gatehouse sim (methods) exit $?: $(cat "$WORK/m.err")"
[ "$(jget "$WORK/m.json" methods)" -ge 1 ] && [ "$(jget "$WORK/m.json" desired)" -ge 1 ] ||
  die "summary: $(cat "$WORK/m.json")"
[ "$(jget "$WORK/m.json" interrupted)" = true ] || die "SIGTERM not reported as interrupted"
pass "method answered 200, desired patch reported back, SIGTERM ends with a summary"

echo "- the gateway"
gh_hub ca add tenant --cert "$GH_PKI_DIR/certs/tenant-ca.cert.pem" >/dev/null || die "gatehouse ca add"
gh_hub ca verify tenant --ca-key "$GH_PKI_DIR/private/tenant-ca.key.pem" >/dev/null || die "ca verify"
GW_CS=$(edge_device_cs gw1 --edge)
edge_config_manual "$GW_CS"
edge_start || die "gateway did not start"
edge_wait_link 1 || die "gateway link not up"
GW_COMMON=(--gateway "$EDGE_HOST" --address "$EDGE_ADDR" --https-address "$HUB_ADDR"
  --ca "$WORK/trust.pem" --parent gw1)

echo "- 200 SAS children through the gateway, 2000 messages"
"$GH" sim "${SIM_COMMON[@]}" "${GW_COMMON[@]}" --devices 200 --messages 2000 --rate 1000 \
  --connect-rate 400 --prefix c- >"$WORK/gw.json" 2>"$WORK/gw.err" ||
  die "gatehouse sim (gateway, sas) failed: $(cat "$WORK/gw.err")"
# 200 children subscribe at once: more than the link's 32 SUBSCRIBEs in
# flight, so the gateway queues them; every twin request still gets its answer.
check_summary "$WORK/gw.json" 2000 200
for ((i = 0; i < 50; i++)); do
  [ "$(hub_count c-)" -ge 2000 ] && break
  sleep 0.2
done
check_hub c- "$WORK/gw.json"

echo "- 200 X.509 children through the gateway (tenant CA, certificates issued in-process)"
"$GH" sim "${SIM_COMMON[@]}" "${GW_COMMON[@]}" --auth x509 \
  --ca-cert "$GH_PKI_DIR/certs/tenant-ca.cert.pem" --ca-key "$GH_PKI_DIR/private/tenant-ca.key.pem" \
  --devices 200 --messages 1000 --rate 1000 --connect-rate 400 --prefix x- \
  >"$WORK/x509.json" 2>"$WORK/x509.err" ||
  die "gatehouse sim (gateway, x509) failed: $(cat "$WORK/x509.err")"
check_summary "$WORK/x509.json" 1000 200
for ((i = 0; i < 50; i++)); do
  [ "$(hub_count x-)" -ge 1000 ] && break
  sleep 0.2
done
check_hub x- "$WORK/x509.json"
[ "$(edge_jv "$(gh_hub device show x-0007 --json)" .authentication.type)" = certificateAuthority ] ||
  die "x-0007 is not a certificateAuthority device"

echo "- usage errors"
rc=0
"$GH" sim --devices 0 --hub h.test 2>/dev/null || rc=$?
[ "$rc" = 2 ] || die "--devices 0: exit $rc, want 2"
rc=0
"$GH" sim --auth x509 --hub h.test 2>/dev/null || rc=$?
[ "$rc" = 2 ] || die "x509 without a CA: exit $rc, want 2"
pass "bad options exit 2"
edge_stop
hub_stop
edge_sanitizer_check
echo "sim: all passed"
