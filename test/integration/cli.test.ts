import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../../src/config/index.js';

const cli = path.join(projectRoot, 'dist', 'src', 'cli', 'main.js');
const commands = [
  'config',
  'deadletter',
  'doctor',
  'exchange-script',
  'preview',
  'send',
  'sign',
  'status',
  'trace',
];

function sigrelay(...args: string[]) {
  // No storage anywhere: a command that reached for it would fail, not hang.
  const env = { ...process.env, AzureWebJobsStorage: '', SIGRELAY_STORAGE_CONNECTION: '' };
  return spawnSync(process.execPath, [cli, ...args], { env, encoding: 'utf8', timeout: 30_000 });
}

describe('the sigrelay CLI', () => {
  it('--help lists every command with a sentence, and an example', () => {
    const help = sigrelay('--help');
    assert.equal(help.status, 0, help.stderr);
    for (const name of commands) assert.match(help.stdout, new RegExp(`^  ${name}\\b.* \\w+`, 'm'), name);
    assert.match(help.stdout, /Examples:\n {2}\$ sigrelay status/);
  });

  for (const [words, option] of [
    [['status'], '--account-name <name>'],
    [['trace'], '--since <age>'],
    [['preview'], '--recipient <address>'],
    [['exchange-script'], '--smart-host <fqdn>'],
    [['deadletter', 'replay'], 'id'],
  ] as const) {
    it(`sigrelay ${words.join(' ')} --help explains ${option} and shows an example`, () => {
      const help = sigrelay(...words, '--help');
      assert.equal(help.status, 0, help.stderr);
      assert.match(help.stdout, new RegExp(`Usage: sigrelay ${words.join(' ')}`));
      const line = help.stdout.split('\n').find((l) => l.trimStart().startsWith(option)) ?? '';
      assert.match(
        line,
        new RegExp(`${option.replace(/[<>]/g, '.')}\\s+\\w+`),
        'the option has a description',
      );
      assert.match(help.stdout, new RegExp(`Examples?:\\n {2}\\$ sigrelay ${words[0]}`));
    });
  }

  it('an unknown option is one line naming it, then the usage; exit 2, no stack trace', () => {
    const run = sigrelay('trace', '--bogus');
    assert.equal(run.status, 2);
    const [first, second] = run.stderr.split('\n');
    assert.equal(first, "sigrelay trace: unknown option '--bogus'");
    assert.equal(second, 'usage: sigrelay trace [options] [id]');
    assert.doesNotMatch(run.stderr, /\n[^\S\n]+at /, 'no stack trace');
    assert.equal(run.stdout, '');
  });

  it('a missing argument or required option says which, exit 2', () => {
    const show = sigrelay('deadletter', 'show');
    assert.equal(show.status, 2);
    assert.match(
      show.stderr,
      /^sigrelay deadletter show: missing required argument 'id'\nusage: sigrelay deadletter show/,
    );
    const preview = sigrelay('preview');
    assert.equal(preview.status, 2);
    assert.match(preview.stderr, /^sigrelay preview: required option '--sender <address>' not specified\n/);
    const value = sigrelay('preview', '--sender');
    assert.equal(value.status, 2);
    assert.match(value.stderr, /^sigrelay preview: option '--sender <address>' argument missing\n/);
  });

  it('an unknown command is one line and the usage, exit 2', () => {
    const run = sigrelay('stauts');
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^sigrelay: unknown command 'stauts'/);
    assert.match(run.stderr, /\(Did you mean status\?\)/);
    assert.match(run.stderr, /\nusage: sigrelay <command> \[options\]\n/);
  });

  it('no command at all shows the help on stderr, exit 2', () => {
    const run = sigrelay();
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^Usage: sigrelay <command> \[options\]/);
  });

  it("a command's own check (trace --since) is one line and the usage, exit 2", () => {
    const run = sigrelay('trace', '--sender', 'alice@contoso.com', '--since', 'yesterday');
    assert.equal(run.status, 2);
    assert.match(
      run.stderr,
      /^sigrelay trace: --since must look like 30m, 1h or 2d \(got "yesterday"\)\nusage: /,
    );
  });

  it('a bad setting is the friendly configuration error, exit 2', () => {
    const env = { ...process.env, SIGRELAY_DELIVERY_TLS: 'sometimes' };
    const run = spawnSync(process.execPath, [cli, 'config', 'print'], { env, encoding: 'utf8' });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^sigrelay: configuration error: environment: SIGRELAY_DELIVERY_TLS: /);
    assert.doesNotMatch(run.stderr, /\n[^\S\n]+at /);
  });

  it('unreachable storage is one friendly line, exit 2', () => {
    const env = {
      ...process.env,
      // A port nothing listens on (the discard port), so the connection is refused at once.
      AzureWebJobsStorage:
        'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;TableEndpoint=http://127.0.0.1:9/devstoreaccount1',
    };
    const run = spawnSync(process.execPath, [cli, 'deadletter', 'list'], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(run.status, 2);
    assert.match(
      run.stderr,
      /^sigrelay: storage is not reachable \(.*ECONNREFUSED.*\)\. Is the local loop running/,
    );
  });
});
