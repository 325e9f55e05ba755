import { ClientSecretCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';

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
