import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { createDevPki } from '../../src/devtls/index.js';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { createStorageClients } from '../../src/storage/index.js';
import { assertDeliveredOnce, acceptedCount, idFromReply, traceEvents } from '../helpers/fault-checks.js';
import { faultConfig, faultEnv } from '../helpers/fault-config.js';
import { eventually, inboundBlobCount, startLoop } from '../helpers/loop.js';

const from = 'alice@contoso.com';

describe('faults at the delivery endpoint', { timeout: 300_000 }, () => {
  let loop: Awaited<ReturnType<typeof startLoop>>;
  before(async () => {
    loop = await startLoop({ configDir: await faultConfig(), env: faultEnv });
  });
  after(async () => loop?.dispose());
  beforeEach(async () => loop.stack.setStandinBehaviour({}));

  it('3. endpoint refuses connections for 30 s, then accepts → delivered once', async () => {
    await loop.stack.kill('standin');
    const id = idFromReply(await loop.send(outlookReply(), { from, to: ['megan@fabrikam.example'] }));
    await new Promise((r) => setTimeout(r, 30_000));
    assert.equal(await acceptedCount(loop.stack, id), 0);
    await loop.stack.startStandin();
    await assertDeliveredOnce(loop.stack, id);
    const attempts = (
      await traceEvents(loop.stack, id, (events) => events.some((e) => e.event === 'deleted'))
    ).filter((e) => e.event === 'delivery-attempt');
    assert.ok(attempts.length >= 2, `retried while the endpoint was down (${attempts.length} attempts)`);
  });

  it('4. endpoint answers 451 three times, then 250 → delivered once, four attempts traced', async () => {
    await loop.stack.setStandinBehaviour({ dataReply: { code: 451, text: 'try again later', times: 3 } });
    const id = idFromReply(await loop.send(outlookReply(), { from, to: ['megan@fabrikam.example'] }));
    await assertDeliveredOnce(loop.stack, id);
    const attempts = (
      await traceEvents(loop.stack, id, (events) => events.some((e) => e.event === 'deleted'))
    ).filter((e) => e.event === 'delivery-attempt');
    assert.equal(attempts.length, 4);
    assert.match(String(attempts[0]?.details.response), /451/);
  });

  it('5. endpoint answers 550 → dead-lettered, DSN to the sender, inbound empty', async () => {
    await loop.stack.setStandinBehaviour({
      rcptReplies: { 'nobody@fabrikam.example': { code: 550, text: 'User unknown' } },
    });
    const id = idFromReply(await loop.send(outlookReply(), { from, to: ['nobody@fabrikam.example'] }));
    const storage = createStorageClients({ connectionString: loop.stack.azurite.connectionString });
    await eventually('the dead letter', async () => storage.deadletter.getBlobClient(id).exists(), 30_000);
    await eventually('inbound to be empty', async () => (await inboundBlobCount(storage)) === 0);
    assert.equal(await acceptedCount(loop.stack, id), 0, 'the refused message itself was never accepted');
    // The DSN went to the sender through the same endpoint, from the null sender.
    const dsnFile = await eventually2(async () => {
      for (const f of await fs.readdir(loop.stack.outbox)) {
        if (!f.endsWith('.json')) continue;
        const env = JSON.parse(await fs.readFile(path.join(loop.stack.outbox, f), 'utf8')) as {
          mailFrom: string;
          rcptTo: string[];
        };
        if (env.mailFrom === '' && env.rcptTo.includes(from))
          return path.join(loop.stack.outbox, f.replace(/\.json$/, '.eml'));
      }
      return undefined;
    });
    const dsn = await simpleParser(await fs.readFile(dsnFile));
    assert.match(
      String(dsn.headers.get('content-type') && (dsn.headers.get('content-type') as { value: string }).value),
      /multipart\/report/,
    );
    const raw = await fs.readFile(dsnFile, 'utf8');
    assert.match(raw, /report-type=delivery-status/);
    assert.match(raw, /Final-Recipient: rfc822; nobody@fabrikam\.example/);
    assert.match(raw, /Action: failed/);
    assert.match(raw, /Diagnostic-Code: smtp; 550/);
    assert.match(raw, /X-Sigrelay-Processed: true/, 'the DSN never loops back to us');
    const events = (
      await traceEvents(loop.stack, id, (all) => all.some((e) => e.event === 'dead-lettered'))
    ).map((e) => e.event);
    assert.ok(events.includes('dsn-sent') && events.includes('dead-lettered'), events.join(', '));
  });

  it("6. endpoint's TLS broken (certificate from an unknown CA) → retried, delivered once fixed", async () => {
    const foreign = createDevPki();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-foreign-'));
    const files = {
      cert: path.join(dir, 'c.crt'),
      key: path.join(dir, 'c.key'),
      ca: path.join(dir, 'ca.crt'),
    };
    await fs.writeFile(files.cert, foreign.standin.cert);
    await fs.writeFile(files.key, foreign.standin.key);
    await fs.writeFile(files.ca, loop.stack.pki.caCert ? await fs.readFile(loop.stack.pki.caCert) : '');
    await loop.stack.kill('standin');
    await loop.stack.startStandin(files);
    const id = idFromReply(await loop.send(outlookReply(), { from, to: ['megan@fabrikam.example'] }));
    await eventually(
      'a failed TLS attempt',
      async () => (await traceEvents(loop.stack, id)).some((e) => e.event === 'delivery-attempt'),
      30_000,
    );
    assert.equal(await acceptedCount(loop.stack, id), 0);
    await loop.stack.kill('standin');
    await loop.stack.startStandin();
    await assertDeliveredOnce(loop.stack, id);
    await fs.rm(dir, { recursive: true, force: true });
  });
});

async function eventually2<T>(find: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 200));
  }
}
