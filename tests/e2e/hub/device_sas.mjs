// The official Node device SDK (azure-iot-device + azure-iot-device-mqtt,
// unmodified) against `gatehouse hub` with a SAS device: telemetry with
// properties, cloud-to-device, twin get/patch/desired, direct methods,
// token renewal and reconnect after a hub restart. Devices are created with
// the official service SDK (azure-iothub).
import fs from 'node:fs';
import {
  require, env, step, check, checkEq, ok, fail, finish, watchdog, errText, Inbox, waitFor,
  withTimeout, readTelemetry, waitTelemetry, bodyText, sendC2D, registry, createSasDevice,
  deviceConnectionString, ctl, uniq, rest,
} from '../lib/e2e.mjs';

const { Client, Message, SharedAccessKeyAuthenticationProvider } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
const iothub = require('azure-iothub');

watchdog(105);
const reg = registry();
const service = iothub.Client.fromConnectionString(env('GH_SERVICE_CS'));
const deviceId = uniq('sas-dev');
let device;
let client;
const c2d = new Inbox();
const desired = new Inbox();
const methodCalls = new Inbox();

const invoke = (methodName, payload, extra = {}) => service.invokeDeviceMethod(deviceId,
  { methodName, payload, responseTimeoutInSeconds: 10, ...extra });

await step('create a SAS device with the service SDK', async () => {
  device = await createSasDevice(reg, deviceId);
  check('hub generated a primary key', typeof device.authentication?.symmetricKey?.primaryKey === 'string'
    && Buffer.from(device.authentication.symmetricKey.primaryKey, 'base64').length >= 16,
  JSON.stringify(device.authentication));
});
if (!device) finish();

await step('device client connects (SAS, MQTT over TLS, port 8883 on the host name)', async () => {
  client = Client.fromConnectionString(
    deviceConnectionString(deviceId, device.authentication.symmetricKey.primaryKey), Mqtt);
  client.on('error', (e) => console.log(`    (device client error: ${errText(e)})`));
  await client.open();
  ok('client.open() resolved');
  const d = await waitFor(async () => {
    const r = (await reg.get(deviceId)).responseBody;
    return r.connectionState === 'Connected' ? r : null;
  }, 5000, 'connectionState Connected');
  checkEq('registry shows the device Connected', d.connectionState, 'Connected');
});

await step('telemetry with system and application properties', async () => {
  const m = new Message(JSON.stringify({ t: 21.5 }));
  m.messageId = 'msg-1';
  m.correlationId = 'corr-1';
  m.contentType = 'application/json';
  m.contentEncoding = 'utf-8';
  m.properties.add('alert level', 'high & urgent');
  m.properties.add('path', 'a/b?c=d');
  m.properties.add('unicode', 'température ✓');
  // Anti-spoofing: a device cannot set a stamped system property.
  m.properties.add('iothub-connection-device-id', 'someone-else');
  await client.sendEvent(m);
  ok('sendEvent resolved (PUBACK)');
  const msgs = await waitTelemetry(deviceId, (l) => l.some((x) => x.properties?.system?.['message-id'] === 'msg-1'));
  const got = msgs.find((x) => x.properties.system['message-id'] === 'msg-1');
  const sys = got.properties.system;
  const app = got.properties.app || {};
  checkEq('body', bodyText(got), '{"t":21.5}');
  checkEq('deviceId of the record', got.deviceId, deviceId);
  checkEq('correlation-id', sys['correlation-id'], 'corr-1');
  checkEq('content-type', sys['content-type'], 'application/json');
  checkEq('content-encoding', sys['content-encoding'], 'utf-8');
  checkEq('app property with space and &', app['alert level'], 'high & urgent');
  checkEq('app property with / ? =', app.path, 'a/b?c=d');
  checkEq('app property in UTF-8', app.unicode, 'température ✓');
  checkEq('stamped iothub-connection-device-id wins over the device\'s', sys['iothub-connection-device-id'], deviceId);
  checkEq('generation id stamped', sys['iothub-connection-auth-generation-id'], device.generationId);
  let method = sys['iothub-connection-auth-method'];
  try { method = typeof method === 'string' ? JSON.parse(method) : method; } catch { /* keep */ }
  checkEq('auth method stamped', method && method.type, 'sas');
  checkEq('message source', sys['iothub-message-source'], 'Telemetry');
  check('enqueued time stamped (ISO 8601)', /^\d{4}-\d\d-\d\dT/.test(sys['iothub-enqueuedtime'] || ''), sys['iothub-enqueuedtime']);
});

await step('telemetry order and a binary body', async () => {
  const before = await readTelemetry({ device: deviceId });
  const after = before.length ? before[before.length - 1].seq : 0;
  for (let i = 0; i < 10; i++) {
    const m = new Message(`n=${i}`);
    m.messageId = `order-${i}`;
    await client.sendEvent(m);
  }
  await client.sendEvent(new Message(Buffer.from([0xff, 0x00, 0xfe, 0x80])));
  const msgs = await waitTelemetry(deviceId, (l) => l.filter((x) => x.seq > after).length >= 11);
  const mids = msgs.filter((x) => x.seq > after).map((x) => x.properties.system['message-id']);
  checkEq('ten messages stored in send order', mids.slice(0, 10).join(','),
    Array.from({ length: 10 }, (_, i) => `order-${i}`).join(','));
  const bin = msgs[msgs.length - 1];
  checkEq('a non-UTF-8 body is returned as base64', bin.bodyEncoding, 'base64');
  checkEq('binary body bytes', Buffer.from(bin.body, 'base64').toString('hex'), 'ff00fe80');
});

await step('cloud-to-device messages with properties', async () => {
  client.on('message', (msg) => {
    c2d.push(msg);
    client.complete(msg).catch((e) => fail('complete()', errText(e)));
  });
  const r = await sendC2D(deviceId, 'hello device', {
    messageId: 'c2d-1', correlationId: 'c2d-corr', contentType: 'text/plain',
    app: { color: 'red', 'x-note': 'a b/c&d=e' },
  });
  checkEq('POST deviceBound answers 200', r.status, 200);
  const m = await c2d.next(15000, 'C2D message');
  checkEq('C2D body', m.data.toString(), 'hello device');
  checkEq('C2D messageId', m.messageId, 'c2d-1');
  checkEq('C2D correlationId', m.correlationId, 'c2d-corr');
  checkEq('C2D app property', m.properties.getValue('color'), 'red');
  checkEq('C2D app property value with space / & =', m.properties.getValue('x-note'), 'a b/c&d=e');
  const r2 = await sendC2D(deviceId, 'second');
  checkEq('second POST answers 200', r2.status, 200);
  const m2 = await c2d.next(15000, 'second C2D message');
  checkEq('second C2D body (delivered after the first was completed)', m2.data.toString(), 'second');
  check('a C2D message without an id gets one from the hub', !!m2.messageId, JSON.stringify(m2.messageId));
  await waitFor(async () => (await reg.get(deviceId)).responseBody.cloudToDeviceMessageCount === 0,
    5000, 'cloudToDeviceMessageCount 0').then(() => ok('queue is empty after PUBACKs'),
    (e) => fail('queue is empty after PUBACKs', e.message));
});

let twin;
await step('twin: get, reported patch, desired updates', async () => {
  twin = await client.getTwin();
  check('getTwin resolved with desired.$version', typeof twin.properties.desired.$version === 'number',
    JSON.stringify(twin.properties));
  check('getTwin resolved with reported.$version', typeof twin.properties.reported.$version === 'number',
    JSON.stringify(twin.properties));
  const v0 = twin.properties.reported.$version;
  await new Promise((resolve, reject) => twin.properties.reported.update(
    { firmware: '1.2.0', settings: { mode: 'eco', level: 3 } }, (e) => (e ? reject(e) : resolve())));
  ok('reported patch acknowledged (204)');
  const st = (await reg.getTwin(deviceId)).responseBody;
  checkEq('service sees reported.firmware', st.properties.reported.firmware, '1.2.0');
  checkEq('service sees nested reported', st.properties.reported.settings, { mode: 'eco', level: 3 });
  checkEq('reported $version incremented', st.properties.reported.$version, v0 + 1);
  // Reported patch with null deletes.
  await new Promise((resolve, reject) => twin.properties.reported.update(
    { settings: { level: null } }, (e) => (e ? reject(e) : resolve())));
  const st2 = (await reg.getTwin(deviceId)).responseBody;
  checkEq('reported null removes a member', st2.properties.reported.settings, { mode: 'eco' });

  twin.on('properties.desired', (d) => desired.push(d));
  const first = await desired.next(5000, 'initial desired event');
  check('initial desired event', typeof first.$version === 'number', JSON.stringify(first));
  const dv = (await reg.getTwin(deviceId)).responseBody.properties.desired.$version;
  const upd = await reg.updateTwin(deviceId,
    { tags: { site: 'plant-7' }, properties: { desired: { targetTemp: 22, schedule: { on: '07:00' } } } }, '*');
  checkEq('updateTwin returns the tag', upd.responseBody.tags?.site, 'plant-7');
  let d;
  do { d = await desired.next(10000, 'desired notification'); } while (d.$version <= dv);
  checkEq('device receives desired targetTemp', d.targetTemp, 22);
  checkEq('desired $version incremented', d.$version, dv + 1);
  checkEq('device twin object merged the patch', twin.properties.desired.schedule?.on, '07:00');
  await reg.updateTwin(deviceId, { properties: { desired: { schedule: null } } }, '*');
  const d2 = await desired.next(10000, 'desired removal');
  checkEq('desired removal arrives as null', d2.schedule, null);
  const t2 = await client.getTwin();
  checkEq('device twin GET shows no tags', t2.properties.tags, undefined);
});

await step('direct methods', async () => {
  client.onDeviceMethod('reboot', (req, res) => {
    methodCalls.push(req);
    res.send(200, { accepted: true, got: req.payload }, (e) => e && fail('method response send', errText(e)));
  });
  client.onDeviceMethod('fail', (req, res) => res.send(500, (e) => e && fail('method response send', errText(e))));
  const r = await withTimeout(invoke('reboot', { delay: 5 }, { connectTimeoutInSeconds: 10 }), 15000, 'invoke reboot');
  checkEq('invokeDeviceMethod status', r.result.status, 200);
  checkEq('invokeDeviceMethod payload', r.result.payload, { accepted: true, got: { delay: 5 } });
  const req = await methodCalls.next(1000, 'method request seen by the device');
  checkEq('device saw the method name', req.methodName, 'reboot');
  const r2 = await invoke('fail', null);
  checkEq('device status 500 is passed through', r2.result.status, 500);
  checkEq('empty device payload is null', r2.result.payload, null);
  const t0 = Date.now();
  try {
    await invoke('nosuch', null, { responseTimeoutInSeconds: 5 });
    fail('unanswered method times out', 'resolved');
  } catch (e) {
    checkEq('unanswered method -> GatewayTimeoutError', e.name, 'GatewayTimeoutError');
    checkEq('unanswered method -> HTTP 504', e.response?.statusCode, 504);
    check('after about responseTimeoutInSeconds', Date.now() - t0 >= 4500 && Date.now() - t0 < 12000, `${Date.now() - t0} ms`);
  }
}, 40000);

// Reconnect 1: the hub restarts under a connected SDK client. The SDK's
// retry policy reconnects; its features (C2D, methods, desired) work again.
await step('reconnect after a hub restart', async () => {
  await ctl('restart-hub');
  ok('hub restarted');
  const r = await withTimeout(invoke('reboot', { again: true }, { connectTimeoutInSeconds: 30 }), 40000,
    'method after restart');
  checkEq('method works after the SDK reconnected', r.result.payload, { accepted: true, got: { again: true } });
  const s = await sendC2D(deviceId, 'after restart');
  checkEq('C2D POST after restart', s.status, 200);
  const m = await c2d.next(20000, 'C2D after restart');
  checkEq('C2D delivered after reconnect', m.data.toString(), 'after restart');
  const dv = (await reg.getTwin(deviceId)).responseBody.properties.desired.$version;
  await reg.updateTwin(deviceId, { properties: { desired: { targetTemp: 23 } } }, '*');
  let d;
  do { d = await desired.next(15000, 'desired after restart'); } while (d.$version <= dv);
  checkEq('desired notification after reconnect', d.targetTemp, 23);
  const msg = new Message('after-restart');
  msg.messageId = 'after-restart';
  await client.sendEvent(msg);
  await waitTelemetry(deviceId, (l) => l.some((x) => x.properties.system['message-id'] === 'after-restart'));
  ok('telemetry after reconnect stored');
}, 70000);

await step('close', async () => {
  await client.close();
  ok('client.close() resolved');
  const d = await waitFor(async () => {
    const x = (await reg.get(deviceId)).responseBody;
    return x.connectionState === 'Disconnected' ? x : null;
  }, 5000, 'connectionState Disconnected');
  checkEq('registry shows the device Disconnected', d.connectionState, 'Disconnected');
});

// Reconnect 2: SAS token renewal. The SDK signs 12 s tokens and renews them
// 6 s before expiry by reconnecting (DISCONNECT + CONNECT with a new token).
await step('token renewal reconnects and keeps working', async () => {
  const before = countConnects(deviceId);
  const auth = SharedAccessKeyAuthenticationProvider.fromConnectionString(
    deviceConnectionString(deviceId, device.authentication.symmetricKey.secondaryKey), 12, 6);
  const c2 = Client.fromAuthenticationProvider(auth, Mqtt);
  const inbox = new Inbox();
  c2.on('message', (msg) => { inbox.push(msg); c2.complete(msg).catch(() => {}); });
  c2.onDeviceMethod('ping', (req, res) => res.send(200, 'pong'));
  await c2.open();
  ok('connected with the secondary key');
  await waitFor(() => countConnects(deviceId) - before >= 3, 20000, 'two token renewals');
  ok(`hub saw the renewals (${countConnects(deviceId) - before} CONNECTs)`);
  const r = await withTimeout(service.invokeDeviceMethod(deviceId,
    { methodName: 'ping', payload: null, responseTimeoutInSeconds: 10, connectTimeoutInSeconds: 10 }),
  15000, 'method after renewal');
  checkEq('method after renewals', r.result.payload, 'pong');
  await sendC2D(deviceId, 'after renewal');
  checkEq('C2D after renewals', (await inbox.next(15000, 'C2D after renewal')).data.toString(), 'after renewal');
  await c2.close();
}, 50000);

await step('REST view of the device', async () => {
  const r = await rest('GET', `/devices/${deviceId}`);
  checkEq('GET /devices/{id} content type', (r.headers['content-type'] || '').startsWith('application/json'), true);
  checkEq('lastActivityTime was set', r.json && r.json.lastActivityTime !== '0001-01-01T00:00:00Z', true);
});

function countConnects(id) {
  let n = 0;
  for (const f of fs.readdirSync(env('GH_WORK'))) {
    if (!/^hub\.\d+\.log$/.test(f)) continue;
    for (const line of fs.readFileSync(`${env('GH_WORK')}/${f}`, 'utf8').split('\n')) {
      if (line.includes('event=hub.connect ') && (line.includes(`identity="${id}" `)
        || line.includes(`identity=${id} `))) n++;
    }
  }
  return n;
}

finish();
