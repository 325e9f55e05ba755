/**
 * The signing pool: worker threads give the same bytes as the engine in-process, stream large
 * messages through, and stop a message that runs over its CPU budget — that message fails alone,
 * the next one is signed by a fresh worker. (The heap limit has no test here: Node aborts the whole
 * process when a worker reaches it through ArrayBuffer allocation, nodejs/node#47224.)
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { PassThrough, Readable, Writable } from 'node:stream';
import { SigningPool, isOverBudget } from '../../src/processing/index.js';
import { signMessage, type SignatureContent } from '../../src/signing/index.js';
import { TEST_SIGNATURE } from '../corpus/invariants.js';

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
function pool(budgetMs = 30_000, memoryMb = 512, workers = 2): SigningPool {
  const p = new SigningPool({ workers, budgetMs, memoryMb, largeBytes: 4 * 1024 * 1024 });
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
});
