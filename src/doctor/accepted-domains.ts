import type { Tenant } from '../config/index.js';
import {
  DefaultSecretReader,
  GraphClient,
  GraphError,
  tenantCredential,
  type GraphClientOptions,
} from '../content/graph/index.js';
import type { Check } from './check.js';

/** What Graph said about a tenant's domains, or why it could not be asked. */
export type TenantDomains = { verified: string[] } | { error: unknown };

interface GraphDomain {
  id: string;
  isVerified: boolean;
}

/**
 * The tenant's verified domains (`GET /domains`, application permission Domain.Read.All). A domain
 * verified in Microsoft 365 is an accepted domain of Exchange Online.
 */
export async function verifiedDomains(graph: GraphClient): Promise<string[]> {
  const names: string[] = [];
  for await (const page of graph.pages<GraphDomain>('/domains?$select=id,isVerified'))
    for (const d of page.value) if (d.isVerified) names.push(d.id.toLowerCase());
  return names;
}

/** Approved domains (tenants.json `domains`) against the tenant's verified domains, where Graph told us. */
export function checkAcceptedDomains(tenant: Tenant, found: TenantDomains | undefined): Check {
  const scope = tenant.id;
  const name = 'config.accepted-domains';
  const approved = tenant.domains.join(', ');
  if (!found)
    return {
      scope,
      name,
      status: 'skip',
      detail: `approved domains ${approved}; the tenant has no Graph directory sync (tenants.json directory), so its accepted domains are not compared here`,
      remedy: 'The generated Exchange script stops when one of them is not an accepted domain.',
    };
  if ('error' in found) {
    const denied = found.error instanceof GraphError && found.error.status === 403;
    return {
      scope,
      name,
      status: 'skip',
      detail: `approved domains ${approved}; Graph did not list the tenant's domains (${(found.error as Error).message})`,
      remedy: denied
        ? "Grant the directory sync's app registration the application permission Domain.Read.All (admin consent in the tenant) to have them compared."
        : 'The generated Exchange script stops when one of them is not an accepted domain.',
    };
  }
  const verified = new Set(found.verified);
  const foreign = tenant.domains.filter((d) => !verified.has(d.toLowerCase()));
  if (foreign.length === 0)
    return {
      scope,
      name,
      status: 'ok',
      detail: `every approved domain (${approved}) is a verified domain of the tenant`,
    };
  return {
    scope,
    name,
    status: 'warn',
    detail: `${foreign.join(', ')} ${foreign.length === 1 ? 'is' : 'are'} approved in tenants.json but not a verified domain of the tenant (verified: ${found.verified.join(', ') || 'none'})`,
    remedy:
      'Remove it from tenants.json domains, or add and verify it in the tenant (Microsoft 365 admin center → Settings → Domains): Exchange never routes mail from a domain the tenant does not own, and attributes returning mail only by its accepted domains.',
  };
}

type Env = Record<string, string | undefined>;

/**
 * How the doctor asks Graph, with the credential the tenant's directory sync uses (tenants.json
 * `directory`), when the sync reads Graph (SIGRELAY_DIRECTORY_SOURCE=graph). Few attempts and a
 * short deadline: a doctor waits on a person, not on a schedule.
 */
export function graphDomainsReader(
  env: Env,
  client: Partial<GraphClientOptions> = {},
): ((tenant: Tenant) => Promise<TenantDomains | undefined>) | undefined {
  if (env.SIGRELAY_DIRECTORY_SOURCE !== 'graph') return undefined;
  const secrets = new DefaultSecretReader(env);
  const home = env.SIGRELAY_HOME_TENANT_ID ?? env.AZURE_TENANT_ID;
  return async (tenant) => {
    if (!tenant.directory) return undefined;
    try {
      const graph = new GraphClient({
        credential: await tenantCredential(tenant, tenant.directory.credential, secrets, home),
        baseUrl: env.SIGRELAY_GRAPH_URL,
        maxAttempts: 2,
        maxWaitMs: 5_000,
        signal: AbortSignal.timeout(15_000),
        ...client,
      });
      return { verified: await verifiedDomains(graph) };
    } catch (err) {
      return { error: err };
    }
  };
}
