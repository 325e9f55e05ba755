import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sampleConfigDir } from '../../src/config/index.js';
import { loadContent, loadContentFromBlob, type ContentStore } from '../../src/content/index.js';
import { Azurite } from '../../src/local/azurite.js';
import type { MessageFacts } from '../../src/signing/types.js';
import { createStorageClients, ensureStorage, type StorageClients } from '../../src/storage/index.js';
import { eventually } from '../helpers/loop.js';

/** Long enough that an upload and one resolve fit inside it on a busy CI machine. */
const checkIntervalMs = 1500;

function facts(from: string, to: string[], subject = 'Q3 order', inReplyTo?: string): MessageFacts {
  return { sender: from, from, recipients: to, subject, inReplyTo, headers: new Map() };
}

/** One message per path through the rules, plus the two ways a sender can be unknown. */
const samples: [string, MessageFacts][] = [
  [
    'a Sales user writing outside (rule, banner, image)',
    facts('alice@contoso.com', ['megan@fabrikam.example']),
  ],
  [
    'a Sales user replying outside (short variant)',
    facts('alice@contoso.com', ['megan@fabrikam.example'], 'RE: Q3 order', '<a@fabrikam.example>'),
  ],
  ['a proxy address of the same user', facts('alice.martin@fabrikam-sales.com', ['megan@fabrikam.example'])],
  ['an internal new message', facts('zoe.mueller@contoso.com', ['alice@contoso.com'])],
  ['an internal reply (variant none)', facts('zoe.mueller@contoso.com', ['alice@contoso.com'], 'AW: Budget')],
  ['a user the directory does not know', facts('nobody@contoso.com', ['megan@fabrikam.example'])],
  ['a domain no tenant owns', facts('mallory@evil.example', ['megan@fabrikam.example'])],
];

const alice = samples[0]![1];

async function uploadDirectory(container: StorageClients['config'], root: string): Promise<string[]> {
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries.filter((e) => e.isFile())) {
    const file = path.join(entry.parentPath, entry.name);
    const name = path.relative(root, file).split(path.sep).join('/');
    await container.getBlockBlobClient(name).uploadData(await fs.readFile(file));
    names.push(name);
  }
  return names.sort();
}

async function uploadText(container: StorageClients['config'], name: string, text: string): Promise<void> {
  await container.getBlockBlobClient(name).uploadData(Buffer.from(text, 'utf8'));
}

async function signedHtml(store: ContentStore): Promise<string> {
  const resolution = await store.resolve(alice);
  assert.equal(resolution.action, 'sign', JSON.stringify(resolution));
  return resolution.action === 'sign' ? resolution.content.html : '';
}

describe('content from the Blob config container (Azurite)', { timeout: 40_000 }, () => {
  let workDir: string;
  let azurite: Azurite;
  let storage: StorageClients;
  let fromDirectory: ContentStore;
  let fromBlob: ContentStore;
  const reloads: number[] = [];
  const errors: Error[] = [];

  before(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-content-blob-'));
    azurite = new Azurite({ location: workDir });
    await azurite.start();
    storage = createStorageClients({ connectionString: azurite.connectionString });
    await ensureStorage(storage);
    const uploaded = await uploadDirectory(storage.config, sampleConfigDir);
    assert.ok(uploaded.includes('rules.json') && uploaded.includes('images/logo.png'), uploaded.join(', '));
    fromDirectory = await loadContent(sampleConfigDir);
    fromBlob = await loadContentFromBlob(storage.config, {
      checkIntervalMs,
      onReload: () => reloads.push(Date.now()),
      onError: (err) => errors.push(err),
    });
  });
  after(async () => {
    await azurite?.stop();
    if (workDir) await fs.rm(workDir, { recursive: true, force: true });
  });

  it('resolves exactly what the configuration directory resolves', async () => {
    assert.deepEqual(
      fromBlob.rules.map((r) => r.name),
      fromDirectory.rules.map((r) => r.name),
    );
    assert.equal(fromBlob.users.users.length, fromDirectory.users.users.length);
    assert.deepEqual(fromBlob.tenants.tenants, fromDirectory.tenants.tenants);
    for (const [what, message] of samples) {
      assert.deepEqual(await fromBlob.resolve(message), await fromDirectory.resolve(message), what);
    }
    const signed = await fromBlob.resolve(alice);
    assert.equal(signed.action, 'sign');
    if (signed.action !== 'sign') return;
    assert.equal(signed.content.rule, 'sales-external');
    assert.equal(signed.content.template, 'sales');
    assert.match(signed.content.html, /Alice Martin/);
    assert.match(signed.content.html, /spring-summit/, 'the banner campaign is in its window');
    assert.deepEqual(
      signed.content.images.map((i) => [i.filename, i.contentType]),
      [['logo.png', 'image/png']],
    );
    const logo = await fs.readFile(path.join(sampleConfigDir, 'images', 'logo.png'));
    assert.ok(signed.content.images[0]?.content.equals(logo), 'the image bytes come from the blob');
    assert.deepEqual(reloads, [], 'nothing changed, nothing reloaded');
  });

  it('reloads a changed template blob (new ETag) within the check interval', async () => {
    const before = await signedHtml(fromBlob);
    await fromBlob.refresh();
    const source = await fs.readFile(path.join(sampleConfigDir, 'templates', 'sales.html'), 'utf8');
    await uploadText(storage.config, 'templates/sales.html', `${source}\n<p>Edited in Blob storage</p>\n`);
    const uploadedAt = Date.now();
    assert.equal(await signedHtml(fromBlob), before, 'no new listing before the interval is up');

    let html = before;
    await eventually(
      'the edited template',
      async () => {
        html = await signedHtml(fromBlob);
        return html !== before;
      },
      checkIntervalMs + 5000,
    );
    const tookMs = Date.now() - uploadedAt;
    assert.ok(
      tookMs < checkIntervalMs + 2000,
      `picked up after ${tookMs} ms (interval ${checkIntervalMs} ms)`,
    );
    assert.ok(!before.includes('Edited in Blob storage'));
    assert.match(html, /<p>Edited in Blob storage<\/p>/);
    assert.equal(reloads.length, 1);
    assert.deepEqual(errors, []);
    assert.equal(fromBlob.lastError, undefined);

    // The directory sync's bookkeeping blob changes on every run; it is not configuration.
    await uploadText(storage.config, '.sync/directory.json', '{"deltaLink":"x"}');
    await fromBlob.refresh();
    assert.equal(reloads.length, 1, 'a bookkeeping blob does not reload the configuration');
  });

  it('keeps the last good configuration when rules.json turns invalid, and says which file and field', async () => {
    const good = await signedHtml(fromBlob);
    const goodRules = await fs.readFile(path.join(sampleConfigDir, 'rules.json'), 'utf8');
    const reloadsBefore = reloads.length;
    const cases: [string, string][] = [
      [
        JSON.stringify([{ name: 'corporate', template: 'corporate', recipients: 'everyone' }]),
        'config/rules.json: [0].recipients: Invalid option: expected one of "any"|"internal"|"external"',
      ],
      [
        JSON.stringify([
          { name: 'corporate', template: 'corporate' },
          { name: 'typo', template: 'corprate' },
        ]),
        'config/rules.json: [1].template: template "corprate" not found (expected templates/corprate.html)',
      ],
      ['[{"name": "corporate",', 'config/rules.json: invalid JSON:'],
    ];
    for (const [rules, message] of cases) {
      const errorsBefore = errors.length;
      await uploadText(storage.config, 'rules.json', rules);
      await eventually('the error to be reported', async () => {
        await fromBlob.resolve(alice);
        return errors.length > errorsBefore;
      });
      assert.equal(errors.length, errorsBefore + 1);
      const reported = errors.at(-1)?.message ?? '';
      if (message.endsWith(':')) assert.ok(reported.startsWith(message), reported);
      else assert.equal(reported, message);
      assert.equal(fromBlob.lastError?.message, reported);
      assert.equal(fromBlob.lastError?.name, 'ConfigError');
      assert.equal(await signedHtml(fromBlob), good, 'the last good configuration still signs');
      assert.equal(fromBlob.rules.length, 4);
      await fromBlob.refresh();
      assert.equal(errors.length, errorsBefore + 1, 'the same bad configuration is reported once');
    }
    assert.equal(reloads.length, reloadsBefore);

    await uploadText(storage.config, 'rules.json', goodRules);
    await fromBlob.refresh();
    assert.equal(reloads.length, reloadsBefore + 1, 'a fixed rules.json is taken into service');
    assert.equal(fromBlob.lastError, undefined);
    assert.equal(await signedHtml(fromBlob), good);
  });

  it('stops reporting the error once the bad blob is deleted and the listing is as before', async () => {
    const errorsBefore = errors.length;
    const reloadsBefore = reloads.length;
    await uploadText(storage.config, 'templates/broken.html', '<p>{% if user.mail %}unclosed</p>\n');
    await fromBlob.refresh();
    assert.equal(errors.length, errorsBefore + 1);
    assert.equal(
      fromBlob.lastError?.message,
      'config/templates/broken.html: line 1: tag {% if user.mail %} not closed',
    );

    await storage.config.deleteBlob('templates/broken.html');
    await fromBlob.refresh();
    assert.equal(fromBlob.lastError, undefined, 'the configuration in service is what the container holds');
    assert.equal(reloads.length, reloadsBefore, 'nothing new to load');
    assert.equal(errors.length, errorsBefore + 1);
  });
});
