// tests/e2e/edge_gateway.test.sh: children (the official Node device SDK)
// connect to a real `gatehouse edge` with GatewayHostName; everything is
// checked at the hub (REST read path and the gatehouse CLI).
//
// Environment (lib/edge.sh and the .test.sh): GH_CS_C1 (SAS child of gw1),
// GH_CS_X1 + GH_X1_CERT/GH_X1_KEY (tenant-CA child of gw1), GH_CS_X2 +
// GH_X2_CERT/GH_X2_KEY (child of gw1 under a CA the trust bundle gets only
// later), GH_CS_S1 (a device without parent), GH_CS_O1 (a child of another
// gateway), GH_EDGE_PID.
import fs from 'node:fs';
import {
  env, ok, fail, check, checkEq, step, finish, watchdog, errText, waitFor, withTimeout, Inbox,
  rest, waitTelemetry, bodyText, ctl,
} from '../lib/e2e.mjs';
import {
  Message, viaGateway, child, tryOpen, closeQuietly, refusalOf, metrics, status, gh,
} from './edge.mjs';

watchdog(100);

const sys = (m) => (m.properties && m.properties.system) || {};
const deviceState = async (id) => {
  const r = await rest('GET', `/devices/${id}`);
  if (r.status !== 200) throw new Error(`GET /devices/${id}: ${r.status} ${r.text}`);
  return r.json;
};
const counter = (m, name) => (m.has(name) ? m.get(name) : NaN);

let m0;
let c1;
let x1;
const desired = new Inbox();
const c2d = new Inbox();
const methodCalls = new Inbox();

await step('metrics before any child', async () => {
  m0 = await metrics();
  checkEq('gatehouse_edge_children_connected is 0', counter(m0, 'gatehouse_edge_children_connected'), 0);
  checkEq('gatehouse_edge_upstream_connected is 1', counter(m0, 'gatehouse_edge_upstream_connected'), 1);
});

await step('SAS child connects through the gateway', async () => {
  c1 = await child(viaGateway(env('GH_CS_C1')));
  const r = await tryOpen(c1.client);
  if (r.error) throw new Error(`open: ${errText(r.error)}`);
  ok('c1 open() through the gateway');
  c1.client.on('message', (msg) => {
    c2d.push(msg);
    c1.client.complete(msg).catch((e) => fail('complete()', errText(e)));
  });
  c1.client.onDeviceMethod('echo', (req, res) => {
    methodCalls.push(req);
    res.send(200, { got: req.payload, from: 'c1' }, (e) => e && fail('method response send', errText(e)));
  });
  const st = await waitFor(async () => {
    const d = await deviceState('c1');
    return d.connectionState === 'Connected' ? d : null;
  }, 10000, 'c1 Connected in the registry').catch((e) => e);
  check('registry shows c1 Connected while it is connected via the gateway',
    !(st instanceof Error), st instanceof Error ? st.message : '');
  const m = await metrics();
  checkEq('gatehouse_edge_children_connected is 1', counter(m, 'gatehouse_edge_children_connected'), 1);
});

await step('telemetry of the SAS child reaches the hub', async () => {
  const msg = new Message(JSON.stringify({ t: 21.5 }));
  msg.messageId = 'gw-tel-1';
  msg.properties.add('site', 'plant 7');
  await c1.client.sendEvent(msg);
  ok('sendEvent resolved (PUBACK from the gateway)');
  const all = await waitTelemetry('c1', (l) => l.some((x) => sys(x)['message-id'] === 'gw-tel-1'), 15000);
  const got = all.find((x) => sys(x)['message-id'] === 'gw-tel-1');
  checkEq('record deviceId', got.deviceId, 'c1');
  checkEq('iothub-connection-device-id is the child', sys(got)['iothub-connection-device-id'], 'c1');
  checkEq('body', bodyText(got), '{"t":21.5}');
  checkEq('application property', got.properties.app && got.properties.app.site, 'plant 7');
  // Read back with the CLI too (`gatehouse telemetry tail`).
  const t = await gh(['telemetry', 'tail', '--device', 'c1', '--since', '10m', '--json']);
  checkEq('gatehouse telemetry tail --device c1: exit 0', t.code, 0);
  const lines = t.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const cli = lines.find((x) => sys(x)['message-id'] === 'gw-tel-1');
  checkEq('telemetry tail shows the message with connection-device-id c1',
    cli && sys(cli)['iothub-connection-device-id'], 'c1');
}, 40000);

await step('twin through the gateway', async () => {
  const twin = await c1.client.getTwin();
  check('getTwin resolved with desired.$version', typeof twin.properties.desired.$version === 'number',
    JSON.stringify(twin.properties));
  await new Promise((resolve, reject) => twin.properties.reported.update(
    { firmware: 'gw-2.0', via: 'gateway' }, (e) => (e ? reject(e) : resolve())));
  ok('reported patch acknowledged');
  const st = await rest('GET', '/twins/c1');
  checkEq('hub twin shows reported.firmware', st.json && st.json.properties.reported.firmware, 'gw-2.0');
  const shown = await gh(['twin', 'show', 'c1', '--json']);
  checkEq('gatehouse twin show: reported.via', shown.code === 0 && JSON.parse(shown.stdout).properties.reported.via,
    'gateway');
  twin.on('properties.desired', (d) => desired.push(d));
  await desired.next(5000, 'initial desired event');
  const dv = st.json.properties.desired.$version;
  const upd = await gh(['twin', 'update', 'c1', '--desired', '{"targetTemp":23,"mode":"eco"}']);
  checkEq('gatehouse twin update --desired: exit 0', upd.code, 0);
  let d;
  do { d = await desired.next(10000, 'desired notification through the gateway'); } while (d.$version <= dv);
  checkEq('child receives desired.targetTemp', d.targetTemp, 23);
  checkEq('child receives desired.mode', d.mode, 'eco');
  checkEq('desired $version incremented by one', d.$version, dv + 1);
}, 40000);

await step('direct method invoked at the hub is answered by the child', async () => {
  const r = await gh(['method', 'invoke', 'c1', 'echo', '--payload', '{"n":7}', '--response-timeout', '10', '--json']);
  checkEq('gatehouse method invoke: exit 0', r.code, 0);
  let j;
  try { j = JSON.parse(r.stdout); } catch { j = undefined; }
  checkEq('method status 200', j && j.status, 200);
  checkEq('method payload from the child', j && j.payload, { got: { n: 7 }, from: 'c1' });
  const req = await methodCalls.next(1000, 'method request seen by the child');
  checkEq('child saw the method name', req.methodName, 'echo');
  if (r.code !== 0) console.log(`    (stderr: ${r.stderr.trim()})`);
}, 30000);

await step('C2D sent at the hub reaches the child and is completed', async () => {
  const r = await gh(['c2d', 'send', 'c1', '--body', 'hello through the gateway', '--message-id', 'gw-c2d-1',
    '--property', 'color=red']);
  checkEq('gatehouse c2d send: exit 0', r.code, 0);
  const m = await c2d.next(15000, 'C2D message through the gateway');
  checkEq('C2D body', m.data.toString(), 'hello through the gateway');
  checkEq('C2D messageId', m.messageId, 'gw-c2d-1');
  checkEq('C2D app property', m.properties.getValue('color'), 'red');
  const empty = await waitFor(async () => (await deviceState('c1')).cloudToDeviceMessageCount === 0,
    10000, 'cloudToDeviceMessageCount 0').catch((e) => e);
  check('C2D queue of c1 is empty after the child completed the message', empty === true,
    empty instanceof Error ? `${empty.message} (count ${(await deviceState('c1')).cloudToDeviceMessageCount})` : '');
}, 40000);

await step('a device that is not a child of gw1 is refused', async () => {
  const s1 = await child(viaGateway(env('GH_CS_S1')));
  const r = await tryOpen(s1.client);
  check('s1 (no parent): open() fails', !!r.error, 'open succeeded');
  checkEq('s1: refused as not authorized (CONNACK 5)', refusalOf(r.error), 'not-authorized');
  if (r.error) console.log(`    (SDK reported ${r.error.name}: ${errText(r.error)})`);
  await closeQuietly(s1);
  const o1 = await child(viaGateway(env('GH_CS_O1')));
  const r2 = await tryOpen(o1.client);
  check('o1 (child of gw2): open() fails', !!r2.error, 'open succeeded');
  checkEq('o1: refused as not authorized (CONNACK 5)', refusalOf(r2.error), 'not-authorized');
  await closeQuietly(o1);
  const s = await deviceState('s1');
  checkEq('s1 stays Disconnected in the registry', s.connectionState, 'Disconnected');
}, 60000);

await step('tenant-CA X.509 child is accepted and its telemetry arrives', async () => {
  x1 = await child(viaGateway(env('GH_CS_X1')), { cert: env('GH_X1_CERT'), key: env('GH_X1_KEY') });
  const r = await tryOpen(x1.client);
  if (r.error) throw new Error(`open: ${errText(r.error)}`);
  ok('x1 open() with its certificate');
  const m = await metrics();
  checkEq('x1 was authenticated by the gateway (children_connected 2)',
    counter(m, 'gatehouse_edge_children_connected'), 2);
  const msg = new Message('x509 via gateway');
  msg.messageId = 'gw-x1-1';
  await x1.client.sendEvent(msg);
  const all = await waitTelemetry('x1', (l) => l.some((x) => sys(x)['message-id'] === 'gw-x1-1'), 15000);
  const got = all.find((x) => sys(x)['message-id'] === 'gw-x1-1');
  checkEq('x1 telemetry: iothub-connection-device-id', sys(got)['iothub-connection-device-id'], 'x1');
  checkEq('x1 telemetry body', bodyText(got), 'x509 via gateway');
}, 40000);

// Issue 6: "the trust bundle is reloaded without a restart".
await step('a tenant CA appended to the trust bundle is trusted after SIGHUP', async () => {
  const opts = { cert: env('GH_X2_CERT'), key: env('GH_X2_KEY') };
  const before = await child(viaGateway(env('GH_CS_X2')), opts);
  const r = await tryOpen(before.client);
  check('x2 (tenant2 not in the trust bundle): open() fails', !!r.error, 'open succeeded');
  checkEq('x2: refused as not authorized (CONNACK 5)', refusalOf(r.error), 'not-authorized');
  console.log(`    (SDK reported ${r.error && r.error.name}: ${r.error && errText(r.error)})`);
  await closeQuietly(before);
  const pidFile = `${env('GH_EDGE_HOME')}/edge.pid`;
  const pid = fs.readFileSync(pidFile, 'utf8').trim();
  checkEq('edge.pid names the gateway started by the test', pid, env('GH_EDGE_PID'));
  await ctl('trust-add-tenant2');
  ok('tenant2 appended to trust.pem, SIGHUP sent');
  const x2 = await waitFor(async () => {
    const c = await child(viaGateway(env('GH_CS_X2')), opts);
    const r2 = await tryOpen(c.client);
    if (!r2.error) return c;
    await closeQuietly(c);
    return null;
  }, 10000, 'x2 accepted after the reload', 500).catch((e) => e);
  check('x2 accepted after the reload', !(x2 instanceof Error), x2 instanceof Error ? x2.message : '');
  if (!(x2 instanceof Error)) await closeQuietly(x2);
  checkEq('same gateway process (no restart): edge.pid', fs.readFileSync(pidFile, 'utf8').trim(), pid);
  checkEq('gateway still answers /status', (await status()).deviceId, 'gw1');
}, 40000);

await step('metrics moved and edge status', async () => {
  const m = await metrics();
  const d = (n) => counter(m, n) - counter(m0, n);
  checkEq('gatehouse_edge_children_connected is 2 (c1, x1)', counter(m, 'gatehouse_edge_children_connected'), 2);
  checkEq('children_accepted_total moved by 3 (c1, x1, x2)', d('gatehouse_edge_children_accepted_total'), 3);
  checkEq('messages_received_total moved by 2', d('gatehouse_edge_messages_received_total'), 2);
  checkEq('messages_forwarded_total moved by 2', d('gatehouse_edge_messages_forwarded_total'), 2);
  checkEq('c2d_relayed_total moved by 1', d('gatehouse_edge_c2d_relayed_total'), 1);
  checkEq('methods_relayed_total moved by 1', d('gatehouse_edge_methods_relayed_total'), 1);
  check('twin_requests_total moved (GET + reported patch)', d('gatehouse_edge_twin_requests_total') >= 2,
    `moved by ${d('gatehouse_edge_twin_requests_total')}`);
  checkEq('auth_failures_total{reason="not_authorized"} moved by 3 (s1, o1, x2 before the reload)',
    d('gatehouse_edge_auth_failures_total{reason="not_authorized"}'), 3);
  checkEq('children_known: c1, x1, x2', counter(m, 'gatehouse_edge_children_known'), 3);
  const fails = [...m.keys()].filter((k) => k.startsWith('gatehouse_edge_auth_failures_total{'));
  checkEq('auth failures of all reasons moved by 3 (s1, o1, x2 before the reload)',
    fails.reduce((a, k) => a + d(k), 0), 3);
  checkEq('queue is empty', counter(m, 'gatehouse_edge_queue_messages'), 0);
  const st = await gh(['edge', 'status', '--home', env('GH_EDGE_HOME')], { hub: false });
  checkEq('gatehouse edge status: exit 0', st.code, 0);
  check('edge status prints the upstream state "connected"', /^upstream:\s+connected\b/m.test(st.stdout),
    st.stdout.trim() || st.stderr.trim());
  const sj = await gh(['edge', 'status', '--json', '--home', env('GH_EDGE_HOME')], { hub: false });
  let j;
  try { j = JSON.parse(sj.stdout); } catch { j = undefined; }
  checkEq('edge status --json: upstream.state', j && j.upstream && j.upstream.state, 'connected');
  checkEq('edge status --json: children.connected', j && j.children && j.children.connected, 2);
});

await step('children leave: Disconnected in the registry', async () => {
  await withTimeout(c1.client.close(), 5000, 'c1 close');
  await withTimeout(x1.client.close(), 5000, 'x1 close');
  const st = await waitFor(async () => (await deviceState('c1')).connectionState === 'Disconnected',
    10000, 'c1 Disconnected').catch((e) => e);
  check('registry shows c1 Disconnected after it closed', st === true, st instanceof Error ? st.message : '');
  const m = await metrics();
  const gone = await waitFor(async () => (await metrics()).get('gatehouse_edge_children_connected') === 0,
    5000, 'children_connected 0').catch((e) => e);
  check('gatehouse_edge_children_connected back to 0', gone === true,
    `got ${m.get('gatehouse_edge_children_connected')}`);
});

// PROTOCOL.md 6.1: with the simplified string HostName={gwHost} the user
// name and the SAS audience name the gateway; both host names are accepted.
await step('SAS child with the simplified connection string HostName=<gateway>', async () => {
  const cs = env('GH_CS_C1').replace(/HostName=[^;]*/, `HostName=${env('GH_GW_HOST')}`);
  const c = await child(cs);
  const r = await tryOpen(c.client);
  check('c1 with HostName=gw.gatehouse.test: open() succeeds', !r.error, r.error && errText(r.error));
  if (!r.error) {
    const msg = new Message('simplified');
    msg.messageId = 'gw-tel-simple';
    await c.client.sendEvent(msg);
    const all = await waitTelemetry('c1', (l) => l.some((x) => sys(x)['message-id'] === 'gw-tel-simple'), 15000);
    const got = all.find((x) => sys(x)['message-id'] === 'gw-tel-simple');
    checkEq('its telemetry at the hub: iothub-connection-device-id', sys(got)['iothub-connection-device-id'], 'c1');
  }
  await closeQuietly(c);
}, 40000);

finish();
