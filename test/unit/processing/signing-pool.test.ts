/**
 * The signing pool: worker threads give the same bytes as the engine in-process, stream large
 * messages through, and stop a message that runs over its CPU budget — that message fails alone,
 * the next one is signed by a fresh worker — or that waits on a stalled input or output past the
 * stall limit — that message rejects for a retry, and the next one is signed — or whose engine
 * deadlocks — that message fails with an engine error, once. (The heap limit has no test here: Node
 * aborts the whole process when a worker reaches it through ArrayBuffer allocation, nodejs/node#47224.)
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { PassThrough, Readable, Writable } from 'node:stream';
import {
  SigningPool,
  SigningStalledError,
  deadlockReason,
  isDeadlock,
  isOverBudget,
} from '../../../src/processing/index.js';
import { signMessage, type SignatureContent } from '../../../src/signing/index.js';
import { TEST_SIGNATURE } from '../../corpus/invariants.js';

const options = { sender: 'ada@contoso.com', recipients: ['bob@example.org'] };
const resolveWith = (content: SignatureContent) => () =>
  Promise.resolve({ action: 'sign' as const, content });

function htmlMessage(body: string): Buffer {
  return Buffer.from(
    'From: ada@contoso.com\r\nTo: bob@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n' +
      `Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hello</p>${body}</body></html>\r\n`,
  );
}

/** A message with one base64 attachment of `bytes` bytes, fed in 64 KB chunks as storage would. */
function withAttachment(bytes: number): { message: Buffer; chunks: () => Readable } {
  const data = Buffer.alloc(bytes, 7).toString('base64').replace(/.{76}/g, '$&\r\n');
  const message = Buffer.from(
    'From: ada@contoso.com\r\nTo: bob@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n' +
      'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nHello\r\n' +
      '--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
      `${data}\r\n--b1--\r\n`,
  );
  const chunks = () =>
    Readable.from(
      (function* () {
        for (let at = 0; at < message.length; at += 65536) yield message.subarray(at, at + 65536);
      })(),
    );
  return { message, chunks };
}

class Collect extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _e: BufferEncoding, cb: () => void): void {
    this.chunks.push(chunk);
    cb();
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

const pools: SigningPool[] = [];
function pool(
  budgetMs = 30_000,
  memoryMb = 512,
  workers = 2,
  stallMs = 30_000,
  workerUrl?: URL,
): SigningPool {
  const p = new SigningPool({
    workers,
    budgetMs,
    stallMs,
    memoryMb,
    largeBytes: 4 * 1024 * 1024,
    ...(workerUrl ? { workerUrl } : {}),
  });
  pools.push(p);
  return p;
}
after(() => Promise.all(pools.map((p) => p.close())));

void describe('signing pool', () => {
  void it('produces the bytes the engine produces in-process, resolving once in the main thread', async () => {
    const raw = htmlMessage('<div class="gmail_quote">On Monday Bob wrote:<blockquote>hi</blockquote></div>');
    const inProcess = new Collect();
    await signMessage(Readable.from([raw]), inProcess, resolveWith(TEST_SIGNATURE), options);
    let calls = 0;
    const out = new Collect();
    const decision = await pool().sign(
      Readable.from([raw]),
      out,
      () => {
        calls++;
        return Promise.resolve({ action: 'sign', content: TEST_SIGNATURE });
      },
      { ...options, size: raw.length },
    );
    assert.equal(decision.action, 'signed');
    assert.equal(calls, 1);
    assert.ok(out.writableEnded);
    assert.deepEqual(out.bytes(), inProcess.bytes());
  });

  void it('streams a 40 MB message through with its attachment unchanged', async () => {
    const { message, chunks } = withAttachment(30 * 1024 * 1024);
    const out = new Collect();
    const decision = await pool().sign(chunks(), out, resolveWith(TEST_SIGNATURE), {
      ...options,
      size: message.length,
    });
    assert.equal(decision.action, 'signed');
    assert.equal(decision.bytesIn, message.length);
    assert.equal(decision.bytesOut, out.bytes().length);
    // Everything from the attachment on passes through byte for byte.
    const tail = message.subarray(message.indexOf('--b1\r\nContent-Type: application/octet-stream'));
    assert.ok(
      out
        .bytes()
        .subarray(out.bytes().length - tail.length)
        .equals(tail),
    );
  });

  void it('stops a message over its CPU budget, and the next message is signed by a fresh worker', async () => {
    // A budget far below what a large ordinary message costs, whatever the engine's speed; a small
    // message stays well within it even on a cold worker.
    const small = pool(200, 512, 1);
    const { message, chunks } = withAttachment(120 * 1024 * 1024);
    // Drained as storage would be: a sink nobody reads stops the worker on backpressure, and time
    // spent waiting is not on the budget, so the budget would never run out.
    const sink = new PassThrough().resume();
    const decision = await small.sign(chunks(), sink, resolveWith(TEST_SIGNATURE), {
      ...options,
      size: message.length,
    });
    assert.equal(decision.action, 'failed');
    assert.ok(isOverBudget(decision.reason), decision.reason);
    assert.match(decision.reason, /longer than 200 ms/);
    assert.ok(sink.destroyed, 'the partial output is discarded');
    assert.ok(decision.bytesIn < message.length, 'stopped before the whole message was read');
    const tiny = htmlMessage('');
    const next = await small.sign(
      Readable.from([tiny]),
      new Collect(),
      () => Promise.resolve({ action: 'skip', reason: 'no-rule' }),
      {
        ...options,
        size: tiny.length,
      },
    );
    assert.equal(next.reason, 'no-rule');
  });

  void it('rejects, for a retry, when the output fails (storage), and signs the next message', async () => {
    const p = pool(30_000, 512, 1);
    const { message, chunks } = withAttachment(8 * 1024 * 1024);
    let writes = 0;
    const failing = new Writable({
      write(_chunk, _encoding, callback) {
        callback(++writes > 3 ? new Error('blob upload failed') : null);
      },
    });
    await assert.rejects(
      p.sign(chunks(), failing, resolveWith(TEST_SIGNATURE), { ...options, size: message.length }),
      /blob upload failed/,
    );
    const raw = htmlMessage('');
    const next = await p.sign(Readable.from([raw]), new Collect(), resolveWith(TEST_SIGNATURE), {
      ...options,
      size: raw.length,
    });
    assert.equal(next.action, 'signed');
  });

  void it('rejects, for a retry, when the input fails (storage), and keeps the worker', async () => {
    const p = pool(30_000, 512, 1);
    const input = new Readable({ read() {} });
    input.push(htmlMessage('').subarray(0, 40));
    setImmediate(() => input.destroy(new Error('blob read reset')));
    await assert.rejects(
      p.sign(input, new Collect(), resolveWith(TEST_SIGNATURE), { ...options, size: 100 }),
      /blob read reset/,
    );
    const raw = htmlMessage('');
    const ok = await p.sign(Readable.from([raw]), new Collect(), resolveWith(TEST_SIGNATURE), {
      ...options,
      size: raw.length,
    });
    assert.equal(ok.action, 'signed');
  });

  /** The stall limit of the stall tests: small, as the only wall-clock figure they depend on. */
  const stallMs = 300;

  /** Signs a small message on `p`: the worker a stalled job held is free again. */
  async function signsNext(p: SigningPool): Promise<void> {
    const raw = htmlMessage('');
    const next = await p.sign(Readable.from([raw]), new Collect(), resolveWith(TEST_SIGNATURE), {
      ...options,
      size: raw.length,
    });
    assert.equal(next.action, 'signed');
  }

  void it('frees the worker when the output never drains, rejecting for a retry', async () => {
    const p = pool(30_000, 512, 1, stallMs);
    const { message, chunks } = withAttachment(8 * 1024 * 1024);
    // A sink that takes its first write and never finishes it: it never drains, never fails.
    let writes = 0;
    const stuck = new Writable({
      highWaterMark: 1024,
      write() {
        writes++;
      },
    });
    await assert.rejects(
      p.sign(chunks(), stuck, resolveWith(TEST_SIGNATURE), { ...options, size: message.length }),
      (err: unknown) => err instanceof SigningStalledError && /its output/.test(err.message),
    );
    assert.equal(writes, 1, 'the sink took one write and nothing after it');
    assert.ok(stuck.destroyed, 'the partial output is discarded');
    await signsNext(p);
  });

  void it('frees the worker when the input stops mid-message, rejecting for a retry', async () => {
    const p = pool(30_000, 512, 1, stallMs);
    const { message } = withAttachment(1024 * 1024);
    // A blob read that delivers the first half and then neither ends nor fails.
    let reads = 0;
    const input = new Readable({
      read() {
        if (reads++ === 0) this.push(message.subarray(0, message.length / 2));
      },
    });
    await assert.rejects(
      p.sign(input, new Collect(), resolveWith(TEST_SIGNATURE), { ...options, size: message.length }),
      (err: unknown) => err instanceof SigningStalledError && /its input/.test(err.message),
    );
    assert.ok(reads >= 2, 'the pool asked for more input than the source gave');
    assert.ok(input.destroyed, 'the stalled read is abandoned');
    await signsNext(p);
  });

  void it('frees the worker when the signature lookup never answers', async () => {
    const p = pool(30_000, 512, 1, stallMs);
    const raw = htmlMessage('');
    let lookups = 0;
    await assert.rejects(
      p.sign(
        Readable.from([raw]),
        new Collect(),
        () => {
          lookups++;
          return new Promise(() => undefined);
        },
        { ...options, size: raw.length },
      ),
      (err: unknown) => err instanceof SigningStalledError && /signature lookup/.test(err.message),
    );
    assert.equal(lookups, 1);
    await signsNext(p);
  });

  void it('does not count a slow sink that keeps draining as a stall', async () => {
    const p = pool(30_000, 512, 1, stallMs);
    const { message, chunks } = withAttachment(4 * 1024 * 1024);
    // Each write finishes only on the next stall-check tick or later: slow, but always moving.
    let writes = 0;
    const slow = new Collect();
    const sink = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _e, cb) {
        writes++;
        slow.chunks.push(chunk);
        setTimeout(cb, stallMs / 10);
      },
    });
    const decision = await p.sign(chunks(), sink, resolveWith(TEST_SIGNATURE), {
      ...options,
      size: message.length,
    });
    assert.equal(decision.action, 'signed');
    assert.equal(decision.bytesOut, slow.bytes().length);
    assert.ok(writes > 10, `${writes} writes`);
  });

  /** A worker that does what the message says instead of signing it (test/helpers). */
  const scripted = new URL('../../helpers/scripted-signing-worker.js', import.meta.url);
  const script = (line: string) => Buffer.from(`${line}\r\n`);
  const noLookup = () => Promise.reject(new Error('the scripted worker looks nothing up'));

  void it('fails a message whose engine deadlocks (idle, waiting on nothing) as an engine error, once', async () => {
    const p = pool(30_000, 512, 1, stallMs, scripted);
    const raw = script('deadlock');
    const sink = new Collect();
    const decision = await p.sign(Readable.from([raw]), sink, noLookup, { ...options, size: raw.length });
    assert.equal(decision.action, 'failed');
    assert.ok(isDeadlock(decision.reason), decision.reason);
    assert.ok(decision.reason.startsWith('engine-error: '), 'an engine error for the tenant policy');
    assert.ok(!isOverBudget(decision.reason));
    assert.equal(decision.bytesIn, raw.length, 'the whole message was read: nothing outside was waited on');
    assert.ok(sink.destroyed, 'the partial output is discarded');
    // The deadlocked worker was replaced: the next message runs.
    const next = script('run 0');
    const ran = await p.sign(Readable.from([next]), new Collect(), noLookup, {
      ...options,
      size: next.length,
    });
    assert.equal(ran.reason, 'ran');
  });

  void it('does not cut a job that runs far past the stall limit without a byte moving', async () => {
    const p = pool(30_000, 512, 1, stallMs, scripted);
    const raw = script(`run ${stallMs * 5}`);
    const decision = await p.sign(Readable.from([raw]), new Collect(), noLookup, {
      ...options,
      size: raw.length,
    });
    assert.deepEqual(decision, { action: 'skipped', reason: 'ran', bytesIn: raw.length, bytesOut: 0 });
  });

  void it('still stops a running job at its CPU budget, not at the stall limit', async () => {
    const p = pool(stallMs * 2, 512, 1, stallMs, scripted);
    const raw = script(`run ${stallMs * 20}`);
    const decision = await p.sign(Readable.from([raw]), new Collect(), noLookup, {
      ...options,
      size: raw.length,
    });
    assert.equal(decision.action, 'failed');
    assert.ok(isOverBudget(decision.reason), decision.reason);
  });

  void it('names the deadlock reason the way isDeadlock reads it', () => {
    assert.ok(isDeadlock(`${deadlockReason}: x`));
    assert.ok(!isDeadlock('engine-error: TypeError: x'));
    assert.ok(!isDeadlock(undefined));
  });
});
