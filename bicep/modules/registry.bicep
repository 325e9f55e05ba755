// Container registry for the SMTP front image. Pulls go through the front's managed identity
// (AcrPull), so the admin user and anonymous pull stay off.

@description('Azure region.')
param location string

@description('Registry name (5-50 letters and digits).')
param name string

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: name
  location: location
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
  }
}

output name string = registry.name
output loginServer string = registry.properties.loginServer
