import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/process.ts';
import type { Browser, CDPSession } from 'puppeteer-core';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, createOrg, PASSWORD } from '../support/fixtures.ts';
import { axeViolations, clickNav, launch, openTab, text, type Tab } from './support.ts';
import { totpCode } from '../../src/lib/totp.ts';

/**
 * A passkey end to end in headless Chromium with a virtual authenticator (DevTools' WebAuthn domain): registered
 * from the security page, used as the second factor at sign-in, then removed after a step-up with it. The page is
 * opened on http://localhost:<port> (a secure context, and a valid relying-party id; an IP address is not one),
 * so the server is started on a port chosen beforehand with WEBAUTHN_ORIGINS naming it.
 */
const shots = process.env.SCREENSHOTS === '1' ? join(import.meta.dirname, '..', '..', 'docs', 'screenshots') : null;
async function shot(tab: Tab, name: string) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await tab.page.screenshot({ path: join(shots, `${name}.png`) as `${string}.png` });
}

let server: TestServer;
let browser: Browser;
let origin: string;


beforeAll(async () => {
  const port = await freePort();
  origin = `http://localhost:${port}`;
  server = await startTestServer({ env: { PORT: String(port), WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: origin } });
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

async function virtualAuthenticator(tab: Tab): Promise<{ cdp: CDPSession; authenticatorId: string }> {
  const cdp = await tab.page.createCDPSession();
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { cdp, authenticatorId };
}

const sessionToken = (tab: Tab) =>
  tab.page.evaluate(() => (JSON.parse(sessionStorage.getItem('vaultgate.session') ?? '{}') as { token?: string }).token ?? null);

describe('passkeys in the dashboard', () => {
  it('registers a passkey, signs in with password then passkey, and removes it after a step-up', async () => {
    const org = await createOrg(server, 'browser-passkeys');
    const member = await addMember(server, org, 'MEMBER');
    const tab = await openTab(browser, origin);
    const { cdp, authenticatorId } = await virtualAuthenticator(tab);
    const { page } = tab;

    // Password only, then register a passkey on the security page.
    await page.goto(`${origin}/signin`);
    await page.waitForSelector('[data-testid="signin-email"]');
    await page.type('[data-testid="signin-email"]', member.email);
    await page.type('[data-testid="signin-password"]', PASSWORD);
    await page.click('[data-testid="signin-submit"]');
    await page.waitForSelector('[data-testid="nav-security"]');
    await clickNav(page, 'nav-security');
    await page.waitForSelector('[data-testid="passkeys-empty"]');
    expect(await axeViolations(page), 'axe on the security page').toEqual([]);
    await page.type('[data-testid="passkey-name-input"]', 'Chromium virtual key');
    await page.click('[data-testid="passkey-register"]');
    await page.waitForSelector('[data-testid="passkey-row"]');
    expect(await text(page, '[data-testid="passkey-name"]')).toBe('Chromium virtual key');
    await page.waitForSelector('[data-testid="recovery-codes"]');
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0].rpId).toBe('localhost');
    expect(await axeViolations(page), 'axe after registering').toEqual([]);
    await shot(tab, 'security-passkeys');

    // Sign out, sign in: the password asks for the second factor, the passkey finishes it.
    await page.click('[data-testid="signout-button"]');
    await page.waitForSelector('[data-testid="signin-email"]');
    await page.type('[data-testid="signin-email"]', member.email);
    await page.type('[data-testid="signin-password"]', PASSWORD);
    await page.click('[data-testid="signin-submit"]');
    await page.waitForSelector('[data-testid="signin-passkey"]');
    expect(await page.$('[data-testid="signin-code"]'), 'a recovery code may be typed too').not.toBeNull();
    expect(await axeViolations(page), 'axe on the second-factor step').toEqual([]);
    await shot(tab, 'signin-second-factor');
    await page.click('[data-testid="signin-passkey"]');
    await page.waitForSelector('[data-testid="nav-credentials"]');
    const token = await sessionToken(tab);
    expect(token).toMatch(/^vgs_/);
    const status = await server.gql(`{ secondFactors { sessionAuthMethod factors { kind lastUsedAt } } }`, {}, { token: token! });
    expect(status.data.secondFactors.sessionAuthMethod).toBe('PASSKEY');
    expect(status.data.secondFactors.factors[0].lastUsedAt).not.toBeNull();

    // Later (the factor is no longer recent), removing the passkey asks for a step-up, done with the passkey itself.
    server.clock.advance(10 * 60_000);
    await clickNav(page, 'nav-security');
    await page.waitForSelector('[data-testid="passkey-row"]');
    await page.click('[data-testid="passkey-remove"]');
    await page.waitForSelector('[data-testid="stepup-passkey"]');
    expect(await page.$eval('[data-testid="error"]', (el) => el.getAttribute('data-error-type'))).toBe('StepUpRequiredError');
    await page.click('[data-testid="stepup-passkey"]');
    await page.waitForSelector('[data-testid="passkeys-empty"]');
    expect(await text(page, '[data-testid="security-status"]')).toContain('removed');

    const after = await server.gql(`{ secondFactors { factors { id } } }`, {}, { token: token! });
    expect(after.data.secondFactors.factors).toEqual([]);
    expect(tab.outside).toEqual([]);
    expect(tab.problems).toEqual([]);
  });

  it('sets up an authenticator app from its QR code page and signs in with its code', async () => {
    const org = await createOrg(server, 'browser-totp');
    const member = await addMember(server, org, 'MEMBER');
    const tab = await openTab(browser, origin);
    const { page } = tab;
    const signIn = async () => {
      await page.goto(`${origin}/signin`);
      await page.waitForSelector('[data-testid="signin-email"]');
      await page.type('[data-testid="signin-email"]', member.email);
      await page.type('[data-testid="signin-password"]', PASSWORD);
      await page.click('[data-testid="signin-submit"]');
    };
    await signIn();
    await page.waitForSelector('[data-testid="nav-security"]');
    await clickNav(page, 'nav-security');
    await page.waitForSelector('[data-testid="totp-start"]');
    await page.click('[data-testid="totp-start"]');
    await page.waitForSelector('[data-testid="totp-qr"]');
    expect(await axeViolations(page), 'axe with the QR code shown').toEqual([]);
    const secret = await text(page, '[data-testid="totp-secret"]');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    await page.type('[data-testid="totp-code-input"]', totpCode(secret, server.clock.now()).code);
    await page.click('[data-testid="totp-confirm"]');
    await page.waitForSelector('[data-testid="recovery-codes"]');
    expect(await text(page, '[data-testid="totp-state"]')).toContain('is set up');

    // The next sign-in asks for the app's code (a later time step: a code is accepted once).
    server.clock.advance(30_000);
    await page.evaluate(() => sessionStorage.clear());
    await signIn();
    await page.waitForSelector('[data-testid="signin-code"]');
    await page.type('[data-testid="signin-code"]', totpCode(secret, server.clock.now()).code);
    await page.click('[data-testid="signin-code-submit"]');
    await page.waitForSelector('[data-testid="nav-credentials"]');
    const token = await sessionToken(tab);
    const status = await server.gql(`{ secondFactors { sessionAuthMethod } }`, {}, { token: token! });
    expect(status.data.secondFactors.sessionAuthMethod).toBe('TOTP');
    expect(tab.outside).toEqual([]);
    expect(tab.problems).toEqual([]);
  });
});
