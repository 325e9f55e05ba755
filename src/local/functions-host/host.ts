import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import azureFunctions from '@azure/functions';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { describeError } from '../../errors/index.js';
import { expandDevelopmentStorage } from '../../storage/dev-storage.js';
import { storageRestFor } from '../../storage/rest-client.js';
import type { Logger } from '../../log/index.js';
import {
  installCoreApi,
  registeredFunctions,
  triggerOf,
  type BindingMetadata,
  type RegisteredFunction,
} from './core-api.js';
import { DurableApi } from './durable-api.js';
import {
  DurableBackend,
  type ActivityInvoker,
  type OrchestratorInvoker,
  type OrchestratorState,
} from './durable-backend.js';
import {
  fromRpc,
  invokeThroughLibrary,
  toRpc,
  type InvocationData,
  type RpcHttpCookie,
  type RpcHttpData,
  type RpcInvocationResponse,
  type RpcParameterBinding,
  type RpcTypedData,
} from './rpc-invocation.js';
import { InstanceTable } from './instance-table.js';
import { instancesTableName, taskHubName } from '../../orchestration/task-hub.js';
import { createStorageClients } from '../../storage/index.js';
import { Ncrontab } from './ncrontab.js';

const { HttpRequest } = azureFunctions;

export interface HostOptions {
  /** Directory of the compiled functions (every `*.js` in it is loaded, like package.json `main`). */
  functionsDir: string;
  /** host.json, for the queue and durable settings. */
  hostJson: string;
  /** Environment the bindings' `connection` names are looked up in. */
  env: Record<string, string | undefined>;
  logger: Logger;
  /** HTTP triggers listen here (0 = any free port); the key protects function/admin-level routes. */
  httpPort?: number;
  functionKey?: string;
  /** How long a queue message stays invisible per lease (renewed while its orchestration runs). */
  queueLeaseSeconds?: number;
  /** Overrides host.json's `visibilityTimeout`: the wait before a failed queue message is tried again. */
  queueRetrySeconds?: number;
}

interface QueueSettings {
  batchSize: number;
  newBatchThreshold: number;
  maxPollingIntervalMs: number;
  visibilityTimeoutSec: number;
  maxDequeueCount: number;
  messageEncoding: 'base64' | 'none';
}

/**
 * Runs the functions app without Azure Functions Core Tools: the same registered functions, the same
 * orchestrator and activities, with queue, timer and HTTP triggers served against Azurite.
 * A queue message is deleted only after the orchestration it started has finished, so killing this
 * process means redelivery, not loss.
 */
export class LocalFunctionsHost {
  readonly backend: DurableBackend;
  readonly api: DurableApi;
  httpPort = 0;
  readonly functionKey: string;
  /** Request bodies above this many bytes get 413, like `FUNCTIONS_REQUEST_BODY_SIZE_LIMIT` in Azure. */
  readonly requestLimit: number;
  private readonly options: HostOptions;
  private readonly log: Logger;
  private stopped = false;
  private readonly loops: Promise<void>[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private httpServer: http.Server | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly instanceTable: InstanceTable | undefined;

  private constructor(
    options: HostOptions,
    functions: RegisteredFunction[],
    private readonly queue: QueueSettings,
    hubName: string,
    private readonly routePrefix: string,
  ) {
    this.options = options;
    this.log = options.logger;
    this.functionKey = options.functionKey ?? crypto.randomBytes(24).toString('base64url');
    const limit = Number(options.env.FUNCTIONS_REQUEST_BODY_SIZE_LIMIT);
    this.requestLimit = Number.isSafeInteger(limit) && limit > 0 ? limit : defaultRequestLimit;
    const orchestrators = new Map<string, OrchestratorInvoker>();
    const activities = new Map<string, ActivityInvoker>();
    for (const fn of functions) {
      const trigger = triggerOf(fn);
      // The Durable extension hands an orchestrator its context as JSON text and reads back the
      // SDK's OrchestratorState from the return value; an activity gets its input as a JSON value.
      if (trigger.type === 'orchestrationTrigger')
        orchestrators.set(fn.name, async (binding) => {
          const response = await this.invoke(fn, [
            { name: trigger.name, data: { string: JSON.stringify(binding) } },
          ]);
          return fromRpc(response.returnValue) as OrchestratorState;
        });
      if (trigger.type === 'activityTrigger')
        activities.set(fn.name, async (input, instanceId) => {
          const response = await this.invoke(fn, [{ name: trigger.name, data: toRpc(input) }], {
            triggerMetadata: { instanceId: { string: instanceId } },
          });
          return fromRpc(response.returnValue);
        });
    }
    this.functions = functions;
    const storage = options.env.AzureWebJobsStorage;
    this.instanceTable = storage
      ? new InstanceTable(
          createStorageClients({ connectionString: storage }).table(instancesTableName(hubName)),
          this.log,
        )
      : undefined;
    this.backend = new DurableBackend({
      orchestrators,
      activities,
      logger: this.log,
      onStatus: (status) => this.instanceTable?.record(status),
    });
    this.api = new DurableApi(this.backend, undefined, hubName);
  }

  readonly functions: RegisteredFunction[];

  /** Loads every compiled function module (registering them through @azure/functions) and builds a host. */
  static async create(options: HostOptions): Promise<LocalFunctionsHost> {
    installCoreApi();
    const files = (await fs.readdir(options.functionsDir)).filter((f) => f.endsWith('.js')).sort();
    for (const file of files) await import(pathToFileURL(path.join(options.functionsDir, file)).href);
    const hostJson = JSON.parse(await fs.readFile(options.hostJson, 'utf8')) as {
      extensions?: { queues?: Record<string, unknown>; http?: { routePrefix?: unknown } };
    };
    const q = hostJson.extensions?.queues ?? {};
    const queue: QueueSettings = {
      batchSize: Number(q.batchSize ?? 16),
      newBatchThreshold: Number(q.newBatchThreshold ?? 8),
      maxPollingIntervalMs: timeSpanMs(str(q.maxPollingInterval, '00:00:01')),
      visibilityTimeoutSec:
        options.queueRetrySeconds ?? Math.max(1, timeSpanMs(str(q.visibilityTimeout, '00:00:30')) / 1000),
      maxDequeueCount: Number(q.maxDequeueCount ?? 5),
      messageEncoding: q.messageEncoding === 'none' ? 'none' : 'base64',
    };
    // Like the Functions host: routes start with `api/` unless host.json says otherwise ("" = none).
    const prefix = hostJson.extensions?.http?.routePrefix;
    const routePrefix = typeof prefix === 'string' ? prefix.replace(/^\/+|(?<!\/)\/+$/g, '') : 'api';
    return new LocalFunctionsHost(
      options,
      registeredFunctions(),
      queue,
      taskHubName(options.hostJson),
      routePrefix,
    );
  }

  async start(): Promise<void> {
    await this.instanceTable?.reset().catch((err: unknown) => {
      this.log.warn({ err: describeError(err) }, 'instance table not reset');
    });
    await this.api.listen();
    const http = this.functions.filter((f) => triggerOf(f).type === 'httpTrigger');
    if (http.length > 0) await this.startHttp(http);
    for (const fn of this.functions) {
      const trigger = triggerOf(fn);
      if (trigger.type === 'queueTrigger') this.loops.push(this.queueLoop(fn, trigger));
      else if (trigger.type === 'blobTrigger')
        throw new Error(`${fn.name}: blob triggers are not served here`);
      else if (trigger.type === 'timerTrigger') this.scheduleTimer(fn, trigger);
    }
  }

  /** Stops polling, waits for invocations in flight (their queue messages are then kept, not lost). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    // Invocations still waiting for their orchestrations are abandoned: their queue messages are not
    // deleted, so they reappear when the lease runs out and are finished by the next host.
    await Promise.race([Promise.allSettled([...this.loops, ...this.inFlight]), sleep(5000)]);
    await this.instanceTable?.stop();
    await this.api.close();
    if (this.httpServer) {
      this.httpServer.closeAllConnections();
      await new Promise((r) => this.httpServer?.close(r));
    }
  }

  describe(): string[] {
    return this.functions.map((f) => {
      const t = triggerOf(f);
      const detail = str(t.queueName ?? t.path ?? t.schedule ?? t.route, '');
      return `${f.name} (${t.type}${detail ? `: ${detail}` : ''})`;
    });
  }

  private connection(binding: BindingMetadata): string {
    const name = str(binding.connection, 'AzureWebJobsStorage');
    const value = this.options.env[name];
    if (!value) throw new Error(`connection setting ${name} is not set`);
    return value;
  }

  /**
   * One invocation through the library's own programming model: the trigger's value and the extra
   * inputs the host provides (durable clients) go in as RPC data, as the Functions host sends them.
   */
  private invoke(
    fn: RegisteredFunction,
    triggerInput: RpcParameterBinding[],
    extra: Omit<InvocationData, 'inputData'> = {},
  ): Promise<RpcInvocationResponse> {
    const invocationId = extra.invocationId ?? crypto.randomUUID();
    const inputData = [...triggerInput];
    for (const [name, binding] of Object.entries(fn.bindings)) {
      if (binding.direction !== 'in' || /trigger$/i.test(binding.type)) continue;
      if (binding.type === 'durableClient' || binding.type === 'orchestrationClient')
        inputData.push({ name, data: { string: JSON.stringify(this.api.clientData(invocationId)) } });
      else throw new Error(`${fn.name}: input bindings of type ${binding.type} are not served here`);
    }
    return invokeThroughLibrary(fn, {
      ...extra,
      invocationId,
      inputData,
      log: (level, category, message) => {
        if (level === 'error' || level === 'warning')
          this.log.warn({ fn: fn.name, invocationId, category }, message);
      },
    });
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private async queueLoop(fn: RegisteredFunction, trigger: BindingMetadata): Promise<void> {
    const queueName = String(trigger.queueName);
    const service = QueueServiceClient.fromConnectionString(this.connection(trigger));
    const queue = service.getQueueClient(queueName);
    const poison = service.getQueueClient(`${queueName}-poison`);
    // The per-message delete over the lean client, as the front and the functions do their calls.
    const rest = storageRestFor({ connectionString: expandDevelopmentStorage(this.connection(trigger)) });
    const remove = (id: string, popReceipt: string) =>
      rest
        ? rest.deleteMessage(queueName, id, popReceipt)
        : queue.deleteMessage(id, popReceipt).then(() => undefined);
    const active = new Set<Promise<void>>();
    let idle = 50;
    while (!this.stopped) {
      if (active.size > this.queue.newBatchThreshold) {
        await Promise.race(active);
        continue;
      }
      let messages;
      try {
        const res = await queue.receiveMessages({
          numberOfMessages: Math.min(32, this.queue.batchSize),
          visibilityTimeout: this.lease(),
        });
        messages = res.receivedMessageItems;
      } catch (err) {
        this.log.warn({ fn: fn.name, err: describeError(err) }, 'queue poll failed; retrying');
        await sleep(1000);
        continue;
      }
      if (messages.length === 0) {
        await sleep(idle);
        idle = Math.min(idle * 2, this.queue.maxPollingIntervalMs);
        continue;
      }
      idle = 50;
      for (const m of messages) {
        const p = this.handleQueueMessage(fn, queue, poison, m, remove);
        active.add(p);
        this.track(p);
        void p.finally(() => active.delete(p));
      }
    }
    await Promise.allSettled([...active]);
  }

  private async handleQueueMessage(
    fn: RegisteredFunction,
    queue: QueueClient,
    poison: QueueClient,
    m: {
      messageId: string;
      popReceipt: string;
      messageText: string;
      dequeueCount: number;
      insertedOn?: Date;
    },
    remove: (id: string, popReceipt: string) => Promise<void>,
  ): Promise<void> {
    let popReceipt = m.popReceipt;
    const trigger = triggerOf(fn);
    const log = this.log.child({ fn: fn.name, queueMessage: m.messageId });
    try {
      if (m.dequeueCount > this.queue.maxDequeueCount) {
        await poison.createIfNotExists();
        await poison.sendMessage(m.messageText);
        await remove(m.messageId, popReceipt);
        log.error({ dequeueCount: m.dequeueCount }, 'message moved to the poison queue');
        return;
      }
      const text =
        this.queue.messageEncoding === 'base64'
          ? Buffer.from(m.messageText, 'base64').toString('utf8')
          : m.messageText;
      const invocationId = crypto.randomUUID();
      // Like the Functions host, the message stays invisible while the function runs: its lease is
      // renewed every half lease, so only a dead process lets it reappear.
      const lease = this.lease();
      let renewing = Promise.resolve();
      const renewal = setInterval(
        () => {
          renewing = renewing.then(() =>
            queue.updateMessage(m.messageId, popReceipt, undefined, lease).then(
              (renewed) => void (popReceipt = renewed.popReceipt ?? popReceipt),
              (err: unknown) => log.warn({ err: describeError(err) }, 'could not renew the queue lease'),
            ),
          );
        },
        (lease * 1000) / 2,
      );
      try {
        await this.invoke(fn, [{ name: trigger.name, data: { string: text } }], {
          invocationId,
          triggerMetadata: queueTriggerMetadata(m, popReceipt, text),
        });
      } catch (err) {
        log.warn(
          { err: describeError(err), dequeueCount: m.dequeueCount },
          'queue function failed; the message will be retried',
        );
        await queue
          .updateMessage(m.messageId, popReceipt, undefined, this.queue.visibilityTimeoutSec)
          .catch(() => undefined);
        return;
      } finally {
        clearInterval(renewal);
        await renewing;
      }
      // Keep the message (invisible) until every orchestration it started has finished.
      for (const id of this.api.takeTouched(invocationId)) {
        for (;;) {
          const done = await Promise.race([
            this.backend.waitFor(id).then(() => true),
            sleep((lease * 1000) / 2).then(() => false),
          ]);
          if (done) break;
          const renewed = await queue.updateMessage(m.messageId, popReceipt, undefined, lease);
          popReceipt = renewed.popReceipt ?? popReceipt;
        }
      }
      await remove(m.messageId, popReceipt);
    } catch (err) {
      // Storage trouble: the message becomes visible again after its lease and is processed then.
      log.warn({ err: describeError(err) }, 'queue message handling interrupted; it will be redelivered');
    }
  }

  /** After a crash, a message reappears within one lease: long enough to renew, short enough to recover. */
  private lease(): number {
    return this.options.queueLeaseSeconds ?? Math.max(60, this.queue.visibilityTimeoutSec);
  }

  private scheduleTimer(fn: RegisteredFunction, trigger: BindingMetadata & { name: string }): void {
    const schedule = new Ncrontab(String(trigger.schedule));
    const arm = () => {
      if (this.stopped) return;
      const next = schedule.next(new Date());
      const t = setTimeout(() => {
        // The host serialises its TimerInfo (PascalCase); the library camel-cases it for the handler.
        const timerInfo = { Schedule: { AdjustForDST: true }, ScheduleStatus: null, IsPastDue: false };
        const p = this.invoke(fn, [{ name: trigger.name, data: { json: JSON.stringify(timerInfo) } }]).then(
          () => undefined,
          (err: unknown) => this.log.warn({ fn: fn.name, err: describeError(err) }, 'timer function failed'),
        );
        this.track(p);
        arm();
      }, next.getTime() - Date.now());
      t.unref();
      this.timers.push(t);
    };
    arm();
  }

  private async startHttp(functions: RegisteredFunction[]): Promise<void> {
    const routes = functions.map((fn) => {
      const t = triggerOf(fn);
      const { pattern, names } = routePattern(this.routePrefix, str(t.route, fn.name));
      const methods = (t.methods as string[] | undefined)?.map((m) => m.toUpperCase());
      return { fn, pattern, names, methods, authLevel: str(t.authLevel, 'anonymous') };
    });
    const server = http.createServer((req, res) => {
      void (async () => {
        const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
        const route = routes.find(
          (r) => r.pattern.test(url.pathname) && (!r.methods || r.methods.includes(req.method ?? 'GET')),
        );
        if (!route) return void res.writeHead(404).end();
        if (route.authLevel !== 'anonymous') {
          const key = req.headers['x-functions-key'] ?? url.searchParams.get('code');
          if (key !== this.functionKey) return void res.writeHead(401).end();
        }
        const match = route.pattern.exec(url.pathname);
        const params: Record<string, string> = {};
        try {
          route.names.forEach((n, i) => (params[n] = decodeURIComponent(match?.[i + 1] ?? '')));
        } catch {
          return void res.writeHead(400).end();
        }
        // The body is read only when the function asks for it, after its own authentication, and
        // never past the limit: a stranger's 600 MB POST costs one 401 and a closed connection.
        const method = req.method ?? 'GET';
        const headers = new Headers(
          Object.entries(req.headers).map(([k, v]): [string, string] => [k, String(v)]),
        );
        const body = method === 'GET' || method === 'HEAD' ? undefined : boundedBody(req, this.requestLimit);
        const request = new HttpRequest({
          method,
          url: url.href,
          headers: Object.fromEntries(headers.entries()),
          // Azure hands a repeated query key over joined by commas; do the same.
          query: Object.fromEntries(
            [...new Set(url.searchParams.keys())].map((k) => [k, url.searchParams.getAll(k).join(',')]),
          ),
          params,
          nativeRequest: new Request(url.href, {
            method,
            headers,
            ...(body ? { body: body.stream, duplex: 'half' } : {}),
          }),
        } as ConstructorParameters<typeof HttpRequest>[0]);
        // Whatever the function read or left unread, the rest of an oversized or unread body is not
        // worth draining: the connection closes after the answer.
        const finish = (
          status: number,
          answerHeaders: Record<string, string | string[]>,
          text: string | Buffer,
        ) => {
          if (body && !body.ended()) answerHeaders.connection = 'close';
          res.writeHead(status, answerHeaders).end(text, () => {
            if (body && !body.ended()) req.destroy();
          });
        };
        try {
          // The library builds the context; the request is the one object the host makes itself,
          // so that its body streams (docs/architecture.md, "What the in-process host does not reproduce").
          const response = await this.invoke(route.fn, [], {
            adjustInputs: (inputs) => [request, ...inputs],
          });
          if (body?.tooLarge()) return finish(413, {}, '');
          const out = httpOutput(route.fn, response);
          const answerHeaders: Record<string, string | string[]> = { ...(out?.headers ?? {}) };
          if (out?.cookies?.length) answerHeaders['set-cookie'] = out.cookies.map(serializeCookie);
          const bytes = out?.body ? fromRpc(out.body) : undefined;
          const text = Buffer.isBuffer(bytes) ? bytes : typeof bytes === 'string' ? bytes : '';
          finish(out?.statusCode ? Number(out.statusCode) : 200, answerHeaders, text);
        } catch (err) {
          if (body?.tooLarge()) return finish(413, {}, '');
          this.log.warn({ fn: route.fn.name, err: describeError(err) }, 'http function failed');
          finish(500, {}, '');
        }
      })();
    });
    this.httpServer = server;
    await new Promise<void>((resolve) => server.listen(this.options.httpPort ?? 0, '127.0.0.1', resolve));
    this.httpPort = (server.address() as AddressInfo).port;
  }
}

/** The Functions host's default request body limit (`FUNCTIONS_REQUEST_BODY_SIZE_LIMIT`): 100 MB. */
export const defaultRequestLimit = 104_857_600;

/**
 * A request body as a stream the function pulls from, refusing past `limit` bytes as the Functions
 * host does (it answers 413): at once when Content-Length says more, else as soon as more arrived.
 * Nothing is read before the function asks, so a handler that refuses first reads nothing.
 */
function boundedBody(req: http.IncomingMessage, limit: number) {
  let over = false;
  let done = false;
  let seen = 0;
  const declared = Number(req.headers['content-length']);
  const chunks = (req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  const refuse = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    over = true;
    controller.error(new Error(`the request body is larger than ${limit} bytes`));
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (declared > limit) return refuse(controller);
        const next = await chunks.next();
        if (next.done === true) {
          done = true;
          return controller.close();
        }
        seen += next.value.length;
        if (seen > limit) return refuse(controller);
        controller.enqueue(new Uint8Array(next.value));
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, tooLarge: () => over, ended: () => done && !over };
}

/**
 * A route template as the Functions host reads it: `messages/{id}` (one segment), `{name?}`
 * (optional), `{*path}` (catch-all: the rest of the path, possibly empty), under the route prefix.
 */
export function routePattern(prefix: string, template: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const escape = (s: string) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
  const full = [prefix, template.replace(/^\/+|(?<!\/)\/+$/g, '')].filter(Boolean).join('/');
  const source = full
    .split('/')
    .map((segment, i) => {
      const slash = i === 0 ? '' : '/';
      const catchAll = /^\{\*(\w+)\}$/.exec(segment);
      if (catchAll?.[1]) {
        names.push(catchAll[1]);
        return `(?:${slash}(.*))?`;
      }
      return (
        slash +
        segment
          .split(/(\{\w+(?::[^}]*)?\??\})/)
          .map((part) => {
            const param = /^\{(\w+)(?::[^}]*)?\??\}$/.exec(part);
            if (!param?.[1]) return escape(part);
            names.push(param[1]);
            return '([^/]*)';
          })
          .join('')
      );
    })
    .join('');
  return { pattern: new RegExp(`^/${source}/?$`, 'i'), names };
}

/** The HTTP answer of an invocation: its `$return` http binding, else its first http output binding. */
function httpOutput(fn: RegisteredFunction, response: RpcInvocationResponse): RpcHttpData | undefined {
  if (response.returnValue?.http) return response.returnValue.http;
  for (const output of response.outputData ?? []) {
    if (fn.bindings[output.name]?.type.toLowerCase() === 'http' && output.data.http) return output.data.http;
  }
  return undefined;
}

/** A cookie as the library puts it on the wire (`toRpcHttpCookie`), written as a Set-Cookie value. */
function serializeCookie(cookie: RpcHttpCookie): string {
  const parts = [`${cookie.name ?? ''}=${cookie.value ?? ''}`];
  if (cookie.path?.value) parts.push(`Path=${cookie.path.value}`);
  if (cookie.domain?.value) parts.push(`Domain=${cookie.domain.value}`);
  if (cookie.maxAge?.value !== undefined && cookie.maxAge.value !== null)
    parts.push(`Max-Age=${cookie.maxAge.value}`);
  const seconds = cookie.expires?.value?.seconds;
  if (seconds !== undefined && seconds !== null)
    parts.push(`Expires=${new Date(seconds * 1000).toUTCString()}`);
  if (cookie.httpOnly?.value) parts.push('HttpOnly');
  if (cookie.secure?.value) parts.push('Secure');
  const sameSite = { lax: 'Lax', strict: 'Strict', explicitNone: 'None', none: undefined }[
    cookie.sameSite ?? 'none'
  ];
  if (sameSite) parts.push(`SameSite=${sameSite}`);
  return parts.join('; ');
}

/**
 * A queue message's binding data as the Storage Queues extension provides it (QueueTriggerBindingData:
 * Id, DequeueCount, InsertionTime, ExpirationTime, NextVisibleTime, PopReceipt, QueueTrigger);
 * the library camel-cases the names for `context.triggerMetadata`.
 */
export function queueTriggerMetadata(
  m: { messageId: string; dequeueCount: number; insertedOn?: Date; expiresOn?: Date; nextVisibleOn?: Date },
  popReceipt: string,
  text: string,
): Record<string, RpcTypedData> {
  const metadata: Record<string, RpcTypedData> = {
    Id: toRpc(m.messageId),
    DequeueCount: toRpc(m.dequeueCount),
    PopReceipt: toRpc(popReceipt),
    QueueTrigger: toRpc(text),
  };
  if (m.insertedOn) metadata.InsertionTime = toRpc(m.insertedOn.toISOString());
  if (m.expiresOn) metadata.ExpirationTime = toRpc(m.expiresOn.toISOString());
  if (m.nextVisibleOn) metadata.NextVisibleTime = toRpc(m.nextVisibleOn.toISOString());
  return metadata;
}

/** A binding option as text (options arrive untyped from the registration metadata). */
function str(value: unknown, fallback: string): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : fallback;
}

/** "hh:mm:ss" (or "d.hh:mm:ss") → milliseconds. */
function timeSpanMs(value: string): number {
  const m = /^(?:(\d+)\.)?(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(value);
  if (!m) return 1000;
  return (((Number(m[1] ?? 0) * 24 + Number(m[2])) * 60 + Number(m[3])) * 60 + Number(m[4])) * 1000;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
