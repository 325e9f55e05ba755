/**
 * Every command, option and example of `sigrelay`, described for `--help`. The actions import their
 * command module only when they run, so `--help` and a quick command never load the heavy ones.
 */
import { Command, Option } from 'commander';
import type {
  DoctorOptions,
  ExchangeScriptOptions,
  PreviewOptions,
  SendOptions,
  SignOptions,
  StatusOptions,
  TraceOptions,
} from './usage.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function example(...lines: string[]): string {
  return `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

type Run = () => Promise<number>;

/** Builds the program; `setExitCode` receives each action's exit code. */
export function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('sigrelay')
    .description('Server-side email signatures for Microsoft 365: operate, inspect and try sigrelay.')
    .usage('<command> [options]')
    .helpOption('-h, --help', 'show help for sigrelay or a command')
    .addHelpText(
      'after',
      example('sigrelay status', 'sigrelay trace <message-id>', 'sigrelay <command> --help'),
    );
  const act = (run: Run) => async () => setExitCode(await run());

  const config = program
    .command('config')
    .description('the effective configuration (settings from the environment, and tenants.json)');
  config
    .command('print')
    .description('print the effective configuration as JSON, secrets masked')
    .addHelpText('after', example('SIGRELAY_CONFIG=config/msp sigrelay config print'))
    .action(act(async () => (await import('./commands/config.js')).print()));

  const deadletter = program
    .command('deadletter')
    .description('messages sigrelay gave up on (kept in the deadletter container until replayed)');
  deadletter
    .command('list')
    .description('list dead letters: id, when, sender, recipient count, size and reason')
    .addHelpText('after', example('sigrelay deadletter list'))
    .action(act(async () => (await import('./commands/deadletter.js')).list()));
  deadletter
    .command('show')
    .description("print one dead letter's failure history as JSON")
    .argument('<id>', 'the message id (as listed)')
    .addHelpText('after', example('sigrelay deadletter show 20261129231728-ea82d530b7a9ad81'))
    .action((id: string) => act(async () => (await import('./commands/deadletter.js')).show(id))());
  deadletter
    .command('replay')
    .description('put a dead letter back into the loop; recipients that have it are not sent to again')
    .argument('<id>', 'the message id (as listed)')
    .addHelpText('after', example('sigrelay deadletter replay 20261129231728-ea82d530b7a9ad81'))
    .action((id: string) => act(async () => (await import('./commands/deadletter.js')).replay(id))());

  program
    .command('doctor')
    .description(
      'check the loop is set up right: certificates, configuration and a real SMTP session to each tenant endpoint (nothing sent); exit 0 ok, 1 warnings, 2 failures',
    )
    .option('--tenant <id>', 'check only this tenant (default: every tenant and the front)')
    .option('--config <dir>', 'configuration directory (default: $SIGRELAY_CONFIG)')
    .option('--smart-host <fqdn>', "our SMTP front's public name (default: $SIGRELAY_PUBLIC_FQDN)")
    .option(
      '--front <host:port>',
      'probe our front as Exchange does: STARTTLS, certificate valid for the smart host (default in production: <smart host>:25)',
    )
    .option('--sender <address>', 'MAIL FROM of the probe (default: postmaster@ the first approved domain)')
    .option('--recipient <address>', 'RCPT TO of the probe (default: postmaster@ the first approved domain)')
    .option('--json', 'print the checks as JSON')
    .addHelpText(
      'after',
      example('sigrelay doctor', 'sigrelay doctor --tenant 6f1c2e3a-8b4d-4c5e-9f60-1a2b3c4d5e6f --json'),
    )
    .action((options: DoctorOptions) =>
      act(async () => (await import('./commands/doctor.js')).run(options))(),
    );

  program
    .command('exchange-script')
    .description(
      'print the idempotent Exchange Online PowerShell setup for one tenant (run it after Connect-ExchangeOnline)',
    )
    .requiredOption('--tenant <id>', "the tenant's id in tenants.json")
    .option('--pilot <address>', "route only this sender's mail (the routing rule enabled, scoped to them)")
    .option('--enable', 'go live: drop the pilot scope and enable the routing rule', false)
    .option('--remove', 'print the teardown instead (rules first, inbound connector last)', false)
    .option('--smart-host <fqdn>', "our SMTP front's public name (default: $SIGRELAY_PUBLIC_FQDN)")
    .option('--config <dir>', 'configuration directory (default: $SIGRELAY_CONFIG)')
    .option('--max-size-mb <n>', 'larger messages bypass signing (1–150)', '25')
    .addHelpText(
      'after',
      example(
        'sigrelay exchange-script --tenant 6f1c2e3a-8b4d-4c5e-9f60-1a2b3c4d5e6f --smart-host smtp.example.com',
        'sigrelay exchange-script --tenant 6f1c2e3a-8b4d-4c5e-9f60-1a2b3c4d5e6f --pilot alice@contoso.com --smart-host smtp.example.com',
      ),
    )
    .action((options: ExchangeScriptOptions) =>
      act(async () => (await import('./commands/exchange-script.js')).run(options))(),
    );

  program
    .command('preview')
    .description('show the signature a sender gets for given recipients, every rule with its verdict')
    .option('--config <dir>', 'configuration directory (default: $SIGRELAY_CONFIG)')
    .requiredOption('--sender <address>', 'the sender to preview')
    .option(
      '--recipient <address>',
      'a recipient (repeat for several; decides internal/external)',
      collect,
      [],
    )
    .addOption(new Option('--reply', 'preview the reply variant').conflicts('forward'))
    .option('--forward', 'preview the forward variant')
    .option('--out <dir>', 'where signature.html and signature.txt are written', '.')
    .addHelpText(
      'after',
      example(
        'sigrelay preview --config config/contoso --sender alice@contoso.com --recipient x@example.com',
      ),
    )
    .action((options: PreviewOptions) =>
      act(async () => (await import('./commands/preview.js')).run(options))(),
    );

  program
    .command('send')
    .description('send a message file, or a sample Outlook reply, through the SMTP front with STARTTLS')
    .argument('[file]', 'the .eml file to send')
    .option('--sample', 'send a generated Outlook-style reply instead of a file')
    .option('--from <address>', 'envelope sender', 'alice@contoso.com')
    .option(
      '--to <address>',
      'envelope recipient (repeat for several; default megan@fabrikam.example)',
      collect,
      [],
    )
    .option('--host <host>', 'the front (default: $SIGRELAY_SMTP_HOST or 127.0.0.1)')
    .option('--port <port>', 'the front (default: $SIGRELAY_SMTP_PORT or 2525)')
    .option('--ca <file>', 'CA certificate the front is checked against (default: the dev CA in .data/tls)')
    .option('--count <n>', 'send it this many times', '1')
    .addHelpText('after', example('sigrelay send --sample', 'sigrelay send reply.eml --to bob@example.net'))
    .action((file: string | undefined, options: SendOptions) =>
      act(async () => (await import('./commands/send.js')).run(file, options))(),
    );

  program
    .command('sign')
    .description('apply signatures to message files as the mail loop would (skipped ones copied unchanged)')
    .argument('<input>', 'a message file, a directory of them (recursively), or - for stdin')
    .requiredOption('--config <dir>', 'configuration directory')
    .option('--sender <address>', 'envelope sender (default: the From header)')
    .option('--recipient <address>', 'envelope recipient (repeat; default: To/Cc headers)', collect, [])
    .option('--out <path>', 'output file or directory (default: stdout)')
    .addHelpText(
      'after',
      example(
        'sigrelay sign --config config/contoso in.eml --out out.eml',
        'sigrelay sign --config config/contoso ./mails --out ./signed',
      ),
    )
    .action((input: string, options: SignOptions) =>
      act(async () => (await import('./commands/sign.js')).run(input, options))(),
    );

  program
    .command('status')
    .description(
      'queue depth, poison and dead letters, oldest message, retries, directory sync and configuration; exit 1 when something needs attention',
    )
    .option(
      '--account-name <name>',
      'an Azure storage account, signed in with DefaultAzureCredential (az login, managed identity)',
    )
    .option(
      '--config <dir>',
      'configuration directory (default: $SIGRELAY_CONFIG; with --account-name, the config container)',
    )
    .option('--json', 'print the status as JSON')
    .addHelpText('after', example('sigrelay status', 'sigrelay status --account-name sigrelayprod --json'))
    .action((options: StatusOptions) =>
      act(async () => (await import('./commands/status.js')).run(options))(),
    );

  program
    .command('trace')
    .description('what happened to a message: by id, or every message of a sender since a time')
    .argument('[id]', 'the message id (from the 250 reply or a log line)')
    .option('--sender <address>', "list a sender's messages instead")
    .option('--since <age>', 'with --sender: how far back, like 30m, 2h or 1d', '1h')
    .option('--json', 'print the events as JSON')
    .addHelpText(
      'after',
      example(
        'sigrelay trace 20261129231728-ea82d530b7a9ad81',
        'sigrelay trace --sender alice@contoso.com --since 2h',
      ),
    )
    .action((id: string | undefined, options: TraceOptions) =>
      act(async () => (await import('./commands/trace.js')).run(id, options))(),
    );

  return program;
}

/** Every command under `root`, with the words that call it (`sigrelay deadletter show`). */
export function allCommands(root: Command): { command: Command; path: string }[] {
  const out: { command: Command; path: string }[] = [];
  const walk = (command: Command, path: string) => {
    out.push({ command, path });
    for (const sub of command.commands) walk(sub, `${path} ${sub.name()}`);
  };
  walk(root, root.name());
  return out;
}
