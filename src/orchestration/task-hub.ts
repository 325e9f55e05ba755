import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../config/index.js';

/**
 * The Durable Task hub the functions app runs on, found as the Durable extension finds it
 * (azure-functions-durable-extension `Options/DurableTaskOptions.cs`, `HubName` and
 * `ResolveAppSettingOptions`): host.json's `extensions.durableTask.hubName`, where a whole-string
 * `%SETTING%` is read from the app settings; without one, the site name `WEBSITE_SITE_NAME`, else
 * `TestHubName`, made storage-safe (`Options/AzureStorageOptions.cs`, `IsSanitizedHubName`).
 */
export function taskHubName(
  hostJson = path.join(projectRoot, 'host.json'),
  env: Record<string, string | undefined> = process.env,
): string {
  const parsed = JSON.parse(fs.readFileSync(hostJson, 'utf8')) as {
    extensions?: { durableTask?: { hubName?: string } };
  };
  const configured = parsed.extensions?.durableTask?.hubName;
  if (configured) {
    const setting = /^%([^%]+)%$/.exec(configured)?.[1];
    const resolved = setting ? env[setting] : configured;
    if (resolved) return resolved;
  }
  return sanitizedDefaultHubName(env.WEBSITE_SITE_NAME ?? defaultHubName);
}

/** The extension's default when neither host.json nor the site name gives one (`DurableTaskOptions.DefaultHubName`). */
export const defaultHubName = 'TestHubName';

/**
 * A default hub name made valid for Azure Storage: letters and digits only, a leading digit gets a
 * `t`, at most 45 characters, at least 3 (padded with `Hub`), none left → `DefaultTaskHub`.
 */
export function sanitizedDefaultHubName(name: string): string {
  let chars = [...name].filter((c) => /[\p{L}\p{Nd}]/u.test(c));
  if (chars.length === 0) return 'DefaultTaskHub';
  if (/\p{N}/u.test(chars[0] ?? '')) chars = ['t', ...chars];
  let sanitized = chars.slice(0, 45).join('');
  if (sanitized.length < 3) sanitized += 'Hub';
  return sanitized;
}

/** The hub's instance table, `<hub>Instances`, as the Durable Task Azure Storage provider names it. */
export function instancesTableName(hubName: string): string {
  return `${hubName}Instances`;
}
