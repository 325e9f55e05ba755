import type { ClaimCheck } from '../contracts/index.js';

/**
 * The blob-metadata codec: how a stored message's facts are written as blob metadata and read back.
 * `MessageStore` writes them on `inbound/` and `signed/`; `DeadLetters` copies them to `deadletter/`
 * with its own two marks and reads them when listing or replaying. One place owns the key names.
 */

export interface Envelope {
  mailFrom: string;
  rcptTo: string[];
}

/** Facts recorded with every stored message (blob metadata). Never the subject or body. */
export interface MessageMeta {
  id: string;
  envelope: Envelope;
  tenantId: string;
  receivedAt: string;
  clientAddress: string;
  sessionId: string;
  tlsProtocol?: string;
  tlsCipher?: string;
  size: number;
  sha256: string;
  /** True when the recipient list is in `envelopes/<id>.json` rather than in the metadata. */
  envelopeBlob?: boolean;
}

export type MessageMetaInput = Omit<MessageMeta, 'size' | 'sha256' | 'envelopeBlob'>;

export function toMetadata(meta: MessageMeta, recipientsOverflow: boolean): Record<string, string> {
  const md: Record<string, string> = {
    schema: '1',
    mailfrom: encodeURIComponent(meta.envelope.mailFrom),
    tenant: meta.tenantId,
    receivedat: meta.receivedAt,
    clientaddress: meta.clientAddress,
    sessionid: meta.sessionId,
    size: String(meta.size),
    sha256: meta.sha256,
    rcptcount: String(meta.envelope.rcptTo.length),
  };
  if (recipientsOverflow) md.rcptblob = '1';
  else md.rcptto = encodeURIComponent(JSON.stringify(meta.envelope.rcptTo));
  if (meta.tlsProtocol) md.tlsprotocol = meta.tlsProtocol;
  if (meta.tlsCipher) md.tlscipher = meta.tlsCipher;
  return md;
}

/** True when the recipient list is in `envelopes/<id>.json` rather than in the metadata. */
export function recipientsInBlob(md: Record<string, string>): boolean {
  return md.rcptblob === '1';
}

/** The recipient list kept in the metadata itself (empty when it is in `envelopes/`). */
export function inlineRecipients(md: Record<string, string>): string[] {
  return JSON.parse(decodeURIComponent(md.rcptto ?? '%5B%5D')) as string[];
}

/** The stored message's facts, given its recipient list (read from wherever it lives). */
export function fromMetadata(id: string, md: Record<string, string>, rcptTo: string[]): MessageMeta {
  return {
    id,
    envelope: { mailFrom: senderOf(md), rcptTo },
    tenantId: md.tenant ?? '',
    receivedAt: md.receivedat ?? '',
    clientAddress: md.clientaddress ?? '',
    sessionId: md.sessionid ?? '',
    tlsProtocol: md.tlsprotocol,
    tlsCipher: md.tlscipher,
    size: Number(md.size ?? 0),
    sha256: md.sha256 ?? '',
    envelopeBlob: recipientsInBlob(md),
  };
}

export function senderOf(md: Record<string, string>): string {
  return decodeURIComponent(md.mailfrom ?? '');
}

/** How many recipients the message had (kept even when the list itself is in `envelopes/`). */
export function recipientCount(md: Record<string, string>): number {
  return Number(md.rcptcount ?? 0);
}

/** The marks a dead letter carries on top of the message's own metadata. */
export function withDeadLetterMarks(
  md: Record<string, string>,
  reason: string,
  at: string,
): Record<string, string> {
  return { ...md, deadreason: encodeURIComponent(reason.slice(0, 1000)), deadat: at };
}

export function deadLetterMarks(md: Record<string, string>): { reason: string; deadAt: string } {
  return { reason: decodeURIComponent(md.deadreason ?? ''), deadAt: md.deadat ?? '' };
}

/** The message's own metadata again, as it was in `inbound/` before it was dead-lettered. */
export function withoutDeadLetterMarks(md: Record<string, string>): Record<string, string> {
  const { deadreason: _reason, deadat: _at, ...rest } = md;
  return rest;
}

/** A fresh claim-check for a stored message, from its metadata (used when replaying). */
export function claimCheckFor(
  id: string,
  md: Record<string, string>,
  extra: Partial<ClaimCheck> = {},
): ClaimCheck {
  return {
    v: 1,
    id,
    tenantId: md.tenant ?? '',
    size: Number(md.size ?? 0),
    sha256: md.sha256 ?? '0'.repeat(64),
    receivedAt: md.receivedat ?? new Date().toISOString(),
    ...extra,
  };
}
