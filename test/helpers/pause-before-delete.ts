import { MessageStore } from '../../src/storage/index.js';

/**
 * Preloaded (`node --import`) into the functions process by the direct-path fault test, through
 * SIGRELAY_NODE_ARGS_FUNCTIONS: every delete of a message's stored copies waits
 * SIGRELAY_TEST_PAUSE_BEFORE_DELETE_MS first, which holds the window between the endpoint's 250 and
 * the delete open so that a kill can land in it. A test seam, so production code carries no fault hook.
 */
export const pauseEnv = 'SIGRELAY_TEST_PAUSE_BEFORE_DELETE_MS';

const pauseMs = Number(process.env[pauseEnv] ?? 0);
// Imported by the test itself for the name above: there, without the variable, nothing changes.
if (pauseMs > 0) {
  const { prototype } = MessageStore;
  const deleteAll = Object.getOwnPropertyDescriptor(prototype, 'deleteAll')
    ?.value as MessageStore['deleteAll'];
  prototype.deleteAll = async function (this: MessageStore, ...args: Parameters<MessageStore['deleteAll']>) {
    await new Promise((r) => setTimeout(r, pauseMs));
    return deleteAll.apply(this, args);
  };
}
