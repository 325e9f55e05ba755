import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { simpleParser } from 'mailparser';
import type { Browser, Page } from 'playwright-core';
import type { ConfigOverview } from '../../src/admin/contract.js';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import { openPage, screenshot, signedInPage, startConsoleLoop, withConsoleLoop } from '../helpers/console.js';
import { idFromReply } from '../helpers/fault-checks.js';

type Loop = Awaited<ReturnType<typeof startConsoleLoop>>;

/** The studio with `template` open and its editors filled from the server. */
async function openTemplate(page: Page, loop: Loop, template: string): Promise<void> {
  await openPage(page, loop.consoleUrl, 'studio');
  await page.getByLabel('Template', { exact: true }).selectOption(template);
  await page.getByLabel(`HTML template (templates/${template}.html)`).waitFor();
}

async function versionInService(page: Page): Promise<string> {
  const response = await page.request.get(new URL('/api/admin/config', page.url()).href);
  return ((await response.json()) as ConfigOverview).status.versionInService;
}

describe('the signature studio in Chromium', { timeout: 300_000 }, () => {
  let loop: Loop;
  let browser: Browser;
  withConsoleLoop((l, b) => {
    loop = l;
    browser = b;
  });

  it('an edited template shows in the preview, is saved, and signs the next message through the front', async () => {
    const { context, page } = await signedInPage(browser, loop.consoleUrl);
    await openTemplate(page, loop, 'corporate-reply');
    const sender = page.getByRole('combobox', { name: 'Sender' });
    await sender.fill('zoe');
    await page.getByRole('option', { name: /Zoë Müller-Łukasiewicz/ }).waitFor();
    await sender.press('Enter');
    await page.getByRole('radio', { name: 'External' }).check();
    await page.getByRole('radio', { name: 'Reply' }).check();
    const outlook = page.frameLocator('iframe[title="Outlook (desktop): signed conversation"]');
    await outlook.getByText('Zoë Müller-Łukasiewicz').first().waitFor();

    const editor = page.getByLabel('HTML template (templates/corporate-reply.html)');
    const marker = 'Signed from the console studio';
    await editor.fill((await editor.inputValue()).replace('{% endlines %}', `<br>${marker}\n{% endlines %}`));
    await outlook.getByText(marker).waitFor();
    for (const client of ['Outlook on the web / new Outlook', 'Gmail', 'Apple Mail', 'Thunderbird']) {
      await page.getByRole('tab', { name: client }).click();
      await page.frameLocator(`iframe[title="${client}: signed conversation"]`).getByText(marker).waitFor();
    }
    await page.getByRole('tab', { name: 'Outlook (desktop)' }).click();

    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('status').filter({ hasText: 'Saved:' }).waitFor();
    const onDisk = await fs.readFile(path.join(loop.configDir, 'templates', 'corporate-reply.html'), 'utf8');
    assert.ok(onDisk.includes(marker), 'the configuration directory holds the saved template');
    await screenshot(page, 'studio-saved');

    const id = idFromReply(
      await loop.send(outlookReply({ from: 'zoe.mueller@contoso.com', to: 'megan@fabrikam.example' }), {
        from: 'zoe.mueller@contoso.com',
        to: ['megan@fabrikam.example'],
      }),
    );
    const files = await loop.waitForOutbox(1);
    const file = files.find((f) => f.endsWith(`${id}.eml`));
    assert.ok(file, 'the stand-in received the message');
    const html = String((await simpleParser(await fs.readFile(file))).html);
    assert.equal(html.split(marker).length - 1, 1, 'the delivered reply carries the new signature once');
    await context.close();
  });

  it('a broken template shows its error at its line, and nothing is saved', async () => {
    const { context, page } = await signedInPage(browser, loop.consoleUrl);
    await openTemplate(page, loop, 'corporate');
    const file = path.join(loop.configDir, 'templates', 'corporate.html');
    const before = await fs.readFile(file, 'utf8');
    const inService = await versionInService(page);

    const editor = page.getByLabel('HTML template (templates/corporate.html)');
    const lines = (await editor.inputValue()).split('\n');
    lines.splice(3, 0, '{% if user.mail %}');
    await editor.fill(lines.join('\n'));

    const error = page.locator('#html-template-error');
    await error.waitFor();
    assert.match(await error.innerText(), /^Line 4: /, 'the message names the line');
    await page.locator('.error-band[data-error-line="4"]').waitFor();
    assert.equal(await page.locator('.gutter li.error').getAttribute('data-line'), '4');
    assert.equal(await editor.getAttribute('aria-invalid'), 'true');
    await screenshot(page, 'studio-error');

    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Not saved:' }).waitFor();
    assert.equal(await fs.readFile(file, 'utf8'), before, 'the file is unchanged');
    assert.equal(await versionInService(page), inService, 'the configuration in service is unchanged');
    await context.close();
  });

  it('unsaved edits are still there after a visit to another page, and not saved', async () => {
    const { context, page } = await signedInPage(browser, loop.consoleUrl);
    await openTemplate(page, loop, 'internal');
    const label = 'HTML template (templates/internal.html)';
    const edited = `${await page.getByLabel(label).inputValue()}\n<!-- still here -->`;
    await page.getByLabel(label).fill(edited);
    await page.getByRole('link', { name: 'Rules' }).click();
    await page.locator('table.who-gets-what').waitFor();
    await page.getByRole('link', { name: 'Signature studio' }).click();
    await page.getByText('Unsaved changes', { exact: true }).waitFor();
    assert.equal(
      await page.getByLabel('Template', { exact: true }).inputValue(),
      'internal',
      'the same template reopens',
    );
    assert.equal(await page.getByLabel(label).inputValue(), edited);
    const onDisk = await fs.readFile(path.join(loop.configDir, 'templates', 'internal.html'), 'utf8');
    assert.ok(!onDisk.includes('still here'), 'nothing was saved');
    await context.close();
  });

  it("a second admin's stale save gets a conflict and overwrites nothing", async () => {
    const ada = await signedInPage(browser, loop.consoleUrl, 'Ada Admin');
    const bo = await signedInPage(browser, loop.consoleUrl, 'Bo Admin');
    await openTemplate(ada.page, loop, 'corporate');
    await openTemplate(bo.page, loop, 'corporate');
    const label = 'HTML template (templates/corporate.html)';
    const adaEditor = ada.page.getByLabel(label);
    const boEditor = bo.page.getByLabel(label);
    await adaEditor.fill(`${await adaEditor.inputValue()}\n<!-- Ada's change -->`);
    await ada.page.getByRole('button', { name: 'Save', exact: true }).click();
    await ada.page.getByRole('status').filter({ hasText: 'Saved:' }).waitFor();

    await boEditor.fill(`${await boEditor.inputValue()}\n<!-- Bo's change -->`);
    await bo.page.getByRole('button', { name: 'Save', exact: true }).click();
    const conflict = bo.page.getByRole('alert').filter({ hasText: 'Not saved: conflict.' });
    await conflict.waitFor();
    assert.match(await conflict.innerText(), /Nothing was overwritten/);
    assert.ok((await boEditor.inputValue()).includes("Bo's change"), "Bo's edits stay in his editor");

    const onDisk = await fs.readFile(path.join(loop.configDir, 'templates', 'corporate.html'), 'utf8');
    assert.ok(onDisk.includes("Ada's change"), "Ada's save is on disk");
    assert.ok(!onDisk.includes("Bo's change"), "Bo's stale save wrote nothing");
    await screenshot(bo.page, 'studio-conflict');
    await ada.context.close();
    await bo.context.close();
  });
});
