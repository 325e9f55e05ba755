import azureFunctions from '@azure/functions';
import { ConfigError, loadSettings } from '../src/config/index.js';
import { openContent, previewJson, type ContentStore } from '../src/content/index.js';

const { app } = azureFunctions;

let content: Promise<ContentStore> | undefined;

/** `GET /api/preview?sender=…&recipient=…[,…]&type=reply`: the signature a sender would get, and why. */
app.http('preview', {
  methods: ['GET'],
  authLevel: 'function',
  route: 'api/preview',
  handler: async (request) => {
    const sender = request.query.get('sender');
    const type = request.query.get('type') ?? 'new';
    if (!sender || (type !== 'new' && type !== 'reply' && type !== 'forward'))
      return {
        status: 400,
        jsonBody: { error: 'expected ?sender=<address>[&recipient=<address>…][&type=new|reply|forward]' },
      };
    try {
      content ??= openContent(loadSettings()).catch((err: unknown) => {
        content = undefined;
        throw err;
      });
      const store = await content;
      const explanation = await store.preview({
        sender,
        recipients: recipientsOf(request.query),
        messageType: type,
      });
      // A broken newer configuration is reported beside the answer the last good one gives.
      return {
        status: 200,
        jsonBody: { ...previewJson(explanation), configError: store.lastError?.message },
      };
    } catch (err) {
      if (err instanceof ConfigError)
        return { status: 500, jsonBody: { error: `configuration error: ${err.message}` } };
      throw err;
    }
  },
});

/**
 * The Functions host hands a repeated query key to the worker as one comma-joined value
 * (`recipient=a&recipient=b` arrives as `a,b`, azure-functions-nodejs-library#168), so a list is
 * split on commas; `recipient=a,b` is accepted for the same reason.
 */
function recipientsOf(query: URLSearchParams): string[] {
  return query
    .getAll('recipient')
    .flatMap((value) => value.split(','))
    .map((address) => address.trim())
    .filter(Boolean);
}
