import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { DirectoryFiles } from '../../../../src/content/index.js';
import {
  GraphClient,
  GraphError,
  syncDirectory,
  syncStateFile,
} from '../../../../src/content/graph/index.js';

/** Issues a fixed token, so the server can check the client presents the credential's token. */
const credential: TokenCredential = {
  getToken: () =>
    Promise.resolve({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 } as AccessToken),
};

interface GraphUserRow {
  id: string;
  [key: string]: unknown;
}

/**
 * A tiny Microsoft Graph: `/users` in pages of two with `@odata.nextLink`, `/users/delta` with
 * `$deltatoken=latest` and one scripted round of changes, groups by displayName with paged
 * transitive members, and a 429 with Retry-After on demand.
 */
class FakeGraph {
  users: GraphUserRow[] = [
    {
      id: 'u1',
      mail: 'ada@fabrikam.com',
      userPrincipalName: 'ada@fabrikam.com',
      displayName: 'Ada',
      jobTitle: 'CTO',
    },
    {
      id: 'u2',
      mail: 'bob@fabrikam.com',
      userPrincipalName: 'bob@fabrikam.com',
      displayName: 'Bob',
      jobTitle: null,
    },
    {
      id: 'u3',
      mail: 'zoe@fabrikam.com',
      userPrincipalName: 'zoe@fabrikam.com',
      displayName: 'Zoë',
      jobTitle: 'R&D',
    },
  ];
  groups: Record<string, { id: string; members: string[] }> = {
    Sales: { id: 'g-sales', members: ['u1', 'u3'] },
  };
  deltaChanges: GraphUserRow[] = [];
  throttleNext = 0;
  deltaGone = false;
  requests: string[] = [];
  server = http.createServer((req, res) => this.handle(req, res));
  base = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1.0`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    this.requests.push(`${url.pathname}${url.search}`);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== 'Bearer test-token')
      return send(401, { error: { code: 'InvalidAuthenticationToken', message: 'no' } });
    if (this.throttleNext > 0) {
      this.throttleNext--;
      return send(429, { error: { code: 'TooManyRequests', message: 'slow down' } }, { 'retry-after': '2' });
    }
    const select = url.searchParams.get('$select')?.split(',');
    const pick = (u: GraphUserRow) =>
      select ? Object.fromEntries(Object.entries(u).filter(([k]) => select.includes(k) || k === 'id')) : u;
    const route = url.pathname.replace(/^\/v1\.0/, '');
    if (route === '/users') {
      const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
      const page = this.users.slice(skip, skip + 2).map(pick);
      const next =
        skip + 2 < this.users.length
          ? { '@odata.nextLink': `${this.base}/users?$select=${select?.join(',')}&$skiptoken=${skip + 2}` }
          : {};
      return send(200, { value: page, ...next });
    }
    if (route === '/users/delta') {
      const token = url.searchParams.get('$deltatoken');
      if (token === 'latest')
        return send(200, { value: [], '@odata.deltaLink': `${this.base}/users/delta?$deltatoken=t1` });
      if (this.deltaGone) return send(410, { error: { code: 'syncStateNotFound', message: 'expired' } });
      if (token === 't1')
        return send(200, {
          value: this.deltaChanges.slice(0, 1),
          '@odata.nextLink': `${this.base}/users/delta?$skiptoken=d2`,
        });
      if (url.searchParams.get('$skiptoken') === 'd2')
        return send(200, {
          value: this.deltaChanges.slice(1),
          '@odata.deltaLink': `${this.base}/users/delta?$deltatoken=t2`,
        });
      if (token === 't2')
        return send(200, { value: [], '@odata.deltaLink': `${this.base}/users/delta?$deltatoken=t2` });
    }
    if (route === '/groups') {
      const name = /^displayName eq '(.*)'$/
        .exec(url.searchParams.get('$filter') ?? '')?.[1]
        ?.replace(/''/g, "'");
      const group = name ? this.groups[name] : undefined;
      return send(200, { value: group ? [{ id: group.id, displayName: name }] : [] });
    }
    const members = /^\/groups\/([^/]+)\/transitiveMembers\/microsoft\.graph\.user$/.exec(route);
    if (members) {
      const group = Object.values(this.groups).find((g) => g.id === members[1]);
      const skip = Number(url.searchParams.get('$skiptoken') ?? 0);
      const ids = (group?.members ?? []).slice(skip, skip + 1).map((id) => ({ id }));
      const more = skip + 1 < (group?.members.length ?? 0);
      return send(200, {
        value: ids,
        ...(more ? { '@odata.nextLink': `${this.base}${route}?$select=id&$skiptoken=${skip + 1}` } : {}),
      });
    }
    send(404, { error: { code: 'Request_ResourceNotFound', message: route } });
  }
}

const graph = new FakeGraph();
before(() => graph.start());
after(() => graph.server.close());

async function target(rules: unknown = [{ name: 's', template: 't', senders: ['group:Sales'] }]) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-graph-'));
  await fs.writeFile(path.join(dir, 'rules.json'), JSON.stringify(rules));
  return new DirectoryFiles(dir);
}

async function snapshot(files: DirectoryFiles): Promise<Record<string, unknown>[]> {
  return JSON.parse(String(await files.read('users.json'))) as Record<string, unknown>[];
}

void describe('Graph directory sync', () => {
  void it('lists every page of /users with $select and resolves transitive group membership', async () => {
    graph.requests = [];
    const files = await target();
    const client = new GraphClient({ credential, baseUrl: graph.base });
    const result = await syncDirectory({ graph: client, target: files });
    assert.deepEqual(result, {
      mode: 'full',
      users: 3,
      changed: 3,
      removed: 0,
      groups: 1,
      missingGroups: [],
      written: true,
    });
    const users = await snapshot(files);
    assert.deepEqual(
      users.map((u) => [u.id, u.displayName, u.groups]),
      [
        ['u1', 'Ada', ['Sales']],
        ['u2', 'Bob', []],
        ['u3', 'Zoë', ['Sales']],
      ],
    );
    assert.ok(
      graph.requests.some((r) => r.startsWith('/v1.0/users?$select=id,mail,userPrincipalName,displayName')),
    );
    assert.ok(
      graph.requests.some((r) => r.includes('$skiptoken=2')),
      'followed @odata.nextLink',
    );
    assert.equal(graph.requests.filter((r) => r.includes('transitiveMembers')).length, 2, 'paged members');
    assert.deepEqual(JSON.parse(String(await files.read(syncStateFile))), {
      deltaLink: `${graph.base}/users/delta?$deltatoken=t1`,
    });
  });

  void it('applies a paged delta round: changes merged, new users added, removed users dropped', async () => {
    const files = await target();
    const client = new GraphClient({ credential, baseUrl: graph.base });
    await syncDirectory({ graph: client, target: files });
    graph.deltaChanges = [
      { id: 'u2', jobTitle: 'Account Manager' },
      { id: 'u3', '@removed': { reason: 'changed' } },
      { id: 'u4', mail: 'new@fabrikam.com', displayName: 'Nina' },
    ];
    const result = await syncDirectory({ graph: client, target: files });
    assert.deepEqual(result, {
      mode: 'delta',
      users: 3,
      changed: 2,
      removed: 1,
      groups: 1,
      missingGroups: [],
      written: true,
    });
    const users = await snapshot(files);
    assert.deepEqual(
      users.map((u) => [u.id, u.displayName, u.jobTitle]),
      [
        ['u1', 'Ada', 'CTO'],
        ['u2', 'Bob', 'Account Manager'],
        ['u4', 'Nina', undefined],
      ],
    );
    const again = await syncDirectory({ graph: client, target: files });
    assert.equal(again.written, false, 'an unchanged directory does not rewrite users.json');
    graph.deltaChanges = [];
  });

  void it('falls back to a full listing when Graph expired the delta token', async () => {
    const files = await target();
    const client = new GraphClient({ credential, baseUrl: graph.base });
    await syncDirectory({ graph: client, target: files });
    graph.deltaGone = true;
    try {
      assert.equal((await syncDirectory({ graph: client, target: files })).mode, 'full');
    } finally {
      graph.deltaGone = false;
    }
  });

  void it('waits for Retry-After on 429 and then succeeds', async () => {
    const waits: number[] = [];
    const client = new GraphClient({
      credential,
      baseUrl: graph.base,
      sleep: (ms) => (waits.push(ms), Promise.resolve()),
    });
    graph.throttleNext = 2;
    const page = await client.get<{ value: unknown[] }>('/users');
    assert.equal(page.value.length, 2);
    assert.deepEqual(waits, [2000, 2000]);
  });

  void it('gives up after maxAttempts with the Graph error', async () => {
    const client = new GraphClient({
      credential,
      baseUrl: graph.base,
      maxAttempts: 2,
      sleep: () => Promise.resolve(),
    });
    graph.throttleNext = 5;
    try {
      await assert.rejects(client.get('/users'), (err: unknown) => {
        assert.ok(err instanceof GraphError);
        assert.equal(err.message, 'Graph 429 TooManyRequests: slow down');
        return true;
      });
    } finally {
      graph.throttleNext = 0;
    }
  });

  void it('reports groups named in rules that do not exist, and never follows links to other hosts', async () => {
    const files = await target([
      { name: 's', template: 't', senders: ['group:Sales', "group:O'Brien fans"] },
    ]);
    const client = new GraphClient({ credential, baseUrl: graph.base });
    assert.deepEqual((await syncDirectory({ graph: client, target: files })).missingGroups, ["O'Brien fans"]);
    await assert.rejects(client.get('https://evil.example/v1.0/users'), /refusing to follow a link outside/);
  });
});
