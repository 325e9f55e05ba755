import type { DKIMVerifyResult } from 'mailauth';
import type { Tenant, TenantDirectory } from '../config/index.js';
import { replies, type SmtpError } from '../errors/index.js';
import type { SenderRateLimiter } from '../ratelimit/index.js';
import type { Allowlist } from './allowlist.js';
import { checkDkim } from './dkim.js';
import { mailboxProblem } from './mailbox.js';

/** What the front knows about a connection when a policy is asked. */
export interface SessionFacts {
  sessionId: string;
  clientAddress: string;
  secure: boolean;
}

/** A MAIL FROM / RCPT TO address as smtp-server parsed it (lower-cased by the front). */
export interface SmtpAddress {
  address: string;
  sourceRoute?: boolean;
  /** The transaction declared SMTPUTF8 on MAIL FROM (RFC 6531). */
  utf8?: boolean;
}

/** The transaction so far: the sender and, unless it is the null sender, the tenant owning it. */
export interface Transaction {
  sender: string;
  tenant?: Tenant;
}

/** What the message itself says, gathered while it streamed into storage. */
export interface MessageEvidence {
  headers: Map<string, string[]>;
  dkim?: DKIMVerifyResult;
}

/**
 * The front's admission decisions, one method per SMTP phase (Haraka style). Each resolves to
 * continue or to the SmtpError to answer with; a rejected promise (storage, DNS) becomes a 4xx.
 */
export interface Admission {
  onConnect(session: SessionFacts): Promise<SmtpError | undefined>;
  onMailFrom(address: SmtpAddress, session: SessionFacts): Promise<Transaction | SmtpError>;
  onRcptTo(address: SmtpAddress, transaction: Transaction): Promise<SmtpError | undefined>;
  /** Whether the message's DKIM signatures must be verified while it streams (tenant in `dkim` mode). */
  wantsDkim(transaction: Transaction): boolean;
  /**
   * Runs after DATA, before anything is committed: proves the tenant from the message and counts
   * the message against the sender's rate limits. Resolves to the tenant the message belongs to.
   */
  onMessage(transaction: Transaction, evidence: MessageEvidence): Promise<Tenant | SmtpError>;
}

export interface AdmissionOptions {
  tenants: () => TenantDirectory;
  allowlist: Allowlist;
  requireTls: boolean;
  rateLimiter: SenderRateLimiter;
}

/**
 * Who may send through the front. Connection: an allowlisted address (Exchange Online's ranges).
 * Sender: STARTTLS first, a plain address in a domain some tenant approved (so we never relay for
 * anyone else), the null sender only where a tenant opted in. Message: the tenant evidence Exchange
 * Online stamps on it (headers, optionally DKIM), then the per-sender rate limits.
 */
export function createAdmission(options: AdmissionOptions): Admission {
  const { allowlist, rateLimiter } = options;
  const limitsOf = (tenant: Tenant) => ({
    perMinute: tenant.settings.limits.messagesPerMinute,
    perDay: tenant.settings.limits.messagesPerDay,
  });

  return {
    onConnect: (session) =>
      Promise.resolve(allowlist.allows(session.clientAddress) ? undefined : replies.clientNotAllowed()),

    onMailFrom: async (from, session) => {
      if (options.requireTls && !session.secure) return replies.tlsRequired();
      if (!from.address) {
        if (from.sourceRoute) return replies.senderNotAllowed('source routes are not accepted');
        const optedIn = options.tenants().tenants.some((t) => t.settings.nullSender === 'pass-through');
        return optedIn ? { sender: '' } : replies.senderNotAllowed('null sender not accepted');
      }
      const malformed = grammarError(from);
      if (malformed) return malformed;
      const problem = addressProblem(from);
      if (problem) return replies.senderNotAllowed(problem);
      const tenant = options.tenants().forAddress(from.address);
      if (!tenant) return replies.senderNotAllowed('domain is not served here');
      const verdict = await rateLimiter.check(tenant.id, from.address, limitsOf(tenant));
      if (!verdict.ok) return rateError(verdict);
      return { sender: from.address, tenant };
    },

    onRcptTo: (to) => {
      const malformed = grammarError(to);
      if (malformed) return Promise.resolve(malformed);
      const problem = addressProblem(to);
      return Promise.resolve(problem ? replies.addressNotAccepted(problem) : undefined);
    },

    wantsDkim: (tx) =>
      tx.tenant
        ? tx.tenant.settings.tenantCheck === 'dkim'
        : options.tenants().tenants.some((t) => t.settings.tenantCheck === 'dkim'),

    onMessage: async (tx, evidence) => {
      const tenant = tx.tenant ?? nullSenderTenant(options.tenants(), evidence.headers);
      if (!tenant)
        return replies.tenantMismatch(
          'a null sender needs the X-MS-Exchange-CrossTenant-Id of a tenant that accepts null senders',
        );
      const headerError = checkTenantHeaders(tenant, evidence.headers);
      if (headerError) return headerError;
      if (tenant.settings.tenantCheck === 'dkim') {
        if (!evidence.dkim) return replies.tenantMismatch('DKIM was not verified');
        const dkimError = checkDkim(tenant, evidence.dkim);
        if (dkimError) return dkimError;
      }
      const verdict = await rateLimiter.consume(tenant.id, tx.sender, limitsOf(tenant));
      return verdict.ok ? tenant : rateError(verdict);
    },
  };
}

function rateError(verdict: { window: 'minute' | 'day'; limit: number }): SmtpError {
  return verdict.window === 'minute'
    ? replies.rateLimited(`at most ${verdict.limit} messages per minute from this sender`)
    : replies.dailyLimit(`at most ${verdict.limit} messages per 24 hours from this sender`);
}

/**
 * The front says 250 only to an RFC 5321 Mailbox, because delivery hands the very same string to the
 * tenant's endpoint: anything else would be read differently there (or refused after our 250).
 */
function grammarError(address: SmtpAddress): SmtpError | undefined {
  // RFC 5321 §4.1.1.3: a bare `<postmaster>` is valid syntax; the relay check below refuses it.
  if (address.address === 'postmaster') return undefined;
  const problem = mailboxProblem(address.address, { utf8: address.utf8 === true });
  if (!problem) return undefined;
  return problem.kind === 'syntax'
    ? replies.badAddressSyntax(problem.why)
    : replies.addressNotAllowed(problem.why);
}

/**
 * Classic relay tricks, refused outright: Exchange Online only ever sends plain addresses, so
 * anything that asks a mail system to route further (`%`, `!`, source routes), to interpret
 * (quoted local parts) or to bypass DNS (address literals) is somebody probing for an open relay.
 */
export function addressProblem(address: SmtpAddress): string | undefined {
  if (address.sourceRoute) return 'source routes are not accepted';
  const at = address.address.lastIndexOf('@');
  if (at < 1) return 'unqualified addresses are not accepted';
  const local = address.address.slice(0, at);
  const domain = address.address.slice(at + 1);
  if (local.startsWith('"')) return 'quoted local parts are not accepted';
  if (/[%!]/.test(local)) return 'routing characters (% or !) in the local part are not accepted';
  if (domain.startsWith('[')) return 'address literals are not accepted';
  return undefined;
}

/** A null-sender message names its tenant only in the CrossTenant-Id header; one, known, opted in. */
function nullSenderTenant(tenants: TenantDirectory, headers: Map<string, string[]>): Tenant | undefined {
  const ids = headers.get('x-ms-exchange-crosstenant-id') ?? [];
  const id = ids.length === 1 ? ids[0] : undefined;
  const tenant = id ? tenants.byTenantId(id.trim()) : undefined;
  return tenant?.settings.nullSender === 'pass-through' ? tenant : undefined;
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
