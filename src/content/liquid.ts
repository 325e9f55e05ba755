import {
  Liquid,
  Tag,
  TypeGuards,
  type Context,
  type Emitter,
  type FS,
  type Parser,
  type TagToken,
  type Template,
  type TopLevelToken,
} from 'liquidjs';

/**
 * The Liquid dialect of signature templates: HTML output is escaped unless a template says `| raw`,
 * partials come only from the configuration's own templates (never the disk), and a few helpers
 * make empty directory attributes disappear instead of leaving blank lines or stray separators.
 */
export function createLiquid(kind: 'html' | 'text', partials: ReadonlyMap<string, string>): Liquid {
  const liquid = new Liquid({
    outputEscape: kind === 'html' ? 'escape' : undefined,
    strictFilters: true,
    ownPropertyOnly: true,
    fs: memoryFs(partials),
    root: ['/'],
    extname: kind === 'html' ? '.html' : '.txt',
    relativeReference: false,
  });
  liquid.registerFilter('phone', phone);
  liquid.registerFilter('tel', tel);
  liquid.registerFilter('join_present', joinPresent);
  liquid.registerFilter('prefix', (value: unknown, label: unknown) => {
    const text = asText(value);
    return text ? `${verbatim(label)}${text}` : '';
  });
  liquid.registerTag('lines', linesTag(kind === 'html' ? '<br>\n' : '\n', kind));
  return liquid;
}

/** Tidies a phone number for display: Entra holds free text, so only whitespace is normalised. */
function phone(value: unknown): string {
  return asText(value).replace(/\s+/g, ' ');
}

/** A `tel:` URI (RFC 3966 global form when the number starts with +), or '' for no number. */
function tel(value: unknown): string {
  const text = asText(value);
  const digits = text.replace(/[^\d+]/g, '').replace(/(?!^)\+/g, '');
  return digits.replace('+', '') ? `tel:${digits}` : '';
}

/** `{{ user.jobTitle | join_present: " | ", user.department }}`: joins only the non-empty parts. */
function joinPresent(first: unknown, separator: unknown, ...rest: unknown[]): string {
  return [first, ...rest]
    .flat()
    .map(asText)
    .filter((s) => s !== '')
    .join(verbatim(separator));
}

/** Separators and labels keep their spaces (`" | "`); values are trimmed. */
function verbatim(value: unknown): string {
  return typeof value === 'string' ? value : asText(value);
}

function asText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '';
}

/**
 * `{% lines %}…{% endlines %}`: every source line is one line of the signature, and a line that
 * renders with no visible text (and no image) is dropped. This is what keeps a missing mobile number
 * from leaving a gap; lines are joined with `<br>` in HTML and newlines in text.
 */
function linesTag(separator: string, kind: 'html' | 'text') {
  return class LinesTag extends Tag {
    private readonly templates: Template[] = [];

    constructor(token: TagToken, remainTokens: TopLevelToken[], liquid: Liquid, parser: Parser) {
      super(token, remainTokens, liquid);
      while (remainTokens.length) {
        const next = remainTokens.shift();
        if (!next) break;
        if (TypeGuards.isTagToken(next) && next.name === 'endlines') return;
        this.templates.push(parser.parseToken(next, remainTokens));
      }
      throw new Error(`tag ${token.getText()} not closed`);
    }

    *render(ctx: Context, emitter: Emitter): Generator<unknown, void, string> {
      const rendered = yield this.liquid.renderer.renderTemplates(this.templates, ctx);
      const kept = rendered
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => (kind === 'html' ? hasVisibleHtml(line) : line !== ''));
      emitter.write(kept.join(separator));
    }

    *children(): Generator<unknown, Template[]> {
      return this.templates;
    }
  };
}

function hasVisibleHtml(line: string): boolean {
  if (/<img\b/i.test(line)) return true;
  const visible = line
    .replace(/<[^>]*>/g, '')
    .replace(/&nbsp;|&#160;|&#xa0;/gi, '')
    .trim();
  return visible !== '';
}

/** Partials (`{% render 'footer' %}`) resolve only among the configuration's templates. */
function memoryFs(files: ReadonlyMap<string, string>): FS {
  const lookup = (file: string): string => {
    const content = files.get(file.replace(/^\/+/, ''));
    if (content === undefined) throw new Error(`no template ${file}`);
    return content;
  };
  return {
    exists: (file) => Promise.resolve(files.has(file.replace(/^\/+/, ''))),
    existsSync: (file) => files.has(file.replace(/^\/+/, '')),
    readFile: (file) => Promise.resolve(lookup(file)),
    readFileSync: lookup,
    resolve: (_dir, file, ext) => (file.includes('.') ? file : `${file}${ext}`),
    contains: () => Promise.resolve(true),
    containsSync: () => true,
  };
}
