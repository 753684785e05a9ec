import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'puppeteer-core';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, createOrg, PASSWORD } from '../support/fixtures.ts';
import { axeViolations, clickNav, launch, openTab, signInThroughForm, text, waitForText, type Tab } from './support.ts';

/**
 * The dashboard end to end in headless Chromium against a real server on SQLite: the live approval loop between
 * three people, the access feed, and the feed resuming across a server restart. SCREENSHOTS=1 also writes
 * docs/screenshots/*.png.
 */
const SECRET = 'Dashboard-Restricted-5f2a!';
const shots = process.env.SCREENSHOTS === '1' ? join(import.meta.dirname, '..', '..', 'docs', 'screenshots') : null;

let server: TestServer;
let restarted: TestServer | undefined;
let browser: Browser;
const tabs: Tab[] = [];

beforeAll(async () => {
  server = await startTestServer();
  browser = await launch();
  if (shots) mkdirSync(shots, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  if (restarted) {
    await restarted.app.stop();
    await server.db.drop();
  } else await server?.stop();
});

async function tab(width?: number, height?: number) {
  const t = await openTab(browser, new URL(server.url).origin, width, height);
  tabs.push(t);
  return t;
}

async function shot(page: Page, name: string) {
  if (!shots) return;
  await page.screenshot({ path: join(shots, `${name}.png`) as `${string}.png` });
}

/** Each page the test visits is scanned: no serious or critical accessibility violation. */
async function accessible(page: Page, name: string) {
  expect(await axeViolations(page), `axe on ${name}`).toEqual([]);
  await shot(page, name);
}

async function gqlOk(query: string, variables: Record<string, unknown>, token: string) {
  const res = await server.gql(query, variables, { token });
  if (res.errors || !res.data) throw new Error(JSON.stringify(res));
  const payload = Object.values(res.data)[0] as { __typename?: string };
  if (payload?.__typename && !payload.__typename.endsWith('Payload')) throw new Error(JSON.stringify(payload));
  return payload as any;
}

const CREATE_CREDENTIAL = /* GraphQL */ `
  mutation ($input: CreateCredentialInput!) { createCredential(input: $input) { __typename ... on CreateCredentialPayload { credential { id } } } }
`;
const CREATE_POLICY = /* GraphQL */ `
  mutation ($input: CreateAccessPolicyInput!) { createAccessPolicy(input: $input) { __typename ... on CreateAccessPolicyPayload { accessPolicy { id } } } }
`;
const REVEAL = /* GraphQL */ `
  mutation ($id: ID!) { revealCredential(input: { id: $id, field: PASSWORD }) { __typename } }
`;

describe('dashboard in a browser', () => {
  it('carries a request from asking to approval to reveal live, feeds both accesses to the auditor, and resumes the feed across a restart', { timeout: 240_000 }, async () => {
    const origin = new URL(server.url).origin;
    const org = await createOrg(server, 'dash');
    const manager = await addMember(server, org, 'MANAGER');
    const member = await addMember(server, org, 'MEMBER');
    const auditor = await addMember(server, org, 'AUDITOR');
    const open = await gqlOk(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'Wiki admin', username: 'wiki', password: 'Open-Wiki-Pass-1!', otpSecret: 'JBSWY3DPEHPK3PXP' } }, org.admin.token);
    const restricted = await gqlOk(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'Domain admin', username: 'administrator', password: SECRET, restricted: true } }, org.admin.token);
    const credentialId = restricted.credential.id as string;
    await gqlOk(CREATE_POLICY, {
      input: {
        organizationId: org.orgId,
        name: 'Tier 0',
        scope: { credentialIds: [credentialId] },
        requesters: { roles: ['MEMBER'] },
        steps: [{ approvers: { roles: ['MANAGER'] }, requiredApprovals: 1 }],
        reasonRequired: true,
        defaultDurationMinutes: 60,
      },
    }, org.admin.token);

    // Three people, each in their own browser context.
    const approver = await tab();
    const requester = await tab();
    const watcher = await tab();

    // Sign-in page first (the unauthenticated view), then into the app at the page asked for.
    await approver.page.goto(`${origin}/approvals`);
    await approver.page.waitForSelector('[data-testid="signin-email"]');
    expect(new URL(approver.page.url()).searchParams.get('next')).toBe('/approvals');
    await accessible(approver.page, 'signin');
    await signInThroughForm(approver, origin, manager.email, PASSWORD, '/approvals');
    expect(new URL(approver.page.url()).pathname).toBe('/approvals');
    await waitForText(approver.page, '[data-testid="connection-status"]', 'live');
    await approver.page.waitForSelector('[data-testid="approvals-empty"]');

    await signInThroughForm(watcher, origin, auditor.email, PASSWORD, '/feed');
    await clickNav(watcher.page, 'nav-access-feed');
    await waitForText(watcher.page, '[data-testid="connection-status"]', 'live');

    // The requester finds the restricted credential in the list and asks for it.
    await signInThroughForm(requester, origin, member.email, PASSWORD);
    const row = `[data-testid="credential-row"][data-credential-id="${credentialId}"]`;
    await requester.page.waitForSelector(row);
    expect(await requester.page.$$eval('[data-testid="credential-row"]', (rows) => rows.length)).toBe(2);
    await accessible(requester.page, 'credentials');
    await requester.page.click(`${row} a`);
    await requester.page.waitForSelector('[data-testid="request-access-button"]');
    expect(await requester.page.$('[data-testid="reveal-button"]')).toBeNull();
    await requester.page.click('[data-testid="request-access-button"]');
    // Policy refusals are shown in words with the rule they concern.
    await requester.page.click('[data-testid="request-submit"]');
    await requester.page.waitForSelector('[data-error-type="PolicyViolationError"]');
    expect(await text(requester.page, '[data-error-type="PolicyViolationError"]')).toContain('rule: reason required');
    await requester.page.type('[data-testid="request-reason"]', 'Patch Tuesday');
    await requester.page.type('[data-testid="request-ticket"]', 'INC-7');
    await accessible(requester.page, 'request-access');
    await requester.page.click('[data-testid="request-submit"]');
    await requester.page.waitForSelector('[data-testid="request-done"]');
    await clickNav(requester.page, 'nav-requests');
    await requester.page.waitForSelector('[data-testid="request-row"]');
    const requestId = await requester.page.$eval('[data-testid="request-row"]', (el) => el.getAttribute('data-request-id'));
    expect(requestId).toBeTruthy();
    const state = `[data-testid="request-state"][data-request-id="${requestId}"]`;
    expect(await requester.page.$eval(state, (el) => el.getAttribute('data-state'))).toBe('PENDING');
    await waitForText(requester.page, '[data-testid="connection-status"]', 'live');

    // The approver's open queue receives it without a reload.
    const navigations = await approver.page.evaluate(() => performance.getEntriesByType('navigation').length);
    const item = `[data-testid="approval-item"][data-request-id="${requestId}"]`;
    await approver.page.waitForSelector(item, { timeout: 20_000 });
    expect(await approver.page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(navigations);
    expect(await text(approver.page, item)).toContain('Patch Tuesday');
    expect(await text(approver.page, item)).toContain(member.email);
    await accessible(approver.page, 'approvals');
    await approver.page.type(`${item} [data-testid="decision-comment"]`, 'Go ahead');
    await approver.page.click(`${item} [data-testid="approve-button"]`);
    await approver.page.waitForSelector(item, { hidden: true });

    // …which turns the requester's open page to Available, live.
    await requester.page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute('data-state') === 'AVAILABLE', { timeout: 20_000 }, state);
    const requestRow = `[data-testid="request-row"][data-request-id="${requestId}"]`;
    await requester.page.waitForSelector(`${requestRow} [data-testid="checkin-button"]`);
    await accessible(requester.page, 'requests');

    // The requester reveals (shown masked until asked) and copies.
    expect(await text(requester.page, `${requestRow} [data-testid="secret-value"]`)).not.toContain(SECRET);
    await requester.page.click(`${requestRow} [data-testid="reveal-button"]`);
    await waitForText(requester.page, `${requestRow} [data-testid="secret-value"]`, SECRET);
    await requester.page.click(`${requestRow} [data-testid="copy-button"]`);
    await requester.page.waitForFunction((sel) => document.querySelector(sel)?.textContent?.includes('Copied'), {}, `${requestRow} [role="status"]`);
    expect(await requester.page.evaluate(() => navigator.clipboard.readText())).toBe(SECRET);

    // The auditor's feed shows both accesses as they happen.
    const feedItems = `[data-testid="access-feed-item"][data-credential-id="${credentialId}"]`;
    await watcher.page.waitForFunction((sel) => document.querySelectorAll(sel).length === 2, { timeout: 20_000 }, feedItems);
    expect(await watcher.page.$$eval(feedItems, (els) => els.map((e) => e.getAttribute('data-surface')))).toEqual(['COPY', 'REVEAL']);
    await accessible(watcher.page, 'access-feed');

    // Kill the server. The feed says so; two accesses happen while it cannot hear them (through a second
    // instance on the same database, on another port); the server comes back on its own port; the feed catches
    // up with exactly those two.
    const port = new URL(server.url).port;
    await server.app.stop();
    await waitForText(watcher.page, '[data-testid="connection-status"]', 'reconnecting');
    const other = await startTestServer({ shareWith: server });
    await other.gql(REVEAL, { id: credentialId }, { token: member.token });
    await other.gql(REVEAL, { id: open.credential.id }, { token: manager.token });
    await other.app.stop();
    restarted = await startTestServer({ shareWith: server, env: { PORT: port } });
    await waitForText(watcher.page, '[data-testid="connection-status"]', 'live', 30_000);
    await watcher.page.waitForFunction(() => document.querySelectorAll('[data-testid="access-feed-item"]').length >= 4, { timeout: 20_000 });
    // One more live access after the catch-up, then nothing is doubled.
    await restarted.gql(REVEAL, { id: credentialId }, { token: member.token });
    await watcher.page.waitForFunction(() => document.querySelectorAll('[data-testid="access-feed-item"]').length >= 5, { timeout: 20_000 });
    await new Promise((r) => setTimeout(r, 1000));
    const surfaces = await watcher.page.$$eval('[data-testid="access-feed-item"]', (els) => els.map((e) => `${e.getAttribute('data-credential-id')} ${e.getAttribute('data-surface')}`));
    expect(surfaces).toEqual([`${credentialId} REVEAL`, `${open.credential.id} REVEAL`, `${credentialId} REVEAL`, `${credentialId} COPY`, `${credentialId} REVEAL`]);

    // The requester checks in; the row follows.
    await requester.page.click(`${requestRow} [data-testid="checkin-button"]`);
    await requester.page.waitForFunction((sel) => document.querySelector(sel)?.getAttribute('data-state') === 'CHECKED_IN', { timeout: 20_000 }, state);

    // The remaining pages, each scanned: a credential with its TOTP, the audit log, administration.
    // The credential is an account of an asset: its page says of which, with the pinned host key.
    const asset = await gqlOk(`mutation($input: CreateAssetInput!) { createAsset(input: $input) { __typename ... on CreateAssetPayload { asset { id } } } }`, { input: { organizationId: org.orgId, name: 'wiki-01', host: 'wiki-01.internal', hostKeyFingerprint: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU' } }, org.admin.token);
    await gqlOk(`mutation($input: SetCredentialAssetInput!) { setCredentialAsset(input: $input) { __typename } }`, { input: { credentialId: open.credential.id, assetId: asset.asset.id } }, org.admin.token);
    const admin = await tab();
    await signInThroughForm(admin, origin, org.admin.email, PASSWORD, `/credentials/${encodeURIComponent(open.credential.id)}`);
    await admin.page.waitForSelector('[data-testid="credential-asset"]');
    expect(await text(admin.page, '[data-testid="credential-asset"]')).toContain('wiki-01');
    await admin.page.waitForSelector('[data-testid="reveal-button"]');
    await admin.page.click('[data-testid="totp-button"]');
    await admin.page.waitForSelector('[data-testid="totp-countdown"]');
    expect(await text(admin.page, '[data-testid="totp-code"]')).toMatch(/^\d{6}$/);
    await accessible(admin.page, 'credential');
    await clickNav(admin.page, 'nav-audit');
    await admin.page.waitForSelector('[data-testid="audit-row"]');
    await admin.page.click('[data-testid="verify-audit"]');
    await admin.page.waitForFunction(() => document.querySelector('[data-testid="verify-status"]')?.textContent?.startsWith('Intact'), { timeout: 20_000 });
    await accessible(admin.page, 'audit');
    await clickNav(admin.page, 'nav-admin');
    await admin.page.waitForSelector('form[aria-label="Create an API key"]');
    // Policies and workflows are made here too, by keyboard-usable forms, and listed once made.
    await admin.page.type('[data-testid="policy-name"]', 'Tier 1 from the dashboard');
    // A policy that covers nothing is refused, and the refusal is shown in words with its field.
    await admin.page.click('[data-testid="policy-submit"]');
    await admin.page.waitForFunction(() => document.body.innerText.includes('name at least one credential, folder or category'), { timeout: 20_000 });
    const category = await admin.page.$eval('[data-testid="policy-categories"] option', (o) => (o as HTMLOptionElement).value);
    await admin.page.select('[data-testid="policy-categories"]', category);
    await admin.page.click('[data-testid="policy-submit"]');
    await admin.page.waitForFunction(() => document.body.innerText.includes('Tier 1 from the dashboard'), { timeout: 20_000 });
    const policies = await gqlOk(`query($id: ID!) { organization(id: $id) { accessPolicies { name scope { categories { id } } requesters { roles } steps { requiredApprovals approvers { roles } } } } }`, { id: org.orgId }, org.admin.token);
    expect(policies.accessPolicies).toContainEqual({ name: 'Tier 1 from the dashboard', scope: { categories: [{ id: category }] }, requesters: { roles: ['MEMBER'] }, steps: [{ requiredApprovals: 1, approvers: { roles: ['ADMIN', 'MANAGER'] } }] });
    await admin.page.type('[data-testid="workflow-name"]', 'Tell the NOC');
    await admin.page.type('[data-testid="workflow-target"]', 'noc@example.test');
    await admin.page.click('[data-testid="workflow-submit"]');
    await admin.page.waitForFunction(() => document.body.innerText.includes('Tell the NOC'), { timeout: 20_000 });
    await accessible(admin.page, 'admin');

    // A 390-wide phone: the requests page still works and passes the scan.
    const phone = await tab(390, 844);
    await signInThroughForm(phone, origin, member.email, PASSWORD, '/requests');
    await phone.page.waitForSelector(state);
    await accessible(phone.page, 'requests-phone');
    expect(await phone.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);

    for (const t of tabs) {
      expect(t.outside, 'requests to other hosts').toEqual([]);
      expect(t.problems, 'CSP violations and page errors').toEqual([]);
    }
  });

  it('sends an expired session back to sign-in and returns to the page afterwards, by keyboard alone', async () => {
    const origin = new URL((restarted ?? server).url).origin;
    const target = restarted ?? server;
    const org = await createOrg(target, 'dash-expiry');
    const t = await openTab(browser, origin);
    tabs.push(t);
    await signInThroughForm(t, origin, org.admin.email, PASSWORD, '/audit');
    await t.page.waitForSelector('[data-testid="audit-row"]');
    // The server forgets the session (as when it expires or is signed out elsewhere).
    await t.page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('vaultgate.session')!);
      sessionStorage.setItem('vaultgate.session', JSON.stringify({ ...s, token: 'vg_expired_token' }));
    });
    await t.page.reload();
    await t.page.waitForSelector('[data-testid="signin-email"]');
    expect(await t.page.$eval('.notice', (el) => el.textContent)).toContain('session ended');
    expect(new URL(t.page.url()).searchParams.get('next')).toBe('/audit');
    // Keyboard only: Tab into the form, type, Tab, type, Enter.
    await t.page.keyboard.press('Tab');
    expect(await t.page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('signin-email');
    await t.page.keyboard.type(org.admin.email);
    await t.page.keyboard.press('Tab');
    await t.page.keyboard.type(PASSWORD);
    await t.page.keyboard.press('Enter');
    await t.page.waitForSelector('[data-testid="audit-row"]');
    expect(new URL(t.page.url()).pathname).toBe('/audit');
    // …and on, by keyboard: the verify button answers Enter.
    await t.page.focus('[data-testid="verify-audit"]');
    await t.page.keyboard.press('Enter');
    await t.page.waitForFunction(() => document.querySelector('[data-testid="verify-status"]')?.textContent?.startsWith('Intact'), { timeout: 20_000 });
    expect(await t.page.evaluate(() => localStorage.length)).toBe(0);
  });
});
