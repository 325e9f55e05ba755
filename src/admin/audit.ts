import crypto from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { AuditEntry, Me } from './contract.js';

// The stored row: an AuditEntry with its keys, `detail` as JSON text. A mapped type, not an
// interface: the Tables SDK wants entities assignable to an index signature.
type Entity = Omit<AuditEntry, 'detail'> & { partitionKey: string; rowKey: string; detail?: string };

const partition = 'audit';
const maxTime = 9_999_999_999_999;

export function sha256(content: Buffer | string | undefined): string | undefined {
  return content === undefined ? undefined : crypto.createHash('sha256').update(content).digest('hex');
}

/**
 * Every write made through the console, in the Table `sigrelayaudit`. Row keys count down from
 * the end of time, so a plain listing is newest first and "before <time>" is a row-key range.
 * Admin writes are rare, so one partition holds them all.
 */
export class AuditLog {
  constructor(private readonly table: TableClient) {}

  async record(
    who: Me,
    action: string,
    target: string,
    hashes: { before?: string; after?: string },
    detail?: Record<string, string>,
  ): Promise<void> {
    const now = new Date();
    const entity: Entity = {
      partitionKey: partition,
      rowKey: `${rowTime(now)}-${crypto.randomBytes(4).toString('hex')}`,
      at: now.toISOString(),
      by: who.name,
      byId: who.id,
      action,
      target,
      ...(hashes.before ? { beforeSha256: hashes.before } : {}),
      ...(hashes.after ? { afterSha256: hashes.after } : {}),
      ...(detail ? { detail: JSON.stringify(detail) } : {}),
    };
    await this.table.createEntity(entity);
  }

  async list(options: { limit?: number; before?: Date } = {}): Promise<AuditEntry[]> {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const filter = options.before
      ? `PartitionKey eq '${partition}' and RowKey gt '${rowTime(options.before)}-~'`
      : `PartitionKey eq '${partition}'`;
    const out: AuditEntry[] = [];
    for await (const e of this.table.listEntities<Entity>({ queryOptions: { filter } })) {
      out.push({
        at: e.at,
        by: e.by,
        byId: e.byId,
        action: e.action,
        target: e.target,
        ...(e.beforeSha256 ? { beforeSha256: e.beforeSha256 } : {}),
        ...(e.afterSha256 ? { afterSha256: e.afterSha256 } : {}),
        ...(e.detail ? { detail: JSON.parse(e.detail) as Record<string, string> } : {}),
      });
      if (out.length >= limit) break;
    }
    return out;
  }
}

function rowTime(date: Date): string {
  return String(maxTime - date.getTime()).padStart(13, '0');
}
