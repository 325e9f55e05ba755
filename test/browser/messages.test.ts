import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { csrfHeader } from '../../src/admin/contract.js';
import { outlookReply } from '../../src/samples/outlook-reply.js';
import {
  openPage,
  screenshot,
  signedInPage,
  startConsoleLoop,
  withConsoleLoop,
  waitUntil,
} from '../helpers/console.js';
import { acceptedCount, assertDeliveredOnce, idFromReply } from '../helpers/fault-checks.js';

type Loop = Awaited<ReturnType<typeof startConsoleLoop>>;

describe('messages, dead letters and health in Chromium', { timeout: 300_000 }, () => {
  let loop: Loop;
  let browser: Browser;
  withConsoleLoop((l, b) => {
    loop = l;
    browser = b;
  });

  it('the trace finds a delivered message by its sender and shows its timeline', async () => {
    const id = idFromReply(
      await loop.send(outlookReply({ from: 'alice@contoso.com', to: 'megan@fabrikam.example' }), {
        from: 'alice@contoso.com',
        to: ['megan@fabrikam.example'],
      }),
    );
    await assertDeliveredOnce(loop.stack, id);
    const { context, page } = await signedInPage(browser, loop.consoleUrl);
    await openPage(page, loop.consoleUrl, 'messages');
    await page.getByLabel('Sender').fill('alice@contoso.com');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: id }).click();
    await page.getByRole('heading', { name: `Timeline of ${id}` }).waitFor();
    const events = await page.locator('.timeline .event-name').allInnerTexts();
    assert.deepEqual(events, ['received', 'signed', 'delivery-attempt', 'delivered', 'deleted']);
    const attempt = await page.locator('.timeline .event.delivery-attempt .event-summary').innerText();
    assert.match(attempt, /250/, "the attempt shows the endpoint's reply");
    assert.match(await page.locator('main').innerText(), /Delivered from alice@contoso\.com/);
    await screenshot(page, 'messages');
    await context.close();
  });

  it('a dead letter is replayed after a confirmation and delivered exactly once', async () => {
    await loop.stack.setStandinBehaviour({
      rcptReplies: { 'gone@fabrikam.example': { code: 550, text: 'Mailbox unavailable' } },
    });
    const id = idFromReply(
      await loop.send(outlookReply({ from: 'alice@contoso.com', to: 'gone@fabrikam.example' }), {
        from: 'alice@contoso.com',
        to: ['gone@fabrikam.example'],
      }),
    );
    const { context, page } = await signedInPage(browser, loop.consoleUrl);
    const replay = page.getByRole('button', { name: `Replay ${id}` });
    await openPage(page, loop.consoleUrl, 'messages');
    const deadLetters = page
      .locator('section')
      .filter({ has: page.getByRole('heading', { name: 'Dead letters' }) });
    await waitUntil(
      'the dead letter on the Messages page',
      async () => {
        await deadLetters.getByRole('button', { name: 'Refresh' }).click();
        await deadLetters.locator('table, p[role=status]').first().waitFor();
        return replay.count();
      },
      (n) => n === 1,
    );
    const row = page.locator('tr').filter({ has: replay });
    assert.match(await row.innerText(), /550/, 'the reason carries the refusal');
    await loop.stack.setStandinBehaviour({});

    await replay.click();
    const dialog = page.getByRole('dialog', { name: 'Replay this dead letter?' });
    await dialog.waitFor();
    await screenshot(page, 'dead-letters');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(await acceptedCount(loop.stack, id), 0, 'Cancel replays nothing');

    await replay.click();
    await dialog.getByRole('button', { name: 'Replay', exact: true }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Replayed ${id}` })
      .waitFor();
    await assertDeliveredOnce(loop.stack, id);
    await replay.waitFor({ state: 'detached' });

    const again = await page.request.post(new URL(`/api/admin/deadletters/${id}/replay`, page.url()).href, {
      headers: { [csrfHeader]: '1' },
      data: { confirm: id },
    });
    assert.equal(again.status(), 409, 'a second replay is refused');
    assert.equal(await acceptedCount(loop.stack, id), 1, 'the endpoint got the message exactly once');
    await context.close();
  });

  it('the health page shows the queue, the last hour and the configuration in service', async () => {
    const { context, page } = await signedInPage(browser, loop.consoleUrl);
    await openPage(page, loop.consoleUrl, 'health');
    const tile = (label: string) =>
      page.locator('.tile').filter({ has: page.getByText(label, { exact: true }) });
    await tile('Queue depth').waitFor();
    const delivered = Number(await tile('Delivered').locator('.tile-value').innerText());
    assert.ok(delivered >= 2, `delivered in the last hour: ${delivered}`);
    assert.equal(await tile('Dead letters').locator('.tile-value').innerText(), '0', 'replayed: none left');
    assert.match(await tile('Version in service').locator('.tile-value').innerText(), /^[0-9a-f]{6,}$/);
    await screenshot(page, 'health');
    await context.close();
  });

  it('a configuration file broken outside the console is refused, reported, and the last good one stays in service', async () => {
    const { context, page } = await signedInPage(browser, loop.consoleUrl);
    await openPage(page, loop.consoleUrl, 'health');
    const version = page.locator('.tile').filter({ hasText: 'Version in service' }).locator('.tile-value');
    const inService = await version.innerText();
    const file = path.join(loop.configDir, 'templates', 'internal.html');
    const good = await fs.readFile(file, 'utf8');
    await fs.writeFile(file, `${good}\n{% if user.mail %}`);
    try {
      await waitUntil(
        'the health page to report the refused configuration',
        async () => {
          await page.getByRole('button', { name: 'Refresh now' }).click();
          return page.locator('.tile').filter({ hasText: 'Last error' }).locator('.tile-value').innerText();
        },
        (text) => text === 'Newer version refused',
      );
      assert.match(await page.locator('main').innerText(), /templates\/internal\.html/);
      assert.equal(await version.innerText(), inService, 'the last good configuration stays in service');
      await page.reload();
      await page.getByText(/A newer configuration failed to load, so version \S+ stays in service/).waitFor();
    } finally {
      await fs.writeFile(file, good);
    }
    await context.close();
  });
});
