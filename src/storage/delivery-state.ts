import type { TableClient } from '@azure/data-tables';
import type { DeliveryState } from '../contracts/index.js';
import { isNotFound } from './message-store.js';

export type { DeliveryState };

interface Entity {
  partitionKey: string;
  rowKey: string;
  delivered: string;
  rejected: string;
  lastResponse: string;
  attempts: number;
  updatedAt: string;
  notified?: string;
}

/**
 * True when a message is still stored after delivery attempts although the endpoint's last reply
 * was permanent (5xx). A permanent refusal should end in a DSN or a dead letter at once; a message
 * retried after one (issue 19: a 501 treated as temporary for 48 h) needs an operator.
 */
export function retriedAfterPermanentReply(progress: DeliveryState | undefined): boolean {
  return !!progress && progress.attempts > 0 && /^5\d\d\b/.test(progress.lastResponse.trim());
}

/**
 * The delivery state of each message on the Durable path, the record that makes delivery
 * exactly-once as far as possible: a replayed activity or a restarted orchestration reads it and
 * never sends to a recipient that already got the message. The table keeps its deployed name
 * `sigrelaystate`, so existing storage accounts need no migration.
 */
export class DeliveryStateTable {
  constructor(private readonly table: TableClient) {}

  async get(id: string): Promise<DeliveryState | undefined> {
    try {
      const e = await this.table.getEntity<Entity>(id, 'delivery');
      return {
        delivered: JSON.parse(e.delivered) as string[],
        rejected: JSON.parse(e.rejected) as Record<string, string>,
        lastResponse: e.lastResponse,
        attempts: e.attempts,
        updatedAt: e.updatedAt,
        notified: e.notified ? (JSON.parse(e.notified) as string[]) : [],
      };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async put(id: string, progress: DeliveryState): Promise<void> {
    await this.table.upsertEntity<Entity>(
      {
        partitionKey: id,
        rowKey: 'delivery',
        delivered: JSON.stringify(progress.delivered),
        rejected: JSON.stringify(progress.rejected),
        lastResponse: progress.lastResponse.slice(0, 4000),
        attempts: progress.attempts,
        updatedAt: progress.updatedAt,
        notified: JSON.stringify(progress.notified ?? []),
      },
      'Replace',
    );
  }

  /** Deletes delivery records last updated before `before` (retention); returns how many. */
  async purgeBefore(before: Date): Promise<number> {
    let count = 0;
    const filter = `updatedAt lt '${before.toISOString()}'`;
    for await (const e of this.table.listEntities<Entity>({
      queryOptions: { filter, select: ['PartitionKey', 'RowKey'] },
    })) {
      await this.table.deleteEntity(e.partitionKey, e.rowKey).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
      count++;
    }
    return count;
  }
}
