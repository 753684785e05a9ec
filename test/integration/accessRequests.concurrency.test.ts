// Access requests under concurrency and time: racing decisions over HTTP, the scheduler (also across a restart
// and across two instances on one PostgreSQL database), reveals during the window, and events after commit.
// Time only moves through the ManualClock; the scheduler runs only when a test asks (interval 0).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeGlobalID } from '@pothos/plugin-relay';
import pg from 'pg';
import { startTestServer, testDbKind, type TestServer } from '../support/harness.ts';
import { addMember, createOrg, type OrgFixture } from '../support/fixtures.ts';
import { verifyChain } from '../../src/modules/audit/audit.service.ts';
import type { AccessRequestChanged as DomainEvent } from '../../src/lib/events.ts';

const ENV = { ACCESS_SCHEDULER_INTERVAL_MS: '0', SESSION_TTL_MINUTES: String(60 * 24 * 30) };
const MINUTE = 60_000;
const SECRET = 'Br3ak-Glass-Secret-7c1d!';
const REASON = 'reason-text-that-must-not-travel';
const DENY_COMMENT = 'deny-comment-that-must-not-travel';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ env: ENV });
});
afterAll(async () => {
  await server?.stop();
});

// --- documents ---

const CREATE_CREDENTIAL = /* GraphQL */ `
  mutation CreateCredential($input: CreateCredentialInput!) {
    createCredential(input: $input) {
      __typename
      ... on CreateCredentialPayload { credential { id restricted } }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const CREATE_POLICY = /* GraphQL */ `
  mutation CreatePolicy($input: CreateAccessPolicyInput!) {
    createAccessPolicy(input: $input) {
      __typename
      ... on CreateAccessPolicyPayload { accessPolicy { id } }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const REQUEST = /* GraphQL */ `
  mutation RequestAccess($input: RequestAccessInput!) {
    requestAccess(input: $input) {
      __typename
      ... on RequestAccessPayload { accessRequest { id state startsAt endsAt pendingExpiresAt } }
      ... on Error { message }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const APPROVE = /* GraphQL */ `
  mutation Approve($input: ApproveAccessRequestInput!) {
    approveAccessRequest(input: $input) {
      __typename
      ... on ApproveAccessRequestPayload { accessRequest { id state } }
      ... on InvalidRequestStateError { state }
      ... on Error { message }
    }
  }
`;
const DENY = /* GraphQL */ `
  mutation Deny($input: DenyAccessRequestInput!) {
    denyAccessRequest(input: $input) {
      __typename
      ... on DenyAccessRequestPayload { accessRequest { id state } }
      ... on InvalidRequestStateError { state }
      ... on Error { message }
    }
  }
`;
const APPROVE_MANY = /* GraphQL */ `
  mutation ApproveMany($input: ApproveAccessRequestsInput!) {
    approveAccessRequests(input: $input) {
      __typename
      ... on ApproveAccessRequestsPayload { succeeded failed results { id accessRequest { state } error { __typename } } }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`;
const CHECK_IN = /* GraphQL */ `
  mutation CheckIn($input: CheckInAccessRequestInput!) {
    checkInAccessRequest(input: $input) {
      __typename
      ... on CheckInAccessRequestPayload { accessRequest { id state } }
      ... on Error { message }
    }
  }
`;
const REVOKE = /* GraphQL */ `
  mutation Revoke($input: RevokeAccessRequestInput!) {
    revokeAccessRequest(input: $input) {
      __typename
      ... on RevokeAccessRequestPayload { accessRequest { id state } }
      ... on Error { message }
    }
  }
`;
const READ = /* GraphQL */ `
  query Read($id: ID!) {
    accessRequest(id: $id) {
      id
      state
      currentStep
      viewerCanReveal
      steps { approvalCount completed step { requiredApprovals } }
      approvals { decision approver { id } }
      history { seq action fromState toState actor { id } }
    }
  }
`;
const REVEAL = /* GraphQL */ `
  mutation Reveal($input: RevealCredentialInput!) {
    revealCredential(input: $input) {
      __typename
      ... on RevealCredentialPayload { field value otp { code } accessRecordId }
      ... on Error { message }
    }
  }
`;

// --- fixtures ---

type Person = { token: string; userId: string; email: string };
type HistoryEntry = { seq: number; action: string; fromState: string | null; toState: string; actor: { id: string } | null };
type ReadRequest = {
  id: string;
  state: string;
  currentStep: number;
  viewerCanReveal: boolean;
  steps: { approvalCount: number; completed: boolean; step: { requiredApprovals: number } }[];
  approvals: { decision: string; approver: { id: string } }[];
  history: HistoryEntry[];
};

const localOf = (globalId: string) => decodeGlobalID(globalId).id;

/** Runs `fn` over `items` at most `width` at a time (fixture setup only; the races themselves are unbounded). */
async function inBatches<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

type Setup = { org: OrgFixture; requester: Person; approvers: Person[]; credentialId: string; policyId: string };

/**
 * An organization with a MEMBER requester, `approvers` MANAGERs, a restricted password credential (with an OTP
 * seed) and one policy covering it: one step of `requiredApprovals` by role MANAGER.
 */
async function setup(
  s: TestServer,
  label: string,
  options: { approvers?: number; requiredApprovals?: number; steps?: number; policy?: Record<string, unknown> } = {},
): Promise<Setup> {
  const org = await createOrg(s, label);
  const requester = await addMember(s, org, 'MEMBER');
  const approvers = await inBatches(Array.from({ length: options.approvers ?? 2 }, (_, i) => i), 10, () => addMember(s, org, 'MANAGER'));
  const created = await s.gql(
    CREATE_CREDENTIAL,
    { input: { organizationId: org.orgId, kind: 'PASSWORD', name: `Break-glass ${label}`, username: 'root', password: SECRET, otpSecret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP', restricted: true } },
    org.admin,
  );
  expect(created.data?.createCredential).toMatchObject({ __typename: 'CreateCredentialPayload', credential: { restricted: true } });
  const credentialId = created.data.createCredential.credential.id as string;
  const steps = Array.from({ length: options.steps ?? 1 }, () => ({ approvers: { roles: ['MANAGER'] }, requiredApprovals: options.requiredApprovals ?? 1 }));
  const policy = await s.gql(
    CREATE_POLICY,
    {
      input: {
        organizationId: org.orgId,
        name: `Policy ${label}`,
        scope: { credentialIds: [credentialId] },
        requesters: { roles: ['MEMBER'] },
        steps,
        releasableFields: ['PASSWORD'],
        ...options.policy,
      },
    },
    org.admin,
  );
  expect(policy.data?.createAccessPolicy?.__typename, JSON.stringify(policy)).toBe('CreateAccessPolicyPayload');
  return { org, requester, approvers, credentialId, policyId: policy.data.createAccessPolicy.accessPolicy.id };
}

async function requestAccess(s: TestServer, x: Setup, input: Record<string, unknown> = {}) {
  const res = await s.gql(REQUEST, { input: { credentialId: x.credentialId, reason: REASON, ...input } }, x.requester);
  const payload = res.data?.requestAccess;
  if (payload?.__typename !== 'RequestAccessPayload') throw new Error(`requestAccess failed: ${JSON.stringify(res)}`);
  return payload.accessRequest as { id: string; state: string; startsAt: string; endsAt: string; pendingExpiresAt: string };
}

async function read(s: TestServer, id: string, viewer: Person | OrgFixture['admin']): Promise<ReadRequest> {
  const res = await s.gql(READ, { id }, viewer);
  if (!res.data?.accessRequest) throw new Error(`accessRequest(id) failed: ${JSON.stringify(res)}`);
  return res.data.accessRequest;
}

const approve = (s: TestServer, id: string, who: Person) => s.gql(APPROVE, { input: { id } }, who).then((r) => r.data?.approveAccessRequest ?? r);
const deny = (s: TestServer, id: string, who: Person) => s.gql(DENY, { input: { id, comment: DENY_COMMENT } }, who).then((r) => r.data?.denyAccessRequest ?? r);
const reveal = (s: TestServer, id: string, who: Person, field = 'PASSWORD') => s.gql(REVEAL, { input: { id, field } }, who).then((r) => r.data?.revealCredential ?? r);

/** The persisted row and history, straight from the database (not computed on read). */
async function stored(s: TestServer, globalId: string) {
  const db = s.app.deps.db;
  const id = localOf(globalId);
  const row = await db.accessRequest.findUniqueOrThrow({ where: { id } });
  const history = await db.accessRequestHistory.findMany({ where: { requestId: id }, orderBy: { seq: 'asc' } });
  const approvals = await db.accessApproval.findMany({ where: { requestId: id } });
  const audit = await db.auditEvent.findMany({ where: { targetType: 'AccessRequest', targetId: id }, orderBy: { seq: 'asc' } });
  return { row, history, approvals, audit };
}

const count = (xs: { action: string }[], action: string) => xs.filter((x) => x.action === action).length;

/** History is one chain of transitions: seq 1, 2, 3…, each from the state the previous one went to. */
function expectChained(history: { seq: number; fromState: string | null; toState: string }[], finalState: string) {
  expect(history.map((h) => h.seq)).toEqual(history.map((_, i) => i + 1));
  expect(history[0].fromState).toBeNull();
  for (let i = 1; i < history.length; i++) expect(history[i].fromState, `history entry ${i + 1}`).toBe(history[i - 1].toState);
  expect(history[history.length - 1].toState).toBe(finalState);
}

async function expectAuditIntact(s: TestServer, org: OrgFixture) {
  const verification = await verifyChain(s.app.deps.db, localOf(org.orgId));
  expect(verification).toMatchObject({ ok: true, problem: null });
}

// --- 1, 2, 3: racing decisions ---

describe('access requests: racing decisions', () => {
  it('two approvers approving one request at once: exactly one APPROVE moves it, the other gets a typed refusal', async () => {
    const x = await setup(server, 'race-approve', { approvers: 2 });
    for (let round = 0; round < 5; round++) {
      const r = await requestAccess(server, x);
      expect(r.state).toBe('PENDING');
      const results = await Promise.all(x.approvers.map((a) => approve(server, r.id, a)));

      const winners = results.filter((p) => p.__typename === 'ApproveAccessRequestPayload');
      const losers = results.filter((p) => p.__typename !== 'ApproveAccessRequestPayload');
      expect(winners, JSON.stringify(results)).toHaveLength(1);
      expect(winners[0].accessRequest.state).toBe('AVAILABLE');
      expect(losers).toHaveLength(1);
      expect(['InvalidRequestStateError', 'AlreadyDecidedError']).toContain(losers[0].__typename);
      if (losers[0].__typename === 'InvalidRequestStateError') expect(losers[0].state).toBe('AVAILABLE');

      const viewed = await read(server, r.id, x.requester);
      expect(viewed.state).toBe('AVAILABLE');
      expect(viewed.approvals).toHaveLength(1);
      expect(viewed.history.map((h) => h.action)).toEqual(['REQUEST', 'APPROVE', 'START']);
      expectChained(viewed.history, 'AVAILABLE');
      const winner = x.approvers[results.indexOf(winners[0])];
      expect(viewed.approvals[0].approver.id).toBe(winner.userId);
      expect(viewed.history[1].actor?.id).toBe(winner.userId);

      const { row, approvals, audit } = await stored(server, r.id);
      expect(row.state).toBe('AVAILABLE');
      expect(approvals).toHaveLength(1);
      expect(audit.map((a) => a.action)).toEqual(['access_request.create', 'access_request.approve']);
      expect(audit[1].actorUserId).toBe(localOf(winner.userId));
    }
    await expectAuditIntact(server, x.org);
  });

  it('two approvers bulk-approving the same requests in opposite orders: each request is approved exactly once', async () => {
    const x = await setup(server, 'race-bulk', { approvers: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await requestAccess(server, x)).id);
    const [a, b] = await Promise.all([
      server.gql(APPROVE_MANY, { input: { ids } }, x.approvers[0]),
      server.gql(APPROVE_MANY, { input: { ids: [...ids].reverse() } }, x.approvers[1]),
    ]);
    const pa = a.data?.approveAccessRequests;
    const pb = b.data?.approveAccessRequests;
    expect(pa?.__typename, JSON.stringify(a)).toBe('ApproveAccessRequestsPayload');
    expect(pb?.__typename, JSON.stringify(b)).toBe('ApproveAccessRequestsPayload');
    expect(pa.succeeded + pb.succeeded).toBe(ids.length);
    expect(pa.failed + pb.failed).toBe(ids.length);
    for (const item of [...pa.results, ...pb.results]) {
      if (item.error) expect(['InvalidRequestStateError', 'AlreadyDecidedError']).toContain(item.error.__typename);
      else expect(item.accessRequest.state).toBe('AVAILABLE');
    }
    for (const id of ids) {
      const { row, history, approvals, audit } = await stored(server, id);
      expect(row.state).toBe('AVAILABLE');
      expect(count(history, 'APPROVE')).toBe(1);
      expect(count(history, 'START')).toBe(1);
      expect(approvals).toHaveLength(1);
      expect(count(audit, 'access_request.approve')).toBe(1);
    }
    await expectAuditIntact(server, x.org);
  });

  it('approve racing deny: the outcome is one of the two serial orders, and history tells it exactly', async () => {
    const x = await setup(server, 'race-deny', { approvers: 2 });
    const [approver, denier] = x.approvers;
    for (let round = 0; round < 6; round++) {
      const r = await requestAccess(server, x);
      // Alternate who sends first, so both orders get a chance to win.
      const [approved, denied] =
        round % 2 === 0
          ? await Promise.all([approve(server, r.id, approver), deny(server, r.id, denier)])
          : await Promise.all([deny(server, r.id, denier), approve(server, r.id, approver)]).then(([d, a]) => [a, d]);

      const { row, history, approvals, audit } = await stored(server, r.id);
      const actions = history.map((h) => h.action);
      // Deny wins either way: before approval as the step's decision, after it as an approver's late denial.
      expect(denied.__typename, JSON.stringify(denied)).toBe('DenyAccessRequestPayload');
      expect(denied.accessRequest.state).toBe('DENIED');
      expect(row.state).toBe('DENIED');
      expectChained(history, 'DENIED');
      expect(count(history, 'DENY')).toBe(1);
      if (approved.__typename === 'ApproveAccessRequestPayload') {
        // Approval first: it became available, then the denial ended it (no second decision on the step).
        expect(approved.accessRequest.state).toBe('AVAILABLE');
        expect(actions).toEqual(['REQUEST', 'APPROVE', 'START', 'DENY']);
        expect(history[3].fromState).toBe('AVAILABLE');
        expect(approvals.map((d) => d.decision)).toEqual(['APPROVE']);
        expect(audit.map((a) => a.action)).toEqual(['access_request.create', 'access_request.approve', 'access_request.deny']);
      } else {
        // Denial first: the approval is refused with the state it found.
        expect(approved).toMatchObject({ __typename: 'InvalidRequestStateError', state: 'DENIED' });
        expect(actions).toEqual(['REQUEST', 'DENY']);
        expect(history[1].fromState).toBe('PENDING');
        expect(approvals.map((d) => d.decision)).toEqual(['DENY']);
        expect(audit.map((a) => a.action)).toEqual(['access_request.create', 'access_request.deny']);
      }
      expect(row.closedAt).not.toBeNull();
    }
    await expectAuditIntact(server, x.org);
  });

  it('50 approvers at once on a step needing 20: exactly 20 approvals count, the rest are refused', async () => {
    // More approvers than places: 50 approvers race for 20.
    const x = await setup(server, 'race-50', { approvers: 50, requiredApprovals: 20 });
    const r = await requestAccess(server, x);
    const results = await Promise.all(x.approvers.map((a) => approve(server, r.id, a)));

    const ok = results.filter((p) => p.__typename === 'ApproveAccessRequestPayload');
    const refused = results.filter((p) => p.__typename !== 'ApproveAccessRequestPayload');
    expect(ok, JSON.stringify(refused.filter((p) => p.__typename !== 'InvalidRequestStateError').slice(0, 3))).toHaveLength(20);
    expect(refused).toHaveLength(30);
    for (const p of refused) expect(p).toMatchObject({ __typename: 'InvalidRequestStateError', state: 'AVAILABLE' });
    // Exactly one approval completed the step: 19 saw it still pending, one saw it available.
    expect(ok.filter((p) => p.accessRequest.state === 'PENDING')).toHaveLength(19);
    expect(ok.filter((p) => p.accessRequest.state === 'AVAILABLE')).toHaveLength(1);

    const { row, history, approvals, audit } = await stored(server, r.id);
    expect(row.state).toBe('AVAILABLE');
    expect(approvals).toHaveLength(20);
    expect(new Set(approvals.map((a) => a.approverId)).size).toBe(20);
    expect(new Set(approvals.map((a) => a.approverId))).toEqual(new Set(results.flatMap((p, i) => (p.__typename === 'ApproveAccessRequestPayload' ? [localOf(x.approvers[i].userId)] : []))));
    expect(count(history, 'APPROVE')).toBe(20);
    expect(count(history, 'START')).toBe(1);
    expectChained(history, 'AVAILABLE');
    expect(count(audit, 'access_request.approve')).toBe(20);
    const viewed = await read(server, r.id, x.requester);
    expect(viewed.steps).toEqual([{ approvalCount: 20, completed: true, step: { requiredApprovals: 20 } }]);
    await expectAuditIntact(server, x.org);
  });

  it('50 parallel approvals on a step needing 50: none is lost, none counted twice, the request ends available', async () => {
    const x = await setup(server, 'race-50-of-50', { approvers: 50, requiredApprovals: 50 });
    const r = await requestAccess(server, x);
    const results = await Promise.all(x.approvers.map((a) => approve(server, r.id, a)));
    expect(results.map((p) => p.__typename)).toEqual(Array(50).fill('ApproveAccessRequestPayload'));
    const { row, history, approvals } = await stored(server, r.id);
    expect(row.state).toBe('AVAILABLE');
    expect(approvals).toHaveLength(50);
    expect(count(history, 'APPROVE')).toBe(50);
    expect(count(history, 'START')).toBe(1);
    expectChained(history, 'AVAILABLE');
  });

  it('one approver approving ten times at once: one decision row, the rest refused as already decided', async () => {
    const x = await setup(server, 'race-same', { approvers: 2, requiredApprovals: 2 });
    const r = await requestAccess(server, x);
    const me = x.approvers[0];
    const results = await Promise.all(Array.from({ length: 10 }, () => approve(server, r.id, me)));
    const ok = results.filter((p) => p.__typename === 'ApproveAccessRequestPayload');
    const refused = results.filter((p) => p.__typename !== 'ApproveAccessRequestPayload');
    expect(ok, JSON.stringify(refused)).toHaveLength(1);
    expect(ok[0].accessRequest.state).toBe('PENDING');
    expect(refused).toHaveLength(9);
    for (const p of refused) expect(['AlreadyDecidedError', 'InvalidRequestStateError']).toContain(p.__typename);

    const { row, history, approvals, audit } = await stored(server, r.id);
    expect(row.state).toBe('PENDING');
    expect(approvals).toEqual([expect.objectContaining({ approverId: localOf(me.userId), decision: 'APPROVE', step: 0 })]);
    expect(history.map((h) => h.action)).toEqual(['REQUEST', 'APPROVE']);
    expect(count(audit, 'access_request.approve')).toBe(1);
    expect((await read(server, r.id, me)).steps[0].approvalCount).toBe(1);

    // The second approver completes the step: the count went on from 1, not from a lost or doubled value.
    expect((await approve(server, r.id, x.approvers[1])).accessRequest?.state).toBe('AVAILABLE');
  });
});

// --- 4: time ---

describe('access requests: time', () => {
  it('opens and closes the window on read before the scheduler persists it, once per transition', async () => {
    const x = await setup(server, 'time-window', { approvers: 1 });
    const startsAt = new Date(server.clock.now().getTime() + 120 * MINUTE);
    const r = await requestAccess(server, x, { startsAt: startsAt.toISOString(), durationMinutes: 60 });
    expect((await approve(server, r.id, x.approvers[0])).accessRequest.state).toBe('APPROVED');
    expect((await stored(server, r.id)).row.state).toBe('APPROVED');

    // Nothing is due yet: the scheduler leaves it alone.
    await server.app.runScheduler();
    expect((await stored(server, r.id)).history.map((h) => h.action)).toEqual(['REQUEST', 'APPROVE']);

    server.clock.set(new Date(startsAt.getTime() + MINUTE));
    const before = await read(server, r.id, x.requester);
    expect(before.state).toBe('AVAILABLE');
    expect(before.viewerCanReveal).toBe(true);
    expect((await stored(server, r.id)).row.state).toBe('APPROVED');

    await server.app.runScheduler();
    await server.app.runScheduler();
    let s = await stored(server, r.id);
    expect(s.row.state).toBe('AVAILABLE');
    expect(s.row.availableAt?.toISOString()).toBe(startsAt.toISOString());
    expect(s.history.map((h) => h.action)).toEqual(['REQUEST', 'APPROVE', 'START']);
    expect(s.history[2]).toMatchObject({ actorUserId: null, fromState: 'APPROVED', toState: 'AVAILABLE' });
    expect(count(s.audit, 'access_request.start')).toBe(1);
    expect((await read(server, r.id, x.requester)).state).toBe('AVAILABLE');

    const endsAt = new Date(startsAt.getTime() + 60 * MINUTE);
    server.clock.set(new Date(endsAt.getTime() + MINUTE));
    const after = await read(server, r.id, x.requester);
    expect(after.state).toBe('EXPIRED');
    expect(after.viewerCanReveal).toBe(false);
    expect((await stored(server, r.id)).row.state).toBe('AVAILABLE');

    await server.app.runScheduler();
    await server.app.runScheduler();
    s = await stored(server, r.id);
    expect(s.row.state).toBe('EXPIRED');
    expect(s.row.closedAt?.toISOString()).toBe(endsAt.toISOString());
    expect(s.history.map((h) => h.action)).toEqual(['REQUEST', 'APPROVE', 'START', 'END']);
    expectChained(s.history, 'EXPIRED');
    expect(count(s.audit, 'access_request.start')).toBe(1);
    expect(count(s.audit, 'access_request.end')).toBe(1);
    expect((await read(server, r.id, x.requester)).state).toBe('EXPIRED');
    await expectAuditIntact(server, x.org);
  });

  it('a window that passed entirely while nobody looked: START and END are persisted in one run, in order', async () => {
    const x = await setup(server, 'time-missed', { approvers: 1 });
    const startsAt = new Date(server.clock.now().getTime() + 30 * MINUTE);
    const r = await requestAccess(server, x, { startsAt: startsAt.toISOString(), durationMinutes: 30 });
    await approve(server, r.id, x.approvers[0]);
    server.clock.advance(90 * MINUTE);
    expect((await read(server, r.id, x.requester)).state).toBe('EXPIRED');
    await server.app.runScheduler();
    await server.app.runScheduler();
    const s = await stored(server, r.id);
    expect(s.row.state).toBe('EXPIRED');
    expect(s.history.map((h) => h.action)).toEqual(['REQUEST', 'APPROVE', 'START', 'END']);
    expectChained(s.history, 'EXPIRED');
  });

  it('expires a request left pending past its limit, on read and then once in the database', async () => {
    const x = await setup(server, 'time-pending', { approvers: 1, policy: { pendingTimeoutMinutes: 30 } });
    const r = await requestAccess(server, x, { startsAt: new Date(server.clock.now().getTime() + 120 * MINUTE).toISOString() });
    expect(new Date(r.pendingExpiresAt).getTime()).toBe(server.clock.now().getTime() + 30 * MINUTE);

    server.clock.advance(29 * MINUTE);
    expect((await read(server, r.id, x.requester)).state).toBe('PENDING');
    server.clock.advance(2 * MINUTE);
    expect((await read(server, r.id, x.requester)).state).toBe('EXPIRED');
    expect((await stored(server, r.id)).row.state).toBe('PENDING');
    // Too late to approve, even though the scheduler has not caught up; nothing is written by the refusal.
    expect(await approve(server, r.id, x.approvers[0])).toMatchObject({ __typename: 'InvalidRequestStateError', state: 'EXPIRED' });
    expect((await stored(server, r.id)).approvals).toHaveLength(0);

    await server.app.runScheduler();
    await server.app.runScheduler();
    const s = await stored(server, r.id);
    expect(s.row.state).toBe('EXPIRED');
    expect(s.history.map((h) => h.action)).toEqual(['REQUEST', 'PENDING_TIMEOUT']);
    expect(s.history[1]).toMatchObject({ actorUserId: null, fromState: 'PENDING', toState: 'EXPIRED' });
    expect(count(s.audit, 'access_request.pending_timeout')).toBe(1);
  });

  it('an action on a request whose start is due persists the START first, then the action', async () => {
    const x = await setup(server, 'time-act', { approvers: 1 });
    const startsAt = new Date(server.clock.now().getTime() + 10 * MINUTE);
    const r = await requestAccess(server, x, { startsAt: startsAt.toISOString() });
    await approve(server, r.id, x.approvers[0]);
    server.clock.advance(11 * MINUTE);
    const checkedIn = await server.gql(CHECK_IN, { input: { id: r.id } }, x.requester);
    expect(checkedIn.data.checkInAccessRequest.accessRequest.state).toBe('CHECKED_IN');
    await server.app.runScheduler();
    const s = await stored(server, r.id);
    expect(s.history.map((h) => h.action)).toEqual(['REQUEST', 'APPROVE', 'START', 'CHECK_IN']);
    expectChained(s.history, 'CHECKED_IN');
  });
});

// --- 5: restart ---

describe('access requests: restart', () => {
  it('catches up on transitions that fell due while no instance ran, in the startup run', async () => {
    const first = await startTestServer({ env: ENV });
    let second: TestServer | undefined;
    try {
      const x = await setup(first, 'restart', { approvers: 1, policy: { pendingTimeoutMinutes: 60 } });
      const soon = new Date(first.clock.now().getTime() + 30 * MINUTE);
      const opening = await requestAccess(first, x, { startsAt: soon.toISOString(), durationMinutes: 240 });
      await approve(first, opening.id, x.approvers[0]);
      const closing = await requestAccess(first, x, { durationMinutes: 60 });
      expect((await approve(first, closing.id, x.approvers[0])).accessRequest.state).toBe('AVAILABLE');
      const waiting = await requestAccess(first, x, { startsAt: soon.toISOString(), durationMinutes: 240 });
      await first.app.stop();

      first.clock.advance(90 * MINUTE);

      second = await startTestServer({ env: ENV, shareWith: first });
      const s2 = second;
      // Only the startup run can do this: the interval is 0 and nobody calls runScheduler.
      await vi.waitFor(async () => {
        const states = await Promise.all([opening, closing, waiting].map(async (r) => (await stored(s2, r.id)).row.state));
        expect(states).toEqual(['AVAILABLE', 'EXPIRED', 'EXPIRED']);
      }, { timeout: 15_000, interval: 50 });
      expect((await stored(s2, opening.id)).history.map((h) => h.action)).toEqual(['REQUEST', 'APPROVE', 'START']);
      expect((await stored(s2, closing.id)).history.map((h) => h.action)).toEqual(['REQUEST', 'APPROVE', 'START', 'END']);
      expect((await stored(s2, waiting.id)).history.map((h) => h.action)).toEqual(['REQUEST', 'PENDING_TIMEOUT']);

      // The old sessions and the old master key still work: the requester reveals through the open window.
      expect(await reveal(s2, x.credentialId, x.requester)).toMatchObject({ __typename: 'RevealCredentialPayload', value: SECRET });
      await s2.app.runScheduler();
      expect((await stored(s2, opening.id)).history).toHaveLength(3);
      await expectAuditIntact(s2, x.org);
    } finally {
      await second?.stop();
      await first.stop();
    }
  });
});

// --- 6: two instances on one PostgreSQL database ---

describe('access requests: two instances', () => {
  it.runIf(testDbKind() === 'postgres')('record each due transition exactly once when both run the scheduler at the same time', async () => {
    const a = await startTestServer({ env: ENV });
    const b = await startTestServer({ env: ENV, shareWith: a });
    try {
      // No approval steps: requests are approved at once and only the clock moves them.
      const x = await setup(a, 'two-instances', { approvers: 0, steps: 0, policy: { pendingTimeoutMinutes: 30 } });
      const startsAt = new Date(a.clock.now().getTime() + 10 * MINUTE);
      const ids = await inBatches(Array.from({ length: 30 }, (_, i) => i), 10, (i) =>
        requestAccess(i % 2 ? a : b, x, { startsAt: startsAt.toISOString(), durationMinutes: 60 }).then((r) => r.id),
      );
      for (const id of ids) expect((await stored(a, id)).row.state).toBe('APPROVED');

      a.clock.advance(11 * MINUTE);
      const started = await Promise.all([a.app.runScheduler(), b.app.runScheduler(), a.app.runScheduler(), b.app.runScheduler()]);
      expect(started.reduce((n, m) => n + m, 0)).toBe(30);
      a.clock.advance(60 * MINUTE);
      const ended = await Promise.all([b.app.runScheduler(), a.app.runScheduler(), b.app.runScheduler(), a.app.runScheduler()]);
      expect(ended.reduce((n, m) => n + m, 0)).toBe(30);

      for (const id of ids) {
        const s = await stored(a, id);
        expect(s.row.state).toBe('EXPIRED');
        expect(s.history.map((h) => h.action)).toEqual(['REQUEST', 'AUTO_APPROVE', 'START', 'END']);
        expect(count(s.audit, 'access_request.start')).toBe(1);
        expect(count(s.audit, 'access_request.end')).toBe(1);
      }
      await expectAuditIntact(a, x.org);
    } finally {
      await b.stop();
      await a.stop();
    }
  });
});

// --- 7: reveal during the window ---

describe('access requests: reveal during the window', () => {
  it('reveals released fields to the requester while available, and nothing to anyone after or to others', async () => {
    const x = await setup(server, 'reveal', { approvers: 1 });
    const other = await addMember(server, x.org, 'MEMBER');
    const recordsOf = () => server.app.deps.db.accessRecord.findMany({ where: { credentialId: localOf(x.credentialId) } });

    // Before any request, and while a request is only pending or approved for later: refused.
    expect(await reveal(server, x.credentialId, x.requester)).toMatchObject({ __typename: 'AccessRequestRequiredError' });
    const startsAt = new Date(server.clock.now().getTime() + 15 * MINUTE);
    const r = await requestAccess(server, x, { startsAt: startsAt.toISOString(), durationMinutes: 30 });
    expect(await reveal(server, x.credentialId, x.requester)).toMatchObject({ __typename: 'AccessRequestRequiredError' });
    expect((await approve(server, r.id, x.approvers[0])).accessRequest.state).toBe('APPROVED');
    expect(await reveal(server, x.credentialId, x.requester)).toMatchObject({ __typename: 'AccessRequestRequiredError' });

    // The window opens (no scheduler run yet): the requester reveals the released field, several times at once.
    server.clock.set(new Date(startsAt.getTime() + MINUTE));
    const reveals = await Promise.all(Array.from({ length: 5 }, () => reveal(server, x.credentialId, x.requester)));
    for (const p of reveals) expect(p).toMatchObject({ __typename: 'RevealCredentialPayload', field: 'PASSWORD', value: SECRET });
    // Only released fields: the policy releases PASSWORD, not the OTP code.
    expect(await reveal(server, x.credentialId, x.requester, 'OTP_CODE')).toMatchObject({ __typename: 'AccessRequestRequiredError' });
    expect(await reveal(server, x.credentialId, x.requester, 'OTP_SECRET')).toMatchObject({ __typename: 'FieldNotAvailableError' });
    // Others: another member, the approver, the organization's ADMIN.
    expect(await reveal(server, x.credentialId, other)).toMatchObject({ __typename: 'AccessRequestRequiredError' });
    expect(await reveal(server, x.credentialId, x.approvers[0])).toMatchObject({ __typename: 'AccessRequestRequiredError' });
    expect(await reveal(server, x.credentialId, { ...x.org.admin })).toMatchObject({ __typename: 'AccessRequestRequiredError' });

    await server.app.runScheduler();
    const afterRun = await reveal(server, x.credentialId, x.requester);
    expect(afterRun).toMatchObject({ __typename: 'RevealCredentialPayload', value: SECRET });

    // Past the end, before the scheduler notices: refused.
    server.clock.set(new Date(startsAt.getTime() + 30 * MINUTE));
    expect((await stored(server, r.id)).row.state).toBe('AVAILABLE');
    expect(await reveal(server, x.credentialId, x.requester)).toMatchObject({ __typename: 'AccessRequestRequiredError' });
    await server.app.runScheduler();
    expect(await reveal(server, x.credentialId, x.requester)).toMatchObject({ __typename: 'AccessRequestRequiredError' });

    // Every successful reveal has exactly one access record (and one audit entry), all the requester's.
    const successful = [...reveals, afterRun];
    const records = await recordsOf();
    expect(records).toHaveLength(successful.length);
    expect(records.map((rec) => rec.id).sort()).toEqual(successful.map((p) => localOf(p.accessRecordId)).sort());
    for (const rec of records) expect(rec).toMatchObject({ actorUserId: localOf(x.requester.userId), field: 'PASSWORD', surface: 'REVEAL' });
    const revealAudit = await server.app.deps.db.auditEvent.count({ where: { targetType: 'Credential', targetId: localOf(x.credentialId), action: 'credential.reveal' } });
    expect(revealAudit).toBe(successful.length);
    expect(JSON.stringify(records)).not.toContain(SECRET);
  });

  it('stops releasing at once when the request is revoked mid-window', async () => {
    const x = await setup(server, 'reveal-revoke', { approvers: 1 });
    const r = await requestAccess(server, x, { durationMinutes: 60 });
    await approve(server, r.id, x.approvers[0]);
    expect(await reveal(server, x.credentialId, x.requester)).toMatchObject({ __typename: 'RevealCredentialPayload' });
    const revoked = await server.gql(REVOKE, { input: { id: r.id } }, x.approvers[0]);
    expect(revoked.data.revokeAccessRequest.accessRequest.state).toBe('REVOKED');
    expect(await reveal(server, x.credentialId, x.requester)).toMatchObject({ __typename: 'AccessRequestRequiredError' });
    expect(await server.app.deps.db.accessRecord.count({ where: { credentialId: localOf(x.credentialId) } })).toBe(1);
  });
});

// --- 8: events ---

describe('access requests: events', () => {
  it('publishes one id-only event per transition, after the transition committed', async () => {
    const x = await setup(server, 'events', { approvers: 2 });
    const db = server.app.deps.db;
    // On PostgreSQL the probe is a connection of its own that asks for the row lock without waiting: if an event
    // were published inside the writing transaction, the lock would still be held (55P03) or the change unseen.
    const probe = server.db.kind === 'postgres' ? new pg.Client({ connectionString: server.db.url }) : null;
    await probe?.connect();
    const look = async (event: DomainEvent): Promise<{ rowState: string | null; historyHasIt: boolean }> => {
      if (probe) {
        try {
          const res = await probe.query(
            `SELECT r.state::text AS state, EXISTS (SELECT 1 FROM "AccessRequestHistory" h WHERE h."requestId" = r.id AND h.action = $2 AND h."toState"::text = $3) AS "historyHasIt"
               FROM "AccessRequest" r WHERE r.id = $1 FOR UPDATE NOWAIT`,
            [event.requestId, event.action, event.to],
          );
          return { rowState: res.rows[0]?.state ?? null, historyHasIt: res.rows[0]?.historyHasIt === true };
        } catch (error) {
          return { rowState: `probe failed: ${(error as { code?: string }).code}`, historyHasIt: false };
        }
      }
      const [row, entry] = await Promise.all([
        db.accessRequest.findUnique({ where: { id: event.requestId }, select: { state: true } }),
        db.accessRequestHistory.findFirst({ where: { requestId: event.requestId, action: event.action, toState: event.to as never } }),
      ]);
      return { rowState: row?.state ?? null, historyHasIt: entry !== null };
    };
    type Seen = { event: DomainEvent; rowState: string | null; historyHasIt: boolean };
    const seen: Seen[] = [];
    const pending: Promise<void>[] = [];
    const ours = new Set<string>();
    const unsubscribe = server.app.deps.events.subscribe('accessRequest.changed', (event) => {
      if (!ours.has(event.requestId)) return;
      // Looked at at once: the change must already be committed.
      pending.push(look(event).then((found) => void seen.push({ event, ...found })));
    });
    const settle = async () => {
      await Promise.all(pending);
      pending.length = 0;
    };
    try {
      const startsAt = new Date(server.clock.now().getTime() + 5 * MINUTE);
      // The request itself: its event is published before the response, so the id is known only afterwards.
      const events: DomainEvent[] = [];
      const stopCollecting = server.app.deps.events.subscribe('accessRequest.changed', (e) => events.push(e));
      const r = await requestAccess(server, x, { startsAt: startsAt.toISOString(), durationMinutes: 30 });
      stopCollecting();
      const id = localOf(r.id);
      ours.add(id);
      expect(events.filter((e) => e.requestId === id).map((e) => [e.action, e.from, e.to])).toEqual([['REQUEST', null, 'PENDING']]);

      await approve(server, r.id, x.approvers[0]);
      await settle();
      server.clock.set(new Date(startsAt.getTime() + MINUTE));
      await server.app.runScheduler();
      await settle();
      await server.app.runScheduler();
      await settle();
      expect((await server.gql(CHECK_IN, { input: { id: r.id, comment: REASON } }, x.requester)).data.checkInAccessRequest.accessRequest.state).toBe('CHECKED_IN');
      await settle();

      const denied = await requestAccess(server, x);
      ours.add(localOf(denied.id));
      await deny(server, denied.id, x.approvers[1]);
      await settle();
      // A refused action publishes nothing.
      await approve(server, denied.id, x.approvers[0]);
      await settle();

      expect(seen.map((s) => [s.event.requestId === id ? 'first' : 'second', s.event.action, s.event.from, s.event.to])).toEqual([
        ['first', 'APPROVE', 'PENDING', 'APPROVED'],
        ['first', 'START', 'APPROVED', 'AVAILABLE'],
        ['first', 'CHECK_IN', 'AVAILABLE', 'CHECKED_IN'],
        ['second', 'DENY', 'PENDING', 'DENIED'],
      ]);
      for (const s of seen) {
        expect(s.rowState, `${s.event.action}: the database shows the new state when the event arrives`).toBe(s.event.to);
        expect(s.historyHasIt, `${s.event.action}: its history entry is committed when the event arrives`).toBe(true);
        // Ids and states only: nothing a receiver might not be allowed to see.
        expect(Object.keys(s.event).sort()).toEqual(['action', 'at', 'credentialId', 'currentStep', 'from', 'organizationId', 'requestId', 'requesterId', 'to', 'topic']);
        expect(s.event).toMatchObject({ organizationId: localOf(x.org.orgId), credentialId: localOf(x.credentialId), requesterId: localOf(x.requester.userId) });
        const text = JSON.stringify(s.event);
        expect(text).not.toContain(REASON);
        expect(text).not.toContain(SECRET);
        expect(text).not.toContain(DENY_COMMENT);
      }
      expect(seen.find((s) => s.event.action === 'START')?.event.at).toBe(startsAt.toISOString());
    } finally {
      unsubscribe();
      await probe?.end();
    }
  });
});
