import crypto from 'node:crypto';
import path from 'node:path';
import { ConfigError } from '../config/index.js';
import {
  ContentStore,
  imageContentType,
  loadSnapshot,
  type ConfigFiles,
  type PhotoFiles,
} from '../content/index.js';
import type { TenantContent } from '../content/index.js';
import { AuditLog, sha256 } from './audit.js';
import { StoreConflict, type EditableStore, type StoredFile } from './config-store.js';
import {
  imageMaxBytes,
  type ApiError,
  type ConfigFile,
  type ConfigFileInfo,
  type ConfigOverview,
  type ConfigStatus,
  type FileKind,
  type Me,
  type SaveResult,
  type ScopeInfo,
  type VersionInfo,
} from './contract.js';
import { fail } from './http.js';
import type { VersionStore } from './versions.js';

/** What a save is allowed to assume about the file: `If-Match` / `If-None-Match: *`. */
export interface Precondition {
  ifMatch?: string;
  ifNoneMatch?: string;
}

export interface EditorParts {
  store: EditableStore;
  versions: VersionStore;
  audit: AuditLog;
  /** The configuration this process signs with (refreshed after every save). */
  inService: () => Promise<ContentStore>;
  photos?: PhotoFiles;
}

/** Paths the console may write: the layout the loaders read, nothing else (no `..`, no dot-files). */
const layout =
  /^(?:((?:[a-z0-9][a-z0-9_-]*\/)*?)(users\.json|rules\.json|templates\/[A-Za-z0-9][A-Za-z0-9._-]*\.(?:html|txt)|images\/[A-Za-z0-9][A-Za-z0-9._-]*\.(?:png|jpe?g|gif|webp))|tenants\.json)$/;

export function kindOf(name: string): FileKind | undefined {
  if (name === 'tenants.json') return 'tenants';
  const m = layout.exec(name);
  const file = m?.[2];
  if (!file) return undefined;
  if (file === 'users.json') return 'users';
  if (file === 'rules.json') return 'rules';
  if (file.startsWith('images/')) return 'image';
  return file.endsWith('.html') ? 'template-html' : 'template-text';
}

/** The scope (`''` or a tenant folder) a file belongs to. */
export function scopeOf(name: string): string {
  if (name === 'tenants.json') return '';
  return (layout.exec(name)?.[1] ?? '').replace(/\/$/, '');
}

export function etagOf(content: Buffer): string {
  return `"${crypto.createHash('sha256').update(content).digest('hex').slice(0, 32)}"`;
}

/**
 * Edits the configuration the way an admin would edit the files: the same layout, checked by the
 * same loaders the service uses before anything is written, with optimistic concurrency, the last
 * versions kept and every write audited. A change that does not load is refused with the loader's
 * own error (file, field or line) and never reaches the store, so it is never put in service.
 */
export class ConfigEditor {
  private cache: { fingerprint: string; files: Map<string, Buffer> } | undefined;
  private readonly baseDir: string;

  constructor(private readonly parts: EditorParts) {
    this.baseDir = parts.store.source === 'directory' ? parts.store.location : process.cwd();
  }

  get store(): EditableStore {
    return this.parts.store;
  }

  async overview(): Promise<ConfigOverview> {
    const files = await this.current();
    const tenants = await this.tenantsOf(files);
    const scopes = new Map<string, ScopeInfo>();
    const scope = (name: string): ScopeInfo => {
      let s = scopes.get(name);
      if (!s) {
        s = { scope: name, tenants: [], files: [], templates: [] };
        scopes.set(name, s);
      }
      return s;
    };
    scope('');
    for (const t of tenants) scope(t.folder ?? '').tenants.push({ id: t.id, name: t.name });
    for (const [name, content] of files) {
      const kind = kindOf(name);
      if (!kind) continue;
      const info: ConfigFileInfo = { path: name, kind, size: content.length, etag: etagOf(content) };
      const s = scopes.get(scopeOf(name));
      if (!s) continue;
      s.files.push(info);
      if (kind === 'template-html') s.templates.push(path.posix.basename(name, '.html'));
    }
    return {
      source: this.parts.store.source,
      location: this.parts.store.location,
      scopes: [...scopes.values()],
      status: await this.status(),
    };
  }

  async status(): Promise<ConfigStatus> {
    const content = await this.parts.inService();
    await content.refresh();
    return {
      versionInService: content.version,
      loadedAt: content.loadedAt.toISOString(),
      ...(content.lastError ? { lastError: this.describe(content.lastError) } : {}),
    };
  }

  async read(name: string): Promise<ConfigFile> {
    const kind = this.checkPath(name);
    const file = await this.parts.store.read(name);
    if (!file) throw fail(404, 'not-found', `${name} does not exist`, { file: name });
    return configFile(name, kind, file.content);
  }

  /** Validated, conditional save; `action` names it in the versions and the audit. */
  async save(
    name: string,
    content: Buffer,
    condition: Precondition,
    who: Me,
    action: 'save' | 'rollback' = 'save',
  ): Promise<SaveResult> {
    const kind = this.checkPath(name);
    if (kind === 'image') checkImage(name, content);
    const current = await this.parts.store.read(name);
    checkCondition(name, current, condition);
    await this.validate(new Map([[name, content]]));
    await this.keepOriginal(name, current, who);
    try {
      await this.parts.store.write(name, content, current?.tag ?? null);
    } catch (err) {
      if (err instanceof StoreConflict) throw this.conflict(name, await this.parts.store.read(name));
      throw err;
    }
    this.cache = undefined;
    const version = await this.parts.versions.add(name, content, action, who.name);
    await this.parts.audit.record(
      who,
      `config.${action}`,
      name,
      { before: sha256(current?.content), after: version.sha256 },
      { version: version.version },
    );
    return {
      path: name,
      etag: etagOf(content),
      version: version.version,
      versionInService: await this.refresh(),
    };
  }

  async remove(name: string, condition: Precondition, who: Me): Promise<{ path: string; version: string }> {
    this.checkPath(name);
    if (name === 'tenants.json')
      throw fail(400, 'bad-request', 'tenants.json cannot be deleted', { file: name });
    const current = await this.parts.store.read(name);
    if (!current) throw fail(404, 'not-found', `${name} does not exist`, { file: name });
    if (!condition.ifMatch)
      throw fail(428, 'precondition-required', 'a delete needs If-Match with the ETag you read', {
        file: name,
      });
    checkCondition(name, current, condition);
    await this.validate(new Map([[name, null]]));
    await this.keepOriginal(name, current, who);
    try {
      await this.parts.store.remove(name, current.tag);
    } catch (err) {
      if (err instanceof StoreConflict) throw this.conflict(name, await this.parts.store.read(name));
      throw err;
    }
    this.cache = undefined;
    const version = await this.parts.versions.add(name, undefined, 'delete', who.name);
    await this.parts.audit.record(
      who,
      'config.delete',
      name,
      { before: sha256(current.content) },
      {
        version: version.version,
      },
    );
    await this.refresh();
    return { path: name, version: version.version };
  }

  async versions(name: string): Promise<VersionInfo[]> {
    this.checkPath(name);
    return this.parts.versions.list(name);
  }

  async version(name: string, version: string): Promise<ConfigFile & { info: VersionInfo }> {
    const kind = this.checkPath(name);
    const found = await this.parts.versions.read(name, version);
    if (!found) throw fail(404, 'not-found', `${name} has no version ${version}`, { file: name });
    return { ...configFile(name, kind, found.content), info: found.info };
  }

  async rollback(name: string, version: string, condition: Precondition, who: Me): Promise<SaveResult> {
    const found = await this.parts.versions.read(name, version);
    if (!found) throw fail(404, 'not-found', `${name} has no version ${version}`, { file: name });
    if (found.info.action === 'delete')
      throw fail(
        400,
        'bad-request',
        `version ${version} of ${name} is its deletion; delete the file instead`,
      );
    return this.save(name, found.content, condition, who, 'rollback');
  }

  /**
   * Loads the configuration with `changes` laid over it (a buffer replaces or adds a file, null
   * deletes it) by the service's own loader, and renders every changed template once; throws 422
   * with the loader's error. Returns the loaded snapshot.
   */
  async validate(changes: ReadonlyMap<string, Buffer | null>): Promise<void> {
    const overlay = await this.overlay(changes);
    let snapshot;
    try {
      snapshot = await loadSnapshot(overlay, this.baseDir);
    } catch (err) {
      if (err instanceof ConfigError) throw this.invalid(err);
      throw err;
    }
    for (const [name, content] of changes) {
      const kind = kindOf(name);
      if (content === null || (kind !== 'template-html' && kind !== 'template-text')) continue;
      const scope = scopeOf(name);
      const tenant = snapshot.tenants.tenants.find((t) => (t.folder ?? '') === scope);
      const tenantContent: TenantContent = (tenant && snapshot.byTenant.get(tenant.id)) ?? snapshot.shared;
      const template = path.posix.basename(name).replace(/\.(html|txt)$/, '');
      if (!tenantContent.templates.has(template)) continue;
      try {
        await tenantContent.templates.render(template, sampleData(tenantContent, tenant));
      } catch (err) {
        if (err instanceof ConfigError) throw this.invalid(err);
        throw err;
      }
    }
  }

  /** A content store over the configuration with unsaved `drafts` laid over it (preview, who gets what). */
  async draft(drafts: ReadonlyMap<string, Buffer | null>): Promise<ContentStore> {
    for (const name of drafts.keys()) this.checkPath(name);
    const overlay = await this.overlay(drafts);
    try {
      return await ContentStore.open(overlay, {
        baseDir: this.baseDir,
        checkIntervalMs: Number.MAX_SAFE_INTEGER,
        ...(this.parts.photos ? { photos: this.parts.photos } : {}),
      });
    } catch (err) {
      if (err instanceof ConfigError) throw this.invalid(err);
      throw err;
    }
  }

  /** The current file, for read-modify-write callers (rules, campaigns). */
  async current(): Promise<Map<string, Buffer>> {
    const fingerprint = await this.parts.store.files.fingerprint();
    if (this.cache?.fingerprint === fingerprint) return this.cache.files;
    const files = new Map<string, Buffer>();
    for (const { name } of await this.parts.store.listAll()) {
      const file = await this.parts.store.read(name);
      if (file) files.set(name, file.content);
    }
    this.cache = { fingerprint, files };
    return files;
  }

  /** The ApiError for a ConfigError: the file relative to the configuration, the field or the line. */
  describe(err: Error): ApiError {
    if (!(err instanceof ConfigError)) return { error: err.message, code: 'invalid-config' };
    const file = this.relative(err.file);
    const line = /^line (\d+)$/.exec(err.field)?.[1];
    const problem = err.message.slice(err.file.length + 2).replace(err.field ? `${err.field}: ` : '', '');
    return {
      error: `${file}: ${err.field ? `${err.field}: ` : ''}${problem}`,
      code: 'invalid-config',
      file,
      ...(line ? { line: Number(line) } : err.field ? { field: err.field } : {}),
    };
  }

  checkPath(name: string): FileKind {
    const kind = kindOf(name);
    if (!kind || name.split('/').some((part) => part === '..' || part.startsWith('.')))
      throw fail(
        400,
        'bad-request',
        `${name} is not a configuration file (tenants.json, users.json, rules.json, templates/<name>.html|.txt, images/<name>.png|.jpg|.gif|.webp, in the root or a tenant folder)`,
        { file: name },
      );
    return kind;
  }

  private invalid(err: ConfigError) {
    const body = this.describe(err);
    return fail(422, 'invalid-config', body.error, body);
  }

  private relative(label: string): string {
    const root = this.parts.store.files.label('');
    if (!label.startsWith(root)) return label;
    return label
      .slice(root.length)
      .replace(/^[/\\]+/, '')
      .split(path.sep)
      .join('/');
  }

  private async overlay(changes: ReadonlyMap<string, Buffer | null>): Promise<ConfigFiles> {
    const files = new Map(await this.current());
    for (const [name, content] of changes) {
      if (content === null) files.delete(name);
      else files.set(name, content);
    }
    return new MemoryFiles(files, (name) => this.parts.store.files.label(name));
  }

  private async tenantsOf(
    files: Map<string, Buffer>,
  ): Promise<{ id: string; name: string; folder?: string }[]> {
    try {
      const snapshot = await loadSnapshot(
        new MemoryFiles(files, (n) => this.parts.store.files.label(n)),
        this.baseDir,
      );
      return [...snapshot.tenants.tenants];
    } catch {
      // A broken configuration still lists its files; tenants.json is read leniently for the scopes.
      try {
        const raw = JSON.parse(files.get('tenants.json')?.toString('utf8') ?? '[]') as unknown;
        const list = Array.isArray(raw) ? raw : ((raw as { tenants?: unknown[] }).tenants ?? []);
        return list.filter(
          (t): t is { id: string; name: string; folder?: string } =>
            typeof (t as { id?: unknown }).id === 'string' &&
            typeof (t as { name?: unknown }).name === 'string',
        );
      } catch {
        return [];
      }
    }
  }

  private conflict(name: string, current: StoredFile | undefined) {
    return fail(412, 'conflict', `${name} was changed by someone else since you read it; nothing was saved`, {
      file: name,
      ...(current ? { currentEtag: etagOf(current.content) } : {}),
    });
  }

  /** The first console edit of a file keeps what was there before (a hand edit, the sample) as a version. */
  private async keepOriginal(name: string, current: StoredFile | undefined, who: Me): Promise<void> {
    if (current && !(await this.parts.versions.has(name)))
      await this.parts.versions.add(name, current.content, 'original', who.name);
  }

  private async refresh(): Promise<string> {
    const content = await this.parts.inService();
    await content.refresh();
    return content.version;
  }
}

function checkCondition(name: string, current: StoredFile | undefined, condition: Precondition): void {
  if (condition.ifNoneMatch === '*') {
    if (current)
      throw fail(412, 'conflict', `${name} already exists; nothing was saved`, {
        file: name,
        currentEtag: etagOf(current.content),
      });
    return;
  }
  if (!condition.ifMatch)
    throw fail(
      428,
      'precondition-required',
      'a save needs If-Match (the ETag you read) or If-None-Match: *',
      {
        file: name,
      },
    );
  const current_ = current ? etagOf(current.content) : undefined;
  const wanted = condition.ifMatch.replace(/^W\//, '');
  if (wanted !== '*' && wanted !== current_)
    throw fail(412, 'conflict', `${name} was changed by someone else since you read it; nothing was saved`, {
      file: name,
      ...(current_ ? { currentEtag: current_ } : {}),
    });
  if (!current) throw fail(412, 'conflict', `${name} does not exist any more`, { file: name });
}

const magic: [RegExp, (b: Buffer) => boolean][] = [
  [/\.png$/i, (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))],
  [/\.jpe?g$/i, (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  [/\.gif$/i, (b) => /^GIF8[79]a$/.test(b.subarray(0, 6).toString('latin1'))],
  [
    /\.webp$/i,
    (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  ],
];

function checkImage(name: string, content: Buffer): void {
  if (content.length > imageMaxBytes)
    throw fail(
      413,
      'too-large',
      `${name} is ${content.length} bytes; images may be at most ${imageMaxBytes}`,
      {
        file: name,
      },
    );
  const check = magic.find(([ext]) => ext.test(name))?.[1];
  if (!imageContentType(name) || !check?.(content))
    throw fail(422, 'invalid-config', `${name}: the content is not a ${path.extname(name).slice(1)} image`, {
      file: name,
    });
}

/** What a template is trial-rendered with on save: the scope's first user, a new external message. */
function sampleData(
  content: TenantContent,
  tenant: { id: string; name: string; domains: string[] } | undefined,
) {
  return {
    user: content.users.users[0] ?? {},
    tenant: tenant ? { id: tenant.id, name: tenant.name, domains: tenant.domains } : {},
    message: {
      type: 'new',
      isNew: true,
      isReply: false,
      isForward: false,
      isInternal: false,
      isExternal: true,
    },
    rule: { name: 'console' },
    now: new Date(),
    banner: { link: '', image: '' },
  };
}

/** A whole configuration held in memory (the stored one with the console's changes laid over it). */
class MemoryFiles implements ConfigFiles {
  constructor(
    private readonly files: ReadonlyMap<string, Buffer>,
    readonly label: (name: string) => string,
  ) {}

  read(name: string): Promise<Buffer | undefined> {
    return Promise.resolve(this.files.get(name));
  }

  list(folder: string): Promise<string[]> {
    const prefix = `${folder}/`;
    return Promise.resolve(
      [...this.files.keys()]
        .filter((n) => n.startsWith(prefix) && !n.slice(prefix.length).includes('/'))
        .sort(),
    );
  }

  fingerprint(): Promise<string> {
    const hash = crypto.createHash('sha256');
    for (const [name, content] of [...this.files].sort(([a], [b]) => a.localeCompare(b)))
      hash.update(name).update(content);
    return Promise.resolve(hash.digest('hex'));
  }
}

/** A file as the console edits it: images travel as base64, everything else as text. */
function configFile(path: string, kind: ConfigFile['kind'], content: Buffer): ConfigFile {
  const encoding = kind === 'image' ? 'base64' : 'utf8';
  return { path, kind, encoding, content: content.toString(encoding), etag: etagOf(content) };
}
