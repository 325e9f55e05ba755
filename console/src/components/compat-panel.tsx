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
              : `${count(byFeature(report.errors).length, 'feature')} not supported and ${count(byFeature(report.warnings).length, 'feature')} partly supported, across ${report.clients.length} email clients.`}
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

/** caniemail's notes are Markdown: `code` and [text](url) become plain text here. */
function plain(markdown: string): string {
  return markdown.replace(/\[([^[\]]*)\]\([^)]*\)/g, '$1').replace(/`/g, '');
}

interface Feature {
  feature: string;
  clients: string[];
  notes: { message: string; clients: string[] }[];
}

/** One entry per feature: every client concerned, and each distinct note with the clients it is about. */
function byFeature(issues: CompatIssue[]): Feature[] {
  const features = new Map<string, Feature>();
  for (const issue of issues) {
    // doiuse-email's "`margin` is only partially supported by `outlook.windows`" lines name the
    // feature and the client in their text.
    const partial = /^(.+?) is (?:only partially|not) supported by (\S+)$/.exec(plain(issue.feature));
    const name = partial?.[1] ?? plain(issue.feature);
    const entry = features.get(name) ?? { feature: name, clients: [], notes: [] };
    const clients = [...issue.clients, partial?.[2] ?? ''].filter(Boolean);
    for (const c of clients) if (!entry.clients.includes(c)) entry.clients.push(c);
    const message = plain(issue.message);
    if (!partial && message !== name && !entry.notes.some((n) => n.message === message))
      entry.notes.push({ message, clients });
    features.set(name, entry);
  }
  return [...features.values()];
}

function IssueList({ issues, kind }: { issues: CompatIssue[]; kind: 'error' | 'warning' }) {
  if (issues.length === 0) return null;
  return (
    <ul class={`issues ${kind}`}>
      {byFeature(issues).map((f) => (
        <li key={f.feature}>
          <span class="badge">{kind === 'error' ? 'Unsupported' : 'Partial'}</span>{' '}
          <strong>{f.feature}</strong>
          {f.clients.length > 0 && <span class="clients"> in {f.clients.join(', ')}</span>}
          {f.notes.length > 0 && (
            <details>
              <summary>{count(f.notes.length, 'note')}</summary>
              <ul>
                {f.notes.map((n) => (
                  <li key={n.message}>
                    {n.message}
                    {n.clients.length > 0 && <span class="clients"> ({n.clients.join(', ')})</span>}
                  </li>
                ))}
              </ul>
            </details>
          )}
        </li>
      ))}
    </ul>
  );
}
