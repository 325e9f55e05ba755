import ipaddr from 'ipaddr.js';
import { ConfigError } from '../config/index.js';

/**
 * Exchange Online's published outbound ranges (shared by every Microsoft 365 tenant, so they admit
 * the connection, never the tenant: the tenant is proven later by the sender domain and the message).
 */
export const exchangeOnlineRanges = [
  '40.92.0.0/15',
  '40.107.0.0/16',
  '52.100.0.0/14',
  '104.47.0.0/17',
  '2a01:111:f400::/48',
  '2a01:111:f403::/48',
] as const;

export const loopbackRanges = ['127.0.0.0/8', '::1/128'] as const;

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** A set of CIDR ranges (IPv4 and IPv6); IPv4-mapped IPv6 peers match their IPv4 ranges. */
export class Allowlist {
  readonly cidrs: readonly string[];
  private readonly ranges: Range[];

  constructor(cidrs: readonly string[], source = 'SIGRELAY_ALLOWED_CLIENTS') {
    this.cidrs = cidrs;
    this.ranges = cidrs.map((cidr, i) => {
      const text = cidr.includes('/') ? cidr : `${cidr}/${cidr.includes(':') ? 128 : 32}`;
      if (!ipaddr.isValidCIDR(text)) throw new ConfigError(source, `[${i}]`, `"${cidr}" is not a CIDR range`);
      return ipaddr.parseCIDR(text);
    });
  }

  /** Parses a comma- or space-separated list. */
  static parse(list: string, source?: string): Allowlist {
    return new Allowlist(
      list
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean),
      source,
    );
  }

  allows(address: string): boolean {
    if (!ipaddr.isValid(address)) return false;
    // process() turns ::ffff:a.b.c.d (a dual-stack listener's IPv4 peer) into plain IPv4.
    const ip = ipaddr.process(address);
    return this.ranges.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));
  }
}

/** The effective allowlist: explicit setting, else Exchange Online in production and loopback locally. */
export function allowlistFor(profile: 'local' | 'production', configured: string | undefined): Allowlist {
  if (configured) return Allowlist.parse(configured);
  return new Allowlist(profile === 'production' ? exchangeOnlineRanges : loopbackRanges);
}
