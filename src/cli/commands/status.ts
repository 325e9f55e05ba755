import { loadSettings } from '../../config/index.js';
import { collectStatus, formatStatus, needsAttention, statusSources } from '../../status/index.js';
import type { StatusOptions } from '../usage.js';

/** `sigrelay status [--account-name <name>] [--json]`: exit 1 when something needs attention. */
export async function run(options: StatusOptions): Promise<number> {
  const sources = statusSources({
    settings: loadSettings(),
    accountName: options.accountName,
    configDir: options.config,
  });
  const status = await collectStatus(sources);
  const attention = needsAttention(status);
  if (options.json) console.log(JSON.stringify({ ...status, attention }, null, 2));
  else console.log(formatStatus(status));
  return attention.length > 0 ? 1 : 0;
}
