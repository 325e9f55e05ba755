/**
 * A signing worker thread: runs `signMessage` for one job at a time, with the message streamed in
 * and out over the job's port and the signature resolved by the main thread (where the content,
 * its caches and the directory live). Whatever the engine does here cannot block the host's loop.
 */
import { parentPort } from 'node:worker_threads';
import { Readable, Writable } from 'node:stream';
import { describeError } from '../errors/index.js';
import { signMessage, type SignatureResolution } from '../signing/index.js';
import {
  chunkWindow,
  outBatchBytes,
  ownBuffer,
  type FromWorker,
  type StartJob,
  type ToWorker,
} from './signing-protocol.js';

/** The job's port, typed with what travels on it. */
interface JobPort {
  postMessage(message: FromWorker, transfer?: ArrayBuffer[]): void;
  on(event: 'message', listener: (message: ToWorker) => void): void;
  close(): void;
}

parentPort?.on('message', (job: StartJob) => void run(job.port, job));

async function run(port: JobPort, job: StartJob): Promise<void> {
  // Input: acknowledged as the engine reads, so the main thread sends only a few chunks ahead.
  let owedAcks = 0;
  const input = new Readable({
    read() {
      for (; owedAcks > 0; owedAcks--) port.postMessage({ type: 'in-ack' });
    },
  });
  // Output: small engine chunks joined into batches; at most `chunkWindow` batches unacknowledged.
  let batch: Buffer[] = [];
  let batchBytes = 0;
  let unacked = 0;
  let waiting: (() => void) | undefined;
  const flush = (then: () => void) => {
    if (batchBytes > 0) {
      const chunk = ownBuffer(batch);
      batch = [];
      batchBytes = 0;
      unacked++;
      port.postMessage({ type: 'out', chunk }, [chunk]);
    }
    if (unacked < chunkWindow) then();
    else waiting = then;
  };
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      // A signed body part may come as one slice of the whole part: batched in views of at most
      // outBatchBytes, it is never joined or copied whole on its way to the main thread.
      const step = (at: number): void => {
        if (at >= chunk.length) return callback();
        const piece = chunk.subarray(at, at + outBatchBytes);
        batch.push(piece);
        batchBytes += piece.length;
        if (batchBytes < outBatchBytes) step(at + piece.length);
        else flush(() => step(at + piece.length));
      };
      step(0);
    },
    final(callback) {
      flush(() => callback());
    },
  });
  let resolved: ((r: SignatureResolution) => void) | undefined;
  let resolveFailed: ((err: Error) => void) | undefined;
  port.on('message', (m) => {
    switch (m.type) {
      case 'in':
        if (!input.push(Buffer.from(m.chunk))) owedAcks++;
        else port.postMessage({ type: 'in-ack' });
        break;
      case 'in-end':
        input.push(null);
        break;
      case 'in-error':
        input.destroy(new Error(m.message));
        break;
      case 'resolved':
        resolved?.(revive(m.resolution));
        break;
      case 'resolve-failed':
        resolveFailed?.(new Error(m.message));
        break;
      case 'out-ack': {
        unacked--;
        const next = waiting;
        waiting = undefined;
        next?.();
        break;
      }
    }
  });
  // The budget starts here: loading this module is not the message's cost.
  port.postMessage({ type: 'started' });
  try {
    const decision = await signMessage(
      input,
      output,
      (facts) =>
        new Promise<SignatureResolution>((resolve, reject) => {
          resolved = resolve;
          resolveFailed = reject;
          port.postMessage({ type: 'resolve', facts });
        }),
      job.options,
    );
    port.postMessage({ type: 'done', decision });
  } catch (err) {
    port.postMessage({ type: 'error', message: describeError(err) });
  } finally {
    port.close();
  }
}

/** Images arrive as Uint8Arrays (structured clone); the engine expects Buffers. */
function revive(resolution: SignatureResolution): SignatureResolution {
  if (resolution.action !== 'sign') return resolution;
  const images = resolution.content.images.map((image) => ({
    ...image,
    content: Buffer.from(image.content.buffer, image.content.byteOffset, image.content.byteLength),
  }));
  return { ...resolution, content: { ...resolution.content, images } };
}
