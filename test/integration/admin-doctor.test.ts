/**
 * `POST /api/admin/doctor`: the checks of `sigrelay doctor` run by the console's API in the functions
 * host of the local loop, against the Exchange stand-in (real SMTP and TLS on loopback).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { csrfHeader, type ApiError, type DoctorReport } from '../../src/admin/contract.js';
import { loadTenants } from '../../src/config/index.js';
import { exitCodeOf } from '../../src/doctor/index.js';
import { faultConfig, faultEnv } from '../helpers/fault-config.js';
import { startLoop } from '../helpers/loop.js';

describe('the connection doctor in the admin API', { timeout: 300_000 }, () => {
  let loop: Awaited<ReturnType<typeof startLoop>>;
  let configDir: string;
  let adminCookie = '';
  /** The Contoso tenant's id (a GUID, as Exchange names tenants). */
  let contoso = '';

  const base = () => `http://127.0.0.1:${loop.stack.ports.functions}`;
  async function run<T>(route: string, cookie = adminCookie): Promise<{ status: number; body: T }> {
    const res = await fetch(`${base()}${route}`, {
      method: 'POST',
      headers: { [csrfHeader]: '1', ...(cookie ? { cookie } : {}) },
    });
    return { status: res.status, body: (await res.json()) as T };
  }
  async function signIn(name: string, admin: boolean): Promise<string> {
    const res = await fetch(`${base()}/api/admin/dev/signin`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [csrfHeader]: '1' },
      body: JSON.stringify({ name, admin }),
    });
    assert.equal(res.status, 204);
    return (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  }
  /** Sessions the stand-in has seen: it notes each connection in events.log. */
  async function standinConnections(): Promise<number> {
    const log = await fs.readFile(path.join(loop.stack.outbox, 'events.log'), 'utf8').catch(() => '');
    return log.split('\n').filter((l) => l.endsWith('\tconnect')).length;
  }
  const find = (report: DoctorReport, name: string) => {
    const c = report.checks.find((x) => x.name === name && x.scope === contoso);
    assert.ok(c, `${name} in ${report.checks.map((x) => `${x.scope} ${x.name}`).join(', ')}`);
    return c;
  };

  before(async () => {
    configDir = await faultConfig();
    contoso = (await loadTenants(configDir)).tenants[0]?.id ?? '';
    loop = await startLoop({ configDir, env: faultEnv });
    adminCookie = await signIn('Ada Admin', true);
  });
  after(async () => {
    await loop?.dispose();
    if (configDir) await fs.rm(configDir, { recursive: true, force: true });
  });

  it('runs the same checks as the command, with a real session to the endpoint that sends nothing', async () => {
    const before = await standinConnections();
    const res = await run<DoctorReport>('/api/admin/doctor');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const report = res.body;
    assert.ok(!Number.isNaN(Date.parse(report.at)));
    assert.equal(report.exitCode, exitCodeOf(report.checks));
    assert.ok(report.checks.some((c) => c.scope === 'front' && c.name === 'config.processed-header'));
    const session = find(report, 'return-leg.session');
    assert.equal(session.status, 'ok', session.detail);
    assert.match(
      session.detail,
      /accepted MAIL FROM and RCPT TO .*client certificate presented.*nothing sent/,
    );
    assert.equal(await standinConnections(), before + 1, 'one SMTP session per tenant');
    const files = await fs.readdir(loop.stack.outbox);
    assert.deepEqual(
      files.filter((f) => f.endsWith('.eml')),
      [],
      'no message reached the stand-in',
    );
  });

  it('reports a refusal with the reply, its remedy, and the exit code of failures', async () => {
    await loop.stack.setStandinBehaviour({
      rcptReplies: { 'postmaster@contoso.com': { code: 550, text: 'Recipient address rejected' } },
    });
    try {
      const res = await run<DoctorReport>(`/api/admin/doctor?tenant=${contoso}`);
      assert.equal(res.status, 200);
      const session = find(res.body, 'return-leg.session');
      assert.equal(session.status, 'fail');
      assert.match(session.detail, /^RCPT TO:<postmaster@contoso\.com>: 550 /);
      assert.ok(session.remedy, 'a failure says what to do');
      assert.equal(res.body.exitCode, 2);
    } finally {
      await loop.stack.setStandinBehaviour({});
    }
  });

  it('is not run by the health read the page refreshes every 15 s', async () => {
    const before = await standinConnections();
    const health = await fetch(`${base()}/api/admin/health`, { headers: { cookie: adminCookie } });
    assert.equal(health.status, 200);
    assert.equal(await standinConnections(), before);
  });

  it('answers 404 for an unknown tenant and 403 to a non-admin, opening no session', async () => {
    const before = await standinConnections();
    const unknown = await run<ApiError>('/api/admin/doctor?tenant=nobody');
    assert.equal(unknown.status, 404);
    assert.match(unknown.body.error, new RegExp(`unknown tenant nobody \\(known: ${contoso}`));
    const viewer = await signIn('Victor Viewer', false);
    const forbidden = await run<ApiError>('/api/admin/doctor', viewer);
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.code, 'forbidden');
    assert.equal(await standinConnections(), before);
  });
});
