/**
 * The local host hands `@azure/functions` RPC-shaped invocation data and lets the library's own
 * invocation model build the arguments and read the result, as the Node worker does. Each row
 * names the source it was checked against (repository, path, commit); docs/host-conformance.md
 * lists them.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import azureFunctions, { type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import {
  installCoreApi,
  registeredFunctions,
  triggerOf,
} from '../../../../src/local/functions-host/core-api.js';
import { queueTriggerMetadata } from '../../../../src/local/functions-host/host.js';
import {
  fromRpc,
  invokeThroughLibrary,
  toRpc,
  type RpcParameterBinding,
  type RpcTypedData,
} from '../../../../src/local/functions-host/rpc-invocation.js';

const library = (path: string) =>
  `Azure/azure-functions-nodejs-library ${path} @5a93c7693d78921f08e414d11727c95c5d17e42c`;
const worker = (path: string) =>
  `Azure/azure-functions-nodejs-worker ${path} @2876343942423f1b18483d99bcd8461bd5297a9c`;
const functionsHost = (path: string) =>
  `Azure/azure-functions-host ${path} @89dc438d476542786f2fc4070f553423213a6223`;
const conversion = functionsHost(
  'src/WebJobs.Script.Grpc/MessageExtensions/GrpcMessageConversionExtensions.cs',
);

/** What each test function's handler last received. */
const received = new Map<string, { args: unknown[]; context: InvocationContext }>();
const record =
  (name: string, result?: unknown) =>
  (...args: unknown[]) => {
    received.set(name, { args: args.slice(0, -1), context: args.at(-1) as InvocationContext });
    return result;
  };

before(() => {
  installCoreApi();
  const { app, output } = azureFunctions;
  app.storageQueue('hostQueue', {
    queueName: 'q',
    connection: 'Storage',
    extraInputs: [df.input.durableClient()],
    handler: record('hostQueue'),
  });
  app.timer('hostTimer', { schedule: '0 */5 * * * *', handler: record('hostTimer') });
  app.http('hostHttp', {
    route: 'x',
    handler: () => ({
      status: 201,
      jsonBody: { ok: true },
      cookies: [{ name: 'a', value: 'b', httpOnly: true }],
    }),
  });
  app.storageQueue('hostQueueOutput', {
    queueName: 'q2',
    connection: 'Storage',
    extraOutputs: [output.storageQueue({ queueName: 'out', connection: 'Storage' })],
    handler: (_item: unknown, context: InvocationContext) => {
      const binding = context.options.extraOutputs[0];
      if (binding) context.extraOutputs.set(binding, { forwarded: true });
    },
  });
  df.app.activity('hostActivityObject', { handler: () => ({ x: 1 }) });
  df.app.activity('hostActivityText', { handler: () => 'abc' });
  df.app.activity('hostActivityFails', {
    handler: () => {
      throw new Error('activity failed');
    },
  });
});

function fn(name: string) {
  const found = registeredFunctions().find((f) => f.name === name);
  assert.ok(found, `${name} is registered`);
  return found;
}

function trigger(name: string, data: RpcTypedData): RpcParameterBinding[] {
  return [{ name: triggerOf(fn(name)).name, data }];
}

void describe('the library builds the handler arguments from RPC data', () => {
  const rows: {
    name: string;
    fn: string;
    inputData: () => RpcParameterBinding[];
    triggerMetadata?: Record<string, RpcTypedData>;
    check: (got: { args: unknown[]; context: InvocationContext }) => void;
    source: string;
  }[] = [
    {
      name: 'a queue message that is JSON reaches the handler parsed',
      fn: 'hostQueue',
      inputData: () => trigger('hostQueue', { string: '{"id":"m1"}' }),
      check: (got) => assert.deepEqual(got.args, [{ id: 'm1' }]),
      source: library('src/converters/fromRpcTypedData.ts'),
    },
    {
      name: 'a queue message that is not JSON reaches the handler as text',
      fn: 'hostQueue',
      inputData: () => trigger('hostQueue', { string: 'plain words' }),
      check: (got) => assert.deepEqual(got.args, ['plain words']),
      source: library('src/converters/fromRpcTypedData.ts'),
    },
    {
      name: "the queue's binding data becomes camel-cased triggerMetadata (dequeueCount a number)",
      fn: 'hostQueue',
      inputData: () => trigger('hostQueue', { string: 'x' }),
      triggerMetadata: queueTriggerMetadata({ messageId: 'id-1', dequeueCount: 3 }, 'receipt', 'x'),
      check: (got) => {
        assert.equal(got.context.triggerMetadata?.dequeueCount, 3);
        assert.equal(got.context.triggerMetadata?.id, 'id-1');
        assert.equal(got.context.triggerMetadata?.popReceipt, 'receipt');
      },
      source: `${library('src/converters/fromRpcTriggerMetadata.ts')}; ${conversion}`,
    },
    {
      name: 'a durable client input lands in context.extraInputs, parsed',
      fn: 'hostQueue',
      inputData: () => [
        ...trigger('hostQueue', { string: 'x' }),
        {
          name:
            Object.keys(fn('hostQueue').bindings).find((n) => n !== triggerOf(fn('hostQueue')).name) ?? '',
          data: { string: '{"taskHubName":"h"}' },
        },
      ],
      check: (got) => {
        const input = got.context.options.extraInputs[0];
        assert.ok(input);
        assert.deepEqual(got.context.extraInputs.get(input), { taskHubName: 'h' });
      },
      source: library('src/InvocationModel.ts'),
    },
    {
      name: "the host's PascalCase TimerInfo reaches the handler camel-cased",
      fn: 'hostTimer',
      inputData: () =>
        trigger('hostTimer', {
          json: JSON.stringify({ Schedule: { AdjustForDST: true }, ScheduleStatus: null, IsPastDue: false }),
        }),
      check: (got) =>
        assert.deepEqual(got.args, [
          { schedule: { adjustForDST: true }, scheduleStatus: null, isPastDue: false },
        ]),
      source: library('src/InvocationModel.ts'),
    },
  ];
  for (const row of rows) {
    void it(`${row.name} [${row.source}]`, async () => {
      received.delete(row.fn);
      await invokeThroughLibrary(fn(row.fn), {
        inputData: row.inputData(),
        triggerMetadata: row.triggerMetadata,
      });
      const got = received.get(row.fn);
      assert.ok(got, 'the handler ran');
      assert.equal(got.context.functionName, row.fn);
      row.check(got);
    });
  }
});

void describe('the library reads the return value and output bindings back', () => {
  const rows: {
    name: string;
    fn: string;
    data: RpcTypedData;
    check: (response: Awaited<ReturnType<typeof invokeThroughLibrary>>) => void;
    source: string;
  }[] = [
    {
      name: "an activity's object result comes back as JSON (Durable reads orchestrator state this way too)",
      fn: 'hostActivityObject',
      data: { json: 'null' },
      check: (r) => assert.deepEqual(fromRpc(r.returnValue), { x: 1 }),
      source: library('src/InvocationModel.ts'),
    },
    {
      name: "an activity's text result comes back as a string",
      fn: 'hostActivityText',
      data: { json: 'null' },
      check: (r) => assert.deepEqual(r.returnValue, { string: 'abc' }),
      source: library('src/converters/toRpcTypedData.ts'),
    },
    {
      name: "an HTTP handler's HttpResponseInit comes back as RPC http data (status, JSON type, cookies, body)",
      fn: 'hostHttp',
      data: {},
      check: (r) => {
        const http = r.returnValue?.http;
        assert.equal(http?.statusCode, '201');
        assert.match(String(http?.headers?.['content-type']), /^application\/json/);
        assert.equal(http?.cookies?.[0]?.httpOnly?.value, true);
        assert.equal(String(fromRpc(http?.body)), '{"ok":true}');
      },
      source: library('src/converters/toRpcHttp.ts'),
    },
    {
      name: 'an extra output binding comes back in outputData by its binding name',
      fn: 'hostQueueOutput',
      data: { string: 'x' },
      check: (r) => {
        assert.equal(r.outputData?.length, 1);
        assert.deepEqual(fromRpc(r.outputData?.[0]?.data), { forwarded: true });
      },
      source: library('src/InvocationModel.ts'),
    },
  ];
  for (const row of rows) {
    void it(`${row.name} [${row.source}]`, async () => {
      const inputData = row.fn === 'hostHttp' ? [] : trigger(row.fn, row.data);
      row.check(
        await invokeThroughLibrary(fn(row.fn), {
          inputData,
          adjustInputs: row.fn === 'hostHttp' ? (inputs) => [{}, ...inputs] : undefined,
        }),
      );
    });
  }

  void it(`a handler that throws fails the invocation [${worker('src/eventHandlers/InvocationHandler.ts')}]`, async () => {
    await assert.rejects(
      invokeThroughLibrary(fn('hostActivityFails'), {
        inputData: trigger('hostActivityFails', { json: 'null' }),
      }),
      /activity failed/,
    );
  });
});

void describe('values go on the wire as the Functions host puts them', () => {
  const rows: { value: unknown; expected: RpcTypedData }[] = [
    { value: 'text', expected: { string: 'text' } },
    { value: 2.5, expected: { double: 2.5 } },
    { value: 3, expected: { json: '3' } },
    { value: { a: 1 }, expected: { json: '{"a":1}' } },
    { value: null, expected: {} },
  ];
  for (const row of rows) {
    void it(`${JSON.stringify(row.value)} → ${JSON.stringify(row.expected)} [${conversion}]`, () => {
      assert.deepEqual(toRpc(row.value), row.expected);
    });
  }

  void it(`bytes go as bytes [${conversion}]`, () => {
    const bytes = Buffer.from('abc');
    assert.equal(toRpc(bytes).bytes, bytes);
  });
});
