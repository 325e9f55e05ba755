/**
 * The labels of the real-world placement suite (`labels.json`): facts about the messages in
 * ../shared/replies (line numbers and short anchors), never the messages themselves.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import type { ReplyKind } from './detector.js';

export interface Anchors {
  /** 1-based line of the decoded body that must stand above the signature (0: none). */
  aboveLine: number;
  /** That line, trimmed, at most 60 characters: what a reader checks the number against. */
  above: string | null;
  /** 1-based first line of the quote that must stand below the signature; null = end of body. */
  belowLine: number | null;
  below: string | null;
}

export interface Label {
  file: string;
  /** git blob sha1 of the original fixture, from SOURCES.tsv. */
  blob: string;
  kind: ReplyKind;
  client: string;
  language: string;
  text?: Anchors;
  html?: Anchors;
  /**
   * The engine must deliver this file unchanged, for this reason (e.g. `undeclared-charset`: 8-bit
   * text with no charset, which the engine never guesses); judged instead of the placement.
   */
  leftAlone?: string;
  /** Why a reader could defend more than one place; such files never fail the run. */
  ambiguous?: string;
  /** `detector` when the reviewer kept the detector's proposal, otherwise what was corrected. */
  reviewed: string;
}

export const placementDir = path.dirname(fileURLToPath(import.meta.url));
/** The JSON lives beside the sources (test/placement), not in dist. */
export const sourceDir = path.resolve(placementDir, '..', '..', '..', 'test', 'placement');
export const labelsPath = path.join(sourceDir, 'labels.json');

export function readLabels(file = labelsPath): Label[] {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Label[];
}

export function readSources(dir: string): Map<string, string> {
  const blobs = new Map<string, string>();
  for (const line of fs.readFileSync(path.join(dir, 'SOURCES.tsv'), 'utf8').split('\n').slice(1)) {
    const [file, , , , blob] = line.split('\t');
    if (file && blob) blobs.set(file, blob);
  }
  return blobs;
}

export interface Bodies {
  text?: string;
  html?: string;
}

/** The decoded text and HTML bodies, read with mailparser (a reader, never the engine). */
export async function bodiesOf(raw: Buffer): Promise<Bodies> {
  const parsed = await simpleParser(raw, {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
  });
  const bodies: Bodies = {};
  // mailparser reports an empty text for an HTML-only message: that is no text body.
  if (typeof parsed.text === 'string' && parsed.text.trim() !== '') bodies.text = parsed.text;
  if (typeof parsed.html === 'string') bodies.html = parsed.html;
  return bodies;
}

export function snippet(line: string | undefined): string | null {
  if (line === undefined) return null;
  const trimmed = line.trim().replace(/\s+/gu, ' ');
  return trimmed.length > 60 ? trimmed.slice(0, 60) : trimmed;
}
