import { loadSettings } from '../../config/index.js';
import { explainReply, explanationLine } from '../../exchange/index.js';
import {
  createStorageClients,
  DeadLetters,
  DeliveryStateTable,
  MessageStore,
  names,
  type StorageClients,
} from '../../storage/index.js';
import { MessageTrace } from '../../trace/index.js';
import { cliStorage } from './trace.js';

async function open(): Promise<{ storage: StorageClients; deadLetters: DeadLetters }> {
  const storage = createStorageClients(await cliStorage(loadSettings().storage));
  const deadLetters = new DeadLetters(
    storage,
    new MessageStore(storage),
    new DeliveryStateTable(storage.table(names.stateTable)),
  );
  return { storage, deadLetters };
}

/** `sigrelay deadletter list` */
export async function list(): Promise<number> {
  const entries = await (await open()).deadLetters.list();
  for (const d of entries) {
    console.log(
      `${d.id}  ${d.deadAt}  ${d.sender} → ${d.recipients} recipient(s)  ${d.size} bytes\n    ${d.reason}`,
    );
    // The dead-letter alert sends the on-call engineer here: say what the endpoint's reply means.
    const why = explainReply(d.reason);
    if (why) console.log(`    why: ${explanationLine(why)}`);
  }
  console.error(`${entries.length} dead letter(s)`);
  return 0;
}

/** `sigrelay deadletter show <id>` */
export async function show(id: string): Promise<number> {
  const history = await (await open()).deadLetters.history(id);
  if (history === undefined) {
    console.error(`no dead letter ${id}`);
    return 1;
  }
  const explanation =
    typeof history === 'object' &&
    history !== null &&
    'reason' in history &&
    typeof history.reason === 'string'
      ? explainReply(history.reason)
      : undefined;
  console.log(JSON.stringify(explanation ? { ...history, explanation } : history, null, 2));
  return 0;
}

/** `sigrelay deadletter replay <id>` */
export async function replay(id: string): Promise<number> {
  const { storage, deadLetters } = await open();
  if (!(await deadLetters.replay(id))) {
    console.error(`no dead letter ${id}`);
    return 1;
  }
  await new MessageTrace(storage.traceTable).record(id, [{ event: 'replayed', by: 'cli' }]);
  console.log(`${id} is back in the loop (inbound + queue); follow it with: npx sigrelay trace ${id}`);
  return 0;
}
