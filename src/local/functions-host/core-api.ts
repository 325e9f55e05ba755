import Module from 'node:module';

/** A function as registered through `@azure/functions` (`app.storageQueue(...)`, `df.app.activity(...)`). */
export interface RegisteredFunction {
  name: string;
  /** Binding name → binding options (type, direction, queueName, path, ...), as the worker gets them. */
  bindings: Record<string, BindingMetadata>;
  handler: (...args: unknown[]) => unknown;
}

export interface BindingMetadata {
  type: string;
  direction: 'in' | 'out';
  name?: string;
  [option: string]: unknown;
}

interface CoreFunctionMetadata {
  name: string;
  bindings: Record<string, BindingMetadata>;
}

const registry = new Map<string, RegisteredFunction>();
let installed = false;

/**
 * Plays the part of the Functions worker: `@azure/functions` registers every function with the
 * module `@azure/functions-core`, which only exists inside the worker. We provide that module, so
 * the very registrations that run in Azure are captured here — no second list of functions.
 */
export function installCoreApi(): void {
  if (installed) return;
  installed = true;
  const coreApi = {
    setProgrammingModel: () => undefined,
    getProgrammingModel: () => undefined,
    registerHook: () => ({ dispose: () => undefined }),
    log: (level: string, _category: string, message: string) => {
      if (level === 'error' || level === 'critical') console.error(message);
    },
    registerFunction(metadata: CoreFunctionMetadata, handler: (...args: unknown[]) => unknown) {
      registry.set(metadata.name, { name: metadata.name, bindings: metadata.bindings, handler });
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

export function triggerOf(fn: RegisteredFunction): BindingMetadata & { name: string } {
  for (const [name, binding] of Object.entries(fn.bindings)) {
    if (/trigger$/i.test(binding.type)) return { ...binding, name };
  }
  throw new Error(`function ${fn.name} has no trigger binding`);
}
