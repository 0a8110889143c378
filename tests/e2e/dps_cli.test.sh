#!/usr/bin/env bash
# The provisioning commands (gatehouse enrollment|registration, docs/cli.md)
# against the provisioning service embedded in a real `gatehouse hub`: an
# enrollment group for a tenant CA and an individual symmetric-key
# enrollment with --edge, their show/list output (text and --json), the
# failure cases and their exit statuses; then devices registered with the
# official azure-iot-provisioning-device-mqtt (cli/dps_register.mjs) and
# their registration states. Every wait is bounded; the hub is stopped by PID.
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
echo "dps-cli: gatehouse enrollment|registration against a real hub"
hub_init "${GH_E2E_ADDR:-127.0.0.43}"
export GH_DPS_HOST=dps.gatehouse.test GH_DPS_ID_SCOPE=0ne00000001
hosts_add "$GH_DPS_HOST" "$HUB_ADDR"
hub_start || die "hub did not start"
[ -s "$HUB_DATA/dps-service-connection-string" ] || die "no $HUB_DATA/dps-service-connection-string"
ROOT_CA="$GH_PKI_DIR/certs/root.cert.pem"
C=(--data-dir "$HUB_DATA" --address "$HUB_ADDR" --ca "$ROOT_CA")
unset GATEHOUSE_CONNECTION_STRING GATEHOUSE_DPS_CONNECTION_STRING GATEHOUSE_CA

# run WANT CMD...: run CMD; stdout in $OUT, stderr in $ERR; exit status WANT.
run() {
  local want=$1 rc=0
  shift
  OUT=$("$@" 2>"$WORK/stderr") || rc=$?
  ERR=$(cat "$WORK/stderr")
  [ "$rc" = "$want" ] || die "exit $rc, want $want: ${*:2} -- stderr: $ERR -- stdout: ${OUT:0:400}"
}
has() {
  case "$1" in *"$2"*) ;; *) die "$3: no '$2' in: ${1:0:800}" ;; esac
}
hasnt() {
  case "$1" in *"$2"*) die "$3: '$2' in: ${1:0:800}" ;; esac
}
# jv JSON EXPR: a value of JSON (EXPR like '.a.b[0]'); strings bare, else JSON.
jv() {
  node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const v = new Function("j", "return j" + process.argv[1])(j);
    console.log(typeof v === "string" ? v : JSON.stringify(v));' "$2" <<<"$1"
}
eq() { [ "$1" = "$2" ] || die "$3: got '$1', want '$2'"; }
pki() { "$GH" pki "$1" --dir "$GH_PKI_DIR" "${@:2}" >/dev/null || die "gatehouse pki $*"; }

echo "- help"
run 0 "$GH" enrollment --help
has "$OUT" "create" "enrollment --help"
has "$OUT" "GATEHOUSE_DPS_CONNECTION_STRING" "names the DPS variable"
run 0 "$GH" registration show --help
has "$OUT" "REGISTRATION_ID" "registration show --help"
pass "help"

echo "- enrollment group for a tenant CA"
pki issue-ca tenant-a
run 0 "$GH" enrollment create plant-7 --group --attestation x509 \
  --cert "$GH_PKI_DIR/certs/tenant-a.cert.pem" "${C[@]}"
has "$OUT" "plant-7" "create group"
has "$OUT" "enrollment group" "create group: kind"
has "$OUT" "x509" "create group: attestation"
has "$OUT" "tenant-a" "create group: the CA's subject"
run 0 "$GH" enrollment show plant-7 --group "${C[@]}"
has "$OUT" "enrollment group" "show group"
has "$OUT" "primary SHA-256" "show group: thumbprint"
run 0 "$GH" enrollment show plant-7 --group --json "${C[@]}"
eq "$(jv "$OUT" .enrollmentGroupId)" plant-7 "show --json: id"
eq "$(jv "$OUT" .attestation.type)" x509 "show --json: attestation"
has "$(jv "$OUT" .attestation.x509.signingCertificates.primary)" "tenant-a" "show --json: certificate"
run 0 "$GH" enrollment list --groups "${C[@]}"
has "$OUT" "GROUP ID" "list --groups header"
has "$OUT" "plant-7" "list --groups"
pass "group created, shown, listed"

echo "- individual symmetric-key enrollment with --edge"
run 0 "$GH" enrollment create edge-gw-01 --individual --attestation symmetric-key --edge \
  --initial-twin '{"tags":{"site":"plant-7"}}' --json "${C[@]}"
EDGE_KEY=$(jv "$OUT" .attestation.symmetricKey.primaryKey)
[ -n "$EDGE_KEY" ] && [ "$EDGE_KEY" != undefined ] || die "no generated primary key: $OUT"
eq "$(jv "$OUT" .capabilities.iotEdge)" true "create --edge"
eq "$(jv "$OUT" .registrationId)" edge-gw-01 "create: registration id"
eq "$(jv "$OUT" .initialTwin.tags.site)" plant-7 "create: initial twin"
run 0 "$GH" enrollment show edge-gw-01 "${C[@]}"
has "$OUT" "individual enrollment" "show individual"
has "$OUT" "symmetricKey" "show: attestation"
has "$OUT" "(hidden: --show-keys)" "show: keys hidden"
hasnt "$OUT" "$EDGE_KEY" "show: key not printed"
has "$OUT" "iot edge             yes" "show: edge"
has "$OUT" "status               enabled" "show: status"
run 0 "$GH" enrollment show edge-gw-01 --show-keys "${C[@]}"
has "$OUT" "$EDGE_KEY" "show --show-keys"
KEY2=$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64"))')
run 0 "$GH" enrollment create th-02 --individual --attestation symmetric-key --primary-key "$KEY2" \
  --device-id thermostat-02 --disabled "${C[@]}"
run 0 "$GH" enrollment list "${C[@]}"
has "$OUT" "REGISTRATION ID" "list header"
has "$OUT" "edge-gw-01" "list: edge-gw-01"
has "$OUT" "thermostat-02" "list: device id"
has "$OUT" "disabled" "list: status"
hasnt "$OUT" "plant-7" "list: no groups"
run 0 "$GH" enrollment list --json "${C[@]}"
eq "$(jv "$OUT" .length)" 2 "list --json: two enrollments"
pass "individual enrollments created, shown, listed"

echo "- failures"
run 10 "$GH" enrollment create edge-gw-01 --individual --attestation symmetric-key "${C[@]}"
has "$ERR" "already exists" "create twice"
run 9 "$GH" enrollment show nope "${C[@]}"
has "$ERR" "--group" "not found hints at --group"
run 9 "$GH" enrollment show plant-7 "${C[@]}"
pki issue-device leaf-1 --issuer tenant-a
run 8 "$GH" enrollment create grp-leaf --group --attestation x509 \
  --cert "$GH_PKI_DIR/certs/leaf-1.cert.pem" "${C[@]}"
has "$ERR" "not a CA certificate" "group with a leaf certificate"
run 2 "$GH" enrollment create x --attestation x509 "${C[@]}"
run 2 "$GH" enrollment create x --group --attestation symmetric-key --device-id d "${C[@]}"
WRONG="HostName=$GH_DPS_HOST;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=$KEY2"
run 8 "$GH" enrollment list --connection-string "$WRONG" --address "$HUB_ADDR" --ca "$ROOT_CA"
has "$ERR" "refused policy 'provisioningserviceowner'" "wrong key"
run 9 "$GH" enrollment list --connection-string "$GH_SERVICE_CS" --address "$HUB_ADDR" --ca "$ROOT_CA"
has "$ERR" "not as the provisioning service" "the hub's connection string is not the DPS one"
run 0 env GATEHOUSE_DPS_CONNECTION_STRING="$(cat "$HUB_DATA/dps-service-connection-string")" \
  "$GH" enrollment list --address "$HUB_ADDR" --ca "$ROOT_CA"
has "$OUT" "edge-gw-01" "the environment variable"
run 3 env GATEHOUSE_DPS_CONNECTION_STRING=garbage "$GH" enrollment list --address "$HUB_ADDR"
has "$ERR" "GATEHOUSE_DPS_CONNECTION_STRING" "a bad environment value is named"
pass "failures: exit statuses and messages"

echo "- registrations with azure-iot-provisioning-device-mqtt"
REG=$(timeout -k 5 60 node "$E2E_DIR/cli/dps_register.mjs" sym edge-gw-01 "$EDGE_KEY") ||
  die "register edge-gw-01: $REG"
eq "$(jv "$REG" .status)" assigned "registered: status"
eq "$(jv "$REG" .deviceId)" edge-gw-01 "registered: device id"
run 0 "$GH" registration show edge-gw-01 "${C[@]}"
has "$OUT" "edge-gw-01" "registration show"
has "$OUT" "status               assigned" "registration show: status"
has "$OUT" "assigned hub         $HUB_HOST" "registration show: hub"
run 0 "$GH" registration show edge-gw-01 --json "${C[@]}"
eq "$(jv "$OUT" .deviceId)" edge-gw-01 "registration show --json"
run 0 "$GH" device show edge-gw-01 "${C[@]}"
has "$OUT" "iot edge             yes" "the hub device is an Edge device"
pki issue-device cell-01 --issuer tenant-a
REG=$(timeout -k 5 60 node "$E2E_DIR/cli/dps_register.mjs" x509 cell-01 \
  "$GH_PKI_DIR/certs/cell-01.chain.pem" "$GH_PKI_DIR/private/cell-01.key.pem") ||
  die "register cell-01: $REG"
eq "$(jv "$REG" .status)" assigned "group device registered"
run 0 "$GH" registration list plant-7 "${C[@]}"
has "$OUT" "REGISTRATION ID" "registration list header"
has "$OUT" "cell-01" "registration list"
has "$OUT" "assigned" "registration list: status"
run 0 "$GH" registration list plant-7 --json "${C[@]}"
eq "$(jv "$OUT" '[0].registrationId')" cell-01 "registration list --json"
run 0 "$GH" registration delete cell-01 "${C[@]}"
has "$OUT" "deleted" "registration delete"
run 9 "$GH" registration show cell-01 "${C[@]}"
pass "registration states"

echo "- deleting enrollments"
run 0 "$GH" enrollment delete edge-gw-01 "${C[@]}"
has "$OUT" "deleted enrollment edge-gw-01" "delete"
run 9 "$GH" enrollment show edge-gw-01 "${C[@]}"
run 0 "$GH" enrollment delete plant-7 --group --json "${C[@]}"
eq "$(jv "$OUT" .deleted)" true "delete --group --json"
run 9 "$GH" enrollment delete plant-7 --group "${C[@]}"
run 0 "$GH" enrollment list --groups --json "${C[@]}"
eq "$(jv "$OUT" .length)" 0 "no groups left"
pass "enrollments deleted"

hub_stop
echo "dps-cli: all passed"
