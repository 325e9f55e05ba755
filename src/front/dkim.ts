import { PassThrough } from 'node:stream';
import { dkimVerify, type DKIMVerifyResult, type DNSResolver } from 'mailauth';
import type { Tenant } from '../config/index.js';
import { replies, type SmtpError } from '../errors/index.js';

export type { DNSResolver };

/**
 * Verifies the message's DKIM signatures while it streams into storage: the returned sink gets the
 * same bytes as the blob, and `result` settles once the message has ended. DNS goes through
 * `resolver` (the system resolver when absent; tests inject their own keys).
 */
export function startDkimVerification(resolver?: DNSResolver): {
  sink: PassThrough;
  result: Promise<DKIMVerifyResult>;
} {
  const sink = new PassThrough();
  return { sink, result: dkimVerify(sink, resolver ? { resolver } : {}) };
}

/**
 * In `dkim` mode the tenant must be proven by a passing DKIM signature whose d= is one of its
 * domains (list its onmicrosoft.com domain among them: EXO signs with it when no custom DKIM key is
 * set up). A signature by anyone else proves nothing, and a broken one proves less.
 */
export function checkDkim(tenant: Tenant, verified: DKIMVerifyResult): SmtpError | undefined {
  // An unsigned message still yields one result (status none) without a signing domain.
  const results = verified.results.flatMap((r) =>
    typeof r.signingDomain === 'string' ? [{ ...r, signingDomain: r.signingDomain }] : [],
  );
  const ours = results.filter((r) => tenant.domains.includes(r.signingDomain.toLowerCase()));
  if (ours.some((r) => r.status.result === 'pass')) return undefined;
  if (ours.length === 0)
    return replies.tenantMismatch(
      results.length === 0 ? 'no DKIM signature' : "no DKIM signature by one of the tenant's domains",
    );
  // A DNS failure proves nothing either way: 4xx, so Exchange Online retries later.
  if (ours.some((r) => r.status.result === 'temperror' || r.status.result === 'temperr'))
    return replies.dnsUnavailable();
  const first = ours[0];
  return replies.tenantMismatch(`DKIM signature did not verify (${first?.status.result ?? 'none'})`);
}
