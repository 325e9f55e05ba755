/**
 * An independent guess at where the sender's newest text ends, written from the mail clients'
 * formats and deliberately NOT from src/signing: it proposes the labels of the real-world
 * placement suite, which a person then reviews by eye. If it shared code with the engine, the
 * suite would only measure the engine against itself.
 *
 * The answer is two lines of the decoded body: the last line of new text that must stand above the
 * signature, and the first line of the quoted thread that must stand below it (none = end of body).
 */

/** `quote-only`: the body opens with the quote (a forward or reply without a comment). */
export type ReplyKind = 'new' | 'top' | 'bottom' | 'interleaved' | 'quote-only';

export interface Boundary {
  kind: ReplyKind;
  /** 1-based number of the last line of new text above the signature; 0 when there is none. */
  aboveLine: number;
  /** 1-based number of the first line of the quoted thread; null = the end of the body. */
  belowLine: number | null;
  /** What the quote starts with, for the reviewer and the client guess. */
  marker: string | null;
}

// Words the clients write, per language (`|`-separated; a space also matches an NBSP). Sources:
// Outlook's and Thunderbird's localised reply headers as they appear in public mail archives, and
// each client's documented reply format.
const FROM_LABELS = words(
  'from|de|von|van|da|fra|från|od|от|від|kimden|lähettäjä|feladó|από|差出人|发件人|寄件者|보낸 사람|' +
    'expéditeur|remitente|من',
);
const OTHER_LABELS = words(
  'sent|date|to|cc|subject|envoyé|envoyé le|à|a|objet|copie à|sujet|gesendet|datum|an|betreff|' +
    'verzonden|aan|onderwerp|enviado|enviado el|fecha|para|asunto|inviato|data|oggetto|sendt|til|' +
    'emne|dato|skickat|till|ämne|wysłano|wysłane|do|temat|отправлено|дата|кому|тема|gönderildi|' +
    'tarih|kime|konu|lähetetty|vastaanottaja|aihe|elküldve|címzett|tárgy|odesláno|komu|předmět|' +
    'assunto|enviada|送信日時|宛先|件名|发送时间|收件人|主题|寄件日期|收件者|主旨|받는 사람|보낸 날짜|제목|' +
    'στάλθηκε|προς|θέμα|надіслано|reply-to|sent at|تم الإرسال|إلى|الموضوع',
);
const WROTE_VERBS = words(
  'wrote|writes|sent|a écrit|schrieb|schreef|escribió|escribio|ha scritto|escreveu|skrev|skriver|' +
    'kirjoitti|napisał|napisał(a)|napisala|napisana|napsal|napsal(a)|pisze|írta|yazdı|пишет|написал|' +
    'написал(а)|написав|пише|đã viết|έγραψε|ha escrit|het volgende geschreven|geschreven|a scris|写道|寫道|' +
    'のメッセージ|작성|كتب|كتبت',
);
const SEPARATOR_WORDS = words(
  "original message|forwarded message|message d'origine|message original|message transféré|" +
    'ursprüngliche nachricht|original-nachricht|weitergeleitete nachricht|mensaje original|' +
    'mensaje reenviado|messaggio originale|messaggio inoltrato|mensagem original|' +
    'mensagem encaminhada|oorspronkelijk bericht|doorgestuurd bericht|wiadomość oryginalna|' +
    'ursprungligt meddelande|oprindelig meddelelse|oprindelig besked|videresendt meddelelse|' +
    'opprinnelig melding|alkuperäinen viesti|původní zpráva|eredeti üzenet|исходное сообщение|' +
    'пересылаемое сообщение|αρχικό μήνυμα|missatge original|元のメッセージ|原始邮件|原始郵件|원본 메시지|' +
    'reply message|original email',
);

function words(list: string): string[] {
  return list.split('|');
}
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
const alt = (list: string[]) => list.map((w) => escape(w).replace(/ /gu, '[ \\u00a0]')).join('|');

// Labels as clients write them: `From:`, `*From:*` (Outlook mobile), `**Von:**` (markdown), `De :`.
const LABEL = (list: string[]) =>
  new RegExp(`^\\s*\\*{0,2}[ \\u00a0]*(?:${alt(list)})[ \\u00a0]*\\*{0,2}[ \\u00a0]*[:：]`, 'iu');
const FROM_LINE = LABEL(FROM_LABELS);
const ANY_HEADER_LINE = LABEL([...FROM_LABELS, ...OTHER_LABELS]);
// The verb ends the line, or is followed by the date/address and a colon ("schrieb am …:").
const WROTE_END = new RegExp(`(?:${alt(WROTE_VERBS)})(?:[^\\n]{0,160}[:：])?\\s*-*\\s*$`, 'iu');
// Samsung Email writes the first header right after the closing dashes, on the same line.
const SEPARATOR = new RegExp(`^\\s*[-_=*]{2,}\\s*(?:${alt(SEPARATOR_WORDS)})\\s*[-_=*]{2,}`, 'iu');
const FORWARD_INTRO =
  /^\s*(?:begin forwarded message|anfang der weitergeleiteten nachricht|début du message réexpédié)\s*:/iu;
const RULE = /^\s*(?:_{20,}|-{20,}|—{10,})\s*$/u;
const QUOTED = /^\s*>/u;
/**
 * What `body.split(/(<[^>]*>)/u)` gives (text, tag, text…), without a pattern that rescans the rest
 * of the body from every `<` that has no `>` after it.
 */
function tagsAndText(body: string): string[] {
  const out: string[] = [];
  for (let at = 0; ;) {
    const open = body.indexOf('<', at);
    const close = open < 0 ? -1 : body.indexOf('>', open);
    if (close < 0) {
      out.push(body.slice(at));
      return out;
    }
    out.push(body.slice(at, open), body.slice(open, close + 1));
    at = close + 1;
  }
}

const EMAIL = /(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+/u;
const DATEISH = /\d{1,4}[./:-]\d{1,2}|\d{4}|年|\b(?:mon|tue|wed|thu|fri|sat|sun)\b/iu;
const ATTRIBUTION_LEAD =
  /^\s*(?:on|le|am|el|il|em|op|den|dne|w dniu|dnia|в|στις|en|the|at|date|----)\b|^\s*\d{1,4}[./-]|^\s*\d{4}年/iu;

const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]/gu;
const TIME_OR_YEAR = /\d{1,2}[:.]\d{2}|\b(?:19|20)\d{2}\b/u;
const blank = (line: string | undefined) => line === undefined || line.replace(INVISIBLE, '').trim() === '';

/** A line (or a line joined with the next one to three) that introduces a quote: "On … wrote:". */
function attributionSpan(lines: string[], i: number): number {
  for (let span = 1; span <= 4; span++) {
    const part = lines.slice(i, i + span);
    // Gmail may wrap the address's closing `>:` onto a line of its own, which looks like a quote.
    const wrappedEnd = (l: string) => /^\s*>\s*[:：]\s*$/u.test(l);
    if (part.length < span || part.some((l, k) => blank(l) || (k > 0 && QUOTED.test(l) && !wrappedEnd(l))))
      break;
    const joined = part.join(' ');
    if (joined.length > 300) break;
    // Gmail's date-first form ends with `Name <address>:`, wrapped after the `<` on long addresses.
    if (!WROTE_END.test(joined) && !/\S\s*<\s?[^<>\s][^<>\s@]*@[^<>\s]+>\s*[:：]\s*$/u.test(joined)) continue;
    const lead = ATTRIBUTION_LEAD.test(part[0] ?? '');
    // A wrapped attribution starts where the attribution starts: with its lead word or its date,
    // never in the middle of a sentence of new text above it.
    if (span > 1 && !lead && !TIME_OR_YEAR.test(part[0] ?? '')) continue;
    // Four lines only around an address broken before its `@`, never a paragraph of new text.
    if (span === 4 && !part.some((l, k) => k > 0 && /^\s*@/u.test(l))) continue;
    const dated = DATEISH.test(joined);
    const mailed = EMAIL.test(joined);
    const next = lines.slice(i + span).find((l) => !blank(l));
    const quoteFollows = next !== undefined && QUOTED.test(next);
    if (lead || dated || mailed || quoteFollows) return span;
  }
  return 0;
}

/** A header block: a From-like label with another label within the next four lines. */
function headerBlock(lines: string[], i: number): boolean {
  if (!FROM_LINE.test(lines[i] ?? '')) return false;
  for (let k = i + 1; k <= i + 4 && k < lines.length; k++) {
    if (ANY_HEADER_LINE.test(lines[k] ?? '')) return true;
  }
  return false;
}

interface Marker {
  line: number;
  kind: 'quote' | 'attribution' | 'header' | 'separator' | 'forward';
}

/** Where the quoted thread starts, searching from `from`; a separator keeps the block it opens. */
export function findMarker(lines: string[], from = 0): Marker | null {
  for (let i = from; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (QUOTED.test(line)) return { line: i, kind: 'quote' };
    if (SEPARATOR.test(line)) return { line: i, kind: 'separator' };
    if (FORWARD_INTRO.test(line)) return { line: i, kind: 'forward' };
    if (/^\s*-{2,}\s*(?:on|am|le)\b.*--\s*$/iu.test(line)) return { line: i, kind: 'attribution' };
    if (RULE.test(line) || /^\s*-{4,}\s*$/u.test(line)) {
      // A rule opens a quote only when a header block follows it (blank lines allowed), also one
      // whose From: comes after Date: or To: (outlook.com, Outlook 2003).
      let k = i + 1;
      while (k < lines.length && blank(lines[k])) k++;
      for (let j = k; j < k + 4 && ANY_HEADER_LINE.test(lines[j] ?? ''); j++)
        if (headerBlock(lines, j)) return { line: i, kind: 'separator' };
      continue;
    }
    if (headerBlock(lines, i)) {
      // Some clients put To: or Date: above From: (Outlook for Mac, outlook.com).
      let start = i;
      while (start > from && ANY_HEADER_LINE.test(lines[start - 1] ?? '')) start--;
      return { line: start, kind: 'header' };
    }
    if (attributionSpan(lines, i)) return { line: i, kind: 'attribution' };
  }
  return null;
}

function lastTextLine(lines: string[], before: number): number {
  for (let i = before - 1; i >= 0; i--) if (!blank(lines[i])) return i + 1;
  return 0;
}

/** Proposes the boundary for a decoded text body. */
export function detectText(body: string): Boundary {
  const lines = body.split(/\r?\n/u).map((line) => line.replace(INVISIBLE, ''));
  const first = findMarker(lines);
  if (!first)
    return { kind: 'new', aboveLine: lastTextLine(lines, lines.length), belowLine: null, marker: null };
  const aboveTop = lastTextLine(lines, first.line);
  const marker = (lines[first.line] ?? '').trim();
  // Unprefixed quotes (header blocks, separators) run to the end: nothing after them is new.
  const prefixed =
    first.kind === 'quote' ||
    (first.kind === 'attribution' &&
      QUOTED.test(lines.slice(first.line + 1).find((l) => !blank(l) && !attributionSpan([l], 0)) ?? ''));
  if (!prefixed) {
    return { kind: aboveTop ? 'top' : 'quote-only', aboveLine: aboveTop, belowLine: first.line + 1, marker };
  }
  // `>` quoting: unquoted text after a quote block is the sender's own (bottom-posting or
  // interleaving) unless it is itself the start of another, unprefixed quote.
  let lastNew = 0;
  let sawQuote = false;
  let newBetween = false;
  for (let i = first.line; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (blank(line)) continue;
    // A rule after the quote opens a footer (a mailing list's), not more new text.
    if (RULE.test(line)) break;
    if (QUOTED.test(line)) {
      sawQuote = true;
      if (lastNew) newBetween = true;
      continue;
    }
    // A quoted line the sender's client wrapped without its `>` (Gmail does): between two quoted lines.
    if (QUOTED.test(lines[i - 1] ?? '') && QUOTED.test(lines[i + 1] ?? '')) continue;
    const span = attributionSpan(lines, i);
    if (span) {
      const next = lines.slice(i + span).find((l) => !blank(l));
      if (next !== undefined && QUOTED.test(next)) {
        i += span - 1;
        continue;
      }
    }
    if (sawQuote) {
      const m = findMarker(lines, i);
      if (m && m.line === i && m.kind !== 'quote') break;
    }
    lastNew = i + 1;
  }
  if (!lastNew)
    return { kind: aboveTop ? 'top' : 'quote-only', aboveLine: aboveTop, belowLine: first.line + 1, marker };
  return {
    kind: newBetween || aboveTop ? 'interleaved' : 'bottom',
    aboveLine: lastNew,
    belowLine: null,
    marker,
  };
}

/** HTML to lines of text, blockquotes marked with `>` so the text rules apply. */
export function htmlToLines(html: string): string {
  let depth = 0;
  const out: string[] = [];
  let current = '';
  const push = () => {
    out.push(current.trim() ? '>'.repeat(depth) + (depth ? ' ' : '') + current.trim() : '');
    current = '';
  };
  const body = html.replace(/<(script|style|head)\b[\s\S]*?<\/\1>/giu, '');
  for (const token of tagsAndText(body)) {
    if (token.startsWith('<')) {
      const tag = /^<\/?\s*([a-z0-9]+)/iu.exec(token)?.[1]?.toLowerCase() ?? '';
      if (tag === 'blockquote') {
        push();
        depth += token.startsWith('</') ? -1 : 1;
        depth = Math.max(depth, 0);
      } else if (/^(?:br|p|div|tr|li|h\d|hr|table)$/u.test(tag)) {
        push();
        if (tag === 'hr' && !token.startsWith('</')) out.push('-'.repeat(30));
      }
      continue;
    }
    current += token
      .replace(/&nbsp;/gu, ' ')
      .replace(/&lt;/gu, '<')
      .replace(/&gt;/gu, '>')
      .replace(/&amp;/gu, '&')
      .replace(/&quot;/gu, '"')
      .replace(/&#39;/gu, "'")
      .replace(/\s+/gu, ' ');
  }
  push();
  return out.join('\n');
}
