import { Readable } from 'node:stream';
import type { Tenant } from '../../src/config/index.js';
import type { DeliveryState } from '../../src/contracts/index.js';
import { silentLogger } from '../../src/log/index.js';
import type { Runtime } from '../../src/processing/index.js';
import type { MessageMeta } from '../../src/storage/index.js';
import type { TraceEvent } from '../../src/trace/index.js';

/**
 * A runtime for the unit tests of the message steps: storage, delivery state and trace in memory,
 * every call written down. Only what the steps touch is there; integration tests use Azurite.
 */
export function memoryRuntime(options: { tenants?: Tenant[]; contentFails?: boolean } = {}) {
  const inbound = new Map<string, { body: Buffer; meta: MessageMeta }>();
  const states = new Map<string, DeliveryState>();
  const calls: string[] = [];
  const traces: { id: string; events: TraceEvent[]; sender?: string }[] = [];
  const opened: Readable[] = [];
  let deleteFailures = 0;
  const rt = {
    settings: { processedHeader: 'X-Sigrelay-Processed', processing: { deleteRetryMs: 0 } },
    logger: silentLogger,
    store: {
      openWithMeta: (id: string) => {
        calls.push(`open ${id}`);
        const m = inbound.get(id);
        if (!m) return Promise.resolve(undefined);
        const stream = Readable.from([m.body]);
        opened.push(stream);
        return Promise.resolve({ stream, meta: m.meta, bytes: m.body.length });
      },
      deleteAll: (id: string, known: object = {}) => {
        calls.push(`deleteAll ${id} ${JSON.stringify(known)}`);
        if (deleteFailures > 0) {
          deleteFailures--;
          return Promise.reject(new Error('storage unavailable'));
        }
        inbound.delete(id);
        return Promise.resolve();
      },
    },
    deliveryState: {
      get: (id: string) => Promise.resolve(states.get(id)),
      put: (id: string, state: DeliveryState) => {
        calls.push(`put ${id}`);
        states.set(id, structuredClone(state));
        return Promise.resolve();
      },
    },
    deadLetters: {
      bury: (id: string, reason: string) => {
        calls.push(`bury ${id} ${reason}`);
        return Promise.resolve();
      },
    },
    trace: {
      record: (id: string, events: TraceEvent[], sender?: string) => {
        traces.push({ id, events, ...(sender === undefined ? {} : { sender }) });
        return Promise.resolve();
      },
    },
    content: () =>
      options.contentFails
        ? Promise.reject(new Error('configuration unreadable'))
        : Promise.resolve({
            tenants: { byTenantId: (tid: string) => options.tenants?.find((t) => t.id === tid) },
          }),
  } as unknown as Runtime;
  return {
    rt,
    calls,
    traces,
    states,
    opened,
    failNextDeletes: (n: number) => {
      deleteFailures = n;
    },
    store: (meta: MessageMeta, body = 'Subject: hi\r\n\r\nbody\r\n') => {
      inbound.set(meta.id, { body: Buffer.from(body), meta });
    },
  };
}

export function metaOf(id: string, rcptTo: string[] = ['megan@fabrikam.example']): MessageMeta {
  return {
    id,
    envelope: { mailFrom: 'alice@contoso.com', rcptTo },
    tenantId: 'tenant-1',
    receivedAt: new Date().toISOString(),
    clientAddress: '127.0.0.1',
    sessionId: 'session-1',
    tlsProtocol: 'TLSv1.3',
    size: 100,
    sha256: '0'.repeat(64),
  };
}
