/**
 * Invariants every signed message must satisfy, checked with parsers independent of the engine's
 * own decoding: mailsplit walks the raw structure, mailparser decodes content and attachments.
 * Shared by the corpus runner and the unit/property tests.
 */
import { createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { Splitter, type MimeNode, type SplitterChunk } from '@zone-eu/mailsplit';
import { simpleParser } from 'mailparser';
import {
  HTML_MARKER_CLASS,
  signMessage,
  type SignatureContent,
  type SignDecision,
} from '../../src/signing/index.js';

export const TEST_SIGNATURE: SignatureContent = {
  template: 'corpus-test',
  rule: 'corpus-test',
  html: '<p style="margin:0">--<br>Zoë Tester · Sigrelay QA<br>+1 555 0100</p>',
  text: '--\nZoë Tester · Sigrelay QA\n+1 555 0100',
  images: [],
  placement: 'underReply',
};

/** Signs a buffer, fed to the engine in chunks of `chunkSize` bytes to exercise streaming. */
export async function signBuffer(
  input: Buffer,
  content: SignatureContent,
  options: { chunkSize?: number; maxBytes?: number } = {},
): Promise<{ decision: SignDecision; output: Buffer }> {
  const chunkSize = options.chunkSize ?? 16 * 1024;
  const chunks: Buffer[] = [];
  for (let at = 0; at < input.length; at += chunkSize) chunks.push(input.subarray(at, at + chunkSize));
  const sink = new PassThrough();
  const received: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => received.push(chunk));
  const decision = await signMessage(
    Readable.from(chunks),
    sink,
    () => Promise.resolve({ action: 'sign', content }),
    {
      sender: 'sender@example.com',
      recipients: ['rcpt@example.org'],
      ...(options.maxBytes ? { maxBytes: options.maxBytes } : {}),
    },
  );
  return { decision, output: Buffer.concat(received) };
}

export interface WalkedNode {
  contentType: string;
  headers: Buffer;
  body: Buffer;
  /** A leaf a client may show as body text: text/plain or text/html, not an attachment, not in an attached message. */
  bodyCandidate: boolean;
  root: boolean;
}

function insideAttachedMessage(node: MimeNode): boolean {
  for (let parent = node.parentNode; parent; parent = parent.parentNode) if (parent.rfc822) return true;
  return false;
}

/** The raw structure: every node with its header bytes and body bytes, plus all boundary/preamble bytes. */
/** Structure bytes (preamble, delimiters, epilogue) and the index of the node they follow. */
export interface DataSegment {
  afterNode: number;
  bytes: Buffer;
}

export async function walk(message: Buffer): Promise<{ nodes: WalkedNode[]; data: DataSegment[] }> {
  const nodes: WalkedNode[] = [];
  const data: DataSegment[] = [];
  let body: Buffer[] = [];
  let current: WalkedNode | undefined;
  const closeNode = () => {
    if (!current) return;
    current.body = Buffer.concat(body);
    current = undefined;
    body = [];
  };
  const splitter = new Splitter();
  splitter.on('data', (chunk: SplitterChunk) => {
    if (chunk.type === 'body') {
      body.push(chunk.value);
      return;
    }
    closeNode();
    if (chunk.type === 'data') {
      data.push({ afterNode: nodes.length - 1, bytes: chunk.value });
      return;
    }
    const node = chunk as MimeNode;
    const type = node.contentType || '';
    current = {
      contentType: type,
      headers: node.getHeaders(),
      body: Buffer.alloc(0),
      bodyCandidate:
        (type === 'text/plain' || type === 'text/html') &&
        (!node.disposition || node.disposition === 'inline') &&
        !node.filename &&
        !insideAttachedMessage(node),
      root: node.root,
    };
    nodes.push(current);
  });
  const events = splitter as unknown as EventEmitter;
  await new Promise<void>((resolve, reject) => {
    events.on('end', resolve);
    events.on('error', reject);
    splitter.end(message);
  });
  closeNode();
  return { nodes, data };
}

/**
 * Delimiters, preamble and epilogue are identical, except that a delimiter glued to an empty
 * part's header block may gain the line ending it needs once that part has content.
 */
function sameStructureBytes(
  before: { nodes: WalkedNode[]; data: DataSegment[] },
  after: typeof before,
): boolean {
  if (before.data.length !== after.data.length) return false;
  return before.data.every((segment, i) => {
    const signed = after.data[i];
    if (!signed || signed.afterNode !== segment.afterNode) return false;
    if (signed.bytes.equals(segment.bytes)) return true;
    const node = before.nodes[segment.afterNode];
    const bodyChanged = !!node && !after.nodes[segment.afterNode]?.body.equals(node.body);
    const eol = signed.bytes[0] === 0x0d ? 2 : 1;
    return bodyChanged && signed.bytes.subarray(eol).equals(segment.bytes);
  });
}

function countOf(haystack: string, needle: string): number {
  if (!needle) return 0;
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) count++;
  return count;
}

function squash(value: string): string {
  return value.replace(/\s+/g, '');
}

/** Decodes one part on its own (its header block plus body) with mailparser. */
async function decodedPart(node: WalkedNode): Promise<string> {
  const parsed = await simpleParser(Buffer.concat([node.headers, node.body]), {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
  });
  return node.contentType === 'text/html'
    ? typeof parsed.html === 'string'
      ? parsed.html
      : ''
    : (parsed.text ?? '');
}

/** Exactly one signature added to the part, and nothing else about its decoded content changed. */
async function checkSignedPart(
  original: WalkedNode,
  signed: WalkedNode,
  content: SignatureContent,
): Promise<string[]> {
  const [before, after] = await Promise.all([decodedPart(original), decodedPart(signed)]);
  const html = original.contentType === 'text/html';
  const block = html
    ? squash(`<div class="${HTML_MARKER_CLASS}">${content.html}</div>`)
    : squash(content.text);
  // Only whitespace and the charset named in a <meta> tag may differ outside the signature.
  const normalise = (value: string) => squash(value).replace(/charset=["']?[\w.:-]+/gi, 'charset=');
  const added = countOf(squash(after), block) - countOf(squash(before), block);
  if (added !== 1) return [`${added} signatures added`];
  if (normalise(squash(after).replace(block, '')) !== normalise(before))
    return ['content changed beyond the signature'];
  const exact = html ? `<div class="${HTML_MARKER_CLASS}">${content.html}</div>` : content.text;
  if (!unchangedAround(before, after, exact))
    return ['content changed beyond the whitespace next to the signature'];
  return [];
}

/**
 * Byte-exact apart from the signature: the decoded text before and after it is the original's
 * own beginning and end; only whitespace next to the signature (the blank lines that set it
 * apart) may differ. Catches what the whitespace-blind comparison above cannot, such as a blank
 * line added at the top of a part.
 */
function unchangedAround(before: string, after: string, signature: string): boolean {
  const lf = (value: string) => value.replace(/\r\n/g, '\n').replace(/charset=["']?[\w.:-]+/gi, 'charset=');
  const [original, signed, inserted] = [lf(before), lf(after), lf(signature)];
  const at = signed.indexOf(inserted);
  if (at < 0) return true; // the signature was re-wrapped by the reader (flowed text): checked above
  const head = signed.slice(0, at).trimEnd();
  const tail = signed.slice(at + inserted.length).trimStart();
  return (
    original.startsWith(head) &&
    original.endsWith(tail) &&
    head.length + tail.length <= original.length &&
    original.slice(head.length, original.length - tail.length).trim() === ''
  );
}

/** Each signature image is embedded exactly once when the signed HTML refers to it, never otherwise. */
async function checkEmbeddedImages(output: Buffer, cids: Set<string>): Promise<string[]> {
  const parsed = await simpleParser(output, { keepCidLinks: true, skipTextToHtml: true });
  const html = typeof parsed.html === 'string' ? parsed.html : '';
  const problems: string[] = [];
  for (const cid of cids) {
    const embedded = parsed.attachments.filter((a) => a.cid === cid).length;
    const expected = html.includes(`cid:${cid}`) ? 1 : 0;
    if (embedded !== expected) problems.push(`image ${cid} embedded ${embedded} times, expected ${expected}`);
  }
  return problems;
}

function lineStats(message: Buffer): { long: number; eightBit: boolean } {
  let long = 0;
  let start = 0;
  for (let at = message.indexOf(0x0a); at >= 0; at = message.indexOf(0x0a, at + 1)) {
    if (at - start > 999) long++;
    start = at + 1;
  }
  if (message.length - start > 998) long++;
  return { long, eightBit: message.some((byte) => byte > 0x7f) };
}

async function attachmentDigests(message: Buffer, ignoreCids: Set<string>): Promise<string[]> {
  const parsed = await simpleParser(message, {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
  });
  return parsed.attachments
    .filter((a) => !(a.cid && ignoreCids.has(a.cid)))
    .map(
      (a) => `${a.contentType}|${a.filename ?? ''}|${createHash('sha256').update(a.content).digest('hex')}`,
    )
    .sort();
}

/** Returns every invariant the signed output breaks (empty when all hold). */
export async function checkSignedMessage(
  input: Buffer,
  output: Buffer,
  content: SignatureContent,
): Promise<string[]> {
  const problems: string[] = [];
  if (
    !/^(?:From [^\n]*\n)?X-Sigrelay-Processed: true\r?\n/.test(output.subarray(0, 2048).toString('latin1'))
  ) {
    problems.push('processed header missing at the top');
  }
  const ourCids = new Set(content.images.map((image) => image.cid));
  const [before, after] = await Promise.all([walk(input), walk(output)]);
  // Embedding images adds parts (and may wrap the HTML); then only attachments are compared.
  const restructured = content.images.length > 0 && after.nodes.length !== before.nodes.length;
  if (!restructured) {
    if (after.nodes.length !== before.nodes.length) problems.push('MIME structure changed');
    if (!sameStructureBytes(before, after)) problems.push('boundaries, preamble or epilogue changed');
    before.nodes.forEach((original, i) => {
      const signed = after.nodes[i];
      if (!signed || signed.contentType !== original.contentType) {
        problems.push(`part ${i} changed type`);
        return;
      }
      const bodyChanged = !signed.body.equals(original.body);
      if (bodyChanged && !original.bodyCandidate)
        problems.push(`non-body part ${i} (${original.contentType}) changed`);
      if (!signed.headers.equals(original.headers) && !bodyChanged && !original.root) {
        problems.push(`headers of part ${i} changed`);
      }
    });
  }
  const inStats = lineStats(input);
  const outStats = lineStats(output);
  if (outStats.long > inStats.long)
    problems.push(`new lines over 998 octets (${inStats.long} → ${outStats.long})`);
  if (outStats.eightBit && !inStats.eightBit) problems.push('raw 8-bit bytes introduced');

  const [inDigests, outDigests] = await Promise.all([
    attachmentDigests(input, new Set()),
    attachmentDigests(output, ourCids),
  ]);
  if (inDigests.join('\n') !== outDigests.join('\n')) problems.push('attachments differ');
  if (ourCids.size) problems.push(...(await checkEmbeddedImages(output, ourCids)));

  await simpleParser(output); // the whole output must parse
  if (!restructured) {
    let signedParts = 0;
    for (const [i, original] of before.nodes.entries()) {
      const signed = after.nodes[i];
      if (!signed || signed.body.equals(original.body) || !original.bodyCandidate) continue;
      signedParts++;
      problems.push(
        ...(await checkSignedPart(original, signed, content).then((p) => p.map((m) => `part ${i}: ${m}`))),
      );
    }
    if (signedParts === 0) problems.push('reported signed but no body part changed');
  }
  return problems;
}
