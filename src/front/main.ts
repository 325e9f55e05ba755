import fs from 'node:fs';
import http from 'node:http';
import { frontRequiresTls, loadSettings, loadTenants, type TenantDirectory } from '../config/index.js';
import { describeError } from '../errors/index.js';
import { createLogger } from '../log/index.js';
import { createStorageClients, ensureStorage, MessageStore } from '../storage/index.js';
import { FrontServer } from './front-server.js';
import { basicPolicy } from './policy.js';
import { installReplyCodes } from './wire.js';

/** The SMTP front's process: config, logger, storage, server, health endpoints, signals. */
async function main(): Promise<void> {
  const settings = loadSettings();
  const log = createLogger('front');
  installReplyCodes();
  if (!settings.smtp.certFile || !settings.smtp.keyFile) {
    throw new Error('SIGRELAY_TLS_CERT and SIGRELAY_TLS_KEY must name the certificate and key files');
  }
  let tenants: TenantDirectory = await loadTenants(settings.configDir);
  const storage = createStorageClients(settings.storage);
  if (settings.profile === 'local') await ensureStorage(storage);
  const front = new FrontServer({
    hostname: settings.smtp.hostname,
    tls: { cert: fs.readFileSync(settings.smtp.certFile), key: fs.readFileSync(settings.smtp.keyFile) },
    maxMessageBytes: settings.smtp.maxMessageBytes,
    maxRecipients: settings.smtp.maxRecipients,
    policy: basicPolicy({ tenants: () => tenants, requireTls: frontRequiresTls(settings) }),
    store: new MessageStore(storage),
    storage,
    logger: log,
  });
  const port = await front.listen(settings.smtp.port, settings.smtp.host);
  log.info(
    { host: settings.smtp.host, port, requireTls: frontRequiresTls(settings), profile: settings.profile },
    'smtp front listening',
  );

  // A bad edit of tenants.json must not take the front down: keep the last good directory.
  fs.watchFile(`${settings.configDir}/tenants.json`, { interval: 2000 }, () => {
    loadTenants(settings.configDir).then(
      (next) => {
        tenants = next;
        log.info({ tenants: next.tenants.length }, 'tenants reloaded');
      },
      (err: unknown) =>
        log.error({ err: describeError(err) }, 'tenants.json is invalid; keeping the previous tenants'),
    );
  });

  let health: http.Server | undefined;
  if (settings.smtp.healthPort !== undefined) {
    health = http
      .createServer((req, res) => {
        if (req.url === '/healthz') return void res.writeHead(200).end('ok');
        if (req.url === '/readyz') {
          storage.inbound.exists().then(
            (ok) => res.writeHead(ok ? 200 : 503).end(ok ? 'ready' : 'storage container missing'),
            () => res.writeHead(503).end('storage unreachable'),
          );
          return;
        }
        res.writeHead(404).end();
      })
      .listen(settings.smtp.healthPort, settings.smtp.host);
  }

  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down: no new connections, finishing transactions in flight');
    fs.unwatchFile(`${settings.configDir}/tenants.json`);
    health?.close();
    void front.close().then(() => {
      log.info('smtp front stopped');
      process.exit(0);
    });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(`sigrelay front: ${describeError(err)}`);
  process.exit(1);
});
