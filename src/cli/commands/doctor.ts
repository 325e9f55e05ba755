import { loadSettings, loadTenants } from '../../config/index.js';
import { exitCodeOf, formatChecks, graphDomainsReader, runDoctor } from '../../doctor/index.js';
import { UsageError, type DoctorOptions } from '../usage.js';

/** `sigrelay doctor [--tenant <id>] [--json]`: exit 0 ok, 1 warnings, 2 failures. */
export async function run(options: DoctorOptions): Promise<number> {
  const settings = loadSettings();
  const tenants = await loadTenants(options.config ?? settings.configDir);
  const chosen = options.tenant ? tenants.byTenantId(options.tenant) : undefined;
  if (options.tenant && !chosen)
    throw new UsageError(
      'sigrelay doctor',
      `unknown tenant ${options.tenant} (known: ${tenants.tenants.map((t) => `${t.id} ${t.name}`).join(', ')})`,
    );
  const smartHost = options.smartHost ?? process.env.SIGRELAY_PUBLIC_FQDN;
  const frontAt =
    options.front ?? (settings.profile === 'production' && smartHost ? `${smartHost}:25` : undefined);
  const front = frontAt ? parseHostPort(frontAt) : undefined;
  if (frontAt && !front)
    throw new UsageError('sigrelay doctor', `--front must be host:port (got "${frontAt}")`);
  const checks = await runDoctor({
    front,
    settings,
    tenants: chosen ? [chosen] : tenants.tenants,
    smartHost,
    sender: options.sender ? () => options.sender ?? '' : undefined,
    recipient: options.recipient ? () => options.recipient ?? '' : undefined,
    tenantDomains: graphDomainsReader(process.env),
  });
  const code = exitCodeOf(checks);
  if (options.json) console.log(JSON.stringify({ exitCode: code, checks }, null, 2));
  else console.log(formatChecks(checks));
  return code;
}

function parseHostPort(value: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]\s]+?)\]?:(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  return m?.[1] && port > 0 && port < 65536 ? { host: m[1], port } : undefined;
}
