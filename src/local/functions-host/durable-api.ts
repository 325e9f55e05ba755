import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { UnknownOrchestratorError, type DurableBackend, type InstanceStatus } from './durable-backend.js';

/**
 * The subset of the Durable extension's HTTP API that `DurableClient` (durable-functions v3) calls
 * through `rpcBaseUrl`: start, status, list, terminate, purge. Each function invocation gets its own base
 * URL (`/inv/<invocationId>/`), so the host knows which instances an invocation started or looked
 * at — that is how a queue message is kept until its orchestration has finished.
 *
 * Like the Durable extension's webhooks (which want the `durabletask_extension` system key as
 * `code`), every request needs the host's system key — in `code`, in `x-functions-key`, or as the
 * first path segment, which is how the in-process client sends it: durable-functions builds its
 * calls relative to `rpcBaseUrl` and drops any query string there. Loopback alone is no protection
 * against another local process or a browser page posting to 127.0.0.1.
 */
export class DurableApi {
  private server: http.Server | undefined;
  private port = 0;
  private readonly touched = new Map<string, Set<string>>();
  readonly systemKey: string;

  constructor(
    private readonly backend: DurableBackend,
    systemKey?: string,
    /** The task hub the clients are told about (`taskHubName` reads it from host.json). */
    private readonly hubName = 'TestHubName',
  ) {
    this.systemKey = systemKey ?? crypto.randomBytes(24).toString('base64url');
  }

  /** The API's base URL (for tests and tools; pass `systemKey` as `code`). */
  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  async listen(): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server) return resolve();
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  /** The durable client input binding value for one invocation. */
  clientData(invocationId: string): Record<string, unknown> {
    const base = `http://127.0.0.1:${this.port}/${this.systemKey}/inv/${invocationId}/`;
    return {
      taskHubName: this.hubName,
      creationUrls: { createNewInstancePostUri: `${base}orchestrators/{functionName}[/{instanceId}]` },
      managementUrls: { id: 'INSTANCEID', statusQueryGetUri: `${base}instances/INSTANCEID` },
      baseUrl: base,
      requiredQueryStringParameters: `code=${this.systemKey}`,
      rpcBaseUrl: base,
    };
  }

  /** Instances an invocation started or asked about; forgotten once read. */
  takeTouched(invocationId: string): string[] {
    const set = this.touched.get(invocationId);
    this.touched.delete(invocationId);
    return set ? [...set] : [];
  }

  private isKey(candidate: string): boolean {
    const a = Buffer.from(candidate);
    const b = Buffer.from(this.systemKey);
    return a.length === b.length && crypto.timingSafeEqual(a, b);
  }

  private touch(invocationId: string, instanceId: string): void {
    let set = this.touched.get(invocationId);
    if (!set) this.touched.set(invocationId, (set = new Set()));
    set.add(instanceId);
  }

  /**
   * Answers as the extension's `HttpApiHandler` does (azure-functions-durable-extension
   * `src/WebJobs.Extensions.DurableTask/HttpApiHandler.cs`); the rows of
   * docs/host-conformance.md list each answer with its source.
   */
  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let parts: string[];
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      const text = body === undefined ? '' : JSON.stringify(body);
      const close = req.complete ? {} : { connection: 'close' };
      const type = body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' };
      res.writeHead(status, { ...type, ...headers, ...close }).end(text, () => {
        if (!req.complete) req.destroy();
      });
    };
    try {
      parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return send(400, { Message: 'malformed path' });
    }
    // Before anything is read: the key, in the path (the in-process client), `code` or the header.
    const header = req.headers['x-functions-key'];
    const elsewhere = [url.searchParams.get('code'), typeof header === 'string' ? header : null];
    if (parts[0] !== undefined && this.isKey(parts[0])) parts = parts.slice(1);
    else if (!elsewhere.some((k) => k !== null && this.isKey(k)))
      return send(401, { Message: 'the durable API needs the host system key (code)' });
    if (parts[0] !== 'inv' || !parts[1]) return send(404);
    const invocationId = parts[1];
    const [resource, a, b] = parts.slice(2);
    const body = await readBody(req);
    if (body === undefined) return send(413, { Message: `the body is larger than ${bodyMaxBytes} bytes` });
    const base = `http://127.0.0.1:${this.port}/${this.systemKey}/inv/${invocationId}/`;
    const answer = durableHttpAnswer(this.backend, {
      method: req.method ?? 'GET',
      resource,
      a,
      b,
      query: url.searchParams,
      body,
      base,
    });
    if (answer.touched) this.touch(invocationId, answer.touched);
    return send(answer.status, answer.body, answer.headers);
  }
}

/** One answer of the durable HTTP API: status, JSON body (none when undefined), headers. */
export interface DurableHttpAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** The instance the request started or asked about. */
  touched?: string;
}

/** `CreateErrorResponse(status, message, exception)` of the extension's HttpRequestMessageExtensions.cs. */
function errorBody(message: string, err: Error & { exceptionType?: string }) {
  return {
    Message: message,
    ExceptionMessage: err.message,
    ExceptionType: err.exceptionType ?? 'System.Exception',
    StackTrace: null,
  };
}

/** `StatusResponsePayload`, with times as .NET's `ToString("s") + "Z"` writes them (no fraction). */
function statusPayload(status: InstanceStatus) {
  const seconds = (iso: string) => `${iso.slice(0, 19)}Z`;
  return {
    name: status.name,
    instanceId: status.instanceId,
    runtimeStatus: status.runtimeStatus,
    input: status.input,
    customStatus: status.customStatus,
    output: status.output,
    createdTime: seconds(status.createdTime),
    lastUpdatedTime: seconds(status.lastUpdatedTime),
  };
}

/**
 * The extension's HTTP API over the local backend, as a function of the request: what
 * `HttpApiHandler.HandleRequestAsync` answers for start, status, list, terminate and purge.
 */
export function durableHttpAnswer(
  backend: DurableBackend,
  request: {
    method: string;
    resource: string | undefined;
    a: string | undefined;
    b: string | undefined;
    query: URLSearchParams;
    body: string;
    base: string;
  },
): DurableHttpAnswer {
  const { method, resource, a, b, query, body, base } = request;
  try {
    if (method === 'POST' && resource === 'orchestrators' && a) {
      let input: unknown = null;
      try {
        input = body ? (JSON.parse(body) as unknown) : null;
      } catch (err) {
        return { status: 400, body: errorBody('Invalid JSON content', err as Error) };
      }
      const status = backend.start(a, b, input);
      const id = status.instanceId;
      const statusQueryGetUri = `${base}instances/${encodeURIComponent(id)}`;
      // `CreateCheckStatusResponse`: 202, Location = the status URL, the management URLs as body.
      return {
        status: 202,
        touched: id,
        headers: { location: statusQueryGetUri },
        body: {
          id,
          statusQueryGetUri,
          sendEventPostUri: `${statusQueryGetUri}/raiseEvent/{eventName}`,
          terminatePostUri: `${statusQueryGetUri}/terminate?reason={text}`,
          purgeHistoryDeleteUri: statusQueryGetUri,
        },
      };
    }
    if (method === 'GET' && resource === 'instances' && a) {
      const status = backend.get(a);
      if (!status) return { status: 404, touched: a };
      // Running or Pending: 202 with Location and "Retry-After: 5"; finished: 200.
      if (!backend.isTerminal(status.runtimeStatus)) {
        return {
          status: 202,
          touched: a,
          body: statusPayload(status),
          headers: { location: `${base}instances/${encodeURIComponent(a)}`, 'retry-after': '5' },
        };
      }
      return { status: 200, touched: a, body: statusPayload(status) };
    }
    if (method === 'GET' && resource === 'instances')
      return { status: 200, body: backend.list().map(statusPayload) };
    if (method === 'DELETE' && resource === 'instances' && a) {
      if (!backend.get(a)) return { status: 404 };
      return { status: 200, body: { instancesDeleted: backend.purgeOne(a) } };
    }
    if (method === 'DELETE' && resource === 'instances') {
      const from = query.get('createdTimeFrom');
      if (!from || Number.isNaN(Date.parse(from)))
        return { status: 400, body: "Please provide value for 'createdTimeFrom' parameter." };
      const to = query.get('createdTimeTo');
      const statuses = new Set(
        (query.get('runtimeStatus') ?? 'Completed,Failed,Terminated').split(',').filter(Boolean),
      );
      const deleted = backend.purge(
        new Date(from),
        to && !Number.isNaN(Date.parse(to)) ? new Date(to) : new Date(),
        statuses,
      );
      return deleted > 0 ? { status: 200, body: { instancesDeleted: deleted } } : { status: 404 };
    }
    if (method === 'POST' && resource === 'instances' && a && b === 'terminate') {
      const status = backend.get(a);
      if (!status) return { status: 404 };
      if (backend.isTerminal(status.runtimeStatus)) return { status: 410 };
      backend.terminate(a, query.get('reason') ?? '');
      return { status: 202 };
    }
    return { status: 404 };
  } catch (err) {
    if (err instanceof UnknownOrchestratorError)
      return { status: 400, body: errorBody('One or more of the arguments submitted is incorrect', err) };
    // OrchestrationAlreadyExistsException (like any other) is no ArgumentException: the handler's
    // last catch answers 500 with the exception in the body — not 409.
    const error = err instanceof Error ? err : new Error(String(err));
    return { status: 500, body: errorBody('Something went wrong while processing your request', error) };
  }
}

/** An orchestration's input is a small claim-check; anything near this is not one. */
const bodyMaxBytes = 4 * 1024 * 1024;

/** The body as text, or undefined as soon as it is (or says it is) larger than `bodyMaxBytes`. */
async function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  if (Number(req.headers['content-length']) > bodyMaxBytes) return undefined;
  const chunks: Buffer[] = [];
  let seen = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    seen += chunk.length;
    if (seen > bodyMaxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
