// The one storage account: mail while it is processed (inbound/envelopes/signed), dead letters,
// tenant config and user photos, the claim-check and Sent Items queues, trace and state tables, the Durable task hub and the
// Flex Consumption deployment package. Identity-only: no account key can be used.

@description('Azure region.')
param location string

@description('Storage account name (3-24 lowercase letters and digits).')
param name string

@description('Zone-redundant by default so losing a zone never loses a message we answered 250 for.')
param skuName string

@description('Days a deleted blob stays recoverable. Short on purpose: a soft-deleted message is still mail we hold.')
@minValue(1)
param blobSoftDeleteDays int

@description('Last-resort age after which inbound/signed mail is deleted if the orchestration never did.')
@minValue(1)
param mailRetentionDays int

@description('Blob container holding the Functions deployment package.')
param deploymentContainerName string

var mailContainers = [
  'inbound'
  'envelopes'
  'signed'
  // Signed copies waiting to replace the sender's Sent Items copy (deleted when done or given up).
  'sentitems'
]
var otherContainers = [
  'deadletter'
  'config'
  // User photos the directory sync stored: <tenant id>/<user id>-<hash>.jpg.
  'photos'
  // The admin console's last versions of each configuration file (rollback).
  'configversions'
  deploymentContainerName
]
var tableNames = [
  // The message trace is not here: it keeps a table per day, created by the functions at run time
  // (src/trace/layout.ts); the single `sigrelaytrace` table of earlier deployments is read until it ages out.
  'sigrelaystate'
  // Per-sender message counters shared by every SMTP front replica (rate limits).
  'sigrelaylimits'
  // Every write made through the admin console (who, what, when, before/after SHA-256).
  'sigrelayaudit'
]

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    accessTier: 'Hot'
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: blobSoftDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: 7
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in concat(mailContainers, otherContainers): {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource inboundQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: 'inbound'
}

resource sentItemsQueue 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = {
  parent: queueService
  name: 'sentitems'
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = [
  for tableName in tableNames: {
    parent: tableService
    name: tableName
  }
]

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'delete-stale-mail'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [for c in mailContainers: '${c}/']
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: mailRetentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    containers
  ]
}

output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output inboundQueueName string = inboundQueue.name
output tableNames array = tableNames
