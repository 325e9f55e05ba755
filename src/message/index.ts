/**
 * One message's lifecycle in the functions app: the steps (open, sign, deliver to the recipients
 * still owed, finish: delete, stage Sent Items, dead-letter with a DSN), each a plain function over
 * the runtime returning its outcome and the trace events it produced; the recorder that writes
 * those events; and the direct path that runs the steps once. The orchestration's activities wrap
 * the same steps.
 */
export { DirectPath, type DirectResult, type Handover } from './direct-path.js';
export { deliverOwed, type OwedOutcome } from './deliver.js';
export { deadLetter, finishDelivered, notifySender, type NotifyOutcome } from './finish.js';
export { mayDeliverUnsigned } from './failure-policy.js';
export { recordTrace, recorded, type Step } from './recorder.js';
export { signStored, type SignStepOutcome } from './sign.js';
