import { z } from 'zod';

/**
 * One Sent Items replacement on the `sentitems` queue: a pointer to the staged signed copy
 * (`sentitems/<messageId>.eml`) and what is needed to find the sender's original. Versioned, small.
 */
export const sentItemsJobSchema = z.object({
  v: z.literal(1),
  messageId: z.string().regex(/^[A-Za-z0-9-]{8,80}$/),
  tenantId: z.string().min(1),
  /** The sender's mailbox (address or Entra object id) whose Sent Items holds the original. */
  mailbox: z.string().min(1),
  /** The Message-ID header value, angle brackets included: how the original is found. */
  internetMessageId: z.string().min(3).max(998),
  /** When the front accepted the message; the give-up deadline counts from here. */
  receivedAt: z.string(),
  /** Tries so far (not counting this one). */
  attempt: z.number().int().nonnegative().default(0),
});

export type SentItemsJob = z.infer<typeof sentItemsJobSchema>;

export function encodeSentItemsJob(job: SentItemsJob): string {
  return Buffer.from(JSON.stringify(job), 'utf8').toString('base64');
}

/** Accepts the job as the Functions host hands it over (object, JSON text) or as queued (base64). */
export function decodeSentItemsJob(value: unknown): SentItemsJob {
  let candidate = value;
  if (typeof candidate === 'string') {
    const text = candidate.trim();
    candidate = JSON.parse(
      text.startsWith('{') ? text : Buffer.from(text, 'base64').toString('utf8'),
    ) as unknown;
  } else if (Buffer.isBuffer(candidate)) candidate = JSON.parse(candidate.toString('utf8')) as unknown;
  return sentItemsJobSchema.parse(candidate);
}

export function stagedBlobName(messageId: string): string {
  return `${messageId}.eml`;
}
