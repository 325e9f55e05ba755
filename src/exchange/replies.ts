/**
 * What Exchange Online's replies on the return leg mean for sigrelay, and what the admin does about
 * them. One catalogue for every view (trace, console timeline, alerts, `sigrelay status`, doctor,
 * docs/deploy.md), so a reply is explained the same way everywhere. Display only: whether a
 * delivery is retried is decided by the delivery code, which may consult `permanent` later.
 *
 * Sources were found with the project's search tool; where Microsoft publishes no page for a code,
 * the entry names the page it does come from and `microsoft` is false.
 */

import type { ReplyExplanation } from '../contracts/reply-explanation.js';

export type { ReplyExplanation };

interface Entry extends ReplyExplanation {
  /** Enhanced status codes (`5.7.64`) or inclusive ranges of the last part (`5.7.606-649`). */
  codes?: readonly string[];
  /** Matched against the reply text when no code decides (TLS failures carry no reply code). */
  text?: RegExp;
}

const ndrTable =
  'https://learn.microsoft.com/en-us/exchange/troubleshoot/email-delivery/ndr/non-delivery-reports-in-exchange-online';

/** Most specific first: the first entry that matches wins. */
export const exchangeReplies: readonly Entry[] = [
  {
    id: 'inbound-connector-disabled',
    title: 'Inbound connector disabled',
    text: /inbound connector[^.]*(disabled|can't enable|cannot enable)|Contact Support to enable/i,
    permanent: true,
    meaning:
      'Exchange created the "sigrelay - signed return" inbound connector disabled (some tenant plans), so signed mail coming back from sigrelay is not attributed to the tenant.',
    remedy:
      'Open a Microsoft 365 support request asking to enable the OnPremises inbound connector "sigrelay - signed return" (explain that it carries mail back from a signature service). Until then keep the routing rule disabled.',
    source:
      'https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/use-connectors-to-configure-mail-flow/inbound-connector-faq',
    microsoft: true,
  },
  {
    id: 'tenant-attribution',
    title: 'TenantAttribution: relay access denied',
    codes: ['5.7.64'],
    text: /TenantAttribution|Relay Access Denied ATTR36/i,
    permanent: true,
    meaning:
      "Exchange could not tie the returning connection to the tenant: the client certificate sigrelay presented does not match the inbound connector's TlsSenderCertificateName, its domain is not an accepted domain, or the connector is missing or disabled.",
    remedy:
      'Run `sigrelay doctor --tenant <id>`: the certificate name must equal tenants.json certificate.name, be under an accepted domain, and the inbound connector must exist and be enabled (re-run the exchange-script output).',
    source:
      'https://learn.microsoft.com/en-us/exchange/troubleshoot/email-delivery/ndr/relay-access-denied-smtp',
    microsoft: true,
  },
  {
    id: 'direct-send-rejected',
    title: 'Reject Direct Send',
    codes: ['5.7.68'],
    text: /TenantInboundAttribution|Direct Send not allowed/i,
    permanent: true,
    meaning:
      'The tenant rejects unauthenticated mail from its own domains (Set-OrganizationConfig -RejectDirectSend $true) and our returning connection matched no connector, so it counted as Direct Send.',
    remedy:
      'Make the return leg match the inbound connector: certificate name = TlsSenderCertificateName, connector enabled (`sigrelay doctor`). Do not switch RejectDirectSend off.',
    source:
      'https://techcommunity.microsoft.com/blog/exchange/introducing-more-control-over-direct-send-in-exchange-online/4408790',
    microsoft: true,
  },
  {
    id: 'connector-blocked',
    title: 'Inbound connector blocked as compromised',
    codes: ['5.7.711'],
    text: /bad inbound connector/i,
    permanent: true,
    meaning:
      "Microsoft put the tenant's inbound connector on the Restricted entities page: nothing sigrelay returns through it is accepted.",
    remedy:
      'Check the connector was not changed by someone else, then remove it from Restricted entities in the Microsoft Defender portal.',
    source: 'https://learn.microsoft.com/en-us/defender-office-365/connectors-remove-blocked',
    microsoft: true,
  },
  {
    id: 'wrong-region',
    title: 'Mail sent to the wrong Office 365 region',
    codes: ['4.4.62'],
    text: /wrong Office 365 region|ATTR35/i,
    permanent: false,
    meaning:
      "The delivery host is not the tenant's own endpoint: Exchange only takes relayed mail at <tenant>.mail.protection.outlook.com of the tenant's region.",
    remedy:
      "Set tenants.json delivery.host to the tenant's MX host (<domain-with-dashes>.mail.protection.outlook.com), not a legacy or shared name or an IP address.",
    source: 'https://www.vermasandeep.in/2018/05/avoid-email-delivery-delays-update-your.html',
    microsoft: false,
  },
  {
    id: 'loop',
    title: 'Hop count exceeded: mail loop',
    codes: ['5.4.14', '5.4.6'],
    text: /Hop count exceeded/i,
    permanent: true,
    meaning:
      'The message went round Exchange → sigrelay → Exchange until the hop limit: the routing rule did not see our processed header on the returning copy.',
    remedy:
      'Check the routing rule has the exception ExceptIfHeaderContainsMessageHeader <processed header> = true and that settings.processedHeader is the same name (`sigrelay doctor` compares them); re-run the exchange-script output.',
    source:
      'https://learn.microsoft.com/en-us/exchange/troubleshoot/mailflow/hop-count-exceeded-possible-mail-loop',
    microsoft: true,
  },
  {
    id: 'tls-certificate',
    title: 'TLS or certificate failure',
    codes: ['4.4.317', '4.7.5', '4.7.0', '5.7.3'],
    text: /STARTTLS|TLS|certificate|handshake|self[- ]signed|unable to verify|CERT_/i,
    permanent: false,
    meaning:
      'The TLS session on the return leg failed: our client certificate is expired, self-signed or not trusted, or the endpoint refused the TLS version. Mail waits in sigrelay and is retried.',
    remedy:
      'Run `sigrelay doctor`: renew the client certificate (Key Vault) before it expires, present the full chain from a public CA, TLS 1.2 or later.',
    source:
      'https://learn.microsoft.com/en-us/archive/blogs/lalitbisht/mailflow-issue-from-exchange-on-prem-to-office-365',
    microsoft: true,
  },
  {
    id: 'throttled',
    title: 'Throttled by Exchange Online Protection',
    codes: ['4.7.500-899'],
    text: /Server busy|throttl/i,
    permanent: false,
    meaning:
      'Exchange is slowing down mail from our sending address (new or changed sending pattern). sigrelay keeps the message and retries.',
    remedy:
      'Nothing to do for a while; if it lasts, make sure the return leg matches the inbound connector (connector-attributed mail is not IP-throttled) and send from a stable address.',
    source:
      'https://support.office.com/en-ie/article/fix-email-delivery-issues-for-error-code-451-4-7-500-699-asxxx-in-office-365-51356082-9fef-4639-a18a-fc7c5beae0c8',
    microsoft: true,
  },
  {
    id: 'banned-ip',
    title: 'Sending IP banned',
    codes: ['5.7.606-649'],
    text: /banned sending IP/i,
    permanent: true,
    meaning: "Exchange Online Protection refuses sigrelay's outbound IP address for every tenant.",
    remedy:
      'Request delisting at https://sender.office.com/ for the outbound IP of the Function App (or its NAT gateway).',
    source: ndrTable,
    microsoft: true,
  },
  {
    id: 'tenant-blocked',
    title: 'Access denied by tenant policy',
    codes: ['5.7.700-750'],
    permanent: true,
    meaning:
      'Exchange blocks the message for the tenant (outbound threshold exceeded, blocked sender or recipient, unattributed relay).',
    remedy:
      "Follow Microsoft's page for the exact code; most of these need the tenant admin or Microsoft Support.",
    source:
      'https://learn.microsoft.com/en-us/exchange/mail-flow-best-practices/non-delivery-reports-in-exchange-online/fix-error-code-5-7-700-through-5-7-750',
    microsoft: true,
  },
  {
    id: 'recipient-rejected',
    title: 'Recipient address rejected',
    codes: ['5.4.1', '5.1.1', '5.1.10'],
    text: /Recipient address rejected/i,
    permanent: true,
    meaning:
      'Exchange refuses this recipient (unknown address, or relay to a domain the tenant does not own without attribution). Other recipients are unaffected.',
    remedy:
      'For an unknown address: nothing on our side (the sender gets a report). For "Access denied" on many recipients: the return leg is not attributed; run `sigrelay doctor`.',
    source: ndrTable,
    microsoft: true,
  },
  {
    id: 'expired',
    title: 'Message expired',
    codes: ['4.4.7'],
    permanent: false,
    meaning: 'Exchange could not pass the message on before its own expiry time.',
    remedy: 'Usually clears by itself; if it repeats, check Exchange message trace for the next hop.',
    source: ndrTable,
    microsoft: true,
  },
  {
    id: 'policy',
    title: 'Refused by policy',
    codes: ['5.7.1'],
    permanent: true,
    meaning: 'Exchange refused the message on a policy (permissions, restrictions, connector checks).',
    remedy: "Read the reply's text; for connector problems run `sigrelay doctor --tenant <id>`.",
    source: ndrTable,
    microsoft: true,
  },
];

/** Explanations for failures with no SMTP reply at all (before or instead of a reply). */
const connectionFailures: readonly Entry[] = [
  {
    id: 'endpoint-unresolved',
    title: 'Delivery host not found in DNS',
    text: /ENOTFOUND|EAI_AGAIN|getaddrinfo/i,
    permanent: false,
    meaning: 'The tenant endpoint name does not resolve, so nothing can be delivered.',
    remedy: "Check tenants.json delivery.host (the tenant's <domain>.mail.protection.outlook.com MX host).",
    source: ndrTable,
    microsoft: true,
  },
  {
    id: 'endpoint-unreachable',
    title: 'Delivery host not reachable',
    text: /ECONNREFUSED|ETIMEDOUT|ECONNRESET|EHOSTUNREACH|Greeting never received|Connection (?:closed|timeout)/i,
    permanent: false,
    meaning: 'No SMTP session with the tenant endpoint (port 25 blocked outbound, endpoint down).',
    remedy:
      'Allow outbound TCP 25 from the Function App to Exchange Online; mail waits in sigrelay meanwhile.',
    source: ndrTable,
    microsoft: true,
  },
];

const enhancedPattern = /(?:^|[\s;(])([245])\.(\d{1,3})\.(\d{1,3})(?=[\s;,.)\]]|$)/;

/** The enhanced status code in a reply (`550 5.7.64 …`, `550;5.7.711 …`), if any. */
export function enhancedStatusOf(reply: string): string | undefined {
  const m = enhancedPattern.exec(reply);
  return m ? `${m[1]}.${m[2]}.${m[3]}` : undefined;
}

function codeMatches(pattern: string, status: string): boolean {
  const [range, last] = [pattern.split('-'), status.split('.')];
  const [start, end] = range;
  if (!start) return false;
  if (end === undefined) return start === status;
  const head = start.split('.');
  if (head[0] !== last[0] || head[1] !== last[1]) return false;
  const n = Number(last[2]);
  return n >= Number(head[2]) && n <= Number(end);
}

/** The catalogue entry for a reply (or a connection error's message); undefined when unknown. */
export function explainReply(reply: string | undefined): ReplyExplanation | undefined {
  if (!reply) return undefined;
  const status = enhancedStatusOf(reply);
  const all = [...exchangeReplies, ...connectionFailures];
  const byText = all.find((e) => e.text?.test(reply) && !e.codes?.length);
  if (byText) return strip(byText);
  if (status) {
    const byCode = all.find((e) => e.codes?.some((c) => codeMatches(c, status)));
    if (byCode) return strip(byCode);
  }
  const fallback = all.find((e) => e.text?.test(reply));
  return fallback ? strip(fallback) : undefined;
}

function strip(entry: Entry): ReplyExplanation {
  const { codes: _codes, text: _text, ...explanation } = entry;
  return explanation;
}

/** One line for views that have room for little: `title: remedy (source)`. */
export function explanationLine(e: ReplyExplanation): string {
  return `${e.title} (${e.permanent ? 'permanent' : 'temporary'}): ${e.remedy} See ${e.source}`;
}

/** Every explanation with the codes it covers, for docs and the console. */
export function catalogue(): ReadonlyArray<ReplyExplanation & { codes: readonly string[] }> {
  return [...exchangeReplies, ...connectionFailures].map((e) => ({ ...strip(e), codes: e.codes ?? [] }));
}

/**
 * The explanation for a trace event that carries the endpoint's answer to a failed delivery
 * (a delivery attempt not fully accepted, a hand-over to the retrying orchestration, a dead
 * letter). Computed when the trace is shown, so nothing new is stored.
 */
export function explainTraceEvent(
  event: string,
  details: Record<string, unknown>,
): ReplyExplanation | undefined {
  const text = (k: string) => (typeof details[k] === 'string' ? details[k] : undefined);
  if (event === 'delivery-attempt' && text('status') !== 'delivered') return explainReply(text('response'));
  if (event === 'handed-over') return explainReply(text('response') ?? text('reason'));
  if (event === 'dead-lettered') return explainReply(text('reason'));
  return undefined;
}
