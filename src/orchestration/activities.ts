import type {
  DeadLetterInput,
  DeleteInput,
  DeliverInput,
  NotifyInput,
  SignInput,
} from '../contracts/index.js';
import {
  deadLetter,
  deliverOwed,
  finishDelivered,
  notifySender,
  recorded,
  signStored,
} from '../message/index.js';
import type { Runtime } from '../processing/index.js';

/** Thrown for a temporary failure so that Durable's RetryOptions schedule the next attempt. */
export class TemporaryDeliveryError extends Error {
  override readonly name = 'TemporaryDeliveryError';
}

/** A step that asks to be tried again fails its activity: Durable's retry options take over. */
function retryWhenAsked<T extends { retry?: string }>(outcome: T): T {
  if (outcome.retry !== undefined) throw new TemporaryDeliveryError(outcome.retry);
  return outcome;
}

/**
 * The orchestration's activities, built from the runtime they work with: each runs one step of
 * `src/message/` and writes the trace events it produced.
 */
export function createActivities(rt: Runtime) {
  return {
    sign: async (input: SignInput) => recorded(rt, input.id, await signStored(rt, input)),
    deliver: async (input: DeliverInput) =>
      retryWhenAsked(await recorded(rt, input.id, await deliverOwed(rt, input))).result,
    notify: async (input: NotifyInput) => {
      const { notified } = retryWhenAsked(await recorded(rt, input.id, await notifySender(rt, input)));
      return { notified };
    },
    delete: async (input: DeleteInput) => recorded(rt, input.id, await finishDelivered(rt, input)),
    deadLetter: async (input: DeadLetterInput) => recorded(rt, input.id, await deadLetter(rt, input)),
  };
}

export type Activities = ReturnType<typeof createActivities>;
