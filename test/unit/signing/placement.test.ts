/**
 * The quote-boundary model, one synthetic example per shape (issue 18 classes A–E): where the
 * newest text ends, in text and, where the shape exists there, in HTML.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  HTML_MARKER_CLASS,
  findHtmlQuote,
  findTextQuote,
  htmlHasOurSignature,
  insertTextSignature,
  textHasOurSignature,
} from '../../../src/signing/placement.js';

/** The line the quote starts at (its first characters), or undefined for a new message. */
function textQuoteLine(text: string): string | undefined {
  const quote = findTextQuote(text);
  if (quote.start < 0) return undefined;
  return text.slice(quote.start).split('\n')[0];
}

/** The visible text right after where the HTML quote starts. */
function htmlQuoteText(html: string): string | undefined {
  const quote = findHtmlQuote(html);
  if (quote.start < 0) return undefined;
  return html
    .slice(quote.start)
    .replace(/<[^<>]*>/g, '')
    .trimStart()
    .slice(0, 30);
}

describe('quote-boundary model: attribution lines', () => {
  it('an attribution wrapped after its date, the name on the next line (B)', () => {
    const text =
      'Thanks, done.\n\nOn Tue, 22 Jun 2010 20:52:50 +0530\nBob Example <bob@example.com> wrote:\n> question\n';
    assert.equal(textQuoteLine(text), 'On Tue, 22 Jun 2010 20:52:50 +0530');
  });

  it('an attribution wrapped inside the address (B)', () => {
    const text =
      'Thanks.\n\nOn Mon, 3 Jun 2024 at 10:00, GitHub Notifications <notifications@\nexample.com> wrote:\n> hi\n';
    assert.equal(textQuoteLine(text), 'On Mon, 3 Jun 2024 at 10:00, GitHub Notifications <notifications@');
  });

  it('an attribution wrapped over three lines starts at its lead word (B)', () => {
    const text =
      'Sure.\n\nOn Tue, 22 Jun 2010\n20:52:50 +0530, Bob Example\n<bob@example.com> wrote:\n> question\n';
    assert.equal(textQuoteLine(text), 'On Tue, 22 Jun 2010');
  });

  it('a greeting ending in a comma above an attribution is not part of it', () => {
    const text = 'Hi Bob,\nOn Tue, 22 Jun 2010 20:52, Bob <bob@example.com> wrote:\n> question\n';
    assert.equal(textQuoteLine(text), 'On Tue, 22 Jun 2010 20:52, Bob <bob@example.com> wrote:');
  });

  it('a sentence opening with a lead word of another language does not swallow the attribution', () => {
    const text = 'Il est signalé\nLe mar. 30 avr. 2024, 11:53, Service a écrit :\n\n    Bonjour\n';
    assert.equal(textQuoteLine(text), 'Le mar. 30 avr. 2024, 11:53, Service a écrit :');
  });

  it('"Bob writes:" (Gnus and other Unix clients) (C)', () => {
    const text = 'Agreed.\n\nBob Example writes:\n> the plan\n';
    assert.equal(textQuoteLine(text), 'Bob Example writes:');
  });

  it('an address alone before an unprefixed quote (D)', () => {
    const text = 'Yes please.\n\nbob@example.com wrote:\n\nCan you send it?\n';
    assert.equal(textQuoteLine(text), 'bob@example.com wrote:');
  });

  it('an attribution whose client dropped the colon, above an unprefixed quote', () => {
    const text = 'Ok.\n\nOn Wed, 14 Nov 2018 08:14:43 -0200 John Doe <john@doe.com> wrote\n\nWhen?\n';
    assert.equal(textQuoteLine(text), 'On Wed, 14 Nov 2018 08:14:43 -0200 John Doe <john@doe.com> wrote');
  });

  it("Zoho's attribution between dashes (D)", () => {
    const text =
      'See below.\n\n---- On Wed, 24 Feb 2021 14:02:50 +0530 bob@example.com wrote ----\n\nOld text\n';
    assert.equal(textQuoteLine(text), '---- On Wed, 24 Feb 2021 14:02:50 +0530 bob@example.com wrote ----');
  });
});

describe('quote-boundary model: header blocks', () => {
  it('French labels in bold with a space before the colon (D)', () => {
    const text =
      'Merci.\n\n** De : Support support@example.fr **\n** Envoye : lundi 24 octobre 2022 **\n** A : Bob **\n';
    assert.equal(textQuoteLine(text), '** De : Support support@example.fr **');
  });

  it("an indented header block with new Outlook's 'Envoyé le :' (Yahoo plain text)", () => {
    const text =
      'merci\n\n      De : Someone <someone@example.fr>\n À : Bob\n Envoyé le : Mercredi 30 novembre 2016\n Objet : Re: x\n';
    assert.equal(textQuoteLine(text), '      De : Someone <someone@example.fr>');
  });

  it('*From:* / *Sent:* bold labels (Outlook mobile plain text)', () => {
    const text = 'Fine.\n\n*From:* Mary\n*Sent:* Tuesday\n*To:* John\n';
    assert.equal(textQuoteLine(text), '*From:* Mary');
  });
});

describe('quote-boundary model: date-first and verbless attributions (C)', () => {
  it("Gmail's date-first form above an unprefixed quote", () => {
    const text = 'Ok.\n\n2024-10-24 15:36 GMT+02:00 Bob Example <bob@example.com>:\n\nOld text\n';
    assert.equal(textQuoteLine(text), '2024-10-24 15:36 GMT+02:00 Bob Example <bob@example.com>:');
  });

  it("Gmail's Russian form without a verb", () => {
    const text = 'Да.\n\nср, 30 апр. 2025 г. в 15:19, Иван <ivan@example.com>:\n\nпривет\n';
    assert.equal(textQuoteLine(text), 'ср, 30 апр. 2025 г. в 15:19, Иван <ivan@example.com>:');
  });

  it('an attribution wrapped inside its address, the `>:` on the next line (B)', () => {
    const text = 'Ok.\n\ntir. 18. apr. 2017 kl. 13:09 skrev Test user <test@example.com\n>:\n\n> Thanks.\n';
    assert.equal(textQuoteLine(text), 'tir. 18. apr. 2017 kl. 13:09 skrev Test user <test@example.com');
  });
});

describe('quote-boundary model: separators belong to the block below (E)', () => {
  it("Outlook mobile's dashes above *From:*", () => {
    const text =
      'Fine.\n\nGet Outlook for Android\n\n------------------------------\n*From:* Mary\n*Sent:* Tuesday\n';
    assert.equal(textQuoteLine(text), '------------------------------');
  });

  it('a translated Original Message line with the header block run onto it', () => {
    const text =
      'Hallo\n-------- Ursprüngliche Nachricht --------Von: Service Datum: 07.08.24 An: x\n\nalt\n';
    assert.equal(
      textQuoteLine(text),
      '-------- Ursprüngliche Nachricht --------Von: Service Datum: 07.08.24 An: x',
    );
  });

  it('a row of = signs and the dated label line that introduces the header block', () => {
    const text =
      'Texte.\n\n========\n\nMessage du : 12/12/2016 13:20\n========\nDe : Bob\nA : x\nSujet : y\n';
    assert.equal(textQuoteLine(text), 'Message du : 12/12/2016 13:20');
  });

  it('a rule, then a dated label line, then the header block', () => {
    const text = 'Texte.\n\n====\n\nMessage du : 12/12/2016 13:20\nDe : Bob\nA : x\nSujet : y\n';
    assert.equal(textQuoteLine(text), '====');
  });

  it('an attribution without its colon introduces the header block below it', () => {
    const text =
      'Mit freundlichen Grüßen\nAm 20.06.24 um 16:20 schrieb Service GmbH\nVon: Service\nDatum: 20. Juni 2024\nAn: x\n';
    assert.equal(textQuoteLine(text), 'Am 20.06.24 um 16:20 schrieb Service GmbH');
  });

  it('the same dashes in the HTML twin', () => {
    const html =
      '<html><body><div>Fine.</div><div>Get Outlook for Android</div><hr style="display:inline-block">' +
      '<div>------------------------------</div><div><b>From:</b> Mary<br><b>Sent:</b> Tuesday<br></div></body></html>';
    assert.equal(htmlQuoteText(html), '------------------------------');
  });
});

describe('quote-boundary model: the sender writes below the quote (A)', () => {
  const sign = (text: string) => insertTextSignature(text, 'SIG', findTextQuote(text), 'underReply', '\n');

  it('interleaved answers: the signature goes under the last answer', () => {
    const text =
      'Hi,\n\nOn Mon, 3 Jun 2024, Bob <bob@example.com> wrote:\n> question 1\n\nanswer 1\n\n> question 2\n\nanswer 2\n';
    assert.match(sign(text), /answer 2\n\nSIG\n$/);
  });

  it('interleaved answers above a trailing quote: under the last answer, above the rest', () => {
    const text = 'Hi,\nOn Mon, Bob wrote:\n> question 1\n\nanswer 1\n\n> -- \n> Bob\n';
    assert.match(sign(text), /answer 1\n\nSIG\n\n\n> -- \n> Bob\n$/);
  });

  it('a quoted line that lost its prefix in wrapping is not an answer', () => {
    const text = 'Yes.\n\nOn Mon, Bob wrote:\n> a long line that\nwrapped here\n> and more\n';
    assert.match(sign(text), /^Yes\.\n\nSIG\n\nOn Mon/);
  });

  it('a bottom-posted reply: the signature goes under the new text', () => {
    const text = 'On Mon, Bob wrote:\n> question\n\nanswer\n';
    assert.match(sign(text), /answer\n\nSIG\n$/);
  });

  it("interleaved answers closed by the sender's own -- signature: under that signature", () => {
    const text =
      'On Mon, Bob <bob@example.com> wrote:\n> question 1\n\nanswer 1\n\n> question 2\n>\n' +
      '> > --\n> > Alice, my signature\n\n--\nAlice, my signature\n';
    assert.match(sign(text), /--\nAlice, my signature\n\nSIG\n$/);
  });

  it('a top-posted reply with a -- signature under the quote is still signed above the quote', () => {
    const text = 'Yes.\n\nOn Mon, Bob wrote:\n> question\n\n--\nAlice\n';
    assert.match(sign(text), /^Yes\.\n\nSIG\n\nOn Mon/);
  });

  it('a list footer repeated under interleaved answers: under the last answer, above the quote', () => {
    const footer = 'team mailing list\nteam@lists.example.com\nhttp://lists.example.com/listinfo/team\n';
    const text =
      'Hi,\nOn Mon, Bob wrote:\n> question 1\n\nanswer 1\n\n> question 2\n\nanswer 2\n\n' +
      `> -Bob\n> __\n${footer.replace(/^/gm, '> ')}\n\n__\n${footer}`;
    assert.match(sign(text), /answer 2\n\nSIG\n\n\n> -Bob\n/);
  });

  it("new text under interleaved answers that the quote does not repeat stays the sender's", () => {
    const text =
      'Hi,\nOn Mon, Bob wrote:\n> question 1\n\nanswer 1\n\n> question 2\n\nanswer 2\n\n' +
      '> thanks\n\nthanks to you, see you on Monday\n';
    assert.match(sign(text), /see you on Monday\n\nSIG\n$/);
  });
});

describe('quote-boundary model: a reply written around the quote', () => {
  const sign = (text: string) => insertTextSignature(text, 'SIG', findTextQuote(text), 'underReply', '\n');
  const quote = 'On 12.06.2016 Bob wrote:\n\n> Dear Alice,\n\n> please send the issues.\n\n> Bob\n\n';

  it('an opening above the quote and the message closed below it: under the closing', () => {
    const text = `Dear Bob,\n\nthe issues were sent on Monday.\n\n${quote}Now he writes they never came.\n\nKind regards\n\nAlice\n`;
    assert.match(sign(text), /Kind regards\n\nAlice\n\nSIG\n$/);
  });

  it('a top-posted reply that closes above the quote keeps the signature above the quote', () => {
    const text = `Sent on Monday.\n\nKind regards\nAlice\n\n${quote}More text below.\n\nBest wishes\nAlice\n`;
    assert.match(sign(text), /^Sent on Monday\.\n\nKind regards\nAlice\n\nSIG\n\nOn 12/);
  });

  it('text below the quote that does not close (a footer) is not the end of the message', () => {
    const text = `Sent on Monday.\n\n${quote}This list is archived at\nhttp://lists.example.com/archive\nand more\n`;
    assert.match(sign(text), /^Sent on Monday\.\n\nSIG\n\nOn 12/);
  });

  it('a closing glued under the last quoted line is the quoted message, not new text', () => {
    const text = `Sent on Monday.\n\nOn 12.06.2016 Bob wrote:\n> please send them\nsome more words\nKind regards\nBob\n`;
    assert.match(sign(text), /^Sent on Monday\.\n\nSIG\n\nOn 12/);
  });
});

describe('quote-boundary model: a rule of underscores', () => {
  it("the sender's contact lines under a lone rule: a new message, signed at the end", () => {
    const text =
      'Hi Mat,\n\nA new message.\n\nPerrin\n\n\n______________________________\nperrin@example.com\n+44 20 7946 0958\n';
    assert.equal(textQuoteLine(text), undefined);
  });

  it('contact lines with labels and a web address count too', () => {
    const text = 'Hello.\n\n____________________________\nTel.: +49 (0)30 1234567\nwww.example.com\n';
    assert.equal(textQuoteLine(text), undefined);
  });

  it('a lone rule above text of the old message still opens a quote (iPhone, header stripped)', () => {
    const text = 'Sure.\n\n______________________________________\n\nLet us meet on Monday.\n';
    assert.equal(textQuoteLine(text), '______________________________________');
  });

  it('a rule above a header block with an address still opens the quote', () => {
    const text = 'Sure.\n\n______________________________\nFrom: bob@example.com\nSent: Monday\n\nHello\n';
    assert.equal(textQuoteLine(text), '______________________________');
  });

  it('a lone rule above an address and a list name is a list footer, not contact lines', () => {
    const text = 'Hello.\n\n______________________________\nteam mailing list\nteam@lists.example.com\n';
    assert.equal(textQuoteLine(text), '______________________________');
  });
});

describe('quote-boundary model: HTML containers', () => {
  it("current Yahoo's ydp-prefixed quote container (D)", () => {
    const html =
      '<html><body><div>Thanks!</div><div id="ydp3f0ayahoo_quoted_1234" class="ydp3f0ayahoo_quoted">' +
      '<div>On Monday, Bob wrote:</div><div>old</div></div></body></html>';
    assert.equal(htmlQuoteText(html), 'On Monday, Bob wrote:old');
  });
});

describe('already signed: our class in the new part of an HTML body', () => {
  const whole = { start: -1, tail: -1 };

  it("finds the class as a word, with Exchange's x_ prefix, and not inside a longer name", () => {
    assert.equal(htmlHasOurSignature(`<div class="${HTML_MARKER_CLASS}">`, whole), true);
    assert.equal(htmlHasOurSignature(`<div class="x_${HTML_MARKER_CLASS} other">`, whole), true);
    assert.equal(htmlHasOurSignature(`<div class="my${HTML_MARKER_CLASS}">`, whole), false);
    assert.equal(htmlHasOurSignature(`<div class="${HTML_MARKER_CLASS}2">`, whole), false);
    assert.equal(htmlHasOurSignature(`<div class="ax_${HTML_MARKER_CLASS}">`, whole), false);
  });

  it('a signature in the quoted thread does not count', () => {
    const html = `<p>Thanks</p><blockquote type="cite"><div class="${HTML_MARKER_CLASS}">Bob</div></blockquote>`;
    assert.equal(htmlHasOurSignature(html, findHtmlQuote(html)), false);
  });

  it('answers as the pattern \\b(?:x_)?<class>\\b does, on any text (searched natively, issue 19)', () => {
    const pattern = new RegExp(`\\b(?:x_)?${HTML_MARKER_CLASS}\\b`);
    const piece = fc.constantFrom(
      HTML_MARKER_CLASS,
      'x_',
      'x',
      '_',
      'a',
      '1',
      '-',
      ' ',
      '"',
      '<div class=',
      '\u00e9',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (pieces) => {
        const text = pieces.join('');
        assert.equal(htmlHasOurSignature(text, whole), pattern.test(text), text);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('already signed: our text in the new part of a text body', () => {
  const whole = { start: -1, tail: -1 };
  const normalised = (value: string) => value.replace(/\s+/g, ' ').trim();

  it('finds the signature whatever its white space, not one missing a word', () => {
    const signature = '-- \nAlice Martin\nHead of Sales';
    assert.equal(
      textHasOurSignature('Hi\n\n--  \r\nAlice   Martin\r\n Head of Sales\r\n', whole, signature),
      true,
    );
    assert.equal(textHasOurSignature('Hi\n\n-- \nAlice Martin\nHead of\n', whole, signature), false);
  });

  it('answers as normalising both and searching does, on any text', () => {
    const piece = fc.constantFrom(
      'Alice',
      'Ali',
      'ce',
      'Martin',
      '--',
      '-',
      ' ',
      '\n',
      '\r\n',
      '\t',
      '\u00a0',
      'x',
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 12 }),
        fc.array(piece, { minLength: 1, maxLength: 5 }),
        (text, signature) => {
          const [body, wanted] = [text.join(''), signature.join('')];
          const expected = !!normalised(wanted) && normalised(body).includes(normalised(wanted));
          assert.equal(textHasOurSignature(body, whole, wanted), expected);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
