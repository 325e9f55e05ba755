import { doIUseEmail } from '@jsx-email/doiuse-email';
import juice from 'juice';
import type { CompatIssue, CompatReport } from './contract.js';

/** The clients a signature has to look right in when the admin names none (caniemail ids). */
export const defaultCompatClients = [
  'outlook.windows',
  'outlook.windows-mail',
  'outlook.macos',
  'outlook.ios',
  'outlook.android',
  'gmail.*',
  'apple-mail.*',
  'thunderbird.macos',
  'yahoo.desktop-webmail',
  'samsung-email.android',
];

const unsupported = /^`(.+?)` is not supported by `(.+?)`$/;
const note = /^Note about `(.+?)` support for `(.+?)`: ([\s\S]*)$/;

/**
 * The template's HTML and CSS checked against caniemail's data (doiuse-email): one issue per
 * feature, naming every client concerned. Liquid tags are plain text to the checker, which is what
 * they are until rendered.
 */
export function compatReport(html: string, clients: string[] = defaultCompatClients): CompatReport {
  const result = doIUseEmail(html, { emailClients: clients });
  const errors = new Map<string, CompatIssue>();
  const warnings = new Map<string, CompatIssue>();
  const add = (
    into: Map<string, CompatIssue>,
    severity: CompatIssue['severity'],
    feature: string,
    client: string,
    message: string,
  ) => {
    const key = `${feature}\u0000${message}`;
    const issue = into.get(key) ?? { severity, feature, clients: [], message };
    if (!issue.clients.includes(client)) issue.clients.push(client);
    into.set(key, issue);
  };
  for (const line of result.success ? [] : result.errors) {
    const m = unsupported.exec(line);
    if (m?.[1] && m[2]) add(errors, 'error', m[1], m[2], `${m[1]} is not supported`);
    else add(errors, 'error', line, '', line);
  }
  for (const line of [...result.warnings, ...result.notes]) {
    const m = note.exec(line);
    if (m?.[1] && m[2] && m[3] !== undefined) add(warnings, 'warning', m[1], m[2], m[3]);
    else add(warnings, 'warning', line, '', line);
  }
  return { clients, errors: [...errors.values()], warnings: [...warnings.values()] };
}

// Liquid tags and outputs pass through the inliner untouched, like the EJS and Handlebars blocks juice knows.
juice.codeBlocks.LIQUID_TAG = { start: '{%', end: '%}' };

/** `<style>` rules moved into style attributes (juice), for clients that drop `<style>` (Outlook, Gmail apps). */
export function inlineCss(html: string): string {
  return juice(html, { preserveImportant: true, removeStyleTags: true, preserveMediaQueries: true });
}
