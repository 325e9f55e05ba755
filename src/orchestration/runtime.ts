import { openContent, type ContentStore } from '../content/index.js';
import { loadSettings, type Settings } from '../config/index.js';
import { createLogger, type Logger } from '../log/index.js';
import { createStorageClients, MessageStore, names, type StorageClients } from '../storage/index.js';
import { MessageTrace } from '../trace/index.js';
import { DeadLetters } from './dead-letters.js';
import { DeliveryState } from './delivery-state.js';

/**
 * What the activities share inside one functions process: settings, storage clients and the loaded
 * content. Built once on first use (not per message); content reloads are the content module's job.
 */
export interface Runtime {
  settings: Settings;
  storage: StorageClients;
  store: MessageStore;
  state: DeliveryState;
  trace: MessageTrace;
  deadLetters: DeadLetters;
  logger: Logger;
  content(): Promise<ContentStore>;
}

let current: Runtime | undefined;

export function runtime(): Runtime {
  if (current) return current;
  const settings = loadSettings();
  const storage = createStorageClients(settings.storage);
  let content: Promise<ContentStore> | undefined;
  const logger = createLogger('functions');
  const store = new MessageStore(storage);
  const state = new DeliveryState(storage.table(names.stateTable));
  current = {
    settings,
    storage,
    store,
    state,
    deadLetters: new DeadLetters(storage, store, state),
    trace: new MessageTrace(storage.table(names.traceTable), logger),
    logger,
    content: () => {
      // Local folder or, in production, the Blob `config` container; reloads keep the last good config.
      content ??= openContent(settings, {
        onError: (err) =>
          logger.error({ err: err.message }, 'configuration is invalid; keeping the last good one'),
      }).catch((err: unknown) => {
        content = undefined;
        throw err;
      });
      return content;
    },
  };
  return current;
}
