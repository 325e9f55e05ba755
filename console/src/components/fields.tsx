import type { ComponentChildren } from 'preact';

/** A labelled checkbox in the console's `field check` layout. */
export function CheckField(props: {
  id: string;
  label: string;
  checked: boolean;
  onChange: (checked: boolean) => void;
}) {
  return (
    <div class="field check">
      <input
        id={props.id}
        type="checkbox"
        checked={props.checked}
        onChange={(e) => props.onChange(e.currentTarget.checked)}
      />
      <label for={props.id}>{props.label}</label>
    </div>
  );
}

/** One choice of a radio group, its label beside it. */
export function RadioOption(props: {
  id: string;
  name: string;
  checked: boolean;
  onSelect: () => void;
  children: ComponentChildren;
}) {
  return (
    <span class="radio">
      <input type="radio" id={props.id} name={props.name} checked={props.checked} onChange={props.onSelect} />
      <label for={props.id}>{props.children}</label>
    </span>
  );
}

/** A labelled `<select>` of plain names (templates, rules, files), each its own value. */
export function NameSelect(props: {
  id: string;
  label: string;
  value: string;
  names: readonly string[];
  onChange: (name: string) => void;
  /** Label and select on one line (page heads, toolbars). */
  inline?: boolean;
}) {
  return (
    <div class={props.inline ? 'field inline' : 'field'}>
      <label for={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.names.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
    </div>
  );
}

/**
 * The head of a results table (`stack` tables turn into cards on narrow screens), with an optional
 * last column for a row's action button whose heading only screen readers hear.
 */
export function TableHead(props: { caption: string; columns: readonly string[]; action?: boolean }) {
  return (
    <>
      <caption class="visually-hidden">{props.caption}</caption>
      <thead>
        <tr>
          {props.columns.map((column) => (
            <th key={column} scope="col">
              {column}
            </th>
          ))}
          {props.action && (
            <th scope="col">
              <span class="visually-hidden">Action</span>
            </th>
          )}
        </tr>
      </thead>
    </>
  );
}

/** A labelled single-line input (text, e-mail, date-time…) in the console's `field` layout. */
export function InputField(props: {
  id: string;
  label: string;
  type: 'text' | 'email' | 'datetime-local';
  value: string;
  onInput: (value: string) => void;
  spellcheck?: boolean;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        // Preact's typings choose the allowed attributes by a literal `type`, which a union of
        // types cannot satisfy though each member does (the console's tsc needs the assertion; the
        // linter's project view does not see why).
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
        type={props.type as 'text'}
        {...(props.spellcheck === undefined ? {} : { spellcheck: props.spellcheck })}
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
    </div>
  );
}
