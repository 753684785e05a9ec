import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { createOrg } from '../support/fixtures.ts';

/** Issue 12: AuditEvent.targetId speaks global ids for every node type; malformed ids get a code. */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('audit targets as global ids', () => {
  it('an access policy’s audit entry names it by the global id node() resolves', async () => {
    const org = await createOrg(server, 'gid');
    const cred = await server.gql(
      'mutation($input: CreateCredentialInput!) { createCredential(input: $input) { ... on CreateCredentialPayload { credential { id } } } }',
      { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'db', password: 'Restricted-1!x', restricted: true } },
      org.admin,
    );
    const policy = await server.gql(
      'mutation($input: CreateAccessPolicyInput!) { createAccessPolicy(input: $input) { ... on CreateAccessPolicyPayload { accessPolicy { id } } } }',
      { input: { organizationId: org.orgId, name: 'p', scope: { credentialIds: [cred.data.createCredential.credential.id] }, requesters: { roles: ['MEMBER'] } } },
      org.admin,
    );
    const policyId = policy.data.createAccessPolicy.accessPolicy.id;
    const events = await server.gql(
      'query($f: AuditEventFilter!) { auditEvents(filter: $f, first: 50) { edges { node { action targetType targetId } } } }',
      { f: { organizationId: org.orgId, action: 'access_policy.create' } },
      org.admin,
    );
    const entry = events.data.auditEvents.edges[0].node;
    expect(entry).toEqual({ action: 'access_policy.create', targetType: 'AccessPolicy', targetId: policyId });
    const node = await server.gql('query($id: ID!) { node(id: $id) { id __typename } }', { id: entry.targetId }, org.admin);
    expect(node.data.node).toEqual({ id: policyId, __typename: 'AccessPolicy' });
  });
});
