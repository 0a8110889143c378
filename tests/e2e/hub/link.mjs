// The hub side of the gateway link (docs/edge-link.md): MQTT.js plays the
// gateway (`gatehouse edge`) on one connection authenticated as an IoT Edge
// device and carries its children as `$gh/c/{C}/` frames. Devices are made
// with the gatehouse CLI; outcomes are read back through the CLI and the
// hub's REST API.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import {
  env, step, check, checkEq, ok, fail, finish, watchdog, rest, registry, mqttProbe, mqttSas,
  subscribe, publish, closedWithin, endProbe, readTelemetry, waitTelemetry, bodyText, sendC2D,
  waitFor, Inbox,
} from '../lib/e2e.mjs';

watchdog(105);
const reg = registry();
const GH = env('GH');
const conn = ['--connection-string', env('GH_SERVICE_CS'), '--address', env('GH_HUB_ADDR'),
  '--ca', env('NODE_EXTRA_CA_CERTS')];

// gatehouse CLI, asynchronously (a method call waits while we answer it).
function cli(...args) {
  return new Promise((resolve) => {
    execFile(GH, [...args, ...conn], { timeout: 40000, encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}
const cliJson = async (...args) => {
  const r = await cli(...args, '--json');
  if (r.status !== 0) throw new Error(`gatehouse ${args.join(' ')}: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

const key = () => crypto.randomBytes(32).toString('base64');
const keys = { gw1: key(), child1: key(), child2: key(), other1: key() };
const P = (c, rest) => `$gh/c/${c}/${rest}`;

// Messages of the gateway connection, split: $detach notices vs the rest.
function route(probe) {
  const detach = new Inbox();
  const msgs = new Inbox();
  probe.client.on('message', (topic, payload, packet) => {
    const m = /^\$gh\/c\/([^/]+)\/\$detach$/.exec(topic);
    if (m) {
      let body;
      try { body = JSON.parse(payload.toString('utf8')); } catch { body = payload.toString('utf8'); }
      detach.push({ child: m[1], body, qos: packet.qos });
    } else {
      msgs.push({ topic, payload, packet });
    }
  });
  return { detach, msgs };
}

async function gateway() {
  const p = await mqttProbe(mqttSas('gw1', keys.gw1, { clean: true }));
  if (p.connack !== 0) throw new Error(`gateway could not connect: ${p.connack} ${p.error && p.error.message}`);
  return Object.assign(p, route(p));
}

const state = async (id) => (await rest('GET', `/devices/${id}`)).json?.connectionState;
async function waitState(id, want, what) {
  try {
    await waitFor(async () => (await state(id)) === want, 5000, `${id} ${want}`);
    ok(what);
  } catch (e) {
    fail(what, `${e.message}; state=${await state(id)}`);
  }
}
async function nextDetach(gw, child, ms = 5000) {
  for (;;) {
    const d = await gw.detach.next(ms, `$detach for ${child}`);
    if (d.child === child) return d;
  }
}
// SUBACK return codes, 0x80 included (mqtt.js 5 reports 0x80 as an error
// that carries the SUBACK packet).
const subackCodes = (probe, filter, qos = 0) => new Promise((resolve, reject) => {
  probe.client.subscribe(filter, { qos }, (err, granted) => {
    if (err && err.packet && Array.isArray(err.packet.granted)) resolve(err.packet.granted);
    else if (err) reject(err);
    else resolve(granted.map((g) => g.qos));
  });
});
const attach = (gw, child, body = { clean: true, auth: 'sas' }) =>
  publish(gw, P(child, '$attach'), JSON.stringify(body));

await step('setup: edge device, child, non-child (gatehouse device create)', async () => {
  const gw = await cliJson('device', 'create', 'gw1', '--edge', '--primary-key', keys.gw1);
  check('gw1 is an IoT Edge device', gw.capabilities?.iotEdge === true, JSON.stringify(gw.capabilities));
  const c1 = await cliJson('device', 'create', 'child1', '--parent', 'gw1', '--primary-key', keys.child1);
  checkEq('child1 deviceScope is the gateway\'s', c1.deviceScope, gw.deviceScope);
  await cliJson('device', 'create', 'child2', '--parent', 'gw1', '--primary-key', keys.child2);
  await cliJson('device', 'create', 'other1', '--primary-key', keys.other1);
  ok('devices created');
});

let gw;
await step('attach a child: Connected in the registry', async () => {
  gw = await gateway();
  checkEq('gateway CONNACK', gw.connack, 0);
  checkEq('$attach PUBACK', await attach(gw, 'child1'), 'puback');
  await waitState('child1', 'Connected', 'child1 Connected after $attach');
  check('no $detach after an accepted $attach', await gw.detach.none(300), 'got one');
  checkEq('gateway itself Connected', await state('gw1'), 'Connected');
});

await step('child telemetry through the link, stamped as the child', async () => {
  checkEq('PUBACK', await publish(gw, P('child1', 'devices/child1/messages/events/%24.mid=link-m1&color=red'),
    'from child1'), 'puback');
  const l = await waitTelemetry('child1', (ms) => ms.some((m) => m.properties.system['message-id'] === 'link-m1'));
  const m = l.find((x) => x.properties.system['message-id'] === 'link-m1');
  checkEq('iothub-connection-device-id', m.properties.system['iothub-connection-device-id'], 'child1');
  checkEq('deviceId', m.deviceId, 'child1');
  checkEq('application property', m.properties.app.color, 'red');
  checkEq('body', bodyText(m), 'from child1');
  check('auth method names sas', String(m.properties.system['iothub-connection-auth-method']).includes('"sas"'),
    m.properties.system['iothub-connection-auth-method']);
  const tail = await cli('telemetry', 'tail', '--device', 'child1', '--limit', '10', '--json');
  checkEq('gatehouse telemetry tail exit status', tail.status, 0);
  const list = tail.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  const viaCli = list.find((x) => x.properties?.system?.['message-id'] === 'link-m1');
  checkEq('gatehouse telemetry tail shows it as child1',
    viaCli?.properties?.system?.['iothub-connection-device-id'], 'child1');
  checkEq('nothing stored as the gateway', (await readTelemetry({ device: 'gw1' })).length, 0);
});

await step('a message sent again (same child, same message id) is acknowledged and stored once', async () => {
  checkEq('first copy: PUBACK', await publish(gw, P('child1', 'devices/child1/messages/events/%24.mid=dup-1'),
    'once'), 'puback');
  await waitTelemetry('child1', (ms) => ms.some((m) => m.properties.system['message-id'] === 'dup-1'));
  checkEq('second copy: PUBACK', await publish(gw, P('child1', 'devices/child1/messages/events/%24.mid=dup-1'),
    'once'), 'puback');
  checkEq('another message id is stored', await publish(gw,
    P('child1', 'devices/child1/messages/events/%24.mid=dup-2'), 'two'), 'puback');
  const l = await waitTelemetry('child1', (ms) => ms.some((m) => m.properties.system['message-id'] === 'dup-2'));
  checkEq('dup-1 stored once', l.filter((m) => m.properties.system['message-id'] === 'dup-1').length, 1);
});

await step('direct method for the child: invoked by the CLI, answered through the link', async () => {
  checkEq('SUBACK', await subscribe(gw, P('child1', '$iothub/methods/POST/#'), 0), [0]);
  const call = cliJson('method', 'invoke', 'child1', 'reboot', '--payload', '{"delay":1}',
    '--connect-timeout', '10', '--response-timeout', '10');
  const req = await gw.msgs.next(10000, 'method request');
  const m = /^\$gh\/c\/child1\/\$iothub\/methods\/POST\/reboot\/\?\$rid=(.+)$/.exec(req.topic);
  check('request topic', m, req.topic);
  checkEq('request payload', JSON.parse(req.payload.toString()), { delay: 1 });
  await publish(gw, P('child1', `$iothub/methods/res/201/?$rid=${m ? m[1] : 'x'}`), '{"done":true}', 0);
  const r = await call;
  checkEq('device status', r.status, 201);
  checkEq('device payload', r.payload, { done: true });
});

await step('C2D for the child through the link; the gateway\'s PUBACK completes it', async () => {
  checkEq('SUBACK', await subscribe(gw, P('child1', 'devices/child1/messages/devicebound/#'), 1), [1]);
  const s = await sendC2D('child1', 'hello child', { messageId: 'c2d-link-1', app: { k: 'v' } });
  checkEq('C2D queued', s.status, 200);
  const msg = await gw.msgs.next(10000, 'C2D message');
  check('topic', msg.topic.startsWith('$gh/c/child1/devices/child1/messages/devicebound/'), msg.topic);
  check('message id in the bag', msg.topic.includes('%24.mid=c2d-link-1'), msg.topic);
  checkEq('QoS 1', msg.packet.qos, 1);
  checkEq('body', msg.payload.toString(), 'hello child');
  await waitFor(async () => (await rest('GET', '/devices/child1')).json?.cloudToDeviceMessageCount === 0,
    5000, 'cloudToDeviceMessageCount 0').then(() => ok('queue empty after the PUBACK'),
    (e) => fail('queue empty after the PUBACK', e.message));
});

await step('twin GET, reported patch and a desired notification for the child', async () => {
  checkEq('SUBACK twin res + desired', await subscribe(gw, [P('child1', '$iothub/twin/res/#'),
    P('child1', '$iothub/twin/PATCH/properties/desired/#')], 0), [0, 0]);
  await publish(gw, P('child1', '$iothub/twin/GET/?$rid=g1'), ' ', 0);
  const g = await gw.msgs.next(5000, 'twin GET response');
  checkEq('GET response topic', g.topic, '$gh/c/child1/$iothub/twin/res/200/?$rid=g1');
  const doc = JSON.parse(g.payload.toString());
  check('GET body has desired and reported', doc.desired && doc.reported, g.payload.toString());
  await publish(gw, P('child1', '$iothub/twin/PATCH/properties/reported/?$rid=p1'), '{"fw":"1.2.3"}', 0);
  const p = await gw.msgs.next(5000, 'reported patch response');
  check('204 with $version', /^\$gh\/c\/child1\/\$iothub\/twin\/res\/204\/\?\$rid=p1&\$version=\d+$/.test(p.topic), p.topic);
  const twin = (await reg.getTwin('child1')).responseBody;
  checkEq('reported stored for child1', twin.properties.reported.fw, '1.2.3');
  await reg.updateTwin('child1', { properties: { desired: { interval: 7 } } }, '*');
  const d = await gw.msgs.next(5000, 'desired notification');
  check('desired topic', d.topic.startsWith('$gh/c/child1/$iothub/twin/PATCH/properties/desired/?$version='), d.topic);
  checkEq('desired body value', JSON.parse(d.payload.toString()).interval, 7);
});

await step('the gateway detaches the child: Disconnected; telemetry still accepted', async () => {
  checkEq('$detach PUBACK', await publish(gw, P('child1', '$detach'), ''), 'puback');
  await waitState('child1', 'Disconnected', 'child1 Disconnected after $detach');
  check('no $detach notice back', await gw.detach.none(300), 'got one');
  checkEq('drained telemetry PUBACK', await publish(gw, P('child1', 'devices/child1/messages/events/%24.mid=drained'),
    'stored earlier'), 'puback');
  const l = await waitTelemetry('child1', (ms) => ms.some((m) => m.properties.system['message-id'] === 'drained'));
  checkEq('stamped as child1', l.find((m) => m.properties.system['message-id'] === 'drained')
    .properties.system['iothub-connection-device-id'], 'child1');
  checkEq('subscribe for an unattached child: SUBACK 0x80',
    await subackCodes(gw, P('child1', '$iothub/methods/POST/#')), [128]);
  checkEq('... followed by $detach connack 5', (await nextDetach(gw, 'child1')).body.connack, 5);
  await publish(gw, P('child1', '$iothub/twin/GET/?$rid=x'), ' ', 0);
  checkEq('twin GET for an unattached child: $detach connack 5', (await nextDetach(gw, 'child1')).body.connack, 5);
});

await step('non-children are refused with $detach connack 5', async () => {
  checkEq('$attach PUBACK', await attach(gw, 'other1'), 'puback');
  const d = await nextDetach(gw, 'other1');
  checkEq('connack', d.body.connack, 5);
  check('reason given', typeof d.body.reason === 'string' && d.body.reason.length > 0, JSON.stringify(d.body));
  checkEq('notice QoS 0', d.qos, 0);
  checkEq('other1 stays Disconnected', await state('other1'), 'Disconnected');
  await attach(gw, 'nobody');
  checkEq('unknown device: connack 5', (await nextDetach(gw, 'nobody')).body.connack, 5);
  await attach(gw, 'gw1');
  checkEq('the gateway itself as a child: connack 5', (await nextDetach(gw, 'gw1')).body.connack, 5);
  checkEq('telemetry for a non-child: PUBACK', await publish(gw,
    P('other1', 'devices/other1/messages/events/%24.mid=spoof'), 'x'), 'puback');
  checkEq('... then $detach connack 5', (await nextDetach(gw, 'other1')).body.connack, 5);
  checkEq('... and nothing stored for other1', (await readTelemetry({ device: 'other1' })).length, 0);
  check('the link stays open', gw.client.connected, 'closed');
});

await step('disabling an attached child: $detach connack 3', async () => {
  checkEq('$attach child2', await attach(gw, 'child2'), 'puback');
  await waitState('child2', 'Connected', 'child2 Connected');
  const r = await cli('device', 'update', 'child2', '--status', 'disabled');
  checkEq('gatehouse device update --status disabled', r.status, 0);
  const d = await nextDetach(gw, 'child2');
  checkEq('connack 3', d.body.connack, 3);
  await waitState('child2', 'Disconnected', 'child2 Disconnected');
  await attach(gw, 'child2');
  checkEq('attach while disabled: connack 3', (await nextDetach(gw, 'child2')).body.connack, 3);
  checkEq('telemetry while disabled: PUBACK', await publish(gw,
    P('child2', 'devices/child2/messages/events/'), 'x'), 'puback');
  checkEq('... then $detach connack 3', (await nextDetach(gw, 'child2')).body.connack, 3);
  check('the link stays open', gw.client.connected, 'closed');
});

await step('a child given another parent is detached at once', async () => {
  await cliJson('device', 'create', 'child3', '--parent', 'gw1', '--primary-key', keys.child1);
  checkEq('$attach child3', await attach(gw, 'child3'), 'puback');
  await waitState('child3', 'Connected', 'child3 Connected');
  const r = await cli('device', 'update', 'child3', '--no-parent');
  checkEq('gatehouse device update --no-parent', r.status, 0);
  checkEq('$detach connack 5', (await nextDetach(gw, 'child3')).body.connack, 5);
  await waitState('child3', 'Disconnected', 'child3 Disconnected');
  check('the link stays open', gw.client.connected, 'closed');
});

await step('a child connecting directly takes over: the link gets $detach', async () => {
  await attach(gw, 'child1');
  await waitState('child1', 'Connected', 'child1 attached again');
  const direct = await mqttProbe(mqttSas('child1', keys.child1));
  checkEq('direct CONNACK', direct.connack, 0);
  const d = await nextDetach(gw, 'child1');
  check('$detach for child1 arrived', d && typeof d.body.connack === 'number', JSON.stringify(d && d.body));
  checkEq('child1 still Connected (directly)', await state('child1'), 'Connected');
  checkEq('direct telemetry works', await publish(direct, 'devices/child1/messages/events/%24.mid=direct', 'd'), 'puback');
  await endProbe(direct);
  await waitState('child1', 'Disconnected', 'child1 Disconnected after the direct connection ends');
});

await step('the link closes: its children become Disconnected', async () => {
  await attach(gw, 'child1');
  await waitState('child1', 'Connected', 'child1 Connected');
  await endProbe(gw);
  await waitState('child1', 'Disconnected', 'child1 Disconnected after the link closed');
  await waitState('gw1', 'Disconnected', 'gw1 Disconnected');
});

await step('rule violations on the link close it', async () => {
  let g = await gateway();
  checkEq('malformed prefix ($gh/c//x) closes the link', await publish(g, '$gh/c//x', 'x'), 'closed');
  await endProbe(g);
  g = await gateway();
  checkEq('$gh/ outside $gh/c/ closes the link', await publish(g, '$gh/other/child1/$attach', 'x'), 'closed');
  await endProbe(g);
  g = await gateway();
  await attach(g, 'child1');
  let outcome;
  try {
    outcome = `granted ${await subscribe(g, [P('child1', '$iothub/methods/POST/#'), P('child2', '$iothub/methods/POST/#')], 0)}`;
  } catch (e) { outcome = e.message; }
  checkEq('SUBSCRIBE naming two children', outcome, 'connection closed');
  await endProbe(g);
  await waitState('child1', 'Disconnected', 'child1 Disconnected after the link was closed');
});

await step('$gh/ topics on a non-edge device connection close it', async () => {
  let p = await mqttProbe(mqttSas('other1', keys.other1));
  checkEq('other1 CONNACK', p.connack, 0);
  checkEq('publish $gh/c/child1/$attach', await publish(p, P('child1', '$attach'), '{}'), 'closed');
  await endProbe(p);
  p = await mqttProbe(mqttSas('other1', keys.other1));
  let outcome;
  try { outcome = `granted ${await subscribe(p, P('child1', '$iothub/methods/POST/#'), 0)}`; } catch (e) { outcome = e.message; }
  checkEq('subscribe $gh/c/child1/...', outcome, 'connection closed');
  await endProbe(p);
  // A child (not an edge device) cannot be a link either.
  p = await mqttProbe(mqttSas('child1', keys.child1));
  checkEq('child1 publish $gh/c/child2/$attach', await publish(p, P('child2', '$attach'), '{}'), 'closed');
  await endProbe(p);
  checkEq('child2 still Disconnected', await state('child2'), 'Disconnected');
});

finish();
