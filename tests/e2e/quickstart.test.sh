#!/usr/bin/env bash
# The README's main job: scripts/quickstart runs by itself and says every step passed.
source "$(dirname "$0")/lib/lib.sh"
echo "quickstart: the README's main job"
out=$(cd "$ROOT" && GH_GATEHOUSE="$GH" GH_QUICKSTART_ADDR=127.0.0.31 GH_QUICKSTART_GW_ADDR=127.0.0.33 timeout 300 ./scripts/quickstart --dir "$WORK/qs" 2>&1) || {
  echo "$out" | tail -30
  die "scripts/quickstart failed"
}
grep -q "quickstart: all steps passed" <<<"$out" || die "no final success line"
grep -q "\[FAIL\]" <<<"$out" && die "a step failed"
n=$(grep -c "\[ok\]" <<<"$out")
[ "$n" -ge 20 ] || die "only $n steps reported ok"
pass "quickstart ran $n steps, all ok"
