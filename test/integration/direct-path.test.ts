import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { loadSettings } from '../../src/config/index.js';
import { newMessageId, type ClaimCheck, type ProcessInput } from '../../src/contracts/index.js';
import { ensureDevPki } from '../../src/devtls/index.js';
import { silentLogger } from '../../src/log/index.js';
import { createActivities } from '../../src/orchestration/index.js';
import { DirectPath } from '../../src/message/index.js';
import { createRuntime, type Runtime } from '../../src/processing/index.js';
import { decodeSentItemsJob, stagedBlobName, type SentItemsJob } from '../../src/sentitems/index.js';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { ExchangeStandin } from '../../src/standin/index.js';
import { faultConfig } from '../helpers/fault-config.js';
import { contosoId, inboundBlobNames, startStorage } from '../helpers/front-harness.js';

const from = 'alice@contoso.com';

/** The fault configuration with Contoso's Sent Items update turned on. */
async function sentItemsConfig(): Promise<string> {
  const dir = await faultConfig();
  const file = path.join(dir, 'tenants.json');
  const tenants = JSON.parse(await fs.readFile(file, 'utf8')) as { id: string; sentItems?: unknown }[];
  for (const t of tenants) if (t.id === contosoId) t.sentItems = { enabled: true };
  await fs.writeFile(file, JSON.stringify(tenants, null, 2));
  return dir;
}

/**
 * The direct path against real Azurite and a real SMTP endpoint (the stand-in, STARTTLS and client
 * certificate). The orchestration is the one thing not run here: each handover is recorded instead,
 * so a test sees exactly what Durable would be given.
 */
describe(
  'the direct path (queue trigger): sign, deliver, delete — or hand over',
  { timeout: 120_000 },
  () => {
    let storage: Awaited<ReturnType<typeof startStorage>>;
    let standin: ExchangeStandin;
    let outbox: string;
    let rt: Runtime;
    let handovers: { input: ProcessInput; force?: boolean }[];
    const handover = (input: ProcessInput, options: { force?: boolean }) => {
      handovers.push({ input, ...options });
      return Promise.resolve('started' as const);
    };

    async function runtimeWith(env: Record<string, string>, configDir: string): Promise<Runtime> {
      const port = String((standin.server.server.address() as { port: number }).port);
      const pki = await ensureDevPki(path.join(storage.dir, 'tls'));
      const settings = loadSettings({
        SIGRELAY_CONFIG: configDir,
        SIGRELAY_DELIVERY_HOST: `127.0.0.1:${port}`,
        SIGRELAY_DELIVERY_CA: pki.caCert,
        SIGRELAY_DELIVERY_CLIENT_CERT: pki.clientCert,
        SIGRELAY_DELIVERY_CLIENT_KEY: pki.clientKey,
        SIGRELAY_DELIVERY_TIMEOUT_MS: '5000',
        AzureWebJobsStorage: 'UseDevelopmentStorage=true',
        ...env,
      });
      return createRuntime(settings, { logger: silentLogger, storage: storage.storage });
    }

    before(async () => {
      storage = await startStorage();
      const pki = await ensureDevPki(path.join(storage.dir, 'tls'));
      outbox = path.join(storage.dir, 'outbox');
      standin = new ExchangeStandin({
        tls: {
          cert: await fs.readFile(pki.standinCert),
          key: await fs.readFile(pki.standinKey),
          ca: await fs.readFile(pki.caCert),
        },
        outbox,
      });
      await standin.listen(0);
      rt = await runtimeWith({}, await faultConfig());
    });
    after(async () => {
      await standin?.close();
      await storage?.dispose();
    });
    beforeEach(() => {
      handovers = [];
      standin.behaviour = {};
    });

    /** Stores a message as the front would and returns its claim-check. */
    async function stored(raw: Buffer, rcptTo: string[], sender = from): Promise<ClaimCheck> {
      const id = newMessageId();
      const meta = await rt.store.writeInbound(Readable.from([raw]), {
        id,
        envelope: { mailFrom: sender, rcptTo },
        tenantId: contosoId,
        receivedAt: new Date().toISOString(),
        clientAddress: '127.0.0.1',
        sessionId: 'test',
      });
      return {
        v: 1,
        id,
        tenantId: contosoId,
        size: meta.size,
        sha256: meta.sha256,
        receivedAt: meta.receivedAt,
      };
    }

    const delivered = async (id: string) =>
      fs.readFile(path.join(outbox, `${id}.eml`)).then(
        (b) => b,
        () => undefined,
      );

    it('a 250 for every recipient: delivered signed, the stored copy deleted, nothing handed over', async () => {
      const claim = await stored(outlookReply(), ['megan@fabrikam.example', 'bob@fabrikam.example']);
      const result = await new DirectPath(rt).handle(claim, { dequeueCount: 1 }, handover);
      assert.deepEqual(result, { outcome: 'delivered' });
      assert.deepEqual(handovers, []);
      const mail = await delivered(claim.id);
      assert.ok(mail, 'the endpoint has the message');
      const parsed = await simpleParser(mail);
      assert.ok(String(parsed.html).includes('sigrelay-signature'), 'signed');
      assert.equal(parsed.headers.get('x-sigrelay-processed'), 'true');
      assert.ok(!(await inboundBlobNames(storage.storage)).includes(claim.id), 'inbound copy deleted');
      assert.deepEqual(
        (await rt.trace.forMessage(claim.id)).map((e) => e.event),
        ['received', 'signed', 'delivery-attempt', 'delivered', 'deleted'],
      );
      assert.equal(await rt.deliveryState.get(claim.id), undefined, 'no delivery record on the direct path');
    });

    it('a temporary failure (451) hands over with the reply; the message stays stored', async () => {
      standin.behaviour = { dataReply: { code: 451, text: 'try later' } };
      const claim = await stored(outlookReply(), ['megan@fabrikam.example']);
      const result = await new DirectPath(rt).handle(claim, { dequeueCount: 1 }, handover);
      assert.equal(result.outcome, 'handed-over');
      const [first] = handovers;
      assert.equal(first?.input.reason, 'temporary-failure');
      assert.equal(first?.input.policy?.signingFailure, 'fail-open');
      assert.deepEqual(first?.input.firstAttempt?.delivery?.delivered, []);
      assert.match(first?.input.firstAttempt?.delivery?.lastResponse ?? '', /451/);
      assert.equal(first?.input.firstAttempt?.signing?.action, 'signed');
      assert.ok((await inboundBlobNames(storage.storage)).includes(claim.id), 'kept for the orchestration');
      assert.equal(await delivered(claim.id), undefined);
    });

    it('partial recipients: who got it and who refused it travel to the orchestration', async () => {
      standin.behaviour = {
        rcptReplies: {
          'gone@fabrikam.example': { code: 550, text: 'no such user' },
          'full@fabrikam.example': { code: 452, text: 'mailbox full' },
        },
      };
      const claim = await stored(outlookReply(), [
        'megan@fabrikam.example',
        'gone@fabrikam.example',
        'full@fabrikam.example',
      ]);
      await new DirectPath(rt).handle(claim, { dequeueCount: 1 }, handover);
      const delivery = handovers[0]?.input.firstAttempt?.delivery;
      assert.equal(handovers[0]?.input.reason, 'partial');
      assert.deepEqual(delivery?.delivered, ['megan@fabrikam.example']);
      assert.deepEqual(Object.keys(delivery?.rejected ?? {}), ['gone@fabrikam.example']);
    });

    it('a second dequeue (the previous attempt died) goes to the orchestration without sending', async () => {
      const claim = await stored(outlookReply(), ['megan@fabrikam.example']);
      const result = await new DirectPath(rt).handle(claim, { dequeueCount: 2 }, handover);
      assert.equal(result.outcome, 'handed-over');
      assert.equal(handovers[0]?.input.reason, 'redelivered');
      assert.equal(handovers[0]?.force, false);
      assert.equal(await delivered(claim.id), undefined);
    });

    it('a redelivered claim-check whose message is gone is a no-op', async () => {
      const claim = await stored(outlookReply(), ['megan@fabrikam.example']);
      await rt.store.deleteAll(claim.id);
      for (const dequeueCount of [1, 3]) {
        assert.deepEqual(await new DirectPath(rt).handle(claim, { dequeueCount }, handover), {
          outcome: 'missing',
        });
      }
      assert.deepEqual(handovers, []);
    });

    it('a dead-letter replay is handed over with force, so a completed instance runs again', async () => {
      const claim = await stored(outlookReply(), ['megan@fabrikam.example']);
      await new DirectPath(rt).handle({ ...claim, replay: true }, { dequeueCount: 1 }, handover);
      assert.equal(handovers[0]?.input.reason, 'replay');
      assert.equal(handovers[0]?.force, true);
    });

    it('a message left alone (already processed) is delivered as it came, with the loop header', async () => {
      const raw = Buffer.concat([Buffer.from('X-Sigrelay-Processed: true\r\n'), outlookReply()]);
      const claim = await stored(raw, ['megan@fabrikam.example']);
      assert.deepEqual(await new DirectPath(rt).handle(claim, { dequeueCount: 1 }, handover), {
        outcome: 'delivered',
      });
      const mail = (await delivered(claim.id)) ?? Buffer.alloc(0);
      assert.ok(
        mail.subarray(mail.indexOf(raw.subarray(0, 200))).equals(raw),
        'original bytes after our headers',
      );
      assert.deepEqual(
        (await rt.trace.forMessage(claim.id)).map((e) => e.event),
        ['received', 'skipped', 'delivery-attempt', 'delivered', 'deleted'],
      );
    });

    it('a message above the direct size limit is signed into signed/<id>, delivered, and both copies deleted', async () => {
      const small = await runtimeWith({ SIGRELAY_DIRECT_MAX_BYTES: '1000' }, await faultConfig());
      const claim = await stored(outlookReply({ htmlBytes: 50_000 }), ['megan@fabrikam.example']);
      assert.deepEqual(await new DirectPath(small).handle(claim, { dequeueCount: 1 }, handover), {
        outcome: 'delivered',
      });
      assert.ok(
        String((await simpleParser((await delivered(claim.id)) ?? '')).html).includes('sigrelay-signature'),
      );
      const signedLeft = [];
      for await (const b of storage.storage.signed.listBlobsFlat()) signedLeft.push(b.name);
      assert.ok(!signedLeft.includes(claim.id), 'signed copy deleted');
      assert.ok(!(await inboundBlobNames(storage.storage)).includes(claim.id), 'inbound copy deleted');
    });

    it('a signing failure for a fail-closed tenant is never delivered unsigned: it is handed over', async () => {
      const configDir = await faultConfig({ signingFailure: 'fail-closed' });
      for (const t of await fs.readdir(path.join(configDir, 'templates')))
        if (t.endsWith('.html'))
          await fs.appendFile(path.join(configDir, 'templates', t), '\n<p>{{ "%FF" | url_decode }}</p>\n');
      const closed = await runtimeWith({}, configDir);
      const claim = await stored(outlookReply(), ['megan@fabrikam.example']);
      const result = await new DirectPath(closed).handle(claim, { dequeueCount: 1 }, handover);
      assert.equal(result.outcome, 'handed-over');
      assert.equal(handovers[0]?.input.reason, 'sign-failed');
      assert.equal(handovers[0]?.input.policy?.signingFailure, 'fail-closed');
      assert.match(handovers[0]?.input.firstAttempt?.signing?.reason ?? '', /^template-error/);
      assert.equal(await delivered(claim.id), undefined, 'nothing reached the endpoint');
    });

    it('the same template failure for a fail-open tenant is delivered unsigned with the reason', async () => {
      const configDir = await faultConfig();
      for (const t of await fs.readdir(path.join(configDir, 'templates')))
        if (t.endsWith('.html'))
          await fs.appendFile(path.join(configDir, 'templates', t), '\n<p>{{ "%FF" | url_decode }}</p>\n');
      const open = await runtimeWith({}, configDir);
      const claim = await stored(outlookReply(), ['megan@fabrikam.example']);
      assert.deepEqual(await new DirectPath(open).handle(claim, { dequeueCount: 1 }, handover), {
        outcome: 'delivered',
      });
      const parsed = await simpleParser((await delivered(claim.id)) ?? '');
      assert.match(parsed.headers.get('x-sigrelay-result') as string, /^unsigned; reason=template-error/);
    });

    it("the orchestration's delivery sends only to who is left after the direct attempt, and records both", async () => {
      const claim = await stored(outlookReply(), ['megan@fabrikam.example', 'bob@fabrikam.example']);
      const result = await createActivities(rt).deliver({
        id: claim.id,
        signing: { action: 'skipped', reason: 'no-rule' },
        firstAttempt: { delivered: ['megan@fabrikam.example'], rejected: {}, lastResponse: '250 ok' },
      });
      assert.equal(result.status, 'delivered');
      const envelope = JSON.parse(await fs.readFile(path.join(outbox, `${claim.id}.json`), 'utf8')) as {
        rcptTo: string[];
      };
      assert.deepEqual(envelope.rcptTo, ['bob@fabrikam.example'], 'megan already had it');
      const record = await rt.deliveryState.get(claim.id);
      assert.deepEqual(record?.delivered.sort(), ['bob@fabrikam.example', 'megan@fabrikam.example']);
    });

    describe('the Sent Items update (a tenant with sentItems on)', () => {
      let on: Runtime;
      before(async () => {
        on = await runtimeWith({ SIGRELAY_SENTITEMS_FIRST_LOOK_SECONDS: '0' }, await sentItemsConfig());
      });
      beforeEach(() => storage.storage.sentItemsQueue.clearMessages());

      async function jobs(): Promise<SentItemsJob[]> {
        const peeked = await storage.storage.sentItemsQueue.peekMessages({ numberOfMessages: 32 });
        return peeked.peekedMessageItems.map((m) => decodeSentItemsJob(m.messageText));
      }
      const stagedCopy = (id: string) =>
        storage.storage.sentItems
          .getBlockBlobClient(stagedBlobName(id))
          .downloadToBuffer()
          .catch(() => undefined);
      const messageIdOf = (raw: Buffer) => /^Message-ID: (\S+)\r$/m.exec(raw.toString('latin1'))?.[1];

      it('after the 250 and the delete, the signed message is staged once, with the job that finds the original', async () => {
        const raw = outlookReply();
        const claim = await stored(raw, ['megan@fabrikam.example']);
        assert.deepEqual(await new DirectPath(on).handle(claim, { dequeueCount: 1 }, handover), {
          outcome: 'delivered',
        });
        assert.ok(!(await inboundBlobNames(storage.storage)).includes(claim.id), 'inbound copy deleted');
        const mail = await delivered(claim.id);
        const copy = await stagedCopy(claim.id);
        assert.ok(mail && copy, 'delivered and staged');
        assert.ok(
          mail.subarray(mail.length - copy.length).equals(copy),
          'the staged copy is what was delivered',
        );
        assert.deepEqual(
          (await jobs()).map((j) => [j.messageId, j.tenantId, j.mailbox, j.internetMessageId]),
          [[claim.id, contosoId, from, messageIdOf(raw)]],
        );
        assert.deepEqual(
          (await rt.trace.forMessage(claim.id)).map((e) => e.event),
          ['received', 'signed', 'delivery-attempt', 'delivered', 'deleted', 'sent-items'],
        );
      });

      it('a tenant with it off (the default) gets no staged copy and no job', async () => {
        const claim = await stored(outlookReply(), ['megan@fabrikam.example']);
        assert.equal(
          (await new DirectPath(rt).handle(claim, { dequeueCount: 1 }, handover)).outcome,
          'delivered',
        );
        assert.equal(await stagedCopy(claim.id), undefined);
        assert.deepEqual(await jobs(), []);
      });

      it('a message left alone is not staged: its Sent Items copy is already what went out', async () => {
        const raw = Buffer.concat([Buffer.from('X-Sigrelay-Processed: true\r\n'), outlookReply()]);
        const claim = await stored(raw, ['megan@fabrikam.example']);
        assert.equal(
          (await new DirectPath(on).handle(claim, { dequeueCount: 1 }, handover)).outcome,
          'delivered',
        );
        assert.deepEqual(await jobs(), []);
      });

      it('a large message is staged from signed/<id>, which is deleted afterwards', async () => {
        const large = await runtimeWith(
          { SIGRELAY_DIRECT_MAX_BYTES: '1000', SIGRELAY_SENTITEMS_FIRST_LOOK_SECONDS: '0' },
          await sentItemsConfig(),
        );
        const claim = await stored(outlookReply({ htmlBytes: 50_000 }), ['megan@fabrikam.example']);
        assert.equal(
          (await new DirectPath(large).handle(claim, { dequeueCount: 1 }, handover)).outcome,
          'delivered',
        );
        const mail = await delivered(claim.id);
        const copy = await stagedCopy(claim.id);
        assert.ok(mail && copy && mail.subarray(mail.length - copy.length).equals(copy));
        assert.equal((await jobs()).length, 1);
        const signedLeft = [];
        for await (const b of storage.storage.signed.listBlobsFlat()) signedLeft.push(b.name);
        assert.ok(!signedLeft.includes(claim.id), 'signed copy deleted after staging');
      });

      it('staging that fails (its container is gone) is logged and counted; delivery and the delete are untouched', async () => {
        await storage.storage.sentItems.delete();
        try {
          const claim = await stored(outlookReply(), ['megan@fabrikam.example']);
          assert.deepEqual(await new DirectPath(on).handle(claim, { dequeueCount: 1 }, handover), {
            outcome: 'delivered',
          });
          assert.deepEqual(handovers, []);
          assert.ok(await delivered(claim.id));
          assert.ok(!(await inboundBlobNames(storage.storage)).includes(claim.id), 'inbound copy deleted');
          const trace = await rt.trace.forMessage(claim.id);
          assert.deepEqual(trace.at(-1)?.details, { outcome: 'stage-failed' });
          assert.deepEqual(await jobs(), []);
        } finally {
          await storage.storage.sentItems.createIfNotExists();
        }
      });

      it('the delete activity stages from signed/<id> first; retried after a failed delete, it makes no second job', async () => {
        const activities = createActivities(on);
        const raw = outlookReply();
        const claim = await stored(raw, ['megan@fabrikam.example']);
        const signed = await activities.sign({ id: claim.id });
        assert.equal(signed.signing?.action, 'signed');
        assert.equal(signed.internetMessageId, messageIdOf(raw), 'read by the engine while signing');
        const delivery = await activities.deliver({ id: claim.id, signing: signed.signing });
        assert.equal(delivery.status, 'delivered');
        const input = {
          id: claim.id,
          signed: true,
          envelopeBlob: false,
          sender: from,
          tenantId: signed.tenantId,
          internetMessageId: signed.internetMessageId,
        };
        // A lease on the signed copy makes the delete fail, as a storage fault would.
        const lease = storage.storage.signed.getBlobClient(claim.id).getBlobLeaseClient();
        await lease.acquireLease(60);
        await assert.rejects(activities.delete(input));
        await lease.releaseLease();
        await activities.delete(input);
        assert.equal((await jobs()).length, 1, 'one job for one message');
        assert.ok(!(await inboundBlobNames(storage.storage)).includes(claim.id));
        const copy = await stagedCopy(claim.id);
        const mail = await delivered(claim.id);
        assert.ok(copy && mail && mail.subarray(mail.length - copy.length).equals(copy));
        const events = (await rt.trace.forMessage(claim.id)).filter((e) => e.event === 'sent-items');
        assert.deepEqual(
          events.map((e) => e.details.outcome),
          ['already-staged'],
          'the failed run traced nothing; the retry found its copy staged',
        );
      });
    });

    it('the sign activity after a handover does not trace the arrival a second time', async () => {
      const claim = await stored(outlookReply(), ['megan@fabrikam.example']);
      const outcome = await createActivities(rt).sign({ id: claim.id, traced: true });
      assert.equal(outcome.signing?.action, 'signed');
      assert.equal(outcome.policy?.signingFailure, 'fail-open');
      assert.deepEqual(
        (await rt.trace.forMessage(claim.id)).map((e) => e.event),
        ['signed'],
      );
    });
  },
);
