import { useEffect, useState } from 'preact/hooks';
import type { ApiError, VersionInfo } from '../../../src/admin/contract';
import { api } from '../api';
import { apiErrorOf, isConflict } from '../errors';
import { formatTime } from '../format';
import { NameSelect, TableHead } from './fields';
import { ErrorNotice, Notice } from './notice';

interface Props {
  paths: string[];
  /** The file's current ETag: a rollback is refused (412) if someone saved meanwhile. */
  currentEtag: (path: string) => string | undefined;
  onRolledBack: () => Promise<void>;
}

/** The last versions of a template's files, newest first, each with a one-click rollback. */
export function VersionList({ paths, currentEtag, onRolledBack }: Props) {
  const [path, setPath] = useState(paths[0] ?? '');
  const [versions, setVersions] = useState<VersionInfo[]>();
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState<string>();

  useEffect(() => {
    let current = true;
    api
      .versions(path)
      .then((list) => current && setVersions(list.versions))
      .catch((err: unknown) => current && setError(apiErrorOf(err)));
    return () => {
      current = false;
    };
  }, [path]);

  const rollback = async (version: VersionInfo) => {
    const etag = currentEtag(path);
    if (!etag) return;
    setError(undefined);
    try {
      const result = await api.rollback(path, version.version, etag);
      setDone(
        `Rolled ${path} back to the version of ${formatTime(version.at)} (new version ${result.version}).`,
      );
      await onRolledBack();
    } catch (err) {
      setError(
        isConflict(err)
          ? { ...err.body, error: `${path} was saved by someone else meanwhile; reload the template first.` }
          : apiErrorOf(err),
      );
    }
  };

  return (
    <details class="panel">
      <summary>Versions</summary>
      {paths.length > 1 && (
        <NameSelect
          label="Versions of"
          inline
          id="versions-of"
          value={path}
          names={paths}
          onChange={setPath}
        />
      )}
      {done && <Notice kind="success">{done}</Notice>}
      <ErrorNotice error={error} />
      {versions && versions.length === 0 && <p class="hint">No versions recorded yet.</p>}
      {versions && versions.length > 0 && (
        <table class="versions stack">
          <TableHead
            caption={`Versions of ${path}, newest first`}
            columns={['When', 'Who', 'What', 'Size']}
            action
          />
          <tbody>
            {versions.map((v, i) => (
              <tr key={v.version}>
                <td data-label="When">{formatTime(v.at)}</td>
                <td data-label="Who">{v.by}</td>
                <td data-label="What">{i === 0 ? `${v.action} (current)` : v.action}</td>
                <td data-label="Size">{v.action === 'delete' ? '—' : `${v.size} B`}</td>
                <td>
                  {i > 0 && v.action !== 'delete' && (
                    <button
                      type="button"
                      aria-label={`Roll back to the version of ${formatTime(v.at)}`}
                      title={v.sha256 ? `SHA-256 ${v.sha256}` : undefined}
                      onClick={() => void rollback(v)}
                    >
                      Roll back
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}
