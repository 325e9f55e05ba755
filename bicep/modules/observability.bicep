// What the on-call engineer looks at: an Azure Monitor workbook over sigrelay's OpenTelemetry
// metrics (src/telemetry, exported by @azure/monitor-opentelemetry into Application Insights'
// customMetrics), and the four alert rules docs/operations.md ("Telemetry") explains.

@description('Azure region.')
param location string

@description('Prefix for resource names.')
param namePrefix string

@description('Resource id of the Application Insights component both apps export to.')
param appInsightsId string

@description('Optional: e-mail address the alerts notify; receivers can be added to the action group later.')
param alertEmail string

@description('Delivery failure rate (percent of delivery outcomes that were retries or dead letters over 30 minutes) above which the on-call engineer is alerted.')
@minValue(1)
@maxValue(100)
param deliveryFailurePercent int

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${namePrefix}-oncall'
  location: 'global'
  properties: {
    groupShortName: take('${namePrefix}oncall', 12)
    enabled: true
    emailReceivers: empty(alertEmail)
      ? []
      : [
          {
            name: 'on-call'
            emailAddress: alertEmail
            useCommonAlertSchema: true
          }
        ]
  }
}

// Counters arrive as one row per export interval (60 s) holding that interval's increase (delta),
// so sum(valueSum) is "how many". Histograms arrive as count/sum/min/max, without buckets.
var queries = {
  deadLetters: '''
customMetrics
| where name == 'sigrelay.messages.dead_lettered'
| summarize deadLetters = sum(valueSum)
'''
  // The sweeper reports each minute; no report at all means the functions are not running, which
  // lets mail pile up just the same, so silence counts as a day old.
  oldestMessage: '''
customMetrics
| where name == 'sigrelay.inbound.oldest_age'
| summarize reports = count(), oldest = max(valueMax)
| extend oldestSeconds = iff(reports == 0, 86400.0, todouble(oldest))
'''
  // Each live replica reports 1 (ready) or 0 at every export; a replica that is gone reports nothing.
  readyReplicas: '''
customMetrics
| where name == 'sigrelay.front.ready'
| summarize arg_max(timestamp, valueMax) by cloud_RoleInstance
| summarize readyReplicas = countif(valueMax >= 1)
'''
  // Below 10 outcomes in the window a rate says little (one retry out of two is not an incident).
  deliveryFailures: '''
customMetrics
| where name in ('sigrelay.messages.delivered', 'sigrelay.delivery.retries', 'sigrelay.messages.dead_lettered')
| summarize delivered = sumif(valueSum, name == 'sigrelay.messages.delivered'), failed = sumif(valueSum, name != 'sigrelay.messages.delivered')
| where delivered + failed >= 10
| extend failurePercent = 100.0 * failed / (delivered + failed)
'''
}

var alerts = [
  {
    key: 'dead-letters'
    displayName: 'sigrelay: a message was dead-lettered'
    description: 'A message was moved to the deadletter container: delivery gave up, or a fail-closed tenant could not be signed. Read docs/operations.md (Telemetry, Alerts).'
    severity: 1
    window: 'PT15M'
    query: queries.deadLetters
    column: 'deadLetters'
    operator: 'GreaterThan'
    threshold: 0
  }
  {
    key: 'oldest-message'
    displayName: 'sigrelay: a message has waited more than 15 minutes'
    description: 'The oldest unfinished message in inbound is older than 15 minutes, or the sweeper has not reported for 10 minutes (functions down). Read docs/operations.md (Telemetry, Alerts).'
    severity: 2
    window: 'PT10M'
    query: queries.oldestMessage
    column: 'oldestSeconds'
    operator: 'GreaterThan'
    threshold: 900
  }
  {
    key: 'front-replicas'
    displayName: 'sigrelay: fewer than 2 SMTP front replicas ready'
    description: 'Fewer than two front replicas reported ready in the last 5 minutes: one more failure and Exchange Online cannot reach us. Read docs/operations.md (Telemetry, Alerts).'
    severity: 1
    window: 'PT5M'
    query: queries.readyReplicas
    column: 'readyReplicas'
    operator: 'LessThan'
    threshold: 2
  }
  {
    key: 'delivery-failures'
    displayName: 'sigrelay: delivery failure rate above ${deliveryFailurePercent}%'
    description: 'More than ${deliveryFailurePercent}% of delivery outcomes in 30 minutes were retries or dead letters. Read docs/operations.md (Telemetry, Alerts).'
    severity: 2
    window: 'PT30M'
    query: queries.deliveryFailures
    column: 'failurePercent'
    operator: 'GreaterThan'
    threshold: deliveryFailurePercent
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2022-06-15' = [
  for alert in alerts: {
    name: 'alert-${namePrefix}-${alert.key}'
    location: location
    properties: {
      displayName: alert.displayName
      description: alert.description
      severity: alert.severity
      enabled: true
      scopes: [
        appInsightsId
      ]
      evaluationFrequency: 'PT5M'
      windowSize: alert.window
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: 'Maximum'
            metricMeasureColumn: alert.column
            operator: alert.operator
            threshold: alert.threshold
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: [
          actionGroup.id
        ]
      }
    }
  }
]

// `{TimeRange}` and `{TimeRange:grain}` are the workbook's time picker (below).
var charts = [
  {
    title: 'SMTP sessions and messages accepted'
    visualization: 'timechart'
    query: '''
customMetrics
| where timestamp {TimeRange}
| where name in ('sigrelay.smtp.sessions', 'sigrelay.messages.accepted')
| summarize total = sum(valueSum) by name, bin(timestamp, {TimeRange:grain})
'''
  }
  {
    title: 'Messages refused, by reply code and phase'
    visualization: 'timechart'
    query: '''
customMetrics
| where timestamp {TimeRange}
| where name == 'sigrelay.messages.refused'
| extend reply = strcat(tostring(customDimensions['smtp.reply.code']), ' ', tostring(customDimensions['smtp.reply.status']), ' at ', tostring(customDimensions['sigrelay.smtp.phase']))
| summarize refused = sum(valueSum) by reply, bin(timestamp, {TimeRange:grain})
'''
  }
  {
    title: 'Bytes accepted, by tenant'
    visualization: 'timechart'
    query: '''
customMetrics
| where timestamp {TimeRange}
| where name == 'sigrelay.messages.bytes'
| summarize bytes = sum(valueSum) by tenant = tostring(customDimensions['sigrelay.tenant.id']), bin(timestamp, {TimeRange:grain})
'''
  }
  {
    title: 'Signing decisions'
    visualization: 'timechart'
    query: '''
customMetrics
| where timestamp {TimeRange}
| where name == 'sigrelay.signing.decisions'
| summarize decisions = sum(valueSum) by action = tostring(customDimensions['sigrelay.signing.action']), bin(timestamp, {TimeRange:grain})
'''
  }
  {
    title: 'Delivered, retried, dead-lettered'
    visualization: 'timechart'
    query: '''
customMetrics
| where timestamp {TimeRange}
| where name in ('sigrelay.messages.delivered', 'sigrelay.delivery.retries', 'sigrelay.messages.dead_lettered')
| summarize total = sum(valueSum) by name, bin(timestamp, {TimeRange:grain})
'''
  }
  {
    title: 'Receive to delivered latency (ms), average and maximum by path'
    visualization: 'timechart'
    query: '''
customMetrics
| where timestamp {TimeRange}
| where name == 'sigrelay.delivery.latency'
| extend path = tostring(customDimensions['sigrelay.delivery.path'])
| summarize average = sum(valueSum) / sum(valueCount), maximum = max(valueMax) by path, bin(timestamp, {TimeRange:grain})
'''
  }
  {
    title: 'Inbound backlog: unfinished messages and oldest age (s)'
    visualization: 'timechart'
    query: '''
customMetrics
| where timestamp {TimeRange}
| where name in ('sigrelay.inbound.messages', 'sigrelay.inbound.oldest_age')
| summarize value = max(valueMax) by name, bin(timestamp, {TimeRange:grain})
'''
  }
  {
    title: 'SMTP front replicas ready'
    visualization: 'timechart'
    query: '''
customMetrics
| where timestamp {TimeRange}
| where name == 'sigrelay.front.ready' and valueMax >= 1
| summarize readyReplicas = dcount(cloud_RoleInstance) by bin(timestamp, {TimeRange:grain})
'''
  }
  {
    title: 'Sent Items updates, by outcome (tenants with sentItems on)'
    visualization: 'timechart'
    query: '''
customMetrics
| where timestamp {TimeRange}
| where name == 'sigrelay.sentitems.outcomes'
| summarize total = sum(valueSum) by outcome = tostring(customDimensions['sigrelay.sentitems.outcome']), bin(timestamp, {TimeRange:grain})
'''
  }
]

var workbook = {
  version: 'Notebook/1.0'
  items: concat(
    [
      {
        type: 1
        name: 'title'
        content: {
          json: '## sigrelay\nMessages through the SMTP front, signing, delivery and the backlog. What each chart and alert means: docs/operations.md, "Telemetry".'
        }
      }
      {
        type: 9
        name: 'parameters'
        content: {
          version: 'KqlParameterItem/1.0'
          parameters: [
            {
              id: 'b1f0c3de-5a2e-4d0b-9a51-7d3c2f1e0a01'
              version: 'KqlParameterItem/1.0'
              name: 'TimeRange'
              label: 'Time range'
              type: 4
              isRequired: true
              value: {
                durationMs: 86400000
              }
              typeSettings: {
                selectableValues: [
                  {
                    durationMs: 3600000
                  }
                  {
                    durationMs: 14400000
                  }
                  {
                    durationMs: 86400000
                  }
                  {
                    durationMs: 604800000
                  }
                ]
              }
            }
          ]
        }
      }
    ],
    [
      for (chart, i) in charts: {
        type: 3
        name: 'chart-${i}'
        content: {
          version: 'KqlItem/1.0'
          title: chart.title
          query: chart.query
          queryType: 0
          resourceType: 'microsoft.insights/components'
          visualization: chart.visualization
          size: 0
        }
      }
    ]
  )
  '$schema': 'https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json'
}

resource dashboard 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, namePrefix, 'sigrelay-workbook')
  location: location
  kind: 'shared'
  properties: {
    displayName: 'sigrelay operations'
    category: 'workbook'
    sourceId: appInsightsId
    serializedData: string(workbook)
  }
}

output workbookId string = dashboard.id
output actionGroupId string = actionGroup.id
output alertRuleNames array = [for (alert, i) in alerts: alertRules[i].name]
