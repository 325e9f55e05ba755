import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { promisify } from 'node:util';
import { before, describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { ConfigError, projectRoot, sampleConfigDir } from '../../../src/config/index.js';
import { loadContent, type ContentStore } from '../../../src/content/index.js';
import { signMessage, type MessageFacts, type SignatureResolution } from '../../../src/signing/index.js';
import {
  alexA,
  alexB,
  logos,
  makeTwoTenantConfig,
  meganB,
  photos,
  tenantA,
  tenantB,
} from '../../fixtures/content/two-tenants.js';

const run = promisify(execFile);
const cli = path.join(projectRoot, 'dist', 'src', 'cli', 'main.js');
const mspConfig = path.join(projectRoot, 'config', 'msp');

function facts(sender: string, to = 'buyer@example.org'): MessageFacts {
  return { sender, from: sender, recipients: [to], subject: 'Offer', headers: new Map() };
}

function signed(
  resolution: SignatureResolution,
): Extract<SignatureResolution, { action: 'sign' }>['content'] {
  assert.equal(resolution.action, 'sign', JSON.stringify(resolution));
  if (resolution.action !== 'sign') throw new Error('unsigned');
  return resolution.content;
}

async function signRaw(content: ContentStore, sender: string): Promise<string> {
  const raw = [
    `From: Alex Wilber <${sender}>`,
    'To: buyer@example.org',
    'Subject: Offer',
    'Message-ID: <m1@example>',
    'MIME-Version: 1.0',
    'Content-Type: text/html; charset=utf-8',
    '',
    '<html><body><p>Hello</p></body></html>',
    '',
  ].join('\r\n');
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (c: Buffer) => chunks.push(c));
  const decision = await signMessage(Readable.from([Buffer.from(raw)]), output, content.resolve, {
    sender,
    recipients: ['buyer@example.org'],
  });
  assert.equal(decision.action, 'signed');
  const parsed = await simpleParser(Buffer.concat(chunks), { keepCidLinks: true });
  const logo = parsed.attachments.find((a) => a.cid === 'logo.png@sigrelay');
  assert.ok(logo, 'the logo travels as an inline part');
  return `${String(parsed.html)}\nlogo:${logo.content.equals(logos.b) ? 'beta' : logo.content.equals(logos.a) ? 'alpha' : '?'}`;
}

void describe('tenants with their own folders are resolved in isolation', () => {
  let dir: string;
  let content: ContentStore;
  before(async () => {
    dir = await makeTwoTenantConfig();
    content = await loadContent(dir);
  });

  void it("a Beta sender gets Beta's user, rule, template and logo, despite Alpha's look-alikes", async () => {
    const beta = signed(await content.resolve(facts(alexB)));
    assert.equal(beta.rule, 'beta-corporate');
    assert.match(beta.html, /BETA SIGNATURE Alex Wilber, Beta Designer/);
    assert.doesNotMatch(beta.html, /ALPHA|LEAKED/);
    assert.deepEqual(
      beta.images.map((i) => i.content),
      [logos.b, photos.b],
    );
  });

  void it("each tenant's Alex gets their own stored photo, though both photos have one name", async () => {
    // Alpha first: a photo cache keyed by file name alone would then hand Alpha's to Beta.
    const alpha = signed(await content.resolve(facts(alexA)));
    const beta = signed(await content.resolve(facts(alexB)));
    const photoOf = (c: typeof alpha) => c.images.find((i) => i.contentType === 'image/jpeg')?.content;
    assert.deepEqual(photoOf(alpha), photos.a);
    assert.deepEqual(photoOf(beta), photos.b);
  });

  void it("a Beta user naming a photo that only Alpha's store holds gets no photo", async () => {
    const megan = signed(await content.resolve(facts(meganB)));
    assert.match(megan.html, /BETA SIGNATURE Megan Bowen/);
    assert.deepEqual(
      megan.images.map((i) => i.content),
      [logos.b],
    );
    assert.doesNotMatch(megan.html, /alt="photo"/);
  });

  void it("an Alpha sender with the same local part and display name gets Alpha's own", async () => {
    const alpha = signed(await content.resolve(facts(alexA)));
    assert.equal(alpha.rule, 'alpha-bait', "Alpha's own group rule still applies to Alpha's users");
    assert.match(alpha.html, /ALPHA BAIT Alpha Buyer/);
  });

  void it("Alpha's campaign never reaches Beta's mail", async () => {
    const beta = signed(await content.resolve(facts(alexB)));
    assert.doesNotMatch(beta.html, /CAMPAIGN/);
  });

  void it("the preview lists only the sender tenant's rules", async () => {
    const explanation = await content.preview({ sender: alexB, recipients: [], messageType: 'new' });
    assert.equal(explanation.tenant, tenantB.name);
    assert.deepEqual(
      explanation.verdicts.map((v) => v.rule),
      ['beta-corporate'],
    );
    assert.deepEqual(
      (await content.preview({ sender: alexA, recipients: [], messageType: 'new' })).verdicts.map(
        (v) => v.rule,
      ),
      ['alpha-bait', 'alpha-corporate'],
    );
  });

  void it('the preview, the CLI and the signing path agree on the Beta signature', async () => {
    const preview = signed(
      (await content.preview({ sender: alexB, recipients: ['buyer@example.org'], messageType: 'new' }))
        .resolution,
    );
    const resolved = signed(await content.resolve(facts(alexB)));
    assert.equal(preview.html, resolved.html);

    const out = path.join(dir, 'preview-out');
    const { stdout } = await run(process.execPath, [
      cli,
      'preview',
      '--config',
      dir,
      '--sender',
      alexB,
      '--recipient',
      'buyer@example.org',
      '--out',
      out,
    ]);
    assert.match(stdout, new RegExp(`tenant ${tenantB.name}`));
    assert.match(stdout, /result: +rule beta-corporate, template corporate/);
    const cliHtml = await fs.readFile(path.join(out, 'signature.html'), 'utf8');
    assert.match(cliHtml, /BETA SIGNATURE Alex Wilber, Beta Designer/);
    assert.ok(cliHtml.includes(logos.b.toString('base64')), "the CLI inlines Beta's logo");
    assert.ok(cliHtml.includes(photos.b.toString('base64')), "and Beta's photo");
    assert.ok(!cliHtml.includes(photos.a.toString('base64')), "never Alpha's");

    const message = await signRaw(content, alexB);
    assert.match(message, /BETA SIGNATURE Alex Wilber, Beta Designer/);
    assert.doesNotMatch(message, /ALPHA|LEAKED/);
    assert.match(message, /logo:beta$/);
  });

  void it('the tenant id in the store picks the same content the signing path uses', () => {
    const tenant = content.tenants.byTenantId(tenantA.id);
    assert.ok(tenant);
    assert.deepEqual(
      content.contentFor(tenant).rules.map((r) => r.name),
      ['alpha-bait', 'alpha-corporate'],
    );
    assert.equal(content.users.users.length, 0, 'the root has no users of its own');
  });
});

void describe('tenants.json folders', () => {
  const base = {
    name: 'T',
    delivery: { host: 'x.mail.protection.outlook.com' },
  };

  async function loadTenantsJson(tenants: unknown[]): Promise<unknown> {
    const dir = await makeTwoTenantConfig();
    await fs.writeFile(path.join(dir, 'tenants.json'), JSON.stringify(tenants));
    return loadContent(dir).then(
      () => undefined,
      (err: unknown) => err,
    );
  }

  void it('two tenants sharing a folder is an error naming the field', async () => {
    const err = await loadTenantsJson([
      { ...base, id: tenantA.id, domains: ['a.example'], folder: 'shared' },
      { ...base, id: tenantB.id, domains: ['b.example'], folder: 'shared' },
    ]);
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /tenants\.json: \[1\]\.folder: folder shared already belongs to tenant T/);
  });

  void it('a folder leaving the configuration is refused', async () => {
    const err = await loadTenantsJson([
      { ...base, id: tenantA.id, domains: ['a.example'], folder: '../etc' },
    ]);
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /\[0\]\.folder/);
  });

  void it('two synced tenants without folders would overwrite one users.json: refused', async () => {
    const directory = { credential: { type: 'managed-identity' } };
    const err = await loadTenantsJson([
      { ...base, id: tenantA.id, domains: ['a.example'], directory },
      { ...base, id: tenantB.id, domains: ['b.example'], directory },
    ]);
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /\[1\]\.folder: every tenant with directory sync needs its own folder/);
  });

  void it('the one-tenant sample without folders loads as before', async () => {
    const content = await loadContent(sampleConfigDir);
    assert.ok(content.users.users.length > 0);
  });
});

void describe('the config/msp sample', () => {
  for (const [sender, tenant, marker] of [
    [
      'alex@northwindtraders.com',
      'Northwind Traders',
      /Purchasing Manager \| Sales[\s\S]*shop\.northwindtraders\.com/,
    ],
    ['alex@tailspintoys.com', 'Tailspin Toys', /Toy Designer[\s\S]*Toy Fair/],
  ] as const) {
    void it(`sigrelay preview --config config/msp --sender ${sender} shows ${tenant}'s own signature`, async () => {
      const out = await fs.mkdtemp(path.join(path.dirname(mspConfig), '..', 'dist', 'msp-preview-'));
      const { stdout } = await run(process.execPath, [
        cli,
        'preview',
        '--config',
        mspConfig,
        '--sender',
        sender,
        '--recipient',
        'buyer@example.org',
        '--out',
        out,
      ]);
      assert.match(stdout, new RegExp(`\\(Alex Wilber\\), tenant ${tenant}`));
      const text = await fs.readFile(path.join(out, 'signature.txt'), 'utf8');
      assert.match(text, marker);
      await fs.rm(out, { recursive: true, force: true });
    });
  }

  void it("Northwind's Alex has the stored photo embedded; Megan, without one, has no photo image", async () => {
    const content = await loadContent(mspConfig);
    const alex = signed(await content.resolve(facts('alex@northwindtraders.com')));
    const photo = alex.images.find((i) => i.contentType === 'image/jpeg');
    assert.ok(photo, 'the photo is an inline part');
    assert.match(
      alex.html,
      new RegExp(`<img src="cid:${photo.cid.replace(/[.]/g, '\\.')}" alt="Alex Wilber" width="64"`),
    );
    const megan = signed(await content.resolve(facts('megan@northwindtraders.com')));
    assert.equal(megan.images.filter((i) => i.contentType === 'image/jpeg').length, 0);
    assert.equal((megan.html.match(/<img/g) ?? []).length, 1, 'only the logo');
  });
});
