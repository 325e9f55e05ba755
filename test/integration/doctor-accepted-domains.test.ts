/**
 * The doctor's approved-vs-accepted domains check, reading the tenant's domains from the
 * Graph-shaped server on loopback (test/helpers/graph-server.ts) as the directory sync's
 * credential would.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadTenants, sampleConfigDir, type Tenant } from '../../src/config/index.js';
import { checkAcceptedDomains, graphDomainsReader } from '../../src/doctor/index.js';
import { GraphServer, tenantToken } from '../helpers/graph-server.js';

describe('approved domains against the tenant verified domains', () => {
  const graph = new GraphServer();
  let contoso: Tenant;
  /** Contoso with a Graph directory sync, its token presented to the Graph-shaped server. */
  const read = (t: Tenant) =>
    graphDomainsReader(
      { SIGRELAY_DIRECTORY_SOURCE: 'graph', SIGRELAY_GRAPH_URL: graph.base },
      { credential: tenantToken(t.id), maxAttempts: 1 },
    )?.({ ...t, directory: { credential: { type: 'managed-identity' } } } as Tenant);

  before(async () => {
    await graph.start();
    const first = (await loadTenants(sampleConfigDir)).tenants[0];
    assert.ok(first);
    contoso = first;
  });
  after(() => graph.stop());

  it('warns on an approved domain the tenant has not verified, naming it', async () => {
    const [own, second, foreign] = contoso.domains;
    assert.ok(own && second && foreign, `three approved domains: ${contoso.domains.join(', ')}`);
    graph.tenant(contoso.id).domains = [
      { id: own, isVerified: true },
      { id: second, isVerified: true },
      { id: foreign, isVerified: false },
    ];
    const check = checkAcceptedDomains(contoso, await read(contoso));
    assert.equal(check.status, 'warn');
    assert.match(
      check.detail,
      new RegExp(`^${foreign.replace(/\./g, '\\.')} is approved in tenants\\.json but not a verified domain`),
    );
    assert.match(check.remedy ?? '', /Settings → Domains/);
    assert.ok(graph.tenant(contoso.id).requests.some((r) => r.startsWith('GET /v1.0/domains')));
  });

  it('passes when every approved domain is verified', async () => {
    graph.tenant(contoso.id).domains = contoso.domains.map((id) => ({
      id: id.toUpperCase(),
      isVerified: true,
    }));
    const check = checkAcceptedDomains(contoso, await read(contoso));
    assert.equal(check.status, 'ok', check.detail);
  });

  it('says which permission is missing when Graph answers 403', async () => {
    graph.tenant(contoso.id).failWith = 403;
    try {
      const check = checkAcceptedDomains(contoso, await read(contoso));
      assert.equal(check.status, 'skip');
      assert.match(check.remedy ?? '', /Domain\.Read\.All/);
    } finally {
      graph.tenant(contoso.id).failWith = undefined;
    }
  });

  it('stays an honest skip without a Graph directory sync', async () => {
    assert.equal(graphDomainsReader({}), undefined, 'users.json by hand: Graph is not asked');
    const reader = graphDomainsReader({ SIGRELAY_DIRECTORY_SOURCE: 'graph', SIGRELAY_GRAPH_URL: graph.base });
    assert.equal(await reader?.({ ...contoso, directory: undefined }), undefined);
    const check = checkAcceptedDomains(contoso, undefined);
    assert.equal(check.status, 'skip');
    assert.match(check.detail, /not compared/);
  });
});
