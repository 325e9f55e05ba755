import type { WhoGetsWhat, WhoGetsWhatCell, WhoGetsWhatRow } from '../../../src/admin/contract';

const columns = [
  { key: 'internalNew', label: 'Internal, new' },
  { key: 'internalReply', label: 'Internal, reply' },
  { key: 'externalNew', label: 'External, new' },
  { key: 'externalReply', label: 'External, reply' },
] as const;

function cellText(cell: WhoGetsWhatCell): string {
  if (cell.action === 'skip')
    return `none (${cell.reason ?? 'skipped'})${cell.rule ? ` · rule ${cell.rule}` : ''}`;
  return `${cell.template ?? ''}${cell.rule ? ` · rule ${cell.rule}` : ''}${cell.banner ? ` + banner ${cell.banner}` : ''}`;
}

function sameCell(a: WhoGetsWhatCell | undefined, b: WhoGetsWhatCell): boolean {
  return a !== undefined && cellText(a) === cellText(b);
}

/**
 * Users × (internal / external, new / reply): the template and rule each gets, as the rule engine
 * computes it. With `before`, cells that differ from it (the saved rules) are marked as changed.
 */
export function WhoGetsWhatTable({ data, before }: { data: WhoGetsWhat; before?: WhoGetsWhat }) {
  const previous = new Map<string, WhoGetsWhatRow>(before?.rows.map((r) => [r.address, r]));
  return (
    <table class="who-gets-what stack">
      <caption class="visually-hidden">Who gets which signature</caption>
      <thead>
        <tr>
          <th scope="col">User</th>
          {columns.map((c) => (
            <th key={c.key} scope="col">
              {c.label}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {data.rows.map((row) => {
          const was = previous.get(row.address);
          return (
            <tr key={row.address}>
              <th scope="row">
                <span class="hit-name">{row.displayName ?? row.address}</span>
                <span class="hit-detail">{row.address}</span>
              </th>
              {columns.map((c) => {
                const cell = row[c.key];
                const changed = before !== undefined && !sameCell(was?.[c.key], cell);
                return (
                  <td
                    key={c.key}
                    data-label={c.label}
                    class={
                      [cell.action === 'skip' ? 'skip' : '', changed ? 'changed' : ''].join(' ').trim() ||
                      undefined
                    }
                  >
                    {cell.action === 'sign' ? (
                      <>
                        <strong>{cell.template}</strong>
                        {cell.rule && <span class="hit-detail">rule {cell.rule}</span>}
                        {cell.banner && <span class="tag">+ {cell.banner}</span>}
                      </>
                    ) : (
                      <>
                        <span>no signature</span>
                        <span class="hit-detail">
                          {cell.reason ?? 'skipped'}
                          {cell.rule ? ` · rule ${cell.rule}` : ''}
                        </span>
                      </>
                    )}
                    {changed && <span class="visually-hidden"> (changed)</span>}
                  </td>
                );
              })}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
