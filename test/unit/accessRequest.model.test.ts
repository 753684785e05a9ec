// The lifecycle as a model: scenario tables (a sequence of actor / event / time with the state after each) and
// properties checked on random sequences (fast-check). `apply` below persists an outcome the way the service
// does (state, step, decision, window, availableAt, reviewedAt), so sequences can run without a database.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decide,
  needsReview,
  REQUEST_STATES,
  TERMINAL_STATES,
  type Actor,
  type LifecycleEvent,
  type Outcome,
  type RequestFacts,
  type RequestState,
  type Step,
} from '../../src/modules/accessRequest/accessRequest.state.ts';

const T0 = new Date('2026-11-23T10:00:00Z').getTime();
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

function newRequest(steps: Step[], over: Partial<RequestFacts> = {}): RequestFacts {
  return {
    state: 'PENDING',
    requesterId: 'req',
    currentStep: 0,
    steps,
    decisions: [],
    startsAt: at(0),
    endsAt: at(60),
    pendingExpiresAt: at(30),
    availableAt: null,
    reviewRequired: true,
    reviewers: { userIds: [], roles: ['AUDITOR'] },
    reviewCommentRequired: false,
    reviewedAt: null,
    approversMayChangeWindow: false,
    maxDurationMinutes: 120,
    ...over,
  };
}

/** What the service persists for an outcome (see transition() in accessRequest.commands.ts). */
function apply(facts: RequestFacts, outcome: Outcome, now: Date): RequestFacts {
  const next: RequestFacts = { ...facts, decisions: [...facts.decisions] };
  for (const t of outcome.timed) {
    next.state = t.to;
    if (t.to === 'AVAILABLE' && !next.availableAt) next.availableAt = t.at;
  }
  next.state = outcome.to;
  next.currentStep = outcome.currentStep;
  if (outcome.decision) next.decisions.push(outcome.decision);
  if (outcome.window) {
    next.startsAt = outcome.window.startsAt;
    next.endsAt = outcome.window.endsAt;
  }
  if (outcome.to === 'AVAILABLE' && outcome.from !== 'AVAILABLE') next.availableAt = now;
  if (outcome.reviewed) next.reviewedAt = now;
  return next;
}

const people: Record<string, Actor> = {
  req: { userId: 'req', role: 'MEMBER' },
  m1: { userId: 'm1', role: 'MANAGER' },
  m2: { userId: 'm2', role: 'MANAGER' },
  a1: { userId: 'a1', role: 'MEMBER' },
  boss: { userId: 'boss', role: 'ADMIN', mayRevokeAny: true },
  aud: { userId: 'aud', role: 'AUDITOR' },
  x: { userId: 'x', role: 'MEMBER' },
};

type Line = [who: keyof typeof people, event: LifecycleEvent['type'], minute: number, expected: RequestState | `refused:${string}`];

function play(start: RequestFacts, lines: Line[]) {
  let facts = start;
  return lines.map(([who, type, minute, expected]) => {
    const now = at(minute);
    const outcome = decide(facts, { type, comment: 'c' } as LifecycleEvent, people[who], now);
    if (outcome.ok) facts = apply(facts, outcome, now);
    return { expected, got: outcome.ok ? outcome.to : `refused:${outcome.reason}`, facts };
  });
}

const twoManagersThenBoss: Step[] = [
  { approvers: { userIds: [], roles: ['MANAGER'] }, requiredApprovals: 2 },
  { approvers: { userIds: ['boss'], roles: [] }, requiredApprovals: 1 },
];

const scenarios: [string, RequestFacts, Line[]][] = [
  [
    'two steps, used, checked in and reviewed',
    newRequest(twoManagersThenBoss),
    [
      ['m1', 'APPROVE', 1, 'PENDING'],
      ['m1', 'APPROVE', 2, 'refused:ALREADY_DECIDED'],
      ['boss', 'APPROVE', 3, 'refused:NOT_APPROVER'],
      ['m2', 'APPROVE', 4, 'PENDING'],
      ['m1', 'APPROVE', 5, 'refused:NOT_APPROVER'],
      ['req', 'CHECK_IN', 6, 'refused:INVALID_STATE'],
      ['boss', 'APPROVE', 7, 'AVAILABLE'],
      ['aud', 'REVIEW', 8, 'refused:INVALID_STATE'],
      ['req', 'CHECK_IN', 20, 'CHECKED_IN'],
      ['req', 'REVIEW', 21, 'refused:SELF_DECISION'],
      ['aud', 'REVIEW', 22, 'CHECKED_IN'],
      ['aud', 'REVIEW', 23, 'refused:REVIEW_NOT_NEEDED'],
    ],
  ],
  [
    'expires while pending: nothing to review, nothing to approve',
    newRequest(twoManagersThenBoss),
    [
      ['m1', 'APPROVE', 10, 'PENDING'],
      ['m2', 'APPROVE', 31, 'refused:INVALID_STATE'],
      ['aud', 'REVIEW', 40, 'refused:REVIEW_NOT_NEEDED'],
      ['req', 'CANCEL', 41, 'refused:INVALID_STATE'],
    ],
  ],
  [
    'approved before its window, cancelled by the requester',
    newRequest([{ approvers: { userIds: ['a1'], roles: [] }, requiredApprovals: 1 }], { startsAt: at(20), endsAt: at(80), pendingExpiresAt: at(20) }),
    [
      ['req', 'APPROVE', 1, 'refused:SELF_DECISION'],
      ['a1', 'APPROVE', 2, 'APPROVED'],
      ['req', 'CHECK_IN', 3, 'refused:INVALID_STATE'],
      ['req', 'CANCEL', 4, 'CANCELLED'],
      ['a1', 'REVOKE', 5, 'refused:INVALID_STATE'],
    ],
  ],
  [
    'available, revoked by an ADMIN who approves nothing; deny after that is refused',
    newRequest([{ approvers: { userIds: [], roles: ['MANAGER'] }, requiredApprovals: 1 }]),
    [
      ['x', 'REVOKE', 1, 'refused:INVALID_STATE'],
      ['m1', 'APPROVE', 1, 'AVAILABLE'],
      ['x', 'REVOKE', 2, 'refused:NOT_APPROVER'],
      ['boss', 'REVOKE', 3, 'REVOKED'],
      ['m2', 'DENY', 4, 'refused:INVALID_STATE'],
    ],
  ],
  [
    'deny wins after one approval of the step',
    newRequest(twoManagersThenBoss),
    [
      ['m1', 'APPROVE', 1, 'PENDING'],
      ['m2', 'DENY', 2, 'DENIED'],
      ['boss', 'APPROVE', 3, 'refused:INVALID_STATE'],
    ],
  ],
  [
    'the window ends on its own: expired after use, then reviewed',
    newRequest([{ approvers: { userIds: ['a1'], roles: [] }, requiredApprovals: 1 }]),
    [
      ['a1', 'APPROVE', 1, 'AVAILABLE'],
      ['req', 'CHECK_IN', 60, 'refused:INVALID_STATE'],
      ['aud', 'REVIEW', 61, 'EXPIRED'],
    ],
  ],
];

describe('scenarios', () => {
  it.each(scenarios)('%s', (_name, start, lines) => {
    const played = play(start, lines);
    expect(played.map((p) => p.got)).toEqual(lines.map((l) => l[3]));
  });
});

// --- properties ---

const actorArb = fc.constantFrom(...Object.values(people));
const eventArb = fc.record({
  // Approvals weighted up, so that random runs get through their steps.
  type: fc.constantFrom<LifecycleEvent['type']>('APPROVE', 'APPROVE', 'APPROVE', 'APPROVE', 'APPROVE', 'DENY', 'REVOKE', 'CANCEL', 'CHECK_IN', 'REVIEW'),
  comment: fc.option(fc.constantFrom('ok', ' ', 'reviewed'), { nil: null }),
});
const whoArb = fc.record({
  userIds: fc.uniqueArray(fc.constantFrom('req', 'm1', 'm2', 'a1', 'boss', 'aud', 'x'), { maxLength: 3 }),
  roles: fc.uniqueArray(fc.constantFrom('ADMIN' as const, 'MANAGER' as const, 'MEMBER' as const, 'AUDITOR' as const), { maxLength: 2 }),
});
const stepsArb = fc.array(fc.record({ approvers: whoArb, requiredApprovals: fc.integer({ min: 1, max: 3 }) }), { minLength: 1, maxLength: 3 });
const requestArb = fc.record({
  steps: stepsArb,
  start: fc.integer({ min: 0, max: 60 }),
  length: fc.integer({ min: 1, max: 120 }),
  pendingLimit: fc.integer({ min: 10, max: 90 }),
  reviewRequired: fc.boolean(),
  reviewers: whoArb,
});
const runArb = fc.array(fc.record({ actor: actorArb, event: eventArb, advance: fc.integer({ min: 0, max: 4 }) }), { maxLength: 30 });

describe('properties (fast-check)', () => {
  it('a request is approved only with the required distinct non-requester approvals of every step, from that step’s approvers', () => {
    let approved = 0;
    fc.assert(
      fc.property(requestArb, runArb, (r, run) => {
        let facts = newRequest(r.steps, {
          startsAt: at(r.start),
          endsAt: at(r.start + r.length),
          pendingExpiresAt: at(Math.min(r.pendingLimit, r.start + r.length)),
          reviewRequired: r.reviewRequired,
          reviewers: r.reviewers,
        });
        let minute = 0;
        for (const { actor, event, advance } of run) {
          minute += advance;
          const now = at(minute);
          const outcome = decide(facts, event as LifecycleEvent, actor, now);
          if (!outcome.ok) continue;
          if (outcome.from === 'PENDING' && outcome.to !== 'PENDING' && outcome.to !== 'DENIED' && outcome.to !== 'CANCELLED') {
            const after = apply(facts, outcome, now);
            approved++;
            r.steps.forEach((step, i) => {
              const approvers = new Set(
                after.decisions
                  .filter((d) => d.step === i && d.decision === 'APPROVE' && d.approverId !== facts.requesterId)
                  .filter((d) => step.approvers.userIds.includes(d.approverId) || step.approvers.roles.includes(people[d.approverId].role!))
                  .map((d) => d.approverId),
              );
              expect(approvers.size).toBeGreaterThanOrEqual(step.requiredApprovals);
            });
          }
          facts = apply(facts, outcome, now);
        }
      }),
      { numRuns: 300 },
    );
    // The runs did reach approvals (otherwise the property held vacuously).
    expect(approved).toBeGreaterThan(10);
  });

  it('terminal states absorb every event, at any time (only a review, which keeps the state, is allowed)', () => {
    fc.assert(
      fc.property(
        requestArb,
        fc.constantFrom(...[...TERMINAL_STATES]),
        fc.boolean(),
        actorArb,
        eventArb,
        fc.integer({ min: 0, max: 500 }),
        (r, state, wasAvailable, actor, event, minute) => {
          const facts = newRequest(r.steps, { state, availableAt: wasAvailable ? at(r.start) : null, reviewRequired: r.reviewRequired, reviewers: r.reviewers });
          const outcome = decide(facts, event as LifecycleEvent, actor, at(minute));
          if (outcome.ok) {
            expect(outcome.action).toBe('REVIEW');
            expect(outcome.to).toBe(state);
            expect(outcome.timed).toEqual([]);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a review is possible exactly when needsReview says so (for a named reviewer with a comment)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...REQUEST_STATES), fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 200 }), (state, wasAvailable, reviewed, required, minute) => {
        const facts = newRequest(twoManagersThenBoss, { state, availableAt: wasAvailable ? at(0) : null, reviewedAt: reviewed ? at(1) : null, reviewRequired: required });
        expect(decide(facts, { type: 'REVIEW', comment: 'seen' }, people.aud, at(minute)).ok).toBe(needsReview(facts, at(minute)));
      }),
      { numRuns: 300 },
    );
  });
});
