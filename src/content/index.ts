/**
 * The content module's door: what a message's signature says and who gets which. Loads a validated
 * configuration (tenants, directory snapshot, rules, Liquid templates, images) from a directory or
 * the Blob `config` container and keeps it current; the engine calls `resolve` once per message.
 */
import path from 'node:path';
import type { ContainerClient } from '@azure/storage-blob';
import type { Settings, TenantDirectory } from '../config/index.js';
import { createStorageClients } from '../storage/index.js';
import type { ResolveSignature } from '../signing/types.js';
import type { Rule } from './rules.js';
import type { Explanation } from './signatures.js';
import { BlobFiles } from './sources/blob-files.js';
import { DirectoryFiles } from './sources/directory-files.js';
import { ContentStore, type PreviewRequest, type StoreOptions } from './store.js';
import type { UserDirectory } from './users.js';

export interface Content {
  tenants: TenantDirectory;
  users: UserDirectory;
  rules: readonly Rule[];
  resolve: ResolveSignature;
  preview(request: PreviewRequest): Promise<Explanation>;
}

/** Where a local configuration directory keeps the photos the directory sync stored. */
export const localPhotoFolder = '.photos';

/** Loads `<configDir>`; throws ConfigError if it is invalid, then reloads on change (see StoreOptions). */
export async function loadContent(configDir: string, options: StoreOptions = {}): Promise<ContentStore> {
  return ContentStore.open(new DirectoryFiles(configDir), {
    baseDir: configDir,
    photos: new DirectoryFiles(path.join(configDir, localPhotoFolder)),
    ...options,
  });
}

/** Loads the configuration from the Blob `config` container and reloads it when an ETag changes. */
export async function loadContentFromBlob(
  container: ContainerClient,
  options: StoreOptions = {},
): Promise<ContentStore> {
  return ContentStore.open(new BlobFiles(container), options);
}

/**
 * The content a service runs with: in production the Blob `config` container (what the admin
 * uploads, and where the directory sync writes users.json), locally the configuration directory.
 */
export async function openContent(settings: Settings, options: StoreOptions = {}): Promise<ContentStore> {
  if (settings.profile === 'production') {
    const clients = createStorageClients(settings.storage);
    return loadContentFromBlob(clients.config, { photos: new BlobFiles(clients.photos), ...options });
  }
  return loadContent(settings.configDir, options);
}

export { previewJson } from './preview-json.js';
export { loadSnapshot } from './load.js';
export { imageContentType } from './images.js';
export { messageTypeOf } from './message-type.js';
export { ContentStore, type PreviewRequest, type StoreOptions } from './store.js';
export type { Explanation, RuleVerdict } from './signatures.js';
export type { MessageType } from './message-type.js';
export type { Rule } from './rules.js';
export type { DirectoryUser, UserDirectory } from './users.js';
export { BlobFiles } from './sources/blob-files.js';
export { PhotoLibrary, photoFileName, type PhotoFiles } from './photos.js';
export type { TenantContent } from './signatures.js';
export { DirectoryFiles } from './sources/directory-files.js';
export type { ConfigFiles, WritableConfigFiles } from './sources/config-files.js';
