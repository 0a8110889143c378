// tests/e2e/edge_corrupt.test.sh: the Node parts of the corruption test.
//
//   node outage_corrupt.mjs send K
//       child c1 (official SDK through the gateway) sends K QoS 1 messages
//       one after the other (messageId "k-<n>", body {"mid","n"}); each
//       sendEvent must resolve (the gateway's PUBACK: the message is on disk).
//   node outage_corrupt.mjs corrupt SEGMENT
//       in a queue segment file (docs/queue.md: 24-byte segment header, then
//       records of a 40-byte header + payload): flip one byte in the payload
//       of the middle record, cut the last record short by 5 bytes and append
//       the first 20 bytes of a record header (a torn partial record).
//       Prints one JSON line {"records","flipped","truncated"}.
//   node outage_corrupt.mjs check K LOST...
//       the hub's read path holds exactly the messages k-1..k-K except LOST.
import fs from 'node:fs';
import {
  ok, check, checkEq, step, finish, watchdog, errText, withTimeout, readTelemetry, env,
} from '../lib/e2e.mjs';
import { Message, viaGateway, child, tryOpen, closeQuietly } from './edge.mjs';

watchdog(100);

const SEG_HEADER = 24;
const REC_HEADER = 40;
const REC_MAGIC = 0x47485152; // "GHQR"

// The records of a segment: {off, len, mid} (mid from the body JSON).
function records(buf) {
  const out = [];
  let off = SEG_HEADER;
  while (off + REC_HEADER <= buf.length) {
    if (buf.readUInt32BE(off) !== REC_MAGIC) throw new Error(`no record magic at offset ${off}`);
    const len = buf.readUInt32BE(off + 12);
    const p = buf.subarray(off + REC_HEADER, off + REC_HEADER + len);
    // Gateway payload: version u8, route u8, device u16+bytes, bag u16+bytes, body.
    const dl = p.readUInt16BE(2);
    const bl = p.readUInt16BE(4 + dl);
    const body = JSON.parse(p.subarray(6 + dl + bl).toString('utf8'));
    out.push({ off, len, mid: body.mid });
    off += REC_HEADER + len;
  }
  if (off !== buf.length) throw new Error(`segment ends inside a record (${buf.length - off} bytes)`);
  return out;
}

const [mode, ...args] = process.argv.slice(2);

if (mode === 'corrupt') {
  const file = args[0];
  const buf = fs.readFileSync(file);
  const recs = records(buf);
  if (recs.length < 4) throw new Error(`only ${recs.length} records in ${file}`);
  const mid = recs[Math.floor(recs.length / 2)];
  const last = recs[recs.length - 1];
  buf[mid.off + REC_HEADER + mid.len - 1] ^= 0x5a; // a byte of the payload
  const torn = Buffer.from(buf.subarray(recs[0].off, recs[0].off + 20)); // a header's first 20 bytes
  fs.writeFileSync(file, Buffer.concat([buf.subarray(0, buf.length - 5), torn]));
  console.log(JSON.stringify({ records: recs.length, flipped: mid.mid, truncated: last.mid }));
  process.exit(0);
}

if (mode === 'send') {
  const k = Number(args[0]);
  await step(`c1 sends ${k} QoS 1 messages through the gateway (hub stopped)`, async () => {
    const c = await child(viaGateway(env('GH_CS_C1')));
    const r = await tryOpen(c.client);
    if (r.error) throw new Error(`open: ${errText(r.error)}`);
    for (let n = 1; n <= k; n++) {
      const mid = `k-${n}`;
      const m = new Message(JSON.stringify({ mid, n }));
      m.messageId = mid;
      await withTimeout(c.client.sendEvent(m), 10000, `sendEvent ${mid}`);
    }
    ok(`${k} messages acknowledged by the gateway`);
    await closeQuietly(c);
  }, 60000);
  finish();
} else if (mode === 'check') {
  const k = Number(args[0]);
  const lost = new Set(args.slice(1));
  await step('the hub has every intact message', async () => {
    const mids = (await readTelemetry({ device: 'c1' })).map((m) => m.properties.system['message-id']);
    const want = [];
    for (let n = 1; n <= k; n++) if (!lost.has(`k-${n}`)) want.push(`k-${n}`);
    const distinct = [...new Set(mids)];
    checkEq(`the ${want.length} intact messages arrived, in order, the damaged ones did not`, distinct, want);
    check('no duplicates', distinct.length === mids.length, `${mids.length - distinct.length} duplicates`);
  }, 30000);
  finish();
} else {
  console.error(`usage: outage_corrupt.mjs send K | corrupt SEGMENT | check K LOST...`);
  process.exit(2);
}
