import { describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { SentItemsOutbox, type SignedCopy, type StageResult } from '../sentitems/index.js';
import type { MessageStore } from '../storage/index.js';
import { telemetry } from '../telemetry/index.js';
import type { Runtime } from '../processing/runtime.js';

/** The delivered message as the delivery paths know it after the endpoint's 250. */
export interface DeliveredMessage {
  id: string;
  tenantId: string;
  /** The Message-ID the engine read while signing; without it the original cannot be found. */
  internetMessageId?: string;
}

/** The signed copy to stage, with the facts the job needs. */
export interface OpenedCopy {
  copy: SignedCopy;
  sender: string;
  receivedAt: string;
}

/** `no-copy`: the signed copy is gone, so an earlier run already got past this step. */
export type StageOutcome = StageResult | 'stage-failed' | 'no-copy';

/**
 * Hands a delivered, signed message to the Sent Items update when its tenant has it on: one
 * bounded write (blob + job, `SIGRELAY_SENTITEMS_STAGE_TIMEOUT_MS`). Never throws: a failure is
 * logged and counted, and delivery and the deletion of the stored copies go on regardless — the
 * sender then keeps the unsigned Sent Items copy. `open` runs only for a tenant with it on, so a
 * tenant with it off costs no storage request at all.
 */
export async function stageSentItems(
  rt: Runtime,
  message: DeliveredMessage,
  open: () => Promise<OpenedCopy | undefined>,
  log: Logger,
): Promise<StageOutcome> {
  const tenantId = message.tenantId;
  try {
    const tenant = (await rt.content()).tenants.byTenantId(tenantId);
    if (!tenant || !SentItemsOutbox.wants(tenant)) return 'off';
    if (!message.internetMessageId) {
      log.warn('signed message has no Message-ID: its Sent Items copy cannot be found; not staged');
      telemetry.sentItems({ outcome: 'no-message-id', tenantId });
      return 'no-message-id';
    }
    const opened = await open();
    if (!opened) {
      log.info('no signed copy left to stage: an earlier run handed it over');
      return 'no-copy';
    }
    const result = await rt.sentItems.stage(
      {
        messageId: message.id,
        tenant,
        sender: opened.sender,
        internetMessageId: message.internetMessageId,
        receivedAt: opened.receivedAt,
      },
      opened.copy,
    );
    if (result !== 'off') telemetry.sentItems({ outcome: result, tenantId });
    log.info({ sentItems: result }, 'sent items update handed over');
    return result;
  } catch (err) {
    telemetry.sentItems({ outcome: 'stage-failed', tenantId });
    log.warn(
      { err: describeError(err), sentItems: 'stage-failed' },
      'the sent items update could not be handed over; the sender keeps the unsigned copy',
    );
    return 'stage-failed';
  }
}

/** `signed/<id>` as a copy to stage (streamed), or undefined when it is gone. */
export async function openSignedCopy(store: MessageStore, id: string): Promise<OpenedCopy | undefined> {
  const opened = await store.openWithMeta(id, 'signed');
  if (!opened) return undefined;
  return {
    copy: { stream: opened.stream, size: opened.bytes },
    sender: opened.meta.envelope.mailFrom,
    receivedAt: opened.meta.receivedAt,
  };
}
