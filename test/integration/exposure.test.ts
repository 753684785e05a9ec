// The exposure response (issue 17): what did one person see since a date, and rotate all of it in one call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, createOrg, type OrgFixture } from '../support/fixtures.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

type Actor = { token: string };
const local = (id: string) => decodeGlobalID(id).id;

const CREATE = /* GraphQL */ `
  mutation($input: CreateCredentialInput!) { createCredential(input: $input) { __typename ... on CreateCredentialPayload { credential { id } } ... on Error { message } } }
`;
const REVEAL = /* GraphQL */ `
  mutation($input: RevealCredentialInput!) { revealCredential(input: $input) { __typename ... on RevealCredentialPayload { value version } ... on Error { message } } }
`;
const RECORD = /* GraphQL */ `
  mutation($input: RecordCredentialAccessInput!) { recordCredentialAccess(input: $input) { __typename ... on Error { message } } }
`;
const REPORT = /* GraphQL */ `
  query($actorId: ID!, $since: DateTime!, $until: DateTime, $first: Int) {
    exposureReport(actorId: $actorId, since: $since, until: $until, first: $first) {
      actor { email } truncated notRotatedCount
      entries { credential { id name } surfaces accessCount releasedByRequest lastExposedAt lastVersionSeen rotatedSince }
    }
  }
`;
const ROTATE_MANY = /* GraphQL */ `
  mutation($input: RotateCredentialsInput!) {
    rotateCredentials(input: $input) {
      __typename
      ... on RotateCredentialsPayload { succeeded failed results { id passwordStrength credential { id currentVersion } error { __typename message } } }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const CREATE_POLICY = /* GraphQL */ `
  mutation($input: CreateAccessPolicyInput!) { createAccessPolicy(input: $input) { __typename ... on CreateAccessPolicyPayload { accessPolicy { id } } ... on Error { message } } }
`;
const REQUEST = /* GraphQL */ `
  mutation($input: RequestAccessInput!) { requestAccess(input: $input) { __typename ... on RequestAccessPayload { accessRequest { id state } } ... on Error { message } } }
`;
const APPROVE = /* GraphQL */ `
  mutation($input: ApproveAccessRequestInput!) { approveAccessRequest(input: $input) { __typename ... on ApproveAccessRequestPayload { accessRequest { id state } } ... on Error { message } } }
`;

async function create(org: OrgFixture, actor: Actor, name: string, extra: Record<string, unknown> = {}) {
  const res = await server.gql(CREATE, { input: { organizationId: org.orgId, kind: 'PASSWORD', name, password: `${name}-secret-1`, ...extra } }, actor);
  if (res.data?.createCredential?.__typename !== 'CreateCredentialPayload') throw new Error(JSON.stringify(res));
  return res.data.createCredential.credential.id as string;
}
const payload = async (doc: string, actor: Actor, variables: Record<string, unknown>) => {
  const res = await server.gql(doc, variables, actor);
  if (!res.data || res.errors) throw new Error(JSON.stringify(res) + server.logs.filter((l) => l.includes('"level":50')).slice(-1).join(''));
  return Object.values(res.data)[0] as any;
};

describe('exposureReport and rotateCredentials', () => {
  it('lists what one person revealed, copied or was released since a date, and rotates all of it in one call', async () => {
    const org = await createOrg(server, 'expo');
    const manager = await addMember(server, org, 'MANAGER');
    const member = await addMember(server, org, 'MEMBER');
    const auditor = await addMember(server, org, 'AUDITOR');
    const web = await create(org, org.admin, 'Web');
    const db = await create(org, org.admin, 'Database');
    const quiet = await create(org, org.admin, 'Untouched');
    const tier0 = await create(org, org.admin, 'Tier0', { restricted: true });
    const policy = await payload(CREATE_POLICY, org.admin, {
      input: { organizationId: org.orgId, name: 'Tier 0', scope: { credentialIds: [tier0] }, requesters: { userIds: [member.userId], roles: [] }, steps: [{ approvers: { roles: ['MANAGER'] }, requiredApprovals: 1 }], defaultDurationMinutes: 60, maxDurationMinutes: 120 },
    });
    expect(policy.__typename).toBe('CreateAccessPolicyPayload');

    // Before the period: an old reveal that must not be listed.
    await payload(REVEAL, member, { input: { id: quiet, field: 'PASSWORD' } });
    server.clock.advance(60_000);
    const since = server.clock.now().toISOString();
    server.clock.advance(1000);
    expect((await payload(REVEAL, member, { input: { id: web, field: 'PASSWORD' } })).value).toBe('Web-secret-1');
    await payload(REVEAL, member, { input: { id: web, field: 'PASSWORD' } });
    server.clock.advance(1000);
    expect((await payload(RECORD, member, { input: { id: db, surface: 'COPY' } })).__typename).toBe('RecordCredentialAccessPayload');
    server.clock.advance(1000);
    const asked = await payload(REQUEST, member, { input: { credentialId: tier0, reason: 'incident 9' } });
    expect((await payload(APPROVE, manager, { input: { id: asked.accessRequest.id } })).accessRequest.state).toBe('AVAILABLE');
    // Someone else's reveal in the period is not the member's exposure.
    await payload(REVEAL, org.admin, { input: { id: quiet, field: 'PASSWORD' } });
    server.clock.advance(1000);

    // MEMBER may not ask; AUDITOR, MANAGER and ADMIN may.
    const refused = await server.gql(REPORT, { actorId: member.userId, since }, member);
    expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const report = await payload(REPORT, auditor, { actorId: member.userId, since });
    expect(report).toMatchObject({ actor: { email: member.email }, truncated: false, notRotatedCount: 3 });
    expect(report.entries.map((e: any) => [e.credential.name, e.surfaces, e.accessCount, e.releasedByRequest, e.lastVersionSeen, e.rotatedSince])).toEqual([
      ['Tier0', ['REQUEST'], 0, true, null, false],
      ['Database', ['COPY'], 1, false, 1, false],
      ['Web', ['REVEAL'], 2, false, 1, false],
    ]);
    expect((await payload(REPORT, manager, { actorId: member.userId, since, first: 1 })).truncated).toBe(true);
    // Another organization's ADMIN sees nothing of this organization.
    const stranger = await createOrg(server, 'stranger');
    expect((await payload(REPORT, stranger.admin, { actorId: member.userId, since })).entries).toEqual([]);

    // The member cannot rotate the restricted one (same rule as rotateCredential), but the others, yes.
    const ids = report.entries.map((e: any) => e.credential.id);
    const byMember = await payload(ROTATE_MANY, member, { input: { ids: [tier0, web, 'bm90LWFuLWlk'], reason: 'test' } });
    expect(byMember).toMatchObject({ succeeded: 1, failed: 2 });
    expect(byMember.results.map((r: any) => r.error?.__typename ?? null)).toEqual(['CredentialNotAvailableError', null, 'CredentialNotAvailableError']);

    server.clock.advance(1000);
    const rotated = await payload(ROTATE_MANY, org.admin, { input: { ids, reason: 'exposure response: member left', generate: { length: 32 } } });
    expect(rotated).toMatchObject({ __typename: 'RotateCredentialsPayload', succeeded: 3, failed: 0 });
    expect(rotated.results.map((r: any) => [r.id, r.credential.currentVersion, r.error])).toEqual([
      [tier0, 2, null],
      [db, 2, null],
      [web, 3, null],
    ]);
    // One audit entry per credential, one for the batch.
    const audit = await server.app.deps.db.auditEvent.findMany({ where: { organizationId: local(org.orgId), action: { in: ['credential.rotate', 'credential.rotate_batch'] } }, orderBy: { seq: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['credential.rotate', 'credential.rotate_batch', 'credential.rotate', 'credential.rotate', 'credential.rotate', 'credential.rotate_batch']);
    expect(JSON.parse(audit[5].data!)).toMatchObject({ count: 3, reason: 'exposure response: member left' });

    // The request still available on the rotated credential releases the new value.
    const after = await payload(REVEAL, member, { input: { id: tier0, field: 'PASSWORD' } });
    expect(after).toMatchObject({ __typename: 'RevealCredentialPayload', version: 2 });
    expect(after.value).not.toBe('Tier0-secret-1');
    expect(after.value).toHaveLength(32);

    // Now rotated since: what they saw no longer works — except where their request is still open.
    const again = await payload(REPORT, org.admin, { actorId: member.userId, since });
    const state = Object.fromEntries(again.entries.map((e: any) => [e.credential.name, e.rotatedSince]));
    expect(state).toEqual({ Web: true, Database: true, Tier0: false });
  });

  it('caps the ids of one call and counts them in the query cost', async () => {
    const org = await createOrg(server, 'expocap');
    const tooMany = await payload(ROTATE_MANY, org.admin, { input: { ids: Array.from({ length: 101 }, (_, i) => `id${i}`), reason: 'x' } });
    expect(tooMany).toMatchObject({ __typename: 'ValidationError', fieldErrors: [{ path: ['input', 'ids'], message: 'at most 100 credentials per call' }] });
    const huge = await server.gql(ROTATE_MANY, { input: { ids: Array.from({ length: 600 }, (_, i) => `id${i}`), reason: 'x' } }, org.admin);
    expect(huge.data ?? null).toBeNull();
    expect(huge.errors?.[0].message).toBeTruthy();
  });
});
