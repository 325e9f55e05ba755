import { useEffect } from 'preact/hooks';

interface Draft {
  /** The ETag the edit started from: restored with it, a save after someone else's is a conflict. */
  etag: string | undefined;
  content: string;
}

const kept = new Map<string, Draft>();

/**
 * Unsaved template edits, kept in memory while the admin looks at another page of the console (a
 * reload or closing the tab asks first, see useLeaveWarning).
 */
export const unsavedEdits = {
  get: (path: string): Draft | undefined => kept.get(path),
  keep(path: string, draft: Draft, saved: string): void {
    if (draft.content === saved) kept.delete(path);
    else kept.set(path, draft);
  },
  discard(...paths: string[]): void {
    for (const path of paths) kept.delete(path);
  },
};

/** The template last open in the studio, per scope, so coming back to the studio reopens it. */
export const lastTemplate = new Map<string, string>();

/** While `unsaved`, the browser asks before the page is reloaded or closed. */
export function useLeaveWarning(unsaved: boolean): void {
  useEffect(() => {
    if (!unsaved) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    addEventListener('beforeunload', warn);
    return () => removeEventListener('beforeunload', warn);
  }, [unsaved]);
}
