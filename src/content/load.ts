import { ConfigError } from '../config/index.js';
import { parseTenants } from '../config/tenants.js';
import { ImageLibrary } from './images.js';
import { parseRules, shortTemplateOf, type Rule } from './rules.js';
import type { ConfigFiles } from './sources/config-files.js';
import { SubFolderFiles } from './sources/sub-folder.js';
import type { ContentSnapshot, TenantContent } from './signatures.js';
import { compileTemplates, type TemplateSet } from './templates.js';
import { parseUsers, UserDirectory } from './users.js';

/**
 * Reads and validates a whole configuration directory. Anything wrong throws one ConfigError naming
 * the file and the JSON path or template line; nothing half-loaded is ever returned.
 * `users.json` and `rules.json` may be absent (no users, no rules: every message goes out unsigned).
 * A tenant with a `folder` gets its own users, rules, templates and images from that folder and
 * never sees the root's or another tenant's; tenants without one share the root's.
 */
export async function loadSnapshot(files: ConfigFiles, baseDir: string): Promise<ContentSnapshot> {
  const tenantsJson = await readJsonFile(files, 'tenants.json');
  if (tenantsJson === undefined) throw new ConfigError(files.label('tenants.json'), '', 'file not found');
  const tenants = parseTenants(tenantsJson, files.label('tenants.json'), baseDir);

  const shared = await loadTenantContent(files);
  const byTenant = new Map<string, TenantContent>();
  for (const tenant of tenants.tenants) {
    if (tenant.folder)
      byTenant.set(tenant.id, await loadTenantContent(new SubFolderFiles(files, tenant.folder)));
  }
  return { tenants, shared, byTenant };
}

/** users.json, rules.json, templates/ and images/ of one folder (the root or a tenant's). */
async function loadTenantContent(files: ConfigFiles): Promise<TenantContent> {
  const usersJson = await readJsonFile(files, 'users.json');
  const users =
    usersJson === undefined
      ? new UserDirectory([], files.label('users.json'))
      : parseUsers(usersJson, files.label('users.json'));

  const imageNames = await files.list('images');
  const imageFiles = new Map<string, Buffer>();
  for (const name of imageNames) {
    const content = await files.read(name);
    if (content) imageFiles.set(name.slice('images/'.length), content);
  }
  const images = new ImageLibrary(imageFiles);

  const sources = new Map<string, string>();
  for (const name of await files.list('templates')) {
    const content = await files.read(name);
    if (content && /\.(html|txt)$/.test(name)) sources.set(name, content.toString('utf8'));
  }
  const templates = compileTemplates(sources, (n) => files.label(n), images);

  const rulesJson = await readJsonFile(files, 'rules.json');
  const rules = rulesJson === undefined ? [] : parseRules(rulesJson, files.label('rules.json'));
  checkReferences(rules, templates, images, files.label('rules.json'));

  return { users, rules, templates, images };
}

async function readJsonFile(files: ConfigFiles, name: string): Promise<unknown> {
  const content = await files.read(name);
  if (content === undefined) return undefined;
  try {
    return JSON.parse(content.toString('utf8')) as unknown;
  } catch (err) {
    throw new ConfigError(files.label(name), '', `invalid JSON: ${(err as Error).message}`);
  }
}
/** Rules may only name templates and images that exist, so a typo fails at load, not per message. */
function checkReferences(
  rules: readonly Rule[],
  templates: TemplateSet,
  images: ImageLibrary,
  file: string,
): void {
  rules.forEach((rule, i) => {
    const needs: [string, string | undefined][] = [
      [`[${i}].template`, rule.template],
      [`[${i}].replyVariant`, shortTemplateOf(rule)],
      [`[${i}].banner.template`, rule.banner?.template],
    ];
    for (const [field, name] of needs) {
      if (name !== undefined && !templates.has(name))
        throw new ConfigError(file, field, `template "${name}" not found (expected templates/${name}.html)`);
    }
    const image = rule.banner?.image;
    if (image && !/^https:\/\//i.test(image) && !images.has(image))
      throw new ConfigError(
        file,
        `[${i}].banner.image`,
        `expected an https URL or a .png, .jpg, .gif or .webp file under images/, got "${image}"`,
      );
  });
}
