import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SmtpClient, type Reply } from './front-harness.js';

export interface SendOutcome {
  /** The front's final `250` reply. */
  reply: string;
  attempts: number;
  /**
   * An attempt lost its connection after the final dot and before the reply: the front may have
   * stored that copy (SMTP's duplicate window, RFC 5321 §6.1), so a second copy is not our bug.
   */
  ambiguous: boolean;
}

export interface SenderOptions {
  port: number;
  ca: Buffer;
  from: string;
  to: string[];
  /** Give up on one message after this long (a finite wait; an MTA would keep trying for a day). */
  deadlineMs?: number;
}

/**
 * Sends one message the way an MTA does: STARTTLS, and on a 4xx, a refused connection or a dropped
 * one, waits (0.25 s doubling to 2 s) and sends it again until the front answers 250. A 5xx is final.
 */
export async function sendLikeAnMta(raw: Buffer, options: SenderOptions): Promise<SendOutcome> {
  const deadline = Date.now() + (options.deadlineMs ?? 120_000);
  let delay = 250;
  let ambiguous = false;
  let last = '';
  for (let attempt = 1; ; attempt++) {
    let dotSent = false;
    let client: SmtpClient | undefined;
    try {
      const connected = await SmtpClient.connect(options.port);
      client = connected.client;
      const expect = (reply: Reply, code: number, what: string) => {
        if (reply.code === code) return;
        const error = new Error(`${what}: ${reply.code} ${reply.text}`) as Error & { permanent?: boolean };
        error.permanent = reply.code >= 500;
        throw error;
      };
      expect(connected.greeting, 220, 'greeting');
      expect(await client.command('EHLO sender.test'), 250, 'EHLO');
      await client.starttls({ ca: options.ca, servername: 'localhost', minVersion: 'TLSv1.2' });
      expect(await client.command('EHLO sender.test'), 250, 'EHLO after STARTTLS');
      expect(await client.command(`MAIL FROM:<${options.from}>`), 250, 'MAIL');
      for (const r of options.to) expect(await client.command(`RCPT TO:<${r}>`), 250, 'RCPT');
      expect(await client.command('DATA'), 354, 'DATA');
      const stuffed = Buffer.from(raw.toString('latin1').replace(/^\./gm, '..'), 'latin1');
      client.write(Buffer.concat([stuffed, Buffer.from('.\r\n')]));
      dotSent = true;
      const end = await client.reply(60_000);
      expect(end, 250, 'end of data');
      client.write('QUIT\r\n');
      return { reply: `${end.code} ${end.text}`, attempts: attempt, ambiguous };
    } catch (err) {
      if ((err as { permanent?: boolean }).permanent) throw err;
      if (dotSent && !/^end of data: 4/.test((err as Error).message)) ambiguous = true;
      last = (err as Error).message;
    } finally {
      client?.close();
    }
    if (Date.now() + delay > deadline)
      throw new Error(`not accepted after ${attempt} attempts (last: ${last})`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(2000, delay * 2);
  }
}

/** The Message-ID header in a message's first bytes, if it has one. */
function messageIdHeader(raw: Buffer): string | undefined {
  return /^Message-ID:\s*(\S+)/im.exec(raw.toString('latin1'))?.[1];
}

/** The Message-ID of a message a test is about to send (it must have one). */
export function messageIdOf(raw: Buffer): string {
  const id = messageIdHeader(raw);
  assert.ok(id);
  return id;
}

/** The Message-ID header of an .eml file (the original's, which signing keeps). */
async function messageIdOfFile(file: string): Promise<string | undefined> {
  const handle = await fs.open(file, 'r');
  try {
    const buffer = Buffer.alloc(16 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return messageIdHeader(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

/**
 * How many times the endpoint accepted each original message (by its Message-ID header), across
 * every sigrelay id it was stored under: the stand-in logs one `received.log` line per acceptance
 * and keeps the last copy as `<sigrelay id>.eml`.
 */
export async function arrivalsByMessageId(outbox: string): Promise<Map<string, Arrivals>> {
  const log = await fs.readFile(path.join(outbox, 'received.log'), 'utf8').catch(() => '');
  const acceptances = new Map<string, number[]>();
  for (const line of log.split('\n')) {
    const [id, at] = line.split('\t');
    if (id) acceptances.set(id, [...(acceptances.get(id) ?? []), Number(at)]);
  }
  const out = new Map<string, Arrivals>();
  for (const [id, times] of acceptances) {
    const messageId = await messageIdOfFile(path.join(outbox, `${id}.eml`)).catch(() => undefined);
    if (!messageId) continue;
    const entry = out.get(messageId) ?? { count: 0, ids: [], times: [] };
    entry.count += times.length;
    entry.ids.push(id);
    entry.times = [...entry.times, ...times].sort((a, b) => a - b);
    out.set(messageId, entry);
  }
  return out;
}

export interface Arrivals {
  /** Acceptances by the endpoint. */
  count: number;
  /** The sigrelay ids it was stored under. */
  ids: string[];
  /** When the endpoint accepted it (ms since the epoch), earliest first. */
  times: number[];
}
