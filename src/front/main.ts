import fs from 'node:fs';
import type http from 'node:http';
import { frontRequiresTls, loadSettings } from '../config/index.js';
import { describeError } from '../errors/index.js';
import { createLogger } from '../log/index.js';
import { SenderRateLimiter } from '../ratelimit/index.js';
import { createStorageClients, ensureStorage, MessageIntake, MessageStore, names } from '../storage/index.js';
import { startTelemetry, telemetry } from '../telemetry/index.js';
import { allowlistFor } from './allowlist.js';
import { CertificateFiles } from './certificate.js';
import { FrontServer, frontLimits } from './front-server.js';
import { startHealthServer } from './health.js';
import { createAdmission } from './admission.js';
import { watchTenants } from './tenant-source.js';

/** The SMTP front's process: config, logger, storage, server, health endpoints, signals. */
async function main(): Promise<void> {
  const settings = loadSettings();
  const smtp = settings.smtp;
  const log = createLogger('front');
  const exporter = await startTelemetry({ service: 'front' });
  if (!smtp.certFile || !smtp.keyFile) {
    throw new Error('SIGRELAY_TLS_CERT and SIGRELAY_TLS_KEY must name the certificate and key files');
  }
  const allowlist = allowlistFor(settings.profile, smtp.allowedClients);
  const certificate = new CertificateFiles({ certFile: smtp.certFile, keyFile: smtp.keyFile });
  const pair = await certificate.load();
  const storage = createStorageClients(settings.storage);
  if (settings.profile === 'local') await ensureStorage(storage);
  const tenants = await watchTenants(settings.configDir, storage, log);
  const requireTls = frontRequiresTls(settings);
  const rateLimiter = new SenderRateLimiter(storage.table(names.limitsTable), {
    syncIntervalMs: smtp.rateSyncIntervalMs,
    logger: log,
  });
  rateLimiter.start();
  const front = new FrontServer({
    hostname: smtp.hostname,
    tls: pair,
    clientCertificate: smtp.requireClientCert
      ? {
          name: smtp.clientCertName,
          ...(smtp.clientCaFile ? { ca: fs.readFileSync(smtp.clientCaFile) } : {}),
        }
      : undefined,
    limits: frontLimits(smtp),
    admission: createAdmission({
      tenants: () => tenants.current(),
      allowlist,
      requireTls,
      rateLimiter,
    }),
    intake: new MessageIntake(new MessageStore(storage), storage.inboundQueue, log, storage.rest),
    logger: log,
  });
  certificate.watch(smtp.certReloadIntervalMs, log, (next) => front.updateCertificate(next));
  telemetry.observeReadiness(
    () => !front.draining && certificate.pair !== undefined && tenants.current().tenants.length > 0,
  );
  const port = await front.listen(smtp.port, smtp.host);
  log.info(
    {
      host: smtp.host,
      port,
      requireTls,
      requireClientCert: smtp.requireClientCert,
      allowedClients: allowlist.cidrs,
      profile: settings.profile,
      telemetry: exporter.mode,
    },
    'smtp front listening',
  );

  let health: http.Server | undefined;
  if (smtp.healthPort !== undefined) {
    health = await startHealthServer(smtp.healthPort, smtp.host, {
      draining: () => Promise.resolve(front.draining ? 'shutting down' : undefined),
      storage: async () => ((await storage.inbound.exists()) ? undefined : 'inbound container missing'),
      certificate: () => Promise.resolve(certificate.pair ? undefined : 'no certificate loaded'),
      config: () =>
        Promise.resolve(tenants.current().tenants.length > 0 ? undefined : 'no tenants configured'),
    });
  }

  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down: no new connections, finishing transactions in flight');
    tenants.stop();
    certificate.stop();
    void front
      .close()
      .then(() => rateLimiter.stop())
      .then(() =>
        exporter
          .shutdown()
          .catch((err: unknown) => log.warn({ err: describeError(err) }, 'flushing telemetry failed')),
      )
      .then(() => {
        health?.close();
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
