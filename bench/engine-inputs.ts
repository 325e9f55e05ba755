/**
 * The engine benchmark's messages, shared by bench/engine.ts and the same-process A/B
 * (bench/engine-ab.ts), so both sign the same bytes.
 */
import type { SignatureContent } from '../src/signing/index.js';
import { HOSTILE } from '../test/helpers/hostile-bodies.js';

export const SIGNATURE: SignatureContent = {
  template: 'bench',
  rule: 'bench',
  html: '<table><tr><td><b>Alice Martin</b><br>Head of Sales · Contoso<br>+44 20 7946 0958</td></tr></table>',
  text: '-- \nAlice Martin\nHead of Sales · Contoso\n+44 20 7946 0958',
  images: [],
  placement: 'underReply',
};

const REPLY_HEAD =
  '<html><body><div class="WordSection1"><p class="MsoNormal">Thanks, agreed.</p>\r\n' +
  '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">' +
  '<p class="MsoNormal"><b>From:</b> Bob<br><b>Sent:</b> Monday</p></div>\r\n';
const REPLY_TAIL = '</div></body></html>';
const quotedLine = (i: number) =>
  `<p class="MsoNormal">Earlier message line ${i}: quarterly figures, action items and notes.</p>\r\n`;

/** An Outlook-style reply whose quoted thread fills about `targetBytes`. */
export function replyHtml(targetBytes: number): string {
  const quoted: string[] = [];
  let size = 0;
  for (let i = 0; size < targetBytes; i++) {
    const p = quotedLine(i);
    quoted.push(p);
    size += p.length;
  }
  return REPLY_HEAD + quoted.join('') + REPLY_TAIL;
}

/**
 * The same reply, `length` characters of HTML in all (its last line padded with spaces): the
 * ordinary message is as long as the hostile ones it is compared with. At 1 KB a message's fixed
 * cost outweighs its bytes, so MB/s follows size: an ordinary reply a sixth longer read as a
 * sixth faster.
 */
function replyHtmlOfLength(length: number): string {
  const room = length - REPLY_HEAD.length - REPLY_TAIL.length;
  let quoted = '';
  for (let i = 0; quoted.length + quotedLine(i).length <= room; i++) quoted += quotedLine(i);
  return REPLY_HEAD + quoted.padEnd(room, ' ') + REPLY_TAIL;
}

const HOSTILE_OPEN = '<html><body><p>Thanks.</p>';
const HOSTILE_CLOSE = '</body></html>';

/**
 * A reply whose quoted thread is hostile (issue 19): the same bodies the ReDoS tests use, in the
 * HTML part, the text part or the From header. Each is signed like an ordinary reply, whose HTML
 * is as long as the hostile HTML bodies.
 */
export function hostileMessage(kind: HostileKind, size: number): string {
  const from = kind === 'long From' ? `${'a'.repeat(size)} <alice@contoso.com>` : 'alice@contoso.com';
  const build = HOSTILE_HTML[kind];
  const html = build
    ? `${HOSTILE_OPEN}${build(size)}${HOSTILE_CLOSE}`
    : replyHtmlOfLength(HOSTILE_OPEN.length + size + HOSTILE_CLOSE.length);
  const buildText = HOSTILE_TEXT[kind];
  const text = buildText ? `Thanks.\r\n\r\n${buildText(size)}` : 'Thanks.\r\n';
  return (
    `From: ${from}\r\nTo: bob@example.org\r\nSubject: RE: bench\r\nMIME-Version: 1.0\r\n` +
    'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n' +
    `--alt\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}\r\n` +
    `--alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${html}\r\n--alt--\r\n`
  );
}

function hostile(name: string): (size: number) => string {
  const build = HOSTILE[name];
  if (!build) throw new Error(`no hostile body named ${name}`);
  return build;
}

const HOSTILE_HTML: Partial<Record<HostileKind, (size: number) => string>> = {
  'unclosed <div class=x': hostile('unclosed div class'),
  '<<<<': hostile('less-than signs'),
  'long attribute value': hostile('long attribute value'),
  '<a><a><a>': hostile('empty tags'),
  '<br><br>': hostile('line breaks'),
  '<p></p>': hostile('empty paragraphs'),
  '<b><i> nesting': hostile('nested inline tags'),
  '<div> deep': hostile('deep divs'),
  'header lines (HTML)': hostile('header lines'),
  // Not hostile: the header-line bodies' shape (lines of 7 characters) with nothing a quote
  // detector looks for. Per line, the MIME splitter and the QP writer cost the same whatever the
  // line holds, so this is the reference the header-line rows are read against.
  'short lines (HTML)': (size) => 'Item 01\nItem 02\n'.repeat(Math.ceil(size / 16)),
};
/** Kinds whose hostile body is the text part (the HTML part is then an ordinary reply). */
const HOSTILE_TEXT: Partial<Record<HostileKind, (size: number) => string>> = {
  'deep > lines': hostile('deep quote lines'),
  'header lines (text)': hostile('header lines crlf'),
  'short lines (text)': (size) => 'Item 01\r\nItem 02\r\n'.repeat(Math.ceil(size / 18)),
};
export const HOSTILE_KINDS = [
  'ordinary',
  'unclosed <div class=x',
  '<<<<',
  'long attribute value',
  'deep > lines',
  'long From',
  '<a><a><a>',
  '<br><br>',
  '<p></p>',
  '<b><i> nesting',
  '<div> deep',
  'short lines (HTML)',
  'header lines (HTML)',
  'short lines (text)',
  'header lines (text)',
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

function base64Lines(size: number): string {
  const raw = Buffer.alloc(Math.ceil((size * 3) / 4));
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
  return (raw.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

/** The message of `bench:engine`: a reply (text + HTML of `htmlBytes`) with base64 attachments. */
export function benchMessage(htmlBytes: number, attachmentBytes: number[]): string {
  const parts = [
    'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThanks, agreed.\r\n\r\nFrom: Bob\r\nSent: Monday\r\n\r\nolder text\r\n' +
      `--alt\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n${replyHtml(htmlBytes)}\r\n--alt--`,
    ...attachmentBytes.map(
      (size, i) =>
        `Content-Type: application/octet-stream; name="file${i}.bin"\r\nContent-Disposition: attachment; filename="file${i}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64Lines(size)}`,
    ),
  ];
  const headers =
    'From: alice@contoso.com\r\nTo: bob@example.org\r\nSubject: RE: bench\r\nMIME-Version: 1.0\r\n';
  if (attachmentBytes.length === 0) return headers + parts[0] + '\r\n';
  return `${headers}Content-Type: multipart/mixed; boundary="mix"\r\n\r\n${parts.map((p) => `--mix\r\n${p}\r\n`).join('')}--mix--\r\n`;
}
