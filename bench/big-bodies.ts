/**
 * `npm run bench:big`: issue 19's finding 2 at full size, through the whole local loop (front →
 * Azurite → in-process functions host with the signing pool → stand-in). Six messages whose HTML
 * BODY is 100 MB of base64 (not an attachment: the body is what signing has to read and hold) are
 * sent at once, and an ordinary Outlook reply every second while they are in flight. It measures:
 *   - deliveries per message at the stand-in (each must be exactly 1), and dead letters;
 *   - receive→delivered latency of the ordinary replies sent while the big ones were in flight;
 *   - the functions process's peak RSS (VmHWM) and the big messages' receive→delivered times.
 * Prints the figures and writes them to docs/benchmarks.md (section `big`).
 *
 * Options: --big N (6) --mb N (100) --keep
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import nodemailer from 'nodemailer';
import { sampleConfigDir } from '../src/config/index.js';
import { LocalStack } from '../src/local/stack.js';
import { outlookReply } from '../src/samples/outlook-reply.js';
import { percentile, writeBenchmarkSection } from './report.js';

const { values } = parseArgs({
  options: {
    big: { type: 'string', default: '6' },
    mb: { type: 'string', default: '100' },
    keep: { type: 'boolean', default: false },
  },
});
const bigCount = Number(values.big);
const bigMb = Number(values.mb);
if (!Number.isInteger(bigCount) || bigCount < 1) throw new Error(`--big must be a whole number ≥ 1`);
if (!(bigMb > 0 && bigMb <= 140)) throw new Error(`--mb must be in (0, 140] (the front takes 150 MB)`);

const sender = 'alice@contoso.com';
const recipient = 'megan@fabrikam.example';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The sample reply's root headers over a base64 HTML body of about `mb` MB on the wire. */
function bigBodyMessage(mb: number): Buffer {
  const sample = outlookReply({ from: sender, to: recipient }).toString('latin1');
  const headers = sample
    .slice(0, sample.indexOf('\r\n\r\n'))
    .replace(
      /^Content-Type: .*$/m,
      'Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64',
    );
  const paragraph = Buffer.from(
    '<p class="MsoNormal">Thanks for the numbers. Could you send the revised quote for the Q3 order, including freight?</p>\r\n',
  );
  // Decoded size is 3/4 of the encoded one.
  const decodedBytes = Math.floor((mb * 1024 * 1024 * 3) / 4);
  const head = Buffer.from(
    '<html><body><div class="WordSection1"><p class="MsoNormal">Hi Megan, the archive you asked for.</p>\r\n' +
      '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">' +
      '<p class="MsoNormal"><b>From:</b> Megan Bowen<br><b>Sent:</b> Monday</p></div>\r\n',
  );
  const tail = Buffer.from('</div></body></html>\r\n');
  const body = Buffer.alloc(decodedBytes);
  head.copy(body, 0);
  let at = head.length;
  while (at + paragraph.length + tail.length <= decodedBytes) at += paragraph.copy(body, at);
  at += tail.copy(body, at);
  const b64 = body.subarray(0, at).toString('base64').replace(/.{76}/g, '$&\r\n');
  return Buffer.concat([
    Buffer.from(`${headers}\r\n\r\n`, 'latin1'),
    Buffer.from(b64, 'latin1'),
    Buffer.from('\r\n'),
  ]);
}

/** Peak resident set (VmHWM) of a process, MiB; undefined once it is gone. */
async function peakRssMib(pid: number | undefined): Promise<number | undefined> {
  if (!pid) return undefined;
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kb = /^VmHWM:\s+(\d+) kB/m.exec(status)?.[1];
  return kb ? Number(kb) / 1024 : undefined;
}

async function main(): Promise<void> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-bench-big-'));
  const configDir = path.join(dataDir, 'config');
  await fs.cp(sampleConfigDir, configDir, { recursive: true });
  const tenantsFile = path.join(configDir, 'tenants.json');
  const tenants = JSON.parse(await fs.readFile(tenantsFile, 'utf8')) as {
    settings?: Record<string, unknown>;
  }[];
  for (const t of tenants)
    t.settings = { ...t.settings, limits: { messagesPerMinute: 1_000_000, messagesPerDay: 10_000_000 } };
  await fs.writeFile(tenantsFile, JSON.stringify(tenants, null, 2));
  const stack = new LocalStack({
    dataDir,
    configDir,
    functionsRuntime: 'local',
    env: { SIGRELAY_LOG_LEVEL: 'warn' },
  });
  try {
    await stack.start();
    const ca = await fs.readFile(stack.pki.caCert);
    const transport = () =>
      nodemailer.createTransport({
        host: '127.0.0.1',
        port: stack.ports.smtp,
        secure: false,
        requireTLS: true,
        tls: { ca, servername: 'localhost' },
        socketTimeout: 600_000,
      });
    const accepted = new Map<string, number>();
    const send = async (raw: Buffer) => {
      const t = transport();
      try {
        const info = await t.sendMail({ envelope: { from: sender, to: [recipient] }, raw });
        const id = /^250 2\.0\.0 (\S+) queued/.exec(info.response)?.[1];
        if (!id) throw new Error(`unexpected reply ${info.response}`);
        accepted.set(id, Date.now());
        return id;
      } finally {
        t.close();
      }
    };
    const received = path.join(stack.outbox, 'received.log');
    const deliveries = async () => {
      const log = await fs.readFile(received, 'utf8').catch(() => '');
      const out = new Map<string, number[]>();
      for (const line of log.split('\n').filter(Boolean)) {
        const [id = '', at = ''] = line.split('\t');
        out.set(id, [...(out.get(id) ?? []), Number(at)]);
      }
      return out;
    };

    // Warm-up: content, connections, JIT; not measured.
    await send(outlookReply({ from: sender, to: recipient }));

    console.log(`building a ${bigMb} MB base64 HTML body…`);
    const big = bigBodyMessage(bigMb);
    console.log(
      `sending ${bigCount} × ${(big.length / 1024 / 1024).toFixed(1)} MiB at once, an ordinary reply every second…`,
    );
    const started = Date.now();
    const bigIds: string[] = [];
    let bigsDone = false;
    const bigSends = Promise.all(
      Array.from({ length: bigCount }, () => send(big).then((id) => bigIds.push(id))),
    );
    const ordinaryIds: string[] = [];
    const ordinary = (async () => {
      while (!bigsDone) {
        ordinaryIds.push(await send(outlookReply({ from: sender, to: recipient })));
        await sleep(1000);
      }
    })();
    await bigSends;
    const allAccepted = Date.now();
    for (;;) {
      const got = await deliveries();
      if (bigIds.every((id) => got.has(id))) break;
      if (Date.now() - started > 1_800_000)
        throw new Error('the big messages were not all delivered in 30 min');
      await sleep(500);
    }
    bigsDone = true;
    await ordinary;
    const allIds = [...bigIds, ...ordinaryIds];
    for (;;) {
      const got = await deliveries();
      if (allIds.every((id) => got.has(id))) break;
      if (Date.now() - started > 1_900_000) throw new Error('the ordinary messages were not all delivered');
      await sleep(200);
    }
    // A late duplicate (a redelivered queue message, a second orchestration) gets time to show.
    await sleep(15_000);
    const got = await deliveries();
    const peak = await peakRssMib(stack.pids().functions);
    const counts = allIds.map((id) => got.get(id)?.length ?? 0);
    const duplicates = counts.filter((n) => n > 1).length;
    const missing = counts.filter((n) => n === 0).length;
    const latency = (id: string) => (got.get(id)?.[0] ?? NaN) - (accepted.get(id) ?? NaN);
    const ordinaryLat = ordinaryIds.map(latency).sort((a, b) => a - b);
    const bigLat = bigIds.map(latency).sort((a, b) => a - b);
    const s = (ms: number) => (ms / 1000).toFixed(1);
    const md = [
      `Run ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} × ${os.cpus()[0]?.model.split(' ').slice(0, 2).join(' ') ?? 'CPU'}, Node ${process.version}; \`npm run bench:big\` (one local loop, signing pool of one worker per core).`,
      `${bigCount} messages with a ${(big.length / 1024 / 1024).toFixed(1)} MiB base64 HTML body sent at once (all accepted after ${s(allAccepted - started)} s), and an ordinary Outlook reply every second until the big ones were delivered.`,
      '',
      '| figure | value |',
      '|---|---|',
      `| deliveries per message (big + ordinary) | ${counts.every((n) => n === 1) ? 'exactly 1 each' : 'NOT exactly once'} (${allIds.length} messages, ${duplicates} duplicated, ${missing} missing) |`,
      `| big messages, received → delivered | ${s(bigLat[0] ?? NaN)}–${s(bigLat.at(-1) ?? NaN)} s |`,
      `| ordinary replies sent meanwhile | ${ordinaryIds.length} |`,
      `| ordinary reply, received → delivered, p50 / p95 / max | ${percentile(ordinaryLat, 50).toFixed(0)} / ${percentile(ordinaryLat, 95).toFixed(0)} / ${(ordinaryLat.at(-1) ?? NaN).toFixed(0)} ms |`,
      `| functions process peak RSS (VmHWM) | ${peak?.toFixed(0) ?? '?'} MiB |`,
    ].join('\n');
    console.log(md);
    await writeBenchmarkSection('big', md);
    if (duplicates || missing) process.exitCode = 1;
  } finally {
    await stack.stop();
    if (values.keep) console.log(`kept ${dataDir}`);
    else await fs.rm(dataDir, { recursive: true, force: true });
  }
}

await main();
