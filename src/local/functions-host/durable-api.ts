import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConflictError, NotFoundError, type DurableBackend } from './durable-backend.js';
import { describeError } from '../../errors/index.js';

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
      taskHubName: 'sigrelay',
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

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let parts: string[];
    const send = (status: number, body?: unknown) => {
      const text = body === undefined ? '' : JSON.stringify(body);
      const close = req.complete ? {} : { connection: 'close' };
      res.writeHead(status, { 'content-type': 'application/json', ...close }).end(text, () => {
        if (!req.complete) req.destroy();
      });
    };
    try {
      parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    } catch {
      return send(400, { error: 'malformed path' });
    }
    // Before anything is read: the key, in the path (the in-process client), `code` or the header.
    const header = req.headers['x-functions-key'];
    const elsewhere = [url.searchParams.get('code'), typeof header === 'string' ? header : null];
    if (parts[0] !== undefined && this.isKey(parts[0])) parts = parts.slice(1);
    else if (!elsewhere.some((k) => k !== null && this.isKey(k)))
      return send(401, { error: 'the durable API needs the host system key (code)' });
    try {
      if (parts[0] !== 'inv' || !parts[1]) return send(404, { error: 'unknown route' });
      const invocationId = parts[1];
      const [resource, a, b] = parts.slice(2);
      const body = await readBody(req);
      if (body === undefined) return send(413, { error: `the body is larger than ${bodyMaxBytes} bytes` });
      if (req.method === 'POST' && resource === 'orchestrators' && a) {
        const input = body ? (JSON.parse(body) as unknown) : null;
        const status = this.backend.start(a, b, input);
        this.touch(invocationId, status.instanceId);
        return send(202, { id: status.instanceId });
      }
      if (req.method === 'GET' && resource === 'instances' && a) {
        this.touch(invocationId, a);
        const status = this.backend.get(a);
        return status ? send(200, status) : send(404);
      }
      if (req.method === 'GET' && resource === 'instances') return send(200, this.backend.list());
      if (req.method === 'DELETE' && resource === 'instances' && !a) {
        const q = url.searchParams;
        const statuses = new Set((q.get('runtimeStatus') ?? 'Completed,Failed,Terminated').split(','));
        const deleted = this.backend.purge(
          new Date(q.get('createdTimeFrom') ?? 0),
          new Date(q.get('createdTimeTo') ?? Date.now()),
          statuses,
        );
        return deleted > 0 ? send(200, { instancesDeleted: deleted }) : send(404);
      }
      if (req.method === 'POST' && resource === 'instances' && a && b === 'terminate') {
        this.backend.terminate(a, url.searchParams.get('reason') ?? 'terminated');
        return send(202);
      }
      return send(501, { error: `the local host does not implement ${req.method} ${url.pathname}` });
    } catch (err) {
      if (err instanceof ConflictError) return send(409, { error: err.message });
      if (err instanceof NotFoundError) return send(404, { error: err.message });
      return send(500, { error: describeError(err) });
    }
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
