import { builder } from '../../graphql/builder.ts';
import type { Context } from '../../context.ts';
import { localId } from '../../lib/ids.ts';
import type { Policy } from '../../policy/policy.ts';
import type { AccessRecord, AuditEvent } from '../../generated/prisma-sqlite/client.ts';
import { AccessRecordRef, AccessSurfaceEnum, CredentialNode } from '../credential/credential.types.ts';
import { ACCESS_SURFACES } from '../credential/reveal.service.ts';
import { UserNode } from '../user/user.schema.ts';
import { AccessRequestNode } from '../accessRequest/accessRequest.types.ts';
import { viewerCan, type RequestWithDecisions } from '../accessRequest/accessRequest.queries.ts';
import { AccessSessionNode } from '../accessSession/accessSession.schema.ts';
import type { AccessSession } from '../../generated/prisma-sqlite/client.ts';
import { auditFeed, decodeCursor, perDelivery, type FeedItem } from './feed.ts';

builder.subscriptionType({
  description:
    'Live events over WebSocket (graphql-ws, same path). Every event carries a `cursor`: subscribe again with `after: cursor` to replay what was missed (from the audit log) and continue live, without gaps or duplicates — also across server restarts.',
});

/** The subscriber's context with the policy of this delivery (re-authenticated per batch of events). */
const asOf = (ctx: Context, policy: Policy): Context => ({ ...ctx, policy });

// Rows are shared by the subscribers an event wakes (feed.ts): their data is parsed once, not once each.
const parsed = new WeakMap<AuditEvent, Record<string, unknown>>();
const dataOf = (row: AuditEvent): Record<string, unknown> => {
  let data = parsed.get(row);
  if (!data) {
    try {
      data = JSON.parse(row.data) as Record<string, unknown>;
    } catch {
      data = {};
    }
    parsed.set(row, data);
  }
  return data;
};

const followed = (ctx: Context, action: Parameters<Policy['organizationIds']>[0], organizationId: string | number | null | undefined) => {
  const orgs = ctx.policy.organizationIds(action);
  if (organizationId == null) return orgs;
  const wanted = localId(String(organizationId), 'Organization');
  return orgs.filter((o) => o === wanted);
};

// --- passwordAccessed ---

type AccessEvent = { record: AccessRecord; policy: Policy };

const PasswordAccessEvent = builder.objectRef<FeedItem<AccessEvent>>('PasswordAccessEvent').implement({
  description: 'A secret left the vault: a reveal, copy, export or old-version reveal. Who, what, which field, when and from where — never the secret.',
  fields: (t) => ({
    cursor: t.string({ description: 'Resume after this event with `after: cursor`.', resolve: (e) => e.cursor }),
    accessRecord: t.field({ type: AccessRecordRef, description: 'The access record.', resolve: (e) => e.item.record }),
    // A prismaField, so the row is read with the columns the selection needs and its fields resolve from it:
    // as a plain field, Credential's select mode had each subscriber's context load `name` & co. again through
    // Pothos's per-context loader (one more query, compiled anew, per subscriber and event).
    credential: t.prismaField({
      type: CredentialNode,
      nullable: true,
      description: 'The credential (metadata); null once deleted.',
      resolve: (query, e, _a, ctx) => {
        const { record, policy } = e.item;
        if (!record.credentialId) return null;
        const id = record.credentialId;
        // Shared only between subscribers asking for the same columns.
        return perDelivery(policy, `credential:${record.id}:${JSON.stringify(query)}`, () =>
          ctx.db.credential.findFirst({ ...query, where: { id, AND: [policy.readable('Credential')] } }),
        );
      },
    }),
    actor: t.field({
      type: UserNode,
      nullable: true,
      description: 'Who accessed it; null for API keys.',
      resolve: (e, _a, ctx) => {
        const { record, policy } = e.item;
        if (!record.actorUserId) return null;
        const id = record.actorUserId;
        return perDelivery(policy, `actor:${record.id}`, () => ctx.db.user.findFirst({ where: { id, AND: [policy.readable('User')] } }));
      },
    }),
  }),
});

const PasswordAccessFilter = builder.inputType('PasswordAccessFilter', {
  description: 'Which accesses to receive; all given conditions must match.',
  fields: (t) => ({
    organizationId: t.id({ description: 'Only this organization (default: every organization where the viewer may watch).' }),
    credentialId: t.id({ description: 'Only this credential.' }),
    categoryIds: t.idList({ description: 'Only credentials in one of these categories.' }),
    actorId: t.id({ description: 'Only accesses by this user.' }),
    surfaces: t.field({ type: [AccessSurfaceEnum], description: 'Only these surfaces.' }),
  }),
});

// --- access requests ---

type RequestEvent = { request: RequestWithDecisions; action: string; from: string | null; to: string | null };

const AccessRequestEventRef = builder.objectRef<FeedItem<RequestEvent>>('AccessRequestEvent').implement({
  description: 'A transition of an access request (ids re-read for the subscriber: never more than they may see).',
  fields: (t) => ({
    cursor: t.string({ description: 'Resume after this event with `after: cursor`.', resolve: (e) => e.cursor }),
    action: t.string({ description: 'What happened, e.g. access_request.approve, access_request.start.', resolve: (e) => e.item.action }),
    fromState: t.string({ nullable: true, description: 'The state before (null for a new request).', resolve: (e) => e.item.from }),
    toState: t.string({ nullable: true, description: 'The state after.', resolve: (e) => e.item.to }),
    accessRequest: t.field({ type: AccessRequestNode, description: 'The request as it is now.', resolve: (e) => e.item.request }),
  }),
});

async function requestOf(ctx: Context, policy: Policy, row: AuditEvent): Promise<RequestEvent | null> {
  if (row.targetType !== 'AccessRequest' || !row.targetId || !row.action.startsWith('access_request.')) return null;
  const id = row.targetId;
  const request = await perDelivery(policy, `request:${row.chain}:${row.seq}`, () =>
    ctx.db.accessRequest.findFirst({ where: { id, AND: [policy.readable('AccessRequest')] }, include: { approvals: true } }),
  );
  if (!request) return null;
  const data = dataOf(row);
  const to = typeof data.to === 'string' ? data.to : typeof data.state === 'string' ? data.state : null;
  return { request, action: row.action, from: typeof data.from === 'string' ? data.from : null, to };
}

/**
 * The step an audit entry put a request on, when that makes it new to that step's approvers: a new or resubmitted
 * request (step 0), or an approval that completed a step (the entry records the step decided and the step it
 * waits for afterwards). A partial approval within a step is news to nobody: the others were told when the
 * step began. Null for every other entry (including approvals recorded before `currentStep` was).
 */
function pendingStepOf(row: AuditEvent): number | null {
  if (row.action === 'access_request.create' || row.action === 'access_request.resubmit') return 0;
  if (row.action !== 'access_request.approve') return null;
  const data = dataOf(row);
  if (typeof data.currentStep !== 'number' || typeof data.step !== 'number' || data.currentStep === data.step) return null;
  return data.currentStep;
}

const AFTER = { description: 'A cursor from an earlier event: replay everything after it, then continue live.' };

// --- sessionStarted / sessionEnded ---

type SessionEvent = { session: AccessSession; action: string };

const AccessSessionEventRef = builder.objectRef<FeedItem<SessionEvent>>('AccessSessionEvent').implement({
  description: 'An SSH session through the recording proxy started or ended (re-read for the subscriber: never more than they may see).',
  fields: (t) => ({
    cursor: t.string({ description: 'Resume after this event with `after: cursor`.', resolve: (e) => e.cursor }),
    action: t.string({ description: 'session.started or session.ended.', resolve: (e) => e.item.action }),
    session: t.field({ type: AccessSessionNode, description: 'The session as it is now (state, times, end reason, recording hash).', resolve: (e) => e.item.session }),
  }),
});

/** A feed of one session audit action, for those who may read recordings (ADMIN, AUDITOR) where it happened. */
const sessionFeed = (ctx: Context, action: 'session.started' | 'session.ended', organizationId: string | number | null | undefined, after: string | null | undefined) =>
  auditFeed<SessionEvent>({
    ctx,
    organizationIds: followed(ctx, 'accessSession:readRecording', organizationId),
    after: after ? decodeCursor(after) : null,
    async select(row, policy) {
      if (row.action !== action || row.targetType !== 'AccessSession' || !row.targetId || !row.organizationId) return null;
      if (!policy.can('accessSession:readRecording', { organizationId: row.organizationId })) return null;
      const id = row.targetId;
      const session = await perDelivery(policy, `session:${row.chain}:${row.seq}`, () =>
        ctx.db.accessSession.findFirst({ where: { id, AND: [policy.readable('AccessSession')] } }),
      );
      return session ? { session, action: row.action } : null;
    },
  });

builder.subscriptionFields((t) => ({
  passwordAccessed: t.field({
    type: PasswordAccessEvent,
    description: 'Every reveal, copy, export and old-version reveal in the organizations where the viewer may watch accesses (ADMIN, MANAGER, AUDITOR).',
    authScopes: { can: 'accessEvent:read' },
    args: { filter: t.arg({ type: PasswordAccessFilter, description: 'Which accesses.' }), after: t.arg.string(AFTER) },
    subscribe: (_root, args, ctx) => {
      const f = args.filter;
      const credentialId = f?.credentialId ? localId(String(f.credentialId), 'Credential') : null;
      const actorId = f?.actorId ? localId(String(f.actorId), 'User') : null;
      const categoryIds = f?.categoryIds?.map((c: string | number) => localId(String(c), 'Category')) ?? null;
      const surfaces = (f?.surfaces ?? null) as (typeof ACCESS_SURFACES)[number][] | null;
      // `select` is a method, not an arrow property, in every feed below: tsx's keepNames would rename the
      // arrow, making it a dictionary-mode function that each idle subscription keeps (bench P5).
      return auditFeed<AccessEvent>({
        ctx,
        organizationIds: followed(ctx, 'accessEvent:read', f?.organizationId),
        after: args.after ? decodeCursor(args.after) : null,
        async select(row, policy) {
          const accessRecordId = dataOf(row).accessRecordId;
          if (typeof accessRecordId !== 'string' || !row.organizationId) return null;
          if (!policy.can('accessEvent:read', { organizationId: row.organizationId })) return null;
          const record = await perDelivery(policy, `record:${accessRecordId}`, () =>
            ctx.db.accessRecord.findUnique({ where: { id: accessRecordId }, include: { credential: { select: { categoryId: true } } } }),
          );
          if (!record) return null;
          if (credentialId && record.credentialId !== credentialId) return null;
          if (actorId && record.actorUserId !== actorId) return null;
          if (surfaces && !surfaces.includes(record.surface as (typeof ACCESS_SURFACES)[number])) return null;
          if (categoryIds && !(record.credential?.categoryId && categoryIds.includes(record.credential.categoryId))) return null;
          const { credential: _c, ...plain } = record;
          return { record: plain, policy };
        },
      });
    },
    resolve: (event) => event,
  }),
  accessRequestUpdated: t.field({
    type: AccessRequestEventRef,
    description: 'Every transition of the access requests the viewer may see (their own, those they approve or review, all of them for ADMIN and AUDITOR).',
    authScopes: { authenticated: true },
    args: {
      id: t.arg.id({ description: 'Only this request.' }),
      organizationId: t.arg.id({ description: 'Only this organization.' }),
      after: t.arg.string(AFTER),
    },
    subscribe: (_root, args, ctx) => {
      const only = args.id ? localId(String(args.id), 'AccessRequest') : null;
      return auditFeed<RequestEvent>({
        ctx,
        organizationIds: followed(ctx, 'organization:read', args.organizationId),
        after: args.after ? decodeCursor(args.after) : null,
        async select(row, policy) {
          return only && row.targetId !== only ? null : requestOf(ctx, policy, row);
        },
      });
    },
    resolve: (event) => event,
  }),
  approvalPending: t.field({
    type: AccessRequestEventRef,
    description: 'Requests the viewer can decide now: new pending requests, and requests that moved to a step they approve.',
    authScopes: { can: 'accessRequest:decide' },
    args: { organizationId: t.arg.id({ description: 'Only this organization.' }), after: t.arg.string(AFTER) },
    subscribe: (_root, args, ctx) =>
      auditFeed<RequestEvent>({
        ctx,
        organizationIds: followed(ctx, 'accessRequest:decide', args.organizationId),
        after: args.after ? decodeCursor(args.after) : null,
        async select(row, policy) {
          const step = pendingStepOf(row);
          if (step === null) return null;
          const event = await requestOf(ctx, policy, row);
          // Still waiting at the step this entry put it on (a replay skips entries that later ones overtook), and the
          // viewer can decide it now.
          if (!event || event.request.currentStep !== step) return null;
          return viewerCan(asOf(ctx, policy), event.request, { type: 'APPROVE' }) ? event : null;
        },
      }),
    resolve: (event) => event,
  }),
  sessionStarted: t.field({
    type: AccessSessionEventRef,
    description: 'SSH sessions starting through the recording proxy, in the organizations where the viewer may read recordings (ADMIN, AUDITOR). Watch one with sessionActivity.',
    authScopes: { can: 'accessSession:readRecording' },
    args: { organizationId: t.arg.id({ description: 'Only this organization.' }), after: t.arg.string(AFTER) },
    subscribe: (_root, args, ctx) => sessionFeed(ctx, 'session.started', args.organizationId, args.after),
    resolve: (event) => event,
  }),
  sessionEnded: t.field({
    type: AccessSessionEventRef,
    description: 'SSH sessions ending (with their end reason and recording hash), in the organizations where the viewer may read recordings (ADMIN, AUDITOR).',
    authScopes: { can: 'accessSession:readRecording' },
    args: { organizationId: t.arg.id({ description: 'Only this organization.' }), after: t.arg.string(AFTER) },
    subscribe: (_root, args, ctx) => sessionFeed(ctx, 'session.ended', args.organizationId, args.after),
    resolve: (event) => event,
  }),
  requestAvailable: t.field({
    type: AccessRequestEventRef,
    description: 'The viewer’s own requests becoming AVAILABLE (approved with the window open, or the window opening).',
    authScopes: { can: 'accessRequest:create' },
    args: { after: t.arg.string(AFTER) },
    subscribe: (_root, args, ctx) =>
      auditFeed<RequestEvent>({
        ctx,
        organizationIds: followed(ctx, 'accessRequest:create', null),
        after: args.after ? decodeCursor(args.after) : null,
        async select(row, policy) {
          const event = await requestOf(ctx, policy, row);
          return event && event.to === 'AVAILABLE' && event.request.requesterId === policy.userId ? event : null;
        },
      }),
    resolve: (event) => event,
  }),
}));
