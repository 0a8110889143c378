// The provisioning service on its own with two linked hubs (run by
// dps_linked.test.sh): allocation static and hashed across separate
// `gatehouse hub` processes, registration with the official Node
// provisioning SDK over MQTT and HTTP (202 assigning, polls, then assigned),
// the device on its assigned hub with azure-iot-device-mqtt, telemetry read
// back from that hub; a group X.509 enrollment whose tenant CA is uploaded
// to the linked hub verified (and one left to that hub's operator); a device
// moved between the hubs by its reprovision policy (twin migrated or reset);
// a paused and a stopped linked hub.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import {
  require, env, step, check, checkEq, ok, finish, watchdog, errText, ctl, pki, pkiPath, uniq,
  mqttProbe, endProbe, readTelemetry, sasToken, nowS, parseConnectionString, withTimeout, waitFor,
} from '../lib/e2e.mjs';
import { registrar, attempt, newKey, deriveKey, sasClient, x509Client } from '../lib/dps.mjs';

const { Mqtt: ProvMqtt } = require('azure-iot-provisioning-device-mqtt');
const { Http: ProvHttp } = require('azure-iot-provisioning-device-http');
const { ProvisioningServiceClient } = require('azure-iot-provisioning-service');
const { Message } = require('azure-iot-device');

watchdog(230);
const hubB = env('GH_HUB_B_HOST');
const hubC = env('GH_HUB_C_HOST');
const hubCs = { [hubB]: env('GH_HUB_B_CS'), [hubC]: env('GH_HUB_C_CS') };
const svc = ProvisioningServiceClient.fromConnectionString(env('GH_DPS_SERVICE_CS'));
const overMqtt = registrar(() => new ProvMqtt());
const overHttp = registrar(() => new ProvHttp());

// The hub a hashed enrollment picks (docs/dps.md): candidates[FNV-1a-64(lower-cased id) mod n].
function fnv1a64(s) {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(s.toLowerCase(), 'utf8')) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}
const hashedHub = (regId, hubs) => hubs[Number(fnv1a64(regId) % BigInt(hubs.length))];

// Telemetry from one hub's read path (the lib's helpers read GH_SERVICE_CS).
async function onHub(host, fn) {
  const saved = process.env.GH_SERVICE_CS;
  process.env.GH_SERVICE_CS = hubCs[host];
  try { return await fn(); } finally { process.env.GH_SERVICE_CS = saved; }
}

async function sendAndReadBack(client, state, tag) {
  await client.open();
  const m = new Message(JSON.stringify({ tag }));
  m.messageId = tag;
  await client.sendEvent(m);
  await client.close();
  const got = await onHub(state.assignedHub, () => waitFor(async () => {
    const l = await readTelemetry({ device: state.deviceId });
    return l.some((x) => x.properties.system['message-id'] === tag) ? l : null;
  }, 10000, `telemetry ${tag} on ${state.assignedHub}`, 200));
  ok(`${tag}: telemetry read back from ${state.assignedHub} (${got.length} message(s))`);
}

function checkState(tag, state, hub, deviceId) {
  checkEq(`${tag}: status`, state.status, 'assigned');
  checkEq(`${tag}: assignedHub`, state.assignedHub, hub);
  checkEq(`${tag}: deviceId`, state.deviceId, deviceId);
}

// ---- the standalone process serves no hub ------------------------------------------

await step('standalone: the hub endpoints of the provisioning process are refused', async () => {
  const host = env('GH_PROV_HOST');
  const p = await mqttProbe({ host, clientId: 'x', username: `${host}/x/?api-version=2021-04-12`,
    password: 'SharedAccessSignature sr=x&sig=x&se=1' });
  checkEq('MQTT CONNECT to the hub name: CONNACK 5', p.connack, 5);
  await endProbe(p);
  const st = await withTimeout(new Promise((resolve, reject) => {
    const req = https.request({ host, port: 443, path: '/devices?api-version=2021-04-12', servername: host,
      headers: { Authorization: sasToken(host, newKey(), nowS() + 60, 'iothubowner', { encodeSr: false }) } },
    (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end();
  }), 10000, 'GET /devices');
  checkEq('HTTPS hub path: 404', st, 404);
});

// ---- static allocation ---------------------------------------------------------------

const staticId = uniq('lnk-static');
const staticKey = newKey();
await step('static individual symmetric-key enrollment to hub B (MQTT)', async () => {
  await svc.createOrUpdateIndividualEnrollment({
    registrationId: staticId, allocationPolicy: 'static', iotHubHostName: hubB,
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: staticKey, secondaryKey: newKey() } },
    initialTwin: { tags: { site: 'plant-9' }, properties: { desired: { interval: 15 } } },
  });
  const t0 = Date.now();
  const state = await overMqtt.symRegister(staticId, staticKey);
  checkState('static', state, hubB, staticId);
  check('static: the SDK polled at least once (202 assigning, retry-after 3 s)', Date.now() - t0 >= 2500,
    `${Date.now() - t0} ms`);
  const c = sasClient(state, staticKey);
  await c.open();
  const twin = await c.getTwin();
  checkEq('static: initial twin desired property on hub B', twin.properties.desired.interval, 15);
  await c.close();
  await sendAndReadBack(sasClient(state, staticKey), state, `${staticId}-t1`);
  const reg = await svc.getDeviceRegistrationState(staticId);
  checkEq('static: registration state in the service API', reg.responseBody.assignedHub, hubB);
});

// ---- hashed allocation over a symmetric-key group --------------------------------------

const grpId = uniq('lnk-hash');
const grpKey = crypto.randomBytes(64).toString('base64');
const hashed = [];
await step('hashed group symmetric-key enrollment across hubs B and C (MQTT and HTTP)', async () => {
  await svc.createOrUpdateEnrollmentGroup({
    enrollmentGroupId: grpId, allocationPolicy: 'hashed', iotHubs: [hubB, hubC],
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: grpKey, secondaryKey: newKey() } },
  });
  const perHub = { [hubB]: 0, [hubC]: 0 };
  for (let i = 0; hashed.length < 6 && i < 200; i++) {
    const id = `${grpId}-d${i}`;
    const want = hashedHub(id, [hubB, hubC]);
    if (perHub[want] >= 3) continue;
    perHub[want]++;
    hashed.push({ id, want });
  }
  checkEq('six registration ids, three per hub by the hash rule', perHub, { [hubB]: 3, [hubC]: 3 });
  for (const [i, d] of hashed.entries()) {
    const r = i % 2 ? overHttp : overMqtt;
    const key = deriveKey(grpKey, d.id);
    const state = await r.symRegister(d.id, key);
    checkState(`${d.id} (${i % 2 ? 'HTTP' : 'MQTT'})`, state, d.want, d.id);
    d.key = key;
    d.state = state;
  }
  const one = (h) => hashed.find((d) => d.want === h);
  await sendAndReadBack(sasClient(one(hubB).state, one(hubB).key), one(hubB).state, `${one(hubB).id}-t1`);
  await sendAndReadBack(sasClient(one(hubC).state, one(hubC).key), one(hubC).state, `${one(hubC).id}-t1`);
  for (const d of hashed.slice(0, 3)) {
    const again = await overHttp.symRegister(d.id, d.key);
    checkEq(`${d.id}: re-registration stays on ${d.want}`, again.assignedHub, d.want);
  }
});

// ---- X.509 group: the tenant CA on the linked hub ----------------------------------------

await step('group X.509 enrollment to hub C: the tenant CA is uploaded there verified', async () => {
  const ca = uniq('lnk-tenant');
  pki('issue-ca', ca);
  const caPem = fs.readFileSync(pkiPath('cert', ca), 'utf8');
  await svc.createOrUpdateEnrollmentGroup({
    enrollmentGroupId: uniq('lnk-x509grp'), allocationPolicy: 'static', iotHubHostName: hubC,
    attestation: { type: 'x509', x509: { signingCertificates: { primary: { certificate: caPem } } } },
  });
  const dev = uniq('lnk-cadev');
  pki('issue-device', dev, '--issuer', ca);
  const state = await overMqtt.x509Register(dev, pkiPath('chain', dev), pkiPath('key', dev));
  checkState('x509 group', state, hubC, dev);
  // The CA record the provisioning service uploaded: "dps-" + SHA-1 thumbprint, verified.
  const sha1 = new crypto.X509Certificate(caPem).fingerprint.replace(/:/g, '').toUpperCase();
  await ctl(`ca-verified-c dps-${sha1}`);
  ok(`hub C holds dps-${sha1.slice(0, 8)}... verified`);
  await sendAndReadBack(x509Client(state, pkiPath('chain', dev), pkiPath('key', dev)), state, `${dev}-t1`);

  // A record of that name made by hand and left unverified: the operator decides.
  const ca2 = uniq('lnk-tenant2');
  pki('issue-ca', ca2);
  const ca2Pem = fs.readFileSync(pkiPath('cert', ca2), 'utf8');
  const sha1b = new crypto.X509Certificate(ca2Pem).fingerprint.replace(/:/g, '').toUpperCase();
  await ctl(`ca-add-c dps-${sha1b} ${ca2}`);
  await svc.createOrUpdateEnrollmentGroup({
    enrollmentGroupId: uniq('lnk-x509grp2'), allocationPolicy: 'static', iotHubHostName: hubC,
    attestation: { type: 'x509', x509: { signingCertificates: { primary: { certificate: ca2Pem } } } },
  });
  const dev2 = uniq('lnk-cadev2');
  pki('issue-device', dev2, '--issuer', ca2);
  const first = await attempt('unverified', () => overHttp.x509Register(dev2, pkiPath('chain', dev2), pkiPath('key', dev2)));
  check('unverified record by hand: registration failed', first.error && /RegistrationFailedError/.test(first.error.name),
    first.error ? errText(first.error) : 'succeeded');
  const rs = first.error && first.error.result && first.error.result.registrationState;
  checkEq('unverified record by hand: errorCode', rs && rs.errorCode, 400209);
  check('the message says why', rs && /certificate verification/.test(rs.errorMessage), rs && rs.errorMessage);
  await ctl(`verify-ca-c dps-${sha1b} ${ca2}`);
  ok('hub C operator verified the record (gatehouse ca verify)');
  const state2 = await overHttp.x509Register(dev2, pkiPath('chain', dev2), pkiPath('key', dev2));
  checkState('x509 group after verification', state2, hubC, dev2);
});

// ---- reprovisioning across linked hubs ---------------------------------------------------

const registryOf = (host) => require('azure-iothub').Registry.fromConnectionString(hubCs[host]);
async function onHubExists(host, id) {
  try {
    await registryOf(host).get(id);
    return true;
  } catch (e) {
    if (e && e.response && e.response.statusCode === 404) return false;
    throw e;
  }
}

await step('reprovisioning: updateHubAssignment moves a device from hub B to hub C with its twin', async () => {
  const id = uniq('lnk-move');
  const key = newKey();
  const enr = (hub, policy) => ({
    registrationId: id, allocationPolicy: 'static', iotHubHostName: hub,
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: key, secondaryKey: newKey() } },
    initialTwin: { tags: { site: 'initial' }, properties: { desired: { interval: 5 } } },
    reprovisionPolicy: policy,
  });
  let e = (await svc.createOrUpdateIndividualEnrollment(enr(hubB, { updateHubAssignment: true, migrateDeviceData: true }))).responseBody;
  checkState('before the move', await overHttp.symRegister(id, key), hubB, id);
  // The service changes the twin on hub B; the move must carry it.
  const rb = registryOf(hubB);
  const tb = (await rb.getTwin(id)).responseBody;
  await rb.updateTwin(id, { tags: { site: 'moved-with-me' } }, tb.etag);

  // updateHubAssignment false: the device stays where it is.
  e = (await svc.createOrUpdateIndividualEnrollment({ ...e, iotHubHostName: hubC,
    reprovisionPolicy: { updateHubAssignment: false, migrateDeviceData: true } })).responseBody;
  checkState('updateHubAssignment false: stays on B', await overMqtt.symRegister(id, key), hubB, id);

  // updateHubAssignment true + migrateDeviceData true: created on C with B's twin, gone from B.
  e = (await svc.createOrUpdateIndividualEnrollment({ ...e, iotHubHostName: hubC,
    reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: true } })).responseBody;
  const moved = await overHttp.symRegister(id, key);
  checkState('updateHubAssignment true: moved to C', moved, hubC, id);
  checkEq('moved: substatus', moved.substatus, 'deviceDataMigrated');
  const tc = (await registryOf(hubC).getTwin(id)).responseBody;
  checkEq('moved: the twin tags came along', tc.tags && tc.tags.site, 'moved-with-me');
  checkEq('moved: the desired properties came along', tc.properties.desired.interval, 5);
  checkEq('moved: the device is gone from hub B', await onHubExists(hubB, id), false);
  await sendAndReadBack(sasClient(moved, key), moved, `${id}-t1`);

  // And back to B with migrateDeviceData false: the initial twin, not C's.
  e = (await svc.createOrUpdateIndividualEnrollment({ ...e, iotHubHostName: hubB,
    reprovisionPolicy: { updateHubAssignment: true, migrateDeviceData: false } })).responseBody;
  const back = await overMqtt.symRegister(id, key);
  checkState('migrateDeviceData false: back on B', back, hubB, id);
  checkEq('back: substatus', back.substatus, 'deviceDataReset');
  const tb2 = (await rb.getTwin(id)).responseBody;
  checkEq('back: the initial twin', tb2.tags && tb2.tags.site, 'initial');
  checkEq('back: the device is gone from hub C', await onHubExists(hubC, id), false);
});

// ---- a linked hub that does not answer -------------------------------------------------

async function oneToC() {
  const id = uniq('lnk-toc');
  const key = newKey();
  await svc.createOrUpdateIndividualEnrollment({
    registrationId: id, allocationPolicy: 'static', iotHubHostName: hubC,
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: key, secondaryKey: newKey() } },
  });
  return { id, key };
}

function checkFailedOnC(tag, r) {
  check(`${tag}: registration to hub C failed`, r.error && /RegistrationFailedError/.test(r.error.name),
    r.error ? errText(r.error) : 'succeeded');
  const rs = r.error && r.error.result && r.error.result.registrationState;
  checkEq(`${tag}: errorCode reported to the SDK`, rs && rs.errorCode, 400209);
  if (rs) console.log(`    (SDK reported ${r.error.name}; registrationState.errorMessage: ${rs.errorMessage})`);
}

await step('hub C paused: its registration fails, one to hub B succeeds, the loop answers', async () => {
  const toC = await oneToC();
  await ctl('pause-hub-c');
  try {
    const cReg = attempt('to C', () => overMqtt.symRegister(toC.id, toC.key));
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const e = await svc.getIndividualEnrollment(staticId);
    const ms = Date.now() - t0;
    checkEq('service API answers while hub C hangs', e.responseBody.registrationId, staticId);
    check('service API answer is quick (the loop is not stalled)', ms < 1500, `${ms} ms`);
    const bState = await overMqtt.symRegister(staticId, staticKey);
    checkState('hub B registration meanwhile', bState, hubB, staticId);
    checkFailedOnC('paused', await cReg);
  } finally {
    await ctl('resume-hub-c');
  }
});

await step('hub C stopped: its registration fails (HTTP), hub B still assigns', async () => {
  const toC = await oneToC();
  await ctl('stop-hub-c');
  try {
    const [cRes, bRes] = await Promise.all([
      attempt('to C', () => overHttp.symRegister(toC.id, toC.key)),
      attempt('to B', () => overHttp.symRegister(staticId, staticKey)),
    ]);
    checkFailedOnC('stopped', cRes);
    check('hub B registration succeeded', !bRes.error, bRes.error && errText(bRes.error));
    if (!bRes.error) checkEq('hub B registration: assignedHub', bRes.result.assignedHub, hubB);
  } finally {
    await ctl('start-hub-c');
  }
  const state = await overMqtt.symRegister(toC.id, toC.key);
  checkState('hub C back: the same device registers', state, hubC, toC.id);
});

finish();
