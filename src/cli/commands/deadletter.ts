import { loadSettings } from '../../config/index.js';
import { DeadLetters } from '../../orchestration/dead-letters.js';
import { DeliveryState } from '../../orchestration/delivery-state.js';
import { createStorageClients, MessageStore, names } from '../../storage/index.js';
import { MessageTrace } from '../../trace/index.js';
import { cliStorage } from './trace.js';

export const summary = 'deadletter list|show <id>|replay <id>: messages sigrelay gave up on';

export async function run(args: string[]): Promise<number> {
  const [verb, id] = args;
  if (!verb || !['list', 'show', 'replay'].includes(verb) || (verb !== 'list' && !id)) {
    console.error('usage: sigrelay deadletter list | show <id> | replay <id>');
    return 2;
  }
  const settings = loadSettings();
  const storage = createStorageClients(cliStorage(settings.storage));
  const deadLetters = new DeadLetters(
    storage,
    new MessageStore(storage),
    new DeliveryState(storage.table(names.stateTable)),
  );
  if (verb === 'list') {
    const list = await deadLetters.list();
    for (const d of list) {
      console.log(
        `${d.id}  ${d.deadAt}  ${d.sender} → ${d.recipients} recipient(s)  ${d.size} bytes\n    ${d.reason}`,
      );
    }
    console.error(`${list.length} dead letter(s)`);
    return 0;
  }
  const messageId = id ?? '';
  if (verb === 'show') {
    const history = await deadLetters.history(messageId);
    if (history === undefined) {
      console.error(`no dead letter ${messageId}`);
      return 1;
    }
    console.log(JSON.stringify(history, null, 2));
    return 0;
  }
  if (!(await deadLetters.replay(messageId))) {
    console.error(`no dead letter ${messageId}`);
    return 1;
  }
  await new MessageTrace(storage.table(names.traceTable)).record(messageId, [
    { event: 'replayed', by: 'cli' },
  ]);
  console.log(
    `${messageId} is back in the loop (inbound + queue); follow it with: npx sigrelay trace ${messageId}`,
  );
  return 0;
}
