import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { PASSWORD, SIGN_IN, addMember, createOrg, signIn, unique } from '../support/fixtures.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const BOOTSTRAP = /* GraphQL */ `
  mutation Bootstrap($input: BootstrapInput!) {
    bootstrap(input: $input) {
      __typename
      ... on BootstrapPayload { token user { email isSystemAdmin } organization { name } }
      ... on Error { message }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const VIEWER = /* GraphQL */ `{ viewer { kind user { email } apiKey { name role } } }`;

describe('bootstrap', () => {
  // Runs first in this file's own empty database.
  it('creates the first administrator once, even when two requests race', async () => {
    const input = (n: number) => ({ email: `first${n}@example.test`, name: 'First', password: PASSWORD, organizationName: 'Acme MSP' });
    const bad = await server.gql(BOOTSTRAP, { input: { ...input(0), email: 'not-an-email', password: 'short' } });
    expect(bad.data.bootstrap.__typename).toBe('ValidationError');
    expect(bad.data.bootstrap.fieldErrors.map((e: { path: string[] }) => e.path.join('.')).sort()).toEqual(['input.email', 'input.password']);

    const [a, b] = await Promise.all([server.gql(BOOTSTRAP, { input: input(1) }), server.gql(BOOTSTRAP, { input: input(2) })]);
    const kinds = [a.data.bootstrap.__typename, b.data.bootstrap.__typename].sort();
    expect(kinds).toEqual(['BootstrapClosedError', 'BootstrapPayload']);
    const winner = a.data.bootstrap.__typename === 'BootstrapPayload' ? a.data.bootstrap : b.data.bootstrap;
    expect(winner.user.isSystemAdmin).toBe(true);
    expect(winner.organization).toEqual({ name: 'Acme MSP' });
    const me = await server.gql(VIEWER, {}, { token: winner.token });
    expect(me.data.viewer).toEqual({ kind: 'USER', user: { email: winner.user.email }, apiKey: null });
    const role = await server.gql('{ organizations { edges { node { name viewerRole } } } }', {}, { token: winner.token });
    expect(role.data.organizations.edges).toEqual([{ node: { name: 'Acme MSP', viewerRole: 'ADMIN' } }]);

    const again = await server.gql(BOOTSTRAP, { input: input(3) });
    expect(again.data.bootstrap.__typename).toBe('BootstrapClosedError');
  });
});

describe('sign-in and sessions', () => {
  it('answers a wrong password, an unknown email and a malformed email identically', async () => {
    const org = await createOrg(server, 'signin');
    const answers = await Promise.all(
      [
        { email: org.admin.email, password: 'wrong password here' },
        { email: 'nobody@example.test', password: PASSWORD },
        { email: 'not even an email', password: PASSWORD },
      ].map((input) => server.gql(SIGN_IN, { input })),
    );
    for (const res of answers) {
      expect(res.status).toBe(200);
      expect(res.data.signIn).toEqual({ __typename: 'InvalidCredentialsError', message: 'The email or password is not correct.' });
    }
  });

  it('accepts the email in any case and issues a 256-bit opaque token', async () => {
    const org = await createOrg(server, 'case');
    const token = await signIn(server, org.admin.email.toUpperCase());
    expect(token).toMatch(/^vgs_[A-Za-z0-9_-]{43}$/);
    const me = await server.gql(VIEWER, {}, { token });
    expect(me.data.viewer.user.email).toBe(org.admin.email);
  });

  it('revokes the session on signOut, and a revoked token gets 401', async () => {
    const org = await createOrg(server, 'signout');
    const out = await server.gql('mutation { signOut }', {}, { token: org.admin.token });
    expect(out.data.signOut).toBe(true);
    const after = await server.gql(VIEWER, {}, { token: org.admin.token });
    expect(after.status).toBe(401);
    expect(after.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    expect(after.data ?? null).toBeNull();
  });

  it('expires sessions after SESSION_TTL_MINUTES (12 h by default)', async () => {
    const org = await createOrg(server, 'expiry');
    server.clock.advance(11 * 60 * 60_000);
    expect((await server.gql(VIEWER, {}, { token: org.admin.token })).status).toBe(200);
    server.clock.advance(60 * 60_000 + 1);
    const expired = await server.gql(VIEWER, {}, { token: org.admin.token });
    expect(expired.status).toBe(401);
  });

  it('refuses malformed and unknown credentials with 401, and anonymous requests see no viewer', async () => {
    for (const headers of [
      { authorization: 'Bearer vgs_doesnotexistdoesnotexistdoesnotexistdoesnot' },
      { authorization: 'Basic dXNlcjpwYXNz' },
      { authorization: 'Bearer ' + 'x'.repeat(5000) },
      { 'x-api-key': 'vgk_nope' },
    ] as Record<string, string>[]) {
      const res = await server.gql(VIEWER, {}, { headers });
      expect(res.status).toBe(401);
      expect(res.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    }
    const anon = await server.gql(VIEWER);
    expect(anon.data.viewer).toBeNull();
    const denied = await server.gql('{ organizations { totalCount } }');
    expect(denied.errors?.[0].message).toBe('Sign in first.');
  });

  it('changePassword keeps this session, revokes the others, and the old password stops working', async () => {
    const org = await createOrg(server, 'chpw');
    const other = await signIn(server, org.admin.email);
    const CHANGE = `mutation($input: ChangePasswordInput!) { changePassword(input: $input) { __typename ... on Error { message } } }`;
    const wrong = await server.gql(CHANGE, { input: { currentPassword: 'nope nope nope', newPassword: 'another long password' } }, { token: org.admin.token });
    expect(wrong.data.changePassword.__typename).toBe('InvalidCredentialsError');
    const ok = await server.gql(CHANGE, { input: { currentPassword: PASSWORD, newPassword: 'another long password' } }, { token: org.admin.token });
    expect(ok.data.changePassword.__typename).toBe('ChangePasswordPayload');
    expect((await server.gql(VIEWER, {}, { token: org.admin.token })).status).toBe(200);
    expect((await server.gql(VIEWER, {}, { token: other })).status).toBe(401);
    const old = await server.gql(SIGN_IN, { input: { email: org.admin.email, password: PASSWORD } });
    expect(old.data.signIn.__typename).toBe('InvalidCredentialsError');
    expect(await signIn(server, org.admin.email, 'another long password')).toMatch(/^vgs_/);
  });
});

describe('disabling users', () => {
  const DISABLE = `mutation($input: DisableUserInput!) { disableUser(input: $input) { user { email disabledAt } } }`;
  const ENABLE = `mutation($input: EnableUserInput!) { enableUser(input: $input) { user { disabledAt } } }`;

  it('revokes every session at once and refuses sign-in until enabled again', async () => {
    const org = await createOrg(server, 'disable');
    const member = await addMember(server, org, 'MEMBER');
    const second = await signIn(server, member.email);

    const byMember = await server.gql(DISABLE, { input: { userId: member.userId } }, { token: member.token });
    expect(byMember.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    const res = await server.gql(DISABLE, { input: { userId: member.userId } }, { token: org.admin.token });
    expect(res.data.disableUser.user.email).toBe(member.email);
    expect(res.data.disableUser.user.disabledAt).toBe(server.clock.now().toISOString());
    for (const token of [member.token, second]) expect((await server.gql(VIEWER, {}, { token })).status).toBe(401);
    const attempt = await server.gql(SIGN_IN, { input: { email: member.email, password: PASSWORD } });
    expect(attempt.data.signIn.__typename).toBe('InvalidCredentialsError');

    await server.gql(ENABLE, { input: { userId: member.userId } }, { token: org.admin.token });
    expect(await signIn(server, member.email)).toMatch(/^vgs_/);
  });
});

describe('API keys', () => {
  const CREATE = /* GraphQL */ `
    mutation($input: CreateApiKeyInput!) {
      createApiKey(input: $input) {
        __typename
        ... on CreateApiKeyPayload { key apiKey { id name role prefix lastUsedAt revokedAt } }
        ... on ValidationError { fieldErrors { path message } }
      }
    }
  `;
  const REVOKE = `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { apiKey { revokedAt } } }`;

  it('is shown once, authenticates as its organization and role, records last use, and stops at revocation', async () => {
    const org = await createOrg(server, 'apikey');
    const created = await server.gql(CREATE, { input: { organizationId: org.orgId, name: 'backup job', role: 'AUDITOR' } }, { token: org.admin.token });
    const { key, apiKey } = created.data.createApiKey;
    expect(key).toMatch(/^vgk_[A-Za-z0-9_-]{43}$/);
    expect(key.startsWith(apiKey.prefix)).toBe(true);
    expect(apiKey.lastUsedAt).toBeNull();

    const me = await server.gql(VIEWER, {}, { apiKey: key });
    expect(me.data.viewer).toEqual({ kind: 'API_KEY', user: null, apiKey: { name: 'backup job', role: 'AUDITOR' } });
    const orgs = await server.gql('{ organizations { totalCount edges { node { id viewerRole } } } }', {}, { apiKey: key });
    expect(orgs.data.organizations).toEqual({ totalCount: 1, edges: [{ node: { id: org.orgId, viewerRole: 'AUDITOR' } }] });

    const listed = await server.gql(
      `query($id: ID!) { organization(id: $id) { apiKeys { totalCount edges { node { name lastUsedAt } } } } }`,
      { id: org.orgId },
      { token: org.admin.token },
    );
    expect(listed.data.organization.apiKeys.edges[0].node.lastUsedAt).toBe(server.clock.now().toISOString());
    // The key itself is never readable again.
    expect(JSON.stringify(listed)).not.toContain(key);

    // Keys cannot manage keys, even with the ADMIN role.
    const adminKey = (await server.gql(CREATE, { input: { organizationId: org.orgId, name: 'ci', role: 'ADMIN' } }, { token: org.admin.token })).data.createApiKey.key;
    const spawn = await server.gql(CREATE, { input: { organizationId: org.orgId, name: 'x', role: 'ADMIN' } }, { apiKey: adminKey });
    expect(spawn.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    const revoked = await server.gql(REVOKE, { input: { id: apiKey.id } }, { token: org.admin.token });
    expect(revoked.data.revokeApiKey.apiKey.revokedAt).not.toBeNull();
    const after = await server.gql(VIEWER, {}, { apiKey: key });
    expect(after.status).toBe(401);
  });

  it('expires at expiresAt and refuses a past expiry', async () => {
    const org = await createOrg(server, 'apikey-exp');
    const past = await server.gql(CREATE, { input: { organizationId: org.orgId, name: 'old', role: 'MEMBER', expiresAt: '2000-01-01T00:00:00Z' } }, { token: org.admin.token });
    expect(past.data.createApiKey.fieldErrors).toEqual([{ path: ['input', 'expiresAt'], message: 'must be in the future' }]);
    const soon = new Date(server.clock.now().getTime() + 60_000).toISOString();
    const { key } = (await server.gql(CREATE, { input: { organizationId: org.orgId, name: 'soon', role: 'MEMBER', expiresAt: soon } }, { token: org.admin.token })).data.createApiKey;
    expect((await server.gql(VIEWER, {}, { apiKey: key })).status).toBe(200);
    server.clock.advance(60_001);
    expect((await server.gql(VIEWER, {}, { apiKey: key })).status).toBe(401);
  });
});

describe('secrets stay out of logs', () => {
  it('never logs passwords, session tokens or API keys', async () => {
    const org = await createOrg(server, 'logs');
    const password = `Unmistakable-${unique('pw')}`;
    await server.gql(SIGN_IN, { input: { email: org.admin.email, password } });
    const member = await addMember(server, org, 'MEMBER');
    const key = (
      await server.gql(
        `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreateApiKeyPayload { key } } }`,
        { input: { organizationId: org.orgId, name: 'k', role: 'MEMBER' } },
        { token: org.admin.token },
      )
    ).data.createApiKey.key;
    await server.gql(VIEWER, {}, { apiKey: key });
    await server.gql('{ viewer { nope } }', {}, { token: member.token });
    const all = server.logs.join('');
    expect(all.length).toBeGreaterThan(0);
    expect(all).toContain('sign-in failed');
    for (const secret of [password, PASSWORD, org.admin.token, member.token, key]) expect(all).not.toContain(secret);
  });
});
