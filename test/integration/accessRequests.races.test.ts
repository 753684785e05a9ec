// Locks and reads of the access-request lifecycle under concurrency: a transition never locks a row the caller
// may not see; an approval computes its window from the row it locked; a credential is never deleted from under
// an open request. The PostgreSQL cases hold a row lock from a raw connection to force the interleaving (and wait
// for the server's statement to be seen waiting on it — a real signal, not a sleep).
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, createOrg, type OrgFixture } from '../support/fixtures.ts';

// Each test builds its own organization with several signed-in users; on a busy 2-core machine that alone takes a while.
vi.setConfig({ testTimeout: 240_000 });

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const onPostgres = () => server.db.kind === 'postgres';
const local = (id: string) => decodeGlobalID(id).id;

const CREATE_CREDENTIAL = /* GraphQL */ `
  mutation($input: CreateCredentialInput!) { createCredential(input: $input) { __typename ... on CreateCredentialPayload { credential { id } } } }
`;
const CREATE_POLICY = /* GraphQL */ `
  mutation($input: CreateAccessPolicyInput!) { createAccessPolicy(input: $input) { __typename ... on ValidationError { fieldErrors { path message } } } }
`;
const REQUEST = /* GraphQL */ `
  mutation($c: ID!) { requestAccess(input: { credentialId: $c }) { __typename ... on RequestAccessPayload { accessRequest { id state } } ... on Error { message } } }
`;
const APPROVE = /* GraphQL */ `
  mutation($input: ApproveAccessRequestInput!) {
    approveAccessRequest(input: $input) { __typename ... on ApproveAccessRequestPayload { accessRequest { id state startsAt endsAt } } ... on Error { message } }
  }
`;
const DELETE = /* GraphQL */ `mutation($id: ID!) { deleteCredential(input: { id: $id }) { __typename ... on Error { message } } }`;
const act = (name: string) => `mutation($id: ID!) { ${name}(input: { id: $id }) { __typename ... on Error { message } } }`;

type World = { org: OrgFixture; manager: { token: string; userId: string }; member: { token: string; userId: string }; credentialId: string };

async function world(label: string, policy: Record<string, unknown> = {}): Promise<World> {
  const org = await createOrg(server, label);
  const manager = await addMember(server, org, 'MANAGER');
  const member = await addMember(server, org, 'MEMBER');
  const credentialId = await credential(org, `${label} credential`);
  const res = await server.gql(
    CREATE_POLICY,
    { input: { organizationId: org.orgId, name: 'P', scope: { credentialIds: [credentialId] }, requesters: { roles: ['MEMBER'] }, steps: [{ approvers: { roles: ['MANAGER'] } }], reasonRequired: false, ...policy } },
    org.admin,
  );
  expect(res.data.createAccessPolicy.__typename).toBe('CreateAccessPolicyPayload');
  return { org, manager, member, credentialId };
}

async function credential(org: OrgFixture, name: string) {
  const res = await server.gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'PASSWORD', name, password: 'Race-Secret-71b0!', restricted: true } }, org.admin);
  return res.data.createCredential.credential.id as string;
}

const ask = async (w: World, credentialId = w.credentialId) => (await server.gql(REQUEST, { c: credentialId }, w.member)).data.requestAccess;

/** A raw connection to the server's own PostgreSQL database, to hold locks the way another transaction would. */
async function rawConnection() {
  const client = new pg.Client({ connectionString: server.db.url });
  await client.connect();
  return client;
}

/** Waits (bounded) until `n` backends of this database wait for a lock: the server's statement is blocked. */
async function waitForLockWaiters(observer: pg.Client, n: number) {
  for (let i = 0; i < 500; i++) {
    const { rows } = await observer.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
    if (rows[0].n >= n) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the server never waited for the lock');
}

describe('a transition checks visibility before it locks', () => {
  it('answers a foreign id exactly like a missing one, for every transition', async () => {
    const w = await world('foreign');
    const outsider = await createOrg(server, 'outsider');
    const id = (await ask(w)).accessRequest.id as string;
    const missing = encodeGlobalID('AccessRequest', randomUUID());
    for (const name of ['approveAccessRequest', 'denyAccessRequest', 'revokeAccessRequest', 'cancelAccessRequest', 'checkInAccessRequest']) {
      const foreign = await server.gql(act(name), { id }, outsider.admin);
      const absent = await server.gql(act(name), { id: missing }, outsider.admin);
      expect(foreign.errors?.[0].extensions?.code, name).toBe('FORBIDDEN');
      expect({ data: foreign.data, errors: foreign.errors }).toEqual({ data: absent.data, errors: absent.errors });
    }
    // And the row was not even written (its version is what the creation left).
    const row = await server.app.deps.db.accessRequest.findUniqueOrThrow({ where: { id: local(id) } });
    expect(row.version).toBe(0);
  });

  it('never takes the row lock of a request the caller may not see (PostgreSQL)', async (t) => {
    if (!onPostgres()) t.skip(); // SQLite has no row locks: a writer locks the whole database either way.
    const w = await world('nolock');
    const outsider = await createOrg(server, 'outsider-lock');
    const id = (await ask(w)).accessRequest.id as string;
    const holder = await rawConnection();
    const observer = await rawConnection();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT "id" FROM "AccessRequest" WHERE "id" = $1 FOR UPDATE`, [local(id)]);
      let released = false;
      // The outsider's answer must not depend on the lock: it comes while the lock is still held. (Bounded: if it
      // waits for the lock, the lock is let go after a while, and `released` tells.)
      const bound = setTimeout(() => {
        released = true;
        void holder.query('COMMIT');
      }, 15_000);
      const answer = await server.gql(act('approveAccessRequest'), { id }, outsider.admin);
      const answeredWhileLocked = !released;
      clearTimeout(bound);
      expect(answer.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(answeredWhileLocked).toBe(true);

      // The approver, who may see it, does wait for the lock (so the lock above was real).
      const approving = server.gql(APPROVE, { input: { id } }, w.manager);
      await waitForLockWaiters(observer, 1);
      if (!released) await holder.query('COMMIT');
      expect((await approving).data.approveAccessRequest.accessRequest.state).toBe('AVAILABLE');
    } finally {
      await holder.end();
      await observer.end();
    }
  });
});

describe('an approval reads the window it keeps inside its own transaction', () => {
  it('keeps the start as the locked row has it, not as read before the lock (PostgreSQL)', async (t) => {
    if (!onPostgres()) t.skip(); // SQLite serialises transactions; the interleaving needs a row lock.
    const w = await world('window', { approversMayChangeWindow: true, maxDurationMinutes: 240 });
    const id = (await ask(w)).accessRequest.id as string;
    const now = server.clock.now().getTime();
    const moved = { startsAt: new Date(now + 30 * 60_000), endsAt: new Date(now + 90 * 60_000) };
    const holder = await rawConnection();
    const observer = await rawConnection();
    try {
      // Another transaction moves the window and has not committed yet (as a concurrent change would).
      await holder.query('BEGIN');
      await holder.query(`UPDATE "AccessRequest" SET "startsAt" = $2, "endsAt" = $3 WHERE "id" = $1`, [local(id), moved.startsAt, moved.endsAt]);
      // The approver changes only the length; the start is whatever the request has when the approval applies.
      const approving = server.gql(APPROVE, { input: { id, durationMinutes: 45 } }, w.manager);
      await waitForLockWaiters(observer, 1);
      await holder.query('COMMIT');
      const approved = (await approving).data.approveAccessRequest;
      expect(approved.__typename).toBe('ApproveAccessRequestPayload');
      expect(approved.accessRequest).toMatchObject({ state: 'APPROVED', startsAt: moved.startsAt.toISOString(), endsAt: new Date(moved.startsAt.getTime() + 45 * 60_000).toISOString() });
    } finally {
      await holder.end();
      await observer.end();
    }
  });

  it('keeps the current start when only the length changes (both databases)', async () => {
    const w = await world('length', { approversMayChangeWindow: true, maxDurationMinutes: 240 });
    const asked = (await ask(w)).accessRequest;
    const row = await server.app.deps.db.accessRequest.findUniqueOrThrow({ where: { id: local(asked.id) } });
    const approved = (await server.gql(APPROVE, { input: { id: asked.id, durationMinutes: 20 } }, w.manager)).data.approveAccessRequest.accessRequest;
    expect(approved).toMatchObject({ startsAt: row.startsAt.toISOString(), endsAt: new Date(row.startsAt.getTime() + 20 * 60_000).toISOString() });
    const invalid = (await server.gql(APPROVE, { input: { id: (await ask(w)).accessRequest.id, durationMinutes: 0 } }, w.manager)).data.approveAccessRequest;
    expect(invalid.__typename).toBe('ValidationError');
  });
});

describe('deleteCredential and requestAccess', () => {
  it('never deletes a credential from under a request made while the delete checked (PostgreSQL, forced interleaving)', async (t) => {
    if (!onPostgres()) t.skip(); // SQLite serialises writing transactions: the delete's check and delete are one.
    const w = await world('delete-race');
    const holder = await rawConnection();
    const observer = await rawConnection();
    try {
      // A raw KEY SHARE lock on the credential: compatible with a request's foreign-key check, but it makes the
      // delete wait — after its check for open requests before the fix, before the check after it.
      await holder.query('BEGIN');
      await holder.query(`SELECT "id" FROM "Credential" WHERE "id" = $1 FOR KEY SHARE`, [local(w.credentialId)]);
      const deleting = server.gql(DELETE, { id: w.credentialId }, w.org.admin);
      await waitForLockWaiters(observer, 1);
      const requesting = server.gql(REQUEST, { c: w.credentialId }, w.member);
      // Let the request finish, or see it wait for the delete (bounded), then let the delete go on.
      const settled = await Promise.race([requesting.then(() => 'done'), waitForLockWaiters(observer, 2).then(() => 'waiting')]);
      expect(['done', 'waiting']).toContain(settled);
      await holder.query('COMMIT');
      const [deleted, requested] = await Promise.all([deleting, requesting]);
      const deletedOk = deleted.data?.deleteCredential?.__typename === 'DeleteCredentialPayload';
      const requestedOk = requested.data?.requestAccess?.__typename === 'RequestAccessPayload';
      // Exactly one of them wins; the loser gets its typed refusal (or FORBIDDEN for a credential now gone).
      expect([deletedOk, requestedOk].filter(Boolean)).toHaveLength(1);
      if (!deletedOk) expect(deleted.data.deleteCredential.__typename).toBe('CredentialHasOpenRequestsError');
      else expect(requested.errors?.[0].extensions?.code ?? requested.data?.requestAccess?.__typename).toBe('FORBIDDEN');
      const orphans = await server.app.deps.db.accessRequest.count({ where: { organizationId: local(w.org.orgId), credentialId: null, state: { in: ['PENDING', 'APPROVED', 'AVAILABLE'] } } });
      expect(orphans).toBe(0);
    } finally {
      await holder.end();
      await observer.end();
    }
  });

  it('leaves no open request without its credential when both run at once (both databases)', async () => {
    const w = await world('delete-many');
    for (let round = 0; round < 4; round++) {
      const id = await credential(w.org, `round ${round}`);
      await server.gql(
        CREATE_POLICY,
        { input: { organizationId: w.org.orgId, name: `P${round}`, scope: { credentialIds: [id] }, requesters: { roles: ['MEMBER'] }, steps: [{ approvers: { roles: ['MANAGER'] } }], reasonRequired: false } },
        w.org.admin,
      );
      const [deleted, requested] = await Promise.all([server.gql(DELETE, { id }, w.org.admin), server.gql(REQUEST, { c: id }, w.member)]);
      const deletedOk = deleted.data?.deleteCredential?.__typename === 'DeleteCredentialPayload';
      const requestedOk = requested.data?.requestAccess?.__typename === 'RequestAccessPayload';
      expect([deletedOk, requestedOk].filter(Boolean), `round ${round}`).toHaveLength(1);
      // Nothing unexpected reached the client (a foreign-key error would be masked as INTERNAL_SERVER_ERROR).
      for (const r of [deleted, requested]) expect(r.errors?.[0]?.extensions?.code ?? 'FORBIDDEN').toBe('FORBIDDEN');
    }
    const orphans = await server.app.deps.db.accessRequest.count({ where: { organizationId: local(w.org.orgId), credentialId: null, state: { in: ['PENDING', 'APPROVED', 'AVAILABLE'] } } });
    expect(orphans).toBe(0);
  });
});
