// approvalPending promises "new pending requests, and requests that moved to a step they approve": over a real
// WebSocket, a partial approval within a step is not delivered again to the step's other approvers.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, createOrg } from '../support/fixtures.ts';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { encodeCursor } from '../../src/modules/realtime/feed.ts';

// Each test builds its own organization with several signed-in users; on a busy 2-core machine that alone takes a while.
vi.setConfig({ testTimeout: 240_000 });

let server: TestServer;
const clients: Client[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await server?.stop();
});

type Event = { action: string; accessRequest: { id: string; currentStep: number } };

/** A subscription over graphql-ws, resuming after `after` (so no event is missed while it registers). */
function subscribe(token: string, query: string, after: string) {
  const received: Event[] = [];
  const errors: unknown[] = [];
  let connected!: () => void;
  const ready = new Promise<void>((r) => (connected = r));
  const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { token }, retryAttempts: 0, lazy: false, on: { connected: () => connected() } });
  clients.push(client);
  client.subscribe<{ approvalPending: Event }>(
    { query, variables: { after } },
    { next: (v) => (v.data ? received.push(v.data.approvalPending) : errors.push(v.errors)), error: (e) => errors.push(e), complete: () => undefined },
  );
  return { received, errors, ready };
}

const SUBSCRIPTION = `subscription($after: String) { approvalPending(after: $after) { action accessRequest { id currentStep } } }`;
const REQUEST = `mutation($c: ID!) { requestAccess(input: { credentialId: $c }) { __typename ... on RequestAccessPayload { accessRequest { id } } } }`;
const APPROVE = `mutation($id: ID!) { approveAccessRequest(input: { id: $id }) { __typename ... on ApproveAccessRequestPayload { accessRequest { state currentStep } } } }`;

describe('subscriptions: approvalPending', () => {
  it('tells a step’s approvers once when it reaches their step, not again on each partial approval', async () => {
    const org = await createOrg(server, 'pending-once');
    const [m1, m2, m3, member] = [await addMember(server, org, 'MANAGER'), await addMember(server, org, 'MANAGER'), await addMember(server, org, 'MANAGER'), await addMember(server, org, 'MEMBER')];
    const cred = await server.gql(
      `mutation($input: CreateCredentialInput!) { createCredential(input: $input) { ... on CreateCredentialPayload { credential { id } } } }`,
      { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'Core switch', password: 'Pending-Once-4c1e!', restricted: true } },
      org.admin,
    );
    const credentialId = cred.data.createCredential.credential.id;
    const policy = await server.gql(
      `mutation($input: CreateAccessPolicyInput!) { createAccessPolicy(input: $input) { __typename } }`,
      {
        input: {
          organizationId: org.orgId,
          name: 'Two managers, then the admin',
          scope: { credentialIds: [credentialId] },
          requesters: { roles: ['MEMBER'] },
          steps: [{ approvers: { roles: ['MANAGER'] }, requiredApprovals: 2 }, { approvers: { userIds: [org.admin.userId] }, requiredApprovals: 1 }],
          reasonRequired: false,
        },
      },
      org.admin,
    );
    expect(policy.data.createAccessPolicy.__typename).toBe('CreateAccessPolicyPayload');

    // Every feed starts after the organization's current audit position: whatever happens from here reaches it,
    // however long the server takes to register the subscription (no sleeping on it).
    const orgId = decodeGlobalID(org.orgId).id;
    const head = await server.app.deps.db.auditHead.findUniqueOrThrow({ where: { chain: orgId } });
    const after = encodeCursor({ [orgId]: head.seq });
    const [w2, w3, wAdmin] = [subscribe(m2.token, SUBSCRIPTION, after), subscribe(m3.token, SUBSCRIPTION, after), subscribe(org.admin.token, SUBSCRIPTION, after)];
    await Promise.all([w2.ready, w3.ready, wAdmin.ready]);
    const ask = async () => (await server.gql(REQUEST, { c: credentialId }, member)).data.requestAccess.accessRequest.id as string;
    const first = await ask();
    await vi.waitFor(() => {
      expect(w2.received.map((e) => e.accessRequest.id)).toContain(first);
      expect(w3.received.map((e) => e.accessRequest.id)).toContain(first);
    });
    expect(w2.received).toEqual([{ action: 'access_request.create', accessRequest: { id: first, currentStep: 0 } }]);
    expect(w3.received).toEqual([{ action: 'access_request.create', accessRequest: { id: first, currentStep: 0 } }]);
    const before2 = w2.received.length;
    const before3 = w3.received.length;

    // m1 approves: one of two approvals of step 0. Nothing new for m2 and m3 (they were told when it arrived).
    expect((await server.gql(APPROVE, { id: first }, m1)).data.approveAccessRequest.accessRequest).toMatchObject({ state: 'PENDING', currentStep: 0 });
    // A sentinel both of them must receive, after the approval's entry in the same audit chain.
    const sentinel = await ask();
    await vi.waitFor(() => {
      expect(w2.received.map((e) => e.accessRequest.id)).toContain(sentinel);
      expect(w3.received.map((e) => e.accessRequest.id)).toContain(sentinel);
    });
    expect(w2.received.slice(before2).map((e) => [e.action, e.accessRequest.id])).toEqual([['access_request.create', sentinel]]);
    expect(w3.received.slice(before3).map((e) => [e.action, e.accessRequest.id])).toEqual([['access_request.create', sentinel]]);

    // m2 completes step 0: the request moves to the admin's step, and the admin is told (once); the managers not.
    expect((await server.gql(APPROVE, { id: first }, m2)).data.approveAccessRequest.accessRequest).toMatchObject({ state: 'PENDING', currentStep: 1 });
    await vi.waitFor(() => expect(wAdmin.received.map((e) => e.accessRequest.id)).toContain(first));
    expect(wAdmin.received.filter((e) => e.accessRequest.id === first)).toEqual([{ action: 'access_request.approve', accessRequest: { id: first, currentStep: 1 } }]);
    const last = await ask();
    await vi.waitFor(() => expect(w3.received.map((e) => e.accessRequest.id)).toContain(last));
    expect(w3.received.slice(before3).map((e) => e.accessRequest.id)).toEqual([sentinel, last]);
    expect([...w2.errors, ...w3.errors, ...wAdmin.errors]).toEqual([]);
  });
});
