import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, beforeEach, describe, it } from 'node:test';
import { simpleParser, type ParsedMail } from 'mailparser';
import { backgroundKind, readAzuriteDebugLog, type StorageRequest } from '../../bench/azurite-log.js';
import { projectRoot } from '../../src/config/index.js';
import { loadContent } from '../../src/content/index.js';
import { silentLogger } from '../../src/log/index.js';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { copyOfProperty, copyStateProperty } from '../../src/sentitems/index.js';
import { names } from '../../src/storage/index.js';
import { MessageTrace } from '../../src/trace/index.js';
import {
  alexA,
  alexB,
  logos,
  makeTwoTenantConfig,
  photos,
  tenantA,
  tenantB,
} from '../fixtures/content/two-tenants.js';
import { GraphServer, type StoredItem } from '../helpers/graph-server.js';
import { eventually, inboundBlobCount, startLoop } from '../helpers/loop.js';

const run = promisify(execFile);
const cli = path.join(projectRoot, 'dist', 'src', 'cli', 'main.js');
const buyer = 'buyer@example.org';

/**
 * The two-tenant configuration (Alpha's folder full of bait for Beta) for the loop: Alpha has the
 * Sent Items update on, with the Function App's managed identity (Alpha is the home tenant), Beta
 * has it off; retries are quick, limits out of the way.
 */
async function loopConfig(): Promise<string> {
  const dir = await makeTwoTenantConfig();
  const file = path.join(dir, 'tenants.json');
  const tenants = JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>[];
  for (const t of tenants) {
    t.settings = {
      deliveryRetry: { firstIntervalSeconds: 0.2, maxIntervalSeconds: 2, giveUpAfterHours: 2 / 60 },
      limits: { messagesPerMinute: 1_000_000, messagesPerDay: 10_000_000 },
    };
    if (t.id === tenantA.id) t.sentItems = { enabled: true, credential: { type: 'managed-identity' } };
  }
  await fs.writeFile(file, JSON.stringify(tenants, null, 2));
  return dir;
}

const messageIdOf = (raw: Buffer) => /^Message-ID: (\S+)\r$/m.exec(raw.toString('latin1'))?.[1] ?? '';

/** What Outlook saved in the sender's Sent Items when they pressed Send: unsigned, not a draft. */
function originalOf(raw: Buffer, id: string): StoredItem {
  return {
    id,
    isDraft: false,
    subject: 'Q3 order',
    body: { contentType: 'html', content: '<p>Hi Megan,</p>' },
    sentDateTime: '2026-12-02T08:00:00Z',
    receivedDateTime: '2026-12-02T08:00:00Z',
    toRecipients: [{ emailAddress: { address: buyer } }],
    from: { emailAddress: { name: 'Alex Wilber', address: alexA } },
    internetMessageId: messageIdOf(raw),
    singleValueExtendedProperties: [],
    attachments: [],
  };
}

/**
 * Two tenants through the real loop: front → Azurite → in-process functions host (direct path,
 * Durable, the `sentItems` function) → the Exchange Online stand-in, with a Graph-shaped server
 * for Sent Items whose tokens come from a managed-identity endpoint, as in Azure.
 */
void describe('two tenants in one deployment, through the loop', { timeout: 240_000 }, () => {
  const graph = new GraphServer();
  let configDir: string;
  let debugLog: string;
  let loop: Awaited<ReturnType<typeof startLoop>>;
  let trace: MessageTrace;
  let originals = 0;

  before(async () => {
    await graph.start();
    graph.managedIdentityTenant = tenantA.id;
    configDir = await loopConfig();
    debugLog = path.join(configDir, 'azurite-debug.log');
    loop = await startLoop({
      configDir,
      debugLog,
      env: {
        ...graph.identityEnv(),
        SIGRELAY_GRAPH_URL: graph.base,
        SIGRELAY_HOME_TENANT_ID: tenantA.id,
        SIGRELAY_SENTITEMS_FIRST_LOOK_SECONDS: '1',
        SIGRELAY_SENTITEMS_RETRY_SECONDS: '1',
      },
    });
    trace = new MessageTrace(loop.storage().table, silentLogger);
  });
  after(async () => {
    await loop?.dispose();
    await graph.stop();
    if (configDir) await fs.rm(configDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await loop.stack.setStandinBehaviour({});
    const a = graph.tenant(tenantA.id);
    Object.assign(a, { failWith: undefined, throttleNext: 0, notFoundLookups: 0 });
    graph.tenant(tenantB.id);
  });

  const sentItems = () => graph.tenant(tenantA.id).sentItemsOf(alexA);
  const copiesOf = (id: string) =>
    sentItems().filter((i) =>
      i.singleValueExtendedProperties.some((p) => p.id === copyOfProperty && p.value === id),
    );

  /** Sends through the front; for Alpha, Outlook's unsigned original is in Sent Items first. */
  async function send(sender: string): Promise<{ id: string; raw: Buffer; original?: string }> {
    const tenantId = sender === alexA ? tenantA.id : tenantB.id;
    const raw = outlookReply({ from: sender, to: buyer, tenantId });
    let original: string | undefined;
    if (sender === alexA) {
      original = `original-${++originals}`;
      sentItems().push(originalOf(raw, original));
    }
    const reply = await loop.send(raw, { from: sender, to: [buyer] });
    const id = /^250 2\.0\.0 (\S+) queued$/.exec(reply)?.[1];
    assert.ok(id, reply);
    return { id, raw, ...(original ? { original } : {}) };
  }

  async function delivered(id: string): Promise<ParsedMail> {
    const file = path.join(loop.stack.outbox, `${id}.eml`);
    await eventually(
      `delivery of ${id}`,
      () =>
        fs.stat(file).then(
          () => true,
          () => false,
        ),
      60_000,
    );
    return simpleParser(await fs.readFile(file), { keepCidLinks: true });
  }

  /** Exactly one copy of ours, complete, and the original gone. */
  async function replaced(id: string, original: string | undefined): Promise<StoredItem> {
    await eventually(
      `the signed copy of ${id} in Sent Items`,
      () =>
        Promise.resolve(
          copiesOf(id).some((c) =>
            c.singleValueExtendedProperties.some((p) => p.id === copyStateProperty && p.value === 'done'),
          ) && !sentItems().some((i) => i.id === original),
        ),
      60_000,
    );
    const copies = copiesOf(id);
    assert.equal(copies.length, 1, 'exactly one signed copy');
    return copies[0]!;
  }

  const stagedLeft = async () => {
    const left: string[] = [];
    for await (const b of loop.storage().sentItems.listBlobsFlat()) left.push(b.name);
    return left;
  };
  const events = async (id: string) => (await trace.forMessage(id)).map((e) => e.event);

  void it("Alpha's message (Sent Items on) ends as one signed item in the sender's Sent Items, the original removed", async () => {
    const { id, original } = await send(alexA);
    const mail = await delivered(id);
    assert.match(String(mail.html), /ALPHA BAIT Alpha Buyer/);
    const copy = await replaced(id, original);
    assert.equal(copy.isDraft, false, 'a sent message, not a draft');
    assert.match(copy.body?.content ?? '', /sigrelay-signature[\s\S]*ALPHA BAIT Alpha Buyer/);
    assert.deepEqual(
      copy.attachments.filter((a) => a.isInline).map((a) => a.content),
      [photos.a],
      "the signature's photo travels with the copy",
    );
    await eventually('the staged copy is dropped', async () => !(await stagedLeft()).includes(`${id}.eml`));
    assert.equal(await inboundBlobCount(loop.storage()), 0);
    assert.deepEqual((await events(id)).slice(-2), ['deleted', 'sent-items']);
  });

  void it("Beta's message (Sent Items off) gets Beta's own signature, agreeing with the preview and the CLI, and no job", async () => {
    const { id } = await send(alexB);
    const mail = await delivered(id);
    const html = String(mail.html);
    assert.match(html, /BETA SIGNATURE Alex Wilber, Beta Designer/);
    assert.doesNotMatch(html, /ALPHA|LEAKED|CAMPAIGN/);

    const content = await loadContent(configDir);
    const preview = await content.preview({ sender: alexB, recipients: [buyer], messageType: 'reply' });
    assert.equal(preview.resolution.action, 'sign');
    if (preview.resolution.action !== 'sign') return;
    assert.ok(html.includes(preview.resolution.content.html), 'the loop inserted what the preview shows');

    const out = path.join(configDir, 'cli-preview');
    const { stdout } = await run(process.execPath, [
      cli,
      'preview',
      '--config',
      configDir,
      '--sender',
      alexB,
      '--recipient',
      buyer,
      '--reply',
      '--out',
      out,
    ]);
    const signing = (await trace.forMessage(id)).find((e) => e.event === 'signed');
    assert.match(
      stdout,
      new RegExp(
        `result: +rule ${String(signing?.details.rule)}, template ${String(signing?.details.template)}`,
      ),
    );
    // The CLI inlines images as data: URIs; the delivered message carries them as cid: parts.
    let inlined = html;
    for (const part of mail.attachments)
      if (part.cid)
        inlined = inlined.replaceAll(
          `cid:${part.cid}`,
          `data:${part.contentType};base64,${part.content.toString('base64')}`,
        );
    const cliHtml = (await fs.readFile(path.join(out, 'signature.html'), 'utf8'))
      .replace(/^<!doctype html>\n<meta charset="utf-8">\n/, '')
      .trimEnd();
    assert.ok(inlined.includes(cliHtml), 'the loop, with its images, is what the CLI shows');
    const images = mail.attachments.filter((a) => a.cid).map((a) => a.content);
    assert.deepEqual(images, [logos.b, photos.b], "Beta's logo and photo, never Alpha's of the same names");

    assert.deepEqual(await stagedLeft(), []);
    assert.ok(!(await events(id)).includes('sent-items'), 'no Sent Items job for a tenant with it off');
    assert.deepEqual(graph.tenant(tenantB.id).requests, [], "Beta's Graph is never called");
  });

  void it('through the Durable path (the endpoint answers 451 first) the same: one signed item, the original removed', async () => {
    await loop.stack.setStandinBehaviour({
      dataReply: { code: 451, text: '4.3.2 try again later', times: 1 },
    });
    const { id, original } = await send(alexA);
    await delivered(id);
    await replaced(id, original);
    const trail = await events(id);
    assert.ok(trail.includes('handed-over'), trail.join(' '));
    assert.deepEqual(
      trail.filter((e) => e === 'sent-items'),
      ['sent-items'],
      'staged once, by the delete activity',
    );
    await eventually('nothing left stored', async () => (await inboundBlobCount(loop.storage())) === 0);
  });

  void it('Graph throttling (429 with Retry-After) and an original not there yet (404) are retried until replaced', async () => {
    const g = graph.tenant(tenantA.id);
    g.throttleNext = 1;
    g.retryAfterSeconds = 1;
    g.notFoundLookups = 1;
    const before = g.requests.length;
    const { id, original } = await send(alexA);
    await delivered(id);
    await replaced(id, original);
    const lookups = g.requests
      .slice(before)
      .filter((r) => r.startsWith('GET ') && r.includes('internetMessageId'));
    assert.ok(lookups.length >= 2, 'the lookup answered 404 was made again');
    assert.equal(g.throttleNext, 0, 'the throttled request was answered 429');
  });

  void it('a Graph outage never affects delivery: delivered and deleted at once, Sent Items replaced once Graph is back', async () => {
    const g = graph.tenant(tenantA.id);
    g.failWith = 503;
    const before = g.requests.length;
    const { id, original } = await send(alexA);
    await delivered(id);
    await eventually('the inbound copy deleted', async () => (await inboundBlobCount(loop.storage())) === 0);
    assert.deepEqual(copiesOf(id), [], 'nothing replaced while Graph is down');
    assert.ok(sentItems().some((i) => i.id === original));
    await eventually('the worker tried Graph', () => Promise.resolve(g.requests.length > before));
    g.failWith = undefined;
    await replaced(id, original);
  });

  void it('storage requests: Sent Items adds one blob PUT and one queue message per message, only for a tenant with it on', async () => {
    const count = 3;
    const queue = loop.storage().sentItemsQueue;
    // Earlier tests' last jobs are deleted by the host just after they ran: let them go first.
    await eventually(
      'no Sent Items job left from earlier tests',
      async () => (await queue.getProperties()).approximateMessagesCount === 0,
    );
    const start = Date.now();
    for (let i = 0; i < count; i++) await delivered((await send(alexB)).id);
    const middle = Date.now();
    const sentA: { id: string; original?: string }[] = [];
    for (let i = 0; i < count; i++) {
      const message = await send(alexA);
      await delivered(message.id);
      sentA.push(message);
    }
    for (const m of sentA) await replaced(m.id, m.original);
    await eventually('the staged copies dropped', async () => (await stagedLeft()).length === 0);
    const end = Number.POSITIVE_INFINITY;
    const sentItemsRequests = async () =>
      (await readAzuriteDebugLog(debugLog)).filter(
        (r) =>
          (r.service === 'blob'
            ? r.resource === names.sentItemsContainer
            : r.resource === names.sentItemsQueue) && backgroundKind(r) === undefined,
      );
    const tally = (requests: StorageRequest[], from: number, to: number) => {
      const out: Record<string, number> = {};
      for (const r of requests.filter((q) => q.at >= from && q.at < to)) {
        const key = `${r.service} ${r.operation}`;
        out[key] = (out[key] ?? 0) + 1;
      }
      return out;
    };
    // The debug log is written asynchronously: wait until it holds the last delete.
    await eventually('the request log to catch up', async () => {
      const t = tally(await sentItemsRequests(), middle, end);
      return (t['blob Blob_Delete'] ?? 0) >= count && (t['queue MessageId_Delete'] ?? 0) >= count;
    });
    const requests = await sentItemsRequests();
    assert.deepEqual(tally(requests, start, middle), {}, 'a tenant with it off: no request at all');
    const on = tally(requests, middle, end);
    assert.equal(on['blob BlockBlob_Upload'], count, 'delivery path: one blob PUT per message');
    assert.equal(on['queue Messages_Enqueue'], count, 'delivery path: one queue message per message');
    assert.equal(on['blob Blob_Download'], count, 'worker: reads the staged copy once');
    assert.equal(on['blob Blob_Delete'], count, 'worker: drops it once done');
    assert.equal(on['queue MessageId_Delete'], count, 'the host deletes each job once');
  });
});
