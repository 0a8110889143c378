#!/usr/bin/env bash
# scripts/bench --quick (issue 9): the benchmark command runs end to end with
# tiny counts: real gatehouse hub / edge, real mosquitto, real TLS. Checks
# that every case printed a figure and that the results JSON parses; no
# timing assertions (figures from a smoke run mean nothing).
source "$(dirname "$0")/lib/lib.sh"
echo "bench_smoke: scripts/bench --quick"
OUT="$WORK/out"
rc=0
GH_BENCH_BUILD="$GH_BUILD" GH_BENCH_ADDR="${GH_E2E_ADDR:-127.0.0.85}" \
  GH_BENCH_GW_ADDR="${GH_E2E_GW_ADDR:-127.0.0.86}" \
  timeout -k 5 "${GH_E2E_TIMEOUT:-170}" "$ROOT/scripts/bench" --quick --out "$OUT" \
  >"$WORK/bench.out" 2>"$WORK/bench.err" || rc=$?
[ "$rc" = 0 ] || { tail -30 "$WORK/bench.err" >&2; die "scripts/bench --quick exited $rc"; }
[ -s "$OUT/results.json" ] || die "no results.json"
jq -e . "$OUT/results.json" >/dev/null || die "results.json does not parse"
pass "results.json parses"
# every case and every server it compares has a figure (a number)
for want in "ingest qos1 gatehouse" "ingest qos1 mosquitto" "ingest qos0 gatehouse" \
  "ingest qos0 mosquitto" "ingest qos1-nopersist mosquitto" \
  "crypto ecdsa-p256-sign openssl" "crypto ecdsa-p256-verify openssl" \
  "crypto aes-128-gcm-16k openssl" "crypto tls13-mtls-inmemory-server openssl" \
  "handshake ec-p256 gatehouse" "handshake ec-p256 mosquitto" \
  "handshake rsa-2048 gatehouse" "handshake rsa-2048 mosquitto" \
  "handshake storm-200 gatehouse" "handshake storm-200 mosquitto" \
  "memory idle-100 gatehouse" "memory idle-100 mosquitto" \
  "memory gateway-50-children gatehouse"; do
  read -r c v s <<<"$want"
  jq -e --arg c "$c" --arg v "$v" --arg s "$s" \
    '[.rows[] | select(.case == $c and .variant == $v and .server == $s
      and (.median | type) == "number" and .median > 0)] | length == 1' "$OUT/results.json" >/dev/null ||
    die "no figure for $want: $(jq -c '.rows' "$OUT/results.json")"
done
pass "every case printed a figure (ingest, crypto, handshake, memory)"
grep -q "| ingest | qos1 |" "$WORK/bench.out" || die "no table on stdout: $(cat "$WORK/bench.out")"
grep -q "| ingest | qos1 |" "$OUT/README.md" || die "README.md has no table"
for p in ingest handshakes memory; do
  [ -s "$OUT/$p.png" ] || die "no $p.png"
done
pass "table printed; README.md and plots written"
echo "bench_smoke: all passed"
