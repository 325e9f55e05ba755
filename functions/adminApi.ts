import azureFunctions from '@azure/functions';
import { runtimeFromEnv as runtime } from '../src/processing/index.js';

const { app } = azureFunctions;

/** `GET /api/messages/{id}`: the message trace (no content is ever stored). Function key required. */
app.http('messageTrace', {
  route: 'api/messages/{id}',
  methods: ['GET'],
  authLevel: 'function',
  handler: async (request) => {
    const id = request.params.id ?? '';
    const events = await runtime().trace.forMessage(id);
    if (events.length === 0) return { status: 404, jsonBody: { id, error: 'no trace for this message id' } };
    return { jsonBody: { id, events } };
  },
});

/** `GET /api/deadletters`: messages we gave up on, with the reason. */
app.http('deadLetterList', {
  route: 'api/deadletters',
  methods: ['GET'],
  authLevel: 'function',
  handler: async () => ({ jsonBody: await runtime().deadLetters.list() }),
});

/** `POST /api/deadletters/{id}/replay`: put a dead letter back into the loop. */
app.http('deadLetterReplay', {
  route: 'api/deadletters/{id}/replay',
  methods: ['POST'],
  authLevel: 'function',
  handler: async (request) => {
    const id = request.params.id ?? '';
    const rt = runtime();
    if (!(await rt.deadLetters.replay(id)))
      return { status: 404, jsonBody: { id, error: 'no such dead letter' } };
    await rt.trace.record(id, [{ event: 'replayed', by: 'admin api' }]);
    return { status: 202, jsonBody: { id, replayed: true } };
  },
});
