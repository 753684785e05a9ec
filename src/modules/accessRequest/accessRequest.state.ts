// The access-request lifecycle as a pure function: (request, event, actor, now) → next state or a typed refusal.
// No database, no clock of its own. The service persists what this decides with a conditional update; the
// scheduler and every read use `dueTransitions` so that a request's state never contradicts its times.
import type { Prisma } from '../../generated/prisma-sqlite/client.ts';
import type { Role } from '../../generated/prisma-sqlite/enums.ts';

export const REQUEST_STATES = ['PENDING', 'APPROVED', 'AVAILABLE', 'CHECKED_IN', 'EXPIRED', 'DENIED', 'REVOKED', 'CANCELLED'] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<RequestState> = new Set(['CHECKED_IN', 'EXPIRED', 'DENIED', 'REVOKED', 'CANCELLED']);
export const OPEN_STATES: readonly RequestState[] = ['PENDING', 'APPROVED', 'AVAILABLE'];
/** States a requester may make a new request from (resubmit): it was turned down or ran out. */
export const RESUBMITTABLE_STATES: ReadonlySet<RequestState> = new Set(['DENIED', 'REVOKED', 'EXPIRED']);
/** At most this many approval steps per policy (bounds the SQL projection of "approver of the current step"). */
export const MAX_STEPS = 10;

export const canResubmit = (state: RequestState): boolean => RESUBMITTABLE_STATES.has(state);
/** Only finished requests may be hidden from the requester's list. */
export const canRemove = (state: RequestState): boolean => TERMINAL_STATES.has(state);

/** A set of people: named users and/or everyone holding one of the roles in the request's organization. */
export type Who = { userIds: string[]; roles: Role[] };
export type Step = { approvers: Who; requiredApprovals: number };
export type Decision = { step: number; approverId: string; decision: 'APPROVE' | 'DENY' };

/** What the lifecycle needs to know about a request (a projection of the row and its policy snapshot). */
export type RequestFacts = {
  state: RequestState;
  requesterId: string;
  currentStep: number;
  steps: Step[];
  decisions: Decision[];
  startsAt: Date;
  endsAt: Date;
  pendingExpiresAt: Date;
  /** Set once the window opened; only a request that was usable needs a review. */
  availableAt: Date | null;
  reviewRequired: boolean;
  reviewers: Who;
  reviewCommentRequired: boolean;
  reviewedAt: Date | null;
  approversMayChangeWindow: boolean;
  maxDurationMinutes: number;
};

/**
 * The person acting, their role in the request's organization (null when not a member), and whether the
 * organization's policy lets them revoke any request (ADMIN) rather than only those they approve.
 */
export type Actor = { userId: string; role: Role | null; mayRevokeAny?: boolean };

export type LifecycleEvent =
  | { type: 'APPROVE'; comment?: string | null; window?: { startsAt: Date; endsAt: Date } | null }
  | { type: 'DENY'; comment?: string | null }
  | { type: 'REVOKE'; comment?: string | null }
  | { type: 'CANCEL'; comment?: string | null }
  | { type: 'CHECK_IN'; comment?: string | null }
  | { type: 'REVIEW'; comment?: string | null };

export type RefusalReason =
  | 'INVALID_STATE'
  | 'SELF_DECISION'
  | 'NOT_APPROVER'
  | 'ALREADY_DECIDED'
  | 'NOT_REQUESTER'
  | 'NOT_REVIEWER'
  | 'REVIEW_NOT_NEEDED'
  | 'COMMENT_REQUIRED'
  | 'WINDOW_CHANGE_NOT_ALLOWED'
  | 'WINDOW_TOO_LONG'
  | 'WINDOW_INVALID';

export type Refusal = { ok: false; reason: RefusalReason; state: RequestState };

/** A time-driven change, applied before any event and by the scheduler. */
export type TimedTransition = { from: RequestState; to: RequestState; action: 'START' | 'END' | 'PENDING_TIMEOUT'; at: Date };

export type Outcome = {
  ok: true;
  /** Time-driven transitions that were due first (persisted with the event, in order). */
  timed: TimedTransition[];
  from: RequestState;
  to: RequestState;
  action: 'APPROVE' | 'STEP_APPROVED' | 'DENY' | 'REVOKE' | 'CANCEL' | 'CHECK_IN' | 'REVIEW';
  currentStep: number;
  /** The decision row to insert (approvals and denials while pending). */
  decision: Decision | null;
  window: { startsAt: Date; endsAt: Date } | null;
  reviewed: boolean;
};

export const isIn = (who: Who, actor: Actor): boolean =>
  who.userIds.includes(actor.userId) || (actor.role !== null && who.roles.includes(actor.role));

const approvalsAt = (facts: Pick<RequestFacts, 'decisions'>, step: number) =>
  new Set(facts.decisions.filter((d) => d.step === step && d.decision === 'APPROVE').map((d) => d.approverId)).size;

/** Approvers of any step (they may deny after approval and revoke, as Safeguard allows). */
const isAnyApprover = (facts: RequestFacts, actor: Actor) => facts.steps.some((s) => isIn(s.approvers, actor));

/**
 * Transitions that the clock alone causes by `now`, in order: APPROVED → AVAILABLE at the start, AVAILABLE →
 * EXPIRED at the end (both when the scheduler missed the start), PENDING → EXPIRED at the pending limit.
 */
export function dueTransitions(facts: Pick<RequestFacts, 'state' | 'startsAt' | 'endsAt' | 'pendingExpiresAt'>, now: Date): TimedTransition[] {
  const t = now.getTime();
  const out: TimedTransition[] = [];
  let state = facts.state;
  if (state === 'PENDING' && t >= facts.pendingExpiresAt.getTime()) {
    out.push({ from: 'PENDING', to: 'EXPIRED', action: 'PENDING_TIMEOUT', at: facts.pendingExpiresAt });
    return out;
  }
  if (state === 'APPROVED' && t >= facts.startsAt.getTime()) {
    out.push({ from: 'APPROVED', to: 'AVAILABLE', action: 'START', at: facts.startsAt });
    state = 'AVAILABLE';
  }
  if (state === 'AVAILABLE' && t >= facts.endsAt.getTime()) {
    out.push({ from: 'AVAILABLE', to: 'EXPIRED', action: 'END', at: facts.endsAt });
  }
  return out;
}

/** The state a request is in at `now`, whatever the scheduler has persisted so far. */
export function effectiveState(facts: Pick<RequestFacts, 'state' | 'startsAt' | 'endsAt' | 'pendingExpiresAt'>, now: Date): RequestState {
  const due = dueTransitions(facts, now);
  return due.length ? due[due.length - 1].to : facts.state;
}

/** Where a fully approved request goes: straight to AVAILABLE when its window has started (or to EXPIRED). */
function approvedState(window: { startsAt: Date; endsAt: Date }, now: Date): RequestState {
  if (now.getTime() >= window.endsAt.getTime()) return 'EXPIRED';
  return now.getTime() >= window.startsAt.getTime() ? 'AVAILABLE' : 'APPROVED';
}

/** A new request's first state: with no approval steps (auto-approve) it is approved at once. */
export function initialState(steps: Step[], window: { startsAt: Date; endsAt: Date }, now: Date): RequestState {
  return steps.length === 0 ? approvedState(window, now) : 'PENDING';
}

// --- history ---

/** One history row as the lifecycle writes it; `byActor`: done by the person acting (with their comment), else by the system. */
export type HistoryEntry = { action: string; from: RequestState | null; to: RequestState; byActor: boolean };

const HISTORY_ACTION: Record<Outcome['action'] | TimedTransition['action'], string> = {
  APPROVE: 'APPROVE',
  STEP_APPROVED: 'APPROVE',
  DENY: 'DENY',
  REVOKE: 'REVOKE',
  CANCEL: 'CANCEL',
  CHECK_IN: 'CHECK_IN',
  REVIEW: 'REVIEW',
  START: 'START',
  END: 'END',
  PENDING_TIMEOUT: 'PENDING_TIMEOUT',
};

/** The name an outcome or a timed transition is recorded under (history, audit `access_request.<name>`, events). */
export const historyAction = (action: Outcome['action'] | TimedTransition['action']): string => HISTORY_ACTION[action];

/**
 * The history a new request starts with: asked (or resubmitted) by the requester; without approval steps, then
 * approved at once by the system (or expired, if its window is already over), and started when it is open.
 */
export function newRequestHistory(state: RequestState, resubmitted: boolean): HistoryEntry[] {
  const entries: HistoryEntry[] = [{ action: resubmitted ? 'RESUBMIT' : 'REQUEST', from: null, to: 'PENDING', byActor: true }];
  if (state !== 'PENDING') {
    entries.push({ action: 'AUTO_APPROVE', from: 'PENDING', to: state === 'EXPIRED' ? 'EXPIRED' : 'APPROVED', byActor: false });
    if (state === 'AVAILABLE') entries.push({ action: 'START', from: 'APPROVED', to: 'AVAILABLE', byActor: false });
  }
  return entries;
}

/**
 * The history rows of an event's outcome (after those of its timed transitions). An approval that completes a
 * step but not the request adds STEP_COMPLETED; an approval with the window already open reads as two steps:
 * approved (by the approver), then started (by the system).
 */
export function outcomeHistory(outcome: Outcome): HistoryEntry[] {
  const opensNow = outcome.to === 'AVAILABLE' && outcome.from === 'PENDING';
  const entries: HistoryEntry[] = [{ action: HISTORY_ACTION[outcome.action], from: outcome.from, to: opensNow ? 'APPROVED' : outcome.to, byActor: true }];
  if (outcome.action === 'STEP_APPROVED' && outcome.to === 'PENDING') entries.push({ action: 'STEP_COMPLETED', from: 'PENDING', to: 'PENDING', byActor: false });
  if (opensNow) entries.push({ action: 'START', from: 'APPROVED', to: 'AVAILABLE', byActor: false });
  return entries;
}

/** Whether the actor may decide (approve or deny) the request now: the current step's approver, not yet decided. */
export function canDecideNow(facts: RequestFacts, actor: Actor, now: Date): boolean {
  return decide(facts, { type: 'APPROVE' }, actor, now).ok;
}

const refuse = (reason: RefusalReason, state: RequestState): Refusal => ({ ok: false, reason, state });

/** The lifecycle. Resolved states are final; deny wins; a requester never decides or reviews their own request. */
export function decide(facts: RequestFacts, event: LifecycleEvent, actor: Actor, now: Date): Outcome | Refusal {
  const timed = dueTransitions(facts, now);
  const state = timed.length ? timed[timed.length - 1].to : facts.state;
  const isRequester = actor.userId === facts.requesterId;
  const base = { ok: true as const, timed, from: state, currentStep: facts.currentStep, decision: null, window: null, reviewed: false };
  const comment = event.comment?.trim() ?? '';

  switch (event.type) {
    case 'APPROVE': {
      if (state !== 'PENDING') return refuse('INVALID_STATE', state);
      if (isRequester) return refuse('SELF_DECISION', state);
      const step = facts.steps[facts.currentStep];
      if (!step || !isIn(step.approvers, actor)) return refuse('NOT_APPROVER', state);
      if (facts.decisions.some((d) => d.step === facts.currentStep && d.approverId === actor.userId)) return refuse('ALREADY_DECIDED', state);
      let window: { startsAt: Date; endsAt: Date } | null = null;
      if (event.window) {
        if (!facts.approversMayChangeWindow) return refuse('WINDOW_CHANGE_NOT_ALLOWED', state);
        const minutes = (event.window.endsAt.getTime() - event.window.startsAt.getTime()) / 60_000;
        if (!(minutes > 0) || event.window.endsAt.getTime() <= now.getTime()) return refuse('WINDOW_INVALID', state);
        if (minutes > facts.maxDurationMinutes) return refuse('WINDOW_TOO_LONG', state);
        window = event.window;
      }
      const decision: Decision = { step: facts.currentStep, approverId: actor.userId, decision: 'APPROVE' };
      const count = approvalsAt({ ...facts, decisions: [...facts.decisions, decision] }, facts.currentStep);
      if (count < step.requiredApprovals) return { ...base, to: 'PENDING', action: 'APPROVE', decision, window };
      if (facts.currentStep + 1 < facts.steps.length) {
        return { ...base, to: 'PENDING', action: 'STEP_APPROVED', decision, window, currentStep: facts.currentStep + 1 };
      }
      const finalWindow = window ?? { startsAt: facts.startsAt, endsAt: facts.endsAt };
      return { ...base, to: approvedState(finalWindow, now), action: 'STEP_APPROVED', decision, window };
    }
    case 'DENY': {
      if (isRequester) return refuse('SELF_DECISION', state);
      if (state === 'PENDING') {
        const step = facts.steps[facts.currentStep];
        if (!step || !isIn(step.approvers, actor)) return refuse('NOT_APPROVER', state);
        if (facts.decisions.some((d) => d.step === facts.currentStep && d.approverId === actor.userId)) return refuse('ALREADY_DECIDED', state);
        return { ...base, to: 'DENIED', action: 'DENY', decision: { step: facts.currentStep, approverId: actor.userId, decision: 'DENY' } };
      }
      // After approval, before check-in: any approver of the request may still deny it.
      if (state === 'APPROVED' || state === 'AVAILABLE') {
        if (!isAnyApprover(facts, actor)) return refuse('NOT_APPROVER', state);
        return { ...base, to: 'DENIED', action: 'DENY' };
      }
      return refuse('INVALID_STATE', state);
    }
    case 'REVOKE': {
      if (state !== 'APPROVED' && state !== 'AVAILABLE') return refuse('INVALID_STATE', state);
      if (isRequester) return refuse('SELF_DECISION', state);
      if (!isAnyApprover(facts, actor) && !actor.mayRevokeAny) return refuse('NOT_APPROVER', state);
      return { ...base, to: 'REVOKED', action: 'REVOKE' };
    }
    case 'CANCEL': {
      if (!isRequester) return refuse('NOT_REQUESTER', state);
      if (state !== 'PENDING' && state !== 'APPROVED') return refuse('INVALID_STATE', state);
      return { ...base, to: 'CANCELLED', action: 'CANCEL' };
    }
    case 'CHECK_IN': {
      if (!isRequester) return refuse('NOT_REQUESTER', state);
      if (state !== 'AVAILABLE') return refuse('INVALID_STATE', state);
      return { ...base, to: 'CHECKED_IN', action: 'CHECK_IN' };
    }
    case 'REVIEW': {
      if (state !== 'CHECKED_IN' && state !== 'EXPIRED') return refuse('INVALID_STATE', state);
      if (!needsReview(facts, now)) return refuse('REVIEW_NOT_NEEDED', state);
      if (isRequester) return refuse('SELF_DECISION', state);
      if (!isIn(facts.reviewers, actor)) return refuse('NOT_REVIEWER', state);
      if (facts.reviewCommentRequired && !comment) return refuse('COMMENT_REQUIRED', state);
      return { ...base, to: state, action: 'REVIEW', reviewed: true };
    }
  }
}

type ReviewFacts = Pick<RequestFacts, 'state' | 'startsAt' | 'endsAt' | 'pendingExpiresAt' | 'availableAt' | 'reviewRequired' | 'reviewedAt'>;

/**
 * Whether a request waits for a review at `now` (whoever asks): its policy asked for one, nobody gave it yet,
 * it is finished (checked in or expired, the clock applied) and it was usable at some point — a request that
 * expired while pending, or was approved only after its window had closed, released nothing to review.
 * The precondition of REVIEW in `decide`, so `needsReview` and the review queue agree with what reviewing does.
 */
export function needsReview(facts: ReviewFacts, now: Date): boolean {
  if (!facts.reviewRequired || facts.reviewedAt) return false;
  const timed = dueTransitions(facts, now);
  const state = timed.length ? timed[timed.length - 1].to : facts.state;
  if (state !== 'CHECKED_IN' && state !== 'EXPIRED') return false;
  return facts.availableAt !== null || timed.some((t) => t.to === 'AVAILABLE');
}

/** How far one approval step has come: distinct approvals, and whether it reached its required count. */
export function stepProgress(facts: Pick<RequestFacts, 'steps' | 'decisions'>, index: number): { approvalCount: number; completed: boolean } {
  const step = facts.steps[index];
  const approvalCount = approvalsAt(facts, index);
  return { approvalCount, completed: step !== undefined && approvalCount >= step.requiredApprovals };
}

// --- the same rules as SQL (Prisma filters), for lists and queues ---
// Each projection below must select exactly the rows for which its pure counterpart above says yes; the
// tests compare them on varied requests (test/integration/accessRequests.queues.test.ts).

type Where = Prisma.AccessRequestWhereInput;

/** Rows whose effective state (`effectiveState`: the row's state moved on by the clock) is one of `states`. */
export function stateWhere(states: readonly RequestState[], now: Date): Where {
  const or: Where[] = [];
  for (const s of new Set(states)) {
    if (s === 'PENDING') or.push({ state: 'PENDING', pendingExpiresAt: { gt: now } });
    else if (s === 'APPROVED') or.push({ state: 'APPROVED', startsAt: { gt: now } });
    else if (s === 'AVAILABLE') or.push({ state: 'APPROVED', startsAt: { lte: now }, endsAt: { gt: now } }, { state: 'AVAILABLE', endsAt: { gt: now } });
    else if (s === 'EXPIRED') {
      or.push(
        { state: 'EXPIRED' },
        { state: 'PENDING', pendingExpiresAt: { lte: now } },
        { state: 'APPROVED', startsAt: { lte: now }, endsAt: { lte: now } },
        { state: 'AVAILABLE', endsAt: { lte: now } },
      );
    } else or.push({ state: s });
  }
  return { OR: or };
}

/** Rows for which `needsReview(row, now)` holds: finished as of now, and usable at some point. */
export function needsReviewWhere(now: Date): Where {
  return {
    reviewRequired: true,
    reviewedAt: null,
    AND: [
      stateWhere(['CHECKED_IN', 'EXPIRED'], now),
      // It became available: recorded on the row, or due now (an approved row whose start has passed: START).
      { OR: [{ availableAt: { not: null } }, { state: 'APPROVED', startsAt: { lte: now } }] },
    ],
  };
}

/** A user as the lifecycle sees them: their id and their role in each organization (see `isIn`). */
export type ViewerRef = { userId: string; memberships: ReadonlyMap<string, Role> };

/** Participant rows (a request's named people) that name the viewer: by user, or by the role they hold there. */
function namesViewer(viewer: ViewerRef): Prisma.AccessRequestParticipantWhereInput {
  return { OR: [{ userId: viewer.userId }, ...[...viewer.memberships].map(([organizationId, role]) => ({ organizationId, role }))] };
}

/**
 * Rows the viewer could APPROVE now (`decide(row, APPROVE, viewer, now).ok`), leaving out the organization
 * permission, which the caller adds: pending as of now, not their own, the viewer named by the current
 * step (one clause per possible step: SQL cannot compare a participant's step with the row's currentStep
 * through Prisma), and no decision of theirs on that step yet.
 */
export function approvableWhere(viewer: ViewerRef, now: Date): Where {
  const named = namesViewer(viewer);
  return {
    state: 'PENDING',
    pendingExpiresAt: { gt: now },
    requesterId: { not: viewer.userId },
    OR: Array.from({ length: MAX_STEPS }, (_, step) => ({
      currentStep: step,
      participants: { some: { kind: 'APPROVER', step, ...named } },
      approvals: { none: { step, approverId: viewer.userId } },
    })),
  };
}

/** Rows the viewer could REVIEW now (given a comment), leaving out the organization permission. */
export function reviewableWhere(viewer: ViewerRef, now: Date): Where {
  return {
    requesterId: { not: viewer.userId },
    participants: { some: { kind: 'REVIEWER', ...namesViewer(viewer) } },
    AND: [needsReviewWhere(now)],
  };
}
