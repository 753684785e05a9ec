import { randomBytes } from 'node:crypto';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { provisionNewMember } from '../../src/modules/organization/invitation.service.ts';
import { createAdministrator } from '../../src/modules/auth/auth.service.ts';
import type { TestServer } from './harness.ts';

export const PASSWORD = 'correct horse battery staple';

export const unique = (label: string) => `${label}-${randomBytes(4).toString('hex')}`;

export const SIGN_IN = /* GraphQL */ `
  mutation SignIn($input: SignInInput!) {
    signIn(input: $input) {
      __typename
      ... on SignInPayload { token expiresAt user { id email } }
      ... on Error { message }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;

export async function signIn(server: TestServer, email: string, password = PASSWORD): Promise<string> {
  const res = await server.gql(SIGN_IN, { input: { email, password } });
  const payload = res.data?.signIn;
  if (payload?.__typename !== 'SignInPayload') throw new Error(`sign-in failed: ${JSON.stringify(res)}`);
  return payload.token as string;
}

export type OrgFixture = {
  orgId: string;
  admin: { email: string; token: string; userId: string };
};

/**
 * An organization of its own for one test, with a signed-in ADMIN (a system administrator, as the bootstrap
 * user is). Created through the service layer, then signed in through the endpoint.
 */
export async function createOrg(server: TestServer, label = 'org'): Promise<OrgFixture> {
  const email = `${unique(label)}@example.test`;
  const { user, organization } = await createAdministrator(
    server.app.deps,
    { email, name: `Admin of ${label}`, password: PASSWORD, organizationName: unique(label) },
    { onlyIfFirst: false },
  );
  const token = await signIn(server, email);
  return {
    orgId: encodeGlobalID('Organization', organization.id),
    admin: { email, token, userId: encodeGlobalID('User', user.id) },
  };
}

export const INVITE_MEMBER = /* GraphQL */ `
  mutation InviteMember($input: InviteMemberInput!) {
    inviteMember(input: $input) {
      __typename
      ... on InviteMemberPayload { token invitation { id email role state expiresAt } }
      ... on Error { message }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;

export const ACCEPT_INVITATION_WITH_TOKEN = /* GraphQL */ `
  mutation AcceptInvitationWithToken($input: AcceptInvitationWithTokenInput!) {
    acceptInvitationWithToken(input: $input) {
      __typename
      ... on AcceptInvitationWithTokenPayload { membership { id role user { id email } } }
      ... on Error { message }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;

export const ACCEPT_INVITATION = /* GraphQL */ `
  mutation AcceptInvitation($input: AcceptInvitationInput!) {
    acceptInvitation(input: $input) {
      __typename
      ... on AcceptInvitationPayload { membership { id role user { id email } } }
      ... on Error { message }
    }
  }
`;

type Role = 'ADMIN' | 'MANAGER' | 'MEMBER' | 'AUDITOR';

/** An ADMIN invites an email; returns the one-time token (and the invitation). */
export async function invite(server: TestServer, org: OrgFixture, email: string, role: Role) {
  const res = await server.gql(INVITE_MEMBER, { input: { organizationId: org.orgId, email, role } }, { token: org.admin.token });
  const payload = res.data?.inviteMember;
  if (payload?.__typename !== 'InviteMemberPayload') throw new Error(`inviteMember failed: ${JSON.stringify(res)}`);
  return payload as { token: string; invitation: { id: string; email: string; role: Role; state: string; expiresAt: string } };
}

/**
 * Adds a new user with a role to the fixture's organization and signs them in. The account is provisioned through
 * the service layer (one `member.add` entry, acted by the ADMIN), the shortcut an operator has; the invitation
 * flow itself is exercised in test/integration/vault.test.ts and by `joinOrg`.
 */
export async function addMember(server: TestServer, org: OrgFixture, role: Role) {
  const email = `${unique(role.toLowerCase())}@example.test`;
  const membership = await provisionNewMember(server.app.deps, {
    organizationId: decodeGlobalID(org.orgId).id,
    email,
    name: `A ${role}`,
    password: PASSWORD,
    role,
    byUserId: decodeGlobalID(org.admin.userId).id,
  });
  const token = await signIn(server, email);
  return { email, token, membershipId: encodeGlobalID('Membership', membership.id), userId: encodeGlobalID('User', membership.userId) };
}

/** An existing, signed-in user joins another organization: its ADMIN invites them, they accept signed in. */
export async function joinOrg(server: TestServer, org: OrgFixture, person: { email: string; token: string }, role: Role) {
  const { invitation } = await invite(server, org, person.email, role);
  const res = await server.gql(ACCEPT_INVITATION, { input: { invitationId: invitation.id } }, { token: person.token });
  const payload = res.data?.acceptInvitation;
  if (payload?.__typename !== 'AcceptInvitationPayload') throw new Error(`acceptInvitation failed: ${JSON.stringify(res)}`);
  return { membershipId: payload.membership.id as string };
}
