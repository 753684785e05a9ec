import { GraphQLError } from 'graphql';
import type { Context } from '../../context.ts';
import type { TxClient } from '../../db/client.ts';
import type { AccessApproval, AccessRequest, Credential, Prisma } from '../../generated/prisma-sqlite/client.ts';
import { ForbiddenError } from '../../lib/errors.ts';
import { localId } from '../../lib/ids.ts';
import type { PolicySnapshot, ReleasableField } from '../accessPolicy/accessPolicy.service.ts';
import {
  approvableWhere,
  decide,
  effectiveState,
  reviewableWhere,
  type Actor,
  type LifecycleEvent,
  type RequestFacts,
  type RequestState,
} from './accessRequest.state.ts';

// Reading access requests: their facts for the lifecycle, what the viewer could do, what they release, the
// work queues. No writes.

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

export const actorIn = (ctx: Context, organizationId: string): Actor | null =>
  ctx.policy.userId ? { userId: ctx.policy.userId, role: ctx.policy.roleIn(organizationId) } : null;

export async function loadVisibleRequest(ctx: Context, tx: TxClient, globalId: string): Promise<RequestWithDecisions> {
  const r = await tx.accessRequest.findFirst({ where: { id: localId(globalId, 'AccessRequest'), AND: [ctx.policy.readable('AccessRequest')] }, include: { approvals: true } });
  if (!r) throw new ForbiddenError();
  return r;
}


/**
 * The viewer as an actor on this request for this event, or null when the organization's roles rule them out
 * before the lifecycle is asked: cancelling and checking in are the requester's; everything else needs
 * `accessRequest:decide` (and the policy naming them, which the lifecycle checks).
 */
export function actorFor(ctx: Context, r: AccessRequest, event: LifecycleEvent): Actor | null {
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
  return { organizationId: { in: orgs }, AND: [actionable, ctx.policy.readable('AccessRequest')] };
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

export type { RequestState };
