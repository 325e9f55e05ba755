import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ContainerClient } from '@azure/storage-blob';
import { TableClient } from '@azure/data-tables';
import { AuditLog } from '../../../src/admin/audit.js';
import { ConfigEditor } from '../../../src/admin/config-editor.js';
import { DirectoryStore } from '../../../src/admin/config-store.js';
import { ApiFailure } from '../../../src/admin/http.js';
import { PreviewService } from '../../../src/admin/preview.js';
import { RulesView } from '../../../src/admin/rules-view.js';
import { VersionStore } from '../../../src/admin/versions.js';
import { projectRoot } from '../../../src/config/index.js';
import { loadContent } from '../../../src/content/index.js';

/**
 * The MSP layout (config/msp): each tenant's folder is its own scope. Only reads and validation
 * here, which touch the configuration directory alone; saves (versions, audit) are covered over HTTP
 * with Azurite in test/integration/admin-api.test.ts. The version and audit clients point at a port
 * nothing listens on, so a write reaching them would fail the test.
 */
describe('the console over a configuration with tenant folders', () => {
  let dir: string;
  let editor: ConfigEditor;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-msp-'));
    await fs.cp(path.join(projectRoot, 'config', 'msp'), dir, { recursive: true });
    const inService = loadContent(dir);
    editor = new ConfigEditor({
      store: new DirectoryStore(dir),
      versions: new VersionStore(new ContainerClient('http://127.0.0.1:9/devstoreaccount1/configversions')),
      audit: new AuditLog(new TableClient('http://127.0.0.1:9/devstoreaccount1', 'sigrelayaudit')),
      inService: () => inService,
    });
  });
  after(async () => {
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('lists the root and each tenant folder as a scope with its own templates', async () => {
    const overview = await editor.overview();
    const scopes = Object.fromEntries(overview.scopes.map((s) => [s.scope, s]));
    assert.deepEqual(Object.keys(scopes).sort(), ['', 'tenants/northwind', 'tenants/tailspin']);
    assert.deepEqual(
      scopes['tenants/northwind']?.tenants.map((t) => t.name),
      ['Northwind Traders'],
    );
    assert.deepEqual(scopes['tenants/tailspin']?.templates.sort(), ['banner-toy-fair', 'corporate']);
  });

  it('names the tenant folder file and line of a Liquid error', async () => {
    const name = 'tenants/tailspin/templates/corporate.html';
    await assert.rejects(
      editor.validate(new Map([[name, Buffer.from('<p>ok</p>\n<p>{% if %}</p>\n')]])),
      (err: unknown) =>
        err instanceof ApiFailure && err.status === 422 && err.body.file === name && err.body.line === 2,
    );
  });

  it('computes who gets what per tenant folder, with that folder’s rules only', async () => {
    const view = await new RulesView(editor).whoGetsWhat('tenants/northwind');
    assert.deepEqual(
      view.rows.map((r) => r.address),
      ['alex@northwindtraders.com', 'megan@northwindtraders.com'],
    );
    for (const row of view.rows) {
      assert.equal(row.tenantName, 'Northwind Traders');
      assert.ok(['sales', 'corporate'].includes(row.externalNew.rule ?? ''), JSON.stringify(row));
    }
  });

  it('finds users of every tenant for the sender picker', async () => {
    const hits = await new PreviewService(editor, 'X-Sigrelay-Processed').searchUsers('alex');
    assert.deepEqual(
      hits.map((h) => [h.address, h.tenantName, h.scope]),
      [
        ['alex@northwindtraders.com', 'Northwind Traders', 'tenants/northwind'],
        ['alex@tailspintoys.com', 'Tailspin Toys', 'tenants/tailspin'],
      ],
    );
  });
});
