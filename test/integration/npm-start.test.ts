import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TableServiceClient } from '@azure/data-tables';
import { SMTPServer } from 'smtp-server';
import { projectRoot } from '../../src/config/index.js';
import { azuriteConnectionString, freePort } from '../../src/local/azurite.js';
import { createStorageClients } from '../../src/storage/index.js';
import { legacyTable, MessageTrace } from '../../src/trace/index.js';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { eventually } from '../helpers/loop.js';
import { sendLikeAnMta } from '../helpers/retrying-sender.js';

const start = path.join(projectRoot, 'dist', 'src', 'local', 'start.js');

/**
 * `npm start` as a user runs it (dist/src/local/start.js, on free ports): delivery set by
 * SIGRELAY_DELIVERY_HOST goes there and not to the stand-in, and SIGTERM stops every part in order.
 */
describe('npm start', { timeout: 180_000 }, () => {
  let dataDir: string;
  const received: string[] = [];
  let endpoint: SMTPServer;
  let endpointPort: number;
  before(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-start-'));
    // Our own endpoint, plain SMTP on loopback: where SIGRELAY_DELIVERY_HOST points.
    endpoint = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      onData(stream, _session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          received.push(Buffer.concat(chunks).toString('latin1'));
          callback();
        });
      },
    });
    endpointPort = await freePort();
    await new Promise<void>((resolve) => endpoint.listen(endpointPort, '127.0.0.1', resolve));
  });
  after(async () => {
    await new Promise<void>((resolve) => endpoint.close(() => resolve()));
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('delivers where SIGRELAY_DELIVERY_HOST says, keeps the trace in memory, and stops in order on SIGTERM', async () => {
    const [smtp, standin, functions, blob, queue, table, traceTable] = await Promise.all(
      Array.from({ length: 7 }, () => freePort()),
    );
    const startedAt = new Date();
    const child = spawn(process.execPath, [start], {
      env: {
        ...process.env,
        SIGRELAY_DATA_DIR: dataDir,
        SIGRELAY_FUNCTIONS_RUNTIME: 'local',
        SIGRELAY_SMTP_PORT: String(smtp),
        SIGRELAY_STANDIN_PORT: String(standin),
        SIGRELAY_FUNCTIONS_PORT: String(functions),
        SIGRELAY_AZURITE_PORTS: `${blob},${queue},${table}`,
        SIGRELAY_TRACE_TABLE_PORT: String(traceTable),
        SIGRELAY_DELIVERY_HOST: `127.0.0.1:${endpointPort}`,
        SIGRELAY_DELIVERY_TLS: 'none',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await eventually(
        'the stack to run',
        () => Promise.resolve(output.includes('sigrelay is running')),
        120_000,
      );
      assert.ok(output.includes(`on Node ${process.version}`), 'says which Node it runs on');
      assert.match(
        output,
        new RegExp(
          `Delivers to +127\\.0\\.0\\.1:${endpointPort} \\(from SIGRELAY_DELIVERY_HOST, TLS none\\)`,
        ),
      );

      const raw = outlookReply();
      const ca = await fs.readFile(path.join(dataDir, 'tls', 'ca.crt'));
      await sendLikeAnMta(raw, {
        port: smtp as number,
        ca,
        from: 'alice@contoso.com',
        to: ['megan@fabrikam.example'],
      });
      const messageId = /^Message-ID: (\S+)/m.exec(raw.toString('latin1'))?.[1] ?? '';
      await eventually(
        'the message at our endpoint',
        () => Promise.resolve(received.some((m) => m.includes(messageId))),
        60_000,
      );
      const outbox = await fs.readdir(path.join(dataDir, 'outbox')).catch(() => []);
      assert.deepEqual(
        outbox.filter((f) => f.endsWith('.eml')),
        [],
        'nothing went to the stand-in',
      );

      // The trace is in the in-memory table service; the persisted Azurite holds no trace table.
      const ports = { blob: blob as number, queue: queue as number };
      const trace = new MessageTrace(
        createStorageClients({
          connectionString: azuriteConnectionString({ ...ports, table: table as number }),
          traceConnectionString: azuriteConnectionString({ ...ports, table: traceTable as number }),
        }).traceTable,
      );
      await eventually(
        'the received event in the trace store',
        async () => (await trace.receivedBetween(startedAt, new Date(Date.now() + 60_000))).length === 1,
        30_000,
      );
      const persisted: string[] = [];
      const service = TableServiceClient.fromConnectionString(
        azuriteConnectionString({ ...ports, table: table as number }),
        { allowInsecureConnection: true },
      );
      for await (const t of service.listTables()) if (t.name) persisted.push(t.name);
      assert.deepEqual(
        persisted.filter((name) => name.startsWith(legacyTable)),
        [],
      );
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    const stops = [...output.matchAll(/^sigrelay: (\w+) stopped$/gm)].map((m) => m[1]);
    assert.deepEqual(stops, ['front', 'functions', 'standin', 'azurite']);
    assert.match(
      await fs.readFile(path.join(dataDir, 'logs', 'azurite.log'), 'utf8'),
      /Azurite Queue service successfully closed/,
    );
  });
});
