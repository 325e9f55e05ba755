import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '../../src/config/index.js';
import { ImageLibrary } from '../../src/content/images.js';
import { templateLimits } from '../../src/content/liquid.js';
import { compileTemplates } from '../../src/content/templates.js';

/**
 * Issue 19, finding 4: Liquid ran with no recursion, time or output limit. A template including
 * itself blocked the functions host for 60 s and then exhausted its heap; a loop of 9 million
 * iterations blocked it for ~5 s. The engine that signs mail uses these same TemplateSets.
 */
function templates(files: Record<string, string>) {
  return compileTemplates(new Map(Object.entries(files)), (n) => n, new ImageLibrary(new Map()));
}

async function refusal(render: Promise<unknown>): Promise<ConfigError> {
  const err = await render.then(
    () => assert.fail('the render should have been refused'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ConfigError, `a ConfigError, not ${String(err)}`);
  return err;
}

const user = { user: { displayName: 'Alice' } };

describe('templates render within bounds', () => {
  test('a template that includes itself fails naming the file and the include', async () => {
    const set = templates({
      'templates/corporate.html': "<p>{{ user.displayName }}</p>{% include 'corporate' %}",
    });
    const err = await refusal(set.render('corporate', user));
    assert.equal(err.file, 'templates/corporate.html');
    assert.match(err.message, new RegExp(`include %\\} nests deeper than ${templateLimits.includeDepth}`));
  });

  test('two templates rendering each other fail the same way', async () => {
    const set = templates({
      'templates/a.html': "A{% render 'b' %}",
      'templates/b.html': "B{% render 'a' %}",
    });
    const err = await refusal(set.render('a', user));
    assert.match(err.message, /render %\} nests deeper than/);
  });

  test('nesting up to the limit still renders', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < templateLimits.includeDepth; i++)
      files[`templates/t${i}.html`] = `${i}{% include 't${i + 1}' %}`;
    files[`templates/t${templateLimits.includeDepth}.html`] = 'end';
    const { html } = await templates(files).render('t0', user);
    assert.equal(html, `${Array.from({ length: templateLimits.includeDepth }, (_, i) => i).join('')}end`);
  });

  test('a 9-million-iteration loop is stopped by a limit, not run to the end', async () => {
    const set = templates({
      'templates/corporate.html': '{% for i in (1..9000000) %}{% assign x = i %}{% endfor %}{{ x }}',
    });
    const err = await refusal(set.render('corporate', user));
    assert.equal(err.file, 'templates/corporate.html');
    assert.match(err.message, /limit exceeded/);
  });

  test('nested loops over directory data, allocating nothing, are stopped by the time limit', async () => {
    const items = Array.from({ length: 100_000 }, (_, i) => i);
    const set = templates({
      'templates/corporate.html':
        '{% for a in user.items %}{% for b in user.items %}{% assign c = b %}{% endfor %}{% endfor %}',
    });
    const err = await refusal(set.render('corporate', { user: { items } }));
    assert.match(err.message, /template render limit exceeded/);
  });

  test('an output larger than the limit is refused', async () => {
    const chunk = 'x'.repeat(1000);
    const iterations = Math.ceil(templateLimits.outputChars / chunk.length) + 1;
    const set = templates({
      'templates/corporate.html': `{% for i in (1..${iterations}) %}${chunk}{% endfor %}`,
    });
    const err = await refusal(set.render('corporate', user));
    assert.match(err.message, new RegExp(`output is larger than ${templateLimits.outputChars} characters`));
  });

  test('an ordinary signature is unaffected', async () => {
    const set = templates({
      'templates/corporate.html':
        "{% lines %}\n<b>{{ user.displayName }}</b>\n{{ user.mobilePhone }}\n{% endlines %}{% render 'footer' %}",
      'templates/footer.html': '<p>Contoso</p>',
    });
    const { html, text } = await set.render('corporate', user);
    assert.equal(html, '<b>Alice</b><p>Contoso</p>');
    assert.match(text, /Alice/);
  });
});
