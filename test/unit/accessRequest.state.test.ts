import { describe, expect, it } from 'vitest';
import {
  decide,
  dueTransitions,
  effectiveState,
  initialState,
  needsReview,
  newRequestHistory,
  outcomeHistory,
  type HistoryEntry,
  canRemove,
  canResubmit,
  stepProgress,
  type Actor,
  type LifecycleEvent,
  type RequestFacts,
  type RequestState,
} from '../../src/modules/accessRequest/accessRequest.state.ts';

const T0 = new Date('2026-11-23T10:00:00Z');
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

const facts = (over: Partial<RequestFacts> = {}): RequestFacts => ({
  state: 'PENDING',
  requesterId: 'req',
  currentStep: 0,
  steps: [{ approvers: { userIds: ['a1', 'a2'], roles: ['MANAGER'] }, requiredApprovals: 1 }],
  decisions: [],
  startsAt: at(0),
  endsAt: at(60),
  pendingExpiresAt: at(30),
  availableAt: null,
  reviewRequired: false,
  reviewers: { userIds: [], roles: ['AUDITOR'] },
  reviewCommentRequired: false,
  reviewedAt: null,
  approversMayChangeWindow: false,
  maxDurationMinutes: 120,
  ...over,
});

const approver: Actor = { userId: 'a1', role: 'MEMBER' };
const manager: Actor = { userId: 'm1', role: 'MANAGER' };
const requester: Actor = { userId: 'req', role: 'MEMBER' };
const stranger: Actor = { userId: 'x', role: 'MEMBER' };
const admin: Actor = { userId: 'adm', role: 'ADMIN', mayRevokeAny: true };
const auditor: Actor = { userId: 'aud', role: 'AUDITOR' };

type Row = [name: string, f: RequestFacts, event: LifecycleEvent, actor: Actor, now: Date, expected: RequestState | `refused:${string}`];

const twoSteps = facts({
  steps: [
    { approvers: { userIds: ['a1', 'a2'], roles: [] }, requiredApprovals: 2 },
    { approvers: { userIds: ['b1'], roles: [] }, requiredApprovals: 1 },
  ],
});

const table: Row[] = [
  // approving
  ['a step approver approves a pending request; the window has started → AVAILABLE', facts(), { type: 'APPROVE' }, approver, at(1), 'AVAILABLE'],
  ['approval before the window opens → APPROVED', facts({ startsAt: at(10), endsAt: at(70) }), { type: 'APPROVE' }, approver, at(1), 'APPROVED'],
  ['a role named by the step may approve', facts(), { type: 'APPROVE' }, manager, at(1), 'AVAILABLE'],
  ['the requester never approves their own request', facts({ steps: [{ approvers: { userIds: ['req'], roles: [] }, requiredApprovals: 1 }] }), { type: 'APPROVE' }, requester, at(1), 'refused:SELF_DECISION'],
  ['someone not named by the step cannot approve', facts(), { type: 'APPROVE' }, stranger, at(1), 'refused:NOT_APPROVER'],
  ['an approver decides once per step', facts({ steps: [{ approvers: { userIds: ['a1', 'a2'], roles: [] }, requiredApprovals: 2 }], decisions: [{ step: 0, approverId: 'a1', decision: 'APPROVE' }] }), { type: 'APPROVE' }, approver, at(1), 'refused:ALREADY_DECIDED'],
  ['the first of two required approvals keeps it pending', twoSteps, { type: 'APPROVE' }, approver, at(1), 'PENDING'],
  ['a step-two approver cannot decide while step one runs', twoSteps, { type: 'APPROVE' }, { userId: 'b1', role: 'MEMBER' }, at(1), 'refused:NOT_APPROVER'],
  ['the last approval of the last step approves', { ...twoSteps, currentStep: 1, decisions: [{ step: 0, approverId: 'a1', decision: 'APPROVE' }, { step: 0, approverId: 'a2', decision: 'APPROVE' }] }, { type: 'APPROVE' }, { userId: 'b1', role: 'MEMBER' }, at(1), 'AVAILABLE'],
  ['approving an approved request is refused', facts({ state: 'APPROVED', startsAt: at(10) }), { type: 'APPROVE' }, approver, at(1), 'refused:INVALID_STATE'],
  ['approving after the pending limit: it has expired', facts(), { type: 'APPROVE' }, approver, at(31), 'refused:INVALID_STATE'],
  ['approvers may not change the window unless the policy says so', facts(), { type: 'APPROVE', window: { startsAt: at(0), endsAt: at(30) } }, approver, at(1), 'refused:WINDOW_CHANGE_NOT_ALLOWED'],
  ['a changed window stays within the maximum', facts({ approversMayChangeWindow: true }), { type: 'APPROVE', window: { startsAt: at(0), endsAt: at(121) } }, approver, at(1), 'refused:WINDOW_TOO_LONG'],
  ['a changed window within the maximum is accepted', facts({ approversMayChangeWindow: true }), { type: 'APPROVE', window: { startsAt: at(5), endsAt: at(125) } }, approver, at(1), 'APPROVED'],
  // denying
  ['a current-step approver denies a pending request', facts(), { type: 'DENY' }, approver, at(1), 'DENIED'],
  ['deny wins over earlier approvals of the step', facts({ steps: [{ approvers: { userIds: ['a1', 'a2'], roles: [] }, requiredApprovals: 2 }], decisions: [{ step: 0, approverId: 'a2', decision: 'APPROVE' }] }), { type: 'DENY' }, approver, at(1), 'DENIED'],
  ['an approver may deny after approval, while available', facts({ state: 'AVAILABLE', availableAt: at(0) }), { type: 'DENY' }, approver, at(5), 'DENIED'],
  ['a stranger cannot deny an approved request', facts({ state: 'APPROVED', startsAt: at(10) }), { type: 'DENY' }, stranger, at(1), 'refused:NOT_APPROVER'],
  ['nobody denies a checked-in request', facts({ state: 'CHECKED_IN' }), { type: 'DENY' }, approver, at(5), 'refused:INVALID_STATE'],
  ['the requester cannot deny', facts(), { type: 'DENY' }, requester, at(1), 'refused:SELF_DECISION'],
  // revoking
  ['an approver revokes an available request', facts({ state: 'AVAILABLE' }), { type: 'REVOKE' }, approver, at(5), 'REVOKED'],
  ['an ADMIN revokes without being an approver', facts({ state: 'APPROVED', startsAt: at(10) }), { type: 'REVOKE' }, admin, at(1), 'REVOKED'],
  ['a stranger cannot revoke', facts({ state: 'AVAILABLE' }), { type: 'REVOKE' }, stranger, at(5), 'refused:NOT_APPROVER'],
  ['a pending request cannot be revoked (deny it)', facts(), { type: 'REVOKE' }, approver, at(1), 'refused:INVALID_STATE'],
  // the requester
  ['the requester cancels a pending request', facts(), { type: 'CANCEL' }, requester, at(1), 'CANCELLED'],
  ['the requester cancels an approved request', facts({ state: 'APPROVED', startsAt: at(10) }), { type: 'CANCEL' }, requester, at(1), 'CANCELLED'],
  ['an available request is checked in, not cancelled', facts({ state: 'AVAILABLE' }), { type: 'CANCEL' }, requester, at(5), 'refused:INVALID_STATE'],
  ['only the requester cancels', facts(), { type: 'CANCEL' }, approver, at(1), 'refused:NOT_REQUESTER'],
  ['the requester checks in an available request', facts({ state: 'AVAILABLE' }), { type: 'CHECK_IN' }, requester, at(5), 'CHECKED_IN'],
  ['an approved request whose window opened counts as available', facts({ state: 'APPROVED' }), { type: 'CHECK_IN' }, requester, at(5), 'CHECKED_IN'],
  ['checking in after the window closed: it has expired', facts({ state: 'AVAILABLE' }), { type: 'CHECK_IN' }, requester, at(60), 'refused:INVALID_STATE'],
  // reviewing
  ['a reviewer reviews a checked-in request', facts({ state: 'CHECKED_IN', availableAt: at(0), reviewRequired: true }), { type: 'REVIEW' }, auditor, at(5), 'CHECKED_IN'],
  ['a review is refused when the policy asks for none', facts({ state: 'CHECKED_IN', availableAt: at(0) }), { type: 'REVIEW' }, auditor, at(5), 'refused:REVIEW_NOT_NEEDED'],
  ['one review only', facts({ state: 'EXPIRED', availableAt: at(0), reviewRequired: true, reviewedAt: at(61) }), { type: 'REVIEW' }, auditor, at(70), 'refused:REVIEW_NOT_NEEDED'],
  ['a request that never became available needs no review', facts({ state: 'EXPIRED', reviewRequired: true }), { type: 'REVIEW' }, auditor, at(70), 'refused:REVIEW_NOT_NEEDED'],
  ['the requester never reviews their own request', facts({ state: 'CHECKED_IN', availableAt: at(0), reviewRequired: true, reviewers: { userIds: ['req'], roles: [] } }), { type: 'REVIEW' }, requester, at(5), 'refused:SELF_DECISION'],
  ['a reviewer comment is required when the policy says so', facts({ state: 'CHECKED_IN', availableAt: at(0), reviewRequired: true, reviewCommentRequired: true }), { type: 'REVIEW', comment: '  ' }, auditor, at(5), 'refused:COMMENT_REQUIRED'],
  ['someone not named as reviewer cannot review', facts({ state: 'CHECKED_IN', availableAt: at(0), reviewRequired: true }), { type: 'REVIEW' }, stranger, at(5), 'refused:NOT_REVIEWER'],
  // final states stay final
  ...(['DENIED', 'REVOKED', 'CANCELLED', 'EXPIRED', 'CHECKED_IN'] as const).flatMap((state): Row[] => [
    [`${state} cannot be approved`, facts({ state }), { type: 'APPROVE' }, approver, at(1), 'refused:INVALID_STATE'],
    [`${state} cannot be cancelled`, facts({ state }), { type: 'CANCEL' }, requester, at(1), 'refused:INVALID_STATE'],
    [`${state} cannot be checked in`, facts({ state }), { type: 'CHECK_IN' }, requester, at(1), 'refused:INVALID_STATE'],
  ]),
];

describe('the access-request lifecycle', () => {
  it.each(table)('%s', (_name, f, event, actor, now, expected) => {
    const outcome = decide(f, event, actor, now);
    if (expected.startsWith('refused:')) {
      expect(outcome.ok).toBe(false);
      if (!outcome.ok) expect(`refused:${outcome.reason}`).toBe(expected);
    } else {
      expect(outcome.ok).toBe(true);
      if (outcome.ok) expect(outcome.to).toBe(expected);
    }
  });

  it('records the decision row for approvals and pending denials, and moves to the next step', () => {
    const first = decide({ ...twoSteps, decisions: [{ step: 0, approverId: 'a2', decision: 'APPROVE' }] }, { type: 'APPROVE' }, approver, at(1));
    expect(first).toMatchObject({ ok: true, to: 'PENDING', action: 'STEP_APPROVED', currentStep: 1, decision: { step: 0, approverId: 'a1', decision: 'APPROVE' } });
    const deny = decide(facts(), { type: 'DENY' }, approver, at(1));
    expect(deny).toMatchObject({ ok: true, decision: { step: 0, approverId: 'a1', decision: 'DENY' } });
    const lateDeny = decide(facts({ state: 'AVAILABLE' }), { type: 'DENY' }, approver, at(5));
    expect(lateDeny).toMatchObject({ ok: true, decision: null });
  });

  it('counts distinct approvers only', () => {
    const f = facts({ steps: [{ approvers: { userIds: ['a1', 'a2', 'a3'], roles: [] }, requiredApprovals: 2 }], decisions: [{ step: 0, approverId: 'a2', decision: 'APPROVE' }, { step: 0, approverId: 'a2', decision: 'APPROVE' }] });
    expect(decide(f, { type: 'APPROVE' }, { userId: 'a3', role: null }, at(1))).toMatchObject({ ok: true, to: 'AVAILABLE' });
    const g = facts({ steps: [{ approvers: { userIds: ['a1', 'a2', 'a3'], roles: [] }, requiredApprovals: 3 }], decisions: [{ step: 0, approverId: 'a2', decision: 'APPROVE' }, { step: 0, approverId: 'a2', decision: 'APPROVE' }] });
    expect(decide(g, { type: 'APPROVE' }, { userId: 'a3', role: null }, at(1))).toMatchObject({ ok: true, to: 'PENDING' });
  });

  it('reports the time-driven transitions that are due before an event', () => {
    const outcome = decide(facts({ state: 'APPROVED', startsAt: at(10), endsAt: at(70) }), { type: 'CHECK_IN' }, requester, at(20));
    expect(outcome).toMatchObject({ ok: true, from: 'AVAILABLE', to: 'CHECKED_IN', timed: [{ from: 'APPROVED', to: 'AVAILABLE', action: 'START', at: at(10) }] });
  });
});

describe('time', () => {
  const cases: [string, Partial<RequestFacts>, number, RequestState, string[]][] = [
    ['pending before its limit stays pending', { state: 'PENDING' }, 29, 'PENDING', []],
    ['pending at its limit expires', { state: 'PENDING' }, 30, 'EXPIRED', ['PENDING_TIMEOUT']],
    ['approved before the start stays approved', { state: 'APPROVED', startsAt: at(10), endsAt: at(70) }, 9, 'APPROVED', []],
    ['approved at the start becomes available', { state: 'APPROVED', startsAt: at(10), endsAt: at(70) }, 10, 'AVAILABLE', ['START']],
    ['approved past the end: available, then expired', { state: 'APPROVED', startsAt: at(10), endsAt: at(70) }, 70, 'EXPIRED', ['START', 'END']],
    ['available at the end expires', { state: 'AVAILABLE' }, 60, 'EXPIRED', ['END']],
    ['final states do not move', { state: 'DENIED' }, 1000, 'DENIED', []],
  ];
  it.each(cases)('%s', (_name, over, minutes, expected, actions) => {
    const f = facts(over);
    expect(effectiveState(f, at(minutes))).toBe(expected);
    expect(dueTransitions(f, at(minutes)).map((t) => t.action)).toEqual(actions);
  });

  it('auto-approves without steps, straight to AVAILABLE when the window has started', () => {
    expect(initialState([], { startsAt: at(0), endsAt: at(60) }, at(0))).toBe('AVAILABLE');
    expect(initialState([], { startsAt: at(5), endsAt: at(60) }, at(0))).toBe('APPROVED');
    expect(initialState(facts().steps, { startsAt: at(0), endsAt: at(60) }, at(0))).toBe('PENDING');
  });

});

describe('needsReview: finished, once usable, not yet reviewed, under a review policy', () => {
  const review = { reviewRequired: true };
  const cases: [string, Partial<RequestFacts>, number, boolean][] = [
    ['checked in after being available', { ...review, state: 'CHECKED_IN', availableAt: at(0) }, 5, true],
    ['expired at the end of its window', { ...review, state: 'EXPIRED', availableAt: at(0) }, 70, true],
    ['available and its window just ended (clock applied on read)', { ...review, state: 'AVAILABLE', availableAt: at(0) }, 60, true],
    ['approved, its whole window passed before the scheduler ran', { ...review, state: 'APPROVED', startsAt: at(10), endsAt: at(70) }, 80, true],
    // The bug of issue 12: it never became available, so there is nothing to review, whatever its times say.
    ['expired while pending (persisted by the scheduler)', { ...review, state: 'EXPIRED', availableAt: null }, 40, false],
    ['expired while pending (clock applied on read)', { ...review, state: 'PENDING' }, 40, false],
    ['approved after its window had closed (straight to EXPIRED)', { ...review, state: 'EXPIRED', availableAt: null, closedAt: at(65) } as Partial<RequestFacts>, 70, false],
    ['still available', { ...review, state: 'AVAILABLE', availableAt: at(0) }, 5, false],
    ['still pending', { ...review, state: 'PENDING' }, 5, false],
    ['already reviewed', { ...review, state: 'EXPIRED', availableAt: at(0), reviewedAt: at(61) }, 70, false],
    ['the policy asks for no review', { state: 'CHECKED_IN', availableAt: at(0) }, 5, false],
    ...(['DENIED', 'REVOKED', 'CANCELLED'] as const).map((state): [string, Partial<RequestFacts>, number, boolean] => [`${state} (not finished by use)`, { ...review, state, availableAt: at(0) }, 70, false]),
  ];
  it.each(cases)('%s → %s', (_name, over, minutes, expected) => {
    const f = facts(over);
    expect(needsReview(f, at(minutes))).toBe(expected);
    // One rule: a reviewer (given a comment) may review exactly when it is needed.
    expect(decide(f, { type: 'REVIEW', comment: 'checked' }, auditor, at(minutes)).ok).toBe(expected);
  });
});

describe('step progress, resubmitting and removing', () => {
  it('counts distinct approvals per step and completes a step at its required count', () => {
    const f = { ...twoSteps, currentStep: 1, decisions: [{ step: 0, approverId: 'a1', decision: 'APPROVE' as const }, { step: 0, approverId: 'a2', decision: 'APPROVE' as const }, { step: 1, approverId: 'b1', decision: 'DENY' as const }] };
    expect(stepProgress(f, 0)).toEqual({ approvalCount: 2, completed: true });
    expect(stepProgress(f, 1)).toEqual({ approvalCount: 0, completed: false });
    expect(stepProgress({ ...twoSteps, decisions: [{ step: 0, approverId: 'a1', decision: 'APPROVE' }] }, 0)).toEqual({ approvalCount: 1, completed: false });
    // An approved request that later expired still shows its steps as done.
    expect(stepProgress(facts({ state: 'EXPIRED', decisions: [{ step: 0, approverId: 'a1', decision: 'APPROVE' }] }), 0).completed).toBe(true);
  });

  it.each<[RequestState, boolean, boolean]>([
    ['PENDING', false, false],
    ['APPROVED', false, false],
    ['AVAILABLE', false, false],
    ['CHECKED_IN', false, true],
    ['EXPIRED', true, true],
    ['DENIED', true, true],
    ['REVOKED', true, true],
    ['CANCELLED', false, true],
  ])('%s: resubmit %s, remove %s', (state, resubmit, remove) => {
    expect(canResubmit(state)).toBe(resubmit);
    expect(canRemove(state)).toBe(remove);
  });
});

describe('history rows', () => {
  const actor = (action: string, from: RequestState | null, to: RequestState): HistoryEntry => ({ action, from, to, byActor: true });
  const system = (action: string, from: RequestState | null, to: RequestState): HistoryEntry => ({ action, from, to, byActor: false });

  it.each<[RequestState, boolean, HistoryEntry[]]>([
    ['PENDING', false, [actor('REQUEST', null, 'PENDING')]],
    ['PENDING', true, [actor('RESUBMIT', null, 'PENDING')]],
    ['APPROVED', false, [actor('REQUEST', null, 'PENDING'), system('AUTO_APPROVE', 'PENDING', 'APPROVED')]],
    ['AVAILABLE', true, [actor('RESUBMIT', null, 'PENDING'), system('AUTO_APPROVE', 'PENDING', 'APPROVED'), system('START', 'APPROVED', 'AVAILABLE')]],
    ['EXPIRED', false, [actor('REQUEST', null, 'PENDING'), system('AUTO_APPROVE', 'PENDING', 'EXPIRED')]],
  ])('a new request in %s (resubmitted: %s) starts its history with the rows written for it', (state, resubmitted, expected) => {
    expect(newRequestHistory(state, resubmitted)).toEqual(expected);
  });

  const approver: Actor = { userId: 'a1', role: 'MEMBER' };
  const cases: [string, RequestFacts, LifecycleEvent, number, HistoryEntry[]][] = [
    ['a partial approval of a step', { ...twoSteps }, { type: 'APPROVE' }, 5, [actor('APPROVE', 'PENDING', 'PENDING')]],
    ['approval of the last step with the window open: approved, then started', facts(), { type: 'APPROVE' }, 5, [actor('APPROVE', 'PENDING', 'APPROVED'), system('START', 'APPROVED', 'AVAILABLE')]],
    ['approval before the window opens', facts({ startsAt: at(20), endsAt: at(80) }), { type: 'APPROVE' }, 5, [actor('APPROVE', 'PENDING', 'APPROVED')]],
    ['approval that completes a step but not the request', { ...twoSteps, decisions: [{ step: 0, approverId: 'a2', decision: 'APPROVE' }] }, { type: 'APPROVE' }, 5, [actor('APPROVE', 'PENDING', 'PENDING'), system('STEP_COMPLETED', 'PENDING', 'PENDING')]],
    ['a denial', facts(), { type: 'DENY' }, 5, [actor('DENY', 'PENDING', 'DENIED')]],
  ];
  it.each(cases)('%s', (_name, f, event, minute, expected) => {
    const outcome = decide(f, event, approver, at(minute));
    expect(outcome.ok).toBe(true);
    if (outcome.ok) expect(outcomeHistory(outcome)).toEqual(expected);
  });
});
