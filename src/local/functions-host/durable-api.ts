import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConflictError, NotFoundError, type DurableBackend } from './durable-backend.js';
import { describeError } from '../../errors/index.js';

/**
 * The subset of the Durable extension's HTTP API that `DurableClient` (durable-functions v3) calls
 * through `rpcBaseUrl`: start, status, list, terminate, purge. Each function invocation gets its own base
 * URL (`/inv/<invocationId>/`), so the host knows which instances an invocation started or looked
 * at — that is how a queue message is kept until its orchestration has finished.
 */
export class DurableApi {
  private server: http.Server | undefined;
  private port = 0;
  private readonly touched = new Map<string, Set<string>>();

  constructor(private readonly backend: DurableBackend) {}

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
    const base = `http://127.0.0.1:${this.port}/inv/${invocationId}/`;
    return {
      taskHubName: 'sigrelay',
      creationUrls: { createNewInstancePostUri: `${base}orchestrators/{functionName}[/{instanceId}]` },
      managementUrls: { id: 'INSTANCEID', statusQueryGetUri: `${base}instances/INSTANCEID` },
      baseUrl: base,
      requiredQueryStringParameters: '',
      rpcBaseUrl: base,
    };
  }

  /** Instances an invocation started or asked about; forgotten once read. */
  takeTouched(invocationId: string): string[] {
    const set = this.touched.get(invocationId);
    this.touched.delete(invocationId);
    return set ? [...set] : [];
  }

  private touch(invocationId: string, instanceId: string): void {
    let set = this.touched.get(invocationId);
    if (!set) this.touched.set(invocationId, (set = new Set()));
    set.add(instanceId);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const send = (status: number, body?: unknown) => {
      const text = body === undefined ? '' : JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json' }).end(text);
    };
    try {
      if (parts[0] !== 'inv' || !parts[1]) return send(404, { error: 'unknown route' });
      const invocationId = parts[1];
      const [resource, a, b] = parts.slice(2);
      const body = await readBody(req);
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

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
