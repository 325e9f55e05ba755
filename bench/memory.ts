/**
 * Memory benchmark (issue 19 finding 6): what one large message costs the process that signs it.
 * Four messages of about SIGRELAY_BENCH_MB (100 by default) MB each — an HTML body, a base64 HTML
 * body, a quoted-printable text body, and a small HTML body with one big attachment — signed
 * through `signMessage` in the process and through the worker-thread pool. Each case runs in a
 * fresh child process so peaks do not mix; the child samples `process.memoryUsage()` every 2 ms
 * and reads `resourceUsage().maxRSS` at the end. Rewrites the `bench:memory` section of
 * docs/benchmarks.md.
 *
 * Run with `npm run bench:memory`.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import * as libqp from 'libqp';
import { signMessage, type SignatureContent } from '../src/signing/index.js';
import { SigningPool } from '../src/processing/signing-pool.js';
import { writeBenchmarkSection } from './report.js';

const MB = 1024 * 1024;

const SIGNATURE: SignatureContent = {
  template: 'bench',
  rule: 'bench',
  html: '<table><tr><td><b>Alice Martin</b><br>Head of Sales · Contoso</td></tr></table>',
  text: '-- \nAlice Martin\nHead of Sales · Contoso',
  images: [],
  placement: 'underReply',
};

const HEAD = [
  'From: Alice <alice@contoso.com>',
  'To: Bob <bob@example.org>',
  'Subject: memory bench',
  'Message-ID: <memory-bench@contoso.com>',
  'MIME-Version: 1.0',
].join('\r\n');

/** A reply whose quoted thread fills the body: placement has to look through all of it. */
function htmlLine(i: number): string {
  return `<p class="MsoNormal">Earlier message line ${i}: quarterly figures, action items and notes.</p>\r\n`;
}

const REPLY_TOP =
  '<html><body><div class="WordSection1"><p class="MsoNormal">Thanks, agreed.</p>\r\n' +
  '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">' +
  '<p class="MsoNormal"><b>From:</b> Bob<br><b>Sent:</b> Monday</p></div>\r\n';
const REPLY_END = '</div></body></html>\r\n';

/** Writes `head`, then generated lines until `bytes` of body, then `tail`, without holding it all. */
async function writeFile(
  file: string,
  head: string,
  bytes: number,
  line: (i: number) => Buffer,
  tail: string,
): Promise<void> {
  const out = createWriteStream(file);
  let failed: Error | undefined;
  out.once('error', (err) => (failed = err));
  const write = (b: Buffer | string) =>
    new Promise<void>((resolve, reject) => {
      if (failed) reject(failed);
      else if (out.write(b)) resolve();
      else out.once('drain', resolve);
    });
  await write(head);
  let written = 0;
  const batch: Buffer[] = [];
  for (let i = 0; written < bytes; i++) {
    const b = line(i);
    batch.push(b);
    written += b.length;
    if (batch.length >= 512) await write(Buffer.concat(batch.splice(0)));
  }
  await write(Buffer.concat(batch));
  await write(tail);
  await new Promise<void>((resolve) => out.end(() => resolve()));
  if (failed) throw failed;
}

/** Base64 lines of `source`'s bytes, generated block by block (57 bytes → one 76-char line). */
function base64Source(next: (i: number) => string): (i: number) => Buffer {
  let pending = Buffer.alloc(0);
  let n = 0;
  return () => {
    while (pending.length < 57 * 64) pending = Buffer.concat([pending, Buffer.from(next(n++), 'utf8')]);
    const block = pending.subarray(0, 57 * 64);
    pending = pending.subarray(57 * 64);
    return Buffer.from((block.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n') + '\r\n', 'latin1');
  };
}

interface Case {
  name: string;
  write: (file: string, bytes: number) => Promise<void>;
}

const CASES: Case[] = [
  {
    name: 'HTML body (8bit)',
    write: (file, bytes) =>
      writeFile(
        file,
        `${HEAD}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${REPLY_TOP}`,
        bytes,
        (i) => Buffer.from(htmlLine(i)),
        REPLY_END,
      ),
  },
  {
    name: 'HTML body (base64)',
    write: (file, bytes) =>
      writeFile(
        file,
        `${HEAD}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n`,
        bytes,
        base64Source((i) => (i === 0 ? REPLY_TOP : htmlLine(i))),
        `${Buffer.from(REPLY_END).toString('base64')}\r\n`,
      ),
  },
  {
    name: 'text body (quoted-printable)',
    write: (file, bytes) =>
      writeFile(
        file,
        `${HEAD}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nThanks, agreed.\r\n\r\n-----Original Message-----\r\n`,
        bytes,
        (i) =>
          Buffer.from(
            libqp.wrap(
              libqp.encode(Buffer.from(`> Réunion ligne ${i}: chiffres trimestriels, décisions.`)),
              76,
            ) + '\r\n',
            'latin1',
          ),
        '',
      ),
  },
  {
    name: 'small HTML + attachment',
    write: (file, bytes) =>
      writeFile(
        file,
        `${HEAD}\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\n` +
          `Content-Type: text/html; charset=utf-8\r\n\r\n${REPLY_TOP}${REPLY_END}--b1\r\n` +
          `Content-Type: application/octet-stream; name="data.bin"\r\nContent-Disposition: attachment; filename="data.bin"\r\n` +
          `Content-Transfer-Encoding: base64\r\n\r\n`,
        bytes,
        base64Source((i) => `binary-ish payload ${i} ${'x'.repeat(40)}`),
        '--b1--\r\n',
      ),
  },
];

interface Peak {
  rssMb: number;
  maxRssMb: number;
  heapUsedMb: number;
  externalMb: number;
  arrayBuffersMb: number;
  baselineRssMb: number;
}

function sink(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

/** The child: signs one file the given way and prints its peaks as JSON. */
async function probe(mode: 'engine' | 'pool', file: string): Promise<void> {
  const pool =
    mode === 'pool'
      ? new SigningPool({
          workers: 1,
          budgetMs: 10 * 60_000,
          stallMs: 10 * 60_000,
          memoryMb: Number(process.env.SIGRELAY_SIGN_MEMORY_MB ?? 4096),
          largeBytes: 0,
        })
      : undefined;
  const baseline = process.memoryUsage().rss;
  const peak = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.external = Math.max(peak.external, m.external);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
  };
  const sampler = setInterval(sample, 2);
  const input = createReadStream(file, { highWaterMark: 64 * 1024 });
  const resolve = () => Promise.resolve({ action: 'sign' as const, content: SIGNATURE });
  const options = { sender: 'alice@contoso.com', recipients: ['bob@example.org'] };
  const size = (await fs.stat(file)).size;
  const decision = pool
    ? await pool.sign(input, sink(), resolve, { ...options, size })
    : await signMessage(input, sink(), resolve, options);
  clearInterval(sampler);
  sample();
  await pool?.close();
  if (decision.action !== 'signed') throw new Error(`bench message not signed: ${decision.reason}`);
  const result: Peak = {
    rssMb: peak.rss / MB,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    heapUsedMb: peak.heapUsed / MB,
    externalMb: peak.external / MB,
    arrayBuffersMb: peak.arrayBuffers / MB,
    baselineRssMb: baseline / MB,
  };
  console.log(JSON.stringify(result));
}

function fresh(mode: 'engine' | 'pool', file: string): Peak {
  const result = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--probe', mode, file], {
    encoding: 'utf8',
    maxBuffer: 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`memory probe failed (${mode}): ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as Peak;
}

async function main(): Promise<void> {
  const sizeMb = Number(process.env.SIGRELAY_BENCH_MB ?? 100);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-bench-memory-'));
  const rows = [
    '| Message | Mode | Size | Peak RSS | maxRSS | Peak heap used | Peak external | RSS above start | Above start ÷ size |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  try {
    for (const c of CASES) {
      const file = path.join(dir, 'message.eml');
      await c.write(file, sizeMb * MB);
      const bytes = (await fs.stat(file)).size;
      for (const mode of ['engine', 'pool'] as const) {
        const p = fresh(mode, file);
        const above = p.maxRssMb - p.baselineRssMb;
        const row = `| ${c.name} | ${mode} | ${(bytes / MB).toFixed(0)} MiB | ${p.rssMb.toFixed(0)} MiB | ${p.maxRssMb.toFixed(0)} MiB | ${p.heapUsedMb.toFixed(0)} MiB | ${p.externalMb.toFixed(0)} MiB | ${above.toFixed(0)} MiB | ${(above / (bytes / MB)).toFixed(2)}× |`;
        rows.push(row);
        console.log(row);
      }
      await fs.rm(file);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  const section = [
    `Run ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; streamed from disk, 64 KiB reads, one message per fresh process.`,
    'Heap and external are the main thread only; in pool mode the worker thread is counted in RSS. "RSS above start" is maxRSS minus the RSS when the probe started (the aim set for issue 19, finding 6: at most 2.5× the message, never above 3×).',
    '',
    ...rows,
  ].join('\n');
  await writeBenchmarkSection('memory', section);
  console.log('\nwrote the bench:memory section of docs/benchmarks.md');
}

if (process.argv[2] === '--probe') {
  await probe(process.argv[3] === 'pool' ? 'pool' : 'engine', process.argv[4] ?? '');
} else {
  await main();
}
