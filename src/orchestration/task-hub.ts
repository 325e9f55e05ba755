import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../config/index.js';

/** The Durable Task hub the functions app runs on: host.json's `extensions.durableTask.hubName`. */
export function taskHubName(hostJson = path.join(projectRoot, 'host.json')): string {
  const parsed = JSON.parse(fs.readFileSync(hostJson, 'utf8')) as {
    extensions?: { durableTask?: { hubName?: string } };
  };
  return parsed.extensions?.durableTask?.hubName ?? 'sigrelay';
}

/** The hub's instance table, `<hub>Instances`, as the Durable Task Azure Storage provider names it. */
export function instancesTableName(hubName: string): string {
  return `${hubName}Instances`;
}
