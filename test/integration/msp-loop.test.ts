import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { loadTenants, projectRoot } from '../../src/config/index.js';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { startLoop } from '../helpers/loop.js';

/** `SIGRELAY_CONFIG=config/msp npm start`: each tenant's Alex Wilber gets their own tenant's signature. */
describe('the loop with the two-tenant sample (config/msp)', { timeout: 120_000 }, () => {
  let loop: Awaited<ReturnType<typeof startLoop>>;
  before(async () => {
    loop = await startLoop({ configDir: path.join(projectRoot, 'config', 'msp') });
  });
  after(async () => {
    await loop?.dispose();
  });

  it("signs each tenant's mail with its own template", async () => {
    const tenants = await loadTenants(path.join(projectRoot, 'config', 'msp'));
    const senders = [
      ['alex@northwindtraders.com', /Purchasing Manager/],
      ['alex@tailspintoys.com', /Toy Designer/],
    ] as const;
    const ids = new Map<string, (typeof senders)[number]>();
    for (const sender of senders) {
      const tenantId = tenants.forAddress(sender[0])?.id;
      const raw = outlookReply({ from: sender[0], to: 'buyer@example.org', tenantId });
      const reply = await loop.send(raw, {
        from: sender[0],
        to: ['buyer@example.org'],
      });
      const id = /^250 2\.0\.0 (\S+) queued$/.exec(reply)?.[1];
      assert.ok(id, reply);
      ids.set(id, sender);
    }
    const files = await loop.waitForOutbox(2, 60_000);
    for (const file of files) {
      const id = path.basename(file, '.eml');
      const [sender, title] = ids.get(id) ?? [];
      assert.ok(sender, `unexpected delivery ${id}`);
      const html = String((await simpleParser(await fs.readFile(file))).html);
      assert.match(html, title ?? /never/);
      const other = senders.find((s) => s[0] !== sender);
      assert.ok(other && !other[1].test(html), `${sender}'s message carries no trace of the other tenant`);
    }
  });
});
