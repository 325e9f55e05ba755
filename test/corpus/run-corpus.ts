/**
 * Runs the engine over every file of a directory and checks the invariants the product promises:
 * no crash, no lost or altered attachment, no new MIME defect, at most one signature per body
 * part, headers untouched but for ours. Prints a summary per category (from MANIFEST.tsv when the
 * directory has one) and exits non-zero on any violation.
 *
 * Usage: node dist/test/corpus/run-corpus.js [dir]   (default: ../shared/corpus from the repo)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSignedMessage, signBuffer, TEST_SIGNATURE } from './invariants.js';
import { runMain } from '../helpers/run-main.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => !/^(?:MANIFEST\.tsv|README\.md|REPORT\.md)$/.test(path.basename(file)))
    .sort();
}

function readManifest(dir: string): Map<string, string[]> {
  const categories = new Map<string, string[]>();
  const manifest = path.join(dir, 'MANIFEST.tsv');
  if (!fs.existsSync(manifest)) return categories;
  for (const line of fs.readFileSync(manifest, 'utf8').split('\n').slice(1)) {
    const [file, , , , category] = line.split('\t');
    if (file && category) categories.set(file, category.split(';').filter(Boolean));
  }
  return categories;
}

interface Tally {
  files: number;
  signed: number;
  skipped: number;
  failed: number;
  violations: number;
}

async function main(): Promise<number> {
  const dir = path.resolve(process.argv[2] ?? path.join(repoRoot, '..', 'shared', 'corpus'));
  const manifest = readManifest(dir);
  const files = listFiles(dir);
  const byCategory = new Map<string, Tally>();
  const reasons = new Map<string, number>();
  const violations: string[] = [];
  for (const file of files) {
    const relative = path.relative(dir, file);
    const input = fs.readFileSync(file);
    let action = 'crash';
    let problems: string[];
    try {
      const { decision, output } = await signBuffer(input, TEST_SIGNATURE);
      action = decision.action;
      reasons.set(
        `${decision.action}:${decision.reason}`,
        (reasons.get(`${decision.action}:${decision.reason}`) ?? 0) + 1,
      );
      problems = decision.action === 'signed' ? await checkSignedMessage(input, output, TEST_SIGNATURE) : [];
    } catch (err) {
      problems = [`crash: ${err instanceof Error ? err.message : String(err)}`];
    }
    for (const problem of problems) violations.push(`${relative}: ${problem}`);
    for (const category of manifest.get(relative) ?? ['(uncategorised)']) {
      const tally = byCategory.get(category) ?? { files: 0, signed: 0, skipped: 0, failed: 0, violations: 0 };
      tally.files++;
      if (action === 'signed' || action === 'skipped' || action === 'failed') tally[action]++;
      if (problems.length) tally.violations++;
      byCategory.set(category, tally);
    }
  }
  console.log(
    `${'category'.padEnd(34)} ${'files'.padStart(5)} ${'signed'.padStart(6)} ${'skipped'.padStart(7)} ${'failed'.padStart(6)} ${'bad'.padStart(4)}`,
  );
  for (const [category, t] of [...byCategory].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(
      `${category.padEnd(34)} ${String(t.files).padStart(5)} ${String(t.signed).padStart(6)} ${String(t.skipped).padStart(7)} ${String(t.failed).padStart(6)} ${String(t.violations).padStart(4)}`,
    );
  }
  console.log('\ndecisions:');
  for (const [reason, count] of [...reasons].sort((a, b) => b[1] - a[1]))
    console.log(`  ${String(count).padStart(4)}  ${reason}`);
  console.log(`\n${files.length} files, ${violations.length} violations`);
  for (const violation of violations) console.log(`VIOLATION ${violation}`);
  return violations.length ? 1 : 0;
}

runMain(main);
