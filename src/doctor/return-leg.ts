import dns from 'node:dns/promises';
import net from 'node:net';
import { explainReply } from '../exchange/replies.js';
import type { Check } from './check.js';
import { probe, type ProbeOptions, type ProbeResult } from './smtp-probe.js';

export interface ReturnLegInput extends ProbeOptions {
  scope: string;
  /** Where the host came from, for the remedy (`tenants.json delivery.host`, `SIGRELAY_DELIVERY_OVERRIDE`). */
  hostSource: string;
}

/** DNS of the tenant endpoint, then one SMTP session to it that sends nothing. */
export async function checkReturnLeg(
  input: ReturnLegInput,
): Promise<{ checks: Check[]; probe?: ProbeResult }> {
  const { scope } = input;
  const checks: Check[] = [];
  if (!net.isIP(input.host)) {
    try {
      const addresses = await dns.lookup(input.host, { all: true });
      checks.push({
        scope,
        name: 'return-leg.dns',
        status: 'ok',
        detail: `${input.host} → ${addresses.map((a) => a.address).join(', ')}`,
      });
    } catch (err) {
      const e = explainReply((err as Error).message);
      checks.push({
        scope,
        name: 'return-leg.dns',
        status: 'fail',
        detail: `${input.host} does not resolve (${(err as Error).message})`,
        remedy: `Fix ${input.hostSource}: the tenant's MX host, <domain-with-dashes>.mail.protection.outlook.com.`,
        explanation: e?.title,
        source: e?.source,
      });
      return { checks };
    }
  }
  const result = await probe(input);
  const transcript = result.steps
    .map((s) => `${s.step} → ${s.error ? `error: ${s.error}` : (s.reply ?? 'ok').split('\n')[0]}`)
    .join(' | ');
  if (result.outcome === 'accepted') {
    const cert = result.tls?.clientCertificateSent ? 'client certificate presented' : 'NO client certificate';
    checks.push({
      scope,
      name: 'return-leg.session',
      status: 'ok',
      detail: `${input.host}:${input.port} accepted MAIL FROM and RCPT TO (${result.tls?.protocol ?? 'no TLS'}, ${cert}); nothing sent`,
    });
    if (input.tls !== 'none' && !result.tls)
      checks.push({
        scope,
        name: 'return-leg.tls',
        status: 'fail',
        detail: 'the endpoint offered no STARTTLS',
        remedy: 'Exchange Online always offers STARTTLS: the delivery host is not the tenant endpoint.',
      });
    return { checks, probe: result };
  }
  const last = result.steps.at(-1);
  const said = last?.reply ?? last?.error ?? 'no answer';
  const explanation = explainReply(said);
  checks.push({
    scope,
    name: 'return-leg.session',
    status: 'fail',
    detail: `${last?.step ?? 'connect'}: ${said.replace(/\n/g, ' ')} [${transcript}]`,
    remedy: explanation?.remedy ?? `Check ${input.hostSource} and that outbound port ${input.port} is open.`,
    explanation: explanation
      ? `${explanation.title} (${explanation.permanent ? 'permanent' : 'temporary'}): ${explanation.meaning}`
      : undefined,
    source: explanation?.source,
  });
  return { checks, probe: result };
}
