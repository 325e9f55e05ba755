import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, beforeEach, describe, it } from 'node:test';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { acceptedCount, assertDeliveredOnce, idFromReply, traceEvents } from '../helpers/fault-checks.js';
import { faultConfig, faultEnv } from '../helpers/fault-config.js';
import { eventually, inboundBlobCount, startLoop } from '../helpers/loop.js';
import { pauseEnv } from '../helpers/pause-before-delete.js';

const from = 'alice@contoso.com';
const to = ['megan@fabrikam.example'];
/** The window between the endpoint's 250 and the delete, held open so a kill can land in it. */
const pauseAfterAcceptedMs = 4000;
/** The functions process gets the pause preloaded; nothing in production code waits. */
const nodeArgsEnv = 'SIGRELAY_NODE_ARGS_FUNCTIONS';
const pauseHook = fileURLToPath(new URL('../helpers/pause-before-delete.js', import.meta.url));

/**
 * The functions process is killed (SIGKILL) at each point of the direct path. The queue message
 * reappears after its lease, the second dequeue goes to the orchestration, and the message arrives:
 * once when the kill came before the endpoint's 250, and at most twice when it came after it (the
 * documented duplicate window, see docs/architecture.md).
 */
describe('the functions process killed on the direct path', { timeout: 300_000 }, () => {
  let loop: Awaited<ReturnType<typeof startLoop>>;
  const nodeArgsBefore = process.env[nodeArgsEnv];
  before(async () => {
    process.env[nodeArgsEnv] = `--import ${pauseHook}`;
    loop = await startLoop({
      configDir: await faultConfig(),
      env: {
        ...faultEnv,
        [pauseEnv]: String(pauseAfterAcceptedMs),
        // Large enough that the mid-DATA case below is still signed in memory.
        SIGRELAY_DIRECT_MAX_BYTES: String(32 * 1024 * 1024),
      },
    });
  });
  after(async () => {
    await loop?.dispose();
    if (nodeArgsBefore === undefined) delete process.env[nodeArgsEnv];
    else process.env[nodeArgsEnv] = nodeArgsBefore;
  });
  beforeEach(async () => loop.stack.setStandinBehaviour({}));

  const events = async () =>
    (await fs.readFile(path.join(loop.stack.outbox, 'events.log'), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split('\t')[1]);

  async function killFunctionsWhen(what: string, ready: () => Promise<boolean>): Promise<void> {
    await eventually(what, ready, 30_000);
    await loop.stack.kill('functions', 'SIGKILL');
    await loop.stack.setStandinBehaviour({});
    await loop.stack.startFunctions();
  }

  it('killed before delivery (connected, no greeting yet) → delivered once', async () => {
    await loop.stack.setStandinBehaviour({ greetingDelayMs: 20_000 });
    const connects = (await events()).filter((e) => e === 'connect').length;
    const id = idFromReply(await loop.send(outlookReply(), { from, to }));
    await killFunctionsWhen(
      'a connection from the direct path',
      async () => (await events()).filter((e) => e === 'connect').length > connects,
    );
    assert.equal(await acceptedCount(loop.stack, id), 0);
    await assertDeliveredOnce(loop.stack, id, 90_000);
    assert.ok((await traceEvents(loop.stack, id, (events) => events.length > 0)).length > 0);
  });

  it('killed during DATA (the endpoint stopped reading) → the half-sent message is not delivered; delivered once', async () => {
    await loop.stack.setStandinBehaviour({ dataReadDelayMs: 20_000 });
    const datas = (await events()).filter((e) => e === 'data').length;
    const id = idFromReply(await loop.send(outlookReply({ htmlBytes: 12 * 1024 * 1024 }), { from, to }));
    await killFunctionsWhen(
      'the direct path in DATA',
      async () => (await events()).filter((e) => e === 'data').length > datas,
    );
    await assertDeliveredOnce(loop.stack, id, 120_000);
  });

  it('killed after the 250, before the delete → nothing lost, at most the documented duplicate', async () => {
    const id = idFromReply(await loop.send(outlookReply(), { from, to }));
    await killFunctionsWhen(
      'the endpoint to accept the message',
      async () => (await acceptedCount(loop.stack, id)) >= 1,
    );
    const storage = loop.storage();
    await eventually('inbound to be empty', async () => (await inboundBlobCount(storage)) === 0, 90_000);
    await eventually(
      'the trace to end with the copies deleted',
      async () => (await traceEvents(loop.stack, id)).some((e) => e.event === 'deleted'),
      60_000,
    );
    await new Promise((r) => setTimeout(r, 1500));
    const count = await acceptedCount(loop.stack, id);
    assert.ok(count >= 1 && count <= 2, `delivered ${count} times; the duplicate window allows 1 or 2`);
  });
});
