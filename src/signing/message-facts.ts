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

/**
 * Address-shaped words of a header value: runs without space or the header punctuation that
 * holds an `@` with something on both sides. Split first, then tested, so the work is linear
 * whatever the value (a pattern retried at every offset of a 255 KB From is quadratic).
 */
function bareAddresses(value: string): string[] {
  return value.split(/[\s<>,;:"()]+/).filter((word) => word.slice(1, -1).includes('@'));
}

/** `<local@domain>` with no space, `<` or `>` inside and an `@`-free local part. */
function angleAddress(value: string): string | undefined {
  let close = -1;
  for (let open = value.indexOf('<'); open >= 0; open = value.indexOf('<', open + 1)) {
    // One `>` serves every `<` before it: searching again per `<` would be quadratic.
    if (close <= open) close = value.indexOf('>', open + 1);
    if (close < 0) return undefined;
    const next = value.indexOf('<', open + 1);
    if (next >= 0 && next < close) continue;
    const inside = value.slice(open + 1, close);
    const at = inside.indexOf('@');
    if (at > 0 && at < inside.length - 1 && !/\s/.test(inside)) return inside;
  }
  return undefined;
}

function firstAddress(value: string | undefined): string | undefined {
  if (!value) return undefined;
  return (angleAddress(value) ?? bareAddresses(value)[0])?.toLowerCase();
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
      for (const address of bareAddresses(value)) found.push(address.toLowerCase());
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
