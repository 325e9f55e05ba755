import { needsAttention } from './attention.js';
import type { ServiceStatus } from './collect.js';

function age(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

/** The status for a terminal: one fact per line, what needs attention last. */
export function formatStatus(status: ServiceStatus): string {
  const { inbound, sentItems, retrying, deadLetters, configuration } = status;
  const lines = [
    `sigrelay status at ${status.at} (${status.storage})`,
    '',
    `  inbound queue        ${inbound.depth} claim-check(s), ${inbound.poison} poison`,
    `  stored messages      ${inbound.stored} in inbound`,
    `  oldest message       ${inbound.oldest ? `${age(inbound.oldest.ageSeconds)} (${inbound.oldest.id}, since ${inbound.oldest.since})` : 'none'}`,
    `  in retry             ${retrying.count} orchestration(s)${retrying.oldestSince ? `, oldest since ${retrying.oldestSince}` : ''}`,
    ...retrying.byReason.map(
      (r) =>
        `    ${String(r.count).padStart(4)} × ${r.title}${r.example ? `: ${r.example.split('\n')[0]}` : ''}${r.remedy ? ` → ${r.remedy}` : ''}`,
    ),
    `  retried after 5xx    ${retrying.afterPermanentReply.length} message(s)`,
    `  dead letters         ${deadLetters.count}${deadLetters.oldestAt ? `, oldest ${deadLetters.oldestAt}` : ''}`,
    `  Sent Items jobs      ${sentItems.depth} queued, ${sentItems.poison} poison`,
    `  configuration        ${configuration.source}: ${configuration.error ? 'DOES NOT LOAD' : `${configuration.tenants.length} tenant(s) in service`}`,
  ];
  if (configuration.error) lines.push(`                       ${configuration.error}`);
  if (status.directory.length === 0)
    lines.push('  directory sync       no tenant syncs from Entra ID (users.json by hand)');
  for (const d of status.directory) {
    const state = !d.lastAttemptAt
      ? 'not synced yet'
      : d.lastError
        ? `FAILING since ${d.consecutiveFailures} run(s): ${d.lastError}; last success ${d.lastSuccessAt ?? 'never'}`
        : `ok at ${d.lastSuccessAt}, ${d.users ?? 0} user(s)`;
    lines.push(`  directory sync       ${d.tenant}: ${state}`);
  }
  const attention = needsAttention(status);
  lines.push('', attention.length ? 'needs attention:' : 'nothing needs attention');
  for (const a of attention) lines.push(`  - ${a}`);
  return lines.join('\n');
}
