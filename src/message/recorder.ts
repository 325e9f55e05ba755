import type { Runtime } from '../processing/runtime.js';
import type { TraceEvent } from '../trace/index.js';

/**
 * What one step of a message did: its outcome for the caller, and the trace events it produced.
 * Steps never write the trace themselves, so the path that runs them decides when one trace write
 * covers several steps (the direct path writes once per message).
 */
export interface Step<T> {
  outcome: T;
  events: TraceEvent[];
  /** The envelope sender, when the step knows it: the trace is searchable by sender. */
  sender?: string;
}

/**
 * The one place a message's processing writes its trace: the direct path, the activities and the
 * sweeper all come through here. A step with nothing to tell costs no request.
 */
export async function recordTrace(
  rt: Pick<Runtime, 'trace'>,
  id: string,
  events: TraceEvent[],
  sender?: string,
): Promise<void> {
  await rt.trace.record(id, events, sender);
}

/** Writes a step's events, then hands its outcome on: how a Durable activity wraps a step. */
export async function recorded<T>(rt: Pick<Runtime, 'trace'>, id: string, step: Step<T>): Promise<T> {
  await recordTrace(rt, id, step.events, step.sender);
  return step.outcome;
}
