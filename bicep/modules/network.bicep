// The VNet Container Apps needs for external TCP ingress (port 25 is not HTTP).

@description('Azure region.')
param location string

@description('Prefix for resource names.')
param namePrefix string

@description('VNet address space.')
param addressPrefix string

@description('Subnet for the Container Apps environment; workload-profile environments need at least a /27.')
param environmentSubnetPrefix string

resource vnet 'Microsoft.Network/virtualNetworks@2024-01-01' = {
  name: 'vnet-${namePrefix}'
  location: location
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'container-apps'
        properties: {
          addressPrefix: environmentSubnetPrefix
          delegations: [
            {
              name: 'container-apps'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
    ]
  }
}

output environmentSubnetId string = vnet.properties.subnets[0].id
