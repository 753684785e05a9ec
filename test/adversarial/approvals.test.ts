// Adversarial 1: flooding one access request with parallel approvals — from 50 approvers, and 50 times from one —
// must move it exactly once and never record an approver twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness.ts';
import { ENV, APPROVE, expectAuditIntact, localOf, requestAccess, restrictedWorld, type Person, type World } from './support.ts';

let server: TestServer;
let fifty: World;
beforeAll(async () => {
  server = await startTestServer({ env: ENV });
});
afterAll(async () => {
  await server?.stop();
});

const BULK_APPROVE = /* GraphQL */ `
  mutation ApproveMany($input: ApproveAccessRequestsInput!) {
    approveAccessRequests(input: $input) {
      __typename
      ... on ApproveAccessRequestsPayload { succeeded failed results { id accessRequest { state } error { __typename } } }
    }
  }
`;

const approve = (id: string, who: Person) => server.gql(APPROVE, { input: { id } }, who);

async function stored(globalId: string) {
  const db = server.app.deps.db;
  const id = localOf(globalId);
  return {
    row: await db.accessRequest.findUniqueOrThrow({ where: { id } }),
    history: await db.accessRequestHistory.findMany({ where: { requestId: id }, orderBy: { seq: 'asc' } }),
    approvals: await db.accessApproval.findMany({ where: { requestId: id } }),
    audit: await db.auditEvent.findMany({ where: { targetType: 'AccessRequest', targetId: id }, orderBy: { seq: 'asc' } }),
  };
}

/** Every response is a typed result: the payload, or one of the refusals a lost race may give. Never an error. */
function classify(results: Awaited<ReturnType<typeof approve>>[]) {
  for (const r of results) {
    expect(r.errors, JSON.stringify(r)).toBeUndefined();
    expect(['ApproveAccessRequestPayload', 'InvalidRequestStateError', 'AlreadyDecidedError']).toContain(r.data?.approveAccessRequest?.__typename);
  }
  const payloads = results.map((r) => r.data.approveAccessRequest);
  return { won: payloads.filter((p) => p.__typename === 'ApproveAccessRequestPayload'), lost: payloads.filter((p) => p.__typename !== 'ApproveAccessRequestPayload') };
}

/** History is one chain: seq 1, 2, 3…, each entry starting where the one before ended, ending at the row's state. */
function expectChained(history: { seq: number; fromState: string | null; toState: string }[], state: string) {
  expect(history.map((h) => h.seq)).toEqual(history.map((_, i) => i + 1));
  for (let i = 1; i < history.length; i++) expect(history[i].fromState).toBe(history[i - 1].toState);
  expect(history.at(-1)?.toState).toBe(state);
}

describe('adversarial: parallel approvals', () => {
  beforeAll(async () => {
    fifty = await restrictedWorld(server, 'adv-fifty', { approvers: 50, requiredApprovals: 1 });
  });

  it('50 different approvers at once on a one-approval step: exactly one approval, one transition', async () => {
    const r = await requestAccess(server, fifty);
    const { won, lost } = classify(await Promise.all(fifty.approvers.map((a) => approve(r.id, a))));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(49);
    expect(won[0].accessRequest.state).toBe('AVAILABLE');

    const s = await stored(r.id);
    expect(s.row.state).toBe('AVAILABLE');
    expect(s.approvals).toHaveLength(1);
    expect(s.history.map((h) => h.action)).toEqual(['REQUEST', 'APPROVE', 'START']);
    expectChained(s.history, 'AVAILABLE');
    expect(s.audit.map((a) => a.action)).toEqual(['access_request.create', 'access_request.approve']);
    expect(s.audit[1].actorUserId).toBe(s.approvals[0].approverId);
    await expectAuditIntact(server, fifty.org.orgId);
  });

  it('50 different approvers at once on a 50-approval step: each counted once, the step completes exactly once', async () => {
    const w = await restrictedWorld(server, 'adv-fifty-of-fifty', { approvers: 50, requiredApprovals: 50 });
    const r = await requestAccess(server, w);
    const { won, lost } = classify(await Promise.all(w.approvers.map((a) => approve(r.id, a))));
    // A refusal here would only be "changed meanwhile"; the row lock queues them, so every one of them counts.
    expect(lost).toEqual([]);
    expect(won).toHaveLength(50);
    expect(won.filter((p) => p.accessRequest.state === 'AVAILABLE')).toHaveLength(1);

    const s = await stored(r.id);
    expect(s.row.state).toBe('AVAILABLE');
    expect(s.approvals).toHaveLength(50);
    expect(new Set(s.approvals.map((a) => a.approverId)).size).toBe(50);
    expect(new Set(s.approvals.map((a) => a.approverId))).toEqual(new Set(w.approvers.map((a) => localOf(a.userId))));
    const transitions = s.history.filter((h) => h.fromState !== h.toState);
    expect(transitions.map((h) => `${h.action}:${h.fromState}->${h.toState}`)).toEqual(['REQUEST:null->PENDING', 'APPROVE:PENDING->APPROVED', 'START:APPROVED->AVAILABLE']);
    expect(s.history.filter((h) => h.action === 'APPROVE')).toHaveLength(50);
    expectChained(s.history, 'AVAILABLE');
    expect(s.audit.filter((a) => a.action === 'access_request.approve')).toHaveLength(50);
    await expectAuditIntact(server, w.org.orgId);
  });

  it('one approver 50 times at once (single and bulk mutations mixed): one approval row, the rest AlreadyDecided', async () => {
    const w = await restrictedWorld(server, 'adv-same', { approvers: 2, requiredApprovals: 2 });
    const [me, other] = w.approvers;
    const r = await requestAccess(server, w);
    const singles = Array.from({ length: 40 }, () => approve(r.id, me));
    const bulks = Array.from({ length: 10 }, () => server.gql(BULK_APPROVE, { input: { ids: [r.id] } }, me));
    const [single, bulk] = await Promise.all([Promise.all(singles), Promise.all(bulks)]);
    const { won, lost } = classify(single);
    const bulkItems = bulk.map((b) => {
      expect(b.errors, JSON.stringify(b)).toBeUndefined();
      return b.data.approveAccessRequests.results[0];
    });
    const bulkWon = bulkItems.filter((i) => i.error === null);
    expect(won.length + bulkWon.length).toBe(1);
    for (const p of lost) expect(p.__typename).toBe('AlreadyDecidedError');
    for (const i of bulkItems.filter((x) => x.error !== null)) expect(i.error.__typename).toBe('AlreadyDecidedError');

    let s = await stored(r.id);
    expect(s.row.state).toBe('PENDING');
    expect(s.approvals).toHaveLength(1);
    expect(s.approvals[0].approverId).toBe(localOf(me.userId));
    expect(s.history.map((h) => h.action)).toEqual(['REQUEST', 'APPROVE']);
    expect(s.audit.filter((a) => a.action === 'access_request.approve')).toHaveLength(1);

    // The second distinct approval completes it; a third from the first approver changes nothing.
    expect((await approve(r.id, other)).data.approveAccessRequest.accessRequest.state).toBe('AVAILABLE');
    expect((await approve(r.id, me)).data.approveAccessRequest.__typename).toMatch(/InvalidRequestStateError|AlreadyDecidedError/);
    s = await stored(r.id);
    expect(s.approvals).toHaveLength(2);
    expect(s.history.map((h) => h.action)).toEqual(['REQUEST', 'APPROVE', 'APPROVE', 'START']);
    expectChained(s.history, 'AVAILABLE');
    await expectAuditIntact(server, w.org.orgId);
  });

  it('one approver 50 times at once on a one-approval step: exactly one transition', async () => {
    const r = await requestAccess(server, fifty);
    const me = fifty.approvers[7];
    const { won, lost } = classify(await Promise.all(Array.from({ length: 50 }, () => approve(r.id, me))));
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(49);
    const s = await stored(r.id);
    expect(s.row.state).toBe('AVAILABLE');
    expect(s.approvals).toHaveLength(1);
    expect(s.history.map((h) => h.action)).toEqual(['REQUEST', 'APPROVE', 'START']);
    await expectAuditIntact(server, fifty.org.orgId);
  });
});
