import {
  ClientCertificateCredential,
  ClientSecretCredential,
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import type { GraphCredentialConfig, Tenant } from '../../config/index.js';

export interface GraphCredentialOptions {
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
}

/**
 * The identity the directory sync reads Graph with: an app registration's client secret when one is
 * configured (running outside Azure), else the Function App's managed identity (user-assigned when a
 * client id is given). Either needs the `User.Read.All` and `GroupMember.Read.All` application roles.
 */
export function graphCredential(options: GraphCredentialOptions): TokenCredential {
  if (options.clientSecret && options.clientId && options.tenantId)
    return new ClientSecretCredential(options.tenantId, options.clientId, options.clientSecret);
  return options.clientId
    ? new ManagedIdentityCredential({ clientId: options.clientId })
    : new ManagedIdentityCredential();
}

type SecretSource = Extract<GraphCredentialConfig, { type: 'client-secret' }>['secret'];

/** Reads the secrets tenants.json names: Key Vault secrets, or environment variables on a laptop. */
export interface SecretReader {
  read(source: SecretSource): Promise<string>;
}

type Env = Record<string, string | undefined>;

/**
 * Key Vault (`SIGRELAY_KEY_VAULT_URL`, read with the Function App's identity) and the environment.
 * Secrets are read on every sync, so a rotated secret is used from the next run without a restart.
 */
export class DefaultSecretReader implements SecretReader {
  private readonly env: Env;
  private client: SecretClient | undefined;

  constructor(env: Env) {
    this.env = env;
  }

  async read(source: SecretSource): Promise<string> {
    if ('env' in source) {
      const value = this.env[source.env];
      if (!value) throw new Error(`environment variable ${source.env} is not set`);
      return value;
    }
    const vault = this.env.SIGRELAY_KEY_VAULT_URL;
    if (!vault) throw new Error(`SIGRELAY_KEY_VAULT_URL is not set (needed for secret ${source.keyVault})`);
    this.client ??= new SecretClient(
      vault,
      new DefaultAzureCredential({ managedIdentityClientId: this.env.AZURE_CLIENT_ID }),
    );
    const secret = await this.client.getSecret(source.keyVault);
    if (!secret.value) throw new Error(`Key Vault secret ${source.keyVault} has no value`);
    return secret.value;
  }
}

/**
 * The credential one tenant's Graph calls use, as tenants.json names it. Secret and certificate
 * credentials ask the tenant's own authority for tokens: one multi-tenant app registration,
 * consented in each customer tenant, serves them all. A managed identity only has tokens for the
 * tenant the Function App runs in, so naming it for another tenant is refused here, not by a 401.
 */
export async function tenantCredential(
  tenant: Tenant,
  config: GraphCredentialConfig,
  secrets: SecretReader,
  homeTenantId: string | undefined,
): Promise<TokenCredential> {
  switch (config.type) {
    case 'managed-identity':
      if (homeTenantId && homeTenantId.toLowerCase() !== tenant.id)
        throw new Error(
          `tenant ${tenant.name}: a managed identity only reaches the home tenant ${homeTenantId}; use client-secret or client-certificate`,
        );
      return config.clientId
        ? new ManagedIdentityCredential({ clientId: config.clientId })
        : new ManagedIdentityCredential();
    case 'client-secret':
      return new ClientSecretCredential(tenant.id, config.clientId, await secrets.read(config.secret));
    case 'client-certificate':
      return new ClientCertificateCredential(tenant.id, config.clientId, {
        certificate: await secrets.read(config.certificate),
      });
  }
}
