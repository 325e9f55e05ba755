import { parseArgs } from 'node:util';
import { loadSettings, loadTenants } from '../../config/index.js';
import { enableScript, installScript, removeScript } from '../../exchange/index.js';

export const summary =
  'exchange-script --tenant <id> [--pilot user@domain | --enable | --remove]: print the Exchange Online PowerShell setup';

const usage = `usage: sigrelay exchange-script --tenant <id> [--pilot user@domain] [--enable] [--remove]
                                [--smart-host <fqdn>] [--config <dir>] [--max-size-mb <n>]

  Prints an idempotent Exchange Online PowerShell script for one tenant (run it after Connect-ExchangeOnline).
  default        connectors + rules, routing rule created disabled
  --pilot <addr> route only this sender's mail (rule enabled, scoped to the pilot)
  --enable       go live: drop the pilot scope and enable the routing rule
  --remove       teardown (rules first, inbound connector last)
  --smart-host   our SMTP front's public name (default: $SIGRELAY_PUBLIC_FQDN)
  --max-size-mb  larger messages bypass signing (default 25)`;

const fqdn = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

export async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        tenant: { type: 'string' },
        pilot: { type: 'string' },
        enable: { type: 'boolean', default: false },
        remove: { type: 'boolean', default: false },
        'smart-host': { type: 'string' },
        config: { type: 'string' },
        'max-size-mb': { type: 'string', default: '25' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`sigrelay exchange-script: ${(err as Error).message}\n${usage}`);
    return 2;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const fail = (message: string): number => {
    console.error(`sigrelay exchange-script: ${message}`);
    return 2;
  };
  if (!values.tenant) return fail(`--tenant is required\n${usage}`);
  if ([values.remove, values.enable, values.pilot !== undefined].filter(Boolean).length > 1)
    return fail('choose one of --pilot, --enable, --remove');

  const settings = loadSettings();
  const tenants = await loadTenants(values.config ?? settings.configDir);
  const tenant = tenants.byTenantId(values.tenant);
  if (!tenant)
    return fail(
      `unknown tenant ${values.tenant} (known: ${tenants.tenants.map((t) => `${t.id} ${t.name}`).join(', ')})`,
    );

  if (values.remove) {
    process.stdout.write(removeScript({ tenant }));
    return 0;
  }
  if (values.enable) {
    process.stdout.write(enableScript({ tenant }));
    return 0;
  }

  const smartHost = values['smart-host'] ?? process.env.SIGRELAY_PUBLIC_FQDN;
  if (!smartHost) return fail('no smart host: pass --smart-host <fqdn> or set SIGRELAY_PUBLIC_FQDN');
  if (!fqdn.test(smartHost)) return fail(`--smart-host ${smartHost} is not a host name`);
  const maxSizeMb = Number(values['max-size-mb']);
  if (!Number.isInteger(maxSizeMb) || maxSizeMb < 1 || maxSizeMb > 150)
    return fail("--max-size-mb must be a whole number from 1 to 150 (Exchange Online's limit)");
  if (values.pilot !== undefined && !tenants.isInternal(tenant, values.pilot))
    return fail(
      `--pilot ${values.pilot} is not an address in ${tenant.name}'s domains (${tenant.domains.join(', ')})`,
    );
  if (!tenant.certificate)
    return fail(`tenant ${tenant.id} has no certificate.name; the inbound connector needs it`);

  process.stdout.write(
    installScript({
      tenant,
      smartHost: smartHost.toLowerCase(),
      processedHeader: settings.processedHeader,
      maxSizeMb,
      pilot: values.pilot?.toLowerCase(),
    }),
  );
  return 0;
}
