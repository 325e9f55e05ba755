import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSettings, loadTenants, projectRoot } from '../../src/config/index.js';
import { syncStatusFile, type TenantSyncStatus } from '../../src/content/graph/tenant-sync.js';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { collectStatus, needsAttention, statusSources, type ServiceStatus } from '../../src/status/index.js';
import { idFromReply } from '../helpers/fault-checks.js';
import { faultConfig, faultEnv } from '../helpers/fault-config.js';
import { eventually, startLoop } from '../helpers/loop.js';

const cli = path.join(projectRoot, 'dist', 'src', 'cli', 'main.js');
const from = 'alice@contoso.com';

describe('sigrelay status against the local loop', { timeout: 240_000 }, () => {
  let loop: Awaited<ReturnType<typeof startLoop>>;
  let configDir: string;
  before(async () => {
    configDir = await faultConfig();
    loop = await startLoop({ configDir, env: faultEnv });
  });
  after(async () => loop?.dispose());

  function status(...args: string[]) {
    const env = {
      ...process.env,
      AzureWebJobsStorage: loop.stack.azurite.connectionString,
      SIGRELAY_CONFIG: configDir,
    };
    return spawnSync(process.execPath, [cli, 'status', ...args], { env, encoding: 'utf8', timeout: 60_000 });
  }

  function json(...args: string[]): { code: number | null; status: ServiceStatus & { attention: string[] } } {
    const run = status('--json', ...args);
    assert.equal(run.stderr, '');
    return { code: run.status, status: JSON.parse(run.stdout) as ServiceStatus & { attention: string[] } };
  }

  const sources = (configDir_ = configDir) =>
    statusSources({
      settings: loadSettings({ AzureWebJobsStorage: loop.stack.azurite.connectionString }),
      configDir: configDir_,
    });

  it('an idle loop: nothing waiting, the configuration in service, exit 0', () => {
    const { code, status: s } = json();
    assert.equal(code, 0);
    assert.deepEqual(s.attention, []);
    assert.equal(s.inbound.depth, 0);
    assert.equal(s.inbound.stored, 0);
    assert.equal(s.inbound.oldest, null);
    assert.equal(s.retrying.count, 0);
    assert.equal(s.deadLetters.count, 0);
    assert.equal(s.configuration.error, null);
    assert.deepEqual(
      s.configuration.tenants.map((t) => t.name),
      ['Contoso Ltd'],
    );
    assert.match(s.storage, /^Azurite at 127\.0\.0\.1:\d+$/);
    const human = status();
    assert.equal(human.status, 0);
    assert.match(human.stdout, /nothing needs attention/);
  });

  it('a message the endpoint keeps deferring is stored, in retry (grouped by reason), and oldest; late only after 15 minutes', async () => {
    await loop.stack.setStandinBehaviour({
      dataReply: { code: 451, text: 'Server busy. Please try again later' },
    });
    const id = idFromReply(await loop.send(outlookReply(), { from, to: ['megan@fabrikam.example'] }));
    await eventually(
      'the orchestration to be in retry',
      () => Promise.resolve(json().status.retrying.count === 1),
      60_000,
    );
    const { code, status: s } = json();
    assert.equal(code, 0, 'a young message in retry needs no one');
    assert.equal(s.inbound.stored, 1);
    assert.equal(s.inbound.oldest?.id, id);
    const human = status().stdout;
    assert.match(human, /in retry +1 orchestration\(s\), oldest since /);
    await eventually(
      'the first attempt to be recorded',
      () => Promise.resolve(json().status.retrying.byReason[0]?.reason === 'throttled'),
      60_000,
    );
    assert.match(status().stdout, /\n +1 × Throttled by Exchange Online Protection: 451 .*Server busy.* → /);
    assert.match(human, new RegExp(`oldest message +\\d+ s \\(${id}, since `));

    // The same state seen 20 minutes on: the oldest message now needs attention.
    const later = await collectStatus({ ...sources(), now: () => Date.now() + 20 * 60_000 });
    assert.match(
      needsAttention(later).join('\n'),
      new RegExp(`the oldest message \\(${id}\\) has waited 2\\d min`),
    );

    await loop.stack.setStandinBehaviour({});
    await eventually('the retry to end', () => Promise.resolve(json().status.retrying.count === 0), 60_000);
    assert.equal(json().status.inbound.stored, 0);
  });

  it('a dead letter and a poison claim-check need attention: exit 1, each said plainly', async () => {
    await loop.stack.setStandinBehaviour({
      rcptReplies: { 'gone@fabrikam.example': { code: 550, text: 'Mailbox unavailable' } },
    });
    const id = idFromReply(await loop.send(outlookReply(), { from, to: ['gone@fabrikam.example'] }));
    await eventually('the dead letter', () => Promise.resolve(json().status.deadLetters.count === 1), 60_000);
    const poison = loop.storage().queues.getQueueClient('inbound-poison');
    await poison.createIfNotExists();
    await poison.sendMessage(Buffer.from('not a claim-check').toString('base64'));

    const { code, status: s } = json();
    assert.equal(code, 1);
    assert.equal(s.inbound.poison, 1);
    assert.ok(s.deadLetters.oldestAt);
    assert.deepEqual(s.attention, [
      '1 dead letter(s): sigrelay deadletter list, then replay or delete them',
      '1 undecodable claim-check(s) in inbound-poison',
    ]);
    const human = status();
    assert.equal(human.status, 1);
    assert.match(human.stdout, /dead letters +1, oldest /);
    assert.match(human.stdout, /needs attention:\n {2}- 1 dead letter\(s\)/);
    assert.ok(id);
    await poison.clearMessages();
  });

  it('a configuration that does not load is named with its file and field: exit 1', async () => {
    const rules = path.join(configDir, 'rules.json');
    const good = await fs.readFile(rules, 'utf8');
    await fs.writeFile(rules, JSON.stringify([{ name: 'broken' }]));
    try {
      const { code, status: s } = json();
      assert.equal(code, 1);
      assert.match(s.configuration.error ?? '', /rules\.json: \[0\]\.template/);
      assert.ok(s.attention.some((a) => a.startsWith('the configuration does not load')));
      assert.match(status().stdout, /configuration .*: DOES NOT LOAD/);
    } finally {
      await fs.writeFile(rules, good);
    }
  });

  it("each synced tenant's directory state: failing, never synced", async () => {
    const msp = await fs.mkdtemp(path.join(path.dirname(configDir), 'sigrelay-status-msp-'));
    await fs.cp(path.join(projectRoot, 'config', 'msp'), msp, { recursive: true });
    const [northwind, tailspin] = (await loadTenants(msp)).tenants.filter((t) => t.directory);
    assert.ok(northwind && tailspin);
    const failing: TenantSyncStatus = {
      version: 1,
      tenantId: northwind.id,
      tenantName: northwind.name,
      lastAttemptAt: new Date().toISOString(),
      lastSuccessAt: null,
      lastError: {
        at: new Date().toISOString(),
        status: 401,
        code: 'InvalidAuthenticationToken',
        message: 'consent withdrawn',
      },
      consecutiveFailures: 3,
      mode: null,
      users: null,
      groups: null,
      missingGroups: [],
      photos: null,
      durationMs: 10,
    };
    await fs.mkdir(path.dirname(path.join(msp, syncStatusFile(northwind.id))), { recursive: true });
    await fs.writeFile(path.join(msp, syncStatusFile(northwind.id)), JSON.stringify(failing));

    const s = await collectStatus(sources(msp));
    const byId = new Map(s.directory.map((d) => [d.tenantId, d]));
    assert.equal(byId.get(northwind.id)?.lastError, '401 InvalidAuthenticationToken consent withdrawn');
    assert.equal(byId.get(northwind.id)?.consecutiveFailures, 3);
    assert.equal(byId.get(tailspin.id)?.lastAttemptAt, undefined, 'never synced');
    assert.ok(
      needsAttention(s).includes(
        `directory sync of ${northwind.name} fails (3×): 401 InvalidAuthenticationToken consent withdrawn`,
      ),
    );
    await fs.rm(msp, { recursive: true, force: true });
  });
});
