import { useEffect, useState } from 'preact/hooks';
import type { DirectoryUserHit } from '../../../src/admin/contract';
import { api } from '../api';
import { apiErrorOf } from '../errors';
import { useDebounced } from '../hooks';

interface Props {
  id: string;
  /** Only users of this configuration scope (the tenant being edited) are offered. */
  scope: string;
  value: DirectoryUserHit | undefined;
  onChange: (user: DirectoryUserHit) => void;
}

export function userLabel(user: DirectoryUserHit): string {
  return user.displayName ? `${user.displayName} <${user.address}>` : user.address;
}

/**
 * The directory search as an ARIA combobox: type part of a name or address, move through the
 * matches with the arrow keys, Enter picks one, Escape closes the list.
 */
export function SenderPicker({ id, scope, value, onChange }: Props) {
  const [text, setText] = useState(value ? userLabel(value) : '');
  const [open, setOpen] = useState(false);
  const [hits, setHits] = useState<DirectoryUserHit[]>([]);
  const [active, setActive] = useState(0);
  const [error, setError] = useState<string>();
  const query = useDebounced(text, 250);

  useEffect(() => {
    if (value) setText(userLabel(value));
  }, [value]);

  useEffect(() => {
    if (!open) return;
    let current = true;
    const q = value && query === userLabel(value) ? '' : query;
    api
      .directory(q)
      .then((found) => {
        if (!current) return;
        setHits(found.filter((u) => u.scope === scope));
        setActive(0);
        setError(undefined);
      })
      .catch((err: unknown) => current && setError(apiErrorOf(err).error));
    return () => {
      current = false;
    };
  }, [query, open, scope, value]);

  const pick = (user: DirectoryUserHit) => {
    onChange(user);
    setText(userLabel(user));
    setOpen(false);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      if (!open) setOpen(true);
      else setActive((a) => Math.min(a + 1, shown.length - 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => Math.max(a - 1, 0));
    } else if (e.key === 'Enter' && open) {
      const hit = shown[active];
      if (hit) {
        e.preventDefault();
        pick(hit);
      }
    } else if (e.key === 'Escape' && open) {
      e.preventDefault();
      setOpen(false);
      if (value) setText(userLabel(value));
    }
  };

  // Until the server answers for what was just typed, narrow the last answer to it, so the list
  // (and Enter) never offers a stale match.
  const typed = value && text === userLabel(value) ? '' : text.trim().toLowerCase();
  const shown = hits.filter(
    (h) => h.address.toLowerCase().includes(typed) || (h.displayName ?? '').toLowerCase().includes(typed),
  );
  const listId = `${id}-list`;
  const expanded = open && (shown.length > 0 || error !== undefined);
  return (
    <div class="combobox">
      <label for={id}>Sender</label>
      <input
        id={id}
        type="text"
        role="combobox"
        autocomplete="off"
        spellcheck={false}
        placeholder="Search by name or address"
        aria-autocomplete="list"
        aria-expanded={expanded ? 'true' : 'false'}
        aria-controls={listId}
        aria-activedescendant={expanded && shown[active] ? `${listId}-${active}` : undefined}
        value={text}
        onInput={(e) => {
          setText(e.currentTarget.value);
          setActive(0);
          setOpen(true);
        }}
        onFocus={() => setOpen(true)}
        onBlur={() =>
          // Leave time for a click on an option to land first.
          setTimeout(() => {
            setOpen(false);
            if (value) setText(userLabel(value));
          }, 150)
        }
        onKeyDown={onKeyDown}
      />
      <ul id={listId} role="listbox" aria-label="Directory matches" hidden={!expanded}>
        {error && <li class="combobox-error">{error}</li>}
        {shown.map((hit, i) => (
          <li
            key={hit.address}
            id={`${listId}-${i}`}
            role="option"
            aria-selected={i === active ? 'true' : 'false'}
            class={i === active ? 'active' : undefined}
            onMouseDown={(e) => {
              e.preventDefault();
              pick(hit);
            }}
          >
            <span class="hit-name">{hit.displayName ?? hit.address}</span>
            <span class="hit-detail">
              {hit.address}
              {hit.jobTitle ? ` · ${hit.jobTitle}` : ''}
            </span>
          </li>
        ))}
      </ul>
      {open && !error && shown.length === 0 && typed !== '' && query === text && (
        <p class="hint" role="status">
          No one in this tenant's directory matches “{text.trim()}”.
        </p>
      )}
    </div>
  );
}
