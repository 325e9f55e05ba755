import { openContent, type ContentStore } from '../content/index.js';
import { loadSettings, type Settings } from '../config/index.js';
import { createLogger, type Logger } from '../log/index.js';
import { SentItemsOutbox } from '../sentitems/index.js';
import {
  createStorageClients,
  DeadLetters,
  DeliveryStateTable,
  MessageStore,
  names,
  type StorageClients,
} from '../storage/index.js';
import { MessageTrace } from '../trace/index.js';
import { SigningPool } from './signing-pool.js';

/**
 * What the steps of a message (`src/message/`) share inside one functions process: settings, storage
 * clients and the loaded content. Built once per process by the entry points and passed in, so a
 * test builds its own and calls the same code.
 */
export interface Runtime {
  settings: Settings;
  storage: StorageClients;
  store: MessageStore;
  /** The delivery state of messages on the Durable path (table `sigrelaystate`). */
  deliveryState: DeliveryStateTable;
  trace: MessageTrace;
  deadLetters: DeadLetters;
  /** Where delivered messages of tenants with the Sent Items update on are handed over. */
  sentItems: SentItemsOutbox;
  logger: Logger;
  /** Where messages are signed: worker threads with a per-message time and memory budget. */
  signer: SigningPool;
  content(): Promise<ContentStore>;
}

export interface RuntimeParts {
  logger?: Logger;
  storage?: StorageClients;
}

export function createRuntime(settings: Settings, parts: RuntimeParts = {}): Runtime {
  const logger = parts.logger ?? createLogger('functions');
  const storage = parts.storage ?? createStorageClients(settings.storage);
  const store = new MessageStore(storage);
  const deliveryState = new DeliveryStateTable(storage.table(names.stateTable));
  let content: Promise<ContentStore> | undefined;
  return {
    settings,
    storage,
    store,
    deliveryState,
    deadLetters: new DeadLetters(storage, store, deliveryState),
    sentItems: new SentItemsOutbox(storage, {
      firstLookDelaySeconds: settings.sentItems.firstLookSeconds,
      timeoutMs: settings.sentItems.stageTimeoutMs,
    }),
    trace: new MessageTrace(storage.traceTable, logger, {
      lingerMs: settings.processing.traceLingerMs,
    }),
    logger,
    signer: new SigningPool({
      workers: settings.processing.signWorkers,
      budgetMs: settings.processing.signBudgetMs,
      stallMs: settings.processing.signStallMs,
      memoryMb: settings.processing.signMemoryMb,
      largeBytes: settings.processing.directMaxBytes,
      logger,
    }),
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
}

let fromEnv: Runtime | undefined;

/** The functions app's runtime, from its environment; for the entry points in `functions/` only. */
export function runtimeFromEnv(): Runtime {
  fromEnv ??= createRuntime(loadSettings());
  return fromEnv;
}
