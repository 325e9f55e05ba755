/**
 * The task hub name, found as the Durable extension finds it. Each row names the source it was
 * checked against (repository, path, commit); docs/host-conformance.md lists them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { taskHubName } from '../../../src/orchestration/task-hub.js';

const options = (p: string) =>
  `Azure/azure-functions-durable-extension src/WebJobs.Extensions.DurableTask/Options/${p} @a7c6d6944041b48267ed8409bb8ec8144ab9bab9`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'task-hub-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function hostJson(hubName?: string): string {
  const file = path.join(dir, `host-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(
    file,
    JSON.stringify({ version: '2.0', extensions: { durableTask: hubName ? { hubName } : {} } }),
  );
  return file;
}

const rows: {
  name: string;
  hubName?: string;
  env: Record<string, string>;
  expected: string;
  source: string;
}[] = [
  {
    name: "host.json's hubName is used as written",
    hubName: 'sigrelay',
    env: {},
    expected: 'sigrelay',
    source: options('DurableTaskOptions.cs'),
  },
  {
    name: 'a whole-string %SETTING% is read from the app settings',
    hubName: '%HUB%',
    env: { HUB: 'fromsetting' },
    expected: 'fromsetting',
    source: options('DurableTaskOptions.cs'),
  },
  {
    name: 'without hubName: the site name, letters and digits only',
    env: { WEBSITE_SITE_NAME: 'my-site-1' },
    expected: 'mysite1',
    source: `${options('DurableTaskOptions.cs')}; ${options('AzureStorageOptions.cs')}`,
  },
  {
    name: 'without hubName or site name: TestHubName',
    env: {},
    expected: 'TestHubName',
    source: options('DurableTaskOptions.cs'),
  },
  {
    name: 'a default starting with a digit gets a t',
    env: { WEBSITE_SITE_NAME: '1app' },
    expected: 't1app',
    source: options('AzureStorageOptions.cs'),
  },
  {
    name: 'a default under 3 characters is padded with Hub',
    env: { WEBSITE_SITE_NAME: 'a' },
    expected: 'aHub',
    source: options('AzureStorageOptions.cs'),
  },
  {
    name: 'a default with no letter or digit is DefaultTaskHub',
    env: { WEBSITE_SITE_NAME: '---' },
    expected: 'DefaultTaskHub',
    source: options('AzureStorageOptions.cs'),
  },
  {
    name: 'a default is cut to 45 characters',
    env: { WEBSITE_SITE_NAME: 'a'.repeat(60) },
    expected: 'a'.repeat(45),
    source: options('AzureStorageOptions.cs'),
  },
];

void describe('taskHubName', () => {
  for (const row of rows) {
    void it(`${row.name} [${row.source}]`, () => {
      assert.equal(taskHubName(hostJson(row.hubName), row.env), row.expected);
    });
  }

  void it("reads this app's own host.json by default", () => {
    const own = JSON.parse(fs.readFileSync(new URL('../../../../host.json', import.meta.url), 'utf8')) as {
      extensions: { durableTask: { hubName: string } };
    };
    assert.equal(taskHubName(undefined, {}), own.extensions.durableTask.hubName);
  });
});
