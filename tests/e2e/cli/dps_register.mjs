// Register one device with the embedded provisioning service over MQTT with
// the official azure-iot-provisioning-device-mqtt, for dps_cli.test.sh.
//   node dps_register.mjs sym REGISTRATION_ID KEY
//   node dps_register.mjs x509 REGISTRATION_ID CERT_FILE KEY_FILE
// Prints the registrationState the SDK returns as one line of JSON, or
// "error <name>: <text>" and exits 1. Bounded by a 40 s timeout.
import fs from 'node:fs';
import { require, env, errText, withTimeout } from '../lib/e2e.mjs';

const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { Mqtt: ProvMqtt } = require('azure-iot-provisioning-device-mqtt');
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');
const { X509Security } = require('azure-iot-security-x509');

const [kind, regId, a, b] = process.argv.slice(2);
const security = kind === 'sym'
  ? new SymmetricKeySecurityClient(regId, a)
  : new X509Security(regId, { cert: fs.readFileSync(a, 'utf8'), key: fs.readFileSync(b, 'utf8') });
const client = ProvisioningDeviceClient.create(env('GH_DPS_HOST'), env('GH_DPS_ID_SCOPE'),
  new ProvMqtt(), security);
try {
  const state = await withTimeout(client.register(), 40000, `register ${regId}`);
  console.log(JSON.stringify(state));
  process.exit(0);
} catch (e) {
  console.log(`error ${e && e.name}: ${errText(e)}`);
  process.exit(1);
}
