/**
 * Proposes a label for every file of the replies directory with the independent detector, for a
 * person to review by eye. Labels already in labels.json win (they carry the review); only files
 * without one get the detector's proposal, marked `reviewed: "pending"`.
 *
 * Usage: node dist/test/placement/propose-labels.js <replies dir> [--print]
 *   --print  also prints each body with the proposed boundary drawn in, for the review.
 */
import fs from 'node:fs';
import path from 'node:path';
import { detectText, htmlToLines, type Boundary } from './detector.js';
import {
  bodiesOf,
  labelsPath,
  readLabels,
  readSources,
  snippet,
  type Anchors,
  type Label,
} from './labels.js';
import { runMain } from '../helpers/run-main.js';

function anchors(body: string, b: Boundary): Anchors {
  const lines = body.split(/\r?\n/u);
  return {
    aboveLine: b.aboveLine,
    above: b.aboveLine ? snippet(lines[b.aboveLine - 1]) : null,
    belowLine: b.belowLine,
    below: b.belowLine ? snippet(lines[b.belowLine - 1]) : null,
  };
}

/** What `/^on .*\d{4}.*(?:at )?\d{1,2}:\d{2}/iu` matched: a year, then a time, on the first line. */
function yearThenTime(marker: string): boolean {
  const line = /^on [^\n\r\u2028\u2029]*/iu.exec(marker)?.[0] ?? '';
  const year = /\d{4}/u.exec(line);
  return !!year && /\d:\d{2}/u.test(line.slice(year.index + 4));
}

/** The client whose shape the quote has; the fixture's source repository says nothing about it. */
export function guessClient(body: string, b: Boundary): string {
  const m = b.marker ?? '';
  if (b.kind === 'new') return /sent from my (?:iphone|ipad)/iu.test(body) ? 'apple-mail' : 'new-message';
  if (/^-{2,}\s*on\b.*--$/iu.test(m)) return 'zoho';
  if (/^-{20,}$/u.test(m) && /^\*\S[^*]*\*\s*:?/mu.test(body)) return 'outlook-mobile';
  if (/^\*(?:from|van|von|de|da|fra|från|od)\*?:/iu.test(m)) return 'outlook-mobile';
  if (/original message|oprindelig|ursprüngliche|message d'origine|mensaje original|_{20,}/iu.test(m))
    return 'outlook-desktop';
  if (/^(?:from|de|von|van|da|fra|från|od|от)\s*:/iu.test(m)) return 'outlook-desktop';
  if (/^on .*, at .*wrote:?$/iu.test(m) || /sent from my (?:iphone|ipad)/iu.test(body)) return 'apple-mail';
  if (/^on (?:mon|tue|wed|thu|fri|sat|sun)\w*, \w+ \d+, \d{4},? (?:at )?\d/iu.test(m)) return 'gmail';
  if (yearThenTime(m) && /</u.test(body)) return 'gmail';
  if (/^(?:am|le|el|il|em|op|den)\b/iu.test(m) || /^\d{4}[-年]/u.test(m)) return 'gmail';
  if (/^on\b/iu.test(m)) return 'thunderbird';
  if (/^>/u.test(m)) return 'generic-quote';
  return 'other';
}

const LANGUAGE_WORDS: [string, RegExp][] = [
  ['ja', /[\u3040-\u30ff]/u],
  ['zh', /[\u4e00-\u9fff]/u],
  ['ko', /[\uac00-\ud7af]/u],
  ['ru', /[\u0400-\u04ff]/u],
  ['el', /[\u0370-\u03ff]/u],
  ['da', /\b(?:hej|tak|venlig|hilsen|skrev|sendt|emne)\b/iu],
  ['sv', /\b(?:hälsning|skrev|ämne|och|inte|jag)\b/iu],
  ['nb', /\b(?:hilsen|skrev|ikke|jeg|og)\b/iu],
  ['de', /\b(?:und|nicht|ich|schrieb|gesendet|betreff|grüße|danke)\b/iu],
  ['fr', /\b(?:bonjour|merci|écrit|envoyé|objet|je|vous|cordialement)\b/iu],
  ['es', /\b(?:hola|gracias|escribió|enviado|asunto|saludos)\b/iu],
  ['it', /\b(?:ciao|grazie|scritto|inviato|oggetto)\b/iu],
  ['pt', /\b(?:olá|obrigad[oa]|escreveu|assunto)\b/iu],
  ['nl', /\b(?:hallo|bedankt|schreef|verzonden|onderwerp|met vriendelijke)\b/iu],
  ['pl', /\b(?:dzień|dziękuję|napisał|wysłano|temat|pozdrawiam)\b/iu],
  ['fi', /\b(?:kirjoitti|kiitos|terveisin)\b/iu],
  ['hu', /\b(?:írta|köszönöm|üdvözlettel)\b/iu],
  ['tr', /\b(?:yazdı|teşekkürler|merhaba)\b/iu],
  ['cs', /\b(?:napsal|děkuji|dobrý den)\b/iu],
];

export function guessLanguage(body: string): string {
  for (const [tag, pattern] of LANGUAGE_WORDS) if (pattern.test(body)) return tag;
  return 'en';
}

function draw(body: string, a: Anchors): string {
  return body
    .split(/\r?\n/u)
    .map((line, i) => {
      const n = i + 1;
      const mark = n === a.aboveLine ? 'A' : n === a.belowLine ? 'B' : ' ';
      return `${String(n).padStart(3)}${mark}| ${line}`;
    })
    .join('\n');
}

async function main(): Promise<number> {
  const dir = path.resolve(process.argv[2] ?? '../shared/replies');
  const print = process.argv.includes('--print');
  const blobs = readSources(dir);
  const existing = new Map(
    (fs.existsSync(labelsPath) ? readLabels() : []).map((label) => [label.file, label] as const),
  );
  const labels: Label[] = [];
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.eml'))
    .sort()) {
    const bodies = await bodiesOf(fs.readFileSync(path.join(dir, file)));
    const main = bodies.text ?? htmlToLines(bodies.html ?? '');
    const boundary = detectText(main);
    const label: Label = existing.get(file) ?? {
      file,
      blob: blobs.get(file) ?? '',
      kind: boundary.kind,
      client: guessClient(main, boundary),
      language: guessLanguage(main),
      reviewed: 'pending',
    };
    if (!existing.has(file)) {
      if (bodies.text !== undefined) label.text = anchors(bodies.text, boundary);
      if (bodies.html !== undefined) {
        const lines = htmlToLines(bodies.html);
        label.html = anchors(lines, detectText(lines));
      }
    }
    labels.push(label);
    if (print) {
      console.log(`\n==== ${file}  kind=${label.kind} client=${label.client} lang=${label.language}`);
      if (bodies.text !== undefined && label.text) console.log(draw(bodies.text, label.text));
      if (bodies.html !== undefined && label.html)
        console.log(`---- html\n${draw(htmlToLines(bodies.html), label.html)}`);
    }
  }
  fs.writeFileSync(labelsPath, `${JSON.stringify(labels, null, 2)}\n`);
  console.error(`${labels.length} labels in ${labelsPath} (${labels.length - existing.size} new)`);
  return 0;
}

runMain(main);
