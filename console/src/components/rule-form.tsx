import { useState } from 'preact/hooks';
import type { MessageType, RuleJson } from '../../../src/admin/contract';
import { DateRange } from './date-field';
import { NameSelect } from './fields';

interface Props {
  index: number;
  rule: RuleJson;
  templates: string[];
  /** Offer the `tenants` matcher (a scope several tenants share). */
  showTenants: boolean;
  /** The server's validation message for one of this rule's fields, by field name. */
  errorFor: (key: keyof RuleJson) => string | undefined;
  onChange: (rule: RuleJson) => void;
  onDone: () => void;
  onDelete: () => void;
}

const messageTypes: MessageType[] = ['new', 'reply', 'forward'];

/** `['a', ' ', 'b']` → `['a', 'b']`, and no list at all when nothing is left (the matcher is off). */
function listOrNothing(values: string[]): string[] | undefined {
  const kept = values.map((v) => v.trim()).filter(Boolean);
  return kept.length > 0 ? kept : undefined;
}

/** Drops the keys whose value is undefined, so the saved rules.json has no `"from": null` noise. */
function tidy(rule: RuleJson): RuleJson {
  return Object.fromEntries(Object.entries(rule).filter(([, v]) => v !== undefined)) as unknown as RuleJson;
}

/** One rule's matchers and dates; every change goes straight into the draft (validated by the server). */
export function RuleForm({
  index,
  rule,
  templates,
  showTenants,
  errorFor,
  onChange,
  onDone,
  onDelete,
}: Props) {
  const id = (field: string) => `rule-${index}-${field}`;
  const set = (patch: Partial<RuleJson>) => onChange(tidy({ ...rule, ...patch }));
  const variant = rule.replyVariant ?? 'full';
  const variantKind = variant.startsWith('short:') ? 'short' : variant;
  const shortTemplate = variant.startsWith('short:') ? variant.slice('short:'.length) : (templates[0] ?? '');
  const err = (key: keyof RuleJson) => {
    const message = errorFor(key);
    return message ? (
      <p class="field-error" id={id(`${key}-error`)}>
        {message}
      </p>
    ) : null;
  };
  const invalid = (key: keyof RuleJson) => (errorFor(key) ? 'true' : undefined);
  const describedBy = (key: keyof RuleJson, hint?: string) =>
    [hint, errorFor(key) ? id(`${key}-error`) : undefined].filter(Boolean).join(' ') || undefined;

  return (
    <form
      class="rule-form"
      aria-label={`Edit rule ${rule.name || index + 1}`}
      onSubmit={(e) => {
        e.preventDefault();
        onDone();
      }}
    >
      <div class="grid-2">
        <div class="field">
          <label for={id('name')}>Name</label>
          <input
            id={id('name')}
            type="text"
            required
            value={rule.name}
            aria-invalid={invalid('name')}
            aria-describedby={describedBy('name')}
            onInput={(e) => set({ name: e.currentTarget.value })}
          />
          {err('name')}
        </div>
        <div class="field">
          <label for={id('template')}>Template</label>
          <select
            id={id('template')}
            value={rule.template}
            aria-invalid={invalid('template')}
            aria-describedby={describedBy('template')}
            onChange={(e) => set({ template: e.currentTarget.value })}
          >
            {!templates.includes(rule.template) && (
              <option value={rule.template}>{rule.template} (missing)</option>
            )}
            {templates.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
          {err('template')}
        </div>
      </div>
      <div class="field">
        <label for={id('senders')}>Senders</label>
        <ListInput
          id={id('senders')}
          multiline
          initial={(rule.senders ?? []).join('\n')}
          invalid={invalid('senders')}
          describedBy={describedBy('senders', id('senders-hint'))}
          onList={(text) => set({ senders: listOrNothing(text.split('\n')) })}
        />
        <p class="hint" id={id('senders-hint')}>
          One per line: an address (ada@contoso.com), a domain (*@contoso.com) or a group (group:Sales).
          Empty: every sender.
        </p>
        {err('senders')}
      </div>
      {showTenants && (
        <div class="field">
          <label for={id('tenants')}>Tenants</label>
          <ListInput
            id={id('tenants')}
            initial={(rule.tenants ?? []).join(', ')}
            invalid={invalid('tenants')}
            describedBy={describedBy('tenants', id('tenants-hint'))}
            onList={(text) => set({ tenants: listOrNothing(text.split(',')) })}
          />
          <p class="hint" id={id('tenants-hint')}>
            Tenant ids or names, comma-separated. Empty: every tenant.
          </p>
          {err('tenants')}
        </div>
      )}
      <div class="grid-2">
        <div class="field">
          <label for={id('recipients')}>Recipients</label>
          <select
            id={id('recipients')}
            value={rule.recipients ?? 'any'}
            onChange={(e) => {
              const value = e.currentTarget.value as NonNullable<RuleJson['recipients']>;
              set({ recipients: value === 'any' ? undefined : value });
            }}
          >
            <option value="any">Anyone</option>
            <option value="internal">Internal only</option>
            <option value="external">External only</option>
          </select>
        </div>
        <div class="field">
          <label for={id('placement')}>Placement</label>
          <select
            id={id('placement')}
            value={rule.placement ?? 'underReply'}
            onChange={(e) => {
              const value = e.currentTarget.value as NonNullable<RuleJson['placement']>;
              set({ placement: value === 'underReply' ? undefined : value });
            }}
          >
            <option value="underReply">Under the newest reply</option>
            <option value="bottom">At the bottom</option>
          </select>
        </div>
      </div>
      <fieldset class="checks">
        <legend>Messages (none ticked: all)</legend>
        {messageTypes.map((t) => (
          <span key={t} class="radio">
            <input
              type="checkbox"
              id={id(`type-${t}`)}
              checked={rule.messageTypes?.includes(t) ?? false}
              onChange={(e) => {
                const now = new Set(rule.messageTypes ?? []);
                if (e.currentTarget.checked) now.add(t);
                else now.delete(t);
                const kept = messageTypes.filter((m) => now.has(m));
                set({ messageTypes: kept.length > 0 ? kept : undefined });
              }}
            />
            <label for={id(`type-${t}`)}>{t}</label>
          </span>
        ))}
        {err('messageTypes')}
      </fieldset>
      <DateRange idFor={id} from={rule.from} until={rule.until} errorFor={errorFor} onChange={set} />
      <div class="grid-2">
        <div class="field">
          <label for={id('variant')}>Replies and forwards get</label>
          <select
            id={id('variant')}
            value={variantKind}
            aria-invalid={invalid('replyVariant')}
            aria-describedby={describedBy('replyVariant')}
            onChange={(e) => {
              const kind = e.currentTarget.value;
              set({
                replyVariant:
                  kind === 'full' ? undefined : kind === 'none' ? 'none' : `short:${shortTemplate}`,
              });
            }}
          >
            <option value="full">The same signature</option>
            <option value="short">A short signature</option>
            <option value="none">No signature</option>
          </select>
          {err('replyVariant')}
        </div>
        {variantKind === 'short' && (
          <NameSelect
            label="Short signature template"
            id={id('short')}
            value={shortTemplate}
            names={templates}
            onChange={(name) => set({ replyVariant: `short:${name}` })}
          />
        )}
      </div>
      {rule.banner && (
        <p class="hint">
          Campaign banner “{rule.banner.template}” rides on this rule; schedule it on the Campaigns page.
        </p>
      )}
      {err('banner')}
      <div class="actions">
        <button type="submit">Done</button>
        <button type="button" class="danger" onClick={onDelete}>
          Delete rule
        </button>
      </div>
    </form>
  );
}

/**
 * A list typed as text (one per line, or comma-separated): the text stays as typed, so a new empty
 * line or a trailing comma does not vanish under the cursor; the rule gets the cleaned-up list.
 */
function ListInput(props: {
  id: string;
  initial: string;
  multiline?: boolean;
  invalid: 'true' | undefined;
  describedBy: string | undefined;
  onList: (text: string) => void;
}) {
  const [text, setText] = useState(props.initial);
  const common = {
    id: props.id,
    value: text,
    spellcheck: false,
    'aria-invalid': props.invalid,
    'aria-describedby': props.describedBy,
  };
  const onInput = (value: string) => {
    setText(value);
    props.onList(value);
  };
  return props.multiline ? (
    <textarea {...common} rows={3} onInput={(e) => onInput(e.currentTarget.value)} />
  ) : (
    <input {...common} type="text" onInput={(e) => onInput(e.currentTarget.value)} />
  );
}
