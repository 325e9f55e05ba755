import Module from 'node:module';

/**
 * A function as `@azure/functions` registers it with the worker: its metadata (binding name →
 * binding options, as `toCoreFunctionMetadata` builds them) and the callback the library wraps
 * around the user's handler. The worker keeps exactly this pair (azure-functions-nodejs-worker
 * `src/coreApi/registerFunction.ts`).
 */
export interface RegisteredFunction {
  name: string;
  bindings: Record<string, BindingMetadata>;
  callback: (...args: unknown[]) => unknown;
}

export interface BindingMetadata {
  type: string;
  direction: 'in' | 'out';
  name?: string;
  [option: string]: unknown;
}

/** A `coreTypes.ProgrammingModel` (azure-functions-nodejs-library `src/ProgrammingModel.ts`). */
export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreCtx: unknown): InvocationModel | Promise<InvocationModel>;
  getCapabilities(capabilities: Record<string, string>): Promise<Record<string, string>>;
}

/** A `coreTypes.InvocationModel` (azure-functions-nodejs-library `src/InvocationModel.ts`). */
export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(
    context: unknown,
    inputs: unknown[],
    callback: RegisteredFunction['callback'],
  ): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<unknown>;
}

interface CoreFunctionMetadata {
  name: string;
  bindings: Record<string, BindingMetadata>;
}

const registry = new Map<string, RegisteredFunction>();
let programmingModel: ProgrammingModel | undefined;
let installed = false;

/**
 * Plays the part of the Functions worker: `@azure/functions` registers every function and its
 * programming model with the module `@azure/functions-core`, which only exists inside the worker.
 * We provide that module, so the very registrations that run in Azure are captured here — no second
 * list of functions — and the library's own invocation model turns our RPC-shaped invocation data
 * into handler arguments, as it does under the worker.
 */
export function installCoreApi(): void {
  if (installed) return;
  installed = true;
  const coreApi = {
    setProgrammingModel: (model: ProgrammingModel) => void (programmingModel = model),
    getProgrammingModel: () => programmingModel,
    // The app registers no hooks; the worker's hook pipeline is not reproduced (docs/architecture.md).
    registerHook: () => ({ dispose: () => undefined }),
    log: (level: string, _category: string, message: string) => {
      if (level === 'error' || level === 'critical') console.error(message);
    },
    registerFunction(metadata: CoreFunctionMetadata, callback: RegisteredFunction['callback']) {
      // The worker refuses a second registration under one id (registerFunction.ts): so do we.
      if (registry.has(metadata.name))
        throw new Error(`A function with id "${metadata.name}" has already been registered.`);
      registry.set(metadata.name, { name: metadata.name, bindings: metadata.bindings, callback });
      return { dispose: () => registry.delete(metadata.name) };
    },
  };
  const mod = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const originalLoad = mod._load;
  mod._load = function load(request: string, parent: unknown, isMain: boolean) {
    if (request === '@azure/functions-core') return coreApi;
    return originalLoad.call(this, request, parent, isMain);
  };
}

export function registeredFunctions(): RegisteredFunction[] {
  return [...registry.values()];
}

/** The programming model `@azure/functions` set when its first function was registered. */
export function registeredProgrammingModel(): ProgrammingModel {
  if (!programmingModel) throw new Error('@azure/functions has not set its programming model');
  return programmingModel;
}

export function triggerOf(
  fn: Pick<RegisteredFunction, 'name' | 'bindings'>,
): BindingMetadata & { name: string } {
  for (const [name, binding] of Object.entries(fn.bindings)) {
    if (/trigger$/i.test(binding.type)) return { ...binding, name };
  }
  throw new Error(`function ${fn.name} has no trigger binding`);
}
