import type { Readable } from 'node:stream';
import type { Tenant } from '../config/index.js';
import type { ContentStore } from '../content/index.js';
import type { Runtime } from '../processing/runtime.js';
import type { MessageMeta } from '../storage/index.js';
import { receivedEvent } from './events.js';
import type { Step } from './recorder.js';

/** A stored message, opened: its content stream, its metadata, and the tenant it belongs to. */
export interface OpenedMessage {
  id: string;
  source: Readable;
  meta: MessageMeta;
  content: ContentStore;
  /** Undefined while the tenant is not (or no longer) configured. */
  tenant: Tenant | undefined;
}

/**
 * Reads `inbound/<id>` (content and metadata in one request) and loads the configuration. Undefined
 * when the message is no longer stored; the stream is closed again when the configuration fails.
 * Its event is the message's arrival.
 */
export async function openMessage(rt: Runtime, id: string): Promise<Step<OpenedMessage | undefined>> {
  const opened = await rt.store.openWithMeta(id);
  if (!opened) {
    return {
      outcome: undefined,
      events: [{ event: 'missing', reason: 'not in inbound (already finished, or never committed)' }],
    };
  }
  const { stream: source, meta } = opened;
  let content;
  try {
    content = await rt.content();
  } catch (err) {
    source.destroy();
    throw err;
  }
  return {
    outcome: { id, source, meta, content, tenant: content.tenants.byTenantId(meta.tenantId) },
    events: [receivedEvent(meta)],
  };
}
