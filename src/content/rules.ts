import { z } from 'zod';
import { ConfigError, parseWith } from '../config/index.js';

/** `2025-11-01` (a whole UTC day) or an ISO date-time with offset (`2025-11-01T08:00:00+01:00`). */
const dateOnly = /^\d{4}-\d{2}-\d{2}$/;
const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const instant = z
  .string()
  .refine((s) => (dateOnly.test(s) || dateTime.test(s)) && !Number.isNaN(Date.parse(s)), {
    message: 'expected a date (YYYY-MM-DD) or an ISO date-time with offset',
  });

/**
 * An address or `*@domain`: one @, no spaces, a dot inside the domain. Split rather than matched
 * with one pattern, whose runs around the dot would backtrack on a long run of dots.
 */
function isAddressOrDomain(value: string): boolean {
  const at = value.indexOf('@');
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  return at > 0 && /^[^@\s]+$/.test(local) && /^[^@\s]+$/.test(domain) && domain.slice(1, -1).includes('.');
}

const senderPattern = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .refine((s) => isAddressOrDomain(s) || /^group:.+$/.test(s), {
    message: 'expected an address, *@domain or group:<name>',
  });

const templateName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a template name (the file name under templates/)');

const replyVariant = z
  .string()
  .regex(/^(full|none|short:[A-Za-z0-9][A-Za-z0-9._-]*)$/, 'expected full, none or short:<template>');

const bannerSchema = z.strictObject({
  template: templateName,
  from: instant.optional(),
  until: instant.optional(),
  link: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }).optional(),
  /** A file under images/ (embedded) or an https URL (hosted). */
  image: z.string().min(1).optional(),
});

const ruleSchema = z.strictObject({
  name: z.string().min(1),
  template: templateName,
  tenants: z.array(z.string().min(1)).min(1).optional(),
  senders: z.array(senderPattern).min(1).optional(),
  recipients: z.enum(['any', 'internal', 'external']).default('any'),
  messageTypes: z
    .array(z.enum(['new', 'reply', 'forward']))
    .min(1)
    .optional(),
  from: instant.optional(),
  until: instant.optional(),
  placement: z.enum(['underReply', 'bottom']).default('underReply'),
  replyVariant: replyVariant.default('full'),
  banner: bannerSchema.optional(),
});

export type Rule = z.infer<typeof ruleSchema>;
export type Banner = z.infer<typeof bannerSchema>;

/** The instants a `from`/`until` pair covers: a date-only `until` includes that whole day. */
export interface Window {
  from?: number;
  until?: number;
}

export function windowOf(item: { from?: string; until?: string }): Window {
  const window: Window = {};
  if (item.from) window.from = Date.parse(item.from);
  if (item.until) window.until = Date.parse(item.until) + (dateOnly.test(item.until) ? 24 * 3600 * 1000 : 0);
  return window;
}

export function parseRules(value: unknown, file: string): Rule[] {
  const rules = parseWith(z.array(ruleSchema), value, file);
  const seen = new Set<string>();
  rules.forEach((rule, i) => {
    if (seen.has(rule.name)) throw new ConfigError(file, `[${i}].name`, `duplicate rule name "${rule.name}"`);
    seen.add(rule.name);
    checkWindow(rule, file, `[${i}]`);
    if (rule.banner) checkWindow(rule.banner, file, `[${i}].banner`);
  });
  return rules;
}

function checkWindow(item: { from?: string; until?: string }, file: string, at: string): void {
  const { from, until } = windowOf(item);
  if (from !== undefined && until !== undefined && until <= from)
    throw new ConfigError(file, `${at}.until`, `${item.until} is not after from (${item.from})`);
}

/** The template a reply variant names, if any. */
export function shortTemplateOf(rule: Rule): string | undefined {
  return rule.replyVariant.startsWith('short:') ? rule.replyVariant.slice('short:'.length) : undefined;
}
