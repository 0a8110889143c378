// Quickstart devices: X.509 "carriage" devices built with the official Azure
// IoT Node SDKs, exactly as they would run against Azure.
//
//   node devices.cjs register PKI_DIR DPS_HOST ID_SCOPE DEVICE_ID...
//     each registers through the provisioning service
//     (azure-iot-provisioning-device-mqtt, its tenant-CA certificate, the
//     group enrollment) and prints the hub and device id it was assigned;
//   node devices.cjs run PKI_DIR HUB GATEWAY DEVICE_ID...
//     each connects through the gateway (azure-iot-device-mqtt, X.509,
//     GatewayHostName), sends telemetry, reports a twin property, prints
//     desired-property changes and answers the "reboot" method; exits when
//     every device has answered a method, or after a timeout;
//   node devices.cjs burst PKI_DIR HUB GATEWAY N DEVICE_ID...
//     each connects through the gateway and sends N messages (QoS 1: each
//     is acknowledged by the gateway once it is on the gateway's disk).
'use strict';
const fs = require('fs');
const path = require('path');
const { Client, Message, X509AuthenticationProvider } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { Mqtt: ProvMqtt } = require('azure-iot-provisioning-device-mqtt');
const { X509Security } = require('azure-iot-security-x509');

const [mode, pki, ...rest] = process.argv.slice(2);
const ca = fs.readFileSync(path.join(pki, 'certs', 'root-ca.cert.pem'), 'utf8');
const timeout = setTimeout(() => { console.log('devices: timeout'); process.exit(1); }, 90000);
const creds = (id) => ({
  cert: fs.readFileSync(path.join(pki, 'certs', `${id}.chain.pem`), 'utf8'),
  key: fs.readFileSync(path.join(pki, 'private', `${id}.key.pem`), 'utf8'),
});

async function register(dpsHost, idScope, id) {
  const prov = ProvisioningDeviceClient.create(dpsHost, idScope, new ProvMqtt(), new X509Security(id, creds(id)));
  const reg = await prov.register();
  console.log(`devices: ${id} registered through DPS: assigned to ${reg.assignedHub} as ${reg.deviceId}`);
}

// A device client through the gateway. The SDK's connection-string parser
// ignores GatewayHostName together with x509=true, so the authentication
// provider is built with it directly; the MQTT transport dials it.
async function connect(hub, gateway, id) {
  const c = creds(id);
  const client = Client.fromAuthenticationProvider(new X509AuthenticationProvider(
    { host: hub, deviceId: id, gatewayHostName: gateway, x509: c }), Mqtt);
  client.setOptions({ ca, ...c });
  await client.open();
  return client;
}

async function send(client, id, from, n) {
  for (let i = from; i < from + n; i++) {
    const m = new Message(JSON.stringify({ carriage: id, seq: i, temperature: 20 + (i % 10) / 2 }));
    m.contentType = 'application/json';
    m.contentEncoding = 'utf-8';
    m.messageId = `${id}-${i}`;
    m.properties.add('source', 'quickstart');
    await client.sendEvent(m);
  }
}

async function run(hub, gateway, id, ids, answered) {
  const client = await connect(hub, gateway, id);
  const twin = await client.getTwin();
  twin.on('properties.desired', (d) => {
    if (d.$version > 1) console.log(`devices: ${id} desired properties now ${JSON.stringify(d)}`);
  });
  await new Promise((res, rej) => twin.properties.reported.update({ firmware: '1.0.0' }, (e) => (e ? rej(e) : res())));
  client.onDeviceMethod('reboot', (req, resp) => {
    console.log(`devices: ${id} method ${req.methodName} payload ${JSON.stringify(req.payload)}`);
    resp.send(200, { rebooting: true, device: id }, () => {
      if (++answered.n === ids.length) { clearTimeout(timeout); setTimeout(() => process.exit(0), 200); }
    });
  });
  await send(client, id, 0, 5);
  console.log(`devices: ${id} connected through the gateway with its tenant-CA certificate, sent 5 messages, reported firmware`);
}

async function burst(hub, gateway, n, id) {
  const client = await connect(hub, gateway, id);
  await send(client, id, 100, n);
  await client.close();
  console.log(`devices: ${id} sent ${n} messages, each acknowledged by the gateway`);
}

let work;
if (mode === 'register') {
  const [dpsHost, idScope, ...ids] = rest;
  work = Promise.all(ids.map((id) => register(dpsHost, idScope, id))).then(() => {
    console.log('devices: ready');
    process.exit(0);
  });
} else if (mode === 'run') {
  const [hub, gateway, ...ids] = rest;
  const answered = { n: 0 };
  work = Promise.all(ids.map((id) => run(hub, gateway, id, ids, answered)));
} else if (mode === 'burst') {
  const [hub, gateway, n, ...ids] = rest;
  work = Promise.all(ids.map((id) => burst(hub, gateway, Number(n), id))).then(() => process.exit(0));
} else {
  console.log(`devices: error unknown mode ${mode}`);
  process.exit(2);
}
work.then(() => console.log('devices: ready'))
  .catch((e) => { console.log(`devices: error ${e.message}`); process.exit(1); });
