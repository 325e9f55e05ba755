import type { z } from 'zod';

/**
 * A configuration problem, always naming the file and the field (JSON path or template line), so an
 * admin can fix it without reading code. The CLI exits 2 on it; services keep their last good config.
 */
export class ConfigError extends Error {
  readonly file: string;
  readonly field: string;

  constructor(file: string, field: string, problem: string) {
    super(`${file}: ${field ? `${field}: ` : ''}${problem}`);
    this.name = 'ConfigError';
    this.file = file;
    this.field = field;
  }
}

/** Formats a zod issue path the way people write JSON paths: `[2].senders[0]`. */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out || '(root)';
}

/** Parses `value` with `schema`, turning the first problems into one ConfigError naming the file. */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, file: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 5);
  const first = issues[0];
  const field = first ? jsonPath(first.path) : '';
  const rest = issues
    .slice(1)
    .map((i) => `; ${jsonPath(i.path)}: ${i.message}`)
    .join('');
  throw new ConfigError(file, field, `${first?.message ?? 'invalid'}${rest}`);
}
