import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sampleConfigDir } from '../../src/config/index.js';

export interface TenantOverrides {
  signingFailure?: 'fail-open' | 'fail-closed';
  permanentFailure?: 'dsn' | 'alert';
}

/**
 * The Contoso sample configuration with test-speed policies: retries start at 200 ms and give up
 * after two minutes, rate limits out of the way. Short intervals come from configuration, as an
 * operator would set them, not from code changes.
 */
export async function faultConfig(overrides: TenantOverrides = {}): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-config-'));
  await fs.cp(sampleConfigDir, dir, { recursive: true });
  const file = path.join(dir, 'tenants.json');
  const tenants = JSON.parse(await fs.readFile(file, 'utf8')) as { settings?: Record<string, unknown> }[];
  for (const t of tenants) {
    t.settings = {
      ...t.settings,
      ...overrides,
      deliveryRetry: { firstIntervalSeconds: 0.2, maxIntervalSeconds: 2, giveUpAfterHours: 2 / 60 },
      limits: { messagesPerMinute: 1_000_000, messagesPerDay: 10_000_000 },
    };
  }
  await fs.writeFile(file, JSON.stringify(tenants, null, 2));
  return dir;
}

/** Environment for a loop under fault injection: short queue leases, a sweeper every few seconds. */
export const faultEnv: Record<string, string> = {
  SIGRELAY_QUEUE_LEASE_SECONDS: '5',
  SIGRELAY_SWEEP_SCHEDULE: '*/3 * * * * *',
  SIGRELAY_ORPHAN_MINUTES: '0.25',
  SIGRELAY_BLOB_GRACE_MS: '5000',
  SIGRELAY_DELIVERY_TIMEOUT_MS: '5000',
  SIGRELAY_LOG_LEVEL: 'info',
};
