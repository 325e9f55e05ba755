/**
 * The real-world placement suite: signs every labelled file of the replies directory with the
 * engine exactly as `sigrelay sign --config config/contoso` does, finds the contoso signature in
 * the signed text and HTML bodies and checks it stands between the label's anchors. Prints a score
 * per client family and language and every misplaced file with where its signature landed.
 *
 * Usage: node dist/test/placement/run-placement.js <replies dir>
 *          [--baseline test/placement/known-failures.txt] [--write-baseline]
 *
 * Exit 1 when a non-ambiguous label is misplaced and not in the baseline, or when a file in the
 * baseline now passes (remove it: the list can only shrink). Exit 2 when the run cannot start.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadContent } from '../../src/content/index.js';
import { envelopeFromHeaders, type ResolveSignature } from '../../src/signing/index.js';
import { htmlToLines } from './detector.js';
import {
  configDir,
  judge,
  linesAboveSignature,
  repoRoot,
  sign,
  signatureStartOf,
  textLines,
  type PartResult,
} from './judge.js';
import { bodiesOf, readLabels, type Anchors, type Label } from './labels.js';
import { signBuffer, TEST_SIGNATURE } from '../corpus/invariants.js';
import { runMain } from '../helpers/run-main.js';

interface Outcome {
  label: Label;
  ok: boolean;
  detail: string;
  /** For a message with a text and an HTML body: whether both signatures follow the same line. */
  twinsAgree?: boolean;
}

/** Letters and digits only: text wraps and HTML does not, and entities and spacing differ. */
const bare = (line: string) => line.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/**
 * Whether the text and HTML signatures follow the same line of the message: the same line's end
 * (its last 20 letters and digits, as text wraps long lines) stands in the other's line above.
 */
function sameBoundary(text: string, html: string): boolean {
  const [a, b] = [bare(text), bare(html)];
  if (!a || !b) return a === b;
  return b.includes(a.slice(-20)) || a.includes(b.slice(-20));
}

async function check(dir: string, label: Label, resolve: ResolveSignature): Promise<Outcome> {
  const raw = fs.readFileSync(path.join(dir, label.file));
  const { decision, output } = await sign(raw, resolve);
  if (label.leftAlone !== undefined || decision.action !== 'signed') {
    const ok = decision.action === 'skipped' && decision.reason === label.leftAlone;
    const want = label.leftAlone === undefined ? 'want it signed' : `want skipped: ${label.leftAlone}`;
    return { label, ok, detail: `${decision.action}: ${decision.reason}; ${want}` };
  }
  const before = await bodiesOf(raw);
  const after = await bodiesOf(output);
  const start = signatureStartOf(envelopeFromHeaders(raw).sender ?? '');
  const results: PartResult[] = [];
  if (label.text && before.text !== undefined)
    results.push(judge('text', textLines(before.text), textLines(after.text ?? ''), label.text, start));
  if (label.html && before.html !== undefined)
    results.push(
      judge(
        'html',
        textLines(htmlToLines(before.html)),
        textLines(htmlToLines(after.html ?? '')),
        label.html,
        start,
      ),
    );
  const bad = results.filter((r) => !r.ok);
  const [textPart, htmlPart] = [
    results.find((r) => r.part === 'text'),
    results.find((r) => r.part === 'html'),
  ];
  const twinsAgree =
    textPart?.lineAbove !== undefined && htmlPart?.lineAbove !== undefined
      ? sameBoundary(textPart.lineAbove, htmlPart.lineAbove)
      : undefined;
  const expected = (a: Anchors | undefined) =>
    a
      ? `want after ${a.aboveLine} "${a.above ?? ''}" and ${a.belowLine === null ? 'at the end' : `before ${a.belowLine} "${a.below ?? ''}"`}`
      : '';
  return {
    label,
    ok: results.length > 0 && bad.length === 0,
    detail: bad.map((r) => `${r.part} ${r.landed}; ${expected(label[r.part])}`).join(' | ') || 'no body',
    ...(twinsAgree === undefined ? {} : { twinsAgree }),
  };
}

interface Score {
  right: number;
  total: number;
  ambiguous: number;
}

function tally(scores: Map<string, Score>, key: string, outcome: Outcome) {
  const score = scores.get(key) ?? { right: 0, total: 0, ambiguous: 0 };
  if (outcome.label.ambiguous) score.ambiguous++;
  else {
    score.total++;
    if (outcome.ok) score.right++;
  }
  scores.set(key, score);
}

function printScores(title: string, scores: Map<string, Score>) {
  console.log(
    `\n${title.padEnd(18)} ${'right'.padStart(5)} ${'of'.padStart(4)} ${'score'.padStart(6)} ${'ambig.'.padStart(6)}`,
  );
  for (const [key, s] of [...scores].sort(([a], [b]) => a.localeCompare(b))) {
    const pct = s.total ? `${((100 * s.right) / s.total).toFixed(0)} %` : '-';
    console.log(
      `${key.padEnd(18)} ${String(s.right).padStart(5)} ${String(s.total).padStart(4)} ${pct.padStart(6)} ${String(s.ambiguous).padStart(6)}`,
    );
  }
}

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

/** The lines of a list file, comment lines (`#` first: file names may hold one) and blank lines dropped. */
function listed(file: string): string[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
}

/**
 * Text and HTML twins, unlabelled: every message of `dir` with both bodies is signed with the
 * corpus test signature, and the line above the signature compared in the two bodies. No label
 * is needed, only the promise that both bodies get it under the same line.
 */
async function twinsApart(dir: string): Promise<{ twins: number; apart: string[] }> {
  const start = /^\s*Zoë Tester\b/u;
  const apart: string[] = [];
  let twins = 0;
  const files = fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.eml'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
  for (const file of files) {
    const raw = fs.readFileSync(file);
    const { decision, output } = await signBuffer(raw, TEST_SIGNATURE);
    if (decision.action !== 'signed') continue;
    const [before, after] = [await bodiesOf(raw), await bodiesOf(output)];
    if (before.text === undefined || before.html === undefined) continue;
    const text = [textLines(before.text), textLines(after.text ?? '')] as const;
    const html = [textLines(htmlToLines(before.html)), textLines(htmlToLines(after.html ?? ''))] as const;
    const [textAbove, htmlAbove] = [linesAboveSignature(text[1], start), linesAboveSignature(html[1], start)];
    if (textAbove === null || htmlAbove === null) continue;
    twins++;
    const line = (lines: readonly string[], above: number) => (above === 0 ? '' : (lines[above - 1] ?? ''));
    if (!sameBoundary(line(text[0], textAbove), line(html[0], htmlAbove)))
      apart.push(path.relative(dir, file));
  }
  return { twins, apart };
}

async function main(): Promise<number> {
  const dir = path.resolve(process.argv[2] ?? path.join(repoRoot, '..', 'shared', 'replies'));
  const baselinePath = option('--baseline');
  const baseline = new Set(
    baselinePath && fs.existsSync(baselinePath)
      ? fs
          .readFileSync(baselinePath, 'utf8')
          .split('\n')
          .map((line) => line.replace(/#.*/u, '').trim())
          .filter(Boolean)
      : [],
  );
  const resolve = (await loadContent(configDir)).resolve;
  const outcomes: Outcome[] = [];
  for (const label of readLabels()) {
    if (!fs.existsSync(path.join(dir, label.file))) {
      console.log(`MISSING ${label.file}`);
      continue;
    }
    outcomes.push(await check(dir, label, resolve));
  }
  const byFamily = new Map<string, Score>();
  const byLanguage = new Map<string, Score>();
  const byKind = new Map<string, Score>();
  for (const outcome of outcomes) {
    tally(byFamily, outcome.label.client, outcome);
    tally(byLanguage, outcome.label.language, outcome);
    tally(byKind, outcome.label.kind, outcome);
  }
  printScores('client family', byFamily);
  printScores('language', byLanguage);
  printScores('kind', byKind);

  const judged = outcomes.filter((o) => !o.label.ambiguous);
  const right = judged.filter((o) => o.ok).length;
  console.log(
    `\n${right} of ${judged.length} placed right (${((100 * right) / Math.max(judged.length, 1)).toFixed(1)} %), ${outcomes.length - judged.length} ambiguous\n`,
  );

  const twins = outcomes.filter((o) => o.twinsAgree !== undefined);
  const apart = twins.filter((o) => !o.twinsAgree).map((o) => o.label.file);
  console.log(
    `labelled replies, text and HTML twins: ${twins.length - apart.length} of ${twins.length} agree`,
  );
  const twinDir = path.resolve(option('--twins') ?? path.join(repoRoot, '..', 'shared', 'corpus'));
  if (fs.existsSync(twinDir)) {
    const corpus = await twinsApart(twinDir);
    console.log(
      `${twinDir}, text and HTML twins: ${corpus.twins - corpus.apart.length} of ${corpus.twins} agree`,
    );
    apart.push(...corpus.apart);
  }
  const twinsPath = option('--twins-baseline');
  const knownApart = new Set(twinsPath && fs.existsSync(twinsPath) ? listed(twinsPath) : []);

  let failures = 0;
  for (const file of apart) {
    const known = knownApart.has(file);
    if (!known) failures++;
    console.log(`${known ? 'TWINS' : 'TWINS NEW'} ${file}: text and HTML signatures follow different lines`);
  }
  for (const file of [...knownApart].filter((f) => !apart.includes(f))) {
    failures++;
    console.log(`TWINS FIXED ${file} agrees now: remove it from ${twinsPath ?? 'the twins baseline'}`);
  }
  for (const o of outcomes.filter((x) => !x.ok)) {
    const tag = o.label.ambiguous ? 'AMBIGUOUS' : baseline.has(o.label.file) ? 'KNOWN' : 'MISPLACED';
    if (tag === 'MISPLACED') failures++;
    console.log(
      `${tag.padEnd(9)} ${o.label.file} [${o.label.client}/${o.label.language}/${o.label.kind}] ${o.detail}`,
    );
  }
  const rewriting = process.argv.includes('--write-baseline');
  for (const o of outcomes.filter((x) => !rewriting && x.ok && baseline.has(x.label.file))) {
    failures++;
    console.log(`FIXED     ${o.label.file} now passes: remove it from ${baselinePath ?? 'the baseline'}`);
  }
  if (process.argv.includes('--write-baseline') && baselinePath) {
    const failing = outcomes.filter((o) => !o.ok && !o.label.ambiguous).map((o) => o.label.file);
    fs.writeFileSync(
      baselinePath,
      `# Files the current engine places wrong (npm run test:placement). Only ever remove lines.\n${failing.join('\n')}\n`,
    );
    console.log(`wrote ${failing.length} files to ${baselinePath}`);
    return 0;
  }
  return failures ? 1 : 0;
}

runMain(main);
