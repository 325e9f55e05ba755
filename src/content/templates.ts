import { convert } from 'html-to-text';
import type { Liquid, Template } from 'liquidjs';
import { ConfigError } from '../config/index.js';
import { createLiquid, renderBounded } from './liquid.js';
import { cidReference, type ImageLibrary } from './images.js';

interface Compiled {
  html: Template[];
  htmlFile: string;
  text?: Template[];
  textFile?: string;
}

/** The parsed templates of one configuration, ready to render. */
export class TemplateSet {
  private readonly compiled: ReadonlyMap<string, Compiled>;
  private readonly htmlLiquid: Liquid;
  private readonly textLiquid: Liquid;

  constructor(compiled: ReadonlyMap<string, Compiled>, htmlLiquid: Liquid, textLiquid: Liquid) {
    this.compiled = compiled;
    this.htmlLiquid = htmlLiquid;
    this.textLiquid = textLiquid;
  }

  has(name: string): boolean {
    return this.compiled.has(name);
  }

  get names(): string[] {
    return [...this.compiled.keys()];
  }

  async render(name: string, data: object): Promise<{ html: string; text: string }> {
    const template = this.compiled.get(name);
    if (!template) throw new Error(`no template ${name}`);
    const html = tidyHtml(await renderOrExplain(this.htmlLiquid, template.html, data, template.htmlFile));
    const text =
      template.text && template.textFile
        ? await renderOrExplain(this.textLiquid, template.text, data, template.textFile)
        : htmlToText(html);
    return { html, text: tidyText(text) };
  }
}

/**
 * Parses `templates/<name>.html` and the optional `templates/<name>.txt`. Syntax errors, unknown
 * filters and `cid:` references to missing images fail here, naming the file and line, rather than
 * on the first message.
 */
export function compileTemplates(
  sources: ReadonlyMap<string, string>,
  label: (name: string) => string,
  images: ImageLibrary,
): TemplateSet {
  const htmlLiquid = createLiquid('html', sourcesWithExt(sources, '.html'));
  const textLiquid = createLiquid('text', sourcesWithExt(sources, '.txt'));
  const compiled = new Map<string, Compiled>();
  for (const [file, source] of sources) {
    const match = /^templates\/(.+)\.(html|txt)$/.exec(file);
    if (!match?.[1]) continue;
    const name = match[1];
    if (match[2] === 'txt') {
      if (!sources.has(`templates/${name}.html`))
        throw new ConfigError(label(file), '', `no templates/${name}.html to go with this text template`);
      continue;
    }
    checkImages(source, label(file), images);
    const entry: Compiled = { html: parse(htmlLiquid, source, label(file)), htmlFile: label(file) };
    const text = sources.get(`templates/${name}.txt`);
    if (text !== undefined) {
      entry.textFile = label(`templates/${name}.txt`);
      entry.text = parse(textLiquid, text, entry.textFile);
    }
    compiled.set(name, entry);
  }
  return new TemplateSet(compiled, htmlLiquid, textLiquid);
}

function sourcesWithExt(sources: ReadonlyMap<string, string>, ext: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [file, source] of sources) {
    if (file.endsWith(ext)) out.set(file.slice('templates/'.length), source);
  }
  return out;
}

function parse(liquid: Liquid, source: string, file: string): Template[] {
  try {
    return liquid.parse(source);
  } catch (err) {
    throw templateError(err, file);
  }
}

/** A template that fails at render time (a missing partial, a filter on a bad value) is a config error too. */
async function renderOrExplain(
  liquid: Liquid,
  template: Template[],
  data: object,
  file: string,
): Promise<string> {
  try {
    return await renderBounded(liquid, template, data);
  } catch (err) {
    throw templateError(err, file);
  }
}

function templateError(err: unknown, file: string): ConfigError {
  const position = (err as { token?: { getPosition?: () => number[] } }).token?.getPosition?.();
  const message = (err as Error).message.replace(/, line:\d+, col:\d[\s\S]*$/, '');
  return new ConfigError(file, position?.[0] ? `line ${position[0]}` : '', message);
}

function checkImages(source: string, file: string, images: ImageLibrary): void {
  source.split('\n').forEach((line, i) => {
    for (const match of line.matchAll(cidReference)) {
      const name = match[2] ?? '';
      if (!images.has(name))
        throw new ConfigError(
          file,
          `line ${i + 1}`,
          `cid:${name} needs a .png, .jpg, .gif or .webp file images/${name}`,
        );
    }
  });
}

function htmlToText(html: string): string {
  return convert(html, {
    wordwrap: false,
    selectors: [
      { selector: 'img', format: 'skip' },
      // tel:, mailto: and cid: targets repeat what the link text says; keep the text only.
      { selector: 'a', options: { ignoreHref: true } },
    ],
  });
}

function tidyHtml(html: string): string {
  return html.replace(/(?<![ \t])[ \t]+$/gm, '').trim();
}

/** Trailing spaces and runs of blank lines are what empty attributes leave behind in text. */
function tidyText(text: string): string {
  return (
    text
      .replace(/\r\n?/g, '\n')
      .replace(/(?<![ \t])[ \t]+$/gm, '')
      // Restore the standard "-- " signature delimiter the line above just trimmed.
      .replace(/^--$/gm, '-- ')
      .replace(/\n{3,}/g, '\n\n')
      .replace(/^\n+/, '')
      .replace(/(?<!\s)\s+$/, '')
  );
}
