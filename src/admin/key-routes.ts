import { ConfigError } from '../config/index.js';
import { previewJson, type ContentStore } from '../content/index.js';
import { ApiFailure, ok, type ApiAnswer } from './http.js';
import type { MessagesView } from './messages.js';

/**
 * The function-key routes scripts call (`/api/messages/{id}`, `/api/deadletters`,
 * `/api/deadletters/{id}/replay`, `/api/preview`; docs/operations.md), answered by the console's
 * own handlers and the runtime's one configuration cache, in the shapes these routes have always
 * had. The Functions host checks the key; nothing here is reachable without it.
 */
export class KeyRoutes {
  constructor(
    private readonly messages: MessagesView,
    private readonly content: () => Promise<ContentStore>,
  ) {}

  async trace(id: string): Promise<ApiAnswer> {
    const events = await this.messages.events(id);
    if (events.length === 0) return { status: 404, json: { id, error: 'no trace for this message id' } };
    return ok({ id, events });
  }

  async deadLetters(): Promise<ApiAnswer> {
    return ok(await this.messages.deadLetters());
  }

  async replay(id: string): Promise<ApiAnswer> {
    try {
      await this.messages.replayOnce(id, 'admin api');
      return ok({ id, replayed: true }, 202);
    } catch (err) {
      if (err instanceof ApiFailure) return { status: err.status, json: { id, ...err.body } };
      throw err;
    }
  }

  /** `?sender=…&recipient=…[,…]&type=new|reply|forward`: the signature a sender would get, and why. */
  async preview(query: URLSearchParams): Promise<ApiAnswer> {
    const sender = query.get('sender');
    const type = query.get('type') ?? 'new';
    if (!sender || (type !== 'new' && type !== 'reply' && type !== 'forward'))
      return {
        status: 400,
        json: { error: 'expected ?sender=<address>[&recipient=<address>…][&type=new|reply|forward]' },
      };
    try {
      const store = await this.content();
      const explanation = await store.preview({ sender, recipients: recipientsOf(query), messageType: type });
      // A broken newer configuration is reported beside the answer the last good one gives.
      return ok({ ...previewJson(explanation), configError: store.lastError?.message });
    } catch (err) {
      if (err instanceof ConfigError)
        return { status: 500, json: { error: `configuration error: ${err.message}` } };
      throw err;
    }
  }
}

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
