import { PassThrough, Writable, type Readable } from 'node:stream';
import type { ContentStore } from '../content/index.js';
import type { SignActivityResult, SigningResult, SignInput } from '../contracts/index.js';
import { describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { SigningPool } from '../processing/signing-pool.js';
import type { Runtime } from '../processing/runtime.js';
import type { ResolveSignature } from '../signing/index.js';
import type { MessageMeta, MessageStore } from '../storage/index.js';
import { telemetry } from '../telemetry/index.js';
import { signingEvent } from './events.js';
import { openMessage, type OpenedMessage } from './open.js';
import { failurePolicyOf } from './failure-policy.js';
import type { Step } from './recorder.js';

/** What the sign step hands on: the result and, when signed, where the signed message is. */
export interface SignStepOutcome {
  signing: SigningResult;
  /** The Message-ID header value (angle brackets included); how the Sent Items update finds the original. */
  internetMessageId?: string;
  /** Signed in memory (small messages): delivered, then staged for Sent Items as it is. */
  chunks?: readonly Buffer[];
}

/**
 * Signs an opened message, in memory (`memory`: one buffer, nothing written) or into
 * `signed/<id>` (`blob`: streamed, memory stays bounded). Logs and counts the decision once for
 * every path. Rejects only when storage failed; the engine's own failures come back as `failed`.
 */
export async function signMessage(
  rt: Runtime,
  opened: OpenedMessage,
  into: 'memory' | 'blob',
  log: Logger,
): Promise<Step<SignStepOutcome>> {
  const { meta, source, content } = opened;
  const { processedHeader } = rt.settings;
  let outcome: SignStepOutcome;
  if (into === 'blob') {
    outcome = await signIntoBlob(rt.store, rt.signer, content, source, meta, processedHeader);
  } else {
    const sink = new MemorySink();
    const result = await signInto(rt.signer, content, source, sink, meta, processedHeader);
    // One buffer rather than the engine's many small chunks: delivery writes it in a few TLS records,
    // and Sent Items stages the same buffer. The chunks are dropped with the sink.
    outcome =
      result.signing.action === 'signed' ? { ...result, chunks: [Buffer.concat(sink.chunks)] } : result;
  }
  telemetry.signingDecision({ action: outcome.signing.action, tenantId: meta.tenantId });
  log.info({ ...outcome.signing, into }, 'signing decision');
  return { outcome, events: [signingEvent(outcome.signing)] };
}

/** Collects the signed message in memory: the one copy of it this process holds. */
class MemorySink extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(chunk);
    callback();
  }
}

/**
 * Runs the engine over one stored message into `sink`, with the content's signature. A template
 * that throws is a property of the configuration, not of storage: retrying would not help, so it
 * becomes a `failed` result that the tenant's policy decides about. Rejects only when the input
 * or the output failed (storage, worth a retry). `sink` holds the message only when `signed`.
 * The engine runs in the pool's worker threads, within the per-message budget: a message over it
 * comes back `failed` with reason `over-budget: …`, like any other signing failure.
 */
async function signInto(
  signer: SigningPool,
  content: ContentStore,
  source: Readable,
  sink: Writable,
  meta: MessageMeta,
  processedHeader: string,
): Promise<SignStepOutcome> {
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
    return { signing: { action: 'failed', reason: `template-error: ${templateError}` } };
  const signing: SigningResult = { action: decision.action, reason: decision.reason };
  if (decision.template !== undefined) signing.template = decision.template;
  if (decision.rule !== undefined) signing.rule = decision.rule;
  return signing.action === 'signed' && internetMessageId ? { signing, internetMessageId } : { signing };
}

/**
 * Signs a stored message into `signed/<id>` (streamed, block by block): kept only when it was
 * signed, abandoned otherwise. Rejects, leaving nothing behind, when storage failed.
 */
async function signIntoBlob(
  store: MessageStore,
  signer: SigningPool,
  content: ContentStore,
  source: Readable,
  meta: MessageMeta,
  processedHeader: string,
): Promise<SignStepOutcome> {
  const sink = new PassThrough();
  const upload = store.writeSigned(meta.id, sink, meta);
  let result: SignStepOutcome;
  try {
    result = await signInto(signer, content, source, sink, meta, processedHeader);
  } catch (err) {
    sink.destroy();
    await upload.catch(() => undefined);
    throw err;
  }
  if (result.signing.action === 'signed') {
    if (!sink.writableEnded) sink.end();
    await upload;
  } else {
    sink.destroy();
    await upload.catch(() => undefined);
  }
  return result;
}

/** The headers we put in front of a message on its way back: loop prevention, our id, the result. */
export function returnHeaders(id: string, signing: SigningResult, processedHeader: string): string[] {
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

/**
 * The orchestration's sign step: opens `inbound/<id>`, signs into `signed/<id>` (kept only when
 * signed) and tells the orchestration what it needs to decide. A message the engine cannot sign
 * comes back `failed` with the reason (the orchestration applies the tenant's policy); only storage
 * problems throw, to be retried.
 */
export async function signStored(rt: Runtime, input: SignInput): Promise<Step<SignActivityResult>> {
  const opened = await openMessage(rt, input.id);
  if (!opened.outcome)
    return { outcome: { id: input.id, found: false, useSigned: false }, events: opened.events };
  const { meta, tenant } = opened.outcome;
  const log = rt.logger.child({ messageId: input.id, step: 'sign' });
  const signed = await signMessage(rt, opened.outcome, 'blob', log);
  const { signing, internetMessageId } = signed.outcome;
  return {
    outcome: {
      id: input.id,
      found: true,
      signing,
      useSigned: signing.action === 'signed',
      tenantId: meta.tenantId,
      sender: meta.envelope.mailFrom,
      envelopeBlob: meta.envelopeBlob === true,
      ...(tenant ? { policy: failurePolicyOf(tenant) } : {}),
      ...(internetMessageId ? { internetMessageId } : {}),
    },
    // The direct path traced the arrival already when it handed over.
    events: [...(input.traced ? [] : opened.events), ...signed.events],
    sender: meta.envelope.mailFrom,
  };
}
