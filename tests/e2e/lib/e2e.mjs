// Shared helpers for the Node test programs of tests/e2e (ES module).
//
// A test program is run by a tests/e2e/*.test.sh script (lib.sh + hub.sh),
// which sets:
//   GH_TEST_HOSTS        name=address pairs, resolved by lib/hosts.cjs
//   NODE_EXTRA_CA_CERTS  the root CA the servers' certificates chain to
//   GH_HUB_HOST          the hub's host name (has a dot)
//   GH_SERVICE_CS        the hub's iothubowner connection string
//   GH, GH_PKI_DIR, GH_WORK  the gatehouse binary, the test PKI, a temp dir
//
// Output: one line per check ("  ok: ..." / "  FAIL: ..."); the process exit
// status is 0 only when every check passed. Every wait is bounded.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import readline from 'node:readline';

export const require = createRequire(import.meta.url);

export const env = (name, fallback) => {
  const v = process.env[name];
  if (v !== undefined && v !== '') return v;
  if (fallback !== undefined) return fallback;
  throw new Error(`environment variable ${name} is not set (run me from a .test.sh)`);
};

// ---- checks ---------------------------------------------------------------

let failures = 0;
let checks = 0;

export function ok(name) {
  checks++;
  console.log(`  ok: ${name}`);
}

export function fail(name, detail) {
  checks++;
  failures++;
  console.log(`  FAIL: ${name}${detail !== undefined ? ` -- ${detail}` : ''}`);
}

// check(name, condition, detail): one line either way.
export function check(name, cond, detail) {
  if (cond) ok(name);
  else fail(name, detail);
  return !!cond;
}

const show = (v) => {
  if (typeof v === 'string') return JSON.stringify(v);
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
};

export function checkEq(name, actual, expected) {
  return check(name, Object.is(actual, expected) || show(actual) === show(expected),
    `expected ${show(expected)}, got ${show(actual)}`);
}

// step(name, fn): run an async block of checks; an exception or a timeout
// is one failed check (the block's remaining checks are skipped).
export async function step(name, fn, timeoutMs = 30000) {
  console.log(`- ${name}`);
  try {
    await withTimeout(Promise.resolve().then(fn), timeoutMs, name);
  } catch (e) {
    fail(`${name}: unexpected error`, errText(e));
  }
}

export function errText(e) {
  if (!e) return String(e);
  const parts = [e.name || 'Error', e.message];
  if (e.code !== undefined) parts.push(`code=${e.code}`);
  if (e.response && e.response.statusCode) parts.push(`http=${e.response.statusCode}`);
  if (e.responseBody) parts.push(`body=${String(e.responseBody).slice(0, 200)}`);
  return parts.join(' ');
}

// finish(): print the summary and exit with the right status.
export function finish() {
  console.log(`${checks - failures}/${checks} checks passed`);
  process.exit(failures === 0 && checks > 0 ? 0 : 1);
}

// A whole-program watchdog: a test program never runs unbounded.
export function watchdog(seconds) {
  const t = setTimeout(() => {
    fail('watchdog', `test program still running after ${seconds} s`);
    finish();
  }, seconds * 1000);
  t.unref();
}

export function withTimeout(promise, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

export const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// waitFor(fn, ms, what): poll an async predicate (bounded) until it returns
// a truthy value, which is returned.
export async function waitFor(fn, ms, what, everyMs = 100) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timeout after ${ms} ms waiting for ${what}`);
    await delay(everyMs);
  }
}

// A queue of events from a callback API, consumed with a bounded wait.
export class Inbox {
  constructor() {
    this.items = [];
    this.waiters = [];
  }
  push(item) {
    const w = this.waiters.shift();
    if (w) w(item);
    else this.items.push(item);
  }
  next(ms, what = 'an event') {
    if (this.items.length) return Promise.resolve(this.items.shift());
    return withTimeout(new Promise((r) => this.waiters.push(r)), ms, what);
  }
  // Nothing arrives within ms (resolves true), or the first item (false).
  async none(ms) {
    if (this.items.length) return false;
    try {
      await withTimeout(new Promise((r) => this.waiters.push(r)), ms, 'nothing');
      return false;
    } catch {
      this.waiters.pop();
      return true;
    }
  }
}

// ---- control channel to the shell (lib.sh run_ctl) ---------------------------

let ctlLines;
// ctl('kill9-hub'): ask the driving shell script to act (shell function
// ctl_<word>); resolves when it answered "@@ok", rejects on "@@err".
export async function ctl(command, ms = 60000) {
  if (!ctlLines) {
    const rl = readline.createInterface({ input: process.stdin });
    ctlLines = new Inbox();
    rl.on('line', (l) => ctlLines.push(l));
  }
  process.stdout.write(`@@ctl ${command}\n`);
  const answer = await ctlLines.next(ms, `shell answer to '${command}'`);
  if (answer !== '@@ok') throw new Error(`shell could not '${command}': ${answer}`);
}

// ---- SAS tokens and connection strings (PROTOCOL.md 2) ------------------------

export function parseConnectionString(cs) {
  const out = {};
  for (const part of cs.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

// Sign like the Node SDKs do: sr is encodeURIComponent(resource).
export function sasToken(resource, keyBase64, expiry, keyName, { encodeSr = true } = {}) {
  const sr = encodeSr ? encodeURIComponent(resource) : resource;
  const sig = crypto.createHmac('sha256', Buffer.from(keyBase64, 'base64'))
    .update(`${sr}\n${expiry}`).digest('base64');
  let t = `SharedAccessSignature sr=${sr}&sig=${encodeURIComponent(sig)}&se=${expiry}`;
  if (keyName) t += `&skn=${keyName}`;
  return t;
}

export const nowS = () => Math.floor(Date.now() / 1000);

export function deviceToken(deviceId, key, ttlS = 3600, host = env('GH_HUB_HOST')) {
  return sasToken(`${host}/devices/${deviceId}`, key, nowS() + ttlS);
}

export function deviceConnectionString(deviceId, key, host = env('GH_HUB_HOST')) {
  return `HostName=${host};DeviceId=${deviceId};SharedAccessKey=${key}`;
}

// ---- the hub's HTTPS service API (docs/hub-rest.md) --------------------------

export function service() {
  const cs = parseConnectionString(env('GH_SERVICE_CS'));
  return { host: cs.HostName, policy: cs.SharedAccessKeyName, key: cs.SharedAccessKey };
}

// rest(method, path, {body, headers, token}): one HTTPS request to the hub's
// service API signed with the iothubowner policy (or `token`). Resolves
// {status, headers, text, json}; json is undefined unless the body parses.
export function rest(method, path, opts = {}) {
  const svc = service();
  const token = opts.token !== undefined ? opts.token
    : sasToken(svc.host, svc.key, nowS() + 3600, svc.policy, { encodeSr: false });
  let body = opts.body;
  const headers = { ...(opts.headers || {}) };
  if (token !== null) headers.Authorization = token;
  if (body !== undefined && !Buffer.isBuffer(body) && typeof body !== 'string') {
    body = JSON.stringify(body);
    headers['Content-Type'] = headers['Content-Type'] || 'application/json; charset=utf-8';
  }
  if (body !== undefined) headers['Content-Length'] = Buffer.byteLength(body);
  const sep = path.includes('?') ? '&' : '?';
  return withTimeout(new Promise((resolve, reject) => {
    const req = https.request({
      host: svc.host, port: 443, method, headers,
      path: `${path}${sep}api-version=2021-04-12`,
      servername: svc.host,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  }), opts.timeoutMs || 70000, `${method} ${path}`);
}

// The IoT Hub error code in a REST error body ("ErrorCode:DeviceNotFound;...").
export function restErrorCode(r) {
  const m = r.json && typeof r.json.Message === 'string' && /ErrorCode:([^;]*)/.exec(r.json.Message);
  return m ? m[1] : undefined;
}

// Cloud-to-device send (gatehouse extension): props {messageId, correlationId,
// ack, contentType, contentEncoding, expiry, app: {name: value}}.
export function sendC2D(deviceId, body, props = {}) {
  const h = {};
  if (props.messageId) h['iothub-messageid'] = props.messageId;
  if (props.correlationId) h['iothub-correlationid'] = props.correlationId;
  if (props.userId) h['iothub-userid'] = props.userId;
  if (props.ack) h['iothub-ack'] = props.ack;
  if (props.expiry) h['iothub-expiry'] = props.expiry;
  if (props.contentType) h['Content-Type'] = props.contentType;
  if (props.contentEncoding) h['Content-Encoding'] = props.contentEncoding;
  for (const [k, v] of Object.entries(props.app || {})) h[`iothub-app-${k}`] = v;
  return rest('POST', `/devices/${encodeURIComponent(deviceId)}/messages/deviceBound`,
    { body: Buffer.from(body), headers: h });
}

// Telemetry read path: every message of `device` (all devices if not given)
// with seq > after, page by page; long-polls `wait` seconds for the first
// page if given.
export async function readTelemetry({ device, after = 0, wait = 0, limit = 1000 } = {}) {
  const out = [];
  let cursor = after;
  for (let page = 0; page < 1000; page++) {
    const q = new URLSearchParams({ after: String(cursor), limit: String(limit) });
    if (device) q.set('device', device);
    if (wait && page === 0) q.set('wait', String(wait));
    const r = await rest('GET', `/gatehouse/telemetry?${q}`);
    if (r.status !== 200 || !r.json || !Array.isArray(r.json.messages)) {
      throw new Error(`GET /gatehouse/telemetry: ${r.status} ${r.text.slice(0, 200)}`);
    }
    const got = r.json.messages;
    out.push(...got);
    if (got.length < limit) break;
    cursor = got[got.length - 1].seq;
  }
  return out;
}

// Wait (bounded) until `pred(messages)` holds for device's telemetry.
export async function waitTelemetry(device, pred, ms = 10000) {
  let last = [];
  try {
    return await waitFor(async () => {
      last = await readTelemetry({ device });
      return pred(last) ? last : null;
    }, ms, `telemetry of ${device}`, 200);
  } catch (e) {
    e.message += ` (have ${last.length} messages)`;
    throw e;
  }
}

export const bodyText = (m) => (m.bodyEncoding === 'base64'
  ? Buffer.from(m.body, 'base64').toString('utf8') : m.body);

// ---- certificates (gatehouse pki) ---------------------------------------------

export function pki(command, ...args) {
  const out = execFileSync(env('GH'), ['pki', command, '--dir', env('GH_PKI_DIR'), '--json', ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000 });
  return JSON.parse(out);
}

export const pkiPath = (kind, name) => kind === 'key'
  ? `${env('GH_PKI_DIR')}/private/${name}.key.pem`
  : `${env('GH_PKI_DIR')}/certs/${name}.${kind}.pem`;

export const readPem = (kind, name) => fs.readFileSync(pkiPath(kind, name), 'utf8');

export function thumbprints(name) {
  const info = pki('inspect', pkiPath('cert', name));
  const c = info.certificates[0];
  return { sha1: c.sha1, sha256: c.sha256 };
}

// Register a CA certificate with the hub and prove possession
// (docs/hub-rest.md /certificates). Returns the final description.
export async function registerVerifiedCA(name, caName = name) {
  const put = await rest('PUT', `/certificates/${name}`,
    { body: { properties: { certificate: readPem('cert', caName) } } });
  if (put.status !== 200) throw new Error(`PUT /certificates/${name}: ${put.status} ${put.text}`);
  const gen = await rest('POST', `/certificates/${name}/generateVerificationCode`,
    { headers: { 'If-Match': put.json && put.json.etag ? `"${put.json.etag}"` : '*' } });
  const code = gen.json && gen.json.properties && gen.json.properties.verificationCode;
  if (gen.status !== 200 || !code) throw new Error(`generateVerificationCode: ${gen.status} ${gen.text}`);
  const vname = `${caName}-verify-${Date.now()}`;
  pki('verification-cert', code, '--issuer', caName, '--name', vname);
  const ver = await rest('POST', `/certificates/${name}/verify`,
    { body: { certificate: readPem('cert', vname) },
      headers: { 'If-Match': gen.json.etag ? `"${gen.json.etag}"` : '*' } });
  if (ver.status !== 200) throw new Error(`verify: ${ver.status} ${ver.text}`);
  return ver.json;
}

// ---- MQTT.js probes (negative tests) -------------------------------------------

const mqtt = require('mqtt');

// mqttProbe(opts): connect with MQTT 3.1.1 over TLS to the hub; resolves
// {client, connack: 0, events} on success, or {connack: code} when refused,
// or {error} when the connection failed before any CONNACK (e.g. TLS).
// events is an Inbox of {type: 'message'|'close'|'error', ...}.
export function mqttProbe({ clientId, username, password, cert, key, ca, host, clean = false,
  keepalive = 60, timeoutMs = 10000, protocolVersion = 4, ...extra } = {}) {
  host = host || env('GH_HUB_HOST');
  return withTimeout(new Promise((resolve) => {
    const events = new Inbox();
    const client = mqtt.connect({
      protocol: 'mqtts', host, port: 8883, servername: host,
      protocolVersion, clientId, username, password, cert, key, ca,
      clean, keepalive, reconnectPeriod: 0, connectTimeout: timeoutMs,
      rejectUnauthorized: true, ...extra,
    });
    let settled = false;
    const settle = (v) => { if (!settled) { settled = true; resolve(v); } };
    client.on('connect', (connack) => settle({ client, connack: connack.returnCode,
      sessionPresent: connack.sessionPresent, events }));
    client.on('message', (topic, payload, packet) => events.push({ type: 'message', topic, payload, packet }));
    client.on('error', (e) => {
      events.push({ type: 'error', error: e });
      if (typeof e.code === 'number') {
        client.end(true);
        settle({ connack: e.code, error: e });
      } else {
        client.end(true);
        settle({ error: e });
      }
    });
    client.on('close', () => {
      events.push({ type: 'close' });
      settle({ error: new Error('connection closed before CONNACK') });
    });
  }), timeoutMs + 2000, 'MQTT connect');
}

// After `action`, the hub closes the connection: resolves true if the
// client sees 'close' within ms.
export async function closedWithin(probe, ms) {
  if (!probe.client.connected) return true;
  return withTimeout(new Promise((resolve) => {
    const poll = () => { if (!probe.client.connected) resolve(true); };
    probe.client.on('close', () => resolve(true));
    poll();
  }), ms, 'connection close').catch(() => false);
}

export function mqttSas(deviceId, key, extra = {}) {
  const host = env('GH_HUB_HOST');
  return {
    clientId: deviceId,
    username: `${host}/${deviceId}/?api-version=2021-04-12`,
    password: deviceToken(deviceId, key),
    ...extra,
  };
}

export function mqttX509(deviceId, certName = deviceId, extra = {}) {
  const host = env('GH_HUB_HOST');
  return {
    clientId: deviceId,
    username: `${host}/${deviceId}/?api-version=2021-04-12`,
    cert: fs.readFileSync(pkiPath('chain', certName)),
    key: fs.readFileSync(pkiPath('key', certName)),
    ...extra,
  };
}

// Resolves the SUBACK granted codes, or rejects when the connection closes.
export function subscribe(probe, filters, qos = 1, ms = 5000) {
  return withTimeout(new Promise((resolve, reject) => {
    const onClose = () => reject(new Error('connection closed'));
    probe.client.once('close', onClose);
    probe.client.subscribe(filters, { qos }, (err, granted) => {
      probe.client.removeListener('close', onClose);
      if (err) reject(err);
      else resolve(granted.map((g) => g.qos));
    });
  }), ms, `SUBSCRIBE ${filters}`);
}

// Resolves 'puback' when acknowledged, 'closed' when the connection closes first.
export function publish(probe, topic, payload, qos = 1, ms = 5000) {
  return withTimeout(new Promise((resolve) => {
    const onClose = () => resolve('closed');
    probe.client.once('close', onClose);
    probe.client.publish(topic, payload, { qos }, (err) => {
      probe.client.removeListener('close', onClose);
      resolve(err ? (probe.client.connected ? `error: ${err.message}` : 'closed') : 'puback');
    });
  }), ms, `PUBLISH ${topic}`);
}

export const endProbe = (p) => new Promise((r) => {
  if (!p || !p.client) return r();
  p.client.end(true, {}, () => r());
});

// ---- devices through the service SDK --------------------------------------------

export function registry() {
  const { Registry } = require('azure-iothub');
  return Registry.fromConnectionString(env('GH_SERVICE_CS'));
}

export async function createSasDevice(reg, deviceId, extra = {}) {
  const r = await reg.create({ deviceId, status: 'enabled', ...extra });
  return r.responseBody;
}

export const uniq = (prefix) => `${prefix}-${crypto.randomBytes(3).toString('hex')}`;
