/**
 * What the command modules share with the program that describes them: the usage error and each
 * command's options. Kept apart from program.ts so commands never import the program that lazily
 * imports them (that was an import cycle).
 */

/** A mistake in how a command was called: one line and the usage, exit 2 (main.ts prints it). */
export class UsageError extends Error {
  /** `command`: the words that call it, as in `sigrelay exchange-script`. */
  constructor(
    readonly command: string,
    message: string,
  ) {
    super(message);
  }
}

export interface DoctorOptions {
  tenant?: string;
  front?: string;
  config?: string;
  smartHost?: string;
  sender?: string;
  recipient?: string;
  json?: boolean;
}

export interface ExchangeScriptOptions {
  tenant: string;
  pilot?: string;
  enable: boolean;
  remove: boolean;
  smartHost?: string;
  config?: string;
  maxSizeMb: string;
}

export interface PreviewOptions {
  config?: string;
  sender: string;
  recipient: string[];
  reply?: boolean;
  forward?: boolean;
  out: string;
}

export interface SendOptions {
  sample?: boolean;
  from: string;
  to: string[];
  host?: string;
  port?: string;
  ca?: string;
  count: string;
}

export interface SignOptions {
  config: string;
  sender?: string;
  recipient: string[];
  out?: string;
}

export interface StatusOptions {
  accountName?: string;
  config?: string;
  json?: boolean;
}

export interface TraceOptions {
  sender?: string;
  since: string;
  json?: boolean;
}
