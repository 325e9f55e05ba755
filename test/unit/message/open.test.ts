import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Tenant } from '../../../src/config/index.js';
import { openMessage } from '../../../src/message/open.js';
import { memoryRuntime, metaOf } from '../../helpers/message-runtime.js';

const tenant = { id: 'tenant-1' } as Tenant;

describe('message step: open', () => {
  it('a message no longer stored opens as nothing and is traced as missing', async () => {
    const { rt } = memoryRuntime();
    const step = await openMessage(rt, 'gone-0001');
    assert.equal(step.outcome, undefined);
    assert.deepEqual(
      step.events.map((e) => e.event),
      ['missing'],
    );
  });

  it('a stored message opens with its tenant and is traced as received, without content', async () => {
    const { rt, store } = memoryRuntime({ tenants: [tenant] });
    store(metaOf('msg-0001', ['a@fabrikam.example', 'b@fabrikam.example']));
    const step = await openMessage(rt, 'msg-0001');
    assert.equal(step.outcome?.tenant, tenant);
    assert.deepEqual(step.events, [
      {
        event: 'received',
        size: 100,
        sender: 'alice@contoso.com',
        recipients: 2,
        tenantId: 'tenant-1',
        client: '127.0.0.1',
        tls: 'TLSv1.3',
      },
    ]);
    step.outcome?.source.destroy();
  });

  it('an unknown tenant opens with no tenant, for the caller to decide', async () => {
    const { rt, store } = memoryRuntime({ tenants: [] });
    store(metaOf('msg-0002'));
    const step = await openMessage(rt, 'msg-0002');
    assert.ok(step.outcome);
    assert.equal(step.outcome.tenant, undefined);
    step.outcome.source.destroy();
  });

  it('an unreadable configuration rejects and closes the message stream again', async () => {
    const { rt, store, opened } = memoryRuntime({ contentFails: true });
    store(metaOf('msg-0003'));
    await assert.rejects(openMessage(rt, 'msg-0003'), /configuration unreadable/);
    assert.equal(opened.length, 1);
    assert.equal(opened[0]?.destroyed, true);
  });
});
