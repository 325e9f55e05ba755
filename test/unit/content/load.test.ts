import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import { ConfigError, sampleConfigDir } from '../../../src/config/index.js';
import { loadContent } from '../../../src/content/index.js';
import { run as preview } from '../../../src/cli/commands/preview.js';
import { signMessage } from '../../../src/signing/index.js';
import { facts, makeConfigDir } from '../../fixtures/content/config-dir.js';

async function loadError(options: Parameters<typeof makeConfigDir>[0], fix?: (dir: string) => Promise<void>) {
  const dir = await makeConfigDir(options);
  await fix?.(dir);
  const error = await loadContent(dir).then(
    () => undefined,
    (err: unknown) => err,
  );
  assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
  return { dir, message: error.message };
}

void describe('configuration validation', () => {
  void it('names the file, JSON path and problem for a bad rule', async () => {
    const { dir, message } = await loadError({
      rules: [{ name: 'a', template: 'basic', recipients: 'everyone' }],
    });
    assert.equal(
      message,
      `${path.join(dir, 'rules.json')}: [0].recipients: Invalid option: expected one of "any"|"internal"|"external"`,
    );
  });

  void it('rejects unknown rule fields (typos) and bad sender patterns', async () => {
    const typo = await loadError({ rules: [{ name: 'a', template: 'basic', sender: ['x@y.com'] }] });
    assert.equal(typo.message, `${path.join(typo.dir, 'rules.json')}: [0]: Unrecognized key: "sender"`);
    const pattern = await loadError({ rules: [{ name: 'a', template: 'basic', senders: ['sales'] }] });
    assert.equal(
      pattern.message,
      `${path.join(pattern.dir, 'rules.json')}: [0].senders[0]: expected an address, *@domain or group:<name>`,
    );
  });

  void it('checks dates, reply variants, duplicate names and template references', async () => {
    const cases: [unknown, string][] = [
      [
        { name: 'a', template: 'basic', from: '2026-13-01' },
        '[0].from: expected a date (YYYY-MM-DD) or an ISO date-time with offset',
      ],
      [
        { name: 'a', template: 'basic', from: '2026-05-01', until: '2026-04-01' },
        '[0].until: 2026-04-01 is not after from (2026-05-01)',
      ],
      [
        { name: 'a', template: 'basic', replyVariant: 'short' },
        '[0].replyVariant: expected full, none or short:<template>',
      ],
      [
        { name: 'a', template: 'missing' },
        '[0].template: template "missing" not found (expected templates/missing.html)',
      ],
      [
        { name: 'a', template: 'basic', replyVariant: 'short:nope' },
        '[0].replyVariant: template "nope" not found (expected templates/nope.html)',
      ],
      [
        { name: 'a', template: 'basic', banner: { template: 'basic', image: 'nope.png' } },
        '[0].banner.image: expected an https URL or a .png, .jpg, .gif or .webp file under images/, got "nope.png"',
      ],
      [
        { name: 'a', template: 'basic', banner: { template: 'basic', link: 'javascript:alert(1)' } },
        '[0].banner.link: expected an http(s) URL',
      ],
    ];
    for (const [rule, expected] of cases) {
      const { dir, message } = await loadError({ rules: [rule] });
      assert.equal(message, `${path.join(dir, 'rules.json')}: ${expected}`);
    }
    const dup = await loadError({
      rules: [
        { name: 'a', template: 'basic' },
        { name: 'a', template: 'basic' },
      ],
    });
    assert.equal(dup.message, `${path.join(dup.dir, 'rules.json')}: [1].name: duplicate rule name "a"`);
  });

  void it('names the template file and line for Liquid errors and missing images', async () => {
    const syntax = await loadError({
      templates: { 'basic.html': '<p>\n{{ user.displayName | shout }}</p>' },
    });
    assert.equal(
      syntax.message,
      `${path.join(syntax.dir, 'templates/basic.html')}: line 2: undefined filter: shout`,
    );
    const unclosed = await loadError({ templates: { 'basic.html': '<p>\n\n{% if user.mail %}</p>' } });
    assert.equal(
      unclosed.message,
      `${path.join(unclosed.dir, 'templates/basic.html')}: line 3: tag {% if user.mail %} not closed`,
    );
    const image = await loadError({ templates: { 'basic.html': '<p>\n<img src="cid:missing.png"></p>' } });
    assert.equal(
      image.message,
      `${path.join(image.dir, 'templates/basic.html')}: line 2: cid:missing.png needs a .png, .jpg, .gif or .webp file images/missing.png`,
    );
  });

  void it('validates users.json and invalid JSON', async () => {
    const users = await loadError({ users: [{ mail: 'a@fabrikam.com', groups: 'Sales' }] });
    assert.equal(
      users.message,
      `${path.join(users.dir, 'users.json')}: [0].groups: Invalid input: expected array, received string`,
    );
    const twice = await loadError({
      users: [{ mail: 'a@fabrikam.com' }, { displayName: 'B', proxyAddresses: ['smtp:A@fabrikam.com'] }],
    });
    assert.equal(
      twice.message,
      `${path.join(twice.dir, 'users.json')}: [1]: address a@fabrikam.com also belongs to another user`,
    );
    const json = await loadError({}, (dir) => fs.writeFile(path.join(dir, 'rules.json'), '[{'));
    assert.match(json.message, new RegExp(`^${path.join(json.dir, 'rules.json')}: invalid JSON: `));
  });
});

void describe('reload on change', () => {
  void it('picks up a changed template and keeps the last good config when a change is bad', async () => {
    const dir = await makeConfigDir();
    const errors: Error[] = [];
    let reloads = 0;
    const content = await loadContent(dir, {
      checkIntervalMs: 0,
      onError: (e) => errors.push(e),
      onReload: () => reloads++,
    });
    const html = async () => {
      const r = await content.resolve(facts('ada@fabrikam.com', []));
      return r.action === 'sign' ? r.content.html : r.reason;
    };
    assert.equal(await html(), '<p>Ada Lovelace</p>');

    await fs.writeFile(path.join(dir, 'templates/basic.html'), '<p>Kind regards, {{ user.givenName }}</p>');
    assert.equal(await html(), '<p>Kind regards, Ada</p>');
    assert.equal(reloads, 1);

    await fs.writeFile(path.join(dir, 'rules.json'), '[{"name":"broken"}]');
    assert.equal(await html(), '<p>Kind regards, Ada</p>');
    assert.equal(await html(), '<p>Kind regards, Ada</p>');
    assert.deepEqual(
      errors.map((e) => e.message),
      [`${path.join(dir, 'rules.json')}: [0].template: Invalid input: expected string, received undefined`],
    );
    assert.equal(content.lastError, errors[0]);

    await fs.writeFile(path.join(dir, 'rules.json'), '[]');
    assert.equal(await html(), 'no-rule');
    assert.equal(content.lastError, undefined);
    assert.equal(reloads, 2);
  });
});

void describe('sample configuration and preview', () => {
  void it('loads the Contoso sample and signs through the engine with the logo embedded', async () => {
    const content = await loadContent(sampleConfigDir);
    const raw = [
      'From: Zoë <zoe.mueller@contoso.com>',
      'To: buyer@example.org',
      'Subject: Offer',
      'Message-ID: <m1@contoso.com>',
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
      sender: 'zoe.mueller@contoso.com',
      recipients: ['buyer@example.org'],
    });
    assert.equal(decision.action, 'signed');
    assert.equal(decision.rule, 'corporate');
    const parsed = await simpleParser(Buffer.concat(chunks));
    assert.match(String(parsed.html), /R&amp;D &lt;Lead&gt;/);
    // mailparser swaps a cid: reference for a data: URI only when the part with that Content-ID exists.
    assert.match(String(parsed.html), /<img src="data:image\/png;base64,iVBOR/);
    const logo = parsed.attachments.find((a) => a.cid === 'logo.png@sigrelay');
    assert.ok(logo, 'the logo travels as an inline part');
    assert.equal(logo.contentType, 'image/png');
    assert.deepEqual(logo.content, await fs.readFile(path.join(sampleConfigDir, 'images/logo.png')));
  });

  void it('preview CLI writes both files and explains every rule', async () => {
    const out = await fs.mkdtemp(path.join(path.dirname(await makeConfigDir()), 'sigrelay-preview-'));
    const lines: string[] = [];
    const log = console.log;
    console.log = (line: string) => lines.push(line);
    try {
      const code = await preview({
        config: sampleConfigDir,
        sender: 'jose.garcia@contoso.com',
        recipient: ['a@example.org'],
        reply: true,
        out,
      });
      assert.equal(code, 0);
    } finally {
      console.log = log;
    }
    const printed = lines.join('\n');
    assert.match(printed, /✔ sales-external/);
    assert.match(printed, /✘ corporate: not reached: sales-external matched first/);
    assert.match(printed, /result: +rule sales-external, template corporate-reply, placement underReply/);
    assert.equal(
      await fs.readFile(path.join(out, 'signature.txt'), 'utf8'),
      '-- \nJosé García · Account Executive\nContoso Ltd\n',
    );
    assert.match(await fs.readFile(path.join(out, 'signature.html'), 'utf8'), /José García/);
  });

  void it('preview CLI exits 2 with the ConfigError message on a bad configuration', async () => {
    const dir = await makeConfigDir({ rules: [{ name: 'a' }] });
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => errors.push(line);
    try {
      assert.equal(await preview({ config: dir, sender: 'ada@fabrikam.com', recipient: [], out: '.' }), 2);
    } finally {
      console.error = original;
    }
    assert.deepEqual(errors, [
      `sigrelay: configuration error: ${path.join(dir, 'rules.json')}: [0].template: Invalid input: expected string, received undefined`,
    ]);
  });
});
