// Least-privilege data-plane roles, each scoped to the narrowest resource that works:
// the Functions host needs account-wide storage roles (the Durable task hub creates its own
// queues, tables and lease blobs); the SMTP front only writes its two containers and the
// claim-check queue and reads tenant config.

@description('Storage account name.')
param storageAccountName string

@description('Tables the SMTP front writes (trace, rate-limit state).')
param tableNames array

@description('Claim-check queue the SMTP front sends to.')
param inboundQueueName string

@description('Key Vault name.')
param keyVaultName string

@description('Container registry name.')
param registryName string

@description('Application Insights component name.')
param appInsightsName string

@description('Principal id of the Functions app identity.')
param functionPrincipalId string

@description('Principal id of the SMTP front identity.')
param frontPrincipalId string

@description('Optional: principal id (user or group) of the operator who imports certificates, pushes the image, uploads config and reads message traces. Empty to skip.')
param adminPrincipalId string

// Built-in role definition ids (identical in every subscription).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageQueueDataMessageSender: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  storageTableDataReader: '76199698-9eea-4c19-bc75-cec21354c6b6'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  acrPush: '8311e382-0749-4cb8-b61a-304f252e45ec'
}

var frontWriteContainers = [
  'inbound'
  'envelopes'
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

resource frontContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = [
  for containerName in frontWriteContainers: {
    parent: blobService
    name: containerName
  }
]

resource configContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  parent: blobService
  name: 'config'
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

resource inboundQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' existing = {
  parent: queueService
  name: inboundQueueName
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' existing = {
  parent: account
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' existing = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// Functions app

resource functionBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: account
  name: guid(account.id, functionPrincipalId, roles.storageBlobDataOwner)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource functionQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: account
  name: guid(account.id, functionPrincipalId, roles.storageQueueDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource functionTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: account
  name: guid(account.id, functionPrincipalId, roles.storageTableDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Vault-wide because delivery picks the client certificate of whichever tenant a message is for.
resource functionSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: vault
  name: guid(vault.id, functionPrincipalId, roles.keyVaultSecretsUser)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource functionTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: appInsights
  name: guid(appInsights.id, functionPrincipalId, roles.monitoringMetricsPublisher)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// SMTP front

resource frontBlob 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (containerName, i) in frontWriteContainers: {
    scope: frontContainers[i]
    name: guid(frontContainers[i].id, frontPrincipalId, roles.storageBlobDataContributor)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
      principalId: frontPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource frontConfig 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: configContainer
  name: guid(configContainer.id, frontPrincipalId, roles.storageBlobDataReader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
    principalId: frontPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource frontQueue 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: inboundQueue
  name: guid(inboundQueue.id, frontPrincipalId, roles.storageQueueDataMessageSender)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageSender)
    principalId: frontPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource frontTables 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (tableName, i) in tableNames: {
    scope: tables[i]
    name: guid(tables[i].id, frontPrincipalId, roles.storageTableDataContributor)
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
      principalId: frontPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource frontPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: registry
  name: guid(registry.id, frontPrincipalId, roles.acrPull)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPull)
    principalId: frontPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource frontTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: appInsights
  name: guid(appInsights.id, frontPrincipalId, roles.monitoringMetricsPublisher)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: frontPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Operator (optional)

resource adminSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(adminPrincipalId)) {
  scope: vault
  name: guid(vault.id, adminPrincipalId, roles.keyVaultSecretsOfficer)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: adminPrincipalId
  }
}

resource adminPush 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(adminPrincipalId)) {
  scope: registry
  name: guid(registry.id, adminPrincipalId, roles.acrPush)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.acrPush)
    principalId: adminPrincipalId
  }
}

resource adminConfig 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(adminPrincipalId)) {
  scope: configContainer
  name: guid(configContainer.id, adminPrincipalId, roles.storageBlobDataContributor)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: adminPrincipalId
  }
}

// `npx sigrelay trace <id>` run by the operator reads the trace. The trace keeps a table per day
// (src/trace/layout.ts), created at run time, so no table-scoped assignment can cover it: the
// reader role is on the account (it also lets the operator read the state, limits and audit tables).
resource adminTrace 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(adminPrincipalId)) {
  scope: account
  name: guid(account.id, adminPrincipalId, roles.storageTableDataReader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataReader)
    principalId: adminPrincipalId
  }
}
