import { decodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/process.ts';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { PASSWORD, addMember, createOrg, type OrgFixture } from '../support/fixtures.ts';
import { followRedirects, startOidcProvider, type TestProvider } from '../support/oidcProvider.ts';
import { SoftPasskey } from '../support/webauthn.ts';

/**
 * Single sign-on end to end over HTTP against a real OpenID Connect provider (oidc-provider on loopback):
 * /auth/oidc/start → the provider's authorization and interaction → /auth/oidc/callback → the dashboard's
 * fragment → completeSsoSignIn. Just-in-time provisioning, the claim → role mapping and its update at the next
 * sign-in, refusals, and organizations that switched passwords off.
 */
const CLIENT = { clientId: 'vaultgate-test', clientSecret: 'a-test-client-secret-of-some-length' };
let setup: TestServer; // created the organizations, then stopped: the SSO server starts on its database
let server: TestServer;
let provider: TestProvider;
let base: string;
let orgA: OrgFixture;
let orgB: OrgFixture;


beforeAll(async () => {
  setup = await startTestServer();
  orgA = await createOrg(setup, 'sso-a');
  orgB = await createOrg(setup, 'sso-b');
  await setup.app.stop();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  provider = await startOidcProvider({ ...CLIENT, redirectUri: `${base}/auth/oidc/callback` });
  const roleMap = {
    'vault-admins': { org: orgA.orgId, role: 'ADMIN' }, // a global id …
    'vault-users': { org: decodeGlobalID(orgA.orgId).id, role: 'MEMBER' }, // … or the stored id
    auditors: [{ org: orgB.orgId, role: 'AUDITOR' }],
  };
  server = await startTestServer({
    shareWith: setup,
    env: {
      PORT: String(port),
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: CLIENT.clientId,
      OIDC_CLIENT_SECRET: CLIENT.clientSecret,
      OIDC_REDIRECT_URL: `${base}/auth/oidc/callback`,
      OIDC_SCOPES: 'openid email profile groups',
      OIDC_ALLOWED_EMAIL_DOMAINS: 'corp.example, example.test',
      OIDC_ROLE_CLAIM: 'groups',
      OIDC_ROLE_MAP: JSON.stringify(roleMap),
    },
  });
});
afterAll(async () => {
  await server?.app.stop();
  await provider?.stop();
  await setup?.db.drop();
});

const COMPLETE = `mutation($input: CompleteSsoSignInInput!) { completeSsoSignIn(input: $input) { __typename ... on SignInPayload { token user { email } } ... on MfaRequired { challengeId } ... on Error { message } } }`;
const VIEWER = `{ viewer { user { email memberships { role organization { id } } } } secondFactors { sessionAuthMethod } }`;
const SIGN_IN = `mutation($input: SignInInput!) { signIn(input: $input) { __typename ... on SignInPayload { token } ... on Error { message } } }`;
const SECURITY = `mutation($input: SetOrganizationSecurityInput!) { setOrganizationSecurity(input: $input) { id allowPasswordSignIn } }`;

/** A person signs in at the provider as `sub`; the browser ends on the dashboard's /signin with a fragment. */
async function viaProvider(sub: string, next = '/credentials') {
  provider.nextLogin.sub = sub;
  const { visited, final } = await followRedirects(`${base}/auth/oidc/start?next=${encodeURIComponent(next)}`, (u) => u.origin === base && u.pathname === '/signin');
  return { visited, final, fragment: new URLSearchParams(final.hash.slice(1)) };
}

async function ssoSignIn(sub: string) {
  const { fragment, final } = await viaProvider(sub);
  const code = fragment.get('sso');
  expect(code, final.href).toMatch(/^vgo_/);
  const res = await server.gql(COMPLETE, { input: { code } });
  return { res, code: code!, final };
}

const roles = async (token: string) => {
  const res = await server.gql(VIEWER, {}, { token });
  const memberships = res.data.viewer.user.memberships as { role: string; organization: { id: string } }[];
  return Object.fromEntries(memberships.map((m) => [m.organization.id, m.role]));
};

describe('single sign-on (OIDC)', () => {
  it('runs code + PKCE through the provider, provisions the user just in time and maps their groups to roles', async () => {
    provider.accounts.set('alice-sub', { sub: 'alice-sub', email: 'Alice@corp.example', email_verified: true, name: 'Alice Example', groups: ['vault-users', 'auditors', 'unmapped'] });
    const { visited, fragment } = await viaProvider('alice-sub', '/requests');
    const authorize = new URL(visited[1]);
    expect(authorize.origin).toBe(provider.issuer);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    // The handoff is in the fragment, never in a query string; next comes back as a path.
    const last = visited.at(-1)!;
    expect(new URL(last).searchParams.get('next')).toBe('/requests');
    expect(new URL(last).search).not.toContain('vgo_');
    const code = fragment.get('sso')!;

    const done = await server.gql(COMPLETE, { input: { code } });
    expect(done.data.completeSsoSignIn.__typename, JSON.stringify(done)).toBe('SignInPayload');
    expect(done.data.completeSsoSignIn.user.email).toBe('alice@corp.example');
    const token = done.data.completeSsoSignIn.token;
    expect(await roles(token)).toEqual({ [orgA.orgId]: 'MEMBER', [orgB.orgId]: 'AUDITOR' });
    const viewer = await server.gql(VIEWER, {}, { token });
    expect(viewer.data.secondFactors.sessionAuthMethod).toBe('SSO');

    // The code works once.
    const again = await server.gql(COMPLETE, { input: { code } });
    expect(again.data.completeSsoSignIn.__typename).toBe('InvalidSsoCodeError');

    // Audited with issuer and subject; the provisioned account has no password.
    const db = server.app.deps.db;
    const user = await db.user.findUniqueOrThrow({ where: { email: 'alice@corp.example' } });
    expect(user.passwordHash).toBe('');
    const entry = await db.auditEvent.findFirst({ where: { action: 'auth.sso_sign_in', targetId: user.id } });
    expect(JSON.parse(String(entry!.data))).toMatchObject({ issuer: provider.issuer, subject: 'alice-sub', provisioned: true });
    const added = await db.auditEvent.findMany({ where: { action: 'member.add', organizationId: { in: [decodeGlobalID(orgA.orgId).id, decodeGlobalID(orgB.orgId).id] } } });
    expect(added.map((e) => JSON.parse(String(e.data)).via)).toContain('sso');
  });

  it('updates roles at the next sign-in: promoted, and removed where no group grants one any more', async () => {
    provider.accounts.set('alice-sub', { sub: 'alice-sub', email: 'alice@corp.example', email_verified: true, groups: ['vault-users', 'vault-admins'] });
    const { res } = await ssoSignIn('alice-sub');
    expect(res.data.completeSsoSignIn.__typename).toBe('SignInPayload');
    expect(await roles(res.data.completeSsoSignIn.token)).toEqual({ [orgA.orgId]: 'ADMIN' });
    // The same subject is the same user, even when the provider reports another (verified) email.
    provider.accounts.set('alice-sub', { sub: 'alice-sub', email: 'alice.example@corp.example', email_verified: true, groups: ['vault-users'] });
    const renamed = await ssoSignIn('alice-sub');
    expect(renamed.res.data.completeSsoSignIn.user.email).toBe('alice@corp.example');
    expect(await roles(renamed.res.data.completeSsoSignIn.token)).toEqual({ [orgA.orgId]: 'MEMBER' });
  });

  it('refuses an email domain that is not allowed, and an unverified email, with a clear reason', async () => {
    provider.accounts.set('mallory-sub', { sub: 'mallory-sub', email: 'mallory@elsewhere.example', email_verified: true, groups: ['vault-admins'] });
    const refused = await viaProvider('mallory-sub');
    expect(refused.fragment.get('sso_error')).toBe('domain_not_allowed');
    expect(refused.fragment.get('sso')).toBeNull();
    expect(await server.app.deps.db.user.findUnique({ where: { email: 'mallory@elsewhere.example' } })).toBeNull();
    const audit = await server.app.deps.db.auditEvent.findFirst({ where: { action: 'auth.sso_refused' }, orderBy: { seq: 'desc' } });
    expect(JSON.parse(String(audit!.data))).toMatchObject({ subject: 'mallory-sub', reason: 'domain_not_allowed' });

    provider.accounts.set('eve-sub', { sub: 'eve-sub', email: 'eve@corp.example', email_verified: false });
    const unverified = await viaProvider('eve-sub');
    expect(unverified.fragment.get('sso_error')).toBe('email_not_verified');
  });

  it('refuses a replayed callback and an unknown state', async () => {
    provider.accounts.set('bob-sub', { sub: 'bob-sub', email: 'bob@corp.example', email_verified: true, groups: ['vault-users'] });
    const { visited } = await viaProvider('bob-sub');
    const callback = visited.find((u) => u.startsWith(`${base}/auth/oidc/callback`))!;
    const replay = await fetch(callback, { redirect: 'manual' });
    expect(replay.status).toBe(302);
    expect(replay.headers.get('location')).toBe('/signin#sso_error=expired');
    const forged = await fetch(`${base}/auth/oidc/callback?code=x&state=made-up`, { redirect: 'manual' });
    expect(forged.headers.get('location')).toBe('/signin#sso_error=expired');
    const bad = await server.gql(COMPLETE, { input: { code: 'vgo_not-a-real-code' } });
    expect(bad.data.completeSsoSignIn.__typename).toBe('InvalidSsoCodeError');
  });

  it('links an existing account by its verified email, and refuses its password where the organization switched passwords off', async () => {
    const member = await addMember(server, orgA, 'MEMBER'); // @example.test, an allowed domain
    provider.accounts.set('carol-sub', { sub: 'carol-sub', email: member.email, email_verified: true, groups: ['vault-users'] });
    const before = await server.gql(SIGN_IN, { input: { email: member.email, password: PASSWORD } });
    expect(before.data.signIn.__typename).toBe('SignInPayload');

    const off = await server.gql(SECURITY, { input: { organizationId: orgA.orgId, allowPasswordSignIn: false } }, { token: orgA.admin.token });
    expect(off.data.setOrganizationSecurity.allowPasswordSignIn).toBe(false);
    const refused = await server.gql(SIGN_IN, { input: { email: member.email, password: PASSWORD } });
    expect(refused.data.signIn.__typename).toBe('PasswordSignInDisabledError');
    // A wrong password still answers as a wrong password: the rule tells nothing to someone guessing.
    const wrong = await server.gql(SIGN_IN, { input: { email: member.email, password: 'not the password at all' } });
    expect(wrong.data.signIn.__typename).toBe('InvalidCredentialsError');
    // The organization's admin is a system administrator: the way back in if the provider fails.
    const admin = await server.gql(SIGN_IN, { input: { email: orgA.admin.email, password: PASSWORD } });
    expect(admin.data.signIn.__typename).toBe('SignInPayload');

    const { res } = await ssoSignIn('carol-sub');
    expect(res.data.completeSsoSignIn.__typename).toBe('SignInPayload');
    expect(res.data.completeSsoSignIn.user.email).toBe(member.email);
    await server.gql(SECURITY, { input: { organizationId: orgA.orgId, allowPasswordSignIn: true } }, { token: orgA.admin.token });
  });

  it('still asks an account with its own passkey for it after single sign-on', async () => {
    provider.accounts.set('frank-sub', { sub: 'frank-sub', email: 'frank@corp.example', email_verified: true, groups: ['vault-users'] });
    const first = await ssoSignIn('frank-sub');
    const token = first.res.data.completeSsoSignIn.token as string;
    const key = new SoftPasskey();
    const started = await server.gql(`mutation { startPasskeyRegistration { ... on PasskeyOptionsPayload { options } } }`, {}, { token });
    const registered = await server.gql(
      `mutation($input: FinishPasskeyRegistrationInput!) { finishPasskeyRegistration(input: $input) { __typename } }`,
      { input: { name: 'Key', response: key.register(started.data.startPasskeyRegistration.options) } },
      { token },
    );
    expect(registered.data.finishPasskeyRegistration.__typename).toBe('FinishPasskeyRegistrationPayload');

    const second = await ssoSignIn('frank-sub');
    expect(second.res.data.completeSsoSignIn.__typename).toBe('MfaRequired');
    const challengeId = second.res.data.completeSsoSignIn.challengeId;
    const options = await server.gql(`mutation($input: StartPasskeyAuthenticationInput!) { startPasskeyAuthentication(input: $input) { ... on PasskeyOptionsPayload { options } } }`, { input: { challengeId } });
    const done = await server.gql(
      `mutation($input: CompleteSignInInput!) { completeSignIn(input: $input) { __typename } }`,
      { input: { challengeId, webauthn: key.assert(options.data.startPasskeyAuthentication.options) } },
    );
    expect(done.data.completeSignIn.__typename).toBe('SignInPayload');
  });

  it('says whether SSO is configured', async () => {
    const res = await server.gql(`{ ssoEnabled }`);
    expect(res.data.ssoEnabled).toBe(true);
  });
});
