import { OrchestrationRuntimeStatus, type DurableClient } from 'durable-functions';
import { orchestratorName } from './orchestrator.js';

/**
 * Starts the orchestration for a message unless one with that id already exists. Queue trigger,
 * blob trigger and sweeper all call this, so the usual double start is harmless. A completed
 * instance is never restarted (Durable would overwrite it); a failed or terminated one is, since
 * its message is still in `inbound` and the delivery record prevents a second send.
 */
export async function startProcessing(client: DurableClient, id: string): Promise<'started' | 'exists'> {
  try {
    const status = await client.getStatus(id);
    const restartable: OrchestrationRuntimeStatus[] = [
      OrchestrationRuntimeStatus.Failed,
      OrchestrationRuntimeStatus.Terminated,
    ];
    if (!restartable.includes(status.runtimeStatus)) return 'exists';
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
