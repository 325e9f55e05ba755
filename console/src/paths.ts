/** A path inside a configuration scope: `('tenants/northwind', 'rules.json')` → `tenants/northwind/rules.json`. */
export function inScope(scope: string, relative: string): string {
  return scope ? `${scope}/${relative}` : relative;
}
