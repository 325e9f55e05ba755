import { TableClient } from '@azure/data-tables';

/**
 * A real TableClient on the real table, with one extra pipeline policy that writes down every HTTP
 * request the SDK sends (retries included), so a test can count storage round trips.
 */
export function countingTable(
  connectionString: string,
  tableName: string,
  options: { noRetries?: boolean } = {},
): { table: TableClient; requests: string[] } {
  const requests: string[] = [];
  const table = TableClient.fromConnectionString(connectionString, tableName, {
    allowInsecureConnection: connectionString.includes('http://'),
    ...(options.noRetries ? { retryOptions: { maxRetries: 0 } } : {}),
    additionalPolicies: [
      {
        position: 'perRetry',
        policy: {
          name: 'countRequests',
          sendRequest: (request, next) => {
            requests.push(`${request.method} ${new URL(request.url).pathname}`);
            return next(request);
          },
        },
      },
    ],
  });
  return { table, requests };
}
