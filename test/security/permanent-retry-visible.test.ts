import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collectHealth } from '../../src/admin/health.js';
import { sampleConfigDir } from '../../src/config/index.js';
import { DirectoryFiles } from '../../src/content/index.js';
import { collectStatus, formatStatus, needsAttention } from '../../src/status/index.js';
import { DeliveryStateTable, names, type StorageClients } from '../../src/storage/index.js';
import { MessageTrace } from '../../src/trace/index.js';
import { startStorage } from '../helpers/front-harness.js';

/**
 * Issue 19, finding 3: a recipient the endpoint refused with 501 was retried for 48 h while
 * `sigrelay status` said nothing needs attention. Delivery now records such a refusal as
 * permanent; should anything still be retried after a 5xx, status and the console show it.
 */
describe('a message retried after a permanent reply is visible', { timeout: 60_000 }, () => {
  let storage: StorageClients;
  let dispose: () => Promise<void>;
  let state: DeliveryStateTable;

  before(async () => {
    ({ storage, dispose } = await startStorage());
    state = new DeliveryStateTable(storage.table(names.stateTable));
    await storage.table(names.stateTable).createTable();
    const store = storage.inbound;
    for (const id of ['stuck-on-501', 'deferred-on-451', 'first-attempt-pending']) {
      await store.getBlockBlobClient(id).upload('Subject: x\r\n\r\nhi\r\n', 17);
    }
    const now = new Date().toISOString();
    await state.put('stuck-on-501', {
      delivered: [],
      rejected: {},
      lastResponse: '501 5.1.3 Bad recipient address syntax',
      attempts: 7,
      updatedAt: now,
    });
    await state.put('deferred-on-451', {
      delivered: [],
      rejected: {},
      lastResponse: '451 4.3.0 try later',
      attempts: 3,
      updatedAt: now,
    });
  });
  after(async () => dispose());

  it('sigrelay status lists it and says it needs attention; a 4xx retry does not', async () => {
    const status = await collectStatus({
      storage,
      instances: storage.table('SecurityTestInstances'),
      config: new DirectoryFiles(sampleConfigDir),
      configBaseDir: sampleConfigDir,
      storageLabel: 'Azurite',
    });
    assert.deepEqual(status.retrying.afterPermanentReply, [
      { id: 'stuck-on-501', response: '501 5.1.3 Bad recipient address syntax' },
    ]);
    const attention = needsAttention(status);
    assert.equal(attention.length, 1, attention.join('\n'));
    assert.match(
      attention[0] ?? '',
      /1 message\(s\) still retried after a permanent \(5xx\) reply, e\.g\. stuck-on-501/,
    );
    assert.match(formatStatus(status), /retried after 5xx {4}1 message/);
  });

  it('the console health counts it, with the same attention line', async () => {
    const sources = {
      storage,
      instances: storage.table('SecurityTestInstances'),
      config: new DirectoryFiles(sampleConfigDir),
      configBaseDir: sampleConfigDir,
      storageLabel: 'Azurite',
    };
    const health = await collectHealth(sources, new MessageTrace(storage.table), () =>
      Promise.resolve({ versionInService: 'test', loadedAt: new Date().toISOString() }),
    );
    assert.deepEqual(health.retrying.afterPermanentReply, [
      { id: 'stuck-on-501', response: '501 5.1.3 Bad recipient address syntax' },
    ]);
    assert.equal(health.attention.length, 1, health.attention.join('\n'));
    assert.match(
      health.attention[0] ?? '',
      /still retried after a permanent \(5xx\) reply, e\.g\. stuck-on-501/,
    );
  });
});
