/** One message through the engine: input → count → Splitter → BodyEditor → Joiner → count → output. */
import type { EventEmitter } from 'node:events';
import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Joiner, Splitter } from '@zone-eu/mailsplit';
import { describeError } from '../errors/index.js';
import { BodyEditor, ResolverError } from './body-editor.js';
import type { ResolveSignature, SignDecision } from './types.js';

export interface SignOptions {
  /** Envelope sender (MAIL FROM). */
  sender: string;
  /** Envelope recipients (RCPT TO). */
  recipients: string[];
  /** Messages larger than this are left alone (reason `too-large`). */
  maxBytes?: number;
  /** Loop-prevention header added to signed messages and honoured on input. */
  processedHeader?: string;
}

export const DEFAULT_PROCESSED_HEADER = 'X-Sigrelay-Processed';

class ByteCounter extends Transform {
  bytes = 0;
  constructor(private readonly onBytes?: (total: number) => void) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.onBytes?.(this.bytes);
    callback(null, chunk);
  }
}

/**
 * Signs one message as a stream. Calls `resolve` at most once, after the root headers, and not at
 * all for a message left alone on its root headers.
 *
 * - `signed`: `output` received the complete signed message and was ended.
 * - `skipped` / `failed`: whatever reached `output` is NOT the message; the caller must discard it
 *   and deliver the original bytes. `output` is ended or destroyed either way, never left open.
 *
 * Content problems (malformed MIME, unknown charsets, parser limits) never throw: they come back
 * as `failed` with reason `engine-error: …` or as a `skipped` reason. The promise rejects only
 * when the resolver itself throws or the input/output streams fail, which are the caller's
 * infrastructure problems to retry.
 */
export async function signMessage(
  input: Readable,
  output: Writable,
  resolve: ResolveSignature,
  options: SignOptions,
): Promise<SignDecision> {
  const editor = new BodyEditor({
    sender: options.sender,
    recipients: options.recipients,
    resolve,
    processedHeader: options.processedHeader ?? DEFAULT_PROCESSED_HEADER,
  });
  const { maxBytes } = options;
  const counterIn = new ByteCounter(
    maxBytes === undefined ? undefined : (total) => total > maxBytes && editor.leaveAloneBecause('too-large'),
  );
  const counterOut = new ByteCounter();
  // The first stream to fail tells whether the message (engine stages) or the plumbing failed.
  let engineFailure: unknown;
  let ioFailure: unknown;
  const splitter = new Splitter();
  const joiner = new Joiner();
  for (const stage of [splitter, editor, joiner] as EventEmitter[])
    stage.once('error', (err) => void (ioFailure ?? (engineFailure ??= err)));
  for (const stage of [input, output] as EventEmitter[])
    stage.once('error', (err) => void (engineFailure ?? (ioFailure ??= err)));
  try {
    await pipeline(input, counterIn, splitter, editor, joiner, counterOut, output);
  } catch (err) {
    if (ioFailure !== undefined || engineFailure instanceof ResolverError) throw ioFailure ?? engineFailure;
    if (!output.destroyed) output.destroy();
    return {
      action: 'failed',
      reason: `engine-error: ${describeError(engineFailure ?? err)}`,
      bytesIn: counterIn.bytes,
      bytesOut: counterOut.bytes,
    };
  }
  const sizes = { bytesIn: counterIn.bytes, bytesOut: counterOut.bytes };
  const outcome = editor.outcome();
  switch (outcome.kind) {
    case 'signed':
      return {
        action: 'signed',
        reason: 'signed',
        template: outcome.content.template,
        rule: outcome.content.rule,
        ...sizes,
      };
    case 'no-body':
      return {
        action: 'skipped',
        reason: 'no-body',
        template: outcome.content.template,
        rule: outcome.content.rule,
        ...sizes,
      };
    case 'leave-alone': {
      const decision: SignDecision = { action: 'skipped', reason: outcome.reason, ...sizes };
      if (outcome.rule !== undefined) decision.rule = outcome.rule;
      if (outcome.template !== undefined) decision.template = outcome.template;
      return decision;
    }
  }
}
