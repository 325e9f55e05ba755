/**
 * How the placement suites judge a signed message: sign it with the engine exactly as `sigrelay
 * sign --config config/contoso` does, find the contoso signature in the signed text and HTML bodies
 * and check it stands between a label's anchors. Shared by the labelled suite (run-placement.ts)
 * and the held-out probe (probe.ts) so both measure the same thing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { envelopeFromHeaders, signMessage, type ResolveSignature } from '../../src/signing/index.js';
import { sourceDir, type Anchors } from './labels.js';

export const repoRoot = path.resolve(sourceDir, '..', '..');
export const configDir = path.join(repoRoot, 'config', 'contoso');

/** Every variant of the contoso signature opens with the sender's display name from the directory. */
export function signatureStartOf(sender: string): RegExp {
  const users = JSON.parse(fs.readFileSync(path.join(configDir, 'users.json'), 'utf8')) as {
    mail: string;
    displayName: string;
  }[];
  const user = users.find((u) => u.mail.toLowerCase() === sender.toLowerCase());
  if (!user) throw new Error(`${sender} is not a user of ${configDir}`);
  return new RegExp(`^\\s*${user.displayName.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&')}\\b`, 'u');
}

// Zero-width and direction marks show nothing: a line of them is blank.
const isBlank = (line: string | undefined) =>
  (line ?? '').replace(/[\s\u200b-\u200f\u2060\ufeff]/gu, '') === '';

export async function sign(raw: Buffer, resolve: ResolveSignature) {
  const defaults = envelopeFromHeaders(raw);
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  const decision = await signMessage(Readable.from([raw]), sink, resolve, {
    sender: defaults.sender ?? '',
    recipients: defaults.recipients,
  });
  return { decision, output: Buffer.concat(chunks) };
}

/**
 * How many lines of the original body stand above the signature: the signed body up to the
 * signature's first line (and the `-- ` delimiter above it), trailing blank lines dropped. The
 * engine only inserts, so those lines are the original's first lines.
 */
export function linesAboveSignature(lines: string[], start: RegExp): number | null {
  const first = lines.findIndex((line) => start.test(line));
  if (first < 0) return null;
  let end = first;
  if (end > 0 && (lines[end - 1] ?? '').trim() === '--') end--;
  while (end > 0 && isBlank(lines[end - 1])) end--;
  return end;
}

function lastTextLine(lines: string[]): number {
  for (let i = lines.length - 1; i >= 0; i--) if (!isBlank(lines[i])) return i + 1;
  return 0;
}

export interface PartResult {
  part: 'text' | 'html';
  ok: boolean;
  landed: string;
  /** The original line right above the signature ('' at the top), to compare the twins. */
  lineAbove?: string;
}

export function judge(
  part: 'text' | 'html',
  original: string[],
  signed: string[],
  anchors: Anchors,
  start: RegExp,
): PartResult {
  const above = linesAboveSignature(signed, start);
  if (above === null) return { part, ok: false, landed: 'no signature found' };
  const where =
    above === 0 ? 'at the top' : `after line ${above}: "${(original[above - 1] ?? '').trim().slice(0, 60)}"`;
  const floor =
    anchors.belowLine === null ? Math.max(anchors.aboveLine, lastTextLine(original)) : anchors.aboveLine;
  const ok = above >= floor && (anchors.belowLine === null || above < anchors.belowLine);
  return { part, ok, landed: where, lineAbove: above === 0 ? '' : (original[above - 1] ?? '') };
}

export const textLines = (body: string) => body.split(/\r?\n/u);
