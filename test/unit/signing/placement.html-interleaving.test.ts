/**
 * HTML replies where the sender writes below the quote (issue 18 class A): bottom-posted and
 * interleaved answers between quote blocks, in the shapes Gmail, Apple Mail and Thunderbird write,
 * with the same placement as their plain-text twins; and near-misses (Outlook's quote, text above
 * a single quote, answers inside the quoted thread, attributions between blocks) that stay
 * signed above the quote.
 */
import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { signMessage } from '../../../src/signing/index.js';
import {
  findHtmlQuote,
  findTextQuote,
  htmlInsertionPoint,
  insertTextSignature,
} from '../../../src/signing/placement.js';

/** The body with `[SIG]` where the signature block goes, tags dropped so the text reads plainly. */
function signedHtml(html: string): string {
  const at = htmlInsertionPoint(html, findHtmlQuote(html), 'underReply');
  return `${html.slice(0, at)}[SIG]${html.slice(at)}`
    .replace(/<[^<>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/\s+/g, ' ')
    .trim();
}

function signedText(text: string): string {
  return insertTextSignature(text, '[SIG]', findTextQuote(text), 'underReply', '\n')
    .replace(/\s+/g, ' ')
    .trim();
}

const GMAIL_ATTR =
  '<div dir="ltr" class="gmail_attr">On Mon, 3 Jun 2024 at 10:00, Bob &lt;bob@example.com&gt; wrote:<br></div>';
const GMAIL_BLOCK = (text: string) =>
  `<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex">${text}</blockquote>`;

describe('HTML interleaving and bottom-posting: the signature goes under the last answer', () => {
  it('Gmail: answers between quote blocks, the last one at the end', () => {
    const html =
      '<html><body><div dir="ltr">Hi Bob,</div><br><div class="gmail_quote">' +
      GMAIL_ATTR +
      GMAIL_BLOCK('<div dir="ltr">Question 1?</div>') +
      '<div>Answer 1.</div><div><br></div>' +
      GMAIL_BLOCK('<div dir="ltr">Question 2?</div>') +
      '<div>Answer 2.</div></div></body></html>';
    assert.match(signedHtml(html), /Answer 2\. \[SIG\]$/);
    const text =
      'Hi Bob,\n\nOn Mon, 3 Jun 2024 at 10:00, Bob <bob@example.com> wrote:\n> Question 1?\n\nAnswer 1.\n\n> Question 2?\n\nAnswer 2.\n';
    assert.match(signedText(text), /Answer 2\. \[SIG\]$/, 'the text twin agrees');
  });

  it('Gmail: the quote goes on below the last answer, the signature stays above it', () => {
    const html =
      '<html><body><div dir="ltr">Hi Bob,</div><div class="gmail_quote">' +
      GMAIL_ATTR +
      GMAIL_BLOCK('Question 1?') +
      '<div>Answer 1.</div>' +
      GMAIL_BLOCK('Question 2?') +
      '<div>Answer 2.</div><br>' +
      GMAIL_BLOCK('Thanks,<br>Bob') +
      '</div></body></html>';
    assert.match(signedHtml(html), /Answer 2\. \[SIG\] Thanks, Bob$/);
    const text =
      'Hi Bob,\n\nOn Mon, 3 Jun 2024 at 10:00, Bob <bob@example.com> wrote:\n> Question 1?\n\nAnswer 1.\n\n> Question 2?\n\nAnswer 2.\n\n> Thanks,\n> Bob\n';
    assert.match(signedText(text), /Answer 2\. \[SIG\] > Thanks, > Bob$/, 'the text twin agrees');
  });

  it('Apple Mail: the attribution in its own cite block, answers between the quoted blocks', () => {
    const html =
      '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>' +
      '<body dir="auto"><div dir="ltr">Hi Bob,</div><div dir="ltr"><br><blockquote type="cite">On 3 Jun 2024, at 10:00, ' +
      'Bob &lt;bob@example.com&gt; wrote:<br><br></blockquote></div><blockquote type="cite"><div dir="ltr">' +
      'Question 1?</div></blockquote><div dir="ltr">Answer 1.</div><blockquote type="cite"><div dir="ltr">' +
      'Question 2?</div></blockquote><div dir="ltr">Answer 2.</div><div dir="ltr"><br></div></body></html>';
    assert.match(signedHtml(html), /Answer 2\. \[SIG\]$/);
  });

  it('Thunderbird: moz-cite-prefix, answers in paragraphs between cite blocks', () => {
    const html =
      '<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8"></head><body>' +
      '<p>Hi,</p><div class="moz-cite-prefix">On 03.06.24 10:00, Bob wrote:<br></div>' +
      '<blockquote type="cite" cite="mid:1@example.com">Question 1?</blockquote>' +
      '<p>Answer 1.</p><blockquote type="cite">Question 2?</blockquote><p>Answer 2.</p>' +
      '<blockquote type="cite">-- <br>Bob</blockquote></body></html>';
    assert.match(signedHtml(html), /Answer 2\. \[SIG\] -- Bob$/);
  });

  it('bottom-posted with nothing above the quote (unchanged): under the new text', () => {
    const html =
      '<html><body><div class="gmail_quote">' +
      GMAIL_ATTR +
      GMAIL_BLOCK('Question?') +
      '</div><div>My answer.</div></body></html>';
    assert.match(signedHtml(html), /My answer\. \[SIG\]$/);
  });
});

describe('HTML interleaving near-misses: signed above the quote as before', () => {
  it('Outlook: quoted blocks with text between them below the From/Sent header are all thread', () => {
    const html =
      '<html><body><div class="WordSection1"><p class="MsoNormal">Thanks.</p>' +
      '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">' +
      '<p class="MsoNormal"><b>From:</b> Bob<br><b>Sent:</b> Monday</p></div>' +
      '<blockquote>Question 1?</blockquote><p>Answer 1.</p><blockquote>Question 2?</blockquote>' +
      '<p>Answer 2.</p></div></body></html>';
    assert.match(signedHtml(html), /^Thanks\. \[SIG\] From:/);
  });

  it('text above one quote and text below it: a top-posted reply with a footer', () => {
    const html =
      '<html><body><div>Sounds good.</div><div class="gmail_quote">' +
      GMAIL_ATTR +
      GMAIL_BLOCK('Question?') +
      '</div><div>Bob Smith | Director</div></body></html>';
    assert.match(signedHtml(html), /^Sounds good\. \[SIG\] On Mon/);
  });

  it('answers inside the quoted thread (nested blocks) are the thread, not the sender', () => {
    const html =
      '<html><body><div>Sounds good.</div><div class="gmail_quote">' +
      GMAIL_ATTR +
      GMAIL_BLOCK(
        '<blockquote>Question 1?</blockquote><div>Answer 1.</div><blockquote>Question 2?</blockquote><div>Answer 2.</div>',
      ) +
      '</div></body></html>';
    assert.match(signedHtml(html), /^Sounds good\. \[SIG\] On Mon/);
  });

  it('an attribution between two quote blocks is not an answer', () => {
    const html =
      '<html><body><div>Sounds good.</div><div class="gmail_quote">' +
      GMAIL_ATTR +
      GMAIL_BLOCK('Question?') +
      '<div>On Sun, 2 Jun 2024 at 09:00, Carol &lt;carol@example.com&gt; wrote:</div>' +
      GMAIL_BLOCK('Earlier question?') +
      '</div></body></html>';
    assert.match(signedHtml(html), /^Sounds good\. \[SIG\] On Mon/);
  });

  it('the sender\'s own "-- " signature under the quote is not new text', () => {
    const html =
      '<html><body><div class="gmail_quote">' +
      GMAIL_ATTR +
      GMAIL_BLOCK('Question?') +
      '</div><div>-- <br>Alice</div></body></html>';
    assert.match(signedHtml(html), /^\[SIG\] On Mon/);
  });

  it('a forwarded header block below the last quote block keeps the signature above the quote', () => {
    const html =
      '<html><body><div>See below.</div><div class="gmail_quote">' +
      GMAIL_ATTR +
      GMAIL_BLOCK('Question?') +
      '<div>Answer.</div>' +
      GMAIL_BLOCK('More?') +
      '<div>From: Carol<br>Sent: Monday<br>Subject: old</div></div></body></html>';
    assert.match(signedHtml(html), /^See below\. \[SIG\] On Mon/);
  });
});

describe('HTML interleaving through the engine', () => {
  it('a signed Gmail interleaved reply carries the block under the last answer, above the trailing quote', async () => {
    const html =
      '<html><body><div dir="ltr">Hi Bob,</div><div class="gmail_quote">' +
      GMAIL_ATTR +
      GMAIL_BLOCK('Question 1?') +
      '<div>Answer 1.</div>' +
      GMAIL_BLOCK('Question 2?') +
      '<div>Answer 2.</div>' +
      GMAIL_BLOCK('Thanks, Bob') +
      '</div></body></html>';
    const message =
      'From: alice@contoso.com\r\nTo: bob@example.org\r\nSubject: Re: plan\r\nMIME-Version: 1.0\r\n' +
      `Content-Type: text/html; charset=utf-8\r\n\r\n${html}\r\n`;
    const out: Buffer[] = [];
    const decision = await signMessage(
      Readable.from([Buffer.from(message)]),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          out.push(chunk);
          callback();
        },
      }),
      () =>
        Promise.resolve({
          action: 'sign',
          content: {
            template: 't',
            rule: 'r',
            html: '<b>SIG</b>',
            text: 'SIG',
            images: [],
            placement: 'underReply',
          },
        }),
      { sender: 'alice@contoso.com', recipients: ['bob@example.org'] },
    );
    assert.equal(decision.action, 'signed');
    const body = Buffer.concat(out).toString('utf8');
    const signature = body.indexOf('sigrelay-signature');
    assert.ok(signature > body.indexOf('Answer 2.'), 'under the last answer');
    assert.ok(signature < body.indexOf('Thanks, Bob'), 'above the quote that follows it');
  });
});

describe('HTML text markers far down a long body (visible text read in chunks)', () => {
  /** `count` paragraphs of filler, about 60 characters of visible text each. */
  const filler = (count: number) =>
    Array.from(
      { length: count },
      (_, i) => `<p>Line ${i} of the sender's long message, no markers here.</p>`,
    ).join('');

  // About 4,617 paragraphs fill the first 256 KB chunk: the marker before it, in its last 8 KB
  // (left for the next chunk), across its end, and two chunks further.
  for (const paragraphs of [100, 4_400, 4_550, 4_615, 4_620, 12_000]) {
    it(`a header block after ${paragraphs} paragraphs, with a label line near the top, is found where it starts`, () => {
      const html =
        `<html><body><p>Note: figures below.</p>${filler(paragraphs)}` +
        '<div id="marker"><b>From:</b> Bob<br><b>Sent:</b> Monday<br><b>Subject:</b> plan</div>' +
        `${filler(300)}</body></html>`;
      const quote = findHtmlQuote(html);
      assert.equal(quote.start, html.indexOf('<div id="marker">'));
    });
  }
});
