import type { MessagePort } from 'node:worker_threads';
import type { MessageFacts, SignatureResolution, SignDecision, SignOptions } from '../signing/index.js';

/**
 * What the signing pool (main thread) and a signing worker say to each other over one job's
 * MessagePort. Message bytes travel as transferred ArrayBuffers, a few chunks in flight each way,
 * so neither side ever holds a whole message because of the other.
 */
export type ToWorker =
  | { type: 'in'; chunk: ArrayBuffer }
  | { type: 'in-end' }
  | { type: 'in-error'; message: string }
  | { type: 'resolved'; resolution: SignatureResolution }
  | { type: 'resolve-failed'; message: string }
  | { type: 'out-ack' };

export type FromWorker =
  | { type: 'started' }
  | { type: 'in-ack' }
  | { type: 'resolve'; facts: MessageFacts }
  | { type: 'out'; chunk: ArrayBuffer }
  | { type: 'done'; decision: SignDecision }
  | { type: 'error'; message: string };

/** The job message posted to the worker itself; `port` carries everything else. */
export interface StartJob {
  port: MessagePort;
  options: SignOptions;
}

/** Chunks sent ahead of the other side's acknowledgement, each way. */
export const chunkWindow = 8;
/** The worker joins the engine's small output chunks into batches of about this size. */
export const outBatchBytes = 64 * 1024;

/**
 * Chunks' bytes, read as one, in an ArrayBuffer of their own (a Buffer may be a slice of a shared
 * pool, or of a whole body part): copied once, straight into the buffer that is transferred.
 */
export function ownBuffer(chunks: Uint8Array | Uint8Array[]): ArrayBuffer {
  if (!Array.isArray(chunks)) chunks = [chunks];
  const copy = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    copy.set(chunk, at);
    at += chunk.byteLength;
  }
  return copy.buffer;
}
