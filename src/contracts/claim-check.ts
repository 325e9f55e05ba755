import crypto from 'node:crypto';
import { z } from 'zod';

/**
 * The queue message: a small, versioned pointer to the stored MIME ("claim-check"). The envelope
 * travels in the blob's metadata, not here, so the queue message stays far below 64 KB whatever
 * the recipient count. Queue messages are base64-encoded, matching host.json
 * `extensions.queues.messageEncoding: "base64"` (the Functions default).
 */
export const claimCheckSchema = z.object({
  v: z.literal(1),
  id: z.string().regex(/^[A-Za-z0-9-]{8,80}$/),
  tenantId: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  receivedAt: z.string(),
  /** Set by a dead-letter replay: start a new orchestration even if one with this id completed. */
  replay: z.boolean().optional(),
  /** W3C trace context of the SMTP transaction, so one message's trace spans front and functions. */
  traceparent: z.string().max(256).optional(),
});

export type ClaimCheck = z.infer<typeof claimCheckSchema>;

export function encodeClaimCheck(claim: ClaimCheck): string {
  return Buffer.from(JSON.stringify(claim), 'utf8').toString('base64');
}

/**
 * Decodes a claim-check as the Functions host hands it over (already-decoded JSON object or text)
 * or as it sits on the queue (base64). Throws on anything else: the caller treats it as poison.
 */
export function decodeClaimCheck(value: unknown): ClaimCheck {
  let candidate = value;
  if (typeof candidate === 'string') {
    const text = candidate.trim();
    const json = text.startsWith('{') ? text : Buffer.from(text, 'base64').toString('utf8');
    candidate = JSON.parse(json) as unknown;
  } else if (Buffer.isBuffer(candidate)) {
    candidate = JSON.parse(candidate.toString('utf8')) as unknown;
  }
  return claimCheckSchema.parse(candidate);
}

/** Our message id: sortable by time, unique across replicas, safe in blob names and instance ids. */
export function newMessageId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '').slice(0, 14);
  return `${stamp}-${crypto.randomBytes(8).toString('hex')}`;
}
