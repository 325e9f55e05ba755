/**
 * The held-out probe: how well placement generalises to reply shapes the labelled suite has never
 * seen. Takes a folder of public fixtures fetched by hand (never committed: their licences and
 * sizes vary), one sub-folder per source repository, each file a raw body (`.txt`, `.html`, any
 * other name = text) or a whole message (`.eml`, whose text and HTML bodies are kept). Each body is
 * wrapped in a message from alice@contoso.com as ../shared/replies is, signed as `sigrelay sign
 * --config config/contoso` signs it, and judged against the independent detector's UNREVIEWED
 * proposal — so a miss here is a lead to read by eye, not a verdict.
 *
 * Usage: node dist/test/placement/probe.js <folder>
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadContent } from '../../src/content/index.js';
import type { ResolveSignature } from '../../src/signing/index.js';
import { detectText, htmlToLines, type Boundary } from './detector.js';
import { configDir, judge, sign, signatureStartOf, textLines } from './judge.js';
import { bodiesOf, snippet, type Anchors, type Bodies } from './labels.js';
import { runMain } from '../helpers/run-main.js';

const SENDER = 'alice@contoso.com';

/** A base64 part: any body (long lines, 8-bit, stray CRs) travels unchanged. */
function part(type: 'plain' | 'html', body: string): string {
  const encoded = Buffer.from(body, 'utf8').toString('base64').replace(/.{76}/gu, '$&\r\n');
  return `Content-Type: text/${type}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${encoded}\r\n`;
}

export function wrap(bodies: Bodies, origin: string): Buffer {
  const head =
    `From: Alice Martin <${SENDER}>\r\nTo: Bob Example <bob@example.net>\r\n` +
    `Subject: held-out fixture\r\nDate: Mon, 06 Jan 2025 10:00:00 +0000\r\n` +
    `Message-ID: <probe-${origin.replace(/[^\w.-]/gu, '_')}@realworld.invalid>\r\nMIME-Version: 1.0\r\n` +
    `X-Realworld-Wrapped: ${origin.replace(/[^\x20-\x7e]/gu, '?')}\r\n`;
  if (bodies.text !== undefined && bodies.html !== undefined) {
    const b = 'probe-alt';
    return Buffer.from(
      `${head}Content-Type: multipart/alternative; boundary="${b}"\r\n\r\n--${b}\r\n${part('plain', bodies.text)}` +
        `--${b}\r\n${part('html', bodies.html)}--${b}--\r\n`,
    );
  }
  return Buffer.from(
    head + (bodies.html !== undefined ? part('html', bodies.html) : part('plain', bodies.text ?? '')),
  );
}

async function bodiesOfFile(file: string): Promise<Bodies> {
  const raw = fs.readFileSync(file);
  if (file.endsWith('.eml')) return bodiesOf(raw);
  const text = raw.toString('utf8');
  return file.endsWith('.html') ? { html: text } : { text };
}

function anchorsOf(body: string, b: Boundary): Anchors {
  const lines = textLines(body);
  return {
    aboveLine: b.aboveLine,
    above: b.aboveLine ? snippet(lines[b.aboveLine - 1]) : null,
    belowLine: b.belowLine,
    below: b.belowLine ? snippet(lines[b.belowLine - 1]) : null,
  };
}

interface Result {
  source: string;
  file: string;
  ok: boolean;
  kind: string;
  detail: string;
}

async function probe(source: string, file: string, resolve: ResolveSignature): Promise<Result> {
  const bodies = await bodiesOfFile(file);
  const raw = wrap(bodies, `${source}/${path.basename(file)}`);
  const { decision, output } = await sign(raw, resolve);
  const base = { source, file: path.basename(file) };
  if (decision.action !== 'signed')
    return { ...base, ok: false, kind: '-', detail: `${decision.action}: ${decision.reason}` };
  const after = await bodiesOf(output);
  const start = signatureStartOf(SENDER);
  const misses: string[] = [];
  let kind = '';
  const parts: ['text' | 'html', string | undefined, string | undefined][] = [
    ['text', bodies.text, after.text],
    ['html', bodies.html === undefined ? undefined : htmlToLines(bodies.html), after.html],
  ];
  for (const [name, before, signed] of parts) {
    if (before === undefined) continue;
    const boundary = detectText(before);
    kind ||= boundary.kind;
    const anchors = anchorsOf(before, boundary);
    const signedLines = textLines(name === 'html' ? htmlToLines(signed ?? '') : (signed ?? ''));
    const r = judge(name, textLines(before), signedLines, anchors, start);
    if (!r.ok)
      misses.push(
        `${name} ${r.landed}; want after ${anchors.aboveLine} "${anchors.above ?? ''}" and ` +
          (anchors.belowLine === null
            ? 'at the end'
            : `before ${anchors.belowLine} "${anchors.below ?? ''}"`),
      );
  }
  return { ...base, ok: misses.length === 0, kind, detail: misses.join(' | ') };
}

async function main(): Promise<number> {
  const root = process.argv[2];
  if (!root || !fs.existsSync(root)) {
    console.error('usage: probe.js <folder of source folders>');
    return 2;
  }
  const resolve = (await loadContent(configDir)).resolve;
  const results: Result[] = [];
  for (const source of fs.readdirSync(root).sort()) {
    const dir = path.join(root, source);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const name of fs.readdirSync(dir).sort())
      results.push(await probe(source, path.join(dir, name), resolve));
  }
  const sources = [...new Set(results.map((r) => r.source))];
  console.log(`${'source'.padEnd(22)} ${'right'.padStart(5)} ${'of'.padStart(4)} ${'score'.padStart(6)}`);
  for (const source of sources) {
    const mine = results.filter((r) => r.source === source);
    const right = mine.filter((r) => r.ok).length;
    const pct = `${((100 * right) / mine.length).toFixed(0)} %`;
    console.log(
      `${source.padEnd(22)} ${String(right).padStart(5)} ${String(mine.length).padStart(4)} ${pct.padStart(6)}`,
    );
  }
  const right = results.filter((r) => r.ok).length;
  console.log(
    `\n${right} of ${results.length} agree with the detector (${((100 * right) / Math.max(results.length, 1)).toFixed(1)} %)\n`,
  );
  for (const r of results.filter((x) => !x.ok)) {
    console.log(`MISS ${r.source}/${r.file} [${r.kind}] ${r.detail}`);
  }
  return 0;
}

runMain(main);
