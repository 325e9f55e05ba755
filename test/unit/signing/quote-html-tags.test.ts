/**
 * Quote detection does work proportional to the body, whatever the body: random and hostile
 * inputs at 1×, 4× and 16× their size. The HTML scanner counts the characters it visits
 * (scannerWork), so the assertion is on counted steps; the whole detector (tag scanner plus the
 * text patterns) is also compared by CPU time ratios across sizes, never against a clock.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { findHtmlQuote, findTextQuote } from '../../../src/signing/placement.js';
import { envelopeFromHeaders } from '../../../src/signing/message-facts.js';
import { retargetMetaCharset } from '../../../src/signing/part-codec.js';
import {
  TagNames,
  collapseSpaces,
  htmlTagPass,
  htmlTags,
  scannerWork,
} from '../../../src/signing/quote-html-tags.js';
import { HOSTILE, ordinaryReply } from '../../helpers/hostile-bodies.js';

function detect(body: string): void {
  findHtmlQuote(body);
  findTextQuote(body);
}

/** Scanner steps per character of `body` for one HTML and one text detection. */
function stepsPerChar(body: string): number {
  const before = scannerWork();
  detect(body);
  return (scannerWork() - before) / body.length;
}

/** CPU microseconds for detecting `body`, the least of a few runs (the least is the least noisy). */
function cpuMicros(body: string): number {
  let least = Infinity;
  for (let run = 0; run < 3; run++) {
    const start = process.cpuUsage();
    detect(body);
    const used = process.cpuUsage(start);
    least = Math.min(least, used.user + used.system);
  }
  return Math.max(least, 1);
}

/**
 * The HTML detection makes a fixed number of passes over the body; 24 steps per character is
 * far above what it needs and far below what a quadratic scan takes at these sizes.
 */
const MAX_STEPS_PER_CHAR = 24;
/** 16× the input: linear work is about 16× the CPU, quadratic 256×. */
const MAX_CPU_RATIO_16X = 64;

/** Scanner steps per character of `body` for the HTML detection alone. */
function htmlStepsPerChar(body: string): number {
  const before = scannerWork();
  findHtmlQuote(body);
  return (scannerWork() - before) / body.length;
}

/**
 * The HTML detection reads the markup in one tag pass; text nodes, the text-marker lead and the
 * attribution look-backs are read at most once more each. 4 steps per character is that, with
 * room; two or more whole passes more would show.
 */
const MAX_HTML_STEPS_PER_CHAR = 4;

describe('HTML quote detection reads each part once', () => {
  for (const [name, build] of Object.entries({ 'ordinary reply': ordinaryReply, ...HOSTILE })) {
    it(`${name}: steps per character stay under a small constant at 1 KB, 64 KB and 1 MB`, () => {
      const steps = [1_000, 64_000, 1_000_000].map((size) => htmlStepsPerChar(build(size)));
      for (const value of steps)
        assert.ok(value <= MAX_HTML_STEPS_PER_CHAR, `${name}: ${steps.join(', ')} steps per char`);
      // Linear work is flat per character across sizes; a pass per tag or line would grow.
      const [small = 0, , large = 0] = steps;
      assert.ok(large <= small + 1, `${name}: ${steps.join(', ')} steps per char`);
    });
  }

  it('random markup and quote syntax: the HTML detection stays under the same constant', () => {
    const piece = fc.constantFrom(
      '<div class="gmail_quote">',
      '<blockquote type="cite">',
      '</blockquote>',
      '<div>',
      '</div>',
      '<br>',
      '<body>',
      '</body>',
      'On Mon, Bob &lt;bob@example.com&gt; wrote:',
      'From: Bob',
      'Sent: Monday',
      '-----Original Message-----',
      '-- ',
      'answer',
      '<',
      '"',
      '&nbsp;',
    );
    fc.assert(
      fc.property(
        fc.array(piece, { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 30 }),
        (pieces, times) => {
          // At least 4 KB: a part of a few dozen characters pays the pass's fixed look-backs on
          // almost nothing (98 characters of two attributions around a <div> took 4.4 steps per
          // character, 784 took 4.1, 6 KB 2.7), which says nothing about growth.
          const unit = pieces.join('');
          const body = unit.repeat(Math.max(times, Math.ceil(4096 / unit.length)));
          assert.ok(htmlStepsPerChar(body) <= MAX_HTML_STEPS_PER_CHAR);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('quote detection does linear work', () => {
  for (const [name, build] of Object.entries(HOSTILE)) {
    it(`${name}: counted scanner steps stay proportional at 1×, 4×, 16×`, () => {
      for (const size of [4_000, 16_000, 64_000]) {
        const steps = stepsPerChar(build(size));
        assert.ok(steps <= MAX_STEPS_PER_CHAR, `${name} at ${size}: ${steps.toFixed(1)} steps per char`);
      }
    });
    it(`${name}: CPU grows with the size, not its square`, () => {
      const small = cpuMicros(build(16_000));
      const large = cpuMicros(build(256_000));
      assert.ok(large / small <= MAX_CPU_RATIO_16X, `${name}: 16× input cost ${(large / small).toFixed(1)}×`);
    });
  }

  it('random markup, text and quote syntax: counted steps stay proportional', () => {
    const piece = fc.constantFrom(
      '<',
      '>',
      '<div class=',
      '"',
      "'",
      ' ',
      '\n',
      ':',
      '--',
      '__',
      '&',
      '#',
      ';',
      '<blockquote>',
      '</blockquote>',
      '<!--',
      '-->',
      '<style>',
      'From:',
      'gmail_quote',
      'On Mon, Bob wrote:',
      '> ',
      'x',
    );
    fc.assert(
      fc.property(
        fc.array(piece, { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 40 }),
        (pieces, times) => {
          const body = pieces.join('').repeat(times);
          assert.ok(stepsPerChar(body) <= MAX_STEPS_PER_CHAR);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('retargetMetaCharset: rewrites both meta forms, and hostile metas cost counted linear steps', () => {
    const html =
      '<head><meta charset="iso-8859-1"><meta http-equiv="Content-Type" content="text/html; charset=windows-1252"></head>';
    assert.equal(
      retargetMetaCharset(html, 'utf-8'),
      '<head><meta charset="utf-8"><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>',
    );
    for (const hostile of [
      '<meta charset= '.repeat(5_000),
      '<meta '.repeat(10_000),
      `<meta content="${'charset'.repeat(9_000)}">`,
    ]) {
      const before = scannerWork();
      retargetMetaCharset(hostile, 'utf-8');
      assert.ok((scannerWork() - before) / hostile.length <= 2);
    }
  });

  it('addresses are read from headers by splitting, with the results the old patterns gave', () => {
    const raw = Buffer.from(
      'From: "Bob, Jr." <Bob@Example.com>\r\nTo: a@x.org, "C" <c@y.org>; @bad, d@\r\nCc: (e@z.org)\r\n\r\nbody',
    );
    assert.deepEqual(envelopeFromHeaders(raw), {
      sender: 'bob@example.com',
      recipients: ['a@x.org', 'c@y.org', 'e@z.org'],
    });
    assert.deepEqual(envelopeFromHeaders(Buffer.from('From: <<a <b@c.d>\r\n\r\n')).sender, 'b@c.d');
  });

  it('the scanner keeps the first 64 attributes of a tag and still finds where it ends', () => {
    const names = Array.from({ length: 70 }, (_, i) => `a${i}="v${i}"`);
    const html = `<div ${names.join(' ')} title='x>y'>text</div>`;
    const [tag, end] = [...htmlTags(html)];
    assert.equal(tag?.attributes.size, 64);
    assert.equal(tag?.attributes.get('a63'), 'v63');
    assert.equal(tag?.attributes.has('title'), false);
    assert.equal(html.slice(tag?.end, end?.start), 'text');
  });

  it('the scanner reads every tag of ordinary markup once, with the offsets it stands at', () => {
    const html = '<p class="a">x</p><!-- c --><style>b{}</style><div id=\'q\' title="a>b">y</div>';
    const tags = [...htmlTags(html)].map((tag) => [tag.name, tag.closing, html.slice(tag.start, tag.end)]);
    assert.deepEqual(tags, [
      ['p', false, '<p class="a">'],
      ['p', true, '</p>'],
      ['!', false, '<!-- c -->'],
      ['style', false, '<style>'],
      ['#raw', false, 'b{}'],
      ['style', true, '</style>'],
      ['div', false, '<div id=\'q\' title="a>b">'],
      ['div', true, '</div>'],
    ]);
  });
});

describe('collapseSpaces', () => {
  // Short nodes go through a pattern, long ones through a buffer (Latin-1 or UTF-16): both must
  // read white space as `\s` does, keep lone surrogates and answer as the replace they stand for.
  const unit = fc.constantFrom(
    ' ',
    '  ',
    '\n',
    '\r\n',
    '\t',
    '\u00a0',
    '\u3000',
    '\ufeff',
    'x',
    'é',
    '€',
    '\ud800',
    '\udfff',
    '😀',
    '\u0085',
  );
  for (const [name, least] of [
    ['short', 0],
    ['long', 5_000],
  ] as const) {
    it(`${name} text: each run of white space becomes one space`, () => {
      fc.assert(
        fc.property(fc.array(unit, { minLength: 1, maxLength: 60 }), (units) => {
          const base = units.join('');
          const text = base.repeat(Math.max(1, Math.ceil(least / base.length)));
          assert.equal(collapseSpaces(text), text.replace(/\s+/g, ' '));
        }),
        { numRuns: 300 },
      );
    });
  }
});

describe('htmlTagPass', () => {
  // The pass a reader of some tags uses (collectEvidence): it must hand over every tag htmlTags
  // reads except bare tags right after another tag whose names the reader does not act on, and
  // the same text between the tags it hands over.
  const piece = fc.constantFrom(
    '<a>',
    '</a>',
    '<P>',
    '</p>',
    '<br>',
    '<b>',
    '<i>',
    '<h1>',
    '<div>',
    '</DIV>',
    '<blockquote>',
    '</blockquote>',
    '<body>',
    '<style>',
    '</style>',
    '<SCRIPT>',
    '<a href=x>',
    '<a/>',
    '<a >',
    '<!-- c -->',
    'text',
    ' ',
    '<',
    '<<',
    '>',
  );
  // Long runs of one or two pieces too: the pass matches copies of a repeated pair at once.
  const run = fc.oneof(
    piece,
    fc.tuple(piece, piece, fc.integer({ min: 1, max: 80 })).map(([a, b, copies]) => (a + b).repeat(copies)),
  );
  const acted = new TagNames(['body', 'blockquote', 'p']);
  const bare = /^<\/?[a-z][a-z0-9]*>$/i;

  it('hands over the tags htmlTags reads but the bare ones it steps over, and the same text', () => {
    let stepped = 0;
    fc.assert(
      fc.property(fc.array(run, { maxLength: 20 }), (runs) => {
        const html = runs.join('');
        const all = [...htmlTags(html)];
        const pass = htmlTagPass(html, () => acted);
        const got: string[] = [];
        const texts: string[] = [];
        let at = 0;
        for (const tag of pass) {
          got.push(`${tag.start}:${tag.end}:${tag.name}`);
          texts.push(html.slice(Math.max(at, pass.skippedTo), tag.start));
          at = tag.end;
        }
        texts.push(html.slice(Math.max(at, pass.skippedTo)));
        const want: string[] = [];
        const wantTexts: string[] = [];
        let end = 0;
        let textFrom = 0;
        for (const tag of all) {
          const source = html.slice(tag.start, tag.end);
          const skip =
            tag.start === end &&
            bare.test(source) &&
            !['body', 'blockquote', 'p', 'style', 'script', '#raw'].includes(tag.name);
          end = tag.end;
          if (skip) {
            stepped++;
            textFrom = tag.end;
            continue;
          }
          want.push(`${tag.start}:${tag.end}:${tag.name}`);
          wantTexts.push(html.slice(textFrom, tag.start));
          textFrom = tag.end;
        }
        wantTexts.push(html.slice(textFrom));
        assert.deepEqual(got, want);
        assert.deepEqual(texts, wantTexts);
      }),
      { numRuns: 500 },
    );
    // The pass did step over tags: the property is not only about passes that step over none.
    assert.ok(stepped > 0);
  });
});
