import { PassThrough } from 'node:stream';
import { describeError } from '../errors/index.js';
import { deliver, targetFor } from '../delivery/index.js';
import { signMessage as runEngine } from '../signing/index.js';
import { runtime } from './runtime.js';

/** The orchestration's view of a message after signing: small, serialisable, no content. */
export interface SignOutcome {
  id: string;
  /** False when the inbound blob is gone (already finished, or never committed). */
  found: boolean;
  action?: 'signed' | 'skipped' | 'failed';
  reason?: string;
  template?: string;
  /** Deliver `signed/<id>` (true) or the original `inbound/<id>` (false). */
  useSigned: boolean;
  tenantId?: string;
  /** The recipient list is stored beside the message (`envelopes/<id>.json`). */
  envelopeBlob?: boolean;
  policy?: {
    signingFailure: 'fail-open' | 'fail-closed';
    permanentFailure: 'dsn' | 'alert';
    retry: { firstIntervalSeconds: number; maxIntervalSeconds: number; giveUpAfterHours: number };
  };
}

export interface DeliverInput {
  id: string;
  useSigned: boolean;
  /** `X-Sigrelay-Result` value for messages delivered without our signature. */
  result?: string;
}

export interface DeliverResult {
  status: 'delivered' | 'permanent' | 'partial';
  response: string;
  delivered: string[];
  rejected: Record<string, string>;
}

/** Thrown for a temporary failure so that Durable's RetryOptions schedule the next attempt. */
export class TemporaryDeliveryError extends Error {
  override readonly name = 'TemporaryDeliveryError';
}

/**
 * Reads `inbound/<id>`, runs the engine, and stores `signed/<id>` when it signed. Engine problems
 * never throw (the engine fails open and reports why); only storage problems throw, to be retried.
 */
export async function signActivity(input: { id: string }): Promise<SignOutcome> {
  const rt = runtime();
  const log = rt.logger.child({ messageId: input.id, step: 'sign' });
  const opened = await rt.store.openWithMeta(input.id);
  if (!opened) return { id: input.id, found: false, useSigned: false };
  const { stream: source, meta } = opened;
  let content;
  try {
    content = await rt.content();
  } catch (err) {
    source.destroy();
    throw err;
  }
  const tenant = content.tenants.byTenantId(meta.tenantId);
  const policy = tenant
    ? {
        signingFailure: tenant.settings.signingFailure,
        permanentFailure: tenant.settings.permanentFailure,
        retry: tenant.settings.deliveryRetry,
      }
    : undefined;
  const base = {
    id: input.id,
    found: true,
    tenantId: meta.tenantId,
    envelopeBlob: meta.envelopeBlob === true,
    policy,
  };

  const started = Date.now();
  const sink = new PassThrough();
  const upload = rt.store.writeSigned(input.id, sink, meta);
  let decision;
  try {
    decision = await runEngine(source, sink, content.resolve, {
      sender: meta.envelope.mailFrom,
      recipients: meta.envelope.rcptTo,
      processedHeader: rt.settings.processedHeader,
    });
  } catch (err) {
    // The engine rejects only when its input, output or the resolver failed: a storage or directory
    // problem worth a retry. Stop the half-written signed copy and let RetryOptions try again.
    sink.destroy();
    await upload.catch(() => undefined);
    throw err;
  }
  if (!sink.writableEnded) sink.end();
  if (decision.action === 'signed') {
    await upload;
  } else {
    sink.destroy();
    await upload.catch(() => undefined);
  }
  log.info(
    {
      action: decision.action,
      reason: decision.reason,
      template: decision.template,
      ms: Date.now() - started,
    },
    'signing decision',
  );
  return {
    ...base,
    action: decision.action,
    reason: decision.reason,
    template: decision.template,
    useSigned: decision.action === 'signed',
  };
}

/**
 * Delivers to the recipients not yet handled, records progress durably before returning, and throws
 * TemporaryDeliveryError while any recipient is deferred, so only those are retried.
 */
export async function deliverActivity(input: DeliverInput): Promise<DeliverResult> {
  const rt = runtime();
  const log = rt.logger.child({ messageId: input.id, step: 'deliver' });
  const [opened, recorded] = await Promise.all([
    rt.store.openWithMeta(input.id, input.useSigned ? 'signed' : 'inbound'),
    rt.state.get(input.id),
  ]);
  const progress = recorded ?? {
    delivered: [],
    rejected: {},
    lastResponse: '',
    attempts: 0,
    updatedAt: new Date().toISOString(),
  };
  if (!opened) {
    if (progress.attempts > 0) return summarise(progress);
    throw new Error(`message ${input.id} is not in storage`);
  }
  const { stream: message, meta } = opened;
  const remaining = meta.envelope.rcptTo.filter(
    (r) => !progress.delivered.includes(r) && !(r in progress.rejected),
  );
  if (remaining.length === 0) {
    message.destroy();
    return summarise(progress);
  }
  let tenant;
  try {
    tenant = (await rt.content()).tenants.byTenantId(meta.tenantId);
  } catch (err) {
    message.destroy();
    throw err;
  }
  if (!tenant) {
    message.destroy();
    throw new TemporaryDeliveryError(`tenant ${meta.tenantId} is not configured`);
  }
  const target = targetFor(tenant, rt.settings);
  // The engine stamps the loop-prevention header on what it signs; the original needs it here.
  const headers = input.useSigned ? [] : [`${rt.settings.processedHeader}: true`];
  headers.push(`X-Sigrelay-Id: ${input.id}`);
  if (input.result) headers.push(`X-Sigrelay-Result: ${input.result}`);
  const started = Date.now();
  const outcome = await deliver(target, {
    mailFrom: meta.envelope.mailFrom,
    rcptTo: remaining,
    prependHeaders: headers,
    message,
  });
  progress.delivered.push(...outcome.accepted);
  for (const r of outcome.rejected) progress.rejected[r] = outcome.recipientReplies[r] ?? outcome.response;
  progress.lastResponse = outcome.response;
  progress.attempts += 1;
  progress.updatedAt = new Date().toISOString();
  await rt.state.put(input.id, progress);
  log.info(
    {
      endpoint: `${target.host}:${target.port}`,
      status: outcome.status,
      code: outcome.code,
      accepted: outcome.accepted.length,
      deferred: outcome.deferred.length,
      rejected: outcome.rejected.length,
      response: outcome.response,
      ms: Date.now() - started,
    },
    'delivery attempt',
  );
  if (outcome.deferred.length > 0) {
    throw new TemporaryDeliveryError(
      `temporary failure for ${outcome.deferred.length} recipient(s): ${outcome.response}`,
    );
  }
  return summarise(progress);
}

function summarise(progress: {
  delivered: string[];
  rejected: Record<string, string>;
  lastResponse: string;
}): DeliverResult {
  const rejectedCount = Object.keys(progress.rejected).length;
  const status = rejectedCount === 0 ? 'delivered' : progress.delivered.length > 0 ? 'partial' : 'permanent';
  return {
    status,
    response: progress.lastResponse,
    delivered: progress.delivered,
    rejected: progress.rejected,
  };
}

/** Deletes every stored copy. Called only after the endpoint has answered 250 (or after dead-lettering). */
export async function deleteActivity(input: {
  id: string;
  signed?: boolean;
  envelopeBlob?: boolean;
}): Promise<void> {
  const rt = runtime();
  await rt.store.deleteAll(input.id, { signed: input.signed, envelopeBlob: input.envelopeBlob });
  rt.logger.info({ messageId: input.id, step: 'delete' }, 'stored copies deleted');
}

/** Moves the original to `deadletter/<id>` with its failure history, then deletes the working copies. */
export async function deadLetterActivity(input: {
  id: string;
  reason: string;
  history: unknown;
}): Promise<void> {
  const rt = runtime();
  const meta = await rt.store.readMeta(input.id);
  if (meta) {
    // A streamed copy, not a server-side one: with managed identity a same-account copy would need
    // extra source authorisation, and messages are at most 150 MB.
    const props = await rt.storage.inbound.getBlobClient(input.id).getProperties();
    const target = rt.storage.deadletter.getBlockBlobClient(input.id);
    await target.uploadStream(await rt.store.open(input.id), 4 * 1024 * 1024, 2, {
      metadata: { ...(props.metadata ?? {}), deadreason: encodeURIComponent(input.reason.slice(0, 1000)) },
    });
    const history = JSON.stringify({
      id: input.id,
      reason: input.reason,
      history: input.history,
      at: new Date().toISOString(),
    });
    await rt.storage.deadletter
      .getBlockBlobClient(`${input.id}.history.json`)
      .upload(history, Buffer.byteLength(history));
  }
  await rt.store.deleteAll(input.id);
  rt.logger.warn({ messageId: input.id, step: 'deadletter', reason: input.reason }, 'message dead-lettered');
}
