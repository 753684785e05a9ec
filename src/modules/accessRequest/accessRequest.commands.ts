import { encodeGlobalID } from '@pothos/plugin-relay';
import { z } from 'zod';
import type { AppDeps, Context } from '../../context.ts';
import type { TxClient } from '../../db/client.ts';
import type { AccessRequest, Credential } from '../../generated/prisma-sqlite/client.ts';
import type { Role } from '../../generated/prisma-sqlite/enums.ts';
import { DomainError, ForbiddenError, ValidationError } from '../../lib/errors.ts';
import type { DomainEvent } from '../../lib/events.ts';
import { localId } from '../../lib/ids.ts';
import { matchesWhole, UserPatternError } from '../../lib/userPattern.ts';
import { parseInput, text } from '../../lib/validate.ts';
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
import { appendAudit } from '../audit/audit.chain.ts';
import { assertStepUp } from '../auth/mfa.service.ts';
import { loadVisibleCredential, rotateGeneratedPassword } from '../credential/credential.service.ts';
import {
  canRemove,
  canResubmit,
  decide,
  historyAction,
  initialState,
  newRequestHistory,
  outcomeHistory,
  TERMINAL_STATES,
  type LifecycleEvent,
  type RequestState,
  type TimedTransition,
} from './accessRequest.state.ts';
import { AccessRequestNotFoundError, InvalidRequestStateError, NotApproverError, refusalError } from './accessRequest.errors.ts';
import { targetOf } from '../target/target.service.ts';
import {
  actorFor,
  actorIn,
  factsOf,
  fieldsOfRow,
  loadVisibleRequest,
  snapshotOfRow,
  stateAt,
  type RequestWithDecisions,
} from './accessRequest.queries.ts';

// Changing access requests: every lifecycle event a person causes, and a new request, each in one transaction
// with its history, audit entry and events (published after commit). The rules are accessRequest.state.ts's.

// --- persisting transitions ---

type Transitioned = { request: RequestWithDecisions; events: DomainEvent[] };

/**
 * Takes the request's row lock before reading it — only when the caller may see the request: visibility is part
 * of the locking write's where clause, so an id of another tenant's request (or any id the caller may not see)
 * matches no row, locks nothing and answers exactly like a missing id. The version bump is a write, so on
 * PostgreSQL concurrent transitions of one request queue here and each reads what the previous one committed (50
 * parallel approvals count to exactly 50); SQLite serialises writers anyway. The final update is still
 * conditional on the version.
 */
async function lockAndLoad(ctx: Context, tx: TxClient, id: string): Promise<RequestWithDecisions | null> {
  const { count } = await tx.accessRequest.updateMany({ where: { id, AND: [ctx.policy.readable('AccessRequest')] }, data: { version: { increment: 1 } } });
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


/**
 * When a checked-out request ends (checked in, or expired after being available) under a rotate-on-check-in
 * policy, the credential gets a freshly generated password as a new version.
 */
async function rotateIfDue(ctx: Context, tx: TxClient, r: AccessRequest, from: RequestState, to: RequestState) {
  const snapshot = snapshotOfRow(r);
  if (!r.credentialId || from !== 'AVAILABLE' || (to !== 'CHECKED_IN' && to !== 'EXPIRED')) return;
  if (snapshot.changeOnTargetAfterCheckIn) {
    // Network I/O stays outside this transaction: the change is flagged here (idempotent) and made by the
    // scheduler's next run (runDueTargetChanges), which also retries it. A vault-only rotation would now leave
    // the vault disagreeing with the target, so it is not done for credentials with a target.
    const credential = await tx.credential.findUnique({ where: { id: r.credentialId }, include: { asset: true } });
    if (credential && !credential.archivedAt && targetOf(credential)) {
      await tx.credential.update({ where: { id: credential.id }, data: { targetStatus: 'CHANGE_DUE', targetCheckedAt: null } });
      return;
    }
  }
  if (!snapshot.rotateOnCheckIn) return;
  await rotateGeneratedPassword(ctx, tx, r.credentialId, `rotated when access request ${r.id} ended (${to.toLowerCase().replace('_', ' ')})`);
}

/** Persists time-driven transitions (the scheduler's and those found due when someone acts). */
export async function applyTimed(ctx: Context, tx: TxClient, r: AccessRequest, timed: TimedTransition[], events: DomainEvent[]) {
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

export function timedData(timed: TimedTransition[], r: AccessRequest, now: Date) {
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
    for (const h of outcomeHistory(outcome)) {
      await appendHistory(tx, r, { actorUserId: h.byActor ? actor.userId : null, action: h.action, comment: h.byActor ? comment : null, from: h.from, to: h.to, at: now });
    }
    await appendAudit(tx, ctx, {
      organizationId: r.organizationId,
      action: `access_request.${historyAction(outcome.action).toLowerCase()}`,
      targetType: 'AccessRequest',
      targetId: r.id,
      // currentStep: the step it waits for afterwards, so that a feed can tell a partial approval (same step) from one
      // that completed the step (approvalPending notifies the next step's approvers only then).
      data: { from: outcome.from, to: outcome.to, step: outcome.decision?.step ?? null, currentStep: outcome.currentStep, comment, window: outcome.window ? { startsAt: outcome.window.startsAt.toISOString(), endsAt: outcome.window.endsAt.toISOString() } : null },
    });
    if (outcome.to !== outcome.from || outcome.currentStep !== r.currentStep || outcome.reviewed) {
      events.push(eventOf(r, historyAction(outcome.action), outcome.from, outcome.to, outcome.currentStep, now));
    }
    await rotateIfDue(ctx, tx, r, outcome.from, outcome.to);
    return tx.accessRequest.findUniqueOrThrow({ where: { id: r.id }, include: { approvals: true } });
  });
  return { request, events };
}

/** Publishes after commit, never before: a subscriber that re-reads the request sees the new state. */
export function publish(ctx: { events: AppDeps['events'] }, events: DomainEvent[]) {
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

// --- asking ---

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
  for (const h of newRequestHistory(state, resubmittedFromId !== null)) {
    await appendHistory(tx, r, { actorUserId: h.byActor ? actor.userId : null, action: h.action, comment: h.byActor ? (data.reason ?? null) : null, from: h.from, to: h.to, at: now });
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
