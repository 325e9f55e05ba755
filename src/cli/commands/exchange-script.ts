import { loadSettings, loadTenants } from '../../config/index.js';
import { enableScript, installScript, removeScript } from '../../exchange/index.js';
import { UsageError, type ExchangeScriptOptions } from '../usage.js';

const fqdn = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

function fail(message: string): never {
  throw new UsageError('sigrelay exchange-script', message);
}

/** `sigrelay exchange-script --tenant <id> …`: the script on stdout. */
export async function run(values: ExchangeScriptOptions): Promise<number> {
  if ([values.remove, values.enable, values.pilot !== undefined].filter(Boolean).length > 1)
    fail('choose one of --pilot, --enable, --remove');

  const settings = loadSettings();
  const tenants = await loadTenants(values.config ?? settings.configDir);
  const tenant = tenants.byTenantId(values.tenant);
  if (!tenant)
    fail(
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

  const smartHost = values.smartHost ?? process.env.SIGRELAY_PUBLIC_FQDN;
  if (!smartHost) fail('no smart host: pass --smart-host <fqdn> or set SIGRELAY_PUBLIC_FQDN');
  if (!fqdn.test(smartHost)) fail(`--smart-host ${smartHost} is not a host name`);
  const maxSizeMb = Number(values.maxSizeMb);
  if (!Number.isInteger(maxSizeMb) || maxSizeMb < 1 || maxSizeMb > 150)
    fail("--max-size-mb must be a whole number from 1 to 150 (Exchange Online's limit)");
  if (values.pilot !== undefined && !tenants.isInternal(tenant, values.pilot))
    fail(
      `--pilot ${values.pilot} is not an address in ${tenant.name}'s domains (${tenant.domains.join(', ')})`,
    );
  if (!tenant.certificate)
    fail(`tenant ${tenant.id} has no certificate.name; the inbound connector needs it`);

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
