import fs from 'node:fs/promises';
import path from 'node:path';
import * as prettier from 'prettier';
import { projectRoot } from '../src/config/index.js';

/**
 * Rewrites the `<!-- bench:NAME -->` section of docs/benchmarks.md, leaving the others alone. The
 * docs are prettier-checked in CI, so the file is written formatted the way prettier wants it.
 */
export async function writeBenchmarkSection(name: string, markdown: string): Promise<void> {
  const file = path.join(projectRoot, 'docs', 'benchmarks.md');
  const text = await fs.readFile(file, 'utf8').catch(() => '# Benchmarks\n');
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  const i = text.indexOf(start);
  const j = text.indexOf(end);
  const next =
    i >= 0 && j > i
      ? text.slice(0, i) + block + text.slice(j + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  const options = (await prettier.resolveConfig(file)) ?? {};
  await fs.writeFile(file, await prettier.format(next, { ...options, filepath: file }));
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx] ?? NaN;
}
