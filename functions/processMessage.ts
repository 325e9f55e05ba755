import * as df from 'durable-functions';
import {
  activityNames,
  orchestratorName,
  type DeadLetterInput,
  type DeleteInput,
  type DeliverInput,
  type NotifyInput,
  type SignInput,
} from '../src/contracts/index.js';
import { createActivities, processMessageOrchestrator, type Activities } from '../src/orchestration/index.js';
import { runtimeFromEnv } from '../src/processing/index.js';

/** The orchestration that handles what the direct path could not finish, and its activities. */
let activities: Activities | undefined;
const built = (): Activities => (activities ??= createActivities(runtimeFromEnv()));

df.app.orchestration(orchestratorName, processMessageOrchestrator);
df.app.activity(activityNames.sign, { handler: (input: SignInput) => built().sign(input) });
df.app.activity(activityNames.deliver, { handler: (input: DeliverInput) => built().deliver(input) });
df.app.activity(activityNames.notify, { handler: (input: NotifyInput) => built().notify(input) });
df.app.activity(activityNames.delete, { handler: (input: DeleteInput) => built().delete(input) });
df.app.activity(activityNames.deadLetter, { handler: (input: DeadLetterInput) => built().deadLetter(input) });
