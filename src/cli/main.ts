#!/usr/bin/env node
/**
 * `sigrelay <command> …`: commands, options and help are declared in ./program.ts (commander);
 * each command's work is in ./commands/<command>.ts, imported only when it runs.
 *
 * Exit codes: 0 done; 1 the command's answer is "no" (status: something needs attention; trace: no
 * such message); 2 the command could not do its job: a usage mistake (one line and the usage), a bad
 * configuration, unreachable storage.
 */
import { CommanderError } from 'commander';
import { ConfigError } from '../config/index.js';
import { allCommands, buildProgram } from './program.js';
import { UsageError } from './usage.js';

const program = buildProgram((code) => {
  process.exitCode = code;
});

// A usage mistake is one line naming the command and what is wrong, then that command's usage.
for (const { command, path } of allCommands(program)) {
  const usage = `usage: ${path} ${command.usage()}`;
  command
    .exitOverride()
    .showHelpAfterError(`${usage}\n(${path} --help explains every option)`)
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, `${path}: `)) });
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = exitCodeFor(err);
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // --help, --version, or help shown because a command was missing (an error, like any other).
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof UsageError) {
    const command = allCommands(program).find(({ path }) => err.command === path);
    console.error(`${err.command}: ${err.message}`);
    if (command)
      console.error(
        `usage: ${command.path} ${command.command.usage()}\n(${command.path} --help explains every option)`,
      );
    return 2;
  }
  console.error(friendly(err));
  return 2;
}

/** One line for the errors a user can fix; the stack only for what is our bug. */
function friendly(err: unknown): string {
  if (err instanceof ConfigError) return `sigrelay: configuration error: ${err.message}`;
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ECONNREFUSED')
    return `sigrelay: storage is not reachable (${message}). Is the local loop running (npm start), or AzureWebJobsStorage set?`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return `sigrelay: storage is not reachable (${message}). Is the storage account name right?`;
  const name = (err as { name?: unknown }).name;
  if (
    name === 'CredentialUnavailableError' ||
    name === 'AggregateAuthenticationError' ||
    name === 'AuthenticationRequiredError'
  )
    return `sigrelay: cannot sign in to Azure: ${message.split('\n')[0]} (az login, or a managed identity)`;
  const status = (err as { statusCode?: unknown }).statusCode;
  if (status === 403)
    return `sigrelay: storage refused access (403): the signed-in identity needs Storage Blob/Queue/Table Data Reader roles`;
  return `sigrelay: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
}
