// tests/e2e/edge_x509.test.sh: behind a gateway that provisioned itself
// through DPS with an X.509 certificate (gwx), a SAS child (c1, the official
// Node device SDK through GatewayHostName) sends telemetry that reaches the
// hub stamped c1; with the hub stopped the gateway restarts from
// identity.json, c1 still authenticates from the cache and its QoS 1
// messages wait at the gateway; once the hub is back the link (the
// gateway's certificate again) comes up and they arrive, stamped c1. The
// shell script acts on the daemons (ctl: stop-hub, start-hub, edge-restart,
// edge-wait-link).
import {
  env, ok, check, checkEq, step, finish, watchdog, errText, waitFor, withTimeout, ctl,
  waitTelemetry, bodyText,
} from '../lib/e2e.mjs';
import { Message, viaGateway, child, tryOpen, closeQuietly, metrics, status } from './edge.mjs';

watchdog(200);

const cs = viaGateway(env('GH_CS_C1'));
const counter = (m, name) => (m.has(name) ? m.get(name) : NaN);
const OFFLINE = 'gatehouse_edge_children_accepted_offline_total';
const QUEUED = 'gatehouse_edge_queue_messages';
const sysOf = (x) => x.properties.system;
const byId = (list, id) => list.find((x) => sysOf(x)['message-id'] === id);

async function openChild(what) {
  const c = await child(cs);
  const r = await tryOpen(c.client);
  if (r.error) {
    await closeQuietly(c);
    throw new Error(`${what}: c1 open() through the gateway: ${errText(r.error)}`);
  }
  ok(`${what}: c1 open() through the gateway (GatewayHostName=${env('GH_GW_HOST')})`);
  return c;
}

// One QoS 1 message with a message id and an application property.
function message(id, body) {
  const m = new Message(body);
  m.messageId = id;
  m.properties.add('gw', 'x509');
  return m;
}

function checkStamped(got, id, body) {
  checkEq(`${id} at the hub: iothub-connection-device-id`, sysOf(got)['iothub-connection-device-id'], 'c1');
  checkEq(`${id} at the hub: body`, bodyText(got), body);
  checkEq(`${id} at the hub: application property gw`, got.properties.app && got.properties.app.gw, 'x509');
}

await step('online: c1 telemetry through the X.509 gateway reaches the hub', async () => {
  const c = await openChild('online');
  await withTimeout(c.client.sendEvent(message('x509-online', 'through gwx')), 15000, 'sendEvent');
  ok('sendEvent acknowledged');
  const all = await waitTelemetry('c1', (l) => !!byId(l, 'x509-online'), 15000);
  checkStamped(byId(all, 'x509-online'), 'x509-online', 'through gwx');
  await closeQuietly(c);
}, 45000);

let held;
const pending = [];
await step('hub stopped, gateway restarted: it starts from identity.json, c1 authenticates offline', async () => {
  await ctl('stop-hub');
  await ctl('edge-wait-link 0 30');
  await ctl('edge-restart');
  ok('gateway restarted with the hub stopped');
  const st = await status();
  checkEq('edge status: deviceId (from identity.json)', st.deviceId, 'gwx');
  checkEq('edge status: hub (from identity.json)', st.hub, env('GH_HUB_HOST'));
  check('edge status: upstream is not connected', st.upstream && st.upstream.state !== 'connected',
    JSON.stringify(st.upstream));
  checkEq('edge status: 1 child known from the cache', st.children && st.children.known, 1);
  held = await openChild('hub stopped');
  const m = await metrics();
  checkEq('children_accepted_offline_total is 1 in the restarted gateway', counter(m, OFFLINE), 1);
  // Two QoS 1 messages while the hub is down: the gateway stores them
  // (a PUBACK from the gateway means "on disk", docs/edge.md).
  for (const [id, body] of [['x509-offline-1', 'while the hub was down (1)'],
    ['x509-offline-2', 'while the hub was down (2)']]) {
    const p = held.client.sendEvent(message(id, body));
    p.catch(() => {});
    pending.push(p);
  }
  const queued = await waitFor(async () => counter(await metrics(), QUEUED) === 2, 10000, `${QUEUED} 2`)
    .catch((e) => e);
  check(`${QUEUED} is 2 while the hub is down`, queued === true, queued instanceof Error ? queued.message : '');
  await withTimeout(Promise.all(pending), 15000, 'PUBACKs of the stored messages');
  ok('both messages acknowledged to c1 by the gateway (stored)');
}, 90000);

await step('hub started: the link comes back with the certificate and the held messages arrive', async () => {
  await ctl('start-hub');
  await ctl('edge-wait-link 1 40');
  ok('link to the hub is up again');
  const all = await waitTelemetry('c1',
    (l) => !!byId(l, 'x509-offline-1') && !!byId(l, 'x509-offline-2'), 20000);
  checkStamped(byId(all, 'x509-offline-1'), 'x509-offline-1', 'while the hub was down (1)');
  checkStamped(byId(all, 'x509-offline-2'), 'x509-offline-2', 'while the hub was down (2)');
  const drained = await waitFor(async () => counter(await metrics(), QUEUED) === 0, 10000, `${QUEUED} 0`)
    .catch((e) => e);
  check('the gateway queue drained', drained === true, drained instanceof Error ? drained.message : '');
  const m = await metrics();
  check('messages_forwarded_total counts the two held messages',
    counter(m, 'gatehouse_edge_messages_forwarded_total') >= 2,
    String(counter(m, 'gatehouse_edge_messages_forwarded_total')));
  // The connection opened offline is still served once the link is back.
  await withTimeout(held.client.sendEvent(message('x509-after', 'after the outage')), 15000, 'sendEvent');
  const again = await waitTelemetry('c1', (l) => !!byId(l, 'x509-after'), 15000);
  checkStamped(byId(again, 'x509-after'), 'x509-after', 'after the outage');
  await closeQuietly(held);
}, 90000);

finish();
