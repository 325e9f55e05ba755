import { useEffect, useState } from 'preact/hooks';
import type { ApiError, CompatIssue, CompatReport } from '../../../src/admin/contract';
import { api } from '../api';
import { apiErrorOf } from '../errors';
import { useDebounced } from '../hooks';
import { ErrorNotice } from './notice';

/** The template's HTML and CSS checked against the email clients' support (caniemail data). */
export function CompatPanel({ html }: { html: string }) {
  const settled = useDebounced(html, 800);
  const [report, setReport] = useState<CompatReport>();
  const [error, setError] = useState<ApiError>();

  useEffect(() => {
    let current = true;
    api
      .compat(settled)
      .then((r) => {
        if (!current) return;
        setReport(r);
        setError(undefined);
      })
      .catch((err: unknown) => current && setError(apiErrorOf(err)));
    return () => {
      current = false;
    };
  }, [settled]);

  return (
    <section class="compat" aria-labelledby="compat-title">
      <h2 id="compat-title">Compatibility</h2>
      <ErrorNotice error={error} />
      {report && (
        <>
          <p class="compat-summary" role="status">
            {report.errors.length === 0 && report.warnings.length === 0
              ? `No known problems in ${report.clients.length} email clients.`
              : `${count(report.errors.length, 'feature')} not supported and ${count(report.warnings.length, 'note')} across ${report.clients.length} email clients.`}
          </p>
          <IssueList issues={report.errors} kind="error" />
          <IssueList issues={report.warnings} kind="warning" />
        </>
      )}
    </section>
  );
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function IssueList({ issues, kind }: { issues: CompatIssue[]; kind: 'error' | 'warning' }) {
  if (issues.length === 0) return null;
  return (
    <ul class={`issues ${kind}`}>
      {issues.map((issue, i) => (
        <li key={`${issue.feature}-${i}`}>
          <span class="badge">{kind === 'error' ? 'Unsupported' : 'Partial'}</span>{' '}
          <strong>{issue.feature}</strong>: {issue.message}
          {issue.clients.length > 0 && <span class="clients"> ({issue.clients.join(', ')})</span>}
        </li>
      ))}
    </ul>
  );
}
