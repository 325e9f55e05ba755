import {
  OrchestrationRuntimeStatus,
  type DurableClient,
  type DurableOrchestrationStatus,
} from 'durable-functions';
import { orchestratorName, type ProcessInput } from '../contracts/index.js';

const restartable: OrchestrationRuntimeStatus[] = [
  OrchestrationRuntimeStatus.Failed,
  OrchestrationRuntimeStatus.Terminated,
];

/**
 * Starts the orchestration for a message unless one with that id already exists: a second start is
 * success, so the direct path, a redelivered claim-check and the sweeper may all call this. The
 * extension would restart a completed instance, so the status is checked first: a completed one is
 * restarted only when `force` says so (a dead-letter replay, or the sweeper finding the message
 * still in `inbound`); a failed or terminated one always is. A restart never delivers twice to a
 * recipient: the delivery record remembers who already has the message.
 */
export async function startProcessing(
  client: DurableClient,
  input: ProcessInput,
  options: { force?: boolean } = {},
): Promise<'started' | 'exists'> {
  if (keeps(await statusOf(client, input.id), options.force)) return 'exists';
  try {
    await client.startNew(orchestratorName, { instanceId: input.id, input });
    return 'started';
  } catch (err) {
    // A concurrent start won the race. The extension answers that with 500 (its
    // OrchestrationAlreadyExistsException is no ArgumentException), not 409, so the answer alone
    // does not say so: the instance's status does.
    if (durableHttpStatus(err) === 500 && (await statusOf(client, input.id)) !== undefined) return 'exists';
    throw err;
  }
}

/** Whether an existing instance stands: running or pending, or completed without `force`. */
function keeps(status: DurableOrchestrationStatus | undefined, force = false): boolean {
  if (!status) return false;
  if (status.runtimeStatus === OrchestrationRuntimeStatus.Completed) return !force;
  return !restartable.includes(status.runtimeStatus);
}

/** The instance's status, or undefined when the extension answers 404 (no such instance). */
async function statusOf(client: DurableClient, id: string): Promise<DurableOrchestrationStatus | undefined> {
  try {
    return await client.getStatus(id);
  } catch (err) {
    if (durableHttpStatus(err) === 404) return undefined;
    throw err;
  }
}

/**
 * The HTTP status the Durable extension answered, from the error durable-functions raised for it.
 * The SDK keeps the status only in its two message forms (azure-functions-durable-js
 * `src/durableClient/DurableClient.ts`: `getStatus`'s "replied with HTTP 404 response" and
 * `createGenericError`'s "unexpected status code: N"); any other error is not an HTTP answer.
 */
export function durableHttpStatus(err: unknown): number | undefined {
  const message = err instanceof Error ? err.message : '';
  const match = /replied with (?:an empty )?HTTP (\d{3}) response|unexpected status code: (\d{3})/.exec(
    message,
  );
  const code = match?.[1] ?? match?.[2];
  return code ? Number(code) : undefined;
}
