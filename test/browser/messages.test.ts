import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { csrfHeader, type DoctorReport, type MessageTimeline } from '../../src/admin/contract.js';
import { loadTenants } from '../../src/config/index.js';
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
    // The heading shows as soon as the id is chosen; the events arrive with the timeline request.
    await page.locator('.timeline .event-name', { hasText: 'deleted' }).waitFor();
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

  it('the health page runs the connection doctor on request and shows one line per check with its remedy', async () => {
    const { context, page } = await signedInPage(browser, loop.consoleUrl);
    await openPage(page, loop.consoleUrl, 'health');
    const doctor = page
      .locator('section')
      .filter({ has: page.getByRole('heading', { name: 'Connection doctor' }) });
    await page.locator('.tile').first().waitFor();
    assert.equal(await doctor.locator('.doctor-check').count(), 0, 'the doctor does not run by itself');
    await loop.stack.setStandinBehaviour({
      rcptReplies: { 'postmaster@contoso.com': { code: 550, text: 'Recipient address rejected' } },
    });
    let report: DoctorReport;
    try {
      const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/admin/doctor');
      await doctor.getByRole('button', { name: 'Run the checks' }).click();
      report = (await (await answered).json()) as DoctorReport;
      await doctor.locator('.doctor-summary').waitFor();
    } finally {
      await loop.stack.setStandinBehaviour({});
    }
    const lines = doctor.locator('.doctor-check');
    assert.equal(await lines.count(), report.checks.length, 'one line per check');
    const session = lines.filter({ hasText: 'return-leg.session' });
    assert.match(await session.locator('.check-status').innerText(), /Failure/);
    const tenant = (await loadTenants(loop.configDir)).tenants[0];
    assert.equal(await session.locator('.check-scope').innerText(), tenant?.name, 'the tenant by its name');
    assert.match(
      await session.locator('.check-detail').innerText(),
      /RCPT TO:<postmaster@contoso\.com>: 550/,
    );
    assert.match(await session.locator('.check-remedy').innerText(), /^What to do: ./);
    const failures = report.checks.filter((c) => c.status === 'fail').length;
    assert.equal(report.exitCode, 2);
    assert.match(
      await doctor.locator('.doctor-summary').innerText(),
      new RegExp(`^Failures: .*, ${failures} failures?,`),
    );
    await screenshot(page, 'health-doctor');
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
      // The sentence `sigrelay status` prints for the same storage (src/status/attention.ts).
      assert.match(
        await page.getByRole('list', { name: 'Needs attention' }).innerText(),
        /the configuration does not load \(the services keep the last good one\)/,
      );
      assert.equal(await version.innerText(), inService, 'the last good configuration stays in service');
      await page.reload();
      await page.getByText(/A newer configuration failed to load, so version \S+ stays in service/).waitFor();
    } finally {
      await fs.writeFile(file, good);
    }
    await context.close();
  });

  it("a refused delivery's timeline shows Exchange's reply and, beside it, what it means and what to do", async () => {
    await loop.stack.setStandinBehaviour({
      rcptReplies: { 'left@fabrikam.example': { code: 550, text: 'Mailbox unavailable' } },
    });
    try {
      const id = idFromReply(
        await loop.send(outlookReply({ from: 'alice@contoso.com', to: 'left@fabrikam.example' }), {
          from: 'alice@contoso.com',
          to: ['left@fabrikam.example'],
        }),
      );
      const { context, page } = await signedInPage(browser, loop.consoleUrl);
      // A hash route opened again does not reload the page: wait on the API, then open the timeline once.
      await waitUntil(
        'the message to be dead-lettered',
        async () => {
          const res = await page.request.get(new URL(`/api/admin/messages/${id}`, page.url()).href);
          return res.ok() ? ((await res.json()) as MessageTimeline).state : res.status();
        },
        (state) => state === 'dead-lettered',
        60_000,
      );
      await openPage(page, loop.consoleUrl, 'messages', id);
      const attempt = page.locator('.timeline .event.delivery-attempt');
      await attempt.first().waitFor();
      const first = attempt.first();
      assert.match(await first.locator('.event-summary').innerText(), /550 5\.1\.1 Mailbox unavailable/);
      const explanation = first.getByRole('note');
      assert.match(
        await explanation.innerText(),
        /^Recipient address rejected \(permanent\): Exchange refuses/,
      );
      assert.match(await explanation.innerText(), /What to do: /);
      assert.match(
        (await explanation.getByRole('link', { name: 'Source' }).getAttribute('href')) ?? '',
        /^https:\/\/learn\.microsoft\.com\//,
      );
      await context.close();
    } finally {
      await loop.stack.setStandinBehaviour({});
    }
  });
});
