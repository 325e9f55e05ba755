import { useEffect, useState } from 'preact/hooks';
import type {
  ApiError,
  BannerJson,
  Campaign,
  CampaignList,
  RulesDocument,
} from '../../../src/admin/contract';
import type { PageProps } from '../page-props';
import { api, ApiFailure } from '../api';
import { DateRange } from '../components/date-field';
import { NameSelect } from '../components/fields';
import { ErrorNotice, Notice } from '../components/notice';
import { apiErrorOf, describeApiError, isConflict, messageOf } from '../errors';
import { formatTime } from '../format';

const statusLabel: Record<Campaign['status'], string> = {
  active: 'Active',
  scheduled: 'Scheduled',
  ended: 'Ended',
};

interface Editing {
  rule: string;
  banner: BannerJson;
  /** A banner for a rule that has none yet. */
  isNew: boolean;
}

/** Drops empty fields so the saved banner has only what the admin filled in. */
function tidy(banner: BannerJson): BannerJson {
  return Object.fromEntries(
    Object.entries(banner).filter(([, v]) => v !== undefined && v !== ''),
  ) as unknown as BannerJson;
}

/**
 * Campaign banners: each rides on a rule and shows under its signatures between two dates. Lists
 * what is active now (or on a chosen day) and for whom, and schedules, changes or removes banners.
 */
export function CampaignsPage({ scope, reloadConfig }: PageProps) {
  const [day, setDay] = useState<string>();
  const [list, setList] = useState<CampaignList>();
  const [rules, setRules] = useState<RulesDocument>();
  const [error, setError] = useState<ApiError>();
  const [editing, setEditing] = useState<Editing>();
  const [formError, setFormError] = useState<ApiError>();
  const [saved, setSaved] = useState<string>();
  const [busy, setBusy] = useState(false);

  const load = async () => {
    try {
      const at = day ? `${day}T12:00:00Z` : undefined;
      const [campaigns, doc] = await Promise.all([api.campaigns(at), api.rules(scope.scope)]);
      setList(campaigns);
      setRules(doc);
      setError(undefined);
    } catch (err) {
      setError(apiErrorOf(err));
    }
  };
  useEffect(() => void load(), [day, scope.scope]);

  const campaigns = list?.campaigns.filter((c) => c.scope === scope.scope) ?? [];
  const rulesWithout = rules?.rules.filter((r) => !r.banner).map((r) => r.name) ?? [];

  const submit = async (banner: BannerJson | null, rule: string) => {
    if (!rules) return;
    setBusy(true);
    setFormError(undefined);
    setSaved(undefined);
    try {
      const result = await api.saveCampaign(
        { scope: scope.scope, rule, banner: banner && tidy(banner) },
        rules.etag,
      );
      setSaved(`${banner ? 'Banner saved' : 'Banner removed'} on rule ${rule} (version ${result.version}).`);
      setEditing(undefined);
      await load();
      await reloadConfig();
    } catch (err) {
      if (isConflict(err))
        setFormError({
          ...err.body,
          error: `Not saved: someone else changed ${rules.path} meanwhile; nothing was overwritten. Reload the page to see their rules.`,
        });
      else setFormError(err instanceof ApiFailure ? err.body : apiErrorOf(err));
    } finally {
      setBusy(false);
    }
  };

  /** The banner form of the edit in progress, saved onto `rule`. */
  const bannerForm = (edit: Editing, rule: string) => (
    <BannerForm
      editing={edit}
      templates={scope.templates}
      busy={busy}
      error={formError}
      onChange={setEditing}
      onSave={() => void submit(edit.banner, rule)}
      onCancel={() => setEditing(undefined)}
    />
  );

  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>Campaigns</h1>
        <div class="field inline">
          <label for="campaigns-day">Show as of</label>
          <input
            id="campaigns-day"
            type="date"
            value={day ?? ''}
            onInput={(e) => setDay(e.currentTarget.value || undefined)}
          />
          {day && (
            <button type="button" class="quiet" onClick={() => setDay(undefined)}>
              Now
            </button>
          )}
        </div>
      </div>
      <ErrorNotice error={error} />
      {saved && <Notice kind="success">{saved}</Notice>}
      {list && (
        <p class="hint">
          {campaigns.length === 0
            ? 'No campaign banners in this tenant.'
            : `Status as of ${formatTime(list.at)}.`}
        </p>
      )}
      <ul class="cards">
        {campaigns.map((c) => (
          <li key={c.rule} class="card campaign">
            <div class="card-head">
              <h2>{c.banner.template}</h2>
              <span class={`status ${c.status}`}>{statusLabel[c.status]}</span>
            </div>
            <dl class="facts">
              <dt>Rule</dt>
              <dd>{c.rule}</dd>
              <dt>Dates</dt>
              <dd>
                {c.banner.from ?? 'always'} → {c.banner.until ?? 'open-ended'}
              </dd>
              {c.banner.link && (
                <>
                  <dt>Link</dt>
                  <dd class="wrap">{c.banner.link}</dd>
                </>
              )}
              {c.banner.image && (
                <>
                  <dt>Image</dt>
                  <dd class="wrap">{c.banner.image}</dd>
                </>
              )}
              <dt>Shown to</dt>
              <dd>{c.status === 'active' ? shownTo(c) : 'nobody at this date'}</dd>
            </dl>
            {c.status === 'active' && c.activeFor.internal.length + c.activeFor.external.length > 0 && (
              <details>
                <summary>Who gets it</summary>
                <div class="grid-2">
                  <AddressList title="Internal recipients" addresses={c.activeFor.internal} />
                  <AddressList title="External recipients" addresses={c.activeFor.external} />
                </div>
              </details>
            )}
            {editing?.rule === c.rule ? (
              bannerForm(editing, c.rule)
            ) : (
              <div class="actions">
                <button
                  type="button"
                  aria-label={`Edit the banner ${c.banner.template} on rule ${c.rule}`}
                  onClick={() => {
                    setFormError(undefined);
                    setEditing({ rule: c.rule, banner: { ...c.banner }, isNew: false });
                  }}
                >
                  Edit
                </button>
                <button
                  type="button"
                  class="danger"
                  aria-label={`Remove the banner ${c.banner.template} from rule ${c.rule}`}
                  onClick={() =>
                    confirm(`Remove the banner from rule ${c.rule}?`) && void submit(null, c.rule)
                  }
                >
                  Remove
                </button>
              </div>
            )}
          </li>
        ))}
      </ul>
      {rules && rulesWithout.length > 0 && (
        <section class="card" aria-labelledby="new-banner-title">
          <h2 id="new-banner-title">Schedule a new banner</h2>
          {editing?.isNew ? (
            <>
              <NameSelect
                label="On rule"
                id="banner-rule"
                value={editing.rule}
                names={rulesWithout}
                onChange={(rule) => setEditing({ ...editing, rule })}
              />
              {bannerForm(editing, editing.rule)}
            </>
          ) : (
            <button
              type="button"
              onClick={() => {
                setFormError(undefined);
                setEditing({
                  rule: rulesWithout[0] ?? '',
                  banner: {
                    template: scope.templates.find((t) => t.startsWith('banner')) ?? scope.templates[0] ?? '',
                  },
                  isNew: true,
                });
              }}
            >
              Add a banner to a rule
            </button>
          )}
        </section>
      )}
    </>
  );
}

function BannerForm(props: {
  editing: Editing;
  templates: string[];
  busy: boolean;
  error: ApiError | undefined;
  onChange: (editing: Editing) => void;
  onSave: () => void;
  onCancel: () => void;
}) {
  const { editing, templates, busy, error } = props;
  const banner = editing.banner;
  const set = (patch: Partial<BannerJson>) => props.onChange({ ...editing, banner: { ...banner, ...patch } });
  // The server names the banner's field: `[0].banner.until`.
  const field = /\.banner\.(\w+)/.exec(error?.field ?? '')?.[1];
  const errorFor = (key: keyof BannerJson) => (field === key && error ? messageOf(error) : undefined);
  const shownAtField = field === 'from' || field === 'until' || field === 'link';
  return (
    <form
      class="banner-form"
      aria-label={`Banner on rule ${editing.rule}`}
      onSubmit={(e) => {
        e.preventDefault();
        props.onSave();
      }}
    >
      <NameSelect
        label="Banner template"
        id="banner-template"
        value={banner.template}
        names={templates}
        onChange={(template) => set({ template })}
      />
      <DateRange
        idFor={(field) => `banner-${field}`}
        from={banner.from}
        until={banner.until}
        errorFor={errorFor}
        onChange={set}
      />
      <div class="field">
        <label for="banner-link">Link (https)</label>
        <input
          id="banner-link"
          type="url"
          value={banner.link ?? ''}
          aria-invalid={errorFor('link') ? 'true' : undefined}
          onInput={(e) => set({ link: e.currentTarget.value || undefined })}
        />
        {errorFor('link') && <p class="field-error">{errorFor('link')}</p>}
      </div>
      <div class="field">
        <label for="banner-image">Image (a file under images/ or an https URL)</label>
        <input
          id="banner-image"
          type="text"
          value={banner.image ?? ''}
          onInput={(e) => set({ image: e.currentTarget.value || undefined })}
        />
      </div>
      {error && !shownAtField && <Notice kind="error">{describeApiError(error)}</Notice>}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save banner'}
        </button>
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** "new messages of 2 senders to external recipients and 1 to internal ones". */
function shownTo(c: Campaign): string {
  const parts = [
    c.activeFor.external.length > 0 ? `${senders(c.activeFor.external.length)} to external recipients` : '',
    c.activeFor.internal.length > 0 ? `${senders(c.activeFor.internal.length)} to internal recipients` : '',
  ].filter(Boolean);
  return parts.length > 0
    ? `new messages of ${parts.join(' and of ')}`
    : 'nobody (no sender matches its rule)';
}

function senders(n: number): string {
  return `${n} sender${n === 1 ? '' : 's'}`;
}

function AddressList(props: { title: string; addresses: readonly string[] }) {
  return (
    <div>
      <h3>{props.title}</h3>
      <ul class="plain">
        {props.addresses.map((a) => (
          <li key={a}>{a}</li>
        ))}
      </ul>
    </div>
  );
}
