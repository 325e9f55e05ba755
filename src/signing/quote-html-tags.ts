/**
 * A linear HTML tag scanner for quote detection. Quoted threads are attacker text: a pattern such
 * as `<div\b[^>]*\bclass=…` retried at every `<` of `<div class=x <div class=x …` (no `>`) costs
 * cubic time. Here every character is visited a bounded number of times: a tag is read once, from
 * its `<` to its `>` (quotes respected, as browsers do), and scanning resumes after it; a tag or
 * comment that never closes ends the scan, because nothing after it can be markup.
 *
 * Written by hand rather than with htmlparser2's Tokenizer: placement needs exact source offsets
 * of each tag and nothing else, and a stop at any tag, which a push tokenizer cannot give.
 */

/** One start or end tag as it stands in the source. */
export interface HtmlTag {
  /** Offset of `<`. */
  start: number;
  /** Offset just after `>`. */
  end: number;
  /** Lower-cased tag name; `!` for a comment or doctype, `#raw` for a script's or style's content. */
  name: string;
  closing: boolean;
  /** Attributes, lower-cased names, first occurrence wins (as in browsers); empty for end tags. */
  attributes: ReadonlyMap<string, string>;
}

const NO_ATTRIBUTES: ReadonlyMap<string, string> = new Map();

/** Elements whose content is text up to their end tag, never markup. */
const RAW_TEXT = new Set(['script', 'style', 'title', 'textarea', 'xmp']);

/**
 * Characters visited by the scanner since the process started: the linear-time tests read it to
 * count work instead of timing it.
 */
let visited = 0;
export function scannerWork(): number {
  return visited;
}

function isAsciiLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/** HTML's ASCII white space (space, tab, LF, FF, CR), as a character code. */
export function isTagSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d;
}

/**
 * Attributes recorded per tag; the rest are read past for the tag's end but not kept. Clients
 * write a handful; a tag that never closes (`<div class=x <div class=x …`) would otherwise
 * allocate a name and a value for every word of the body.
 */
const MAX_ATTRIBUTES = 64;

/**
 * What nextIndexOf answers when the needle is not there: past the end of any string (V8 caps
 * them below 2^29 characters), and a small integer, so positions compared with it stay integers
 * in optimised code (Infinity, a double, made the scans slower).
 */
export const NOWHERE = 0x3fffffff;

/**
 * The next `needle` in `text` at or after `at`, given the one an earlier search found (`cached`;
 * -1 before the first): searched again only once `at` has passed it, so searches moving forward
 * read each character once. NOWHERE when there is none.
 */
export function nextIndexOf(text: string, needle: string, cached: number, at: number): number {
  if (cached >= at) return cached;
  const found = text.indexOf(needle, at);
  return found < 0 ? NOWHERE : found;
}

/**
 * The name last read: markup repeats its tags (`<p>…</p><p>`, `<td>` after `<td>`), so a name
 * equal to it in the source is the same string, without a slice and a lower-casing per tag.
 */
let lastName = '';

function tagName(html: string, start: number, end: number): string {
  if (end - start === lastName.length && html.startsWith(lastName, start)) return lastName;
  lastName = html.slice(start, end).toLowerCase();
  return lastName;
}

/** Reads the tag whose `<` is at `start`; undefined when it never closes. */
function readTag(html: string, start: number, closing: boolean): HtmlTag | undefined {
  let i = start + (closing ? 2 : 1);
  const nameStart = i;
  while (i < html.length) {
    const code = html.charCodeAt(i);
    if (isTagSpace(code) || code === 0x2f || code === 0x3e) break;
    i++;
  }
  const name = tagName(html, nameStart, i);
  // Most tags carry no attributes (`<p>`, `<br>`, end tags): their shared empty map saves an
  // allocation per tag, which is what a body of `<a><a><a>…` is made of.
  let attributes: Map<string, string> | undefined;
  let seen = 0;
  // Where the next `>` and quotes stand, once attributes are no longer recorded.
  let gt = -1;
  let double = -1;
  let single = -1;
  while (i < html.length) {
    const code = html.charCodeAt(i);
    if (code === 0x3e) {
      visited += i + 1 - start;
      return { start, end: i + 1, name, closing, attributes: attributes ?? NO_ATTRIBUTES };
    }
    if (isTagSpace(code) || code === 0x2f) {
      i++;
      continue;
    }
    if (closing || seen >= MAX_ATTRIBUTES) {
      // Nothing more is recorded, so only where the tag ends matters: at the next `>` when no
      // quote stands before it (only a quoted value can hold a `>`), never when no `>` follows.
      // Read natively, a never-closed tag (`<div class=x <div class=x …`) costs no JavaScript
      // step per character (issue 19); a quote before the `>` is read attribute by attribute.
      gt = nextIndexOf(html, '>', gt, i);
      if (gt === NOWHERE) break;
      double = nextIndexOf(html, '"', double, i);
      single = nextIndexOf(html, "'", single, i);
      if (Math.min(double, single) > gt) {
        visited += gt + 1 - start;
        return { start, end: gt + 1, name, closing, attributes: attributes ?? NO_ATTRIBUTES };
      }
    }
    const attrStart = i;
    i++;
    while (i < html.length) {
      const c = html.charCodeAt(i);
      if (isTagSpace(c) || c === 0x2f || c === 0x3e || c === 0x3d) break;
      i++;
    }
    const record = !closing && seen++ < MAX_ATTRIBUTES;
    const attrName = record ? html.slice(attrStart, i).toLowerCase() : '';
    let j = i;
    while (j < html.length && isTagSpace(html.charCodeAt(j))) j++;
    let value = '';
    if (html.charCodeAt(j) === 0x3d) {
      j++;
      while (j < html.length && isTagSpace(html.charCodeAt(j))) j++;
      const quote = html[j];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, j + 1);
        if (close < 0) break;
        value = record ? html.slice(j + 1, close) : '';
        i = close + 1;
      } else {
        const valueStart = j;
        while (j < html.length) {
          const c = html.charCodeAt(j);
          if (isTagSpace(c) || c === 0x3e) break;
          j++;
        }
        value = record ? html.slice(valueStart, j) : '';
        i = j;
      }
    }
    if (!record) continue;
    attributes ??= new Map<string, string>();
    if (!attributes.has(attrName)) attributes.set(attrName, value);
  }
  visited += html.length - start;
  return undefined;
}

/**
 * A run of `<`, read from its first (sticky: it never searches on). Written as blocks of 16 and
 * a rest: V8 matches a literal block in one comparison, about four times faster on a long run
 * than `<+` (`<{16}` is not compiled that way). Each part always matches, so nothing backtracks.
 */
const LESS_THAN_RUN = new RegExp(`(?:${'<'.repeat(16)})*<*`, 'y');

/**
 * The first `<` at or after `from` and before `to` that opens markup (a tag, end tag, comment or
 * declaration), or -1. A `<` followed by anything else is text; runs of them (`<<<<`, a hostile
 * shape) are stepped over in one native match, rather than one search (or one JavaScript
 * comparison) per `<`.
 */
function nextMarkup(html: string, from: number, to: number): number {
  let lt = html.indexOf('<', from);
  while (lt >= 0 && lt < to) {
    // Only the last `<` of a run can open markup.
    if (html.charCodeAt(lt + 1) === 0x3c) {
      LESS_THAN_RUN.lastIndex = lt;
      LESS_THAN_RUN.test(html);
      lt = Math.min(LESS_THAN_RUN.lastIndex, to) - 1;
    }
    const next = html.charCodeAt(lt + 1);
    if (next === 0x21 || next === 0x3f || isAsciiLetter(next === 0x2f ? html.charCodeAt(lt + 2) : next))
      return lt;
    lt = html.indexOf('<', lt + 1);
  }
  return -1;
}

/**
 * The start and end tags of `html` from `from` (an offset outside any tag) up to `to`, in order.
 * Comments, doctypes and the content of raw-text elements (script, style…) are skipped.
 */
export function htmlTags(html: string, from = 0, to = html.length): IterableIterator<HtmlTag> {
  return new HtmlTagIterator(html, from, to);
}

/** Copies of a pair of bare tags in a row for which TagNames compiles a pattern. */
const COPIES_COMPILED = 32;

/**
 * Tag names a reader acts on, and the raw-text elements (their content is never markup, so the
 * pass never steps over their start tags), as one native match over a run of bare tags named
 * otherwise: a body of `<br><br>…` is stepped over with no JavaScript step per tag.
 */
export class TagNames {
  /** Bare start and end tags (`<a>`, `</P>`) whose name is none of these, as many as stand in a row. */
  private readonly run: RegExp;
  /** The first two such tags, when two stand in a row. */
  private readonly pair: RegExp;
  /** The last pair's source, and copies of it in a row (a literal: V8 matches it per block). */
  private unit = '';
  private copies = /$^/y;

  constructor(names: Iterable<string>) {
    const all = [...new Set([...names, ...RAW_TEXT])].join('|');
    const bare = `</?(?!(?:${all})>)[A-Za-z][A-Za-z0-9]*>`;
    this.run = new RegExp(`(?:${bare})*`, 'iy');
    this.pair = new RegExp(`(?:${bare}){2}`, 'iy');
  }

  /** The end of the run of bare tags not named here from `at` (`at` when there is none). */
  runEnd(html: string, at: number): number {
    // A long run mostly repeats its first two tags (`<a><a>`, `<p></p>`, `<b><i>`): exact copies
    // of a pair of bare tags not named here are such tags too, and a literal's copies are
    // matched several times faster than tag by tag.
    this.pair.lastIndex = at;
    if (this.pair.test(html)) {
      const unit = html.slice(at, this.pair.lastIndex);
      // A pattern is compiled only for a pair with many copies below it: a body of pairs that
      // each repeat a few times (`<a1><a1><a2><a2>…`) is read tag by tag, not compiled per pair.
      if (unit !== this.unit && html.startsWith(unit, this.pair.lastIndex)) {
        if (html.startsWith(unit.repeat(COPIES_COMPILED), at)) {
          this.unit = unit;
          this.copies = new RegExp(`(?:${unit.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')})*`, 'y');
        }
      }
      if (unit === this.unit) {
        this.copies.lastIndex = at;
        this.copies.test(html);
        at = this.copies.lastIndex;
      }
    }
    this.run.lastIndex = at;
    this.run.test(html);
    return this.run.lastIndex;
  }
}

/** A pass over the tags that steps over bare tags its reader does not act on (htmlTagPass). */
export interface HtmlTagPass extends IterableIterator<HtmlTag> {
  /** The end of the last tag stepped over, or -1: the text before the next tag starts there. */
  readonly skippedTo: number;
}

/**
 * htmlTags for a reader that acts on some tags only: a bare tag (`<a>`, `</p>`: a name of letters
 * and digits, no attributes) that right follows the tag last returned and whose name `acted()`
 * does not hold is stepped over, with no token built for it. Nothing stands between such tags,
 * so the reader misses no text; the text before the next tag it gets starts at `skippedTo`. A
 * body of bare tags (`<a><a><a>…`, issue 19) is then a few comparisons per tag.
 */
export function htmlTagPass(html: string, acted: () => TagNames): HtmlTagPass {
  return new HtmlTagIterator(html, 0, html.length, acted);
}

/**
 * htmlTags as a plain iterator rather than a generator: a body of bare tags (`<a><a><a>…`, issue
 * 19) is a tag per 3 bytes, and a generator's resume and result object per tag cost as much as
 * reading the tag.
 */
class HtmlTagIterator implements IterableIterator<HtmlTag> {
  private at: number;
  /** A raw-text element's content, yielded after its start tag. */
  private raw: HtmlTag | undefined;
  skippedTo = -1;

  constructor(
    private readonly html: string,
    from: number,
    private readonly to: number,
    private readonly acted?: () => TagNames,
  ) {
    this.at = from;
  }

  [Symbol.iterator](): IterableIterator<HtmlTag> {
    return this;
  }

  next(): IteratorResult<HtmlTag> {
    if (this.acted && !this.raw) this.skipBare(this.acted());
    const tag = this.read();
    if (tag) return { done: false, value: tag };
    this.at = this.to;
    return { done: true, value: undefined };
  }

  /** Steps over the bare tags from `at` whose names `acted` does not hold (see htmlTagPass). */
  private skipBare(acted: TagNames): void {
    const at = acted.runEnd(this.html, this.at);
    // htmlTagPass reads to the end; a run past a nearer end is left to the full reader.
    if (at === this.at || at > this.to) return;
    visited += at - this.at;
    this.at = at;
    this.skippedTo = at;
  }

  private read(): HtmlTag | undefined {
    const { html, to } = this;
    if (this.raw) {
      const raw = this.raw;
      this.raw = undefined;
      this.at = raw.end;
      return raw;
    }
    const i = this.at;
    if (i >= to) return undefined;
    const lt = nextMarkup(html, i, to);
    visited += (lt < 0 ? to : lt) - i;
    if (lt < 0) return undefined;
    const next = html.charCodeAt(lt + 1);
    if (next === 0x21 || next === 0x3f) {
      // <!-- comment -->, <!DOCTYPE …>, <?…>: skipped whole.
      const comment = html.startsWith('<!--', lt);
      const close = comment ? html.indexOf('-->', lt + 4) : html.indexOf('>', lt + 2);
      if (close < 0) return undefined;
      const end = close + (comment ? 3 : 1);
      visited += end - lt;
      this.at = end;
      return { start: lt, end, name: '!', closing: false, attributes: NO_ATTRIBUTES };
    }
    const closing = next === 0x2f;
    const tag = readTag(html, lt, closing);
    if (!tag || tag.end > to) return undefined;
    this.at = tag.end;
    if (!closing && RAW_TEXT.has(tag.name)) {
      const endTag = new RegExp(`</${tag.name}`, 'gi');
      endTag.lastIndex = tag.end;
      const found = endTag.exec(html);
      if (!found) {
        // The generator yielded the tag and then stopped.
        this.at = to;
        return tag;
      }
      visited += found.index - tag.end;
      this.raw = {
        start: tag.end,
        end: found.index,
        name: '#raw',
        closing: false,
        attributes: NO_ATTRIBUTES,
      };
    }
    return tag;
  }
}

/** Whether `value` holds `word` as a whole word (not inside a longer name: `_`, letters, digits). */
export function hasWord(value: string, word: string): boolean {
  const lower = value.toLowerCase();
  for (let at = lower.indexOf(word); at >= 0; at = lower.indexOf(word, at + 1)) {
    const before = lower.charCodeAt(at - 1);
    const after = lower.charCodeAt(at + word.length);
    if (!isWordCode(before) && !isWordCode(after)) return true;
  }
  return false;
}

function isWordCode(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x41 && code <= 0x5a) ||
    code === 0x5f
  );
}

/** A run of white space (`\s`) other than one plain space: what collapseSpaces rewrites. */
const SPACE_RUN = /[^\S ]\s*| \s+/g;

/** Text nodes from this long are collapsed in a buffer instead of by SPACE_RUN. */
const LONG_TEXT = 4096;

/** Any code unit above Latin-1 (no `u` flag: surrogates are code units here too). */
const NOT_LATIN1 = /[\u0100-\uffff]/;

/** Whether `code` is white space as `\s` reads it. */
function isWhiteSpace(code: number): boolean {
  return (
    code === 0x20 ||
    (code >= 0x09 && code <= 0x0d) ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/**
 * `text` with each run of white space as one space (`replace(/\s+/g, ' ')`). A pattern's global
 * replace costs about 0.1 µs per match: a long node of short lines (`From: x\nSent: y\n…`, issue
 * 19) took 30 ms per MB, a replace per line. Long nodes are rewritten in place in a copy of their
 * code units (one byte each when they are all Latin-1), 2–5 ms per MB whatever their lines.
 */
export function collapseSpaces(text: string): string {
  if (text.length < LONG_TEXT) return text.replace(SPACE_RUN, ' ');
  const latin1 = !NOT_LATIN1.test(text);
  const bytes = Buffer.from(text, latin1 ? 'latin1' : 'utf16le');
  const units = latin1 ? bytes : new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1);
  let kept = 0;
  let afterSpace = false;
  for (let i = 0; i < units.length; i++) {
    const code = units[i] as number;
    if (!isWhiteSpace(code)) {
      units[kept++] = code;
      afterSpace = false;
    } else if (!afterSpace) {
      units[kept++] = 0x20;
      afterSpace = true;
    }
  }
  return latin1 ? bytes.toString('latin1', 0, kept) : bytes.toString('utf16le', 0, 2 * kept);
}

/** The text of `html` between `from` and `to` without its tags (entities left as written). */
export function withoutTags(html: string, from = 0, to = html.length): string {
  const parts: string[] = [];
  let at = from;
  for (const tag of htmlTags(html, from, to)) {
    parts.push(html.slice(at, tag.start));
    at = tag.end;
  }
  parts.push(html.slice(at, to));
  return parts.join('');
}

/** Adds the characters a caller of the scanner read again (text nodes, bounded windows). */
export function countWork(characters: number): void {
  visited += characters;
}
