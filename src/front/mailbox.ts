import net from 'node:net';

/**
 * RFC 5321 `Mailbox` (with RFC 6531's UTF-8 extension), the one grammar an envelope address must
 * match before the front says 250 to it. The return leg hands the same string to Exchange Online
 * unchanged, so whatever passes here is exactly what the endpoint is asked to deliver to; anything
 * a header parser would read differently (`a,b@x`, `ceo(x)victim@x`, `mallory(@x`) fails here.
 *
 * Every pattern below is a single character class, or one repeated class separated by a character
 * that class excludes: each matches in linear time on any input.
 */

/** RFC 5321 `atext` (RFC 5322 §3.2.3), ASCII only. */
const atom = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/;
/** RFC 5321 `qtextSMTP` and the character after a backslash in `quoted-pairSMTP`. */
const qtext = /^[\x20\x21\x23-\x5b\x5d-\x7e]$/;
const quotable = /^[\x20-\x7e]$/;
/** RFC 5321 `sub-domain` in its A-label form: letters, digits, inner hyphens, at most 63. */
const label = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const ipv4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
/** U+FFFD is what Node's UTF-8 decoding makes of bytes that are not UTF-8. */
const replacementCharacter = '\ufffd';

export interface MailboxOptions {
  /** The client declared SMTPUTF8 on MAIL FROM (RFC 6531): UTF-8 local parts and U-labels allowed. */
  utf8: boolean;
}

/**
 * What is wrong with an address: `syntax` (not a Mailbox at all: 501) or `not-allowed` (a Mailbox,
 * but not one this transaction may use: 553).
 */
export interface MailboxProblem {
  kind: 'syntax' | 'not-allowed';
  why: string;
}

/**
 * Why `address` is not an RFC 5321 Mailbox, or undefined when it is one. Lengths follow RFC 5321
 * §4.5.3.1: local part 64 octets, the whole path 256 (254 without its angle brackets).
 */
export function mailboxProblem(address: string, options: MailboxOptions): MailboxProblem | undefined {
  const syntax = (why: string): MailboxProblem => ({ kind: 'syntax', why });
  if (address.includes(replacementCharacter)) return syntax('the address is not valid UTF-8');
  if (/[\x00-\x1f\x7f]/.test(address)) return syntax('control characters are not allowed in an address');
  if (Buffer.byteLength(address, 'utf8') > 254)
    return { kind: 'not-allowed', why: 'the address is longer than 254 octets' };
  const at = address.lastIndexOf('@');
  if (at < 1) return syntax('an address needs a local part, "@" and a domain');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  // Only the local part: smtp-server has already turned an A-label domain (xn--…) into Unicode.
  if (!options.utf8 && /[^\x00-\x7f]/.test(local))
    return { kind: 'not-allowed', why: 'a non-ASCII local part needs SMTPUTF8 on MAIL FROM' };
  if (Buffer.byteLength(local, 'utf8') > 64)
    return { kind: 'not-allowed', why: 'the local part is longer than 64 octets' };
  const problem = local.startsWith('"') ? quotedStringProblem(local) : dotStringProblem(local, options);
  const domainIssue = domain.startsWith('[') ? addressLiteralProblem(domain) : domainProblem(domain);
  const why = problem ?? domainIssue;
  return why ? syntax(why) : undefined;
}

function dotStringProblem(local: string, options: MailboxOptions): string | undefined {
  for (const part of local.split('.')) {
    if (part === '')
      return 'the local part has an empty dot-separated atom (leading, trailing or double dot)';
    if (!isAtom(part, options))
      return 'the local part has characters an unquoted local part may not have (RFC 5321 atext)';
  }
  return undefined;
}

function isAtom(part: string, options: MailboxOptions): boolean {
  if (atom.test(part)) return true;
  if (!options.utf8) return false;
  for (const ch of part) if (ch.charCodeAt(0) < 0x80 && !atom.test(ch)) return false;
  return true;
}

function quotedStringProblem(local: string): string | undefined {
  if (local.length < 2 || !local.endsWith('"')) return 'the quoted local part is not closed';
  const inner = [...local.slice(1, -1)];
  for (let i = 0; i < inner.length; i++) {
    const ch = inner[i] ?? '';
    if (ch === '\\') {
      const next = inner[++i];
      if (next === undefined || !quotable.test(next))
        return 'a backslash in the quoted local part escapes nothing';
    } else if (ch.charCodeAt(0) < 0x80 && !qtext.test(ch)) {
      return 'the quoted local part has an unescaped quote or backslash';
    }
  }
  return undefined;
}

function domainProblem(domain: string): string | undefined {
  if (domain === '') return 'the domain is empty';
  for (const part of domain.split('.')) {
    if (label.test(part)) continue;
    if (part !== '' && /[^\x00-\x7f]/.test(part) && uLabel(part)) continue;
    return 'the domain is not a host name (letters, digits and inner hyphens between dots)';
  }
  return undefined;
}

/** A U-label: its ASCII characters are letters, digits or inner hyphens (IDNA decides the rest). */
function uLabel(part: string): boolean {
  if (part.startsWith('-') || part.endsWith('-')) return false;
  for (const ch of part) if (ch.charCodeAt(0) < 0x80 && !/^[A-Za-z0-9-]$/.test(ch)) return false;
  return true;
}

function addressLiteralProblem(domain: string): string | undefined {
  if (!domain.endsWith(']')) return 'the address literal is not closed';
  const inner = domain.slice(1, -1);
  if (ipv4.test(inner)) return undefined;
  // ABNF literals are case-insensitive, and the front has lower-cased the address.
  if (inner.slice(0, 5).toLowerCase() === 'ipv6:' && net.isIPv6(inner.slice(5))) return undefined;
  return 'the address literal is neither an IPv4 nor an IPv6: address';
}
