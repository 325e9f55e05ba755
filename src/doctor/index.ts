/**
 * `sigrelay doctor`: is the loop set up right? For the front and for each tenant it checks our
 * certificates (chain, names, expiry), the configuration Exchange depends on, and the return leg
 * with a real SMTP session that sends nothing. Every check says what to do when it is not ok.
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import { targetFor } from '../delivery/index.js';
import type { Settings, Tenant } from '../config/index.js';
import type { TenantDomains } from './accepted-domains.js';
import { checkCertificate, parsePemChain } from './certificates.js';
import type { Check } from './check.js';
import { checkLoopHeader, checkTenantConfiguration } from './configuration.js';
import { checkReturnLeg } from './return-leg.js';
import { probe } from './smtp-probe.js';

export {
  checkAcceptedDomains,
  graphDomainsReader,
  verifiedDomains,
  type TenantDomains,
} from './accepted-domains.js';
export { exitCodeOf, formatChecks, type Check, type CheckStatus } from './check.js';
export { certificateCovers, expiryFailDays, expiryWarnDays, namesOf } from './certificates.js';
export { probe, type ProbeResult, type ProbeStep } from './smtp-probe.js';

export interface DoctorOptions {
  settings: Settings;
  tenants: readonly Tenant[];
  /** Our smart host (the outbound connector's TlsDomain): what the front certificate must name. */
  smartHost?: string;
  /** Where to reach our front as Exchange does (host and port); absent: the front is not probed. */
  front?: { host: string; port: number };
  /** Envelope of the probe; default postmaster@ the tenant's first domain. */
  sender?: (tenant: Tenant) => string;
  recipient?: (tenant: Tenant) => string;
  now?: Date;
  /** Each SMTP probe's bound on a connection, a TLS handshake and each reply (default 30 s). */
  probeTimeoutMs?: number;
  /** Each SMTP probe's bound on its whole session (default: none beyond the per-step bound). */
  sessionTimeoutMs?: number;
  /** The tenant's verified domains from Graph (graphDomainsReader); absent: not compared. */
  tenantDomains?: (tenant: Tenant) => Promise<TenantDomains | undefined>;
}

const defaultProbeTimeoutMs = 30_000;

async function readOrCheck(scope: string, name: string, file: string): Promise<Buffer | Check> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    return {
      scope,
      name,
      status: 'fail',
      detail: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      remedy: 'Fix the path or the file permissions.',
    };
  }
}

/** Extra trust anchors: the CA the deployment names for the return leg (the dev CA in local runs). */
async function anchors(settings: Settings): Promise<X509Certificate[]> {
  if (!settings.delivery.caFile) return [];
  try {
    return parsePemChain(await fs.readFile(settings.delivery.caFile));
  } catch {
    return [];
  }
}

/** What Exchange's outbound connector does: STARTTLS to our front, its certificate checked for the smart host. */
async function frontSession(o: DoctorOptions, front: { host: string; port: number }): Promise<Check> {
  const ca = o.settings.delivery.caFile
    ? await fs.readFile(o.settings.delivery.caFile).catch(() => undefined)
    : undefined;
  const result = await probe({
    host: front.host,
    port: front.port,
    servername: o.smartHost,
    ehloName: 'doctor.sigrelay.invalid',
    mailFrom: '',
    rcptTo: '',
    tls: 'required',
    ca,
    timeoutMs: o.probeTimeoutMs ?? defaultProbeTimeoutMs,
    sessionTimeoutMs: o.sessionTimeoutMs,
    tlsOnly: true,
  });
  const where = `${front.host}:${front.port}`;
  if (result.outcome === 'accepted')
    return {
      scope: 'front',
      name: 'front.session',
      status: 'ok',
      detail: `${where} offers STARTTLS (${result.tls?.protocol}); its certificate is valid for ${o.smartHost ?? front.host}`,
    };
  const last = result.steps.at(-1);
  return {
    scope: 'front',
    name: 'front.session',
    status: 'fail',
    detail: `${where} ${last?.step ?? 'connect'}: ${(last?.reply ?? last?.error ?? 'no answer').replace(/\n/g, ' ')}`,
    remedy: `Exchange's outbound connector (TlsSettings DomainValidation, TlsDomain ${o.smartHost ?? '?'}) needs the front reachable on port 25 with STARTTLS and a certificate for that name.`,
  };
}

async function frontChecks(o: DoctorOptions, extra: X509Certificate[]): Promise<Check[]> {
  const checks = checkLoopHeader(o.settings);
  if (o.front) checks.push(await frontSession(o, o.front));
  const file = o.settings.smtp.certFile;
  if (!file) {
    checks.push({
      scope: 'front',
      name: 'certificate.front.read',
      status: o.settings.profile === 'production' ? 'fail' : 'skip',
      detail: 'no front certificate configured (SIGRELAY_TLS_CERT)',
      remedy: 'Exchange requires STARTTLS with a certificate for the smart host name.',
    });
    return checks;
  }
  const pem = await readOrCheck('front', 'certificate.front.read', file);
  if (!Buffer.isBuffer(pem)) return [...checks, pem];
  checks.push(
    ...checkCertificate({
      scope: 'front',
      role: 'front',
      file,
      pem,
      expectedName: o.smartHost,
      expectedNameSource:
        'the smart host, --smart-host or SIGRELAY_PUBLIC_FQDN (outbound connector TlsDomain)',
      extraAnchors: extra,
      now: o.now,
    }),
  );
  return checks;
}

async function tenantChecks(o: DoctorOptions, tenant: Tenant, extra: X509Certificate[]): Promise<Check[]> {
  const scope = tenant.id;
  const checks = checkTenantConfiguration(tenant, o.settings, await o.tenantDomains?.(tenant));
  const certFile = tenant.certificate?.certFile ?? o.settings.delivery.clientCertFile;
  if (!certFile) {
    checks.push({
      scope,
      name: 'certificate.client.read',
      status: 'fail',
      detail:
        'no client certificate for the return leg (certificate.certFile or SIGRELAY_DELIVERY_CLIENT_CERT)',
      remedy:
        'Exchange attributes returning mail by this certificate; without it the answer is 550 5.7.64 TenantAttribution.',
    });
  } else {
    const pem = await readOrCheck(scope, 'certificate.client.read', certFile);
    if (!Buffer.isBuffer(pem)) checks.push(pem);
    else
      checks.push(
        ...checkCertificate({
          scope,
          role: 'client',
          file: certFile,
          pem,
          expectedName: tenant.certificate?.name,
          expectedNameSource: 'tenants.json certificate.name (inbound connector TlsSenderCertificateName)',
          extraAnchors: extra,
          now: o.now,
        }),
      );
  }
  let target;
  try {
    target = targetFor(tenant, o.settings);
  } catch (err) {
    checks.push({
      scope,
      name: 'return-leg.session',
      status: 'fail',
      detail: `cannot read the return-leg certificate (${(err as Error).message})`,
      remedy: 'Fix the certificate and key paths.',
    });
    return checks;
  }
  const domain = tenant.domains[0] ?? 'invalid';
  const { checks: leg } = await checkReturnLeg({
    scope,
    host: target.host,
    port: target.port,
    hostSource: o.settings.delivery.override ? 'SIGRELAY_DELIVERY_HOST' : 'tenants.json delivery.host',
    ehloName: target.ehloName,
    tls: target.tls,
    clientCert: target.clientCert,
    clientKey: target.clientKey,
    ca: target.ca,
    timeoutMs: Math.min(target.timeoutMs, o.probeTimeoutMs ?? defaultProbeTimeoutMs),
    sessionTimeoutMs: o.sessionTimeoutMs,
    mailFrom: o.sender?.(tenant) ?? `postmaster@${domain}`,
    rcptTo: o.recipient?.(tenant) ?? `postmaster@${domain}`,
  });
  checks.push(...leg);
  return checks;
}

/** Tenants checked at once: an MSP's fifty tenants finish in a fraction of the time, without fifty sessions at once. */
const tenantsAtOnce = 4;

/** Every check, front first, then each tenant in order. */
export async function runDoctor(o: DoctorOptions): Promise<Check[]> {
  const extra = await anchors(o.settings);
  const [front, perTenant] = await Promise.all([
    frontChecks(o, extra),
    inBatches(o.tenants, tenantsAtOnce, (tenant) => tenantChecks(o, tenant, extra)),
  ]);
  return [...front, ...perTenant.flat()];
}

async function inBatches<T, R>(items: readonly T[], size: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += size)
    results.push(...(await Promise.all(items.slice(i, i + size).map(f))));
  return results;
}
