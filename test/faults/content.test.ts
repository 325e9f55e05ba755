import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { assertDeliveredOnce, idFromReply, traceEvents } from '../helpers/fault-checks.js';
import { faultConfig, faultEnv } from '../helpers/fault-config.js';
import { startLoop } from '../helpers/loop.js';

describe('content faults fail open', { timeout: 180_000 }, () => {
  let loop: Awaited<ReturnType<typeof startLoop>>;
  let configDir: string;
  before(async () => {
    configDir = await faultConfig();
    // A template that throws while rendering for one user: "%FF" is no UTF-8, so every URI decoder
    // rejects it (liquidjs 10.31 passes a lone "%" through unchanged).
    const usersFile = path.join(configDir, 'users.json');
    const users = JSON.parse(await fs.readFile(usersFile, 'utf8')) as Record<string, unknown>[];
    users.push({ mail: 'broken@contoso.com', displayName: 'Broken Template', jobTitle: '%FF', groups: [] });
    await fs.writeFile(usersFile, JSON.stringify(users, null, 2));
    for (const t of await fs.readdir(path.join(configDir, 'templates'))) {
      if (t.endsWith('.html'))
        await fs.appendFile(
          path.join(configDir, 'templates', t),
          '\n<p>{{ user.jobTitle | url_decode }}</p>\n',
        );
    }
    loop = await startLoop({ configDir, env: faultEnv });
  });
  after(async () => loop?.dispose());

  it('9a. a template that throws → delivered unsigned with the reason', async () => {
    const id = idFromReply(
      await loop.send(outlookReply({ from: 'broken@contoso.com' }), {
        from: 'broken@contoso.com',
        to: ['megan@fabrikam.example'],
      }),
    );
    await assertDeliveredOnce(loop.stack, id);
    const delivered = await simpleParser(await fs.readFile(path.join(loop.stack.outbox, `${id}.eml`)));
    assert.match(delivered.headers.get('x-sigrelay-result') as string, /^unsigned; reason=template-error/);
    assert.equal(delivered.headers.get('x-sigrelay-processed'), 'true');
    assert.ok(!String(delivered.html).includes('sigrelay-signature'));
    const events = await traceEvents(loop.stack, id, (all) => all.some((e) => e.event === 'failed'));
    assert.ok(
      events.some((e) => e.event === 'failed'),
      events.map((e) => e.event).join(', '),
    );
  });

  it('9b. a malformed MIME message → delivered, bytes intact after our headers', async () => {
    const malformed = Buffer.from(
      [
        'From: alice@contoso.com',
        'To: megan@fabrikam.example',
        'Subject: broken',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="never-closed"',
        '',
        '--never-closed',
        'Content-Type: text/html; charset=utf-8',
        'Content-Transfer-Encoding: base64',
        '',
        'PGh0bWw+PGJvZHk+SGk8L2JvZHk+PC9odG1sPg=!!not base64',
        '--never-closed',
        'Content-Type: application/octet-stream; name="x.bin"',
        '',
        '\u0001\u0002\u0003', // no NUL: the front refuses NUL in DATA (front-nul.test.ts)
        '',
      ].join('\r\n'),
      'latin1',
    );
    const id = idFromReply(
      await loop.send(malformed, { from: 'alice@contoso.com', to: ['megan@fabrikam.example'] }),
    );
    await assertDeliveredOnce(loop.stack, id);
    const delivered = await fs.readFile(path.join(loop.stack.outbox, `${id}.eml`));
    assert.ok(delivered.includes(Buffer.from('x.bin')), 'the attachment part is still there');
  });
});
