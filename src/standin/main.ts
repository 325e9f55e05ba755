import fs from 'node:fs';
import http from 'node:http';
import { describeError } from '../errors/index.js';
import { createLogger } from '../log/index.js';
import { ExchangeStandin, type StandinBehaviour } from './index.js';

/**
 * The Exchange Online stand-in as its own process. Env: SIGRELAY_STANDIN_PORT, SIGRELAY_STANDIN_CERT,
 * SIGRELAY_STANDIN_KEY, SIGRELAY_STANDIN_CA, SIGRELAY_OUTBOX; optional SIGRELAY_STANDIN_CONTROL_PORT
 * serves `PUT /behaviour` (JSON StandinBehaviour) so fault tests can change its answers.
 */
async function main(): Promise<void> {
  const env = process.env;
  const log = createLogger('standin');
  const need = (name: string) => {
    const v = env[name];
    if (!v) throw new Error(`${name} is not set`);
    return v;
  };
  const standin = new ExchangeStandin({
    tls: {
      cert: fs.readFileSync(need('SIGRELAY_STANDIN_CERT')),
      key: fs.readFileSync(need('SIGRELAY_STANDIN_KEY')),
      ca: fs.readFileSync(need('SIGRELAY_STANDIN_CA')),
    },
    outbox: need('SIGRELAY_OUTBOX'),
  });
  const port = await standin.listen(
    Number(env.SIGRELAY_STANDIN_PORT ?? 2526),
    env.SIGRELAY_STANDIN_HOST ?? '127.0.0.1',
  );
  log.info({ port, outbox: env.SIGRELAY_OUTBOX }, 'exchange online stand-in listening');
  if (env.SIGRELAY_STANDIN_CONTROL_PORT) {
    http
      .createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          if (req.method === 'PUT' && req.url === '/behaviour') {
            standin.behaviour = JSON.parse(
              Buffer.concat(chunks).toString('utf8') || '{}',
            ) as StandinBehaviour;
            log.info({ behaviour: standin.behaviour }, 'behaviour changed');
            return void res.writeHead(204).end();
          }
          res.writeHead(404).end();
        });
      })
      .listen(Number(env.SIGRELAY_STANDIN_CONTROL_PORT), '127.0.0.1');
  }
  const stop = () => void standin.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(`sigrelay stand-in: ${describeError(err)}`);
  process.exit(1);
});
