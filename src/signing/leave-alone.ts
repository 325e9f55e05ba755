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

/** Bit 0x8 (ENCRYPT) of a Purview label's `ContentBits` (MIP SDK metadata, "concept-mip-metadata"). */
const LABEL_ENCRYPTS = 0x8;

/**
 * Microsoft Purview protection we must not touch: an IRM/RMS-protected message ([MS-OXORMMS]:
 * `Content-Class: rpmsg.message`, the body lives encrypted in `message.rpmsg`), or a sensitivity
 * label whose `msip_labels` header says it is enabled and encrypts. A label that only adds a header,
 * footer or watermark (ContentBits 1, 2, 4) does not stop the signature.
 */
function protectedReason(headers: Headers): string | undefined {
  if (/^rpmsg\.message\b/i.test(first(headers, 'content-class') ?? '')) return 'protected';
  const labels = new Map<string, { enabled?: boolean; bits?: number }>();
  for (const value of headers.get('msip_labels') ?? []) {
    for (const match of value.matchAll(/MSIP_Label_([0-9a-f-]+)_(Enabled|ContentBits)\s*=\s*([^;\s]*)/gi)) {
      const [, id = '', attribute = '', setting = ''] = match;
      const label = labels.get(id.toLowerCase()) ?? {};
      if (attribute.toLowerCase() === 'enabled') label.enabled = /^true$/i.test(setting);
      else label.bits = Number.parseInt(setting, /^0x/i.test(setting) ? 16 : 10);
      labels.set(id.toLowerCase(), label);
    }
  }
  for (const label of labels.values())
    if (label.enabled && label.bits !== undefined && label.bits & LABEL_ENCRYPTS) return 'protected';
  return undefined;
}

/** Reason to leave the whole message alone, judged on its root headers alone. */
export function rootLeaveAloneReason(headers: Headers, processedHeader: string): string | undefined {
  if (headers.has(processedHeader.toLowerCase())) return 'already-processed';
  return protectedReason(headers) ?? autoReplyReason(headers);
}

/** Reason a node (anywhere in the tree) makes the whole message one to leave alone. */
export function nodeLeaveAloneReason(node: MimeNode, insideAttachedMessage: boolean): string | undefined {
  const type = node.contentType || '';
  // A meeting object anywhere, even in an attached message, is treated as calendaring.
  if (type === 'text/calendar' || type === 'application/ics') return 'calendar';
  if (insideAttachedMessage) return undefined;
  // The encrypted body of an IRM-protected message, whatever the root headers say.
  if (type === 'application/x-microsoft-rpmsg-message') return 'protected';
  if (typeof node.filename === 'string' && node.filename.toLowerCase() === 'message.rpmsg')
    return 'protected';
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

const PGP_ARMOR = /-----BEGIN PGP (?:SIGNED )?MESSAGE-----/;

/**
 * A body part that is itself inline PGP: the armor opens the part, with nothing but markup and
 * white space above it. A reply that quotes a signed message (`> -----BEGIN PGP…`, or the armor
 * under new text and an attribution) is an ordinary reply and gets signed.
 */
export function inlinePgp(text: string): boolean {
  const armor = PGP_ARMOR.exec(text);
  return armor !== null && !visibleTextIn(text.slice(0, armor.index));
}

/** Whether a stretch of text or HTML shows anything; one pass, so hostile markup cannot stall it. */
function visibleTextIn(stretch: string): boolean {
  // An HTML head (title, style) shows nothing; start at the body when there is one.
  const body = stretch.toLowerCase().lastIndexOf('<body');
  const shown = (body >= 0 ? stretch.slice(body) : stretch).replace(/&nbsp;|&#160;|&#xa0;/gi, ' ');
  let inTag = false;
  for (const char of shown) {
    if (inTag) inTag = char !== '>';
    else if (char === '<') inTag = true;
    else if (char.trim() !== '' && char !== '\uFEFF') return true;
  }
  return false;
}
