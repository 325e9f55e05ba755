import { useState } from 'preact/hooks';
import type { ApiError, DoctorCheck, DoctorReport } from '../../../src/admin/contract';
import { api } from '../api';
import { apiErrorOf } from '../errors';
import { formatTime } from '../format';
import { ErrorNotice } from './notice';

const statusLabel: Record<DoctorCheck['status'], string> = {
  ok: 'OK',
  warn: 'Warning',
  fail: 'Failure',
  skip: 'Skipped',
};

function summary(report: DoctorReport): string {
  const count = (s: DoctorCheck['status']) => report.checks.filter((c) => c.status === s).length;
  const verdict = ['All checks passed', 'Warnings', 'Failures'][report.exitCode] ?? 'Failures';
  const n = (s: DoctorCheck['status'], one: string) => `${count(s)} ${one}${count(s) === 1 ? '' : 's'}`;
  return `${verdict}: ${count('ok')} ok, ${n('warn', 'warning')}, ${n('fail', 'failure')}, ${count('skip')} skipped (as of ${formatTime(report.at)}).`;
}

function CheckLine({ check, tenantNames }: { check: DoctorCheck; tenantNames: ReadonlyMap<string, string> }) {
  // Checks are scoped by tenant id (a GUID, as Exchange names tenants); people know the name.
  const name = tenantNames.get(check.scope);
  return (
    <li class={`doctor-check ${check.status}`}>
      <span class={`check-status ${check.status}`}>{statusLabel[check.status]}</span>
      <div class="check-body">
        <p class="check-head">
          <span class="check-scope" title={name ? `tenant ${check.scope}` : undefined}>
            {name ?? check.scope}
          </span>{' '}
          <code>{check.name}</code>
        </p>
        <p class="check-detail">{check.detail}</p>
        {check.explanation && (
          <p class="check-explanation" role="note">
            <em>What it means:</em> {check.explanation}
          </p>
        )}
        {check.remedy && (
          <p class="check-remedy">
            <em>What to do:</em> {check.remedy}
            {check.source && (
              <>
                {' '}
                <a href={check.source} target="_blank" rel="noreferrer">
                  Microsoft's page
                </a>
              </>
            )}
          </p>
        )}
      </div>
    </li>
  );
}

/**
 * `sigrelay doctor` on the health page. Each run opens a real SMTP session to the tenant's Exchange
 * endpoint, so it runs only when the admin asks — never with the page's auto-refresh.
 */
export function DoctorPanel({
  tenantId,
  tenantNames,
}: {
  tenantId?: string;
  tenantNames: ReadonlyMap<string, string>;
}) {
  const [report, setReport] = useState<DoctorReport>();
  const [error, setError] = useState<ApiError>();
  const [running, setRunning] = useState(false);

  const run = async () => {
    setRunning(true);
    try {
      setReport(await api.doctor(tenantId));
      setError(undefined);
    } catch (err) {
      setError(apiErrorOf(err));
    } finally {
      setRunning(false);
    }
  };

  return (
    <section aria-labelledby="doctor-title">
      <div class="card-head">
        <h2 id="doctor-title">Connection doctor</h2>
        <button type="button" class="primary" disabled={running} onClick={() => void run()}>
          {running ? 'Checking…' : 'Run the checks'}
        </button>
      </div>
      <p class="hint">
        The checks of <code>sigrelay doctor</code>: our certificates, the configuration Exchange depends on,
        and a real SMTP session to the tenant's endpoint that sends nothing. They run only when you ask (up to
        a few seconds per tenant).
      </p>
      <ErrorNotice error={error} />
      <div aria-live="polite">
        {report && (
          <>
            <p class={`doctor-summary ${['ok', 'warn', 'fail'][report.exitCode] ?? 'fail'}`}>
              {summary(report)}
            </p>
            <ul class="checks">
              {report.checks.map((c, i) => (
                <CheckLine key={i} check={c} tenantNames={tenantNames} />
              ))}
            </ul>
          </>
        )}
      </div>
    </section>
  );
}
