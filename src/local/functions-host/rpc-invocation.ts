import crypto from 'node:crypto';
import { registeredProgrammingModel, type RegisteredFunction } from './core-api.js';

/**
 * The worker ↔ library data shapes (`@azure/functions-core` `RpcTypedData`, `RpcInvocationRequest`,
 * `RpcInvocationResponse`), reduced to the fields the host fills or reads.
 */
export interface RpcTypedData {
  string?: string | null;
  json?: string | null;
  bytes?: Uint8Array | null;
  int?: number | null;
  double?: number | null;
  http?: RpcHttpData | null;
}

export interface RpcHttpData {
  statusCode?: string | null;
  headers?: Record<string, string> | null;
  cookies?: RpcHttpCookie[] | null;
  body?: RpcTypedData | null;
}

export interface RpcHttpCookie {
  name?: string | null;
  value?: string | null;
  domain?: { value?: string | null } | null;
  path?: { value?: string | null } | null;
  expires?: { value?: { seconds?: number | null } | null } | null;
  secure?: { value?: boolean | null } | null;
  httpOnly?: { value?: boolean | null } | null;
  sameSite?: 'none' | 'lax' | 'strict' | 'explicitNone' | null;
  maxAge?: { value?: number | null } | null;
}

export interface RpcParameterBinding {
  name: string;
  data: RpcTypedData;
}

export interface RpcInvocationResponse {
  invocationId: string;
  returnValue?: RpcTypedData | null;
  outputData?: RpcParameterBinding[] | null;
}

export interface InvocationData {
  /** The trigger's and the extra inputs' values, by binding name (`InvocationRequest.input_data`). */
  inputData: RpcParameterBinding[];
  /** Binding data the trigger extension provides (`InvocationRequest.trigger_metadata`). */
  triggerMetadata?: Record<string, RpcTypedData>;
  invocationId?: string;
  /** Called with the arguments the library built, before the handler runs (the local HTTP request). */
  adjustInputs?: (inputs: unknown[], context: unknown) => unknown[];
  log?: (level: string, category: string, message: string) => void;
}

/**
 * A value as the Functions host puts it on the wire to the worker: strings as `string`, bytes as
 * `bytes`, doubles as `double`, anything else (objects, integers, dates) as JSON text
 * (azure-functions-host `src/WebJobs.Script.Grpc/MessageExtensions/GrpcMessageConversionExtensions.cs`,
 * `ToRpc` and `ToRpcDefault`).
 */
export function toRpc(value: unknown): RpcTypedData {
  if (value === null || value === undefined) return {};
  if (typeof value === 'string') return { string: value };
  if (value instanceof Uint8Array) return { bytes: value };
  if (typeof value === 'number' && !Number.isInteger(value)) return { double: value };
  return { json: JSON.stringify(value) };
}

/**
 * A returned value as the host and the Durable extension read it back: JSON text parsed, strings
 * as strings (azure-functions-host `GrpcMessageConversionExtensions.cs`, `ToObject`).
 */
export function fromRpc(data: RpcTypedData | null | undefined): unknown {
  if (!data) return undefined;
  if (data.string !== undefined && data.string !== null) return data.string;
  if (data.json !== undefined && data.json !== null) return JSON.parse(data.json) as unknown;
  if (data.bytes !== undefined && data.bytes !== null) return Buffer.from(data.bytes);
  if (data.int !== undefined && data.int !== null) return data.int;
  if (data.double !== undefined && data.double !== null) return data.double;
  if (data.http) return data.http;
  return undefined;
}

/**
 * One invocation, driven as the Node worker drives it (azure-functions-nodejs-worker
 * `src/eventHandlers/InvocationHandler.ts`): the library's programming model gives an invocation
 * model for the request; it builds the InvocationContext and the handler's inputs
 * (`getArguments`), runs the handler (`invokeFunction`) and converts its result and output
 * bindings back to RPC data (`getResponse`). The handler's error is thrown, as the worker reports
 * an invocation failure.
 */
export async function invokeThroughLibrary(
  fn: RegisteredFunction,
  data: InvocationData,
): Promise<RpcInvocationResponse> {
  const invocationId = data.invocationId ?? crypto.randomUUID();
  const coreCtx = {
    invocationId,
    request: {
      invocationId,
      functionId: fn.name,
      inputData: data.inputData,
      triggerMetadata: data.triggerMetadata ?? {},
    },
    metadata: { name: fn.name, functionId: fn.name, bindings: fn.bindings },
    state: undefined as string | undefined,
    log: data.log ?? (() => undefined),
  };
  const model = await registeredProgrammingModel().getInvocationModel(coreCtx);
  const { context, inputs } = await model.getArguments();
  const effective = data.adjustInputs ? data.adjustInputs(inputs, context) : inputs;
  coreCtx.state = 'invocation';
  let result: unknown;
  try {
    result = await model.invokeFunction(context, effective, fn.callback);
  } finally {
    coreCtx.state = undefined;
  }
  return (await model.getResponse(context, result)) as RpcInvocationResponse;
}

/** The invocation id the library put on the context it built. */
export function invocationIdOf(context: unknown): string {
  return (context as { invocationId: string }).invocationId;
}
