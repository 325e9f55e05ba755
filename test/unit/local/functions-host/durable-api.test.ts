/**
 * The local Durable HTTP API held to the extension's HttpApiHandler, row by row, and read back
 * through the real durable-functions client. Each row names the source it was checked against
 * (repository, path, commit); docs/host-conformance.md lists them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import azureFunctions from '@azure/functions';
import * as df from 'durable-functions';
import { orchestratorName, type ProcessInput } from '../../../../src/contracts/index.js';
import { DurableApi, durableHttpAnswer } from '../../../../src/local/functions-host/durable-api.js';
import {
  DurableBackend,
  type OrchestratorInvoker,
  type OrchestratorState,
} from '../../../../src/local/functions-host/durable-backend.js';
import { createLogger } from '../../../../src/log/index.js';
import { durableHttpStatus, startProcessing } from '../../../../src/orchestration/start.js';

const handler =
  'Azure/azure-functions-durable-extension src/WebJobs.Extensions.DurableTask/HttpApiHandler.cs @a7c6d6944041b48267ed8409bb8ec8144ab9bab9';
const dtfxAzureStorage =
  'Azure/durabletask src/DurableTask.AzureStorage/AzureStorageOrchestrationService.cs @5217032961abf45846f462732a5e2813316e3747';
const durableClient =
  'Azure/azure-functions-durable-js src/durableClient/DurableClient.ts @c212f6c4129c2c4fd128f67af688a1545b4c81a1';

const logger = createLogger('test', { level: 'silent' });
/** Never finishes: the instance stays Running. */
const waits: OrchestratorInvoker = () => Promise.resolve({ isDone: false, actions: [] });
const finishes: OrchestratorInvoker = () =>
  Promise.resolve<OrchestratorState>({ isDone: true, output: 'done' });

/** A backend with instance `running` (Running) and `finished` (Completed). */
async function backendWithInstances(): Promise<DurableBackend> {
  const backend = new DurableBackend({
    orchestrators: new Map([
      ['waits', waits],
      ['finishes', finishes],
    ]),
    activities: new Map(),
    logger,
  });
  backend.start('waits', 'running', { n: 1 });
  backend.start('finishes', 'finished', null);
  await backend.waitFor('finished');
  return backend;
}

interface Row {
  name: string;
  method: string;
  path: [string?, string?, string?];
  query?: string;
  body?: string;
  status: number;
  check?: (body: unknown, headers: Record<string, string>, backend: DurableBackend) => void;
  source: string;
}

const base = 'http://127.0.0.1:1/key/inv/i/';
const rows: Row[] = [
  {
    name: 'a start answers 202 with the management URLs and Location',
    method: 'POST',
    path: ['orchestrators', 'waits', 'new-one'],
    body: '{"a":1}',
    status: 202,
    check: (body, headers) => {
      assert.equal((body as { id: string }).id, 'new-one');
      assert.equal(headers.location, `${base}instances/new-one`);
    },
    source: handler,
  },
  {
    name: 'a start with the id of a Running instance answers 500 with OrchestrationAlreadyExistsException',
    method: 'POST',
    path: ['orchestrators', 'waits', 'running'],
    status: 500,
    check: (body) =>
      assert.deepEqual(body, {
        Message: 'Something went wrong while processing your request',
        ExceptionMessage: 'An Orchestration instance with the status Running already exists.',
        ExceptionType: 'DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException',
        StackTrace: null,
      }),
    source: `${handler}; ${dtfxAzureStorage}`,
  },
  {
    name: 'a start with the id of a Completed instance replaces it (202)',
    method: 'POST',
    path: ['orchestrators', 'waits', 'finished'],
    status: 202,
    check: (_body, _headers, backend) => assert.equal(backend.get('finished')?.name, 'waits'),
    source: dtfxAzureStorage,
  },
  {
    name: 'a start of an unknown orchestrator answers 400 (ArgumentException)',
    method: 'POST',
    path: ['orchestrators', 'nope', 'x'],
    status: 400,
    check: (body) => {
      const b = body as { Message: string; ExceptionType: string; ExceptionMessage: string };
      assert.equal(b.Message, 'One or more of the arguments submitted is incorrect');
      assert.equal(b.ExceptionType, 'System.ArgumentException');
      assert.match(
        b.ExceptionMessage,
        /^The function 'nope' doesn't exist, is disabled, or is not an orchestrator function/,
      );
    },
    source: handler,
  },
  {
    name: 'a start with a body that is not JSON answers 400 "Invalid JSON content"',
    method: 'POST',
    path: ['orchestrators', 'waits', 'y'],
    body: '{not json',
    status: 400,
    check: (body) => assert.equal((body as { Message: string }).Message, 'Invalid JSON content'),
    source: handler,
  },
  {
    name: 'the status of an unknown id answers 404 with no body',
    method: 'GET',
    path: ['instances', 'unknown'],
    status: 404,
    check: (body) => assert.equal(body, undefined),
    source: handler,
  },
  {
    name: 'the status of a Running instance answers 202 with Location and Retry-After: 5',
    method: 'GET',
    path: ['instances', 'running'],
    status: 202,
    check: (body, headers) => {
      assert.equal((body as { runtimeStatus: string }).runtimeStatus, 'Running');
      assert.equal(headers['retry-after'], '5');
      assert.equal(headers.location, `${base}instances/running`);
    },
    source: handler,
  },
  {
    name: 'the status of a Completed instance answers 200, times in whole seconds with Z',
    method: 'GET',
    path: ['instances', 'finished'],
    status: 200,
    check: (body) => {
      const b = body as Record<string, unknown>;
      assert.deepEqual(Object.keys(b).sort(), [
        'createdTime',
        'customStatus',
        'input',
        'instanceId',
        'lastUpdatedTime',
        'name',
        'output',
        'runtimeStatus',
      ]);
      assert.equal(b.output, 'done');
      assert.match(String(b.createdTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    },
    source: handler,
  },
  {
    name: 'terminating an unknown id answers 404',
    method: 'POST',
    path: ['instances', 'unknown', 'terminate'],
    status: 404,
    source: handler,
  },
  {
    name: 'terminating a finished instance answers 410 Gone',
    method: 'POST',
    path: ['instances', 'finished', 'terminate'],
    status: 410,
    source: handler,
  },
  {
    name: 'terminating a Running instance answers 202 and terminates it',
    method: 'POST',
    path: ['instances', 'running', 'terminate'],
    query: 'reason=test',
    status: 202,
    check: (_body, _headers, backend) => assert.equal(backend.get('running')?.runtimeStatus, 'Terminated'),
    source: handler,
  },
  {
    name: 'purging an unknown id answers 404',
    method: 'DELETE',
    path: ['instances', 'unknown'],
    status: 404,
    source: handler,
  },
  {
    name: 'purging a finished instance answers 200 with instancesDeleted',
    method: 'DELETE',
    path: ['instances', 'finished'],
    status: 200,
    check: (body, _headers, backend) => {
      assert.deepEqual(body, { instancesDeleted: 1 });
      assert.equal(backend.get('finished'), undefined);
    },
    source: handler,
  },
  {
    name: 'a purge by filter without createdTimeFrom answers 400',
    method: 'DELETE',
    path: ['instances'],
    status: 400,
    check: (body) => assert.equal(body, "Please provide value for 'createdTimeFrom' parameter."),
    source: handler,
  },
  {
    name: 'a purge by filter that deletes nothing answers 404',
    method: 'DELETE',
    path: ['instances'],
    query: 'createdTimeFrom=2000-01-01T00:00:00Z&createdTimeTo=2000-01-02T00:00:00Z',
    status: 404,
    source: handler,
  },
  {
    name: 'a purge by filter answers 200 with the number deleted',
    method: 'DELETE',
    path: ['instances'],
    query: 'createdTimeFrom=2000-01-01T00:00:00Z&runtimeStatus=Completed',
    status: 200,
    check: (body) => assert.deepEqual(body, { instancesDeleted: 1 }),
    source: handler,
  },
];

void describe('the durable HTTP API answers as the extension does', () => {
  for (const row of rows) {
    void it(`${row.name} [${row.source}]`, async () => {
      const backend = await backendWithInstances();
      const [resource, a, b] = row.path;
      const answer = durableHttpAnswer(backend, {
        method: row.method,
        resource,
        a,
        b,
        query: new URLSearchParams(row.query ?? ''),
        body: row.body ?? '',
        base,
      });
      assert.equal(answer.status, row.status);
      row.check?.(answer.body, answer.headers ?? {}, backend);
      backend.terminate('running', 'test over');
    });
  }
});

void describe('the durable-functions client reads those answers (orchestration/start.ts)', () => {
  let api: DurableApi;
  let backend: DurableBackend;
  let client: df.DurableClient;
  before(async () => {
    backend = new DurableBackend({
      orchestrators: new Map([[orchestratorName, waits]]),
      activities: new Map(),
      logger,
    });
    api = new DurableApi(backend, undefined, 'testhub');
    await api.listen();
    const context = new azureFunctions.InvocationContext({
      options: {
        trigger: { type: 'queueTrigger', name: 'q' },
        extraInputs: [{ type: 'durableClient', name: 'starter' }],
        extraOutputs: [],
      },
    });
    context.extraInputs.set('starter', api.clientData('inv'));
    client = df.getClient(context);
  });
  after(() => {
    for (const s of backend.list()) backend.terminate(s.instanceId, 'test over');
    return api.close();
  });

  const input = (id: string) => ({ id }) as ProcessInput;

  void it(`getStatus of an unknown id rejects with status 404 [${durableClient}]`, async () => {
    const err = await client.getStatus('nobody').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.equal(durableHttpStatus(err), 404);
  });

  void it(`a second startNew with a running id rejects with status 500 [${durableClient}; ${handler}]`, async () => {
    await client.startNew(orchestratorName, { instanceId: 'twice', input: input('twice') });
    const err = await client.startNew(orchestratorName, { instanceId: 'twice', input: input('twice') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.equal(durableHttpStatus(err), 500);
  });

  void it('startProcessing starts a new id and reports a running one as existing', async () => {
    assert.equal(await startProcessing(client, input('m1')), 'started');
    assert.equal(await startProcessing(client, input('m1')), 'exists');
  });

  void it('an error that is no HTTP answer has no status', () => {
    assert.equal(durableHttpStatus(new Error('ECONNREFUSED 127.0.0.1:1')), undefined);
  });
});
