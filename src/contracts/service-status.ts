/**
 * The operators' read-model: what waits, what retries (and why), what is dead, and whether the
 * configuration and the directory sync are healthy. src/status collects it; `sigrelay status` and
 * the console's health page (src/admin/contract.ts, `Health`) render it. Each figure is defined
 * once, in docs/operations.md ("What the figures mean"). Types and constants only, no imports
 * (eslint.config.js refuses any): the console's browser build includes this file.
 */

/**
 * The oldest message may wait this long before someone should look: the sweeper's orphan age and
 * the on-call alert use the same 15 minutes (docs/operations.md, Alerts).
 */
export const oldestMessageLimitSeconds = 15 * 60;

export interface QueueStatus {
  /** Approximate, as the service reports it: visible and leased messages. */
  depth: number;
  poison: number;
}

export interface TenantDirectoryStatus {
  tenantId: string;
  tenant: string;
  /** Undefined before the first sync. */
  lastAttemptAt?: string;
  lastSuccessAt?: string | null;
  lastError?: string | null;
  consecutiveFailures: number;
  users?: number | null;
}

/** Retrying messages that share one explanation of the endpoint's last reply (src/exchange/replies.ts). */
export interface RetryReason {
  /** The catalogue id, `no-reply-yet` before a first attempt is recorded, `other` for an unknown reply. */
  reason: string;
  title: string;
  count: number;
  remedy?: string;
  /** One of the replies, as the endpoint worded it. */
  example?: string;
}

export interface ServiceStatus {
  at: string;
  storage: string;
  inbound: QueueStatus & {
    /** Messages stored in `inbound` (received, not yet delivered and deleted). */
    stored: number;
    /** The oldest stored message or claim-check; null when there is none. */
    oldest: { id: string; since: string; ageSeconds: number } | null;
  };
  sentItems: QueueStatus;
  /** Messages in retry: orchestrations running or waiting on a timer, grouped by the endpoint's last reply. */
  retrying: {
    count: number;
    oldestSince: string | null;
    byReason: RetryReason[];
    /** Stored messages still retried although the endpoint's last reply was permanent (5xx). */
    afterPermanentReply: { id: string; response: string }[];
  };
  deadLetters: { count: number; oldestAt: string | null };
  directory: TenantDirectoryStatus[];
  configuration: {
    source: string;
    /** What the services would load now: the tenants, or the error that keeps the last good one in service. */
    tenants: { id: string; name: string }[];
    error: string | null;
  };
}

/** What the trace recorded in the last hour (the console shows it beside the status). */
export interface RecentActivity {
  delivered: number;
  /** `delivery-attempt` events whose status is not `delivered`. */
  failed: number;
  deadLettered: number;
}
