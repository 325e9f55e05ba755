import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { createStorageClients } from '../../src/storage/index.js';
import { idFromReply } from '../helpers/fault-checks.js';
import { faultConfig, faultEnv } from '../helpers/fault-config.js';
import { eventually, inboundBlobCount, startLoop } from '../helpers/loop.js';

const messages = Number(process.env.SIGRELAY_SOAK_MESSAGES ?? 5000);
const sessions = 20;

describe(
  '10. soak: messages from concurrent sessions while the endpoint answers 4xx 10 % of the time',
  { timeout: 1_500_000 },
  () => {
    let loop: Awaited<ReturnType<typeof startLoop>>;
    before(async () => {
      loop = await startLoop({
        configDir: await faultConfig(),
        env: { ...faultEnv, SIGRELAY_LOG_LEVEL: 'warn' },
      });
    });
    after(async () => loop?.dispose());

    it(`delivers all ${messages}, loses none, and counts duplicates`, async () => {
      await loop.stack.setStandinBehaviour({
        dataReply: { code: 451, text: 'random deferral', probability: 0.1 },
      });
      const transport = nodemailer.createTransport({
        pool: true,
        maxConnections: sessions,
        maxMessages: Infinity,
        host: '127.0.0.1',
        port: loop.stack.ports.smtp,
        secure: false,
        requireTLS: true,
        tls: { ca: await fs.readFile(loop.stack.pki.caCert), servername: 'localhost' },
      });
      const senders = [
        'alice@contoso.com',
        'zoe.mueller@contoso.com',
        'jose.garcia@contoso.com',
        'sam@contoso.com',
      ];
      const ids: string[] = [];
      let next = 0;
      const started = Date.now();
      await Promise.all(
        Array.from({ length: sessions }, async () => {
          while (next < messages) {
            const n = next++;
            const from = senders[n % senders.length] ?? 'alice@contoso.com';
            const reply = await transport.sendMail({
              envelope: { from, to: [`r${n}@fabrikam.example`] },
              raw: outlookReply({ from, htmlBytes: 8000 }),
            });
            ids.push(idFromReply(reply.response));
          }
        }),
      );
      transport.close();
      const accepted = new Set(ids);
      assert.equal(accepted.size, messages, 'every message got its own 250');
      const storage = createStorageClients({ connectionString: loop.stack.azurite.connectionString });
      const log = path.join(loop.stack.outbox, 'received.log');
      const count = async () => {
        const lines = (await fs.readFile(log, 'utf8').catch(() => ''))
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split('\t')[0] ?? '');
        return { lines, unique: new Set(lines.filter((id) => accepted.has(id))) };
      };
      await eventually(
        'every message at the endpoint',
        async () => (await count()).unique.size === messages,
        1_200_000,
      );
      await eventually('inbound to be empty', async () => (await inboundBlobCount(storage)) === 0, 120_000);
      const { lines, unique } = await count();
      const duplicates = lines.length - unique.size;
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `soak: ${messages} messages, ${unique.size} delivered, 0 lost, ${duplicates} duplicates, ${seconds.toFixed(0)} s (${(messages / seconds).toFixed(1)} msg/s with 10 % deferrals)`,
      );
      assert.equal(unique.size, messages, 'nothing lost');
      assert.equal(duplicates, 0, 'no duplicates');
    });
  },
);
