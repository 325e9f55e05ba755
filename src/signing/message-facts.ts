/** Builds what the content module is told about a message: envelope plus root headers. */
import { Headers, type MimeNode } from '@zone-eu/mailsplit';
import libmime from 'libmime';
import type { MessageFacts } from './types.js';

/** Root headers, lower-cased name → unfolded raw values. */
export function rootHeaderMap(root: MimeNode): Map<string, string[]> {
  const map = new Map<string, string[]>();
  if (!root.headers) root.parseHeaders();
  if (!root.headers) return map;
  for (const { key, line } of root.headers.getList()) {
    const colon = line.indexOf(':');
    if (!key || colon < 0) continue;
    const value = line
      .slice(colon + 1)
      .replace(/\r?\n[ \t]/g, ' ')
      .trim();
    const values = map.get(key);
    if (values) values.push(value);
    else map.set(key, [value]);
  }
  return map;
}

function firstAddress(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const angle = /<([^<>\s@]+@[^<>\s]+)>/.exec(value);
  const bare = angle?.[1] ?? /[^\s<>,;:"()]+@[^\s<>,;:"()]+/.exec(value)?.[0];
  return bare?.toLowerCase();
}

function decodeWords(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return libmime.decodeWords(value);
  } catch {
    // An unknown charset in an encoded word: the raw value is still a usable subject.
    return value;
  }
}

export function messageFacts(
  headers: ReadonlyMap<string, string[]>,
  envelope: { sender: string; recipients: string[] },
): MessageFacts {
  const facts: MessageFacts = {
    sender: envelope.sender.toLowerCase(),
    recipients: envelope.recipients.map((r) => r.toLowerCase()),
    headers,
  };
  const from = firstAddress(headers.get('from')?.[0]);
  if (from) facts.from = from;
  const subject = decodeWords(headers.get('subject')?.[0]);
  if (subject !== undefined) facts.subject = subject;
  const inReplyTo = headers.get('in-reply-to')?.[0];
  if (inReplyTo) facts.inReplyTo = inReplyTo;
  const references = headers.get('references')?.[0];
  if (references) facts.references = references;
  return facts;
}

/** All addresses of the given root headers (To/Cc for the CLI's default recipients). */
export function headerAddresses(headers: ReadonlyMap<string, string[]>, names: string[]): string[] {
  const found: string[] = [];
  for (const name of names) {
    for (const value of headers.get(name) ?? []) {
      for (const match of value.matchAll(/[^\s<>,;:"()]+@[^\s<>,;:"()]+/g))
        found.push(match[0].toLowerCase());
    }
  }
  return found;
}

/**
 * Envelope defaults read from a raw message's root header block: sender from From, recipients
 * from To and Cc. For tools (the CLI) that get a message without its SMTP envelope.
 */
export function envelopeFromHeaders(raw: Buffer): { sender?: string; recipients: string[] } {
  const end = /\r?\n\r?\n/.exec(raw.subarray(0, 1024 * 1024).toString('latin1'));
  const headers = new Headers(raw.subarray(0, end ? end.index + end[0].length : raw.length));
  const map = new Map<string, string[]>();
  for (const { key, line } of headers.getList()) {
    const value = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]/g, ' ');
    map.set(key, [...(map.get(key) ?? []), value]);
  }
  const sender = firstAddress(map.get('from')?.[0]);
  return { ...(sender ? { sender } : {}), recipients: headerAddresses(map, ['to', 'cc']) };
}
