// Negative tests against `gatehouse hub` with independent MQTT clients:
// MQTT.js (exact CONNACK codes, SUBACK/close outcomes) and mosquitto's
// mosquitto_pub / mosquitto_sub (exit status and message), plus
// `openssl s_client` for the TLS endpoint. Every refused attempt is checked
// for its exact outcome, and where a message could have slipped through,
// the telemetry store is checked to be unchanged.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import {
  env, step, check, checkEq, ok, fail, finish, watchdog, delay, rest, registry, uniq,
  sasToken, nowS, deviceToken, service, readTelemetry, pki, pkiPath, thumbprints,
  registerVerifiedCA, readPem, mqttProbe, mqttSas, mqttX509, subscribe, publish, closedWithin,
  endProbe, waitTelemetry, bodyText,
} from '../lib/e2e.mjs';

watchdog(105);
const reg = registry();
const host = env('GH_HUB_HOST');
const withHosts = new URL('../lib/with-hosts', import.meta.url).pathname;
const rootCa = pkiPath('cert', 'root');

const devA = uniq('neg-a');
const devB = uniq('neg-b');
const devDis = uniq('neg-dis');
const caDev1 = uniq('neg-ca1');
const caDev2 = uniq('neg-ca2');
const caUnverified = uniq('neg-cau');
const ssDev = uniq('neg-ss');
const keys = {};

const user = (id) => `${host}/${id}/?api-version=2021-04-12`;
const telemetryCount = async (id) => (await readTelemetry({ device: id })).length;

await step('setup: SAS devices', async () => {
  for (const id of [devA, devB]) {
    keys[id] = (await reg.create({ deviceId: id })).responseBody.authentication.symmetricKey.primaryKey;
  }
  keys[devDis] = (await reg.create({ deviceId: devDis, status: 'disabled' }))
    .responseBody.authentication.symmetricKey.primaryKey;
  ok('devices created');
});

// ---- MQTT.js: CONNECT -------------------------------------------------------

async function expectConnack(name, opts, code) {
  const p = await mqttProbe(opts);
  if (p.connack === undefined) fail(name, `no CONNACK: ${p.error && p.error.message}`);
  else checkEq(`${name}: CONNACK ${code}`, p.connack, code);
  await endProbe(p);
  return p;
}

await step('MQTT.js: CONNECT decisions', async () => {
  await expectConnack('valid SAS device (baseline)', mqttSas(devA, keys[devA]), 0);
  const wrong = Buffer.alloc(32, 9).toString('base64');
  await expectConnack('wrong key', mqttSas(devA, wrong), 5);
  await expectConnack('expired token (10 min ago, beyond the 5 min skew)', mqttSas(devA, keys[devA],
    { password: sasToken(`${host}/devices/${devA}`, keys[devA], nowS() - 600) }), 5);
  await expectConnack('unknown device', mqttSas('no-such-device', keys[devA]), 5);
  await expectConnack('disabled device', mqttSas(devDis, keys[devDis]), 3);
  await expectConnack('client id differs from the user name identity',
    { clientId: devA, username: user(devB), password: deviceToken(devB, keys[devB]) }, 5);
  await expectConnack('another device\'s valid token',
    { clientId: devA, username: user(devA), password: deviceToken(devB, keys[devB]) }, 5);
  await expectConnack('token whose audience names another hub',
    mqttSas(devA, keys[devA], { password: sasToken(`other.gatehouse.test/devices/${devA}`, keys[devA], nowS() + 600) }), 5);
  await expectConnack('no password and no certificate', { clientId: devA, username: user(devA) }, 5);
  await expectConnack('malformed password', mqttSas(devA, keys[devA], { password: 'not a token' }), 5);
  await expectConnack('user name without the hub form', mqttSas(devA, keys[devA], { username: devA }), 5);
  const s = service();
  await expectConnack('iothubowner policy token (DeviceConnect) may connect as a device',
    mqttSas(devA, keys[devA], { password: sasToken(`${host}/devices/${devA}`, s.key, nowS() + 600, s.policy) }), 0);
  await expectConnack('MQTT 3.1 (protocol level 3)', mqttSas(devA, keys[devA], { protocolVersion: 3, protocolId: 'MQIsdp' }), 1);
});

await step('MQTT.js: token inside the clock skew is accepted, then the hub drops it at expiry', async () => {
  const p = await mqttProbe(mqttSas(devA, keys[devA],
    { password: sasToken(`${host}/devices/${devA}`, keys[devA], nowS() - 292) }));
  checkEq('token expired 292 s ago: CONNACK 0 (5 min skew)', p.connack, 0);
  if (p.connack === 0) {
    check('connection closed by the hub once se + skew passed', await closedWithin(p, 20000), 'still open after 20 s');
  }
  await endProbe(p);
}, 30000);

// ---- MQTT.js: authorization after CONNECT ------------------------------------

async function connected(id) {
  const p = await mqttProbe(mqttSas(id, keys[id]));
  if (p.connack !== 0) throw new Error(`${id} could not connect: ${p.connack} ${p.error && p.error.message}`);
  return p;
}

await step('MQTT.js: publish on another device\'s telemetry topic closes the connection', async () => {
  const before = await telemetryCount(devB);
  const p = await connected(devA);
  checkEq('outcome', await publish(p, `devices/${devB}/messages/events/`, 'spoof'), 'closed');
  await endProbe(p);
  checkEq('nothing stored for the other device', await telemetryCount(devB), before);
});

await step('MQTT.js: subscribe to another device\'s C2D topic closes the connection', async () => {
  const p = await connected(devA);
  let outcome;
  try { outcome = `granted ${await subscribe(p, `devices/${devB}/messages/devicebound/#`)}`; } catch (e) { outcome = e.message; }
  checkEq('outcome (hub closes instead of SUBACK 0x80, docs/hub.md)', outcome, 'connection closed');
  await endProbe(p);
  // And nothing of devB's leaks to devA: send devB a message, devA (own C2D) sees nothing.
  const q = await connected(devA);
  await subscribe(q, `devices/${devA}/messages/devicebound/#`);
  const r = await rest('POST', `/devices/${devB}/messages/deviceBound`, { body: Buffer.from('for b only') });
  checkEq('C2D for the other device queued', r.status, 200);
  check('the other device\'s C2D message is not delivered here', await q.events.none(1500), 'got a message');
  await endProbe(q);
  await rest('DELETE', `/devices/${devB}/commands`);
});

await step('MQTT.js: subscribe to # closes the connection', async () => {
  const p = await connected(devA);
  let outcome;
  try { outcome = `granted ${await subscribe(p, '#')}`; } catch (e) { outcome = e.message; }
  checkEq('outcome', outcome, 'connection closed');
  await endProbe(p);
  const q = await connected(devA);
  try { outcome = `granted ${await subscribe(q, 'devices/+/messages/events/#')}`; } catch (e) { outcome = e.message; }
  checkEq('devices/+/messages/events/# outcome', outcome, 'connection closed');
  await endProbe(q);
});

await step('MQTT.js: own filters are granted (QoS 2 request -> 1)', async () => {
  const p = await connected(devA);
  checkEq('C2D filter at QoS 2 granted QoS 1', await subscribe(p, `devices/${devA}/messages/devicebound/#`, 2), [1]);
  checkEq('twin response filter at QoS 0', await subscribe(p, '$iothub/twin/res/#', 0), [0]);
  checkEq('methods filter', await subscribe(p, '$iothub/methods/POST/#', 0), [0]);
  await endProbe(p);
});

await step('MQTT.js: QoS 2 publish closes the connection, nothing stored', async () => {
  const before = await telemetryCount(devA);
  const p = await connected(devA);
  checkEq('outcome', await publish(p, `devices/${devA}/messages/events/%24.mid=qos2`, 'qos2', 2), 'closed');
  await endProbe(p);
  await delay(300);
  checkEq('nothing stored', await telemetryCount(devA), before);
});

await step('MQTT.js: a 300 KiB message closes the connection; 200 KiB is accepted', async () => {
  const before = await telemetryCount(devA);
  const p = await connected(devA);
  checkEq('300 KiB outcome', await publish(p, `devices/${devA}/messages/events/`, Buffer.alloc(300 * 1024, 0x61), 1, 10000), 'closed');
  await endProbe(p);
  checkEq('nothing stored', await telemetryCount(devA), before);
  const q = await connected(devA);
  checkEq('200 KiB outcome', await publish(q, `devices/${devA}/messages/events/%24.mid=big`, Buffer.alloc(200 * 1024, 0x62), 1, 10000), 'puback');
  await endProbe(q);
  const l = await readTelemetry({ device: devA });
  const big = l.find((m) => m.properties.system['message-id'] === 'big');
  checkEq('200 KiB body stored whole', big && bodyText(big).length, 200 * 1024);
  // The budget counts properties too (1.5 item 9): 250 KiB body + 10 KiB of properties.
  const r = await connected(devA);
  checkEq('250 KiB body + 10 KiB of properties outcome', await publish(r,
    `devices/${devA}/messages/events/pad=${'p'.repeat(10 * 1024)}`, Buffer.alloc(250 * 1024, 0x63), 1, 10000), 'closed');
  await endProbe(r);
}, 40000);

await step('MQTT.js: unsupported topics close the connection', async () => {
  const p = await connected(devA);
  checkEq('publish $iothub/unknown', await publish(p, '$iothub/unknown/topic', 'x'), 'closed');
  await endProbe(p);
  const q = await connected(devA);
  checkEq('publish to a C2D topic', await publish(q, `devices/${devA}/messages/devicebound/`, 'x'), 'closed');
  await endProbe(q);
});

await step('MQTT.js: a second connection with the same identity replaces the first', async () => {
  const p1 = await connected(devA);
  const p2 = await connected(devA);
  checkEq('second CONNACK', p2.connack, 0);
  check('first connection closed by the hub', await closedWithin(p1, 5000), 'still open');
  checkEq('second connection works (PUBACK)', await publish(p2, `devices/${devA}/messages/events/%24.mid=second-conn`, 'x'), 'puback');
  check('second connection stays open', p2.client.connected, 'closed');
  await endProbe(p1);
  await endProbe(p2);
});

await step('MQTT.js: disabling or deleting a connected device closes its connection', async () => {
  const p = await connected(devB);
  const d = (await reg.get(devB)).responseBody;
  await reg.update({ ...d, status: 'disabled' });
  check('disabled -> connection closed', await closedWithin(p, 5000), 'still open');
  await endProbe(p);
  await expectConnack('reconnect while disabled', mqttSas(devB, keys[devB]), 3);
  await reg.update({ ...d, status: 'enabled' });
  const q = await connected(devB);
  await reg.delete(devB);
  check('deleted -> connection closed', await closedWithin(q, 5000), 'still open');
  await endProbe(q);
  await expectConnack('reconnect after delete', mqttSas(devB, keys[devB]), 5);
});

// ---- mosquitto_pub / mosquitto_sub ----------------------------------------------

function mosq(tool, args, timeoutMs = 10000) {
  const r = spawnSync(withHosts, [tool, '-h', host, '-p', '8883', '--cafile', rootCa, '-V', 'mqttv311', ...args],
    { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, out: `${r.stdout || ''}${r.stderr || ''}`, error: r.error };
}
const mosqSas = (id, key, password) => ['-i', id, '-u', user(id), '-P', password || deviceToken(id, key)];
const mosqX509 = (id, name = id) => ['-i', id, '-u', user(id), '--cert', pkiPath('chain', name), '--key', pkiPath('key', name)];

function refused(name, res, text) {
  check(`${name}: mosquitto_pub fails`, res.status !== 0 && res.status !== null, `status ${res.status}`);
  check(`${name}: says "${text}"`, res.out.includes(text), res.out.trim());
}

const hostsOk = spawnSync(withHosts, ['true'], { timeout: 5000 }).status === 0;
await step('mosquitto clients: SAS devices', async () => {
  if (!hostsOk) {
    fail('with-hosts works here (unshare + bind mount of /etc/hosts; needs root)', 'cannot resolve the hub name for mosquitto');
    return;
  }
  // C-SDK style raw property bag (unencoded '/' in a value), QoS 1.
  let r = mosq('mosquitto_pub', [...mosqSas(devA, keys[devA]), '-q', '1',
    '-t', `devices/${devA}/messages/events/temperatureAlert=true&%24.mid=mosq-1&%24.ct=application/json`, '-m', '{"t":30}']);
  checkEq(`mosquitto_pub valid device: exit status (${r.out.trim()})`, r.status, 0);
  const got = (await waitTelemetry(devA, (l) => l.some((m) => m.properties.system['message-id'] === 'mosq-1')))
    .find((m) => m.properties.system['message-id'] === 'mosq-1');
  checkEq('mosquitto message: raw content-type', got.properties.system['content-type'], 'application/json');
  checkEq('mosquitto message: app property', got.properties.app.temperatureAlert, 'true');
  checkEq('mosquitto message: body', bodyText(got), '{"t":30}');

  refused('wrong key', mosq('mosquitto_pub', [...mosqSas(devA, Buffer.alloc(32, 3).toString('base64')), '-t',
    `devices/${devA}/messages/events/`, '-m', 'x', '-q', '1']), 'not authorised');
  refused('expired token', mosq('mosquitto_pub', [...mosqSas(devA, keys[devA],
    sasToken(`${host}/devices/${devA}`, keys[devA], nowS() - 900)), '-t', `devices/${devA}/messages/events/`, '-m', 'x']),
  'not authorised');
  refused('unknown device', mosq('mosquitto_pub', [...mosqSas('no-such-device', keys[devA]), '-t',
    'devices/no-such-device/messages/events/', '-m', 'x']), 'not authorised');
  refused('disabled device', mosq('mosquitto_pub', [...mosqSas(devDis, keys[devDis]), '-t',
    `devices/${devDis}/messages/events/`, '-m', 'x']), 'unavailable');
  refused('client id / user name mismatch', mosq('mosquitto_pub', ['-i', devA, '-u', user(devDis), '-P',
    deviceToken(devA, keys[devA]), '-t', `devices/${devA}/messages/events/`, '-m', 'x']), 'not authorised');

  // QoS 2: the hub closes the connection; the message is not stored.
  const before = await telemetryCount(devA);
  r = mosq('mosquitto_pub', [...mosqSas(devA, keys[devA]), '-q', '2', '-d', '-t',
    `devices/${devA}/messages/events/%24.mid=mosq-qos2`, '-m', 'x']);
  check('QoS 2: PUBLISH (q2) sent', /sending PUBLISH \([^)]*q2/i.test(r.out), r.out.trim());
  check('QoS 2: no PUBREC from the hub', !/received PUBREC/i.test(r.out), r.out.trim());
  check('QoS 2: mosquitto_pub reports failure', r.status !== 0, `status ${r.status}: ${r.out.trim()}`);
  checkEq('QoS 2: nothing stored', await telemetryCount(devA), before);

  // 300 KiB message: closed, not stored.
  const bigFile = `${env('GH_WORK')}/big.bin`;
  fs.writeFileSync(bigFile, Buffer.alloc(300 * 1024, 0x61));
  r = mosq('mosquitto_pub', [...mosqSas(devA, keys[devA]), '-q', '1', '-d', '-t',
    `devices/${devA}/messages/events/%24.mid=mosq-big`, '-f', bigFile]);
  check('300 KiB: PUBLISH of 307200 bytes sent', /sending PUBLISH .*\(307200 bytes\)/i.test(r.out), r.out.trim().slice(0, 300));
  check('300 KiB: no PUBACK', !/received PUBACK/i.test(r.out), r.out.trim().slice(0, 300));
  checkEq('300 KiB: nothing stored', await telemetryCount(devA), before);

  // '#' subscription: no SUBACK, the connection is closed (mosquitto_sub
  // reconnects by itself, so -W bounds it; only the debug trace tells).
  r = mosq('mosquitto_sub', [...mosqSas(devA, keys[devA]), '-t', '#', '-d', '-W', '3'], 10000);
  check('# subscription: SUBSCRIBE sent', /sending SUBSCRIBE/i.test(r.out), r.out.trim());
  check('# subscription: no SUBACK', !/received SUBACK/i.test(r.out), r.out.trim());
  r = mosq('mosquitto_sub', [...mosqSas(devA, keys[devA]), '-t', `devices/${devDis}/messages/devicebound/#`, '-d', '-W', '3'], 10000);
  check('other device\'s C2D subscription: no SUBACK', /sending SUBSCRIBE/i.test(r.out) && !/received SUBACK/i.test(r.out), r.out.trim());
  // Own C2D filter: granted, and a queued message arrives.
  await rest('POST', `/devices/${devA}/messages/deviceBound`, { body: Buffer.from('hello mosquitto') });
  r = mosq('mosquitto_sub', [...mosqSas(devA, keys[devA]), '-c', '-q', '1', '-t', `devices/${devA}/messages/devicebound/#`,
    '-C', '1', '-W', '8', '-v'], 12000);
  check('own C2D subscription: message delivered to mosquitto_sub', r.out.includes('hello mosquitto')
    && r.out.includes(`devices/${devA}/messages/devicebound/`), r.out.trim());
}, 90000);

// X.509 last: a registered CA changes what every later CONNECT consults.
await step('setup: CA and X.509 devices', async () => {
  pki('issue-ca', 'neg-tenant');
  await registerVerifiedCA('neg-tenant');
  for (const id of [caDev1, caDev2]) {
    pki('issue-device', id, '--issuer', 'neg-tenant');
    await reg.create({ deviceId: id, authentication: { type: 'certificateAuthority' } });
  }
  // A CA from another root, never registered: its CN is right, its issuer is not trusted.
  pki('init-root', '--name', 'rogue-root');
  pki('issue-ca', 'rogue-ca', '--issuer', 'rogue-root');
  pki('issue-device', caDev1, '--issuer', 'rogue-ca', '--name', 'rogue-device');
  // A CA registered but never verified (no proof of possession).
  pki('issue-ca', 'neg-unverified');
  const put = await rest('PUT', `/certificates/${uniq('unverified')}`,
    { body: { properties: { certificate: readPem('cert', 'neg-unverified') } } });
  checkEq('unverified CA uploaded', put.status, 200);
  pki('issue-device', caUnverified, '--issuer', 'neg-unverified');
  await reg.create({ deviceId: caUnverified, authentication: { type: 'certificateAuthority' } });
  // A selfSigned device pinned to one certificate.
  pki('issue-device', ssDev, '--issuer', 'root');
  pki('issue-device', 'neg-ss-other', '--issuer', 'root');
  await reg.create({ deviceId: ssDev, authentication: { type: 'selfSigned',
    x509Thumbprint: { primaryThumbprint: thumbprints(ssDev).sha256, secondaryThumbprint: null } } });
  ok('X.509 devices created');
});

// ---- MQTT.js: X.509 ------------------------------------------------------------

await step('MQTT.js: X.509 decisions', async () => {
  await expectConnack('CA device with a verified tenant CA (baseline)', mqttX509(caDev1), 0);
  await expectConnack('certificate from an untrusted CA (CN = the device id)',
    mqttX509(caDev1, 'rogue-device'), 5);
  await expectConnack('CA-signed certificate whose CN is another device',
    mqttX509(caDev1, caDev2), 5);
  await expectConnack('certificate of a CA registered but not verified', mqttX509(caUnverified), 5);
  await expectConnack('selfSigned device (baseline)', mqttX509(ssDev), 0);
  await expectConnack('selfSigned device presenting another certificate', mqttX509(ssDev, 'neg-ss-other'), 5);
  await expectConnack('SAS device presenting a certificate and no password', mqttX509(devA, ssDev), 5);
  await expectConnack('unknown device with a valid certificate', mqttX509('no-such-device', caDev1,
    { clientId: 'no-such-device', username: user('no-such-device') }), 5);
});

await step('mosquitto clients: X.509 devices', async () => {
  if (!hostsOk) return;
  refused('certificate from an untrusted CA', mosq('mosquitto_pub', [...mosqX509(caDev1, 'rogue-device'), '-t',
    `devices/${caDev1}/messages/events/`, '-m', 'x']), 'not authorised');
  refused('CA-signed certificate whose CN is another device', mosq('mosquitto_pub', [...mosqX509(caDev1, caDev2), '-t',
    `devices/${caDev1}/messages/events/`, '-m', 'x']), 'not authorised');
  const r = mosq('mosquitto_pub', [...mosqX509(caDev1), '-q', '1', '-t', `devices/${caDev1}/messages/events/%24.mid=mosq-x509`, '-m', 'x509']);
  checkEq(`mosquitto_pub with a CA-signed certificate: exit status (${r.out.trim()})`, r.status, 0);
  await waitTelemetry(caDev1, (l) => l.some((m) => m.properties.system['message-id'] === 'mosq-x509'));
  ok('mosquitto X.509 message stored');
});

finish();
