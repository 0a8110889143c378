// tests/e2e/edge_routes.test.sh: routes in the gateway (docs/routes.md).
// The active configuration has
//   upstream = FROM /messages/* WHERE NOT IS_DEFINED($connectionModuleId) INTO $upstream
//   alerts   = FROM /messages/* WHERE $body.temperature > 60 INTO LocalTopic("site/alerts"), priority 0
//   audit    = FROM /messages/* WHERE level = 'critical' INTO AppendFile("critical.jsonl")
// and the local MQTT endpoint on the gateway's address, port 1883. An
// independent consumer (mosquitto_sub) gets exactly the hot messages, also
// while the hub is stopped; critical.jsonl gets one line per critical
// message; every message reaches the hub; a route with a syntax error is
// refused by `gatehouse edge config apply` with file:line:column and the
// column inside the route; a changed threshold is reloaded without dropping
// the child's connection. The shell acts on the daemons (ctl: stop-hub,
// start-hub, edge-wait-link, edge-wait-log).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import {
  ok, check, checkEq, step, finish, watchdog, errText, waitFor, withTimeout, ctl, env,
  readTelemetry, bodyText,
} from '../lib/e2e.mjs';
import { Message, viaGateway, child, tryOpen, closeQuietly, metrics, gh } from './edge.mjs';

watchdog(250);

const ALERTS_IN = 'gatehouse_edge_route_messages_total{route="alerts",direction="in"}';
const metric = (m, name) => (m.has(name) ? m.get(name) : NaN);
const home = env('GH_EDGE_HOME');
const jsonl = `${home}/critical.jsonl`;

// mosquitto_sub on the gateway's local endpoint, for `count` messages (at
// most 10 s). Resolves once it has its SUBACK; .done resolves to the
// [topic, payload] pairs it printed and its exit status.
async function consumer(count) {
  const args = ['-h', env('GH_GW_ADDR'), '-p', '1883', '-t', 'site/#', '-C', String(count),
    '-W', '10', '-v', '-d', '-i', `e2e-consumer-${process.pid}-${count}-${Date.now() % 100000}`];
  // Line-buffered: its debug line about the SUBACK must arrive when printed.
  const p = spawn('stdbuf', ['-oL', 'mosquitto_sub', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let subacked;
  const gotSuback = new Promise((r) => { subacked = r; });
  p.stdout.on('data', (d) => {
    out += d;
    if (/received SUBACK/.test(out)) subacked();
  });
  p.stderr.on('data', (d) => { err += d; });
  const done = new Promise((resolve) => {
    p.on('close', (code) => {
      const msgs = out.split('\n').filter((l) => l.startsWith('site/'))
        .map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]);
      resolve({ code, msgs, err: err.trim(), out });
    });
  });
  await withTimeout(Promise.race([gotSuback, done.then((r) => {
    throw new Error(`mosquitto_sub exited before its SUBACK (${r.code}): ${r.err} ${r.out}`);
  })]), 10000, 'mosquitto_sub SUBACK');
  return { done };
}

// The messages: body {"id", "temperature"} as JSON (or plain text), app
// property level. hot = the alerts route selects it.
const sent = [];
let nextId = 0;
async function send(c, { temperature, level, json = true }) {
  const id = `m${++nextId}`;
  const body = JSON.stringify({ id, temperature });
  const m = new Message(body);
  m.messageId = id;
  if (json) {
    m.contentType = 'application/json';
    m.contentEncoding = 'utf-8';
  }
  if (level) m.properties.add('level', level);
  await withTimeout(c.client.sendEvent(m), 15000, `sendEvent ${id}`);
  sent.push({ id, body, level });
  return { id, body };
}

// Send a batch; returns the bodies the local consumer must see, in order.
async function batch(c, specs, threshold) {
  const hot = [];
  for (const s of specs) {
    const r = await send(c, s);
    if (s.json !== false && s.temperature > threshold) hot.push(r.body);
  }
  return hot;
}

const hubIds = async () => new Set((await readTelemetry({ device: 'r1' }))
  .map((m) => m.properties.system['message-id']));
async function allAtHub(what) {
  let have;
  try {
    await waitFor(async () => {
      have = await hubIds();
      return sent.every((s) => have.has(s.id));
    }, 30000, what, 200);
  } catch (e) {
    e.message += ` (missing: ${sent.filter((s) => !have.has(s.id)).map((s) => s.id).join(' ')})`;
    throw e;
  }
  ok(`${what}: all ${sent.length} messages so far are at the hub`);
}

let r1;
await step('hub up: hot messages to the local consumer, critical ones to the file', async () => {
  r1 = await child(viaGateway(env('GH_CS_R1')));
  const r = await tryOpen(r1.client);
  if (r.error) throw new Error(`open: ${errText(r.error)}`);
  const specs = [
    { temperature: 20, level: 'info' },
    { temperature: 65 },
    { temperature: 61, level: 'critical' },
    { temperature: 30, level: 'critical' },
    { temperature: 99, json: false }, // not JSON: $body is undefined, not hot
    { temperature: 60 },
    { temperature: 80, level: 'info' },
  ];
  const want = specs.filter((s) => s.json !== false && s.temperature > 60).length;
  const sub = await consumer(want);
  const hot = await batch(r1, specs, 60);
  const got = await sub.done;
  checkEq('mosquitto_sub got exactly the hot messages (topic site/alerts)', got.msgs,
    hot.map((b) => ['site/alerts', b]));
  await allAtHub('hub up');
  const m = await metrics();
  checkEq(`${ALERTS_IN}`, metric(m, ALERTS_IN), hot.length);
}, 60000);

await step('hub stopped: alerts are still handled on site', async () => {
  await ctl('stop-hub');
  await ctl('edge-wait-link 0 30');
  const specs = [
    { temperature: 10 },
    { temperature: 70, level: 'critical' },
    { temperature: 50 },
    { temperature: 90 },
  ];
  const sub = await consumer(2);
  const hot = await batch(r1, specs, 60);
  const got = await sub.done;
  checkEq('with the hub stopped, mosquitto_sub got exactly the hot messages', got.msgs,
    hot.map((b) => ['site/alerts', b]));
  const m = await metrics();
  check('the upstream messages wait in the queue', metric(m, 'gatehouse_edge_queue_messages') >= specs.length,
    `queue_messages ${metric(m, 'gatehouse_edge_queue_messages')}`);
  await ctl('start-hub');
  await ctl('edge-wait-link 1 30');
  await allAtHub('hub back');
}, 90000);

await step('critical.jsonl: one JSON line per critical message', async () => {
  const lines = fs.readFileSync(jsonl, 'utf8').split('\n').filter((l) => l);
  const crit = sent.filter((s) => s.level === 'critical');
  checkEq('line count', lines.length, crit.length);
  const parsed = lines.map((l) => { try { return JSON.parse(l); } catch { return null; } });
  check('every line is JSON', parsed.every((p) => p), lines.join('\n'));
  checkEq('deviceId of every line', parsed.map((p) => p && p.deviceId), crit.map(() => 'r1'));
  checkEq('properties.level of every line', parsed.map((p) => p && p.properties && p.properties.level),
    crit.map(() => 'critical'));
  checkEq('body of every line', parsed.map((p) => p && p.body), crit.map((s) => s.body));
  checkEq('systemProperties.messageId of every line',
    parsed.map((p) => p && p.systemProperties && p.systemProperties.messageId), crit.map((s) => s.id));
}, 20000);

// config.toml with the alerts route replaced.
const cfgText = fs.readFileSync(env('GH_EDGE_CONFIG'), 'utf8');
const ALERTS = String.raw`alerts = { route = "FROM /messages/* WHERE $body.temperature > 60 INTO LocalTopic(\"site/alerts\")", priority = 0 }`;
if (!cfgText.includes(ALERTS)) throw new Error(`no alerts route in ${env('GH_EDGE_CONFIG')}`);
function withAlerts(route, name) {
  const file = `${env('GH_WORK')}/${name}`;
  fs.writeFileSync(file, cfgText.replace(ALERTS, route));
  return file;
}

await step('a route with a syntax error is refused with file:line:column', async () => {
  const bad = String.raw`alerts = { route = "FROM /messages/* WHERE $body.temperature > 60 INTOO LocalTopic(\"site/alerts\")", priority = 0 }`;
  const file = withAlerts(bad, 'routes-bad.toml');
  const active = fs.readFileSync(`${home}/config.toml`, 'utf8');
  const r = await gh(['edge', 'config', 'apply', '-c', file, '--home', home], { hub: false });
  checkEq('config apply exits with status 3 (config)', r.code, 3);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes('INTOO')) + 1;
  const route = /route = "(.*)", priority/.exec(bad)[1].replace(/\\"/g, '"');
  const col = route.indexOf('INTOO') + 1;
  const msg = r.stderr.trim();
  console.log(`    stderr: ${msg}`);
  const m = new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+):.*column (\\d+)`).exec(msg);
  check('the error has file:line:column and a column inside the route', !!m, msg);
  if (m) {
    checkEq('error line is the alerts route\'s line', Number(m[1]), line);
    checkEq('column inside the route points at INTOO', Number(m[3]), col);
  }
  checkEq('the active config.toml is unchanged', fs.readFileSync(`${home}/config.toml`, 'utf8'), active);
  // The running routes are still the old ones: 65 is hot.
  const sub = await consumer(1);
  const hot = await batch(r1, [{ temperature: 55 }, { temperature: 65 }], 60);
  const got = await sub.done;
  checkEq('the running gateway still uses the old route (65 > 60 is hot)', got.msgs,
    hot.map((b) => ['site/alerts', b]));
}, 60000);

await step('config apply with threshold 70 reloads without dropping the child', async () => {
  while (r1.events.items.length) r1.events.items.shift();
  const before = await metrics();
  const connected = metric(before, 'gatehouse_edge_children_connected');
  const file = withAlerts(ALERTS.replace('> 60', '> 70'), 'routes-70.toml');
  const r = await gh(['edge', 'config', 'apply', '-c', file, '--home', home], { hub: false });
  checkEq('config apply exits 0', r.code, 0);
  check('config apply reloaded the running gateway (SIGHUP)', /reloaded the running gateway/.test(r.stdout),
    `${r.stdout} ${r.stderr}`);
  await ctl('edge-wait-log event=edge\\.reload\\.config 1 20');
  ok('the gateway logged edge.reload.config');
  const sub = await consumer(2);
  const hot = await batch(r1, [{ temperature: 65 }, { temperature: 75 }, { temperature: 69.5 },
    { temperature: 71, level: 'critical' }], 70);
  const got = await sub.done;
  checkEq('after the reload only messages above 70 are hot', got.msgs, hot.map((b) => ['site/alerts', b]));
  check('the child saw no disconnect and no error', await r1.events.none(500),
    JSON.stringify(r1.events.items.map((e) => ({ type: e.type, error: e.error && errText(e.error) }))));
  const after = await metrics();
  checkEq('children_connected unchanged', metric(after, 'gatehouse_edge_children_connected'), connected);
  check(`${ALERTS_IN} moved with the new route`, metric(after, ALERTS_IN) >= hot.length,
    `${metric(before, ALERTS_IN)} before the reload, ${metric(after, ALERTS_IN)} after`);
  console.log(`    ${ALERTS_IN}: ${metric(before, ALERTS_IN)} before the reload, ${metric(after, ALERTS_IN)} after`);
  await allAtHub('after the reload');
  const bodies = new Map((await readTelemetry({ device: 'r1' }))
    .map((m) => [m.properties.system['message-id'], bodyText(m)]));
  checkEq('bodies at the hub', sent.map((s) => bodies.get(s.id)), sent.map((s) => s.body));
  await closeQuietly(r1);
}, 60000);

finish();
