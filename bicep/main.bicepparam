using './main.bicep'

// Example for Contoso; copy, adjust and pass with: az deployment group create -p main.bicepparam
param publicFqdn = 'smtp.sigrelay.contoso.com'
param namePrefix = 'sigrelay'
param deployFront = true
param frontImage = 'crsigrelayexample.azurecr.io/sigrelay-front:0.1.0'
param adminPrincipalId = '00000000-0000-0000-0000-000000000000'
param consoleClientId = '00000000-0000-0000-0000-000000000000'
param consoleAdminRole = 'Sigrelay.Admin'
param frontMinReplicas = 3
param frontMaxReplicas = 10
param allowedSourceRanges = [
  '40.92.0.0/15'
  '40.107.0.0/16'
  '52.100.0.0/14'
  '104.47.0.0/17'
]
