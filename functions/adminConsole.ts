import azureFunctions, { type HttpRequest, type HttpResponseInit } from '@azure/functions';
import {
  createAdminConsole,
  parseJsonBody,
  readBodyCapped,
  type AdminConsole,
  type ApiAnswer,
} from '../src/admin/index.js';
import { runtimeFromEnv } from '../src/processing/index.js';

const { app } = azureFunctions;

let built: AdminConsole | undefined;
const adminConsole = (): AdminConsole => (built ??= createAdminConsole(runtimeFromEnv()));

/**
 * `/api/admin/*`: the admin console's JSON API (src/admin/contract.ts). Anonymous at the function
 * level: Easy Auth (Entra ID) in Azure, the dev sign-in locally, checked by src/admin/auth.ts.
 */
app.http('adminConsoleApi', {
  route: 'api/admin/{*path}',
  methods: ['GET', 'POST', 'PUT', 'DELETE'],
  authLevel: 'anonymous',
  handler: async (request) => {
    // Read only when a route asks, which is after its sign-in check, and never past the cap.
    let body: Promise<unknown> | undefined;
    const json = () =>
      (body ??=
        request.method === 'GET'
          ? Promise.resolve(undefined)
          : readBodyCapped(request.body, request.headers.get('content-length') ?? undefined).then(
              parseJsonBody,
            ));
    return toResponse(
      await adminConsole().api({
        method: request.method,
        path: request.params.path ?? '',
        query: request.query,
        header: (name) => request.headers.get(name) ?? undefined,
        json,
      }),
    );
  },
});

/** `/admin` and everything under it: the console's single-page app (dist/console). */
app.http('adminConsolePage', {
  route: 'admin/{*path}',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async (request: HttpRequest) => toResponse(await adminConsole().page(request.params.path ?? '')),
});

/**
 * The function-key routes for scripts (docs/operations.md): the same trace, dead letters and preview
 * as the console's API, over its handlers and the runtime's one configuration cache.
 */
app.http('messageTrace', {
  route: 'api/messages/{id}',
  methods: ['GET'],
  authLevel: 'function',
  handler: async (request) => toResponse(await adminConsole().keyRoutes.trace(request.params.id ?? '')),
});

app.http('deadLetterList', {
  route: 'api/deadletters',
  methods: ['GET'],
  authLevel: 'function',
  handler: async () => toResponse(await adminConsole().keyRoutes.deadLetters()),
});

app.http('deadLetterReplay', {
  route: 'api/deadletters/{id}/replay',
  methods: ['POST'],
  authLevel: 'function',
  handler: async (request) => toResponse(await adminConsole().keyRoutes.replay(request.params.id ?? '')),
});

app.http('preview', {
  route: 'api/preview',
  methods: ['GET'],
  authLevel: 'function',
  handler: async (request) => toResponse(await adminConsole().keyRoutes.preview(request.query)),
});

function toResponse(answer: ApiAnswer): HttpResponseInit {
  return {
    status: answer.status,
    headers: answer.headers ?? {},
    ...(answer.json !== undefined
      ? { jsonBody: answer.json }
      : answer.body !== undefined
        ? { body: answer.body }
        : {}),
    ...(answer.cookies ? { cookies: answer.cookies } : {}),
  };
}
