/**
 * Offline checks of bicep/: the Bicep CLI downloads binaries, so we parse every file with the
 * tree-sitter grammar and assert the deployment's invariants on the syntax tree.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Language, Parser, type Node } from 'web-tree-sitter';
import { names as storageNames } from '../../../src/storage/index.js';
import { attributeNames, metricNames } from '../../../src/telemetry/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const bicepDir = path.join(root, 'bicep');

await Parser.init();
const parser = new Parser();
parser.setLanguage(
  await Language.load(path.join(root, 'node_modules/tree-sitter-bicep/tree-sitter-bicep.wasm')),
);

interface BicepFile {
  rel: string;
  dir: string;
  root: Node;
}

function parseFile(file: string, source: string): BicepFile {
  const tree = parser.parse(source);
  assert.ok(tree, `${file}: parser returned no tree`);
  return { rel: path.relative(root, file), dir: path.dirname(file), root: tree.rootNode };
}

function bicepFiles(dir: string, ext: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith(ext))
    .map((f) => path.join(dir, f))
    .sort();
}

const files = bicepFiles(bicepDir, '.bicep').map((f) => parseFile(f, fs.readFileSync(f, 'utf8')));
const byRel = new Map(files.map((f) => [f.rel, f]));
const main = byRel.get(path.join('bicep', 'main.bicep'));

/**
 * The grammar predates .bicepparam (`param name = value`, no type). A params file is `using` plus
 * assignments whose right sides are Bicep expressions, so as variables they parse the same.
 */
const paramsFile = path.join(bicepDir, 'main.bicepparam');
const params = parseFile(
  paramsFile,
  fs.readFileSync(paramsFile, 'utf8').replace(/^param(\s+\w+\s*=)/gm, 'var  $1'),
);

function descendants(node: Node, type?: string): Node[] {
  const out: Node[] = [];
  const walk = (n: Node): void => {
    if (!type || n.type === type) out.push(n);
    for (const c of n.namedChildren) if (c) walk(c);
  };
  walk(node);
  return out;
}

function named(node: Node, i: number): Node {
  const child = node.namedChild(i);
  assert.ok(child, `expected child ${i} of ${node.type} at line ${node.startPosition.row + 1}`);
  return child;
}

/** The literal value of a string/number/boolean node; undefined for anything computed. */
function literal(node: Node): string | number | boolean | undefined {
  switch (node.type) {
    case 'string':
      return node.namedChildren.some((c) => c?.type === 'interpolation') ? undefined : node.text.slice(1, -1);
    case 'number':
      return Number(node.text);
    case 'boolean':
      return node.text === 'true';
    default:
      return undefined;
  }
}

function keyOf(prop: Node): string {
  const key = named(prop, 0);
  return key.type === 'string' ? key.text.slice(1, -1) : key.text;
}

/** Property `name` of an object node, following a dotted path. */
function prop(obj: Node | undefined, dotted: string): Node | undefined {
  let current = obj;
  for (const part of dotted.split('.')) {
    if (!current || current.type !== 'object') return undefined;
    const found = current.namedChildren.find((c) => c?.type === 'object_property' && keyOf(c) === part);
    current = found ? named(found, found.namedChildCount - 1) : undefined;
  }
  return current;
}

interface Resource {
  file: BicepFile;
  symbol: string;
  type: string;
  existing: boolean;
  body: Node;
}

/** The object a declaration's value evaluates to, looking through `if (...)` and `[for ...]`. */
function bodyOf(value: Node): Node {
  if (value.type === 'object') return value;
  if (value.type === 'for_statement')
    return bodyOf(value.childForFieldName('body') ?? named(value, value.namedChildCount - 1));
  if (value.type === 'if_statement') return bodyOf(named(value, value.namedChildCount - 1));
  assert.fail(`unexpected declaration value ${value.type} at line ${value.startPosition.row + 1}`);
}

function resources(file: BicepFile): Resource[] {
  return descendants(file.root, 'resource_declaration').map((r) => ({
    file,
    symbol: named(r, 0).text,
    type: String(literal(named(r, 1))),
    existing: r.children.some((c) => c?.type === 'existing'),
    body: bodyOf(named(r, r.namedChildCount - 1)),
  }));
}

const allResources = files.flatMap(resources);

function resourcesOfType(type: string, opts = { existing: false }): Resource[] {
  return allResources.filter((r) => r.type.split('@')[0] === type && r.existing === opts.existing);
}

interface Param {
  name: string;
  hasDefault: boolean;
  defaultValue: Node | undefined;
  minValue: number | undefined;
}

function paramsOf(file: BicepFile): Param[] {
  return descendants(file.root, 'parameter_declaration').map((p) => {
    const decorators = p.previousNamedSibling?.type === 'decorators' ? p.previousNamedSibling : undefined;
    const minValue = decorators?.namedChildren
      .map((d) => d && named(d, 0))
      .find((call) => call && named(call, 0).text === 'minValue');
    const defaultValue = p.namedChildCount > 2 ? named(p, 2) : undefined;
    return {
      name: named(p, 0).text,
      hasDefault: defaultValue !== undefined,
      defaultValue,
      minValue: minValue ? Number(named(named(minValue, 1), 0).text) : undefined,
    };
  });
}

const declarationTypes = new Set([
  'parameter_declaration',
  'variable_declaration',
  'resource_declaration',
  'module_declaration',
  'output_declaration',
]);

/** Identifiers that read a symbol: not a declaration's own name, not an object key. */
function references(file: BicepFile): Set<string> {
  return new Set(
    descendants(file.root, 'identifier')
      .filter((id) => {
        const parent = id.parent;
        if (!parent) return false;
        const first = parent.namedChild(0);
        const isName =
          first?.id === id.id && (declarationTypes.has(parent.type) || parent.type === 'object_property');
        return !isName;
      })
      .map((id) => id.text),
  );
}

interface ModuleCall {
  file: BicepFile;
  symbol: string;
  target: string;
  params: Node | undefined;
}

const moduleCalls: ModuleCall[] = files.flatMap((file) =>
  descendants(file.root, 'module_declaration').map((m) => ({
    file,
    symbol: named(m, 0).text,
    target: path.resolve(file.dir, String(literal(named(m, 1)))),
    params: prop(bodyOf(named(m, m.namedChildCount - 1)), 'params'),
  })),
);

function numberParamFloor(file: BicepFile, value: Node): number {
  const lit = literal(value);
  if (typeof lit === 'number') return lit;
  const param = paramsOf(file).find((p) => p.name === value.text);
  assert.ok(param, `${file.rel}: ${value.text} is neither a number nor a parameter`);
  assert.ok(param.minValue !== undefined, `${file.rel}: parameter ${param.name} needs @minValue`);
  return param.minValue;
}

void test('every .bicep and .bicepparam file parses without ERROR or MISSING nodes', () => {
  assert.ok(main, 'bicep/main.bicep exists');
  assert.ok(files.length > 1, 'modules exist');
  for (const file of [...files, params]) {
    const bad = descendants(file.root).filter((n) => n.isError || n.isMissing);
    const where = bad.map((n) => `${n.startPosition.row + 1}:${n.startPosition.column + 1} ${n.type}`);
    assert.deepEqual(where, [], `${file.rel} has syntax errors`);
  }
});

void test('every module path exists and module calls match the module parameters', () => {
  assert.ok(moduleCalls.length > 0);
  for (const call of moduleCalls) {
    assert.ok(
      fs.existsSync(call.target),
      `${call.file.rel}: module ${call.symbol} -> missing ${call.target}`,
    );
    const target = files.find((f) => path.resolve(root, f.rel) === call.target);
    assert.ok(target, `${call.target} was parsed`);
    const declared = paramsOf(target);
    const passed = (call.params?.namedChildren ?? [])
      .filter((c) => c?.type === 'object_property')
      .map((c) => keyOf(c));
    for (const name of passed)
      assert.ok(
        declared.some((p) => p.name === name),
        `${call.file.rel}: ${call.symbol} passes unknown parameter ${name} to ${target.rel}`,
      );
    for (const p of declared.filter((d) => !d.hasDefault))
      assert.ok(
        passed.includes(p.name),
        `${call.file.rel}: ${call.symbol} misses required parameter ${p.name}`,
      );
  }
});

void test('every parameter is used', () => {
  for (const file of files) {
    const used = references(file);
    for (const p of paramsOf(file))
      assert.ok(used.has(p.name), `${file.rel}: parameter ${p.name} is never used`);
  }
});

void test('main.bicepparam sets only declared parameters and every required one', () => {
  assert.ok(main);
  const declared = paramsOf(main);
  const assigned = descendants(params.root, 'variable_declaration').map((v) => named(v, 0).text);
  for (const name of assigned)
    assert.ok(
      declared.some((p) => p.name === name),
      `unknown parameter ${name}`,
    );
  for (const p of declared.filter((d) => !d.hasDefault))
    assert.ok(assigned.includes(p.name), `missing ${p.name}`);
});

void test('every role assignment is scoped to a resource, never a subscription or resource group', () => {
  for (const file of files) {
    const scope = descendants(file.root, 'target_scope_assignment').map((t) => literal(named(t, 0)));
    assert.ok(
      scope.every((s) => s === 'resourceGroup'),
      `${file.rel}: targetScope ${scope.join()}`,
    );
  }
  const assignments = resourcesOfType('Microsoft.Authorization/roleAssignments');
  assert.ok(assignments.length >= 10, 'role assignments exist');
  for (const ra of assignments) {
    const scope = prop(ra.body, 'scope');
    assert.ok(
      scope,
      `${ra.file.rel}: ${ra.symbol} has no scope (it would apply to the whole resource group)`,
    );
    const target = scope.type === 'subscript_expression' ? named(scope, 0) : scope;
    assert.equal(target.type, 'identifier', `${ra.file.rel}: ${ra.symbol} scope must be a resource symbol`);
    assert.ok(
      resources(ra.file).some(
        (r) => r.symbol === target.text && !r.type.startsWith('Microsoft.Authorization/'),
      ),
      `${ra.file.rel}: ${ra.symbol} scope ${target.text} is not a resource declared in the file`,
    );
  }
});

void test('storage: TLS 1.2, identity only, no public blobs, soft delete, 7-day lifecycle, every product name', () => {
  const accounts = resourcesOfType('Microsoft.Storage/storageAccounts');
  assert.equal(accounts.length, 1);
  const account = accounts[0]!;
  assert.equal(literal(prop(account.body, 'properties.minimumTlsVersion')!), 'TLS1_2');
  assert.equal(literal(prop(account.body, 'properties.allowSharedKeyAccess')!), false);
  assert.equal(literal(prop(account.body, 'properties.allowBlobPublicAccess')!), false);
  const blob = resourcesOfType('Microsoft.Storage/storageAccounts/blobServices')[0];
  assert.equal(literal(prop(blob?.body, 'properties.deleteRetentionPolicy.enabled')!), true);
  const lifecycle = resourcesOfType('Microsoft.Storage/storageAccounts/managementPolicies')[0];
  assert.ok(
    lifecycle && /daysAfterModificationGreaterThan/.test(lifecycle.body.text),
    'lifecycle delete rule',
  );
  const retention = paramsOf(main!).find((p) => p.name === 'mailRetentionDays');
  assert.equal(retention?.defaultValue?.text, '7');

  const storageStrings = new Set(descendants(account.file.root, 'string').map((s) => literal(s)));
  for (const name of Object.values(storageNames))
    assert.ok(storageStrings.has(name), `${account.file.rel} does not create ${name} (src/storage names)`);
  for (const mail of ['inbound', 'signed']) assert.ok(storageStrings.has(mail), `lifecycle covers ${mail}`);
});

void test('no account keys, connection strings or list*() calls anywhere; apps use identity-based storage', () => {
  for (const file of files) {
    for (const call of descendants(file.root, 'call_expression')) {
      const fn = named(call, 0);
      const last = fn.type === 'member_expression' ? named(fn, fn.namedChildCount - 1).text : fn.text;
      assert.ok(
        !/^list/i.test(last),
        `${file.rel}:${call.startPosition.row + 1} calls ${last}() (reads keys)`,
      );
    }
  }
  const settings = files.flatMap((file) =>
    descendants(file.root, 'object_property')
      .filter((p) => ['appSettings', 'env'].includes(keyOf(p)))
      .flatMap((p) => descendants(named(p, 1), 'object'))
      .map((o) => ({ file, name: literal(prop(o, 'name')!), value: prop(o, 'value') })),
  );
  assert.ok(settings.length > 10, 'app settings found');
  for (const s of settings) {
    const where = `${s.file.rel}: ${String(s.name)}`;
    assert.notEqual(s.name, 'AzureWebJobsStorage', `${where}: key-based storage connection`);
    assert.doesNotMatch(String(s.name), /AccountKey|STORAGE_CONNECTION/i, where);
    assert.doesNotMatch(
      s.value?.text ?? '',
      /AccountKey|SharedAccessSignature|DefaultEndpointsProtocol|listKeys/i,
      where,
    );
    // The one connection string allowed is App Insights': an ingestion address, useless
    // without an Entra token because the component disables local auth.
    if (/CONNECTION_STRING/i.test(String(s.name)))
      assert.equal(s.name, 'APPLICATIONINSIGHTS_CONNECTION_STRING', where);
  }
  const insights = resourcesOfType('Microsoft.Insights/components')[0];
  assert.equal(literal(prop(insights?.body, 'properties.DisableLocalAuth')!), true);
  for (const [file, label] of [
    ['function-app.bicep', 'Functions'],
    ['smtp-front.bicep', 'SMTP front'],
  ] as const) {
    const names = settings.filter((s) => s.file.rel.endsWith(file)).map((s) => s.name);
    assert.ok(
      names.includes('AzureWebJobsStorage__accountName'),
      `${label} uses AzureWebJobsStorage__accountName`,
    );
    assert.ok(names.includes('AzureWebJobsStorage__clientId'), `${label} selects its identity`);
  }
});

void test('SMTP front: external TCP ingress on 25, >= 2 replicas, probes, Key Vault TLS via identity', () => {
  const apps = resourcesOfType('Microsoft.App/containerApps');
  assert.equal(apps.length, 1);
  const app = apps[0]!;
  const ingress = prop(app.body, 'properties.configuration.ingress');
  assert.equal(literal(prop(ingress, 'transport')!), 'tcp');
  assert.equal(literal(prop(ingress, 'external')!), true);
  assert.equal(literal(prop(ingress, 'targetPort')!), 25);
  assert.equal(literal(prop(ingress, 'exposedPort')!), 25);

  const minReplicas = prop(app.body, 'properties.template.scale.minReplicas');
  assert.ok(minReplicas);
  assert.ok(numberParamFloor(app.file, minReplicas) >= 2, 'module forbids fewer than 2 replicas');
  const mainMin = paramsOf(main!).find((p) => p.name === 'frontMinReplicas');
  assert.ok(mainMin && (mainMin.minValue ?? 0) >= 2 && Number(mainMin.defaultValue?.text) >= 3);
  const example = descendants(params.root, 'variable_declaration').find(
    (v) => named(v, 0).text === 'frontMinReplicas',
  );
  assert.ok(!example || Number(named(example, 1).text) >= 2, 'example parameters keep >= 2 replicas');

  const probes = descendants(prop(app.body, 'properties.template')!, 'object').filter((o) => prop(o, 'type'));
  const probe = (type: string) => probes.find((p) => literal(prop(p, 'type')!) === type);
  assert.equal(literal(prop(probe('Liveness'), 'httpGet.path')!), '/healthz');
  assert.equal(literal(prop(probe('Readiness'), 'httpGet.path')!), '/readyz');

  const secrets = prop(app.body, 'properties.configuration.secrets');
  const secretObjects = secrets?.namedChildren.filter((c) => c?.type === 'object') ?? [];
  assert.ok(secretObjects.length >= 2);
  for (const s of secretObjects) {
    assert.ok(prop(s, 'keyVaultUrl') && prop(s, 'identity'), 'secrets come from Key Vault via identity');
    assert.equal(prop(s, 'value'), undefined, 'no inline secret values');
  }
  assert.ok(/storageType: 'Secret'/.test(app.body.text), 'secrets are mounted as a volume');

  const env = resourcesOfType('Microsoft.App/managedEnvironments')[0];
  assert.ok(
    prop(env?.body, 'properties.vnetConfiguration.infrastructureSubnetId'),
    'environment is in our VNet',
  );
  assert.equal(literal(prop(env?.body, 'properties.zoneRedundant')!), true);
});

/** The Node release every npm script and test runs on: package.json's `node` dev dependency. */
function pinnedNode(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    devDependencies?: Record<string, string>;
  };
  const pinned = pkg.devDependencies?.node;
  assert.ok(pinned && /^\d+\.\d+\.\d+$/.test(pinned), `package.json pins node exactly, got ${pinned}`);
  return pinned;
}

const majorOf = (version: string): string => version.replace(/^v/, '').split('.')[0]!;

void test('Functions on Flex Consumption on the pinned Node major; Key Vault in RBAC mode', () => {
  const plan = resourcesOfType('Microsoft.Web/serverfarms')[0];
  assert.equal(literal(prop(plan?.body, 'sku.name')!), 'FC1');
  const site = resourcesOfType('Microsoft.Web/sites')[0];
  assert.equal(literal(prop(site?.body, 'properties.functionAppConfig.runtime.name')!), 'node');
  assert.equal(
    literal(prop(site?.body, 'properties.functionAppConfig.runtime.version')!),
    majorOf(pinnedNode()),
  );
  const vault = resourcesOfType('Microsoft.KeyVault/vaults')[0];
  assert.equal(literal(prop(vault?.body, 'properties.enableRbacAuthorization')!), true);
});

void test('the front image, the Functions runtime and the tests run the same Node', () => {
  const pinned = pinnedNode();
  // The suite itself: npm scripts put node_modules/.bin (the pinned binary) first on PATH.
  assert.equal(
    majorOf(process.version),
    majorOf(pinned),
    `tests run on Node ${process.version}, not the pinned ${pinned}: run them through npm or npx`,
  );
  const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
  assert.ok(stages.length > 0, 'Dockerfile has FROM lines');
  const arg = /^ARG NODE_VERSION=(\S+)$/m.exec(dockerfile)?.[1];
  for (const image of stages) {
    const tag = image.replace('${NODE_VERSION}', arg ?? '');
    assert.match(tag, /^node:\d+\.\d+\.\d+-/, `${image}: an exact Node release, not a moving tag`);
    assert.equal(tag.slice('node:'.length).split('-')[0], pinned, `${image} is the Node the tests run on`);
  }
  const site = resourcesOfType('Microsoft.Web/sites')[0];
  assert.equal(literal(prop(site?.body, 'properties.functionAppConfig.runtime.version')!), majorOf(pinned));
});

void test('resource types carry a dated API version; preview only where no GA version has the feature', () => {
  for (const r of allResources) {
    assert.match(
      r.type,
      /^Microsoft\.[A-Za-z]+(\/[A-Za-z]+)+@\d{4}-\d{2}-\d{2}(-preview)?$/,
      `${r.file.rel}: ${r.symbol}`,
    );
    if (r.type.endsWith('-preview'))
      assert.ok(
        r.type.startsWith('Microsoft.Insights/diagnosticSettings@'),
        `${r.file.rel}: ${r.symbol} uses ${r.type}`,
      );
  }
});

void test('main.bicep outputs what the Exchange script and operators need', () => {
  const outputs = descendants(main!.root, 'output_declaration').map((o) => named(o, 0).text);
  for (const name of ['frontPublicIp', 'frontFqdn', 'functionAppName', 'storageAccountName'])
    assert.ok(outputs.includes(name), `output ${name}`);
});

const observability = byRel.get(path.join('bicep', 'modules', 'observability.bicep'));

/** The value of a top-level `var` in a file. */
function varValue(file: BicepFile, name: string): Node {
  const declaration = descendants(file.root, 'variable_declaration').find((v) => named(v, 0).text === name);
  assert.ok(declaration, `${file.rel}: var ${name}`);
  return named(declaration, 1);
}

/** The objects of an array-valued `var` in a file. */
function arrayVar(file: BicepFile, name: string): Node[] {
  return varValue(file, name).namedChildren.filter((c): c is Node => c?.type === 'object');
}

/** Every `sigrelay.*` or dotted attribute name quoted inside the KQL of a file. */
function namesInQueries(file: BicepFile): { metrics: Set<string>; dimensions: Set<string> } {
  const text = descendants(file.root, 'string')
    .map((s) => s.text)
    .join('\n');
  return {
    metrics: new Set(
      [...text.matchAll(/name (?:==|in \()[^|]*/g)].flatMap((m) => m[0].match(/sigrelay\.[\w.]+/g) ?? []),
    ),
    dimensions: new Set([...text.matchAll(/customDimensions\['([^']+)'\]/g)].map((m) => m[1] ?? '')),
  };
}

void test('workbook: on Application Insights, charting every metric the code emits, by names the code uses', () => {
  assert.ok(observability, 'bicep/modules/observability.bicep exists');
  const workbooks = resourcesOfType('Microsoft.Insights/workbooks');
  assert.equal(workbooks.length, 1);
  assert.equal(prop(workbooks[0]!.body, 'properties.sourceId')?.text, 'appInsightsId');
  const call = moduleCalls.find((c) => c.target.endsWith(path.join('modules', 'observability.bicep')));
  assert.equal(prop(call?.params, 'appInsightsId')?.text, 'monitoring.outputs.appInsightsId');

  const charted = new Set(
    arrayVar(observability, 'charts').flatMap((c) => prop(c, 'query')?.text.match(/sigrelay\.[\w.]+/g) ?? []),
  );
  for (const name of Object.values(metricNames)) assert.ok(charted.has(name), `no chart shows ${name}`);
  const used = namesInQueries(observability);
  const known = new Set<string>(Object.values(metricNames));
  for (const name of used.metrics)
    assert.ok(known.has(name), `query reads ${name}, which the code never emits`);
  const attributes = new Set<string>(Object.values(attributeNames));
  for (const name of used.dimensions)
    assert.ok(attributes.has(name), `query reads dimension ${name}, which the code never sets`);
});

void test('alerts: dead letters > 0, oldest message > 15 min, < 2 front replicas ready, delivery failure rate', () => {
  assert.ok(observability);
  const rules = resourcesOfType('Microsoft.Insights/scheduledQueryRules');
  assert.equal(rules.length, 1, 'one rule resource, looped over the alerts var');
  const rule = rules[0]!;
  assert.equal(prop(rule.body, 'properties.scopes')?.namedChild(0)?.text, 'appInsightsId');
  assert.equal(prop(rule.body, 'properties.actions.actionGroups')?.namedChild(0)?.text, 'actionGroup.id');
  assert.equal(literal(prop(rule.body, 'properties.enabled')!), true);

  const alerts = new Map(arrayVar(observability, 'alerts').map((a) => [literal(prop(a, 'key')!), a]));
  const expect = (key: string, metric: string, operator: string, threshold: number) => {
    const alert = alerts.get(key);
    assert.ok(alert, `alert ${key}`);
    assert.equal(literal(prop(alert, 'operator')!), operator, key);
    assert.equal(numberParamFloor(observability, prop(alert, 'threshold')!), threshold, key);
    // `query: queries.<name>`: the KQL lives in the queries var.
    const reference = prop(alert, 'query')?.text ?? '';
    const kql = prop(varValue(observability, 'queries'), reference.replace(/^queries\./, ''))?.text ?? '';
    const column = String(literal(prop(alert, 'column')!));
    assert.ok(kql.includes(`'${metric}'`), `${key} reads ${metric}`);
    assert.ok(kql.includes(`${column} =`), `${key} computes ${column}`);
  };
  expect('dead-letters', metricNames.deadLettered, 'GreaterThan', 0);
  expect('oldest-message', metricNames.oldestAge, 'GreaterThan', 15 * 60);
  expect('front-replicas', metricNames.frontReady, 'LessThan', 2);
  // The threshold is the deliveryFailurePercent parameter; its floor is 1 %.
  expect('delivery-failures', metricNames.retried, 'GreaterThan', 1);
  const failurePercent = paramsOf(main!).find((p) => p.name === 'deliveryFailurePercent');
  assert.ok(failurePercent?.hasDefault, 'main.bicep has a default failure threshold');
});
