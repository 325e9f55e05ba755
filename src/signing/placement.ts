/**
 * Where a signature goes inside one decoded body part. Pure string functions: the caller decodes
 * the part, asks where the quoted thread is and re-encodes.
 *
 * The "new part" of a body is what the sender just wrote: everything above the earliest quote
 * marker, plus, in a bottom-posted reply, the text below the last quote block. A top-posted reply
 * is signed right above the quoted thread (above its attribution line); a new message and a
 * bottom-posted reply at the end of the new text. The words clients write in each language come
 * from one table (reply-markers.ts), used by the text and the HTML detection alike.
 */
import {
  FORWARD_INTRO,
  FROM_SUBJECT_HEADER,
  HEADER_BLOCK,
  HEADER_LINES,
  LABEL_BELOW,
  ONE_LINE_HEADER,
  RECIPIENT_COLON,
  SENT_OR_DATE_BELOW,
  SUBJECT_BELOW,
  OUTLOOK_RULE,
  SEPARATOR_LINE,
  attributionText,
  introducesHeaderBlock,
  isAttribution,
  isHeaderLabel,
  opensAttribution,
  startsAttribution,
} from './reply-markers.js';
import {
  NOWHERE,
  TagNames,
  countWork,
  hasWord,
  collapseSpaces,
  htmlTagPass,
  htmlTags,
  isTagSpace,
  nextIndexOf,
  withoutTags,
  type HtmlTag,
} from './quote-html-tags.js';

/** Class name carried by every inserted HTML block; clients that prefix classes (x_) still match. */
export const HTML_MARKER_CLASS = 'sigrelay-signature';

/** Where the quoted thread is in one body. */
export interface QuoteLocation {
  /** Start of the quoted thread (its attribution line included); -1 for a new message. */
  start: number;
  /** Start of new text written below the last quote block (bottom-posting); -1 when none. */
  tail: number;
  /**
   * With `tail`: where the sender's last new text ends when quoted text still follows it (an
   * answer above a trailing quote in an interleaved reply); absent when it runs to the end.
   */
  end?: number;
  /** HTML: where `</body>` stands (the length without one), found by the same pass. */
  bodyEnd?: number;
}

const NO_QUOTE: QuoteLocation = { start: -1, tail: -1 };

/** A start tag that opens the quoted thread, and whether new text may follow its block. */
interface HtmlMarker {
  test: (tag: HtmlTag) => boolean;
  /** A quote container (blockquote-style): new text may follow it (bottom-posting). */
  container: boolean;
}

const attribute = (tag: HtmlTag, name: string) => tag.attributes.get(name) ?? '';
/** `x_` is the prefix Exchange adds to ids and classes when it quotes an HTML message. */
const idIs = (tag: HtmlTag, ...ids: string[]) => {
  const id = attribute(tag, 'id').toLowerCase().replace(/^x_/, '');
  return ids.some((name) => id.startsWith(name) && !/\w/.test(id[name.length] ?? ''));
};
const classHas = (tag: HtmlTag, ...names: string[]) => {
  const value = attribute(tag, 'class');
  return names.some((name) => hasWord(value, name) || hasWord(value, `x_${name}`));
};
const isOneOf = (tag: HtmlTag, ...names: string[]) => names.includes(tag.name);

/**
 * Start tags that open the quoted thread, per client; the earliest in the body wins. They are
 * tested on tags read by the linear scanner (quote-html-tags.ts), never by a pattern over the
 * whole body. These are language-independent.
 */
const HTML_QUOTE_MARKERS: readonly HtmlMarker[] = [
  // Outlook desktop: the reply header block (From:/Sent:) is a div with this top border.
  {
    test: (tag) => {
      if (tag.name !== 'div') return false;
      const style = attribute(tag, 'style').replace(/\s+/g, '').toLowerCase();
      return style.includes('border-top:solid#e1e1e1') || style.includes('border-top:solid#b5c4df');
    },
    container: false,
  },
  // OWA and new Outlook; Outlook for Mac and iOS.
  {
    test: (tag) =>
      tag.name === 'div' &&
      idIs(tag, 'appendonsend', 'divrplyfwdmsg', 'mail-editor-reference-message-container'),
    container: false,
  },
  // Gmail: the attribution line and the quote container.
  {
    test: (tag) => isOneOf(tag, 'div', 'blockquote') && classHas(tag, 'gmail_quote', 'gmail_attr'),
    container: true,
  },
  // Apple Mail, iOS Mail, Thunderbird's and Roundcube's quote body.
  {
    test: (tag) => tag.name === 'blockquote' && attribute(tag, 'type').trim().toLowerCase() === 'cite',
    container: true,
  },
  // Thunderbird: attribution line and forwarded-message container.
  {
    test: (tag) => tag.name === 'div' && classHas(tag, 'moz-cite-prefix', 'moz-forward-container'),
    container: true,
  },
  // Yahoo: class or id; current Yahoo prefixes both with a per-message tag (`ydp3f0ayahoo_quoted`)
  // and suffixes the id with a number, so the name counts anywhere in the value.
  {
    test: (tag) =>
      tag.name === 'div' &&
      (attribute(tag, 'class').toLowerCase().includes('yahoo_quoted') ||
        attribute(tag, 'id').toLowerCase().includes('yahoo_quoted')),
    container: true,
  },
  // Proton.
  {
    test: (tag) => isOneOf(tag, 'div', 'blockquote') && classHas(tag, 'protonmail_quote'),
    container: true,
  },
];

/**
 * Every marker above is a `div` or `blockquote` with an attribute: other tags are not tried, so a
 * body of bare tags (`<a><a><a>…`, `<br><br>`, issue 19) costs no marker calls per tag.
 */
function mayBeMarker(tag: HtmlTag): boolean {
  return tag.attributes.size > 0 && (tag.name === 'div' || tag.name === 'blockquote');
}

/** A plain `<blockquote>` opens the quote only when an attribution line stands right above it. */
const PLAIN_BLOCKQUOTES_TRIED = 5;

/** How far back from a quote tag its attribution line (with its wrapper tags) may start. */
const ATTRIBUTION_WINDOW = 2000;

/** Tags that end a line of visible text; anything else (a, span, font, b…) is inline. */
const BLOCK_TAG =
  /^<\/?(?:div|p|br|blockquote|table|tbody|thead|tr|td|th|li|ul|ol|hr|body|html|head|h[1-6]|pre|center|section|article|header|footer)\b/i;
/** Wrappers never moved above: the document itself. */
const DOCUMENT_TAG = /^<(?:body|html|head)\b/i;

const ENTITIES: Record<string, string> = { nbsp: ' ', lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code =
        name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      if (code === 0xa0) return ' ';
      // Beyond Unicode a browser shows U+FFFD; fromCodePoint would throw on attacker text.
      return code > 0x10ffff ? '\ufffd' : String.fromCodePoint(code);
    }
    return ENTITIES[name.toLowerCase()] ?? whole;
  });
}

/** The text a reader sees in a stretch of HTML without line breaks. */
function inlineText(html: string): string {
  return decodeEntities(withoutTags(html)).replace(/\s+/g, ' ').trim();
}

function isSpace(char: string | undefined): boolean {
  return char !== undefined && isTagSpace(char.charCodeAt(0));
}

/**
 * The last `<` before `at` and not before `floor`, or -1. Bounded by `floor`, unlike lastIndexOf:
 * asked once per `>` of a window, an unbounded search would make the window's cost quadratic.
 */
function openBefore(html: string, at: number, floor: number): number {
  for (let i = at - 1; i >= floor; i--) if (html.charCodeAt(i) === 0x3c) return i;
  return -1;
}

/** Moves `start` back over whitespace and the opening tags that wrap what follows it. */
function overWrappers(html: string, start: number, floor: number): number {
  let at = start;
  for (;;) {
    let i = at;
    while (i > floor && isSpace(html[i - 1])) i--;
    if (i <= floor || html[i - 1] !== '>') return at;
    const open = openBefore(html, i - 1, floor);
    if (open < 0) return at;
    const tag = html.slice(open, i);
    if (
      tag[1] === '/' ||
      tag[1] === '!' ||
      DOCUMENT_TAG.test(tag) ||
      /^<(?:br|hr|img|meta|link)\b/i.test(tag)
    )
      return at;
    at = open;
  }
}

/**
 * Start of the attribution line right above `at` (a quote tag), with the opening tags that wrap
 * it, whatever element holds it (div, p, span, a mailto link inside), or -1.
 */
function htmlAttributionBefore(html: string, at: number): number {
  const floor = Math.max(0, at - ATTRIBUTION_WINDOW);
  let i = at;
  // Skip what closes the line: whitespace, <br>, closing tags, empty inline tags, &nbsp;.
  for (;;) {
    if (i <= floor) return -1;
    const char = html[i - 1];
    if (isSpace(char)) i--;
    else if (char === '>') {
      const open = openBefore(html, i - 1, floor);
      if (open < 0) return -1;
      i = open;
    } else if (html.endsWith('&nbsp;', i)) i -= 6;
    else break;
  }
  const textEnd = i;
  let lineStart = i;
  while (i > floor) {
    if (html[i - 1] === '>') {
      const open = openBefore(html, i - 1, floor);
      if (open < 0 || BLOCK_TAG.test(html.slice(open, open + 12))) break;
      i = open;
    } else i--;
    lineStart = i;
  }
  if (!isAttribution(inlineText(html.slice(lineStart, textEnd)), true)) return -1;
  return overWrappers(html, lineStart, floor);
}

/**
 * Whether the first line of visible text after `at` (just inside a plain `<blockquote>`) is an
 * attribution: clients that quote with a bare blockquote put "On …, Bob wrote:" inside it, so the
 * blockquote opens the quote. The line must name a date, an address or open with a lead word
 * (a blockquote also indents the sender's own text); the look-ahead is bounded.
 */
function opensWithAttribution(html: string, at: number): boolean {
  const end = Math.min(html.length, at + ATTRIBUTION_WINDOW);
  const parts: string[] = [];
  let from = at;
  let shown = false;
  for (const tag of htmlTags(html, at, end)) {
    const piece = html.slice(from, tag.start);
    parts.push(piece);
    shown ||= piece.trim().length > 0 && piece.trim() !== '&nbsp;';
    from = tag.end;
    if (tag.name === 'blockquote' || (shown && BLOCK_NAMES.has(tag.name))) break;
  }
  if (!shown) return false;
  countWork(from - at);
  return isAttribution(decodeEntities(parts.join('')).replace(/\s+/g, ' ').trim(), false);
}

/**
 * A rule belongs to the block below it: OWA puts an `<hr>` just before `divRplyFwdMsg`, Outlook
 * 2003 one (in a `<div>`) above its HTML header block. With only whitespace and closing tags
 * between, the signature goes above the rule and the opening tags that wrap it.
 */
function ruleBefore(html: string, at: number): number {
  const floor = Math.max(0, at - ATTRIBUTION_WINDOW);
  let i = at;
  for (;;) {
    while (i > floor && isSpace(html[i - 1])) i--;
    if (i <= floor || html[i - 1] !== '>') return -1;
    const open = openBefore(html, i - 1, floor);
    if (open < 0) return -1;
    if (/^<hr\b/i.test(html.slice(open, i))) return overWrappers(html, open, floor);
    if (html[open + 1] !== '/') return -1;
    i = open;
  }
}

/** Tag names that end a line of visible text (BLOCK_TAG's names, for tags the scanner has read). */
const BLOCK_NAMES = new Set(
  'div p br blockquote table tbody thead tr td th li ul ol hr body html head h1 h2 h3 h4 h5 h6 pre center section article header footer'.split(
    ' ',
  ),
);

/** Visible text handed to the text markers at a time; the pass holds at most about twice this. */
const CHUNK = 256 * 1024;
/** Text kept from one chunk for the next: far more than a header block's few lines. */
const CHUNK_OVERLAP = 8 * 1024;

/** One line of visible text: its offset in the text and the source offset where it starts. */
interface VisibleLine {
  at: number;
  /** -1 for the rest of a line longer than a chunk: no marker starts there. */
  source: number;
}

/**
 * The visible text of a stretch of HTML, one line per block, fed tag by tag as the single pass
 * goes by, with where each line starts in the source. Text markers are line patterns, so they
 * read the lines in chunks cut at line ends: the pass never holds a whole-document copy.
 */
class VisibleLines {
  private parts: string[] = [];
  private length = 0;
  private lineOpen = false;
  private lines: VisibleLine[];
  /** Whether the marker last found is an attribution line (not a header block or separator). */
  attribution = false;

  constructor(
    private readonly html: string,
    source: number,
  ) {
    this.lines = [{ at: 0, source }];
  }

  text(from: number, to: number): void {
    if (to <= from) return;
    countWork(to - from);
    const value = this.html.slice(from, to);
    let text = collapseSpaces(value.includes('&') ? decodeEntities(value) : value);
    if (!this.lineOpen) {
      text = text.trimStart();
      if (!text) return;
      const last = this.lines[this.lines.length - 1];
      if (last) last.source = from + (value.length - value.trimStart().length);
    }
    this.parts.push(text);
    this.length += text.length;
    this.lineOpen = true;
  }

  tag(tag: HtmlTag): void {
    if (!this.lineOpen || !BLOCK_NAMES.has(tag.name)) return;
    this.parts.push('\n');
    this.length++;
    this.lines.push({ at: this.length, source: tag.end });
    this.lineOpen = false;
  }

  /**
   * The first thread marker in the lines held, as a source offset, or -1. Lines starting at
   * `cut` or later are left out; unless `final`, a marker in the last CHUNK_OVERLAP characters is
   * left for the next chunk, which also holds the lines below it.
   */
  marker(cut: number, final: boolean): number {
    let text = this.parts.join('');
    this.parts = [text];
    const after = this.lines.findIndex((line) => line.at > 0 && line.source >= cut);
    if (after >= 0) text = text.slice(0, this.lines[after]?.at);
    const from = this.lines[0]?.source === -1 ? (this.lines[1]?.at ?? text.length) : 0;
    const shown = text.slice(from);
    // As in text: an attribution line above the first thread marker opens the quote (an
    // unprefixed quote below it, as mobile clients and Zoho write it in HTML too).
    const thread = threadStart(shown);
    const attribution = textAttribution(shown, thread < 0 ? shown.length : thread);
    const found = attribution >= 0 ? attribution : thread;
    if (found < 0) return -1;
    const at = from + found;
    if (!final && at >= text.length - CHUNK_OVERLAP) return -1;
    this.attribution = attribution >= 0;
    let source = -1;
    for (const line of this.lines) {
      if (line.at > at) break;
      source = line.source;
    }
    return source;
  }

  /** When enough text is held: its first marker (source offset), else -1 and only the last lines kept. */
  chunk(): number {
    if (this.length <= (this.lineOpen ? 2 * CHUNK : CHUNK)) return -1;
    const found = this.marker(Infinity, false);
    if (found < 0) this.keepTail();
    return found;
  }

  /** Keeps the last lines (at least twice the overlap); an overlong open line is let go. */
  private keepTail(): void {
    const text = this.parts.join('');
    const floor = text.length - 2 * CHUNK_OVERLAP;
    let first = 0;
    for (let i = this.lines.length - 1; i > 0; i--) {
      if ((this.lines[i]?.at ?? 0) <= floor) {
        first = i;
        break;
      }
    }
    // A kept line longer than a chunk was read whole by the marker call just made, and no marker
    // line is that long: the lines below it are kept, not it (a body of one 1 MB line of
    // `From: x Sent: y …`, issue 19, was read by every pattern twice).
    const below = this.lines[first + 1];
    if (first > 0 && (below?.at ?? text.length) - (this.lines[first]?.at ?? 0) > CHUNK) {
      if (below) first++;
      else first = 0;
    }
    const line = this.lines[first];
    if (!line || line.at === 0) {
      // One line longer than the chunk: no marker line is that long, and a marker starts a line.
      this.parts = [];
      this.length = 0;
      this.lines = [{ at: 0, source: -1 }];
      return;
    }
    const rest = text.slice(line.at);
    this.lines = this.lines.slice(first).map((kept) => ({ at: kept.at - line.at, source: kept.source }));
    this.parts = [rest];
    this.length = rest.length;
  }
}

/** The visible text of `html` from `start` to `end` and its first thread marker (source), or -1. */
function textMarkerIn(html: string, start: number, end: number): number {
  const lines = new VisibleLines(html, start);
  let at = start;
  for (const tag of htmlTags(html, start, end)) {
    lines.text(at, tag.start);
    at = tag.end;
    lines.tag(tag);
    const found = lines.chunk();
    if (found >= 0) return found;
  }
  lines.text(at, end);
  return lines.marker(end, true);
}

const LETTER = /^[\p{L}\p{M}]$/u;

/** Whether the text before `at` ends with a letter (labels do; times and numbered lines do not). */
function endsWithLetter(html: string, at: number, floor: number): boolean {
  let i = at - 1;
  while (i >= floor && (html[i] === ' ' || html[i] === '*' || html[i] === '\u00a0' || html[i] === ';')) {
    // "&nbsp;" before a French colon ends with ";": step over the entity.
    if (html[i] === ';' && html.endsWith('&nbsp', i)) i -= 5;
    i--;
  }
  // Scripts without case (Arabic, Hebrew, CJK) are letters too.
  return LETTER.test(html[i] ?? '');
}

/** The most source text a header label takes before its colon (entities and spaces included). */
const MAX_LABEL_SOURCE = 80;

/** How far above the first hint the visible text is built: more than any header line is long. */
const HINT_LEAD = 2000;

/**
 * Source read back from a mark that ends a text node, for an attribution's end: its verb ("a
 * écrit :", "schrieb Bob:") or the address that closes it ("&lt;bob@example.org&gt;:"). Short:
 * the hint only says where to read the visible lines; the line itself is judged there, whole.
 */
const ATTRIBUTION_TAIL = 32;

/**
 * Whether the colon, or the last of a pair of dashes, at `mark` ends its text node (only spaces
 * and `&nbsp;` after it) and the text just before it ends an attribution ("… Bob &lt;bob@…&gt;
 * wrote:", "---- Bob wrote ----"), in one node or after an inline link. Only the mark that ends
 * a node reads back, a bounded tail of it, so the scan stays linear.
 */
function endsAttributionNode(html: string, nodeStart: number, mark: number, stop: number): boolean {
  let i = mark + 1;
  for (; i < stop; i++) {
    if (isSpace(html[i])) continue;
    if (html.startsWith('&nbsp;', i)) i += 5;
    else break;
  }
  countWork(i - mark);
  if (i < stop && html.charCodeAt(i) !== 0x3c) return false;
  const from = Math.max(nodeStart, mark - ATTRIBUTION_TAIL);
  countWork(mark - from);
  const raw = html.slice(from, mark);
  // The mark and the dashes or spaces before it are dropped: the end is read as "…:" would be.
  let tail = raw.includes('&') ? decodeEntities(raw) : raw;
  let cut = tail.length;
  while (cut > 0 && (tail[cut - 1] === '-' || isSpace(tail[cut - 1]) || tail[cut - 1] === '\u00a0')) cut--;
  tail = tail.slice(0, cut);
  return tail.endsWith('>') || isAttribution(`${tail}:`, true);
}

/**
 * The first text node (outside tags) that starts with a header label and its colon, or with
 * dashes or underscores: where a text marker may be. Scanning colons and dashes is far cheaper
 * than building the visible text of every body.
 */
function textMarkerHint(html: string, from: number, end: number): number {
  const stop = Math.min(end, html.length);
  countWork(stop - from);
  // Native searches jump from mark to mark (a colon, "--" or "__"); text without marks, such as
  // a body of `<<<<` or one long attribute value, is never read a character at a time in
  // JavaScript (issue 19). The slice bounds them to this stretch (one character more: a pair may
  // end just past it) without copying it.
  const text = html.slice(from, Math.min(stop + 1, html.length));
  const limit = stop - from;
  let colon = -1;
  let wide = -1;
  let dashes = -1;
  let lows = -1;
  let open = -1;
  let close = -1;
  // Where the last tag opened and closed before the mark, in `text`: each found by searching
  // back only when a forward search saw one since the last mark, so a body of colons is not
  // read back from every colon (that would be quadratic).
  let tagOpen = -1;
  let tagEnd = -1;
  for (let at = 0; ;) {
    // A mark right here is told without a search: bodies of marks (`::::`, `----`) have one at
    // every character or two, where a native call each would cost more than it saves.
    const code = text.charCodeAt(at);
    let mark = at;
    let pair = (code === 0x2d || code === 0x5f) && text.charCodeAt(at + 1) === code;
    if (!pair && code !== 0x3a && code !== 0xff1a) {
      colon = nextIndexOf(text, ':', colon, at);
      wide = nextIndexOf(text, '\uff1a', wide, at);
      // "--" and "__" as the regexp read them: a pair, then the scan goes on after it.
      dashes = nextIndexOf(text, '--', dashes, at);
      lows = nextIndexOf(text, '__', lows, at);
      mark = Math.min(colon, wide, dashes, lows);
      pair = mark === dashes || mark === lows;
    }
    if (mark >= limit) return -1;
    open = nextIndexOf(text, '<', open, at);
    if (open < mark) {
      tagOpen = text.lastIndexOf('<', mark - 1);
      open = -1;
    }
    close = nextIndexOf(text, '>', close, at);
    if (close < mark) {
      tagEnd = text.lastIndexOf('>', mark - 1);
      close = -1;
    }
    if (tagOpen > tagEnd) {
      // Inside a tag every mark is passed over until the tag closes: go on from its `>` (none:
      // no mark is left to read, as in a never-closed comment `<!--<!--…`).
      close = nextIndexOf(text, '>', close, mark);
      if (close >= limit) return -1;
      at = close;
      continue;
    }
    const last = pair ? mark + 1 : mark;
    at = last + 1;
    const nodeStart = from + tagEnd + 1;
    const start = from + mark;
    // Only a mark that ends its text node can end an attribution: told here from the next
    // character when it is plain text, without the call (a body of colons has a mark each).
    const next = text.charCodeAt(last + 1);
    const plainNext = last + 1 < limit && next !== 0x3c && next !== 0x26 && !isTagSpace(next);
    if (plainNext) countWork(1);
    else if (endsAttributionNode(html, nodeStart, from + last, stop)) return nodeStart;
    // A label is a few words long; longer text before a colon is prose.
    if (start - nodeStart > MAX_LABEL_SOURCE) continue;
    if (!endsWithLetter(html, start, nodeStart)) continue;
    const raw = html.slice(nodeStart, start);
    const node = raw.includes('&') ? decodeEntities(raw) : raw;
    if (!pair ? isHeaderLabel(node) : !node.trim()) return nodeStart;
  }
}

function bodyEnd(html: string): number {
  let last = -1;
  for (const tag of htmlTags(html)) if (tag.closing && tag.name === 'body') last = tag.start;
  return last >= 0 ? last : html.length;
}

/**
 * A reply is bottom-posted when nothing was written above the quote and new text follows the
 * last quote block. A personal signature ("-- ") that a client puts below the quote (Gmail's
 * default) is not new text, and text above the quote makes it a top-posted reply.
 */
function newTextBelow(above: string, below: string): boolean {
  return !above.trim() && !!below.trim() && !/^--\s/.test(below.trimStart() + ' ');
}

/** The first quote container or marker, or the first plain blockquote with an attribution. */
interface QuoteOpening {
  at: number;
  /** A quote container (blockquote-style): the sender's text may follow its blocks. */
  container: boolean;
}

/** What stands after a top-level `</blockquote>` of the quote, up to the next block or the end. */
interface Gap {
  /** End of the `</blockquote>` it follows. */
  from: number;
  /** Source offset of its first visible text; -1 while it has none. */
  shown: number;
  /** Its visible text, cut at GAP_TEXT characters: enough to tell an attribution or "-- ". */
  text: string;
  /** The first text-marker hint in it (source offset), -1 when none. */
  hint: number;
}

/** Visible text kept per gap: an attribution line or a "-- " delimiter shows in far less. */
const GAP_TEXT = 300;

/** Everything the single pass over an HTML body collects; findHtmlQuote decides from it. */
interface HtmlEvidence {
  opening?: QuoteOpening;
  /** The first text thread marker before the opening (source offset of its line), or -1. */
  textMarker: number;
  /**
   * An attribution line in the visible text above the first text marker and the opening (source
   * offset of its line), or -1: it opens the quote as in text, whatever follows it.
   */
  attribution: number;
  /** The first visible text outside the head, or -1. */
  firstShown: number;
  /**
   * Start of the last `</body>`, or the length; absent when the pass stopped at the quote (a
   * top-posted reply's signature goes there, so nothing below it is needed).
   */
  bodyEnd?: number;
  /** Start of the last quote marker tag after the opening, or -1. */
  lastMarker: number;
  /** End of the last top-level `</blockquote>` after the opening, or -1. */
  lastClose: number;
  /** What follows the last top-level `</blockquote>` when no block opens after it. */
  trailing?: Gap;
  /** The sender's answers between two quote blocks (interleaving), the last one kept. */
  answers: number;
  lastAnswer?: { gap: Gap; next: number };
}

/** Where the first visible character of `html` between `from` and `to` stands, or -1. */
function firstVisible(html: string, from: number, to: number): number {
  for (let i = from; i < to; i++) {
    const code = html.charCodeAt(i);
    if (code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d || code === 0x0c || code === 0xa0)
      continue;
    if (code === 0x26 && html.startsWith('&nbsp;', i)) {
      i += 5;
      continue;
    }
    countWork(i + 1 - from);
    return i;
  }
  countWork(to - from);
  return -1;
}

/** Where the visible text of the window led by a hint at `hint` starts (no earlier than `from`). */
function windowStart(html: string, hint: number, from: number): number {
  const lead = hint - HINT_LEAD;
  return lead <= from ? from : Math.max(from, html.lastIndexOf('<', lead));
}

/**
 * The tags collectEvidence acts on when they carry no attributes and follow another tag: the
 * body's and head's bounds, blockquotes; and block tags while visible lines are being built
 * (they end a line). Any other such tag changes nothing.
 */
const ACTED = new TagNames(['body', 'head', 'blockquote']);
const ACTED_WITH_LINES = new TagNames(['body', 'head', 'blockquote', ...BLOCK_NAMES]);

/**
 * Reads an HTML body once: every tag through one `htmlTags` pass, every text node between them
 * once, collecting the evidence the decision needs (quote containers and markers of every client,
 * attributions above plain blockquotes, text thread markers from visible-text lines, the
 * sender's text between and after quote blocks, the body's end). Windows read again are bounded
 * (attribution look-backs, the text-marker lead) or read only in the part they are about.
 */
function collectEvidence(html: string): HtmlEvidence {
  const evidence: HtmlEvidence = {
    textMarker: -1,
    attribution: -1,
    firstShown: -1,
    lastMarker: -1,
    lastClose: -1,
    answers: 0,
  };
  let from = 0;
  let inHead = false;
  let afterBody = false;
  let hinted = false;
  let lines: VisibleLines | undefined;
  let plainTried = 0;
  /** The opening is known and not a container, or a text marker came first: the pass can stop. */
  let settled = false;
  let depth = 0;
  let gap: Gap | undefined;

  const endText = (cut: number) => {
    if (lines && evidence.textMarker < 0 && evidence.attribution < 0) {
      const found = lines.marker(cut, true);
      if (lines.attribution) evidence.attribution = found;
      else evidence.textMarker = found;
    }
    lines = undefined;
  };
  const open = (at: number, container: boolean) => {
    evidence.opening = { at, container };
    endText(at);
    settled = !container;
  };

  const text = (start: number, end: number) => {
    if (end <= start || inHead) return;
    if (evidence.firstShown < 0) evidence.firstShown = firstVisible(html, start, end);
    if (lines) {
      lines.text(start, end);
      return;
    }
    if (!evidence.opening && !hinted && !settled) {
      const hint = textMarkerHint(html, Math.max(start, from), end);
      if (hint < 0) return;
      hinted = true;
      // The text marker may open a few lines above its hint: read them from a bounded lead.
      const lead = windowStart(html, hint, from);
      lines = new VisibleLines(html, lead);
      let at = lead;
      for (const tag of htmlTags(html, lead, start)) {
        lines.text(at, tag.start);
        at = tag.end;
        lines.tag(tag);
      }
      lines.text(at, end);
      return;
    }
    if (gap && depth === 0 && !afterBody) {
      const shown = firstVisible(html, start, end);
      if (shown < 0) return;
      if (gap.shown < 0) gap.shown = shown;
      if (gap.text.length < GAP_TEXT) {
        const raw = html.slice(shown, Math.min(end, shown + 2 * GAP_TEXT));
        gap.text += ' ' + (raw.includes('&') ? decodeEntities(raw) : raw).replace(/\s+/g, ' ');
      }
      if (gap.hint < 0) gap.hint = textMarkerHint(html, start, end);
    }
  };

  let at = 0;
  // Bare tags named in neither set change nothing here: stepped over without a token.
  const tags = htmlTagPass(html, () => (lines ? ACTED_WITH_LINES : ACTED));
  for (const tag of tags) {
    text(Math.max(at, tags.skippedTo), tag.start);
    at = tag.end;
    if (tag.name === 'body') {
      if (tag.closing) [evidence.bodyEnd, afterBody] = [tag.start, true];
      else if (!hinted) from = tag.start;
    } else if (tag.name === 'head') inHead = !tag.closing;
    if (settled) break;
    if (lines) {
      lines.tag(tag);
      const found = lines.chunk();
      if (found >= 0 && lines.attribution) {
        // An attribution opens the quote; a container below it still tells how the quote ends.
        [evidence.attribution, lines] = [found, undefined];
      } else if (found >= 0) {
        // A text marker before any container: it wins, whatever follows.
        [evidence.textMarker, lines, settled] = [found, undefined, true];
        continue;
      }
    }
    const blockquote = tag.name === 'blockquote';
    if (!tag.closing) {
      const marker = mayBeMarker(tag)
        ? HTML_QUOTE_MARKERS.find((candidate) => candidate.test(tag))
        : undefined;
      if (!evidence.opening) {
        if (marker) open(tag.start, marker.container);
        else if (blockquote && plainTried++ < PLAIN_BLOCKQUOTES_TRIED) {
          const attribution = htmlAttributionBefore(html, tag.start);
          if (attribution >= 0) open(attribution, true);
          else if (opensWithAttribution(html, tag.end)) open(tag.start, true);
        }
        // open() may have just set it; TypeScript keeps the narrowing of the test above.
        if (!(evidence.opening as QuoteOpening | undefined)?.container) continue;
      } else if (marker) evidence.lastMarker = tag.start;
      if (!blockquote) continue;
      if (depth === 0 && gap) {
        if (isAnswer(gap)) {
          evidence.answers++;
          evidence.lastAnswer = { gap, next: tag.start };
        }
        gap = undefined;
      }
      depth++;
    } else if (blockquote && evidence.opening) {
      // A `</blockquote>` closing one opened above the quote also ends a top-level block.
      depth = Math.max(0, depth - 1);
      if (depth > 0) continue;
      evidence.lastClose = tag.end;
      gap = { from: tag.end, shown: -1, text: '', hint: -1 };
    }
  }
  if (settled) return { ...evidence, bodyEnd: undefined };
  text(Math.max(at, tags.skippedTo), html.length);
  endText(html.length);
  evidence.bodyEnd ??= html.length;
  evidence.trailing = gap;
  return evidence;
}

/** No sender's text below the quote. */
const NONE = { tail: -1 } as const;

/** Whether the text between two quote blocks is the sender's answer (not an attribution or "-- "). */
function isAnswer(gap: Gap): boolean {
  const text = gap.text.trim();
  return gap.shown >= 0 && !/^--\s/.test(text + ' ') && !isAttribution(text, true);
}

/** Whether a gap's text holds a thread marker (a forwarded block, a list footer's rule). */
function gapHasMarker(html: string, gap: Gap, end: number): boolean {
  return gap.hint >= 0 && textMarkerIn(html, windowStart(html, gap.hint, gap.from), end) >= 0;
}

/**
 * Where the sender's own text after the quote is (bottom-posting and interleaving, as in text):
 * new text after the last `</blockquote>` when nothing was written above the quote or the sender
 * answered between quote blocks; else, in an interleaved reply whose quote goes on below the last
 * answer, that answer, ending where the next quote block (or its attribution) starts.
 */
function senderTextBelow(
  html: string,
  evidence: HtmlEvidence,
  start: number,
): Pick<QuoteLocation, 'tail' | 'end'> {
  const { trailing, lastAnswer } = evidence;
  if (trailing && trailing.shown >= 0) {
    if (evidence.lastMarker > evidence.lastClose || /^--\s/.test(trailing.text.trimStart() + ' '))
      return NONE;
    if (gapHasMarker(html, trailing, evidence.bodyEnd ?? html.length)) return NONE;
    const above = evidence.firstShown >= 0 && evidence.firstShown < start;
    return above && evidence.answers === 0 ? NONE : { tail: evidence.lastClose };
  }
  if (!lastAnswer || gapHasMarker(html, lastAnswer.gap, lastAnswer.next)) return NONE;
  const attribution = htmlAttributionBefore(html, lastAnswer.next);
  const end =
    attribution > lastAnswer.gap.shown
      ? attribution
      : overWrappers(html, lastAnswer.next, lastAnswer.gap.shown);
  return { tail: lastAnswer.gap.from, end };
}

/** Where the quoted thread is in an HTML body. */
export function findHtmlQuote(html: string): QuoteLocation {
  const evidence = collectEvidence(html);
  const { bodyEnd } = evidence;
  let start = evidence.opening?.at ?? -1;
  let container = evidence.opening?.container ?? false;
  if (evidence.textMarker >= 0) {
    const textMarker = overWrappers(html, evidence.textMarker, 0);
    if (start < 0 || textMarker < start) [start, container] = [textMarker, false];
  }
  if (evidence.attribution >= 0) {
    // Above a container the quote keeps the container's end (bottom-posting, interleaving).
    const attribution = overWrappers(html, evidence.attribution, 0);
    if (start < 0 || attribution < start) start = attribution;
  }
  if (start < 0) return { ...NO_QUOTE, bodyEnd };
  const moved = ruleBefore(html, start);
  if (moved >= 0) start = moved;
  else if (start > 0) {
    const attribution = htmlAttributionBefore(html, start);
    if (attribution >= 0) start = attribution;
  }
  if (!container) return { start, tail: -1, bodyEnd };
  return { start, ...senderTextBelow(html, evidence, start), bodyEnd };
}

function newPart(body: string, quote: QuoteLocation): string {
  if (quote.start < 0) return body;
  return quote.tail < 0
    ? body.slice(0, quote.start)
    : body.slice(0, quote.start) + body.slice(quote.tail, quote.end ?? body.length);
}

/** Whether our block already stands in the new part of an HTML body (never in the quoted thread). */
export function htmlHasOurSignature(html: string, quote: QuoteLocation): boolean {
  return hasMarkerClass(newPart(html, quote));
}

/** A character a regexp's `\\b` counts as part of a word (ASCII letters, digits, `_`). */
const isWordChar = (text: string, at: number) => /\w/.test(text[at] ?? '');

/**
 * Whether `text` holds the marker class as `\\b(?:x_)?sigrelay-signature\\b` would find it: a
 * native search for the name, then its two ends, instead of a pattern tried at every character
 * of the body (a new message's whole body, a megabyte for a hostile one).
 */
function hasMarkerClass(text: string): boolean {
  const length = HTML_MARKER_CLASS.length;
  for (let at = text.indexOf(HTML_MARKER_CLASS); at >= 0; at = text.indexOf(HTML_MARKER_CLASS, at + 1)) {
    if (isWordChar(text, at + length)) continue;
    if (!isWordChar(text, at - 1)) return true;
    if (at >= 2 && text.startsWith('x_', at - 2) && !isWordChar(text, at - 3)) return true;
  }
  return false;
}

export function wrapHtmlSignature(signatureHtml: string): string {
  return `<div class="${HTML_MARKER_CLASS}">${signatureHtml}</div>`;
}

/** Where the block goes: above the quote, else (new message, bottom-post) before `</body>`. */
export function htmlInsertionPoint(
  html: string,
  quote: QuoteLocation,
  placement: 'underReply' | 'bottom',
): number {
  if (placement === 'underReply' && quote.start >= 0) {
    if (quote.tail < 0) return quote.start;
    // Interleaved: under the last answer, above the quoted text that still follows it.
    if (quote.end !== undefined) return quote.end;
  }
  return quote.bodyEnd ?? bodyEnd(html);
}

/** The marks one line of a text thread marker always holds: a colon, `--` or `__`. */
type Mark = 'colon' | 'dashes' | 'underscores';

/**
 * Lines that open a quoted thread that is not `>`-quoted: what follows is all thread. Each with
 * the mark its first line always holds (a label's or introduction's colon, ASCII or full-width;
 * the separator's dashes; the rule's underscores): no match starts above the first line holding
 * it, so the pattern is tried from there. Each may name what any match of it also holds further
 * on (`needs`, how many times): without it the pattern is not run. Global copies, for `lastIndex`.
 */
const TEXT_THREAD_MARKERS: readonly { pattern: RegExp; mark: Mark; needs?: RegExp; times: number }[] = (
  [
    [SEPARATOR_LINE, 'dashes'],
    [FORWARD_INTRO, 'colon'],
    [OUTLOOK_RULE, 'underscores'],
    [HEADER_BLOCK, 'colon', SENT_OR_DATE_BELOW],
    [FROM_SUBJECT_HEADER, 'colon', SUBJECT_BELOW],
    [HEADER_LINES, 'colon', LABEL_BELOW, 2],
    [ONE_LINE_HEADER, 'colon', RECIPIENT_COLON],
  ] as const
).map(([pattern, mark, needs, times]: readonly [RegExp, Mark, RegExp?, number?]) => ({
  pattern: new RegExp(pattern.source, `${pattern.flags}g`),
  mark,
  needs: needs && new RegExp(needs.source, `${needs.flags}g`),
  times: times ?? 1,
}));

const firstOf = (text: string, needle: string) => {
  const at = text.indexOf(needle);
  return at < 0 ? NOWHERE : at;
};

/** Whether `needs` occurs `times` times in `text` from `from`. */
function occurs(needs: RegExp, times: number, text: string, from: number): boolean {
  needs.lastIndex = from;
  for (let i = 0; i < times; i++) {
    const found = needs.exec(text);
    if (!found) return false;
    needs.lastIndex = found.index + 1;
  }
  return true;
}

/**
 * Where the first text thread marker starts, or -1. A body without colons, dashes or underscores
 * (`>>>> x` lines, issue 19) is not read by seven patterns at every line start; one with them is
 * read from the first line holding each pattern's mark, with the result a read from the start gives.
 */
function firstThreadMarker(source: string): number {
  const marks: Record<Mark, number> = {
    colon: Math.min(firstOf(source, ':'), firstOf(source, '\uff1a')),
    dashes: firstOf(source, '--'),
    underscores: firstOf(source, '__'),
  };
  let best = -1;
  // Once a marker is found, later patterns only matter if they start above it: they read up to a
  // few lines below it, not to the end of a body that holds no match of theirs (a body of
  // `From:`/`Sent:` lines, issue 19, was read whole by the patterns that never match it).
  let subject = source;
  for (const { pattern, mark, needs, times } of TEXT_THREAD_MARKERS) {
    const at = marks[mark];
    if (at === NOWHERE || (best >= 0 && at > best)) continue;
    const from = source.lastIndexOf('\n', at - 1) + 1;
    // What a match holds below its first line, searched in the text the pattern reads.
    if (needs && !occurs(needs, times, subject, from)) continue;
    pattern.lastIndex = from;
    const match = pattern.exec(subject);
    if (match && (best < 0 || match.index < best)) {
      best = match.index;
      subject = source.slice(0, linesBelow(source, best, MARKER_REACH));
    }
  }
  return best;
}

/**
 * Lines a thread-marker match reads from the line it starts on, lookarounds included (the
 * Outlook rule's look-ahead: its line and seven more), with room to spare.
 */
const MARKER_REACH = 12;

/** The offset just after the `count`th line end below `at`, or the length. */
function linesBelow(text: string, at: number, count: number): number {
  let end = at;
  for (let i = 0; i < count; i++) {
    const newline = text.indexOf('\n', end);
    if (newline < 0) return text.length;
    end = newline + 1;
  }
  return end;
}

/** A time (`20:52`, `15.36`) as dates in attributions carry it. */
const TIME = /\d{1,2}[:.]\d{2}/;

/**
 * Whether `line` looks like the wrapped rest of `previous` (Gmail wraps at 78 columns): the
 * previous line breaks inside a name or an address, the line goes on in lower case or with an
 * address, or the previous line opens an attribution (a lead word, a date first, a time) and
 * does not end a sentence.
 */
function continues(previous: string, line: string): boolean {
  const before = previous.trim();
  if (!before || before.startsWith('>')) return false;
  if (/[<,(@]$/.test(before) || /^\s*(?:[<(@\p{Ll}]|[^\s@<>]+@)/u.test(line)) return true;
  if (/[.!?]$/.test(before)) return false;
  // A line opening with a date continues only a line that opened one already ("On Tue, 22 Jun
  // 2010" / "20:52:50 +0530, Bob…"); one opening with a lead word starts its own attribution.
  if (startsAttribution(line))
    return /^\d/.test(line.trim()) && startsAttribution(before) && /\d/.test(before);
  return opensAttribution(before) && (/^\d/.test(before) || TIME.test(before) || !/\d/.test(before));
}

interface Line {
  at: number;
  line: string;
}

/**
 * The first attribution line ("On … wrote:" in any language of the table) before `limit`, or -1.
 * An attribution wrapped over two or three lines starts at its first line.
 */
function textAttribution(text: string, limit: number): number {
  // Only a line holding a colon, an `@` or a `--` can be an attribution (attributionText): the
  // rest are stepped over without slicing them, so a long text of short lines costs one native
  // search per mark, not the attribution patterns per line.
  const marks = [':', '\uff1a', '@', '--'];
  const next = marks.map(() => -1);
  const holdsMark = (from: number, to: number) => {
    for (let i = 0; i < marks.length; i++) {
      const at = nextIndexOf(text, marks[i] as string, next[i] as number, from);
      next[i] = at;
      if (at < to) return true;
    }
    return false;
  };
  const recent: { at: number; end: number }[] = [];
  const lineOf = (at: number, end: number) => text.slice(at, end).replace(/\r$/, '');
  for (let at = 0; at < limit;) {
    const newline = text.indexOf('\n', at);
    const end = newline < 0 ? text.length : newline;
    if (holdsMark(at, end)) {
      const line = lineOf(at, end);
      if (attributionText(line) !== undefined) {
        const after = /^(?:[ \t]*\r?\n)?>/.test(text.slice(end + 1, end + 80));
        const opening = recent.map((entry) => ({ at: entry.at, line: lineOf(entry.at, entry.end) }));
        const found = wrappedAttribution(opening, line, after);
        if (found >= 0) return found;
        if (isAttribution(line, after)) return at;
      }
    }
    recent.push({ at, end });
    if (recent.length > 3) recent.shift();
    if (newline < 0) break;
    at = newline + 1;
  }
  return -1;
}

/**
 * Where an attribution ending on `line` and opening one to three lines above starts, or -1. Four
 * lines happen when a client wraps a long address on both sides of its `@`.
 */
function wrappedAttribution(recent: readonly Line[], line: string, after: boolean): number {
  for (const count of [3, 2, 1]) {
    const opening = recent.slice(-count);
    if (opening.length < count) continue;
    const lines = [...opening.map((entry) => entry.line), line];
    if (!lines.every((current, i) => i === 0 || continues(lines[i - 1] ?? '', current))) continue;
    const first = opening[0];
    if (!first || !isAttribution(lines.join(' '), after)) continue;
    // A line that is an attribution on its own keeps its start unless the lines above open it;
    // three or four lines count only from an opening line (a greeting ending in a comma wraps nothing).
    if (opensAttribution(first.line) || (count === 1 && !isAttribution(line, after))) return first.at;
  }
  return -1;
}

/** After the last `>` line, new text with no further thread marker: where it starts, or -1. */
function textBottomPost(text: string, start: number): number {
  const last = text.lastIndexOf('\n>');
  const lastLine = last >= start ? last + 1 : text.startsWith('>', start) ? start : -1;
  if (lastLine < 0) return -1;
  const lineEnd = text.indexOf('\n', lastLine);
  if (lineEnd < 0) return -1;
  const tail = text.slice(lineEnd + 1);
  // Nothing below the last quoted line: no new text, whatever `interleaved` would say (it reads
  // every line of the quote).
  if (!tail.trim()) return -1;
  // Interleaved answers make it the sender's text whatever stands above the first quote, and
  // the sender's own "-- " signature under the last quote closes those answers.
  const answered = interleaved(text, start, lastLine);
  const above = answered ? '' : text.slice(0, start);
  if (!newTextBelow(above, tail) && !(answered && /^--[ \t]*\r?\n/.test(tail.trimStart()))) return -1;
  if (firstThreadMarker(tail) >= 0 || textAttribution(tail, tail.length) >= 0) return -1;
  const first = tail.search(/\S/);
  return lineEnd + 1 + tail.lastIndexOf('\n', first) + 1;
}

/**
 * Whether the sender answered between quote blocks: between `start` and the last quoted line at
 * `lastLine`, a line of unquoted text stands between two `>` lines.
 */
function interleaved(text: string, start: number, lastLine: number): boolean {
  let quotedSeen = false;
  let answerSeen = false;
  for (let at = start; at < lastLine;) {
    const end = text.indexOf('\n', at);
    const line = text.slice(at, end < 0 ? text.length : end);
    if (line.startsWith('>')) {
      if (answerSeen) return true;
      quotedSeen = true;
    } else if (quotedSeen && line.trim()) answerSeen = true;
    if (end < 0) break;
    at = end + 1;
  }
  return answerSeen;
}

/**
 * In an interleaved reply whose quote goes on below the last answer (a quoted signature or list
 * footer), the last answer: a block of unquoted text after a blank line below a `>` line, with
 * only quoted and blank lines after it. Unquoted lines right under a `>` line with no blank line
 * between are a quoted line that lost its prefix in wrapping, not an answer.
 */
function lastAnswer(text: string, start: number, limit: number): { tail: number; end: number } | undefined {
  let quoted = false;
  let blank = false;
  let answer: { tail: number; end: number } | undefined;
  let current: { tail: number; end: number } | undefined;
  for (let at = start; at < limit;) {
    const newline = text.indexOf('\n', at);
    const next = newline < 0 ? text.length : newline + 1;
    // A `>` line is told by its first character: the lines of a long quote are not copied out.
    if (text.charCodeAt(at) === 0x3e) {
      if (current) [answer, current] = [current, undefined];
      quoted = true;
      blank = false;
    } else if (!text.slice(at, next).trim()) blank = quoted;
    else if (current) current.end = next;
    else if (quoted && blank) current = { tail: at, end: next };
    at = next;
  }
  if (current || !answer) return undefined;
  const block = text.slice(answer.tail, answer.end);
  if (/^--\s/.test(block) || firstThreadMarker(block) >= 0) return undefined;
  return textAttribution(block, block.length) >= 0 ? undefined : answer;
}

/** Where the quoted thread is in a text body. */
export function findTextQuote(text: string): QuoteLocation {
  const thread = threadStart(text);
  let quoted = /^>/m.exec(text)?.index ?? -1;
  if (quoted >= 0) quoted = attributionClosedByQuote(text, quoted);
  const limit = Math.min(thread < 0 ? text.length : thread, quoted < 0 ? text.length : quoted);
  const attribution = textAttribution(text, limit);
  const cited = attribution >= 0 ? attribution : quoted;
  if (cited < 0 || (thread >= 0 && thread < cited))
    return thread < 0 ? NO_QUOTE : { start: thread, tail: -1 };
  const start = withRuleAbove(text, cited);
  if (attribution >= 0 && quoted >= 0 && unprefixedQuoteAbove(text, attribution, quoted))
    return { start, tail: -1 };
  // Answers end where a later thread marker (a forwarded block, a list footer's rule) begins,
  // or where a list footer that the quote repeats begins.
  const end = thread >= 0 ? thread : repeatedFooter(text, start);
  const tail = thread >= 0 ? -1 : textBottomPost(text.slice(0, end), start);
  if (tail >= 0) return end < text.length ? { start, tail, end } : { start, tail };
  const answer = lastAnswer(text, start, end);
  if (answer) return { start, ...answer };
  const closing = thread >= 0 ? -1 : closedBelow(text.slice(0, end), start);
  if (closing < 0) return { start, tail: -1 };
  return end < text.length ? { start, tail: closing, end } : { start, tail: closing };
}

/** A closing ("Kind regards,", "Herzliche Grüße") or a name: a few words, no sentence. */
const SHORT_WORDS = /^\p{L}[\p{L}\p{M} .'-]{0,28}[,!.]?$/u;

/**
 * Whether `block` ends the way a sender closes a message: a short closing line and then a short
 * name line (two to four words and one to three words), as the last two lines with text.
 */
function endsWithClosing(block: string): boolean {
  const lines = block
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const [closing, name] = lines.slice(-2);
  if (closing === undefined || name === undefined) return false;
  const words = (line: string) => line.split(/\s+/).length;
  return SHORT_WORDS.test(closing) && SHORT_WORDS.test(name) && words(closing) <= 4 && words(name) <= 3;
}

/**
 * Whether the attribution at `attribution` introduces a quote without `>` prefixes (mobile clients
 * write it so) that goes on past the first `>` line at `quoted`: text stands between the line that
 * ends the attribution (up to four lines down) and that `>` line. The `>` lines are then the
 * quoted message's own quote, and text below them is still the quoted message, not the sender's.
 */
function unprefixedQuoteAbove(text: string, attribution: number, quoted: number): boolean {
  let lines = 0;
  let ended = false;
  for (let at = attribution; at < quoted;) {
    const line = lineAt(text, at);
    if (!ended) {
      ended = attributionText(line) !== undefined;
      if (!ended && ++lines >= 4) return false;
    } else if (line.trim()) return true;
    const newline = text.indexOf('\n', at);
    if (newline < 0) break;
    at = newline + 1;
  }
  return false;
}

/** A closing and a name on one line, split at its first comma: "Kind regards, Alice". */
function closesOnOneLine(line: string): boolean {
  const comma = line.indexOf(',');
  return comma > 0 && endsWithClosing(`${line.slice(0, comma + 1)}\n${line.slice(comma + 1)}`);
}

/**
 * A reply written around one quote: text above it that does not close, and below the last `>`
 * line (after a blank line) several lines of new text that end with a closing and a name. The
 * sender's message ends there, so the signature goes under it (the text above is the opening).
 * Where the new text starts below the quote, or -1.
 */
function closedBelow(text: string, start: number): number {
  const above = text.slice(0, start);
  if (!above.trim() || endsWithClosing(above)) return -1;
  const last = text.lastIndexOf('\n>');
  if (last < start) return -1;
  const lineEnd = text.indexOf('\n', last + 1);
  if (lineEnd < 0 || !/^[ \t]*\r?\n/.test(text.slice(lineEnd + 1))) return -1;
  const tail = text.slice(lineEnd + 1);
  if (/^--\s/.test(tail.trimStart() + ' ')) return -1;
  const lines = tail.split('\n').filter((line) => line.trim());
  const [only] = lines;
  // A short reply signs off on one line ("Regards, Roman", comma-split as a closing and a name);
  // new text over several lines must end with a closing line and a name line, three lines or more.
  const signedOff = lines.length === 1 && only !== undefined && closesOnOneLine(only);
  if (!signedOff && (!endsWithClosing(tail) || lines.length < 3)) return -1;
  if (firstThreadMarker(tail) >= 0 || textAttribution(tail, tail.length) >= 0) return -1;
  const first = tail.search(/\S/);
  return lineEnd + 1 + tail.lastIndexOf('\n', first) + 1;
}

/** A line as it reads without its quote prefixes (`> > text` → `text`). */
function unquoted(line: string): string {
  return line.replace(/^(?:[ \t]*>)+/, '').trim();
}

/**
 * Where the last block of the body starts when it repeats lines of the quote above it (from
 * `start`), else the body's length. A mailing list appends its footer to every message, so a
 * reply shows it once quoted and once below: the copy below is the list's, not the sender's text.
 * Half the block's lines, one of them 10 characters or more, must stand in the quote; a block
 * opening with the `-- ` delimiter is the sender's signature, never a footer.
 */
function repeatedFooter(text: string, start: number): number {
  let end = text.length;
  while (end > 0 && /\s/.test(text[end - 1] ?? '')) end--;
  let block = text.lastIndexOf('\n', end - 1) + 1;
  // A `>` line in the last block makes it quote, not footer: told as the walk meets it, so a quote
  // running to the end (`>>>> x` lines, issue 19) is not walked to its top first.
  if (text.startsWith('>', block)) return text.length;
  for (let above = lineBefore(text, block); above > start && lineAt(text, above).trim();) {
    [block, above] = [above, lineBefore(text, above)];
    if (text.startsWith('>', block)) return text.length;
  }
  const lines = text.slice(block).split('\n');
  if (block <= start || lines.some((line) => line.startsWith('>'))) return text.length;
  const quoted = new Set(
    text
      .slice(start, block)
      .split('\n')
      .filter((line) => line.startsWith('>'))
      .map(unquoted),
  );
  const own = lines.map((line) => line.trim()).filter(Boolean);
  // A "-- " block is the sender's own signature, quoted above when they answer their own message.
  if (own[0] === '--') return text.length;
  const repeated = own.filter((line) => quoted.has(line));
  const found = repeated.length * 2 >= own.length && repeated.some((line) => line.length >= 10);
  return found ? block : text.length;
}

/** Start of the line before the one starting at `at` (which must follow a newline), or -1. */
function lineBefore(text: string, at: number): number {
  if (at <= 0) return -1;
  return text.lastIndexOf('\n', at - 2) + 1;
}

function lineAt(text: string, at: number): string {
  const end = text.indexOf('\n', at);
  return text.slice(at, end < 0 ? text.length : end).replace(/\r$/, '');
}

/**
 * Gmail wraps a long attribution inside its address, so the closing `>:` starts a line and looks
 * like the first quoted line: the attribution then starts on the line above.
 */
function attributionClosedByQuote(text: string, quoted: number): number {
  const above = lineBefore(text, quoted);
  if (above < 0) return quoted;
  const previous = lineAt(text, above);
  if (previous.lastIndexOf('<') <= previous.lastIndexOf('>')) return brokenAttributionAbove(text, quoted);
  return isAttribution(previous + lineAt(text, quoted), true) ? above : quoted;
}

/**
 * A malformed wrap (a client that breaks before the address and again inside it, with a blank
 * line between) leaves `> wrote:` alone on a line: the `>` closes an address opened above, it is
 * no quote prefix. Up to four lines above (one blank allowed), an opening line whose lines go on
 * one from another and leave a `<` open makes the whole an attribution that starts there.
 */
function brokenAttributionAbove(text: string, quoted: number): number {
  const closing = lineAt(text, quoted);
  if (attributionText(closing) === undefined) return quoted;
  const lines: Line[] = [];
  let blanks = 0;
  for (let at = lineBefore(text, quoted); at >= 0 && lines.length < 4; at = lineBefore(text, at)) {
    const line = lineAt(text, at);
    if (line.startsWith('>')) break;
    if (!line.trim()) {
      if (++blanks > 1) break;
      continue;
    }
    lines.unshift({ at, line });
    const words = lines.map((entry) => entry.line);
    const open = (words.join('').match(/</g) ?? []).length > (words.join('').match(/>/g) ?? []).length;
    const joined = `${words.join(' ')} ${closing}`;
    if (
      open &&
      startsAttribution(line) &&
      words.every((current, i) => i === 0 || continues(words[i - 1] ?? '', current)) &&
      isAttribution(joined, false)
    )
      return at;
  }
  return quoted;
}

/** A rule: four or more dashes, underscores, equals signs or asterisks and nothing else. */
function isRuleLine(line: string): boolean {
  const text = line.trim();
  return text.length >= 4 && /^[-_=*]+$/.test(text);
}

/**
 * A short title between rules of dashes (`-------- Originalnachricht --------`, Zimbra's `----- Mail
 * original -----`): right above a header block it opens the block whatever its language, so a
 * client or language missing from the separator table still keeps its line with the quote.
 */
function isTitledRule(line: string): boolean {
  const text = line.trim();
  if (!text.startsWith('--') || !text.endsWith('--') || text.length > 90) return false;
  let start = 0;
  let end = text.length;
  while (text[start] === '-') start++;
  while (end > start && text[end - 1] === '-') end--;
  const title = text.slice(start, end).trim();
  return title.length > 0 && title.length <= 60 && !title.includes('--');
}

/** A short label line with a date introducing a block ("Message du : 12/12/2016 13:20"). */
function isDatedLabelLine(line: string): boolean {
  const text = line.trim();
  return (
    text.length <= 60 &&
    /^\p{L}[\p{L} ]*[ \u00a0]?:/u.test(text) &&
    /\d{1,4}[./-]\d{1,2}[./-]\d{1,4}/.test(text)
  );
}

/**
 * A separator belongs to the block below it: a rule line right above the start (one blank line
 * between allowed), Outlook mobile's dashes above `*From:*`, a row of `=` above a header block,
 * and a dated label line introducing the block, above or below that rule. An attribution line
 * without its colon right above the block introduces it too (Thunderbird's forward with headers).
 */
function withRuleAbove(text: string, start: number): number {
  let at = start;
  const intro = lineBefore(text, at);
  if (intro >= 0 && introducesHeaderBlock(lineAt(text, intro))) at = intro;
  let above = nonBlankLineBefore(text, at);
  if (above >= 0 && isDatedLabelLine(lineAt(text, above))) {
    at = above;
    above = nonBlankLineBefore(text, at);
  }
  if (above >= 0 && isTitledRule(lineAt(text, above))) return above;
  if (above < 0 || !isRuleLine(lineAt(text, above))) return at;
  const label = lineBefore(text, above);
  return label >= 0 && isDatedLabelLine(lineAt(text, label)) ? label : above;
}

/** The line before the one at `at`, one blank line between allowed, or -1. */
function nonBlankLineBefore(text: string, at: number): number {
  const above = lineBefore(text, at);
  return above >= 0 && !lineAt(text, above).trim() ? lineBefore(text, above) : above;
}

/** Where the first thread marker (header block, separator, forward introduction) starts, or -1. */
function threadStart(text: string): number {
  const at = firstThreadMarker(text);
  if (at >= 0 && contactBlockBelow(text, at)) return -1;
  return at < 0 ? at : withRuleAbove(text, at);
}

/** An address, a URL or a phone number, alone or after a short label ("Tel.", "M:"). */
const CONTACT_VALUE =
  /^(?:(?<label>[\p{L}-]{1,12})\.?:?[ \t]+)?(?:<?[^\s@<>]+@[\w-]+(?:\.[\w-]+)+>?|(?:https?:\/\/|www\.)\S+|(?<phone>\+?[\d(][\d ()./-]{5,}))$/u;

function isContactLine(line: string): boolean {
  const match = CONTACT_VALUE.exec(line.trim());
  if (!match) return false;
  const { label, phone } = match.groups ?? {};
  // "From: bob@example.com" is a header line, not a contact line.
  if (label !== undefined && isHeaderLabel(label)) return false;
  return phone === undefined || (phone.match(/\d/g)?.length ?? 0) >= 6;
}

/**
 * Whether the line at `at` is a lone rule of underscores with only the sender's contact lines
 * (addresses, phone numbers, URLs) under it to the end: a signature block the sender set off with
 * a rule, not a quote whose header a client stripped (that quote has the old message's text).
 */
function contactBlockBelow(text: string, at: number): boolean {
  const lineEnd = text.indexOf('\n', at);
  if (lineEnd < 0 || !/^[ \t]*_+[ \t]*\r?$/.test(text.slice(at, lineEnd))) return false;
  const lines = text
    .slice(lineEnd + 1)
    .split('\n')
    .filter((line) => line.trim());
  return lines.length > 0 && lines.every(isContactLine);
}

function normaliseSpace(value: string): string {
  return value.replace(/\s+/g, ' ').trim();
}

/**
 * Text has no invisible carrier that survives every charset, so "already signed" means the exact
 * signature text (whitespace-insensitive) already stands in the new part.
 */
export function textHasOurSignature(text: string, quote: QuoteLocation, signatureText: string): boolean {
  const wanted = normaliseSpace(signatureText);
  if (!wanted) return false;
  const part = newPart(text, quote);
  // Only white space is normalised, so each word of the signature stands in the part as written:
  // one missing is told by a native search, without normalising a whole new message (about 7 ms
  // a megabyte of plain text).
  if (wanted.split(' ').some((word) => !part.includes(word))) return false;
  return normaliseSpace(part).includes(wanted);
}

/** How a text part is laid out (RFC 3676), from its Content-Type parameters. */
export interface TextFormat {
  flowed: boolean;
}

/**
 * The signature lines for a format=flowed part: no line may end with a space (it would flow into
 * the next), except the `-- ` delimiter, which RFC 3676 §4.3 keeps fixed; lines starting with a
 * space, `>` or `From ` are space-stuffed (§4.4). Holds for `delsp=yes` too, which only changes
 * what a trailing space means.
 */
function flowedLines(signature: string): string {
  return signature
    .split('\n')
    .map((line) => (line === '-- ' ? line : withoutTrailingBlanks(line)))
    .map((line) => (/^(?: |>|From )/.test(line) ? ` ${line}` : line))
    .join('\n');
}

function withoutTrailingBlanks(line: string): string {
  let end = line.length;
  while (end > 0 && (line[end - 1] === ' ' || line[end - 1] === '\t')) end--;
  return line.slice(0, end);
}

function withoutTrailingNewlines(text: string): string {
  let end = text.length;
  while (end > 0 && text[end - 1] === '\n') end--;
  return text.slice(0, end);
}

/**
 * Inserts the text signature as its own paragraph, using the body's own line ending: above the
 * quote of a top-posted reply, else at the end. In flowed text a blank line always separates it
 * from a line before it that ends with a space, so it never joins that paragraph.
 */
export function insertTextSignature(
  text: string,
  signatureText: string,
  quote: QuoteLocation,
  placement: 'underReply' | 'bottom',
  eol: string,
  format: TextFormat = { flowed: false },
): string {
  const lines = withoutTrailingNewlines(signatureText.replace(/\r\n/g, '\n'));
  const signature = (format.flowed ? flowedLines(lines) : lines).replace(/\n/g, eol);
  const at =
    placement !== 'underReply' || quote.start < 0 ? -1 : quote.tail < 0 ? quote.start : (quote.end ?? -1);
  if (at >= 0) {
    const before = text.slice(0, at);
    const softBreak = format.flowed && / \r?\n$/.test(before);
    // Under an answer (interleaved reply) a blank line sets the signature apart from it.
    const underAnswer = at === quote.end;
    const lead =
      before.length === 0
        ? ''
        : !before.endsWith('\n')
          ? eol + (underAnswer ? eol : '')
          : softBreak || underAnswer
            ? eol
            : '';
    return `${before}${lead}${signature}${eol}${eol}${text.slice(at)}`;
  }
  const lead = text.length === 0 ? '' : text.endsWith('\n') ? eol : eol + eol;
  return `${text}${lead}${signature}${eol}`;
}
