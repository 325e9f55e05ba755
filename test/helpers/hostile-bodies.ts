/**
 * Bodies that made the old quote patterns backtrack super-linearly (issue 19), each built to
 * about `size` characters. Shared by the linear-time unit test, the ReDoS security test and
 * the engine benchmark.
 */
export const HOSTILE: Record<string, (size: number) => string> = {
  'unclosed div class': (size) => '<div class=x '.repeat(Math.ceil(size / 13)),
  'unclosed blockquote type': (size) => '<blockquote type=cite '.repeat(Math.ceil(size / 22)),
  'less-than signs': (size) => '<'.repeat(size),
  'greater-than signs': (size) => '>'.repeat(size),
  colons: (size) => ':'.repeat(size),
  'label colons': (size) => 'From:'.repeat(Math.ceil(size / 5)),
  'long attribute value': (size) => `<div title="${'a'.repeat(size)}`,
  'deep quote lines': (size) => `${'>'.repeat(60)} x\n`.repeat(Math.ceil(size / 63)),
  'empty tags': (size) => '<a>'.repeat(Math.ceil(size / 3)),
  'plain blockquotes': (size) => '<blockquote>'.repeat(Math.ceil(size / 12)),
  dashes: (size) => '-'.repeat(size),
  'unclosed comments': (size) => '<!--'.repeat(Math.ceil(size / 4)),
  'unclosed style': (size) => '<style>'.repeat(Math.ceil(size / 7)),
  entities: (size) => '&#99999999999'.repeat(Math.ceil(size / 13)),
  'header lines': (size) => 'From: x\nSent: y\n'.repeat(Math.ceil(size / 16)),
  // A tag per few bytes and nothing else: the scanner's cost per tag, not per character.
  'line breaks': (size) => '<br>'.repeat(Math.ceil(size / 4)),
  'empty paragraphs': (size) => '<p></p>'.repeat(Math.ceil(size / 7)),
  'nested inline tags': (size) => '<b><i>'.repeat(Math.ceil(size / 6)),
  'deep divs': (size) => '<div>'.repeat(Math.ceil(size / 5)),
  'header lines crlf': (size) => 'From: x\r\nSent: y\r\n'.repeat(Math.ceil(size / 18)),
};

/**
 * An ordinary Gmail-style reply of about `size` characters, its quote filling the body: the
 * baseline the hostile bodies are compared with.
 */
export function ordinaryReply(size: number): string {
  const lines: string[] = [
    '<html><body><div dir="ltr">Thanks, agreed.</div><div class="gmail_quote"><div class="gmail_attr">',
    'On Mon, 3 Jun 2024 at 10:00, Bob &lt;bob@example.com&gt; wrote:<br></div><blockquote class="gmail_quote">',
  ];
  let length = lines.join('').length;
  for (let i = 0; length < size; i++) {
    const line = `<p class="MsoNormal">Earlier message line ${i}: quarterly figures, action items and notes.</p>\r\n`;
    lines.push(line);
    length += line.length;
  }
  lines.push('</blockquote></div></body></html>');
  return lines.join('');
}
