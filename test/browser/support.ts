import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launch(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

export type Tab = {
  page: Page;
  context: BrowserContext;
  /** Requests the page tried to make to anything but loopback (each was aborted). */
  outside: string[];
  /** Content-Security-Policy violations and page errors reported on the console. */
  problems: string[];
};

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A tab in its own browser context (own sessionStorage and cookies), refusing every non-loopback request. */
export async function openTab(browser: Browser, origin: string, width = 1280, height = 800): Promise<Tab> {
  const context = await browser.createBrowserContext();
  await context.overridePermissions(origin, ['clipboard-read', 'clipboard-write', 'clipboard-sanitized-write']);
  const page = await context.newPage();
  await page.setViewport({ width, height });
  const outside: string[] = [];
  const problems: string[] = [];
  await page.setRequestInterception(true);
  page.on('request', (req) => {
    const url = new URL(req.url());
    if ((url.protocol === 'http:' || url.protocol === 'https:' || url.protocol === 'ws:') && !LOOPBACK.has(url.hostname)) {
      outside.push(req.url());
      void req.abort();
    } else void req.continue();
  });
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/.test(msg.text())) problems.push(msg.text());
  });
  page.on('pageerror', (err) => problems.push(String(err)));
  return { page, context, outside, problems };
}

export async function signInThroughForm(tab: Tab, origin: string, email: string, password: string, path = '/') {
  await tab.page.goto(`${origin}${path}`);
  await tab.page.waitForSelector('[data-testid="signin-email"]');
  await tab.page.type('[data-testid="signin-email"]', email);
  await tab.page.type('[data-testid="signin-password"]', password);
  await tab.page.click('[data-testid="signin-submit"]');
  await tab.page.waitForSelector('[data-testid="nav-credentials"]');
}

/**
 * Clicks a navigation link once it is there: links that depend on the viewer's role (administration, audit…)
 * appear only after the organization is loaded, later than `nav-credentials`.
 */
export async function clickNav(page: Page, testId: string) {
  const selector = `[data-testid="${testId}"]`;
  await page.waitForSelector(selector);
  await page.click(selector);
}

/** axe-core's serious and critical violations on the page as it is now. */
export async function axeViolations(page: Page): Promise<string[]> {
  // Evaluated through DevTools, which the page's CSP does not apply to (a <script> tag would be refused).
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: { id: string; impact: string | null; nodes: { target: unknown[] }[] }[] }> } }).axe;
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)) }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.targets.join(', ')}`);
}

export const text = (page: Page, selector: string) => page.$eval(selector, (el) => el.textContent?.trim() ?? '');

export async function waitForText(page: Page, selector: string, expected: string, timeout = 20_000) {
  await page.waitForFunction(
    (sel, want) => document.querySelector(sel)?.textContent?.trim() === want,
    { timeout },
    selector,
    expected,
  );
}
