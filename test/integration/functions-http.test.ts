import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sampleConfigDir } from '../../src/config/index.js';
import { loadContent, previewJson, type ContentStore, type MessageType } from '../../src/content/index.js';
import { startLoop } from '../helpers/loop.js';

interface Answer {
  status: number;
  contentType: string | null;
  body: string;
}

describe('the preview HTTP function in the functions host', { timeout: 60_000 }, () => {
  let loop: Awaited<ReturnType<typeof startLoop>>;
  let content: ContentStore;

  /** `key` null sends no key at all. */
  async function get(query: string, key: string | null = loop.stack.functionKey): Promise<Answer> {
    const res = await fetch(`http://127.0.0.1:${loop.stack.ports.functions}/api/preview?${query}`, {
      headers: key === null ? {} : { 'x-functions-key': key },
    });
    return { status: res.status, contentType: res.headers.get('content-type'), body: await res.text() };
  }

  /** What the content module itself answers, as the JSON the function should send. */
  async function expected(sender: string, recipients: string[], messageType: MessageType): Promise<unknown> {
    return JSON.parse(
      JSON.stringify(previewJson(await content.preview({ sender, recipients, messageType }))),
    ) as unknown;
  }

  before(async () => {
    loop = await startLoop();
    content = await loadContent(sampleConfigDir);
  });
  after(async () => {
    await loop?.dispose();
  });

  it('answers 200 JSON naming the rule and template, with the rendered HTML and text', async () => {
    const answer = await get('sender=alice@contoso.com&recipient=x@example.com');
    assert.equal(answer.status, 200, answer.body);
    assert.equal(answer.contentType, 'application/json');
    const body = JSON.parse(answer.body) as {
      tenant: string;
      user: string;
      messageType: string;
      audience: string;
      rules: unknown[];
      result: {
        action: string;
        rule: string;
        template: string;
        html: string;
        text: string;
        images: unknown[];
      };
    };
    assert.deepEqual(body, await expected('alice@contoso.com', ['x@example.com'], 'new'));
    assert.equal(body.tenant, 'Contoso Ltd');
    assert.equal(body.user, 'Alice Martin');
    assert.equal(body.messageType, 'new');
    assert.equal(body.audience, 'external');
    assert.deepEqual(body.rules, [
      { rule: 'sales-external', matched: true },
      { rule: 'internal', matched: false, reason: 'not reached: sales-external matched first' },
      { rule: 'internal-replies', matched: false, reason: 'not reached: sales-external matched first' },
      { rule: 'corporate', matched: false, reason: 'not reached: sales-external matched first' },
    ]);
    assert.equal(body.result.action, 'sign');
    assert.equal(body.result.rule, 'sales-external');
    assert.equal(body.result.template, 'sales');
    assert.match(body.result.html, /<strong[^>]*>Alice Martin<\/strong>/);
    assert.match(body.result.html, /src="cid:logo\.png@sigrelay"/);
    assert.match(body.result.text, /^Alice Martin$/m);
    assert.deepEqual(body.result.images, [
      { cid: 'logo.png@sigrelay', contentType: 'image/png', filename: 'logo.png', bytes: 363 },
    ]);
    assert.ok(!('configError' in body), 'no configuration error to report');
  });

  it('answers a reply with the rule’s short variant', async () => {
    const answer = await get('sender=alice@contoso.com&recipient=x@example.com&type=reply');
    assert.equal(answer.status, 200, answer.body);
    const body = JSON.parse(answer.body) as { result: { rule: string; template: string } };
    assert.deepEqual(body, await expected('alice@contoso.com', ['x@example.com'], 'reply'));
    assert.equal(body.result.rule, 'sales-external');
    assert.equal(body.result.template, 'corporate-reply');
  });

  it('treats a comma-separated recipient list (how Azure passes repeated keys) as several recipients', async () => {
    // An external recipient first: read as one address, the domain after the last "@" said "internal".
    const answer = await get(
      'sender=zoe.mueller@contoso.com&recipient=megan@fabrikam.example,bob@contoso.com',
    );
    assert.equal(answer.status, 200, answer.body);
    const body = JSON.parse(answer.body) as { audience: string; result: { rule: string } };
    assert.deepEqual(
      body,
      await expected('zoe.mueller@contoso.com', ['megan@fabrikam.example', 'bob@contoso.com'], 'new'),
    );
    assert.equal(body.audience, 'external', 'mixed recipients count as external');
    assert.equal(body.result.rule, 'corporate');
  });

  it('answers 401 without the function key, and with a wrong one', async () => {
    assert.deepEqual(await get('sender=alice@contoso.com&recipient=x@example.com', null), {
      status: 401,
      contentType: null,
      body: '',
    });
    assert.equal((await get('sender=alice@contoso.com', 'not-the-key')).status, 401);
  });

  it('answers an unknown sender with 200 and the reason nothing would be signed', async () => {
    assert.deepEqual(await get('sender=nobody@contoso.com&recipient=x@example.com'), {
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({
        tenant: 'Contoso Ltd',
        rules: [],
        result: { action: 'skip', reason: 'unknown-user' },
      }),
    });
    assert.deepEqual(await get('sender=mallory@evil.example&recipient=x@example.com'), {
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({ rules: [], result: { action: 'skip', reason: 'unknown-tenant' } }),
    });
  });

  it('answers 400 with the usage for a missing sender or an unknown type', async () => {
    const usage = JSON.stringify({
      error: 'expected ?sender=<address>[&recipient=<address>…][&type=new|reply|forward]',
    });
    for (const query of ['recipient=x@example.com', 'sender=alice@contoso.com&type=draft']) {
      assert.deepEqual(
        await get(query),
        { status: 400, contentType: 'application/json', body: usage },
        query,
      );
    }
  });
});
