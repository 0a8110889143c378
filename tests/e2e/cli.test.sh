#!/usr/bin/env bash
# The management CLI (gatehouse device|ca|twin|method|c2d|telemetry, docs/cli.md)
# against a real `gatehouse hub`, with the official Node device SDK as the
# device (cli/device.mjs): outputs, --json, exit statuses and the messages
# of the failure cases. Every wait is bounded; the hub is stopped by PID.
source "$(dirname "$0")/lib/lib.sh"
source "$E2E_DIR/lib/hub.sh"
echo "cli: gatehouse device|ca|twin|method|c2d|telemetry against a real hub"
hub_init "${GH_E2E_ADDR:-127.0.0.21}"
hub_start || die "hub did not start"
ROOT_CA="$GH_PKI_DIR/certs/root.cert.pem"
# The connection: the hub's data_dir, its address (the name does not resolve
# outside Node), and the test root.
C=(--data-dir "$HUB_DATA" --address "$HUB_ADDR" --ca "$ROOT_CA")
unset GATEHOUSE_CONNECTION_STRING GATEHOUSE_CA

# run WANT CMD...: run CMD; its stdout in $OUT, stderr in $ERR; the exit
# status must be WANT.
run() {
  local want=$1 rc=0
  shift
  OUT=$("$@" 2>"$WORK/stderr") || rc=$?
  ERR=$(cat "$WORK/stderr")
  [ "$rc" = "$want" ] || die "exit $rc, want $want: ${*:2} -- stderr: $ERR -- stdout: ${OUT:0:400}"
}
# has TEXT NEEDLE WHAT: TEXT contains NEEDLE.
has() {
  case "$1" in *"$2"*) ;; *) die "$3: no '$2' in: ${1:0:600}" ;; esac
}
hasnt() {
  case "$1" in *"$2"*) die "$3: '$2' in: ${1:0:600}" ;; esac
}
# jv JSON EXPR: a value of JSON (EXPR like '.a.b[0]'); strings bare, else JSON.
jv() {
  node -e 'const j = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const v = new Function("j", "return j" + process.argv[1])(j);
    console.log(typeof v === "string" ? v : JSON.stringify(v));' "$2" <<<"$1"
}
eq() { [ "$1" = "$2" ] || die "$3: got '$1', want '$2'"; }
# wait_line FILE REGEX [SECONDS] [COUNT]: until COUNT (default 1) lines of
# FILE match (fails on an "error" line from the device or after SECONDS).
wait_line() {
  local file=$1 re=$2 secs=${3:-20} count=${4:-1} i n
  for ((i = 0; i < secs * 10; i++)); do
    n=$(grep -Ec -- "$re" "$file" 2>/dev/null || true)
    [ "${n:-0}" -ge "$count" ] && return 0
    if grep -q '^error' "$file" 2>/dev/null; then cat "$file" >&2; return 1; fi
    sleep 0.1
  done
  echo "timeout waiting for /$re/ in $file:" >&2
  cat "$file" >&2 || true
  return 1
}
# device_start NAME ARGS...: run cli/device.mjs ARGS (output $WORK/dev.NAME.out,
# commands through fd $DEV_FD) and wait until it is connected.
device_start() {
  local name=$1
  shift
  DEV_OUT="$WORK/dev.$name.out"
  mkfifo "$WORK/dev.$name.in"
  timeout -k 5 100 node "$E2E_DIR/cli/device.mjs" "$@" <"$WORK/dev.$name.in" >"$DEV_OUT" 2>&1 &
  DEV_PID=$!
  PIDS+=("$DEV_PID")
  exec {DEV_FD}>"$WORK/dev.$name.in"
  wait_line "$DEV_OUT" '^ready$' 20 || die "device $name did not connect"
}
device_stop() {
  exec {DEV_FD}>&-
  wait "$DEV_PID" 2>/dev/null || true
}

echo "- help and usage"
run 0 "$GH" device --help
has "$OUT" "create" "device --help"
run 0 "$GH" telemetry tail --help
has "$OUT" "--follow" "telemetry tail --help"
run 2 "$GH" device frobnicate
run 2 "$GH" device show "${C[@]}"
has "$ERR" "missing argument" "device show without ID"
run 2 "$GH" device show "bad/id" "${C[@]}"
has "$ERR" "not a valid device id" "invalid device id"
pass "help, unknown command, missing and invalid arguments (exit 2)"

echo "- finding the connection string"
if [ ! -e /var/lib/gatehouse/hub/service-connection-string ]; then
  run 3 "$GH" device list --address "$HUB_ADDR" --ca "$ROOT_CA"
  has "$ERR" "no service connection string" "nothing found"
  has "$ERR" "/var/lib/gatehouse/hub/service-connection-string" "says where it looked"
  has "$ERR" "GATEHOUSE_CONNECTION_STRING" "says how to give one"
  pass "no connection string: exit 3, says where it looked and what to do"
fi
run 4 "$GH" device list --connection-string-file "$WORK/none" --address "$HUB_ADDR"
has "$ERR" "$WORK/none" "missing --connection-string-file"
CS=$(cat "$HUB_DATA/service-connection-string")
run 0 env GATEHOUSE_CONNECTION_STRING="$CS" GATEHOUSE_CA="$ROOT_CA" "$GH" device list --address "$HUB_ADDR"
run 0 "$GH" device list --connection-string "$CS" --address "$HUB_ADDR" --ca "$ROOT_CA"
run 0 "$GH" device list --connection-string-file "$HUB_DATA/service-connection-string" \
  --address "$HUB_ADDR" --ca "$ROOT_CA"
# The flag wins over the environment.
run 0 env GATEHOUSE_CONNECTION_STRING="garbage" "$GH" device list "${C[@]}"
run 3 env GATEHOUSE_CONNECTION_STRING="garbage" "$GH" device list --address "$HUB_ADDR" --ca "$ROOT_CA"
has "$ERR" "GATEHOUSE_CONNECTION_STRING" "a bad environment value is named"
DEVICE_CS_SAMPLE="HostName=$HUB_HOST;DeviceId=x;SharedAccessKey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
run 3 "$GH" device list --connection-string "$DEVICE_CS_SAMPLE" --address "$HUB_ADDR" --ca "$ROOT_CA"
has "$ERR" "looks like a device" "device connection string"
run 2 "$GH" device list --connection-string "$CS" "${C[@]}"
has "$ERR" "only one of" "two sources"
pass "flag > environment > file; bad or missing strings are exit 3 with the reason"

echo "- connection failures"
run 8 "$GH" device list --data-dir "$HUB_DATA" --address "$HUB_ADDR"
has "$ERR" "pass --ca" "TLS verification failure says what to do"
run 4 "$GH" device list "${C[@]}" --port 1
has "$ERR" "cannot reach the hub at $HUB_ADDR:1" "unreachable hub names address:port"
WRONG=$(sed 's/SharedAccessKey=.*/SharedAccessKey=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=/' <<<"$CS")
run 8 "$GH" device list --connection-string "$WRONG" --address "$HUB_ADDR" --ca "$ROOT_CA"
has "$ERR" "refused policy 'iothubowner'" "401 names the policy"
has "$ERR" "RegistryRead" "401 names the right"
run 8 "$GH" c2d purge nobody --connection-string "$WRONG" --address "$HUB_ADDR" --ca "$ROOT_CA"
has "$ERR" "ServiceConnect" "401 names the right of a service operation"
pass "TLS verification (8), unreachable (4), wrong key (401 -> 8) with clear messages"

echo "- device create, list, show, update, delete"
run 0 "$GH" device create cli-sas "${C[@]}"
has "$OUT" "cli-sas" "create prints the device"
has "$OUT" "(hidden: --show-keys)" "keys hidden by default"
run 0 "$GH" device show cli-sas "${C[@]}" --json --show-connection-string
eq "$(jv "$OUT" .deviceId)" cli-sas "show --json deviceId"
eq "$(jv "$OUT" .authentication.type)" sas "auth type"
KEY=$(jv "$OUT" .authentication.symmetricKey.primaryKey)
SAS_CS=$(jv "$OUT" .connectionString)
eq "$SAS_CS" "HostName=$HUB_HOST;DeviceId=cli-sas;SharedAccessKey=$KEY" "device connection string"
run 0 "$GH" device show cli-sas "${C[@]}" --show-keys --show-connection-string
has "$OUT" "$KEY" "--show-keys prints the key"
has "$OUT" "$SAS_CS" "--show-connection-string prints it"
run 10 "$GH" device create cli-sas "${C[@]}"
has "$ERR" "DeviceAlreadyExists" "duplicate create"
run 9 "$GH" device show cli-nobody "${C[@]}"
has "$ERR" "DeviceNotFound" "unknown device prints the hub's message"
run 9 "$GH" device delete cli-nobody "${C[@]}"
K1=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=
run 0 "$GH" device create cli-keys "${C[@]}" --primary-key "$K1" --disabled --json
eq "$(jv "$OUT" .authentication.symmetricKey.primaryKey)" "$K1" "given primary key"
[ -n "$(jv "$OUT" .authentication.symmetricKey.secondaryKey)" ] || die "secondary key generated"
eq "$(jv "$OUT" .status)" disabled "--disabled"
run 0 "$GH" device update cli-keys "${C[@]}" --status enabled --json
eq "$(jv "$OUT" .status)" enabled "update --status enabled"
eq "$(jv "$OUT" .authentication.symmetricKey.primaryKey)" "$K1" "update keeps the keys"
run 2 "$GH" device update cli-keys "${C[@]}" --status maybe
run 2 "$GH" device create cli-bad "${C[@]}" --primary-key "not base64!"
run 0 "$GH" device list "${C[@]}"
has "$OUT" "cli-sas" "list shows the device"
has "$OUT" "DEVICE ID" "list header"
run 0 "$GH" device list "${C[@]}" --json --top 1
eq "$(jv "$OUT" .length)" 1 "list --top 1"
pass "create (generated and given keys), show (keys only on request), update, list, duplicate (10), unknown (9)"

echo "- IoT Edge parent and child"
run 0 "$GH" device create cli-gw "${C[@]}" --edge --json
GW_SCOPE=$(jv "$OUT" .deviceScope)
has "$GW_SCOPE" "ms-azure-iot-edge://cli-gw-" "edge device scope"
run 0 "$GH" device create cli-leaf "${C[@]}" --parent cli-gw --json
eq "$(jv "$OUT" .deviceScope)" "$GW_SCOPE" "child's deviceScope is the parent's"
run 2 "$GH" device create cli-leaf2 "${C[@]}" --parent cli-sas
has "$ERR" "not an IoT Edge device" "parent must be an Edge device"
run 9 "$GH" device create cli-leaf3 "${C[@]}" --parent cli-nobody
run 0 "$GH" device update cli-leaf "${C[@]}" --no-parent --json
eq "$(jv "$OUT" '.deviceScope || ""')" "" "--no-parent clears the scope"
pass "--edge, --parent (scope copied), --no-parent, parent checks"

echo "- X.509 devices and CA certificates"
"$GH" pki issue-ca tenant-ca --dir "$GH_PKI_DIR" >/dev/null
"$GH" pki issue-device cli-cam --issuer tenant-ca --dir "$GH_PKI_DIR" >/dev/null
"$GH" pki issue-device cli-carriage --issuer tenant-ca --dir "$GH_PKI_DIR" >/dev/null
CAM_TP=$(openssl x509 -in "$GH_PKI_DIR/certs/cli-cam.cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')
run 0 "$GH" device create cli-cam "${C[@]}" --cert "$GH_PKI_DIR/certs/cli-cam.cert.pem" --json
eq "$(jv "$OUT" .authentication.type)" selfSigned "--cert makes an x509-thumbprint device"
eq "$(jv "$OUT" .authentication.x509Thumbprint.primaryThumbprint | tr a-f A-F)" "$CAM_TP" \
  "thumbprint is openssl's SHA-256 fingerprint"
run 0 "$GH" ca add cli-tenant "${C[@]}" --cert "$GH_PKI_DIR/certs/tenant-ca.cert.pem"
has "$OUT" "verification code" "ca add shows the code"
has "$OUT" "gatehouse ca verify cli-tenant" "ca add says how to verify"
run 10 "$GH" ca add cli-tenant "${C[@]}" --cert "$GH_PKI_DIR/certs/tenant-ca.cert.pem"
run 8 "$GH" ca add cli-leafcert "${C[@]}" --cert "$GH_PKI_DIR/certs/cli-cam.cert.pem"
has "$ERR" "not a CA certificate" "a leaf is not a CA"
run 8 "$GH" ca verify cli-tenant "${C[@]}" --ca-key "$GH_PKI_DIR/private/root.key.pem"
has "$ERR" "not the certificate registered as cli-tenant" "wrong CA key/cert"
run 2 "$GH" ca verify cli-tenant "${C[@]}"
run 0 "$GH" ca verify cli-tenant "${C[@]}" --ca-key "$GH_PKI_DIR/private/tenant-ca.key.pem" --json
eq "$(jv "$OUT" .properties.isVerified)" true "verified with --ca-key"
run 0 "$GH" ca list "${C[@]}"
has "$OUT" "cli-tenant yes" "ca list"
run 0 "$GH" ca show cli-tenant "${C[@]}" --json
eq "$(jv "$OUT" .properties.thumbprintSha256)" \
  "$(openssl x509 -in "$GH_PKI_DIR/certs/tenant-ca.cert.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')" \
  "ca show thumbprint"
run 9 "$GH" ca show cli-nothing "${C[@]}"
# The proof with a verification certificate made by `gatehouse pki`.
"$GH" pki issue-ca tenant2 --dir "$GH_PKI_DIR" >/dev/null
run 0 "$GH" ca add cli-tenant2 "${C[@]}" --cert "$GH_PKI_DIR/certs/tenant2.cert.pem" --json
CODE=$(jv "$OUT" .properties.verificationCode)
"$GH" pki verification-cert "$CODE" --issuer tenant2 --dir "$GH_PKI_DIR" >/dev/null
run 0 "$GH" ca verify cli-tenant2 "${C[@]}" --verification-cert "$GH_PKI_DIR/certs/tenant2-verification.cert.pem"
has "$OUT" "verified             yes" "verified with --verification-cert"
run 0 "$GH" ca delete cli-tenant2 "${C[@]}"
run 9 "$GH" ca delete cli-tenant2 "${C[@]}"
# A device of the verified CA connects with its certificate.
run 0 "$GH" device create cli-carriage "${C[@]}" --auth x509-ca --show-connection-string
has "$OUT" "HostName=$HUB_HOST;DeviceId=cli-carriage;x509=true" "x509 connection string"
device_start carriage "HostName=$HUB_HOST;DeviceId=cli-carriage;x509=true" \
  "$GH_PKI_DIR/certs/cli-carriage.chain.pem" "$GH_PKI_DIR/private/cli-carriage.key.pem"
device_stop
pass "thumbprint from --cert, ca add/verify (--ca-key and --verification-cert)/list/show/delete, x509-ca device connects"

echo "- twin, method, cloud-to-device, telemetry with a connected device"
device_start sas "$SAS_CS"
run 0 "$GH" twin update cli-sas "${C[@]}" --desired '{"targetTemp":21.5}' --tags '{"site":"plant-7"}'
has "$OUT" '"targetTemp": 21.5' "twin update prints desired"
has "$OUT" '"site": "plant-7"' "twin update prints tags"
run 0 "$GH" twin show cli-sas "${C[@]}" --json
eq "$(jv "$OUT" .properties.desired.targetTemp)" 21.5 "twin show desired"
ETAG=$(jv "$OUT" .etag)
run 0 "$GH" twin update cli-sas "${C[@]}" --patch '{"tags":{"site":null}}' --etag "$ETAG" --json
eq "$(jv "$OUT" .tags.site)" undefined "null removes a tag"
run 10 "$GH" twin update cli-sas "${C[@]}" --tags '{"a":1}' --etag "$ETAG"
has "$ERR" "PreconditionFailed" "stale etag"
run 2 "$GH" twin update cli-sas "${C[@]}" --desired 'not json'
run 9 "$GH" twin show cli-nobody "${C[@]}"

run 0 "$GH" method invoke cli-sas echo "${C[@]}" --payload '{"n":1}' --connect-timeout 10
has "$OUT" "status: 200" "method status"
has "$OUT" '"got"' "method payload"
wait_line "$DEV_OUT" '^method echo \{"n":1\}$' 10 || die "device saw the method call"
run 0 "$GH" method invoke cli-sas echo "${C[@]}" --payload '"text"' --json
eq "$(jv "$OUT" .payload.got)" text "method --json"
run 9 "$GH" method invoke cli-keys echo "${C[@]}"
has "$ERR" "DeviceNotOnline" "method on an offline device"

run 0 "$GH" c2d send cli-sas "${C[@]}" --body 'hello device' --message-id cli-m1 --correlation-id cli-c1 \
  --content-type text/plain --content-encoding utf-8 --property level=high --property 'note=a b=c' --ttl 10m
has "$OUT" "queued message cli-m1 for cli-sas" "c2d send output"
wait_line "$DEV_OUT" '^c2d .*"messageId":"cli-m1"' 20 || die "device received the C2D message"
C2D=$(grep '"messageId":"cli-m1"' "$DEV_OUT" | sed 's/^c2d //')
eq "$(jv "$C2D" .body)" "hello device" "c2d body"
eq "$(jv "$C2D" .correlationId)" cli-c1 "c2d correlation id"
eq "$(jv "$C2D" .contentType)" text/plain "c2d content type"
eq "$(jv "$C2D" .props.level)" high "c2d property"
eq "$(jv "$C2D" .props.note)" "a b=c" "c2d property with blank and ="
printf 'binary\0body' >"$WORK/body.bin"
run 0 "$GH" c2d send cli-sas "${C[@]}" --body-file "$WORK/body.bin" --json
MID=$(jv "$OUT" .messageId)
wait_line "$DEV_OUT" "\"messageId\":\"$MID\"" 20 || die "device received the --body-file message"
run 2 "$GH" c2d send cli-sas "${C[@]}" --property 'bad name=1'
run 2 "$GH" c2d send cli-sas "${C[@]}" --ttl 10m --expiry 2030-01-01T00:00:00Z
run 9 "$GH" c2d send cli-nobody "${C[@]}" --body x
run 0 "$GH" c2d send cli-keys "${C[@]}" --body queued-1
run 0 "$GH" c2d send cli-keys "${C[@]}" --body queued-2
run 0 "$GH" c2d purge cli-keys "${C[@]}"
has "$OUT" "purged 2 messages of cli-keys" "purge count"
run 0 "$GH" c2d purge cli-keys "${C[@]}" --json
eq "$(jv "$OUT" .totalMessagesPurged)" 0 "purge again"

# telemetry tail --follow waits for the next message.
timeout 40 "$GH" telemetry tail "${C[@]}" --device cli-sas --follow --limit 1 --json \
  >"$WORK/follow.out" 2>"$WORK/follow.err" &
FOLLOW_PID=$!
PIDS+=("$FOLLOW_PID")
echo 'send {"body":"{\"t\":21.5}","messageId":"cli-t1","props":{"alert level":"high"}}' >&"$DEV_FD"
wait_line "$DEV_OUT" '^sent$' 20 || die "device sent telemetry"
rc=0
wait "$FOLLOW_PID" || rc=$?
[ "$rc" = 0 ] || die "telemetry tail --follow exit $rc: $(cat "$WORK/follow.err")"
FOLLOW=$(cat "$WORK/follow.out")
eq "$(jv "$FOLLOW" .body)" '{"t":21.5}' "follow --json body"
eq "$(jv "$FOLLOW" .properties.app['"alert level"'])" high "follow --json property"
SEQ=$(jv "$FOLLOW" .seq)
echo 'send {"body":"second","messageId":"cli-t2"}' >&"$DEV_FD"
wait_line "$DEV_OUT" '^sent$' 20 2 || die "device sent the second message"
run 0 "$GH" telemetry tail "${C[@]}" --device cli-sas
has "$OUT" "cli-sas seq=$SEQ \$.mid=cli-t1 \"alert level\"=high {\"t\":21.5}" "tail text line"
has "$OUT" "\$.mid=cli-t2" "tail shows the second message"
run 0 "$GH" telemetry tail "${C[@]}" --device cli-sas --after "$SEQ" --json
hasnt "$OUT" "cli-t1" "--after skips"
has "$OUT" "cli-t2" "--after keeps later ones"
run 0 "$GH" telemetry tail "${C[@]}" --device cli-sas --since 2000-01-01T00:00:00Z --limit 1
has "$OUT" "cli-t1" "--limit 1 gives the first"
hasnt "$OUT" "cli-t2" "--limit 1 stops"
run 2 "$GH" telemetry tail "${C[@]}" --since yesterday
device_stop
pass "twin update/show (etag), method invoke, c2d send (properties, body file)/purge, telemetry tail (--follow, --after, --limit)"

echo "- delete"
run 0 "$GH" device delete cli-sas "${C[@]}"
has "$OUT" "deleted device cli-sas" "delete output"
run 9 "$GH" device show cli-sas "${C[@]}"
run 0 "$GH" device delete cli-keys "${C[@]}" --json
eq "$(jv "$OUT" .deleted)" true "delete --json"
pass "delete, then not found (9)"

hub_stop
echo "cli: all checks passed"
