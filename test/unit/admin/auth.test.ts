import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authSettingsFromEnv, ConsoleAuth } from '../../../src/admin/auth.js';
import type { ApiRequest } from '../../../src/admin/http.js';
import { routePattern } from '../../../src/local/functions-host/host.js';

function request(headers: Record<string, string>): ApiRequest {
  return {
    method: 'GET',
    path: 'me',
    query: new URLSearchParams(),
    header: (name) => headers[name.toLowerCase()],
    json: () => Promise.resolve(undefined),
  };
}

const principal = (claims: { typ: string; val: string }[]) =>
  Buffer.from(JSON.stringify({ auth_typ: 'aad', name_typ: 'name', role_typ: 'roles', claims })).toString(
    'base64',
  );

describe('route templates as the Functions host reads them', () => {
  it('puts the route prefix in front, or nothing when host.json says ""', () => {
    assert.ok(routePattern('api', 'preview').pattern.test('/api/preview'));
    assert.ok(!routePattern('', 'api/preview').pattern.test('/api/api/preview'));
    assert.ok(routePattern('', 'api/preview').pattern.test('/api/preview'));
  });

  it('matches a catch-all {*path} with the rest of the path, or nothing at all', () => {
    const { pattern, names } = routePattern('', 'admin/{*path}');
    assert.deepEqual(names, ['path']);
    assert.equal(pattern.exec('/admin/assets/index-abc.js')?.[1], 'assets/index-abc.js');
    assert.ok(pattern.test('/admin'));
    assert.ok(pattern.test('/admin/'));
    assert.ok(!pattern.test('/administrator'));
  });

  it('takes one segment per {name} and accepts optional and constrained parameters', () => {
    const { pattern, names } = routePattern('', 'api/deadletters/{id}/replay');
    assert.deepEqual(names, ['id']);
    assert.equal(pattern.exec('/api/deadletters/2026x/replay')?.[1], '2026x');
    assert.ok(!pattern.test('/api/deadletters/a/b/replay'));
    assert.deepEqual(routePattern('api', 'items/{n:int}/{tag?}').names, ['n', 'tag']);
  });
});

describe('who the console believes', () => {
  const easy = new ConsoleAuth(
    authSettingsFromEnv({ WEBSITE_AUTH_ENABLED: 'True', SIGRELAY_ADMIN_DEV_AUTH: '0' }),
  );

  it('reads the Easy Auth principal: the app role makes an admin', () => {
    const me = easy.principal(
      request({
        'x-ms-client-principal': principal([
          { typ: 'name', val: 'Grace' },
          { typ: 'roles', val: 'Sigrelay.Admin' },
        ]),
      }),
    );
    assert.equal(me?.name, 'Grace');
    assert.equal(me?.isAdmin, true);
  });

  it('accepts the admins group instead of the role when one is configured', () => {
    const auth = new ConsoleAuth(
      authSettingsFromEnv({
        SIGRELAY_ADMIN_EASY_AUTH: 'true',
        SIGRELAY_ADMIN_GROUP: 'g-123',
        SIGRELAY_PROFILE: 'production',
      }),
    );
    const header = principal([
      { typ: 'name', val: 'Ann' },
      { typ: 'groups', val: 'g-123' },
    ]);
    assert.equal(auth.principal(request({ 'x-ms-client-principal': header }))?.isAdmin, true);
  });

  it('ignores a principal header when Easy Auth is not on: anyone could send one', () => {
    const auth = new ConsoleAuth(authSettingsFromEnv({ SIGRELAY_PROFILE: 'production' }));
    const header = principal([{ typ: 'roles', val: 'Sigrelay.Admin' }]);
    assert.equal(auth.principal(request({ 'x-ms-client-principal': header })), undefined);
  });

  it('never offers the dev sign-in on App Service, whatever the setting', () => {
    const settings = authSettingsFromEnv({ WEBSITE_SITE_NAME: 'func-x', SIGRELAY_ADMIN_DEV_AUTH: '1' });
    assert.equal(settings.devSignIn, false);
    assert.throws(
      () => new ConsoleAuth(settings).devSignIn('Mallory', true),
      /only available on a local run/,
    );
  });

  it('offers the dev sign-in only when the local profile is set explicitly', () => {
    assert.equal(authSettingsFromEnv({ SIGRELAY_PROFILE: 'local' }).devSignIn, true);
    assert.equal(
      authSettingsFromEnv({ SIGRELAY_PROFILE: 'local', SIGRELAY_ADMIN_DEV_AUTH: '0' }).devSignIn,
      false,
    );
    // Outside App Service with the profile unset (a VM, a container): no cookie for whoever asks.
    const unset = authSettingsFromEnv({});
    assert.equal(unset.devSignIn, false);
    assert.throws(() => new ConsoleAuth(unset).devSignIn('Mallory', true), /only available on a local run/);
    assert.equal(
      authSettingsFromEnv({ SIGRELAY_PROFILE: 'production', SIGRELAY_ADMIN_DEV_AUTH: '1' }).devSignIn,
      false,
    );
  });

  it('refuses a tampered dev cookie', () => {
    const auth = new ConsoleAuth(authSettingsFromEnv({ SIGRELAY_PROFILE: 'local' }));
    const cookie = auth.devSignIn('Ada', false);
    const [payload, mac] = cookie.value.split('.');
    const forged = Buffer.from(JSON.stringify({ n: 'Ada', a: true, e: Date.now() + 3600_000 })).toString(
      'base64url',
    );
    assert.equal(auth.principal(request({ cookie: `${cookie.name}=${payload}.${mac}` }))?.isAdmin, false);
    assert.equal(auth.principal(request({ cookie: `${cookie.name}=${forged}.${mac}` })), undefined);
  });
});
