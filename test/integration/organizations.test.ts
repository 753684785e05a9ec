import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { INVITE_MEMBER, PASSWORD, addMember, createOrg, joinOrg, signIn, unique } from '../support/fixtures.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const MEMBERS = /* GraphQL */ `
  query Members($id: ID!, $first: Int, $after: String) {
    organization(id: $id) {
      name
      members(first: $first, after: $after) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { cursor node { id role user { email } } }
      }
    }
  }
`;
const UPDATE_ROLE = /* GraphQL */ `
  mutation($input: UpdateMemberRoleInput!) {
    updateMemberRole(input: $input) { __typename ... on UpdateMemberRolePayload { membership { role } } ... on Error { message } }
  }
`;
const REMOVE = /* GraphQL */ `
  mutation($input: RemoveMemberInput!) {
    removeMember(input: $input) { __typename ... on RemoveMemberPayload { removedMembershipId } ... on Error { message } }
  }
`;
const CREATE_ORG = /* GraphQL */ `
  mutation($input: CreateOrganizationInput!) {
    createOrganization(input: $input) {
      __typename
      ... on CreateOrganizationPayload { organization { id name status viewerRole members { totalCount } } }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;

describe('organizations', () => {
  it('lets a system administrator create organizations, becoming their ADMIN; others are refused', async () => {
    const org = await createOrg(server, 'sysadmin');
    const res = await server.gql(CREATE_ORG, { input: { name: '  Globex  ' } }, { token: org.admin.token });
    expect(res.data.createOrganization.organization).toMatchObject({ name: 'Globex', status: 'ACTIVE', viewerRole: 'ADMIN', members: { totalCount: 1 } });

    const blank = await server.gql(CREATE_ORG, { input: { name: '   ' } }, { token: org.admin.token });
    expect(blank.data.createOrganization).toEqual({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'name'], message: 'must not be empty' }] });
    const long = await server.gql(CREATE_ORG, { input: { name: 'x'.repeat(201) } }, { token: org.admin.token });
    expect(long.data.createOrganization.fieldErrors[0].message).toBe('must be at most 200 characters');

    const manager = await addMember(server, org, 'ADMIN');
    const refused = await server.gql(CREATE_ORG, { input: { name: 'Nope' } }, { token: manager.token });
    expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(refused.data).toBeNull();
  });

  it('lists only the viewer’s organizations, paginated by name with a total count', async () => {
    const org = await createOrg(server, 'list');
    for (const name of ['Charlie', 'Alpha', 'Bravo']) await server.gql(CREATE_ORG, { input: { name } }, { token: org.admin.token });
    const page1 = await server.gql(
      `{ organizations(first: 2) { totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }`,
      {},
      { token: org.admin.token },
    );
    const c = page1.data.organizations;
    expect(c.totalCount).toBe(4);
    expect(c.edges.map((e: any) => e.node.name)).toEqual(['Alpha', 'Bravo']);
    expect(c.pageInfo.hasNextPage).toBe(true);
    const page2 = await server.gql(
      `query($after: String) { organizations(first: 2, after: $after) { pageInfo { hasNextPage } edges { node { name } } } }`,
      { after: c.pageInfo.endCursor },
      { token: org.admin.token },
    );
    expect(page2.data.organizations.edges.map((e: any) => e.node.name)).toEqual(['Charlie', expect.stringMatching(/^list-/)]);
    expect(page2.data.organizations.pageInfo.hasNextPage).toBe(false);
  });
});

describe('members', () => {
  it('adds new and existing users, lists them, changes roles, and removes them', async () => {
    const org = await createOrg(server, 'members');
    const other = await createOrg(server, 'members-other');
    const manager = await addMember(server, org, 'MANAGER');
    // An existing user (the other org's admin) joins by accepting an invitation.
    const existing = await joinOrg(server, org, { email: other.admin.email.toUpperCase(), token: other.admin.token }, 'AUDITOR');
    expect(existing.membershipId).toBeTruthy();
    const dup = await server.gql(INVITE_MEMBER, { input: { organizationId: org.orgId, email: other.admin.email, role: 'MEMBER' } }, { token: org.admin.token });
    expect(dup.data.inviteMember).toMatchObject({ __typename: 'AlreadyExistsError' });
    const badEmail = await server.gql(INVITE_MEMBER, { input: { organizationId: org.orgId, email: 'nope', role: 'MEMBER' } }, { token: org.admin.token });
    expect(badEmail.data.inviteMember.fieldErrors).toEqual([{ path: ['input', 'email'], message: 'must be an email address' }]);

    const list = await server.gql(MEMBERS, { id: org.orgId, first: 2 }, { token: manager.token });
    expect(list.data.organization.members.totalCount).toBe(3);
    expect(list.data.organization.members.edges.map((e: any) => e.node.role)).toEqual(['ADMIN', 'MANAGER']);
    const rest = await server.gql(MEMBERS, { id: org.orgId, first: 2, after: list.data.organization.members.pageInfo.endCursor }, { token: manager.token });
    expect(rest.data.organization.members.edges.map((e: any) => e.node.user.email)).toEqual([other.admin.email]);

    // A manager may read members but not manage them.
    const byManager = await server.gql(UPDATE_ROLE, { input: { membershipId: manager.membershipId, role: 'ADMIN' } }, { token: manager.token });
    expect(byManager.errors?.[0].extensions?.code).toBe('FORBIDDEN');

    const promoted = await server.gql(UPDATE_ROLE, { input: { membershipId: manager.membershipId, role: 'ADMIN' } }, { token: org.admin.token });
    expect(promoted.data.updateMemberRole.membership.role).toBe('ADMIN');
    const nowAdmin = await server.gql('{ viewer { user { memberships { role } } } }', {}, { token: manager.token });
    expect(nowAdmin.data.viewer.user.memberships).toEqual([{ role: 'ADMIN' }]);

    const removed = await server.gql(REMOVE, { input: { membershipId: manager.membershipId } }, { token: org.admin.token });
    expect(removed.data.removeMember.removedMembershipId).toBe(manager.membershipId);
    // Removal applies to the very next request of the removed member.
    const gone = await server.gql(MEMBERS, { id: org.orgId }, { token: manager.token });
    expect(gone.data.organization).toBeNull();
  });

  it('never leaves an organization without an ADMIN, even when two admins demote each other at once', async () => {
    const org = await createOrg(server, 'lastadmin');
    const me = await server.gql(`{ viewer { user { memberships { id role } } } }`, {}, { token: org.admin.token });
    const ownMembership = me.data.viewer.user.memberships[0].id;
    const alone = await server.gql(REMOVE, { input: { membershipId: ownMembership } }, { token: org.admin.token });
    expect(alone.data.removeMember).toEqual({ __typename: 'LastAdminError', message: 'An organization must keep at least one administrator.' });

    const second = await addMember(server, org, 'ADMIN');
    const [a, b] = await Promise.all([
      server.gql(UPDATE_ROLE, { input: { membershipId: second.membershipId, role: 'MEMBER' } }, { token: org.admin.token }),
      server.gql(UPDATE_ROLE, { input: { membershipId: ownMembership, role: 'MEMBER' } }, { token: second.token }),
    ]);
    const outcomes = [a, b].map((r) => r.data?.updateMemberRole?.__typename ?? r.errors?.[0].extensions?.code).sort();
    // One demotion wins; the other is refused (last admin, or no longer an admin at all).
    expect(outcomes[0]).toMatch(/FORBIDDEN|LastAdminError/);
    expect(outcomes[1]).toBe('UpdateMemberRolePayload');
    // Whoever was demoted is still a MEMBER and may read the member list.
    const list = await server.gql(MEMBERS, { id: org.orgId }, { token: org.admin.token });
    expect(list.data.organization.members.edges.filter((e: any) => e.node.role === 'ADMIN')).toHaveLength(1);
  });
});

describe('tenancy: other organizations answer exactly like missing ones', () => {
  it('gives the same answer for a foreign id and a non-existent id, on queries, node() and mutations', async () => {
    // The acting admin is an ordinary organization ADMIN: system administrators may look users up installation-wide.
    const mine = await createOrg(server, 'tenant-a');
    mine.admin = { ...mine.admin, ...(await addMember(server, mine, 'ADMIN')) };
    const theirs = await createOrg(server, 'tenant-b');
    const theirMember = await addMember(server, theirs, 'MEMBER');
    const missingOrg = Buffer.from('Organization:00000000-0000-0000-0000-000000000000').toString('base64');
    const missingMembership = Buffer.from('Membership:00000000-0000-0000-0000-000000000000').toString('base64');

    const q = (id: string) => server.gql(`query($id: ID!) { organization(id: $id) { name } node(id: $id) { id } }`, { id }, { token: mine.admin.token });
    const [foreign, missing, garbage] = await Promise.all([q(theirs.orgId), q(missingOrg), q('!!not-base64!!')]);
    expect(foreign.data).toEqual({ organization: null, node: null });
    expect(missing.data).toEqual(foreign.data);
    expect(garbage.data).toEqual(foreign.data);

    const userNode = await server.gql(`query($id: ID!) { node(id: $id) { id } }`, { id: theirMember.userId }, { token: mine.admin.token });
    expect(userNode.data.node).toBeNull();

    const m = (membershipId: string) => server.gql(REMOVE, { input: { membershipId } }, { token: mine.admin.token });
    const [foreignM, missingM] = await Promise.all([m(theirMember.membershipId), m(missingMembership)]);
    expect(foreignM.errors).toEqual(missingM.errors);
    expect(foreignM.errors?.[0]).toMatchObject({ message: 'Not found, or not allowed.', extensions: { code: 'FORBIDDEN' } });

    const add = (organizationId: string) =>
      server.gql(INVITE_MEMBER, { input: { organizationId, email: 'x@example.test', role: 'ADMIN' } }, { token: mine.admin.token });
    const [foreignAdd, missingAdd] = await Promise.all([add(theirs.orgId), add(missingOrg)]);
    expect(foreignAdd.errors).toEqual(missingAdd.errors);
    // Nothing was written in the foreign organization.
    const theirList = await server.gql(MEMBERS, { id: theirs.orgId }, { token: theirs.admin.token });
    expect(theirList.data.organization.members.totalCount).toBe(2);
    expect(await signIn(server, theirMember.email)).toMatch(/^vgs_/);
  });
});
