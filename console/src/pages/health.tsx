import { useEffect, useState } from 'preact/hooks';
import { oldestMessageLimitSeconds, type ApiError, type Health } from '../../../src/admin/contract';
import type { PageProps } from '../page-props';
import { api } from '../api';
import { DoctorPanel } from '../components/doctor-panel';
import { ErrorNotice, Notice } from '../components/notice';
import { apiErrorOf, describeApiError } from '../errors';
import { formatDuration, formatTime } from '../format';

/** How often the page asks again while it is open. */
const refreshMs = 15_000;

function Tile({
  label,
  value,
  note,
  warn,
  code,
}: {
  label: string;
  value: string;
  note?: string;
  warn?: boolean;
  /** A hash or id: monospace, smaller. */
  code?: boolean;
}) {
  return (
    <div class={warn ? 'tile warn' : 'tile'}>
      <dt>{label}</dt>
      <dd>
        <span class={code ? 'tile-value code' : 'tile-value'}>{value}</span>
        {note && <span class="hit-detail">{note}</span>}
      </dd>
    </div>
  );
}

/** The service at a glance: the queue, what is stuck or retrying, the last hour, the configuration in service. */
export function HealthPage({ overview, scope }: PageProps) {
  const [health, setHealth] = useState<Health>();
  const [error, setError] = useState<ApiError>();

  const load = async () => {
    try {
      setHealth(await api.health());
      setError(undefined);
    } catch (err) {
      setError(apiErrorOf(err));
    }
  };
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), refreshMs);
    return () => clearInterval(timer);
  }, []);

  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1}>Health</h1>
        <p class="hint" aria-live="polite">
          {health ? `As of ${formatTime(health.at)}; refreshed every ${refreshMs / 1000} s.` : 'Loading…'}
        </p>
        <button type="button" onClick={() => void load()}>
          Refresh now
        </button>
      </div>
      <ErrorNotice error={error} />
      {health && (
        <>
          {health.attention.length > 0 && (
            <Notice kind="warning">
              <p>
                Needs attention (the same list as <code>sigrelay status</code>):
              </p>
              <ul class="attention" aria-label="Needs attention">
                {health.attention.map((line) => (
                  <li key={line}>{line}</li>
                ))}
              </ul>
            </Notice>
          )}
          <section aria-labelledby="queue-title">
            <h2 id="queue-title">Messages</h2>
            <dl class="tiles">
              <Tile label="Queue depth" value={String(health.inbound.depth)} note="claim-checks waiting" />
              <Tile
                label="Oldest message"
                value={health.inbound.oldest ? formatDuration(health.inbound.oldest.ageSeconds) : '—'}
                note={`${health.inbound.stored} stored, not yet finished`}
                warn={(health.inbound.oldest?.ageSeconds ?? 0) > oldestMessageLimitSeconds}
              />
              <Tile
                label="In retry"
                value={String(health.retrying.count)}
                note="handed to the orchestration"
                warn={health.retrying.count > 0}
              />
              <Tile
                label="Retried after 5xx"
                value={String(health.retrying.afterPermanentReply.length)}
                note="refused permanently, yet still retried"
                warn={health.retrying.afterPermanentReply.length > 0}
              />
              <Tile
                label="Dead letters"
                value={String(health.deadLetters.count)}
                warn={health.deadLetters.count > 0}
                note="see Messages"
              />
              <Tile
                label="Poison queue"
                value={String(health.inbound.poison)}
                warn={health.inbound.poison > 0}
                note="undecodable claim-checks"
              />
            </dl>
            {health.retrying.byReason.length > 0 && (
              <ul class="retry-reasons" aria-label="Why messages are in retry">
                {health.retrying.byReason.map((r) => (
                  <li key={r.reason}>
                    {r.count} × {r.title}
                    {r.remedy && <span class="hit-detail"> → {r.remedy}</span>}
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="hour-title">
            <h2 id="hour-title">Last hour</h2>
            <dl class="tiles">
              <Tile label="Delivered" value={String(health.lastHour.delivered)} />
              <Tile
                label="Failed attempts"
                value={String(health.lastHour.failed)}
                warn={health.lastHour.failed > 0}
              />
              <Tile
                label="Dead-lettered"
                value={String(health.lastHour.deadLettered)}
                warn={health.lastHour.deadLettered > 0}
              />
            </dl>
          </section>
          <section aria-labelledby="config-title">
            <h2 id="config-title">Configuration</h2>
            <dl class="tiles">
              <Tile
                label="Version in service"
                code
                value={health.config.versionInService}
                note={`since ${formatTime(health.config.loadedAt)}`}
              />
              <Tile
                label="Last error"
                value={health.config.lastError ? 'Newer version refused' : 'None'}
                warn={health.config.lastError !== undefined}
              />
            </dl>
            {health.config.lastError && (
              <Notice kind="warning">{describeApiError(health.config.lastError)}</Notice>
            )}
          </section>
        </>
      )}
      <DoctorPanel
        tenantId={scope.tenants.length === 1 ? scope.tenants[0]?.id : undefined}
        tenantNames={new Map(overview.scopes.flatMap((s) => s.tenants.map((t) => [t.id, t.name] as const)))}
      />
    </>
  );
}
