import type { Tenant } from '../config/index.js';
import type { MessageType } from './message-type.js';
import { windowOf, type Rule } from './rules.js';
import type { DirectoryUser } from './users.js';

export type Audience = 'internal' | 'external';

/** What rules are matched against: who sends, to whom, what kind of message, and when. */
export interface MatchFacts {
  tenant: Tenant;
  /** The address that identifies the sender (From header, else envelope sender), lower-cased. */
  address: string;
  user: DirectoryUser;
  audience: Audience;
  messageType: MessageType;
  now: Date;
}

/**
 * Why a rule does not apply, or undefined when it does. The reason is what the preview prints next
 * to each rule that lost, so it names the rule's condition and the message's actual value.
 */
export function mismatch(rule: Rule, facts: MatchFacts): string | undefined {
  if (
    rule.tenants &&
    !rule.tenants.some((t) => sameText(t, facts.tenant.id) || sameText(t, facts.tenant.name))
  )
    return `tenant ${facts.tenant.name} is not one of ${rule.tenants.join(', ')}`;
  const window = windowOf(rule);
  const at = facts.now.getTime();
  if (window.from !== undefined && at < window.from) return `starts ${rule.from}`;
  if (window.until !== undefined && at >= window.until) return `ended ${rule.until}`;
  if (rule.senders && !rule.senders.some((pattern) => senderMatches(pattern, facts)))
    return `sender ${facts.address} matches none of ${rule.senders.join(', ')}`;
  if (rule.recipients !== 'any' && rule.recipients !== facts.audience)
    return `recipients are ${facts.audience}, rule wants ${rule.recipients}`;
  if (rule.messageTypes && !rule.messageTypes.includes(facts.messageType))
    return `message is ${facts.messageType}, rule wants ${rule.messageTypes.join(' or ')}`;
  return undefined;
}

function senderMatches(pattern: string, facts: MatchFacts): boolean {
  if (pattern.startsWith('group:')) {
    const group = pattern.slice('group:'.length);
    return facts.user.groups.some((g) => sameText(g, group));
  }
  if (pattern.startsWith('*@')) return facts.address.endsWith(pattern.slice(1));
  return facts.address === pattern;
}

/** One collator for every comparison: `localeCompare` with options builds a new one per call. */
const caseInsensitive = new Intl.Collator(undefined, { sensitivity: 'accent' });

function sameText(a: string, b: string): boolean {
  return caseInsensitive.compare(a, b) === 0;
}

/**
 * Internal when every recipient is in the tenant's accepted domains, external when none is; a mix
 * follows the tenant's `mixedRecipients` setting (external by default, so outsiders always get the
 * external signature).
 */
export function audienceOf(
  tenant: Tenant,
  recipients: readonly string[],
  isInternal: (tenant: Tenant, address: string) => boolean,
): Audience {
  if (recipients.length === 0) return 'external';
  const internal = recipients.filter((r) => isInternal(tenant, r)).length;
  if (internal === recipients.length) return 'internal';
  if (internal === 0) return 'external';
  return tenant.settings.mixedRecipients;
}
