import type { Readable } from 'node:stream';
import type { ContainerClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import type { Tenant } from '../config/index.js';
import { encodeSentItemsJob, stagedBlobName } from './job.js';

export interface SentItemsInput {
  /** sigrelay's message id (the claim-check id). */
  messageId: string;
  tenant: Tenant;
  /** The sender's mailbox: the envelope sender (MAIL FROM), whose Sent Items holds the original. */
  sender: string;
  /** The message's Message-ID header value, e.g. `<abc@EXCH.prod.outlook.com>`. */
  internetMessageId: string;
  receivedAt: string | Date;
}

export type StageResult = 'staged' | 'off' | 'no-message-id';

/**
 * Where the signing path hands over a delivered message whose tenant has Sent Items update on:
 * the signed copy is stored in `sentitems/` and a job queued; the worker does the Graph work later,
 * so delivery never waits for, or depends on, the sender's mailbox.
 */
export class SentItemsOutbox {
  private readonly container: ContainerClient;
  private readonly queue: QueueClient;
  private readonly firstLookDelaySeconds: number;

  /** `firstLookDelaySeconds`: Outlook usually saves its Sent Items copy within seconds; look a little later. */
  constructor(
    clients: { sentItems: ContainerClient; sentItemsQueue: QueueClient },
    options: { firstLookDelaySeconds?: number } = {},
  ) {
    this.container = clients.sentItems;
    this.queue = clients.sentItemsQueue;
    this.firstLookDelaySeconds = options.firstLookDelaySeconds ?? 10;
  }

  /** Call after the endpoint's 250. Idempotent: staging the same message twice keeps one copy. */
  async stage(input: SentItemsInput, signed: Readable): Promise<StageResult> {
    if (!input.tenant.sentItems?.enabled) {
      signed.resume();
      return 'off';
    }
    if (!/^<[^<>\s]+>$/.test(input.internetMessageId.trim())) {
      signed.resume();
      return 'no-message-id';
    }
    await this.container
      .getBlockBlobClient(stagedBlobName(input.messageId))
      .uploadStream(signed, 4 * 1024 * 1024, 2, { blobHTTPHeaders: { blobContentType: 'message/rfc822' } });
    const receivedAt =
      input.receivedAt instanceof Date
        ? input.receivedAt.toISOString()
        : new Date(input.receivedAt).toISOString();
    await this.queue.sendMessage(
      encodeSentItemsJob({
        v: 1,
        messageId: input.messageId,
        tenantId: input.tenant.id,
        mailbox: input.sender,
        internetMessageId: input.internetMessageId.trim(),
        receivedAt,
        attempt: 0,
      }),
      { visibilityTimeout: this.firstLookDelaySeconds },
    );
    return 'staged';
  }
}
