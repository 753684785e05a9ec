import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, createOrg } from '../support/fixtures.ts';
import { fit, slowdownRatio } from '../support/linearity.ts';

/**
 * Input a member or manager controls never reaches a backtracking regular expression (issue 12): the same request
 * with crafted input costs about what it costs with benign input of the same length, measured through the endpoint.
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const MAX_RATIO = 20;

const CREATE_CREDENTIAL = /* GraphQL */ `
  mutation($input: CreateCredentialInput!) {
    createCredential(input: $input) { __typename ... on CreateCredentialPayload { credential { id } } ... on ValidationError { fieldErrors { path message } } }
  }
`;
const CREATE_POLICY = /* GraphQL */ `
  mutation($input: CreateAccessPolicyInput!) {
    createAccessPolicy(input: $input) {
      __typename
      ... on CreateAccessPolicyPayload { accessPolicy { id ticketPattern } }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const REQUEST = /* GraphQL */ `
  mutation($input: RequestAccessInput!) {
    requestAccess(input: $input) { __typename ... on PolicyViolationError { rule } ... on Error { message } }
  }
`;

describe('regular expressions on input are linear', () => {
  it('a crafted SSH private key from a MEMBER is refused as fast as a benign one', async () => {
    const org = await createOrg(server, 'redos-ssh');
    const member = await addMember(server, org, 'MEMBER');
    const create = async (privateKey: string) => {
      const res = await server.gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'SSH_KEY', name: 'k', privateKey } }, member);
      expect(res.data?.createCredential?.__typename).toBe('ValidationError');
      return res.data.createCredential.fieldErrors[0];
    };
    const n = 1000;
    const head = '-----BEGIN OPENSSH PRIVATE KEY-----';
    const benign = fit(`${head}\n`, n);
    const crafted = `${fit(head, n - 1, ' ')}!`;
    expect(await create(crafted)).toEqual({ path: ['input', 'privateKey'], message: expect.stringContaining('PEM-armored') });
    expect(await slowdownRatio(create, benign, crafted)).toBeLessThan(MAX_RATIO);
  });

  it('a manager’s ticket pattern runs on a linear engine against a requester’s ticket', async () => {
    const org = await createOrg(server, 'redos-ticket');
    const member = await addMember(server, org, 'MEMBER');
    const cred = await server.gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'db', password: 'Restricted-1!x', restricted: true } }, org.admin);
    const credentialId = cred.data.createCredential.credential.id;
    // A plausible JIRA-style pattern; on a backtracking engine each extra digit of a near-miss doubles the time.
    const pattern = '([A-Z0-9]+-?)+[0-9]+';
    const policy = await server.gql(CREATE_POLICY, {
      input: {
        organizationId: org.orgId, name: 'tickets', scope: { credentialIds: [credentialId] }, requesters: { roles: ['MEMBER'] },
        steps: [{ approvers: { roles: ['ADMIN'] } }], ticketRequired: true, ticketPattern: pattern,
      },
    }, org.admin);
    expect(policy.data.createAccessPolicy.__typename).toBe('CreateAccessPolicyPayload');
    const request = async (ticketNumber: string) => {
      const res = await server.gql(REQUEST, { input: { credentialId, reason: 'maintenance', ticketNumber } }, member);
      return res.data.requestAccess;
    };
    // 30 characters: the backtracking engine this replaced took about 20 s here (the was 33).
    const length = 30;
    const crafted = `ABC${'1'.repeat(length - 4)}x`;
    const benign = fit('x', length, '1'); // refused at its first character by any engine
    expect(await request(crafted)).toEqual({ __typename: 'PolicyViolationError', rule: 'TICKET_PATTERN', message: expect.any(String) });
    expect(await slowdownRatio(request, benign, crafted)).toBeLessThan(MAX_RATIO);
    expect((await request('OPS-1234')).__typename).toBe('RequestAccessPayload');
  });

  it('refuses a ticket pattern that needs backtracking when the policy is saved (typed ValidationError)', async () => {
    const org = await createOrg(server, 'redos-save');
    const cred = await server.gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'db', password: 'Restricted-1!x', restricted: true } }, org.admin);
    for (const ticketPattern of ['(INC)-[0-9]+\\1', 'INC-(?=[0-9])[0-9]+']) {
      const res = await server.gql(CREATE_POLICY, {
        input: {
          organizationId: org.orgId, name: 'tickets', scope: { credentialIds: [cred.data.createCredential.credential.id] }, requesters: { roles: ['MEMBER'] },
          ticketPattern,
        },
      }, org.admin);
      expect(res.data.createAccessPolicy).toEqual({
        __typename: 'ValidationError',
        fieldErrors: [{ path: ['input', 'ticketPattern'], message: expect.stringContaining('RE2') }],
      });
    }
  });
});
