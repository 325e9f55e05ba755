// Log Analytics + workspace-based Application Insights shared by the SMTP front and the Functions app.

@description('Azure region.')
param location string

@description('Prefix for resource names.')
param namePrefix string

@description('Days Log Analytics keeps logs; 30 is the free tier and longer than the 7 days vendors keep traces.')
param retentionInDays int

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${namePrefix}'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${namePrefix}'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Ingestion only with an Entra token (Monitoring Metrics Publisher): the connection string
    // in app settings is then an address, not a credential.
    DisableLocalAuth: true
  }
}

output workspaceId string = workspace.id
output appInsightsName string = appInsights.name
output appInsightsId string = appInsights.id
output appInsightsConnectionString string = appInsights.properties.ConnectionString
