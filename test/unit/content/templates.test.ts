import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadContent } from '../../../src/content/index.js';
import type { SignatureContent } from '../../../src/signing/types.js';
import { facts, makeConfigDir, users } from '../../fixtures/content/config-dir.js';

async function render(html: string, options: { txt?: string; sender?: string; users?: unknown } = {}) {
  const templates: Record<string, string> = { 'basic.html': html };
  if (options.txt !== undefined) templates['basic.txt'] = options.txt;
  const content = await loadContent(await makeConfigDir({ templates, users: options.users }));
  const resolution = await content.resolve(facts(options.sender ?? 'ada@fabrikam.com', ['x@example.org']));
  assert.equal(resolution.action, 'sign');
  return (resolution as { content: SignatureContent }).content;
}

void describe('content rendering', () => {
  void it('escapes directory values in HTML', async () => {
    const out = await render('<p>{{ user.jobTitle }}</p>');
    assert.equal(out.html, '<p>R&amp;D &lt;Lead&gt;</p>');
  });

  void it('keeps values literal in text templates and derives text from HTML when there is none', async () => {
    assert.equal((await render('<p>x</p>', { txt: '{{ user.jobTitle }}' })).text, 'R&D <Lead>');
    assert.equal((await render('<p>{{ user.jobTitle }}</p>')).text, 'R&D <Lead>');
  });

  void it('renders non-ASCII names unchanged', async () => {
    const out = await render('<b>{{ user.displayName }}</b>', {
      sender: 'zoe@fabrikam.com',
      txt: '{{ user.displayName }}',
    });
    assert.equal(out.html, '<b>Zoë Müller-Łukasiewicz</b>');
    assert.equal(out.text, 'Zoë Müller-Łukasiewicz');
  });

  void it('drops lines whose attributes are empty, in HTML and text', async () => {
    const html =
      '{% lines %}\n<b>{{ user.displayName }}</b>\n<i>{{ user.jobTitle }}</i>\n{{ user.mobilePhone | phone | prefix: "M " }}\n{% endlines %}';
    const txt =
      '-- \n{% lines %}\n{{ user.displayName }}\n{{ user.jobTitle }}\n{{ user.mobilePhone | phone | prefix: "M " }}\n{% endlines %}';
    const ada = await render(html, { txt });
    assert.equal(ada.html, '<b>Ada Lovelace</b><br>\n<i>R&amp;D &lt;Lead&gt;</i><br>\nM +44 7700 900123');
    assert.equal(ada.text, '-- \nAda Lovelace\nR&D <Lead>\nM +44 7700 900123');
    const zoe = await render(html, { sender: 'zoe@fabrikam.com', txt });
    assert.equal(zoe.html, '<b>Zoë Müller-Łukasiewicz</b>');
    assert.equal(zoe.text, '-- \nZoë Müller-Łukasiewicz');
    assert.equal((await render(html, { sender: 'zoe@fabrikam.com' })).text, 'Zoë Müller-Łukasiewicz');
  });

  void it('joins only the non-empty parts, keeping separator spaces', async () => {
    const template = '{{ user.jobTitle | join_present: " | ", user.department, user.officeLocation }}';
    assert.equal((await render(template)).html, 'R&amp;D &lt;Lead&gt; | Research');
    assert.equal((await render(template, { sender: 'zoe@fabrikam.com' })).html, '');
  });

  void it('formats phone numbers for display and as tel: links', async () => {
    const out = await render(
      '<a href="{{ user.mobilePhone | tel }}">{{ user.mobilePhone | phone }}</a>{{ user.faxNumber | tel }}',
    );
    assert.equal(out.html, '<a href="tel:+447700900123">+44 7700 900123</a>');
  });

  void it('flattens line breaks and control characters in values so they cannot start MIME or header lines', async () => {
    const [ada] = users;
    const evil = [
      { ...ada, displayName: 'Ada\r\n--boundary\r\nContent-Type: text/html\r\n\r\n<script>x</script>\u0000' },
    ];
    const out = await render('<p>{{ user.displayName }}</p>', { users: evil, txt: '{{ user.displayName }}' });
    assert.equal(out.html, '<p>Ada --boundary Content-Type: text/html &lt;script&gt;x&lt;/script&gt;</p>');
    assert.equal(out.text, 'Ada --boundary Content-Type: text/html <script>x</script>');
  });

  void it('gives templates the tenant, the message and the current date', async () => {
    const out = await render(
      '{{ tenant.name }} {{ message.type }} {{ message.isExternal }} {{ now | date: "%Y" }}',
    );
    assert.equal(out.html, `Fabrikam new true ${new Date().getFullYear()}`);
  });

  void it('embeds images referenced as cid: with a namespaced Content-ID, and only those', async () => {
    const out = await render(
      '<img src="cid:logo.png" alt="{{ user.displayName }}"> <img src="https://cdn.example/x.png">',
    );
    assert.equal(
      out.html,
      '<img src="cid:logo.png@sigrelay" alt="Ada Lovelace"> <img src="https://cdn.example/x.png">',
    );
    assert.equal(out.images.length, 1);
    const [image] = out.images;
    assert.equal(image?.cid, 'logo.png@sigrelay');
    assert.equal(image?.contentType, 'image/png');
    assert.equal(image?.filename, 'logo.png');
    assert.deepEqual(image?.content.subarray(0, 4), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    assert.equal(out.text, '');
  });

  void it('never embeds an image because a directory value mentions it', async () => {
    const [ada] = users;
    const sneaky = [{ ...ada, jobTitle: '<img src="cid:logo.png">' }];
    const out = await render('<p>{{ user.jobTitle }}</p>', { users: sneaky });
    assert.equal(out.images.length, 0);
    assert.equal(out.html, '<p>&lt;img src=&#34;cid:logo.png&#34;&gt;</p>');
  });

  void it('renders partials from the configuration templates only', async () => {
    const dir = await makeConfigDir({
      templates: {
        'basic.html': '{% render "part", user: user %}!',
        'part.html': '<i>{{ user.givenName }}</i>',
      },
    });
    const resolution = await (await loadContent(dir)).resolve(facts('ada@fabrikam.com', []));
    assert.equal(resolution.action === 'sign' && resolution.content.html, '<i>Ada</i>!');
  });
});
