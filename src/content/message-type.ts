import type { MessageFacts } from '../signing/types.js';

export type MessageType = 'new' | 'reply' | 'forward';

/**
 * Subject prefixes mail clients add, in the languages Outlook, Gmail and Apple Mail localise them
 * into. Matched case-insensitively before a colon (`RE:`, `Re[2]:`, French `TR :`, full-width `：`).
 */
const replyPrefixes = [
  're', // English and most others
  'aw', // German (Antwort)
  'sv', // Swedish, Danish, Norwegian (svar)
  'antw', // Dutch (antwoord)
  'odp', // Polish (odpowiedź)
  'r', // Italian
  'rif', // Italian (riferimento)
  'res', // Portuguese (resposta)
  'ynt', // Turkish (yanıt)
  'vá', // Hungarian (válasz)
  'atb', // Latvian (atbilde)
  'απ', // Greek
  'отв', // Russian (ответ)
  'відп', // Ukrainian
  '回复', // Chinese (simplified)
  '回覆', // Chinese (traditional)
  '答复',
];
const forwardPrefixes = [
  'fw',
  'fwd',
  'wg', // German (weitergeleitet)
  'tr', // French (transféré)
  'rv', // Spanish (reenviado)
  'i', // Italian (inoltrato)
  'enc', // Portuguese (encaminhado)
  'vb', // Swedish (vidarebefordrat)
  'vs', // Danish, Norwegian (videresendt)
  'vl', // Finnish (välitetty)
  'doorst', // Dutch (doorsturen)
  'pd', // Polish (przekazane dalej)
  'ilt', // Turkish (iletilen)
  'továbbítás', // Hungarian
  'pvs', // Latvian (pārsūtīts)
  'πρθ', // Greek
  'пересл', // Russian
  '转发', // Chinese (simplified)
  '轉寄', // Chinese (traditional)
  '転送', // Japanese
];

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Leading `[EXTERNAL]`-style tags that gateways prepend are skipped before looking for a prefix. */
const prefixPattern = new RegExp(
  `^\\s*(?:\\[[^\\]]*\\]\\s*)*(${[...replyPrefixes, ...forwardPrefixes].map(escape).join('|')})\\s*(?:\\[\\d+\\]|\\(\\d+\\))?\\s*[:：]`,
  'iu',
);
const forwards = new Set(forwardPrefixes);

/**
 * New, reply or forward. The outermost subject prefix wins (`RE: FW: x` is a reply); without one, an
 * In-Reply-To or References header still marks a reply (clients that send replies without prefix).
 */
export function messageTypeOf(
  facts: Pick<MessageFacts, 'subject' | 'inReplyTo' | 'references'>,
): MessageType {
  const prefix = prefixPattern.exec(facts.subject ?? '')?.[1]?.toLowerCase();
  if (prefix !== undefined) return forwards.has(prefix) ? 'forward' : 'reply';
  if (facts.inReplyTo?.trim() || facts.references?.trim()) return 'reply';
  return 'new';
}
