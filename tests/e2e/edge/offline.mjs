// tests/e2e/edge_offline.test.sh: a known child authenticates at the gateway
// while the hub is stopped, and after a gateway restart with the hub still
// stopped; a child disabled in the hub is refused once the gateway has
// synced, and its open connection is closed. A QoS 1 message sent while
// the hub is down waits at the gateway and is delivered once it is back. The
// shell script acts on the daemons (ctl: stop-hub, start-hub, edge-restart,
// edge-wait-link, device-disable).
import {
  env, ok, check, checkEq, step, finish, watchdog, errText, waitFor, withTimeout, ctl,
  rest, waitTelemetry,
} from '../lib/e2e.mjs';
import { Message, viaGateway, child, tryOpen, closeQuietly, refusalOf, metrics, status } from './edge.mjs';

watchdog(200);

const cs = viaGateway(env('GH_CS_C1'));
const counter = (m, name) => (m.has(name) ? m.get(name) : NaN);
const OFFLINE = 'gatehouse_edge_children_accepted_offline_total';
const SYNCS = 'gatehouse_edge_identity_syncs_total{outcome="ok"}';

// Open c1, check it authenticated, close it again.
async function connectOnce(what) {
  const c = await child(cs);
  const r = await tryOpen(c.client);
  check(`${what}: c1 open() through the gateway succeeds`, !r.error, r.error && errText(r.error));
  await closeQuietly(c);
  return !r.error;
}

await step('online: the child connects and its telemetry reaches the hub', async () => {
  const c = await child(cs);
  const r = await tryOpen(c.client);
  if (r.error) throw new Error(`open: ${errText(r.error)}`);
  ok('c1 open() through the gateway');
  const msg = new Message('online');
  msg.messageId = 'off-1';
  await c.client.sendEvent(msg);
  await waitTelemetry('c1', (l) => l.some((x) => x.properties.system['message-id'] === 'off-1'), 15000);
  ok('telemetry of c1 at the hub');
  await closeQuietly(c);
}, 40000);

await step('hub stopped: a known child still authenticates', async () => {
  await ctl('stop-hub');
  await ctl('edge-wait-link 0 30');
  const before = await metrics();
  checkEq('upstream_connected is 0 with the hub stopped', counter(before, 'gatehouse_edge_upstream_connected'), 0);
  await connectOnce('hub stopped');
  const after = await metrics();
  checkEq('children_accepted_offline_total moved by 1', counter(after, OFFLINE) - counter(before, OFFLINE), 1);
}, 60000);

await step('gateway restarted with the hub still stopped: the child still authenticates', async () => {
  await ctl('edge-restart');
  ok('gateway restarted (from identity.json and its children cache)');
  const st = await status();
  check('edge status: upstream is not connected', st.upstream && st.upstream.state !== 'connected',
    JSON.stringify(st.upstream));
  checkEq('edge status: 1 child known from the cache', st.children && st.children.known, 1);
  check('edge status: cache.lastSync kept across the restart', !!(st.cache && st.cache.lastSync),
    JSON.stringify(st.cache));
  await connectOnce('cold start without the hub');
  const m = await metrics();
  checkEq('children_accepted_offline_total is 1 in the new process', counter(m, OFFLINE), 1);
}, 60000);

// A QoS 1 message sent while the link is down waits at the gateway and
// reaches the hub once the link is back. When the child gets its PUBACK
// depends on the message path (in memory: after the hub's PUBACK; with the
// durable queue: once stored), so it is reported, not asserted.
let held;
let pending;
await step('offline: a QoS 1 message waits at the gateway', async () => {
  held = await child(cs);
  const r = await tryOpen(held.client);
  if (r.error) throw new Error(`open: ${errText(r.error)}`);
  const msg = new Message('sent while the hub was down');
  msg.messageId = 'off-held';
  let settled = false;
  pending = held.client.sendEvent(msg).then(() => { settled = true; }, (e) => { settled = true; throw e; });
  pending.catch(() => {});
  const queued = await waitFor(async () => counter(await metrics(), 'gatehouse_edge_queue_messages') === 1,
    5000, 'queue_messages 1').catch((e) => e);
  check('gatehouse_edge_queue_messages is 1 while the hub is down', queued === true,
    queued instanceof Error ? queued.message : '');
  console.log(`    (PUBACK to the child while the hub is down: ${settled ? 'yes (stored at the gateway)' : 'not yet'})`);
}, 30000);

let open;
await step('hub back: the child connects online', async () => {
  await ctl('start-hub');
  await ctl('edge-wait-link 1 40');
  ok('link to the hub is up again');
  await withTimeout(pending, 30000, 'sendEvent of the held message');
  ok('the held message is acknowledged to the child');
  const all = await waitTelemetry('c1', (l) => l.some((x) => x.properties.system['message-id'] === 'off-held'), 15000);
  const got = all.find((x) => x.properties.system['message-id'] === 'off-held');
  checkEq('held message at the hub: iothub-connection-device-id', got.properties.system['iothub-connection-device-id'], 'c1');
  checkEq('queue drained', counter(await metrics(), 'gatehouse_edge_queue_messages'), 0);
  await closeQuietly(held);
  open = await child(cs);
  const r = await tryOpen(open.client);
  if (r.error) throw new Error(`open: ${errText(r.error)}`);
  ok('c1 open() through the gateway');
  const st = await waitFor(async () => {
    const d = await rest('GET', '/devices/c1');
    return d.json && d.json.connectionState === 'Connected';
  }, 10000, 'c1 Connected').catch((e) => e);
  check('registry shows c1 Connected', st === true, st instanceof Error ? st.message : '');
}, 70000);

await step('child disabled in the hub: refused once the gateway has synced', async () => {
  await ctl('device-disable c1');
  ok('c1 disabled at the hub');
  const syncs = counter(await metrics(), SYNCS);
  const ev = await open.events.next(20000, 'the open connection of c1 to be closed').catch((e) => e);
  check('the already-open connection of c1 is closed', !(ev instanceof Error) && ev.type === 'disconnect',
    ev instanceof Error ? ev.message : JSON.stringify({ type: ev.type, error: ev.error && errText(ev.error) }));
  await closeQuietly(open);
  // The gateway re-syncs after the hub ends an attachment and every
  // cache.sync_interval (10 s here): wait for a sync after the change.
  const synced = await waitFor(async () => counter(await metrics(), SYNCS) > syncs, 25000,
    'an identity sync after the disable').catch((e) => e);
  check('the gateway synced after the disable', synced === true, synced instanceof Error ? synced.message : '');
  const c = await child(cs);
  const r = await tryOpen(c.client);
  check('disabled c1: open() fails', !!r.error, 'open succeeded');
  checkEq('disabled c1: refused with CONNACK 3 (server unavailable, docs/edge.md)', refusalOf(r.error),
    'server-unavailable');
  if (r.error) console.log(`    (SDK reported ${r.error.name}: ${errText(r.error)})`);
  await closeQuietly(c);
  const m = await metrics();
  check('auth_failures_total{reason="server_unavailable"} counted it',
    counter(m, 'gatehouse_edge_auth_failures_total{reason="server_unavailable"}') >= 1, m.text.split('\n')
      .filter((l) => l.startsWith('gatehouse_edge_auth_failures_total')).join(' '));
}, 80000);

finish();
