import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { LocalStack } from '../../src/local/stack.js';
import { createStorageClients } from '../../src/storage/index.js';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { MessageTrace, type TraceRecord } from '../../src/trace/index.js';
import { eventually, inboundBlobCount } from './loop.js';

/** How many times the endpoint accepted message `id` (one line per accepted transaction). */
export async function acceptedCount(stack: LocalStack, id: string): Promise<number> {
  const log = await fs.readFile(path.join(stack.outbox, 'received.log'), 'utf8').catch(() => '');
  return log.split('\n').filter((line) => line.split('\t')[0] === id).length;
}

export function idFromReply(reply: string): string {
  const id = /^250 2\.0\.0 (\S+) queued/.exec(reply)?.[1];
  assert.ok(id, `expected "250 2.0.0 <id> queued", got ${reply}`);
  return id;
}

/**
 * The final state every fault case asserts: the message at the endpoint exactly once, nothing left
 * in `inbound`, and a complete trace (it ends with the copies deleted).
 */
export async function assertDeliveredOnce(stack: LocalStack, id: string, timeoutMs = 60_000): Promise<void> {
  await eventually(
    `message ${id} at the endpoint`,
    async () => (await acceptedCount(stack, id)) >= 1,
    timeoutMs,
  );
  const storage = createStorageClients({ connectionString: stack.azurite.connectionString });
  await eventually('inbound to be empty', async () => (await inboundBlobCount(storage)) === 0, timeoutMs);
  const trace = new MessageTrace(storage.table);
  await eventually(
    `the trace of ${id} to be complete`,
    async () => (await trace.forMessage(id)).some((e) => e.event === 'deleted'),
    timeoutMs,
  );
  const events = (await trace.forMessage(id)).map((e) => e.event);
  assert.ok(events.includes('received') && events.includes('delivered'), `trace: ${events.join(', ')}`);
  // Give a late duplicate the chance to show itself before counting.
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await acceptedCount(stack, id), 1, `message ${id} must reach the endpoint exactly once`);
}

/**
 * The message's trace events. A step's events are written after the step, in one transaction with
 * those of other messages that finish within the trace linger (200 ms by default), so a test that
 * saw the delivery or the dead letter passes `until`: the events are read again until it holds or
 * 15 s have passed, and the last read is returned either way, for the assertion to show.
 */
export async function traceEvents(
  stack: LocalStack,
  id: string,
  until: (events: TraceRecord[]) => boolean = () => true,
): Promise<TraceRecord[]> {
  const storage = createStorageClients({ connectionString: stack.azurite.connectionString });
  const trace = new MessageTrace(storage.table);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const events = await trace.forMessage(id);
    if (until(events) || Date.now() > deadline) return events;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Sends alice's sample reply to a recipient the stand-in refuses for good (550), so it is
 * dead-lettered at once, and waits until `isListed` sees its id; returns the id.
 */
export async function sendDeadLetter(
  loop: {
    stack: LocalStack;
    send: (raw: Buffer, envelope: { from: string; to: string[] }) => Promise<string>;
  },
  isListed: (id: string) => Promise<boolean>,
): Promise<string> {
  await loop.stack.setStandinBehaviour({
    rcptReplies: { 'gone@fabrikam.example': { code: 550, text: 'Mailbox unavailable' } },
  });
  const id = idFromReply(
    await loop.send(outlookReply(), { from: 'alice@contoso.com', to: ['gone@fabrikam.example'] }),
  );
  await eventually('the dead letter to be listed', () => isListed(id), 60_000);
  return id;
}
