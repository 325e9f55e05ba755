import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { loadSettings, loadTenants, projectRoot } from '../../config/index.js';
import { outlookReply } from '../../samples/outlook-reply.js';
import { UsageError, type SendOptions } from '../usage.js';

/** `sigrelay send (--sample | <file.eml>) …`: one line per message with the front's reply. */
export async function run(file: string | undefined, values: SendOptions): Promise<number> {
  if (!values.sample && !file) throw new UsageError('sigrelay send', 'name a message file, or pass --sample');
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1)
    throw new UsageError('sigrelay send', `--count must be a whole number ≥ 1 (got "${values.count}")`);
  const from = values.from;
  const to = values.to.length ? values.to : ['megan@fabrikam.example'];
  // The sample carries the sender's tenant id, as Exchange stamps it, so any configuration's tenant passes the front.
  const tenantId = file
    ? undefined
    : (await loadTenants(loadSettings().configDir).catch(() => undefined))?.forAddress(from)?.id;
  const raw = file
    ? await fs.readFile(file).catch((err: Error) => {
        throw new UsageError('sigrelay send', `cannot read ${file}: ${err.message}`);
      })
    : outlookReply({ from, to: to[0], tenantId });
  const dataDir = process.env.SIGRELAY_DATA_DIR ?? path.join(projectRoot, '.data');
  const caFile = values.ca ?? path.join(dataDir, 'tls', 'ca.crt');
  const ca = await fs.readFile(caFile).catch(() => undefined);
  const host = values.host ?? process.env.SIGRELAY_SMTP_HOST ?? '127.0.0.1';
  const port = Number(values.port ?? process.env.SIGRELAY_SMTP_PORT ?? 2525);
  const transport = nodemailer.createTransport({
    host,
    port,
    secure: false,
    requireTLS: true,
    tls: { ca, minVersion: 'TLSv1.2', servername: 'localhost' },
  });
  try {
    for (let i = 0; i < count; i++) {
      const started = Date.now();
      const info = await transport.sendMail({ envelope: { from, to }, raw });
      console.log(`${info.response} (${Date.now() - started} ms)`);
    }
  } catch (err) {
    const e = err as { code?: string; response?: string; message?: string };
    // A refusal or an unreachable front is the answer, not a crash.
    if (e.response) {
      console.error(`sigrelay send: the front at ${host}:${port} refused the message: ${e.response}`);
      return 2;
    }
    if (e.code === 'ECONNECTION' || e.code === 'ESOCKET') {
      console.error(
        `sigrelay send: cannot reach the front at ${host}:${port} (${e.message}); is the local loop running (npm start)?`,
      );
      return 2;
    }
    throw err;
  } finally {
    transport.close();
  }
  return 0;
}
