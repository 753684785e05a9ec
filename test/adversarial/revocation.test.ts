// Adversarial 14: a live subscriber loses their grant mid-stream — removed from the organization, demoted, or
// removed while events are bursting. Nothing of that organization published after the change may be delivered.
// Technique (as in realtime.test.ts): the subscriber is also a member of a second organization, whose event is a
// sentinel sent after the one that must not arrive; once the sentinel is in, the other would have been too.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, joinOrg, createOrg, signIn, type OrgFixture } from '../support/fixtures.ts';
import { APPROVE, CREATE_CREDENTIAL, ENV, localOf, REVEAL, REQUEST } from './support.ts';

let server: TestServer;
const clients: Client[] = [];
beforeAll(async () => {
  // Re-authentication only per delivery: the socket stays open, so only the per-delivery policy can stop events.
  server = await startTestServer({ env: { ...ENV, WS_REAUTH_INTERVAL_MS: '0' } });
});
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await server?.stop();
});

function subscribe(token: string, query: string, variables: Record<string, unknown> = {}) {
  const received: any[] = [];
  const errors: unknown[] = [];
  let acked!: () => void;
  const ready = new Promise<void>((r) => (acked = r));
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { token },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
    on: { connected: () => acked() },
  });
  clients.push(client);
  client.subscribe({ query, variables }, { next: (v) => received.push(v), error: (e) => errors.push(e), complete: () => undefined });
  return { received, errors, ready };
}

/** Lets the server register the subscription (its first read of the audit heads) before events are made. */
const settle = () => new Promise((r) => setTimeout(r, 150));

const ACCESSED = `subscription { passwordAccessed { cursor accessRecord { id credentialName } } }`;
const UPDATED = `subscription { accessRequestUpdated { cursor action accessRequest { id credentialName } } }`;
const PENDING = `subscription { approvalPending { cursor action accessRequest { id } } }`;
const REMOVE = `mutation($id: ID!) { removeMember(input: { membershipId: $id }) { __typename } }`;
const ROLE = `mutation($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { __typename } }`;

async function credentialIn(org: OrgFixture, name: string, restricted = false) {
  const res = await server.gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'PASSWORD', name, password: 'Revocation-Secret-1!', restricted } }, org.admin);
  return res.data.createCredential.credential.id as string;
}

/** One user who is a MANAGER in both organizations; returns their token and their membership in each. */
async function managerOfBoth(a: OrgFixture, b: OrgFixture) {
  const m = await addMember(server, a, 'MANAGER');
  const added = await joinOrg(server, b, m, 'MANAGER');
  return { ...m, token: await signIn(server, m.email), membershipInA: m.membershipId, membershipInB: added.membershipId };
}

/** A restricted credential, a MEMBER requester and a policy with MANAGER approvers, in `org`. */
async function requestable(org: OrgFixture, name: string) {
  const credentialId = await credentialIn(org, name, true);
  const requester = await addMember(server, org, 'MEMBER');
  const policy = await server.gql(
    `mutation($input: CreateAccessPolicyInput!) { createAccessPolicy(input: $input) { __typename } }`,
    { input: { organizationId: org.orgId, name: `P ${name}`, scope: { credentialIds: [credentialId] }, requesters: { roles: ['MEMBER'] }, steps: [{ approvers: { roles: ['MANAGER'] } }], reasonRequired: false } },
    org.admin,
  );
  expect(policy.data.createAccessPolicy.__typename).toBe('CreateAccessPolicyPayload');
  const ask = async () => (await server.gql(REQUEST, { input: { credentialId } }, requester)).data.requestAccess.accessRequest.id as string;
  return { credentialId, requester, ask };
}

describe('adversarial: grants revoked mid-stream', () => {
  it('an approver removed from an organization gets none of its request events any more (accessRequestUpdated, approvalPending)', async () => {
    const a = await createOrg(server, 'adv-rev-a');
    const b = await createOrg(server, 'adv-rev-b');
    const m = await managerOfBoth(a, b);
    const otherApprover = await addMember(server, a, 'MANAGER');
    const inA = await requestable(a, 'in A');
    const inB = await requestable(b, 'in B');
    const updates = subscribe(m.token, UPDATED);
    const pending = subscribe(m.token, PENDING);
    await Promise.all([updates.ready, pending.ready]);
    await settle();

    const first = await inA.ask(); // live before the removal
    await vi.waitFor(() => expect(updates.received).toHaveLength(1));
    await vi.waitFor(() => expect(pending.received).toHaveLength(1));

    expect((await server.gql(REMOVE, { id: m.membershipInA }, a.admin)).data.removeMember.__typename).toBe('RemoveMemberPayload');
    // Must not arrive: a transition of the request already seen, and a brand-new pending request.
    expect((await server.gql(APPROVE, { input: { id: first } }, otherApprover)).data.approveAccessRequest.accessRequest.state).toBe('AVAILABLE');
    const secret = await inA.ask();
    // The sentinel, in B.
    const sentinel = await inB.ask();
    await vi.waitFor(() => expect(updates.received).toHaveLength(2));
    await vi.waitFor(() => expect(pending.received).toHaveLength(2));
    expect(updates.received.map((r) => r.data?.accessRequestUpdated.accessRequest.id)).toEqual([first, sentinel]);
    expect(pending.received.map((r) => r.data?.approvalPending.accessRequest.id)).toEqual([first, sentinel]);
    expect(JSON.stringify([updates.received, pending.received])).not.toContain(secret);
  });

  it('a MANAGER demoted to MEMBER stops receiving passwordAccessed of that organization', async () => {
    const a = await createOrg(server, 'adv-demote-a');
    const b = await createOrg(server, 'adv-demote-b');
    const m = await managerOfBoth(a, b);
    const credA = await credentialIn(a, 'in A');
    const credB = await credentialIn(b, 'in B');
    const watch = subscribe(m.token, ACCESSED);
    await watch.ready;
    await settle();
    await server.gql(REVEAL, { input: { id: credA, field: 'PASSWORD' } }, a.admin);
    await vi.waitFor(() => expect(watch.received).toHaveLength(1));

    expect((await server.gql(ROLE, { input: { membershipId: m.membershipInA, role: 'MEMBER' } }, a.admin)).data.updateMemberRole.__typename).toBe('UpdateMemberRolePayload');
    await server.gql(REVEAL, { input: { id: credA, field: 'PASSWORD' } }, a.admin); // must not arrive
    await server.gql(REVEAL, { input: { id: credB, field: 'PASSWORD' } }, b.admin); // the sentinel
    await vi.waitFor(() => expect(watch.received).toHaveLength(2));
    expect(watch.received.map((r) => r.data?.passwordAccessed.accessRecord.credentialName)).toEqual(['in A', 'in B']);
  });

  it('removed while reveals burst: nothing recorded after the removal committed is delivered', async () => {
    const a = await createOrg(server, 'adv-burst-a');
    const b = await createOrg(server, 'adv-burst-b');
    const m = await managerOfBoth(a, b);
    const credA = await credentialIn(a, 'in A');
    const credB = await credentialIn(b, 'in B');
    const watch = subscribe(m.token, ACCESSED);
    await watch.ready;
    await settle();

    const reveal = () => server.gql(REVEAL, { input: { id: credA, field: 'PASSWORD' } }, a.admin);
    const before = Array.from({ length: 10 }, reveal);
    const removed = server.gql(REMOVE, { id: m.membershipInA }, a.admin);
    const after = Array.from({ length: 10 }, reveal);
    expect((await removed).data.removeMember.__typename).toBe('RemoveMemberPayload');
    await Promise.all([...before, ...after]);
    await Promise.all(Array.from({ length: 5 }, reveal)); // certainly after
    await server.gql(REVEAL, { input: { id: credB, field: 'PASSWORD' } }, b.admin); // the sentinel
    await vi.waitFor(() => expect(watch.received.some((r) => r.data?.passwordAccessed.accessRecord.credentialName === 'in B')).toBe(true));

    const db = server.app.deps.db;
    const chain = localOf(a.orgId);
    const removalSeq = (await db.auditEvent.findFirstOrThrow({ where: { chain, action: 'member.remove' } })).seq;
    const seqOfRecord = new Map(
      (await db.auditEvent.findMany({ where: { chain, action: 'credential.reveal' } })).map((e) => [JSON.parse(e.data).accessRecordId as string, e.seq]),
    );
    const fromA = watch.received.map((r) => r.data?.passwordAccessed).filter((e) => e?.accessRecord.credentialName === 'in A');
    for (const e of fromA) expect(seqOfRecord.get(localOf(e.accessRecord.id)), 'delivered after the removal').toBeLessThan(removalSeq);
    expect(watch.errors).toEqual([]);
  });
});
