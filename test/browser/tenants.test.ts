import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { projectRoot } from '../../src/config/index.js';
import {
  openPage,
  screenshot,
  signedInPage,
  startConsoleLoop,
  withConsoleLoop,
  waitUntil,
} from '../helpers/console.js';

type Loop = Awaited<ReturnType<typeof startConsoleLoop>>;

describe('several tenants (config/msp) in Chromium', { timeout: 240_000 }, () => {
  let loop: Loop;
  let browser: Browser;
  withConsoleLoop(
    (l, b) => {
      loop = l;
      browser = b;
    },
    path.join(projectRoot, 'config', 'msp'),
  );

  it("the tenant selector switches every page to that tenant's templates, directory, rules and banners", async () => {
    const { context, page } = await signedInPage(browser, loop.consoleUrl);
    await openPage(page, loop.consoleUrl, 'studio');
    const tenant = page.getByLabel('Tenant', { exact: true });
    assert.deepEqual(await tenant.locator('option').allInnerTexts(), ['Northwind Traders', 'Tailspin Toys']);

    const sender = page.getByRole('combobox', { name: 'Sender' });
    const outlook = page.frameLocator('iframe[title="Outlook (desktop): signed conversation"]');
    await page.getByLabel('HTML template (tenants/northwind/templates/corporate.html)').waitFor();
    await outlook.locator('body').waitFor();
    assert.match(await sender.inputValue(), /@northwindtraders\.com>$/);

    await tenant.selectOption({ label: 'Tailspin Toys' });
    await page.getByLabel('HTML template (tenants/tailspin/templates/corporate.html)').waitFor();
    assert.ok(
      (await page.getByLabel('Template', { exact: true }).locator('option').allInnerTexts()).includes(
        'banner-toy-fair',
      ),
    );
    const tailspinSender = await waitUntil(
      'a Tailspin sender',
      () => sender.inputValue(),
      (v) => v.endsWith('@tailspintoys.com>'),
    );
    const name = tailspinSender.replace(/ <.*$/, '');
    await page
      .locator('.preview-status')
      .filter({ hasText: `${name}, external recipient, new: signed` })
      .waitFor();
    await outlook.getByText(name).first().waitFor();
    await sender.fill('northwind');
    await page.getByRole('status').filter({ hasText: 'No one in this tenant' }).waitFor();
    await sender.press('Escape');
    await screenshot(page, 'tenants');

    await openPage(page, loop.consoleUrl, 'rules');
    await page.getByText('tenants/tailspin/rules.json', { exact: false }).waitFor();
    await page.locator('table.who-gets-what').waitFor();
    const users = await page.locator('table.who-gets-what tbody th .hit-detail').allInnerTexts();
    assert.ok(users.length > 0 && users.every((u) => u.endsWith('@tailspintoys.com')), users.join(', '));

    await openPage(page, loop.consoleUrl, 'campaigns');
    await page.locator('.campaign').filter({ hasText: 'banner-toy-fair' }).waitFor();
    await tenant.selectOption({ label: 'Northwind Traders' });
    await page.getByText('No campaign banners in this tenant.').waitFor();
    await context.close();
  });
});
