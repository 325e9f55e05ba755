import type { TenantDirectory, Tenant } from '../config/index.js';
import type { MessageFacts, SignatureResolution } from '../signing/types.js';
import { graphPhotoSizes } from '../config/index.js';
import type { ImageLibrary } from './images.js';
import { audienceOf, mismatch, type Audience, type MatchFacts } from './matching.js';
import { messageTypeOf, type MessageType } from './message-type.js';
import { shortTemplateOf, windowOf, type Rule } from './rules.js';
import type { PhotoLibrary } from './photos.js';
import type { TemplateSet } from './templates.js';
import type { UserDirectory } from './users.js';

/** What one tenant's messages are resolved against: its own folder's, or the shared root's. */
export interface TenantContent {
  users: UserDirectory;
  rules: readonly Rule[];
  templates: TemplateSet;
  images: ImageLibrary;
}

/** One validated configuration: everything needed to answer "which signature for this message?". */
export interface ContentSnapshot {
  tenants: TenantDirectory;
  /** The root's content, for tenants without a `folder`. */
  shared: TenantContent;
  /** Each tenant with a `folder`: only its own content, never the root's or another tenant's. */
  byTenant: ReadonlyMap<string, TenantContent>;
  /** The photos the directory sync stored; absent, `photo` is never set in templates. */
  photos?: PhotoLibrary;
}

/** The content a tenant's messages are resolved against. */
export function contentOf(snapshot: ContentSnapshot, tenant: Tenant): TenantContent {
  return snapshot.byTenant.get(tenant.id) ?? snapshot.shared;
}

export interface RuleVerdict {
  rule: string;
  matched: boolean;
  /** Why the rule did not apply; absent for the winner and for rules after it. */
  reason?: string;
}

/** The decision and how it was reached: what `resolve` returns, plus the story the preview tells. */
export interface Explanation {
  resolution: SignatureResolution;
  tenant?: string;
  user?: string;
  messageType?: MessageType;
  audience?: Audience;
  verdicts: RuleVerdict[];
}

export interface ExplainOptions {
  now?: Date;
  /** Evaluate every rule (preview) rather than stopping at the first match (signing path). */
  allRules?: boolean;
  /** Preview requests name the message type instead of providing a subject and headers. */
  messageType?: MessageType;
}

export async function explain(
  snapshot: ContentSnapshot,
  facts: MessageFacts,
  options: ExplainOptions = {},
): Promise<Explanation> {
  const address = (facts.from ?? facts.sender).toLowerCase();
  const tenant = snapshot.tenants.forAddress(facts.sender) ?? snapshot.tenants.forAddress(address);
  if (!tenant) return { resolution: { action: 'skip', reason: 'unknown-tenant' }, verdicts: [] };
  // From here on only this tenant's directory, rules, templates and images are consulted.
  const content = contentOf(snapshot, tenant);
  const user = content.users.find(address) ?? content.users.find(facts.sender);
  if (!user)
    return { resolution: { action: 'skip', reason: 'unknown-user' }, tenant: tenant.name, verdicts: [] };

  const match: MatchFacts = {
    tenant,
    address,
    user,
    audience: audienceOf(tenant, facts.recipients, (t, a) => snapshot.tenants.isInternal(t, a)),
    messageType: options.messageType ?? messageTypeOf(facts),
    now: options.now ?? new Date(),
  };
  const verdicts: RuleVerdict[] = [];
  let winner: Rule | undefined;
  for (const rule of content.rules) {
    if (winner) {
      verdicts.push({ rule: rule.name, matched: false, reason: `not reached: ${winner.name} matched first` });
      continue;
    }
    const reason = mismatch(rule, match);
    if (reason === undefined) {
      winner = rule;
      verdicts.push({ rule: rule.name, matched: true });
      if (!options.allRules) break;
    } else verdicts.push({ rule: rule.name, matched: false, reason });
  }
  const context = {
    tenant: tenant.name,
    user: user.displayName ?? address,
    messageType: match.messageType,
    audience: match.audience,
    verdicts,
  };
  if (!winner) return { resolution: { action: 'skip', reason: 'no-rule' }, ...context };
  const photo = await photoOf(snapshot, match);
  return { resolution: await sign(content, winner, match, photo), ...context };
}

interface Photo {
  name: string;
  content: Buffer;
  size: number;
}

/** The sender's stored Entra ID photo, when the sync stored one (`photo` in users.json names it). */
async function photoOf(snapshot: ContentSnapshot, match: MatchFacts): Promise<Photo | undefined> {
  const name = match.user.photo;
  if (!snapshot.photos || typeof name !== 'string') return undefined;
  const content = await snapshot.photos.get(match.tenant.id, name);
  if (!content) return undefined;
  return { name, content, size: match.tenant.directory?.photos?.size ?? graphPhotoSizes[2] };
}

async function sign(
  content: TenantContent,
  rule: Rule,
  match: MatchFacts,
  photo: Photo | undefined,
): Promise<SignatureResolution> {
  const variant = match.messageType === 'new' ? 'full' : rule.replyVariant;
  if (variant === 'none') return { action: 'skip', reason: 'reply-variant-none', rule: rule.name };
  const short = variant === 'full' ? undefined : shortTemplateOf(rule);
  const template = short ?? rule.template;

  const data = {
    ...templateData(match, rule),
    // Only set when the photo exists, so `{% if photo %}` leaves no empty image behind.
    ...(photo && { photo: { src: `cid:${photo.name}`, size: photo.size } }),
  };
  const rendered = await content.templates.render(template, data);
  let { html, text } = rendered;
  const banner = rule.banner;
  // Campaigns ride on the full signature only: a short reply signature stays short.
  if (banner && !short && inWindow(banner, match.now)) {
    const image = banner.image && (/^https:\/\//i.test(banner.image) ? banner.image : `cid:${banner.image}`);
    const extra = await content.templates.render(banner.template, {
      ...data,
      banner: { link: banner.link ?? '', image: image ?? '' },
    });
    html = `${html}\n${extra.html}`;
    text = `${text}\n\n${extra.text}`;
  }
  const embedded = content.images.embed(html, photo && new Map([[photo.name, photo.content]]));
  return {
    action: 'sign',
    content: {
      template,
      rule: rule.name,
      html: embedded.html,
      text,
      images: embedded.images,
      placement: rule.placement,
    },
  };
}

function inWindow(item: { from?: string; until?: string }, now: Date): boolean {
  const window = windowOf(item);
  const at = now.getTime();
  return (
    (window.from === undefined || at >= window.from) && (window.until === undefined || at < window.until)
  );
}

function templateData(match: MatchFacts, rule: Rule): Record<string, unknown> {
  return {
    user: sanitize(match.user),
    tenant: tenantData(match.tenant),
    message: {
      type: match.messageType,
      isNew: match.messageType === 'new',
      isReply: match.messageType === 'reply',
      isForward: match.messageType === 'forward',
      isInternal: match.audience === 'internal',
      isExternal: match.audience === 'external',
    },
    rule: { name: rule.name },
    now: match.now,
  };
}

function tenantData(tenant: Tenant): Record<string, unknown> {
  return { id: tenant.id, name: tenant.name, domains: tenant.domains };
}

/**
 * Directory values are single-line text. Line breaks and control characters are flattened so that
 * no value can start a new line of the body (a MIME boundary, a header-looking line) in either the
 * HTML or the text signature; HTML special characters are handled by Liquid's escaping.
 */
function sanitize(value: unknown): unknown {
  if (typeof value === 'string')
    return value.replace(/[\r\n\t\v\f\u0085\u2028\u2029]+/g, ' ').replace(/[\u0000-\u001f\u007f]/g, '');
  if (Array.isArray(value)) return value.map(sanitize);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sanitize(v)]));
  return value;
}
