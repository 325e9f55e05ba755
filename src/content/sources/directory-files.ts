import fs from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '../../config/index.js';
import type { WritableConfigFiles } from './config-files.js';

/** A configuration directory on the local disk (`config/contoso`, `SIGRELAY_CONFIG`). */
export class DirectoryFiles implements WritableConfigFiles {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  label(name: string): string {
    return path.join(this.root, name);
  }

  async read(name: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.label(name));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ConfigError(this.label(name), '', `cannot read file (${describeIo(err)})`);
    }
  }

  async list(folder: string): Promise<string[]> {
    try {
      const entries = await fs.readdir(this.label(folder), { withFileTypes: true });
      return entries
        .filter((e) => e.isFile())
        .map((e) => `${folder}/${e.name}`)
        .sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new ConfigError(this.label(folder), '', `cannot list folder (${describeIo(err)})`);
    }
  }

  /**
   * Names, sizes and mtimes of every file, tenant folders included: cheap to compute, and any edit
   * or rename changes it. Dot-folders (`.sync/` bookkeeping, `.photos/`) and temp files are not config.
   */
  async fingerprint(): Promise<string> {
    const parts: string[] = [];
    const walk = async (folder: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(path.join(this.root, folder), { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw err;
      }
      for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        if (entry.name.startsWith('.') || entry.name.endsWith('.tmp')) continue;
        const name = folder ? `${folder}/${entry.name}` : entry.name;
        if (entry.isDirectory()) await walk(name);
        else if (entry.isFile()) {
          try {
            const stat = await fs.stat(this.label(name));
            parts.push(`${name}:${stat.size}:${stat.mtimeMs}`);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          }
        }
      }
    };
    await walk('');
    return parts.join('|');
  }

  async write(name: string, content: string | Buffer): Promise<void> {
    const file = this.label(name);
    // Write-then-rename so a reader never sees half a snapshot.
    const temp = `${file}.${process.pid}.tmp`;
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(temp, content);
    await fs.rename(temp, file);
  }
}

function describeIo(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}
