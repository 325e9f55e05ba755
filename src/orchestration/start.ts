import { OrchestrationRuntimeStatus, type DurableClient } from 'durable-functions';
import { orchestratorName, type ProcessInput } from '../contracts/index.js';

const restartable: OrchestrationRuntimeStatus[] = [
  OrchestrationRuntimeStatus.Failed,
  OrchestrationRuntimeStatus.Terminated,
];

/**
 * Starts the orchestration for a message unless one with that id already exists: a second start is
 * success, so the direct path, a redelivered claim-check and the sweeper may all call this. The SDK
 * would restart a completed instance, so the status is checked first: a completed one is restarted
 * only when `force` says so (a dead-letter replay, or the sweeper finding the message still in
 * `inbound`); a failed or terminated one always is. A restart never delivers twice to a recipient:
 * the delivery record remembers who already has the message.
 */
export async function startProcessing(
  client: DurableClient,
  input: ProcessInput,
  options: { force?: boolean } = {},
): Promise<'started' | 'exists'> {
  try {
    const status = await client.getStatus(input.id);
    const running =
      !restartable.includes(status.runtimeStatus) &&
      status.runtimeStatus !== OrchestrationRuntimeStatus.Completed;
    if (running || (status.runtimeStatus === OrchestrationRuntimeStatus.Completed && !options.force))
      return 'exists';
  } catch (err) {
    if (!/404/.test(String(err))) throw err;
  }
  try {
    await client.startNew(orchestratorName, { instanceId: input.id, input });
    return 'started';
  } catch (err) {
    // A concurrent start won the race: the instance exists now, which is all we wanted.
    if (/409|already exists|Running|Pending/i.test(String(err))) return 'exists';
    throw err;
  }
}
