#!/usr/bin/env bash
# The queue corruption test (issue 7 "Done when"): with the hub stopped a
# child sends K QoS 1 messages through the gateway (each PUBACKed: on disk);
# the gateway is stopped; in its queue segment one byte of a record's
# payload in the middle is flipped, the last record is cut short and the
# first 20 bytes of a record header are appended (a torn partial record).
# The gateway and the hub are started: the gateway logs the corrupt record
# and the torn tail, keeps running, and every intact message (K - 2) reaches
# the hub; the damaged ones do not (tests/e2e/edge/outage_corrupt.mjs).
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
source "$E2E_DIR/lib/edge.sh"
echo "edge: a corrupt record and a torn tail in the store-and-forward queue"
hub_init "${GH_E2E_ADDR:-127.0.0.63}"
edge_init "${GH_E2E_GW_ADDR:-127.0.0.64}"
hub_start || die "hub did not start"
K=20

echo "- identities, gateway"
GW_CS=$(edge_device_cs gw1 --edge)
GH_CS_C1=$(edge_device_cs c1 --parent gw1)
export GH_CS_C1
edge_config_manual "$GW_CS"
edge_start || die "gateway did not start"
edge_wait_link 1 30 || die "the gateway's link to the hub did not come up"
edge_wait_sync 0 30 || die "the gateway did not sync its children"
edge_wait_metric gatehouse_edge_children_known 1 20 || die "the gateway does not know c1"
pass "gateway up, c1 known"

echo "- hub stopped; c1 sends $K messages"
hub_stop
edge_wait_link 0 30 || die "the link did not go down with the hub"
node "$E2E_DIR/edge/outage_corrupt.mjs" send "$K" | sed 's/^/  /'
[ "${PIPESTATUS[0]}" = 0 ] || die "c1 could not send $K messages through the gateway"
edge_wait_metric gatehouse_edge_queue_messages "$K" 10 || die "the queue does not hold $K messages"
edge_stop
pass "$K messages in the queue; gateway stopped (SIGTERM)"

echo "- damage the newest segment"
QDIR=$(edge_queue_dir)
# Segment names are "pNN-<16 hex id>.seg" (NN the priority class); the
# newest segment has the highest id.
segs=()
newest=""
for f in "$QDIR"/p[0-9][0-9]-????????????????.seg; do
  [ -e "$f" ] || continue
  s=${f##*/}
  segs+=("$s")
  if [ -z "$newest" ] || [[ ${s#p??-} > ${newest#p??-} ]]; then newest=$s; fi
done
[ "${#segs[@]}" -ge 1 ] || die "no segment file in $QDIR: $(ls "$QDIR")"
echo "    segments: ${segs[*]} (newest $newest, $(stat -c %s "$QDIR/$newest") bytes)"
out=$(node "$E2E_DIR/edge/outage_corrupt.mjs" corrupt "$QDIR/$newest") || die "could not damage $newest: $out"
echo "    $out"
FLIPPED=$(edge_jv "$out" .flipped)
TRUNCATED=$(edge_jv "$out" .truncated)
[ "$(edge_jv "$out" .records)" = "$K" ] || die "expected $K records in $newest: $out"
pass "flipped a payload byte of $FLIPPED, cut $TRUNCATED short and appended a partial header"

echo "- gateway and hub started again"
edge_start || die "gateway did not start on the damaged queue"
log2=$EDGE_LOG
grep -E 'event=(queue\.recover\.|edge\.store\.open|queue\.open)' "$log2" | sed 's/^/    /'
grep -qE 'event=queue\.recover\.corrupt .*segment='"$newest"'.*action=skipped' "$log2" ||
  die "no queue.recover.corrupt line for $newest in $(basename "$log2")"
grep -qE 'event=queue\.recover\.torn .*segment='"$newest"'.*action=truncated' "$log2" ||
  die "no queue.recover.torn line for $newest in $(basename "$log2")"
grep -qE "event=edge\.store\.open .*messages=$((K - 2)) .*corrupt=1 torn=1" "$log2" ||
  die "edge.store.open does not report messages=$((K - 2)) corrupt=1 torn=1"
pass "the log names the corrupt record (skipped) and the torn tail (truncated); $((K - 2)) messages kept"
hub_start || die "hub did not start"
edge_wait_link 1 30 || die "the link did not come back"
edge_wait_metric gatehouse_edge_queue_messages 0 30 || die "the queue did not drain"
kill -0 "$EDGE_PID" 2>/dev/null || die "the gateway exited"
pass "queue drained, gateway still running"
v=$(edge_metric 'gatehouse_edge_messages_dropped_total{reason="corrupt_record"}')
[ "${v:-0}" -ge 1 ] || die "dropped_total{reason=\"corrupt_record\"} is '${v:-}', want >= 1"
pass "gatehouse_edge_messages_dropped_total{reason=\"corrupt_record\"} $v"
node "$E2E_DIR/edge/outage_corrupt.mjs" check "$K" "$FLIPPED" "$TRUNCATED" | sed 's/^/  /'
[ "${PIPESTATUS[0]}" = 0 ] || die "messages at the hub"
edge_stop
edge_sanitizer_check
