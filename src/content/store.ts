import crypto from 'node:crypto';
import type { Tenant, TenantDirectory } from '../config/index.js';
import { describeError } from '../errors/index.js';
import type { MessageFacts, ResolveSignature } from '../signing/types.js';
import { loadSnapshot } from './load.js';
import { PhotoLibrary, type PhotoFiles } from './photos.js';
import type { MessageType } from './message-type.js';
import type { Rule } from './rules.js';
import { contentOf, explain, type ContentSnapshot, type Explanation } from './signatures.js';
import type { ConfigFiles } from './sources/config-files.js';
import type { UserDirectory } from './users.js';

export interface StoreOptions {
  /** How often, at most, the source is checked for changes (ms). 0 checks on every call. */
  checkIntervalMs?: number;
  /** Told about every configuration that failed to load while the last good one stays in service. */
  onError?: (error: Error) => void;
  /** Told when a changed configuration has been loaded and taken into service. */
  onReload?: () => void;
  /** Directory that relative certificate paths in tenants.json resolve against. */
  baseDir?: string;
  /** Where the directory sync stores user photos (`<tenant id>/<file>`); absent: no photos. */
  photos?: PhotoFiles;
}

export interface PreviewRequest {
  sender: string;
  recipients: string[];
  messageType: MessageType;
  now?: Date;
}

/**
 * The signature content in service, reloaded when its source changes. A change is picked up on the
 * next call after `checkIntervalMs` (no timers, so it behaves the same in a long-running process and
 * in a Functions host that freezes between invocations). A configuration that fails validation is
 * reported and ignored: the last good one keeps signing.
 */
export class ContentStore {
  private snapshot: ContentSnapshot;
  private fingerprint: string;
  private lastCheck: number;
  private checking: Promise<void> | undefined;
  /** A configuration already reported as bad is not loaded (and reported) again until it changes. */
  private failedFingerprint: string | undefined;
  private readonly files: ConfigFiles;
  private readonly options: StoreOptions;
  private readonly photos: PhotoLibrary | undefined;
  /** The most recent failure, cleared by the next successful load or when the source matches what is in service. */
  lastError: Error | undefined;
  /** When the configuration in service was loaded. */
  loadedAt: Date;

  private constructor(
    files: ConfigFiles,
    options: StoreOptions,
    snapshot: ContentSnapshot,
    fingerprint: string,
  ) {
    this.files = files;
    this.options = options;
    this.photos = options.photos && new PhotoLibrary(options.photos);
    this.snapshot = { ...snapshot, photos: this.photos };
    this.fingerprint = fingerprint;
    this.lastCheck = Date.now();
    this.loadedAt = new Date();
  }

  /** A short name for the configuration in service (a hash of its files' fingerprint). */
  get version(): string {
    return crypto.createHash('sha256').update(this.fingerprint).digest('hex').slice(0, 12);
  }

  /** Loads the configuration; a bad one here throws (there is no last good one to keep). */
  static async open(files: ConfigFiles, options: StoreOptions = {}): Promise<ContentStore> {
    const fingerprint = await files.fingerprint();
    const snapshot = await loadSnapshot(files, options.baseDir ?? process.cwd());
    return new ContentStore(files, options, snapshot, fingerprint);
  }

  get tenants(): TenantDirectory {
    return this.snapshot.tenants;
  }

  /** The root's directory (tenants without a `folder`); `contentFor` gives a tenant's own. */
  get users(): UserDirectory {
    return this.snapshot.shared.users;
  }

  /** The root's rules (tenants without a `folder`); `contentFor` gives a tenant's own. */
  get rules(): readonly Rule[] {
    return this.snapshot.shared.rules;
  }

  /** The directory and rules a tenant's messages are resolved against. */
  contentFor(tenant: Tenant): { users: UserDirectory; rules: readonly Rule[] } {
    const { users, rules } = contentOf(this.snapshot, tenant);
    return { users, rules };
  }

  readonly resolve: ResolveSignature = async (facts: MessageFacts) => {
    await this.refreshIfDue();
    return (await explain(this.snapshot, facts)).resolution;
  };

  /** Which signature a sender would get, with every rule's verdict: for the CLI and the HTTP preview. */
  async preview(request: PreviewRequest): Promise<Explanation> {
    await this.refreshIfDue();
    const sender = request.sender.toLowerCase();
    const facts: MessageFacts = {
      sender,
      from: sender,
      recipients: request.recipients.map((r) => r.toLowerCase()),
      headers: new Map(),
    };
    return explain(this.snapshot, facts, {
      allRules: true,
      messageType: request.messageType,
      now: request.now,
    });
  }

  /** Checks the source now and loads it if it changed. Never throws for a bad configuration. */
  refresh(): Promise<void> {
    this.checking ??= this.check().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async refreshIfDue(): Promise<void> {
    if (Date.now() - this.lastCheck >= (this.options.checkIntervalMs ?? 5000)) await this.refresh();
  }

  private async check(): Promise<void> {
    this.lastCheck = Date.now();
    let fingerprint: string | undefined;
    try {
      fingerprint = await this.files.fingerprint();
      if (fingerprint === this.fingerprint) {
        // The source holds what is in service again (a bad file deleted, storage reachable again),
        // so an earlier failure no longer describes it.
        this.lastError = undefined;
        return;
      }
      if (fingerprint === this.failedFingerprint) return;
      const snapshot = await loadSnapshot(this.files, this.options.baseDir ?? process.cwd());
      this.snapshot = { ...snapshot, photos: this.photos };
      this.fingerprint = fingerprint;
      this.loadedAt = new Date();
      this.lastError = undefined;
      this.options.onReload?.();
    } catch (err) {
      this.failedFingerprint = fingerprint;
      this.lastError = err instanceof Error ? err : new Error(describeError(err));
      this.options.onError?.(this.lastError);
    }
  }
}
