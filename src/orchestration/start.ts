import { OrchestrationRuntimeStatus, type DurableClient } from 'durable-functions';
import { orchestratorName } from './orchestrator.js';

const restartable: OrchestrationRuntimeStatus[] = [
  OrchestrationRuntimeStatus.Failed,
  OrchestrationRuntimeStatus.Terminated,
];

/**
 * Starts the orchestration for a message unless one with that id already exists. Queue trigger,
 * blob trigger and sweeper all call this, so the usual double start is harmless. A completed
 * instance is restarted only when `force` says so (a dead-letter replay, or the sweeper finding the
 * message still in `inbound`); a failed or terminated one always is. A restart never delivers twice:
 * the delivery record remembers who already has the message.
 */
export async function startProcessing(
  client: DurableClient,
  id: string,
  options: { force?: boolean } = {},
): Promise<'started' | 'exists'> {
  try {
    const status = await client.getStatus(id);
    const running =
      !restartable.includes(status.runtimeStatus) &&
      status.runtimeStatus !== OrchestrationRuntimeStatus.Completed;
    if (running || (status.runtimeStatus === OrchestrationRuntimeStatus.Completed && !options.force))
      return 'exists';
  } catch (err) {
    if (!/404/.test(String(err))) throw err;
  }
  try {
    await client.startNew(orchestratorName, { instanceId: id, input: { id } });
    return 'started';
  } catch (err) {
    // A concurrent start won the race: the instance exists now, which is all we wanted.
    if (/409|already exists|Running|Pending/i.test(String(err))) return 'exists';
    throw err;
  }
}
