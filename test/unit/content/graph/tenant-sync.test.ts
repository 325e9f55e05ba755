import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import sharp from 'sharp';
import { tenantSchema, type Tenant } from '../../../../src/config/index.js';
import { DirectoryFiles, loadContent, localPhotoFolder } from '../../../../src/content/index.js';
import {
  readSyncStatus,
  syncStatusFile,
  syncStatusOfTenants,
  syncTenants,
  tenantCredential,
  type SecretReader,
  type TenantSyncOptions,
} from '../../../../src/content/graph/index.js';
import { GraphServer, tenantToken } from '../../../helpers/graph-server.js';

const ids = {
  north: '2b7e0c1a-4d3f-4a8e-9b21-7c6d5e4f3a10',
  tail: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a',
  broken: '33333333-3333-4333-8333-333333333333',
};

function tenant(id: string, name: string, domain: string, directory: Record<string, unknown> = {}): Tenant {
  return tenantSchema.parse({
    id,
    name,
    domains: [domain],
    delivery: { host: `${name}.mail.protection.outlook.com` },
    folder: `tenants/${name}`,
    directory: { credential: { type: 'managed-identity' }, ...directory },
  });
}

function alex(id: string, domain: string, jobTitle: string): { id: string; [key: string]: unknown } {
  return {
    id,
    mail: `alex@${domain}`,
    userPrincipalName: `alex@${domain}`,
    displayName: 'Alex Wilber',
    jobTitle,
  };
}

async function jpeg(width: number, colour: string): Promise<Buffer> {
  return sharp({ create: { width, height: width, channels: 3, background: colour } })
    .jpeg()
    .toBuffer();
}

void describe('directory sync per tenant', () => {
  const graph = new GraphServer();
  let dir: string;
  let options: TenantSyncOptions;
  let clock: number;
  const north = tenant(ids.north, 'northwind', 'northwind.example', {
    photos: { size: 64 },
    groups: ['Sales'],
  });
  const tail = tenant(ids.tail, 'tailspin', 'tailspin.example', { everyMinutes: 60 });

  before(() => graph.start());
  after(() => graph.stop());
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-tenant-sync-'));
    graph.tenants.clear();
    const n = graph.tenant(ids.north);
    n.users = [
      alex('n-alex', 'northwind.example', 'Buyer'),
      { id: 'n-megan', mail: 'megan@northwind.example', displayName: 'Megan' },
    ];
    n.groups = { Sales: { id: 'g1', members: ['n-alex'] } };
    n.photos.set('n-alex', await jpeg(120, '#1F4E79'));
    graph.tenant(ids.tail).users = [alex('t-alex', 'tailspin.example', 'Designer')];
    clock = Date.parse('2026-12-02T08:00:00Z');
    options = {
      tenants: [north, tail],
      target: new DirectoryFiles(dir),
      photos: new DirectoryFiles(path.join(dir, localPhotoFolder)),
      credentialFor: (t) => Promise.resolve(tenantToken(t.id)),
      graphUrl: graph.base,
      now: () => clock,
    };
  });

  async function usersOf(folder: string): Promise<Record<string, unknown>[]> {
    return JSON.parse(await fs.readFile(path.join(dir, folder, 'users.json'), 'utf8')) as Record<
      string,
      unknown
    >[];
  }

  void it("each tenant's users land in its own folder, read with its own token", async () => {
    await syncTenants({ ...options, tenants: [north, tail] });
    assert.deepEqual(
      (await usersOf('tenants/northwind')).map((u) => u.jobTitle),
      ['Buyer', undefined],
    );
    assert.deepEqual(
      (await usersOf('tenants/tailspin')).map((u) => [u.mail, u.jobTitle]),
      [['alex@tailspin.example', 'Designer']],
    );
    assert.ok(
      graph.tenant(ids.tail).requests.every((r) => !r.includes('/photos/')),
      'Tailspin has photos off',
    );
  });

  void it('each tenant records its last success, user and group counts where status reads them', async () => {
    await syncTenants(options);
    const status = await readSyncStatus(new DirectoryFiles(dir), ids.north);
    assert.ok(status);
    assert.equal(status.tenantName, 'northwind');
    assert.equal(status.lastSuccessAt, new Date(clock).toISOString());
    assert.equal(status.lastError, null);
    assert.equal(status.users, 2);
    assert.equal(status.groups, 1);
    assert.equal(status.photos, 1);
    assert.ok(await fs.stat(path.join(dir, syncStatusFile(ids.tail))));
  });

  for (const [fault, expected] of [
    ['consent withdrawn (401)', { status: 401 }],
    ['a missing application role (403)', { status: 403 }],
    ['throttling with a long Retry-After (429)', { status: 429 }],
    ['a tenant that never answers (timeout)', { code: 'Timeout' }],
  ] as const) {
    void it(`${fault} is reported for that tenant and the others still sync`, async () => {
      const broken = tenant(ids.broken, 'broken', 'broken.example', { timeoutSeconds: 1 });
      const b = graph.tenant(ids.broken);
      if ('code' in expected) b.hang = true;
      else if (expected.status === 429) {
        b.throttleNext = 100;
        b.retryAfterSeconds = 3600;
      } else b.failWith = expected.status;

      const outcomes = await syncTenants({ ...options, tenants: [broken, north, tail] });
      assert.deepEqual(
        outcomes.map((o) => [o.tenant, o.status.lastError === null]),
        [
          ['broken', false],
          ['northwind', true],
          ['tailspin', true],
        ],
      );
      const status = await readSyncStatus(new DirectoryFiles(dir), ids.broken);
      assert.ok(status?.lastError);
      if ('code' in expected) assert.equal(status.lastError.code, 'Timeout');
      else assert.equal(status.lastError.status, expected.status);
      assert.equal(status.consecutiveFailures, 1);
      assert.equal(status.lastSuccessAt, null);
      assert.equal((await usersOf('tenants/tailspin')).length, 1);
    });
  }

  void it('syncStatusOfTenants: every configured tenant, synced or failing, never synced or hand-maintained', async () => {
    const broken = tenant(ids.broken, 'broken', 'broken.example');
    graph.tenant(ids.broken).failWith = 403;
    await syncTenants({ ...options, tenants: [north, broken] });
    const handMaintained = { ...tail, id: '44444444-4444-4444-8444-444444444444', name: 'by hand' };
    delete handMaintained.directory;
    handMaintained.domains = ['byhand.example'];
    handMaintained.folder = 'tenants/byhand';
    await fs.writeFile(path.join(dir, 'tenants.json'), JSON.stringify([north, broken, tail, handMaintained]));

    const states = await syncStatusOfTenants(dir);
    assert.deepEqual(
      states.map((s) => [s.tenantName, s.synced, s.lastSuccessAt !== null, s.lastError?.status ?? null]),
      [
        ['northwind', true, true, null],
        ['broken', true, false, 403],
        ['tailspin', true, false, null],
        ['by hand', false, false, null],
      ],
    );
    const [northState] = states;
    assert.deepEqual(
      [northState?.users, northState?.groups, northState?.photos, northState?.missingGroups],
      [2, 1, 1, []],
    );
    assert.equal(states[1]?.consecutiveFailures, 1);
    assert.equal(states[2]?.status, undefined, 'Tailspin was never synced');
    assert.deepEqual(
      await syncStatusOfTenants(new DirectoryFiles(dir)),
      states,
      'the same from config files',
    );
  });

  void it('syncStatusOfTenants names an unreadable status file and a missing tenants.json', async () => {
    await fs.writeFile(path.join(dir, 'tenants.json'), JSON.stringify([north]));
    await fs.mkdir(path.dirname(path.join(dir, syncStatusFile(ids.north))), { recursive: true });
    await fs.writeFile(path.join(dir, syncStatusFile(ids.north)), '{ not json');
    const [state] = await syncStatusOfTenants(dir);
    assert.match(state?.problem ?? '', new RegExp(`^\\.sync/status/${ids.north}\\.json: `));
    await fs.rm(path.join(dir, 'tenants.json'));
    await assert.rejects(syncStatusOfTenants(dir), (err: Error) => {
      assert.equal(err.message, `${path.join(dir, 'tenants.json')}: not found`);
      return true;
    });
  });

  void it('a failed run keeps the last good users.json and the last success time', async () => {
    await syncTenants(options);
    const first = await usersOf('tenants/northwind');
    clock += 16 * 60_000;
    graph.tenant(ids.north).failWith = 401;
    await syncTenants(options);
    assert.deepEqual(await usersOf('tenants/northwind'), first);
    const status = await readSyncStatus(new DirectoryFiles(dir), ids.north);
    assert.equal(status?.lastSuccessAt, new Date(clock - 16 * 60_000).toISOString());
    assert.equal(status?.lastError?.status, 401);
    assert.equal(status?.users, 2);
  });

  void it('each tenant follows its own schedule', async () => {
    await syncTenants(options);
    clock += 20 * 60_000;
    const outcomes = await syncTenants(options);
    assert.deepEqual(
      outcomes.map((o) => [o.tenant, o.ran]),
      [
        ['northwind', true],
        ['tailspin', false],
      ],
    );
  });

  void it('extra attributes named in tenants.json are selected and kept', async () => {
    graph.tenant(ids.tail).users = [{ ...alex('t-alex', 'tailspin.example', 'Designer'), employeeId: 'T-7' }];
    const withAttributes = tenant(ids.tail, 'tailspin', 'tailspin.example', { attributes: ['employeeId'] });
    await syncTenants({ ...options, tenants: [withAttributes] });
    assert.equal((await usersOf('tenants/tailspin'))[0]?.employeeId, 'T-7');
    assert.ok(graph.tenant(ids.tail).requests.some((r) => r.includes('employeeId')));
  });

  void it("the sender's photo is stored resized with the snapshot and embedded; no photo, no image", async () => {
    await syncTenants(options);
    const [alexUser, megan] = await usersOf('tenants/northwind');
    assert.match(String(alexUser?.photo), /^n-alex-[0-9a-f]{8}\.jpg$/);
    assert.equal(megan?.photo, undefined);
    const stored = await fs.readFile(path.join(dir, localPhotoFolder, ids.north, String(alexUser?.photo)));
    const meta = await sharp(stored).metadata();
    assert.deepEqual([meta.width, meta.height, meta.format], [64, 64, 'jpeg']);
    assert.ok(graph.tenant(ids.north).requests.some((r) => r.includes('/users/n-alex/photos/64x64/$value')));

    await fs.writeFile(
      path.join(dir, 'tenants.json'),
      JSON.stringify([{ ...north, directory: { ...north.directory } }]),
    );
    await fs.mkdir(path.join(dir, 'tenants/northwind/templates'), { recursive: true });
    await fs.writeFile(
      path.join(dir, 'tenants/northwind/templates/corporate.html'),
      '<p>{% if photo %}<img src="{{ photo.src }}" width="{{ photo.size }}">{% endif %}{{ user.displayName }}</p>',
    );
    await fs.writeFile(
      path.join(dir, 'tenants/northwind/rules.json'),
      JSON.stringify([{ name: 'all', template: 'corporate' }]),
    );
    const content = await loadContent(dir);
    const resolve = (sender: string) =>
      content.resolve({ sender, from: sender, recipients: ['x@example.org'], headers: new Map() });
    const withPhoto = await resolve('alex@northwind.example');
    assert.equal(withPhoto.action, 'sign');
    if (withPhoto.action !== 'sign') return;
    assert.match(withPhoto.content.html, /<img src="cid:n-alex-[0-9a-f]{8}\.jpg@sigrelay" width="64">/);
    assert.deepEqual(
      withPhoto.content.images.map((i) => [i.contentType, i.content.equals(stored)]),
      [['image/jpeg', true]],
    );
    const without = await resolve('megan@northwind.example');
    assert.equal(without.action, 'sign');
    if (without.action === 'sign') {
      assert.doesNotMatch(without.content.html, /<img/);
      assert.equal(without.content.images.length, 0);
    }
  });

  void it('photos are not fetched again before refreshHours', async () => {
    await syncTenants(options);
    clock += 16 * 60_000;
    const before = graph.tenant(ids.north).requests.filter((r) => r.includes('/photos/')).length;
    await syncTenants(options);
    assert.equal(graph.tenant(ids.north).requests.filter((r) => r.includes('/photos/')).length, before);
    assert.match(
      String((await usersOf('tenants/northwind'))[0]?.photo),
      /^n-alex-/,
      'the photo stays in the snapshot',
    );
  });
});

void describe('per-tenant credentials', () => {
  const secrets: SecretReader = { read: () => Promise.resolve('s3cret') };
  const t = tenant(ids.tail, 'tailspin', 'tailspin.example');

  void it('a managed identity named for a tenant other than the home tenant is refused', async () => {
    await assert.rejects(
      tenantCredential(t, { type: 'managed-identity' }, secrets, ids.north),
      /managed identity only reaches the home tenant/,
    );
  });

  void it("a multi-tenant app's secret credential asks the tenant's own authority", async () => {
    const credential = await tenantCredential(
      t,
      { type: 'client-secret', clientId: '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d', secret: { env: 'X' } },
      secrets,
      ids.north,
    );
    assert.equal((credential as unknown as { tenantId: string }).tenantId, ids.tail);
  });
});
