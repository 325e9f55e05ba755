import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { TableClient } from '@azure/data-tables';
import { dkimSign } from 'mailauth';
import { loadSettings } from '../../src/config/index.js';
import { parseTenants } from '../../src/config/tenants.js';
import type { DevPki } from '../../src/devtls/index.js';
import type { DNSResolver } from '../../src/front/dkim.js';
import {
  Allowlist,
  FrontServer,
  frontLimits,
  createAdmission,
  type AcceptedMessage,
  type ClientCertificatePolicy,
  type FrontLimits,
} from '../../src/front/index.js';
import { Azurite } from '../../src/local/azurite.js';
import { createLogger, silentLogger } from '../../src/log/index.js';
import { SenderRateLimiter } from '../../src/ratelimit/index.js';
import {
  createStorageClients,
  ensureStorage,
  MessageIntake,
  MessageStore,
  names,
  type StorageClients,
} from '../../src/storage/index.js';

export const contosoId = '6f1c2e3a-8b4d-4c5e-9f60-1a2b3c4d5e6f';
export const fabrikamId = '2b6d1a90-3c4e-4f51-8a7b-9c0d1e2f3a4b';
export const northwindId = '7d8e9f0a-1b2c-4d3e-8f4a-5b6c7d8e9f0a';
export const woodgroveId = '9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
export const strangerId = 'ffffffff-0000-4000-8000-000000000001';

const generous = { messagesPerMinute: 100_000, messagesPerDay: 1_000_000 };

/** Four tenants, one per tenant-check style; `tailspin.com` has tight limits for the rate tests. */
export const testTenants = [
  {
    id: contosoId,
    name: 'Contoso',
    domains: ['contoso.com', 'contoso.onmicrosoft.com'],
    delivery: { host: 'contoso-com.mail.protection.outlook.com' },
    settings: { limits: generous },
  },
  {
    id: fabrikamId,
    name: 'Fabrikam (headers required, tight limits)',
    domains: ['fabrikam.com', 'tailspin.com'],
    delivery: { host: 'fabrikam-com.mail.protection.outlook.com' },
    settings: { tenantCheck: 'headers-required', limits: { messagesPerMinute: 3, messagesPerDay: 5 } },
  },
  {
    id: northwindId,
    name: 'Northwind (DKIM)',
    domains: ['northwind.com', 'northwind.onmicrosoft.com'],
    delivery: { host: 'northwind-com.mail.protection.outlook.com' },
    settings: { tenantCheck: 'dkim', limits: generous },
  },
  {
    id: woodgroveId,
    name: 'Woodgrove (null sender passes)',
    domains: ['woodgrove.com'],
    delivery: { host: 'woodgrove-com.mail.protection.outlook.com' },
    settings: { nullSender: 'pass-through', limits: generous },
  },
];

/** A real Azurite in a temp directory, with every container, queue and table created. */
export async function startStorage(): Promise<{
  storage: StorageClients;
  connectionString: string;
  azurite: Azurite;
  dir: string;
  dispose: () => Promise<void>;
}> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-front-'));
  const azurite = new Azurite({ location: path.join(dir, 'azurite') });
  await azurite.start();
  const storage = createStorageClients({ connectionString: azurite.connectionString });
  await ensureStorage(storage);
  return {
    storage,
    connectionString: azurite.connectionString,
    azurite,
    dir,
    dispose: async () => {
      await azurite.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

export interface FrontSetup {
  storage: StorageClients;
  pki: DevPki;
  requireTls?: boolean;
  allowlist?: string;
  limits?: Partial<FrontLimits>;
  clientCertificate?: ClientCertificatePolicy;
  dkimResolver?: DNSResolver;
  now?: () => number;
  tenants?: unknown[];
  host?: string;
  /** The shared limits table (default: the storage's); a test may count the requests made to it. */
  limitsTable?: TableClient;
  /** Runs the limiter's background sync at this interval; unset, tests call `limiter.sync()`. */
  rateSyncIntervalMs?: number;
}

export interface RunningFront {
  front: FrontServer;
  port: number;
  accepted: AcceptedMessage[];
  limiter: SenderRateLimiter;
  close: () => Promise<void>;
}

/** Production-like defaults (STARTTLS required, settings' limits) with whatever the test overrides. */
export async function startFront(setup: FrontSetup): Promise<RunningFront> {
  const tenants = parseTenants(setup.tenants ?? testTenants, 'test tenants', '.');
  const accepted: AcceptedMessage[] = [];
  // SIGRELAY_TEST_LOG=debug shows the front's decisions while a test runs.
  const logger = process.env.SIGRELAY_TEST_LOG
    ? createLogger('front-test', { level: process.env.SIGRELAY_TEST_LOG })
    : silentLogger;
  const limiter = new SenderRateLimiter(setup.limitsTable ?? setup.storage.table(names.limitsTable), {
    now: setup.now,
    syncIntervalMs: setup.rateSyncIntervalMs,
  });
  if (setup.rateSyncIntervalMs !== undefined) limiter.start();
  const front = new FrontServer({
    hostname: 'sigrelay.local',
    tls: setup.pki.front,
    clientCertificate: setup.clientCertificate,
    limits: { ...frontLimits(loadSettings({}).smtp), ...setup.limits },
    admission: createAdmission({
      tenants: () => tenants,
      allowlist: Allowlist.parse(setup.allowlist ?? '127.0.0.0/8, ::1'),
      requireTls: setup.requireTls ?? true,
      rateLimiter: limiter,
    }),
    intake: new MessageIntake(
      new MessageStore(setup.storage),
      setup.storage.inboundQueue,
      logger,
      setup.storage.rest,
    ),
    logger,
    dkimResolver: setup.dkimResolver,
    onAccepted: (m) => accepted.push(m),
  });
  const port = await front.listen(0, setup.host ?? '127.0.0.1');
  return {
    front,
    port,
    accepted,
    limiter,
    close: async () => {
      await front.close();
      await limiter.stop();
    },
  };
}

export interface Reply {
  code: number;
  enhanced: string | undefined;
  text: string;
}

/**
 * A raw SMTP client over a real socket: exact bytes out, replies parsed back, STARTTLS on demand.
 * Nothing about it is lenient: tests see precisely what the server wrote.
 */
export class SmtpClient {
  socket: net.Socket;
  private buffer = '';
  private readonly replies: Reply[] = [];
  private waiters: ((r: Reply | undefined) => void)[] = [];
  private ended = false;
  readonly closed: Promise<void>;
  private markClosed!: () => void;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    this.attach(socket);
  }

  /** `localAddress` (127.0.0.x) lets one test machine be several clients. */
  static async connect(
    port: number,
    host = '127.0.0.1',
    localAddress?: string,
  ): Promise<{ client: SmtpClient; greeting: Reply }> {
    const socket = net.connect({ port, host, ...(localAddress ? { localAddress } : {}) });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new SmtpClient(socket);
    const greeting = await client.reply();
    return { client, greeting };
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (d: Buffer) => {
      this.buffer += d.toString('latin1');
      let nl: number;
      let lines: string[] = [];
      while ((nl = this.buffer.indexOf('\r\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 2);
        lines.push(line);
        if (/^\d{3}(?: |$)/.test(line)) {
          this.push(parseReply(lines));
          lines = [];
        }
      }
      if (lines.length) this.buffer = lines.map((l) => `${l}\r\n`).join('') + this.buffer;
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.ended = true;
      this.markClosed();
      for (const w of this.waiters.splice(0)) w(undefined);
    });
  }

  private push(reply: Reply): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(reply);
    else this.replies.push(reply);
  }

  /** The next reply; rejects if the connection closes first or nothing comes within the timeout. */
  reply(timeoutMs = 10_000): Promise<Reply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.ended) return Promise.reject(new Error('connection closed'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (r: Reply | undefined) => {
        clearTimeout(timer);
        if (r) resolve(r);
        else reject(new Error('connection closed'));
      };
      this.waiters.push(waiter);
    });
  }

  write(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }

  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  /** STARTTLS and the handshake; EHLO again afterwards is the caller's move (RFC 3207). */
  async starttls(options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
    const r = await this.command('STARTTLS');
    if (r.code !== 220) throw new Error(`STARTTLS answered ${r.code} ${r.text}`);
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    const secure = tls.connect({ socket: raw, servername: 'localhost', ...options });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
    return secure;
  }

  close(): void {
    this.socket.destroy();
  }
}

function parseReply(lines: string[]): Reply {
  const last = lines[lines.length - 1] ?? '';
  const code = Number(last.slice(0, 3));
  const text = lines.map((l) => l.slice(4)).join('\n');
  const enhanced = /^([245]\.\d{1,3}\.\d{1,3}) /.exec(last.slice(4))?.[1];
  return { code, enhanced, text };
}

/** Connects, EHLOs, and (unless told not to) upgrades to TLS and EHLOs again. */
export async function openSession(
  port: number,
  pki: DevPki,
  options: { tls?: boolean; tlsOptions?: tls.ConnectionOptions; host?: string } = {},
): Promise<SmtpClient> {
  const { client, greeting } = await SmtpClient.connect(port, options.host);
  if (greeting.code !== 220) throw new Error(`greeting ${greeting.code} ${greeting.text}`);
  await client.command('EHLO client.test');
  if (options.tls ?? true) {
    await client.starttls({ ca: pki.ca.cert, ...options.tlsOptions });
    await client.command('EHLO client.test');
  }
  return client;
}

/** A CRLF message with the given header fields (in order) and body. */
export function message(headers: Record<string, string>, body = 'Hello.\r\n'): string {
  const head = Object.entries({
    From: 'alice@contoso.com',
    To: 'bob@example.net',
    Subject: 'test',
    'Message-ID': `<${crypto.randomUUID()}@contoso.com>`,
    ...headers,
  })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `${head}\r\n${body}`;
}

/** Sends one whole transaction and returns the replies to MAIL, each RCPT, DATA and the final dot. */
export async function transaction(
  client: SmtpClient,
  from: string,
  to: string[],
  data: string | Buffer,
  mailParameters = '',
): Promise<{ mail: Reply; rcpts: Reply[]; data?: Reply; end?: Reply }> {
  const mail = await client.command(`MAIL FROM:<${from}>${mailParameters ? ` ${mailParameters}` : ''}`);
  const rcpts: Reply[] = [];
  for (const r of to) rcpts.push(await client.command(`RCPT TO:<${r}>`));
  if (mail.code !== 250 || !rcpts.some((r) => r.code === 250)) {
    await client.command('RSET');
    return { mail, rcpts };
  }
  const dataReply = await client.command('DATA');
  if (dataReply.code !== 354) return { mail, rcpts, data: dataReply };
  const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  client.write(Buffer.concat([dotStuff(payload), Buffer.from('.\r\n')]));
  return { mail, rcpts, data: dataReply, end: await client.reply(30_000) };
}

function dotStuff(payload: Buffer): Buffer {
  return Buffer.from(payload.toString('latin1').replace(/^\./gm, '..'), 'latin1');
}

export async function inboundBlobNames(storage: StorageClients): Promise<string[]> {
  const out: string[] = [];
  for await (const b of storage.inbound.listBlobsFlat()) out.push(b.name);
  return out;
}

/** An RSA key for d=<domain>, a resolver that publishes it, and a signer. */
export function dkimKey(domain: string, selector = 'selector1') {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const record = `${selector}._domainkey.${domain}`;
  const resolver: DNSResolver = (name, rrtype) => {
    if (rrtype === 'TXT' && name.toLowerCase() === record)
      return Promise.resolve([[`v=DKIM1; k=rsa; p=${p}`]]);
    const err = new Error(`queryTxt ENOTFOUND ${name}`) as Error & { code: string };
    err.code = 'ENOTFOUND';
    return Promise.reject(err);
  };
  const sign = async (raw: string): Promise<string> => {
    const signature = {
      signingDomain: domain,
      selector,
      privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
      algorithm: 'rsa-sha256',
      canonicalization: 'relaxed/relaxed',
    };
    // mailauth signs what signatureData lists; its typings also want the fields at the top level.
    const result = await dkimSign(raw, { ...signature, signatureData: [signature] });
    // mailauth 7 reports each signature it could not create as { err, selector, … }.
    const [failed] = result.errors;
    if (failed) throw failed.err;
    return result.signatures + raw;
  };
  return { resolver, sign };
}

/** Asserts a reply's code and enhanced status code, naming what was being tested. */
export function assertReply(reply: Reply | undefined, code: number, enhanced: string, what = ''): void {
  assert.ok(reply, `${what}: no reply`);
  assert.equal(
    `${reply.code} ${reply.enhanced}`,
    `${code} ${enhanced}`,
    `${what}: ${reply.code} ${reply.text}`,
  );
}
