import { oldestMessageLimitSeconds, type ServiceStatus } from '../contracts/service-status.js';

export { oldestMessageLimitSeconds };

/** What needs an operator, one sentence each; empty when all is well. `sigrelay status` exits 1 otherwise. */
export function needsAttention(status: ServiceStatus): string[] {
  const out: string[] = [];
  const { inbound, deadLetters, configuration } = status;
  if (deadLetters.count > 0)
    out.push(`${deadLetters.count} dead letter(s): sigrelay deadletter list, then replay or delete them`);
  if (inbound.oldest && inbound.oldest.ageSeconds > oldestMessageLimitSeconds)
    out.push(
      `the oldest message (${inbound.oldest.id}) has waited ${Math.round(inbound.oldest.ageSeconds / 60)} min (limit ${oldestMessageLimitSeconds / 60})`,
    );
  const permanent = status.retrying.afterPermanentReply;
  if (permanent.length > 0) {
    const first = permanent[0];
    out.push(
      `${permanent.length} message(s) still retried after a permanent (5xx) reply, e.g. ${first?.id}: ${first?.response}; sigrelay trace ${first?.id}`,
    );
  }
  if (configuration.error)
    out.push(`the configuration does not load (the services keep the last good one): ${configuration.error}`);
  if (inbound.poison > 0) out.push(`${inbound.poison} undecodable claim-check(s) in ${'inbound-poison'}`);
  if (status.sentItems.poison > 0)
    out.push(`${status.sentItems.poison} failed Sent Items job(s) in sentitems-poison`);
  for (const d of status.directory)
    if (d.lastError)
      out.push(`directory sync of ${d.tenant} fails (${d.consecutiveFailures}×): ${d.lastError}`);
  return out;
}
