import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type Auth, type TestServer } from '../support/harness.ts';
import { addMember, createOrg, signIn, PASSWORD, type OrgFixture } from '../support/fixtures.ts';

// A cache time far longer than any test: every refusal below comes from invalidation, not from expiry.
const CACHED = { AUTH_CACHE_MS: '60000' };

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: CACHED });
});
afterAll(async () => {
  await server?.stop();
});

const LIST = /* GraphQL */ `query($org: ID!) { credentials(filter: { organizationId: $org }, first: 1) { edges { node { id } } } }`;
const AUDIT = /* GraphQL */ `query($org: ID!) { auditEvents(filter: { organizationId: $org }, first: 1) { edges { node { action } } } }`;

/** Whether the caller may list the organization's credentials; throws on anything but data or a refusal. */
async function canList(target: TestServer, org: OrgFixture, auth: Auth): Promise<boolean> {
  const res = await target.gql(LIST, { org: org.orgId }, auth);
  if (res.status === 401) return false;
  if (res.errors?.length) return false;
  if (!res.data?.credentials) throw new Error(`unexpected answer: ${JSON.stringify(res)}`);
  return true;
}

const mutate = async (target: TestServer, query: string, input: Record<string, unknown>, auth: Auth) => {
  const res = await target.gql(query, { input }, auth);
  expect(res.errors).toBeUndefined();
  return res.data;
};

describe('cached sessions and API keys end with the change that ends them', () => {
  it('sign-out: the same token is refused on the very next request', async () => {
    const org = await createOrg(server, 'cache-signout');
    const member = await addMember(server, org, 'MEMBER');
    expect(await canList(server, org, member)).toBe(true); // now cached
    expect((await server.gql(`mutation { signOut }`, {}, member)).data.signOut).toBe(true);
    const after = await server.gql(LIST, { org: org.orgId }, member);
    expect(after.status).toBe(401);
  });

  it('removal and demotion take effect at once for a cached member', async () => {
    const org = await createOrg(server, 'cache-member');
    const auditor = await addMember(server, org, 'AUDITOR');
    const member = await addMember(server, org, 'MEMBER');
    expect((await server.gql(AUDIT, { org: org.orgId }, auditor)).data?.auditEvents).toBeTruthy();
    expect(await canList(server, org, member)).toBe(true);

    await mutate(server, `mutation($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { __typename } }`, { membershipId: auditor.membershipId, role: 'MEMBER' }, org.admin);
    const demoted = await server.gql(AUDIT, { org: org.orgId }, auditor);
    expect(demoted.data?.auditEvents ?? null).toBeNull();
    expect(demoted.errors?.[0].message).toMatch(/not allowed|forbidden/i);

    await mutate(server, `mutation($input: RemoveMemberInput!) { removeMember(input: $input) { __typename } }`, { membershipId: member.membershipId }, org.admin);
    expect(await canList(server, org, member)).toBe(false);
  });

  it('a disabled user and a revoked API key are refused at once; a new organization is usable at once', async () => {
    const org = await createOrg(server, 'cache-disable');
    const member = await addMember(server, org, 'MEMBER');
    expect(await canList(server, org, member)).toBe(true);
    await mutate(server, `mutation($input: DisableUserInput!) { disableUser(input: $input) { __typename } }`, { userId: member.userId }, org.admin);
    expect((await server.gql(LIST, { org: org.orgId }, member)).status).toBe(401);

    const created = await mutate(
      server,
      `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { ... on CreateApiKeyPayload { key apiKey { id } } } }`,
      { organizationId: org.orgId, name: 'ci', role: 'MEMBER' },
      org.admin,
    );
    const key = { apiKey: created.createApiKey.key as string };
    expect(await canList(server, org, key)).toBe(true);
    await mutate(server, `mutation($input: RevokeApiKeyInput!) { revokeApiKey(input: $input) { __typename } }`, { id: created.createApiKey.apiKey.id }, org.admin);
    expect((await server.gql(LIST, { org: org.orgId }, key)).status).toBe(401);

    const made = await mutate(server, `mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { ... on CreateOrganizationPayload { organization { id } } } }`, { name: 'Fresh client' }, org.admin);
    expect(await canList(server, { ...org, orgId: made.createOrganization.organization.id }, org.admin)).toBe(true);
  });

  it('a password change ends the other sessions of the user at once', async () => {
    const org = await createOrg(server, 'cache-password');
    const member = await addMember(server, org, 'MEMBER');
    const other = { token: await signIn(server, member.email) };
    expect(await canList(server, org, other)).toBe(true);
    await mutate(server, `mutation($input: ChangePasswordInput!) { changePassword(input: $input) { __typename } }`, { currentPassword: PASSWORD, newPassword: 'an entirely new passphrase 42' }, member);
    expect((await server.gql(LIST, { org: org.orgId }, other)).status).toBe(401);
    expect(await canList(server, org, member)).toBe(true);
  });
});

describe('across instances', () => {
  it('a removal on one instance reaches the cache of another through Redis', async () => {
    const redis = { REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' };
    const a = await startTestServer({ env: { ...CACHED, ...redis } });
    const b = await startTestServer({ env: { ...CACHED, ...redis }, shareWith: a });
    try {
      const org = await createOrg(a, 'cache-redis');
      const member = await addMember(a, org, 'MEMBER');
      expect(await canList(b, org, member)).toBe(true); // cached on B
      await mutate(a, `mutation($input: RemoveMemberInput!) { removeMember(input: $input) { __typename } }`, { membershipId: member.membershipId }, org.admin);
      // The notice travels through Redis; B must drop its entry long before the 60 s the cache would keep it.
      await vi.waitFor(async () => expect(await canList(b, org, member)).toBe(false), { timeout: 10_000, interval: 50 });
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});
