import {
  Context,
  Drop,
  IncludeTag,
  Liquid,
  RenderTag,
  Tag,
  toPromise,
  TypeGuards,
  type Emitter,
  type FS,
  type Parser,
  type TagToken,
  type Template,
  type TopLevelToken,
} from 'liquidjs';

/**
 * Bounds on one render. Templates are data an admin edits (and the console renders drafts as they
 * are typed), so a loop of millions, a template that includes itself or a huge output must fail at
 * once with an error naming the file, in the same process that signs mail, instead of blocking it or
 * exhausting its heap. A real signature renders in well under a millisecond, includes one or two
 * partials and is a few kilobytes: the limits are orders of magnitude above that.
 */
export const templateLimits = {
  /** Wall-clock milliseconds for one render (liquidjs checks between nodes). */
  renderMs: 500,
  /** Nested `include` / `render` levels. */
  includeDepth: 8,
  /** Characters of output. */
  outputChars: 1024 * 1024,
  /** liquidjs's allocation units (ranges, joins, string filters) for one render. */
  memoryUnits: 1_000_000,
  /** Characters of template source parsed in one call. */
  parseChars: 1024 * 1024,
} as const;

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
    renderLimit: templateLimits.renderMs,
    memoryLimit: templateLimits.memoryUnits,
    parseLimit: templateLimits.parseChars,
  });
  liquid.registerTag('include', GuardedInclude);
  liquid.registerTag('render', GuardedRender);
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

/** Renders parsed templates within `templateLimits`; a breach throws, naming the limit. */
export async function renderBounded(liquid: Liquid, templates: Template[], data: object): Promise<string> {
  const ctx = new Context(data, liquid.options, {}, { liquid });
  const emitter = new BoundedEmitter(templateLimits.outputChars);
  await toPromise(liquid.renderer.renderTemplates(templates, ctx, emitter));
  return emitter.buffer;
}

/** Liquid's own emitter, refusing to grow past `limit` characters. */
class BoundedEmitter implements Emitter {
  buffer = '';
  constructor(private readonly limit: number) {}

  write(html: unknown): void {
    const text = stringify(html);
    if (this.buffer.length + text.length > this.limit)
      throw new Error(`output is larger than ${this.limit} characters`);
    this.buffer += text;
  }
}

/** What liquidjs's own emitter writes for a value: Drops by their value, arrays joined, nil as ''. */
function stringify(value: unknown): string {
  const plain: unknown = value instanceof Drop ? value.valueOf() : value;
  if (typeof plain === 'string') return plain;
  if (plain === null || plain === undefined) return '';
  if (Array.isArray(plain)) return plain.map(stringify).join('');
  // Exactly liquidjs's fallback, so a Date or an object prints as it did before the bound.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string
  return String(plain);
}

/**
 * Include depth per render. liquidjs shares one render-time limiter between a context and every
 * context spawned from it (`render` spawns, `include` pushes), so it identifies the render.
 */
const includeDepths = new WeakMap<object, number>();

/** `{% include %}` that counts its nesting. */
class GuardedInclude extends IncludeTag {
  override *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    yield withinDepth(ctx, 'include', () => super.render(ctx, emitter));
  }
}

/** `{% render %}` that counts its nesting. */
class GuardedRender extends RenderTag {
  override *render(ctx: Context, emitter: Emitter): Generator<unknown, void, unknown> {
    yield withinDepth(ctx, 'render', () => super.render(ctx, emitter));
  }
}

function* withinDepth(
  ctx: Context,
  tag: string,
  inner: () => Generator<unknown, void, unknown>,
): Generator<unknown, void, unknown> {
  const key = ctx.renderLimit;
  const depth = (includeDepths.get(key) ?? 0) + 1;
  if (depth > templateLimits.includeDepth)
    throw new Error(
      `{% ${tag} %} nests deeper than ${templateLimits.includeDepth} levels (does a template include itself?)`,
    );
  includeDepths.set(key, depth);
  try {
    yield inner();
  } finally {
    includeDepths.set(key, depth - 1);
  }
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
    .replace(/<[^<>]*>/g, '')
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
