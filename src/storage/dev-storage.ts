/** Azurite's well-known development account (public, documented by Microsoft). */
const devAccount = 'devstoreaccount1';
const devKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuritePorts {
  blob: number;
  queue: number;
  table: number;
}

/** Azurite's standard ports: what `npm start` uses and what `UseDevelopmentStorage=true` means. */
export const defaultAzuritePorts: AzuritePorts = { blob: 10000, queue: 10001, table: 10002 };

/** Where `npm start`'s in-memory table service keeps the message trace (src/local/stack.ts). */
export const localTraceTablePort = 10012;

export function azuriteConnectionString(
  ports: AzuritePorts = defaultAzuritePorts,
  host = '127.0.0.1',
): string {
  const base = `http://${host}`;
  return [
    'DefaultEndpointsProtocol=http',
    `AccountName=${devAccount}`,
    `AccountKey=${devKey}`,
    `BlobEndpoint=${base}:${ports.blob}/${devAccount}`,
    `QueueEndpoint=${base}:${ports.queue}/${devAccount}`,
    `TableEndpoint=${base}:${ports.table}/${devAccount}`,
  ].join(';');
}

/**
 * `UseDevelopmentStorage=true` (the shorthand local.settings.json uses) as the full connection
 * string for Azurite on its standard ports; any other connection string as it is. The Tables SDK
 * and the lean REST client do not understand the shorthand.
 */
export function expandDevelopmentStorage(connectionString: string): string {
  return /^UseDevelopmentStorage=true/i.test(connectionString) ? azuriteConnectionString() : connectionString;
}
