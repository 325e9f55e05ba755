// The Functions app (Flex Consumption, Node 22): the queue trigger signs, delivers and deletes each
// message; a Durable orchestration takes over only retries and failures. Storage is reached only through the
// user-assigned identity; no connection string or key appears in its settings.

@description('Azure region (must offer Flex Consumption).')
param location string

@description('Prefix for resource names.')
param namePrefix string

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity (selects it for storage, Key Vault and App Insights).')
param identityClientId string

@description('Storage account used for triggers, the task hub and the deployment package.')
param storageAccountName string

@description('Blob endpoint of that account, ending with a slash.')
param blobEndpoint string

@description('Blob container holding the deployment package.')
param deploymentContainerName string

@description('Application Insights connection string (an address: ingestion needs an Entra token).')
param appInsightsConnectionString string

@description('Key Vault URI holding the tenants\' client certificates.')
param keyVaultUri string

@description('Durable Functions task hub name.')
param taskHubName string

@description('Upper bound on instances, which bounds parallel deliveries to Exchange Online.')
param maximumInstanceCount int

@description('Memory per instance in MB (2048 or 4096).')
@allowed([
  2048
  4096
])
param instanceMemoryMB int

@description('Client id of the Entra ID app registration that signs admins into the console (/admin); empty: no sign-in, the console refuses everyone.')
param consoleClientId string

@description('App role of that registration that makes an admin of the console.')
param consoleAdminRole string

@description('Optional: object id of an Entra group whose members are console admins (the registration must emit group claims).')
param consoleAdminGroupId string

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'asp-${namePrefix}'
  location: location
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: 'func-${namePrefix}-${uniqueString(resourceGroup().id)}'
  location: location
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: [
        {
          name: 'AzureWebJobsStorage__accountName'
          value: storageAccountName
        }
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identityClientId
        }
        {
          // DefaultAzureCredential in our code picks the same identity as the host.
          name: 'AZURE_CLIENT_ID'
          value: identityClientId
        }
        {
          name: 'AzureFunctionsJobHost__extensions__durableTask__hubName'
          value: taskHubName
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: appInsightsConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identityClientId};Authorization=AAD'
        }
        {
          name: 'SIGRELAY_PROFILE'
          value: 'production'
        }
        {
          name: 'SIGRELAY_CONFIG'
          value: '${blobEndpoint}config'
        }
        {
          name: 'SIGRELAY_KEY_VAULT_URL'
          value: keyVaultUri
        }
        {
          // A tenant's directory or Sent Items credential may be the managed identity only for this tenant.
          name: 'SIGRELAY_HOME_TENANT_ID'
          value: subscription().tenantId
        }
        {
          // Set together with authsettingsV2 below: only then is x-ms-client-principal the platform's.
          name: 'SIGRELAY_ADMIN_EASY_AUTH'
          value: empty(consoleClientId) ? 'false' : 'true'
        }
        {
          name: 'SIGRELAY_ADMIN_ROLE'
          value: consoleAdminRole
        }
        {
          name: 'SIGRELAY_ADMIN_GROUP'
          value: consoleAdminGroupId
        }
      ]
    }
  }
}

output name string = site.name

// App Service Authentication (Easy Auth) with Entra ID for the admin console. Sign-in is not forced
// on the whole app: the function-key routes (/api/messages, /api/deadletters, /api/preview) keep
// working for scripts, and the console's API refuses anyone without the admin role or group itself.
resource consoleAuth 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(consoleClientId)) {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          openIdIssuer: '${environment().authentication.loginEndpoint}${subscription().tenantId}/v2.0'
          clientId: consoleClientId
        }
        validation: {
          allowedAudiences: [
            consoleClientId
            'api://${consoleClientId}'
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: true
      }
    }
  }
}
