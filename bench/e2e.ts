/**
 * `npm run bench:e2e`: messages through the whole local loop (front → Azurite → functions → stand-in),
 * as separate processes on this machine. Prints throughput and receive→delivered latency and writes
 * them to docs/benchmarks.md. Options: --messages N (2000), --sessions N (10), --rates list
 * (50,20: steady runs at each rate), --rate-seconds N (20).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import nodemailer from 'nodemailer';
import { sampleConfigDir } from '../src/config/index.js';
import { createStorageClients } from '../src/storage/index.js';
import { LocalStack } from '../src/local/stack.js';
import { outlookReply } from '../src/samples/outlook-reply.js';
import { percentile, writeBenchmarkSection } from './report.js';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '2000' },
    sessions: { type: 'string', default: '10' },
    rates: { type: 'string', default: '50,20' },
    'rate-seconds': { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
  },
});
const total = Number(values.messages);
const sessions = Number(values.sessions);
const rates = (values.rates ?? '50').split(',').map(Number);
const rateSeconds = Number(values['rate-seconds']);

const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-bench-'));
// The sample configuration, with the per-sender rate limits lifted: one benchmark sender sends far
// more than the 30 messages a minute a real mailbox is allowed.
const configDir = path.join(dataDir, 'config');
await fs.cp(sampleConfigDir, configDir, { recursive: true });
const tenants = JSON.parse(await fs.readFile(path.join(configDir, 'tenants.json'), 'utf8')) as {
  settings?: { limits?: Record<string, number> };
}[];
for (const t of tenants)
  t.settings = { ...t.settings, limits: { messagesPerMinute: 1_000_000, messagesPerDay: 10_000_000 } };
await fs.writeFile(path.join(configDir, 'tenants.json'), JSON.stringify(tenants, null, 2));
const stack = new LocalStack({
  dataDir,
  configDir,
  functionsRuntime: 'local',
  env: { SIGRELAY_LOG_LEVEL: 'warn' },
});
await stack.start();
const ca = await fs.readFile(stack.pki.caCert);
const raw = outlookReply({ from: 'alice@contoso.com', to: 'megan@fabrikam.example', htmlBytes: 20_000 });
const accepted = new Map<string, number>();

function transport() {
  return nodemailer.createTransport({
    pool: true,
    maxConnections: sessions,
    maxMessages: Infinity,
    host: '127.0.0.1',
    port: stack.ports.smtp,
    secure: false,
    requireTLS: true,
    tls: { ca, servername: 'localhost' },
  });
}

async function sendOne(t: ReturnType<typeof transport>): Promise<void> {
  const info = await t.sendMail({
    envelope: { from: 'alice@contoso.com', to: ['megan@fabrikam.example'] },
    raw,
  });
  const id = /^250 2\.0\.0 (\S+) queued/.exec(info.response)?.[1];
  if (!id) throw new Error(`unexpected reply ${info.response}`);
  accepted.set(id, Date.now());
}

async function delivered(): Promise<Map<string, number>> {
  const text = await fs.readFile(path.join(stack.outbox, 'received.log'), 'utf8').catch(() => '');
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [id, at] = line.split('\t');
    if (id && at) out.set(id, Number(at));
  }
  return out;
}

async function waitDelivered(ids: string[], timeoutMs: number): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await delivered();
    if (ids.every((id) => got.has(id))) return got;
    if (Date.now() > deadline)
      throw new Error(`only ${ids.filter((id) => got.has(id)).length} of ${ids.length} delivered`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function latencies(ids: string[], got: Map<string, number>): number[] {
  return ids.map((id) => (got.get(id) ?? NaN) - (accepted.get(id) ?? NaN)).sort((a, b) => a - b);
}

/**
 * What Azurite alone can do on this machine, for the operations one message needs at minimum: the
 * ceiling any design that stores the message in Blob and queues a claim-check runs into here.
 */
async function storageCeiling(): Promise<Record<string, number>> {
  const c = createStorageClients({ connectionString: stack.azurite.connectionString });
  const container = c.blobs.getContainerClient('benchceiling');
  await container.createIfNotExists();
  const queue = c.queues.getQueueClient('benchceiling');
  await queue.createIfNotExists();
  const body = Buffer.alloc(20_000, 97);
  const rate = async (n: number, op: (k: number) => Promise<unknown>) => {
    let i = 0;
    const s = Date.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (i < n) await op(i++);
      }),
    );
    return (n / (Date.now() - s)) * 1000;
  };
  const out = {
    'blob upload (20 KB)': await rate(1000, (k) =>
      container.getBlockBlobClient(`b${k}`).upload(body, body.length),
    ),
    'blob download': await rate(1000, async (k) => {
      const r = await container.getBlobClient(`b${k}`).download();
      for await (const _ of r.readableStreamBody as AsyncIterable<Buffer>) void _;
    }),
    'blob delete': await rate(1000, (k) => container.deleteBlob(`b${k}`)),
    'queue send': await rate(1000, (k) => queue.sendMessage(`m${k}`)),
  };
  await container.delete();
  await queue.delete();
  return out;
}

try {
  const t = transport();
  // Warm-up: TLS pools, content load, JIT.
  await Promise.all(Array.from({ length: 20 }, () => sendOne(t)));
  await waitDelivered([...accepted.keys()], 60_000);
  accepted.clear();

  // 1. Sustained throughput: `total` messages from `sessions` concurrent SMTP sessions.
  const started = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: sessions }, async () => {
      while (next < total) {
        next++;
        await sendOne(t);
      }
    }),
  );
  const sentAt = Date.now();
  const ids = [...accepted.keys()];
  const got = await waitDelivered(ids, 600_000);
  const lastDelivered = Math.max(...ids.map((id) => got.get(id) ?? 0));
  const throughput = (total / (lastDelivered - started)) * 1000;
  const acceptRate = (total / (sentAt - started)) * 1000;
  const lat = latencies(ids, got);

  // 2. Latency at steady rates: the one the issue names, and one below saturation.
  const steady: { rate: number; count: number; lat: number[] }[] = [];
  for (const rate of rates) {
    accepted.clear();
    const steadyIds: Promise<void>[] = [];
    const count = rate * rateSeconds;
    const steadyStart = Date.now();
    for (let i = 0; i < count; i++) {
      const due = steadyStart + (i * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      steadyIds.push(sendOne(t));
    }
    await Promise.all(steadyIds);
    const sids = [...accepted.keys()];
    steady.push({ rate, count, lat: latencies(sids, await waitDelivered(sids, 300_000)) });
  }
  t.close();

  const ceiling = await storageCeiling();
  // Minimum storage work per message: upload, enqueue, dequeue+delete (≈ 2 queue ops), download, delete.
  const minimumMs =
    1000 / (ceiling['blob upload (20 KB)'] ?? 1) +
    3000 / (ceiling['queue send'] ?? 1) +
    1000 / (ceiling['blob download'] ?? 1) +
    1000 / (ceiling['blob delete'] ?? 1);
  const dupes =
    (await fs.readFile(path.join(stack.outbox, 'received.log'), 'utf8')).split('\n').filter(Boolean).length -
    (20 + total + steady.reduce((a, r) => a + r.count, 0));
  const f = (n: number) => n.toFixed(0);
  const md = `
### End to end (\`npm run bench:e2e\`)

${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, Node ${process.version}; front, functions (in-process host), stand-in and Azurite as separate processes on one machine; 20 KB Outlook-style HTML replies, STARTTLS on both legs, signed by the Contoso sample config.

| run | messages | result |
|---|---|---|
| sustained, ${sessions} concurrent sessions | ${total} | **${throughput.toFixed(0)} messages/s** delivered (front accepted ${acceptRate.toFixed(0)}/s); latency p50 ${f(percentile(lat, 50))} ms, p95 ${f(percentile(lat, 95))} ms, p99 ${f(percentile(lat, 99))} ms |
${steady
  .map(
    (r) =>
      `| steady ${r.rate} messages/s for ${rateSeconds} s | ${r.count} | receive→delivered p50 **${f(percentile(r.lat, 50))} ms**, p95 ${f(percentile(r.lat, 95))} ms, p99 ${f(percentile(r.lat, 99))} ms |`,
  )
  .join('\n')}

Duplicates at the endpoint: ${dupes}. Latency is measured from the front's 250 to the stand-in's acceptance.

Azurite alone on this machine (16 concurrent requests, nothing else running): ${Object.entries(ceiling)
    .map(([k, v]) => `${k} ${v.toFixed(0)}/s`)
    .join(', ')}. The least storage work any claim-check design needs per message (upload, enqueue,
dequeue and delete, download, delete) costs Azurite ≈ ${minimumMs.toFixed(1)} ms, a ceiling of
≈ ${(1000 / minimumMs).toFixed(0)} messages/s before signing, delivery, the signed copy, the delivery
record and the trace are counted.
`;
  console.log(md);
  await writeBenchmarkSection('e2e', md);
} finally {
  await stack.stop();
  if (!values.keep) await fs.rm(dataDir, { recursive: true, force: true });
}
