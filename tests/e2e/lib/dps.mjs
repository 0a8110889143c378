// Shared helpers for the provisioning end-to-end tests (dps/*.mjs): device
// registration with the official Node provisioning SDK over a given
// transport, then the assigned hub with azure-iot-device-mqtt.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { require, env, checkEq, ok, errText, waitTelemetry, withTimeout } from './e2e.mjs';

const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');
const { X509Security } = require('azure-iot-security-x509');
const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');

export const newKey = () => crypto.randomBytes(32).toString('base64');
// PROTOCOL.md 2.7: the device key of a symmetric-key group enrollment.
export const deriveKey = (groupKey, regId) => crypto.createHmac('sha256', Buffer.from(groupKey, 'base64'))
  .update(regId, 'utf8').digest('base64');

const pem = (file) => fs.readFileSync(file, 'utf8');

// Registration over one provisioning transport (new ProvMqtt() / new ProvHttp()).
export function registrar(makeTransport) {
  const dpsHost = env('GH_DPS_HOST');
  const scope = env('GH_DPS_ID_SCOPE');
  const run = (regId, security) => withTimeout(
    ProvisioningDeviceClient.create(dpsHost, scope, makeTransport(), security).register(),
    40000, `register ${regId}`);
  return {
    symRegister: (regId, key) => run(regId, new SymmetricKeySecurityClient(regId, key)),
    x509Register: (regId, certFile, keyFile) =>
      run(regId, new X509Security(regId, { cert: pem(certFile), key: pem(keyFile) })),
  };
}

// Run fn; resolves {result, error: null} or {error}, never rejects.
export async function attempt(what, fn) {
  try {
    return { result: await fn(), error: null, what };
  } catch (e) {
    return { error: e, what };
  }
}

export function checkAssigned(tag, state, deviceId) {
  checkEq(`${tag}: status`, state.status, 'assigned');
  checkEq(`${tag}: assignedHub`, state.assignedHub, env('GH_HUB_HOST'));
  checkEq(`${tag}: deviceId`, state.deviceId, deviceId);
}

// Open the device client, send one message, and wait until the service side reads it.
export async function telemetry(client, deviceId, tag) {
  await client.open();
  ok(`${tag}: device connected to the assigned hub`);
  const m = new Message(JSON.stringify({ tag }));
  m.messageId = tag;
  await client.sendEvent(m);
  await waitTelemetry(deviceId, (l) => l.some((x) => x.properties.system['message-id'] === tag));
  ok(`${tag}: telemetry received by the service side`);
  await client.close();
}

function logged(c) {
  c.on('error', (e) => console.log(`    (device client error: ${errText(e)})`));
  return c;
}

export function sasClient(state, key) {
  return logged(Client.fromConnectionString(
    `HostName=${state.assignedHub};DeviceId=${state.deviceId};SharedAccessKey=${key}`, Mqtt));
}

export function x509Client(state, certFile, keyFile) {
  const c = Client.fromConnectionString(`HostName=${state.assignedHub};DeviceId=${state.deviceId};x509=true`, Mqtt);
  c.setOptions({ cert: pem(certFile), key: pem(keyFile) });
  return logged(c);
}
