import http from 'node:http';
import { describeError } from '../errors/index.js';

/** A readiness check: resolves to undefined when fine, or to what is wrong. */
export type ReadinessCheck = () => Promise<string | undefined>;

/** A check that hangs counts as failed: a probe must answer before Container Apps gives up on it. */
const checkTimeoutMs = 3000;

/**
 * `/healthz`: the process is alive (liveness, startup). `/readyz`: every check passes, so this
 * replica may take SMTP traffic; anything else is 503 and the replica leaves the port-25 pool
 * (draining on SIGTERM is one such check). Answers JSON naming each check.
 */
export function startHealthServer(
  port: number,
  host: string,
  checks: Record<string, ReadinessCheck>,
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end();
    if (req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    if (req.url !== '/readyz') return void res.writeHead(404).end();
    void runChecks(checks).then((results) => {
      const ready = Object.values(results).every((r) => r === 'ok');
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ ready, checks: results }));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

async function runChecks(checks: Record<string, ReadinessCheck>): Promise<Record<string, string>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<string>((resolve) => {
        timer = setTimeout(() => resolve(`no answer within ${checkTimeoutMs} ms`), checkTimeoutMs);
      });
      try {
        const problem = await Promise.race([check(), timeout]);
        return [name, problem ?? 'ok'] as const;
      } catch (err) {
        return [name, describeError(err)] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries);
}
