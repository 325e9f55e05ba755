import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { LocalStack, type StackOptions } from '../../src/local/stack.js';
import { createStorageClients, type StorageClients } from '../../src/storage/index.js';

/** A whole local loop in a temp directory on free ports; removed again by `dispose`. */
export async function startLoop(options: Partial<StackOptions> = {}): Promise<{
  stack: LocalStack;
  storage: () => StorageClients;
  send: (
    raw: Buffer,
    envelope: { from: string; to: string[] },
    opts?: { requireTls?: boolean },
  ) => Promise<string>;
  waitForOutbox: (count: number, timeoutMs?: number) => Promise<string[]>;
  dispose: () => Promise<void>;
}> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-loop-'));
  const stack = new LocalStack({ dataDir, functionsRuntime: 'local', ...options });
  await stack.start();
  const storage = () => createStorageClients({ connectionString: stack.azurite.connectionString });
  const send = async (
    raw: Buffer,
    envelope: { from: string; to: string[] },
    opts: { requireTls?: boolean } = {},
  ) => {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: stack.ports.smtp,
      secure: false,
      requireTLS: opts.requireTls ?? true,
      ignoreTLS: opts.requireTls === false,
      tls: { ca: await fs.readFile(stack.pki.caCert), servername: 'localhost', minVersion: 'TLSv1.2' },
    });
    try {
      const info = await transport.sendMail({ envelope, raw });
      return info.response;
    } finally {
      transport.close();
    }
  };
  const waitForOutbox = async (count: number, timeoutMs = 20_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const files = (await fs.readdir(stack.outbox)).filter((f) => f.endsWith('.eml')).sort();
      if (files.length >= count) return files.map((f) => path.join(stack.outbox, f));
      if (Date.now() > deadline)
        throw new Error(`outbox has ${files.length} of ${count} messages after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const dispose = async () => {
    await stack.stop();
    await fs.rm(dataDir, { recursive: true, force: true });
  };
  return { stack, storage, send, waitForOutbox, dispose };
}

/** Polls until `check` returns true (or throws after the timeout, naming what was awaited). */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function inboundBlobCount(storage: StorageClients): Promise<number> {
  let n = 0;
  for await (const _ of storage.inbound.listBlobsFlat()) n++;
  return n;
}

export async function queueLength(storage: StorageClients): Promise<number> {
  const props = await storage.inboundQueue.getProperties();
  return props.approximateMessagesCount ?? 0;
}
