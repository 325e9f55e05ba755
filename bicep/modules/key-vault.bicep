// Key Vault in RBAC mode: the SMTP front's TLS certificate/key and each tenant's client
// certificate for the return leg live here; apps read them with their managed identities.

@description('Azure region.')
param location string

@description('Key Vault name (3-24 characters).')
param name string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // A purged certificate would stop mail flow for every tenant until re-issued.
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
  }
}

output name string = vault.name
output uri string = vault.properties.vaultUri
