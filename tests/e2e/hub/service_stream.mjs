// The live telemetry stream for service applications (docs/hub.md "Reading
// telemetry"): MQTT.js connects as $service:{name} with a policy token,
// subscribes to $gatehouse/telemetry/#, and receives what devices send,
// with the stored envelope (seq, properties, body). Refusals: a device
// token, a policy without ServiceConnect, a publish, a foreign filter.
import {
  env, step, check, checkEq, finish, watchdog, registry, uniq, sasToken, nowS, service,
  mqttProbe, mqttSas, subscribe, publish, closedWithin, endProbe, rest,
} from '../lib/e2e.mjs';

watchdog(60);
const reg = registry();
const host = env('GH_HUB_HOST');
const svc = service();
const dev = uniq('svc-dev');
const other = uniq('svc-other');
let key;
let otherKey;

const serviceToken = (policy, k, ttl = 3600) => sasToken(host, k, nowS() + ttl, policy, { encodeSr: false });
const serviceProbe = (name, password) => mqttProbe({ clientId: `$service:${name}`, username: host, password });

await step('devices created', async () => {
  key = (await reg.create({ deviceId: dev })).responseBody.authentication.symmetricKey.primaryKey;
  otherKey = (await reg.create({ deviceId: other })).responseBody.authentication.symmetricKey.primaryKey;
});

let all;
let one;
await step('service connects with the iothubowner policy and subscribes', async () => {
  all = await serviceProbe('all', serviceToken(svc.policy, svc.key));
  checkEq('CONNACK for $service:all', all.connack, 0);
  checkEq('SUBACK for $gatehouse/telemetry/#', (await subscribe(all, '$gatehouse/telemetry/#', 1)).join(), '1');
  one = await serviceProbe('one', serviceToken(svc.policy, svc.key));
  checkEq('CONNACK for $service:one', one.connack, 0);
  checkEq('SUBACK for one device', (await subscribe(one, `$gatehouse/telemetry/${dev}/#`, 0)).join(), '0');
});

await step('messages of the devices arrive live with their envelope', async () => {
  const d = await mqttProbe(mqttSas(dev, key));
  const o = await mqttProbe(mqttSas(other, otherKey));
  checkEq('device CONNACK', d.connack, 0);
  for (let i = 0; i < 3; i++) {
    checkEq(`device publish ${i}`, await publish(d, `devices/${dev}/messages/events/%24.mid=m${i}&k=v${i}`, `{"i":${i}}`), 'puback');
  }
  checkEq('other device publish', await publish(o, `devices/${other}/messages/events/`, 'x'), 'puback');
  const got = [];
  for (let i = 0; i < 4; i++) got.push(await all.events.next(5000, 'a streamed message'));
  const mine = got.filter((e) => e.topic === `$gatehouse/telemetry/${dev}`).map((e) => JSON.parse(e.payload));
  checkEq('all: 3 messages of the device, in order', mine.map((m) => m.body).join(' '), '{"i":0} {"i":1} {"i":2}');
  check('all: seq increases', mine[0].seq < mine[1].seq && mine[1].seq < mine[2].seq);
  checkEq('all: message id in system properties', mine[1].properties.system['message-id'], 'm1');
  checkEq('all: application property', mine[2].properties.app.k, 'v2');
  checkEq('all: stamped connection device id', mine[0].properties.system['iothub-connection-device-id'], dev);
  check('all: the other device too', got.some((e) => e.topic === `$gatehouse/telemetry/${other}`));
  const first = await one.events.next(5000, 'device-filtered message');
  checkEq('one: first message is the device\'s', JSON.parse(first.payload).body, '{"i":0}');
  for (let i = 1; i < 3; i++) await one.events.next(5000, 'device-filtered message');
  check('one: nothing of the other device', await one.events.none(500));
  // The REST read gives the same seq numbers, so a consumer can fill gaps.
  const r = await rest('GET', `/gatehouse/telemetry?device=${encodeURIComponent(dev)}&after=${mine[0].seq - 1}`);
  checkEq('REST read agrees on seq', r.json.messages.map((m) => m.seq).join(), mine.map((m) => m.seq).join());
  await endProbe(d);
  await endProbe(o);
});

await step('refusals', async () => {
  const devTok = await serviceProbe('x', sasToken(`${host}/devices/${dev}`, key, nowS() + 3600));
  checkEq('device token as service: CONNACK 5', devTok.connack, 5);
  const pol = await rest('GET', '/devices/' + dev); // any call proves the API is up
  check('REST up', pol.status === 200);
  const wrong = await serviceProbe('y', serviceToken(svc.policy, Buffer.alloc(32, 7).toString('base64')));
  checkEq('wrong policy key: CONNACK 5', wrong.connack, 5);
  const expired = await serviceProbe('z', serviceToken(svc.policy, svc.key, -3600));
  checkEq('expired policy token: CONNACK 5', expired.connack, 5);
  const p = await serviceProbe('pub', serviceToken(svc.policy, svc.key));
  checkEq('publish from a service connection closes it',
    await publish(p, `devices/${dev}/messages/events/`, 'spoof'), 'closed');
  const s = await serviceProbe('sub', serviceToken(svc.policy, svc.key));
  await subscribe(s, `devices/${dev}/messages/devicebound/#`, 1).catch(() => {});
  check('a device filter from a service connection closes it', await closedWithin(s, 3000));
});

await endProbe(all);
await endProbe(one);
finish();
