// "A PUBACK means the message is on disk": kill -9 the hub while a device
// streams QoS 1 telemetry, restart it, and check that every message the hub
// acknowledged is stored (once, in order). The same for cloud-to-device:
// messages the service API accepted (200) and messages delivered but not yet
// acknowledged by the device survive the crash and are delivered after it;
// a message the device acknowledged before the crash is not delivered again.
import {
  step, check, checkEq, ok, fail, finish, watchdog, delay, ctl, registry, uniq, Inbox,
  mqttProbe, mqttSas, subscribe, endProbe, readTelemetry, sendC2D, waitFor, withTimeout,
} from '../lib/e2e.mjs';

watchdog(105);
const reg = registry();
const tels = [uniq('dur-tel'), uniq('dur-tel'), uniq('dur-tel')];
const c2d = uniq('dur-c2d');
const lock = uniq('dur-lock');
const keys = {};
const ACKS_BEFORE_KILL = 900;
const WINDOW = 32;

await step('setup', async () => {
  for (const id of [...tels, c2d, lock]) {
    keys[id] = (await reg.create({ deviceId: id })).responseBody.authentication.symmetricKey.primaryKey;
  }
  ok('devices created');
});

const c2dFilter = (id) => `devices/${id}/messages/devicebound/#`;
const bodyOf = (e) => e.payload.toString();

await step('C2D before the crash: one completed, three queued, one in flight', async () => {
  // c2d: receives and acknowledges "c2d-0", goes offline; then 3 more are queued.
  const p = await mqttProbe(mqttSas(c2d, keys[c2d]));
  await subscribe(p, c2dFilter(c2d));
  checkEq('queue c2d-0', (await sendC2D(c2d, 'c2d-0')).status, 200);
  const e = await p.events.next(10000, 'c2d-0');
  checkEq('c2d-0 delivered (and PUBACKed by MQTT.js)', bodyOf(e), 'c2d-0');
  await delay(200); // let the PUBACK leave before we close
  await endProbe(p);
  await waitFor(async () => (await reg.get(c2d)).responseBody.cloudToDeviceMessageCount === 0, 5000,
    'c2d-0 completed');
  for (let i = 1; i <= 3; i++) checkEq(`queue c2d-${i} (device offline)`, (await sendC2D(c2d, `c2d-${i}`)).status, 200);
  // lock: receives a message and never acknowledges it.
  // MQTT.js hands every QoS 1 delivery to options.customHandleAcks (only
  // configurable for MQTT 5, so it is replaced after connecting); not calling
  // its done() means no PUBACK is ever sent.
  const unacked = new Inbox();
  const q = await mqttProbe(mqttSas(lock, keys[lock]));
  q.client.options.customHandleAcks = (topic, payload, packet) => unacked.push({ topic, payload, packet });
  await subscribe(q, c2dFilter(lock));
  checkEq('queue locked-1', (await sendC2D(lock, 'locked-1')).status, 200);
  checkEq('locked-1 delivered, not acknowledged', bodyOf(await unacked.next(10000, 'locked-1')), 'locked-1');
  q.client.stream.destroy(); // vanish without DISCONNECT or PUBACK
  await endProbe(q);
});

// Several devices stream at once, so PUBACKs of one group commit go to
// several sessions.
const streams = tels.map((id) => ({ id, acked: [], sent: 0, inFlight: 0, closed: false }));
const totalAcked = () => streams.reduce((n, st) => n + st.acked.length, 0);
const totalSent = () => streams.reduce((n, st) => n + st.sent, 0);
await step(`kill -9 the hub after ${ACKS_BEFORE_KILL} PUBACKs of ${tels.length} QoS 1 streams`, async () => {
  const events = new Inbox();
  let killRequested = false;
  for (const st of streams) {
    st.probe = await mqttProbe(mqttSas(st.id, keys[st.id], { keepalive: 30 }));
    if (st.probe.connack !== 0) throw new Error(`${st.id}: CONNACK ${st.probe.connack}`);
  }
  ok(`${streams.length} telemetry devices connected`);
  for (const st of streams) {
    st.probe.client.on('close', () => { st.closed = true; events.push('closed'); });
    const pump = () => {
      while (!st.closed && st.inFlight < WINDOW) {
        const n = st.sent++;
        st.inFlight++;
        st.probe.client.publish(`devices/${st.id}/messages/events/%24.mid=${n}`, `m${n}`, { qos: 1 }, (err) => {
          st.inFlight--;
          if (!err && !st.closed) st.acked.push(n);
          if (!killRequested && totalAcked() >= ACKS_BEFORE_KILL) {
            killRequested = true;
            events.push('kill');
          }
          if (!st.closed) setImmediate(pump);
        });
      }
    };
    pump();
  }
  let e;
  do { e = await events.next(30000, `${ACKS_BEFORE_KILL} PUBACKs`); } while (e !== 'kill');
  ok('streams reached the kill point');
  await ctl('kill9-hub');
  ok('hub killed with SIGKILL while messages were in flight');
  await withTimeout((async () => {
    while (streams.some((st) => !st.closed)) await events.next(15000, 'connections close');
  })(), 16000, 'close');
  ok(`devices saw the connections drop: ${totalAcked()} acknowledged of ${totalSent()} sent`);
  check('messages were still in flight at the kill', totalSent() > totalAcked(), `${totalSent()} sent, ${totalAcked()} acked`);
  for (const st of streams) await endProbe(st.probe);
  await ctl('start-hub');
  ok('hub restarted on the same data directory');
}, 60000);

await step('every acknowledged message is stored, once, in order per device', async () => {
  for (const st of streams) {
    const msgs = await readTelemetry({ device: st.id });
    const mids = msgs.map((m) => Number(m.properties.system['message-id']));
    const have = new Set(mids);
    const lost = st.acked.filter((n) => !have.has(n));
    checkEq(`${st.id}: acknowledged messages lost (of ${st.acked.length})`, lost.length, 0);
    if (lost.length) console.log(`    lost: ${lost.slice(0, 20).join(',')}`);
    checkEq(`${st.id}: no message stored twice`, have.size, mids.length);
    check(`${st.id}: stored in send order`, mids.every((n, i) => i === 0 || n > mids[i - 1]),
      mids.slice(0, 50).join(','));
    check(`${st.id}: nothing stored that was never sent`, mids.every((n) => n < st.sent),
      `max ${Math.max(...mids)}, sent ${st.sent}`);
    console.log(`    ${st.id}: stored ${mids.length} = ${st.acked.length} acknowledged + `
      + `${mids.length - st.acked.length} unacknowledged (sent ${st.sent})`);
  }
});

await step('queued C2D messages survive the crash and arrive in order', async () => {
  const p = await mqttProbe(mqttSas(c2d, keys[c2d]));
  await subscribe(p, c2dFilter(c2d));
  const got = [];
  for (let i = 0; i < 3; i++) got.push(bodyOf(await p.events.next(15000, `C2D ${i + 1} after restart`)));
  checkEq('delivered after the crash', got, ['c2d-1', 'c2d-2', 'c2d-3']);
  check('c2d-0 (completed before the crash) is not delivered again', await p.events.none(1500), 'extra message');
  await endProbe(p);
  await waitFor(async () => (await reg.get(c2d)).responseBody.cloudToDeviceMessageCount === 0, 5000,
    'queue empty').then(() => ok('queue empty after the PUBACKs'), (e) => fail('queue empty after the PUBACKs', e.message));
});

await step('a C2D message delivered but not acknowledged before the crash is delivered again', async () => {
  const p = await mqttProbe(mqttSas(lock, keys[lock]));
  checkEq('session resumed (session present)', p.sessionPresent, true);
  await subscribe(p, c2dFilter(lock));
  const e = await p.events.next(15000, 'redelivery of locked-1');
  checkEq('locked-1 delivered again', bodyOf(e), 'locked-1');
  checkEq('with DUP=1', e.packet.dup, true);
  await endProbe(p);
});

finish();
