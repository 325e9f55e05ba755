/**
 * Reply shapes found by the held-out probe (test/placement/probe.ts, run on public fixtures of
 * reply parsers and mail clients outside ../shared/replies), one hand-written minimal example per
 * shape: the text is ours, only the shape is the clients'. Each asserts where the quoted thread
 * starts, in text and, where the client writes the shape in HTML, in HTML too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findHtmlQuote, findTextQuote } from '../../../src/signing/placement.js';

const NEW_TEXT = 'Thanks, noon works.\n\nAlice\n\n';

/** The first line of the quoted thread found in `NEW_TEXT + quote`, or undefined. */
function textQuoteLine(quote: string): string | undefined {
  const text = NEW_TEXT + quote;
  const found = findTextQuote(text);
  if (found.start < 0) return undefined;
  return text.slice(found.start).split('\n')[0];
}

/** The visible text where the HTML quote starts, or undefined. */
function htmlQuoteText(html: string): string | undefined {
  const found = findHtmlQuote(html);
  if (found.start < 0) return undefined;
  return html
    .slice(found.start)
    .replace(/<[^<>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .trimStart()
    .slice(0, 30);
}

const page = (body: string) =>
  `<html><body><div>Thanks, noon works.</div><div>Alice</div>${body}</body></html>`;

void describe('held-out shapes: separators titled in any language', () => {
  void it("Android's German separator above the header block stays with it", () => {
    const quote =
      '-------- Originalnachricht --------\nVon: Bob <bob@example.org>\nDatum: 03.06.24 10:00 (GMT+01:00)\n' +
      'An: Alice\nBetreff: Lunch\n\nNoon?\n';
    assert.equal(textQuoteLine(quote), '-------- Originalnachricht --------');
  });

  void it("Zimbra's `----- Mail original -----` above a header whose To comes before Sent", () => {
    const quote =
      '----- Mail original -----\nDe: "Bob" <bob@example.org>\nÀ: "Alice"\nEnvoyé: Lundi 3 Juin 2024 10:00:00\n' +
      'Objet: Lunch\n\nMidi ?\n';
    assert.equal(textQuoteLine(quote), '----- Mail original -----');
  });

  void it('a title the separator table does not know, above a Swedish header block', () => {
    const quote =
      '-------- Originalmeddelande --------\nFrån: Bob <bob@example.org>\nDatum: 2024-06-03 10:00 (GMT+01:00)\n' +
      'Till: Alice\nÄmne: Lunch\n\nLunch?\n';
    assert.equal(textQuoteLine(quote), '-------- Originalmeddelande --------');
  });

  void it('the same separator in HTML stays with its header block', () => {
    const html = page(
      '<div>-------- Originalnachricht --------</div><div>Von: Bob &lt;bob@example.org&gt;</div>' +
        '<div>Datum: 03.06.24 10:00 (GMT+01:00)</div><div>An: Alice</div><div>Betreff: Lunch</div><div>Noon?</div>',
    );
    assert.equal(htmlQuoteText(html), '-------- Originalnachricht ---');
  });

  void it("Gmail's plain text of a bold separator: `*-------- Original Message --------*`", () => {
    assert.equal(
      textQuoteLine('*-------- Original Message --------*\n\nNoon?\n'),
      '*-------- Original Message --------*',
    );
  });

  void it('a signature delimiter above a header block is not a titled separator', () => {
    const quote = '--\nFrom: Bob <bob@example.org>\nSent: Monday, June 3, 2024 10:00\nTo: Alice\n\nNoon?\n';
    assert.equal(textQuoteLine(quote), 'From: Bob <bob@example.org>');
  });
});

void describe('held-out shapes: short header labels of the new languages in new text', () => {
  void it('a form\'s "No: <number>" above "Date:" is new text, not a Latvian header block', () => {
    const text = 'The invoice:\n\nNo: 2024-117\nDate: 3 June 2024\nAmount: 500 EUR\n\nThanks\n';
    assert.equal(findTextQuote(text).start, -1);
  });

  void it('a Latvian Outlook header block naming the sender still opens the thread', () => {
    assert.equal(
      textQuoteLine(
        'No: Bob Martin <bob@example.org>\nNosūtīts: pirmdiena, 2024. gada 3. jūnijs 10:00\n\nNoon?\n',
      ),
      'No: Bob Martin <bob@example.org>',
    );
  });
});

void describe('held-out shapes: attributions without the verb after the author', () => {
  void it('Horde\'s "Quoting Name <address>:" above a quote', () => {
    assert.equal(
      textQuoteLine('Quoting Bob Example <bob@example.org>:\n\n> Noon?\n'),
      'Quoting Bob Example <bob@example.org>:',
    );
  });

  void it('Horde\'s German "Zitat von Name <address>:"', () => {
    assert.equal(
      textQuoteLine('Zitat von Bob Example <bob@example.org>:\n\n> Mittag?\n'),
      'Zitat von Bob Example <bob@example.org>:',
    );
  });

  void it('"Quoting" in a sentence of new text is prose, not an attribution', () => {
    const text = 'Quoting the contract, section 4:\nthe fee is due in May.\n';
    assert.equal(findTextQuote(text).start, -1);
  });

  void it("mutt's `* Name <address> [date time]:` right above the quote", () => {
    assert.equal(
      textQuoteLine('* Bob Example <bob@example.org> [2024-06-03 10:00]:\n> Noon?\n'),
      '* Bob Example <bob@example.org> [2024-06-03 10:00]:',
    );
  });

  void it('an address and a time ending a line of new text are not an attribution without a quote below', () => {
    const text = 'Call bob@example.org after 10:00:\nhe has the keys.\n';
    assert.equal(findTextQuote(text).start, -1);
  });

  void it('the same attributions in HTML above a plain blockquote', () => {
    assert.equal(
      htmlQuoteText(
        page('<div>Quoting Bob Example &lt;bob@example.org&gt;:</div><blockquote>Noon?</blockquote>'),
      ),
      'Quoting Bob Example <bob@examp',
    );
    assert.equal(
      htmlQuoteText(
        page('<div>* Bob &lt;bob@example.org&gt; [2024-06-03 10:00]:</div><blockquote>Noon?</blockquote>'),
      ),
      '* Bob <bob@example.org> [2024-',
    );
  });
});

void describe('held-out shapes: an attribution between dashes without a date', () => {
  void it('`---- Bob wrote ----` above an unprefixed quote', () => {
    assert.equal(textQuoteLine('---- Bob Example wrote ----\n\nNoon?\n'), '---- Bob Example wrote ----');
  });

  void it('`---- Bob wrote ----` above a `>` quote after a blank line', () => {
    assert.equal(textQuoteLine('---- Bob Example wrote ----\n\n> Noon?\n'), '---- Bob Example wrote ----');
  });

  void it('the same line in HTML above an unprefixed quote', () => {
    // The visible text runs on into the quote ("…----Noon?"), so the source is compared.
    const html = page('<div>---- Bob Example wrote ----</div><div><br></div><div>Noon?</div>');
    const found = findHtmlQuote(html);
    assert.equal(
      html.slice(found.start, html.indexOf('</div>', found.start)),
      '<div>---- Bob Example wrote ----',
    );
    assert.equal(found.tail, -1);
  });
});

void describe('held-out shapes in HTML: attributions without a marker tag, the rule above a header', () => {
  void it('an attribution inside a plain blockquote', () => {
    const html = page(
      '<blockquote><div>On 3 Jun 2024, at 10:00, Bob &lt;bob@example.org&gt; wrote:</div><div>Noon?</div></blockquote>',
    );
    assert.equal(htmlQuoteText(html), 'On 3 Jun 2024, at 10:00, Bob <');
  });

  void it('an attribution in a div above an unprefixed quote (the text twin is found)', () => {
    const attribution = 'On 3 Jun 2024, at 10:00, Bob <bob@example.org> wrote:';
    assert.equal(textQuoteLine(`${attribution}\n\nNoon?\n`), attribution);
    const html = page(
      '<div>On 3 Jun 2024, at 10:00, Bob &lt;bob@example.org&gt; wrote:</div><div>Noon?</div>',
    );
    assert.equal(htmlQuoteText(html), 'On 3 Jun 2024, at 10:00, Bob <');
  });

  void it("the <hr> that opens Outlook 2003's HTML header block goes below the signature", () => {
    const html = page(
      '<div><hr size=2 width="100%" align=center></div><p><b>From:</b> Bob [mailto:bob@example.org]<br>' +
        '<b>Sent:</b> Friday, June 27, 2014 12:06 PM<br><b>To:</b> Alice<br><b>Subject:</b> Lunch</p><p>Noon?</p>',
    );
    const found = findHtmlQuote(html);
    assert.equal(html.slice(found.start, found.start + 8), '<div><hr');
  });
});

void describe('held-out shapes in HTML: attributions written across inline tags and languages', () => {
  void it('an attribution whose address is a mailto link, above an unprefixed quote', () => {
    const html = page(
      '<div>On 3 Jun 2024, at 10:00, Bob &lt;<a href="mailto:bob@example.org">bob@example.org</a>&gt; wrote:</div><div>Noon?</div>',
    );
    assert.equal(htmlQuoteText(html), 'On 3 Jun 2024, at 10:00, Bob <');
  });

  void it('a German attribution (verb before the name) above an unprefixed quote, in text and HTML', () => {
    const attribution = 'Am 03.06.2024 um 10:00 schrieb Bob Example <bob@example.org>:';
    assert.equal(textQuoteLine(`${attribution}\n\nNoon?\n`), attribution);
    const html = page(
      '<p>Am 03.06.2024 um 10:00 schrieb Bob Example &lt;bob@example.org&gt;:</p><p>Noon?</p>',
    );
    assert.equal(htmlQuoteText(html), 'Am 03.06.2024 um 10:00 schrieb');
  });

  void it('an attribution above a cite blockquote still lets bottom-posted text follow it', () => {
    const html =
      '<html><body><div>On 3 Jun 2024, at 10:00, Bob &lt;bob@example.org&gt; wrote:</div>' +
      '<blockquote type="cite"><div>Noon?</div></blockquote><div>Noon works.</div></body></html>';
    const found = findHtmlQuote(html);
    assert.equal(found.start, html.indexOf('<div>On 3 Jun'));
    assert.equal(found.tail, html.indexOf('<div>Noon works.'));
  });
});

void describe('held-out near misses in HTML that must stay new text', () => {
  void it('an <hr> used as decoration in new text, no header block below it', () => {
    const html = page('<div>Agenda</div><div><hr></div><div>1. Lunch at noon</div><div>2. Budget</div>');
    assert.equal(findHtmlQuote(html).start, -1);
  });

  void it('an <hr> with the sender’s text between it and a header block stays above the quote', () => {
    const html = page(
      '<hr><div>Notes from today.</div><p><b>From:</b> Bob<br><b>Sent:</b> Friday, June 27, 2014 12:06 PM<br><b>Subject:</b> Lunch</p><p>Noon?</p>',
    );
    assert.equal(html.slice(findHtmlQuote(html).start).slice(0, 9), '<p><b>Fro');
  });

  void it('a blockquote that only quotes a poem, with no attribution', () => {
    const html = page(
      '<blockquote><div>Two roads diverged in a yellow wood,</div><div>And sorry I could not travel both</div></blockquote><div>Lovely, isn’t it?</div>',
    );
    assert.equal(findHtmlQuote(html).start, -1);
  });

  void it('a blockquote opening with an undated "As Frost wrote:" is a citation, not a quote', () => {
    const html = page(
      '<blockquote><div>As Frost wrote:</div><div>Two roads diverged in a yellow wood,</div></blockquote>',
    );
    assert.equal(findHtmlQuote(html).start, -1);
  });

  void it('an undated "Bob wrote:" ending a line of new text, in text and HTML', () => {
    assert.equal(findTextQuote('As Bob wrote:\nwe ship on Friday.\n').start, -1);
    assert.equal(findHtmlQuote(page('<div>As Bob wrote:</div><div>we ship on Friday.</div>')).start, -1);
  });

  void it('a line of dashes and a dash-framed title without a verb in new text', () => {
    const html = page('<div>---- Agenda ----</div><div>Lunch at noon</div><div>----------</div>');
    assert.equal(findHtmlQuote(html).start, -1);
  });
});

void describe('held-out shapes: attributions wrapped past three lines', () => {
  void it('an attribution over four lines whose address breaks before the @', () => {
    const quote =
      'On Mon, 3 Jun 2024 at 10:00, Bob\n Example <\nbob.example.long.local.part\n@example.org>wrote:\n\n> Noon?\n';
    assert.equal(textQuoteLine(quote), 'On Mon, 3 Jun 2024 at 10:00, Bob');
  });

  void it('an attribution broken by a blank line whose address closes on a `> wrote:` line', () => {
    const quote =
      'On Mon, 3 Jun 2024 at 10:00 Bob Example\n\n<\nmailto:Bob Example <bob@example.org>\n> wrote:\nNoon?\n';
    assert.equal(textQuoteLine(quote), 'On Mon, 3 Jun 2024 at 10:00 Bob Example');
  });

  void it('a quoted `> wrote:` line under new text that opens no attribution stays the quote', () => {
    const quote = 'See the note below.\n<bob@example.org>\n> wrote: the minutes are attached\n';
    assert.equal(textQuoteLine(quote), '> wrote: the minutes are attached');
  });

  void it('four lines that do not go on one from another are not one attribution', () => {
    const quote = 'Meeting on 3 Jun 2024 at 10:00.\n\nAgenda follows.\nBob Example wrote:\n\n> Noon?\n';
    assert.equal(textQuoteLine(quote), 'Bob Example wrote:');
  });
});

/** Where the sender's text below the quote starts in `text`, or undefined. */
function tailLine(text: string): string | undefined {
  const found = findTextQuote(text);
  return found.tail < 0 ? undefined : text.slice(found.tail).split('\n')[0];
}

void describe('held-out shapes: a reply wrapped around the quote, closed on one line', () => {
  const above =
    'Noon works for me.\n\nOn Mon, 3 Jun 2024 at 10:00, Bob Example wrote:\n\n> Lunch tomorrow?\n>\n> Bob\n\n';

  void it('a closing and a name on one line under the quote end the message', () => {
    assert.equal(tailLine(`${above}Cheers, Alice\n`), 'Cheers, Alice');
  });

  void it('the same under a nested quote', () => {
    const text =
      'Noon works for me.\nOn Mon, 3 Jun 2024 at 10:00, Bob Example wrote:\n\n>Sure\n>On Sun, 2 Jun 2024, Alice wrote:\n' +
      '>>\n>> Lunch?\n\nKind regards, Alice\n';
    assert.equal(tailLine(text), 'Kind regards, Alice');
  });

  void it('a sentence under the quote is not a closing', () => {
    assert.equal(tailLine(`${above}See you at the usual place.\n`), undefined);
  });

  void it('a reply that closes above the quote keeps the signature there', () => {
    const text = 'Noon works for me.\n\nCheers,\nAlice\n\n> Lunch tomorrow?\n\nThanks, Bob\n';
    assert.equal(tailLine(text), undefined);
  });
});

void describe('held-out shapes: an unprefixed quote that holds its own `>` quote', () => {
  const quoted =
    'On Mon, 3 Jun 2024 at 10:00, Bob Example <bob@example.org> wrote:\n\nNoon is too early for me.\n\n' +
    'On Sun, 2 Jun 2024 at 09:00, Carol <carol@example.org> wrote:\n\n> Lunch at noon?\n\nHow about one?\n\nCheers\nBob\n';

  void it('a body that opens with the attribution is all quote: the signature goes on top', () => {
    const found = findTextQuote(quoted);
    assert.deepEqual([found.start, found.tail], [0, -1]);
  });

  void it('under new text, the text below the inner quote is still the quoted message', () => {
    const text = `Thanks, one works.\n\n${quoted}`;
    const found = findTextQuote(text);
    assert.equal(
      text.slice(found.start).split('\n')[0],
      'On Mon, 3 Jun 2024 at 10:00, Bob Example <bob@example.org> wrote:',
    );
    assert.equal(found.tail, -1);
  });

  void it('an attribution right above its `>` quote keeps the answers below it', () => {
    const text =
      'On Sun, 2 Jun 2024 at 09:00, Carol <carol@example.org> wrote:\n\n> Lunch at noon?\n\nHow about one?\n';
    assert.equal(tailLine(text), 'How about one?');
  });
});

void describe('held-out shapes: a two-line forwarded header', () => {
  void it('From with an address in brackets and Subject right under it opens the quote', () => {
    const quote = 'From: Bob Example <bob@example.org>\nSubject: Lunch\n\nNoon?\n';
    assert.equal(textQuoteLine(quote), 'From: Bob Example <bob@example.org>');
  });

  void it('a From line without an address above a Subject line is new text', () => {
    assert.equal(textQuoteLine('From: the whole team\nSubject: to change\n\nSee you.\n'), undefined);
  });

  void it('a From line with an address but no Subject right under it is new text', () => {
    assert.equal(textQuoteLine('From: Bob <bob@example.org>\n\nSubject: Lunch is moved\n'), undefined);
  });
});
