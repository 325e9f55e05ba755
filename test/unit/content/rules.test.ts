import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadContent, messageTypeOf } from '../../../src/content/index.js';
import type { SignatureResolution } from '../../../src/signing/types.js';
import { facts, makeConfigDir, tenants } from '../../fixtures/content/config-dir.js';

const templates = {
  'full.html': '<p>full {{ user.givenName }}</p>',
  'short.html': '<p>short</p>',
  'short.txt': 'short text',
  'other.html': '<p>other</p>',
  'banner.html': '<a href="{{ banner.link }}"><img src="{{ banner.image }}"></a>',
};

async function contentWith(rules: unknown[], extraTenantSettings?: object) {
  const dir = await makeConfigDir({ rules, templates });
  if (extraTenantSettings) {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(
      `${dir}/tenants.json`,
      JSON.stringify([{ ...tenants[0], settings: extraTenantSettings }]),
    );
  }
  return loadContent(dir);
}

function ruleOf(resolution: SignatureResolution): string | undefined {
  return resolution.action === 'sign' ? resolution.content.rule : `skip:${resolution.reason}`;
}

const external = ['someone@example.org'];
const internal = ['zoe@fabrikam.com'];

void describe('rule matching', () => {
  void it('matches senders by address, *@domain and group, case-insensitively', async () => {
    const content = await contentWith([
      { name: 'by-address', template: 'full', senders: ['ZOE@fabrikam.com'] },
      { name: 'by-group', template: 'full', senders: ['group:sales'] },
      { name: 'by-domain', template: 'full', senders: ['*@fabrikam.onmicrosoft.com'] },
    ]);
    assert.equal(ruleOf(await content.resolve(facts('zoe@fabrikam.com', external))), 'by-address');
    assert.equal(ruleOf(await content.resolve(facts('ada@fabrikam.com', external))), 'by-group');
    // Ada's proxy address is in the onmicrosoft domain, but the From address is what is matched.
    const viaProxy = facts('ada.l@fabrikam.onmicrosoft.com', external);
    assert.equal(ruleOf(await content.resolve(viaProxy)), 'by-group');
  });

  void it('uses the From address for the user and the rule, not the envelope sender', async () => {
    const content = await contentWith([{ name: 'zoe', template: 'full', senders: ['zoe@fabrikam.com'] }]);
    const resolution = await content.resolve({
      ...facts('ada@fabrikam.com', external),
      from: 'zoe@fabrikam.com',
    });
    assert.equal(ruleOf(resolution), 'zoe');
  });

  void it('tells internal, external and mixed recipients apart, mixed following the tenant setting', async () => {
    const rules = [
      { name: 'internal', template: 'full', recipients: 'internal' },
      { name: 'external', template: 'full', recipients: 'external' },
    ];
    const byDefault = await contentWith(rules);
    assert.equal(ruleOf(await byDefault.resolve(facts('ada@fabrikam.com', internal))), 'internal');
    assert.equal(ruleOf(await byDefault.resolve(facts('ada@fabrikam.com', external))), 'external');
    const mixed = facts('ada@fabrikam.com', [...internal, ...external]);
    assert.equal(ruleOf(await byDefault.resolve(mixed)), 'external');
    const mixedInternal = await contentWith(rules, { mixedRecipients: 'internal' });
    assert.equal(ruleOf(await mixedInternal.resolve(mixed)), 'internal');
  });

  void it('matches message types and the tenant', async () => {
    const content = await contentWith([
      { name: 'other-tenant', template: 'full', tenants: ['Contoso'] },
      { name: 'forwards', template: 'full', messageTypes: ['forward'], tenants: ['fabrikam'] },
      { name: 'new', template: 'full', messageTypes: ['new'] },
    ]);
    assert.equal(
      ruleOf(await content.resolve(facts('ada@fabrikam.com', external, { subject: 'WG: Angebot' }))),
      'forwards',
    );
    assert.equal(
      ruleOf(await content.resolve(facts('ada@fabrikam.com', external, { subject: 'Angebot' }))),
      'new',
    );
    assert.equal(
      ruleOf(
        await content.resolve(facts('ada@fabrikam.com', external, { subject: 'x', inReplyTo: '<a@b>' })),
      ),
      'skip:no-rule',
    );
  });

  void it('takes the first matching rule, and a rule without matchers matches everything', async () => {
    const content = await contentWith([
      { name: 'first', template: 'full', senders: ['*@fabrikam.com'] },
      { name: 'second', template: 'other', senders: ['ada@fabrikam.com'] },
      { name: 'catch-all', template: 'other' },
    ]);
    assert.equal(ruleOf(await content.resolve(facts('ada@fabrikam.com', external))), 'first');
    assert.equal(
      ruleOf(await content.resolve(facts('ada.l@fabrikam.onmicrosoft.com', external))),
      'catch-all',
    );
  });

  void it('honours from/until: date-only until includes its whole day (UTC)', async () => {
    const content = await contentWith([
      { name: 'dated', template: 'full', from: '2026-03-01', until: '2026-03-31' },
    ]);
    const at = async (iso: string) =>
      (
        await content.preview({
          sender: 'ada@fabrikam.com',
          recipients: external,
          messageType: 'new',
          now: new Date(iso),
        })
      ).verdicts[0];
    assert.deepEqual(await at('2026-02-28T23:59:59Z'), {
      rule: 'dated',
      matched: false,
      reason: 'starts 2026-03-01',
    });
    assert.deepEqual(await at('2026-03-01T00:00:00Z'), { rule: 'dated', matched: true });
    assert.deepEqual(await at('2026-03-31T23:59:59Z'), { rule: 'dated', matched: true });
    assert.deepEqual(await at('2026-04-01T00:00:00Z'), {
      rule: 'dated',
      matched: false,
      reason: 'ended 2026-03-31',
    });
  });

  void it('reports no-rule and unknown users and tenants', async () => {
    const content = await contentWith([
      { name: 'only-zoe', template: 'full', senders: ['zoe@fabrikam.com'] },
    ]);
    assert.deepEqual(await content.resolve(facts('ada@fabrikam.com', external)), {
      action: 'skip',
      reason: 'no-rule',
    });
    assert.deepEqual(await content.resolve(facts('ghost@fabrikam.com', external)), {
      action: 'skip',
      reason: 'unknown-user',
    });
    assert.deepEqual(await content.resolve(facts('x@elsewhere.com', external)), {
      action: 'skip',
      reason: 'unknown-tenant',
    });
  });
});

void describe('reply variants, placement and banners', () => {
  const rules = (replyVariant: string) => [
    {
      name: 'r',
      template: 'full',
      replyVariant,
      placement: 'bottom',
      banner: {
        template: 'banner',
        from: '2026-01-01',
        until: '2099-12-31',
        link: 'https://x.example/e',
        image: 'logo.png',
      },
    },
  ];
  const reply = facts('ada@fabrikam.com', external, { subject: 'RE: hello' });

  void it('signs replies in full, with a short template, or not at all', async () => {
    const full = await (await contentWith(rules('full'))).resolve(reply);
    assert.equal(full.action === 'sign' && full.content.template, 'full');
    const short = await (await contentWith(rules('short:short'))).resolve(reply);
    assert.equal(short.action, 'sign');
    if (short.action === 'sign') {
      assert.equal(short.content.template, 'short');
      assert.equal(short.content.html, '<p>short</p>');
      assert.equal(short.content.text, 'short text');
      assert.equal(short.content.placement, 'bottom');
    }
    const none = await (await contentWith(rules('none'))).resolve(reply);
    assert.deepEqual(none, { action: 'skip', reason: 'reply-variant-none', rule: 'r' });
    const fresh = await (await contentWith(rules('none'))).resolve(facts('ada@fabrikam.com', external));
    assert.equal(fresh.action === 'sign' && fresh.content.template, 'full');
  });

  void it('appends the campaign banner under the full signature within its dates only', async () => {
    const content = await contentWith(rules('short:short'));
    const during = await content.preview({
      sender: 'ada@fabrikam.com',
      recipients: external,
      messageType: 'new',
      now: new Date('2026-06-01T12:00:00Z'),
    });
    assert.equal(during.resolution.action, 'sign');
    if (during.resolution.action === 'sign') {
      assert.equal(
        during.resolution.content.html,
        '<p>full Ada</p>\n<a href="https://x.example/e"><img src="cid:logo.png@sigrelay"></a>',
      );
      assert.deepEqual(
        during.resolution.content.images.map((i) => i.cid),
        ['logo.png@sigrelay'],
      );
    }
    const before = await content.preview({
      sender: 'ada@fabrikam.com',
      recipients: external,
      messageType: 'new',
      now: new Date('2025-12-31T23:00:00Z'),
    });
    assert.equal(before.resolution.action === 'sign' && before.resolution.content.html, '<p>full Ada</p>');
    const shortReply = await content.resolve(reply);
    assert.equal(shortReply.action === 'sign' && shortReply.content.html, '<p>short</p>');
  });
});

void describe('reply and forward detection', () => {
  const cases: [string | undefined, string, string?][] = [
    ['Hello', 'new'],
    ['RE: Hello', 'reply'],
    ['Re[2]: Hello', 'reply'],
    ['AW: Angebot', 'reply'],
    ['SV: Offert', 'reply'],
    ['Antw: offerte', 'reply'],
    ['RV: Oferta', 'forward'],
    ['TR : Devis', 'forward'],
    ['FW: Hello', 'forward'],
    ['Fwd: Hello', 'forward'],
    ['WG: Angebot', 'forward'],
    ['VS: Tilbud', 'forward'],
    ['I: Offerta', 'forward'],
    ['ENC: Proposta', 'forward'],
    ['[EXTERNAL] RE: Hello', 'reply'],
    ['RE: FW: Hello', 'reply'],
    ['回复：你好', 'reply'],
    ['Recap: the plan', 'new'],
    ['Information', 'new'],
    ['Hello', 'reply', '<id@host>'],
    [undefined, 'reply', '<id@host>'],
  ];
  for (const [subject, expected, inReplyTo] of cases) {
    void it(`${JSON.stringify(subject)}${inReplyTo ? ' with In-Reply-To' : ''} is ${expected}`, () => {
      assert.equal(messageTypeOf({ subject, inReplyTo }), expected);
    });
  }
  void it('treats References alone as a reply', () => {
    assert.equal(messageTypeOf({ subject: 'x', references: '<a@b> <c@d>' }), 'reply');
  });
});
