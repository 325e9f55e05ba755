import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { rowKeyOf } from '../../src/ratelimit/index.js';
import { contributionsOf } from '../../src/ratelimit/shared-entity.js';
import { totals } from '../../src/ratelimit/windows.js';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { names } from '../../src/storage/index.js';
import { startLoop } from '../helpers/loop.js';

const contosoId = '6f1c2e3a-8b4d-4c5e-9f60-1a2b3c4d5e6f';

let loop: Awaited<ReturnType<typeof startLoop>>;
before(async () => {
  // An hour between syncs: only the shutdown flush can have written the counts.
  loop = await startLoop({ env: { SIGRELAY_RATE_SYNC_INTERVAL_MS: '3600000' } });
});
after(async () => {
  await loop?.dispose();
});

test(
  'a front stopped with SIGTERM writes the rate counts it had not synced yet',
  { timeout: 120_000 },
  async () => {
    for (let i = 0; i < 2; i++) {
      const raw = outlookReply({ from: 'alice@contoso.com', to: 'megan@fabrikam.example' });
      const reply = await loop.send(raw, { from: 'alice@contoso.com', to: ['megan@fabrikam.example'] });
      assert.match(reply, /^250 /);
    }
    await loop.stack.kill('front', 'SIGTERM');
    const entity = await loop
      .storage()
      .table(names.limitsTable)
      .getEntity<Record<string, unknown>>(contosoId, rowKeyOf('alice@contoso.com'));
    assert.equal(totals(contributionsOf(entity).values(), Date.now()).day, 2);
  },
);
