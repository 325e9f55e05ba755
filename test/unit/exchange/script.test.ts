/**
 * The Exchange Online script: snapshots for the sample tenant, and every cmdlet and parameter in
 * it checked against Microsoft's reference, because Exchange only rejects a wrong name when the
 * admin runs the script.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadTenants, sampleConfigDir } from '../../../src/config/index.js';
import {
  cmdletReference,
  commonParameters,
  enableScript,
  installScript,
  objectNames,
  removeScript,
  type ScriptOptions,
} from '../../../src/exchange/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const fixtures = path.join(root, 'test', 'fixtures', 'exchange');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');

const tenants = await loadTenants(sampleConfigDir);
const tenant = tenants.tenants[0];
assert.ok(tenant, 'sample tenant');
const options: ScriptOptions = {
  tenant,
  smartHost: 'smtp.sigrelay.contoso.com',
  processedHeader: 'X-Sigrelay-Processed',
  maxSizeMb: 25,
};

const scripts = {
  install: installScript(options),
  pilot: installScript({ ...options, pilot: 'alice@contoso.com' }),
  enable: enableScript(options),
  remove: removeScript(options),
};

/** Compares with test/fixtures/exchange/contoso-<name>.ps1; UPDATE_SNAPSHOTS=1 rewrites them. */
function snapshot(name: string, actual: string): void {
  const file = path.join(fixtures, `contoso-${name}.ps1`);
  if (process.env.UPDATE_SNAPSHOTS === '1') fs.writeFileSync(file, actual);
  assert.equal(actual, fs.readFileSync(file, 'utf8'), `${file} differs (UPDATE_SNAPSHOTS=1 to accept)`);
}

interface Invocation {
  cmdlet: string;
  params: string[];
}

/** Cmdlet calls in executable lines: continuations joined, quoted text blanked, comments skipped. */
function invocations(script: string): Invocation[] {
  return script
    .replace(/ `\n\s*/g, ' ')
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .map((line) => line.replace(/'(?:[^']|'')*'/g, "''").replace(/"[^"]*"/g, '""'))
    .flatMap((line) =>
      [...line.matchAll(/\b([A-Z][a-z]+-[A-Z][A-Za-z]+)\b/g)].map((m) => {
        const rest = line.slice((m.index ?? 0) + m[0].length).split(/[|(){};]/)[0] ?? '';
        return {
          cmdlet: m[1] ?? '',
          params: [...rest.matchAll(/(?:^|\s)-([A-Za-z]+)(?=[\s:]|$)/g)].map((p) => p[1] ?? ''),
        };
      }),
    );
}

for (const [name, script] of Object.entries(scripts)) {
  void test(`${name} script matches its snapshot`, () => snapshot(name, script));

  void test(`${name} script uses only cmdlets and parameters from Microsoft's reference`, () => {
    const calls = invocations(script);
    assert.ok(calls.length > 0);
    for (const { cmdlet, params } of calls) {
      const known = cmdletReference[cmdlet];
      assert.ok(known, `${cmdlet} is not in src/exchange/cmdlet-reference.ts`);
      for (const p of params)
        assert.ok(
          known.some((k) => k.toLowerCase() === p.toLowerCase()) || commonParameters.includes(p),
          `${cmdlet} has no parameter -${p}`,
        );
    }
  });
}

void test('install is idempotent: every New- runs only when the Get- check found nothing', () => {
  for (const script of [scripts.install, scripts.pilot]) {
    const news = [...script.matchAll(/New-(\w+) `\n\s*-Name '([^']+)'/g)];
    assert.equal(news.length, 4, 'two connectors and two rules');
    for (const [, noun, name] of news)
      assert.ok(
        script.includes(`if (Get-${noun} -Identity '${name}' -ErrorAction SilentlyContinue) {`),
        name,
      );
  }
});

void test('routing rule follows the add-on pattern and starts disabled or pilot-scoped', () => {
  const rule = scripts.install.slice(
    scripts.install.indexOf(`New-TransportRule \`\n      -Name '${objectNames.routingRule}'`),
  );
  for (const expected of [
    "-FromScope 'InOrganization'",
    "-SenderDomainIs 'contoso.com','contoso.onmicrosoft.com','fabrikam-sales.com'",
    `-RouteMessageOutboundConnector '${objectNames.outboundConnector}'`,
    "-ExceptIfHeaderContainsMessageHeader 'X-Sigrelay-Processed'",
    "-ExceptIfHeaderContainsWords 'true'",
    "-ExceptIfFromAddressMatchesPatterns '<>'",
    "-ExceptIfMessageTypeMatches 'Calendaring'",
    '-ExceptIfMessageSizeOver 25MB',
    '-StopRuleProcessing $true',
    '-Enabled $false',
  ])
    assert.ok(rule.includes(expected), expected);
  assert.ok(!scripts.install.includes('Enable-TransportRule'), 'install never switches routing on');
  assert.ok(scripts.pilot.includes("-From 'alice@contoso.com' `\n      -Enabled $true"));
  assert.ok(scripts.enable.includes(`Set-TransportRule -Identity '${objectNames.routingRule}' -From $null`));
  assert.ok(scripts.install.includes("-TlsSenderCertificateName 'relay.contoso.com'"));
  assert.ok(scripts.install.includes("-TlsDomain 'smtp.sigrelay.contoso.com'"));
});

void test('auto-reply rule runs before the routing rule', () => {
  const oof = scripts.install.indexOf(`-Name '${objectNames.autoReplyRule}'`);
  const routing = scripts.install.indexOf(`-Name '${objectNames.routingRule}'`);
  assert.ok(oof > 0 && oof < routing);
  assert.match(scripts.install, /-MessageTypeMatches 'OOF' `\n\s*-SetHeaderName 'X-Sigrelay-Processed'/);
});

void test('teardown stops routing first and keeps the inbound connector until mail in flight is back', () => {
  const order = [
    `Remove-TransportRule -Identity '${objectNames.routingRule}'`,
    `Remove-OutboundConnector -Identity '${objectNames.outboundConnector}'`,
    'Read-Host',
    `Remove-InboundConnector -Identity '${objectNames.inboundConnector}'`,
  ].map((s) => scripts.remove.indexOf(s));
  assert.ok(order.every((i) => i > 0));
  assert.deepEqual(
    order,
    [...order].sort((a, b) => a - b),
  );
});

void test('CLI prints the same script and names the flag when the smart host is missing', () => {
  const env = { ...process.env, SIGRELAY_PUBLIC_FQDN: '' };
  const ok = spawnSync(
    process.execPath,
    [cli, 'exchange-script', '--tenant', tenant.id, '--smart-host', options.smartHost],
    {
      env,
      encoding: 'utf8',
    },
  );
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, scripts.install);
  const fromEnv = spawnSync(process.execPath, [cli, 'exchange-script', '--tenant', tenant.id], {
    env: { ...env, SIGRELAY_PUBLIC_FQDN: options.smartHost },
    encoding: 'utf8',
  });
  assert.equal(fromEnv.stdout, scripts.install);
  const missing = spawnSync(process.execPath, [cli, 'exchange-script', '--tenant', tenant.id], {
    env,
    encoding: 'utf8',
  });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--smart-host/);
  assert.match(missing.stderr, /SIGRELAY_PUBLIC_FQDN/);
  const stranger = spawnSync(
    process.execPath,
    [
      cli,
      'exchange-script',
      '--tenant',
      tenant.id,
      '--smart-host',
      options.smartHost,
      '--pilot',
      'eve@example.org',
    ],
    { env, encoding: 'utf8' },
  );
  assert.equal(stranger.status, 2);
  assert.match(stranger.stderr, /not an address in Contoso/);
});

void test('a tenant with Sent Items update gets Mail.ReadWrite scoped to one group, using only reference cmdlets', async () => {
  const msp = await loadTenants(path.join(root, 'config', 'msp'));
  const northwind = msp.tenants.find((t) => t.sentItems?.enabled);
  assert.ok(northwind, 'config/msp has a tenant with sentItems on');
  const appId =
    northwind.directory?.credential.type === 'client-secret' ? northwind.directory.credential.clientId : '';
  const msOptions = { ...options, tenant: northwind };
  const install = installScript(msOptions);
  const pilot = installScript({ ...msOptions, pilot: 'alex@northwindtraders.com' });
  const remove = removeScript(msOptions);
  for (const script of [install, pilot, remove])
    for (const { cmdlet, params } of invocations(script)) {
      const known = cmdletReference[cmdlet];
      assert.ok(known, `${cmdlet} is not in src/exchange/cmdlet-reference.ts`);
      for (const p of params)
        assert.ok(
          known.some((k) => k.toLowerCase() === p.toLowerCase()) || commonParameters.includes(p),
          `${cmdlet} -${p}`,
        );
    }
  assert.ok(install.includes(`New-ServicePrincipal \`\n      -AppId '${appId}'`));
  assert.ok(install.includes("-Role 'Application Mail.ReadWrite'"));
  assert.ok(install.includes(`-CustomResourceScope '${objectNames.sentItemsScope}'`));
  assert.ok(install.includes(`$scopeFilter = "MemberOfGroup -eq '"`));
  assert.ok(
    !invocations(install).some((c) => c.cmdlet === 'Add-DistributionGroupMember'),
    'no one is signed up without a pilot',
  );
  assert.ok(pilot.includes("-Member 'alex@northwindtraders.com'"));
  assert.ok(
    install.indexOf(`Get-ManagementRoleAssignment -Identity '${objectNames.sentItemsAssignment}'`) <
      install.indexOf('New-ManagementRoleAssignment'),
    'the role assignment is created only when missing',
  );
  assert.ok(remove.indexOf('Remove-ManagementRoleAssignment') < remove.indexOf('Remove-ManagementScope'));
  assert.ok(
    !scripts.install.includes('ManagementScope'),
    'tenants without the feature get no mailbox access',
  );
});

void test('install reads the connectors and rules back and stops, saying how to get it enabled, when the inbound connector is disabled', () => {
  for (const script of [scripts.install, scripts.pilot]) {
    const created = script.indexOf(`New-TransportRule \`\n      -Name '${objectNames.routingRule}'`);
    const readBack = script.indexOf(
      `$inbound = Get-InboundConnector -Identity '${objectNames.inboundConnector}'`,
    );
    assert.ok(created > 0 && readBack > created, 'read back after everything is created');
    const guard = script.slice(readBack, script.indexOf('}', readBack));
    assert.match(
      guard,
      /if \(-not \$inbound\.Enabled\) \{\n {2}throw '.*is disabled\..*Contact Support to enable it.*service request in the Microsoft 365 admin center/,
    );
    assert.ok(script.includes('[string]$inbound.TlsSenderCertificateName -ne $certDomain'));
    assert.ok(
      script.includes(`$outbound = Get-OutboundConnector -Identity '${objectNames.outboundConnector}'`),
    );
    assert.ok(script.includes(`$routingRule = Get-TransportRule -Identity '${objectNames.routingRule}'`));
  }
});

void test('install validates the outbound connector and prints the doctor command to run next', () => {
  assert.ok(
    scripts.pilot.includes(
      `Validate-OutboundConnector -Identity '${objectNames.outboundConnector}' -Recipients 'alice@contoso.com'`,
    ),
  );
  assert.ok(
    scripts.install.includes("-Recipients 'postmaster@contoso.com'"),
    'without a pilot: the postmaster',
  );
  assert.match(
    scripts.install,
    /Write-Host 'Next: npx sigrelay doctor --tenant 6f1c2e3a-8b4d-4c5e-9f60-1a2b3c4d5e6f /,
  );
});

void test("our rules sit at priority 0 and 1, before third-party filters' rules, and the script says so", () => {
  assert.match(scripts.install, new RegExp(`-Name '${objectNames.autoReplyRule}'[^}]*-Priority 0`));
  assert.match(scripts.install, new RegExp(`-Name '${objectNames.routingRule}'[^}]*-Priority 1`));
  assert.ok(scripts.install.includes('if ($autoReplyRule.Priority -ne 0 -or $routingRule.Priority -ne 1) {'));
  assert.match(scripts.install, /before any third-party filter''s rules/);
});
