import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/process.ts';
import type { Browser } from 'puppeteer-core';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { createOrg, type OrgFixture } from '../support/fixtures.ts';
import { startOidcProvider, type TestProvider } from '../support/oidcProvider.ts';
import { axeViolations, clickNav, launch, openTab, signInThroughForm } from './support.ts';
import { PASSWORD } from '../support/fixtures.ts';

/**
 * Single sign-on from the dashboard in headless Chromium: the sign-in page's button goes through a real OIDC
 * provider on loopback and back, the page exchanges the fragment's one-time code and is signed in; a refused
 * domain is shown in words. The code never stays in the address bar.
 */
const CLIENT = { clientId: 'vaultgate-browser', clientSecret: 'a-browser-test-client-secret' };
let setup: TestServer;
let server: TestServer;
let provider: TestProvider;
let browser: Browser;
let origin: string;
let org: OrgFixture;


beforeAll(async () => {
  setup = await startTestServer();
  org = await createOrg(setup, 'browser-sso');
  await setup.app.stop();
  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  provider = await startOidcProvider({ ...CLIENT, redirectUri: `${origin}/auth/oidc/callback` });
  server = await startTestServer({
    shareWith: setup,
    env: {
      PORT: String(port),
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: CLIENT.clientId,
      OIDC_CLIENT_SECRET: CLIENT.clientSecret,
      OIDC_REDIRECT_URL: `${origin}/auth/oidc/callback`,
      OIDC_SCOPES: 'openid email profile groups',
      OIDC_ALLOWED_EMAIL_DOMAINS: 'corp.example',
      OIDC_ROLE_MAP: JSON.stringify({ 'vault-users': { org: org.orgId, role: 'MEMBER' } }),
    },
  });
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await server?.app.stop();
  await provider?.stop();
  await setup?.db.drop();
});

describe('single sign-on in the dashboard', () => {
  it('signs in through the identity provider, and shows a refused domain in words', async () => {
    provider.accounts.set('dana', { sub: 'dana', email: 'dana@corp.example', email_verified: true, name: 'Dana', groups: ['vault-users'] });
    provider.nextLogin.sub = 'dana';
    const tab = await openTab(browser, origin);
    const { page } = tab;
    await page.goto(`${origin}/signin?next=%2Frequests`);
    await page.waitForSelector('[data-testid="signin-sso"]');
    await Promise.all([page.waitForNavigation(), page.click('[data-testid="signin-sso"]')]);
    await page.waitForSelector('[data-testid="nav-requests"]');
    expect(new URL(page.url()).pathname).toBe('/requests');
    expect(page.url()).not.toContain('vgo_');
    const method = await page.evaluate(async () => {
      const { token } = JSON.parse(sessionStorage.getItem('vaultgate.session') ?? '{}') as { token: string };
      const res = await fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ secondFactors { sessionAuthMethod } }' }) });
      return ((await res.json()) as { data: { secondFactors: { sessionAuthMethod: string } } }).data.secondFactors.sessionAuthMethod;
    });
    expect(method).toBe('SSO');

    provider.accounts.set('oscar', { sub: 'oscar', email: 'oscar@elsewhere.example', email_verified: true, groups: ['vault-users'] });
    provider.nextLogin.sub = 'oscar';
    const other = await openTab(browser, origin);
    await other.page.goto(`${origin}/signin`);
    await other.page.waitForSelector('[data-testid="signin-sso"]');
    await Promise.all([other.page.waitForNavigation(), other.page.click('[data-testid="signin-sso"]')]);
    await other.page.waitForSelector('[data-testid="sso-error"]');
    expect(await other.page.$eval('[data-testid="sso-error"]', (el) => el.getAttribute('data-reason'))).toBe('domain_not_allowed');
    expect(await other.page.$eval('[data-testid="sso-error"]', (el) => el.textContent)).toContain('domain');
    expect(await axeViolations(other.page)).toEqual([]);

    // The organization's ADMIN switches passwords off for its members on the administration page.
    const admin = await openTab(browser, origin);
    await signInThroughForm(admin, origin, org.admin.email, PASSWORD);
    await clickNav(admin.page, 'nav-admin');
    await admin.page.waitForSelector('[data-testid="security-allow-password"]');
    expect(await admin.page.$eval('[data-testid="security-allow-password"]', (el) => (el as HTMLInputElement).checked)).toBe(true);
    await admin.page.click('[data-testid="security-allow-password"]');
    await admin.page.waitForFunction(() => !(document.querySelector('[data-testid="security-allow-password"]') as HTMLInputElement).checked);
    const rules = await server.gql(`query($id: ID!) { organization(id: $id) { allowPasswordSignIn } }`, { id: org.orgId }, { token: org.admin.token });
    expect(rules.data.organization.allowPasswordSignIn).toBe(false);
    expect(await axeViolations(admin.page)).toEqual([]);

    expect(tab.outside).toEqual([]);
    expect([...tab.problems, ...other.problems, ...admin.problems]).toEqual([]);
  });
});
