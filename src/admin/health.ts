import { collectStatus, needsAttention, recentActivity, type StatusSources } from '../status/index.js';
import type { MessageTrace } from '../trace/index.js';
import type { ConfigStatus, Health } from './contract.js';

/**
 * The health page's answer: the operators' read-model that `sigrelay status` prints (src/status,
 * one definition per figure), with the same `attention` sentences, plus the trace's last hour and
 * the configuration this process has in service.
 */
export async function collectHealth(
  sources: StatusSources,
  trace: Pick<MessageTrace, 'eventsSince'>,
  inService: () => Promise<ConfigStatus>,
): Promise<Health> {
  const [status, lastHour, config] = await Promise.all([
    collectStatus(sources),
    recentActivity(trace),
    inService(),
  ]);
  return { ...status, attention: needsAttention(status), lastHour, config };
}
