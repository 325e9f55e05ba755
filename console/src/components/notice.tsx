import type { ComponentChildren } from 'preact';
import type { ApiError } from '../../../src/admin/contract';
import { describeApiError } from '../errors';

/** A message that screen readers announce: `alert` for errors, `status` for the rest. */
export function Notice({
  kind,
  children,
}: {
  kind: 'error' | 'warning' | 'success' | 'info';
  children: ComponentChildren;
}) {
  return (
    <div class={`notice ${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function ErrorNotice({ error }: { error: ApiError | undefined }) {
  if (!error) return null;
  return <Notice kind="error">{describeApiError(error)}</Notice>;
}
