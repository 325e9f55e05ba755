import { replies, type SmtpError } from '../errors/index.js';
import type { Tenant, TenantDirectory } from '../config/index.js';

/** What the front knows about a connection when a policy is asked. */
export interface SessionFacts {
  sessionId: string;
  clientAddress: string;
  secure: boolean;
}

/**
 * The front's admission decisions, one method per SMTP phase (Haraka style). Each returns nothing
 * to continue, or the SmtpError to answer with. The front-door security work plugs deeper checks
 * (connection allowlist, DKIM, rate limits) into these same phases.
 */
export interface FrontPolicy {
  onConnect(session: SessionFacts): Promise<SmtpError | undefined>;
  /** Resolves the tenant that owns the sender, or the error to answer MAIL FROM with. */
  onMailFrom(address: string, session: SessionFacts): Promise<{ tenant: Tenant } | { error: SmtpError }>;
  /** Runs after DATA, before the message is committed: `headers` are the message's root header fields. */
  onMessage(
    tenant: Tenant,
    headers: Map<string, string[]>,
    session: SessionFacts,
  ): Promise<SmtpError | undefined>;
}

export interface BasicPolicyOptions {
  tenants: () => TenantDirectory;
  requireTls: boolean;
}

/**
 * The baseline policy: STARTTLS when required, sender domain owned by a configured tenant (so we are
 * never an open relay), and the tenant evidence Exchange Online stamps on the message, when present.
 */
export function basicPolicy(options: BasicPolicyOptions): FrontPolicy {
  return {
    onConnect: () => Promise.resolve(undefined),
    onMailFrom: (address, session) => {
      if (options.requireTls && !session.secure) return Promise.resolve({ error: replies.tlsRequired() });
      if (!address) return Promise.resolve({ error: replies.senderNotAllowed('null sender not accepted') });
      const tenant = options.tenants().forAddress(address);
      if (!tenant) return Promise.resolve({ error: replies.senderNotAllowed('domain is not served here') });
      return Promise.resolve({ tenant });
    },
    onMessage: (tenant, headers) => Promise.resolve(checkTenantHeaders(tenant, headers)),
  };
}

/**
 * Exchange Online marks each message with the tenant it came from. A stranger's tenant can point a
 * connector at us and use any MAIL FROM, but it cannot make EXO stamp our customer's tenant id.
 */
export function checkTenantHeaders(tenant: Tenant, headers: Map<string, string[]>): SmtpError | undefined {
  const required = tenant.settings.tenantCheck === 'headers-required';
  const tenantIds = headers.get('x-ms-exchange-crosstenant-id') ?? [];
  const orgs = headers.get('x-originatororg') ?? [];
  if (required && tenantIds.length === 0)
    return replies.tenantMismatch('X-MS-Exchange-CrossTenant-Id missing');
  for (const value of tenantIds) {
    if (value.trim().toLowerCase() !== tenant.id)
      return replies.tenantMismatch('message is from another tenant');
  }
  if (required && orgs.length === 0) return replies.tenantMismatch('X-OriginatorOrg missing');
  for (const value of orgs) {
    if (!tenant.domains.includes(value.trim().toLowerCase())) {
      return replies.tenantMismatch('X-OriginatorOrg is not a domain of the sending tenant');
    }
  }
  return undefined;
}
