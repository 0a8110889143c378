// tests/e2e/edge_cert.test.sh: the gateway's server certificate (1 day,
// renew_before 1 day - 10 s: due 10 s after issue) is renewed on SIGHUP and
// by the periodic check (every minute) while a child stays connected. The certificate is read with
// `openssl s_client` (edge.mjs serverCert), verified against the root CA.
import {
  env, ok, check, checkEq, step, finish, watchdog, errText, waitFor, ctl, waitTelemetry, delay,
} from '../lib/e2e.mjs';
import { Message, viaGateway, child, tryOpen, closeQuietly, metrics, serverCert } from './edge.mjs';

watchdog(200);

const counter = (m, name) => (m.has(name) ? m.get(name) : NaN);
const ACCEPTED = 'gatehouse_edge_children_accepted_total';
const sys = (m) => (m.properties && m.properties.system) || {};

let c1;
let first;
let accepted0;

async function telemetry(c, deviceId, id) {
  const msg = new Message(id);
  msg.messageId = id;
  await c.client.sendEvent(msg);
  await waitTelemetry(deviceId, (l) => l.some((x) => sys(x)['message-id'] === id), 15000);
}

// No 'disconnect' or 'error' event on the child so far.
const stillUp = (c) => c.events.items.filter((e) => e.type === 'disconnect' || e.type === 'error');

await step('child connected; the certificate it saw', async () => {
  c1 = await child(viaGateway(env('GH_CS_C1')));
  const r = await tryOpen(c1.client);
  if (r.error) throw new Error(`open: ${errText(r.error)}`);
  ok('c1 open() through the gateway (verifies the gateway against the root CA)');
  await telemetry(c1, 'c1', 'cert-0');
  ok('telemetry of c1 reaches the hub');
  first = await serverCert();
  checkEq('openssl s_client: verifies against the root CA', first.verify, '0 (ok)');
  check('certificate names the gateway host', (first.san || '').includes(`DNS:${env('GH_GW_HOST')}`), first.san);
  const left = (Date.parse(first.notAfter) - Date.now()) / 86400000;
  check('certificate is valid for at most 1 day', left > 0 && left <= 1.01, `${first.notAfter}`);
  // Whole days left, from the gateway's clock in whole seconds: 1 while the
  // second of issue lasts (notAfter - now = 86400 s), 0 after it. Bracket
  // the read with the clock on both sides.
  const naS = Date.parse(first.notAfter) / 1000;
  const daysAt = (ms) => Math.floor((naS - Math.floor(ms / 1000)) / 86400);
  const hi = daysAt(Date.now());
  const m = await metrics();
  const lo = daysAt(Date.now());
  const dl = counter(m, 'gatehouse_edge_server_cert_days_left');
  check(`gatehouse_edge_server_cert_days_left (${dl}) is the whole days to notAfter (${lo}..${hi})`,
    dl >= lo && dl <= hi && hi <= 1, first.notAfter);
  accepted0 = counter(m, ACCEPTED);
  checkEq('children_accepted_total is 1', accepted0, 1);
  console.log(`    (serial before: ${first.serial})`);
}, 40000);

// Poll the certificate a fresh connection gets until its serial differs.
async function waitNewSerial(old, ms) {
  let last;
  await waitFor(async () => {
    last = await serverCert();
    return last.serial && last.serial !== old ? last : null;
  }, ms, `a serial other than ${old}`, 1000);
  return last;
}

let second;
await step('SIGHUP: renewed while the child stays connected', async () => {
  await ctl('edge-hup');
  second = await waitNewSerial(first.serial, 20000);
  ok(`serial changed after SIGHUP (${first.serial} -> ${second.serial})`);
  checkEq('fresh connection: new certificate verifies against the root CA', second.verify, '0 (ok)');
  checkEq('child saw no disconnect or error', stillUp(c1).length, 0);
  await telemetry(c1, 'c1', 'cert-1');
  ok('c1 sends telemetry after the renewal on the same connection; the hub has it');
  checkEq('no re-authentication (children_accepted_total unchanged)', counter(await metrics(), ACCEPTED), accepted0);
}, 60000);

await step('periodic renewal check (due 10 s after SIGHUP, checked every 60 s): renewed again, child still up', async () => {
  const third = await waitNewSerial(second.serial, 80000);
  ok(`serial changed without a signal (${second.serial} -> ${third.serial})`);
  checkEq('fresh connection: verifies against the root CA', third.verify, '0 (ok)');
  await delay(200);
  checkEq('child saw no disconnect or error', stillUp(c1).length, 0);
  await telemetry(c1, 'c1', 'cert-2');
  ok('c1 telemetry after the second renewal reaches the hub');
  checkEq('no re-authentication (children_accepted_total unchanged)', counter(await metrics(), ACCEPTED), accepted0);
}, 100000);

await step('a fresh child connects with the renewed certificate', async () => {
  const c2 = await child(viaGateway(env('GH_CS_C2')));
  const r = await tryOpen(c2.client);
  if (r.error) throw new Error(`open: ${errText(r.error)}`);
  ok('c2 open() through the gateway (TLS verified against the root CA)');
  await telemetry(c2, 'c2', 'cert-c2');
  ok('telemetry of c2 reaches the hub');
  await closeQuietly(c2);
  await closeQuietly(c1);
}, 40000);

finish();
