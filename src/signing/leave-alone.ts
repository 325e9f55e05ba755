/**
 * Messages the engine must deliver unchanged, and the reason it reports for each. Root headers are
 * checked before the signature is resolved; every later node is checked as it streams past.
 */
import type { MimeNode } from '@zone-eu/mailsplit';

type Headers = ReadonlyMap<string, string[]>;

function first(headers: Headers, name: string): string | undefined {
  return headers.get(name)?.[0]?.trim();
}

/**
 * Auto-replies and rule-generated mail. `X-Auto-Response-Suppress` is deliberately not here: it
 * asks others not to auto-reply and also appears on ordinary mail sent to distribution lists.
 */
function autoReplyReason(headers: Headers): string | undefined {
  const autoSubmitted = first(headers, 'auto-submitted');
  if (autoSubmitted && !/^no\b/i.test(autoSubmitted)) return 'auto-submitted';
  if (headers.has('x-ms-exchange-inbox-rules-loop')) return 'auto-reply';
  if (headers.has('x-autoreply') || headers.has('x-autorespond')) return 'auto-reply';
  if (/^auto[_-]reply$/i.test(first(headers, 'precedence') ?? '')) return 'auto-reply';
  return undefined;
}

/** Reason to leave the whole message alone, judged on its root headers alone. */
export function rootLeaveAloneReason(headers: Headers, processedHeader: string): string | undefined {
  if (headers.has(processedHeader.toLowerCase())) return 'already-processed';
  return autoReplyReason(headers);
}

/** Reason a node (anywhere in the tree) makes the whole message one to leave alone. */
export function nodeLeaveAloneReason(node: MimeNode, insideAttachedMessage: boolean): string | undefined {
  const type = node.contentType || '';
  // A meeting object anywhere, even in an attached message, is treated as calendaring.
  if (type === 'text/calendar' || type === 'application/ics') return 'calendar';
  if (insideAttachedMessage) return undefined;
  if (type === 'multipart/signed') {
    const headerValue = node.headers ? node.headers.getFirst('content-type') : '';
    return /application\/pgp-signature/i.test(headerValue) ? 'pgp' : 'smime';
  }
  if (/^application\/(?:x-)?pkcs7-(?:mime|signature)$/.test(type)) return 'smime';
  if (type === 'multipart/encrypted' || /^application\/pgp-(?:encrypted|signature|keys)$/.test(type))
    return 'pgp';
  if (type === 'multipart/report') return 'report';
  if (type === 'application/ms-tnef' || type === 'application/vnd.ms-tnef') return 'tnef';
  if (typeof node.filename === 'string' && node.filename.toLowerCase() === 'winmail.dat') return 'tnef';
  return undefined;
}

/** Inline PGP inside a body text part. */
export function inlinePgp(text: string): boolean {
  return /-----BEGIN PGP (?:SIGNED )?MESSAGE-----/.test(text);
}
