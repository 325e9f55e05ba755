import path from 'node:path';
import { projectRoot } from '../config/index.js';
import { defaultAzuritePorts } from './azurite.js';
import { LocalStack } from './stack.js';

/** `npm start`: the whole loop on this machine, on fixed, documented ports. */
async function main(): Promise<void> {
  const dataDir = process.env.SIGRELAY_DATA_DIR ?? path.join(projectRoot, '.data');
  const stack = new LocalStack({
    dataDir,
    configDir: process.env.SIGRELAY_CONFIG,
    smtpPort: Number(process.env.SIGRELAY_SMTP_PORT ?? 2525),
    standinPort: 2526,
    functionsPort: Number(process.env.SIGRELAY_FUNCTIONS_PORT ?? 7071),
    // Azurite's standard ports, so `npx sigrelay trace …` and Storage Explorer find it without setup.
    azuritePorts: defaultAzuritePorts,
    functionsRuntime: process.env.SIGRELAY_FUNCTIONS_RUNTIME === 'local' ? 'local' : undefined,
  });
  console.log('sigrelay: starting the local loop…');
  await stack.start();
  const { ports, azurite } = stack;
  console.log(`
  sigrelay is running (Ctrl-C stops everything)

  SMTP front            smtp://127.0.0.1:${ports.smtp}  (STARTTLS with the dev CA; ${stack.env().SIGRELAY_REQUIRE_TLS === 'true' ? 'required' : 'optional on loopback'})
  Functions app         ${stack.functionsRuntime === 'func' ? 'Azure Functions Core Tools (func start)' : 'in-process host (Core Tools not found)'} — HTTP on 127.0.0.1:${ports.functions}, key ${stack.functionKey}
  Exchange stand-in     smtp://127.0.0.1:${ports.standin}  → ${stack.outbox}
  Azurite               blob ${azurite.ports.blob}, queue ${azurite.ports.queue}, table ${azurite.ports.table} (data in ${azurite.location})
  Dev certificates      ${stack.pki.dir}
  Logs                  ${stack.logDir}
  Config                ${stack.env().SIGRELAY_CONFIG}

  Try:  npm run send-sample
`);
  console.log(`admin console: http://127.0.0.1:${ports.functions}/admin\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    console.log('\nsigrelay: stopping…');
    void stack.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`sigrelay: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
