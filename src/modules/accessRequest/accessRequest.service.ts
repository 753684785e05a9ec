import { assertStepUp } from '../auth/mfa.service.ts';
import { z } from 'zod';
import { matchesWhole, UserPatternError } from '../../lib/userPattern.ts';
import { GraphQLError } from 'graphql';
import { encodeGlobalID } from '@pothos/plugin-relay';
import type { AppDeps, Context } from '../../context.ts';
import type { TxClient } from '../../db/client.ts';
import { DomainError, ForbiddenError, ValidationError } from '../../lib/errors.ts';
import type { DomainEvent } from '../../lib/events.ts';
import { localId } from '../../lib/ids.ts';
import { parseInput, text } from '../../lib/validate.ts';
import { anonymousPolicy } from '../../policy/policy.ts';
import type { AccessApproval, AccessRequest, Credential, Prisma } from '../../generated/prisma-sqlite/client.ts';
import type { Role } from '../../generated/prisma-sqlite/enums.ts';
import { announceAppended, appendAudit } from '../audit/audit.chain.ts';
import { loadVisibleCredential, rotateGeneratedPassword } from '../credential/credential.service.ts';
import {
  choosePolicy,
  MAX_WINDOW_MINUTES,
  PolicyViolationError,
  snapshotOf,
  TICKET_MAX,
  type ParsedPolicy,
  type PolicySnapshot,
  type ReleasableField,
  type AccessRequestType,
} from '../accessPolicy/accessPolicy.service.ts';
import { recordSchedulerRun } from '../../lib/metrics.ts';
import {
  approvableWhere,
  canRemove,
  canResubmit,
  decide,
  dueTransitions,
  effectiveState,
  initialState,
  reviewableWhere,
  TERMINAL_STATES,
  type Actor,
  type LifecycleEvent,
  type Outcome,
  type RefusalReason,
  type RequestFacts,
  type RequestState,
  type TimedTransition,
} from './accessRequest.state.ts';

// --- typed refusals ---

/** The request is not in a state that allows this (e.g. approving a request that is already approved). */
export class InvalidRequestStateError extends DomainError {
  override name = 'InvalidRequestStateError';
  constructor(readonly state: RequestState, message = `The request is ${state.toLowerCase().replace('_', ' ')}; that is not possible now.`) {
    super(message);
  }
}
/** Requesters never approve, deny or review their own requests. */
export class SelfApprovalError extends DomainError {
  override name = 'SelfApprovalError';
  constructor() {
    super('You cannot decide on or review your own request.');
  }
}
/** The viewer sees the request but is not one of the people who may do this now. */
export class NotApproverError extends DomainError {
  override name = 'NotApproverError';
  constructor(message = 'You are not an approver of the current step of this request.') {
    super(message);
  }
}
/** One decision per approver per step. */
export class AlreadyDecidedError extends DomainError {
  override name = 'AlreadyDecidedError';
  constructor() {
    super('You have already decided on this step of the request.');
  }
}

function refusalError(reason: RefusalReason, state: RequestState): Error {
  switch (reason) {
    case 'INVALID_STATE':
      return new InvalidRequestStateError(state);
    case 'SELF_DECISION':
      return new SelfApprovalError();
    case 'NOT_APPROVER':
      return new NotApproverError();
    case 'ALREADY_DECIDED':
      return new AlreadyDecidedError();
    case 'NOT_REQUESTER':
      return new NotApproverError('Only the requester can do this.');
    case 'NOT_REVIEWER':
      return new NotApproverError('You are not a reviewer of this request.');
    case 'REVIEW_NOT_NEEDED':
      return new InvalidRequestStateError(state, 'This request does not need a review (any more).');
    case 'COMMENT_REQUIRED':
      return ValidationError.field('input.comment', 'the policy requires a comment with the review');
    case 'WINDOW_CHANGE_NOT_ALLOWED':
      return new PolicyViolationError('WINDOW_CHANGE_NOT_ALLOWED', 'The policy does not let approvers change the window.');
    case 'WINDOW_TOO_LONG':
      return new PolicyViolationError('DURATION_TOO_LONG', 'The window is longer than the policy’s maximum.');
    case 'WINDOW_INVALID':
      return ValidationError.field('input.durationMinutes', 'the window must be positive and end in the future');
  }
}

// --- reading ---

export type RequestWithDecisions = AccessRequest & { approvals: AccessApproval[] };

export const snapshotOfRow = (r: AccessRequest): PolicySnapshot => JSON.parse(r.policySnapshot) as PolicySnapshot;
export const fieldsOfRow = (r: AccessRequest): ReleasableField[] => JSON.parse(r.fields) as ReleasableField[];

export function factsOf(r: RequestWithDecisions): RequestFacts {
  const s = snapshotOfRow(r);
  return {
    state: r.state as RequestState,
    requesterId: r.requesterId,
    currentStep: r.currentStep,
    steps: s.steps,
    decisions: r.approvals.map((a) => ({ step: a.step, approverId: a.approverId, decision: a.decision as 'APPROVE' | 'DENY' })),
    startsAt: r.startsAt,
    endsAt: r.endsAt,
    pendingExpiresAt: r.pendingExpiresAt,
    availableAt: r.availableAt,
    reviewRequired: r.reviewRequired,
    reviewers: s.reviewers,
    reviewCommentRequired: s.reviewCommentRequired,
    reviewedAt: r.reviewedAt,
    approversMayChangeWindow: s.approversMayChangeWindow,
    maxDurationMinutes: s.maxDurationMinutes,
  };
}

/** The state to show: what the row says, moved on by the clock (a read never contradicts the request's times). */
export const stateAt = (r: AccessRequest, now: Date): RequestState =>
  effectiveState({ state: r.state as RequestState, startsAt: r.startsAt, endsAt: r.endsAt, pendingExpiresAt: r.pendingExpiresAt }, now);

const actorIn = (ctx: Context, organizationId: string): Actor | null =>
  ctx.policy.userId ? { userId: ctx.policy.userId, role: ctx.policy.roleIn(organizationId) } : null;

/**
 * Who sees a request, as a query: its requester; the approvers and reviewers its policy named (by user, or by
 * role — while they hold it in the organization); and the organization's ADMINs and AUDITORs. One rule for
 * lists, node(id) and every action; everyone else gets FORBIDDEN, as for a missing id.
 */
export function visibleRequestWhere(ctx: Context): Prisma.AccessRequestWhereInput {
  const readAll = ctx.policy.organizationIds('accessRequest:readAll');
  const p = ctx.policy.principal;
  if (p.kind !== 'user') return { organizationId: { in: readAll } };
  const memberOf = [...p.memberships.keys()];
  return {
    OR: [
      { organizationId: { in: readAll } },
      { requesterId: p.userId, organizationId: { in: memberOf } },
      {
        participants: {
          some: {
            OR: [
              { userId: p.userId, organizationId: { in: memberOf } },
              ...[...p.memberships].map(([organizationId, role]) => ({ organizationId, role })),
            ],
          },
        },
      },
    ],
  };
}

export async function loadVisibleRequest(ctx: Context, tx: TxClient, globalId: string): Promise<RequestWithDecisions> {
  const r = await tx.accessRequest.findFirst({ where: { id: localId(globalId, 'AccessRequest'), AND: [visibleRequestWhere(ctx)] }, include: { approvals: true } });
  if (!r) throw new ForbiddenError();
  return r;
}

/** The rows that make a request visible to the people its policy names. */
function participantRows(r: AccessRequest, s: PolicySnapshot) {
  const rows: { requestId: string; organizationId: string; kind: string; step: number | null; userId: string | null; role: Role | null }[] = [];
  const add = (kind: string, step: number | null, who: { userIds: string[]; roles: Role[] }) => {
    for (const userId of who.userIds) rows.push({ requestId: r.id, organizationId: r.organizationId, kind, step, userId, role: null });
    for (const role of who.roles) rows.push({ requestId: r.id, organizationId: r.organizationId, kind, step, userId: null, role });
  };
  s.steps.forEach((step, i) => add('APPROVER', i, step.approvers));
  if (s.reviewRequired) add('REVIEWER', null, s.reviewers);
  return rows;
}

/**
 * The viewer as an actor on this request for this event, or null when the organization's roles rule them out
 * before the lifecycle is asked: cancelling and checking in are the requester's; everything else needs
 * `accessRequest:decide` (and the policy naming them, which the lifecycle checks).
 */
function actorFor(ctx: Context, r: AccessRequest, event: LifecycleEvent): Actor | null {
  const actor = actorIn(ctx, r.organizationId);
  if (!actor) return null;
  const requesterEvent = event.type === 'CANCEL' || event.type === 'CHECK_IN';
  if (!requesterEvent && !ctx.policy.can('accessRequest:decide', { organizationId: r.organizationId })) return null;
  actor.mayRevokeAny = ctx.policy.can('accessRequest:revokeAny', { organizationId: r.organizationId });
  return actor;
}

/** Whether the viewer could perform the event now (for viewerCan* fields); the same rule that acting uses. */
export function viewerCan(ctx: Context, r: RequestWithDecisions, event: LifecycleEvent): boolean {
  const actor = actorFor(ctx, r, event);
  return actor !== null && decide(factsOf(r), event, actor, ctx.clock.now()).ok;
}

// --- persisting transitions ---

type Transitioned = { request: RequestWithDecisions; events: DomainEvent[] };

const historyAction: Record<Outcome['action'] | TimedTransition['action'], string> = {
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

/**
 * Takes the request's row lock before reading it — only when the caller may see the request: visibility is part
 * of the locking write's where clause, so an id of another tenant's request (or any id the caller may not see)
 * matches no row, locks nothing and answers exactly like a missing id. The version bump is a write, so on
 * PostgreSQL concurrent transitions of one request queue here and each reads what the previous one committed (50
 * parallel approvals count to exactly 50); SQLite serialises writers anyway. The final update is still
 * conditional on the version.
 */
async function lockAndLoad(ctx: Context, tx: TxClient, id: string): Promise<RequestWithDecisions | null> {
  const { count } = await tx.accessRequest.updateMany({ where: { id, AND: [visibleRequestWhere(ctx)] }, data: { version: { increment: 1 } } });
  if (count === 0) return null;
  return tx.accessRequest.findUnique({ where: { id }, include: { approvals: true } });
}

async function appendHistory(
  tx: TxClient,
  r: AccessRequest,
  entry: { actorUserId: string | null; action: string; comment?: string | null; from: RequestState | null; to: RequestState; at: Date },
) {
  const last = await tx.accessRequestHistory.findFirst({ where: { requestId: r.id }, orderBy: { seq: 'desc' }, select: { seq: true } });
  await tx.accessRequestHistory.create({
    data: { requestId: r.id, seq: (last?.seq ?? 0) + 1, actorUserId: entry.actorUserId, action: entry.action, comment: entry.comment ?? null, fromState: entry.from, toState: entry.to, at: entry.at },
  });
}

const eventOf = (r: AccessRequest, action: string, from: RequestState | null, to: RequestState, currentStep: number, at: Date): DomainEvent => ({
  topic: 'accessRequest.changed',
  requestId: r.id,
  organizationId: r.organizationId,
  credentialId: r.credentialId,
  requesterId: r.requesterId,
  action,
  from,
  to,
  currentStep,
  at: at.toISOString(),
});

/** A context for work nobody asked for in a request: the scheduler's. Audited with no actor. */
export function systemContext(deps: AppDeps): Context {
  return {
    ...deps,
    policy: anonymousPolicy(),
    request: { requestId: 'scheduler', clientAddress: null, userAgent: null },
    auditTouched: new Set(),
    refusals: [],
    reauthenticate: async () => anonymousPolicy(),
  };
}

/**
 * When a checked-out request ends (checked in, or expired after being available) under a rotate-on-check-in
 * policy, the credential gets a freshly generated password as a new version.
 */
async function rotateIfDue(ctx: Context, tx: TxClient, r: AccessRequest, from: RequestState, to: RequestState) {
  if (!snapshotOfRow(r).rotateOnCheckIn || !r.credentialId) return;
  if (from !== 'AVAILABLE' || (to !== 'CHECKED_IN' && to !== 'EXPIRED')) return;
  await rotateGeneratedPassword(ctx, tx, r.credentialId, `rotated when access request ${r.id} ended (${to.toLowerCase().replace('_', ' ')})`);
}

/** Persists time-driven transitions (the scheduler's and those found due when someone acts). */
async function applyTimed(ctx: Context, tx: TxClient, r: AccessRequest, timed: TimedTransition[], events: DomainEvent[]) {
  for (const t of timed) {
    await appendHistory(tx, r, { actorUserId: null, action: t.action, from: t.from, to: t.to, at: t.at });
    await appendAudit(tx, { ...ctx, actor: { userId: null, apiKeyId: null } }, {
      organizationId: r.organizationId,
      action: `access_request.${t.action.toLowerCase()}`,
      targetType: 'AccessRequest',
      targetId: r.id,
      data: { from: t.from, to: t.to, at: t.at.toISOString() },
    });
    events.push(eventOf(r, t.action, t.from, t.to, r.currentStep, t.at));
    await rotateIfDue(ctx, tx, r, t.from, t.to);
  }
}

function timedData(timed: TimedTransition[], r: AccessRequest, now: Date) {
  const data: { state?: RequestState; availableAt?: Date; closedAt?: Date } = {};
  for (const t of timed) {
    data.state = t.to;
    if (t.to === 'AVAILABLE' && !r.availableAt) data.availableAt = t.at;
    if (t.to === 'EXPIRED') data.closedAt = t.at;
  }
  if (data.closedAt && data.closedAt > now) data.closedAt = now;
  return data;
}

/** Applies one lifecycle event to one request: lock, decide (pure), persist, history, audit — one transaction. */
async function transition(ctx: Context, globalId: string, eventFor: LifecycleEvent | ((r: RequestWithDecisions) => LifecycleEvent)): Promise<Transitioned> {
  const id = localId(globalId, 'AccessRequest');
  const events: DomainEvent[] = [];
  const request = await ctx.db.$transaction(async (tx) => {
    const r = await lockAndLoad(ctx, tx, id);
    if (!r) throw new ForbiddenError();
    // An event that depends on the request (an approval that keeps part of its window) is made from the locked
    // row, never from an earlier read that a concurrent transition may have overtaken.
    const event = typeof eventFor === 'function' ? eventFor(r) : eventFor;
    const actor = actorFor(ctx, r, event);
    if (!actor) throw new ForbiddenError();
    const now = ctx.clock.now();
    const outcome = decide(factsOf(r), event, actor, now);
    if (!outcome.ok) throw refusalError(outcome.reason, outcome.state);
    if (event.type === 'APPROVE' || event.type === 'DENY') await assertStepUp(ctx, r.organizationId, tx);

    const data: Record<string, unknown> = { ...timedData(outcome.timed, r, now), updatedAt: now, currentStep: outcome.currentStep };
    if (outcome.to !== outcome.from) data.state = outcome.to;
    if (outcome.window) {
      data.startsAt = outcome.window.startsAt;
      data.endsAt = outcome.window.endsAt;
    }
    if (outcome.to === 'AVAILABLE' && outcome.from !== 'AVAILABLE') data.availableAt = now;
    if (TERMINAL_STATES.has(outcome.to) && outcome.from !== outcome.to) data.closedAt = now;
    if (outcome.reviewed) {
      data.reviewedAt = now;
      data.reviewedById = actor.userId;
      data.reviewComment = event.comment?.trim() || null;
    }
    const { count } = await tx.accessRequest.updateMany({ where: { id: r.id, version: r.version }, data: { ...data, version: { increment: 1 } } });
    if (count !== 1) throw new InvalidRequestStateError(outcome.from, 'The request changed meanwhile; reload it and try again.');
    await applyTimed(ctx, tx, r, outcome.timed, events);
    if (outcome.decision) {
      await tx.accessApproval.create({
        data: { requestId: r.id, step: outcome.decision.step, approverId: actor.userId, decision: outcome.decision.decision, comment: event.comment?.trim() || null, at: now },
      });
    }
    const comment = event.comment?.trim() || null;
    // Approval with the window already open reads as two steps: approved (by the approver), then started.
    const opensNow = outcome.to === 'AVAILABLE' && outcome.from === 'PENDING';
    await appendHistory(tx, r, { actorUserId: actor.userId, action: historyAction[outcome.action], comment, from: outcome.from, to: opensNow ? 'APPROVED' : outcome.to, at: now });
    if (outcome.action === 'STEP_APPROVED' && outcome.to === 'PENDING') {
      await appendHistory(tx, r, { actorUserId: null, action: 'STEP_COMPLETED', from: 'PENDING', to: 'PENDING', at: now });
    }
    if (opensNow) {
      await appendHistory(tx, r, { actorUserId: null, action: 'START', from: 'APPROVED', to: 'AVAILABLE', at: now });
    }
    await appendAudit(tx, ctx, {
      organizationId: r.organizationId,
      action: `access_request.${historyAction[outcome.action].toLowerCase()}`,
      targetType: 'AccessRequest',
      targetId: r.id,
      // currentStep: the step it waits for afterwards, so that a feed can tell a partial approval (same step) from one
      // that completed the step (approvalPending notifies the next step's approvers only then).
      data: { from: outcome.from, to: outcome.to, step: outcome.decision?.step ?? null, currentStep: outcome.currentStep, comment, window: outcome.window ? { startsAt: outcome.window.startsAt.toISOString(), endsAt: outcome.window.endsAt.toISOString() } : null },
    });
    if (outcome.to !== outcome.from || outcome.currentStep !== r.currentStep || outcome.reviewed) {
      events.push(eventOf(r, historyAction[outcome.action], outcome.from, outcome.to, outcome.currentStep, now));
    }
    await rotateIfDue(ctx, tx, r, outcome.from, outcome.to);
    return tx.accessRequest.findUniqueOrThrow({ where: { id: r.id }, include: { approvals: true } });
  });
  return { request, events };
}

/** Publishes after commit, never before: a subscriber that re-reads the request sees the new state. */
function publish(ctx: { events: AppDeps['events'] }, events: DomainEvent[]) {
  for (const e of events) ctx.events.publish(e);
}

async function run(ctx: Context, globalId: string, event: LifecycleEvent | ((r: RequestWithDecisions) => LifecycleEvent)) {
  const { request, events } = await transition(ctx, globalId, event);
  publish(ctx, events);
  return request;
}

const commentSchema = z.object({ comment: text(2000).nullish() });
const parseComment = (comment: string | null | undefined) => parseInput(commentSchema, { comment: comment?.trim() ? comment : null }).comment ?? null;

export async function approveAccessRequest(ctx: Context, input: { id: string; comment?: string | null; startsAt?: Date | null; durationMinutes?: number | null }) {
  const comment = parseComment(input.comment);
  if (input.durationMinutes != null && (!Number.isInteger(input.durationMinutes) || input.durationMinutes < 1 || input.durationMinutes > MAX_WINDOW_MINUTES)) {
    throw ValidationError.field('input.durationMinutes', `must be a whole number of minutes from 1 to ${MAX_WINDOW_MINUTES}`);
  }
  if (!input.startsAt && !input.durationMinutes) return run(ctx, input.id, { type: 'APPROVE', comment, window: null });
  // What the approver leaves unchanged (the start, or the length) is taken from the request as locked by the
  // transition, in its transaction: a window read before it could be one another approver has changed since.
  return run(ctx, input.id, (current) => {
    const minutes = input.durationMinutes ?? Math.round((current.endsAt.getTime() - current.startsAt.getTime()) / 60_000);
    const startsAt = input.startsAt ?? current.startsAt;
    return { type: 'APPROVE', comment, window: { startsAt, endsAt: new Date(startsAt.getTime() + minutes * 60_000) } };
  });
}

export const denyAccessRequest = (ctx: Context, input: { id: string; comment?: string | null }) =>
  run(ctx, input.id, { type: 'DENY', comment: parseComment(input.comment) });
export const revokeAccessRequest = (ctx: Context, input: { id: string; comment?: string | null }) =>
  run(ctx, input.id, { type: 'REVOKE', comment: parseComment(input.comment) });
export const cancelAccessRequest = (ctx: Context, input: { id: string; comment?: string | null }) =>
  run(ctx, input.id, { type: 'CANCEL', comment: parseComment(input.comment) });
export const checkInAccessRequest = (ctx: Context, input: { id: string; comment?: string | null }) =>
  run(ctx, input.id, { type: 'CHECK_IN', comment: parseComment(input.comment) });
export const reviewAccessRequest = (ctx: Context, input: { id: string; comment?: string | null }) =>
  run(ctx, input.id, { type: 'REVIEW', comment: parseComment(input.comment) });

export type BulkItem = { id: string; request: RequestWithDecisions | null; error: Error | null };

/** Applies an action to each request on its own: some may be refused (typed, per item) while the rest succeed. */
export async function bulk(ids: string[], one: (id: string) => Promise<RequestWithDecisions>): Promise<BulkItem[]> {
  if (ids.length === 0 || ids.length > 100) throw ValidationError.field('input.ids', 'give from 1 to 100 ids');
  const out: BulkItem[] = [];
  for (const id of [...new Set(ids)]) {
    try {
      out.push({ id, request: await one(id), error: null });
    } catch (error) {
      if (error instanceof DomainError) out.push({ id, request: null, error });
      else if (error instanceof ForbiddenError) out.push({ id, request: null, error: new AccessRequestNotFoundError() });
      else throw error;
    }
  }
  return out;
}

/** In a bulk result: the request does not exist or the viewer may not see it (the same answer for both). */
export class AccessRequestNotFoundError extends DomainError {
  override name = 'AccessRequestNotFoundError';
  constructor() {
    super('Not found, or not allowed.');
  }
}

// --- asking ---

const requestInput = z.object({
  reason: text(2000).nullish(),
  ticketNumber: text(TICKET_MAX).nullish(),
  durationMinutes: z.number().int().min(1).max(MAX_WINDOW_MINUTES).nullish(),
  fields: z.array(z.enum(['PASSWORD', 'OTP_CODE', 'API_KEY_SECRET', 'SSH_PRIVATE_KEY', 'PASSPHRASE'])).min(1).max(5).nullish(),
});

/** Which fields a credential of each kind can have released. */
const FIELDS_BY_KIND: Record<string, ReleasableField[]> = {
  PASSWORD: ['PASSWORD', 'OTP_CODE'],
  API_KEY: ['API_KEY_SECRET'],
  SSH_KEY: ['SSH_PRIVATE_KEY', 'PASSPHRASE'],
};

/**
 * The whole ticket number against the policy's pattern, on the linear-time engine. A pattern saved before RE2 was
 * required and that RE2 refuses matches nothing (fail closed): a manager saves the policy again to fix it.
 */
function ticketMatches(pattern: string, ticket: string): boolean {
  try {
    return matchesWhole(pattern, ticket);
  } catch (error) {
    if (error instanceof UserPatternError) return false;
    throw error;
  }
}

function checkRules(
  policy: ParsedPolicy,
  credential: Credential,
  input: { reason: string | null; ticketNumber: string | null; durationMinutes: number; fields: ReleasableField[] | null },
  requestType: AccessRequestType = 'FIELD_RELEASE',
): ReleasableField[] {
  if (policy.reasonRequired && !input.reason) throw new PolicyViolationError('REASON_REQUIRED', 'The policy requires a reason.');
  if (policy.ticketRequired && !input.ticketNumber) throw new PolicyViolationError('TICKET_REQUIRED', 'The policy requires a ticket number.');
  if (input.ticketNumber && policy.ticketPattern && !ticketMatches(policy.ticketPattern, input.ticketNumber)) {
    throw new PolicyViolationError('TICKET_PATTERN', 'The ticket number does not have the form the policy requires.');
  }
  if (input.durationMinutes > policy.maxDurationMinutes) {
    throw new PolicyViolationError('DURATION_TOO_LONG', `The policy allows at most ${policy.maxDurationMinutes} minutes.`);
  }
  if (requestType === 'SESSION') {
    // A session never releases the secret: the proxy uses it and nobody sees it.
    if (input.fields) throw new PolicyViolationError('FIELD_NOT_RELEASABLE', 'A session request releases no field.');
    if (!credential.assetId || !['PASSWORD', 'SSH_KEY'].includes(credential.kind) || !credential.username) {
      throw new PolicyViolationError('NOT_AN_ASSET_ACCOUNT', 'Sessions need a credential that is an account of an asset.');
    }
    return [];
  }
  const possible = FIELDS_BY_KIND[credential.kind].filter((f) => policy.releasableFields.includes(f));
  if (!input.fields) {
    if (possible.length === 0) throw new PolicyViolationError('FIELD_NOT_RELEASABLE', 'The policy releases no field of this credential.');
    return possible;
  }
  const refused = input.fields.find((f) => !possible.includes(f));
  if (refused) throw new PolicyViolationError('FIELD_NOT_RELEASABLE', `The policy does not release ${refused} of this credential.`);
  return [...new Set(input.fields)];
}

type NewRequest = {
  credentialId: string;
  policyId?: string | null;
  /** FIELD_RELEASE (default) or SESSION. */
  type?: AccessRequestType | null;
  fields?: ReleasableField[] | null;
  reason?: string | null;
  ticketNumber?: string | null;
  startsAt?: Date | null;
  durationMinutes?: number | null;
};

async function createRequest(ctx: Context, tx: TxClient, input: NewRequest, resubmittedFromId: string | null, events: DomainEvent[]) {
  const credential = await loadVisibleCredential(ctx, tx, input.credentialId);
  // Held until commit, so that deleteCredential (FOR UPDATE, then its check for open requests) either sees this
  // request or has already deleted the credential — never deletes it from under a request it did not see.
  if (ctx.config.databaseProvider === 'postgresql') {
    const held = await tx.$queryRaw<{ id: string }[]>`SELECT "id" FROM "Credential" WHERE "id" = ${credential.id} FOR KEY SHARE`;
    if (held.length === 0) throw new ForbiddenError();
  }
  ctx.policy.assert('accessRequest:create', { organizationId: credential.organizationId });
  const actor = actorIn(ctx, credential.organizationId)!;
  if (!credential.restricted) throw new PolicyViolationError('NOT_RESTRICTED', 'This credential is not restricted: reveal it directly.');
  if (credential.archivedAt) throw new PolicyViolationError('CREDENTIAL_ARCHIVED', 'This credential is archived.');
  const data = parseInput(requestInput, { reason: input.reason?.trim() ? input.reason : null, ticketNumber: input.ticketNumber?.trim() ? input.ticketNumber : null, durationMinutes: input.durationMinutes, fields: input.fields });
  const policyId = input.policyId ? localId(input.policyId, 'AccessPolicy') : null;
  const requestType = input.type ?? 'FIELD_RELEASE';
  const policy = await choosePolicy(tx, credential, actor, policyId, requestType);
  const durationMinutes = data.durationMinutes ?? policy.defaultDurationMinutes;
  const fields = checkRules(policy, credential, { reason: data.reason ?? null, ticketNumber: data.ticketNumber ?? null, durationMinutes, fields: data.fields ?? null }, requestType);
  const now = ctx.clock.now();
  const startsAt = input.startsAt ?? now;
  if (startsAt.getTime() < now.getTime() - 60_000) throw new PolicyViolationError('START_IN_PAST', 'The window cannot start in the past.');
  if (startsAt.getTime() > now.getTime() + 365 * 86_400_000) throw ValidationError.field('input.startsAt', 'must be within a year');
  const window = { startsAt, endsAt: new Date(startsAt.getTime() + durationMinutes * 60_000) };
  const pendingLimit = new Date(Math.min(now.getTime() + policy.pendingTimeoutMinutes * 60_000, window.endsAt.getTime()));
  const state = initialState(policy.steps, window, now);
  const r = await tx.accessRequest.create({
    data: {
      organizationId: credential.organizationId,
      credentialId: credential.id,
      credentialName: credential.name,
      policyId: policy.id,
      policySnapshot: JSON.stringify(snapshotOf(policy)),
      requesterId: actor.userId,
      fields: JSON.stringify(fields),
      requestType,
      reason: data.reason ?? null,
      ticketNumber: data.ticketNumber ?? null,
      state,
      startsAt: window.startsAt,
      endsAt: window.endsAt,
      pendingExpiresAt: pendingLimit,
      availableAt: state === 'AVAILABLE' ? now : null,
      reviewRequired: policy.reviewRequired,
      resubmittedFromId,
      createdAt: now,
      updatedAt: now,
    },
  });
  await tx.accessRequestParticipant.createMany({ data: participantRows(r, snapshotOf(policy)) });
  await appendHistory(tx, r, { actorUserId: actor.userId, action: resubmittedFromId ? 'RESUBMIT' : 'REQUEST', comment: data.reason ?? null, from: null, to: 'PENDING', at: now });
  if (state !== 'PENDING') {
    await appendHistory(tx, r, { actorUserId: null, action: 'AUTO_APPROVE', from: 'PENDING', to: state === 'EXPIRED' ? 'EXPIRED' : 'APPROVED', at: now });
    if (state === 'AVAILABLE') await appendHistory(tx, r, { actorUserId: null, action: 'START', from: 'APPROVED', to: 'AVAILABLE', at: now });
  }
  await appendAudit(tx, ctx, {
    organizationId: r.organizationId,
    action: resubmittedFromId ? 'access_request.resubmit' : 'access_request.create',
    targetType: 'AccessRequest',
    targetId: r.id,
    data: { credentialId: credential.id, policyId: policy.id, requestType, fields, state, startsAt: window.startsAt.toISOString(), endsAt: window.endsAt.toISOString(), ticketNumber: r.ticketNumber, resubmittedFromId },
  });
  events.push(eventOf(r, resubmittedFromId ? 'RESUBMIT' : 'REQUEST', null, state, 0, now));
  return tx.accessRequest.findUniqueOrThrow({ where: { id: r.id }, include: { approvals: true } });
}

export async function requestAccess(ctx: Context, input: NewRequest) {
  const events: DomainEvent[] = [];
  const request = await ctx.db.$transaction((tx) => createRequest(ctx, tx, input, null, events));
  publish(ctx, events);
  return request;
}

/** A new request from a denied, revoked or expired one (same credential, fields, reason, ticket), linked to it. */
export async function resubmitAccessRequest(ctx: Context, input: { id: string; reason?: string | null; ticketNumber?: string | null; startsAt?: Date | null; durationMinutes?: number | null }) {
  const events: DomainEvent[] = [];
  const request = await ctx.db.$transaction(async (tx) => {
    const old = await loadVisibleRequest(ctx, tx, input.id);
    if (old.requesterId !== ctx.policy.userId) throw new NotApproverError('Only the requester can resubmit a request.');
    const state = stateAt(old, ctx.clock.now());
    if (!canResubmit(state)) throw new InvalidRequestStateError(state, 'Only denied, revoked or expired requests can be resubmitted.');
    if (!old.credentialId) throw new InvalidRequestStateError(state, 'The credential of this request no longer exists.');
    const minutes = Math.round((old.endsAt.getTime() - old.startsAt.getTime()) / 60_000);
    return createRequest(
      ctx,
      tx,
      {
        credentialId: encodeGlobalID('Credential', old.credentialId),
        type: old.requestType as AccessRequestType,
        fields: old.requestType === 'SESSION' ? null : fieldsOfRow(old),
        reason: input.reason ?? old.reason,
        ticketNumber: input.ticketNumber ?? old.ticketNumber,
        startsAt: input.startsAt ?? null,
        durationMinutes: input.durationMinutes ?? minutes,
        policyId: null,
      },
      old.id,
      events,
    );
  });
  publish(ctx, events);
  return request;
}

/** Hides a finished request from its requester's list; the record, its history and audit stay. */
export async function removeAccessRequest(ctx: Context, input: { id: string }) {
  return ctx.db.$transaction(async (tx) => {
    const r = await loadVisibleRequest(ctx, tx, input.id);
    if (r.requesterId !== ctx.policy.userId) throw new NotApproverError('Only the requester can remove a request from their list.');
    const state = stateAt(r, ctx.clock.now());
    if (!canRemove(state)) throw new InvalidRequestStateError(state, 'Only finished requests can be removed from the list.');
    await tx.accessRequest.update({ where: { id: r.id }, data: { hiddenByRequester: true } });
    return tx.accessRequest.findUniqueOrThrow({ where: { id: r.id }, include: { approvals: true } });
  });
}

// --- releasing secrets ---

/**
 * The request that releases `field` of a restricted credential to the viewer now, or null. Decided by the
 * request's times, not by whether the scheduler has caught up: a window that has closed releases nothing.
 */
export async function releasingRequest(ctx: Context, tx: TxClient, credential: Credential, field: ReleasableField): Promise<AccessRequest | null> {
  const userId = ctx.policy.userId;
  if (!userId) return null;
  // A reveal must not commit after a revoke or check-in that it raced: on PostgreSQL (READ COMMITTED) the rows are
  // share-locked first, so an uncommitted transition is waited for (and its result read below), and a later one
  // waits until this reveal has committed. SQLite serialises its transactions.
  if (ctx.config.databaseProvider === 'postgresql') {
    await tx.$queryRaw`SELECT "id" FROM "AccessRequest" WHERE "credentialId" = ${credential.id} AND "requesterId" = ${userId} AND "state" IN ('APPROVED', 'AVAILABLE') FOR SHARE`;
  }
  const now = ctx.clock.now();
  const candidates = await tx.accessRequest.findMany({
    where: { credentialId: credential.id, requesterId: userId, state: { in: ['APPROVED', 'AVAILABLE'] }, startsAt: { lte: now }, endsAt: { gt: now } },
    orderBy: { endsAt: 'desc' },
  });
  return candidates.find((r) => fieldsOfRow(r).includes(field)) ?? null;
}

// --- the clock ---

/**
 * Persists every time-driven transition that is due: exactly once, even with several instances on one
 * database, because each is a conditional update on the row's version and only its winner writes history,
 * audit and the event. Returns how many requests moved.
 */
export async function runDueTransitions(deps: AppDeps, batch = 200): Promise<number> {
  let total = 0;
  for (;;) {
    const { found, moved } = await runDueBatch(deps, batch);
    total += moved;
    // A full batch may have more behind it (a restart after long downtime); stop when a batch moves nothing.
    if (found < batch || moved === 0) return total;
  }
}

async function runDueBatch(deps: AppDeps, limit: number): Promise<{ found: number; moved: number }> {
  const now = deps.clock.now();
  const due = await deps.db.accessRequest.findMany({
    where: {
      OR: [
        { state: 'PENDING', pendingExpiresAt: { lte: now } },
        { state: 'APPROVED', startsAt: { lte: now } },
        { state: 'AVAILABLE', endsAt: { lte: now } },
      ],
    },
    select: { id: true, version: true },
    orderBy: { startsAt: 'asc' },
    take: limit,
  });
  const ctx = systemContext(deps);
  let moved = 0;
  for (const { id, version } of due) {
    const events: DomainEvent[] = [];
    const done = await deps.db.$transaction(async (tx) => {
      const r = await tx.accessRequest.findUnique({ where: { id } });
      if (!r || r.version !== version) return false;
      const timed = dueTransitions({ state: r.state as RequestState, startsAt: r.startsAt, endsAt: r.endsAt, pendingExpiresAt: r.pendingExpiresAt }, now);
      if (timed.length === 0) return false;
      const { count } = await tx.accessRequest.updateMany({ where: { id, version }, data: { ...timedData(timed, r, now), version: { increment: 1 }, updatedAt: now } });
      if (count !== 1) return false;
      await applyTimed(ctx, tx, r, timed, events);
      return true;
    });
    if (done) {
      moved++;
      publish(deps, events);
      announceAppended(ctx);
    }
  }
  return { found: due.length, moved };
}

/** Runs due transitions now, then every interval; stop() waits for a run in progress. */
export function startScheduler(deps: AppDeps, intervalMs: number): { stop(): Promise<void>; runNow(): Promise<number> } {
  let running: Promise<number> = Promise.resolve(0);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const runNow = () => {
    running = running.then(
      () => runDueTransitions(deps),
      () => runDueTransitions(deps),
    );
    running.catch((error) => deps.logger.error({ err: error }, 'access-request scheduler run failed'));
    return running;
  };
  // Real time, not the injected clock: lag is about this process keeping up, not about domain time.
  let dueAt = performance.now();
  const loop = () => {
    if (stopped) return;
    const startedAt = performance.now();
    void runNow()
      .catch(() => 0)
      .finally(() => {
        recordSchedulerRun((startedAt - dueAt) / 1000, (performance.now() - startedAt) / 1000);
        dueAt = performance.now() + intervalMs;
        if (!stopped && intervalMs > 0) timer = setTimeout(loop, intervalMs);
      });
  };
  loop();
  return {
    runNow,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running.catch(() => 0);
    },
  };
}

export type { RequestState };

// --- queries ---

const releasedByContext = new WeakMap<Context, Promise<Map<string, Set<string>>>>();

/**
 * The fields each restricted credential currently releases to the viewer, loaded once per request (so that
 * `viewerCanReveal` on a list costs one query, not one per credential).
 */
export function releasedFields(ctx: Context): Promise<Map<string, Set<string>>> {
  let loaded = releasedByContext.get(ctx);
  if (!loaded) {
    const userId = ctx.policy.userId;
    const now = ctx.clock.now();
    loaded = userId
      ? ctx.db.accessRequest
          .findMany({ where: { requesterId: userId, credentialId: { not: null }, state: { in: ['APPROVED', 'AVAILABLE'] }, startsAt: { lte: now }, endsAt: { gt: now } }, select: { credentialId: true, fields: true } })
          .then((rows) => {
            const map = new Map<string, Set<string>>();
            for (const r of rows) {
              const set = map.get(r.credentialId!) ?? new Set<string>();
              for (const f of JSON.parse(r.fields) as string[]) set.add(f);
              map.set(r.credentialId!, set);
            }
            return map;
          })
      : Promise.resolve(new Map());
    releasedByContext.set(ctx, loaded);
  }
  return loaded;
}

/**
 * A work queue as a Prisma filter: requests of the organizations where the viewer may decide, that they may see,
 * and that the lifecycle's SQL projection says they could act on now (`approvableWhere` / `reviewableWhere`, the
 * same rules as `decide`). Filtered entirely in the database, so a queue pages through every actionable request
 * however many others there are. Null when the viewer is no user (API keys never decide).
 */
function queueWhere(ctx: Context, organizationId: string | null, kind: 'approve' | 'review'): Prisma.AccessRequestWhereInput | null {
  const p = ctx.policy.principal;
  if (p.kind !== 'user') return null;
  const orgs = ctx.policy.organizationIds('accessRequest:decide').filter((o) => !organizationId || o === organizationId);
  const viewer = { userId: p.userId, memberships: p.memberships };
  const now = ctx.clock.now();
  const actionable = kind === 'approve' ? approvableWhere(viewer, now) : reviewableWhere(viewer, now);
  return { organizationId: { in: orgs }, AND: [actionable, visibleRequestWhere(ctx)] };
}

/** Pending requests the viewer can decide now (approver of the current step, not the requester, not yet decided). */
export const approvalQueueWhere = (ctx: Context, organizationId: string | null) => queueWhere(ctx, organizationId, 'approve');
/** Finished requests that wait for a review the viewer may give. */
export const reviewQueueWhere = (ctx: Context, organizationId: string | null) => queueWhere(ctx, organizationId, 'review');

/** A queue's position: its sort key (oldest first) and the id, so paging survives rows leaving the queue. */
export type QueueKey = { createdAt: Date; id: string };

export function encodeQueueCursor(r: QueueKey): string {
  return Buffer.from(`q1:${r.createdAt.getTime()}:${r.id}`, 'utf8').toString('base64url');
}

/** The key in a queue cursor; a cursor that is not one is a client error, never a lookup of some row. */
export function decodeQueueCursor(cursor: string): QueueKey {
  const match = cursor.length <= 200 ? /^q1:(\d{1,15}):([0-9a-f-]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8')) : null;
  if (!match) throw new GraphQLError('The cursor is not valid: pass a cursor exactly as an edge of this list gave it.', { extensions: { code: 'BAD_USER_INPUT' } });
  return { createdAt: new Date(Number(match[1])), id: match[2] };
}

/**
 * One page of a queue, keyset-paged on (createdAt, id): the cursor carries the key itself, so nothing is looked
 * up by it — a cursor of a request that has since been approved, or of another tenant's request, pages exactly
 * as its key says and reveals nothing.
 */
export async function queuePage(ctx: Context, where: Prisma.AccessRequestWhereInput | null, page: { after?: string; before?: string; limit: number; inverted: boolean }): Promise<RequestWithDecisions[]> {
  if (!where) return [];
  const and: Prisma.AccessRequestWhereInput[] = [where];
  const after = page.after ? decodeQueueCursor(page.after) : null;
  const before = page.before ? decodeQueueCursor(page.before) : null;
  if (after) and.push({ OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] });
  if (before) and.push({ OR: [{ createdAt: { lt: before.createdAt } }, { createdAt: before.createdAt, id: { lt: before.id } }] });
  const direction = page.inverted ? 'desc' : 'asc';
  return ctx.db.accessRequest.findMany({ where: { AND: and }, include: { approvals: true }, orderBy: [{ createdAt: direction }, { id: direction }], take: page.limit });
}

export const queueCount = (ctx: Context, where: Prisma.AccessRequestWhereInput | null): Promise<number> =>
  where ? ctx.db.accessRequest.count({ where }) : Promise.resolve(0);
