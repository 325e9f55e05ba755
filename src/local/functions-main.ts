import path from 'node:path';
import { projectRoot } from '../config/index.js';
import { describeError } from '../errors/index.js';
import { createLogger } from '../log/index.js';
import { createStorageClients, ensureStorage } from '../storage/index.js';
import { loadSettings } from '../config/index.js';
import { LocalFunctionsHost } from './functions-host/index.js';

/** The functions app without Core Tools: loads dist/functions/*.js and serves their triggers. */
async function main(): Promise<void> {
  const log = createLogger('functions-host');
  const settings = loadSettings();
  await ensureStorage(createStorageClients(settings.storage));
  const host = await LocalFunctionsHost.create({
    functionsDir: path.join(projectRoot, 'dist', 'functions'),
    hostJson: path.join(projectRoot, 'host.json'),
    env: process.env,
    logger: log,
    httpPort: Number(process.env.SIGRELAY_FUNCTIONS_PORT ?? 7071),
    functionKey: process.env.SIGRELAY_FUNCTIONS_KEY,
    queueRetrySeconds: process.env.SIGRELAY_QUEUE_RETRY_SECONDS
      ? Number(process.env.SIGRELAY_QUEUE_RETRY_SECONDS)
      : undefined,
    queueLeaseSeconds: process.env.SIGRELAY_QUEUE_LEASE_SECONDS
      ? Number(process.env.SIGRELAY_QUEUE_LEASE_SECONDS)
      : undefined,
  });
  await host.start();
  log.info({ functions: host.describe(), httpPort: host.httpPort }, 'local functions host running');
  const stop = (signal: string) => {
    log.info({ signal }, 'stopping: finishing invocations in flight');
    void host.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(`sigrelay functions host: ${describeError(err)}`);
  process.exit(1);
});
