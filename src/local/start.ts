import path from 'node:path';
import { ConfigError, loadSettings, projectRoot } from '../config/index.js';
import { localTraceTablePort } from '../storage/index.js';
import { defaultAzuritePorts, type AzuritePorts } from './azurite.js';
import { deliveryFromEnv, LocalStack } from './stack.js';
import { Supervisor } from './supervisor.js';

/** `npm start`: the whole loop on this machine, on fixed, documented ports, supervised. */
async function main(): Promise<void> {
  const dataDir = process.env.SIGRELAY_DATA_DIR ?? path.join(projectRoot, '.data');
  // A bad SIGRELAY_DELIVERY_HOST (or any other setting) is said once here, not by every restart.
  loadSettings();
  const delivery = deliveryFromEnv(process.env);
  const stack = new LocalStack({
    dataDir,
    configDir: process.env.SIGRELAY_CONFIG,
    smtpPort: Number(process.env.SIGRELAY_SMTP_PORT ?? 2525),
    standinPort: Number(process.env.SIGRELAY_STANDIN_PORT ?? 2526),
    functionsPort: Number(process.env.SIGRELAY_FUNCTIONS_PORT ?? 7071),
    // Azurite's standard ports, so `npx sigrelay trace …` and Storage Explorer find it without setup.
    azuritePorts: azuritePortsFrom(process.env.SIGRELAY_AZURITE_PORTS) ?? defaultAzuritePorts,
    // The trace in memory, on a fixed port the CLI knows (docs/operations.md: what that costs a user),
    // unless the user named a store for it (e.g. UseDevelopmentStorage=true to keep it across restarts).
    traceTablePort: process.env.SIGRELAY_TRACE_STORAGE_CONNECTION
      ? undefined
      : Number(process.env.SIGRELAY_TRACE_TABLE_PORT ?? localTraceTablePort),
    functionsRuntime: process.env.SIGRELAY_FUNCTIONS_RUNTIME === 'local' ? 'local' : undefined,
    delivery,
    // The in-memory trace store holds what retention keeps: a day instead of a week bounds its memory.
    // The sweeper drops a day's table once its last hour is a day old, so today and yesterday stay.
    env: { SIGRELAY_TRACE_RETENTION_DAYS: process.env.SIGRELAY_TRACE_RETENTION_DAYS ?? '1' },
  });
  // Says which runtime the stack and its children run on: the pinned one (package.json's `node`
  // dev dependency) when started through npm, whatever Node is on the machine's PATH.
  console.log(`sigrelay: starting the local loop on Node ${process.version} (${process.execPath})…`);
  await stack.start();
  const supervisor = new Supervisor(stack, { report: (text) => console.error(text) });
  const { ports, azurite } = stack;
  const env = stack.env();
  const deliversTo = delivery
    ? `${stack.deliveryHost} (from SIGRELAY_DELIVERY_HOST, TLS ${env.SIGRELAY_DELIVERY_TLS})`
    : `the Exchange stand-in, smtp://${stack.deliveryHost} (TLS ${env.SIGRELAY_DELIVERY_TLS})`;
  console.log(`
  sigrelay is running (Ctrl-C stops everything; a part that crashes is restarted)

  SMTP front            smtp://127.0.0.1:${ports.smtp}  (STARTTLS with the dev CA; ${env.SIGRELAY_REQUIRE_TLS === 'true' ? 'required' : 'optional on loopback'})
  Functions app         ${stack.functionsRuntime === 'func' ? 'Azure Functions Core Tools (func start)' : 'in-process host (Core Tools not found)'} — HTTP on 127.0.0.1:${ports.functions}, key ${stack.functionKey}
  Delivers to           ${deliversTo}
  Exchange stand-in     smtp://127.0.0.1:${ports.standin}  → ${stack.outbox}
  Azurite               blob ${azurite.ports.blob}, queue ${azurite.ports.queue}, table ${azurite.ports.table} (data in ${azurite.location})
  Message trace         table ${stack.traceStore?.ports.table ?? azurite.ports.table}, in memory: it starts empty when the stack restarts
  Dev certificates      ${stack.pki.dir}
  Logs                  ${stack.logDir}
  Config                ${env.SIGRELAY_CONFIG}

  Try:  npm run send-sample      then:  npx sigrelay status
`);
  console.log(`admin console: http://127.0.0.1:${ports.functions}/admin\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\nsigrelay: ${signal}: stopping (front, functions, stand-in, then Azurite)…`);
    void supervisor
      .stop()
      .then(() => stack.stop((part) => console.log(`sigrelay: ${part} stopped`)))
      .then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** `SIGRELAY_AZURITE_PORTS=blob,queue,table` moves Azurite off 10000–10002 (a second stack, a test). */
function azuritePortsFrom(value: string | undefined): AzuritePorts | undefined {
  if (!value) return undefined;
  const ports = value.split(',').map(Number);
  const [blob, queue, table] = ports;
  if (ports.length !== 3 || !ports.every((p) => Number.isInteger(p) && p > 0 && p < 65536))
    throw new ConfigError(
      'environment',
      'SIGRELAY_AZURITE_PORTS',
      `expected blob,queue,table ports, got "${value}"`,
    );
  return { blob: blob as number, queue: queue as number, table: table as number };
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(`sigrelay: configuration error: ${err.message}`);
  else console.error(`sigrelay: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
