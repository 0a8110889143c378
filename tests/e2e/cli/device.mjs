// A device for tests/e2e/cli.test.sh, made with the official Node device SDK
// (azure-iot-device + azure-iot-device-mqtt, unmodified), driven line by line:
//
//   node device.mjs CONNECTION_STRING [CERT_FILE KEY_FILE]
//
// stdout (one line per event):
//   ready                         connected; C2D and method handlers registered
//                                 (their subscriptions follow asynchronously)
//   c2d {json}                    a cloud-to-device message (completed):
//                                 {body, messageId, correlationId, contentType,
//                                  contentEncoding, props:{name:value}}
//   method NAME {json payload}    a direct method call (answered 200 {got: payload})
//   sent                          after a "send" command
//   error TEXT                    anything that went wrong (then exit 1)
// stdin (one command per line):
//   send {"body":"...","props":{"k":"v"},"messageId":"..."}   send one telemetry message
// The process exits when stdin closes, and after 100 s at the latest.
import fs from 'node:fs';
import readline from 'node:readline';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Client, Message } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');

const [cs, certFile, keyFile] = process.argv.slice(2);
const say = (line) => process.stdout.write(`${line}\n`);
const die = (what, e) => {
  say(`error ${what}: ${e && e.message ? e.message : e}`);
  process.exit(1);
};
setTimeout(() => die('watchdog', 'still running after 100 s'), 100000).unref();

const client = Client.fromConnectionString(cs, Mqtt);
if (certFile) {
  client.setOptions({ cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') });
}
client.on('error', (e) => say(`error client: ${e.message}`));
try {
  await client.open();
} catch (e) {
  die('open', e);
}
client.on('message', (msg) => {
  const props = {};
  for (let i = 0; i < msg.properties.count(); i++) {
    const p = msg.properties.getItem(i);
    props[p.key] = p.value;
  }
  say(`c2d ${JSON.stringify({
    body: msg.data.toString('utf8'),
    messageId: msg.messageId,
    correlationId: msg.correlationId,
    contentType: msg.contentType,
    contentEncoding: msg.contentEncoding,
    props,
  })}`);
  client.complete(msg).catch((e) => die('complete', e));
});
client.onDeviceMethod('echo', (req, res) => {
  say(`method ${req.methodName} ${JSON.stringify(req.payload)}`);
  res.send(200, { got: req.payload }, (e) => e && die('method response', e));
});
say('ready');

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', async (line) => {
  const m = /^send (.*)$/.exec(line);
  if (!m) return die('command', line);
  try {
    const spec = JSON.parse(m[1]);
    const msg = new Message(spec.body);
    if (spec.messageId) msg.messageId = spec.messageId;
    for (const [k, v] of Object.entries(spec.props || {})) msg.properties.add(k, v);
    await client.sendEvent(msg);
    say('sent');
  } catch (e) {
    die('send', e);
  }
});
rl.on('close', async () => {
  await client.close().catch(() => {});
  process.exit(0);
});
