// Container Apps environment for the SMTP front: in our VNet (required for external TCP ingress),
// spread across availability zones, logs to Log Analytics through diagnostic settings so no
// workspace key is ever handed to the environment.

@description('Azure region (must support availability zones).')
param location string

@description('Prefix for resource names.')
param namePrefix string

@description('Subnet delegated to Microsoft.App/environments.')
param subnetId string

@description('Log Analytics workspace receiving console and system logs.')
param workspaceId string

resource environment 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: 'cae-${namePrefix}'
  location: location
  properties: {
    vnetConfiguration: {
      infrastructureSubnetId: subnetId
      internal: false
    }
    zoneRedundant: true
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
    appLogsConfiguration: {
      destination: 'azure-monitor'
    }
  }
}

// categoryGroup (all logs without listing categories) needs the 2021-05-01-preview API.
resource logs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: environment
  properties: {
    workspaceId: workspaceId
    logs: [
      {
        categoryGroup: 'allLogs'
        enabled: true
      }
    ]
  }
}

output id string = environment.id
output name string = environment.name
output staticIp string = environment.properties.staticIp
output defaultDomain string = environment.properties.defaultDomain
