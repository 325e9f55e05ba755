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
import { DurableBackend } from './durable-backend.js';
import { InstanceTable } from './instance-table.js';
import { instancesTableName, taskHubName } from '../../orchestration/task-hub.js';
import { createStorageClients } from '../../storage/index.js';
import { Ncrontab } from './ncrontab.js';

const { InvocationContext, HttpRequest } = azureFunctions;

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

/** What the handler of an HTTP trigger returns (`HttpResponseInit` of @azure/functions). */
interface HttpAnswer {
  status?: number;
  jsonBody?: unknown;
  body?: unknown;
  headers?: Record<string, string> | Headers | [string, string][];
  cookies?: Cookie[];
}
type Cookie = NonNullable<azureFunctions.HttpResponseInit['cookies']>[number];

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
    const orchestrators = new Map<string, RegisteredFunction['handler']>();
    const activities = new Map<string, RegisteredFunction['handler']>();
    for (const fn of functions) {
      const type = triggerOf(fn).type;
      if (type === 'orchestrationTrigger') orchestrators.set(fn.name, fn.handler);
      if (type === 'activityTrigger') activities.set(fn.name, fn.handler);
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
    this.api = new DurableApi(this.backend);
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

  private context(
    fn: RegisteredFunction,
    triggerMetadata: Record<string, unknown>,
  ): InstanceType<typeof InvocationContext> {
    const invocationId = crypto.randomUUID();
    const trigger = triggerOf(fn);
    const extraInputs = Object.entries(fn.bindings)
      .filter(([, b]) => b.direction === 'in' && !/trigger$/i.test(b.type))
      .map(([name, b]) => ({ ...b, name }));
    const context = new InvocationContext({
      invocationId,
      functionName: fn.name,
      triggerMetadata,
      options: { trigger: { ...trigger }, extraInputs, extraOutputs: [] },
      logHandler: (level, ...args) => {
        if (level === 'error' || level === 'warning')
          this.log.warn({ fn: fn.name, invocationId }, args.map(String).join(' '));
      },
    });
    for (const input of extraInputs) {
      if (input.type === 'durableClient' || input.type === 'orchestrationClient') {
        context.extraInputs.set(input.name, this.api.clientData(invocationId));
      }
    }
    return context;
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
      const context = this.context(fn, {
        id: m.messageId,
        dequeueCount: m.dequeueCount,
        insertionTime: m.insertedOn,
      });
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
        await fn.handler(parseJson(text), context);
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
      for (const id of this.api.takeTouched(context.invocationId)) {
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

  private scheduleTimer(fn: RegisteredFunction, trigger: BindingMetadata): void {
    const schedule = new Ncrontab(String(trigger.schedule));
    const arm = () => {
      if (this.stopped) return;
      const next = schedule.next(new Date());
      const t = setTimeout(() => {
        const context = this.context(fn, {});
        const p = Promise.resolve(fn.handler({ isPastDue: false, scheduleStatus: {} }, context)).then(
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
          const out = (await route.fn.handler(request, this.context(route.fn, {}))) as HttpAnswer | undefined;
          if (body?.tooLarge()) return finish(413, {}, '');
          const answerHeaders: Record<string, string | string[]> = Object.fromEntries(
            new Headers(out?.headers ?? {}).entries(),
          );
          let text: string | Buffer = '';
          if (out?.jsonBody !== undefined) {
            text = JSON.stringify(out.jsonBody);
            answerHeaders['content-type'] ??= 'application/json';
          } else if (typeof out?.body === 'string' || Buffer.isBuffer(out?.body)) text = out.body;
          else if (out?.body instanceof Uint8Array) text = Buffer.from(out.body);
          if (out?.cookies?.length) answerHeaders['set-cookie'] = out.cookies.map(serializeCookie);
          finish(out?.status ?? 200, answerHeaders, text);
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

function serializeCookie(cookie: Cookie): string {
  const parts = [`${cookie.name}=${cookie.value}`];
  if (cookie.path) parts.push(`Path=${cookie.path}`);
  if (cookie.domain) parts.push(`Domain=${cookie.domain}`);
  if (cookie.maxAge !== undefined) parts.push(`Max-Age=${cookie.maxAge}`);
  if (cookie.expires) parts.push(`Expires=${new Date(cookie.expires).toUTCString()}`);
  if (cookie.httpOnly) parts.push('HttpOnly');
  if (cookie.secure) parts.push('Secure');
  if (cookie.sameSite) parts.push(`SameSite=${cookie.sameSite}`);
  return parts.join('; ');
}

/** A binding option as text (options arrive untyped from the registration metadata). */
function str(value: unknown, fallback: string): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : fallback;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
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
