import { execFileSync } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrg, type OrgFixture } from '../support/fixtures.ts';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { installPackedSdk, type InstalledSdk } from '../support/sdkPackage.ts';

// @vaultgate/sdk in a browser, without a bundler: the packed tarball installed outside the repository, its ESM
// files and its peers' served as they are by a static server on loopback, mapped with an import map, run by
// headless Chromium against a live server (a query and a subscription over the browser's own WebSocket).

const chromium = (() => {
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim() || '/usr/bin/chromium';
  } catch {
    return '/usr/bin/chromium';
  }
})();

let sdk: InstalledSdk;
let pages: Server;
let origin: string;
let server: TestServer;
let org: OrgFixture;
let browser: Browser;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html' };

/** Serves the consumer project's node_modules (read-only, no directory listing) and the test page. */
function staticServer(root: string, page: () => string): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(page());
      return;
    }
    const file = normalize(join(root, decodeURIComponent(path)));
    if (!file.startsWith(join(root, 'node_modules')) || !existsSync(file) || !statSync(file).isFile() || !TYPES[extname(file)]) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)]! });
    createReadStream(file).pipe(res);
  });
}

beforeAll(async () => {
  if (!existsSync(chromium)) throw new Error(`no Chromium at ${chromium}: apt-get install -y chromium (.ci/run does)`);
  sdk = await installPackedSdk();
  pages = staticServer(sdk.dir, () => page);
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(pages.address() as { port: number }).port}`;
  // The page is another origin than the API, as a web app on its own host is.
  server = await startTestServer({ env: { CORS_ORIGINS: origin, WS_ALLOWED_ORIGINS: origin } });
  org = await createOrg(server, 'browser-sdk');
  browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox'] });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (pages ? pages.close(resolve) : resolve(undefined)));
  await server?.stop();
  sdk?.remove();
});

let page = '';

describe('@vaultgate/sdk in a browser', () => {
  it('imports as plain ESM with an import map and runs a query and a subscription with the browser’s WebSocket', async () => {
    const credential = await server.gql(
      `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { ... on CreateCredentialPayload { credential { id } } } }`,
      { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'Browser', password: 'a long enough example password' } },
      org.admin,
    );
    const credentialId: string = credential.data.createCredential.credential.id;
    const imports = {
      '@vaultgate/sdk': '/node_modules/@vaultgate/sdk/dist/index.js',
      graphql: '/node_modules/graphql/index.mjs',
      'graphql-ws': '/node_modules/graphql-ws/dist/client.js',
    };
    page = `<!doctype html><meta charset="utf-8"><title>sdk</title>
<script type="importmap">${JSON.stringify({ imports })}</script>
<script type="module">
  import { createVaultgateClient, ViewerDocument, PasswordAccessedDocument, possibleTypes } from '@vaultgate/sdk';
  const client = createVaultgateClient({ url: ${JSON.stringify(server.url)}, token: ${JSON.stringify(org.admin.token)} });
  window.sdk = { client, ViewerDocument, PasswordAccessedDocument, possibleTypes };
  window.ready = true;
</script>`;

    const tab = await browser.newPage();
    const outside: string[] = [];
    const failures: string[] = [];
    await tab.setRequestInterception(true);
    tab.on('request', (request) => {
      const host = new URL(request.url()).hostname;
      if (host !== '127.0.0.1' && host !== 'localhost') {
        outside.push(request.url());
        void request.abort();
      } else void request.continue();
    });
    tab.on('pageerror', (err) => failures.push(String(err)));
    tab.on('requestfailed', (request) => failures.push(`${request.url()}: ${request.failure()?.errorText}`));
    await tab.goto(origin, { waitUntil: 'load' });
    await tab.waitForFunction('window.ready === true', { timeout: 20_000 });

    const viewer = await tab.evaluate(async () => {
      const { client, ViewerDocument } = (window as any).sdk;
      return (await client.request(ViewerDocument)).viewer.user.email as string;
    });
    expect(viewer).toBe(org.admin.email);
    expect(await tab.evaluate(() => Boolean((globalThis as any).process))).toBe(false);

    // The subscription starts in the page; the test records accesses until the page has received one.
    await tab.evaluate((id: string) => {
      const { client, PasswordAccessedDocument } = (window as any).sdk;
      (window as any).events = [];
      void (async () => {
        for await (const event of client.subscribe(PasswordAccessedDocument, { filter: { credentialId: id } })) (window as any).events.push(event);
      })().catch((err: unknown) => (window as any).events.push({ failed: String(err) }));
    }, credentialId);
    const received = async () => (await tab.evaluate(() => (window as any).events.length)) as number;
    for (let round = 0; round < 50 && (await received()) === 0; round++) {
      await server.gql(`mutation($id: ID!) { recordCredentialAccess(input: { id: $id, surface: COPY }) { __typename } }`, { id: credentialId }, org.admin);
      for (let tick = 0; tick < 10 && (await received()) === 0; tick++) await new Promise((r) => setTimeout(r, 20));
    }
    const events = await tab.evaluate(() => (window as any).events);
    expect(events[0]?.data?.passwordAccessed).toMatchObject({ credential: { id: credentialId }, accessRecord: { surface: 'COPY' } });
    await tab.evaluate(() => (window as any).sdk.client.close());

    expect(outside).toEqual([]);
    expect(failures).toEqual([]);
  }, 120_000);
});
