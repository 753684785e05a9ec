// The work queues (approvalQueue, reviewQueue) are filtered in the database by the lifecycle's SQL projection.
// These tests check that the projection agrees with the pure lifecycle (`decide`, through viewerCan* and state)
// on varied requests, that nothing actionable is lost however many other requests there are, and the paging.
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { addMember, createOrg, type OrgFixture } from '../support/fixtures.ts';
import { REQUEST_STATES, type RequestState } from '../../src/modules/accessRequest/accessRequest.state.ts';

// Each test builds its own organization with several signed-in users; on a busy 2-core machine that alone takes a while.
vi.setConfig({ testTimeout: 240_000 });

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

type Actor = { token: string; userId: string };
const local = (id: string) => decodeGlobalID(id).id;

/**
 * A GraphQL request on a connection of its own: this file writes many rows between requests, and on a busy
 * machine a kept-alive socket could be closed by the server just as the next request goes out on it.
 */
function gql(query: string, variables: Record<string, unknown>, actor: { token: string }): Promise<{ data?: any; errors?: { message: string; extensions?: Record<string, unknown> }[] }> {
  const body = JSON.stringify({ query, variables });
  return new Promise((resolve, reject) => {
    const req = request(server.url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${actor.token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (error) {
          reject(error);
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
const ROLES = ['ADMIN', 'MANAGER', 'MEMBER', 'AUDITOR'] as const;

const CREATE_CREDENTIAL = /* GraphQL */ `
  mutation($input: CreateCredentialInput!) { createCredential(input: $input) { __typename ... on CreateCredentialPayload { credential { id } } } }
`;
const CREATE_POLICY = /* GraphQL */ `
  mutation($input: CreateAccessPolicyInput!) { createAccessPolicy(input: $input) { __typename ... on CreateAccessPolicyPayload { accessPolicy { id } } ... on ValidationError { fieldErrors { path message } } } }
`;
const REQUEST = /* GraphQL */ `
  mutation($input: RequestAccessInput!) { requestAccess(input: $input) { __typename ... on RequestAccessPayload { accessRequest { id state } } ... on Error { message } } }
`;
const APPROVE = /* GraphQL */ `
  mutation($input: ApproveAccessRequestInput!) { approveAccessRequest(input: $input) { __typename ... on ApproveAccessRequestPayload { accessRequest { id state currentStep } } ... on Error { message } } }
`;
const REVIEW = /* GraphQL */ `
  mutation($input: ReviewAccessRequestsInput!) { reviewAccessRequests(input: $input) { __typename ... on ReviewAccessRequestsPayload { succeeded failed results { error { __typename message } } } } }
`;
const QUEUE = (name: 'approvalQueue' | 'reviewQueue') => /* GraphQL */ `
  query($first: Int, $after: String, $last: Int, $before: String, $organizationId: ID) {
    ${name}(first: $first, after: $after, last: $last, before: $before, organizationId: $organizationId) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
      edges { cursor node { id } }
    }
  }
`;
const FACTS = /* GraphQL */ `
  query($ids: [ID!]!) { nodes(ids: $ids) { ... on AccessRequest { id state needsReview viewerCanApprove viewerCanReview } } }
`;

type World = { org: OrgFixture; orgLocal: string; credentialId: string; people: Record<string, Actor>; roleOf: Record<string, (typeof ROLES)[number]> };

async function world(label: string): Promise<World> {
  const org = await createOrg(server, label);
  const people: Record<string, Actor> = { admin: { token: org.admin.token, userId: org.admin.userId } };
  const roleOf: Record<string, (typeof ROLES)[number]> = { admin: 'ADMIN' };
  for (const [name, role] of [['manager1', 'MANAGER'], ['manager2', 'MANAGER'], ['member1', 'MEMBER'], ['member2', 'MEMBER'], ['auditor', 'AUDITOR']] as const) {
    const m = await addMember(server, org, role);
    people[name] = { token: m.token, userId: m.userId };
    roleOf[name] = role;
  }
  const res = await gql(CREATE_CREDENTIAL, { input: { organizationId: org.orgId, kind: 'PASSWORD', name: 'Tier 0', password: 'Queue-Secret-9f2a!', restricted: true } }, org.admin);
  if (res.data?.createCredential?.__typename !== 'CreateCredentialPayload') throw new Error(JSON.stringify(res));
  return { org, orgLocal: local(org.orgId), credentialId: res.data.createCredential.credential.id, people, roleOf };
}

/** Every id in a queue, paging forward 100 at a time (bounded). */
async function queueIds(name: 'approvalQueue' | 'reviewQueue', viewer: Actor, first = 100): Promise<{ ids: string[]; totalCount: number }> {
  const ids: string[] = [];
  let after: string | null = null;
  let totalCount = -1;
  for (let page = 0; page < 50; page++) {
    const res = await gql(QUEUE(name), { first, after }, viewer);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    const c = res.data[name];
    totalCount = c.totalCount;
    ids.push(...c.edges.map((e: { node: { id: string } }) => e.node.id));
    if (!c.pageInfo.hasNextPage) break;
    after = c.pageInfo.endCursor;
  }
  return { ids, totalCount };
}

async function factsOf(viewer: Actor, ids: string[]) {
  const out: { id: string; state: RequestState; needsReview: boolean; viewerCanApprove: boolean; viewerCanReview: boolean }[] = [];
  for (let i = 0; i < ids.length; i += 50) {
    const res = await gql(FACTS, { ids: ids.slice(i, i + 50) }, viewer);
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    out.push(...res.data.nodes.filter(Boolean));
  }
  return out;
}

// --- requests written straight into the database: any combination the lifecycle may meet ---

/** A small seeded generator, so that a failure reproduces. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
    chance: (p: number) => next() < p,
    subset: <T>(xs: readonly T[], p: number): T[] => xs.filter(() => next() < p),
  };
}

type Who = { userIds: string[]; roles: string[] };

async function insertRequest(
  w: World,
  r: {
    requester: string;
    state: RequestState;
    steps: { approvers: Who; requiredApprovals: number }[];
    currentStep: number;
    decisions: { step: number; approver: string; decision: 'APPROVE' | 'DENY' }[];
    startsAt: Date;
    endsAt: Date;
    pendingExpiresAt: Date;
    availableAt: Date | null;
    reviewRequired: boolean;
    reviewers: Who;
    reviewedAt: Date | null;
    createdAt: Date;
  },
): Promise<string> {
  const db = server.app.deps.db;
  const id = randomUUID();
  const snapshot = {
    name: 'generated',
    steps: r.steps,
    reviewRequired: r.reviewRequired,
    reviewers: r.reviewers,
    reviewCommentRequired: false,
    approversMayChangeWindow: false,
    maxDurationMinutes: 480,
    rotateOnCheckIn: false,
    releasableFields: ['PASSWORD'],
  };
  await db.accessRequest.create({
    data: {
      id,
      organizationId: w.orgLocal,
      credentialId: local(w.credentialId),
      credentialName: 'Tier 0',
      policySnapshot: JSON.stringify(snapshot),
      requesterId: r.requester,
      fields: JSON.stringify(['PASSWORD']),
      state: r.state,
      currentStep: r.currentStep,
      startsAt: r.startsAt,
      endsAt: r.endsAt,
      pendingExpiresAt: r.pendingExpiresAt,
      availableAt: r.availableAt,
      reviewRequired: r.reviewRequired,
      reviewedAt: r.reviewedAt,
      createdAt: r.createdAt,
      updatedAt: r.createdAt,
    },
  });
  const participants: { requestId: string; organizationId: string; kind: string; step: number | null; userId: string | null; role: (typeof ROLES)[number] | null }[] = [];
  const add = (kind: string, step: number | null, who: Who) => {
    for (const userId of who.userIds) participants.push({ requestId: id, organizationId: w.orgLocal, kind, step, userId, role: null });
    for (const role of who.roles) participants.push({ requestId: id, organizationId: w.orgLocal, kind, step, userId: null, role: role as (typeof ROLES)[number] });
  };
  r.steps.forEach((s, i) => add('APPROVER', i, s.approvers));
  if (r.reviewRequired) add('REVIEWER', null, r.reviewers);
  await db.accessRequestParticipant.createMany({ data: participants });
  if (r.decisions.length) {
    await db.accessApproval.createMany({ data: r.decisions.map((d) => ({ requestId: id, step: d.step, approverId: d.approver, decision: d.decision, at: r.createdAt })) });
  }
  return encodeGlobalID('AccessRequest', id);
}

describe('the queues agree with the lifecycle', () => {
  it('approvalQueue / reviewQueue hold exactly the requests viewerCanApprove / viewerCanReview say, and state filters match the state shown', { timeout: 240_000 }, async () => {
    const w = await world('agree');
    const names = Object.keys(w.people);
    const userIds = Object.fromEntries(names.map((n) => [n, local(w.people[n].userId)]));
    const random = rng(12);
    const now = server.clock.now();
    const min = (m: number) => new Date(now.getTime() + m * 60_000);
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const who = (): Who => {
        const people = random.subset(names, 0.25).map((n) => userIds[n]);
        const roles = random.subset(ROLES, 0.25);
        return people.length + roles.length ? { userIds: people, roles } : { userIds: [userIds[random.pick(names)]], roles: [] };
      };
      const steps = Array.from({ length: random.int(1, 3) }, () => ({ approvers: who(), requiredApprovals: random.int(1, 2) }));
      const currentStep = random.int(0, steps.length - 1);
      const decisions = steps.slice(0, currentStep + 1).flatMap((_s, step) =>
        random.subset(names, 0.3).map((n) => ({ step, approver: userIds[n], decision: random.chance(0.85) ? ('APPROVE' as const) : ('DENY' as const) })),
      );
      const startsAt = min(random.int(-180, 60));
      const reviewRequired = random.chance(0.6);
      ids.push(
        await insertRequest(w, {
          requester: userIds[random.pick(names)],
          state: random.pick(REQUEST_STATES),
          steps,
          currentStep,
          decisions,
          startsAt,
          endsAt: new Date(startsAt.getTime() + random.int(1, 120) * 60_000),
          pendingExpiresAt: min(random.int(-90, 90)),
          availableAt: random.chance(0.5) ? startsAt : null,
          reviewRequired,
          reviewers: reviewRequired ? who() : { userIds: [], roles: [] },
          reviewedAt: random.chance(0.15) ? min(-1) : null,
          createdAt: min(-300 + i),
        }),
      );
    }

    let approvable = 0;
    let reviewable = 0;
    for (const name of names) {
      const viewer = w.people[name];
      const facts = await factsOf(viewer, ids);
      const canApprove = facts.filter((f) => f.viewerCanApprove).map((f) => f.id);
      const canReview = facts.filter((f) => f.viewerCanReview).map((f) => f.id);
      const approvals = await queueIds('approvalQueue', viewer, 6);
      const reviews = await queueIds('reviewQueue', viewer, 6);
      // Same members, oldest first (ids were made in createdAt order), and the count says the same.
      expect(approvals.ids, `approvalQueue of ${name}`).toEqual(ids.filter((id) => canApprove.includes(id)));
      expect(reviews.ids, `reviewQueue of ${name}`).toEqual(ids.filter((id) => canReview.includes(id)));
      expect(approvals.totalCount).toBe(canApprove.length);
      expect(reviews.totalCount).toBe(canReview.length);
      approvable += canApprove.length;
      reviewable += canReview.length;
    }
    // The generated set exercises both queues (else the comparison above proves little).
    expect(approvable).toBeGreaterThan(8);
    expect(reviewable).toBeGreaterThan(8);

    // The state projection (filter: { states }) selects exactly the requests whose shown state is that state.
    const all = await factsOf(w.people.admin, ids);
    expect(new Set(all.map((f) => f.state)).size).toBeGreaterThan(5);
    for (const state of REQUEST_STATES) {
      const listed: string[] = [];
      let after: string | null = null;
      for (let page = 0; page < 10; page++) {
        const res = await gql(
          `query($o: ID!, $s: [AccessRequestState!], $after: String) { accessRequests(organizationId: $o, filter: { states: $s }, first: 100, after: $after) { pageInfo { hasNextPage endCursor } edges { node { id } } } }`,
          { o: w.org.orgId, s: [state], after },
          w.people.admin,
        );
        listed.push(...res.data.accessRequests.edges.map((e: { node: { id: string } }) => e.node.id));
        if (!res.data.accessRequests.pageInfo.hasNextPage) break;
        after = res.data.accessRequests.pageInfo.endCursor;
      }
      expect(listed.sort(), `filter states: [${state}]`).toEqual(all.filter((f) => f.state === state).map((f) => f.id).sort());
    }
  });
});

describe('the queues page through everything actionable', () => {
  it('finds the actionable requests behind more than a thousand older ones the viewer cannot act on', async () => {
    const w = await world('many');
    const { manager1, manager2, member1, auditor } = w.people;
    const policy = await gql(
      CREATE_POLICY,
      {
        input: {
          organizationId: w.org.orgId,
          name: 'Two managers',
          scope: { credentialIds: [w.credentialId] },
          requesters: { roles: ['MEMBER'] },
          steps: [{ approvers: { roles: ['MANAGER'] }, requiredApprovals: 2 }],
          reviewRequired: true,
          reviewers: { roles: ['AUDITOR'] },
          reasonRequired: false,
        },
      },
      w.org.admin,
    );
    expect(policy.data.createAccessPolicy.__typename).toBe('CreateAccessPolicyPayload');
    const ask = async () => {
      const res = await gql(REQUEST, { input: { credentialId: w.credentialId } }, member1);
      expect(res.data.requestAccess.__typename).toBe('RequestAccessPayload');
      return res.data.requestAccess.accessRequest.id as string;
    };

    // A template: pending, already approved by manager1 (so not in manager1's queue; still in manager2's).
    const template = await ask();
    expect((await gql(APPROVE, { input: { id: template } }, manager1)).data.approveAccessRequest.accessRequest).toMatchObject({ state: 'PENDING' });
    const db = server.app.deps.db;
    const row = await db.accessRequest.findUniqueOrThrow({ where: { id: local(template) }, include: { participants: true, approvals: true } });
    const { participants, approvals, id: _id, ...fields } = row;
    // 1 001 copies of it, older than everything else: manager1 cannot act on any of them.
    const copies = Array.from({ length: 1001 }, (_, i) => ({ ...fields, id: randomUUID(), createdAt: new Date(row.createdAt.getTime() - (1001 - i) * 1000) }));
    // Expired while pending under the review policy: nothing to review (the needsReview bug's rows), also 1 100.
    const expired = copies.map((c) => ({ ...c, id: randomUUID(), state: 'EXPIRED' as const }));
    for (const batch of [copies, expired]) {
      await db.accessRequest.createMany({ data: batch });
      await db.accessRequestParticipant.createMany({ data: batch.flatMap((c) => participants.map(({ id: _p, ...p }) => ({ ...p, requestId: c.id }))) });
    }
    await db.accessApproval.createMany({ data: copies.flatMap((c) => approvals.map(({ id: _a, ...a }) => ({ ...a, requestId: c.id }))) });

    // The actionable ones come after all of them.
    server.clock.advance(60_000);
    const fresh: string[] = [];
    for (let i = 0; i < 3; i++) {
      fresh.push(await ask());
      server.clock.advance(1000);
    }
    const mine = await queueIds('approvalQueue', manager1, 2);
    expect(mine).toEqual({ ids: fresh, totalCount: 3 });
    const theirs = await gql(QUEUE('approvalQueue'), { first: 1 }, manager2);
    expect(theirs.data.approvalQueue.totalCount).toBe(1001 + 1 + 3);

    // Review queue: approve and check in one of them; the 1 100 expired-while-pending copies wait for nothing.
    await gql(APPROVE, { input: { id: fresh[0] } }, manager1);
    const approved = await gql(APPROVE, { input: { id: fresh[0] } }, manager2);
    expect(approved.data.approveAccessRequest.accessRequest.state).toBe('AVAILABLE');
    const checkIn = await gql(`mutation($id: ID!) { checkInAccessRequest(input: { id: $id }) { __typename } }`, { id: fresh[0] }, member1);
    expect(checkIn.data.checkInAccessRequest.__typename).toBe('CheckInAccessRequestPayload');
    expect(await queueIds('reviewQueue', auditor)).toEqual({ ids: [fresh[0]], totalCount: 1 });
  }, 240_000);

  it('pages forward and backward with cursors that survive the request leaving the queue', async () => {
    const w = await world('paging');
    const { manager1, member1 } = w.people;
    await gql(
      CREATE_POLICY,
      { input: { organizationId: w.org.orgId, name: 'One manager', scope: { credentialIds: [w.credentialId] }, requesters: { roles: ['MEMBER'] }, steps: [{ approvers: { roles: ['MANAGER'] }, requiredApprovals: 1 }], reasonRequired: false } },
      w.org.admin,
    );
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await gql(REQUEST, { input: { credentialId: w.credentialId } }, member1)).data.requestAccess.accessRequest.id);
      server.clock.advance(1000);
    }
    const first = (await gql(QUEUE('approvalQueue'), { first: 2 }, manager1)).data.approvalQueue;
    expect(first.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(ids.slice(0, 2));
    expect(first.pageInfo.hasNextPage).toBe(true);
    // The request the cursor points at is approved meanwhile: the next page still starts right after it.
    await gql(APPROVE, { input: { id: ids[1] } }, manager1);
    const next = (await gql(QUEUE('approvalQueue'), { first: 2, after: first.pageInfo.endCursor }, manager1)).data.approvalQueue;
    expect(next.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(ids.slice(2, 4));
    const back = (await gql(QUEUE('approvalQueue'), { last: 2, before: next.pageInfo.endCursor }, manager1)).data.approvalQueue;
    expect(back.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([ids[0], ids[2]]);
    // Page sizes are bounded; a cursor that is not one is a client error with a code, never a lookup.
    const big = (await gql(QUEUE('approvalQueue'), { first: 5000 }, manager1)).data?.approvalQueue;
    expect(big?.edges.length ?? 0).toBeLessThanOrEqual(100);
    const bad = await gql(QUEUE('approvalQueue'), { first: 2, after: 'bm90LWEtY3Vyc29y' }, manager1);
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    // API keys never decide: their queue is refused by the scope, like before.
    const orgFilter = (await gql(QUEUE('approvalQueue'), { first: 10, organizationId: w.org.orgId }, manager1)).data.approvalQueue;
    expect(orgFilter.totalCount).toBe(4);
  });
});

describe('needsReview', () => {
  it('is false for a request that expired while pending under a review policy, and nobody can review it', async () => {
    const w = await world('expired');
    const { manager1, member1, auditor } = w.people;
    await gql(
      CREATE_POLICY,
      {
        input: {
          organizationId: w.org.orgId,
          name: 'Reviewed',
          scope: { credentialIds: [w.credentialId] },
          requesters: { roles: ['MEMBER'] },
          steps: [{ approvers: { roles: ['MANAGER'] }, requiredApprovals: 1 }],
          reviewRequired: true,
          reviewers: { roles: ['AUDITOR'] },
          pendingTimeoutMinutes: 30,
          reasonRequired: false,
        },
      },
      w.org.admin,
    );
    const id = (await gql(REQUEST, { input: { credentialId: w.credentialId } }, member1)).data.requestAccess.accessRequest.id as string;
    server.clock.advance(31 * 60_000);
    // Both as the clock says on read and after the scheduler has persisted the expiry.
    for (const persisted of [false, true]) {
      if (persisted) await server.app.runScheduler();
      const [f] = await factsOf(auditor, [id]);
      expect(f).toMatchObject({ state: 'EXPIRED', needsReview: false, viewerCanReview: false });
      expect((await queueIds('reviewQueue', auditor)).ids).not.toContain(id);
      const review = (await gql(REVIEW, { input: { ids: [id], comment: 'nothing happened' } }, auditor)).data.reviewAccessRequests;
      expect(review).toMatchObject({ succeeded: 0, failed: 1, results: [{ error: { __typename: 'InvalidRequestStateError' } }] });
    }
    expect(await server.app.deps.db.accessRequest.count({ where: { id: local(id), state: 'EXPIRED' } })).toBe(1);
    void manager1;
  });
});
