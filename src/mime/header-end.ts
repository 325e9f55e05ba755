/**
 * Where a message's header block ends. Shared by the front (capturing headers as DATA streams in)
 * and the delivery activities (cutting the header off a stored message); kept here, outside both,
 * so neither folder imports the other.
 */

/** Index just after the header block's last line (before the empty line), or -1 if not complete yet. */
export function headerEnd(buf: Buffer): number {
  const crlf = buf.indexOf('\r\n\r\n');
  const lf = buf.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return crlf + 2;
  return lf >= 0 ? lf + 1 : -1;
}
