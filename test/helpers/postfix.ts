/**
 * A private Postfix instance on loopback for tests: its own config, queue and data directories
 * under a temporary folder, a high port on 127.0.0.1, started with `postfix -c <dir> start-fg`
 * and stopped with `postfix -c <dir> stop`, so the system's own mail setup is never touched (the
 * approach of ../shared/bench/postfix-altermime, without its system-wide /etc/postfix).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const postfixBin = '/usr/sbin/postfix';

/** Why Postfix tests cannot run here, or undefined when they can. */
export function postfixUnavailable(): string | undefined {
  if (!fs.existsSync(postfixBin))
    return 'Postfix is not installed (apt-get install postfix; .ci/run installs it)';
  if (process.getuid?.() !== 0) return 'a private Postfix instance needs root (its master runs as root)';
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('data', () => {
      s.end('QUIT\r\n');
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** The services a relay-only smtpd needs; the same list as the bench's master.cf, minus its filter. */
const services = `pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

export interface PostfixInstance {
  port: number;
  dir: string;
  /** The instance's own log (for a failing test's message). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts Postfix with `settings` added to a minimal main.cf (`files` are written beside it first,
 * for maps and certificates). Resolves once the port answers with a greeting.
 */
export async function startPostfix(
  settings: Record<string, string>,
  files: Record<string, string> = {},
): Promise<PostfixInstance> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sigrelay-postfix-'));
  // Postfix's own users must reach the queue below it.
  await fsp.chmod(dir, 0o755);
  const port = await freePort();
  for (const [name, text] of Object.entries(files))
    await fsp.writeFile(path.join(dir, name), text, { mode: 0o600 });
  const main: Record<string, string> = {
    compatibility_level: '3.6',
    myhostname: 'postfix.sigrelay.test',
    mydestination: '',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    queue_directory: path.join(dir, 'queue'),
    data_directory: path.join(dir, 'data'),
    meta_directory: '/etc/postfix',
    maillog_file: path.join(dir, 'maillog'),
    maillog_file_prefixes: os.tmpdir(),
    alias_maps: '',
    alias_database: '',
    mynetworks: '127.0.0.0/8',
    ...settings,
  };
  await fsp.writeFile(
    path.join(dir, 'main.cf'),
    Object.entries(main)
      .map(([k, v]) => `${k} = ${v}`)
      .join('\n') + '\n',
  );
  await fsp.writeFile(path.join(dir, 'master.cf'), `127.0.0.1:${port} inet n - n - - smtpd\n${services}`);
  await fsp.mkdir(path.join(dir, 'queue'));
  await fsp.mkdir(path.join(dir, 'data'));
  spawnSync('chown', ['postfix', path.join(dir, 'data')]);
  const master: ChildProcess = spawn(postfixBin, ['-c', dir, 'start-fg'], { stdio: 'ignore' });
  const log = () => {
    try {
      return fs.readFileSync(path.join(dir, 'maillog'), 'utf8');
    } catch {
      return '(no log)';
    }
  };
  const exited = new Promise<void>((resolve) => master.once('exit', () => resolve()));
  let up = false;
  // Counted attempts, not a time budget: each failed attempt is a refused connect, then a pause.
  for (let attempt = 0; attempt < 200 && !up && master.exitCode === null; attempt += 1) {
    up = await accepting(port);
    if (!up) await new Promise((r) => setTimeout(r, 100));
  }
  const stop = async () => {
    spawnSync(postfixBin, ['-c', dir, 'stop'], { stdio: 'ignore' });
    await exited;
    await fsp.rm(dir, { recursive: true, force: true });
  };
  if (!up) {
    const text = log();
    await stop();
    throw new Error(`Postfix did not start on 127.0.0.1:${port}:\n${text}`);
  }
  return { port, dir, log, stop };
}
