import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  desktop,
  horizontalOverflow,
  openPage,
  phone,
  screenshot,
  signedInPage,
  startConsoleLoop,
  withConsoleLoop,
  unlabelledControls,
} from '../helpers/console.js';

type Loop = Awaited<ReturnType<typeof startConsoleLoop>>;

/**
 * Each page, with what it shows once its data is in, and the panels and forms that hold more
 * controls opened, so the label check sees them too.
 */
const pages: { id: string; ready: (page: Page) => Promise<void> }[] = [
  {
    id: 'studio',
    ready: async (page) => {
      await page
        .frameLocator('iframe[title="Outlook (desktop): signed conversation"]')
        .locator('body')
        .waitFor();
      await page.locator('.compat-summary').waitFor();
      await page.getByText('Images', { exact: true }).click();
      await page.getByText('Versions', { exact: true }).click();
      await page.locator('table.versions, .panel .hint').last().waitFor();
    },
  },
  {
    id: 'rules',
    ready: async (page) => {
      await page.locator('table.who-gets-what').waitFor();
      await page.getByRole('button', { name: 'Edit sales-external', exact: true }).click();
      await page.getByRole('form', { name: 'Edit rule sales-external' }).waitFor();
    },
  },
  {
    id: 'campaigns',
    ready: async (page) => {
      await page
        .locator('.campaign')
        .first()
        .getByRole('button', { name: /^Edit the banner/ })
        .click();
      await page.getByRole('form', { name: /^Banner on rule/ }).waitFor();
    },
  },
  { id: 'messages', ready: (page) => page.getByText('No dead letters.').waitFor() },
  { id: 'health', ready: (page) => page.locator('.tiles').first().waitFor() },
];

describe('the console at desktop and phone width', { timeout: 300_000 }, () => {
  let loop: Loop;
  let browser: Browser;
  withConsoleLoop((l, b) => {
    loop = l;
    browser = b;
  });

  for (const [name, viewport] of [
    ['1280×800', desktop],
    ['390×844', phone],
  ] as const) {
    it(`at ${name} the sign-in page fits the width, every control has a label and the focus is visible`, async () => {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      await page.goto(loop.consoleUrl);
      await page.getByLabel('Your name').waitFor();
      assert.equal(await horizontalOverflow(page), 0);
      assert.deepEqual(await unlabelledControls(page), []);
      await page.keyboard.press('Tab');
      const focused = String(
        await page.evaluate(
          'document.activeElement.id + " " + getComputedStyle(document.activeElement).outlineStyle',
        ),
      );
      assert.equal(focused, 'signin-name solid', 'Tab reaches the name field and shows where it is');
      if (viewport === desktop) await screenshot(page, 'sign-in');
      await context.close();
    });

    if (viewport === desktop)
      it('a user without the administrator role is told so and can sign out', async () => {
        const context = await browser.newContext({ viewport });
        const page = await context.newPage();
        await page.goto(loop.consoleUrl);
        await page.getByLabel('Your name').fill('Nora Nonadmin');
        await page.getByLabel('With the administrator role').uncheck();
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('heading', { name: 'No access' }).waitFor();
        assert.match(await page.locator('main').innerText(), /signed in as Nora Nonadmin, without/);
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByLabel('Your name').waitFor();
        await context.close();
      });

    it(`at ${name} every page fits the width and every control has a label`, async () => {
      const { context, page } = await signedInPage(browser, loop.consoleUrl, 'Ada Admin', viewport);
      for (const { id, ready } of pages) {
        await openPage(page, loop.consoleUrl, id);
        await ready(page);
        assert.equal(await horizontalOverflow(page), 0, `${id} scrolls sideways at ${name}`);
        assert.deepEqual(await unlabelledControls(page), [], `${id}: controls without a label`);
        if (viewport === desktop && id === 'studio') await screenshot(page, 'studio');
        if (viewport === phone && id === 'studio')
          await screenshot(page, 'studio-phone', '.preview-controls');
        if (viewport === phone && id === 'rules') await screenshot(page, 'rules-phone');
      }
      await context.close();
    });
  }
});
