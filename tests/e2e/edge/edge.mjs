// Shared helpers for the gateway end-to-end tests (tests/e2e/edge_*.test.sh,
// lib/edge.sh): children made with the official Node device SDK
// (azure-iot-device + azure-iot-device-mqtt) connecting through the gateway
// with GatewayHostName, the gateway's metrics, the gatehouse CLI, and the
// gateway's server certificate as `openssl s_client` sees it.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { require, env, errText, withTimeout, Inbox, parseConnectionString } from '../lib/e2e.mjs';

const { Client, Message, X509AuthenticationProvider } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');
const { NoRetry } = require('azure-iot-common');

export { Message };

// A device connection string with GatewayHostName (PROTOCOL.md 6.1).
export const viaGateway = (cs) => `${cs};GatewayHostName=${env('GH_GW_HOST')}`;

// A child client: the gateway's certificate is checked against the root CA
// given as the `ca` option (as the classic tutorial does). events: an Inbox
// of {type: 'disconnect'|'error', ...}; the client never retries on its own
// (a reconnect would hide a dropped connection). Async: the SDK applies
// options with a `ca` asynchronously, so they must be awaited before open().
//
// azure-iot-device 1.18.4 ignores GatewayHostName in an `x509=true`
// connection string (Client.fromConnectionString builds its
// X509AuthenticationProvider from HostName and DeviceId only, so the client
// would dial the hub directly). For those, the provider is built here with
// the same three values, gatewayHostName included, which the MQTT transport
// honours (it dials gatewayHostName || host).
export async function child(cs, { cert, key } = {}) {
  const p = parseConnectionString(cs);
  const client = p.x509 === 'true'
    ? Client.fromAuthenticationProvider(new X509AuthenticationProvider({
      host: p.HostName, deviceId: p.DeviceId, gatewayHostName: p.GatewayHostName,
    }), Mqtt)
    : Client.fromConnectionString(cs, Mqtt);
  const opts = { ca: fs.readFileSync(env('GH_ROOT_CA'), 'utf8') };
  if (cert) {
    opts.cert = fs.readFileSync(cert, 'utf8');
    opts.key = fs.readFileSync(key, 'utf8');
  }
  await withTimeout(client.setOptions(opts), 5000, 'client.setOptions()');
  client.setRetryPolicy(new NoRetry());
  const events = new Inbox();
  client.on('disconnect', (e) => events.push({ type: 'disconnect', error: e }));
  client.on('error', (e) => events.push({ type: 'error', error: e }));
  return { client, events };
}

// Open a client; resolves {error: null} or {error} (never rejects).
export async function tryOpen(client, ms = 20000) {
  try {
    await withTimeout(client.open(), ms, 'client.open()');
    return { error: null };
  } catch (e) {
    return { error: e };
  }
}

export const closeQuietly = async (c) => {
  if (!c) return;
  try {
    await withTimeout(c.client.close(), 5000, 'client.close()');
  } catch {
    /* already closed */
  }
};

// The CONNACK refusal the SDK reports. azure-iot-device-mqtt wraps the
// first connection's error as "Failure on first connection (Not
// authorized): <mqtt.js error>" whatever the code, so only mqtt.js's own
// text ("Connection refused: <reason>", one per CONNACK code) is looked at.
const REFUSALS = {
  'Unacceptable protocol version': 'protocol-version',
  'Identifier rejected': 'identifier-rejected',
  'Server unavailable': 'server-unavailable',
  'Bad username or password': 'bad-credentials',
  'Not authorized': 'not-authorized',
};
export const refusalOf = (e) => {
  if (!e) return 'none';
  const t = errText(e);
  const m = /Connection refused: ([A-Za-z ]+?)(?: error)?$/m.exec(t) || /Connection refused: ([A-Za-z ]+)/.exec(t);
  return (m && REFUSALS[m[1].trim()]) || `other: ${t}`;
};

// ---- the gateway's local HTTP endpoint --------------------------------------------

function get(path) {
  return withTimeout(new Promise((resolve, reject) => {
    const req = http.get(`${env('GH_EDGE_METRICS')}${path}`, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
  }), 5000, `GET ${path}`);
}

// GET /metrics as a Map of sample name (with labels) -> number.
export async function metrics() {
  const r = await get('/metrics');
  if (r.status !== 200) throw new Error(`GET /metrics: ${r.status}`);
  const m = new Map();
  for (const line of r.text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  m.text = r.text;
  return m;
}

export async function status() {
  const r = await get('/status');
  if (r.status !== 200) throw new Error(`GET /status: ${r.status}`);
  return JSON.parse(r.text);
}

// ---- the gatehouse CLI ---------------------------------------------------------------

// gh(args): run the gatehouse CLI without blocking the event loop (a child
// must be able to answer a method while `gatehouse method invoke` waits).
// Resolves {code, stdout, stderr}.
export function gh(args, { hub = true, timeoutMs = 60000 } = {}) {
  const full = hub
    ? [...args, '--data-dir', env('GH_HUB_DATA'), '--address', env('GH_HUB_ADDR'), '--ca', env('GH_ROOT_CA')]
    : args;
  return new Promise((resolve) => {
    execFile(env('GH'), full, { encoding: 'utf8', timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

// ---- the gateway's server certificate -------------------------------------------------

// serverCert(): what `openssl s_client` gets from the gateway's children
// port (SNI = the gateway's host name), verified against the root CA:
// {serial, verify (the "Verify return code" line), subject, san}.
export function serverCert() {
  const addr = `${env('GH_GW_ADDR')}:8883`;
  const host = env('GH_GW_HOST');
  return new Promise((resolve, reject) => {
    const sc = execFile('openssl', ['s_client', '-connect', addr, '-servername', host,
      '-CAfile', env('GH_ROOT_CA'), '-verify_hostname', host, '-showcerts'],
    { encoding: 'utf8', timeout: 15000 }, (err, stdout) => {
      if (!stdout) return reject(new Error(`openssl s_client ${addr}: ${err && err.message}`));
      const verify = (/Verify return code: (.*)/.exec(stdout) || [])[1];
      const pem = (/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/.exec(stdout) || [])[0];
      if (!pem) return reject(new Error(`openssl s_client ${addr}: no certificate`));
      const x = execFile('openssl', ['x509', '-noout', '-serial', '-subject', '-ext', 'subjectAltName', '-enddate'],
        { encoding: 'utf8', timeout: 10000 }, (e2, out) => {
          if (e2) return reject(e2);
          resolve({
            serial: (/serial=(\S+)/.exec(out) || [])[1],
            subject: (/subject=(.*)/.exec(out) || [])[1],
            san: (/DNS:[^\n]*/.exec(out) || [])[0],
            notAfter: (/notAfter=(.*)/.exec(out) || [])[1],
            verify,
          });
        });
      x.stdin.end(pem);
    });
    sc.stdin.end();
  });
}
