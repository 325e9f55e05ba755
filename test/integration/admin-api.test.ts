import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { csrfHeader, clientShapes, imageMaxBytes } from '../../src/admin/contract.js';
import type {
  ApiError,
  AuditEntry,
  ConfigFile,
  DeadLetter,
  Health,
  MessageSummary,
  MessageTimeline,
  PreviewResponse,
  RulesDocument,
  SaveResult,
  VersionList,
  WhoGetsWhat,
} from '../../src/admin/contract.js';
import { sample } from '../../src/admin/conversations.js';
import { HTML_MARKER_CLASS } from '../../src/signing/index.js';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { acceptedCount, assertDeliveredOnce, idFromReply, sendDeadLetter } from '../helpers/fault-checks.js';
import { faultConfig, faultEnv } from '../helpers/fault-config.js';
import { eventually, startLoop } from '../helpers/loop.js';

interface Answer<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** What App Service Authentication hands the app for a signed-in Entra ID user. */
function easyAuthPrincipal(name: string, roles: string[]): string {
  return Buffer.from(
    JSON.stringify({
      auth_typ: 'aad',
      name_typ: 'name',
      role_typ: 'roles',
      claims: [
        { typ: 'name', val: name },
        { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: `oid-${name}` },
        ...roles.map((val) => ({ typ: 'roles', val })),
      ],
    }),
  ).toString('base64');
}

describe('the admin console API over HTTP in the functions host', { timeout: 300_000 }, () => {
  let loop: Awaited<ReturnType<typeof startLoop>>;
  let configDir: string;
  let consoleDir: string;
  let adminCookie = '';

  async function call<T = unknown>(
    method: string,
    route: string,
    options: {
      body?: unknown;
      headers?: Record<string, string>;
      cookie?: string | null;
      csrf?: boolean;
    } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    const cookie = options.cookie === undefined ? adminCookie : options.cookie;
    if (cookie) headers.cookie = cookie;
    if (method !== 'GET' && options.csrf !== false) headers[csrfHeader] = '1';
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`http://127.0.0.1:${loop.stack.ports.functions}${route}`, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    const text = await res.text();
    let body: unknown = text;
    if (res.headers.get('content-type')?.startsWith('application/json')) body = JSON.parse(text) as unknown;
    return { status: res.status, headers: res.headers, body: body as T, text };
  }

  async function signIn(name: string, admin: boolean): Promise<string> {
    const res = await call('POST', '/api/admin/dev/signin', { body: { name, admin }, cookie: null });
    assert.equal(res.status, 204, res.text);
    const setCookie = res.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    return setCookie.split(';')[0] ?? '';
  }

  const readFile = (name: string) => fs.readFile(path.join(configDir, name), 'utf8');

  before(async () => {
    configDir = await faultConfig();
    consoleDir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-console-build-'));
    await fs.mkdir(path.join(consoleDir, 'assets'));
    await fs.writeFile(path.join(consoleDir, 'index.html'), '<!doctype html><title>console</title>');
    await fs.writeFile(path.join(consoleDir, 'assets', 'index-B2x9kQ7a.js'), 'console.log(1)');
    loop = await startLoop({
      configDir,
      env: {
        ...faultEnv,
        SIGRELAY_QUEUE_RETRY_SECONDS: '1',
        SIGRELAY_CONSOLE_DIR: consoleDir,
        // As App Service sets it when Authentication is on: the principal header is then believed.
        WEBSITE_AUTH_ENABLED: 'True',
      },
    });
    adminCookie = await signIn('Ada Admin', true);
  });
  after(async () => {
    await loop?.dispose();
    if (configDir) await fs.rm(configDir, { recursive: true, force: true });
    if (consoleDir) await fs.rm(consoleDir, { recursive: true, force: true });
  });

  describe('authentication', () => {
    it('answers 401 with how to sign in when nobody is signed in', async () => {
      const res = await call<ApiError & { signIn: { mode: string } }>('GET', '/api/admin/config', {
        cookie: null,
      });
      assert.equal(res.status, 401);
      assert.equal(res.body.code, 'unauthenticated');
      assert.equal(res.body.signIn.mode, 'easyauth');
      assert.equal((await call('GET', '/api/admin/me', { cookie: null })).status, 401);
    });

    it('answers 403 to a dev sign-in without the admin role, and to an Entra user without Sigrelay.Admin', async () => {
      const viewer = await signIn('Victor Viewer', false);
      const res = await call<ApiError>('GET', '/api/admin/config', { cookie: viewer });
      assert.equal(res.status, 403);
      assert.equal(res.body.code, 'forbidden');
      const entra = await call<ApiError>('GET', '/api/admin/config', {
        cookie: null,
        headers: { 'x-ms-client-principal': easyAuthPrincipal('Eve', ['Sigrelay.Reader']) },
      });
      assert.equal(entra.status, 403);
      assert.match(entra.body.error, /Sigrelay\.Admin/);
    });

    it('lets an Entra user with the Sigrelay.Admin app role in', async () => {
      const res = await call<{ name: string; isAdmin: boolean; mode: string }>('GET', '/api/admin/me', {
        cookie: null,
        headers: { 'x-ms-client-principal': easyAuthPrincipal('Grace', ['Sigrelay.Admin']) },
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual([res.body.name, res.body.isAdmin, res.body.mode], ['Grace', true, 'easyauth']);
      const config = await call('GET', '/api/admin/config', {
        cookie: null,
        headers: { 'x-ms-client-principal': easyAuthPrincipal('Grace', ['Sigrelay.Admin']) },
      });
      assert.equal(config.status, 200, config.text);
    });

    it('refuses a write without the console header (CSRF), even from a signed-in admin', async () => {
      const file = await call<ConfigFile>('GET', '/api/admin/config/files/rules.json');
      const res = await call<ApiError>('PUT', '/api/admin/config/files/rules.json', {
        body: { content: file.body.content },
        headers: { 'if-match': file.body.etag },
        csrf: false,
      });
      assert.equal(res.status, 403);
      assert.equal(res.body.code, 'csrf');
    });
  });

  describe('configuration editing', () => {
    it('refuses a template with a Liquid error, naming the file and line, and writes nothing', async () => {
      const before = await readFile('templates/corporate.html');
      const status = await call<{ status: { versionInService: string } }>('GET', '/api/admin/config');
      const file = await call<ConfigFile>('GET', '/api/admin/config/files/templates/corporate.html');
      const broken = `${file.body.content.split('\n').slice(0, 2).join('\n')}\n{% if user.mail %}\n<p>unclosed</p>\n`;
      const res = await call<ApiError>('PUT', '/api/admin/config/files/templates/corporate.html', {
        body: { content: broken },
        headers: { 'if-match': file.body.etag },
      });
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.code, 'invalid-config');
      assert.equal(res.body.file, 'templates/corporate.html');
      assert.equal(res.body.line, 3);
      assert.equal(await readFile('templates/corporate.html'), before, 'nothing written');
      const after = await call<{ status: { versionInService: string } }>('GET', '/api/admin/config');
      assert.equal(
        after.body.status.versionInService,
        status.body.status.versionInService,
        'nothing put in service',
      );
    });

    it('refuses a rules.json that fails the schema, naming the field', async () => {
      const doc = await call<RulesDocument>('GET', '/api/admin/rules');
      const rules = doc.body.rules.map((r, i) => (i === 0 ? { ...r, senders: ['not an address'] } : r));
      const res = await call<ApiError>('PUT', '/api/admin/rules', {
        body: { rules },
        headers: { 'if-match': doc.body.etag },
      });
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.file, 'rules.json');
      assert.equal(res.body.field, '[0].senders[0]');
      const missing = doc.body.rules.map((r, i) => (i === 1 ? { ...r, template: 'no-such-template' } : r));
      const refused = await call<ApiError>('POST', '/api/admin/rules/validate', { body: { rules: missing } });
      assert.equal(refused.status, 422);
      assert.equal(refused.body.field, '[1].template');
    });

    it('gives a stale save a 412 conflict and keeps the first save', async () => {
      const read = await call<ConfigFile>('GET', '/api/admin/config/files/templates/corporate.txt');
      assert.equal(read.headers.get('etag'), read.body.etag);
      const first = `${read.body.content}\nFirst admin's line`;
      const saved = await call<SaveResult>('PUT', '/api/admin/config/files/templates/corporate.txt', {
        body: { content: first },
        headers: { 'if-match': read.body.etag },
      });
      assert.equal(saved.status, 200, saved.text);
      const stale = await call<ApiError>('PUT', '/api/admin/config/files/templates/corporate.txt', {
        body: { content: `${read.body.content}\nSecond admin's line` },
        headers: { 'if-match': read.body.etag },
      });
      assert.equal(stale.status, 412, stale.text);
      assert.equal(stale.body.code, 'conflict');
      assert.equal(stale.body.currentEtag, saved.body.etag);
      assert.equal(await readFile('templates/corporate.txt'), first);
      const unconditional = await call<ApiError>('PUT', '/api/admin/config/files/templates/corporate.txt', {
        body: { content: 'x' },
      });
      assert.equal(unconditional.status, 428);
    });

    it('keeps versions and rolls a file back in one call, audited with before/after hashes', async () => {
      const original = await readFile('templates/internal.html');
      const read = await call<ConfigFile>('GET', '/api/admin/config/files/templates/internal.html');
      const edited = original.replace('{% endlines %}', 'Edited in the console\n{% endlines %}');
      assert.notEqual(edited, original);
      const saved = await call<SaveResult>('PUT', '/api/admin/config/files/templates/internal.html', {
        body: { content: edited },
        headers: { 'if-match': read.body.etag },
      });
      assert.equal(saved.status, 200, saved.text);
      const versions = await call<VersionList>(
        'GET',
        '/api/admin/config/versions?path=templates/internal.html',
      );
      assert.deepEqual(
        versions.body.versions.map((v) => v.action),
        ['save', 'original'],
      );
      const originalVersion = versions.body.versions[1]?.version ?? '';
      const rolled = await call<SaveResult>('POST', '/api/admin/config/rollback', {
        body: { path: 'templates/internal.html', version: originalVersion },
        headers: { 'if-match': saved.body.etag },
      });
      assert.equal(rolled.status, 200, rolled.text);
      assert.equal(await readFile('templates/internal.html'), original);
      const audit = await call<AuditEntry[]>('GET', '/api/admin/audit');
      const [rollback, save] = audit.body.filter((e) => e.target === 'templates/internal.html');
      assert.equal(rollback?.action, 'config.rollback');
      assert.equal(rollback?.by, 'Ada Admin');
      assert.equal(save?.action, 'config.save');
      assert.equal(rollback?.beforeSha256, save?.afterSha256);
      assert.equal(rollback?.afterSha256, save?.beforeSha256);
      assert.match(save?.beforeSha256 ?? '', /^[0-9a-f]{64}$/);
    });

    it('takes an image upload under images/ after checking its type and size', async () => {
      const logo = await fs.readFile(path.join(configDir, 'images', 'logo.png'));
      const ok = await call<SaveResult & { use: { embedded: string } }>(
        'PUT',
        '/api/admin/config/files/images/badge.png',
        {
          body: { content: logo.toString('base64'), encoding: 'base64' },
          headers: { 'if-none-match': '*' },
        },
      );
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.use.embedded, 'cid:badge.png');
      assert.deepEqual(await fs.readFile(path.join(configDir, 'images', 'badge.png')), logo);
      const fake = await call<ApiError>('PUT', '/api/admin/config/files/images/fake.png', {
        body: { content: Buffer.from('<svg/>').toString('base64'), encoding: 'base64' },
        headers: { 'if-none-match': '*' },
      });
      assert.equal(fake.status, 422);
      assert.equal(fake.body.file, 'images/fake.png');
      const huge = await call<ApiError>('PUT', '/api/admin/config/files/images/huge.png', {
        body: { content: Buffer.alloc(imageMaxBytes + 1).toString('base64'), encoding: 'base64' },
        headers: { 'if-none-match': '*' },
      });
      assert.equal(huge.status, 413);
      const traversal = await call<ApiError>('PUT', '/api/admin/config/files/../secrets.json', {
        body: { content: '{}' },
        headers: { 'if-none-match': '*' },
      });
      assert.ok([400, 404].includes(traversal.status), traversal.text);
    });
  });

  describe('preview', () => {
    it('signs a reply in each client shape exactly once, under the newest reply and above the quote', async () => {
      const res = await call<PreviewResponse>('POST', '/api/admin/preview', {
        body: { sender: 'alice@contoso.com', recipient: 'external', messageType: 'reply' },
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body.result, {
        action: 'sign',
        rule: 'sales-external',
        template: 'corporate-reply',
        placement: 'underReply',
      });
      assert.deepEqual(
        res.body.conversations.map((c) => c.client),
        [...clientShapes],
      );
      for (const c of res.body.conversations) {
        assert.deepEqual(c.decision, { action: 'signed', reason: 'signed' }, c.client);
        assert.equal(c.signatureCount, 1, `${c.client}: one signature`);
        const marker = c.html.indexOf(`class="${HTML_MARKER_CLASS}"`);
        const reply = c.html.indexOf(sample.newText);
        const quote = c.html.indexOf(sample.quotedText);
        assert.ok(reply >= 0 && reply < marker && marker < quote, `${c.client}: reply < signature < quote`);
        const textSig = c.text.indexOf('Alice Martin');
        assert.ok(c.text.indexOf(sample.newText) < textSig, `${c.client}: text signature after the reply`);
        assert.ok(textSig < c.text.indexOf(sample.quotedText), `${c.client}: text signature above the quote`);
        // The quoted header names the other party first ("From: Megan Bowen", "… Megan Bowen wrote:").
        const aboveQuote = c.text.slice(0, c.text.indexOf('Megan Bowen', c.text.indexOf(sample.newText)));
        assert.equal(
          aboveQuote.split('Alice Martin').length - 1,
          1,
          `${c.client}: one text signature above the quote`,
        );
      }
    });

    it('previews an unsaved template, and answers its Liquid error with the line', async () => {
      const draft = '<p>Draft for {{ user.displayName }}</p>';
      const res = await call<PreviewResponse>('POST', '/api/admin/preview', {
        body: {
          sender: 'alice@contoso.com',
          recipient: 'internal',
          messageType: 'new',
          template: 'corporate',
          drafts: { 'templates/corporate.html': draft },
          clients: ['gmail'],
        },
      });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.signature?.html, '<p>Draft for Alice Martin</p>');
      assert.match(res.body.conversations[0]?.html ?? '', /Draft for Alice Martin/);
      const broken = await call<ApiError>('POST', '/api/admin/preview', {
        body: {
          sender: 'alice@contoso.com',
          recipient: 'internal',
          messageType: 'new',
          drafts: { 'templates/corporate.html': '<p>\n{{ user.displayName | nosuchfilter }}</p>' },
        },
      });
      assert.equal(broken.status, 422, broken.text);
      assert.equal(broken.body.file, 'templates/corporate.html');
      assert.equal(broken.body.line, 2);
    });

    it('finds users by name or address for the sender picker', async () => {
      const res = await call<{ address: string; tenantName: string }[]>(
        'GET',
        '/api/admin/directory/users?q=martin',
      );
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.body.map((u) => u.address),
        ['alice@contoso.com'],
      );
      assert.equal(res.body[0]?.tenantName, 'Contoso Ltd');
    });

    it('reports caniemail compatibility and inlines CSS keeping Liquid', async () => {
      const compat = await call<{ errors: { feature: string; clients: string[] }[] }>(
        'POST',
        '/api/admin/templates/compat',
        {
          body: { html: '<div style="display:flex">{{ user.displayName }}</div>' },
        },
      );
      assert.equal(compat.status, 200, compat.text);
      const flex = compat.body.errors.find((e) => e.feature === 'display:flex');
      assert.ok(flex?.clients.includes('outlook.windows'), JSON.stringify(compat.body.errors));
      const inlined = await call<{ html: string }>('POST', '/api/admin/templates/inline-css', {
        body: {
          html: '<style>td{color:#333}</style><table><tr><td>{{ user.mail | default: "x" }}</td></tr></table>',
        },
      });
      assert.equal(
        inlined.body.html,
        '<table><tr><td style="color: #333;">{{ user.mail | default: "x" }}</td></tr></table>',
      );
    });
  });

  describe('rules', () => {
    it('changes who gets what when the rules are reordered', async () => {
      const before = await call<WhoGetsWhat>('GET', '/api/admin/rules/who-gets-what');
      assert.equal(before.status, 200, before.text);
      const alice = () => before.body.rows.find((r) => r.address === 'alice@contoso.com');
      assert.equal(alice()?.externalNew.rule, 'sales-external');
      assert.equal(alice()?.externalNew.template, 'sales');
      assert.equal(alice()?.internalNew.rule, 'internal');
      assert.deepEqual(alice()?.internalReply, {
        action: 'skip',
        reason: 'reply-variant-none',
        rule: 'internal-replies',
      });

      const doc = await call<RulesDocument>('GET', '/api/admin/rules');
      const corporate = doc.body.rules.filter((r) => r.name === 'corporate');
      const reordered = [...corporate, ...doc.body.rules.filter((r) => r.name !== 'corporate')];
      const saved = await call<SaveResult>('PUT', '/api/admin/rules', {
        body: { rules: reordered },
        headers: { 'if-match': doc.body.etag },
      });
      assert.equal(saved.status, 200, saved.text);
      const after = await call<WhoGetsWhat>('GET', '/api/admin/rules/who-gets-what');
      const row = after.body.rows.find((r) => r.address === 'alice@contoso.com');
      assert.equal(row?.externalNew.rule, 'corporate');
      assert.equal(row?.internalNew.rule, 'corporate');
      assert.equal(row?.externalReply.template, 'corporate-reply');

      const restore = await call<RulesDocument>('GET', '/api/admin/rules');
      const back = await call('PUT', '/api/admin/rules', {
        body: { rules: doc.body.rules },
        headers: { 'if-match': restore.body.etag },
      });
      assert.equal(back.status, 200, back.text);
    });

    it('shows the campaign banner, its status and who gets it now', async () => {
      const res = await call<{
        campaigns: { rule: string; status: string; activeFor: { external: string[]; internal: string[] } }[];
      }>('GET', '/api/admin/campaigns?at=2026-06-01T12:00:00Z');
      assert.equal(res.status, 200, res.text);
      const spring = res.body.campaigns.find((c) => c.rule === 'sales-external');
      assert.equal(spring?.status, 'active');
      assert.deepEqual(spring?.activeFor.internal, [], 'internal mail goes by the internal rules');
      assert.ok(spring?.activeFor.external.includes('alice@contoso.com'), 'Alice is in Sales');
      assert.ok(!spring?.activeFor.external.includes('zoe.mueller@contoso.com'), 'Zoë is not');
      const later = await call<{ campaigns: { rule: string; status: string }[] }>(
        'GET',
        '/api/admin/campaigns?at=2027-02-01T00:00:00Z',
      );
      assert.equal(later.body.campaigns.find((c) => c.rule === 'sales-external')?.status, 'ended');
    });
  });

  describe('messages', () => {
    it('shows the timeline of a delivered message and finds it by sender', async () => {
      const id = idFromReply(
        await loop.send(outlookReply(), { from: 'alice@contoso.com', to: ['megan@fabrikam.example'] }),
      );
      await assertDeliveredOnce(loop.stack, id);
      const res = await call<MessageTimeline>('GET', `/api/admin/messages/${id}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.state, 'delivered');
      assert.deepEqual(
        res.body.timeline.map((e) => e.event),
        ['received', 'signed', 'delivery-attempt', 'delivered', 'deleted'],
      );
      const attempt = res.body.timeline.find((e) => e.event === 'delivery-attempt');
      assert.match(attempt?.summary ?? '', /250/);
      assert.match(
        res.body.timeline[1]?.summary ?? '',
        /signed with template corporate-reply \(rule sales-external\)/,
      );
      const found = await call<MessageSummary[]>('GET', '/api/admin/messages?sender=alice@contoso.com');
      assert.ok(
        found.body.some((m) => m.id === id && m.state === 'delivered'),
        found.text,
      );
      const inRange = await call<MessageSummary[]>(
        'GET',
        `/api/admin/messages?from=${new Date(Date.now() - 3600_000).toISOString()}`,
      );
      assert.ok(
        inRange.body.some((m) => m.id === id),
        inRange.text,
      );
      assert.equal((await call('GET', '/api/admin/messages/20000101000000-0000000000000000')).status, 404);
    });

    it('replays a dead letter once: a second click, even at the same time, does not deliver twice', async () => {
      const id = await sendDeadLetter(loop, async (id) =>
        (await call<DeadLetter[]>('GET', '/api/admin/deadletters')).body.some((d) => d.id === id),
      );
      const dead = (await call<DeadLetter[]>('GET', '/api/admin/deadletters')).body.find((d) => d.id === id);
      assert.match(dead?.reason ?? '', /550/);
      // The dead letter is stored before its trace event is written.
      await eventually('the timeline to say dead-lettered', async () => {
        const timeline = await call<MessageTimeline>('GET', `/api/admin/messages/${id}`);
        return timeline.body.state === 'dead-lettered' && timeline.body.deadLetter?.id === id;
      });
      // The refused attempt is explained beside the raw reply (src/exchange/replies.ts).
      const refused = (await call<MessageTimeline>('GET', `/api/admin/messages/${id}`)).body.timeline.find(
        (e) => e.event === 'delivery-attempt',
      );
      assert.equal(refused?.explanation?.id, 'recipient-rejected', JSON.stringify(refused));
      assert.match(refused?.explanation?.source ?? '', /^https:\/\/learn\.microsoft\.com\//);

      const unconfirmed = await call<ApiError>('POST', `/api/admin/deadletters/${id}/replay`, { body: {} });
      assert.equal(unconfirmed.status, 400);
      assert.equal(unconfirmed.body.field, 'confirm');

      await loop.stack.setStandinBehaviour({});
      const clicks = await Promise.all(
        [1, 2].map(() =>
          call<ApiError>('POST', `/api/admin/deadletters/${id}/replay`, { body: { confirm: id } }),
        ),
      );
      assert.deepEqual(clicks.map((c) => c.status).sort(), [202, 409], clicks.map((c) => c.text).join(' | '));
      await assertDeliveredOnce(loop.stack, id);
      const again = await call<ApiError>('POST', `/api/admin/deadletters/${id}/replay`, {
        body: { confirm: id },
      });
      assert.equal(again.status, 409);
      assert.equal(await acceptedCount(loop.stack, id), 1);
      const audit = await call<AuditEntry[]>('GET', '/api/admin/audit');
      assert.equal(audit.body.filter((e) => e.action === 'deadletter.replay' && e.target === id).length, 1);
    });

    it('reports health: queue, dead letters, the last hour and the configuration in service', async () => {
      const res = await call<Health>('GET', '/api/admin/health');
      assert.equal(res.status, 200, res.text);
      assert.equal(typeof res.body.inbound.depth, 'number');
      const listed = await call<DeadLetter[]>('GET', '/api/admin/deadletters');
      assert.equal(res.body.deadLetters.count, listed.body.length);
      assert.ok(res.body.lastHour.delivered >= 2, JSON.stringify(res.body.lastHour));
      assert.ok(res.body.lastHour.failed >= 1, 'the refused delivery counts as failed');
      assert.match(res.body.config.versionInService, /^[0-9a-f]{12}$/);
      assert.equal(res.body.config.lastError, undefined);
    });
  });

  describe('the single-page app under /admin', () => {
    it('serves index.html without caching, with a CSP naming no other origin but HTTPS images', async () => {
      for (const route of ['/admin', '/admin/', '/admin/rules/edit']) {
        const res = await call('GET', route, { cookie: null });
        assert.equal(res.status, 200, route);
        assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
        assert.equal(res.headers.get('cache-control'), 'no-cache');
        const csp = res.headers.get('content-security-policy') ?? '';
        assert.match(csp, /script-src 'self'(;|$)/);
        // Only images may come over HTTPS (a signature's hosted logo in the preview); nothing else
        // names another origin, and nothing is a wildcard.
        const directives = csp.split(';').map((d) => d.trim());
        assert.ok(directives.includes("img-src 'self' data: blob: https:"), csp);
        for (const d of directives.filter((d) => !d.startsWith('img-src ')))
          assert.doesNotMatch(d, /https?:|\*/, d);
        assert.equal(res.text, '<!doctype html><title>console</title>');
      }
    });

    it('serves hashed assets with their type and a long cache, and 404 for a missing file', async () => {
      const js = await call('GET', '/admin/assets/index-B2x9kQ7a.js', { cookie: null });
      assert.equal(js.status, 200);
      assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal((await call('GET', '/admin/assets/missing-B2x9kQ7a.js', { cookie: null })).status, 404);
    });
  });
});
