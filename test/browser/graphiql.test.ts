import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { createOrg, type OrgFixture } from '../support/fixtures.ts';

// GraphiQL in a real Chromium (Debian's; .ci/run installs it): it renders from the server alone, runs a query, and
// a subscription typed into it authenticates with the Headers tab's token.

const chromium = () => execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();

let server: TestServer;
let org: OrgFixture;
let browser: Browser;
const outside: string[] = [];

beforeAll(async () => {
  server = await startTestServer();
  org = await createOrg(server, 'graphiql');
  browser = await puppeteer.launch({
    executablePath: chromium(),
    headless: true,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** A page that refuses (and records) every request leaving the machine. */
async function openPage(path: string): Promise<Page> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const url = new URL(request.url());
    const local = ['data:', 'blob:', 'about:'].includes(url.protocol) || ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    if (local) return void request.continue();
    outside.push(request.url());
    void request.abort();
  });
  await page.goto(`${server.url}${path}`, { waitUntil: 'domcontentloaded' });
  await page.waitForSelector('.graphiql-container', { timeout: 60_000 });
  return page;
}

/** The response pane's text without whitespace (the editor renders spaces as no-break spaces, line by line). */
const resultText = (page: Page) => page.$eval('.graphiql-response', (el) => (el.textContent ?? '').replace(/[\s\u00a0]+/g, ''));

async function waitForResult(page: Page, needle: string): Promise<string> {
  await page.waitForFunction(
    (n) => (document.querySelector('.graphiql-response')?.textContent ?? '').replace(/[\s\u00a0]+/g, '').includes(n),
    { timeout: 90_000 },
    needle,
  );
  return resultText(page);
}

async function execute(page: Page) {
  await page.click('.graphiql-execute-button');
}

/** Types into the Headers tab's editor (the keyboard, as a person would). */
async function typeHeaders(page: Page, text: string) {
  const tab = await page.waitForSelector('xpath/.//button[normalize-space()="Headers"]');
  await tab!.click();
  const editor = await page.waitForSelector('.graphiql-editor-tool .graphiql-editor:not(.hidden) .monaco-editor, .graphiql-editor-tool .graphiql-editor:not(.hidden) .cm-editor, .graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror', { visible: true });
  await editor!.click();
  await page.keyboard.down('Control');
  await page.keyboard.press('KeyA');
  await page.keyboard.up('Control');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(text);
}

describe('GraphiQL served by the server', { timeout: 240_000 }, () => {
  it('renders with its own assets only, shows how to sign in, and runs a query', async () => {
    const page = await openPage('');
    expect(await page.title()).toBe('vaultgate GraphiQL');
    const body = await page.$eval('body', (el) => el.innerText);
    expect(body).not.toContain('Loading');
    expect(body).not.toContain('__TITLE__');
    // The default document explains bootstrap, signIn and the Headers tab.
    await page.waitForFunction(() => document.querySelector('.graphiql-query-editor')?.textContent?.includes('bootstrap'), { timeout: 60_000 });
    // The editor shows only the lines in view; the whole document is in the page the server sent.
    const html = await (await fetch(server.url, { headers: { accept: 'text/html' } })).text();
    for (const word of ['bootstrap(input', 'signIn(input', '\\"Authorization\\": \\"Bearer', 'subscription {']) expect(html).toContain(word);

    await execute(page);
    expect(await waitForResult(page, '"viewer"')).toContain('"viewer":null');
    await page.close();
    expect(outside).toEqual([]);
  });

  it('runs a subscription typed into it with the Headers tab token, and receives an event', async () => {
    const subscription = 'subscription Watch { passwordAccessed { cursor accessRecord { credentialName surface } } }';
    const page = await openPage(`?query=${encodeURIComponent(subscription)}`);
    await typeHeaders(page, `{"Authorization": "Bearer ${org.admin.token}"}`);
    await execute(page);

    // The subscription is registered once the server counts it (it answers nothing until an event).
    const created = await server.gql(
      `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { ... on CreateCredentialPayload { credential { id } } } }`,
      { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'Seen in GraphiQL', password: 'Graph-iQL-Secret-9!' } },
      org.admin,
    );
    const id = created.data.createCredential.credential.id;
    const gauge = async () => {
      const text = await (await fetch(server.url.replace('/graphql', '/metrics'))).text();
      return Number(/vaultgate_active_subscriptions\{transport="sse"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    for (let i = 0; i < 200 && (await gauge()) === 0; i++) await new Promise((r) => setTimeout(r, 100));
    const reveal = await server.gql(`mutation($id: ID!) { revealCredential(input: { id: $id, field: PASSWORD }) { __typename } }`, { id }, org.admin);
    expect(reveal.data.revealCredential.__typename).toBe('RevealCredentialPayload');

    const result = await waitForResult(page, 'SeeninGraphiQL');
    expect(result).toContain('"surface":"REVEAL"');
    expect(result).not.toContain('Graph-iQL-Secret-9!');
    await page.close();
    expect(outside).toEqual([]);
  });
});
