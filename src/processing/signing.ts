import { PassThrough, type Readable, type Writable } from 'node:stream';
import type { ContentStore } from '../content/index.js';
import type { SigningSummary } from '../contracts/index.js';
import { describeError } from '../errors/index.js';
import type { ResolveSignature } from '../signing/index.js';
import type { MessageMeta, MessageStore } from '../storage/index.js';
import type { SigningPool } from './signing-pool.js';

/** What signing decided, and the message's Message-ID as the engine read it from the root headers. */
export interface SigningResult {
  summary: SigningSummary;
  /** The Message-ID header value (angle brackets included); how the Sent Items update finds the original. */
  internetMessageId?: string;
}

/**
 * Runs the engine over one stored message into `sink`, with the content's signature. A template
 * that throws is a property of the configuration, not of storage: retrying would not help, so it
 * becomes a `failed` decision that the tenant's policy decides about. Rejects only when the input
 * or the output failed (storage, worth a retry). `sink` holds the message only when `signed`.
 * The engine runs in the pool's worker threads, within the per-message budget: a message over it
 * comes back `failed` with reason `over-budget: …`, like any other signing failure.
 */
export async function signInto(
  signer: SigningPool,
  content: ContentStore,
  source: Readable,
  sink: Writable,
  meta: MessageMeta,
  processedHeader: string,
): Promise<SigningResult> {
  let templateError: string | undefined;
  let internetMessageId: string | undefined;
  const resolve: ResolveSignature = async (facts) => {
    // The engine has parsed the root headers already; no second parse for the Message-ID.
    internetMessageId = facts.headers.get('message-id')?.[0];
    try {
      return await content.resolve(facts);
    } catch (err) {
      templateError = describeError(err);
      return { action: 'skip', reason: 'template-error' };
    }
  };
  const decision = await signer.sign(source, sink, resolve, {
    sender: meta.envelope.mailFrom,
    recipients: meta.envelope.rcptTo,
    processedHeader,
    size: meta.size,
  });
  if (templateError !== undefined)
    return { summary: { action: 'failed', reason: `template-error: ${templateError}` } };
  const summary: SigningSummary = { action: decision.action, reason: decision.reason };
  if (decision.template !== undefined) summary.template = decision.template;
  if (decision.rule !== undefined) summary.rule = decision.rule;
  return summary.action === 'signed' && internetMessageId ? { summary, internetMessageId } : { summary };
}

/**
 * Signs a stored message into `signed/<id>` (streamed, block by block): kept only when it was
 * signed, abandoned otherwise. Rejects, leaving nothing behind, when storage failed.
 */
export async function signIntoBlob(
  store: MessageStore,
  signer: SigningPool,
  content: ContentStore,
  source: Readable,
  meta: MessageMeta,
  processedHeader: string,
): Promise<SigningResult> {
  const sink = new PassThrough();
  const upload = store.writeSigned(meta.id, sink, meta);
  let result: SigningResult;
  try {
    result = await signInto(signer, content, source, sink, meta, processedHeader);
  } catch (err) {
    sink.destroy();
    await upload.catch(() => undefined);
    throw err;
  }
  if (result.summary.action === 'signed') {
    if (!sink.writableEnded) sink.end();
    await upload;
  } else {
    sink.destroy();
    await upload.catch(() => undefined);
  }
  return result;
}

/** The headers we put in front of a message on its way back: loop prevention, our id, the result. */
export function returnHeaders(id: string, signing: SigningSummary, processedHeader: string): string[] {
  // The engine stamps the loop-prevention header on what it signs; the original needs it here.
  const headers = signing.action === 'signed' ? [] : [`${processedHeader}: true`];
  headers.push(`X-Sigrelay-Id: ${id}`);
  if (signing.action !== 'signed')
    headers.push(`X-Sigrelay-Result: unsigned; reason=${oneLine(signing.reason)}`);
  return headers;
}

/** A header value from text that may hold line breaks (a template error's message, say). */
function oneLine(text: string): string {
  return text.replace(/[\r\n\t]+/g, ' ').slice(0, 300);
}
