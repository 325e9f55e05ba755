import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, loadTenants, type TenantDirectory } from '../config/index.js';
import { parseTenants } from '../config/tenants.js';
import { describeError } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import type { StorageClients } from '../storage/index.js';

/** The tenants the front admits, kept current; a bad edit keeps the last good directory. */
export interface TenantSource {
  current(): TenantDirectory;
  /** Why the latest reload failed, while the previous directory keeps serving. */
  readonly reloadError: string | undefined;
  stop(): void;
}

const pollMs = 2000;
const blobPollMs = 30_000;

/**
 * Locally `<configDir>/tenants.json`; in Azure (`SIGRELAY_CONFIG` is the `config` container's URL)
 * the same file in Blob Storage, re-read when its ETag changes.
 */
export async function watchTenants(
  configDir: string,
  storage: StorageClients,
  log: Logger,
): Promise<TenantSource> {
  const fromBlob = /^https?:\/\//i.test(configDir);
  const blob = storage.config.getBlockBlobClient('tenants.json');
  const read = async (): Promise<{ tenants: TenantDirectory; version: string }> => {
    if (!fromBlob) return { tenants: await loadTenants(configDir), version: '' };
    const label = `${storage.config.containerName}/tenants.json`;
    const props = await blob.getProperties();
    const content = await blob.downloadToBuffer(0, undefined, { conditions: { ifMatch: props.etag } });
    let json: unknown;
    try {
      json = JSON.parse(content.toString('utf8'));
    } catch (err) {
      throw new ConfigError(label, '', `invalid JSON: ${describeError(err)}`);
    }
    return { tenants: parseTenants(json, label, configDir), version: props.etag ?? '' };
  };
  let { tenants, version } = await read();
  let reloadError: string | undefined;
  const reload = () =>
    read().then(
      (next) => {
        tenants = next.tenants;
        version = next.version;
        reloadError = undefined;
        log.info({ tenants: tenants.tenants.length }, 'tenants reloaded');
      },
      (err: unknown) => {
        reloadError = describeError(err);
        log.error({ err: reloadError }, 'tenants.json is invalid; keeping the previous tenants');
      },
    );
  let stop: () => void;
  if (fromBlob) {
    const timer = setInterval(() => {
      blob.getProperties().then(
        (props) => {
          if (props.etag !== version) void reload();
        },
        (err: unknown) => log.warn({ err: describeError(err) }, 'checking tenants.json for changes failed'),
      );
    }, blobPollMs);
    timer.unref();
    stop = () => clearInterval(timer);
  } else {
    const file = path.join(configDir, 'tenants.json');
    fs.watchFile(file, { interval: pollMs }, () => void reload());
    stop = () => fs.unwatchFile(file);
  }
  return {
    current: () => tenants,
    get reloadError() {
      return reloadError;
    },
    stop,
  };
}
