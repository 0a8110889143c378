// Device registration over MQTT with the official Node provisioning SDKs
// against the provisioning service embedded in `gatehouse hub` (PROTOCOL.md
// 4.2, 4.3, A.2). Enrollments are made with azure-iot-provisioning-service;
// each registered device then connects to the assigned hub with
// azure-iot-device-mqtt and sends telemetry that the telemetry read path
// sees. Negative cases: wrong key, unknown registration, a certificate not
// under the group CA, a disabled enrollment; re-registration after the
// device was deleted from the hub; DPS and hub connections never mix.
import crypto from 'node:crypto';
import fs from 'node:fs';
import {
  require, env, step, check, checkEq, ok, finish, watchdog, errText, waitTelemetry, registry,
  pki, pkiPath, uniq, mqttProbe, mqttSas, subscribe, publish, closedWithin, endProbe, Inbox,
  sasToken, nowS, withTimeout,
} from '../lib/e2e.mjs';
import {
  registrar, attempt, newKey, deriveKey, checkAssigned, telemetry, sasClient, x509Client,
} from '../lib/dps.mjs';

const { Mqtt: ProvMqtt } = require('azure-iot-provisioning-device-mqtt');
const { ProvisioningServiceClient } = require('azure-iot-provisioning-service');

watchdog(170);
const dpsHost = env('GH_DPS_HOST');
const scope = env('GH_DPS_ID_SCOPE');
const hubHost = env('GH_HUB_HOST');
const svc = ProvisioningServiceClient.fromConnectionString(env('GH_DPS_SERVICE_CS'));
const reg = registry();

const { symRegister, x509Register } = registrar(() => new ProvMqtt());
const registerFails = attempt;

// ---- positive cases ---------------------------------------------------------

const symId = uniq('dpsm-sym');
const symKey = newKey();
await step('symmetric key, individual enrollment', async () => {
  const r = await svc.createOrUpdateIndividualEnrollment({
    registrationId: symId,
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: symKey, secondaryKey: newKey() } },
    initialTwin: { tags: { site: 'plant-7' }, properties: { desired: { interval: 30 } } },
  });
  checkEq('enrollment created', r.responseBody.registrationId, symId);
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

const grpId = uniq('dpsm-symgrp');
const grpKey = crypto.randomBytes(64).toString('base64');
await step('symmetric key, enrollment group (derived device key)', async () => {
  await svc.createOrUpdateEnrollmentGroup({
    enrollmentGroupId: grpId,
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: grpKey, secondaryKey: newKey() } },
  });
  const dev = uniq('dpsm-grpdev');
  const key = deriveKey(grpKey, dev);
  const state = await symRegister(dev, key);
  checkAssigned('sym group', state, dev);
  await telemetry(sasClient(state, key), dev, `${dev}-t1`);
});

await step('X.509, individual enrollment', async () => {
  const dev = uniq('dpsm-x509');
  pki('issue-device', dev, '--issuer', 'root');
  await svc.createOrUpdateIndividualEnrollment({
    registrationId: dev,
    attestation: { type: 'x509', x509: { clientCertificates: { primary: { certificate: fs.readFileSync(pkiPath('cert', dev), 'utf8') } } } },
  });
  const state = await x509Register(dev, pkiPath('cert', dev), pkiPath('key', dev));
  checkAssigned('x509 individual', state, dev);
  await telemetry(x509Client(state, pkiPath('cert', dev), pkiPath('key', dev)), dev, `${dev}-t1`);
});

const caName = uniq('dpsm-grpca');
await step('X.509, enrollment group (signing CA)', async () => {
  pki('issue-ca', caName);
  await svc.createOrUpdateEnrollmentGroup({
    enrollmentGroupId: uniq('dpsm-x509grp'),
    attestation: { type: 'x509', x509: { signingCertificates: { primary: { certificate: fs.readFileSync(pkiPath('cert', caName), 'utf8') } } } },
  });
  const dev = uniq('dpsm-cadev');
  pki('issue-device', dev, '--issuer', caName);
  const state = await x509Register(dev, pkiPath('chain', dev), pkiPath('key', dev));
  checkAssigned('x509 group', state, dev);
  await telemetry(x509Client(state, pkiPath('chain', dev), pkiPath('key', dev)), dev, `${dev}-t1`);
});

// ---- negative cases -------------------------------------------------------------

const isUnauthorized = (e) => !!e && (e.name === 'UnauthorizedError' || /not authorized|unauthorized/i.test(errText(e)));

await step('wrong key is refused (CONNACK 5: Not authorized)', async () => {
  const r = await registerFails('wrong key', () => symRegister(symId, newKey()));
  check('wrong key: registration failed as unauthorized', isUnauthorized(r.error),
    r.error ? `${r.error.name}: ${errText(r.error)}` : 'succeeded');
  if (r.error) console.log(`    (SDK reported ${r.error.name}: ${errText(r.error)})`);
});

await step('unknown registration id is refused (CONNACK 5: Not authorized)', async () => {
  const r = await registerFails('unknown', () => symRegister(uniq('dpsm-nobody'), newKey()));
  check('unknown registration: unauthorized', isUnauthorized(r.error),
    r.error ? `${r.error.name}: ${errText(r.error)}` : 'succeeded');
  if (r.error) console.log(`    (SDK reported ${r.error.name}: ${errText(r.error)})`);
});

await step('a certificate not under the group CA is refused (CONNACK 5: Not authorized)', async () => {
  const other = uniq('dpsm-otherca');
  pki('issue-ca', other);
  const dev = uniq('dpsm-stranger');
  pki('issue-device', dev, '--issuer', other);
  const r = await registerFails('stranger', () => x509Register(dev, pkiPath('chain', dev), pkiPath('key', dev)));
  check('foreign certificate: unauthorized', isUnauthorized(r.error),
    r.error ? `${r.error.name}: ${errText(r.error)}` : 'succeeded');
  if (r.error) console.log(`    (SDK reported ${r.error.name}: ${errText(r.error)})`);
});

await step('a disabled enrollment ends with status "disabled"', async () => {
  const dev = uniq('dpsm-disabled');
  const key = newKey();
  await svc.createOrUpdateIndividualEnrollment({
    registrationId: dev, provisioningStatus: 'disabled',
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: key, secondaryKey: newKey() } },
  });
  const r = await registerFails('disabled', () => symRegister(dev, key));
  check('disabled: registration failed', !!r.error, 'succeeded');
  const st = r.error && r.error.result && r.error.result.status;
  checkEq('disabled: operation status reported to the SDK', st, 'disabled');
  const gone = await reg.get(dev).then(() => false, () => true);
  check('disabled: no hub device created', gone);
});

await step('re-registration after the hub device was deleted re-creates it', async () => {
  await reg.delete(symId);
  const state = await symRegister(symId, symKey);
  checkAssigned('re-registration', state, symId);
  checkEq('re-registration: substatus', state.substatus, 'initialAssignment');
  const d = await reg.get(symId);
  checkEq('device exists again with SAS auth', d.responseBody.authentication.type, 'sas');
  await telemetry(sasClient(state, symKey), symId, `${symId}-t2`);
});

// ---- protocol details with a raw MQTT client ---------------------------------------

function dpsProbeOpts(regId, key) {
  return {
    host: dpsHost, clean: true, clientId: regId,
    username: `${scope}/registrations/${regId}/api-version=2019-03-31&ClientVersion=probe`,
    password: sasToken(`${scope}/registrations/${regId}`, key, nowS() + 600, 'registration', { encodeSr: false }),
  };
}

await step('raw MQTT: 404 for an unknown operation, 400 for a mismatched body, QoS 1 responses', async () => {
  const p = await mqttProbe(dpsProbeOpts(symId, symKey));
  checkEq('DPS CONNACK', p.connack, 0);
  checkEq('SUBACK grants QoS 1', await subscribe(p, '$dps/registrations/res/#', 1), [1]);
  const inbox = new Inbox();
  p.client.on('message', (topic, payload, packet) => inbox.push({ topic, payload, packet }));
  checkEq('poll PUBACK', await publish(p, '$dps/registrations/GET/iotdps-get-operationstatus/?$rid=7&operationId=4.0000000000000000.nope', ' '), 'puback');
  let m = await inbox.next(5000, '404 response');
  checkEq('unknown operation topic', m.topic, '$dps/registrations/res/404/?$rid=7');
  checkEq('unknown operation errorCode', JSON.parse(m.payload).errorCode, 404201);
  checkEq('response sent with QoS 1', m.packet.qos, 1);
  await publish(p, '$dps/registrations/PUT/iotdps-register/?$rid=8', JSON.stringify({ registrationId: 'someone-else' }));
  m = await inbox.next(5000, '400 response');
  checkEq('mismatched body topic', m.topic, '$dps/registrations/res/400/?$rid=8');
  checkEq('mismatched body errorCode', JSON.parse(m.payload).errorCode, 400004);
  await publish(p, '$dps/registrations/PUT/iotdps-register/?$rid=9', JSON.stringify({ registrationId: symId }));
  m = await inbox.next(5000, '202 response');
  checkEq('register topic with retry-after', m.topic, '$dps/registrations/res/202/?$rid=9&retry-after=3');
  const opId = JSON.parse(m.payload).operationId;
  await publish(p, `$dps/registrations/GET/iotdps-get-operationstatus/?$rid=10&operationId=${opId}`, ' ');
  m = await inbox.next(5000, '200 response');
  checkEq('poll topic', m.topic, '$dps/registrations/res/200/?$rid=10');
  checkEq('poll status', JSON.parse(m.payload).status, 'assigned');
  await endProbe(p);
});

await step('DPS and hub connections never mix', async () => {
  let p = await mqttProbe(dpsProbeOpts(symId, symKey));
  checkEq('DPS CONNACK', p.connack, 0);
  await subscribe(p, '$iothub/twin/res/#', 0).catch(() => {});
  check('hub filter on a DPS connection closes it', await closedWithin(p, 5000));
  await endProbe(p);

  p = await mqttProbe(dpsProbeOpts(symId, symKey));
  await publish(p, `devices/${symId}/messages/events/`, 'x');
  check('telemetry on a DPS connection closes it', await closedWithin(p, 5000));
  await endProbe(p);

  p = await mqttProbe({ ...mqttSas(symId, symKey), host: dpsHost });
  checkEq('hub device credentials on the DPS host: CONNACK 5', p.connack, 5);
  await endProbe(p);

  p = await mqttProbe({ ...dpsProbeOpts(symId, symKey), host: hubHost });
  checkEq('DPS user name on the hub host: CONNACK 5', p.connack, 5);
  await endProbe(p);

  const wrongScope = dpsProbeOpts(symId, symKey);
  wrongScope.username = wrongScope.username.replace(scope, '0ne99999999');
  p = await mqttProbe(wrongScope);
  checkEq('unknown id scope: CONNACK 5', p.connack, 5);
  await endProbe(p);
});

finish();
