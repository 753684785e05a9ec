import { randomBytes } from 'node:crypto';
import { encodeGlobalID } from '@pothos/plugin-relay';
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

export const ADD_MEMBER = /* GraphQL */ `
  mutation AddMember($input: AddMemberInput!) {
    addMember(input: $input) {
      __typename
      ... on AddMemberPayload { membership { id role user { id email } } }
      ... on Error { message }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;

/** Adds a new user with a role to the fixture's organization and signs them in. */
export async function addMember(server: TestServer, org: OrgFixture, role: 'ADMIN' | 'MANAGER' | 'MEMBER' | 'AUDITOR') {
  const email = `${unique(role.toLowerCase())}@example.test`;
  const res = await server.gql(
    ADD_MEMBER,
    { input: { organizationId: org.orgId, email, role, name: `A ${role}`, initialPassword: PASSWORD } },
    { token: org.admin.token },
  );
  const payload = res.data?.addMember;
  if (payload?.__typename !== 'AddMemberPayload') throw new Error(`addMember failed: ${JSON.stringify(res)}`);
  const token = await signIn(server, email);
  return { email, token, membershipId: payload.membership.id as string, userId: payload.membership.user.id as string };
}
