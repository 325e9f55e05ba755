/**
 * A stand-in for the signing worker, for the signing pool's tests (SigningPoolOptions.workerUrl):
 * it speaks the worker's protocol, reads the whole message, and then does what the message says
 * instead of signing it — so a test can make the engine misbehave without a switch in the real
 * worker. The message is one line:
 * - `deadlock`: awaits a promise nothing will ever settle (the event loop idles, no I/O pending);
 * - `run <ms>`: computes for that long without a byte moving, then answers `skipped`, reason `ran`.
 */
import { parentPort } from 'node:worker_threads';
import type { FromWorker, StartJob, ToWorker } from '../../src/processing/signing-protocol.js';

interface JobPort {
  postMessage(message: FromWorker): void;
  on(event: 'message', listener: (message: ToWorker) => void): void;
}

parentPort?.on('message', (job: StartJob) => void run(job.port));

async function run(port: JobPort): Promise<void> {
  const chunks: Buffer[] = [];
  const script = await new Promise<string>((resolve) => {
    port.on('message', (m) => {
      if (m.type === 'in') {
        chunks.push(Buffer.from(m.chunk));
        port.postMessage({ type: 'in-ack' });
      } else if (m.type === 'in-end') resolve(Buffer.concat(chunks).toString('utf8').trim());
    });
    port.postMessage({ type: 'started' });
  });
  const bytesIn = chunks.reduce((sum, c) => sum + c.length, 0);
  if (script === 'deadlock') {
    // The port's listener keeps the thread alive with nothing to do: what an engine bug awaiting
    // its own never-settled promise looks like from outside.
    return new Promise<void>(() => undefined);
  }
  const ms = Number(/^run (\d+)$/.exec(script)?.[1] ?? 0);
  const until = performance.now() + ms;
  while (performance.now() < until);
  port.postMessage({ type: 'done', decision: { action: 'skipped', reason: 'ran', bytesIn, bytesOut: 0 } });
}
