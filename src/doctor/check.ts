/** One finding of `sigrelay doctor`: what was looked at, how it stands, and what to do about it. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Check {
  /** `front`, or the tenant's id. */
  scope: string;
  /** Short stable name (`return-leg.rcpt`, `certificate.client.expiry`). */
  name: string;
  status: CheckStatus;
  /** What was found: names, dates, the endpoint's reply. Never message content. */
  detail: string;
  /** What the admin does; absent when there is nothing to do. */
  remedy?: string;
  /** The catalogue entry explaining the endpoint's reply (src/exchange/replies.ts), when there is one. */
  explanation?: string;
  source?: string;
}

/** 0 all well, 1 warnings, 2 failures: scripts and monitors can branch on it. */
export function exitCodeOf(checks: readonly Check[]): number {
  if (checks.some((c) => c.status === 'fail')) return 2;
  if (checks.some((c) => c.status === 'warn')) return 1;
  return 0;
}

const marks: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** One line per check, the remedy on the same line so a grep shows the whole story. */
export function formatChecks(checks: readonly Check[]): string {
  return checks
    .map((c) => {
      const remedy = c.remedy ? ` → ${c.remedy}` : '';
      const source = c.source ? ` (${c.source})` : '';
      return `${marks[c.status]} ${c.scope} ${c.name}: ${c.detail}${remedy}${source}`;
    })
    .join('\n');
}
