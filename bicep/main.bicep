// sigrelay in one resource group: SMTP front (Container Apps, port 25), Functions (Flex
// Consumption, Durable), storage, Key Vault, registry, monitoring, and the roles tying them.
//
// Deploy in two passes (docs/deploy.md): first with deployFront=false to create everything the
// front depends on (vault, registry, storage), then import the TLS certificate, push the image
// and deploy again with deployFront=true.

@description('Azure region for every resource; it must offer availability zones and Flex Consumption.')
param location string = resourceGroup().location

@description('Short prefix for resource names (letters, digits, hyphens).')
@minLength(2)
@maxLength(12)
param namePrefix string = 'sigrelay'

@description('Public DNS name of the SMTP front (Exchange Online\'s outbound connector smart host and TLS domain).')
param publicFqdn string

@description('False on the first pass: creates everything except the front container app.')
param deployFront bool = true

@description('Full SMTP front image reference, e.g. <registry>.azurecr.io/sigrelay-front:1.0.0. Required when deployFront is true.')
param frontImage string = ''

@description('Optional: principal id (user or group) of the operator who imports certificates, pushes images and uploads config.')
param adminPrincipalId string = ''

@description('Client id of the Entra ID app registration for the admin console sign-in (docs/deploy.md); empty: console disabled.')
param consoleClientId string = ''

@description('App role of that registration that makes a console admin.')
param consoleAdminRole string = 'Sigrelay.Admin'

@description('Optional: object id of an Entra group whose members are console admins instead of (or besides) the app role.')
param consoleAdminGroupId string = ''

@description('Key Vault secret holding the front\'s PEM certificate chain.')
param tlsCertSecretName string = 'smtp-tls-cert'

@description('Key Vault secret holding the front\'s PEM private key.')
param tlsKeySecretName string = 'smtp-tls-key'

@description('SMTP front replicas that always run, spread across zones (Letsignit runs 3 nodes).')
@minValue(2)
param frontMinReplicas int = 3

@description('Upper bound on SMTP front replicas.')
param frontMaxReplicas int = 10

@description('Concurrent SMTP connections per replica before scaling out.')
param frontConnectionsPerReplica int = 50

@description('vCPU per SMTP front replica.')
param frontCpu string = '0.5'

@description('Memory per SMTP front replica.')
param frontMemory string = '1Gi'

@description('Sources allowed on port 25. Defaults to Exchange Online\'s IPv4 ranges (Container Apps ingress is IPv4-only); add a test host for swaks while piloting.')
param allowedSourceRanges array = [
  '40.92.0.0/15'
  '40.107.0.0/16'
  '52.100.0.0/14'
  '104.47.0.0/17'
]

@description('VNet address space.')
param vnetAddressPrefix string = '10.60.0.0/16'

@description('Subnet for the Container Apps environment (at least /27).')
param environmentSubnetPrefix string = '10.60.0.0/23'

@description('Storage redundancy; zone-redundant so a zone outage loses no accepted mail.')
@allowed([
  'Standard_ZRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param storageSku string = 'Standard_ZRS'

@description('Days a deleted blob stays recoverable.')
@minValue(1)
param blobSoftDeleteDays int = 1

@description('Days after which stale inbound/signed mail is deleted if processing never finished.')
@minValue(1)
param mailRetentionDays int = 7

@description('Durable Functions task hub name.')
param taskHubName string = 'sigrelay'

@description('Maximum Functions instances.')
param functionMaxInstances int = 100

@description('Memory per Functions instance in MB.')
param functionInstanceMemoryMB int = 2048

@description('Log Analytics retention in days.')
param logRetentionDays int = 30

@description('Optional: e-mail address the on-call alerts notify (dead letters, stuck messages, front replicas, delivery failures).')
param alertEmail string = ''

@description('Delivery failure rate in percent (retries and dead letters among delivery outcomes, over 30 minutes) that raises an alert.')
@minValue(1)
@maxValue(100)
param deliveryFailurePercent int = 10

var suffix = uniqueString(resourceGroup().id)
var compactPrefix = toLower(replace(namePrefix, '-', ''))
var deploymentContainerName = 'app-package'

resource functionIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${namePrefix}-functions'
  location: location
}

resource frontIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${namePrefix}-smtp'
  location: location
}

module monitoring './modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    namePrefix: namePrefix
    retentionInDays: logRetentionDays
  }
}

module observability './modules/observability.bicep' = {
  name: 'observability'
  params: {
    location: location
    namePrefix: namePrefix
    appInsightsId: monitoring.outputs.appInsightsId
    alertEmail: alertEmail
    deliveryFailurePercent: deliveryFailurePercent
  }
}

module storage './modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    name: take('st${compactPrefix}${suffix}', 24)
    skuName: storageSku
    blobSoftDeleteDays: blobSoftDeleteDays
    mailRetentionDays: mailRetentionDays
    deploymentContainerName: deploymentContainerName
  }
}

module keyVault './modules/key-vault.bicep' = {
  name: 'key-vault'
  params: {
    location: location
    name: take('kv-${compactPrefix}-${suffix}', 24)
  }
}

module registry './modules/registry.bicep' = {
  name: 'registry'
  params: {
    location: location
    name: 'cr${compactPrefix}${suffix}'
  }
}

module network './modules/network.bicep' = {
  name: 'network'
  params: {
    location: location
    namePrefix: namePrefix
    addressPrefix: vnetAddressPrefix
    environmentSubnetPrefix: environmentSubnetPrefix
  }
}

module containerEnvironment './modules/container-environment.bicep' = {
  name: 'container-environment'
  params: {
    location: location
    namePrefix: namePrefix
    subnetId: network.outputs.environmentSubnetId
    workspaceId: monitoring.outputs.workspaceId
  }
}

module roles './modules/role-assignments.bicep' = {
  name: 'role-assignments'
  params: {
    storageAccountName: storage.outputs.name
    tableNames: storage.outputs.tableNames
    inboundQueueName: storage.outputs.inboundQueueName
    keyVaultName: keyVault.outputs.name
    registryName: registry.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    functionPrincipalId: functionIdentity.properties.principalId
    frontPrincipalId: frontIdentity.properties.principalId
    adminPrincipalId: adminPrincipalId
  }
}

module functionApp './modules/function-app.bicep' = {
  name: 'function-app'
  params: {
    location: location
    namePrefix: namePrefix
    identityId: functionIdentity.id
    identityClientId: functionIdentity.properties.clientId
    storageAccountName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    keyVaultUri: keyVault.outputs.uri
    taskHubName: taskHubName
    maximumInstanceCount: functionMaxInstances
    instanceMemoryMB: functionInstanceMemoryMB
    consoleClientId: consoleClientId
    consoleAdminRole: consoleAdminRole
    consoleAdminGroupId: consoleAdminGroupId
  }
  // The host reaches storage through the identity from its first start.
  dependsOn: [
    roles
  ]
}

module smtpFront './modules/smtp-front.bicep' = if (deployFront) {
  name: 'smtp-front'
  params: {
    location: location
    namePrefix: namePrefix
    environmentId: containerEnvironment.outputs.id
    identityId: frontIdentity.id
    identityClientId: frontIdentity.properties.clientId
    identityPrincipalId: frontIdentity.properties.principalId
    image: frontImage
    registryServer: registry.outputs.loginServer
    publicFqdn: publicFqdn
    keyVaultName: keyVault.outputs.name
    tlsCertSecretName: tlsCertSecretName
    tlsKeySecretName: tlsKeySecretName
    storageAccountName: storage.outputs.name
    blobEndpoint: storage.outputs.blobEndpoint
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    allowedSourceRanges: allowedSourceRanges
    minReplicas: frontMinReplicas
    maxReplicas: frontMaxReplicas
    connectionsPerReplica: frontConnectionsPerReplica
    cpu: frontCpu
    memory: frontMemory
  }
  dependsOn: [
    roles
  ]
}

@description('Public IP of the SMTP front: the A record for publicFqdn points here.')
output frontPublicIp string = containerEnvironment.outputs.staticIp

@description('Azure-assigned FQDN of the SMTP front (resolves to frontPublicIp); the outbound connector uses publicFqdn, which matches the certificate.')
output frontFqdn string = deployFront ? smtpFront.outputs.fqdn : ''

@description('Name the outbound connector points at (must match the front certificate).')
output smtpHostName string = publicFqdn

output functionAppName string = functionApp.outputs.name
output storageAccountName string = storage.outputs.name
output keyVaultName string = keyVault.outputs.name
output registryLoginServer string = registry.outputs.loginServer
