#!/usr/bin/env bash
# The store-and-forward queue at its disk cap (store_and_forward.max_size,
# docs/edge-config.md; docs/queue.md "Cap"; docs/edge.md "Guarantees"): a
# real `gatehouse hub`, a real `gatehouse edge` with max_size = "1MiB" and
# an X.509 child d1 publishing numbered 64-byte QoS 1 messages (MQTT.js,
# tests/e2e/edge/full.mjs) while the hub is stopped. The gateway
# acknowledges what it stored, then refuses (no PUBACK, connection closed,
# edge.store.full, messages_refused_total); the queue's segment files stay
# within the cap. The hub comes back: the queue drains to 0, every message
# the gateway PUBACKed arrives once and in order, nothing else, and d1 can
# publish again (the drained segment's space is taken back for it). No
# queue errors or sanitizer reports in the daemons' logs.
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
source "$E2E_DIR/lib/edge.sh"
echo "edge: store-and-forward queue full (max_size = 1MiB, hub stopped)"
hub_init "${GH_E2E_ADDR:-127.0.0.71}"
# shellcheck disable=SC2034 # read by edge_config_common (lib/edge.sh)
EDGE_EXTRA_TOML=$(cat <<'TOML'
[store_and_forward]
max_size = "1MiB"
time_to_live = "1h"
TOML
)
edge_init "${GH_E2E_GW_ADDR:-127.0.0.72}"
hub_start || die "hub did not start"
# d1 sends at most GH_FULL_N (20000) messages of 64 bytes: a stored record
# is more than its body, so at most 1 MiB / 64 = 16384 fit (full.mjs).

echo "- gateway, X.509 child d1"
gh_hub ca add tenant --cert "$GH_PKI_DIR/certs/tenant-ca.cert.pem" >/dev/null || die "gatehouse ca add"
gh_hub ca verify tenant --ca-key "$GH_PKI_DIR/private/tenant-ca.key.pem" >/dev/null || die "gatehouse ca verify"
GW_CS=$(edge_device_cs gw1 --edge)
edge_config_manual "$GW_CS"
edge_start || die "gateway did not start"
edge_wait_link 1 30 || die "the gateway's link to the hub did not come up"
gh_hub device create d1 --auth x509-ca --parent gw1 >/dev/null || die "gatehouse device create d1"
"$GH" pki issue-device d1 --issuer tenant-ca --dir "$GH_PKI_DIR" >/dev/null || die "gatehouse pki issue-device d1"
edge_wait_sync 1 30 || die "the gateway did not sync d1"
pass "gw1 (edge, max_size = 1MiB), child d1 (x509-ca)"

export GH_EDGE_LOG="$EDGE_LOG"
rc=0
GH_E2E_TIMEOUT=${GH_E2E_TIMEOUT:-120} run_ctl node "$E2E_DIR/edge/full.mjs" || rc=$?

echo "- the daemons' logs"
edge_stop
hub_stop
line=$(grep -m1 -E 'event=(edge\.store\.(commit|read|record)|queue\.segment\.unlink)' "$EDGE_LOG" || true)
[ -z "$line" ] || die "the gateway logged a queue error: $line"
pass "no queue errors (edge.store.commit/read/record, queue.segment.unlink) in the gateway log"
edge_sanitizer_check
[ "$rc" = 0 ] || die "full.mjs failed (exit $rc)"
