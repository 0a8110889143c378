// Device registration over HTTPS with the official Node provisioning SDKs
// against the provisioning service embedded in `gatehouse hub` (PROTOCOL.md
// 4.4, 4.8). azure-iot-provisioning-service creates each enrollment kind
// (and exercises get, query with paging, attestation mechanism, bulk,
// registration states, If-Match); azure-iot-provisioning-device-http
// registers symmetric-key and X.509 devices; each then connects to the
// assigned hub with azure-iot-device-mqtt and sends telemetry that the
// telemetry read path sees. Negatives over HTTP: wrong key, unknown
// registration, disabled enrollment, a certificate not under the group CA.
// Reprovision: the device is deleted from the hub, registered again, and
// re-created.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import {
  require, env, step, check, checkEq, ok, finish, watchdog, errText, waitTelemetry, registry,
  pki, pkiPath, uniq, withTimeout, sasToken, nowS,
} from '../lib/e2e.mjs';
import {
  registrar, attempt, newKey, deriveKey, checkAssigned, telemetry, sasClient, x509Client,
} from '../lib/dps.mjs';

const { Http: ProvHttp } = require('azure-iot-provisioning-device-http');
const { ProvisioningServiceClient } = require('azure-iot-provisioning-service');

watchdog(200);
const dpsHost = env('GH_DPS_HOST');
const scope = env('GH_DPS_ID_SCOPE');
const hubHost = env('GH_HUB_HOST');
const svc = ProvisioningServiceClient.fromConnectionString(env('GH_DPS_SERVICE_CS'));
const reg = registry();

const { symRegister, x509Register } = registrar(() => new ProvHttp());
const refused = attempt;

// A raw HTTPS request to the DPS host (SNI = dpsHost) or, with servername,
// another name on the same listener.
function raw(method, path, { headers = {}, body, servername = dpsHost } = {}) {
  return withTimeout(new Promise((resolve, reject) => {
    const h = { ...headers };
    if (body !== undefined) {
      h['Content-Type'] = 'application/json; charset=utf-8';
      h['Content-Length'] = Buffer.byteLength(body);
    }
    const rq = https.request({ host: dpsHost, port: 443, method, path, headers: h, servername }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, json, text });
      });
    });
    rq.on('error', reject);
    if (body !== undefined) rq.write(body);
    rq.end();
  }), 20000, `${method} ${path}`);
}

// ---- enrollments of each kind, registration over HTTP, telemetry ----------------

const symId = uniq('dpsh-sym');
const symKey = newKey();
await step('symmetric key, individual enrollment', async () => {
  const r = await svc.createOrUpdateIndividualEnrollment({
    registrationId: symId,
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: symKey, secondaryKey: newKey() } },
    initialTwin: { tags: { site: 'plant-7' }, properties: { desired: { interval: 30 } } },
  });
  checkEq('enrollment created', r.responseBody.registrationId, symId);
  check('enrollment has an etag', typeof r.responseBody.etag === 'string' && r.responseBody.etag.length > 0);
  const state = await symRegister(symId, symKey);
  checkAssigned('sym individual', state, symId);
  checkEq('sym individual: substatus', state.substatus, 'initialAssignment');
  const c = sasClient(state, symKey);
  await c.open();
  const twin = await c.getTwin();
  checkEq('initial twin desired property applied', twin.properties.desired.interval, 30);
  await c.close();
  await telemetry(sasClient(state, symKey), symId, `${symId}-t1`);
});

const grpId = uniq('dpsh-symgrp');
const grpKey = crypto.randomBytes(64).toString('base64');
await step('symmetric key, enrollment group (derived device key)', async () => {
  const g = await svc.createOrUpdateEnrollmentGroup({
    enrollmentGroupId: grpId,
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: grpKey, secondaryKey: newKey() } },
  });
  checkEq('group created', g.responseBody.enrollmentGroupId, grpId);
  const dev = uniq('dpsh-grpdev');
  const key = deriveKey(grpKey, dev);
  const state = await symRegister(dev, key);
  checkAssigned('sym group', state, dev);
  await telemetry(sasClient(state, key), dev, `${dev}-t1`);
  const q = svc.createEnrollmentGroupDeviceRegistrationStateQuery({ query: '*' }, grpId);
  const page = (await q.next()).responseBody;
  check('group registration states list the device',
    page.some((s) => s.registrationId === dev), JSON.stringify(page));
});

const x5Id = uniq('dpsh-x509');
await step('X.509, individual enrollment', async () => {
  pki('issue-device', x5Id, '--issuer', 'root');
  await svc.createOrUpdateIndividualEnrollment({
    registrationId: x5Id,
    attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate: fs.readFileSync(pkiPath('cert', x5Id), 'utf8') } } } },
  });
  const state = await x509Register(x5Id, pkiPath('cert', x5Id), pkiPath('key', x5Id));
  checkAssigned('x509 individual', state, x5Id);
  await telemetry(x509Client(state, pkiPath('cert', x5Id), pkiPath('key', x5Id)), x5Id, `${x5Id}-t1`);
});

const caName = uniq('dpsh-grpca');
const x5GrpId = uniq('dpsh-x509grp');
await step('X.509, enrollment group (tenant CA from gatehouse pki)', async () => {
  pki('issue-ca', caName);
  await svc.createOrUpdateEnrollmentGroup({
    enrollmentGroupId: x5GrpId,
    attestation: { type: 'x509', x509: { signingCertificates: { primary: { certificate: fs.readFileSync(pkiPath('cert', caName), 'utf8') } } } },
  });
  const dev = uniq('dpsh-cadev');
  pki('issue-device', dev, '--issuer', caName);
  const state = await x509Register(dev, pkiPath('cert', dev), pkiPath('key', dev));
  checkAssigned('x509 group', state, dev);
  await telemetry(x509Client(state, pkiPath('cert', dev), pkiPath('key', dev)), dev, `${dev}-t1`);
});

// ---- the service API beyond create ------------------------------------------------

await step('service API: get, query paging, attestation mechanism, If-Match, bulk', async () => {
  const got = await svc.getIndividualEnrollment(symId.toUpperCase());
  checkEq('get is case-insensitive', got.responseBody.registrationId, symId);
  const att = await svc.getIndividualEnrollmentAttestationMechanism(symId);
  checkEq('attestation mechanism: primary key', att.responseBody.symmetricKey.primaryKey, symKey);
  const gatt = await svc.getEnrollmentGroupAttestationMechanism(grpId);
  checkEq('group attestation mechanism: primary key', gatt.responseBody.symmetricKey.primaryKey, grpKey);
  // Query with a page size of 1: every enrollment is seen once, then no more pages.
  const q = svc.createIndividualEnrollmentQuery({ query: '*' }, 1);
  const seen = [];
  for (let i = 0; i < 20 && (i === 0 || q.hasMoreResults); i++) {
    // The SDK's next() without an argument does not send the stored token.
    const page = (await q.next(q.continuationToken)).responseBody;
    check(`page ${i} has at most 1 item`, page.length <= 1);
    seen.push(...page.map((e) => e.registrationId));
  }
  check('query paged through both individual enrollments',
    seen.includes(symId) && seen.includes(x5Id) && !q.hasMoreResults, JSON.stringify(seen));
  const gq = (await svc.createEnrollmentGroupQuery({ query: '*' }).next()).responseBody;
  check('group query lists both groups',
    gq.some((g) => g.enrollmentGroupId === grpId) && gq.some((g) => g.enrollmentGroupId === x5GrpId));
  // Update with a stale etag: refused (412); with the current one: accepted.
  const stale = { ...got.responseBody, etag: '"00000000-0000-0000-0000-000000000000"' };
  const r412 = await refused('stale etag', () => svc.createOrUpdateIndividualEnrollment(stale));
  check('update with a stale etag is refused', r412.error && r412.error.response && r412.error.response.statusCode === 412,
    r412.error ? errText(r412.error) : 'accepted');
  const upd = await svc.createOrUpdateIndividualEnrollment({ ...got.responseBody,
    initialTwin: { tags: { site: 'plant-8' }, properties: { desired: { interval: 30 } } } });
  check('update with the current etag is accepted', upd.responseBody.etag !== got.responseBody.etag);
  checkEq('update kept the keys', upd.responseBody.attestation.symmetricKey.primaryKey, symKey);
  // Bulk create two, then bulk delete them.
  const b1 = uniq('dpsh-bulk');
  const b2 = uniq('dpsh-bulk');
  // runBulkEnrollmentOperation 1.11.2 only answers through a callback (its
  // promise form never settles), so wrap the callback form.
  const bulkOp = (op) => withTimeout(new Promise((resolve, reject) => {
    svc.runBulkEnrollmentOperation(op, (err, body) => (err ? reject(err) : resolve({ responseBody: body })));
  }), 10000, 'bulk');
  const mk = (id) => ({ registrationId: id, attestation: { type: 'symmetricKey', symmetricKey: {} } });
  const br = await bulkOp({ mode: 'create', enrollments: [mk(b1), mk(b2)] });
  checkEq('bulk create succeeded', br.responseBody.isSuccessful, true);
  const again = await bulkOp({ mode: 'create', enrollments: [mk(b1)] });
  checkEq('bulk create of an existing enrollment reports an error', again.responseBody.isSuccessful, false);
  const bg = await svc.getIndividualEnrollment(b2);
  check('bulk created enrollment got generated keys', bg.responseBody.attestation.symmetricKey.primaryKey.length > 40);
  const bd = await bulkOp({ mode: 'delete', enrollments: [mk(b1), mk(b2)] });
  checkEq('bulk delete succeeded', bd.responseBody.isSuccessful, true);
  const gone = await refused('deleted', () => svc.getIndividualEnrollment(b1));
  check('deleted enrollment is 404', gone.error && gone.error.response && gone.error.response.statusCode === 404,
    gone.error ? errText(gone.error) : 'found');
  const rs = await svc.getDeviceRegistrationState(symId);
  checkEq('registration state: assigned', rs.responseBody.status, 'assigned');
  checkEq('registration state: deviceId', rs.responseBody.deviceId, symId);
});

await step('service API: tokens are checked; DPS and hub never mix', async () => {
  const cs = Object.fromEntries(env('GH_DPS_SERVICE_CS').split(';').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  const good = sasToken(dpsHost, cs.SharedAccessKey, nowS() + 600, 'provisioningserviceowner', { encodeSr: false });
  const r = await raw('GET', `/enrollments/${symId}?api-version=2021-10-01`, { headers: { Authorization: good } });
  checkEq('raw GET with a good token', r.status, 200);
  checkEq('Content-Type', r.headers['content-type'], 'application/json; charset=utf-8');
  const bad = sasToken(dpsHost, newKey(), nowS() + 600, 'provisioningserviceowner', { encodeSr: false });
  const r401 = await raw('GET', `/enrollments/${symId}?api-version=2021-10-01`, { headers: { Authorization: bad } });
  checkEq('wrong key: 401', r401.status, 401);
  checkEq('wrong key: errorCode', r401.json && r401.json.errorCode, 401002);
  // The hub's own API is not reachable under the DPS name, even with the hub's policy.
  const hubCs = Object.fromEntries(env('GH_SERVICE_CS').split(';').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
  const hubTok = sasToken(dpsHost, hubCs.SharedAccessKey, nowS() + 600, 'iothubowner', { encodeSr: false });
  const rh = await raw('GET', '/devices?api-version=2021-04-12', { headers: { Authorization: hubTok } });
  checkEq('hub route under the DPS name: 404', rh.status, 404);
  const rp = await raw('GET', `/enrollments/${symId}?api-version=2021-10-01`, { headers: { Authorization: hubTok } });
  checkEq('iothubowner token on the DPS API: 401', rp.status, 401);
  // And the DPS API is not reachable under the hub name.
  const rd = await raw('GET', `/enrollments/${symId}?api-version=2021-10-01`, { headers: { Authorization: good }, servername: hubHost });
  check('DPS route under the hub name is refused', rd.status === 404 || rd.status === 401, String(rd.status));
});

// ---- negatives over HTTP ------------------------------------------------------------

await step('wrong key is refused (UnauthorizedError)', async () => {
  const r = await refused('wrong key', () => symRegister(symId, newKey()));
  check('register failed', r.error !== null);
  checkEq('error type', r.error && r.error.constructor.name, 'UnauthorizedError');
});

await step('unknown registration is refused (UnauthorizedError)', async () => {
  const r = await refused('unknown', () => symRegister(uniq('dpsh-nobody'), newKey()));
  check('register failed', r.error !== null);
  checkEq('error type', r.error && r.error.constructor.name, 'UnauthorizedError');
});

await step('a certificate not under the group CA is refused', async () => {
  const other = uniq('dpsh-otherca');
  pki('issue-ca', other);
  const dev = uniq('dpsh-stray');
  pki('issue-device', dev, '--issuer', other);
  const r = await refused('stray cert', () => x509Register(dev, pkiPath('cert', dev), pkiPath('key', dev)));
  check('register failed', r.error !== null);
  checkEq('error type', r.error && r.error.constructor.name, 'UnauthorizedError');
});

await step('disabled enrollment ends with status disabled', async () => {
  const id = uniq('dpsh-off');
  const key = newKey();
  await svc.createOrUpdateIndividualEnrollment({
    registrationId: id, provisioningStatus: 'disabled',
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: key, secondaryKey: newKey() } },
  });
  const r = await refused('disabled', () => symRegister(id, key));
  // Node's state machine treats any final status other than assigned/failed as an error.
  check('register did not assign', r.error !== null || (r.result && r.result.status !== 'assigned'),
    r.result ? JSON.stringify(r.result) : '');
  if (r.error) ok(`SDK reported: ${errText(r.error)}`);
  const rs = await svc.getDeviceRegistrationState(id);
  checkEq('registration state: disabled', rs.responseBody.status, 'disabled');
  const dev = await refused('hub device', () => reg.get(id));
  check('no hub device was created', dev.error !== null);
});

// ---- reprovision ----------------------------------------------------------------------

await step('re-registration after the hub device was deleted re-creates it', async () => {
  await reg.delete(symId);
  const gone = await refused('deleted', () => reg.get(symId));
  check('device deleted from the hub', gone.error !== null);
  const state = await symRegister(symId, symKey);
  checkAssigned('re-registered', state, symId);
  checkEq('re-registered: substatus', state.substatus, 'initialAssignment');
  const d = await reg.get(symId);
  checkEq('device re-created in the hub', d.responseBody.deviceId, symId);
  const c = sasClient(state, symKey);
  await c.open();
  const twin = await c.getTwin();
  checkEq('initial twin (as updated) applied again', twin.properties.desired.interval, 30);
  await c.close();
  const t = await reg.getTwin(symId);
  checkEq('updated initial twin tags applied', t.responseBody.tags.site, 'plant-8');
  await telemetry(sasClient(state, symKey), symId, `${symId}-t2`);
});

finish();
