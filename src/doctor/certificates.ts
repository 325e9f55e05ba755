import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import type { Check } from './check.js';

/** Exchange stops trusting an expired certificate at once; these leave time to renew. */
export const expiryWarnDays = 30;
export const expiryFailDays = 7;

const dayMs = 24 * 60 * 60 * 1000;

/** Every certificate in a PEM file, leaf first (the order a server or client sends them in). */
export function parsePemChain(pem: string | Buffer): X509Certificate[] {
  const text = pem.toString();
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

/** Subject CN and DNS subject alternative names, lower-cased. */
export function namesOf(cert: X509Certificate): string[] {
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  const sans = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4));
  return [...new Set([...(cn ? [cn] : []), ...sans].map((n) => n.toLowerCase()))];
}

/** RFC 6125 matching: a wildcard covers exactly one left-most label. */
export function certificateCovers(names: readonly string[], host: string): boolean {
  const h = host.toLowerCase();
  return names.some((n) => {
    if (n === h) return true;
    if (!n.startsWith('*.')) return false;
    const rest = h.slice(h.indexOf('.') + 1);
    return h.includes('.') && rest === n.slice(2);
  });
}

function isSelfSigned(cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey);
}

/**
 * Follows the chain from the leaf through the certificates in the file to a trust anchor (the
 * public roots, plus `extraAnchors`: the development CA in local runs). Returns why it breaks.
 */
export function chainProblem(
  chain: readonly X509Certificate[],
  extraAnchors: readonly X509Certificate[],
): string | undefined {
  const leaf = chain[0];
  if (!leaf) return 'no certificate in the file';
  const anchors = [...tls.rootCertificates.map((p) => new X509Certificate(p)), ...extraAnchors];
  const isAnchor = (c: X509Certificate) => anchors.some((a) => a.fingerprint256 === c.fingerprint256);
  if (isSelfSigned(leaf) && !isAnchor(leaf))
    return 'self-signed: Exchange Online trusts only certificates from a public CA';
  let current = leaf;
  for (let depth = 0; depth < 8; depth += 1) {
    if (isAnchor(current)) return undefined;
    const issuer = [...chain, ...anchors].find(
      (c) =>
        c !== current &&
        c.fingerprint256 !== current.fingerprint256 &&
        current.checkIssued(c) &&
        current.verify(c.publicKey),
    );
    if (!issuer)
      return `the issuer of "${current.subject.replace(/\n/g, ', ')}" is neither in the file nor a trusted root (include the intermediate certificates)`;
    if (isAnchor(issuer)) return undefined;
    current = issuer;
  }
  return 'chain longer than 8 certificates';
}

export interface CertificateCheckInput {
  scope: string;
  /** `client` (return leg) or `front` (what Exchange validates on the outbound connector). */
  role: 'client' | 'front';
  file: string;
  pem: Buffer | string;
  /** The name the certificate must carry (the connector's TlsSenderCertificateName or TlsDomain). */
  expectedName?: string;
  expectedNameSource: string;
  extraAnchors: readonly X509Certificate[];
  now?: Date;
}

/** Chain, names and expiry of one certificate file, as checks. */
export function checkCertificate(input: CertificateCheckInput): Check[] {
  const { scope, role } = input;
  const name = (part: string) => `certificate.${role}.${part}`;
  let chain: X509Certificate[];
  try {
    chain = parsePemChain(input.pem);
  } catch (err) {
    return [
      {
        scope,
        name: name('read'),
        status: 'fail',
        detail: `${input.file}: not a PEM certificate (${(err as Error).message})`,
        remedy: 'Point the setting at the PEM certificate file (certificate and intermediates).',
      },
    ];
  }
  const leaf = chain[0];
  if (!leaf)
    return [
      {
        scope,
        name: name('read'),
        status: 'fail',
        detail: `${input.file} holds no certificate`,
        remedy: 'Point the setting at the PEM certificate file.',
      },
    ];
  const checks: Check[] = [];
  const names = namesOf(leaf);
  const now = input.now ?? new Date();
  const notAfter = new Date(leaf.validTo);
  const days = Math.floor((notAfter.getTime() - now.getTime()) / dayMs);
  const renew =
    role === 'client'
      ? 'Renew the return-leg client certificate (same name) and replace the file / Key Vault secret; no Exchange change is needed while the name stays.'
      : 'Renew the front certificate (same name); the front reloads the file by itself.';
  if (new Date(leaf.validFrom).getTime() > now.getTime())
    checks.push({
      scope,
      name: name('expiry'),
      status: 'fail',
      detail: `not valid before ${leaf.validFrom}`,
      remedy: 'Check the clock, or use a certificate that is valid now.',
    });
  else if (days < 0)
    checks.push({
      scope,
      name: name('expiry'),
      status: 'fail',
      detail: `expired on ${notAfter.toISOString().slice(0, 10)}`,
      remedy: renew,
    });
  else if (days < expiryFailDays)
    checks.push({
      scope,
      name: name('expiry'),
      status: 'fail',
      detail: `expires in ${days} days (${notAfter.toISOString().slice(0, 10)})`,
      remedy: renew,
    });
  else if (days < expiryWarnDays)
    checks.push({
      scope,
      name: name('expiry'),
      status: 'warn',
      detail: `expires in ${days} days (${notAfter.toISOString().slice(0, 10)})`,
      remedy: renew,
    });
  else checks.push({ scope, name: name('expiry'), status: 'ok', detail: `valid for ${days} more days` });

  const problem = chainProblem(chain, input.extraAnchors);
  checks.push(
    problem
      ? {
          scope,
          name: name('chain'),
          status: 'fail',
          detail: problem,
          remedy: 'Use a certificate from a public CA and put the intermediates after it in the PEM file.',
        }
      : {
          scope,
          name: name('chain'),
          status: 'ok',
          detail: `${chain.length} certificate(s), ends at a trusted root`,
        },
  );

  if (!input.expectedName)
    checks.push({
      scope,
      name: name('name'),
      status: 'warn',
      detail: `names ${names.join(', ')}; nothing to compare with (${input.expectedNameSource} unset)`,
      remedy: `Set ${input.expectedNameSource}.`,
    });
  else if (certificateCovers(names, input.expectedName))
    checks.push({
      scope,
      name: name('name'),
      status: 'ok',
      detail: `covers ${input.expectedName} (${input.expectedNameSource})`,
    });
  else
    checks.push({
      scope,
      name: name('name'),
      status: 'fail',
      detail: `names ${names.join(', ') || '(none)'} do not cover ${input.expectedName} (${input.expectedNameSource})`,
      remedy:
        role === 'client'
          ? 'Exchange answers 550 5.7.64 TenantAttribution: issue the certificate for the name in certificate.name, or change certificate.name and re-run the exchange-script output (TlsSenderCertificateName).'
          : 'Exchange refuses the smart host (TlsDomain DomainValidation): issue the front certificate for the smart host name.',
    });
  return checks;
}
