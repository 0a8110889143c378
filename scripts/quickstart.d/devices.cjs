// Quickstart devices: X.509 "carriage" devices built with the official Azure
// IoT Node SDKs, exactly as they would run against Azure: each registers
// through the provisioning service (azure-iot-provisioning-device-mqtt with
// its tenant-CA certificate, group enrollment), then connects to the hub it
// was assigned (azure-iot-device-mqtt), sends telemetry, reports a twin
// property, prints desired-property changes and answers the "reboot" method.
// Exits when every device has answered a method, or after a timeout.
//   node devices.cjs PKI_DIR DPS_HOST ID_SCOPE DEVICE_ID...
'use strict';
const fs = require('fs');
const path = require('path');
const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { Mqtt: ProvMqtt } = require('azure-iot-provisioning-device-mqtt');
const { X509Security } = require('azure-iot-security-x509');

const [pki, dpsHost, idScope, ...ids] = process.argv.slice(2);
const ca = fs.readFileSync(path.join(pki, 'certs', 'root-ca.cert.pem'), 'utf8');
const timeout = setTimeout(() => { console.log('devices: timeout'); process.exit(1); }, 90000);
let answered = 0;

async function run(id) {
  const cert = fs.readFileSync(path.join(pki, 'certs', `${id}.chain.pem`), 'utf8');
  const key = fs.readFileSync(path.join(pki, 'private', `${id}.key.pem`), 'utf8');
  const prov = ProvisioningDeviceClient.create(dpsHost, idScope, new ProvMqtt(), new X509Security(id, { cert, key }));
  const reg = await prov.register();
  console.log(`devices: ${id} registered through DPS: assigned to ${reg.assignedHub} as ${reg.deviceId}`);
  const client = Client.fromConnectionString(`HostName=${reg.assignedHub};DeviceId=${reg.deviceId};x509=true`, Mqtt);
  client.setOptions({ ca, cert, key });
  await client.open();
  const twin = await client.getTwin();
  twin.on('properties.desired', (d) => {
    if (d.$version > 1) console.log(`devices: ${id} desired properties now ${JSON.stringify(d)}`);
  });
  await new Promise((res, rej) => twin.properties.reported.update({ firmware: '1.0.0' }, (e) => (e ? rej(e) : res())));
  client.onDeviceMethod('reboot', (req, resp) => {
    console.log(`devices: ${id} method ${req.methodName} payload ${JSON.stringify(req.payload)}`);
    resp.send(200, { rebooting: true, device: id }, () => {
      if (++answered === ids.length) { clearTimeout(timeout); setTimeout(() => process.exit(0), 200); }
    });
  });
  for (let i = 0; i < 5; i++) {
    const m = new Message(JSON.stringify({ carriage: id, seq: i, temperature: 20 + i / 2 }));
    m.contentType = 'application/json';
    m.contentEncoding = 'utf-8';
    m.messageId = `${id}-${i}`;
    m.properties.add('source', 'quickstart');
    await client.sendEvent(m);
  }
  console.log(`devices: ${id} connected with its tenant-CA certificate, sent 5 messages, reported firmware`);
}

Promise.all(ids.map(run))
  .then(() => console.log('devices: ready'))
  .catch((e) => { console.log(`devices: error ${e.message}`); process.exit(1); });
