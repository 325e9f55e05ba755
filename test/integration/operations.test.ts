import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { projectRoot } from '../../src/config/index.js';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { createStorageClients } from '../../src/storage/index.js';
import { acceptedCount, assertDeliveredOnce, idFromReply, sendDeadLetter } from '../helpers/fault-checks.js';
import { faultConfig, faultEnv } from '../helpers/fault-config.js';
import { eventually, startLoop } from '../helpers/loop.js';

const cli = path.join(projectRoot, 'dist', 'src', 'cli', 'main.js');

describe(
  'operations: poison messages, dead letters, replay and trace through the admin API and CLI',
  { timeout: 180_000 },
  () => {
    let loop: Awaited<ReturnType<typeof startLoop>>;
    let api: (route: string, init?: RequestInit & { key?: boolean }) => Promise<Response>;
    before(async () => {
      loop = await startLoop({
        configDir: await faultConfig(),
        env: { ...faultEnv, SIGRELAY_QUEUE_RETRY_SECONDS: '1' },
      });
      api = (route, init = {}) =>
        fetch(`http://127.0.0.1:${loop.stack.ports.functions}/api/${route}`, {
          ...init,
          headers: init.key === false ? {} : { 'x-functions-key': loop.stack.functionKey },
        });
    });
    after(async () => loop?.dispose());

    it('an undecodable claim-check ends in the poison queue without stopping the host', async () => {
      const storage = createStorageClients({ connectionString: loop.stack.azurite.connectionString });
      await storage.inboundQueue.sendMessage(Buffer.from('this is not a claim-check').toString('base64'));
      const id = idFromReply(
        await loop.send(outlookReply(), { from: 'alice@contoso.com', to: ['megan@fabrikam.example'] }),
      );
      await assertDeliveredOnce(loop.stack, id);
      const poison = storage.queues.getQueueClient('inbound-poison');
      await eventually(
        'the poison queue to hold the bad message',
        async () =>
          (await poison.exists()) && ((await poison.peekMessages()).peekedMessageItems.length ?? 0) === 1,
        30_000,
      );
      const [item] = (await poison.peekMessages()).peekedMessageItems;
      assert.equal(Buffer.from(item?.messageText ?? '', 'base64').toString(), 'this is not a claim-check');
    });

    it('dead letter → listed by the API and the CLI → replayed → delivered once, traced', async () => {
      const id = await sendDeadLetter(loop, async (id) => {
        const list = (await (await api('deadletters')).json()) as { id: string }[];
        return list.some((d) => d.id === id);
      });
      assert.equal(
        (await api('deadletters', { key: false })).status,
        401,
        'the admin API needs the function key',
      );
      const list = (await (await api('deadletters')).json()) as {
        id: string;
        reason: string;
        sender: string;
      }[];
      const entry = list.find((d) => d.id === id);
      assert.match(entry?.reason ?? '', /550/);
      assert.equal(entry?.sender, 'alice@contoso.com');

      const env = { ...process.env, AzureWebJobsStorage: loop.stack.azurite.connectionString };
      const listed = spawnSync(process.execPath, [cli, 'deadletter', 'list'], { env, encoding: 'utf8' });
      assert.equal(listed.status, 0, listed.stderr);
      assert.match(listed.stdout, new RegExp(id));
      assert.match(
        listed.stdout,
        /\n {4}why: Recipient address rejected \(permanent\): /,
        'the reply explained',
      );
      const shown = spawnSync(process.execPath, [cli, 'deadletter', 'show', id], { env, encoding: 'utf8' });
      assert.equal(shown.status, 0, shown.stderr);
      assert.match(shown.stdout, /refused by the endpoint/);

      await loop.stack.setStandinBehaviour({});
      const replay = await api(`deadletters/${id}/replay`, { method: 'POST' });
      assert.equal(replay.status, 202);
      await assertDeliveredOnce(loop.stack, id);
      assert.equal(await acceptedCount(loop.stack, id), 1);

      const trace = (await (await api(`messages/${id}`)).json()) as { events: { event: string }[] };
      const events = trace.events.map((e) => e.event);
      for (const expected of ['received', 'dsn-sent', 'dead-lettered', 'replayed', 'delivered', 'deleted']) {
        assert.ok(events.includes(expected), `trace has ${expected}: ${events.join(', ')}`);
      }
      assert.equal((await api('messages/20000101000000-0000000000000000')).status, 404);
      const traced = spawnSync(process.execPath, [cli, 'trace', id], { env, encoding: 'utf8' });
      assert.equal(traced.status, 0, traced.stderr);
      assert.match(traced.stdout, /dead-lettered/);
      assert.match(traced.stdout, /\n +why +Recipient address rejected \(permanent\): .* See https:\/\//);
      const tracedJson = spawnSync(process.execPath, [cli, 'trace', id, '--json'], { env, encoding: 'utf8' });
      assert.equal(tracedJson.status, 0, tracedJson.stderr);
      const refused = (
        JSON.parse(tracedJson.stdout) as {
          events: { event: string; details: { response?: string }; explanation?: { id: string } }[];
        }
      ).events.find((e) => e.event === 'delivery-attempt' && /^550 /.test(e.details.response ?? ''));
      assert.equal(
        refused?.explanation?.id,
        'recipient-rejected',
        'the JSON carries the explanation beside the reply',
      );
      const bySender = spawnSync(
        process.execPath,
        [cli, 'trace', '--sender', 'alice@contoso.com', '--since', '1h'],
        { env, encoding: 'utf8' },
      );
      assert.match(bySender.stdout, new RegExp(id));
    });
  },
);
