import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'puppeteer-core';
import ssh2 from 'ssh2';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, PASSWORD } from '../support/fixtures.ts';
import { freePort } from '../support/process.ts';
import { startSshTarget, type SshTarget } from '../support/sshTarget.ts';
import { APPROVE, SECRET, restrictedWorld } from '../adversarial/support.ts';
import { axeViolations, clickNav, launch, openTab, signInThroughForm } from './support.ts';

/** The Sessions page: a session recorded through the proxy is listed, and its replay shows what the user saw. */
let server: TestServer;
let target: SshTarget;
let browser: Browser;
let keyDir: string;
let proxyPort: number;

beforeAll(async () => {
  target = await startSshTarget({ username: 'root', password: SECRET });
  proxyPort = await freePort();
  keyDir = mkdtempSync(join(tmpdir(), 'vaultgate-proxy-key-'));
  server = await startTestServer({ env: { SSH_PROXY_PORT: String(proxyPort), SSH_PROXY_HOST_KEY_FILE: join(keyDir, 'ssh_proxy_host_key') } });
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await target?.close();
  if (keyDir) rmSync(keyDir, { recursive: true, force: true });
});

async function ok(query: string, variables: Record<string, unknown>, token: string) {
  const res = await server.gql(query, variables, { token });
  if (res.errors || !res.data) throw new Error(JSON.stringify(res));
  return Object.values(res.data)[0] as any;
}

/** One shell session through the proxy: types a line, sees its echo, leaves. */
async function recordSession(token: string): Promise<string> {
  const client = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    client.on('ready', () => resolve());
    client.on('error', reject);
    client.connect({ host: '127.0.0.1', port: proxyPort, username: token, readyTimeout: 10_000, hostVerifier: () => true });
  });
  const seen: Buffer[] = [];
  const closed = new Promise<void>((r) => client.on('close', () => r()));
  await new Promise<void>((resolve, reject) =>
    client.shell({ term: 'xterm', cols: 80, rows: 24, width: 0, height: 0 }, (err, stream) => {
      if (err) return reject(err);
      stream.on('data', (d: Buffer) => {
        seen.push(d);
        const all = Buffer.concat(seen).toString('utf8');
        if (all.includes('echo: replay me') && !all.includes('sent-exit')) {
          seen.push(Buffer.from('sent-exit'));
          stream.write('exit\r');
        }
      });
      stream.on('close', () => resolve());
      setTimeout(() => stream.write('replay me\r'), 200);
    }),
  );
  client.end();
  await closed;
  return Buffer.concat(seen).toString('utf8');
}

describe('sessions page in a browser', () => {
  it('lists a session recorded through the proxy and replays its output; axe finds nothing serious', { timeout: 120_000 }, async () => {
    const origin = new URL(server.url).origin;
    const w = await restrictedWorld(server, 'browser-sessions', { policy: { requestType: 'SESSION' } });
    const auditor = await addMember(server, w.org, 'AUDITOR');
    const asset = await ok(`mutation($input: CreateAssetInput!) { createAsset(input: $input) { ... on CreateAssetPayload { asset { id } } } }`, { input: { organizationId: w.org.orgId, name: 'target', host: '127.0.0.1', port: target.port, hostKeyFingerprint: target.fingerprint } }, w.org.admin.token);
    await ok(`mutation($input: SetCredentialAssetInput!) { setCredentialAsset(input: $input) { __typename } }`, { input: { credentialId: w.credentialId, assetId: asset.asset.id } }, w.org.admin.token);
    const req = await ok(`mutation($input: RequestAccessInput!) { requestAccess(input: $input) { ... on RequestAccessPayload { accessRequest { id } } } }`, { input: { credentialId: w.credentialId, type: 'SESSION' } }, w.requester.token);
    await ok(APPROVE, { input: { id: req.accessRequest.id } }, w.approvers[0].token);
    const started = await ok(`mutation($input: StartSessionInput!) { startSession(input: $input) { ... on StartSessionPayload { token session { id } } } }`, { input: { requestId: req.accessRequest.id } }, w.requester.token);
    const seen = await recordSession(started.token);
    expect(seen).toContain('echo: replay me');

    for (let i = 0; ; i++) {
      const s = await ok(`query($id: ID!) { node(id: $id) { ... on AccessSession { state } } }`, { id: started.session.id }, w.org.admin.token);
      if (s?.state === 'ENDED') break;
      if (i > 100) throw new Error('the session did not end');
      await new Promise((r) => setTimeout(r, 100));
    }
    const tab = await openTab(browser, origin);
    await signInThroughForm(tab, origin, auditor.email, PASSWORD, '/sessions');
    await clickNav(tab.page, 'nav-sessions');
    // Listed with a Replay button once the proxy has sealed it (ENDED).
    await tab.page.waitForSelector('[data-testid="session-replay"]', { timeout: 20_000 });
    const rows = await tab.page.$$eval('[data-testid="session-row"]', (els) => els.map((e) => e.getAttribute('data-session-id')));
    expect(rows).toContain(started.session.id);
    await tab.page.click('[data-testid="session-replay"]');
    await tab.page.waitForSelector('[data-testid="player-output"]');
    await tab.page.click('[data-testid="player-end"]');
    await tab.page.waitForFunction(() => document.querySelector('[data-testid="player-output"]')?.textContent?.includes('echo: replay me'), { timeout: 10_000 });
    const output = await tab.page.$eval('[data-testid="player-output"]', (e) => e.textContent ?? '');
    expect(output).not.toContain(SECRET);
    expect(await tab.page.$eval('[data-testid="player-time"]', (e) => e.textContent ?? '')).toMatch(/s \/ \d+\.\d s$/);
    expect(await axeViolations(tab.page)).toEqual([]);
  });
});
