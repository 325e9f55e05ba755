/**
 * `sigrelay sign --config <dir> [--sender <addr>] [--recipient <addr>]... <input> [--out <output>]`
 *
 * Signs one message, a directory of messages (recursively) or stdin, in one process. A message the
 * engine skips or fails on is copied unchanged, exactly as the mail loop delivers it. One JSON line
 * per message on stderr; exit 0 unless the config or the input cannot be read (exit 2).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { loadContent } from '../../content/index.js';
import { describeError } from '../../errors/index.js';
import { envelopeFromHeaders, signMessage, type ResolveSignature } from '../../signing/index.js';
import type { SignOptions } from '../usage.js';

interface Args {
  config: string;
  sender?: string;
  recipients: string[];
  input: string;
  out?: string;
}

async function listMessages(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function signOne(raw: Buffer, args: Args, resolve: ResolveSignature) {
  const defaults = envelopeFromHeaders(raw);
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => chunks.push(chunk));
  const decision = await signMessage(Readable.from([raw]), sink, resolve, {
    sender: args.sender ?? defaults.sender ?? '',
    recipients: args.recipients.length ? args.recipients : defaults.recipients,
  });
  // Anything but a signed message goes out exactly as it came in.
  return { decision, output: decision.action === 'signed' ? Buffer.concat(chunks) : raw };
}

async function isDirectory(target: string): Promise<boolean> {
  return fs.stat(target).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

export async function run(input: string, options: SignOptions): Promise<number> {
  const args: Args = {
    config: options.config,
    recipients: options.recipient,
    input,
    ...(options.sender ? { sender: options.sender } : {}),
    ...(options.out ? { out: options.out } : {}),
  };
  let resolve: ResolveSignature;
  try {
    resolve = (await loadContent(args.config)).resolve;
  } catch (err) {
    console.error(`sigrelay sign: cannot load configuration from ${args.config}: ${describeError(err)}`);
    return 2;
  }

  let files: string[];
  const inputIsDir = args.input !== '-' && (await isDirectory(args.input));
  try {
    files = args.input === '-' ? ['-'] : inputIsDir ? await listMessages(args.input) : [args.input];
    if (args.input !== '-' && !inputIsDir) await fs.access(args.input);
  } catch (err) {
    console.error(`sigrelay sign: cannot read input ${args.input}: ${describeError(err)}`);
    return 2;
  }
  const outIsDir = args.out !== undefined && (inputIsDir || (await isDirectory(args.out)));

  let exitCode = 0;
  for (const file of files) {
    let raw: Buffer;
    try {
      raw = file === '-' ? await readStdin() : await fs.readFile(file);
    } catch (err) {
      console.error(`sigrelay sign: cannot read ${file}: ${describeError(err)}`);
      exitCode = 2;
      continue;
    }
    const started = process.hrtime.bigint();
    const { decision, output } = await signOne(raw, args, resolve);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (!args.out) process.stdout.write(output);
    else {
      const relative = inputIsDir
        ? path.relative(args.input, file)
        : path.basename(file === '-' ? 'stdin.eml' : file);
      const target = outIsDir ? path.join(args.out, relative) : args.out;
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.writeFile(target, output);
    }
    const line = {
      file,
      action: decision.action,
      reason: decision.reason,
      template: decision.template ?? null,
      ms: Math.round(ms * 1000) / 1000,
    };
    console.error(JSON.stringify(line));
  }
  return exitCode;
}
