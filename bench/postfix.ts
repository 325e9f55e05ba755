import { execFile, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * The comparison the end-to-end benchmark runs beside sigrelay: Postfix with an alterMIME content
 * filter (../shared/bench/postfix-altermime: setup.sh installs it on loopback, bench.sh measures it),
 * loaded by Postfix's own generator, `smtp-source`, which the benchmark also points at sigrelay.
 */

const run = promisify(execFile);
const sbin = ['/usr/sbin', '/usr/local/sbin'];

/** Full path of a Postfix tool (they live in /usr/sbin, often not on a developer's PATH). */
export function postfixTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...sbin].filter(Boolean);
  for (const dir of dirs) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  return undefined;
}

/** Why the Postfix comparison cannot run here, or undefined when it can. */
export function postfixMissing(): string | undefined {
  const postfix = postfixTool('postfix');
  if (!postfix || !postfixTool('smtp-source') || !postfixTool('smtp-sink') || !postfixTool('altermime'))
    return 'Postfix, its smtp-source/smtp-sink tools or alterMIME are not installed';
  if (spawnSync(postfix, ['status'], { stdio: 'ignore' }).status !== 0) return 'Postfix is not running';
  if (!fs.existsSync('/etc/postfix/disclaimer')) return 'Postfix is not set up with the alterMIME filter';
  return undefined;
}

/** Runs setup.sh (installs Postfix + alterMIME + swaks, loopback only); needs root. */
export async function setupPostfix(dir: string): Promise<void> {
  if (process.getuid?.() !== 0)
    throw new Error('--setup-postfix needs root (it runs apt-get and configures Postfix)');
  await new Promise<void>((resolve, reject) => {
    const child = spawn('bash', [path.join(dir, 'setup.sh')], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`setup.sh exited with ${code}`)),
    );
  });
}

export interface SmtpSourceLoad {
  port: number;
  messages: number;
  size: number;
  sessions: number;
  from: string;
  to: string;
}

/** `smtp-source -s S -m N -l SIZE -f FROM -t TO 127.0.0.1:PORT`, as bench.sh runs it. */
export async function smtpSource(load: SmtpSourceLoad): Promise<void> {
  const tool = postfixTool('smtp-source');
  if (!tool) throw new Error('smtp-source is not installed');
  const args = ['-s', load.sessions, '-m', load.messages, '-l', load.size, '-f', load.from, '-t', load.to];
  await run(tool, [...args.map(String), `127.0.0.1:${load.port}`], { maxBuffer: 16 * 1024 * 1024 });
}

export interface PostfixResult {
  delivered: number;
  stamped: number;
  seconds: number;
  rate: number;
  line: string;
}

/** Postfix + alterMIME (port 10025) under the same load, through the shared bench.sh. */
export async function postfixBench(
  dir: string,
  load: Omit<SmtpSourceLoad, 'port' | 'to'>,
): Promise<PostfixResult> {
  const env = { ...process.env, PATH: [process.env.PATH, ...sbin].filter(Boolean).join(path.delimiter) };
  const args = ['10025', load.messages, load.size, load.sessions, load.from].map(String);
  const { stdout } = await run('bash', [path.join(dir, 'bench.sh'), ...args], { env, timeout: 600_000 });
  const line = stdout.trim().split('\n').pop() ?? '';
  const field = (name: string) => new RegExp(`${name}=([\\d.]+)`).exec(line)?.[1];
  const delivered = Number(field('delivered'));
  const seconds = Number(field('elapsed'));
  if (!Number.isFinite(delivered) || !Number.isFinite(seconds) || seconds <= 0)
    throw new Error(`bench.sh printed no result: ${stdout.trim()}`);
  return { delivered, stamped: Number(field('stamped') ?? 0), seconds, rate: delivered / seconds, line };
}
