/**
 * Cmdlets and parameters the generated script may use, copied from the SYNTAX sections of
 * Microsoft's reference (learn.microsoft.com/powershell/module/exchange/<cmdlet>, source
 * github.com/MicrosoftDocs/office-docs-powershell, exchange/exchange-ps/exchange/<Cmdlet>.md):
 * New-/Set-/Get-/Remove-OutboundConnector, New-/Set-/Get-/Remove-InboundConnector,
 * New-/Set-/Get-/Remove-/Enable-TransportRule, Get-AcceptedDomain; for the Sent Items scope (RBAC for
 * Applications, learn.microsoft.com/exchange/permissions-exo/application-rbac): Get-/New-ServicePrincipal,
 * Get-/New-/Set-/Remove-ManagementScope, Get-/New-/Remove-ManagementRoleAssignment (App parameter set),
 * Test-ServicePrincipalAuthorization, Get-/New-DistributionGroup, Add-DistributionGroupMember; Validate-OutboundConnector.
 * Only the parameters we might
 * reasonably use are listed; a name missing here fails the test, which is the point: Exchange
 * rejects an unknown parameter only when the admin runs the script.
 * PowerShell's own cmdlets: learn.microsoft.com/powershell/module/microsoft.powershell.core
 * (ForEach-Object, Where-Object) and microsoft.powershell.utility (Write-Host, Write-Warning, Read-Host).
 */
const connectorCommon = [
  'CloudServicesMailEnabled',
  'Comment',
  'Confirm',
  'ConnectorType',
  'Enabled',
  'WhatIf',
];
const outbound = [
  'IsTransportRuleScoped',
  'RecipientDomains',
  'SmartHosts',
  'TlsDomain',
  'TlsSettings',
  'UseMXRecord',
];
const inbound = ['RequireTls', 'RestrictDomainsToCertificate', 'SenderDomains', 'TlsSenderCertificateName'];
const ruleCommon = [
  'Comments',
  'Confirm',
  'ExceptIfFromAddressMatchesPatterns',
  'ExceptIfHeaderContainsMessageHeader',
  'ExceptIfHeaderContainsWords',
  'ExceptIfMessageSizeOver',
  'ExceptIfMessageTypeMatches',
  'From',
  'FromScope',
  'MessageTypeMatches',
  'Mode',
  'Priority',
  'RouteMessageOutboundConnector',
  'SenderDomainIs',
  'SetHeaderName',
  'SetHeaderValue',
  'StopRuleProcessing',
  'WhatIf',
];

export const cmdletReference: Readonly<Record<string, readonly string[]>> = {
  'Get-OutboundConnector': ['Identity'],
  'New-OutboundConnector': ['Name', ...connectorCommon, ...outbound],
  'Set-OutboundConnector': ['Identity', 'Name', ...connectorCommon, ...outbound],
  'Remove-OutboundConnector': ['Identity', 'Confirm', 'WhatIf'],
  'Get-InboundConnector': ['Identity'],
  'New-InboundConnector': ['Name', ...connectorCommon, ...inbound],
  'Set-InboundConnector': ['Identity', 'Name', ...connectorCommon, ...inbound],
  'Remove-InboundConnector': ['Identity', 'Confirm', 'WhatIf'],
  'Get-TransportRule': ['Identity'],
  // Enabled exists on New-TransportRule only; Set-TransportRule uses Enable-/Disable-TransportRule.
  'New-TransportRule': ['Name', 'Enabled', ...ruleCommon],
  'Set-TransportRule': ['Identity', 'Name', ...ruleCommon],
  'Enable-TransportRule': ['Identity', 'Confirm', 'Mode', 'WhatIf'],
  'Remove-TransportRule': ['Identity', 'Confirm', 'WhatIf'],
  // technet.microsoft.com/en-us/library/mt586786(v=exchg.160).aspx: Identity and Recipients required.
  'Validate-OutboundConnector': ['Identity', 'Recipients', 'Confirm', 'WhatIf'],
  'Get-AcceptedDomain': ['Identity'],
  'Get-DistributionGroup': ['Identity'],
  'New-DistributionGroup': ['Name', 'Type', 'Notes', 'Members', 'Confirm', 'WhatIf'],
  'Add-DistributionGroupMember': [
    'Identity',
    'Member',
    'BypassSecurityGroupManagerCheck',
    'Confirm',
    'WhatIf',
  ],
  'Get-ServicePrincipal': ['Identity'],
  'New-ServicePrincipal': ['AppId', 'ObjectId', 'DisplayName', 'Confirm', 'WhatIf'],
  'Get-ManagementScope': ['Identity'],
  'New-ManagementScope': ['Name', 'RecipientRestrictionFilter', 'Confirm', 'Force', 'WhatIf'],
  'Set-ManagementScope': ['Identity', 'Name', 'RecipientRestrictionFilter', 'Confirm', 'Force', 'WhatIf'],
  'Remove-ManagementScope': ['Identity', 'Confirm', 'WhatIf'],
  'Get-ManagementRoleAssignment': ['Identity'],
  // The App parameter set: an application role, the service principal, a custom resource scope.
  'New-ManagementRoleAssignment': [
    'Name',
    'Role',
    'App',
    'CustomResourceScope',
    'Confirm',
    'Force',
    'WhatIf',
  ],
  'Remove-ManagementRoleAssignment': ['Identity', 'Confirm', 'WhatIf'],
  'Test-ServicePrincipalAuthorization': ['Identity', 'Resource'],
  'ForEach-Object': [],
  'Where-Object': [],
  'Write-Host': [],
  'Write-Warning': [],
  'Read-Host': ['Prompt'],
};

/** PowerShell's common parameters, accepted by every cmdlet (about_CommonParameters). */
export const commonParameters: readonly string[] = [
  'Debug',
  'ErrorAction',
  'ErrorVariable',
  'InformationAction',
  'InformationVariable',
  'OutVariable',
  'OutBuffer',
  'PipelineVariable',
  'Verbose',
  'WarningAction',
  'WarningVariable',
];
