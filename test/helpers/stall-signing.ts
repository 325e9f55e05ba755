/**
 * Preloaded (`node --import`) into the functions process by the stalled-signing fault test, through
 * SIGRELAY_NODE_ARGS_FUNCTIONS; signing worker threads inherit the flag and load it too. A test seam,
 * so production code carries no fault hook. Messages are chosen by an envelope recipient:
 * - SIGRELAY_TEST_STALL_LOOKUP_FOR: the FIRST signature lookup of such a message never answers
 *   (in the main thread, where lookups run), so the pool sees its lookup stall;
 * - SIGRELAY_TEST_DEADLOCK_FOR: in the worker, the engine's request for the signature is never
 *   sent, so the engine awaits a promise nothing will settle and the main thread is asked for
 *   nothing: an internal deadlock. Every time, so a second signing would show as a second failure.
 */
import { isMainThread, MessagePort } from 'node:worker_threads';
import type { FromWorker } from '../../src/processing/signing-protocol.js';
import type { MessageFacts } from '../../src/signing/index.js';

export const stallLookupEnv = 'SIGRELAY_TEST_STALL_LOOKUP_FOR';
export const deadlockEnv = 'SIGRELAY_TEST_DEADLOCK_FOR';

const stallFor = process.env[stallLookupEnv]?.toLowerCase();
const deadlockFor = process.env[deadlockEnv]?.toLowerCase();
const isFor = (facts: MessageFacts, address: string) => facts.recipients.includes(address);

// Imported by the test itself for the names above: there, without the variables, nothing changes.
if (stallFor && isMainThread) {
  const { ContentStore } = await import('../../src/content/store.js');
  const open = ContentStore.open.bind(ContentStore);
  let stalled = false;
  ContentStore.open = async (...args: Parameters<typeof ContentStore.open>) => {
    const store = await open(...args);
    const resolve = store.resolve;
    Object.defineProperty(store, 'resolve', {
      value: (facts: MessageFacts) => {
        if (stalled || !isFor(facts, stallFor)) return resolve(facts);
        stalled = true;
        return new Promise<never>(() => undefined);
      },
    });
    return store;
  };
}

if (deadlockFor && !isMainThread) {
  const { prototype } = MessagePort;
  const postMessage = Object.getOwnPropertyDescriptor(prototype, 'postMessage')
    ?.value as MessagePort['postMessage'];
  prototype.postMessage = function (this: MessagePort, message: unknown, transfer?: never) {
    const m = message as FromWorker | undefined;
    if (m?.type === 'resolve' && isFor(m.facts, deadlockFor)) return;
    postMessage.call(this, message, transfer);
  };
}
