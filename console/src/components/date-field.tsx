interface Props {
  id: string;
  label: string;
  value: string | undefined;
  onChange: (value: string | undefined) => void;
  error?: string;
  hint?: string;
}

const dateOnly = /^\d{4}-\d{2}-\d{2}$/;

/**
 * A rule or banner date: the browser's date picker for whole UTC days (what most rules use); a
 * value written in the file as an ISO date-time with offset stays a text field, so it is kept as
 * written rather than cut to a day.
 */
export function DateField({ id, label, value, onChange, error, hint }: Props) {
  const asDate = !value || dateOnly.test(value);
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {asDate ? (
        <input
          id={id}
          type="date"
          value={value ?? ''}
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={describedBy || undefined}
          onInput={(e) => onChange(e.currentTarget.value || undefined)}
        />
      ) : (
        <input
          id={id}
          type="text"
          value={value}
          placeholder="YYYY-MM-DDThh:mm+01:00"
          aria-invalid={error ? 'true' : undefined}
          aria-describedby={describedBy || undefined}
          onInput={(e) => onChange(e.currentTarget.value || undefined)}
        />
      )}
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

interface RangeProps {
  /** Prefix of the two inputs' ids: `${idPrefix}-from`, `${idPrefix}-until` (or a function for scoped ids). */
  idFor: (field: 'from' | 'until') => string;
  from: string | undefined;
  until: string | undefined;
  errorFor: (field: 'from' | 'until') => string | undefined;
  onChange: (change: { from?: string | undefined; until?: string | undefined }) => void;
}

/** The From/Until pair every rule and banner has: whole UTC days, the end day included. */
export function DateRange({ idFor, from, until, errorFor, onChange }: RangeProps) {
  return (
    <div class="grid-2">
      <DateField
        id={idFor('from')}
        label="From (UTC day)"
        value={from}
        error={errorFor('from')}
        onChange={(value) => onChange({ from: value })}
      />
      <DateField
        id={idFor('until')}
        label="Until (inclusive)"
        value={until}
        error={errorFor('until')}
        onChange={(value) => onChange({ until: value })}
      />
    </div>
  );
}
