import net from 'node:net';
import { loadSettings } from '../../config/index.js';
import { explainTraceEvent, explanationLine } from '../../exchange/index.js';
import {
  azuriteConnectionString,
  createStorageClients,
  defaultAzuritePorts,
  localTraceTablePort,
  type StorageConnection,
} from '../../storage/index.js';
import { MessageTrace, type TraceRecord } from '../../trace/index.js';
import { UsageError, type TraceOptions } from '../usage.js';

/** `sigrelay trace <message-id>` or `sigrelay trace --sender addr [--since 1h] [--json]` */
export async function run(id: string | undefined, values: TraceOptions): Promise<number> {
  if (!id && !values.sender)
    throw new UsageError('sigrelay trace', 'name a message id, or pass --sender <address>');
  const settings = loadSettings();
  const trace = new MessageTrace(createStorageClients(await cliStorage(settings.storage)).traceTable);
  if (id) {
    const events = await trace.forMessage(id);
    if (values.json) console.log(JSON.stringify({ id, events: events.map(withExplanation) }, null, 2));
    else print(id, events);
    if (events.length === 0)
      console.error(
        `no trace for ${id} (retention is ${process.env.SIGRELAY_TRACE_RETENTION_DAYS ?? 7} days)`,
      );
    return events.length === 0 ? 1 : 0;
  }
  const since = parseSince(values.since);
  if (!since)
    throw new UsageError('sigrelay trace', `--since must look like 30m, 1h or 2d (got "${values.since}")`);
  const byMessage = await trace.forSender(values.sender ?? '', since);
  if (values.json)
    console.log(
      JSON.stringify(
        Object.fromEntries([...byMessage].map(([m, events]) => [m, events.map(withExplanation)])),
        null,
        2,
      ),
    );
  else for (const [messageId, events] of byMessage) print(messageId, events);
  if (byMessage.size === 0) console.error(`no messages from ${values.sender} since ${since.toISOString()}`);
  return 0;
}

/**
 * The local stack's Azurite when nothing is configured (what `npm start` runs), with the trace in
 * its in-memory table service when one listens on its port (an Azurite of your own under `func
 * start` has none: the trace is then beside everything else), unless SIGRELAY_TRACE_STORAGE_CONNECTION
 * says where it is.
 */
export async function cliStorage(storage: StorageConnection): Promise<StorageConnection> {
  if (storage.connectionString || storage.accountName) return storage;
  const local = { connectionString: 'UseDevelopmentStorage=true' };
  if (storage.traceConnectionString)
    return { ...local, traceConnectionString: storage.traceConnectionString };
  if (!(await listens(localTraceTablePort))) return local;
  return {
    ...local,
    traceConnectionString: azuriteConnectionString({ ...defaultAzuritePorts, table: localTraceTablePort }),
  };
}

function listens(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function parseSince(value: string | undefined): Date | undefined {
  const m = /^(\d+)\s*([mhd])$/.exec(value ?? '');
  if (!m) return undefined;
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
  return new Date(Date.now() - Number(m[1]) * unit);
}

/** The JSON view carries the same explanation the text view prints, beside the raw reply. */
function withExplanation(e: TraceRecord): TraceRecord & { explanation?: object } {
  const explanation = explainTraceEvent(e.event, e.details);
  return explanation ? { ...e, explanation } : e;
}

function print(id: string, events: TraceRecord[]): void {
  console.log(`message ${id}`);
  for (const e of events) {
    const details = Object.entries(e.details)
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    console.log(`  ${e.at}  ${e.event.padEnd(16)} ${details}`);
    const explanation = explainTraceEvent(e.event, e.details);
    if (explanation)
      console.log(`  ${' '.repeat(e.at.length)}  ${'why'.padEnd(16)} ${explanationLine(explanation)}`);
  }
}
