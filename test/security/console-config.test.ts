import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { csrfHeader, type ApiError, type ConfigFile } from '../../src/admin/contract.js';
import { ConfigError, loadSettings } from '../../src/config/index.js';
import { faultConfig, faultEnv } from '../helpers/fault-config.js';
import { startLoop } from '../helpers/loop.js';

/**
 * Issue 19, findings 4 and 7, against the running console (functions host, Azurite, stand-in):
 * a self-including draft blocked the host and exhausted its heap; saving tenants.json with any
 * delivery host and absolute certificate paths was accepted and put in service.
 */
describe('the console refuses dangerous configuration', { timeout: 180_000 }, () => {
  let loop: Awaited<ReturnType<typeof startLoop>>;
  let configDir: string;
  let cookie = '';

  async function call<T>(
    method: string,
    route: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const res = await fetch(`http://127.0.0.1:${loop.stack.ports.functions}${route}`, {
      method,
      headers: {
        cookie,
        ...(method === 'GET' ? {} : { [csrfHeader]: '1' }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    const parsed = res.headers.get('content-type')?.startsWith('application/json')
      ? (JSON.parse(text) as T)
      : undefined;
    return { status: res.status, body: parsed as T, text, headers: res.headers };
  }

  async function save(name: string, content: string) {
    const file = await call<ConfigFile>('GET', `/api/admin/config/files/${name}`);
    assert.equal(file.status, 200, file.text);
    return call<ApiError>(
      'PUT',
      `/api/admin/config/files/${name}`,
      { content },
      { 'if-match': file.body.etag },
    );
  }

  const preview = (drafts: Record<string, string>) =>
    call<ApiError>('POST', '/api/admin/preview', {
      sender: 'alice@contoso.com',
      recipient: 'internal',
      messageType: 'new',
      template: 'corporate',
      drafts,
      clients: ['gmail'],
    });

  before(async () => {
    configDir = await faultConfig();
    loop = await startLoop({ configDir, env: faultEnv });
    const res = await fetch(`http://127.0.0.1:${loop.stack.ports.functions}/api/admin/dev/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [csrfHeader]: '1' },
      body: JSON.stringify({ name: 'Ada Admin', admin: true }),
    });
    assert.equal(res.status, 204, await res.text());
    cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  });
  after(async () => {
    await loop?.dispose();
    if (configDir) await fs.rm(configDir, { recursive: true, force: true });
  });

  it('answers a self-including template 422 naming the file, in preview and on save', async () => {
    const selfInclude = "<p>{{ user.displayName }}</p>\n{% include 'corporate' %}";
    const previewed = await preview({ 'templates/corporate.html': selfInclude });
    assert.equal(previewed.status, 422, previewed.text);
    assert.equal(previewed.body.file, 'templates/corporate.html');
    assert.match(previewed.body.error, /nests deeper than/);

    const before = await fs.readFile(path.join(configDir, 'templates/corporate.html'), 'utf8');
    const saved = await save('templates/corporate.html', selfInclude);
    assert.equal(saved.status, 422, saved.text);
    assert.equal(saved.body.file, 'templates/corporate.html');
    assert.equal(await fs.readFile(path.join(configDir, 'templates/corporate.html'), 'utf8'), before);
  });

  it('answers a 9-million-iteration loop and a huge output 422', async () => {
    for (const draft of [
      '{% for i in (1..9000000) %}{% assign x = i %}{% endfor %}{{ x }}',
      `{% for i in (1..2000) %}${'x'.repeat(1000)}{% endfor %}`,
    ]) {
      const res = await preview({ 'templates/corporate.html': draft });
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.file, 'templates/corporate.html');
      assert.match(res.body.error, /limit exceeded|output is larger than/);
    }
    const ordinary = await preview({ 'templates/corporate.html': '<p>{{ user.displayName }}</p>' });
    assert.equal(ordinary.status, 200, `the host still answers: ${ordinary.text}`);
  });

  it('refuses tenants.json pointing delivery elsewhere or at absolute certificate files, naming the field', async () => {
    const original = await fs.readFile(path.join(configDir, 'tenants.json'), 'utf8');
    const tenants = JSON.parse(original) as Record<string, unknown>[];
    const edits: [string, (t: Record<string, unknown>) => Record<string, unknown>][] = [
      ['[0].delivery.host', (t) => ({ ...t, delivery: { host: 'evil.example', port: 25 } })],
      ['[0].delivery.host', (t) => ({ ...t, delivery: { host: '127.0.0.1', port: 2525 } })],
      [
        '[0].delivery.host',
        (t) => ({ ...t, delivery: { host: 'mail.protection.outlook.com.evil.example', port: 25 } }),
      ],
      [
        '[0].certificate.certFile',
        (t) => ({ ...t, certificate: { name: 'relay.contoso.com', certFile: '/etc/ssl/private/other.pem' } }),
      ],
      [
        '[0].certificate.keyFile',
        (t) => ({ ...t, certificate: { name: 'relay.contoso.com', keyFile: '../../secrets/key.pem' } }),
      ],
    ];
    for (const [field, edit] of edits) {
      const changed = tenants.map((t, i) => (i === 0 ? edit(t) : t));
      const res = await save('tenants.json', JSON.stringify(changed, null, 2));
      assert.equal(res.status, 422, `${field}: ${res.text}`);
      assert.equal(res.body.file, 'tenants.json');
      assert.equal(res.body.field, field);
    }
    assert.equal(
      await fs.readFile(path.join(configDir, 'tenants.json'), 'utf8'),
      original,
      'nothing written',
    );
  });
});

describe('the delivery override is a local-profile deployment setting', () => {
  it('SIGRELAY_DELIVERY_HOST fails loudly in production and works locally', () => {
    assert.throws(
      () => loadSettings({ SIGRELAY_PROFILE: 'production', SIGRELAY_DELIVERY_HOST: 'evil.example:25' }),
      (err: unknown) => err instanceof ConfigError && err.field === 'SIGRELAY_DELIVERY_HOST',
    );
    const local = loadSettings({ SIGRELAY_PROFILE: 'local', SIGRELAY_DELIVERY_HOST: '127.0.0.1:2525' });
    assert.equal(local.delivery.override?.host, '127.0.0.1');
  });
});
