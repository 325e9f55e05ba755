import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectText, htmlToLines } from '../../placement/detector.js';

const body = (...lines: string[]) => lines.join('\n');

describe('placement detector (labels of the real-world suite)', () => {
  it('puts a new message signature under its last line, the sign-off included', () => {
    const b = detectText(body('Hi Bob,', '', 'See you at ten.', '', 'Thanks,', 'Alice', ''));
    assert.deepEqual([b.kind, b.aboveLine, b.belowLine], ['new', 6, null]);
  });

  it('puts a top-posted reply signature above a wrapped attribution line, not between its lines', () => {
    const b = detectText(
      body(
        'Sounds good.',
        '',
        'On Tue, 22 Jun 2010 20:52:50 +0530',
        'Bob Example <bob@example.com> wrote:',
        '> Lunch?',
      ),
    );
    assert.deepEqual([b.kind, b.aboveLine, b.belowLine], ['top', 1, 3]);
  });

  it('keeps a separator line with the Outlook header block it opens', () => {
    const b = detectText(
      body(
        'Done.',
        '',
        '-----Original Message-----',
        'From: Bob',
        'Sent: Monday',
        'To: Alice',
        '',
        'Old text',
      ),
    );
    assert.deepEqual([b.kind, b.aboveLine, b.belowLine], ['top', 1, 3]);
  });

  it('reads a French header block with a space before each colon', () => {
    const b = detectText(
      body('Merci.', '', 'De : Bob', 'Envoyé : lundi', 'À : Alice', 'Objet : test', '', 'Texte'),
    );
    assert.deepEqual([b.kind, b.aboveLine, b.belowLine], ['top', 1, 3]);
  });

  it('puts an interleaved reply signature under the last answer', () => {
    const b = detectText(
      body(
        'Hi,',
        '',
        'On Mon, 1 Jan 2024, Bob wrote:',
        '> question 1',
        'answer 1',
        '',
        '> question 2',
        'answer 2',
        '',
      ),
    );
    assert.deepEqual([b.kind, b.aboveLine, b.belowLine], ['interleaved', 8, null]);
  });

  it('puts a bottom-posted reply signature under the new text after the quote', () => {
    const b = detectText(body('Bob wrote:', '> Lunch?', '', 'Yes, at noon.'));
    assert.deepEqual([b.kind, b.aboveLine, b.belowLine], ['bottom', 4, null]);
  });

  it('does not take a line of 20 dashes without a header block for a quote', () => {
    const b = detectText(body('Table:', '--------------------', 'a | b', '', 'Alice'));
    assert.deepEqual([b.kind, b.aboveLine], ['new', 5]);
  });

  it('takes a header block that opens with To: or Date: above From: as one block', () => {
    const b = detectText(
      body('Hello.', '', 'To: Bob', 'From: Support', 'Sent: Monday', 'Subject: hi', '', 'Old'),
    );
    assert.deepEqual([b.kind, b.aboveLine, b.belowLine], ['top', 1, 3]);
  });

  it('reads "X <addr> schrieb am <date>:" (GMX, Gmail mobile) as an attribution', () => {
    const b = detectText(
      body(
        'Danke.',
        '',
        'Eva',
        'Adam <adam@example.com> schrieb am Di. 16. Mai 2017 um 10:20:',
        '',
        '> Hallo',
      ),
    );
    assert.deepEqual([b.kind, b.aboveLine, b.belowLine], ['top', 3, 4]);
  });

  it('does not start a wrapped attribution in the middle of a sentence of new text', () => {
    const b = detectText(
      body(
        'I will fix it as soon as I',
        'get back.',
        'On Dec 8, 2013 2:10 PM, "John" <john@example.com> wrote:',
        '> text',
      ),
    );
    assert.deepEqual([b.kind, b.aboveLine, b.belowLine], ['top', 2, 3]);
  });

  it('keeps a Gmail attribution whose closing ">:" wrapped onto its own line', () => {
    const b = detectText(
      body(
        'Ok.',
        '',
        'tir. 18. apr. 2017 kl. 13:09 skrev Test user <test@example.com',
        '>:',
        '',
        '> Thanks.',
      ),
    );
    assert.deepEqual([b.kind, b.aboveLine, b.belowLine], ['top', 1, 3]);
  });

  it('reads an Arabic Outlook header block behind right-to-left marks', () => {
    const b = detectText(
      body(
        'شكرا',
        '',
        'من: Lucky <info@example.com>',
        '\u200f\u200fتم الإرسال: Monday',
        'إلى: a@example.com',
      ),
    );
    assert.deepEqual([b.kind, b.aboveLine, b.belowLine], ['top', 1, 3]);
  });

  it('does not take a mailing-list footer after the quote for bottom-posted text', () => {
    const b = detectText(
      body(
        'Thanks.',
        '',
        'On 01/03/11 7:07 PM, Russell wrote:',
        '> Hi',
        '',
        '_'.repeat(47),
        'riak-users mailing list',
      ),
    );
    assert.deepEqual([b.kind, b.aboveLine, b.belowLine], ['top', 1, 3]);
  });

  it('marks HTML blockquotes as quoted lines so the text rules apply', () => {
    const lines = htmlToLines(
      '<div>Yes.</div><div>On Mon, Bob wrote:</div><blockquote type="cite">Lunch?</blockquote>',
    );
    const b = detectText(lines);
    const at = (n: number | null) => lines.split('\n')[(n ?? 0) - 1];
    assert.equal(b.kind, 'top');
    assert.equal(at(b.aboveLine), 'Yes.');
    assert.equal(at(b.belowLine), 'On Mon, Bob wrote:');
  });
});
