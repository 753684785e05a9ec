import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, createOrg, joinOrg, signIn, type OrgFixture } from '../support/fixtures.ts';
import { decodeGlobalID } from '@pothos/plugin-relay';
import { createContext } from '../../src/context.ts';
import { auditFeed } from '../../src/modules/realtime/feed.ts';

let server: TestServer;
const clients: Client[] = [];
beforeAll(async () => {
  server = await startTestServer({ env: { WS_REAUTH_INTERVAL_MS: '50' } });
});
afterAll(async () => {
  for (const c of clients) await c.dispose();
  await server?.stop();
});

const SECRET = 'Live-Feed-Secret-0b5e!';

type Closed = { code: number; reason: string };

/** A live subscription: what it received so far, and how its socket closed (if it did). */
function subscribe(target: TestServer, token: string, query: string, variables: Record<string, unknown> = {}) {
  const received: any[] = [];
  const errors: unknown[] = [];
  let closed: Closed | null = null;
  let acked!: () => void;
  const ready = new Promise<void>((r) => (acked = r));
  const client = createClient({
    url: target.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { token },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined, // closes are asserted through `closed`
    on: { connected: () => acked(), closed: (e) => (closed = { code: (e as CloseEvent).code, reason: (e as CloseEvent).reason }) },
  });
  clients.push(client);
  client.subscribe({ query, variables }, { next: (v) => received.push(v), error: (e) => errors.push(e), complete: () => undefined });
  return { received, errors, ready, client, get closed() { return closed; } };
}

/** Lets the server register the subscription (its first read of the audit heads) before events are made. */
const settle = () => new Promise((r) => setTimeout(r, 150));

const CREATE = /* GraphQL */ `
  mutation($input: CreateCredentialInput!) { createCredential(input: $input) { ... on CreateCredentialPayload { credential { id } } } }
`;
const REVEAL = /* GraphQL */ `
  mutation($id: ID!) { revealCredential(input: { id: $id, field: PASSWORD }) { __typename ... on RevealCredentialPayload { value } } }
`;
const ACCESSED = /* GraphQL */ `
  subscription($after: String, $filter: PasswordAccessFilter) {
    passwordAccessed(after: $after, filter: $filter) { cursor accessRecord { surface field version credentialName } credential { id } actor { email } }
  }
`;

async function credentialIn(org: OrgFixture, name: string, extra: Record<string, unknown> = {}) {
  const res = await server.gql(CREATE, { input: { organizationId: org.orgId, kind: 'PASSWORD', name, password: SECRET, ...extra } }, org.admin);
  return res.data.createCredential.credential.id as string;
}

describe('subscriptions: passwordAccessed', () => {
  it('delivers each access live, without the secret, to ADMIN/MANAGER/AUDITOR only, and resumes from a cursor without gaps', async () => {
    const org = await createOrg(server, 'live');
    const member = await addMember(server, org, 'MEMBER');
    const auditor = await addMember(server, org, 'AUDITOR');
    const cred = await credentialIn(org, 'Firewall');

    const watch = subscribe(server, auditor.token, ACCESSED);
    await watch.ready;
    const refused = subscribe(server, member.token, ACCESSED);
    await settle();

    expect((await server.gql(REVEAL, { id: cred }, member)).data.revealCredential.value).toBe(SECRET);
    await vi.waitFor(() => expect(watch.received).toHaveLength(1));
    const first = watch.received[0].data.passwordAccessed;
    expect(first).toMatchObject({ accessRecord: { surface: 'REVEAL', field: 'PASSWORD', version: 1, credentialName: 'Firewall' }, credential: { id: cred }, actor: { email: member.email } });
    expect(JSON.stringify(watch.received)).not.toContain(SECRET);
    await vi.waitFor(() => expect(refused.errors.length + refused.received.length).toBeGreaterThan(0));
    expect(refused.received.every((r) => r.errors?.[0]?.extensions?.code === 'FORBIDDEN')).toBe(true);

    // Three more accesses while a second dashboard is away; it resumes from the first cursor and gets exactly them.
    await server.gql(REVEAL, { id: cred }, member);
    await server.gql(`mutation($id: ID!) { recordCredentialAccess(input: { id: $id, surface: COPY }) { __typename } }`, { id: cred }, member);
    await server.gql(REVEAL, { id: cred }, org.admin);
    await vi.waitFor(() => expect(watch.received).toHaveLength(4));
    const resumed = subscribe(server, auditor.token, ACCESSED, { after: first.cursor });
    await vi.waitFor(() => expect(resumed.received).toHaveLength(3));
    const live = watch.received.slice(1).map((r) => r.data.passwordAccessed);
    expect(resumed.received.map((r) => r.data.passwordAccessed)).toEqual(live);
    // …and continues live after the replay, with no duplicate at the switch.
    await server.gql(REVEAL, { id: cred }, member);
    await vi.waitFor(() => expect(resumed.received).toHaveLength(4));
    await settle();
    expect(resumed.received).toHaveLength(4);
    expect(new Set(resumed.received.map((r) => r.data.passwordAccessed.cursor)).size).toBe(4);
  });

  it('gives every one of many subscribers on shared sessions each event exactly once (reads are shared between them)', async () => {
    const org = await createOrg(server, 'live-many');
    const second = await signIn(server, org.admin.email);
    const cred = await credentialIn(org, 'Shared');
    const watchers = Array.from({ length: 12 }, (_, i) => subscribe(server, i % 2 ? second : org.admin.token, ACCESSED));
    await Promise.all(watchers.map((w) => w.ready));
    await settle();
    for (let i = 0; i < 3; i++) await server.gql(REVEAL, { id: cred }, org.admin);
    for (const w of watchers) await vi.waitFor(() => expect(w.received).toHaveLength(3));
    await settle();
    const cursors = watchers.map((w) => w.received.map((r) => r.data.passwordAccessed.cursor));
    for (const c of cursors) expect(c).toEqual(cursors[0]);
    expect(new Set(cursors[0]).size).toBe(3);
    expect(watchers.every((w) => w.received.every((r) => r.data.passwordAccessed.credential.id === cred))).toBe(true);
  });

  it('filters by credential, surface and actor', async () => {
    const org = await createOrg(server, 'live-filter');
    const member = await addMember(server, org, 'MEMBER');
    const a = await credentialIn(org, 'A');
    const b = await credentialIn(org, 'B');
    const onlyB = subscribe(server, org.admin.token, ACCESSED, { filter: { credentialId: b, surfaces: ['REVEAL'] } });
    const byMember = subscribe(server, org.admin.token, ACCESSED, { filter: { actorId: member.userId } });
    await Promise.all([onlyB.ready, byMember.ready]);
    await settle();
    await server.gql(REVEAL, { id: a }, member);
    await server.gql(`mutation($id: ID!) { recordCredentialAccess(input: { id: $id, surface: COPY }) { __typename } }`, { id: b }, member);
    await server.gql(REVEAL, { id: b }, org.admin);
    await vi.waitFor(() => expect(onlyB.received).toHaveLength(1));
    await vi.waitFor(() => expect(byMember.received).toHaveLength(2));
    expect(onlyB.received[0].data.passwordAccessed).toMatchObject({ credential: { id: b }, accessRecord: { surface: 'REVEAL' } });
    expect(byMember.received.map((r) => r.data.passwordAccessed.accessRecord.credentialName)).toEqual(['A', 'B']);
  });

  it('stops delivering an organization’s events at once when the subscriber is removed from it', async () => {
    const a = await createOrg(server, 'live-revoke-a');
    const b = await createOrg(server, 'live-revoke-b');
    // One manager in both organizations.
    const manager = await addMember(server, a, 'MANAGER');
    await joinOrg(server, b, manager, 'MANAGER');
    const token = await signIn(server, manager.email);
    const credA = await credentialIn(a, 'in A');
    const credB = await credentialIn(b, 'in B');
    const watch = subscribe(server, token, ACCESSED);
    await watch.ready;
    await settle();

    await server.gql(`mutation($id: ID!) { removeMember(input: { membershipId: $id }) { __typename } }`, { id: manager.membershipId }, a.admin);
    await server.gql(REVEAL, { id: credA }, a.admin); // must not arrive
    await server.gql(REVEAL, { id: credB }, b.admin); // the sentinel: arrives, and after A's would have
    await vi.waitFor(() => expect(watch.received).toHaveLength(1));
    expect(watch.received[0].data.passwordAccessed.accessRecord.credentialName).toBe('in B');
  });
});

describe('subscriptions: access requests', () => {
  it('tells approvers of pending requests, the requester when available, and everyone who may see it of each transition', async () => {
    const org = await createOrg(server, 'live-requests');
    const manager = await addMember(server, org, 'MANAGER');
    const member = await addMember(server, org, 'MEMBER');
    const bystander = await addMember(server, org, 'MEMBER');
    const cred = await credentialIn(org, 'Domain admin', { restricted: true });
    const policy = await server.gql(
      `mutation($input: CreateAccessPolicyInput!) { createAccessPolicy(input: $input) { __typename } }`,
      { input: { organizationId: org.orgId, name: 'P', scope: { credentialIds: [cred] }, requesters: { roles: ['MEMBER'] }, steps: [{ approvers: { roles: ['MANAGER'] } }], reasonRequired: false } },
      org.admin,
    );
    expect(policy.data.createAccessPolicy.__typename).toBe('CreateAccessPolicyPayload');

    const EVENT = 'cursor action fromState toState accessRequest { id state }';
    const pending = subscribe(server, manager.token, `subscription { approvalPending { ${EVENT} } }`);
    const available = subscribe(server, member.token, `subscription { requestAvailable { ${EVENT} } }`);
    const updates = subscribe(server, member.token, `subscription { accessRequestUpdated { ${EVENT} } }`);
    const stranger = subscribe(server, bystander.token, `subscription { accessRequestUpdated { ${EVENT} } }`);
    await Promise.all([pending.ready, available.ready, updates.ready, stranger.ready]);
    await settle();

    const asked = await server.gql(`mutation($c: ID!) { requestAccess(input: { credentialId: $c }) { ... on RequestAccessPayload { accessRequest { id } } } }`, { c: cred }, member);
    const id = asked.data.requestAccess.accessRequest.id;
    await vi.waitFor(() => expect(pending.received).toHaveLength(1));
    expect(pending.received[0].data.approvalPending).toMatchObject({ action: 'access_request.create', accessRequest: { id, state: 'PENDING' } });

    await server.gql(`mutation($id: ID!) { approveAccessRequest(input: { id: $id }) { __typename } }`, { id }, manager);
    await vi.waitFor(() => expect(available.received).toHaveLength(1));
    expect(available.received[0].data.requestAvailable).toMatchObject({ toState: 'AVAILABLE', accessRequest: { id, state: 'AVAILABLE' } });
    await server.gql(`mutation($id: ID!) { checkInAccessRequest(input: { id: $id }) { __typename } }`, { id }, member);
    await vi.waitFor(() => expect(updates.received).toHaveLength(3));
    expect(updates.received.map((r) => r.data.accessRequestUpdated.action)).toEqual(['access_request.create', 'access_request.approve', 'access_request.check_in']);
    await settle();
    expect(stranger.received).toEqual([]);
    expect(pending.received).toHaveLength(1);
  });
});

describe('subscriptions: connections', () => {
  it('closes the socket when its session ends, and refuses connections without valid credentials', async () => {
    const org = await createOrg(server, 'live-close');
    const token = await signIn(server, org.admin.email);
    const watch = subscribe(server, token, ACCESSED);
    await watch.ready;
    await server.gql(`mutation { signOut }`, {}, { token });
    await vi.waitFor(() => expect(watch.closed).not.toBeNull());
    expect(watch.closed).toMatchObject({ code: 4401 });

    const bad = subscribe(server, 'vgs_not-a-real-token', ACCESSED);
    await vi.waitFor(() => expect(bad.closed).not.toBeNull());
    expect(bad.closed?.code).toBe(4403);
  });

  it('rejects a malformed cursor with a clear error', async () => {
    const org = await createOrg(server, 'live-cursor');
    const watch = subscribe(server, org.admin.token, ACCESSED, { after: 'not-a-cursor' });
    await vi.waitFor(() => expect(watch.errors.length + watch.received.length).toBeGreaterThan(0));
    const errs = (watch.errors[0] ?? watch.received[0]?.errors) as { message: string; extensions?: { code?: string } }[];
    expect(errs[0].message).toMatch(/cursor is not valid/);
  });
});

describe('subscriptions: across a restart', () => {
  it('a dashboard that reconnects after a server restart gets what it missed, from its cursor', async () => {
    const first = await startTestServer();
    const org = await createOrg(first, 'restart');
    const res = await first.gql(CREATE, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'Core', password: SECRET } }, org.admin);
    const cred = res.data.createCredential.credential.id;
    const watch = subscribe(first, org.admin.token, ACCESSED);
    await watch.ready;
    await settle();
    await first.gql(REVEAL, { id: cred }, org.admin);
    await vi.waitFor(() => expect(watch.received).toHaveLength(1));
    const cursor = watch.received[0].data.passwordAccessed.cursor;
    await watch.client.dispose();
    await first.gql(REVEAL, { id: cred }, org.admin);
    await first.gql(REVEAL, { id: cred }, org.admin);
    await first.app.stop();

    const second = await startTestServer({ shareWith: first });
    try {
      const back = subscribe(second, org.admin.token, ACCESSED, { after: cursor });
      await vi.waitFor(() => expect(back.received).toHaveLength(2));
      await second.gql(REVEAL, { id: cred }, org.admin);
      await vi.waitFor(() => expect(back.received).toHaveLength(3));
      expect(new Set(back.received.map((r) => r.data.passwordAccessed.cursor)).size).toBe(3);
      await back.client.dispose();
    } finally {
      await second.stop();
      await first.db.drop();
    }
  });
});

describe('subscriptions: several instances', () => {
  const onPostgres = process.env.VAULTGATE_TEST_DB === 'postgres';
  it.runIf(onPostgres)('delivers to a subscriber on instance A what happened on instance B, through Redis', async () => {
    const redis = { REDIS_URL: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379' };
    const a = await startTestServer({ env: redis });
    const b = await startTestServer({ env: redis, shareWith: a });
    try {
      const org = await createOrg(a, 'two-instances');
      const res = await b.gql(CREATE, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'Shared', password: SECRET } }, org.admin);
      const cred = res.data.createCredential.credential.id;
      const watch = subscribe(a, org.admin.token, ACCESSED);
      await watch.ready;
      await settle();
      expect((await b.gql(REVEAL, { id: cred }, org.admin)).data.revealCredential.value).toBe(SECRET);
      await vi.waitFor(() => expect(watch.received).toHaveLength(1));
      expect(watch.received[0].data.passwordAccessed.accessRecord).toMatchObject({ surface: 'REVEAL', credentialName: 'Shared' });
      await watch.client.dispose();
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});

describe('subscriptions: slow consumers', () => {
  it('disconnects a consumer that leaves new events unread too long (4008), and not one that keeps up', async () => {
    const slow = await startTestServer({ env: { WS_SLOW_CONSUMER_MS: '200' } });
    try {
      const org = await createOrg(slow, 'slow');
      const res = await slow.gql(CREATE, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'S', password: SECRET } }, org.admin);
      const cred = res.data.createCredential.credential.id;
      const ctx = await createContext(slow.app.deps, { authorization: `Bearer ${org.admin.token}` }, { clientAddress: null, userAgent: null });
      const closes: number[] = [];
      ctx.closeConnection = (code) => closes.push(code);
      const feed = auditFeed({ ctx, organizationIds: [decodeGlobalID(org.orgId).id], after: null, select: async (row) => row.seq });
      const first = feed.next(); // the consumer asks for one event…
      await settle();
      await slow.gql(REVEAL, { id: cred }, org.admin);
      expect((await first).done).toBe(false);
      await new Promise((r) => setTimeout(r, 400)); // …holding one is not slow while nothing new waits,
      expect(closes).toEqual([]);
      await slow.gql(REVEAL, { id: cred }, org.admin); // …but leaving new events unread is.
      await vi.waitFor(() => expect(closes).toEqual([4008]));
      expect((await feed.next()).done).toBe(true);
    } finally {
      await slow.stop();
    }
  });
});
