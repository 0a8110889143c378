// The official Node device SDK with X.509 devices against `gatehouse hub`:
// a truly self-signed certificate (made by openssl, registered by SHA-1
// thumbprint), a certificate registered by SHA-256 thumbprint, and a device
// of a tenant CA that was registered and verified through the REST
// /certificates flow (proof of possession with `gatehouse pki
// verification-cert`). Telemetry, twin, methods and C2D over X.509.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import {
  require, env, step, check, checkEq, ok, finish, watchdog, errText, Inbox, withTimeout,
  waitTelemetry, sendC2D, registry, pki, pkiPath, thumbprints, registerVerifiedCA, uniq,
} from '../lib/e2e.mjs';

const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
const iothub = require('azure-iothub');

watchdog(100);
const reg = registry();
const service = iothub.Client.fromConnectionString(env('GH_SERVICE_CS'));
const host = env('GH_HUB_HOST');
const work = env('GH_WORK');

function x509Client(deviceId, certFile, keyFile) {
  const c = Client.fromConnectionString(`HostName=${host};DeviceId=${deviceId};x509=true`, Mqtt);
  c.setOptions({ cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') });
  c.on('error', (e) => console.log(`    (device client error: ${errText(e)})`));
  return c;
}

async function telemetryRoundTrip(client, deviceId, tag) {
  const m = new Message(JSON.stringify({ tag }));
  m.messageId = tag;
  m.properties.add('kind', 'x509');
  await client.sendEvent(m);
  const msgs = await waitTelemetry(deviceId, (l) => l.some((x) => x.properties.system['message-id'] === tag));
  const got = msgs.find((x) => x.properties.system['message-id'] === tag);
  checkEq(`${tag}: app property`, got.properties.app.kind, 'x509');
  let meth = got.properties.system['iothub-connection-auth-method'];
  try { meth = typeof meth === 'string' ? JSON.parse(meth) : meth; } catch { /* keep */ }
  check(`${tag}: auth method stamped as X.509`, /^x509/.test(meth && meth.type), JSON.stringify(meth));
}

// 1. A self-signed certificate made by openssl, registered by SHA-1 (lower case).
const ss1 = uniq('x509-ss1');
await step('selfSigned device, openssl self-signed certificate, SHA-1 thumbprint', async () => {
  const key = `${work}/${ss1}.key.pem`;
  const cert = `${work}/${ss1}.cert.pem`;
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-subj', `/CN=${ss1}`, '-days', '30'],
  { stdio: 'ignore', timeout: 20000 });
  const tp = pki('inspect', cert).certificates[0];
  const r = await reg.create({ deviceId: ss1, authentication: { type: 'selfSigned',
    x509Thumbprint: { primaryThumbprint: tp.sha1.toLowerCase(), secondaryThumbprint: null } } });
  checkEq('registered selfSigned', r.responseBody.authentication.type, 'selfSigned');
  const c = x509Client(ss1, cert, key);
  await c.open();
  ok('SDK connected with the self-signed certificate');
  await telemetryRoundTrip(c, ss1, 'ss1-telemetry');
  const inbox = new Inbox();
  c.on('message', (msg) => { inbox.push(msg); c.complete(msg).catch(() => {}); });
  await sendC2D(ss1, 'to x509 device', { app: { k: 'v' } });
  const m = await inbox.next(15000, 'C2D over X.509');
  checkEq('C2D over X.509: body', m.data.toString(), 'to x509 device');
  checkEq('C2D over X.509: property', m.properties.getValue('k'), 'v');
  await c.close();
});

// 2. A certificate from gatehouse pki, registered by SHA-256 as the secondary thumbprint.
const ss2 = uniq('x509-ss2');
await step('selfSigned device, SHA-256 secondary thumbprint', async () => {
  pki('issue-device', ss2, '--issuer', 'root');
  const tp = thumbprints(ss2);
  await reg.create({ deviceId: ss2, authentication: { type: 'selfSigned',
    x509Thumbprint: { primaryThumbprint: 'AA'.repeat(32), secondaryThumbprint: tp.sha256 } } });
  const c = x509Client(ss2, pkiPath('cert', ss2), pkiPath('key', ss2));
  await c.open();
  ok('SDK connected; the secondary SHA-256 thumbprint matched');
  await telemetryRoundTrip(c, ss2, 'ss2-telemetry');
  const twin = await c.getTwin();
  await new Promise((res, rej) => twin.properties.reported.update({ cert: 'sha256' }, (e) => (e ? rej(e) : res())));
  checkEq('reported property over X.509', (await reg.getTwin(ss2)).responseBody.properties.reported.cert, 'sha256');
  await c.close();
});

// 3. A tenant CA registered and verified with the hub; the device presents
// its chain (leaf + tenant CA) and CN = device id.
const caDev = uniq('x509-ca');
await step('certificateAuthority device of a verified tenant CA', async () => {
  pki('issue-ca', 'x509-tenant');
  const desc = await registerVerifiedCA('x509-tenant');
  checkEq('tenant CA verified', desc.properties.isVerified, true);
  pki('issue-device', caDev, '--issuer', 'x509-tenant');
  const r = await reg.create({ deviceId: caDev, authentication: { type: 'certificateAuthority' } });
  checkEq('registered certificateAuthority', r.responseBody.authentication.type, 'certificateAuthority');
  const c = x509Client(caDev, pkiPath('chain', caDev), pkiPath('key', caDev));
  await c.open();
  ok('SDK connected with a CA-signed certificate');
  await telemetryRoundTrip(c, caDev, 'ca-telemetry');
  c.onDeviceMethod('identify', (req, res) => res.send(200, { me: caDev }));
  const inv = await withTimeout(service.invokeDeviceMethod(caDev,
    { methodName: 'identify', payload: null, responseTimeoutInSeconds: 10, connectTimeoutInSeconds: 10 }),
  15000, 'method over X.509 CA');
  checkEq('method over X.509 CA', inv.result.payload, { me: caDev });
  const desired = new Inbox();
  const twin = await c.getTwin();
  twin.on('properties.desired', (d) => desired.push(d));
  await desired.next(5000, 'initial desired');
  await reg.updateTwin(caDev, { properties: { desired: { led: 'green' } } }, '*');
  checkEq('desired over X.509 CA', (await desired.next(10000, 'desired over X.509')).led, 'green');
  await c.close();
});

await step('a second device of the same CA, presenting only its leaf certificate', async () => {
  const id = uniq('x509-ca-leaf');
  pki('issue-device', id, '--issuer', 'x509-tenant');
  await reg.create({ deviceId: id, authentication: { type: 'certificateAuthority' } });
  const c = x509Client(id, pkiPath('cert', id), pkiPath('key', id));
  await c.open();
  ok('leaf-only certificate accepted (the registered tenant CA is the trust anchor)');
  await telemetryRoundTrip(c, id, 'ca-leaf-telemetry');
  await c.close();
});

finish();
