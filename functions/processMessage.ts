import * as df from 'durable-functions';
import {
  activityNames,
  deadLetterActivity,
  deleteActivity,
  deliverActivity,
  notifySenderActivity,
  orchestratorName,
  processMessageOrchestrator,
  signActivity,
} from '../src/orchestration/index.js';

df.app.orchestration(orchestratorName, processMessageOrchestrator);
df.app.activity(activityNames.sign, { handler: signActivity });
df.app.activity(activityNames.deliver, { handler: deliverActivity });
df.app.activity(activityNames.notify, { handler: notifySenderActivity });
df.app.activity(activityNames.delete, { handler: deleteActivity });
df.app.activity(activityNames.deadLetter, { handler: deadLetterActivity });
