import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { projectRoot } from '../../src/config/index.js';
import { consoleBase } from '../../src/admin/contract.js';
import { faultConfig, faultEnv } from './fault-config.js';
import { startLoop } from './loop.js';

/** Debian's Chromium (`apt-get install chromium`); `npx playwright install` cannot download browsers here. */
export const chromiumPath = process.env.SIGRELAY_CHROMIUM ?? '/usr/bin/chromium';

/** Where the test run leaves the screenshots docs/console.md shows. */
export const screenshotDir = path.join(projectRoot, 'docs', 'console');

export const desktop = { width: 1280, height: 800 };
export const phone = { width: 390, height: 844 };

/**
 * Headless Chromium with nothing reaching out of the machine. `launch` gives every run a fresh,
 * temporary user-data directory of its own (and removes it on close), so no profile, cookie or
 * cache survives from one run to the next.
 */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
      '--disable-quic',
    ],
  });
}

/**
 * The whole local loop (Azurite, front, functions with the console, stand-in) on a copy of a
 * configuration the console may edit: the Contoso sample with test-speed retry policies, or a copy
 * of `source` (e.g. config/msp).
 */
export async function startConsoleLoop(
  source?: string,
): Promise<Awaited<ReturnType<typeof startLoop>> & { configDir: string; consoleUrl: string }> {
  const configDir = source ? await copyOf(source) : await faultConfig();
  const loop = await startLoop({ configDir, env: { ...faultEnv, SIGRELAY_QUEUE_RETRY_SECONDS: '1' } });
  const consoleUrl = `http://127.0.0.1:${loop.stack.ports.functions}${consoleBase}/`;
  return {
    ...loop,
    configDir,
    consoleUrl,
    dispose: async () => {
      await loop.dispose();
      await fs.rm(configDir, { recursive: true, force: true });
    },
  };
}

async function copyOf(source: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'sigrelay-config-'));
  await fs.cp(source, dir, { recursive: true });
  return dir;
}

/** A new browser context (its own cookies: a second admin) with a page signed in through the dev sign-in. */
export async function signedInPage(
  browser: Browser,
  consoleUrl: string,
  name = 'Ada Admin',
  viewport = desktop,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  watchForPageErrors(page);
  await page.goto(consoleUrl);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Console pages' }).waitFor();
  return { context, page };
}

/** An uncaught exception in the console fails the test that caused it, not silently. */
function watchForPageErrors(page: Page): void {
  page.on('pageerror', (err) => {
    throw new Error(`the console threw: ${err.message}`);
  });
}

/** Opens a console page by its fragment route (`studio`, `rules`, `messages/<id>`, …). */
export async function openPage(page: Page, consoleUrl: string, id: string, rest = ''): Promise<void> {
  await page.goto(`${consoleUrl}#/${id}${rest ? `/${encodeURIComponent(rest)}` : ''}`);
  await page.locator('main h1').waitFor();
}

/**
 * A screenshot into docs/console/<name>.png (the only files the test run writes there): the whole
 * page, or with `at` (a CSS selector) the viewport scrolled to that element (Chromium does not paint a sandboxed
 * iframe far outside the viewport, so a phone-height full page would show the preview blank).
 */
export async function screenshot(page: Page, name: string, at?: string): Promise<void> {
  await fs.mkdir(screenshotDir, { recursive: true });
  if (at)
    await page.evaluate(`document.querySelector(${JSON.stringify(at)}).scrollIntoView({ block: 'start' })`);
  await page.screenshot({
    path: path.join(screenshotDir, `${name}.png`),
    fullPage: !at,
    animations: 'disabled',
  });
}

/** How far the document is wider than the viewport (0: no horizontal scrolling). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return Number(
    await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
  );
}

/**
 * Every visible form control with no accessible name, as Chromium's accessibility tree computes it
 * (a <label for>, a wrapping label, aria-label or aria-labelledby): `<input#id type=text>` each.
 */
export async function unlabelledControls(page: Page): Promise<string[]> {
  const controls = page.locator('input:not([type=hidden]), select, textarea');
  const missing: string[] = [];
  for (const control of await controls.all()) {
    if (!(await control.isVisible())) continue;
    const snapshot = await control.ariaSnapshot();
    // `- textbox "Message id"`; without a name: `- textbox` (or `- checkbox [checked]`).
    if (!/^- [a-z]+ "[^"]+"/m.test(snapshot)) missing.push(await describeControl(control, snapshot));
  }
  return missing;
}

/** `textbox #trace-id type=text`: what the failure names, so the control can be found. */
async function describeControl(control: Locator, snapshot: string): Promise<string> {
  const [id, type] = await Promise.all([control.getAttribute('id'), control.getAttribute('type')]);
  const role = /^- ([a-z]+)/m.exec(snapshot)?.[1] ?? 'control';
  return `${role}${id ? ` #${id}` : ''}${type ? ` type=${type}` : ''}`;
}

/** Polls `read` until `accept` holds, then returns the value; fails naming what was awaited. */
export async function waitUntil<T>(
  what: string,
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (accept(last)) return last;
    if (Date.now() > deadline)
      assert.fail(`timed out waiting for ${what}; last seen: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export type ConsoleLoop = Awaited<ReturnType<typeof startConsoleLoop>>;

/**
 * The suite's loop and browser: started in `before`, handed to `use`, stopped in `after`. Every
 * browser test file runs against its own loop on free ports, with its own copy of the configuration.
 */
export function withConsoleLoop(use: (loop: ConsoleLoop, browser: Browser) => void, source?: string): void {
  let loop: ConsoleLoop | undefined;
  let browser: Browser | undefined;
  before(async () => {
    loop = await startConsoleLoop(source);
    browser = await launchChromium();
    use(loop, browser);
  });
  after(async () => {
    await browser?.close();
    await loop?.dispose();
  });
}
