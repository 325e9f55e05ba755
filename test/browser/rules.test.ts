import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { RuleJson } from '../../src/admin/contract.js';
import { openPage, screenshot, signedInPage, startConsoleLoop, withConsoleLoop } from '../helpers/console.js';

type Loop = Awaited<ReturnType<typeof startConsoleLoop>>;

/** The who-gets-what cell of one user for one column ("Internal, new", …). */
async function cellOf(page: Page, user: string, column: string) {
  const headers = await page.locator('table.who-gets-what thead th').allInnerTexts();
  const index = headers.indexOf(column);
  assert.ok(index > 0, `a column "${column}" in ${headers.join(', ')}`);
  return page
    .locator('table.who-gets-what tbody tr')
    .filter({ has: page.getByRole('rowheader', { name: new RegExp(user) }) })
    .locator('th, td')
    .nth(index);
}

async function ruleOrder(page: Page): Promise<string[]> {
  return page.locator('.rule-list .rule-name').allInnerTexts();
}

async function rulesOnDisk(loop: Loop): Promise<RuleJson[]> {
  return JSON.parse(await fs.readFile(path.join(loop.configDir, 'rules.json'), 'utf8')) as RuleJson[];
}

describe('rules and campaigns in Chromium', { timeout: 300_000 }, () => {
  let loop: Loop;
  let browser: Browser;
  withConsoleLoop((l, b) => {
    loop = l;
    browser = b;
  });

  it('a banner rescheduled to later dates is scheduled, not active, and active for its senders on a day inside them', async () => {
    const { context, page } = await signedInPage(browser, loop.consoleUrl);
    await openPage(page, loop.consoleUrl, 'campaigns');
    const card = page.locator('.campaign').filter({ hasText: 'banner-spring-event' });
    await card.getByText('Active', { exact: true }).waitFor();
    await screenshot(page, 'campaigns');

    await card.getByRole('button', { name: /^Edit the banner/ }).click();
    await card.getByLabel('From (UTC day)').fill('2099-03-01');
    await card.getByLabel('Until (inclusive)').fill('2099-03-31');
    await card.getByRole('button', { name: 'Save banner' }).click();
    await page.getByRole('status').filter({ hasText: 'Banner saved on rule sales-external' }).waitFor();
    await card.getByText('Scheduled', { exact: true }).waitFor();
    assert.match(await card.innerText(), /Shown to\s+nobody at this date/);
    const banner = (await rulesOnDisk(loop)).find((r) => r.name === 'sales-external')?.banner;
    assert.deepEqual([banner?.from, banner?.until], ['2099-03-01', '2099-03-31']);

    await page.getByLabel('Show as of').fill('2099-03-15');
    await card.getByText('Active', { exact: true }).waitFor();
    await card.getByText('Who gets it').click();
    const who = await card.innerText();
    assert.ok(who.includes('alice@contoso.com') && who.includes('jose.garcia@contoso.com'), who);
    assert.ok(!who.includes('sam@contoso.com'), 'only senders of the Sales group get the sales banner');
    await context.close();
  });

  it('reordering the rules with the keyboard changes who gets what, and saving keeps the order', async () => {
    const { context, page } = await signedInPage(browser, loop.consoleUrl);
    await openPage(page, loop.consoleUrl, 'rules');
    await page.locator('table.who-gets-what').waitFor();
    assert.deepEqual(await ruleOrder(page), ['sales-external', 'internal', 'internal-replies', 'corporate']);
    const aliceInternalNew = await cellOf(page, 'Alice Martin', 'Internal, new');
    assert.match(await aliceInternalNew.innerText(), /^internal\b/);

    // Enter on "Move corporate up" three times: focus follows the rule, so the same key moves it on.
    await page.getByRole('button', { name: 'Move corporate up' }).focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press('Enter');
    assert.deepEqual(await ruleOrder(page), ['corporate', 'sales-external', 'internal', 'internal-replies']);
    await page.locator('td.changed').first().waitFor();
    assert.match(await aliceInternalNew.innerText(), /^corporate\b/, 'the catch-all rule now wins');
    assert.match(
      await (await cellOf(page, 'Alice Martin', 'Internal, reply')).innerText(),
      /^corporate-reply\b/,
    );
    assert.equal(await aliceInternalNew.getAttribute('class'), 'changed');
    await screenshot(page, 'rules');

    await page.getByRole('button', { name: 'Save rules' }).click();
    await page.getByRole('status').filter({ hasText: 'Rules saved' }).waitFor();
    assert.deepEqual(
      (await rulesOnDisk(loop)).map((r) => r.name),
      ['corporate', 'sales-external', 'internal', 'internal-replies'],
    );
    await page.reload();
    await page.locator('table.who-gets-what').waitFor();
    assert.match(await (await cellOf(page, 'Alice Martin', 'Internal, new')).innerText(), /^corporate\b/);
    assert.equal(await page.locator('td.changed').count(), 0, 'saved: nothing differs from the saved rules');
    await context.close();
  });

  it('an invalid rule date is named at its field and the rules cannot be saved', async () => {
    const { context, page } = await signedInPage(browser, loop.consoleUrl);
    await openPage(page, loop.consoleUrl, 'rules');
    await page.locator('table.who-gets-what').waitFor();
    const before = await fs.readFile(path.join(loop.configDir, 'rules.json'), 'utf8');
    await page.getByRole('button', { name: 'Edit internal', exact: true }).click();
    const form = page.getByRole('form', { name: 'Edit rule internal' });
    await form.getByLabel('From (UTC day)').fill('2026-06-30');
    await form.getByLabel('Until (inclusive)').fill('2026-06-01');
    await form.locator('.field-error').first().waitFor();
    assert.equal(await page.getByRole('button', { name: 'Save rules' }).isDisabled(), true);
    assert.equal(await fs.readFile(path.join(loop.configDir, 'rules.json'), 'utf8'), before);
    await context.close();
  });
});
