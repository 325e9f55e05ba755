#!/usr/bin/env node
/**
 * `sigrelay <command> …`: each command lives in ./commands/<command>.ts and exports
 * `run(args): Promise<number>` (the exit code). Commands are imported on demand so that a quick
 * command never pays for the start-up of a heavy one.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../config/index.js';

interface Command {
  run(args: string[]): Promise<number>;
  summary?: string;
}

const commandsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'commands');

function commandNames(): string[] {
  return fs
    .readdirSync(commandsDir)
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const names = commandNames();
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(`usage: sigrelay <command> [options]\n\ncommands:\n${names.map((n) => `  ${n}`).join('\n')}`);
    return name ? 0 : 2;
  }
  if (!names.includes(name)) {
    console.error(`sigrelay: unknown command "${name}" (commands: ${names.join(', ')})`);
    return 2;
  }
  const command = (await import(path.join(commandsDir, `${name}.js`))) as Command;
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) console.error(`sigrelay: configuration error: ${err.message}`);
    else if ((err as { code?: unknown }).code === 'ECONNREFUSED') {
      console.error(
        `sigrelay: storage is not reachable (${(err as Error).message}). Is the local loop running (npm start), or AzureWebJobsStorage set?`,
      );
    } else console.error(`sigrelay: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 2;
  },
);
