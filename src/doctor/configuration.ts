import type { Settings, Tenant } from '../config/index.js';
import { checkAcceptedDomains, type TenantDomains } from './accepted-domains.js';
import type { Check } from './check.js';

const headerName = /^[!-9;-~]+$/;
const exoEndpoint = /\.mail\.protection\.outlook\.com$/i;

/** The loop header: what the routing rule excludes must be what delivery stamps. */
export function checkLoopHeader(settings: Settings): Check[] {
  const h = settings.processedHeader;
  if (!headerName.test(h))
    return [
      {
        scope: 'front',
        name: 'config.processed-header',
        status: 'fail',
        detail: `"${h}" is not a header field name`,
        remedy: 'Set SIGRELAY_PROCESSED_HEADER to a header name such as X-Sigrelay-Processed.',
      },
    ];
  return [
    {
      scope: 'front',
      name: 'config.processed-header',
      status: 'ok',
      detail: `delivery stamps "${h}: true"; the generated routing rule excepts ${h} = true and the auto-reply rule sets it (re-run the exchange-script output after changing SIGRELAY_PROCESSED_HEADER)`,
    },
  ];
}

/**
 * The tenant's own configuration: the certificate name Exchange attributes by must sit under an
 * approved (accepted) domain, the endpoint must be the tenant's own, and the approved domains the
 * tenant's verified ones where Graph listed them.
 */
export function checkTenantConfiguration(
  tenant: Tenant,
  settings: Settings,
  domains?: TenantDomains,
): Check[] {
  const scope = tenant.id;
  const checks: Check[] = [];
  const name = tenant.certificate?.name.toLowerCase();
  if (!name)
    checks.push({
      scope,
      name: 'config.certificate-name',
      status: 'fail',
      detail: 'no certificate.name in tenants.json',
      remedy: 'Set certificate.name: the inbound connector (TlsSenderCertificateName) is created with it.',
    });
  else {
    const under = tenant.domains.find((d) => name === d || name.endsWith(`.${d}`));
    checks.push(
      under
        ? {
            scope,
            name: 'config.certificate-name',
            status: 'ok',
            detail: `${name} is under approved domain ${under} (TlsSenderCertificateName of the inbound connector)`,
          }
        : {
            scope,
            name: 'config.certificate-name',
            status: 'warn',
            detail: `${name} is under none of the approved domains ${tenant.domains.join(', ')}`,
            remedy:
              'Since Nov 2023 Exchange attributes returning mail only when the certificate domain is an accepted domain: verify it in the tenant or add it to domains.',
          },
    );
  }
  const override = settings.delivery.override;
  if (override)
    checks.push({
      scope,
      name: 'config.endpoint',
      status: settings.profile === 'production' ? 'warn' : 'ok',
      detail: `delivery goes to ${override.host}:${override.port} (SIGRELAY_DELIVERY_HOST), not ${tenant.delivery.host}`,
      remedy: settings.profile === 'production' ? 'Unset the override in production.' : undefined,
    });
  else if (!exoEndpoint.test(tenant.delivery.host))
    checks.push({
      scope,
      name: 'config.endpoint',
      status: 'warn',
      detail: `${tenant.delivery.host} is not a *.mail.protection.outlook.com host`,
      remedy: "Use the tenant's MX host; another name can give 451 4.4.62 (wrong region).",
    });
  else
    checks.push({
      scope,
      name: 'config.endpoint',
      status: 'ok',
      detail: `${tenant.delivery.host}:${tenant.delivery.port}`,
    });
  checks.push(checkAcceptedDomains(tenant, domains));
  return checks;
}
