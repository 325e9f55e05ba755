import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ApiError, RuleJson, RulesDocument, WhoGetsWhat } from '../../../src/admin/contract';
import type { PageProps } from '../page-props';
import { api, ApiFailure, preconditionFor } from '../api';
import { ErrorNotice, Notice } from '../components/notice';
import { RuleForm } from '../components/rule-form';
import { WhoGetsWhatTable } from '../components/who-gets-what';
import { apiErrorOf, describeApiError, isConflict, messageOf } from '../errors';
import { useLeaveWarning } from '../drafts';
import { useDebounced } from '../hooks';

/** `[2].senders[0]` → rule 2, field `senders`. */
function fieldOf(error: ApiError | undefined): { index: number; key: string } | undefined {
  const match = /^\[(\d+)\]\.?([A-Za-z]+)?/.exec(error?.field ?? '');
  return match ? { index: Number(match[1]), key: match[2] ?? '' } : undefined;
}

function summary(rule: RuleJson): string {
  const parts = [
    rule.senders ? `senders ${rule.senders.join(', ')}` : 'every sender',
    rule.recipients && rule.recipients !== 'any' ? `${rule.recipients} recipients` : 'any recipient',
    rule.messageTypes ? rule.messageTypes.join('/') : 'all messages',
  ];
  if (rule.tenants) parts.push(`tenants ${rule.tenants.join(', ')}`);
  if (rule.from || rule.until) parts.push(`${rule.from ?? '…'} to ${rule.until ?? '…'}`);
  if (rule.replyVariant && rule.replyVariant !== 'full') parts.push(`replies: ${rule.replyVariant}`);
  return parts.join(' · ');
}

/** The fields the rule form shows an error beside; any other error shows under the rule's heading. */
const formErrorKeys = new Set([
  'name',
  'template',
  'senders',
  'tenants',
  'messageTypes',
  'from',
  'until',
  'replyVariant',
  'banner',
]);

type SaveState =
  | { kind: 'idle' }
  | { kind: 'saving' }
  | { kind: 'saved'; version: string }
  | { kind: 'conflict'; currentEtag?: string }
  | { kind: 'failed'; error: ApiError };

/**
 * The scope's rules in order (the first that matches wins): reorder them with the up/down buttons,
 * edit matchers and dates, and see at once what every user gets with the unsaved draft.
 */
export function RulesPage({ scope, reloadConfig }: PageProps) {
  const [doc, setDoc] = useState<RulesDocument>();
  const [draft, setDraft] = useState<RuleJson[]>([]);
  const [loadError, setLoadError] = useState<ApiError>();
  const [editing, setEditing] = useState<number>();
  const [invalid, setInvalid] = useState<ApiError>();
  const [who, setWho] = useState<WhoGetsWhat>();
  const [whoSaved, setWhoSaved] = useState<WhoGetsWhat>();
  const [whoError, setWhoError] = useState<ApiError>();
  const [save, setSave] = useState<SaveState>({ kind: 'idle' });
  const [announcement, setAnnouncement] = useState('');
  const focusAfter = useRef<{ name: string; which: 'up' | 'down' } | undefined>(undefined);
  const seq = useRef(0);

  const load = async () => {
    try {
      const [rules, saved] = await Promise.all([api.rules(scope.scope), api.whoGetsWhat(scope.scope)]);
      setDoc(rules);
      setDraft(rules.rules);
      setWhoSaved(saved);
      setWho(saved);
      setLoadError(undefined);
      setInvalid(undefined);
    } catch (err) {
      setLoadError(apiErrorOf(err));
    }
  };
  useEffect(() => void load(), [scope.scope]);

  const changed = doc !== undefined && JSON.stringify(draft) !== JSON.stringify(doc.rules);
  useLeaveWarning(changed);
  const settled = useDebounced(draft, 300);

  // Validate the draft with the server's own rules schema, then compute who gets what with it.
  useEffect(() => {
    // Any change makes an answer still on its way stale; only a draft that has stopped changing is sent.
    const n = ++seq.current;
    if (!doc || settled !== draft) return;
    const rules = settled;
    if (JSON.stringify(rules) === JSON.stringify(doc.rules)) {
      setInvalid(undefined);
      setWho(whoSaved);
      return;
    }
    api
      .validateRules(scope.scope, rules)
      .then(() => api.whoGetsWhat(scope.scope, rules))
      .then((result) => {
        if (n !== seq.current) return;
        setInvalid(undefined);
        setWho(result);
        setWhoError(undefined);
      })
      .catch((err: unknown) => {
        if (n !== seq.current) return;
        if (err instanceof ApiFailure && err.status === 422) setInvalid(err.body);
        else setWhoError(apiErrorOf(err));
      });
  }, [settled, draft, doc, whoSaved, scope.scope]);

  // A layout effect: the focus must be on the moved rule before the browser handles the next key
  // press, or a quick second Enter would land on the rule that took its place.
  useLayoutEffect(() => {
    const target = focusAfter.current;
    if (!target) return;
    focusAfter.current = undefined;
    const index = draft.findIndex((r) => r.name === target.name);
    const preferred = document.getElementById(`rule-${index}-${target.which}`) as HTMLButtonElement | null;
    const other = document.getElementById(
      `rule-${index}-${target.which === 'up' ? 'down' : 'up'}`,
    ) as HTMLButtonElement | null;
    (preferred && !preferred.disabled ? preferred : other)?.focus();
  }, [draft]);

  const move = (index: number, by: -1 | 1) => {
    const to = index + by;
    const rule = draft[index];
    const other = draft[to];
    if (!rule || !other) return;
    const next = [...draft];
    next[to] = rule;
    next[index] = other;
    focusAfter.current = { name: rule.name, which: by < 0 ? 'up' : 'down' };
    if (editing === index) setEditing(to);
    else if (editing === to) setEditing(index);
    setDraft(next);
    setAnnouncement(`Moved ${rule.name} to position ${to + 1} of ${draft.length}.`);
  };

  const update = (index: number, rule: RuleJson) => setDraft(draft.map((r, i) => (i === index ? rule : r)));
  const remove = (index: number) => {
    const rule = draft[index];
    if (!rule || !confirm(`Delete the rule ${rule.name}? (Nothing is saved until you press Save rules.)`))
      return;
    setDraft(draft.filter((_, i) => i !== index));
    setEditing(undefined);
  };
  const add = () => {
    let name = 'new-rule';
    for (let n = 2; draft.some((r) => r.name === name); n++) name = `new-rule-${n}`;
    setDraft([...draft, { name, template: scope.templates[0] ?? '' }]);
    setEditing(draft.length);
  };

  const doSave = async () => {
    if (!doc) return;
    setSave({ kind: 'saving' });
    try {
      const result = await api.saveRules(scope.scope, draft, preconditionFor(doc.etag));
      setSave({ kind: 'saved', version: result.version });
      await load();
      await reloadConfig();
    } catch (err) {
      if (isConflict(err)) setSave({ kind: 'conflict', currentEtag: err.body.currentEtag });
      else if (err instanceof ApiFailure && err.status === 422) {
        setInvalid(err.body);
        setSave({ kind: 'failed', error: err.body });
      } else setSave({ kind: 'failed', error: apiErrorOf(err) });
    }
  };

  const invalidAt = fieldOf(invalid);
  const errorFor = (index: number) => (key: keyof RuleJson) =>
    invalidAt?.index === index && invalidAt.key === key && invalid ? messageOf(invalid) : undefined;

  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>Rules</h1>
        <p class="hint">
          {doc?.path ?? 'rules.json'}: the first rule that matches a message decides its signature.
        </p>
      </div>
      <ErrorNotice error={loadError} />
      {doc && (
        <div class="rules-layout">
          <section aria-labelledby="rules-title">
            <h2 id="rules-title">Order</h2>
            <p class="visually-hidden" aria-live="polite">
              {announcement}
            </p>
            <ol class="rule-list">
              {draft.map((rule, i) => (
                <li key={i} class={invalidAt?.index === i ? 'rule has-error' : 'rule'}>
                  <div class="rule-head">
                    <span class="rule-pos" aria-hidden="true">
                      {i + 1}
                    </span>
                    <div class="rule-text">
                      <span class="rule-name">{rule.name}</span> <span class="tag">{rule.template}</span>
                      {rule.banner && <span class="tag banner">banner {rule.banner.template}</span>}
                      <span class="hit-detail">{summary(rule)}</span>
                    </div>
                    <div class="rule-buttons">
                      <button
                        type="button"
                        id={`rule-${i}-up`}
                        aria-label={`Move ${rule.name} up`}
                        disabled={i === 0}
                        onClick={() => move(i, -1)}
                      >
                        ↑
                      </button>
                      <button
                        type="button"
                        id={`rule-${i}-down`}
                        aria-label={`Move ${rule.name} down`}
                        disabled={i === draft.length - 1}
                        onClick={() => move(i, 1)}
                      >
                        ↓
                      </button>
                      <button
                        type="button"
                        aria-expanded={editing === i ? 'true' : 'false'}
                        aria-label={`Edit ${rule.name}`}
                        onClick={() => setEditing(editing === i ? undefined : i)}
                      >
                        Edit
                      </button>
                    </div>
                  </div>
                  {invalidAt?.index === i && (editing !== i || !formErrorKeys.has(invalidAt.key)) && (
                    <p class="field-error">
                      {describeApiError(invalid ?? { error: '', code: 'bad-request' })}
                    </p>
                  )}
                  {editing === i && (
                    <RuleForm
                      key={i}
                      index={i}
                      rule={rule}
                      templates={scope.templates}
                      showTenants={scope.tenants.length > 1 || rule.tenants !== undefined}
                      errorFor={errorFor(i)}
                      onChange={(r) => update(i, r)}
                      onDone={() => setEditing(undefined)}
                      onDelete={() => remove(i)}
                    />
                  )}
                </li>
              ))}
            </ol>
            {invalid && !invalidAt && <ErrorNotice error={invalid} />}
            <div class="save-bar">
              <button type="button" onClick={add}>
                Add a rule
              </button>
              <button
                type="button"
                class="primary"
                disabled={!changed || invalid !== undefined || save.kind === 'saving'}
                onClick={() => void doSave()}
              >
                {save.kind === 'saving' ? 'Saving…' : 'Save rules'}
              </button>
              <button type="button" disabled={!changed} onClick={() => setDraft(doc.rules)}>
                Discard changes
              </button>
              <span class="hint" aria-live="polite">
                {invalid ? 'Fix the error to save' : changed ? 'Unsaved changes' : 'No unsaved changes'}
              </span>
            </div>
            {save.kind === 'saved' && <Notice kind="success">Rules saved (version {save.version}).</Notice>}
            {save.kind === 'failed' && (
              <Notice kind="error">Not saved: {describeApiError(save.error)}</Notice>
            )}
            {save.kind === 'conflict' && (
              <Notice kind="error">
                <p>
                  <strong>Not saved: conflict.</strong> Someone else saved {doc.path} after you opened it;
                  nothing was overwritten and your order is still here.
                </p>
                <div class="actions">
                  <button
                    type="button"
                    onClick={() => {
                      setSave({ kind: 'idle' });
                      void load();
                    }}
                  >
                    Load their rules (discard mine)
                  </button>
                  <button
                    type="button"
                    onClick={() => {
                      setDoc({ ...doc, etag: save.currentEtag ?? doc.etag });
                      setSave({ kind: 'idle' });
                    }}
                  >
                    Keep mine (the next save replaces theirs)
                  </button>
                </div>
              </Notice>
            )}
          </section>
          <section aria-labelledby="who-title">
            <h2 id="who-title">Who gets what</h2>
            <p class="hint">
              {changed ? 'With your unsaved changes; changed cells are marked.' : 'With the saved rules.'}{' '}
              {who && `Dates as of ${new Date(who.at).toLocaleDateString()}.`}
            </p>
            <ErrorNotice error={whoError} />
            {who && <WhoGetsWhatTable data={who} before={changed ? whoSaved : undefined} />}
          </section>
        </div>
      )}
    </>
  );
}
