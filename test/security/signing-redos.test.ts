/**
 * Issue 19 finding 1: a hostile body in a quoted thread must not stall signing. Whole messages
 * (26 KB, as in the report, and 1 MB) go through the engine; each must be signed once with
 * counted scanner work proportional to its size and CPU close to an ordinary message of the
 * same size (a ratio, not a clock: the old patterns took minutes where ordinary mail takes ms).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { HTML_MARKER_CLASS } from '../../src/signing/index.js';
import { scannerWork } from '../../src/signing/quote-html-tags.js';
import { signBuffer, TEST_SIGNATURE } from '../corpus/invariants.js';
import { HOSTILE } from '../helpers/hostile-bodies.js';

function message(html: string, text: string, from = 'Alice <alice@contoso.com>'): Buffer {
  return Buffer.from(
    `From: ${from}\r\nTo: bob@example.org\r\nSubject: RE: x\r\nMIME-Version: 1.0\r\n` +
      'Content-Type: multipart/alternative; boundary="b"\r\n\r\n' +
      `--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
      `${Buffer.from(text).toString('base64')}\r\n` +
      `--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n` +
      `${Buffer.from(html).toString('base64')}\r\n--b--\r\n`,
  );
}

function ordinary(size: number): string {
  const line = '<p>Earlier message line: quarterly figures, action items and notes.</p>\r\n';
  return `<html><body><p>Thanks.</p>${line.repeat(Math.ceil(size / line.length))}</body></html>`;
}

async function cpuToSign(input: Buffer): Promise<{ micros: number; output: Buffer; action: string }> {
  let least = Infinity;
  let result: { output: Buffer; action: string } = { output: Buffer.alloc(0), action: '' };
  for (let run = 0; run < 2; run++) {
    const start = process.cpuUsage();
    const { decision, output } = await signBuffer(input, TEST_SIGNATURE);
    const used = process.cpuUsage(start);
    least = Math.min(least, used.user + used.system);
    result = { output, action: decision.action };
  }
  return { micros: Math.max(least, 1), ...result };
}

function occurrences(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** Scanner steps per body character for one message: a few passes, never one per tag or colon. */
const MAX_STEPS_PER_CHAR = 24;
/** A hostile message may cost a few times an ordinary one of its size, never orders of magnitude. */
const MAX_CPU_RATIO = 20;

describe('hostile bodies sign in bounded work', () => {
  for (const size of [26 * 1024, 1024 * 1024]) {
    for (const [name, build] of Object.entries(HOSTILE)) {
      it(`${name}, ${size / 1024} KB: signed once, steps and CPU proportional`, async () => {
        const body = build(size);
        const baseline = await cpuToSign(message(ordinary(size), ordinary(size)));
        const before = scannerWork();
        const hostile = await cpuToSign(message(body, body));
        const steps = (scannerWork() - before) / 2 / (2 * body.length);
        assert.equal(hostile.action, 'signed');
        const parsed = await simpleParser(hostile.output);
        assert.equal(occurrences(parsed.html || '', HTML_MARKER_CLASS), 1);
        assert.equal(occurrences(parsed.text ?? '', 'Sigrelay QA'), 1);
        assert.ok(steps <= MAX_STEPS_PER_CHAR, `${steps.toFixed(1)} steps per char`);
        const ratio = hostile.micros / baseline.micros;
        assert.ok(ratio <= MAX_CPU_RATIO, `hostile ${name} cost ${ratio.toFixed(1)}× an ordinary body`);
      });
    }
  }

  it('a 255 KB From header costs about what a 255 KB ordinary header costs', async () => {
    const hostileFrom = 'a'.repeat(255 * 1024);
    const ordinaryFrom = `${'Alice Example, '.repeat(17 * 1024)}<alice@contoso.com>`;
    const plain = ordinary(1024);
    const base = await cpuToSign(message(plain, plain, ordinaryFrom));
    const hostile = await cpuToSign(message(plain, plain, hostileFrom));
    assert.equal(hostile.action, 'signed');
    assert.ok(hostile.micros / base.micros <= MAX_CPU_RATIO);
  });
});
