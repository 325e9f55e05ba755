import fs from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, loadSettings } from '../../config/index.js';
import { loadContent, type Explanation, type MessageType } from '../../content/index.js';
import type { PreviewOptions } from '../usage.js';

/** `sigrelay preview --sender <addr> …`: the explanation on stdout, the signature files in `--out`. */
export async function run(options: PreviewOptions): Promise<number> {
  const messageType: MessageType = options.reply ? 'reply' : options.forward ? 'forward' : 'new';
  const configDir = options.config ?? loadSettings().configDir;

  let explanation: Explanation;
  try {
    const content = await loadContent(configDir);
    explanation = await content.preview({
      sender: options.sender,
      recipients: options.recipient,
      messageType,
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`sigrelay: configuration error: ${err.message}`);
    return 2;
  }

  console.log(describe(options.sender, explanation));
  const { resolution } = explanation;
  if (resolution.action !== 'sign') return 0;

  const out = path.resolve(options.out);
  await fs.mkdir(out, { recursive: true });
  await fs.writeFile(path.join(out, 'signature.html'), withDataUris(resolution.content));
  await fs.writeFile(path.join(out, 'signature.txt'), `${resolution.content.text}\n`);
  console.log(`wrote ${path.join(out, 'signature.html')} and signature.txt`);
  return 0;
}

function describe(sender: string, e: Explanation): string {
  const lines = [
    `sender:    ${sender}${e.user ? ` (${e.user})` : ''}${e.tenant ? `, tenant ${e.tenant}` : ''}`,
  ];
  if (e.messageType) lines.push(`message:   ${e.messageType}, ${e.audience} recipients`);
  for (const v of e.verdicts)
    lines.push(`  ${v.matched ? '✔' : '✘'} ${v.rule}${v.reason ? `: ${v.reason}` : ''}`);
  const r = e.resolution;
  if (r.action === 'sign') {
    lines.push(
      `result:    rule ${r.content.rule}, template ${r.content.template}, placement ${r.content.placement}`,
    );
    if (r.content.images.length)
      lines.push(`images:    ${r.content.images.map((i) => `cid:${i.cid}`).join(', ')}`);
  } else lines.push(`result:    unsigned (${r.reason}${r.rule ? `, rule ${r.rule}` : ''})`);
  return lines.join('\n');
}

/** The file is for a browser, which cannot resolve `cid:`; inline the images so it shows as sent. */
function withDataUris(content: {
  html: string;
  images: { cid: string; contentType: string; content: Buffer }[];
}): string {
  let html = content.html;
  for (const image of content.images)
    html = html
      .split(`cid:${image.cid}`)
      .join(`data:${image.contentType};base64,${image.content.toString('base64')}`);
  return `<!doctype html>\n<meta charset="utf-8">\n${html}\n`;
}
