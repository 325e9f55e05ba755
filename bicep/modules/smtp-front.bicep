// The SMTP front: an always-on container app taking port 25 from Exchange Online, several
// replicas across zones, TLS certificate and key mounted from Key Vault through its identity.

@description('Azure region.')
param location string

@description('Prefix for resource names.')
param namePrefix string

@description('Container Apps environment id.')
param environmentId string

@description('Resource id of the user-assigned identity the front runs as.')
param identityId string

@description('Client id of that identity.')
param identityClientId string

@description('Principal id of that identity (granted read on the two TLS secrets only).')
param identityPrincipalId string

@description('Full image reference, e.g. myregistry.azurecr.io/sigrelay-front:1.0.0.')
param image string

@description('Registry login server pulled from with the identity.')
param registryServer string

@description('Public DNS name of the front; its certificate must carry this name (Exchange validates it).')
param publicFqdn string

@description('Key Vault name holding the TLS secrets.')
param keyVaultName string

@description('Key Vault secret with the PEM certificate chain for publicFqdn.')
param tlsCertSecretName string

@description('Key Vault secret with the PEM private key.')
param tlsKeySecretName string

@description('Storage account name (identity-based access).')
param storageAccountName string

@description('Blob endpoint of that account, ending with a slash.')
param blobEndpoint string

@description('Application Insights connection string (an address: ingestion needs an Entra token).')
param appInsightsConnectionString string

@description('Source ranges allowed to connect on port 25 (Exchange Online\'s IPv4 ranges plus any test hosts).')
param allowedSourceRanges array

@description('Replicas that always run; two or more so one replica restarting never refuses mail.')
@minValue(2)
param minReplicas int

@description('Upper bound on replicas.')
param maxReplicas int

@description('Concurrent SMTP connections per replica before another replica is added.')
param connectionsPerReplica int

@description('vCPU per replica, as a string (e.g. 0.5).')
param cpu string

@description('Memory per replica (e.g. 1Gi); must match the CPU per Container Apps\' allowed pairs.')
param memory string

var healthPort = 8080
var tlsDir = '/mnt/tls'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' existing = {
  name: keyVaultName
}

resource tlsCert 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {
  parent: vault
  name: tlsCertSecretName
}

resource tlsKey 'Microsoft.KeyVault/vaults/secrets@2023-07-01' existing = {
  parent: vault
  name: tlsKeySecretName
}

// Scoped to the two secrets so the front cannot read the tenants' client certificates.
resource certReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: tlsCert
  name: guid(tlsCert.id, identityPrincipalId, 'Key Vault Secrets User')
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource keyReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: tlsKey
  name: guid(tlsKey.id, identityPrincipalId, 'Key Vault Secrets User')
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '4633458b-17de-408a-b874-0445c86b69e6')
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: 'ca-${namePrefix}-smtp'
  location: location
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    managedEnvironmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        transport: 'tcp'
        targetPort: 25
        exposedPort: 25
        ipSecurityRestrictions: [
          for (sourceRange, i) in allowedSourceRanges: {
            name: 'allow-${i}'
            ipAddressRange: sourceRange
            action: 'Allow'
          }
        ]
      }
      // Versionless secret URLs: Container Apps picks up a renewed certificate without a redeploy.
      secrets: [
        {
          name: 'smtp-tls-cert'
          keyVaultUrl: '${vault.properties.vaultUri}secrets/${tlsCertSecretName}'
          identity: identityId
        }
        {
          name: 'smtp-tls-key'
          keyVaultUrl: '${vault.properties.vaultUri}secrets/${tlsKeySecretName}'
          identity: identityId
        }
      ]
      registries: [
        {
          server: registryServer
          identity: identityId
        }
      ]
    }
    template: {
      // Lets open SMTP sessions finish (a 150 MB upload) before a replica is stopped.
      terminationGracePeriodSeconds: 300
      containers: [
        {
          name: 'smtp-front'
          image: image
          resources: {
            cpu: json(cpu)
            memory: memory
          }
          env: [
            {
              name: 'SIGRELAY_PROFILE'
              value: 'production'
            }
            {
              name: 'SIGRELAY_SMTP_HOST'
              value: '0.0.0.0'
            }
            {
              name: 'SIGRELAY_SMTP_PORT'
              value: '25'
            }
            {
              name: 'SIGRELAY_SMTP_HOSTNAME'
              value: publicFqdn
            }
            {
              name: 'SIGRELAY_HEALTH_PORT'
              value: string(healthPort)
            }
            {
              name: 'SIGRELAY_TLS_CERT'
              value: '${tlsDir}/tls.crt'
            }
            {
              name: 'SIGRELAY_TLS_KEY'
              value: '${tlsDir}/tls.key'
            }
            {
              name: 'SIGRELAY_CONFIG'
              value: '${blobEndpoint}config'
            }
            {
              name: 'AzureWebJobsStorage__accountName'
              value: storageAccountName
            }
            {
              name: 'AzureWebJobsStorage__clientId'
              value: identityClientId
            }
            {
              name: 'AZURE_CLIENT_ID'
              value: identityClientId
            }
            {
              name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
              value: appInsightsConnectionString
            }
            {
              name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
              value: 'ClientId=${identityClientId};Authorization=AAD'
            }
          ]
          volumeMounts: [
            {
              volumeName: 'tls'
              mountPath: tlsDir
            }
          ]
          probes: [
            {
              type: 'Startup'
              httpGet: {
                path: '/healthz'
                port: healthPort
              }
              periodSeconds: 2
              failureThreshold: 30
            }
            {
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: healthPort
              }
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              // Not ready (storage unreachable, draining) takes the replica out of the port-25 pool.
              type: 'Readiness'
              httpGet: {
                path: '/readyz'
                port: healthPort
              }
              periodSeconds: 5
              failureThreshold: 2
            }
          ]
        }
      ]
      volumes: [
        {
          name: 'tls'
          storageType: 'Secret'
          secrets: [
            {
              secretRef: 'smtp-tls-cert'
              path: 'tls.crt'
            }
            {
              secretRef: 'smtp-tls-key'
              path: 'tls.key'
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'smtp-connections'
            tcp: {
              metadata: {
                concurrentConnections: string(connectionsPerReplica)
              }
            }
          }
        ]
      }
    }
  }
  dependsOn: [
    certReader
    keyReader
  ]
}

output fqdn string = app.properties.configuration.ingress.fqdn
output name string = app.name
