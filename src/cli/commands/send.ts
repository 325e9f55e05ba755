import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import nodemailer from 'nodemailer';
import { loadSettings, loadTenants, projectRoot } from '../../config/index.js';
import { outlookReply } from '../../samples/outlook-reply.js';

export const summary = 'send: send a message (or --sample) through the SMTP front with STARTTLS';

/** `sigrelay send [--sample | <file.eml>] [--from a] [--to b]... [--host h] [--port p] [--ca file]` */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      sample: { type: 'boolean' },
      from: { type: 'string' },
      to: { type: 'string', multiple: true },
      host: { type: 'string' },
      port: { type: 'string' },
      ca: { type: 'string' },
      count: { type: 'string' },
    },
  });
  const file = positionals[0];
  if (!values.sample && !file) {
    console.error(
      'usage: sigrelay send (--sample | <file.eml>) [--from addr] [--to addr]... [--host h] [--port p] [--ca file]',
    );
    return 2;
  }
  const from = values.from ?? 'alice@contoso.com';
  const to = values.to ?? ['megan@fabrikam.example'];
  // The sample carries the sender's tenant id, as Exchange stamps it, so any configuration's tenant passes the front.
  const tenantId = file
    ? undefined
    : (await loadTenants(loadSettings().configDir).catch(() => undefined))?.forAddress(from)?.id;
  const raw = file ? await fs.readFile(file) : outlookReply({ from, to: to[0], tenantId });
  const dataDir = process.env.SIGRELAY_DATA_DIR ?? path.join(projectRoot, '.data');
  const caFile = values.ca ?? path.join(dataDir, 'tls', 'ca.crt');
  const ca = await fs.readFile(caFile).catch(() => undefined);
  const transport = nodemailer.createTransport({
    host: values.host ?? process.env.SIGRELAY_SMTP_HOST ?? '127.0.0.1',
    port: Number(values.port ?? process.env.SIGRELAY_SMTP_PORT ?? 2525),
    secure: false,
    requireTLS: true,
    tls: { ca, minVersion: 'TLSv1.2', servername: 'localhost' },
  });
  const count = Number(values.count ?? 1);
  for (let i = 0; i < count; i++) {
    const started = Date.now();
    const info = await transport.sendMail({ envelope: { from, to }, raw });
    console.log(`${info.response} (${Date.now() - started} ms)`);
  }
  transport.close();
  return 0;
}
