import type { TableClient } from '@azure/data-tables';
import { describeError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import { isNotFound } from '../../storage/index.js';
import type { InstanceStatus } from './durable-backend.js';

/** The columns the Azure Storage provider writes that `sigrelay status` reads. */
export interface InstanceRow {
  partitionKey: string;
  rowKey: string;
  Name: string;
  RuntimeStatus: string;
  CreatedTime: Date;
  LastUpdatedTime: Date;
}

const unfinished = new Set(['Pending', 'Running']);

/**
 * Mirrors the local host's running orchestrations into `<hub>Instances` in Azurite, with the columns
 * the Azure Storage provider uses, so `sigrelay status` counts messages in retry the same way against
 * the local stack and an Azure account. The local backend keeps instances in memory, so only
 * unfinished ones are mirrored (a finished one's row is deleted) and a starting host clears what a
 * crashed one left. Best effort: a failed write is logged and tried again, never holds up an
 * orchestration.
 */
export class InstanceTable {
  private readonly pending = new Map<string, InstanceStatus>();
  private flushing: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly table: TableClient,
    private readonly log: Logger,
  ) {}

  /** Creates the table and forgets the rows of a previous host: nothing runs in a new one yet. */
  async reset(): Promise<void> {
    await this.table.createTable();
    for await (const row of this.table.listEntities<InstanceRow>({
      queryOptions: { select: ['PartitionKey', 'RowKey'] },
    })) {
      await this.table.deleteEntity(row.partitionKey, row.rowKey).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }

  record(status: InstanceStatus): void {
    if (this.stopped) return;
    this.pending.set(status.instanceId, status);
    this.flushing ??= this.flush().finally(() => {
      this.flushing = undefined;
    });
  }

  /** Stops writing; waits for the write in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.flushing;
  }

  private async flush(): Promise<void> {
    while (this.pending.size > 0 && !this.stopped) {
      const [id, status] = this.pending.entries().next().value as [string, InstanceStatus];
      this.pending.delete(id);
      try {
        if (unfinished.has(status.runtimeStatus)) {
          await this.table.upsertEntity<InstanceRow>(
            {
              partitionKey: id,
              rowKey: '',
              Name: status.name,
              RuntimeStatus: status.runtimeStatus,
              CreatedTime: new Date(status.createdTime),
              LastUpdatedTime: new Date(status.lastUpdatedTime),
            },
            'Replace',
          );
        } else {
          await this.table.deleteEntity(id, '').catch((err: unknown) => {
            if (!isNotFound(err)) throw err;
          });
        }
      } catch (err) {
        this.log.warn({ instance: id, err: describeError(err) }, 'instance table not updated; trying again');
        if (!this.pending.has(id)) this.pending.set(id, status);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }
}
