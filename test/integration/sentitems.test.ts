import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { tenantSchema, TenantDirectory, type Tenant } from '../../src/config/index.js';
import { Azurite } from '../../src/local/azurite.js';
import {
  copyOfProperty,
  copyStateProperty,
  decodeSentItemsJob,
  encodeSentItemsJob,
  inlineAttachmentLimit,
  retryDelaySeconds,
  SentItemsOutbox,
  SentItemsWorker,
  stagedBlobName,
  type SentItemsJob,
} from '../../src/sentitems/index.js';
import { createStorageClients, ensureStorage, type StorageClients } from '../../src/storage/index.js';
import { GraphServer, tenantToken, type StoredItem } from '../helpers/graph-server.js';

const tenantId = '2b7e0c1a-4d3f-4a8e-9b21-7c6d5e4f3a10';
const mailbox = 'alex@northwind.example';
const internetMessageId = '<CY4PR01MB1234.5678@CY4PR01MB1234.namprd01.prod.outlook.com>';
const sentAt = '2026-12-02T08:00:00Z';

function tenant(sentItems: Record<string, unknown> | undefined): Tenant {
  return tenantSchema.parse({
    id: tenantId,
    name: 'Northwind',
    domains: ['northwind.example'],
    delivery: { host: 'northwind.mail.protection.outlook.com' },
    ...(sentItems && { sentItems }),
  });
}

const pdf = Buffer.from('%PDF-1.4 quarterly figures\n');
const big = Buffer.alloc(inlineAttachmentLimit + 100_000, 0x41);
const logo = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==',
  'base64',
);

/** The signed message as the engine writes it: HTML with the signature, its logo inline, two attachments. */
function signedMessage(withBig = false): Buffer {
  const b64 = (b: Buffer) => b.toString('base64').replace(/.{76}/g, '$&\r\n');
  const parts = [
    'From: Alex Wilber <alex@northwind.example>',
    'To: Buyer <buyer@example.org>',
    'Cc: boss@northwind.example',
    'Subject: Offer',
    `Message-ID: ${internetMessageId}`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="mixed"',
    '',
    '--mixed',
    'Content-Type: multipart/related; boundary="rel"',
    '',
    '--rel',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<html><body><p>Hello</p><div class="sigrelay-signature"><img src="cid:logo.png@sigrelay">Alex Wilber, Buyer</div></body></html>',
    '--rel',
    'Content-Type: image/png',
    'Content-ID: <logo.png@sigrelay>',
    'Content-Disposition: inline; filename="logo.png"',
    'Content-Transfer-Encoding: base64',
    '',
    b64(logo),
    '--rel--',
    '--mixed',
    'Content-Type: application/pdf; name="figures.pdf"',
    'Content-Disposition: attachment; filename="figures.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    b64(pdf),
  ];
  if (withBig)
    parts.push(
      '--mixed',
      'Content-Type: application/octet-stream; name="big.bin"',
      'Content-Disposition: attachment; filename="big.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      b64(big),
    );
  parts.push('--mixed--', '');
  return Buffer.from(parts.join('\r\n'));
}

/** What Outlook saved in Sent Items when the user pressed Send: unsigned, not a draft. */
function original(): StoredItem {
  return {
    id: 'orig-1',
    isDraft: false,
    subject: 'Offer',
    body: { contentType: 'html', content: '<p>Hello</p>' },
    sentDateTime: sentAt,
    receivedDateTime: sentAt,
    toRecipients: [{ emailAddress: { name: 'Buyer', address: 'buyer@example.org' } }],
    ccRecipients: [{ emailAddress: { address: 'boss@northwind.example' } }],
    bccRecipients: [{ emailAddress: { address: 'audit@northwind.example' } }],
    from: { emailAddress: { name: 'Alex Wilber', address: mailbox } },
    internetMessageId,
    singleValueExtendedProperties: [],
    attachments: [],
  };
}

void describe('Sent Items update (Azurite + Graph-shaped server)', { timeout: 60_000 }, () => {
  const graph = new GraphServer();
  let workDir: string;
  let azurite: Azurite;
  let storage: StorageClients;
  let settings: Record<string, unknown> | undefined;
  let clock: number;
  let worker: SentItemsWorker;
  let messageSeq = 0;
  let messageId: string;

  before(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-sentitems-'));
    azurite = new Azurite({ location: workDir });
    await azurite.start();
    storage = createStorageClients({ connectionString: azurite.connectionString });
    await ensureStorage(storage);
    await graph.start();
  });
  after(async () => {
    await graph.stop();
    await azurite?.stop();
    if (workDir) await fs.rm(workDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    graph.tenants.clear();
    graph.tenant(tenantId);
    await storage.sentItemsQueue.clearMessages();
    settings = { enabled: true, giveUpAfterMinutes: 60 };
    clock = Date.parse(sentAt) + 30_000;
    messageId = `msg-sentitems-${++messageSeq}`;
    worker = new SentItemsWorker({
      container: storage.sentItems,
      queue: storage.sentItemsQueue,
      tenants: () => new TenantDirectory([tenant(settings)]),
      credentialFor: (t) => Promise.resolve(tenantToken(t.id)),
      graphUrl: graph.base,
      now: () => clock,
      sleep: () => Promise.resolve(),
    });
  });

  const outbox = () => new SentItemsOutbox(storage, { firstLookDelaySeconds: 0 });
  const input = () => ({
    messageId,
    tenant: tenant(settings),
    sender: mailbox,
    internetMessageId,
    receivedAt: sentAt,
  });

  async function stageAndTakeJob(withBig = false): Promise<SentItemsJob> {
    assert.equal(await outbox().stage(input(), { chunks: [signedMessage(withBig)] }), 'staged');
    const received = await storage.sentItemsQueue.receiveMessages({ numberOfMessages: 32 });
    assert.equal(received.receivedMessageItems.length, 1);
    const item = received.receivedMessageItems[0]!;
    await storage.sentItemsQueue.deleteMessage(item.messageId, item.popReceipt);
    return decodeSentItemsJob(item.messageText);
  }

  async function queuedJobs(): Promise<SentItemsJob[]> {
    const props = await storage.sentItemsQueue.getProperties();
    const jobs: SentItemsJob[] = [];
    // Re-queued jobs are invisible for their delay; count them, then read the visible ones.
    assert.ok((props.approximateMessagesCount ?? 0) >= 0);
    const peeked = await storage.sentItemsQueue.peekMessages({ numberOfMessages: 32 });
    for (const m of peeked.peekedMessageItems) jobs.push(decodeSentItemsJob(m.messageText));
    return jobs;
  }

  async function staged(): Promise<boolean> {
    return storage.sentItems.getBlockBlobClient(stagedBlobName(messageId)).exists();
  }

  const sent = () => graph.tenant(tenantId).sentItemsOf(mailbox);

  void it('stage() stores the signed copy and queues a small job', async () => {
    const job = await stageAndTakeJob();
    assert.deepEqual(job, {
      v: 1,
      messageId,
      tenantId,
      mailbox,
      internetMessageId,
      receivedAt: new Date(sentAt).toISOString(),
      attempt: 0,
    });
    const blob = await storage.sentItems.getBlockBlobClient(stagedBlobName(messageId)).downloadToBuffer();
    assert.deepEqual(blob, signedMessage());
  });

  void it('stage() does nothing for a tenant with the feature off (the default)', async () => {
    settings = undefined;
    assert.equal(await outbox().stage(input(), { chunks: [signedMessage()] }), 'off');
    assert.equal(await staged(), false);
    assert.equal((await storage.sentItemsQueue.peekMessages()).peekedMessageItems.length, 0);
  });

  async function jobCount(): Promise<number> {
    return (await storage.sentItemsQueue.getProperties()).approximateMessagesCount ?? 0;
  }

  void it('stage() called again for the same message (a retried activity) keeps one copy and one job', async () => {
    assert.equal(await outbox().stage(input(), { chunks: [signedMessage()] }), 'staged');
    assert.equal(await outbox().stage(input(), { chunks: [signedMessage(true)] }), 'already-staged');
    assert.equal(await jobCount(), 1);
    const blob = await storage.sentItems.getBlockBlobClient(stagedBlobName(messageId)).downloadToBuffer();
    assert.deepEqual(blob, signedMessage(), 'the first copy stays');
  });

  void it('stage() takes the signed message in chunks as held in memory, without joining them', async () => {
    const whole = signedMessage();
    const chunks = [whole.subarray(0, 100), whole.subarray(100, 5000), whole.subarray(5000)];
    assert.equal(await outbox().stage(input(), { chunks }), 'staged');
    const blob = await storage.sentItems.getBlockBlobClient(stagedBlobName(messageId)).downloadToBuffer();
    assert.deepEqual(blob, whole);
  });

  void it('stage() streams a large signed/<id> copy in blocks, and a second stage is refused at the commit', async () => {
    const large = signedMessage(true);
    const big = Buffer.concat([large, Buffer.alloc(5 * 1024 * 1024 - large.length + 10, 0x20)]);
    const stream = () => Readable.from([big.subarray(0, 1_000_000), big.subarray(1_000_000)]);
    assert.equal(await outbox().stage(input(), { stream: stream(), size: big.length }), 'staged');
    assert.equal(await outbox().stage(input(), { stream: stream(), size: big.length }), 'already-staged');
    assert.equal(await jobCount(), 1);
    const blob = await storage.sentItems.getBlockBlobClient(stagedBlobName(messageId)).downloadToBuffer();
    assert.ok(blob.equals(big));
  });

  void it('stage() from a small stream stores it whole', async () => {
    assert.equal(
      await outbox().stage(input(), {
        stream: Readable.from([signedMessage()]),
        size: signedMessage().length,
      }),
      'staged',
    );
    const blob = await storage.sentItems.getBlockBlobClient(stagedBlobName(messageId)).downloadToBuffer();
    assert.deepEqual(blob, signedMessage());
  });

  void it('a job that cannot be queued leaves nothing staged, so the next stage() starts afresh', async () => {
    await storage.sentItemsQueue.delete();
    try {
      // Storage's error code, not its message: storage-queue 12.32 says only "Unexpected status code".
      await assert.rejects(outbox().stage(input(), { chunks: [signedMessage()] }), {
        statusCode: 404,
        code: 'QueueNotFound',
      });
      assert.equal(await staged(), false);
    } finally {
      await storage.sentItemsQueue.create();
    }
    assert.equal(await outbox().stage(input(), { chunks: [signedMessage()] }), 'staged');
    assert.equal(await jobCount(), 1);
  });

  void it('stage() is bounded: a source that stalls is abandoned without a job', async () => {
    const stalled = new PassThrough();
    stalled.write(Buffer.alloc(1024));
    const bounded = new SentItemsOutbox(storage, { firstLookDelaySeconds: 0, timeoutMs: 300 });
    await assert.rejects(bounded.stage(input(), { stream: stalled, size: 6 * 1024 * 1024 }));
    assert.equal(await staged(), false);
    assert.equal(await jobCount(), 0);
  });

  void it('a message without a usable Message-ID is not staged', async () => {
    const noId = { ...input(), internetMessageId: 'not-a-message-id' };
    assert.equal(await outbox().stage(noId, { chunks: [signedMessage()] }), 'no-message-id');
    assert.equal(await staged(), false);
  });

  void it('the original is replaced by one signed, sent copy with the same dates, recipients and attachments', async () => {
    sent().push(original());
    const job = await stageAndTakeJob();
    assert.equal(await worker.handle(encodeSentItemsJob(job)), 'replaced');

    assert.equal(sent().length, 1, 'exactly one copy');
    const copy = sent()[0]!;
    assert.notEqual(copy.id, 'orig-1');
    assert.equal(copy.isDraft, false);
    assert.equal(copy.sentDateTime, sentAt);
    assert.equal(copy.receivedDateTime, sentAt);
    assert.deepEqual(copy.toRecipients, original().toRecipients);
    assert.deepEqual(copy.ccRecipients, original().ccRecipients);
    assert.deepEqual(copy.bccRecipients, original().bccRecipients, 'Bcc, known only to Sent Items, is kept');
    assert.equal(copy.internetMessageId, internetMessageId);
    assert.match(copy.body?.content ?? '', /Alex Wilber, Buyer/);
    assert.deepEqual(
      copy.attachments.map((a) => [a.name, a.isInline, a.contentId ?? null, a.content.length]),
      [
        ['logo.png', true, 'logo.png@sigrelay', logo.length],
        ['figures.pdf', false, null, pdf.length],
      ],
    );
    assert.deepEqual(
      copy.singleValueExtendedProperties.map((p) => [p.id, p.value]),
      [
        [copyOfProperty, messageId],
        [copyStateProperty, 'done'],
      ],
    );
    assert.equal(await staged(), false, 'the staged copy is deleted when done');
  });

  void it('an attachment above 3 MB goes through an upload session', async () => {
    sent().push(original());
    const job = await stageAndTakeJob(true);
    assert.equal(await worker.handle(encodeSentItemsJob(job)), 'replaced');
    const copy = sent()[0]!;
    const large = copy.attachments.find((a) => a.name === 'big.bin');
    assert.ok(large);
    assert.ok(large.content.equals(big));
    assert.ok(graph.tenant(tenantId).requests.some((r) => r.endsWith('/attachments/createUploadSession')));
  });

  void it('the same job twice leaves one copy', async () => {
    sent().push(original());
    const job = await stageAndTakeJob();
    assert.equal(await worker.handle(encodeSentItemsJob(job)), 'replaced');
    assert.equal(await worker.handle(encodeSentItemsJob(job)), 'already-done');
    assert.equal(sent().length, 1);
  });

  void it('a run interrupted before its copy was complete is redone, never leaving two copies', async () => {
    sent().push(original(), {
      ...original(),
      id: 'half-made',
      internetMessageId: '<other-id@exchange>',
      singleValueExtendedProperties: [
        { id: copyOfProperty, value: messageId },
        { id: copyStateProperty, value: 'pending' },
      ],
    });
    const job = await stageAndTakeJob();
    assert.equal(await worker.handle(encodeSentItemsJob(job)), 'replaced');
    assert.equal(sent().length, 1);
    assert.ok(sent()[0]?.id !== 'half-made' && sent()[0]?.id !== 'orig-1');
    assert.equal(sent()[0]?.attachments.length, 2);
  });

  void it('a run interrupted after its copy was complete only removes the original', async () => {
    const done = {
      ...original(),
      id: 'done-copy',
      singleValueExtendedProperties: [
        { id: copyOfProperty, value: messageId },
        { id: copyStateProperty, value: 'done' },
      ],
    };
    sent().push(original(), done);
    const job = await stageAndTakeJob();
    assert.equal(await worker.handle(encodeSentItemsJob(job)), 'replaced');
    assert.deepEqual(
      sent().map((i) => i.id),
      ['done-copy'],
    );
  });

  void it('a 404 from the Sent Items lookup is retried, not given up', async () => {
    sent().push(original());
    graph.tenant(tenantId).notFoundLookups = 1;
    const job = await stageAndTakeJob();
    assert.equal(await worker.handle(encodeSentItemsJob(job)), 'retry-later');
    assert.equal(await worker.handle(encodeSentItemsJob({ ...job, attempt: 1 })), 'replaced');
    assert.equal(sent().length, 1);
  });

  void it('an original not in Sent Items yet is looked for again later, then replaced', async () => {
    const job = await stageAndTakeJob();
    assert.equal(await worker.handle(encodeSentItemsJob(job)), 'retry-later');
    assert.equal(await staged(), true, 'the staged copy waits');
    const props = await storage.sentItemsQueue.getProperties();
    assert.equal(props.approximateMessagesCount, 1, 're-queued with a delay');

    sent().push(original());
    clock += retryDelaySeconds(0) * 1000;
    assert.equal(await worker.handle(encodeSentItemsJob({ ...job, attempt: 1 })), 'replaced');
    assert.equal(sent().length, 1);
  });

  void it('throttling with a long Retry-After re-queues the job for that long and touches nothing', async () => {
    sent().push(original());
    const g = graph.tenant(tenantId);
    g.throttleNext = 1;
    g.retryAfterSeconds = 120;
    const job = await stageAndTakeJob();
    assert.equal(await worker.handle(encodeSentItemsJob(job)), 'retry-later');
    assert.deepEqual(
      sent().map((i) => i.id),
      ['orig-1'],
    );
    assert.equal((await queuedJobs()).length, 0, 'not visible before Retry-After');
    assert.equal((await storage.sentItemsQueue.getProperties()).approximateMessagesCount, 1);
  });

  void it('a short Retry-After is waited out within the call', async () => {
    sent().push(original());
    const g = graph.tenant(tenantId);
    g.throttleNext = 2;
    g.retryAfterSeconds = 1;
    const job = await stageAndTakeJob();
    assert.equal(await worker.handle(encodeSentItemsJob(job)), 'replaced');
    assert.equal(sent().length, 1);
  });

  void it('after giveUpAfterMinutes the staged copy is dropped and Sent Items left as it was', async () => {
    sent().push(original());
    const job = await stageAndTakeJob();
    clock = Date.parse(sentAt) + 61 * 60_000;
    assert.equal(await worker.handle(encodeSentItemsJob(job)), 'gave-up');
    assert.equal(await staged(), false);
    assert.deepEqual(
      sent().map((i) => i.id),
      ['orig-1'],
    );
  });

  void it('Graph unreachable (connection refused) is retried later, not given up', async () => {
    sent().push(original());
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const offline = new SentItemsWorker({
      container: storage.sentItems,
      queue: storage.sentItemsQueue,
      tenants: () => new TenantDirectory([tenant(settings)]),
      credentialFor: (t) => Promise.resolve(tenantToken(t.id)),
      graphUrl: `http://127.0.0.1:${port}/v1.0`,
      now: () => clock,
      sleep: () => Promise.resolve(),
    });
    const job = await stageAndTakeJob();
    assert.equal(await offline.handle(encodeSentItemsJob(job)), 'retry-later');
    assert.equal(await staged(), true, 'the staged copy waits for Graph');
    assert.equal(await worker.handle(encodeSentItemsJob({ ...job, attempt: 1 })), 'replaced');
    assert.equal(sent().length, 1);
  });

  void it('a mailbox the app may not touch (403) is given up at once', async () => {
    sent().push(original());
    graph.tenant(tenantId).failWith = 403;
    const job = await stageAndTakeJob();
    assert.equal(await worker.handle(encodeSentItemsJob(job)), 'gave-up');
    assert.equal(await staged(), false);
  });

  void it('a job for a tenant that has turned the feature off drops its staged copy', async () => {
    const job = await stageAndTakeJob();
    settings = { enabled: false };
    assert.equal(await worker.handle(encodeSentItemsJob(job)), 'off');
    assert.equal(await staged(), false);
  });
});
