/**
 * Where a signature goes inside one decoded body part. Pure string functions: the caller decodes
 * the part, asks for the insertion point and re-encodes.
 *
 * The "new part" of a body is everything above the earliest quote marker: what the sender just
 * wrote. A reply is signed at the top of the quoted thread; a new message (no marker) at its end.
 */

/** Class name carried by every inserted HTML block; clients that prefix classes (x_) still match. */
export const HTML_MARKER_CLASS = 'sigrelay-signature';

/**
 * Start tags that open the quoted thread, per client. Each pattern matches one opening tag; the
 * earliest match in the body wins. `x_` is the prefix Exchange adds to ids and classes when it
 * quotes an HTML message inside another one.
 */
const HTML_QUOTE_MARKERS: readonly RegExp[] = [
  // Outlook desktop: the reply header block (From:/Sent:) is a div with this top border.
  /<div\b[^>]*\bstyle\s*=\s*["'][^"']*border-top\s*:\s*solid\s+#(?:E1E1E1|B5C4DF)[^>]*>/i,
  // OWA and new Outlook.
  /<div\b[^>]*\bid\s*=\s*["']?(?:x_)?appendonsend\b[^>]*>/i,
  /<div\b[^>]*\bid\s*=\s*["']?(?:x_)?divRplyFwdMsg\b[^>]*>/i,
  // Outlook for Mac and iOS.
  /<div\b[^>]*\bid\s*=\s*["']?(?:x_)?mail-editor-reference-message-container\b[^>]*>/i,
  // Gmail: the attribution line and the quote container.
  /<(?:div|blockquote)\b[^>]*\bclass\s*=\s*["']?[^"'>]*?\b(?:x_)?gmail_(?:quote|attr)\b[^>]*>/i,
  // Apple Mail (also iOS Mail and Thunderbird's quote body).
  /<blockquote\b[^>]*\btype\s*=\s*["']?cite\b[^>]*>/i,
  // Thunderbird: attribution line and forwarded-message container.
  /<div\b[^>]*\bclass\s*=\s*["']?[^"'>]*?\b(?:x_)?moz-(?:cite-prefix|forward-container)\b[^>]*>/i,
  // Yahoo (class or id, the id carries a numeric suffix).
  /<div\b[^>]*\b(?:class|id)\s*=\s*["']?[^"'>]*?\b(?:x_)?yahoo_quoted\b[^>]*>/i,
  // Proton.
  /<(?:div|blockquote)\b[^>]*\bclass\s*=\s*["']?[^"'>]*?\b(?:x_)?protonmail_quote\b[^>]*>/i,
];

/**
 * Apple Mail (older versions) and some webmails put the "On … wrote:" line just before the quote
 * tag; the signature belongs above that line too, so the insertion point moves back over it.
 */
const HTML_ATTRIBUTION_BEFORE =
  /(?:<div\b[^>]*>\s*)?On\b[^<]{1,400}?wrote:\s*(?:<\/div>\s*)?(?:<br\b[^>]*>\s*)*$/i;

/** OWA puts an `<hr>` just before `divRplyFwdMsg`; the signature goes above the rule. */
const HTML_RULE_BEFORE = /<hr\b[^>]*>\s*$/i;

function earliest(source: string, patterns: readonly RegExp[]): number {
  let best = -1;
  for (const pattern of patterns) {
    const match = pattern.exec(source);
    if (match && (best < 0 || match.index < best)) best = match.index;
  }
  return best;
}

/** Index of the first quote marker in an HTML body, or -1 when it is a new message. */
export function findHtmlQuote(html: string): number {
  const at = earliest(html, HTML_QUOTE_MARKERS);
  if (at <= 0) return at;
  // Only the last stretch before the marker is looked at, so that the backward patterns stay cheap.
  const windowStart = Math.max(0, at - 600);
  const before = html.slice(windowStart, at);
  // The attribution scan is the costly one and only Apple's cite quote needs it.
  const cite = html.startsWith('<blockquote', at);
  const moved = HTML_RULE_BEFORE.exec(before) ?? (cite ? HTML_ATTRIBUTION_BEFORE.exec(before) : null);
  return moved ? windowStart + moved.index : at;
}

/** Whether our block already sits in the new part (above the quote) of an HTML body. */
export function htmlHasOurSignature(html: string, newPartEnd: number): boolean {
  const head = newPartEnd < 0 ? html : html.slice(0, newPartEnd);
  return new RegExp(`\\b(?:x_)?${HTML_MARKER_CLASS}\\b`).test(head);
}

export function wrapHtmlSignature(signatureHtml: string): string {
  return `<div class="${HTML_MARKER_CLASS}">${signatureHtml}</div>`;
}

/** Where the block goes: above the quote, else before `</body>`, else at the very end. */
export function htmlInsertionPoint(
  html: string,
  quoteAt: number,
  placement: 'underReply' | 'bottom',
): number {
  if (placement === 'underReply' && quoteAt >= 0) return quoteAt;
  const bodyEnd = html.search(/<\/body\s*>(?![\s\S]*<\/body\s*>)/i);
  return bodyEnd >= 0 ? bodyEnd : html.length;
}

/** Text lines that open the quoted thread, tested at the start of a line. */
const TEXT_LINE_MARKERS: readonly RegExp[] = [
  /^-{2,}\s*Original Message\s*-{2,}\s*$/im,
  /^-{2,}\s*Forwarded message\s*-{2,}\s*$/im,
  /^Begin forwarded message:\s*$/im,
  /^_{20,}\s*$/m,
  // A From: header line followed within two lines by Sent: or Date: (Outlook's plain-text reply).
  /^\*?From:\*?[^\n]*\n(?:[^\n]*\n){0,2}?\*?(?:Sent|Date):/im,
  // "On <date>, <name> wrote:", possibly wrapped onto a second line.
  /^On\b[^\n]{0,300}(?:\n[^\n]{0,300})?wrote:[ \t]*\r?$/m,
  /^>/m,
];

/** Index of the first quote marker line in a text body, or -1 when it is a new message. */
export function findTextQuote(text: string): number {
  return earliest(text, TEXT_LINE_MARKERS);
}

function normaliseSpace(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

/**
 * Text has no invisible carrier that survives every charset, so "already signed" means the exact
 * signature text (whitespace-insensitive) already stands in the new part.
 */
export function textHasOurSignature(text: string, newPartEnd: number, signatureText: string): boolean {
  const wanted = normaliseSpace(signatureText);
  if (!wanted) return false;
  const head = newPartEnd < 0 ? text : text.slice(0, newPartEnd);
  return normaliseSpace(head).includes(wanted);
}

/** Inserts the text signature as its own paragraph, using the body's own line ending. */
export function insertTextSignature(
  text: string,
  signatureText: string,
  quoteAt: number,
  placement: 'underReply' | 'bottom',
  eol: string,
): string {
  const signature = signatureText.replace(/\r?\n/g, eol).replace(new RegExp(`(?:${eol})+$`), '');
  if (placement === 'underReply' && quoteAt >= 0) {
    const before = text.slice(0, quoteAt);
    const lead = before.length === 0 || before.endsWith('\n') ? '' : eol;
    return `${before}${lead}${signature}${eol}${eol}${text.slice(quoteAt)}`;
  }
  const lead = text.length === 0 ? '' : text.endsWith('\n') ? eol : eol + eol;
  return `${text}${lead}${signature}${eol}`;
}
