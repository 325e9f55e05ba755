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
