import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { csrfHeader, type Health } from '../../src/admin/contract.js';
import { projectRoot } from '../../src/config/index.js';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import type { ServiceStatus } from '../../src/status/index.js';
import { DeliveryStateTable, names } from '../../src/storage/index.js';
import { idFromReply } from '../helpers/fault-checks.js';
import { faultConfig, faultEnv } from '../helpers/fault-config.js';
import { eventually, startLoop } from '../helpers/loop.js';

const cli = path.join(projectRoot, 'dist', 'src', 'cli', 'main.js');
const from = 'alice@contoso.com';

type StatusJson = ServiceStatus & { attention: string[] };

/**
 * Issue 20: the console's health page and `sigrelay status` defined "in retry" differently and
 * could show different numbers for one storage. Both now render one read-model (src/status); this
 * puts a message in each state on one Azurite and asks both.
 */
describe(
  'sigrelay status --json and the console health API agree on one storage',
  { timeout: 240_000 },
  () => {
    let loop: Awaited<ReturnType<typeof startLoop>>;
    let configDir: string;
    let cookie = '';

    before(async () => {
      configDir = await faultConfig();
      // A message stored by hand must not be taken for an orphan while the test looks at it.
      loop = await startLoop({ configDir, env: { ...faultEnv, SIGRELAY_ORPHAN_MINUTES: '60' } });
      const res = await fetch(`http://127.0.0.1:${loop.stack.ports.functions}/api/admin/dev/signin`, {
        method: 'POST',
        headers: { [csrfHeader]: '1', 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Ada Admin', admin: true }),
      });
      assert.equal(res.status, 204, await res.text());
      cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    });
    after(async () => loop?.dispose());

    function cliStatus(): StatusJson {
      const run = spawnSync(process.execPath, [cli, 'status', '--json'], {
        env: {
          ...process.env,
          AzureWebJobsStorage: loop.stack.azurite.connectionString,
          SIGRELAY_CONFIG: configDir,
        },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(run.stderr, '');
      return JSON.parse(run.stdout) as StatusJson;
    }

    async function health(): Promise<Health> {
      const res = await fetch(`http://127.0.0.1:${loop.stack.ports.functions}/api/admin/health`, {
        headers: { cookie },
      });
      assert.equal(res.status, 200);
      return (await res.json()) as Health;
    }

    /**
     * The figures, without the moment each was read at (`at`, and the age derived from it) and what
     * only the console's process knows (the trace's last hour, its configuration in service).
     */
    function figures(s: StatusJson | Health): unknown {
      const { at: _at, inbound, ...rest } = s;
      if ('lastHour' in rest) {
        const { lastHour: _hour, config: _config, ...status } = rest;
        return figures({ at: s.at, inbound, ...status });
      }
      const { oldest, ...queue } = inbound;
      return { ...rest, inbound: { ...queue, oldest: oldest && { id: oldest.id, since: oldest.since } } };
    }

    it('a deferred message in retry, one retried after a 5xx, a dead letter and a poison claim-check', async () => {
      // Dead: the only recipient is refused permanently.
      await loop.stack.setStandinBehaviour({
        rcptReplies: { 'gone@fabrikam.example': { code: 550, text: 'Mailbox unavailable' } },
      });
      const dead = idFromReply(await loop.send(outlookReply(), { from, to: ['gone@fabrikam.example'] }));
      await eventually('the dead letter', () => Promise.resolve(cliStatus().deadLetters.count === 1), 60_000);

      // In retry: the endpoint defers every message from now on.
      await loop.stack.setStandinBehaviour({
        dataReply: { code: 451, text: 'Server busy. Please try again later' },
      });
      const retried = idFromReply(await loop.send(outlookReply(), { from, to: ['megan@fabrikam.example'] }));
      await eventually(
        'the deferred message to be in retry with its reason',
        () => Promise.resolve(cliStatus().retrying.byReason[0]?.reason === 'throttled'),
        60_000,
      );

      // Retried after a permanent reply: a stored message whose delivery record says 501.
      const storage = loop.storage();
      await storage.inbound.getBlockBlobClient('stuck-on-501').upload('Subject: x\r\n\r\nhi\r\n', 17);
      await new DeliveryStateTable(storage.table(names.stateTable)).put('stuck-on-501', {
        delivered: [],
        rejected: {},
        lastResponse: '501 5.1.3 Bad recipient address syntax',
        attempts: 2,
        updatedAt: new Date().toISOString(),
      });

      // Poison: a claim-check nobody can decode.
      const poison = storage.queues.getQueueClient(`${names.inboundQueue}-poison`);
      await poison.createIfNotExists();
      await poison.sendMessage(Buffer.from('not a claim-check').toString('base64'));

      const fromCli = cliStatus();
      const fromConsole = await health();
      assert.deepEqual(figures(fromConsole), figures(fromCli));

      // What both say, so agreeing on nothing would not pass.
      assert.equal(fromConsole.retrying.count, 1);
      assert.equal(fromConsole.inbound.stored, 2, `${retried} and stuck-on-501`);
      assert.deepEqual(fromConsole.retrying.afterPermanentReply, [
        { id: 'stuck-on-501', response: '501 5.1.3 Bad recipient address syntax' },
      ]);
      assert.equal(fromConsole.deadLetters.count, 1, dead);
      assert.equal(fromConsole.inbound.poison, 1);
      assert.equal(fromConsole.attention.length, 3, fromConsole.attention.join('\n'));
      assert.equal(fromConsole.configuration.error, null);
    });
  },
);
