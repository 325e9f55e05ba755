import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { detectText, htmlToLines } from '../placement/detector.js';

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
